"""ONS mid-year population estimates (table MYE2) as one tidy table, on current areas.

Reads every ``ons_population`` file in ``data/raw`` as published:

* MYE2 workbooks (``MYE2 - Persons``, ``MYE2 - Males``, ``MYE2 - Females``): header row found by its
  columns (``Code, Name, Geography, All ages, 0 … 90+``); the year from the sheet title (``mid-2022``).
* MYE2 persons CSV (mid-2024): the same columns, persons only; the year from the file name
  (``mye24…`` → 2024, or ``mid-2024``).

Each file is parsed once and cached (see :mod:`cdp_analysis.cache`). Every row is checked: counts
are whole, non-negative numbers, and the single years of age add up to 'All ages'.

Tidy columns: ``year`` (int, mid-year), ``code``, ``name``, ``geography``, ``sex`` ('persons',
'males', 'females'), ``age`` (0–90, where 90 means 90 and over), ``population`` (persons).
"""

from __future__ import annotations

import functools
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from . import geography, register, vintage
from .cache import cached_parse
from .errors import InputError
from .tabular import read_csv_table, read_excel_table, to_counts

log = logging.getLogger(__name__)

SEXES = ("persons", "males", "females")
AGE_COLUMNS = [str(a) for a in range(90)] + ["90+"]
_ID_COLUMNS = ["Code", "Name", "Geography", "All ages"]
_PARSER_VERSION = 2

#: Age groups used as denominators by later chapters: label -> (first age, last age or None for open).
DENOMINATOR_AGES: dict[str, tuple[int, int | None]] = {
    "All ages": (0, None),
    "15-64": (15, 64),
    "16-24": (16, 24),
    "16-59": (16, 59),
    "18+": (18, None),
}


def _year_from_text(text: str) -> int | None:
    m = re.search(r"mid[- ]?(\d{4})", text, flags=re.I)
    return int(m.group(1)) if m else None


def _tidy(table: pd.DataFrame, *, file: Path, year: int, sex: str, where: str) -> pd.DataFrame:
    missing = [c for c in AGE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"age column(s) {missing[:5]} missing from the header", file=file, where=where,
                         hint="use the published MYE2 layout: Code, Name, Geography, All ages, 0 … 89, 90+")
    table = table[table["Code"].notna()].copy()
    counts = pd.DataFrame({c: to_counts(table, c, file=file) for c in ["All ages", *AGE_COLUMNS]})
    off = counts[AGE_COLUMNS].sum(axis=1) != counts["All ages"]
    if off.any():
        r = table.loc[off].iloc[0]
        raise InputError(f"single years of age add up to {counts.loc[off, AGE_COLUMNS].sum(axis=1).iloc[0]:,}, "
                         f"not the 'All ages' total {counts.loc[off, 'All ages'].iloc[0]:,} for {r['Code']} ({where})",
                         file=file, where=f"row {r['_row']}",
                         hint="the file has been altered or damaged; restore the published file")
    long = counts[AGE_COLUMNS].set_axis(range(91), axis=1)
    long.index = pd.MultiIndex.from_frame(table[["Code", "Name", "Geography"]].astype(str).apply(lambda s: s.str.strip()))
    long = long.stack().rename("population").reset_index().rename(
        columns={"Code": "code", "Name": "name", "Geography": "geography", "level_3": "age"})
    long = long.rename(columns={long.columns[3]: "age"})
    long.insert(0, "year", year)
    long.insert(4, "sex", sex)
    long["source_row"] = np.repeat(table["_row"].to_numpy(), 91)
    return long.astype({"year": "int64", "age": "int64", "population": "int64", "source_row": "int64"})


def parse_mye2_workbook(path: Path) -> pd.DataFrame:
    """Parse one MYE2 workbook (all three sexes) into the tidy layout."""
    frames = []
    years = set()
    for sex in SEXES:
        sheet = f"MYE2 - {sex.capitalize()}"
        table, preamble = read_excel_table(path, sheet, _ID_COLUMNS)
        year = next(filter(None, (_year_from_text(t) for t in preamble)), None)
        if year is None:
            raise InputError("cannot tell which mid-year this is: no 'mid-YYYY' in the sheet title", file=path,
                             where=f"sheet '{sheet}', rows above the header",
                             hint="use the published workbook, whose title reads e.g. 'MYE2: Persons … mid-2022'")
        years.add(year)
        frames.append(_tidy(table, file=path, year=year, sex=sex, where=f"sheet '{sheet}'"))
    if len(years) != 1:
        raise InputError(f"sheets disagree on the year ({sorted(years)})", file=path,
                         hint="restore the published workbook")
    return pd.concat(frames, ignore_index=True)


