"""The outcomes chapter's computation: data → tables.

The earlier chapters' tables read back (or built by their chapters), the public metrics selected from them, the
local metrics read, summed over the partnership and suppressed (disclosure control), compared with England, their
recent trends, and :func:`build`, which joins them into the one ``outcomes`` table (:class:`Outcomes`); and the
CDP's latest rows that the words, figures and the one-page summary read (:func:`cdp_rows`).

Rule: no figures, sentences, captions or HTML here (they are in :mod:`.present`); nothing here imports it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ... import stats
from ...areas import aggregate, geography
from ...areas.partnerships import Partnership
from ...data import local_data
from ...data.register import cite
from ...output import escape, freshness, provenance, tidy
from ..registry import chapter_of_table
from .published import (
    _DOBSON_998,
    MEMBERS_ONLY,
    RATIO_ONLY,
    _public_selections,
    members_only,
    public_trends,
    recording_caveat,
    viewit_metrics,
    with_dobson_998,
)
from .published import NO_998 as NO_998  # re-exported: present.py and the tests read it here
from .settings import Settings
from .spine import latest_rows, spine_data

log = logging.getLogger(__package__)  # the chapter's name in run.log, as when it was one module

NAME = "outcomes"
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
NUMBERS = ["value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator", "apc",
           "p_value", "time_period_sortable"]
STATUSES = ("computed", "not supplied", "suppressed", MEMBERS_ONLY, RATIO_ONLY)
#: The earlier chapters' tables this chapter reads, by the names those chapters declare (``Chapter.tables``); the
#: registry says which chapter writes each (:func:`cdp_analysis.chapters.registry.chapter_of_table`).
EARLIER = ("prevalence_drugs", "prevalence_ocu", "treatment_gap", "treatment_capacity", "drug_deaths",
           "drug_deaths_standardised", "alcohol_mortality", "trends", "places")
#: Why a public metric has no figure for an area (the bundle holds samples of some OHID files).
_NOT_HELD = {
    "": "not in the data for this area (or not published for it)",
    "prevalence.opiate_crack_users": "OHID's local estimate is not in the data (a sample of the file is held): add "
                                     "the area's estimate to see it",
    "treatment.opiate_crack_met_need": "not in the data for this area (the Fingertips 93517 file held is a sample "
                                       "of a few areas): `cdp update --dataset fingertips` brings OHID's complete "
                                       "export",
}
_SOURCE_NAMES = {"police": "police force (incidents and crimes with a drugs marker)",
                 "ndtms_local": "NDTMS local reports (the partnership's treatment system)",
                 "provider_caseloads": "treatment providers' caseload reports",
                 "schools_programmes": "schools and young people's programme returns",
                 "hospital": "hospital admissions (Hospital Episode Statistics extracts)"}


# --- the earlier chapters' tables ---------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A chapter's tidy CSV as written (text kept as text; the numeric columns of the schema as numbers), with the
    CSV rule's leading quote taken off text cells (:func:`cdp_analysis.output.escape.csv_original`), so a name
    like ``=x`` is read back as it was given."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for c in t.columns:
        if c in NUMBERS:
            t[c] = pd.to_numeric(t[c].replace("", np.nan))
        # only the cells the CSV rule may have quoted (a column has thousands of cells, a few dozen distinct, and
        # rarely one quoted)
        elif any(cell.startswith("'") for cell in t[c].unique().tolist()):
            quoted = t[c].str.startswith("'")
            t.loc[quoted, c] = t.loc[quoted, c].map(escape.csv_original)
    return t


def earlier_tables(cdp: Partnership, output_dir: str | Path | None) -> dict[str, pd.DataFrame]:
    """The earlier chapters' tables this chapter reads: from ``<output_dir>/tables/`` when the run wrote them,
    otherwise built by their own chapters (a notebook run on its own)."""
    out = {}
    folder = Path(output_dir) / "tables" if output_dir else None
    by_chapter: dict = {}  # chapter name -> (chapter, its tables read here)
    for name in EARLIER:
        chapter = chapter_of_table(name)
        by_chapter.setdefault(chapter.name, (chapter, []))[1].append(name)
    for chapter, names in by_chapter.values():
        files = [folder / f"{n}.csv" for n in names] if folder else []
        if files and all(f.is_file() for f in files):
            out.update({n: read_table(f) for n, f in zip(names, files)})
            continue
        log.info("tables of chapter '%s' not found in the output folder: building them", chapter.name)
        built = chapter.build(cdp, cdp.chapter_settings(chapter.name))
        by_name = dict(zip(chapter.tables, built.tables()))
        out.update({n: by_name[n].reset_index(drop=True) for n in names})
    return out


# --- public metrics -----------------------------------------------------------------------------------------


def _latest(t: pd.DataFrame) -> pd.DataFrame:
    """Rows of the latest period in which the CDP has a value (or the latest period if it has none)."""
    if t.empty:
        return t
    have = t[(t["area_role"] == "cdp") & t["value"].notna()]
    pool = have if len(have) else t
    latest = pool.loc[pool["time_period_sortable"].idxmax(), "time_period"] if "time_period_sortable" in pool \
        else sorted(pool["time_period"])[-1]
    return t[t["time_period"] == latest]


def _compare(t: pd.DataFrame, polarity: str) -> pd.DataFrame:
    """``compared_to_england`` (95%) and ``compared_to_england_998`` against England's value of the row's
    period, by the statistics core; '' where a row has no limits."""
    t = t.copy()
    eng = t[t["area_role"] == "england"].groupby("time_period")["value"].first()
    t["england_value"] = t["time_period"].map(eng)
    for lo, hi, col, level in (("lower_ci", "upper_ci", "compared_to_england", 0.95),
                               ("lower_ci_998", "upper_ci_998", "compared_to_england_998", 0.998)):
        t[col] = ""
        ok = (t["area_role"] != "england") & t[["value", lo, hi, "england_value"]].notna().all(axis=1)
        if ok.any():
            cmp = stats.compare_to_benchmark(t[ok], "value", lo, hi, "england_value", polarity=polarity, level=level)
            t.loc[ok, col] = cmp["comparison"].astype(str).to_numpy()
    return t


def public_metrics(cdp: Partnership, tables: dict[str, pd.DataFrame], cat: pd.DataFrame) -> pd.DataFrame:
    """One row per public metric × reporting area (latest period), read from the earlier chapters' tables."""
    rows = []
    cdp_area = cdp.reporting_areas().iloc[0]
    for metric_id, (t, note) in _public_selections(tables).items():
        meta = cat.loc[metric_id]
        t = _latest(t)
        if not (t["area_role"] == "cdp").any():  # listed, never dropped
            period = t["time_period"].iloc[0] if len(t) else ""
            t = pd.concat([t, pd.DataFrame([{**{k: cdp_area[k] for k in _AREA}, "time_period": period,
                                             "value": np.nan, "value_note": "", "source": cite(*t["source"].unique())
                                             if len(t) else ""}])], ignore_index=True)
            if not period:
                continue
        for c in ("lower_ci_998", "upper_ci_998", "count", "denominator"):
            if c not in t.columns:
                t = t.assign(**{c: np.nan})
        if metric_id in _DOBSON_998:
            t = with_dobson_998(t)
        t = _compare(t, meta["polarity"])
        if note:
            t["compared_to_england"] = np.where(t["area_role"] == "england", "", "Not compared")
            t["value_note"] = np.where(t["value"].notna() & (t["area_role"] != "england"), note, t["value_note"])
        missing = t["value"].isna()
        t["value_note"] = np.where(missing & (t["value_note"] == ""), _NOT_HELD.get(metric_id, _NOT_HELD[""]),
                                   t["value_note"])
        t["comparison_caveat"] = ""
        if metric_id == "deaths.drug_misuse":
            t["comparison_caveat"] = recording_caveat(t, tables["drug_deaths"])
        t = t.assign(metric_id=metric_id, status=np.where(missing, "not supplied", "computed"), origin="published")
        if metric_id == "deaths.drug_misuse":
            t = members_only(t, tables["drug_deaths_standardised"], "drug misuse", meta["polarity"])
        rows.append(t)
    if not rows:
        return pd.DataFrame()
    return pd.concat(rows, ignore_index=True)


