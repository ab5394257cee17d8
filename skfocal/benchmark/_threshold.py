"""Decision rules tuned inside the training fold, never on the test fold.

A model that ranks well can still decide badly with its own ``predict``
(e.g. focal loss without class weights at 0.5). The tuned-threshold columns
of ``results.csv`` ask what the model's scores are worth once its decision
rule is tuned on data the model did not see, taken from the *training* fold:

1. split the training fold 75/25, stratified (:func:`tune_on_inner_split`);
2. fit a fresh copy of the method on the 75%, predict the 25%;
3. tune the rule on those predictions (:func:`tune_rule`);
4. apply it to the outer model's test-fold probabilities
   (:meth:`skfocal._decision.ThresholdRule.predict`).

The rules and their search are those of the estimators' ``threshold="auto"``
(:func:`skfocal._decision.tune_threshold`): binary, "class 1 when
``p_1 >= t``" with ``t`` the middle of each interval between consecutive
distinct inner scores, ties to the ``t`` closest to 0.5; multi-class, the
post-hoc logit adjustment ``argmax_c p_c / pi_c ** tau`` with ``pi`` the
training fold's class frequencies and ``tau`` on 21 points of ``[0, 1]``
(``tau = 0`` is the model's own argmax, ``tau = 1`` the balanced-error rule
of Menon et al. 2021), ties to the middle ``tau``.

Only the benchmark-specific parts live here: the inner split, and macro F1
of a *binary* problem, which ``_decision`` does not name (its ``"f1"`` is the
F1 of class 1 there, macro F1 only for multi-class problems). That one metric
is scored here on ``_decision``'s own candidate rules, with its tie rule.

Labels are integer codes ``0..C-1`` as everywhere in the benchmark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from skfocal._decision import (
    _SCORE_TIE_TOL,
    ThresholdRule,
    _binary_candidates,
    _scores_from_confusion,
    tune_threshold,
)

__all__ = [
    "GRID_SIZE",
    "INNER_TEST_SIZE",
    "TUNED_METRICS",
    "tune_on_inner_split",
    "tune_rule",
]

#: Tuned-threshold columns of ``results.csv`` and the metric each one tunes.
TUNED_METRICS: dict[str, str] = {
    "balanced_accuracy_tuned": "balanced_accuracy",
    "f1_macro_tuned": "f1_macro",
}
#: Share of the training fold held out to tune on.
INNER_TEST_SIZE = 0.25
#: Values of the multi-class exponent ``tau`` tried, evenly spaced in [0, 1].
GRID_SIZE = 21
# The benchmark's metric names to skfocal._decision's, where they agree.
_DECISION_METRIC = {"balanced_accuracy": "balanced_accuracy", "f1_macro": "f1"}


def _tune_binary_macro_f1(
    y: np.ndarray, proba: np.ndarray, class_prior: np.ndarray | None
) -> ThresholdRule:
    """``tune_threshold``'s binary search, scoring the macro F1 of both classes."""
    thresholds, confusion = _binary_candidates(y, proba[:, 1], np.ones(len(y)))
    # Both classes are present, so the multi-class F1 is the macro F1.
    scores = _scores_from_confusion(confusion, "f1", binary=False)
    tied = np.flatnonzero(scores >= scores.max() - _SCORE_TIE_TOL)
    best = tied[np.argmin(np.abs(thresholds[tied] - 0.5))]
    return ThresholdRule(
        "threshold",
        float(thresholds[best]),
        class_prior=None if class_prior is None else tuple(class_prior),
        score=float(scores[best]),
    )


