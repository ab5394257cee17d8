"""The focal loss (fixed and adaptive gamma) and class-weighted cross-entropy."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _loss_reference import random_binary, random_multiclass

from skfocal.losses import (
    BalancedCrossEntropyLoss,
    FocalLoss,
    adaptive_gamma,
    balanced_cross_entropy,
    focal_loss,
    ghmc_loss,
)

DTYPES = [torch.float32, torch.float64]


def _tolerance(dtype):
    return (
        {"rtol": 1e-5, "atol": 1e-6}
        if dtype == torch.float32
        else {
            "rtol": 1e-10,
            "atol": 1e-12,
        }
    )


@pytest.fixture(params=[0, 1, 2])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _numpy_focal(logits, target, gamma, alpha_vector=None, sample_weight=None):
    """Focal loss from its definition, in float64 numpy, mean-reduced."""
    logits = np.asarray(logits, dtype=np.float64)
    target = np.asarray(target)
    if logits.ndim == 1:
        p_one = 1.0 / (1.0 + np.exp(-logits))
        p_t = np.where(target == 1, p_one, 1.0 - p_one)
    else:
        shifted = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        p_t = probs[np.arange(len(target)), target]
    losses = -((1.0 - p_t) ** gamma) * np.log(p_t)
    weight = np.ones_like(losses)
    if alpha_vector is not None:
        weight = weight * np.asarray(alpha_vector)[target]
    if sample_weight is not None:
        weight = weight * np.asarray(sample_weight)
    return (weight * losses).sum() / weight.sum()


# --------------------------------------------------------------------------
# Focal loss
# --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_focal_gamma_zero_equals_weighted_bce_value_and_gradient(generator, dtype):
    logits, target = random_binary(generator, dtype)
    alpha = 0.3
    loss = focal_loss(logits, target, gamma=0.0, alpha=alpha)
    (grad,) = torch.autograd.grad(loss, logits)

    reference_logits = logits.detach().clone().requires_grad_()
    weight = torch.where(
        target == 1,
        torch.tensor(alpha, dtype=dtype),
        torch.tensor(1 - alpha, dtype=dtype),
    )
    per_sample = F.binary_cross_entropy_with_logits(
        reference_logits, target.to(dtype), reduction="none"
    )
    reference = (weight * per_sample).sum() / weight.sum()
    (reference_grad,) = torch.autograd.grad(reference, reference_logits)

    torch.testing.assert_close(loss, reference, **_tolerance(dtype))
    torch.testing.assert_close(grad, reference_grad, **_tolerance(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_focal_gamma_zero_equals_weighted_cross_entropy(generator, dtype):
    logits, target = random_multiclass(generator, dtype)
    weight = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=dtype)
    loss = focal_loss(logits, target, gamma=0.0, alpha=weight)
    (grad,) = torch.autograd.grad(loss, logits)

    reference_logits = logits.detach().clone().requires_grad_()
    reference = F.cross_entropy(reference_logits, target, weight=weight)
    (reference_grad,) = torch.autograd.grad(reference, reference_logits)

    torch.testing.assert_close(loss, reference, **_tolerance(dtype))
    torch.testing.assert_close(grad, reference_grad, **_tolerance(dtype))
    balanced = balanced_cross_entropy(logits, target, alpha=weight)
    torch.testing.assert_close(balanced, reference, **_tolerance(dtype))


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_focal_to_ce_ratio_is_alpha_t_times_modulating_factor(generator, gamma, dtype):
    logits, target = random_multiclass(generator, dtype)
    alpha = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=dtype)
    focal = focal_loss(logits, target, gamma=gamma, alpha=alpha, reduction="none")
    ce = F.cross_entropy(logits, target, reduction="none")
    p_t = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    expected_ratio = alpha[target] * (1 - p_t) ** gamma
    torch.testing.assert_close(focal / ce, expected_ratio, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_matches_numpy_definition_in_float64(generator, gamma):
    logits, target = random_binary(generator, torch.float64)
    sample_weight = torch.rand(len(target), generator=generator, dtype=torch.float64)
    value = focal_loss(
        logits, target, gamma=gamma, alpha=0.7, sample_weight=sample_weight
    )
    expected = _numpy_focal(
        logits.detach(), target, gamma, [0.3, 0.7], sample_weight.numpy()
    )
    assert abs(value.item() - expected) < 1e-6

    logits, target = random_multiclass(generator, torch.float64)
    value = focal_loss(logits, target, gamma=gamma, alpha=[1.0, 2.0, 3.0, 4.0])
    expected = _numpy_focal(logits.detach(), target, gamma, [1.0, 2.0, 3.0, 4.0])
    assert abs(value.item() - expected) < 1e-6


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.0])
def test_binary_focal_gradient_matches_closed_form(generator, gamma):
    logits, target = random_binary(generator, torch.float64)
    loss = focal_loss(logits, target, gamma=gamma, reduction="sum")
    (grad,) = torch.autograd.grad(loss, logits)

    # d/dz [-(1-p)^g log p] with p = sigmoid(z) is (1-p)^g (g p log p - (1-p));
    # z = x for class 1 and z = -x for class 0.
    sign = torch.where(target == 1, 1.0, -1.0).double()
    p_t = torch.sigmoid(sign * logits.detach())
    dz = (1 - p_t) ** gamma * (gamma * p_t * torch.log(p_t) - (1 - p_t))
    torch.testing.assert_close(grad, sign * dz, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.7, 2.0])
def test_two_logit_softmax_focal_equals_binary_focal_on_difference(generator, gamma):
    logits, target = random_multiclass(generator, torch.float64, n_classes=2)
    alpha = [0.25, 0.75]
    softmax_loss = focal_loss(logits, target, gamma=gamma, alpha=alpha)
    difference = logits[:, 1] - logits[:, 0]
    sigmoid_loss = focal_loss(difference, target, gamma=gamma, alpha=0.75)
    torch.testing.assert_close(softmax_loss, sigmoid_loss, rtol=1e-10, atol=1e-12)


def test_column_vector_logits_equal_flat_logits(generator):
    logits, target = random_binary(generator, torch.float64)
    flat = focal_loss(logits, target, reduction="none")
    column = focal_loss(logits[:, None], target[:, None], reduction="none")
    torch.testing.assert_close(flat, column)


def test_reductions_are_consistent(generator):
    logits, target = random_multiclass(generator, torch.float64)
    sample_weight = torch.rand(len(target), generator=generator, dtype=torch.float64)
    alpha = torch.tensor([1.0, 2.0, 0.5, 1.5], dtype=torch.float64)
    per_sample = focal_loss(logits, target, 2.0, alpha, sample_weight, "none")
    total = focal_loss(logits, target, 2.0, alpha, sample_weight, "sum")
    mean = focal_loss(logits, target, 2.0, alpha, sample_weight, "mean")
    weight = alpha[target] * sample_weight
    torch.testing.assert_close(total, per_sample.sum())
    torch.testing.assert_close(mean, per_sample.sum() / weight.sum())


@pytest.mark.parametrize("gamma", [0.0, 2.0])
def test_gradcheck_float64(generator, gamma):
    logits, target = random_multiclass(generator, torch.float64, n=8, n_classes=3)
    assert torch.autograd.gradcheck(
        lambda x: focal_loss(x, target, gamma=gamma, alpha=[1.0, 2.0, 3.0]),
        (logits,),
    )
    binary_logits, binary_target = random_binary(generator, torch.float64, n=8)
    assert torch.autograd.gradcheck(
        lambda x: focal_loss(x, binary_target, gamma=gamma, alpha=0.25),
        (binary_logits,),
    )
    assert torch.autograd.gradcheck(
        lambda x: ghmc_loss(x, binary_target, bins=5), (binary_logits,)
    )


@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.99, 2.0])
def test_saturated_float32_logits_stay_finite(gamma):
    logits = torch.tensor([100.0, -100.0, 100.0, -100.0], requires_grad=True)
    target = torch.tensor([1, 0, 0, 1])
    loss = focal_loss(logits, target, gamma=gamma)
    (grad,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(loss)
    assert torch.isfinite(grad).all()
    # The two misclassified samples cost about 100 each (p_t = e^-100).
    assert loss.item() == pytest.approx(50.0, rel=1e-4)

    multi = torch.tensor(
        [[100.0, -100.0, 0.0], [-100.0, 100.0, 0.0], [0.0, 0.0, 100.0]],
        requires_grad=True,
    )
    multi_target = torch.tensor([0, 0, 2])
    loss = focal_loss(multi, multi_target, gamma=gamma)
    (grad,) = torch.autograd.grad(loss, multi)
    assert torch.isfinite(loss)
    assert torch.isfinite(grad).all()

    ghm = ghmc_loss(multi, multi_target)
    (grad,) = torch.autograd.grad(ghm, multi)
    assert torch.isfinite(ghm)
    assert torch.isfinite(grad).all()


def test_module_matches_functional_and_moves_alpha(generator):
    logits, target = random_multiclass(generator, torch.float32)
    criterion = FocalLoss(gamma=1.5, alpha=[1.0, 2.0, 3.0, 4.0])
    expected = focal_loss(logits, target, gamma=1.5, alpha=[1.0, 2.0, 3.0, 4.0])
    torch.testing.assert_close(criterion(logits, target), expected)
    criterion = criterion.to(torch.float64)
    assert criterion.class_weight.dtype == torch.float64
    assert "gamma=1.5" in repr(criterion)
    balanced = BalancedCrossEntropyLoss(alpha=[1.0, 2.0, 3.0, 4.0])
    torch.testing.assert_close(
        balanced(logits, target),
        F.cross_entropy(logits, target, weight=torch.tensor([1.0, 2.0, 3.0, 4.0])),
    )


@pytest.mark.parametrize("loss", [focal_loss, ghmc_loss])
def test_integer_sample_weights_equal_repeated_samples(generator, loss):
    logits, target = random_multiclass(generator, torch.float64, n=30)
    weights = torch.randint(0, 4, (30,), generator=generator)
    weighted = loss(logits, target, sample_weight=weights.double())
    repeated = loss(
        logits.repeat_interleave(weights, dim=0),
        target.repeat_interleave(weights),
    )
    torch.testing.assert_close(weighted, repeated, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduction", ["sum", "mean"])
@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_closed_form_gradient_matches_autograd_of_log_space_formula(
    gamma, dtype, reduction
):
    # "mean" without weights takes the fused mean, "sum" the per-sample form.
    logits = torch.tensor(
        [-100.0, -30.0, -2.0, -0.1, 0.0, 0.1, 2.0, 30.0, 100.0], dtype=dtype
    ).requires_grad_()
    target = torch.tensor([1, 0, 1, 0, 1, 1, 0, 1, 0])
    loss = focal_loss(logits, target, gamma=gamma, reduction=reduction)
    (grad,) = torch.autograd.grad(loss, logits)
    reference_logits = logits.detach().clone().requires_grad_()
    signed = torch.where(target == 1, reference_logits, -reference_logits)
    per_sample = torch.exp(gamma * F.logsigmoid(-signed)) * -F.logsigmoid(signed)
    reference = per_sample.sum() if reduction == "sum" else per_sample.mean()
    (reference_grad,) = torch.autograd.grad(reference, reference_logits)
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(loss, reference.detach(), **_tolerance(dtype))
    torch.testing.assert_close(grad, reference_grad, **_tolerance(dtype))


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.7])
def test_fused_binary_mean_passes_gradcheck_and_matches_numpy(generator, gamma):
    logits, target = random_binary(generator, torch.float64, n=8)
    assert torch.autograd.gradcheck(
        lambda x: focal_loss(x, target, gamma=gamma), (logits,)
    )
    column = logits.detach()[:, None].requires_grad_()
    module = FocalLoss(gamma=gamma, check_targets=False)
    loss = module(column, target.double()[:, None])
    (grad,) = torch.autograd.grad(loss, column)
    assert grad.shape == column.shape
    assert loss.item() == pytest.approx(
        _numpy_focal(logits.detach().numpy(), target.numpy(), gamma), rel=1e-12
    )
    with torch.no_grad():
        assert module(column, target.double()[:, None]).item() == loss.item()


def _fused(loss):
    return type(loss.grad_fn).__name__ == "_BinaryFocalMeanBackward"


def test_fused_binary_mean_is_taken_for_the_unweighted_mean_only(generator):
    logits, target = random_binary(generator, torch.float32)
    assert _fused(focal_loss(logits, target))
    assert _fused(FocalLoss(check_targets=False)(logits[:, None], target))
    weights = torch.ones(len(target))
    assert not _fused(focal_loss(logits, target, alpha=0.25))
    assert not _fused(focal_loss(logits, target, sample_weight=weights))
    assert not _fused(focal_loss(logits, target, reduction="sum"))
    assert not _fused(focal_loss(logits, target, gamma="adaptive"))
    assert not _fused(focal_loss(logits.half(), target))
    multi_logits, multi_target = random_multiclass(generator, torch.float32)
    assert not _fused(focal_loss(multi_logits, multi_target))


def test_fused_binary_mean_of_a_large_float32_batch_is_accurate():
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(1_000_000, generator=generator) * 3
    target = torch.randint(0, 2, (1_000_000,), generator=generator)
    loss = focal_loss(logits.requires_grad_(), target)
    assert _fused(loss)
    reference = focal_loss(logits.detach().double(), target, reduction="sum") / 1e6
    assert loss.item() == pytest.approx(reference.item(), rel=1e-6)


def test_targets_that_require_grad_get_none(generator):
    logits, target = random_binary(generator, torch.float64)
    target = target.double().requires_grad_()
    focal_loss(logits.detach(), target).backward()
    assert target.grad is None


def test_an_empty_binary_batch_has_mean_zero():
    logits = torch.zeros(0, requires_grad=True)
    loss = focal_loss(logits, torch.zeros(0))
    (grad,) = torch.autograd.grad(loss, logits)
    assert loss.item() == 0.0
    assert grad.shape == (0,)


# --------------------------------------------------------------------------
# Adaptive gamma (FLSD-53)
# --------------------------------------------------------------------------
def _focal_with_per_sample_gamma(logits, target, p_t):
    """Focal loss of each sample with gamma 5 below p_t = 0.2 and 3 above."""
    hard = focal_loss(logits, target, gamma=5.0, reduction="none")
    easy = focal_loss(logits, target, gamma=3.0, reduction="none")
    return torch.where(p_t < 0.2, hard, easy)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("binary", [True, False])
def test_adaptive_focal_equals_focal_with_the_per_sample_gamma(
    generator, dtype, binary
):
    make_batch = random_binary if binary else random_multiclass
    logits, target = make_batch(generator, dtype)
    with torch.no_grad():
        if binary:
            p_t = torch.sigmoid(torch.where(target == 1, logits, -logits))
        else:
            p_t = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    assert (p_t < 0.2).any()
    assert (p_t >= 0.2).any()
    sample_weight = torch.rand(len(target), generator=generator).to(dtype)

    adaptive = focal_loss(logits, target, gamma="adaptive", sample_weight=sample_weight)
    (gradient,) = torch.autograd.grad(adaptive, logits)
    reference_logits = logits.detach().clone().requires_grad_()
    per_sample = _focal_with_per_sample_gamma(reference_logits, target, p_t)
    reference = (per_sample * sample_weight).sum() / sample_weight.sum()
    (reference_gradient,) = torch.autograd.grad(reference, reference_logits)

    torch.testing.assert_close(adaptive, reference, **_tolerance(dtype))
    torch.testing.assert_close(gradient, reference_gradient, **_tolerance(dtype))
    module = FocalLoss(gamma="adaptive")
    torch.testing.assert_close(
        module(logits, target, sample_weight), adaptive, **_tolerance(dtype)
    )
    assert "gamma='adaptive'" in repr(module)


def test_adaptive_gamma_schedule_and_detached_choice():
    p_t = torch.tensor([1e-30, 0.1, 0.1999, 0.2001, 0.5, 1.0], dtype=torch.float64)
    log_pt = torch.log(p_t).requires_grad_()
    gamma = adaptive_gamma(log_pt)
    assert gamma.tolist() == [5.0, 5.0, 5.0, 3.0, 3.0, 3.0]
    assert gamma.dtype == torch.float64
    assert not gamma.requires_grad


def test_adaptive_focal_is_finite_at_saturated_float32_logits():
    logits = torch.tensor(
        [[100.0, -100.0, 0.0], [-100.0, 100.0, 0.0]], requires_grad=True
    )
    target = torch.tensor([0, 0])
    loss = focal_loss(logits, target, gamma="adaptive")
    (gradient,) = torch.autograd.grad(loss, logits)
    # The wrong sample costs about 200 (p_t = e^-200, gamma 5 on 1 - p_t = 1).
    assert loss.item() == pytest.approx(100.0, rel=1e-5)
    assert torch.isfinite(gradient).all()
    binary = torch.tensor([100.0, -100.0], requires_grad=True)
    loss = focal_loss(binary, torch.tensor([1, 1]), gamma="adaptive")
    (gradient,) = torch.autograd.grad(loss, binary)
    assert loss.item() == pytest.approx(50.0, rel=1e-5)
    assert torch.isfinite(gradient).all()
