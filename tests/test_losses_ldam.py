"""LDAM: margins, its special cases, and class weights switched in training."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _loss_reference import random_binary, random_multiclass, tolerance

from skfocal.losses import LDAMLoss, class_weights, ldam_loss, ldam_margins

DTYPES = [torch.float32, torch.float64]
COUNTS = [500.0, 120.0, 30.0, 4.0]


@pytest.fixture(params=[0, 1])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _value_and_gradient(loss_fn, logits):
    logits = logits.detach().clone().requires_grad_()
    value = loss_fn(logits)
    (gradient,) = torch.autograd.grad(value, logits)
    return value, gradient


def test_margins_follow_the_inverse_fourth_root_of_the_counts():
    margins = ldam_margins(COUNTS, max_margin=0.5).numpy()
    assert margins.max() == pytest.approx(0.5)
    assert margins.argmax() == 3  # the rarest class has the largest margin
    counts = np.array(COUNTS)
    # Delta_i / Delta_j = (n_j / n_i) ** (1/4), whatever C is.
    np.testing.assert_allclose(
        margins[:, None] / margins[None, :],
        (counts[None, :] / counts[:, None]) ** 0.25,
        rtol=1e-12,
    )
    assert ldam_margins(COUNTS, max_margin=0.0).abs().max() == 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_margin_and_unit_scale_is_cross_entropy(generator, dtype):
    logits, target = random_multiclass(generator, dtype)
    weight = [1.0, 2.0, 0.5, 3.0]
    value, gradient = _value_and_gradient(
        lambda x: ldam_loss(x, target, COUNTS, 0.0, 1.0, alpha=weight), logits
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: F.cross_entropy(x, target, weight=torch.tensor(weight, dtype=dtype)),
        logits,
    )
    torch.testing.assert_close(value, expected, **tolerance(dtype))
    torch.testing.assert_close(gradient, expected_gradient, **tolerance(dtype))

    logits, target = random_binary(generator, dtype)
    value, gradient = _value_and_gradient(
        lambda x: ldam_loss(x, target, [90, 10], max_margin=0.0, scale=1.0), logits
    )
    expected, expected_gradient = _value_and_gradient(
        lambda x: F.binary_cross_entropy_with_logits(x, target.to(dtype)), logits
    )
    torch.testing.assert_close(value, expected, **tolerance(dtype))
    torch.testing.assert_close(gradient, expected_gradient, **tolerance(dtype))


@pytest.mark.parametrize(("max_margin", "scale"), [(0.5, 30.0), (0.2, 4.0)])
def test_one_logit_equals_two_class_logits_zero_and_the_logit(
    generator, max_margin, scale
):
    logits, target = random_binary(generator, torch.float64)
    two_class = torch.stack([torch.zeros_like(logits), logits], dim=1)
    counts = [300, 20]
    torch.testing.assert_close(
        ldam_loss(logits, target, counts, max_margin, scale, reduction="none"),
        ldam_loss(two_class, target, counts, max_margin, scale, reduction="none"),
    )


def test_margin_moves_the_true_class_logit_only(generator):
    logits, target = random_multiclass(generator, torch.float64)
    margins = ldam_margins(COUNTS, 0.5)
    shifted = logits.detach().clone()
    shifted[torch.arange(len(target)), target] -= margins[target]
    torch.testing.assert_close(
        ldam_loss(logits, target, COUNTS, 0.5, 30.0, reduction="none"),
        F.cross_entropy(30.0 * shifted, target, reduction="none"),
    )


def test_deferred_reweighting_switches_class_weights_during_training(generator):
    logits, target = random_multiclass(generator, torch.float32)
    criterion = LDAMLoss(COUNTS)
    unweighted = criterion(logits, target)
    torch.testing.assert_close(unweighted, ldam_loss(logits, target, COUNTS))
    assert "class_weight" not in criterion.state_dict()

    labels = torch.repeat_interleave(torch.arange(4), torch.tensor([500, 120, 30, 4]))
    late = class_weights(labels, method="effective", beta=0.9999)
    criterion.set_class_weight(late)
    weighted = criterion(logits, target)
    torch.testing.assert_close(
        weighted, ldam_loss(logits, target, COUNTS, alpha=late.tolist())
    )
    assert not torch.isclose(weighted, unweighted)
    assert criterion.state_dict()["class_weight"].dtype == torch.float32
    assert criterion.alpha == pytest.approx(tuple(late.tolist()))

    criterion.set_class_weight(None)
    torch.testing.assert_close(criterion(logits, target), unweighted)


def test_set_class_weight_keeps_the_device_of_the_module():
    criterion = LDAMLoss([10, 5]).to("meta")
    criterion.set_class_weight([1.0, 2.0])
    assert criterion.class_weight.device.type == "meta"
