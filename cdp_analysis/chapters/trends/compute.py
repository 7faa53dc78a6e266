"""The trends chapter's computations: data → tables.

Loading through :mod:`cdp_analysis.data`, the published deaths and alcohol-specific mortality on current
areas, the trend tests of every series (:mod:`cdp_analysis.stats`), the chapter's result (:class:`Trends`) and
:func:`build`. The rates computed for any CDP are in :mod:`.standardised`.

Rule: numbers and tables only. No figures (matplotlib), HTML, captions, sentences or key findings here; they
are in :mod:`.present`, which imports this module (never the reverse).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ... import stats
from ...areas import aggregate, comparators, current_population, geography, population_series, vintage
from ...areas.partnerships import Partnership
from ...data import fingertips, ndtms_viewit, ons_csew, ons_drug_deaths, ons_drug_deaths_national, ons_population
from ...data.register import cite
from ...memo import by_content
from ...output import provenance, tidy
from .. import prevalence, treatment_gap
from .series import _AREA, ALCOHOL_MORTALITY, CAUSES, SUBSTANCES, SURVEY_TABLES
from .settings import NAME, Settings
from .standardised import standardised_table
from .trend_rows import NUMBER, RATE, _row, count_trends, with_population, with_population_of

log = logging.getLogger(__name__)

#: Why Fingertips' recent-trend marker is not computed for a proportion whose denominator is modelled.
MODELLED_DENOMINATOR = ("the denominator (dependent drinkers) is a modelled estimate, not a count of people, as "
                        "OHID's own indicator 93532 says")


# --- data -----------------------------------------------------------------------------------------------


@by_content()
def _current(table: pd.DataFrame, values: list[str], kind: str, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """Rows of the ONS workbook on current areas (regions and England kept as published); ``text`` columns
    (e.g. ``source_cell``) travel with the values (:func:`cdp_analysis.areas.vintage.to_current`).

    The same whole-workbook step for every CDP: memoised by the table's content, so a batch worker does it once."""
    pop = current_population.current_areas([min(ons_population.available_years())])
    pop = pop[pop["sex"] == "persons"].groupby("code")["population"].sum()
    keys = [c for c in table.columns if c not in values and c not in text and c != "code"]
    cur = vintage.to_current(table[["code", *keys, *values, *text]], values=values, kind=kind, population=pop,
                             current_codes=geography.utla_codes(), text=text)
    big = table[table["code"].str[:3].isin(["E12", "E92"])][["code", *keys, *values, *text]]
    big = big.assign(geography_basis=vintage.AS_PUBLISHED)
    return pd.concat([cur, big], ignore_index=True)


