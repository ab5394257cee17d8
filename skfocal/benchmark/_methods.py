"""The methods zoo: every method is an imbalanced-learn pipeline.

Each method is ``preprocessor -> [sampler] -> classifier``, built unfitted so
that cross-validation fits the preprocessing (imputation, one-hot encoding,
scaling) and the resampling inside each training fold, never on test rows.
All MLP methods share one architecture and training budget, so that a
comparison measures the imbalance strategy, not the network. The tree
references (LightGBM, XGBoost) get their own preprocessor instead: no scaling,
no imputation, categorical columns as native categories
(:mod:`skfocal.benchmark._trees`).
"""

from __future__ import annotations

import ast
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd
from imblearn.combine import SMOTETomek
from imblearn.ensemble import BalancedRandomForestClassifier, EasyEnsembleClassifier
from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from skfocal._text import split_top_level
from skfocal.benchmark._metrics import average_precision
from skfocal.benchmark._trees import TreePreprocessor, catboost, lightgbm, xgboost
from skfocal.classifier import ImbalancedMLPClassifier
from skfocal.datasets import make_preprocessor

__all__ = [
    "DEFAULT_METHODS",
    "METHODS",
    "OPTIONAL_METHODS",
    "QUICK_METHODS",
    "ClampedNeighborsSampler",
    "MethodSpec",
    "make_method",
    "parse_method",
]

# The one architecture and training budget of every MLP method. The backbone
# switches are the estimators' defaults, written out so that config.json
# records them and a directory computed with another backbone is not resumed
# (a test checks they are still the defaults).
MLP_DEFAULTS: dict[str, typing.Any] = {
    "hidden_layer_sizes": (64, 64),
    "input_transform": "robust_smooth_clip",
    "embedding": "periodic",
    "feature_scaling": False,
    "ensemble_size": 1,
    "lr_schedule": "constant",
    "validation_metric": "average_precision",
    "lr": 1e-3,
    "batch_size": 256,
    # CPU keeps runs bit-identical and lets parallel workers share no device.
    "device": "cpu",
}

# Early stopping is decided from the training fold *before* resampling (the
# estimators' own "auto" rule, 10,000 rows), so that every method of a dataset
# trains under the same rule: "auto" inside the pipeline would see the
# resampled rows and switch on for over-samplers and off for under-samplers.
EARLY_STOPPING_MIN_ROWS = 10_000

# Inner folds of --tune; 3 keeps the nested search affordable.
_INNER_FOLDS = 3

_NEIGHBOR_SAMPLERS = ("smote", "adasyn", "borderline_smote", "smote_tomek")


