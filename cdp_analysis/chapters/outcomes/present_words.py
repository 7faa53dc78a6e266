"""The outcomes chapter's shared words: a comparison with England, a value with its limits, where a figure comes
from, which trends are getting worse and what the data cannot yet tell, said the same way by the dashboard and key
findings (:mod:`.present`) and the board's one-page summary (:mod:`.present_board`).

Rule: words only, every number read from the rows :func:`.compute.build` returned.
"""

from __future__ import annotations

import pandas as pd

from ...output.table_html import with_limits
from .compute import Outcomes, cdp_rows

#: Where a figure comes from, by the ``origin`` of its row.
_ORIGIN = {"published": "published", "local": "local", "made-up example": "MADE-UP (example data)"}

#: A comparison with England in words and its symbol, as the dashboard, the key findings and the board's page say it.
COMPARISON_WORDS = {"Better": ("better than England", "▲"), "Worse": ("worse than England", "▼"),
                    "Similar": ("similar to England", "●"), "Higher": ("higher than England", "↑"),
                    "Lower": ("lower than England", "↓"), "Not compared": ("not compared", "–"), "": ("", "")}


def value_with_limits(r) -> str:
    """A row's value with its 95% limits ('2.5 (1.9–3.2)'; counts without decimals), or its status when it has none."""
    if pd.isna(r["value"]):
        return r["status"]
    digits = 0 if r["metric_kind"] == "count" else 1
    return with_limits(r["value"], r["lower_ci"], r["upper_ci"], digits)


def data_words(r) -> str:
    """Where a figure comes from, in the same words on the dashboard and the summary page: a modelled estimate is
    called modelled."""
    if "(modelled estimate)" in r["indicator_name"]:
        return "modelled from published data"
    return _ORIGIN.get(r["origin"], r["origin"])


def worsening(rows: pd.DataFrame) -> pd.Series:
    """Rows whose recent trend is getting worse (a Fingertips marker saying so, or a rising count or rate of a
    metric where low is good, or a falling one where high is good)."""
    trend = rows["recent_trend"].fillna("")
    rising = trend.str.contains(r"\bincreasing\b") & ~trend.str.contains("getting better")
    falling = trend.str.contains(r"\bdecreasing\b") & ~trend.str.contains("getting better")
    return (trend.str.contains("getting worse") | (rising & (rows["polarity"] == "low_is_good"))
            | (falling & (rows["polarity"] == "high_is_good")))


def data_gaps(o: Outcomes) -> list[str]:
    """Metrics without a figure for the CDP, grouped: not supplied (local data), not in the published data held
    (published: the area's figure is not published, or the file held is OHID's sample), suppressed."""
    rows = cdp_rows(o)
    out = []
    local = rows[(rows["status"] == "not supplied") & (rows["origin"] != "published")]
    if len(local):
        out.append("Not supplied by the partnership: " + "; ".join(local["indicator_name"]) + ". The partnership's "
                   "own police and treatment data would add these figures (the report's outcomes chapter says how).")
    public = rows[(rows["status"] == "not supplied") & (rows["origin"] == "published")]
    if len(public):
        out.append("Not in the published data held for this area: " + "; ".join(public["indicator_name"]) + ".")
    supp = rows[rows["status"] == "suppressed"]
    if len(supp):
        out.append("Suppressed to protect small numbers: " + "; ".join(supp["indicator_name"]) + ".")
    if not out:
        out.append("Every metric of the catalogue has a figure.")
    out.append("Modelled prevalence estimates apply national survey rates to the local population: they show "
               "expected, not measured, local drug use.")
    return out
