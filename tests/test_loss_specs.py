"""The loss-spec registry: what each loss name builds, from which parameters."""

import numpy as np
import pytest
import torch

from skfocal import FocalClassifier, ImbalancedMLPClassifier
from skfocal._loss_specs import (
    LOSS_SPECS,
    LossSpec,
    get_loss_spec,
    resolve_class_weight,
)
from skfocal.losses import BalancedCrossEntropyLoss


class RecordingLoss(BalancedCrossEntropyLoss):
    """Cross-entropy that keeps the class statistics it was given."""

    def __init__(self, class_counts, class_prior, gamma, alpha=None, **kwargs):
        super().__init__(alpha=alpha, **kwargs)
        self.class_counts = class_counts
        self.class_prior = class_prior
        self.gamma = gamma


class RecordingClassifier(FocalClassifier):
    def _get_loss_spec(self):
        return LossSpec(
            "recording",
            RecordingLoss,
            params=("gamma",),
            class_counts=True,
            class_prior=True,
        )


def test_spec_passes_parameters_and_class_statistics():
    rng = np.random.RandomState(0)
    X = rng.randn(120, 3)
    y = np.array(["a"] * 80 + ["b"] * 30 + ["c"] * 10)
    weights = rng.rand(120)
    clf = RecordingClassifier(gamma=1.5, alpha={"c": 4.0}, max_epochs=1)
    clf.fit(X, y, sample_weight=weights)
    criterion = clf.net_.criterion_
    encoded = np.searchsorted(clf.classes_, y)
    counts = np.bincount(encoded, weights=weights)
    np.testing.assert_allclose(criterion.class_counts, counts)
    np.testing.assert_allclose(criterion.class_prior, counts / counts.sum())
    assert criterion.gamma == 1.5
    assert criterion.alpha == (1.0, 1.0, 4.0)
    assert criterion.check_targets is False


def test_registry_holds_the_losses_of_the_generic_estimator():
    assert set(LOSS_SPECS) >= {"focal", "balanced_ce", "ghm", "ce"}
    for name in LOSS_SPECS:
        clf = ImbalancedMLPClassifier(loss=name)
        assert clf._get_loss_spec() is get_loss_spec(name)
    assert get_loss_spec("balanced_ce").default_alpha == "balanced"
    assert not get_loss_spec("ce").takes_alpha
    with pytest.raises(ValueError, match=r"Unknown loss 'dice'; the registered"):
        get_loss_spec("dice")


def test_criterion_factory_builds_unchecked_modules():
    factory = get_loss_spec("ghm").make_criterion(bins=4, momentum=0.5, alpha=None)
    criterion = factory()
    assert (criterion.bins, criterion.momentum) == (4, 0.5)
    assert not criterion.check_targets
    # The factory's module computes a loss.
    criterion(torch.zeros(3), torch.tensor([0.0, 1.0, 1.0]))


def test_resolve_class_weight_dict_and_effective():
    classes = np.array(["x", "y"])
    encoded = np.array([0, 0, 0, 1])
    weights = resolve_class_weight(
        {"y": 2.5},
        classes=classes,
        y_encoded=encoded,
        sample_weight=None,
        beta=0.9,
        owner="Test",
    )
    np.testing.assert_allclose(weights, [1.0, 2.5])
    effective = resolve_class_weight(
        "effective",
        classes=classes,
        y_encoded=encoded,
        sample_weight=None,
        beta=0.9,
        owner="Test",
    )
    expected = (1 - 0.9) / (1 - 0.9 ** np.array([3.0, 1.0]))
    np.testing.assert_allclose(effective, expected * 2 / expected.sum())
    assert (
        resolve_class_weight(
            None,
            classes=classes,
            y_encoded=encoded,
            sample_weight=None,
            beta=0.9,
            owner="Test",
        )
        is None
    )
