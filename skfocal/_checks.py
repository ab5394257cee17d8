"""Input checks of the estimators: features, targets, device (no skorch).

Errors name the parameter, the value received and what was expected.
"""

from __future__ import annotations

import warnings
from numbers import Integral

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "checked_sample_weight",
    "column_or_1d_target",
    "float32_rows",
    "hidden_layer_sizes",
    "resolve_device",
    "validate_features",
]

_DEVICE_TYPES = ("cpu", "cuda", "mps")


def checked_sample_weight(sample_weight, X) -> np.ndarray:
    """``sample_weight`` for the rows of ``X``: float64, non-negative, not all 0.

    scikit-learn's own check, plus the all-zero case that scikit-learn
    only refuses from version 1.7.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._checks import checked_sample_weight
    >>> checked_sample_weight([1, 0, 2], np.zeros((3, 2)))
    array([1., 0., 2.])
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not np.any(sample_weight > 0):
        raise ValueError(
            "sample_weight sums to 0: every sample has weight 0, so nothing "
            "would be learned."
        )
    return sample_weight


def resolve_device(device: str | torch.device, owner: str) -> str:
    """Map ``device`` to a torch device string, or raise a clear ValueError.

    ``"auto"`` picks CUDA, then MPS, then the CPU.

    Examples
    --------
    >>> from skfocal._checks import resolve_device
    >>> resolve_device("cpu", "FocalClassifier")
    'cpu'
    """
    if isinstance(device, str) and device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    expected = "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"The 'device' parameter of {owner} must be {expected}; got "
            f"{device!r} instead."
        ) from exc
    if resolved.type not in _DEVICE_TYPES:
        raise ValueError(
            f"The 'device' parameter of {owner} must be {expected}; got "
            f"{device!r} instead (torch knows {resolved.type!r} devices, but "
            "they cannot train a network)."
        )
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine. Use device='auto' to fall back to the CPU."
        )
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested but only "
            f"{torch.cuda.device_count()} CUDA device(s) exist."
        )
    if resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but MPS is not available on "
                "this machine. Use device='auto' to fall back to the CPU."
            )
    return str(resolved)


def hidden_layer_sizes(sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints, or a clear error.

    Examples
    --------
    >>> from skfocal._checks import hidden_layer_sizes
    >>> hidden_layer_sizes(32)
    (32,)
    """
    given = sizes
    if isinstance(sizes, Integral):
        sizes = (sizes,)
    sizes = tuple(sizes)
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ValueError(
            "The 'hidden_layer_sizes' parameter must be a sequence of "
            f"positive integers; got {given!r} instead."
        )
    return tuple(int(s) for s in sizes)


def _too_large() -> ValueError:
    return ValueError(
        "Input X holds values too large for float32 (the precision the "
        "network computes in); scale the features first, e.g. with "
        "StandardScaler."
    )


def _as_float32(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.float32:
        # validate_data has already rejected NaN and inf.
        return values
    with np.errstate(over="ignore"):  # overflow is reported just below
        converted = values.astype(np.float32)
    if not np.all(np.isfinite(converted)):
        raise _too_large()
    return converted


def validate_features(estimator, X, *, reset: bool, training: bool):
    """Check ``X`` as :func:`sklearn.utils.validation.validate_data` does.

    Dense or sparse (CSR/CSC; other sparse formats become CSR) numbers,
    finite. For training the result is float32 (the network's precision);
    sparse input is always float32 CSR. For prediction dense input keeps
    its dtype: :func:`float32_rows` converts one chunk at a time, so no
    float32 copy of all of X is made.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from skfocal._checks import validate_features
    >>> validate_features(BaseEstimator(), np.ones((2, 3)), reset=True,
    ...                   training=True).dtype
    dtype('float32')
    """
    X = validate_data(
        estimator,
        X,
        reset=reset,
        accept_sparse=("csr", "csc"),
        dtype=(np.float32, np.float64),
        ensure_min_samples=1,
    )
    if sp.issparse(X):
        X = X.tocsr()
        if X.dtype != np.float32:
            with np.errstate(over="ignore"):  # overflow is reported just below
                X = X.astype(np.float32)
            if not np.all(np.isfinite(X.data)):
                raise _too_large()
        return X
    return _as_float32(X) if training else X


def float32_rows(X, start: int, stop: int, out: np.ndarray) -> np.ndarray:
    """Rows ``start:stop`` of dense or sparse ``X`` as float32, into ``out``.

    ``out`` is a reusable ``(chunk, n_features)`` float32 buffer; the
    returned array is its first ``stop - start`` rows.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._checks import float32_rows
    >>> float32_rows(np.eye(3), 1, 3, np.empty((2, 3), np.float32))
    array([[0., 1., 0.],
           [0., 0., 1.]], dtype=float32)
    """
    block = out[: stop - start]
    rows = X[start:stop]
    if sp.issparse(rows):
        rows = rows.toarray()
    with np.errstate(over="ignore"):  # overflow is reported just below
        np.copyto(block, rows, casting="unsafe")
    if rows.dtype != np.float32 and not np.all(np.isfinite(block)):
        raise _too_large()
    return block


def column_or_1d_target(y) -> np.ndarray:
    """``y`` as a 1-d array of labels, or a clear error.

    Examples
    --------
    >>> from skfocal._checks import column_or_1d_target
    >>> column_or_1d_target(["a", "b"])
    array(['a', 'b'], dtype='<U1')
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        return y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-dimensional (one label per sample); got shape {y.shape}. "
            "Multi-output and multi-label targets are not supported."
        )
    if type_of_target(y) == "unknown":
        raise ValueError("Unknown label type: y could not be read as class labels.")
    return y
