"""Scale-out on Dask: searches under joblib's dask backend, the benchmark on a
cluster (``--scheduler``, ``--dask``), and recovery from a worker that dies.

One real ``LocalCluster`` of 2 single-threaded worker processes on 127.0.0.1
serves the whole module; it is closed at the end, and the test checks that
every worker process it started (including one restarted after a kill) is
gone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import psutil
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from skorch.callbacks import Callback

from skfocal import FocalClassifier
from skfocal.benchmark import TableSource, plan_benchmark
from skfocal.benchmark._store import (
    KEY_COLUMNS,
    PREDICTION_COLUMNS,
    RESULT_COLUMNS,
    ResultWriter,
    read_predictions,
    read_results,
    repair_csv,
    task_keys,
)
from skfocal.cli import main

try:
    import dask
    import distributed
except ImportError as exc:  # pragma: no cover - dask is in the dev extra
    raise ImportError(
        "tests/test_dask.py needs dask.distributed, which is in skfocal's 'dask' "
        "and 'dev' extras: pip install -e '.[dev]'"
    ) from exc

from skfocal.benchmark import _dask

# Every column but the timings, which differ from run to run.
COMPARED_COLUMNS = [c for c in RESULT_COLUMNS if c not in ("fit_time", "predict_time")]
METHODS = ["ce", "focal", "rus"]
# 12 folds of about 0.1 s each: long enough to kill a worker while it works.
OPTIONS = {"n_splits": 2, "n_repeats": 2, "max_epochs": 60, "seed": 3}


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worker_pids() -> set[int]:
    """Every worker process the cluster fixture has had, for the final check."""
    return set()


@pytest.fixture(scope="module")
def cluster(worker_pids) -> Iterator[distributed.LocalCluster]:
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    try:
        yield cluster
    finally:
        cluster.close()
        # No process left behind: every worker (and restarted worker) is gone.
        processes = []
        for pid in worker_pids:
            with contextlib.suppress(psutil.NoSuchProcess):
                processes.append(psutil.Process(pid))
        _, alive = psutil.wait_procs(processes, timeout=30)
        assert not alive, f"worker processes still alive: {alive}"


@pytest.fixture(scope="module")
def client(cluster, worker_pids) -> Iterator[distributed.Client]:
    with distributed.Client(cluster) as client:
        client.wait_for_workers(2, timeout=120)
        worker_pids.update(client.run(os.getpid).values())
        yield client


@pytest.fixture(scope="module")
def table_csv(write_user_table) -> Path:
    """400 rows, string labels (100 'churn'), a categorical column, NaNs."""
    return write_user_table({"stay": 300, "churn": 100}, seed=0)


def _plan(table_csv: Path, output: Path, **options):
    return plan_benchmark(
        [TableSource(str(table_csv), "label")],
        METHODS,
        output=output,
        **{**OPTIONS, **options},
    )


@pytest.fixture(scope="module")
def local_run(table_csv, tmp_path_factory) -> Path:
    """The same benchmark run locally, in this process: the reference."""
    output = tmp_path_factory.mktemp("local")
    _plan(table_csv, output).run(progress=False)
    return output


def _results(output: Path) -> pd.DataFrame:
    frame = read_results(output / "results.csv")
    return frame.sort_values(KEY_COLUMNS).reset_index(drop=True)[COMPARED_COLUMNS]


def _predictions(output: Path) -> pd.DataFrame:
    frame = read_predictions(
        output / "predictions.csv", read_results(output / "results.csv")
    )
    return frame.sort_values([*KEY_COLUMNS, "row"]).reset_index(drop=True)


def _assert_same_as_local(output: Path, local: Path) -> None:
    raw = pd.read_csv(output / "results.csv")
    assert len(raw) == len(METHODS) * OPTIONS["n_splits"] * OPTIONS["n_repeats"]
    assert not raw.duplicated(KEY_COLUMNS).any()
    assert raw["error"].isna().all()
    pd.testing.assert_frame_equal(_results(output), _results(local), check_exact=True)
    pd.testing.assert_frame_equal(
        _predictions(output), _predictions(local), check_exact=True
    )


# ---------------------------------------------------------------------------
# Estimators on workers: grid and randomized search, pickling, threads
# ---------------------------------------------------------------------------


class _RecordThreads(Callback):
    """Logs torch's thread count of the training thread at every epoch."""

    def on_epoch_end(self, net, **kwargs):
        net.history.record("torch_threads", torch.get_num_threads())


def _data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(
        n_samples=200, n_features=8, weights=[0.85], random_state=0
    )


