"""GHM-C, the gradient harmonizing loss of Li et al. (2019)."""

from __future__ import annotations

import torch
from torch import Tensor

from skfocal.losses._base import _WeightedLoss
from skfocal.losses._logspace import _log_pt_and_log_one_minus_pt
from skfocal.losses._validation import (
    AlphaLike,
    Reduction,
    _as_sample_weight,
    _check_bins,
    _check_momentum,
    _check_reduction,
    _reduce,
    _sample_weights,
    _split_problem,
    _validated,
)


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


def _inner_edges(
    bins: int, dtype: torch.dtype, device: torch.device | str | None = None
) -> Tensor:
    """Inner edges ``k / bins`` of equal bins on [0, 1].

    ``bucketize`` against the inner edges puts ``g == 1.0`` in the last bin,
    and each inner edge belongs to the bin that starts there.
    """
    return torch.arange(1, bins, dtype=dtype, device=device).div_(bins)


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
        inner_edges = _inner_edges(bins, gradient_norm.dtype, gradient_norm.device)
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
    # With every sample weighted 0 there is no non-empty bin; clamping the
    # number of bins to 1 gives weights of 0 instead of 0 / 0.
    n_nonempty = (counts > 0).sum().clamp_min(1)
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
        Moving average of the bin counts (a float32 buffer; saved with the
        state).
    ema_weight : Tensor
        ``1 - momentum ** t`` after ``t`` training batches, the divisor of
        the bias correction (a float32 buffer).
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
        # float32 state: MPS has no float64, and a moving average of counts
        # needs no more than float32's 7 digits. Floating buffers follow
        # ``.to(dtype)`` like any module's.
        self.register_buffer("bin_count_ema", torch.zeros(bins, dtype=torch.float32))
        self.register_buffer("n_updates", torch.zeros((), dtype=torch.long))
        # 1 - momentum ** t, the total weight of the average so far.
        self.register_buffer("ema_weight", torch.zeros((), dtype=torch.float32))
        # The edges for float32 logits, cached: k / bins rounded from
        # float64, the edges this module has always binned float32 with.
        self.register_buffer(
            "inner_edges",
            _inner_edges(bins, torch.float64).to(torch.float32),
            persistent=False,
        )

    def reset_state(self) -> None:
        """Forget the moving average, as at the start of a fresh training run."""
        self.bin_count_ema.zero_()
        self.n_updates.zero_()
        self.ema_weight.zero_()

    def _averaged_counts(self, counts: Tensor) -> Tensor:
        if not self.training or self.momentum == 0:
            return counts
        self.bin_count_ema.mul_(self.momentum).add_(counts, alpha=1 - self.momentum)
        self.n_updates.add_(1)
        # Bias correction as in Adam: divide by 1 - momentum ** t. It is kept
        # as the moving average of a constant 1, updated like the counts: no
        # host sync, and no cancellation in float32 (1 - 0.99 ** t computed
        # from a float32 power loses digits for small t).
        self.ema_weight.mul_(self.momentum).add_(1 - self.momentum)
        return (self.bin_count_ema / self.ema_weight).to(counts.dtype)

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
            self._edges_for(logits),
        )

    def _edges_for(self, logits: Tensor) -> Tensor:
        edges = self.inner_edges
        if logits.dtype == torch.float32 and edges.dtype == torch.float32:
            return edges if edges.device == logits.device else edges.to(logits.device)
        # Other dtypes (float64, half precision) get edges computed in their
        # own precision, never a rounded float32 copy.
        return _inner_edges(self.bins, logits.dtype, logits.device)

    def extra_repr(self) -> str:
        return f"bins={self.bins}, momentum={self.momentum}, " + super().extra_repr()
