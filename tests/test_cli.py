"""Tests for the ``skfocal`` command line (skfocal.cli, python -m skfocal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import typing
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from skorch.callbacks import Callback

from skfocal import ImbalancedMLPClassifier, benchmark, cli, datasets
from skfocal.benchmark import METRICS
from skfocal.benchmark._store import KEY_COLUMNS, read_results

METRIC_COLUMNS = list(METRICS)


@pytest.fixture(scope="module")
def data_csv(write_user_table) -> Path:
    """120 rows: string labels (30 'churn'), a categorical column, NaNs."""
    return write_user_table({"stay": 90, "churn": 30}, seed=0)


@pytest.fixture
def run_cli(capsys) -> Callable[..., tuple[int, str, str]]:
    """Run ``skfocal`` in-process; return exit code, stdout and stderr."""

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            code = cli.main([str(arg) for arg in argv])
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def _benchmark_args(data: Path, output: Path, *extra: str) -> list[str]:
    return [
        "benchmark",
        "--data",
        str(data),
        "--target",
        "label",
        "--methods",
        "ce,rus",
        "--folds",
        "2",
        "--repeats",
        "1",
        "--max-epochs",
        "3",
        "--n-jobs",
        "1",
        "--no-progress",
        "--output",
        str(output),
        *extra,
    ]


def _metrics_table(output: Path) -> pd.DataFrame:
    frame = read_results(output / "results.csv")
    return frame.sort_values(KEY_COLUMNS).reset_index(drop=True)[
        KEY_COLUMNS + METRIC_COLUMNS
    ]


def test_benchmark_writes_results_and_report(run_cli, data_csv, tmp_path):
    code, out, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    assert code == 0, err
    results = pd.read_csv(tmp_path / "results.csv")
    assert len(results) == 2 * 2
    assert list(results.columns[:4]) == KEY_COLUMNS
    for column in [*METRIC_COLUMNS, "fit_time", "predict_time", "error"]:
        assert column in results.columns
    assert (tmp_path / "config.json").exists()
    assert (tmp_path / "summary.md").exists()
    assert "average precision:" in out
    assert f"Report: {tmp_path / 'summary.md'}" in out
    # Rerunning a finished benchmark computes nothing and rewrites the report.
    code, _, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    assert code == 0
    assert "4 of 4 folds done" in err
    assert len(pd.read_csv(tmp_path / "results.csv")) == 4
    # A fold recorded as failed is computed again, and says so.
    results = pd.read_csv(tmp_path / "results.csv", dtype=str, keep_default_na=False)
    results.loc[0, METRIC_COLUMNS] = ""
    results.loc[0, "error"] = "MemoryError: out of memory"
    results.to_csv(tmp_path / "results.csv", index=False)
    code, _, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    assert code == 0
    assert "3 of 4 folds done; 1 that failed before will be computed again" in err
    results = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert len(results) == 4
    assert results["error"].eq("").all()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--suite", "quick"], benchmark.QUICK_METHODS),
        (["--suite", "quick,ecoli3"], benchmark.DEFAULT_METHODS),
        ([], benchmark.DEFAULT_METHODS),
        (["--suite", "quick", "--methods", "ghm, rus"], ("ghm", "rus")),
    ],
)
def test_default_methods_depend_on_the_suite(argv, expected):
    args = cli.build_parser().parse_args(["benchmark", *argv])
    assert cli._chosen_methods(args) == list(expected)


def test_default_epochs_match_the_benchmark_package():
    args = cli.build_parser().parse_args(["benchmark"])
    assert args.max_epochs == benchmark.DEFAULT_MAX_EPOCHS
    assert args.suite is None
    assert args.output == "benchmark-results"


@pytest.fixture
def bad_tables(tmp_path) -> Path:
    """A table with one class and one with a datetime column, in tmp_path."""
    pd.DataFrame({"x": [1.0, 2.0, 3.0], "label": ["a", "a", "a"]}).to_csv(
        tmp_path / "one.csv", index=False
    )
    pd.DataFrame(
        {"when": pd.date_range("2024-01-01", periods=4), "label": list("abab")}
    ).to_parquet(tmp_path / "dates.parquet")
    return tmp_path


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (
            lambda d, o, t: _benchmark_args(t / "missing.csv", o),
            "Data file not found",
        ),
        (
            lambda d, o, t: [
                *_benchmark_args(d, o)[:4],
                "nope",
                *_benchmark_args(d, o)[5:],
            ],
            "Target column 'nope' not found",
        ),
        (
            lambda d, o, t: _benchmark_args(t / "one.csv", o),
            "needs at least two classes",
        ),
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--methods", "ce,nope"],
            "Unknown method(s) 'nope'",
        ),
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--suite", "nope"],
            "Unknown dataset 'nope'",
        ),
        (
            lambda d, o, t: _benchmark_args(d, t / "one.csv" / "out"),
            "cannot write to output directory",
        ),
        (
            lambda d, o, t: ["benchmark", "--data", str(d), "--output", str(o)],
            "--data and --target go together",
        ),
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--folds", "1"],
            "argument --folds: must be an integer >= 2",
        ),
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--folds", "31"],
            "class 'churn' has 30 row(s)",
        ),
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--n-jobs", "0"],
            "argument --n-jobs: must be a non-zero integer",
        ),
        (lambda d, o, t: ["frobnicate"], "invalid choice: 'frobnicate'"),
        (
            lambda d, o, t: _benchmark_args(t / "dates.parquet", o),
            "Dataset 'dates': Columns with unsupported dtypes",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    make_args, message, run_cli, data_csv, bad_tables, tmp_path
):
    code, out, err = run_cli(*make_args(data_csv, tmp_path / "out", tmp_path))
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("skfocal: error: ")
    assert message in lines[0]
    assert "Traceback" not in err
    # Bad input leaves no empty output directory behind.
    assert not (tmp_path / "out").exists()


def test_parquet_without_an_engine_is_bad_input(
    run_cli, bad_tables, tmp_path, monkeypatch
):
    def no_engine(path):
        raise ImportError("Unable to find a usable engine")

    monkeypatch.setitem(datasets._READERS, ".parquet", no_engine)
    code, out, err = run_cli(
        *_benchmark_args(bad_tables / "dates.parquet", tmp_path / "out")
    )
    assert code == 2
    assert out == ""
    assert err.startswith("skfocal: error: Reading ")
    assert "needs pyarrow or fastparquet" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_other_configuration_is_refused(run_cli, data_csv, tmp_path):
    assert run_cli(*_benchmark_args(data_csv, tmp_path))[0] == 0
    code, _, err = run_cli(*_benchmark_args(data_csv, tmp_path), "--seed", "1")
    assert code == 2
    assert err.count("\n") == 1
    assert "another configuration (seed 0 there, 1 now)" in err


def test_bad_input_in_a_real_process(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "skfocal",
            "benchmark",
            "--data",
            str(tmp_path / "missing.csv"),
            "--target",
            "label",
            "--output",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("skfocal: error: Data file not found")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_python_m_skfocal_datasets_without_the_benchmark_extras():
    # -X importtime lists every imported module on stderr: listing datasets
    # must import neither the benchmark package nor its optional extras.
    command = ["-X", "importtime", "-m", "skfocal", "datasets", "--suite", "quick"]
    result = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["name", "n_samples", "n_features", "n_classes"]
    assert [line.split()[0] for line in lines[1:]] == [
        "yeast1",
        "ecoli3",
        "yeast4",
        "winequality-white-3_vs_7",
    ]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert "skfocal.cli" in imported
    for module in ["skfocal.benchmark", "imblearn", "matplotlib"]:
        assert module not in imported


def _start(args: list[str]) -> subprocess.Popen:
    # A new session: signals go to the command and its workers, as from a
    # terminal, and not to pytest.
    return subprocess.Popen(
        [sys.executable, "-m", "skfocal", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_rows(output: Path, n_rows: int, process: subprocess.Popen) -> None:
    results = output / "results.csv"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if results.exists() and results.read_text().count("\n") > n_rows:
            return
        time.sleep(0.02)
    raise AssertionError("the benchmark finished or stalled before it was killed")


@pytest.fixture
def slow_args(data_csv) -> Callable[[Path, str], list[str]]:
    """Benchmark arguments with enough work (12 folds) to interrupt."""

    def make(output: Path, n_jobs: str) -> list[str]:
        args = _benchmark_args(data_csv, output)
        args[args.index("--methods") + 1] = "ce,smote"
        args[args.index("--repeats") + 1] = "3"
        args[args.index("--max-epochs") + 1] = "40"
        args[args.index("--n-jobs") + 1] = n_jobs
        return args

    return make


def test_resume_after_kill(run_cli, slow_args, data_csv, tmp_path):
    reference, output = tmp_path / "reference", tmp_path / "killed"
    process = _start(slow_args(output, "1"))
    _wait_for_rows(output, 2, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    n_before = len(read_results(output / "results.csv"))
    assert 2 <= n_before < 12
    # Rerunning completes the grid: no row lost, none duplicated, and the
    # numbers equal those of an uninterrupted run.
    code, _, err = run_cli(*slow_args(output, "1"))
    assert code == 0
    assert f"{n_before} of 12 folds done" in err
    plan = benchmark.plan_benchmark(
        [benchmark.TableSource(str(data_csv), "label")],
        ["ce", "smote"],
        output=reference,
        n_splits=2,
        n_repeats=3,
        max_epochs=40,
    )
    plan.run(progress=False)
    raw = pd.read_csv(output / "results.csv")
    assert len(raw) == 12
    assert not raw.duplicated(KEY_COLUMNS).any()
    pd.testing.assert_frame_equal(
        _metrics_table(output), _metrics_table(reference), check_exact=True
    )


class _CtrlCDuringSecondFold(Callback):
    """Sends SIGINT to this process in the middle of the second fold's training.

    Each fold trains twice: the model, then a copy that tunes the decision
    thresholds on part of the training fold; the third training is the
    second fold's model.
    """

    fits: typing.ClassVar[list[int]] = []

    def on_train_begin(self, net, **kwargs):
        type(self).fits.append(1)

    def on_epoch_end(self, net, **kwargs):
        if len(type(self).fits) == 3 and len(net.history) == 2:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_keeps_results_and_says_how_to_resume(
    run_cli, data_csv, monkeypatch, tmp_path
):
    _CtrlCDuringSecondFold.fits.clear()

    def build(random_state, mlp_params):
        classifier = ImbalancedMLPClassifier(
            loss="ce",
            random_state=random_state,
            callbacks=[_CtrlCDuringSecondFold()],
            **mlp_params,
        )
        return None, classifier

    monkeypatch.setitem(
        benchmark.METHODS, "interrupted", benchmark.MethodSpec("", "loss", build)
    )
    args = _benchmark_args(data_csv, tmp_path)
    args[args.index("--methods") + 1] = "interrupted"
    code, out, err = run_cli(*args)
    assert code == 130
    assert out == ""
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"skfocal: interrupted; the 1 finished folds are kept in "
        f"'{tmp_path / 'results.csv'}'. Run the same command again to resume."
    )
    # skorch swallows the KeyboardInterrupt and returns a half-trained net;
    # that fold must not be recorded as a result.
    assert len(read_results(tmp_path / "results.csv")) == 1
    code, _, err = run_cli(*args)
    assert code == 0
    assert "1 of 2 folds done" in err
    assert len(read_results(tmp_path / "results.csv")) == 2
