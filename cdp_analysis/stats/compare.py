"""Comparison of an area's value with a benchmark, as the OHID Fingertips "compared with" markers.

The area's confidence interval (95 % or 99.8 %; the caller passes the limit columns) is set
against the benchmark *value* (e.g. England, the region, a target):

* benchmark within [lower, upper] (boundaries included) → "Similar"
* lower > benchmark (interval entirely above)             → "Higher"
* upper < benchmark (interval entirely below)             → "Lower"
* value, lower, upper or benchmark missing                → "Not compared"

Polarity then turns Higher/Lower into Better/Worse:

==================  ===================  ===================
polarity            Higher               Lower
==================  ===================  ===================
``high_is_good``    Better               Worse
``low_is_good``     Worse                Better
``bob``             Higher               Lower
``no_judgement``    Higher               Lower
==================  ===================  ===================

Fingertips' own polarity strings are accepted (case- and space-insensitive):
"RAG - High is good" → high_is_good, "RAG - Low is good" → low_is_good,
"BOB - Blue orange blue" → bob, "Not applicable" / "No judgement" → no_judgement.

Source: OHID Fingertips technical guidance, "Comparing indicators with a benchmark"
(confidence-interval overlap with the benchmark value).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ._frame import normalise_group_by as _as_list
from ._frame import numeric_column as _numeric

log = logging.getLogger(__name__)

__all__ = ["compare_to_benchmark", "normalise_polarity", "POLARITIES", "COMPARISON_LEVELS"]

#: Canonical polarity values.
POLARITIES = ("high_is_good", "low_is_good", "bob", "no_judgement")

#: All labels ``compare_to_benchmark`` can return.
COMPARISON_LEVELS = ["Better", "Similar", "Worse", "Higher", "Lower", "Not compared"]

_ALIASES = {
    "high_is_good": "high_is_good",
    "highisgood": "high_is_good",
    "high": "high_is_good",
    "rag-highisgood": "high_is_good",
    "low_is_good": "low_is_good",
    "lowisgood": "low_is_good",
    "low": "low_is_good",
    "rag-lowisgood": "low_is_good",
    "bob": "bob",
    "bob-blueorangeblue": "bob",
    "blueorangeblue": "bob",
    "no_judgement": "no_judgement",
    "nojudgement": "no_judgement",
    "nojudgment": "no_judgement",
    "notapplicable": "no_judgement",
    "none": "no_judgement",
}


def normalise_polarity(polarity) -> str:
    """Map a polarity string (ours or Fingertips') to one of :data:`POLARITIES`.

    Raises
    ------
    ValueError
        If the string is not recognised.
    """
    if polarity is None:
        return "no_judgement"
    key = "".join(str(polarity).lower().split())  # drop all whitespace
    for candidate in (key, key.replace("_", "")):
        if candidate in _ALIASES:
            return _ALIASES[candidate]
    raise ValueError(
        f"unrecognised polarity {polarity!r}; use one of {POLARITIES} or a Fingertips polarity "
        "('RAG - High is good', 'RAG - Low is good', 'BOB - Blue orange blue', 'Not applicable')"
    )


def _level_label(level) -> str | None:
    if level is None:
        return None
    if isinstance(level, str):
        return level
    c = float(level)
    if c < 1:
        c *= 100
    return f"{c:g}%"


#: Relative tolerance for a value at its own limit (floating-point rounding).
_TOL = 1e-9


def compare_to_benchmark(
    df: pd.DataFrame,
    value: str,
    lower: str,
    upper: str,
    benchmark: float | str,
    *,
    polarity: str = "no_judgement",
    level: float | str | None = None,
    group_by: str | list[str] | None = None,
    name: str = "comparison",
) -> pd.DataFrame:
    """Compare each row's confidence interval with a benchmark value (Fingertips method).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per area (per period, sex, …).
    value, lower, upper : str
        Columns with the indicator value and the lower/upper confidence limits (same units).
        Which interval (95 % or 99.8 %) is up to the caller.
    benchmark : float or str
        A number applied to every row, or the name of a column holding a per-row benchmark
        (e.g. the England value merged on by period).
    polarity : str, default "no_judgement"
        One of :data:`POLARITIES`, a Fingertips polarity string, or the name of a column in
        ``df`` holding a polarity per row.
    level : float or str, optional
        Confidence level of the interval, e.g. 0.95, 99.8 or "95%"; written to a ``level`` column
        ("95%", "99.8%") when given.
    group_by : str or list of str, optional
        Grouping columns; they are validated and kept (the comparison is row-wise).
    name : str, default "comparison"
        Output column name.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with ``name`` (categorical, :data:`COMPARISON_LEVELS`), ``{name}_direction``
        ("Higher"/"Lower"/"Similar"/"Not compared", before polarity), and ``level`` if requested.

    Notes
    -----
    Rule (boundaries count as overlap): B ∈ [L, U] → Similar; L > B → Higher; U < B → Lower.
    Rows where value, L, U or B is missing → "Not compared". A row with L > U, or whose value lies outside
    its own limits (beyond a relative rounding tolerance of 1e-9), raises ValueError.
    """
    keys = _as_list(group_by)
    cols = [value, lower, upper, *keys]
    bench_is_col = isinstance(benchmark, str)
    if bench_is_col:
        cols.append(benchmark)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found in data; available: {list(df.columns)}")

    v = _numeric(df, value)
    lo = _numeric(df, lower)
    hi = _numeric(df, upper)
    if bench_is_col:
        b = _numeric(df, benchmark)
    else:
        try:
            b = np.full(len(df), float(benchmark))
        except (TypeError, ValueError):
            raise ValueError(f"benchmark must be a number or a column name, got {benchmark!r}") from None

    bad = np.isfinite(lo) & np.isfinite(hi) & (lo > hi)
    if bad.any():
        raise ValueError(
            f"column '{lower}' is greater than column '{upper}' in rows {list(df.index[bad])}"
        )

    outside = np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi) & ((v < lo - _TOL * np.abs(v)) | (v > hi + _TOL * np.abs(v)))
    if outside.any():
        raise ValueError(
            f"column '{value}' lies outside its own limits '{lower}'–'{upper}' in rows {list(df.index[outside])}"
        )

    # polarity: a single value or a column of values
    if isinstance(polarity, str) and polarity in df.columns:
        pol = np.array([normalise_polarity(p) if pd.notna(p) else "no_judgement" for p in df[polarity]], dtype=object)
    else:
        pol = np.full(len(df), normalise_polarity(polarity), dtype=object)

    usable = np.isfinite(v) & np.isfinite(lo) & np.isfinite(hi) & np.isfinite(b)
    with np.errstate(invalid="ignore"):
        higher = usable & (lo > b)
        lower_ = usable & (hi < b)
    direction = np.select([~usable, higher, lower_], ["Not compared", "Higher", "Lower"], default="Similar").astype(object)

    result = direction.copy()
    hig = pol == "high_is_good"
    lig = pol == "low_is_good"
    result[higher & hig] = "Better"
    result[lower_ & hig] = "Worse"
    result[higher & lig] = "Worse"
    result[lower_ & lig] = "Better"

    out = df.copy()
    out[name] = pd.Categorical(result, categories=COMPARISON_LEVELS)
    out[f"{name}_direction"] = pd.Categorical(direction, categories=["Higher", "Similar", "Lower", "Not compared"])
    lab = _level_label(level)
    if lab is not None:
        out["level"] = lab
    return out
