"""Per-fold scores of a fitted classifier, from scikit-learn and imbalanced-learn.

Labels are integer codes ``0..C-1`` (the harness encodes them once, with the
minority class as ``1`` in binary problems), so that the positive class of
average precision is always the minority class, whatever the original labels.

Names say the direction, as in scikit-learn and imbalanced-learn: a name
ending in ``_loss`` is lower-is-better (:data:`LOWER_IS_BETTER`), every other
metric is higher-is-better.

The probability metrics:

* ``brier_loss``: binary, the mean squared error of the probability of
  class 1, in [0, 1]; multi-class, Brier's original score, the mean over rows
  of the sum over classes of ``(p_c - [y = c]) ** 2``, in [0, 2]
  (:func:`sklearn.metrics.brier_score_loss` in both cases);
* ``log_loss``: the mean of ``-log p_y`` with ``p_y`` clipped below at
  ``1e-15`` (:data:`LOG_LOSS_EPS`), so that one confident mistake costs at
  most 34.5 instead of infinity;
* ``ece_loss``: the expected calibration error of the top label (Guo et al.
  2017): the predicted class's probability is binned in 15 equal-width bins
  ``((m - 1) / 15, m / 15]``, and the row-weighted mean of
  ``|accuracy - mean confidence|`` over the bins is reported.

The tuned-threshold metrics ``balanced_accuracy_tuned`` and
``f1_macro_tuned`` are the same metrics under a decision rule tuned inside
the training fold (:mod:`skfocal.benchmark._threshold`), next to the values
at the model's own most-probable-class decision.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    brier_score_loss,
    f1_score,
    matthews_corrcoef,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

from skfocal._decision import ThresholdRule
from skfocal.benchmark._threshold import TUNED_METRICS

__all__ = [
    "ECE_BINS",
    "LOG_LOSS_EPS",
    "LOWER_IS_BETTER",
    "METRICS",
    "average_precision",
    "expected_calibration_error",
    "higher_is_better",
    "score_predictions",
]

#: Metric columns of ``results.csv``, with a readable name. Names ending in
#: ``_loss`` are lower-is-better, the others higher-is-better.
METRICS: dict[str, str] = {
    "average_precision": "average precision",
    "roc_auc": "ROC AUC",
    "balanced_accuracy": "balanced accuracy",
    "g_mean": "G-mean",
    "f1_macro": "macro F1",
    "mcc": "MCC",
    "minority_recall": "minority recall",
    "balanced_accuracy_tuned": "balanced accuracy, tuned threshold",
    "f1_macro_tuned": "macro F1, tuned threshold",
    "brier_loss": "Brier score",
    "log_loss": "log loss",
    "ece_loss": "expected calibration error",
}
#: The metrics of :data:`METRICS` where lower is better.
LOWER_IS_BETTER: frozenset[str] = frozenset(m for m in METRICS if m.endswith("_loss"))
#: Equal-width bins of the top-label confidence in ``ece_loss``.
ECE_BINS = 15
#: Lower clip of the true class's probability in ``log_loss``.
LOG_LOSS_EPS = 1e-15


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of ``metric`` is better (names ending in ``_loss``
    are lower-is-better).

    Parameters
    ----------
    metric : str

    Returns
    -------
    bool

    Examples
    --------
    >>> from skfocal.benchmark._metrics import higher_is_better
    >>> higher_is_better("average_precision"), higher_is_better("brier_loss")
    (True, False)
    """
    return not metric.endswith("_loss")


def expected_calibration_error(
    y_true: np.ndarray, proba: np.ndarray, n_bins: int = ECE_BINS
) -> float:
    """Top-label expected calibration error with equal-width bins.

    Each row's confidence is the probability of its predicted (most
    probable) class; rows fall in bins ``((m - 1) / n_bins, m / n_bins]``
    (a confidence of exactly 0 goes to the first bin). The result is
    ``sum_m |B_m| / n * |accuracy(B_m) - mean confidence(B_m)|``.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Integer class codes ``0..C-1``.
    proba : ndarray of shape (n_samples, n_classes)
    n_bins : int, default=15

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark._metrics import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.4, 0.6]])
    >>> round(expected_calibration_error(np.array([0, 1, 1, 1]), proba), 3)
    0.35
    """
    proba = np.asarray(proba, dtype=np.float64)
    predicted = np.argmax(proba, axis=1)
    confidence = proba[np.arange(len(proba)), predicted]
    correct = (predicted == np.asarray(y_true)).astype(np.float64)
    # Right-closed bins on the edges of linspace(0, 1, n_bins + 1); the
    # inner edges alone, so 0 lands in the first bin and 1 in the last.
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.digitize(confidence, edges[1:-1], right=True)
    gap = np.bincount(bins, weights=correct - confidence, minlength=n_bins)
    # |sum(correct - confidence)| per bin = |B_m| * |accuracy - confidence|.
    return float(np.sum(np.abs(gap)) / max(len(proba), 1))


