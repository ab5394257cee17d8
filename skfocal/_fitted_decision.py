"""What an estimator fits after training: calibration and decision rule.

The estimators' ``calibration``, ``threshold`` and ``threshold_metric``
parameters become, after training, a :class:`~skfocal._inference.
LogitTransform` (the loss's output scale, the temperature and the prior
correction, applied to every prediction) and a :class:`~skfocal._decision.
ThresholdRule` (``threshold_``, applied by ``predict`` to ``predict_proba``).
The mathematics lives in :mod:`skfocal._calibration` and
:mod:`skfocal._decision`; this module only chooses what to fit from the
parameters and the validation split, and checks the parameters.
"""

from __future__ import annotations

import dataclasses
import warnings
from numbers import Real

import numpy as np
import torch

from skfocal._calibration import fit_temperature
from skfocal._decision import METRICS, ThresholdRule, make_rule, tune_threshold
from skfocal._inference import LogitTransform, focal_posterior_logits

__all__ = [
    "CALIBRATIONS",
    "DRW_BETA",
    "ValidationScores",
    "check_decision_parameters",
    "class_totals",
    "fit_logit_transform",
    "fit_threshold_rule",
    "prior_from_totals",
]

CALIBRATIONS = ("prior", "temperature")
NO_SPLIT = (
    "there is none (partial_fit holds none out, and fit none when a class has "
    "too few samples for a stratified split of validation_fraction)"
)
#: The effective-number ``beta`` of deferred re-weighting (Cao et al. 2019).
DRW_BETA = 0.9999


class ValidationScores:
    """Raw logits, labels and weights of the validation split.

    Parameters
    ----------
    logits : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Logits after the loss's output scale, before any calibration.
    y : ndarray of shape (n_samples,)
        Class indices.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._fitted_decision import ValidationScores
    >>> ValidationScores(np.zeros(3), np.array([0, 1, 0]), None).y.tolist()
    [0, 1, 0]
    """

    def __init__(self, logits: np.ndarray, y: np.ndarray, sample_weight) -> None:
        self.logits = logits
        self.y = y
        self.sample_weight = sample_weight


def check_decision_parameters(
    threshold, threshold_metric, calibration, n_classes: int, owner: str
) -> None:
    """Raise a clear error for decision parameters that do not fit the data.

    The value checks are the estimators' ``_parameter_constraints``; this
    adds what depends on ``y`` (a float threshold needs a binary problem).

    Examples
    --------
    >>> from skfocal._fitted_decision import check_decision_parameters
    >>> check_decision_parameters(0.3, "f1", None, 3, "Clf")
    Traceback (most recent call last):
    ...
    ValueError: The 'threshold' parameter of Clf is a float (0.3), ...
    """
    if (
        isinstance(threshold, Real)
        and not isinstance(threshold, bool)
        and n_classes != 2
    ):
        raise ValueError(
            f"The 'threshold' parameter of {owner} is a float ({threshold!r}), "
            f"which is defined for binary problems only; y has {n_classes} "
            "classes. Use threshold='prior', 'auto' or None."
        )
    if threshold_metric not in METRICS:
        raise ValueError(
            f"The 'threshold_metric' parameter of {owner} must be one of "
            f"{list(METRICS)}; got {threshold_metric!r}."
        )
    if calibration is not None and calibration not in CALIBRATIONS:
        raise ValueError(
            f"The 'calibration' parameter of {owner} must be None or one of "
            f"{list(CALIBRATIONS)}; got {calibration!r}."
        )


def class_totals(
    y_encoded: np.ndarray, n_classes: int, sample_weight: np.ndarray | None
) -> np.ndarray:
    """Per-class sums of sample weights (counts without weights).

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._fitted_decision import class_totals
    >>> class_totals(np.array([0, 0, 1]), 2, np.array([1.0, 2.0, 0.5]))
    array([3. , 0.5])
    """
    return np.bincount(y_encoded, weights=sample_weight, minlength=n_classes).astype(
        np.float64
    )


def prior_from_totals(totals: np.ndarray) -> np.ndarray:
    """Class frequencies from class totals; positive even for an unseen class.

    A class that ``partial_fit`` has not seen yet (total 0) would make the
    prior rule divide by zero; its frequency is taken as half that of the
    rarest class seen, the rest renormalised.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._fitted_decision import prior_from_totals
    >>> prior_from_totals(np.array([3.0, 1.0])).tolist()
    [0.75, 0.25]
    >>> prior_from_totals(np.array([3.0, 1.0, 0.0])).round(3).tolist()
    [0.667, 0.222, 0.111]
    """
    totals = np.asarray(totals, dtype=np.float64)
    if np.any(totals <= 0):
        totals = np.where(totals > 0, totals, totals[totals > 0].min() / 2)
    return totals / totals.sum()


