"""Chapter 4, trends: tested trends in drug deaths, treatment and alcohol met need, with plain-English findings.

Series (real data):

* **Deaths related to drug misuse and to drug poisoning** (ONS, by local authority): deaths registered each
  year (persons) for the CDP (the sum of its members; current areas built from their predecessors' counts
  with :mod:`cdp_analysis.areas.vintage`), its region(s), England and its comparator areas; and the published
  3-year pooled age-standardised rates with limits (persons, males, females) as published, ONS's ':' and 'u'
  markers kept. A multi-area CDP has no published rate of its own: its members' rates are shown.
* **Adults in treatment** (NDTMS ViewIt): England's numbers each year, and the CDP's when its parameters name a
  ViewIt export (the treatment-gap chapter's loader).
* **Alcohol treatment** (ONS SDG 3.5.1, from the treatment-gap chapter): dependent drinkers in treatment each
  year (a count trend) and met need (the Fingertips recent-trend marker on the last five annual points).
* **Alcohol-specific mortality** (OHID Fingertips 91380): directly standardised rates with limits as published,
  3-year pooled; pre-2019 areas shown on current boundaries only where exact (a renamed code, or a CDP whose
  members are exactly a former county). Overlapping periods are not independent points, so no trend test.
* **National context**: deaths mentioning selected substances, England and Wales (ONS reference Table 4), and
  last-year drug use by 16–59s and 16–24s (Crime Survey; the Fingertips marker on the effective sample size).

Methods (:mod:`cdp_analysis.stats.trend_models`, ``docs/methods.md`` §9): the log-linear Poisson trend of
annual counts (quasi-Poisson when overdispersed) with its annual percentage change (APC); joinpoint regression
(0 … ``max_joinpoints``, BIC) with segment APCs and the average APC; the area-versus-England interaction test;
and the Fingertips recent-trend marker where the series is annual with a denominator. No population is held
for most of the years, so the death and treatment trends are **in numbers**, not rates (said in the report);
no test is run on fewer than 5 points or 50 events ('too few events').
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import Field

from .. import stats
from ..areas import comparators, current_population, geography, vintage
from ..areas.params import ChapterSettings
from ..areas.partnerships import Partnership
from ..data import fingertips, ndtms_viewit, ons_csew, ons_drug_deaths, ons_drug_deaths_national, ons_population
from ..data.register import cite
from ..memo import by_content, memoised
from ..output import figures, tidy
from ..output.escape import markdown_text as md
from ..output.index import KeyFigure
from ..output.notebook import FigureOutput, TableOutput
from ..output.table_html import with_limits
from . import prevalence, treatment_gap
from .registry import Chapter

log = logging.getLogger(__name__)

NAME = "trends"
CAUSES = ("drug misuse", "drug poisoning")
#: Fingertips indicator of alcohol-specific mortality (directly standardised rate per 100,000, 3-year pooled).
ALCOHOL_MORTALITY = "91380"
#: Substances of ONS Table 4 whose national death trend is tested (England and Wales).
SUBSTANCES = ("Any opiate (including unspecified opiates and excluding paracetamol compounds)", "Heroin or morphine",
              "Methadone", "Cocaine", "Any benzodiazepine", "Any new psychoactive substance")
#: Crime Survey tables of last-year use of any drug: 16–59s and 16–24s.
SURVEY_TABLES = {"1.02": "16-59", "1.08": "16-24"}
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]


class Settings(ChapterSettings):
    """Settings of the trends chapter (section ``trends:`` of a params file)."""

    max_joinpoints: int = Field(default=2, ge=0, le=3, description="most joinpoints tried in each series")
    min_points: int = Field(default=4, ge=3, le=10,
                            description="fewest annual points in each joinpoint segment (joinpoint years count in both)")
    first_year: int | None = Field(default=None, ge=1993, le=2020,
                                   description="first year of the death series tested (default: every year held)")


# --- data -----------------------------------------------------------------------------------------------


@by_content()
def _current(table: pd.DataFrame, values: list[str], kind: str) -> pd.DataFrame:
    """Rows of the ONS workbook on current areas (regions and England kept as published).

    The same whole-workbook step for every CDP: memoised by the table's content, so a batch worker does it once."""
    pop = current_population.current_areas([min(ons_population.available_years())])
    pop = pop[pop["sex"] == "persons"].groupby("code")["population"].sum()
    keys = [c for c in table.columns if c not in values and c != "code"]
    cur = vintage.to_current(table[["code", *keys, *values]], values=values, kind=kind, population=pop,
                             current_codes=geography.utla_codes())
    big = table[table["code"].str[:3].isin(["E12", "E92"])][["code", *keys, *values]]
    big = big.assign(geography_basis=vintage.AS_PUBLISHED)
    return pd.concat([cur, big], ignore_index=True)


