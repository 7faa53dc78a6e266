"""Presentation of the treatment-gap chapter: key findings and notes in words, figures and displayed tables.

Every number is read from the tables :func:`.compute.build` returns or from :mod:`.compute`'s selections of
them (the notes also read the periods of the estimates of need and of the SDG series); nothing here builds a
table. The rule of this module: it imports :mod:`.compute`, never the reverse; another chapter reads this
chapter through :mod:`.compute` (re-exported by the package), never through this module.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ...output import figures, tidy
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput
from ...output.table_html import with_limits
from .capacity import M_AT, M_EXTRA, M_GROWTH, M_NEED, M_NOW, PLANNED, latest
from .capacity_words import board_line, capacity_text, financial_year, round_count
from .compute import SUBSTANCES, TreatmentGap, alcohol_trend
from .settings import ALCOHOL, NAME, NON_OPIATES, OCU

# --- key findings and notes -------------------------------------------------------------------------------


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
            lines += capacity_text(g, substance)
            continue
        unmet = g.gap[(g.gap["area_role"] == "cdp") & (g.gap["substance"] == substance)
                      & (g.gap["measure"] == "unmet need") & (g.gap["time_period"] == now["time_period"])].iloc[0]
        limits = (f"; 95% limits {unmet['lower_ci']:.0f}%–{unmet['upper_ci']:.0f}%" if pd.notna(unmet["lower_ci"])
                  else "; no limits, see the notes")
        approx = " (an approximation: see the pairing in the notes)" if now["pairing"].startswith("approximation") else ""
        cmp = unmet["compared_to_england"]
        versus = {"Better": "lower than England's", "Worse": "higher than England's",
                  "Similar": "not significantly different from England's"}.get(cmp, "not compared with England's")
        eng = g.gap[(g.gap["area_role"] == "england") & (g.gap["substance"] == substance)
                    & (g.gap["measure"] == "unmet need") & (g.gap["time_period"] == now["time_period"])]
        england = f" ({eng['value'].iloc[0]:.0f}%)" if len(eng) and cmp != "Not compared" else ""
        why = f" ({unmet['value_note']})" if "another edition" in unmet["value_note"] else ""
        lines.append(f"- {_in_words(unmet['value'] / 100).capitalize()} {who[substance]} in {md(g.cdp.name)} "
                     f"({unmet['value']:.0f}%{limits}) were not in treatment in {now['time_period']}{approx}; "
                     f"unmet need is {versus}{england} of the same year{why}.")
        lines += capacity_text(g, substance)
    lines += capacity_text(g, NON_OPIATES)
    lines.append(funnel_text(g))
    trend = alcohol_trend(g)
    cdp_trend = trend[(trend["area_role"] == "cdp") & trend["pairing"].str.startswith("ONS SDG")]
    if len(cdp_trend) >= 2:
        first, last = cdp_trend.iloc[0], cdp_trend.iloc[-1]
        lines.append(f"- Alcohol met need in {md(g.cdp.name)} was {first['value']:.1f}% in {first['time_period']} and "
                     f"{last['value']:.1f}% in {last['time_period']} (ONS SDG 3.5.1 series).")
    return "\n".join(lines)


#: The verdict of :func:`.compute.verdict` in words (met need; higher is better).
_VERDICT_WORDS = {"Better": "higher than England's met need of {y} (its 95% limits lie above it)",
                  "Worse": "lower than England's met need of {y} (its 95% limits lie below it)",
                  "Similar": "not significantly different from England's met need of {y} (its 95% limits include it)",
                  "Not compared": "not compared with England's met need of {y} (no limits of need, or no pair of {y})"}


def funnel_text(g: TreatmentGap) -> str:
    """Where the CDP sits in the funnel plot, with the overdispersion that widened the limits, and its verdict
    against England (the table's rule), in words; why the two differ where they do."""
    f = g.funnel_summary
    head = (f"- Funnel plot of alcohol met need in every area, {f['year']} (limits widened for overdispersion because "
            f"the estimate of need is modelled: φ = {f['phi']:.1f}; without the widening {f['outside_998_unadjusted']} "
            f"of {f['areas']} areas would lie outside the 99.8% limits, with it {f['outside_998']}): ")
    if not f["cdp_position"]:
        return head + f"{md(g.cdp.name)} is not in it (no pair of numbers in treatment and need of {f['year']})."
    inside = set(f["cdp_position"]) == {"Not significant"}
    where = "inside the 95% limits" if inside else "outside the 95% limits (" + ", ".join(f["cdp_position"]) + ")"
    verdict = f["cdp_verdict"]
    text = (head + f"{md(g.cdp.name)} lies {where}. As in the table, its met need is "
            + _VERDICT_WORDS.get(verdict, _VERDICT_WORDS["Not compared"]).format(y=f["year"]) + ".")
    agrees = {"Better": {"High (0.025)", "High (0.001)"}, "Worse": {"Low (0.025)", "Low (0.001)"},
              "Similar": {"Not significant"}}
    if verdict in agrees and not set(f["cdp_position"]) <= agrees[verdict]:
        text += (" The two differ: the comparison sets the area's own limits of need against England's value, the "
                 "funnel one between-area variance for every area around the areas' average (see the notes).")
    return text


def missing_text(g: TreatmentGap, substance: str) -> str:
    """What is and is not held for a substance without a met need for the CDP, and what would give one."""
    t = g.gap[(g.gap["area_role"] == "cdp") & (g.gap["substance"] == substance)]
    treated = t[t["measure"] == "in treatment"].sort_values("time_period_sortable")
    held = g.ocu_estimates[(g.ocu_estimates["area_role"] == "cdp") & (g.ocu_estimates["measure"] == "estimated users")
                           & g.ocu_estimates["method"].str.startswith("OHID")] if substance == OCU else pd.DataFrame()
    parts = [f"- {substance.capitalize()}: the unmet need of {md(g.cdp.name)} cannot be shown from the data held."]
    if len(treated):
        last = treated.iloc[-1]
        parts.append(f"Adults in treatment are known ({round_count(last['value'])} in {last['time_period']}, NDTMS) but no "
                     "OHID estimate of need for the area is held.")
    if len(held):
        h = held.iloc[0]
        parts.append(f"An OHID estimate of need is held ({h['value']:,.0f} users aged 15–64, {h['time_period']}) but "
                     "not the number in treatment of the same year.")
    if g.samples_only:
        parts.append("The Fingertips files of indicators 93517 (OCU) and 93532 (alcohol) held are samples of a few "
                     "areas, not this one: `cdp update --dataset fingertips` brings OHID's complete exports.")
    parts.append(f"{'Or a' if g.samples_only else 'A'}dd the area's Fingertips export under '{NAME}: fingertips', or its "
                 f"NDTMS ViewIt export under '{NAME}: viewit', in the CDP's params file.")
    return " ".join(parts)


def notes_text(g: TreatmentGap) -> str:
    """Definitions, pairings and caveats as Markdown, read from the tables."""
    t = g.gap[g.gap["area_role"].isin(["cdp", "england"]) & (g.gap["measure"] == "met need")]
    pairings = sorted(set(zip(t["substance"], t["pairing"])))
    means = g.mean_need
    last_sdg = g.last_sdg
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
        "- Compared with England (one rule for the table, the key findings and the funnel plot's markers): 'Better' "
        "(lower unmet need) or 'Worse' when the area's 95% limits, which come from the limits of its estimate of need, "
        "lie wholly below or above England's value of the same year, 'Similar' when they include it; rows without "
        "limits, and opiate/crack rows whose England row of the year rests on another edition of OHID's estimates, "
        "are not compared.",
        "- Local counts from NDTMS are rounded to 5 and are used as published (never un-rounded).",
        "- **Capacity planner.** It counts people in treatment during the year (everyone in structured treatment at "
        "any time in the financial year, as NDTMS counts them), not a caseload on one day. England's and the "
        "comparator areas' met need are of the same year as the CDP's (where England's is not held, the row says "
        "which year is used). The estimate of need is carried forward from its own mid-year to the latest mid-year "
        "population held by the change in residents of its age group (alcohol 18+, opiates/crack 15–64), then held "
        "to the target year: a constant prevalence, not a forecast. One row per target: the planning target "
        "(the parameter 'target_met_need' if set, else England's met need of the year unless the CDP already meets "
        "it, then the comparator areas' upper quartile of the year: 'target_benchmark'), and the other benchmarks "
        "beside it. The range of extra people comes from the limits of the estimate of need only; a limit below 0 "
        "(the target already met at that limit) is clipped at 0 and the table and the sentence say so. Growth is "
        "steady compound growth from the latest year with numbers in treatment held to the target year. Non-opiate "
        "drug use has no published estimate of need, so no target is set for it.",
        _funnel_note(g),
    ]
    members = g.gap[(g.gap["area_role"] == "member") & g.gap["geography_basis"].str.startswith("apportioned")]
    if len(members):
        lines.append("- Members created from a former county have the county's figures apportioned by adult "
                     "population, so their met need equals the county's; they are not separate estimates.")
    if not g.settings.viewit:
        lines.append(f"- No NDTMS ViewIt export was given for {md(g.cdp.name)}: numbers in treatment after {last_sdg} "
                     "come only from published Fingertips rows, where held.")
    lines += _ocu_editions(g)
    return "\n".join(lines)


