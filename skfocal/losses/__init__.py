"""Losses for imbalanced classification: focal, class-balanced CE and GHM-C.

The focal loss is that of Lin et al. [1]_, GHM-C that of Li et al. [2]_ and
the "effective number" class weights those of Cui et al. [3]_.

Every loss takes raw logits, never probabilities:

* binary problems: logits of shape ``(N,)`` or ``(N, 1)`` and targets in
  ``{0, 1}``; the probability of class 1 is ``sigmoid(logit)``;
* multi-class problems: logits of shape ``(N, C)`` and integer targets in
  ``[0, C)``; probabilities are ``softmax(logits)``.

``alpha`` is the class weighting: ``None``, a float in ``[0, 1]`` (binary
only: weight ``alpha`` for class 1 and ``1 - alpha`` for class 0, the
convention of Lin et al. 2017) or a per-class vector of length ``C`` (length
2 for binary problems). With ``reduction="mean"`` the result is the weighted
mean ``sum(w_i * l_i) / sum(w_i)``, where ``w_i`` is the sample's class
weight times its sample weight, exactly as
:func:`torch.nn.functional.cross_entropy` does with ``weight=``.

All computations stay in log space (``logsigmoid``, ``log_softmax``,
``logsumexp``) so that values and gradients are finite for any finite logit,
including ``gamma`` in ``(0, 1)`` at saturated logits in float32.

With ``reduction="mean"`` a batch whose weights sum to zero contributes 0
(with a zero gradient), not ``0 / 0``.

This package imports torch only; it knows nothing of scikit-learn or skorch.
Its code lives in private modules (``_focal``, ``_ghm``, ``_weights``, ...);
every public name is re-exported here.

References
----------
.. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss
   for Dense Object Detection", ICCV 2017.
.. [2] B. Li, Y. Liu and X. Wang, "Gradient Harmonized Single-stage
   Detector", AAAI 2019.
.. [3] Y. Cui, M. Jia, T.-Y. Lin, Y. Song and S. Belongie, "Class-Balanced
   Loss Based on Effective Number of Samples", CVPR 2019.
"""

from skfocal.losses._asymmetric import AsymmetricLoss, asymmetric_loss
from skfocal.losses._focal import (
    BalancedCrossEntropyLoss,
    FocalLoss,
    adaptive_gamma,
    balanced_cross_entropy,
    focal_loss,
)
from skfocal.losses._ghm import (
    GHMCLoss,
    ghm_gradient_norm,
    ghm_weights,
    ghmc_loss,
)
from skfocal.losses._ldam import LDAMLoss, ldam_loss, ldam_margins
from skfocal.losses._logit_adjusted import LogitAdjustedLoss, logit_adjusted_loss
from skfocal.losses._poly import Poly1Loss, poly1_loss
from skfocal.losses._validation import AlphaLike, Reduction
from skfocal.losses._weights import class_counts, class_prior, class_weights

__all__ = [
    "AlphaLike",
    "AsymmetricLoss",
    "BalancedCrossEntropyLoss",
    "FocalLoss",
    "GHMCLoss",
    "LDAMLoss",
    "LogitAdjustedLoss",
    "Poly1Loss",
    "Reduction",
    "adaptive_gamma",
    "asymmetric_loss",
    "balanced_cross_entropy",
    "class_counts",
    "class_prior",
    "class_weights",
    "focal_loss",
    "ghm_gradient_norm",
    "ghm_weights",
    "ghmc_loss",
    "ldam_loss",
    "ldam_margins",
    "logit_adjusted_loss",
    "poly1_loss",
]
