"""Chapter 2, prevalence: synthetic estimates of drug use, alcohol dependence and opiate/crack use (OCU).

* **Drug use** (``prevalence_drugs``): national Crime Survey rates applied to the local population
  (:func:`cdp_analysis.stats.synthetic_estimate`). Method ``age-sex``: last-year use of cannabis, any Class A
  drug and any drug by sex × age band (16–24, 25–59; CSEW Table 3.04), for ages 16–59 and 16–24. Method
  ``age-sex-region``: the same, scaled by the region's observed rate ÷ the rate expected for the region from
  its own age–sex structure (Table 3.08; :func:`cdp_analysis.stats.calibrate`). Method ``national-rate``:
  for the drugs and recall periods the survey publishes only for the whole age group (last month, frequent
  use, the other drugs), the national rate for 16–59 or 16–24 applied to the local population of that group.
  Each survey year uses the nearest mid-year population held, if within ``max_population_gap`` years.
  Limits cover the sampling error of the national rates only (design factor ``design_factor``).
* **Alcohol dependence** (``prevalence_alcohol``): the OHID/Sheffield estimates of dependent adults (18+)
  with their limits, mapped onto current areas (apportioned by 18+ population where an area was split), as a
  count and a rate per 100 adults against England, the region and the comparator areas.
* **OCU** (``prevalence_ocu``): an OHID estimate where the data hold one for the area (transcribed); for
  every area, England's 2019/20 rate applied to its 15–64 population, labelled *expected at England's rate*.
  OCU prevalence is never derived from the household survey.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from pydantic import Field

from .. import stats
from ..areas import comparators, current_population, geography, vintage
from ..areas.params import ChapterSettings
from ..areas.partnerships import Partnership
from ..data import ohid_alcohol_dependence, ons_csew, ons_population, register, transcribed
from ..data.register import cite
from ..errors import InputError, did_you_mean
from ..output import figures, tidy
from ..output.escape import markdown_text as md
from ..output.index import KeyFigure
from ..output.notebook import FigureOutput, TableOutput
from .registry import Chapter

log = logging.getLogger(__name__)

NAME = "prevalence"
#: Drugs with sex × age rates (CSEW Table 3.04) and regional rates (3.08).
AGE_SEX_DRUGS = ("Cannabis", "Any Class A drug", "Any drug")
RECALL_PERIODS = ("last year", "last month", "frequent")
#: Strata of the age-sex method: the published sex × age bands, and the age groups they make up.
STRATA = {"16-59": ("16-24", "25-59"), "16-24": ("16-24",)}
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
#: Transcribed OHID OCU figures used (measure names in data/raw/transcribed/): England's latest revised-method
#: estimate, and local estimates of users aged 15-64.
OCU_ENGLAND_MEASURE = "ocu_estimate_revised"
OCU_LOCAL_MEASURES = ("ocu_estimated_users_15_64",)


class Settings(ChapterSettings):
    """Settings of the prevalence chapter (section ``prevalence:`` of a params file)."""

    design_factor: float = Field(
        default=1.2, ge=1.0, le=3.0,
        description="CSEW design factor applied to every survey rate's standard error (1 = simple random sample)")
    method: Literal["age-sex", "age-sex-region"] = Field(
        default="age-sex", description="the method of the headline drug-use estimate ('age-sex' or 'age-sex-region')")
    drugs: list[str] | None = Field(
        default=None, description="drugs for the national-rate estimates, as CSEW labels them (default every drug)")
    recall_periods: list[Literal["last year", "last month", "frequent"]] = Field(
        default=["last year", "last month", "frequent"], min_length=1, description="recall periods to estimate")
    max_population_gap: float = Field(
        default=2.0, gt=0, le=5,
        description="largest gap (years) between a survey year's mid-point and the mid-year population used")

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Every drug named must be one the survey tables give."""
        if not self.drugs:
            return
        known = sorted(set(ons_csew.drug_use().query("table in ['1.02', '1.08']")["drug"]))
        for i, d in enumerate(self.drugs):
            if d not in known:
                hint = did_you_mean(d, known) or f"choose from: {', '.join(known)}"
                place = f"{where} 'drugs'" + (f" (in section '{NAME}')" if where == "key" else "") + f", item {i + 1}"
                raise InputError(f"'{d}' is not a drug the Crime Survey tables give", file=file, where=place,
                                 hint=hint)


# --- populations ------------------------------------------------------------------------------------------


def _region_groups() -> pd.DataFrame:
    """Every region and England as reporting areas of their own (for the rate expected in each region)."""
    reg = geography.areas()
    reg = reg[reg["level"].isin(["region", "country"])]
    return pd.DataFrame({"code": reg["code"], "area_code": reg["code"], "area_name": reg["name"],
                         "area_type": geography.area_type_of(reg["code"]), "area_role": "region", "area_members": ""})