class ClampedNeighborsSampler(BaseEstimator):
    """A neighbour-based over-sampler whose ``k_neighbors`` fits any fold.

    SMOTE-like samplers fail when a minority class of the training fold has
    ``k_neighbors`` rows or fewer. This wrapper builds the imbalanced-learn
    sampler at ``fit_resample`` time with ``k_neighbors`` clamped to
    ``(smallest over-sampled class size) - 1`` and records what it used. When
    ADASYN finds nothing to generate (every minority row is surrounded by its
    own class, or the classes are already balanced), it returns the training
    data unchanged instead of raising, and says so in ``note_``.

    Parameters
    ----------
    kind : {"smote", "adasyn", "borderline_smote", "smote_tomek"}, \
default="smote"
        The imbalanced-learn sampler: :class:`~imblearn.over_sampling.SMOTE`,
        :class:`~imblearn.over_sampling.ADASYN` (its ``n_neighbors``),
        :class:`~imblearn.over_sampling.BorderlineSMOTE` or
        :class:`~imblearn.combine.SMOTETomek`.
    k_neighbors : int, default=5
        Requested number of nearest neighbours.
    random_state : int or None, default=None
        Seed of the sampler.

    Attributes
    ----------
    sampler_ : object
        The fitted imbalanced-learn sampler (``None`` after an ADASYN
        fallback).
    k_neighbors_ : int
        The number of neighbours actually used.
    note_ : str
        Empty, or what was changed: clamping, ADASYN fallback.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark import ClampedNeighborsSampler
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(23, 2)), np.array([0] * 20 + [1] * 3)
    >>> sampler = ClampedNeighborsSampler("smote", k_neighbors=5, random_state=0)
    >>> X_res, y_res = sampler.fit_resample(X, y)
    >>> np.bincount(y_res).tolist(), sampler.k_neighbors_
    ([20, 20], 2)
    >>> sampler.note_
    'smote k_neighbors clamped from 5 to 2'
    """

    _parameter_constraints: typing.ClassVar[dict] = {
        "kind": [StrOptions(set(_NEIGHBOR_SAMPLERS))],
        "k_neighbors": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self, kind: str = "smote", k_neighbors: int = 5, random_state=None
    ) -> None:
        self.kind = kind
        self.k_neighbors = k_neighbors
        self.random_state = random_state

    def _build(self, k_neighbors: int):
        seed = self.random_state
        if self.kind == "smote":
            return SMOTE(k_neighbors=k_neighbors, random_state=seed)
        if self.kind == "adasyn":
            return ADASYN(n_neighbors=k_neighbors, random_state=seed)
        if self.kind == "borderline_smote":
            return BorderlineSMOTE(k_neighbors=k_neighbors, random_state=seed)
        return SMOTETomek(
            smote=SMOTE(k_neighbors=k_neighbors, random_state=seed),
            random_state=seed,
        )

    def fit_resample(self, X, y):
        """Resample ``X, y`` with a ``k_neighbors`` that this data allows.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        X_resampled, y_resampled : ndarray
        """
        self._validate_params()
        y_array = np.asarray(y)
        _, counts = np.unique(y_array, return_counts=True)
        # sampling_strategy="auto" over-samples every class but the majority.
        smallest = int(np.sort(counts)[0]) if len(counts) > 1 else int(counts[0])
        k_neighbors = min(self.k_neighbors, smallest - 1)
        if k_neighbors < 1:
            raise ValueError(
                f"{self.kind} needs at least 2 rows of each minority class in a "
                f"training fold; the smallest class has {smallest}."
            )
        notes = []
        if k_neighbors != self.k_neighbors:
            notes.append(
                f"{self.kind} k_neighbors clamped from {self.k_neighbors} to "
                f"{k_neighbors}"
            )
        self.k_neighbors_ = k_neighbors
        self.sampler_ = self._build(k_neighbors)
        try:
            X_res, y_res = self.sampler_.fit_resample(X, y_array)
        except (RuntimeError, ValueError) as exc:
            # ADASYN raises when its neighbour ratios are all zero or round to
            # no new sample; over-sampling nothing is then the faithful answer.
            message = str(exc)
            if self.kind != "adasyn" or not (
                "No samples will be generated" in message
                or "Not any neigbours" in message
                or "Not any neighbours" in message
            ):
                raise
            notes.append("adasyn generated no samples; original training data used")
            self.sampler_ = None
            X_res, y_res = np.asarray(X), y_array
        self.note_ = "; ".join(notes)
        return X_res, y_res


@dataclass(frozen=True)
class MethodSpec:
    """How to build one method of the zoo.

    Attributes
    ----------
    description : str
        One line for the report.
    family : {"loss", "resampling", "reference"}
        Imbalance loss on an MLP, resampling before a plain-CE MLP, or a
        non-neural reference.
    build : callable
        ``build(random_state, mlp_params) -> (sampler or None, classifier)``.
    grid : dict
        The ``--tune`` grid, keys relative to the pipeline (``"classifier__"``,
        ``"sampler__"``); empty if the method is not tuned.
    preprocessor : callable
        ``preprocessor(X) -> transformer``, unfitted, built from the feature
        frame's columns: :func:`skfocal.datasets.make_preprocessor` (impute,
        scale, one-hot) by default; trees use
        :class:`~skfocal.benchmark._trees.TreePreprocessor` (missing values
        and categories handled by the booster).
    """

    description: str
    family: str
    build: Callable[[int, dict], tuple[typing.Any, typing.Any]]
    grid: dict[str, list] = field(default_factory=dict)
    preprocessor: Callable[[pd.DataFrame], typing.Any] = make_preprocessor


