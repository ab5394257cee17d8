"""Tests for skfocal.benchmark: statistics, metrics, methods, report (plan and
run: test_benchmark_plan.py; faults: test_benchmark_faults.py)."""

from __future__ import annotations

import ast
import doctest
import graphlib
import importlib
import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from imblearn.pipeline import Pipeline
from sklearn.metrics import average_precision_score, recall_score, roc_auc_score
from sklearn.model_selection import GridSearchCV

import skfocal.benchmark
from skfocal import ImbalancedMLPClassifier
from skfocal._fit_backbone import BACKBONE_DEFAULTS
from skfocal.benchmark import (
    DEFAULT_METHODS,
    METHODS,
    METRICS,
    OPTIONAL_METHODS,
    ClampedNeighborsSampler,
    _methods,
    _store,
    average_precision,
    average_ranks,
    critical_difference,
    friedman_test,
    holm_correction,
    make_method,
    rank_methods,
    score_predictions,
    wilcoxon_holm,
    write_report,
)
from skfocal.benchmark._store import (
    RESULT_COLUMNS,
)

FAST_METHODS = ["ce", "focal", "smote", "rus", "logreg_balanced"]
METRIC_COLUMNS = list(METRICS)


# ---------------------------------------------------------------------------
# Statistics
# ---------------------------------------------------------------------------


