"""Compute of the treatment-gap chapter: the published data → the chapter's tidy tables and numbers.

Loading through :mod:`cdp_analysis.data`, pairing numbers in treatment with estimates of need (with the edition
of OHID's opiate/crack estimates behind each Fingertips row), the reporting areas' rows (members, CDP, region,
England, comparators), met and unmet need with limits, the one comparison with England (:func:`verdict`), the
funnel of every area, :func:`build` and its result :class:`TreatmentGap`, and the selections the figures plot.
The capacity planner is :mod:`.capacity`. The rule of
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
from ...data import fingertips, ndtms_viewit, ohid_alcohol_dependence, ons_sdg, plausibility, transcribed
from ...data.register import cite
from ...edition_cache import once_per_edition
from ...errors import InputError
from ...memo import last_result, memoised
from ...output import provenance, tidy
from .. import prevalence
from .capacity import capacity_table
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
#: The edition of OHID's opiate/crack estimates behind a Fingertips 93517 row (``need_edition``): OHID revised its
#: method and its estimates; rows of different editions are never compared with each other.
PRE_REVISION, REVISED, EDITION_UNKNOWN = "pre-revision", "revised", "edition not known"
#: How close England's 93517 Denominator must be to OHID's revised estimate of England for the same year for the
#: export to be of the revised edition (relative; the Denominator is the published estimate, rounded).
_EDITION_TOLERANCE = 0.005
#: OHID's revised estimate of England's opiate/crack users, as transcribed from OHID's own page (the measure the
#: prevalence chapter shows).
OCU_REVISED_ENGLAND = "ocu_estimate_revised"


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

    The same for every CDP: built once per data edition (:mod:`cdp_analysis.edition_cache`), and each caller gets
    its own copy."""
    return _alcohol_all_areas().copy()


@once_per_edition(copy=False)
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
    editions = ocu_editions(t)
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
                         "need_edition": [editions.get(src, EDITION_UNKNOWN) if i in editions.get("_ocu", ()) else ""
                                          for i, src in zip(t["indicator_id"], t["source"])],
                         "source": t["source"]}).reset_index(drop=True)


def ocu_editions(t: pd.DataFrame) -> dict:
    """The edition of OHID's opiate/crack estimates behind each Fingertips export holding 93517 rows, by the
    export's ``source``: :data:`REVISED` where England's Denominator for a year equals OHID's revised estimate of
    England for that year (transcribed from OHID's own page, within :data:`_EDITION_TOLERANCE`),
    :data:`PRE_REVISION` where it differs, :data:`EDITION_UNKNOWN` where the export has no England row for a
    year of which the revised estimate is held. One export is one edition. Key ``'_ocu'``: the indicator ids
    this applies to."""
    ocu = [i for i, s in FINGERTIPS_UNMET.items() if s == OCU]
    revised = transcribed.official(OCU_REVISED_ENGLAND, area_code=geography.ENGLAND_CODE)
    revised = revised.set_index("period")["value"]
    out: dict = {"_ocu": tuple(ocu)}
    rows = t[t["indicator_id"].isin(ocu)]
    for source, part in rows.groupby("source", sort=True):
        eng = part[(part["area_code"] == geography.ENGLAND_CODE) & part["time_period"].isin(revised.index)]
        close = (eng["denominator"] / eng["time_period"].map(revised) - 1).abs() <= _EDITION_TOLERANCE
        out[source] = (EDITION_UNKNOWN if eng.empty else REVISED if close.all() else PRE_REVISION if not close.any()
                       else EDITION_UNKNOWN)
    return out


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
    t["need_edition"] = t["need_edition"].fillna("") if "need_edition" in t.columns else ""
    t["pairing"] = np.where(
        approx, "approximation: NDTMS ViewIt numbers in treatment of the year against the latest estimate of need "
                "held (" + t["need_period"].fillna("") + "); OHID's later revisions of the estimate are not in the data",
        "NDTMS ViewIt numbers in treatment; no estimate of need is held for this area")
    return t.drop(columns="need_source").assign(geography_basis=vintage.AS_PUBLISHED)


# --- building the table -----------------------------------------------------------------------------------


def _latest_need(pairs: pd.DataFrame) -> pd.DataFrame:
    """The latest P̂ of each area and substance among published pairs."""
    have = pairs[pairs["need"].notna()].assign(_k=lambda d: d["period"].str[:4]).sort_values(["code", "substance", "_k"])
    out = have.assign(need_edition=have.get("need_edition", pd.Series("", index=have.index)).fillna(""))
    out = out.groupby(["code", "substance"], as_index=False).last()
    return out[["code", "substance", "period", "need", "need_lower", "need_upper", "need_period", "need_edition",
                "source"]].rename(columns={"source": "need_source"})


