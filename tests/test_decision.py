"""Tests of skfocal._decision: decision rules, threshold tuning, validation score."""

from __future__ import annotations

import dataclasses
import doctest
import pickle
import warnings

import numpy as np
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    matthews_corrcoef,
)
from sklearn.model_selection import TunedThresholdClassifierCV

from skfocal import _decision
from skfocal._calibration import prior_corrected_proba
from skfocal._decision import (
    METRICS,
    ThresholdRule,
    _scores_from_confusion,
    decide,
    make_rule,
    tune_threshold,
    validation_score,
)


def _random_proba(rng: np.random.Generator, n_samples: int, n_classes: int):
    return rng.dirichlet(np.ones(n_classes), size=n_samples)


def _binary_proba(p1) -> np.ndarray:
    p1 = np.asarray(p1, dtype=float)
    return np.column_stack([1 - p1, p1])


def _sklearn_metric(metric, y, pred, sample_weight=None, binary=True):
    """The metric computed by scikit-learn / imbalanced-learn, independently."""
    labels = np.unique(y)
    if metric == "balanced_accuracy":
        return balanced_accuracy_score(y, pred, sample_weight=sample_weight)
    if metric == "f1":
        if binary:
            return f1_score(y, pred, sample_weight=sample_weight, zero_division=0)
        return f1_score(
            y, pred, labels=labels, average="macro", sample_weight=sample_weight
        )
    if metric == "mcc":
        return matthews_corrcoef(y, pred, sample_weight=sample_weight)
    imblearn_metrics = pytest.importorskip("imblearn.metrics")
    return imblearn_metrics.geometric_mean_score(
        y, pred, labels=labels, average="multiclass", sample_weight=sample_weight
    )


def test_docstring_examples_run():
    failures, attempted = doctest.testmod(_decision, optionflags=doctest.ELLIPSIS)
    assert attempted >= 6
    assert failures == 0


# --- decide and make_rule --------------------------------------------------


@pytest.mark.parametrize("threshold", [0.05, 0.3, 0.5, 0.77])
def test_float_threshold_agrees_exactly_with_greater_or_equal(threshold):
    rng = np.random.default_rng(0)
    p1 = np.r_[rng.random(500), threshold, threshold, np.nextafter(threshold, 0)]
    proba = _binary_proba(p1)
    expected = (proba[:, 1] >= threshold).astype(int)
    np.testing.assert_array_equal(decide(proba, threshold), expected)
    # A probability equal to the threshold is positive, one just below is not.
    np.testing.assert_array_equal(decide(proba, threshold)[-3:], [1, 1, 0])


def test_argmax_ties_go_to_the_lowest_index():
    proba = np.array([[0.5, 0.5], [0.2, 0.4], [0.4, 0.2]])
    proba3 = np.array([[0.4, 0.4, 0.2], [0.2, 0.4, 0.4], [0.3, 0.3, 0.4]])
    np.testing.assert_array_equal(decide(proba[:1]), [0])
    np.testing.assert_array_equal(decide(proba3), [0, 1, 2])


def test_binary_prior_rule_is_a_threshold_at_the_minority_prior():
    rule = make_rule("prior", 2, class_prior=[90, 10])
    assert rule == ThresholdRule("threshold", 0.1, class_prior=(0.9, 0.1))
    proba = _binary_proba([0.0999, 0.1, 0.1001, 0.5])
    np.testing.assert_array_equal(
        decide(proba, "prior", class_prior=[0.9, 0.1]), [0, 1, 1, 1]
    )


def test_binary_prior_rule_equals_the_ratio_rule_away_from_ties():
    rng = np.random.default_rng(1)
    proba = _random_proba(rng, 1000, 2)
    prior = np.array([0.83, 0.17])
    ratio_rule = np.argmax(proba / prior, axis=1)
    np.testing.assert_array_equal(decide(proba, "prior", prior), ratio_rule)


@pytest.mark.parametrize("n_classes", [3, 6])
def test_multiclass_prior_rule_is_post_hoc_logit_adjustment(n_classes):
    rng = np.random.default_rng(n_classes)
    proba = _random_proba(rng, 2000, n_classes)
    prior = rng.dirichlet(np.ones(n_classes))
    expected = np.argmax(np.log(proba) - np.log(prior), axis=1)
    np.testing.assert_array_equal(decide(proba, "prior", prior), expected)
    assert make_rule("prior", n_classes, prior).kind == "logit_adjustment"


