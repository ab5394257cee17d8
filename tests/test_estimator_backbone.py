"""The backbone parameters of the estimators (issue 12, estimator side).

``input_transform``, ``embedding``, ``feature_scaling``, ``ensemble_size``,
``lr_schedule`` and ``validation_metric``, and the fitted diagnostics
``validation_scores_``, ``best_epoch_`` and ``best_validation_score_``.
Mathematics is checked against numpy / scikit-learn computations written
independently of the package.
"""

from __future__ import annotations

import inspect
import math
import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.estimator_checks import parametrize_with_checks

from skfocal import (
    BalancedCEClassifier,
    FocalClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
    _fit_backbone,
)
from skfocal._backbone import TabularMLP, no_weight_decay
from skfocal._embeddings import compute_piecewise_bins
from skfocal._fit_backbone import BACKBONE_DEFAULTS, PLAIN_BACKBONE
from skfocal._module import MLP

ESTIMATORS = [
    FocalClassifier,
    BalancedCEClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
]
NEW_PARAMETERS = [
    "input_transform",
    "embedding",
    "feature_scaling",
    "ensemble_size",
    "lr_schedule",
    "validation_metric",
]
# The network's probabilities as trained, on every row (no temperature split,
# no focal posterior transform): these tests are about the network.
FAST = {"max_epochs": 4, "random_state": 0, "calibration": None}


@pytest.fixture(scope="module")
def binary_data():
    X, y = make_classification(
        n_samples=500, n_features=6, weights=[0.85], random_state=0
    )
    # A heavy-tailed, offset column: what the robust transform is for.
    X[:, 0] = 1000.0 + np.exp(3.0 * X[:, 0])
    return X, y


@pytest.fixture(scope="module")
def multiclass_data():
    return make_classification(
        n_samples=450,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.2, 0.1],
        random_state=1,
    )


def _split(clf, X, y):
    """The (train, validation) rows of ``clf``'s fit, recomputed."""
    seed = check_random_state(clf.random_state).randint(0, 2**31 - 1)
    train, valid = train_test_split(
        np.arange(len(y)),
        test_size=clf.validation_fraction,
        stratify=y,
        random_state=int(seed),
    )
    return np.sort(train), np.sort(valid)


def _robust_statistics(X):
    """Median and RealMLP's robust scale, written with np.percentile."""
    low, median, high = np.percentile(X, [25, 50, 75], axis=0)
    spread = high - low
    half_range = (X.max(axis=0) - X.min(axis=0)) / 2
    spread = np.where(spread > 0, spread, half_range)
    return median, np.where(spread > 0, 1.0 / np.where(spread > 0, spread, 1), 0.0)


# --------------------------------------------------------------------------
# parameters


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_parameters_follow_dropout_with_the_chosen_defaults(estimator):
    names = list(inspect.signature(estimator).parameters)
    start = names.index("dropout") + 1
    assert names[start : start + len(NEW_PARAMETERS)] == NEW_PARAMETERS
    params = estimator().get_params()
    assert {name: params[name] for name in NEW_PARAMETERS} == BACKBONE_DEFAULTS
    assert BACKBONE_DEFAULTS == {
        "input_transform": "robust_smooth_clip",
        "embedding": "periodic",
        "feature_scaling": False,
        "ensemble_size": 1,
        "lr_schedule": "constant",
        "validation_metric": "average_precision",
    }
    assert all(f"\n    {name} : " in estimator.__doc__ for name in NEW_PARAMETERS)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("input_transform", "quantile"),
        ("embedding", "linear"),
        ("feature_scaling", "yes"),
        ("ensemble_size", 0),
        ("lr_schedule", "step"),
        ("validation_metric", "f1"),
    ],
)
def test_bad_values_name_the_parameter(binary_data, name, value):
    X, y = binary_data
    with pytest.raises(ValueError, match=rf"'{name}' parameter of FocalClassifier"):
        FocalClassifier(**{name: value}).fit(X, y)


def test_plain_switches_fit_the_mlp_of_version_0_1_bit_for_bit(binary_data):
    # The network the estimators built before these parameters existed.
    class TodaysFocal(FocalClassifier):
        def _build_module(self, n_features, n_classes):
            return MLP, {
                "n_features": n_features,
                "n_outputs": 1,
                "hidden_layer_sizes": (64, 64),
                "activation": "relu",
                "dropout": 0.0,
            }

    X, y = binary_data
    options = {
        "early_stopping": True,
        "weight_decay": 1e-3,
        **PLAIN_BACKBONE,
        **FAST,
    }
    clf = FocalClassifier(**options).fit(X, y)
    today = TodaysFocal(**options).fit(X, y)
    assert type(clf.net_.module_) is MLP
    np.testing.assert_array_equal(clf.decision_function(X), today.decision_function(X))
    assert clf.loss_curve_ == today.loss_curve_
    assert len(clf.net_.optimizer_.param_groups) == 1


