"""Chapter 5, places and inequalities: presentation of the computed tables (no computation of tables here).

Key findings and notes as Markdown, the funnel of the places and the gradient chart
(:class:`~cdp_analysis.output.notebook.FigureOutput`), and the tables as shown
(:class:`~cdp_analysis.output.notebook.TableOutput`). Every number is read from a
:class:`~.compute.PlacesAndInequalities`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ... import stats
from ...output import figures
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput
from ...output.table_html import with_limits
from .compute import (
    ALCOHOL,
    ASMR,
    CDP,
    DEATHS,
    DRUG_MISUSE,
    DRUG_POISONING,
    ENGLAND,
    IMD_RANK,
    IMD_SCORE,
    ISR,
    NOT_PUBLISHED,
    PLACE,
    POPULATION,
    RATIO,
    RII,
    SHARE_20,
    SII,
    TENTH_RATE,
    UNRELIABLE,
    PlacesAndInequalities,
)

CAUSES = ("drug poisoning", "drug misuse")
_WORDS = {"Worse": "higher", "Better": "lower"}


def _rows(r: PlacesAndInequalities, **where) -> pd.DataFrame:
    t = r.places
    for col, v in where.items():
        t = t[t[col] == v]
    return t


def _one(r: PlacesAndInequalities, **where):
    t = _rows(r, **where)
    return t.iloc[0] if len(t) else None


def _gradient(r: PlacesAndInequalities, cause: str, measure: str):
    g = r.gradient[(r.gradient["cause"] == cause) & (r.gradient["measure"] == measure)]
    return g.iloc[0] if len(g) else None


def _rank_measure(r: PlacesAndInequalities) -> str:
    return next(m for m in r.places["measure"].unique() if m.startswith(IMD_RANK))


def standing_out(r: PlacesAndInequalities, cause: str) -> str:
    """The places whose deaths, age for age, differ from England's (their ratio's own 95% limits exclude 1), in
    one sentence naming the period, with how sure (also outside the 99.8% limits); '' when none differs."""
    t = _rows(r, measure=RATIO, cause=cause, area_role=PLACE if r.has_places else CDP)
    parts = []
    for verdict in ("Worse", "Better"):
        d = t[t["compared_to_england"] == verdict].sort_values("value", ascending=verdict == "Better")
        if d.empty:
            continue
        names = [f"{md(p.area_name)} ({with_limits(p.value, p.lower_ci, p.upper_ci, 2)}; {p['count']:,.0f} deaths"
                 + ("; outside the 99.8% limits too" if p.lower_ci_998 > 1 or p.upper_ci_998 < 1 else "") + ")"
                 for _, p in d.iterrows()]
        parts.append(f"{_WORDS[verdict]} in " + ", ".join(names))
    if not parts:
        return ""
    period = t["time_period"].iloc[0]
    return (f"Age for age, deaths related to {cause} in {period} were " + "; and ".join(parts)
            + " (ratio of observed to expected deaths at England's rates, 95% limits).")


def gradient_sentence(r: PlacesAndInequalities, cause: str) -> str:
    """The slope and relative index of one measure across England, in words, with the period and limits."""
    s, x = _gradient(r, cause, SII), _gradient(r, cause, RII)
    if s is None:
        return ""
    if s["lower_ci"] > 0:
        shape = "were higher the more deprived the area"
    elif s["upper_ci"] < 0:
        shape = "were lower the more deprived the area"
    else:
        shape = "showed no gradient with deprivation that the 95% limits can separate from none"
    basis = ("districts and unitaries ranked by the IoD" if cause != ALCOHOL else
             "districts and unitaries in Fingertips' deprivation deciles")
    return (f"Across England's {basis}, {cause} in {s['time_period']} {shape}: the fitted rate at the most deprived "
            f"end was {abs(s['value']):.1f} deaths per 100,000 a year {'higher' if s['value'] > 0 else 'lower'} than "
            f"at the least deprived end (slope index of inequality, 95% limits {s['lower_ci']:.1f} to "
            f"{s['upper_ci']:.1f}), {x['value']:.1f} times as high (relative index, {x['lower_ci']:.1f} to "
            f"{x['upper_ci']:.1f}).")


def summary_text(r: PlacesAndInequalities) -> str:
    """The chapter's key findings as Markdown, every number read from the tables."""
    lines = []
    rank = _rank_measure(r)
    if not r.has_places:
        lines.append(f"- {md(r.cdp.name)} is one area with no districts below it today, so this chapter shows it "
                     "as one place against England.")
    else:
        kind = "districts" if set(r.places_list["kind"]) == {"district"} else "unitary authorities"
        ranks = _rows(r, measure=rank, area_role=PLACE).sort_values("value")
        first, last = ranks.iloc[0], ranks.iloc[-1]
        lines.append(f"- {md(r.cdp.name)} has {len(r.places_list)} {kind}. On the Index of Multiple Deprivation "
                     f"{first['time_period']}, the most deprived is **{md(first['area_name'])}** (rank "
                     f"{first['value']:.0f} of {rank.split('(of ')[1].rstrip(')')} districts and unitaries; 1 = most "
                     f"deprived) and the least **{md(last['area_name'])}** (rank {last['value']:.0f}).")
    share = _one(r, measure=SHARE_20, area_role=CDP)
    if share is not None:
        lines.append(f"- {share['value']:.1f}% of {md(r.cdp.name)}'s small areas ({share['count']:.0f} of "
                     f"{share['denominator']:.0f}) are among England's most deprived 20% (IMD {share['time_period']}).")
    found = [s for s in (standing_out(r, c) for c in CAUSES) if s]
    who = "No place's deaths" if r.has_places else f"{md(r.cdp.name)}'s deaths"
    lines += [f"- {s}" for s in found] or [
        f"- {who} related to drug poisoning or drug misuse in {r.period} do not differ from England's, age for age, "
        "by their 95% limits."]
    for cause in (DRUG_POISONING, DRUG_MISUSE, ALCOHOL):
        s = gradient_sentence(r, cause)
        if s:
            lines.append(f"- {s}")
    return "\n".join(lines)


