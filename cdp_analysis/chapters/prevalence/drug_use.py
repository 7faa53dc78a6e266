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
from ...data import ons_csew
from ...data.register import cite, cite_by_group
from ...edition_cache import once_per_edition
from ...output import tidy
from .age_rates import (
    AGE_GROUPS,
    AGE_SEX_DRUGS,
    BROAD_BANDS,
    FINE_BANDS,
    SCHEMES,
    bands_in,
    population_by_band,
    raked_rates,
    two_band_rates,
)
from .settings import Settings

RECALL_PERIODS = ("last year", "last month", "frequent")
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]


# --- populations ------------------------------------------------------------------------------------------


def _region_groups() -> pd.DataFrame:
    """Every region and England as reporting areas of their own (for the rate expected in each region)."""
    reg = geography.areas()
    reg = reg[reg["level"].isin(["region", "country"])]
    return pd.DataFrame({"code": reg["code"], "area_code": reg["code"], "area_name": reg["name"],
                         "area_type": geography.area_type_of(reg["code"]), "area_role": "region", "area_members": ""})


def band_populations(groups: pd.DataFrame, years: list[int], bands: dict[str, tuple[int, int]] = FINE_BANDS
                     ) -> pd.DataFrame:
    """Population of reporting areas (``groups``: :meth:`Partnership.reporting_areas` columns) by year, sex
    ('males', 'females') and band (default the age bands of the age-sex method, :data:`.age_rates.FINE_BANDS`):
    ``area columns, year, sex, band, population, source``."""
    pop = current_population.current_areas(years)
    pop = pop[pop["code"].isin(set(groups["code"])) & (pop["sex"] != "persons")].merge(groups, on="code")
    return population_by_band(pop, bands, [*_AREA, "year", "sex", "source"])


def survey_years(settings: Settings) -> pd.DataFrame:
    """Survey years of the CSEW tables with the population each uses: ``survey_year, survey_start, survey_end,
    own_year`` (the mid-year nearest the survey's mid-point), ``population_year`` (the held mid-year used: the
    own year, else the nearest held), ``gap`` (years between them), ``population_note`` and ``usable`` (gap
    within ``max_population_gap``)."""
    t = ons_csew.drug_use()[["survey_year", "survey_start", "survey_end"]].drop_duplicates()
    own = [current_population.mid_year_of(y) for y in t["survey_year"]]
    used = [current_population.population_year(y) for y in t["survey_year"]]
    t = t.assign(own_year=own, population_year=[u[0] for u in used], population_note=[u[1] for u in used])
    t["gap"] = (t["population_year"] - t["own_year"]).abs()
    return t.assign(usable=t["gap"] <= settings.max_population_gap).sort_values("survey_start", ignore_index=True)


# --- drug use ---------------------------------------------------------------------------------------------


def _indicator(drug: str, recall: str, method: str, measure: str) -> tuple[str, str]:
    ident = "cdp.prevalence." + ".".join(geography.slugify(x) for x in (drug, recall, method, measure))
    what = {"expected users": "Expected number of residents", "percent of age group": "Percentage of residents"}[measure]
    when = ("more than once a month in the last year" if recall == "frequent" else f"in the {recall}")
    return ident, f"{what} who used {drug[0].lower() + drug[1:]} {when} ({method} modelled estimate)"


def _tidy_estimates(est: pd.DataFrame, *, source: pd.Series) -> pd.DataFrame:
    """Two rows per estimate (expected persons; % of the age group), in the tidy schema."""
    rows = []
    est = tidy.from_stats(est)
    for measure, unit, value, lo, hi in (("expected users", "persons", "expected", "lower_ci", "upper_ci"),
                                         ("percent of age group", "%", "percent", "percent_lower_ci", "percent_upper_ci")):
        part = est.assign(measure=measure, unit=unit, value=est[value], lower_ci=est[lo], upper_ci=est[hi],
                          count=est["expected"] if unit == "%" else np.nan,
                          denominator=est["population"] if unit == "%" else np.nan, source=source)
        keys = list(zip(part["drug"].tolist(), part["recall_period"].tolist(), part["method_name"].tolist()))
        named = {k: _indicator(*k, measure) for k in set(keys)}  # once per drug, recall and method
        ids = [named[k] for k in keys]
        rows.append(part.assign(indicator_id=[i[0] for i in ids], indicator_name=[i[1] for i in ids]))
    out = pd.concat(rows, ignore_index=True)
    zero = np.where(out["value"] == 0, "the survey found no users in its sample (published 0%): the upper limit "
                    "is what the sample cannot rule out", "")
    note = out["population_note"].fillna("") if "population_note" in out else pd.Series("", index=out.index)
    out["value_note"] = ["; ".join(x for x in pair if x) for pair in zip(zero, note)]
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "measure", "drug", "recall_period", "age_group",
            "survey_year", "method", "value", "lower_ci", "upper_ci", "count", "denominator", "unit", "value_note",
            "population_year", "source"]
    return out.assign(method=out["method_name"])[keep]


