"""Chunked inference into one preallocated output (torch and numpy only).

Prediction runs in chunks of rows. Each chunk's result is written into a
single output array allocated up front, and the input buffers are reused
from chunk to chunk, so the memory beyond the output stays bounded by the
chunk size, whatever the number of rows (allocators otherwise retain the
per-chunk blocks: about 480 bytes per row at 5M x 50).

A :class:`LogitTransform` maps the network's logits to the model's scores
on the way out: the loss's output scale (per ensemble member, before the
members' probabilities are averaged), then the calibration (temperature
and prior correction) of the averaged prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import Tensor, nn

from skfocal._checks import float32_rows
from skfocal._data import SparseRows
from skfocal._ensemble import ensemble_log_probabilities, ensemble_logits, n_members

__all__ = [
    "OUTPUTS",
    "LogitTransform",
    "focal_posterior_logits",
    "host_features",
    "predict_chunks",
]

# Rows per forward pass: large enough to amortise Python overhead, small
# enough to keep the activations of (64, 64) MLPs in cache or memory.
_PREDICT_BATCH_SIZE = 65_536
_CPU_PREDICT_BATCH_SIZE = 2_048


def _decision(logits: Tensor, members: int) -> Tensor:
    return ensemble_logits(logits, members)


def _proba(logits: Tensor, members: int) -> Tensor:
    # exp of the log-probabilities, so that log(predict_proba) equals
    # predict_log_proba wherever the probability is representable (sigmoid
    # returns 0 from z = -709 on while exp(logsigmoid(z)) is still positive,
    # and 1 - sigmoid(z) loses every digit from z = 37 on).
    return ensemble_log_probabilities(logits, members).exp()


def _log_proba(logits: Tensor, members: int) -> Tensor:
    log_proba = ensemble_log_probabilities(logits, members)
    # Below log(smallest double) predict_proba is exactly 0; its logarithm is
    # -inf then too, so that log(predict_proba) == predict_log_proba.
    return log_proba.masked_fill(log_proba.exp() == 0, -torch.inf)


OUTPUTS = {"decision": _decision, "proba": _proba, "log_proba": _log_proba}


def _log_focal_slope(log_q: Tensor, log_1mq: Tensor, gamma) -> Tensor:
    r""":math:`\log A(q)` of :func:`focal_posterior_logits`.

    :math:`A` is minus the derivative of the focal loss of a sample whose
    true class has probability :math:`q`; both terms are positive, so the
    sum is taken with ``logaddexp``.
    """
    gamma = torch.full_like(log_q, float(gamma))
    # gamma * (-log q) in log space: log(gamma) + log(-log q), -inf at 0.
    log_second = torch.log(gamma) + torch.log(-log_q)
    return (gamma - 1) * log_1mq + torch.logaddexp(log_1mq - log_q, log_second)


def focal_posterior_logits(scores: Tensor, gamma) -> Tensor:
    r"""Logits of the class posterior from the scores of a focal-trained model.

    At the population optimum of the focal loss, the predicted probability
    :math:`q_c` of each class and the posterior :math:`p_c` satisfy
    :math:`p_c \propto 1 / A(q_c)` with
    :math:`A(q) = (1-q)^\gamma / q - \gamma (1-q)^{\gamma-1} \log q`
    (the Lagrange condition of minimising
    :math:`-\sum_c p_c (1-q_c)^\gamma \log q_c` over the simplex;
    Charoenphakdee et al., "On Focal Loss for Class-Posterior Probability
    Estimation", CVPR 2021). The posterior's logits are therefore
    :math:`-\log A(q_c)`, or :math:`\log A(1-q) - \log A(q)` for one
    binary logit; ``gamma=0`` returns the scores' own probabilities.

    Parameters
    ----------
    scores : Tensor of shape (N,) or (N, C)
        A binary logit, or multi-class logits (log-probabilities up to a
        constant), in float64.
    gamma : float
        The focal exponent the model was trained with (not FLSD-53's
        ``"adaptive"``, whose jump at 0.2 has no monotone inverse).

    Returns
    -------
    Tensor
        Logits of the posterior, of the shape of ``scores``.

    Examples
    --------
    >>> import torch
    >>> from skfocal._inference import focal_posterior_logits
    >>> z = torch.tensor([2.0], dtype=torch.float64)
    >>> focal_posterior_logits(z, 0.0).item()
    2.0
    >>> bool(focal_posterior_logits(z, 2.0).item() > 2.0)  # focal is underconfident
    True
    """
    if scores.ndim == 1:
        log_q = torch.nn.functional.logsigmoid(scores)
        log_1mq = torch.nn.functional.logsigmoid(-scores)
        return _log_focal_slope(log_1mq, log_q, gamma) - _log_focal_slope(
            log_q, log_1mq, gamma
        )
    log_q = torch.log_softmax(scores, dim=1)
    # log(1 - q) without cancellation; q = 1 exactly would make it -inf.
    log_1mq = torch.log(-torch.expm1(log_q.clamp(max=-1e-300)))
    return -_log_focal_slope(log_q, log_1mq, gamma)


@dataclass(frozen=True)
class LogitTransform:
    r"""How network logits become the model's calibrated logits.

    With member logits :math:`z_k`, the scores are
    :math:`\tilde z = e(s\, z_1, \dots, s\, z_k) / T - b`, where :math:`e`
    is the ensemble's decision score (:func:`~skfocal._ensemble.
    ensemble_logits`; the identity for one member), :math:`s` the loss's
    output scale, :math:`T` the temperature and :math:`b` the prior
    correction (the log class weights, :math:`\log(w_1 / w_0)` for a binary
    problem). Probabilities are the sigmoid or softmax of :math:`\tilde z`.

    Parameters
    ----------
    member_scale : float, default=1.0
        :math:`s`: LDAM trains ``scale * z``, so its probabilities are those
        of ``scale * z``.
    temperature : float, default=1.0
        :math:`T > 0`.
    shift : tuple of float, default=()
        :math:`b`: one number (binary) or one per class; empty for none.
    focal_gamma : float or None, default=None
        For a focal-trained model, the exponent of
        :func:`focal_posterior_logits`, applied to the averaged prediction
        before the temperature and the shift.

    Examples
    --------
    >>> from skfocal._inference import LogitTransform
    >>> LogitTransform().is_identity
    True
    >>> LogitTransform(shift=(0.5,)).calibrates
    True
    """

    member_scale: float = 1.0
    temperature: float = 1.0
    shift: tuple[float, ...] = ()
    focal_gamma: float | None = None

    @property
    def calibrates(self) -> bool:
        """A transform applies to the averaged prediction."""
        return (
            self.temperature != 1.0
            or any(value != 0.0 for value in self.shift)
            or self.focal_gamma not in (None, 0)
        )

    @property
    def is_identity(self) -> bool:
        """The network's logits are the model's scores."""
        return self.member_scale == 1.0 and not self.calibrates

    def apply(self, logits: Tensor, members: int, output: str) -> Tensor:
        """The ``output`` of one chunk of float64 member logits."""
        if self.member_scale != 1.0:
            logits = logits * self.member_scale
        if self.calibrates:
            # One affine map of the averaged prediction, not of each member.
            scores = ensemble_logits(logits, members)
            if self.focal_gamma not in (None, 0):
                scores = focal_posterior_logits(scores, self.focal_gamma)
            scores = scores / self.temperature
            if self.shift:
                shift = torch.tensor(self.shift, dtype=scores.dtype)
                scores = scores - (shift[0] if scores.ndim == 1 else shift)
            logits = scores
            members = 1
        return OUTPUTS[output](logits, members)


def host_features(features: Tensor | SparseRows):
    """Training features held on a device, as an array :func:`predict_chunks` takes.

    Dense tensors become a float32 ndarray, :class:`~skfocal._data.SparseRows`
    a scipy CSR matrix (both on the host).

    Examples
    --------
    >>> import torch
    >>> from skfocal._inference import host_features
    >>> host_features(torch.ones(2, 3)).shape
    (2, 3)
    """
    if isinstance(features, SparseRows):
        return sp.csr_matrix(
            (
                features.values.cpu().numpy(),
                features.columns.cpu().numpy(),
                features.row_pointers.cpu().numpy(),
            ),
            shape=features.shape,
        )
    return features.detach().cpu().numpy()


def predict_chunks(
    module: nn.Module,
    X,
    *,
    device: torch.device,
    n_classes: int,
    output: str,
    transform: LogitTransform | None = None,
) -> np.ndarray:
    """Scores of ``module`` on ``X``, one chunk of rows at a time.

    Parameters
    ----------
    module : torch.nn.Module
        The trained network (see :mod:`skfocal._ensemble` for ensembles).
    X : ndarray or scipy sparse CSR matrix of shape (n_samples, n_features)
        Validated input, float32 or float64.
    device : torch.device
        Where the module lives.
    n_classes : int
        Number of classes.
    output : {"decision", "proba", "log_proba"}
        Decision scores (``(n_samples,)`` for binary problems), class
        probabilities or their logarithms (``(n_samples, n_classes)``).
    transform : LogitTransform or None, default=None
        Output scale and calibration; ``None`` uses the logits as they are.

    Returns
    -------
    result : ndarray of float64

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from skfocal._inference import predict_chunks
    >>> module = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.Flatten(0))
    >>> predict_chunks(module, np.zeros((3, 2)), device=torch.device("cpu"),
    ...                n_classes=2, output="proba").shape
    (3, 2)
    """
    on_cpu = device.type == "cpu"
    # On the CPU, inference runs in float64 chunks: float32 GEMM kernels
    # round differently for different batch shapes, so a row's prediction
    # would depend on which rows share its call. In chunks of 2048 rows the
    # float64 pass costs no more than one float32 pass over all rows
    # (benchmarks/bench_speed.py); on accelerators float32 is kept.
    dtype = torch.float64 if on_cpu else torch.float32
    chunk_size = _CPU_PREDICT_BATCH_SIZE if on_cpu else _PREDICT_BATCH_SIZE
    parameters = {
        name: value.detach().to(dtype) if value.is_floating_point() else value
        for name, value in module.state_dict().items()
    }
    members = n_members(module)
    transform = transform or LogitTransform()
    n_samples = X.shape[0]
    binary = n_classes == 2
    shape = (n_samples,) if output == "decision" and binary else (n_samples, n_classes)
    result = np.empty(shape, dtype=np.float64)
    result_view = torch.from_numpy(result)
    rows = min(chunk_size, n_samples)
    host_buffer = np.empty((rows, X.shape[1]), dtype=np.float32)
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            device_buffer = torch.empty((rows, X.shape[1]), dtype=dtype, device=device)
            for start in range(0, n_samples, chunk_size):
                stop = min(start + chunk_size, n_samples)
                block = device_buffer[: stop - start]
                block.copy_(torch.from_numpy(float32_rows(X, start, stop, host_buffer)))
                logits = torch.func.functional_call(module, parameters, (block,))
                # Probabilities in float64 on the host, so rows sum to 1.
                logits = logits.to(device="cpu", dtype=torch.float64)
                result_view[start:stop] = transform.apply(logits, members, output)
    finally:
        module.train(was_training)
    return result
