"""Per-fold scores of a fitted classifier, from scikit-learn and imbalanced-learn.

Labels are integer codes ``0..C-1`` (the harness encodes them once, with the
minority class as ``1`` in binary problems), so that the positive class of
average precision is always the minority class, whatever the original labels.
"""

from __future__ import annotations

import numpy as np
from imblearn.metrics import geometric_mean_score
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    matthews_corrcoef,
    recall_score,
    roc_auc_score,
)
from sklearn.preprocessing import label_binarize

__all__ = ["METRICS", "average_precision", "score_predictions"]

#: Metric columns of ``results.csv``, with a readable name. All are "higher is
#: better".
METRICS: dict[str, str] = {
    "average_precision": "average precision",
    "roc_auc": "ROC AUC",
    "balanced_accuracy": "balanced accuracy",
    "g_mean": "G-mean",
    "f1_macro": "macro F1",
    "mcc": "MCC",
    "minority_recall": "minority recall",
}


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


def score_predictions(
    y_true: np.ndarray, proba: np.ndarray, minority_class: int
) -> dict[str, float]:
    """Every metric of :data:`METRICS` for one test fold.

    The predicted class is the most probable one. Multi-class average
    precision and ROC AUC are macro averages of one-vs-rest scores; the
    G-mean is imbalanced-learn's multi-class geometric mean of per-class
    recalls.

    Parameters
    ----------
    y_true : ndarray of shape (n_samples,)
        Integer class codes ``0..C-1``.
    proba : ndarray of shape (n_samples, n_classes)
        Predicted class probabilities, columns in code order.
    minority_class : int
        Code of the rarest class, whose recall is ``minority_recall``.

    Returns
    -------
    dict
        Metric name to value.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark import score_predictions
    >>> y = np.array([0, 0, 0, 1, 1])
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.6, 0.4]])
    >>> scores = score_predictions(y, proba, minority_class=1)
    >>> scores["minority_recall"], scores["roc_auc"]
    (0.5, 0.666...)
    """
    proba = np.asarray(proba)
    n_classes = proba.shape[1]
    labels = np.arange(n_classes)
    y_pred = labels[np.argmax(proba, axis=1)]
    if n_classes == 2:
        roc_auc = roc_auc_score(y_true, proba[:, 1])
    else:
        roc_auc = roc_auc_score(
            y_true, proba, multi_class="ovr", average="macro", labels=labels
        )
    return {
        "average_precision": average_precision(y_true, proba),
        "roc_auc": float(roc_auc),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "g_mean": float(geometric_mean_score(y_true, y_pred, labels=labels)),
        "f1_macro": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
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
    }
