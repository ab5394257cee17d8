"""The ensemble contract: modules with ``n_members = k > 1`` outputs.

A toy module with k linear members stands in for the backbones that will
return several members' logits. The expected values are computed here with
numpy and scipy from the members' logits, independently of skfocal.
"""

import numpy as np
import pytest
import torch
from scipy.special import expit, log_expit, log_softmax, logsumexp, softmax
from sklearn.datasets import make_classification
from torch import nn

from skfocal import FocalClassifier, ImbalancedMLPClassifier
from skfocal._ensemble import (
    ensemble_log_probabilities,
    ensemble_logits,
    members_as_batch,
)

N_MEMBERS = 3


class ToyEnsemble(nn.Module):
    """k independent linear members: logits (N, k) or (N, k, C)."""

    def __init__(self, n_features, n_outputs, n_members):
        super().__init__()
        self.members = nn.Linear(n_features, n_outputs * n_members)
        self.n_members = n_members
        self.n_outputs = n_outputs

    def forward(self, X, sample_weight=None):
        logits = self.members(X).reshape(X.shape[0], self.n_members, self.n_outputs)
        return logits.squeeze(2) if self.n_outputs == 1 else logits


class _ToyMixin:
    def _build_module(self, n_features, n_classes):
        outputs = 1 if n_classes == 2 else n_classes
        return ToyEnsemble, {
            "n_features": n_features,
            "n_outputs": outputs,
            "n_members": N_MEMBERS,
        }


class ToyFocal(_ToyMixin, FocalClassifier):
    pass


class ToyGeneric(_ToyMixin, ImbalancedMLPClassifier):
    pass


@pytest.fixture(scope="module")
def binary():
    return make_classification(300, 5, weights=[0.8], random_state=0)


@pytest.fixture(scope="module")
def multiclass():
    return make_classification(
        300, 6, n_informative=4, n_classes=3, weights=[0.6, 0.3, 0.1], random_state=0
    )


def member_logits(clf, X):
    """The members' logits in float64, straight from the module."""
    module = clf.net_.module_.double().eval()
    with torch.no_grad():
        logits = module(torch.as_tensor(X.astype(np.float32), dtype=torch.float64))
    clf.net_.module_.float()
    return logits.numpy()


def test_binary_predictions_average_member_probabilities(binary):
    X, y = binary
    # calibration=None (the averaged probabilities as trained) and
    # threshold=None (predict is the most probable class).
    clf = ToyFocal(max_epochs=3, random_state=0, calibration=None, threshold=None)
    clf.fit(X, y)
    logits = member_logits(clf, X)
    assert logits.shape == (len(X), N_MEMBERS)
    positive = expit(logits).mean(axis=1)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], positive, rtol=1e-6)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_allclose(
        scores, np.log(positive) - np.log1p(-positive), rtol=1e-6, atol=1e-9
    )
    np.testing.assert_allclose(
        clf.predict_log_proba(X), np.log(proba), rtol=1e-6, atol=1e-12
    )
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_multiclass_predictions_average_member_probabilities(multiclass):
    X, y = multiclass
    # calibration=None (the averaged probabilities as trained) and
    # threshold=None (predict is the most probable class).
    clf = ToyFocal(max_epochs=3, random_state=0, calibration=None, threshold=None)
    clf.fit(X, y)
    logits = member_logits(clf, X)
    assert logits.shape == (len(X), N_MEMBERS, 3)
    expected = softmax(logits, axis=2).mean(axis=1)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, expected, rtol=1e-6)
    np.testing.assert_allclose(clf.decision_function(X), np.log(expected), rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_training_loss_is_the_mean_over_members(binary):
    X, y = binary
    weights = np.random.RandomState(0).rand(len(y))
    clf = ToyGeneric(loss="balanced_ce", alpha=[1.0, 3.0], max_epochs=1, random_state=0)
    clf.fit(X, y, sample_weight=weights)
    logits = member_logits(clf, X)
    loss = clf.net_.get_loss(
        torch.as_tensor(logits),
        torch.as_tensor(y, dtype=torch.float64),
        X={"X": None, "sample_weight": torch.as_tensor(weights)},
        training=True,
    )
    # Weighted binary cross-entropy over every (sample, member) pair.
    per_pair = -(y[:, None] * log_expit(logits) + (1 - y[:, None]) * log_expit(-logits))
    pair_weight = (np.where(y == 1, 3.0, 1.0) * weights)[:, None]
    expected = (pair_weight * per_pair).sum() / (pair_weight.sum() * N_MEMBERS)
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)


def test_validation_loss_scores_the_averaged_prediction(multiclass):
    X, y = multiclass
    clf = ToyFocal(max_epochs=2, random_state=0).fit(X, y)
    logits = member_logits(clf, X)
    loss = clf.net_.get_loss(
        torch.as_tensor(logits), torch.as_tensor(y), X=None, training=False
    )
    log_mean = logsumexp(log_softmax(logits, axis=2), axis=1) - np.log(N_MEMBERS)
    expected = -log_mean[np.arange(len(y)), y].mean()
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)


def test_ensemble_trains_with_early_stopping_and_pickles(binary):
    import pickle

    X, y = binary
    # calibration=None: net_.predict_proba is then predict_proba.
    clf = ToyFocal(
        early_stopping=True,
        n_iter_no_change=2,
        max_epochs=30,
        random_state=0,
        calibration=None,
    ).fit(X, y)
    assert "valid_loss" in clf.net_.history[-1]
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_allclose(
        clf.net_.predict_proba(X.astype(np.float32)), clf.predict_proba(X), atol=1e-5
    )


def test_helpers_leave_single_member_outputs_alone():
    logits = torch.randn(4, 3)
    target = torch.tensor([0, 2, 1, 1])
    assert members_as_batch(logits, target, None, 1)[0] is logits
    assert ensemble_logits(logits, 1) is logits
    torch.testing.assert_close(
        ensemble_log_probabilities(logits, 1), torch.log_softmax(logits, dim=1)
    )


def test_member_axis_is_checked():
    with pytest.raises(ValueError, match=r"n_members=3 must return logits of shape"):
        members_as_batch(torch.zeros(4, 2), torch.zeros(4), None, 3)
