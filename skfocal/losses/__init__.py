"""Losses for imbalanced classification: focal, class-balanced CE and GHM-C.

The focal loss is that of Lin et al. [1]_, GHM-C that of Li et al. [2]_ and
the "effective number" class weights those of Cui et al. [3]_.

Every loss takes raw logits, never probabilities:

* binary problems: logits of shape ``(N,)`` or ``(N, 1)`` and targets in
  ``{0, 1}``; the probability of class 1 is ``sigmoid(logit)``;
* multi-class problems: logits of shape ``(N, C)`` and integer targets in
  ``[0, C)``; probabilities are ``softmax(logits)``.

``alpha`` is the class weighting: ``None``, a float in ``[0, 1]`` (binary
only: weight ``alpha`` for class 1 and ``1 - alpha`` for class 0, the
convention of Lin et al. 2017) or a per-class vector of length ``C`` (length
2 for binary problems). With ``reduction="mean"`` the result is the weighted
mean ``sum(w_i * l_i) / sum(w_i)``, where ``w_i`` is the sample's class
weight times its sample weight, exactly as
:func:`torch.nn.functional.cross_entropy` does with ``weight=``.

All computations stay in log space (``logsigmoid``, ``log_softmax``,
``logsumexp``) so that values and gradients are finite for any finite logit,
including ``gamma`` in ``(0, 1)`` at saturated logits in float32.

This module imports torch only; it knows nothing of scikit-learn or skorch.

References
----------
.. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss
   for Dense Object Detection", ICCV 2017.
.. [2] B. Li, Y. Liu and X. Wang, "Gradient Harmonized Single-stage
   Detector", AAAI 2019.
.. [3] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced
   Loss Based on Effective Number of Samples", CVPR 2019.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Integral, Real
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "BalancedCrossEntropyLoss",
    "FocalLoss",
    "GHMCLoss",
    "balanced_cross_entropy",
    "class_weights",
    "focal_loss",
    "ghm_gradient_norm",
    "ghm_weights",
    "ghmc_loss",
]

Reduction = Literal["none", "mean", "sum"]
AlphaLike = float | Sequence[float] | Tensor | None

_REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------------
# Argument checks. Errors name the parameter, the value and what was expected.
# ---------------------------------------------------------------------------
def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {_REDUCTIONS}; got {reduction!r} instead."
        )


def _check_gamma(gamma: float) -> None:
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, Real)
        or not math.isfinite(gamma)
        or gamma < 0
    ):
        raise ValueError(
            f"gamma must be a finite real number >= 0; got {gamma!r} instead."
        )


def _check_bins(bins: int) -> None:
    if isinstance(bins, bool) or not isinstance(bins, Integral) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1; got {bins!r} instead.")


def _check_momentum(momentum: float) -> None:
    if (
        isinstance(momentum, bool)
        or not isinstance(momentum, Real)
        or not 0 <= momentum < 1
    ):
        raise ValueError(
            f"momentum must be a real number in [0, 1); got {momentum!r} instead."
        )


def _check_alpha_value(alpha: AlphaLike) -> None:
    """Check what can be checked of ``alpha`` before the logits are known."""
    if alpha is None:
        return
    if isinstance(alpha, Real) and not isinstance(alpha, bool):
        if not 0 <= alpha <= 1:
            raise ValueError(
                "alpha given as a float must lie in [0, 1] (the weight of class "
                f"1 in a binary problem); got {alpha!r} instead."
            )
        return
    try:
        vector = torch.as_tensor(alpha, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(
            "alpha must be None, a float in [0, 1] or a 1-D sequence of "
            f"per-class weights; got {alpha!r} instead."
        ) from exc
    if vector.ndim != 1 or vector.numel() == 0:
        raise ValueError(
            "alpha given as a vector must be 1-D with one weight per class; "
            f"got shape {tuple(vector.shape)} instead."
        )
    if not torch.isfinite(vector).all() or (vector < 0).any():
        raise ValueError(
            "alpha given as a vector must hold finite, non-negative weights; "
            f"got {vector.tolist()} instead."
        )


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


def _class_weight_vector(
    alpha: AlphaLike, n_classes: int, binary: bool, like: Tensor
) -> Tensor | None:
    """Turn ``alpha`` into a per-class vector on ``like``'s device and dtype."""
    if alpha is None:
        return None
    _check_alpha_value(alpha)
    if isinstance(alpha, Real) and not isinstance(alpha, bool):
        _check_alpha_fits(alpha, True, 2, n_classes, binary)
        return torch.tensor([1.0 - alpha, alpha], dtype=like.dtype, device=like.device)
    vector = torch.as_tensor(alpha, dtype=like.dtype, device=like.device)
    _check_alpha_fits(alpha, False, vector.numel(), n_classes, binary)
    return vector


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


