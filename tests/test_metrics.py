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

from skfocal._decision import ThresholdRule, tune_threshold
from skfocal.benchmark._metrics import (
    LOWER_IS_BETTER,
    METRICS,
    expected_calibration_error,
    higher_is_better,
    score_predictions,
)
from skfocal.benchmark._threshold import (
    GRID_SIZE,
    TUNED_METRICS,
    tune_on_inner_split,
    tune_rule,
)

EXPONENT_GRID = np.linspace(0.0, 1.0, GRID_SIZE)


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
    rule = tune_rule(y, proba, metric)
    reached = _sklearn_metric(metric, y, rule.predict(proba), 2)
    assert reached == pytest.approx(best)
    assert rule.score == pytest.approx(best)
    # Between two observed scores, never on one of them.
    assert rule.kind == "threshold"
    assert rule.value not in set(score)


def test_binary_macro_f1_is_not_the_f1_of_class_1():
    # By hand: the F1 of class 1 is best cutting at 0.15 (8/9; class 0 then
    # scores 2/3, macro 0.778); macro F1 is best at 0.35 (6/7 and 4/5, 0.829).
    y = np.array([0, 1, 0, 1, 1, 1])
    p1 = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
    proba = np.column_stack([1 - p1, p1])
    class_1 = tune_threshold(y, proba, "f1")
    macro = tune_rule(y, proba, "f1_macro")
    assert _sklearn_metric("f1_macro", y, macro.predict(proba), 2) > (
        _sklearn_metric("f1_macro", y, class_1.predict(proba), 2)
    )
    assert class_1.value == pytest.approx(0.15)
    assert macro.value == pytest.approx(0.35)
    assert macro.score == pytest.approx((6 / 7 + 4 / 5) / 2)


def test_balanced_accuracy_rule_is_the_estimators_auto_rule():
    # One search, one tie rule: the benchmark's rule is _decision's.
    rng = np.random.default_rng(3)
    y = (rng.random(60) < 0.3).astype(int)
    p1 = rng.random(60).round(1)
    proba = np.column_stack([1 - p1, p1])
    assert tune_rule(y, proba, "balanced_accuracy") == tune_threshold(y, proba)


def test_constant_scores_give_threshold_one_half():
    # Every cut is as good as the other; the one nearest 0.5 is kept.
    proba = np.full((6, 2), 0.5)
    y = np.array([0, 0, 0, 0, 1, 1])
    for metric in TUNED_METRICS.values():
        assert tune_rule(y, proba, metric).value in (0.25, 0.75)


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
    rule = tune_rule(y, proba, metric, prior)
    assert rule.kind == "logit_adjustment"
    assert rule.value in EXPONENT_GRID
    reached = _sklearn_metric(metric, y, rule.predict(proba), 3)
    assert reached == pytest.approx(max(values))


def test_tuning_rejects_an_unknown_metric_or_a_missing_class():
    proba = np.array([[0.5, 0.5], [0.4, 0.6]])
    with pytest.raises(ValueError, match=r"metric must be one of .* got 'mcc'"):
        tune_rule(np.array([0, 1]), proba, "mcc")
    with pytest.raises(ValueError, match=r"class\(es\) \[0\] are missing"):
        tune_rule(np.array([1, 1]), proba, "f1_macro")
    with pytest.raises(ValueError, match="metrics must be among"):
        tune_on_inner_split(LogisticRegression(), proba, np.array([1, 0]), 0, ["mcc"])
    with pytest.raises(ValueError, match=r"rules must be keyed by .*\['mcc'\]"):
        score_predictions(
            np.array([0, 1]), proba, 1, rules={"mcc": ThresholdRule("argmax")}
        )


def test_score_predictions_applies_the_tuned_rules():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.65, 0.35]])
    y = np.array([0, 0, 1, 1])
    scores = score_predictions(
        y, proba, 1, rules={"balanced_accuracy_tuned": ThresholdRule("threshold", 0.25)}
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
    rules = tune_on_inner_split(_FirstColumnIsTheScore(), X_train, y_train, seed=0)
    assert set(_FirstColumnIsTheScore.seen) == set(range(80))
    assert sorted(rules) == sorted(TUNED_METRICS)
    assert all(0.4 <= rule.value <= 0.6 for rule in rules.values())

    outer = _FirstColumnIsTheScore().fit(X_train, y_train)
    proba_test = outer.predict_proba(X_test)
    scores = score_predictions(y_test, proba_test, 1, rules=rules)
    assert scores["balanced_accuracy_tuned"] == 0.5
    assert scores["f1_macro_tuned"] == pytest.approx(
        f1_score(y_test, np.zeros(20, dtype=int), average="macro", zero_division=0)
    )
    # What a leak would have given: the trap is real.
    leaked = {
        "balanced_accuracy_tuned": tune_rule(y_test, proba_test, "balanced_accuracy")
    }
    assert (
        score_predictions(y_test, proba_test, 1, rules=leaked)[
            "balanced_accuracy_tuned"
        ]
        == 1.0
    )


def test_inner_split_is_the_stratified_75_25_split_of_the_training_fold():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = (X[:, 0] + rng.normal(size=200) > 1.2).astype(int)
    rules = tune_on_inner_split(LogisticRegression(), X, y, seed=7)
    fit_rows, val_rows = train_test_split(
        np.arange(200), test_size=0.25, stratify=y, random_state=7
    )
    by_hand = LogisticRegression().fit(X[fit_rows], y[fit_rows])
    proba = by_hand.predict_proba(X[val_rows])
    prior = np.bincount(y) / len(y)
    for name, metric in TUNED_METRICS.items():
        assert rules[name] == tune_rule(y[val_rows], proba, metric, prior)


def test_inner_split_accepts_a_factory_and_multiclass():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 2))
    y = np.repeat([0, 1, 2], [100, 35, 15])
    X[:, 0] += y
    rules = tune_on_inner_split(
        lambda: LogisticRegression(), X, y, seed=0, metrics=["f1_macro_tuned"]
    )
    assert list(rules) == ["f1_macro_tuned"]
    assert rules["f1_macro_tuned"].kind == "logit_adjustment"
    assert rules["f1_macro_tuned"].value in EXPONENT_GRID
    np.testing.assert_allclose(
        rules["f1_macro_tuned"].class_prior, [2 / 3, 0.7 / 3, 0.1]
    )


@pytest.mark.parametrize(
    "y",
    [
        # One minority row: nothing to split.
        np.array([0, 0, 0, 0, 0, 1]),
        # Two minority rows among 16: the 25% part of 4 rows gets none.
        np.repeat([0, 1], [14, 2]),
    ],
)
def test_inner_split_gives_nan_when_a_class_is_too_small(y):
    X = np.arange(2 * len(y), dtype=float).reshape(len(y), 2)
    assert tune_on_inner_split(LogisticRegression(), X, y, seed=0) == {}
    proba = np.array([[0.6, 0.4]] * len(y))
    scores = score_predictions(y, proba, 1, rules={})
    assert math.isnan(scores["balanced_accuracy_tuned"])
    assert math.isnan(scores["f1_macro_tuned"])
