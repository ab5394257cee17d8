"""Tests for the ``skfocal`` command line (skfocal.cli, python -m skfocal)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
import typing
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import psutil
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
    # The winners of the summary object, one per metric, without Markdown.
    winners = out.splitlines()[: len(METRICS)]
    assert winners[0].startswith("- average precision: ")
    assert all(line.startswith("- ") for line in winners)
    assert not any("**" in line or "`" in line for line in winners)
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
    from skfocal.benchmark._dask import DEFAULT_WORKER_TIMEOUT

    args = cli.build_parser().parse_args(["benchmark"])
    assert args.max_epochs == benchmark.DEFAULT_MAX_EPOCHS
    assert args.worker_timeout == DEFAULT_WORKER_TIMEOUT
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
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--worker-timeout", "0"],
            "argument --worker-timeout: must be a positive number of seconds",
        ),
        (
            lambda d, o, t: [*_benchmark_args(d, o), "--worker-timeout", "nan"],
            "argument --worker-timeout: must be a positive number of seconds",
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
    # must import neither the benchmark package nor its optional extras, nor
    # numpy, pandas or scikit-learn (the sizes are a table in the module).
    command = ["-X", "importtime", "-m", "skfocal", "datasets", "--suite", "quick"]
    result = subprocess.run(
        [sys.executable, *command],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0].split() == list(datasets.DatasetInfo._fields)
    assert [line.split()[0] for line in lines[1:]] == [
        "yeast1",
        "ecoli3",
        "yeast4",
        "winequality-white-3_vs_7",
    ]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert "skfocal.cli" in imported
    assert "skfocal.datasets" in imported
    for module in ["skfocal.benchmark", "imblearn", "matplotlib"]:
        assert module not in imported
    for module in ["numpy", "pandas", "sklearn", "torch"]:
        assert module not in imported


def test_datasets_without_a_suite_counts_each_suite(run_cli):
    code, out, err = run_cli("datasets")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["suite", "datasets", "binary", "multiclass"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1:4]}
    for suite, names in datasets.SUITES.items():
        tasks = [datasets.dataset_info(name).task for name in names]
        binary = tasks.count("binary")
        assert rows[suite] == [str(len(names)), str(binary), str(len(names) - binary)]
    # Counts, not names: no dataset is listed by name.
    assert not any(name in out for name in datasets.SUITES["full"])
    assert "skfocal datasets --suite NAME" in out


def test_datasets_of_a_suite_are_a_table_of_the_listed_sizes(run_cli):
    code, out, _ = run_cli("datasets", "--suite", "ecoli3,page-blocks")
    assert code == 0
    listed = datasets.list_datasets("ecoli3,page-blocks")
    lines = out.splitlines()
    assert len(lines) == 3
    for line, row in zip(lines[1:], listed.itertuples(), strict=True):
        fields = line.split()
        assert fields[:4] == [
            row.name,
            str(row.n_samples),
            str(row.n_features),
            str(row.n_classes),
        ]
        assert float(fields[4]) == pytest.approx(row.imbalance_ratio, abs=0.05)
        assert float(fields[5]) == pytest.approx(row.minority_share, abs=5e-4)
        assert fields[6] == row.task
    code, _, err = run_cli("datasets", "--suite", "nope")
    assert code == 2
    assert err.startswith("skfocal: error: Unknown dataset 'nope'")


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


# ---------------------------------------------------------------------------
# Faults: a directory in use or damaged, a full disk, dropped rows
# ---------------------------------------------------------------------------


_HOLD_LOCK = (
    "import sys, time\n"
    "from skfocal.benchmark._lock import directory_lock\n"
    "with directory_lock(sys.argv[1]):\n"
    "    print('locked', flush=True)\n"
    "    time.sleep(600)\n"
)


@pytest.mark.slow
def test_two_commands_started_at_once_on_one_directory(data_csv, tmp_path):
    # Seen before the lock: both exited 0 with the rows of both seeds mixed.
    output = tmp_path / "shared"
    processes = [
        _start([*_benchmark_args(data_csv, output), "--seed", str(seed)])
        for seed in (0, 1)
    ]
    outcomes = [(p.wait(timeout=300), p.communicate()[1]) for p in processes]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 2], outcomes
    refused = next(err for code, err in outcomes if code == 2)
    assert refused.count("\n") == 1
    assert "is in use by another skfocal benchmark" in refused or (
        "another configuration (seed" in refused
    )
    winner = 0 if outcomes[0][0] == 0 else 1
    config = json.loads((output / "config.json").read_text())
    assert config["protocol"]["seed"] == winner
    raw = pd.read_csv(output / "results.csv")
    assert len(raw) == 4
    assert not raw.duplicated(KEY_COLUMNS).any()


def test_a_directory_in_use_is_refused_in_one_line(run_cli, data_csv, tmp_path):
    tmp_path.mkdir(exist_ok=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        code, out, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"skfocal: error: '{tmp_path}' is in use by another")
    assert not (tmp_path / "results.csv").exists()
    # The lock died with the process that held it.
    assert run_cli(*_benchmark_args(data_csv, tmp_path))[0] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "holds a JSON list, not an object"),
        ('{"format": 1}', "'protocol' is None, not an object"),
        ('{"format": 1, "protocol": 5}', "'protocol' is 5, not an object"),
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
    ],
)
def test_a_damaged_config_is_one_line(content, message, run_cli, data_csv, tmp_path):
    (tmp_path / "config.json").write_text(content)
    code, out, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert "is not a valid benchmark configuration" in err
    assert message in err
    assert "Traceback" not in err


def test_a_nul_line_in_results_is_computed_again(run_cli, data_csv, tmp_path):
    assert run_cli(*_benchmark_args(data_csv, tmp_path))[0] == 0
    lines = (tmp_path / "results.csv").read_text().splitlines(keepends=True)
    lines[2] = "\0" * 200 + "\n"
    (tmp_path / "results.csv").write_text("".join(lines))
    code, _, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    assert code == 0, err
    assert "3 of 4 folds done; 1 whose saved results were damaged will be" in err
    results = read_results(tmp_path / "results.csv")
    assert len(results) == 4
    assert "\0" not in (tmp_path / "results.csv").read_text()


def _full_disk_savefig(self, fname, *args, **kwargs):
    # Half a PNG reaches the disk, then it is full.
    Path(fname).write_bytes(b"\x89PNG\r\n\x1a\n")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_the_report_is_one_line(
    run_cli, data_csv, tmp_path, monkeypatch
):
    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _full_disk_savefig)
    code, out, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1, err
    assert err.startswith(f"skfocal: error: cannot write the report in '{tmp_path}'")
    assert "No space left on device" in err
    assert f"the results are complete in '{tmp_path / 'results.csv'}'" in err
    assert len(read_results(tmp_path / "results.csv")) == 4


def test_a_full_disk_while_planning_is_one_line_and_leaves_no_directory(
    run_cli, data_csv, tmp_path, monkeypatch
):
    from skfocal.benchmark import _plan

    def no_space(output, config):
        raise OSError(errno.ENOSPC, "No space left on device", str(output / "x"))

    monkeypatch.setattr(_plan, "write_config", no_space)
    output = tmp_path / "new" / "deeper" / "out"
    code, out, err = run_cli(*_benchmark_args(data_csv, output))
    # Not bad input: exit 1, as for a full disk during the run.
    assert code == 1
    assert out == ""
    assert err == f"skfocal: error: No space left on device: '{output / 'x'}'\n"
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_while_writing_the_report_leaves_no_truncated_png(
    run_cli, data_csv, tmp_path, monkeypatch
):
    import matplotlib.figure

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", _full_disk_savefig)
    assert run_cli(*_benchmark_args(data_csv, tmp_path))[0] == 1
    assert not list(tmp_path.glob("*.png"))


def test_rows_without_a_target_are_counted_on_the_console_and_in_the_config(
    run_cli, data_csv, tmp_path, monkeypatch
):
    from skfocal.benchmark import _task

    real_load_table = _task.load_table
    rows = list(range(3, 60, 4))

    def load_table(path, target):
        # The contract of skfocal.datasets.load_table for dropped rows.
        X, y = real_load_table(path, target)
        X.attrs["dropped_missing_target"] = rows
        return X, y

    monkeypatch.setattr(_task, "load_table", load_table)
    _task._load_cached.cache_clear()
    try:
        code, _, err = run_cli(*_benchmark_args(data_csv, tmp_path))
    finally:
        _task._load_cached.cache_clear()
    assert code == 0, err
    assert (
        "Dataset 'churn': 15 row(s) dropped because the target is missing "
        "(data rows 3, 7, 11, 15, 19, 23, 27, 31, 35, 39, ..., counting from 0)"
    ) in err
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["datasets"]["churn"]["dropped_missing_target"] == 15
    assert config["datasets"]["churn"]["dropped_missing_target_rows"] == rows


def test_a_table_with_missing_targets_says_what_was_dropped(
    run_cli, data_csv, tmp_path
):
    frame = pd.read_csv(data_csv)
    frame.loc[[5, 17], "label"] = None
    table = tmp_path / "gaps.csv"
    frame.to_csv(table, index=False)
    code, out, err = run_cli(*_benchmark_args(table, tmp_path / "out"))
    assert code == 0, err
    assert "Dataset 'gaps': 2 row(s) dropped because the target is missing " in err
    assert "(data rows 5, 17, counting from 0)" in err
    # Said once on the console, before the run; the report lists them too.
    assert "dropped" not in out
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "`gaps`: 2 row(s) with a missing target dropped" in summary
    config = json.loads((tmp_path / "out" / "config.json").read_text())
    assert config["datasets"]["gaps"]["dropped_missing_target"] == 2
    results = read_results(tmp_path / "out" / "results.csv")
    assert set(results["n_train"] + results["n_test"]) == {118}


# ---------------------------------------------------------------------------
# Start-up: no torch for --help
# ---------------------------------------------------------------------------


_HEAVY = ("torch", "skorch", "sklearn", "pandas", "imblearn", "matplotlib")


def test_the_cli_module_imports_nothing_heavy():
    # skfocal/__init__.py is replaced by an empty package, so that this checks
    # what skfocal.cli itself imports, and building the parser.
    code = (
        "import sys, types\n"
        "package = types.ModuleType('skfocal')\n"
        f"package.__path__ = [{str(Path(cli.__file__).parent)!r}]\n"
        "sys.modules['skfocal'] = package\n"
        "import skfocal.cli\n"
        "skfocal.cli.build_parser()\n"
        f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_import_skfocal_cli_does_not_import_torch():
    code = (
        "import sys, skfocal.cli\n"
        "print(sorted(m for m in ('torch', 'skorch') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------
# Worker processes die with the command
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_loky_workers_end_soon_after_a_kill_9(slow_args, tmp_path):
    process = _start(slow_args(tmp_path, "2"))
    workers: list[psutil.Process] = []
    try:
        _wait_for_rows(tmp_path, 1, process)
        workers = psutil.Process(process.pid).children(recursive=True)
        assert workers, "the benchmark runs no worker process"
    finally:
        # Only the command itself, as the out-of-memory killer would.
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()
    # joblib keeps idle workers for 300 s; these watch their parent instead.
    _, alive = psutil.wait_procs(workers, timeout=15)
    for worker in alive:
        worker.kill()
    assert not alive, f"worker processes outlived the killed command: {alive}"


def test_help_names_every_default_method(run_cli):
    code, out, _ = run_cli("benchmark", "--help")
    assert code == 0
    text = " ".join(out.split())
    assert f"default: all {len(benchmark.DEFAULT_METHODS)}: " in text
    listed = text.split(f"all {len(benchmark.DEFAULT_METHODS)}: ")[1].split(";")[0]
    assert listed.split(", ") == list(benchmark.DEFAULT_METHODS)
    assert f"the {len(benchmark.QUICK_METHODS)} of them" in text
