"""Per-fold metrics and thresholds tuned inside the training fold."""

from __future__ import annotations

import math
import typing

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split

from skfocal.benchmark._metrics import (
    LOWER_IS_BETTER,
    METRICS,
    expected_calibration_error,
    higher_is_better,
    score_predictions,
)
from skfocal.benchmark._threshold import (
    EXPONENT_GRID,
    TUNED_METRICS,
    inner_split_threshold,
    score_at_threshold,
    tune_threshold_on,
)


def _random_proba(rng, n, n_classes):
    logits = rng.normal(size=(n, n_classes)) * 2
    proba = np.exp(logits)
    return proba / proba.sum(axis=1, keepdims=True)


def _sklearn_metric(metric, y, y_pred, n_classes):
    if metric == "balanced_accuracy":
        return balanced_accuracy_score(y, y_pred)
    return f1_score(
        y, y_pred, labels=list(range(n_classes)), average="macro", zero_division=0
    )


# ---------------------------------------------------------------------------
# Names and directions
# ---------------------------------------------------------------------------


def test_loss_metrics_are_the_lower_is_better_ones():
    assert {"brier_loss", "log_loss", "ece_loss"} == LOWER_IS_BETTER
    assert all(higher_is_better(m) == (m not in LOWER_IS_BETTER) for m in METRICS)
    assert set(TUNED_METRICS) <= set(METRICS)


# ---------------------------------------------------------------------------
# Probability metrics against independent computations
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_brier_binary_is_the_squared_error_of_class_one(seed):
    rng = np.random.default_rng(seed)
    proba = _random_proba(rng, 50, 2)
    y = rng.integers(0, 2, size=50)
    expected = sum((p - t) ** 2 for p, t in zip(proba[:, 1], y, strict=True)) / 50
    scores = score_predictions(y, proba, minority_class=1)
    assert scores["brier_loss"] == pytest.approx(expected)


def test_brier_multiclass_sums_over_classes():
    rng = np.random.default_rng(2)
    proba = _random_proba(rng, 40, 3)
    y = np.tile([0, 1, 2, 0], 10)
    expected = 0.0
    for row, label in zip(proba, y, strict=True):
        expected += sum((row[c] - (c == label)) ** 2 for c in range(3))
    scores = score_predictions(y, proba, minority_class=2)
    assert scores["brier_loss"] == pytest.approx(expected / 40)


def test_log_loss_matches_sklearn_and_clips_zero_probabilities():
    rng = np.random.default_rng(3)
    proba = _random_proba(rng, 30, 3)
    y = np.tile([0, 1, 2], 10)
    scores = score_predictions(y, proba, minority_class=2)
    assert scores["log_loss"] == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]))
    # One certain mistake (p_y = 0) and one certain hit (p_y = 1).
    certain = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    value = score_predictions(np.array([1, 1, 0]), certain, 1)["log_loss"]
    assert value == pytest.approx(-math.log(1e-15) / 3)


def _ece_brute_force(y, proba, n_bins=15):
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for m in range(n_bins):
        members = []
        for row, label in zip(proba, y, strict=True):
            confidence = max(row)
            low_ok = confidence > edges[m] or (m == 0 and confidence >= 0.0)
            if low_ok and confidence <= edges[m + 1]:
                members.append((confidence, int(np.argmax(row)) == label))
        if members:
            accuracy = sum(ok for _, ok in members) / len(members)
            mean_confidence = sum(c for c, _ in members) / len(members)
            total += len(members) / len(y) * abs(accuracy - mean_confidence)
    return total


@pytest.mark.parametrize(("seed", "n_classes"), [(0, 2), (1, 2), (2, 4)])
def test_ece_matches_a_brute_force_loop(seed, n_classes):
    rng = np.random.default_rng(seed)
    proba = _random_proba(rng, 200, n_classes)
    y = rng.integers(0, n_classes, size=200)
    expected = _ece_brute_force(y, proba)
    assert expected > 0.01
    assert expected_calibration_error(y, proba) == pytest.approx(expected)
    scores = score_predictions(y, proba, minority_class=1)
    assert scores["ece_loss"] == pytest.approx(expected)


