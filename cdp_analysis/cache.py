"""Parse a raw file once; keep the tidy table as parquet keyed by the raw file's checksum.

The cache key is ``<parser name>-<parser version>-<sha256 of raw file>``: a changed raw file, or a
parser whose version is bumped, misses the cache and is parsed again. Writes go to a temporary
file then are renamed, so concurrent runs never see half a file. The cache folder is git-ignored and
can be deleted at any time (``make clean-cache``).
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Callable

import pandas as pd

from . import paths
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
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return table