def _estimator(**params) -> FocalClassifier:
    return FocalClassifier(
        hidden_layer_sizes=(16,), max_epochs=3, batch_size=32, random_state=0, **params
    )


def _search(kind: str):
    grid = {"gamma": [0.0, 1.0, 2.0], "alpha": [None, 0.75]}
    if kind == "grid":
        return GridSearchCV(_estimator(), grid, cv=2, scoring="average_precision")
    return RandomizedSearchCV(
        _estimator(), grid, n_iter=4, cv=2, scoring="average_precision", random_state=0
    )


@pytest.mark.parametrize("kind", ["grid", "randomized"])
def test_search_under_the_dask_backend_equals_the_local_search(client, kind):
    X, y = _data()
    local = _search(kind).fit(X, y)
    remote = _search(kind).set_params(n_jobs=-1)
    with (
        distributed.get_task_stream(client) as stream,
        joblib.parallel_backend("dask", client=client),
    ):
        remote.fit(X, y)
    # The fits ran on the cluster's workers, not in this process.
    assert stream.data
    assert {task["worker"] for task in stream.data} <= set(client.nthreads())
    assert remote.best_params_ == local.best_params_
    for key in ["mean_test_score", "split0_test_score", "split1_test_score"]:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert remote.cv_results_["params"] == local.cv_results_["params"]


def _fit_on_worker(estimator: FocalClassifier, X, y) -> tuple[FocalClassifier, dict]:
    """Fit on a worker whose task thread has 2 torch threads; report its state."""
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        rng_state = torch.random.get_rng_state()
        estimator.fit(X, y)
        info = {
            "pid": os.getpid(),
            "threads_after_fit": torch.get_num_threads(),
            "rng_untouched": bool(torch.equal(rng_state, torch.random.get_rng_state())),
            "cuda": torch.cuda.is_available(),
        }
    finally:
        torch.set_num_threads(threads)
    return estimator, info


@pytest.mark.parametrize("n_threads", [1, 2])
def test_estimator_pickles_to_a_worker_and_back_with_its_threads(client, n_threads):
    X, y = _data()
    estimator = _estimator(n_threads=n_threads, callbacks=[_RecordThreads()])
    local = _fit_on_worker(clone(estimator), X, y)[0]
    fitted, info = client.submit(_fit_on_worker, estimator, X, y, pure=False).result()
    assert info["pid"] != os.getpid()
    # The estimator was sent unfitted and left no global state behind.
    assert not hasattr(estimator, "net_")
    assert info["threads_after_fit"] == 2
    assert info["rng_untouched"]
    # n_threads holds in the worker's task thread during training.
    assert fitted.net_.history[:, "torch_threads"] == [n_threads] * 3
    # device="auto" resolved on the worker, to what that worker has.
    assert fitted.net_.device == ("cuda" if info["cuda"] else "cpu")
    np.testing.assert_array_equal(fitted.predict_proba(X), local.predict_proba(X))
    assert fitted.get_params()["gamma"] == estimator.gamma


def test_workers_start_with_one_torch_thread(client):
    # Dask's nanny starts workers with OMP_NUM_THREADS=1
    # (distributed.nanny.pre-spawn-environ), so code that does not set the
    # thread count (n_threads=None) does not oversubscribe the cores either.
    def threads() -> int:
        return torch.get_num_threads()

    assert dask.config.get("distributed.nanny.pre-spawn-environ.OMP_NUM_THREADS") == 1
    assert set(client.run(threads).values()) == {1}
    assert client.submit(threads, pure=False).result() == 1


# ---------------------------------------------------------------------------
# The benchmark on a cluster
# ---------------------------------------------------------------------------


def _cli_args(table_csv: Path, output: Path, *extra: str) -> list[str]:
    return [
        "benchmark",
        "--data",
        str(table_csv),
        "--target",
        "label",
        "--methods",
        ",".join(METHODS),
        "--folds",
        str(OPTIONS["n_splits"]),
        "--repeats",
        str(OPTIONS["n_repeats"]),
        "--max-epochs",
        str(OPTIONS["max_epochs"]),
        "--seed",
        str(OPTIONS["seed"]),
        "--no-progress",
        "--output",
        str(output),
        *extra,
    ]


def _run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_on_a_scheduler_equals_the_local_run(
    client, table_csv, local_run, tmp_path, capsys
):
    address = client.scheduler.address
    code, out, err = _run_cli(
        capsys, _cli_args(table_csv, tmp_path, "--scheduler", address)
    )
    assert code == 0, err
    assert f"Running 12 folds on the Dask scheduler at {address}" in err
    assert "Report:" in out
    _assert_same_as_local(tmp_path, local_run)
    # Nothing of ours is left on the cluster.
    assert not client.run_on_scheduler(
        lambda dask_scheduler: [k for k in dask_scheduler.tasks if "skfocal" in k]
    )


