"""The outcomes chapter's presentation: key findings and notes (Markdown), the spine chart, the dashboard table and
the one-page ``summary.html`` for the Health and Wellbeing Board.

Rule: every number is read from the tables :func:`.compute.build` returned (the spine chart's numbers included,
``Outcomes.spine``); nothing here loads data or computes a table, and the compute modules never import this one.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...files import write_atomic
from ...output import escape, figures, freshness
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput
from ...output.table_html import with_limits
from .. import treatment_gap
from ..treatment_gap.capacity_words import board_line
from .board_places import places_line
from .compute import MEMBERS_ONLY, NO_998, OUTCOMES, RATIO_ONLY, Outcomes, cdp_rows
from .published import cdp_ratio

# --- words -----------------------------------------------------------------------------------------------------

_ORIGIN = {"published": "published", "local": "local", "made-up example": "MADE-UP (example data)"}
_STATUS_WORDS = {("not supplied", "published"): "not in the data", ("not supplied", "local"): "not supplied",
                 ("not supplied", "made-up example"): "not supplied", ("suppressed", "local"): "suppressed",
                 ("suppressed", "made-up example"): "suppressed",
                 ("members only", "published"): "members' figures only",
                 ("ratio only", "published"): "standardised ratio only"}


_LEVEL_WORDS = {"headline": "Framework headline metrics", "supporting": "Framework supporting metrics",
                "local priority": "The partnership's local priorities"}


def _neighbours(value: str, n) -> str:
    if not value:
        return ""
    return f"{value} (median of {n})" if n and n > 1 else f"{value} (1 neighbour)"


_RAG = {"Better": ("better than England", "▲"), "Worse": ("worse than England", "▼"),
        "Similar": ("similar to England", "●"), "Higher": ("higher than England", "↑"),
        "Lower": ("lower than England", "↓"), "Not compared": ("not compared", "–"), "": ("", "")}


def _fmt(r) -> str:
    if pd.isna(r["value"]):
        return r["status"]
    digits = 0 if r["metric_kind"] == "count" else 1
    return with_limits(r["value"], r["lower_ci"], r["upper_ci"], digits)


def made_up_banner(o: Outcomes) -> str:
    """A warning when any local figure is made-up example data ('' otherwise)."""
    if not o.made_up:
        return ""
    return ("**MADE-UP EXAMPLE DATA.** The figures from local data in this chapter (marked 'made-up example data' "
            "in the Data column and the note, '(made-up example)' after the area's name, and 'made-up example' in "
            "the CSV's `origin`) are made up to show how the dashboard works: they are not real and must not be used "
            "or quoted. Figures from published data (ONS, OHID) are real; a modelled estimate among them is a "
            "published-data model, not made-up data.")


def summary_text(o: Outcomes) -> str:
    """Key findings as Markdown, every number read from the outcomes table."""
    rows = cdp_rows(o)
    lines = []
    banner = made_up_banner(o)
    if banner:
        lines += [banner, ""]
    computed = rows[rows["status"] == "computed"]
    worse = computed[computed["compared_to_england"] == "Worse"]
    better = computed[computed["compared_to_england"] == "Better"]
    missing, hidden = (rows["status"] == "not supplied").sum(), (rows["status"] == "suppressed").sum()
    lines.append(f"- {len(computed)} of {len(rows)} metrics have a figure for {md(o.cdp.name)}; {missing} "
                 f"{'is' if missing == 1 else 'are'} not supplied or not published, and {hidden} "
                 f"{'is' if hidden == 1 else 'are'} suppressed to protect small numbers.")
    for r in worse.itertuples():
        lines.append(f"- **Worse than England**: {r.indicator_name}, {r.time_period}: {_fmt(r._asdict())} "
                     f"{r.unit}.")
    for r in better.itertuples():
        caveat = f"; but {r.comparison_caveat}" if r.comparison_caveat else ""
        lines.append(f"- Better than England: {r.indicator_name}, {r.time_period}: {_fmt(r._asdict())} {r.unit}{caveat}.")
    for r in rows[worsening(rows)].itertuples():
        lines.append(f"- Trend: {r.indicator_name} — {r.recent_trend}.")
    return "\n".join(lines)


def _metric_name(o: Outcomes, metric_id: str) -> str:
    return str(o.catalogue.loc[metric_id, "name"])


def notes_text(o: Outcomes) -> str:
    """Methods and caveats as Markdown."""
    pol = o.settings.disclosure
    t = pol.threshold
    rounding = (f" Every other count from local data is rounded to the nearest {pol.rounding} (NHS England's "
                "practice for hospital data); percentages and their limits are computed from the unrounded counts."
                if pol.rounding > 1 else " Other counts are shown as supplied.")
    return "\n".join([
        f"- **Disclosure control** (policy '{pol.name}'). Counts of 1 to {t - 1} from local data are suppressed, "
        "with their complements (a proportion whose denominator minus numerator is that small) and the further "
        "cells needed so that none can be worked out from a total (a partnership and its member areas; "
        "criminal-justice referrals and their mandatory and voluntary parts) or from a percentage and its "
        "denominator. Zero is shown." + rounding + " An audit by linear programming checks that no suppressed "
        f"count can be worked out to within {t:g} from everything the table shows. Percentages built on a "
        "suppressed count are suppressed. Published figures are shown as published.",
        "- Comparisons with England use the 95% and 99.8% confidence limits (Wilson's for proportions; the "
        "publisher's for published rates) and the metric's polarity; 'Not compared' where a figure has no limits "
        "or is a count, or is a modelled estimate.",
        "- **99.8% comparisons.** Local proportions: Wilson's 99.8% limits from the counts. Alcohol-specific "
        "mortality: Dobson's 99.8% limits, derived from OHID's published rate, 95% limits and count (the 95% limits "
        "are checked to be Dobson's first). No 99.8% comparison for: "
        + "; ".join(f"{_metric_name(o, m)} ({why})" for m, why in NO_998.items() if m in o.catalogue.index) + ".",
        "- Local metrics are compared with England only when the local files give an England row (e.g. from NDTMS "
        "national reports). Recent trends need five consecutive years with nothing suppressed.",
        "- Public metrics are read from the earlier chapters' tables; see chapters 2 to 4 for their methods and "
        "caveats.",
    ])


# --- figures and tables ----------------------------------------------------------------------------------------


_MARK = {"Better": ("^", figures.OKABE_ITO["blue"]), "Worse": ("v", figures.OKABE_ITO["vermillion"]),
         "Similar": ("o", "#ffffff"), "Higher": ("^", figures.OKABE_ITO["reddish purple"]),
         "Lower": ("v", figures.OKABE_ITO["reddish purple"]), "Not compared": ("s", "#b1b4b6"), "": ("s", "#b1b4b6")}


def spine_figure(o: Outcomes) -> FigureOutput:
    """A Fingertips-style spine chart: each metric's range of areas (light: lowest to highest; dark: 25th to 75th
    percentile), England at the centre line, the CDP's value marked by its comparison with England (shape and
    colour), grouped by outcome; better to the right."""
    d = o.spine
    n = max(len(d), 1)
    fig, ax = plt.subplots(figsize=(10, 2.8 + 0.6 * n))
    labels = []
    for i, r in enumerate(d.itertuples()):
        y = n - 1 - i
        if not np.isnan(r.x_min):
            lo, hi = sorted((r.x_min, r.x_max))
            ax.barh(y, hi - lo, left=lo, height=0.5, color=figures.COMPARATOR_COLOUR)
            q1, q3 = sorted((r.x_q25, r.x_q75))
            ax.barh(y, q3 - q1, left=q1, height=0.5, color=figures.ENGLAND_COLOUR)
        marker, colour = _MARK.get(r.compared_to_england, _MARK[""])
        ax.plot([r.x_value], [y], marker=marker, markersize=10, color="#0b0c0c", markerfacecolor=colour,
                markeredgecolor="#0b0c0c", linestyle="none")
        labels.append(f"{r.indicator_name} ({r.time_period})")
    ax.axvline(0.5, color="#0b0c0c", linestyle=figures.ENGLAND_LINESTYLE, linewidth=1.5)
    ax.set_yticks(range(n - 1, n - 1 - len(labels), -1), labels, fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.5, 1], ["worst / lowest area", "England", "best / highest area"])
    ax.set_xlabel("Position among all upper-tier areas (England at the centre;\nbetter to the right where a "
                  "metric has a polarity)")
    ax.set_title(f"Outcomes: {o.cdp.name} against England and all upper-tier areas", fontsize=11, pad=42)
    handles = [plt.Line2D([], [], marker=m, color="#0b0c0c", markerfacecolor=c, markeredgecolor="#0b0c0c",
                          linestyle="none", label=lab)
               for lab, (m, c) in (("Better than England (95%)", _MARK["Better"]), ("Similar", _MARK["Similar"]),
                                   ("Worse than England (95%)", _MARK["Worse"]), ("Not compared", _MARK[""]))]
    handles.append(plt.Rectangle((0, 0), 1, 1, color=figures.COMPARATOR_COLOUR, label="Lowest to highest area"))
    handles.append(plt.Rectangle((0, 0), 1, 1, color=figures.ENGLAND_COLOUR, label="25th to 75th percentile of areas"))
    ax.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.01), ncols=3, frameon=False)
    figures.source_line(fig, "Source: the earlier chapters' tables (ONS, OHID). Metrics without the values of all "
                             "areas (local data, estimates) are in the dashboard table only.")
    data = d.assign(time_period=d.get("time_period", pd.Series(dtype=str)), unit="position (0 to 1)") if len(d) else \
        pd.DataFrame(columns=["area_code", "area_name", "area_role", "time_period", "measure", "value", "unit",
                              "source"])
    return FigureOutput("outcomes_spine_chart", fig, data=data, finding=_spine_finding(o.cdp.name, d))


def _spine_finding(name: str, d: pd.DataFrame) -> str:
    """The spine chart in one sentence: each metric's comparison with England (95% limits) and period."""
    words = {"Better": "better than England", "Worse": "worse than England", "Similar": "similar to England"}
    parts = [f"{r.indicator_name} ({r.time_period}): {words.get(r.compared_to_england, 'not compared')}"
             for r in d.itertuples()]
    return f"{name}: " + "; ".join(parts) if parts else ""


