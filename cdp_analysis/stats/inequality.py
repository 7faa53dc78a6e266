"""Slope and relative index of inequality (SII, RII) across deprivation quantiles.

Follows PHEindicatormethods ``phe_sii`` (UKHSA v2.x; Low & Low, J Public Health 2004;26:388-395).

For each group (area, period, sex, …) with one row per quantile, quantiles sorted ascending
(quantile 1 = most deprived, so relative rank ≈ 0 is the most deprived end):

* aᵢ = popᵢ / Σpop (population share), bᵢ = Σ_{j<i} aⱼ + aᵢ/2 (relative rank: cumulative
  population mid-point, 0 < b < 1).
* The regression ``yᵢ√aᵢ = β₀√aᵢ + β₁bᵢ√aᵢ`` (no free intercept) is fitted by least squares —
  i.e. the population-weighted regression of the quantile values on their relative rank.
* **SII = multiplier · β₁**: the fitted difference between rank 1 (least deprived end) and
  rank 0 (most deprived end). It is positive when the value rises towards the least deprived
  end (e.g. life expectancy) and negative when it falls (e.g. mortality). Pass
  ``multiplier=-1`` (or −100, …) to report the gap the other way round, as the R package does.
* **RII = (β₀ + β₁) / β₀** = fitted value at rank 1 / fitted value at rank 0 (the R package's
  definition); inverted (1/RII) when the multiplier is negative.
* ``rii_mean`` = β₁ / ȳ (× sign of the multiplier), where ȳ = Σaᵢyᵢ is the population-weighted
  mean; the Low & Low "SII relative to the mean" variant, returned for convenience (since the
  weighted mean rank is exactly 0.5, ȳ is also the fitted value at b = 0.5).

Confidence limits by simulation: for each repetition each quantile's value is drawn from
N(T(yᵢ), SEᵢ) on the transformed scale T (identity for ``value_type="normal"``, log for
``"rate"``, logit for ``"proportion"``), back-transformed, and the regression refitted. SEᵢ is
the ``se`` column (on the transformed scale) or ``(T(upper95ᵢ) − T(lower95ᵢ)) / (2·1.959964)``.
The limits are the sorted simulated SIIs (RIIs) at positions round(R·(1−c′)) and round(R·c′)
(1-based), c′ = c + (1 − c)/2, as in the R package. Draws come from a seeded
:class:`numpy.random.Generator` (``seed``), so results are reproducible; they cannot reproduce R's
random stream, so simulated limits differ from R's by Monte-Carlo error only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._frame import normalise_group_by as _as_list
from ._frame import numeric_column as _numeric
from .limits import normalise_confidence

log = logging.getLogger(__name__)

__all__ = ["sii"]

@functools.cache
def _z975() -> float:
    """Φ⁻¹(0.975); SciPy is imported when first needed (`cdp run` of up-to-date CDPs never needs it)."""
    from scipy import stats as _st

    return float(_st.norm.ppf(0.975))


_VALUE_TYPES = {0: "normal", 1: "rate", 2: "proportion", "normal": "normal", "other": "normal",
                "rate": "rate", "proportion": "proportion"}


def _transform(x: np.ndarray, kind: str) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "rate":
            return np.log(x)
        if kind == "proportion":
            return np.log(x / (1 - x))
    return x


def _back(x: np.ndarray, kind: str) -> np.ndarray:
    if kind == "rate":
        return np.exp(x)
    if kind == "proportion":
        return 1.0 / (1.0 + np.exp(-x))
    return x


def _conf_label(c: float) -> str:
    """The level tag of the family's limit columns: 0.95 → '95_0', 0.998 → '99_8' (as in ``lower95_0cl``)."""
    return f"{c * 100:.1f}".replace(".", "_")