def band_populations(groups: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Population of reporting areas (``groups``: :meth:`Partnership.reporting_areas` columns) by year, sex
    ('males', 'females') and band ('16-24', '25-59', the strata of the age-sex method): ``area columns, year,
    sex, band, population, source``."""
    pop = current_population.current_areas(years)
    pop = pop[pop["code"].isin(set(groups["code"])) & (pop["sex"] != "persons")].merge(groups, on="code")
    bands = {"16-24": (16, 24), "25-59": (25, 59)}
    frames = []
    for band, (lo, hi) in bands.items():
        part = pop[(pop["age"] >= lo) & (pop["age"] <= hi)]
        frames.append(part.groupby([*_AREA, "year", "sex", "source"], as_index=False)["population"].sum()
                      .assign(band=band))
    return pd.concat(frames, ignore_index=True)


def nearest_population_year(survey_start: float, survey_end: float, years: list[int]) -> tuple[int, float]:
    """The held mid-year nearest the survey's mid-point, and the gap in years."""
    mid = (survey_start + survey_end) / 2
    gaps = {y: abs(mid - (y + 0.5)) for y in years}
    best = min(gaps, key=lambda y: (gaps[y], y))
    return best, gaps[best]


def survey_years(settings: Settings) -> pd.DataFrame:
    """Survey years of the CSEW tables with the population year each uses: ``survey_year, survey_start,
    survey_end, population_year, gap, usable``."""
    t = ons_csew.drug_use()[["survey_year", "survey_start", "survey_end"]].drop_duplicates()
    years = ons_population.available_years()
    pairs = [nearest_population_year(s, e, years) for s, e in zip(t["survey_start"], t["survey_end"])]
    t = t.assign(population_year=[p[0] for p in pairs], gap=[p[1] for p in pairs])
    return t.assign(usable=t["gap"] <= settings.max_population_gap).sort_values("survey_start", ignore_index=True)


# --- drug use ---------------------------------------------------------------------------------------------


def _indicator(drug: str, recall: str, method: str, measure: str) -> tuple[str, str]:
    ident = "cdp.prevalence." + ".".join(geography.slugify(x) for x in (drug, recall, method, measure))
    what = {"expected users": "Expected number of residents", "percent of age group": "Percentage of residents"}[measure]
    when = ("more than once a month in the last year" if recall == "frequent" else f"in the {recall}")
    return ident, f"{what} who used {drug[0].lower() + drug[1:]} {when} ({method} synthetic estimate)"


def _tidy_estimates(est: pd.DataFrame, *, source: pd.Series) -> pd.DataFrame:
    """Two rows per estimate (expected persons; % of the age group), in the tidy schema."""
    rows = []
    for measure, unit, value, lo, hi in (("expected users", "persons", "expected", "lowercl", "uppercl"),
                                         ("percent of age group", "%", "percent", "percent_lowercl", "percent_uppercl")):
        part = est.assign(measure=measure, unit=unit, value=est[value], lower_ci=est[lo], upper_ci=est[hi],
                          count=est["expected"] if unit == "%" else np.nan,
                          denominator=est["population"] if unit == "%" else np.nan, source=source)
        ids = [_indicator(d, r, m, measure) for d, r, m in zip(part["drug"], part["recall_period"], part["method_name"])]
        rows.append(part.assign(indicator_id=[i[0] for i in ids], indicator_name=[i[1] for i in ids]))
    out = pd.concat(rows, ignore_index=True)
    out["value_note"] = np.where(out["value"] == 0, "the survey found no users in its sample (published 0%): "
                                 "the upper limit is what the sample cannot rule out", "")
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "measure", "drug", "recall_period", "age_group",
            "survey_year", "method", "value", "lower_ci", "upper_ci", "count", "denominator", "unit", "value_note",
            "population_year", "source"]
    return out.assign(method=out["method_name"])[keep]


def _age_sex_inputs(settings: Settings, pops: pd.DataFrame) -> pd.DataFrame:
    """One row per area × drug × age group × survey year × stratum (sex × band): population, rate, base."""
    csew = ons_csew.drug_use()
    rates = csew[(csew["table"] == "3.04") & csew["drug"].isin(AGE_SEX_DRUGS) & (csew["sex"] != "persons")]
    years = survey_years(settings)
    years = years[years["usable"]]
    rates = rates.merge(years[["survey_year", "population_year"]], on="survey_year")
    frames = []
    for group, bands in STRATA.items():
        r = rates[rates["age_group"].isin(bands)].rename(columns={"age_group": "band"}).assign(age_group=group)
        frames.append(r)
    rates = pd.concat(frames, ignore_index=True)
    p = pops.rename(columns={"year": "population_year", "source": "pop_source"})
    merged = p.merge(rates, on=["population_year", "sex", "band"])
    return merged.assign(rate=merged["percent"] / 100)


def age_sex_estimates(settings: Settings, pops: pd.DataFrame) -> pd.DataFrame:
    """Age-sex synthetic estimates (method 'age-sex'), one row per area × drug × age group × survey year, for
    the areas of ``pops`` (:func:`band_populations`)."""
    inputs = _age_sex_inputs(settings, pops)
    inputs = inputs[inputs["rate"].notna()]
    keys = [*_AREA, "drug", "age_group", "survey_year", "population_year"]
    est = stats.synthetic_estimate(inputs, "population", "rate", "base", group_by=keys,
                                   design_factor=settings.design_factor)
    sources = inputs.groupby(keys)[["source", "pop_source"]].agg(lambda v: cite(*v))
    est = est.merge(sources.reset_index(), on=keys)
    return est.assign(recall_period="last year", method_name="age-sex", time_period=est["survey_year"],
                      src=[cite(a, b) for a, b in zip(est["source"], est["pop_source"])])


def calibrated_estimates(cdp: Partnership, settings: Settings, plain: pd.DataFrame) -> pd.DataFrame:
    """Age-sex estimates scaled by the region's observed ÷ expected rate (method 'age-sex-region'), 16–59 only.

    Each area uses its own region's factor (England's for England: England ÷ the rate expected for England).
    """
    csew = ons_csew.drug_use()
    reg = csew[(csew["table"] == "3.08")].rename(columns={"percent": "observed", "base": "observed_base"})
    regions = geography.areas().set_index("code")
    region_of = {c: (regions.loc[c, "name"] if regions.loc[c, "level"] in ("region", "country") else
                     regions.loc[c, "region_name"]) for c in geography.areas()["code"]}
    # the rate expected for each region (and England): the age-sex estimate for its own population
    region_est = age_sex_estimates(settings, band_populations(_region_groups(), sorted(set(plain["population_year"]))))
    expected = region_est[region_est["age_group"] == "16-59"][["area_name", "drug", "survey_year", "percent"]]
    expected = expected.rename(columns={"area_name": "region", "percent": "expected_pct"})
    base = plain[plain["age_group"] == "16-59"].copy()
    base["region"] = base["area_code"].map(region_of)
    base.loc[base["area_type"] == geography.CDP_AREA_TYPE, "region"] = region_of[cdp.members[0]]
    if len({region_of[m] for m in cdp.members}) > 1:
        base = base[base["area_role"] != "cdp"]  # a CDP across regions has no single factor
    merged = base.merge(reg[["region", "drug", "survey_year", "observed", "observed_base", "source"]]
                        .rename(columns={"source": "reg_source"}), on=["region", "drug", "survey_year"])
    merged = merged.merge(expected, on=["region", "drug", "survey_year"])
    merged = merged[merged["observed"].notna() & merged["observed_base"].notna()].reset_index(drop=True)
    out = stats.calibrate(merged, observed=merged["observed"] / 100, observed_base=merged["observed_base"],
                          expected_rate=merged["expected_pct"] / 100, design_factor=settings.design_factor)
    return out.assign(method_name="age-sex-region", src=[cite(a, b) for a, b in zip(out["src"], out["reg_source"])])


