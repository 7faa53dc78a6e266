"""Trend models for annual counts: Poisson regression, joinpoint (segmented Poisson) regression, and the test
of whether two areas' trends differ.

All three model the log of the expected count as linear in the year (with an optional log-population offset,
so that the trend is in the rate rather than the count):

.. math:: \\log E[y_t] = \\log P_t + \\alpha + \\beta t, \\qquad \\text{APC} = 100\\,(e^{\\beta} - 1)\\ \\%\\ \\text{a year}

* :func:`poisson_trend` fits it with statsmodels' GLM. **Overdispersion**: the Pearson statistic
  X² = Σ (y − μ)²/μ is compared with χ²(n − 2); if it is significant at 5% the model is refitted as
  **quasi-Poisson** (the same estimates, standard errors × √(X²/(n − 2))), and the result says so.
* :func:`joinpoint` fits continuous segmented log-linear models with 0 … K joinpoints (hinge terms
  (t − τ)₊), searching every placement of the joinpoints on the observed years with at least
  ``min_points`` observations in each segment (the grid search of the NCI Joinpoint program, restricted to
  whole years; every placement is fitted at once by a vectorised Newton iteration, and statsmodels refits the
  nearly best to choose exactly as fitting each with statsmodels would: :func:`_best_placement`). The number
  of joinpoints is chosen by the **weighted BIC** (WBIC) — the default of the NCI
  Joinpoint Regression Program since version 5.0 (Kim et al., *J Appl Stat* 2023) — applied to the Poisson
  deviance, or with ``selection="bic"`` by the BIC used before, D_k/φ + 2(k + 1)·ln n (see
  :func:`joinpoint`). Both are deterministic and fast enough for every area of a batch (Joinpoint's older
  permutation test is neither). On straight simulated series either adds a spurious joinpoint in fewer than
  1 in 10 (tested). Each segment's APC has a Wald 95% interval (from the
  model's covariance, quasi-Poisson scaled when overdispersed); the **average APC** (AAPC) over the whole
  series is 100·(exp(Σ wⱼbⱼ) − 1) with wⱼ the segment lengths' shares, its interval from Var(Σ wⱼbⱼ)
  (normal approximation; the joinpoint locations are treated as fixed, as Joinpoint does for AAPC
  intervals by default).
* :func:`compare_trends` fits both areas together with an area × year interaction; the interaction's
  Wald test says whether the area's APC differs from the reference's.
* :func:`compare_window` compares the two over a recent window (the latest ``years`` held by both): each
  series fitted on its own with :func:`poisson_trend`'s model (its own dispersion), the slopes compared by
  z = (b_a − b_r)/√(se_a² + se_r²).

**Small numbers** (:data:`MIN_EVENTS`, :data:`MIN_POINTS`): no model is fitted to fewer than 5 annual
points or fewer than 50 events in all; the result's ``verdict`` is then 'too few events' (or 'too few
points'). The same event rule applies to each joinpoint segment: a segment with fewer than 50 events (its
years, a joinpoint year counted in both segments) has no APC reported and reads 'too few events'. A
significance level of 5% is used for every verdict.
"""

from __future__ import annotations

import functools
import itertools
import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["poisson_trend", "joinpoint", "compare_trends", "compare_window", "MIN_EVENTS", "MIN_POINTS", "SELECTIONS"]

#: Fewest events over the whole series for a trend to be tested.
MIN_EVENTS = 50
#: Fewest annual points for a trend to be tested.
MIN_POINTS = 5


# statsmodels and SciPy are imported when a model is first fitted (about 4 s between them): `cdp run` of
# up-to-date CDPs imports this module (through the chapters) and never needs them.
def _sm():
    import statsmodels.api

    return statsmodels.api


def _scipy_stats():
    from scipy import stats

    return stats


@functools.cache
def _z():
    """Φ⁻¹(0.975), for 95% Wald limits."""
    return _scipy_stats().norm.ppf(0.975)


