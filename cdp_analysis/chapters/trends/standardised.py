"""Standardised rates for any CDP, computed here (a multi-area CDP has no published rate).

For the CDP, its members and region(s): deaths over the latest 3-year period, the crude rate per 100,000 a
year and the indirectly standardised ratio against England's age-specific rates (``drug_deaths_standardised``).

Rule: numbers and tables only; the sentence and the table view are in :mod:`.present`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import stats
from ...areas import comparators, current_population, geography
from ...areas.partnerships import Partnership
from ...data import ons_drug_deaths_national, ons_population
from ...data.register import cite
from ...output import tidy
from .series import _AREA, CAUSES


def _band_of(ages: pd.Series, bands: pd.DataFrame) -> pd.Series:
    out = pd.Series("", index=ages.index, dtype=object)
    for b in bands.itertuples():
        out[(ages >= b.age_from) & (ages <= b.age_to)] = b.age_group
    return out


def standardised_period(deaths: pd.DataFrame) -> tuple[str, list[int], int] | None:
    """The latest 3-year period of the pooled tables whose middle year's population is held and whose years
    the national table covers: (period, years, population year), or None."""
    nat_years = set(ons_drug_deaths_national.england_by_age()["year"])
    held = set(ons_population.available_years())
    periods = sorted({p for p in deaths["time_period"] if "-" in p}, reverse=True)
    for p in periods:
        first = int(p[:4])
        years = [first, first + 1, first + 2]
        if first + 1 in held and set(years) <= nat_years:
            return p, years, first + 1
    return None


def standardised_table(cdp: Partnership, deaths: pd.DataFrame) -> pd.DataFrame:
    """``drug_deaths_standardised``: for the CDP, its members and region(s), deaths over the latest 3-year period
    (the sum of the annual registrations), the crude rate per 100,000 a year (3 × the mid-period population;
    exact/Byar's limits) and the **indirectly standardised ratio** against England's age-specific rates of the
    same years (expected = Σ England's deaths ÷ population in each age group × the area's population), with
    the statistics core's limits — the way to give a multi-area CDP a rate without averaging published ones."""
    found = standardised_period(deaths)
    if found is None:
        return tidy.conform(pd.DataFrame(columns=[*_AREA, "time_period", "measure", "value", "unit", "source"]))
    period, years, pop_year = found
    nat = ons_drug_deaths_national.england_by_age()
    nat = nat[(nat["sex"] == "Persons") & (nat["age_group"] != "All ages") & nat["year"].isin(years)]
    bands = nat[["age_group", "age_from", "age_to"]].drop_duplicates()
    pop = current_population.current_areas([pop_year])
    pop = pop[pop["sex"] == "persons"].assign(age_group=lambda d: _band_of(d["age"], bands))
    pop_src = pop["source"].iloc[0]
    by_band = pop.groupby(["code", "age_group"], as_index=False)["population"].sum()
    groups = comparators.reporting_areas(cdp)
    groups = groups[groups["area_role"].isin(["cdp", "member", "region"])]
    local = by_band.merge(groups, on="code").groupby([*_AREA, "age_group"], as_index=False)["population"].sum()
    eng_pop = by_band[by_band["code"] == geography.ENGLAND_CODE].set_index("age_group")["population"]
    rows = []
    for cause in CAUSES:
        ref = nat[nat["cause"] == cause].groupby("age_group")["deaths"].sum()
        ann = deaths[(deaths["cause"] == cause) & (deaths["measure"] == "deaths")
                     & deaths["time_period"].isin([str(y) for y in years])]
        observed = ann.groupby(_AREA, as_index=False).agg(x=("value", "sum"), n_years=("time_period", "nunique"))
        observed = observed[observed["n_years"] == len(years)].drop(columns="n_years")
        bandrows = local.assign(n=3 * local["population"], x_ref=local["age_group"].map(ref),
                                n_ref=3 * local["age_group"].map(eng_pop))
        isr = tidy.from_stats(stats.isr_ratio(bandrows, "x", "n", "x_ref", "n_ref", group_by=_AREA,
                                              observed_totals=observed))
        totals = local.groupby(_AREA, as_index=False)["population"].sum().merge(observed, on=_AREA)
        crude = tidy.from_stats(stats.crude_rate(totals.assign(n=3 * totals["population"]), "x", "n", group_by=_AREA,
                                                 multiplier=100_000))
        src = cite(ann["source"].iloc[0], nat["source"].iloc[0], pop_src)
        isr = isr.assign(cause=cause, measure="indirectly standardised ratio", unit="ratio (England = 1)",
                         count=isr["observed"], denominator=isr["expected"], method=isr["method"])
        crude = crude.assign(cause=cause, measure="crude rate", unit="per 100,000 a year", count=crude["x"],
                             denominator=crude["n"])
        for part in (isr, crude):
            rows.append(part.assign(source=src))
    t = pd.concat(rows, ignore_index=True)
    t = t[t["value"].notna()]
    isr_rows = t["measure"] == "indirectly standardised ratio"
    cmp = stats.compare_to_benchmark(t[isr_rows], "value", "lower_ci", "upper_ci", 1.0, polarity="low_is_good")
    t["compared_to_england"] = ""
    t.loc[isr_rows, "compared_to_england"] = cmp["comparison"].astype(str).to_numpy()
    t = t.assign(time_period=period, sex="Persons",
                 value_note=np.where(isr_rows, f"expected deaths from England's age-specific rates, {period}; "
                                               f"population mid-{pop_year}", f"population mid-{pop_year} × 3"),
                 indicator_id="cdp.trends." + t["cause"].map(geography.slugify) + "." + t["measure"].map(geography.slugify),
                 indicator_name="Deaths related to " + t["cause"] + ", " + t["measure"])
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "cause", "measure", "sex", "value", "lower_ci",
            "upper_ci", "count", "denominator", "unit", "value_note", "compared_to_england", "source"]
    return tidy.conform(t[keep])