def deaths_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``drug_deaths``: annual registrations and 3-year pooled deaths and age-standardised rates (ASMR per
    100,000, with limits, as published) for the CDP, its members, region(s), England and comparators."""
    groups = comparators.reporting_areas(cdp)
    ann = ons_drug_deaths.annual()
    src = ann["source"].iloc[0]
    annual = _current(ann[["code", "cause", "year", "deaths"]], ["deaths"], "count").merge(groups, on="code")
    annual = annual.assign(time_period=annual["year"].astype(str), sex="Persons", measure="deaths", unit="deaths",
                           value=annual["deaths"], source=src,
                           # a blank cell in ONS's table (e.g. City of London, 2021) is not a zero: ONS writes 0
                           value_note=np.where(annual["deaths"].isna(), "no figure in ONS's table (blank cell)", ""))
    pooled_raw = ons_drug_deaths.pooled()
    counts = _current(pooled_raw[["code", "cause", "sex", "period", "deaths"]], ["deaths"], "count")
    rates = pooled_raw[["code", "cause", "sex", "period", "rate", "lower_ci", "upper_ci", "rate_note"]]
    pooled = counts.merge(rates, on=["code", "cause", "sex", "period"], how="left")
    # a rate only where the area is as published (or a renamed code): never averaged or apportioned
    exact = pooled["geography_basis"].isin([vintage.AS_PUBLISHED, vintage.RENAMED])
    pooled.loc[~exact, ["rate", "lower_ci", "upper_ci"]] = np.nan
    pooled.loc[~exact, "rate_note"] = "no published rate for this area on current boundaries"
    pooled = pooled.merge(groups, on="code")
    pooled = pooled.assign(time_period=pooled["period"], source=src)
    p_deaths = pooled.assign(measure="deaths", unit="deaths", value=pooled["deaths"], lower_ci=np.nan,
                             upper_ci=np.nan, value_note="")
    p_rates = pooled.assign(measure="asmr", unit="per 100,000 (age-standardised, ESP2013)", value=pooled["rate"],
                            value_note=pooled["rate_note"].fillna(""))
    t = pd.concat([annual, p_deaths, p_rates], ignore_index=True)
    # the CDP: the sum of its members' deaths; no published rate for a multi-area CDP
    cdp_rows = t[t["area_role"] == "cdp"]
    if len(cdp.members) > 1:
        keys = [*_AREA, "cause", "sex", "measure", "time_period", "unit"]
        d = cdp_rows[cdp_rows["measure"] == "deaths"]
        n = d.groupby(keys)["code"].transform("size")
        d = d[n == len(cdp.members)].groupby(keys, as_index=False).agg(
            value=("value", "sum"), source=("source", "first"), geography_basis=("geography_basis", "first"))
        d = d.assign(geography_basis="sum of the members' deaths", value_note="", lower_ci=np.nan, upper_ci=np.nan)
        r = cdp_rows[cdp_rows["measure"] == "asmr"].drop_duplicates([*keys]).assign(
            value=np.nan, lower_ci=np.nan, upper_ci=np.nan,
            value_note="no published rate for the partnership as a whole: see its members' rates",
            geography_basis="")
        cdp_rows = pd.concat([d, r[d.columns.intersection(r.columns)]], ignore_index=True)
    t = pd.concat([t[t["area_role"] != "cdp"], cdp_rows], ignore_index=True)
    if settings.first_year is not None:
        t = t[t["time_period"].str[:4].astype(int) >= settings.first_year]
    t = t.assign(indicator_id="cdp.trends." + t["cause"].map(geography.slugify) + "." + t["measure"],
                 indicator_name=np.where(t["measure"] == "asmr",
                                         "Deaths related to " + t["cause"] + ", age-standardised rate per 100,000",
                                         "Deaths related to " + t["cause"] + " (registrations)"))
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "cause", "measure", "sex", "value", "lower_ci",
            "upper_ci", "unit", "value_note", "geography_basis", "source"]
    return tidy.conform(t[keep])


def _annual_series(deaths: pd.DataFrame, cause: str, role: str) -> pd.DataFrame:
    d = deaths[(deaths["cause"] == cause) & (deaths["measure"] == "deaths") & (deaths["area_role"] == role)
               & ~deaths["time_period"].str.contains("-")]
    return d.assign(year=d["time_period"].astype(int)).sort_values("year")


# --- trend results ----------------------------------------------------------------------------------------


def _row(series: str, area: pd.Series, method: str, measure: str, res: dict, *, start, end, source: str,
         joinpoints: str = "", model: str = "", apc_key: str = "apc", lo="lower_ci", hi="upper_ci",
         p="p_value") -> dict:
    return {**{k: area[k] for k in _AREA}, "series": series, "method": method, "measure": measure,
            "period_start": str(start), "period_end": str(end), "time_period": f"{start}-{end}",
            "apc": res.get(apc_key, np.nan), "value": res.get(apc_key, np.nan), "lower_ci": res.get(lo, np.nan),
            "upper_ci": res.get(hi, np.nan), "p_value": res.get(p, np.nan), "joinpoints": joinpoints,
            "verdict": res.get("verdict", ""), "model": model or res.get("model", ""), "unit": "% a year",
            "source": source}


@memoised(maxsize=4096)
def _fitted(years: tuple, values: tuple, max_joinpoints: int, min_points: int) -> tuple[dict, dict]:
    """The Poisson trend and the joinpoint fit of one annual series, by its years and counts.

    Memoised by content: England's and the national series are the same for every CDP, so in a batch (one warm
    kernel per worker) they are fitted once per worker, not once per CDP. The results are read, never changed."""
    d = pd.DataFrame({"year": years, "value": values})
    return (stats.poisson_trend(d, "year", "value"),
            stats.joinpoint(d, "year", "value", max_joinpoints=max_joinpoints, min_points=min_points))


def count_trends(series: str, frames: dict[str, pd.DataFrame], settings: Settings, *, england_role="england"):
    """Poisson, joinpoint and (for non-England areas) the comparison with England, for each area's annual
    series (``frames``: role → frame with ``year``, ``value`` and the area columns). Returns (rows, fits)."""
    rows, fits = [], {}
    eng = frames.get(england_role)
    for role, d in frames.items():
        if d.empty:
            continue
        area, src = d.iloc[0], cite(*d["source"].unique())
        start, end = int(d["year"].min()), int(d["year"].max())
        pt, jp = _fitted(tuple(d["year"].tolist()), tuple(d["value"].tolist()), settings.max_joinpoints,
                         settings.min_points)
        rows.append(_row(series, area, "poisson regression", "annual percentage change", pt, start=start, end=end,
                         source=src))
        fits[role] = jp
        jps = "; ".join(str(j) for j in jp["joinpoints"])
        rows.append(_row(series, area, "joinpoint", "average annual percentage change", jp, start=start, end=end,
                         source=src, joinpoints=jps, apc_key="aapc", lo="aapc_lower_ci", hi="aapc_upper_ci",
                         p="aapc_p_value"))
        for s in jp["segments"].itertuples():
            seg = {"apc": s.apc, "lower_ci": s.lower_ci, "upper_ci": s.upper_ci, "p_value": s.p_value,
                   "verdict": "no significant change" if s.p_value >= 0.05 else
                   ("increasing" if s.apc > 0 else "decreasing")}
            rows.append(_row(series, area, "joinpoint segment", "annual percentage change", seg,
                             start=int(s.period_start), end=int(s.period_end), source=src, joinpoints=jps,
                             model=jp["model"]))
        if role != england_role and eng is not None and not eng.empty:
            cmp = stats.compare_trends(d, eng, "year", "value")
            rows.append(_row(series, area, "compared with England", "difference in annual percentage change", cmp,
                             start=start, end=end, source=cite(src, *eng["source"].unique()), apc_key="apc_ratio"))
    return rows, fits


def trends_table(cdp: Partnership, settings: Settings, deaths: pd.DataFrame,
                 alcohol: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``trends``: one row per series × area × method (and joinpoint segment); ``alcohol`` is the
    ``alcohol_mortality`` table."""
    rows, fits = [], {}
    for cause in CAUSES:
        frames = {role: _annual_series(deaths, cause, role) for role in ("cdp", "england")}
        r, f = count_trends(f"deaths related to {cause}", frames, settings)
        rows += r
        fits[cause] = f
    # adults in treatment: England (ViewIt), and the CDP's own export when given
    eng = ndtms_viewit.england()
    tre = ndtms_viewit.in_treatment(eng, drug_groups=("all",))
    england_area = pd.Series({"area_code": geography.ENGLAND_CODE, "area_name": "England", "area_type": "England",
                              "area_role": "england", "area_members": ""})
    frames = {"england": tre.assign(**england_area, year=tre["period"].str[:4].astype(int) + 1)}
    gs = treatment_gap.Settings(viewit=list(cdp.chapter_settings(treatment_gap.NAME).viewit))
    local = treatment_gap.viewit_exports(cdp, gs)
    if not local.empty:
        lt = ndtms_viewit.in_treatment(local.drop(columns="code"), drug_groups=("all",))
        lt = lt.groupby("period", as_index=False).agg(value=("value", "sum"), source=("source", "first"))
        cdp_area = pd.Series({"area_code": cdp.code, "area_name": cdp.name, "area_type": cdp.area_type,
                              "area_role": "cdp", "area_members": cdp.members_text})
        frames["cdp"] = lt.assign(**cdp_area, year=lt["period"].str[:4].astype(int) + 1)
    r, f = count_trends("adults in structured treatment (year ending March)", frames, settings)
    rows += r
    fits["treatment"] = f
    # alcohol treatment (SDG 3.5.1): dependent drinkers in treatment (counts) and met need (the Fingertips marker)
    gap = treatment_gap.gap_table(cdp, treatment_gap.Settings())
    sdg = gap[(gap["substance"] == treatment_gap.ALCOHOL) & gap["area_role"].isin(["cdp", "england"])
              & gap["pairing"].str.startswith("ONS SDG")]
    treated = sdg[sdg["measure"] == "in treatment"].sort_values("time_period_sortable")
    frames = {role: d.assign(year=d["time_period"].str[:4].astype(int) + 1)
              for role, d in treated.groupby("area_role", sort=False)}
    r, f = count_trends("dependent drinkers in alcohol treatment (year ending March)", frames, settings)
    rows += r
    fits["alcohol treatment"] = f
    met = sdg[sdg["measure"] == "met need"]
    for _role, d in met.groupby("area_role", sort=False):
        d = d.sort_values("time_period_sortable")
        rt = stats.recent_trend(d.assign(x=d["count"], n=d["denominator"]), "time_period", count="x",
                                denominator="n", polarity="high_is_good", multiplier=100).iloc[0]
        res = {"apc": rt["slope"], "p_value": rt["p_value"], "verdict": str(rt["trend"]).lower()}
        row = _row("alcohol met need (dependent drinkers in treatment)", d.iloc[0], "Fingertips recent trend",
                   "change in met need (percentage points a year)", res, start=rt["first_period"],
                   end=rt["last_period"], source=cite(*d["source"].unique()), model="chi-square test for trend")
        row["unit"] = "percentage points a year"
        if rt["reason"]:
            row["verdict"] = f"cannot be calculated: {rt['reason']}"
        rows.append(row)
    rows += alcohol_mortality_rows(alcohol)
    # national context: deaths by substance and survey drug use (England and Wales)
    r, f = substance_rows(settings)
    rows += r
    fits["substances"] = f
    rows += survey_rows(cdp.chapter_settings(prevalence.NAME).design_factor)
    t = pd.DataFrame(rows)
    t["value_note"] = np.where(t["value"].isna(), "no estimate: " + t["verdict"], "")
    t["indicator_id"] = "cdp.trends." + t["series"].map(geography.slugify) + "." + t["method"].map(geography.slugify)
    t["indicator_name"] = t["series"].str[:1].str.upper() + t["series"].str[1:] + ": " + t["measure"]
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "series", "method", "measure", "period_start",
            "period_end", "apc", "value", "lower_ci", "upper_ci", "p_value", "joinpoints", "verdict", "model", "unit",
            "value_note", "source"]
    return tidy.conform(t[keep]), fits

