"""Per-class counts, priors and weights from integer-coded labels."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real
from typing import Literal

import torch
from torch import Tensor


def class_counts(
    target: Sequence[int] | Tensor,
    n_classes: int | None = None,
    sample_weight: Sequence[float] | Tensor | None = None,
) -> Tensor:
    """Number (or total sample weight) of the samples of each class.

    The ``class_counts`` that :func:`ldam_loss` takes.

    Parameters
    ----------
    target : sequence of int or Tensor
        Class indices in ``[0, n_classes)`` (for a binary problem, 0 and 1).
    n_classes : int, default=None
        Number of classes; by default ``max(target) + 1``.
    sample_weight : sequence of float or Tensor, default=None
        Finite, non-negative weights; a sample of weight 2 counts twice.

    Returns
    -------
    counts : Tensor of shape (n_classes,), float64
        On the CPU. Classes without samples count 0.

    Examples
    --------
    >>> from skfocal.losses import class_counts
    >>> class_counts([0, 0, 0, 1])
    tensor([3., 1.], dtype=torch.float64)
    >>> class_counts([0, 0, 1], n_classes=3, sample_weight=[1.0, 0.5, 2.0])
    tensor([1.5000, 2.0000, 0.0000], dtype=torch.float64)
    """
    # torch.tensor copies: pandas hands out read-only arrays, which
    # torch.as_tensor would wrap with a warning.
    labels = (target if isinstance(target, Tensor) else torch.tensor(target)).reshape(
        -1
    )
    if labels.numel() == 0:
        raise ValueError("target is empty; class counts need at least one label.")
    if torch.is_floating_point(labels) or labels.dtype == torch.bool:
        raise ValueError(
            f"target must hold integer class indices; got dtype {labels.dtype}."
        )
    labels = labels.long().cpu()
    if labels.min() < 0:
        raise ValueError(
            "target must hold non-negative class indices; got the value "
            f"{int(labels.min())}."
        )
    if n_classes is None:
        n_classes = int(labels.max()) + 1
    if isinstance(n_classes, bool) or not isinstance(n_classes, Integral):
        raise ValueError(f"n_classes must be an integer; got {n_classes!r} instead.")
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
        if (
            not torch.isfinite(weights_of_samples).all()
            or (weights_of_samples < 0).any()
        ):
            raise ValueError(
                "sample_weight must hold finite, non-negative values; got "
                f"values in [{weights_of_samples.min().item()}, "
                f"{weights_of_samples.max().item()}]."
            )
    counts = torch.bincount(labels, weights=weights_of_samples, minlength=n_classes)
    return counts.double()


def class_prior(
    target: Sequence[int] | Tensor,
    n_classes: int | None = None,
    sample_weight: Sequence[float] | Tensor | None = None,
) -> Tensor:
    """Frequency of each class, the ``class_prior`` of :func:`logit_adjusted_loss`.

    Parameters
    ----------
    target : sequence of int or Tensor
        Class indices in ``[0, n_classes)``.
    n_classes : int, default=None
        Number of classes; by default ``max(target) + 1``.
    sample_weight : sequence of float or Tensor, default=None
        Finite, non-negative weights; a sample of weight 2 counts twice.

    Returns
    -------
    prior : Tensor of shape (n_classes,), float64
        Sums to 1. Classes without samples get 0 (which the losses reject).

    Examples
    --------
    >>> from skfocal.losses import class_prior
    >>> class_prior([0, 0, 0, 1])
    tensor([0.7500, 0.2500], dtype=torch.float64)
    """
    counts = class_counts(target, n_classes=n_classes, sample_weight=sample_weight)
    total = counts.sum()
    if total <= 0:
        raise ValueError(
            "sample_weight sums to 0; the class prior is undefined without "
            "weight on any sample."
        )
    return counts / total


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
    counts = class_counts(target, n_classes=n_classes, sample_weight=sample_weight)
    n_classes = counts.numel()
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
