"""Population series and census ages on the current areas: the ONS MYEB3 totals (mid-2001 to mid-2019, April
2020 districts) and Census 2021 TS007 single years of age (2021 boundaries) put on today's upper-tier areas, the
regions and England.

How each current upper-tier area is built (said in ``geography_basis``):

* **as published** — a unitary authority, metropolitan district or London borough whose code the file holds;
* **sum of its districts (exact)** — MYEB3 holds no county rows, so a current shire county is the sum of its
  districts; which county a district belongs to is read from the hierarchy of the ONS MYE2 tables
  (:func:`district_counties`: ONS lists a county's row, then its districts);
* **sum of predecessor areas (exact)** — an area created since the file's geography is the sum of the districts
  it replaced (:func:`cdp_analysis.areas.vintage.to_current`, ``kind='count'``, from the code-change lookup):
  North and West Northamptonshire from the seven Northamptonshire districts in MYEB3; Cumberland, Westmorland and
  Furness, North Yorkshire and Somerset from their districts in both files (TS007's counties of Cumbria, North
  Yorkshire and Somerset are not split by population share: their districts are summed instead).

Regions are the sums of their current upper-tier areas (region of each area from
:mod:`cdp_analysis.areas.geography`). England is, for MYEB3, the sum of every English district in the file (and
the current areas are checked to add up to it exactly); for TS007, the sum of the current upper-tier areas (the
Nomis files hold no England row, and ONS's disclosure control makes district and county sums differ by a few
people).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..data import census_ts007, lookups, ons_population, ons_population_series, register
from ..errors import InputError
from ..memo import memoised
from . import geography, vintage

log = logging.getLogger(__name__)

#: ``geography_basis`` of a current county summed from its districts, and of a region or England summed from
#: areas.
DISTRICTS_SUMMED = "sum of its districts (exact)"
UPPER_TIERS_SUMMED = "sum of its current upper-tier areas (exact)"
FILE_DISTRICTS_SUMMED = "sum of the file's English districts (exact)"


@memoised()
def district_counties() -> pd.Series:
    """The county (E10 code) of every non-metropolitan district listed in any ONS MYE2 table held.

    ONS lists each county's row followed by its districts; a district's county is the last county row above it
    in the same table. Where editions disagree, the latest is kept. Returns a Series of county codes indexed by
    district code.
    """
    t = ons_population.estimates()
    rows = t[(t["sex"] == "persons") & (t["age"] == 0)].sort_values(["year", "source_row"])
    district = rows["geography"] == "Non-metropolitan District"
    county = rows["code"].where(rows["geography"] == "County")
    county = county.where(district | (rows["geography"] == "County"), "")
    county = county.groupby(rows["year"]).ffill()
    found = pd.DataFrame({"district": rows.loc[district, "code"], "county": county[district]})
    found = found[found["county"].fillna("").str.startswith("E10")]
    return found.drop_duplicates("district", keep="last").set_index("district")["county"].rename("county")


def _routes(codes: pd.DataFrame, current: set[str], *, file: Path, column: str | None = None) -> pd.DataFrame:
    """How each code of a file reaches a current upper-tier area: ``direct`` (it is one), ``successor`` (the
    code-change lookup names a current successor) or ``county`` (a district of a current county, in column
    ``county``). Raises :class:`InputError` at the first code with none, naming the file, row and code."""
    changes = lookups.code_changes()
    replaced = set(changes.loc[changes["new_code"].isin(current), "old_code"])
    county = codes["code"].map(district_counties())
    route = np.select([codes["code"].isin(current), codes["code"].isin(replaced), county.isin(current)],
                      ["direct", "successor", "county"], default="")
    out = codes.assign(route=route, county=county.where(route == "county"))
    lost = out[out["route"] == ""]
    if not lost.empty:
        r = lost.iloc[0]
        changes_file = register.file_of_kind(lookups.CODE_CHANGES.kind)
        raise InputError(f"the area code '{r['code']}' ({r['name']}) has no current upper-tier area: it is not a current "
                         "area, the code-change lookup names no successor for it, and no ONS MYE2 table lists it under "
                         "a current county" + (f" ({len(lost) - 1} more such code(s))" if len(lost) > 1 else ""),
                         file=file, where=f"row {int(r['source_row'])}" + (f", column '{column}'" if column else ""),
                         hint="check the code against the published file (copy it again, unchanged, from "
                              "../shared/data); if the area has been reorganised, add its old and new codes to "
                              f"{changes_file.name} (data/raw/lookups) and register the new edition")
    return out


def _check_complete(table: pd.DataFrame, keys: list[str], current: list[str], *, file: Path, what: str) -> None:
    """Every current upper-tier area is in ``table`` for every combination of ``keys`` (e.g. each year)."""
    have = table.groupby(keys)["code"].agg(set)
    for key, codes in have.items():
        missing = sorted(set(current) - codes)
        if missing:
            at = ", ".join(f"{k} {v}" for k, v in zip(keys, key if isinstance(key, tuple) else (key,)))
            raise InputError(f"{what} cannot be put on {len(missing)} current upper-tier area(s) ({at}): "
                             f"{', '.join(missing[:5])}", file=file,
                             hint="restore the published file unchanged from ../shared/data; a district left out or "
                                  "renamed leaves its current area incomplete")


def _summed(utla: pd.DataFrame, keys: list[str], into: pd.Series | str) -> pd.DataFrame:
    """Current upper-tier areas summed (per ``keys``) into the area ``into`` gives each (a Series by code, e.g.
    its region, or one code for all), with the distinct sources of its parts."""
    code = utla["code"].map(into) if isinstance(into, pd.Series) else into
    grouped = utla.assign(code=code).groupby([*keys, "code"], sort=True)
    out = grouped["population"].sum().to_frame()
    out["source"] = grouped["source"].agg(lambda s: register.join_distinct(*s.unique()))
    return out.reset_index().assign(geography_basis=UPPER_TIERS_SUMMED)


def _regions(utla: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each region as the sum of its current upper-tier areas (region of each from the geography registry)."""
    return _summed(utla, keys, geography.areas("utla").set_index("code")["region_code"])


