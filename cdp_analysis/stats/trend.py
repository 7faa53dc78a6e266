"""Fingertips "recent trend" marker: is an indicator increasing or decreasing over its last 5 points?

Method (OHID Fingertips trend markers; applied to the 5 most recent *consecutive annual* points,
years coded t = 0…4):

Proportions (``value_type="proportion"``: counts xᵢ out of denominators nᵢ) – chi-square test
for trend (Cochran–Armitage / Altman)::

    N = Σnᵢ,  p̄ = Σxᵢ / N,  T₁ = Σnᵢtᵢ,  Sₜₜ = Σnᵢtᵢ² − T₁²/N,  Sₜₓ = Σxᵢtᵢ − p̄·T₁
    χ² = Sₜₓ² / ( p̄(1 − p̄) · Sₜₜ )
    reported slope = Sₜₓ / Sₜₜ               (change in proportion per year; = WLS of pᵢ on tᵢ, weights nᵢ)

and the direction and the consistency check use the **unweighted** least-squares slope of the logit
yᵢ = ln(xᵢ / (nᵢ − xᵢ)) on tᵢ (``logit_slope``), as Fingertips does for proportions. A count of 0 or equal
to its denominator has no logit: the marker cannot be calculated.

Other value types (rates, DSRs, ratios, life expectancy, means, …: value yᵢ with 95 % limits) –
inverse-variance weighted least squares::

    SEᵢ = (upper95ᵢ − lower95ᵢ) / 3.92,   wᵢ = 1 / SEᵢ²
    t̄ = Σwᵢtᵢ/Σwᵢ,  ȳ = Σwᵢyᵢ/Σwᵢ,  Sₜₜ = Σwᵢ(tᵢ − t̄)²
    β = Σwᵢ(tᵢ − t̄)(yᵢ − ȳ) / Sₜₜ,   Var(β) = 1/Sₜₜ,   χ² = β² · Sₜₜ

Decision: "Increasing"/"Decreasing" only when χ² > χ²₁(0.998) = 9.5495 (two-sided 99.8 %,
z = 3.0902) **and** the slope (the logit slope for proportions, β otherwise) has the same sign in
all six fits: the 5-point fit and each of the five leave-one-out 4-point fits (a slope of exactly 0
counts as positive, as in Fingertips); otherwise "No significant change". "Cannot be calculated"
when there are fewer than 5 points, the 5 most recent are not consecutive years, any of them has
a missing/invalid input, or the statistic is undefined (p̄ ∈ {0, 1}, zero or missing CI width).
Polarity maps Increasing/Decreasing to "… and getting better/worse" (``high_is_good``,
``low_is_good``) or leaves them as they are (``bob``, ``no_judgement``).

Source: OHID, "Fingertips trend markers" (public-health-technical-guidance, Trend_markers).
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from ._frame import normalise_group_by as _as_list
from ._frame import numeric_column as _numeric
from .compare import normalise_polarity

log = logging.getLogger(__name__)

__all__ = ["recent_trend", "TREND_CRITICAL_VALUE", "TREND_LEVELS"]

#: χ²₁ critical value at 99.8 % (two-sided): ``scipy.stats.chi2.ppf(0.998, 1)``, to the last digit
#: (tests/stats/test_trend.py checks it), written out so that importing the package does not import SciPy.
TREND_CRITICAL_VALUE = 9.549535706083237

TREND_LEVELS = [
    "Increasing and getting better",
    "Increasing and getting worse",
    "Decreasing and getting better",
    "Decreasing and getting worse",
    "Increasing",
    "Decreasing",
    "No significant change",
    "Cannot be calculated",
]

_N = 5
_CI_WIDTH_TO_SE = 3.92  # 2 × 1.96, as Fingertips


_YEAR = re.compile(r"^\s*(\d{4})")


def _years(df: pd.DataFrame, time: str) -> np.ndarray:
    """Numeric start year of each period: numbers as they are, datetimes' year, else a leading
    4-digit year in the label ("2019/20" → 2019, "2019 - 21" → 2019)."""
    s = df[time]
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.year.to_numpy(dtype=float, na_value=np.nan)
    if pd.api.types.is_numeric_dtype(s):
        return s.to_numpy(dtype=float, na_value=np.nan)
    out = np.full(len(s), np.nan)
    for i, v in enumerate(s):
        if isinstance(v, (int, float, np.integer, np.floating)) and not pd.isna(v):
            out[i] = float(v)
        elif isinstance(v, str):
            m = _YEAR.match(v)
            if m:
                out[i] = float(m.group(1))
    bad = np.isnan(out) & s.notna().to_numpy()
    if bad.any():
        raise ValueError(
            f"column '{time}' has values that are not years or year labels in rows {list(df.index[bad])}"
        )
    return out


def _fit_proportion(t, x, n, m):
    """Chi-square-for-trend slope and statistic for each row of (G, 5) arrays under mask m."""
    nm, xm = n * m, x * m
    N = nm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        pbar = xm.sum(axis=1) / N
        T1 = (nm * t).sum(axis=1)
        Stt = (nm * t * t).sum(axis=1) - T1 * T1 / N
        Stx = (xm * t).sum(axis=1) - pbar * T1
        beta = Stx / Stt
        chi2 = Stx * Stx / (pbar * (1 - pbar) * Stt)
    return beta, chi2


def _fit_logit_ols(t, x, n, m):
    """Unweighted least-squares slope of logit(xᵢ/nᵢ) = ln(xᵢ/(nᵢ − xᵢ)) on t for each row under mask m."""
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.log(x / (n - x))
    k = m.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tbar = (t * m).sum(axis=1) / k
        ybar = (np.where(m > 0, y, 0.0)).sum(axis=1) / k
        dt = (t - tbar[:, None]) * m
        return (dt * (np.where(m > 0, y, 0.0) - ybar[:, None])).sum(axis=1) / (dt * dt).sum(axis=1)


def _fit_wls(t, y, w, m):
    """Inverse-variance weighted LS slope and χ² = β²/Var(β) for each row under mask m."""
    wm = w * m
    W = wm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tbar = (wm * t).sum(axis=1) / W
        ybar = (wm * np.where(m > 0, y, 0.0)).sum(axis=1) / W
        dt = t - tbar[:, None]
        Stt = (wm * dt * dt).sum(axis=1)
        beta = (wm * dt * (np.where(m > 0, y, 0.0) - ybar[:, None])).sum(axis=1) / Stt
        chi2 = beta * beta * Stt
    return beta, chi2


def recent_trend(
    df: pd.DataFrame,
    time: str,
    *,
    value_type: str = "proportion",
    count: str | None = None,
    denominator: str | None = None,
    value: str | None = None,
    lower: str | None = None,
    upper: str | None = None,
    polarity: str = "no_judgement",
    group_by: str | list[str] | None = None,
    multiplier: float = 1.0,
) -> pd.DataFrame:
    """Fingertips recent-trend marker over the 5 most recent consecutive annual points.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per period (per group).
    time : str
        Period column: years as numbers, datetimes, or labels starting with a 4-digit year
        ("2019/20"). Periods must be annual and non-overlapping; a (group, year) may occur once.
    value_type : {"proportion", "other"}
        ``"proportion"`` uses the chi-square test for trend on ``count``/``denominator``; any other
        value ("other", "rate", "dsr", "ratio", "mean", "life_expectancy", …) uses inverse-variance
        WLS on ``value`` with its 95 % limits ``lower``/``upper``.
    count, denominator : str
        Numerator and denominator columns (proportions).
    value, lower, upper : str
        Value and 95 % confidence-limit columns (other types).
    polarity : str
        "high_is_good", "low_is_good", "bob", "no_judgement" or a Fingertips polarity string.
    group_by : str or list of str, optional
        One trend per group (e.g. area, sex).
    multiplier : float, default 1
        Scales the reported ``slope`` (e.g. 100 for percentage points per year on proportions).
        Does not affect the test.

    Returns
    -------
    pandas.DataFrame
        One row per group: grouping columns, ``trend`` (one of :data:`TREND_LEVELS`),
        ``direction`` ("Increasing"/"Decreasing"/"No significant change"/"Cannot be calculated"),
        ``chi_square`` (5-point fit), ``p_value`` (χ²₁ upper tail), ``slope`` (per year, value
        units × ``multiplier``), ``logit_slope`` (proportions: unweighted slope of the logit per year,
        which sets the direction), ``slopes_consistent`` (same sign in all six fits),
        ``n_points`` (points used), ``periods_used`` (tuple of the original time labels),
        ``first_period``, ``last_period`` and ``reason`` (why it cannot be calculated, else "").

    Notes
    -----
    See the module docstring for formulas and edge rules. Groups are computed together in
    (G, 5) arrays; the six fits are a short loop over leave-one-out masks.
    """
    keys = _as_list(group_by)
    is_prop = str(value_type).lower() == "proportion"
    needed = [time, *keys] + ([count, denominator] if is_prop else [value, lower, upper])
    if is_prop and (count is None or denominator is None):
        raise ValueError("value_type='proportion' needs count and denominator columns")
    if not is_prop and (value is None or lower is None or upper is None):
        raise ValueError("non-proportion trends need value, lower and upper (95% limits) columns")
    missing = [c for c in needed if c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found in data; available: {list(df.columns)}")
    pol = normalise_polarity(polarity)

    year = _years(df, time)
    if np.isnan(year).any():
        raise ValueError(f"column '{time}' has missing values in rows {list(df.index[np.isnan(year)])}")
    work = pd.DataFrame({"_year": year, "_pos": np.arange(len(df))}, index=df.index)
    for k in keys:
        work[k] = df[k].to_numpy()
    dup = work.duplicated([*keys, "_year"], keep=False).to_numpy()
    if dup.any():
        raise ValueError(
            f"column '{time}' has repeated periods within a group in rows {list(df.index[dup])}"
        )
    if is_prop:
        a = _numeric(df, count)
        b = _numeric(df, denominator)
        bad = np.isfinite(a) & (a < 0)
        if bad.any():
            raise ValueError(f"column '{count}' has negative values in rows {list(df.index[bad])}")
        bad = np.isfinite(b) & (b <= 0)
        if bad.any():
            raise ValueError(f"column '{denominator}' has zero or negative values in rows {list(df.index[bad])}")
        bad = np.isfinite(a) & np.isfinite(b) & (a > b)
        if bad.any():
            raise ValueError(f"column '{count}' exceeds column '{denominator}' in rows {list(df.index[bad])}")
    else:
        a = _numeric(df, value)
        lo = _numeric(df, lower)
        hi = _numeric(df, upper)
        bad = np.isfinite(lo) & np.isfinite(hi) & (lo > hi)
        if bad.any():
            raise ValueError(f"column '{lower}' is greater than column '{upper}' in rows {list(df.index[bad])}")
        with np.errstate(invalid="ignore"):
            b = (hi - lo) / _CI_WIDTH_TO_SE  # standard error

    work = work.sort_values([*keys, "_year"], kind="mergesort")
    grouped = work.groupby(keys, sort=True, dropna=False) if keys else None
    tails = grouped.tail(_N) if keys else work.tail(_N)
    labels = df[time].to_numpy()

    rows = []
    ok_pos = []
    if keys:
        group_iter = tails.groupby(keys, sort=True, dropna=False)
    else:
        group_iter = [((), tails)]
    for key, g in group_iter:
        key = key if isinstance(key, tuple) else (key,)
        pos = g["_pos"].to_numpy()
        yrs = g["_year"].to_numpy()
        rec = {k: v for k, v in zip(keys, key)}
        rec.update(
            n_points=len(pos),
            periods_used=tuple(labels[pos].tolist()),
            first_period=labels[pos[0]] if len(pos) else None,
            last_period=labels[pos[-1]] if len(pos) else None,
            reason="",
        )
        if len(pos) < _N:
            rec["reason"] = f"fewer than {_N} points"
        elif not np.all(np.diff(yrs) == 1):
            rec["reason"] = f"the {_N} most recent periods are not consecutive years"
        elif not (np.isfinite(a[pos]).all() and np.isfinite(b[pos]).all()):
            rec["reason"] = "missing values in the most recent periods"
        elif not is_prop and not (b[pos] > 0).all():
            rec["reason"] = "zero-width confidence interval"
        rows.append(rec)
        ok_pos.append(pos if rec["reason"] == "" else None)

    # a grouped call on an empty frame has no groups: no rows, the same columns (an ungrouped one has one
    # group, which cannot be calculated)
    out = pd.DataFrame(rows, columns=[*keys, "n_points", "periods_used", "first_period", "last_period", "reason"])
    n_g = len(out)
    chi2_full = np.full(n_g, np.nan)
    slope_full = np.full(n_g, np.nan)
    consistent = np.zeros(n_g, dtype=bool)
    logit_full = np.full(n_g, np.nan)
    direction_sign = np.zeros(n_g)

    idx = [i for i, p in enumerate(ok_pos) if p is not None]
    if idx:
        P = np.vstack([ok_pos[i] for i in idx])  # (G, 5) positions, time-ordered
        t = np.tile(np.arange(_N, dtype=float), (len(idx), 1))
        A, B = a[P], b[P]
        full = np.ones_like(t)
        if is_prop:
            beta, chi2 = _fit_proportion(t, A, B, full)
            direction_slope = lambda m: _fit_logit_ols(t, A, B, m)  # noqa: E731
        else:
            W = 1.0 / (B * B)
            beta, chi2 = _fit_wls(t, A, W, full)
            direction_slope = lambda m: _fit_wls(t, A, W, m)[0]  # noqa: E731
        d_full = direction_slope(full)
        signs = [np.where(d_full < 0, -1, 1)]
        for j in range(_N):
            m = full.copy()
            m[:, j] = 0.0
            signs.append(np.where(direction_slope(m) < 0, -1, 1))
        S = np.vstack(signs)  # (6, G)
        same = np.all(S == S[0], axis=0)
        chi2_full[idx] = chi2
        slope_full[idx] = beta * multiplier
        logit_full[idx] = d_full if is_prop else np.nan
        consistent[idx] = same
        no_logit = ~np.isfinite(d_full) if is_prop else np.zeros(len(idx), dtype=bool)
        for gi, u, nl in zip(idx, ~np.isfinite(chi2), no_logit):
            if u:
                out.loc[gi, "reason"] = (
                    "no variation: proportion is 0 or 1 in every period" if is_prop else "statistic undefined"
                )
            elif nl:
                out.loc[gi, "reason"] = "a count of 0 or equal to its denominator among the 5 points (no logit)"
        direction_sign[idx] = np.where(d_full < 0, -1.0, 1.0)

    can = (out["reason"] == "").to_numpy()
    sig = can & (chi2_full > TREND_CRITICAL_VALUE) & consistent
    direction = np.where(
        ~can,
        "Cannot be calculated",
        np.where(sig & (direction_sign > 0), "Increasing",
                 np.where(sig & (direction_sign < 0), "Decreasing", "No significant change")),
    ).astype(object)
    trend = direction.copy()
    if pol == "high_is_good":
        trend[direction == "Increasing"] = "Increasing and getting better"
        trend[direction == "Decreasing"] = "Decreasing and getting worse"
    elif pol == "low_is_good":
        trend[direction == "Increasing"] = "Increasing and getting worse"
        trend[direction == "Decreasing"] = "Decreasing and getting better"

    chi2_full[~can] = np.nan
    slope_full[~can] = np.nan
    result = out[keys].copy() if keys else pd.DataFrame(index=out.index)
    result["trend"] = pd.Categorical(trend, categories=TREND_LEVELS)
    result["direction"] = direction
    result["chi_square"] = chi2_full
    # SciPy is imported when first used: `cdp run` of up-to-date CDPs never needs it
    from scipy import stats as _st

    result["p_value"] = _st.chi2.sf(chi2_full, 1)
    result["slope"] = slope_full
    logit_full[~can] = np.nan
    result["logit_slope"] = logit_full
    result["slopes_consistent"] = np.where(can, consistent, False)
    for c in ("n_points", "periods_used", "first_period", "last_period", "reason"):
        result[c] = out[c].to_numpy()
    return result
