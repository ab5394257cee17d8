"""One benchmark at a time per output directory: an advisory file lock.

Two runs writing to one directory would mix rows of two configurations or
write every row twice. Whatever changes the directory (planning, running,
the report) holds ``OUTPUT/.skfocal.lock`` through :mod:`filelock`, which
takes an operating-system lock (``fcntl.flock`` on POSIX, ``LockFileEx`` on
Windows). The operating system releases it when the process ends, however it
ends, so a run killed with ``kill -9`` never blocks the next one. The lock
file itself stays: deleting it on release would let a process that opened it
just before lock a file that no longer has a name, next to a new one.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from skfocal.benchmark._store import BenchmarkDirectoryError

__all__ = ["LOCK_FILE", "DirectoryInUseError", "directory_lock"]

LOCK_FILE = ".skfocal.lock"
#: Seconds to wait for the lock before refusing. A command that is refused
#: (another configuration) holds the lock for the milliseconds it takes to
#: read ``config.json``; without a short wait, it could make the run that
#: owns the directory fail between planning and running.
LOCK_WAIT = 2.0


class DirectoryInUseError(BenchmarkDirectoryError):
    """Another process is running a benchmark in this output directory."""


@contextlib.contextmanager
def directory_lock(output: str | os.PathLike) -> Iterator[None]:
    """Hold the lock of the benchmark directory ``output`` for the block.

    Waits at most :data:`LOCK_WAIT` seconds, then refuses: a directory in use
    by a running benchmark is not waited for.

    Parameters
    ----------
    output : str or path-like
        An existing benchmark directory.

    Raises
    ------
    DirectoryInUseError
        If another process holds the lock (another open lock in this process
        counts too).

    Examples
    --------
    >>> import tempfile
    >>> from skfocal.benchmark._lock import directory_lock
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with directory_lock(tmp):
    ...         with directory_lock(tmp):
    ...             pass
    Traceback (most recent call last):
    ...
    skfocal.benchmark._lock.DirectoryInUseError: '...' is in use by another ...
    """
    lock = FileLock(Path(output) / LOCK_FILE, timeout=LOCK_WAIT)
    try:
        lock.acquire()
    except Timeout:
        raise DirectoryInUseError(
            f"'{output}' is in use by another skfocal benchmark (it holds "
            f"'{Path(output) / LOCK_FILE}'); wait until it ends, or choose "
            "another --output directory."
        ) from None
    try:
        yield
    finally:
        lock.release()