def _funnel_note(g: TreatmentGap) -> str:
    f = g.funnel_summary
    return (f"- **Funnel plot** ({f['year']}): met need of every area against its estimated need. The estimate is "
            "modelled, not counted, so the limits are widened for overdispersion (Spiegelhalter's method for "
            "funnel plots): the areas' "
            f"z-scores on the arcsine scale, winsorised at 10%/90%, give a dispersion ratio φ = {f['phi']:.1f} (1 would "
            f"be binomial variation alone) and a between-area variance τ² = {f['tau2']:.5f}, added to each area's own. "
            f"Without the widening {f['outside_998_unadjusted']} of {f['areas']} areas lie outside the 99.8% limits; "
            f"with it, {f['outside_998']}. The funnel is centred on the average of the areas plotted "
            f"({f['average']:.1f}%); England's met need of {f['year']} is {f['england']:.1f}%. The markers show the "
            "table's comparison with England (each area's own 95% limits against England's value); the limits show "
            f"the area's place among all areas. The two can differ, as they do for {f['differ']} of {f['compared']} "
            "areas: the comparison uses each area's own limits of need and England's value, the funnel one "
            "between-area variance for every area and the areas' average.")


def _ocu_editions(g: TreatmentGap) -> list[str]:
    """A note where England's opiate/crack need in Fingertips 93517 and OHID's revised estimate in chapter 2
    differ for the same year (the Fingertips rows predate OHID's revision)."""
    need = g.gap[(g.gap["area_role"] == "england") & (g.gap["substance"] == OCU) & (g.gap["measure"] == "estimated need")]
    revised = g.ocu_estimates[(g.ocu_estimates["area_role"] == "england")
                              & (g.ocu_estimates["measure"] == "estimated users")].set_index("time_period")["value"]
    both = need[need["time_period"].isin(revised.index)]
    if both.empty:
        return []
    r = both.iloc[-1]
    return [f"- Opiate/crack need in Fingertips 93517 uses OHID's estimates made before its revised method: England's "
            f"{r['time_period']} need there is {r['value']:,.0f}, while the prevalence chapter shows OHID's revised "
            f"estimate for the same year, {revised[r['time_period']]:,.0f}. Met and unmet need are shown as OHID "
            "publishes them, on the earlier estimates; the two figures are not comparable."]