def test_ece_puts_confidences_on_bin_edges_in_the_lower_bin():
    # Confidence 0.8 = 12/15 sits on an edge: the bin (11/15, 12/15].
    proba = np.array([[0.8, 0.2]] * 5 + [[0.2, 0.8]] * 5)
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
    assert expected_calibration_error(y, proba) == pytest.approx(0.0)
    assert expected_calibration_error(y, proba) == pytest.approx(
        _ece_brute_force(y, proba)
    )


def test_existing_metrics_keep_their_values():
    rng = np.random.default_rng(4)
    proba = _random_proba(rng, 60, 2)
    y = (proba[:, 1] + rng.normal(scale=0.3, size=60) > 0.5).astype(int)
    scores = score_predictions(y, proba, minority_class=1)
    y_pred = np.argmax(proba, axis=1)
    assert scores["average_precision"] == average_precision_score(y, proba[:, 1])
    assert scores["roc_auc"] == roc_auc_score(y, proba[:, 1])
    assert scores["balanced_accuracy"] == balanced_accuracy_score(y, y_pred)
    assert list(scores) == list(METRICS)
    assert math.isnan(scores["balanced_accuracy_tuned"])
    assert math.isnan(scores["f1_macro_tuned"])


# ---------------------------------------------------------------------------
# Threshold tuning
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["balanced_accuracy", "f1_macro"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_threshold_reaches_the_brute_force_optimum(metric, seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(80) < 0.2).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.3, 0.15, size=80), 0, 1).round(2)
    proba = np.column_stack([1 - score, score])
    best = max(
        _sklearn_metric(metric, y, (score >= t).astype(int), 2)
        for t in np.unique(score)
    )
    threshold = tune_threshold_on(y, proba, metric)
    reached = _sklearn_metric(metric, y, (score >= threshold).astype(int), 2)
    assert reached == pytest.approx(best)
    # Between two observed scores, never on one of them.
    assert threshold not in set(score)


def test_constant_scores_give_threshold_one_half():
    proba = np.full((6, 2), 0.5)
    y = np.array([0, 0, 0, 0, 1, 1])
    assert tune_threshold_on(y, proba, "balanced_accuracy") == 0.5


@pytest.mark.parametrize("metric", ["balanced_accuracy", "f1_macro"])
def test_multiclass_exponent_reaches_the_brute_force_optimum(metric):
    rng = np.random.default_rng(5)
    y = rng.choice(3, size=150, p=[0.7, 0.2, 0.1])
    proba = _random_proba(rng, 150, 3)
    proba[np.arange(150), y] += 0.3
    proba /= proba.sum(axis=1, keepdims=True)
    prior = np.array([0.7, 0.2, 0.1])
    values = []
    for t in EXPONENT_GRID:
        adjusted = proba / prior**t
        values.append(_sklearn_metric(metric, y, adjusted.argmax(axis=1), 3))
    exponent = tune_threshold_on(y, proba, metric, prior)
    assert exponent in EXPONENT_GRID
    reached = score_at_threshold(y, proba, exponent, prior, metric=metric)
    assert reached == pytest.approx(max(values))


def test_tuning_rejects_an_unknown_metric():
    proba = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"metric must be one of .* got 'mcc'"):
        tune_threshold_on(np.array([1]), proba, "mcc")
    with pytest.raises(ValueError, match="metrics must be among"):
        inner_split_threshold(LogisticRegression(), proba, np.array([1]), 0, ["mcc"])


def test_score_predictions_applies_the_tuned_thresholds():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.65, 0.35]])
    y = np.array([0, 0, 1, 1])
    scores = score_predictions(
        y, proba, 1, thresholds={"balanced_accuracy_tuned": 0.25}
    )
    assert scores["balanced_accuracy"] == 0.5
    assert scores["balanced_accuracy_tuned"] == 1.0
    assert math.isnan(scores["f1_macro_tuned"])


