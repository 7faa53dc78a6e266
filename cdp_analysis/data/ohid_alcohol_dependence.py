"""OHID / University of Sheffield estimates of alcohol-dependent adults (18+) in England's upper-tier areas.

Reads ``alcohol_dependent_adults_estimates_LA.csv`` as published (columns ``PHE_Centre, Local_Authority,
Area_Code_GSS, Alcohol_dependent, Alcohol_lower_CI, Alcohol_upper_CI, Year``): modelled numbers of
dependent adults with 95% limits for 2015/16, 2016/17 and 2017/18, and numbers without limits for 2010 to
2014 ('NA' limits). Areas carry their 2017 codes (Northamptonshire E10000021; Bournemouth, Poole and
Dorset before 2019); Cornwall and the Isles of Scilly are 'E0999' in 2010–2014. Mapping them onto current
areas is :func:`cdp_analysis.areas.vintage.to_current`'s job.

Tidy columns: ``code``, ``name``, ``period`` ('2017/18', '2014'), ``dependent`` (adults), ``lower_ci``,
``upper_ci`` (NaN where not published), ``source``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..memo import memoised
from . import plausibility, register, sources
from .readers import read_csv_table, to_numbers

log = logging.getLogger(__name__)

ESTIMATES = register.FileKind("alcohol_dependence", "ohid_alcohol_dependence", "alcohol_dependent_adults_estimates*.csv")
_COLUMNS = ["Local_Authority", "Area_Code_GSS", "Alcohol_dependent", "Alcohol_lower_CI", "Alcohol_upper_CI", "Year"]


def _limits_bracket(t: pd.DataFrame) -> pd.Series:
    lo, hi, v = t["Alcohol_lower_CI"], t["Alcohol_upper_CI"], t["Alcohol_dependent"]
    return lo.isna() | hi.isna() | ((lo <= v) & (v <= hi))


def _areas_add_up(t: pd.DataFrame) -> pd.Series:
    """England's estimate is within 2% of the sum of its areas' (modelled separately, so not exactly equal)."""
    ok = pd.Series(True, index=t.index)
    areas = t[t["Area_Code_GSS"] != "E92000001"].groupby("Year")["Alcohol_dependent"].sum()
    england = t[t["Area_Code_GSS"] == "E92000001"]
    off = (england["Alcohol_dependent"] - england["Year"].map(areas)).abs() > 0.02 * england["Alcohol_dependent"]
    ok[england.index[off]] = False
    return ok


#: Plausibility rules of the estimates file.
RULES = (
    plausibility.between("Alcohol_dependent", 0, 2_000_000, what="a number of dependent adults"),
    plausibility.Rule("the 95% limits bracket the estimate", "Alcohol_dependent", _limits_bracket),
    plausibility.Rule("England's estimate is within 2% of the sum of its areas'", "Alcohol_dependent", _areas_add_up),
    plausibility.Rule("an area is listed once a year", "Area_Code_GSS",
                      lambda t: ~t.duplicated(["Area_Code_GSS", "Year"])),
)


@memoised()
def estimates() -> pd.DataFrame:
    """Every estimate in the file, tidy (see the module docstring)."""
    path = register.file_of_kind(ESTIMATES.kind)
    raw = read_csv_table(path, _COLUMNS)
    raw["Area_Code_GSS"] = raw["Area_Code_GSS"].str.strip()
    raw["Year"] = raw["Year"].str.strip()
    for col in ("Alcohol_dependent", "Alcohol_lower_CI", "Alcohol_upper_CI"):
        raw[col] = to_numbers(raw, col, file=path, allow_missing=col != "Alcohol_dependent",
                              missing_markers=("", "NA"))
    plausibility.check(raw, RULES, file=path)
    return pd.DataFrame({"code": raw["Area_Code_GSS"], "name": raw["Local_Authority"].str.strip(),
                         "period": raw["Year"], "dependent": raw["Alcohol_dependent"],
                         "lower_ci": raw["Alcohol_lower_CI"], "upper_ci": raw["Alcohol_upper_CI"],
                         "source": register.citation_of(path)})


def latest_year(path: Path) -> str:
    """The latest period of the estimates a file holds ('2017/18'), read as :func:`estimates` reads the file."""
    years = read_csv_table(path, _COLUMNS)["Year"].str.strip()
    return max(years, key=sources.period_key)


DATASET = register.Dataset(name="ohid_alcohol_dependence",
                           title="OHID / University of Sheffield estimates of alcohol-dependent adults",
                           kinds=(ESTIMATES,), load=estimates, rules=RULES,
                           source=sources.GovUkPublication(
                               page="https://www.gov.uk/government/publications/alcohol-dependence-prevalence-in-england",
                               kind=ESTIMATES.kind, files=r"\.(csv|xlsx|ods)$", period=latest_year))