def test_grid_search_ranges_over_the_switches(binary_data):
    X, y = binary_data
    grid = {
        "input_transform": ["none", "robust_smooth_clip"],
        "ensemble_size": [1, 2],
    }
    search = GridSearchCV(
        FocalClassifier(max_epochs=2, random_state=0),
        grid,
        cv=2,
        scoring="average_precision",
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_estimator_.get_params()["ensemble_size"] in (1, 2)


# --------------------------------------------------------------------------
# input transform


@pytest.mark.parametrize("kind", ["standard", "robust_smooth_clip"])
def test_transform_is_fitted_on_training_rows_only(binary_data, kind):
    X, y = binary_data
    clf = FocalClassifier(input_transform=kind, early_stopping=True, **FAST)
    clf.fit(X, y)
    train, _ = _split(clf, X, y)
    X32 = X.astype(np.float32).astype(np.float64)
    if kind == "standard":
        center = X32[train].mean(axis=0)
        scale = 1.0 / X32[train].std(axis=0)
    else:
        center, scale = _robust_statistics(X32[train])
    transform = clf.net_.module_.input_transform
    np.testing.assert_allclose(transform.scale.numpy(), scale, rtol=1e-5)
    np.testing.assert_allclose(
        transform.offset.numpy(), -center * scale, rtol=1e-5, atol=1e-6
    )
    # All rows would give other statistics: the validation rows are unseen.
    _, all_scale = _robust_statistics(X32)
    if kind == "robust_smooth_clip":
        assert not np.allclose(transform.scale.numpy(), all_scale, rtol=1e-5)


def test_predict_applies_the_transform(binary_data):
    X, y = binary_data
    clf = FocalClassifier(
        input_transform="robust_smooth_clip", embedding="none", **FAST
    ).fit(X, y)
    center, scale = _robust_statistics(X.astype(np.float32).astype(np.float64))
    scaled = (X - center) * scale
    clipped = scaled / np.sqrt(1.0 + (scaled / 3.0) ** 2)
    layers = clf.net_.module_.layers.double()
    with torch.no_grad():
        logits = layers(torch.from_numpy(clipped)).squeeze(1).numpy()
    np.testing.assert_allclose(clf.decision_function(X), logits, rtol=1e-4, atol=1e-5)
    assert np.abs(clipped).max() < 3.0


def test_sparse_input_is_scaled_not_centred():
    X = sp.random(300, 12, density=0.3, format="csr", random_state=0) * 50.0
    y = np.r_[np.zeros(250), np.ones(50)]
    clf = FocalClassifier(
        input_transform="robust_smooth_clip", embedding="piecewise_linear", **FAST
    ).fit(X, y)
    dense = X.toarray().astype(np.float32).astype(np.float64)
    _, scale = _robust_statistics(dense)
    transform = clf.net_.module_.input_transform
    np.testing.assert_allclose(transform.scale.numpy(), scale, rtol=1e-5)
    assert not transform.offset.any()
    np.testing.assert_allclose(
        clf.predict_proba(X), clf.predict_proba(dense), rtol=1e-6, atol=1e-9
    )


def test_piecewise_bins_come_from_the_transformed_training_rows(binary_data):
    X, y = binary_data
    clf = FocalClassifier(
        input_transform="standard",
        embedding="piecewise_linear",
        early_stopping=True,
        **FAST,
    ).fit(X, y)
    train, _ = _split(clf, X, y)
    X32 = X.astype(np.float32).astype(np.float64)
    mean, std = X32[train].mean(axis=0), X32[train].std(axis=0)
    expected = compute_piecewise_bins((X32[train] - mean) / std, max_rows=None)
    fitted = clf.net_.module__bins
    assert len(fitted) == X.shape[1]
    for edges, reference in zip(fitted, expected, strict=True):
        np.testing.assert_allclose(edges.numpy(), reference.numpy(), atol=1e-5)


# --------------------------------------------------------------------------
# network switches


@pytest.mark.parametrize(
    "switches",
    [
        {"ensemble_size": 4},
        {"embedding": "periodic", "feature_scaling": True},
        {"embedding": "piecewise_linear", "ensemble_size": 3},
    ],
)
def test_switches_build_the_backbone(multiclass_data, switches):
    X, y = multiclass_data
    # threshold=None: predict is the most probable class of the ensemble.
    clf = ImbalancedMLPClassifier(
        **{**PLAIN_BACKBONE, **switches}, threshold=None, **FAST
    ).fit(X, y)
    module = clf.net_.module_
    assert isinstance(module, TabularMLP)
    assert module.n_members == switches.get("ensemble_size", 1)
    assert (module.embedding is not None) == ("embedding" in switches)
    assert (module.feature_scale is not None) == ("feature_scaling" in switches)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[np.argmax(clf.decision_function(X), axis=1)]
    )


