"""Poly-1 loss of Leng et al. (2022), on cross-entropy or on the focal loss."""

from __future__ import annotations

import torch
from torch import Tensor

from skfocal.losses._base import _WeightedLoss
from skfocal.losses._logspace import _log_pt_and_log_one_minus_pt
from skfocal.losses._validation import (
    AlphaLike,
    Reduction,
    _check_real,
    _check_reduction,
    _reduce,
    _sample_weights,
    _validated,
)


def _check_poly(epsilon: float, gamma: float) -> None:
    # epsilon < -1 makes the loss decrease as p_t -> 1 stops (for gamma=0 its
    # derivative in p_t is -1/p_t - epsilon): it would reward wrong answers.
    _check_real("epsilon", epsilon, low=-1)
    _check_real("gamma", gamma, low=0)


def _poly1(
    logits: Tensor,
    target: Tensor,
    binary: bool,
    epsilon: float,
    gamma: float,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    """Poly-1 on validated inputs."""
    log_pt, log_one_minus_pt = _log_pt_and_log_one_minus_pt(logits, target, binary)
    # (1 - p_t)^k as exp(k log(1 - p_t)): finite gradients at saturated logits.
    base = -log_pt
    if gamma != 0:
        base = torch.exp(gamma * log_one_minus_pt) * base
    loss = base + epsilon * torch.exp((gamma + 1.0) * log_one_minus_pt)
    weight = _sample_weights(class_weight, target, binary, sample_weight, logits)
    return _reduce(loss, weight, reduction)


def poly1_loss(
    logits: Tensor,
    target: Tensor,
    epsilon: float = 1.0,
    gamma: float = 0.0,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Poly-1 loss of Leng et al. (2022), optionally on top of the focal loss.

    .. math:: \ell = -(1 - p_t)^\gamma \log p_t + \epsilon (1 - p_t)^{\gamma + 1}

    With :math:`\gamma = 0` this is cross-entropy plus
    :math:`\epsilon (1 - p_t)`: the first coefficient of the Taylor expansion
    of cross-entropy in :math:`1 - p_t` is raised by :math:`\epsilon`, which
    adds a constant :math:`\epsilon` to the gradient pull of every sample
    (:math:`\epsilon > 0`) or removes it (:math:`\epsilon < 0`). With
    :math:`\gamma > 0` it is the focal loss plus
    :math:`\epsilon (1 - p_t)^{\gamma+1}`. ``epsilon=0`` gives cross-entropy
    (``gamma=0``) or the focal loss.

    The class weights ``alpha`` weight the whole per-sample loss (the
    weighted mean of the package), where the authors' code weights only the
    focal part.

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores. One column means a binary problem with a sigmoid.
    target : Tensor of shape (N,)
        ``0``/``1`` for binary problems, integer class indices otherwise.
    epsilon : float, default=1.0
        Coefficient of the polynomial term, ``>= -1`` (below -1 the loss
        would reward confident mistakes).
    gamma : float, default=0.0
        Focusing parameter, ``>= 0``; 0 is Poly-1 on cross-entropy.
    alpha : None, float or sequence of float, default=None
        Class weights, as in :func:`focal_loss`.
    sample_weight : Tensor of shape (N,), default=None
        Per-sample weights, multiplied with the class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        ``"mean"`` is the weighted mean ``sum(w_i l_i) / sum(w_i)``.

    Returns
    -------
    loss : Tensor
        A scalar, or shape ``(N,)`` with ``reduction="none"``.

    See Also
    --------
    Poly1Loss : The module form.
    focal_loss : The case ``epsilon=0``.

    References
    ----------
    .. [1] Z. Leng, M. Tan, C. Liu, E. D. Cubuk, X. Shi, S. Cheng and
       D. Anguelov, "PolyLoss: A Polynomial Expansion Perspective of
       Classification Loss Functions", ICLR 2022.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import poly1_loss
    >>> logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    >>> target = torch.tensor([0, 2])
    >>> round(poly1_loss(logits, target, epsilon=1.0).item(), 4)
    1.2757
    >>> ce = torch.nn.functional.cross_entropy(logits, target)
    >>> bool(torch.isclose(poly1_loss(logits, target, epsilon=0.0), ce))
    True
    """
    _check_poly(epsilon, gamma)
    _check_reduction(reduction)
    logits, target, binary, class_weight = _validated(logits, target, alpha)
    return _poly1(
        logits,
        target,
        binary,
        epsilon,
        gamma,
        class_weight,
        sample_weight,
        reduction,
    )


class Poly1Loss(_WeightedLoss):
    """Poly-1 loss module; see :func:`poly1_loss`.

    Parameters
    ----------
    epsilon : float, default=1.0
        Coefficient of the polynomial term, ``>= -1``.
    gamma : float, default=0.0
        Focusing parameter, ``>= 0``.
    alpha : None, float or sequence of float, default=None
        Class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check target values on every call (see :class:`FocalLoss`).

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import Poly1Loss
    >>> criterion = Poly1Loss(epsilon=2.0, gamma=2.0, alpha=0.75)
    >>> logits = torch.tensor([1.5, -0.5], requires_grad=True)
    >>> criterion(logits, torch.tensor([1, 0])).backward()
    >>> logits.grad.shape
    torch.Size([2])
    """

    def __init__(
        self,
        epsilon: float = 1.0,
        gamma: float = 0.0,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_poly(epsilon, gamma)
        super().__init__(alpha, reduction, check_targets)
        self.epsilon = epsilon
        self.gamma = gamma

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        logits, target, binary, class_weight = self._prepare(logits, target)
        return _poly1(
            logits,
            target,
            binary,
            self.epsilon,
            self.gamma,
            class_weight,
            sample_weight,
            self.reduction,
        )

    def extra_repr(self) -> str:
        return f"epsilon={self.epsilon}, gamma={self.gamma}, " + super().extra_repr()
