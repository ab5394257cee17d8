"""Docstring parts that the four estimators share, written once."""

from __future__ import annotations

from skfocal import _fit_backbone as backbone

__all__ = ["estimator_docstring"]

# The backbone switches; their defaults come from skfocal._fit_backbone, so a
# new default changes the signatures and this text together.
BACKBONE_PARAMETERS = f"""\
    input_transform : {{"none", "standard", "robust_smooth_clip"}}, \
default="{backbone.DEFAULT_INPUT_TRANSFORM}"
        Numeric-input transform, fitted in ``fit`` on the training rows only
        (never on the validation split; sample weights enter its statistics
        in proportion, rows of weight 0 not at all) and applied by the
        network to every
        batch, in ``fit`` and ``predict``: ``"standard"`` subtracts the mean
        and divides by the standard deviation; ``"robust_smooth_clip"`` is
        RealMLP's ``x_s = (x - median) / IQR`` followed by
        ``x_s / sqrt(1 + (x_s / 3) ** 2)`` (Holzmüller et al. 2024), robust to
        outliers and heavy tails. Sparse input is scaled, not centred.
        ``warm_start`` and ``partial_fit`` keep the statistics (and which
        features are embedded, and the embedding's bins) of the first fit
        or batch.
    embedding : {{"none", "periodic", "piecewise_linear"}}, \
default="{backbone.DEFAULT_EMBEDDING}"
        Numerical embedding of the features before the MLP (Gorishniy et
        al. 2022, the ``rtdl_num_embeddings`` package): ``"periodic"``,
        RealMLP's PBLD embedding (4 values per feature);
        ``"piecewise_linear"``, 16 values per feature over 48 quantile bins
        of the (transformed) training rows. Only features with more than two
        distinct values in the training rows are embedded; indicator
        columns (one-hot categories, flags) enter the first layer as they
        are. Embeddings widen the first layer: periodic ones cost about 5x
        per epoch on a CPU for 50 numeric features, little on one-hot
        columns; ``embedding="none"`` is the fastest network.
    feature_scaling : bool, default={backbone.DEFAULT_FEATURE_SCALING}
        A learnable per-feature scale in front of the first layer (RealMLP),
        initialised at one.
    ensemble_size : int, default={backbone.DEFAULT_ENSEMBLE_SIZE}
        Number of TabM members (Gorishniy et al. 2025, the ``tabm``
        package): ``k`` MLPs sharing their hidden weights
        (BatchEnsemble), trained in one pass on the mean of their losses;
        predictions average their probabilities. 1 is a plain MLP.
    lr_schedule : {{"constant", "cosine", "flat_cosine"}}, \
default="{backbone.DEFAULT_LR_SCHEDULE}"
        Learning-rate schedule over ``max_epochs``, stepped once per epoch:
        ``"cosine"`` decays ``lr`` by ``(1 + cos(pi t)) / 2`` with ``t`` the
        share of ``max_epochs`` done; ``"flat_cosine"`` keeps ``lr`` for the
        first half, then decays it the same way over the second (RealMLP).
        Each ``fit`` (also under ``warm_start``) runs its own schedule;
        ``partial_fit`` trains at ``lr``.
    validation_metric : {{"loss", "average_precision"}}, \
default="{backbone.DEFAULT_VALIDATION_METRIC}"
        What the validation split scores after every epoch
        (``validation_scores_``), what early stopping monitors and what
        chooses the epoch whose weights are restored: the class-weighted
        validation cross-entropy, or the average precision (of
        ``classes_[1]``; for several classes the macro average of the
        one-vs-rest average precisions), which suits imbalanced data."""

ALPHA_PARAMETER = """\
    alpha : None, float, array-like, dict, "balanced" or "effective", \
default={default}
        Class weights. A float in [0, 1] (binary only) is the weight of
        ``classes_[1]``, ``classes_[0]`` getting ``1 - alpha``; an array
        gives one weight per class in the order of ``classes_``; a dict maps
        labels to weights (missing labels get 1); ``"balanced"`` is
        ``n_samples / (n_classes * count)``; ``"effective"`` is the
        effective-number weighting of Cui et al. (2019) with ``beta``.
        Counts are sums of sample weights.{extra}"""

