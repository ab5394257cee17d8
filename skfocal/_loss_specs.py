"""Which criterion each loss name builds, from which estimator parameters.

One registry maps a loss name to a :class:`LossSpec`: the criterion class,
the estimator parameters it takes, and which class statistics (class
weights from ``alpha``, class counts, class priors) it needs. The
estimators ask their spec for the criterion instead of switching on loss
names, so adding a loss is one :func:`register_loss` call here plus its
parameters on :class:`~skfocal.ImbalancedMLPClassifier`.

``alpha`` is resolved into per-class weights in one place,
:func:`resolve_class_weight`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from numbers import Real

import numpy as np
from torch import nn

from skfocal.losses import (
    AsymmetricLoss,
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    LDAMLoss,
    LogitAdjustedLoss,
    Poly1Loss,
    class_counts,
    class_prior,
    class_weights,
)

__all__ = [
    "LOSS_SPECS",
    "LossSpec",
    "get_loss_spec",
    "register_loss",
    "resolve_class_weight",
]


@dataclass(frozen=True)
class LossSpec:
    """How an estimator builds the criterion of one loss.

    Parameters
    ----------
    name : str
        The value of ``ImbalancedMLPClassifier(loss=...)``.
    criterion : callable
        Loss module class (or factory) taking keyword arguments, raw logits
        and ``(logits, target, sample_weight)`` in ``forward``, and accepting
        ``check_targets=False``.
    params : tuple of str, default=()
        Estimator parameters passed to ``criterion`` under the same names.
    takes_alpha : bool, default=True
        The criterion takes the resolved class weights as ``alpha``; when
        False, ``alpha`` is ignored and ``class_weight_`` is all ones.
    default_alpha : object, default=None
        What ``alpha=None`` means for this loss (``"balanced"`` for
        class-balanced cross-entropy).
    class_counts : bool, default=False
        The criterion takes ``class_counts`` (per-class sums of sample
        weights of the training labels).
    class_prior : bool, default=False
        The criterion takes ``class_prior`` (class frequencies).
    binary_only : bool, default=False
        The loss is defined for binary problems only (one logit).
    adaptive_gamma : bool, default=False
        The criterion accepts ``gamma="adaptive"`` (FLSD-53).
    logit_scale : str or None, default=None
        Name of the estimator parameter that multiplies the logits inside the
        loss (LDAM's ``scale``): the model's probabilities are those of
        ``logit_scale * z``, per ensemble member.
    prior_exponent : str or None, default=None
        Name of the estimator parameter ``tau`` of a loss whose raw softmax
        is the posterior divided by ``prior ** tau`` (the logit-adjusted
        loss): the prior correction multiplies it back (see
        :meth:`log_class_weight`).
    learns_posterior : callable or bool, default=True
        Whether the prior correction recovers the class posterior at the
        loss's optimum (weighted cross-entropy; focal through
        ``focal_gamma``; not GHM-C, LDAM, the asymmetric loss or Poly-1), as
        a bool or a function of the estimator's parameters.
        ``calibration="auto"`` fits a temperature where it does not
        (:meth:`auto_calibration`).
    focal_gamma : str or None, default=None
        Name of the estimator parameter holding the focal exponent: the prior
        correction then starts with the focal posterior transform
        (:func:`skfocal._inference.focal_posterior_logits`).

    Examples
    --------
    >>> from skfocal._loss_specs import get_loss_spec
    >>> get_loss_spec("ghm").params
    ('bins', 'momentum')
    """

    name: str
    criterion: Callable[..., nn.Module]
    params: tuple[str, ...] = ()
    takes_alpha: bool = True
    default_alpha: object = None
    class_counts: bool = False
    class_prior: bool = False
    binary_only: bool = False
    adaptive_gamma: bool = False
    logit_scale: str | None = None
    prior_exponent: str | None = None
    learns_posterior: Callable[[Mapping[str, object]], bool] | bool = True
    focal_gamma: str | None = None

    def posterior_gamma(self, params: Mapping[str, object]) -> float | None:
        """The focal exponent whose posterior transform the prior correction
        applies (:func:`skfocal._inference.focal_posterior_logits`), if any.

        Examples
        --------
        >>> from skfocal._loss_specs import get_loss_spec
        >>> get_loss_spec("focal").posterior_gamma({"gamma": 2.0})
        2.0
        >>> get_loss_spec("ce").posterior_gamma({}) is None
        True
        """
        if self.focal_gamma is None:
            return None
        gamma = params[self.focal_gamma]
        # FLSD-53's gamma jumps at p_t = 0.2: the transform of a loss that is
        # not smooth there would not be monotone, so it gets a temperature.
        return None if isinstance(gamma, str) else gamma

    def auto_calibration(self, params: Mapping[str, object]) -> str:
        """What ``calibration="auto"`` means for this loss and ``params``.

        ``"prior"`` where the loss learns the posterior up to the class
        weights (dividing them out is then exact at the optimum),
        or, for the focal loss, through its exact posterior transform
        (:attr:`focal_gamma`); ``"temperature"`` where it bends the
        probabilities in a way no closed form undoes (GHM-C, LDAM, the
        asymmetric loss, Poly-1). Measured on the benchmark suite
        (``docs/user_guide/decisions.rst``).

        Examples
        --------
        >>> from skfocal._loss_specs import get_loss_spec
        >>> get_loss_spec("focal").auto_calibration({"gamma": 2.0})
        'prior'
        >>> get_loss_spec("ghm").auto_calibration({"bins": 10})
        'temperature'
        """
        learns = self.learns_posterior
        if callable(learns):
            learns = learns(params)
        return "prior" if learns else "temperature"

    def check_parameters(
        self, params: Mapping[str, object], n_classes: int, owner: str
    ) -> None:
        """Raise a clear error for parameters this loss cannot use.

        Parameters
        ----------
        params : mapping
            The estimator's parameters (``get_params()``).
        n_classes : int
            Number of classes of ``y``.
        owner : str
            The estimator's class name, for the messages.

        Examples
        --------
        >>> from skfocal._loss_specs import get_loss_spec
        >>> get_loss_spec("asymmetric").check_parameters({}, 3, "Clf")
        Traceback (most recent call last):
        ...
        ValueError: Only binary classification is supported by loss='asymmetric' ...
        """
        if self.binary_only and n_classes != 2:
            raise ValueError(
                f"Only binary classification is supported by loss={self.name!r} "
                f"of {owner}; y has {n_classes} classes. Use loss='focal', "
                "'poly' or 'logit_adjusted' for multi-class problems."
            )
        if (
            params.get("gamma") == "adaptive"
            and not self.adaptive_gamma
            and ("gamma" in self.params)
        ):
            raise ValueError(
                f"gamma='adaptive' (FLSD-53) is defined for loss='focal' only; "
                f"{owner} has loss={self.name!r}. Pass a float gamma >= 0."
            )
        if params.get("drw", False) is not False and not self.takes_alpha:
            raise ValueError(
                f"drw={params['drw']!r} re-weights the classes late in training, "
                f"but loss={self.name!r} of {owner} takes no class weights. Use "
                "drw=False, or a loss with class weights ('ldam', 'focal', "
                "'balanced_ce', 'ghm', 'poly', 'logit_adjusted')."
            )

    def member_scale(self, params: Mapping[str, object]) -> float:
        """The factor of the logits in the model's probabilities (LDAM: ``scale``).

        Examples
        --------
        >>> from skfocal._loss_specs import get_loss_spec
        >>> get_loss_spec("ldam").member_scale({"scale": 30.0})
        30.0
        """
        return 1.0 if self.logit_scale is None else float(params[self.logit_scale])

    def log_class_weight(
        self,
        params: Mapping[str, object],
        class_weight: np.ndarray | None,
        class_prior: np.ndarray,
    ) -> np.ndarray:
        r"""Log of the class weights that the raw probabilities carry.

        A loss with class weights :math:`w_c` learns
        :math:`p_w(c \mid x) \propto w_c\, p(c \mid x)`; the logit-adjusted
        loss learns :math:`\mathrm{softmax}(z)_c \propto w_c\, p(c \mid x) /
        \pi_c^\tau`. The prior correction subtracts this vector from the
        logits (:func:`skfocal._calibration.prior_corrected_logits`).

        Parameters
        ----------
        params : mapping
            The estimator's parameters.
        class_weight : ndarray of shape (n_classes,) or None
            Positive class weights of the criterion at the end of training.
        class_prior : ndarray of shape (n_classes,)
            Positive training class frequencies.

        Returns
        -------
        ndarray of shape (n_classes,)
            Zeros for an unweighted, unadjusted loss.

        Examples
        --------
        >>> import numpy as np
        >>> from skfocal._loss_specs import get_loss_spec
        >>> spec = get_loss_spec("logit_adjusted")
        >>> spec.log_class_weight({"tau": 1.0}, None, np.array([0.5, 0.5]))
        array([0.69314718, 0.69314718])
        """
        log_weight = np.zeros(len(class_prior))
        if class_weight is not None:
            log_weight = log_weight + np.log(np.asarray(class_weight, dtype=float))
        if self.prior_exponent is not None:
            tau = float(params[self.prior_exponent])
            log_weight = log_weight - tau * np.log(np.asarray(class_prior, float))
        return log_weight

    def criterion_kwargs(
        self,
        params: Mapping[str, object],
        class_weight: np.ndarray | None,
        y_encoded: np.ndarray,
        n_classes: int,
        sample_weight: np.ndarray | None,
    ) -> dict:
        """Keyword arguments of the criterion for these labels.

        Parameters
        ----------
        params : mapping
            The estimator's parameters (``get_params()``).
        class_weight : ndarray of shape (n_classes,) or None
            What :func:`resolve_class_weight` returned.
        y_encoded : ndarray of shape (n_samples,)
            Labels in ``[0, n_classes)``.
        n_classes : int
            Number of classes.
        sample_weight : ndarray of shape (n_samples,) or None
            Per-sample weights.

        Returns
        -------
        kwargs : dict
        """
        kwargs = {name: params[name] for name in self.params}
        if self.takes_alpha:
            kwargs["alpha"] = None if class_weight is None else class_weight.tolist()
        if self.class_counts:
            counts = class_counts(y_encoded, n_classes, sample_weight)
            kwargs["class_counts"] = counts.tolist()
        if self.class_prior:
            prior = class_prior(y_encoded, n_classes, sample_weight)
            kwargs["class_prior"] = prior.tolist()
        return kwargs

    def make_criterion(self, **kwargs) -> Callable[[], nn.Module]:
        """A factory of the criterion without per-step target checks.

        The estimators encode labels themselves; checking them on every
        step would cost a device synchronisation per batch.
        """
        return functools.partial(self.criterion, check_targets=False, **kwargs)


LOSS_SPECS: dict[str, LossSpec] = {}


def register_loss(spec: LossSpec) -> LossSpec:
    """Add ``spec`` to the registry (replacing a spec of the same name).

    Examples
    --------
    >>> from skfocal._loss_specs import LOSS_SPECS
    >>> sorted(LOSS_SPECS)[:4]
    ['asymmetric', 'balanced_ce', 'ce', 'focal']
    """
    LOSS_SPECS[spec.name] = spec
    return spec


def get_loss_spec(name: str) -> LossSpec:
    """The spec registered as ``name``.

    Examples
    --------
    >>> from skfocal._loss_specs import get_loss_spec
    >>> get_loss_spec("focal").params
    ('gamma',)
    """
    try:
        return LOSS_SPECS[name]
    except KeyError:
        raise ValueError(
            f"Unknown loss {name!r}; the registered losses are {sorted(LOSS_SPECS)}."
        ) from None


def _focal_learns_posterior(params: Mapping[str, object]) -> bool:
    return not isinstance(params.get("gamma"), str)  # not "adaptive"


def _poly_learns_posterior(params: Mapping[str, object]) -> bool:
    return params.get("epsilon") == 0 and params.get("gamma") == 0


def _asymmetric_learns_posterior(params: Mapping[str, object]) -> bool:
    return all(params.get(name) == 0 for name in ("gamma_pos", "gamma_neg", "clip"))


register_loss(
    LossSpec(
        "focal",
        FocalLoss,
        params=("gamma",),
        adaptive_gamma=True,
        # Its posterior transform makes the prior correction exact.
        focal_gamma="gamma",
        learns_posterior=_focal_learns_posterior,
    )
)
register_loss(
    LossSpec("balanced_ce", BalancedCrossEntropyLoss, default_alpha="balanced")
)
register_loss(
    LossSpec("ghm", GHMCLoss, params=("bins", "momentum"), learns_posterior=False)
)
register_loss(LossSpec("ce", BalancedCrossEntropyLoss, takes_alpha=False))
register_loss(
    LossSpec(
        "logit_adjusted",
        LogitAdjustedLoss,
        params=("tau",),
        class_prior=True,
        prior_exponent="tau",
    )
)
register_loss(
    LossSpec(
        "ldam",
        LDAMLoss,
        params=("max_margin", "scale"),
        class_counts=True,
        logit_scale="scale",
        learns_posterior=False,
    )
)
register_loss(
    LossSpec(
        "asymmetric",
        AsymmetricLoss,
        params=("gamma_pos", "gamma_neg", "clip"),
        takes_alpha=False,
        binary_only=True,
        learns_posterior=_asymmetric_learns_posterior,
    )
)
register_loss(
    LossSpec(
        "poly",
        Poly1Loss,
        params=("epsilon", "gamma"),
        learns_posterior=_poly_learns_posterior,
    )
)


def resolve_class_weight(
    alpha,
    *,
    classes: np.ndarray,
    y_encoded: np.ndarray,
    sample_weight: np.ndarray | None,
    beta: float,
    owner: str,
) -> np.ndarray | None:
    """The per-class weight vector that ``alpha`` means for these labels.

    Parameters
    ----------
    alpha : None, float, array-like, dict, "balanced" or "effective"
        The estimator's ``alpha`` (after the spec's default).
    classes : ndarray of shape (n_classes,)
        Original labels, in the order of the encoded ones.
    y_encoded : ndarray of shape (n_samples,)
        Labels in ``[0, n_classes)``.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights (they count in "balanced" and "effective").
    beta : float
        Parameter of ``"effective"``.
    owner : str
        The estimator's class name, for error messages.

    Returns
    -------
    class_weight : ndarray of shape (n_classes,) or None
        None when ``alpha`` is None.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._loss_specs import resolve_class_weight
    >>> resolve_class_weight({"b": 3.0}, classes=np.array(["a", "b"]),
    ...     y_encoded=np.array([0, 1]), sample_weight=None, beta=0.9, owner="X")
    array([1., 3.])
    """
    n_classes = len(classes)
    if alpha is None:
        return None
    if isinstance(alpha, str):
        weights = class_weights(
            y_encoded,
            method=alpha,
            beta=beta,
            n_classes=n_classes,
            sample_weight=sample_weight,
        )
        return weights.numpy()
    if isinstance(alpha, Real) and not isinstance(alpha, bool):
        if n_classes != 2:
            raise ValueError(
                f"The 'alpha' parameter of {owner} is a float ({alpha!r}), "
                f"which is defined for binary problems only; y has {n_classes} "
                "classes. Pass a dict, a per-class array, 'balanced' or "
                "'effective' instead."
            )
        return np.array([1.0 - alpha, alpha])
    if isinstance(alpha, dict):
        unknown = [label for label in alpha if label not in set(classes)]
        if unknown:
            raise ValueError(
                f"The 'alpha' dict has keys {unknown!r} that are not classes "
                f"of y; the classes are {classes.tolist()!r}."
            )
        weights = np.array([float(alpha.get(label, 1.0)) for label in classes.tolist()])
    else:
        weights = np.asarray(alpha, dtype=np.float64).reshape(-1)
        if weights.shape[0] != n_classes:
            raise ValueError(
                f"The 'alpha' parameter of {owner} must have one weight per "
                f"class ({n_classes}, in the order of classes_); got "
                f"{weights.shape[0]} weights instead."
            )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(
            "The 'alpha' class weights must be finite and non-negative; got "
            f"{weights.tolist()!r}."
        )
    if not np.any(weights > 0):
        raise ValueError(
            f"The 'alpha' class weights are all zero ({weights.tolist()!r}): "
            "nothing would be learned. Give at least one class a positive weight."
        )
    return weights