def _arrays(df: pd.DataFrame, year: str, count: str, population: str | None):
    missing = [c for c in (year, count, population) if c and c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found in data; available: {list(df.columns)}")
    d = df[[year, count] + ([population] if population else [])].dropna().sort_values(year)
    t = d[year].to_numpy(dtype=float)
    y = d[count].to_numpy(dtype=float)
    if (y < 0).any():
        raise ValueError(f"column '{count}' has negative counts")
    if len(np.unique(t)) != len(t):
        raise ValueError(f"column '{year}' repeats a year")
    off = np.log(d[population].to_numpy(dtype=float)) if population else np.zeros(len(t))
    return t, y, off


def _too_few(t: np.ndarray, y: np.ndarray) -> str:
    if len(t) < MIN_POINTS:
        return "too few points"
    if y.sum() < MIN_EVENTS:
        return "too few events"
    return ""


def _fit(design: np.ndarray, y: np.ndarray, off: np.ndarray):
    """Poisson GLM; refitted with the Pearson scale (quasi-Poisson) when overdispersion is significant."""
    model = _sm().GLM(y, design, family=_sm().families.Poisson(), offset=off)
    res = model.fit()
    df_resid = len(y) - design.shape[1]
    x2 = float(res.pearson_chi2)
    p_over = float(_scipy_stats().chi2.sf(x2, df_resid)) if df_resid > 0 else np.nan
    if df_resid > 0 and p_over < 0.05:
        return model.fit(scale="X2"), "quasi-Poisson", x2 / df_resid, p_over
    return res, "Poisson", x2 / df_resid if df_resid > 0 else np.nan, p_over


def _apc(b: float, se: float) -> tuple[float, float, float]:
    return 100 * np.expm1(b), 100 * np.expm1(b - _z() * se), 100 * np.expm1(b + _z() * se)


def _direction(p: float, b: float) -> str:
    """The verdict on one trend at 5%."""
    return "no significant change" if p >= 0.05 else ("increasing" if b > 0 else "decreasing")


def _against(p: float, d: float) -> str:
    """The verdict on the difference of two trends (the area's log-slope minus the reference's) at 5%."""
    return ("not significantly different" if p >= 0.05 else
            "faster increase or slower decrease than the reference" if d > 0 else
            "slower increase or faster decrease than the reference")


def _loglinear(t: np.ndarray, y: np.ndarray, off: np.ndarray) -> dict:
    """One series' log-linear trend, log E[yₜ] = offₜ + α + β(t − t₀): Poisson, or quasi-Poisson when its own
    Pearson overdispersion is significant (:func:`_fit`). Returns the slope ``b`` and its standard error
    ``se``, the APC with its 95% limits, the slope's ``p_value``, ``model`` and ``dispersion``."""
    res, kind, disp, _ = _fit(np.column_stack([np.ones_like(t), t - t.min()]), y, off)
    b, se = float(res.params[1]), float(res.bse[1])
    apc, lo, hi = _apc(b, se)
    return {"b": b, "se": se, "apc": apc, "lower_ci": lo, "upper_ci": hi, "p_value": float(res.pvalues[1]),
            "model": kind, "dispersion": disp}


def poisson_trend(df: pd.DataFrame, year: str, count: str, population: str | None = None) -> dict:
    """Log-linear Poisson trend of annual counts (rates with ``population``).

    Returns
    -------
    dict
        ``apc``, ``lower_ci``, ``upper_ci`` (% a year), ``p_value`` (Wald test of the slope), ``model``
        ('Poisson' or 'quasi-Poisson'), ``dispersion`` (X²/df), ``n_points``, ``events``, ``period_start``,
        ``period_end`` and ``verdict`` ('increasing', 'decreasing', 'no significant change', 'too few
        events', 'too few points').
    """
    t, y, off = _arrays(df, year, count, population)
    out = {"n_points": len(t), "events": float(y.sum()), "period_start": t.min() if len(t) else np.nan,
           "period_end": t.max() if len(t) else np.nan}
    reason = _too_few(t, y)
    if reason:
        return {**out, "apc": np.nan, "lower_ci": np.nan, "upper_ci": np.nan, "p_value": np.nan, "model": "",
                "dispersion": np.nan, "verdict": reason}
    fit = _loglinear(t, y, off)
    return {**out, **{k: fit[k] for k in ("apc", "lower_ci", "upper_ci", "p_value", "model", "dispersion")},
            "verdict": _direction(fit["p_value"], fit["b"])}


def _design(t: np.ndarray, knots: tuple[float, ...]) -> np.ndarray:
    """The design matrix of a joinpoint model: intercept, t − t_min and the hinge (t − τ)₊ of each joinpoint τ."""
    return _designs(t, np.array(knots, dtype=float).reshape(1, len(knots)))[0]


def _placements(t: np.ndarray, k: int, min_points: int):
    """Joinpoint placements on observed years leaving at least ``min_points`` points in every segment (a
    joinpoint year belongs to both segments it joins)."""
    n = len(t)
    for idx in itertools.combinations(range(1, n - 1), k):
        bounds = (0, *idx, n - 1)
        if all(bounds[j + 1] - bounds[j] + 1 >= min_points for j in range(k + 1)):
            yield tuple(t[i] for i in idx)


def _wbic_weight(t: np.ndarray, y: np.ndarray, off: np.ndarray, knots: tuple[float, ...], res) -> float:
    """R²max of Joinpoint's weighted BIC for the fitted k-joinpoint Poisson model ``res`` (0 when k = 0).

    For each joinpoint τᵢ, the partial R² of its hinge zᵢ = (t − τᵢ)₊ given a straight line, over the years of
    the two segments it joins (τᵢ₋₁ … τᵢ₊₁, the ends of the series standing for τ₀ and τₖ₊₁):

    .. math:: R^2_{i,i+1} = \\frac{\\{y_i^T W^{1/2}(I - H_0)W^{1/2} z_i\\}^2}
              {\\{y_i^T W^{1/2}(I - H_0)W^{1/2} y_i\\}\\{z_i^T W^{1/2}(I - H_0)W^{1/2} z_i\\}}

    with H₀ the hat matrix of the weighted line (intercept, t) on those years. Joinpoint's yᵢ is the
    (weighted) log rate; here it is the Poisson fit's IRLS working response on the log-rate scale,
    log μ̂ − offset + (y − μ̂)/μ̂ (the log rate linearised about the fit, defined for zero counts), with the IRLS
    weights W = diag(μ̂) — the weighted least-squares problem the Poisson fit solves at convergence.
    """
    if not knots:
        return 0.0
    mu = np.asarray(res.fittedvalues, dtype=float)
    w = np.sqrt(mu)
    wz = w * (np.log(mu) - off + (y - mu) / mu)
    ends = (t.min(), *knots, t.max())
    r2 = []
    for i in range(1, len(ends) - 1):
        local = (t >= ends[i - 1]) & (t <= ends[i + 1])
        line = w[local, None] * np.column_stack([np.ones(local.sum()), t[local]])

        def resid(v, line=line):
            return v - line @ np.linalg.lstsq(line, v, rcond=None)[0]

        ry, rz = resid(wz[local]), resid(w[local] * np.clip(t[local] - ends[i], 0, None))
        den = (ry @ ry) * (rz @ rz)
        r2.append(float((ry @ rz) ** 2 / den) if den > 0 else 0.0)
    return max(r2)


#: Placements whose screened deviance (:func:`_poisson_deviances`) is within this fraction of the smallest (at
#: least this much in absolute terms) are fitted again by statsmodels to choose among them.
SCREEN_MARGIN = 1e-6


def _best_placement(t: np.ndarray, y: np.ndarray, off: np.ndarray, placements: list[tuple]):
    """The placement of ``placements`` whose Poisson fit has the smallest deviance, as (deviance, knots, statsmodels
    result); None without placements.

    This is the grid search's choice: fitting every placement with statsmodels and keeping the first with the
    strictly smallest deviance. All placements are first fitted together (:func:`_poisson_deviances`, one
    vectorised Newton iteration for all, to 10⁻¹² of the deviance); statsmodels then fits, in the grid's order, only
    those within :data:`SCREEN_MARGIN` of the smallest, and any whose screening did not converge. Both fits reach
    the same maximum (the Poisson log-likelihood of a full-rank design is concave): statsmodels stops when its
    deviance changes by less than 10⁻⁸ in a step (Newton's method converges quadratically, so it is then far
    closer than that), the screen when it changes by less than 10⁻¹² of itself, both a hundred times inside the
    margin, so no placement left out can have the smallest statsmodels deviance. The chosen placement, its deviance and its fit are statsmodels' own, exactly as before;
    about 5 statsmodels fits a series instead of about 80. A placement the screen cannot fit (its system singular,
    where fitted counts fall to 0 in a run of zero counts) is fitted by statsmodels; should the screen fail as a
    whole, every placement is.
    """
    if not placements:
        return None
    chosen = range(len(placements))
    if len(placements) > 1:
        try:
            dev, ok = _poisson_deviances(_designs(t, np.array(placements, dtype=float)), y, off)
        except np.linalg.LinAlgError:
            ok = np.zeros(len(placements), dtype=bool)
        if ok.any():
            low = dev[ok].min()
            chosen = np.flatnonzero(~ok | (dev <= low + SCREEN_MARGIN * max(1.0, low)))
    best = None
    for i in chosen:
        res = _sm().GLM(y, _design(t, placements[i]), family=_sm().families.Poisson(), offset=off).fit()
        if best is None or res.deviance < best[0]:
            best = (float(res.deviance), placements[i], res)
    return best


def _solved(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """x with a x = b for each of a stack of square systems; NaN for a singular one (a placement whose fitted
    counts fell to 0 in a segment of zero counts: statsmodels fits it)."""
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        out = np.full(b.shape, np.nan)
        for i in range(len(a)):
            try:
                out[i] = np.linalg.solve(a[i], b[i])
            except np.linalg.LinAlgError:
                pass
        return out


def _designs(t: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """The design matrices (:func:`_design`) of the placements ``knots`` (P placements × k joinpoints), stacked:
    P × n × (2 + k)."""
    out = np.empty((len(knots), len(t), 2 + knots.shape[1]))
    out[:, :, 0] = 1.0
    out[:, :, 1] = t - t.min()
    out[:, :, 2:] = np.clip(t[None, :, None] - knots[:, None, :], 0, None)
    return out


def _poisson_deviances(designs: np.ndarray, y: np.ndarray, off: np.ndarray, *, max_iter: int = 100,
                       tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """The deviance of the Poisson fit, log E[y] = off + Xβ, of each design matrix of ``designs`` (P × n × p), all
    fitted at once by iteratively reweighted least squares (Newton's method), from statsmodels' start
    (μ = (y + ȳ)/2). Returns (deviances, converged): converged where the deviance changed by less than ``tol``
    of itself (at least ``tol``) at the last step, and is finite.

    Deviance: D = 2 Σ [y ln(y/μ) − (y − μ)], with y ln(y/μ) = 0 for y = 0.
    """
    count = len(designs)
    mu = np.tile((y + y.mean()) / 2, (count, 1))
    eta = np.log(mu)
    dev = np.full(count, np.inf)
    converged = np.zeros(count, dtype=bool)
    positive = y > 0
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        for _ in range(max_iter):
            z = eta - off + (y - mu) / mu  # the working response on the linear-predictor scale, less the offset
            weighted = designs.transpose(0, 2, 1) * mu[:, None, :]  # Xᵀ W, W = diag(μ)
            beta = _solved(weighted @ designs, (weighted @ z[..., None])[..., 0])
            eta = (designs @ beta[..., None])[..., 0] + off
            mu = np.exp(eta)
            terms = np.where(positive, y * np.log(np.where(positive, y, 1.0) / mu), 0.0) - (y - mu)
            new = 2 * terms.sum(axis=1)
            converged = np.isfinite(new) & (np.abs(new - dev) <= tol * np.maximum(1.0, np.abs(new)))
            dev = new
            if (converged | ~np.isfinite(new)).all():  # a placement that failed stays failed
                break
    return dev, converged


#: Rules for choosing the number of joinpoints (:func:`joinpoint`'s ``selection``).
SELECTIONS = ("wbic", "bic")


def joinpoint(df: pd.DataFrame, year: str, count: str, population: str | None = None, *, max_joinpoints: int = 2,
              min_points: int = 4, selection: str = "wbic") -> dict:
    """Segmented (joinpoint) Poisson regression with the number of joinpoints chosen by the weighted BIC (the
    NCI Joinpoint program's default) or the BIC.

    Parameters
    ----------
    df : DataFrame
        One row per year.
    year, count, population : str
        Columns (population optional: without it the trend is in the counts).
    max_joinpoints : int
        Largest number of joinpoints tried (0 … K).
    min_points : int
        Fewest observations in each segment (joinpoint years counted in both segments).
    selection : {'wbic', 'bic'}
        How the number of joinpoints is chosen (see Notes); any other value raises ``ValueError``.

    Returns
    -------
    dict
        ``joinpoints`` (tuple of years), ``segments`` (DataFrame: ``period_start``, ``period_end``, ``apc``,
        ``lower_ci``, ``upper_ci``, ``p_value``, ``events`` and ``verdict``; see *Minimum events per segment*
        below), ``aapc`` with ``aapc_lower_ci``/``aapc_upper_ci`` and
        ``aapc_p_value`` over the whole series; ``bic``, ``wbic`` and ``wbic_weight`` (R²max), each a dict by
        number of joinpoints (both criteria are always computed); ``selection`` (the rule that chose);
        ``model``, ``verdict`` (of the AAPC, or why nothing was fitted) and ``fitted`` (DataFrame by year:
        expected count ``fitted`` with 95% ``lower_ci``/``upper_ci``).

    Notes
    -----
    **Choosing the number of joinpoints.** For each k = 0 … K the grid search keeps the placement with the
    smallest Poisson deviance D_k (n annual points). Then k minimises (ties: fewer joinpoints):

    * ``selection="wbic"`` (default) — the **weighted BIC** of the NCI Joinpoint Regression Program, its
      default model-selection method since Joinpoint 5.0.0.0 (2023; the option dates from 4.7.0.0):

      .. math:: \\mathrm{WBIC}(k) = \\ln\\frac{\\mathrm{SSE}_k}{n} + \\{(2 + R^2_{max})\\,k + 2\\}\\frac{\\ln n}{n},
                \\qquad R^2_{max} = \\max_{i=1..k} R^2_{i,i+1}

      with R²ᵢ,ᵢ₊₁ the partial R² of joinpoint i's hinge over the two segments it joins (:func:`_wbic_weight`;
      R²max = 0 for k = 0). Equivalently WBIC = (1 − R²max)·BIC + R²max·BIC3, between Joinpoint's BIC (penalty
      2k + 2) and its harsher BIC3 (3k + 2): close to BIC3 when the changes of slope are large against the
      noise, to BIC when they are small. Sources: NCI, *Weighted BIC (WBIC)*,
      https://surveillance.cancer.gov/help/joinpoint/setting-parameters/method-and-parameters-tab/model-selection-method/weighted-bic-wbic
      and *V 5.0 – Default Settings Changes*,
      https://surveillance.cancer.gov/help/joinpoint/joinpoint-5-0-default-settings-changes ; Kim H-J, Chen
      H-S, Midthune D, Wheeler B, Buckman DW, Green D, Byrne J, Luo J, Feuer EJ. Data-driven choice of a model
      selection method in joinpoint regression. *J Appl Stat* 2023;50(9):1992–2013,
      doi:10.1080/02664763.2022.2063265 (online 2022).

      *Adapted to Poisson models, applying the formula literally:* Joinpoint's SSE_k is the minimised
      (weighted) residual sum of squares of its least-squares fit of log rates; ours is a Poisson
      maximum-likelihood fit whose grid search minimises the deviance, so SSE_k is taken as the deviance
      D_k = Σ dₜ², the sum of squared deviance residuals (close to the Pearson X², the weighted residual sum
      of squares of the fit's final IRLS least squares, when counts are large). The deviance rather than X²
      because it is what each k's placement minimises — as SSE_k is in Joinpoint — and it never rises with k.
      Because ln(D_k/n) estimates the residual scale afresh for each k, a common overdispersion factor cancels
      between models, so no dispersion correction is needed (unlike the BIC below). The partial R² is
      computed on the Poisson fit's working response with its IRLS weights (:func:`_wbic_weight`).

    * ``selection="bic"`` — the rule used here before WBIC: BIC = D_k/φ + 2(k + 1)·ln n, φ ≥ 1 the Pearson
      dispersion of the largest model (so that overdispersed counts do not look like joinpoints) and each
      joinpoint counted as two parameters (its place and its change of slope); the likelihood form of
      Joinpoint's BIC.

    Measured on straight simulated series (29 years, 100 seeds each): WBIC added a spurious joinpoint to
    4–6% (about 20, 200 or 2,000 deaths a year, Poisson) and 8% with negative-binomial overdispersion (size
    20, ~200 a year); BIC to 2–4% and 13%; on a planted change (+8% then −6% a year, 25 years, ~200 a year) both found one
    joinpoint within a year of the truth, WBIC alone (no spurious second) in 93% and BIC in 88%.

    **Minimum events per segment.** A segment's ``events`` are the observed events in its years, the
    joinpoint year counted in both segments it joins (as for ``min_points``). A segment with fewer than
    :data:`MIN_EVENTS` (50) events is still part of the fitted model (the joinpoints, the AAPC and the fitted
    curve are unchanged), but its APC is not reported: ``apc``, ``lower_ci``, ``upper_ci`` and ``p_value`` are
    NaN and its ``verdict`` is 'too few events' — the same small-numbers rule as for a whole series. Otherwise
    the segment's ``verdict`` is 'increasing', 'decreasing' or 'no significant change' (Wald test of its
    slope at 5%).
    """
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {list(SELECTIONS)}; got {selection!r}")
    t, y, off = _arrays(df, year, count, population)
    reason = _too_few(t, y)
    empty = pd.DataFrame(columns=["period_start", "period_end", "apc", "lower_ci", "upper_ci", "p_value", "events",
                                  "verdict"])
    if reason:
        return {"joinpoints": (), "segments": empty, "aapc": np.nan, "aapc_lower_ci": np.nan,
                "aapc_upper_ci": np.nan, "aapc_p_value": np.nan, "bic": {}, "wbic": {}, "wbic_weight": {},
                "selection": selection, "model": "", "verdict": reason,
                "fitted": pd.DataFrame(columns=["fitted", "lower_ci", "upper_ci"])}
    best = {}
    for k in range(max_joinpoints + 1):
        found = _best_placement(t, y, off, list(_placements(t, k, min_points)))
        if found is not None:
            best[k] = found
    # BIC on the deviance scaled by the largest model's dispersion (so that overdispersed counts do not
    # look like joinpoints): D_k/φ + 2(k+1)·ln(n), each joinpoint counting as two parameters (place, slope)
    n = len(t)
    top = best[max(best)][2]
    phi = max(1.0, float(top.pearson_chi2) / max(1, n - top.params.size))
    bic = {k: dev / phi + 2 * (k + 1) * np.log(n) for k, (dev, _, _) in best.items()}
    # weighted BIC (Joinpoint 5's default): ln(SSE_k/n) + ((2 + R²max)k + 2)·ln(n)/n with SSE_k the deviance
    weight = {k: _wbic_weight(t, y, off, knots, res) for k, (_, knots, res) in best.items()}
    wbic = {k: np.log(max(dev, np.finfo(float).tiny) / n) + ((2 + weight[k]) * k + 2) * np.log(n) / n
            for k, (dev, _, _) in best.items()}
    crit = wbic if selection == "wbic" else bic
    k = min(crit, key=lambda j: (crit[j], j))
    knots = best[k][1]
    X = _design(t, knots)
    res, kind, _, _ = _fit(X, y, off)
    beta, cov = np.asarray(res.params), np.asarray(res.cov_params())
    bounds = [t.min(), *knots, t.max()]
    rows, weights, combos = [], [], []
    for j in range(k + 1):
        c = np.zeros(len(beta))
        c[1] = 1
        c[2:2 + j] = 1  # slope of segment j = β₁ + δ₁ + … + δⱼ
        b, se = float(c @ beta), float(np.sqrt(c @ cov @ c))
        events = float(y[(t >= bounds[j]) & (t <= bounds[j + 1])].sum())  # a joinpoint year counts in both
        if events < MIN_EVENTS:
            apc = lo = hi = p = np.nan
            seg_verdict = "too few events"
        else:
            apc, lo, hi = _apc(b, se)
            p = float(2 * _scipy_stats().norm.sf(abs(b / se)))
            seg_verdict = _direction(p, b)
        rows.append({"period_start": bounds[j], "period_end": bounds[j + 1], "apc": apc, "lower_ci": lo,
                     "upper_ci": hi, "p_value": p, "events": events, "verdict": seg_verdict})
        weights.append(bounds[j + 1] - bounds[j])
        combos.append(c)
    w = np.array(weights, dtype=float) / sum(weights)
    c = np.sum([wi * ci for wi, ci in zip(w, combos)], axis=0)
    b, se = float(c @ beta), float(np.sqrt(c @ cov @ c))
    aapc, lo, hi = _apc(b, se)
    p = float(2 * _scipy_stats().norm.sf(abs(b / se)))
    verdict = _direction(p, b)
    # expected counts with 95% limits (log scale, back-transformed)
    eta = X @ beta + off
    se_eta = np.sqrt(np.einsum("ij,jk,ik->i", X, cov, X))
    fitted = pd.DataFrame({"fitted": np.exp(eta), "lower_ci": np.exp(eta - _z() * se_eta),
                           "upper_ci": np.exp(eta + _z() * se_eta)}, index=pd.Index(t.astype(int), name="year"))
    return {"joinpoints": tuple(int(x) for x in knots), "segments": pd.DataFrame(rows), "aapc": aapc,
            "aapc_lower_ci": lo, "aapc_upper_ci": hi, "aapc_p_value": p, "bic": bic, "wbic": wbic,
            "wbic_weight": weight, "selection": selection, "model": kind,
            "verdict": verdict, "fitted": fitted}


def compare_trends(area: pd.DataFrame, reference: pd.DataFrame, year: str, count: str,
                   population: str | None = None) -> dict:
    """Does the area's log-linear trend differ from the reference's (e.g. England's)? Wald test of the area ×
    year interaction in one Poisson (or quasi-Poisson) model of both series over their common years.

    Returns
    -------
    dict
        ``apc_ratio`` (the area's yearly rate ratio over the reference's, as a % difference in APC terms:
        100·(e^δ − 1)) with ``lower_ci``/``upper_ci``, ``p_value``, ``model`` and ``verdict`` ('faster
        increase or slower decrease than the reference', 'slower …', 'not significantly different', 'too
        few events').
    """
    ta, ya, oa = _arrays(area, year, count, population)
    tr, yr, orf = _arrays(reference, year, count, population)
    common = np.intersect1d(ta, tr)
    ka, kr = np.isin(ta, common), np.isin(tr, common)
    ta, ya, oa, tr, yr, orf = ta[ka], ya[ka], oa[ka], tr[kr], yr[kr], orf[kr]
    reason = _too_few(ta, ya)
    if reason:
        return {"apc_ratio": np.nan, "lower_ci": np.nan, "upper_ci": np.nan, "p_value": np.nan, "model": "",
                "verdict": reason}
    t = np.concatenate([ta, tr]) - common.min()
    g = np.concatenate([np.ones(len(ta)), np.zeros(len(tr))])
    X = np.column_stack([np.ones_like(t), g, t, g * t])
    res, kind, _, _ = _fit(X, np.concatenate([ya, yr]), np.concatenate([oa, orf]))
    d, se = float(res.params[3]), float(res.bse[3])
    ratio, lo, hi = _apc(d, se)
    p = float(res.pvalues[3])
    verdict = _against(p, d)
    return {"apc_ratio": ratio, "lower_ci": lo, "upper_ci": hi, "p_value": p, "model": kind, "verdict": verdict}


def compare_window(area: pd.DataFrame, reference: pd.DataFrame, year: str, count: str,
                   population: str | None = None, *, years: int = 10) -> dict:
    """Does the area's log-linear trend over a recent window differ from the reference's (e.g. England's)?

    The window is the latest ``years`` of the years held by **both** series (the last ``years`` of their common
    years, so both are compared over exactly the same years). Each series is fitted **separately** with
    :func:`poisson_trend`'s model over the window — Poisson, refitted as quasi-Poisson when its own Pearson
    overdispersion is significant at 5% (so each series has its own dispersion: a large reference's excess
    variation does not widen the area's interval, nor the reverse) — and the slopes are compared by

    .. math:: z = \\frac{b_a - b_r}{\\sqrt{se_a^2 + se_r^2}}, \\qquad
              \\text{APC ratio} = 100\\,(e^{b_a - b_r} - 1)

    with a 95% Wald interval 100(e^{(b_a − b_r) ± 1.96·√(se_a² + se_r²)} − 1) and a two-sided normal p-value
    (the two series are independent). With ``population`` both fits carry a log-population offset, so the
    trends and their difference are in rates.

    Why a window: over a long series a log-linear slope averages rises, plateaus and recent turns, and a joint
    model of a large reference with a bent trend is heavily overdispersed, so :func:`compare_trends` over the
    whole series can miss a recent divergence (tested: an area following England for 19 years and falling
    4% a year while England rises 5% a year over the last 10 is 'not significantly different' over 29 years and
    significantly slower over the last 10).

    Calibration (simulated, Poisson counts, 10-year window, ~60 against ~4,000 a year): significant at 5% for
    5.0% of 1,000 pairs of parallel series (tested: between 2% and 9% of 200). With negative-binomial
    (overdispersed) counts it is somewhat liberal, 8–9%: the overdispersion test has little power on 8
    degrees of freedom, and the quasi-Poisson scale, when used, is estimated from 10 points but treated as
    known (normal, not t, reference distribution), as in :func:`poisson_trend`.

    Parameters
    ----------
    area, reference : DataFrame
        One row per year each.
    year, count, population : str
        Columns, the same in both (population optional).
    years : int
        Length of the window in years held by both series (default 10); at least 2.

    Returns
    -------
    dict
        ``window_start``, ``window_end`` (years; NaN without common years), ``n_points``; for the area
        ``area_apc``, ``area_lower_ci``, ``area_upper_ci``, ``area_model``, ``area_events``; for the reference
        ``reference_apc``, ``reference_lower_ci``, ``reference_upper_ci``, ``reference_model``,
        ``reference_events``; ``apc_ratio`` with ``lower_ci``/``upper_ci``, ``p_value``, ``model`` (e.g.
        'separate fits: quasi-Poisson (area), Poisson (reference)') and ``verdict`` in
        :func:`compare_trends`' words: 'not significantly different', 'faster increase or slower decrease than
        the reference', 'slower increase or faster decrease than the reference', or 'too few points' / 'too
        few events' when the window has fewer than :data:`MIN_POINTS` years or either series fewer than
        :data:`MIN_EVENTS` events in it (then nothing is fitted and every estimate is NaN).

    Raises
    ------
    ValueError
        As :func:`poisson_trend` (missing columns, negative counts, a repeated year), or ``years`` not an
        integer of at least 2.
    """
    if isinstance(years, bool) or not isinstance(years, int | np.integer) or years < 2:
        raise ValueError(f"years must be an integer of at least 2; got {years!r}")
    ta, ya, oa = _arrays(area, year, count, population)
    tr, yr, orf = _arrays(reference, year, count, population)
    window = np.intersect1d(ta, tr)[-years:]
    ka, kr = np.isin(ta, window), np.isin(tr, window)
    ta, ya, oa, tr, yr, orf = ta[ka], ya[ka], oa[ka], tr[kr], yr[kr], orf[kr]
    out = {"window_start": int(window[0]) if len(window) else np.nan,
           "window_end": int(window[-1]) if len(window) else np.nan, "n_points": len(window),
           "area_events": float(ya.sum()), "reference_events": float(yr.sum())}
    reason = _too_few(ta, ya) or _too_few(tr, yr)
    if reason:
        nan = dict.fromkeys(["area_apc", "area_lower_ci", "area_upper_ci", "reference_apc", "reference_lower_ci",
                             "reference_upper_ci", "apc_ratio", "lower_ci", "upper_ci", "p_value"], np.nan)
        return {**out, **nan, "area_model": "", "reference_model": "", "model": "", "verdict": reason}
    fa, fr = _loglinear(ta, ya, oa), _loglinear(tr, yr, orf)
    d, se = fa["b"] - fr["b"], float(np.hypot(fa["se"], fr["se"]))
    ratio, lo, hi = _apc(d, se)
    p = float(2 * _scipy_stats().norm.sf(abs(d / se)))
    return {**out, **{f"{who}_{k}": f[k] for who, f in (("area", fa), ("reference", fr))
                      for k in ("apc", "lower_ci", "upper_ci", "model")},
            "apc_ratio": ratio, "lower_ci": lo, "upper_ci": hi, "p_value": p,
            "model": f"separate fits: {fa['model']} (area), {fr['model']} (reference)", "verdict": _against(p, d)}
