"""Funnel-plot control limits and outlier significance (OHID Fingertips / PHEindicatormethods v2.1).

Two public functions:

* :func:`funnel_limits` – the table of control limits to *draw* a funnel plot: 100 points along
  the denominator (or event-count) axis with the 95.0 % ("2 s", two-sided p = 0.025 each side)
  and 99.8 % ("3 s", p = 0.001 each side) limits around the overall average.
* :func:`funnel_significance` – classifies every area against those limits: "High (0.001)",
  "High (0.025)", "Low (0.001)", "Low (0.025)", "Not significant" (and, for directly
  standardised rates with fewer than 10 events, "Not applicable for events less than 10 for
  dsrs").

Methods by ``statistic`` (z = Φ⁻¹(0.975) = 1.960 for the 2 s limits, Φ⁻¹(0.999) = 3.090 for 3 s):

proportion
    Average p̄ = Σx / Σn. The limit at denominator n is the observed proportion whose Wilson
    score interval has p̄ as its far end, i.e. the root x/n of
    ``wilson_upper(x, n) = p̄`` (lower limit) or ``wilson_lower(x, n) = p̄`` (upper limit)::

        A = n/z² + 1,   B = 1/z² + 1/n
        x_limit = ( p̄·A ∓ √( p̄²A² − B·p̄·( n(p̄(n/z² + 2) − 1) + z²(p̄ − 1) ) ) ) / B
        limit   = multiplier · x_limit / n

    (algebraically identical to PHEindicatormethods' ``sigma_adjustment``). Plotted limits are
    clipped to [0, multiplier].

ratio (observed / expected, e.g. an indirectly standardised ratio)
    Poisson on the observed count O. For each O on the axis, the expected count E at which O
    sits exactly on the limit is the exact Poisson limit of O; the control limit is O/E::

        lower limit = O / U_exact(O),   upper limit = O / L_exact(O)

    with ``L_exact(O) = χ²_{α/2}(2O)/2`` and ``U_exact(O) = χ²_{1−α/2}(2O+2)/2``. ``ratio_type="isr"``
    multiplies limits by 100, ``ratio_type="count"`` subtracts 1 (as the R package does).
    Significance compares 1 with ``L(O)/E`` and ``U(O)/E`` where L, U are the exact Poisson
    limits for O < 10 and Byar's limits for O ≥ 10.

rate (crude or directly standardised rate per ``multiplier`` person-years)
    The denominator is derived as D = multiplier·O / rate (for crude rates with O = 0 the supplied
    denominator is used; for DSRs with O = 0 the row is excluded from the average). Average
    r̄ = ΣO / ΣD. For each event count O on the axis, the population at which O is on the limit
    is U_exact(O)/r̄ (lower limit) or L_exact(O)/r̄ (upper limit); the limit is
    multiplier·O / population. Significance compares r̄ with ``L(O)/D`` and ``U(O)/D`` as for ratios.

Overdispersion (``overdispersion=True``, proportions only)
    When the denominators are themselves estimates (e.g. a modelled number in need) or areas differ for
    reasons beyond chance, far more areas than 5 % / 0.2 % fall outside the limits above. Following
    Spiegelhalter (2005, "Funnel plots for comparing institutional performance", *Stat Med* 24:1185–1202)
    as NHS England's SHMI and NHS-R's FunnelPlotR do, on the variance-stabilising arcsine scale::

        y_i = asin(√(x_i/n_i)),   θ = asin(√p̄),   s_i = 1/(2√n_i),   z_i = (y_i − θ)/s_i
        z_i winsorised at the ``trim`` and 1 − ``trim`` quantiles (10 % / 90 %; R's default quantile)
        φ  = (1/N) Σ z_i²                                   (dispersion ratio; N areas)
        w_i = 1/s_i²
        τ² = max(0, (Nφ − (N − 1)) / (Σw_i − Σw_i²/Σw_i))   (0 when Nφ < N − 1)
        limit(n) = multiplier · sin²(θ ± z·√(1/(4n) + τ²)),  the angle kept within [0, π/2]

    τ² is the between-area variance added to each area's own (additive random effects, DerSimonian &
    Laird). With τ² = 0 these are the arcsine limits without adjustment. φ and τ² are returned in
    columns ``phi`` and ``tau2``.

Source: PHEindicatormethods ``calculate_funnel_limits`` and ``assign_funnel_significance``
(UKHSA, v2.x, R/Funnels.R and R/utils.R) and the OHID Fingertips technical guidance on funnel
plots. ``poisson_funnel`` in the R package solves the exact Poisson limit iteratively; here it is
computed in closed form from the chi-square distribution (identical to within the R solver's
1e-7 tolerance).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._frame import normalise_group_by as _as_list
from ._frame import numeric_column as _numeric
from ._frame import require_columns
from .limits import byars_limits, exact_poisson_limits, z_value

log = logging.getLogger(__name__)

__all__ = ["funnel_limits", "funnel_significance", "funnel_overdispersion", "SIGNIFICANCE_LEVELS"]

#: Category order of the ``significance`` column (as the R package's factor levels).
SIGNIFICANCE_LEVELS = [
    "High (0.001)",
    "High (0.025)",
    "Low (0.001)",
    "Low (0.025)",
    "Not significant",
    "Not applicable for events less than 10 for dsrs",
]

_STATISTICS = ("proportion", "ratio", "rate")
_N_POINTS = 100
#: ``method`` of proportion funnels with ``overdispersion=True``.
OVERDISPERSED_METHOD = "arcsine, overdispersion-adjusted (Spiegelhalter 2005)"


# --------------------------------------------------------------------------------------------
# small local helpers (the shared ones come from ._frame)
# --------------------------------------------------------------------------------------------
def _require_columns(df: pd.DataFrame, cols: Sequence[str | None]) -> None:
    require_columns(df, [c for c in cols if c is not None])


def _rows(df: pd.DataFrame, mask: np.ndarray) -> list:
    return list(df.index[np.asarray(mask, dtype=bool)])


def _groups(df: pd.DataFrame, keys: list[str]):
    """Yield (key_tuple, positional_index_array) for each group (sorted), or one all-rows group."""
    if not keys:
        yield (), np.arange(len(df))
        return
    for key, idx in df.groupby(keys, sort=True, dropna=False).indices.items():
        yield (key if isinstance(key, tuple) else (key,)), np.asarray(idx)


def _check_statistic(statistic: str, ratio_type, rate_type, multiplier, years_of_data, need_years: bool):
    if statistic not in _STATISTICS:
        raise ValueError(f"statistic must be one of {_STATISTICS}, got {statistic!r}")
    if statistic == "ratio":
        if ratio_type not in ("isr", "count"):
            raise ValueError(f"ratio_type must be 'isr' or 'count' when statistic='ratio', got {ratio_type!r}")
    if statistic == "rate":
        if rate_type not in ("dsr", "crude"):
            raise ValueError(f"rate_type must be 'dsr' or 'crude' when statistic='rate', got {rate_type!r}")
        if multiplier is None:
            raise ValueError("multiplier (e.g. 100000) is required when statistic='rate'")
        if need_years and (years_of_data is None or not years_of_data > 0):
            raise ValueError("years_of_data (> 0) is required when statistic='rate'")


# --------------------------------------------------------------------------------------------
# formula building blocks
# --------------------------------------------------------------------------------------------
def _proportion_limit(n, average: float, z: float, side: str) -> np.ndarray:
    """Proportion (0–1 scale) at denominator n whose Wilson interval just reaches ``average``.

    ``side="low"`` gives the lower control limit (Wilson *upper* limit = average), ``"high"``
    the upper control limit. Same algebra as PHEindicatormethods ``sigma_adjustment``.
    """
    n = np.asarray(n, dtype=float)
    p = float(average)
    z2 = z * z
    a = n / z2 + 1.0
    b = 1.0 / z2 + 1.0 / n
    c = n * (p * (n / z2 + 2.0) - 1.0) + z2 * (p - 1.0)
    with np.errstate(invalid="ignore"):
        root = np.sqrt(p * p * a * a - b * p * c)
    sign = -1.0 if side == "low" else 1.0
    return (p * a + sign * root) / b / n


def _dispersion(x: np.ndarray, n: np.ndarray, trim: float) -> tuple[float, float, float]:
    """(p̄, φ, τ²) of proportions x/n on the arcsine scale (module docstring, *Overdispersion*)."""
    average = x.sum() / n.sum()
    theta = np.arcsin(np.sqrt(average))
    s = 1.0 / (2.0 * np.sqrt(n))
    z = (np.arcsin(np.sqrt(x / n)) - theta) / s
    lo, hi = np.quantile(z, [trim, 1.0 - trim])  # numpy's default 'linear' = R's quantile type 7
    z = np.clip(z, lo, hi)
    count = len(z)
    phi = float(np.mean(z**2))
    w = 1.0 / s**2
    if count * phi < count - 1:
        return average, phi, 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        tau2 = (count * phi - (count - 1)) / (w.sum() - (w**2).sum() / w.sum())
    return average, phi, float(max(0.0, tau2)) if np.isfinite(tau2) else 0.0


def _overdispersed_limit(n, average: float, tau2: float, z: float, side: str) -> np.ndarray:
    """Overdispersion-adjusted proportion limit (0–1 scale) at denominator n: sin²(θ ∓ z√(1/(4n) + τ²))."""
    n = np.asarray(n, dtype=float)
    theta = np.arcsin(np.sqrt(average))
    sign = -1.0 if side == "low" else 1.0
    angle = np.clip(theta + sign * z * np.sqrt(1.0 / (4.0 * n) + tau2), 0.0, np.pi / 2)
    return np.sin(angle) ** 2


def _check_overdispersion(overdispersion: bool, statistic: str, trim: float) -> None:
    if overdispersion and statistic != "proportion":
        raise ValueError("overdispersion=True is implemented for statistic='proportion' only "
                         f"(got {statistic!r})")
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim!r}")


def _ratio_test_limits(obs, confidence: float):
    """Lower/upper limits of an observed count used by the significance tests.

    Exact Poisson (chi-square) limits for obs < 10, Byar's for obs >= 10; lower = 0 at obs = 0.
    """
    obs = np.asarray(obs, dtype=float)
    ex_lo, ex_hi = exact_poisson_limits(obs, confidence)
    by_lo, by_hi = byars_limits(obs, confidence)
    small = obs < 10
    lower = np.where(small, ex_lo, by_lo)
    upper = np.where(small, ex_hi, by_hi)
    lower = np.where(obs == 0, 0.0, lower)
    lower = np.where(np.isnan(obs), np.nan, lower)
    return lower, upper


def _signif_floor(x: float, percentage_down: float = 0.95) -> float:
    if x == 0:
        return 0.0
    v = math.floor(x * percentage_down)
    n = len(str(int(v))) - 1
    return math.floor(x * percentage_down / 10.0**n) * 10.0**n


def _signif_ceiling(x: float, percentage_up: float = 1.05) -> float:
    if x == 0:
        return 0.0
    v = math.ceil(x * percentage_up)
    n = len(str(int(v))) - 2
    return math.ceil(x * percentage_up / 10.0**n) * 10.0**n


def _axis(axis_minimum: float, axis_maximum: float, statistic: str) -> np.ndarray:
    """100 increasing integer axis points, geometrically spaced, as the R package generates them."""
    pts = [max(1.0, float(axis_minimum))]
    for j in range(2, _N_POINTS + 1):
        offset = j if statistic in ("proportion", "rate") else j - 1
        prev = pts[-1]
        step = round((axis_maximum / prev) ** (1.0 / (101 - offset)) * prev)  # half-to-even, as R
        pts.append(float(max(step, prev + 1)))
    return np.asarray(pts)


def _derived_denominator(num, den, rate, statistic, rate_type, multiplier):
    """Denominator used for the average (rates: derived from the rate)."""
    if statistic != "rate":
        return den
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = multiplier * num / rate
    if rate_type == "dsr":
        return np.where(num == 0, np.nan, derived)
    # crude
    if den is None:
        return derived
    return np.where(num == 0, den, derived)


def _validate_inputs(df, num, den, rate, numerator, denominator, rate_col, statistic, rate_type):
    bad = np.isfinite(num) & (num < 0)
    if bad.any():
        raise ValueError(f"column '{numerator}' has negative values in rows {_rows(df, bad)}")
    if den is not None:
        bad = np.isfinite(den) & (den <= 0)
        if bad.any():
            raise ValueError(f"column '{denominator}' has zero or negative values in rows {_rows(df, bad)}")
    if statistic == "proportion":
        bad = np.isfinite(num) & np.isfinite(den) & (num > den)
        if bad.any():
            raise ValueError(
                f"column '{numerator}' exceeds column '{denominator}' (a proportion must be <= 1) in rows {_rows(df, bad)}"
            )
    if statistic == "rate":
        if rate is None:
            raise ValueError("rate (column name of the crude rate or DSR) is required when statistic='rate'")
        bad = np.isfinite(rate) & (rate < 0)
        if bad.any():
            raise ValueError(f"column '{rate_col}' has negative values in rows {_rows(df, bad)}")
        zero_events = (num == 0)
        if zero_events.any() and den is None and rate_type == "crude":
            raise ValueError(
                f"column '{numerator}' is zero in rows {_rows(df, zero_events)}: a denominator column is "
                "needed for crude rates with no events"
            )
        bad = np.isfinite(num) & (num > 0) & np.isfinite(rate) & (rate == 0)
        if bad.any():
            raise ValueError(f"column '{rate_col}' is zero where '{numerator}' is positive in rows {_rows(df, bad)}")


# --------------------------------------------------------------------------------------------
# public API
# --------------------------------------------------------------------------------------------
def funnel_limits(
    df: pd.DataFrame,
    numerator: str,
    denominator: str | None = None,
    *,
    statistic: str,
    multiplier: float | None = None,
    rate: str | None = None,
    rate_type: str | None = None,
    ratio_type: str | None = None,
    years_of_data: float | None = None,
    group_by: str | list[str] | None = None,
    overdispersion: bool = False,
    trim: float = 0.1,
) -> pd.DataFrame:
    """Control limits for drawing a funnel plot (95.0 % and 99.8 %), 100 points per group.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per area (and per group, e.g. per period).
    numerator : str
        Column of observed counts (events, cases; the observed count O for ratios).
    denominator : str, optional
        Column of denominators: population for proportions, *expected* count E for ratios.
        For rates it is optional except that crude rates with zero events need it.
    statistic : {"proportion", "ratio", "rate"}
        Which funnel method to use (see module docstring for formulas).
    multiplier : float, optional
        Scale of the output: proportions default to 100 (percentages); required for rates (the
        rate's "per" base, e.g. 100000). Ignored for ratios (``ratio_type`` sets the scale).
    rate : str, optional
        Column holding the crude rate / DSR (per ``multiplier``); required for ``statistic="rate"``.
    rate_type : {"dsr", "crude"}, optional
        Required for rates.
    ratio_type : {"isr", "count"}, optional
        Required for ratios. ``"isr"``: limits × 100 (baseline 100); ``"count"``: limits − 1
        (baseline 0), as the R package.
    years_of_data : float, optional
        Number of years the data cover; required for rates (annual population axis).
    group_by : str or list of str, optional
        Separate funnels (own average and axis) for each group.
    overdispersion : bool
        Proportions only. False (default): Wilson limits as PHEindicatormethods. True: limits widened
        for overdispersion on the arcsine scale (Spiegelhalter 2005; module docstring):
        ``sin²(θ ± z·√(1/(4n) + τ²))`` with θ = asin(√p̄) and the between-area variance
        τ² = max(0, (Nφ − (N − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)), wᵢ = 4nᵢ, φ the mean square of the
        winsorised z-scores. The unadjusted Wilson limits are kept as ``*_limit_unadjusted``.
    trim : float
        With ``overdispersion``: the share winsorised at each end of the z-scores (0.1 = 10 % / 90 %).

    Returns
    -------
    pandas.DataFrame
        Grouping columns, then 100 rows per group with the axis column — ``population``
        (proportions), ``observed_events`` (ratios) or ``events`` (rates) — and
        ``lower_2s_limit``, ``upper_2s_limit`` (95.0 %), ``lower_3s_limit``, ``upper_3s_limit``
        (99.8 %), ``baseline`` (the average on the output scale). Ratios add the expected counts
        at which each observed count sits on each limit (``lower_2s_exp_events`` …) — plot
        those on the x axis; rates add the annual population at each limit
        (``lower_2s_population_1_year`` …). Also ``statistic`` and ``method`` ("Wilson"/"Poisson", or
        :data:`OVERDISPERSED_METHOD`). With ``overdispersion=True`` also ``phi`` (φ), ``tau2`` (τ², on the
        arcsine scale) and the Wilson limits as ``lower_2s_limit_unadjusted`` … ; ``attrs["overdispersion"]``
        maps each group's key tuple to ``{"phi": φ, "tau2": τ², "areas": N}``.

    Notes
    -----
    Axis: if max(D) > 2·min(D) the axis starts at 0 (first point 1), otherwise at min(D)·0.95
    rounded down to one significant figure; it ends at max(D)·1.05 rounded up to two significant
    figures (for rates these are converted to event counts via the average rate, after dividing
    by ``years_of_data``). Points are p₁ = max(1, axis_min),
    p_j = max(round((axis_max/p_{j−1})^{1/(101−k)}·p_{j−1}), p_{j−1} + 1) with k = j (proportions,
    rates) or j − 1 (ratios). Rows with a missing numerator or (derived) denominator are left out
    of the average. Deviation from R: proportion limits are clipped to [0, multiplier] (R clips
    to [0, 100] whatever the multiplier).
    """
    keys = _as_list(group_by)
    _require_columns(df, [numerator, denominator, rate, *keys])
    _check_statistic(statistic, ratio_type, rate_type, multiplier, years_of_data, need_years=True)
    _check_overdispersion(overdispersion, statistic, trim)
    if statistic in ("proportion", "ratio") and denominator is None:
        raise ValueError(f"denominator is required for statistic='{statistic}'")
    if statistic == "proportion" and multiplier is None:
        multiplier = 100.0

    num = _numeric(df, numerator)
    den = _numeric(df, denominator) if denominator is not None else None
    rt = _numeric(df, rate) if rate is not None else None
    _validate_inputs(df, num, den, rt, numerator, denominator, rate, statistic, rate_type)
    dd = _derived_denominator(num, den, rt, statistic, rate_type, multiplier)

    z2, z3 = z_value(0.95), z_value(0.998)
    frames = []
    dispersion: dict[tuple, dict[str, float]] = {}
    for key, pos in _groups(df, keys):
        g_num, g_den = num[pos], dd[pos]
        ok = np.isfinite(g_num) & np.isfinite(g_den)
        if not ok.any():
            log.warning("funnel_limits: group %s has no usable rows; skipped", key)
            continue
        av = g_num[ok].sum() / g_den[ok].sum()
        dmin, dmax = float(g_den[ok].min()), float(g_den[ok].max())

        if dmax > 2 * dmin:
            axis_min = 0.0
        elif statistic == "rate":
            axis_min = _signif_floor(dmin / years_of_data) * years_of_data
        else:
            axis_min = _signif_floor(dmin)
        if statistic == "rate":
            axis_max = _signif_ceiling(dmax / years_of_data) * years_of_data
            axis_min = math.floor(axis_min * av)
            axis_max = math.ceil(axis_max * av)
        else:
            axis_max = _signif_ceiling(dmax)
        x = _axis(axis_min, axis_max, statistic)

        out: dict[str, object] = {}
        if statistic == "proportion":
            out["population"] = x
            for tag, z in (("2s", z2), ("3s", z3)):
                lo = np.clip(_proportion_limit(x, av, z, "low") * multiplier, 0, multiplier)
                hi = np.clip(_proportion_limit(x, av, z, "high") * multiplier, 0, multiplier)
                out[f"lower_{tag}_limit"] = lo
                out[f"upper_{tag}_limit"] = hi
            out["baseline"] = np.full(x.shape, av * multiplier)
            label, method = "proportion", "Wilson"
            if overdispersion:
                _, phi, tau2 = _dispersion(g_num[ok], g_den[ok], trim)
                dispersion[tuple(key)] = {"phi": phi, "tau2": tau2, "areas": int(ok.sum())}
                for tag, z in (("2s", z2), ("3s", z3)):
                    out[f"lower_{tag}_limit_unadjusted"] = out[f"lower_{tag}_limit"]
                    out[f"upper_{tag}_limit_unadjusted"] = out[f"upper_{tag}_limit"]
                    out[f"lower_{tag}_limit"] = multiplier * _overdispersed_limit(x, av, tau2, z, "low")
                    out[f"upper_{tag}_limit"] = multiplier * _overdispersed_limit(x, av, tau2, z, "high")
                out["phi"] = np.full(x.shape, phi)
                out["tau2"] = np.full(x.shape, tau2)
                method = OVERDISPERSED_METHOD
        elif statistic == "ratio":
            out["observed_events"] = x
            scale = (lambda v: v * 100.0) if ratio_type == "isr" else (lambda v: v - 1.0)
            for tag, conf in (("2s", 0.95), ("3s", 0.998)):
                lo_ex, hi_ex = exact_poisson_limits(x, conf)
                out[f"lower_{tag}_exp_events"] = hi_ex
                out[f"lower_{tag}_limit"] = scale(x / hi_ex)
                out[f"upper_{tag}_exp_events"] = lo_ex
                out[f"upper_{tag}_limit"] = scale(x / lo_ex)
            out["baseline"] = np.full(x.shape, scale(1.0))
            label, method = f"ratio ({ratio_type})", "Poisson"
        else:  # rate
            out["events"] = x
            for tag, conf in (("2s", 0.95), ("3s", 0.998)):
                lo_ex, hi_ex = exact_poisson_limits(x, conf)
                pop_lo = hi_ex / av  # population at which x events is on the lower limit
                pop_hi = lo_ex / av
                out[f"lower_{tag}_population_1_year"] = pop_lo / years_of_data
                out[f"lower_{tag}_limit"] = x / pop_lo * multiplier
                out[f"upper_{tag}_population_1_year"] = pop_hi / years_of_data
                out[f"upper_{tag}_limit"] = x / pop_hi * multiplier
            out["baseline"] = np.full(x.shape, av * multiplier)
            label = f"rate ({rate_type} per {multiplier:,.0f})"
            method = "Poisson"
        frame = pd.DataFrame(out)
        frame["statistic"] = label
        frame["method"] = method
        for k, v in zip(keys, key):
            frame.insert(keys.index(k), k, v)
        frames.append(frame)

    if not frames:
        raise ValueError("funnel_limits: no group has any usable (non-missing) numerator and denominator")
    result = pd.concat(frames, ignore_index=True)
    if overdispersion:
        result.attrs["overdispersion"] = dispersion
    return result


def funnel_overdispersion(
    df: pd.DataFrame,
    numerator: str,
    denominator: str,
    *,
    group_by: str | list[str] | None = None,
    trim: float = 0.1,
) -> pd.DataFrame:
    """The dispersion ratio φ and between-area variance τ² of proportions (Spiegelhalter 2005).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per area (per group).
    numerator, denominator : str
        Counts x and denominators n of the proportions x/n.
    group_by : str or list of str, optional
        One φ, τ² per group.
    trim : float
        Share of the z-scores winsorised at each end (0.1: at the 10th and 90th percentiles).

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``areas`` (N, rows with both columns present), ``average`` (p̄ = Σx/Σn), ``phi``
        and ``tau2``, one row per group.

    Notes
    -----
    On the arcsine scale: yᵢ = asin(√(xᵢ/nᵢ)), θ = asin(√p̄), sᵢ = 1/(2√nᵢ), zᵢ = (yᵢ − θ)/sᵢ, winsorised at
    the ``trim`` / 1 − ``trim`` quantiles (linear interpolation, R's type 7); φ = (1/N)Σzᵢ²;
    τ² = max(0, (Nφ − (N − 1)) / (Σwᵢ − Σwᵢ²/Σwᵢ)) with wᵢ = 1/sᵢ², and τ² = 0 when Nφ < N − 1. As
    FunnelPlotR (``data_type = "PR"``) and NHS England's SHMI. φ > 1 means more spread than the binomial
    model allows; τ² is then added to every area's variance in the limits of :func:`funnel_limits`
    (``overdispersion=True``).
    """
    keys = _as_list(group_by)
    _require_columns(df, [numerator, denominator, *keys])
    _check_overdispersion(True, "proportion", trim)
    num, den = _numeric(df, numerator), _numeric(df, denominator)
    _validate_inputs(df, num, den, None, numerator, denominator, None, "proportion", None)
    rows = []
    for key, pos in _groups(df, keys):
        o, d = num[pos], den[pos]
        ok = np.isfinite(o) & np.isfinite(d)
        if not ok.any():
            continue
        average, phi, tau2 = _dispersion(o[ok], d[ok], trim)
        rows.append({**dict(zip(keys, key)), "areas": int(ok.sum()), "average": average, "phi": phi, "tau2": tau2})
    return pd.DataFrame(rows, columns=[*keys, "areas", "average", "phi", "tau2"])


def funnel_significance(
    df: pd.DataFrame,
    numerator: str,
    denominator: str | None = None,
    *,
    statistic: str,
    multiplier: float | None = None,
    rate: str | None = None,
    rate_type: str | None = None,
    group_by: str | list[str] | None = None,
    name: str = "significance",
    overdispersion: bool = False,
    trim: float = 0.1,
) -> pd.DataFrame:
    """Classify each area against the 95.0 % / 99.8 % funnel control limits.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per area (per group).
    numerator, denominator : str
        Observed count and population (proportions) / expected count (ratios). For rates the
        denominator is optional (needed for crude rates with zero events).
    statistic : {"proportion", "ratio", "rate"}
    multiplier : float, optional
        Required for rates: the rate's "per" base (e.g. 100000). Not used otherwise.
    rate : str, optional
        Rate column (per ``multiplier``) for rates.
    rate_type : {"dsr", "crude"}, optional
        Required for rates.
    group_by : str or list of str, optional
        Each group has its own average.
    name : str
        Name of the output column (default ``"significance"``).
    overdispersion : bool
        Proportions only: classify against the overdispersion-adjusted limits of :func:`funnel_limits`
        (``overdispersion=True``; φ and τ² of the area's group). Default False: Wilson limits.
    trim : float
        With ``overdispersion``: the share of z-scores winsorised at each end.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with a categorical column ``name`` taking the values of
        :data:`SIGNIFICANCE_LEVELS`; missing (NaN) where the numerator or denominator is missing. With
        ``overdispersion=True`` also ``phi`` and ``tau2`` (of the row's group).

    Notes
    -----
    Tests are applied in this order (strict inequalities; first match wins):

    * proportion, p = x/n against the limits of the module docstring at n:
      p < L₃ → "Low (0.001)", p < L₂ → "Low (0.025)", p > U₃ → "High (0.001)",
      p > U₂ → "High (0.025)", else "Not significant".
    * ratio: 1 < L₉₉.₈(O)/E → "High (0.001)", 1 < L₉₅(O)/E → "High (0.025)",
      1 > U₉₉.₈(O)/E → "Low (0.001)", 1 > U₉₅(O)/E → "Low (0.025)".
    * rate: as ratio with the average rate r̄ = ΣO/ΣD (per person) in place of 1 and the derived
      denominator D = multiplier·O/rate in place of E. DSRs with O < 10 are
      "Not applicable for events less than 10 for dsrs"; DSRs with O = 0 are excluded from r̄.

    L(O), U(O) are exact Poisson limits for O < 10 and Byar's for O ≥ 10.
    """
    keys = _as_list(group_by)
    _require_columns(df, [numerator, denominator, rate, *keys])
    _check_statistic(statistic, "isr" if statistic == "ratio" else None, rate_type, multiplier, None, need_years=False)
    _check_overdispersion(overdispersion, statistic, trim)
    if statistic in ("proportion", "ratio") and denominator is None:
        raise ValueError(f"denominator is required for statistic='{statistic}'")

    num = _numeric(df, numerator)
    den = _numeric(df, denominator) if denominator is not None else None
    rt = _numeric(df, rate) if rate is not None else None
    _validate_inputs(df, num, den, rt, numerator, denominator, rate, statistic, rate_type)
    dd = _derived_denominator(num, den, rt, statistic, rate_type, multiplier)

    result = np.full(len(df), None, dtype=object)
    phis, tau2s = np.full(len(df), np.nan), np.full(len(df), np.nan)
    z2, z3 = z_value(0.95), z_value(0.998)
    for _key, pos in _groups(df, keys):
        o, d = num[pos], dd[pos]
        ok = np.isfinite(o) & np.isfinite(d)
        if statistic == "proportion":
            av = o[ok].sum() / d[ok].sum() if ok.any() else np.nan
            if overdispersion and ok.any():
                _, phi, tau2 = _dispersion(o[ok], d[ok], trim)
                phis[pos], tau2s[pos] = phi, tau2

                def limit(n, average, z, side, tau2=tau2):
                    return _overdispersed_limit(n, average, tau2, z, side)
            else:
                limit = _proportion_limit
            with np.errstate(invalid="ignore", divide="ignore"):
                p = o / d
                conds = [
                    p < limit(d, av, z3, "low"),
                    p < limit(d, av, z2, "low"),
                    p > limit(d, av, z3, "high"),
                    p > limit(d, av, z2, "high"),
                ]
            valid = ok
        else:
            if statistic == "ratio":
                ref = 1.0
                valid = ok
            else:
                ref = o[ok].sum() / d[ok].sum() if ok.any() else np.nan
                # a DSR with no events has no derived denominator: it is still classified
                valid = np.isfinite(o) & (np.isfinite(d) | (o == 0))
            lo3, hi3 = _ratio_test_limits(o, 0.998)
            lo2, hi2 = _ratio_test_limits(o, 0.95)
            with np.errstate(invalid="ignore", divide="ignore"):
                conds = [ref < lo3 / d, ref < lo2 / d, ref > hi3 / d, ref > hi2 / d]
            # R's case_when: a condition that is NA counts as not met (NaN comparisons are False)
        labels = ["Low (0.001)", "Low (0.025)", "High (0.001)", "High (0.025)"]
        if statistic != "proportion":
            labels = ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"]
        sig = np.select([np.asarray(c, dtype=bool) for c in conds], labels, default="Not significant").astype(object)
        if statistic == "rate" and rate_type == "dsr":
            sig = np.where(o < 10, SIGNIFICANCE_LEVELS[5], sig)
        sig = np.where(valid, sig, None)
        result[pos] = sig

    out = df.copy()
    out[name] = pd.Categorical(result, categories=SIGNIFICANCE_LEVELS)
    if overdispersion:
        out["phi"], out["tau2"] = phis, tau2s
    return out
