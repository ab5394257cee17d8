"""The numeric-input transform (InputScaler) against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import scipy.stats
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from skfocal import _preprocessing
from skfocal._preprocessing import INPUT_TRANSFORMS, InputScaler


def _expected_robust(train: np.ndarray, test: np.ndarray) -> np.ndarray:
    """RealMLP's transform written from scipy's IQR and a sort-based median."""
    ordered = np.sort(train, axis=0)
    n = len(train)
    median = 0.5 * (ordered[(n - 1) // 2] + ordered[n // 2])
    iqr = scipy.stats.iqr(train, axis=0)
    half_range = 0.5 * np.ptp(train, axis=0)
    width = np.where(iqr != 0, iqr, half_range)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = np.where(width != 0, (test - median) / width, 0.0)
    return scaled / np.sqrt(1.0 + (scaled / 3.0) ** 2)


@pytest.fixture
def table() -> np.ndarray:
    rng = np.random.default_rng(0)
    n = 401
    return np.column_stack(
        [
            rng.lognormal(size=n),  # skewed
            rng.standard_t(2, size=n) * 1e4,  # heavy tails, large scale
            (rng.random(n) < 0.1).astype(float),  # one-hot, IQR 0
            np.full(n, 3.5),  # constant
            rng.integers(0, 4, size=n).astype(float),
        ]
    )


def _expected_failed_checks(estimator) -> dict[str, str]:
    if estimator.kind != "robust_smooth_clip":
        return {}
    reason = (
        "weighted quantiles weigh rows in proportion (so that normalised "
        "weights give the statistics of the counts they stand for), which "
        "equals repetition only up to interpolation within one row"
    )
    return {
        "check_sample_weight_equivalence_on_dense_data": reason,
        "check_sample_weight_equivalence_on_sparse_data": reason,
    }


@parametrize_with_checks(
    [InputScaler(kind=kind) for kind in INPUT_TRANSFORMS],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_robust_smooth_clip_matches_independent_computation(table):
    rng = np.random.default_rng(1)
    test = table[rng.permutation(len(table))[:50]] * 1.7 + 0.3  # unseen values
    scaler = InputScaler().fit(table)
    got = scaler.transform(test)
    assert got.dtype == np.float32
    assert got.flags.c_contiguous
    np.testing.assert_allclose(got, _expected_robust(table, test), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        scaler.fit_transform(table), _expected_robust(table, table), atol=1e-6
    )


def test_zero_iqr_and_constant_columns(table):
    transformed = InputScaler().fit_transform(table)
    # The one-hot column (median 0, IQR 0) is scaled by half its range, 0.5:
    # its ones become 2, smoothly clipped to 2 / sqrt(1 + 4 / 9).
    ones = table[:, 2] == 1
    np.testing.assert_allclose(transformed[ones, 2], 2 / np.sqrt(1 + 4 / 9), rtol=1e-6)
    np.testing.assert_array_equal(transformed[~ones, 2], 0.0)
    # A constant column stays 0, also for values never seen in training.
    scaler = InputScaler().fit(table)
    changed = table.copy()
    changed[:, 3] = np.linspace(-1e6, 1e6, len(table))
    np.testing.assert_array_equal(scaler.transform(changed)[:, 3], 0.0)
    np.testing.assert_array_equal(scaler.scale_[3], 0.0)


def test_standard_matches_zscore(table):
    got = InputScaler(kind="standard").fit_transform(table)
    varying = [0, 1, 2, 4]
    np.testing.assert_allclose(
        got[:, varying], scipy.stats.zscore(table[:, varying], axis=0), rtol=1e-5
    )
    np.testing.assert_array_equal(got[:, 3], 0.0)  # centred, not divided by 0


def test_none_only_casts(table):
    got = InputScaler(kind="none").fit_transform(table)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, table.astype(np.float32))


@pytest.mark.parametrize("kind", INPUT_TRANSFORMS)
def test_output_is_finite_float32_for_extreme_values(kind):
    X = np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0], [3.0, 4.0]])
    scaler = InputScaler(kind=kind).fit(X)
    extreme = np.array([[1e300, -1e300], [-1e30, 1e30]])
    got = scaler.transform(extreme)
    assert got.dtype == np.float32
    assert np.isfinite(got).all()
    if kind == "robust_smooth_clip":
        # Huge values saturate at +-3 (a naive (x / 3) ** 2 overflows to inf
        # and sends them to 0).
        np.testing.assert_allclose(np.abs(got), 3.0, rtol=1e-6)
        np.testing.assert_array_equal(np.sign(got), np.sign(extreme))


def test_chunked_transform_equals_one_pass(table, monkeypatch):
    expected = InputScaler().fit(table).transform(table)
    monkeypatch.setattr(_preprocessing, "_CHUNK_ROWS", 7)
    np.testing.assert_array_equal(InputScaler().fit(table).transform(table), expected)


@pytest.mark.parametrize("kind", INPUT_TRANSFORMS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_is_scaled_without_centring(table, kind, fmt):
    dense = table.copy()
    dense[dense[:, 0] < 1.0, 0] = 0.0  # a sparse-ish column
    sparse = sp.csr_matrix(dense).asformat(fmt)
    got = InputScaler(kind=kind).fit_transform(sparse)
    assert sp.issparse(got)
    assert got.format == "csr"
    assert got.dtype == np.float32
    if kind == "none":
        expected = dense
    elif kind == "standard":
        std = dense.std(axis=0)
        expected = dense / np.where(std > 0, std, 1.0)
    else:
        iqr = scipy.stats.iqr(dense, axis=0)
        width = np.where(iqr != 0, iqr, 0.5 * np.ptp(dense, axis=0))
        with np.errstate(divide="ignore"):
            scaled = np.where(width != 0, dense / width, 0.0)
        expected = scaled / np.sqrt(1.0 + (scaled / 3.0) ** 2)
    np.testing.assert_allclose(got.toarray(), expected, rtol=1e-5, atol=1e-6)


def test_fitted_on_training_data_only(table):
    train, test = table[:200], table[200:] + 1000.0
    scaler = InputScaler().fit(train)
    statistics = (scaler.center_.copy(), scaler.scale_.copy())
    scaler.transform(test)
    np.testing.assert_array_equal(scaler.center_, statistics[0])
    np.testing.assert_array_equal(scaler.scale_, statistics[1])
    np.testing.assert_allclose(
        scaler.transform(test), _expected_robust(train, test), atol=1e-6
    )


def test_pandas_feature_names(table):
    frame = pd.DataFrame(table, columns=[f"f{i}" for i in range(table.shape[1])])
    scaler = InputScaler().fit(frame)
    assert list(scaler.feature_names_in_) == list(frame.columns)
    assert list(scaler.get_feature_names_out()) == list(frame.columns)


def test_bad_input_is_a_clear_error(table):
    with pytest.raises(InvalidParameterError, match="'kind' parameter of InputScaler"):
        InputScaler(kind="quantile").fit(table)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        InputScaler().fit(np.array([[0.0], [np.nan]]))
    scaler = InputScaler().fit(table)
    with pytest.raises(ValueError, match="X has 2 features, but InputScaler"):
        scaler.transform(table[:, :2])


@pytest.mark.parametrize("quantile", [0.0, 0.1, 0.25, 0.5, 0.75, 0.99, 1.0])
def test_weighted_quantiles_equal_weights_and_scale(quantile):
    """Equal weights give np.quantile; only the weights' proportions matter."""
    rng = np.random.default_rng(1)
    values = rng.normal(size=31).round(1)  # ties included
    expected = np.quantile(values, quantile)
    for weight in (1.0, 0.01, 1.0 / 31, 7.0):
        got = _preprocessing.weighted_quantiles(values, np.full(31, weight), [quantile])
        np.testing.assert_allclose(got, [expected], rtol=0, atol=1e-12)
    weights = rng.integers(1, 5, size=31).astype(float)
    reference = _preprocessing.weighted_quantiles(values, weights, [quantile])
    for factor in (1e-3, 1.0 / weights.sum(), 3.0):
        scaled = _preprocessing.weighted_quantiles(values, weights * factor, [quantile])
        np.testing.assert_allclose(scaled, reference, rtol=0, atol=1e-12)


