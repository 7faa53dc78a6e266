"""Chapter 3, treatment gap: met and unmet need for treatment by substance, and the places needed to close it.

Definitions (stated in the report): met need = T / P̂ and unmet need = 1 − T / P̂, where T is the number of
adults in structured treatment in the year (NDTMS) and P̂ the estimated number in need for the same substance
group; limits from P̂'s limits, as OHID publishes them (:func:`cdp_analysis.stats.met_need`).

* **Alcohol**: T = adults in treatment for 'alcohol only' + 'non-opiate and alcohol'; P̂ = dependent adults
  18+ (OHID/University of Sheffield). 2010/11–2018/19: T and P̂ as the ONS SDG 3.5.1 series pairs them for
  every area (P̂'s limits from the OHID estimates of the same year; from 2018/19 the mean of the last three
  years' estimates and limits, which is how OHID computes Fingertips 93532). Later years where a ViewIt
  export gives T: paired with the latest P̂ held, flagged as an approximation. OHID's own published rows
  (Fingertips 93532) are used as published.
* **Opiates and/or crack (OCU)**: P̂ = OHID's estimate of users aged 15–64; T = adults in treatment citing
  opiates and/or crack (ViewIt). Met need is shown only where OHID publishes the pair (Fingertips 93517) or
  where both are held for the same area and year; otherwise the chapter says what is missing.
* **Capacity planner** (:func:`cdp_analysis.stats.places_needed`): extra places = target × P̂ − T (never
  below zero), with a range from P̂'s limits; the places needed to match England; and the annual growth in
  numbers in treatment that reaches the target by ``target_year``.

Areas on older codes (SDG, OHID estimates before 2019) are mapped to current areas with
:mod:`cdp_analysis.areas.vintage`; an area split from a former county carries the county's figures
apportioned by adult population (the same met need as the county), said in ``geography_basis``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
from pydantic import Field

from .. import stats
from ..areas import comparators, current_population, geography, vintage
from ..areas.params import ChapterSettings
from ..areas.partnerships import Partnership
from ..data import fingertips, ndtms_viewit, ohid_alcohol_dependence, ons_population, ons_sdg
from ..data.register import cite
from ..errors import InputError
from ..memo import memoised
from ..output import figures, tidy
from ..output.escape import markdown_text as md
from ..output.index import KeyFigure
from ..output.notebook import FigureOutput, TableOutput
from ..output.table_html import with_limits
from . import prevalence
from .registry import Chapter

log = logging.getLogger(__name__)

NAME = "treatment_gap"
ALCOHOL, OCU = "alcohol", "opiates and/or crack"
SUBSTANCES = (ALCOHOL, OCU)
#: NDTMS drug groups whose adults are 'in treatment for alcohol' (as OHID and the SDG series count them).
ALCOHOL_GROUPS = ("alcohol only", "non-opiate and alcohol")
#: The ViewIt measure of adults in treatment citing opiates and/or crack (any drug group).
OCU_MEASURE = "substanceanycitation_opiatesandorcrack_allintx"
#: Fingertips indicators of unmet need: Count = not in treatment, Denominator = estimated number in need.
FINGERTIPS_UNMET = {"93532": ALCOHOL, "93517": OCU}
AGES = {ALCOHOL: "18+", OCU: "15-64"}
MEASURES = ("in treatment", "estimated need", "met need", "unmet need")
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
_VALUES = ["treated", "need", "need_lower", "need_upper"]


class Settings(ChapterSettings):
    """Settings of the treatment-gap chapter (section ``treatment_gap:`` of a params file)."""

    SECTION: ClassVar[str] = "treatment_gap"

    viewit: list[str] = Field(
        default=[], description="NDTMS ViewIt adult exports (CSV) for the CDP's areas: paths relative to the project "
                                "folder, or absolute")
    fingertips: list[str] = Field(
        default=[], description="extra Fingertips CSV exports (e.g. 93532, 93517 for the CDP's areas): paths")
    target_met_need: float | None = Field(
        default=None,
        description="target met need (%) for the capacity planner, more than 1 and at most 100 (e.g. 25 for 25%); "
                    "default England's latest published rate")
    target_year: int = Field(
        default=2030, ge=2020, le=2050,
        description="the financial year by whose end the target is reached, by its end year (e.g. 2030 for 2029/30)")

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """The target is a percentage in (1, 100]; every file named exists and is read and validated in full
        (ViewIt exports by :func:`cdp_analysis.data.ndtms_viewit.read_export`; Fingertips exports by
        :func:`cdp_analysis.data.fingertips.read_export_for`: only the indicators this chapter reads, counts
        within their denominators, single financial years from 2005/06), so a bad file stops the run before
        any notebook starts. Parsing is memoised, so the chapter's build reads them again for nothing."""
        target = self.target_met_need
        if target is not None and not 1 < target <= 100:
            section = f" (in section '{self.SECTION}')" if where == "key" else ""
            hint = (f"did you mean {target * 100:g} for {target * 100:g}%? 'target_met_need' is a percentage, more "
                    "than 1 and at most 100" if 0 < target <= 1 else
                    "give a percentage more than 1 and at most 100, e.g. 25 for 25%, or leave it out to use "
                    "England's latest published rate")
            raise InputError(f"target met need {target:g}% is outside the range (1, 100]", file=file,
                             where=f"{where} 'target_met_need'{section}", hint=hint)
        for path in self.files("viewit", file=file, where=where):
            ndtms_viewit.read_export(path)
        for path in self.files("fingertips", file=file, where=where):
            read_fingertips_export(path)


