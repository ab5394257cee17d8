"""Poly-1: its special cases and its closed-form gradient."""

import pytest
import torch
import torch.nn.functional as F
from _loss_reference import random_binary, random_multiclass, tolerance

from skfocal.losses import Poly1Loss, focal_loss, poly1_loss

DTYPES = [torch.float32, torch.float64]


@pytest.fixture(params=[0, 1])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _value_and_gradient(loss_fn, logits):
    logits = logits.detach().clone().requires_grad_()
    value = loss_fn(logits)
    (gradient,) = torch.autograd.grad(value, logits)
    return value, gradient


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
def test_epsilon_zero_is_cross_entropy_or_focal(generator, gamma, binary, dtype):
    logits, target = (random_binary if binary else random_multiclass)(generator, dtype)
    alpha = 0.7 if binary else [1.0, 2.0, 0.5, 3.0]
    value, gradient = _value_and_gradient(
        lambda x: poly1_loss(x, target, epsilon=0.0, gamma=gamma, alpha=alpha),
        logits,
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: focal_loss(x, target, gamma=gamma, alpha=alpha), logits
    )
    torch.testing.assert_close(value, expected, **tolerance(dtype))
    torch.testing.assert_close(gradient, expected_gradient, **tolerance(dtype))
    if gamma == 0 and not binary:
        torch.testing.assert_close(
            value,
            F.cross_entropy(logits, target, weight=torch.tensor(alpha, dtype=dtype)),
            **tolerance(dtype),
        )


@pytest.mark.parametrize("epsilon", [-1.0, 1.0, 5.0])
def test_gradient_is_cross_entropy_gradient_times_one_plus_epsilon_pt(
    generator, epsilon
):
    """d/dz [-log p_t + eps (1 - p_t)] = (p - onehot(y)) (1 + eps p_t)."""
    logits, target = random_multiclass(generator, torch.float64)
    (gradient,) = torch.autograd.grad(
        poly1_loss(logits, target, epsilon=epsilon, reduction="sum"), logits
    )
    probs = F.softmax(logits.detach(), dim=1)
    p_t = probs.gather(1, target[:, None])
    expected = (probs - F.one_hot(target, 4)) * (1 + epsilon * p_t)
    torch.testing.assert_close(gradient, expected, rtol=1e-10, atol=1e-12)


def test_focal_variant_adds_epsilon_times_one_minus_pt_to_the_gamma_plus_one():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0]], dtype=torch.float64)
    target = torch.tensor([0, 2])
    p_t = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    expected = (
        focal_loss(logits, target, gamma=2.0, reduction="none") + 3.0 * (1 - p_t) ** 3
    )
    torch.testing.assert_close(
        poly1_loss(logits, target, epsilon=3.0, gamma=2.0, reduction="none"),
        expected,
    )


def test_saturated_float32_logits_stay_finite():
    logits = torch.tensor(
        [[100.0, -100.0, 0.0], [-100.0, 100.0, 0.0]], requires_grad=True
    )
    target = torch.tensor([0, 0])
    for gamma in (0.0, 0.5):
        loss = poly1_loss(logits, target, epsilon=2.0, gamma=gamma, reduction="none")
        (gradient,) = torch.autograd.grad(loss.sum(), logits)
        assert torch.isfinite(gradient).all()
        # Right sample: nothing; wrong one: 200 (CE) + 2 (1 - p_t = 1).
        torch.testing.assert_close(loss, torch.tensor([0.0, 202.0]))


def test_module_equals_function(generator):
    logits, target = random_binary(generator, torch.float32)
    criterion = Poly1Loss(epsilon=2.0, gamma=1.0, alpha=0.25)
    torch.testing.assert_close(
        criterion(logits, target),
        poly1_loss(logits, target, epsilon=2.0, gamma=1.0, alpha=0.25),
    )
    assert "epsilon=2.0" in repr(criterion)