def notes_text(r: PlacesAndInequalities) -> str:
    """Definitions, methods and caveats as Markdown, read from the tables."""
    a = _one(r, measure=RATIO, cause="drug misuse", area_role=CDP)
    sii = _gradient(r, DRUG_MISUSE, SII)
    dep = r.places.loc[r.places["measure"] == IMD_SCORE, "time_period"]
    dep = dep.iloc[0] if len(dep) else ""
    small = _rows(r, measure=SHARE_20)["time_period"].iloc[0]
    alcohol = r.gradient.loc[r.gradient["cause"] == ALCOHOL, "category_type"]
    alcohol = alcohol.iloc[0] if len(alcohol) else ""
    lines = [
        f"- **Deaths as ONS publishes them** ({r.period}, deaths registered in the three years, persons): the "
        "age-standardised rate per 100,000 (the European Standard Population, ESP2013) with ONS's 95% limits. ONS publishes "
        f"no rate below 10 deaths ('{NOT_PUBLISHED}': shown as no value with ONS's reason) and flags a rate from 10 "
        f"to 19 deaths as unreliable ('{UNRELIABLE}', the `reliability_flag` column).",
        f"- **Age for age** (the indirectly standardised ratio): the deaths of each place against those expected had "
        f"England's age-specific rates of the same years applied to its population by age ({a['value_note']}); 1 = "
        "England. It exists for every place, including those without a published rate, so the places are compared "
        "on it: with England (the ratio's own 95% limits against 1) and, indicatively, with the rest of the "
        "partnership (its other places' deaths over their expected deaths, taken as fixed). Exact Poisson limits "
        "below 10 deaths, Byar's above. The indirectly standardised rate is the ratio times England's crude rate "
        "(not ONS's age-standardised rate, which uses the European Standard Population).",
        f"- **Deprivation**: the IMD average score and rank of each district and unitary are from the English Indices "
        f"of Deprivation {dep} (districts as the IoD names them). The shares of small areas in England's most deprived "
        f"10% and 20% are from IMD {small} File 1 (each small area's national decile), because the newer small-area "
        "file is not held; small areas hold similar numbers of residents (about 1,000 to 3,000), so a share of small "
        "areas approximates a share of the population.",
    ]
    pop = _one(r, measure=POPULATION, area_role=ENGLAND)
    lines.append(f"- Population is the newest mid-year held ({pop['time_period']}), for planning; the expected deaths "
                 f"use the population of the deaths' period ({a['value_note'].split('; ')[-1]}).")
    share = _misuse_share(r)
    if share:
        lines.append(share)
    if len(r.rebuilt):
        for x in r.rebuilt.itertuples():
            lines.append(f"- {md(x.name)} did not exist when ONS published {r.period}: its deaths are the sum of the "
                         f"areas it replaced ({x.predecessors}), exactly; ONS published no rate for it.")
    if sii is not None:
        lines.append(
            f"- **The slope of harm** ({sii['category_type']}): England's {len(r.gradient[(r.gradient['cause'] == DRUG_MISUSE) & (r.gradient['measure'] == TENTH_RATE)])} "
            "groups of districts and unitaries, ranked by IMD average score. The slope index of inequality (SII) is "
            "the difference between the fitted rates at the most and least deprived ends, from a regression of each "
            "tenth's rate on its population-weighted rank; the relative index (RII) their ratio. How: " + sii["value_note"]
            + ". The drug-death tenths are rated age for age as above (ONS publishes district deaths for all ages "
            f"only); alcohol-specific mortality uses Fingertips' own deprivation deciles ({alcohol}) and directly "
            "standardised rates of the latest period held, so its slope is not on the same deprivation ranking or "
            "period as the drug deaths'. The slope is between groups of whole districts (an ecological measure): "
            "deprivation varies within districts too, so it understates the gap between deprived and affluent "
            "neighbourhoods.")
    return "\n".join(lines)