def dashboard_output(o: Outcomes) -> TableOutput:
    """The dashboard table: one row per metric with value and limits, England, region, neighbours, the
    comparisons, the trend and a RAG rating in words and symbols."""
    rows = cdp_rows(o)
    t = o.outcomes

    def other(role):
        s = t[t["area_role"] == role]
        return s.groupby(["metric_id", "time_period"])["value"].first()

    eng, reg = other("england"), other("region")
    nb = t[t["area_role"] == "neighbour"].groupby(["metric_id", "time_period"])["value"]
    nb_med, nb_n = nb.median(), nb.count()

    def num(v, kind):
        return "" if pd.isna(v) else (f"{v:,.0f}" if kind == "count" else f"{v:,.1f}")

    def rag(r):
        if r["status"] != "computed":
            return ""
        if not r["compared_to_england"]:
            return "– not compared (no England figure)"
        word, sym = _RAG.get(r["compared_to_england"], ("", ""))
        if r["compared_to_england_998"] in ("Better", "Worse"):
            word += " (also at 99.8%)"
        if r["comparison_caveat"]:
            word += ", with a caveat (see the row's note)"
        return f"{sym} {word}".strip()

    def note(r):
        caveat = f"Compared with England: {r['comparison_caveat']}." if r["comparison_caveat"] else ""
        return " ".join(t for t in (r["value_note"], caveat) if t)

    view = pd.DataFrame({
        "Level": rows["level"].map(_LEVEL_WORDS),
        "Outcome": rows["outcome"].str[:1].str.upper() + rows["outcome"].str[1:],
        "Metric": rows["indicator_name"] + " (" + rows["unit"] + ")",
        # a local figure not supplied has no period: none was supplied (the template's example period is not one)
        "Period": [freshness.mark(p, o.as_of, o.settings.old_after_years) for p in
                   rows["time_period"].where((rows["status"] != "not supplied") | (rows["origin"] == "published"), "")],
        "Value (95% limits)": [_fmt(r) if r["status"] == "computed" else _STATUS_WORDS[(r["status"], r["origin"])]
                               for _, r in rows.iterrows()],
        "England": [num(eng.get((m, p)), k) for m, p, k in zip(rows["metric_id"], rows["time_period"],
                                                                rows["metric_kind"])],
        "Region": [num(reg.get((m, p)), k) for m, p, k in zip(rows["metric_id"], rows["time_period"],
                                                               rows["metric_kind"])],
        "Neighbours": [_neighbours(num(nb_med.get((m, p)), k), nb_n.get((m, p)))
                       for m, p, k in zip(rows["metric_id"], rows["time_period"], rows["metric_kind"])],
        "Data": rows["origin"].map(_ORIGIN),
        "Compared with England": [rag(r) for _, r in rows.iterrows()],
        "Recent trend": rows["recent_trend"],
        "Note": [note(r) for _, r in rows.iterrows()],
    }).set_index(["Level", "Outcome", "Metric"])
    return TableOutput("outcomes", o.outcomes, view=view, notes=("Note",),
                       caption="Outcomes dashboard: the latest figure of every metric for the partnership (the "
                               "National Combating Drugs Outcomes Framework's headline metrics, then its supporting "
                               "metrics, then the partnership's local priorities), with England, region and neighbours. ▲ better, ▼ worse than England at 95%; ● similar; "
                               "– not compared. The notes are under the table; every area and period is in the CSV")


