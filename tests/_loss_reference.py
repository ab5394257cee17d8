"""Independent float64 references for the loss tests (numpy and scipy).

Written from the papers' formulas, not from skfocal's code: probabilities
come from scipy's ``log_softmax`` / ``log_expit``, binary problems are
written as two-class softmax problems where the paper defines them that way,
and gradients come from central finite differences of these functions.
Every function returns per-sample losses (no weights); ``weighted_mean``
reduces them.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit, log_expit, log_softmax


def tolerance(dtype: torch.dtype) -> dict[str, float]:
    """Tolerances of a torch result in ``dtype`` against a float64 reference."""
    if dtype == torch.float32:
        return {"rtol": 2e-5, "atol": 2e-6}
    return {"rtol": 1e-9, "atol": 1e-11}


def random_binary(generator: torch.Generator, dtype: torch.dtype, n: int = 64):
    """Binary logits of scale 3 (none saturated) and 0/1 targets."""
    logits = torch.randn(n, generator=generator, dtype=torch.float64) * 3
    target = torch.randint(0, 2, (n,), generator=generator)
    return logits.to(dtype).requires_grad_(), target


def random_multiclass(
    generator: torch.Generator, dtype: torch.dtype, n: int = 64, n_classes: int = 4
):
    """Multi-class logits of scale 3 (none saturated) and class indices."""
    logits = torch.randn(n, n_classes, generator=generator, dtype=torch.float64) * 3
    target = torch.randint(0, n_classes, (n,), generator=generator)
    return logits.to(dtype).requires_grad_(), target


def binary_batch(generator: torch.Generator, dtype: torch.dtype, n: int = 48):
    """Binary logits (scale 3, plus saturated +-100 entries) and 0/1 targets."""
    logits = torch.randn(n, generator=generator, dtype=torch.float64) * 3
    logits[:4] = torch.tensor([100.0, -100.0, 100.0, -100.0], dtype=torch.float64)
    target = torch.randint(0, 2, (n,), generator=generator)
    target[:4] = torch.tensor([1, 0, 0, 1])
    return logits.to(dtype).requires_grad_(), target


def multiclass_batch(
    generator: torch.Generator, dtype: torch.dtype, n: int = 48, n_classes: int = 4
):
    """Multi-class logits (scale 3, rows saturated at +-100) and class indices."""
    logits = torch.randn(n, n_classes, generator=generator, dtype=torch.float64) * 3
    logits[0] = -100.0
    logits[0, 0] = 100.0
    logits[1] = -100.0
    logits[1, 1] = 100.0
    target = torch.randint(0, n_classes, (n,), generator=generator)
    target[:2] = torch.tensor([0, 2])  # one confidently right, one wrong
    return logits.to(dtype).requires_grad_(), target


def _two_class(logits: np.ndarray) -> np.ndarray:
    """One binary logit z as the two-class logits [0, z]."""
    return np.stack([np.zeros_like(logits), logits], axis=1)


def log_pt_and_log_rest(logits: np.ndarray, target: np.ndarray):
    """``log p_t`` and ``log(1 - p_t)`` from scipy, for one or C logits."""
    if logits.ndim == 1:
        logits = _two_class(logits)
    log_probs = log_softmax(logits, axis=1)
    rows = np.arange(len(target))
    log_pt = log_probs[rows, target]
    others = log_probs.copy()
    others[rows, target] = -np.inf
    # log of the summed probability of the other classes.
    peak = others.max(axis=1)
    log_rest = peak + np.log(np.exp(others - peak[:, None]).sum(axis=1))
    return log_pt, log_rest


def cross_entropy(logits, target):
    log_pt, _ = log_pt_and_log_rest(logits, target)
    return -log_pt


def focal(logits, target, gamma):
    """``-(1 - p_t)^gamma log p_t``; ``gamma`` a number or one per sample."""
    log_pt, log_rest = log_pt_and_log_rest(logits, target)
    return -(np.exp(log_rest) ** np.asarray(gamma, dtype=np.float64)) * log_pt


def adaptive_gamma(logits, target):
    """FLSD-53: 5 where p_t < 0.2, else 3."""
    log_pt, _ = log_pt_and_log_rest(logits, target)
    return np.where(np.exp(log_pt) < 0.2, 5.0, 3.0)


def logit_adjusted(logits, target, class_prior, tau):
    prior = np.asarray(class_prior, dtype=np.float64)
    prior = prior / prior.sum()
    if logits.ndim == 1:
        # Two-class softmax with each class's own adjustment, as in the paper.
        adjusted = _two_class(logits) + tau * np.log(prior)
    else:
        adjusted = logits + tau * np.log(prior)
    return cross_entropy(adjusted, target)


def ldam(logits, target, class_counts, max_margin, scale):
    counts = np.asarray(class_counts, dtype=np.float64)
    margins = 1.0 / np.sqrt(np.sqrt(counts))
    margins = margins * max_margin / margins.max()
    full = _two_class(logits) if logits.ndim == 1 else logits
    adjusted = full.copy()
    rows = np.arange(len(target))
    adjusted[rows, target] -= margins[target]
    return cross_entropy(scale * adjusted, target)


def asymmetric(logits, target, gamma_pos, gamma_neg, clip):
    """ASL from its definition; ``1 - p`` as ``expit(-z)`` to keep float64 digits."""
    p = expit(logits)
    one_minus_p = expit(-logits)
    p_shifted = np.maximum(p - clip, 0.0)
    positive = -(one_minus_p**gamma_pos) * log_expit(logits)
    negative = -(p_shifted**gamma_neg) * np.log(one_minus_p + clip)
    negative = np.where(p_shifted > 0, negative, 0.0)
    return np.where(target == 1, positive, negative)


def poly1(logits, target, epsilon, gamma):
    log_pt, log_rest = log_pt_and_log_rest(logits, target)
    one_minus_pt = np.exp(log_rest)
    return -(one_minus_pt**gamma) * log_pt + epsilon * one_minus_pt ** (gamma + 1)


def weighted_mean(losses, weight=None):
    if weight is None:
        return losses.mean()
    weight = np.asarray(weight, dtype=np.float64)
    return (weight * losses).sum() / weight.sum()


def per_sample_gradient(per_sample, logits, target, step=1e-5):
    """d loss_i / d logits_i by central differences, one logit column at a time.

    A sample's loss depends only on its own row of logits, so perturbing one
    column in every row at once gives that column of every row's gradient.
    """
    logits = np.asarray(logits, dtype=np.float64)
    gradient = np.zeros_like(logits)
    columns = [None] if logits.ndim == 1 else range(logits.shape[1])
    for column in columns:
        offset = np.zeros_like(logits)
        if column is None:
            offset[:] = step
        else:
            offset[:, column] = step
        difference = per_sample(logits + offset, target) - per_sample(
            logits - offset, target
        )
        if column is None:
            gradient = difference / (2 * step)
        else:
            gradient[:, column] = difference / (2 * step)
    return gradient


def mean_gradient(per_sample, logits, target, weight=None):
    """Gradient of the weighted mean of ``per_sample`` with respect to logits."""
    gradient = per_sample_gradient(per_sample, logits, target)
    weight = np.ones(len(target)) if weight is None else np.asarray(weight, float)
    scale = weight / weight.sum()
    return gradient * (scale if gradient.ndim == 1 else scale[:, None])