def _misuse_share(r: PlacesAndInequalities) -> str:
    """A note on the share of drug-poisoning deaths ONS classes as drug misuse, the partnership's and England's, when
    they differ by more than a tenth of England's (how deaths are recorded affects the misuse comparisons)."""
    def share(role):
        d = _one(r, measure=DEATHS, cause="drug misuse", area_role=role)
        p = _one(r, measure=DEATHS, cause="drug poisoning", area_role=role)
        return None if d is None or p is None or not p["value"] else (d["value"], p["value"])
    own, eng = share(CDP), share(ENGLAND)
    if own is None or eng is None:
        return ""
    a, b = own[0] / own[1], eng[0] / eng[1]
    if abs(a - b) <= 0.1 * b:
        return ""
    return (f"- Drug misuse is the part of drug poisoning that ONS classes as misuse from what the coroner records: "
            f"{100 * a:.0f}% of {md(r.cdp.name)}'s drug-poisoning deaths in {r.period} ({own[0]:.0f} of {own[1]:.0f}), "
            f"against {100 * b:.0f}% of England's. A different share can reflect how deaths are recorded as well as "
            "how many there are, so read the places' drug-misuse comparisons beside their drug-poisoning ones.")


# --- tables as shown --------------------------------------------------------------------------------------------


