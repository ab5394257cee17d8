"""Behaviour of the skfocal estimators as scikit-learn classifiers."""

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import make_pipeline as make_imblearn_pipeline
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import NotFittedError
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, make_scorer
from sklearn.model_selection import (
    GridSearchCV,
    StratifiedKFold,
    TunedThresholdClassifierCV,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import Callback, EpochScoring

from skfocal import (
    BalancedCEClassifier,
    FocalClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
)
from skfocal._fit_backbone import PLAIN_BACKBONE
from skfocal.losses import BalancedCrossEntropyLoss, FocalLoss, GHMCLoss

# Training on every row (no temperature split), so that tests about training
# compare like with like; the calibration defaults are tested on their own.
FAST = {"max_epochs": 5, "random_state": 0, "calibration": "prior"}
ESTIMATORS = [FocalClassifier, BalancedCEClassifier, GHMClassifier]


@pytest.fixture(scope="module")
def binary_data():
    X, y = make_classification(
        n_samples=400, n_features=6, weights=[0.85], random_state=0
    )
    return X, y


@pytest.fixture(scope="module")
def multiclass_data():
    X, y = make_classification(
        n_samples=450,
        n_features=8,
        n_informative=5,
        n_classes=3,
        weights=[0.7, 0.25, 0.05],
        random_state=1,
    )
    return X, y


@pytest.fixture(params=ESTIMATORS, ids=lambda cls: cls.__name__)
def estimator_class(request):
    return request.param


# --------------------------------------------------------------------------
# Fitting and predicting
# --------------------------------------------------------------------------
def test_binary_outputs_are_consistent(estimator_class, binary_data):
    X, y = binary_data
    clf = estimator_class(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    scores = clf.decision_function(X)
    assert proba.shape == (len(X), 2)
    assert scores.shape == (len(X),)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-scores)), rtol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[clf.threshold_.predict(proba)]
    )
    assert clf.n_iter_ == 5
    assert len(clf.loss_curve_) == 5
    assert clf.n_features_in_ == 6


def test_multiclass_outputs_are_consistent(estimator_class, multiclass_data):
    X, y = multiclass_data
    clf = estimator_class(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 3)
    assert clf.decision_function(X).shape == (len(X), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-10)
    assert clf.net_.module_.n_outputs == 3


def test_binary_network_has_one_logit(binary_data):
    X, y = binary_data
    clf = FocalClassifier(**FAST).fit(X, y)
    assert clf.net_.module_.n_outputs == 1


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["no", "yes"]),
        np.array([False, True]),
        np.array([-3, 7]),
        np.array(["a", "b", "c"]),
    ],
    ids=["strings", "booleans", "ints", "three-strings"],
)
def test_original_labels_are_kept(labels, multiclass_data):
    X, y_int = multiclass_data
    y = labels[y_int % len(labels)]
    clf = FocalClassifier(**FAST).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    assert set(clf.predict(X)) <= set(labels.tolist())
    assert clf.predict(X).dtype == y.dtype


def test_pandas_input_sets_feature_names(binary_data):
    X, y = binary_data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    clf = FocalClassifier(**FAST).fit(frame, pd.Series(y))
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    with pytest.warns(UserWarning, match=r"X does not have valid feature names"):
        from_array = clf.predict_proba(frame.to_numpy())
    np.testing.assert_allclose(clf.predict_proba(frame), from_array)


def test_fit_does_not_change_params(binary_data):
    X, y = binary_data
    clf = GHMClassifier(**FAST)
    before = clf.get_params()
    clf.fit(X, y)
    assert clf.get_params() == before


# --------------------------------------------------------------------------
# Loss and class weights
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("estimator", "criterion_class", "attributes"),
    [
        (FocalClassifier(gamma=0.5), FocalLoss, {"gamma": 0.5}),
        (GHMClassifier(bins=7, momentum=0.5), GHMCLoss, {"bins": 7, "momentum": 0.5}),
        (BalancedCEClassifier(), BalancedCrossEntropyLoss, {}),
        (ImbalancedMLPClassifier(loss="ghm", bins=3), GHMCLoss, {"bins": 3}),
        (ImbalancedMLPClassifier(loss="ce"), BalancedCrossEntropyLoss, {"alpha": None}),
    ],
)
def test_loss_hyperparameters_reach_the_criterion(
    estimator, criterion_class, attributes, binary_data
):
    X, y = binary_data
    estimator.set_params(max_epochs=1)
    criterion = estimator.fit(X, y).net_.criterion_
    assert isinstance(criterion, criterion_class)
    for name, value in attributes.items():
        assert getattr(criterion, name) == value


