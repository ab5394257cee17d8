"""Bad values get a clear error: the parameter, the value, what was expected."""

import math

import pytest
import torch

from skfocal.losses import (
    AsymmetricLoss,
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    Poly1Loss,
    asymmetric_loss,
    class_counts,
    class_prior,
    focal_loss,
    ldam_loss,
    ldam_margins,
    logit_adjusted_loss,
    poly1_loss,
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


# --------------------------------------------------------------------------
# The losses added in the second phase, and the helpers
# --------------------------------------------------------------------------
BINARY = (torch.tensor([0.5, -0.2, 1.0]), torch.tensor([1, 0, 1]))
MULTI = (torch.zeros(3, 3), torch.tensor([0, 2, 1]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: focal_loss(*BINARY, gamma="auto"),
            r"gamma must be a finite real number >= 0 or 'adaptive'; got 'auto'",
        ),
        (lambda: FocalLoss(gamma="Adaptive"), r"or 'adaptive'; got 'Adaptive'"),
        (
            lambda: logit_adjusted_loss(*BINARY, [0.9, 0.1], tau=-1.0),
            r"tau must be a finite real number >= 0; got -1.0",
        ),
        (
            lambda: logit_adjusted_loss(*BINARY, [0.9, 0.1], tau=math.inf),
            r"tau must be a finite real number >= 0; got inf",
        ),
        (
            lambda: LogitAdjustedLoss([0.9, 0.1], tau="1"),
            r"tau must be a finite real number >= 0; got '1'",
        ),
        (
            lambda: logit_adjusted_loss(*BINARY, [0.5, 0.3, 0.2]),
            r"class_prior must have one value per class \(2, for one logit per "
            r"sample \(binary\)\); got 3",
        ),
        (
            lambda: LogitAdjustedLoss([0.5, 0.5])(*MULTI),
            r"class_prior must have one value per class \(3, for 3 logits\); got 2",
        ),
        (
            lambda: logit_adjusted_loss(*BINARY, [1.0, 0.0]),
            r"class_prior must hold finite values > 0 .*\[1.0, 0.0\]",
        ),
        (
            lambda: LogitAdjustedLoss([0.5, -0.5]),
            r"class_prior must hold finite values > 0",
        ),
        (
            lambda: LogitAdjustedLoss([[0.5, 0.5]]),
            r"class_prior must be 1-D with one value per class .*shape \(1, 2\)",
        ),
        (
            lambda: LogitAdjustedLoss("balanced"),
            r"class_prior must be a 1-D sequence of positive numbers",
        ),
        (
            lambda: ldam_loss(*BINARY, [10, 0]),
            r"class_counts must hold finite values > 0 .*\[10.0, 0.0\]",
        ),
        (
            lambda: LDAMLoss([10, 5], max_margin=-0.1),
            r"max_margin must be a finite real number >= 0; got -0.1",
        ),
        (
            lambda: ldam_loss(*BINARY, [10, 5], scale=0.0),
            r"scale must be a finite real number > 0; got 0.0",
        ),
        (
            lambda: LDAMLoss([10, 5], scale=math.nan),
            r"scale must be a finite real number > 0; got nan",
        ),
        (
            lambda: LDAMLoss([10, 5, 1])(*BINARY),
            r"class_counts must have one value per class \(2, for one logit",
        ),
        (
            lambda: asymmetric_loss(*BINARY, gamma_pos=-1.0),
            r"gamma_pos must be a finite real number >= 0; got -1.0",
        ),
        (
            lambda: AsymmetricLoss(gamma_neg=math.nan),
            r"gamma_neg must be a finite real number >= 0; got nan",
        ),
        (
            lambda: asymmetric_loss(*BINARY, clip=1.0),
            r"clip must be a finite real number in \[0, 1\); got 1.0",
        ),
        (
            lambda: AsymmetricLoss(clip=-0.05),
            r"clip must be a finite real number in \[0, 1\); got -0.05",
        ),
        (
            lambda: AsymmetricLoss(reduction="avg"),
            r"reduction must be one of .*'avg'",
        ),
        (
            lambda: poly1_loss(*BINARY, epsilon=-2.0),
            r"epsilon must be a finite real number >= -1; got -2.0",
        ),
        (
            lambda: Poly1Loss(gamma="adaptive"),
            r"gamma must be a finite real number >= 0; got 'adaptive'",
        ),
        (
            lambda: Poly1Loss(epsilon=True),
            r"epsilon must be a finite real number >= -1; got True",
        ),
        (
            lambda: FocalLoss().set_class_weight(0.5),
            r"set_class_weight takes one weight per class or None; got the float",
        ),
        (
            lambda: FocalLoss().set_class_weight([1.0, -1.0]),
            r"weight given as a vector must hold finite, non-negative weights",
        ),
        (
            lambda: LDAMLoss([10, 5]).set_class_weight([[1.0, 2.0]]),
            r"weight given as a vector must be 1-D",
        ),
    ],
)
def test_new_parameters_reject_bad_values(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_helpers_reject_bad_input():
    with pytest.raises(ValueError, match=r"max_margin must be a finite .*got -1"):
        ldam_margins([10, 5], max_margin=-1)
    with pytest.raises(ValueError, match=r"target is empty; class counts need"):
        class_counts([])
    with pytest.raises(ValueError, match=r"non-negative class indices; got the val"):
        class_counts([0, -1])
    with pytest.raises(ValueError, match=r"n_classes must be an integer; got 2.5"):
        class_counts([0, 1], n_classes=2.5)
    with pytest.raises(ValueError, match=r"target holds class 3 but n_classes=2"):
        class_prior([0, 3], n_classes=2)
    with pytest.raises(ValueError, match=r"sample_weight must hold finite, non-neg"):
        class_counts([0, 1], sample_weight=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"sample_weight sums to 0"):
        class_prior([0, 1], sample_weight=[0.0, 0.0])