def national_rate_estimates(cdp: Partnership, settings: Settings, pops: pd.DataFrame) -> pd.DataFrame:
    """The national rate of the whole age group applied to its local population (method 'national-rate'), for
    the drugs and recall periods without sex × age rates."""
    csew = ons_csew.drug_use()
    tables = {("last year", "16-59"): "1.02", ("last month", "16-59"): "1.03", ("last year", "16-24"): "1.08",
              ("last month", "16-24"): "1.09", ("frequent", "16-59"): "2.01", ("frequent", "16-24"): "2.01"}
    wanted = [k for k in tables if k[0] in settings.recall_periods]
    rows = []
    for recall, group in wanted:
        t = csew[(csew["table"] == tables[(recall, group)]) & (csew["age_group"] == group)]
        if settings.drugs:
            t = t[t["drug"].isin(settings.drugs)]
        if recall == "last year":  # the age-sex method covers these three
            t = t[~t["drug"].isin(AGE_SEX_DRUGS)]
        rows.append(t.assign(recall_period=recall))
    rates = pd.concat(rows, ignore_index=True)
    years = survey_years(settings)
    rates = rates.merge(years[years["usable"]][["survey_year", "population_year"]], on="survey_year")
    rates = rates[rates["percent"].notna()]
    p = pops.groupby([*_AREA, "year", "band", "source"], as_index=False)["population"].sum()
    p16_24 = p[p["band"] == "16-24"].assign(age_group="16-24")
    p16_59 = p.groupby([*_AREA, "year", "source"], as_index=False)["population"].sum().assign(age_group="16-59")
    p = pd.concat([p16_24, p16_59], ignore_index=True).rename(columns={"year": "population_year", "source": "pop_source"})
    merged = p.merge(rates, on=["population_year", "age_group"]).assign(rate=lambda d: d["percent"] / 100)
    keys = [*_AREA, "drug", "recall_period", "age_group", "survey_year", "population_year"]
    est = stats.synthetic_estimate(merged, "population", "rate", "base", group_by=keys,
                                   design_factor=settings.design_factor)
    sources = merged.groupby(keys)[["source", "pop_source"]].agg(lambda v: cite(*v)).reset_index()
    est = est.merge(sources, on=keys)
    return est.assign(method_name="national-rate", time_period=est["survey_year"],
                      src=[cite(a, b) for a, b in zip(est["source"], est["pop_source"])])


def drugs_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_drugs``: every drug-use estimate for the CDP, its members, region(s) and England."""
    years = survey_years(settings)
    pops = band_populations(cdp.reporting_areas(), sorted(set(years.loc[years["usable"], "population_year"])))
    plain = age_sex_estimates(settings, pops)
    parts = [plain, calibrated_estimates(cdp, settings, plain)]
    if settings.recall_periods != ["last year"] or settings.drugs is None or set(settings.drugs) - set(AGE_SEX_DRUGS):
        parts.append(national_rate_estimates(cdp, settings, pops))
    est = pd.concat(parts, ignore_index=True)
    est["time_period"] = est["survey_year"]
    out = _tidy_estimates(est, source=est["src"])
    return tidy.conform(out)


# --- alcohol dependence ---------------------------------------------------------------------------------


def _adults(year: int) -> pd.Series:
    """Residents aged 18+ of every current upper-tier area, region and England in mid-``year``."""
    pop = current_population.current_areas([year])
    pop = pop[(pop["sex"] == "persons") & (pop["age"] >= 18)]
    return pop.groupby("code")["population"].sum()


def alcohol_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_alcohol``: dependent adults (18+) and the rate per 100 adults, with limits, for the CDP, its
    members, region(s), England and its comparator areas, every period published."""
    est = ohid_alcohol_dependence.estimates()
    pop_year = min(ons_population.available_years())  # the nearest held to the estimates' periods (2017/18)
    adults = _adults(pop_year)
    pop_source = current_population.current_areas([pop_year]).groupby("code")["source"].first()
    current = vintage.to_current(est[["code", "period", "dependent", "lower_ci", "upper_ci"]], values=[
        "dependent", "lower_ci", "upper_ci"], kind="count", population=adults, current_codes=geography.utla_codes())
    src = est["source"].iloc[0]
    groups = cdp.reporting_areas()
    nn = comparators.for_cdp(cdp)
    neighbours = pd.DataFrame({"code": nn["code"], "area_code": nn["code"], "area_name": nn["name"],
                               "area_type": "", "area_role": "neighbour", "area_members": ""})
    england = est[est["code"] == geography.ENGLAND_CODE].assign(geography_basis=vintage.AS_PUBLISHED)
    table = pd.concat([current, england], ignore_index=True)
    rows = []
    for g in pd.concat([groups[groups["area_role"] != "region"], neighbours]).itertuples():
        hit = table[table["code"] == g.code].assign(**{k: getattr(g, k) for k in _AREA})
        rows.append(hit)
    t = pd.concat(rows, ignore_index=True)
    # a CDP: the sum of its members; limits only where they are one published area's (apportioned or as is)
    cdp_rows = t[t["area_role"] == "cdp"]
    summed = cdp_rows.groupby([*_AREA, "period"], as_index=False, dropna=False).agg(
        dependent=("dependent", "sum"), lower_ci=("lower_ci", lambda v: v.sum(min_count=len(v))),
        upper_ci=("upper_ci", lambda v: v.sum(min_count=len(v))),
        n=("code", "size"), geography_basis=("geography_basis", lambda v: register.join_distinct(*v)))
    if not one_published_area(cdp):
        summed[["lower_ci", "upper_ci"]] = np.nan
        summed["geography_basis"] = "sum of the members' estimates (no limits: separately modelled areas)"
    elif len(cdp.members) > 1:
        summed["geography_basis"] = "as published for the former area the members replaced"
    t = pd.concat([t[t["area_role"] != "cdp"], summed.drop(columns="n")], ignore_index=True)
    # regions: the sum of their areas' estimates, without limits (separately modelled areas)
    for rc in sorted(set(groups.loc[groups["area_role"] == "region", "code"])):
        codes = geography.areas("utla").query("region_code == @rc")["code"]
        part = current[current["code"].isin(codes)].groupby("period", as_index=False)["dependent"].sum(min_count=1)
        g = groups[groups["code"] == rc].iloc[0]
        t = pd.concat([t, part.assign(**{k: g[k] for k in _AREA}, lower_ci=np.nan, upper_ci=np.nan,
                                      geography_basis="sum of the region's areas' estimates (no limits)")],
                      ignore_index=True)
    members_of = {c: list(cdp.members) if c == cdp.code else [c] for c in t["area_code"]}
    denom = t["area_code"].map(lambda c: float(sum(adults.get(m, np.nan) for m in members_of[c])))
    t["population"] = denom
    counts = t.assign(measure="dependent adults", unit="persons", value=t["dependent"])
    # rates only for the periods published with limits: the population held is at most a few years from them
    with_limits = set(est.loc[est["lower_ci"].notna(), "period"])
    t_rates = t[t["period"].isin(with_limits)]
    denom_r = denom[t_rates.index]
    rates = t_rates.assign(measure="rate per 100 adults", unit="per 100 adults 18+",
                           value=100 * t_rates["dependent"] / denom_r,
                           lower_ci=100 * t_rates["lower_ci"] / denom_r, upper_ci=100 * t_rates["upper_ci"] / denom_r,
                           count=t_rates["dependent"], denominator=denom_r)
    eng = rates[rates["area_role"] == "england"].set_index("period")["value"]
    rates = rates.assign(england=rates["period"].map(eng))
    cmp = stats.compare_to_benchmark(rates, "value", "lower_ci", "upper_ci", "england", polarity="low_is_good")
    rates["compared_to_england"] = cmp["comparison"].astype(str).where(rates["area_role"] != "england", "")
    out = pd.concat([counts, rates.drop(columns="england")], ignore_index=True)
    out = out.assign(time_period=out["period"], age_group="18+", method="OHID/Sheffield model estimate",
                     source=[cite(src, pop_source.get(c, "")) if u != "persons" else src
                             for c, u in zip(out["area_code"].where(out["area_role"] != "cdp", cdp.members[0]),
                                             out["unit"])])
    out["compared_to_england"] = out["compared_to_england"].fillna("")  # count rows: no comparison
    keep = [*_AREA, "time_period", "measure", "age_group", "method", "value", "lower_ci", "upper_ci", "count",
            "denominator", "unit", "compared_to_england", "geography_basis", "source"]
    return tidy.conform(out[keep])


