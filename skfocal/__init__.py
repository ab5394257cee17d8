"""skfocal: scikit-learn-compatible MLPs with losses made for class imbalance.

Examples
--------
>>> from sklearn.datasets import make_classification
>>> from skfocal import FocalClassifier
>>> X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
>>> FocalClassifier(random_state=0).fit(X, y).predict_proba(X[:2]).shape
(2, 2)
"""

from skfocal.classifier import (
    BalancedCEClassifier,
    FocalClassifier,
    GHMClassifier,
    ImbalancedMLPClassifier,
)
from skfocal.losses import (
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    balanced_cross_entropy,
    class_weights,
    focal_loss,
    ghmc_loss,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "BalancedCEClassifier",
    "BalancedCrossEntropyLoss",
    "FocalClassifier",
    "FocalLoss",
    "GHMCLoss",
    "GHMClassifier",
    "ImbalancedMLPClassifier",
    "__version__",
    "balanced_cross_entropy",
    "class_weights",
    "focal_loss",
    "ghmc_loss",
]
