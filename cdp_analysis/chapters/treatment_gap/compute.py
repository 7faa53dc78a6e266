"""Compute of the treatment-gap chapter: the published data → the chapter's tidy tables and numbers.

Loading through :mod:`cdp_analysis.data`, pairing numbers in treatment with estimates of need, the reporting
areas' rows (members, CDP, region, England, comparators), met and unmet need with limits, the capacity
planner, :func:`build` and its result :class:`TreatmentGap`, and the selections the figures plot. The rule of
this module: no figures, no sentences, no captions, no HTML; presentation (:mod:`.present`) reads from here,
never the reverse. What the chapter shows and how: the package's docstring.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ... import stats
from ...areas import aggregate, comparators, current_population, geography, vintage
from ...areas.partnerships import Partnership
from ...data import fingertips, ndtms_viewit, ohid_alcohol_dependence, ons_sdg
from ...data.register import cite
from ...errors import InputError
from ...memo import memoised
from ...output import provenance, tidy
from .. import prevalence
from .settings import ALCOHOL, FINGERTIPS_UNMET, NAME, OCU, Settings, read_fingertips_export

log = logging.getLogger(__name__)

SUBSTANCES = (ALCOHOL, OCU)
#: NDTMS drug groups whose adults are 'in treatment for alcohol' (as OHID and the SDG series count them).
ALCOHOL_GROUPS = ("alcohol only", "non-opiate and alcohol")
#: The ViewIt measure of adults in treatment citing opiates and/or crack (any drug group).
OCU_MEASURE = "substanceanycitation_opiatesandorcrack_allintx"
AGES = {ALCOHOL: "18+", OCU: "15-64"}
MEASURES = ("in treatment", "estimated need", "met need", "unmet need")
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
_VALUES = ["treated", "need", "need_lower", "need_upper"]


# --- inputs ---------------------------------------------------------------------------------------------


def need_with_limits() -> pd.DataFrame:
    """P̂ with limits for every area (codes of the estimates' vintage) and every SDG period: ``code, period,
    need_lower, need_upper, need_period``. Limits of a period the OHID estimates cover come from that
    period's estimate; for a later period, the mean of the last three years' estimates and limits (OHID's
    method for Fingertips 93532, reproduced in ``tests/stats/test_need.py``)."""
    est = ohid_alcohol_dependence.estimates()
    est = est[est["lower_ci"].notna()]
    held = sorted(est["period"].unique(), key=lambda p: p[:4])
    same = est.assign(need_period=est["period"])[["code", "period", "lower_ci", "upper_ci", "need_period"]]
    last3 = held[-3:]
    mean = est[est["period"].isin(last3)].groupby("code", as_index=False)[["dependent", "lower_ci", "upper_ci"]].mean()
    later = sorted({p for p in ons_sdg.series()["period"] if p[:4] > held[-1][:4]})
    means = pd.concat([mean.assign(period=p, need_period=f"{last3[0]} to {last3[-1]} (mean)") for p in later],
                      ignore_index=True)
    out = pd.concat([same, means[["code", "period", "lower_ci", "upper_ci", "need_period"]]], ignore_index=True)
    return out.rename(columns={"lower_ci": "need_lower", "upper_ci": "need_upper"})


@memoised()
def met_need_of_all_areas(period: str) -> pd.Series:
    """Alcohol met need (%) of every current upper-tier area for an SDG period, by code: T ÷ P̂ × 100."""
    t = alcohol_all_areas()
    t = t[(t["period"] == period) & t["code"].isin(geography.utla_codes())]
    return (100 * t.set_index("code")["treated"] / t.set_index("code")["need"]).dropna().sort_index()


def alcohol_all_areas() -> pd.DataFrame:
    """Alcohol T and P̂ (with limits where published) for every current upper-tier area and England, SDG
    periods: ``code, period, treated, need, need_lower, need_upper, need_period, geography_basis, source``.

    The same for every CDP: built once per process (a batch worker), and each caller gets its own copy."""
    return _alcohol_all_areas().copy()


@memoised()
def _alcohol_all_areas() -> pd.DataFrame:
    sdg = ons_sdg.series()
    sdg = sdg[(sdg["category"] == "") & (sdg["code"] != "") & sdg["series"].isin(["in treatment", "estimated need"])]
    wide = sdg.pivot_table(index=["code", "period"], columns="series", values="value", aggfunc="first").reset_index()
    wide = wide.rename(columns={"in treatment": "treated", "estimated need": "need"}).dropna(subset=["treated", "need"])
    wide = wide.merge(need_with_limits(), on=["code", "period"], how="left")
    wide["need_period"] = wide["need_period"].fillna(wide["period"])
    # an area split since (Northamptonshire) is apportioned by the adults of each period's own mid-year
    year_of = {q: current_population.population_year(q)[0] for q in sorted(set(wide["period"]))}
    current = pd.concat([vintage.to_current(part[["code", "period", *_VALUES]], values=_VALUES, kind="count",
                                            population=current_population.adults(year_of[q]),
                                            current_codes=geography.utla_codes())
                         for q, part in wide.groupby("period", sort=True)], ignore_index=True)
    # limits of separately modelled areas cannot be added up
    current.loc[current["geography_basis"] == vintage.AGGREGATED, ["need_lower", "need_upper"]] = np.nan
    england = wide[wide["code"] == geography.ENGLAND_CODE].assign(geography_basis=vintage.AS_PUBLISHED)
    out = pd.concat([current, england[current.columns]], ignore_index=True)
    periods = wide.drop_duplicates("period").set_index("period")["need_period"]
    out["need_period"] = out["period"].map(lambda p: periods.get(p, p))
    sdg_src, est_src = sdg["source"].iloc[0], ohid_alcohol_dependence.estimates()["source"].iloc[0]
    source = pd.Series(np.where(out["need_lower"].notna(), cite(sdg_src, est_src), sdg_src), index=out.index)
    # a value apportioned from a former area by adult population cites the population it was shared by
    shared = out["geography_basis"] == vintage.APPORTIONED
    if shared.any():
        pop_src = {y: current_population.current_areas([y]).groupby("code")["source"].first()
                   for y in sorted(set(year_of.values()))}
        source[shared] = [cite(s, pop_src[year_of[q]].get(c, "")) for s, c, q in
                          zip(source[shared], out.loc[shared, "code"], out.loc[shared, "period"])]
    return out.assign(substance=ALCOHOL, pairing="ONS SDG 3.5.1 (NDTMS numbers in treatment and the OHID/Sheffield "
                                                 "estimate of the same year, as ONS pairs them)",
                      source=source).sort_values(["code", "period"], ignore_index=True)

def fingertips_rows(settings: Settings) -> pd.DataFrame:
    """OHID's published unmet-need rows (93532 alcohol, 93517 OCU) from the registered exports, the exports
    downloaded with ``cdp fetch fingertips`` (:func:`cdp_analysis.data.fingertips.downloaded`) and the files in
    ``settings.fingertips`` (later ones win for the same indicator, area and period): ``code, period, substance, treated, need, need_lower, need_upper, unmet_published,
    unmet_lower_published, unmet_upper_published, source`` (T = Denominator − Count; P̂'s limits from the
    published limits: P̂_L = T / (1 − lower), P̂_U = T / (1 − upper))."""
    frames = [fingertips.indicator(i) for i in FINGERTIPS_UNMET if i in fingertips.exports()]
    frames += [fingertips.read_export(p) for p in fingertips.downloaded()]
    frames += [read_fingertips_export(p) for p in settings.files("fingertips", where="parameter")]
    t = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["indicator_id"])
    t = t[t["indicator_id"].isin(FINGERTIPS_UNMET) & (t["sex"] == "Persons") & (t["category_type"] == "")]
    t = t.drop_duplicates(["indicator_id", "area_code", "time_period"], keep="last")
    treated = t["denominator"] - t["count"]
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = treated / (1 - t["lower_ci"] / 100), treated / (1 - t["upper_ci"] / 100)
    return pd.DataFrame({"code": t["area_code"], "period": t["time_period"],
                         "substance": t["indicator_id"].map(FINGERTIPS_UNMET), "treated": treated,
                         "need": t["denominator"], "need_lower": lo, "need_upper": hi, "need_period": t["time_period"],
                         "unmet_published": t["value"], "unmet_lower_published": t["lower_ci"],
                         "unmet_upper_published": t["upper_ci"], "geography_basis": vintage.AS_PUBLISHED,
                         "pairing": "as OHID publishes it (Fingertips " + t["indicator_id"] + ": Denominator = "
                                    "estimated need, Denominator − Count = in treatment)",
                         "source": t["source"]}).reset_index(drop=True)


def viewit_exports(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """The ViewIt exports named in the settings, each area matched to a member of the CDP (``code``)."""
    frames = []
    names = {geography.slugify(n): c for c, n in geography.areas().set_index("code")["name"].items()}
    for path in settings.files("viewit", where="parameter"):
        t = ndtms_viewit.read_export(path)
        code = t["area_name"].map(lambda n: names.get(geography.slugify(n), ""))
        outside = ~code.isin(cdp.members)
        if outside.any():
            first = t[outside].iloc[0]
            raise InputError(f"area '{first['area_name']}' is not a member of {cdp.name} "
                             f"({', '.join(cdp.members)})", file=path, where=f"row {int(first['_row'])}, column 'Area'",
                             hint="export ViewIt data for the CDP's own areas only, or list the right members")
        frames.append(t.assign(code=code))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def viewit_rows(viewit: pd.DataFrame, latest_need: pd.DataFrame) -> pd.DataFrame:
    """T from ViewIt exports (by code), paired with the latest P̂ held for the area (``latest_need``: ``code,
    substance, need, need_lower, need_upper, need_period, period`` of the pairing it comes from)."""
    rows = []
    for substance, groups, measure in ((ALCOHOL, ALCOHOL_GROUPS, "in_treatment"), (OCU, ("all",), OCU_MEASURE)):
        if viewit.empty or measure not in viewit.columns:
            continue
        for code, part in viewit.groupby("code"):
            t = ndtms_viewit.in_treatment(part, drug_groups=groups, measure=measure)
            rows.append(t.assign(code=code, substance=substance, treated=t["value"], rounded_to=t["rounded_to"]))
    if not rows:
        return pd.DataFrame(columns=["code", "period", "substance", "treated"])
    t = pd.concat(rows, ignore_index=True).drop(columns=["value", "area_name"])
    t = t.merge(latest_need.rename(columns={"period": "need_paired_period"}), on=["code", "substance"], how="left")
    approx = t["need"].notna()
    t["source"] = [cite(a, b) if isinstance(b, str) else a for a, b in zip(t["source"], t["need_source"])]
    t["pairing"] = np.where(
        approx, "approximation: NDTMS ViewIt numbers in treatment of the year against the latest estimate of need "
                "held (" + t["need_period"].fillna("") + "); OHID's later revisions of the estimate are not in the data",
        "NDTMS ViewIt numbers in treatment; no estimate of need is held for this area")
    return t.drop(columns="need_source").assign(geography_basis=vintage.AS_PUBLISHED)


# --- building the table -----------------------------------------------------------------------------------


def _latest_need(pairs: pd.DataFrame) -> pd.DataFrame:
    """The latest P̂ of each area and substance among published pairs."""
    have = pairs[pairs["need"].notna()].assign(_k=lambda d: d["period"].str[:4]).sort_values(["code", "substance", "_k"])
    out = have.groupby(["code", "substance"], as_index=False).last()
    return out[["code", "substance", "period", "need", "need_lower", "need_upper", "need_period", "source"]].rename(
        columns={"source": "need_source"})


def area_pairs(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """Every (area, substance, period) pair of T and P̂ for the reporting areas: published pairs first (Fingertips
    rows replace the SDG's for the same area and period), then ViewIt years after them."""
    published = pd.concat([alcohol_all_areas(), fingertips_rows(settings)], ignore_index=True)
    published = published.drop_duplicates(["code", "substance", "period"], keep="last")
    viewit = viewit_exports(cdp, settings)
    eng = ndtms_viewit.england().assign(code=geography.ENGLAND_CODE)
    if OCU_MEASURE not in eng.columns:
        eng = eng.assign(**{OCU_MEASURE: np.nan})
    later = viewit_rows(pd.concat([viewit, eng], ignore_index=True), _latest_need(published))
    key = published.set_index(["code", "substance", "period"]).index
    later = later[~later.set_index(["code", "substance", "period"]).index.isin(key)]
    later = later[later["treated"].notna()]
    # ViewIt years before any published need stay 'in treatment' only
    first_need = published[published["need"].notna()].groupby(["code", "substance"])["period"].min()
    start = later.set_index(["code", "substance"]).index.map(lambda k: first_need.get(k, "9999"))
    before = later["period"].to_numpy() < np.asarray(start)
    later.loc[before, _VALUES[1:]] = np.nan
    later.loc[before, "pairing"] = "NDTMS ViewIt numbers in treatment (before the first estimate of need)"
    return pd.concat([published, later], ignore_index=True)


def _combine(pairs: pd.DataFrame, groups: pd.DataFrame, cdp: Partnership) -> pd.DataFrame:
    """Pairs of the reporting areas by the one aggregation rule (:mod:`cdp_analysis.areas.aggregate`): the CDP
    is the sum of its members, each pair only when every member has it (limits only if they are one published
    area); a region is the sum of all its areas' ONS SDG pairs (no limits)."""
    rows = pairs.merge(groups[groups["area_role"] != "region"], on="code")
    cdp_rows = aggregate.sum_members(
        rows[rows["area_role"] == "cdp"], cdp, keys=[*_AREA, "substance", "period"], values=["treated", "need"],
        limits=["need_lower", "need_upper"], first=["need_period", "pairing"], agg={"rounded_to": "max"},
        basis="sum of the members (no limits: separately modelled areas)")
    sdg = pairs[pairs["pairing"].str.startswith("ONS SDG")]
    regions = aggregate.sum_regions(sdg, groups, keys=["substance", "period"], values=["treated", "need"],
                                    limits=["need_lower", "need_upper"], first=["need_period", "pairing", "source"],
                                    basis="sum of the region's areas (no limits)")
    return pd.concat([rows[rows["area_role"] != "cdp"], cdp_rows, regions], ignore_index=True)


def _indicator(substance: str, measure: str) -> tuple[str, str]:
    slug = "alcohol" if substance == ALCOHOL else "ocu"
    who = ("dependent drinkers (18+)" if substance == ALCOHOL else "opiate and/or crack cocaine users (15-64)")
    names = {"in treatment": f"Adults in structured treatment for {'alcohol' if substance == ALCOHOL else 'opiates and/or crack'}",
             "estimated need": f"Estimated number of {who}",
             "met need": f"Proportion of {who} in treatment (met need)",
             "unmet need": f"Proportion of {who} not in treatment (unmet need)"}
    return f"cdp.treatment_gap.{slug}.{geography.slugify(measure)}", names[measure]


def gap_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``treatment_gap``: for the CDP, its members, region(s), England and comparator areas, by substance and
    period: in treatment, estimated need (with limits), met and unmet need (%, with limits), unmet need
    compared with England (95% limits, lower is better)."""
    groups = comparators.reporting_areas(cdp)
    pairs = _combine(area_pairs(cdp, settings), groups, cdp)
    with_need = pairs[pairs["need"].notna() & pairs["treated"].notna()].reset_index(drop=True)
    m = tidy.from_stats(stats.met_need(with_need.assign(_i=with_need.index), "treated", "need", "need_lower",
                                       "need_upper", group_by="_i")).set_index("_i").reindex(with_need.index)
    published = with_need.get("unmet_published", pd.Series(np.nan, index=with_need.index)).notna()
    unmet = np.where(published, with_need.get("unmet_published"), m["unmet_need"])
    unmet_lo = np.where(published, with_need.get("unmet_lower_published"), m["unmet_lower_ci"])
    unmet_hi = np.where(published, with_need.get("unmet_upper_published"), m["unmet_upper_ci"])
    base = with_need[[*_AREA, "substance", "period", "need_period", "pairing", "geography_basis", "source"]]
    rates = []
    for measure, v, lo, hi in (("met need", 100 - unmet, 100 - unmet_hi, 100 - unmet_lo),
                               ("unmet need", unmet, unmet_lo, unmet_hi)):
        rates.append(base.assign(measure=measure, unit="%", value=v, lower_ci=lo, upper_ci=hi,
                                 count=with_need["treated"] if measure == "met need" else with_need["need"] - with_need["treated"],
                                 denominator=with_need["need"],
                                 value_note=np.where(m["method"].str.startswith("met need above"),
                                                     "more adults in treatment than the estimate of need", "")))
    rates = pd.concat(rates, ignore_index=True)
    eng = rates[rates["area_role"] == "england"].set_index(["substance", "period", "measure"])["value"]
    rates["england"] = [eng.get(k, np.nan) for k in zip(rates["substance"], rates["period"], rates["measure"])]
    cmp = stats.compare_to_benchmark(rates.assign(england=rates["england"].fillna(rates["value"])),
                                     "value", "lower_ci", "upper_ci", "england", polarity="low_is_good")
    compared = cmp["comparison"].astype(str).where(rates["england"].notna() & rates["lower_ci"].notna(), "Not compared")
    rates["compared_to_england"] = np.where(rates["measure"] == "unmet need", compared, "")
    rates.loc[rates["area_role"] == "england", "compared_to_england"] = ""
    counts = [pairs.assign(measure="in treatment", unit="persons", value=pairs["treated"], lower_ci=np.nan,
                           upper_ci=np.nan, need_period=pairs["need_period"].fillna(""),
                           value_note=np.where(pairs.get("rounded_to", pd.Series(1, index=pairs.index)).fillna(1) > 1,
                                               "rounded to 5 by NDTMS", "")),
              pairs[pairs["need"].notna()].assign(measure="estimated need", unit="persons", value=lambda d: d["need"],
                                                  lower_ci=lambda d: d["need_lower"], upper_ci=lambda d: d["need_upper"],
                                                  value_note="")]
    out = pd.concat([*counts, rates.drop(columns="england")], ignore_index=True)
    out = out[out["value"].notna()]
    ids = [_indicator(s, m_) for s, m_ in zip(out["substance"], out["measure"])]
    out = out.assign(indicator_id=[i[0] for i in ids], indicator_name=[i[1] for i in ids], time_period=out["period"],
                     age_group=out["substance"].map(AGES), compared_to_england=out["compared_to_england"].fillna(""))
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "measure", "substance", "age_group", "value",
            "lower_ci", "upper_ci", "count", "denominator", "unit", "value_note", "compared_to_england", "need_period",
            "pairing", "geography_basis", "source"]
    return tidy.conform(out[keep])


# --- capacity -----------------------------------------------------------------------------------------------


def _end_year(period: str) -> int:
    """The year a financial year ends: '2021/22' → 2022."""
    return int(period[:4]) + 1


def england_rate(gap: pd.DataFrame, substance: str) -> pd.Series | None:
    """England's latest met need for a substance, among pairs published as such (not approximations)."""
    t = gap[(gap["area_role"] == "england") & (gap["substance"] == substance) & (gap["measure"] == "met need")
            & ~gap["pairing"].str.startswith("approximation")]
    return None if t.empty else t.sort_values("time_period_sortable").iloc[-1]


def latest(gap: pd.DataFrame, substance: str, *, area_role: str = "cdp") -> pd.Series | None:
    """The latest met-need row of an area role for a substance (approximations included, as flagged)."""
    t = gap[(gap["area_role"] == area_role) & (gap["substance"] == substance) & (gap["measure"] == "met need")]
    return None if t.empty else t.sort_values("time_period_sortable").iloc[-1]


def capacity_table(cdp: Partnership, settings: Settings, gap: pd.DataFrame) -> pd.DataFrame:
    """``treatment_capacity``: for the CDP and each substance with a met need: in treatment now, in treatment
    at the target, extra places to reach the target and to match England (with ranges from P̂'s limits), and
    the annual growth that reaches the target by ``target_year``."""
    rows = []
    for substance in SUBSTANCES:
        now, eng = latest(gap, substance), england_rate(gap, substance)
        if now is None or eng is None:
            continue
        need = gap[(gap["area_role"] == "cdp") & (gap["substance"] == substance) & (gap["measure"] == "estimated need")
                   & (gap["time_period"] == now["time_period"])].iloc[0]
        target = settings.target_met_need if settings.target_met_need is not None else eng["value"]
        what = ("target set in the parameters" if settings.target_met_need is not None
                else f"England's met need, {eng['time_period']}")
        years = settings.target_year - _end_year(now["time_period"])
        frame = pd.DataFrame({"t": [now["count"]] * 2, "p": [need["value"]] * 2, "lo": [need["lower_ci"]] * 2,
                              "hi": [need["upper_ci"]] * 2, "target": [target / 100, eng["value"] / 100],
                              "years": [years] * 2})
        res = stats.places_needed(frame, "t", "p", "lo", "hi", target="target", years="years")
        common = {**{k: now[k] for k in _AREA}, "substance": substance, "age_group": now["age_group"],
                  "time_period": now["time_period"], "need_period": now["need_period"], "pairing": now["pairing"],
                  "target_met_need": target, "target_basis": what, "england_met_need": eng["value"],
                  "england_period": eng["time_period"], "target_year": settings.target_year,
                  "source": cite(now["source"], eng["source"])}
        r, e = res.iloc[0], res.iloc[1]
        rows += [
            dict(common, measure="in treatment now", unit="persons", value=now["count"], status=""),
            dict(common, measure="in treatment at target", unit="persons", value=r["in_treatment_at_target"],
                 lower_ci=r["in_treatment_at_target"] * need["lower_ci"] / need["value"],
                 upper_ci=r["in_treatment_at_target"] * need["upper_ci"] / need["value"], status=r["status"]),
            dict(common, measure="extra places to reach target", unit="persons", value=r["extra_places"],
                 lower_ci=r["extra_lower"], upper_ci=r["extra_upper"], status=r["status"]),
            dict(common, measure="extra places to match England", unit="persons", value=e["extra_places"],
                 lower_ci=e["extra_lower"], upper_ci=e["extra_upper"], status=e["status"]),
            dict(common, measure="annual growth to reach target", unit="% a year", value=r["annual_growth"],
                 lower_ci=r["growth_lower"], upper_ci=r["growth_upper"], status=r["status"]),
        ]
    if not rows:
        return tidy.conform(pd.DataFrame(columns=[*_AREA, "time_period", "measure", "value", "unit", "source"]))
    out = pd.DataFrame(rows)
    out["indicator_id"] = ("cdp.treatment_gap.capacity." + out["substance"].map({ALCOHOL: "alcohol", OCU: "ocu"})
                           + "." + out["measure"].map(geography.slugify))
    out["indicator_name"] = (out["measure"].str[:1].str.upper() + out["measure"].str[1:] + ", " + out["substance"] + " (capacity planner, target "
                             + out["target_met_need"].map(lambda v: f"{v:.1f}") + "% met need by "
                             + out["target_year"].astype(str) + ")")
    out["value_note"] = np.where(out["status"] == "target already met", "target already met: no extra places needed",
                                 out["status"].where(out["status"] != "more places needed", ""))
    return tidy.conform(out.drop(columns="status"))


# --- the chapter ---------------------------------------------------------------------------------------------


@dataclass
class TreatmentGap:
    """All tables of the treatment-gap chapter for one CDP."""

    cdp: Partnership
    settings: Settings
    gap: pd.DataFrame
    capacity: pd.DataFrame
    ocu_estimates: pd.DataFrame = field(repr=False)
    #: the estimates of need of the periods after the OHID estimates: the mean of the last three
    #: (:func:`need_with_limits`, rows whose ``need_period`` ends '(mean)')
    mean_need: pd.DataFrame = field(repr=False)
    #: :func:`last_sdg_period`
    last_sdg: str
    #: :func:`funnel_data`: every area's alcohol met need in the latest SDG year, and the funnel's limits
    funnel_points: pd.DataFrame = field(repr=False)
    funnel_limits: pd.DataFrame = field(repr=False)

    def tables(self) -> list[pd.DataFrame]:
        return [self.gap, self.capacity]


def build(cdp: Partnership, settings: Settings | None = None) -> TreatmentGap:
    """Compute every table of the treatment-gap chapter."""
    settings = settings or cdp.chapter_settings(NAME)
    settings.check_data(where="parameter")
    gap = gap_table(cdp, settings)
    ocu = prevalence.ocu_table(cdp, cdp.chapter_settings(prevalence.NAME))
    capacity = capacity_table(cdp, settings, gap)
    # the partnership's own exports named in the settings decide rows of both tables (for run.json)
    for table in (gap, capacity):
        table.attrs["decided_by"] = provenance.settings_files(
            settings, "viewit", "fingertips", decides="rows of the partnership's own exports: later years of "
                                                      "numbers in treatment (ViewIt), unmet need (Fingertips)")
    need = need_with_limits()
    points, limits = funnel_data()
    return TreatmentGap(cdp=cdp, settings=settings, gap=gap, capacity=capacity, ocu_estimates=ocu,
                        mean_need=need[need["need_period"].str.endswith("(mean)")], last_sdg=last_sdg_period(),
                        funnel_points=points, funnel_limits=limits)


# --- what the figures plot ---------------------------------------------------------------------------------


def alcohol_trend(g: TreatmentGap) -> pd.DataFrame:
    """Alcohol met need by period for the CDP, its region(s) and England, in time order."""
    t = g.gap[(g.gap["substance"] == ALCOHOL) & (g.gap["measure"] == "met need")
              & g.gap["area_role"].isin(["cdp", "region", "england"])]
    return t.sort_values(["area_role", "area_code", "time_period_sortable"], ignore_index=True)

def funnel_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alcohol met need and estimated need of every current area in the latest SDG year, and the funnel."""
    a = alcohol_all_areas()
    year = max(a["period"], key=lambda p: p[:4])
    pts = a[(a["period"] == year) & (a["code"] != geography.ENGLAND_CODE) & a["need"].notna()].copy()
    pts["met"] = 100 * pts["treated"] / pts["need"]
    pts["need_whole"] = pts["need"].round()
    limits = stats.funnel_limits(pts, "treated", "need_whole", statistic="proportion", multiplier=100)
    return pts, limits


def last_sdg_period() -> str:
    """The latest financial year of the ONS SDG 3.5.1 series (after it, numbers in treatment come from
    Fingertips or an analyst's ViewIt export)."""
    return max(ons_sdg.series()["period"], key=lambda p: p[:4])
