"""Asymmetric loss (ASL) of Ridnik et al. (2021), binary form."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from skfocal.losses._base import _WeightedLoss
from skfocal.losses._validation import (
    Reduction,
    _check_real,
    _check_reduction,
    _reduce,
    _sample_weights,
    _split_problem,
)


def _check_asymmetric(gamma_pos: float, gamma_neg: float, clip: float) -> None:
    _check_real("gamma_pos", gamma_pos, low=0)
    _check_real("gamma_neg", gamma_neg, low=0)
    _check_real("clip", clip, low=0, high=1, high_open=True)


def _reject_multiclass(logits: Tensor) -> None:
    """Say so before any other check when the logits have several columns."""
    if isinstance(logits, Tensor) and logits.ndim == 2 and logits.shape[1] > 1:
        raise ValueError(
            "the asymmetric loss is defined for binary problems only (logits of "
            f"shape (N,) or (N, 1)); got logits of shape {tuple(logits.shape)}. "
            "Use focal_loss or poly1_loss for multi-class problems."
        )


def _negative_term(logits: Tensor, gamma_neg: float, clip: float) -> Tensor:
    """``-p_m ** gamma_neg * log(1 - p_m)`` with ``p_m = max(p - clip, 0)``.

    In log space: ``log(1 - p_m) = log(sigmoid(-x) + clip)`` is a
    ``logaddexp`` and ``log(p_m) = log(p) + log1p(-clip / p)``. Where
    ``p <= clip`` the term is 0; those samples are computed on a stand-in
    logit and masked out, so that no ``0 * inf`` reaches the gradient.
    """
    log_p = F.logsigmoid(logits)
    if clip == 0:
        return torch.exp(gamma_neg * log_p) * -F.logsigmoid(-logits)
    with torch.no_grad():
        # clip / p < 1  <=>  p > clip; exp(-log p) may overflow to inf, which
        # only makes the comparison false.
        shifted = clip * torch.exp(-log_p) < 1
    safe_logits = torch.where(shifted, logits, torch.zeros_like(logits))
    log_p = F.logsigmoid(safe_logits)
    ratio = torch.where(shifted, clip * torch.exp(-log_p), torch.zeros_like(log_p))
    log_p_shifted = log_p + torch.log1p(-ratio)
    log_one_minus_p_shifted = torch.logaddexp(
        F.logsigmoid(-safe_logits),
        torch.tensor(math.log(clip), dtype=logits.dtype, device=logits.device),
    )
    term = torch.exp(gamma_neg * log_p_shifted) * -log_one_minus_p_shifted
    return torch.where(shifted, term, torch.zeros_like(term))


def _asymmetric(
    logits: Tensor,
    target: Tensor,
    gamma_pos: float,
    gamma_neg: float,
    clip: float,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    """ASL on validated binary inputs."""
    positive = -F.logsigmoid(logits)
    if gamma_pos != 0:
        positive = torch.exp(gamma_pos * F.logsigmoid(-logits)) * positive
    negative = _negative_term(logits, gamma_neg, clip)
    loss = torch.where(target > 0.5, positive, negative)
    weight = _sample_weights(class_weight, target, True, sample_weight, logits)
    return _reduce(loss, weight, reduction)


def asymmetric_loss(
    logits: Tensor,
    target: Tensor,
    gamma_pos: float = 0.0,
    gamma_neg: float = 4.0,
    clip: float = 0.05,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Asymmetric loss (ASL) of Ridnik et al. (2021) for one binary logit.

    .. math:: L = -y (1 - p)^{\gamma_+} \log p
              - (1 - y)\, p_m^{\gamma_-} \log(1 - p_m),
              \qquad p = \sigma(z), \quad p_m = \max(p - m, 0)

    Positives and negatives get their own focusing parameters, and the
    probability of a negative is shifted down by the margin :math:`m`
    (``clip``), so that negatives with :math:`p \le m` cost nothing: easy
    negatives (under imbalance, most of the majority class) are discarded
    outright and the focusing of the rest is stronger
    (:math:`\gamma_- > \gamma_+`). ``gamma_pos=gamma_neg=0, clip=0`` is
    binary cross-entropy. Unlike the authors' code, the focusing weights are
    not detached: the gradient is that of the loss as written.

    Parameters
    ----------
    logits : Tensor of shape (N,) or (N, 1)
        Raw scores of class 1. Multi-class logits raise an error.
    target : Tensor of shape (N,)
        ``0``/``1``.
    gamma_pos : float, default=0.0
        Focusing parameter of the positives (class 1), ``>= 0``.
    gamma_neg : float, default=4.0
        Focusing parameter of the negatives (class 0), ``>= 0``.
    clip : float, default=0.05
        Probability margin of the negatives, in ``[0, 1)``.
    sample_weight : Tensor of shape (N,), default=None
        Per-sample weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        ``"mean"`` is the weighted mean ``sum(w_i l_i) / sum(w_i)``.

    Returns
    -------
    loss : Tensor
        A scalar, or shape ``(N,)`` with ``reduction="none"``.

    See Also
    --------
    AsymmetricLoss : The module form.

    References
    ----------
    .. [1] T. Ridnik, E. Ben-Baruch, N. Zamir, A. Noy, I. Friedman,
       M. Protter and L. Zelnik-Manor, "Asymmetric Loss For Multi-Label
       Classification", ICCV 2021.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import asymmetric_loss
    >>> logits = torch.tensor([2.0, -3.0, 0.5])
    >>> target = torch.tensor([1, 0, 0])
    >>> asymmetric_loss(logits, target, reduction="none")
    tensor([0.1269, 0.0000, 0.0913])
    >>> bce = torch.nn.functional.binary_cross_entropy_with_logits(
    ...     logits, target.float())
    >>> plain = asymmetric_loss(logits, target, gamma_neg=0.0, clip=0.0)
    >>> bool(torch.isclose(plain, bce))
    True
    """
    _check_asymmetric(gamma_pos, gamma_neg, clip)
    _check_reduction(reduction)
    _reject_multiclass(logits)
    logits, target, _ = _split_problem(logits, target)
    return _asymmetric(
        logits, target, gamma_pos, gamma_neg, clip, None, sample_weight, reduction
    )