def _reduce(loss: Tensor, weight: Tensor | None, reduction: str) -> Tensor:
    weighted = loss if weight is None else loss * weight
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if weight is None:
        return weighted.mean()
    return weighted.sum() / weight.sum()


def _log_pt_and_log_one_minus_pt(
    logits: Tensor, target: Tensor, binary: bool
) -> tuple[Tensor, Tensor]:
    """``log(p_t)`` and ``log(1 - p_t)``, both computed without cancellation."""
    if binary:
        # z is the logit of the true class: p_t = sigmoid(z), 1 - p_t = sigmoid(-z).
        signed_logits = torch.where(target > 0.5, logits, -logits)
        return F.logsigmoid(signed_logits), F.logsigmoid(-signed_logits)
    log_probs = F.log_softmax(logits, dim=1)
    log_pt = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
    # 1 - p_t is the total probability of the other classes: a logsumexp over
    # them stays accurate when p_t -> 1, where log1p(-p_t) would round to -inf.
    true_class = F.one_hot(target, logits.shape[1]).bool()
    log_rest = log_probs.masked_fill(true_class, float("-inf")).logsumexp(dim=1)
    return log_pt, log_rest


class _BinaryFocal(torch.autograd.Function):
    """Per-sample binary focal loss with its closed-form gradient.

    With ``z`` the logit of the true class (``x`` for class 1, ``-x`` for
    class 0) and ``p = sigmoid(z)``, ``FL = -(1 - p)^g log p`` and
    ``dFL/dz = (1 - p)^g (g p log p - (1 - p))``. Writing the backward pass by
    hand replaces the five-node autograd graph of the log-space expression:
    the binary focal step then costs about what BCE costs (the speed
    benchmark's hot path). Every factor is finite for finite ``z``, so the
    gradient is finite at saturated logits for any ``g >= 0``; the test suite
    compares it with autograd on the log-space expression and with gradcheck.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, target: Tensor, gamma: float) -> Tensor:
        sign = 2.0 * target - 1.0
        signed_logits = logits * sign
        log_p = F.logsigmoid(signed_logits)
        log_one_minus_p = F.logsigmoid(-signed_logits)
        modulating = torch.exp(gamma * log_one_minus_p)
        ctx.save_for_backward(sign, log_p, log_one_minus_p, modulating)
        ctx.gamma = gamma
        return -modulating * log_p

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output: Tensor):
        sign, log_p, log_one_minus_p, modulating = ctx.saved_tensors
        p = log_p.exp()
        grad_signed = modulating * (ctx.gamma * p * log_p - log_one_minus_p.exp())
        return grad_output * grad_signed * sign, None, None


def _focal(
    logits: Tensor,
    target: Tensor,
    binary: bool,
    gamma: float,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    """Focal loss on validated inputs (the shared core of function and module)."""
    if gamma == 0:
        # Cross-entropy: torch's fused kernels, no log(1 - p_t) needed.
        if binary:
            loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        else:
            loss = F.cross_entropy(logits, target, reduction="none")
    elif binary:
        loss = _BinaryFocal.apply(logits, target, gamma)
    else:
        log_pt, log_one_minus_pt = _log_pt_and_log_one_minus_pt(logits, target, binary)
        # (1 - p_t) ** gamma as exp(gamma * log(1 - p_t)): finite gradient even
        # for gamma < 1 where p_t -> 1, unlike pow() whose derivative blows up.
        loss = torch.exp(gamma * log_one_minus_pt) * -log_pt
    weight = _sample_weights(class_weight, target, binary, sample_weight, logits)
    return _reduce(loss, weight, reduction)


def _ghmc(
    logits: Tensor,
    target: Tensor,
    binary: bool,
    bins: int,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
    average_counts=None,
    inner_edges: Tensor | None = None,
) -> Tensor:
    """GHM-C on validated inputs.

    ``average_counts`` maps this batch's bin counts to the counts to divide
    by (the module's moving average); ``inner_edges`` are cached bin edges.
    """
    log_pt, log_one_minus_pt = _log_pt_and_log_one_minus_pt(logits, target, binary)
    # The same log-probabilities give the gradient norm: no second softmax.
    gradient_norm = log_one_minus_pt.detach().exp()
    if sample_weight is not None:
        sample_weight = _as_sample_weight(sample_weight, logits)
    density_weight = _ghm_weights(
        gradient_norm, bins, sample_weight, average_counts, inner_edges
    )
    loss = density_weight * -log_pt
    weight = _sample_weights(class_weight, target, binary, sample_weight, logits)
    return _reduce(loss, weight, reduction)


# ---------------------------------------------------------------------------
# Functional forms
# ---------------------------------------------------------------------------
def focal_loss(
    logits: Tensor,
    target: Tensor,
    gamma: float = 2.0,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Focal loss of Lin et al. (2017) for binary or multi-class logits.

    .. math:: FL(p_t) = -\alpha_t (1 - p_t)^\gamma \log(p_t)

    where :math:`p_t` is the predicted probability of the true class
    (``sigmoid`` for binary logits, ``softmax`` for multi-class ones).

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores. One column means a binary problem with a sigmoid.
    target : Tensor of shape (N,)
        ``0``/``1`` (float or int) for binary problems, integer class indices
        in ``[0, C)`` otherwise.
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``. ``gamma=0`` is (weighted) cross-entropy.
    alpha : None, float or sequence of float, default=None
        Class weights: a float in ``[0, 1]`` is the weight of class 1 in a
        binary problem (class 0 gets ``1 - alpha``); a sequence gives one
        weight per class.
    sample_weight : Tensor of shape (N,), default=None
        Per-sample weights, multiplied with the class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        ``"mean"`` is the weighted mean ``sum(w_i l_i) / sum(w_i)``.

    Returns
    -------
    loss : Tensor
        A scalar, or shape ``(N,)`` with ``reduction="none"`` (already
        multiplied by the per-sample weights).

    See Also
    --------
    FocalLoss : The module form.
    balanced_cross_entropy : The special case ``gamma=0``.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import focal_loss
    >>> logits = torch.tensor([2.0, -1.0, 0.5])
    >>> target = torch.tensor([1.0, 0.0, 0.0])
    >>> round(focal_loss(logits, target, gamma=2.0).item(), 4)
    0.134
    >>> ce = torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
    >>> bool(torch.isclose(focal_loss(logits, target, gamma=0.0), ce))
    True
    """
    _check_gamma(gamma)
    _check_reduction(reduction)
    logits, target, binary, class_weight = _validated(logits, target, alpha)
    return _focal(logits, target, binary, gamma, class_weight, sample_weight, reduction)


def balanced_cross_entropy(
    logits: Tensor,
    target: Tensor,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """Class-weighted cross-entropy: the focal loss with ``gamma=0``.

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores.
    target : Tensor of shape (N,)
        Binary ``0``/``1`` or integer class indices.
    alpha : None, float or sequence of float, default=None
        Class weights (see :func:`focal_loss`). ``None`` is plain
        cross-entropy.
    sample_weight : Tensor of shape (N,), default=None
        Per-sample weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.

    Returns
    -------
    loss : Tensor
        A scalar, or shape ``(N,)`` with ``reduction="none"``.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import balanced_cross_entropy
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> target = torch.tensor([0, 1, 1])
    >>> weight = torch.tensor([1.0, 3.0])
    >>> expected = torch.nn.functional.cross_entropy(logits, target, weight=weight)
    >>> bool(torch.isclose(balanced_cross_entropy(logits, target, weight), expected))
    True
    """
    return focal_loss(
        logits,
        target,
        gamma=0.0,
        alpha=alpha,
        sample_weight=sample_weight,
        reduction=reduction,
    )


def ghm_gradient_norm(logits: Tensor, target: Tensor) -> Tensor:
    """Gradient norm ``g`` that GHM-C histograms, detached from the graph.

    ``g = |sigmoid(x) - y|`` for binary logits and ``g = 1 - p_t`` for
    multi-class ones (half the L1 norm of ``softmax(x) - onehot(y)``).

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores.
    target : Tensor of shape (N,)
        Binary ``0``/``1`` or integer class indices.

    Returns
    -------
    gradient_norm : Tensor of shape (N,)
        Values in ``[0, 1]``.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import ghm_gradient_norm
    >>> ghm_gradient_norm(torch.tensor([0.0, 100.0]), torch.tensor([1, 0]))
    tensor([0.5000, 1.0000])
    """
    logits, target, binary = _split_problem(logits, target)
    with torch.no_grad():
        _, log_one_minus_pt = _log_pt_and_log_one_minus_pt(logits, target, binary)
        return log_one_minus_pt.exp()


def _inner_edges(bins: int, like: Tensor) -> Tensor:
    # Equal bins on [0, 1]; bucketize against the inner edges puts g == 1.0 in
    # the last bin, and each inner edge belongs to the bin that starts there.
    return torch.arange(1, bins, device=like.device, dtype=like.dtype).div_(bins)


def ghm_weights(
    gradient_norm: Tensor,
    bins: int = 10,
    bin_counts: Tensor | None = None,
    sample_weight: Tensor | None = None,
) -> Tensor:
    """GHM-C weights ``beta_i = N / (n_nonempty_bins * count(bin(g_i)))``.

    Parameters
    ----------
    gradient_norm : Tensor of shape (N,)
        Gradient norms in ``[0, 1]`` (see :func:`ghm_gradient_norm`).
    bins : int, default=10
        Number of equal bins on ``[0, 1]``; ``1.0`` falls in the last bin.
    bin_counts : Tensor of shape (bins,), default=None
        Counts to divide by instead of this batch's histogram (the
        moving average that :class:`GHMCLoss` keeps). ``N`` and the number
        of non-empty bins still come from this batch.
    sample_weight : Tensor of shape (N,), default=None
        Sample weights count as repetitions: ``N`` and the bin counts become
        sums of weights, so weighting a sample by 2 is the same as
        duplicating it.

    Returns
    -------
    weights : Tensor of shape (N,)
        ``sum(weights * sample_weight) == N`` when ``bin_counts`` is ``None``.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import ghm_weights
    >>> ghm_weights(torch.tensor([0.01, 0.02, 0.03, 0.95]), bins=10)
    tensor([0.6667, 0.6667, 0.6667, 2.0000])
    """
    _check_bins(bins)
    average_counts = None
    if bin_counts is not None:
        given = bin_counts.to(gradient_norm.dtype)

        def average_counts(counts: Tensor) -> Tensor:
            return given

    return _ghm_weights(gradient_norm, bins, sample_weight, average_counts)


def _ghm_weights(
    gradient_norm: Tensor,
    bins: int,
    sample_weight: Tensor | None,
    average_counts=None,
    inner_edges: Tensor | None = None,
) -> Tensor:
    if inner_edges is None:
        inner_edges = _inner_edges(bins, gradient_norm)
    index = torch.bucketize(gradient_norm, inner_edges, right=True)
    if sample_weight is None:
        counts = torch.bincount(index, minlength=bins).to(gradient_norm.dtype)
    else:
        counts = torch.bincount(index, weights=sample_weight, minlength=bins)
        counts = counts.to(gradient_norm.dtype)
    density = counts if average_counts is None else average_counts(counts)
    # The weight of each bin (bins values, not N), then one gather. A bin
    # whose density is 0 holds only zero-weight samples: clamping keeps its
    # weight finite, so that 0 * weight stays 0 instead of NaN.
    n_nonempty = (counts > 0).sum()
    bin_weight = counts.sum() / (n_nonempty * density.clamp_min(1e-12))
    return bin_weight.to(gradient_norm.dtype)[index]


def ghmc_loss(
    logits: Tensor,
    target: Tensor,
    bins: int = 10,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    """GHM-C loss of Li et al. (2019) on one batch, without momentum.

    Cross-entropy with each sample weighted by the inverse density of its
    gradient norm: ``l_i = beta_i * CE_i`` with
    ``beta_i = N / (n_nonempty_bins * count(bin(g_i)))`` and ``g`` from
    :func:`ghm_gradient_norm` (detached). The weights ``beta`` sum to ``N``,
    so with one bin the loss is the plain mean cross-entropy.

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores.
    target : Tensor of shape (N,)
        Binary ``0``/``1`` or integer class indices.
    bins : int, default=10
        Number of equal bins on ``[0, 1]``.
    alpha : None, float or sequence of float, default=None
        Class weights on top of the density weights (see :func:`focal_loss`).
    sample_weight : Tensor of shape (N,), default=None
        Per-sample weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.

    Returns
    -------
    loss : Tensor
        A scalar, or shape ``(N,)`` with ``reduction="none"``.

    See Also
    --------
    GHMCLoss : The module, which can average bin counts across batches.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import ghmc_loss
    >>> logits = torch.tensor([3.0, 2.5, -2.0, 0.1])
    >>> target = torch.tensor([1, 1, 0, 0])
    >>> ce = torch.nn.functional.binary_cross_entropy_with_logits(
    ...     logits, target.float())
    >>> bool(torch.isclose(ghmc_loss(logits, target, bins=1), ce))
    True
    """
    _check_bins(bins)
    _check_reduction(reduction)
    logits, target, binary, class_weight = _validated(logits, target, alpha)
    return _ghmc(logits, target, binary, bins, class_weight, sample_weight, reduction)


def class_weights(
    target: Sequence[int] | Tensor,
    method: Literal["balanced", "effective"] = "balanced",
    beta: float = 0.999,
    n_classes: int | None = None,
    sample_weight: Sequence[float] | Tensor | None = None,
) -> Tensor:
    """Per-class weights from integer-coded labels.

    Parameters
    ----------
    target : sequence of int or Tensor
        Class indices in ``[0, n_classes)``.
    method : {"balanced", "effective"}, default="balanced"
        ``"balanced"``: ``n_samples / (n_classes * count_c)``, scikit-learn's
        ``compute_class_weight("balanced", ...)``. ``"effective"``: the
        effective number of samples of Cui et al. (2019),
        ``(1 - beta) / (1 - beta ** count_c)``, normalised to sum to
        ``n_classes``.
    beta : float, default=0.999
        Only for ``"effective"``; in ``[0, 1)``. ``beta=0`` gives equal
        weights and ``beta -> 1`` tends to ``"balanced"``-like inverse counts.
    n_classes : int, default=None
        Number of classes; by default ``max(target) + 1``.
    sample_weight : sequence of float or Tensor, default=None
        Counts become sums of sample weights (a weight of 2 counts as two
        samples), as in scikit-learn's ``compute_class_weight``.

    Returns
    -------
    weights : Tensor of shape (n_classes,), float64
        One weight per class index.

    Examples
    --------
    >>> from skfocal.losses import class_weights
    >>> class_weights([0, 0, 0, 1])
    tensor([0.6667, 2.0000], dtype=torch.float64)
    >>> class_weights([0, 0, 0, 1], method="effective", beta=0.5)
    tensor([0.7273, 1.2727], dtype=torch.float64)
    """
    if method not in ("balanced", "effective"):
        raise ValueError(
            f"method must be 'balanced' or 'effective'; got {method!r} instead."
        )
    if isinstance(beta, bool) or not isinstance(beta, Real) or not 0 <= beta < 1:
        raise ValueError(f"beta must be a real number in [0, 1); got {beta!r}.")
    # torch.tensor copies: pandas hands out read-only arrays, which
    # torch.as_tensor would wrap with a warning.
    labels = (target if isinstance(target, Tensor) else torch.tensor(target)).reshape(
        -1
    )
    if torch.is_floating_point(labels) or labels.dtype == torch.bool:
        raise ValueError(
            f"target must hold integer class indices; got dtype {labels.dtype}."
        )
    if labels.numel() == 0:
        raise ValueError("target is empty; class weights need at least one label.")
    labels = labels.long().cpu()
    if labels.min() < 0:
        raise ValueError("target must hold non-negative class indices.")
    if n_classes is None:
        n_classes = int(labels.max()) + 1
    if int(labels.max()) >= n_classes:
        raise ValueError(
            f"target holds class {int(labels.max())} but n_classes={n_classes}."
        )
    weights_of_samples = None
    if sample_weight is not None:
        weights_of_samples = (
            sample_weight.double()
            if isinstance(sample_weight, Tensor)
            else torch.tensor(sample_weight, dtype=torch.float64)
        )
        weights_of_samples = weights_of_samples.reshape(-1).cpu()
        if weights_of_samples.shape != labels.shape:
            raise ValueError(
                f"sample_weight must have {labels.numel()} entries; got "
                f"{weights_of_samples.numel()}."
            )
    counts = torch.bincount(labels, weights=weights_of_samples, minlength=n_classes)
    counts = counts.double()
    if (counts <= 0).any():
        missing = torch.nonzero(counts <= 0).reshape(-1).tolist()
        raise ValueError(
            f"classes {missing} have no samples (or zero total weight) in "
            "target; their weight is undefined."
        )
    if method == "balanced":
        return counts.sum() / (n_classes * counts)
    weights = (1.0 - beta) / (
        1.0 - torch.pow(torch.tensor(beta, dtype=torch.float64), counts)
    )
    return weights * (n_classes / weights.sum())


# ---------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------
class _WeightedLoss(nn.Module):
    """Holds ``alpha``, ``reduction`` and ``check_targets`` for the modules.

    ``alpha`` is checked once here and kept as a buffer of class weights, so
    that ``.to(device)`` moves it once and each step pays no validation.
    """

    def __init__(
        self, alpha: AlphaLike, reduction: Reduction, check_targets: bool
    ) -> None:
        super().__init__()
        _check_alpha_value(alpha)
        _check_reduction(reduction)
        self.reduction = reduction
        self.check_targets = check_targets
        self._alpha_is_float = isinstance(alpha, Real) and not isinstance(alpha, bool)
        if alpha is None:
            class_weight = None
        elif self._alpha_is_float:
            class_weight = torch.tensor([1.0 - alpha, alpha])
        else:
            class_weight = torch.as_tensor(alpha, dtype=torch.float32).clone()
        self.alpha = (
            alpha
            if alpha is None or self._alpha_is_float
            else tuple(float(a) for a in class_weight.tolist())
        )
        self.register_buffer("class_weight", class_weight)

    def _prepare(self, logits: Tensor, target: Tensor):
        logits, target, binary = _split_problem(logits, target, self.check_targets)
        class_weight = self.class_weight
        if class_weight is not None:
            n_classes = 2 if binary else logits.shape[1]
            _check_alpha_fits(
                self.alpha,
                self._alpha_is_float,
                class_weight.numel(),
                n_classes,
                binary,
            )
            if class_weight.dtype != logits.dtype:
                class_weight = class_weight.to(logits.dtype)
        return logits, target, binary, class_weight

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, reduction={self.reduction!r}"


class FocalLoss(_WeightedLoss):
    """Focal loss module; see :func:`focal_loss`.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``.
    alpha : None, float or sequence of float, default=None
        Class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check that targets are valid labels on every call. The check costs a
        device synchronisation per step; the estimators, which encode labels
        themselves, turn it off.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import FocalLoss
    >>> criterion = FocalLoss(gamma=2.0, alpha=0.25)
    >>> logits = torch.tensor([[1.5], [-0.5]], requires_grad=True)
    >>> loss = criterion(logits, torch.tensor([1.0, 1.0]))
    >>> loss.backward()
    >>> logits.grad.shape
    torch.Size([2, 1])
    """

    def __init__(
        self,
        gamma: float = 2.0,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_gamma(gamma)
        super().__init__(alpha, reduction, check_targets)
        self.gamma = gamma

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        logits, target, binary, class_weight = self._prepare(logits, target)
        return _focal(
            logits,
            target,
            binary,
            self.gamma,
            class_weight,
            sample_weight,
            self.reduction,
        )

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, " + super().extra_repr()


class BalancedCrossEntropyLoss(_WeightedLoss):
    """Class-weighted cross-entropy module; see :func:`balanced_cross_entropy`.

    Parameters
    ----------
    alpha : None, float or sequence of float, default=None
        Class weights; ``None`` is plain cross-entropy.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check target values on every call (see :class:`FocalLoss`).

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import BalancedCrossEntropyLoss
    >>> criterion = BalancedCrossEntropyLoss(alpha=[1.0, 4.0])
    >>> loss = criterion(torch.tensor([0.3, -0.2]), torch.tensor([0, 1]))
    >>> loss.ndim
    0
    """

    def __init__(
        self,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        super().__init__(alpha, reduction, check_targets)

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        logits, target, binary, class_weight = self._prepare(logits, target)
        return _focal(
            logits, target, binary, 0.0, class_weight, sample_weight, self.reduction
        )


class GHMCLoss(_WeightedLoss):
    """GHM-C loss (Li et al. 2019) with a moving average of bin counts.

    In training mode each batch updates an exponential moving average of the
    gradient-norm histogram, ``ema = momentum * ema + (1 - momentum) * counts``,
    and divides it by ``1 - momentum ** t`` (``t`` batches seen) so that the
    first batch is weighted exactly as with ``momentum=0``. (The widely copied
    reference code starts the average at zero without this correction, which
    inflates the first batches' weights by up to ``1 / (1 - momentum)``.)
    In evaluation mode the current batch's histogram is used and the state is
    left alone, so validation does not change what training sees.

    Parameters
    ----------
    bins : int, default=10
        Number of equal bins on ``[0, 1]``.
    momentum : float, default=0.75
        In ``[0, 1)``; ``0`` uses each batch's own histogram.
    alpha : None, float or sequence of float, default=None
        Class weights on top of the density weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check target values on every call (see :class:`FocalLoss`).

    Attributes
    ----------
    bin_count_ema : Tensor of shape (bins,)
        Moving average of the bin counts (a buffer; saved with the state).
    n_updates : Tensor
        Number of training batches averaged so far.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import GHMCLoss
    >>> criterion = GHMCLoss(bins=10, momentum=0.75)
    >>> logits = torch.tensor([[2.0, -1.0, 0.0], [0.1, 0.2, 0.3]])
    >>> loss = criterion(logits, torch.tensor([0, 2]))
    >>> int(criterion.n_updates)
    1
    >>> criterion.reset_state()
    >>> int(criterion.n_updates)
    0
    """

    def __init__(
        self,
        bins: int = 10,
        momentum: float = 0.75,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_bins(bins)
        _check_momentum(momentum)
        super().__init__(alpha, reduction, check_targets)
        self.bins = bins
        self.momentum = momentum
        self.register_buffer("bin_count_ema", torch.zeros(bins, dtype=torch.float64))
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))
        self.register_buffer("momentum_power", torch.ones((), dtype=torch.float64))
        self.register_buffer(
            "inner_edges",
            _inner_edges(bins, torch.empty(0, dtype=torch.float64)),
            persistent=False,
        )

    def reset_state(self) -> None:
        """Forget the moving average, as at the start of a fresh training run."""
        self.bin_count_ema.zero_()
        self.n_updates.zero_()
        self.momentum_power.fill_(1.0)

    def _averaged_counts(self, counts: Tensor) -> Tensor:
        if not self.training or self.momentum == 0:
            return counts
        self.bin_count_ema.mul_(self.momentum).add_(counts, alpha=1 - self.momentum)
        self.n_updates.add_(1)
        # Bias correction as in Adam: divide by 1 - momentum ** t, with
        # momentum ** t kept as a running product (no host sync, no new tensor).
        self.momentum_power.mul_(self.momentum)
        return (self.bin_count_ema / (1.0 - self.momentum_power)).to(counts.dtype)

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        logits, target, binary, class_weight = self._prepare(logits, target)
        return _ghmc(
            logits,
            target,
            binary,
            self.bins,
            class_weight,
            sample_weight,
            self.reduction,
            self._averaged_counts,
            self.inner_edges.to(logits.dtype),
        )

    def extra_repr(self) -> str:
        return f"bins={self.bins}, momentum={self.momentum}, " + super().extra_repr()
