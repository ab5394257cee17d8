"""Decision rules and calibrated probabilities of the estimators."""

import pickle

import numpy as np
import pytest
import torch
from _callbacks import RecordValidationRows
from scipy.optimize import minimize_scalar
from scipy.special import expit, softmax
from sklearn.datasets import make_classification
from sklearn.metrics import balanced_accuracy_score, log_loss

from skfocal import (
    BalancedCEClassifier,
    FocalClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
)
from skfocal._decision import ThresholdRule
from skfocal._ensemble import ensemble_logits
from skfocal._inference import LogitTransform, predict_chunks
from skfocal._loss_specs import LOSS_SPECS, get_loss_spec

FAST = {"max_epochs": 4, "hidden_layer_sizes": (16,), "random_state": 0}
ESTIMATORS = [
    FocalClassifier,
    BalancedCEClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
]


@pytest.fixture(scope="module")
def binary_data():
    X, y = make_classification(
        n_samples=400, n_features=6, weights=[0.85], random_state=0
    )
    return X, np.where(y == 1, "rare", "common")


@pytest.fixture(scope="module")
def multiclass_data():
    X, y = make_classification(
        n_samples=450,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.22, 0.08],
        random_state=1,
    )
    return X, y


def _prior(y, sample_weight=None) -> np.ndarray:
    """Class frequencies in the order of np.unique(y), written out."""
    labels = np.unique(y)
    weight = np.ones(len(y)) if sample_weight is None else sample_weight
    totals = np.array([weight[y == label].sum() for label in labels])
    return totals / totals.sum()


def _decide_by_hand(clf, proba, y_train) -> np.ndarray:
    """The documented rule of ``clf.threshold``, from probabilities, in numpy."""
    threshold, binary = clf.threshold, proba.shape[1] == 2
    if threshold is None:
        index = np.argmax(proba, axis=1)
    elif threshold == "prior":
        prior = _prior(y_train)
        index = (
            (proba[:, 1] >= prior[1]).astype(int)
            if binary
            else np.argmax(proba / prior, axis=1)
        )
    elif threshold == "auto":
        rule = clf.threshold_
        index = (
            (proba[:, 1] >= rule.value).astype(int)
            if binary
            else np.argmax(proba / _prior(y_train) ** rule.value, axis=1)
        )
    else:
        index = (proba[:, 1] >= threshold).astype(int)
    return clf.classes_[index]


# --------------------------------------------------------------------------
# predict agrees with predict_proba and decision_function under every rule
# --------------------------------------------------------------------------
@pytest.mark.parametrize("threshold", [None, 0.3, "prior", "auto"])
@pytest.mark.parametrize("calibration", [None, "prior", "temperature"])
def test_binary_predict_agrees_with_proba_under_every_rule(
    binary_data, threshold, calibration
):
    X, y = binary_data
    clf = BalancedCEClassifier(
        threshold=threshold, calibration=calibration, **FAST
    ).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict(X), _decide_by_hand(clf, proba, y))
    scores = clf.decision_function(X)
    np.testing.assert_allclose(proba[:, 1], expit(scores), rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert isinstance(clf.threshold_, ThresholdRule)


@pytest.mark.parametrize("threshold", [None, "prior", "auto"])
@pytest.mark.parametrize("calibration", [None, "prior", "temperature"])
def test_multiclass_predict_agrees_with_proba_under_every_rule(
    multiclass_data, threshold, calibration
):
    X, y = multiclass_data
    clf = FocalClassifier(
        alpha="balanced", threshold=threshold, calibration=calibration, **FAST
    ).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict(X), _decide_by_hand(clf, proba, y))
    np.testing.assert_allclose(
        proba, softmax(clf.decision_function(X), axis=1), rtol=1e-10
    )


@pytest.mark.parametrize("estimator_class", ESTIMATORS)
def test_every_estimator_takes_the_decision_parameters(estimator_class, binary_data):
    X, y = binary_data
    clf = estimator_class(threshold="prior", calibration="prior", **FAST).fit(X, y)
    np.testing.assert_allclose(clf.class_prior_, _prior(y), rtol=1e-12)
    assert clf.threshold_ == ThresholdRule(
        "threshold", _prior(y)[1], class_prior=tuple(_prior(y))
    )
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[(proba[:, 1] >= _prior(y)[1]).astype(int)]
    )