class _FirstColumnIsTheScore(ClassifierMixin, BaseEstimator):
    """p(class 1) = column 0, whatever it trained on; records the rows it saw.

    Column 1 is a row id, so that the test can see which rows reached it.
    """

    seen: typing.ClassVar[list[float]] = []

    def fit(self, X, y):
        type(self).seen.extend(X[:, 1])
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        type(self).seen.extend(X[:, 1])
        return np.column_stack([1 - X[:, 0], X[:, 0]])


def test_tuned_threshold_never_sees_the_test_fold():
    # A trap whose best threshold differs between the folds: in training the
    # classes separate at 0.5, in the test fold at 0.075. A threshold tuned
    # on the test fold would score a tuned balanced accuracy of 1.0; tuned
    # inside the training fold it predicts no positive there, hence 0.5.
    rng = np.random.default_rng(0)
    y_train = np.repeat([0, 1], [60, 20])
    train_score = np.where(
        y_train == 1, rng.uniform(0.6, 1.0, 80), rng.uniform(0.0, 0.4, 80)
    )
    X_train = np.column_stack([train_score, np.arange(80)])
    y_test = np.repeat([0, 1], [15, 5])
    test_score = np.where(
        y_test == 1, rng.uniform(0.1, 0.2, 20), rng.uniform(0.0, 0.05, 20)
    )
    X_test = np.column_stack([test_score, 1000 + np.arange(20)])

    _FirstColumnIsTheScore.seen = []
    thresholds = inner_split_threshold(
        _FirstColumnIsTheScore(), X_train, y_train, seed=0
    )
    assert set(_FirstColumnIsTheScore.seen) == set(range(80))
    assert all(0.4 <= t <= 0.6 for t in thresholds.values())

    outer = _FirstColumnIsTheScore().fit(X_train, y_train)
    scores = score_predictions(
        y_test, outer.predict_proba(X_test), 1, thresholds=thresholds
    )
    assert scores["balanced_accuracy_tuned"] == 0.5
    leaked = tune_threshold_on(y_test, outer.predict_proba(X_test), "balanced_accuracy")
    assert score_at_threshold(y_test, outer.predict_proba(X_test), leaked) == 1.0


def test_inner_split_is_the_stratified_75_25_split_of_the_training_fold():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.normal(size=200) > 1.2).astype(int)
    thresholds = inner_split_threshold(LogisticRegression(), X, y, seed=7)
    fit_rows, val_rows = train_test_split(
        np.arange(200), test_size=0.25, stratify=y, random_state=7
    )
    by_hand = LogisticRegression().fit(X[fit_rows], y[fit_rows])
    proba = by_hand.predict_proba(X[val_rows])
    for name, metric in TUNED_METRICS.items():
        assert thresholds[name] == tune_threshold_on(y[val_rows], proba, metric)


def test_inner_split_accepts_a_factory_and_multiclass():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 2))
    y = np.repeat([0, 1, 2], [100, 35, 15])
    X[:, 0] += y
    thresholds = inner_split_threshold(
        lambda: LogisticRegression(), X, y, seed=0, metrics=["f1_macro_tuned"]
    )
    assert list(thresholds) == ["f1_macro_tuned"]
    assert thresholds["f1_macro_tuned"] in EXPONENT_GRID


def test_inner_split_gives_nan_when_a_class_is_too_small():
    X = np.arange(12, dtype=float).reshape(6, 2)
    y = np.array([0, 0, 0, 0, 0, 1])
    thresholds = inner_split_threshold(LogisticRegression(), X, y, seed=0)
    assert all(math.isnan(t) for t in thresholds.values())
    proba = np.array([[0.6, 0.4]] * 6)
    scores = score_predictions(y, proba, 1, thresholds=thresholds)
    assert math.isnan(scores["balanced_accuracy_tuned"])
