"""Argument checks, target handling and the weighted-mean reduction.

Shared by every loss of :mod:`skfocal.losses`. Errors name the parameter, the
value received and what was expected.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Literal

import torch
from torch import Tensor

Reduction = Literal["none", "mean", "sum"]
AlphaLike = float | Sequence[float] | Tensor | None

_REDUCTIONS = ("none", "mean", "sum")


def _is_real(value: object) -> bool:
    """A real number that is not a bool (``True`` is an ``int`` in Python)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {_REDUCTIONS}; got {reduction!r} instead."
        )


def _check_real(
    name: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> None:
    """Check that a named parameter is a finite real number in an interval.

    ``low``/``high`` of ``None`` leave that side unbounded; ``*_open`` makes
    the bound strict. The message states the interval as the user would.
    """
    inside = _is_real(value) and math.isfinite(value)
    if inside and low is not None:
        inside = value > low if low_open else value >= low
    if inside and high is not None:
        inside = value < high if high_open else value <= high
    if inside:
        return
    if low is not None and high is not None:
        expected = (
            f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        )
    elif low is not None:
        expected = f"{'>' if low_open else '>='} {low:g}"
    elif high is not None:
        expected = f"{'<' if high_open else '<='} {high:g}"
    else:
        expected = "(not NaN or infinite)"
    raise ValueError(
        f"{name} must be a finite real number {expected}; got {value!r} instead."
    )


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, Integral) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1; got {bins!r} instead.")


def _check_momentum(momentum: float) -> None:
    if not _is_real(momentum) or not 0 <= momentum < 1:
        raise ValueError(
            f"momentum must be a real number in [0, 1); got {momentum!r} instead."
        )


def _positive_class_vector(name: str, values: Sequence[float] | Tensor) -> Tensor:
    """A 1-D float64 CPU copy of per-class values that must be finite and > 0."""
    try:
        vector = torch.as_tensor(values, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{name} must be a 1-D sequence of positive numbers, one per class; "
            f"got {values!r} instead."
        ) from exc
    if vector.ndim != 1 or vector.numel() < 2:
        raise ValueError(
            f"{name} must be 1-D with one value per class (at least 2); got "
            f"shape {tuple(vector.shape)} instead."
        )
    if not torch.isfinite(vector).all() or (vector <= 0).any():
        raise ValueError(
            f"{name} must hold finite values > 0 (every class needs at least "
            f"one training sample); got {vector.tolist()} instead."
        )
    return vector.clone()


def _check_n_classes(name: str, n_values: int, n_classes: int, binary: bool) -> None:
    """Per-class parameters must match the logits (2 values for one logit)."""
    if n_values != n_classes:
        shape = "one logit per sample (binary)" if binary else f"{n_classes} logits"
        raise ValueError(
            f"{name} must have one value per class ({n_classes}, for {shape}); "
            f"got {n_values} values instead."
        )


def _check_alpha_value(alpha: AlphaLike) -> None:
    """Check what can be checked of ``alpha`` before the logits are known."""
    if alpha is None:
        return
    if _is_real(alpha):
        if not 0 <= alpha <= 1:
            raise ValueError(
                "alpha given as a float must lie in [0, 1] (the weight of class "
                f"1 in a binary problem); got {alpha!r} instead."
            )
        return
    _check_weight_vector("alpha", alpha)


def _check_weight_vector(name: str, weight: Sequence[float] | Tensor) -> Tensor:
    """A 1-D float64 CPU tensor of finite, non-negative per-class weights."""
    try:
        vector = torch.as_tensor(weight, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{name} must be None, a float in [0, 1] or a 1-D sequence of "
            f"per-class weights; got {weight!r} instead."
        ) from exc
    if vector.ndim != 1 or vector.numel() == 0:
        raise ValueError(
            f"{name} given as a vector must be 1-D with one weight per class; "
            f"got shape {tuple(vector.shape)} instead."
        )
    if not torch.isfinite(vector).all() or (vector < 0).any():
        raise ValueError(
            f"{name} given as a vector must hold finite, non-negative weights; "
            f"got {vector.tolist()} instead."
        )
    return vector


