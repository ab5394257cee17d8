"""The numeric-input transform of the tabular backbone (numpy and scikit-learn).

Fitted on the training data only, inside the estimator's ``fit``, so that
cross-validation never sees test statistics.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from skfocal._checks import checked_sample_weight

__all__ = ["INPUT_TRANSFORMS", "InputScaler", "smooth_clip", "weighted_quantiles"]

INPUT_TRANSFORMS = ("none", "standard", "robust_smooth_clip")

# RealMLP's smooth clipping maps the real line onto (-3, 3).
SMOOTH_CLIP_BOUND = 3.0

# Rows transformed at a time: the float64 scratch space stays at a few MB
# whatever the table's size, so transforming costs one float32 copy of X.
_CHUNK_ROWS = 16_384
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_SAFE_MAGNITUDE = 1e100


def smooth_clip(values: np.ndarray) -> np.ndarray:
    """RealMLP's smooth clipping ``x / sqrt(1 + (x / 3) ** 2)``, in place.

    Values are first limited to +-1e100, which clip to 3 all the same, so
    that ``(x / 3) ** 2`` cannot overflow to infinity (which would map huge
    values to 0). Twice as fast as the overflow-free ``np.hypot`` form.

    Parameters
    ----------
    values : ndarray of float64
        Robustly scaled values; overwritten.

    Returns
    -------
    ndarray
        ``values``, clipped smoothly into (-3, 3).

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._preprocessing import smooth_clip
    >>> smooth_clip(np.array([0.0, 3.0, 1e300])).round(4).tolist()
    [0.0, 2.1213, 3.0]
    """
    np.clip(values, -_SAFE_MAGNITUDE, _SAFE_MAGNITUDE, out=values)
    denominator = values / SMOOTH_CLIP_BOUND
    denominator *= denominator
    denominator += 1.0
    values /= np.sqrt(denominator, out=denominator)
    return values


class InputScaler(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Scale numeric inputs for a neural network; float32 out.

    Parameters
    ----------
    kind : {"none", "standard", "robust_smooth_clip"}, default="robust_smooth_clip"
        ``"none"``: only the cast to float32. ``"standard"``: subtract the
        mean, divide by the standard deviation (constant columns are only
        centred, as scikit-learn's ``StandardScaler`` does).
        ``"robust_smooth_clip"``: RealMLP's transform (Holzmüller et al.
        2024), ``x_s = (x - median) / IQR`` then
        ``x_s / sqrt(1 + (x_s / 3) ** 2)``. Columns whose interquartile range
        is 0 (a one-hot column with few ones, a mostly-constant column) are
        scaled by half their range, ``(max - min) / 2``, instead, and constant
        columns map to 0, both as pytabkit's ``RobustScaleSmoothClipTransform``
        does.

    Attributes
    ----------
    center_ : ndarray of shape (n_features,)
        Value subtracted from each column (0 for sparse input and ``"none"``).
    scale_ : ndarray of shape (n_features,)
        Factor each centred column is multiplied by (0 for a constant column
        under ``"robust_smooth_clip"``).
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` had string column names.

    Notes
    -----
    Sparse input is accepted and stays sparse: it is scaled without
    centring (centring would fill in every zero). The robust statistics are
    computed on all values, zeros included, and smooth clipping keeps zeros
    at zero. NaN and infinite inputs are rejected.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._preprocessing import InputScaler
    >>> X = np.array([[-1.0, 7.0], [0.0, 7.0], [1.0, 7.0], [2.0, 7.0], [90.0, 7.0]])
    >>> InputScaler().fit_transform(X).round(3)
    array([[-0.949,  0.   ],
           [-0.493,  0.   ],
           [ 0.   ,  0.   ],
           [ 0.493,  0.   ],
           [ 2.993,  0.   ]], dtype=float32)
    """

    _parameter_constraints: ClassVar[dict] = {
        "kind": [StrOptions(set(INPUT_TRANSFORMS))]
    }

    def __init__(self, kind: str = "robust_smooth_clip") -> None:
        self.kind = kind

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # float32 out whatever comes in: what torch trains on.
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None) -> InputScaler:
        """Learn the per-column centre and scale from training data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training inputs, finite.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            Non-negative weights; only their proportions matter. The mean and
            variance are weighted (those of the rows repeated, for integer
            weights); the quantiles are interpolated linearly over positions
            in proportion to the weights (:func:`weighted_quantiles`), equal
            to the unweighted ones for equal weights. Rows of weight 0 do not
            count.

        Returns
        -------
        self : InputScaler
        """
        X = validate_data(
            self, X, accept_sparse=("csr", "csc"), dtype=(np.float64, np.float32)
        )
        if sample_weight is not None:
            sample_weight = checked_sample_weight(sample_weight, X)
            # Only proportions matter: a mean of 1 over the rows that count.
            sample_weight = sample_weight / sample_weight[sample_weight > 0].mean()
        n_features = X.shape[1]
        center = np.zeros(n_features)
        scale = np.ones(n_features)
        if self.kind == "standard":
            # scikit-learn's scaler: numerically careful variances, and
            # (near-)constant columns are only centred, not divided by ~0.
            # Rounding can leave a constant column a variance of -1e-17
            # under weights; scikit-learn masks constant columns, but warns
            # about the square root first.
            with np.errstate(invalid="ignore"):
                standard = StandardScaler(with_mean=not sp.issparse(X)).fit(
                    X, sample_weight=sample_weight
                )
            if standard.mean_ is not None and not sp.issparse(X):
                center = standard.mean_.astype(np.float64)
            scale = 1.0 / standard.scale_.astype(np.float64)
        elif self.kind == "robust_smooth_clip":
            low, median, high, spread = _quantile_statistics(X, sample_weight)
            if not sp.issparse(X):
                center = median
            iqr = high - low
            # pytabkit's rule: where the IQR is 0, scale by half the range;
            # where that is 0 too (a constant column), multiply by 0 so that
            # the column stays constant (0) on any later data.
            iqr = np.where(iqr > 0, iqr, 0.5 * spread)
            scale = np.zeros(n_features)
            np.divide(1.0, iqr, out=scale, where=iqr > 0)
        self.center_ = center
        self.scale_ = scale
        return self

    def transform(self, X) -> np.ndarray | sp.spmatrix:
        """Scale ``X`` with the statistics learned in ``fit``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Inputs, finite.

        Returns
        -------
        ndarray of float32, or CSR matrix of float32 for sparse input
            The transformed inputs.
        """
        check_is_fitted(self)
        X = validate_data(
            self,
            X,
            accept_sparse=("csr", "csc"),
            dtype=(np.float64, np.float32),
            reset=False,
        )
        if sp.issparse(X):
            return self._transform_sparse(X)
        if self.kind == "none" and X.dtype == np.float32:
            return np.ascontiguousarray(X)
        out = np.empty(X.shape, dtype=np.float32)
        for start in range(0, X.shape[0], _CHUNK_ROWS):
            rows = slice(start, start + _CHUNK_ROWS)
            out[rows] = self._scale(X[rows].astype(np.float64))
        return out

    def _scale(self, values: np.ndarray) -> np.ndarray:
        """Centre, scale and clip float64 values in place, ready for float32."""
        if self.kind != "none":
            values -= self.center_
            values *= self.scale_
        if self.kind == "robust_smooth_clip":
            return smooth_clip(values)
        # Beyond float32's range the cast would give inf, and the network NaN.
        return np.clip(values, -_FLOAT32_MAX, _FLOAT32_MAX, out=values)

    def _transform_sparse(self, X: sp.spmatrix) -> sp.csr_matrix:
        out = sp.csr_matrix(X, dtype=np.float64, copy=True)
        # No centring: the centre is 0 for sparse input, so only the stored
        # values change, each by its own column's factor.
        scale = self.scale_[out.indices]
        out.data *= scale
        if self.kind == "robust_smooth_clip":
            smooth_clip(out.data)
        else:
            np.clip(out.data, -_FLOAT32_MAX, _FLOAT32_MAX, out=out.data)
        out.eliminate_zeros()
        return out.astype(np.float32)


