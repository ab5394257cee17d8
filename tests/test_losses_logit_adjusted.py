"""The logit-adjusted loss: its special cases and what its optimum means."""

import pytest
import torch
import torch.nn.functional as F
from _loss_reference import random_binary, random_multiclass, tolerance

from skfocal.losses import LogitAdjustedLoss, logit_adjusted_loss

DTYPES = [torch.float32, torch.float64]
PRIOR = [0.6, 0.25, 0.1, 0.05]


@pytest.fixture(params=[0, 1])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _value_and_gradient(loss_fn, logits):
    logits = logits.detach().clone().requires_grad_()
    value = loss_fn(logits)
    (gradient,) = torch.autograd.grad(value, logits)
    return value, gradient


@pytest.mark.parametrize("dtype", DTYPES)
def test_tau_zero_is_cross_entropy(generator, dtype):
    logits, target = random_multiclass(generator, dtype)
    weight = torch.tensor([1.0, 2.0, 0.5, 3.0], dtype=dtype)
    value, gradient = _value_and_gradient(
        lambda x: logit_adjusted_loss(x, target, PRIOR, tau=0.0, alpha=weight),
        logits,
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: F.cross_entropy(x, target, weight=weight), logits
    )
    torch.testing.assert_close(value, expected, **tolerance(dtype))
    torch.testing.assert_close(gradient, expected_gradient, **tolerance(dtype))

    logits, target = random_binary(generator, dtype)
    value, gradient = _value_and_gradient(
        lambda x: logit_adjusted_loss(x, target, [0.9, 0.1], tau=0.0), logits
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: F.binary_cross_entropy_with_logits(x, target.to(dtype)), logits
    )
    torch.testing.assert_close(value, expected, **tolerance(dtype))
    torch.testing.assert_close(gradient, expected_gradient, **tolerance(dtype))


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.0])
def test_one_logit_equals_two_class_softmax_on_zero_and_the_logit(generator, tau):
    logits, target = random_binary(generator, torch.float64)
    two_class = torch.stack([torch.zeros_like(logits), logits], dim=1)
    prior = [0.8, 0.2]
    torch.testing.assert_close(
        logit_adjusted_loss(logits, target, prior, tau=tau, reduction="none"),
        logit_adjusted_loss(two_class, target, prior, tau=tau, reduction="none"),
    )


def test_counts_and_frequencies_give_the_same_loss(generator):
    logits, target = random_multiclass(generator, torch.float64)
    counts = [120.0, 50.0, 20.0, 10.0]
    torch.testing.assert_close(
        logit_adjusted_loss(logits, target, counts),
        logit_adjusted_loss(logits, target, PRIOR),
    )


def test_the_optimum_of_tau_one_is_the_balanced_posterior():
    """With targets drawn at the prior, the optimal raw logits are all equal.

    Logit adjustment makes ``softmax(z)`` learn ``p(y|x) / pi_y`` (normalised),
    which is uniform when ``p(y|x) = pi_y``; plain cross-entropy learns
    ``log pi``.
    """
    counts = torch.tensor([600, 250, 100, 50])
    target = torch.repeat_interleave(torch.arange(4), counts)
    prior = (counts / counts.sum()).double()
    logit = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([logit], max_iter=200, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = logit_adjusted_loss(logit.expand(len(target), 4), target, prior)
        loss.backward()
        return loss

    optimizer.step(closure)
    torch.testing.assert_close(
        F.softmax(logit.detach(), dim=0),
        torch.full((4,), 0.25, dtype=torch.float64),
        rtol=1e-6,
        atol=1e-6,
    )
    # softmax(z + log pi) is the estimate of p(y|x) under the training prior.
    torch.testing.assert_close(
        F.softmax(logit.detach() + prior.log(), dim=0), prior, rtol=1e-6, atol=1e-6
    )


def test_module_keeps_the_normalised_prior_and_moves_with_the_logits():
    criterion = LogitAdjustedLoss(class_prior=[3.0, 1.0], tau=0.5)
    assert criterion.class_prior == pytest.approx((0.75, 0.25))
    assert criterion.log_prior.dtype == torch.float32
    assert "tau=0.5" in repr(criterion)
    logits = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    target = torch.tensor([1, 0, 1])
    torch.testing.assert_close(
        criterion(logits, target),
        logit_adjusted_loss(logits, target, [0.75, 0.25], tau=0.5),
        rtol=1e-6,
        atol=1e-9,
    )