def _split_problem(
    logits: Tensor, target: Tensor, check_values: bool = True
) -> tuple[Tensor, Tensor, bool]:
    """Validate shapes and say whether the problem is binary.

    Returns the logits (``(N,)`` for binary, ``(N, C)`` otherwise), the
    targets (float for binary, int64 for multi-class) and the binary flag.
    ``check_values=False`` skips the checks of the target values, which cost
    a device synchronisation per call.
    """
    if not isinstance(logits, Tensor) or not torch.is_floating_point(logits):
        raise ValueError(
            "logits must be a floating-point torch.Tensor of raw scores; got "
            f"{type(logits).__name__}"
            + (f" of dtype {logits.dtype}" if isinstance(logits, Tensor) else "")
            + "."
        )
    if not isinstance(target, Tensor):
        target = torch.as_tensor(target, device=logits.device)
    binary = logits.ndim == 1 or (logits.ndim == 2 and logits.shape[1] == 1)
    if logits.ndim not in (1, 2):
        raise ValueError(
            "logits must have shape (N,), (N, 1) or (N, C); got shape "
            f"{tuple(logits.shape)}."
        )
    if target.ndim == 2 and target.shape[1] == 1:
        target = target.reshape(-1)
    if target.ndim != 1 or target.shape[0] != logits.shape[0]:
        raise ValueError(
            f"target must have shape ({logits.shape[0]},) to match logits of "
            f"shape {tuple(logits.shape)}; got shape {tuple(target.shape)}."
        )
    if binary:
        target = target.to(dtype=logits.dtype)
        if check_values and target.numel() and ((target != 0) & (target != 1)).any():
            raise ValueError(
                "target of a binary problem (logits of shape (N,) or (N, 1)) "
                "must hold only 0 and 1."
            )
        return logits.reshape(-1), target, True
    if torch.is_floating_point(target) or target.dtype == torch.bool:
        raise ValueError(
            "target of a multi-class problem (logits of shape (N, C)) must be "
            f"integer class indices; got dtype {target.dtype}."
        )
    n_classes = logits.shape[1]
    target = target.long()
    if (
        check_values
        and target.numel()
        and (target.min() < 0 or target.max() >= n_classes)
    ):
        raise ValueError(
            f"target of a multi-class problem with {n_classes} columns of "
            f"logits must lie in [0, {n_classes}); got values in "
            f"[{int(target.min())}, {int(target.max())}]."
        )
    return logits, target, False


def _check_alpha_fits(
    alpha: AlphaLike, is_float: bool, n_weights: int, n_classes: int, binary: bool
) -> None:
    """Check class weights against the logits (functions and modules alike)."""
    if is_float and not binary:
        raise ValueError(
            "alpha given as a float is defined for binary problems only; "
            f"got alpha={alpha!r} with {n_classes}-class logits. Pass one "
            "weight per class instead."
        )
    if n_weights != n_classes:
        raise ValueError(
            f"alpha must have one weight per class ({n_classes}); got "
            f"{n_weights} weights instead."
        )


def _class_weight_vector(
    alpha: AlphaLike, n_classes: int, binary: bool, like: Tensor
) -> Tensor | None:
    """Turn ``alpha`` into a per-class vector on ``like``'s device and dtype."""
    if alpha is None:
        return None
    _check_alpha_value(alpha)
    if _is_real(alpha):
        _check_alpha_fits(alpha, True, 2, n_classes, binary)
        return torch.tensor([1.0 - alpha, alpha], dtype=like.dtype, device=like.device)
    vector = torch.as_tensor(alpha, dtype=like.dtype, device=like.device)
    _check_alpha_fits(alpha, False, vector.numel(), n_classes, binary)
    return vector


def _validated(
    logits: Tensor, target: Tensor, alpha: AlphaLike
) -> tuple[Tensor, Tensor, bool, Tensor | None]:
    """Checked logits and targets, the binary flag and the class weights."""
    logits, target, binary = _split_problem(logits, target)
    n_classes = 2 if binary else logits.shape[1]
    return (
        logits,
        target,
        binary,
        _class_weight_vector(alpha, n_classes, binary, logits),
    )


def _as_sample_weight(sample_weight: Tensor, like: Tensor) -> Tensor:
    sample_weight = torch.as_tensor(
        sample_weight, dtype=like.dtype, device=like.device
    ).reshape(-1)
    if sample_weight.shape[0] != like.shape[0]:
        raise ValueError(
            f"sample_weight must have {like.shape[0]} entries, one per "
            f"sample; got {sample_weight.shape[0]}."
        )
    return sample_weight


def _sample_weights(
    class_weight: Tensor | None,
    target: Tensor,
    binary: bool,
    sample_weight: Tensor | None,
    like: Tensor,
) -> Tensor | None:
    """Per-sample weight ``w_i``: class weight of the target times sample weight."""
    weight = None
    if class_weight is not None:
        if binary:
            weight = torch.where(target > 0.5, class_weight[1], class_weight[0])
        else:
            weight = class_weight[target]
    if sample_weight is not None:
        sample_weight = _as_sample_weight(sample_weight, like)
        weight = sample_weight if weight is None else weight * sample_weight
    return weight


def _reduce(loss: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    """``none``, ``sum`` or the weighted mean ``sum(w l) / sum(w)``.

    A batch whose weights sum to zero (every sample of a class weighted 0, or
    many zero sample weights in a small batch) contributes nothing: its mean
    is 0 with a zero gradient, not ``0 / 0``. The denominator is swapped for
    1 on device, without a host synchronisation; it carries no gradient to
    the logits, so the swap cannot put a NaN into the backward pass.
    """
    weighted = loss if weight is None else loss * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if weight is None:
        # An empty batch has mean 0 rather than NaN, as a zero-weight one.
        return weighted.mean() if loss.numel() else weighted.sum()
    total = weight.sum()
    return weighted.sum() / torch.where(total == 0, torch.ones_like(total), total)
