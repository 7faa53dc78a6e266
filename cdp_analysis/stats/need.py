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
    with np.errstate(divide="ignore", invalid="ignore"):
        met = T / P
        met_lo, met_hi = T / U, T / L
    method = np.where(met > 1, "met need above 100%: more in treatment than the estimate of need", "T / need estimate")
    return fr.assemble(keys_frame, {
        "treated": T, "need": P,
        "met_need": multiplier * met, "met_lowercl": multiplier * met_lo, "met_uppercl": multiplier * met_hi,
        "unmet_need": multiplier * (1 - met), "unmet_lowercl": multiplier * (1 - met_hi),
        "unmet_uppercl": multiplier * (1 - met_lo), "method": method})
