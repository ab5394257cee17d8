"""Probabilities that mean what they say: prior correction and temperature scaling.

A network trained with class weights, or with a loss that reshapes the
cross-entropy (focal, GHM-C), returns scores that rank well but are not the
class posterior of the training distribution. This module maps them back:

* :func:`prior_corrected_proba` and :func:`prior_corrected_logits` undo the
  class weighting (exact for weighted cross-entropy at its population optimum,
  an approximation for focal and GHM-C);
* :func:`fit_temperature` and :func:`apply_temperature` fit and apply one
  temperature on a validation split (Guo et al. 2017), and
  :func:`calibrated_proba` combines it with the prior correction;
* :func:`logits_to_proba` turns logits of either form into an
  ``(n_samples, n_classes)`` probability matrix.

Everything works on class indices ``0 .. n_classes - 1``; the estimators
translate to and from their ``classes_``. Only numpy, scipy and scikit-learn
are imported: this module sits below the estimators.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, logsumexp, softmax
from sklearn.utils import check_array, column_or_1d
from sklearn.utils.validation import check_consistent_length

__all__ = [
    "apply_temperature",
    "calibrated_proba",
    "fit_temperature",
    "logits_to_proba",
    "prior_corrected_logits",
    "prior_corrected_proba",
]

# Temperatures outside [1/100, 100] mean the logits carry no usable scale
# (all equal, or perfectly separated); the bound keeps the search finite.
_LOG_TEMPERATURE_BOUNDS = (np.log(1e-2), np.log(1e2))
# A fitted temperature must beat T = 1 by more than rounding noise, or the
# logits are left alone: scaling must never make the validation NLL worse.
_NLL_IMPROVEMENT_TOL = 1e-12


def _check_proba(proba, name: str = "proba") -> np.ndarray:
    """Validate a probability matrix of shape ``(n_samples, n_classes >= 2)``."""
    proba = np.asarray(proba)
    if proba.ndim != 2 or proba.shape[1] < 2:
        raise ValueError(
            f"{name} must be a 2-D array of shape (n_samples, n_classes) with "
            f"n_classes >= 2 (binary problems have 2 columns); got shape "
            f"{proba.shape}."
        )
    proba = check_array(proba, dtype=np.float64, input_name=name)
    if np.any(proba < 0) or np.any(proba > 1):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1]; got values in "
            f"[{proba.min():.6g}, {proba.max():.6g}]."
        )
    return proba


def _check_logits(logits, name: str = "logits") -> tuple[np.ndarray, bool]:
    """Validate logits; return them as float64 and whether they are binary.

    Binary logits are one score per sample, shape ``(n_samples,)`` or
    ``(n_samples, 1)``; multi-class logits have shape ``(n_samples, C)``.
    """
    logits = np.asarray(logits)
    if logits.ndim not in (1, 2):
        raise ValueError(
            f"{name} must have shape (n_samples,) for a binary problem or "
            f"(n_samples, n_classes) for a multi-class one; got shape "
            f"{logits.shape}."
        )
    binary = logits.ndim == 1 or logits.shape[1] == 1
    logits = check_array(
        logits, dtype=np.float64, ensure_2d=False, input_name=name
    ).reshape(logits.shape)
    return logits, binary


def _check_positive_vector(values, name: str, length: int) -> np.ndarray:
    """Validate ``length`` positive finite numbers (class weights, priors)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.shape[0] != length:
        raise ValueError(
            f"{name} must be a sequence of {length} numbers, one per class; got "
            f"shape {array.shape}."
        )
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(
            f"{name} must hold positive finite numbers; got {array.tolist()}."
        )
    return array


def _check_labels(y, n_samples: int, n_classes: int, name: str = "y") -> np.ndarray:
    """Validate class indices in ``[0, n_classes)`` for ``n_samples`` samples."""
    y = column_or_1d(y, warn=True)
    check_consistent_length(np.empty(n_samples), y)
    if not np.issubdtype(y.dtype, np.number):
        raise ValueError(
            f"{name} must hold integer class indices 0 .. {n_classes - 1}; got "
            f"dtype {y.dtype}."
        )
    if y.size and (
        not np.all(np.isfinite(y.astype(np.float64)))
        or not np.array_equal(y, np.round(y))
        or y.min() < 0
        or y.max() >= n_classes
    ):
        raise ValueError(
            f"{name} must hold class indices 0 .. {n_classes - 1} (the columns "
            f"of the scores); got values {np.unique(y)[:10].tolist()}."
        )
    return y.astype(np.intp)