# --- local metrics -----------------------------------------------------------------------------------------


def _allowed_areas(cdp: Partnership) -> dict[str, str]:
    ra = cdp.reporting_areas()
    ra = ra[ra["area_role"] != "cdp"] if len(cdp.members) > 1 else ra
    names = dict(zip(ra["code"], ra["area_name"]))
    if len(cdp.members) == 1:
        names[cdp.members[0]] = geography.name_of(cdp.members[0])
    return dict(sorted(names.items()))


def local_cells(cdp: Partnership, raw: pd.DataFrame) -> pd.DataFrame:
    """The local rows on the reporting areas: members' rows as supplied, the CDP as the sum of its members
    (only where every member supplied the metric for the period), region and England as supplied."""
    groups = cdp.reporting_areas()
    t = raw.drop(columns=["area_name"]).rename(columns={"area_code": "code"}).merge(groups, on="code")
    keys = [*_AREA, "period", "metric_id"]
    summed = aggregate.sum_members(t[t["area_role"] == "cdp"], cdp, keys=keys, values=["numerator", "denominator"],
                                   first=["origin"], keep_incomplete=True)
    others = t[t["area_role"] != "cdp"][[*keys, "numerator", "denominator", "origin", "source"]]
    partial = summed[summed["incomplete"]].drop(columns="incomplete").assign(origin="local", partial=True)
    out = pd.concat([summed[~summed["incomplete"]].drop(columns="incomplete"), others],
                    ignore_index=True).assign(partial=False)
    return pd.concat([out, partial], ignore_index=True) if len(partial) else out


