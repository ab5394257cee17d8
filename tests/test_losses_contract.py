"""Every loss against an independent float64 reference: values and gradients.

One table of losses (``CASES``) and the contract they all share: values and
autograd gradients equal a numpy/scipy computation from the paper's formula
(gradients by finite differences), in float32 and float64, binary and
multi-class where defined, at logits up to +-100; the weighted-mean
reduction; a zero-weight batch contributes 0; module equals function.
"""

from __future__ import annotations

import doctest
import pickle
from collections.abc import Callable
from dataclasses import dataclass

import _loss_reference as ref
import numpy as np
import pytest
import torch

import skfocal.losses
from skfocal.losses import (
    AsymmetricLoss,
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    Poly1Loss,
    asymmetric_loss,
    balanced_cross_entropy,
    focal_loss,
    ghmc_loss,
    ldam_loss,
    logit_adjusted_loss,
    poly1_loss,
)

DTYPES = [torch.float32, torch.float64]
PRIOR = {True: [0.85, 0.15], False: [0.5, 0.3, 0.15, 0.05]}
COUNTS = {True: [400.0, 25.0], False: [500.0, 120.0, 30.0, 4.0]}
ALPHA = {True: 0.7, False: [0.5, 1.0, 2.0, 4.0]}
ALPHA_VECTOR = {True: [0.3, 0.7], False: ALPHA[False]}


@dataclass
class Case:
    """A loss with fixed hyperparameters, in its three forms."""

    functional: Callable  # (logits, target, **keywords) -> Tensor
    module: Callable  # (**keywords) -> nn.Module
    reference: Callable  # (logits, target) -> per-sample float64 losses
    alpha: bool = True
    adaptive: bool = False


def _case(name: str, binary: bool) -> Case:
    prior, counts = PRIOR[binary], COUNTS[binary]
    if name == "focal_adaptive":
        return Case(
            lambda *a, **k: focal_loss(*a, gamma="adaptive", **k),
            lambda **k: FocalLoss(gamma="adaptive", **k),
            None,
            adaptive=True,
        )
    if name.startswith("focal_"):
        gamma = float(name.split("_")[1])
        return Case(
            lambda *a, **k: focal_loss(*a, gamma=gamma, **k),
            lambda **k: FocalLoss(gamma=gamma, **k),
            lambda x, y: ref.focal(x, y, gamma),
        )
    if name == "balanced_ce":
        return Case(balanced_cross_entropy, BalancedCrossEntropyLoss, ref.cross_entropy)
    if name.startswith("logit_adjusted_"):
        tau = float(name.rsplit("_", 1)[1])
        return Case(
            lambda *a, **k: logit_adjusted_loss(*a, class_prior=prior, tau=tau, **k),
            lambda **k: LogitAdjustedLoss(class_prior=prior, tau=tau, **k),
            lambda x, y: ref.logit_adjusted(x, y, prior, tau),
        )
    if name.startswith("ldam_"):
        max_margin, scale = (float(v) for v in name.split("_")[1:])
        return Case(
            lambda *a, **k: ldam_loss(*a, counts, max_margin, scale, **k),
            lambda **k: LDAMLoss(counts, max_margin, scale, **k),
            lambda x, y: ref.ldam(x, y, counts, max_margin, scale),
        )
    if name.startswith("asymmetric_"):
        gamma_pos, gamma_neg, clip = (float(v) for v in name.split("_")[1:])
        return Case(
            lambda *a, **k: asymmetric_loss(*a, gamma_pos, gamma_neg, clip, **k),
            lambda **k: AsymmetricLoss(gamma_pos, gamma_neg, clip, **k),
            lambda x, y: ref.asymmetric(x, y, gamma_pos, gamma_neg, clip),
            alpha=False,
        )
    if name.startswith("poly1_"):
        epsilon, gamma = (float(v) for v in name.split("_")[1:])
        return Case(
            lambda *a, **k: poly1_loss(*a, epsilon=epsilon, gamma=gamma, **k),
            lambda **k: Poly1Loss(epsilon=epsilon, gamma=gamma, **k),
            lambda x, y: ref.poly1(x, y, epsilon, gamma),
        )
    raise AssertionError(name)