def _mlp(loss: str, **params) -> Callable[[int, dict], tuple[None, typing.Any]]:
    def build(random_state: int, mlp_params: dict):
        return None, ImbalancedMLPClassifier(
            loss=loss, random_state=random_state, **params, **mlp_params
        )

    return build


def _resampled(make_sampler: Callable[[int], typing.Any]) -> Callable:
    def build(random_state: int, mlp_params: dict):
        classifier = ImbalancedMLPClassifier(
            loss="ce", random_state=random_state, **mlp_params
        )
        return make_sampler(random_state), classifier

    return build


def _reference(make_classifier: Callable[[int], typing.Any]) -> Callable:
    def build(random_state: int, mlp_params: dict):
        return None, make_classifier(random_state)

    return build


def _tree_preprocessor(X: pd.DataFrame) -> TreePreprocessor:
    return TreePreprocessor()


def _clamped(kind: str) -> Callable[[int], ClampedNeighborsSampler]:
    def make(random_state: int) -> ClampedNeighborsSampler:
        return ClampedNeighborsSampler(kind, k_neighbors=5, random_state=random_state)

    return make


#: Every method, by name. Register a :class:`MethodSpec` here to add one.
METHODS: dict[str, MethodSpec] = {
    "ce": MethodSpec("MLP, plain cross-entropy", "loss", _mlp("ce")),
    "balanced_ce": MethodSpec(
        "MLP, cross-entropy with 'balanced' class weights",
        "loss",
        _mlp("balanced_ce", alpha="balanced"),
        {"classifier__alpha": ["balanced", "effective"]},
    ),
    "focal": MethodSpec(
        "MLP, focal loss (gamma=2, no alpha: FocalClassifier's defaults)",
        "loss",
        _mlp("focal", gamma=2.0),
        {"classifier__gamma": [1.0, 2.0, 3.0], "classifier__alpha": [None, "balanced"]},
    ),
    "ghm": MethodSpec(
        "MLP, GHM-C loss (10 bins, momentum 0.75)",
        "loss",
        _mlp("ghm", bins=10, momentum=0.75),
        {"classifier__bins": [5, 10, 30]},
    ),
    "ros": MethodSpec(
        "random over-sampling + CE MLP",
        "resampling",
        _resampled(lambda seed: RandomOverSampler(random_state=seed)),
    ),
    "smote": MethodSpec(
        "SMOTE + CE MLP",
        "resampling",
        _resampled(_clamped("smote")),
        {"sampler__k_neighbors": [3, 5, 7]},
    ),
    "adasyn": MethodSpec(
        "ADASYN + CE MLP", "resampling", _resampled(_clamped("adasyn"))
    ),
    "borderline_smote": MethodSpec(
        "Borderline-SMOTE + CE MLP",
        "resampling",
        _resampled(_clamped("borderline_smote")),
    ),
    "rus": MethodSpec(
        "random under-sampling + CE MLP",
        "resampling",
        _resampled(lambda seed: RandomUnderSampler(random_state=seed)),
    ),
    "smote_tomek": MethodSpec(
        "SMOTE + Tomek links + CE MLP",
        "resampling",
        _resampled(_clamped("smote_tomek")),
    ),
    "logreg_balanced": MethodSpec(
        "logistic regression, balanced class weights",
        "reference",
        _reference(
            lambda seed: LogisticRegression(class_weight="balanced", max_iter=1000)
        ),
    ),
    "balanced_rf": MethodSpec(
        "balanced random forest (100 trees)",
        "reference",
        _reference(
            lambda seed: BalancedRandomForestClassifier(
                n_estimators=100,
                sampling_strategy="all",
                replacement=True,
                bootstrap=False,
                random_state=seed,
            )
        ),
    ),
    "easy_ensemble": MethodSpec(
        "easy ensemble (10 AdaBoost learners on balanced bags)",
        "reference",
        _reference(lambda seed: EasyEnsembleClassifier(random_state=seed)),
    ),
    "lightgbm": MethodSpec(
        "LightGBM (100 trees, class_weight='balanced', native categoricals)",
        "reference",
        _reference(lightgbm),
        preprocessor=_tree_preprocessor,
    ),
    "xgboost": MethodSpec(
        "XGBoost (100 trees, hist; scale_pos_weight = n_neg / n_pos for binary, "
        "balanced sample weights for multi-class; native categoricals)",
        "reference",
        _reference(xgboost),
        preprocessor=_tree_preprocessor,
    ),
    "catboost": MethodSpec(
        "CatBoost (its defaults: 1,000 rounds; auto_class_weights='Balanced', "
        "native categoricals)",
        "reference",
        _reference(catboost),
        preprocessor=_tree_preprocessor,
    ),
}

