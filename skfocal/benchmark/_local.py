"""Running the benchmark's tasks on this machine: in this process or in loky workers.

Parallel tasks run in joblib's loky worker processes, which joblib keeps for
reuse and ends after 300 s without work. When the main process is killed
with ``kill -9`` it cannot tell them to stop, so the workers, busy or idle,
lived on for minutes. Each worker therefore watches its parent: a daemon
thread, started by the first task the worker runs, ends the worker once its
parent process is gone (POSIX re-parents an orphan, so ``os.getppid()``
changes). A fold in flight in an orphaned worker is lost, as it is in the
killed process anyway.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence

import pandas as pd
from joblib import Parallel, delayed

from skfocal.benchmark._task import Task, run_task

__all__ = ["run_locally"]

# Seconds between two looks at the parent: an orphaned worker ends within it.
PARENT_POLL_INTERVAL = 0.5
_watching: set[int] = set()
_watching_lock = threading.Lock()


def _exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(PARENT_POLL_INTERVAL)
        if os.getppid() != parent:
            # No cleanup to do: results go to the parent, which is gone.
            os._exit(1)


def watch_parent(parent: int) -> bool:
    """End this process soon after process ``parent``, its parent, is gone.

    Does nothing in ``parent`` itself (tasks run in-process) or in a process
    whose parent is another one (nothing to tell). Idempotent.

    Parameters
    ----------
    parent : int
        The pid of the process that started this one.

    Returns
    -------
    bool
        Whether a watch is active for ``parent``.

    Examples
    --------
    >>> import os
    >>> from skfocal.benchmark._local import watch_parent
    >>> watch_parent(os.getpid())
    False
    """
    if parent == os.getpid() or os.getppid() != parent:
        return False
    with _watching_lock:
        if parent not in _watching:
            threading.Thread(
                target=_exit_when_orphaned,
                args=(parent,),
                name="skfocal-parent-watch",
                daemon=True,
            ).start()
            _watching.add(parent)
    return True


def _run_in_worker(task: Task, parent: int) -> tuple[dict, pd.DataFrame | None]:
    watch_parent(parent)
    return run_task(task)


def run_locally(
    tasks: Sequence[Task], n_jobs: int = 1
) -> Iterator[tuple[dict, pd.DataFrame | None]]:
    """Compute ``tasks`` here, yielding each result as it is ready.

    Parameters
    ----------
    tasks : sequence of Task
        What to compute.
    n_jobs : int, default=1
        Worker processes (joblib's loky backend), ``-1`` for every CPU; 1 runs
        the tasks one after the other in this process. Results do not depend
        on it.

    Yields
    ------
    row : dict
        A task's ``results.csv`` row.
    predictions : pandas.DataFrame or None
        Its out-of-fold scores, if it has any.
    """
    if n_jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            yield run_task(task)
        return
    parent = os.getpid()
    with Parallel(n_jobs=n_jobs, return_as="generator_unordered") as parallel:
        yield from parallel(delayed(_run_in_worker)(task, parent) for task in tasks)
