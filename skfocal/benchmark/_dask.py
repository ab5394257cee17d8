"""Running the benchmark's tasks on a Dask cluster.

Needs the ``dask`` extra: ``pip install "skfocal[dask]"``. Nothing imports
this module until a Dask run is asked for (``BenchmarkPlan.run(client=...)``,
``skfocal benchmark --dask`` or ``--scheduler``), so ``import skfocal`` and
``import skfocal.benchmark`` never import dask.

There is no scheduler of our own: every (dataset, method, repeat, fold) task
is one ``client.submit`` of the same function a local run calls, results
come back with :func:`distributed.as_completed`, and only the calling
process writes them, through the same store as a local run. Recovery is
Dask's: a task whose worker dies is rescheduled on another worker, and one
that raised on a worker before it could run (for example while being
unpickled) is resubmitted ``retries`` times. What Dask does not do is give
up when no worker is left (repeated kills, a nanny that stopped restarting
them): it waits forever. The run watches for that and ends after
``worker_timeout`` seconds without a worker, keeping what it finished.
The task unit is :mod:`skfocal.benchmark._task`, as for a local run; this
module does not import the local runner, nor the other way round.

Threads: each task trains with the estimators' ``n_threads`` (1 in the
benchmark), set in the thread that runs the task. Worker processes started
by a Dask nanny also get ``OMP_NUM_THREADS=1`` (Dask's
``distributed.nanny.pre-spawn-environ``). No worker plugin is needed; one
calling ``torch.set_num_threads`` from a worker's main thread would not even
reach its task threads that have already used torch (OpenMP's thread count
is a per-thread setting).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from skfocal.benchmark._task import TableSource, Task, load, run_task

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client, LocalCluster

__all__ = [
    "DEFAULT_WORKER_TIMEOUT",
    "import_distributed",
    "n_workers",
    "run_on_cluster",
    "start_local_cluster",
]

_INSTALL = 'pip install "skfocal[dask]"'
#: Seconds a Dask run waits while its cluster has no worker before it gives up.
DEFAULT_WORKER_TIMEOUT = 120.0
# Seconds between two looks for finished tasks (and for workers) when none
# has finished: results arrive in batches, so this only adds latency when idle.
_POLL_INTERVAL = 0.1


def import_distributed():
    """Import :mod:`distributed`, or say how to install it.

    Returns
    -------
    module
        The ``distributed`` package.

    Raises
    ------
    ImportError
        If dask.distributed is not installed.

    Examples
    --------
    >>> from skfocal.benchmark._dask import import_distributed
    >>> import_distributed().__name__
    'distributed'
    """
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            "Running the benchmark on Dask needs dask.distributed, which is not "
            f"installed: {_INSTALL}"
        ) from exc
    return distributed


def n_workers(n_jobs: int) -> int:
    """Worker processes for ``n_jobs``, read as joblib does.

    Parameters
    ----------
    n_jobs : int
        A positive count, or ``-1`` for every CPU, ``-2`` for all but one...

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> import os
    >>> from skfocal.benchmark._dask import n_workers
    >>> n_workers(3)
    3
    >>> n_workers(-1) == (os.cpu_count() or 1)
    True
    """
    if n_jobs > 0:
        return n_jobs
    return max(1, (os.cpu_count() or 1) + 1 + n_jobs)


def start_local_cluster(n_workers: int) -> LocalCluster:
    """A :class:`distributed.LocalCluster` for ``skfocal benchmark --dask``.

    ``n_workers`` worker processes of one thread each, listening on
    127.0.0.1 only. The scheduler's HTTP server (the dashboard, if bokeh is
    installed) takes a free port on 127.0.0.1, so that it never collides
    with another cluster's 8787.

    Parameters
    ----------
    n_workers : int
        Worker processes.

    Returns
    -------
    distributed.LocalCluster
        Close it when done (it is a context manager).

    Examples
    --------
    >>> from distributed import Client
    >>> from skfocal.benchmark._dask import start_local_cluster
    >>> with start_local_cluster(2) as cluster, Client(cluster) as client:
    ...     len(client.scheduler_info()["workers"])  # doctest: +SKIP
    2
    """
    distributed = import_distributed()
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


def _identity(value: Any) -> Any:
    return value


def _count_workers(client: Client) -> int:
    """Workers the scheduler knows now; 0 if it cannot be asked."""
    try:
        return len(client.nthreads())
    except (OSError, TimeoutError):
        # A scheduler that does not answer has no worker for us either.
        return 0


def _describe(task: Task) -> str:
    return f"{task.dataset}/{task.method} repeat {task.repeat} fold {task.fold}"


def run_on_cluster(
    client: Client,
    tasks: Sequence[Task],
    *,
    retries: int = 2,
    worker_timeout: float = DEFAULT_WORKER_TIMEOUT,
) -> Iterator[tuple[dict[str, Any], pd.DataFrame | None]]:
    """Run benchmark tasks on ``client``'s cluster, yielding results as they end.

    Bundled datasets are loaded by the workers themselves (once per worker
    process). A user table is loaded here and sent to the cluster once, as
    the result of a task that holds it: workers need not see the file, and
    if the worker holding the table dies the scheduler can make it again.

    Parameters
    ----------
    client : distributed.Client
        Connected to the cluster.
    tasks : sequence of Task
        The tasks to compute.
    retries : int, default=2
        Resubmissions of a task that raised on a worker.
    worker_timeout : float, default=DEFAULT_WORKER_TIMEOUT
        Seconds the cluster may have no worker at all (all killed, none
        started yet, the scheduler unreachable) before the run gives up.
        Dask itself would wait for one forever.

    Yields
    ------
    row : dict
        The task's ``results.csv`` row.
    predictions : pandas.DataFrame or None
        Its out-of-fold scores, if it has any.

    Raises
    ------
    RuntimeError
        Once every task has ended, if some could not be computed (their
        workers kept dying, or they raised on every try); or at once, when
        the cluster had no worker for ``worker_timeout`` seconds. The results
        yielded so far are the finished ones. Tasks still queued when the
        caller stops (or on KeyboardInterrupt, or on these errors) are
        cancelled.
    """
    distributed = import_distributed()
    token = uuid.uuid4().hex[:8]
    tables: dict[str, Any] = {}
    pending: dict[Any, Task] = {}
    try:
        for task in tasks:
            if isinstance(task.source, TableSource) and task.dataset not in tables:
                tables[task.dataset] = client.submit(
                    _identity,
                    load(task.source),
                    key=f"skfocal-table-{token}-{len(tables)}",
                    pure=False,
                )
        for index, task in enumerate(tasks):
            future = client.submit(
                run_task,
                task,
                tables.get(task.dataset),
                key=f"skfocal-fold-{token}-{index}",
                retries=retries,
                pure=False,
            )
            pending[future] = task
        failed: list[str] = []
        finished = distributed.as_completed(list(pending))
        no_worker_since: float | None = None
        while not finished.is_empty():
            batch = finished.next_batch(block=False)
            if not batch:
                # Waiting: make sure someone can still do the work.
                if _count_workers(client):
                    no_worker_since = None
                elif no_worker_since is None:
                    no_worker_since = time.monotonic()
                elif time.monotonic() - no_worker_since > worker_timeout:
                    raise RuntimeError(
                        f"The Dask cluster has had no worker for "
                        f"{worker_timeout:g} s; {len(pending)} task(s) were not "
                        "computed. The finished ones are saved; run again (with "
                        "workers) to compute the rest."
                    )
                time.sleep(_POLL_INTERVAL)
                continue
            for future in batch:
                task = pending.pop(future)
                try:
                    row, predictions = future.result()
                except Exception as exc:
                    failed.append(f"{_describe(task)} ({type(exc).__name__}: {exc})")
                    continue
                finally:
                    future.release()
                yield row, predictions
        if failed:
            raise RuntimeError(
                f"{len(failed)} task(s) could not be computed on the Dask "
                f"cluster: {'; '.join(failed[:3])}{'; ...' if len(failed) > 3 else ''}"
                ". The other results are saved; run again to compute the rest."
            )
    finally:
        if pending:
            client.cancel(list(pending))
        for future in tables.values():
            future.release()
