"""Tests for skfocal.benchmark's plan and run: protocol, leaks, determinism,
resume, and the report of a real run."""

from __future__ import annotations

import math
import re
import shutil
import typing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression

import skfocal
from skfocal._fit_backbone import PLAIN_BACKBONE
from skfocal.benchmark import (
    METHODS,
    METRICS,
    BenchmarkDirectoryError,
    MethodSpec,
    TableSource,
    _methods,
    _store,
    _task,
    plan_benchmark,
    write_report,
)
from skfocal.benchmark._report import build_summary
from skfocal.benchmark._store import (
    KEY_COLUMNS,
    read_predictions,
    read_results,
)

FAST_METHODS = ["ce", "focal", "smote", "rus", "logreg_balanced"]
METRIC_COLUMNS = list(METRICS)


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary_csv(write_user_table) -> Path:
    return write_user_table({"stay": 90, "churn": 30}, seed=0)


@pytest.fixture(scope="module")
def run_options() -> dict[str, typing.Any]:
    return {"n_splits": 2, "n_repeats": 2, "max_epochs": 3, "seed": 7}


@pytest.fixture(scope="module")
def reference_run(binary_csv, run_options, tmp_path_factory) -> Path:
    """A complete, uninterrupted run that other tests compare against."""
    output = tmp_path_factory.mktemp("reference")
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        FAST_METHODS,
        output=output,
        **run_options,
    )
    plan.run(progress=False)
    return output


@pytest.fixture
def reference_copy(reference_run, tmp_path) -> Path:
    """A copy of the reference run that a test may change."""
    output = tmp_path / "copy"
    shutil.copytree(reference_run, output)
    return output


def _metrics_table(output: Path) -> pd.DataFrame:
    frame = read_results(output / "results.csv")
    return frame.sort_values(KEY_COLUMNS).reset_index(drop=True)[
        KEY_COLUMNS + METRIC_COLUMNS
    ]


# ---------------------------------------------------------------------------
# Plan and run: protocol, leaks, determinism, resume
# ---------------------------------------------------------------------------


def test_string_labels_code_the_minority_as_one():
    codes, classes, minority = _task.encode_labels(pd.Series(["yes", "no", "no", "no"]))
    assert codes.tolist() == [1, 0, 0, 0]
    assert classes == ("no", "yes")
    assert minority == 1


def test_results_have_one_row_per_task(reference_run):
    results = read_results(reference_run / "results.csv")
    assert len(results) == len(FAST_METHODS) * 2 * 2
    assert not results.duplicated(KEY_COLUMNS).any()
    assert results["error"].eq("").all()
    assert results[METRIC_COLUMNS].notna().all().all()
    assert list(results.columns[:4]) == ["dataset", "method", "repeat", "fold"]
    assert set(results["dataset"]) == {"churn"}
    # Out-of-fold predictions of the first repeat: every row once per method.
    predictions = read_predictions(reference_run / "predictions.csv", results)
    counts = predictions.groupby("method")["row"].agg(["count", "nunique"])
    assert (counts["count"] == 120).all()
    assert (counts["nunique"] == 120).all()


def test_same_seed_same_numbers(reference_run, binary_csv, run_options, tmp_path):
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        FAST_METHODS,
        output=tmp_path,
        **run_options,
    )
    plan.run(progress=False)
    pd.testing.assert_frame_equal(
        _metrics_table(tmp_path), _metrics_table(reference_run), check_exact=True
    )


def test_other_seed_other_numbers(reference_run, binary_csv, run_options, tmp_path):
    options = {**run_options, "seed": run_options["seed"] + 1}
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")], ["ce"], output=tmp_path, **options
    )
    plan.run(progress=False)
    ours = _metrics_table(tmp_path)
    theirs = _metrics_table(reference_run)
    theirs = theirs[theirs["method"] == "ce"].reset_index(drop=True)
    assert not ours[METRIC_COLUMNS].equals(theirs[METRIC_COLUMNS])


