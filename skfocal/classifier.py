"""scikit-learn classifiers: MLPs trained through skorch with imbalance losses.

The estimators are plain scikit-learn estimators. ``fit`` validates the data,
encodes the labels, resolves the class weights and builds a skorch
:class:`~skorch.NeuralNetClassifier` (kept as ``net_``) that trains the
:class:`~skfocal._module.MLP`; the estimator's own parameters are never
changed. Batches are index slices of tensors that live on the training
device (:mod:`skfocal._data`), not per-row ``Dataset`` calls.
"""

from __future__ import annotations

import copy
import math
import threading
import typing
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from skorch import NeuralNetClassifier
from skorch.callbacks import (
    Callback,
    EarlyStopping,
    EpochTimer,
    PassthroughScoring,
    PrintLog,
)
from skorch.helper import predefined_split
from skorch.utils import TeeGenerator

from skfocal._data import BatchSliceIterator, TabularDataset
from skfocal._module import ACTIVATIONS, MLP, torch_threads
from skfocal.losses import (
    BalancedCrossEntropyLoss,
    FocalLoss,
    GHMCLoss,
    balanced_cross_entropy,
    class_weights,
)

__all__ = [
    "BalancedCEClassifier",
    "FocalClassifier",
    "GHMClassifier",
    "ImbalancedMLPClassifier",
]

LOSSES = ("focal", "balanced_ce", "ghm", "ce")
_ALPHA_CONSTRAINT = [
    None,
    Interval(Real, 0, 1, closed="both"),
    StrOptions({"balanced", "effective"}),
    dict,
    "array-like",
]

# Above this many samples, early_stopping="auto" holds out a validation split
# (the rule of HistGradientBoostingClassifier): big tables converge in a few
# epochs and the budget of max_epochs would mostly be wasted.
_AUTO_EARLY_STOPPING_MIN_SAMPLES = 10_000
# Rows per forward pass at prediction time: large enough to amortise Python
# overhead, small enough to keep activations of (64, 64) MLPs in cache/memory.
_PREDICT_BATCH_SIZE = 65_536
_CPU_PREDICT_BATCH_SIZE = 2_048
_SEEDED_FIT_LOCK = threading.RLock()


def _resolve_device(device: str) -> str:
    """Map ``device`` to a torch device string, or raise a clear ValueError."""
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
        return "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(
            f"The 'device' parameter must be 'auto', 'cpu', 'cuda', 'cuda:N' or "
            f"'mps'; got {device!r} instead."
        ) from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} was requested but CUDA is not available on this "
            "machine. Use device='auto' to fall back to the CPU."
        )
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} was requested but only "
            f"{torch.cuda.device_count()} CUDA device(s) exist."
        )
    if resolved.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise ValueError(
                f"device={device!r} was requested but MPS is not available on "
                "this machine. Use device='auto' to fall back to the CPU."
            )
    return str(resolved)