def _age_sex_inputs(settings: Settings, pops: pd.DataFrame, method: str = "age-sex") -> pd.DataFrame:
    """One row per area × drug × age group × survey year × stratum (sex × band) of ``method`` ('age-sex': the
    raked rates by age band; 'age-sex-two-band': Table 3.04's two bands): population, rate, base."""
    years = survey_years(settings)
    years = years[years["usable"]]
    if method == "age-sex":
        rates = raked_rates(years).drop(columns="reconciliation")
    else:
        rates = two_band_rates().merge(years[["survey_year", "population_year"]], on="survey_year")
    bands = SCHEMES[method]
    rates = pd.concat([rates[rates["band"].isin(bands_in(group, bands))].assign(age_group=group)
                       for group in AGE_GROUPS], ignore_index=True)
    p = pops.rename(columns={"year": "population_year", "source": "pop_source"})
    return p.merge(rates, on=["population_year", "sex", "band"])


def age_sex_estimates(settings: Settings, pops: pd.DataFrame, method: str = "age-sex") -> pd.DataFrame:
    """Age-sex synthetic estimates (``method`` 'age-sex' or 'age-sex-two-band'), one row per area × drug × age
    group × survey year, for the areas of ``pops`` (:func:`band_populations` with the method's bands)."""
    inputs = _age_sex_inputs(settings, pops, method)
    keys = [*_AREA, "drug", "age_group", "survey_year", "population_year"]
    est = stats.synthetic_estimate(inputs, "population", "rate", "base", group_by=keys,
                                   design_factor=settings.design_factor)
    sources = cite_by_group(inputs, keys, ["source", "pop_source"])
    est = est.merge(sources.reset_index(), on=keys)
    return est.assign(recall_period="last year", method_name=method, time_period=est["survey_year"],
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
    expected = region_expected(settings, sorted(set(plain["population_year"])))
    expected = expected[["region", "drug", "survey_year", "expected_pct"]]
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


@once_per_edition()
def region_expected(settings: Settings, years: list[int]) -> pd.DataFrame:
    """The rate of last-year use by 16–59s expected for each English region and England from its own age and
    sex structure (the age-sex estimate for its population): ``region, region_code, drug, survey_year,
    population_year, expected_pct``."""
    est = age_sex_estimates(settings, band_populations(_region_groups(), years))
    est = est[est["age_group"] == "16-59"]
    return pd.DataFrame({"region": est["area_name"], "region_code": est["area_code"], "drug": est["drug"],
                         "survey_year": est["survey_year"], "population_year": est["population_year"],
                         "expected_pct": est["percent"]})


@once_per_edition()
def region_validation(settings: Settings) -> pd.DataFrame:
    """The age-sex method checked against what the survey measures in each English region (Table 3.08).

    National sex × age rates applied to each region's population give the rate expected there; the survey's own
    regional rate has Wilson limits from its base and the design factor (n / d² respondents). A method that
    captured what drives regional differences would put most expected rates inside the observed limits.

    The same comparison is made for the national rate of 16–59s with no adjustment (``flat_pct``, Table 1.02):
    a method that explains regional differences does better than it.

    Returns
    -------
    DataFrame
        ``survey_year, drug, region, expected_pct, observed_pct, observed_lower, observed_upper, base,
        difference`` (expected − observed, percentage points), ``inside`` (expected within the limits),
        ``flat_pct`` and ``flat_inside`` (the unadjusted national rate and whether it is within the limits), in
        time order; England and Wales excluded (England's is the national margin itself).
    """
    years = survey_years(settings)
    years = years[years["usable"]]
    csew = ons_csew.drug_use()
    reg = csew[(csew["table"] == "3.08") & csew["drug"].isin(AGE_SEX_DRUGS) & csew["percent"].notna()
               & csew["base"].notna() & ~csew["region"].isin(["England", "Wales"])]
    expected = region_expected(settings, sorted(set(years["population_year"])))
    m = expected.merge(reg[["region", "drug", "survey_year", "percent", "base"]], on=["region", "drug", "survey_year"])
    m = m.merge(years[["survey_year", "survey_start"]], on="survey_year")
    flat = csew[(csew["table"] == "1.02") & csew["drug"].isin(AGE_SEX_DRUGS)][["drug", "survey_year", "percent"]]
    m = m.merge(flat.rename(columns={"percent": "flat_pct"}), on=["drug", "survey_year"])
    n = m["base"] / settings.design_factor ** 2
    lo, hi = stats.wilson_limits(m["percent"] / 100 * n, n)
    out = pd.DataFrame({"survey_year": m["survey_year"], "drug": m["drug"], "region": m["region"],
                        "expected_pct": m["expected_pct"], "observed_pct": m["percent"], "observed_lower": 100 * lo,
                        "observed_upper": 100 * hi, "base": m["base"], "difference": m["expected_pct"] - m["percent"],
                        "flat_pct": m["flat_pct"], "_start": m["survey_start"]})
    out["inside"] = out["expected_pct"].between(out["observed_lower"], out["observed_upper"])
    out["flat_inside"] = out["flat_pct"].between(out["observed_lower"], out["observed_upper"])
    order = {d: i for i, d in enumerate(AGE_SEX_DRUGS)}
    out = out.assign(_d=out["drug"].map(order)).sort_values(["_start", "_d", "region"], ignore_index=True)
    return out.drop(columns=["_start", "_d"])


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
    p16_24 = (p[p["band"].isin(bands_in("16-24", FINE_BANDS))].groupby([*_AREA, "year", "source"], as_index=False)
              ["population"].sum().assign(age_group="16-24"))
    p16_59 = p.groupby([*_AREA, "year", "source"], as_index=False)["population"].sum().assign(age_group="16-59")
    p = pd.concat([p16_24, p16_59], ignore_index=True).rename(columns={"year": "population_year", "source": "pop_source"})
    merged = p.merge(rates, on=["population_year", "age_group"]).assign(rate=lambda d: d["percent"] / 100)
    keys = [*_AREA, "drug", "recall_period", "age_group", "survey_year", "population_year"]
    est = stats.synthetic_estimate(merged, "population", "rate", "base", group_by=keys,
                                   design_factor=settings.design_factor)
    sources = cite_by_group(merged, keys, ["source", "pop_source"]).reset_index()
    est = est.merge(sources, on=keys)
    return est.assign(method_name="national-rate", time_period=est["survey_year"],
                      src=[cite(a, b) for a, b in zip(est["source"], est["pop_source"])])


def drugs_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_drugs``: every drug-use estimate for the CDP, its members, region(s) and England."""
    years = survey_years(settings)
    pops = band_populations(cdp.reporting_areas(), sorted(set(years.loc[years["usable"], "population_year"])))
    plain = age_sex_estimates(settings, pops)
    two_band = age_sex_estimates(settings, band_populations(cdp.reporting_areas(), sorted(set(pops["year"])),
                                                            BROAD_BANDS), "age-sex-two-band")
    parts = [plain, calibrated_estimates(cdp, settings, plain), two_band]
    if settings.recall_periods != ["last year"] or settings.drugs is None or set(settings.drugs) - set(AGE_SEX_DRUGS):
        parts.append(national_rate_estimates(cdp, settings, pops))
    est = pd.concat(parts, ignore_index=True).merge(years[["survey_year", "population_note"]], on="survey_year")
    est["time_period"] = est["survey_year"]
    out = _tidy_estimates(est, source=est["src"])
    return tidy.conform(out)


def method_shift(codes: list[str], settings: Settings, survey_year: str | None = None) -> pd.DataFrame:
    """How far the age-sex estimate moves between the two-band method and the seven-band (raked) one, for
    current areas ``codes``, last-year use by 16–59s, the latest usable survey year (or ``survey_year``):
    ``area_code, area_name, drug, two_band_pct, seven_band_pct, change_pct`` (relative change, %), by area and
    drug (docs/methods.md)."""
    years = survey_years(settings)
    years = years[years["usable"]]
    year = survey_year or years["survey_year"].iloc[-1]
    pop_year = int(years.set_index("survey_year").loc[year, "population_year"])
    names = geography.areas().set_index("code")["name"]
    groups = pd.DataFrame({"code": codes, "area_code": codes, "area_name": [names[c] for c in codes],
                           "area_type": "", "area_role": "member", "area_members": ""})
    est = {m: age_sex_estimates(settings, band_populations(groups, [pop_year], SCHEMES[m]), m)
           for m in ("age-sex-two-band", "age-sex")}
    keys = ["area_code", "area_name", "drug"]
    pick = {m: e[(e["age_group"] == "16-59") & (e["survey_year"] == year)].set_index(keys)["percent"]
            for m, e in est.items()}
    out = pd.DataFrame({"two_band_pct": pick["age-sex-two-band"], "seven_band_pct": pick["age-sex"]}).reset_index()
    out["change_pct"] = 100 * (out["seven_band_pct"] / out["two_band_pct"] - 1)
    order = {c: i for i, c in enumerate(codes)}
    drug_order = {d: i for i, d in enumerate(AGE_SEX_DRUGS)}
    return (out.assign(_a=out["area_code"].map(order), _d=out["drug"].map(drug_order))
            .sort_values(["_a", "_d"], ignore_index=True).drop(columns=["_a", "_d"]))
