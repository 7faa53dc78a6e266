"""Census 2021 table TS007, age by single year of age (persons), for lower- and upper-tier local authorities of
England and Wales, from the Nomis bulk files.

Reads the two ``census_ts007`` files in ``data/raw/census2021`` as published (``census2021-ts007-ltla.csv``:
331 lower-tier areas; ``census2021-ts007-utla.csv``: 174 upper-tier areas, both on 2021 boundaries). Columns are
found by name: ``date`` (the census year), ``geography``, ``geography code``, ``Age: Total; measures: Value``,
the single years ``Age: Aged under 1 year; …``, ``Age: Aged 1 year; …`` … ``Age: Aged 99 years; …`` and the open
top category ``Age: Aged 100 years and over; …``, and the published age bands (``Aged 4 years and under``,
``Aged 5 to 9 years`` … ``Aged 85 years and over``), which are only checked against the single years. Every
single year from 0 to the top category must be there; counts must be whole and non-negative.

There are no rows for England, the regions or Wales. The plausibility rules (:data:`RULES`) check each row (its
single years add up to its total, each band equals the sum of its single years, one census year, areas listed
once) and the two files against each other: a single-tier area has the same figures in both, and the English
districts add up to the counties age by age, within ONS's disclosure control (each geography's counts are
published separately, so they differ by a few people).

Tidy columns of :func:`estimates`: ``year`` (int, the census year, from the ``date`` column), ``code``, ``name``,
``level`` ('ltla' or 'utla', from the file), ``age`` (0–100, where the top age is the published open category,
'100 years and over'), ``population`` (usual residents), ``source_row`` (line in the file) and ``source``
(data-register citation). :mod:`cdp_analysis.areas.population_series` puts them on the current areas.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register
from .cache import cached_parse
from .readers import read_csv_table, to_counts

log = logging.getLogger(__name__)

LTLA = register.FileKind("census_ts007_ltla", "census2021", "*ts007-ltla*.csv")
UTLA = register.FileKind("census_ts007_utla", "census2021", "*ts007-utla*.csv")
LEVELS = {LTLA.kind: "ltla", UTLA.kind: "utla"}
_PARSER_VERSION = 1

TOTAL = "Age: Total; measures: Value"
_ID_COLUMNS = ["date", "geography", "geography code", TOTAL]
_LABEL = re.compile(r"^Age: Aged (?:(?P<under1>under 1 year)|(?P<single>[0-9]+) years?|(?P<over>[0-9]+) years and over"
                    r"|(?P<under>[0-9]+) years and under|(?P<low>[0-9]+) to (?P<high>[0-9]+) years); measures: Value$")
#: Districts (E07) and counties (E10) may differ, age by age, by this many people per county: the largest
#: difference in the published files is 18 people (age 87) over the 24 counties of 2021.
PER_COUNTY_TOLERANCE = 3


def age_label(age: int, top: int) -> str:
    """The published column of a single year of age (``top``: the open top category, e.g. 100 and over)."""
    if age == top:
        return f"Age: Aged {age} years and over; measures: Value"
    if age == 0:
        return "Age: Aged under 1 year; measures: Value"
    return f"Age: Aged {age} year{'s' if age > 1 else ''}; measures: Value"


def _age_columns(columns) -> tuple[dict[str, int], int, dict[str, tuple[int, int]]]:
    """The single-year columns (label -> age), the top age (the open category) and the bands (label -> first and
    last age, the last being the top age for an open band)."""
    singles, opens, bands = {}, {}, {}
    for c in columns:
        m = _LABEL.match(c)
        if m is None:
            continue
        if m["under1"]:
            singles[c] = 0
        elif m["single"]:
            singles[c] = int(m["single"])
        elif m["over"]:
            opens[c] = int(m["over"])
        elif m["under"]:
            bands[c] = (0, int(m["under"]))
        else:
            bands[c] = (int(m["low"]), int(m["high"]))
    last = max(singles.values(), default=-1)
    top = max(opens.values()) if opens and max(opens.values()) > last else last + 1
    for c, first in opens.items():
        if first == top:
            singles[c] = top
        else:
            bands[c] = (first, top)
    return singles, top, bands


#: Rules on each row of a file (applied as it is parsed).
ROW_RULES = (
    plausibility.Rule("the single years of age add up to the total", TOTAL,
                      lambda t: t["_singles"] == t[TOTAL]),
    plausibility.Rule("the area code is an English or Welsh ONS code (E or W, then eight digits)", "geography code",
                      lambda t: t["geography code"].str.fullmatch(r"[EW][0-9]{8}")),
    plausibility.Rule("each area is listed once", "geography code", lambda t: ~t["geography code"].duplicated()),
    plausibility.Rule("every row is of the same census year", "date", lambda t: t["date"] == t["date"].iloc[0]),
)
#: The rule on each published age band (one row per area and band).
BAND_RULES = (
    plausibility.Rule("each age band equals the sum of its single years of age", "population",
                      lambda t: t["population"] == t["expected"]),
)


def parse_ts007(path: Path) -> pd.DataFrame:
    """Parse one TS007 Nomis bulk CSV into one row per area and single year of age.

    Returns
    -------
    DataFrame
        ``year, code, name, age`` (0 to the top category), ``population`` (usual residents), ``source_row``.
    """
    table = read_csv_table(path, _ID_COLUMNS)
    singles, top, bands = _age_columns(table.columns)
    required = [age_label(a, top) for a in range(top + 1)]
    if any(c not in singles for c in required):
        read_csv_table(path, [*_ID_COLUMNS, *required])  # raises the reader's missing-column message
    counts = pd.DataFrame({c: to_counts(table, c, file=path) for c in [TOTAL, *required, *bands]})
    rows = pd.DataFrame({TOTAL: counts[TOTAL], "_singles": counts[required].sum(axis=1),
                         "geography code": table["geography code"].str.strip(),
                         "date": to_counts(table, "date", file=path), "_row": table["_row"]})
    plausibility.check(rows, ROW_RULES, file=path)
    cumulative = np.concatenate([np.zeros((len(table), 1), dtype="int64"),
                                 np.cumsum(counts[required].to_numpy(), axis=1)], axis=1)
    band_check = pd.concat([pd.DataFrame({"population": counts[b].to_numpy(),
                                          "expected": cumulative[:, hi + 1] - cumulative[:, lo],
                                          "_row": table["_row"].to_numpy(), "_column": b})
                            for b, (lo, hi) in bands.items()], ignore_index=True) if bands else None
    if band_check is not None:
        plausibility.check(band_check, BAND_RULES, file=path)
    n, k = len(table), top + 1
    return pd.DataFrame({"year": np.repeat(rows["date"].to_numpy(), k),
                         "code": np.repeat(rows["geography code"].to_numpy(), k),
                         "name": np.repeat(table["geography"].str.strip().to_numpy(), k),
                         "age": np.tile(np.arange(k, dtype="int64"), n),
                         "population": counts[required].to_numpy().ravel(),
                         "source_row": np.repeat(table["_row"].to_numpy(), k)})


def _single_tier(t: pd.DataFrame) -> pd.Series:
    return ~t["code"].str.startswith(("E07", "E10"))


def _districts_and_counties(t: pd.DataFrame, utla_file: Path) -> pd.DataFrame:
    """Per single year of age: the counties' (E10) total, the districts' (E07) total, their difference and the
    number of counties, named by the upper-tier file and the age's column."""
    def by_age(level: str, prefix: str) -> pd.Series:
        rows = t[(t["level"] == level) & t["code"].str.startswith(prefix)]
        return rows.groupby("age")["population"].sum()
    counties, districts = by_age("utla", "E10"), by_age("ltla", "E07")
    n = t.loc[(t["level"] == "utla") & t["code"].str.startswith("E10"), "code"].nunique()
    out = pd.DataFrame({"population": counties, "districts": districts.reindex(counties.index, fill_value=0)})
    top = int(t["age"].max())
    return out.assign(difference=out["districts"] - out["population"], counties=n, _file=str(utla_file),
                      _column=[age_label(a, top) for a in out.index]).reset_index()