# --- figures and displayed tables -----------------------------------------------------------------------


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
    figures.source_line(fig, "Source: ONS SDG 3.5.1; OHID Fingertips 93532; NDTMS ViewIt (open circles: "
                             "approximations).")
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
    figures.source_line(fig, "Source: ONS SDG 3.5.1 (NDTMS; OHID/Sheffield estimates).")
    return FigureOutput("treatment_gap_unmet_need", fig, data=t)

#: Marker of each verdict (shape and colour, so that it does not rest on colour alone).
_VERDICT_MARKS = {"Better": ("^", figures.OKABE_ITO["bluish green"]), "Similar": ("o", figures.COMPARATOR_COLOUR),
                  "Worse": ("v", figures.OKABE_ITO["vermillion"]), "Not compared": ("x", figures.COMPARATOR_COLOUR)}


def funnel_figure(g: TreatmentGap) -> FigureOutput:
    """Funnel plot: alcohol met need against the estimated number in need, every area, limits widened for
    overdispersion; each area marked by the table's comparison with England, the CDP highlighted with its 95%
    limits."""
    pts, lim, f = g.funnel_points, g.funnel_limits, g.funnel_summary
    year = f["year"]
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    ax.plot(lim["population"], lim["lower_3s_limit"], ":", color="#505a5f", label="99.8% limits (overdispersion)")
    ax.plot(lim["population"], lim["upper_3s_limit"], ":", color="#505a5f")
    ax.plot(lim["population"], lim["lower_2s_limit"], "--", color="#505a5f", label="95% limits (overdispersion)")
    ax.plot(lim["population"], lim["upper_2s_limit"], "--", color="#505a5f")
    ax.axhline(f["average"], color=figures.ENGLAND_COLOUR, linewidth=1, label=f"Average of all areas {f['average']:.1f}%")
    mine = pts["code"].isin(g.cdp.members)
    for v, (marker, colour) in _VERDICT_MARKS.items():
        d = pts[~mine & (pts["verdict"] == v)]
        if len(d):
            ax.scatter(d["need"], d["met"], s=16, marker=marker, color=colour, label=f"{v} (vs England {year})")
    d = pts[mine]
    ax.errorbar(d["need"], d["met"], yerr=[d["met"] - d["met_lower"], d["met_upper"] - d["met"]], fmt="none",
                ecolor="#0b0c0c", capsize=3, linewidth=1, zorder=3)
    ax.scatter(d["need"], d["met"], s=70, marker={"Better": "^", "Worse": "v"}.get(f["cdp_verdict"], "o"),
               color=figures.CDP_COLOUR, edgecolor="#0b0c0c", zorder=4,
               label=f"{g.cdp.name}" + (" (members)" if len(g.cdp.members) > 1 else "") + f": {f['cdp_verdict']}, 95% limits")
    ax.set_xscale("log")
    ax.set_xlim(pts["need"].min() * 0.7, pts["need"].max() * 1.3)
    shown = lim["population"] >= pts["need"].min()
    ax.set_ylim(0, min(100, max(pts["met"].max(), d["met_upper"].max(), lim["upper_3s_limit"][shown].max()) * 1.1))
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("Estimated dependent drinkers (persons, log scale)")
    ax.set_ylabel("In treatment (met need, %)")
    ax.set_title(f"Met need for alcohol treatment against estimated need, every area, {year}")
    ax.legend(fontsize=7, loc="upper right")
    figures.source_line(fig, f"Source: ONS SDG 3.5.1. Limits widened for overdispersion (φ = {f['phi']:.1f}; "
                             f"{lim['method'].iloc[0]}): the estimate of need is modelled. Markers: the table's comparison "
                             f"with England's {year} met need by each area's own 95% limits; it differs from the "
                             f"funnel position for {f['differ']} of {f['compared']} areas (see the notes).", bottom=0.1,
                        wrap=True)
    data = pts.assign(area_code=pts["code"], area_role=np.where(mine, "cdp", "neighbour"), time_period=year,
                      measure="met need", value=pts["met"], lower_ci=pts["met_lower"], upper_ci=pts["met_upper"],
                      unit="%", compared_to_england=pts["verdict"])
    return FigureOutput("treatment_gap_funnel", fig, finding=figures.plain(funnel_text(g)), data=data[["area_code", "area_role", "time_period", "measure",
                                                                 "value", "lower_ci", "upper_ci", "unit", "need",
                                                                 "compared_to_england", "funnel_position",
                                                                 "funnel_position_unadjusted", "source"]])


