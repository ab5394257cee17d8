"""Decision rules for imbalanced problems: from probabilities to classes.

The most probable class (``argmax``) minimises the error rate, which under
imbalance is low for a model that rarely predicts the minority. This module
provides the rules an imbalance toolkit needs instead:

* a fixed threshold on the positive-class probability (binary);
* the **prior rule**, :math:`p_1 \\ge \\pi_1` (binary) or
  :math:`\\arg\\max_c p_c / \\pi_c` (multi-class), which minimises the balanced
  error when the probabilities are calibrated: post-hoc logit adjustment
  (Menon et al. 2021);
* a rule **tuned** on a validation split for a named metric
  (:func:`tune_threshold`).

Every rule is a :class:`ThresholdRule`, a small frozen record that an
estimator stores as ``threshold_`` and applies in ``predict``, so that
``predict`` always agrees with ``predict_proba``. Everything works on class
indices ``0 .. n_classes - 1``; the estimators map them to ``classes_``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from numbers import Real

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix

from skfocal._calibration import (
    _check_labels,
    _check_positive_vector,
    _check_proba,
    _check_sample_weight,
)

__all__ = [
    "METRICS",
    "ThresholdRule",
    "decide",
    "make_rule",
    "tune_threshold",
    "validation_score",
]

#: Metrics :func:`tune_threshold` can maximise.
METRICS = ("balanced_accuracy", "f1", "geometric_mean", "mcc")
_KINDS = ("argmax", "threshold", "logit_adjustment")
# Candidate rules whose validation scores differ by less than this are tied:
# the scores are ratios of weight sums, equal in exact arithmetic but not
# always in floating point.
_SCORE_TIE_TOL = 1e-12


def _check_threshold_value(value) -> float:
    """A binary threshold: a real number strictly between 0 and 1."""
    if isinstance(value, bool) or not isinstance(value, Real) or not 0 < value < 1:
        raise ValueError(
            f"A threshold must be a float strictly between 0 and 1; got {value!r}."
        )
    return float(value)


def _check_metric(metric) -> str:
    if not isinstance(metric, str) or metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}; got {metric!r}.")
    return metric


def _normalised_prior(class_prior, n_classes: int) -> np.ndarray:
    """Class priors as positive frequencies summing to one (counts are accepted)."""
    prior = _check_positive_vector(class_prior, "class_prior", n_classes)
    return prior / prior.sum()


@dataclass(frozen=True)
class ThresholdRule:
    r"""A fitted decision rule: how probabilities become class indices.

    Parameters
    ----------
    kind : {"argmax", "threshold", "logit_adjustment"}
        ``"argmax"``: the most probable class, ties to the lowest index.
        ``"threshold"`` (binary): class 1 when :math:`p_1 \ge` ``value``, so a
        probability equal to the threshold is positive.
        ``"logit_adjustment"``: :math:`\arg\max_c p_c / \pi_c^{\tau}` with
        :math:`\tau` = ``value``, ties to the lowest index; :math:`\tau = 1` is
        the prior rule, :math:`\tau = 0` the argmax.
    value : float or None, default=None
        The threshold (in (0, 1)) or the exponent :math:`\tau`; ``None`` for
        ``"argmax"``.
    metric : str or None, default=None
        The metric the rule was tuned for; ``None`` for a rule that was not
        tuned.
    class_prior : tuple of float or None, default=None
        Class frequencies :math:`\pi_c` of the training data; required for
        ``"logit_adjustment"``.
    score : float or None, default=None
        The tuned rule's value of ``metric`` on the validation split.

    See Also
    --------
    make_rule : Build a rule from an estimator's ``threshold`` parameter.
    tune_threshold : Tune a rule on a validation split.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._decision import ThresholdRule
    >>> rule = ThresholdRule("threshold", 0.2)
    >>> rule.predict(np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]]))
    array([0, 1, 1])
    """

    kind: str
    value: float | None = None
    metric: str | None = None
    class_prior: tuple[float, ...] | None = None
    score: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}; got {self.kind!r}.")
        if self.metric is not None:
            _check_metric(self.metric)
        if self.class_prior is not None:
            prior = _check_positive_vector(
                self.class_prior, "class_prior", len(self.class_prior)
            )
            # A tuple keeps the frozen record hashable and comparable.
            object.__setattr__(self, "class_prior", tuple(prior.tolist()))
        if self.kind == "argmax":
            if self.value is not None:
                raise ValueError(
                    f"An 'argmax' rule takes no value; got value={self.value!r}."
                )
        elif self.kind == "threshold":
            object.__setattr__(self, "value", _check_threshold_value(self.value))
        else:
            if (
                isinstance(self.value, bool)
                or not isinstance(self.value, Real)
                or not np.isfinite(self.value)
            ):
                raise ValueError(
                    "A 'logit_adjustment' rule needs a finite exponent value; "
                    f"got value={self.value!r}."
                )
            if self.class_prior is None:
                raise ValueError("A 'logit_adjustment' rule needs class_prior.")
            object.__setattr__(self, "value", float(self.value))

    def predict(self, proba) -> np.ndarray:
        """Class indices chosen by the rule.

        Parameters
        ----------
        proba : array-like of shape (n_samples, n_classes)
            Probabilities, two columns for a binary problem.

        Returns
        -------
        ndarray of shape (n_samples,)
            Class indices ``0 .. n_classes - 1``.
        """
        proba = _check_proba(proba)
        n_classes = proba.shape[1]
        if self.class_prior is not None and len(self.class_prior) != n_classes:
            raise ValueError(
                f"proba has {n_classes} columns but the rule's class_prior has "
                f"{len(self.class_prior)} entries."
            )
        if self.kind == "argmax":
            return np.argmax(proba, axis=1)
        if self.kind == "threshold":
            if n_classes != 2:
                raise ValueError(
                    "A 'threshold' rule is for binary problems; proba has "
                    f"{n_classes} columns."
                )
            return (proba[:, 1] >= self.value).astype(np.intp)
        return _adjusted_argmax(proba, np.asarray(self.class_prior), self.value)


def _adjusted_argmax(proba: np.ndarray, prior: np.ndarray, tau: float) -> np.ndarray:
    """``argmax_c p_c / pi_c ** tau``: post-hoc logit adjustment in probability space.

    Dividing probabilities (rather than subtracting ``tau * log pi`` from
    ``log p``) keeps zero probabilities finite and warning-free.
    """
    return np.argmax(proba / prior**tau, axis=1)


def make_rule(threshold, n_classes: int, class_prior=None) -> ThresholdRule:
    r"""Turn an estimator's ``threshold`` parameter into a :class:`ThresholdRule`.

    Parameters
    ----------
    threshold : None, float or "prior"
        ``None``: the most probable class (ties to the lowest index; for a
        binary problem, class 1 only when :math:`p_1 > 0.5`).
        A float :math:`t \in (0, 1)`, binary only: class 1 when
        :math:`p_1 \ge t`.
        ``"prior"``: class 1 when :math:`p_1 \ge \pi_1` (binary), or
        :math:`\arg\max_c p_c / \pi_c` (multi-class). With calibrated
        probabilities this rule minimises the balanced error rate (the Bayes
        rule for balanced error; Menon et al. 2021). The binary form is the
        multi-class one written as a threshold, so ties go to class 1 exactly
        as for a float threshold.
        ``"auto"`` is tuned on data: use :func:`tune_threshold`.
    n_classes : int
        Number of classes (2 for a binary problem).
    class_prior : array-like of shape (n_classes,), default=None
        Positive class frequencies or counts of the training data; required
        for ``"prior"``. Normalised to sum to one.

    Returns
    -------
    ThresholdRule
        The rule; a binary ``"prior"`` rule is a ``"threshold"`` rule at
        :math:`\pi_1`.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and
       S. Kumar, "Long-tail learning via logit adjustment", ICLR 2021.

    Examples
    --------
    >>> from skfocal._decision import make_rule
    >>> make_rule("prior", n_classes=2, class_prior=[90, 10]).value
    0.1
    """
    prior = None if class_prior is None else _normalised_prior(class_prior, n_classes)
    prior_tuple = None if prior is None else tuple(prior.tolist())
    if threshold is None:
        return ThresholdRule("argmax", class_prior=prior_tuple)
    if isinstance(threshold, str):
        if threshold == "prior":
            if prior is None:
                raise ValueError("threshold='prior' needs class_prior; got None.")
            if n_classes == 2:
                return ThresholdRule("threshold", prior[1], class_prior=prior_tuple)
            return ThresholdRule("logit_adjustment", 1.0, class_prior=prior_tuple)
        if threshold == "auto":
            raise ValueError(
                "threshold='auto' is tuned on validation data; call "
                "tune_threshold(y, proba, metric) instead of make_rule."
            )
    elif isinstance(threshold, Real) and not isinstance(threshold, bool):
        if n_classes != 2:
            raise ValueError(
                f"A float threshold is for binary problems; this one has "
                f"{n_classes} classes. Use threshold='prior' or 'auto'."
            )
        return ThresholdRule(
            "threshold", _check_threshold_value(threshold), class_prior=prior_tuple
        )
    raise ValueError(
        "threshold must be None, a float strictly between 0 and 1, 'prior' or "
        f"'auto'; got {threshold!r}."
    )


def decide(proba, rule=None, class_prior=None) -> np.ndarray:
    r"""Class indices from probabilities under a decision rule.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Probabilities; two columns for a binary problem.
    rule : None, float, "prior" or ThresholdRule, default=None
        See :func:`make_rule`; a :class:`ThresholdRule` is applied as is.
    class_prior : array-like of shape (n_classes,), default=None
        Training class frequencies, for ``rule="prior"``.

    Returns
    -------
    ndarray of shape (n_samples,)
        Class indices ``0 .. n_classes - 1``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._decision import decide
    >>> proba = np.array([[0.95, 0.05], [0.85, 0.15], [0.4, 0.6]])
    >>> decide(proba)
    array([0, 0, 1])
    >>> decide(proba, "prior", class_prior=[0.9, 0.1])
    array([0, 1, 1])
    >>> decide(proba, 0.05)
    array([1, 1, 1])
    """
    if isinstance(rule, ThresholdRule):
        return rule.predict(proba)
    proba = _check_proba(proba)
    return make_rule(rule, proba.shape[1], class_prior).predict(proba)


def _scores_from_confusion(
    confusion: np.ndarray, metric: str, binary: bool
) -> np.ndarray:
    """Metric of each confusion matrix in a stack of shape (n_rules, C, C).

    Rows are true classes, columns predicted ones, entries weight sums. The
    per-class quantities use the classes present in the truth (a class absent
    from the validation split has no recall).
    """
    true_totals = confusion.sum(axis=2)
    predicted_totals = confusion.sum(axis=1)
    correct = np.diagonal(confusion, axis1=1, axis2=2)
    present = true_totals[0] > 0
    recall = correct[:, present] / true_totals[:, present]
    if metric == "balanced_accuracy":
        return recall.mean(axis=1)
    if metric == "geometric_mean":
        return np.prod(recall, axis=1) ** (1.0 / recall.shape[1])
    if metric == "f1":
        # F1 = 2 TP / (2 TP + FP + FN) = 2 TP / (true total + predicted total).
        denominator = true_totals + predicted_totals
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(denominator > 0, 2 * correct / denominator, 0.0)
        return f1[:, 1] if binary else f1[:, present].mean(axis=1)
    # Matthews correlation from the confusion matrix (Gorodkin 2004).
    total = confusion.sum(axis=(1, 2))
    covariance_true_pred = correct.sum(axis=1) * total - np.einsum(
        "kc,kc->k", true_totals, predicted_totals
    )
    variance_pred = total**2 - np.einsum("kc,kc->k", predicted_totals, predicted_totals)
    variance_true = total**2 - np.einsum("kc,kc->k", true_totals, true_totals)
    denominator = variance_pred * variance_true
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            denominator > 0, covariance_true_pred / np.sqrt(denominator), 0.0
        )


def _binary_candidates(
    y: np.ndarray, score: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct rule ``score >= t`` with ``t`` in (0, 1), and its confusion.

    With distinct scores ``d_0 > d_1 > ... > d_{m-1}``, the rule "positive
    when score >= d_j" holds for every ``t`` in ``(d_{j+1}, d_j]`` (0 below the
    lowest score), and "nothing positive" for ``t`` in ``(d_0, 1]``. Each rule
    is represented by the middle of its interval, the threshold farthest from
    the validation scores on both sides. The weight sums come from one sort
    and cumulative sums (as ``sklearn.metrics.roc_curve`` computes them, but
    unnormalised, so that the metrics match scikit-learn's to rounding).
    Returns the thresholds in ascending order with their confusion matrices.
    """
    order = np.argsort(-score, kind="stable")
    sorted_score = score[order]
    positive_weight = np.cumsum((weight * (y == 1))[order])
    negative_weight = np.cumsum((weight * (y == 0))[order])
    last_of_value = np.r_[np.flatnonzero(np.diff(sorted_score)), len(score) - 1]
    distinct = sorted_score[last_of_value]
    true_positive = np.r_[0.0, positive_weight[last_of_value]]
    false_positive = np.r_[0.0, negative_weight[last_of_value]]
    high = np.r_[1.0, distinct]
    low = np.r_[distinct, 0.0]
    threshold = (low + high) / 2
    # Adjacent floats can round the middle down onto ``low``; the interval's
    # upper end then gives the same rule.
    threshold = np.where(threshold > low, threshold, high)
    # An empty interval (a score of exactly 0 or 1) has no threshold in (0, 1).
    valid = (high > low) & (threshold > 0) & (threshold < 1)
    confusion = np.empty((len(threshold), 2, 2))
    confusion[:, 0, 0] = negative_weight[-1] - false_positive
    confusion[:, 0, 1] = false_positive
    confusion[:, 1, 0] = positive_weight[-1] - true_positive
    confusion[:, 1, 1] = true_positive
    return threshold[valid][::-1], confusion[valid][::-1]


