"""skfocal: scikit-learn-compatible MLPs with losses made for class imbalance.

The public names are imported on first use (PEP 562), so that
``import skfocal`` and the ``skfocal`` command start without torch; the
estimators and losses load torch when they are first touched.

Examples
--------
>>> from sklearn.datasets import make_classification
>>> from skfocal import FocalClassifier
>>> X, y = make_classification(n_samples=200, weights=[0.9], random_state=0)
>>> FocalClassifier(random_state=0).fit(X, y).predict_proba(X[:2]).shape
(2, 2)
"""

from __future__ import annotations

import importlib
import typing

__version__ = "0.1.0.dev0"

_ESTIMATORS = (
    "BalancedCEClassifier",
    "FocalClassifier",
    "GHMClassifier",
    "ImbalancedMLPClassifier",
)
_LOSSES = (
    "AsymmetricLoss",
    "BalancedCrossEntropyLoss",
    "FocalLoss",
    "GHMCLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "Poly1Loss",
    "asymmetric_loss",
    "balanced_cross_entropy",
    "class_weights",
    "focal_loss",
    "ghmc_loss",
    "ldam_loss",
    "logit_adjusted_loss",
    "poly1_loss",
)
# Where each public name lives; nothing is imported until it is asked for.
_HOME: dict[str, str] = {
    **dict.fromkeys(_ESTIMATORS, "skfocal.classifier"),
    **dict.fromkeys(_LOSSES, "skfocal.losses"),
}

__all__ = [
    "AsymmetricLoss",
    "BalancedCEClassifier",
    "BalancedCrossEntropyLoss",
    "FocalClassifier",
    "FocalLoss",
    "GHMCLoss",
    "GHMClassifier",
    "ImbalancedMLPClassifier",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "Poly1Loss",
    "__version__",
    "asymmetric_loss",
    "balanced_cross_entropy",
    "class_weights",
    "focal_loss",
    "ghmc_loss",
    "ldam_loss",
    "logit_adjusted_loss",
    "poly1_loss",
]


def __getattr__(name: str) -> typing.Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'skfocal' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOME})