def test_class_weight_resolution(binary_data, multiclass_data):
    X, y = binary_data
    counts = np.bincount(y)
    one_epoch = {"max_epochs": 1, "random_state": 0}

    def resolved(**params):
        return FocalClassifier(**params, **one_epoch).fit(X, y).class_weight_

    np.testing.assert_allclose(resolved(), [1.0, 1.0])
    np.testing.assert_allclose(resolved(alpha=0.75), [0.25, 0.75])
    np.testing.assert_allclose(resolved(alpha=[2.0, 3.0]), [2.0, 3.0])
    np.testing.assert_allclose(resolved(alpha={1: 4.0}), [1.0, 4.0])
    np.testing.assert_allclose(resolved(alpha="balanced"), len(y) / (2 * counts))
    beta = 0.99
    effective = (1 - beta) / (1 - beta**counts)
    np.testing.assert_allclose(
        resolved(alpha="effective", beta=beta), effective * 2 / effective.sum()
    )
    balanced = BalancedCEClassifier(**one_epoch).fit(X, y).class_weight_
    np.testing.assert_allclose(balanced, len(y) / (2 * counts))
    plain = ImbalancedMLPClassifier(loss="ce", alpha=0.9, **one_epoch).fit(X, y)
    np.testing.assert_allclose(plain.class_weight_, [1.0, 1.0])

    X3, y3 = multiclass_data
    labels = np.array(["a", "b", "c"])[y3]
    clf = FocalClassifier(alpha={"c": 5.0}, **one_epoch).fit(X3, labels)
    np.testing.assert_allclose(clf.class_weight_, [1.0, 1.0, 5.0])


def test_bad_alpha_is_named(binary_data, multiclass_data):
    X, y = binary_data
    X3, y3 = multiclass_data
    with pytest.raises(ValueError, match=r"'alpha' .* float \(0.5\).*binary"):
        FocalClassifier(alpha=0.5, max_epochs=1).fit(X3, y3)
    with pytest.raises(ValueError, match=r"'alpha' dict has keys \[7\]"):
        FocalClassifier(alpha={7: 2.0}, max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"one weight per class \(2"):
        FocalClassifier(alpha=[1.0, 2.0, 3.0], max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"finite and non-negative"):
        FocalClassifier(alpha=[1.0, -2.0], max_epochs=1).fit(X, y)
    with pytest.raises(ValueError, match=r"'alpha' parameter of FocalClassifier"):
        FocalClassifier(alpha=1.5).fit(X, y)


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (FocalClassifier(gamma=-1), r"'gamma' parameter of FocalClassifier"),
        (GHMClassifier(bins=0), r"'bins' parameter of GHMClassifier"),
        (GHMClassifier(momentum=1.0), r"'momentum' parameter"),
        (ImbalancedMLPClassifier(loss="dice"), r"'loss' parameter .* Got 'dice'"),
        (FocalClassifier(lr=0), r"'lr' parameter"),
        (FocalClassifier(batch_size=0), r"'batch_size' parameter"),
        (FocalClassifier(dropout=1.0), r"'dropout' parameter"),
        (FocalClassifier(activation="swish"), r"'activation' parameter"),
        (FocalClassifier(hidden_layer_sizes=(64, 0)), r"'hidden_layer_sizes' .*"),
        (FocalClassifier(validation_fraction=1.5), r"'validation_fraction'"),
        (
            FocalClassifier(device="tpu"),
            r"'device' parameter of FocalClassifier must be",
        ),
    ],
)
def test_bad_hyperparameters_are_named(estimator, message, binary_data):
    with pytest.raises(ValueError, match=message):
        estimator.fit(*binary_data)


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------
@pytest.mark.parametrize("estimator_class", [*ESTIMATORS, ImbalancedMLPClassifier])
def test_sample_weight_equals_repetition(estimator_class):
    # One full batch, so the weighted mean and the mean over repeated rows
    # are the same quantity; float32 rounding is the only difference.
    rng = np.random.RandomState(0)
    X = rng.rand(40, 5)
    y = rng.randint(0, 2, 40)
    weights = rng.randint(0, 4, 40)
    # calibration="prior": every row trains (no temperature split), so the
    # weighted and the repeated fits see the same data. The plain network:
    # the default robust transform weighs rows in proportion, which equals
    # repetition only approximately (test_estimator_backbone.py checks its
    # weights).
    params = {
        "max_epochs": 20,
        "random_state": 0,
        "lr": 1e-2,
        "calibration": "prior",
        **PLAIN_BACKBONE,
    }
    weighted = estimator_class(**params).fit(X, y, sample_weight=weights)
    repeated = estimator_class(**params).fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-4
    )
    unweighted = estimator_class(**params).fit(X, y)
    assert not np.allclose(
        weighted.predict_proba(X), unweighted.predict_proba(X), rtol=1e-3
    )