BETA_PARAMETER = """\
    beta : float, default=0.999
        Parameter of ``alpha="effective"``, ``(1 - beta) / (1 - beta**count)``,
        in [0, 1)."""

NETWORK_PARAMETERS = """\
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer of the MLP.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer, in [0, 1)."""

TRAINING_PARAMETERS = """\
    lr : float, default=1e-3
        Learning rate of Adam.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    batch_size : int, default=256
        Rows per optimisation step.
    weight_decay : float, default=0.0
        L2 penalty of Adam. When any of ``input_transform``, ``embedding``,
        ``feature_scaling`` or ``ensemble_size`` is switched on, biases,
        embeddings and the feature scale are exempt.
    early_stopping : bool or "auto", default="auto"
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when the validation score (``validation_metric``: average
        precision by default) has not improved for ``n_iter_no_change``
        epochs and restore the best weights. ``"auto"`` turns it on when
        there are at least 10,000 samples; on smaller tables the held-out
        rows cost more than stopping gains (``docs/performance.md``).
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in (0, 1).
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:N"``, ``"mps"``.
    n_threads : int or None, default=1
        Torch CPU threads while fitting and predicting (restored afterwards);
        ``None`` keeps torch's setting. One thread is the default because a
        small MLP step gains nothing from a second thread on an idle 2-core
        machine and loses up to 10x when other processes compete for the
        cores (benchmarks/bench_speed.py); it also keeps parallel searches
        (``n_jobs``) from oversubscribing the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. The same integer gives bit-identical predictions on the CPU;
        the global torch random state is left untouched.
    warm_start : bool, default=False
        When True, ``fit`` continues training the current network instead of
        starting afresh, for ``max_epochs`` more epochs. Changed loss
        parameters (``gamma``, ``alpha``, ...) build a new loss and a fresh
        optimizer; a changed ``lr`` or ``weight_decay`` is set on the current
        optimizer. The architecture cannot change.
    verbose : int, default=0
        0 prints nothing; 1 prints a table of epochs (plain text, without
        colour codes, unless stdout is a terminal); 2 adds validation metrics
        (average precision for binary problems, balanced accuracy) when
        early stopping holds out a validation split.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (copied at fit time). A
        :class:`skorch.callbacks.EarlyStopping` among them ends training
        normally."""

DECISION_PARAMETERS = """\
    threshold : None, float, "prior" or "auto", default="prior"
        The decision rule of :meth:`predict`, applied to
        :meth:`predict_proba` (``threshold_``). ``None``: the most probable
        class (scikit-learn's usual rule, which under imbalance finds few
        minority cases). A float in (0, 1), binary only: ``classes_[1]`` when its
        probability is at least that. ``"prior"``: ``p_1 >= pi_1``
        (binary), ``argmax_c p_c / pi_c`` (multi-class), with ``pi`` the
        training class frequencies (``class_prior_``): the rule that
        minimises the balanced error when the probabilities are calibrated.
        ``"auto"``: tuned for ``threshold_metric`` on a validation split of
        ``validation_fraction`` held out from training (as early stopping
        does); without one (``partial_fit``, or a class with too few
        samples to split) ``"prior"`` is used, with a warning.
    threshold_metric : {"balanced_accuracy", "f1", "geometric_mean", "mcc"}, \
default="balanced_accuracy"
        What ``threshold="auto"`` maximises: the mean per-class recall, the
        F1 of ``classes_[1]`` (macro F1 for several classes), the geometric
        mean of the recalls, or the Matthews correlation.
    calibration : None, "prior", "temperature" or "auto", default="auto"
        What :meth:`predict_proba` returns (``calibration_``). ``None``: the
        network's probabilities as trained (for a class-weighted loss, inflated
        towards the weighted classes). ``"prior"``: the class weights
        divided out, ``p(c|x) ∝ p_w(c|x) / w_c`` (for the logit-adjusted
        loss, ``softmax(z + tau log pi)``): the posterior of the training
        data, exact at the optimum for weighted cross-entropy and, through
        the focal posterior transform applied first, for focal loss;
        approximate for GHM-C, LDAM, asymmetric and Poly-1; nothing changes
        for unweighted cross-entropy. ``"temperature"``:
        a temperature fitted on a held-out validation split (as for
        ``threshold="auto"``; 1 without one), then the prior correction.
        ``"auto"``: ``"prior"`` where the correction recovers the posterior
        at the loss's optimum (cross-entropy, balanced cross-entropy,
        logit-adjusted, and focal through its exact posterior transform,
        Charoenphakdee et al. 2021), ``"temperature"`` where no closed form
        does (GHM-C, LDAM, asymmetric, Poly-1, ``gamma="adaptive"``)."""

