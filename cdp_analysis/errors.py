"""The one exception type for bad input, and how it is shown to an analyst.

Every problem with what a user supplies (parameters, raw data files, area codes) is raised as
:class:`InputError`. It carries the file, the place in it (row/column, sheet, key) and what to do,
so the command line can print one readable message and exit with status 2, without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A problem with the analyst's input, explained in one readable message.

    Parameters
    ----------
    problem : str
        What is wrong, in plain words.
    file : str or Path, optional
        The file the problem is in.
    where : str, optional
        The place within the file: ``"row 12, column 'Code'"``, ``"sheet 'MYE2 - Persons'"``, ``"key 'members'"``.
    hint : str, optional
        What the analyst should do about it.
    """

    #: The longest problem text shown: a message names the cell that is wrong, it never repeats a whole file.
    MAX_PROBLEM = 600

    def __init__(self, problem: str, *, file: str | Path | None = None, where: str | None = None,
                 hint: str | None = None):
        self.problem = _printable(problem, self.MAX_PROBLEM)
        self.file = _printable(file, 300) if file is not None else None
        self.where = _printable(where, 300) if where is not None else None
        self.hint = _printable(hint, self.MAX_PROBLEM) if hint is not None else None
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """The full message: ``file: where: problem. hint``."""
        parts = [p for p in (self.file, self.where) if p]
        head = ": ".join(parts + [self.problem]) if parts else self.problem
        return f"{head}\n  -> {self.hint}" if self.hint else head

    def __reduce__(self):  # keep picklable (papermill/kernels may pickle exceptions)
        return (_rebuild, (self.problem, self.file, self.where, self.hint))


def _printable(text, limit: int) -> str:
    """``text`` with control characters (a terminal's escape sequences among them) shown as '?', line breaks kept,
    at most ``limit`` characters: what came from a file or a params value cannot drive the terminal."""
    text = "".join(ch if ch.isprintable() or ch == "\n" else "?" for ch in str(text))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _rebuild(problem, file, where, hint):
    return InputError(problem, file=file, where=where, hint=hint)


def closest(value: str, choices, n: int = 1) -> list[str]:
    """Return up to ``n`` of ``choices`` closest to ``value`` (case-insensitive), for 'did you mean' hints."""
    import difflib

    choices = [str(c) for c in choices]
    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(str(value).lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def shorten(value, limit: int = 60) -> str:
    """``value`` as a message shows it: printable characters only, at most ``limit`` characters (a message
    never repeats a whole cell, line or name of arbitrary length)."""
    text = "".join(ch if ch.isprintable() else "?" for ch in str(value))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def did_you_mean(value: str, choices) -> str:
    """A hint sentence naming the closest valid value, or an empty string."""
    hits = closest(value, choices, n=1)
    return f"did you mean '{hits[0]}'?" if hits else ""


class CannotRunError(InputError):
    """The system refused: a read-only or full disk, a missing permission, a CDP already being run.

    Shown like an :class:`InputError` (one message, what to do), with exit status 3: nothing is wrong with
    the analyst's input, but the run cannot go on. Earlier outputs are left as they were.
    """

    def __reduce__(self):
        return (_rebuild_cannot_run, (self.problem, self.file, self.where, self.hint))

    @classmethod
    def from_os_error(cls, exc: OSError, *, doing: str) -> CannotRunError:
        """The readable form of an ``OSError`` met while ``doing`` (e.g. 'writing the outputs of nottinghamshire')."""
        import errno

        path = exc.filename or None
        reason = exc.strerror or type(exc).__name__
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            hint = ("free some space on that disk, or write elsewhere with `cdp run --outputs DIR`; "
                    "the outputs of earlier runs are unchanged")
        elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            hint = ("write the outputs to a folder you can write to with `cdp run --outputs DIR`, or ask for "
                    "write permission; the outputs of earlier runs are unchanged")
        else:
            hint = "check the disk and the folder, then run again; the outputs of earlier runs are unchanged"
        return cls(f"the system refused while {doing}: {reason} (errno {exc.errno})", file=path, hint=hint)


def _rebuild_cannot_run(problem, file, where, hint):
    return CannotRunError(problem, file=file, where=where, hint=hint)