def tune_rule(
    y: np.ndarray,
    proba: np.ndarray,
    metric: str,
    class_prior: np.ndarray | None = None,
) -> ThresholdRule:
    """The decision rule that maximises ``metric`` on held-out predictions.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        Integer class codes of held-out rows (from the training fold); every
        class must occur.
    proba : ndarray of shape (n_samples, n_classes)
        Probabilities predicted for those rows by a model that did not train
        on them.
    metric : {"balanced_accuracy", "f1_macro"}
        The metric to maximise; ``"f1_macro"`` is the unweighted mean of the
        per-class F1 scores, for two classes as for more.
    class_prior : ndarray of shape (n_classes,) or None, default=None
        The training fold's class frequencies (the multi-class rule divides
        by them); ``None`` uses those of ``y``.

    Returns
    -------
    skfocal._decision.ThresholdRule
        Binary: a ``"threshold"`` rule on ``p_1``. Multi-class: a
        ``"logit_adjustment"`` rule with its exponent ``tau``.

    Raises
    ------
    ValueError
        If ``metric`` is not tunable or ``y`` misses a class.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark._threshold import tune_rule
    >>> y = np.array([0, 0, 0, 1, 1])
    >>> p1 = np.array([0.05, 0.1, 0.3, 0.2, 0.4])
    >>> rule = tune_rule(y, np.column_stack([1 - p1, p1]), "balanced_accuracy")
    >>> rule.kind, round(rule.value, 3), round(rule.score, 3)
    ('threshold', 0.15, 0.833)
    """
    if metric not in _DECISION_METRIC:
        raise ValueError(
            f"metric must be one of {list(_DECISION_METRIC)}; got {metric!r}."
        )
    y = np.asarray(y)
    proba = np.asarray(proba, dtype=np.float64)
    n_classes = proba.shape[1]
    missing = sorted(set(range(n_classes)) - set(y.tolist()))
    if missing:
        raise ValueError(
            f"y must hold every class 0..{n_classes - 1} to tune a rule; "
            f"class(es) {missing} are missing."
        )
    if metric == "f1_macro" and n_classes == 2:
        return _tune_binary_macro_f1(y, proba, class_prior)
    return tune_threshold(
        y,
        proba,
        _DECISION_METRIC[metric],
        class_prior=class_prior,
        grid_size=GRID_SIZE,
    )


def tune_on_inner_split(
    model: BaseEstimator | Callable[[], BaseEstimator],
    X_train,
    y_train: np.ndarray,
    seed: int,
    metrics: Sequence[str] = tuple(TUNED_METRICS),
) -> dict[str, ThresholdRule]:
    """Tune the decision rules on a 75/25 split of the training fold alone.

    A fresh, unfitted copy of the method (``clone(model)``, or ``model()``
    when it is a factory) is fitted on a stratified 75% of ``X_train`` and
    predicts the other 25%; each metric's rule is tuned on those predictions
    (:func:`tune_rule`) with the training fold's class frequencies as prior.
    Nothing of the test fold is an argument, so nothing of it can leak. The
    extra fit on 75% of the rows costs about 0.75 of the method's own fit.

    When the split cannot hold every class on both sides (a class with too
    few rows in the training fold), no rule is returned and the tuned scores
    are NaN: no number beats a made-up one.

    Parameters
    ----------
    model : estimator or callable
        The method, unfitted (it is cloned), or a function returning a new
        unfitted one.
    X_train : pandas.DataFrame or array-like
        The training fold's features.
    y_train : ndarray of shape (n_samples,)
        Its integer class codes ``0..C-1``.
    seed : int
        Seed of the inner split.
    metrics : sequence of str, default=("balanced_accuracy_tuned", "f1_macro_tuned")
        Keys of :data:`TUNED_METRICS`.

    Returns
    -------
    dict
        Tuned metric name to its :class:`~skfocal._decision.ThresholdRule`;
        empty when the split is impossible.

    Raises
    ------
    ValueError
        If a name of ``metrics`` is not a key of :data:`TUNED_METRICS`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfocal.benchmark._threshold import tune_on_inner_split
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + rng.normal(size=200) > 1.5).astype(int)
    >>> rules = tune_on_inner_split(LogisticRegression(), X, y, seed=0)
    >>> sorted(rules), all(0 < rule.value < 1 for rule in rules.values())
    (['balanced_accuracy_tuned', 'f1_macro_tuned'], True)
    """
    unknown = [name for name in metrics if name not in TUNED_METRICS]
    if unknown:
        raise ValueError(
            f"metrics must be among {list(TUNED_METRICS)}; got {unknown!r}."
        )
    y_train = np.asarray(y_train)
    counts = np.bincount(y_train)
    if len(counts) < 2 or counts.min() < 2:
        return {}
    rows = np.arange(len(y_train))
    inner_fit, inner_val = train_test_split(
        rows, test_size=INNER_TEST_SIZE, stratify=y_train, random_state=seed
    )
    if any(
        len(np.unique(y_train[part])) < len(counts) for part in (inner_fit, inner_val)
    ):
        return {}
    fresh = clone(model) if isinstance(model, BaseEstimator) else model()
    fresh.fit(_safe_indexing(X_train, inner_fit), y_train[inner_fit])
    proba = fresh.predict_proba(_safe_indexing(X_train, inner_val))
    class_prior = counts / len(y_train)
    return {
        name: tune_rule(y_train[inner_val], proba, TUNED_METRICS[name], class_prior)
        for name in metrics
    }