def places_output(r: PlacesAndInequalities) -> TableOutput:
    """One row per place, then the partnership and England: population, deprivation and deaths by cause."""
    t = r.places
    rank = _rank_measure(r)
    order = {PLACE: 0, CDP: 1, ENGLAND: 2}
    areas = t.drop_duplicates("area_code").assign(_o=lambda d: d["area_role"].map(order)).sort_values(["_o", "area_name"])

    first = _first_rows(t, ["area_code", "measure", "cause"])

    def cell(code, measure, cause="", digits=1, limits=False):
        x = first.get((code, measure, cause))
        if x is None:
            return ""
        if pd.isna(x["value"]):
            return x["reliability_flag"] or "–"
        text = with_limits(x["value"], x["lower_ci"], x["upper_ci"], digits) if limits else f"{x['value']:,.{digits}f}"
        return text + (f" {x['reliability_flag']}" if x["reliability_flag"] else "")

    def verdict(code, cause, column):
        x = first.get((code, RATIO, cause))
        return "" if x is None else x[column]

    pop = _one(r, measure=POPULATION, area_role=ENGLAND)
    view = pd.DataFrame({"Area": areas["area_name"].to_numpy()})
    codes = areas["area_code"].to_numpy()
    dep_period = t.loc[t["measure"] == IMD_SCORE, "time_period"]
    dep_period = dep_period.iloc[0] if len(dep_period) else ""
    share_period = _rows(r, measure=SHARE_20)["time_period"]
    view[f"Population, {pop['time_period']}"] = [cell(c, POPULATION, digits=0) for c in codes]
    view[f"IMD {dep_period} score"] = [cell(c, IMD_SCORE) for c in codes]
    view[f"IMD {dep_period} rank {rank[len(IMD_RANK):].strip()}"] = [cell(c, rank, digits=0) for c in codes]
    view[f"% small areas in most deprived 20% (IMD {share_period.iloc[0] if len(share_period) else ''})"] = [
        cell(c, SHARE_20) for c in codes]
    for cause in CAUSES:
        short = cause.replace("drug ", "")
        view[f"{short.capitalize()}: deaths {r.period}"] = [cell(c, DEATHS, cause, digits=0) for c in codes]
        view[f"{short.capitalize()}: ONS age-standardised rate per 100,000 (ESP2013)"] = [
            cell(c, ASMR, cause, limits=True) for c in codes]
        view[f"{short.capitalize()}: ratio to England, age for age"] = [cell(c, RATIO, cause, digits=2, limits=True)
                                                                        for c in codes]
        view[f"{short.capitalize()}: vs England"] = [verdict(c, cause, "compared_to_england") for c in codes]
        if len(r.places_list) > 1:
            view[f"{short.capitalize()}: vs rest of partnership"] = [verdict(c, cause, "compared_to_rest_of_cdp")
                                                                     for c in codes]
    return TableOutput("places", t, view=view.set_index("Area"),
                       caption=f"Places of {r.cdp.name}: population, deprivation and deaths related to drug poisoning "
                               f"and drug misuse, {r.period}. ONS rate as published ('u' unreliable, ':' not "
                               "published); ratio: observed over expected deaths at England's age-specific rates "
                               "(95% limits; 1 = England); compared by the ratio's 95% limits (lower is better); against "
                               "the rest of the partnership, indicatively")


def _first_rows(table: pd.DataFrame, keys: list[str]) -> dict[tuple, dict]:
    """The first row of ``table`` for each combination of ``keys``' values, as a dict of its cells, by that
    combination (a table's cells looked up once, not each one by filtering the whole table)."""
    rows = table.drop_duplicates(keys)
    return dict(zip(zip(*(rows[k] for k in keys)), rows.to_dict("records")))


def gradient_output(r: PlacesAndInequalities) -> TableOutput:
    """Each measure's rate in each tenth of deprivation, then its SII and RII with limits."""
    g = r.gradient
    tenths = g[g["measure"] == TENTH_RATE]
    view = tenths.pivot_table(index="category", columns="cause", values="value", sort=False, aggfunc="first")
    first = _first_rows(tenths, ["cause", "category"])
    view = pd.DataFrame({c: [with_limits(first[c, k]["value"], first[c, k]["lower_ci"], first[c, k]["upper_ci"], 1)
                             if (c, k) in first else "" for k in view.index] for c in view.columns}, index=view.index)
    extra = {}
    for m, digits in ((SII, 1), (RII, 2)):
        extra[m[:1].upper() + m[1:]] = {c: (lambda x: with_limits(x["value"], x["lower_ci"], x["upper_ci"], digits)
                                            if x is not None else "")(_gradient(r, c, m)) for c in view.columns}
    view = pd.concat([view, pd.DataFrame(extra).T])
    periods = {c: g.loc[g["cause"] == c, "time_period"].iloc[0] for c in view.columns}
    view.columns = [f"{c.capitalize()}, {periods[c]}" for c in view.columns]
    view.index.name = "Tenth of deprivation (districts and unitaries)"
    return TableOutput("inequality_gradient", g, view=view,
                       caption="Deaths per 100,000 a year in each tenth of England's districts and unitaries by "
                               "deprivation (95% limits), then the slope index of inequality (deaths per 100,000 a "
                               "year, most deprived end minus least) and the relative index (most to least). Drug "
                               "deaths: indirectly standardised rates, tenths of IoD ranks; alcohol: Fingertips' "
                               "directly standardised rates and deciles, another period: compare down a column, not "
                               "across")


# --- figures ----------------------------------------------------------------------------------------------------


