"""ONS mid-year population estimates (table MYE2) as one tidy table, on the geography each edition was published on.

Reads every ``ons_population`` file in ``data/raw`` as published:

* MYE2 workbooks (``MYE2 - Persons``, ``MYE2 - Males``, ``MYE2 - Females``): header row found by its
  columns (``Code, Name, Geography, All ages, 0 … 90+``); the year from the sheet title (``mid-2022``).
* MYE2 persons CSV (mid-2024): the same columns, persons only; the year from the file name
  (``mye24…`` → 2024, or ``mid-2024``).
* old Excel (``.xls``) workbooks (mid-2015 … mid-2019, each on its own year's boundaries): sheets, columns
  and geography found by content (:mod:`cdp_analysis.data.ons_population_xls`); the year from the sheet
  titles, else from the file name when it holds one year only.

Each file is parsed once and cached (see :mod:`cdp_analysis.data.cache`). Every row is checked: counts
are whole, non-negative numbers, and the single years of age add up to 'All ages'. Footnotes below a table
are not areas; a row whose every count is ':' (ONS: data not available, e.g. Northern Ireland in mid-2015) is
left out and logged. Then the plausibility rules (:data:`RULES`, :mod:`cdp_analysis.data.plausibility`) check
the areas' totals across files: no area's population jumps by more than a factor of 1.5 a year, males and
females add up to persons, English upper-tier areas add up to their region and regions to England.

Tidy columns: ``year`` (int, mid-year), ``code``, ``name``, ``geography``, ``sex`` ('persons',
'males', 'females'), ``age`` (0–90, where 90 means 90 and over), ``population`` (persons),
``source_row`` (row in the file) and ``source`` (the file's data-register citation).

Figures here are on the geography each edition was published on; :mod:`cdp_analysis.areas.current_population`
maps them onto the current areas.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..edition_cache import once_per_edition
from ..errors import InputError
from ..memo import memoised
from . import plausibility, register, sources
from .cache import cached_parse
from .ons_population_xls import mye2_sheets
from .readers import read_csv_table, read_excel_table, to_counts

log = logging.getLogger(__name__)

SEXES = ("persons", "males", "females")
AGE_COLUMNS = [str(a) for a in range(90)] + ["90+"]
_ID_COLUMNS = ["Code", "Name", "Geography", "All ages"]
_PARSER_VERSION = 3
_GSS = r"[A-Z][0-9]{8}"

WORKBOOK = register.FileKind("mye2_workbook", "ons_population", "*.xlsx", one_per="period")
PERSONS_CSV = register.FileKind("mye2_persons_csv", "ons_population", "*MYE2_persons*.csv", optional=True)
OLD_WORKBOOK = register.FileKind("mye2_xls", "ons_population", "*.xls", optional=True)


def _year_from_text(text: str) -> int | None:
    m = re.search(r"mid[- ]?([0-9]{4})", text, flags=re.I)
    return int(m.group(1)) if m else None


def _area_rows(table: pd.DataFrame, *, where: str) -> pd.DataFrame:
    """The rows of areas: not blank-coded, not a footnote below the table (text in the Code column and no
    count), and not a row ONS marks ':' throughout (data not available), which is logged."""
    table = table[table["Code"].notna()]
    counts = table[["All ages", *AGE_COLUMNS]].astype("string").apply(lambda s: s.str.strip())
    blank = counts.isna().all(axis=1)
    note = blank & ~table["Code"].astype("string").str.strip().str.fullmatch(_GSS).fillna(False).astype(bool)
    unavailable = (counts == ":").fillna(False).astype(bool).all(axis=1)
    if unavailable.any():
        log.info("%s: %d area(s) with no figures (':', data not available) left out: %s", where,
                 int(unavailable.sum()), ", ".join(table.loc[unavailable, "Code"].astype(str).head(5)))
    return table[~note & ~unavailable].copy()


def _tidy(table: pd.DataFrame, *, file: Path, year: int, sex: str, where: str, sheet: str = "") -> pd.DataFrame:
    """One sex's MYE2 table, checked row by row, in the tidy layout; ``_sheet`` (the sheet read, '' for a CSV)
    travels with it for the plausibility messages."""
    missing = [c for c in AGE_COLUMNS if c not in table.columns]
    if missing:
        raise InputError(f"age column(s) {missing[:5]} missing from the header", file=file, where=where,
                         hint="use the published MYE2 layout: Code, Name, Geography, All ages, 0 … 89, 90+")
    table = _area_rows(table, where=where)
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
    long["_sheet"] = sheet
    return long.astype({"year": "int64", "age": "int64", "population": "int64", "source_row": "int64"})


def _one_year(years: set[int], path: Path) -> None:
    if len(years) != 1:
        raise InputError(f"sheets disagree on the year ({sorted(years)})", file=path,
                         hint="restore the published workbook")


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
        frames.append(_tidy(table, file=path, year=year, sex=sex, where=f"sheet '{sheet}'", sheet=sheet))
    _one_year(years, path)
    return pd.concat(frames, ignore_index=True)


def _year_of_xls(preamble: list[str], path: Path, sheet: str) -> int:
    """The mid-year of an old workbook's sheet: from its title, else from a file name holding one year only."""
    year = next(filter(None, (_year_from_text(t) for t in preamble)), None)
    in_name = set(re.findall(r"20[0-9]{2}", path.stem))  # 'ukmidyearestimates20182019ladcodes': two, so none
    if year is None and len(in_name) == 1:
        year = int(in_name.pop())
    if year is None:
        raise InputError("cannot tell which mid-year this is: no 'mid-YYYY' in the sheet title and no single year "
                         "in the file name", file=path, where=f"sheet '{sheet}', rows above the header",
                         hint="use the published workbook, whose title reads e.g. 'MYE2: … mid-2017'")
    return year


