"""Decision thresholds tuned inside the training fold, never on the test fold.

A model that ranks well can still decide badly with its own ``predict``
(e.g. focal loss without class weights at 0.5). The tuned-threshold view
asks what the model's scores are worth once its decision rule is tuned on
data the model did not see, taken from the *training* fold:

1. split the training fold 75/25, stratified (:func:`inner_split_threshold`);
2. fit a fresh copy of the method on the 75%, predict the 25%;
3. tune the rule on those predictions (:func:`tune_threshold_on`);
4. apply it to the outer model's test-fold probabilities
   (:func:`score_at_threshold`).

The rules:

* binary: predict class 1 when ``p_1 >= threshold``. The candidates are the
  midpoints between consecutive distinct inner scores; of the candidates
  that maximise the metric the middle one is taken, the centre of the best
  interval rather than its edge.
* multi-class: predict ``argmax_c p_c / pi_c ** t`` with ``pi`` the class
  frequencies of the training fold and ``t`` on the grid ``0, 0.05, ..., 1``
  (``t = 0`` is the model's own argmax, ``t = 1`` the balanced-error rule of
  post-hoc logit adjustment, Menon et al. 2021); ties take the middle ``t``.

Labels are integer codes ``0..C-1`` as everywhere in the benchmark.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.metrics import balanced_accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

__all__ = [
    "EXPONENT_GRID",
    "TUNED_METRICS",
    "inner_split_threshold",
    "predict_at_threshold",
    "score_at_threshold",
    "tune_threshold_on",
]

#: Tuned-threshold columns of ``results.csv`` and the metric each one tunes.
TUNED_METRICS: dict[str, str] = {
    "balanced_accuracy_tuned": "balanced_accuracy",
    "f1_macro_tuned": "f1_macro",
}
#: The exponents ``t`` tried for multi-class problems.
EXPONENT_GRID: np.ndarray = np.linspace(0.0, 1.0, 21)
#: Share of the training fold held out to tune on.
INNER_TEST_SIZE = 0.25


def _check_metric(metric: str) -> str:
    if metric not in TUNED_METRICS.values():
        raise ValueError(
            f"metric must be one of {sorted(TUNED_METRICS.values())}; got {metric!r}."
        )
    return metric


def _score(metric: str, y_true: np.ndarray, y_pred: np.ndarray, n_classes: int):
    if metric == "balanced_accuracy":
        with warnings.catch_warnings():
            # A class absent from y_true warns; its recall is left out.
            warnings.simplefilter("ignore", UserWarning)
            return float(balanced_accuracy_score(y_true, y_pred))
    return float(
        f1_score(
            y_true,
            y_pred,
            labels=np.arange(n_classes),
            average="macro",
            zero_division=0,
        )
    )


def _binary_curve(y: np.ndarray, score: np.ndarray, metric: str):
    """Candidate thresholds and the metric at each, from cumulative counts.

    Predicting 1 for the ``k`` highest scores gives ``TP_k`` and ``FP_k``
    from cumulative sums; every distinct threshold is scored in one pass
    instead of one metric call per candidate.
    """
    order = np.argsort(-score, kind="stable")
    sorted_score, sorted_y = score[order], y[order]
    # Cut only between distinct scores: rows with equal scores go together.
    cuts = np.flatnonzero(np.diff(sorted_score) < 0)
    thresholds = (sorted_score[cuts] + sorted_score[cuts + 1]) / 2
    tp = np.cumsum(sorted_y == 1)[cuts].astype(np.float64)
    fp = np.cumsum(sorted_y == 0)[cuts].astype(np.float64)
    n_pos = float(np.sum(y == 1))
    n_neg = float(len(y) - n_pos)
    fn, tn = n_pos - tp, n_neg - fp
    with np.errstate(invalid="ignore", divide="ignore"):
        if metric == "balanced_accuracy":
            recalls = [tp / n_pos if n_pos else None, tn / n_neg if n_neg else None]
            present = [r for r in recalls if r is not None]
            values = sum(present) / len(present)
        else:
            f1_pos = np.where(tp > 0, 2 * tp / (2 * tp + fp + fn), 0.0)
            f1_neg = np.where(tn > 0, 2 * tn / (2 * tn + fn + fp), 0.0)
            values = (f1_pos + f1_neg) / 2
    return thresholds, np.asarray(values, dtype=np.float64)


def _middle_of_best(candidates: np.ndarray, values: np.ndarray) -> float:
    best = np.flatnonzero(values >= np.max(values) - 1e-12)
    return float(candidates[best[len(best) // 2]])


def predict_at_threshold(
    proba: np.ndarray, threshold: float, class_prior: np.ndarray | None = None
) -> np.ndarray:
    """Class codes under a tuned rule (see the module docstring).

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Predicted probabilities, columns in code order.
    threshold : float
        Binary: the probability threshold of class 1. Multi-class: the
        exponent ``t`` of ``argmax_c p_c / pi_c ** t``.
    class_prior : ndarray of shape (n_classes,) or None
        Class frequencies of the training fold; needed for multi-class.

    Returns
    -------
    ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark._threshold import predict_at_threshold
    >>> predict_at_threshold(np.array([[0.8, 0.2], [0.6, 0.4]]), 0.3).tolist()
    [0, 1]
    >>> proba = np.array([[0.5, 0.3, 0.2]])
    >>> prior = np.array([0.8, 0.15, 0.05])
    >>> [int(predict_at_threshold(proba, t, prior)[0]) for t in (0.0, 1.0)]
    [0, 2]
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.shape[1] == 2:
        return (proba[:, 1] >= threshold).astype(np.int64)
    if class_prior is None:
        raise ValueError("class_prior is needed for a multi-class threshold.")
    # Log space: p / pi ** t without overflow for tiny priors.
    with np.errstate(divide="ignore"):
        adjusted = np.log(proba) - threshold * np.log(np.asarray(class_prior))
    return np.argmax(adjusted, axis=1).astype(np.int64)