@pytest.mark.parametrize("quantile", [0.1, 0.25, 0.5, 0.75, 0.9])
def test_weighted_quantiles_approach_those_of_repeated_rows(quantile):
    """Integer weights: within one distinct value of the repeated rows' quantile."""
    rng = np.random.default_rng(3)
    values = rng.permutation(2000).astype(float)  # distinct, evenly spaced
    weights = rng.integers(1, 4, size=2000)
    repeated = np.repeat(values, weights)
    expected = np.quantile(repeated, quantile)
    got = _preprocessing.weighted_quantiles(values, weights.astype(float), [quantile])
    # Positions differ by less than one row's weight: values are 1 apart.
    assert abs(got[0] - expected) <= weights.max()


@pytest.mark.parametrize("kind", ["standard", "robust_smooth_clip"])
@pytest.mark.parametrize("sparse", [False, True])
def test_sample_weight_zero_drops_rows_and_scale_does_not_matter(table, kind, sparse):
    rng = np.random.default_rng(2)
    weights = (rng.random(len(table)) < 0.7).astype(float)
    X = sp.csr_matrix(table) if sparse else table
    kept = table[weights > 0]
    weighted = InputScaler(kind).fit(X, sample_weight=weights)
    subset = InputScaler(kind).fit(sp.csr_matrix(kept) if sparse else kept)
    np.testing.assert_allclose(weighted.center_, subset.center_, rtol=1e-10)
    np.testing.assert_allclose(weighted.scale_, subset.scale_, rtol=1e-10)
    # Weights that sum to 1 (normalised) give the same statistics.
    normalised = InputScaler(kind).fit(X, sample_weight=weights / weights.sum())
    np.testing.assert_allclose(normalised.center_, subset.center_, rtol=1e-10)
    np.testing.assert_allclose(normalised.scale_, subset.scale_, rtol=1e-10)
    unit = InputScaler(kind).fit(X, sample_weight=np.ones(len(table)))
    plain = InputScaler(kind).fit(X)
    np.testing.assert_allclose(unit.scale_, plain.scale_, rtol=1e-12)


def test_negative_or_all_zero_sample_weight_is_refused(table):
    with pytest.raises(ValueError, match=r"Negative values in data passed to"):
        InputScaler().fit(table, sample_weight=-np.ones(len(table)))
    # scikit-learn >= 1.7 says so itself; older versions reach skfocal's check.
    with pytest.raises(ValueError, match=r"non-zero number|sample_weight sums to 0"):
        InputScaler().fit(table, sample_weight=np.zeros(len(table)))
