"""The outcomes chapter's presentation: key findings and notes (Markdown), the spine chart, the dashboard table and
the notebook's pointer to the board's one-page ``summary.html`` (:mod:`.present_board` builds that page; both say a
comparison, a value and a data gap in the words of :mod:`.present_words`).

Rule: every number is read from the tables :func:`.compute.build` returned (the spine chart's numbers included,
``Outcomes.spine``); nothing here loads data or computes a table, and the compute modules never import this one.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...output import figures, freshness
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput
from .compute import MEMBERS_ONLY, NO_998, RATIO_ONLY, Outcomes, cdp_rows
from .present_words import COMPARISON_WORDS, data_gaps, data_words, value_with_limits, worsening

# --- words -----------------------------------------------------------------------------------------------------

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
    lines.append(f"- {_metric_counts(rows, md(o.cdp.name))}")
    for r in worse.itertuples():
        lines.append(f"- **Worse than England**: {r.indicator_name}, {r.time_period}: {value_with_limits(r._asdict())} "
                     f"{r.unit}.")
    for r in better.itertuples():
        caveat = f"; but {r.comparison_caveat}" if r.comparison_caveat else ""
        lines.append(f"- Better than England: {r.indicator_name}, {r.time_period}: {value_with_limits(r._asdict())} {r.unit}{caveat}.")
    for r in rows[worsening(rows)].itertuples():
        lines.append(f"- Trend: {r.indicator_name} — {r.recent_trend}.")
    return "\n".join(lines)


def _metric_counts(rows: pd.DataFrame, name: str) -> str:
    """How many of the CDP's metrics have a figure, and why the others have none: every status counted once, so
    the parts add up to the whole."""
    n = rows["status"].value_counts()

    def many(k: int, one: str, more: str) -> str:
        return f"{k} {one if k == 1 else more}"

    computed = n.get("computed", 0)
    parts = [f"{computed} of {len(rows)} metrics {'has' if computed == 1 else 'have'} a figure for {name}"]
    if n.get(MEMBERS_ONLY, 0):
        parts.append(f"{many(n[MEMBERS_ONLY], 'has', 'have')} no published rate for the partnership as a whole "
                     f"and {'is' if n[MEMBERS_ONLY] == 1 else 'are'} shown by its member areas' rates")
    if n.get(RATIO_ONLY, 0):
        parts.append(f"{many(n[RATIO_ONLY], 'has', 'have')} no published rate and "
                     f"{'is' if n[RATIO_ONLY] == 1 else 'are'} shown as the partnership's standardised ratio")
    parts.append(f"{many(n.get('not supplied', 0), 'is', 'are')} not supplied or not in the published data held, "
                 f"and {many(n.get('suppressed', 0), 'is', 'are')} suppressed to protect small numbers")
    return "; ".join(parts) + "."


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
        if r["status"] in (MEMBERS_ONLY, RATIO_ONLY) and r["compared_to_england"]:
            word, sym = COMPARISON_WORDS.get(r["compared_to_england"], ("", ""))
            return f"{sym} {word} (the partnership's standardised ratio)"
        if r["status"] != "computed":
            return ""
        if not r["compared_to_england"]:
            return "– not compared (no England figure)"
        word, sym = COMPARISON_WORDS.get(r["compared_to_england"], ("", ""))
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
        "Value (95% limits)": [value_with_limits(r) if r["status"] == "computed" else _STATUS_WORDS[(r["status"], r["origin"])]
                               for _, r in rows.iterrows()],
        "England": [num(eng.get((m, p)), k) for m, p, k in zip(rows["metric_id"], rows["time_period"],
                                                                rows["metric_kind"])],
        "Region": [num(reg.get((m, p)), k) for m, p, k in zip(rows["metric_id"], rows["time_period"],
                                                               rows["metric_kind"])],
        "Neighbours": [_neighbours(num(nb_med.get((m, p)), k), nb_n.get((m, p)))
                       for m, p, k in zip(rows["metric_id"], rows["time_period"], rows["metric_kind"])],
        "Data": [data_words(r) for _, r in rows.iterrows()],
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

def summary_links(o: Outcomes, path: Path | None) -> str:
    """Where the one-page summary is (Markdown), and its gaps in brief."""
    where = (f"Written to `{path.name}` in the CDP's output folder." if path is not None
             else "Run with an output folder (`cdp run`) to write it.")
    return where + "\n\n**What the data cannot yet tell**\n\n" + "\n".join(f"- {g}" for g in data_gaps(o))