def one_published_area(cdp: Partnership) -> bool:
    """True if the CDP's members are one area of the estimates' vintage, whole (so its limits are published):
    one member, or every successor of one former area (Northamptonshire)."""
    if len(cdp.members) == 1:
        return True
    parents = {p for m in cdp.members for p in vintage.predecessors(m, old_type="CTY")}
    return len(parents) == 1 and set(vintage.successors(next(iter(parents)))) == set(cdp.members)


# --- OCU ------------------------------------------------------------------------------------------------


def ocu_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_ocu``: England's OHID estimate, any OHID estimate held for the CDP's areas, and for every
    area the number expected at England's rate (per 1,000 aged 15–64)."""
    eng = transcribed.figure(OCU_ENGLAND_MEASURE, area_code=geography.ENGLAND_CODE)
    if eng.empty:
        raise InputError(f"no England OCU estimate ('{OCU_ENGLAND_MEASURE}')",
                         file=register.file_of_kind(transcribed.ENGLAND.kind), hint="restore the transcribed file")
    eng = eng.sort_values("period").iloc[-1]  # the latest ('2019/20' sorts after '2018/19')
    period = eng["period"]
    pop_year = min(ons_population.available_years(), key=lambda y: abs(y - int(period[:4]) - 0.75))
    pop = current_population.current_areas([pop_year])
    pop = pop[(pop["sex"] == "persons") & pop["age"].between(15, 64)]
    p1564 = pop.groupby("code")["population"].sum()
    pop_src = pop.groupby("code")["source"].first()
    rate = eng["value"] / p1564[geography.ENGLAND_CODE]
    groups = cdp.reporting_areas()
    areas = groups.drop_duplicates("area_code")
    rows = []
    for g in areas.itertuples():
        members = list(cdp.members) if g.area_code == cdp.code else [g.code]
        n = float(p1564[members].sum())
        src = cite(eng["source"], pop_src[members[0]])
        if g.area_role == "england":
            rows += [dict(**{k: getattr(g, k) for k in _AREA}, measure="estimated users", unit="persons",
                          value=float(eng["value"]), method="OHID estimate (revised method)", value_note=eng["caveat"] or "",
                          time_period=period, source=eng["source"]),
                     dict(**{k: getattr(g, k) for k in _AREA}, measure="rate per 1,000 aged 15-64",
                          unit="per 1,000 aged 15-64", value=1000 * rate, count=float(eng["value"]), denominator=n,
                          method="OHID estimate (revised method)", time_period=period, source=src)]
            continue
        rows += [dict(**{k: getattr(g, k) for k in _AREA}, measure="estimated users", unit="persons", value=rate * n,
                      method="expected at England's rate", time_period=period, count=np.nan,
                      denominator=n, source=src,
                      value_note=f"England's {period} rate applied to the mid-{pop_year} population "
                                 "aged 15-64; not a local estimate"),
                 dict(**{k: getattr(g, k) for k in _AREA}, measure="rate per 1,000 aged 15-64",
                      unit="per 1,000 aged 15-64", value=1000 * rate, method="expected at England's rate",
                      time_period=period, source=src, value_note="England's rate, by construction")]
    for measure in OCU_LOCAL_MEASURES:
        held = pd.concat([transcribed.figure(measure, area_code=c) for c in sorted(set(groups["code"]))])
        for r in held.itertuples():
            g = groups[groups["code"] == r.area_code].iloc[0]
            if g["area_role"] == "cdp" and len(cdp.members) > 1:
                continue
            rows.append(dict(**{k: g[k] for k in _AREA}, measure="estimated users", unit="persons", value=r.value,
                             method="OHID/LJMU estimate (original method, transcribed)", time_period=r.period,
                             source=r.source, value_note=f"{r.caveat}; transcribed from {r.source_url}"))
    out = pd.DataFrame(rows).assign(age_group="15-64")
    out["indicator_id"] = "cdp.prevalence.ocu." + out["method"].map(geography.slugify) + "." + out["measure"].map(geography.slugify)
    out["indicator_name"] = "Opiate and/or crack cocaine users aged 15-64, " + out["measure"] + " (" + out["method"] + ")"
    return tidy.conform(out)