def test_class_prior_counts_sample_weights(binary_data):
    X, y = binary_data
    weight = np.where(y == "rare", 3.0, 1.0)
    clf = FocalClassifier(threshold="prior", **FAST).fit(X, y, sample_weight=weight)
    np.testing.assert_allclose(clf.class_prior_, _prior(y, weight), rtol=1e-12)
    assert clf.threshold_.value == pytest.approx(_prior(y, weight)[1], rel=1e-12)


# --------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------
def _focal_posterior_logit(q, gamma):
    """Binary posterior logit of a focal optimum ``q``, written out in numpy.

    Stationarity of ``-p (1-q)^g log q - (1-p) q^g log(1-q)`` in ``q`` gives
    ``p / (1 - p) = A(1 - q) / A(q)`` with
    ``A(q) = (1-q)^g / q - g (1-q)^(g-1) log q``.
    """

    def slope(q):
        return (1 - q) ** gamma / q - gamma * (1 - q) ** (gamma - 1) * np.log(q)

    return np.log(slope(1 - q)) - np.log(slope(q))


@pytest.mark.parametrize(
    "estimator_class",
    [
        lambda **kw: FocalClassifier(gamma=0.0, **kw),
        lambda **kw: ImbalancedMLPClassifier(loss="ce", **kw),
    ],
    ids=["focal_gamma_0", "ce"],
)
def test_prior_calibration_is_the_identity_without_class_weights(
    binary_data, multiclass_data, estimator_class
):
    for X, y in (binary_data, multiclass_data):
        raw = estimator_class(calibration=None, **FAST).fit(X, y)
        corrected = estimator_class(calibration="prior", **FAST).fit(X, y)
        np.testing.assert_array_equal(corrected.predict_proba(X), raw.predict_proba(X))
        assert corrected.temperature_ == 1.0


def test_prior_calibration_of_focal_is_the_focal_posterior(binary_data):
    X, y = binary_data
    raw = FocalClassifier(gamma=2.0, calibration=None, **FAST).fit(X, y)
    corrected = FocalClassifier(gamma=2.0, calibration="prior", **FAST).fit(X, y)
    q = raw.predict_proba(X)[:, 1]
    np.testing.assert_allclose(
        corrected.predict_proba(X)[:, 1],
        expit(_focal_posterior_logit(q, 2.0)),
        rtol=1e-7,
    )
    assert corrected.temperature_ == 1.0


def test_binary_prior_correction_divides_the_weight_ratio_out(binary_data):
    X, y = binary_data
    raw = BalancedCEClassifier(calibration=None, **FAST).fit(X, y)
    corrected = BalancedCEClassifier(calibration="prior", **FAST).fit(X, y)
    p_w = raw.predict_proba(X)
    w = corrected.class_weight_
    expected = (p_w / w) / (p_w / w).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(corrected.predict_proba(X), expected, rtol=1e-9)
    # Balanced weights inflate the minority; the correction deflates it.
    assert corrected.predict_proba(X)[:, 1].mean() < p_w[:, 1].mean()


def test_temperature_scales_the_raw_logits_then_corrects_the_prior(binary_data):
    X, y = binary_data
    # threshold="auto" holds out the same validation split, so both nets are
    # trained identically; only the calibration differs.
    common = {"threshold": "auto", **FAST}
    raw = BalancedCEClassifier(calibration=None, **common).fit(X, y)
    scaled = BalancedCEClassifier(calibration="temperature", **common).fit(X, y)
    z = raw.decision_function(X)
    w_0, w_1 = scaled.class_weight_
    temperature = scaled.temperature_
    assert temperature != 1.0
    np.testing.assert_allclose(
        scaled.predict_proba(X)[:, 1],
        expit(z / temperature - np.log(w_1 / w_0)),
        rtol=1e-9,
    )


def test_temperature_minimises_the_validation_log_loss(binary_data):
    X, y = binary_data
    clf = BalancedCEClassifier(
        calibration="temperature",
        callbacks=[RecordValidationRows()],
        max_epochs=40,
        lr=1e-2,
        random_state=0,
    ).fit(X, y)
    X_valid, y_valid = clf.net_.history[-1, "valid_X"], clf.net_.history[-1, "valid_y"]
    shift = np.log(clf.class_weight_[1] / clf.class_weight_[0])
    raw = (clf.decision_function(X_valid) + shift) * clf.temperature_

    def validation_log_loss(temperature):
        return log_loss(y_valid, expit(raw / temperature - shift), labels=[0, 1])

    best = minimize_scalar(
        lambda t: validation_log_loss(np.exp(t)), bounds=(-5, 5), method="bounded"
    )
    assert clf.temperature_ == pytest.approx(np.exp(best.x), rel=1e-3)
    assert validation_log_loss(clf.temperature_) < validation_log_loss(1.0)