def test_holm_matches_hand_computation():
    # Sorted: 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06,
    # 0.04; the last is raised to 0.06 to keep the order.
    adjusted = holm_correction([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(adjusted, [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_and_skips_missing():
    np.testing.assert_allclose(holm_correction([0.5, 0.6]), [1.0, 1.0])
    np.testing.assert_allclose(
        holm_correction([np.nan, 0.01, 0.02]), [np.nan, 0.02, 0.02]
    )


@pytest.fixture
def known_table() -> pd.DataFrame:
    # Ranks per dataset (1 best): (1,2,3), (1,3,2), (1,2,3), (2,1,3).
    return pd.DataFrame(
        {
            "a": [0.9, 0.9, 0.8, 0.7],
            "b": [0.8, 0.6, 0.7, 0.8],
            "c": [0.7, 0.7, 0.6, 0.5],
        },
        index=["d1", "d2", "d3", "d4"],
    )


def test_friedman_matches_hand_computation(known_table):
    # Rank sums 5, 8, 11 with N=4, k=3:
    # 12 / (4*3*4) * (25 + 64 + 121) - 3*4*4 = 4.5, chi2 with 2 df.
    result = friedman_test(known_table)
    assert result.statistic == pytest.approx(4.5)
    assert result.pvalue == pytest.approx(math.exp(-4.5 / 2))
    assert result.note == ""


@pytest.mark.parametrize(
    ("table", "note"),
    [
        (pd.DataFrame({"a": [0.1, 0.2], "b": [0.2, 0.3]}), "at least 3 methods"),
        (pd.DataFrame({"a": [0.1], "b": [0.2], "c": [0.3]}), "at least 2 datasets"),
        (pd.DataFrame({"a": [0.5, 0.1], "b": [0.5, 0.1], "c": [0.5, 0.1]}), "ties"),
    ],
)
def test_friedman_degenerate_cases_give_a_note(table, note):
    result = friedman_test(table)
    assert math.isnan(result.statistic)
    assert math.isnan(result.pvalue)
    assert note in result.note


def test_ranks_share_ties_and_put_failures_last():
    table = pd.DataFrame({"a": [0.5, np.nan], "b": [0.5, 0.3], "c": [0.1, 0.2]})
    ranks = rank_methods(table)
    assert ranks.to_numpy().tolist() == [[1.5, 1.5, 3.0], [3.0, 1.0, 2.0]]
    assert average_ranks(table).to_dict() == {"b": 1.25, "a": 2.25, "c": 2.5}


def test_wilcoxon_holm_against_best(known_table):
    table = pd.DataFrame(
        {
            "best": [0.9, 0.8, 0.7, 0.6, 0.5],
            "worse": [0.8, 0.7, 0.6, 0.5, 0.4],
            "same": [0.9, 0.8, 0.7, 0.6, 0.5],
        }
    )
    result = wilcoxon_holm(table, reference="best").set_index("method")
    # Five equal-sign differences: exact two-sided p = 2 / 2**5.
    assert result.loc["worse", "pvalue"] == pytest.approx(2 / 32)
    assert result.loc["worse", "losses"] == 5
    assert result.loc["same", "pvalue"] == 1.0
    assert "identical" in result.loc["same", "note"]
    assert result.loc["worse", "pvalue_holm"] == pytest.approx(2 * 2 / 32)
    # Without a reference, the best average rank is the reference.
    assert "a" not in set(wilcoxon_holm(known_table)["method"])


def test_wilcoxon_holm_rejects_unknown_reference(known_table):
    with pytest.raises(ValueError, match="Unknown reference method 'z'"):
        wilcoxon_holm(known_table, reference="z")


@pytest.mark.parametrize(
    ("n_methods", "q_alpha"),
    # Demšar (2006), table 5(a): Nemenyi q at alpha = 0.05.
    [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (10, 3.164)],
)
def test_critical_difference_matches_demsar(n_methods, q_alpha):
    expected = q_alpha * math.sqrt(n_methods * (n_methods + 1) / (6 * 14))
    assert critical_difference(n_methods, 14) == pytest.approx(expected, rel=1e-3)


def test_critical_difference_needs_two_methods():
    with pytest.raises(ValueError, match="at least 2 methods"):
        critical_difference(1, 5)


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def test_binary_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=50)
    positive = np.clip(0.3 * y + rng.random(50) * 0.7, 0, 1)
    proba = np.column_stack([1 - positive, positive])
    scores = score_predictions(y, proba, minority_class=1)
    assert scores["average_precision"] == average_precision_score(y, positive)
    assert scores["roc_auc"] == roc_auc_score(y, positive)
    assert scores["minority_recall"] == recall_score(y, positive > 0.5)
    assert set(scores) == set(METRICS)


def test_multiclass_scores_are_macro_one_vs_rest():
    rng = np.random.default_rng(1)
    y = np.array([0] * 20 + [1] * 12 + [2] * 5)
    proba = rng.dirichlet(np.ones(3), size=len(y))
    proba[np.arange(len(y)), y] += 0.5
    proba /= proba.sum(axis=1, keepdims=True)
    scores = score_predictions(y, proba, minority_class=2)
    per_class = [average_precision_score(y == c, proba[:, c]) for c in range(3)]
    assert scores["average_precision"] == pytest.approx(np.mean(per_class))
    assert average_precision(y, proba) == pytest.approx(np.mean(per_class))
    assert scores["roc_auc"] == pytest.approx(
        roc_auc_score(y, proba, multi_class="ovr", average="macro")
    )
    predicted = proba.argmax(axis=1)
    assert scores["minority_recall"] == np.mean(predicted[y == 2] == 2)


# ---------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------


@pytest.fixture
def features() -> pd.DataFrame:
    return pd.DataFrame({"x": [0.0, 1.0, np.nan], "colour": ["red", None, "blue"]})


@pytest.mark.parametrize("name", list(METHODS))
def test_every_method_is_a_pipeline_with_the_shared_mlp_budget(name, features):
    pipeline = make_method(name, features, random_state=3, max_epochs=17)
    assert isinstance(pipeline, Pipeline)
    assert pipeline.steps[0][0] == "preprocessor"
    assert pipeline.steps[-1][0] == "classifier"
    classifier = pipeline.named_steps["classifier"]
    if isinstance(classifier, ImbalancedMLPClassifier):
        params = classifier.get_params()
        for key, value in _methods.MLP_DEFAULTS.items():
            assert params[key] == value
        assert params["max_epochs"] == 17
        assert params["random_state"] == 3
    family = METHODS[name].family
    assert ("sampler" in pipeline.named_steps) == (family == "resampling")


def test_the_shared_mlp_uses_the_estimators_default_backbone():
    shared = {key: _methods.MLP_DEFAULTS[key] for key in BACKBONE_DEFAULTS}
    assert shared == BACKBONE_DEFAULTS


@pytest.mark.parametrize("name", ["focal", "ghm", "balanced_ce", "smote"])
def test_tune_searches_the_method_grid(name, features):
    search = make_method(name, features, tune=True)
    assert isinstance(search, GridSearchCV)
    assert search.param_grid == METHODS[name].grid
    assert search.cv.n_splits == 3


def test_tune_leaves_methods_without_grid_alone(features):
    assert isinstance(make_method("rus", features, tune=True), Pipeline)


def test_make_method_rejects_unknown_name(features):
    with pytest.raises(ValueError, match="Unknown method 'nope'"):
        make_method("nope", features)


def test_default_methods_are_all_but_the_optional_ones():
    assert set(DEFAULT_METHODS) == set(METHODS) - set(OPTIONAL_METHODS)
    assert set(OPTIONAL_METHODS) <= set(METHODS)


@pytest.fixture
def three_minority_rows() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(23, 2)), np.array([0] * 20 + [1] * 3)


@pytest.mark.parametrize("kind", ["smote", "adasyn", "borderline_smote", "smote_tomek"])
def test_sampler_clamps_k_neighbors_to_the_fold(kind, three_minority_rows):
    X, y = three_minority_rows
    sampler = ClampedNeighborsSampler(kind, k_neighbors=5, random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    assert sampler.k_neighbors_ == 2
    assert "clamped from 5 to 2" in sampler.note_
    assert len(X_res) == len(y_res)


def test_sampler_keeps_k_neighbors_that_fit(three_minority_rows):
    X, y = three_minority_rows
    sampler = ClampedNeighborsSampler("smote", k_neighbors=2, random_state=0)
    sampler.fit_resample(X, y)
    assert (sampler.k_neighbors_, sampler.note_) == (2, "")


def test_sampler_needs_two_minority_rows():
    X, y = np.arange(12.0).reshape(6, 2), np.array([0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="at least 2 rows of each minority class"):
        ClampedNeighborsSampler("smote").fit_resample(X, y)


def test_adasyn_without_majority_neighbours_keeps_the_data():
    # The minority forms its own far-away cluster: no minority row has a
    # majority neighbour, and imbalanced-learn's ADASYN raises.
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(30, 2)), 100 + rng.normal(size=(8, 2))])
    y = np.array([0] * 30 + [1] * 8)
    sampler = ClampedNeighborsSampler("adasyn", random_state=0)
    X_res, y_res = sampler.fit_resample(X, y)
    np.testing.assert_array_equal(X_res, X)
    np.testing.assert_array_equal(y_res, y)
    assert "adasyn generated no samples" in sampler.note_


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _write_synthetic_run(output: Path, scores: dict[str, list[list[float]]]) -> Path:
    """A benchmark directory whose ``scores[method][dataset]`` are fold scores."""
    methods = list(scores)
    n_datasets = len(scores[methods[0]])
    n_folds = len(scores[methods[0]][0])
    datasets = [f"d{i}" for i in range(n_datasets)]
    rows = []
    for method, per_dataset in scores.items():
        for dataset, folds in zip(datasets, per_dataset, strict=True):
            for fold, score in enumerate(folds):
                rows.append(
                    {
                        "dataset": dataset,
                        "method": method,
                        "repeat": 0,
                        "fold": fold,
                        **dict.fromkeys(METRIC_COLUMNS, score),
                        "fit_time": 1.0,
                        "predict_time": 0.1,
                        "n_train": 90,
                        "n_test": 30,
                        "error": "ValueError: failed" if math.isnan(score) else "",
                    }
                )
    output.mkdir()
    pd.DataFrame(rows, columns=RESULT_COLUMNS).to_csv(
        output / "results.csv", index=False
    )
    _store.write_config(
        output,
        {
            "format": 1,
            "protocol": {
                "folds": n_folds,
                "repeats": 1,
                "seed": 0,
                "max_epochs": 5,
                "tune": False,
            },
            "datasets": {name: {"source": "bundled"} for name in datasets},
            "methods": methods,
        },
    )
    return output


def test_no_nemenyi_test_when_friedman_does_not_reject(tmp_path):
    # Each method wins on two of six datasets: equal average ranks, p = 1.
    rotation = [[0.9, 0.8, 0.7], [0.8, 0.7, 0.9], [0.7, 0.9, 0.8]] * 2
    scores = {name: [[row[i]] * 2 for row in rotation] for i, name in enumerate("abc")}
    summary = write_report(_write_synthetic_run(tmp_path / "run", scores))
    text = summary.read_text()
    assert "Friedman chi-square = 0.00, p = 1.000" in text
    assert "does not reject equal ranks at α = 0.05" in text
    assert "Nemenyi critical difference" not in text


def test_nemenyi_test_follows_a_friedman_rejection(tmp_path):
    # "a" beats "b" beats "c" on all six datasets: Friedman p < 0.05.
    scores = {"a": [[0.9] * 2] * 6, "b": [[0.8] * 2] * 6, "c": [[0.7] * 2] * 6}
    text = write_report(_write_synthetic_run(tmp_path / "run", scores)).read_text()
    cd = critical_difference(n_methods=3, n_datasets=6)
    assert f"Nemenyi critical difference (α = 0.05): {cd:.2f}" in text
    assert "does not reject" not in text


def test_report_counts_failed_folds_next_to_the_mean(tmp_path):
    scores = {
        "a": [[0.9, math.nan, 0.7]] * 3,
        "b": [[0.6, 0.5, 0.4]] * 3,
        "c": [[math.nan] * 3] * 3,
    }
    text = write_report(_write_synthetic_run(tmp_path / "run", scores)).read_text()
    table = text.split("### average precision\n", 2)[2].split("###")[0]
    row_a = next(line for line in table.splitlines() if line.startswith("| a |"))
    row_c = next(line for line in table.splitlines() if line.startswith("| c |"))
    assert row_a.count("**0.800 ± 0.141** (1 failed)") == 3
    assert row_c.count("failed") == 3
    assert "(3 failed)" not in row_c


def test_benchmark_extra_missing_says_what_to_install(monkeypatch):
    real_find_spec = importlib.util.find_spec

    def find_spec(name, *args):
        return None if name == "imblearn" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.delitem(sys.modules, "skfocal.benchmark")
    with pytest.raises(ImportError, match=r'pip install "skfocal\[benchmark\]"'):
        importlib.import_module("skfocal.benchmark")


@pytest.mark.parametrize("n_train", [500, 20_000])
def test_early_stopping_rule_is_the_same_for_every_mlp_method(n_train, features):
    # Decided from the training fold before resampling: an over-sampler that
    # grows the fold past 10,000 rows must not switch early stopping on.
    rules = set()
    for name in METHODS:
        classifier = make_method(name, features, n_train=n_train).named_steps[
            "classifier"
        ]
        if isinstance(classifier, ImbalancedMLPClassifier):
            rules.add(classifier.early_stopping)
    assert rules == {n_train >= 10_000}


def _benchmark_imports() -> dict[str, set[str]]:
    """skfocal.benchmark module -> the skfocal.benchmark modules it imports.

    Every import counts, including those inside functions and under
    ``TYPE_CHECKING``.
    """
    folder = Path(skfocal.benchmark.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        name = f"skfocal.benchmark.{path.stem}".removesuffix(".__init__")
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets.add(node.module)
                targets.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        graph[name] = {t for t in targets if t.startswith("skfocal.benchmark.")}
    return graph


def test_benchmark_modules_import_in_one_direction():
    graph = _benchmark_imports()
    # The task unit is a leaf that both runners import; neither imports the
    # other, and nothing imports a runner but the planner.
    assert not graph["skfocal.benchmark._task"] & {
        "skfocal.benchmark._local",
        "skfocal.benchmark._dask",
        "skfocal.benchmark._plan",
    }
    assert "skfocal.benchmark._task" in graph["skfocal.benchmark._local"]
    assert "skfocal.benchmark._task" in graph["skfocal.benchmark._dask"]
    assert "skfocal.benchmark._dask" not in graph["skfocal.benchmark._local"]
    assert "skfocal.benchmark._local" not in graph["skfocal.benchmark._dask"]
    # No cycle, through any import (the package __init__ aside).
    modules = {m: t & set(graph) for m, t in graph.items() if m != "skfocal.benchmark"}
    order = list(graphlib.TopologicalSorter(modules).static_order())
    assert set(order) >= set(modules)


# ---------------------------------------------------------------------------
# Docstring examples
# ---------------------------------------------------------------------------

_DOCUMENTED = [
    *sorted(
        f"skfocal.benchmark.{path.stem}"
        for path in Path(skfocal.benchmark.__file__).parent.glob("_*.py")
    ),
    "skfocal.benchmark",
    "skfocal.cli",
    "skfocal.datasets",
    "skfocal._dataset_files",
]


@pytest.mark.parametrize("name", _DOCUMENTED)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
