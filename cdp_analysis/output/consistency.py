"""Does a CDP's output folder agree with itself? Run before the folder is published; any contradiction fails the run.

One value per metric and period across every output (the developers' guide, non-negotiable 6). A chapter that
restates another chapter's figure (the outcomes dashboard shows chapter 3's met need, the capacity planner
England's met need) declares it as a :class:`Restatement` in its ``Chapter.restates``; :func:`check` then reads
the tables the run wrote and finds:

* **a restated value that differs** from its source — same area, same period (and sex, where both tables have
  it), the value equal to 1 part in 10⁹ (tables are written with 10 significant figures);
* **'not in the data' for something a chapter computed** — a restating row with no value for the CDP where the
  source (or a related computation the restatement names, such as chapter 4's standardised ratio of a
  partnership without a published rate) holds a CDP value in that period;
* **two values for one row of a table** — rows of one table that agree on every text column but not on the value;
* **a sentence with an empty value** in the words a reader sees (the notebooks' Markdown outputs and the HTML
  pages): ``: .``, an empty bracket, ``nan``, ``None``, ``NaT`` or an empty limit such as ``( – )``.

:func:`check` returns what it looked at (for ``run.json``) and raises :class:`InconsistentOutputs` naming every
contradiction found (table, area, period, the two values), so the run fails and the previous outputs stay in
place. The rules are tested by planting each contradiction in a copy of a real run's tables
(``tests/test_consistency.py``).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd

from .tidy import per_distinct

log = logging.getLogger(__name__)

#: Relative tolerance of "the same value": tables are written with 10 significant figures.
RTOL = 1e-9
#: Columns that are numbers or words about a number, not part of what a row is (:func:`two_values_per_row`).
_NOT_KEY = {"value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator", "value_note",
            "compared_to_england", "compared_to_england_998", "comparison_caveat", "recent_trend", "source",
            "source_cell", "time_period_sortable", "indicator_name", "apc", "p_value", "verdict", "joinpoints"}
#: Words that mean a value went missing in a sentence.
_EMPTY = [(re.compile(r":\s*\.(?:\s|$)"), "a colon followed by nothing ': .'"),
          (re.compile(r":\s*;"), "a colon followed by nothing ': ;'"),
          (re.compile(r"\(\s*\)"), "an empty bracket '()'"),
          (re.compile(r"\(\s*[–-]\s*\)"), "empty limits '( – )'"),
          (re.compile(r"\b(?:nan|NaN|None|NaT|<NA>)\b"), "a missing value written as nan/None/NaT")]


class InconsistentOutputs(Exception):  # noqa: N818 - a finding about outputs, not a program error
    """The outputs of a run contradict themselves; the message lists every contradiction."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:10]
        more = f"\n  … and {len(problems) - 10} more" if len(problems) > 10 else ""
        super().__init__("the outputs contradict themselves (nothing was published):\n  - "
                         + "\n  - ".join(shown) + more)


@dataclass(frozen=True)
class Restatement:
    """A figure one table restates from another chapter's table.

    Attributes
    ----------
    name : str
        What is restated, in words (e.g. 'alcohol met need').
    table, where : str, dict of str to str
        The restating table and its rows: ``where`` maps a column to a regular expression the cell must match
        in full.
    source, source_where : str, dict of str to str
        The table it is restated from, and its rows.
    value, period : str
        The restating table's columns holding the value and its period (default ``value``, ``time_period``;
        the capacity planner holds England's met need in ``england_met_need`` at ``england_period``).
    of_england : bool
        The restating column holds England's figure on every row (compared with the source's England rows).
    also_computed : tuple of (str, dict)
        Other computations of the same quantity for the CDP (a table and its rows): where one holds a CDP value,
        the restating table must not say the CDP has none.
    """

    name: str
    table: str
    where: dict[str, str]
    source: str
    source_where: dict[str, str]
    value: str = "value"
    period: str = "time_period"
    of_england: bool = False
    also_computed: tuple[tuple[str, dict[str, str]], ...] = field(default_factory=tuple)


def rows_where(t: pd.DataFrame, where: dict[str, str]) -> pd.DataFrame:
    """The rows of ``t`` whose every column named in ``where`` matches its regular expression in full (none if a
    column is missing)."""
    mask = pd.Series(True, index=t.index)
    for col, pattern in where.items():
        if col not in t.columns:
            return t.iloc[0:0]
        matched = per_distinct(t[col].astype(str), lambda cells, p=pattern: cells.str.fullmatch(p).fillna(False))
        mask &= matched.astype(bool)
    return t[mask]


def _number(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace("", np.nan), errors="coerce")


def _differ(a: pd.Series, b: pd.Series) -> pd.Series:
    both = a.notna() & b.notna()
    return both & ~np.isclose(a.fillna(0), b.fillna(0), rtol=RTOL, atol=0)