def test_prior_rule_after_prior_correction_keeps_the_weighted_decisions(
    binary_data, multiclass_data
):
    # With balanced weights w_c ∝ 1 / pi_c, the corrected p_1 >= pi_1 holds
    # exactly when the weighted network's logit is >= 0 (binary), and
    # argmax p_c / pi_c = argmax p_w (multi-class).
    for X, y in (binary_data, multiclass_data):
        weighted = BalancedCEClassifier(calibration=None, threshold=None, **FAST)
        corrected = BalancedCEClassifier(calibration="prior", threshold="prior", **FAST)
        weighted.fit(X, y)
        corrected.fit(X, y)
        np.testing.assert_array_equal(corrected.predict(X), weighted.predict(X))
        assert not np.allclose(corrected.predict_proba(X), weighted.predict_proba(X))


# --------------------------------------------------------------------------
# threshold="auto"
# --------------------------------------------------------------------------
@pytest.mark.parametrize("metric", ["balanced_accuracy", "f1", "geometric_mean", "mcc"])
def test_auto_threshold_is_tuned_on_a_validation_split(binary_data, metric):
    X, y = binary_data
    clf = FocalClassifier(
        threshold="auto", threshold_metric=metric, early_stopping=False, **FAST
    ).fit(X, y)
    rule = clf.threshold_
    assert rule.kind == "threshold"
    assert rule.metric == metric
    assert 0 < rule.value < 1
    assert 0 <= rule.score <= 1 or metric == "mcc"
    # The split is held out even without early stopping.
    assert "valid_loss" in clf.net_.history[-1]


def test_auto_threshold_beats_argmax_on_its_validation_split(binary_data):
    X, y = binary_data
    clf = FocalClassifier(threshold="auto", max_epochs=30, lr=1e-2, random_state=0).fit(
        X, y
    )
    argmax = clf.classes_[np.argmax(clf.predict_proba(X), axis=1)]
    tuned_score = balanced_accuracy_score(y, clf.predict(X))
    assert tuned_score > balanced_accuracy_score(y, argmax) + 0.02


def test_multiclass_auto_rule_is_a_logit_adjustment(multiclass_data):
    X, y = multiclass_data
    clf = FocalClassifier(threshold="auto", **FAST).fit(X, y)
    assert clf.threshold_.kind == "logit_adjustment"
    assert 0.0 <= clf.threshold_.value <= 1.0
    np.testing.assert_allclose(clf.threshold_.class_prior, _prior(y), rtol=1e-12)


def test_partial_fit_falls_back_to_the_prior_rule_and_no_temperature(binary_data):
    X, y = binary_data
    clf = BalancedCEClassifier(threshold="auto", calibration="temperature", **FAST)
    with pytest.warns(UserWarning, match="partial_fit holds none") as record:
        clf.partial_fit(X, y)
    messages = sorted(str(warning.message) for warning in record)
    assert len(messages) == 2
    assert "calibration='temperature' of BalancedCEClassifier" in messages[0]
    assert "partial_fit holds none" in messages[0]
    assert "(temperature 1)" in messages[0]
    assert "threshold='auto' of BalancedCEClassifier" in messages[1]
    assert "the prior rule (threshold='prior') is used" in messages[1]
    assert clf.threshold_ == ThresholdRule(
        "threshold", _prior(y)[1], class_prior=tuple(_prior(y))
    )
    assert clf.temperature_ == 1.0


def test_auto_and_temperature_fall_back_when_a_class_is_too_small_to_split():
    X, y = make_classification(n_samples=60, weights=[0.97], random_state=0)
    y[np.flatnonzero(y == 1)[1:]] = 0  # a single sample of class 1
    clf = FocalClassifier(threshold="auto", calibration="temperature", **FAST)
    with pytest.warns(UserWarning, match="too few samples") as record:
        clf.fit(X, y)
    assert len(record) == 2
    assert clf.threshold_.value == pytest.approx(1 / 60)
    assert clf.temperature_ == 1.0
    assert "valid_loss" not in clf.net_.history[-1]