def _check_sample_weight(sample_weight, n_samples: int) -> np.ndarray:
    """Validate non-negative finite sample weights (``None`` means all ones)."""
    if sample_weight is None:
        return np.ones(n_samples)
    weight = column_or_1d(sample_weight).astype(np.float64)
    check_consistent_length(np.empty(n_samples), weight)
    if not np.all(np.isfinite(weight)) or np.any(weight < 0):
        raise ValueError(
            "sample_weight must hold non-negative finite numbers; got values in "
            f"[{weight.min():.6g}, {weight.max():.6g}]."
        )
    return weight


def prior_corrected_proba(proba, class_weight) -> np.ndarray:
    r"""Map probabilities of a class-weighted model back to the training prior.

    A model trained with class weights :math:`w_c` estimates the posterior of a
    reweighted population, :math:`p_w(c \mid x) \propto w_c\, p(c \mid x)`.
    Dividing by the weights and renormalising recovers the posterior of the
    training distribution:

    .. math::

        p(c \mid x) = \frac{p_w(c \mid x) / w_c}
                           {\sum_j p_w(j \mid x) / w_j}.

    Only the ratios of the weights matter. The correction is **exact** for
    weighted cross-entropy at its population optimum (the minimiser of the
    weighted log loss over all functions is :math:`p_w`). For the focal loss
    and GHM-C it is an **approximation**: their minimiser is a distorted
    :math:`p_w` (Charoenphakdee et al. 2021), which temperature scaling
    (:func:`fit_temperature`) can partly repair.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_classes)
        Probabilities of the weighted model, two columns for a binary problem.
    class_weight : array-like of shape (n_classes,)
        Positive class weights the model was trained with (``class_weight_``
        of a fitted estimator).

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Corrected probabilities; every row sums to one.

    See Also
    --------
    prior_corrected_logits : The same correction on logits.

    References
    ----------
    .. [1] M. Saerens, P. Latinne and C. Decaestecker, "Adjusting the outputs
       of a classifier to new a priori probabilities: a simple procedure",
       Neural Computation 14(1), 2002.
    .. [2] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul and
       M. Sugiyama, "On Focal Loss for Class-Posterior Probability
       Estimation: A Theoretical Perspective", CVPR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._calibration import prior_corrected_proba
    >>> proba = np.array([[0.5, 0.5], [0.9, 0.1]])
    >>> prior_corrected_proba(proba, class_weight=[1.0, 9.0]).round(4)
    array([[0.9   , 0.1   ],
           [0.9878, 0.0122]])
    """
    proba = _check_proba(proba)
    weight = _check_positive_vector(class_weight, "class_weight", proba.shape[1])
    unnormalised = proba / weight
    total = unnormalised.sum(axis=1, keepdims=True)
    if np.any(total <= 0):
        raise ValueError("proba has a row of zeros; it cannot be renormalised.")
    return unnormalised / total


def prior_corrected_logits(logits, class_weight) -> np.ndarray:
    r"""Undo a class weighting on logits, as :func:`prior_corrected_proba` does.

    Since :math:`p_w(c \mid x) \propto w_c\, p(c \mid x)` and a softmax is
    invariant to a common shift, the correction is a shift of each logit:

    .. math::

        z_c \mapsto z_c - \log w_c \quad\text{(multi-class)}, \qquad
        z \mapsto z - \log(w_1 / w_0) \quad\text{(binary, one logit)}.

    ``softmax`` (or ``sigmoid``) of the result equals
    :func:`prior_corrected_proba` of the uncorrected probabilities. With
    temperature scaling, scale the raw logits first and shift afterwards
    (:func:`fit_temperature` explains why; :func:`calibrated_proba` does it).

    Parameters
    ----------
    logits : array-like of shape (n_samples,) or (n_samples, n_classes)
        Raw scores: one per sample for a binary problem (shape ``(n_samples,)``
        or ``(n_samples, 1)``), one per class otherwise.
    class_weight : array-like of shape (n_classes,)
        Positive class weights; two for a binary problem.

    Returns
    -------
    ndarray of the same shape as ``logits``
        The corrected logits.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._calibration import prior_corrected_logits
    >>> z = prior_corrected_logits(np.array([0.0, 2.0]), class_weight=[1.0, np.e])
    >>> z
    array([-1.,  1.])
    """
    logits, binary = _check_logits(logits)
    if binary:
        weight = _check_positive_vector(class_weight, "class_weight", 2)
        return logits - np.log(weight[1] / weight[0])
    weight = _check_positive_vector(class_weight, "class_weight", logits.shape[1])
    return logits - np.log(weight)