def area_pairs(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """Every (area, substance, period) pair of T and P̂ for the reporting areas: published pairs first (Fingertips
    rows replace the SDG's for the same area and period), then ViewIt years after them."""
    published = pd.concat([alcohol_all_areas().assign(need_edition=""), fingertips_rows(settings)], ignore_index=True)
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
        limits=["need_lower", "need_upper"], first=["need_period", "pairing", "need_edition"], agg={"rounded_to": "max"},
        basis="sum of the members (no limits: separately modelled areas)")
    sdg = pairs[pairs["pairing"].str.startswith("ONS SDG")]
    regions = aggregate.sum_regions(sdg, groups, keys=["substance", "period"], values=["treated", "need"],
                                    limits=["need_lower", "need_upper"], first=["need_period", "pairing", "source"],
                                    basis="sum of the region's areas (no limits)").assign(need_edition="")
    out = pd.concat([rows[rows["area_role"] != "cdp"], cdp_rows, regions], ignore_index=True)
    out["need_edition"] = out["need_edition"].fillna("")
    return out


def _indicator(substance: str, measure: str) -> tuple[str, str]:
    slug = "alcohol" if substance == ALCOHOL else "ocu"
    who = ("dependent drinkers (18+)" if substance == ALCOHOL else "opiate and/or crack cocaine users (15-64)")
    names = {"in treatment": f"Adults in structured treatment for {'alcohol' if substance == ALCOHOL else 'opiates and/or crack'}",
             "estimated need": f"Estimated number of {who}",
             "met need": f"Proportion of {who} in treatment (met need)",
             "unmet need": f"Proportion of {who} not in treatment (unmet need)"}
    return f"cdp.treatment_gap.{slug}.{geography.slugify(measure)}", names[measure]


def verdict(t: pd.DataFrame, *, value: str = "value", lower: str = "lower_ci", upper: str = "upper_ci",
            england: str = "england", polarity: str = "low_is_good") -> pd.Series:
    """The one rule by which an area's met or unmet need is compared with England's, used by the table's
    ``compared_to_england``, the key findings and the funnel plot's marking of every area.

    'Better' or 'Worse' when the area's 95% limits (from the limits of its estimate of need, as OHID computes
    them) lie wholly on one side of England's value **of the same year** (:func:`cdp_analysis.stats.
    compare_to_benchmark`; ``polarity`` 'low_is_good' for unmet need, 'high_is_good' for met need, which give
    the same verdict); 'Similar' when they include it; 'Not compared' where the area has no limits or
    England's value of the year is not held (``england`` missing). The caller sets ``england`` only where the
    two rows are like with like (same year, same edition of the estimates)."""
    has = t[england].notna() & t[lower].notna() & t[upper].notna() & t[value].notna()
    cmp = stats.compare_to_benchmark(t.assign(**{england: t[england].fillna(t[value])}), value, lower, upper,
                                     england, polarity=polarity)
    return cmp["comparison"].astype(str).where(has, "Not compared")