def capacity_figure(g: TreatmentGap) -> FigureOutput:
    """People in treatment during the latest year and at each target (range from the limits of the estimate of
    need carried forward), by substance group."""
    c = g.capacity[g.capacity["value"].notna()]
    now = c[c["measure"] == M_NOW]
    at = c[c["measure"] == M_AT].sort_values(["substance", "planning_target"], ascending=[True, False])
    bars = [(f"{r['substance'].capitalize()}: in treatment during {r['time_period']}", r["value"], np.nan, np.nan,
             figures.CDP_COLOUR) for _, r in now.iterrows()]
    short = {"england": "England, {}", "comparators": "comparators' upper quartile, {}", "parameter": "parameters"}
    bars += [(f"{r['substance'].capitalize()}: at {r['target_met_need']:.1f}% "
              f"({short[r['target_kind']].format(r['target_period'])})" + (": the target" if r["planning_target"] == "yes"
                                                                           else ""),
              r["value"], r["lower_ci"], r["upper_ci"],
              figures.OKABE_ITO["vermillion"] if r["planning_target"] == "yes" else figures.COMPARATOR_COLOUR)
             for _, r in at.iterrows()]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(bars) + 1.8))
    y = np.arange(len(bars))[::-1]
    for yi, (_label, v, lo, hi, colour) in zip(y, bars):
        ax.barh(yi, v, color=colour, height=0.6)
        if pd.notna(lo) and pd.notna(hi):
            ax.errorbar(v, yi, xerr=[[v - lo], [hi - v]], fmt="none", ecolor="#0b0c0c", capsize=3, linewidth=1)
    ax.set_yticks(y, [b[0] for b in bars], fontsize=8)
    ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("Adults in treatment during the year (persons; bar: range from the limits of need)")
    first = c.iloc[0] if len(c) else None
    ax.set_title(f"People in treatment, {first['time_period']}, and needed by {financial_year(first['target_year'])}: "
                 f"{g.cdp.name}" if first is not None and pd.notna(first["target_year"])
                 else f"No capacity estimate can be made for {g.cdp.name} from the data held")
    figures.source_line(fig, "Source: the treatment_gap table (NDTMS; OHID estimates of need carried forward by ONS "
                             "mid-year population).", bottom=0.04)
    lines = [board_line(g.capacity, s) for s in dict.fromkeys(g.capacity["substance"])]
    return FigureOutput("treatment_capacity", fig, data=g.capacity,
                        finding=f"{g.cdp.name}: " + " ".join(line for line in lines if line).rstrip("."))


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
                               "estimated number in need and the share not in treatment; compared with England by the "
                               "area's 95% limits against England's value of the same year (the funnel plot marks "
                               "areas by the same rule). Every year is in the CSV")


