"""Mathematical tests of skfocal.losses against independent computations."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.utils.class_weight import compute_class_weight

from skfocal.losses import (
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    balanced_cross_entropy,
    class_weights,
    focal_loss,
    ghm_gradient_norm,
    ghm_weights,
    ghmc_loss,
)

SEEDS = [0, 1, 2]
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


@pytest.fixture(params=SEEDS)
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _binary_batch(generator, dtype, n=64):
    logits = torch.randn(n, generator=generator, dtype=torch.float64) * 3
    target = torch.randint(0, 2, (n,), generator=generator)
    return logits.to(dtype).requires_grad_(), target


def _multiclass_batch(generator, dtype, n=64, n_classes=4):
    logits = torch.randn(n, n_classes, generator=generator, dtype=torch.float64) * 3
    target = torch.randint(0, n_classes, (n,), generator=generator)
    return logits.to(dtype).requires_grad_(), target


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
    logits, target = _binary_batch(generator, dtype)
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
    logits, target = _multiclass_batch(generator, dtype)
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
    logits, target = _multiclass_batch(generator, dtype)
    alpha = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=dtype)
    focal = focal_loss(logits, target, gamma=gamma, alpha=alpha, reduction="none")
    ce = F.cross_entropy(logits, target, reduction="none")
    p_t = F.softmax(logits, dim=1).gather(1, target[:, None]).squeeze(1)
    expected_ratio = alpha[target] * (1 - p_t) ** gamma
    torch.testing.assert_close(focal / ce, expected_ratio, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_focal_matches_numpy_definition_in_float64(generator, gamma):
    logits, target = _binary_batch(generator, torch.float64)
    sample_weight = torch.rand(len(target), generator=generator, dtype=torch.float64)
    value = focal_loss(
        logits, target, gamma=gamma, alpha=0.7, sample_weight=sample_weight
    )
    expected = _numpy_focal(
        logits.detach(), target, gamma, [0.3, 0.7], sample_weight.numpy()
    )
    assert abs(value.item() - expected) < 1e-6

    logits, target = _multiclass_batch(generator, torch.float64)
    value = focal_loss(logits, target, gamma=gamma, alpha=[1.0, 2.0, 3.0, 4.0])
    expected = _numpy_focal(logits.detach(), target, gamma, [1.0, 2.0, 3.0, 4.0])
    assert abs(value.item() - expected) < 1e-6


@pytest.mark.parametrize("gamma", [0.5, 2.0, 3.0])
def test_binary_focal_gradient_matches_closed_form(generator, gamma):
    logits, target = _binary_batch(generator, torch.float64)
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
    logits, target = _multiclass_batch(generator, torch.float64, n_classes=2)
    alpha = [0.25, 0.75]
    softmax_loss = focal_loss(logits, target, gamma=gamma, alpha=alpha)
    difference = logits[:, 1] - logits[:, 0]
    sigmoid_loss = focal_loss(difference, target, gamma=gamma, alpha=0.75)
    torch.testing.assert_close(softmax_loss, sigmoid_loss, rtol=1e-10, atol=1e-12)


def test_column_vector_logits_equal_flat_logits(generator):
    logits, target = _binary_batch(generator, torch.float64)
    flat = focal_loss(logits, target, reduction="none")
    column = focal_loss(logits[:, None], target[:, None], reduction="none")
    torch.testing.assert_close(flat, column)


def test_reductions_are_consistent(generator):
    logits, target = _multiclass_batch(generator, torch.float64)
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
    logits, target = _multiclass_batch(generator, torch.float64, n=8, n_classes=3)
    assert torch.autograd.gradcheck(
        lambda x: focal_loss(x, target, gamma=gamma, alpha=[1.0, 2.0, 3.0]),
        (logits,),
    )
    binary_logits, binary_target = _binary_batch(generator, torch.float64, n=8)
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
    logits, target = _multiclass_batch(generator, torch.float32)
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


# --------------------------------------------------------------------------
# GHM-C
# --------------------------------------------------------------------------
def _numpy_ghm_weights(gradient_norm, bins):
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(gradient_norm, bins=edges)  # last bin closed
    index = np.clip(
        np.searchsorted(edges, gradient_norm, side="right") - 1, 0, bins - 1
    )
    return len(gradient_norm) / ((counts > 0).sum() * counts[index])


def test_ghm_gradient_norm_definitions(generator):
    logits, target = _binary_batch(generator, torch.float64)
    expected = (torch.sigmoid(logits) - target).abs()
    torch.testing.assert_close(ghm_gradient_norm(logits, target), expected.detach())

    logits, target = _multiclass_batch(generator, torch.float64)
    probs = F.softmax(logits, dim=1)
    half_l1 = 0.5 * (probs - F.one_hot(target, 4)).abs().sum(dim=1)
    gradient_norm = ghm_gradient_norm(logits, target)
    torch.testing.assert_close(gradient_norm, half_l1.detach())
    assert not gradient_norm.requires_grad


@pytest.mark.parametrize("bins", [1, 3, 10, 30])
def test_ghm_weights_match_numpy_histogram_and_sum_to_n(generator, bins):
    gradient_norm = torch.rand(200, generator=generator, dtype=torch.float64)
    gradient_norm[:3] = torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64)
    weights = ghm_weights(gradient_norm, bins)
    expected = _numpy_ghm_weights(gradient_norm.numpy(), bins)
    np.testing.assert_allclose(weights.numpy(), expected, rtol=1e-12)
    assert weights.sum().item() == pytest.approx(200.0)


def test_ghm_one_bin_equals_mean_cross_entropy(generator):
    logits, target = _binary_batch(generator, torch.float64)
    expected = F.binary_cross_entropy_with_logits(logits, target.double())
    torch.testing.assert_close(ghmc_loss(logits, target, bins=1), expected)
    logits, target = _multiclass_batch(generator, torch.float64)
    torch.testing.assert_close(
        ghmc_loss(logits, target, bins=1), F.cross_entropy(logits, target)
    )


def test_ghm_loss_is_density_weighted_cross_entropy(generator):
    logits, target = _multiclass_batch(generator, torch.float64)
    bins = 7
    gradient_norm = ghm_gradient_norm(logits, target).numpy()
    beta = torch.as_tensor(_numpy_ghm_weights(gradient_norm, bins))
    ce = F.cross_entropy(logits, target, reduction="none")
    alpha = torch.tensor([1.0, 0.5, 2.0, 1.0], dtype=torch.float64)
    expected = (alpha[target] * beta * ce).sum() / alpha[target].sum()
    torch.testing.assert_close(ghmc_loss(logits, target, bins, alpha), expected)


def test_ghm_momentum_is_bias_corrected_ema(generator):
    bins, momentum = 5, 0.75
    criterion = GHMCLoss(bins=bins, momentum=momentum)
    first_logits, first_target = _binary_batch(generator, torch.float64)
    second_logits, second_target = _binary_batch(generator, torch.float64)

    # The first batch is weighted exactly as without momentum.
    torch.testing.assert_close(
        criterion(first_logits, first_target),
        ghmc_loss(first_logits, first_target, bins=bins),
    )

    def counts(logits, target):
        g = ghm_gradient_norm(logits, target).numpy()
        return np.histogram(g, bins=np.linspace(0, 1, bins + 1))[0].astype(float)

    c1, c2 = counts(first_logits, first_target), counts(second_logits, second_target)
    ema = (1 - momentum) * (momentum * c1 + c2) / (1 - momentum**2)
    g2 = ghm_gradient_norm(second_logits, second_target).numpy()
    index = np.clip(np.floor(g2 * bins).astype(int), 0, bins - 1)
    beta = len(g2) / ((c2 > 0).sum() * ema[index])
    ce = F.binary_cross_entropy_with_logits(
        second_logits, second_target.double(), reduction="none"
    )
    expected = (torch.as_tensor(beta) * ce).mean()
    torch.testing.assert_close(criterion(second_logits, second_target), expected)
    assert int(criterion.n_updates) == 2

    # Evaluation mode neither reads nor changes the running state.
    criterion.eval()
    state = criterion.bin_count_ema.clone()
    torch.testing.assert_close(
        criterion(second_logits, second_target),
        ghmc_loss(second_logits, second_target, bins=bins),
    )
    torch.testing.assert_close(criterion.bin_count_ema, state)

    criterion.train()
    criterion.reset_state()
    assert int(criterion.n_updates) == 0
    assert criterion.bin_count_ema.abs().sum() == 0
    assert "bin_count_ema" in criterion.state_dict()


# --------------------------------------------------------------------------
# Class weights
# --------------------------------------------------------------------------
def test_balanced_class_weights_match_scikit_learn():
    labels = np.array([0] * 50 + [1] * 7 + [2] * 3)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=labels)
    np.testing.assert_allclose(class_weights(labels).numpy(), expected)


@pytest.mark.parametrize("beta", [0.0, 0.9, 0.999])
def test_effective_number_class_weights(beta):
    labels = np.array([0] * 50 + [1] * 7 + [2] * 3)
    counts = np.array([50.0, 7.0, 3.0])
    raw = np.array([(1 - beta) / (1 - beta**c) for c in counts])
    expected = raw * 3 / raw.sum()
    weights = class_weights(labels, method="effective", beta=beta).numpy()
    np.testing.assert_allclose(weights, expected)
    assert weights.sum() == pytest.approx(3.0)


# --------------------------------------------------------------------------
# Bad values
# --------------------------------------------------------------------------
@pytest.fixture
def binary_batch():
    return torch.tensor([0.5, -0.2, 1.0]), torch.tensor([1, 0, 1])


@pytest.fixture
def multiclass_batch():
    return torch.randn(3, 3), torch.tensor([0, 2, 1])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gamma": -1.0}, r"gamma must be .*>= 0; got -1.0"),
        ({"gamma": math.nan}, r"gamma must be a finite"),
        ({"alpha": 1.5}, r"alpha given as a float must lie in \[0, 1\].*1.5"),
        ({"alpha": -0.1}, r"alpha given as a float must lie in \[0, 1\]"),
        ({"alpha": [1.0, 2.0, 3.0]}, r"alpha must have one weight per class \(2\)"),
        ({"alpha": [1.0, -2.0]}, r"non-negative"),
        ({"reduction": "avg"}, r"reduction must be one of .*'avg'"),
    ],
)
def test_focal_rejects_bad_values(binary_batch, kwargs, message):
    with pytest.raises(ValueError, match=message):
        focal_loss(*binary_batch, **kwargs)


def test_float_alpha_rejected_for_multiclass(multiclass_batch):
    with pytest.raises(ValueError, match=r"alpha given as a float is defined for bi"):
        focal_loss(*multiclass_batch, alpha=0.25)
    with pytest.raises(ValueError, match=r"one weight per class \(3\); got 2"):
        focal_loss(*multiclass_batch, alpha=[1.0, 2.0])


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: GHMCLoss(bins=0), r"bins must be an integer >= 1; got 0"),
        (lambda: GHMCLoss(bins=2.5), r"bins must be an integer >= 1; got 2.5"),
        (lambda: GHMCLoss(momentum=1.0), r"momentum must be .*\[0, 1\); got 1.0"),
        (lambda: GHMCLoss(momentum=-0.1), r"momentum must be .*got -0.1"),
        (lambda: FocalLoss(gamma=-2), r"gamma must be .*got -2"),
        (lambda: FocalLoss(alpha=2.0), r"alpha given as a float .*2.0"),
        (lambda: BalancedCrossEntropyLoss(reduction="max"), r"reduction .*'max'"),
    ],
)
def test_modules_reject_bad_values(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_bad_targets_are_named(binary_batch, multiclass_batch):
    logits, _ = binary_batch
    with pytest.raises(ValueError, match=r"must hold only 0 and 1"):
        focal_loss(logits, torch.tensor([0, 2, 1]))
    with pytest.raises(ValueError, match=r"target must have shape \(3,\)"):
        focal_loss(logits, torch.tensor([0, 1]))
    logits, _ = multiclass_batch
    with pytest.raises(
        ValueError, match=r"must lie in \[0, 3\); got values in \[0, 5\]"
    ):
        focal_loss(logits, torch.tensor([0, 5, 1]))
    with pytest.raises(ValueError, match=r"integer class indices; got dtype"):
        focal_loss(logits, torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"logits must be a floating-point"):
        focal_loss(torch.tensor([1, 0, 1]), torch.tensor([1, 0, 1]))


def test_modules_check_alpha_against_the_logits(binary_batch, multiclass_batch):
    with pytest.raises(ValueError, match=r"alpha given as a float is defined for bi"):
        FocalLoss(alpha=0.25)(*multiclass_batch)
    with pytest.raises(ValueError, match=r"one weight per class \(3\); got 2"):
        GHMCLoss(alpha=[1.0, 2.0])(*multiclass_batch)
    with pytest.raises(ValueError, match=r"must hold only 0 and 1"):
        BalancedCrossEntropyLoss()(binary_batch[0], torch.tensor([0, 2, 1]))
    # Without the per-step check, valid targets give the same value.
    unchecked = FocalLoss(check_targets=False)(*binary_batch)
    torch.testing.assert_close(unchecked, FocalLoss()(*binary_batch))


def test_class_weights_reject_bad_input():
    with pytest.raises(ValueError, match=r"method must be 'balanced' or 'effective'"):
        class_weights([0, 1], method="inverse")
    with pytest.raises(ValueError, match=r"beta must be a real number in \[0, 1\)"):
        class_weights([0, 1], method="effective", beta=1.0)
    with pytest.raises(ValueError, match=r"classes \[1\] have no samples"):
        class_weights([0, 0, 2])
    with pytest.raises(ValueError, match=r"integer class indices"):
        class_weights([0.5, 1.0])


@pytest.mark.parametrize("loss", [focal_loss, ghmc_loss])
def test_integer_sample_weights_equal_repeated_samples(generator, loss):
    logits, target = _multiclass_batch(generator, torch.float64, n=30)
    weights = torch.randint(0, 4, (30,), generator=generator)
    weighted = loss(logits, target, sample_weight=weights.double())
    repeated = loss(
        logits.repeat_interleave(weights, dim=0),
        target.repeat_interleave(weights),
    )
    torch.testing.assert_close(weighted, repeated, rtol=1e-12, atol=1e-12)


def test_ghm_weights_with_sample_weights_sum_to_total_weight(generator):
    gradient_norm = torch.rand(50, generator=generator, dtype=torch.float64)
    sample_weight = torch.rand(50, generator=generator, dtype=torch.float64)
    sample_weight[0] = 0.0
    beta = ghm_weights(gradient_norm, bins=10, sample_weight=sample_weight)
    assert torch.isfinite(beta).all()
    assert (beta * sample_weight).sum().item() == pytest.approx(
        sample_weight.sum().item()
    )


@pytest.mark.parametrize("gamma", [0.3, 1.0, 2.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_closed_form_gradient_matches_autograd_of_log_space_formula(
    gamma, dtype
):
    logits = torch.tensor(
        [-100.0, -30.0, -2.0, -0.1, 0.0, 0.1, 2.0, 30.0, 100.0], dtype=dtype
    ).requires_grad_()
    target = torch.tensor([1, 0, 1, 0, 1, 1, 0, 1, 0])
    (grad,) = torch.autograd.grad(
        focal_loss(logits, target, gamma=gamma, reduction="sum"), logits
    )
    reference_logits = logits.detach().clone().requires_grad_()
    signed = torch.where(target == 1, reference_logits, -reference_logits)
    reference = (torch.exp(gamma * F.logsigmoid(-signed)) * -F.logsigmoid(signed)).sum()
    (reference_grad,) = torch.autograd.grad(reference, reference_logits)
    assert torch.isfinite(grad).all()
    torch.testing.assert_close(grad, reference_grad, **_tolerance(dtype))