def test_bad_sample_weight(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match=r"Negative values in data passed to"):
        FocalClassifier(max_epochs=1).fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match=r"sample_weight.shape == \(3,\)"):
        FocalClassifier(max_epochs=1).fit(X, y, sample_weight=np.ones(3))


# --------------------------------------------------------------------------
# Reproducibility, early stopping, warm start, partial_fit
# --------------------------------------------------------------------------
def test_same_random_state_gives_identical_predictions(binary_data):
    X, y = binary_data
    params = {"max_epochs": 5, "random_state": 3, "dropout": 0.2}
    torch.manual_seed(1234)
    global_state = torch.get_rng_state()
    first = GHMClassifier(**params).fit(X, y).predict_proba(X)
    second = GHMClassifier(**params).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(torch.get_rng_state(), global_state)
    other = GHMClassifier(**{**params, "random_state": 4}).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, other)


def test_early_stopping_restores_best_and_is_seeded(binary_data):
    X, y = binary_data
    params = {
        "early_stopping": True,
        "validation_metric": "loss",
        "n_iter_no_change": 3,
        "max_epochs": 200,
        "lr": 1e-2,
        "random_state": 0,
    }
    clf = FocalClassifier(**params).fit(X, y)
    history = clf.net_.history
    assert clf.n_iter_ < 200
    valid_loss = history[:, "valid_loss"]
    best_epoch = int(np.argmin(valid_loss))
    assert clf.n_iter_ == best_epoch + 1 + 3
    assert "valid_acc" not in history[-1]
    again = FocalClassifier(**params).fit(X, y)
    assert again.n_iter_ == clf.n_iter_
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))


def test_early_stopping_works_with_skorch_scoring_and_keeps_no_data(binary_data):
    X, y = binary_data
    scoring = EpochScoring("average_precision", name="valid_ap", lower_is_better=False)
    clf = GHMClassifier(
        early_stopping=True,
        n_iter_no_change=2,
        max_epochs=50,
        random_state=0,
        callbacks=[scoring],
        # No temperature: net_.predict_proba is then predict_proba.
        calibration="prior",
    ).fit(X, y)
    history = clf.net_.history
    # User callbacks run before early stopping, so even the last epoch is scored
    # (on real probabilities: net_.predict_proba applies the sigmoid).
    assert all(0 < ap <= 1 for ap in history[:, "valid_ap"])
    assert len(history[:, "valid_ap"]) == clf.n_iter_
    # The validation split is not kept with the model.
    assert clf.net_.train_split is None
    proba = clf.net_.predict_proba(X.astype(np.float32))
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)


def test_validation_loss_is_class_weighted_cross_entropy(binary_data):
    X, y = binary_data
    clf = GHMClassifier(alpha=0.8, max_epochs=1, random_state=0).fit(X, y)
    logits = torch.as_tensor(clf.decision_function(X), dtype=torch.float32)
    target = torch.as_tensor(y, dtype=torch.float32)
    loss = clf.net_.get_loss(logits, target, X=None, training=False)
    weight = torch.where(target == 1, 0.8, 0.2)
    per_sample = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, target, reduction="none"
    )
    expected = (weight * per_sample).sum() / weight.sum()
    torch.testing.assert_close(loss, expected)


