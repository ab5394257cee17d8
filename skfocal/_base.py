"""The machinery every skfocal estimator shares.

:class:`BaseImbalancedMLP` validates the data, encodes the labels, asks the
subclass for its :class:`~skfocal._loss_specs.LossSpec`, resolves the class
weights, builds the network in one place (:meth:`~BaseImbalancedMLP.
_build_module`) and trains it through :mod:`skfocal._net`, the only module
that knows skorch. Prediction runs in chunks (:mod:`skfocal._inference`).
"""

from __future__ import annotations

import copy
import threading
import typing
import warnings
from numbers import Integral, Number, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from skfocal._checks import (
    checked_sample_weight,
    column_or_1d_target,
    hidden_layer_sizes,
    resolve_device,
    validate_features,
)
from skfocal._data import SparseRows, TabularDataset, shared_tensor
from skfocal._decision import METRICS
from skfocal._fit_backbone import (
    BACKBONE_CONSTRAINTS,
    backbone_module,
    fit_input_statistics,
    uses_backbone,
)
from skfocal._fitted_decision import (
    CALIBRATIONS,
    DRW_BETA,
    ValidationScores,
    check_decision_parameters,
    class_totals,
    fit_logit_transform,
    fit_threshold_rule,
    prior_from_totals,
)
from skfocal._inference import LogitTransform, host_features, predict_chunks
from skfocal._loss_specs import LossSpec, get_loss_spec, resolve_class_weight
from skfocal._module import ACTIVATIONS, torch_threads
from skfocal._net import (
    check_callbacks,
    forget_validation_data,
    make_net,
    training_callbacks,
    update_net,
    validation_diagnostics,
)
from skfocal.losses import class_weights

__all__ = ["ALPHA_CONSTRAINT", "BaseImbalancedMLP"]

