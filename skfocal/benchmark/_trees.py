"""Gradient-boosted trees as non-neural references: LightGBM, XGBoost, CatBoost.

Trees need neither scaling nor one-hot encoding: :class:`TreePreprocessor`
hands them the numeric columns untouched (missing values stay ``NaN``, which
the boosters route natively) and every categorical column as one pandas
``category`` column of ordinal codes. LightGBM and XGBoost read that dtype as
a native categorical feature through their documented pandas paths:
LightGBM's ``categorical_feature="auto"`` and XGBoost's
``enable_categorical=True``; CatBoost takes the codes as strings in its
``cat_features`` (it rejects ``NaN`` there, so missing is a level of its
own). The category set of each column is fixed on the training fold, so the
codes mean the same in the test fold; a level never seen in training becomes
missing.

The libraries are imported when a model is built, not when this module is
imported: importing LightGBM alone takes about a second, which the command
line must not pay for ``skfocal --help``.
"""

from __future__ import annotations

import typing

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.preprocessing import OrdinalEncoder
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from skfocal.datasets import column_kinds

__all__ = [
    "BalancedCatBoostClassifier",
    "BalancedXGBClassifier",
    "TreePreprocessor",
    "catboost",
    "lightgbm",
    "xgboost",
]


def _as_object(X: pd.DataFrame) -> pd.DataFrame:
    # OrdinalEncoder needs one missing-value marker; pd.NA (nullable dtypes)
    # and bool columns are normalised to object with np.nan.
    return X.astype(object).where(X.notna(), np.nan)