@pytest.mark.slow
def test_parallel_workers_give_the_same_numbers(
    reference_run, binary_csv, run_options, tmp_path
):
    # About 10 s, nearly all of it two loky workers importing torch.
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        ["ce", "smote"],
        output=tmp_path,
        **run_options,
    )
    plan.run(n_jobs=2, progress=False)
    theirs = _metrics_table(reference_run)
    theirs = theirs[theirs["method"].isin(["ce", "smote"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(_metrics_table(tmp_path), theirs, check_exact=True)


def test_resume_after_truncation_completes_without_duplicates(
    reference_run, reference_copy, binary_csv, run_options
):
    output = reference_copy
    # A run killed mid-write: keep the header and 7 rows, then half a line;
    # the predictions file also ends in the middle of a line.
    lines = (output / "results.csv").read_text().splitlines(keepends=True)
    (output / "results.csv").write_text("".join(lines[:8]) + lines[8][:25])
    with (output / "predictions.csv").open("a") as fh:
        fh.write("churn,ce,0,0,3,")
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        FAST_METHODS,
        output=output,
        **run_options,
    )
    assert plan.n_done == 7
    assert plan.n_missing == len(lines) - 1 - 7
    plan.run(progress=False)
    pd.testing.assert_frame_equal(
        _metrics_table(output), _metrics_table(reference_run), check_exact=True
    )
    raw = pd.read_csv(output / "results.csv")
    assert not raw.duplicated(KEY_COLUMNS).any()
    predictions = read_predictions(
        output / "predictions.csv", read_results(output / "results.csv")
    )
    assert predictions.groupby("method")["row"].count().eq(120).all()


def test_resume_refuses_another_configuration(reference_copy, binary_csv):
    output = reference_copy
    with pytest.raises(BenchmarkDirectoryError, match=r"another configuration.*folds"):
        plan_benchmark(
            [TableSource(str(binary_csv), "label")],
            ["ce"],
            output=output,
            n_splits=3,
            n_repeats=2,
            max_epochs=3,
            seed=7,
        )


def _edit_config(output: Path, edit: typing.Callable[[dict], None]) -> None:
    config = _store.read_config(output)
    edit(config)
    _store.write_config(output, config)


def _resume(output: Path, binary_csv, run_options, methods=("ce",)):
    return plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        list(methods),
        output=output,
        **run_options,
    )


def test_resume_refuses_other_mlp_settings(
    reference_copy, binary_csv, run_options, monkeypatch
):
    monkeypatch.setitem(_methods.MLP_DEFAULTS, "lr", 0.01)
    with pytest.raises(
        BenchmarkDirectoryError,
        match=r"other MLP settings \(lr 0\.001 there, 0\.01 now\) by skfocal "
        + re.escape(skfocal.__version__),
    ):
        _resume(reference_copy, binary_csv, run_options)


def test_resume_refuses_a_directory_of_the_plain_backbone(
    reference_copy, binary_csv, run_options
):
    """A directory computed before the backbone defaults is not mixed in."""

    def drop_backbone(config):
        for key in ("input_transform", "embedding", "validation_metric"):
            del config["mlp"][key]

    _edit_config(reference_copy, drop_backbone)
    with pytest.raises(
        BenchmarkDirectoryError,
        match=r"other MLP settings \(input_transform 'none' there, "
        r"'robust_smooth_clip' now; embedding 'none' there, 'periodic' now",
    ):
        _resume(reference_copy, binary_csv, run_options)


def test_directory_without_recorded_mlp_settings_is_refused(
    reference_copy, binary_csv, run_options
):
    """Written before the settings were recorded: the plain network of 0.1."""

    def drop_settings(config):
        del config["mlp"], config["skfocal_versions"]

    _edit_config(reference_copy, drop_settings)
    with pytest.raises(
        BenchmarkDirectoryError,
        match=r"other MLP settings \(input_transform 'none' there, "
        r"'robust_smooth_clip' now; embedding 'none' there, 'periodic' now; "
        r"validation_metric 'loss' there, 'average_precision' now\)",
    ):
        _resume(reference_copy, binary_csv, run_options, FAST_METHODS)


def test_report_of_a_directory_of_the_plain_backbone_says_so(reference_copy):
    def drop_backbone(config):
        for key in PLAIN_BACKBONE:
            del config["mlp"][key]

    _edit_config(reference_copy, drop_backbone)
    text = build_summary(reference_copy).markdown()
    assert "no input transform or embeddings" in text
    assert "on the validation loss" in text
    assert "periodic" not in text


def test_resume_refuses_changed_data(reference_copy, run_options, write_user_table):
    output = reference_copy
    changed = write_user_table({"stay": 90, "churn": 30}, seed=1)
    with pytest.raises(BenchmarkDirectoryError, match="came from other data"):
        plan_benchmark(
            [TableSource(str(changed), "label")],
            ["ce"],
            output=output,
            **run_options,
        )


def test_directory_can_be_extended_with_methods(
    reference_copy, binary_csv, run_options
):
    output = reference_copy
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        ["ce", "balanced_ce"],
        output=output,
        **run_options,
    )
    # ce is done; only balanced_ce runs.
    assert (plan.n_done, plan.n_missing) == (4, 4)
    assert plan.config["methods"] == [*FAST_METHODS, "balanced_ce"]