def parse_mye2_xls(path: Path) -> pd.DataFrame:
    """Parse an old Excel (``.xls``) MYE2 workbook (mid-2015 … mid-2019; all three sexes) into the tidy layout,
    its sheets and columns found by content (:func:`cdp_analysis.data.ons_population_xls.mye2_sheets`)."""
    frames, years = [], set()
    for sheet in mye2_sheets(path):
        year = _year_of_xls(sheet.preamble, path, sheet.sheet)
        years.add(year)
        frames.append(_tidy(sheet.table, file=path, year=year, sex=sheet.sex, where=f"sheet '{sheet.sheet}'",
                            sheet=sheet.sheet))
    _one_year(years, path)
    return pd.concat(frames, ignore_index=True)


def parse_mye2_persons_csv(path: Path) -> pd.DataFrame:
    """Parse an MYE2 persons CSV (e.g. the mid-2024 table) into the tidy layout."""
    m = re.search(r"mye([0-9]{2})(?![0-9])", path.name, flags=re.I)
    year = 2000 + int(m.group(1)) if m else _year_from_text(path.name)
    if year is None:
        raise InputError("cannot tell which mid-year this CSV holds from its name", file=path,
                         hint="name it like the published file, e.g. mye24tablesew_MYE2_persons.csv or mid-2024_MYE2_persons.csv")
    table = read_csv_table(path, _ID_COLUMNS)
    return _tidy(table, file=path, year=year, sex="persons", where="MYE2 persons CSV")


#: Codes of English upper-tier areas (unitary, metropolitan district, London borough, county).
_UPPER_TIER_PREFIXES = ("E06", "E08", "E09", "E10")


def _in_region(t: pd.DataFrame) -> pd.DataFrame:
    """The region each row's area is listed under (ONS lists a region's row, then its areas), per file and sheet."""
    ordered = t.sort_values(["_file", "_sheet", "_row"])
    region = ordered["code"].where(ordered["geography"] == "Region")
    region = region.where(ordered["geography"] != "Country", "")
    region = region.groupby([ordered["_file"], ordered["_sheet"]]).ffill().replace("", np.nan)
    upper = ordered["code"].str.startswith(_UPPER_TIER_PREFIXES)
    return pd.DataFrame({"year": ordered["year"], "sex": ordered["sex"],
                         "region": region.where(upper | (ordered["geography"] == "Region"))}).reindex(t.index)


def _is_region_row(t: pd.DataFrame) -> pd.Series:
    return t["geography"] == "Region"


#: Plausibility rules on each area's 'All ages' total (one row per file, sheet and area).
RULES = (
    plausibility.year_on_year("All ages", key=["code", "sex"], factor=1.5,
                              what="an area's population (all ages)"),
    plausibility.sums_to("All ages", parts=lambda t: t["sex"] != "persons", total=lambda t: t["sex"] == "persons",
                         group=lambda t: t[["year", "code"]],
                         what="males and females add up to persons"),
    plausibility.sums_to("All ages", parts=lambda t: t["code"].str.startswith(_UPPER_TIER_PREFIXES),
                         total=_is_region_row, group=lambda t: _in_region(t)[["year", "sex", "region"]],
                         what="the upper-tier areas of a region add up to the region"),
    plausibility.sums_to("All ages", parts=_is_region_row, total=lambda t: t["code"] == "E92000001",
                         group=lambda t: t[["year", "sex"]].where(t["code"].str.startswith(("E12", "E92"))),
                         what="the regions add up to England"),
)


def _totals(t: pd.DataFrame, files: dict[str, Path], sheets: dict[tuple[str, str], str]) -> pd.DataFrame:
    """Each area's 'All ages' total per file and sheet, with where it was read (``_file``, ``_sheet``, ``_row``);
    ``files`` maps each ``source`` citation to its file, ``sheets`` each (source, sex) to its sheet."""
    tot = t.groupby(["year", "code", "name", "geography", "sex", "source", "source_row"], as_index=False,
                    observed=True)["population"].sum().rename(columns={"population": "All ages", "source_row": "_row"})
    tot["_file"] = tot["source"].map({k: str(v) for k, v in files.items()})
    tot["_sheet"] = tot.set_index(["source", "sex"]).index.map(sheets).fillna("").to_numpy()
    return tot