def disclosure_control(cells: pd.DataFrame, cat: pd.DataFrame, pol: stats.disclosure.Policy,
                       members: tuple[str, ...]) -> tuple[pd.DataFrame, dict]:
    """Suppress the local cells (numerators and denominators) under the policy ``pol``: primary, complement,
    secondary across the CDP and its members and across a count and its parts; then the audit
    (:func:`cdp_analysis.stats.disclosure.audit`) over the same relations and the percentages the table shows
    (computed from the unrounded counts), which suppresses more until no hidden count can be worked out to
    within the protection width, or fails. No table of this chapter publishes multi-year totals, so years are
    not related.

    Returns the cells with ``numerator_suppressed``, ``denominator_suppressed``, ``rate_suppressed`` and
    ``suppression`` (the reason for the row's value), and the audit's summary (for ``run.json``)."""
    if cells.empty:
        _, _, summary = stats.disclosure.audit(pd.DataFrame({"cell": [], "count": [], "suppressed": []}), pol=pol)
        return cells.assign(numerator_suppressed=False, denominator_suppressed=False, rate_suppressed=False,
                            suppression=""), summary
    c = cells.reset_index(drop=True).copy()
    base = c["area_code"] + "|" + c["period"] + "|" + c["metric_id"]
    c["_n"], c["_d"], c["_r"] = base + "|n", base + "|d", base + "|r"
    kind = c["metric_id"].map(cat["kind"])
    flat = pd.concat([
        pd.DataFrame({"cell": c["_n"], "count": c["numerator"],
                      "denominator_cell": np.where(kind == "proportion", c["_d"], None)}),
        pd.DataFrame({"cell": c["_d"], "count": c["denominator"], "denominator_cell": None}),
    ], ignore_index=True)
    relations = []
    if len(members) > 1:  # the partnership = the sum of its members
        for part in ("n", "d"):
            col = f"_{part}"
            for (period, metric), g in c.groupby(["period", "metric_id"]):
                total = g.loc[g["area_role"] == "cdp", col]
                parts = g.loc[g["area_role"] == "member", col]
                if len(total) == 1 and len(parts):
                    rid = f"members|{period}|{metric}|{part}"
                    relations += [(rid, total.iloc[0], "total"), *[(rid, p, "part") for p in parts]]
    parts_of = cat[cat["part_of"] != ""]["part_of"]
    for (area, period), g in c.groupby(["area_code", "period"]):
        ids = dict(zip(g["metric_id"], g["_n"]))
        for total_id in sorted(set(parts_of)):
            if total_id not in ids:
                continue
            parts = [ids[m] for m in parts_of.index[parts_of == total_id] if m in ids]
            if parts:
                rid = f"parts|{area}|{period}|{total_id}"
                relations += [(rid, ids[total_id], "total"), *[(rid, p, "part") for p in parts]]
    rel = pd.DataFrame(relations, columns=["relation", "cell", "role"])
    done = stats.disclosure.suppress(flat, threshold=pol.threshold, key="cell", count="count",
                                     complement_of="denominator_cell", relations=rel)
    hidden = done.set_index("cell")["suppressed"]
    # the percentages the table shows: 100 x / n from the unrounded counts, unless either count is hidden
    prop = (kind == "proportion") & c["numerator"].notna() & (c["denominator"] > 0)
    ratios = pd.DataFrame({"cell": c.loc[prop, "_r"], "numerator": c.loc[prop, "_n"],
                           "denominator": c.loc[prop, "_d"], "multiplier": 100.0,
                           "value": 100 * c.loc[prop, "numerator"] / c.loc[prop, "denominator"],
                           "suppressed": stats.disclosure.derived_mask(c.loc[prop, "_n"].map(hidden),
                                                                       c.loc[prop, "_d"].map(hidden))})
    done, ratios, summary = stats.disclosure.audit(done, rel, ratios, pol=pol)
    reason = done.set_index("cell")["suppression"]
    rate_hidden = ratios.set_index("cell")["suppressed"]
    c["numerator_suppressed"] = c["_n"].map(reason) != ""
    c["denominator_suppressed"] = c["_d"].map(reason) != ""
    c["rate_suppressed"] = c["_r"].map(rate_hidden).eq(True)
    c["suppression"] = np.where(c["numerator_suppressed"], c["_n"].map(reason),
                                np.where(c["denominator_suppressed"], c["_d"].map(reason),
                                         np.where(c["rate_suppressed"], "audit", "")))
    return c.drop(columns=["_n", "_d", "_r"]), summary


