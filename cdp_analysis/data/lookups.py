"""Area lookups: the current English upper-tier areas, and the local-authority code changes since 2009.

Both files are derived from the mySociety register of UK local authorities (CC-BY-4.0), as shipped in
``../shared/data/lookups/``:

* ``utla_current_england_from_mysociety.csv`` — the 153 current upper-tier areas: ``utla_code``,
  ``utla_name``, ``local-authority-type`` (UA, CTY, MD, LBO, CC) and ``region`` (as the register gives it;
  :mod:`cdp_analysis.areas.geography` corrects regions from the ONS hierarchy);
* ``la_code_changes_england_from_mysociety.csv`` — one row per (old area, successor):
  ``old_code, old_name, old_type, end_date, new_code, new_name``.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import register
from .readers import read_csv_table

log = logging.getLogger(__name__)

UTLA_REGISTER = register.FileKind("utla_register", "lookups", "utla_current_england*.csv")
CODE_CHANGES = register.FileKind("code_changes", "lookups", "la_code_changes_england*.csv")


@memoised()
def upper_tier_areas() -> pd.DataFrame:
    """The current upper-tier areas as the register lists them.

    Returns
    -------
    DataFrame
        ``code, name, type, region`` (region as written in the file), ``source`` (register citation),
        ``row`` (line number in the file).
    """
    path = register.file_of_kind(UTLA_REGISTER.kind)
    raw = read_csv_table(path, ["utla_code", "utla_name", "local-authority-type", "region"])
    bad = ~raw["utla_code"].str.fullmatch(r"E0[6-9]\d{6}|E1\d{7}")
    if bad.any():
        r = raw.loc[bad].iloc[0]
        raise InputError(f"'{r['utla_code']}' is not an English upper-tier area code", file=path,
                         where=f"row {r['_row']}, column 'utla_code'", hint="restore the published file")
    return pd.DataFrame({"code": raw["utla_code"].str.strip(), "name": raw["utla_name"].str.strip(),
                         "type": raw["local-authority-type"].str.strip(), "region": raw["region"].str.strip(),
                         "source": register.citation_of(path), "row": raw["_row"]})


def upper_tier_areas_file():
    """The path of the upper-tier areas lookup in ``data/raw``."""
    return register.file_of_kind(UTLA_REGISTER.kind)


@memoised()
def code_changes() -> pd.DataFrame:
    """The code-change table: ``old_code, old_name, old_type, end_date, new_code, new_name``."""
    path = register.file_of_kind(CODE_CHANGES.kind)
    table = read_csv_table(path, ["old_code", "old_name", "old_type", "end_date", "new_code", "new_name"])
    return table.drop(columns="_row").apply(lambda s: s.str.strip())


def _load() -> tuple[pd.DataFrame, pd.DataFrame]:
    return upper_tier_areas(), code_changes()


DATASET = register.Dataset(
    name="lookups", title="Current upper-tier areas and local-authority code changes (mySociety register)",
    kinds=(UTLA_REGISTER, CODE_CHANGES), load=_load)
