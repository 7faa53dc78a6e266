"""The trends chapter's trend rows: each series' models (Poisson, joinpoint, the latest years), its direction of
travel and its comparison with England, as rows of ``trends``; and the populations that make a count a rate.

Rule: numbers and tables only (as :mod:`.compute`, which builds the series and calls :func:`count_trends`).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ... import stats
from ...areas import geography, population_series
from ...areas.partnerships import Partnership
from ...data.register import cite
from ...edition_cache import once_per_edition
from .series import _AREA
from .settings import Settings

log = logging.getLogger(__name__)


#: ``quantity`` of a trend row: numbers of events or people, or a rate per head (a log-population offset).
NUMBER, RATE = "number", "rate per head of population"


def _row(series: str, area: pd.Series, method: str, measure: str, res: dict, *, start, end, source: str,
         joinpoints: str = "", model: str = "", apc_key: str = "apc", lo="lower_ci", hi="upper_ci",
         p="p_value", quantity: str = "") -> dict:
    return {**{k: area[k] for k in _AREA}, "series": series, "method": method, "measure": measure,
            "quantity": quantity, "period_start": str(start), "period_end": str(end), "time_period": f"{start}-{end}",
            "apc": res.get(apc_key, np.nan), "value": res.get(apc_key, np.nan), "lower_ci": res.get(lo, np.nan),
            "upper_ci": res.get(hi, np.nan), "p_value": res.get(p, np.nan), "joinpoints": joinpoints,
            "verdict": res.get("verdict", ""), "model": model or res.get("model", ""), "unit": "% a year",
            "source": source}


def _frame(years: tuple, values: tuple, populations: tuple | None) -> pd.DataFrame:
    d = pd.DataFrame({"year": years, "value": values})
    return d if populations is None else d.assign(population=populations)


@once_per_edition(maxsize=4096, copy=False)
def _fitted(years: tuple, values: tuple, populations: tuple | None, max_joinpoints: int, min_points: int,
            selection: str, window: int) -> dict:
    """The Poisson trend, the joinpoint fit, the Poisson trend over the latest ``window`` years and the direction
    of travel (``latest``: the Poisson trend over the years :func:`latest_span` chooses) of one annual series, by its
    years, counts and (for a rate) populations.

    Kept by content, in memory and on disk (:func:`cdp_analysis.edition_cache.once_per_edition`): England's and the
    national series are the same for every CDP, so they are fitted once per data edition, not once per CDP or
    worker. The results are read, never changed."""
    d = _frame(years, values, populations)
    pop = None if populations is None else "population"
    recent = d[d["year"] > d["year"].max() - window]
    jp = stats.joinpoint(d, "year", "value", pop, max_joinpoints=max_joinpoints, min_points=min_points,
                         selection=selection)
    w = stats.poisson_trend(recent, "year", "value", pop)
    start, end, _ = latest_span(jp, int(d["year"].max()), window)
    latest = w if end - start + 1 == len(recent) and start == recent["year"].min() else stats.poisson_trend(
        d[d["year"].between(start, end)], "year", "value", pop)
    return {"poisson": stats.poisson_trend(d, "year", "value", pop), "joinpoint": jp, "window": w, "latest": latest}


def latest_span(jp: dict, last_year: int, window: int) -> tuple[int, int, str]:
    """The years of a series' direction of travel and why: its latest joinpoint segment where a joinpoint is found
    and the segment spans at most ``window`` years; otherwise the latest ``window`` years. Returns (start, end,
    'segment' | 'no joinpoint' | 'long segment')."""
    if jp["joinpoints"]:
        seg = jp["segments"].iloc[-1]
        start, end = int(seg["period_start"]), int(seg["period_end"])
        if end - start + 1 <= window:
            return start, end, "segment"
        return last_year - window + 1, last_year, "long segment"
    return last_year - window + 1, last_year, "no joinpoint"


def _fits_of(d: pd.DataFrame, settings: Settings, quantity: str) -> dict:
    if quantity == RATE:
        d = d[d["population"].notna()]
    return _fitted(tuple(d["year"].tolist()), tuple(d["value"].tolist()),
                   tuple(d["population"].tolist()) if quantity == RATE else None, settings.max_joinpoints,
                   settings.min_points, settings.joinpoint_selection, settings.comparison_years)


def _selection_text(settings: Settings) -> str:
    return {"wbic": "weighted BIC", "bic": "BIC"}[settings.joinpoint_selection]


def latest_trend(fits: dict, settings: Settings) -> tuple[dict, str, int, int]:
    """The direction of travel of a series: the log-linear (Poisson or quasi-Poisson) trend of the years
    :func:`latest_span` chooses — the latest joinpoint segment where it spans at most ``comparison_years`` years,
    otherwise the latest ``comparison_years`` years — fitted on those years alone, as :func:`count_trends`' comparison
    with England fits them, so that a period has one value. Returns (result, how the years were chosen, start, end)."""
    jp, res = fits["joinpoint"], fits["latest"]
    n = settings.comparison_years
    start, end = int(res["period_start"]), int(res["period_end"])
    _, _, why = latest_span(jp, end, n)
    model = res["model"] or "not fitted"
    if why == "segment":
        how = f"latest joinpoint segment (joinpoint in {jp['joinpoints'][-1]}); trend of those years, {model}"
    elif why == "long segment":
        how = (f"latest joinpoint segment (from {jp['joinpoints'][-1]}) longer than {n} years: trend of the latest {n} "
               f"years, {model}")
    else:
        how = f"no joinpoint found ({_selection_text(settings)}): trend of the latest {n} years, {model}"
    return res, how, start, end


def count_trends(series: str, frames: dict[str, pd.DataFrame], settings: Settings, *, england_role="england"):
    """Trend rows of each area's annual series (``frames``: role → frame with ``year``, ``value``, the area
    columns and, where held, ``population``). Returns (rows, fits: role → the joinpoint fit of the headline
    quantity).

    For each area, each quantity (the rate per head where every year's population is held, and the numbers):
    the Poisson trend, the joinpoint fit (AAPC) and its segments, and the Poisson trend over the latest
    ``comparison_years`` years. Then the direction of travel ('latest trend': the latest joinpoint segment, or
    the latest ``comparison_years`` years where no joinpoint is found) and, for an area other than England, the
    comparison with England over the same latest years, each series with its own dispersion
    (:func:`cdp_analysis.stats.compare_window`)."""
    rows, fits = [], {}
    eng = frames.get(england_role)
    with_population = {role: "population" in d.columns and d["population"].notna().sum() >= stats.MIN_POINTS
                       for role, d in frames.items()}
    for role, d in frames.items():
        if d.empty:
            continue
        area, counts_src = d.iloc[0], cite(*d["source"].unique())
        quantities = [RATE, NUMBER] if with_population[role] else [NUMBER]
        for quantity in quantities:
            src = cite(counts_src, d["population_source"].iloc[0]) if quantity == RATE else counts_src
            held = d[d["population"].notna()] if quantity == RATE else d
            start, end = int(held["year"].min()), int(held["year"].max())
            fit = _fits_of(d, settings, quantity)
            pt, jp, w = fit["poisson"], fit["joinpoint"], fit["window"]
            kw = {"source": src, "quantity": quantity}
            rows.append(_row(series, area, "poisson regression", "annual percentage change", pt, start=start, end=end,
                             **kw))
            jps = "; ".join(str(j) for j in jp["joinpoints"])
            rows.append(_row(series, area, "joinpoint", "average annual percentage change", jp, start=start, end=end,
                             joinpoints=jps, apc_key="aapc", lo="aapc_lower_ci", hi="aapc_upper_ci", p="aapc_p_value",
                             model=f"{jp['model']}; joinpoints chosen by {_selection_text(settings)}", **kw))
            for s in jp["segments"].itertuples():
                seg = {"apc": s.apc, "lower_ci": s.lower_ci, "upper_ci": s.upper_ci, "p_value": s.p_value,
                       "verdict": s.verdict}
                rows.append(_row(series, area, "joinpoint segment", "annual percentage change", seg,
                                 start=int(s.period_start), end=int(s.period_end), joinpoints=jps, model=jp["model"],
                                 **kw))
            rows.append(_row(series, area, f"latest {settings.comparison_years} years", "annual percentage change", w,
                             start=int(w["period_start"]), end=int(w["period_end"]), **kw))
            if quantity == quantities[0]:
                fits[role] = jp
                res, how, s0, s1 = latest_trend(fit, settings)
                rows.append(_row(series, area, "latest trend", "annual percentage change", res, start=s0, end=s1,
                                 joinpoints=jps, model=how, **kw))
        if role != england_role and eng is not None and not eng.empty:
            both = with_population[role] and with_population[england_role]
            pop = "population" if both else None
            a, e = (x[x["population"].notna()] if both else x for x in (d, eng))
            cmp = stats.compare_window(a, e, "year", "value", pop, years=settings.comparison_years)
            sources = [counts_src, *eng["source"].unique()]
            if both:
                sources += [d["population_source"].iloc[0], eng["population_source"].iloc[0]]
            rows.append(_row(series, area, "compared with England", "difference in annual percentage change", cmp,
                             start=int(cmp["window_start"]), end=int(cmp["window_end"]), source=cite(*sources),
                             apc_key="apc_ratio",
                             quantity=RATE if both else NUMBER,
                             model=f"latest {settings.comparison_years} years held by both; {cmp['model']}"))
    return rows, fits


def population_of(codes, years) -> pd.Series:
    """Residents (all ages) of the areas ``codes`` together at each mid-year of ``years`` (NaN where a year is
    not held): the denominator of a rate trend (:func:`cdp_analysis.areas.population_series.annual_totals`)."""
    t = population_series.annual_totals()
    t = t[t["code"].isin(list(codes))]
    total = t.groupby("year")["population"].sum()
    complete = t.groupby("year")["code"].nunique() == len(set(codes))
    return pd.Series(np.asarray(years), dtype=float).map(total[complete[complete].index]).rename("population")


def population_sources(codes, years) -> list[str]:
    """The data-register citations of the populations :func:`population_of` uses for those years."""
    t = population_series.annual_totals()
    return sorted(t.loc[t["code"].isin(list(codes)) & t["year"].isin(list(years)), "source"].unique())


def with_population(d: pd.DataFrame, cdp: Partnership, role: str, *, lag: int = 0) -> pd.DataFrame:
    """The series with each year's ``population`` (the mid-year ``year − lag``: 1 for a financial year labelled
    by its end year)."""
    codes = list(cdp.members) if role == "cdp" else [geography.ENGLAND_CODE]
    return with_population_of(d, codes, lag=lag)


def with_population_of(d: pd.DataFrame, codes, *, lag: int = 0) -> pd.DataFrame:
    """The series with each year's ``population`` of the areas ``codes`` together and ``population_source`` (the
    citations of the populations used)."""
    pop = population_of(codes, d["year"] - lag).to_numpy()
    held = (d["year"] - lag)[~np.isnan(pop)]
    return d.assign(population=pop, population_source=cite(*population_sources(codes, held)) if len(held) else "")