#: One note for every rule: saying which rule applied would tell a reader which side of a proportion is small.
_REASON_NOTE = {r: "suppressed to protect small numbers (disclosure control, threshold {t})"
                for r in stats.disclosure.REASONS}


#: The value note of a shown local row when counts are rounded (``{r}``: the rounding base).
_ROUNDED_NOTE = {"count": "rounded to the nearest {r} (disclosure control)",
                 "proportion": "counts rounded to the nearest {r} (disclosure control); the percentage and its limits "
                               "are computed from the unrounded counts"}


def local_metrics(cdp: Partnership, settings: Settings, cat: pd.DataFrame) -> tuple[pd.DataFrame, bool, dict]:
    """Every local metric row (all periods supplied), suppressed and rounded under the run's disclosure policy
    (``settings.disclosure``), with values, limits and comparisons; whether any file was made-up example data; and the
    disclosure audit's summary (:func:`disclosure_control`).

    Percentages and their limits are computed from the unrounded counts; the ``count`` and ``denominator``
    shown (and a count metric's ``value``) are rounded (:func:`cdp_analysis.stats.disclosure.round_counts`)."""
    pol = settings.disclosure
    files = settings.files("local_data", where="parameter")
    raw = local_data.read_all(files, allowed_areas=_allowed_areas(cdp))
    made_up = bool((raw["origin"] != "local").any()) if len(raw) else False
    if raw.empty:
        return pd.DataFrame(), made_up, disclosure_control(pd.DataFrame(), cat, pol, cdp.members)[1]
    cells, audit = disclosure_control(local_cells(cdp, raw), cat, pol, cdp.members)
    meta = cat.loc[cells["metric_id"]]
    kind = meta["kind"].to_numpy()
    prop = kind == "proportion"
    x = cells["numerator"].where(~cells["numerator_suppressed"])
    n = cells["denominator"].where(~cells["denominator_suppressed"])
    value = pd.Series(np.where(prop, np.nan, stats.disclosure.round_counts(x, pol.rounding)), index=cells.index,
                      dtype=float)
    lims = pd.DataFrame(np.nan, index=cells.index, columns=["lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998"])
    ok = prop & x.notna().to_numpy() & n.notna().to_numpy()
    if ok.any():
        p = tidy.from_stats(stats.proportion(pd.DataFrame({"x": x[ok], "n": n[ok], "i": cells.index[ok]}), "x", "n",
                                             group_by="i", confidence=(0.95, 0.998), multiplier=100)).set_index("i")
        value[ok] = p["value"].reindex(cells.index[ok]).to_numpy()
        for c in lims.columns:
            lims.loc[ok, c] = p[c].reindex(cells.index[ok]).to_numpy()
    hide = (stats.disclosure.derived_mask(cells["numerator_suppressed"], cells["denominator_suppressed"] & prop)
            | cells["rate_suppressed"].to_numpy(dtype=bool))
    value[hide] = np.nan
    lims.loc[hide] = np.nan
    note = cells["suppression"].map(lambda r: _REASON_NOTE.get(r, "").format(t=pol.threshold))
    partial = cells["partial"].fillna(False).astype(bool)
    note = note.where(~partial, "not every member area supplied this figure for the period")
    status = np.where(hide, "suppressed", np.where(partial, "not supplied", "computed"))
    if pol.rounding > 1:
        rounded = pd.Series(kind, index=cells.index).map(
            lambda k: _ROUNDED_NOTE.get(k, "").format(r=pol.rounding))
        note = note.where((status != "computed") | x.isna().to_numpy(), rounded)
    t = pd.concat([cells[[*_AREA, "metric_id", "origin", "source"]].reset_index(drop=True),
                   lims.reset_index(drop=True)], axis=1)
    t = t.assign(time_period=cells["period"].to_numpy(), value=value.to_numpy(),
                 count=stats.disclosure.round_counts(x, pol.rounding),
                 denominator=np.where(prop, stats.disclosure.round_counts(n, pol.rounding), np.nan),
                 value_note=note.to_numpy(), status=status)
    # a suppressed row shows neither its count nor (for a proportion) its denominator
    t.loc[t["status"] == "suppressed", ["count", "denominator"]] = np.nan
    parts = []
    for metric_id, g in t.groupby("metric_id", sort=False):
        parts.append(_compare(g, cat.loc[metric_id, "polarity"]) if cat.loc[metric_id, "kind"] == "proportion"
                     else g.assign(compared_to_england=np.where(g["area_role"] == "england", "", "Not compared"),
                                   compared_to_england_998=""))
    return pd.concat(parts, ignore_index=True), made_up, audit