def test_logit_adjustment_exponent_interpolates_argmax_and_prior_rule():
    rng = np.random.default_rng(2)
    proba = _random_proba(rng, 500, 4)
    prior = (0.55, 0.25, 0.15, 0.05)
    at_zero = ThresholdRule("logit_adjustment", 0.0, class_prior=prior)
    at_one = ThresholdRule("logit_adjustment", 1.0, class_prior=prior)
    np.testing.assert_array_equal(at_zero.predict(proba), proba.argmax(axis=1))
    np.testing.assert_array_equal(at_one.predict(proba), decide(proba, "prior", prior))
    half = ThresholdRule("logit_adjustment", 0.5, class_prior=prior).predict(proba)
    np.testing.assert_array_equal(
        half, np.argmax(np.log(proba) - 0.5 * np.log(prior), axis=1)
    )


@pytest.mark.parametrize("n_classes", [2, 4])
def test_prior_rule_on_corrected_proba_equals_argmax_of_a_balanced_model(n_classes):
    # With weights w_c proportional to 1 / pi_c, p_w(c|x) is proportional to
    # p(c|x) / pi_c: the argmax of the uncorrected model is already the prior
    # rule, so correcting the probabilities keeps its decisions.
    rng = np.random.default_rng(20 + n_classes)
    prior = rng.dirichlet(np.ones(n_classes) * 2)
    weighted = _random_proba(rng, 3000, n_classes)
    corrected = prior_corrected_proba(weighted, 1 / prior)
    np.testing.assert_array_equal(decide(corrected, "prior", prior), decide(weighted))


def test_decide_accepts_a_fitted_rule():
    rule = ThresholdRule("threshold", 0.25)
    proba = _binary_proba([0.2, 0.25, 0.9])
    np.testing.assert_array_equal(decide(proba, rule), [0, 1, 1])


@pytest.mark.parametrize(
    ("rule", "n_classes", "class_prior", "match"),
    [
        (0.3, 3, None, "A float threshold is for binary problems; this one has 3"),
        (0.0, 2, None, "strictly between 0 and 1; got 0.0"),
        (1.0, 2, None, "strictly between 0 and 1; got 1.0"),
        (1.5, 2, None, "strictly between 0 and 1; got 1.5"),
        (True, 2, None, "threshold must be None, a float.*got True"),
        ("median", 2, None, "threshold must be None, a float.*got 'median'"),
        ("auto", 2, None, "threshold='auto' is tuned on validation data"),
        ("prior", 2, None, "threshold='prior' needs class_prior"),
        ("prior", 3, [0.5, 0.5], "class_prior must be a sequence of 3"),
        ("prior", 2, [1.0, 0.0], "class_prior must hold positive finite"),
    ],
)
def test_bad_rules_get_clear_errors(rule, n_classes, class_prior, match):
    proba = _random_proba(np.random.default_rng(0), 4, n_classes)
    with pytest.raises(ValueError, match=match):
        decide(proba, rule, class_prior)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "median"}, "kind must be one of"),
        ({"kind": "argmax", "value": 0.5}, "An 'argmax' rule takes no value"),
        ({"kind": "threshold", "value": None}, "strictly between 0 and 1; got None"),
        ({"kind": "threshold", "value": 2.0}, "strictly between 0 and 1; got 2.0"),
        ({"kind": "logit_adjustment", "value": 1.0}, "needs class_prior"),
        (
            {"kind": "logit_adjustment", "value": np.nan, "class_prior": (0.5, 0.5)},
            "needs a finite exponent",
        ),
        ({"kind": "argmax", "metric": "accuracy"}, "metric must be one of"),
        ({"kind": "argmax", "class_prior": (0.5, -0.5)}, "positive finite"),
    ],
)
def test_bad_rule_records_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ThresholdRule(**kwargs)