def test_resume_on_the_cluster_computes_only_what_is_missing(
    client, table_csv, local_run, tmp_path
):
    # A run cut off after 5 folds, with half a line at the end.
    lines = (local_run / "results.csv").read_text().splitlines(keepends=True)
    (tmp_path / "results.csv").write_text("".join(lines[:6]) + lines[6][:20])
    for name in ("config.json", "predictions.csv"):
        (tmp_path / name).write_text((local_run / name).read_text())
    plan = _plan(table_csv, tmp_path)
    assert plan.n_done == 5
    plan.run(client=client, progress=False)
    raw = pd.read_csv(tmp_path / "results.csv")
    assert not raw.duplicated(KEY_COLUMNS).any()
    pd.testing.assert_frame_equal(
        _results(tmp_path), _results(local_run), check_exact=True
    )


def test_tasks_that_fail_on_the_cluster_are_reported_not_written(
    client, table_csv, tmp_path
):
    plan = _plan(table_csv, tmp_path, n_repeats=1, max_epochs=2)
    # A task that raises on the worker before the method runs (here: its
    # dataset cannot be loaded there) is retried, then reported; the others
    # are written, and the failed one is left for the next run.
    first = plan._tasks[0]
    plan._tasks[0] = dataclasses.replace(
        first, source="no-such-dataset", dataset="no-such-dataset"
    )
    with pytest.raises(
        RuntimeError, match=r"^1 task\(s\) could not be computed.*no-such-dataset/"
    ):
        plan.run(client=client, progress=False, retries=1)
    assert plan.n_missing == 1
    results = read_results(tmp_path / "results.csv")
    assert len(results) == len(METHODS) * 2 - 1
    key = (first.dataset, first.method, first.repeat, first.fold)
    assert key not in set(zip(*[results[c] for c in KEY_COLUMNS], strict=True))
    assert _plan(table_csv, tmp_path, n_repeats=1, max_epochs=2).n_missing == 1


def _table_holders(dask_scheduler) -> list[str]:
    return [
        worker.address
        for key, task in dask_scheduler.tasks.items()
        if str(key).startswith("skfocal-table")
        for worker in task.who_has
    ]


def _killer(
    client: distributed.Client, results: Path, pids: set[int]
) -> tuple[threading.Thread, dict]:
    """A thread that SIGKILLs a worker process once the first row is written.

    The victim is a worker that holds the user table the tasks need, so the
    scheduler must also find (or make again) the table for the rescheduled
    tasks.
    """
    worker_pids = client.run(os.getpid)
    pids.update(worker_pids.values())
    state: dict = {"rows_at_kill": None}

    def run() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if results.exists() and results.read_text().count("\n") >= 2:
                holders = client.run_on_scheduler(_table_holders)
                os.kill(worker_pids[holders[0]], signal.SIGKILL)
                state["rows_at_kill"] = results.read_text().count("\n") - 1
                return
            time.sleep(0.005)

    return threading.Thread(target=run, daemon=True), state


def _suspicious(client: distributed.Client) -> int:
    """Tasks of the benchmark that were running on a worker when it died."""

    def count(dask_scheduler) -> int:
        prefix = dask_scheduler.task_prefixes.get("skfocal-fold")
        return 0 if prefix is None else prefix.suspicious

    return client.run_on_scheduler(count)


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    client, table_csv, local_run, tmp_path, worker_pids
):
    before = _suspicious(client)
    plan = _plan(table_csv, tmp_path)
    thread, state = _killer(client, tmp_path / "results.csv", worker_pids)
    thread.start()
    plan.run(client=client, progress=False)
    thread.join(timeout=10)
    assert state["rows_at_kill"] is not None, "the run ended before the kill"
    assert state["rows_at_kill"] < 12
    # The scheduler saw tasks in flight on the dead worker and rescheduled them.
    assert _suspicious(client) > before
    _assert_same_as_local(tmp_path, local_run)
    # The nanny restarts the worker; record it for the no-leftover check.
    client.wait_for_workers(2, timeout=120)
    worker_pids.update(client.run(os.getpid).values())


