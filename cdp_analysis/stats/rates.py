"""Proportions, crude rates and means with confidence limits (PHEindicatormethods v2.1).

DataFrame interface: each function takes a DataFrame and column *names*, optionally groups it
(``group_by``), and returns a new DataFrame with one row per group (one row in total without
grouping): the grouping columns, the summed inputs under their own names, ``value``, the
confidence limits, ``confidence``, ``statistic`` and ``method``. See :mod:`._frame` for the
shared conventions (confidence levels, limit column names, error messages).

=================  ==========================================  =============================
function           R equivalent                                limits
=================  ==========================================  =============================
:func:`proportion` ``phe_proportion(data, x, n, ...)``         Wilson score
:func:`crude_rate` ``phe_rate(data, x, n, ...)``               exact Poisson (x < 10) /
                                                               Byar's (x >= 10)
:func:`mean`       ``phe_mean(data, x, ...)``                  Student's t, df = n − 1
=================  ==========================================  =============================

Differences from R (deliberate, documented in ``docs/methods.md``): without ``group_by`` the
whole frame is summed into one row (R's ungrouped ``phe_proportion``/``phe_rate`` work row by
row — group by a row identifier to get that), and invalid inputs raise ``ValueError`` listing the
offending rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frame as fr
from .limits import byars_limits, exact_poisson_limits, wilson_limits

__all__ = ["proportion", "crude_rate", "mean"]

#: Counts below this use exact Poisson limits, at or above it Byar's (crude rates, ISRs).
EXACT_BELOW = 10


def poisson_count_limits(x, confidence: float):
    """Limits of a Poisson count: exact (chi-square) when x < 10, Byar's when x >= 10.

    This is the rule of PHEindicatormethods ``phe_rate`` and ``calculate_ISRatio``/``ISRate``.
    Only the distinct counts below 10 go through the (slower) chi-square quantiles. NaN counts
    give NaN.

    Parameters
    ----------
    x : array-like
        Non-negative counts (need not be integers).
    confidence : float
        One level, 0.95 or 95 etc.

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray
        Limits on the count scale.
    """
    x = np.asarray(x, dtype=float)
    lower, upper = byars_limits(x, confidence)
    small = x < EXACT_BELOW
    if small.any():
        # counts below 10 take few distinct values: evaluate the chi-square quantiles once each
        uniq, inv = np.unique(x[small], return_inverse=True)
        lo, up = exact_poisson_limits(uniq, confidence)
        lo, up = lo[inv], up[inv]
        lower = lower.copy()
        upper = upper.copy()
        lower[small] = lo
        upper[small] = up
    return lower, upper


def poisson_scaled_columns(count, divisor, scale: float, spec) -> dict:
    """``value`` and limit columns for ``count / divisor × scale``, limits from :func:`poisson_count_limits`.

    Shared by crude rates (divisor = population) and indirectly standardised ratios and rates
    (divisor = expected count). ``spec`` is a parsed confidence (``_frame.parse_confidence``).
    """
    cols = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["value"] = count / divisor * scale
        for level, (lo_name, up_name) in zip(spec.levels, spec.columns):
            lo, up = poisson_count_limits(count, level)
            cols[lo_name] = lo / divisor * scale
            cols[up_name] = up / divisor * scale
    return cols


def poisson_method_labels(x) -> np.ndarray:
    """``"Exact"`` where x < 10, ``"Byars"`` where x >= 10, missing (None) where x is NaN."""
    x = np.asarray(x, dtype=float)
    out = np.where(x < EXACT_BELOW, "Exact", "Byars").astype(object)
    out[np.isnan(x)] = None
    return out


def _prepare(df, cols, group_by):
    keys = fr.normalise_group_by(group_by)
    fr.require_columns(df, list(cols) + keys)
    overlap = [c for c in cols if c in keys]
    if overlap:
        raise ValueError(f"column(s) {overlap!r} cannot be both a value column and in group_by")
    return keys


def _check_x_n(df, x, n, xs, ns, *, x_le_n: bool):
    fr.check_rows(df, xs < 0, x, "negative numerators")
    fr.check_rows(df, ~np.isfinite(xs) & ~np.isnan(xs), x, "infinite numerators")
    fr.check_rows(df, ns <= 0, n, "zero or negative denominators")
    fr.check_rows(df, ~np.isfinite(ns) & ~np.isnan(ns), n, "infinite denominators")
    if x_le_n:
        fr.check_rows(df, xs > ns, x, f"numerators greater than the denominator {n!r}")


def _summed_x_n(df: pd.DataFrame, x: str, n: str, group_by, confidence, *, x_le_n: bool):
    """Validate ``x`` and ``n``, parse ``confidence`` and sum both within groups (NaN propagates).

    Returns ``(confidence spec, group key frame, summed x, summed n)``.
    """
    keys = _prepare(df, [x, n], group_by)
    spec = fr.parse_confidence(confidence)
    xs, ns = fr.numeric_column(df, x), fr.numeric_column(df, n)
    _check_x_n(df, x, n, xs, ns, x_le_n=x_le_n)
    codes, keys_frame = fr.group_frame(df, keys)
    g = len(keys_frame)
    return spec, keys_frame, fr.group_sums(codes, g, xs, skipna=False), fr.group_sums(codes, g, ns, skipna=False)


def proportion(df: pd.DataFrame, x: str, n: str, *, group_by=None, confidence=0.95, multiplier=1):
    """Proportion x/n with Wilson score confidence limits (R: ``phe_proportion``).

    Parameters
    ----------
    df : pandas.DataFrame
        Input data.
    x, n : str
        Column names of the numerator (cases meeting the condition) and denominator.
    group_by : str or list of str, optional
        Columns defining groups; ``x`` and ``n`` are summed within each group first. Without
        grouping the whole frame is summed into one row.
    confidence : float or (float, float)
        0.95 (or 95), any level in [0.9, 1); or the pair (0.95, 0.998).
    multiplier : float
        Scale of the output: 1 = proportion, 100 = percentage, 1000 = per 1,000.

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``x`` and ``n`` (summed, original names), ``value``, ``lowercl``,
        ``uppercl`` (or ``lower95_0cl`` … ``upper99_8cl``), ``confidence`` (``"95%"``),
        ``statistic`` (``"percentage"`` when multiplier = 100, else ``"proportion of <m>"``)
        and ``method`` (``"Wilson"``).

    Notes
    -----
    ``value = x / n × multiplier``; limits are Wilson score limits (see
    :func:`~cdp_analysis.stats.limits.wilson_limits`) × multiplier, defined at x = 0 and x = n.

    Rules, as in PHEindicatormethods:

    * x < 0, n <= 0 or x > n in any row raises ``ValueError`` (listing the rows).
    * Missing values are allowed: a group with a missing x or n (R's ``sum`` without
      ``na.rm``) gets a missing sum, value and limits; the row is kept.
    """
    spec, keys_frame, sx, sn = _summed_x_n(df, x, n, group_by, confidence, x_le_n=True)
    m = float(multiplier)
    cols = {x: sx, n: sn}
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["value"] = sx / sn * m
    for level, (lo_name, up_name) in zip(spec.levels, spec.columns):
        lo, up = wilson_limits(sx, sn, level)
        cols[lo_name] = lo * m
        cols[up_name] = up * m
    cols["confidence"] = spec.label
    cols["statistic"] = "percentage" if m == 100 else f"proportion of {fr.format_multiplier(m)}"
    cols["method"] = "Wilson"
    return fr.assemble(keys_frame, cols)


def crude_rate(df: pd.DataFrame, x: str, n: str, *, group_by=None, confidence=0.95, multiplier=100_000):
    """Crude rate x/n × multiplier with exact or Byar's Poisson limits (R: ``phe_rate``).

    Parameters
    ----------
    df : pandas.DataFrame
        Input data.
    x, n : str
        Column names of the event count and the population (person-years).
    group_by : str or list of str, optional
        Columns defining groups; ``x`` and ``n`` are summed within each group first. Without
        grouping the whole frame is summed into one row.
    confidence : float or (float, float)
        0.95 (or 95), any level in [0.9, 1); or the pair (0.95, 0.998).
    multiplier : float
        Rate per ``multiplier`` people (default per 100,000).

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``x`` and ``n`` (summed), ``value``, limits, ``confidence``,
        ``statistic`` (``"rate per 100000"``) and ``method`` — ``"Exact"`` when the summed
        count is < 10, ``"Byars"`` when >= 10, missing when the count is missing.

    Notes
    -----
    ``value = x / n × multiplier``. Limits on the count, divided by n, × multiplier:

    * x < 10: exact Poisson limits ``χ²(α/2; 2x)/2`` and ``χ²(1−α/2; 2x+2)/2`` (lower = 0 at
      x = 0);
    * x >= 10: Byar's approximation.

    x < 0 or n <= 0 raises ``ValueError``; x > n is allowed (a rate). Missing values propagate
    to the group as in :func:`proportion`.
    """
    spec, keys_frame, sx, sn = _summed_x_n(df, x, n, group_by, confidence, x_le_n=False)
    m = float(multiplier)
    cols = {x: sx, n: sn}
    cols.update(poisson_scaled_columns(sx, sn, m, spec))
    cols["confidence"] = spec.label
    cols["statistic"] = f"rate per {fr.format_multiplier(m)}"
    cols["method"] = poisson_method_labels(sx)
    return fr.assemble(keys_frame, cols)


def mean(df: pd.DataFrame, x: str, *, group_by=None, confidence=0.95):
    """Mean with Student's t confidence limits (R: ``phe_mean``).

    Parameters
    ----------
    df : pandas.DataFrame
        Input data, one row per observation.
    x : str
        Column name of the values.
    group_by : str or list of str, optional
        Columns defining groups; without grouping all rows form one group.
    confidence : float or (float, float)
        0.95 (or 95), any level in [0.9, 1); or the pair (0.95, 0.998).

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``value_sum``, ``value_count`` (number of rows), ``stdev`` (sample
        standard deviation, divisor n − 1), ``value``, limits, ``confidence``,
        ``statistic`` (``"mean"``) and ``method`` (``"Student's t-distribution"``).

    Notes
    -----
    ``value = Σx / n``; limits ``value ∓ t(1 − α/2; n − 1) × stdev / √n``.

    As in R: a missing value makes the group's sum, stdev, value and limits missing (the
    count still counts the row); a group of one row has stdev and limits missing.
    """
    keys = _prepare(df, [x], group_by)
    spec = fr.parse_confidence(confidence)
    xs = fr.numeric_column(df, x)
    fr.check_rows(df, np.isinf(xs), x, "infinite values")

    codes, keys_frame = fr.group_frame(df, keys)
    g = len(keys_frame)
    count = np.bincount(codes, minlength=g).astype(float)
    total = fr.group_sums(codes, g, xs, skipna=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = total / count
        # two-pass variance for accuracy: Σ(x − mean)² / (n − 1)
        dev = xs - avg[codes]
        ss = fr.group_sums(codes, g, dev * dev, skipna=False)
        stdev = np.sqrt(np.where(count > 1, ss / (count - 1), np.nan))
        cols = {"value_sum": total, "value_count": count.astype(np.int64), "stdev": stdev, "value": avg}
        se = stdev / np.sqrt(count)
        dof = np.where(count > 1, count - 1, np.nan)
        from scipy import stats as _st  # imported when first used (not by no-op runs)

        for level, (lo_name, up_name) in zip(spec.levels, spec.columns):
            t = _st.t.ppf(1 - (1 - level) / 2, dof)
            cols[lo_name] = avg - t * se
            cols[up_name] = avg + t * se
    cols["confidence"] = spec.label
    cols["statistic"] = "mean"
    cols["method"] = "Student's t-distribution"
    return fr.assemble(keys_frame, cols)
