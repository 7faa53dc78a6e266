"""Synthetic estimates: national survey rates by stratum applied to a local population, with limits.

A synthetic estimate of the number of local people with a characteristic is the expected count of indirect
standardisation (:func:`cdp_analysis.stats.expected_counts`):

.. math:: E = \\sum_i N_i p_i, \\qquad p = E / N, \\quad N = \\sum_i N_i

over strata *i* (e.g. sex × age band), with local population :math:`N_i` and national survey proportion
:math:`p_i`. Its sampling error comes from the survey: each :math:`p_i` was estimated from :math:`n_i`
respondents (the unweighted base) in a clustered, weighted sample, so with weights :math:`w_i = N_i / N`

.. math:: \\operatorname{Var}(p) = \\sum_i w_i^2 \\, d^2 \\, p_i (1 - p_i) / n_i

with design factor :math:`d` (the ratio of the survey's standard error to a simple random sample's). The
limits are Wilson score limits of :math:`p` with the **effective sample size** (Kish)

.. math:: n_{eff} = p (1 - p) / \\operatorname{Var}(p)
          \\quad\\text{or, where } p(1-p) = 0, \\quad n_{eff} = 1 \\big/ \\textstyle\\sum_i w_i^2 d^2 / n_i

(the size of a simple random sample with the same precision), times :math:`N` for the count. They stay inside
0–100%, are never clipped, are asymmetric where the rate is small, and a lower limit is 0 only where the
estimate is 0. They cover the sampling error of the national rates only — not the error of assuming local
rates equal national ones.

:func:`calibrate` scales an estimate by the ratio of a region's observed survey rate to the rate expected
for that region from its own population structure, with limits on the log scale that add the region
rate's sampling error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frame as fr
from .limits import normalise_confidence, wilson_limits
from .standardised import expected_counts


def synthetic_estimate(df: pd.DataFrame, n: str, rate: str, base: str, *, group_by=None,
                       design_factor: float = 1.0, confidence: float = 0.95) -> pd.DataFrame:
    """Synthetic count and percentage of a population, with Wilson limits from the survey's sampling error.

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
        Grouping columns; ``population`` (N = Σ N_i), ``expected`` (E, persons), ``se`` (its standard error,
        N·√Var(p)), ``effective_n`` (n_eff, respondents), ``lowercl``/``uppercl`` (Wilson limits of p times N),
        ``percent`` (100 E / N) with ``percent_lowercl`` / ``percent_uppercl``, ``confidence`` and ``method``.
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
    held = ~np.isnan(p)
    pop0 = np.where(np.isnan(pop) | ~held, 0.0, pop)
    codes, keys_frame = fr.group_frame(df, keys)
    total = fr.group_sums(codes, len(keys_frame), np.where(np.isnan(pop), 0.0, pop))
    # N^2 Var(p) and N^2 / n_eff(all rates equal), summed over strata; divided by N^2 below
    var_n2 = fr.group_sums(codes, len(keys_frame), np.where(held, pop0 ** 2 * design_factor ** 2
                                                            * np.nan_to_num(p) * (1 - np.nan_to_num(p)) / nb, 0.0))
    flat_n2 = fr.group_sums(codes, len(keys_frame), np.where(held, pop0 ** 2 * design_factor ** 2 / nb, 0.0))
    e = expected["expected"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        share = e / total
        var_p = var_n2 / total ** 2
        pq = share * (1 - share)
        n_eff = np.where((pq > 0) & (var_p > 0), pq / var_p, total ** 2 / flat_n2)
        lo, hi = wilson_limits(share * n_eff, n_eff, conf)
    lo, hi = np.where(share == 0, 0.0, lo), np.where(share == 1, 1.0, hi)
    return fr.assemble(keys_frame, {
        "population": total, "expected": e, "se": np.sqrt(var_n2), "effective_n": n_eff,
        "lowercl": lo * total, "uppercl": hi * total,
        "percent": 100 * share, "percent_lowercl": 100 * lo, "percent_uppercl": 100 * hi,
        "confidence": f"{conf * 100:g}%",
        "method": f"modelled: sum of population x national rate; Wilson limits with the effective sample size, "
                  f"design factor {design_factor:g}"})


def calibrate(estimate: pd.DataFrame, *, observed: pd.Series, observed_base: pd.Series, expected_rate: pd.Series,
              design_factor: float = 1.0, confidence: float = 0.95) -> pd.DataFrame:
    """Scale synthetic estimates by a region's observed ÷ expected rate, with limits from the region's rate.

    .. math:: E_c = E \\cdot R_{obs} / R_{exp}, \\qquad
              [E_c^{L}, E_c^{U}] = E \\cdot [R_{obs}^{L}, R_{obs}^{U}] / R_{exp}

    where :math:`[R_{obs}^{L}, R_{obs}^{U}]` are the Wilson limits of the region's observed proportion with
    :math:`n_R / d^2` respondents (its base over the squared design factor). :math:`R_{exp}` (the region's rate
    expected from its own population structure and the national stratum rates) uses the same national rates as
    *E*, so their errors largely cancel in the ratio and are not added: the uncertainty that remains is the
    region's own survey rate, whose sample is small. The limits are positive, asymmetric and as wide, relative
    to the estimate, as the region's.

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
    r, nr, rexp = (np.asarray(s, dtype=float) for s in (observed, observed_base, expected_rate))
    e = estimate["expected"].to_numpy(dtype=float)
    factor = r / rexp
    n_eff = nr / design_factor ** 2
    lo_r, hi_r = wilson_limits(r * n_eff, n_eff, conf)
    ec, lower, upper = e * factor, e * lo_r / rexp, e * hi_r / rexp
    pop = estimate["population"].to_numpy(dtype=float)
    out = estimate.copy()
    out["factor"] = factor
    out["expected"], out["lowercl"], out["uppercl"] = ec, lower, upper
    out["se"] = np.nan  # asymmetric limits; no symmetric standard error
    out["percent"], out["percent_lowercl"], out["percent_uppercl"] = 100 * ec / pop, 100 * lower / pop, 100 * upper / pop
    out["method"] = (f"modelled, calibrated to the region's observed rate; Wilson limits of the region's rate, "
                     f"design factor {design_factor:g}")
    return out
