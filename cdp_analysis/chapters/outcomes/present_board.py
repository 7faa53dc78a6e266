"""The board's one-page ``summary.html`` (a Health and Wellbeing Board's decision page): the headline figure of each
outcome, what most needs action, the partnership's places with higher deaths (read from chapter 5's declared table
``places``, never its code), the treatment places needed, and what the data cannot yet tell.

Rule: every number is read from the tables :func:`.compute.build` returned, in the words :mod:`.present_words`
gives the dashboard and the key findings too (the same comparison, value and data words); nothing here computes a
table.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...files import write_atomic
from ...output import escape, freshness
from .. import treatment_gap
from ..treatment_gap.capacity_words import board_line
from .compute import MEMBERS_ONLY, OUTCOMES, RATIO_ONLY, Outcomes, cdp_rows
from .present_words import COMPARISON_WORDS, data_gaps, data_words, value_with_limits, worsening
from .published import cdp_ratio


def places_line(o: Outcomes) -> str:
    """One sentence naming the partnership's places (districts, or unitaries) whose deaths, age for age, are higher
    than England's by their own 95% limits, read from the places chapter's table (``places``); '' when none is."""
    t = o.earlier.get("places")
    if t is None or t.empty:
        return ""
    worse = t[(t["area_role"] == "place") & (t["measure"] == "indirectly standardised ratio")
              & (t["compared_to_england"] == "Worse")].sort_values(["area_name", "cause"])
    if worse.empty:
        return ""
    parts = [f"{name} (" + "; ".join(f"{r.cause} {r.value:.2f} times, 95% limits {r.lower_ci:.2f}–{r.upper_ci:.2f}"
                                     for r in rows.itertuples()) + ")"
             for name, rows in worse.groupby("area_name", sort=True)]
    return (f"Age for age, deaths in {worse['time_period'].iloc[0]} were higher than England's in "
            + ", ".join(parts) + " (deaths over those expected at England's rates; chapter 5 compares every place).")


_PAGE_CSS = """
@page { size: A4; margin: 10mm 12mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 8.3pt; line-height: 1.22; color: #0b0c0c; max-width: 186mm; margin: auto; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 3mm 0 1mm; border-bottom: 1px solid #b1b4b6; }
.banner { border: 3px solid #d4351c; padding: 2mm; font-weight: bold; margin: 2mm 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 0.6mm 1.5mm; vertical-align: top; }
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
    caveats = []  # the comparisons' caveats, as notes under the table
    for outcome in OUTCOMES:
        r = headline_row(rows, outcome)
        if r is None:
            continue
        shown = r["status"] in _SHOWN
        dated += [(r["time_period"], r["source"])] if shown else []
        if r["status"] == "computed":
            value = f"{value_with_limits(r)} {r['unit']}"
        elif r["status"] in (MEMBERS_ONLY, RATIO_ONLY):
            value = _members_short(o, r)
        else:
            value = "no figure held yet"
        word, sym = COMPARISON_WORDS.get(r["compared_to_england"], ("", ""))
        if r["status"] == "computed" and not r["compared_to_england"]:
            word, sym = "not compared (no England figure)", "–"
        if r["comparison_caveat"]:  # said in full under the table, where a line is the page's width
            caveats.append(f"Note {len(caveats) + 1}. {r['indicator_name']}, {r['time_period']}: {word}; but "
                           f"{r['comparison_caveat']}.")
            word += f" (note {len(caveats)})"
        kind = {"supporting": " (supporting metric)", "local priority": " (local priority)"}.get(r["level"], "")
        parts.append(f"<tr><td>{e(outcome[:1].upper() + outcome[1:])}</td><td>{e(r['indicator_name'] + kind)}</td>"
                     f"<td>{e(freshness.mark(r['time_period'], o.as_of, o.settings.old_after_years) if shown else '')}"
                     f"</td><td>{e(value)}</td>"
                     f"<td>{e((sym + ' ' + word).strip())}</td>"
                     f"<td>{e(data_words(r) if shown else '')}</td></tr>")
    old = freshness.old_line(dated, o.as_of, o.settings.old_after_years)
    parts.append("</tbody></table>" + "".join(f"<p class='meta'>{e(c)}</p>" for c in caveats)
                 + (f"<p class='meta'>{e(old)}</p>" if old else "")
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
    return "" if e.empty else f"England's {value_with_limits(e.iloc[0])} {e.iloc[0]['unit']}"


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
                local, versus = f"{value_with_limits(r)} {r['unit']}", _england(o, r["metric_id"], r["time_period"])
                word = COMPARISON_WORDS.get(r["compared_to_england"], ("", ""))[0]
            else:  # members' figures and the partnership's ratio, with how the ratio compares
                local, versus = _members_short(o, r), ""
                word = COMPARISON_WORDS.get(r["compared_to_england"], ("", ""))[0]
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


def write_summary(o: Outcomes, output_dir: str | Path | None) -> Path | None:
    """Write ``summary.html`` into the CDP's output folder (nothing when ``output_dir`` is empty)."""
    if not output_dir:
        return None
    path = Path(output_dir) / "summary.html"
    write_atomic(path, summary_page(o).encode("utf-8"))
    return path
