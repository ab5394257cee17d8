"""One benchmark at a time per output directory: an advisory file lock.

Two runs writing to one directory would mix rows of two configurations or
write every row twice. Whatever changes the directory (planning, running,
the report) holds ``OUTPUT/.skfocal.lock`` through :mod:`filelock`, which
takes an operating-system lock (``fcntl.flock`` on POSIX, ``LockFileEx`` on
Windows). The operating system releases it when the process ends, however it
ends, so a run killed with ``kill -9`` never blocks the next one. The lock
file itself stays: deleting it on release would let a process that opened it
just before lock a file that no longer has a name, next to a new one. The
one exception is a start that failed before anything else was written
(:func:`remove_if_unused`): a directory holding nothing but the lock file is
no benchmark, and bad input must not leave one behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from skfocal.benchmark._store import BenchmarkDirectoryError

__all__ = ["LOCK_FILE", "DirectoryInUseError", "directory_lock", "remove_if_unused"]

LOCK_FILE = ".skfocal.lock"
#: Seconds to wait for the lock before refusing. A command that is refused
#: (another configuration) holds the lock for the milliseconds it takes to
#: read ``config.json``; without a short wait, it could make the run that
#: owns the directory fail between planning and running.
LOCK_WAIT = 2.0


class DirectoryInUseError(BenchmarkDirectoryError):
    """Another process is running a benchmark in this output directory."""


@contextlib.contextmanager
def directory_lock(
    output: str | os.PathLike, *, wait: float = LOCK_WAIT
) -> Iterator[None]:
    """Hold the lock of the benchmark directory ``output`` for the block.

    Waits at most ``wait`` seconds, then refuses: a directory in use by a
    running benchmark is not waited for.

    Parameters
    ----------
    output : str or path-like
        An existing benchmark directory.
    wait : float, default=LOCK_WAIT
        Seconds to wait for another process to release the lock.

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
    lock = FileLock(Path(output) / LOCK_FILE, timeout=wait)
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


def remove_if_unused(
    output: str | os.PathLike, *, remove_directory: bool = True
) -> bool:
    """Undo a start that failed: remove a lock file that is alone, and its folder.

    When ``output`` holds nothing but :data:`LOCK_FILE` (or nothing at all),
    the lock file is removed while holding it, so that no other process holds
    it at that moment, and then, if ``remove_directory``, the empty folder.
    Anything else in the folder, or a lock held elsewhere, leaves everything
    as it is.

    Parameters
    ----------
    output : str or path-like
        A directory in which a benchmark failed to start.
    remove_directory : bool, default=True
        Whether to remove the folder too (False for a folder the user made).

    Returns
    -------
    bool
        Whether ``output`` is gone (or, with ``remove_directory=False``,
        empty).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfocal.benchmark._lock import directory_lock, remove_if_unused
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     output = Path(tmp) / "run"
    ...     output.mkdir()
    ...     with directory_lock(output):
    ...         pass
    ...     [path.name for path in output.iterdir()], remove_if_unused(output)
    ...     output.exists()
    (['.skfocal.lock'], True)
    False
    """
    output = Path(output)
    lock_file = output / LOCK_FILE

    def unused() -> bool:
        return all(path.name == LOCK_FILE for path in output.iterdir())

    try:
        if not unused():
            return False
        if lock_file.exists():
            with directory_lock(output, wait=0):
                if not unused():
                    return False
                # POSIX lets a held file be unlinked; Windows refuses (OSError),
                # and the lock file stays.
                lock_file.unlink()
        if remove_directory:
            output.rmdir()
    except (OSError, DirectoryInUseError):
        return False
    return True
