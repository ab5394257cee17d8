"""The new losses inside the estimators: parameters, probabilities, DRW."""

import numpy as np
import pytest
import torch
from _callbacks import RecordValidationRows
from scipy.special import expit, softmax
from sklearn.datasets import make_classification
from sklearn.metrics import log_loss
from sklearn.model_selection import GridSearchCV
from skorch.callbacks import Callback, EarlyStopping

from skfocal import FocalClassifier, ImbalancedMLPClassifier
from skfocal._inference import predict_chunks
from skfocal.losses import (
    AsymmetricLoss,
    FocalLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    Poly1Loss,
)

FAST = {"max_epochs": 4, "hidden_layer_sizes": (16,), "random_state": 0}


@pytest.fixture(scope="module")
def binary_data():
    X, y = make_classification(
        n_samples=300, n_features=6, weights=[0.85], random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def multiclass_data():
    X, y = make_classification(
        n_samples=360,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.22, 0.08],
        random_state=1,
    )
    return X, y


def _raw_logits(clf, X) -> np.ndarray:
    """The network's own logits, without any output transform."""
    return predict_chunks(
        clf.net_.module_,
        np.asarray(X),
        device=torch.device("cpu"),
        n_classes=len(clf.classes_),
        output="decision",
    )


def _effective_weights(y, beta):
    """Cui et al. (2019), written out: (1 - beta) / (1 - beta^n_c), sum = C."""
    counts = np.bincount(y).astype(float)
    weights = (1 - beta) / (1 - beta**counts)
    return weights * len(counts) / weights.sum()


# --------------------------------------------------------------------------
# Each loss is built from the estimator's parameters
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("loss", "params", "criterion_class", "attributes"),
    [
        ("logit_adjusted", {"tau": 0.5}, LogitAdjustedLoss, {"tau": 0.5}),
        (
            "ldam",
            {"max_margin": 0.3, "scale": 10.0},
            LDAMLoss,
            {"max_margin": 0.3, "scale": 10.0},
        ),
        (
            "asymmetric",
            {"gamma_pos": 1.0, "gamma_neg": 3.0, "clip": 0.1},
            AsymmetricLoss,
            {"gamma_pos": 1.0, "gamma_neg": 3.0, "clip": 0.1},
        ),
        ("poly", {"epsilon": 2.0, "gamma": 1.0}, Poly1Loss, {"epsilon": 2.0}),
        ("focal", {"gamma": "adaptive"}, FocalLoss, {"gamma": "adaptive"}),
    ],
)
def test_each_loss_gets_its_parameters(
    binary_data, loss, params, criterion_class, attributes
):
    X, y = binary_data
    clf = ImbalancedMLPClassifier(loss=loss, **params, **FAST).fit(X, y)
    criterion = clf.net_.criterion_
    assert type(criterion) is criterion_class
    for name, value in attributes.items():
        assert getattr(criterion, name) == value
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(np.isfinite(clf.decision_function(X)))


def test_class_statistics_come_from_the_training_labels(multiclass_data):
    X, y = multiclass_data
    counts = np.bincount(y)
    adjusted = ImbalancedMLPClassifier(loss="logit_adjusted", **FAST).fit(X, y)
    np.testing.assert_allclose(
        adjusted.net_.criterion_.class_prior, counts / counts.sum(), rtol=1e-12
    )
    ldam = ImbalancedMLPClassifier(loss="ldam", max_margin=0.5, **FAST).fit(X, y)
    # Delta_c = C / n_c^(1/4), largest margin 0.5 (Cao et al. 2019).
    margins = counts**-0.25 * 0.5 / (counts**-0.25).max()
    np.testing.assert_allclose(ldam.net_.criterion_.margins, margins, rtol=1e-6)


def test_poly_with_gamma_zero_is_poly1_on_cross_entropy(binary_data):
    X, y = binary_data
    clf = ImbalancedMLPClassifier(loss="poly", gamma=0.0, **FAST).fit(X, y)
    assert clf.net_.criterion_.gamma == 0.0


@pytest.mark.parametrize("loss", ["logit_adjusted", "ldam", "poly"])
def test_multiclass_losses_fit(multiclass_data, loss):
    X, y = multiclass_data
    clf = ImbalancedMLPClassifier(loss=loss, **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 3)
    assert set(clf.predict(X)) <= set(clf.classes_)


def test_one_grid_search_ranges_over_losses_and_their_parameters(binary_data):
    X, y = binary_data
    grid = [
        {"loss": ["logit_adjusted"], "tau": [0.5, 1.0]},
        {"loss": ["ldam"], "scale": [5.0, 30.0], "drw": [False, True]},
        {"loss": ["asymmetric"], "gamma_neg": [2.0]},
        {"loss": ["poly"], "epsilon": [-0.5, 1.0]},
    ]
    search = GridSearchCV(
        ImbalancedMLPClassifier(max_epochs=2, hidden_layer_sizes=(8,), random_state=0),
        grid,
        cv=2,
        scoring="average_precision",
        error_score="raise",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 9
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))


