"""scikit-learn classifiers: MLPs trained through skorch with imbalance losses.

The four public estimators are thin: each lists its parameters (scikit-learn
reads them from the signature), forwards them to
:class:`~skfocal._base.BaseImbalancedMLP` and names its loss specification
(:mod:`skfocal._loss_specs`). Everything else, fitting, prediction and the
docstring parts they share, is written once.
"""

from __future__ import annotations

import typing
from numbers import Integral, Real

from sklearn.utils._param_validation import Interval, StrOptions

from skfocal._base import BaseImbalancedMLP
from skfocal._estimator_docs import (
    BETA_PARAMETER,
    alpha_parameter,
    estimator_docstring,
)
from skfocal._loss_specs import LOSS_SPECS, LossSpec, get_loss_spec

__all__ = [
    "BalancedCEClassifier",
    "FocalClassifier",
    "GHMClassifier",
    "ImbalancedMLPClassifier",
]

LOSSES = tuple(LOSS_SPECS)
_GAMMA = [Interval(Real, 0, None, closed="left")]
_BINS = [Interval(Integral, 1, None, closed="left")]
_MOMENTUM = [Interval(Real, 0, 1, closed="left")]


def _arguments(frame_locals: dict) -> dict:
    """An ``__init__``'s arguments, from its ``locals()``."""
    return {
        name: value
        for name, value in frame_locals.items()
        if name not in ("self", "__class__")
    }


