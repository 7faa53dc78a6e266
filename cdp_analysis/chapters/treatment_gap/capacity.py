"""The capacity planner of the treatment-gap chapter (``treatment_capacity``): how many more people in treatment
during the year would reach a target met need by the target year, and the growth in numbers that gets there.

**The measure.** NDTMS counts the adults in structured treatment at any time in a financial year: *people in
treatment during the year*, not a caseload on one day and not 'places'. The planner's numbers are people in
treatment during the year, named so in every measure.

**Like with like.** For each substance group with both a number in treatment and an estimate of need for the CDP:

* T and the met need are the CDP's latest pair (year Y); England's met need and the comparator areas' are of the
  **same year** Y, on the same edition of the estimates of need (``need_edition``). Where England's year Y is not
  held, the nearest year held is used and the row and the sentence say so.
* The estimate of need P̂ is carried forward from its own mid-year (the middle of the estimates it is the mean of,
  e.g. mid-2016 for the mean of 2015/16–2017/18) to the latest mid-year population held, by the change in the
  residents of its age group (alcohol 18+, opiates/crack 15–64): P̂′ = P̂ · A(latest) / A(need's year), limits
  likewise; then held to the target year. A constant prevalence, not a forecast: the rows say so.
* Targets, one row each (never two rows for one value): England's met need of year Y; the comparator areas'
  upper quartile of met need of year Y; the analyst's ``target_met_need``. The planning target is
  ``target_met_need`` if set, else the benchmark named by ``target_benchmark`` (default: England's, unless the
  CDP already meets it, then the comparators' upper quartile).
* :func:`cdp_analysis.stats.places_needed` gives N* = τP̂′, the extra people max(0, N* − T) with a range from
  P̂′'s limits (a limit clipped at 0 is flagged and said), and growth g = (N*/T)^{1/n} − 1 over the n years from
  year Y (the latest with numbers in treatment) to the target year.

Non-opiate drug use has no published estimate of need: its row says so and nothing is invented; an opiate/crack
row without a pair for the CDP says what would give one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import stats
from ...areas import comparators, current_population, geography
from ...areas.partnerships import Partnership
from ...data import ons_population
from ...data.register import cite
from ...output import tidy
from .settings import ALCOHOL, NAME, NON_OPIATES, OCU, Settings

_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
AGES = {ALCOHOL: "18+", OCU: "15-64"}
#: Substance groups of treatment planning, in order.
PLANNED = (ALCOHOL, OCU, NON_OPIATES)
M_NOW = "people in treatment during the year"
M_NEED = "estimated need carried forward"
M_AT = "people in treatment during the year at the target"
M_EXTRA = "extra people in treatment during the year to reach the target"
M_GROWTH = "annual growth in people in treatment to reach the target"
#: Measures in the order shown.
MEASURES = (M_NOW, M_NEED, M_AT, M_EXTRA, M_GROWTH)
#: Fewest comparator areas with a met need of the year for their upper quartile to be a benchmark.
MIN_COMPARATORS = 4
_SLUG = {ALCOHOL: "alcohol", OCU: "ocu", NON_OPIATES: "non-opiates"}


def end_year(period: str) -> int:
    """The year a financial year ends: '2021/22' → 2022."""
    return int(period[:4]) + 1


def need_mid_year(need_period: str) -> int:
    """The mid-year an estimate of need stands for: its period's (:func:`current_population.mid_year_of`), or for
    the mean of several years' estimates ('2015/16 to 2017/18 (mean)') the middle of the first and last."""
    parts = [current_population.mid_year_of(p.strip()) for p in need_period.replace("(mean)", "").split(" to ")]
    return (parts[0] + parts[-1]) // 2


def _held(year: int) -> int:
    """The held mid-year nearest ``year`` (the earlier on a tie)."""
    return min(ons_population.available_years(), key=lambda y: (abs(y - year), y))