# --- inputs ---------------------------------------------------------------------------------------------


def _adults(year: int) -> pd.Series:
    pop = current_population.current_areas([year])
    return pop[(pop["sex"] == "persons") & (pop["age"] >= 18)].groupby("code")["population"].sum()


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
    year = min(ons_population.available_years())
    current = vintage.to_current(wide[["code", "period", *_VALUES]], values=_VALUES, kind="count",
                                 population=_adults(year), current_codes=geography.utla_codes())
    # limits of separately modelled areas cannot be added up
    current.loc[current["geography_basis"] == vintage.AGGREGATED, ["need_lower", "need_upper"]] = np.nan
    england = wide[wide["code"] == geography.ENGLAND_CODE].assign(geography_basis=vintage.AS_PUBLISHED)
    out = pd.concat([current, england[current.columns]], ignore_index=True)
    periods = wide.drop_duplicates("period").set_index("period")["need_period"]
    out["need_period"] = out["period"].map(lambda p: periods.get(p, p))
    sdg_src, est_src = sdg["source"].iloc[0], ohid_alcohol_dependence.estimates()["source"].iloc[0]
    source = np.where(out["need_lower"].notna(), cite(sdg_src, est_src), sdg_src)
    return out.assign(substance=ALCOHOL, pairing="ONS SDG 3.5.1 (NDTMS numbers in treatment and the OHID/Sheffield "
                                                 "estimate of the same year, as ONS pairs them)",
                      source=source).sort_values(["code", "period"], ignore_index=True)


