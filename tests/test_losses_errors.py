"""Bad values get a clear error: the parameter, the value, what was expected."""

import math

import pytest
import torch

from skfocal.losses import (
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    focal_loss,
)


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