def population_change(codes: list[str], ages: str, from_year: int) -> dict:
    """Residents of ``ages`` in the areas ``codes`` (summed) at the held mid-year nearest ``from_year`` and at the
    latest held: ``from_year``, ``to_year``, ``ratio`` (latest ÷ first) and ``source``."""
    first, last = _held(from_year), max(ons_population.available_years())
    pop = current_population.current_areas(sorted({first, last}))
    pop = pop[pop["code"].isin(codes) & (pop["sex"] == "persons") & current_population.in_age_group(pop["age"], ages)]
    by_year = pop.groupby("year")["population"].sum()
    sources = pop.groupby("year")["source"].first()
    return {"from_year": first, "to_year": last, "ratio": float(by_year[last] / by_year[first]),
            "source": cite(*[sources[y] for y in sorted({first, last})])}


def latest(gap: pd.DataFrame, substance: str, *, area_role: str = "cdp") -> pd.Series | None:
    """The latest met-need row of an area role for a substance (approximations included, as flagged)."""
    t = gap[(gap["area_role"] == area_role) & (gap["substance"] == substance) & (gap["measure"] == "met need")]
    return None if t.empty else t.sort_values("time_period_sortable").iloc[-1]


def _same_year(gap: pd.DataFrame, role: str, now: pd.Series) -> pd.DataFrame:
    """Met-need rows of an area role for the substance of ``now``, on the same edition of the estimates."""
    return gap[(gap["area_role"] == role) & (gap["substance"] == now["substance"]) & (gap["measure"] == "met need")
               & (gap["need_edition"] == now["need_edition"])]


def england_benchmark(gap: pd.DataFrame, now: pd.Series) -> tuple[pd.Series | None, str]:
    """England's met-need row of the year of ``now`` (same edition of the estimates); where that year is not held,
    the nearest year held, with a note saying so."""
    eng = _same_year(gap, "england", now)
    same = eng[eng["time_period"] == now["time_period"]]
    if len(same):
        return same.iloc[0], ""
    if eng.empty:
        return None, f"England's met need is not held on the same estimates of need as {now['time_period']}'s"
    year = int(now["time_period"][:4])
    near = eng.assign(_d=(eng["time_period"].str[:4].astype(int) - year).abs()).sort_values(["_d", "time_period"]).iloc[0]
    return near, (f"England's met need of {now['time_period']} is not held: England's of {near['time_period']} is "
                  "used")


def comparators_upper_quartile(gap: pd.DataFrame, now: pd.Series) -> tuple[float, int]:
    """The comparator areas' (role 'neighbour') upper quartile of met need of the year of ``now`` (same edition;
    linear interpolation between order statistics) and how many areas it is of; NaN with fewer than
    :data:`MIN_COMPARATORS`."""
    comp = _same_year(gap, "neighbour", now)
    values = comp.loc[comp["time_period"] == now["time_period"], "value"].dropna()
    if len(values) < MIN_COMPARATORS:
        return np.nan, len(values)
    return float(np.quantile(values, 0.75)), len(values)


def targets(settings: Settings, now: pd.Series, eng: pd.Series | None, eng_note: str, uq: float, n_comp: int,
            set_name: str) -> list[dict]:
    """The planner's targets for one substance, one per value: England's met need of the year, the comparators'
    upper quartile of the year and the analyst's ``target_met_need``; ``planning`` marks the planning target and
    ``why`` says how it was chosen."""
    found = []
    if eng is not None:
        found.append({"kind": "england", "value": float(eng["value"]), "period": eng["time_period"],
                      "name": f"England's met need of {eng['time_period']}", "note": eng_note})
    if np.isfinite(uq):
        found.append({"kind": "comparators", "value": uq, "period": now["time_period"], "note": "",
                      "name": f"the upper quartile of met need among the {set_name} ({n_comp} areas) in {now['time_period']}"})
    if settings.target_met_need is not None:
        found.append({"kind": "parameter", "value": float(settings.target_met_need), "period": "", "note": "",
                      "name": "the target set in the parameters"})
    kinds = {t["kind"]: t for t in found}
    meets_england = eng is not None and now["value"] >= eng["value"]
    year, met = now["time_period"], f"{now['value']:.1f}%"
    if settings.target_met_need is not None:
        planning, why = "parameter", "set in the parameters: 'target_met_need'"
    elif settings.target_benchmark == "england":
        planning, why = "england", "'target_benchmark' is 'england'"
    elif settings.target_benchmark == "england-unless-met" and not meets_england:
        planning, why = "england", f"met need in {year}, {met}, is below it"
    elif "comparators" in kinds:
        planning = "comparators"
        why = ("'target_benchmark' is 'comparators-upper-quartile'" if settings.target_benchmark != "england-unless-met"
               else f"met need in {year}, {met}, already meets England's of the same year, {eng['value']:.1f}%, at the central estimate")
    else:
        planning = "england"
        why = ((f"although met need in {year}, {met}, already meets it" if meets_england else "the fallback")
               + f": the comparator areas' upper quartile of {year} cannot be set ({n_comp} of them have a met need "
               f"of that year; at least {MIN_COMPARATORS} are needed)")
    unique: list[dict] = []
    for t in found:  # one row per value: a second target of the same value is named on the first's row
        twin = next((u for u in unique if abs(u["value"] - t["value"]) < 1e-9), None)
        if twin is None:
            unique.append(dict(t))
        else:
            twin["name"] += f" (also {t['name']})"
            twin["kind"] = t["kind"] if t["kind"] == planning else twin["kind"]
    for t in unique:
        t["planning"] = t["kind"] == planning
        t["why"] = why if t["planning"] else ""
    return unique


