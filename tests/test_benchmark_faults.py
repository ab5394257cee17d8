"""Faults of a benchmark directory: concurrent runs, damaged files, full disks.

Every test here reproduces one way a real run went wrong (two runs on one
directory, a crash that left NUL bytes, a line cut short, a file named like
a spreadsheet formula, a full disk) and checks that the benchmark refuses
clearly or repairs itself and ends with the numbers of an undisturbed run.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from skfocal.benchmark import (
    METRICS,
    BenchmarkDirectoryError,
    DirectoryInUseError,
    TableSource,
    _atomic,
    _store,
    plan_benchmark,
)
from skfocal.benchmark import _plan as plan_module
from skfocal.benchmark._lock import LOCK_FILE
from skfocal.benchmark._store import KEY_COLUMNS, read_predictions, read_results

METHODS = ["ce", "logreg_balanced"]
OPTIONS = {"n_splits": 2, "n_repeats": 2, "max_epochs": 2, "seed": 5}
N_TASKS = len(METHODS) * 2 * 2
# Every column that does not depend on the machine's speed.
COMPARED = [c for c in _store.RESULT_COLUMNS if c not in ("fit_time", "predict_time")]


@pytest.fixture(scope="module")
def table(write_user_table) -> Path:
    return write_user_table({"stay": 60, "churn": 20}, seed=3)


def _plan(table: Path, output: Path, **options):
    return plan_benchmark(
        [TableSource(str(table), "label")],
        METHODS,
        output=output,
        **{**OPTIONS, **options},
    )


@pytest.fixture(scope="module")
def reference(table, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("reference")
    _plan(table, output).run(progress=False)
    return output


@pytest.fixture
def copy(reference, tmp_path) -> Path:
    output = tmp_path / "copy"
    shutil.copytree(reference, output)
    return output


def _table(output: Path) -> pd.DataFrame:
    frame = read_results(output / "results.csv")
    return frame.sort_values(KEY_COLUMNS).reset_index(drop=True)[COMPARED]


def _assert_complete(output: Path, reference: Path) -> None:
    raw = (output / "results.csv").read_text().splitlines()
    assert len(raw) == 1 + N_TASKS
    pd.testing.assert_frame_equal(_table(output), _table(reference), check_exact=True)
    results = read_results(output / "results.csv")
    predictions = read_predictions(output / "predictions.csv", results)
    # Every row of the table once per method (first repeat, 80 rows).
    assert predictions.groupby("method")["row"].nunique().eq(80).all()
    assert predictions.groupby("method").size().eq(80).all()


# ---------------------------------------------------------------------------
# One run per directory
# ---------------------------------------------------------------------------


_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from skfocal.benchmark._lock import directory_lock
    with directory_lock(sys.argv[1]):
        print("locked", flush=True)
        time.sleep(600)
    """
)


def test_a_directory_in_use_is_refused_until_its_process_dies(table, copy, reference):
    # An interrupted run: two tasks done.
    (copy / "results.csv").write_text("".join(_lines(copy)[:3]))
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(copy)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(
            DirectoryInUseError, match=r"is in use by another skfocal benchmark"
        ):
            _plan(table, copy)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)
    # The lock died with its process: the next run proceeds and completes.
    plan = _plan(table, copy)
    assert plan.n_missing == N_TASKS - 2
    plan.run(progress=False)
    _assert_complete(copy, reference)


def test_a_plan_cannot_run_while_another_process_holds_the_directory(table, copy):
    plan = _plan(table, copy)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(copy)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(DirectoryInUseError, match=re.escape(str(copy))):
            plan.run(progress=False)
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=30)


# ---------------------------------------------------------------------------
# Damaged results and predictions are computed again
# ---------------------------------------------------------------------------


def _lines(output: Path, name: str = "results.csv") -> list[str]:
    return (output / name).read_text().splitlines(keepends=True)


def _nul_line(output: Path) -> None:
    lines = _lines(output)
    # A crash in the middle of the file: the page holds zeros.
    lines[3] = "\0" * 120 + "\n"
    (output / "results.csv").write_text("".join(lines))


def _cut_line(output: Path) -> None:
    lines = _lines(output)
    # Cut after the first metrics, then a newline: the line still parses,
    # with its other metrics empty (NaN).
    lines[2] = ",".join(lines[2].split(",")[:6]) + "\n"
    (output / "results.csv").write_text("".join(lines))


def _short_duplicate(output: Path) -> None:
    first = _lines(output)[1]
    # Only the key of a finished task: the last line would win.
    with (output / "results.csv").open("a") as fh:
        fh.write(",".join(first.split(",")[:4]) + "\n")