def restated_values(tables: dict[str, pd.DataFrame], r: Restatement) -> list[str]:
    """Contradictions between a restatement and its source (see the module's rules)."""
    if r.table not in tables or r.source not in tables:
        return []
    mine, src = rows_where(tables[r.table], r.where), rows_where(tables[r.source], r.source_where)
    if r.of_england:  # a column holding England's figure on every row
        src = src[src["area_role"] == "england"]
        if src.empty:
            return []
        mine = mine.assign(area_code=src["area_code"].iloc[0], area_role="england")
    sex = ["sex"] if "sex" in mine and "sex" in src and not r.of_england else []
    keys = ["area_code", "pkey", *sex]
    # a row without a value claims 'none' unless its status says what is shown instead ('members only')
    says_none = mine["status"].isin(["", "not supplied"]) if "status" in mine else True
    a = mine.assign(pkey=mine[r.period].astype(str), v=_number(mine[r.value]),
                    says_none=says_none)[[*keys, "v", "area_role", "says_none"]]
    b = src.assign(pkey=src["time_period"].astype(str), v=_number(src["value"]))[[*keys, "v"]]
    b = b.dropna(subset=["v"]).drop_duplicates(keys)
    m = a.drop_duplicates([*keys, "v"]).merge(b, on=keys, suffixes=("", "_src"))
    problems = [f"{r.name}: {r.table}.csv says {x.v:.6g} for {x.area_code}, {x.pkey}; {r.source}.csv says "
                f"{x.v_src:.6g}" for x in m[_differ(m["v"], m["v_src"])].itertuples()]
    # 'not in the data' for a CDP figure that a chapter computed
    blank = a[(a["area_role"] == "cdp") & a["v"].isna() & a["says_none"]]
    for x in blank.itertuples():
        held = [f"{r.source}.csv"] if ((b["area_code"] == x.area_code) & (b["pkey"] == x.pkey)).any() else []
        for table, where in r.also_computed:
            if table in tables:
                other = rows_where(tables[table], where)
                other = other[(other["area_role"] == "cdp") & _number(other["value"]).notna()]
                if (other["time_period"] == x.pkey).any():
                    held.append(f"{table}.csv")
        if held:
            problems.append(f"{r.name}: {r.table}.csv has no value for the partnership ({x.area_code}) in {x.pkey}, "
                            f"but {' and '.join(held)} computed one")
    return problems


def two_values_per_row(name: str, t: pd.DataFrame) -> list[str]:
    """Rows of one table that agree on every text column but give different values."""
    if "value" not in t.columns or t.empty:
        return []
    keys = [c for c in t.columns if c not in _NOT_KEY]
    t = t.assign(v=_number(t["value"])).dropna(subset=["v"])
    shared = t.duplicated(keys, keep=False)  # only rows that share their key can disagree
    if not shared.any():
        return []
    g = t[shared].groupby(keys, dropna=False)["v"]
    high, low = g.max(), g.min()
    spread = high - low
    scale = np.maximum(high.abs(), low.abs())  # the largest magnitude in the group, without a Python call per group
    bad = spread[spread > RTOL * scale]
    out = []
    for key in bad.index[:5]:
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        out.append(f"{name}.csv has two values for {row.get('indicator_id', '')}, {row.get('area_code', '')}, "
                   f"{row.get('time_period', '')}")
    return out


class _Text(HTMLParser):
    """The text a reader sees in an HTML page (no styles, scripts or attribute values)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag):
        self._skip -= tag in ("style", "script") and self._skip > 0
        if tag in ("p", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "div", "caption", "figcaption"):
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The words of an HTML page, one block per line."""
    p = _Text()
    p.feed(html)
    return "".join(p.parts)


def _notebook_words(path: Path) -> str:
    """The Markdown a notebook's cells showed (display outputs of type text/markdown), one block per line."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            md = o.get("data", {}).get("text/markdown")
            if md:
                out.append("".join(md) if isinstance(md, list) else md)
    return "\n".join(out)


def empty_values(where: str, text: str) -> list[str]:
    """Sentences of ``text`` in which a value is missing (see the module's rules)."""
    out = []
    for line in text.splitlines():
        for pattern, what in _EMPTY:
            if pattern.search(line):
                out.append(f"{where}: {what} in \"{line.strip()[:160]}\"")
                break
    return out


def check(folder: str | Path, restatements: list[Restatement] | tuple = ()) -> dict:
    """Check a CDP's output folder (``tables/``, ``notebooks/``, the HTML pages); raise
    :class:`InconsistentOutputs` listing every contradiction, else return what was checked (for ``run.json``)."""
    folder = Path(folder)
    tables = {p.stem: pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8")
              for p in sorted(folder.glob("tables/*.csv"))}
    problems: list[str] = []
    for r in restatements:
        problems += restated_values(tables, r)
    for name, t in tables.items():
        problems += two_values_per_row(name, t)
    pages = sorted(folder.glob("*.html"))
    notebooks = sorted(folder.glob("notebooks/*.ipynb"))
    for p in pages:
        problems += empty_values(p.name, visible_text(p.read_text(encoding="utf-8")))
    for p in notebooks:
        problems += empty_values(f"notebooks/{p.name}", _notebook_words(p))
    if problems:
        raise InconsistentOutputs(problems)
    return {"tables": len(tables), "restatements": len(restatements), "pages": len(pages),
            "notebooks": len(notebooks), "contradictions": 0}