CASE_NAMES = [
    "focal_2.0",
    "focal_0.5",
    "focal_adaptive",
    "balanced_ce",
    "logit_adjusted_1.0",
    "logit_adjusted_0.5",
    "ldam_0.5_30.0",
    "ldam_0.3_5.0",
    "asymmetric_0.0_4.0_0.05",
    "asymmetric_1.0_4.0_0.05",
    "asymmetric_0.5_0.3_0.1",
    "asymmetric_0.0_2.0_0.0",
    "poly1_1.0_0.0",
    "poly1_2.0_2.0",
    "poly1_-0.5_0.5",
]
PROBLEMS = ["binary", "multiclass"]
# The asymmetric loss is binary only (its multi-class error is tested apart).
CASES_BY_PROBLEM = [
    (name, problem)
    for name in CASE_NAMES
    for problem in PROBLEMS
    if problem == "binary" or not name.startswith("asymmetric")
]


@pytest.fixture(params=[0, 1])
def generator(request):
    return torch.Generator().manual_seed(request.param)


def _setup(name, problem, generator, dtype):
    binary = problem == "binary"
    case = _case(name, binary)
    make_batch = ref.binary_batch if binary else ref.multiclass_batch
    logits, target = make_batch(generator, dtype)
    return case, binary, logits, target


def _reference_at(case, logits, target):
    """The per-sample reference; the adaptive gamma is fixed at these logits."""
    if case.adaptive:
        gamma = ref.adaptive_gamma(logits, target)
        return lambda x, y: ref.focal(x, y, gamma)
    return case.reference


def _weights(case, binary, target, generator):
    sample_weight = torch.rand(len(target), generator=generator, dtype=torch.float64)
    alpha = ALPHA[binary] if case.alpha else None
    weight = sample_weight.numpy().copy()
    if alpha is not None:
        weight = weight * np.asarray(ALPHA_VECTOR[binary])[target.numpy()]
    return alpha, sample_weight, weight


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "problem"), CASES_BY_PROBLEM)
def test_values_equal_the_reference(name, problem, dtype, generator):
    case, binary, logits, target = _setup(name, problem, generator, dtype)
    alpha, sample_weight, weight = _weights(case, binary, target, generator)
    x, y = logits.detach().double().numpy(), target.numpy()
    per_sample = _reference_at(case, x, y)(x, y)

    keywords = {"alpha": alpha} if case.alpha else {}
    value = case.functional(
        logits, target, sample_weight=sample_weight.to(dtype), **keywords
    )
    expected = ref.weighted_mean(per_sample, weight)
    torch.testing.assert_close(
        value.double(),
        torch.tensor(expected, dtype=torch.float64),
        **ref.tolerance(dtype),
    )
    unweighted = case.functional(logits, target, reduction="none")
    torch.testing.assert_close(
        unweighted.double(), torch.as_tensor(per_sample), **ref.tolerance(dtype)
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "problem"), CASES_BY_PROBLEM)
def test_gradients_equal_finite_differences_of_the_reference(
    name, problem, dtype, generator
):
    case, binary, logits, target = _setup(name, problem, generator, dtype)
    alpha, sample_weight, weight = _weights(case, binary, target, generator)
    keywords = {"alpha": alpha} if case.alpha else {}
    loss = case.functional(
        logits, target, sample_weight=sample_weight.to(dtype), **keywords
    )
    (gradient,) = torch.autograd.grad(loss, logits)
    assert torch.isfinite(gradient).all()

    x, y = logits.detach().double().numpy(), target.numpy()
    expected = ref.mean_gradient(_reference_at(case, x, y), x, y, weight)
    tolerance = (
        {"rtol": 1e-4, "atol": 1e-6}
        if dtype == torch.float32
        else {"rtol": 1e-6, "atol": 1e-8}
    )
    torch.testing.assert_close(
        gradient.double(), torch.as_tensor(expected), **tolerance
    )


@pytest.mark.parametrize(("name", "problem"), CASES_BY_PROBLEM)
def test_module_equals_function_in_both_dtypes(name, problem, generator):
    case, binary, logits, target = _setup(name, problem, generator, torch.float64)
    alpha, sample_weight, _ = _weights(case, binary, target, generator)
    keywords = {"alpha": alpha} if case.alpha else {}
    expected = case.functional(logits, target, sample_weight=sample_weight, **keywords)
    module = case.module(**keywords)
    # The modules keep their constants (class weights, priors, margins) in
    # float32 buffers: float64 logits see them rounded to float32.
    for criterion in (module, pickle.loads(pickle.dumps(module)).double()):
        torch.testing.assert_close(
            criterion(logits, target, sample_weight), expected, rtol=1e-6, atol=1e-9
        )
    as_float32 = module(logits.float(), target, sample_weight.float())
    assert as_float32.dtype == torch.float32
    torch.testing.assert_close(as_float32.double(), expected, rtol=2e-5, atol=2e-6)
    assert all(
        buffer.dtype != torch.float64 for buffer in case.module(**keywords).buffers()
    )