# --- the one-page summary ---------------------------------------------------------------------------------------

_PAGE_CSS = """
@page { size: A4; margin: 10mm 12mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 8.7pt; line-height: 1.25; color: #0b0c0c; max-width: 186mm; margin: auto; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 4mm 0 1mm; border-bottom: 1px solid #b1b4b6; }
.banner { border: 3px solid #d4351c; padding: 2mm; font-weight: bold; margin: 2mm 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 0.8mm 1.5mm; vertical-align: top; }
th { border-bottom: 1px solid #0b0c0c; } td { border-bottom: 1px solid #dee0e2; }
ul { margin: 1mm 0; padding-left: 5mm; } .meta { color: #505a5f; font-size: 8pt; }
"""


def summary_page(o: Outcomes) -> str:
    """The one-page summary (HTML, printable on one A4 page), every number read from the tables."""
    rows = cdp_rows(o)
    e = escape.html_text  # every value on the page, the CDP's name from its params file included
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(o.cdp.name)}: drugs and alcohol "
             f"outcomes summary</title><style>{_PAGE_CSS}</style></head><body>",
             f"<h1>{e(o.cdp.name)} Combating Drugs Partnership: outcomes summary</h1>",
             f"<p class='meta'>Members: {e(', '.join(f'{n} ({c})' for n, c in zip(o.cdp.member_names, o.cdp.members)))}. "
             "Built by cdp-analysis from the tables of this report (chapters 2 to 5); each figure's period is "
             "shown beside it.</p>"]
    if o.made_up:
        parts.append("<p class='banner'>MADE-UP EXAMPLE DATA: the figures marked 'made-up' on this page are made "
                     "up to show how the summary works. They are not real and must not be used or quoted. Figures "
                     "marked 'published' (ONS, OHID) are real.</p>")
    parts.append("<h2>Headline figure for each outcome</h2><p class='meta'>The most recent figure held for each "
                 "outcome; the dashboard in the report has every metric.</p><table><thead><tr>"
                 "<th scope='col'>Outcome</th><th scope='col'>Metric</th><th scope='col'>Period</th>"
                 "<th scope='col'>Value (95% limits)</th><th scope='col'>Compared with England</th>"
                 "<th scope='col'>Data</th></tr></thead><tbody>")
    dated = []  # (period, source) of each figure shown, for the line on old figures
    for outcome in OUTCOMES:
        r = headline_row(rows, outcome)
        if r is None:
            continue
        shown = r["status"] in _SHOWN
        dated += [(r["time_period"], r["source"])] if shown else []
        if r["status"] == "computed":
            value = f"{_fmt(r)} {r['unit']}"
        elif r["status"] in (MEMBERS_ONLY, RATIO_ONLY):
            value = _members_short(o, r)
        else:
            value = "no figure held yet"
        word, sym = _RAG.get(r["compared_to_england"], ("", ""))
        if r["status"] == "computed" and not r["compared_to_england"]:
            word, sym = "not compared (no England figure)", "–"
        if r["comparison_caveat"]:
            word += f"; but {r['comparison_caveat']}"
        kind = {"supporting": " (supporting metric)", "local priority": " (local priority)"}.get(r["level"], "")
        parts.append(f"<tr><td>{e(outcome[:1].upper() + outcome[1:])}</td><td>{e(r['indicator_name'] + kind)}</td>"
                     f"<td>{e(freshness.mark(r['time_period'], o.as_of, o.settings.old_after_years) if shown else '')}"
                     f"</td><td>{e(value)}</td>"
                     f"<td>{e((sym + ' ' + word).strip())}</td>"
                     f"<td>{e(_data_words(r) if shown else '')}</td></tr>")
    old = freshness.old_line(dated, o.as_of, o.settings.old_after_years)
    parts.append("</tbody></table>" + (f"<p class='meta'>{e(old)}</p>" if old else "")
                 + "<h2>What most needs action</h2><p class='meta'>Chosen in this order: figures "
                 "significantly worse than England, then figures getting worse over time, then the largest treatment "
                 "gap; at most three.</p><ol>")
    parts += [f"<li>{e(g)}</li>" for g in decision_findings(o)] or [
        "<li>No figure is significantly worse than England, none is getting worse and no treatment gap is "
        "held.</li>"]
    places = places_line(o)
    parts.append("</ol>" + (f"<p><strong>Places:</strong> {e(places)}</p>" if places else "")
                 + "<h2>Treatment places needed</h2><ul>")
    parts += [f"<li>{e(g)}</li>" for g in places_needed(o)] or ["<li>No capacity estimate is held.</li>"]
    parts.append("</ul><h2>What the data cannot yet tell</h2><ul>")
    gaps = [g for g in data_gaps(o) if not g.startswith("Not supplied by the partnership")]
    parts += [f"<li>{e(g)}</li>" for g in [local_data_line(o), *gaps] if g]
    parts.append("</ul><p class='meta'>Sources: ONS, OHID (Open Government Licence), and the partnership's local data "
                 f"where supplied; counts from local data below {o.settings.disclosure.threshold}, and the figures "
                 "that would reveal them, are suppressed"
                 + (f"; other local counts are rounded to the nearest {o.settings.disclosure.rounding}"
                    if o.settings.disclosure.rounding > 1 else "") + ". ▲ better, ▼ worse than England (95%), ● similar. Every "
                 "figure's method, limits and caveats: <a href='report.html'>the full report</a>.</p></body></html>")
    return "".join(parts)


