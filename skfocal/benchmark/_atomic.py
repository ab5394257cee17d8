"""Write a file whole or not at all, and name it when the disk says no.

A file written in place and cut short (a full disk, a kill) is worse than no
file: a truncated PNG or Markdown report looks finished, and a half-written
``config.json`` makes the directory unusable. Everything here writes to a
temporary file in the same directory and moves it over the target with
:func:`os.replace`, which is atomic on POSIX and Windows when both are on the
same file system. Errors from ``write`` calls carry no file name
("No space left on device"), so they are raised again naming the target.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "naming"]


def naming(exc: OSError, path: str | os.PathLike) -> OSError:
    """``exc`` with ``path`` as its file name, if it has none.

    Parameters
    ----------
    exc : OSError
        The error, for example from ``file.write``.
    path : str or path-like
        The file that was being written.

    Returns
    -------
    OSError
        ``exc`` itself when it names a file, else a new error of the same
        type, errno and message, naming ``path``.

    Examples
    --------
    >>> import errno
    >>> from skfocal.benchmark._atomic import naming
    >>> exc = naming(OSError(errno.ENOSPC, "No space left on device"), "a.csv")
    >>> exc.filename, exc.strerror
    ('a.csv', 'No space left on device')
    """
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, exc.strerror or os.strerror(exc.errno), str(path))


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary path that becomes ``path`` when the block ends without error.

    The temporary file sits next to ``path`` and keeps its suffix, so that
    writers that infer the format from it (``Figure.savefig``) still do. If
    the block raises, the temporary file is removed and ``path`` is left as it
    was; an :class:`OSError` is raised again naming ``path``.

    Parameters
    ----------
    path : str or path-like
        The file to (re)write.

    Yields
    ------
    pathlib.Path
        Where to write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfocal.benchmark._atomic import atomic_path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "note.txt"
    ...     with atomic_path(target) as partial:
    ...         _ = partial.write_text("done")
    ...     print(target.read_text(), sorted(p.name for p in Path(tmp).iterdir()))
    done ['note.txt']
    """
    path = Path(path)
    # The pid keeps two processes (which the directory lock should prevent)
    # from writing into the same temporary file.
    partial = path.with_name(f".{path.stem}.{os.getpid()}.partial{path.suffix}")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        named = naming(exc, path)
        if named is exc:
            raise
        raise named from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all.

    Parameters
    ----------
    path : str or path-like
        The file to (re)write.
    text : str
        Its new content.

    Raises
    ------
    OSError
        Naming ``path``; ``path`` keeps its old content.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skfocal.benchmark._atomic import atomic_write_text
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     atomic_write_text(Path(tmp) / "a.md", "# title\\n")
    ...     print((Path(tmp) / "a.md").read_text(), end="")
    # title
    """
    with atomic_path(path) as partial, partial.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        # The data must be on disk before the rename makes it the file.
        os.fsync(fh.fileno())