def logits_to_proba(logits) -> np.ndarray:
    r"""Probabilities of every class from logits of either form.

    Binary (one logit :math:`z`): columns :math:`(\sigma(-z), \sigma(z))`,
    each computed directly so that neither loses precision when
    :math:`|z|` is large. Multi-class: :math:`\mathrm{softmax}(z)`.

    Parameters
    ----------
    logits : array-like of shape (n_samples,) or (n_samples, n_classes)
        Raw scores, as returned by ``decision_function``.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Probabilities; two columns for a binary problem.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._calibration import logits_to_proba
    >>> logits_to_proba(np.array([0.0, np.log(3.0)])).round(3)
    array([[0.5 , 0.5 ],
           [0.25, 0.75]])
    """
    logits, binary = _check_logits(logits)
    if binary:
        z = logits.reshape(-1)
        return np.column_stack([expit(-z), expit(z)])
    return softmax(logits, axis=1)


def _negative_log_likelihood(
    logits: np.ndarray, y: np.ndarray, weight: np.ndarray, binary: bool
) -> float:
    """Weighted mean negative log-likelihood of integer labels under the logits."""
    if binary:
        # -log sigmoid(s z) = log(1 + exp(-s z)) with s = +1 for class 1, -1 for 0.
        sign = 2.0 * y - 1.0
        per_sample = np.logaddexp(0.0, -sign * logits.reshape(-1))
    else:
        per_sample = logsumexp(logits, axis=1) - logits[np.arange(len(y)), y]
    return float(np.dot(weight, per_sample) / weight.sum())


def apply_temperature(logits, temperature: float) -> np.ndarray:
    r"""Divide logits by a temperature: :math:`z \mapsto z / T`.

    :math:`T > 1` softens over-confident probabilities, :math:`T < 1` sharpens
    them; the ranking of the samples, and the argmax class, do not change.
    For a class-weighted model, scale the raw logits and correct for the
    prior afterwards (:func:`calibrated_proba` does both in that order).

    Parameters
    ----------
    logits : array-like of shape (n_samples,) or (n_samples, n_classes)
        Raw scores.
    temperature : float
        Positive temperature :math:`T`, from :func:`fit_temperature`.

    Returns
    -------
    ndarray of the same shape as ``logits``
        The scaled logits; :func:`logits_to_proba` turns them into
        probabilities.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._calibration import apply_temperature
    >>> apply_temperature(np.array([-4.0, 2.0]), 2.0)
    array([-2.,  1.])
    """
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, Real)
        or not np.isfinite(temperature)
        or temperature <= 0
    ):
        raise ValueError(
            f"temperature must be a positive finite number; got {temperature!r}."
        )
    logits, _ = _check_logits(logits)
    return logits / float(temperature)


def calibrated_proba(logits, class_weight=None, temperature: float = 1.0):
    r"""Calibrated probabilities: scale by the temperature, then undo the weights.

    .. math::

        p(c \mid x) = \mathrm{softmax}\bigl(z / T - \log w\bigr)_c
        \qquad\text{(binary: } \sigma(z / T - \log(w_1 / w_0))\text{)}.

    With ``temperature=1`` this is :func:`prior_corrected_proba` of the model's
    probabilities; without ``class_weight`` it is plain temperature scaling.

    Parameters
    ----------
    logits : array-like of shape (n_samples,) or (n_samples, n_classes)
        Raw scores of the model (``decision_function``).
    class_weight : array-like of shape (n_classes,), default=None
        Positive class weights the model was trained with; ``None`` for an
        unweighted model.
    temperature : float, default=1.0
        Temperature from :func:`fit_temperature` (fitted with the same
        ``class_weight``).

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Probabilities; two columns for a binary problem.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._calibration import calibrated_proba
    >>> calibrated_proba(np.array([0.0, 4.0]), [1.0, 1.0], temperature=2.0).round(3)
    array([[0.5  , 0.5  ],
           [0.119, 0.881]])
    """
    scaled = apply_temperature(logits, temperature)
    if class_weight is not None:
        scaled = prior_corrected_logits(scaled, class_weight)
    return logits_to_proba(scaled)


