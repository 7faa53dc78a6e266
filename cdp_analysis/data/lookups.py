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

from ..memo import memoised
from . import plausibility, register
from .readers import read_csv_table

log = logging.getLogger(__name__)

UTLA_REGISTER = register.FileKind("utla_register", "lookups", "utla_current_england*.csv")
CODE_CHANGES = register.FileKind("code_changes", "lookups", "la_code_changes_england*.csv")

_UTLA_CODE = r"E0[6-9][0-9]{6}|E1[0-9]{7}"
#: Plausibility rules of the upper-tier areas file and of the code-change file.
UTLA_RULES = (
    plausibility.Rule("the code is an English upper-tier area code (E06, E08, E09, E10 … and eight digits)", "utla_code",
                      lambda t: t["utla_code"].str.strip().str.fullmatch(_UTLA_CODE)),
    plausibility.Rule("each area is listed once", "utla_code", lambda t: ~t["utla_code"].str.strip().duplicated()),
    plausibility.Rule("the type is one the register uses (UA, CTY, MD, LBO, CC)", "local-authority-type",
                      lambda t: t["local-authority-type"].str.strip().isin({"UA", "CTY", "MD", "LBO", "CC"})),
)
CHANGE_RULES = (
    plausibility.Rule("the end date is a date written YYYY-MM-DD", "end_date",
                      lambda t: pd.to_datetime(t["end_date"].str.strip(), format="%Y-%m-%d", errors="coerce").notna()),
    plausibility.Rule("an area is not its own successor", "new_code",
                      lambda t: t["old_code"].str.strip() != t["new_code"].str.strip()),
)


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
    plausibility.check(raw, UTLA_RULES, file=path)
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
    plausibility.check(table, CHANGE_RULES, file=path)
    return table.drop(columns="_row").apply(lambda s: s.str.strip())


def _load() -> tuple[pd.DataFrame, pd.DataFrame]:
    return upper_tier_areas(), code_changes()


DATASET = register.Dataset(
    name="lookups", title="Current upper-tier areas and local-authority code changes (mySociety register)",
    kinds=(UTLA_REGISTER, CODE_CHANGES), load=_load, rules=UTLA_RULES + CHANGE_RULES)
