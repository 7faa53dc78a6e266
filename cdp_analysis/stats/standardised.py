"""Directly and indirectly standardised rates (PHEindicatormethods v2.1).

=====================  =============================================  =======================
function               R equivalent                                   limits
=====================  =============================================  =======================
:func:`dsr`            ``calculate_dsr(data, x, n, stdpop, ...)``     Dobson (on Byar's)
:func:`isr_ratio`      ``calculate_ISRatio(data, x, n, x_ref, ...)``  exact (O < 10) / Byar's
:func:`isr_rate`       ``calculate_ISRate(data, x, n, x_ref, ...)``   exact (O < 10) / Byar's
:func:`dsr_limits_from_published`  Dobson limits at another level from a published DSR, its
                         95% limits and total count (when they are Dobson's)
:func:`expected_counts`  the expected-count step of the two ISR functions; reusable for
                         synthetic estimates (reference rates × local population)
=====================  =============================================  =======================

Input is "long": one row per standardisation category (age band) per group, with the local
count ``x``, local population ``n`` and — for the ISR functions — the reference count
``x_ref`` and population ``n_ref`` of the same band as columns. The output has one row per
group (see :mod:`._frame`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _frame as fr
from .esp2013 import ESP2013, ESP2013_BANDS
from .limits import byars_limits
from .rates import poisson_method_labels, poisson_scaled_columns

__all__ = ["dsr", "isr_ratio", "isr_rate", "expected_counts", "dsr_limits_from_published"]

#: DSRs with a total count below this are suppressed (value and limits missing).
DSR_MIN_COUNT = 10

_ESP = np.asarray(ESP2013, dtype=float)


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _positions(codes: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Position of each row within its group (0-based, input order) and the group sizes."""
    sizes = np.bincount(codes, minlength=n_groups)
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    pos = np.empty(len(codes), dtype=np.int64)
    pos[order] = np.arange(len(codes)) - starts[codes[order]]
    return pos, sizes


def _describe_groups(keys_frame: pd.DataFrame, idx) -> str:
    idx = list(idx)
    if keys_frame.shape[1] == 0:
        return "the data (no group_by)"
    recs = keys_frame.iloc[idx[:10]].to_dict("records")
    more = len(idx) - 10
    text = ", ".join(str(r) for r in recs)
    return text + (f", ... and {more} more" if more > 0 else "")


def _esp_weights(df, codes, keys_frame, what="group"):
    """ESP2013 weight for each row by its position within its group; 19 rows required."""
    pos, sizes = _positions(codes, len(keys_frame))
    bad = np.flatnonzero(sizes != len(_ESP))
    if bad.size:
        raise ValueError(
            f"stdpop=None matches ESP2013's {len(_ESP)} age bands ({ESP2013_BANDS[0]} … "
            f"{ESP2013_BANDS[-1]}) to the rows of each {what} in input order, but these "
            f"{what}s do not have {len(_ESP)} rows: "
            + "; ".join(
                f"{_describe_groups(keys_frame, [i])} has {sizes[i]} rows" for i in bad[:10]
            )
            + (f"; ... and {bad.size - 10} more" if bad.size > 10 else "")
            + ". Pass stdpop='<column>' to use a standard population column instead."
        )
    return _ESP[pos]


def _dsr_limits(value, var, total, spec, multiplier):
    """Dobson limits: value + sqrt(var/O) × (Byar's limit(O) − O) × multiplier."""
    cols = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(var / total)
        for level, (lo_name, up_name) in zip(spec.levels, spec.columns):
            lo, up = byars_limits(total, level)
            cols[lo_name] = value + scale * (lo - total) * multiplier
            cols[up_name] = value + scale * (up - total) * multiplier
    return cols


# --------------------------------------------------------------------------------------------
# DSR
# --------------------------------------------------------------------------------------------