class TreePreprocessor(TransformerMixin, BaseEstimator):
    """Numeric columns as they are, categorical columns as ordinal categories.

    Output columns are named ``f0, f1, ...`` (numeric columns first, then
    categorical ones, each in input order): LightGBM and XGBoost reject
    feature names with characters such as ``[``, ``]``, ``<`` or ``:``, which
    a user's table may well have.

    Attributes
    ----------
    numeric_ : list of str
        Numeric input columns, passed through as float64.
    categorical_ : list of str
        Categorical input columns (object, string, category, bool).
    encoder_ : sklearn.preprocessing.OrdinalEncoder or None
        Fitted on the categorical columns; unknown levels and missing values
        are encoded as ``NaN``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfocal.benchmark._trees import TreePreprocessor
    >>> X = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["a", "b", None]})
    >>> out = TreePreprocessor().fit(X).transform(
    ...     pd.DataFrame({"x": [2.0], "c": ["zebra"]})
    ... )
    >>> out.dtypes.astype(str).tolist(), out.isna().to_numpy().tolist()
    (['float64', 'category'], [[False, True]])
    """

    def fit(self, X: pd.DataFrame, y=None) -> TreePreprocessor:
        """Split the columns by kind and learn the category levels.

        Parameters
        ----------
        X : pandas.DataFrame
        y : ignored

        Returns
        -------
        TreePreprocessor
        """
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame, got {type(X).__name__}")
        self.numeric_, self.categorical_ = column_kinds(X)
        self.encoder_ = None
        if self.categorical_:
            self.encoder_ = OrdinalEncoder(
                handle_unknown="use_encoded_value",
                unknown_value=np.nan,
                encoded_missing_value=np.nan,
            ).fit(_as_object(X[self.categorical_]))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Numeric columns as float64, categorical ones as ``category`` codes.

        Parameters
        ----------
        X : pandas.DataFrame

        Returns
        -------
        pandas.DataFrame
        """
        check_is_fitted(self, "encoder_")
        parts = {
            column: X[column].to_numpy(dtype=np.float64, na_value=np.nan)
            for column in self.numeric_
        }
        if self.encoder_ is not None:
            codes = self.encoder_.transform(_as_object(X[self.categorical_]))
            for j, (column, levels) in enumerate(
                zip(self.categorical_, self.encoder_.categories_, strict=True)
            ):
                n_levels = int(pd.Series(levels).notna().sum())
                parts[column] = pd.Categorical.from_codes(
                    np.nan_to_num(codes[:, j], nan=-1).astype(np.int64),
                    categories=np.arange(n_levels),
                )
        frame = pd.DataFrame(parts, index=X.index)
        frame.columns = self.get_feature_names_out()
        return frame

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """``f0, f1, ...``, one per output column."""
        check_is_fitted(self, "encoder_")
        n_out = len(self.numeric_) + len(self.categorical_)
        return np.array([f"f{i}" for i in range(n_out)], dtype=object)


class _BoosterWrapper(ClassifierMixin, BaseEstimator):
    """What the booster wrappers share: the booster in ``estimator_`` learns
    labels ``0..C-1``; probabilities and predictions follow ``classes_``."""

    def _booster_input(self, X):
        """``X`` as the booster takes it (unchanged unless overridden)."""
        return X

    def _code_labels(self, y) -> tuple[np.ndarray, np.ndarray]:
        """Set ``classes_``; return the codes ``0..C-1`` and the class counts."""
        y = np.asarray(y)
        check_classification_targets(y)
        self.classes_, codes, counts = np.unique(
            y, return_inverse=True, return_counts=True
        )
        return codes, counts

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(self._booster_input(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class BalancedXGBClassifier(_BoosterWrapper):
    """XGBoost with class weights computed from the data it is fitted on.

    Binary problems use ``scale_pos_weight = n_negative / n_positive`` (the
    second class of ``classes_`` is the positive one); multi-class problems
    use scikit-learn's ``"balanced"`` sample weights,
    ``n_samples / (n_classes * count_c)``. Both come from the training fold
    alone, in :meth:`fit`.

    Parameters
    ----------
    n_estimators : int, default=100
        Boosting rounds.
    tree_method : str, default="hist"
    n_jobs : int, default=1
        One thread per fit, like every other method of the benchmark.
    random_state : int or None, default=None

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in :meth:`fit`.
    estimator_ : xgboost.XGBClassifier
        The fitted booster, on labels ``0..C-1``.

    Examples
    --------
    >>> import numpy as np
    >>> from skfocal.benchmark._trees import BalancedXGBClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 2))
    >>> y = np.where(X[:, 0] > 1.0, "fraud", "ok")
    >>> model = BalancedXGBClassifier(n_estimators=5, random_state=0).fit(X, y)
    >>> weight = model.estimator_.get_params()["scale_pos_weight"]
    >>> model.classes_.tolist(), round(weight, 4)
    (['fraud', 'ok'], 0.1765)
    """

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        tree_method: str = "hist",
        n_jobs: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.tree_method = tree_method
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y) -> BalancedXGBClassifier:
        """Fit the booster with balanced class weights.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        BalancedXGBClassifier
        """
        from xgboost import XGBClassifier

        codes, counts = self._code_labels(y)
        options: dict[str, typing.Any] = {}
        sample_weight = None
        if len(self.classes_) == 2:
            options["scale_pos_weight"] = float(counts[0] / counts[1])
        else:
            sample_weight = compute_sample_weight("balanced", codes)
        self.estimator_ = XGBClassifier(
            n_estimators=self.n_estimators,
            tree_method=self.tree_method,
            n_jobs=self.n_jobs,
            random_state=self.random_state,
            enable_categorical=True,
            **options,
        )
        self.estimator_.fit(X, codes, sample_weight=sample_weight)
        self.n_features_in_ = self.estimator_.n_features_in_
        return self


def _categories_as_strings(X):
    """``category`` columns as strings of their codes, missing as ``"-1"``.

    CatBoost's categorical features must be strings or integers, never
    ``NaN``; the codes of :class:`TreePreprocessor` (``-1`` where missing or
    unseen in training) keep one meaning across folds.
    """
    if not isinstance(X, pd.DataFrame):
        return X, []
    categorical = [c for c in X.columns if isinstance(X[c].dtype, pd.CategoricalDtype)]
    if not categorical:
        return X, []
    X = X.copy()
    for column in categorical:
        X[column] = X[column].cat.codes.astype(str).astype(object)
    return X, categorical


class BalancedCatBoostClassifier(_BoosterWrapper):
    """CatBoost with balanced class weights and native categorical features.

    ``auto_class_weights="Balanced"`` weights class ``c`` by
    ``max_count / count_c`` on the data :meth:`fit` sees (the same ratios as
    scikit-learn's ``"balanced"``, binary or multi-class). Columns of pandas
    ``category`` dtype (:class:`TreePreprocessor`'s output) become CatBoost
    ``cat_features``. Everything else is CatBoost's default (1,000 rounds,
    learning rate chosen from the data size), which is what a practitioner
    runs first; nothing is written to disk.

    Parameters
    ----------
    n_estimators : int or None, default=None
        Boosting rounds; ``None`` is CatBoost's default (1,000).
    n_jobs : int, default=1
        One thread per fit, like every other method of the benchmark.
    random_state : int or None, default=None

    Attributes
    ----------
    classes_ : ndarray
        The labels seen in :meth:`fit`.
    estimator_ : catboost.CatBoostClassifier
        The fitted booster, on labels ``0..C-1``.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from skfocal.benchmark._trees import BalancedCatBoostClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=80)})
    >>> y = np.where(X["x"] > 1.0, "fraud", "ok")
    >>> model = BalancedCatBoostClassifier(n_estimators=5, random_state=0)
    >>> model.fit(X, y).classes_.tolist()
    ['fraud', 'ok']
    >>> model.predict_proba(X).shape
    (80, 2)
    """

    def __init__(
        self,
        n_estimators: int | None = None,
        *,
        n_jobs: int = 1,
        random_state: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.n_jobs = n_jobs
        self.random_state = random_state

    def fit(self, X, y) -> BalancedCatBoostClassifier:
        """Fit the booster with balanced class weights.

        Parameters
        ----------
        X : array-like or pandas.DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        BalancedCatBoostClassifier
        """
        from catboost import CatBoostClassifier

        codes, _ = self._code_labels(y)
        X, categorical = _categories_as_strings(X)
        self.estimator_ = CatBoostClassifier(
            iterations=self.n_estimators,
            auto_class_weights="Balanced",
            thread_count=self.n_jobs,
            random_seed=self.random_state,
            verbose=False,
            allow_writing_files=False,
        )
        self.estimator_.fit(X, codes, cat_features=categorical or None)
        self.n_features_in_ = X.shape[1]
        return self

    def _booster_input(self, X):
        return _categories_as_strings(X)[0]


def lightgbm(random_state: int):
    """LightGBM with ``class_weight="balanced"``, one thread, seeded, silent.

    Parameters
    ----------
    random_state : int

    Returns
    -------
    lightgbm.LGBMClassifier

    Examples
    --------
    >>> from skfocal.benchmark._trees import lightgbm
    >>> lightgbm(0).get_params()["class_weight"]
    'balanced'
    """
    try:
        from lightgbm import LGBMClassifier
    except ImportError as exc:  # pragma: no cover - part of the benchmark extra
        raise ImportError(
            'The lightgbm method needs LightGBM: pip install "skfocal[benchmark]"'
        ) from exc
    return LGBMClassifier(
        class_weight="balanced", n_jobs=1, verbose=-1, random_state=random_state
    )


def xgboost(random_state: int) -> BalancedXGBClassifier:
    """XGBoost (``hist``), balanced class weights, one thread, seeded.

    Parameters
    ----------
    random_state : int

    Returns
    -------
    BalancedXGBClassifier

    Examples
    --------
    >>> from skfocal.benchmark._trees import xgboost
    >>> xgboost(0).tree_method
    'hist'
    """
    try:
        import xgboost as _xgboost  # noqa: F401
    except ImportError as exc:  # pragma: no cover - part of the benchmark extra
        raise ImportError(
            'The xgboost method needs XGBoost: pip install "skfocal[benchmark]"'
        ) from exc
    return BalancedXGBClassifier(random_state=random_state)


def catboost(random_state: int) -> BalancedCatBoostClassifier:
    """CatBoost (its defaults), balanced class weights, one thread, seeded.

    An optional method: CatBoost is in the ``catboost`` extra, not in the
    benchmark one.

    Parameters
    ----------
    random_state : int

    Returns
    -------
    BalancedCatBoostClassifier

    Examples
    --------
    >>> from skfocal.benchmark._trees import catboost
    >>> catboost(0).n_jobs
    1
    """
    try:
        import catboost as _catboost  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            'The catboost method needs CatBoost: pip install "skfocal[catboost]"'
        ) from exc
    return BalancedCatBoostClassifier(random_state=random_state)
