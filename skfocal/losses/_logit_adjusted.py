"""Logit-adjusted cross-entropy of Menon et al. (2021)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from skfocal.losses._base import _WeightedLoss
from skfocal.losses._validation import (
    AlphaLike,
    Reduction,
    _check_n_classes,
    _check_real,
    _check_reduction,
    _positive_class_vector,
    _reduce,
    _sample_weights,
    _validated,
)


def _log_prior(class_prior: Sequence[float] | Tensor) -> Tensor:
    """Checked ``log(pi)`` in float64, with ``pi`` normalised to sum to 1."""
    prior = _positive_class_vector("class_prior", class_prior)
    return torch.log(prior / prior.sum())


def _logit_shift(log_prior: Tensor, tau: float, binary: bool) -> Tensor:
    """What is added to the logits: ``tau log pi``, or its difference if binary."""
    if binary:
        return tau * (log_prior[1] - log_prior[0])
    return tau * log_prior


def _logit_adjusted(
    logits: Tensor,
    target: Tensor,
    binary: bool,
    shift: Tensor,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    """Logit-adjusted loss on validated inputs and a shift of the logits' dtype."""
    adjusted = logits + shift
    if binary:
        loss = F.binary_cross_entropy_with_logits(adjusted, target, reduction="none")
    else:
        loss = F.cross_entropy(adjusted, target, reduction="none")
    weight = _sample_weights(class_weight, target, binary, sample_weight, logits)
    return _reduce(loss, weight, reduction)


def logit_adjusted_loss(
    logits: Tensor,
    target: Tensor,
    class_prior: Sequence[float] | Tensor,
    tau: float = 1.0,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""Logit-adjusted cross-entropy of Menon et al. (2021).

    .. math:: \ell = -\log \frac{e^{z_y + \tau \log \pi_y}}
              {\sum_j e^{z_j + \tau \log \pi_j}}

    with :math:`\pi` the class priors of the training data. Training on the
    shifted logits lets the raw logits :math:`z` learn the class posterior of
    a *balanced* problem: with :math:`\tau = 1`, ``softmax(z)`` estimates
    :math:`p(y|x) / \pi_y` (renormalised), so ``argmax z`` minimises the
    balanced error, and ``softmax(z + tau * log(pi))`` is the estimate of
    :math:`p(y|x)` under the training prior. At :math:`\tau = 1` the loss is
    the Balanced Softmax of Ren et al. (2020); :math:`\tau = 0` is
    cross-entropy. For one logit (binary), the shift is
    :math:`\tau \log(\pi_1 / \pi_0)` and the loss is binary cross-entropy on
    the shifted logit.

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores. One column means a binary problem with a sigmoid.
    target : Tensor of shape (N,)
        ``0``/``1`` for binary problems, integer class indices otherwise.
    class_prior : sequence of float or Tensor of shape (C,)
        Training-class frequencies ``[pi_0, ..., pi_{C-1}]`` (``C = 2`` for one
        logit), e.g. from :func:`class_prior`. Every value must be finite and
        ``> 0``; they are normalised to sum to 1, so class counts work too.
    tau : float, default=1.0
        Strength of the adjustment, a finite number ``>= 0``.
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
    LogitAdjustedLoss : The module form.

    References
    ----------
    .. [1] A. K. Menon, S. Jayasumana, A. S. Rawat, H. Jain, A. Veit and
       S. Kumar, "Long-tail learning via logit adjustment", ICLR 2021.
    .. [2] J. Ren, C. Yu, S. Sheng, X. Ma, H. Zhao, S. Yi and H. Li,
       "Balanced Meta-Softmax for Long-Tailed Visual Recognition",
       NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import logit_adjusted_loss
    >>> logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]])
    >>> target = torch.tensor([0, 2])
    >>> prior = [0.7, 0.2, 0.1]
    >>> round(logit_adjusted_loss(logits, target, prior).item(), 4)
    1.4036
    >>> ce = torch.nn.functional.cross_entropy(logits, target)
    >>> bool(torch.isclose(logit_adjusted_loss(logits, target, prior, tau=0.0), ce))
    True
    """
    _check_real("tau", tau, low=0)
    _check_reduction(reduction)
    log_prior = _log_prior(class_prior)
    logits, target, binary, class_weight = _validated(logits, target, alpha)
    _check_n_classes(
        "class_prior", log_prior.numel(), 2 if binary else logits.shape[1], binary
    )
    shift = _logit_shift(log_prior, tau, binary).to(logits.device, logits.dtype)
    return _logit_adjusted(
        logits, target, binary, shift, class_weight, sample_weight, reduction
    )


class LogitAdjustedLoss(_WeightedLoss):
    """Logit-adjusted cross-entropy module; see :func:`logit_adjusted_loss`.

    Parameters
    ----------
    class_prior : sequence of float or Tensor of shape (C,)
        Training-class frequencies (``C = 2`` for one logit), finite and
        ``> 0``; normalised to sum to 1.
    tau : float, default=1.0
        Strength of the adjustment, ``>= 0``.
    alpha : None, float or sequence of float, default=None
        Class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check target values on every call (see :class:`FocalLoss`).

    Attributes
    ----------
    log_prior : Tensor of shape (C,)
        ``log(pi)`` of the normalised priors (a float32 buffer).

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import LogitAdjustedLoss
    >>> criterion = LogitAdjustedLoss(class_prior=[0.9, 0.1], reduction="none")
    >>> per_sample = criterion(torch.tensor([0.0, 0.0]), torch.tensor([0, 1]))
    >>> [round(v, 4) for v in per_sample.tolist()]
    [0.1054, 2.3026]
    """

    def __init__(
        self,
        class_prior: Sequence[float] | Tensor,
        tau: float = 1.0,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_real("tau", tau, low=0)
        log_prior = _log_prior(class_prior)
        super().__init__(alpha, reduction, check_targets)
        self.tau = tau
        self.class_prior = tuple(float(p) for p in log_prior.exp().tolist())
        self.register_buffer("log_prior", log_prior.to(torch.float32))

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        logits, target, binary, class_weight = self._prepare(logits, target)
        log_prior = self._class_constant("log_prior", logits)
        _check_n_classes(
            "class_prior", log_prior.numel(), 2 if binary else logits.shape[1], binary
        )
        shift = _logit_shift(log_prior, self.tau, binary)
        return _logit_adjusted(
            logits, target, binary, shift, class_weight, sample_weight, self.reduction
        )

    def extra_repr(self) -> str:
        prior = ", ".join(f"{p:.4g}" for p in self.class_prior)
        return f"class_prior=({prior}), tau={self.tau}, " + super().extra_repr()
