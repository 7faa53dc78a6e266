"""Stop a run cleanly on Ctrl-C (SIGINT) or ``kill`` (SIGTERM).

While a run is going, both signals raise :class:`Interrupted` in the main thread, so the runner's cleanup
runs: the kernel is shut down, the CDP's partial folder is moved to ``outputs/.failed/<slug>/``, the
summary says which CDPs finished, and ``cdp`` exits 130 (SIGINT) or 143 (SIGTERM). A signal also sets a
flag that the runner checks between notebooks and between CDPs, so a run stops even if the exception was
raised somewhere that swallows it (a callback in the kernel client's event loop prints "Exception
ignored … KeyboardInterrupt" and carries on).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading

log = logging.getLogger(__name__)

_STOP: list[int] = []  # the signal that asked the run to stop, if any


class Interrupted(BaseException):  # noqa: N818 - named for what happened, like KeyboardInterrupt
    """The run was asked to stop by a signal. ``exit_status`` is 128 + the signal number (130, 143)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def _handler(signum, frame):
    first = not _STOP
    _STOP.append(signum)
    if first:
        log.warning("stop requested by %s", signal.Signals(signum).name)
        raise Interrupted(signum)


def check() -> None:
    """Raise :class:`Interrupted` if a signal asked the run to stop (call between units of work)."""
    if _STOP:
        raise Interrupted(_STOP[0])


def requested() -> int | None:
    """The signal that asked the run to stop, or None."""
    return _STOP[0] if _STOP else None


@contextlib.contextmanager
def handled():
    """Within this block (in the main thread), SIGINT and SIGTERM raise :class:`Interrupted`."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _STOP.clear()
    previous = {s: signal.signal(s, _handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