# --- alcohol-specific mortality (Fingertips 91380, as published) ---------------------------------------------


def rates_of_all_areas(period: str, *, cause: str = CAUSES[0]) -> pd.Series:
    """The published age-standardised rate (persons) of every current upper-tier area for a 3-year period, by
    code: only areas whose code is published or renamed (rates are never apportioned)."""
    p = ons_drug_deaths.pooled()
    p = p[(p["cause"] == cause) & (p["sex"] == "Persons") & (p["period"] == period)]
    cur = _current(p[["code", "rate"]], ["rate"], "count")
    cur = cur[cur["geography_basis"].isin([vintage.AS_PUBLISHED, vintage.RENAMED])
              & cur["code"].isin(geography.utla_codes())]
    return cur.set_index("code")["rate"].dropna().sort_index()


def alcohol_mortality_of_all_areas(period: str) -> pd.Series:
    """Alcohol-specific mortality (persons, Fingertips 91380) of every current upper-tier area for a period, by
    code, where published on its current boundary (or a renamed code)."""
    f = fingertips.indicator(ALCOHOL_MORTALITY)
    f = f[(f["category_type"] == "") & (f["sex"] == "Persons") & (f["time_period"] == period)]
    cur = _current(f.rename(columns={"area_code": "code"})[["code", "value"]], ["value"], "count")
    cur = cur[cur["geography_basis"].isin([vintage.AS_PUBLISHED, vintage.RENAMED])
              & cur["code"].isin(geography.utla_codes())]
    return cur.set_index("code")["value"].dropna().sort_index()


def former_area_of(cdp: Partnership, codes) -> str | None:
    """The former area among ``codes`` whose successors are exactly the CDP's members (e.g. Northamptonshire
    county for North + West Northamptonshire), or None: its published value *is* the CDP's."""
    members = sorted(cdp.members)
    for old in sorted(set(codes) - set(geography.utla_codes())):
        if len(members) > 1 and sorted(vintage.successors(old)) == members:
            return old
    return None