class ImbalancedMLPClassifier(BaseImbalancedMLP):
    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseImbalancedMLP._parameter_constraints,
        "loss": [StrOptions(set(LOSS_SPECS))],
        "gamma": _GAMMA,
        "bins": _BINS,
        "momentum": _MOMENTUM,
    }

    def __init__(
        self,
        loss: str = "focal",
        *,
        gamma: float = 2.0,
        alpha=None,
        beta: float = 0.999,
        bins: int = 10,
        momentum: float = 0.75,
        hidden_layer_sizes=(64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 256,
        weight_decay: float = 0.0,
        early_stopping="auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "auto",
        n_threads: int | None = 1,
        random_state=None,
        warm_start: bool = False,
        verbose: int = 0,
        callbacks=None,
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return get_loss_spec(self.loss)


class FocalClassifier(BaseImbalancedMLP):
    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseImbalancedMLP._parameter_constraints,
        "gamma": _GAMMA,
    }

    def __init__(
        self,
        gamma: float = 2.0,
        alpha=None,
        *,
        beta: float = 0.999,
        hidden_layer_sizes=(64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 256,
        weight_decay: float = 0.0,
        early_stopping="auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "auto",
        n_threads: int | None = 1,
        random_state=None,
        warm_start: bool = False,
        verbose: int = 0,
        callbacks=None,
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return get_loss_spec("focal")


class BalancedCEClassifier(BaseImbalancedMLP):
    def __init__(
        self,
        alpha="balanced",
        *,
        beta: float = 0.999,
        hidden_layer_sizes=(64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 256,
        weight_decay: float = 0.0,
        early_stopping="auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "auto",
        n_threads: int | None = 1,
        random_state=None,
        warm_start: bool = False,
        verbose: int = 0,
        callbacks=None,
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return get_loss_spec("balanced_ce")


class GHMClassifier(BaseImbalancedMLP):
    _parameter_constraints: typing.ClassVar[dict] = {
        **BaseImbalancedMLP._parameter_constraints,
        "bins": _BINS,
        "momentum": _MOMENTUM,
    }

    def __init__(
        self,
        bins: int = 10,
        momentum: float = 0.75,
        alpha=None,
        *,
        beta: float = 0.999,
        hidden_layer_sizes=(64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 256,
        weight_decay: float = 0.0,
        early_stopping="auto",
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        device: str = "auto",
        n_threads: int | None = 1,
        random_state=None,
        warm_start: bool = False,
        verbose: int = 0,
        callbacks=None,
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return get_loss_spec("ghm")


# ---------------------------------------------------------------------------
# Docstrings: each class's own text; the shared parts come from
# skfocal._estimator_docs.
# ---------------------------------------------------------------------------
_GAMMA_DOC = """\
    gamma : float, default=2.0
        Focusing parameter of the focal loss, ``>= 0``; ``gamma=0`` is
        (weighted) cross-entropy."""
_BINS_DOC = """\
    bins : int, default=10
        Number of equal gradient-norm bins of GHM-C on [0, 1].
    momentum : float, default=0.75
        Moving-average factor of GHM-C's bin counts, in [0, 1); 0 uses each
        batch's own histogram."""
_FOCAL_ALPHA_DOC = alpha_parameter(
    "None",
    extra="""
        The paper's ``alpha=0.25`` weighs the positive class of a detector;
        on tables, a value near the minority share's complement (e.g. 0.75)
        or ``"balanced"`` is a better start.""",
)
_BALANCED_ALPHA_DOC = alpha_parameter(
    '"balanced"',
    extra="""
        ``None`` is ``"balanced"`` too.""",
)
_GHM_ALPHA_DOC = alpha_parameter(
    "None",
    extra="""
        They multiply the density weights.""",
)
_LIN_2017 = """\
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss
       for Dense Object Detection", ICCV 2017."""

ImbalancedMLPClassifier.__doc__ = estimator_docstring(
    summary="""MLP classifier whose loss is chosen by name.

    The generic estimator that :class:`FocalClassifier`,
    :class:`BalancedCEClassifier` and :class:`GHMClassifier` specialise, so
    that a search can range over the loss itself
    (``GridSearchCV(ImbalancedMLPClassifier(), {"loss": [...]})``).""",
    own_parameters=f"""\
    loss : {{"focal", "balanced_ce", "ghm", "ce"}}, default="focal"
        ``"focal"``: focal loss (``gamma``, ``alpha``). ``"balanced_ce"``:
        cross-entropy weighted by ``alpha`` (``None`` means ``"balanced"``).
        ``"ghm"``: GHM-C (``bins``, ``momentum``, ``alpha``). ``"ce"``: plain
        cross-entropy; ``alpha`` is ignored.
{_GAMMA_DOC}
{alpha_parameter("None")}
{BETA_PARAMETER}
{_BINS_DOC}""",
    see_also="""\
    FocalClassifier : The focal loss with its hyperparameters only.
    BalancedCEClassifier : Class-weighted cross-entropy.
    GHMClassifier : The GHM-C loss.""",
    examples="""\
    >>> from sklearn.datasets import make_classification
    >>> from skfocal import ImbalancedMLPClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = ImbalancedMLPClassifier(loss="ghm", max_epochs=20, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)""",
)

FocalClassifier.__doc__ = estimator_docstring(
    summary="""MLP classifier trained with the focal loss (Lin et al.).

    ``FL(p_t) = -alpha_t (1 - p_t) ** gamma * log(p_t)``: the factor
    ``(1 - p_t) ** gamma`` shrinks the loss of well-classified samples, so
    training concentrates on the hard ones, which under imbalance are mostly
    the minority class. Binary problems use one logit and a sigmoid, so a
    float ``alpha`` has the paper's meaning; multi-class problems a softmax.""",
    own_parameters=f"""\
{_GAMMA_DOC}
{_FOCAL_ALPHA_DOC}
{BETA_PARAMETER}""",
    see_also="""\
    ImbalancedMLPClassifier : Chooses the loss by name.
    skfocal.losses.FocalLoss : The loss module.""",
    references=_LIN_2017,
    examples="""\
    >>> from sklearn.datasets import make_classification
    >>> from skfocal import FocalClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = FocalClassifier(gamma=2.0, alpha=0.75, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([1, 0, 0])
    >>> clf.class_weight_
    array([0.25, 0.75])""",
)

BalancedCEClassifier.__doc__ = estimator_docstring(
    summary="""MLP classifier trained with class-weighted CE.

    Each sample's cross-entropy is multiplied by its class weight and the
    batch loss is the weighted mean, exactly
    ``torch.nn.functional.cross_entropy(weight=class_weight_)``.""",
    own_parameters=f"""\
{_BALANCED_ALPHA_DOC}
{BETA_PARAMETER}""",
    see_also="""\
    FocalClassifier : Adds the focusing factor ``(1 - p_t) ** gamma``.""",
    examples="""\
    >>> import numpy as np
    >>> from skfocal import BalancedCEClassifier
    >>> X = np.r_[np.zeros((90, 2)), np.ones((10, 2))]
    >>> y = np.array(["common"] * 90 + ["rare"] * 10)
    >>> clf = BalancedCEClassifier(random_state=0).fit(X, y)
    >>> clf.class_weight_
    array([0.55555556, 5.        ])
    >>> clf.predict([[1.0, 1.0]])
    array(['rare'], dtype='<U6')""",
)

GHMClassifier.__doc__ = estimator_docstring(
    summary="""MLP classifier trained with the GHM-C loss (Li et al. 2019).

    Each sample's cross-entropy is weighted by the inverse density of its
    gradient norm ``g`` (``|p - y|`` binary, ``1 - p_t`` multi-class) in a
    histogram of ``bins`` equal bins: the many easy samples, and a few
    extreme outliers, are down-weighted together. Bin counts are a
    bias-corrected moving average over batches (``momentum``).""",
    own_parameters=f"""\
{_BINS_DOC}
{_GHM_ALPHA_DOC}
{BETA_PARAMETER}""",
    see_also="""\
    skfocal.losses.GHMCLoss : The loss module.""",
    references="""\
    .. [1] B. Li, Y. Liu and X. Wang, "Gradient Harmonized Single-stage
       Detector", AAAI 2019.""",
    examples="""\
    >>> from sklearn.datasets import make_classification
    >>> from skfocal import GHMClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = GHMClassifier(bins=10, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).sum()
    np.float64(1.0)""",
)