def test_early_stopping_auto_depends_on_size(binary_data):
    X, y = binary_data
    # calibration="prior": the temperature split would add a validation loss.
    clf = FocalClassifier(max_epochs=2, random_state=0, calibration="prior")
    clf.fit(X, y)
    assert "valid_loss" not in clf.net_.history[-1]
    X_big, y_big = make_classification(n_samples=10_000, n_features=4, random_state=0)
    clf = FocalClassifier(max_epochs=1, random_state=0, calibration="prior")
    clf.fit(X_big, y_big)
    assert "valid_loss" in clf.net_.history[-1]


def test_early_stopping_needs_every_class_in_validation():
    X = np.arange(40, dtype=float).reshape(20, 2)
    y = np.array([0] * 19 + [1])
    with pytest.raises(ValueError, match=r"early_stopping needs a stratified"):
        FocalClassifier(early_stopping=True, max_epochs=2).fit(X, y)


def test_warm_start_continues_training(binary_data):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=3, warm_start=True, random_state=0).fit(X, y)
    weights = clf.net_.module_.layers[0].weight.detach().clone()
    clf.fit(X, y)
    assert clf.n_iter_ == 6
    assert not torch.equal(weights, clf.net_.module_.layers[0].weight)
    cold = FocalClassifier(max_epochs=3, random_state=0).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 3


def test_partial_fit(binary_data):
    X, y = binary_data
    clf = FocalClassifier(random_state=0)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    assert clf.n_iter_ == 1
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_iter_ == 2
    with pytest.raises(ValueError, match=r"not seen in the first fit"):
        clf.partial_fit(X[:5], np.full(5, 2))
    with pytest.raises(ValueError, match=r"differs from the classes of the first"):
        clf.partial_fit(X[:5], y[:5], classes=[0, 1, 2])
    only_zeros = FocalClassifier(random_state=0)
    only_zeros.partial_fit(X[y == 0][:20], y[y == 0][:20], classes=[0, 1])
    np.testing.assert_array_equal(only_zeros.classes_, [0, 1])


# --------------------------------------------------------------------------
# Output, pickling, callbacks
# --------------------------------------------------------------------------
def test_verbosity(binary_data, capsys):
    X, y = binary_data
    FocalClassifier(max_epochs=2, verbose=0).fit(X, y)
    assert capsys.readouterr().out == ""
    FocalClassifier(max_epochs=2, verbose=1).fit(X, y)
    printed = capsys.readouterr().out
    assert "train_loss" in printed
    assert "epoch" in printed


def test_pickle_round_trip(estimator_class, binary_data):
    X, y = binary_data
    clf = estimator_class(**FAST).fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_user_callbacks_run_on_a_copy(binary_data):
    X, y = binary_data

    class CountEvents(Callback):
        def __init__(self):
            self.epochs = self.batches = self.gradients = 0

        def on_epoch_end(self, net, **kwargs):
            self.epochs += 1

        def on_batch_end(self, net, **kwargs):
            self.batches += 1

        def on_grad_computed(self, net, named_parameters, **kwargs):
            self.gradients += sum(1 for _ in named_parameters)

    counter = CountEvents()
    # calibration="prior": every row trains, so 4 batches of 100 per epoch.
    clf = FocalClassifier(
        max_epochs=4,
        batch_size=100,
        callbacks=[("count", counter)],
        calibration="prior",
    ).fit(X, y)
    fitted = dict(clf.net_.callbacks_)["count"]
    assert fitted.epochs == 4
    assert fitted.batches == 4 * 4
    n_parameters = len(list(clf.net_.module_.parameters()))
    assert n_parameters >= 6  # 3 linear layers x (weight, bias), and more
    assert fitted.gradients == 4 * 4 * n_parameters
    assert counter.epochs == 0


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------
def test_bad_input_errors(binary_data):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=1)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"Input X contains NaN"):
        clf.fit(X_nan, y)
    X_inf = X.copy()
    X_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match=r"Input X contains infinity"):
        clf.fit(X_inf, y)
    X_huge = X.copy()
    X_huge[0, 0] = 1e300
    with pytest.raises(ValueError, match=r"too large for float32"):
        clf.fit(X_huge, y)
    with pytest.raises(ValueError, match=r"only one class: 1"):
        clf.fit(X, np.ones_like(y))
    with pytest.raises(ValueError, match=r"Unknown label type: continuous"):
        clf.fit(X, np.linspace(0, 1, len(y)))
    with pytest.raises(ValueError, match=r"y must be 1-dimensional"):
        clf.fit(X, np.column_stack([y, y]))
    with pytest.raises(NotFittedError, match=r"is not fitted yet"):
        clf.predict(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match=r"X has 5 features, but FocalClassifier"):
        clf.predict(X[:, :5])