ALPHA_CONSTRAINT = [
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
_SEEDED_FIT_LOCK = threading.RLock()


class BaseImbalancedMLP(ClassifierMixin, BaseEstimator):
    """Shared machinery; subclasses declare their parameters and loss spec.

    A subclass's ``__init__`` lists its parameters (scikit-learn reads them
    from the signature) and forwards them here; :meth:`_get_loss_spec`
    names its loss.
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        **BACKBONE_CONSTRAINTS,
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
        "threshold": [
            None,
            Interval(Real, 0, 1, closed="neither"),
            StrOptions({"prior", "auto"}),
        ],
        "threshold_metric": [StrOptions(set(METRICS))],
        "calibration": [None, StrOptions({*CALIBRATIONS, "auto"})],
        "alpha": ALPHA_CONSTRAINT,
        "beta": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(self, **params) -> None:
        # Only stores: scikit-learn validates parameters when fit runs.
        for name, value in params.items():
            setattr(self, name, value)

    # ------------------------------------------------------------------
    # What subclasses define
    # ------------------------------------------------------------------
    def _get_loss_spec(self) -> LossSpec:
        raise NotImplementedError

    def _checked_loss_spec(self, name: str) -> LossSpec:
        """The spec of loss ``name``, after checks that depend on ``y``.

        Called once ``classes_`` is known and before any training, so that a
        parameter the data cannot use fails before the epochs are spent.
        """
        spec = get_loss_spec(name)
        if hasattr(self, "classes_"):
            owner, n_classes = type(self).__name__, len(self.classes_)
            spec.check_parameters(self.get_params(deep=False), n_classes, owner)
            check_decision_parameters(
                self.threshold,
                self.threshold_metric,
                self._calibration(spec),
                n_classes,
                owner,
            )
        return spec

    def _build_module(self, n_features: int, n_classes: int) -> tuple[type, dict]:
        """The network class and its keyword arguments, from the parameters.

        The one place where estimator parameters become the network
        (:func:`skfocal._fit_backbone.backbone_module`); what it learns from
        the training rows is added in ``fit``. The module returns logits of
        shape ``(N,)`` (binary) or ``(N, C)``, or, with an attribute
        ``n_members = k > 1``, ``(N, k)`` or ``(N, k, C)``
        (:mod:`skfocal._ensemble`).
        """
        architecture = {
            "n_features": n_features,
            "n_outputs": 1 if n_classes == 2 else n_classes,
            "hidden_layer_sizes": hidden_layer_sizes(self.hidden_layer_sizes),
            "activation": self.activation,
            "dropout": self.dropout,
        }
        return backbone_module(self.get_params(deep=False), architecture)

    # ------------------------------------------------------------------
    # Loss and class weights
    # ------------------------------------------------------------------
    def _class_weight(
        self, spec: LossSpec, y_encoded: np.ndarray, sample_weight
    ) -> np.ndarray | None:
        if not spec.takes_alpha or getattr(self, "drw", False) is not False:
            # Deferred re-weighting starts unweighted (_deferred_reweighting).
            return None
        alpha = self.alpha if self.alpha is not None else spec.default_alpha
        return resolve_class_weight(
            alpha,
            classes=self.classes_,
            y_encoded=y_encoded,
            sample_weight=sample_weight,
            beta=self.beta,
            owner=type(self).__name__,
        )

    def _class_frequency_uses(
        self, spec: LossSpec, *, building_loss: bool
    ) -> list[str]:
        """The settings whose values this fit derives from class frequencies.

        The loss's own (string ``alpha``, class counts, class prior) when the
        loss is built; ``drw``'s late weights on every call, since
        :meth:`_deferred_reweighting` derives them from each call's rows.
        """
        alpha = getattr(self, "alpha", None)
        resolved = alpha if alpha is not None else spec.default_alpha
        uses = []
        if building_loss:
            if spec.takes_alpha and isinstance(resolved, str):
                uses.append(
                    f"alpha={resolved!r}"
                    if alpha is not None
                    else f"the class weights of loss {spec.name!r} ({resolved!r})"
                )
            if spec.class_counts:
                uses.append(f"loss {spec.name!r} (built from the class counts)")
            if spec.class_prior:
                uses.append(f"loss {spec.name!r} (built from the class prior)")
        if getattr(self, "drw", False) is not False and (
            resolved is None or isinstance(resolved, str)
        ):
            uses.append("drw (its late class weights come from the class counts)")
        return uses

    def _check_class_frequencies(
        self,
        spec: LossSpec,
        y_encoded,
        sample_weight,
        *,
        from_partial_fit: bool,
        building_loss: bool,
    ) -> None:
        """Refuse, by label, classes the loss would weigh from nothing."""
        uses = self._class_frequency_uses(spec, building_loss=building_loss)
        if not uses:
            return
        totals = class_totals(y_encoded, len(self.classes_), sample_weight)
        absent = self.classes_[totals <= 0].tolist()
        if not absent:
            return
        if from_partial_fit and building_loss:
            where = (
                "the partial_fit batch that builds the loss (the first call, "
                "or the first after a loss parameter changed)"
            )
            fix = "Pass a batch that holds every class"
        elif from_partial_fit:
            where = "every partial_fit batch"
            fix = "Pass batches that hold every class"
        else:
            where = "the training data"
            fix = "Give every class samples of positive weight"
        if spec.takes_alpha and not (
            building_loss and (spec.class_counts or spec.class_prior)
        ):
            fix += ", or give alpha explicit per-class weights"
        raise ValueError(
            f"{type(self).__name__}: {' and '.join(uses)} needs every class in "
            f"{where}, but the classes {absent!r} have no samples (or zero "
            f"total sample_weight) there. {fix}."
        )

    def _deferred_reweighting(
        self, spec: LossSpec, y_encoded, sample_weight
    ) -> tuple[int, list[float]] | None:
        """``(epoch, class weights)`` of the ``drw`` switch, or None.

        The late weights are those of ``alpha`` (or the loss's default);
        without either, the effective-number weights of Cao et al. (2019),
        ``beta=0.9999``.
        """
        drw = getattr(self, "drw", False)
        self._late_class_weight = None
        if drw is False:
            return None
        alpha = self.alpha if self.alpha is not None else spec.default_alpha
        if alpha is None:
            weights = class_weights(
                y_encoded,
                method="effective",
                beta=DRW_BETA,
                n_classes=len(self.classes_),
                sample_weight=sample_weight,
            ).numpy()
        else:
            weights = resolve_class_weight(
                alpha,
                classes=self.classes_,
                y_encoded=y_encoded,
                sample_weight=sample_weight,
                beta=self.beta,
                owner=type(self).__name__,
            )
        self._late_class_weight = weights
        fraction = 0.8 if drw is True else float(drw)
        return round(fraction * self.max_epochs), weights.tolist()

    def _weights_to_undo(self, weights: np.ndarray | None) -> np.ndarray | None:
        """The class weights the prior correction divides out, if it can."""
        if self._calibration() is None:
            return None
        if weights is None or np.all(weights > 0):
            return weights
        warnings.warn(
            f"calibration={self._calibration()!r} of {type(self).__name__} divides "
            f"the probabilities by the class weights, but the weights "
            f"{weights.tolist()!r} include 0 (a class the loss ignored): they "
            "are left in the probabilities. Give every class a positive weight "
            "or set calibration=None.",
            UserWarning,
            stacklevel=4,
        )
        return None

    def _criterion(self, spec: LossSpec, class_weight, y_encoded, sample_weight):
        kwargs = spec.criterion_kwargs(
            self.get_params(deep=False),
            class_weight,
            y_encoded,
            len(self.classes_),
            sample_weight,
        )
        return spec.make_criterion(**kwargs)

    def _loss_state(self, spec: LossSpec) -> tuple:
        """What the criterion was built from; a change rebuilds it."""
        params = self.get_params(deep=False)
        names = (*spec.params, "alpha", "beta", "drw")
        return spec.name, copy.deepcopy(
            {name: params[name] for name in names if name in params}
        )

    # ------------------------------------------------------------------
    # Data
    # ------------------------------------------------------------------
    def _use_early_stopping(self, n_samples: int) -> bool:
        if self.early_stopping == "auto":
            return n_samples >= _AUTO_EARLY_STOPPING_MIN_SAMPLES
        return bool(self.early_stopping)

    def _prepare_fit(self, X, y, sample_weight, *, reset, classes, from_partial_fit):
        first_call = reset or not hasattr(self, "classes_")
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y "
                "is None."
            )
        X = validate_features(self, X, reset=first_call, training=True)
        y = np.asarray(y) if not hasattr(y, "iloc") else y
        y = column_or_1d_target(y)
        check_classification_targets(y)
        if first_call:
            encoder = LabelEncoder()
            encoder.fit(y if classes is None else np.asarray(classes))
            if len(encoder.classes_) < 2:
                hint = (
                    " Pass every class with classes=[...] on the first call of "
                    "partial_fit when a batch may hold only some of them."
                    if from_partial_fit
                    else ""
                )
                raise ValueError(
                    f"{type(self).__name__} needs samples of at least 2 classes "
                    "in the data, but the data contains only one class: "
                    f"{encoder.classes_.tolist()[0]!r}.{hint}"
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
            sample_weight = checked_sample_weight(sample_weight, X)
        return X, y_encoded, sample_weight

    def _to_dataset(self, X, y_encoded, sample_weight, device) -> TabularDataset:
        binary = len(self.classes_) == 2
        if sp.issparse(X):
            features = SparseRows.from_scipy(X, device)
        else:
            features = shared_tensor(X).to(device)
        target = torch.from_numpy(y_encoded)
        target = target.to(torch.float32) if binary else target
        weights = None
        if sample_weight is not None:
            weights = torch.from_numpy(sample_weight.astype(np.float32)).to(device)
        return TabularDataset(features, target.to(device), weights)

    def _warn_without_validation_split(self, early_stopping: bool, problem: str):
        """Say why ``fit`` trains on every row without early stopping.

        Without early stopping the split was for a tuned threshold or a
        temperature, whose own fallback warns.
        """
        if early_stopping:
            warnings.warn(
                f"{problem}; {type(self).__name__} trains on every row without "
                "early stopping (early_stopping='auto'). Set validation_fraction "
                "to hold out every class, or early_stopping=False to silence this.",
                UserWarning,
                stacklevel=7,  # fit's caller (fit is wrapped by _fit_context)
            )

    def _train_valid_split(self, dataset, y_encoded, seed, *, early_stopping):
        indices = np.arange(len(y_encoded))
        try:
            train_index, valid_index = train_test_split(
                indices,
                test_size=self.validation_fraction,
                stratify=y_encoded,
                random_state=seed,
            )
        except ValueError as exc:
            if self.early_stopping is True:
                raise ValueError(
                    "early_stopping needs a stratified validation split of "
                    f"validation_fraction={self.validation_fraction} with at "
                    f"least one sample of every class; it failed: {exc}. Lower "
                    "the fraction's demands (more data per class) or set "
                    "early_stopping=False."
                ) from exc
            self._warn_without_validation_split(
                early_stopping,
                f"no stratified validation split of validation_fraction="
                f"{self.validation_fraction} holds every class ({exc})",
            )
            return dataset, None
        train_index, valid_index = np.sort(train_index), np.sort(valid_index)
        n_classes = len(self.classes_)
        counts = np.bincount(y_encoded, minlength=n_classes)
        in_valid = np.bincount(y_encoded[valid_index], minlength=n_classes)
        lacking = (in_valid == 0) | (in_valid == counts)
        if lacking.any():
            # A stratified split rounds a rare class's share of the validation
            # rows, possibly to none (4 positives, 10%): validation average
            # precision is then undefined and early stopping stops blind.
            problem = (
                f"validation_fraction={self.validation_fraction} leaves the "
                f"classes {self.classes_[lacking].tolist()!r} (with "
                f"{counts[lacking].tolist()!r} samples in all) out of the "
                "validation or the training split"
            )
            if self.early_stopping is True:
                raise ValueError(
                    "early_stopping=True needs every class in both the training "
                    f"and the validation split, but {problem}: change "
                    "validation_fraction or set early_stopping=False."
                )
            self._warn_without_validation_split(early_stopping, problem)
            return dataset, None
        return (
            dataset.subset(torch.from_numpy(train_index)),
            dataset.subset(torch.from_numpy(valid_index)),
        )

    def _first_batch_scale(self, scale: np.ndarray) -> np.ndarray:
        """Input scales fitted on partial_fit's first batch, zeros made 1.

        ``robust_smooth_clip`` multiplies a constant column by 0, which is
        right for ``fit`` (the column is constant in all the training data)
        but would silence for good a feature that is only constant in the
        first of many batches: such columns keep the scale 1, with a
        warning.
        """
        constant = np.flatnonzero(scale == 0)
        if constant.size == 0:
            return scale
        warnings.warn(
            f"{type(self).__name__}.partial_fit fits the input transform "
            f"(input_transform={self.input_transform!r}) on its first batch, in "
            f"which the features {constant.tolist()!r} are constant; they are "
            "kept at scale 1 instead of being multiplied by 0. Pass a first "
            "batch that represents the data, or input_transform='none'.",
            UserWarning,
            stacklevel=6,  # partial_fit's caller (it is wrapped by _fit_context)
        )
        return np.where(scale == 0, 1.0, scale)

    def _seed(self) -> int:
        return int(check_random_state(self.random_state).randint(0, 2**31 - 1))

    # ------------------------------------------------------------------
    # Fitting
    # ------------------------------------------------------------------
    def _fit(self, X, y, sample_weight, *, continue_training, epochs, classes):
        check_callbacks(self.callbacks, type(self).__name__)
        # A fresh fit that fails part-way (a parameter that does not suit the
        # new labels, a diverging loss) would otherwise leave the new classes
        # beside the previous network and decision rule, and predict would
        # fail deep in torch or answer for the wrong classes: it restores the
        # estimator as it was. (Continued training changes the network in
        # place; it cannot be undone without a copy of every weight.) The old
        # network stays referenced until the new fit succeeds: a refit of the
        # same instance holds both in memory, as a fresh clone would not.
        before = None if continue_training else dict(vars(self))
        with torch_threads(self.n_threads):
            try:
                return self._fit_with_threads_set(
                    X,
                    y,
                    sample_weight,
                    continue_training=continue_training,
                    epochs=epochs,
                    classes=classes,
                )
            except Exception:
                if before is not None:
                    vars(self).clear()
                    vars(self).update(before)
                raise

    def _fit_with_threads_set(
        self, X, y, sample_weight, *, continue_training, epochs, classes
    ):
        X, y_encoded, sample_weight = self._prepare_fit(
            X,
            y,
            sample_weight,
            reset=not continue_training,
            classes=classes,
            from_partial_fit=epochs is not None,
        )
        name = type(self).__name__
        device = (
            str(self.net_.device)
            if continue_training
            else resolve_device(self.device, name)
        )
        seed = self._seed()
        if continue_training:
            # Continue from a different point in the RNG stream each call.
            seed = (seed + len(self.net_.history)) % (2**31 - 1)
        spec = self._get_loss_spec()
        loss_state = self._loss_state(spec)
        building_loss = not continue_training or not _same(
            loss_state, self._fitted_loss_state
        )
        # Before anything derives class weights, counts or the prior.
        self._check_class_frequencies(
            spec,
            y_encoded,
            sample_weight,
            from_partial_fit=epochs is not None,
            building_loss=building_loss,
        )
        n_classes = len(self.classes_)
        module, module_params = self._build_module(X.shape[1], n_classes)
        dataset = self._to_dataset(X, y_encoded, sample_weight, device)
        early_stopping = epochs is None and self._use_early_stopping(X.shape[0])
        if epochs is None and (
            early_stopping or self._needs_validation_split(y_encoded)
        ):
            train_data, valid_data = self._train_valid_split(
                dataset, y_encoded, seed, early_stopping=early_stopping
            )
            early_stopping = early_stopping and valid_data is not None
        else:
            train_data, valid_data = dataset, None
        # Input statistics and bins come from the training rows only.
        fitted_inputs = (
            {}
            if continue_training
            else fit_input_statistics(
                module_params, train_data.features, seed, train_data.sample_weight
            )
        )
        if epochs is not None and "input_scale" in fitted_inputs:
            fitted_inputs["input_scale"] = self._first_batch_scale(
                fitted_inputs["input_scale"]
            )
        callbacks = training_callbacks(
            # Copies, so that fitting never mutates the estimator's parameters.
            copy.deepcopy(self.callbacks or []),
            patience=self.n_iter_no_change if early_stopping else None,
            verbose=self.verbose,
            binary=n_classes == 2,
            has_validation=valid_data is not None,
            drw=self._deferred_reweighting(spec, y_encoded, sample_weight),
            lr_schedule=self.lr_schedule,
            max_epochs=self.max_epochs,
            validation_metric=self.validation_metric,
        )
        training = {
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "batch_size": self.batch_size,
            "max_epochs": self.max_epochs,
            "seed": seed,
            "verbose": self.verbose,
            "callbacks": callbacks,
            "validation_data": valid_data,
        }
        # torch's generator is process-wide: two fits seeding it from two
        # threads (joblib's threading backend) would interleave their draws.
        # The lock makes each seeded fit atomic, so results stay reproducible.
        with _SEEDED_FIT_LOCK, torch.random.fork_rng(devices=_rng_devices(device)):
            torch.manual_seed(seed)
            if continue_training:
                self._check_same_network(module, module_params)
                criterion, class_weight = None, None
                if building_loss:
                    class_weight = self._class_weight(spec, y_encoded, sample_weight)
                    criterion = self._criterion(
                        spec, class_weight, y_encoded, sample_weight
                    )
                    self._set_class_weight(class_weight)
                    self._fitted_loss_state = loss_state
                update_net(
                    self.net_,
                    criterion=criterion,
                    validation_class_weight=self._validation_weight(class_weight),
                    validation_logit_scale=spec.member_scale(
                        self.get_params(deep=False)
                    ),
                    **training,
                )
            else:
                class_weight = self._class_weight(spec, y_encoded, sample_weight)
                self.net_ = make_net(
                    module=module,
                    module_params={**module_params, **fitted_inputs},
                    decay_exempt=uses_backbone(self.get_params(deep=False)),
                    criterion=self._criterion(
                        spec, class_weight, y_encoded, sample_weight
                    ),
                    validation_class_weight=self._validation_weight(class_weight),
                    validation_logit_scale=spec.member_scale(
                        self.get_params(deep=False)
                    ),
                    n_classes=n_classes,
                    device=device,
                    **training,
                )
                self.net_.initialize()
                self._set_class_weight(class_weight)
                self._fitted_loss_state = loss_state
                self._fitted_module = (module, module_params)
            requested = epochs or self.max_epochs
            try:
                outcome = self.net_.train_epochs(train_data, requested)
            finally:
                forget_validation_data(self.net_)
        self._training_outcome = outcome
        self._fit_after_training(
            valid_data,
            y_encoded=y_encoded,
            sample_weight=sample_weight,
            from_partial_fit=epochs is not None,
        )
        # Completed epochs: an interrupt can leave a last row without a loss.
        self.loss_curve_ = [
            row["train_loss"] for row in self.net_.history if "train_loss" in row
        ]
        self.n_iter_ = len(self.loss_curve_)
        (
            self.validation_scores_,
            self.best_epoch_,
            self.best_validation_score_,
        ) = validation_diagnostics(self.net_, self.validation_metric)
        if outcome.interrupted:
            # Raised after the bookkeeping above, so that the epochs already
            # trained are kept as a consistent, usable estimator.
            raise KeyboardInterrupt(
                f"Training was interrupted after {outcome.epochs_run} of "
                f"{requested} epochs; the estimator keeps what was trained."
            )
        return self

    def _needs_validation_split(self, y_encoded: np.ndarray) -> bool:
        """Whether ``fit`` holds out validation rows without early stopping.

        What is fitted on held-out rows after training (a tuned threshold, a
        temperature) needs them even when early stopping is off, if the
        labels allow a stratified split with every class on both sides
        (otherwise :meth:`_fit_after_training` falls back, with a warning).
        """
        if not self._wants_validation_split():
            return False
        counts = np.bincount(y_encoded)
        n_valid = int(np.ceil(self.validation_fraction * len(y_encoded)))
        n_classes = len(counts)
        return (
            counts.min() >= 2
            and n_valid >= n_classes
            and len(y_encoded) - n_valid >= n_classes
        )

    def _wants_validation_split(self) -> bool:
        return self.threshold == "auto" or self._calibration() == "temperature"

    def _calibration(self, spec: LossSpec | None = None) -> str | None:
        """``calibration``, with ``"auto"`` resolved for the loss ``spec``."""
        if self.calibration != "auto":
            return self.calibration
        spec = self._get_loss_spec() if spec is None else spec
        return spec.auto_calibration(self.get_params(deep=False))

    def _fit_after_training(
        self,
        validation_data: TabularDataset | None,
        *,
        y_encoded: np.ndarray,
        sample_weight: np.ndarray | None,
        from_partial_fit: bool,
    ) -> None:
        """Fit the calibration and the decision rule after training.

        ``validation_data`` is ``None`` when ``fit`` held out no rows (and
        always for ``partial_fit``). ``class_prior_`` counts the rows of this
        ``fit`` (validation rows included), or of every ``partial_fit`` call
        so far; ``class_weight_`` becomes the weights the loss ended with
        (those of the ``drw`` switch once it happened).
        """
        spec, params = self._get_loss_spec(), self.get_params(deep=False)
        owner, n_classes = type(self).__name__, len(self.classes_)
        totals = class_totals(y_encoded, n_classes, sample_weight)
        if from_partial_fit and hasattr(self, "_class_totals"):
            totals = totals + self._class_totals
        self._class_totals = totals
        self.class_prior_ = totals / totals.sum()
        prior = prior_from_totals(totals)
        criterion = self.net_.criterion_
        weight = getattr(criterion, "class_weight", None)
        if weight is not None:
            # The loss holds float32 weights; report the float64 ones they are.
            weight = weight.detach().cpu().double().numpy()
            for exact in (
                self.class_weight_,
                getattr(self, "_late_class_weight", None),
            ):
                if exact is not None and np.allclose(exact, weight, rtol=1e-6):
                    weight = np.asarray(exact, dtype=np.float64)
                    break
        self._set_class_weight(weight)
        member_scale = spec.member_scale(params)
        validation = None
        if validation_data is not None and self._wants_validation_split():
            logits = self._predict_rows(
                host_features(validation_data.features),
                "decision",
                LogitTransform(member_scale=member_scale),
            )
            target = validation_data.target.cpu().numpy().astype(np.int64)
            weights = validation_data.sample_weight
            weights = None if weights is None else weights.cpu().double().numpy()
            validation = ValidationScores(logits, target, weights)
        # The logit-adjusted loss's own prior, so that its correction is exact.
        loss_prior = getattr(criterion, "class_prior", prior)
        self.calibration_ = self._calibration()
        self._logit_transform = fit_logit_transform(
            self.calibration_,
            member_scale=member_scale,
            log_class_weight=spec.log_class_weight(
                params, self._weights_to_undo(weight), loss_prior
            ),
            validation=validation,
            owner=owner,
            focal_gamma=spec.posterior_gamma(params),
        )
        self.temperature_ = self._logit_transform.temperature
        self.threshold_ = fit_threshold_rule(
            self.threshold,
            self.threshold_metric,
            n_classes=n_classes,
            class_prior=prior,
            transform=self._logit_transform,
            validation=validation,
            owner=owner,
        )

    def _set_class_weight(self, class_weight) -> None:
        self.class_weight_ = (
            np.ones(len(self.classes_))
            if class_weight is None
            else np.asarray(class_weight, dtype=np.float64)
        )

    @staticmethod
    def _validation_weight(class_weight) -> tuple[float, ...] | None:
        if class_weight is None:
            return None
        return tuple(float(w) for w in class_weight)

    def _check_same_network(self, module, module_params) -> None:
        fitted_module, fitted_params = self._fitted_module
        changed = [
            # The network's name for ensemble_size is TabM's k.
            "ensemble_size" if name == "k" else name
            for name in sorted(set(module_params) | set(fitted_params))
            if not _same(module_params.get(name), fitted_params.get(name))
        ]
        if module is not fitted_module or changed:
            raise ValueError(
                f"{type(self).__name__} was fitted with a network that warm "
                f"starts and partial_fit continue, but its parameters changed "
                f"({', '.join(changed) or 'module'}). Set warm_start=False (or "
                "call fit without warm_start) to train a new network."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Numeric training data (float64 is accepted; the network computes
            in float32). Sparse CSR/CSC input stays sparse.
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
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
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

        Notes
        -----
        The first call fixes what ``fit`` learns from all its rows: the
        input transform's statistics, which features are embedded and their
        bins, and class weights, counts or priors that the loss derives from
        the data (those need every class in that batch). Pass a first batch
        that represents the data. Each call is one epoch of a constant
        learning rate: ``lr_schedule`` and early stopping apply to ``fit``.
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
    def _predict(self, X, output: str) -> np.ndarray:
        check_is_fitted(self, "net_")
        X = validate_features(self, X, reset=False, training=False)
        return self._predict_rows(X, output, self._logit_transform)

    def _predict_rows(self, X, output: str, transform: LogitTransform) -> np.ndarray:
        with torch_threads(self.n_threads):
            return predict_chunks(
                self.net_.module_,
                X,
                device=torch.device(self.net_.device),
                n_classes=len(self.classes_),
                output=output,
                transform=transform,
            )

    def decision_function(self, X) -> np.ndarray:
        """Decision scores: the calibrated logits of :meth:`predict_proba`.

        The network's logits, times the loss's output scale (LDAM's
        ``scale``), then divided by ``temperature_`` and shifted by the prior
        correction when ``calibration`` asks for it; the sigmoid or softmax
        of these scores is :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            For binary problems the logit of ``classes_[1]``. For a network
            of several members, the logit (binary) or log (multi-class) of
            the members' averaged probabilities, before calibration.
        """
        return self._predict(X, "decision")

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, calibrated as ``calibration`` says.

        The sigmoid or softmax of :meth:`decision_function`: with
        ``calibration="prior"`` (the default) the posterior of the training
        data, the class weights divided out.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``; rows sum to 1.
        """
        return self._predict(X, "proba")

    def predict_log_proba(self, X) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, computed stably.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities, columns in the order of ``classes_``.
        """
        return self._predict(X, "log_proba")

    def predict(self, X) -> np.ndarray:
        """Predicted class labels: ``threshold_`` applied to :meth:`predict_proba`.

        With ``threshold=None`` the most probable class (ties to the first of
        ``classes_``); otherwise the fitted rule, so that ``predict`` always
        agrees with :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Labels from ``classes_``.
        """
        proba = self._predict(X, "proba")
        return self.classes_[self.threshold_.predict(proba)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = True
        return tags


def _same(a, b) -> bool:
    """Equality of parameter values that may be arrays, lists or dicts."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(a[key], b[key]) for key in a)
        )
    if isinstance(a, (list, tuple, np.ndarray)) or isinstance(
        b, (list, tuple, np.ndarray)
    ):
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        return a.shape == b.shape and all(
            _same(x, y) for x, y in zip(a.ravel(), b.ravel(), strict=True)
        )
    switches = (bool, np.bool_)
    if isinstance(a, switches) or isinstance(b, switches):
        return isinstance(a, switches) and isinstance(b, switches) and a == b
    if isinstance(a, Number) and isinstance(b, Number):
        # 0 and 0.0 (or numpy's 0.0) are one setting.
        return bool(a == b)
    return type(a) is type(b) and a == b


def _rng_devices(device: str) -> list[int]:
    resolved = torch.device(device)
    if resolved.type == "cuda":
        return [resolved.index or 0]
    return []