def read_fingertips_export(path: Path) -> pd.DataFrame:
    """An analyst's Fingertips export named under ``treatment_gap: fingertips``, validated for this chapter: only
    the unmet-need indicators it reads (:data:`FINGERTIPS_UNMET`; any other is refused, naming it), Count (not in
    treatment) at most the Denominator (estimated need) and Value = 100 × Count ÷ Denominator, single financial
    years from 2005/06 (NDTMS's first year). Memoised by the file's content."""
    from ..data.plausibility import NDTMS_FIRST_YEAR

    return fingertips.read_export_for(path, FINGERTIPS_UNMET, chapter="treatment gap", key=f"{NAME}: fingertips",
                                      proportions=True, financial_years_from=NDTMS_FIRST_YEAR)


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
    """Pairs of the reporting areas: the CDP is the sum of its members (limits only if they are one published
    area, whole); a region is the sum of its areas (no limits)."""
    rows = pairs.merge(groups[groups["area_role"] != "region"], on="code")
    one = prevalence.one_published_area(cdp)
    keys = [*_AREA, "substance", "period"]
    cdp_rows = rows[rows["area_role"] == "cdp"]
    if len(cdp.members) > 1:
        n = cdp_rows.groupby(keys)["code"].transform("size")
        cdp_rows = cdp_rows[n == len(cdp.members)]  # every member present
        summed = cdp_rows.groupby(keys, as_index=False).agg(
            treated=("treated", "sum"), need=("need", lambda v: v.sum(min_count=len(v))),
            need_lower=("need_lower", lambda v: v.sum(min_count=len(v))),
            need_upper=("need_upper", lambda v: v.sum(min_count=len(v))),
            need_period=("need_period", "first"), pairing=("pairing", "first"), source=("source", lambda v: cite(*v)),
            geography_basis=("geography_basis", "first"), rounded_to=("rounded_to", "max"))
        if not one:
            summed[["need_lower", "need_upper"]] = np.nan
            summed["geography_basis"] = "sum of the members (no limits: separately modelled areas)"
        else:
            summed["geography_basis"] = "as published for the former area the members replaced"
        cdp_rows = summed
    regions = []
    for g in groups[groups["area_role"] == "region"].itertuples():
        codes = set(geography.areas("utla").query("region_code == @g.code")["code"])
        part = pairs[pairs["code"].isin(codes) & pairs["pairing"].str.startswith("ONS SDG")]
        n = part.groupby(["substance", "period"])["code"].transform("size")
        part = part[n == len(codes)]
        s = part.groupby(["substance", "period"], as_index=False).agg(
            treated=("treated", "sum"), need=("need", "sum"), need_period=("need_period", "first"),
            pairing=("pairing", "first"), source=("source", "first"))
        regions.append(s.assign(**{k: getattr(g, k) for k in _AREA}, need_lower=np.nan, need_upper=np.nan,
                                geography_basis="sum of the region's areas (no limits)"))
    return pd.concat([rows[rows["area_role"] != "cdp"], cdp_rows, *regions], ignore_index=True)


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
    m = stats.met_need(with_need.assign(_i=with_need.index), "treated", "need", "need_lower", "need_upper",
                       group_by="_i").set_index("_i").reindex(with_need.index)
    published = with_need.get("unmet_published", pd.Series(np.nan, index=with_need.index)).notna()
    unmet = np.where(published, with_need.get("unmet_published"), m["unmet_need"])
    unmet_lo = np.where(published, with_need.get("unmet_lower_published"), m["unmet_lowercl"])
    unmet_hi = np.where(published, with_need.get("unmet_upper_published"), m["unmet_uppercl"])
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

    def tables(self) -> list[pd.DataFrame]:
        return [self.gap, self.capacity]


def build(cdp: Partnership, settings: Settings | None = None) -> TreatmentGap:
    """Compute every table of the treatment-gap chapter."""
    settings = settings or cdp.chapter_settings(NAME)
    settings.check_data(where="parameter")
    gap = gap_table(cdp, settings)
    ocu = prevalence.ocu_table(cdp, cdp.chapter_settings(prevalence.NAME))
    return TreatmentGap(cdp=cdp, settings=settings, gap=gap, capacity=capacity_table(cdp, settings, gap),
                        ocu_estimates=ocu)


def _round(x: float) -> str:
    step = 100 if x >= 10_000 else 10 if x >= 100 else 1
    return f"{round(x / step) * step:,.0f}"


def _in_words(share: float) -> str:
    """A proportion as 'about N in M' (M = 5 or 10 or 100)."""
    for m in (4, 5, 10):
        n = round(share * m)
        if 0 < n < m and abs(share - n / m) < 0.03:
            return f"about {n} in {m}"
    return f"about {round(share * 100)} in 100"