def deaths_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``drug_deaths``: annual registrations and 3-year pooled deaths and age-standardised rates (ASMR per
    100,000, with limits, as published) for the CDP, its members, region(s), England and comparators."""
    groups = comparators.reporting_areas(cdp)
    ann = ons_drug_deaths.annual()
    src = ann["source"].iloc[0]
    # source_cell: the workbook cell(s) each value was read from, summed where an area is built from several
    cell = ("source_cell",)
    annual = _current(ann[["code", "cause", "year", "deaths", *cell]], ["deaths"], "count", cell).merge(groups,
                                                                                                         on="code")
    annual = annual.assign(time_period=annual["year"].astype(str), sex="Persons", measure="deaths", unit="deaths",
                           value=annual["deaths"], source=src,
                           # a blank cell in ONS's table (e.g. City of London, 2021) is not a zero: ONS writes 0
                           value_note=np.where(annual["deaths"].isna(), "no figure in ONS's table (blank cell)", ""))
    pooled_raw = ons_drug_deaths.pooled()
    counts = _current(pooled_raw[["code", "cause", "sex", "period", "deaths", *cell]], ["deaths"], "count", cell)
    rates = pooled_raw[["code", "cause", "sex", "period", "rate", "lower_ci", "upper_ci", "rate_note",
                        "rate_source_cell"]]
    pooled = counts.merge(rates, on=["code", "cause", "sex", "period"], how="left")
    # a rate only where the area is as published (or a renamed code): never averaged or apportioned
    exact = pooled["geography_basis"].isin([vintage.AS_PUBLISHED, vintage.RENAMED])
    pooled.loc[~exact, ["rate", "lower_ci", "upper_ci"]] = np.nan
    pooled["rate_source_cell"] = pooled["rate_source_cell"].where(exact, "").fillna("")
    pooled.loc[~exact, "rate_note"] = "no published rate for this area on current boundaries"
    pooled = pooled.merge(groups, on="code")
    pooled = pooled.assign(time_period=pooled["period"], source=src)
    p_deaths = pooled.assign(measure="deaths", unit="deaths", value=pooled["deaths"], lower_ci=np.nan,
                             upper_ci=np.nan, value_note="")
    p_rates = pooled.assign(measure="asmr", unit="per 100,000 (age-standardised, ESP2013)", value=pooled["rate"],
                            value_note=pooled["rate_note"].fillna(""), source_cell=pooled["rate_source_cell"])
    t = pd.concat([annual, p_deaths, p_rates], ignore_index=True)
    # the CDP: the sum of its members' deaths (the one aggregation rule; cells in the members' order); no
    # published rate for a multi-area CDP
    cdp_rows, keys = t[t["area_role"] == "cdp"], [*_AREA, "cause", "sex", "measure", "time_period", "unit"]
    d = aggregate.sum_members(cdp_rows[cdp_rows["measure"] == "deaths"].sort_values("code", kind="stable"), cdp,
                              keys=keys, values=["value"], agg={"source_cell": " + ".join},
                              basis="sum of the members' deaths",
                              missing_note="not every member has a figure in ONS's table (blank cell)")
    r = aggregate.no_sum_rows(cdp_rows[cdp_rows["measure"] == "asmr"], cdp, keys=keys,
                              values=["value", "lower_ci", "upper_ci"],
                              note="no published rate for the partnership as a whole: see its members' rates")
    t = pd.concat([t[t["area_role"] != "cdp"], d, r], ignore_index=True)
    if settings.first_year is not None:
        t = t[t["time_period"].str[:4].astype(int) >= settings.first_year]
    t = t.assign(indicator_id="cdp.trends." + t["cause"].map(geography.slugify) + "." + t["measure"],
                 indicator_name=np.where(t["measure"] == "asmr",
                                         "Deaths related to " + t["cause"] + ", age-standardised rate per 100,000",
                                         "Deaths related to " + t["cause"] + " (registrations)"))
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "cause", "measure", "sex", "value", "lower_ci",
            "upper_ci", "unit", "value_note", "geography_basis", "source", "source_cell"]
    return tidy.conform(t[keep].assign(source_cell=t["source_cell"].fillna("")))


def _annual_series(deaths: pd.DataFrame, cause: str, role: str) -> pd.DataFrame:
    d = deaths[(deaths["cause"] == cause) & (deaths["measure"] == "deaths") & (deaths["area_role"] == role)
               & ~deaths["time_period"].str.contains("-")]
    return d.assign(year=d["time_period"].astype(int)).sort_values("year")


def trends_table(cdp: Partnership, settings: Settings, deaths: pd.DataFrame,
                 alcohol: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """``trends``: one row per series × area × quantity (rate, number) × method (and joinpoint segment);
    ``alcohol`` is the ``alcohol_mortality`` table."""
    rows, fits = [], {}
    for cause in CAUSES:
        frames = {role: with_population(_annual_series(deaths, cause, role), cdp, role) for role in ("cdp", "england")}
        r, f = count_trends(f"deaths related to {cause}", frames, settings)
        rows += r
        fits[cause] = f
    # adults in treatment: England (ViewIt), and the CDP's own export when given; a financial year is labelled by
    # the year it ends and put over the mid-year inside it
    eng = ndtms_viewit.england()
    tre = ndtms_viewit.in_treatment(eng, drug_groups=("all",))
    england_area = pd.Series({"area_code": geography.ENGLAND_CODE, "area_name": "England", "area_type": "England",
                              "area_role": "england", "area_members": ""})
    frames = {"england": with_population(tre.assign(**england_area, year=tre["period"].str[:4].astype(int) + 1), cdp,
                                         "england", lag=1)}
    gs = treatment_gap.Settings(viewit=list(cdp.chapter_settings(treatment_gap.NAME).viewit))
    local = treatment_gap.viewit_exports(cdp, gs)
    if not local.empty:
        lt = ndtms_viewit.in_treatment(local.drop(columns="code"), drug_groups=("all",))
        lt = lt.groupby("period", as_index=False).agg(value=("value", "sum"), source=("source", "first"))
        cdp_area = pd.Series({"area_code": cdp.code, "area_name": cdp.name, "area_type": cdp.area_type,
                              "area_role": "cdp", "area_members": cdp.members_text})
        frames["cdp"] = with_population(lt.assign(**cdp_area, year=lt["period"].str[:4].astype(int) + 1), cdp, "cdp",
                                        lag=1)
    r, f = count_trends("adults in structured treatment (year ending March)", frames, settings)
    rows += r
    fits["treatment"] = f
    # alcohol treatment (SDG 3.5.1): dependent drinkers in treatment (counts) and met need (the Fingertips marker)
    gap = treatment_gap.gap_table(cdp, treatment_gap.Settings())
    sdg = gap[(gap["substance"] == treatment_gap.ALCOHOL) & gap["area_role"].isin(["cdp", "england"])
              & gap["pairing"].str.startswith("ONS SDG")]
    treated = sdg[sdg["measure"] == "in treatment"].sort_values("time_period_sortable")
    frames = {role: with_population(d.assign(year=d["time_period"].str[:4].astype(int) + 1), cdp, role, lag=1)
              for role, d in treated.groupby("area_role", sort=False)}
    r, f = count_trends("dependent drinkers in alcohol treatment (year ending March)", frames, settings)
    rows += r
    fits["alcohol treatment"] = f
    met = sdg[sdg["measure"] == "met need"]
    for _role, d in met.groupby("area_role", sort=False):
        d = d.sort_values("time_period_sortable")
        # Fingertips computes no marker where the denominator is a modelled estimate (OHID's own indicator 93532
        # reads "Cannot be calculated"): the chi-square test for trend needs counts of people in its denominator
        res = {"verdict": f"cannot be calculated: {MODELLED_DENOMINATOR}"}
        row = _row("alcohol met need (dependent drinkers in treatment)", d.iloc[0], "Fingertips recent trend",
                   "change in met need (percentage points a year)", res, start=d["time_period"].iloc[-5:].iloc[0],
                   end=d["time_period"].iloc[-1], source=cite(*d["source"].unique()),
                   model="not computed: Fingertips' marker is not defined for a modelled denominator")
        row["unit"] = "percentage points a year"
        rows.append(row)
    rows += alcohol_mortality_rows(alcohol)
    # national context: deaths by substance and survey drug use (England and Wales)
    r, f = substance_rows(settings)
    rows += r
    fits["substances"] = f
    rows += survey_rows(cdp.chapter_settings(prevalence.NAME).design_factor)
    t = pd.DataFrame(rows)
    t["value_note"] = np.where(t["value"].isna(), "no estimate: " + t["verdict"], "")
    t["quantity"] = t["quantity"].fillna("")
    t["indicator_id"] = ("cdp.trends." + t["series"].map(geography.slugify) + "." + t["method"].map(geography.slugify)
                         + np.where(t["quantity"] == RATE, ".rate", np.where(t["quantity"] == NUMBER, ".number", "")))
    t["indicator_name"] = (t["series"].str[:1].str.upper() + t["series"].str[1:] + ": " + t["measure"]
                           + np.where(t["quantity"] == RATE, " (rate per head)",
                                      np.where(t["quantity"] == NUMBER, " (numbers)", "")))
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "series", "method", "measure", "quantity",
            "period_start",
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
        c = aggregate.no_sum_rows(t[t["area_role"] == "cdp"], cdp, keys=[*_AREA, "sex", "time_period"], values=values,
                                  note="no published rate for the partnership as a whole: see its members' rates")
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
        d = with_population_of(d, [population_series.ENGLAND_AND_WALES])
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
        # the marker is Fingertips' only on the latest five points, consecutive with no break; otherwise it
        # cannot be calculated (no survey in 2020/21), as Fingertips writes it: never computed on an earlier run
        d = d[d["base"].notna()]
        year = year[d.index]
        n_eff = d["base"] / design_factor ** 2
        label = {str(y): f"{y}/{(y + 1) % 100:02d}" if str(sy).startswith("Apr") else str(sy)
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
            row["apc"] = row["value"] = row["p_value"] = np.nan
        rows.append(row)
    return rows


# --- the chapter's result ---------------------------------------------------------------------------------


def substance_deaths(settings: Settings) -> pd.DataFrame:
    """Deaths mentioning each of :data:`SUBSTANCES` registered each year, England and Wales, persons (ONS Table 4),
    from ``settings.first_year``: what the substances figure draws (its joinpoint fits are ``Trends.fits``)."""
    t = ons_drug_deaths_national.by_substance()
    t = t[(t["sex"] == "Persons") & t["substance"].isin(SUBSTANCES)]
    if settings.first_year is not None:
        t = t[t["year"] >= settings.first_year]
    return t


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
    #: :func:`substance_deaths`: what the substances figure draws
    substances: pd.DataFrame
    #: :func:`registration_delays`: the median registration delay of the latest years (the notes)
    delays: pd.DataFrame
    #: the inputs besides the data files that decide rows of ``trends`` (the partnership's ViewIt exports: its own
    #: series of adults in treatment), for ``run.json``
    trends_decided_by: list[dict]

    def tables(self) -> list[pd.DataFrame]:
        return [self.trends, self.deaths, self.standardised, self.alcohol]


def recording_shares(deaths: pd.DataFrame, period: str) -> dict | None:
    """Share of drug-poisoning deaths recorded as drug misuse in a 3-year period, for the CDP and England, from the
    ``drug_deaths`` table (the CDP's deaths are the sum of its members'): ``cdp_share``, ``england_share`` (0–1),
    ``cdp_poisoning``, ``cdp_misuse``; None where a count is missing or the CDP has no poisoning death.

    Whether a poisoning death counts as misuse depends on what the coroner records (an illicit drug named, or
    dependence), so the shares qualify any comparison of misuse rates."""
    d = deaths[(deaths["sex"] == "Persons") & (deaths["measure"] == "deaths") & (deaths["time_period"] == period)]
    got = {(r.area_role, r.cause): r.value for r in d[d["area_role"].isin(["cdp", "england"])].itertuples()}
    need = [(role, cause) for role in ("cdp", "england") for cause in CAUSES]
    if any(pd.isna(got.get(k, np.nan)) for k in need) or not got[("cdp", CAUSES[1])]:
        return None
    return {"cdp_share": got[("cdp", CAUSES[0])] / got[("cdp", CAUSES[1])],
            "england_share": got[("england", CAUSES[0])] / got[("england", CAUSES[1])],
            "cdp_poisoning": got[("cdp", CAUSES[1])], "cdp_misuse": got[("cdp", CAUSES[0])]}


def registration_delays(deaths: pd.DataFrame, years: int = 4) -> pd.DataFrame:
    """The median registration delay (days) of drug-misuse deaths in England for the latest ``years`` registration
    years of the deaths series (ONS Table 10), oldest first: ``year, median_delay_days, source``."""
    last = _annual_series(deaths, CAUSES[0], "england")["year"].max()
    d = ons_drug_deaths_national.registration_delay()
    d = d[(d["cause"] == CAUSES[0]) & (d["country"] == "England") & d["year"].between(last - years + 1, last)]
    return d.sort_values("year")[["year", "median_delay_days", "source"]].reset_index(drop=True)


def build(cdp: Partnership, settings: Settings | None = None) -> Trends:
    """Compute every table of the trends chapter."""
    settings = settings or cdp.chapter_settings(NAME)
    deaths = deaths_table(cdp, settings)
    alcohol = alcohol_mortality_table(cdp)
    trends, fits = trends_table(cdp, settings, deaths, alcohol)
    return Trends(cdp=cdp, settings=settings, deaths=deaths, trends=trends, standardised=standardised_table(cdp, deaths),
                  alcohol=alcohol, fits=fits, substances=substance_deaths(settings),
                  delays=registration_delays(deaths),
                  trends_decided_by=provenance.settings_files(
                      cdp.chapter_settings(treatment_gap.NAME), "viewit",
                      decides="the partnership's series of adults in treatment (its trend rows)"))