def _clip_note(r: pd.Series) -> str:
    """value_note of an 'extra people' row: which of the value and its limits were clipped at 0."""
    if r["extra_clipped"]:
        upper = ("; the upper limit too" if r["extra_upper_clipped"] else
                 "; above 0 only at the upper limit of need")
        return "clipped at 0: the target is already met at the central estimate and at the lower limit of need" + upper
    if r["extra_lower_clipped"]:
        return "lower limit clipped at 0: at the lower limit of need the target is already met"
    return ""


def _not_planned(now_area: dict, substance: str, period: str, why: str) -> dict:
    """A row without a figure (``status`` 'not supplied', as the schema names it), ``value_note`` saying why and
    what would give one; no source, since no file holds it."""
    return dict(now_area, substance=substance, age_group=AGES.get(substance, "18+"), time_period=period,
                measure=M_EXTRA, unit="persons", value=np.nan, value_note=why, target_kind="", status="not supplied",
                source="")


def capacity_table(cdp: Partnership, settings: Settings, gap: pd.DataFrame) -> pd.DataFrame:
    """``treatment_capacity``, by substance group: people in treatment during the year (T, year Y), the estimate of
    need carried forward, and for each target (one row per value) the people in treatment during the year at the
    target, the extra people to reach it (range from the limits of need; clipping at 0 flagged in ``value_note``)
    and the annual growth that reaches it by ``target_year``; a row saying why where nothing can be planned."""
    cdp_rows = gap[gap["area_role"] == "cdp"]
    area = ({k: cdp_rows[k].iloc[0] for k in _AREA} if len(cdp_rows) else  # no figure of the CDP's own held
            {"area_code": cdp.code, "area_name": cdp.name, "area_type": cdp.area_type, "area_role": "cdp",
             "area_members": cdp.members_text if len(cdp.members) > 1 else ""})
    base = (cdp_rows.sort_values("time_period_sortable")["time_period"].iloc[-1] if len(cdp_rows)
            else gap.sort_values("time_period_sortable")["time_period"].iloc[-1])
    set_name = str(comparators.for_cdp(cdp)["comparator_set"].iloc[0]) if len(comparators.for_cdp(cdp)) else "comparator areas"
    rows = []
    for substance in PLANNED:
        now = latest(gap, substance) if substance != NON_OPIATES else None
        if substance == NON_OPIATES:
            rows.append(_not_planned(area, substance, base, "no published estimate of need for non-opiate drug use "
                                     "(OHID publishes none): no target can be set, and none is invented"))
            continue
        if now is None:
            rows.append(_not_planned(area, substance, base, f"no estimate of need for {substance} is held for "
                                     f"{cdp.name} with its number in treatment of the same year: add its Fingertips "
                                     f"export or NDTMS ViewIt export under '{NAME}' in the params file"))
            continue
        need = cdp_rows[(cdp_rows["substance"] == substance) & (cdp_rows["measure"] == "estimated need")
                        & (cdp_rows["time_period"] == now["time_period"])].iloc[0]
        eng, eng_note = england_benchmark(gap, now)
        uq, n_comp = comparators_upper_quartile(gap, now)
        change = population_change(list(cdp.members), AGES[substance], need_mid_year(now["need_period"]))
        r = change["ratio"]
        carried = {"p": need["value"] * r, "lo": need["lower_ci"] * r, "hi": need["upper_ci"] * r}
        years = settings.target_year - end_year(now["time_period"])
        common = dict(area, substance=substance, age_group=AGES[substance], time_period=now["time_period"],
                      need_period=now["need_period"], need_edition=now["need_edition"], pairing=now["pairing"],
                      need_carried_from=f"mid-{change['from_year']}", need_carried_to=f"mid-{change['to_year']}",
                      population_change=100 * (r - 1), target_year=settings.target_year, growth_years=years,
                      met_need=now["value"],
                      england_met_need=eng["value"] if eng is not None else np.nan,
                      england_period=eng["time_period"] if eng is not None else "",
                      source=cite(now["source"], change["source"], *([eng["source"]] if eng is not None else [])))
        held = (f"{need['value']:,.0f}, the estimate for {now['need_period']}, carried forward to "
                f"{common['need_carried_to']} by the change in residents aged {AGES[substance]} since "
                f"{common['need_carried_from']}, then held to the target year: a constant prevalence, not a forecast")
        rows += [dict(common, measure=M_NOW, unit="persons", value=now["count"], target_kind="",
                      value_note="the latest year with numbers in treatment held"),
                 dict(common, measure=M_NEED, unit="persons", value=carried["p"], lower_ci=carried["lo"],
                      upper_ci=carried["hi"], target_kind="", value_note=held)]
        found = targets(settings, now, eng, eng_note, uq, n_comp, set_name)
        frame = pd.DataFrame({"t": now["count"], "p": carried["p"], "lo": carried["lo"], "hi": carried["hi"],
                              "target": [t["value"] / 100 for t in found], "years": years})
        res = stats.places_needed(frame, "t", "p", "lo", "hi", target="target", years="years")
        for t, (_, p) in zip(found, res.iterrows()):
            tc = dict(common, target_kind=t["kind"], target_name=t["name"], target_met_need=t["value"],
                      target_period=t["period"], planning_target="yes" if t["planning"] else "no", target_basis=t["why"])
            rows += [
                dict(tc, measure=M_AT, unit="persons", value=p["in_treatment_at_target"],
                     lower_ci=t["value"] / 100 * carried["lo"], upper_ci=t["value"] / 100 * carried["hi"],
                     value_note=t["note"]),
                dict(tc, measure=M_EXTRA, unit="persons", value=p["extra_places"], lower_ci=p["extra_lower"],
                     upper_ci=p["extra_upper"], extra_clipped=p["extra_clipped"],
                     value_note="; ".join(x for x in (_clip_note(p), t["note"]) if x)),
                dict(tc, measure=M_GROWTH, unit="% a year", value=p["annual_growth"], lower_ci=p["growth_lower"],
                     upper_ci=p["growth_upper"],
                     value_note="; ".join(x for x in ("" if p["status"] == "more places needed" else
                                                      p["status"].replace("places", "people"), t["note"]) if x)),
            ]
    out = pd.DataFrame(rows)
    out["status"] = out["status"].fillna("computed") if "status" in out.columns else "computed"
    for col in ("target_met_need", "target_year", "growth_years", "met_need", "england_met_need"):
        if col not in out.columns:
            out[col] = np.nan
    for col in ("target_name", "target_period", "planning_target", "target_basis", "need_period", "need_edition",
                "pairing", "need_carried_from", "need_carried_to", "england_period"):
        out[col] = out[col].fillna("") if col in out.columns else ""
    out["indicator_id"] = ["cdp.treatment_gap.capacity." + ".".join(x for x in (_SLUG[s], geography.slugify(m), k) if x)
                           for s, m, k in zip(out["substance"], out["measure"], out["target_kind"])]
    out["indicator_name"] = [f"{m[:1].upper()}{m[1:]}, {s}" + (f" (capacity planner: {n}, {v:.1f}% met need, by {y:.0f})"
                                                              if k else "")
                             for m, s, k, n, v, y in zip(out["measure"], out["substance"], out["target_kind"],
                                                         out["target_name"], out["target_met_need"], out["target_year"])]
    return tidy.conform(out.drop(columns=[c for c in ("extra_clipped",) if c in out.columns]))