def local_trends(t: pd.DataFrame, cat: pd.DataFrame) -> pd.Series:
    """The recent-trend marker of each local metric for the CDP (metric_id → words)."""
    out = {}
    held = t[(t["area_role"] == "cdp") & (t["origin"] != "published") & (t["status"] != "not supplied")]
    for metric_id, g in held.groupby("metric_id"):
        g = g.assign(_y=tidy.time_period_sortable(g["time_period"]) // 10000).sort_values("_y").tail(5)
        if len(g) < 5:
            out[metric_id] = f"not tested: {len(g)} period{'s' if len(g) != 1 else ''} supplied (5 needed)"
            continue
        if (g["status"] != "computed").any():
            out[metric_id] = "not tested: a figure in the last five periods is suppressed or missing"
            continue
        if not (np.diff(g["_y"].to_numpy()) == 1).all():
            out[metric_id] = "not tested: the last five periods are not consecutive years"
            continue
        meta = cat.loc[metric_id]
        if meta["kind"] == "proportion":
            rt = stats.recent_trend(g.assign(x=g["count"], n=g["denominator"]), "_y", count="x", denominator="n",
                                    polarity=meta["polarity"], multiplier=100).iloc[0]
            out[metric_id] = str(rt["trend"]).lower() if not rt["reason"] else f"cannot be calculated: {rt['reason']}"
        else:
            out[metric_id] = stats.poisson_trend(g.assign(x=g["count"]), "_y", "x")["verdict"]
    return pd.Series(out, dtype=object)


# --- the dashboard ---------------------------------------------------------------------------------------------

#: The words for made-up demonstration data (a file marked as made up), never used for modelled estimates.
MADE_UP = "made-up example data"
#: The mark added to the area name of every made-up row.
MADE_UP_AREA = " (made-up example)"


def mark_made_up(t: pd.DataFrame) -> pd.DataFrame:
    """Every row from a file marked as made up (``origin`` 'made-up example') says so in its area name
    ('Nottinghamshire (made-up example)') and its value note ('made-up example data; …'), so a real area's code
    never stands beside made-up figures unmarked."""
    t = t.copy()
    fake = t["origin"] == "made-up example"
    if fake.any():
        t.loc[fake, "area_name"] = t.loc[fake, "area_name"].fillna("").astype(str) + MADE_UP_AREA
        note = t.loc[fake, "value_note"].fillna("").astype(str)
        t.loc[fake, "value_note"] = np.where(note == "", MADE_UP, MADE_UP + "; " + note)
    return t



@dataclass
class Outcomes:
    """All tables of the outcomes chapter for one CDP (local counts already suppressed)."""

    cdp: Partnership
    settings: Settings
    outcomes: pd.DataFrame
    catalogue: pd.DataFrame
    earlier: dict[str, pd.DataFrame] = field(repr=False)
    made_up: bool = False
    #: the spine chart's numbers (:func:`.spine.spine_data` of this result), set by :func:`build`
    spine: pd.DataFrame = field(init=False, repr=False)

    @property
    def as_of(self) -> datetime.date:
        """The date figures' age is measured from (the ``as_of`` setting; today if unset)."""
        return freshness.as_date(self.settings.as_of)

    def tables(self) -> list[pd.DataFrame]:
        return [self.outcomes]


def build(cdp: Partnership, settings: Settings | None = None, *, output_dir: str | Path | None = None) -> Outcomes:
    """Every table of the outcomes chapter (local data read, validated and suppressed here)."""
    settings = settings or cdp.chapter_settings(NAME)
    cat = local_data.catalogue().set_index("metric_id", drop=False)
    earlier = earlier_tables(cdp, output_dir)
    public = public_metrics(cdp, earlier, cat)
    local, made_up, audit = local_metrics(cdp, settings, cat)
    viewit = viewit_metrics(cdp)
    t = pd.concat([x for x in (public, local, viewit) if len(x)], ignore_index=True)
    # local metrics not supplied for the CDP: listed, never dropped
    have = set(t.loc[(t["area_role"] == "cdp") & (t["status"] != "not supplied"), "metric_id"])
    cdp_area = cdp.reporting_areas().iloc[0]
    missing = [m for m in cat.index if cat.loc[m, "origin"] == "local" and m not in have
               and not ((t["area_role"] == "cdp") & (t["metric_id"] == m)).any()]
    # a part of a count not supplied is said by its whole's row ('adults in treatment: not supplied')
    missing = [m for m in missing if cat.loc[m, "part_of"] not in missing]
    if missing:
        # the period a figure was expected for: the latest period of the local data, or of the public metrics
        held = t[t["time_period"].fillna("") != ""]
        pool = held[held["origin"] != "published"] if (held["origin"] != "published").any() else held
        financial = pool[pool["time_period"].str.fullmatch(r"\d{4}/\d{2}")]
        pool = financial if len(financial) else pool  # local sources report by financial year
        years = tidy.time_period_sortable(pool["time_period"])
        expected = pool["time_period"].loc[years.idxmax()]
        t = pd.concat([t, pd.DataFrame([{**{k: cdp_area[k] for k in _AREA}, "metric_id": m, "status": "not supplied",
                                         "time_period": expected, "origin": "local", "value": np.nan,
                                         "value_note": f"not supplied — source: {_SOURCE_NAMES[cat.loc[m, 'source']]} "
                                                       f"(template data/templates/{cat.loc[m, 'source']}.csv)",
                                         "source": ""}
                                        for m in missing])], ignore_index=True)
    trend = {**public_trends(cdp, earlier["trends"]), **local_trends(t, cat).to_dict()}
    meta = cat.loc[t["metric_id"]]
    t = t.assign(outcome=meta["outcome"].to_numpy(), polarity=meta["polarity"].to_numpy(),
                 indicator_id="cdp.outcomes." + t["metric_id"], indicator_name=meta["name"].to_numpy(),
                 unit=meta["unit"].to_numpy(), metric_kind=meta["kind"].to_numpy(), measure=meta["kind"].to_numpy(),
                 recent_trend=np.where(t["area_role"] == "cdp", t["metric_id"].map(trend).fillna(""), ""))
    for c in ("compared_to_england", "compared_to_england_998", "comparison_caveat", "value_note"):
        t[c] = t[c].fillna("")
    t["origin"] = t["origin"].fillna("published")
    t = mark_made_up(t)
    keep = [*_AREA, "indicator_id", "indicator_name", "outcome", "metric_id", "polarity", "metric_kind", "measure",
            "time_period", "value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator",
            "unit", "value_note", "compared_to_england", "compared_to_england_998", "comparison_caveat", "recent_trend",
            "status", "origin",
            "source"]
    t = tidy.conform(t.reindex(columns=keep))
    pol = settings.disclosure
    t.attrs["disclosure_threshold"] = pol.threshold
    t.attrs["disclosure_rounding"] = pol.rounding
    # the disclosure audit's result, for run.json (:func:`cdp_analysis.output.provenance.record`)
    t.attrs["disclosure_audit"] = audit
    # what chose the rows, for run.json: the catalogue (one row per metric) and the partnership's files
    t.attrs["decided_by"] = [
        provenance.file_input(local_data.catalogue_path(), "outcomes catalogue",
                              "the metrics listed: a row for every metric of the catalogue, public and local"),
        *provenance.settings_files(settings, "local_data", decides="the local metrics supplied, their areas and "
                                                                    "periods (rows of origin 'local')")]
    o = Outcomes(cdp=cdp, settings=settings, outcomes=t, catalogue=cat, earlier=earlier, made_up=made_up)
    o.spine = spine_data(o)
    return o


# --- what the words, figures and summary page read -----------------------------------------------------------

#: The national outcomes, in the framework's order (the summary page's rows).
OUTCOMES = local_data.OUTCOMES


def cdp_rows(o: Outcomes) -> pd.DataFrame:
    """The CDP's latest row of every metric, in catalogue order (outcome, then metric)."""
    return latest_rows(o.outcomes, o.catalogue)