# --------------------------------------------------------------------------
# Probabilities per loss
# --------------------------------------------------------------------------
def test_ldam_probabilities_are_those_of_scale_times_logits(
    binary_data, multiclass_data
):
    for X, y in (binary_data, multiclass_data):
        clf = ImbalancedMLPClassifier(
            loss="ldam", scale=7.0, calibration=None, **FAST
        ).fit(X, y)
        z = _raw_logits(clf, X)
        expected = (
            np.column_stack([expit(-7.0 * z), expit(7.0 * z)])
            if z.ndim == 1
            else softmax(7.0 * z, axis=1)
        )
        np.testing.assert_allclose(clf.predict_proba(X), expected, rtol=1e-10)
        np.testing.assert_allclose(clf.decision_function(X), 7.0 * z, rtol=1e-12)


def test_logit_adjusted_raw_softmax_is_balanced_prior_calibration_adds_the_prior(
    multiclass_data,
):
    X, y = multiclass_data
    prior = np.bincount(y) / len(y)
    raw = ImbalancedMLPClassifier(
        loss="logit_adjusted", tau=0.5, calibration=None, **FAST
    ).fit(X, y)
    corrected = ImbalancedMLPClassifier(
        loss="logit_adjusted", tau=0.5, calibration="prior", **FAST
    ).fit(X, y)
    z = _raw_logits(raw, X)
    np.testing.assert_array_equal(z, _raw_logits(corrected, X))
    np.testing.assert_allclose(raw.predict_proba(X), softmax(z, axis=1), rtol=1e-10)
    np.testing.assert_allclose(
        corrected.predict_proba(X),
        softmax(z + 0.5 * np.log(prior), axis=1),
        rtol=1e-6,
    )


def test_binary_logit_adjusted_prior_correction_shifts_by_the_log_prior_ratio(
    binary_data,
):
    X, y = binary_data
    pi_0, pi_1 = np.bincount(y) / len(y)
    clf = ImbalancedMLPClassifier(loss="logit_adjusted", tau=2.0, **FAST).fit(X, y)
    z = _raw_logits(clf, X)
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, 1], expit(z + 2.0 * np.log(pi_1 / pi_0)), rtol=1e-6
    )


def test_weighted_ce_prior_correction_divides_the_weights_out(multiclass_data):
    X, y = multiclass_data
    weights = np.array([1.0, 2.0, 6.0])
    kwargs = {"loss": "balanced_ce", "alpha": weights, **FAST}
    raw = ImbalancedMLPClassifier(calibration=None, **kwargs).fit(X, y)
    corrected = ImbalancedMLPClassifier(calibration="prior", **kwargs).fit(X, y)
    p_w = raw.predict_proba(X)
    expected = (p_w / weights) / (p_w / weights).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(corrected.predict_proba(X), expected, rtol=1e-9)


# --------------------------------------------------------------------------
# Deferred re-weighting
# --------------------------------------------------------------------------
class _RecordClassWeight(Callback):
    """Records in the history the criterion's class weights of each epoch.

    (The estimators copy their callbacks, so the record lives in the net.)
    """

    def on_batch_begin(self, net, training=False, **kwargs):
        if training:
            weight = net.criterion_.class_weight
            net.history.record(
                "class_weight", None if weight is None else weight.tolist()
            )


def _class_weight_log(clf) -> list:
    return list(clf.net_.history[:, "class_weight"])


@pytest.mark.parametrize(
    ("drw", "max_epochs", "switch"), [(True, 10, 8), (0.5, 6, 3), (0.25, 4, 1)]
)
def test_drw_switches_to_effective_weights_at_the_configured_epoch(
    binary_data, drw, max_epochs, switch
):
    X, y = binary_data
    clf = ImbalancedMLPClassifier(
        loss="ldam",
        drw=drw,
        max_epochs=max_epochs,
        hidden_layer_sizes=(8,),
        random_state=0,
        callbacks=[_RecordClassWeight()],
    ).fit(X, y)
    log = _class_weight_log(clf)
    late = _effective_weights(y, beta=0.9999)
    assert log[:switch] == [None] * switch
    for weights in log[switch:]:
        np.testing.assert_allclose(weights, late, rtol=1e-6)
    assert len(log) == max_epochs
    np.testing.assert_allclose(clf.class_weight_, late, rtol=1e-12)


def test_drw_late_weights_follow_alpha_and_apply_to_other_losses(binary_data):
    X, y = binary_data
    clf = ImbalancedMLPClassifier(
        loss="focal",
        alpha="balanced",
        drw=0.5,
        max_epochs=4,
        hidden_layer_sizes=(8,),
        random_state=0,
        callbacks=[_RecordClassWeight()],
    ).fit(X, y)
    log = _class_weight_log(clf)
    counts = np.bincount(y)
    balanced = len(y) / (2 * counts)
    assert log[:2] == [None, None]
    np.testing.assert_allclose(log[2], balanced, rtol=1e-6)
    np.testing.assert_allclose(clf.class_weight_, balanced, rtol=1e-12)


