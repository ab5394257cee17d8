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
from skfocal._fit_backbone import (
    DEFAULT_EMBEDDING,
    DEFAULT_ENSEMBLE_SIZE,
    DEFAULT_FEATURE_SCALING,
    DEFAULT_INPUT_TRANSFORM,
    DEFAULT_LR_SCHEDULE,
    DEFAULT_VALIDATION_METRIC,
)
from skfocal._loss_specs import LOSS_SPECS, LossSpec

__all__ = [
    "BalancedCEClassifier",
    "FocalClassifier",
    "GHMClassifier",
    "ImbalancedMLPClassifier",
]

LOSSES = tuple(LOSS_SPECS)
_GAMMA = [Interval(Real, 0, None, closed="left"), StrOptions({"adaptive"})]
_BINS = [Interval(Integral, 1, None, closed="left")]
_MOMENTUM = [Interval(Real, 0, 1, closed="left")]
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]


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
        "tau": _NON_NEGATIVE,
        "max_margin": _NON_NEGATIVE,
        "scale": [Interval(Real, 0, None, closed="neither")],
        "drw": ["boolean", Interval(Real, 0, 1, closed="neither")],
        "gamma_pos": _NON_NEGATIVE,
        "gamma_neg": _NON_NEGATIVE,
        "clip": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, -1, None, closed="left")],
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
        tau: float = 1.0,
        max_margin: float = 0.5,
        scale: float = 30.0,
        drw: bool | float = False,
        gamma_pos: float = 0.0,
        gamma_neg: float = 4.0,
        clip: float = 0.05,
        epsilon: float = 1.0,
        hidden_layer_sizes=(64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        input_transform: str = DEFAULT_INPUT_TRANSFORM,
        embedding: str = DEFAULT_EMBEDDING,
        feature_scaling: bool = DEFAULT_FEATURE_SCALING,
        ensemble_size: int = DEFAULT_ENSEMBLE_SIZE,
        lr_schedule: str = DEFAULT_LR_SCHEDULE,
        validation_metric: str = DEFAULT_VALIDATION_METRIC,
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
        threshold: float | str | None = "prior",
        threshold_metric: str = "balanced_accuracy",
        calibration: str | None = "auto",
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return self._checked_loss_spec(self.loss)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        spec = LOSS_SPECS.get(self.loss) if isinstance(self.loss, str) else None
        # A binary-only loss (asymmetric) says so, and scikit-learn's
        # estimator checks then use binary data.
        tags.classifier_tags.multi_class = spec is None or not spec.binary_only
        return tags


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
        input_transform: str = DEFAULT_INPUT_TRANSFORM,
        embedding: str = DEFAULT_EMBEDDING,
        feature_scaling: bool = DEFAULT_FEATURE_SCALING,
        ensemble_size: int = DEFAULT_ENSEMBLE_SIZE,
        lr_schedule: str = DEFAULT_LR_SCHEDULE,
        validation_metric: str = DEFAULT_VALIDATION_METRIC,
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
        threshold: float | str | None = "prior",
        threshold_metric: str = "balanced_accuracy",
        calibration: str | None = "auto",
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return self._checked_loss_spec("focal")


class BalancedCEClassifier(BaseImbalancedMLP):
    def __init__(
        self,
        alpha="balanced",
        *,
        beta: float = 0.999,
        hidden_layer_sizes=(64, 64),
        activation: str = "relu",
        dropout: float = 0.0,
        input_transform: str = DEFAULT_INPUT_TRANSFORM,
        embedding: str = DEFAULT_EMBEDDING,
        feature_scaling: bool = DEFAULT_FEATURE_SCALING,
        ensemble_size: int = DEFAULT_ENSEMBLE_SIZE,
        lr_schedule: str = DEFAULT_LR_SCHEDULE,
        validation_metric: str = DEFAULT_VALIDATION_METRIC,
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
        threshold: float | str | None = "prior",
        threshold_metric: str = "balanced_accuracy",
        calibration: str | None = "auto",
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return self._checked_loss_spec("balanced_ce")


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
        input_transform: str = DEFAULT_INPUT_TRANSFORM,
        embedding: str = DEFAULT_EMBEDDING,
        feature_scaling: bool = DEFAULT_FEATURE_SCALING,
        ensemble_size: int = DEFAULT_ENSEMBLE_SIZE,
        lr_schedule: str = DEFAULT_LR_SCHEDULE,
        validation_metric: str = DEFAULT_VALIDATION_METRIC,
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
        threshold: float | str | None = "prior",
        threshold_metric: str = "balanced_accuracy",
        calibration: str | None = "auto",
    ) -> None:
        super().__init__(**_arguments(locals()))

    def _get_loss_spec(self) -> LossSpec:
        return self._checked_loss_spec("ghm")


# ---------------------------------------------------------------------------
# Docstrings: each class's own text; the shared parts come from
# skfocal._estimator_docs.
# ---------------------------------------------------------------------------
_GAMMA_DOC = """\
    gamma : float or "adaptive", default=2.0
        Focusing parameter of the focal loss, ``>= 0``; ``gamma=0`` is
        (weighted) cross-entropy. ``"adaptive"`` is FLSD-53 (Mukhoti et al.
        2020): 5 for samples whose true-class probability is below 0.2, 3
        above."""
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
    loss : {{"focal", "balanced_ce", "ghm", "ce", "logit_adjusted", "ldam", \
"asymmetric", "poly"}}, default="focal"
        ``"focal"``: focal loss (``gamma``, ``alpha``). ``"balanced_ce"``:
        cross-entropy weighted by ``alpha`` (``None`` means ``"balanced"``).
        ``"ghm"``: GHM-C (``bins``, ``momentum``, ``alpha``). ``"ce"``: plain
        cross-entropy; ``alpha`` is ignored. ``"logit_adjusted"``:
        cross-entropy of ``z + tau * log(pi)`` with ``pi`` the training class
        frequencies (Menon et al. 2021; ``tau``, ``alpha``). ``"ldam"``:
        label-distribution-aware margins (Cao et al. 2019; ``max_margin``,
        ``scale``, ``alpha``, ``drw``). ``"asymmetric"``: the asymmetric
        loss of Ridnik et al. (2021), binary only (``gamma_pos``,
        ``gamma_neg``, ``clip``; no ``alpha``). ``"poly"``: Poly-1 (Leng et
        al. 2022), ``epsilon * (1 - p_t) ** (gamma + 1)`` added to the focal
        loss of ``gamma`` (cross-entropy for ``gamma=0``; ``alpha``).
{_GAMMA_DOC}
{alpha_parameter("None")}
{BETA_PARAMETER}
{_BINS_DOC}
    tau : float, default=1.0
        Strength of the logit adjustment of ``loss="logit_adjusted"``,
        ``>= 0``; 0 is cross-entropy. Its raw softmax is the balanced
        posterior; ``calibration="prior"`` returns the training posterior.
    max_margin : float, default=0.5
        Margin of the rarest class of ``loss="ldam"``, ``>= 0``; the margin
        of class ``c`` is proportional to ``n_c ** (-1/4)``.
    scale : float, default=30.0
        Factor of the logits inside ``loss="ldam"``, ``> 0``; probabilities
        are those of ``scale * z``.
    drw : bool or float, default=False
        Deferred re-weighting (Cao et al. 2019): train without class weights,
        then switch them on for the last epochs. ``True`` switches after 80%
        of ``max_epochs``; a float in (0, 1) is that fraction. The late
        weights are those of ``alpha`` or, with ``alpha=None``, the
        effective-number weights with ``beta=0.9999``. Epochs count over the
        net's whole history (``warm_start`` and ``partial_fit`` continue the
        schedule); early stopping restarts its count at the switch. For every
        loss with class weights (all but ``"ce"`` and ``"asymmetric"``).
    gamma_pos : float, default=0.0
        Focusing parameter of the positives (``classes_[1]``) of
        ``loss="asymmetric"``, ``>= 0``.
    gamma_neg : float, default=4.0
        Focusing parameter of the negatives of ``loss="asymmetric"``,
        ``>= 0``.
    clip : float, default=0.05
        Probability shift of the negatives of ``loss="asymmetric"``, in
        [0, 1): negatives with ``p < clip`` cost nothing.
    epsilon : float, default=1.0
        Weight of the Poly-1 term of ``loss="poly"``, ``>= -1``.""",
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
    (2, 2)
    >>> ldam = ImbalancedMLPClassifier(loss="ldam", drw=True, threshold="prior",
    ...                                max_epochs=20, random_state=0).fit(X, y)
    >>> ldam.threshold_.kind, round(ldam.threshold_.value, 2)
    ('threshold', 0.1)""",
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
    ``torch.nn.functional.cross_entropy(weight=class_weight_)``. By default
    the weights are divided out of the probabilities
    (``calibration="prior"``); ``threshold="prior"`` then makes exactly the
    decisions of the weighted network (for balanced weights its most
    probable class *is* the prior rule) with probabilities of the training
    data.""",
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
    >>> clf = BalancedCEClassifier(threshold="prior", random_state=0).fit(X, y)
    >>> clf.class_weight_
    array([0.55555556, 5.        ])
    >>> clf.threshold_.value
    0.1
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
