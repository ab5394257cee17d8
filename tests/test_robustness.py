"""Estimator defects found under real use (issue 11), one test each.

Every test here failed before the skorch layer was redesigned.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from skorch.callbacks import Callback, EarlyStopping

from skfocal import FocalClassifier, GHMClassifier, ImbalancedMLPClassifier
from skfocal._data import SparseRows


@pytest.fixture(scope="module")
def binary_data():
    return make_classification(
        n_samples=400, n_features=6, weights=[0.85], random_state=0
    )


# --------------------------------------------------------------------------
# Warm start
# --------------------------------------------------------------------------
def test_warm_start_with_more_epochs(binary_data):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=3, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(max_epochs=5).fit(X, y)
    assert clf.n_iter_ == 8
    assert len(clf.loss_curve_) == 8


def test_warm_start_uses_new_loss_and_learning_rate(binary_data):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=2, warm_start=True, random_state=0).fit(X, y)
    optimizer = clf.net_.optimizer_
    clf.set_params(lr=0.05).fit(X, y)
    # Only the learning rate changed: same optimizer (Adam's moments kept).
    assert clf.net_.optimizer_ is optimizer
    assert [group["lr"] for group in optimizer.param_groups] == [0.05]

    clf.set_params(gamma=0.5, alpha=0.75, lr=0.01, weight_decay=1e-4).fit(X, y)
    criterion = clf.net_.criterion_
    assert criterion.gamma == 0.5
    torch.testing.assert_close(criterion.class_weight, torch.tensor([0.25, 0.75]))
    np.testing.assert_allclose(clf.class_weight_, [0.25, 0.75])
    validation_weight = clf.net_.validation_criterion_.class_weight
    torch.testing.assert_close(validation_weight, torch.tensor([0.25, 0.75]))
    groups = clf.net_.optimizer_.param_groups
    # Biases and embeddings are in a second group, without weight decay.
    assert [(g["lr"], g["weight_decay"]) for g in groups] == [
        (0.01, 1e-4),
        (0.01, 0.0),
    ]
    assert clf.n_iter_ == 6


def test_warm_start_and_partial_fit_follow_loss_changes():
    X, y = make_classification(200, 4, random_state=0)
    clf = ImbalancedMLPClassifier(loss="focal", max_epochs=1, warm_start=True)
    clf.fit(X, y)
    clf.set_params(loss="ghm", bins=4).fit(X, y)
    assert clf.net_.criterion_.bins == 4
    streaming = GHMClassifier(bins=5, random_state=0)
    streaming.partial_fit(X, y, classes=[0, 1])
    streaming.set_params(bins=7).partial_fit(X, y)
    assert streaming.net_.criterion_.bins == 7


def test_warm_start_cannot_change_the_network(binary_data):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=1, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match=r"parameters changed \(hidden_layer_sizes\)"):
        clf.fit(X, y)


# --------------------------------------------------------------------------
# Callbacks and output
# --------------------------------------------------------------------------
def test_users_early_stopping_ends_fit_normally(binary_data):
    X, y = binary_data
    stopper = EarlyStopping(monitor="train_loss", patience=2, threshold=0.9)
    clf = FocalClassifier(max_epochs=100, random_state=0, callbacks=[stopper])
    clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert np.isfinite(clf.predict_proba(X)).all()


def test_verbose_output_is_plain_text_and_level_two_adds_metrics(binary_data, capsys):
    X, y = binary_data
    params = {
        "max_epochs": 3,
        "early_stopping": True,
        "validation_metric": "loss",
        "random_state": 0,
    }
    FocalClassifier(verbose=1, **params).fit(X, y)
    level_one = capsys.readouterr().out
    assert "train_loss" in level_one
    assert "valid_loss" in level_one
    assert "\x1b[" not in level_one
    assert "valid_ap" not in level_one
    FocalClassifier(verbose=2, **params).fit(X, y)
    level_two = capsys.readouterr().out
    assert "valid_ap" in level_two
    assert "valid_bal_acc" in level_two
    assert "\x1b[" not in level_two
    # Monitored by early stopping, the validation AP is shown at level one.
    FocalClassifier(
        verbose=1, **{**params, "validation_metric": "average_precision"}
    ).fit(X, y)
    assert "valid_ap" in capsys.readouterr().out


# --------------------------------------------------------------------------
# Sparse input
# --------------------------------------------------------------------------
@pytest.mark.parametrize("sparse_format", ["csr", "csc", "coo"])
@pytest.mark.parametrize("early_stopping", [False, True])
def test_sparse_input_trains_like_dense(binary_data, sparse_format, early_stopping):
    X, y = binary_data
    X = np.where(np.abs(X) > 1.0, X, 0.0)  # mostly zeros
    X_sparse = sp.csr_matrix(X).asformat(sparse_format)
    params = {"max_epochs": 3, "random_state": 0, "early_stopping": early_stopping}
    dense = FocalClassifier(**params).fit(X, y)
    sparse = FocalClassifier(**params).fit(X_sparse, y)
    np.testing.assert_array_equal(sparse.loss_curve_, dense.loss_curve_)
    np.testing.assert_allclose(
        sparse.predict_proba(X_sparse), dense.predict_proba(X), rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(sparse.predict(X_sparse), dense.predict(X))


def test_sparse_input_stays_sparse_on_the_device(binary_data):
    X, y = binary_data
    seen = []

    class RecordFeatures(Callback):
        def on_train_begin(self, net, X=None, **kwargs):
            seen.append(type(X.features))

    FocalClassifier(max_epochs=1, callbacks=[RecordFeatures()]).fit(sp.csr_matrix(X), y)
    assert seen == [SparseRows]


def test_sparse_one_hot_inside_column_transformer():
    rng = np.random.RandomState(0)
    n = 400
    frame = pd.DataFrame(
        {
            "amount": rng.lognormal(size=n),
            "merchant": rng.choice([f"m{i}" for i in range(60)], n),
        }
    )
    target = np.where(
        (frame["amount"] > 2) | frame["merchant"].isin(["m1", "m2"]), "fraud", "ok"
    )
    preprocess = ColumnTransformer(
        [
            ("numeric", StandardScaler(), ["amount"]),
            ("categorical", OneHotEncoder(handle_unknown="ignore"), ["merchant"]),
        ]
    )
    assert sp.issparse(preprocess.fit_transform(frame))
    model = make_pipeline(preprocess, FocalClassifier(max_epochs=3, random_state=0))
    model.fit(frame, target)
    proba = model.predict_proba(frame)
    assert proba.shape == (n, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    assert set(model.predict(frame)) <= {"fraud", "ok"}


def test_read_only_input_trains_without_a_torch_warning(binary_data):
    """Read-only arrays (pandas copy-on-write, memmaps) are shared, not warned on."""
    X, y = binary_data
    X = X.astype(np.float32)
    X.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = FocalClassifier(max_epochs=2, random_state=0).fit(X, y)
        proba = clf.predict_proba(X)
    writable = FocalClassifier(max_epochs=2, random_state=0).fit(X.copy(), y)
    np.testing.assert_array_equal(proba, writable.predict_proba(X))


def test_sparse_values_too_large_for_float32(binary_data):
    X, y = binary_data
    huge = sp.csr_matrix(X)
    huge.data[0] = 1e300
    with pytest.raises(ValueError, match=r"too large for float32"):
        FocalClassifier(max_epochs=1).fit(huge, y)


# --------------------------------------------------------------------------
# partial_fit, zero-weight batches, prediction memory
# --------------------------------------------------------------------------
def test_partial_fit_with_one_class_names_classes(binary_data):
    X, y = binary_data
    with pytest.raises(ValueError, match=r"only one class: 0\. .*classes=\["):
        FocalClassifier().partial_fit(X[y == 0], y[y == 0])


def test_batches_whose_weights_sum_to_zero_do_not_poison_training():
    X, y = make_classification(
        400, 4, n_informative=3, n_redundant=0, weights=[0.9], random_state=0
    )
    # alpha=1.0 gives class 0 the weight 0: most batches of 8 weigh nothing.
    clf = FocalClassifier(alpha=1.0, batch_size=8, random_state=0).fit(X, y)
    assert np.all(np.isfinite(clf.loss_curve_))
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert np.all(np.isfinite(clf.predict_proba(X)))
    weights = np.zeros(len(y))
    weights[:8] = 1.0  # whole batches of zero sample weight
    clf = FocalClassifier(batch_size=8, max_epochs=3, random_state=0)
    clf.fit(X, y, sample_weight=weights)
    assert np.all(np.isfinite(clf.loss_curve_))


@pytest.mark.parametrize(
    "method", ["predict_proba", "decision_function", "predict_log_proba"]
)
def test_prediction_memory_is_bounded_by_the_chunk(method):
    rng = np.random.RandomState(0)
    X = rng.randn(100_000, 20)  # 16 MB of float64
    y = (X[:, 0] > 1).astype(int)
    clf = FocalClassifier(max_epochs=1, random_state=0).fit(X[:500], y[:500])
    getattr(clf, method)(X[:10])  # warm-up: lazy imports and caches
    tracemalloc.start()
    try:
        result = getattr(clf, method)(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # Beyond the output itself, only chunk-sized buffers (2,048 rows): no
    # float32 copy of X (8 MB), no list of per-chunk outputs to concatenate.
    assert peak - result.nbytes < 1_000_000
    assert result.flags.owndata


# --------------------------------------------------------------------------
# Bad input: clear errors naming the parameter, the value, the expectation
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("estimator", "sample_weight", "error", "message"),
    [
        (FocalClassifier(device="meta"), None, ValueError, r"'device' .* got 'meta'"),
        (
            FocalClassifier(device=torch.device("meta")),
            None,
            ValueError,
            r"'device' parameter of FocalClassifier must be",
        ),
        (
            FocalClassifier(callbacks=["x"]),
            None,
            ValueError,
            r"'callbacks' parameter of FocalClassifier .* item 0 is 'x' \(str\)",
        ),
        (
            FocalClassifier(callbacks=[("name", object())]),
            None,
            ValueError,
            r"'callbacks' parameter .* item 0 is \('name', <object",
        ),
        (
            FocalClassifier(alpha=[0.0, 0.0]),
            None,
            ValueError,
            r"'alpha' class weights are all zero",
        ),
        (
            FocalClassifier(),
            "zeros",
            ValueError,
            r"(sample_weight sums to 0|Sample weights must contain at least one)",
        ),
    ],
    ids=[
        "meta-device",
        "meta-torch-device",
        "callback-string",
        "callback-tuple",
        "alpha-zero",
        "sample-weight-zero",
    ],
)
def test_bad_input_is_named(estimator, sample_weight, error, message, binary_data):
    X, y = binary_data
    weights = np.zeros(len(y)) if sample_weight == "zeros" else None
    with pytest.raises(error, match=message):
        estimator.set_params(max_epochs=1).fit(X, y, sample_weight=weights)


# --------------------------------------------------------------------------
# Defects found by a review pass (stop 19)
# --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def three_class_data():
    X, y = make_classification(
        n_samples=150,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    return X, np.array(["ant", "bee", "eel"])[y]


@pytest.mark.parametrize(
    ("estimator", "message"),
    [
        (FocalClassifier(alpha="balanced"), r"alpha='balanced' needs every class"),
        (ImbalancedMLPClassifier(loss="balanced_ce"), r"class weights of loss"),
        (ImbalancedMLPClassifier(loss="ldam"), r"loss 'ldam' \(built from the"),
        (ImbalancedMLPClassifier(loss="logit_adjusted"), r"class prior\) needs"),
    ],
)
def test_class_frequencies_of_an_absent_class_are_refused_by_label(
    three_class_data, estimator, message
):
    X, y = three_class_data
    first = y != "eel"
    with pytest.raises(ValueError, match=message + r".*first call.*\['eel'\]"):
        estimator.partial_fit(X[first], y[first], classes=["ant", "bee", "eel"])
    weights = np.where(y == "eel", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"\['eel'\] have no samples .*positive"):
        estimator.set_params(max_epochs=1).fit(X, y, sample_weight=weights)


def test_partial_fit_keeps_a_feature_constant_in_the_first_batch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 3))
    y = (X[:, 0] > 0.5).astype(int)
    X[:100, 0] = 0.0  # the only informative feature, constant in batch one
    clf = FocalClassifier(batch_size=25, lr=0.01, random_state=0)
    with pytest.warns(UserWarning, match=r"first batch, in which the features \[0\]"):
        clf.partial_fit(X[:100], y[:100], classes=[0, 1])
    assert clf.net_.module_.input_transform.scale.tolist()[0] == 1.0
    for start in list(range(100, 1000, 100)) * 5:
        clf.partial_fit(X[start : start + 100], y[start : start + 100])
    # Zeroed for good (scale 0), feature 0 left the model at chance level.
    assert (clf.predict(X[1000:]) == y[1000:]).mean() > 0.9


def test_a_validation_split_without_the_minority_is_refused_or_skipped():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = np.zeros(200, dtype=int)
    y[:4] = 1  # a 10% stratified split holds no positive
    with pytest.raises(ValueError, match=r"early_stopping=True needs every class"):
        FocalClassifier(early_stopping=True).fit(X, y)
    clf = FocalClassifier(threshold="auto", max_epochs=2, random_state=0)
    with pytest.warns(UserWarning, match=r"there is none .* prior rule"):
        clf.fit(X, y)
    # The tuned rule falls back instead of tuning on a split with no positive.
    assert clf.threshold_.value == clf.class_prior_[1]
    assert clf.n_iter_ == 2


def test_auto_early_stopping_is_skipped_when_the_split_lacks_a_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(10_000, 2)).astype(np.float32)
    y = np.zeros(10_000, dtype=int)
    y[:4] = 1
    clf = FocalClassifier(max_epochs=4, n_iter_no_change=1, random_state=0)
    with pytest.warns(UserWarning, match=r"classes \[1\] \(with \[4\] samples"):
        clf.fit(X, y)
    # Early stopping on a validation split with no positive saw only NaN
    # scores and stopped after its patience; now every epoch trains.
    assert clf.n_iter_ == 4
    assert clf.validation_scores_ is None
    y[1:4] = 0  # one positive: no stratified split can be drawn at all
    with pytest.warns(UserWarning, match=r"no stratified validation split"):
        clf.fit(X, y)
    assert clf.n_iter_ == 4


def test_explicit_class_weights_train_on_batches_that_lack_a_class(
    three_class_data,
):
    X, y = three_class_data
    clf = ImbalancedMLPClassifier(loss="ldam", drw=True, alpha=[1.0, 2.0, 3.0])
    clf.partial_fit(X, y)
    clf.partial_fit(X[y != "eel"], y[y != "eel"])  # the loss is not rebuilt
    FocalClassifier(alpha={"ant": 1.0, "bee": 2.0, "eel": 3.0}).partial_fit(
        X[y != "eel"], y[y != "eel"], classes=["ant", "bee", "eel"]
    )
    derived = ImbalancedMLPClassifier(loss="focal", drw=True).partial_fit(X, y)
    with pytest.raises(ValueError, match=r"drw .* every partial_fit batch.*'eel'"):
        derived.partial_fit(X[y != "eel"], y[y != "eel"])


class _FailAtSecondEpoch(Callback):
    def __init__(self, error):
        self.error = error

    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise self.error


def test_a_failed_refit_leaves_the_fitted_estimator_as_it_was(
    binary_data, three_class_data
):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=1, random_state=0).fit(X, y)
    before = clf.predict_proba(X[:5])
    X3, y3 = three_class_data
    with pytest.raises(ValueError, match=r"'threshold' parameter .* float"):
        clf.set_params(threshold=0.3).fit(X3, y3)
    assert clf.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), before)
    # The same when training itself fails, after the new network was built.
    failing = _FailAtSecondEpoch(FloatingPointError("diverged"))
    clf.set_params(threshold="prior", max_epochs=3, callbacks=[failing])
    with pytest.raises(FloatingPointError, match=r"diverged"):
        clf.fit(X3, y3)
    assert clf.classes_.tolist() == [0, 1]
    np.testing.assert_array_equal(clf.predict_proba(X[:5]), before)


def test_an_interrupted_refit_keeps_a_consistent_estimator(
    binary_data, three_class_data
):
    X, y = binary_data
    clf = FocalClassifier(max_epochs=1, random_state=0).fit(X, y)
    X3, y3 = three_class_data
    clf.set_params(max_epochs=5, callbacks=[_FailAtSecondEpoch(KeyboardInterrupt)])
    with pytest.raises(KeyboardInterrupt, match=r"after 2 of 5 epochs; .* keeps"):
        clf.fit(X3, y3)
    # What was trained is kept, with the decision rule of the new classes.
    assert clf.n_iter_ == 2
    assert clf.predict_proba(X3).shape == (len(y3), 3)
    assert set(clf.predict(X3)) <= {"ant", "bee", "eel"}


def test_warm_start_treats_equal_numbers_as_the_same_setting(binary_data):
    X, y = binary_data
    clf = FocalClassifier(
        max_epochs=1, warm_start=True, dropout=0.0, gamma=2.0, feature_scaling=True
    )
    clf.fit(X, y)
    criterion = clf.net_.criterion_
    clf.set_params(dropout=0, gamma=2, feature_scaling=np.True_).fit(X, y)
    assert clf.net_.criterion_ is criterion
    assert clf.n_iter_ == 2
    clf.set_params(feature_scaling=False)
    with pytest.raises(ValueError, match=r"parameters changed \(feature_scaling\)"):
        clf.fit(X, y)
