"""Tests of skfocal._calibration: prior correction and temperature scaling."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import expit, logit
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_class_weight

from skfocal import _calibration
from skfocal._calibration import (
    apply_temperature,
    calibrated_proba,
    fit_temperature,
    logits_to_proba,
    prior_corrected_logits,
    prior_corrected_proba,
)


def _random_proba(rng: np.random.Generator, n_samples: int, n_classes: int):
    return rng.dirichlet(np.ones(n_classes), size=n_samples)


def test_docstring_examples_run():
    failures, attempted = doctest.testmod(_calibration, optionflags=doctest.ELLIPSIS)
    assert attempted >= 5
    assert failures == 0


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_correction_is_bayes_odds_rescaling(seed):
    # Independent form: the posterior odds are divided by the weight ratio.
    rng = np.random.default_rng(seed)
    proba = _random_proba(rng, 200, 2)
    weight = rng.uniform(0.1, 20.0, size=2)
    odds = proba[:, 1] / proba[:, 0] * weight[0] / weight[1]
    corrected = prior_corrected_proba(proba, weight)
    np.testing.assert_allclose(corrected[:, 1], odds / (1 + odds), rtol=1e-12)
    np.testing.assert_allclose(corrected.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [3, 5])
def test_multiclass_correction_matches_log_space_computation(n_classes):
    rng = np.random.default_rng(n_classes)
    proba = _random_proba(rng, 300, n_classes)
    weight = rng.uniform(0.1, 20.0, size=n_classes)
    log_unnormalised = np.log(proba) - np.log(weight)
    expected = np.exp(
        log_unnormalised - np.logaddexp.reduce(log_unnormalised, axis=1)[:, None]
    )
    np.testing.assert_allclose(
        prior_corrected_proba(proba, weight), expected, rtol=1e-10
    )


def test_only_weight_ratios_matter_and_equal_weights_change_nothing():
    rng = np.random.default_rng(3)
    proba = _random_proba(rng, 50, 4)
    weight = np.array([1.0, 2.0, 5.0, 0.5])
    np.testing.assert_allclose(
        prior_corrected_proba(proba, weight),
        prior_corrected_proba(proba, 7.0 * weight),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        prior_corrected_proba(proba, np.full(4, 3.0)), proba, rtol=1e-12
    )


@pytest.mark.parametrize("n_classes", [1, 3])
def test_logit_correction_agrees_with_probability_correction(n_classes):
    rng = np.random.default_rng(10 + n_classes)
    shape = (400,) if n_classes == 1 else (400, n_classes)
    logits = rng.normal(scale=4.0, size=shape)
    weight = rng.uniform(0.2, 30.0, size=max(n_classes, 2))
    via_logits = logits_to_proba(prior_corrected_logits(logits, weight))
    via_proba = prior_corrected_proba(logits_to_proba(logits), weight)
    np.testing.assert_allclose(via_logits, via_proba, rtol=1e-9, atol=1e-15)


def test_binary_logit_shift_is_log_weight_ratio_and_keeps_shape():
    logits = np.array([[0.0], [1.0]])
    shifted = prior_corrected_logits(logits, [2.0, 8.0])
    assert shifted.shape == (2, 1)
    np.testing.assert_allclose(shifted.ravel(), [-np.log(4.0), 1 - np.log(4.0)])


def _gaussian_sample(rng, n_samples, priors, means):
    """Classes with identity covariance: the true posterior is a softmax of
    log(prior_c) + mean_c . x - |mean_c|^2 / 2, linear in x."""
    y = rng.choice(len(priors), size=n_samples, p=priors)
    X = means[y] + rng.normal(size=(n_samples, means.shape[1]))
    true_logits = np.log(priors) + X @ means.T - 0.5 * (means**2).sum(axis=1)
    return X, y, logits_to_proba(true_logits)


@pytest.mark.parametrize(
    ("priors", "means", "class_weight"),
    [
        ([0.9, 0.1], np.array([[0.0], [1.5]]), "balanced"),
        (
            [0.7, 0.2, 0.1],
            np.array([[0.0, 0.0], [1.5, 0.0], [0.0, 1.5]]),
            {0: 1.0, 1: 4.0, 2: 12.0},
        ),
    ],
)
def test_correction_recovers_true_posterior_of_weighted_logistic_regression(
    priors, means, class_weight
):
    # Weighted CE at (near) its population optimum: the model family contains
    # the true posterior, the sample is large, the penalty negligible.
    rng = np.random.default_rng(0)
    priors = np.asarray(priors)
    X, y, _ = _gaussian_sample(rng, 100_000, priors, means)
    model = LogisticRegression(class_weight=class_weight, C=1e6).fit(X, y)
    weight = compute_class_weight(class_weight, classes=np.unique(y), y=y)
    X_test, _, true_posterior = _gaussian_sample(rng, 20_000, priors, means)
    weighted = model.predict_proba(X_test)
    corrected = prior_corrected_proba(weighted, weight)
    error_corrected = np.abs(corrected - true_posterior).mean()
    error_weighted = np.abs(weighted - true_posterior).mean()
    assert error_corrected < 0.005
    assert error_weighted > 10 * error_corrected


def test_logits_to_proba_is_stable_at_saturated_logits():
    z = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    proba = logits_to_proba(z)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba[:, 1], expit(z), rtol=1e-15)
    np.testing.assert_allclose(proba[:, 0], expit(-z), rtol=1e-15)
    multi = logits_to_proba(np.array([[800.0, 0.0, -800.0]]))
    np.testing.assert_allclose(multi, [[1.0, 0.0, 0.0]])


def _sample_with_temperature(rng, true_temperature, n_samples, n_classes):
    """Labels drawn from the calibrated logits; the returned logits are those
    logits multiplied by the temperature, so dividing by it calibrates them."""
    if n_classes == 2:
        calibrated = rng.normal(scale=2.0, size=n_samples)
        y = (rng.random(n_samples) < expit(calibrated)).astype(int)
    else:
        calibrated = rng.normal(scale=2.0, size=(n_samples, n_classes))
        cumulative = np.cumsum(logits_to_proba(calibrated), axis=1)
        y = (rng.random(n_samples)[:, None] > cumulative).sum(axis=1)
        y = np.minimum(y, n_classes - 1)
    return calibrated * true_temperature, y


def _nll(logits, y):
    proba = logits_to_proba(logits)
    return -np.mean(np.log(proba[np.arange(len(y)), y]))


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("true_temperature", [0.5, 2.5])
def test_fitted_temperature_recovers_the_generating_one(n_classes, true_temperature):
    rng = np.random.default_rng(42)
    logits, y = _sample_with_temperature(rng, true_temperature, 40_000, n_classes)
    fitted = fit_temperature(logits, y)
    assert fitted == pytest.approx(true_temperature, rel=0.05)
    assert _nll(apply_temperature(logits, fitted), y) <= _nll(logits, y)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fitted_temperature_minimises_nll_over_a_dense_grid(n_classes):
    rng = np.random.default_rng(7)
    logits, y = _sample_with_temperature(rng, 1.7, 2_000, n_classes)
    fitted = fit_temperature(logits, y)
    grid_nll = min(_nll(logits / t, y) for t in np.geomspace(0.1, 10.0, 2001))
    assert _nll(logits / fitted, y) <= grid_nll + 1e-9


@pytest.mark.parametrize("n_classes", [2, 3])
def test_integer_sample_weights_equal_repeated_samples(n_classes):
    rng = np.random.default_rng(5)
    logits, y = _sample_with_temperature(rng, 2.0, 500, n_classes)
    repeats = rng.integers(0, 4, size=len(y))
    weighted = fit_temperature(logits, y, sample_weight=repeats)
    repeated = fit_temperature(
        np.repeat(logits, repeats, axis=0), np.repeat(y, repeats)
    )
    assert weighted == pytest.approx(repeated, rel=1e-4)
    unweighted = fit_temperature(logits, y)
    assert abs(weighted - unweighted) > 1e-3  # the weights do change the fit


@pytest.mark.parametrize("n_classes", [2, 3])
def test_temperature_is_fitted_before_the_prior_shift(n_classes):
    # A weighted model whose logits are T0 times the weighted-posterior
    # logits: z / T0 - log w is the true posterior's logit.
    rng = np.random.default_rng(8)
    class_weight = np.array([1.0, 6.0, 2.0][:n_classes])
    calibrated, y = _sample_with_temperature(rng, 1.0, 40_000, n_classes)
    if n_classes == 2:
        weighted = calibrated + np.log(class_weight[1] / class_weight[0])
    else:
        weighted = calibrated + np.log(class_weight)
    logits = 0.4 * weighted
    fitted = fit_temperature(logits, y, class_weight=class_weight)
    assert fitted == pytest.approx(0.4, rel=0.05)
    np.testing.assert_allclose(
        calibrated_proba(logits, class_weight, fitted),
        logits_to_proba(calibrated),
        atol=0.02,
    )


def _focal_population_logit(posterior, gamma):
    """Minimiser of the binary focal conditional risk, by a scalar search:
    eta * FL(q) + (1 - eta) * FL(1 - q) over the logit of q."""

    def risk(z, eta):
        q = expit(z)
        return -eta * (1 - q) ** gamma * np.log(q) - (1 - eta) * q**gamma * np.log(
            1 - q
        )

    return np.array(
        [
            minimize_scalar(risk, bounds=(-30, 30), args=(eta,), method="bounded").x
            for eta in posterior
        ]
    )


def test_scale_then_shift_recovers_the_posterior_of_a_weighted_focal_model():
    # A focal model (gamma=2, balanced class weights) at its population
    # optimum outputs the focal minimiser for the weighted posterior p_w.
    rng = np.random.default_rng(0)
    prior_1, shift, n_samples = 0.1, 1.5, 20_000
    y = (rng.random(n_samples) < prior_1).astype(int)
    x = rng.normal(size=n_samples) + shift * y
    posterior = expit(np.log(prior_1 / (1 - prior_1)) + shift * x - shift**2 / 2)
    class_weight = np.array([1 / (2 * (1 - prior_1)), 1 / (2 * prior_1)])
    weighted = prior_corrected_proba(
        np.column_stack([1 - posterior, posterior]), 1 / class_weight
    )[:, 1]
    grid = expit(np.linspace(-9, 9, 301))
    logits = np.interp(
        logit(weighted), logit(grid), _focal_population_logit(grid, gamma=2.0)
    )
    fitted = fit_temperature(logits, y, class_weight=class_weight)
    recovered = calibrated_proba(logits, class_weight, fitted)[:, 1]
    assert 1 / fitted == pytest.approx(2.68, rel=0.08)
    assert np.abs(recovered - posterior).mean() < 0.005
    # Shifting first and scaling afterwards cannot recover it.
    shifted = prior_corrected_logits(logits, class_weight)
    other_order = expit(shifted / fit_temperature(shifted, y))
    assert np.abs(other_order - posterior).mean() > 0.03


def test_calibrated_proba_reduces_to_its_two_parts():
    rng = np.random.default_rng(9)
    logits = rng.normal(scale=3.0, size=(100, 4))
    weight = np.array([1.0, 3.0, 0.5, 8.0])
    np.testing.assert_allclose(
        calibrated_proba(logits, weight),
        prior_corrected_proba(logits_to_proba(logits), weight),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        calibrated_proba(logits, temperature=2.5),
        logits_to_proba(logits / 2.5),
        rtol=1e-12,
    )


def test_degenerate_inputs_return_unit_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=100)
    assert fit_temperature(logits, np.ones(100, dtype=int)) == 1.0
    # Every sample of class 0 carries zero weight: one class left.
    y = np.r_[np.zeros(50, dtype=int), np.ones(50, dtype=int)]
    assert (
        fit_temperature(logits, y, sample_weight=np.r_[np.zeros(50), np.ones(50)])
        == 1.0
    )
    # Constant logits: the likelihood does not depend on T.
    assert fit_temperature(np.zeros((100, 3)), rng.integers(0, 3, size=100)) == 1.0


def test_temperature_never_worsens_nll_on_well_calibrated_logits():
    rng = np.random.default_rng(1)
    logits, y = _sample_with_temperature(rng, 1.0, 300, 2)
    fitted = fit_temperature(logits, y)
    assert _nll(logits / fitted, y) <= _nll(logits, y)


def test_apply_temperature_keeps_the_ranking():
    logits = np.array([[3.0, -1.0, 0.5], [0.0, 2.0, 1.0]])
    scaled = apply_temperature(logits, 4.0)
    np.testing.assert_array_equal(scaled.argmax(axis=1), logits.argmax(axis=1))
    np.testing.assert_allclose(scaled * 4.0, logits)


@pytest.mark.parametrize("temperature", [0, -1.0, np.inf, np.nan, "2", True])
def test_bad_temperature_is_rejected(temperature):
    with pytest.raises(ValueError, match="temperature must be a positive finite"):
        apply_temperature(np.zeros(3), temperature)


@pytest.mark.parametrize(
    ("proba", "class_weight", "match"),
    [
        (
            np.array([0.2, 0.8]),
            [1.0, 1.0],
            r"proba must be a 2-D array.*got shape \(2,\)",
        ),
        (np.array([[0.2], [0.8]]), [1.0], "n_classes >= 2"),
        (np.array([[1.2, -0.2]]), [1.0, 1.0], r"probabilities in \[0, 1\]"),
        (
            np.array([[0.5, 0.5]]),
            [1.0, 1.0, 1.0],
            "class_weight must be a sequence of 2",
        ),
        (np.array([[0.5, 0.5]]), [1.0, 0.0], "class_weight must hold positive finite"),
        (
            np.array([[0.5, 0.5]]),
            [1.0, np.nan],
            "class_weight must hold positive finite",
        ),
        (np.array([[np.nan, 0.5]]), [1.0, 1.0], "NaN"),
    ],
)
def test_bad_correction_input_names_the_parameter(proba, class_weight, match):
    with pytest.raises(ValueError, match=match):
        prior_corrected_proba(proba, class_weight)


def test_bad_logits_and_labels_are_rejected():
    with pytest.raises(
        ValueError, match=r"logits must have shape.*got shape \(2, 2, 2\)"
    ):
        fit_temperature(np.zeros((2, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match=r"y must hold class indices 0 \.\. 1"):
        fit_temperature(np.zeros(3), [0, 1, 2])
    with pytest.raises(ValueError, match=r"y must hold class indices 0 \.\. 2"):
        fit_temperature(np.zeros((3, 3)), [0, 1.5, 2])
    with pytest.raises(ValueError, match="y must hold integer class indices"):
        fit_temperature(np.zeros(2), ["a", "b"])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fit_temperature(np.zeros(3), [0, 1])
    with pytest.raises(ValueError, match="sample_weight must hold non-negative"):
        fit_temperature(np.zeros(2), [0, 1], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="class_weight must be a sequence of 3"):
        prior_corrected_logits(np.zeros((2, 3)), [1.0, 2.0])
    with pytest.raises(ValueError, match="class_weight must hold positive finite"):
        fit_temperature(np.zeros(2), [0, 1], class_weight=[1.0, -2.0])