def alcohol_mortality_table(cdp: Partnership) -> pd.DataFrame:
    """``alcohol_mortality``: alcohol-specific mortality (OHID Fingertips 91380), directly standardised rate per
    100,000 (European Standard Population 2013) with OHID's 95% limits, 3-year pooled, persons, males and
    females, as published, for the CDP, its members, region(s), England and comparators.

    Rates are never averaged or apportioned: a current area gets a rate only where its code is published or
    renamed; a multi-area CDP gets the published rate of a former area whose successors are exactly its
    members (``geography_basis`` says so) and otherwise none. Each rate is compared with England's of the same
    period and sex at 95% (statistics core, 'low is good'); Fingertips' own marker is kept in ``value_note``."""
    f = fingertips.indicator(ALCOHOL_MORTALITY)
    f = f[f["category_type"] == ""]
    src = cite(*f["source"].unique())
    values = ["value", "lower_ci", "upper_ci", "count", "denominator"]
    raw = f.rename(columns={"area_code": "code"})[["code", "sex", "time_period", *values]]
    cur = _current(raw, values, "count")  # only exact rows (published or renamed code) keep their values
    exact = cur["geography_basis"].isin([vintage.AS_PUBLISHED, vintage.RENAMED])
    cur.loc[~exact, values] = np.nan
    cur["value_note"] = np.where(exact, "", "no published rate for this area on current boundaries")
    # a rate OHID did not publish (too few deaths) keeps OHID's own note saying why
    published_note = raw.assign(note=f["value_note"].fillna("").to_numpy()).set_index(
        ["code", "sex", "time_period"])["note"]
    unpublished = exact & cur["value"].isna()
    cur.loc[unpublished, "value_note"] = [
        published_note.get(k, "") or "not published by OHID"
        for k in zip(cur.loc[unpublished, "code"], cur.loc[unpublished, "sex"], cur.loc[unpublished, "time_period"])]
    groups = comparators.reporting_areas(cdp)
    t = cur.merge(groups, on="code")
    old = former_area_of(cdp, raw["code"])
    if old is not None:
        cdp_rows = raw[raw["code"] == old].assign(**groups[groups["area_role"] == "cdp"].iloc[0].drop("code"),
                                                  geography_basis=f"as published for {old}, the former area whose "
                                                                  "successors are the CDP's members",
                                                  value_note=f.loc[raw["code"] == old, "value_note"].fillna("").to_numpy())
        t = pd.concat([t[t["area_role"] != "cdp"], cdp_rows], ignore_index=True)
    elif len(cdp.members) > 1:
        c = t[t["area_role"] == "cdp"].drop_duplicates(["sex", "time_period"])
        c = c.assign(**dict.fromkeys(values, np.nan), geography_basis="",
                     value_note="no published rate for the partnership as a whole: see its members' rates")
        t = pd.concat([t[t["area_role"] != "cdp"], c], ignore_index=True)
    eng = t[t["area_role"] == "england"].set_index(["sex", "time_period"])["value"]
    t["england_value"] = pd.MultiIndex.from_frame(t[["sex", "time_period"]]).map(eng.get)
    have = t["value"].notna() & (t["area_role"] != "england")
    t["compared_to_england"] = ""
    if have.any():
        cmp = stats.compare_to_benchmark(t[have], "value", "lower_ci", "upper_ci", "england_value",
                                         polarity="low_is_good")
        t.loc[have, "compared_to_england"] = cmp["comparison"].astype(str).to_numpy()
    t = t.assign(indicator_id="cdp.trends.alcohol-specific-mortality", measure="dsr",
                 indicator_name="Alcohol-specific mortality, directly standardised rate per 100,000",
                 unit="per 100,000 (directly standardised, ESP2013)", source=src)
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "measure", "sex", "value", "lower_ci",
            "upper_ci", "count", "denominator", "unit", "compared_to_england", "value_note", "geography_basis",
            "source"]
    return tidy.conform(t[keep])


def alcohol_mortality_rows(table: pd.DataFrame) -> list[dict]:
    """The trends-table rows of alcohol-specific mortality: not tested (overlapping 3-year periods), why."""
    rows = []
    persons = table[(table["sex"] == "Persons") & table["area_role"].isin(["cdp", "england"]) & table["value"].notna()]
    for _role, d in persons.groupby("area_role", sort=False):
        d = d.sort_values("time_period_sortable")
        periods = [p.replace(" - ", "-") for p in d["time_period"]]
        independent = periods[::-3][::-1]  # every third period from the latest: no year in two of them
        verdict = (f"not tested: the published 3-year periods overlap, so they are not independent points; the "
                   f"{len(independent)} periods that do not overlap ({', '.join(independent)}) are fewer than the "
                   f"{stats.MIN_POINTS} a trend test needs")
        rows.append(_row("alcohol-specific mortality (directly standardised rate)", d.iloc[0], "not tested",
                         "change in rate", {"verdict": verdict}, start=periods[0], end=periods[-1],
                         source=cite(*d["source"].unique())))
    return rows


# --- national context ----------------------------------------------------------------------------------------

_EW = pd.Series({"area_code": ons_drug_deaths_national.ENGLAND_AND_WALES[0],
                 "area_name": ons_drug_deaths_national.ENGLAND_AND_WALES[1], "area_type": "Country",
                 "area_role": "national", "area_members": ""})


def substance_rows(settings: Settings) -> tuple[list[dict], dict]:
    """Poisson and joinpoint trends of deaths mentioning each of :data:`SUBSTANCES` (England and Wales, persons,
    ONS reference Table 4); a death can mention several substances."""
    t = ons_drug_deaths_national.by_substance()
    t = t[(t["sex"] == "Persons") & t["substance"].isin(SUBSTANCES)]
    if settings.first_year is not None:
        t = t[t["year"] >= settings.first_year]
    rows, fits = [], {}
    for substance in SUBSTANCES:
        d = t[t["substance"] == substance].sort_values("year").assign(**_EW, value=lambda x: x["deaths"])
        name = substance.split(" (")[0].lower()
        r, f = count_trends(f"deaths mentioning {name} (England and Wales)", {"national": d}, settings)
        rows += r
        fits[substance] = f.get("national")
    return rows, fits


def survey_rows(design_factor: float) -> list[dict]:
    """The Fingertips recent-trend marker on last-year use of any drug (Crime Survey, 16–59 and 16–24), on the
    last five survey years, with each year's effective sample size n / d² (``design_factor`` d, the prevalence
    chapter's) and x = n_eff × the weighted percentage."""
    csew = ons_csew.drug_use()
    rows = []
    for table, ages in SURVEY_TABLES.items():
        d = csew[(csew["table"] == table) & (csew["drug"] == "Any drug") & csew["percent"].notna()]
        d = d.sort_values("survey_start")
        year = d["survey_start"].astype(int)  # the year each survey began (one survey a year)
        # the marker needs five consecutive years: the latest run of them (no survey in some years)
        run_end = next((i for i in range(len(year) - 1, 3, -1)
                        if (year.iloc[i - 4:i + 1].diff().iloc[1:] == 1).all()), None)
        if run_end is None:
            continue
        later = list(d["survey_year"].iloc[run_end + 1:])
        d, year = d.iloc[:run_end + 1], year.iloc[:run_end + 1]
        n_eff = d["base"] / design_factor ** 2
        label = {str(y): f"{y}/{(y + 1) % 100:02d}" if str(sy).startswith("Apr") else str(y)
                 for y, sy in zip(year, d["survey_year"])}
        rt = stats.recent_trend(d.assign(x=n_eff * d["percent"] / 100, n=n_eff, year=year), "year", count="x",
                                denominator="n", polarity="low_is_good", multiplier=100).iloc[0]
        rt["first_period"], rt["last_period"] = (label.get(str(rt[k]), rt[k]) for k in ("first_period", "last_period"))
        res = {"apc": rt["slope"], "p_value": rt["p_value"], "verdict": str(rt["trend"]).lower()}
        area = pd.Series({**_EW, "area_name": "England and Wales"})
        row = _row(f"last-year use of any drug, aged {ages} (Crime Survey, England and Wales)", area,
                   "Fingertips recent trend", "change in percentage using (percentage points a year)", res,
                   start=rt["first_period"], end=rt["last_period"], source=cite(*d["source"].unique()),
                   model=f"chi-square test for trend on the effective sample (base ÷ {design_factor:g}²)")
        row["unit"] = "percentage points a year"
        if rt["reason"]:
            row["verdict"] = f"cannot be calculated: {rt['reason']}"
        if later:
            row["model"] += (f"; the latest five consecutive survey years ({', '.join(later)} "
                             f"follow{'s' if len(later) == 1 else ''} a year without a survey)")
        rows.append(row)
    return rows