ATTRIBUTES = """\
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, as given in ``y``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``; only defined when they are strings.
    class_weight_ : ndarray of shape (n_classes,)
        The per-class weights of the loss at the end of training: those
        ``alpha`` resolved to (ones when unweighted), or the late weights of
        deferred re-weighting once it switched them on.
    class_prior_ : ndarray of shape (n_classes,)
        Class frequencies of the training data (sums of sample weights),
        over the rows of ``fit`` or of every ``partial_fit`` call so far.
    calibration_ : None, "prior" or "temperature"
        The calibration used (``"auto"`` resolved for the loss).
    threshold_ : ThresholdRule
        The fitted decision rule: ``kind`` (``"argmax"``, ``"threshold"`` or
        ``"logit_adjustment"``, i.e. ``argmax_c p_c / pi_c ** value``),
        ``value``, the ``class_prior``, and for ``threshold="auto"`` the
        ``metric`` and its validation ``score``. ``threshold_.predict(proba)``
        gives class indices into ``classes_``.
    temperature_ : float
        The temperature of ``calibration="temperature"`` (1.0 otherwise).
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch MLP and
        ``net_.history`` the per-epoch log.
    n_iter_ : int
        Number of epochs trained.
    loss_curve_ : list of float
        Training loss at the end of each epoch.
    validation_scores_ : list of float or None
        The ``validation_metric`` on the validation split after each epoch,
        aligned with ``loss_curve_`` (``nan`` for epochs of ``partial_fit``);
        ``None`` when the last fit held out no validation split.
    best_epoch_ : int or None
        The epoch (1-based, an index into ``validation_scores_``) whose
        weights the network has: the best one that early stopping restored,
        else the last. ``None`` without a validation split.
    best_validation_score_ : float or None
        ``validation_scores_[best_epoch_ - 1]``."""

DEFAULTS_NOTE = """\
    The defaults train a (64, 64) ReLU MLP on robustly scaled inputs with
    periodic embeddings of the numeric features, with Adam at ``lr=1e-3`` in
    batches of 256 for up to 100 epochs: on tables of a few thousand rows
    this takes seconds on a CPU. Above 10,000 rows early stopping on a
    validation split (``early_stopping="auto"``) ends training once the
    validation average precision stops improving, so large tables do not
    pay for epochs that no longer help. The inputs need no scaler in front:
    the robust transform is fitted inside ``fit``.
    Sparse ``X`` (CSR/CSC, e.g. from ``OneHotEncoder``) stays sparse; each
    batch is made dense on the training device."""


def alpha_parameter(default: str, extra: str = "") -> str:
    """The ``alpha`` entry of a Parameters section.

    Examples
    --------
    >>> from skfocal._estimator_docs import alpha_parameter
    >>> alpha_parameter("None").splitlines()[0].split(":")[0].strip()
    'alpha'
    """
    return ALPHA_PARAMETER.format(default=default, extra=extra)


def estimator_docstring(
    summary: str,
    own_parameters: str,
    see_also: str,
    examples: str,
    references: str = "",
) -> str:
    """Assemble an estimator's docstring from its own and the shared parts.

    Examples
    --------
    >>> from skfocal._estimator_docs import estimator_docstring
    >>> "Attributes" in estimator_docstring("S.", "", "", "")
    True
    """
    references_section = (
        f"\n    References\n    ----------\n{references}\n" if references else ""
    )
    return f"""{summary}

    Parameters
    ----------
{own_parameters}
{NETWORK_PARAMETERS}
{BACKBONE_PARAMETERS}
{TRAINING_PARAMETERS}
{DECISION_PARAMETERS}

{ATTRIBUTES}

    See Also
    --------
{see_also}

    Notes
    -----
{DEFAULTS_NOTE}
{references_section}
    Examples
    --------
{examples}
"""