def _quantile_statistics(
    X: np.ndarray | sp.spmatrix, sample_weight: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column: 25% quantile, median, 75% quantile, and max - min.

    One column at a time: ``np.quantile`` copies what it partitions, and a
    copy of one column (not of the whole table) keeps the peak memory of
    ``fit`` at 1M rows far below the size of ``X``. Sparse columns are
    made dense one by one, so implicit zeros count. With ``sample_weight``,
    rows of weight 0 are left out and the others count as repeated
    (:func:`weighted_quantiles`).
    """
    # Rows of weight 0 do not count: dense columns are read at the others
    # (one column at a time, no copy of X); sparse rows are subset (a copy of
    # their stored values only).
    kept = None
    if sample_weight is not None and not np.all(sample_weight > 0):
        kept = np.flatnonzero(sample_weight > 0)
        sample_weight = sample_weight[kept]
        if sp.issparse(X):
            X, kept = X[kept], None
    if sp.issparse(X):
        X = sp.csc_matrix(X)
    statistics = np.zeros((4, X.shape[1]))
    column = np.zeros(X.shape[0] if kept is None else len(kept))
    for index in range(X.shape[1]):
        if sp.issparse(X):
            column[:] = 0.0
            start, stop = X.indptr[index], X.indptr[index + 1]
            column[X.indices[start:stop]] = X.data[start:stop]
        elif kept is None:
            column[:] = X[:, index]
        else:
            column[:] = X[kept, index]
        if sample_weight is None:
            statistics[:3, index] = np.quantile(column, [0.25, 0.5, 0.75])
        else:
            statistics[:3, index] = weighted_quantiles(
                column, sample_weight, [0.25, 0.5, 0.75]
            )
        statistics[3, index] = column.max() - column.min()
    low, median, high, spread = statistics
    return low, median, high, spread


def weighted_quantiles(
    values: np.ndarray, weights: np.ndarray, quantiles: list[float]
) -> np.ndarray:
    """Linearly interpolated quantiles of values weighted in proportion.

    The weights are rescaled to a mean of 1, so that only their proportions
    matter (weights summing to 1 give the same quantiles as the counts they
    stand for). Then each row counts its weight in positions of the sorted
    values, and the quantile is read at position ``(n - 1) q`` as
    ``np.quantile`` (linear interpolation) reads it: with equal weights the
    result is ``np.quantile(values, quantiles)``, and with integer weights
    it is close to the quantiles of the rows repeated (exactly equal would
    make the result depend on the weights' scale). numpy's own weighted
    quantiles (``method="inverted_cdf"``) do not interpolate, so with equal
    weights they would differ from the unweighted statistics.

    Parameters
    ----------
    values : ndarray of shape (n,)
    weights : ndarray of shape (n,)
        Positive.
    quantiles : list of float
        In [0, 1].

    Returns
    -------
    ndarray of shape (len(quantiles),)

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._preprocessing import weighted_quantiles
    >>> values = np.array([3.0, 1.0, 2.0, 4.0])
    >>> weighted_quantiles(values, np.full(4, 0.25), [0.0, 0.5, 1.0])
    array([1. , 2.5, 4. ])
    >>> weighted_quantiles(values, np.array([1.0, 1.0, 1.0, 5.0]), [0.5])
    array([3.5])
    """
    quantiles = np.asarray(quantiles, dtype=np.float64)
    if np.all(weights == weights[0]):
        return np.quantile(values, quantiles)
    n_values = len(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    cumulative = np.cumsum(weights[order])
    cumulative *= n_values / cumulative[-1]
    position = (n_values - 1) * quantiles
    below = np.floor(position)
    # The value at position p is the first whose cumulative weight exceeds p;
    # the tolerance keeps a cumulative weight that rounding put a hair above
    # p from claiming position p.
    tolerance = 1e-9 * n_values
    last = n_values - 1
    low = ordered[
        np.minimum(np.searchsorted(cumulative, below + tolerance, side="right"), last)
    ]
    high = ordered[
        np.minimum(
            np.searchsorted(cumulative, below + 1.0 + tolerance, side="right"), last
        )
    ]
    return low + (position - below) * (high - low)