def _hat(sqrt_a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(2, Q) matrix H with (β₀, β₁) = H @ (y·√a)."""
    X = np.column_stack([sqrt_a, b * sqrt_a])
    return np.linalg.solve(X.T @ X, X.T)


def sii(
    df: pd.DataFrame,
    quantile: str,
    population: str,
    *,
    value: str | None = None,
    numerator: str | None = None,
    value_type: str | int = "normal",
    lower: str | None = None,
    upper: str | None = None,
    se: str | None = None,
    group_by: str | list[str] | None = None,
    multiplier: float = 1.0,
    confidence: float | Sequence[float] = 0.95,
    reps: int = 100_000,
    seed: int | np.random.Generator | None = None,
    transform: bool = False,
) -> pd.DataFrame:
    """Slope index of inequality (and RII) with simulated confidence limits, per group.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per quantile per group.
    quantile : str
        Quantile label column (e.g. IMD decile 1–10). Sorted ascending: put the most deprived
        first (quantile 1). 5–100 distinct quantiles (a warning is logged above 10).
    population : str
        Quantile population (weights); must be > 0.
    value : str, optional
        Indicator value per quantile. For ``value_type="proportion"`` it must be on the 0–1
        scale (use ``multiplier=100`` to report percentage points). If omitted for proportions,
        ``numerator / population`` is used.
    numerator : str, optional
        Count column (proportions only, when ``value`` is not given).
    value_type : {"normal", "rate", "proportion"} or {0, 1, 2}
        Sets the scale on which quantile values are simulated (identity, log, logit).
    lower, upper : str, optional
        95 % confidence limits of the value (used to derive SE when ``se`` is not given).
    se : str, optional
        Standard error of the value, on the transformed scale (log for rates, logit for
        proportions).
    group_by : str or list of str, optional
        One SII per group.
    multiplier : float, default 1
        Scales the SII and its limits; a negative multiplier also inverts the RII.
    confidence : float or sequence of float, default 0.95
        Level(s) of the simulated limits (0.95, 0.998, 95, 99.8, …).
    reps : int, default 100000
        Simulation repetitions (the R default). At least 1000.
    seed : int or numpy.random.Generator, optional
        Seed for reproducible limits. Groups are simulated in sorted order from one generator.
    transform : bool, default False
        As ``phe_sii(transform = TRUE)``: for rates and proportions, fit the regression to the log (rates)
        or logit (proportions) of the values, then transform back: SII = (T⁻¹(β₀ + β₁) − T⁻¹(β₀)) ·
        multiplier and RII = T⁻¹(β₀ + β₁) / T⁻¹(β₀). The simulated slopes stay on the transformed scale;
        their limits ℓ are turned back around the fitted mid-point h = β₀ + β₁/2 as T⁻¹(h + ℓ/2) −
        T⁻¹(h − ℓ/2) (and the ratio for the RII), the lower and upper swapping when the multiplier is
        negative. Recommended for rates and proportions; needs ``lower`` and ``upper``, not ``se``.

    Returns
    -------
    pandas.DataFrame
        One row per group: grouping columns, ``sii``, ``sii_lower{c}cl``, ``sii_upper{c}cl``
        (``c`` = "95_0", "99_8", …, as PHEindicatormethods' ``phe_sii`` names them and as the rest of the
        family names its limits), ``rii``, ``rii_lower{c}cl``, ``rii_upper{c}cl``, ``rii_mean``
        (SII relative to the weighted mean; point estimate only), ``weighted_mean`` (value scale),
        ``n_quantiles`` and ``reason`` (why a group could not be calculated, else "").

    Raises
    ------
    ValueError
        Missing columns; zero/negative/missing population; negative SE; lower > upper;
        proportions outside [0, 1]; non-positive values/limits needing a log or logit; fewer
        than 5 or more than 100 quantiles; reps < 1000.

    Notes
    -----
    Groups that lack a row for any quantile present in the data, or have a missing value or
    standard error, are returned with NaN results and a ``reason`` (R drops them with a warning).
    Formulas: see the module docstring.
    """
    keys = _as_list(group_by)
    kind = _VALUE_TYPES.get(value_type if not isinstance(value_type, str) else value_type.lower())
    if kind is None:
        raise ValueError(f"value_type must be 'normal', 'rate' or 'proportion' (or 0, 1, 2), got {value_type!r}")
    if value is None and not (kind == "proportion" and numerator is not None):
        raise ValueError("sii needs a value column (or numerator and population for proportions)")
    if se is None and (lower is None or upper is None):
        raise ValueError("sii needs either an se column or both lower and upper (95%) columns")
    if transform and kind == "normal":
        raise ValueError("transform=True needs value_type 'rate' or 'proportion' (1 or 2)")
    if transform and se is not None:
        raise ValueError("transform=True needs the lower and upper limits, not an se column")
    reps = int(reps)
    if reps < 1000:
        raise ValueError(f"reps must be at least 1000, got {reps}")
    confs = [normalise_confidence(c) for c in (confidence if isinstance(confidence, (list, tuple, np.ndarray)) else [confidence])]
    cols = [quantile, population, value, numerator, lower, upper, se, *keys]
    missing = [c for c in cols if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not found in data; available: {list(df.columns)}")

    pop = _numeric(df, population)
    bad = ~(pop > 0)
    if bad.any():
        raise ValueError(f"column '{population}' has zero, negative or missing values in rows {list(df.index[bad])}")
    if value is not None:
        y = _numeric(df, value)
        vname = value
    else:
        y = _numeric(df, numerator) / pop
        vname = numerator
    if kind == "proportion":
        bad = np.isfinite(y) & ((y < 0) | (y > 1))
        if bad.any():
            raise ValueError(f"column '{vname}' has proportions outside 0–1 in rows {list(df.index[bad])}")
    if kind != "normal":
        bad = np.isfinite(y) & ((y <= 0) | ((y >= 1) if kind == "proportion" else False))
        if bad.any():
            raise ValueError(
                f"column '{vname}' must be {'> 0' if kind == 'rate' else 'strictly between 0 and 1'} for "
                f"value_type='{kind}' (log/logit transform) in rows {list(df.index[bad])}"
            )

    if se is not None:
        s = _numeric(df, se)
        bad = np.isfinite(s) & (s < 0)
        if bad.any():
            raise ValueError(f"column '{se}' has negative values in rows {list(df.index[bad])}")
    else:
        lo, hi = _numeric(df, lower), _numeric(df, upper)
        bad = np.isfinite(lo) & np.isfinite(hi) & (lo > hi)
        if bad.any():
            raise ValueError(f"column '{lower}' is greater than column '{upper}' in rows {list(df.index[bad])}")
        for arr, name in ((lo, lower), (hi, upper)):
            if kind == "proportion":
                bad = np.isfinite(arr) & ((arr <= 0) | (arr >= 1))
            elif kind == "rate":
                bad = np.isfinite(arr) & (arr <= 0)
            else:
                bad = np.zeros(len(arr), dtype=bool)
            if bad.any():
                raise ValueError(
                    f"column '{name}' must be {'> 0' if kind == 'rate' else 'strictly between 0 and 1'} "
                    f"for value_type='{kind}' (log/logit transform) in rows {list(df.index[bad])}"
                )
        s = (_transform(hi, kind) - _transform(lo, kind)) / (2 * _z975())

    q_all = pd.unique(df[quantile].dropna())
    n_q = len(q_all)
    if n_q < 5 or n_q > 100:
        raise ValueError(f"column '{quantile}' must have between 5 and 100 distinct quantiles, found {n_q}")
    if n_q > 10:
        log.warning("sii: %d quantiles; small populations can make the SII unstable", n_q)

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    mu = _transform(y, kind)
    sign = -1.0 if multiplier < 0 else 1.0

    qcol = df[quantile]
    if not (pd.api.types.is_numeric_dtype(qcol) or isinstance(qcol.dtype, pd.CategoricalDtype)):
        as_num = pd.to_numeric(qcol, errors="coerce")
        if as_num.notna().eq(qcol.notna()).all():
            qcol = as_num  # "1", "2", …, "10" sort as numbers, not as text
    work = pd.DataFrame({"_q": qcol.reset_index(drop=True), "_pos": np.arange(len(df))})
    for k in keys:
        work[k] = df[k].to_numpy()
    dup = work.duplicated([*keys, "_q"], keep=False).to_numpy()
    if dup.any():
        raise ValueError(f"column '{quantile}' has repeated quantiles within a group in rows {list(df.index[dup])}")
    work = work.sort_values([*keys, "_q"], kind="mergesort")
    groups = work.groupby(keys, sort=True, dropna=False) if keys else [((), work)]

    records = []
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        rec: dict[str, object] = {k: v for k, v in zip(keys, key)}
        pos = g["_pos"].to_numpy()
        rec["n_quantiles"] = len(pos)
        rec["reason"] = ""
        nanrec = {"sii": np.nan, "rii": np.nan, "rii_mean": np.nan, "weighted_mean": np.nan}
        for c in confs:
            lab = _conf_label(c)
            nanrec.update({f"sii_lower{lab}cl": np.nan, f"sii_upper{lab}cl": np.nan,
                           f"rii_lower{lab}cl": np.nan, f"rii_upper{lab}cl": np.nan})
        if len(pos) != n_q:
            rec.update(nanrec, reason=f"has {len(pos)} of the {n_q} quantiles")
            log.warning("sii: group %s has %d of %d quantiles; not calculated", key, len(pos), n_q)
            records.append(rec)
            continue
        if not (np.isfinite(y[pos]).all() and np.isfinite(s[pos]).all()):
            rec.update(nanrec, reason="missing value or standard error")
            log.warning("sii: group %s has missing values or standard errors; not calculated", key)
            records.append(rec)
            continue

        a = pop[pos] / pop[pos].sum()
        b = np.cumsum(a) - a / 2
        sqrt_a = np.sqrt(a)
        H = _hat(sqrt_a, b)
        wmean = float(np.sum(a * y[pos]))
        if transform:
            t0, t1 = H @ (mu[pos] * sqrt_a)
            f0, f1 = _back(np.array([t0, t0 + t1]), kind)
            b1 = f1 - f0
            rii = f1 / f0
            half = t0 + t1 / 2
        else:
            b0, b1 = H @ (y[pos] * sqrt_a)
            rii = (b0 + b1) / b0
        rec.update(
            sii=multiplier * b1,
            rii=1.0 / rii if multiplier < 0 else rii,
            rii_mean=sign * b1 / wmean if wmean != 0 else np.nan,
            weighted_mean=wmean,
        )

        # simulation, in chunks to bound memory (reps × Q floats per chunk)
        sims_sii = np.empty(reps)
        sims_rii = np.empty(reps)
        chunk = max(1, 2_000_000 // len(pos))
        HT = (H * sqrt_a).T  # (Q, 2): coefficients = draws @ HT
        for start in range(0, reps, chunk):
            stop = min(reps, start + chunk)
            draws = rng.normal(mu[pos], s[pos], size=(stop - start, len(pos)))
            coef = (draws if transform else _back(draws, kind)) @ HT
            sims_sii[start:stop] = coef[:, 1]
            sims_rii[start:stop] = (coef[:, 0] + coef[:, 1]) / coef[:, 0]
        if transform:  # slopes on the transformed scale, turned back around the fitted mid-point
            sims_sii = np.sort(sims_sii)
        else:
            sims_sii = np.sort(multiplier * sims_sii)
            if multiplier < 0:
                sims_rii = 1.0 / sims_rii
            sims_rii = np.sort(sims_rii)
        for c in confs:
            cv = c + (1 - c) / 2
            lo_i = max(1, int(round(reps * (1 - cv)))) - 1
            hi_i = min(reps, int(round(reps * cv))) - 1
            lab = _conf_label(c)
            if transform:
                ends = []
                for slope in (sims_sii[lo_i], sims_sii[hi_i]):
                    g0, g1 = _back(np.array([half - slope / 2, half + slope / 2]), kind)
                    ends.append((multiplier * (g1 - g0), g1 / g0))
                (s_lo, r_lo), (s_hi, r_hi) = ends
                if multiplier < 0:
                    s_lo, s_hi, r_lo, r_hi = s_hi, s_lo, 1.0 / r_hi, 1.0 / r_lo
                rec[f"sii_lower{lab}cl"], rec[f"sii_upper{lab}cl"] = s_lo, s_hi
                rec[f"rii_lower{lab}cl"], rec[f"rii_upper{lab}cl"] = r_lo, r_hi
            else:
                rec[f"sii_lower{lab}cl"] = sims_sii[lo_i]
                rec[f"sii_upper{lab}cl"] = sims_sii[hi_i]
                rec[f"rii_lower{lab}cl"] = sims_rii[lo_i]
                rec[f"rii_upper{lab}cl"] = sims_rii[hi_i]
        records.append(rec)

    out = pd.DataFrame(records)
    order = keys + ["sii"]
    for c in confs:
        order += [f"sii_lower{_conf_label(c)}cl", f"sii_upper{_conf_label(c)}cl"]
    order += ["rii"]
    for c in confs:
        order += [f"rii_lower{_conf_label(c)}cl", f"rii_upper{_conf_label(c)}cl"]
    order += ["rii_mean", "weighted_mean", "n_quantiles", "reason"]
    return out[order]