def test_drw_schedule_continues_over_partial_fit_calls(binary_data):
    X, y = binary_data
    clf = ImbalancedMLPClassifier(
        loss="ldam", drw=0.5, max_epochs=4, hidden_layer_sizes=(8,), random_state=0
    )
    weights = []
    for _ in range(4):
        clf.partial_fit(X, y)
        weights.append(clf.net_.criterion_.class_weight)
    assert [weight is None for weight in weights] == [True, True, False, False]


class _ScriptedScore(Callback):
    """Records a fixed score per epoch: low before the switch, high after."""

    SCORES = (0.1, 0.2, 0.3, 0.5, 0.45, 0.6)

    def on_epoch_end(self, net, **kwargs):
        net.history.record("scripted", self.SCORES[len(net.history) - 1])


def test_drw_restarts_early_stopping_so_kept_weights_are_reweighted(binary_data):
    X, y = binary_data
    stopper = EarlyStopping(monitor="scripted", patience=100, load_best=True)
    clf = ImbalancedMLPClassifier(
        loss="ldam",
        drw=0.5,
        max_epochs=6,
        hidden_layer_sizes=(8,),
        random_state=0,
        callbacks=[_ScriptedScore(), ("stopper", stopper)],
    ).fit(X, y)
    # Without the restart the best epoch would be 1, an unweighted one.
    assert dict(clf.net_.callbacks_)["stopper"].best_epoch_ == 5
    assert clf.class_weight_[1] > clf.class_weight_[0]


def test_prior_correction_after_drw_divides_the_late_weights_out(binary_data):
    X, y = binary_data
    clf = ImbalancedMLPClassifier(loss="focal", gamma=0.0, drw=0.5, **FAST).fit(X, y)
    w_0, w_1 = clf.class_weight_
    z = _raw_logits(clf, X)
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, 1], expit(z - np.log(w_1 / w_0)), rtol=1e-9
    )


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------
BAD_LOSS_PARAMETERS = [
    ({"loss": "hinge"}, r"The 'loss' parameter of ImbalancedMLPClassifier must be"),
    ({"tau": -1.0}, r"The 'tau' parameter .* must be a float in the range \[0"),
    ({"max_margin": -0.1}, r"The 'max_margin' parameter .* Got -0.1 instead"),
    ({"scale": 0.0}, r"The 'scale' parameter .* range \(0.0, inf\)"),
    ({"drw": 1.5}, r"The 'drw' parameter .* Got 1.5 instead"),
    ({"drw": "yes"}, r"The 'drw' parameter .* Got 'yes' instead"),
    ({"gamma_pos": -1}, r"The 'gamma_pos' parameter .* Got -1 instead"),
    ({"gamma_neg": np.inf}, r"The 'gamma_neg' parameter .* Got inf instead"),
    ({"clip": 1.0}, r"The 'clip' parameter .* range \[0.0, 1.0\)"),
    ({"epsilon": -2.0}, r"The 'epsilon' parameter .* range \[-1.0, inf\)"),
    ({"gamma": "adapt"}, r"The 'gamma' parameter .* Got 'adapt' instead"),
    (
        {"loss": "poly", "gamma": "adaptive"},
        r"gamma='adaptive' \(FLSD-53\) is defined for loss='focal' only",
    ),
    (
        {"loss": "ce", "drw": True},
        r"drw=True re-weights .* loss='ce' .* takes no class weights",
    ),
    (
        {"loss": "asymmetric", "drw": 0.5},
        r"drw=0.5 re-weights .* loss='asymmetric'",
    ),
]


@pytest.mark.parametrize(("params", "match"), BAD_LOSS_PARAMETERS)
def test_bad_loss_parameters_are_named(binary_data, params, match):
    X, y = binary_data
    with pytest.raises(ValueError, match=match):
        ImbalancedMLPClassifier(**{**FAST, **params}).fit(X, y)


def test_asymmetric_loss_refuses_multiclass_before_training(multiclass_data):
    X, y = multiclass_data
    clf = ImbalancedMLPClassifier(loss="asymmetric", **FAST)
    with pytest.raises(
        ValueError,
        match=r"Only binary classification is supported by loss='asymmetric'",
    ):
        clf.fit(X, y)
    assert not hasattr(clf, "net_")


def test_focal_classifier_accepts_adaptive_gamma(binary_data):
    X, y = binary_data
    clf = FocalClassifier(gamma="adaptive", **FAST).fit(X, y)
    assert clf.net_.criterion_.gamma == "adaptive"
    with pytest.raises(ValueError, match=r"The 'gamma' parameter of FocalClassifier"):
        FocalClassifier(gamma="fixed", **FAST).fit(X, y)


def test_ldam_validation_loss_scores_the_scaled_probabilities(multiclass_data):
    X, y = multiclass_data
    clf = ImbalancedMLPClassifier(
        loss="ldam",
        scale=8.0,
        early_stopping=True,
        callbacks=[RecordValidationRows()],
        **FAST,
    ).fit(X, y)
    history = clf.net_.history
    z = _raw_logits(clf, history[-1, "valid_X"])
    expected = log_loss(history[-1, "valid_y"], softmax(8.0 * z, axis=1))
    assert history[-1, "valid_loss"] == pytest.approx(expected, rel=1e-5)
