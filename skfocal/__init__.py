"""skfocal: scikit-learn-compatible MLPs with losses made for class imbalance."""

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
    "BalancedCrossEntropyLoss",
    "FocalLoss",
    "GHMCLoss",
    "__version__",
    "balanced_cross_entropy",
    "class_weights",
    "focal_loss",
    "ghmc_loss",
]