#: Methods that run only when ``--methods`` names them: their library is an
#: extra of its own (``skfocal[catboost]``), and the default list stays the
#: one the published runs used, so that they remain comparable.
OPTIONAL_METHODS: tuple[str, ...] = ("catboost",)

#: Methods of a run when ``--methods`` is not given: all but the optional ones.
DEFAULT_METHODS: tuple[str, ...] = tuple(
    name for name in METHODS if name not in OPTIONAL_METHODS
)

#: Methods of ``skfocal benchmark --suite quick`` when ``--methods`` is not
#: given: every loss, one random over-sampler, one synthetic over-sampler, one
#: under-sampler and the four references but the slow easy ensemble. It
#: leaves out the slowest methods
#: (``easy_ensemble`` alone costs a quarter of the full list) and the SMOTE
#: variants, which halves the run, so that the quick suite stays a few
#: minutes on 2 busy cores.
QUICK_METHODS: tuple[str, ...] = (
    "ce",
    "balanced_ce",
    "focal",
    "ghm",
    "ros",
    "smote",
    "rus",
    "logreg_balanced",
    "balanced_rf",
    "lightgbm",
    "xgboost",
)


def _tuning_scorer():
    # The built-in "average_precision" scorer needs pos_label and rejects
    # multi-class targets; ours is the same metric as the outer folds.
    return make_scorer(average_precision, response_method="predict_proba")


