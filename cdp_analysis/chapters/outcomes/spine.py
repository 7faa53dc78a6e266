"""The numbers behind the outcomes spine chart: each metric's value for the CDP, England and every upper-tier area
(read from the earlier chapters' compute functions), and their positions on the Fingertips spine scale.

Also the CDP's latest row of every metric (:func:`latest_rows`), which the spine starts from. :func:`.compute.build`
holds :func:`spine_data` as ``Outcomes.spine``; this module does not import :mod:`.compute` (which imports it).

Rule: numbers only; the drawing is :func:`.present.spine_figure`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...data import local_data
from .. import treatment_gap, trends

if TYPE_CHECKING:
    from .compute import Outcomes


def latest_rows(outcomes: pd.DataFrame, catalogue: pd.DataFrame) -> pd.DataFrame:
    """The CDP's latest row of every metric of the ``outcomes`` table, in the dashboard's order: the framework's
    headline metrics, then its supporting metrics, then the partnership's local priorities (the catalogue's
    ``level``); within each, by outcome in the framework's order, then catalogue order. Adds ``level`` and
    ``part_of`` (the count a metric is part of, '' for none)."""
    t = outcomes[outcomes["area_role"] == "cdp"]
    t = t.sort_values("time_period_sortable", kind="stable").groupby("metric_id", sort=False).tail(1)
    order = {m: i for i, m in enumerate(catalogue.index)}
    outcome_order = {x: i for i, x in enumerate(local_data.OUTCOMES)}
    level_order = {x: i for i, x in enumerate(local_data.LEVELS)}
    level = t["metric_id"].map(catalogue["level"])
    return (t.assign(level=level, part_of=t["metric_id"].map(catalogue["part_of"]).fillna(""),
                     _l=level.map(level_order), _o=t["outcome"].map(outcome_order),
                     _m=t["metric_id"].map(order))
            .sort_values(["_l", "_o", "_m"]).drop(columns=["_l", "_o", "_m"]))


def spine_data(o: Outcomes) -> pd.DataFrame:
    """For every metric with a CDP value, an England value and the values of all areas (min, 25th,
    75th percentile, max), England, the CDP, and their positions on the Fingertips spine scale: England at 0.5,
    the furthest area from England at 0 or 1, better to the right for metrics with a polarity."""
    rows = latest_rows(o.outcomes, o.catalogue)
    rows = rows[rows["value"].notna()]
    eng = o.outcomes[o.outcomes["area_role"] == "england"].groupby(["metric_id", "time_period"])["value"].first()
    dists = all_area_values(o)
    out = []
    for r in rows.itertuples():
        e = eng.get((r.metric_id, r.time_period), np.nan)
        if pd.isna(e):
            continue
        d = dists.get((r.metric_id, r.time_period))
        vals = np.asarray(d if d is not None else [], dtype=float)
        vals = vals[~np.isnan(vals)]
        if len(vals) < 4:  # no range of areas: the dashboard table shows it; a spine needs the range
            continue
        q = np.percentile(vals, [0, 25, 75, 100])
        span = np.nanmax(np.abs(np.array([*q, r.value]) - e))
        flip = -1.0 if r.polarity == "low_is_good" else 1.0

        def pos(v, e=e, span=span, flip=flip):
            return 0.5 + 0.5 * flip * (v - e) / span if span > 0 else 0.5

        out.append({"metric_id": r.metric_id, "outcome": r.outcome, "indicator_name": r.indicator_name,
                    "time_period": r.time_period, "unit": r.unit, "value": r.value, "england": e,
                    "minimum": q[0], "q25": q[1], "q75": q[2], "maximum": q[3], "n_areas": len(vals),
                    "compared_to_england": r.compared_to_england, "polarity": r.polarity,
                    "x_value": pos(r.value), "x_q25": pos(q[1]), "x_q75": pos(q[2]), "x_min": pos(q[0]),
                    "x_max": pos(q[3]), "area_code": r.area_code, "area_name": r.area_name, "area_role": "cdp",
                    "measure": "spine position", "source": r.source})
    return pd.DataFrame(out)


def all_area_values(o: Outcomes) -> dict[tuple[str, str], list[float]]:
    """The value of every current upper-tier area, by (metric, period), for the metrics whose earlier chapter
    provides them (drug-misuse deaths, alcohol-specific mortality, alcohol met need)."""
    out = {}
    rows = latest_rows(o.outcomes, o.catalogue)
    periods = dict(zip(rows["metric_id"], rows["time_period"]))
    if "deaths.drug_misuse" in periods:
        out[("deaths.drug_misuse", periods["deaths.drug_misuse"])] = list(
            trends.rates_of_all_areas(periods["deaths.drug_misuse"], cause="drug misuse"))
    if "deaths.alcohol_specific" in periods:
        out[("deaths.alcohol_specific", periods["deaths.alcohol_specific"])] = list(
            trends.alcohol_mortality_of_all_areas(periods["deaths.alcohol_specific"]))
    if "treatment.alcohol_met_need" in periods:
        out[("treatment.alcohol_met_need", periods["treatment.alcohol_met_need"])] = list(
            treatment_gap.met_need_of_all_areas(periods["treatment.alcohol_met_need"]))
    return out
