"""Ctrl-C during a benchmark: stop at once, and never record the fold in flight."""

from __future__ import annotations

import signal
import threading

__all__ = ["InterruptGuard"]


class InterruptGuard:
    """Remember a Ctrl-C even when a library swallows the KeyboardInterrupt.

    skorch catches KeyboardInterrupt in its training loop and returns the
    half-trained net as if training had finished; without this guard the
    interrupted fold would be scored and written as a normal result. The
    handler still raises KeyboardInterrupt (to stop training at once) and
    also sets a flag that :meth:`check` turns into an exception once the
    task returns, so the task's result is dropped and recomputed on resume.

    Examples
    --------
    >>> from skfocal.benchmark._interrupt import InterruptGuard
    >>> with InterruptGuard() as guard:
    ...     guard.check()  # no Ctrl-C so far: nothing happens
    >>> guard.interrupted
    False
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._installed = False
        self._previous = None

    def _handler(self, signum, frame) -> None:
        self.interrupted = True
        raise KeyboardInterrupt

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed inside the block."""
        if self.interrupted:
            raise KeyboardInterrupt

    def __enter__(self) -> InterruptGuard:
        # Signal handlers can only be set from the main thread; elsewhere
        # the guard does nothing. A process that ignores SIGINT (started in
        # the background by a shell) keeps ignoring it.
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if current is not signal.SIG_IGN:
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous or signal.SIG_DFL)
            self._installed = False
