"""Data → tables for the prevalence chapter: alcohol dependence, opiate/crack use (OCU), the chapter's result
(:class:`Prevalence`) and :func:`build`, and the tables derived from it (:func:`age_sex_strata`,
the region validation).

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
from ...data import ohid_alcohol_dependence, ons_csew, register, transcribed
from ...data.register import cite
from ...edition_cache import once_per_edition
from ...errors import InputError
from ...output import tidy
from .drug_use import (
    _AREA,
    AGE_SEX_DRUGS,
    _age_sex_inputs,
    band_populations,
    drugs_table,
    region_validation,
    survey_years,
)
from .settings import NAME, Settings

#: Transcribed OHID OCU figures used (measure names in data/raw/transcribed/): England's latest revised-method
#: estimate, and local estimates of users aged 15-64.
OCU_ENGLAND_MEASURE = "ocu_estimate_revised"
OCU_LOCAL_MEASURES = ("ocu_estimated_users_15_64",)


def _joined(*notes: str) -> str:
    """Notes joined with '; ', blanks left out."""
    return "; ".join(n for n in notes if n)


# --- alcohol dependence ---------------------------------------------------------------------------------


@once_per_edition()
def _alcohol_on_current_areas() -> pd.DataFrame:
    """OHID's estimates of alcohol dependence on current areas, each period apportioned (where an area was split) by the adult population
    of its own mid-year: ``code, period, dependent, lower_ci, upper_ci, geography_basis, population_year,
    population_note``."""
    est = ohid_alcohol_dependence.estimates()
    frames = []
    for period, part in est.groupby("period", sort=True):
        year, note = current_population.population_year(period)
        mapped = vintage.to_current(part[["code", "period", "dependent", "lower_ci", "upper_ci"]],
                                    values=["dependent", "lower_ci", "upper_ci"], kind="count",
                                    population=current_population.adults(year), current_codes=geography.utla_codes())
        frames.append(mapped.assign(population_year=year, population_note=note))
    return pd.concat(frames, ignore_index=True)


def alcohol_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_alcohol``: dependent adults (18+) and the rate per 100 adults, with limits, for the CDP, its
    members, region(s), England and its comparator areas, every period published.

    Each period's rate divides by the adults (18+) of the mid-year inside it (2017/18 → mid-2017; the nearest
    held mid-year where it is not held, said in ``value_note``); ``population_year`` names the year used."""
    est = ohid_alcohol_dependence.estimates()
    current = _alcohol_on_current_areas()
    years = dict(zip(current["period"], current["population_year"]))
    notes = dict(zip(current["period"], current["population_note"]))
    src = est["source"].iloc[0]
    groups = cdp.reporting_areas()
    nn = comparators.for_cdp(cdp)
    neighbours = pd.DataFrame({"code": nn["code"], "area_code": nn["code"], "area_name": nn["name"],
                               "area_type": "", "area_role": "neighbour", "area_members": ""})
    england = est[est["code"] == geography.ENGLAND_CODE].assign(geography_basis=vintage.AS_PUBLISHED)
    table = pd.concat([current.drop(columns=["population_year", "population_note"]), england], ignore_index=True)
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
    regions = aggregate.sum_regions(current.drop(columns=["population_year", "population_note"]), groups,
                                    keys=["period"], values=["dependent"], limits=["lower_ci", "upper_ci"],
                                    every_area=False, basis="sum of the region's areas' estimates (no limits)")
    t = pd.concat([t[t["area_role"] != "cdp"], cdp_rows, regions], ignore_index=True)
    t["population_year"] = t["period"].map(years).fillna(t["period"].map(
        lambda q: current_population.population_year(q)[0])).astype(int)
    members_of = {c: list(cdp.members) if c == cdp.code else [c] for c in t["area_code"]}
    adults = {y: current_population.adults(int(y)) for y in sorted(set(t["population_year"]))}
    denom = pd.Series([float(sum(adults[y].get(m, np.nan) for m in members_of[c]))
                       for c, y in zip(t["area_code"], t["population_year"])], index=t.index)
    counts = t.assign(measure="dependent adults", unit="persons", value=t["dependent"])
    # rates only for the periods published with limits (2015/16 to 2017/18)
    with_limits = set(est.loc[est["lower_ci"].notna(), "period"])
    t_rates = t[t["period"].isin(with_limits)]
    denom_r = denom[t_rates.index]
    rates = t_rates.assign(measure="rate per 100 adults", unit="per 100 adults 18+",
                           value=100 * t_rates["dependent"] / denom_r,
                           lower_ci=100 * t_rates["lower_ci"] / denom_r, upper_ci=100 * t_rates["upper_ci"] / denom_r,
                           count=t_rates["dependent"], denominator=denom_r,
                           value_note=[_joined(a, b) for a, b in zip(t_rates.get("value_note", pd.Series(
                               "", index=t_rates.index)).fillna(""), t_rates["period"].map(notes).fillna(""))])
    eng = rates[rates["area_role"] == "england"].set_index("period")["value"]
    rates = rates.assign(england=rates["period"].map(eng))
    cmp = stats.compare_to_benchmark(rates, "value", "lower_ci", "upper_ci", "england", polarity="low_is_good")
    rates["compared_to_england"] = cmp["comparison"].astype(str).where(rates["area_role"] != "england", "")
    counts["population_year"] = np.nan  # a published count divides by nothing
    out = pd.concat([counts, rates.drop(columns="england")], ignore_index=True)
    pop_source = {y: current_population.current_areas([int(y)]).groupby("code")["source"].first()
                  for y in sorted(set(rates["population_year"]))}
    out = out.assign(time_period=out["period"], age_group="18+", method="OHID/Sheffield model estimate",
                     source=[cite(src, pop_source[y].get(c, "")) if u != "persons" else src
                             for c, u, y in zip(out["area_code"].where(out["area_role"] != "cdp", cdp.members[0]),
                                                out["unit"], out["population_year"])])
    out["compared_to_england"] = out["compared_to_england"].fillna("")  # count rows: no comparison
    out["value_note"] = out["value_note"].fillna("")
    keep = [*_AREA, "time_period", "measure", "age_group", "method", "value", "lower_ci", "upper_ci", "count",
            "denominator", "unit", "value_note", "compared_to_england", "geography_basis", "population_year", "source"]
    return tidy.conform(out[keep])