def _nan_scores(output: Path) -> None:
    lines = _lines(output)
    fields = lines[4].split(",")
    fields[4:6] = ["nan", "inf"]
    lines[4] = ",".join(fields)
    (output / "results.csv").write_text("".join(lines))


def _stray_quote(output: Path) -> None:
    lines = _lines(output)
    # An unmatched quote must not swallow the lines after it.
    lines[2] = '"' + lines[2]
    (output / "results.csv").write_text("".join(lines))


def _halved_predictions(output: Path) -> None:
    # Header and 2 of the 4 tasks' 40 rows each, then half a line.
    lines = _lines(output, "predictions.csv")
    assert len(lines) == 1 + 4 * 40
    (output / "predictions.csv").write_text("".join(lines[:81]) + lines[81][:9])


def _garbled_predictions(output: Path) -> None:
    lines = _lines(output, "predictions.csv")
    lines[7] = "\0" * 30 + "\n"
    lines[9] = "churn,ce,0\n"
    (output / "predictions.csv").write_text("".join(lines))


def _stray_quote_in_predictions(output: Path) -> None:
    lines = _lines(output, "predictions.csv")
    lines[45] = '"' + lines[45]
    (output / "predictions.csv").write_text("".join(lines))


@pytest.mark.parametrize(
    ("damage", "n_invalid", "n_missing"),
    [
        (_nul_line, 1, 1),
        (_cut_line, 1, 1),
        # The real line of that task is still there and stays.
        (_short_duplicate, 1, 0),
        (_nan_scores, 1, 1),
        (_stray_quote, 1, 1),
        (_halved_predictions, 2, 2),
        (_garbled_predictions, 1, 1),
        (_stray_quote_in_predictions, 1, 1),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_damaged_rows_are_computed_again(
    damage, n_invalid, n_missing, table, copy, reference
):
    damage(copy)
    plan = _plan(table, copy)
    assert plan.n_invalid == n_invalid
    assert (plan.n_done, plan.n_missing) == (N_TASKS - n_missing, n_missing)
    # The damage is gone from the files before anything runs.
    results, still_invalid = _store.scan_results(copy / "results.csv")
    assert still_invalid == 0
    assert len(results) == N_TASKS - n_missing
    plan.run(progress=False)
    _assert_complete(copy, reference)


def test_failed_rows_are_valid_rows(tmp_path):
    path = tmp_path / "results.csv"
    _store.repair_csv(path, _store.RESULT_COLUMNS)
    with _store.ResultWriter(tmp_path) as writer:
        writer.write(
            {"dataset": "d", "method": "m", "repeat": 0, "fold": 0, "error": "E: x"},
            None,
        )
    frame, n_invalid = _store.scan_results(path)
    assert (len(frame), n_invalid) == (1, 0)
    assert frame[list(METRICS)].isna().all().all()


def test_required_columns_follow_the_metrics():
    from skfocal.benchmark._threshold import TUNED_METRICS

    untuned = [metric for metric in METRICS if metric not in TUNED_METRICS]
    assert untuned
    required = _store.REQUIRED_COLUMNS
    assert required == [*untuned, "fit_time", "predict_time", "n_train", "n_test"]


# ---------------------------------------------------------------------------
# Spreadsheet formulas
# ---------------------------------------------------------------------------


def test_text_that_a_spreadsheet_would_run_is_escaped(write_user_table, tmp_path):
    source = write_user_table({"a": 30, "b": 10}, seed=1, name="=1+2")
    options = {"output": tmp_path, "n_splits": 2, "n_repeats": 1}
    sources = [TableSource(str(source), "label")]
    plan_benchmark(sources, ["logreg_balanced"], **options).run(progress=False)
    for name in ("results.csv", "predictions.csv"):
        data_lines = (tmp_path / name).read_text().splitlines()[1:]
        assert data_lines
        assert all(line.startswith("'=1+2,") for line in data_lines)
    results = read_results(tmp_path / "results.csv")
    assert set(results["dataset"]) == {"=1+2"}
    assert len(read_predictions(tmp_path / "predictions.csv", results)) == 40
    # Unescaped on reading, so the finished tasks are recognised.
    assert plan_benchmark(sources, ["logreg_balanced"], **options).n_missing == 0


@pytest.mark.parametrize(
    "text", ["=1+2", "+x", "-cmd", "@SUM(A1)", "\tx", "'quoted", "plain", ""]
)
def test_escaping_round_trips(text):
    escaped = _store.escape_text(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert _store.unescape_text(escaped) == text


# ---------------------------------------------------------------------------
# config.json that is not a configuration
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", r"holds a JSON list, not an object"),
        ('{"format": 1}', r"'protocol' is None, not an object"),
        ('{"format": 2}', r"its format is 2, not 1"),
        ('"text"', r"holds a JSON str"),
        ("{", r"not JSON"),
        ("[" * 100_000 + "]" * 100_000, r"nested too deeply"),
    ],
)
def test_config_that_is_not_a_configuration_is_one_clear_error(
    content, message, copy, table
):
    (copy / "config.json").write_text(content)
    with pytest.raises(
        BenchmarkDirectoryError, match=r"is not a valid benchmark configuration.*"
    ) as info:
        _plan(table, copy)
    assert info.match(message)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"protocol": "5 folds"}, r"'protocol' is '5 folds', not an object"),
        ({"protocol": {"folds": "2"}}, r"'protocol.folds' is '2', not an integer"),
        ({"datasets": []}, r"'datasets' is not an object of objects"),
        ({"methods": "ce"}, r"'methods' is not a list of strings"),
        ({"mlp": 3}, r"'mlp' is not an object"),
    ],
)
def test_config_with_wrong_types_is_one_clear_error(change, message, copy, table):
    config = json.loads((copy / "config.json").read_text())
    if isinstance(change.get("protocol"), dict):
        change = {"protocol": {**config["protocol"], **change["protocol"]}}
    (copy / "config.json").write_text(json.dumps({**config, **change}))
    with pytest.raises(BenchmarkDirectoryError, match=message):
        _plan(table, copy)