# --- the chapter ----------------------------------------------------------------------------------------


@dataclass
class Prevalence:
    """All tables of the prevalence chapter for one CDP."""

    cdp: Partnership
    settings: Settings
    drugs: pd.DataFrame
    alcohol: pd.DataFrame
    ocu: pd.DataFrame
    years: pd.DataFrame

    def tables(self) -> list[pd.DataFrame]:
        return [self.drugs, self.alcohol, self.ocu]

    @property
    def latest_survey(self) -> str:
        usable = self.years[self.years["usable"]]
        return str(usable["survey_year"].iloc[-1])

    def estimate(self, *, drug: str, age_group: str = "16-59", method: str | None = None,
                 measure: str = "expected users", area_role: str = "cdp", survey_year: str | None = None) -> pd.Series:
        """One drug-use row (value, lower_ci, upper_ci …); errors unless exactly one matches."""
        t = self.drugs
        hit = t[(t["drug"] == drug) & (t["age_group"] == age_group) & (t["method"] == (method or self.settings.method))
                & (t["measure"] == measure) & (t["area_role"] == area_role)
                & (t["survey_year"] == (survey_year or self.latest_survey)) & (t["recall_period"] == "last year")]
        if len(hit) != 1:
            raise KeyError(f"{len(hit)} rows match {drug}, {age_group}, {method}, {measure}, {area_role}")
        return hit.iloc[0]


def build(cdp: Partnership, settings: Settings | None = None) -> Prevalence:
    """Compute every table of the prevalence chapter."""
    settings = settings or cdp.chapter_settings(NAME)
    settings.check_data(where="parameter")
    return Prevalence(cdp=cdp, settings=settings, drugs=drugs_table(cdp, settings), alcohol=alcohol_table(cdp, settings),
                      ocu=ocu_table(cdp, settings), years=survey_years(settings))


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _round(x: float) -> str:
    """A count rounded for prose: to the nearest 10 (100 above 10,000)."""
    step = 100 if x >= 10_000 else 10
    return f"{round(x / step) * step:,.0f}"


def summary_text(p: Prevalence) -> str:
    """Key findings as Markdown, every number read from the tables."""
    lines = []
    method = p.settings.method
    for drug, what in (("Any Class A drug", "a Class A drug"), ("Any drug", "any illicit drug")):
        e = p.estimate(drug=drug, method=method)
        pct = p.estimate(drug=drug, method=method, measure="percent of age group")
        lines.append(f"- We would expect about **{_round(e['value'])}** residents of {md(p.cdp.name)} aged 16–59 "
                     f"({_round(e['lower_ci'])}–{_round(e['upper_ci'])}) to have used {what} in the last year "
                     f"({pct['value']:.1f}% of 16–59s; survey {p.latest_survey}, {method} method).")
    other = "age-sex-region" if method == "age-sex" else "age-sex"
    try:
        alt = p.estimate(drug="Any Class A drug", method=other)
    except KeyError:  # a CDP across regions has no region-calibrated estimate
        alt = None
    if alt is not None:
        head = p.estimate(drug="Any Class A drug", method=method)
        ratio = (alt["value"] / head["value"]) if method == "age-sex" else (head["value"] / alt["value"])
        direction = "lower" if ratio < 1 else "higher"
        lines.append(f"- With the {other} method the Class A estimate is {_round(alt['value'])} "
                     f"({_round(alt['lower_ci'])}–{_round(alt['upper_ci'])}): the region's own survey rate is "
                     f"{direction} than its age and sex structure implies (by a factor of {ratio:.2f}); its limits "
                     "are wider because regional samples are small.")
    young = p.estimate(drug="Any Class A drug", age_group="16-24", method="age-sex")
    lines.append(f"- Among residents aged 16–24 we would expect about **{_round(young['value'])}** "
                 f"({_round(young['lower_ci'])}–{_round(young['upper_ci'])}) to have used a Class A drug in the last "
                 "year.")
    alc = p.alcohol
    latest = alc["time_period"][alc["lower_ci"].notna()].max()
    a = alc[(alc["area_role"] == "cdp") & (alc["time_period"] == latest)]
    count = a[a["measure"] == "dependent adults"]
    rate = a[a["measure"] == "rate per 100 adults"]
    if count.empty or rate.empty:  # e.g. the Isles of Scilly: OHID publishes no estimate for the area
        lines.append(f"- OHID publishes no estimate of alcohol dependence for {md(p.cdp.name)} for {latest}: the "
                     "alcohol tables show the region, England and the comparator areas only.")
    else:
        count, rate = count.iloc[0], rate.iloc[0]
        limits = (f" ({_round(count['lower_ci'])}–{_round(count['upper_ci'])})" if pd.notna(count["lower_ci"])
                  else "")
        lines.append(f"- An estimated **{_round(count['value'])}** adults{limits} were dependent on alcohol in "
                     f"{latest} ({rate['value']:.2f} per 100 adults; compared with England: "
                     f"{rate['compared_to_england'] or 'not compared'}).")
    ocu = p.ocu[(p.ocu["area_role"] == "cdp") & (p.ocu["measure"] == "estimated users")]
    held = ocu[ocu["method"].str.startswith("OHID")]
    exp = ocu[ocu["method"] == "expected at England's rate"].iloc[0]
    if len(held):
        h = held.iloc[0]
        lines.append(f"- Opiate and/or crack cocaine use: the published local estimate is **{_n(h['value'])}** users "
                     f"aged 15–64 ({h['time_period']}, original LJMU/PHE method, as reported in the source named in the "
                     f"table). At England's {exp['time_period']} rate (OHID's revised method) we would expect about "
                     f"{_round(exp['value'])}; the two use different methods and years and are not directly comparable.")
    else:
        lines.append(f"- No local estimate of opiate and/or crack cocaine use is available in the data used here for "
                     f"{md(p.cdp.name)}; at England's {exp['time_period']} rate we would expect about "
                     f"**{_round(exp['value'])}** users aged 15–64 (not a local estimate).")
    return "\n".join(lines)


