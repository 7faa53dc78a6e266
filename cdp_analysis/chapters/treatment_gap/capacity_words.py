"""The capacity planner in words: the key findings' sentences about ``treatment_capacity``, every number read from
the table with its year (people in treatment during the year, the estimate of need carried forward, the planning
target and the other targets: extra people, range, what was clipped at 0, growth). No figures, no tables; the
presentation (:mod:`.present`) places these sentences in the key findings.
"""

from __future__ import annotations

import pandas as pd

from ...areas import current_population
from .capacity import M_EXTRA, M_GROWTH, M_NEED, M_NOW
from .compute import TreatmentGap
from .settings import ALCOHOL, OCU


def round_count(x: float) -> str:
    step = 100 if x >= 10_000 else 10 if x >= 100 else 1
    return f"{round(x / step) * step:,.0f}"


def financial_year(end_year: float) -> str:
    """A financial year from the year it ends: 2030 → '2029/30'."""
    y = int(end_year)
    return f"{y - 1}/{y % 100:02d}"


def _range(r: pd.Series, digits: int = 0) -> str:
    if pd.isna(r["lower_ci"]) or pd.isna(r["upper_ci"]):
        return "no range: the estimate of need has no published limits"
    if digits:
        return f"{r['lower_ci']:.{digits}f}%–{r['upper_ci']:.{digits}f}%"
    return f"{round_count(r['lower_ci'])}–{round_count(r['upper_ci'])}"


def _need_words(period: str) -> str:
    """'the mean of the estimates of 2015/16 to 2017/18' for a mean; 'the estimate for 2020/21' otherwise."""
    if period.endswith("(mean)"):
        return "the mean of the estimates of " + period.replace(" (mean)", "")
    return f"the estimate for {period}"


def _clipped(r: pd.Series) -> str:
    """The clause saying which limits were clipped at 0 (from the row's value_note)."""
    note = r["value_note"]
    if note.startswith("clipped at 0"):
        return " (a value clipped at 0: the target is already met at the central estimate and at the lower limit of need)"
    if note.startswith("lower limit clipped at 0"):
        return "; the lower limit is clipped at 0: at the lower limit of need the target is already met"
    return ""


def capacity_text(g: TreatmentGap, substance: str) -> list[str]:
    """The capacity planner in words for one substance group, every number read from ``treatment_capacity``
    with its year: people in treatment during the year, the need carried forward, the planning target and the
    other targets (extra people, range, what was clipped at 0, growth)."""
    c = g.capacity[g.capacity["substance"] == substance]
    if c.empty:
        return []
    if c["value"].isna().all():
        note = c["value_note"].iloc[0]
        if substance == OCU:  # missing_text has said what is missing and what would complete it
            return ["  The capacity planner therefore plans nothing for opiates and/or crack."]
        return [f"- {substance.capitalize()}: the capacity planner plans nothing: {note}."]
    now, need = c[c["measure"] == M_NOW].iloc[0], c[c["measure"] == M_NEED].iloc[0]
    year = now["time_period"]
    who = "dependent drinkers" if substance == ALCOHOL else "opiate and/or crack cocaine users"
    lines = [f"  Capacity planner ({substance}; people in treatment during the year, not a caseload): "
             f"{now['value']:,.0f} adults were in treatment during {year}. The estimate of need ({_need_words(need['need_period'])}) "
             f"is carried forward by the change in residents aged {need['age_group']} from {need['need_carried_from']} "
             f"to {need['need_carried_to']} ({need['population_change']:+.1f}%), to about {round_count(need['value'])} "
             f"{who} ({_range(need)}), and held there to {financial_year(need['target_year'])}.{_census_step(need)}"]
    extra = c[c["measure"] == M_EXTRA].sort_values("planning_target", ascending=False)
    for _, r in extra.iterrows():
        growth = c[(c["measure"] == M_GROWTH) & (c["target_kind"] == r["target_kind"])].iloc[0]
        england_note = ("; " + r["value_note"].split("; ")[-1]) if "is not held" in r["value_note"] else ""
        target = f"{r['target_name']}, {r['target_met_need']:.1f}%"
        if r["planning_target"] == "yes":
            head = f"The target is {target} ({r['target_basis']}{england_note}). "
            it = "It is"
        else:
            head = f"Against {target}{england_note}, "
            it = "it is"
        still, because = "", ""
        if r["value"] > 0 and r["met_need"] >= r["target_met_need"]:  # met in the year, not on need carried forward
            head += f"which met need in {year} ({r['met_need']:.1f}%) already reached, "
            still = "still "
            because = (f", because need carried forward to {need['need_carried_to']} is {need['population_change']:.1f}% "
                       f"above its {need['need_carried_from']} level")
        if r["value"] == 0:
            upper = (f"; up to about {round_count(r['upper_ci'])} if need is at the upper limit of its estimate"
                     if pd.notna(r["upper_ci"]) and r["upper_ci"] > 0 else "")
            lines.append(f"  {head}{it} already met: no extra people in treatment are needed by "
                         f"{financial_year(r['target_year'])} at the central estimate{_clipped(r)}{upper}.")
            continue
        floor = "; the lower limit is clipped at 0" if pd.notna(growth["lower_ci"]) and growth["lower_ci"] == 0 else ""
        spread = (f" ({growth['lower_ci']:.1f}%–{growth['upper_ci']:.1f}%{floor})" if pd.notna(growth["lower_ci"])
                  and pd.notna(growth["upper_ci"]) else "")
        pace = (f", numbers growing by about {growth['value']:.1f}% a year{spread} over the {growth['growth_years']:.0f} "
                f"years from {year}, the latest year with numbers in treatment held" if pd.notna(growth["value"])
                else f" ({growth['value_note']})")
        reach = "Reaching it" if r["planning_target"] == "yes" else "reaching it"
        lines.append(f"  {head}{reach} by {financial_year(r['target_year'])} {still}needs about **{round_count(r['value'])}** more "
                     f"people in treatment during the year than in {year} ({_range(r)}{_clipped(r)}){because}{pace}.")
    return lines