def fit_temperature(logits, y, sample_weight=None, class_weight=None) -> float:
    r"""Fit the temperature that minimises the negative log-likelihood.

    Temperature scaling (Guo et al. 2017) fits one scalar :math:`T > 0` on a
    held-out split. With the class weights :math:`w` the model was trained
    with (none: :math:`w = 1`) and sample weights :math:`s_i`:

    .. math::

        \hat T = \arg\min_{T > 0}\;
        \frac{\sum_i s_i \,\bigl(-\log \mathrm{softmax}(z_i / T - \log w)_{y_i}
        \bigr)}{\sum_i s_i},

    with :math:`\sigma(z / T - \log(w_1 / w_0))` for a binary problem (one
    logit). The objective is convex in :math:`1 / T`, so a bounded scalar
    search over :math:`\log T \in [\log 10^{-2}, \log 10^{2}]` finds its
    minimum. The result never makes the validation NLL worse than
    :math:`T = 1`: when the search does not improve on it (all logits equal,
    or a one-class split), the function returns ``1.0``.

    **Why scale first, then correct.** A network trained with class weights
    estimates the *weighted* posterior :math:`p_w`; its distortions (the focal
    factor, over-fitting) act on that estimate, i.e. on the raw logits. For
    the binary focal loss at its population optimum the raw logit is very
    nearly :math:`\operatorname{logit} p_w / r_\gamma` with a constant
    :math:`r_\gamma` (1.77 to 1.81 for :math:`\gamma = 1`, 2.68 to 2.69 for
    :math:`\gamma = 2`, over posteriors in [0.01, 0.99]), so
    :math:`z / T - \log(w_1 / w_0)` with :math:`T = 1 / r_\gamma` recovers
    the posterior, while correcting first and scaling afterwards cannot
    (the shift would be scaled too). The temperature is one parameter: it
    cannot undo every distortion (Charoenphakdee et al. 2021 give the exact,
    non-linear inverse for the focal loss) but it removes most of the over-
    or under-confidence in practice.

    Parameters
    ----------
    logits : array-like of shape (n_samples,) or (n_samples, n_classes)
        Raw validation logits: one per sample for a binary problem, one per
        class otherwise.
    y : array-like of shape (n_samples,)
        True class indices, ``0 .. n_classes - 1`` (``{0, 1}`` when binary).
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative weights of the validation samples.
    class_weight : array-like of shape (n_classes,), default=None
        Positive class weights the model was trained with, undone after the
        scaling (:func:`calibrated_proba`); ``None`` for an unweighted model.

    Returns
    -------
    float
        The fitted temperature :math:`\hat T`.

    References
    ----------
    .. [1] C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of
       Modern Neural Networks", ICML 2017.
    .. [2] N. Charoenphakdee, J. Vongkulbhisal, N. Chairatanakul and
       M. Sugiyama, "On Focal Loss for Class-Posterior Probability
       Estimation: A Theoretical Perspective", CVPR 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal._calibration import fit_temperature
    >>> rng = np.random.default_rng(0)
    >>> true_logits = rng.normal(scale=2.0, size=20000)
    >>> y = (rng.random(20000) < 1 / (1 + np.exp(-true_logits))).astype(int)
    >>> overconfident = 3.0 * true_logits
    >>> round(fit_temperature(overconfident, y), 1)
    3.0
    """
    logits, binary = _check_logits(logits)
    n_classes = 2 if binary else logits.shape[1]
    y = _check_labels(y, logits.shape[0], n_classes)
    weight = _check_sample_weight(sample_weight, logits.shape[0])
    # The prior correction is a fixed shift of the scaled logits.
    offset = 0.0
    if class_weight is not None:
        log_weight = np.log(
            _check_positive_vector(class_weight, "class_weight", n_classes)
        )
        offset = log_weight[1] - log_weight[0] if binary else log_weight
    # With fewer than two weighted classes every T > 0 is "optimal" (the NLL
    # falls towards 0 as T -> 0): there is nothing to calibrate.
    class_weight_sums = np.bincount(y, weights=weight, minlength=n_classes)
    if np.count_nonzero(class_weight_sums > 0) < 2:
        return 1.0

    def objective(log_temperature: float) -> float:
        scaled = logits / np.exp(log_temperature) - offset
        return _negative_log_likelihood(scaled, y, weight, binary)

    result = minimize_scalar(
        objective,
        bounds=_LOG_TEMPERATURE_BOUNDS,
        method="bounded",
        options={"xatol": 1e-6},
    )
    if not result.success or result.fun >= objective(0.0) - _NLL_IMPROVEMENT_TOL:
        return 1.0
    return float(np.exp(result.x))