def tune_threshold(
    y,
    proba,
    metric: str = "balanced_accuracy",
    sample_weight=None,
    class_prior=None,
    grid_size: int = 21,
) -> ThresholdRule:
    r"""Tune a decision rule on a validation split to maximise a metric.

    **Binary**: every distinct rule "class 1 when :math:`p_1 \ge t`" is
    scored, one per distinct validation probability plus "nothing positive";
    :math:`t` is the middle of the interval of thresholds that give the rule
    (the midpoint between consecutive distinct probabilities, 0 below the
    lowest and 1 above the highest). The search is exhaustive: no threshold
    in (0, 1) scores higher on the validation split. Among tied rules the
    threshold closest to 0.5 wins, then the smaller one.

    **Multi-class**: the one-parameter family of post-hoc logit adjustments
    :math:`\arg\max_c p_c / \pi_c^{\tau}`, :math:`\tau` on a grid of
    ``grid_size`` evenly spaced points in :math:`[0, 1]`, from the argmax
    (:math:`\tau = 0`) to the prior rule (:math:`\tau = 1`). Among tied
    values the middle one of the tied set wins.

    Metrics (weighted by ``sample_weight``; per-class quantities over the
    classes present in ``y``):

    * ``"balanced_accuracy"``: mean per-class recall;
    * ``"f1"``: F1 of class 1 (binary), macro F1 (multi-class);
    * ``"geometric_mean"``: geometric mean of the per-class recalls
      (imbalanced-learn's ``geometric_mean_score``);
    * ``"mcc"``: Matthews correlation coefficient (multi-class form of
      Gorodkin 2004, as ``sklearn.metrics.matthews_corrcoef``).

    If ``y`` holds fewer than two classes there is nothing to tune: the
    function warns and returns the prior rule (with ``class_prior``) or the
    argmax.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        True class indices ``0 .. n_classes - 1`` of the validation split.
    proba : array-like of shape (n_samples, n_classes)
        Validation probabilities (calibrated first, when calibration is on).
    metric : str, default="balanced_accuracy"
        The metric to maximise, one of :data:`METRICS`.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the validation samples.
    class_prior : array-like of shape (n_classes,), default=None
        Training class frequencies :math:`\pi_c` (counts are accepted). If
        ``None``, the weighted class frequencies of ``y``. Used by the
        multi-class family and stored on the rule.
    grid_size : int, default=21
        Number of values of :math:`\tau` tried (multi-class), at least 2.

    Returns
    -------
    ThresholdRule
        A ``"threshold"`` rule (binary) or a ``"logit_adjustment"`` rule
        (multi-class), with ``metric`` and the validation ``score``.

    See Also
    --------
    sklearn.model_selection.TunedThresholdClassifierCV : The same binary
        search, by cross-validation on a grid of thresholds.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._decision import tune_threshold
    >>> y = np.array([0, 0, 0, 0, 0, 0, 1, 0, 1, 1])
    >>> p1 = np.array([.05, .1, .1, .15, .2, .25, .3, .35, .45, .6])
    >>> rule = tune_threshold(y, np.column_stack([1 - p1, p1]))
    >>> rule.kind, round(rule.value, 3), round(rule.score, 3)
    ('threshold', 0.275, 0.929)
    """
    proba = _check_proba(proba)
    n_samples, n_classes = proba.shape
    _check_metric(metric)
    y = _check_labels(y, n_samples, n_classes)
    weight = _check_sample_weight(sample_weight, n_samples)
    if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < 2:
        raise ValueError(f"grid_size must be an integer >= 2; got {grid_size!r}.")
    class_totals = np.bincount(y, weights=weight, minlength=n_classes)
    if class_prior is None:
        prior = class_totals / class_totals.sum() if class_totals.sum() > 0 else None
        if prior is not None and np.any(prior <= 0):
            prior = None
    else:
        prior = _normalised_prior(class_prior, n_classes)
    if np.count_nonzero(class_totals > 0) < 2:
        warnings.warn(
            f"The validation labels hold fewer than two classes; the "
            f"{metric!r} threshold cannot be tuned, so the "
            f"{'prior rule' if prior is not None else 'argmax'} is used.",
            UserWarning,
            stacklevel=2,
        )
        return make_rule("prior" if prior is not None else None, n_classes, prior)
    if n_classes == 2:
        thresholds, confusion = _binary_candidates(y, proba[:, 1], weight)
        scores = _scores_from_confusion(confusion, metric, binary=True)
        tied = np.flatnonzero(scores >= scores.max() - _SCORE_TIE_TOL)
        # Ascending thresholds: argmin takes the smaller of two equally close.
        best = tied[np.argmin(np.abs(thresholds[tied] - 0.5))]
        return ThresholdRule(
            "threshold",
            float(thresholds[best]),
            metric=metric,
            class_prior=None if prior is None else tuple(prior.tolist()),
            score=float(scores[best]),
        )
    if prior is None:
        raise ValueError(
            "A class has no validation sample, so its prior cannot be estimated "
            "from y; pass class_prior (the training class frequencies)."
        )
    taus = np.linspace(0.0, 1.0, grid_size)
    confusion = np.stack(
        [
            confusion_matrix(
                y,
                _adjusted_argmax(proba, prior, tau),
                labels=np.arange(n_classes),
                sample_weight=weight,
            )
            for tau in taus
        ]
    ).astype(np.float64)
    scores = _scores_from_confusion(confusion, metric, binary=False)
    tied = np.flatnonzero(scores >= scores.max() - _SCORE_TIE_TOL)
    best = tied[(len(tied) - 1) // 2]
    return ThresholdRule(
        "logit_adjustment",
        float(taus[best]),
        metric=metric,
        class_prior=tuple(prior.tolist()),
        score=float(scores[best]),
    )


def validation_score(y, proba, sample_weight=None) -> float:
    """Average precision on a validation split, for a validation curve.

    Binary: average precision of class 1 (``sklearn.metrics.
    average_precision_score``). Multi-class: the macro average, over the
    classes present in ``y``, of each class's one-vs-rest average precision.
    Threshold-free, so it scores the probabilities whatever the decision
    rule; ``nan`` when ``y`` holds fewer than two classes.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        True class indices ``0 .. n_classes - 1``.
    proba : array-like of shape (n_samples, n_classes)
        Probabilities; two columns for a binary problem.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the samples.

    Returns
    -------
    float
        The average precision, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._decision import validation_score
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.2, 0.8]])
    >>> round(validation_score([0, 1, 1, 0], proba), 4)
    0.5833
    """
    proba = _check_proba(proba)
    n_samples, n_classes = proba.shape
    y = _check_labels(y, n_samples, n_classes)
    weight = _check_sample_weight(sample_weight, n_samples)
    class_totals = np.bincount(y, weights=weight, minlength=n_classes)
    present = np.flatnonzero(class_totals > 0)
    if len(present) < 2:
        return float("nan")
    if n_classes == 2:
        return float(average_precision_score(y == 1, proba[:, 1], sample_weight=weight))
    one_vs_rest = y[:, None] == present[None, :]
    return float(
        average_precision_score(
            one_vs_rest, proba[:, present], average="macro", sample_weight=weight
        )
    )