_MARKS = {"Worse": ("^", figures.OKABE_ITO["vermillion"]), "Better": ("v", figures.OKABE_ITO["bluish green"]),
          "Similar": ("o", figures.COMPARATOR_COLOUR)}


def funnel_figure(r: PlacesAndInequalities) -> FigureOutput:
    """Funnel plot of the places' indirectly standardised ratios against their expected deaths, one panel per
    cause: every district and unitary of England in grey for context, the 95% and 99.8% control limits around
    England (1) over their whole range, the places marked by the table's comparison and named."""
    t = r.places
    fig, axes = plt.subplots(1, 2, figsize=(11, 5))
    data = []
    for ax, cause in zip(axes, CAUSES):
        pts = t[(t["measure"] == RATIO) & (t["cause"] == cause)
                & (t["area_role"] == (PLACE if r.has_places else CDP))]
        pts = pts.assign(expected=pts["denominator"], observed=pts["count"])
        every = r.context[(r.context["cause"] == cause) & r.context["expected"].gt(0)]
        lim = stats.funnel_limits(every, "observed", "expected", statistic="ratio", ratio_type="isr")
        ax.scatter(every["expected"], every["ratio"], s=8, color="#b1b4b6", label="Every district and unitary",
                   zorder=1)
        for side in ("lower", "upper"):  # each limit at the expected deaths it belongs to (PHEindicatormethods)
            ax.plot(lim[f"{side}_3s_exp_events"], lim[f"{side}_3s_limit"] / 100, ":", color="#0b0c0c",
                    label="99.8% limits" if side == "lower" else None, zorder=2)
            ax.plot(lim[f"{side}_2s_exp_events"], lim[f"{side}_2s_limit"] / 100, "--", color="#505a5f",
                    label="95% limits" if side == "lower" else None, zorder=2)
        ax.axhline(1, color=figures.ENGLAND_COLOUR, linewidth=1.2, label="England (1)", zorder=2)
        for verdict, (marker, colour) in _MARKS.items():
            d = pts[pts["compared_to_england"].replace("", "Similar") == verdict]
            if len(d):
                ax.scatter(d["expected"], d["value"], s=55, marker=marker, color=colour, edgecolor="#0b0c0c",
                           zorder=4, label=f"{verdict} than England" if verdict != "Similar" else "Similar to England")
        for i, p in enumerate(pts.sort_values("value").itertuples()):  # labels staggered above and below
            ax.annotate(p.area_name, (p.expected, p.value), textcoords="offset points",
                        xytext=(6, 5 if i % 2 else -11), fontsize=7.5, zorder=5)
        ax.set_xscale("log")
        ax.set_xlim(max(0.5, float(every["expected"].min()) * 0.8), float(every["expected"].max()) * 1.2)
        ax.xaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
        ax.set_xlabel(f"Deaths expected at England's rates, {r.period} (log scale)")
        ax.set_ylabel("Observed ÷ expected deaths (1 = England)")
        ax.set_title(f"Deaths related to {cause}", fontsize=10)
        top = max(3.0, float(pts["value"].max()) * 1.15) if len(pts) else 3.0
        ax.set_ylim(0, top)
        data.append(pts)
    axes[0].legend(fontsize=7, loc="upper right", framealpha=0.9)
    fig.suptitle(f"{r.cdp.name}: deaths in each place against England, age for age, {r.period}")
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_drug_deaths')}; England's deaths by age and mid-year "
                             "population (ONS). Markers: each place's own 95% limits against England; grey: every "
                             "district and unitary (the axis stops at 3).", bottom=0.01)
    found = " ".join(s for s in (standing_out(r, c) for c in CAUSES) if s) or (
        f"No place's deaths differ from England's, age for age, by their 95% limits, {r.period}.")
    d = pd.concat(data, ignore_index=True)
    return FigureOutput("places_funnel", fig, finding=figures.plain(found),
                        data=d[["area_code", "area_name", "area_role", "time_period", "measure", "cause", "value",
                                "lower_ci", "upper_ci", "count", "denominator", "unit", "compared_to_england",
                                "source"]])