def test_a_cluster_left_without_workers_ends_the_run_and_keeps_what_finished(
    table_csv, tmp_path
):
    # A scheduler of its own and one worker process without a nanny, as on a
    # remote machine: once it is killed no worker is left and none restarts.
    # Dask alone would wait for one forever.
    cluster = distributed.LocalCluster(
        n_workers=0, host="127.0.0.1", dashboard_address=None
    )
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            cluster.scheduler_address,
            "--no-nanny",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = tmp_path / "results.csv"

    def kill_the_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if results.exists() and results.read_text().count("\n") >= 2:
                worker.kill()
                return
            time.sleep(0.005)

    try:
        with distributed.Client(cluster) as client:
            client.wait_for_workers(1, timeout=120)
            assert client.run(os.getpid) == {
                address: worker.pid for address in client.nthreads()
            }
            plan = _plan(table_csv, tmp_path)
            killer = threading.Thread(target=kill_the_worker, daemon=True)
            killer.start()
            start = time.monotonic()
            with pytest.raises(
                RuntimeError,
                match=r"^The Dask cluster has had no worker for 2 s; \d+ task\(s\) "
                r"were not computed\. The finished ones are saved",
            ):
                plan.run(client=client, progress=False, worker_timeout=2)
            elapsed = time.monotonic() - start
            killer.join(timeout=10)
    finally:
        worker.kill()
        worker.wait(timeout=30)
        cluster.close(timeout=30)
    assert elapsed < 60
    finished = read_results(results)
    assert 1 <= len(finished) < 12
    assert plan.n_missing == 12 - len(finished)


# ---------------------------------------------------------------------------
# The store, the command line, and imports
# ---------------------------------------------------------------------------


def test_writer_never_writes_a_task_twice(tmp_path):
    repair_csv(tmp_path / "results.csv", RESULT_COLUMNS)
    repair_csv(tmp_path / "predictions.csv", PREDICTION_COLUMNS)
    row = {"dataset": "d", "method": "ce", "repeat": 0, "fold": 1, "error": "E: x"}
    with ResultWriter(tmp_path) as writer:
        assert writer.write(row, None)
        assert not writer.write({**row, "error": "again"}, None)
    # Rows already in the file count too, as after a resume.
    done = task_keys(read_results(tmp_path / "results.csv"))
    with ResultWriter(tmp_path, done) as writer:
        assert not writer.write(row, None)
        assert writer.write({**row, "fold": 2}, None)
    raw = pd.read_csv(tmp_path / "results.csv", keep_default_na=False)
    assert raw[["dataset", "fold", "error"]].values.tolist() == [
        ["d", 1, "E: x"],
        ["d", 2, "E: x"],
    ]


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (
            ["--dask", "--scheduler", "tcp://127.0.0.1:1"],
            2,
            r"argument --scheduler: not allowed with argument --dask",
        ),
        (
            ["--scheduler", "tcp://127.0.0.1:1"],
            1,
            r"cannot connect to the Dask scheduler at tcp://127.0.0.1:1",
        ),
    ],
)
def test_cli_dask_errors_are_one_line(
    table_csv, tmp_path, capsys, extra, code, message
):
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        got, out, err = _run_cli(capsys, _cli_args(table_csv, tmp_path, *extra))
    assert got == code
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("skfocal: error: ")
    assert re.search(message, err)


def test_cli_says_how_to_install_dask(table_csv, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ImportError, match=r"pip install \"skfocal\[dask\]\""):
        _dask.import_distributed()
    code, out, err = _run_cli(capsys, _cli_args(table_csv, tmp_path, "--dask"))
    assert code == 2
    assert out == ""
    assert "needs dask.distributed, which is not installed" in err
    assert 'pip install "skfocal[dask]"' in err


def test_cli_dask_starts_and_stops_a_local_cluster(
    table_csv, local_run, tmp_path, capsys
):
    # One worker keeps this cheap; the numbers are those of a local run.
    children_before = {p.pid for p in psutil.Process().children(recursive=True)}
    code, _, err = _run_cli(
        capsys, _cli_args(table_csv, tmp_path, "--dask", "--n-jobs", "1")
    )
    assert code == 0, err
    assert "on a local Dask cluster of 1 worker(s)" in err
    _assert_same_as_local(tmp_path, local_run)
    new = [
        p
        for p in psutil.Process().children(recursive=True)
        if p.pid not in children_before
    ]
    _, alive = psutil.wait_procs(new, timeout=30)
    assert not alive


def test_neither_skfocal_nor_its_benchmark_imports_dask():
    code = (
        "import sys, skfocal, skfocal.benchmark, skfocal.cli; "
        "print(sorted(m for m in ('dask', 'distributed') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.strip() == "[]"
