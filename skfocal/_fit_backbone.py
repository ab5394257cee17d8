"""The backbone parameters of the estimators, and what ``fit`` learns for them.

Four estimator parameters switch the ingredients of the tabular backbone
(:class:`skfocal._backbone.TabularMLP`): ``input_transform``, ``embedding``,
``ensemble_size`` and ``feature_scaling``; two switch the training:
``lr_schedule`` and ``validation_metric``. This module holds their defaults
and constraints (written once, read by every estimator's signature and
docstring), turns them into the network class and its arguments, and fits,
on the training split only, what the network needs from the data: the input
transform's statistics (:class:`skfocal._preprocessing.InputScaler`), which
features get an embedding (those with more than two distinct values) and
the bins of piecewise-linear embeddings
(:func:`skfocal._embeddings.compute_piecewise_bins`).

With ``input_transform="none"``, ``embedding="none"``,
``feature_scaling=False`` and ``ensemble_size=1`` (the defaults up to
version 0.1) the network is :class:`skfocal._module.MLP`, exactly as before
these parameters existed, so such a fit is bit-identical to one of 0.1.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils._param_validation import Interval, StrOptions
from torch import Tensor

from skfocal._backbone import TabularMLP
from skfocal._data import SparseRows
from skfocal._embeddings import DEFAULT_N_BINS, EMBEDDINGS, compute_piecewise_bins
from skfocal._module import MLP
from skfocal._net import LR_SCHEDULES, VALIDATION_METRICS
from skfocal._preprocessing import INPUT_TRANSFORMS, InputScaler

__all__ = [
    "BACKBONE_CONSTRAINTS",
    "BACKBONE_DEFAULTS",
    "PLAIN_BACKBONE",
    "backbone_module",
    "fit_input_statistics",
    "uses_backbone",
]

# The defaults of the six parameters, read by the estimators' signatures and
# docstrings: switching a default is a change here only. Chosen by the
# ablation in docs/performance.md (14 datasets of the default suite): robust
# scaling with smooth clipping plus periodic embeddings ranked first on
# average precision; feature scaling, TabM ensembles (k=8), RealMLP's width
# and the flat-then-cosine schedule did not add to it. Average precision as
# the validation metric chose better epochs and stopped sooner where early
# stopping is on (10,000 rows or more); on smaller tables early stopping on
# it lost average precision, so "auto" keeps early stopping off there.
DEFAULT_INPUT_TRANSFORM = "robust_smooth_clip"
DEFAULT_EMBEDDING = "periodic"
DEFAULT_FEATURE_SCALING = False
DEFAULT_ENSEMBLE_SIZE = 1
DEFAULT_LR_SCHEDULE = "constant"
DEFAULT_VALIDATION_METRIC = "average_precision"

BACKBONE_DEFAULTS: dict[str, Any] = {
    "input_transform": DEFAULT_INPUT_TRANSFORM,
    "embedding": DEFAULT_EMBEDDING,
    "feature_scaling": DEFAULT_FEATURE_SCALING,
    "ensemble_size": DEFAULT_ENSEMBLE_SIZE,
    "lr_schedule": DEFAULT_LR_SCHEDULE,
    "validation_metric": DEFAULT_VALIDATION_METRIC,
}

#: The six switches as version 0.1 had them: the plain MLP, a constant
#: learning rate, early stopping on the validation loss.
PLAIN_BACKBONE: dict[str, Any] = {
    "input_transform": "none",
    "embedding": "none",
    "feature_scaling": False,
    "ensemble_size": 1,
    "lr_schedule": "constant",
    "validation_metric": "loss",
}

BACKBONE_CONSTRAINTS: dict[str, list] = {
    "input_transform": [StrOptions(set(INPUT_TRANSFORMS))],
    "embedding": [StrOptions(set(EMBEDDINGS))],
    "feature_scaling": ["boolean"],
    "ensemble_size": [Interval(Integral, 1, None, closed="left")],
    "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
    "validation_metric": [StrOptions(set(VALIDATION_METRICS))],
}

# Rows of the training split that decide which features are embedded and that
# the piecewise-linear bins are computed on: compute_piecewise_bins' own
# subsample size (its docstring says why).
_BIN_ROWS = 65_536


def uses_backbone(params: dict) -> bool:
    """Whether any of the four network switches leaves its plain setting.

    The plain setting (no transform, no embedding, no feature scale, one
    member) is :class:`skfocal._module.MLP`; anything else is
    :class:`skfocal._backbone.TabularMLP`, whose biases, embeddings and
    feature scale are exempt from weight decay.

    Examples
    --------
    >>> from skfocal._fit_backbone import PLAIN_BACKBONE, uses_backbone
    >>> uses_backbone(PLAIN_BACKBONE)
    False
    >>> uses_backbone({**PLAIN_BACKBONE, "embedding": "periodic"})
    True
    """
    return (
        params["input_transform"] != "none"
        or params["embedding"] != "none"
        or bool(params["feature_scaling"])
        or int(params["ensemble_size"]) != 1
    )


def backbone_module(params: dict, architecture: dict) -> tuple[type, dict[str, Any]]:
    """The network class and its data-independent keyword arguments.

    Parameters
    ----------
    params : dict
        The estimator's parameters (``get_params(deep=False)``).
    architecture : dict
        ``n_features``, ``n_outputs``, ``hidden_layer_sizes``, ``activation``
        and ``dropout``: the arguments both network classes take.

    Returns
    -------
    module : type
        :class:`~skfocal._module.MLP` in the plain setting, else
        :class:`~skfocal._backbone.TabularMLP`.
    module_params : dict
        Its keyword arguments, without those learned from the data
        (:func:`fit_input_statistics`). A change of any of them between
        ``warm_start`` fits is a different network.

    Examples
    --------
    >>> from skfocal._fit_backbone import BACKBONE_DEFAULTS, backbone_module
    >>> module, kwargs = backbone_module(
    ...     {**BACKBONE_DEFAULTS, "ensemble_size": 8},
    ...     {"n_features": 3, "n_outputs": 1, "hidden_layer_sizes": (8,),
    ...      "activation": "relu", "dropout": 0.0})
    >>> module.__name__, kwargs["k"]
    ('TabularMLP', 8)
    """
    if not uses_backbone(params):
        return MLP, dict(architecture)
    return TabularMLP, {
        **architecture,
        "k": int(params["ensemble_size"]),
        "feature_scaling": bool(params["feature_scaling"]),
        "embedding": params["embedding"],
        "input_transform": params["input_transform"],
    }


def fit_input_statistics(
    module_params: dict,
    features: Tensor | SparseRows,
    seed: int,
    sample_weight: Tensor | None = None,
) -> dict[str, Any]:
    """What the network learns from the training rows before training.

    Parameters
    ----------
    module_params : dict
        From :func:`backbone_module`.
    features : torch.Tensor or SparseRows
        The training split's inputs, as the training dataset holds them (a
        view of them is read on the CPU; nothing of their size is copied
        there).
    seed : int
        Seeds the subsample of rows that decides which features are embedded
        and that the bins are computed on.
    sample_weight : torch.Tensor or None, default=None
        The training rows' weights: the input statistics weigh the rows in
        proportion (see :meth:`~skfocal._preprocessing.InputScaler.fit`);
        rows of weight 0 count for nothing, also in deciding which features
        are embedded and in the bins (otherwise unweighted). With fewer than
        two rows of positive weight the weights are ignored.

    Returns
    -------
    dict
        ``input_center`` and ``input_scale`` (an
        :class:`~skfocal._preprocessing.InputScaler` fitted on the rows) when
        there is an input transform; ``embedded_features`` with any
        embedding: the features with more than two distinct values in (up to
        65,536 of) the training rows, indicator columns (one-hot categories,
        flags) entering the network unembedded (absent, so every feature is
        embedded, when fewer than two rows count); ``bins`` (per embedded
        feature, computed on the same rows, transformed) for piecewise-linear
        embeddings. Empty for the plain network.

    Examples
    --------
    >>> import torch
    >>> from skfocal._fit_backbone import fit_input_statistics
    >>> stats = fit_input_statistics(
    ...     {"input_transform": "standard", "embedding": "none"},
    ...     torch.tensor([[0.0], [2.0]]), seed=0)
    >>> stats["input_center"].tolist(), stats["input_scale"].tolist()
    ([1.0], [1.0])
    """
    kind = module_params.get("input_transform", "none")
    embedding = module_params.get("embedding", "none")
    if kind == "none" and embedding == "none":
        return {}
    rows = _host_matrix(features)
    weights = candidates = None
    if sample_weight is not None:
        weights = sample_weight.detach().cpu().numpy().astype(np.float64)
        counted = np.flatnonzero(weights > 0)
        if len(counted) < 2:
            # Too few rows count to weigh anything (a small training split):
            # the statistics of all its rows rather than of one or none.
            weights = None
        elif len(counted) < len(weights):
            candidates = counted
    scaler = InputScaler(kind).fit(rows, sample_weight=weights)
    statistics: dict[str, Any] = {}
    if kind != "none":
        statistics["input_center"] = scaler.center_
        statistics["input_scale"] = scaler.scale_
    if embedding == "none":
        return statistics
    sample = _row_sample(rows, seed, candidates)
    if sample.shape[0] < 2:
        if embedding == "piecewise_linear":
            raise ValueError(
                "embedding='piecewise_linear' computes its bins from the "
                f"training rows and needs at least 2 of them; got {sample.shape[0]}."
            )
        # Nothing to tell indicators from numeric features by: embed all.
        return statistics
    embedded = np.flatnonzero(~_two_valued_columns(sample)).tolist()
    statistics["embedded_features"] = embedded
    if embedding == "piecewise_linear" and embedded:
        transformed = scaler.transform(sample)
        if sp.issparse(transformed):
            transformed = transformed.toarray()
        statistics["bins"] = compute_piecewise_bins(
            transformed[:, embedded], n_bins=DEFAULT_N_BINS, max_rows=None
        )
    return statistics


def _host_matrix(features: Tensor | SparseRows) -> np.ndarray | sp.csr_matrix:
    """The features as numpy (or scipy CSR) arrays: views on the CPU."""
    if isinstance(features, SparseRows):
        return sp.csr_matrix(
            (
                features.values.cpu().numpy(),
                features.columns.cpu().numpy(),
                features.row_pointers.cpu().numpy(),
            ),
            shape=features.shape,
        )
    return features.detach().cpu().numpy()


def _row_sample(
    rows: np.ndarray | sp.csr_matrix, seed: int, candidates: np.ndarray | None = None
) -> np.ndarray | sp.csr_matrix:
    """Up to ``_BIN_ROWS`` of the ``candidates`` rows (default all), at random.

    In their order; all of them (a view when every row is a candidate) when
    there are no more than ``_BIN_ROWS``.
    """
    if candidates is None:
        if rows.shape[0] <= _BIN_ROWS:
            return rows
        candidates = np.arange(rows.shape[0])
    if len(candidates) > _BIN_ROWS:
        rng = np.random.default_rng(seed)
        candidates = np.sort(rng.choice(candidates, size=_BIN_ROWS, replace=False))
    return rows[candidates]


def _two_valued_columns(rows: np.ndarray | sp.csr_matrix) -> np.ndarray:
    """Which columns hold at most two distinct values (indicators, flags).

    Sparse rows are read through their stored values, never densified: a
    column is two-valued when every stored value is its minimum or maximum
    and, if it has implicit zeros, 0 is one of the two.
    """
    if not sp.issparse(rows):
        low, high = rows.min(axis=0), rows.max(axis=0)
        return ((rows == low) | (rows == high)).all(axis=0)
    csr = sp.csr_matrix(rows)
    low = csr.min(axis=0).toarray().ravel()
    high = csr.max(axis=0).toarray().ravel()
    columns = csr.indices
    other = (csr.data != low[columns]) & (csr.data != high[columns])
    n_columns = csr.shape[1]
    has_other = np.bincount(columns[other], minlength=n_columns) > 0
    has_implicit_zero = np.bincount(columns, minlength=n_columns) < csr.shape[0]
    zero_is_extreme = (low == 0) | (high == 0)
    return ~has_other & (~has_implicit_zero | zero_is_extreme)