@dataclass
class Trends:
    """All tables of the trends chapter for one CDP."""

    cdp: Partnership
    settings: Settings
    deaths: pd.DataFrame
    trends: pd.DataFrame
    standardised: pd.DataFrame
    alcohol: pd.DataFrame
    fits: dict

    def tables(self) -> list[pd.DataFrame]:
        return [self.trends, self.deaths, self.standardised, self.alcohol]


def build(cdp: Partnership, settings: Settings | None = None) -> Trends:
    """Compute every table of the trends chapter."""
    settings = settings or cdp.chapter_settings(NAME)
    deaths = deaths_table(cdp, settings)
    alcohol = alcohol_mortality_table(cdp)
    trends, fits = trends_table(cdp, settings, deaths, alcohol)
    return Trends(cdp=cdp, settings=settings, deaths=deaths, trends=trends, standardised=standardised_table(cdp, deaths),
                  alcohol=alcohol, fits=fits)


# --- words ------------------------------------------------------------------------------------------------


def _pct(x: float) -> str:
    return f"{abs(x):.0f}%" if abs(x) >= 10 else f"{abs(x):.1f}%"


def trend_sentence(row: pd.Series, what: str, where: str, versus: pd.Series | None = None) -> str:
    """One plain-English sentence from a trend row (and its comparison with England)."""
    span = f"from {row['period_start']} to {row['period_end']}"
    if row["verdict"].startswith("too few"):
        return f"{what} in {where}: {row['verdict']} to test a trend {span}."
    if row["verdict"] == "no significant change":
        text = (f"{what} in {where} showed no significant change {span} (average change {row['apc']:+.1f}% a year, "
                f"{row['lower_ci']:+.1f}% to {row['upper_ci']:+.1f}%)")
    else:
        verb = "rose" if row["apc"] > 0 else "fell"
        text = (f"{what} in {where} {verb} by about {_pct(row['apc'])} a year "
                f"({_pct(row['lower_ci']) if row['apc'] > 0 else _pct(row['upper_ci'])}–"
                f"{_pct(row['upper_ci']) if row['apc'] > 0 else _pct(row['lower_ci'])}) {span}")
    if row["joinpoints"]:
        text += f", with a change of trend in {row['joinpoints'].replace('; ', ' and ')}"
    if versus is not None and not versus["verdict"].startswith("too few"):
        text += {"not significantly different": "; not significantly different from England's trend",
                 }.get(versus["verdict"], "; " + ("faster than England's (or falling more slowly)"
                                                   if versus["verdict"].startswith("faster")
                                                   else "slower than England's (or falling faster)"))
    return text + "."


def summary_text(tr: Trends) -> str:
    """Key findings as Markdown, every number read from the trends table."""
    t = tr.trends
    lines = []
    for series, what in ((f"deaths related to {CAUSES[0]}", "Registered drug-misuse deaths"),
                         (f"deaths related to {CAUSES[1]}", "Registered drug-poisoning deaths"),
                         ("adults in structured treatment (year ending March)", "Adults in structured treatment")):
        s = t[t["series"] == series]
        for role, where in (("cdp", md(tr.cdp.name)), ("england", "England")):
            jp = s[(s["area_role"] == role) & (s["method"] == "joinpoint")]
            if jp.empty:
                continue
            vs = s[(s["area_role"] == role) & (s["method"] == "compared with England")]
            lines.append("- " + trend_sentence(jp.iloc[0], what, where, vs.iloc[0] if len(vs) else None))
    sentence = standardised_sentence(tr)
    if sentence:
        lines.append(sentence)
    s = t[t["series"] == "dependent drinkers in alcohol treatment (year ending March)"]
    for role, where in (("cdp", md(tr.cdp.name)), ("england", "England")):
        jp = s[(s["area_role"] == role) & (s["method"] == "joinpoint")]
        vs = s[(s["area_role"] == role) & (s["method"] == "compared with England")]
        if len(jp):
            lines.append("- " + trend_sentence(jp.iloc[0], "Dependent drinkers in alcohol treatment", where,
                                               vs.iloc[0] if len(vs) else None))
    met = t[(t["method"] == "Fingertips recent trend") & t["series"].str.startswith("alcohol met need")]
    for r in met.itertuples():
        lines.append(f"- Alcohol met need in {md(r.area_name)}, {r.period_start} to {r.period_end} (Fingertips "
                     f"recent-trend marker): {r.verdict}.")
    lines.append(alcohol_mortality_sentence(tr))
    if not (t["area_role"] == "cdp").any() or t[(t["area_role"] == "cdp") & t["series"].str.startswith("adults")].empty:
        lines.append(f"- Numbers in treatment for {md(tr.cdp.name)} are not in the data: add the area's NDTMS ViewIt "
                     "export under 'treatment_gap: viewit' to test their trend.")
    lines.append("")
    lines.append("**National context (England and Wales)**")
    lines.append("")
    nat = t[(t["area_role"] == "national") & (t["method"] == "joinpoint")]
    for r in nat.itertuples():
        what = r.series.replace(" (England and Wales)", "").replace("deaths mentioning", "Deaths mentioning")
        lines.append("- " + trend_sentence(pd.Series(r._asdict()), what, "England and Wales"))
    survey = t[(t["area_role"] == "national") & (t["method"] == "Fingertips recent trend")]
    for r in survey.itertuples():
        lines.append(f"- {r.series[:1].upper() + r.series[1:]}, {r.period_start} to {r.period_end} (Fingertips "
                     f"recent-trend marker): {r.verdict}.")
    return "\n".join(lines)