def test_rule_predict_rejects_mismatched_proba():
    rule = ThresholdRule("threshold", 0.5)
    with pytest.raises(ValueError, match="'threshold' rule is for binary problems"):
        rule.predict(np.full((2, 3), 1 / 3))
    prior_rule = make_rule("prior", 3, [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="proba has 2 columns but the rule's"):
        prior_rule.predict(_binary_proba([0.5]))


def test_rule_is_frozen_hashable_and_pickles():
    rule = make_rule("prior", 3, class_prior=np.array([6, 3, 1]))
    assert rule.class_prior == pytest.approx((0.6, 0.3, 0.1))
    assert isinstance(rule.class_prior, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign"):
        rule.value = 0.5
    assert pickle.loads(pickle.dumps(rule)) == rule
    assert pickle.loads(pickle.dumps(rule)) in {rule}


# --- metrics from confusion matrices -----------------------------------------


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_confusion_metrics_match_sklearn_and_imblearn(metric, n_classes, weighted):
    rng = np.random.default_rng(11)
    binary = n_classes == 2
    for _ in range(20):
        y = rng.integers(0, n_classes, size=60)
        pred = np.where(rng.random(60) < 0.6, y, rng.integers(0, n_classes, size=60))
        weight = rng.uniform(0.1, 3.0, size=60) if weighted else None
        confusion = confusion_matrix(
            y, pred, labels=np.arange(n_classes), sample_weight=weight
        )
        ours = _scores_from_confusion(
            confusion[None].astype(float), metric, binary=binary
        )[0]
        reference = _sklearn_metric(metric, y, pred, weight, binary=binary)
        assert ours == pytest.approx(reference, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("metric", METRICS)
def test_confusion_metrics_use_the_classes_present_in_the_truth(metric):
    # Class 3 is predicted but never true: it has no recall and no F1 term,
    # as with scikit-learn's labels= restricted to the true classes.
    rng = np.random.default_rng(12)
    y = rng.integers(0, 3, size=80)
    pred = np.where(rng.random(80) < 0.5, y, rng.integers(0, 4, size=80))
    assert 3 in pred
    confusion = confusion_matrix(y, pred, labels=np.arange(4)).astype(float)
    ours = _scores_from_confusion(confusion[None], metric, binary=False)[0]
    with warnings.catch_warnings():
        # balanced_accuracy_score warns that y_pred has a class y_true lacks.
        warnings.simplefilter("ignore", UserWarning)
        reference = _sklearn_metric(metric, y, pred, binary=False)
    assert ours == pytest.approx(reference, rel=1e-10, abs=1e-12)


# --- tune_threshold, binary ---------------------------------------------------


def _brute_force_best(metric, y, p1, sample_weight=None):
    """Best metric over every threshold that changes a decision, by sklearn."""
    values = np.unique(p1)
    candidates = np.r_[values, (values[:-1] + values[1:]) / 2, (values[-1] + 1) / 2]
    candidates = candidates[(candidates > 0) & (candidates < 1)]
    return max(
        _sklearn_metric(metric, y, (p1 >= t).astype(int), sample_weight)
        for t in candidates
    )


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_tuning_is_exhaustive_against_brute_force(metric, seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.15).astype(int)
    # Rounded scores make ties, as a saturated network produces.
    p1 = np.round(expit(1.5 * y + rng.normal(size=300) - 1.5), 2)
    rule = tune_threshold(y, _binary_proba(p1), metric=metric)
    assert rule.kind == "threshold"
    assert rule.metric == metric
    assert 0 < rule.value < 1
    achieved = _sklearn_metric(metric, y, (p1 >= rule.value).astype(int))
    assert achieved == pytest.approx(rule.score, abs=1e-12)
    assert rule.score == pytest.approx(_brute_force_best(metric, y, p1), abs=1e-12)
    # No threshold on a dense grid does better on these data.
    for t in np.linspace(0.001, 0.999, 300):
        assert _sklearn_metric(metric, y, (p1 >= t).astype(int)) <= rule.score + 1e-12


def test_binary_threshold_is_the_middle_between_scores():
    y = np.array([0, 0, 1, 1])
    rule = tune_threshold(y, _binary_proba([0.1, 0.2, 0.6, 0.9]))
    assert rule.value == pytest.approx(0.4)
    assert rule.score == 1.0


def test_binary_ties_prefer_the_threshold_closest_to_one_half():
    # Balanced accuracy is 0.75 for thresholds in (0.1, 0.3] and (0.7, 0.9],
    # 0.5 elsewhere: the candidates 0.2 and 0.8 tie.
    y = np.array([0, 1, 0, 1])
    p1 = np.array([0.1, 0.3, 0.7, 0.9])
    rule = tune_threshold(y, _binary_proba(p1))
    scores = {
        t: balanced_accuracy_score(y, (p1 >= t).astype(int))
        for t in (0.05, 0.2, 0.5, 0.8, 0.95)
    }
    assert scores[0.2] == scores[0.8] == max(scores.values())
    # 0.2 and 0.8 are equally far from 0.5: the smaller wins.
    assert rule.value == pytest.approx(0.2)
    shifted = tune_threshold(y, _binary_proba([0.1, 0.3, 0.6, 0.9]))
    assert shifted.value == pytest.approx(0.75)


def test_binary_tuning_matches_sklearn_tuned_threshold_classifier():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = (X[:, 0] + rng.normal(size=400) > 1.6).astype(int)
    model = LogisticRegression().fit(X, y)
    p1 = model.predict_proba(X)[:, 1]
    tuned = TunedThresholdClassifierCV(
        model,
        scoring="balanced_accuracy",
        cv="prefit",
        refit=False,
        thresholds=np.unique(p1),
    ).fit(X, y)
    rule = tune_threshold(y, model.predict_proba(X), metric="balanced_accuracy")
    assert rule.score == pytest.approx(tuned.best_score_, abs=1e-12)
    # sklearn's threshold is a score value; ours lies just below it, in the
    # same interval, so both make the same decisions on these data.
    np.testing.assert_array_equal(tuned.predict(X), (p1 >= rule.value).astype(int))


def test_binary_scores_at_zero_and_one_still_give_valid_thresholds():
    y = np.array([0, 0, 1, 1, 1])
    rule = tune_threshold(y, _binary_proba([0.0, 0.0, 1.0, 1.0, 1.0]))
    assert rule.value == pytest.approx(0.5)
    assert rule.score == 1.0


@pytest.mark.parametrize("metric", METRICS)
def test_integer_sample_weights_equal_repeated_samples(metric):
    rng = np.random.default_rng(4)
    y = (rng.random(200) < 0.2).astype(int)
    p1 = expit(y + rng.normal(size=200) - 1.0)
    repeats = rng.integers(0, 4, size=200)
    weighted = tune_threshold(y, _binary_proba(p1), metric, sample_weight=repeats)
    repeated = tune_threshold(
        np.repeat(y, repeats), _binary_proba(np.repeat(p1, repeats)), metric
    )
    assert weighted.score == pytest.approx(repeated.score, abs=1e-12)
    # A sample with zero weight is absent: the interval (and its midpoint)
    # may be wider, but the decisions on the repeated data are the same.
    p_rep = np.repeat(p1, repeats)
    np.testing.assert_array_equal(p_rep >= weighted.value, p_rep >= repeated.value)


def test_prior_rule_is_near_optimal_for_balanced_accuracy_with_true_posterior():
    # With calibrated probabilities the balanced-error Bayes rule is
    # p_1 >= pi_1: on a large sample, tuning cannot do much better than it,
    # while the argmax is far worse.
    rng = np.random.default_rng(0)
    n_samples, prior_1, shift = 200_000, 0.1, 1.5
    y = (rng.random(n_samples) < prior_1).astype(int)
    x = rng.normal(size=n_samples) + shift * y
    posterior = expit(np.log(prior_1 / (1 - prior_1)) + shift * x - shift**2 / 2)
    proba = _binary_proba(posterior)
    prior_rule = balanced_accuracy_score(y, decide(proba, "prior", [0.9, 0.1]))
    argmax_rule = balanced_accuracy_score(y, decide(proba))
    tuned = tune_threshold(y, proba)
    assert tuned.score - prior_rule < 0.003
    assert prior_rule - argmax_rule > 0.1
    assert tuned.value == pytest.approx(prior_1, abs=0.02)


# --- tune_threshold, multi-class ------------------------------------------------


def _multiclass_problem(seed, n_samples=600, prior=(0.7, 0.2, 0.1)):
    rng = np.random.default_rng(seed)
    n_classes = len(prior)
    y = rng.choice(n_classes, size=n_samples, p=prior)
    logits = rng.normal(size=(n_samples, n_classes)) + 1.2 * np.eye(n_classes)[y]
    logits += np.log(prior)
    proba = np.exp(logits - logits.max(axis=1, keepdims=True))
    return y, proba / proba.sum(axis=1, keepdims=True), np.asarray(prior)


@pytest.mark.parametrize("metric", METRICS)
def test_multiclass_tuning_matches_a_grid_scored_by_sklearn(metric):
    y, proba, prior = _multiclass_problem(5)
    rule = tune_threshold(y, proba, metric=metric, class_prior=prior)
    assert rule.kind == "logit_adjustment"
    taus = np.linspace(0, 1, 21)
    reference = [
        _sklearn_metric(
            metric,
            y,
            np.argmax(np.log(proba) - tau * np.log(prior), axis=1),
            binary=False,
        )
        for tau in taus
    ]
    assert rule.value in taus
    assert rule.score == pytest.approx(max(reference), abs=1e-12)
    achieved = _sklearn_metric(metric, y, rule.predict(proba), binary=False)
    assert achieved == pytest.approx(rule.score, abs=1e-12)


def test_multiclass_tuning_beats_argmax_on_balanced_accuracy():
    y, proba, prior = _multiclass_problem(6, n_samples=5000)
    rule = tune_threshold(y, proba, class_prior=prior)
    argmax_score = balanced_accuracy_score(y, proba.argmax(axis=1))
    assert rule.value > 0.5
    assert rule.score > argmax_score + 0.05


def test_multiclass_ties_choose_the_middle_of_the_tied_exponents():
    # Confident, correct probabilities: every exponent gives the same decisions.
    y = np.array([0, 1, 2, 0])
    proba = np.array(
        [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98], [0.9, 0.05, 0.05]]
    )
    rule = tune_threshold(y, proba, class_prior=[0.5, 0.3, 0.2])
    assert rule.score == 1.0
    assert rule.value == pytest.approx(0.5)


def test_multiclass_prior_defaults_to_weighted_label_frequencies():
    y, proba, _ = _multiclass_problem(7)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    rule = tune_threshold(y, proba, sample_weight=weight)
    expected = np.bincount(y, weights=weight) / weight.sum()
    np.testing.assert_allclose(rule.class_prior, expected)


def test_multiclass_missing_class_without_prior_asks_for_it():
    y = np.array([0, 1, 0, 1])
    proba = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="pass class_prior"):
        tune_threshold(y, proba)


@pytest.mark.parametrize(
    ("n_classes", "class_prior", "expected_kind"),
    [(2, [0.8, 0.2], "threshold"), (2, None, "argmax"), (3, None, "argmax")],
)
def test_one_class_validation_split_warns_and_falls_back(
    n_classes, class_prior, expected_kind
):
    proba = np.full((5, n_classes), 1 / n_classes)
    with pytest.warns(UserWarning, match="fewer than two classes"):
        rule = tune_threshold(np.zeros(5, dtype=int), proba, class_prior=class_prior)
    assert rule.kind == expected_kind
    if class_prior is not None:
        assert rule.value == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"metric": "accuracy"}, r"metric must be one of \['balanced_accuracy'"),
        ({"grid_size": 1}, "grid_size must be an integer >= 2; got 1"),
        ({"class_prior": [0.5, 0.5, 0.0]}, "class_prior must be a sequence of 2"),
        ({"sample_weight": [1.0, 1.0, np.inf, 1.0]}, "sample_weight must hold"),
    ],
)
def test_bad_tuning_arguments_get_clear_errors(kwargs, match):
    y = np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=match):
        tune_threshold(y, _binary_proba([0.1, 0.6, 0.3, 0.8]), **kwargs)


# --- validation_score ---------------------------------------------------------


def test_binary_validation_score_is_average_precision_of_class_one():
    rng = np.random.default_rng(8)
    y = (rng.random(300) < 0.2).astype(int)
    p1 = expit(y + rng.normal(size=300))
    weight = rng.uniform(0.1, 2.0, size=300)
    assert validation_score(y, _binary_proba(p1), weight) == pytest.approx(
        average_precision_score(y, p1, sample_weight=weight), rel=1e-12
    )


def test_multiclass_validation_score_is_macro_one_vs_rest_over_present_classes():
    y, proba, _ = _multiclass_problem(9, prior=(0.6, 0.3, 0.1))
    proba4 = np.column_stack([proba * 0.9, np.full(len(y), 0.1)])  # class 3 absent
    per_class = [average_precision_score(y == c, proba4[:, c]) for c in range(3)]
    assert validation_score(y, proba4) == pytest.approx(np.mean(per_class), rel=1e-12)


def test_validation_score_is_nan_for_a_one_class_split():
    assert np.isnan(validation_score([1, 1, 1], _binary_proba([0.2, 0.5, 0.9])))