def _counts_and_populations(df: pd.DataFrame, x: str, n: str, what: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Columns ``x`` (counts, NaN allowed) and ``n`` (populations) as floats, after the shared checks.

    Counts must be non-negative and finite; populations present, positive and finite. ``what`` prefixes
    the problem in messages (e.g. 'reference ').
    """
    xs, ns = fr.numeric_column(df, x), fr.numeric_column(df, n)
    fr.check_rows(df, xs < 0, x, f"negative {what}counts")
    fr.check_rows(df, np.isinf(xs), x, f"infinite {what}counts")
    fr.check_rows(df, np.isnan(ns), n, f"missing {what}populations")
    fr.check_rows(df, ns <= 0, n, f"zero or negative {what}{'populations' if what else 'denominators'}")
    fr.check_rows(df, np.isinf(ns), n, f"infinite {what}populations")
    return xs, ns


def dsr(
    df: pd.DataFrame,
    x: str,
    n: str,
    *,
    group_by=None,
    stdpop=None,
    confidence=0.95,
    multiplier=100_000,
    independent_events=True,
    eventfreq=None,
    ageband=None,
):
    """Directly standardised rate with Dobson confidence limits (R: ``calculate_dsr``).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per age band (standardisation category) per group; for non-independent
        events one row per age band per event frequency per group.
    x : str
        Column of event counts per band. With ``independent_events=False`` it is instead the
        number of *people* who had ``eventfreq`` events in the band.
    n : str
        Column of populations per band (person-years).
    group_by : str or list of str, optional
        Columns identifying each DSR (e.g. area, year, sex).
    stdpop : str, optional
        Column of standard populations per band. ``None`` (default) uses ESP2013, matched to
        the rows of each group **by position in input order** (0-4 first … 90+ last); every
        group must then have exactly 19 rows (19 per event frequency for non-independent
        events), otherwise ``ValueError``. With a column, groups may have any number of rows.
    confidence : float or (float, float)
        0.95 (or 95), any level in [0.9, 1); or the pair (0.95, 0.998).
    multiplier : float
        Rate per ``multiplier`` (default 100,000).
    independent_events : bool
        ``False`` widens the limits for people who can have several events
        (see Notes); needs ``eventfreq``.
    eventfreq : str, optional
        Column of event frequencies f (events per person) when ``independent_events=False``.
    ageband : str, optional
        Column identifying the band, used only when ``independent_events=False`` to add up the
        event-frequency rows of a band (R's ``ageband`` argument). If omitted, the k-th row of
        each (group, event frequency) is band k.

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``total_count`` (events), ``total_pop``, ``value``, limits,
        ``confidence``, ``statistic`` (``"dsr per 100000"``, or
        ``"dsr NA for total count < 10"``) and ``method`` (``"Dobson"``, or ``"Dobson, with
        confidence adjusted for non-independent events"``).

    Notes
    -----
    With w_i the standard population, x_i, n_i the count and population of band i::

        DSR    = Σ (x_i / n_i) w_i / Σ w_i × multiplier
        var    = Σ x_i (w_i / n_i)² / (Σ w_i)²
        limits = DSR + sqrt(var / O) × (Byar's limit(O) − O) × multiplier,   O = Σ x_i

    Rules, as in R: missing counts are taken as 0 (``total_count`` sums non-missing counts);
    populations and standard populations must not be missing; x < 0, n <= 0 or stdpop < 0
    raise ``ValueError``; when O < 10 value and limits are missing and ``statistic`` says
    ``"dsr NA for total count < 10"``.

    Non-independent events (Fingertips technical guidance; R ``independent_events = FALSE``):
    rows give the number of people p_{i,f} in band i who had f events. The events are
    x_i = Σ_f f p_{i,f}, giving the DSR and O as above, while the variance is
    ``Σ_f f² var_f`` where var_f is the independent-events variance formula applied to the
    persons p_{·,f} with frequency f (its Σ w runs over the rows of that frequency, as in R).
    With every f = 1 this equals the independent DSR. Population and standard population
    must be the same on every row of a band (checked).
    """
    keys = fr.normalise_group_by(group_by)
    spec = fr.parse_confidence(confidence)
    if not isinstance(independent_events, (bool, np.bool_)):
        raise ValueError(f"independent_events must be True or False, got {independent_events!r}")
    needed = [x, n] + keys
    if stdpop is not None:
        needed.append(stdpop)
    if not independent_events:
        if eventfreq is None:
            raise ValueError("dsr with independent_events=False needs eventfreq='<column>'")
        needed.append(eventfreq)
        if ageband is not None:
            needed.append(ageband)
    fr.require_columns(df, needed)

    xs, ns = _counts_and_populations(df, x, n)
    if stdpop is not None:
        ws = fr.numeric_column(df, stdpop)
        fr.check_rows(df, np.isnan(ws), stdpop, "missing standard populations")
        fr.check_rows(df, ws < 0, stdpop, "negative standard populations")
        fr.check_rows(df, np.isinf(ws), stdpop, "infinite standard populations")

    codes, keys_frame = fr.group_frame(df, keys)
    g = len(keys_frame)
    x0 = np.where(np.isnan(xs), 0.0, xs)
    m = float(multiplier)

    if independent_events:
        if stdpop is None:
            ws = _esp_weights(df, codes, keys_frame)
        ratio = ws / ns
        total = fr.group_sums(codes, g, x0)
        total_pop = fr.group_sums(codes, g, ns)
        sum_w = fr.group_sums(codes, g, ws)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = fr.group_sums(codes, g, x0 * ratio) / sum_w * m
            var = fr.group_sums(codes, g, x0 * ratio * ratio) / sum_w**2
        method = "Dobson"
    else:
        fs = fr.numeric_column(df, eventfreq)
        fr.check_rows(df, np.isnan(fs), eventfreq, "missing event frequencies")
        fr.check_rows(df, fs < 0, eventfreq, "negative event frequencies")
        fr.check_rows(df, np.isinf(fs), eventfreq, "infinite event frequencies")
        # sub-groups (group, event frequency)
        sub = pd.DataFrame({"_g": codes, "_f": fs})
        sub_codes = fr.grouper(sub, ["_g", "_f"]).ngroup().to_numpy(dtype=np.int64)
        sub_keys = fr.grouper(sub, ["_g", "_f"]).size().index.to_frame(index=False)
        n_sub = len(sub_keys)
        if stdpop is None:
            sub_kf = keys_frame.iloc[sub_keys["_g"].to_numpy()].reset_index(drop=True)
            sub_kf[eventfreq] = sub_keys["_f"].to_numpy()
            ws = _esp_weights(df, sub_codes, sub_kf, what="group and event frequency")
        ratio = ws / ns
        # variance for each event frequency, then Σ f² var_f per group
        with np.errstate(invalid="ignore", divide="ignore"):
            var_f = fr.group_sums(sub_codes, n_sub, x0 * ratio * ratio) / fr.group_sums(sub_codes, n_sub, ws) ** 2
        f_sub = sub_keys["_f"].to_numpy(dtype=float)
        g_sub = sub_keys["_g"].to_numpy(dtype=np.int64)
        var = fr.group_sums(g_sub, g, f_sub**2 * var_f, skipna=False)
        # bands (group, ageband): add up events over the frequencies
        if ageband is not None:
            band = pd.DataFrame({"_g": codes, "_b": df[ageband].to_numpy()})
            fr.check_rows(df, band["_b"].isna().to_numpy(), ageband, "missing age bands")
            band_codes = fr.grouper(band, ["_g", "_b"]).ngroup().to_numpy(dtype=np.int64)
        else:
            pos, _ = _positions(sub_codes, n_sub)
            band = pd.DataFrame({"_g": codes, "_b": pos})
            band_codes = fr.grouper(band, ["_g", "_b"]).ngroup().to_numpy(dtype=np.int64)
        n_band = int(band_codes.max()) + 1 if len(band_codes) else 0
        band_tab = pd.DataFrame({"b": band_codes, "n": ns, "w": ws}).groupby("b", sort=True)
        lo_hi = band_tab.agg(["min", "max"])
        for col, label in ((n, "n"), (stdpop or "ESP2013 weight", "w")):
            differs = (lo_hi[(label, "min")] != lo_hi[(label, "max")]).to_numpy()
            if differs.any():
                fr.check_rows(df, differs[band_codes], col, "values that differ between event-frequency rows of the same age band")
        n_b = lo_hi[("n", "min")].to_numpy()
        w_b = lo_hi[("w", "min")].to_numpy()
        x_b = fr.group_sums(band_codes, n_band, fs * x0)
        g_b = np.zeros(n_band, dtype=np.int64)
        g_b[band_codes] = codes
        total = fr.group_sums(g_b, g, x_b)
        total_pop = fr.group_sums(g_b, g, n_b)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = fr.group_sums(g_b, g, x_b * w_b / n_b) / fr.group_sums(g_b, g, w_b) * m
        method = "Dobson, with confidence adjusted for non-independent events"

    cols = {"total_count": total, "total_pop": total_pop, "value": value}
    cols.update(_dsr_limits(value, var, total, spec, m))
    small = total < DSR_MIN_COUNT
    for name in ["value"] + spec.limit_columns:
        cols[name] = np.where(small, np.nan, cols[name])
    cols["confidence"] = spec.label
    statistic = np.full(g, f"dsr per {fr.format_multiplier(m)}", dtype=object)
    statistic[small] = f"dsr NA for total count < {DSR_MIN_COUNT}"
    cols["statistic"] = statistic
    cols["method"] = method
    return fr.assemble(keys_frame, cols)


# --------------------------------------------------------------------------------------------
# expected counts and ISRs
# --------------------------------------------------------------------------------------------


def _expected_parts(df, n, x_ref, n_ref, keys, ref_rate=None):
    """Validate the ISR inputs; return codes, keys_frame and per-row arrays."""
    cols = [n] + keys + ([ref_rate] if ref_rate is not None else [x_ref, n_ref])
    fr.require_columns(df, cols)
    ns = fr.numeric_column(df, n)
    fr.check_rows(df, ns < 0, n, "negative populations")
    fr.check_rows(df, np.isinf(ns), n, "infinite populations")
    if ref_rate is not None:
        rr = fr.numeric_column(df, ref_rate)
        fr.check_rows(df, rr < 0, ref_rate, "negative reference rates")
        fr.check_rows(df, np.isinf(rr), ref_rate, "infinite reference rates")
        xr = np.where(np.isnan(rr), 0.0, rr)
        nr = np.ones_like(xr)
    else:
        xr, nr = _counts_and_populations(df, x_ref, n_ref, what="reference ")
        xr = np.where(np.isnan(xr), 0.0, xr)
    codes, keys_frame = fr.group_frame(df, keys)
    ns0 = np.where(np.isnan(ns), 0.0, ns)
    return codes, keys_frame, ns0, xr, nr


def expected_counts(df: pd.DataFrame, n: str, x_ref: str | None = None, n_ref: str | None = None, *,
                    group_by=None, ref_rate: str | None = None):
    """Expected counts E = Σ (x_ref / n_ref) × n within each group.

    The local population of each band is multiplied by the reference (e.g. national) rate of
    that band and the products are summed over the bands of each group. This is the
    expected-count step of indirect standardisation (:func:`isr_ratio`, :func:`isr_rate`) and
    also gives synthetic estimates (national age-specific prevalence × local population).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per band per group.
    n : str
        Column of local populations.
    x_ref, n_ref : str
        Columns of the reference count and reference population of each band.
    group_by : str or list of str, optional
        Columns identifying each group.
    ref_rate : str, optional
        Instead of ``x_ref``/``n_ref``: a column holding the reference rate per person
        (x_ref / n_ref, e.g. a prevalence of 0.012). Give either this or both ``x_ref`` and
        ``n_ref``.

    Returns
    -------
    pandas.DataFrame
        Grouping columns and ``expected``.

    Notes
    -----
    As in PHEindicatormethods, missing local populations and missing reference counts (or
    rates) count as 0. Negative values raise ``ValueError``, as do missing, zero or negative
    reference populations (R would return a missing or infinite E).
    """
    if (ref_rate is None) == (x_ref is None or n_ref is None):
        if ref_rate is not None:
            raise ValueError("give either ref_rate or x_ref and n_ref, not both")
        raise ValueError("expected_counts needs both x_ref and n_ref (column names), or ref_rate")
    keys = fr.normalise_group_by(group_by)
    codes, keys_frame, ns, xr, nr = _expected_parts(df, n, x_ref, n_ref, keys, ref_rate)
    expected = fr.group_sums(codes, len(keys_frame), xr / nr * ns)
    return fr.assemble(keys_frame, {"expected": expected})


def _observed(df, x, keys, keys_frame, codes, observed_totals):
    """Observed total per group: Σ x (missing as 0) or looked up in observed_totals."""
    if observed_totals is None:
        fr.require_columns(df, [x])
        xs = fr.numeric_column(df, x)
        fr.check_rows(df, xs < 0, x, "negative counts")
        fr.check_rows(df, np.isinf(xs), x, "infinite counts")
        return fr.group_sums(codes, len(keys_frame), xs)
    fr.require_columns(observed_totals, keys + [x], what="observed_totals")
    obs = fr.numeric_column(observed_totals, x)
    fr.check_rows(observed_totals, obs < 0, x, "negative observed totals")
    fr.check_rows(observed_totals, np.isinf(obs), x, "infinite observed totals")
    if not keys:
        if len(observed_totals) != 1:
            raise ValueError(
                "without group_by, observed_totals must have exactly one row (the observed "
                f"total in column {x!r}); it has {len(observed_totals)}"
            )
        return obs[:1].copy()
    dup = observed_totals.duplicated(subset=keys, keep=False).to_numpy()
    fr.check_rows(observed_totals, dup, str(keys), "duplicated groups in observed_totals")
    right = observed_totals[keys].copy()
    right["_obs"] = obs
    merged = keys_frame.merge(right, on=keys, how="left", sort=False)
    return merged["_obs"].to_numpy(dtype=float)


def _isr(df, x, n, x_ref, n_ref, group_by, confidence, observed_totals, scale_fn):
    keys = fr.normalise_group_by(group_by)
    spec = fr.parse_confidence(confidence)
    for name in (x, n, x_ref, n_ref):
        if name in keys:
            raise ValueError(f"column {name!r} cannot be both a value column and in group_by")
    codes, keys_frame, ns, xr, nr = _expected_parts(df, n, x_ref, n_ref, keys)
    g = len(keys_frame)
    expected = fr.group_sums(codes, g, xr / nr * ns)
    observed = _observed(df, x, keys, keys_frame, codes, observed_totals)
    extra, scale = scale_fn(codes, g, xr, nr)
    cols = {"observed": observed, "expected": expected, **extra,
            **poisson_scaled_columns(observed, expected, scale, spec)}
    cols["confidence"] = spec.label
    return keys_frame, cols, observed


def isr_ratio(df: pd.DataFrame, x: str, n: str, x_ref: str, n_ref: str, *, group_by=None,
              confidence=0.95, refvalue=1, observed_totals=None):
    """Indirectly standardised ratio (SMR) O/E × refvalue (R: ``calculate_ISRatio``).

    Parameters
    ----------
    df : pandas.DataFrame
        One row per band per group with local counts ``x`` (unless ``observed_totals`` is
        given), local populations ``n``, and reference counts ``x_ref`` and populations
        ``n_ref`` of the same band.
    x, n, x_ref, n_ref : str
        Column names.
    group_by : str or list of str, optional
        Columns identifying each ratio.
    confidence : float or (float, float)
        0.95 (or 95), any level in [0.9, 1); or the pair (0.95, 0.998).
    refvalue : float
        Value of the reference ratio: 1 (default) or 100 for an SMR "× 100".
    observed_totals : pandas.DataFrame, optional
        For when local counts by band are not available: one row per group holding the
        ``group_by`` columns and the observed total in a column named ``x``. It is left-joined
        to the groups of ``df`` on the ``group_by`` columns (a group with no row gets a
        missing observed count and a missing ratio; rows for groups not in ``df`` are
        ignored; duplicated groups raise ``ValueError``). Without ``group_by`` it must have
        exactly one row. ``df`` then need not contain ``x``.

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``observed``, ``expected``, ``value``, limits, ``confidence``,
        ``statistic`` (``"indirectly standardised ratio x 1"``) and ``method`` (``"Exact"``
        when O < 10, ``"Byars"`` when O >= 10).

    Notes
    -----
    ``E = Σ (x_ref / n_ref) × n`` (see :func:`expected_counts`), ``O = Σ x``,
    ``value = O / E × refvalue``; limits are the exact Poisson (O < 10) or Byar's
    (O >= 10) limits of O, divided by E, × refvalue. No small-number suppression.
    Missing x, n or x_ref count as 0 (as in R).
    """
    def scale_fn(codes, g, xr, nr):
        return {}, float(refvalue)

    keys_frame, cols, observed = _isr(df, x, n, x_ref, n_ref, group_by, confidence,
                                      observed_totals, scale_fn)
    cols["statistic"] = f"indirectly standardised ratio x {fr.format_multiplier(refvalue)}"
    cols["method"] = poisson_method_labels(observed)
    return fr.assemble(keys_frame, cols)


def isr_rate(df: pd.DataFrame, x: str, n: str, x_ref: str, n_ref: str, *, group_by=None,
             confidence=0.95, refvalue=None, observed_totals=None, multiplier=100_000):
    """Indirectly standardised rate O/E × reference rate (R: ``calculate_ISRate``).

    Parameters
    ----------
    df, x, n, x_ref, n_ref, group_by, confidence, observed_totals
        As for :func:`isr_ratio`.
    refvalue : float, optional
        The reference rate per ``multiplier``. ``None`` (default, as in R) computes it from
        the reference columns within each group: ``Σ x_ref / Σ n_ref × multiplier``.
    multiplier : float
        Rate per ``multiplier`` (default 100,000).

    Returns
    -------
    pandas.DataFrame
        Grouping columns, ``observed``, ``expected``, ``ref_rate``, ``value``, limits,
        ``confidence``, ``statistic`` (``"indirectly standardised rate per 100000"``) and
        ``method`` (``"Exact"``/``"Byars"``).

    Notes
    -----
    ``value = O / E × ref_rate``; limits are those of :func:`isr_ratio` with ``ref_rate`` in
    place of ``refvalue``.
    """
    m = float(multiplier)

    def scale_fn(codes, g, xr, nr):
        if refvalue is None:
            rate = fr.group_sums(codes, g, xr) / fr.group_sums(codes, g, nr) * m
        else:
            rate = np.full(g, float(refvalue))
        return {"ref_rate": rate}, rate

    keys_frame, cols, observed = _isr(df, x, n, x_ref, n_ref, group_by, confidence,
                                      observed_totals, scale_fn)
    cols["statistic"] = f"indirectly standardised rate per {fr.format_multiplier(m)}"
    cols["method"] = poisson_method_labels(observed)
    return fr.assemble(keys_frame, cols)


def dsr_limits_from_published(value, lower, upper, count, confidence: float = 0.998, *,
                              published_confidence: float = 0.95, rtol: float = 1e-3):
    """Dobson limits of a published directly standardised rate at another level (e.g. 99.8%), from the rate,
    its published limits (e.g. 95%) and its total count.

    Dobson's limits are ``value + k × (Byar's limit(O) − O)`` with ``k = sqrt(var / O)``; ``k`` is recovered from
    each published limit (``(value − lower) / (O − Byar's lower)`` and ``(upper − value) / (Byar's upper − O)``).
    Where the two agree to ``rtol`` the published limits are Dobson's and the limits at ``confidence`` follow
    exactly; where they do not (another method, rounded limits) or a value is missing, the result is NaN — never
    a guess.

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray
    """
    v, lo, up, o = (np.asarray(a, dtype=float) for a in (value, lower, upper, count))
    blo, bup = byars_limits(o, published_confidence)
    with np.errstate(invalid="ignore", divide="ignore"):
        k_lo = (v - lo) / (o - blo)
        k_up = (up - v) / (bup - o)
        ok = np.isfinite(k_lo) & np.isfinite(k_up) & (k_lo > 0) & (np.abs(k_lo - k_up) <= rtol * np.maximum(k_lo, k_up))
        k = np.where(ok, (k_lo + k_up) / 2, np.nan)
        nlo, nup = byars_limits(o, confidence)
        return v + k * (nlo - o), v + k * (nup - o)