def tune_threshold_on(
    y_inner: np.ndarray,
    proba_inner: np.ndarray,
    metric: str,
    class_prior: np.ndarray | None = None,
) -> float:
    """The decision threshold that maximises ``metric`` on held-out predictions.

    Parameters
    ----------
    y_inner : ndarray of shape (n_samples,)
        Integer class codes of the inner held-out rows (from the training
        fold).
    proba_inner : ndarray of shape (n_samples, n_classes)
        Probabilities predicted for those rows by a model that did not train
        on them.
    metric : {"balanced_accuracy", "f1_macro"}
    class_prior : ndarray of shape (n_classes,) or None, default=None
        Multi-class only: the training fold's class frequencies; ``None``
        uses those of ``y_inner``.

    Returns
    -------
    float
        Binary: the probability threshold of class 1 (0.5 when every score
        is equal). Multi-class: the exponent ``t`` in [0, 1].

    Raises
    ------
    ValueError
        If ``metric`` is not tunable.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark._threshold import tune_threshold_on
    >>> y = np.array([0, 0, 0, 1, 1])
    >>> p1 = np.array([0.05, 0.1, 0.3, 0.2, 0.4])
    >>> proba = np.column_stack([1 - p1, p1])
    >>> tune_threshold_on(y, proba, "balanced_accuracy")
    0.15...
    """
    _check_metric(metric)
    y_inner = np.asarray(y_inner)
    proba_inner = np.asarray(proba_inner, dtype=np.float64)
    n_classes = proba_inner.shape[1]
    if n_classes == 2:
        thresholds, values = _binary_curve(y_inner, proba_inner[:, 1], metric)
        if len(thresholds) == 0:
            return 0.5
        return _middle_of_best(thresholds, values)
    if class_prior is None:
        class_prior = np.bincount(y_inner, minlength=n_classes) / len(y_inner)
    values = np.array(
        [
            _score(
                metric,
                y_inner,
                predict_at_threshold(proba_inner, t, class_prior),
                n_classes,
            )
            for t in EXPONENT_GRID
        ]
    )
    return _middle_of_best(EXPONENT_GRID, values)