def _census_step(need: pd.Series) -> str:
    """A caveat when the need is carried forward across the first census-based population estimate ('' if not)."""
    years = [int(str(need[k]).removeprefix("mid-")) for k in ("need_carried_from", "need_carried_to")]
    if not years[0] < current_population.CENSUS_BASED_FROM <= years[1]:
        return ""
    return (f" The estimates from mid-{current_population.CENSUS_BASED_FROM} are based on the latest census and the "
            "earlier ones are not rebased, so part of that change can be the census's correction rather than growth.")


def board_line(capacity: pd.DataFrame, substance: str) -> str:
    """One plain sentence for a board about the treatment places needed for one substance group, read from the
    ``treatment_capacity`` table's planning-target row (the same numbers as :func:`capacity_text`): the extra
    people in treatment during the year, its range, the target and its year; or why no number is planned."""
    c = capacity[capacity["substance"] == substance].copy()
    who = substance.capitalize()
    if c.empty:
        return ""
    for col in ("value", "lower_ci", "upper_ci", "target_met_need", "target_year"):  # text when read from the CSV
        c[col] = pd.to_numeric(c[col].replace("", None), errors="coerce")
    plan = c[(c["measure"] == M_EXTRA) & (c["planning_target"] == "yes")]
    if plan.empty or plan["value"].isna().all():
        why = ("OHID publishes no estimate of need, so no number is planned" if substance not in (ALCOHOL, OCU)
               else "no estimate of need is held for this area, so no number is planned")
        return f"{who}: {why}."
    r = plan.iloc[0]
    when = "" if str(r["target_period"]) in str(r["target_name"]) else f", {r['target_period']}"
    target = f"{r['target_name']} ({r['target_met_need']:.1f}% of need met{when})"
    if r["value"] == 0:
        upper = (f"; up to about {round_count(r['upper_ci'])} more if need is at the top of its estimated range"
                 if pd.notna(r["upper_ci"]) and r["upper_ci"] > 0 else "")
        return f"{who}: the target, {target}, is already met: no extra people in treatment are needed{upper}."
    return (f"{who}: about {round_count(r['value'])} more people in treatment during the year than in "
            f"{r['time_period']} ({_range(r)}) to reach {target} by {financial_year(r['target_year'])}.")