def test_weight_decay_spares_biases_embeddings_and_scale(binary_data):
    X, y = binary_data
    clf = FocalClassifier(
        embedding="periodic",
        feature_scaling=True,
        ensemble_size=2,
        weight_decay=0.01,
        warm_start=True,
        **FAST,
    ).fit(X, y)
    module = clf.net_.module_
    names = {id(p): name for name, p in module.named_parameters()}
    exempt = set(no_weight_decay(module))
    assert any(name.startswith("embedding") for name in exempt)
    assert any(name.startswith("feature_scale") for name in exempt)

    def decay_of_each_parameter():
        return {
            names[id(p)]: group["weight_decay"]
            for group in clf.net_.optimizer_.param_groups
            for p in group["params"]
        }

    expected = {name: 0.0 if name in exempt else 0.01 for name in names.values()}
    assert decay_of_each_parameter() == expected
    # A new weight decay under warm_start keeps the exemptions.
    clf.set_params(weight_decay=0.05, max_epochs=1).fit(X, y)
    expected = {name: 0.0 if name in exempt else 0.05 for name in names.values()}
    assert decay_of_each_parameter() == expected
    # Without weight decay one group is enough (each costs a kernel a step).
    clf.set_params(weight_decay=0.0).fit(X, y)
    assert len(clf.net_.optimizer_.param_groups) == 1
    clf.set_params(weight_decay=0.05).fit(X, y)
    assert decay_of_each_parameter() == expected


# --------------------------------------------------------------------------
# learning-rate schedule


def _expected_factors(kind, epochs):
    t = np.arange(epochs) / epochs
    cosine = (1 + np.cos(np.pi * t)) / 2
    if kind == "cosine":
        return cosine
    late = (1 + np.cos(np.pi * np.clip(2 * t - 1, 0, 1))) / 2
    return np.where(t < 0.5, 1.0, late)


@pytest.mark.parametrize("kind", ["cosine", "flat_cosine"])
def test_lr_schedule_per_epoch(binary_data, kind):
    X, y = binary_data
    clf = FocalClassifier(
        lr_schedule=kind, lr=0.01, max_epochs=7, warm_start=True, random_state=0
    ).fit(X, y)
    used = np.array(clf.net_.history[:, "event_lr"])
    np.testing.assert_allclose(used, 0.01 * _expected_factors(kind, 7), rtol=1e-12)
    # warm_start: the next fit runs its own schedule from its own lr.
    clf.set_params(lr=0.002, max_epochs=4).fit(X, y)
    used = np.array(clf.net_.history[:, "event_lr"])[7:]
    np.testing.assert_allclose(used, 0.002 * _expected_factors(kind, 4), rtol=1e-12)


def test_constant_schedule_adds_no_callback(binary_data):
    X, y = binary_data
    clf = FocalClassifier(**FAST).fit(X, y)
    assert "lr_schedule" not in dict(clf.net_.callbacks_)
    assert "event_lr" not in clf.net_.history[-1]


# --------------------------------------------------------------------------
# validation metric and fitted diagnostics


def test_no_validation_split_no_scores(binary_data):
    X, y = binary_data
    clf = FocalClassifier(early_stopping=False, **FAST).fit(X, y)
    assert clf.validation_scores_ is None
    assert clf.best_epoch_ is None
    assert clf.best_validation_score_ is None


def test_loss_scores_are_the_validation_loss(binary_data):
    X, y = binary_data
    clf = FocalClassifier(
        early_stopping=True, validation_metric="loss", max_epochs=6, random_state=0
    ).fit(X, y)
    losses = list(clf.net_.history[:, "valid_loss"])
    assert clf.validation_scores_ == losses
    assert len(losses) == clf.n_iter_ == len(clf.loss_curve_)
    assert clf.best_validation_score_ == losses[clf.best_epoch_ - 1]
    assert clf.best_validation_score_ == pytest.approx(min(losses), rel=1e-3)


