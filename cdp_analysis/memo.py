"""In-memory caches of loaded tables, and one call to forget them all.

Loaders decorate themselves with :func:`memoised` instead of ``functools.lru_cache``; every such cache is
registered here, so :func:`cdp_analysis.clear_caches` clears them all without a hand-kept list (a new
dataset module needs no edit elsewhere).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

_CACHED: list[Callable] = []


def memoised(maxsize: int | None = 1) -> Callable[[F], F]:
    """``functools.lru_cache(maxsize)`` whose cache :func:`clear_all` empties."""

    def wrap(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize)(fn)
        _CACHED.append(cached)
        return cached  # type: ignore[return-value]

    return wrap


def clear_all() -> None:
    """Empty every cache made by :func:`memoised`."""
    for fn in _CACHED:
        fn.cache_clear()