# ---------------------------------------------------------------------------
# Full disks
# ---------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux /dev/full")
def test_a_full_disk_during_the_run_names_the_file(table, tmp_path):
    plan = _plan(table, tmp_path)
    predictions = tmp_path / "predictions.csv"
    # Writes to /dev/full fail with ENOSPC, as on a full disk.
    predictions.unlink()
    predictions.symlink_to("/dev/full")
    with pytest.raises(OSError, match="No space left on device") as info:
        plan.run(progress=False)
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(predictions)


def _no_space_for_the_config(output: Path, config: dict) -> None:
    raise OSError(errno.ENOSPC, "No space left on device", str(output / "config.json"))


def test_a_full_disk_while_planning_leaves_no_empty_directory(
    table, copy, tmp_path, monkeypatch
):
    monkeypatch.setattr(plan_module, "write_config", _no_space_for_the_config)
    # A directory the plan made: gone, with its lock file.
    new = tmp_path / "new"
    with pytest.raises(OSError, match="No space left on device"):
        _plan(table, new)
    assert not new.exists()
    # A folder the user made stays, as empty as it was.
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(OSError, match="No space left on device"):
        _plan(table, mine)
    assert list(mine.iterdir()) == []
    # A benchmark directory keeps everything, its lock file included.
    before = sorted(path.name for path in copy.iterdir())
    assert LOCK_FILE in before
    with pytest.raises(OSError, match="No space left on device"):
        _plan(table, copy)
    assert sorted(path.name for path in copy.iterdir()) == before


class _DiskFull:
    """Writes half of what it is given, then fails like a full disk."""

    def __init__(self, fh):
        self._fh = fh

    def write(self, data):
        self._fh.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._fh.close()


def test_an_atomic_write_on_a_full_disk_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.md"
    target.write_text("old report\n")
    real_open = Path.open

    def full_open(self, *args, **kwargs):
        return _DiskFull(real_open(self, *args, **kwargs))

    monkeypatch.setattr(Path, "open", full_open)
    with pytest.raises(OSError, match="No space left on device") as info:
        _atomic.atomic_write_text(target, "new report " * 1000)
    monkeypatch.undo()
    assert info.value.filename == str(target)
    assert target.read_text() == "old report\n"
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]


def _save_half_a_figure(fig, target: Path) -> None:
    with _atomic.atomic_path(target) as partial:
        fig.savefig(partial)
        # savefig got half-way when the disk filled up.
        with partial.open("r+b") as fh:
            fh.truncate(partial.stat().st_size // 2)
        raise OSError(errno.ENOSPC, "No space left on device")


def test_an_atomic_figure_on_a_full_disk_leaves_no_truncated_png(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    target = tmp_path / "scores.png"
    fig = plt.figure()
    try:
        with pytest.raises(OSError, match="No space left on device") as info:
            _save_half_a_figure(fig, target)
    finally:
        plt.close(fig)
    assert info.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []
