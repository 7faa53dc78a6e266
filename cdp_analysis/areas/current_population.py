"""Population on the current areas: every published mid-year estimate mapped onto today's upper-tier
areas, plus regions and England, and the age groupings the chapters use.

Editions published before a reorganisation (mid-2015 … mid-2019 on their own year's boundaries, mid-2020 and
mid-2021 on 2021 boundaries) lack some current areas; those are built from their predecessors by
:func:`cdp_analysis.areas.vintage.to_current` and say so in ``geography_basis``. Every edition lists the
districts, so each such area is an exact sum of the districts (and unitaries) it was made of: Bournemouth +
Christchurch + Poole for Bournemouth, Christchurch and Poole, the five Dorset districts for Dorset, the
Buckinghamshire, Northamptonshire, Cumbria, North Yorkshire and Somerset districts for their successors.

Two checks make that honest. Every unitary, district and borough a file lists must lie in a current area (be
one, have a successor in the code-change lookup, or be listed under a county that is one); else its residents
would silently be left out. And where every current area is exact, they must add up to England (to the
0.05% the plausibility rules allow; exactly, in every edition held).
Each row keeps the ``source`` (data-register citation) of the file it came from.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from ..data import ons_population
from ..edition_cache import once_per_edition
from ..errors import InputError
from ..stats import ESP2013_BANDS
from . import geography, vintage

log = logging.getLogger(__name__)

#: Age groups used as denominators by the chapters: label -> (first age, last age or None for open).
DENOMINATOR_AGES: dict[str, tuple[int, int | None]] = {
    "All ages": (0, None),
    "15-64": (15, 64),
    "16-24": (16, 24),
    "16-59": (16, 59),
    "18+": (18, None),
}

#: The first mid-year whose estimates in the data are based on Census 2021: the estimates before it are based on
#: Census 2011 and are not rebased here, so a change across it is partly the census's correction.
CENSUS_BASED_FROM = 2021

#: Five-year age bands, youngest first: the 19 ESP2013 bands ('0-4' … '85-89', '90+').
AGE_BANDS: tuple[str, ...] = ESP2013_BANDS


#: ``geography_basis`` of exact figures: current areas built only from these add up to England exactly.
_EXACT = (vintage.AS_PUBLISHED, vintage.RENAMED, vintage.AGGREGATED)
#: Relative difference allowed between England and the sum of its current areas: the plausibility rules' tolerance.
_TOLERANCE = 0.0005


def _listed_areas(t: pd.DataFrame) -> pd.DataFrame:
    """One row per English area of a year's persons table, in the file's order, with ``parent``: the county a
    district is listed under (ONS lists each county followed by its districts)."""
    rows = t[(t["sex"] == "persons") & (t["age"] == 0) & t["code"].str.startswith("E")]
    rows = rows.sort_values(["source", "source_row"])
    district = rows["code"].str.startswith("E07")
    above = rows["code"].where(~district).ffill()
    return rows.assign(parent=above.where(district & above.str.startswith("E10")))


def _where(source: str, row: int) -> str:
    sheet = ons_population.sheet_of(source, "persons")
    return (f"sheet '{sheet}', " if sheet else "") + f"row {row}"


def _check_placed(t: pd.DataFrame, year: int, utla: list[str]) -> None:
    """Every unitary, district and borough listed for mid-``year`` lies in a current area; else one error."""
    rows = _listed_areas(t)
    units = rows[rows["code"].str.startswith(("E06", "E07", "E08", "E09"))]
    lost = units[vintage.current_areas_of(units["code"], units["parent"], utla).isna()]
    if lost.empty:
        return
    r = lost.iloc[0]
    residents = int(t.loc[(t["code"] == r["code"]) & (t["sex"] == "persons"), "population"].sum())
    names = rows.set_index("code")["name"]
    county = (f", nor is the county it is listed under ({r['parent']} {names.get(r['parent'], '')})"
              if pd.notna(r["parent"]) else "")
    more = f" ({len(lost) - 1} more area(s) like it)" if len(lost) > 1 else ""
    raise InputError(
        f"area '{r['code']}' ({r['name']}, {r['geography']}) lies in no current area: it is not a current "
        f"upper-tier area{county}, and the code-change lookup (data/raw/lookups/"
        f"la_code_changes_england_from_mysociety.csv) names no successor for it, so its {residents:,} residents "
        f"would be left out of every current area{more}", file=ons_population.file_of_year(year),
        where=_where(r["source"], int(r["source_row"])),
        hint="if the code is not as published, restore the file unchanged from ../shared/data; if it is (an edition "
             "on older boundaries), the lookup lacks the code's change: copy a lookup that lists it from "
             "../shared/data and register it (see data/README.md), or remove this edition from data/raw/ons_population")


def _check_adds_up(out: pd.DataFrame, year: int, utla: list[str]) -> None:
    """Where every current upper-tier area is exact, their 'All ages' totals add up to England's for each sex,
    within the tolerance the plausibility rules allow a published file (0.05%); else one error. An area counted
    twice or left out by the mapping (Christchurch alone is 0.09% of England) is caught; the published areas
    themselves add up to England exactly in every edition held."""
    parts = out[out["code"].isin(set(utla))]
    if not parts["geography_basis"].isin(_EXACT).all():
        log.info("mid-%d: some current areas are apportioned (estimates); their sum is not checked", year)
        return
    sums = parts.groupby("sex")["population"].sum()
    england = out[out["code"] == geography.ENGLAND_CODE].groupby("sex")["population"].sum()
    off = (sums.reindex(england.index).fillna(0) - england).abs() > _TOLERANCE * england
    if off.any():
        sex = england.index[off.to_numpy()][0]
        raise InputError(f"the current upper-tier areas built from the mid-{year} estimates add up to "
                         f"{int(sums.get(sex, 0)):,} {sex} (all ages), not England's {int(england[sex]):,}: "
                         "the code-change lookup counts part of England twice or leaves part out",
                         file=ons_population.file_of_year(year),
                         hint="check data/raw/lookups/la_code_changes_england_from_mysociety.csv (`cdp data` compares "
                              "it with the register); restore it unchanged from ../shared/data")


@once_per_edition(maxsize=16, copy=False)
def _current(year: int) -> pd.DataFrame:
    ons_population.check_years([year], where="population year")
    t = ons_population.estimates()
    t = t[t["year"] == year]
    all_ages = t[(t["sex"] == "persons")].groupby("code")["population"].sum()
    utla = geography.utla_codes()
    _check_placed(t, year, utla)
    mapped = vintage.to_current(t[["code", "sex", "age", "source", "population"]], values=["population"],
                                kind="count", population=all_ages, current_codes=utla)
    mapped["population"] = mapped["population"].round().astype("int64")
    others = t[t["code"].isin(set(geography.areas().query("level != 'utla'")["code"]))]
    others = others[["code", "sex", "age", "source", "population"]].assign(geography_basis=vintage.AS_PUBLISHED)
    out = pd.concat([mapped, others], ignore_index=True)
    missing = sorted(set(geography.areas()["code"]) - set(out["code"]))
    if missing:
        raise InputError(f"mid-{year} estimates lack {len(missing)} current areas ({', '.join(missing[:5])}…)",
                         file=ons_population.file_of_year(year),
                         hint="the workbook's geography cannot be mapped to current areas; see docs/bad-input.md")
    _check_adds_up(out, year, utla)
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
        ``year, code, sex, age, source, population, geography_basis``. Current areas absent from an older
        edition are built from their predecessors (see :mod:`cdp_analysis.areas.vintage`);
        ``geography_basis`` says how.
    """
    years = years or ons_population.available_years()
    return pd.concat([_current(int(y)) for y in years], ignore_index=True)


def adults(year: int) -> pd.Series:
    """Residents aged 18+ (persons) of every current upper-tier area, region and England in mid-``year``,
    by code: the denominator of the alcohol measures, and the population share by which a count is
    apportioned to current areas."""
    pop = current_areas([year])
    pop = pop[(pop["sex"] == "persons") & (pop["age"] >= 18)]
    return pop.groupby("code")["population"].sum()


def five_year_band(age: pd.Series) -> pd.Series:
    """Five-year age band labels :data:`AGE_BANDS` for single years of age 0–90 (90 = 90 and over)."""
    lower = (np.minimum(age, 90) // 5) * 5
    labels = np.where(lower >= 90, "90+", lower.astype(str) + "-" + (lower + 4).astype(str))
    return pd.Series(labels, index=age.index, dtype="string")


def in_age_group(age: pd.Series, label: str) -> pd.Series:
    """Boolean mask of ages in a :data:`DENOMINATOR_AGES` group."""
    lo, hi = DENOMINATOR_AGES[label]
    return (age >= lo) & ((age <= hi) if hi is not None else True)


def mid_year_of(period: str) -> int:
    """The mid-year (30 June) a period's rate is put over: the mid-year inside a financial year ('2017/18' →
    2017), the middle year of pooled years ('2016-18' → 2017), the year itself ('2019'), and for a survey period
    ('Apr 2018 to Mar 2019', 'Oct 2021 to Jun 2022') the mid-year nearest its mid-point (2018; 2022).

    Raises
    ------
    ValueError
        If the period is in none of these forms.
    """
    text = str(period).strip()
    if m := re.fullmatch(r"([0-9]{4})/([0-9]{2})", text):  # financial year April–March
        return int(m.group(1))
    if m := re.fullmatch(r"([0-9]{4})\s*[-–]\s*([0-9]{2}|[0-9]{4})", text):  # pooled calendar years
        first = int(m.group(1))
        last = int(m.group(2)) if len(m.group(2)) == 4 else first // 100 * 100 + int(m.group(2))
        return (first + last) // 2
    if re.fullmatch(r"[0-9]{4}", text):
        return int(text)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    if m := re.fullmatch(r"([A-Z][a-z]{2}) ([0-9]{4}) to ([A-Z][a-z]{2}) ([0-9]{4})", text):
        start = int(m.group(2)) + months.index(m.group(1)) / 12
        end = int(m.group(4)) + (months.index(m.group(3)) + 1) / 12
        return int(np.floor((start + end) / 2))  # the year whose 30 June is nearest the mid-point
    raise ValueError(f"cannot tell the mid-year of the period {period!r}")


def population_year(period: str) -> tuple[int, str]:
    """The held mid-year whose population a rate for ``period`` divides by, and a note when it is not the
    period's own (:func:`mid_year_of`): the nearest held year is used then, the earlier on a tie.

    Returns
    -------
    (int, str)
        The mid-year used, and '' or e.g. 'mid-2023 population not held: mid-2022 used'.
    """
    own = mid_year_of(period)
    held = ons_population.available_years()
    if own in held:
        return own, ""
    used = min(held, key=lambda y: (abs(y - own), y))
    return used, f"mid-{own} population not held: mid-{used} used"