class AsymmetricLoss(_WeightedLoss):
    """Asymmetric loss module (binary); see :func:`asymmetric_loss`.

    Parameters
    ----------
    gamma_pos : float, default=0.0
        Focusing parameter of the positives, ``>= 0``.
    gamma_neg : float, default=4.0
        Focusing parameter of the negatives, ``>= 0``.
    clip : float, default=0.05
        Probability margin of the negatives, in ``[0, 1)``.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check target values on every call (see :class:`FocalLoss`).

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import AsymmetricLoss
    >>> criterion = AsymmetricLoss(gamma_pos=1.0, gamma_neg=4.0, clip=0.05)
    >>> logits = torch.tensor([[1.5], [-0.5]], requires_grad=True)
    >>> criterion(logits, torch.tensor([1, 0])).backward()
    >>> bool(torch.isfinite(logits.grad).all())
    True
    """

    def __init__(
        self,
        gamma_pos: float = 0.0,
        gamma_neg: float = 4.0,
        clip: float = 0.05,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_asymmetric(gamma_pos, gamma_neg, clip)
        # No alpha, as in the paper; set_class_weight still works (DRW).
        super().__init__(None, reduction, check_targets)
        self.gamma_pos = gamma_pos
        self.gamma_neg = gamma_neg
        self.clip = clip

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        _reject_multiclass(logits)
        logits, target, _, class_weight = self._prepare(logits, target)
        return _asymmetric(
            logits,
            target,
            self.gamma_pos,
            self.gamma_neg,
            self.clip,
            class_weight,
            sample_weight,
            self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"gamma_pos={self.gamma_pos}, gamma_neg={self.gamma_neg}, "
            f"clip={self.clip}, reduction={self.reduction!r}"
        )