def alcohol_mortality_sentence(tr: Trends) -> str:
    """The CDP's latest alcohol-specific mortality rate against England's, in words (or why there is none)."""
    a = tr.alcohol[(tr.alcohol["sex"] == "Persons")]
    if a.empty:
        return ""
    latest = a.loc[a["time_period_sortable"].idxmax(), "time_period"]
    cdp = a[(a["area_role"] == "cdp") & (a["time_period"] == latest)]
    latest = latest.replace(" - ", "-")
    eng = a[(a["area_role"] == "england") & (a["time_period"] == latest)]
    if cdp.empty or eng.empty or pd.isna(cdp["value"].iloc[0]):
        note = cdp["value_note"].iloc[0] if len(cdp) else "no published rate"
        return f"- Alcohol-specific mortality in {md(tr.cdp.name)}, {latest}: {note}."
    c, e = cdp.iloc[0], eng.iloc[0]
    words = {"Better": "significantly lower than", "Worse": "significantly higher than",
             "Similar": "not significantly different from"}.get(c["compared_to_england"], "not compared with")
    return (f"- Alcohol-specific mortality in {md(tr.cdp.name)}, {latest}: {c['value']:.1f} deaths per 100,000 a year "
            f"(age-standardised; {c['lower_ci']:.1f}–{c['upper_ci']:.1f}), {words} England ({e['value']:.1f}). The "
            "latest period in the data; no trend test (overlapping periods).")


def notes_text(tr: Trends) -> str:
    """Methods and caveats as Markdown."""
    lines = [
        "- Death and treatment trends are in **numbers**, not rates: ONS population estimates for most of these "
        "years are not in the data, so no population offset is used. Population growth adds a little to a rising "
        "trend in numbers.",
        "- Deaths are counted by year of **registration**, which can be months or years after the death (inquests).",
        "- The average annual percentage change (AAPC) summarises the whole series; where joinpoints were found, "
        "each segment's own annual percentage change is in the CSV table (method 'joinpoint segment').",
        "- Joinpoints are chosen by BIC among 0 to "
        f"{tr.settings.max_joinpoints} with at least {tr.settings.min_points} years in each segment; every test is at "
        "5%. No test is run on fewer than 5 years or 50 events ('too few events'); see docs/methods.md §9.",
        "- The Fingertips recent-trend marker uses the last five annual points of a proportion (chi-square test "
        "for trend at 99.8%, with the logit leave-one-out check). For the Crime Survey it uses the latest five "
        "consecutive survey years and each year's effective sample (respondents ÷ design factor²), because the "
        "published percentages are weighted.",
        "- Alcohol-specific mortality is published for 3-year periods that overlap, so consecutive values share two "
        "years of deaths and are not independent points; it is shown, and compared with England, but not tested "
        "for trend. Areas created after the latest period have no published rate unless their boundary is "
        "that of a former area.",
        "- National context: deaths mentioning a substance count a death once for each substance named on the "
        "certificate, so substances do not add up; the figures are for England and Wales together (ONS publishes "
        "substances for no smaller area). The Crime Survey covers 16 to 59 year olds in households in England and "
        "Wales.",
    ]
    if len(tr.cdp.members) > 1:
        lines.append("- ONS publishes no age-standardised rate for the partnership as a whole; its members' rates are "
                     "shown. Deaths of the partnership are the sum of its members'; its crude rate and its "
                     "indirectly standardised ratio are computed from the members' deaths and populations, never by "
                     "averaging published rates.")
    lines.append("- Indirect standardisation: expected deaths = Σ over ONS's age groups (under 20 … 70 and over) of "
                 "England's deaths ÷ England's population × the area's population, for the same three years and the "
                 "mid-period population; the ratio's limits are exact (under 10 deaths) or Byar's (statistics core).")
    notes = tr.deaths.loc[tr.deaths["area_role"].isin(["cdp", "member"]) & (tr.deaths["value_note"] != ""),
                          "value_note"].unique()
    lines += [f"- {n[0].upper() + n[1:]} (rows marked in the CSV)." for n in sorted(notes)]
    return "\n".join(lines)


# --- figures and tables -------------------------------------------------------------------------------------