def score_at_threshold(
    y_test: np.ndarray,
    proba_test: np.ndarray,
    threshold: float,
    class_prior: np.ndarray | None = None,
    metric: str = "balanced_accuracy",
) -> float:
    """``metric`` of the test fold under a threshold tuned elsewhere.

    Parameters
    ----------
    y_test : ndarray of shape (n_samples,)
        Integer class codes.
    proba_test : ndarray of shape (n_samples, n_classes)
    threshold : float
        From :func:`tune_threshold_on`; NaN gives NaN.
    class_prior : ndarray of shape (n_classes,) or None, default=None
        The training fold's class frequencies (multi-class only).
    metric : {"balanced_accuracy", "f1_macro"}, default="balanced_accuracy"

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark._threshold import score_at_threshold
    >>> proba = np.array([[0.9, 0.1], [0.7, 0.3], [0.6, 0.4]])
    >>> score_at_threshold(np.array([0, 1, 1]), proba, 0.25)
    1.0
    """
    _check_metric(metric)
    if not np.isfinite(threshold):
        return math.nan
    proba_test = np.asarray(proba_test, dtype=np.float64)
    y_pred = predict_at_threshold(proba_test, threshold, class_prior)
    return _score(metric, np.asarray(y_test), y_pred, proba_test.shape[1])


def inner_split_threshold(
    model: BaseEstimator | Callable[[], BaseEstimator],
    X_train,
    y_train: np.ndarray,
    seed: int,
    metrics: Sequence[str] = tuple(TUNED_METRICS),
) -> dict[str, float]:
    """Tune the decision rule on a 75/25 split of the training fold alone.

    A fresh, unfitted copy of the method (``clone(model)``, or
    ``model()`` when it is a factory) is fitted on a stratified 75% of
    ``X_train`` and predicts the other 25%; each metric's rule is tuned on
    those predictions with the training fold's class frequencies as prior.
    Nothing of the test fold is an argument, so nothing of it can leak.

    When the split is impossible (a class with fewer than 2 rows in the
    training fold, or missing from the inner 75%), every threshold is NaN
    and so are the tuned scores: no number beats a made-up one.

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
        Tuned metric name to its threshold (binary) or exponent
        (multi-class).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skfocal.benchmark._threshold import inner_split_threshold
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + rng.normal(size=200) > 1.5).astype(int)
    >>> thresholds = inner_split_threshold(LogisticRegression(), X, y, seed=0)
    >>> sorted(thresholds), all(0 < t < 1 for t in thresholds.values())
    (['balanced_accuracy_tuned', 'f1_macro_tuned'], True)
    """
    unknown = [name for name in metrics if name not in TUNED_METRICS]
    if unknown:
        raise ValueError(
            f"metrics must be among {list(TUNED_METRICS)}; got {unknown!r}."
        )
    y_train = np.asarray(y_train)
    nan = dict.fromkeys(metrics, math.nan)
    counts = np.bincount(y_train)
    if len(counts) < 2 or counts.min() < 2:
        return nan
    rows = np.arange(len(y_train))
    inner_fit, inner_val = train_test_split(
        rows, test_size=INNER_TEST_SIZE, stratify=y_train, random_state=seed
    )
    if len(np.unique(y_train[inner_fit])) < len(counts):
        return nan
    fresh = clone(model) if isinstance(model, BaseEstimator) else model()
    fresh.fit(_safe_indexing(X_train, inner_fit), y_train[inner_fit])
    proba = fresh.predict_proba(_safe_indexing(X_train, inner_val))
    class_prior = counts / len(y_train)
    return {
        name: tune_threshold_on(
            y_train[inner_val], proba, TUNED_METRICS[name], class_prior
        )
        for name in metrics
    }
