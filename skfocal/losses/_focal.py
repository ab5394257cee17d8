"""Focal loss (fixed or adaptive gamma) and class-weighted cross-entropy."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from skfocal.losses._base import _WeightedLoss
from skfocal.losses._logspace import _log_pt_and_log_one_minus_pt, _signed_logits
from skfocal.losses._validation import (
    AlphaLike,
    Reduction,
    _check_real,
    _check_reduction,
    _reduce,
    _sample_weights,
    _validated,
)

GammaLike = float | Literal["adaptive"]

# FLSD-53 (Mukhoti et al. 2020): gamma 5 below p_t = 0.2, gamma 3 above.
_ADAPTIVE_THRESHOLD = 0.2
_ADAPTIVE_GAMMA_HARD = 5.0
_ADAPTIVE_GAMMA_EASY = 3.0
_LOG_ADAPTIVE_THRESHOLD = math.log(_ADAPTIVE_THRESHOLD)


def _check_focal_gamma(gamma: GammaLike) -> None:
    if isinstance(gamma, str):
        if gamma == "adaptive":
            return
        raise ValueError(
            "gamma must be a finite real number >= 0 or 'adaptive'; got "
            f"{gamma!r} instead."
        )
    _check_real("gamma", gamma, low=0)


def adaptive_gamma(log_pt: Tensor) -> Tensor:
    """Per-sample gamma of the FLSD-53 schedule (Mukhoti et al. 2020).

    ``gamma = 5`` where ``p_t < 0.2`` and ``gamma = 3`` elsewhere. The choice
    is made on the detached ``log(p_t)``: no gradient flows through it.

    Parameters
    ----------
    log_pt : Tensor of shape (N,)
        Log-probability of the true class of each sample.

    Returns
    -------
    gamma : Tensor of shape (N,)
        ``5.0`` or ``3.0``, in the dtype and on the device of ``log_pt``.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import adaptive_gamma
    >>> adaptive_gamma(torch.log(torch.tensor([0.1, 0.2, 0.9])))
    tensor([5., 3., 3.])
    """
    hard = log_pt.detach() < _LOG_ADAPTIVE_THRESHOLD
    return torch.where(
        hard,
        torch.tensor(_ADAPTIVE_GAMMA_HARD, dtype=log_pt.dtype, device=log_pt.device),
        torch.tensor(_ADAPTIVE_GAMMA_EASY, dtype=log_pt.dtype, device=log_pt.device),
    )


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
    ``g`` is a float or a per-sample tensor (the adaptive schedule), treated
    as a constant.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, target: Tensor, gamma: float | Tensor) -> Tensor:
        sign = 2.0 * target - 1.0
        signed_logits = logits * sign
        log_p = F.logsigmoid(signed_logits)
        log_one_minus_p = F.logsigmoid(-signed_logits)
        modulating = torch.exp(gamma * log_one_minus_p)
        if isinstance(gamma, Tensor):
            ctx.save_for_backward(sign, log_p, log_one_minus_p, modulating, gamma)
            ctx.gamma = None
        else:
            ctx.save_for_backward(sign, log_p, log_one_minus_p, modulating)
            ctx.gamma = gamma
        return -modulating * log_p

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output: Tensor):
        sign, log_p, log_one_minus_p, modulating, *rest = ctx.saved_tensors
        gamma = rest[0] if rest else ctx.gamma
        p = log_p.exp()
        grad_signed = modulating * (gamma * p * log_p - log_one_minus_p.exp())
        return grad_output * grad_signed * sign, None, None


# Above this many rows the mean is a pairwise sum rather than a dot product:
# a float32 BLAS dot accumulates its rounding error linearly (1e-4 relative
# at 4M rows), which a training batch never reaches.
_DOT_MAX_ROWS = 16384


class _BinaryFocalMean(torch.autograd.Function):
    """Unweighted mean of the binary focal loss, gradient computed up front.

    The same loss and gradient as :class:`_BinaryFocal` followed by
    ``mean()``, in fewer tensor operations: the mean of a batch is a dot
    product, the gradient is formed during the forward pass (it reuses
    ``p``, ``1 - p`` and ``log p``) and the backward pass is one
    multiplication. On a 256-row CPU batch, where each operation costs its
    dispatch rather than its arithmetic, forward and backward through
    :class:`FocalLoss` take 1.9x BCE's time against 2.3x for the per-sample
    function and its separate mean (``benchmarks/bench_loss_step.py``). It
    is the hot path of
    ``FocalClassifier()``, whose ``alpha`` is ``None``. ``form_gradient`` is
    decided by the caller, which sees the grad mode (the forward pass runs
    with it off).
    """

    @staticmethod
    def forward(
        ctx, logits: Tensor, target: Tensor, gamma: float, form_gradient: bool
    ) -> Tensor:
        sign = target.mul(2.0).sub_(1.0)
        signed_logits = logits * sign
        log_p = F.logsigmoid(signed_logits)
        one_minus_p = torch.sigmoid(-signed_logits)
        # Not differentiated through, so pow() is safe for gamma < 1 too.
        modulating = one_minus_p.pow(gamma)
        scale = 1.0 / logits.shape[0]
        if form_gradient:
            # d mean / dx = sign / n * (1 - p)^g (g p log p - (1 - p)).
            grad = torch.addcmul(one_minus_p, log_p.exp(), log_p, value=-gamma)
            ctx.save_for_backward(grad.mul_(modulating).mul_(sign).mul_(-scale))
        if logits.shape[0] <= _DOT_MAX_ROWS:
            return torch.dot(modulating, log_p).mul_(-scale)
        return modulating.mul_(log_p).mean().neg_()

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output: Tensor):
        if not ctx.saved_tensors:  # only the targets asked for a gradient
            return None, None, None, None
        (grad,) = ctx.saved_tensors
        return grad * grad_output, None, None, None


def _focal_per_sample(
    logits: Tensor, target: Tensor, binary: bool, gamma: GammaLike
) -> Tensor:
    """Unweighted focal loss of each sample, on validated inputs."""
    if gamma == "adaptive":
        if binary:
            gamma_values = adaptive_gamma(
                F.logsigmoid(_signed_logits(logits.detach(), target))
            )
            return _BinaryFocal.apply(logits, target, gamma_values)
        log_pt, log_one_minus_pt = _log_pt_and_log_one_minus_pt(logits, target, False)
        return torch.exp(adaptive_gamma(log_pt) * log_one_minus_pt) * -log_pt
    if gamma == 0:
        # Cross-entropy: torch's fused kernels, no log(1 - p_t) needed.
        if binary:
            return F.binary_cross_entropy_with_logits(logits, target, reduction="none")
        return F.cross_entropy(logits, target, reduction="none")
    if binary:
        return _BinaryFocal.apply(logits, target, gamma)
    log_pt, log_one_minus_pt = _log_pt_and_log_one_minus_pt(logits, target, binary)
    # (1 - p_t) ** gamma as exp(gamma * log(1 - p_t)): finite gradient even
    # for gamma < 1 where p_t -> 1, unlike pow() whose derivative blows up.
    return torch.exp(gamma * log_one_minus_pt) * -log_pt


def _focal(
    logits: Tensor,
    target: Tensor,
    binary: bool,
    gamma: GammaLike,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    """Focal loss on validated inputs (the shared core of function and module)."""
    if (
        binary
        and reduction == "mean"
        and class_weight is None
        and sample_weight is None
        and not isinstance(gamma, str)
        and gamma != 0
        and logits.dtype in (torch.float32, torch.float64)
        and logits.shape[0] > 0
    ):
        form_gradient = torch.is_grad_enabled() and logits.requires_grad
        # Validated binary targets are already in the logits' dtype.
        return _BinaryFocalMean.apply(logits, target, float(gamma), form_gradient)
    loss = _focal_per_sample(logits, target, binary, gamma)
    weight = _sample_weights(class_weight, target, binary, sample_weight, logits)
    return _reduce(loss, weight, reduction)


def focal_loss(
    logits: Tensor,
    target: Tensor,
    gamma: GammaLike = 2.0,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Focal loss of Lin et al. (2017) for binary or multi-class logits.

    .. math:: FL(p_t) = -\alpha_t (1 - p_t)^\gamma \log(p_t)

    where :math:`p_t` is the predicted probability of the true class
    (``sigmoid`` for binary logits, ``softmax`` for multi-class ones).
    ``gamma="adaptive"`` is the sample-dependent FLSD-53 schedule of Mukhoti
    et al. (2020): :math:`\gamma = 5` where :math:`p_t < 0.2` and
    :math:`\gamma = 3` elsewhere (see :func:`adaptive_gamma`).

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores. One column means a binary problem with a sigmoid.
    target : Tensor of shape (N,)
        ``0``/``1`` (float or int) for binary problems, integer class indices
        in ``[0, C)`` otherwise.
    gamma : float or "adaptive", default=2.0
        Focusing parameter, ``>= 0``. ``gamma=0`` is (weighted) cross-entropy;
        ``"adaptive"`` is FLSD-53.
    alpha : None, float or sequence of float, default=None
        Class weights: a float in ``[0, 1]`` is the weight of class 1 in a
        binary problem (class 0 gets ``1 - alpha``); a sequence gives one
        weight per class.
    sample_weight : Tensor of shape (N,), default=None
        Per-sample weights, multiplied with the class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        ``"mean"`` is the weighted mean ``sum(w_i l_i) / sum(w_i)`` (0 when
        the weights sum to 0).

    Returns
    -------
    loss : Tensor
        A scalar, or shape ``(N,)`` with ``reduction="none"`` (already
        multiplied by the per-sample weights).

    See Also
    --------
    FocalLoss : The module form.
    balanced_cross_entropy : The special case ``gamma=0``.
    poly1_loss : The focal loss plus a polynomial term.

    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss
       for Dense Object Detection", ICCV 2017.
    .. [2] J. Mukhoti, V. Kulharia, A. Sanyal, S. Golodetz, P. H. S. Torr and
       P. K. Dokania, "Calibrating Deep Neural Networks using Focal Loss",
       NeurIPS 2020.

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
    >>> round(focal_loss(logits, target, gamma="adaptive").item(), 4)
    0.0804
    """
    _check_focal_gamma(gamma)
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


class FocalLoss(_WeightedLoss):
    """Focal loss module; see :func:`focal_loss`.

    Parameters
    ----------
    gamma : float or "adaptive", default=2.0
        Focusing parameter, ``>= 0``, or ``"adaptive"`` for FLSD-53.
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
        gamma: GammaLike = 2.0,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_focal_gamma(gamma)
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
        return f"gamma={self.gamma!r}, " + super().extra_repr()


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
