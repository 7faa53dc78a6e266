"""One run per CDP at a time, and cleaning up after runs whose process died.

:class:`CdpLock` is a lock file ``outputs/.<slug>.lock`` holding the PID and host of the run that holds it.
A second run of the same CDP refuses with a clear message while the holder is alive; a lock left by a
process that no longer exists (killed with ``kill -9``, a machine crash) is taken over. Different CDPs
have different locks, so they still run side by side.

Temporary folders carry their creator's PID (``.<slug>.partial-<pid>-<random>``, ``.<slug>.old-<pid>-…``);
:func:`clean_stale` removes those whose process is gone.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import time
from pathlib import Path

from . import paths
from .errors import CannotRunError
from .files import remove_inside

log = logging.getLogger(__name__)

_TEMP = re.compile(r"^\.(?P<slug>.+)\.(?:partial|old)-(?P<pid>\d+)-")
_HOST = socket.gethostname()


class CdpBusyError(CannotRunError):
    """The CDP is being run by another live process. A batch of one CDP stops with it (exit status 3); in a
    parallel or Dask batch only that CDP is not done and the others go on."""


def alive(pid: int) -> bool:
    """True if a process with this PID exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


class CdpLock:
    """The lock of one CDP's output folder (a context manager)."""

    def __init__(self, root: Path, slug: str):
        self.path = paths.inside(root, Path(root) / f".{paths.check_slug(slug)}.lock")
        self.slug = slug

    def _holder(self) -> dict | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def acquire(self) -> None:
        """Take the lock, taking over a stale one; raise :class:`CannotRunError` if a live run holds it."""
        record = json.dumps({"pid": os.getpid(), "host": _HOST, "since": time.strftime("%Y-%m-%d %H:%M:%S")})
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder and holder.get("host") == _HOST and not alive(int(holder.get("pid", 0))):
                    log.warning("taking over the lock of %s left by process %s, which no longer runs",
                                self.slug, holder.get("pid"))
                    self.path.unlink(missing_ok=True)
                    continue
                if holder is None:  # being written this instant, or damaged: look again
                    time.sleep(0.05)
                    holder = self._holder()
                    if holder is None:
                        self.path.unlink(missing_ok=True)
                        continue
                raise CdpBusyError(
                    f"{self.slug} is already being run by process {holder.get('pid')} on {holder.get('host')} "
                    f"(since {holder.get('since')})", file=self.path,
                    hint=f"wait for that run to finish, then run `cdp run {self.slug}` again; other CDPs can run "
                         "meanwhile") from None
            except OSError as exc:
                raise CannotRunError.from_os_error(exc, doing=f"locking the outputs of {self.slug}") from None
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(record)
            return
        raise CannotRunError(f"could not lock the outputs of {self.slug}", file=self.path,
                            hint="remove the lock file if no run of this CDP is going, then run again")

    def release(self) -> None:
        holder = self._holder()
        if holder and holder.get("pid") == os.getpid() and holder.get("host") == _HOST:
            self.path.unlink(missing_ok=True)

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


def clean_stale(root: Path) -> list[Path]:
    """Remove temporary folders under ``root`` left by runs whose process has died; return what was removed."""
    removed = []
    try:
        entries = list(Path(root).iterdir())
    except OSError:
        return removed
    for p in entries:
        m = _TEMP.match(p.name)
        if not m or not (p.is_dir() or p.is_symlink()) or alive(int(m["pid"])):
            continue
        try:
            remove_inside(root, p)  # a link is removed, never followed
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                log.warning("could not remove %s: %s", p, exc)
            continue
        log.warning("removed %s, left by process %s, which no longer runs", p.name, m["pid"])
        removed.append(p)
    return removed
