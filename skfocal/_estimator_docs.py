"""Docstring parts that the four estimators share, written once."""

from __future__ import annotations

__all__ = ["estimator_docstring"]

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

TRAINING_PARAMETERS = """\
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer of the MLP.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer, in [0, 1).
    lr : float, default=1e-3
        Learning rate of Adam.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    batch_size : int, default=256
        Rows per optimisation step.
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    early_stopping : bool or "auto", default="auto"
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best weights. ``"auto"``
        turns it on when there are at least 10,000 samples.
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
        The per-class weights that ``alpha`` resolved to (ones when unweighted).
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch MLP and
        ``net_.history`` the per-epoch log.
    n_iter_ : int
        Number of epochs trained.
    loss_curve_ : list of float
        Training loss at the end of each epoch."""

DEFAULTS_NOTE = """\
    The defaults train a (64, 64) ReLU MLP with Adam at ``lr=1e-3`` in
    batches of 256 for up to 100 epochs: on tables of a few thousand rows
    this takes a few seconds on a CPU and fits as well as
    ``MLPClassifier``. Above 10,000 rows early stopping on a validation split
    (``early_stopping="auto"``) ends training once the validation loss stops
    improving, so large tables do not pay for epochs that no longer help.
    Scale the features (e.g. ``StandardScaler``) as for any neural network.
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
{TRAINING_PARAMETERS}

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