def england_check(p: Prevalence) -> pd.DataFrame:
    """The method applied to England's own population against the national headline (England and Wales):
    ``drug, age_group, synthetic, headline, difference`` (percentage points), latest survey year."""
    t = p.drugs
    eng = t[(t["area_role"] == "england") & (t["method"] == "age-sex") & (t["measure"] == "percent of age group")
            & (t["survey_year"] == p.latest_survey)]
    csew = ons_csew.drug_use()
    head = csew[csew["table"].isin(["1.02", "1.08"]) & (csew["survey_year"] == p.latest_survey)]
    m = eng.merge(head[["drug", "age_group", "percent"]], on=["drug", "age_group"])
    return pd.DataFrame({"drug": m["drug"], "age_group": m["age_group"], "synthetic": m["value"],
                         "headline": m["percent"], "difference": m["value"] - m["percent"]})


def notes_text(p: Prevalence) -> str:
    """Caveats as Markdown, read from the tables, the settings and the register."""
    yrs = p.years
    used = yrs[yrs["usable"]]
    skipped = yrs[~yrs["usable"]]
    check = england_check(p)
    worst = check.loc[check["difference"].abs().idxmax()]
    lines = [
        "- Synthetic estimates apply national (England and Wales) survey rates to the local population: they show "
        "what the area's age and sex structure implies, **not measured local prevalence**. Their limits cover the "
        f"sampling error of the national rates only (design factor {p.settings.design_factor:g}), not the error of "
        "assuming local rates equal national ones.",
        "- Survey years used, with the mid-year population each is paired with: "
        + "; ".join(f"{r.survey_year} (mid-{r.population_year})" for r in used.itertuples())
        + f". Earlier survey years ({len(skipped)}) are more than {p.settings.max_population_gap:g} years from any "
        "population held and are not estimated locally.",
        f"- Check of the method: applied to England's own population it gives {worst['synthetic']:.2f}% for "
        f"{worst['drug'].lower()} ({worst['age_group']}), against the survey's {worst['headline']:.2f}% for England and "
        f"Wales (difference {worst['difference']:+.2f} percentage points, the largest of the "
        f"{len(check)} checked).",
        "- The 'age-sex-region' variant scales the estimate by the region's observed rate ÷ the rate expected for "
        "the region from its own age and sex structure (Crime Survey Table 3.08); regional samples are small, so "
        "its limits are wider. The headline method is "
        f"'{p.settings.method}' (see docs/methods.md).",
    ]
    lines.append(headlines_text(p))
    alc_basis = sorted(set(p.alcohol.loc[p.alcohol["area_role"].isin(["cdp", "member"]), "geography_basis"]))
    lines.append("- Alcohol dependence: modelled estimates of adults (18+) (OHID/University of Sheffield); rates "
                 f"divide by the mid-{min(ons_population.available_years())} population aged 18+, the earliest held "
                 f"(the estimates with limits describe {', '.join(sorted(set(p.alcohol.loc[p.alcohol['lower_ci'].notna(), 'time_period'])))}). "
                 "How the figures for this CDP's areas were built: "
                 + "; ".join(alc_basis) + ".")
    lines.append("- Drinking above 14 units a week: **not yet available**. It needs the Health Survey for England "
                 "age × sex rates (NHS England, Health Survey for England, adult health-related behaviours tables: "
                 "'usual weekly alcohol consumption' by age and sex), which are not in `data/raw`; add them as a "
                 "registered file to estimate it.")
    lines.append("- Opiate and/or crack cocaine use is never derived from the household survey (which misses most "
                 "of it). The England figure is OHID's revised estimate; an 'expected at England's rate' figure is "
                 "not a local estimate. The published England estimate's interval is not held, so these figures "
                 "carry no limits.")
    used_files = {e.path: e for t in p.tables() for s in t["source"].unique() for e in register.resolve_source(s)}
    lines += [f"- {e.note}" for _, e in sorted(used_files.items()) if e.note and e.kind != "mye2_workbook"
              and e.kind != "mye2_persons_csv"]
    return "\n".join(lines)


def headlines_text(p: Prevalence) -> str:
    """Later national headline rates (transcribed) beside the survey year the local estimates use."""
    h = ons_csew.headlines()
    h = h[(h["measure"] == "last_year") & (h["age_group"] == "16-59")]
    parts = []
    for year, rows in h.groupby("survey_year", sort=True):
        flagged = rows["source_type"].str.contains("secondary", case=False).any()
        figures_ = ", ".join(f"{r.drug[0].lower() + r.drug[1:]} {r.percent:g}%" for r in rows.itertuples())
        parts.append(f"{year}: {figures_} ({'secondary source, to be verified' if flagged else rows['source_type'].iloc[0]}; "
                     f"{rows['source_url'].iloc[0]})")
    return ("- Later national headlines for 16–59s, last-year use (transcribed; no sex × age rates or bases are "
            f"held for these years, so the local estimates use {p.latest_survey}): " + "; ".join(parts) + ".")


# --- figures and displayed tables ---------------------------------------------------------------------


def drugs_figure(p: Prevalence) -> FigureOutput:
    """% of 16–59s using each drug in the last year: the CDP's estimates (both methods) with limits, England's."""
    t = p.drugs[(p.drugs["measure"] == "percent of age group") & (p.drugs["age_group"] == "16-59")
                & (p.drugs["survey_year"] == p.latest_survey) & p.drugs["drug"].isin(AGE_SEX_DRUGS)
                & p.drugs["method"].isin(["age-sex", "age-sex-region"])]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    drugs = list(AGE_SEX_DRUGS)
    y = np.arange(len(drugs))
    for offset, (role, method, colour, marker, label) in zip(
            (-0.22, 0.0, 0.22),
            (("cdp", "age-sex", figures.CDP_COLOUR, "o", f"{p.cdp.name}, age-sex"),
             ("cdp", "age-sex-region", figures.OKABE_ITO["vermillion"], "s", f"{p.cdp.name}, age-sex-region"),
             ("england", "age-sex", figures.ENGLAND_COLOUR, "D", "England, age-sex"))):
        d = t[(t["area_role"] == role) & (t["method"] == method)].set_index("drug").reindex(drugs)
        ax.errorbar(d["value"], y + offset, xerr=[d["value"] - d["lower_ci"], d["upper_ci"] - d["value"]],
                    fmt=marker, color=colour, ecolor=colour, capsize=3, label=label,
                    linestyle="none", markerfacecolor="white" if role == "england" else colour)
    ax.set_yticks(y, drugs)
    ax.invert_yaxis()
    ax.set_xlabel("Residents aged 16–59 who used the drug in the last year (%, 95% limits)")
    ax.set_xlim(left=0)
    ax.set_title(f"Synthetic estimates of drug use, {p.cdp.name}, survey {p.latest_survey}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    fig.text(0.01, 0.005, f"Source: {ons_csew.DATASET.title}; {ons_population.DATASET.title}.", fontsize=8,
             color="#505a5f")
    fig.tight_layout()
    return FigureOutput("prevalence_drugs", fig, data=t)


