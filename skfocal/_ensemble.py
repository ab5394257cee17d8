"""Network outputs with several ensemble members (torch only).

The contract: a module with an attribute ``n_members = k > 1`` returns
logits of shape ``(N, k)`` for a binary problem or ``(N, k, C)`` for a
multi-class one; without it (or with ``k = 1``) the shapes are ``(N,)`` and
``(N, C)``. Training averages the loss over members by treating them as
extra rows of the batch. Prediction averages the members' probabilities;
the logit of that average is the decision score, so ``predict``,
``predict_proba`` and ``decision_function`` always agree.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "ensemble_log_probabilities",
    "ensemble_logits",
    "members_as_batch",
    "n_members",
]


def n_members(module: nn.Module) -> int:
    """Number of ensemble members of ``module`` (1 without ``n_members``).

    Examples
    --------
    >>> import torch
    >>> from skfocal._ensemble import n_members
    >>> n_members(torch.nn.Linear(2, 1))
    1
    """
    return int(getattr(module, "n_members", 1))


def members_as_batch(
    logits: Tensor, target: Tensor, sample_weight: Tensor | None, members: int
) -> tuple[Tensor, Tensor, Tensor | None]:
    """Flatten members into the batch, so one weighted mean covers them all.

    Parameters
    ----------
    logits : Tensor of shape (N, k) or (N, k, C)
        Member logits (shapes ``(N,)``/``(N, C)`` when ``members == 1``).
    target : Tensor of shape (N,)
        Encoded labels.
    sample_weight : Tensor of shape (N,) or None
        Per-sample weights.
    members : int
        ``k``.

    Returns
    -------
    logits, target, sample_weight
        ``(N * k,)``/``(N * k, C)`` logits with target and weights repeated
        ``k`` times (member index varying fastest, as in the logits).

    Examples
    --------
    >>> import torch
    >>> from skfocal._ensemble import members_as_batch
    >>> logits, target, _ = members_as_batch(
    ...     torch.zeros(2, 3), torch.tensor([0.0, 1.0]), None, 3
    ... )
    >>> logits.shape, target.tolist()
    (torch.Size([6]), [0.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    """
    if members == 1:
        return logits, target, sample_weight
    _check_member_axis(logits, members)
    flat = logits.reshape(logits.shape[0] * members, *logits.shape[2:])
    target = target.repeat_interleave(members)
    if sample_weight is not None:
        sample_weight = sample_weight.repeat_interleave(members)
    return flat, target, sample_weight


def ensemble_log_probabilities(logits: Tensor, members: int) -> Tensor:
    """Log of the members' averaged class probabilities, shape ``(N, C)``.

    Binary logits give two columns (class 0, class 1). Computed with
    ``logsumexp`` so that saturated members stay finite.

    Examples
    --------
    >>> import torch
    >>> from skfocal._ensemble import ensemble_log_probabilities
    >>> ensemble_log_probabilities(torch.tensor([[0.0, 0.0]]), 2).exp()
    tensor([[0.5000, 0.5000]])
    """
    if members == 1:
        if logits.ndim == 1:
            return torch.stack([F.logsigmoid(-logits), F.logsigmoid(logits)], dim=1)
        return F.log_softmax(logits, dim=1)
    _check_member_axis(logits, members)
    if logits.ndim == 2:
        per_member = torch.stack([F.logsigmoid(-logits), F.logsigmoid(logits)], dim=2)
    else:
        per_member = F.log_softmax(logits, dim=2)
    return torch.logsumexp(per_member, dim=1) - math.log(members)


def ensemble_logits(logits: Tensor, members: int) -> Tensor:
    """Decision scores of the averaged prediction.

    Binary: ``log p - log(1 - p)`` of the averaged probability ``p``, shape
    ``(N,)``; multi-class: ``log`` of the averaged probabilities, ``(N, C)``.
    With one member the logits are returned unchanged.

    Examples
    --------
    >>> import torch
    >>> from skfocal._ensemble import ensemble_logits
    >>> ensemble_logits(torch.tensor([[2.0, -2.0]]), 2)
    tensor([0.])
    """
    if members == 1:
        return logits
    log_proba = ensemble_log_probabilities(logits, members)
    if logits.ndim == 2:
        return log_proba[:, 1] - log_proba[:, 0]
    return log_proba


def _check_member_axis(logits: Tensor, members: int) -> None:
    if logits.ndim not in (2, 3) or logits.shape[1] != members:
        raise ValueError(
            f"A module with n_members={members} must return logits of shape "
            f"(N, {members}) or (N, {members}, C); got {tuple(logits.shape)}."
        )