def _members_short(o: Outcomes, r) -> str:
    """A 'members only' or 'ratio only' row in a few words: the members' published figures and the partnership's
    standardised ratio to England (the same rows as its value note)."""
    t = o.outcomes
    members = t[(t["metric_id"] == r["metric_id"]) & (t["area_role"] == "member")
                & (t["time_period"] == r["time_period"]) & t["value"].notna()]
    parts = []
    if len(members):
        parts.append(", ".join(f"{m.area_name} {m.value:.1f}" for m in members.itertuples()) + f" {r['unit']}")
    x = cdp_ratio(o.earlier["drug_deaths_standardised"], "drug misuse", r["time_period"])
    if x is not None:
        parts.append(f"the partnership's deaths {x['value']:.2f} ({x['lower_ci']:.2f}–{x['upper_ci']:.2f}) times "
                     "those expected at England's rates")
    return "; ".join(parts) or r["value_note"]


def _data_words(r) -> str:
    """Where a figure comes from, for the summary's Data column: a modelled estimate is called modelled."""
    if "(modelled estimate)" in r["indicator_name"]:
        return "modelled from published data"
    return _ORIGIN.get(r["origin"], r["origin"])


def local_data_line(o: Outcomes) -> str:
    """One line on what the partnership's own data would add ('' when nothing is missing)."""
    rows = cdp_rows(o)
    local = rows[(rows["status"] == "not supplied") & (rows["origin"] != "published") & (rows["part_of"] == "")]
    if local.empty:
        return ""
    framework = local[local["level"] != "local priority"]
    named = "; ".join(framework["indicator_name"].head(3)) if len(framework) else "; ".join(local["indicator_name"].head(3))
    return (f"The partnership's own police, hospital and treatment data would add {len(framework)} of the framework's "
            f"metrics and {len(local) - len(framework)} local priorities not shown here (for example {named}).")