def alcohol_figure(p: Prevalence) -> FigureOutput:
    """Alcohol dependence per 100 adults with limits: the CDP, its members and comparators; England as a line."""
    a = p.alcohol
    latest = a["time_period"][a["lower_ci"].notna()].max()
    t = a[(a["measure"] == "rate per 100 adults") & (a["time_period"] == latest) & (a["area_role"] != "region")]
    t = t[t["value"].notna()]
    eng = t[t["area_role"] == "england"]["value"].iloc[0]
    apportioned = (t["area_role"] == "member") & t["geography_basis"].str.startswith("apportioned")
    shown = t[(t["area_role"] != "england") & ~apportioned].sort_values("value")
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(shown) + 1.6))
    colours = [figures.CDP_COLOUR if r in ("cdp", "member") else figures.COMPARATOR_COLOUR for r in shown["area_role"]]
    y = np.arange(len(shown))
    ax.barh(y, shown["value"], color=colours)
    has = shown["lower_ci"].notna().to_numpy()
    ax.errorbar(shown["value"][has], y[has], xerr=[(shown["value"] - shown["lower_ci"])[has],
                                                  (shown["upper_ci"] - shown["value"])[has]],
                fmt="none", ecolor="#0b0c0c", capsize=2, linewidth=1)
    ax.axvline(eng, color=figures.ENGLAND_COLOUR, linestyle=figures.ENGLAND_LINESTYLE, label=f"England {eng:.2f}")
    ax.set_yticks(y, shown["area_name"])
    ax.set_xlabel("Adults dependent on alcohol per 100 adults aged 18+ (95% limits)")
    ax.set_title(f"Alcohol dependence, {latest}: {p.cdp.name} and its comparator areas")
    ax.legend(loc="lower right", fontsize=8)
    note = (" Members apportioned from a former county by adult population have its rate and are not shown."
            if apportioned.any() else "")
    fig.text(0.01, 0.005, f"Source: {ohid_alcohol_dependence.DATASET.title}; {ons_population.DATASET.title}.{note}",
             fontsize=8, color="#505a5f", wrap=True)
    fig.tight_layout(rect=(0, 0.05 if note else 0.02, 1, 1))
    return FigureOutput("prevalence_alcohol", fig, data=t)


def age_sex_strata(p: Prevalence) -> pd.DataFrame:
    """The CDP's age-sex estimate split into its strata (sex × age band), latest survey year, last-year use:
    expected users with limits per stratum (tidy rows with ``sex``, ``age_band``, ``drug``)."""
    year = p.years.set_index("survey_year").loc[p.latest_survey, "population_year"]
    groups = p.cdp.reporting_areas()
    pops = band_populations(groups[groups["area_role"] == "cdp"], [int(year)])
    inputs = _age_sex_inputs(p.settings, pops)
    inputs = inputs[(inputs["survey_year"] == p.latest_survey) & (inputs["age_group"] == "16-59") & inputs["rate"].notna()]
    keys = ["area_code", "area_name", "area_role", "drug", "sex", "band"]
    est = stats.synthetic_estimate(inputs, "population", "rate", "base", group_by=keys,
                                   design_factor=p.settings.design_factor)
    src = inputs.groupby(keys)[["source", "pop_source"]].agg(lambda v: cite(*v)).reset_index()
    est = est.merge(src, on=keys)
    return pd.DataFrame({"area_code": est["area_code"], "area_name": est["area_name"], "area_role": est["area_role"],
                         "time_period": p.latest_survey, "measure": "expected users", "drug": est["drug"],
                         "sex": est["sex"].map({"males": "Male", "females": "Female"}), "age_band": est["band"],
                         "value": est["expected"], "lower_ci": est["lowercl"], "upper_ci": est["uppercl"],
                         "unit": "persons", "source": [cite(a, b) for a, b in zip(est["source"], est["pop_source"])]})