def capacity_output(g: TreatmentGap) -> TableOutput:
    """One row per substance group and target: the people in treatment during the year at the target, the extra
    people to reach it and the growth, each with its range; a row saying why where nothing is planned."""
    c = g.capacity
    rows = []
    for substance in PLANNED:
        d = c[c["substance"] == substance]
        if d.empty:
            continue
        if d["value"].isna().all():
            rows.append({"Substance": substance, "Target": "none", "People at the target": "", "Extra people": "",
                         "Growth, % a year": "", "Note": d["value_note"].iloc[0]})
            continue
        now, need = d[d["measure"] == M_NOW].iloc[0], d[d["measure"] == M_NEED].iloc[0]
        rows.append({"Substance": substance, "Target": f"in treatment during {now['time_period']}",
                     "People at the target": f"{now['value']:,.0f}", "Extra people": "", "Growth, % a year": "",
                     "Note": f"need {with_limits(need['value'], need['lower_ci'], need['upper_ci'], 0)}, carried "
                             f"forward to {need['need_carried_to']} ({need['population_change']:+.1f}% residents aged "
                             f"{need['age_group']} since {need['need_carried_from']}) and held"})
        extra = d[d["measure"] == M_EXTRA].sort_values("planning_target", ascending=False)
        for _, r in extra.iterrows():
            at = d[(d["measure"] == M_AT) & (d["target_kind"] == r["target_kind"])].iloc[0]
            growth = d[(d["measure"] == M_GROWTH) & (d["target_kind"] == r["target_kind"])].iloc[0]
            rows.append({"Substance": substance,
                         "Target": f"{r['target_met_need']:.1f}%: {r['target_name']}"
                                   + (" (the target)" if r["planning_target"] == "yes" else ""),
                         "People at the target": with_limits(at["value"], at["lower_ci"], at["upper_ci"], 0),
                         "Extra people": with_limits(r["value"], r["lower_ci"], r["upper_ci"], 0),
                         "Growth, % a year": with_limits(growth["value"], growth["lower_ci"], growth["upper_ci"], 1),
                         "Note": "; ".join(x for x in (r["value_note"], growth["value_note"])
                                           if x and x != "target already met")})
    view = pd.DataFrame(rows).set_index(["Substance", "Target"]) if rows else pd.DataFrame(
        {"Capacity planner": ["no substance has both a number in treatment and an estimate of need for this CDP"]})
    first = c[c["target_year"].notna()].iloc[0] if c["target_year"].notna().any() else None
    what = (f"extra people in treatment during the year (not a caseload) to reach each target by "
            f"{financial_year(first['target_year'])}, from {first['time_period']}, the latest year held"
            if first is not None else "no target could be applied")
    return TableOutput("treatment_capacity", c, view=view,
                       caption=f"Capacity planner: {what}. Targets are met need of the same year; ranges come from "
                               "the limits of the estimate of need carried forward (a limit below 0 is clipped at 0 "
                               "and the note says so)")
