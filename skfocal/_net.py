"""The training layer: the only skfocal module that imports skorch.

:class:`TabularNet` is a small :class:`skorch.NeuralNetClassifier` that
overrides only documented extension points (``get_loss``, ``get_dataset``,
``train_step``, ``run_single_epoch``, ``initialize_criterion``,
``predict_proba``, the net's own ``on_epoch_end`` hook) and is driven through
the public ``fit_loop``; its epoch loop calls the batch hooks that do
something directly rather than through ``notify`` (a net that overrides
``notify`` gets skorch's loop). :meth:`TabularNet.train_epochs`
returns an explicit :class:`TrainingOutcome` instead of leaving the caller
to guess why skorch ended a fit. One private method is overridden because
it measurably pays (``_set_training``; the measurement is next to it, and
``tests/test_net.py`` fails if skorch changes it). Differences between the
skorch versions that ``pyproject.toml`` allows belong in this module too
(skorch 1.0's unpickling).
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from skorch import NeuralNet, NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochScoring,
    LRScheduler,
    PrintLog,
)
from skorch.dataset import get_len
from skorch.helper import predefined_split
from skorch.history import History
from skorch.utils import TeeGenerator, get_map_location
from torch.optim.lr_scheduler import LambdaLR

from skfocal._backbone import no_weight_decay
from skfocal._data import BatchSliceIterator, TabularDataset
from skfocal._decision import validation_score
from skfocal._ensemble import (
    ensemble_log_probabilities,
    ensemble_logits,
    members_as_batch,
    n_members,
)
from skfocal.losses import BalancedCrossEntropyLoss

__all__ = [
    "LR_SCHEDULES",
    "VALIDATION_METRICS",
    "DeferredReweighting",
    "ScheduleFactor",
    "TabularNet",
    "TrainingOutcome",
    "ValidationAveragePrecision",
    "check_callbacks",
    "make_net",
    "training_callbacks",
    "update_net",
    "validation_diagnostics",
]

# Marks the optimizer parameter group that weight decay skips.
_EXEMPT = "weight_decay_exempt"


# skorch < 1.1 has no ``torch_load_kwargs`` and unpickles a net's modules with
# torch.load's default, which is weights_only=True since torch 2.6 and
# refuses them: every pickled estimator would fail to load.
_SKORCH_LOADS_WEIGHTS_ONLY = (
    "torch_load_kwargs" not in inspect.signature(NeuralNet.__init__).parameters
)


@dataclass(frozen=True)
class TrainingOutcome:
    """How one call of :meth:`TabularNet.train_epochs` ended.

    Attributes
    ----------
    epochs_requested : int
        Epochs asked for.
    epochs_run : int
        Epochs whose training pass finished.
    stopped_early : bool
        An early-stopping callback ended training.
    interrupted : bool
        Something else raised ``KeyboardInterrupt`` (a user's Ctrl-C).
    stopped_by : str or None
        Name of the early-stopping callback that ended training.

    Examples
    --------
    >>> from skfocal._net import TrainingOutcome
    >>> TrainingOutcome(5, 5, stopped_early=False, interrupted=False).completed
    True
    """

    epochs_requested: int
    epochs_run: int
    stopped_early: bool
    interrupted: bool
    stopped_by: str | None = None

    @property
    def completed(self) -> bool:
        """Training ran every requested epoch or stopped early as planned."""
        return not self.interrupted


class TabularNet(NeuralNetClassifier):
    """skorch classifier over :class:`~skfocal._data.TabularDataset` batches.

    Parameters
    ----------
    *args, **kwargs
        As for :class:`skorch.NeuralNetClassifier`.
    validation_class_weight : sequence of float or None, default=None
        Class weights of the validation loss (see :meth:`get_loss`).
    validation_logit_scale : float, default=1.0
        Factor of the logits in the validation loss: the loss's output scale
        (LDAM's ``scale``), so that the validation loss scores the model's
        probabilities.
    decay_exempt : bool, default=False
        Keep the module's biases, normalisations, embeddings and feature
        scale out of weight decay
        (:func:`skfocal._backbone.no_weight_decay`), in an optimizer
        parameter group of its own.

    Examples
    --------
    >>> import torch
    >>> from skfocal._net import TabularNet
    >>> net = TabularNet(torch.nn.Linear, module__in_features=2,
    ...                  module__out_features=1, max_epochs=1)
    >>> net.validation_class_weight is None
    True
    """

    def __init__(
        self,
        *args,
        validation_class_weight=None,
        decay_exempt=False,
        validation_logit_scale=1.0,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.validation_class_weight = validation_class_weight
        self.decay_exempt = decay_exempt
        self.validation_logit_scale = validation_logit_scale

    def get_params_for_optimizer(self, prefix, named_parameters):
        # skorch's documented hook for parameter groups. The exempt group is
        # marked, so that a later weight decay (warm_start) skips it. Without
        # weight decay there is nothing to exempt: one group, because every
        # group costs its own optimizer kernels per step (about 10% of a
        # small MLP's step).
        args, kwargs = super().get_params_for_optimizer(prefix, named_parameters)
        decays = kwargs.get("weight_decay", 0.0) > 0
        if not (self.decay_exempt and decays) or prefix != "optimizer":
            return args, kwargs
        names = set(no_weight_decay(self.module_))
        exempt = {id(p) for name, p in self.module_.named_parameters() if name in names}
        groups = []
        for group in args[0]:
            kept = [p for p in group["params"] if id(p) in exempt]
            decayed = [p for p in group["params"] if id(p) not in exempt]
            if decayed:
                groups.append({**group, "params": decayed})
            if kept:
                groups.append(
                    {**group, "params": kept, "weight_decay": 0.0, _EXEMPT: True}
                )
        return (groups, *args[1:]), kwargs

    # -- components --------------------------------------------------------
    def initialize_criterion(self):
        super().initialize_criterion()
        weight = self.validation_class_weight
        # The validation loss runs unchecked, like training: checking target
        # values costs a device synchronisation per batch.
        self.validation_criterion_ = BalancedCrossEntropyLoss(
            alpha=None if weight is None else [float(w) for w in weight],
            check_targets=False,
        ).to(self.device)  # its class weights, once, on the training device
        return self

    def get_dataset(self, X, y=None):
        if isinstance(X, TabularDataset):
            return X
        if isinstance(X, (np.ndarray, torch.Tensor)):
            # Direct calls such as net_.predict_proba(X) also take the
            # slicing path rather than skorch's per-row Dataset.
            features = torch.as_tensor(X, dtype=torch.float32).to(self.device)
            target = None if y is None else torch.as_tensor(y).to(self.device)
            return TabularDataset(features, target, None)
        return super().get_dataset(X, y)

    # -- steps -------------------------------------------------------------
    def get_loss(self, y_pred, y_true, X=None, training=False):
        sample_weight = X.get("sample_weight") if isinstance(X, dict) else None
        members = n_members(self.module_)
        if training:
            # Ensemble members count as extra rows: one weighted mean.
            y_pred, y_true, sample_weight = members_as_batch(
                y_pred, y_true, sample_weight, members
            )
            return self.criterion_(y_pred, y_true, sample_weight)
        # The validation loss (what early stopping monitors) is the
        # class-weighted cross-entropy of the averaged prediction for every
        # loss: a proper scoring rule that falls as the model improves.
        # GHM-C's own value would not: it is renormalised by each batch's
        # gradient histogram, and early stopping on it stopped too soon.
        scale = getattr(self, "validation_logit_scale", 1.0)
        if scale != 1.0:
            y_pred = y_pred * scale
        return self.validation_criterion_(
            ensemble_logits(y_pred, members), y_true, sample_weight
        )

    # on_grad_computed hooks of the epoch under way (set by run_single_epoch,
    # None otherwise); the trailing underscore keeps it out of get_params.
    _grad_hooks_ = None

    def train_step(self, batch, **fit_params):
        # skorch's train_step routes every step through an optimizer closure,
        # which only LBFGS-like optimizers need; skorch documents overriding
        # train_step for finer control. Adam takes a plain step.
        if type(self.optimizer_).zero_grad is torch.optim.Optimizer.zero_grad:
            # zero_grad(set_to_none=True) by hand: torch's wraps the same
            # assignments in a profiler record (13 us against 1 us a call
            # for the (64, 64) MLP, about 2% of a plain epoch at batch 256).
            for group in self.optimizer_.param_groups:
                for param in group["params"]:
                    param.grad = None
        else:
            self.optimizer_.zero_grad(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        grad_hooks = self._grad_hooks_
        if grad_hooks is None:  # outside the lean epoch loop: skorch's way
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        elif grad_hooks:
            named_parameters = TeeGenerator(self.get_all_learnable_params())
            for hook in grad_hooks:
                hook(
                    self, named_parameters=named_parameters, batch=batch, training=True
                )
        self.optimizer_.step()
        return step

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        # skorch's run_single_epoch (a public method of NeuralNet), with the
        # same history rows and hook calls, minus its per-batch overhead:
        # batch hooks are called only where they are overridden (the net's
        # own, every callback's), the batch's history row is written once
        # instead of through three History lookups, and the batch size is
        # the target's length rather than skorch's get_len of a dict. A net
        # whose notify or History is customised gets skorch's loop, which
        # routes everything through them.
        if (
            type(self).notify is not NeuralNet.notify
            or type(self.history) is not History
        ):
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
            return
        if iterator is None:
            return
        begin_hooks = _overridden_hooks(self, "on_batch_begin")
        end_hooks = _overridden_hooks(self, "on_batch_end")
        # NeuralNet.on_batch_begin only adds the batch's history row.
        own_begin = getattr(self.on_batch_begin, "__func__", None)
        add_row = own_begin is NeuralNet.on_batch_begin
        batches = self.history[-1]["batches"]
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        batch_count = 0
        self._grad_hooks_ = _overridden_hooks(self, "on_grad_computed")
        try:
            for batch in iterator:
                if add_row:
                    batches.append({})
                for hook in begin_hooks:
                    hook(self, batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                row = batches[-1]
                row[loss_key] = step["loss"].item()
                row[size_key] = _batch_size(batch)
                for hook in end_hooks:
                    hook(self, batch=batch, training=training, **step)
                batch_count += 1
        finally:
            # Back to the class's None: nothing of the epoch outlives it.
            vars(self).pop("_grad_hooks_", None)
        self.history.record(prefix + "_batch_count", batch_count)

    # The one private override, kept because it is measurably faster:
    # skorch calls _set_training on every batch, and Module.train() walks
    # every submodule each time. Switching only when the mode changes made a
    # default fit 5-7% faster per epoch (20,000 x 20 rows, batch 256, one
    # thread; ratio of medians of 7 interleaved repeats: 0.934 and 0.951).
    # tests/test_net.py fails loudly if skorch renames or re-signs it.
    # (Calling only the callbacks that override a hook is run_single_epoch's
    # and train_step's job; a former notify override that did only that
    # gained under 2% alone.)
    def _set_training(self, training=True):
        if (
            self.module_.training != training
            or self.criterion_.training != training
            or self.validation_criterion_.training != training
        ):
            super()._set_training(training)

    def predict_proba(self, X):
        # Averages ensemble members' probabilities, which skorch's
        # predict_nonlinearity (called without the module) cannot know of.
        members = n_members(self.module_)
        chunks = [
            ensemble_log_probabilities(logits, members).exp().cpu()
            for logits in self.forward_iter(X, training=False)
        ]
        return torch.cat(chunks).numpy()

    if _SKORCH_LOADS_WEIGHTS_ONLY:  # skorch 1.0 only; see the flag above

        def __setstate__(self, state):
            # skorch 1.0's __setstate__ with weights_only=False: the pickle
            # being loaded is trusted already (pickle runs arbitrary code).
            map_location = get_map_location(state["device"])
            state["device"] = self._check_device(state["device"], map_location)
            with tempfile.SpooledTemporaryFile() as buffer:
                buffer.write(state.pop("__cuda_dependent_attributes__"))
                buffer.seek(0)
                state.update(
                    torch.load(buffer, map_location=map_location, weights_only=False)
                )
            self.__dict__.update(state)

    # -- training ----------------------------------------------------------
    def on_epoch_end(self, net, dataset_train=None, dataset_valid=None, **kwargs):
        super().on_epoch_end(net, dataset_train, dataset_valid, **kwargs)
        # The net's own hook runs before every callback, so an epoch whose
        # callbacks raise still counts as run.
        self.epochs_run_ += 1

    def train_epochs(self, dataset: TabularDataset, epochs: int) -> TrainingOutcome:
        """Train ``epochs`` epochs (fewer if stopped) and say how it ended.

        Like skorch's ``partial_fit`` (the net keeps its weights), but the
        ``KeyboardInterrupt`` that ends training is attributed: raised by an
        :class:`~skorch.callbacks.EarlyStopping` (the estimator's or a
        user's), it is a normal early stop; raised by anything else, it is
        an interruption.

        Parameters
        ----------
        dataset : TabularDataset
            Training rows; validation rows come from ``train_split``.
        epochs : int
            Number of epochs.

        Returns
        -------
        outcome : TrainingOutcome
        """
        if not self.initialized_:
            self.initialize()
        self.epochs_run_ = 0
        stopped_by = None
        interrupted = False
        self.notify("on_train_begin", X=dataset, y=None)
        try:
            self.fit_loop(dataset, None, epochs=epochs)
        except KeyboardInterrupt as exc:
            stopped_by = _early_stopper_name(self, exc)
            interrupted = stopped_by is None
        self.notify("on_train_end", X=dataset, y=None)
        return TrainingOutcome(
            epochs_requested=epochs,
            epochs_run=self.epochs_run_,
            stopped_early=stopped_by is not None,
            interrupted=interrupted,
            stopped_by=stopped_by,
        )


def _overridden_hooks(net: TabularNet, name: str) -> list:
    """The net's and callbacks' bound ``name`` hooks that do something.

    The net's own hook is skipped where it is ``NeuralNet``'s (whose
    ``on_batch_begin`` only adds the history row, which
    :meth:`TabularNet.run_single_epoch` then adds itself); a callback's is
    skipped where it is :class:`skorch.callbacks.Callback`'s no-op.
    """
    owners = [(net, NeuralNet)] + [(cb, Callback) for _, cb in net.callbacks_]
    hooks = []
    for owner, base in owners:
        hook = getattr(owner, name)
        if getattr(hook, "__func__", None) is not getattr(base, name):
            hooks.append(hook)
    return hooks


def _batch_size(batch) -> int:
    """Rows of a batch (its target's length: cheaper than a dict's).

    The same count as skorch's ``get_len(batch[0])`` for this package's
    batches, whose features and target have one row each per sample.
    """
    if isinstance(batch, (tuple, list)):
        target = batch[1] if len(batch) > 1 else None
        if isinstance(target, torch.Tensor):
            return len(target)
        return get_len(batch[0])
    return get_len(batch)


def _early_stopper_name(net: TabularNet, exc: KeyboardInterrupt) -> str | None:
    """Name of the EarlyStopping callback that raised ``exc``, if one did."""
    traceback = exc.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    raiser = traceback.tb_frame.f_locals.get("self")
    if not isinstance(raiser, EarlyStopping):
        return None
    for name, callback in net.callbacks_:
        if callback is raiser:
            return name
    return type(raiser).__name__


class _StopOnNonFiniteLoss(Callback):
    """Stop training with a clear message once the training loss is NaN/inf.

    skorch has no such callback; without it a diverged fit silently returns a
    model that predicts NaN.
    """

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}. "
                "Try a lower 'lr', scaling the features (e.g. StandardScaler), "
                "or checking X for extreme values."
            )


class DeferredReweighting(Callback):
    """Switch the loss's class weights on late in training (DRW).

    Deferred re-weighting (Cao et al. 2019): train without class weights,
    then from epoch ``switch_epoch + 1`` on (epochs counted over the net's
    whole history, so ``warm_start`` and ``partial_fit`` continue the
    schedule) train with ``class_weight``, through the criterion's
    ``set_class_weight``. At the switch every
    :class:`~skorch.callbacks.EarlyStopping` starts afresh, so the weights it
    restores are those of a re-weighted epoch whenever one ran: the model
    then matches the class weights the prior correction divides out.

    Parameters
    ----------
    switch_epoch : int
        Number of unweighted epochs.
    class_weight : sequence of float
        The late class weights, one per class.

    Examples
    --------
    >>> from skfocal._net import DeferredReweighting
    >>> DeferredReweighting(80, [0.2, 1.8]).switch_epoch
    80
    """

    def __init__(self, switch_epoch: int, class_weight: Sequence[float]) -> None:
        self.switch_epoch = switch_epoch
        self.class_weight = class_weight

    def on_train_begin(self, net, **kwargs):
        self.switched_ = False

    def on_epoch_begin(self, net, **kwargs):
        # The net's own on_epoch_begin has added this epoch's history row.
        if self.switched_ or len(net.history) <= self.switch_epoch:
            return
        net.criterion_.set_class_weight(list(self.class_weight))
        for _, callback in net.callbacks_:
            if isinstance(callback, EarlyStopping):
                callback.on_train_begin(net)
        self.switched_ = True


LR_SCHEDULES = ("constant", "cosine", "flat_cosine")
VALIDATION_METRICS = ("loss", "average_precision")
# History key of each validation metric, and whether lower is better.
_VALIDATION_KEYS = {
    "loss": ("valid_loss", True),
    "average_precision": ("valid_ap", False),
}


class ScheduleFactor:
    """Multiplier of the base learning rate at an epoch (picklable).

    ``"cosine"``: ``(1 + cos(pi t)) / 2`` with ``t = epoch / epochs``, from 1
    at the first epoch towards 0 after the last. ``"flat_cosine"``
    (RealMLP's "flat_cos"): 1 while ``t < 1/2``, then
    ``(1 + cos(pi (2 t - 1))) / 2``. ``"constant"``: 1.

    Parameters
    ----------
    kind : {"constant", "cosine", "flat_cosine"}
        The schedule.
    epochs : int
        Length of the schedule (the fit's ``max_epochs``).

    Examples
    --------
    >>> from skfocal._net import ScheduleFactor
    >>> [round(ScheduleFactor("flat_cosine", 4)(e), 3) for e in range(4)]
    [1.0, 1.0, 1.0, 0.5]
    """

    def __init__(self, kind: str, epochs: int) -> None:
        if kind not in LR_SCHEDULES:
            raise ValueError(
                f"The 'lr_schedule' parameter must be one of {LR_SCHEDULES}. "
                f"Got {kind!r} instead."
            )
        self.kind = kind
        self.epochs = epochs

    def __call__(self, epoch: int) -> float:
        progress = epoch / self.epochs
        if self.kind == "constant" or (self.kind == "flat_cosine" and progress < 0.5):
            return 1.0
        if self.kind == "flat_cosine":
            progress = 2.0 * progress - 1.0
        return 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


class _EpochSchedule(LRScheduler):
    """skorch's ``LRScheduler`` with a ``LambdaLR``, restarted by every fit.

    skorch resumes a schedule from the net's history; here each ``fit``
    (``warm_start`` included) runs its own schedule over its ``max_epochs``,
    from the learning rate the estimator sets, so ``initial_lr`` (left in
    the optimizer by an earlier fit's scheduler) is cleared first.
    """

    def __init__(self, factor: ScheduleFactor) -> None:
        super().__init__(
            policy=LambdaLR, lr_lambda=factor, last_epoch=-1, step_every="epoch"
        )

    def on_train_begin(self, net, **kwargs):
        for group in net.optimizer_.param_groups:
            group.pop("initial_lr", None)
        super().on_train_begin(net, **kwargs)


class ValidationAveragePrecision(Callback):
    """Record ``valid_ap``: average precision on the validation split.

    Scores the predictions of the validation pass that skorch runs anyway
    (no second forward pass), with :func:`skfocal._decision.validation_score`:
    binary average precision of class 1, multi-class macro one-vs-rest, the
    sample weights included; ensemble members' probabilities are averaged.

    Examples
    --------
    >>> from skfocal._net import ValidationAveragePrecision
    >>> ValidationAveragePrecision().initialize().logits_
    []
    """

    def initialize(self):
        self.logits_, self.targets_, self.weights_ = [], [], []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.initialize()

    def on_batch_end(self, net, batch=None, training=False, y_pred=None, **kwargs):
        if training or y_pred is None:
            return
        features, target = batch
        self.logits_.append(y_pred.detach())
        self.targets_.append(target)
        if isinstance(features, dict) and "sample_weight" in features:
            self.weights_.append(features["sample_weight"])

    def on_epoch_end(self, net, **kwargs):
        if not self.logits_:
            return
        # The probabilities the model predicts: LDAM's logits times its scale.
        logits = torch.cat(self.logits_) * getattr(net, "validation_logit_scale", 1.0)
        proba = ensemble_log_probabilities(logits, n_members(net.module_)).exp()
        weights = torch.cat(self.weights_).cpu().numpy() if self.weights_ else None
        score = validation_score(
            torch.cat(self.targets_).cpu().numpy().astype(np.int64),
            proba.cpu().double().numpy(),
            weights,
        )
        net.history.record("valid_ap", score)
        self.initialize()


def validation_diagnostics(
    net: TabularNet, metric: str
) -> tuple[list[float] | None, int | None, float | None]:
    """``validation_scores_``, ``best_epoch_``, ``best_validation_score_``.

    One score per epoch of the history (``nan`` for epochs trained without
    a validation split), or ``None`` when the last epoch had none. The best
    epoch is the one the estimator's early stopping restored, else the last
    (whose weights are kept); 1-based.
    """
    key, _ = _VALIDATION_KEYS[metric]
    scores = [float(row.get(key, math.nan)) for row in net.history]
    if not scores or key not in net.history[-1]:
        return None, None, None
    best = len(scores)
    for name, callback in net.callbacks_:
        if name == "early_stopping" and getattr(callback, "best_epoch_", 0) > 0:
            best = int(callback.best_epoch_)
    return scores, best, scores[best - 1]


_ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


def console_sink(text: str) -> None:
    """Print ``text``; without colour codes unless stdout is a terminal.

    Examples
    --------
    >>> from skfocal._net import console_sink
    >>> console_sink("\\x1b[32m0.5\\x1b[0m")
    0.5
    """
    stream = sys.stdout
    isatty = getattr(stream, "isatty", None)
    if not (isatty is not None and isatty()):
        text = _ANSI_CODE.sub("", text)
    print(text, file=stream, flush=True)


def _silent(*args, **kwargs) -> None:
    return None


def check_callbacks(callbacks, owner: str) -> None:
    """Raise a clear error unless ``callbacks`` holds skorch callbacks.

    Parameters
    ----------
    callbacks : list or None
        The ``callbacks`` parameter of an estimator.
    owner : str
        The estimator's class name, for the message.

    Examples
    --------
    >>> from skfocal._net import check_callbacks
    >>> check_callbacks(["x"], "FocalClassifier")
    Traceback (most recent call last):
    ...
    ValueError: The 'callbacks' parameter of FocalClassifier must be a list of ...
    """
    for position, item in enumerate(callbacks or []):
        callback = item
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            callback = item[1]
        is_callback = isinstance(callback, Callback) or (
            isinstance(callback, type) and issubclass(callback, Callback)
        )
        if not is_callback:
            raise ValueError(
                f"The 'callbacks' parameter of {owner} must be a list of skorch "
                "callbacks (skorch.callbacks.Callback instances or classes) or "
                f"(name, callback) tuples; item {position} is {item!r} "
                f"({type(item).__name__})."
            )


def training_callbacks(
    user_callbacks: Sequence,
    *,
    patience: int | None,
    verbose: int,
    binary: bool,
    has_validation: bool,
    drw: tuple[int, Sequence[float]] | None = None,
    lr_schedule: str = "constant",
    max_epochs: int = 1,
    validation_metric: str = "loss",
) -> list:
    """The callbacks of one fit, in the order they must run.

    The divergence guard first; deferred re-weighting (``drw``, a pair
    ``(switch_epoch, class_weight)``, see :class:`DeferredReweighting`)
    next, so that later callbacks see the weights of the epoch; the
    validation metrics of ``verbose >= 2``
    and the user's callbacks (already copied) next; early stopping (when
    ``patience`` is given) last, because it ends training by raising in its
    ``on_epoch_end`` and callbacks after it would miss the last epoch.
    skorch puts its table printer after all of them. With a validation
    split and ``validation_metric="average_precision"``,
    :class:`ValidationAveragePrecision` records ``valid_ap``, which early
    stopping then monitors instead of ``valid_loss``. A ``lr_schedule``
    other than ``"constant"`` steps the learning rate once per epoch
    (:class:`ScheduleFactor` over ``max_epochs``), before the user's
    callbacks.

    Examples
    --------
    >>> from skfocal._net import training_callbacks
    >>> [name for name, _ in training_callbacks(
    ...     [], patience=3, verbose=0, binary=True, has_validation=True)]
    ['stop_on_non_finite_loss', 'early_stopping']
    """
    callbacks = [("stop_on_non_finite_loss", _StopOnNonFiniteLoss())]
    if drw is not None:
        callbacks.append(("deferred_reweighting", DeferredReweighting(*drw)))
    scores_ap = has_validation and validation_metric == "average_precision"
    if scores_ap:
        callbacks.append(("valid_ap", ValidationAveragePrecision()))
    if verbose >= 2 and has_validation:
        # Scored on the predictions the validation pass already made.
        show_ap = binary and not scores_ap
        scorers = {"valid_ap": "average_precision"} if show_ap else {}
        scorers["valid_bal_acc"] = "balanced_accuracy"
        for name, scoring in scorers.items():
            scorer = EpochScoring(scoring, lower_is_better=False, name=name)
            callbacks.append((name, scorer))
    if lr_schedule != "constant":
        # Per epoch: stepping per batch costs a Python call per batch.
        schedule = _EpochSchedule(ScheduleFactor(lr_schedule, max_epochs))
        callbacks.append(("lr_schedule", schedule))
    callbacks.extend(user_callbacks)
    if patience is not None:
        # Validation loss or average precision, never accuracy: under
        # imbalance accuracy rewards predicting the majority class. The best
        # weights are restored.
        monitor, lower_is_better = _VALIDATION_KEYS[validation_metric]
        stopper = EarlyStopping(
            monitor=monitor,
            lower_is_better=lower_is_better,
            patience=patience,
            load_best=True,
            sink=console_sink if verbose else _silent,
        )
        callbacks.append(("early_stopping", stopper))
    return callbacks


def make_net(
    *,
    module,
    module_params: dict,
    criterion,
    validation_class_weight,
    n_classes: int,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    seed: int,
    device: str,
    verbose: int,
    callbacks: list,
    validation_data: TabularDataset | None,
    decay_exempt: bool = False,
    validation_logit_scale: float = 1.0,
) -> TabularNet:
    """A :class:`TabularNet` configured for the estimators (not initialised).

    ``criterion`` is a factory called without arguments (e.g. a
    ``functools.partial`` of a loss class). ``validation_data`` becomes a
    fixed validation split; without it all rows train. ``decay_exempt``
    keeps biases, embeddings and the feature scale out of weight decay.
    ``validation_logit_scale`` multiplies the logits of the validation loss
    (LDAM's ``scale``).

    Examples
    --------
    >>> import torch
    >>> from skfocal._net import make_net
    >>> net = make_net(module=torch.nn.Linear,
    ...     module_params={"in_features": 3, "out_features": 1},
    ...     criterion=torch.nn.BCEWithLogitsLoss, validation_class_weight=None,
    ...     n_classes=2, lr=1e-3, weight_decay=0.0, batch_size=32, max_epochs=1,
    ...     seed=0, device="cpu", verbose=0, callbacks=[], validation_data=None)
    >>> net.initialize().module_
    Linear(in_features=3, out_features=1, bias=True)
    """
    optimizer_params = {}
    if device == "cpu" or device.startswith("cuda"):
        # Fused Adam: one kernel for the whole update instead of a loop
        # over parameters (measured about 20% of a small MLP's step).
        optimizer_params["optimizer__fused"] = True
    return TabularNet(
        module=module,
        **{f"module__{name}": value for name, value in module_params.items()},
        criterion=criterion,
        validation_class_weight=validation_class_weight,
        validation_logit_scale=validation_logit_scale,
        decay_exempt=decay_exempt,
        optimizer=torch.optim.Adam,
        optimizer__weight_decay=weight_decay,
        **optimizer_params,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=BatchSliceIterator,
        iterator_train__shuffle=True,
        iterator_train__seed=seed,
        iterator_valid=BatchSliceIterator,
        train_split=_split(validation_data),
        callbacks=callbacks,
        # Accuracy says little under imbalance, and computing it costs a
        # prediction pass per epoch.
        callbacks__valid_acc=None,
        callbacks__print_log=PrintLog(sink=console_sink) if verbose else None,
        device=device,
        verbose=verbose,
        classes=list(range(n_classes)),
    )


def update_net(
    net: TabularNet,
    *,
    criterion=None,
    validation_class_weight=None,
    validation_logit_scale: float = 1.0,
    lr: float,
    weight_decay: float,
    batch_size: int,
    max_epochs: int,
    seed: int,
    verbose: int,
    callbacks: list,
    validation_data: TabularDataset | None,
) -> None:
    """Carry the estimator's current parameters into a trained net.

    For ``warm_start`` and ``partial_fit``: the weights stay. A new
    ``criterion`` (given when a loss parameter changed) replaces the old
    one, and skorch then starts a fresh optimizer, as scikit-learn's MLP
    does on every ``fit``; ``lr`` and ``weight_decay`` are set on the
    optimizer in place otherwise, keeping Adam's moment estimates.
    """
    if criterion is not None:
        net.set_params(
            criterion=criterion,
            validation_class_weight=validation_class_weight,
            validation_logit_scale=validation_logit_scale,
        )
    # Plain attributes first, so that any later re-initialisation agrees.
    net.optimizer__weight_decay = weight_decay
    net.set_params(lr=lr)
    groups = net.optimizer_.param_groups
    if net.decay_exempt and (weight_decay > 0) != any(g.get(_EXEMPT) for g in groups):
        # The exemption needs a group of its own now, or no longer: a new
        # optimizer (Adam's moments restart, as after a changed loss).
        net.initialize_optimizer()
    else:
        # Per group: the group exempt from weight decay stays exempt.
        for group in groups:
            group["weight_decay"] = 0.0 if group.get(_EXEMPT) else weight_decay
    net.set_params(
        batch_size=batch_size,
        max_epochs=max_epochs,
        verbose=verbose,
        train_split=_split(validation_data),
    )
    # An iterator parameter cannot go through set_params once the net is
    # initialised (skorch would look for a component to re-initialise).
    net.iterator_train__seed = seed
    net.callbacks__print_log = PrintLog(sink=console_sink) if verbose else None
    net.callbacks = callbacks
    net.initialize_callbacks()


def forget_validation_data(net: TabularNet) -> None:
    """Drop the validation split: it is data, not model.

    Keeping it would bloat the pickle and pin device tensors outside
    skorch's device mapping.
    """
    net.train_split = None


def _split(validation_data: TabularDataset | None):
    return None if validation_data is None else predefined_split(validation_data)
