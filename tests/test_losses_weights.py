"""Class counts, priors and weights from labels."""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from skfocal.losses import class_counts, class_prior, class_weights


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


def test_class_weights_reject_bad_input():
    with pytest.raises(ValueError, match=r"method must be 'balanced' or 'effective'"):
        class_weights([0, 1], method="inverse")
    with pytest.raises(ValueError, match=r"beta must be a real number in \[0, 1\)"):
        class_weights([0, 1], method="effective", beta=1.0)
    with pytest.raises(ValueError, match=r"classes \[1\] have no samples"):
        class_weights([0, 0, 2])
    with pytest.raises(ValueError, match=r"integer class indices"):
        class_weights([0.5, 1.0])


def test_class_counts_and_prior_match_numpy():
    rng = np.random.default_rng(0)
    labels = rng.choice(4, size=500, p=[0.7, 0.2, 0.08, 0.02])
    weights = rng.uniform(0.0, 2.0, size=500)
    np.testing.assert_array_equal(
        class_counts(labels).numpy(), np.bincount(labels, minlength=4)
    )
    np.testing.assert_allclose(
        class_counts(labels, sample_weight=weights).numpy(),
        np.bincount(labels, weights=weights, minlength=4),
    )
    prior = class_prior(labels, n_classes=6).numpy()
    np.testing.assert_allclose(prior[:4], np.bincount(labels) / 500)
    assert prior[4:].tolist() == [0.0, 0.0]
    assert prior.sum() == pytest.approx(1.0)