def summary_text(g: TreatmentGap) -> str:
    """Key findings as Markdown, every number read from the tables."""
    lines = []
    who = {ALCOHOL: "dependent drinkers", OCU: "opiate and/or crack cocaine users"}
    for substance in SUBSTANCES:
        now = latest(g.gap, substance)
        if now is None:
            lines.append(missing_text(g, substance))
            continue
        unmet = g.gap[(g.gap["area_role"] == "cdp") & (g.gap["substance"] == substance)
                      & (g.gap["measure"] == "unmet need") & (g.gap["time_period"] == now["time_period"])].iloc[0]
        limits = (f"; 95% limits {unmet['lower_ci']:.0f}%–{unmet['upper_ci']:.0f}%" if pd.notna(unmet["lower_ci"])
                  else "; no limits, see the notes")
        approx = " (an approximation: see the pairing in the notes)" if now["pairing"].startswith("approximation") else ""
        cmp = unmet["compared_to_england"]
        versus = {"Better": "lower than England's", "Worse": "higher than England's",
                  "Similar": "not significantly different from England's"}.get(cmp, "not compared with England's")
        lines.append(f"- {_in_words(unmet['value'] / 100).capitalize()} {who[substance]} in {md(g.cdp.name)} "
                     f"({unmet['value']:.0f}%{limits}) were not in treatment in {now['time_period']}{approx}; "
                     f"unmet need is {versus} of the same year.")
        cap = g.capacity[(g.capacity["substance"] == substance)]
        if not cap.empty:
            match = cap[cap["measure"] == "extra places to match England"].iloc[0]
            target = cap[cap["measure"] == "extra places to reach target"].iloc[0]
            growth = cap[cap["measure"] == "annual growth to reach target"].iloc[0]
            if match["value"] == 0:
                upper = (f" (up to about {_round(match['upper_ci'])} if need is at the upper limit of its estimate)"
                         if match["upper_ci"] > 0 else "")
                lines.append(f"  Met need ({now['value']:.1f}%) already matches or exceeds England's "
                             f"{match['england_met_need']:.1f}% ({match['england_period']}): no extra places are needed "
                             f"to match England at the central estimate{upper}.")
            else:
                spread = (f"({_round(match['lower_ci'])}–{_round(match['upper_ci'])}, from the limits of the "
                          "estimate of need)" if pd.notna(match["lower_ci"]) and pd.notna(match["upper_ci"])
                          else "(no range: the estimate of need has no published limits)")
                lines.append(f"  Matching England's met need ({match['england_met_need']:.1f}%, {match['england_period']}) "
                             f"would need about **{_round(match['value'])}** more treatment places {spread}.")
            if target["target_basis"] == "target set in the parameters":
                if target["value"] == 0:
                    lines.append(f"  The target of {target['target_met_need']:.1f}% met need is already met.")
                else:
                    lines.append(f"  Reaching {target['target_met_need']:.1f}% met need by {target['target_year']} "
                                 f"would need about **{_round(target['value'])}** more places.")
            if pd.notna(growth["value"]) and growth["value"] > 0:
                spread = (f" ({growth['lower_ci']:.1f}%–{growth['upper_ci']:.1f}%)"
                          if pd.notna(growth["lower_ci"]) and pd.notna(growth["upper_ci"]) else "")
                lines.append(f"  Reaching {growth['target_met_need']:.1f}% by {growth['target_year']} means numbers in "
                             f"treatment growing by about **{growth['value']:.1f}% a year**{spread}.")
    trend = alcohol_trend(g)
    cdp_trend = trend[(trend["area_role"] == "cdp") & trend["pairing"].str.startswith("ONS SDG")]
    if len(cdp_trend) >= 2:
        first, last = cdp_trend.iloc[0], cdp_trend.iloc[-1]
        lines.append(f"- Alcohol met need in {md(g.cdp.name)} was {first['value']:.1f}% in {first['time_period']} and "
                     f"{last['value']:.1f}% in {last['time_period']} (ONS SDG 3.5.1 series).")
    return "\n".join(lines)


def missing_text(g: TreatmentGap, substance: str) -> str:
    """What is and is not held for a substance without a met need for the CDP, and what would give one."""
    t = g.gap[(g.gap["area_role"] == "cdp") & (g.gap["substance"] == substance)]
    treated = t[t["measure"] == "in treatment"].sort_values("time_period_sortable")
    held = g.ocu_estimates[(g.ocu_estimates["area_role"] == "cdp") & (g.ocu_estimates["measure"] == "estimated users")
                           & g.ocu_estimates["method"].str.startswith("OHID")] if substance == OCU else pd.DataFrame()
    parts = [f"- {substance.capitalize()}: the unmet need of {md(g.cdp.name)} cannot be shown from the data held."]
    if len(treated):
        last = treated.iloc[-1]
        parts.append(f"Adults in treatment are known ({_round(last['value'])} in {last['time_period']}, NDTMS) but no "
                     "OHID estimate of need for the area is held.")
    if len(held):
        h = held.iloc[0]
        parts.append(f"An OHID estimate of need is held ({h['value']:,.0f} users aged 15–64, {h['time_period']}) but "
                     "not the number in treatment of the same year.")
    parts.append("Add the area's Fingertips export of indicator 93517 (OCU) or 93532 (alcohol) under "
                 f"'{NAME}: fingertips', or its NDTMS ViewIt export under '{NAME}: viewit', in the CDP's params file.")
    return " ".join(parts)