def deaths_figure(tr: Trends) -> FigureOutput:
    """Registered drug-misuse deaths each year with the joinpoint fit (95% band), the CDP and England."""
    cause = CAUSES[0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    data = []
    for ax, role, colour in ((axes[0], "cdp", figures.CDP_COLOUR), (axes[1], "england", figures.ENGLAND_COLOUR)):
        d = _annual_series(tr.deaths, cause, role)
        if d.empty:
            continue
        data.append(d)
        ax.bar(d["year"], d["value"], color=colour, label="Registered deaths")
        jp = tr.fits[cause].get(role)
        if jp is not None and len(jp["fitted"]):
            f = jp["fitted"]
            ax.fill_between(f.index, f["lower_ci"], f["upper_ci"], color="#0b0c0c", alpha=0.15, linewidth=0,
                            label="95% limits of the fit")
            ax.plot(f.index, f["fitted"], color="#0b0c0c", linewidth=2,
                    linestyle=figures.ENGLAND_LINESTYLE if role == "england" else "-", label="Joinpoint fit")
            for j in jp["joinpoints"]:
                ax.axvline(j, color="#0b0c0c", linestyle=":", linewidth=1)
                ax.annotate(f"joinpoint {j}", (j, ax.get_ylim()[1] * 0.95), fontsize=8, ha="right", rotation=90,
                            va="top")
        ax.set_title(d["area_name"].iloc[0])
        ax.set_xlabel("Year of registration")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("Deaths related to drug misuse (number)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Deaths related to drug misuse registered each year: {tr.cdp.name} and England")
    fig.text(0.01, 0.005, f"Source: {ons_drug_deaths.DATASET.title}. Dotted lines: joinpoints.", fontsize=8,
             color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return FigureOutput("trends_drug_deaths", fig, data=pd.concat(data, ignore_index=True) if data else None)


def _rate_figure(d: pd.DataFrame, name: str, *, title: str, ylabel: str, source: str) -> FigureOutput:
    """Published 3-year rates with 95% limits over time: one line per area (England dashed, region without a
    band), periods in time order."""
    d = d.sort_values("time_period_sortable")
    periods = list(dict.fromkeys(d["time_period"]))
    x = {p: i for i, p in enumerate(periods)}
    fig, ax = plt.subplots(figsize=(10, 4.4))
    colours = iter(figures.QUALITATIVE)
    for (role, _code), s in d.groupby(["area_role", "area_code"], sort=False):
        colour = {"england": figures.ENGLAND_COLOUR, "region": figures.COMPARATOR_COLOUR}.get(role) or next(colours)
        style = figures.ENGLAND_LINESTYLE if role == "england" else "-"
        xs = s["time_period"].map(x)
        ax.plot(xs, s["value"], style, marker="o", markersize=3, color=colour, label=s["area_name"].iloc[0])
        if role != "region":
            ax.fill_between(xs, s["lower_ci"], s["upper_ci"], color=colour, alpha=0.15, linewidth=0)
    ax.set_xticks(range(len(periods)), periods, rotation=45, ha="right")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Years of registration (3-year pooled)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.text(0.01, 0.005, source, fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return FigureOutput(name, fig, data=d)


def asmr_figure(tr: Trends) -> FigureOutput:
    """Published 3-year age-standardised drug-misuse death rates with limits: the CDP (or its members), the
    region and England."""
    d = tr.deaths[(tr.deaths["cause"] == CAUSES[0]) & (tr.deaths["measure"] == "asmr") & (tr.deaths["sex"] == "Persons")
                  & tr.deaths["area_role"].isin(["cdp", "member", "region", "england"]) & tr.deaths["value"].notna()]
    return _rate_figure(d, "trends_drug_misuse_rate", title=f"Drug-misuse death rate, {tr.cdp.name}, region and England",
                        ylabel="Deaths per 100,000 (age-standardised, 95% limits)",
                        source=f"Source: {ons_drug_deaths.DATASET.title} (rates as published; none below 10 deaths).")


def alcohol_mortality_figure(tr: Trends) -> FigureOutput:
    """Alcohol-specific mortality (Fingertips 91380) with limits: the CDP (or its members), region and England."""
    a = tr.alcohol
    d = a[(a["sex"] == "Persons") & a["area_role"].isin(["cdp", "member", "region", "england"]) & a["value"].notna()]
    return _rate_figure(d, "trends_alcohol_specific_mortality",
                        title=f"Alcohol-specific mortality, {tr.cdp.name}, region and England",
                        ylabel="Deaths per 100,000 (standardised)",
                        source=f"Source: {fingertips.DATASET.title}, indicator {ALCOHOL_MORTALITY} (as published).")


def substances_figure(tr: Trends) -> FigureOutput:
    """Deaths mentioning selected substances registered each year, England and Wales, with each series'
    joinpoint fit."""
    t = ons_drug_deaths_national.by_substance()
    t = t[(t["sex"] == "Persons") & t["substance"].isin(SUBSTANCES)]
    if tr.settings.first_year is not None:
        t = t[t["year"] >= tr.settings.first_year]
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), sharex=True)
    for ax, substance in zip(axes.flat, SUBSTANCES):
        d = t[t["substance"] == substance].sort_values("year")
        ax.bar(d["year"], d["deaths"], color=figures.CDP_COLOUR, label="Registered deaths")
        jp = tr.fits["substances"].get(substance)
        if jp is not None and len(jp["fitted"]):
            f = jp["fitted"]
            ax.fill_between(f.index, f["lower_ci"], f["upper_ci"], color="#0b0c0c", alpha=0.15, linewidth=0,
                            label="95% limits of the fit")
            ax.plot(f.index, f["fitted"], color="#0b0c0c", linewidth=1.5, label="Joinpoint fit")
            for j in jp["joinpoints"]:
                ax.axvline(j, color="#0b0c0c", linestyle=":", linewidth=1)
        ax.set_title(substance.split(" (")[0], fontsize=10)
        ax.set_ylim(bottom=0)
    for ax in axes.flat:
        ax.set_ylabel("Deaths (number)")
        ax.set_xlabel("Year of registration")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Drug-poisoning deaths mentioning each substance, England and Wales (dotted lines: joinpoints)")
    fig.text(0.01, 0.005, f"Source: {ons_drug_deaths_national.DATASET.title}, Table 4. A death can mention several "
             "substances.", fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    data = t.assign(area_code=_EW["area_code"], area_name=_EW["area_name"], area_role="national",
                    time_period=t["year"].astype(str), measure="deaths", value=t["deaths"], unit="deaths")
    return FigureOutput("trends_deaths_by_substance", fig,
                        data=data[["area_code", "area_name", "area_role", "time_period", "measure", "substance",
                                   "value", "unit", "source"]])


def alcohol_mortality_output(tr: Trends) -> TableOutput:
    a = tr.alcohol[(tr.alcohol["sex"] == "Persons")
                   & tr.alcohol["area_role"].isin(["cdp", "member", "region", "england", "neighbour"])]
    latest = a.loc[a["time_period_sortable"].idxmax(), "time_period"] if len(a) else ""
    d = a[a["time_period"] == latest]
    order = {"cdp": 0, "member": 1, "region": 2, "england": 3, "neighbour": 4}
    d = d.assign(_r=d["area_role"].map(order)).sort_values(["_r", "area_name"])
    view = pd.DataFrame({
        "Area": d["area_name"], "Role": d["area_role"],
        "Deaths (3 years)": [f"{v:,.0f}" if pd.notna(v) else "" for v in d["count"]],
        "Rate per 100,000 (95% limits)": [with_limits(v, lo, hi, 1)
                                          for v, lo, hi in zip(d["value"], d["lower_ci"], d["upper_ci"])],
        "Compared with England": d["compared_to_england"], "Note": d["value_note"]}).set_index(["Area"])
    return TableOutput("alcohol_mortality", tr.alcohol, view=view,
                       caption=f"Alcohol-specific mortality, {latest}: directly standardised rate as OHID publishes it "
                               "and the comparison with England (95%). Every period, sex and comparator is in the CSV")


def trends_output(tr: Trends) -> TableOutput:
    t = tr.trends[tr.trends["method"] != "joinpoint segment"]
    order = {"cdp": 0, "member": 1, "region": 2, "england": 3}
    t = t.assign(_r=t["area_role"].map(order)).sort_values(["series", "_r", "method"])

    def fmt(r):
        if pd.isna(r.apc):
            return ""
        lim = "" if pd.isna(r.lower_ci) else f" ({r.lower_ci:+.1f} to {r.upper_ci:+.1f})"
        return f"{r.apc:+.1f}{lim}"

    view = pd.DataFrame({"Series": t["series"], "Area": t["area_name"], "Method": t["method"],
                         "Years": t["period_start"] + "–" + t["period_end"],
                         "Change a year (95% limits)": [fmt(r) for r in t.itertuples()],
                         "Joinpoints": t["joinpoints"], "Result": t["verdict"]}).set_index(["Series", "Area", "Method"])
    return TableOutput("trends", tr.trends, view=view,
                       caption="Trend tests: annual percentage change (numbers of deaths or adults), joinpoint average "
                               "annual percentage change, the comparison with England, and the Fingertips marker "
                               "(met need, percentage points a year). Segments are in the CSV")


def deaths_output(tr: Trends) -> TableOutput:
    d = tr.deaths[(tr.deaths["measure"] == "asmr") & (tr.deaths["sex"] == "Persons")
                  & tr.deaths["area_role"].isin(["cdp", "member", "region", "england"])]
    latest = d["time_period"].max()
    d = d[d["time_period"] == latest]
    deaths = tr.deaths[(tr.deaths["measure"] == "deaths") & (tr.deaths["time_period"] == latest)
                       & (tr.deaths["sex"] == "Persons")].set_index(["area_code", "cause"])["value"]
    order = {"cdp": 0, "member": 1, "region": 2, "england": 3}
    d = d.assign(_r=d["area_role"].map(order)).sort_values(["cause", "_r", "area_name"])
    view = pd.DataFrame({
        "Cause": d["cause"], "Area": d["area_name"],
        "Deaths": [f"{deaths.get((a, c), np.nan):,.0f}" for a, c in zip(d["area_code"], d["cause"])],
        "Rate per 100,000 (95% limits)": [with_limits(v, lo, hi, 1)
                                          for v, lo, hi in zip(d["value"], d["lower_ci"], d["upper_ci"])],
        "Note": d["value_note"]}).set_index(["Cause", "Area"])
    return TableOutput("drug_deaths", tr.deaths, view=view,
                       caption=f"Deaths related to drug misuse and drug poisoning, {latest} (registrations pooled over "
                               "three years) and the age-standardised rate as published. Every year is in the CSV")


CHAPTER = Chapter(
    name=NAME, number=4, title="Trends", notebook="04_trends",
    datasets=("ons_population", "lookups", "ons_drug_deaths", "ons_drug_deaths_national", "ndtms_viewit", "ons_sdg",
              "ohid_alcohol_dependence", "fingertips", "ons_csew", "ons_nearest_neighbours"),
    settings=Settings, build=build, summary=summary_text,
    figures={"trends_drug_deaths": deaths_figure, "trends_drug_misuse_rate": asmr_figure,
             "trends_alcohol_specific_mortality": alcohol_mortality_figure,
             "trends_deaths_by_substance": substances_figure},
    tables=("trends", "drug_deaths", "drug_deaths_standardised", "alcohol_mortality"),
    key_figures=(
        KeyFigure("Drug misuse deaths, crude rate (per 100,000 a year)", "drug_deaths_standardised",
                  {"measure": "crude rate", "cause": "drug misuse"}, digits=1, note="3-year pooled"),
        KeyFigure("Drug misuse deaths, ratio to England", "drug_deaths_standardised",
                  {"measure": "indirectly standardised ratio", "cause": "drug misuse"}, digits=2,
                  note="indirectly standardised (England = 1)"),
    ),
)


# --- standardised rates for any CDP (a multi-area CDP has no published rate) ---------------------------------

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
        isr = stats.isr_ratio(bandrows, "x", "n", "x_ref", "n_ref", group_by=_AREA, observed_totals=observed)
        totals = local.groupby(_AREA, as_index=False)["population"].sum().merge(observed, on=_AREA)
        crude = stats.crude_rate(totals.assign(n=3 * totals["population"]), "x", "n", group_by=_AREA,
                                 multiplier=100_000)
        src = cite(ann["source"].iloc[0], nat["source"].iloc[0], pop_src)
        isr = isr.assign(cause=cause, measure="indirectly standardised ratio", unit="ratio (England = 1)",
                         lower_ci=isr["lowercl"], upper_ci=isr["uppercl"], count=isr["observed"],
                         denominator=isr["expected"], method=isr["method"])
        crude = crude.assign(cause=cause, measure="crude rate", unit="per 100,000 a year", lower_ci=crude["lowercl"],
                             upper_ci=crude["uppercl"], count=crude["x"], denominator=crude["n"])
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


def standardised_output(tr: Trends) -> TableOutput:
    t = tr.standardised
    if t.empty:
        view = pd.DataFrame({"Standardised rates": ["no 3-year period has both its population and England's "
                                                    "deaths by age in the data"]})
    else:
        order = {"cdp": 0, "member": 1, "region": 2}
        t = t.assign(_r=t["area_role"].map(order)).sort_values(["cause", "_r", "area_name", "measure"])
        wide = t.pivot_table(index=["cause", "_r", "area_name"], columns="measure", values=["value", "lower_ci",
                                                                                               "upper_ci", "count"],
                             aggfunc="first")

        def fmt(m, digits):
            return [with_limits(v, lo, hi, digits) for v, lo, hi in
                    zip(wide[("value", m)], wide[("lower_ci", m)], wide[("upper_ci", m)])]

        cmp = t[t["measure"] == "indirectly standardised ratio"].set_index(["cause", "_r", "area_name"])
        view = pd.DataFrame({
            "Deaths": [f"{v:,.0f}" for v in wide[("count", "crude rate")]],
            "Crude rate per 100,000 a year (95% limits)": fmt("crude rate", 1),
            "Ratio to England, age-standardised (95% limits)": fmt("indirectly standardised ratio", 2),
            "Compared with England": cmp["compared_to_england"].reindex(wide.index).to_numpy(),
        }, index=wide.index).droplevel("_r")
        view.index.names = ["Cause", "Area"]
    period = tr.standardised["time_period"].iloc[0] if len(tr.standardised) else ""
    return TableOutput("drug_deaths_standardised", tr.standardised, view=view,
                       caption=f"Deaths {period}: crude rate, and the ratio of observed to expected deaths at "
                               "England's age-specific rates (indirect standardisation; 1 = England). Computed here "
                               "from published counts and populations, for any CDP including one of several areas")


def standardised_sentence(tr: Trends) -> str:
    """The CDP's indirectly standardised ratio for drug-misuse deaths, in words ('' if none)."""
    t = tr.standardised
    r = t[(t["area_role"] == "cdp") & (t["cause"] == CAUSES[0]) & (t["measure"] == "indirectly standardised ratio")]
    if r.empty:
        return ""
    r = r.iloc[0]
    diff = 100 * (r["value"] - 1)
    words = {"Better": "significantly below England", "Worse": "significantly above England",
             "Similar": "not significantly different from England"}[r["compared_to_england"]]
    lead = (f"ONS publishes no rate for {md(tr.cdp.name)} as a whole; combining its members' deaths and populations, "
            "there were" if len(tr.cdp.members) > 1 else "There were")
    return (f"- {lead} {r['count']:,.0f} drug-misuse deaths in {md(tr.cdp.name)} in {r['time_period']} against "
            f"{r['denominator']:,.0f} expected at England's age-specific rates: {abs(diff):.0f}% "
            f"{'fewer' if diff < 0 else 'more'} (ratio {r['value']:.2f}, {r['lower_ci']:.2f}–{r['upper_ci']:.2f}), "
            f"{words}.")
