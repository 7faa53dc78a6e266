"""In-memory caches of loaded tables, and one call to forget them all.

Loaders decorate themselves with :func:`memoised` instead of ``functools.lru_cache``; every such cache is
registered here, so :func:`cdp_analysis.clear_caches` clears them all without a hand-kept list (a new
dataset module needs no edit elsewhere). :func:`by_content` memoises a step by the content of the table it
is given.
"""

from __future__ import annotations

import functools
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import pandas as pd

F = TypeVar("F", bound=Callable)

_CACHED: list[Callable] = []


def memoised(maxsize: int | None = 1) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)`` whose cache :func:`clear_all` empties."""

    def wrap(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _CACHED.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def register(cache) -> None:
    """Have :func:`clear_all` empty ``cache`` too (anything with a ``cache_clear()`` method)."""
    _CACHED.append(cache)


def clear_all() -> None:
    """Empty every cache made by :func:`memoised`."""
    for fn in _CACHED:
        fn.cache_clear()


def content_digest(frame: pd.DataFrame) -> str:
    """A digest of a table's content: its column names, dtypes, index and values (SHA-256, hex)."""
    import pandas as pd

    h = hashlib.sha256()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return h.hexdigest()


def by_content(maxsize: int = 32) -> Callable[[F], F]:
    """Memoise ``fn(frame, *args)`` by the content of ``frame`` (:func:`content_digest`) and ``args``.

    For the steps that are the same for every CDP but take a table built afresh by each caller (e.g. putting a
    whole published workbook on current areas): in a batch they run once per worker. Callers get a copy of the
    result, so changing it cannot change what the next CDP reads. Lists in ``args`` are keyed as tuples.
    :func:`clear_all` empties it, with the loaders' caches it depends on.
    """

    def wrap(fn: F) -> F:
        cache: OrderedDict = OrderedDict()

        @functools.wraps(fn)
        def cached(frame: pd.DataFrame, *args):
            key = (content_digest(frame), tuple(tuple(a) if isinstance(a, list) else a for a in args))
            if key in cache:
                cache.move_to_end(key)
            else:
                cache[key] = fn(frame, *args)
                while len(cache) > maxsize:
                    cache.popitem(last=False)
            return cache[key].copy()

        cached.cache_clear = cache.clear  # type: ignore[attr-defined]
        _CACHED.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def content_key(*parts) -> str:
    """A digest of ``parts`` by content (SHA-256, hex): tables by :func:`content_digest`, NumPy arrays by their dtype,
    shape and bytes, lists, tuples and dicts item by item, and text, numbers, booleans and ``None`` by ``repr``.

    For keying work by everything it is given (e.g. a figure drawn from the same national tables for every CDP).
    Raises ``TypeError`` for anything else, whose ``repr`` could name its place in memory and so never match.
    """
    import numpy as np
    import pandas as pd

    h = hashlib.sha256()

    def add(part) -> None:
        if isinstance(part, pd.DataFrame | pd.Series):
            frame = part.to_frame() if isinstance(part, pd.Series) else part
            h.update(b"frame:" + content_digest(frame).encode())
        elif isinstance(part, np.ndarray):
            h.update(f"array:{part.dtype}:{part.shape}:".encode() + np.ascontiguousarray(part).tobytes())
        elif isinstance(part, list | tuple):
            h.update(f"{type(part).__name__}:{len(part)}:".encode())
            for item in part:
                add(item)
        elif isinstance(part, dict):
            h.update(f"dict:{len(part)}:".encode())
            for k, v in part.items():
                add(k)
                add(v)
        elif part is None or isinstance(part, str | int | float | bool | np.generic):
            h.update(f"{type(part).__name__}:{part!r};".encode())
        else:
            raise TypeError(f"content_key cannot key a {type(part).__name__} by its content")

    for part in parts:
        add(part)
    return h.hexdigest()


class _Store(dict):
    """A dict that :func:`clear_all` empties."""

    def cache_clear(self) -> None:
        self.clear()


def store() -> dict:
    """A new dict that :func:`clear_all` empties with the other caches (for results kept by hand)."""
    kept = _Store()
    _CACHED.append(kept)
    return kept


def last_result(key: Callable[..., str]) -> Callable[[F], F]:
    """Keep ``fn``'s last result, by ``key(*args)``: called again with arguments of the same key, it returns a copy of
    that result without the work. For a step two chapters of one CDP ask for in turn. ``key`` must name everything
    the result depends on that can change in a process (files the step reads, the date). Arguments are positional.
    :func:`clear_all` empties it.
    """

    def wrap(fn: F) -> F:
        kept = store()

        @functools.wraps(fn)
        def cached(*args):
            k = key(*args)
            if kept.get("key") != k:
                kept.clear()
                kept.update(key=k, value=fn(*args))
            return kept["value"].copy()

        cached.cache_clear = kept.clear  # type: ignore[attr-defined]
        return cached  # type: ignore[return-value]

    return wrap