@validate_params(
    {
        "name": [str],
        "X": [pd.DataFrame],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "tune": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def _literal(text: str) -> typing.Any:
    """A variant's value: a Python literal if it reads as one, else a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_method(name: str) -> tuple[str, dict[str, typing.Any]]:
    """Split a method name into a method of :data:`METHODS` and overrides.

    A variant names estimator parameters of the method's classifier in
    brackets, ``focal[threshold=prior,calibration=temperature]``, so that a
    benchmark can compare settings of one method (an ablation) under the
    same folds. Values are Python literals (``0.5``, ``None``, ``(256, 256)``)
    or else strings.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS`, optionally followed by ``[param=value,...]``.

    Returns
    -------
    method : str
        The key of :data:`METHODS`.
    overrides : dict
        Parameter name to value, in the order given.

    Raises
    ------
    ValueError
        If the method is unknown or the brackets do not parse.

    Examples
    --------
    >>> from skfocal.benchmark._methods import parse_method
    >>> parse_method("focal[threshold=prior,hidden_layer_sizes=(256, 256)]")
    ('focal', {'threshold': 'prior', 'hidden_layer_sizes': (256, 256)})
    >>> parse_method("lightgbm")
    ('lightgbm', {})
    """
    base, bracket, rest = name.partition("[")
    base = base.strip()
    if base not in METHODS:
        raise ValueError(f"Unknown method {name!r}. Available: {', '.join(METHODS)}")
    if not bracket:
        return base, {}
    if not rest.endswith("]"):
        raise ValueError(
            f"Method variant {name!r} must end with ']', as in "
            f"'{base}[param=value,...]'."
        )
    overrides: dict[str, typing.Any] = {}
    for item in split_top_level(rest[:-1]):
        key, equals, value = item.partition("=")
        if not equals or not key.strip().isidentifier():
            raise ValueError(
                f"Method variant {name!r}: {item.strip()!r} is not 'param=value'."
            )
        overrides[key.strip()] = _literal(value.strip())
    return base, overrides


def _override(classifier, name: str, overrides: dict[str, typing.Any]) -> None:
    valid = classifier.get_params(deep=False)
    unknown = [key for key in overrides if key not in valid]
    if unknown:
        raise ValueError(
            f"Method variant {name!r}: {type(classifier).__name__} has no "
            f"parameter {', '.join(map(repr, unknown))}."
        )
    classifier.set_params(**overrides)


def make_method(
    name: str,
    X: pd.DataFrame,
    *,
    random_state: int = 0,
    max_epochs: int = 100,
    tune: bool = False,
    n_train: int | None = None,
):
    """Build one method of :data:`METHODS`, unfitted.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS`, or a variant of one that sets parameters
        of its classifier (:func:`parse_method`).
    X : pandas.DataFrame
        The features; only column names and dtypes are used, to build the
        preprocessor (:func:`skfocal.datasets.make_preprocessor`).
    random_state : int, default=0
        Seed of the MLP, the sampler and the inner folds of ``tune``.
    max_epochs : int, default=100
        Training budget of every MLP.
    tune : bool, default=False
        Wrap the pipeline in a :class:`~sklearn.model_selection.GridSearchCV`
        over the method's small grid (3 inner stratified folds, scored by
        average precision), if it has one.
    n_train : int, default=None
        Rows of the training fold before any resampling; every MLP uses early
        stopping when it is at least 10,000 (``len(X)`` when None).

    Returns
    -------
    imblearn.pipeline.Pipeline or sklearn.model_selection.GridSearchCV
        Steps ``preprocessor``, optionally ``sampler``, and ``classifier``.

    Raises
    ------
    ValueError
        If ``name`` is not a method.

    Examples
    --------
    >>> import pandas as pd
    >>> from skfocal.benchmark import make_method
    >>> X = pd.DataFrame({"x": [0.0, 1.0], "colour": ["red", "blue"]})
    >>> pipeline = make_method("smote", X, random_state=0, max_epochs=10)
    >>> [name for name, _ in pipeline.steps]
    ['preprocessor', 'sampler', 'classifier']
    >>> pipeline.named_steps["classifier"].max_epochs
    10
    """
    base, overrides = parse_method(name)
    spec = METHODS[base]
    rows = len(X) if n_train is None else n_train
    mlp_params = {
        **MLP_DEFAULTS,
        "max_epochs": max_epochs,
        "early_stopping": rows >= EARLY_STOPPING_MIN_ROWS,
    }
    sampler, classifier = spec.build(random_state, mlp_params)
    if overrides:
        _override(classifier, name, overrides)
    steps = [("preprocessor", spec.preprocessor(X))]
    if sampler is not None:
        steps.append(("sampler", sampler))
    steps.append(("classifier", classifier))
    pipeline = Pipeline(steps)
    if not tune or not spec.grid:
        return pipeline
    return GridSearchCV(
        pipeline,
        spec.grid,
        scoring=_tuning_scorer(),
        cv=StratifiedKFold(_INNER_FOLDS, shuffle=True, random_state=random_state),
        n_jobs=1,
        error_score=np.nan,
    )
