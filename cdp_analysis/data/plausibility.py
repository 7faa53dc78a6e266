"""Plausibility rules: well-formed but absurd published data is stopped before it reaches a table.

A reader (:mod:`cdp_analysis.data.readers`) already refuses what cannot be read: a missing column, text in
a count, a negative count. A plausibility rule catches what reads fine but cannot be true: an IMD score of
-999, a decile of 15, an area whose population is a thousand times last year's, areas that no longer add up
to their region. Each dataset module declares its rules beside its loader (``Dataset.rules``, listed in
``docs/plausibility.md``) and its loader applies them with :func:`check`. A failure is an
:class:`~cdp_analysis.errors.InputError` naming the file, sheet, row, column, the value and the rule.

A rule is vectorised: ``passes(table)`` returns a boolean Series, True where the row is plausible. Rows
carry where they came from in ``_row`` (line or Excel row number) and, for tables built from several files
or sheets or melted from a matrix, ``_file``, ``_sheet`` and ``_column``.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

log = logging.getLogger(__name__)

HINT = ("the published file never holds such a value: restore it unchanged from ../shared/data (see "
        "data/README.md); if a new edition really holds it, confirm it with the publisher before registering it")

#: The largest count of people, or of their events in a year, that a figure for one area or for England can
#: hold: England's adult (18+) population, 45.3 million at mid-2022 (ONS), rounded up. A larger count in an
#: NDTMS ViewIt export or a partnership's own file is a typing or export error (digits repeated, a cell
#: pasted twice), never a real figure.
MAX_PEOPLE = 50_000_000
#: The largest Count or Denominator of a Fingertips export: a denominator may pool years (five years of
#: England's whole population is about 285 million person-years), so the bound is 1,000,000,000.
MAX_FINGERTIPS = 1_000_000_000
#: NDTMS, and so every ViewIt export, starts in the financial year 2005/06.
NDTMS_FIRST_YEAR = 2005
#: No partnership's own figures (police, treatment providers, schools programmes) go back before 1990.
LOCAL_FIRST_YEAR = 1990


def production_date() -> datetime.date:
    """The day the report is produced (today). Periods that end after it are refused: figures for a year not
    yet over cannot be complete. Tests replace this function (``monkeypatch.setattr(plausibility,
    'production_date', ...)``) or pass ``today=`` to the readers."""
    return datetime.date.today()


_CALENDAR = re.compile(r"^((?:19|20)[0-9][0-9])$")
_FINANCIAL = re.compile(r"^((?:19|20)[0-9][0-9])/([0-9][0-9])$")
_CALENDAR_POOLED = re.compile(r"^((?:19|20)[0-9][0-9]) - ([0-9][0-9])$")
_FINANCIAL_POOLED = re.compile(r"^((?:19|20)[0-9][0-9])/([0-9][0-9]) - ([0-9][0-9])/([0-9][0-9])$")


def _end_year(start: int, yy: int) -> int:
    """The full year of a two-digit year ``yy`` following (or equal to) ``start`` (2019, 21 → 2021; 2099, 0 → 2100)."""
    year = start - start % 100 + yy
    return year + 100 if year < start else year


def period_kind(text: str) -> str:
    """'calendar' (``2023``, ``2021 - 23``), 'financial' (``2023/24``, ``2021/22 - 23/24``) or '' (other
    formats, e.g. quarters, or a financial year whose second year does not follow the first)."""
    text = str(text).strip()
    if _CALENDAR.match(text) or _CALENDAR_POOLED.match(text):
        return "calendar"
    m = _FINANCIAL.match(text)
    if m and (int(m[1]) + 1) % 100 == int(m[2]):
        return "financial"
    m = _FINANCIAL_POOLED.match(text)
    if m and (int(m[1]) + 1) % 100 == int(m[2]) and (int(m[3]) + 1) % 100 == int(m[4]):
        return "financial"
    return ""


def period_span(text: str) -> tuple[datetime.date, datetime.date] | None:
    """The first and last day of a period written as a calendar year (``2023``: 1 January to 31 December),
    a financial year (``2023/24``: 1 April 2023 to 31 March 2024) or a pooled run of either (``2021 - 23``,
    ``2019/20 - 21/22``); None for any other format."""
    text = str(text).strip()
    if period_kind(text) == "":
        return None
    if m := _CALENDAR.match(text):
        return datetime.date(int(m[1]), 1, 1), datetime.date(int(m[1]), 12, 31)
    if m := _CALENDAR_POOLED.match(text):
        return datetime.date(int(m[1]), 1, 1), datetime.date(_end_year(int(m[1]), int(m[2])), 12, 31)
    if m := _FINANCIAL.match(text):
        return datetime.date(int(m[1]), 4, 1), datetime.date(_end_year(int(m[1]), int(m[2])), 3, 31)
    m = _FINANCIAL_POOLED.match(text)
    start = int(m[1])
    last_start = _end_year(start, int(m[3]))
    return datetime.date(start, 4, 1), datetime.date(_end_year(last_start, int(m[4])), 3, 31)


def period_ended(periods: pd.Series, today: datetime.date) -> pd.Series:
    """True where a period (see :func:`period_span`) has ended by ``today``; other formats pass."""
    ends = periods.map(lambda p: (period_span(p) or (None, None))[1])
    return ends.map(lambda end: end is None or end <= today).astype(bool)


def period_starts_from(periods: pd.Series, first_year: int, *, financial: bool = False) -> pd.Series:
    """True where a period starts in ``first_year`` or later (from April of it if ``financial``); other
    formats pass."""
    first = datetime.date(first_year, 4 if financial else 1, 1)
    starts = periods.map(lambda p: (period_span(p) or (None, None))[0])
    return starts.map(lambda start: start is None or start >= first).astype(bool)


@dataclass(frozen=True)
class Rule:
    """One plausibility rule of a dataset.

    Attributes
    ----------
    name : str
        The rule in words, as the error message and ``docs/plausibility.md`` state it
        ("IMD average score is between 0 and 100").
    column : str
        The column of the published file it checks (named in the error).
    passes : callable
        ``passes(table) -> Series[bool]``, True where the row is plausible (missing values pass unless the
        rule is about them).
    shown : str, optional
        The column whose value the error shows (default ``column``), e.g. the total a check compares.
    """

    name: str
    column: str
    passes: Callable[[pd.DataFrame], pd.Series]
    shown: str | None = None


def between(column: str, low: float, high: float, *, what: str | None = None, whole: bool = False) -> Rule:
    """A range rule: ``low <= value <= high`` (and a whole number if ``whole``); missing values pass."""
    label = what or column

    def passes(t: pd.DataFrame) -> pd.Series:
        v = pd.to_numeric(t[column], errors="coerce")
        ok = v.between(low, high) | v.isna()
        return ok & ((v % 1 == 0) | v.isna()) if whole else ok

    def fmt(x: float) -> str:
        return f"{x:,.0f}" if float(x).is_integer() else f"{x:g}"

    return Rule(f"{label} is {'a whole number ' if whole else ''}between {fmt(low)} and {fmt(high)}", column, passes)


def year_on_year(value: str, *, key: Iterable[str], year: str = "year", factor: float = 1.25,
                 what: str | None = None) -> Rule:
    """A jump rule: within each ``key`` group, ``value`` changes by at most ``factor`` per year between
    consecutive years held (so 1.25 allows -20% … +25% a year; a gap of n years allows ``factor ** n``).
    The later row of a jump fails (the earlier years are taken as the reference)."""
    key = list(key)
    label = what or value

    def passes(t: pd.DataFrame) -> pd.Series:
        ordered = t.sort_values([*key, year])
        grouped = ordered.groupby(key, sort=False)
        prev_value = grouped[value].shift()
        gap = ordered[year] - grouped[year].shift()
        ratio = ordered[value] / prev_value
        allowed = np.power(factor, gap)
        ok = ratio.isna() | ((ratio <= allowed) & (ratio >= 1 / allowed))
        return ok.reindex(t.index)

    return Rule(f"{label} changes by at most a factor of {factor:g} a year", value, passes)


def sums_to(value: str, *, parts: Callable[[pd.DataFrame], pd.Series], total: Callable[[pd.DataFrame], pd.Series],
            group: Callable[[pd.DataFrame], pd.DataFrame], tolerance: float = 0.0005, what: str) -> Rule:
    """A consistency rule: the rows selected by ``parts`` add up to the row selected by ``total`` in each
    group (``group(table)``: a frame of group keys per row, NaN for rows in no group), within a relative
    ``tolerance`` (rounding). The total row fails when they do not."""

    def passes(t: pd.DataFrame) -> pd.Series:
        keys = group(t)
        cols = list(keys.columns)
        frame = pd.concat([keys, t[[value]]], axis=1)
        sums = frame[parts(t).to_numpy()].groupby(cols, dropna=True)[value].sum()
        totals = frame[total(t).to_numpy()]
        expected = pd.MultiIndex.from_frame(totals[cols]).map(lambda k: sums.get(k if len(cols) > 1 else k[0], np.nan))
        expected = pd.Series(np.asarray(expected, dtype=float), index=totals.index)
        off = (totals[value] - expected).abs() > tolerance * expected.abs().clip(lower=1)
        ok = pd.Series(True, index=t.index)
        ok[totals.index[off & expected.notna()]] = False
        return ok

    return Rule(what, value, passes)


def check(table: pd.DataFrame, rules: Iterable[Rule], *, file: Path | None = None, sheet: str | None = None,
          hint: str = HINT) -> None:
    """Apply ``rules`` in order; raise :class:`InputError` at the first row that fails one.

    Parameters
    ----------
    table : DataFrame
        The rows as read, with ``_row`` (row number in the file) and, if they come from several files or
        sheets, ``_file`` / ``_sheet`` columns (which override ``file`` / ``sheet``).
    rules : iterable of Rule
        The dataset's rules.
    file, sheet : optional
        Where the rows come from, when the table does not say per row.
    hint : str
        What to do (default :data:`HINT`, for a published file in ``data/raw``; an analyst's own file gets
        what the analyst can do with it).
    """
    for rule in rules:
        ok = rule.passes(table).fillna(True).astype(bool)
        if ok.all():
            continue
        bad = table.loc[~ok.to_numpy()]
        first = bad.iloc[0]
        shown = rule.shown or rule.column
        value = first[shown] if shown in bad.columns else None
        where_file = Path(first["_file"]) if "_file" in bad.columns else file
        where_sheet = first["_sheet"] if "_sheet" in bad.columns else sheet
        parts = [f"sheet '{where_sheet}'"] if where_sheet else []
        if "_row" in bad.columns:
            parts.append(f"row {int(first['_row'])}")
        parts.append(f"column '{first['_column'] if '_column' in bad.columns else rule.column}'")
        more = f" ({len(bad) - 1} more row(s) fail it too)" if len(bad) > 1 else ""
        raise InputError(f"implausible value {_show(value)}: fails the rule '{rule.name}'{more}",
                         file=where_file, where=", ".join(parts), hint=hint)


def _show(value) -> str:
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        return f"{value:,.0f}" if value.is_integer() else f"{value:g}"
    return repr(shorten(value)) if isinstance(value, str) else repr(value)


def shorten(text: str, limit: int = 40) -> str:
    """A cell's text as a message may show it: at most ``limit`` characters (then '…'), on one line."""
    text = " ".join(str(text).split()) if "\n" in str(text) or "\r" in str(text) else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
