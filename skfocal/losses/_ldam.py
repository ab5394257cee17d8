"""Label-distribution-aware margin (LDAM) loss of Cao et al. (2019)."""

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


def ldam_margins(
    class_counts: Sequence[float] | Tensor, max_margin: float = 0.5
) -> Tensor:
    """Per-class LDAM margins ``Delta_j = C / n_j ** (1/4)``.

    ``C`` is set so that the largest margin, that of the rarest class, is
    ``max_margin``.

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (C,)
        Number (or total weight) of training samples per class, each ``> 0``.
    max_margin : float, default=0.5
        The margin of the rarest class, a finite number ``>= 0``.

    Returns
    -------
    margins : Tensor of shape (C,), float64
        On the CPU.

    Examples
    --------
    >>> from skfocal.losses import ldam_margins
    >>> ldam_margins([10000, 100, 1], max_margin=0.5)
    tensor([0.0500, 0.1581, 0.5000], dtype=torch.float64)
    """
    _check_real("max_margin", max_margin, low=0)
    counts = _positive_class_vector("class_counts", class_counts)
    inverse_root = counts.pow(-0.25)
    return inverse_root * (max_margin / inverse_root.max())


def _ldam(
    logits: Tensor,
    target: Tensor,
    binary: bool,
    margins: Tensor,
    scale: float,
    class_weight: Tensor | None,
    sample_weight: Tensor | None,
    reduction: str,
) -> Tensor:
    """LDAM on validated inputs and margins of the logits' dtype and device."""
    if binary:
        # The two-class logits [0, z]: the margin of class 1 lowers z, that of
        # class 0 lowers the zero logit, i.e. raises z, before the sigmoid.
        shift = torch.where(target > 0.5, -margins[1], margins[0])
        loss = F.binary_cross_entropy_with_logits(
            scale * (logits + shift), target, reduction="none"
        )
    else:
        true_class = F.one_hot(target, logits.shape[1]).to(logits.dtype)
        adjusted = logits - true_class * margins[target].unsqueeze(1)
        loss = F.cross_entropy(scale * adjusted, target, reduction="none")
    weight = _sample_weights(class_weight, target, binary, sample_weight, logits)
    return _reduce(loss, weight, reduction)


def ldam_loss(
    logits: Tensor,
    target: Tensor,
    class_counts: Sequence[float] | Tensor,
    max_margin: float = 0.5,
    scale: float = 30.0,
    alpha: AlphaLike = None,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "mean",
) -> Tensor:
    r"""LDAM loss of Cao et al. (2019): cross-entropy with class-size margins.

    .. math:: \ell = \mathrm{CE}\big(s\,(z - \Delta_y e_y),\ y\big), \qquad
              \Delta_j = \frac{C}{n_j^{1/4}}

    The true-class logit must beat the others by a margin that grows as the
    class gets rarer; :math:`C` makes the largest margin ``max_margin``
    (:func:`ldam_margins`) and :math:`s` is ``scale``. A binary problem with
    one logit :math:`z` is treated as the two-class logits :math:`[0, z]`.
    ``max_margin=0`` and ``scale=1`` give cross-entropy.

    Cao et al. pair the loss with *deferred re-weighting* (DRW): no class
    weights at first, then effective-number class weights
    (``class_weights(..., method="effective", beta=0.9999)``) for the last
    epochs. Here ``alpha`` holds the class weights;
    :meth:`LDAMLoss.set_class_weight` switches them during training.

    The network learns logits on the scale of :math:`1/s`: the matching class
    probabilities are ``softmax(scale * z)`` (``sigmoid(scale * z)`` for one
    logit), without the margins, which apply only in training.

    Parameters
    ----------
    logits : Tensor of shape (N,), (N, 1) or (N, C)
        Raw scores. One column means a binary problem.
    target : Tensor of shape (N,)
        ``0``/``1`` for binary problems, integer class indices otherwise.
    class_counts : sequence of float or Tensor of shape (C,)
        Training samples per class (``C = 2`` for one logit), each ``> 0``,
        e.g. from :func:`class_counts`.
    max_margin : float, default=0.5
        Margin of the rarest class, ``>= 0``.
    scale : float, default=30.0
        Multiplier of the logits inside the cross-entropy, ``> 0``.
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
    LDAMLoss : The module form, whose class weights can change in training.

    References
    ----------
    .. [1] K. Cao, C. Wei, A. Gaidon, N. Arechiga and T. Ma, "Learning
       Imbalanced Datasets with Label-Distribution-Aware Margin Loss",
       NeurIPS 2019.

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import ldam_loss
    >>> logits = torch.tensor([[0.2, 0.1], [0.0, 0.3]])
    >>> target = torch.tensor([0, 1])
    >>> round(ldam_loss(logits, target, class_counts=[90, 10]).item(), 4)
    5.8331
    >>> ce = torch.nn.functional.cross_entropy(logits, target)
    >>> plain = ldam_loss(logits, target, [90, 10], max_margin=0.0, scale=1.0)
    >>> bool(torch.isclose(plain, ce))
    True
    """
    _check_real("scale", scale, low=0, low_open=True)
    _check_reduction(reduction)
    margins = ldam_margins(class_counts, max_margin)
    logits, target, binary, class_weight = _validated(logits, target, alpha)
    _check_n_classes(
        "class_counts", margins.numel(), 2 if binary else logits.shape[1], binary
    )
    return _ldam(
        logits,
        target,
        binary,
        margins.to(logits.device, logits.dtype),
        scale,
        class_weight,
        sample_weight,
        reduction,
    )