def notes_text(g: TreatmentGap) -> str:
    """Definitions, pairings and caveats as Markdown, read from the tables."""
    t = g.gap[g.gap["area_role"].isin(["cdp", "england"]) & (g.gap["measure"] == "met need")]
    pairings = sorted(set(zip(t["substance"], t["pairing"])))
    means = need_with_limits()
    means = means[means["need_period"].str.endswith("(mean)")]
    last_sdg = max(ons_sdg.series()["period"], key=lambda p: p[:4])
    lines = [
        "- **Definitions.** Met need = T ÷ P̂ and unmet need = 1 − T ÷ P̂, where T is the number of adults in "
        "structured treatment in the year (NDTMS) and P̂ the estimated number in need. Alcohol: T = adults in "
        "treatment for 'alcohol only' plus 'non-opiate and alcohol'; P̂ = adults (18+) dependent on alcohol "
        "(OHID/University of Sheffield). Opiates and/or crack: P̂ = OHID's estimate of users aged 15–64; T = adults "
        "in treatment citing opiates and/or crack. Limits come from the limits of P̂ only, as OHID computes them: "
        "[1 − T ÷ P̂ lower, 1 − T ÷ P̂ upper].",
        "- **How T and P̂ are paired** (by substance): " + "; ".join(f"{s}: {p}" for s, p in pairings) + ".",
        f"- Estimates of need from {means['period'].min()} onwards are the mean of the OHID estimates of "
        f"{means['need_period'].iloc[0].replace(' (mean)', '')}, as OHID computes its published indicator; a later "
        "year's numbers in treatment set against the latest estimate held are marked as an approximation.",
        "- Compared with England: 'Better' (lower unmet need) or 'Worse' when the 95% limits lie wholly below or "
        "above England's value; rows without limits are not compared.",
        "- Local counts from NDTMS are rounded to 5 and are used as published (never un-rounded).",
        "- The capacity planner treats P̂ as fixed at its latest value; the range of places comes from P̂'s 95% "
        "limits only. Growth assumes steady compound growth from the latest year to the target year.",
    ]
    members = g.gap[(g.gap["area_role"] == "member") & g.gap["geography_basis"].str.startswith("apportioned")]
    if len(members):
        lines.append("- Members created from a former county have the county's figures apportioned by adult "
                     "population, so their met need equals the county's; they are not separate estimates.")
    if not g.settings.viewit:
        lines.append(f"- No NDTMS ViewIt export was given for {md(g.cdp.name)}: numbers in treatment after {last_sdg} "
                     "come only from published Fingertips rows, where held.")
    return "\n".join(lines)


# --- figures and displayed tables -----------------------------------------------------------------------


def alcohol_trend(g: TreatmentGap) -> pd.DataFrame:
    """Alcohol met need by period for the CDP, its region(s) and England, in time order."""
    t = g.gap[(g.gap["substance"] == ALCOHOL) & (g.gap["measure"] == "met need")
              & g.gap["area_role"].isin(["cdp", "region", "england"])]
    return t.sort_values(["area_role", "area_code", "time_period_sortable"], ignore_index=True)