#: Rules across the two files (one row per area and single year of age, or per single year of age).
FILE_RULES = (
    plausibility.sums_to("population", parts=lambda t: (t["level"] == "ltla") & _single_tier(t),
                         total=lambda t: (t["level"] == "utla") & _single_tier(t),
                         group=lambda t: t[["code", "age"]], tolerance=0.0,
                         what="a single-tier area has the same figures in the lower- and upper-tier files"),
)
COUNTY_RULES = (
    plausibility.Rule("the English districts (E07) differ from the counties (E10) they make up by at most "
                      f"{PER_COUNTY_TOLERANCE} people per county, age by age", "population",
                      lambda t: t["difference"].abs() <= PER_COUNTY_TOLERANCE * t["counties"], shown="difference"),
)
RULES = ROW_RULES + BAND_RULES + FILE_RULES + COUNTY_RULES


@memoised()
def _parsed() -> pd.DataFrame:
    frames, where = [], {}
    for kind in (LTLA, UTLA):
        path = register.file_of_kind(kind.kind)
        t = cached_parse(path, parse_ts007, name="census-ts007", version=_PARSER_VERSION)
        frames.append(t.assign(level=LEVELS[kind.kind], source=register.citation_of(path)))
        where[kind.kind] = path
    t = pd.concat(frames, ignore_index=True)
    top = int(t["age"].max())
    labels = pd.Series({a: age_label(a, top) for a in range(top + 1)})
    checked = t.assign(_file=t["level"].map({"ltla": str(where[LTLA.kind]), "utla": str(where[UTLA.kind])}),
                       _row=t["source_row"], _column=t["age"].map(labels))
    plausibility.check(checked, FILE_RULES)
    plausibility.check(_districts_and_counties(t, where[UTLA.kind]), COUNTY_RULES)
    years = sorted(t["year"].unique())
    if len(years) != 1:
        raise InputError(f"the two TS007 files are of different census years ({', '.join(map(str, years))})",
                         file=where[UTLA.kind].parent, hint="use the lower- and upper-tier files of one census")
    return t[["year", "code", "name", "level", "age", "population", "source_row", "source"]]


def estimates() -> pd.DataFrame:
    """Usual residents by single year of age, every lower- and upper-tier area of England and Wales, as published.

    Returns
    -------
    DataFrame
        ``year, code, name, level`` ('ltla', 'utla'), ``age`` (0 to the top age, which means that age and over),
        ``population`` (persons), ``source_row``, ``source``.

    Raises
    ------
    InputError
        If a file is missing, cut short or damaged, or fails a plausibility rule (:data:`RULES`).
    """
    return _parsed().copy()


def file_of_level(level: str) -> Path:
    """The raw file of a level ('ltla' or 'utla')."""
    kind = {v: k for k, v in LEVELS.items()}[level]
    return register.file_of_kind(kind)


DATASET = register.Dataset(name="census_ts007", title="ONS census: age by single year (TS007)",
                           kinds=(LTLA, UTLA), load=estimates, rules=RULES)
