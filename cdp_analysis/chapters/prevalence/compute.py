"""Data → tables for the prevalence chapter: alcohol dependence, opiate/crack use (OCU), the chapter's result
(:class:`Prevalence`) and :func:`build`, and the tables derived from it (:func:`england_check`,
:func:`age_sex_strata`).

The drug-use estimates are in :mod:`.drug_use`. No figures, sentences, captions or HTML here: everything
shown is built from these tables in :mod:`.present`. Other chapters call :func:`ocu_table`;
``one_published_area`` is re-exported from :mod:`cdp_analysis.areas.aggregate` (the one aggregation rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ... import stats
from ...areas import aggregate, comparators, current_population, geography, vintage
from ...areas.aggregate import one_published_area  # noqa: F401  (re-exported: prevalence.one_published_area)
from ...areas.partnerships import Partnership
from ...data import ohid_alcohol_dependence, ons_csew, ons_population, register, transcribed
from ...data.register import cite
from ...errors import InputError
from ...output import tidy
from .drug_use import _AREA, AGE_SEX_DRUGS, _age_sex_inputs, band_populations, drugs_table, survey_years
from .settings import NAME, Settings

#: Transcribed OHID OCU figures used (measure names in data/raw/transcribed/): England's latest revised-method
#: estimate, and local estimates of users aged 15-64.
OCU_ENGLAND_MEASURE = "ocu_estimate_revised"
OCU_LOCAL_MEASURES = ("ocu_estimated_users_15_64",)


# --- alcohol dependence ---------------------------------------------------------------------------------


def alcohol_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_alcohol``: dependent adults (18+) and the rate per 100 adults, with limits, for the CDP, its
    members, region(s), England and its comparator areas, every period published."""
    est = ohid_alcohol_dependence.estimates()
    pop_year = min(ons_population.available_years())  # the nearest held to the estimates' periods (2017/18)
    adults = current_population.adults(pop_year)
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
    # the CDP and its region(s): the one aggregation rule. The Isles of Scilly have no estimate of their own
    # (OHID publishes them with Cornwall), so the members and areas held are summed (every_member/every_area
    # False); a region from the estimates of all its current areas, not only the reporting areas
    cdp_rows = aggregate.sum_members(
        t[t["area_role"] == "cdp"], cdp, keys=[*_AREA, "period"], values=["dependent"],
        limits=["lower_ci", "upper_ci"], every_member=False,
        basis="sum of the members' estimates (no limits: separately modelled areas)")
    regions = aggregate.sum_regions(current, groups, keys=["period"], values=["dependent"],
                                    limits=["lower_ci", "upper_ci"], every_area=False,
                                    basis="sum of the region's areas' estimates (no limits)")
    t = pd.concat([t[t["area_role"] != "cdp"], cdp_rows, regions], ignore_index=True)
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
    #: the national series of last-year use by 16-59s (CSEW Table 1.02, :data:`AGE_SEX_DRUGS`), in time order
    series: pd.DataFrame = field(repr=False)
    #: the later national headline rates of last-year use by 16-59s (transcribed)
    headlines: pd.DataFrame = field(repr=False)
    #: the mid-year population the alcohol-dependence rates divide by (the earliest held)
    alcohol_population_year: int
    #: set by :func:`build`: :func:`england_check` and :func:`age_sex_strata` of this result
    check: pd.DataFrame = field(init=False, repr=False)
    strata: pd.DataFrame = field(init=False, repr=False)

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
    p = Prevalence(cdp=cdp, settings=settings, drugs=drugs_table(cdp, settings), alcohol=alcohol_table(cdp, settings),
                   ocu=ocu_table(cdp, settings), years=survey_years(settings), series=national_series(),
                   headlines=later_headlines(), alcohol_population_year=min(ons_population.available_years()))
    p.check, p.strata = england_check(p), age_sex_strata(p)
    return p


def national_series() -> pd.DataFrame:
    """Last-year use of :data:`AGE_SEX_DRUGS` by 16-59s, England and Wales, every survey year (CSEW Table 1.02),
    in time order."""
    csew = ons_csew.drug_use()
    return csew[(csew["table"] == "1.02") & csew["drug"].isin(AGE_SEX_DRUGS)].sort_values("survey_start")


def later_headlines() -> pd.DataFrame:
    """The transcribed national headlines of last-year use by 16-59s for the survey years after the tables."""
    h = ons_csew.headlines()
    return h[(h["measure"] == "last_year") & (h["age_group"] == "16-59")]


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


def age_sex_strata(p: Prevalence) -> pd.DataFrame:
    """The CDP's age-sex estimate split into its strata (sex × age band), latest survey year, last-year use:
    expected users with limits per stratum (tidy rows with ``sex``, ``age_band``, ``drug``)."""
    year = p.years.set_index("survey_year").loc[p.latest_survey, "population_year"]
    groups = p.cdp.reporting_areas()
    pops = band_populations(groups[groups["area_role"] == "cdp"], [int(year)])
    inputs = _age_sex_inputs(p.settings, pops)
    inputs = inputs[(inputs["survey_year"] == p.latest_survey) & (inputs["age_group"] == "16-59") & inputs["rate"].notna()]
    keys = ["area_code", "area_name", "area_role", "drug", "sex", "band"]
    est = tidy.from_stats(stats.synthetic_estimate(inputs, "population", "rate", "base", group_by=keys,
                                                   design_factor=p.settings.design_factor))
    src = inputs.groupby(keys)[["source", "pop_source"]].agg(lambda v: cite(*v)).reset_index()
    est = est.merge(src, on=keys)
    return pd.DataFrame({"area_code": est["area_code"], "area_name": est["area_name"], "area_role": est["area_role"],
                         "time_period": p.latest_survey, "measure": "expected users", "drug": est["drug"],
                         "sex": est["sex"].map({"males": "Male", "females": "Female"}), "age_band": est["band"],
                         "value": est["expected"], "lower_ci": est["lower_ci"], "upper_ci": est["upper_ci"],
                         "unit": "persons", "source": [cite(a, b) for a, b in zip(est["source"], est["pop_source"])]})