def parse_mye2_persons_csv(path: Path) -> pd.DataFrame:
    """Parse an MYE2 persons CSV (e.g. the mid-2024 table) into the tidy layout."""
    m = re.search(r"mye(\d{2})(?!\d)", path.name, flags=re.I)
    year = 2000 + int(m.group(1)) if m else _year_from_text(path.name)
    if year is None:
        raise InputError("cannot tell which mid-year this CSV holds from its name", file=path,
                         hint="name it like the published file, e.g. mye24tablesew_MYE2_persons.csv or mid-2024_MYE2_persons.csv")
    table = read_csv_table(path, _ID_COLUMNS)
    return _tidy(table, file=path, year=year, sex="persons", where="MYE2 persons CSV")


@functools.lru_cache(maxsize=1)
def estimates() -> pd.DataFrame:
    """Every published population estimate in ``data/raw/ons_population``, tidy, all geographies as published."""
    frames = []
    for path in register.files_of_kind("mye2_workbook"):
        frames.append(cached_parse(path, parse_mye2_workbook, name="mye2-workbook", version=_PARSER_VERSION))
    for path in register.files_of_kind("mye2_persons_csv", required=False):
        frames.append(cached_parse(path, parse_mye2_persons_csv, name="mye2-csv", version=_PARSER_VERSION))
    table = pd.concat(frames, ignore_index=True)
    dup = table.duplicated(["year", "code", "sex", "age"])
    if dup.any():
        year = int(table.loc[dup, "year"].iloc[0])
        raise InputError(f"two population files both hold mid-{year} estimates", file=register.KIND_PATTERNS["mye2_workbook"][0],
                         hint="keep one edition per year in data/raw/ons_population (move the older one out)")
    return table


def region_membership() -> pd.Series:
    """Region name of each area, read from the hierarchy of the latest ONS MYE2 table.

    ONS lists each region's row followed by the areas in it, so the region of an area is the last
    region row above it. Returns a Series indexed by area code, values like 'East Midlands'.
    """
    t = estimates()
    latest = t[(t["year"] == t["year"].max()) & (t["sex"] == "persons") & (t["age"] == 0)]
    latest = latest.sort_values("source_row")
    region = latest["name"].where(latest["geography"] == "Region")
    region = region.where(latest["geography"] != "Country", "").ffill().replace("", np.nan)
    return region.set_axis(latest["code"]).dropna()


def available_years(sex: str = "persons") -> list[int]:
    """Mid-years for which estimates exist for ``sex``."""
    t = estimates()
    return sorted(t.loc[t["sex"] == sex, "year"].unique().tolist())


@functools.lru_cache(maxsize=8)
def _current(year: int) -> pd.DataFrame:
    t = estimates()
    t = t[t["year"] == year]
    if t.empty:
        raise InputError(f"no population estimates for mid-{year}",
                         hint=f"years available: {', '.join(map(str, available_years()))}")
    all_ages = t[(t["sex"] == "persons")].groupby("code")["population"].sum()
    utla = geography.utla_codes()
    mapped = vintage.to_current(t[["code", "sex", "age", "population"]], values=["population"], kind="count",
                                population=all_ages, current_codes=utla)
    mapped["population"] = mapped["population"].round().astype("int64")
    others = t[t["code"].isin(set(geography.areas().query("level != 'utla'")["code"]))]
    others = others[["code", "sex", "age", "population"]].assign(geography_basis=vintage.AS_PUBLISHED)
    out = pd.concat([mapped, others], ignore_index=True)
    missing = sorted(set(geography.areas()["code"]) - set(out["code"]))
    if missing:
        raise InputError(f"mid-{year} estimates lack {len(missing)} current areas ({', '.join(missing[:5])}…)",
                         hint="the workbook's geography cannot be mapped to current areas; see docs/bad-input.md")
    out.insert(0, "year", year)
    return out.sort_values(["code", "sex", "age"], ignore_index=True)


def current_areas(years: list[int] | None = None) -> pd.DataFrame:
    """Population by single year of age and sex for every current area, region and England.

    Parameters
    ----------
    years : list of int, optional
        Mid-years; default all available.

    Returns
    -------
    DataFrame
        ``year, code, sex, age, population, geography_basis``. Current areas absent from an older
        edition are built from their predecessors (see :mod:`cdp_analysis.vintage`); ``geography_basis``
        says how.
    """
    years = years or available_years()
    return pd.concat([_current(int(y)) for y in years], ignore_index=True)


def five_year_band(age: pd.Series) -> pd.Series:
    """Five-year age band labels '0-4' … '85-89' and '90+' (the 19 ESP2013 bands) for ages 0–90."""
    lower = (np.minimum(age, 90) // 5) * 5
    labels = np.where(lower >= 90, "90+", lower.astype(str) + "-" + (lower + 4).astype(str))
    return pd.Series(labels, index=age.index, dtype="string")


BAND_ORDER = [f"{a}-{a + 4}" for a in range(0, 90, 5)] + ["90+"]


def in_age_group(age: pd.Series, label: str) -> pd.Series:
    """Boolean mask of ages in a :data:`DENOMINATOR_AGES` group."""
    lo, hi = DENOMINATOR_AGES[label]
    return (age >= lo) & ((age <= hi) if hi is not None else True)
