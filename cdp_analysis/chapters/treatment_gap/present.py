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
from .compute import SUBSTANCES, TreatmentGap, alcohol_trend, latest
from .settings import ALCOHOL, NAME, OCU

# --- key findings and notes -------------------------------------------------------------------------------


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
    lines += _ocu_editions(g)
    return "\n".join(lines)


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

def funnel_figure(g: TreatmentGap) -> FigureOutput:
    """Funnel plot: alcohol met need against the estimated number in need, every area, the CDP highlighted."""
    pts, lim = g.funnel_points, g.funnel_limits
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
    figures.source_line(fig, "Source: ONS SDG 3.5.1. Limits treat the estimate of need as the denominator.")
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
    figures.source_line(fig, "Source: the treatment_gap table (NDTMS; OHID estimates of need).", bottom=0.04)
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