def test_cuda_without_cuda_is_a_clear_error(binary_data):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; tested in test_cuda_training")
    with pytest.raises(ValueError, match=r"device='cuda' .* CUDA is not available"):
        FocalClassifier(device="cuda").fit(*binary_data)


def test_auto_device_is_cpu_without_accelerator(binary_data):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA; tested in test_cuda_training")
    clf = FocalClassifier(max_epochs=1, device="auto").fit(*binary_data)
    assert str(clf.net_.device) == "cpu"


def test_diverging_fit_stops_with_advice():
    rng = np.random.RandomState(0)
    # Finite in float32, but the first layer's sums overflow to inf and the
    # second layer turns inf - inf into NaN.
    X = np.sign(rng.randn(64, 20)) * 3e38
    y = np.array([0, 1] * 32)
    # The plain network: the default robust transform would clip these.
    plain = {"input_transform": "none", "embedding": "none"}
    with pytest.raises(FloatingPointError, match=r"lower 'lr'.*scaling the features"):
        FocalClassifier(lr=10.0, max_epochs=5, **plain).fit(X, y)
    assert np.isfinite(FocalClassifier(max_epochs=5).fit(X, y).predict_proba(X)).all()


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training(binary_data):
    X, y = binary_data
    for device in ("auto", "cuda"):
        clf = FocalClassifier(device=device, **FAST).fit(X, y)
        assert torch.device(clf.net_.device).type == "cuda"
        assert next(clf.net_.module_.parameters()).is_cuda
        proba = clf.predict_proba(X)
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(restored.predict_proba(X), proba, rtol=1e-5)


# --------------------------------------------------------------------------
# In the scikit-learn and imbalanced-learn ecosystem
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def mixed_frame():
    rng = np.random.RandomState(0)
    n = 300
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(size=n),
            "age": rng.randint(18, 90, n).astype(float),
            "channel": rng.choice(["web", "shop", "phone"], n),
        }
    )
    frame.loc[rng.rand(n) < 0.1, "age"] = np.nan
    frame.loc[rng.rand(n) < 0.1, "channel"] = np.nan
    risk = frame["amount"] + (frame["channel"] == "web") * 2
    target = np.where(risk > np.quantile(risk, 0.85), "fraud", "ok")
    return frame, target


def test_pipeline_with_column_transformer(mixed_frame):
    frame, target = mixed_frame
    preprocess = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(), StandardScaler()),
                ["amount", "age"],
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                ["channel"],
            ),
        ],
        sparse_threshold=0,
    )
    model = Pipeline([("preprocess", preprocess), ("clf", FocalClassifier(**FAST))])
    model.fit(frame, target)
    assert set(model.predict(frame)) <= {"fraud", "ok"}
    assert model.predict_proba(frame).shape == (len(frame), 2)


@pytest.mark.parametrize(
    ("estimator", "grid"),
    [
        (FocalClassifier(), {"gamma": [0.0, 2.0], "alpha": [None, 0.75]}),
        (GHMClassifier(), {"bins": [5, 10]}),
        (ImbalancedMLPClassifier(), {"loss": ["ce", "focal", "ghm", "balanced_ce"]}),
    ],
    ids=["focal", "ghm", "loss"],
)
def test_grid_search(estimator, grid, binary_data):
    X, y = binary_data
    estimator.set_params(max_epochs=3, random_state=0)
    search = GridSearchCV(estimator, grid, cv=2, scoring="average_precision")
    search.fit(X, y)
    n_candidates = int(np.prod([len(values) for values in grid.values()]))
    assert len(search.cv_results_["params"]) == n_candidates
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert set(search.best_params_) == set(grid)


