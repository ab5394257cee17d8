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
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
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
    >>> sorted(LOSS_SPECS)
    ['balanced_ce', 'ce', 'focal', 'ghm']
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


register_loss(LossSpec("focal", FocalLoss, params=("gamma",)))
register_loss(
    LossSpec("balanced_ce", BalancedCrossEntropyLoss, default_alpha="balanced")
)
register_loss(LossSpec("ghm", GHMCLoss, params=("bins", "momentum")))
register_loss(LossSpec("ce", BalancedCrossEntropyLoss, takes_alpha=False))


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