#: Statuses of a row that shows a figure (its own, or its members').
_SHOWN = ("computed", MEMBERS_ONLY, RATIO_ONLY)
#: The framework's levels, most important first: the summary's headline for an outcome is its first level with a
#: figure.
_LEVEL_ORDER = ("headline", "supporting", "local priority")


def headline_row(rows: pd.DataFrame, outcome: str):
    """The summary's figure for one outcome: among the CDP's latest rows of the outcome's metrics, those with a
    figure (:data:`_SHOWN`), of the highest framework level held (headline, then supporting, then a local
    priority), the latest period; the outcome's first headline metric when none has a figure; None for an
    outcome with no metric. Metrics that are parts of another are not headlines."""
    g = rows[(rows["outcome"] == outcome) & (rows["part_of"].fillna("") == "")]
    if g.empty:
        return None
    shown = g[g["status"].isin(_SHOWN)]
    if shown.empty:
        return g.sort_values("level", key=lambda s: s.map(_LEVEL_ORDER.index), kind="stable").iloc[0]
    best = shown[shown["level"] == min(shown["level"], key=_LEVEL_ORDER.index)]
    return best.sort_values("time_period_sortable", kind="stable").iloc[-1]


#: How many findings the decision page leads with.
N_FINDINGS = 3


def _england(o: Outcomes, metric_id: str, period: str) -> str:
    e = o.outcomes[(o.outcomes["metric_id"] == metric_id) & (o.outcomes["area_role"] == "england")
                   & (o.outcomes["time_period"] == period) & o.outcomes["value"].notna()]
    return "" if e.empty else f"England's {_fmt(e.iloc[0])} {e.iloc[0]['unit']}"