class _RowSpy(TransformerMixin, BaseEstimator):
    """Wraps the real preprocessor and records the rows it is fitted on."""

    fitted_on: typing.ClassVar[list[np.ndarray]] = []

    def __init__(self, inner=None):
        self.inner = inner

    def fit(self, X, y=None):
        type(self).fitted_on.append(X.index.to_numpy().copy())
        self.inner.fit(X, y)
        return self

    def transform(self, X):
        return self.inner.transform(X)


class _SamplerSpy(BaseEstimator):
    """Identity sampler that records how many rows it resamples."""

    sizes: typing.ClassVar[list[int]] = []

    def fit_resample(self, X, y):
        type(self).sizes.append(len(X))
        return X, y


def test_preprocessing_and_resampling_see_only_the_training_fold(
    binary_csv, monkeypatch, tmp_path
):
    _RowSpy.fitted_on.clear()
    _SamplerSpy.sizes.clear()
    real_preprocessor = _methods.make_preprocessor

    def spying_preprocessor(X):
        return _RowSpy(real_preprocessor(X))

    monkeypatch.setitem(
        METHODS,
        "spy",
        MethodSpec(
            "spy",
            "resampling",
            lambda seed, mlp: (_SamplerSpy(), LogisticRegression()),
            preprocessor=spying_preprocessor,
        ),
    )
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        ["spy"],
        output=tmp_path,
        n_splits=3,
        n_repeats=2,
        max_epochs=1,
    )
    folds = [(task.train, task.test) for task in plan._tasks]
    assert plan.run(progress=False)["error"].eq("").all()
    # Per fold: the model, then a fresh copy on 75% of the training fold
    # that tunes the decision thresholds.
    assert len(_RowSpy.fitted_on) == 2 * len(folds) == 12
    outer, inner = _RowSpy.fitted_on[0::2], _RowSpy.fitted_on[1::2]
    for rows, tuning, (train, test) in zip(outer, inner, folds, strict=True):
        np.testing.assert_array_equal(np.sort(rows), np.sort(train))
        assert not set(rows) & set(test)
        assert set(tuning) < set(train)
        assert len(tuning) == pytest.approx(0.75 * len(train), abs=1)
    assert _SamplerSpy.sizes[0::2] == [len(train) for train, _ in folds]
    assert _SamplerSpy.sizes[1::2] == [len(rows) for rows in inner]
    # The test folds of a repeat partition the data.
    for repeat in range(2):
        tests = np.concatenate([test for _, test in folds[3 * repeat : 3 * repeat + 3]])
        assert sorted(tests) == list(range(120))


def test_failing_method_becomes_an_error_row(binary_csv, monkeypatch, tmp_path):
    class Broken(BaseEstimator):
        def fit(self, X, y):
            raise RuntimeError("this fold\nis broken")

    monkeypatch.setitem(
        METHODS,
        "broken",
        MethodSpec("broken", "reference", lambda s, m: (None, Broken())),
    )
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        ["broken", "logreg_balanced"],
        output=tmp_path,
        n_splits=2,
        n_repeats=1,
    )
    results = plan.run(progress=False)
    broken = results[results["method"] == "broken"]
    assert (broken["error"] == "RuntimeError: this fold is broken").all()
    assert broken[METRIC_COLUMNS].isna().all().all()
    assert results.loc[results["method"] != "broken", "error"].eq("").all()
    summary = write_report(tmp_path).read_text()
    assert "`broken` on `churn` failed on 2 fold(s)" in summary


def test_failed_folds_are_computed_again_on_resume(binary_csv, monkeypatch, tmp_path):
    class FailsOnce(BaseEstimator):
        def fit(self, X, y):
            raise MemoryError("out of memory")

    def broken(sampler, mlp):
        return None, FailsOnce()

    def fixed(sampler, mlp):
        return None, LogisticRegression()

    monkeypatch.setitem(METHODS, "flaky", MethodSpec("flaky", "reference", broken))
    options = {"output": tmp_path, "n_splits": 2, "n_repeats": 1}
    sources = [TableSource(str(binary_csv), "label")]
    plan_benchmark(sources, ["flaky", "logreg_balanced"], **options).run(progress=False)
    first = read_results(tmp_path / "results.csv")
    assert (
        first.loc[first["method"] == "flaky", "error"]
        .str.startswith("MemoryError")
        .all()
    )

    monkeypatch.setitem(METHODS, "flaky", MethodSpec("flaky", "reference", fixed))
    plan = plan_benchmark(sources, ["flaky", "logreg_balanced"], **options)
    assert (plan.n_retried, plan.n_done, plan.n_missing) == (2, 2, 2)
    results = plan.run(progress=False)
    assert results["error"].eq("").all()
    assert results[METRIC_COLUMNS].notna().all().all()
    raw = pd.read_csv(tmp_path / "results.csv")
    assert len(raw) == 4
    assert not raw.duplicated(KEY_COLUMNS).any()
    # The rows that did not fail are kept as they were, not recomputed.
    kept = first[first["method"] == "logreg_balanced"].reset_index(drop=True)
    again = results[results["method"] == "logreg_balanced"].reset_index(drop=True)
    pd.testing.assert_frame_equal(again, kept, check_exact=True)