def test_partial_fit_prior_accumulates_over_calls(binary_data):
    X, y = binary_data
    clf = FocalClassifier(threshold="prior", **FAST)
    clf.partial_fit(X[:200], y[:200], classes=np.unique(y))
    clf.partial_fit(X[200:], y[200:])
    np.testing.assert_allclose(clf.class_prior_, _prior(y), rtol=1e-12)


# --------------------------------------------------------------------------
# Ensembles: calibration of the averaged prediction
# --------------------------------------------------------------------------
class _TwoMembers(torch.nn.Module):
    n_members = 2

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(3, 2 * n_classes)
        self.n_classes = n_classes

    def forward(self, X):
        return self.linear(X).reshape(len(X), 2, self.n_classes)


def test_calibration_applies_to_the_ensemble_prediction_not_each_member():
    torch.manual_seed(0)
    module = _TwoMembers(n_classes=3).double()
    X = np.random.default_rng(0).normal(size=(50, 3))
    transform = LogitTransform(
        member_scale=2.0, temperature=1.5, shift=(0.1, -0.2, 0.3)
    )
    proba = predict_chunks(
        module,
        X,
        device=torch.device("cpu"),
        n_classes=3,
        output="proba",
        transform=transform,
    )
    with torch.no_grad():
        members = module(torch.from_numpy(X)).numpy()
    averaged = softmax(2.0 * members, axis=2).mean(axis=1)
    expected = softmax(np.log(averaged) / 1.5 - np.array([0.1, -0.2, 0.3]), axis=1)
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    # ensemble_logits is the log of the averaged probabilities.
    np.testing.assert_allclose(
        ensemble_logits(torch.from_numpy(2.0 * members), 2).exp().numpy(),
        averaged,
        rtol=1e-10,
    )


# --------------------------------------------------------------------------
# Persistence and bad input
# --------------------------------------------------------------------------
def test_fitted_rule_and_calibration_survive_pickling(binary_data):
    X, y = binary_data
    clf = BalancedCEClassifier(threshold="auto", calibration="temperature", **FAST).fit(
        X, y
    )
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    assert loaded.threshold_ == clf.threshold_


BAD_DECISION_PARAMETERS = [
    ({"threshold": 1.5}, r"The 'threshold' parameter of FocalClassifier must be"),
    ({"threshold": 0.0}, r"The 'threshold' parameter .* Got 0.0 instead"),
    ({"threshold": "median"}, r"The 'threshold' parameter .* Got 'median' instead"),
    ({"threshold_metric": "accuracy"}, r"The 'threshold_metric' parameter .*"),
    ({"calibration": "isotonic"}, r"The 'calibration' parameter .* 'isotonic'"),
    ({"calibration": True}, r"The 'calibration' parameter .* Got True instead"),
]


@pytest.mark.parametrize(("params", "match"), BAD_DECISION_PARAMETERS)
def test_bad_decision_parameters_are_named(binary_data, params, match):
    X, y = binary_data
    with pytest.raises(ValueError, match=match):
        FocalClassifier(**{**FAST, **params}).fit(X, y)


def test_float_threshold_refuses_multiclass_before_training(multiclass_data):
    X, y = multiclass_data
    clf = FocalClassifier(threshold=0.3, **FAST)
    with pytest.raises(
        ValueError, match=r"'threshold' parameter of FocalClassifier is a float"
    ):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_zero_class_weight_leaves_probabilities_uncorrected_with_a_warning(
    binary_data,
):
    X, y = binary_data
    zero = {"alpha": [1.0, 0.0], **FAST}
    clf = FocalClassifier(**zero)  # calibration="auto": "prior" for focal
    with pytest.warns(
        UserWarning, match=r"calibration='prior' .* \[1.0, 0.0\] include 0"
    ):
        clf.fit(X, y)
    assert clf.calibration_ == "prior"
    raw = FocalClassifier(calibration=None, **zero).fit(X, y)
    # The weights stay in: only focal's posterior transform applies.
    q = raw.predict_proba(X)[:, 1]
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, 1], expit(_focal_posterior_logit(q, 2.0)), rtol=1e-7
    )
    # calibration="temperature" warns too and only divides the posterior
    # logits by the temperature. threshold="auto" holds out the same
    # validation split, so both nets train identically.
    tuned = {"threshold": "auto", **zero}
    clf = FocalClassifier(calibration="temperature", **tuned)
    with pytest.warns(
        UserWarning, match=r"calibration='temperature' .* \[1.0, 0.0\] include 0"
    ):
        clf.fit(X, y)
    assert clf.calibration_ == "temperature"
    assert clf.temperature_ != 1.0
    raw = FocalClassifier(calibration=None, **tuned).fit(X, y)
    q = raw.predict_proba(X)[:, 1]
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, 1],
        expit(_focal_posterior_logit(q, 2.0) / clf.temperature_),
        rtol=1e-7,
    )