def _direction(r) -> str:
    return (f"Direction of travel: {r['recent_trend']}." if r["recent_trend"]
            else "Direction of travel: not tested for this figure.")


def decision_findings(o: Outcomes) -> list[str]:
    """The findings that most need action, in this order, at most :data:`N_FINDINGS` (``docs/methods.md`` §10):

    1. metrics significantly worse than England (95% limits) in their latest period, framework headline metrics
       first;
    2. metrics whose tested direction of travel is getting worse (:func:`worsening`);
    3. the largest treatment gap: the substance group with the highest unmet need in its latest year.

    Each finding states the local figure with its period, England's figure for the same period, the comparison
    and the direction of travel in plain words, every number read from the tables."""
    rows = cdp_rows(o)
    out: list[str] = []
    seen: set[str] = set()
    for mask in (rows["status"].eq("computed") & rows["compared_to_england"].eq("Worse"), worsening(rows)):
        for _, r in rows[mask].iterrows():
            if r["metric_id"] in seen:
                continue
            seen.add(r["metric_id"])
            if r["status"] == "computed":
                local, versus = f"{_fmt(r)} {r['unit']}", _england(o, r["metric_id"], r["time_period"])
                word = _RAG.get(r["compared_to_england"], ("", ""))[0]
            else:  # members' figures and the partnership's ratio, with how the ratio compares
                local, versus = _members_short(o, r), ""
                word = _RAG.get(r["compared_to_england"], ("", ""))[0]
            out.append(f"{r['indicator_name']}, {r['time_period']}: {local}"
                       + (f" against {versus}" if versus else "") + (f" ({word})" if word else "") + ". "
                       + _direction(r))
    gap = o.earlier["treatment_gap"]
    unmet = gap[(gap["area_role"] == "cdp") & (gap["measure"] == "unmet need") & gap["value"].notna()]
    if len(unmet):
        latest = unmet.sort_values("time_period_sortable").groupby("substance").tail(1)
        top = latest.sort_values("value", ascending=False).iloc[0]
        eng = gap[(gap["area_role"] == "england") & (gap["measure"] == "unmet need")
                  & (gap["substance"] == top["substance"]) & (gap["time_period"] == top["time_period"])]["value"]
        who = {treatment_gap.ALCOHOL: "dependent drinkers (aged 18 and over)",
               treatment_gap.OCU: "opiate and/or crack users"}.get(top["substance"], top["substance"])
        versus = f" (England {eng.iloc[0]:.0f}% in the same year)" if len(eng) and pd.notna(eng.iloc[0]) else ""
        metric = {treatment_gap.ALCOHOL: "treatment.alcohol_met_need",
                  treatment_gap.OCU: "treatment.opiate_crack_met_need"}.get(top["substance"], "")
        trend = rows[rows["metric_id"] == metric]
        out.append(f"Largest treatment gap: {top['value']:.0f}% of {who} who need treatment were not in treatment "
                   f"in {top['time_period']}{versus}. "
                   + (_direction(trend.iloc[0]) if len(trend) else "Direction of travel: not tested for this figure."))
    return out[:N_FINDINGS]