@pytest.mark.parametrize(("name", "problem"), CASES_BY_PROBLEM)
def test_reductions_are_consistent(name, problem, generator):
    case, binary, logits, target = _setup(name, problem, generator, torch.float64)
    alpha, sample_weight, weight = _weights(case, binary, target, generator)
    keywords = {"alpha": alpha} if case.alpha else {}
    per_sample = case.functional(
        logits, target, sample_weight=sample_weight, reduction="none", **keywords
    )
    total = case.functional(
        logits, target, sample_weight=sample_weight, reduction="sum", **keywords
    )
    mean = case.functional(logits, target, sample_weight=sample_weight, **keywords)
    torch.testing.assert_close(total, per_sample.sum())
    torch.testing.assert_close(mean, per_sample.sum() / weight.sum())


# --------------------------------------------------------------------------
# A batch whose weights sum to zero contributes 0, not 0 / 0 (issue 11).
# --------------------------------------------------------------------------
ZERO_WEIGHT_CASES = [*CASES_BY_PROBLEM, ("ghm", "binary"), ("ghm", "multiclass")]


def _case_or_ghm(name, binary):
    if name == "ghm":
        return Case(ghmc_loss, lambda **k: GHMCLoss(bins=10, **k), None)
    return _case(name, binary)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "problem"), ZERO_WEIGHT_CASES)
def test_zero_sample_weights_contribute_zero(name, problem, dtype, generator):
    binary = problem == "binary"
    case = _case_or_ghm(name, binary)
    make_batch = ref.binary_batch if binary else ref.multiclass_batch
    logits, target = make_batch(generator, dtype, n=8)
    zeros = torch.zeros(8, dtype=dtype)
    for loss in (
        case.functional(logits, target, sample_weight=zeros),
        case.module()(logits, target, zeros),
    ):
        (gradient,) = torch.autograd.grad(loss, logits)
        assert loss.item() == 0.0
        assert torch.equal(gradient, torch.zeros_like(gradient))


@pytest.mark.parametrize(("name", "problem"), ZERO_WEIGHT_CASES)
def test_a_batch_of_a_zero_weight_class_contributes_zero(name, problem, generator):
    binary = problem == "binary"
    case = _case_or_ghm(name, binary)
    make_batch = ref.binary_batch if binary else ref.multiclass_batch
    logits, _ = make_batch(generator, torch.float32, n=8)
    target = torch.zeros(8, dtype=torch.long)  # only class 0, weighted 0
    weight = [0.0, 1.0] if binary else [0.0, 1.0, 1.0, 1.0]
    criterion = case.module()
    criterion.set_class_weight(weight)
    losses = [criterion(logits, target)]
    if case.alpha:
        # alpha=1.0 in a binary problem: class 0 weighs 1 - alpha = 0.
        alpha = 1.0 if binary else weight
        losses.append(case.functional(logits, target, alpha=alpha))
    for loss in losses:
        (gradient,) = torch.autograd.grad(loss, logits)
        assert loss.item() == 0.0
        assert torch.equal(gradient, torch.zeros_like(gradient))


def test_empty_batch_mean_is_zero():
    logits = torch.zeros(0, 3, requires_grad=True)
    loss = focal_loss(logits, torch.zeros(0, dtype=torch.long))
    assert loss.item() == 0.0


# --------------------------------------------------------------------------
# The package
# --------------------------------------------------------------------------
def test_every_public_name_is_exported_and_documented():
    for name in skfocal.losses.__all__:
        obj = getattr(skfocal.losses, name)
        if (callable(obj) and not name[0].isupper()) or isinstance(obj, type):
            assert "Examples" in (obj.__doc__ or ""), name


def test_docstring_examples_run():
    modules = {
        getattr(skfocal.losses, name).__module__
        for name in skfocal.losses.__all__
        if hasattr(getattr(skfocal.losses, name), "__module__")
        and getattr(skfocal.losses, name).__module__.startswith("skfocal.losses")
    }
    assert len(modules) >= 6
    for module_name in sorted(modules):
        module = __import__(module_name, fromlist=["_"])
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module_name
        assert result.attempted > 0, module_name