def test_average_precision_selects_the_restored_epoch(binary_data):
    X, y = binary_data
    clf = FocalClassifier(
        validation_metric="average_precision",
        early_stopping=True,
        n_iter_no_change=2,
        max_epochs=30,
        # Raw, the heavy-tailed column saturates the float32 network: every
        # validation probability ties and AP is the prevalence.
        input_transform="robust_smooth_clip",
        random_state=0,
    ).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_
    assert clf.best_validation_score_ == scores[clf.best_epoch_ - 1]
    assert clf.best_validation_score_ == pytest.approx(max(scores), rel=1e-3)
    if clf.n_iter_ < 30:  # stopped: two epochs without improvement
        assert clf.n_iter_ - clf.best_epoch_ == 2
    # The restored network scores the best epoch's AP on the validation rows.
    _, valid = _split(clf, X, y)
    restored = average_precision_score(y[valid], clf.predict_proba(X[valid])[:, 1])
    assert restored == pytest.approx(clf.best_validation_score_, abs=1e-6)


def test_multiclass_average_precision_is_macro_one_vs_rest(multiclass_data):
    X, y = multiclass_data
    weights = np.random.default_rng(0).uniform(0.5, 2.0, size=len(y))
    clf = ImbalancedMLPClassifier(
        validation_metric="average_precision",
        early_stopping=True,
        ensemble_size=3,
        **FAST,
    ).fit(X, y, sample_weight=weights)
    _, valid = _split(clf, X, y)
    proba = clf.predict_proba(X[valid])
    per_class = [
        average_precision_score(
            y[valid] == c, proba[:, c], sample_weight=weights[valid]
        )
        for c in range(3)
    ]
    assert clf.best_validation_score_ == pytest.approx(np.mean(per_class), abs=1e-6)


# --------------------------------------------------------------------------
# what the estimators promise keeps working


BACKBONE = {
    "input_transform": "robust_smooth_clip",
    "embedding": "piecewise_linear",
    "ensemble_size": 3,
    "feature_scaling": True,
}


def test_warm_start_refuses_a_changed_switch(binary_data):
    X, y = binary_data
    clf = FocalClassifier(warm_start=True, **BACKBONE, **FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"parameters changed \(ensemble_size\)"):
        clf.set_params(ensemble_size=2).fit(X, y)
    clf.set_params(ensemble_size=3, input_transform="standard")
    with pytest.raises(ValueError, match=r"parameters changed \(input_transform\)"):
        clf.fit(X, y)


@pytest.mark.parametrize("embedding", ["periodic", "piecewise_linear"])
def test_indicator_columns_are_not_embedded(binary_data, embedding):
    """Columns with at most two training values (one-hot, flags) go in raw."""
    X, y = binary_data
    X = np.column_stack([X, (X[:, 1] > 0).astype(float), np.full(len(X), 7.0)])
    X[:, 2] = np.where(X[:, 2] > 0, 3.0, -1.0)
    clf = FocalClassifier(embedding=embedding, **FAST).fit(X, y)
    expected = [0, 1, 3, 4, 5]
    assert clf.net_.module__embedded_features == expected
    assert clf.net_.module_.embedding.out_features == len(expected) * (
        clf.net_.module_.embedding.feature_dim
    )
    if embedding == "piecewise_linear":
        assert len(clf.net_.module__bins) == len(expected)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_all_indicator_columns_train_without_embedding(binary_data):
    X, y = binary_data
    X = (X > 0).astype(float)
    clf = FocalClassifier(embedding="periodic", **FAST).fit(X, y)
    assert clf.net_.module__embedded_features == []
    assert clf.net_.module_.embedding is None
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_zero_weight_rows_are_left_out_of_the_input_statistics(binary_data):
    """What fit learns from the data ignores rows of weight 0 (and the scale)."""
    X, y = binary_data
    X = np.column_stack([X, (X[:, 1] > 0).astype(float)])
    weights = np.ones(len(X))
    weights[:200] = 0.0
    # Two-valued on the kept rows, three-valued with the dropped ones.
    X[:200, -1] = 5.0
    params = {"embedding": "periodic", "early_stopping": False, **FAST}
    weighted = FocalClassifier(**params).fit(X, y, sample_weight=weights / 300.0)
    subset = FocalClassifier(**params).fit(X[200:], y[200:])
    for name in ("module__input_center", "module__input_scale"):
        np.testing.assert_allclose(
            getattr(weighted.net_, name), getattr(subset.net_, name), rtol=1e-12
        )
    assert weighted.net_.module__embedded_features == [0, 1, 2, 3, 4, 5]
    assert subset.net_.module__embedded_features == [0, 1, 2, 3, 4, 5]


