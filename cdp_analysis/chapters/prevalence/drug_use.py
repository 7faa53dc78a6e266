"""Synthetic estimates of drug use (table ``prevalence_drugs``): the populations and survey years they use,
and the three methods ('age-sex', 'age-sex-region', 'national-rate').

Data → tables only: the Crime Survey rates and the local populations in, tidy rows with limits out. No
figures, sentences or captions here (those are in :mod:`.present`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import stats
from ...areas import current_population, geography
from ...areas.partnerships import Partnership
from ...data import ons_csew, ons_population
from ...data.register import cite
from ...output import tidy
from .settings import Settings

#: Drugs with sex × age rates (CSEW Table 3.04) and regional rates (3.08).
AGE_SEX_DRUGS = ("Cannabis", "Any Class A drug", "Any drug")
RECALL_PERIODS = ("last year", "last month", "frequent")
#: Strata of the age-sex method: the published sex × age bands, and the age groups they make up.
STRATA = {"16-59": ("16-24", "25-59"), "16-24": ("16-24",)}
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]


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
    est = tidy.from_stats(est)
    for measure, unit, value, lo, hi in (("expected users", "persons", "expected", "lower_ci", "upper_ci"),
                                         ("percent of age group", "%", "percent", "percent_lower_ci", "percent_upper_ci")):
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