def trend_figure(g: TreatmentGap) -> FigureOutput:
    """Alcohol met need over time with limits where published: the CDP, region(s), England."""
    t = alcohol_trend(g)
    periods = sorted(t["time_period"].unique(), key=lambda p: p[:4])
    x = {p: i for i, p in enumerate(periods)}
    fig, ax = plt.subplots(figsize=(9, 4.4))
    for (role, _code), d in t.groupby(["area_role", "area_code"], sort=False):
        colour = {"cdp": figures.CDP_COLOUR, "england": figures.ENGLAND_COLOUR}.get(role, figures.COMPARATOR_COLOUR)
        style = figures.ENGLAND_LINESTYLE if role == "england" else "-"
        xs = d["time_period"].map(x)
        ax.plot(xs, d["value"], style, color=colour, marker="o", markersize=3, label=d["area_name"].iloc[0])
        band = d["lower_ci"].notna()
        if band.any() and role != "region":
            ax.fill_between(xs[band], d["lower_ci"][band], d["upper_ci"][band], color=colour, alpha=0.15, linewidth=0)
        approx = d["pairing"].str.startswith("approximation")
        if approx.any():
            ax.plot(xs[approx], d["value"][approx], "o", color=colour, markerfacecolor="white", markersize=6)
    ax.set_xticks(range(len(periods)), periods, rotation=45, ha="right")
    ax.set_ylim(bottom=0)
    ax.set_ylabel("Dependent drinkers in treatment (met need, %)")
    ax.set_xlabel("Financial year")
    ax.set_title(f"Met need for alcohol treatment, {g.cdp.name}, region and England (shaded: 95% limits)")
    ax.legend(fontsize=8, loc="upper right")
    fig.text(0.01, 0.005, "Source: ONS SDG 3.5.1; OHID Fingertips 93532; NDTMS ViewIt (open circles: approximations).",
             fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return FigureOutput("treatment_gap_alcohol_trend", fig, data=t)


def unmet_figure(g: TreatmentGap) -> FigureOutput:
    """Latest unmet need for alcohol with limits: the CDP and its comparators, England as a line."""
    now = latest(g.gap, ALCOHOL)
    period = now["time_period"] if now is not None else g.gap["time_period"].max()
    base = g.gap[(g.gap["substance"] == ALCOHOL) & (g.gap["measure"] == "unmet need")]
    sdg = base[base["pairing"].str.startswith("ONS SDG")]
    comparable = sdg["time_period"].max() if len(sdg) else period
    t = base[(base["time_period"] == comparable) & (base["area_role"] != "region")]
    t = t[~((t["area_role"] == "member") & t["geography_basis"].str.startswith("apportioned"))]
    eng = t[t["area_role"] == "england"]["value"]
    shown = t[t["area_role"] != "england"].sort_values("value")
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(shown) + 1.8))
    y = np.arange(len(shown))
    ax.barh(y, shown["value"], color=figures.role_colours(shown["area_role"]))
    has = shown["lower_ci"].notna().to_numpy()
    ax.errorbar(shown["value"][has], y[has], xerr=[(shown["value"] - shown["lower_ci"])[has],
                                                  (shown["upper_ci"] - shown["value"])[has]],
                fmt="none", ecolor="#0b0c0c", capsize=2, linewidth=1)
    if len(eng):
        ax.axvline(eng.iloc[0], color=figures.ENGLAND_COLOUR, linestyle=figures.ENGLAND_LINESTYLE,
                   label=f"England {eng.iloc[0]:.1f}%")
        ax.legend(loc="lower right", fontsize=8)
    ax.set_yticks(y, shown["area_name"])
    ax.set_xlim(0, 100)
    ax.set_xlabel("Dependent drinkers not in treatment (unmet need, %, 95% limits)")
    ax.set_title(f"Unmet need for alcohol treatment, {comparable}: {g.cdp.name} and comparator areas")
    fig.text(0.01, 0.005, "Source: ONS SDG 3.5.1 (NDTMS; OHID/Sheffield estimates).", fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return FigureOutput("treatment_gap_unmet_need", fig, data=t)


def funnel_data(g: TreatmentGap) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Alcohol met need and estimated need of every current area in the latest SDG year, and the funnel."""
    a = alcohol_all_areas()
    year = max(a["period"], key=lambda p: p[:4])
    pts = a[(a["period"] == year) & (a["code"] != geography.ENGLAND_CODE) & a["need"].notna()].copy()
    pts["met"] = 100 * pts["treated"] / pts["need"]
    pts["need_whole"] = pts["need"].round()
    limits = stats.funnel_limits(pts, "treated", "need_whole", statistic="proportion", multiplier=100)
    return pts, limits


def funnel_figure(g: TreatmentGap) -> FigureOutput:
    """Funnel plot: alcohol met need against the estimated number in need, every area, the CDP highlighted."""
    pts, lim = funnel_data(g)
    year = pts["period"].iloc[0]
    fig, ax = plt.subplots(figsize=(8.5, 5))
    ax.plot(lim["population"], lim["lower_3s_limit"], ":", color="#505a5f", label="99.8% limits")
    ax.plot(lim["population"], lim["upper_3s_limit"], ":", color="#505a5f")
    ax.plot(lim["population"], lim["lower_2s_limit"], "--", color="#505a5f", label="95% limits")
    ax.plot(lim["population"], lim["upper_2s_limit"], "--", color="#505a5f")
    ax.axhline(lim["baseline"].iloc[0], color=figures.ENGLAND_COLOUR, linewidth=1,
               label=f"All areas {lim['baseline'].iloc[0]:.1f}%")
    mine = pts["code"].isin(g.cdp.members)
    ax.scatter(pts.loc[~mine, "need"], pts.loc[~mine, "met"], s=14, color=figures.COMPARATOR_COLOUR, label="Other areas")
    ax.scatter(pts.loc[mine, "need"], pts.loc[mine, "met"], s=60, color=figures.CDP_COLOUR, edgecolor="#0b0c0c",
               zorder=3, label=f"{g.cdp.name}" + (" (members)" if len(g.cdp.members) > 1 else ""))
    ax.set_xscale("log")
    ax.set_xlim(pts["need"].min() * 0.7, pts["need"].max() * 1.3)
    ax.set_ylim(0, min(100, max(pts["met"].max(), lim["upper_2s_limit"][lim["population"] >= pts["need"].min()].max()) * 1.15))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("Estimated dependent drinkers (persons, log scale)")
    ax.set_ylabel("In treatment (met need, %)")
    ax.set_title(f"Met need for alcohol treatment against estimated need, every area, {year}")
    ax.legend(fontsize=8, loc="upper right")
    fig.text(0.01, 0.005, "Source: ONS SDG 3.5.1. Limits treat the estimate of need as the denominator.",
             fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    data = pts.assign(area_code=pts["code"], area_role=np.where(mine, "cdp", "neighbour"), time_period=year,
                      measure="met need", value=pts["met"], unit="%")
    return FigureOutput("treatment_gap_funnel", fig, data=data[["area_code", "area_role", "time_period", "measure",
                                                                 "value", "unit", "need", "source"]])


def capacity_figure(g: TreatmentGap) -> FigureOutput:
    """Numbers in treatment now and at the target, with the range from P̂'s limits, by substance."""
    c = g.capacity
    fig, ax = plt.subplots(figsize=(8, 3.6))
    subs = list(dict.fromkeys(c["substance"])) if len(c) else []
    y = np.arange(len(subs))
    for i, s in enumerate(subs):
        d = c[c["substance"] == s].set_index("measure")
        now, at = d.loc["in treatment now"], d.loc["in treatment at target"]
        ax.barh(i + 0.18, now["value"], height=0.34, color=figures.CDP_COLOUR, label="In treatment now" if i == 0 else None)
        ax.barh(i - 0.18, at["value"], height=0.34, color=figures.OKABE_ITO["vermillion"],
                label="Needed at the target" if i == 0 else None)
        if pd.notna(at["lower_ci"]):
            ax.errorbar(at["value"], i - 0.18, xerr=[[at["value"] - at["lower_ci"]], [at["upper_ci"] - at["value"]]],
                        fmt="none", ecolor="#0b0c0c", capsize=3, linewidth=1)
    ax.set_yticks(y, [s.capitalize() for s in subs])
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("Adults in treatment (persons; bar: range from the limits of the estimate of need)")
    target = c["target_met_need"].iloc[0] if len(c) else np.nan
    ax.set_title(f"Treatment places now and at {target:.1f}% met need by {g.settings.target_year}, {g.cdp.name}"
                 if len(c) else f"No capacity estimate can be made for {g.cdp.name} from the data held")
    if len(c):
        ax.legend(fontsize=8, loc="lower right")
    fig.text(0.01, 0.005, "Source: the treatment_gap table (NDTMS; OHID estimates of need).", fontsize=8,
             color="#505a5f")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return FigureOutput("treatment_capacity", fig, data=c)


def gap_output(g: TreatmentGap) -> TableOutput:
    """Latest met and unmet need per substance for the reporting areas (every period in the CSV)."""
    t = g.gap
    rows = []
    for (role, _code, substance), d in t[t["area_role"] != "member"].groupby(["area_role", "area_code", "substance"]):
        rates = d[d["measure"] == "unmet need"].sort_values("time_period_sortable")
        if rates.empty:
            continue
        r = rates.iloc[-1]
        d = d[d["time_period"] == r["time_period"]].set_index("measure")
        rows.append({"_r": tidy.ROLE_ORDER[role], "Area": r["area_name"], "Substance": substance,
                     "Year": r["time_period"],
                     "In treatment": f"{d.loc['in treatment', 'value']:,.0f}",
                     "Estimated need (95% limits)": with_limits(*d.loc["estimated need", ["value", "lower_ci", "upper_ci"]], 0),
                     "Unmet need, % (95% limits)": with_limits(r["value"], r["lower_ci"], r["upper_ci"], 1),
                     "Compared with England": r["compared_to_england"],
                     "Pairing": "approximation" if r["pairing"].startswith("approximation") else "published"})
    view = pd.DataFrame(rows)
    if not view.empty:
        view = view.sort_values(["Substance", "_r", "Area"]).drop(columns="_r").set_index(["Substance", "Area"])
    return TableOutput("treatment_gap", t, view=view,
                       caption="Unmet need for treatment, latest year held for each area: adults in treatment, the "
                               "estimated number in need and the share not in treatment. Every year is in the CSV")


def capacity_output(g: TreatmentGap) -> TableOutput:
    c = g.capacity
    if c.empty:
        view = pd.DataFrame({"Capacity planner": ["no substance has both a number in treatment and an estimate of "
                                                  "need for this CDP"]})
    else:
        c = c.assign(_o=c["measure"].map({m: i for i, m in enumerate(
            ["in treatment now", "in treatment at target", "extra places to reach target",
             "extra places to match England", "annual growth to reach target"])}))
        c = c.sort_values(["substance", "_o"])
        view = pd.DataFrame({"Substance": c["substance"], "Measure": c["measure"].str[:1].str.upper() + c["measure"].str[1:],
                             "Value (range)": [with_limits(v, lo, hi, 1 if u.startswith("%") else 0)
                                               for v, lo, hi, u in zip(c["value"], c["lower_ci"], c["upper_ci"], c["unit"])],
                             "Unit": c["unit"],
                             "Note": c["value_note"]}).set_index(["Substance", "Measure"])
    first = g.capacity.iloc[0] if len(g.capacity) else None
    what = (f"target {first['target_met_need']:.1f}% met need ({first['target_basis']}) by {first['target_year']}; "
            f"latest year {first['time_period']}") if first is not None else "no target could be applied"
    return TableOutput("treatment_capacity", g.capacity, view=view,
                       caption=f"Capacity planner: {what}. Ranges come from the limits of the estimate of need")


CHAPTER = Chapter(
    name=NAME, number=3, title="Treatment gap", notebook="03_treatment_gap",
    datasets=("ons_population", "lookups", "ons_sdg", "ohid_alcohol_dependence", "fingertips", "ndtms_viewit",
              "transcribed", "ons_nearest_neighbours"),
    settings=Settings, build=build, summary=summary_text,
    figures={"treatment_gap_unmet_need": unmet_figure, "treatment_gap_alcohol_trend": trend_figure,
             "treatment_gap_funnel": funnel_figure, "treatment_capacity": capacity_figure},
    tables=("treatment_gap", "treatment_capacity"),
    key_figures=(
        KeyFigure("Unmet need for alcohol treatment (%)", "treatment_gap",
                  {"measure": "unmet need", "substance": ALCOHOL},
                  note="dependent drinkers (18+) not in structured treatment"),
        KeyFigure("Unmet need for opiate/crack treatment (%)", "treatment_gap",
                  {"measure": "unmet need", "substance": OCU},
                  note="only where the CDP's NDTMS ViewIt export was supplied"),
    ),
)