class _TabularNet(NeuralNetClassifier):
    """skorch net that reads sample weights from dict batches.

    It also drops skorch's ``valid_acc`` callback: accuracy says little under
    imbalance, and computing it costs a prediction pass per epoch.
    """

    @property
    def _default_callbacks(self):
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("print_log", PrintLog()),
        ]

    def initialize_callbacks(self):
        super().initialize_callbacks()
        self._hooked_callbacks = {}
        return self

    def _callbacks_with(self, method_name: str) -> list:
        """Callbacks that override ``method_name`` (the others are no-ops).

        skorch calls every hook of every callback on every batch; most
        callbacks act once per epoch, so the per-batch calls are skipped.
        """
        hooked = getattr(self, "_hooked_callbacks", None)
        if hooked is None:
            hooked = self._hooked_callbacks = {}
        if method_name not in hooked:
            hooked[method_name] = [
                callback
                for _, callback in self.callbacks_
                if getattr(type(callback), method_name, None)
                is not getattr(Callback, method_name)
            ]
        return hooked[method_name]

    def notify(self, method_name, **cb_kwargs):
        getattr(self, method_name)(self, **cb_kwargs)
        for callback in self._callbacks_with(method_name):
            getattr(callback, method_name)(self, **cb_kwargs)

    def train_step(self, batch, **fit_params):
        # skorch routes every step through an optimizer closure, which only
        # LBFGS-like optimizers need. Adam takes a plain step: less Python per
        # batch, and on_grad_computed is still called for callbacks that use it.
        self._zero_grad_optimizer(set_to_none=True)
        step = self.train_step_single(batch, **fit_params)
        if self._callbacks_with("on_grad_computed"):
            self.notify(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self._step_optimizer(None)
        return step

    def _set_training(self, training=True):
        # skorch calls this on every batch; Module.train() walks all
        # submodules each time (about 8% of a small MLP's step), so only
        # switch when the mode actually changes.
        if self.module_.training != training or self.criterion_.training != training:
            super()._set_training(training)

    def get_loss(self, y_pred, y_true, X=None, training=False):
        sample_weight = X.get("sample_weight") if isinstance(X, dict) else None
        if training:
            return self.criterion_(y_pred, y_true, sample_weight)
        # The validation loss (what early stopping monitors) is the
        # class-weighted cross-entropy for every loss: a proper scoring rule
        # that falls as the model improves. GHM-C's own value would not: it
        # is renormalised by each batch's gradient histogram, and early
        # stopping on it stopped after a handful of epochs.
        return balanced_cross_entropy(
            y_pred,
            y_true,
            alpha=self.criterion_.class_weight,
            sample_weight=sample_weight,
        )

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


class _StopOnNonFiniteLoss(Callback):
    """Stop training with a clear message once the training loss is NaN/inf.

    skorch has no such callback; without it a diverged fit silently returns a
    model that predicts NaN.
    """

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss} at epoch {len(net.history)}. "
                "Try a lower 'lr', scaling the features (e.g. StandardScaler), "
                "or checking X for extreme values."
            )