# --------------------------------------------------------------------------
# The defaults: threshold="prior", calibration="auto"
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("estimator", "expected"),
    [
        (FocalClassifier(), "prior"),
        (BalancedCEClassifier(), "prior"),
        (GHMClassifier(), "temperature"),
        (ImbalancedMLPClassifier(), "prior"),
        (ImbalancedMLPClassifier(loss="ce"), "prior"),
        (ImbalancedMLPClassifier(loss="focal", gamma=0.0), "prior"),
        (ImbalancedMLPClassifier(loss="ghm"), "temperature"),
        (ImbalancedMLPClassifier(loss="poly"), "temperature"),
    ],
    ids=lambda value: value if isinstance(value, str) else repr(value),
)
def test_default_calibration_follows_the_loss(binary_data, estimator, expected):
    X, y = binary_data
    assert estimator.calibration == "auto"
    assert estimator.threshold == "prior"
    clf = estimator.set_params(**FAST).fit(X, y)
    assert clf.calibration_ == expected
    # The temperature is fitted on a held-out split, or not at all.
    assert (clf.temperature_ != 1.0) == (expected == "temperature")
    # predict is the binary prior rule, p_1 >= pi_1, on predict_proba.
    assert clf.threshold_.kind == "threshold"
    assert clf.threshold_.value == pytest.approx(_prior(y)[1], rel=1e-12)
    proba = clf.predict_proba(X)
    by_hand = clf.classes_[(proba[:, 1] >= clf.class_prior_[1]).astype(int)]
    np.testing.assert_array_equal(clf.predict(X), by_hand)


def test_default_multiclass_rule_divides_by_the_prior(multiclass_data):
    X, y = multiclass_data
    clf = FocalClassifier(**FAST).fit(X, y)
    assert clf.threshold_.kind == "logit_adjustment"
    assert clf.threshold_.value == 1.0
    proba = clf.predict_proba(X)
    expected = clf.classes_[np.argmax(proba / _prior(y), axis=1)]
    np.testing.assert_array_equal(clf.predict(X), expected)


# What calibration="auto" resolves to, per registered loss: at the default
# parameters, and where the parameters reduce the loss to (weighted)
# cross-entropy, whose prior correction is exact at the optimum.
AUTO_CALIBRATION = {
    "asymmetric": ("temperature", {"gamma_pos": 0.0, "gamma_neg": 0.0, "clip": 0.0}),
    "balanced_ce": ("prior", {}),
    "ce": ("prior", {}),
    "focal": ("prior", {"gamma": 0.0}),
    "ghm": ("temperature", None),
    "ldam": ("temperature", None),
    "logit_adjusted": ("prior", {}),
    "poly": ("temperature", {"epsilon": 0.0, "gamma": 0.0}),
}


def test_every_registered_loss_has_a_known_auto_calibration():
    assert sorted(LOSS_SPECS) == sorted(AUTO_CALIBRATION)


@pytest.mark.parametrize("name", sorted(AUTO_CALIBRATION))
def test_auto_calibration_of_each_loss(name):
    spec = get_loss_spec(name)
    defaults = ImbalancedMLPClassifier(loss=name).get_params(deep=False)
    expected, posterior_params = AUTO_CALIBRATION[name]
    assert spec.auto_calibration(defaults) == expected
    if posterior_params is not None:
        assert spec.auto_calibration({**defaults, **posterior_params}) == "prior"
    if name == "focal":
        # Its posterior transform makes the prior correction exact at any
        # fixed gamma; FLSD-53's jump has no monotone inverse.
        for gamma in (0.5, 5.0):
            assert spec.auto_calibration({**defaults, "gamma": gamma}) == "prior"
        assert spec.auto_calibration({**defaults, "gamma": "adaptive"}) == (
            "temperature"
        )


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("posterior", [0.01, 0.2, 0.5, 0.8, 0.97])
def test_focal_posterior_transform_inverts_the_focal_optimum(gamma, posterior):
    # Independent route: minimise the expected binary focal loss numerically,
    # then map the minimiser back; it must give the posterior it came from.
    from scipy.optimize import minimize_scalar

    from skfocal._inference import focal_posterior_logits

    def expected_loss(q):
        return -posterior * (1 - q) ** gamma * np.log(q) - (1 - posterior) * (
            q**gamma
        ) * np.log(1 - q)

    q = minimize_scalar(
        expected_loss,
        bounds=(1e-12, 1 - 1e-12),
        method="bounded",
        options={"xatol": 1e-13},
    ).x
    logit = torch.tensor([np.log(q / (1 - q))], dtype=torch.float64)
    recovered = torch.sigmoid(focal_posterior_logits(logit, gamma)).item()
    assert recovered == pytest.approx(posterior, abs=1e-6)
    # The same posterior from the two-column (softmax) form.
    two_columns = torch.tensor([[np.log(1 - q), np.log(q)]], dtype=torch.float64)
    softmax = torch.softmax(focal_posterior_logits(two_columns, gamma), dim=1)
    assert softmax[0, 1].item() == pytest.approx(posterior, abs=1e-6)


