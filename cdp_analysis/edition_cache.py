"""All-area results computed once per data edition and kept on disk, for every CDP, worker and run to read.

Much of what a chapter builds is the same for every CDP: England's and every area's figures behind a funnel, a
league table or the slope of harm across England's districts. :func:`cdp_analysis.memo.memoised` keeps such a
result in memory for the rest of a process; :func:`once_per_edition` also keeps it on disk, in ``<cache>/edition/`` beside the parquet
copies of the raw files (``CDP_ANALYSIS_CACHE``, default ``data/cache``), so that a batch computes it once, not once
per worker, and a single ``cdp run`` (or a notebook opened in JupyterLab) reads it too.

A result is keyed by the function, its arguments and the **edition**: the SHA-256 of
:func:`cdp_analysis.jobs.shared_inputs` — the package's code (every module), the data register, the bytes of every
file in ``data/raw``, the catalogue and downloaded exports. So a changed file, a newly registered edition or an edit
to any module gives a new key, and the result is computed afresh; each function keeps the results of its
:data:`KEEP_EDITIONS` most recently written editions. A file that cannot be read (cut short, from another pandas) is computed again and replaced. The
files are pickles written by this package into its own cache folder; ``CDP_ANALYSIS_EDITION_CACHE=off`` turns the
disk layer off (the in-memory one stays).

What may be decorated: a function whose result depends only on its arguments and on the files above (not on a
CDP's local data, the date or the environment).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pickle
import time
from collections import OrderedDict
from collections.abc import Callable
from copy import deepcopy
from typing import TypeVar

from . import paths
from .files import write_atomic
from .memo import memoised, register

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable)

#: Environment variable: 'off' keeps results in memory only.
SWITCH_ENV = "CDP_ANALYSIS_EDITION_CACHE"
#: The cache's sub-folder.
FOLDER = "edition"


def edition_key() -> str:
    """SHA-256 (hex) of everything an all-area result depends on (:func:`cdp_analysis.jobs.shared_inputs`), and the
    pandas options the package sets (:data:`cdp_analysis.PANDAS_OPTIONS`) as they are now: a result kept with
    text held one way is not read where it is held another (tables of the two would not merge alike)."""
    import pandas as pd

    from . import PANDAS_OPTIONS

    options = json.dumps({name: str(pd.get_option(name)) for name in PANDAS_OPTIONS}, sort_keys=True)
    return hashlib.sha256(f"{_inputs_digest()} {options}".encode()).hexdigest()


@memoised()
def _inputs_digest() -> str:
    """SHA-256 (hex) of :func:`cdp_analysis.jobs.shared_inputs` (once per process, until the caches are cleared)."""
    from . import jobs

    return hashlib.sha256(json.dumps(jobs.shared_inputs(), sort_keys=True, default=str).encode()).hexdigest()


def _argument_key(args: tuple, kwargs: dict) -> str:
    text = repr((args, sorted(kwargs.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def enabled() -> bool:
    """Whether results are kept on disk (:data:`SWITCH_ENV` is not 'off')."""
    return os.environ.get(SWITCH_ENV, "").lower() != "off"


#: Editions whose results are kept per function (the newest written): a project whose data changed back and forth,
#: or two projects sharing a cache folder, do not recompute at each switch.
KEEP_EDITIONS = 3


def _prune(folder, name: str) -> None:
    """Remove ``name``'s results of all but the :data:`KEEP_EDITIONS` most recently written editions."""
    newest: dict[str, int] = {}
    files = list(folder.glob(f"{name}-*.pickle"))
    for f in files:
        edition = f.name[len(name) + 1:].split("-", 1)[0]
        try:
            newest[edition] = max(newest.get(edition, 0), f.stat().st_mtime_ns)
        except OSError:
            continue
    keep = set(sorted(newest, key=newest.get, reverse=True)[:KEEP_EDITIONS])
    for f in files:
        if f.name[len(name) + 1:].split("-", 1)[0] not in keep:
            f.unlink(missing_ok=True)


def once_per_edition(maxsize: int = 1, copy: bool = True) -> Callable[[F], F]:
    """Memoise ``fn(*args, **kwargs)`` in memory (the last ``maxsize`` results) and on disk, by the function, its
    arguments (their ``repr``: numbers, strings, tuples, settings models) and :func:`edition_key`.

    The file is ``<cache>/edition/<module>.<function>-<edition>-<arguments>.pickle``. ``copy``: give each caller
    a deep copy, for a result a caller may change; ``False`` for one only read (as :func:`memoised` gives).
    """

    def wrap(fn: F) -> F:
        name = f"{fn.__module__.removeprefix('cdp_analysis.')}.{fn.__qualname__}"
        memory: OrderedDict = OrderedDict()
        tidied: set[str] = set()

        def compute(edition: str, key: str, args, kwargs):
            if not enabled():
                return fn(*args, **kwargs)
            folder = paths.cache_dir() / FOLDER
            path = folder / f"{name}-{edition}-{key}.pickle"
            try:
                value = pickle.loads(path.read_bytes())
                log.debug("%s: read from %s", name, path.name)
                return value
            except FileNotFoundError:
                pass
            except Exception as exc:  # noqa: BLE001 - a damaged or foreign file is computed again
                log.warning("%s: the kept result %s could not be read (%s); computing it again", name, path.name, exc)
            started = time.perf_counter()
            value = fn(*args, **kwargs)
            try:
                write_atomic(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
                if edition not in tidied:  # once per process and edition: older editions' results removed
                    tidied.add(edition)
                    _prune(folder, name)
            except OSError as exc:  # a read-only or full cache folder: the run goes on without it
                log.warning("%s: could not keep the result in %s (%s)", name, folder, exc)
            log.info("%s: computed in %.1f s and kept for this data edition", name, time.perf_counter() - started)
            return value

        @functools.wraps(fn)
        def cached(*args, **kwargs):
            edition = edition_key()[:24]
            key = _argument_key(args, kwargs)
            if (edition, key) in memory:
                memory.move_to_end((edition, key))
            else:
                memory[(edition, key)] = compute(edition, key, args, kwargs)
                while len(memory) > maxsize:
                    memory.popitem(last=False)
            value = memory[(edition, key)]
            return deepcopy(value) if copy else value

        cached.cache_clear = memory.clear  # type: ignore[attr-defined]
        register(cached)
        return cached  # type: ignore[return-value]

    return wrap