def _log_loss(y_true: np.ndarray, proba: np.ndarray) -> float:
    true_class = proba[np.arange(len(proba)), np.asarray(y_true)]
    return float(-np.mean(np.log(np.clip(true_class, LOG_LOSS_EPS, None))))


def _positive_scores(proba: np.ndarray) -> np.ndarray:
    """Score of class 1 for binary problems, the full matrix otherwise."""
    proba = np.asarray(proba)
    if proba.ndim == 2 and proba.shape[1] == 2:
        return proba[:, 1]
    return proba


def average_precision(y_true: np.ndarray, proba: np.ndarray) -> float:
    """Average precision of class 1 (binary) or macro one-vs-rest (multi-class).

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Integer class codes ``0..C-1``.
    proba : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Probability of class 1 (binary) or of every class.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark import average_precision
    >>> average_precision(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]))
    0.83...
    """
    scores = _positive_scores(proba)
    if scores.ndim == 1:
        return float(average_precision_score(y_true, scores))
    classes = np.arange(scores.shape[1])
    indicator = label_binarize(y_true, classes=classes)
    return float(average_precision_score(indicator, scores, average="macro"))


def _decision_scores(
    y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray
) -> dict[str, float]:
    """The decision metrics that are also reported at a tuned threshold."""
    return {
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "f1_macro": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
    }


def score_predictions(
    y_true: np.ndarray,
    proba: np.ndarray,
    minority_class: int,
    *,
    rules: Mapping[str, ThresholdRule] | None = None,
    y_pred: np.ndarray | None = None,
) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one test fold.

    The decision metrics score ``y_pred``, the model's own decisions (its
    ``predict``, which may follow a threshold rule), or the most probable
    class when it is None. Multi-class average
    precision and ROC AUC are macro averages of one-vs-rest scores; the
    G-mean is imbalanced-learn's multi-class geometric mean of per-class
    recalls. The probability metrics are described in the module docstring.
    A tuned-threshold metric is NaN unless ``rules`` holds its rule.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Integer class codes ``0..C-1``.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities, columns in code order.
    minority_class : int
        Code of the rarest class, whose recall is ``minority_recall``.
    rules : mapping or None, default=None
        Tuned metric name (``"balanced_accuracy_tuned"``,
        ``"f1_macro_tuned"``) to the decision rule tuned inside the training
        fold (:func:`~skfocal.benchmark._threshold.tune_on_inner_split`).
    y_pred : ndarray of shape (n_samples,) or None, default=None
        Class codes the model predicts; ``argmax(proba)`` when None.

    Returns
    -------
    dict
        Metric name to value.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._decision import ThresholdRule
    >>> from skfocal.benchmark import score_predictions
    >>> y = np.array([0, 0, 0, 1, 1])
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]])
    >>> scores = score_predictions(y, proba, minority_class=1)
    >>> scores["minority_recall"], scores["roc_auc"]
    (0.5, 0.666...)
    >>> rules = {"balanced_accuracy_tuned": ThresholdRule("threshold", 0.3)}
    >>> tuned = score_predictions(y, proba, minority_class=1, rules=rules)
    >>> tuned["balanced_accuracy"], tuned["balanced_accuracy_tuned"]
    (0.583..., 0.833...)
    """
    proba = np.asarray(proba)
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    if y_pred is None:
        y_pred = labels[np.argmax(proba, axis=1)]
    y_pred = np.asarray(y_pred)
    if n_classes == 2:
        roc_auc = roc_auc_score(y_true, proba[:, 1])
    else:
        roc_auc = roc_auc_score(
            y_true, proba, multi_class="ovr", average="macro", labels=labels
        )
    unknown = sorted(set(rules or {}) - set(TUNED_METRICS))
    if unknown:
        raise ValueError(
            f"rules must be keyed by {list(TUNED_METRICS)}; got {unknown}."
        )
    at_own_decision = _decision_scores(y_true, y_pred, labels)
    tuned = dict.fromkeys(TUNED_METRICS, math.nan)
    for name, rule in (rules or {}).items():
        y_tuned = rule.predict(proba)
        tuned[name] = _decision_scores(y_true, y_tuned, labels)[TUNED_METRICS[name]]
    return {
        "average_precision": average_precision(y_true, proba),
        "roc_auc": float(roc_auc),
        "balanced_accuracy": at_own_decision["balanced_accuracy"],
        "g_mean": float(geometric_mean_score(y_true, y_pred, labels=labels)),
        "f1_macro": at_own_decision["f1_macro"],
        "mcc": float(matthews_corrcoef(y_true, y_pred)),
        "minority_recall": float(
            recall_score(
                y_true,
                y_pred,
                labels=[minority_class],
                average="macro",
                zero_division=0,
            )
        ),
        **tuned,
        "brier_loss": float(brier_score_loss(y_true, proba, labels=labels)),
        "log_loss": _log_loss(y_true, proba),
        "ece_loss": expected_calibration_error(y_true, proba),
    }
