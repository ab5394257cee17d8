"""The base of the loss modules: class weights kept as a buffer."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from skfocal.losses._validation import (
    AlphaLike,
    Reduction,
    _check_alpha_fits,
    _check_alpha_value,
    _check_reduction,
    _check_weight_vector,
    _is_real,
    _split_problem,
)


class _WeightedLoss(nn.Module):
    """Holds ``alpha``, ``reduction`` and ``check_targets`` for the modules.

    ``alpha`` is checked once here and kept as a buffer of class weights, so
    that ``.to(device)`` moves it once and each step pays no validation.
    """

    def __init__(
        self, alpha: AlphaLike, reduction: Reduction, check_targets: bool
    ) -> None:
        super().__init__()
        _check_alpha_value(alpha)
        _check_reduction(reduction)
        self.reduction = reduction
        self.check_targets = check_targets
        self._alpha_is_float = _is_real(alpha)
        if alpha is None:
            class_weight = None
        elif self._alpha_is_float:
            class_weight = torch.tensor([1.0 - alpha, alpha])
        else:
            class_weight = torch.as_tensor(alpha, dtype=torch.float32).clone()
        self.alpha = (
            alpha
            if alpha is None or self._alpha_is_float
            else tuple(float(a) for a in class_weight.tolist())
        )
        self.register_buffer("class_weight", class_weight)

    def set_class_weight(self, weight: Sequence[float] | Tensor | None) -> None:
        """Replace the class weights, for example part-way through training.

        Deferred re-weighting (Cao et al. 2019) trains without class weights
        and switches them on for the last epochs; a callback calls this
        method at the switch. The new weights stay on the device of the
        module's other buffers and are saved with its state.

        Parameters
        ----------
        weight : sequence of float, Tensor or None
            One finite, non-negative weight per class (2 for a binary problem
            with one logit); ``None`` removes the weighting. A float is not
            accepted here: pass ``[1 - alpha, alpha]``.

        Examples
        --------
        >>> import torch
        >>> from skfocal.losses import FocalLoss
        >>> criterion = FocalLoss(gamma=0.0)
        >>> criterion.set_class_weight([1.0, 3.0])
        >>> criterion.class_weight
        tensor([1., 3.])
        >>> criterion.set_class_weight(None)
        >>> criterion.class_weight is None
        True
        """
        if weight is None:
            self.class_weight = None
            self.alpha = None
            self._alpha_is_float = False
            return
        if _is_real(weight):
            raise ValueError(
                "set_class_weight takes one weight per class or None; got the "
                f"float {weight!r}. Pass [1 - alpha, alpha] instead."
            )
        vector = _check_weight_vector("weight", weight)
        device = next(
            (buffer.device for buffer in self.buffers() if buffer is not None),
            torch.device("cpu"),
        )
        self.class_weight = vector.to(device=device, dtype=torch.float32)
        self.alpha = tuple(vector.tolist())
        self._alpha_is_float = False

    def _class_constant(self, name: str, like: Tensor) -> Tensor:
        """The buffer ``name`` in the dtype and on the device of ``like``.

        Per-class constants are float32 buffers (MPS has no float64), so a
        module on float64 logits uses them rounded to float32: about 1e-7
        relative, where the functional forms are exact.
        """
        buffer = getattr(self, name)
        if buffer.dtype != like.dtype or buffer.device != like.device:
            buffer = buffer.to(like.device, like.dtype)
        return buffer

    def _prepare(self, logits: Tensor, target: Tensor):
        logits, target, binary = _split_problem(logits, target, self.check_targets)
        class_weight = self.class_weight
        if class_weight is not None:
            n_classes = 2 if binary else logits.shape[1]
            _check_alpha_fits(
                self.alpha,
                self._alpha_is_float,
                class_weight.numel(),
                n_classes,
                binary,
            )
            class_weight = self._class_constant("class_weight", logits)
        return logits, target, binary, class_weight

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}, reduction={self.reduction!r}"