def test_first_batch_of_one_row_embeds_every_feature(binary_data):
    X, y = binary_data
    clf = FocalClassifier(**FAST).partial_fit(X[:1], y[:1], classes=[0, 1])
    assert "module__embedded_features" not in clf.net_.get_params()
    assert clf.net_.module_.embedding.out_features == X.shape[1] * 4
    clf.partial_fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_two_valued_columns_of_sparse_rows_without_densifying():
    rng = np.random.default_rng(0)
    dense = np.column_stack(
        [
            (rng.random(300) < 0.1).astype(float),  # 0/1, mostly implicit zeros
            np.where(rng.random(300) < 0.5, 2.0, 3.0),  # two values, no zero
            np.where(rng.random(300) < 0.2, 2.0, 0.0),  # 0 and 2
            np.where(rng.random(300) < 0.2, rng.normal(size=300), 0.0),  # many
            np.zeros(300),  # constant, all implicit
            np.where(
                rng.random(300) < 0.3, 2.0, np.where(rng.random(300) < 0.5, 3.0, 0)
            ),
        ]
    )
    expected = [len(np.unique(column)) <= 2 for column in dense.T]
    sparse = sp.csr_matrix(dense)
    np.testing.assert_array_equal(_fit_backbone._two_valued_columns(sparse), expected)
    np.testing.assert_array_equal(_fit_backbone._two_valued_columns(dense), expected)


def test_piecewise_bins_need_two_rows():
    clf = FocalClassifier(embedding="piecewise_linear")
    with pytest.raises(ValueError, match=r"needs at least 2 of them; got 1"):
        clf.partial_fit(np.ones((1, 3)), [0], classes=[0, 1])


def test_partial_fit_keeps_the_first_statistics(binary_data):
    X, y = binary_data
    clf = FocalClassifier(**BACKBONE, random_state=0, calibration="prior")
    clf.partial_fit(X[:250], y[:250], classes=[0, 1])
    scale = clf.net_.module_.input_transform.scale.clone()
    clf.partial_fit(X[250:] * 10.0, y[250:])
    assert clf.n_iter_ == 2
    torch.testing.assert_close(clf.net_.module_.input_transform.scale, scale)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_reproducible_picklable_and_pandas(binary_data):
    X, y = binary_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    labels = np.where(y == 1, "fraud", "ok")
    options = {**BACKBONE, "lr_schedule": "flat_cosine", **FAST}
    first = FocalClassifier(**options).fit(frame, labels)
    second = clone(first).fit(frame, labels)
    np.testing.assert_array_equal(
        first.predict_proba(frame), second.predict_proba(frame)
    )
    loaded = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(
        loaded.predict_proba(frame), first.predict_proba(frame)
    )
    assert set(first.predict(frame)) <= {"fraud", "ok"}


def test_sample_weight_zero_rows_do_not_train(binary_data):
    X, y = binary_data
    weights = np.ones(len(y))
    weights[::5] = 0.0
    noisy_y = y.copy()
    noisy_y[::5] = 1 - noisy_y[::5]
    options = {"ensemble_size": 2, "embedding": "periodic", **FAST}
    weighted = FocalClassifier(**options).fit(X, noisy_y, sample_weight=weights)
    flipped = FocalClassifier(**options).fit(X, noisy_y)
    assert not np.allclose(weighted.predict_proba(X), flipped.predict_proba(X))
    assert math.isfinite(weighted.loss_curve_[-1])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_backbone_on_cuda(binary_data):
    X, y = binary_data
    options = {**BACKBONE, "validation_metric": "average_precision", **FAST}
    cpu = FocalClassifier(device="cpu", early_stopping=True, **options).fit(X, y)
    gpu = FocalClassifier(device="cuda", early_stopping=True, **options).fit(X, y)
    assert gpu.net_.module_.input_transform.scale.is_cuda
    np.testing.assert_allclose(
        gpu.net_.module_.input_transform.scale.cpu(),
        cpu.net_.module_.input_transform.scale,
    )
    proba = gpu.predict_proba(X)
    assert np.isfinite(proba).all()
    assert len(gpu.validation_scores_) == gpu.n_iter_


# The common checks once more with every data-dependent switch on.
@parametrize_with_checks(
    [
        FocalClassifier(
            embedding="piecewise_linear",
            ensemble_size=4,
            input_transform="robust_smooth_clip",
        )
    ],
    expected_failed_checks=lambda estimator: {
        "check_sample_weight_equivalence_on_dense_data": "float32 training",
        "check_sample_weight_equivalence_on_sparse_data": "float32 training",
    },
)
def test_sklearn_compatible_with_the_backbone(estimator, check):
    check(estimator)
