"""Synthetic estimates: national survey rates by stratum applied to a local population, with limits.

A synthetic estimate of the number of local people with a characteristic is the expected count of indirect
standardisation (:func:`cdp_analysis.stats.expected_counts`):

.. math:: E = \\sum_i N_i p_i

over strata *i* (e.g. sex × age band), with local population :math:`N_i` and national survey proportion
:math:`p_i`. Its sampling error comes from the survey: each :math:`p_i` was estimated from :math:`n_i`
respondents (the unweighted base) in a clustered, weighted sample, so

.. math:: \\operatorname{Var}(p_i) = d^2 \\, p_i (1 - p_i) / n_i, \\qquad
          \\operatorname{Var}(E) = \\sum_i N_i^2 \\operatorname{Var}(p_i)

with design factor :math:`d` (the ratio of the survey's standard error to a simple random sample's). The
limits are :math:`E \\pm z \\sqrt{\\operatorname{Var}(E)}`, the lower one floored at 0. They cover the
sampling error of the national rates only — not the error of assuming local rates equal national ones.

:func:`calibrate` scales an estimate by the ratio of a region's observed survey rate to the rate expected
for that region from its own population structure, with limits on the log scale that add the region
rate's sampling error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frame as fr
from .limits import normalise_confidence, wilson_limits, z_value
from .standardised import expected_counts


def synthetic_estimate(df: pd.DataFrame, n: str, rate: str, base: str, *, group_by=None,
                       design_factor: float = 1.0, confidence: float = 0.95) -> pd.DataFrame:
    """Synthetic count and percentage of a population, with limits from the survey's sampling error.

    Parameters
    ----------
    df : DataFrame
        One row per stratum per group.
    n : str
        Local population of the stratum (persons).
    rate : str
        National proportion of the stratum with the characteristic (0–1).
    base : str
        Unweighted survey base of that proportion (respondents).
    group_by : str or list of str, optional
        Columns identifying each estimate.
    design_factor : float
        Survey design factor *d* (≥ 1 for a clustered sample); 1 is simple random sampling.
    confidence : float
        Confidence level of the limits (0.95 or 95).

    Returns
    -------
    DataFrame
        Grouping columns; ``population`` (Σ N_i), ``expected`` (E, persons), ``se`` (its standard error),
        ``lowercl``/``uppercl`` (limits of E), ``percent`` (100 E / Σ N_i) with ``percent_lowercl`` /
        ``percent_uppercl``, ``confidence`` and ``method``.
    """
    if design_factor < 1 and not np.isclose(design_factor, 1):
        raise ValueError(f"design_factor must be at least 1, got {design_factor}")
    keys = fr.normalise_group_by(group_by)
    fr.require_columns(df, [n, rate, base, *keys])
    p = fr.numeric_column(df, rate)
    fr.check_rows(df, (p < 0) | (p > 1), rate, "proportions outside 0-1")
    nb = fr.numeric_column(df, base)
    fr.check_rows(df, ~(nb > 0), base, "missing or non-positive bases")
    pop = fr.numeric_column(df, n)
    fr.check_rows(df, pop < 0, n, "negative populations")
    conf = normalise_confidence(confidence)
    expected = expected_counts(df, n, ref_rate=rate, group_by=keys or None)
    var_i = np.where(np.isnan(p), 0.0, pop ** 2 * design_factor ** 2 * p * (1 - p) / nb)
    # a published 0% has no sampling variance on the normal scale: its upper limit is the Wilson limit of 0
    # events in the effective sample n / d^2, times the stratum's population
    zero = p == 0
    _, zero_upper = wilson_limits(np.zeros(len(p)), nb / design_factor ** 2, conf)
    extra_i = np.where(zero, np.nan_to_num(pop) * zero_upper, 0.0)
    codes, keys_frame = fr.group_frame(df, keys)
    var = fr.group_sums(codes, len(keys_frame), var_i)
    extra = fr.group_sums(codes, len(keys_frame), extra_i)
    total = fr.group_sums(codes, len(keys_frame), np.where(np.isnan(pop), 0.0, pop))
    e = expected["expected"].to_numpy()
    se = np.sqrt(var)
    z = z_value(conf)
    lower, upper = np.maximum(e - z * se, 0.0), e + z * se + extra
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100 * e / total
        pct_lo, pct_hi = 100 * lower / total, 100 * upper / total
    return fr.assemble(keys_frame, {
        "population": total, "expected": e, "se": se, "lowercl": lower, "uppercl": upper,
        "percent": pct, "percent_lowercl": pct_lo, "percent_uppercl": pct_hi,
        "confidence": f"{conf * 100:g}%",
        "method": f"synthetic: sum of population x national rate; normal limits, design factor {design_factor:g}"})


def calibrate(estimate: pd.DataFrame, *, observed: pd.Series, observed_base: pd.Series, expected_rate: pd.Series,
              design_factor: float = 1.0, confidence: float = 0.95) -> pd.DataFrame:
    """Scale synthetic estimates by a region's observed ÷ expected rate, with log-scale limits.

    .. math:: E_c = E \\cdot R_{obs} / R_{exp}, \\quad
              \\operatorname{Var}(\\log E_c) \\approx \\operatorname{Var}(E)/E^2 + d^2 (1 - R_{obs}) / (n_R R_{obs})

    :math:`R_{exp}` (the region's rate expected from its own population structure and the national
    stratum rates) uses the same national rates as *E*; their errors largely cancel in the ratio and
    are not added again.

    Parameters
    ----------
    estimate : DataFrame
        Output of :func:`synthetic_estimate`, one row per estimate.
    observed, observed_base, expected_rate : Series
        Aligned with ``estimate``: the region's observed proportion (0–1), its unweighted base, and the
        proportion expected for the region.

    Returns
    -------
    DataFrame
        ``estimate`` with ``expected``, its limits and the percentages replaced by the calibrated ones,
        plus ``factor`` (R_obs / R_exp).
    """
    conf = normalise_confidence(confidence)
    z = z_value(conf)
    r, nr, rexp = (np.asarray(s, dtype=float) for s in (observed, observed_base, expected_rate))
    e = estimate["expected"].to_numpy(dtype=float)
    factor = r / rexp
    with np.errstate(invalid="ignore", divide="ignore"):
        var_log = (estimate["se"].to_numpy(dtype=float) / e) ** 2 + design_factor ** 2 * (1 - r) / (nr * r)
    ec = e * factor
    half = z * np.sqrt(var_log)
    lower, upper = ec * np.exp(-half), ec * np.exp(half)
    pop = estimate["population"].to_numpy(dtype=float)
    out = estimate.copy()
    out["factor"] = factor
    out["expected"], out["lowercl"], out["uppercl"] = ec, lower, upper
    out["se"] = np.nan  # limits are on the log scale; no symmetric standard error
    out["percent"], out["percent_lowercl"], out["percent_uppercl"] = 100 * ec / pop, 100 * lower / pop, 100 * upper / pop
    out["method"] = (f"synthetic calibrated to the region's observed rate; log-normal limits, "
                     f"design factor {design_factor:g}")
    return out