def age_sex_figure(p: Prevalence) -> FigureOutput:
    """Expected users by sex and age band (the strata of the age-sex method), the CDP, latest survey year."""
    t = age_sex_strata(p)
    fig, axes = plt.subplots(1, len(AGE_SEX_DRUGS), figsize=(10, 4.2), sharey=False)
    bands = list(STRATA["16-59"])
    x = np.arange(len(bands))
    for ax, drug in zip(axes, AGE_SEX_DRUGS):
        d = t[t["drug"] == drug]
        for offset, sex, colour, label in ((-0.2, "Male", figures.MALE_COLOUR, "Men"),
                                           (0.2, "Female", figures.FEMALE_COLOUR, "Women")):
            s = d[d["sex"] == sex].set_index("age_band").reindex(bands)
            ax.bar(x + offset, s["value"], width=0.38, color=colour, label=label)
            ax.errorbar(x + offset, s["value"], yerr=[s["value"] - s["lower_ci"], s["upper_ci"] - s["value"]],
                        fmt="none", ecolor="#0b0c0c", capsize=2, linewidth=1)
        ax.set_xticks(x, bands)
        ax.set_xlabel("Age band (years)")
        ax.set_title(drug, fontsize=10)
    for ax in axes:
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[0].set_ylabel("Expected users, last year (persons)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Synthetic estimates by sex and age, {p.cdp.name}, survey {p.latest_survey}")
    fig.text(0.01, 0.005, f"Source: {ons_csew.DATASET.title} (Table 3.04); {ons_population.DATASET.title}.",
             fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return FigureOutput("prevalence_by_age_sex", fig, data=t)


def series_figure(p: Prevalence) -> FigureOutput:
    """The national series of last-year use by 16–59s (England and Wales), every survey year, in time order."""
    csew = ons_csew.drug_use()
    s = csew[(csew["table"] == "1.02") & csew["drug"].isin(AGE_SEX_DRUGS)].sort_values("survey_start")
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for drug, colour, style in zip(AGE_SEX_DRUGS, figures.QUALITATIVE, ("-", "--", ":")):
        d = s[s["drug"] == drug]
        mid = ((d["survey_start"] + d["survey_end"]) / 2).to_numpy()
        pct = d["percent"].to_numpy(dtype=float)
        gap = np.flatnonzero(np.diff(mid) > 1.5)  # no survey year in between (e.g. no interviews in 2020/21)
        mid, pct = np.insert(mid, gap + 1, np.nan), np.insert(pct, gap + 1, np.nan)
        ax.plot(mid, pct, style, color=colour, marker="o", markersize=3, label=drug)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Survey year (mid-point)")
    ax.set_ylabel("Adults aged 16–59 who used it in the last year (%)")
    first = s["survey_year"].iloc[0].split(" to ")[0]
    ax.set_title(f"Drug use in England and Wales, Crime Survey, {first} onwards (gaps: no survey that year)")
    ax.legend(fontsize=8)
    fig.text(0.01, 0.005, f"Source: {ons_csew.DATASET.title} (Table 1.02).", fontsize=8, color="#505a5f")
    fig.tight_layout()
    data = s.assign(area_code=geography.ENGLAND_CODE, area_name="England and Wales", area_role="england",
                    time_period=s["survey_year"], measure="percent of age group", value=s["percent"], unit="%")
    return FigureOutput("prevalence_series", fig, data=data[["area_code", "area_name", "area_role", "time_period",
                                                             "measure", "drug", "value", "unit", "source"]])


def _with_limits(t: pd.DataFrame, digits: int) -> list[str]:
    return [("" if pd.isna(v) else f"{v:,.{digits}f}" + ("" if pd.isna(lo) else f" ({lo:,.{digits}f}–{hi:,.{digits}f})"))
            for v, lo, hi in zip(t["value"], t["lower_ci"], t["upper_ci"])]


def drugs_output(p: Prevalence) -> TableOutput:
    t = p.drugs[(p.drugs["survey_year"] == p.latest_survey) & (p.drugs["recall_period"] == "last year")
                & p.drugs["drug"].isin(AGE_SEX_DRUGS) & (p.drugs["measure"] == "expected users")
                & p.drugs["area_role"].isin(["cdp", "member", "england"])]
    order = {d: i for i, d in enumerate(AGE_SEX_DRUGS)}
    t = t.assign(_o=t["drug"].map(order), _r=t["area_role"].map(tidy.ROLE_ORDER)).sort_values(
        ["_r", "area_code", "_o", "age_group"], key=lambda c: tidy.natural_key(c) if c.name == "age_group" else c)
    view = t.assign(estimate=_with_limits(t, 0)).pivot_table(
        index=["area_name", "drug", "age_group"], columns="method", values="estimate", aggfunc="first", sort=False)
    view = view.reindex(columns=["age-sex", "age-sex-region"]).fillna("")
    view.columns = ["Age-sex estimate (95% limits)", "Age-sex-region estimate (95% limits)"]
    view.index.names = ["Area", "Drug", "Age group (years)"]
    return TableOutput("prevalence_drugs", p.drugs, view=view,
                       caption=f"Expected residents who used each drug in the last year, survey {p.latest_survey}. "
                               "The region-calibrated variant exists for ages 16-59 only (Crime Survey Table 3.08). "
                               "Every drug, recall period and survey year is in the CSV table")


def alcohol_output(p: Prevalence) -> TableOutput:
    a = p.alcohol
    latest = a["time_period"][a["lower_ci"].notna()].max()
    t = a[(a["time_period"] == latest) & a["value"].notna()]
    counts = t[t["measure"] == "dependent adults"].set_index("area_code")
    rates = t[t["measure"] == "rate per 100 adults"].set_index("area_code")
    order = t.drop_duplicates("area_code").assign(_r=lambda d: d["area_role"].map(tidy.ROLE_ORDER)).sort_values(
        ["_r", "area_name"])
    view = pd.DataFrame({
        "Area": order["area_name"].to_numpy(),
        "Dependent adults (95% limits)": _with_limits(counts.reindex(order["area_code"]), 0),
        "Per 100 adults aged 18+ (95% limits)": _with_limits(rates.reindex(order["area_code"]), 2),
        "Compared with England": rates.reindex(order["area_code"])["compared_to_england"].fillna("").to_numpy(),
    }).set_index("Area")
    return TableOutput("prevalence_alcohol", a, view=view,
                       caption=f"Adults dependent on alcohol, {latest}: modelled number and rate per 100 adults aged "
                               "18+, compared with England (Better/Worse: the limits lie wholly below/above England's "
                               "rate)")


def ocu_output(p: Prevalence) -> TableOutput:
    t = p.ocu[p.ocu["measure"] == "estimated users"]
    view = t.set_index(["area_name", "method", "time_period"])[["value"]].rename(columns={"value": "Estimated users"})
    return TableOutput("prevalence_ocu", p.ocu, view=view.round(0),
                       caption="Opiate and/or crack cocaine users aged 15–64: OHID estimates held and the number "
                               "expected at England's rate")


CHAPTER = Chapter(
    name=NAME, number=2, title="Prevalence", notebook="02_prevalence",
    datasets=("ons_population", "lookups", "ons_csew", "ohid_alcohol_dependence", "transcribed",
              "ons_nearest_neighbours"),
    settings=Settings, build=build, summary=summary_text,
    figures={"prevalence_drugs": drugs_figure, "prevalence_by_age_sex": age_sex_figure,
             "prevalence_alcohol": alcohol_figure, "prevalence_series": series_figure},
    tables=("prevalence_drugs", "prevalence_alcohol", "prevalence_ocu"),
    key_figures=(
        KeyFigure("Any drug use in the last year, 16-59 (%)", "prevalence_drugs",
                  {"measure": "percent of age group", "drug": "Any drug", "recall_period": "last year",
                   "age_group": "16-59", "method": "age-sex"}, note="synthetic estimate from the Crime Survey"),
        KeyFigure("Dependent drinkers (per 100 adults)", "prevalence_alcohol",
                  {"measure": "rate per 100 adults"}, digits=2, note="OHID/Sheffield model estimate"),
    ),
)
