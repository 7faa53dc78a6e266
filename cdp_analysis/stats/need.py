"""Met and unmet need for treatment, with the limits OHID publishes (Fingertips 93517, 93532).

With T people in structured treatment and P̂ the estimated number in need (with limits P̂_L, P̂_U) for the
same substance group, ages, period and area:

.. math:: \\text{met} = T / \\hat{P}, \\qquad \\text{unmet} = 1 - T / \\hat{P}

and the limits come from the need estimate's limits alone (T is a count of everyone in treatment, not a
sample):

.. math:: \\text{unmet} \\in [1 - T/\\hat{P}_L,\\; 1 - T/\\hat{P}_U], \\qquad \\text{met} \\in [T/\\hat{P}_U,\\; T/\\hat{P}_L].

This is how OHID computes 'Proportion of dependent drinkers not in treatment' (93532) and 'Proportion of
opiate and/or crack cocaine users not in treatment' (93517): with P̂ and its limits the mean of the three
years' estimates, the published values are reproduced exactly (``tests/stats/test_need.py``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frame as fr


def met_need(df: pd.DataFrame, treated: str, need: str, need_lower: str | None = None, need_upper: str | None = None,
             *, group_by=None, multiplier: float = 100) -> pd.DataFrame:
    """Met and unmet need with limits from the need estimate's limits.

    Parameters
    ----------
    df : DataFrame
        One row per area (period, substance …).
    treated : str
        People in treatment, T (persons).
    need : str
        Estimated number in need, P̂ (persons).
    need_lower, need_upper : str, optional
        Limits of P̂; without them the met and unmet need carry no limits.
    group_by : str or list of str, optional
        Columns identifying the rows; counts are summed within each group (limits summed likewise, which is
        right only for pieces of one published estimate).
    multiplier : float
        100 for percentages, 1 for proportions.

    Returns
    -------
    DataFrame
        Grouping columns, ``treated``, ``need``, ``met_need`` with ``met_lowercl``/``met_uppercl``,
        ``unmet_need`` with ``unmet_lowercl``/``unmet_uppercl``, and ``method``. Met need above 100% (more
        people in treatment than estimated in need) is kept and flagged in ``method``.
    """
    keys = fr.normalise_group_by(group_by)
    cols = [treated, need, *[c for c in (need_lower, need_upper) if c], *keys]
    fr.require_columns(df, cols)
    t = fr.numeric_column(df, treated)
    fr.check_rows(df, t < 0, treated, "negative numbers in treatment")
    p = fr.numeric_column(df, need)
    fr.check_rows(df, ~(p > 0), need, "missing or non-positive estimates of need")
    lo = fr.numeric_column(df, need_lower) if need_lower else np.full(len(df), np.nan)
    hi = fr.numeric_column(df, need_upper) if need_upper else np.full(len(df), np.nan)
    fr.check_rows(df, (lo > p) | (hi < p), need, "limits of need that do not bracket the estimate")
    codes, keys_frame = fr.group_frame(df, keys)
    n = len(keys_frame)
    T, P = fr.group_sums(codes, n, t), fr.group_sums(codes, n, p)
    L, U = fr.group_sums(codes, n, lo), fr.group_sums(codes, n, hi)
    # a group with any piece of need without limits has no limits
    L[fr.group_sums(codes, n, np.isnan(lo).astype(float)) > 0] = np.nan
    U[fr.group_sums(codes, n, np.isnan(hi).astype(float)) > 0] = np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        met = T / P
        met_lo, met_hi = T / U, T / L
    method = np.where(met > 1, "met need above 100%: more in treatment than the estimate of need", "T / need estimate")
    return fr.assemble(keys_frame, {
        "treated": T, "need": P,
        "met_need": multiplier * met, "met_lowercl": multiplier * met_lo, "met_uppercl": multiplier * met_hi,
        "unmet_need": multiplier * (1 - met), "unmet_lowercl": multiplier * (1 - met_hi),
        "unmet_uppercl": multiplier * (1 - met_lo), "method": method})


def places_needed(df: pd.DataFrame, treated: str, need: str, need_lower: str | None = None,
                  need_upper: str | None = None, *, target: str, years: str) -> pd.DataFrame:
    """Extra people in treatment to reach a target met need, and the annual growth that reaches it.

    With T people in treatment during the latest year, P̂ the estimated number in need (limits P̂_L, P̂_U), a
    target met need τ (a proportion, 0–1) and n years to the target year:

    .. math:: N^* = \\tau \\hat{P}, \\qquad d = N^* - T, \\qquad \\text{extra} = \\max(0,\\; d), \\qquad
              g = (N^* / T)^{1/n} - 1 \\;\\text{ if } N^* > T \\text{ else } 0,

    with the range of ``extra`` and ``g`` from P̂_L and P̂_U in place of P̂ (T is a count, not a sample). Where
    d < 0 (the target is already met at that value of P̂) ``extra`` is set to 0: the result says so in
    ``extra_clipped``, ``extra_lower_clipped`` and ``extra_upper_clipped``, and keeps the signed d as
    ``shortfall`` (limits ``shortfall_lower``, ``shortfall_upper``), negative where T exceeds N*. Nothing here
    knows what T and P̂ count (people in treatment during a year, not a caseload on one day): the caller names
    the measures.

    Parameters
    ----------
    df : DataFrame
        One row per area and substance (and target).
    treated, need, need_lower, need_upper : str
        Columns of T and P̂ with its limits (persons).
    target : str
        Column of the target met need τ as a proportion (0.25 for 25%).
    years : str
        Column of the years from the latest year to the target year (n); growth is not defined for n ≤ 0.

    Returns
    -------
    DataFrame
        Same index: ``in_treatment_at_target`` (N*), ``shortfall`` (d) with ``shortfall_lower``/``shortfall_upper``,
        ``extra_places`` (max(0, d)) with ``extra_lower``/``extra_upper``, ``extra_clipped``,
        ``extra_lower_clipped``, ``extra_upper_clipped`` (bool: d < 0 set to 0), ``annual_growth`` (% a year) with
        ``growth_lower``/``growth_upper``, and ``status`` ('target already met', 'more places needed', or why
        growth is not defined).
    """
    cols = [treated, need, target, years, *[c for c in (need_lower, need_upper) if c]]
    fr.require_columns(df, cols)
    t = fr.numeric_column(df, treated)
    fr.check_rows(df, t < 0, treated, "negative numbers in treatment")
    p = fr.numeric_column(df, need)
    fr.check_rows(df, ~(p > 0), need, "missing or non-positive estimates of need")
    tau = fr.numeric_column(df, target)
    fr.check_rows(df, ~((tau > 0) & (tau <= 1)), target, "targets outside (0, 1] (give a proportion)")
    n = fr.numeric_column(df, years)
    lo = fr.numeric_column(df, need_lower) if need_lower else np.full(len(df), np.nan)
    hi = fr.numeric_column(df, need_upper) if need_upper else np.full(len(df), np.nan)

    def shortfall(pp):
        return tau * pp - t

    def growth(pp):
        with np.errstate(divide="ignore", invalid="ignore"):
            g = 100 * (np.power(tau * pp / t, 1 / n) - 1)
        g = np.where(tau * pp <= t, 0.0, g)
        return np.where((n > 0) & (t > 0), g, np.nan)

    d, d_lo, d_hi = shortfall(p), shortfall(lo), shortfall(hi)
    met = tau * p <= t
    status = np.where(met, "target already met", "more places needed")
    status = np.where(~met & (t == 0), "no one in treatment now: growth not defined", status)
    status = np.where(~met & (n <= 0), "the target year is not after the latest year: growth not defined", status)
    return pd.DataFrame({"in_treatment_at_target": tau * p, "shortfall": d, "shortfall_lower": d_lo,
                         "shortfall_upper": d_hi, "extra_places": np.maximum(0.0, d),
                         "extra_lower": np.where(np.isnan(d_lo), np.nan, np.maximum(0.0, d_lo)),
                         "extra_upper": np.where(np.isnan(d_hi), np.nan, np.maximum(0.0, d_hi)),
                         "extra_clipped": d < 0, "extra_lower_clipped": d_lo < 0, "extra_upper_clipped": d_hi < 0,
                         "annual_growth": growth(p), "growth_lower": growth(lo), "growth_upper": growth(hi),
                         "status": status}, index=df.index)