class LDAMLoss(_WeightedLoss):
    """LDAM loss module; see :func:`ldam_loss`.

    For deferred re-weighting, start with ``alpha=None`` and call
    :meth:`set_class_weight` with the late-training class weights at the
    switch (Cao et al. switch at 80% of the epochs).

    Parameters
    ----------
    class_counts : sequence of float or Tensor of shape (C,)
        Training samples per class (``C = 2`` for one logit), each ``> 0``.
    max_margin : float, default=0.5
        Margin of the rarest class, ``>= 0``.
    scale : float, default=30.0
        Multiplier of the logits inside the cross-entropy, ``> 0``.
    alpha : None, float or sequence of float, default=None
        Initial class weights.
    reduction : {"none", "mean", "sum"}, default="mean"
        How to reduce over samples.
    check_targets : bool, default=True
        Check target values on every call (see :class:`FocalLoss`).

    Attributes
    ----------
    margins : Tensor of shape (C,)
        The per-class margins (a float32 buffer).
    class_weight : Tensor of shape (C,) or None
        The current class weights (a buffer).

    Examples
    --------
    >>> import torch
    >>> from skfocal.losses import LDAMLoss, class_weights
    >>> labels = torch.tensor([0] * 90 + [1] * 10)
    >>> criterion = LDAMLoss(class_counts=[90, 10], max_margin=0.5, scale=30.0)
    >>> loss = criterion(torch.randn(100), labels)
    >>> criterion.set_class_weight(
    ...     class_weights(labels, method="effective", beta=0.9999))
    >>> [round(w, 3) for w in criterion.class_weight.tolist()]
    [0.201, 1.799]
    """

    def __init__(
        self,
        class_counts: Sequence[float] | Tensor,
        max_margin: float = 0.5,
        scale: float = 30.0,
        alpha: AlphaLike = None,
        reduction: Reduction = "mean",
        check_targets: bool = True,
    ) -> None:
        _check_real("scale", scale, low=0, low_open=True)
        margins = ldam_margins(class_counts, max_margin)
        super().__init__(alpha, reduction, check_targets)
        self.max_margin = max_margin
        self.scale = scale
        self.class_counts = tuple(
            float(c) for c in _positive_class_vector("class_counts", class_counts)
        )
        self.register_buffer("margins", margins.to(torch.float32))

    def forward(
        self, logits: Tensor, target: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        logits, target, binary, class_weight = self._prepare(logits, target)
        margins = self._class_constant("margins", logits)
        _check_n_classes(
            "class_counts", margins.numel(), 2 if binary else logits.shape[1], binary
        )
        return _ldam(
            logits,
            target,
            binary,
            margins,
            self.scale,
            class_weight,
            sample_weight,
            self.reduction,
        )

    def extra_repr(self) -> str:
        return (
            f"max_margin={self.max_margin}, scale={self.scale}, " + super().extra_repr()
        )