# --- OCU ------------------------------------------------------------------------------------------------


def ocu_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``prevalence_ocu``: OHID's estimates of opiate and/or crack cocaine users aged 15–64 for England (every
    period held, revised method) as a count and a rate per 1,000 aged 15–64 on the mid-year inside the period,
    and any local estimate held **from the publisher's own documents** for the CDP's areas.

    No figure is derived for an area from England's rate: local rates vary several-fold, so such a number is not
    an estimate of local need (the chapter's text may say what England's rate would imply, labelled so).
    """
    eng = transcribed.official(OCU_ENGLAND_MEASURE, area_code=geography.ENGLAND_CODE)
    if eng.empty:
        raise InputError(f"no England OCU estimate ('{OCU_ENGLAND_MEASURE}') from the publisher's own documents",
                         file=register.file_of_kind(transcribed.ENGLAND.kind), hint="restore the transcribed file")
    groups = cdp.reporting_areas()
    g = groups[groups["area_role"] == "england"].iloc[0]
    rows = []
    for r in eng.sort_values("period").itertuples():
        year, note = current_population.population_year(r.period)
        pop = current_population.current_areas([year])
        p1564 = pop[(pop["code"] == geography.ENGLAND_CODE) & (pop["sex"] == "persons") & pop["age"].between(15, 64)]
        n = float(p1564["population"].sum())
        limits = ("95% limits are published in OHID's data tables for this estimate, which the data held here "
                  "do not include")
        base = dict(**{k: g[k] for k in _AREA}, method="OHID estimate (revised method)", time_period=r.period,
                    population_year=year)
        rows += [dict(base, measure="estimated users", unit="persons", value=float(r.value), population_year=np.nan,
                      value_note=_joined(r.caveat or "", limits), source=r.source),
                 dict(base, measure="rate per 1,000 aged 15-64", unit="per 1,000 aged 15-64", value=1000 * r.value / n,
                      count=float(r.value), denominator=n, value_note=_joined(note, limits),
                      source=cite(r.source, p1564["source"].iloc[0]))]
    for measure in OCU_LOCAL_MEASURES:
        held = pd.concat([transcribed.official(measure, area_code=c) for c in sorted(set(groups["code"]))])
        for r in held.itertuples():
            a = groups[groups["code"] == r.area_code].iloc[0]
            if a["area_role"] == "cdp" and len(cdp.members) > 1:
                continue
            rows.append(dict(**{k: a[k] for k in _AREA}, measure="estimated users", unit="persons", value=r.value,
                             method="OHID estimate (transcribed)", time_period=r.period, source=r.source,
                             population_year=np.nan, value_note=_joined(r.caveat or "", f"transcribed from {r.source_url}")))
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
    #: the age-sex method checked against the survey's regional rates (:func:`.drug_use.region_validation`)
    validation: pd.DataFrame = field(repr=False)
    #: set by :func:`build`: :func:`age_sex_strata` of this result
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
                   headlines=later_headlines(survey_years(settings)), validation=region_validation(settings))
    p.strata = age_sex_strata(p)
    return p


def national_series() -> pd.DataFrame:
    """Last-year use of :data:`AGE_SEX_DRUGS` by 16-59s, England and Wales, every survey year (CSEW Table 1.02),
    in time order."""
    csew = ons_csew.drug_use()
    return csew[(csew["table"] == "1.02") & csew["drug"].isin(AGE_SEX_DRUGS)].sort_values("survey_start")


def later_headlines(years: pd.DataFrame) -> pd.DataFrame:
    """The transcribed national headlines of last-year use by 16-59s for survey years ending after the latest
    survey year of the tables estimated locally (``years``: :func:`.drug_use.survey_years`)."""
    h = ons_csew.headlines()
    h = h[(h["measure"] == "last_year") & (h["age_group"] == "16-59")]
    last_end = years.loc[years["usable"], "survey_end"].max()
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    ends = h["survey_year"].str.extract(r"YE ([A-Z][a-z]{2}) ([0-9]{4})")
    end = ends[1].astype(float) + (ends[0].map(months.index) + 1) / 12
    return h[end > last_end]


def age_sex_strata(p: Prevalence) -> pd.DataFrame:
    """The CDP's age-sex estimate split into its strata (sex × age band), latest survey year, last-year use:
    expected users with limits per stratum (tidy rows with ``sex``, ``age_band``, ``drug``)."""
    year = p.years.set_index("survey_year").loc[p.latest_survey, "population_year"]
    groups = p.cdp.reporting_areas()
    pops = band_populations(groups[groups["area_role"] == "cdp"], [int(year)])
    inputs = _age_sex_inputs(p.settings, pops)
    inputs = inputs[(inputs["survey_year"] == p.latest_survey) & (inputs["age_group"] == "16-59") & inputs["rate"].notna()]
    keys = ["area_code", "area_name", "area_role", "drug", "sex", "band", "population_year"]
    est = tidy.from_stats(stats.synthetic_estimate(inputs, "population", "rate", "base", group_by=keys,
                                                   design_factor=p.settings.design_factor))
    src = register.cite_by_group(inputs, keys, ["source", "pop_source"]).reset_index()
    est = est.merge(src, on=keys)
    return pd.DataFrame({"area_code": est["area_code"], "area_name": est["area_name"], "area_role": est["area_role"],
                         "time_period": p.latest_survey, "measure": "expected users", "drug": est["drug"],
                         "sex": est["sex"].map({"males": "Male", "females": "Female"}), "age_band": est["band"],
                         "value": est["expected"], "lower_ci": est["lower_ci"], "upper_ci": est["upper_ci"],
                         "unit": "persons", "population_year": est["population_year"],
                         "source": [cite(a, b) for a, b in zip(est["source"], est["pop_source"])]})