def _parsed() -> list[tuple[Path, pd.DataFrame]]:
    """Every population file in ``data/raw/ons_population`` with its parsed table (through the parse cache)."""
    parsed = [(p, cached_parse(p, parse_mye2_workbook, name="mye2-workbook", version=_PARSER_VERSION))
              for p in register.files_of_kind(WORKBOOK.kind)]
    parsed += [(p, cached_parse(p, parse_mye2_xls, name="mye2-xls", version=_PARSER_VERSION))
               for p in register.files_of_kind(OLD_WORKBOOK.kind, required=False)]
    parsed += [(p, cached_parse(p, parse_mye2_persons_csv, name="mye2-csv", version=_PARSER_VERSION))
               for p in register.files_of_kind(PERSONS_CSV.kind, required=False)]
    return parsed


@memoised()
def _loaded() -> tuple[pd.DataFrame, dict[tuple[str, str], str]]:
    """The tidy table of every file, checked against :data:`RULES`, and the sheet of each (source, sex)."""
    frames, holder = [], {}
    parsed = _parsed()
    for path, table in parsed:
        for year in sorted(table["year"].unique()):
            if year in holder:
                raise InputError(f"two population files both hold mid-{year} estimates: {holder[year].name} "
                                 f"and {path.name}", file=path.parent,
                                 hint=f"keep one edition per year: move {holder[year].name} or {path.name} "
                                      "out of data/raw/ons_population")
            holder[year] = path
        frames.append(table.assign(source=register.citation_of(path)))
    table = pd.concat(frames, ignore_index=True)
    sheets = table.groupby(["source", "sex"], observed=True)["_sheet"].first().to_dict()
    table = table.drop(columns="_sheet")
    plausibility.check(_totals(table, {register.citation_of(p): p for p, _ in parsed}, sheets), RULES)
    return table, sheets


def estimates() -> pd.DataFrame:
    """Every published population estimate in ``data/raw/ons_population``, tidy, all geographies as published.

    Raises
    ------
    InputError
        If two files hold the same mid-year (both files are named), or a file is unreadable or implausible.
    """
    return _loaded()[0]


def sheet_of(source: str, sex: str) -> str:
    """The sheet the ``sex`` table of the file cited as ``source`` was read from ('' for a CSV)."""
    return _loaded()[1].get((source, sex), "")


@once_per_edition()
def region_membership() -> pd.Series:
    """Region name of each area, read from the hierarchy of the latest ONS MYE2 table (kept per data edition:
    :mod:`cdp_analysis.edition_cache`; every process asks it for the area register).

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
    """Mid-years for which estimates exist for ``sex`` (a new list each call)."""
    return list(_years_by_sex().get(sex, []))


@once_per_edition(copy=False)
def _years_by_sex() -> dict[str, tuple[int, ...]]:
    """The mid-years held for each sex. Kept per data edition (:mod:`cdp_analysis.edition_cache`): checking a params
    file's years (every ``cdp run``, before any notebook) then needs no estimates loaded, about 2 s a process."""
    t = estimates()
    return {sex: tuple(sorted(int(y) for y in years)) for sex, years in t.groupby("sex", observed=True)["year"].unique().items()}


def file_of_year(year: int):
    """The raw file holding the mid-``year`` estimates."""
    check_years([year], where="population year")
    t = estimates()
    (entry,) = register.resolve_source(t.loc[t["year"] == year, "source"].iat[0])
    return register.file_path(entry.path)


def check_years(years: list[int] | None, *, file=None, where: str = "key 'population_years'") -> None:
    """Every year must have estimates in ``data/raw/ons_population``; else one readable error.

    Parameters
    ----------
    years : list of int or None
        Mid-years asked for (None or empty: nothing to check).
    file, where : optional
        Where the years were given (a params file and key, or a notebook parameter), for the message.
    """
    if not years:
        return
    available = available_years()
    missing = [y for y in years if y not in available]
    if missing:
        raise InputError(f"no population estimates for mid-{', mid-'.join(map(str, missing))}", file=file,
                         where=where,
                         hint=f"choose from {', '.join(map(str, available))} (the years in data/raw/ons_population)")


def mid_year(path: Path) -> str:
    """The mid-year a downloaded MYE2 workbook holds ('mid-2024'), read with :func:`parse_mye2_workbook`."""
    return f"mid-{int(parse_mye2_workbook(path)['year'].max())}"


DATASET = register.Dataset(name="ons_population", title="ONS mid-year population estimates (MYE2)",
                           kinds=(WORKBOOK, OLD_WORKBOOK, PERSONS_CSV), load=estimates, rules=RULES,
                           source=sources.OnsDataset(
                               page="https://www.ons.gov.uk/peoplepopulationandcommunity/populationandmigration/"
                                    "populationestimates/datasets/populationestimatesforukenglandandwalesscotlandandnorthernireland",
                               kind=WORKBOOK.kind, files=r"\.xlsx$", period=mid_year))