class _BaseImbalancedMLP(ClassifierMixin, BaseEstimator):
    """Shared machinery; subclasses fix the loss and their hyperparameters."""

    _parameter_constraints: typing.ClassVar[dict] = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean", StrOptions({"auto"})],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
    }

    # ------------------------------------------------------------------
    # What subclasses define
    # ------------------------------------------------------------------
    def _loss_name(self) -> str:
        raise NotImplementedError

    def _alpha_param(self):
        return getattr(self, "alpha", None)

    def _make_criterion(self, class_weight: np.ndarray | None):
        loss = self._loss_name()
        alpha = None if class_weight is None else class_weight.tolist()
        if loss == "focal":
            return FocalLoss, {"gamma": self.gamma, "alpha": alpha}
        if loss == "ghm":
            return GHMCLoss, {
                "bins": self.bins,
                "momentum": self.momentum,
                "alpha": alpha,
            }
        return BalancedCrossEntropyLoss, {"alpha": alpha}

    # ------------------------------------------------------------------
    # Validation helpers
    # ------------------------------------------------------------------
    def _hidden_layer_sizes(self) -> tuple[int, ...]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, Integral):
            sizes = (sizes,)
        sizes = tuple(sizes)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
            for s in sizes
        ):
            raise ValueError(
                "The 'hidden_layer_sizes' parameter must be a sequence of "
                f"positive integers; got {self.hidden_layer_sizes!r} instead."
            )
        return tuple(int(s) for s in sizes)

    def _resolve_class_weight(
        self, y_encoded: np.ndarray, sample_weight: np.ndarray | None
    ) -> np.ndarray | None:
        """The per-class weight vector that ``alpha`` means for these labels."""
        n_classes = len(self.classes_)
        loss = self._loss_name()
        alpha = self._alpha_param()
        if loss == "ce":
            return None
        if alpha is None and loss == "balanced_ce":
            alpha = "balanced"
        if alpha is None:
            return None
        if isinstance(alpha, str):
            weights = class_weights(
                y_encoded,
                method=alpha,
                beta=self.beta,
                n_classes=n_classes,
                sample_weight=sample_weight,
            )
            return weights.numpy()
        if isinstance(alpha, Real) and not isinstance(alpha, bool):
            if n_classes != 2:
                raise ValueError(
                    f"The 'alpha' parameter of {type(self).__name__} is a float "
                    f"({alpha!r}), which is defined for binary problems only; y "
                    f"has {n_classes} classes. Pass a dict, a per-class array, "
                    "'balanced' or 'effective' instead."
                )
            return np.array([1.0 - alpha, alpha])
        if isinstance(alpha, dict):
            unknown = [label for label in alpha if label not in set(self.classes_)]
            if unknown:
                raise ValueError(
                    f"The 'alpha' dict has keys {unknown!r} that are not classes "
                    f"of y; the classes are {self.classes_.tolist()!r}."
                )
            weights = np.array(
                [float(alpha.get(label, 1.0)) for label in self.classes_.tolist()]
            )
        else:
            weights = np.asarray(alpha, dtype=np.float64).reshape(-1)
            if weights.shape[0] != n_classes:
                raise ValueError(
                    f"The 'alpha' parameter of {type(self).__name__} must have "
                    f"one weight per class ({n_classes}, in the order of "
                    f"classes_); got {weights.shape[0]} weights instead."
                )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(
                "The 'alpha' class weights must be finite and non-negative; got "
                f"{weights.tolist()!r}."
            )
        return weights

    def _use_early_stopping(self, n_samples: int) -> bool:
        if self.early_stopping == "auto":
            return n_samples >= _AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _validate_X(self, X, reset: bool) -> np.ndarray:
        X = validate_data(
            self,
            X,
            reset=reset,
            accept_sparse=False,
            dtype=(np.float32, np.float64),
            ensure_min_samples=1,
        )
        if X.dtype == np.float32:
            # validate_data has already rejected NaN and inf.
            return X
        with np.errstate(over="ignore"):  # overflow is reported just below
            X32 = X.astype(np.float32)
        if not np.all(np.isfinite(X32)):
            raise ValueError(
                "Input X holds values too large for float32 (the precision the "
                "network computes in); scale the features first, e.g. with "
                "StandardScaler."
            )
        return X32

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _prepare_fit(self, X, y, sample_weight, reset: bool, classes=None):
        first_call = reset or not hasattr(self, "classes_")
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X = self._validate_X(X, reset=first_call)
        y = np.asarray(y) if not hasattr(y, "iloc") else y
        y = _column_or_1d_target(y)
        check_classification_targets(y)
        if first_call:
            encoder = LabelEncoder()
            encoder.fit(y if classes is None else np.asarray(classes))
            if len(encoder.classes_) < 2:
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes "
                    "in the data, but the data contains only one class: "
                    f"{encoder.classes_.tolist()[0]!r}."
                )
            self.classes_ = encoder.classes_
            self._label_encoder = encoder
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise ValueError(
                f"y contains labels {unseen.tolist()!r} not seen in the first "
                f"fit; the classes are {self.classes_.tolist()!r}."
            )
        y_encoded = self._label_encoder.transform(y).astype(np.int64)
        if X.shape[0] != y_encoded.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} samples but y has {y_encoded.shape[0]}."
            )
        if sample_weight is not None:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        return X, y_encoded, sample_weight

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    def _build_net(self, n_features: int, class_weight, device: str, seed: int):
        n_classes = len(self.classes_)
        binary = n_classes == 2
        criterion, criterion_params = self._make_criterion(class_weight)
        optimizer_params = {}
        if device == "cpu" or device.startswith("cuda"):
            # Fused Adam: one kernel for the whole update instead of a loop
            # over parameters (measured about 20% of a small MLP's step).
            optimizer_params["optimizer__fused"] = True
        net = _TabularNet(
            module=MLP,
            module__n_features=n_features,
            module__n_outputs=1 if binary else n_classes,
            module__hidden_layer_sizes=self._hidden_layer_sizes(),
            module__activation=self.activation,
            module__dropout=self.dropout,
            criterion=criterion,
            # Labels are encoded by fit itself; skip the per-step value check
            # (a device synchronisation on every batch).
            criterion__check_targets=False,
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train=BatchSliceIterator,
            iterator_train__shuffle=True,
            iterator_train__seed=seed,
            iterator_valid=BatchSliceIterator,
            # skorch's own predict_proba returns raw module output unless told
            # otherwise; this makes net_.predict_proba (and skorch scoring
            # callbacks such as EpochScoring) see real probabilities.
            predict_nonlinearity=_probabilities_from_logits,
            train_split=None,
            device=device,
            verbose=self.verbose,
            classes=list(range(n_classes)),
            **{f"criterion__{k}": v for k, v in criterion_params.items()},
            **optimizer_params,
        )
        return net

    def _callbacks(self, early_stopping: bool) -> list:
        callbacks = [("stop_on_non_finite_loss", _StopOnNonFiniteLoss())]
        if self.callbacks:
            # Copies, so that fitting never mutates the estimator's parameters.
            # Before early stopping, which ends training by raising in its
            # on_epoch_end: callbacks after it would miss the last epoch.
            callbacks.extend(copy.deepcopy(self.callbacks))
        if early_stopping:
            # Validation loss, not accuracy: under imbalance accuracy rewards
            # predicting the majority class. The best weights are restored.
            stopper = EarlyStopping(
                monitor="valid_loss",
                patience=self.n_iter_no_change,
                load_best=True,
                sink=print if self.verbose else _silent,
            )
            callbacks.append(("early_stopping", stopper))
        return callbacks

    def _to_dataset(self, X, y_encoded, sample_weight, device) -> TabularDataset:
        binary = len(self.classes_) == 2
        features = torch.from_numpy(X).to(device)
        target = torch.from_numpy(y_encoded)
        target = target.to(torch.float32) if binary else target
        weights = None
        if sample_weight is not None:
            weights = torch.from_numpy(sample_weight.astype(np.float32)).to(device)
        return TabularDataset(features, target.to(device), weights)

    def _train_valid_split(self, dataset, y_encoded, seed):
        indices = np.arange(len(y_encoded))
        try:
            train_index, valid_index = train_test_split(
                indices,
                test_size=self.validation_fraction,
                stratify=y_encoded,
                random_state=seed,
            )
        except ValueError as exc:
            raise ValueError(
                "early_stopping needs a stratified validation split of "
                f"validation_fraction={self.validation_fraction} with at least "
                f"one sample of every class; it failed: {exc}. Lower the "
                "fraction's demands (more data per class) or set "
                "early_stopping=False."
            ) from exc
        train_index, valid_index = np.sort(train_index), np.sort(valid_index)
        return (
            dataset.subset(torch.from_numpy(train_index)),
            dataset.subset(torch.from_numpy(valid_index)),
        )

    def _fit(self, X, y, sample_weight, *, continue_training: bool, epochs, classes):
        with torch_threads(self.n_threads):
            return self._fit_with_threads_set(
                X,
                y,
                sample_weight,
                continue_training=continue_training,
                epochs=epochs,
                classes=classes,
            )

    def _fit_with_threads_set(
        self, X, y, sample_weight, *, continue_training: bool, epochs, classes
    ):
        X, y_encoded, sample_weight = self._prepare_fit(
            X, y, sample_weight, reset=not continue_training, classes=classes
        )
        device = self.net_.device if continue_training else _resolve_device(self.device)
        seed = self._seed()
        if continue_training:
            # Continue from a different point in the RNG stream each call.
            seed = (seed + len(self.net_.history)) % (2**31 - 1)
        class_weight = self._resolve_class_weight(y_encoded, sample_weight)
        dataset = self._to_dataset(X, y_encoded, sample_weight, device)

        early_stopping = epochs is None and self._use_early_stopping(len(X))
        if early_stopping:
            train_data, valid_data = self._train_valid_split(dataset, y_encoded, seed)
            train_split = predefined_split(valid_data)
        else:
            train_data, train_split = dataset, None
        callbacks = self._callbacks(early_stopping)

        # torch's generator is process-wide: two fits seeding it from two
        # threads (joblib's threading backend) would interleave their draws.
        # The lock makes each seeded fit atomic, so results stay reproducible.
        with _SEEDED_FIT_LOCK, torch.random.fork_rng(devices=_rng_devices(device)):
            torch.manual_seed(seed)
            if continue_training:
                # Plain attributes: skorch's set_params would re-initialise the
                # module; only the data-dependent pieces change here.
                self.net_.train_split = train_split
                self.net_.iterator_train__seed = seed
                self.net_.callbacks = callbacks
                self.net_.initialize_callbacks()
            else:
                self.net_ = self._build_net(X.shape[1], class_weight, device, seed)
                self.net_.set_params(train_split=train_split, callbacks=callbacks)
                self.net_.initialize()
                self.class_weight_ = (
                    np.ones(len(self.classes_))
                    if class_weight is None
                    else np.asarray(class_weight, dtype=np.float64)
                )
            epochs_before = len(self.net_.history)
            self.net_.partial_fit(train_data, y=None, epochs=epochs)
            self._raise_if_interrupted(
                len(self.net_.history) - epochs_before,
                epochs or self.max_epochs,
            )
        # The validation split is data, not model: keeping it would bloat the
        # pickle and pin device tensors outside skorch's device mapping.
        self.net_.train_split = None
        self.n_iter_ = len(self.net_.history)
        self.loss_curve_ = list(self.net_.history[:, "train_loss"])
        return self

    def _raise_if_interrupted(self, epochs_run: int, epochs_requested: int) -> None:
        """Re-raise a Ctrl-C that skorch swallowed.

        skorch ends training quietly on KeyboardInterrupt, which is also how
        its EarlyStopping stops; a user's Ctrl-C would then look like a
        finished fit. Fewer epochs than asked for, without early stopping
        having fired, means the user interrupted.
        """
        if epochs_run >= epochs_requested:
            return
        stopper = dict(self.net_.callbacks_).get("early_stopping")
        if stopper is not None and stopper.misses_ >= stopper.patience:
            return
        raise KeyboardInterrupt(
            f"Training was interrupted after {epochs_run} of {epochs_requested} epochs."
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Numeric training data (float64 is accepted; the network computes
            in float32).
        y : array-like of shape (n_samples,)
            Class labels of any type: strings, booleans, integers.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative per-sample weights of the loss (weighted mean).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        continue_training = bool(self.warm_start) and hasattr(self, "net_")
        return self._fit(
            X,
            y,
            sample_weight,
            continue_training=continue_training,
            epochs=None,
            classes=None,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch, continuing from the current weights.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        classes : array-like of shape (n_classes,), default=None
            All classes that can appear; needed on the first call when ``y``
            does not contain every class.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        self : object
            The estimator.
        """
        first_call = not hasattr(self, "net_")
        if (
            not first_call
            and classes is not None
            and not np.array_equal(np.unique(classes), self.classes_)
        ):
            raise ValueError(
                f"classes={list(classes)!r} differs from the classes of the "
                f"first call to partial_fit, {self.classes_.tolist()!r}."
            )
        return self._fit(
            X,
            y,
            sample_weight,
            continue_training=not first_call,
            epochs=1,
            classes=classes,
        )

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _logits(self, X) -> np.ndarray:
        check_is_fitted(self, "net_")
        X = self._validate_X(X, reset=False)
        with torch_threads(self.n_threads):
            return self._forward(X)

    def _forward(self, X: np.ndarray) -> np.ndarray:
        module = self.net_.module_
        device = torch.device(self.net_.device)
        on_cpu = device.type == "cpu"
        # On the CPU, inference runs in float64 chunks: float32 GEMM kernels
        # round differently for different batch shapes, so a row's prediction
        # would depend on which rows share its call. In chunks of 2048 rows the
        # float64 pass costs no more than one float32 pass over all rows
        # (benchmarks/bench_speed.py); on accelerators float32 is kept.
        dtype = torch.float64 if on_cpu else torch.float32
        chunk_size = _CPU_PREDICT_BATCH_SIZE if on_cpu else _PREDICT_BATCH_SIZE
        parameters = {
            name: value.detach().to(dtype)
            for name, value in module.state_dict().items()
        }
        was_training = module.training
        module.eval()
        outputs = []
        try:
            with torch.inference_mode():
                for start in range(0, X.shape[0], chunk_size):
                    chunk = torch.from_numpy(X[start : start + chunk_size])
                    chunk = chunk.to(device=device, dtype=dtype)
                    outputs.append(
                        torch.func.functional_call(module, parameters, (chunk,)).cpu()
                    )
        finally:
            module.train(was_training)
        # Probabilities are then computed in float64 so rows sum to 1.
        return torch.cat(outputs).numpy().astype(np.float64, copy=False)

    def decision_function(self, X) -> np.ndarray:
        """Logits of the network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems the logit of ``classes_[1]``.
        """
        return self._logits(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (sigmoid or softmax of the logits).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        logits = self._logits(X)
        if logits.ndim == 1:
            positive = expit(logits)
            return np.column_stack([1.0 - positive, positive])
        return softmax(logits, axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        logits = self._logits(X)
        if logits.ndim == 1:
            return np.column_stack([log_expit(-logits), log_expit(logits)])
        return log_softmax(logits, axis=1)

    def predict(self, X) -> np.ndarray:
        """Predicted class labels (the most probable class).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        logits = self._logits(X)
        if logits.ndim == 1:
            return self.classes_[(logits > 0).astype(np.int64)]
        return self.classes_[np.argmax(logits, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        return tags


def _probabilities_from_logits(logits: torch.Tensor) -> torch.Tensor:
    if logits.ndim == 1:
        positive = torch.sigmoid(logits)
        return torch.stack([1.0 - positive, positive], dim=1)
    return torch.softmax(logits, dim=1)


def _silent(*args, **kwargs) -> None:
    return None


def _rng_devices(device: str) -> list[int]:
    resolved = torch.device(device)
    if resolved.type == "cuda":
        return [resolved.index or 0]
    return []


def _column_or_1d_target(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        from sklearn.exceptions import DataConversionWarning

        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please "
            "change the shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=4,
        )
        return y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"y must be 1-dimensional (one label per sample); got shape {y.shape}. "
            "Multi-output and multi-label targets are not supported."
        )
    if type_of_target(y) == "unknown":
        raise ValueError("Unknown label type: y could not be read as class labels.")
    return y


_TRAINING_PARAMETERS_DOC = """\
    hidden_layer_sizes : tuple of int, default=(64, 64)
        Width of each hidden layer of the MLP.
    activation : {"relu", "tanh", "logistic", "gelu", "identity"}, default="relu"
        Non-linearity after each hidden layer.
    dropout : float, default=0.0
        Dropout probability after each hidden layer, in [0, 1).
    lr : float, default=1e-3
        Learning rate of Adam.
    max_epochs : int, default=100
        Maximum number of passes over the training data.
    batch_size : int, default=256
        Rows per optimisation step.
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    early_stopping : bool or "auto", default="auto"
        Hold out a stratified ``validation_fraction`` of the training data,
        stop when the validation loss has not improved for
        ``n_iter_no_change`` epochs and restore the best weights. ``"auto"``
        turns it on when there are at least 10,000 samples.
    validation_fraction : float, default=0.1
        Share of the data held out for early stopping, in (0, 1).
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    device : str, default="auto"
        ``"auto"`` picks CUDA, then MPS, then the CPU; or ``"cpu"``,
        ``"cuda"``, ``"cuda:N"``, ``"mps"``.
    n_threads : int or None, default=1
        Torch CPU threads while fitting and predicting (restored afterwards);
        ``None`` keeps torch's setting. One thread is the default because a
        small MLP step gains nothing from a second thread on an idle 2-core
        machine and loses up to 10x when other processes compete for the
        cores (benchmarks/bench_speed.py); it also keeps parallel searches
        (``n_jobs``) from oversubscribing the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation
        split. The same integer gives bit-identical predictions on the CPU;
        the global torch random state is left untouched.
    warm_start : bool, default=False
        When True, ``fit`` continues training the current network instead of
        starting afresh.
    verbose : int, default=0
        0 prints nothing; 1 prints skorch's table of epochs.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks (copied at fit time).
"""

_ATTRIBUTES_DOC = """\
    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels, as given in ``y``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X``; only defined when they are strings.
    class_weight_ : ndarray of shape (n_classes,)
        The per-class weights that ``alpha`` resolved to (ones when unweighted).
    net_ : skorch.NeuralNetClassifier
        The trained skorch net; ``net_.module_`` is the torch MLP and
        ``net_.history`` the per-epoch log.
    n_iter_ : int
        Number of epochs trained.
    loss_curve_ : list of float
        Training loss at the end of each epoch.
"""

_DEFAULTS_NOTE = """\
    The defaults train a (64, 64) ReLU MLP with Adam at ``lr=1e-3`` in
    batches of 256 for up to 100 epochs: on tables of a few thousand rows
    this takes a few seconds on a CPU and fits as well as
    ``MLPClassifier``. Above 10,000 rows early stopping on a validation split
    (``early_stopping="auto"``) ends training once the validation loss stops
    improving, so large tables do not pay for epochs that no longer help.
    Scale the features (e.g. ``StandardScaler``) as for any neural network.
"""


class ImbalancedMLPClassifier(_BaseImbalancedMLP):
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
        self.loss = loss
        self.gamma = gamma
        self.alpha = alpha
        self.beta = beta
        self.bins = bins
        self.momentum = momentum
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.callbacks = callbacks

    _parameter_constraints: typing.ClassVar[dict] = {
        **_BaseImbalancedMLP._parameter_constraints,
        "loss": [StrOptions(set(LOSSES))],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": _ALPHA_CONSTRAINT,
        "beta": [Interval(Real, 0, 1, closed="left")],
        "bins": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
    }

    def _loss_name(self) -> str:
        return self.loss


ImbalancedMLPClassifier.__doc__ = f"""MLP classifier whose loss is chosen by name.

    The generic estimator that :class:`FocalClassifier`,
    :class:`BalancedCEClassifier` and :class:`GHMClassifier` specialise, so
    that a search can range over the loss itself
    (``GridSearchCV(ImbalancedMLPClassifier(), {{"loss": [...]}})``).

    Parameters
    ----------
    loss : {{"focal", "balanced_ce", "ghm", "ce"}}, default="focal"
        ``"focal"``: focal loss (``gamma``, ``alpha``). ``"balanced_ce"``:
        cross-entropy weighted by ``alpha`` (``None`` means ``"balanced"``).
        ``"ghm"``: GHM-C (``bins``, ``momentum``, ``alpha``). ``"ce"``: plain
        cross-entropy; ``alpha`` is ignored.
    gamma : float, default=2.0
        Focusing parameter of the focal loss, ``>= 0``.
    alpha : None, float, array-like, dict, "balanced" or "effective", default=None
        Class weights. A float in [0, 1] (binary only) is the weight of
        ``classes_[1]``, ``classes_[0]`` getting ``1 - alpha``; an array
        gives one weight per class in the order of ``classes_``; a dict maps
        labels to weights (missing labels get 1); ``"balanced"`` is
        ``n_samples / (n_classes * count)``; ``"effective"`` is the
        effective-number weighting of Cui et al. (2019) with ``beta``.
    beta : float, default=0.999
        Parameter of ``alpha="effective"``, in [0, 1).
    bins : int, default=10
        Number of gradient-norm bins of GHM-C.
    momentum : float, default=0.75
        Moving-average factor of GHM-C's bin counts, in [0, 1).
{_TRAINING_PARAMETERS_DOC}
{_ATTRIBUTES_DOC}
    See Also
    --------
    FocalClassifier : The focal loss with its hyperparameters only.
    BalancedCEClassifier : Class-weighted cross-entropy.
    GHMClassifier : The GHM-C loss.

    Notes
    -----
{_DEFAULTS_NOTE}
    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfocal import ImbalancedMLPClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = ImbalancedMLPClassifier(loss="ghm", max_epochs=20, random_state=0)
    >>> clf.fit(X, y).predict_proba(X[:2]).shape
    (2, 2)
"""


class FocalClassifier(_BaseImbalancedMLP):
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
        self.gamma = gamma
        self.alpha = alpha
        self.beta = beta
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.callbacks = callbacks

    _parameter_constraints: typing.ClassVar[dict] = {
        **_BaseImbalancedMLP._parameter_constraints,
        "gamma": [Interval(Real, 0, None, closed="left")],
        "alpha": _ALPHA_CONSTRAINT,
        "beta": [Interval(Real, 0, 1, closed="left")],
    }

    def _loss_name(self) -> str:
        return "focal"


FocalClassifier.__doc__ = f"""MLP classifier trained with the focal loss (Lin et al.).

    ``FL(p_t) = -alpha_t (1 - p_t) ** gamma * log(p_t)``: the factor
    ``(1 - p_t) ** gamma`` shrinks the loss of well-classified samples, so
    training concentrates on the hard ones, which under imbalance are mostly
    the minority class. Binary problems use one logit and a sigmoid, so a
    float ``alpha`` has the paper's meaning; multi-class problems a softmax.

    Parameters
    ----------
    gamma : float, default=2.0
        Focusing parameter, ``>= 0``; ``gamma=0`` is (weighted) cross-entropy.
    alpha : None, float, array-like, dict, "balanced" or "effective", default=None
        Class weights (see :class:`ImbalancedMLPClassifier`). The paper's
        ``alpha=0.25`` weighs the positive class of a detector; on tables, a
        value near the minority share's complement (e.g. 0.75) or
        ``"balanced"`` is a better start.
    beta : float, default=0.999
        Parameter of ``alpha="effective"``.
{_TRAINING_PARAMETERS_DOC}
{_ATTRIBUTES_DOC}
    See Also
    --------
    ImbalancedMLPClassifier : Chooses the loss by name.
    skfocal.losses.FocalLoss : The loss module.

    Notes
    -----
{_DEFAULTS_NOTE}
    References
    ----------
    .. [1] T.-Y. Lin, P. Goyal, R. Girshick, K. He and P. Dollár, "Focal Loss
       for Dense Object Detection", ICCV 2017.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfocal import FocalClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = FocalClassifier(gamma=2.0, alpha=0.75, random_state=0).fit(X, y)
    >>> clf.predict(X[:3])
    array([1, 0, 0])
    >>> clf.class_weight_
    array([0.25, 0.75])
"""


class BalancedCEClassifier(_BaseImbalancedMLP):
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
        self.alpha = alpha
        self.beta = beta
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.callbacks = callbacks

    _parameter_constraints: typing.ClassVar[dict] = {
        **_BaseImbalancedMLP._parameter_constraints,
        "alpha": _ALPHA_CONSTRAINT,
        "beta": [Interval(Real, 0, 1, closed="left")],
    }

    def _loss_name(self) -> str:
        return "balanced_ce"


BalancedCEClassifier.__doc__ = f"""MLP classifier trained with class-weighted CE.

    Each sample's cross-entropy is multiplied by its class weight and the
    batch loss is the weighted mean, exactly
    ``torch.nn.functional.cross_entropy(weight=class_weight_)``.

    Parameters
    ----------
    alpha : None, float, array-like, dict, "balanced" or "effective", \
default="balanced"
        Class weights (see :class:`ImbalancedMLPClassifier`); ``None`` is
        ``"balanced"``: ``n_samples / (n_classes * count)``, counts being
        sums of sample weights.
    beta : float, default=0.999
        Parameter of ``alpha="effective"``: ``(1 - beta) / (1 - beta**count)``.
{_TRAINING_PARAMETERS_DOC}
{_ATTRIBUTES_DOC}
    See Also
    --------
    FocalClassifier : Adds the focusing factor ``(1 - p_t) ** gamma``.

    Notes
    -----
{_DEFAULTS_NOTE}
    Examples
    --------
    >>> import numpy as np
    >>> from skfocal import BalancedCEClassifier
    >>> X = np.r_[np.zeros((90, 2)), np.ones((10, 2))]
    >>> y = np.array(["common"] * 90 + ["rare"] * 10)
    >>> clf = BalancedCEClassifier(random_state=0).fit(X, y)
    >>> clf.class_weight_
    array([0.55555556, 5.        ])
    >>> clf.predict([[1.0, 1.0]])
    array(['rare'], dtype='<U6')
"""


class GHMClassifier(_BaseImbalancedMLP):
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
        self.bins = bins
        self.momentum = momentum
        self.alpha = alpha
        self.beta = beta
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.n_threads = n_threads
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.callbacks = callbacks

    _parameter_constraints: typing.ClassVar[dict] = {
        **_BaseImbalancedMLP._parameter_constraints,
        "bins": [Interval(Integral, 1, None, closed="left")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "alpha": _ALPHA_CONSTRAINT,
        "beta": [Interval(Real, 0, 1, closed="left")],
    }

    def _loss_name(self) -> str:
        return "ghm"


GHMClassifier.__doc__ = f"""MLP classifier trained with the GHM-C loss (Li et al. 2019).

    Each sample's cross-entropy is weighted by the inverse density of its
    gradient norm ``g`` (``|p - y|`` binary, ``1 - p_t`` multi-class) in a
    histogram of ``bins`` equal bins: the many easy samples, and a few
    extreme outliers, are down-weighted together. Bin counts are a
    bias-corrected moving average over batches (``momentum``).

    Parameters
    ----------
    bins : int, default=10
        Number of equal gradient-norm bins on [0, 1].
    momentum : float, default=0.75
        Moving-average factor of the bin counts, in [0, 1); 0 uses each
        batch's own histogram.
    alpha : None, float, array-like, dict, "balanced" or "effective", default=None
        Class weights on top of the density weights.
    beta : float, default=0.999
        Parameter of ``alpha="effective"``.
{_TRAINING_PARAMETERS_DOC}
{_ATTRIBUTES_DOC}
    See Also
    --------
    skfocal.losses.GHMCLoss : The loss module.

    Notes
    -----
{_DEFAULTS_NOTE}
    References
    ----------
    .. [1] B. Li, Y. Liu and X. Wang, "Gradient Harmonized Single-stage
       Detector", AAAI 2019.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skfocal import GHMClassifier
    >>> X, y = make_classification(n_samples=300, weights=[0.9], random_state=0)
    >>> clf = GHMClassifier(bins=10, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:1]).sum()
    np.float64(1.0)
"""