def test_focal_posterior_transform_on_the_simplex():
    from scipy.optimize import minimize

    from skfocal._inference import focal_posterior_logits

    posterior, gamma = np.array([0.6, 0.3, 0.1]), 2.0

    def expected_loss(free):
        q = np.exp(free) / np.exp(free).sum()
        return -(posterior * (1 - q) ** gamma * np.log(q)).sum()

    free = minimize(expected_loss, np.zeros(3), method="BFGS", tol=1e-12).x
    log_q = torch.tensor(free - np.log(np.exp(free).sum()), dtype=torch.float64)
    recovered = torch.softmax(focal_posterior_logits(log_q[None, :], gamma), dim=1)
    np.testing.assert_allclose(recovered[0].numpy(), posterior, atol=1e-5)


def test_focal_posterior_transform_is_finite_at_saturated_logits():
    from skfocal._inference import focal_posterior_logits

    z = torch.tensor([-800.0, -100.0, 0.0, 100.0, 800.0], dtype=torch.float64)
    for gamma in (0.0, 0.5, 2.0, 5.0):
        out = focal_posterior_logits(z, gamma)
        assert torch.isfinite(out).all()
        assert (torch.diff(out) > 0).all()  # still ranks the same way
    np.testing.assert_allclose(focal_posterior_logits(z, 0.0).numpy(), z.numpy())


@pytest.mark.parametrize("loss", ["focal", "ghm"])
def test_auto_threshold_is_tuned_on_the_probabilities_predict_uses(loss):
    # Rebuild the estimator's own validation split, then check that the tuned
    # rule scores on predict_proba of those rows exactly what it recorded.
    from sklearn.metrics import balanced_accuracy_score
    from sklearn.model_selection import train_test_split
    from sklearn.utils import check_random_state

    X, y = make_classification(
        n_samples=1000, n_features=8, weights=[0.85], random_state=1
    )
    clf = ImbalancedMLPClassifier(
        loss=loss, gamma=3.0, threshold="auto", max_epochs=8, random_state=0
    ).fit(X, y)
    seed = int(check_random_state(0).randint(0, 2**31 - 1))
    _, valid = train_test_split(
        np.arange(len(y)),
        test_size=clf.validation_fraction,
        stratify=y,
        random_state=seed,
    )
    predicted = clf.predict(X[np.sort(valid)])
    score = balanced_accuracy_score(y[np.sort(valid)], predicted)
    assert clf.threshold_.score == pytest.approx(score, abs=1e-12)


def test_adaptive_focal_gets_a_temperature_and_monotone_scores():
    from skfocal._loss_specs import get_loss_spec

    spec = get_loss_spec("focal")
    assert spec.auto_calibration({"gamma": "adaptive"}) == "temperature"
    assert spec.posterior_gamma({"gamma": "adaptive"}) is None
    X, y = make_classification(
        n_samples=600, n_features=6, weights=[0.85], random_state=2
    )
    clf = FocalClassifier(gamma="adaptive", max_epochs=5, random_state=0).fit(X, y)
    assert clf.calibration_ == "temperature"
    raw = clf.net_.predict_proba(X.astype(np.float32))[:, 1]
    calibrated = clf.predict_proba(X)[:, 1]
    order = np.argsort(raw, kind="stable")
    # A temperature and a shift keep the network's ranking.
    assert np.all(np.diff(calibrated[order]) >= -1e-12)