def _england_alike(rates: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """England's value of the same substance, year and measure for every row, only where England's row is of the
    same edition of the estimates of need (OCU, :func:`ocu_editions`): ``(england, note)``; the note says why a
    row has no England value to be compared with."""
    keys = ["substance", "period", "measure"]
    eng = rates.loc[rates["area_role"] == "england", [*keys, "value", "need_edition", "source"]]
    found = rates[keys].merge(eng, on=keys, how="left", validate="many_to_one", indicator=True).set_axis(rates.index)
    held = found["_merge"] == "both"  # a row with no England row of its own compares with nothing
    value = found["value"].astype(float)
    edition, source = found["need_edition"].where(held, ""), found["source"].where(held, "")
    same = ((edition == rates["need_edition"]) & (edition != EDITION_UNKNOWN)) | (source == rates["source"])
    mixed = value.notna() & ~same
    note = pd.Series(np.where(mixed, "not compared with England: England's row of the year is on another edition "
                                     "of OHID's opiate/crack estimates (" + edition + " against this row's "
                                     + rates["need_edition"] + ")", ""), index=rates.index)
    return value.where(~mixed), note


def _gap_inputs(cdp: Partnership, settings: Settings) -> str:
    """All :func:`gap_table` reads besides the data register's files (whose change empties every cache): the CDP,
    the settings, the size and time of change of the partnership's own exports and of downloaded Fingertips files,
    and the production date. An export edited between two runs in one kernel makes the table again."""
    own = [*settings.files("viewit"), *settings.files("fingertips"), *fingertips.downloaded()]
    return repr((cdp, settings, [(str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in own],
                 plausibility.production_date()))


@last_result(key=_gap_inputs)  # the trends chapter asks for the table the chapter has just made
def gap_table(cdp: Partnership, settings: Settings) -> pd.DataFrame:
    """``treatment_gap``: for the CDP, its members, region(s), England and comparator areas, by substance and
    period: in treatment, estimated need (with limits), met and unmet need (%, with limits), unmet need
    compared with England of the same year by :func:`verdict` (95% limits, lower is better), only where both
    rows rest on the same edition of the estimates of need (``need_edition``)."""
    groups = comparators.reporting_areas(cdp)
    pairs = _combine(area_pairs(cdp, settings), groups, cdp)
    with_need = pairs[pairs["need"].notna() & pairs["treated"].notna()].reset_index(drop=True)
    m = tidy.from_stats(stats.met_need(with_need.assign(_i=with_need.index), "treated", "need", "need_lower",
                                       "need_upper", group_by="_i")).set_index("_i").reindex(with_need.index)
    published = with_need.get("unmet_published", pd.Series(np.nan, index=with_need.index)).notna()
    unmet = np.where(published, with_need.get("unmet_published"), m["unmet_need"])
    unmet_lo = np.where(published, with_need.get("unmet_lower_published"), m["unmet_lower_ci"])
    unmet_hi = np.where(published, with_need.get("unmet_upper_published"), m["unmet_upper_ci"])
    base = with_need[[*_AREA, "substance", "period", "need_period", "need_edition", "pairing", "geography_basis",
                      "source"]]
    above = np.where(m["method"].str.startswith("met need above"), "more adults in treatment than the estimate of need",
                     "")
    rates = []
    for measure, v, lo, hi in (("met need", 100 - unmet, 100 - unmet_hi, 100 - unmet_lo),
                               ("unmet need", unmet, unmet_lo, unmet_hi)):
        rates.append(base.assign(measure=measure, unit="%", value=v, lower_ci=lo, upper_ci=hi,
                                 count=with_need["treated"] if measure == "met need" else with_need["need"] - with_need["treated"],
                                 denominator=with_need["need"], value_note=above))
    rates = pd.concat(rates, ignore_index=True)
    rates["england"], mixed = _england_alike(rates)
    unmet_rows = rates["measure"] == "unmet need"
    rates["compared_to_england"] = np.where(unmet_rows, verdict(rates), "")
    rates.loc[rates["area_role"] == "england", "compared_to_england"] = ""
    rates["value_note"] = [("; ".join(x for x in (a, b) if x)) if u else a
                           for a, b, u in zip(rates["value_note"], mixed, unmet_rows)]
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
                     age_group=out["substance"].map(AGES), compared_to_england=out["compared_to_england"].fillna(""),
                     need_edition=out["need_edition"].fillna(""))
    keep = [*_AREA, "indicator_id", "indicator_name", "time_period", "measure", "substance", "age_group", "value",
            "lower_ci", "upper_ci", "count", "denominator", "unit", "value_note", "compared_to_england", "need_period",
            "need_edition", "pairing", "geography_basis", "source"]
    return tidy.conform(out[keep])


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
    #: :func:`funnel_data`: every area's alcohol met need in the latest SDG year with its :func:`verdict` and
    #: position in the funnel, the funnel's limits (widened for overdispersion), and what they show
    funnel_points: pd.DataFrame = field(repr=False)
    funnel_limits: pd.DataFrame = field(repr=False)
    funnel_summary: dict = field(default_factory=dict, repr=False)
    #: the Fingertips 93517/93532 files in use are the bundle's samples of a few areas (:func:`samples_in_use`)
    samples_only: bool = False

    def tables(self) -> list[pd.DataFrame]:
        return [self.gap, self.capacity]


def samples_in_use() -> bool:
    """Whether the Fingertips exports of the unmet-need indicators read now are samples of a few areas (the
    bundle's), not complete exports (``cdp update --dataset fingertips`` replaces them)."""
    from ...data import register

    used = [register.entry_of(p) for p in register.files_of_kind(fingertips.EXPORT.kind, required=False)
            if fingertips.indicator_of(p) in FINGERTIPS_UNMET]
    return any(e is not None and "(sample)" in e.title for e in used)


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
    points, limits, summary = funnel_data()
    # the CDP's verdict in the funnel's year is the table's (one rule, :func:`verdict`)
    row = gap[(gap["area_role"] == "cdp") & (gap["substance"] == ALCOHOL) & (gap["measure"] == "unmet need")
              & (gap["time_period"] == summary["year"])]
    summary["cdp_verdict"] = row["compared_to_england"].iloc[0] if len(row) else "Not compared"
    mine = points[points["code"].isin(cdp.members)]
    summary["cdp_position"] = sorted(set(mine["funnel_position"].astype(str)))
    return TreatmentGap(cdp=cdp, settings=settings, gap=gap, capacity=capacity, ocu_estimates=ocu,
                        mean_need=need[need["need_period"].str.endswith("(mean)")], last_sdg=last_sdg_period(),
                        funnel_points=points, funnel_limits=limits, funnel_summary=summary,
                        samples_only=samples_in_use())


# --- what the figures plot ---------------------------------------------------------------------------------


def alcohol_trend(g: TreatmentGap) -> pd.DataFrame:
    """Alcohol met need by period for the CDP, its region(s) and England, in time order."""
    t = g.gap[(g.gap["substance"] == ALCOHOL) & (g.gap["measure"] == "met need")
              & g.gap["area_role"].isin(["cdp", "region", "england"])]
    return t.sort_values(["area_role", "area_code", "time_period_sortable"], ignore_index=True)

#: The funnel position (95% limits) that agrees with each :func:`verdict` (met need: higher is better).
_AGREES = {"Better": {"High (0.025)", "High (0.001)"}, "Worse": {"Low (0.025)", "Low (0.001)"},
           "Similar": {"Not significant"}}


@once_per_edition(copy=False)
def _funnel_data() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    a = alcohol_all_areas()
    year = max(a["period"], key=lambda p: p[:4])
    pts = a[(a["period"] == year) & (a["code"] != geography.ENGLAND_CODE) & a["need"].notna()].copy()
    pts["met"] = 100 * pts["treated"] / pts["need"]
    pts["met_lower"], pts["met_upper"] = 100 * pts["treated"] / pts["need_upper"], 100 * pts["treated"] / pts["need_lower"]
    eng = a[(a["code"] == geography.ENGLAND_CODE) & (a["period"] == year)]
    pts["england"] = float(100 * eng["treated"].iloc[0] / eng["need"].iloc[0]) if len(eng) else np.nan
    pts["verdict"] = verdict(pts, value="met", lower="met_lower", upper="met_upper", polarity="high_is_good")
    pts["need_whole"] = pts["need"].round()
    args = dict(statistic="proportion", multiplier=100)
    limits = stats.funnel_limits(pts, "treated", "need_whole", overdispersion=True, **args)
    pts["funnel_position"] = stats.funnel_significance(pts, "treated", "need_whole", overdispersion=True,
                                                       **args)["significance"].astype(str)
    pts["funnel_position_unadjusted"] = stats.funnel_significance(pts, "treated", "need_whole",
                                                                  **args)["significance"].astype(str)
    outside = {"High (0.001)", "Low (0.001)"}
    compared = pts[pts["verdict"].isin(_AGREES)]
    differ = compared[[p not in _AGREES[v] for v, p in zip(compared["verdict"], compared["funnel_position"])]]
    summary = {"year": year, "areas": len(pts), "phi": float(limits["phi"].iloc[0]), "tau2": float(limits["tau2"].iloc[0]),
               "average": float(limits["baseline"].iloc[0]), "england": float(pts["england"].iloc[0]),
               "outside_998_unadjusted": int(pts["funnel_position_unadjusted"].isin(outside).sum()),
               "outside_998": int(pts["funnel_position"].isin(outside).sum()),
               "compared": len(compared), "differ": len(differ)}
    return pts, limits, summary


def funnel_data() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Alcohol met need of every current area in the latest SDG year (the same for every CDP), and its funnel.

    The estimate of need is modelled, not counted, so the limits are widened for overdispersion
    (:func:`cdp_analysis.stats.funnel_limits` with ``overdispersion=True``: Spiegelhalter 2005). Each point
    carries ``verdict``, the table's comparison with England of the same year (:func:`verdict`, met need
    with its 95% limits from the estimate of need), and ``funnel_position``, its place against the adjusted
    limits (``funnel_position_unadjusted``: against the Wilson limits). The summary: ``year``, ``areas``,
    ``phi``, ``tau2``, the funnel's ``average`` and ``england``'s met need (%), the areas outside the 99.8%
    limits with and without the adjustment, and how many of the ``compared`` areas' verdicts ``differ`` from
    their funnel position (the two comparisons differ in benchmark and in the variance each allows)."""
    pts, limits, summary = _funnel_data()
    return pts.copy(), limits.copy(), dict(summary)


def last_sdg_period() -> str:
    """The latest financial year of the ONS SDG 3.5.1 series (after it, numbers in treatment come from
    Fingertips or an analyst's ViewIt export)."""
    return max(ons_sdg.series()["period"], key=lambda p: p[:4])
