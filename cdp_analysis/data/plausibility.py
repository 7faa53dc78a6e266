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

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError

log = logging.getLogger(__name__)

HINT = ("the published file never holds such a value: restore it unchanged from ../shared/data (see "
        "data/README.md); if a new edition really holds it, confirm it with the publisher before registering it")


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


def check(table: pd.DataFrame, rules: Iterable[Rule], *, file: Path | None = None, sheet: str | None = None) -> None:
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
                         file=where_file, where=", ".join(parts), hint=HINT)


def _show(value) -> str:
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    if isinstance(value, float | np.floating):
        value = float(value)
        return f"{value:,.0f}" if value.is_integer() else f"{value:g}"
    return repr(value)