def fit_logit_transform(
    calibration: str | None,
    *,
    member_scale: float,
    log_class_weight: np.ndarray,
    validation: ValidationScores | None,
    owner: str,
    focal_gamma: float | None = None,
) -> LogitTransform:
    """The output transform of ``calibration``, fitted on the validation split.

    Parameters
    ----------
    calibration : None, "prior" or "temperature"
        ``None``: the model's probabilities (after ``member_scale``).
        ``"prior"``: minus ``log_class_weight`` (the prior correction).
        ``"temperature"``: a temperature fitted on ``validation`` before the
        prior correction (:func:`skfocal._calibration.fit_temperature`);
        without a validation split (``partial_fit``, or too few samples of a
        class) the temperature stays 1, with a warning.
    member_scale : float
        The loss's output scale.
    log_class_weight : ndarray of shape (n_classes,)
        Log of the class weights the model's probabilities carry.
    validation : ValidationScores or None
        The validation split's raw logits.
    owner : str
        The estimator's class name, for the warning.
    focal_gamma : float or None, default=None
        A focal loss's exponent: its posterior transform
        (:func:`skfocal._inference.focal_posterior_logits`) comes first.

    Returns
    -------
    LogitTransform

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._fitted_decision import fit_logit_transform
    >>> fit_logit_transform("prior", member_scale=1.0,
    ...     log_class_weight=np.log([1.0, 4.0]), validation=None, owner="C").shift
    (1.3862943611198906,)
    """
    if calibration is None:
        return LogitTransform(member_scale=member_scale)
    binary = len(log_class_weight) == 2
    shift = (
        (float(log_class_weight[1] - log_class_weight[0]),)
        if binary
        else tuple(float(v) for v in log_class_weight)
    )
    temperature = 1.0
    if calibration == "temperature":
        if validation is None:
            warnings.warn(
                f"calibration='temperature' of {owner} fits the temperature on "
                f"a validation split; {NO_SPLIT}, so only the prior correction "
                "is applied (temperature 1).",
                UserWarning,
                stacklevel=3,
            )
        else:
            logits = validation.logits
            if focal_gamma is not None:
                logits = focal_posterior_logits(
                    torch.from_numpy(np.asarray(logits, dtype=np.float64)),
                    focal_gamma,
                ).numpy()
            temperature = fit_temperature(
                logits,
                validation.y,
                sample_weight=validation.sample_weight,
                class_weight=np.exp(log_class_weight),
            )
    return LogitTransform(
        member_scale=member_scale,
        temperature=temperature,
        shift=shift,
        focal_gamma=focal_gamma,
    )


def fit_threshold_rule(
    threshold,
    threshold_metric: str,
    *,
    n_classes: int,
    class_prior: np.ndarray,
    transform: LogitTransform,
    validation: ValidationScores | None,
    owner: str,
) -> ThresholdRule:
    """The fitted decision rule of ``threshold`` (``threshold_``).

    ``"auto"`` is tuned (:func:`skfocal._decision.tune_threshold`) on the
    validation probabilities after ``transform``'s calibration, so the rule
    applies to what ``predict_proba`` returns. Without a validation split
    (``partial_fit``, or too few samples of a class) ``"auto"`` falls back
    to the prior rule, with a warning.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._fitted_decision import fit_threshold_rule
    >>> from skfocal._inference import LogitTransform
    >>> fit_threshold_rule("prior", "f1", n_classes=2,
    ...     class_prior=np.array([0.8, 0.2]), transform=LogitTransform(),
    ...     validation=None, owner="C").value
    0.2
    """
    if threshold != "auto":
        return make_rule(threshold, n_classes, class_prior)
    if validation is None:
        warnings.warn(
            f"threshold='auto' of {owner} is tuned on a validation split; "
            f"{NO_SPLIT}, so the prior rule (threshold='prior') is used.",
            UserWarning,
            stacklevel=3,
        )
        return make_rule("prior", n_classes, class_prior)
    # The validation logits already carry the member scale; the rest of the
    # transform (focal posterior, temperature, shift) is what predict_proba
    # applies, so the rule is tuned on the probabilities it will be used on.
    calibrated = dataclasses.replace(transform, member_scale=1.0).apply(
        torch.from_numpy(np.asarray(validation.logits, dtype=np.float64)),
        1,
        "proba",
    )
    return tune_threshold(
        validation.y,
        calibrated.numpy(),
        metric=threshold_metric,
        sample_weight=validation.sample_weight,
        class_prior=class_prior,
    )
