"""Log-probabilities of the true class, computed without cancellation."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _signed_logits(logits: Tensor, target: Tensor) -> Tensor:
    """The logit of the true class of a binary problem: ``x`` for 1, ``-x`` for 0."""
    return torch.where(target > 0.5, logits, -logits)


def _log_pt_and_log_one_minus_pt(
    logits: Tensor, target: Tensor, binary: bool
) -> tuple[Tensor, Tensor]:
    """``log(p_t)`` and ``log(1 - p_t)``, both computed without cancellation."""
    if binary:
        # z is the logit of the true class: p_t = sigmoid(z), 1 - p_t = sigmoid(-z).
        signed_logits = _signed_logits(logits, target)
        return F.logsigmoid(signed_logits), F.logsigmoid(-signed_logits)
    log_probs = F.log_softmax(logits, dim=1)
    log_pt = log_probs.gather(1, target.unsqueeze(1)).squeeze(1)
    # 1 - p_t is the total probability of the other classes: a logsumexp over
    # them stays accurate when p_t -> 1, where log1p(-p_t) would round to -inf.
    true_class = F.one_hot(target, logits.shape[1]).bool()
    log_rest = log_probs.masked_fill(true_class, float("-inf")).logsumexp(dim=1)
    return log_pt, log_rest
