"""The tree references of the methods zoo: LightGBM, XGBoost and CatBoost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from catboost import CatBoostClassifier
from imblearn.pipeline import Pipeline
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.utils.class_weight import compute_sample_weight
from xgboost import XGBClassifier

from skfocal.benchmark import (
    DEFAULT_METHODS,
    METHODS,
    OPTIONAL_METHODS,
    QUICK_METHODS,
    make_method,
    plan_benchmark,
)
from skfocal.benchmark._trees import (
    BalancedCatBoostClassifier,
    BalancedXGBClassifier,
    TreePreprocessor,
)
from skfocal.datasets import make_preprocessor

TREES = ["lightgbm", "xgboost"]


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    """Numeric and categorical columns, missing values, awkward column names."""
    rng = np.random.default_rng(0)
    n = 300
    X = pd.DataFrame(
        {
            "amount [EUR]": rng.normal(size=n),
            "colour:name": rng.choice(["red", "green", "blue", None], size=n),
            "flag": rng.random(n) < 0.3,
        }
    )
    X.loc[rng.random(n) < 0.1, "amount [EUR]"] = np.nan
    signal = X["amount [EUR]"].fillna(0) + 2.0 * (X["colour:name"] == "red")
    y = (signal + rng.normal(size=n) > 1.8).to_numpy(dtype=np.int64)
    return X, y


@pytest.mark.parametrize("name", TREES)
def test_trees_are_in_every_default_list(name):
    assert METHODS[name].family == "reference"
    assert name in DEFAULT_METHODS
    assert name in QUICK_METHODS


def test_catboost_is_an_optional_reference():
    # Run only when named: the default lists stay those of the published runs.
    assert METHODS["catboost"].family == "reference"
    assert OPTIONAL_METHODS == ("catboost",)
    assert "catboost" not in DEFAULT_METHODS
    assert "catboost" not in QUICK_METHODS


def test_optional_method_without_its_library_fails_before_loading(monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "catboost" else find_spec(name, *args),
    )
    with pytest.raises(ImportError, match=r"pip install \"skfocal\[catboost\]\""):
        plan_benchmark("no such dataset", ["catboost[n_estimators=5]"])


@pytest.mark.parametrize("name", [*TREES, "catboost"])
def test_tree_pipeline_has_no_one_hot_and_is_seeded(name, table):
    X, y = table
    pipeline = make_method(name, X, random_state=3)
    assert [step for step, _ in pipeline.steps] == ["preprocessor", "classifier"]
    assert isinstance(pipeline.named_steps["preprocessor"], TreePreprocessor)
    test = X.iloc[200:].copy()
    test.iloc[0, 1] = "a colour never seen in training"
    first = pipeline.fit(X.iloc[:200], y[:200]).predict_proba(test)
    again = make_method(name, X, random_state=3).fit(X.iloc[:200], y[:200])
    np.testing.assert_array_equal(again.predict_proba(test), first)
    assert np.isfinite(first).all()
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=1e-6)


def test_lightgbm_sees_categoricals_and_balanced_weights(table):
    X, y = table
    model = make_method("lightgbm", X, random_state=0).fit(X, y)
    booster = model.named_steps["classifier"]
    assert booster.get_params()["class_weight"] == "balanced"
    assert booster.get_params()["n_jobs"] == 1
    # One category list per categorical input column (colour, flag), so
    # LightGBM split them as categories, not as ordered numbers.
    assert booster.booster_.pandas_categorical == [[0, 1, 2], [0, 1]]


def test_xgboost_sees_categoricals(table):
    X, y = table
    model = make_method("xgboost", X, random_state=0).fit(X, y)
    booster = model.named_steps["classifier"].estimator_
    assert booster.get_booster().feature_types == ["float", "c", "c"]
    assert booster.get_params()["n_jobs"] == 1


def test_catboost_sees_categoricals_and_balanced_weights(table):
    X, y = table
    model = make_method("catboost", X, random_state=0)
    model.set_params(classifier__n_estimators=50).fit(X, y)
    booster = model.named_steps["classifier"].estimator_
    assert booster.get_cat_feature_indices() == [1, 2]
    assert booster.get_params()["thread_count"] == 1
    params = booster.get_all_params()
    # Balanced: max_count / count_c, the majority class weighted 1.
    counts = np.bincount(y)
    np.testing.assert_allclose(params["class_weights"], counts.max() / counts)


def test_catboost_matches_catboost_with_explicit_class_weights():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + rng.normal(size=120) > 1.2, "yes", "no")
    model = BalancedCatBoostClassifier(n_estimators=30, random_state=0).fit(X, y)
    n_no, n_yes = int(np.sum(y == "no")), int(np.sum(y == "yes"))
    reference = CatBoostClassifier(
        iterations=30,
        random_seed=0,
        thread_count=1,
        verbose=False,
        allow_writing_files=False,
        class_weights=[1.0, n_no / n_yes],
    ).fit(X, (y == "yes").astype(int))
    assert model.classes_.tolist() == ["no", "yes"]
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))
    assert set(model.predict(X)) <= {"no", "yes"}


def test_tree_preprocessor_keeps_nans_and_maps_unknown_levels_to_missing():
    train = pd.DataFrame({"x": [1.0, np.nan, 3.0], "c": ["b", "a", None]})
    prep = TreePreprocessor().fit(train)
    out = prep.transform(pd.DataFrame({"x": [np.nan, 2.0], "c": ["a", "zebra"]}))
    assert list(out.columns) == ["f0", "f1"]
    assert np.isnan(out["f0"].iloc[0])
    assert out["f0"].iloc[1] == 2.0
    # Levels sorted ("a" -> 0, "b" -> 1); unknown -> missing.
    assert out["f1"].cat.categories.tolist() == [0, 1]
    assert out["f1"].iloc[0] == 0
    assert pd.isna(out["f1"].iloc[1])


def test_tree_preprocessor_rejects_arrays():
    with pytest.raises(TypeError, match="X must be a pandas DataFrame, got ndarray"):
        TreePreprocessor().fit(np.zeros((3, 2)))


def test_binary_xgboost_weights_the_positive_class_by_the_ratio():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + rng.normal(size=120) > 1.2, "yes", "no")
    model = BalancedXGBClassifier(n_estimators=20, random_state=0).fit(X, y)
    n_no, n_yes = int(np.sum(y == "no")), int(np.sum(y == "yes"))
    assert model.classes_.tolist() == ["no", "yes"]
    assert model.estimator_.get_params()["scale_pos_weight"] == pytest.approx(
        n_no / n_yes
    )
    reference = XGBClassifier(
        n_estimators=20,
        tree_method="hist",
        n_jobs=1,
        random_state=0,
        scale_pos_weight=n_no / n_yes,
    ).fit(X, (y == "yes").astype(int))
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))
    assert set(model.predict(X)) <= {"no", "yes"}


def test_multiclass_xgboost_uses_balanced_sample_weights():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(150, 3))
    y = np.repeat([0, 1, 2], [100, 35, 15])
    model = BalancedXGBClassifier(n_estimators=20, random_state=0).fit(X, y)
    counts = np.bincount(y)
    weights = len(y) / (3 * counts[y])
    np.testing.assert_allclose(weights, compute_sample_weight("balanced", y))
    reference = XGBClassifier(
        n_estimators=20, tree_method="hist", n_jobs=1, random_state=0
    ).fit(X, y, sample_weight=weights)
    np.testing.assert_allclose(model.predict_proba(X), reference.predict_proba(X))
    assert "scale_pos_weight" not in {
        k for k, v in model.estimator_.get_params().items() if v is not None
    }


def test_existing_methods_keep_the_one_hot_preprocessor(table):
    X, y = table
    pipeline = make_method("logreg_balanced", X, random_state=0)
    assert isinstance(pipeline.named_steps["preprocessor"], ColumnTransformer)
    by_hand = Pipeline(
        [
            ("preprocessor", make_preprocessor(X)),
            (
                "classifier",
                LogisticRegression(class_weight="balanced", max_iter=1000),
            ),
        ]
    )
    np.testing.assert_array_equal(
        pipeline.fit(X, y).predict_proba(X), by_hand.fit(X, y).predict_proba(X)
    )
