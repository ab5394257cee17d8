"""The asymmetric loss: special cases, the probability margin, stability."""

import math

import pytest
import torch
import torch.nn.functional as F
from _loss_reference import random_binary, tolerance

from skfocal.losses import AsymmetricLoss, asymmetric_loss, focal_loss

DTYPES = [torch.float32, torch.float64]


@pytest.fixture(params=[0, 1])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _value_and_gradient(loss_fn, logits):
    logits = logits.detach().clone().requires_grad_()
    value = loss_fn(logits)
    (gradient,) = torch.autograd.grad(value, logits)
    return value, gradient


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_focusing_and_no_clip_is_binary_cross_entropy(generator, dtype):
    logits, target = random_binary(generator, dtype)
    sample_weight = torch.rand(len(target), generator=generator).to(dtype)
    value, gradient = _value_and_gradient(
        lambda x: asymmetric_loss(x, target, 0.0, 0.0, 0.0, sample_weight),
        logits,
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: (
            (
                F.binary_cross_entropy_with_logits(
                    x, target.to(dtype), reduction="none"
                )
                * sample_weight
            ).sum()
            / sample_weight.sum()
        ),
        logits,
    )
    torch.testing.assert_close(value, expected, **tolerance(dtype))
    torch.testing.assert_close(gradient, expected_gradient, **tolerance(dtype))


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_equal_focusing_and_no_clip_is_the_focal_loss(generator, gamma):
    logits, target = random_binary(generator, torch.float64)
    value, gradient = _value_and_gradient(
        lambda x: asymmetric_loss(x, target, gamma, gamma, 0.0), logits
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: focal_loss(x, target, gamma=gamma), logits
    )
    torch.testing.assert_close(value, expected)
    torch.testing.assert_close(gradient, expected_gradient)


def test_negatives_below_the_clip_cost_nothing():
    clip = 0.05
    threshold = math.log(clip / (1 - clip))  # sigmoid(threshold) == clip
    logits = torch.tensor(
        [-100.0, -10.0, threshold - 1e-3, threshold + 1e-3, 0.0, 100.0],
        dtype=torch.float64,
        requires_grad=True,
    )
    target = torch.zeros(6)
    per_sample = asymmetric_loss(logits, target, clip=clip, reduction="none")
    (gradient,) = torch.autograd.grad(per_sample.sum(), logits)
    assert per_sample[:3].tolist() == [0.0, 0.0, 0.0]
    assert gradient[:3].tolist() == [0.0, 0.0, 0.0]
    assert (per_sample[3:] > 0).all()
    # At p = 1 the shifted probability is 1 - clip: -(1-clip)^4 log(clip).
    assert per_sample[5].item() == pytest.approx(-((1 - clip) ** 4) * math.log(clip))


@pytest.mark.parametrize("gamma_neg", [0.1, 0.5, 0.99])
@pytest.mark.parametrize("dtype", DTYPES)
def test_finite_gradient_where_the_shifted_probability_vanishes(gamma_neg, dtype):
    clip = 0.05
    threshold = math.log(clip / (1 - clip))
    offsets = torch.tensor([1e-7, 1e-5, 1e-3, 0.1], dtype=torch.float64)
    logits = (threshold + offsets).to(dtype).requires_grad_()
    target = torch.zeros(4)
    loss = asymmetric_loss(logits, target, 0.0, gamma_neg, clip, reduction="sum")
    (gradient,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(loss)
    assert torch.isfinite(gradient).all()
    assert (gradient >= 0).all()  # a negative is pushed towards lower logits


@pytest.mark.parametrize("gamma_pos", [0.0, 0.3, 1.0])
def test_saturated_float32_logits_stay_finite(gamma_pos):
    logits = torch.tensor([100.0, -100.0, 100.0, -100.0], requires_grad=True)
    target = torch.tensor([1, 0, 0, 1])
    for clip in (0.0, 0.05):
        loss = asymmetric_loss(logits, target, gamma_pos, 0.5, clip, reduction="none")
        (gradient,) = torch.autograd.grad(loss.sum(), logits)
        assert torch.isfinite(loss).all()
        assert torch.isfinite(gradient).all()
        # The positive at -100 costs about 100, whatever gamma_pos.
        assert loss[3].item() == pytest.approx(100.0, rel=1e-5)


def test_module_equals_function_and_rejects_multiclass_logits():
    logits = torch.tensor([[0.5], [-2.0], [3.0]])
    target = torch.tensor([1, 0, 0])
    criterion = AsymmetricLoss(gamma_pos=1.0, gamma_neg=3.0, clip=0.1)
    torch.testing.assert_close(
        criterion(logits, target), asymmetric_loss(logits, target, 1.0, 3.0, 0.1)
    )
    assert "gamma_neg=3.0" in repr(criterion)
    with pytest.raises(ValueError, match=r"binary problems only .*shape \(3, 4\)"):
        criterion(torch.zeros(3, 4), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r"binary problems only .*shape \(3, 4\)"):
        asymmetric_loss(torch.zeros(3, 4), torch.tensor([0, 1, 2]))
