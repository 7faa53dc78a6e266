"""The trends chapter's trend sentences: a 'latest trend' row of ``trends`` (and its comparison with England) in
plain English, naming its years (financial years as such), how they were chosen, the quantity and the limits.

Rule: words only, every number read from a row; :mod:`.present` builds the key findings from these.
"""

from __future__ import annotations

import pandas as pd

from ... import stats
from .series import CAUSES


def _pct(x: float) -> str:
    return f"{abs(x):.0f}%" if abs(x) >= 10 else f"{abs(x):.1f}%"


def _change(row) -> str:
    """'rose by about 4.9% a year (3.8%–6.0%)', 'fell …' or 'showed no significant change (+1.2% a year, −2.0% to
    +4.5%)' from a row's APC and limits."""
    if row["verdict"] == "no significant change":
        return (f"showed no significant change ({row['apc']:+.1f}% a year, 95% limits {row['lower_ci']:+.1f}% to "
                f"{row['upper_ci']:+.1f}%)")
    rising = row["apc"] > 0
    lo, hi = (row["lower_ci"], row["upper_ci"]) if rising else (row["upper_ci"], row["lower_ci"])
    return f"{'rose' if rising else 'fell'} by about {_pct(row['apc'])} a year (95% limits {_pct(lo)}–{_pct(hi)})"


def _label(row, year) -> str:
    """A year of a row as the report names it: a financial year for a series labelled by the year its financial
    year ends ('2019' → '2018/19'), else the year."""
    y = int(year)
    return f"{y - 1}/{y % 100:02d}" if str(row["series"]).endswith("(year ending March)") else str(y)


def _span(row) -> str:
    return f"{_label(row, row['period_start'])} to {_label(row, row['period_end'])}"


def _how(row) -> str:
    """How a 'latest trend' row's years were chosen, in a few words."""
    n = int(row["period_end"]) - int(row["period_start"]) + 1
    model = str(row["model"])
    last_joinpoint = _label(row, str(row["joinpoints"]).split("; ")[-1]) if row["joinpoints"] else ""
    if model.startswith("latest joinpoint segment (joinpoint in"):
        return f"the latest joinpoint segment; joinpoint in {last_joinpoint}"
    if model.startswith("latest joinpoint segment (from"):
        return f"the latest {n} years; the latest joinpoint segment, from {last_joinpoint}, is longer"
    return f"no joinpoint found, so the latest {n} years"


def _apc_words(row) -> str:
    return f"{row['apc']:+.1f}% a year ({row['lower_ci']:+.1f}% to {row['upper_ci']:+.1f}%)"


def trend_sentence(row: pd.Series, what: str, where: str, versus: dict | None = None) -> str:
    """One plain-English sentence from a 'latest trend' row of ``trends`` and, for an area, its comparison with
    England (``versus``: the 'compared with England' row, both areas' rows of the same latest years and the
    joinpoints found inside those years, from :func:`headline_rows`): the years, how they were chosen, the
    quantity (rate per head or numbers) and the limits."""
    per = " per head of population" if row["quantity"] == "rate per head of population" else " (numbers)"
    if row["verdict"].startswith("too few"):
        needed = (f"at least {stats.MIN_POINTS} years" if row["verdict"] == "too few points" else
                  f"at least {stats.MIN_EVENTS} events")
        text = (f"{what}{per} in {where}, {_span(row)} ({_how(row)}): {row['verdict']} to state a percentage change "
                f"({needed} needed)")
    else:
        text = f"{what}{per} in {where} {_change(row)} from {_span(row)} ({_how(row)})"
    if versus is not None:
        text += ". " + versus_words(versus)
    return text + "."


def versus_words(versus: dict, *, area_said: bool = False) -> str:
    """An area's trend against England's over the latest years both hold (the comparison of
    :func:`headline_rows`), in the words every page uses: both slopes, the difference with its limits and whether
    it is significant at 5%, and any change of trend inside those years. No full stop. ``area_said``: the
    sentence before has already given the area's slope over exactly these years, so only England's is given."""
    cmp = versus["row"]
    n = int(cmp["period_end"]) - int(cmp["period_start"]) + 1
    if cmp["verdict"].startswith("too few"):
        return f"Not compared with England over the latest {n} years ({_span(cmp)}): {cmp['verdict']}"
    verdict = ("not significant" if cmp["verdict"] == "not significantly different" else
               "significant: " + ("a faster rise or slower fall than England's"
                                  if cmp["verdict"].startswith("faster") else
                                  "a slower rise or faster fall than England's"))
    if area_said and versus["england"] is not None:
        against = f"England's {_apc_words(versus['england'])} over the same years"
    else:
        both = ""
        if versus["area"] is not None and versus["england"] is not None:
            both = f": {_apc_words(versus['area'])} against England's {_apc_words(versus['england'])}"
        against = f"Against England over the latest {n} years held by both ({_span(cmp)}, each fitted on its own){both}"
    text = (f"{against}; the difference, {cmp['apc']:+.1f}% a year ({cmp['lower_ci']:+.1f}% to "
            f"{cmp['upper_ci']:+.1f}%), is {verdict}")
    bends = [f"{who} in {_label(cmp, y)}" for who, y in versus["bends"]]
    if bends:
        text += (f"; one slope over these years summarises a change of trend ({', '.join(bends)}), so the latest "
                 "segment says more about the direction now")
    return text


def _joinpoints_within(t: pd.DataFrame, series: str, role: str, quantity: str, start: int, end: int) -> list[int]:
    jp = t[(t["series"] == series) & (t["area_role"] == role) & (t["method"] == "joinpoint") & (t["quantity"] == quantity)]
    years = [int(y) for y in str(jp["joinpoints"].iloc[0]).split("; ") if y] if len(jp) else []
    return [y for y in years if start < y < end]


def headline_rows(t: pd.DataFrame, series: str, role: str):
    """The 'latest trend' row of a series for an area role, and its comparison with England (or None): the
    'compared with England' row, the area's and England's 'latest N years' rows of the same years and quantity
    (None where England's years differ), and the joinpoints either series has inside those years."""
    s = t[(t["series"] == series) & (t["area_role"] == role)]
    head = s[s["method"] == "latest trend"]
    if head.empty:
        return None, None
    vs = s[s["method"] == "compared with England"]
    if vs.empty:
        return head.iloc[0], None
    cmp = vs.iloc[0]
    window = t[(t["series"] == series) & t["method"].str.match(r"latest \d+ years") & (t["quantity"] == cmp["quantity"])
               & (t["period_start"] == cmp["period_start"]) & (t["period_end"] == cmp["period_end"])]

    def one(r):
        w = window[window["area_role"] == r]
        return w.iloc[0] if len(w) else None

    start, end = int(cmp["period_start"]), int(cmp["period_end"])
    bends = [(who, y) for r, who in ((role, "the area's"), ("england", "England's"))
             for y in _joinpoints_within(t, series, r, cmp["quantity"], start, end)]
    return head.iloc[0], {"row": cmp, "area": one(role), "england": one("england"), "bends": bends}


#: The series whose direction of travel the key findings state, and the words that name each.
HEADLINE_SERIES = {f"deaths related to {CAUSES[0]}": "Registered drug-misuse deaths",
                   f"deaths related to {CAUSES[1]}": "Registered drug-poisoning deaths",
                   "adults in structured treatment (year ending March)": "Adults in structured treatment",
                   "dependent drinkers in alcohol treatment (year ending March)": "Dependent drinkers in alcohol treatment"}
