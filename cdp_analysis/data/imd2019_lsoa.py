"""English Indices of Deprivation 2019, File 1: the national rank and decile of every small area (LSOA 2011).

MHCLG's File 1 lists all 32,844 small areas (lower-layer super output areas, 2011) of England with their
district (2019 codes), their national IMD rank (1 = most deprived) and decile (1 = the most deprived tenth). The
copy held was re-saved in Excel by a mirror (values complete: every small area once, deciles evenly filled;
``data/README.md``). It has no scores or domains; the newest indices' small-area file is not held, so the share
of a district's small areas in the most deprived 10% and 20% nationally comes from this edition.

:func:`small_areas` gives ``lsoa, lsoa_name, district_code, district_name, rank, decile, source``;
:func:`district_shares` the share of each 2019 district's small areas in the most deprived 10% and 20%.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from . import plausibility, register
from .cache import load_registered
from .readers import read_excel_table, to_numbers

log = logging.getLogger(__name__)

FILE_1 = register.FileKind("imd2019_lsoa", "imd2019", "File_1_-_IMD2019*.xlsx")
SHEET = "IMD2019"
_COLUMNS = {"LSOA code (2011)": "lsoa", "LSOA name (2011)": "lsoa_name",
            "Local Authority District code (2019)": "district_code",
            "Local Authority District name (2019)": "district_name",
            "Index of Multiple Deprivation (IMD) Rank": "rank", "Index of Multiple Deprivation (IMD) Decile": "decile"}
#: Small areas (LSOAs, 2011) in England: the ranks run from 1 to this.
N_SMALL_AREAS = 32_844
_PARSER_VERSION = 1


def _deciles_even(t: pd.DataFrame) -> pd.Series:
    """Each decile holds a tenth of the small areas (3,284 or 3,285)."""
    counts = t["decile"].map(t["decile"].value_counts())
    return (counts - N_SMALL_AREAS / 10).abs() <= 1


def _decile_follows_rank(t: pd.DataFrame) -> pd.Series:
    """The decile is the rank's tenth: rank r is in decile ceil(10 r / n)."""
    expected = (10 * t["rank"] / N_SMALL_AREAS).apply(lambda v: int(-(-v // 1)))
    return t["decile"] == expected


RULES = (
    plausibility.between("rank", 1, N_SMALL_AREAS, whole=True, what="a small area's national rank"),
    plausibility.between("decile", 1, 10, whole=True, what="a decile"),
    plausibility.Rule("a small area is listed once", "lsoa", lambda t: ~t["lsoa"].duplicated()),
    plausibility.Rule("the decile is the rank's tenth", "decile", _decile_follows_rank),
    plausibility.Rule("each decile holds a tenth of the small areas", "decile", _deciles_even),
)


def parse_file_1(path: Path) -> pd.DataFrame:
    """Read sheet ``IMD2019`` of File 1 (see the module docstring)."""
    table, _ = read_excel_table(path, SHEET, list(_COLUMNS))
    t = table.rename(columns=_COLUMNS)[[*_COLUMNS.values(), "_row"]]
    for col in ("lsoa", "lsoa_name", "district_code", "district_name"):
        t[col] = t[col].astype(str).str.strip()
    for col in ("rank", "decile"):
        t[col] = to_numbers(t, col, file=path).astype("int64")
    return t.reset_index(drop=True)


def small_areas() -> pd.DataFrame:
    """Every small area's national rank and decile with its 2019 district, and ``source``."""
    return load_registered(FILE_1.kind, parse_file_1, name="imd2019-file1", version=_PARSER_VERSION, rules=RULES,
                           sheet=SHEET).drop(columns="_row")


def district_shares() -> pd.DataFrame:
    """For each 2019 district: ``district_code, district_name, small_areas`` (how many), ``share_most_deprived_10``
    and ``share_most_deprived_20`` (the share of its small areas in deciles 1 and 1–2 nationally), ``source``."""
    t = small_areas()
    g = t.groupby(["district_code", "district_name"], sort=True)
    out = g.agg(small_areas=("lsoa", "size"), in_10=("decile", lambda d: int((d == 1).sum())),
                in_20=("decile", lambda d: int((d <= 2).sum()))).reset_index()
    out["share_most_deprived_10"] = out["in_10"] / out["small_areas"]
    out["share_most_deprived_20"] = out["in_20"] / out["small_areas"]
    return out.drop(columns=["in_10", "in_20"]).assign(source=t["source"].iloc[0])


DATASET = register.Dataset(name="imd2019_lsoa", title="MHCLG English Indices of Deprivation 2019, File 1 (small areas)",
                           kinds=(FILE_1,), load=small_areas, rules=RULES)