def test_inside_imblearn_pipeline_with_smote(binary_data):
    X, y = binary_data
    model = make_imblearn_pipeline(SMOTE(random_state=0), FocalClassifier(**FAST))
    model.fit(X, y)
    assert model.predict_proba(X).shape == (len(X), 2)


def test_threshold_tuning_with_string_labels(binary_data):
    X, y = binary_data
    labels = np.where(y == 1, "rare", "common")
    scorer = make_scorer(f1_score, pos_label="rare")
    tuned = TunedThresholdClassifierCV(
        FocalClassifier(**FAST), scoring=scorer, cv=2
    ).fit(X, labels)
    assert 0 < tuned.best_threshold_ < 1
    assert set(tuned.predict(X)) <= {"rare", "common"}


def test_calibration(binary_data):
    X, y = binary_data
    calibrated = CalibratedClassifierCV(GHMClassifier(**FAST), cv=2).fit(X, y)
    proba = calibrated.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_clone_and_cross_validate(binary_data):
    X, y = binary_data
    clf = FocalClassifier(gamma=1.0, **FAST).fit(X, y)
    fresh = clone(clf)
    assert not hasattr(fresh, "net_")
    assert fresh.get_params() == clf.get_params()
    scores = cross_validate(
        fresh, X, y, cv=StratifiedKFold(3), scoring="average_precision"
    )
    assert np.all((scores["test_score"] > 0) & (scores["test_score"] <= 1))


def test_defaults_learn_digits_one_vs_rest():
    X, digits = load_digits(return_X_y=True)
    y = (digits == 8).astype(int)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, stratify=y, test_size=0.3, random_state=0
    )
    focal = make_pipeline(StandardScaler(), FocalClassifier(random_state=0))
    focal.fit(X_train, y_train)
    logreg = make_pipeline(
        StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000)
    )
    logreg.fit(X_train, y_train)
    focal_ap = average_precision_score(y_test, focal.predict_proba(X_test)[:, 1])
    logreg_ap = average_precision_score(y_test, logreg.predict_proba(X_test)[:, 1])
    assert focal_ap >= logreg_ap
    assert focal_ap > 0.9


def test_n_threads_is_used_and_restored(binary_data):
    X, y = binary_data
    seen = []

    class RecordThreads(Callback):
        def on_epoch_end(self, net, **kwargs):
            seen.append(torch.get_num_threads())

    before = torch.get_num_threads()
    clf = FocalClassifier(
        max_epochs=2, n_threads=1, callbacks=[RecordThreads()], random_state=0
    ).fit(X, y)
    assert seen == [1, 1]
    assert torch.get_num_threads() == before
    clf.predict_proba(X)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match=r"'n_threads' parameter"):
        FocalClassifier(n_threads=0).fit(X, y)


def test_keyboard_interrupt_is_not_swallowed(binary_data):
    X, y = binary_data

    class PressCtrlC(Callback):
        def on_epoch_end(self, net, **kwargs):
            if len(net.history) == 2:
                raise KeyboardInterrupt

    clf = FocalClassifier(max_epochs=5, callbacks=[PressCtrlC()])
    with pytest.raises(KeyboardInterrupt, match=r"interrupted after 2 of 5 epochs"):
        clf.fit(X, y)


def test_fits_in_threads_are_reproducible(binary_data):
    from concurrent.futures import ThreadPoolExecutor

    X, y = binary_data
    params = [{"bins": b, "random_state": s} for b in (5, 10) for s in (0, 1)]

    def fit(p):
        return GHMClassifier(max_epochs=3, dropout=0.2, **p).fit(X, y).predict_proba(X)

    sequential = [fit(p) for p in params]
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(fit, params * 2))
    for expected, got in zip(sequential * 2, threaded, strict=True):
        np.testing.assert_array_equal(expected, got)
