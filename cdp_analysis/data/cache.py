"""Parse a raw file once; keep the tidy table as parquet keyed by the raw file's checksum.

The cache key is ``<parser name>-<parser version>-<sha256 of raw file>``: a changed raw file, or a
parser whose version is bumped, misses the cache and is parsed again. Writes go to a temporary
file then are renamed, so concurrent runs never see half a file. The cache folder is git-ignored and
can be deleted at any time (``make clean-cache``).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .. import paths
from ..files import write_atomic
from . import plausibility, register
from .register import checksum

log = logging.getLogger(__name__)


def cached_parse(raw: Path, parser: Callable[[Path], pd.DataFrame], *, name: str, version: int) -> pd.DataFrame:
    """Return ``parser(raw)``, from the parquet cache when the raw file is unchanged.

    Parameters
    ----------
    raw : Path
        The raw file.
    parser : callable
        Reads ``raw`` and returns a tidy DataFrame (string, integer, float and boolean columns).
    name, version : str, int
        Identify the parser; bump ``version`` whenever its output changes.
    """
    key = f"{name}-v{version}-{checksum(raw)[:32]}.parquet"
    target = paths.cache_dir() / key
    if target.is_file():
        try:
            return pd.read_parquet(target)
        except Exception as exc:  # a damaged cache file is rebuilt, never trusted
            log.warning("cache file %s unreadable (%s); re-parsing %s", target.name, exc, raw.name)
    log.info("parsing %s", raw.name)
    table = parser(raw)
    buf = io.BytesIO()
    table.to_parquet(buf, index=False)
    write_atomic(target, buf.getvalue())
    return table


def load_registered(kind: str, parser: Callable[[Path], pd.DataFrame], *, name: str, version: int,
                    rules=(), sheet: str | None = None) -> pd.DataFrame:
    """The registered file of ``kind``, parsed (through the cache), checked against its plausibility ``rules``
    and given its ``source`` citation: the way a dataset module loads a published table."""
    path = register.file_of_kind(kind)
    t = cached_parse(path, parser, name=name, version=version)
    plausibility.check(t, rules, file=path, sheet=sheet)
    return t.assign(source=register.citation_of(path))