def places_needed(o: Outcomes) -> list[str]:
    """The treatment places needed by substance group, in the capacity planner's words for a board."""
    cap = o.earlier.get("treatment_capacity")
    if cap is None or cap.empty:
        return []
    return [line for s in (treatment_gap.ALCOHOL, treatment_gap.OCU, treatment_gap.NON_OPIATES)
            if (line := board_line(cap, s))]


def worsening(rows: pd.DataFrame) -> pd.Series:
    """Rows whose recent trend is getting worse (a Fingertips marker saying so, or a rising count or rate of a
    metric where low is good, or a falling one where high is good)."""
    trend = rows["recent_trend"].fillna("")
    rising = trend.str.contains(r"\bincreasing\b") & ~trend.str.contains("getting better")
    falling = trend.str.contains(r"\bdecreasing\b") & ~trend.str.contains("getting better")
    return (trend.str.contains("getting worse") | (rising & (rows["polarity"] == "low_is_good"))
            | (falling & (rows["polarity"] == "high_is_good")))


def data_gaps(o: Outcomes) -> list[str]:
    """Metrics without a figure for the CDP, grouped: not supplied (local), not published (public), suppressed."""
    rows = cdp_rows(o)
    out = []
    local = rows[(rows["status"] == "not supplied") & (rows["origin"] != "published")]
    if len(local):
        out.append("Not supplied by the partnership: " + "; ".join(local["indicator_name"]) + ". The partnership's "
                   "own police and treatment data would add these figures (the report's outcomes chapter says how).")
    public = rows[(rows["status"] == "not supplied") & (rows["origin"] == "published")]
    if len(public):
        out.append("Not published for this area: " + "; ".join(public["indicator_name"]) + ".")
    supp = rows[rows["status"] == "suppressed"]
    if len(supp):
        out.append("Suppressed to protect small numbers: " + "; ".join(supp["indicator_name"]) + ".")
    if not out:
        out.append("Every metric of the catalogue has a figure.")
    out.append("Modelled prevalence estimates apply national survey rates to the local population: they show "
               "expected, not measured, local drug use.")
    return out


def write_summary(o: Outcomes, output_dir: str | Path | None) -> Path | None:
    """Write ``summary.html`` into the CDP's output folder (nothing when ``output_dir`` is empty)."""
    if not output_dir:
        return None
    path = Path(output_dir) / "summary.html"
    write_atomic(path, summary_page(o).encode("utf-8"))
    return path


def summary_links(o: Outcomes, path: Path | None) -> str:
    """Where the one-page summary is (Markdown), and its gaps in brief."""
    where = (f"Written to `{path.name}` in the CDP's output folder." if path is not None
             else "Run with an output folder (`cdp run`) to write it.")
    return where + "\n\n**What the data cannot yet tell**\n\n" + "\n".join(f"- {g}" for g in data_gaps(o))