def _named(table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    areas = geography.areas().set_index("code")
    out = table.assign(name=table["code"].map(areas["name"]), level=table["code"].map(areas["level"]))
    out["population"] = out["population"].round().astype("int64")
    return out[order].sort_values([c for c in ("code", "year", "age") if c in order], ignore_index=True)


def mid_year_totals() -> pd.DataFrame:
    """ONS MYEB3 total population, each mid-year of the series, for every current upper-tier area, region and
    England.

    Returns
    -------
    DataFrame
        ``year`` (mid-year), ``code, name, level`` ('utla', 'region', 'country'), ``population`` (persons, all
        ages), ``geography_basis`` (how the area was built from the file's districts), ``source``.

    Raises
    ------
    InputError
        If a district code of the file reaches no current area (naming the file, row and code), a current area
        cannot be built for a year, or the current areas do not add up to England's districts.
    """
    return _mid_year_totals().copy()


@memoised()
def _mid_year_totals() -> pd.DataFrame:
    file = ons_population_series.source_file()
    t = ons_population_series.estimates()
    eng = t[t["country"] == "E"]
    current = geography.utla_codes()
    routes = _routes(eng.drop_duplicates("code")[["code", "name", "source_row"]], set(current), file=file)
    route = eng["code"].map(routes.set_index("code")["route"])
    counties = (eng[route == "county"].assign(code=lambda d: d["code"].map(routes.set_index("code")["county"]))
                .groupby(["code", "year", "source"], as_index=False)["population"].sum()
                .assign(geography_basis=DISTRICTS_SUMMED))
    latest = eng[eng["year"] == eng["year"].max()].set_index("code")["population"]
    mapped = vintage.to_current(eng.loc[route != "county", ["code", "year", "source", "population"]],
                                values=["population"], kind="count", population=latest, current_codes=current)
    utla = pd.concat([counties, mapped], ignore_index=True)
    _check_complete(utla, ["year"], current, file=file, what="the MYEB3 series")
    england = (eng.groupby(["year", "source"], as_index=False)["population"].sum()
               .assign(code=geography.ENGLAND_CODE, geography_basis=FILE_DISTRICTS_SUMMED))
    summed = utla.groupby("year")["population"].sum()
    districts = england.set_index("year")["population"].reindex(summed.index)
    if (summed != districts).any():
        year = summed.index[summed != districts][0]
        raise InputError(f"the current areas add up to {summed[year]:,} at mid-{year}, not the {districts[year]:,} of "
                         "England's districts", file=file,
                         hint="a district is counted twice or left out: restore the published file and the lookups")
    out = pd.concat([utla, _regions(utla, ["year"]), england], ignore_index=True)
    log.info("MYEB3 put on %d current areas, mid-%d to mid-%d", out["code"].nunique(), out["year"].min(),
             out["year"].max())
    return _named(out, ["year", "code", "name", "level", "population", "geography_basis", "source"])


def census_ages() -> pd.DataFrame:
    """Census 2021 (TS007) usual residents by single year of age for every current upper-tier area, region and
    England.

    Current areas in the upper-tier file are taken as published; the others (the 2023 unitaries) are the sums of
    their districts in the lower-tier file (:func:`cdp_analysis.areas.vintage.to_current`).

    Returns
    -------
    DataFrame
        ``year`` (census year), ``code, name, level``, ``age`` (0 to the top age, which means that age and over),
        ``population`` (persons), ``geography_basis``, ``source``.

    Raises
    ------
    InputError
        If an English area of the upper-tier file reaches no current area (naming the file, row and code), or a
        current area cannot be built.
    """
    return _census_ages().copy()


@memoised()
def _census_ages() -> pd.DataFrame:
    t = census_ts007.estimates()
    eng = t[t["code"].str.startswith("E")]
    utla_file = census_ts007.file_of_level("utla")
    upper = eng[eng["level"] == "utla"]
    current = geography.utla_codes()
    _routes(upper.drop_duplicates("code")[["code", "name", "source_row"]], set(current), file=utla_file,
            column="geography code")
    lower = eng[(eng["level"] == "ltla") & ~eng["code"].isin(set(upper["code"]))]
    table = pd.concat([upper, lower], ignore_index=True)
    totals = table.groupby("code")["population"].sum()
    utla = vintage.to_current(table[["code", "year", "age", "source", "population"]], values=["population"],
                              kind="count", population=totals, current_codes=current)
    _check_complete(utla, ["year", "age"], current, file=utla_file, what="the TS007 files")
    regions = _regions(utla, ["year", "age"])
    england = _summed(utla, ["year", "age"], geography.ENGLAND_CODE)
    out = pd.concat([utla, regions, england], ignore_index=True)
    return _named(out, ["year", "code", "name", "level", "age", "population", "geography_basis", "source"])


#: ``population_source`` of the years taken from the MYEB3 series and from the yearly MYE tables.
FROM_SERIES = "ONS MYEB3 series (mid-2001 to mid-2019)"
FROM_YEARLY_TABLES = "ONS mid-year estimates (yearly tables)"
#: Code of England and Wales, the geography of ONS's national series.
ENGLAND_AND_WALES = "K04000001"


def annual_totals() -> pd.DataFrame:
    """Residents of all ages, every mid-year held, for every current upper-tier area, region, England and England
    and Wales (:data:`ENGLAND_AND_WALES`): the
    denominator of trends in rates (log-population offsets).

    One source per year, so that a series has no step from switching files: the MYEB3 series for mid-2001 to
    mid-2019 (one consistent back-series on one geography, :func:`mid_year_totals`) and the yearly MYE tables
    (:func:`cdp_analysis.areas.current_population.current_areas`) from mid-2020. The tables from mid-2021 are
    based on Census 2021 and those before on Census 2011, so a small step at 2021 remains (ONS had not published
    the rebased 2012–2020 series in the files held); mid-2023 is not held, so it has no row.

    Returns
    -------
    DataFrame
        ``year, code, population`` (persons, all ages), ``population_source`` (:data:`FROM_SERIES` or
        :data:`FROM_YEARLY_TABLES`) and ``source`` (data-register citation), sorted by code and year.
    """
    return _annual_totals().copy()


@memoised()
def _annual_totals() -> pd.DataFrame:
    from . import current_population

    series = _mid_year_totals()[["year", "code", "population", "source"]].assign(population_source=FROM_SERIES)
    later = [y for y in ons_population.available_years() if y > series["year"].max()]
    tables = current_population.current_areas(later)
    tables = (tables[tables["sex"] == "persons"].groupby(["year", "code", "source"], as_index=False)["population"]
              .sum().assign(population_source=FROM_YEARLY_TABLES))
    # England and Wales (the national series of deaths by substance): MYEB3's English and Welsh districts, then the
    # tables' own K04000001 rows
    raw = ons_population_series.estimates()
    ew_series = (raw[raw["country"].isin(["E", "W"])].groupby(["year", "source"], as_index=False)["population"].sum()
                 .assign(code=ENGLAND_AND_WALES, population_source=FROM_SERIES))
    est = ons_population.estimates()
    ew_tables = (est[(est["code"] == ENGLAND_AND_WALES) & (est["sex"] == "persons") & est["year"].isin(later)]
                 .groupby(["year", "source"], as_index=False)["population"].sum()
                 .assign(code=ENGLAND_AND_WALES, population_source=FROM_YEARLY_TABLES))
    out = pd.concat([series, tables, ew_series, ew_tables], ignore_index=True)
    out["population"] = out["population"].astype("int64")
    return out[["year", "code", "population", "population_source", "source"]].sort_values(["code", "year"],
                                                                                         ignore_index=True)