def test_tune_records_the_chosen_hyperparameters(binary_csv, tmp_path):
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")],
        ["ghm", "rus"],
        output=tmp_path,
        n_splits=2,
        n_repeats=1,
        max_epochs=2,
        tune=True,
    )
    results = plan.run(progress=False)
    assert results["error"].eq("").all()
    ghm = results.loc[results["method"] == "ghm", "best_params"]
    assert ghm.str.fullmatch(r"bins=(5|10|30)").all()
    assert results.loc[results["method"] == "rus", "best_params"].eq("").all()
    summary = write_report(tmp_path).read_text()
    assert "## Tuned hyperparameters" in summary


def test_multiclass_end_to_end(write_user_table, tmp_path):
    path = write_user_table({"a": 50, "b": 28, "c": 12}, seed=2, name="three")
    plan = plan_benchmark(
        [TableSource(str(path), "label")],
        ["ghm", "rus"],
        output=tmp_path / "out",
        n_splits=2,
        n_repeats=1,
        max_epochs=2,
    )
    results = plan.run(progress=False)
    assert results["error"].eq("").all()
    assert results[METRIC_COLUMNS].notna().all().all()
    summary = write_report(tmp_path / "out").read_text()
    assert "drawn for binary datasets only" in summary
    assert not (tmp_path / "out" / "pr_curves.png").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"methods": ["ce", "nope"]}, "Unknown method.*'nope'"),
        ({"datasets": "nope"}, "Unknown dataset 'nope'"),
        ({"n_splits": 1}, "n_splits must be an integer >= 2"),
        ({"n_splits": 31}, "class 'churn' has 30 row"),
        ({"seed": True}, "seed must be an integer >= 0; got True"),
        ({"n_repeats": 1.5}, "n_repeats must be an integer >= 1; got 1.5"),
        ({"datasets": []}, "No dataset given"),
    ],
)
def test_plan_rejects_bad_input(kwargs, message, binary_csv, tmp_path):
    options = {
        "datasets": [TableSource(str(binary_csv), "label")],
        "methods": ["ce"],
        "output": tmp_path,
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        plan_benchmark(**options)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_jobs": 0}, r"n_jobs must be a non-zero integer .*; got 0\."),
        ({"n_jobs": "2"}, r"n_jobs must be a non-zero integer .*; got '2'\."),
        ({"retries": -1}, r"retries must be an integer >= 0; got -1\."),
        ({"worker_timeout": 0}, r"worker_timeout must be a positive number .*got 0"),
        ({"worker_timeout": math.inf}, r"worker_timeout must be a positive number"),
    ],
)
def test_run_rejects_bad_input(kwargs, message, binary_csv, tmp_path):
    plan = plan_benchmark(
        [TableSource(str(binary_csv), "label")], ["ce"], output=tmp_path
    )
    with pytest.raises(ValueError, match=message):
        plan.run(progress=False, **kwargs)
    assert plan.n_missing == 10


# ---------------------------------------------------------------------------
# The report of a real run
# ---------------------------------------------------------------------------


def test_report_names_a_winner_per_metric_and_draws_plots(reference_copy):
    summary = write_report(reference_copy).read_text()
    winners = summary.split("## Winners")[1].split("## ")[0]
    for label in METRICS.values():
        line = next(row for row in winners.splitlines() if f"**{label}**" in row)
        # One dataset: the best mean over the folds, not a rank.
        assert re.search(r"`(\w+)` (has|share) the best mean", line), line
        assert any(f"`{method}`" in line for method in FAST_METHODS)
    # One dataset: no Friedman test, said in words, and none computed.
    assert "One dataset: no Friedman test" in summary
    assert "Friedman chi-square" not in summary
    assert "## Comparison over folds" in summary
    assert f"Computed by skfocal {skfocal.__version__}." in summary
    plots = sorted(path.name for path in reference_copy.glob("*.png"))
    assert plots == ["pr_curves.png", "scores.png"]
    for plot in plots:
        assert (reference_copy / plot).stat().st_size > 0
        assert f"]({plot})" in summary