def gradient_figure(r: PlacesAndInequalities) -> FigureOutput:
    """Each measure's rate by tenth of deprivation with limits and the fitted SII line; the partnership's places
    marked at their tenth (drug deaths, rated the same way)."""
    g = r.gradient
    causes = [c for c in (DRUG_MISUSE, DRUG_POISONING, ALCOHOL) if c in set(g["cause"])]
    fig, axes = plt.subplots(1, len(causes), figsize=(4 * len(causes) + 1, 4.6), sharey=False)
    axes = np.atleast_1d(axes)
    for ax, cause in zip(axes, causes):
        d = g[(g["cause"] == cause) & (g["measure"] == TENTH_RATE)].copy()
        d["k"] = d["category"].str.extract(r"^(\d+)")[0].astype(int)
        d = d.sort_values("k")
        share = d["denominator"] / d["denominator"].sum()  # each tenth at its population mid-point (the SII's rank)
        d["rank"] = share.cumsum() - share / 2
        mid = d.set_index("k")["rank"]
        ax.errorbar(d["rank"], d["value"], yerr=[d["value"] - d["lower_ci"], d["upper_ci"] - d["value"]], fmt="o",
                    color=figures.ENGLAND_COLOUR, capsize=3, label="England's tenth (95% limits)")
        s, x = _gradient(r, cause, SII), _gradient(r, cause, RII)
        least = s["value"] / (x["value"] - 1) if x["value"] != 1 else np.nan
        ax.plot([0, 1], [least * x["value"], least], color="#0b0c0c", linewidth=1,
                label=f"Fitted slope (SII {s['value']:.1f})")
        top = float(d["upper_ci"].max())
        if cause != ALCOHOL:
            mine = r.places[(r.places["measure"] == ISR) & (r.places["cause"] == cause.replace("deaths related to ", ""))
                            & (r.places["area_role"] == (PLACE if r.has_places else CDP))]
            tenth = r.places[(r.places["measure"].str.startswith("IMD tenth"))].set_index("area_code")["value"]
            mine = mine[mine["area_code"].isin(tenth.index)].sort_values("area_code")
            # places in the same tenth side by side, a little apart
            k = mine["area_code"].map(tenth)
            nth = mine.groupby(k.to_numpy()).cumcount().to_numpy()
            n_in = k.map(k.value_counts()).to_numpy()
            x = k.map(mid).to_numpy() + (nth - (n_in - 1) / 2) * 0.018
            ax.errorbar(x, mine["value"], yerr=[mine["value"] - mine["lower_ci"], mine["upper_ci"] - mine["value"]],
                        fmt="D", markersize=5, color=figures.CDP_COLOUR, markeredgecolor="#0b0c0c", ecolor=figures.CDP_COLOUR,
                        elinewidth=0.8, capsize=2, zorder=4,
                        label=(f"{r.cdp.name}'s places" if r.has_places else r.cdp.name) + " (95% limits)")
            for xi, p in zip(x, mine.itertuples()):
                ax.annotate(p.area_name, (xi, p.value), textcoords="offset points", xytext=(4, 2), fontsize=6.5)
            top = max(top, float(mine["value"].max()) if len(mine) else top)
        ax.set_ylim(0, top * 1.25)
        ax.set_xlim(0, 1)
        ax.set_xticks(d["rank"], [str(k) for k in d["k"]])
        ax.set_xlabel("Tenth of deprivation at its population mid-point (1 = most deprived)", fontsize=8)
        ax.set_ylabel("Deaths per 100,000 a year, " + ("directly standardised (Fingertips)" if cause == ALCOHOL
                                                      else "indirectly standardised"), fontsize=8)
        ax.set_title(f"{cause[:1].upper() + cause[1:]}, {d['time_period'].iloc[0]}", fontsize=10)
        ax.legend(fontsize=6.5, loc="upper right", framealpha=0.9)
    fig.suptitle("The slope of harm: deaths by deprivation across England's districts and unitaries")
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_drug_deaths')}; {figures.dataset_title('imd2025')}; "
                             f"{figures.dataset_title('fingertips')}, indicator 91380 (deciles as published).", bottom=0.01)
    found = " ".join(s for s in (gradient_sentence(r, c) for c in causes) if s)
    return FigureOutput("inequality_gradient", fig, finding=figures.plain(found), data=g)
