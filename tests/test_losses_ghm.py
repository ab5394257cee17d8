"""GHM-C against numpy histograms, and its float32 state."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _loss_reference import random_binary, random_multiclass

from skfocal.losses import GHMCLoss, ghm_gradient_norm, ghm_weights, ghmc_loss


@pytest.fixture(params=[0, 1, 2])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _numpy_ghm_weights(gradient_norm, bins):
    edges = np.linspace(0.0, 1.0, bins + 1)
    counts, _ = np.histogram(gradient_norm, bins=edges)  # last bin closed
    index = np.clip(
        np.searchsorted(edges, gradient_norm, side="right") - 1, 0, bins - 1
    )
    return len(gradient_norm) / ((counts > 0).sum() * counts[index])


def test_ghm_gradient_norm_definitions(generator):
    logits, target = random_binary(generator, torch.float64)
    expected = (torch.sigmoid(logits) - target).abs()
    torch.testing.assert_close(ghm_gradient_norm(logits, target), expected.detach())

    logits, target = random_multiclass(generator, torch.float64)
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
    logits, target = random_binary(generator, torch.float64)
    expected = F.binary_cross_entropy_with_logits(logits, target.double())
    torch.testing.assert_close(ghmc_loss(logits, target, bins=1), expected)
    logits, target = random_multiclass(generator, torch.float64)
    torch.testing.assert_close(
        ghmc_loss(logits, target, bins=1), F.cross_entropy(logits, target)
    )


def test_ghm_loss_is_density_weighted_cross_entropy(generator):
    logits, target = random_multiclass(generator, torch.float64)
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
    first_logits, first_target = random_binary(generator, torch.float64)
    second_logits, second_target = random_binary(generator, torch.float64)

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


def test_ghm_weights_with_sample_weights_sum_to_total_weight(generator):
    gradient_norm = torch.rand(50, generator=generator, dtype=torch.float64)
    sample_weight = torch.rand(50, generator=generator, dtype=torch.float64)
    sample_weight[0] = 0.0
    beta = ghm_weights(gradient_norm, bins=10, sample_weight=sample_weight)
    assert torch.isfinite(beta).all()
    assert (beta * sample_weight).sum().item() == pytest.approx(
        sample_weight.sum().item()
    )


# --------------------------------------------------------------------------
# float32 state (MPS has no float64; issue 11)
# --------------------------------------------------------------------------
def test_ghm_module_keeps_float32_buffers():
    criterion = GHMCLoss(bins=10, momentum=0.9, alpha=[1.0, 2.0])
    floating = {
        name: buffer.dtype
        for name, buffer in criterion.named_buffers()
        if buffer.is_floating_point()
    }
    assert set(floating) == {
        "class_weight",
        "bin_count_ema",
        "ema_weight",
        "inner_edges",
    }
    assert set(floating.values()) == {torch.float32}
    assert criterion.n_updates.dtype == torch.long  # MPS has int64
    state = criterion.state_dict()
    assert all(value.dtype != torch.float64 for value in state.values()), (
        "a float64 tensor in the saved state cannot be loaded on MPS"
    )
    # Floating buffers follow the module's dtype, like any torch module's.
    assert criterion.double().bin_count_ema.dtype == torch.float64


def _numpy_ema_losses(batches, bins, momentum):
    """GHM-C with a bias-corrected EMA of bin counts, all in float64 numpy."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    ema = np.zeros(bins)
    losses = []
    for step, (logits, target) in enumerate(batches, start=1):
        x, y = logits.detach().double().numpy(), target.numpy()
        p = 1.0 / (1.0 + np.exp(-x))
        g = np.abs(p - y)
        counts = np.histogram(g, bins=edges)[0].astype(float)
        ema = momentum * ema + (1 - momentum) * counts
        density = ema / (1 - momentum**step)
        index = np.clip(np.searchsorted(edges, g, side="right") - 1, 0, bins - 1)
        beta = len(g) / ((counts > 0).sum() * density[index])
        ce = -(y * np.log(p) + (1 - y) * np.log1p(-p))
        losses.append((beta * ce).mean())
    return np.array(losses)


@pytest.mark.parametrize("momentum", [0.75, 0.9, 0.99])
def test_float32_state_equals_a_float64_moving_average(generator, momentum):
    batches = [random_binary(generator, torch.float32, n=32) for _ in range(60)]
    expected = _numpy_ema_losses(batches, bins=10, momentum=momentum)
    criterion = GHMCLoss(bins=10, momentum=momentum)
    values = np.array([criterion(x, y).item() for x, y in batches])
    # float32 logits and a float32 average over 60 batches: float noise only.
    np.testing.assert_allclose(values, expected, rtol=2e-5)

    # float64 logits are binned with float64 edges and keep ~7 digits of the
    # float32 average.
    criterion = GHMCLoss(bins=10, momentum=momentum)
    values = np.array([criterion(x.double(), y).item() for x, y in batches])
    np.testing.assert_allclose(values, expected, rtol=1e-6)


def test_all_zero_sample_weights_keep_the_moving_average_finite(generator):
    criterion = GHMCLoss(bins=5, momentum=0.75)
    logits, target = random_binary(generator, torch.float32, n=8)
    zero = criterion(logits, target, torch.zeros(8))
    assert zero.item() == 0.0
    after = criterion(logits, target)
    assert torch.isfinite(after)
    assert torch.isfinite(criterion.bin_count_ema).all()
