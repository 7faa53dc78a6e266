"""Chapter 5, outcomes: the National Combating Drugs Outcomes Framework dashboard, public and local data together.

For each of the six national outcomes (reduce drug use; reduce drug-related crime; reduce drug-related deaths
and harm; reduce drug supply; increase engagement in treatment; improve recovery outcomes) and the
partnership's local priorities, the metrics of the outcomes catalogue (``data/catalogue/outcomes_metrics.csv``,
:func:`cdp_analysis.data.local_data.catalogue`):

* **public metrics** are read from the earlier chapters' tables (``tables/*.csv`` of the same run; built by
  their chapters when the notebook runs alone) — never recomputed here: prevalence estimates (chapter 2), met
  need (chapter 3), drug-misuse deaths and alcohol-specific mortality (chapter 4);
* **local metrics** come from the files named in the CDP's parameters (``outcomes: local_data:``), in the
  layout of ``data/templates/``; a metric not supplied is listed as 'not supplied — source: …', never dropped.

**Disclosure control** (:mod:`cdp_analysis.stats.disclosure`) is applied to every local count inside
:func:`build`, before any table, figure, sentence or notebook output exists: counts 1 to ``threshold − 1``
(primary), complements of proportions, secondary suppression across a partnership and its members and across
a count and its parts (criminal-justice referrals, mandatory and voluntary); values built on a suppressed count
are suppressed. Published data pass through as published. ``output.notebook.check_disclosure`` refuses to write
a table that still holds a small local count.

Comparisons with England at 95% and 99.8% use the statistics core (Fingertips' method, with polarity); recent
trends are chapter 4's tests for public metrics and the Fingertips marker (proportions) or the Poisson trend
(counts) for local series of at least five consecutive years with nothing suppressed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import Field

from .. import stats
from ..areas import geography
from ..areas.params import ChapterSettings
from ..areas.partnerships import Partnership
from ..data import local_data
from ..data.register import cite
from ..files import write_atomic
from ..output import escape, figures, tidy
from ..output.escape import markdown_text as md
from ..output.notebook import FigureOutput, TableOutput
from ..output.table_html import with_limits
from . import prevalence, treatment_gap, trends
from .registry import Chapter

log = logging.getLogger(__name__)

NAME = "outcomes"
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
NUMBERS = ["value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator", "apc",
           "p_value", "time_period_sortable"]
STATUSES = ("computed", "not supplied", "suppressed")
#: The earlier chapters whose tables this chapter reads, and the tables.
EARLIER = {prevalence: ("prevalence_drugs", "prevalence_ocu"), treatment_gap: ("treatment_gap",),
           trends: ("drug_deaths", "alcohol_mortality", "trends")}
#: Why a public metric has no figure for an area (the bundle holds samples of some OHID files).
_NOT_HELD = {
    "": "not in the data for this area (or not published for it)",
    "prevalence.opiate_crack_users": "OHID's local estimate is not in the data (a sample of the file is held): add "
                                     "the area's estimate to see it",
    "treatment.opiate_crack_met_need": "not in the data for this area: download Fingertips indicator 93517 with "
                                       "`cdp fetch fingertips 93517`",
}
_SOURCE_NAMES = {"police": "police force (incidents and crimes with a drugs marker)",
                 "ndtms_local": "NDTMS local reports (the partnership's treatment system)",
                 "provider_caseloads": "treatment providers' caseload reports",
                 "schools_programmes": "schools and young people's programme returns"}


class Settings(ChapterSettings):
    """Settings of the outcomes chapter (section ``outcomes:`` of a params file)."""

    SECTION: ClassVar[str] = "outcomes"

    local_data: list[str] = Field(
        default=[], description="the partnership's local data files (CSV, layout of data/templates/): paths relative "
                                "to the project folder, or absolute")
    disclosure_threshold: int = Field(
        default=stats.disclosure.DEFAULT_THRESHOLD, ge=2, le=20,
        description="local counts from 1 to this number minus 1 are suppressed (5: counts 1-4)")

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Every local file named exists and is read and validated in full, together
        (:func:`cdp_analysis.data.local_data.read_all`), so a bad file stops the run before any notebook starts.
        Area codes must be current areas here (the CDP is not known yet); the chapter's build checks that they
        are the CDP's members, region or England. Parsing is memoised, so the build reads them again for
        nothing."""
        paths = self.files("local_data", file=file, where=where)
        if paths:
            known = dict(zip(geography.areas()["code"], geography.areas()["name"]))
            local_data.read_all(paths, allowed_areas=known,
                                areas_are="a current English upper-tier area, region or England code")


# --- the earlier chapters' tables ---------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A chapter's tidy CSV as written (text kept as text; the numeric columns of the schema as numbers), with the
    CSV rule's leading quote taken off text cells (:func:`cdp_analysis.output.escape.csv_original`), so a name
    like ``=x`` is read back as it was given."""
    t = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for c in t.columns:
        if c in NUMBERS:
            t[c] = pd.to_numeric(t[c].replace("", np.nan))
        else:
            t[c] = t[c].map(escape.csv_original)
    return t


def earlier_tables(cdp: Partnership, output_dir: str | Path | None) -> dict[str, pd.DataFrame]:
    """The earlier chapters' tables this chapter reads: from ``<output_dir>/tables/`` when the run wrote them,
    otherwise built by their own chapters (a notebook run on its own)."""
    out = {}
    folder = Path(output_dir) / "tables" if output_dir else None
    for module, names in EARLIER.items():
        files = [folder / f"{n}.csv" for n in names] if folder else []
        if files and all(f.is_file() for f in files):
            out.update({n: read_table(f) for n, f in zip(names, files)})
            continue
        log.info("tables of chapter '%s' not found in the output folder: building them", module.NAME)
        built = module.CHAPTER.build(cdp, cdp.chapter_settings(module.NAME))
        by_name = dict(zip(module.CHAPTER.tables, built.tables()))
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


def _public_selections(tables: dict[str, pd.DataFrame]) -> dict[str, tuple[pd.DataFrame, str]]:
    """metric_id → (rows of the earlier chapter's table, comparison note)."""
    drugs = tables["prevalence_drugs"]
    ocu = tables["prevalence_ocu"]
    gap = tables["treatment_gap"]
    deaths = tables["drug_deaths"]
    alcohol = tables["alcohol_mortality"]
    return {
        "prevalence.any_drug_last_year": (
            drugs[(drugs["drug"] == "Any drug") & (drugs["recall_period"] == "last year")
                  & (drugs["measure"] == "percent of age group") & (drugs["method"] == "age-sex")
                  & (drugs["age_group"] == "16-59") & (drugs["sex"] == "Persons")],
            "not compared: a synthetic estimate applies national rates to the area's ages and sexes; its limits "
            "are the national survey's sampling error, not a measure of local precision"),
        "prevalence.opiate_crack_users": (
            ocu[(ocu["measure"] == "rate per 1,000 aged 15-64") & ocu["method"].str.startswith("OHID estimate")], ""),
        "deaths.drug_misuse": (
            deaths[(deaths["cause"] == "drug misuse") & (deaths["measure"] == "asmr") & (deaths["sex"] == "Persons")], ""),
        "deaths.alcohol_specific": (alcohol[alcohol["sex"] == "Persons"], ""),
        "treatment.alcohol_met_need": (
            gap[(gap["substance"] == treatment_gap.ALCOHOL) & (gap["measure"] == "met need")], ""),
        "treatment.opiate_crack_met_need": (
            gap[(gap["substance"] == treatment_gap.OCU) & (gap["measure"] == "met need")], ""),
    }


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
        t = _compare(t, meta["polarity"])
        if note:
            t["compared_to_england"] = np.where(t["area_role"] == "england", "", "Not compared")
            t["value_note"] = np.where(t["value"].notna() & (t["area_role"] != "england"), note, t["value_note"])
        missing = t["value"].isna()
        t["value_note"] = np.where(missing & (t["value_note"] == ""), _NOT_HELD.get(metric_id, _NOT_HELD[""]),
                                   t["value_note"])
        rows.append(t.assign(metric_id=metric_id, status=np.where(missing, "not supplied", "computed"),
                             origin="published"))
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
    cdp_rows = t[t["area_role"] == "cdp"]
    keys = [*_AREA, "period", "metric_id"]
    n = cdp_rows.groupby(keys)["code"].transform("size")
    summed = cdp_rows[n == len(cdp.members)].groupby(keys, as_index=False).agg(
        numerator=("numerator", "sum"), denominator=("denominator", lambda s: s.sum(min_count=len(s))),
        origin=("origin", "first"), source=("source", lambda s: "; ".join(sorted(set(s)))))
    partial = cdp_rows[n < len(cdp.members)].drop_duplicates(keys)
    partial = partial[keys].assign(partial=True)
    others = t[t["area_role"] != "cdp"][[*keys, "numerator", "denominator", "origin", "source"]]
    out = pd.concat([summed, others], ignore_index=True).assign(partial=False)
    if len(partial):
        out = pd.concat([out, partial.assign(numerator=np.nan, denominator=np.nan, origin="local",
                                             source="")], ignore_index=True)
    return out


def disclosure_control(cells: pd.DataFrame, cat: pd.DataFrame, threshold: int, members: tuple[str, ...]
                       ) -> pd.DataFrame:
    """Suppress the local cells (numerators and denominators): primary, complement, secondary across the CDP
    and its members and across a count and its parts. Adds ``numerator_suppressed``, ``denominator_suppressed``
    and ``suppression`` (the reason for the row's value)."""
    if cells.empty:
        return cells.assign(numerator_suppressed=False, denominator_suppressed=False, suppression="")
    c = cells.reset_index(drop=True).copy()
    base = c["area_code"] + "|" + c["period"] + "|" + c["metric_id"]
    c["_n"], c["_d"] = base + "|n", base + "|d"
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
    done = stats.disclosure.suppress(flat, threshold=threshold, key="cell", count="count",
                                     complement_of="denominator_cell", relations=rel)
    hidden = done.set_index("cell")["suppression"]
    c["numerator_suppressed"] = c["_n"].map(hidden) != ""
    c["denominator_suppressed"] = c["_d"].map(hidden) != ""
    c["suppression"] = np.where(c["numerator_suppressed"], c["_n"].map(hidden),
                                np.where(c["denominator_suppressed"], c["_d"].map(hidden), ""))
    return c.drop(columns=["_n", "_d"])


#: One note for every rule: saying which rule applied would tell a reader which side of a proportion is small.
_REASON_NOTE = {r: "suppressed to protect small numbers (disclosure control, threshold {t})"
                for r in stats.disclosure.REASONS}


def local_metrics(cdp: Partnership, settings: Settings, cat: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Every local metric row (all periods supplied), suppressed, with values, limits and comparisons; and
    whether any file was synthetic."""
    files = settings.files("local_data", where="parameter")
    raw = local_data.read_all(files, allowed_areas=_allowed_areas(cdp))
    synthetic = bool((raw["origin"] != "local").any()) if len(raw) else False
    if raw.empty:
        return pd.DataFrame(), synthetic
    cells = disclosure_control(local_cells(cdp, raw), cat, settings.disclosure_threshold, cdp.members)
    meta = cat.loc[cells["metric_id"]]
    kind = meta["kind"].to_numpy()
    prop = kind == "proportion"
    x = cells["numerator"].where(~cells["numerator_suppressed"])
    n = cells["denominator"].where(~cells["denominator_suppressed"])
    value = pd.Series(np.where(prop, np.nan, x), index=cells.index, dtype=float)
    lims = pd.DataFrame(np.nan, index=cells.index, columns=["lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998"])
    ok = prop & x.notna().to_numpy() & n.notna().to_numpy()
    if ok.any():
        p = stats.proportion(pd.DataFrame({"x": x[ok], "n": n[ok], "i": cells.index[ok]}), "x", "n", group_by="i",
                             confidence=(0.95, 0.998), multiplier=100).set_index("i")
        value[ok] = p["value"].reindex(cells.index[ok]).to_numpy()
        lims.loc[ok, "lower_ci"] = p["lower95_0cl"].reindex(cells.index[ok]).to_numpy()
        lims.loc[ok, "upper_ci"] = p["upper95_0cl"].reindex(cells.index[ok]).to_numpy()
        lims.loc[ok, "lower_ci_998"] = p["lower99_8cl"].reindex(cells.index[ok]).to_numpy()
        lims.loc[ok, "upper_ci_998"] = p["upper99_8cl"].reindex(cells.index[ok]).to_numpy()
    hide = stats.disclosure.derived_mask(cells["numerator_suppressed"], cells["denominator_suppressed"] & prop)
    value[hide] = np.nan
    lims.loc[hide] = np.nan
    note = cells["suppression"].map(lambda r: _REASON_NOTE.get(r, "").format(t=settings.disclosure_threshold))
    partial = cells["partial"].fillna(False).astype(bool)
    note = note.where(~partial, "not every member area supplied this figure for the period")
    status = np.where(hide, "suppressed", np.where(partial, "not supplied", "computed"))
    t = pd.concat([cells[[*_AREA, "metric_id", "origin", "source"]].reset_index(drop=True),
                   lims.reset_index(drop=True)], axis=1)
    t = t.assign(time_period=cells["period"].to_numpy(), value=value.to_numpy(), count=x.to_numpy(),
                 denominator=np.where(prop, n, np.nan), value_note=note.to_numpy(), status=status)
    # a suppressed row shows neither its count nor (for a proportion) its denominator
    t.loc[t["status"] == "suppressed", ["count", "denominator"]] = np.nan
    parts = []
    for metric_id, g in t.groupby("metric_id", sort=False):
        parts.append(_compare(g, cat.loc[metric_id, "polarity"]) if cat.loc[metric_id, "kind"] == "proportion"
                     else g.assign(compared_to_england=np.where(g["area_role"] == "england", "", "Not compared"),
                                   compared_to_england_998=""))
    return pd.concat(parts, ignore_index=True), synthetic


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


@dataclass
class Outcomes:
    """All tables of the outcomes chapter for one CDP (local counts already suppressed)."""

    cdp: Partnership
    settings: Settings
    outcomes: pd.DataFrame
    catalogue: pd.DataFrame
    earlier: dict[str, pd.DataFrame] = field(repr=False)
    synthetic: bool = False

    def tables(self) -> list[pd.DataFrame]:
        return [self.outcomes]


def _public_trends(cdp: Partnership, tr: pd.DataFrame) -> dict[str, str]:
    """Chapter 4's tested trends for the public metrics of the CDP (metric_id → words)."""
    t = tr[tr["area_role"] == "cdp"]
    out = {}
    seg = t[(t["series"] == "deaths related to drug misuse") & (t["method"] == "joinpoint segment")]
    if len(seg):
        r = seg.sort_values("period_start").iloc[-1]
        change = "" if pd.isna(r["apc"]) else f", {r['apc']:+.1f}% a year"
        out["deaths.drug_misuse"] = (f"registered deaths (numbers) {r['verdict']}{change}, {r['period_start']} to "
                                     f"{r['period_end']} (latest joinpoint segment; chapter 4)")
    met = t[(t["series"] == "alcohol met need (dependent drinkers in treatment)")
            & (t["method"] == "Fingertips recent trend")]
    if len(met):
        r = met.iloc[0]
        out["treatment.alcohol_met_need"] = (f"{r['verdict']} ({r['period_start']} to {r['period_end']}, "
                                             "Fingertips recent trend)")
    return out


def build(cdp: Partnership, settings: Settings | None = None, *, output_dir: str | Path | None = None) -> Outcomes:
    """Every table of the outcomes chapter (local data read, validated and suppressed here)."""
    settings = settings or cdp.chapter_settings(NAME)
    cat = local_data.catalogue().set_index("metric_id", drop=False)
    earlier = earlier_tables(cdp, output_dir)
    public = public_metrics(cdp, earlier, cat)
    local, synthetic = local_metrics(cdp, settings, cat)
    t = pd.concat([x for x in (public, local) if len(x)], ignore_index=True)
    # local metrics not supplied for the CDP: listed, never dropped
    have = set(t.loc[(t["area_role"] == "cdp") & (t["status"] != "not supplied"), "metric_id"])
    cdp_area = cdp.reporting_areas().iloc[0]
    missing = [m for m in cat.index if cat.loc[m, "origin"] == "local" and m not in have
               and not ((t["area_role"] == "cdp") & (t["metric_id"] == m)).any()]
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
    trend = {**_public_trends(cdp, earlier["trends"]), **local_trends(t, cat).to_dict()}
    meta = cat.loc[t["metric_id"]]
    t = t.assign(outcome=meta["outcome"].to_numpy(), polarity=meta["polarity"].to_numpy(),
                 indicator_id="cdp.outcomes." + t["metric_id"], indicator_name=meta["name"].to_numpy(),
                 unit=meta["unit"].to_numpy(), metric_kind=meta["kind"].to_numpy(), measure=meta["kind"].to_numpy(),
                 recent_trend=np.where(t["area_role"] == "cdp", t["metric_id"].map(trend).fillna(""), ""))
    for c in ("compared_to_england", "compared_to_england_998", "value_note"):
        t[c] = t[c].fillna("")
    t["origin"] = t["origin"].fillna("published")
    keep = [*_AREA, "indicator_id", "indicator_name", "outcome", "metric_id", "polarity", "metric_kind", "measure",
            "time_period", "value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator",
            "unit", "value_note", "compared_to_england", "compared_to_england_998", "recent_trend", "status", "origin",
            "source"]
    t = tidy.conform(t.reindex(columns=keep))
    t.attrs["disclosure_threshold"] = settings.disclosure_threshold
    return Outcomes(cdp=cdp, settings=settings, outcomes=t, catalogue=cat, earlier=earlier, synthetic=synthetic)


# --- words -----------------------------------------------------------------------------------------------------

_ORIGIN = {"published": "published", "local": "local", "synthetic example": "SYNTHETIC"}
_STATUS_WORDS = {("not supplied", "published"): "not in the data", ("not supplied", "local"): "not supplied",
                 ("not supplied", "synthetic example"): "not supplied", ("suppressed", "local"): "suppressed",
                 ("suppressed", "synthetic example"): "suppressed"}


def _neighbours(value: str, n) -> str:
    if not value:
        return ""
    return f"{value} (median of {n})" if n and n > 1 else f"{value} (1 neighbour)"


_RAG = {"Better": ("better than England", "▲"), "Worse": ("worse than England", "▼"),
        "Similar": ("similar to England", "●"), "Higher": ("higher than England", "↑"),
        "Lower": ("lower than England", "↓"), "Not compared": ("not compared", "–"), "": ("", "")}


def cdp_rows(o: Outcomes) -> pd.DataFrame:
    """The CDP's latest row of every metric, in catalogue order (outcome, then metric)."""
    t = o.outcomes[o.outcomes["area_role"] == "cdp"]
    t = t.sort_values("time_period_sortable", kind="stable").groupby("metric_id", sort=False).tail(1)
    order = {m: i for i, m in enumerate(o.catalogue.index)}
    outcome_order = {x: i for i, x in enumerate(local_data.OUTCOMES)}
    return t.assign(_o=t["outcome"].map(outcome_order), _m=t["metric_id"].map(order)).sort_values(["_o", "_m"])


def _fmt(r) -> str:
    if pd.isna(r["value"]):
        return r["status"]
    digits = 0 if r["metric_kind"] == "count" else 1
    return with_limits(r["value"], r["lower_ci"], r["upper_ci"], digits)


def synthetic_banner(o: Outcomes) -> str:
    """A warning when any local figure is synthetic ('' otherwise)."""
    if not o.synthetic:
        return ""
    return ("**SYNTHETIC EXAMPLE DATA.** The figures from local data in this chapter (marked 'synthetic example' "
            "in the Data column and the CSV's `origin`) are made up to show how the dashboard works: they are not real "
            "and must not be used or quoted. Figures from published data (ONS, OHID) are real.")


def summary_text(o: Outcomes) -> str:
    """Key findings as Markdown, every number read from the outcomes table."""
    rows = cdp_rows(o)
    lines = []
    banner = synthetic_banner(o)
    if banner:
        lines += [banner, ""]
    computed = rows[rows["status"] == "computed"]
    worse = computed[computed["compared_to_england"] == "Worse"]
    better = computed[computed["compared_to_england"] == "Better"]
    missing, hidden = (rows["status"] == "not supplied").sum(), (rows["status"] == "suppressed").sum()
    lines.append(f"- {len(computed)} of {len(rows)} metrics have a figure for {md(o.cdp.name)}; {missing} "
                 f"{'is' if missing == 1 else 'are'} not supplied or not published, and {hidden} "
                 f"{'is' if hidden == 1 else 'are'} suppressed to protect small numbers.")
    for r in worse.itertuples():
        lines.append(f"- **Worse than England**: {r.indicator_name}, {r.time_period}: {_fmt(r._asdict())} "
                     f"{r.unit}.")
    for r in better.itertuples():
        lines.append(f"- Better than England: {r.indicator_name}, {r.time_period}: {_fmt(r._asdict())} {r.unit}.")
    for r in rows[worsening(rows)].itertuples():
        lines.append(f"- Trend: {r.indicator_name} — {r.recent_trend}.")
    return "\n".join(lines)


def notes_text(o: Outcomes) -> str:
    """Methods and caveats as Markdown."""
    t = o.settings.disclosure_threshold
    return "\n".join([
        f"- **Disclosure control.** Counts of 1 to {t - 1} from local data are suppressed, with their complements "
        "(a proportion whose denominator minus numerator is that small) and the further cells needed so that none "
        "can be worked out from a total (a partnership and its member areas; criminal-justice referrals and their "
        "mandatory and voluntary parts). Percentages built on a suppressed count are suppressed. Published figures "
        "are shown as published.",
        "- Comparisons with England use the 95% and 99.8% confidence limits (Wilson's for proportions; the "
        "publisher's for published rates) and the metric's polarity; 'Not compared' where a figure has no limits "
        "or is a count, or is a synthetic estimate.",
        "- Local metrics are compared with England only when the local files give an England row (e.g. from NDTMS "
        "national reports). Recent trends need five consecutive years with nothing suppressed.",
        "- Public metrics are read from the earlier chapters' tables; see chapters 2 to 4 for their methods and "
        "caveats.",
    ])


# --- figures and tables ----------------------------------------------------------------------------------------


def spine_data(o: Outcomes) -> pd.DataFrame:
    """For every metric with a CDP value, an England value and the values of all areas (min, 25th,
    75th percentile, max), England, the CDP, and their positions on the Fingertips spine scale: England at 0.5,
    the furthest area from England at 0 or 1, better to the right for metrics with a polarity."""
    rows = cdp_rows(o)
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
    rows = cdp_rows(o)
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


_MARK = {"Better": ("^", figures.OKABE_ITO["blue"]), "Worse": ("v", figures.OKABE_ITO["vermillion"]),
         "Similar": ("o", "#ffffff"), "Higher": ("^", figures.OKABE_ITO["reddish purple"]),
         "Lower": ("v", figures.OKABE_ITO["reddish purple"]), "Not compared": ("s", "#b1b4b6"), "": ("s", "#b1b4b6")}


def spine_figure(o: Outcomes) -> FigureOutput:
    """A Fingertips-style spine chart: each metric's range of areas (light: lowest to highest; dark: 25th to 75th
    percentile), England at the centre line, the CDP's value marked by its comparison with England (shape and
    colour), grouped by outcome; better to the right."""
    d = spine_data(o)
    n = max(len(d), 1)
    fig, ax = plt.subplots(figsize=(10, 2.8 + 0.6 * n))
    labels = []
    for i, r in enumerate(d.itertuples()):
        y = n - 1 - i
        if not np.isnan(r.x_min):
            lo, hi = sorted((r.x_min, r.x_max))
            ax.barh(y, hi - lo, left=lo, height=0.5, color=figures.COMPARATOR_COLOUR)
            q1, q3 = sorted((r.x_q25, r.x_q75))
            ax.barh(y, q3 - q1, left=q1, height=0.5, color=figures.ENGLAND_COLOUR)
        marker, colour = _MARK.get(r.compared_to_england, _MARK[""])
        ax.plot([r.x_value], [y], marker=marker, markersize=10, color="#0b0c0c", markerfacecolor=colour,
                markeredgecolor="#0b0c0c", linestyle="none")
        labels.append(f"{r.indicator_name} ({r.time_period})")
    ax.axvline(0.5, color="#0b0c0c", linestyle=figures.ENGLAND_LINESTYLE, linewidth=1.5)
    ax.set_yticks(range(n - 1, n - 1 - len(labels), -1), labels, fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.5, 1], ["worst / lowest area", "England", "best / highest area"])
    ax.set_xlabel("Position among all upper-tier areas (England at the centre;\nbetter to the right where a "
                  "metric has a polarity)")
    ax.set_title(f"Outcomes: {o.cdp.name} against England and all upper-tier areas", fontsize=11, pad=42)
    handles = [plt.Line2D([], [], marker=m, color="#0b0c0c", markerfacecolor=c, markeredgecolor="#0b0c0c",
                          linestyle="none", label=lab)
               for lab, (m, c) in (("Better than England (95%)", _MARK["Better"]), ("Similar", _MARK["Similar"]),
                                   ("Worse than England (95%)", _MARK["Worse"]), ("Not compared", _MARK[""]))]
    handles.append(plt.Rectangle((0, 0), 1, 1, color=figures.COMPARATOR_COLOUR, label="Lowest to highest area"))
    handles.append(plt.Rectangle((0, 0), 1, 1, color=figures.ENGLAND_COLOUR, label="25th to 75th percentile of areas"))
    ax.legend(handles=handles, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.01), ncols=3, frameon=False)
    fig.text(0.01, 0.005, "Source: the earlier chapters' tables (ONS, OHID). Metrics without the values of all areas "
             "(local data, estimates) are in the dashboard table only.",
             fontsize=8, color="#505a5f")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    data = d.assign(time_period=d.get("time_period", pd.Series(dtype=str)), unit="position (0 to 1)") if len(d) else \
        pd.DataFrame(columns=["area_code", "area_name", "area_role", "time_period", "measure", "value", "unit",
                              "source"])
    return FigureOutput("outcomes_spine_chart", fig, data=data)


def dashboard_output(o: Outcomes) -> TableOutput:
    """The dashboard table: one row per metric with value and limits, England, region, neighbours, the
    comparisons, the trend and a RAG rating in words and symbols."""
    rows = cdp_rows(o)
    t = o.outcomes

    def other(role):
        s = t[t["area_role"] == role]
        return s.groupby(["metric_id", "time_period"])["value"].first()

    eng, reg = other("england"), other("region")
    nb = t[t["area_role"] == "neighbour"].groupby(["metric_id", "time_period"])["value"]
    nb_med, nb_n = nb.median(), nb.count()

    def num(v, kind):
        return "" if pd.isna(v) else (f"{v:,.0f}" if kind == "count" else f"{v:,.1f}")

    def rag(r):
        if r["status"] != "computed":
            return ""
        if not r["compared_to_england"]:
            return "– not compared (no England figure)"
        word, sym = _RAG.get(r["compared_to_england"], ("", ""))
        if r["compared_to_england_998"] in ("Better", "Worse"):
            word += " (also at 99.8%)"
        return f"{sym} {word}".strip()

    view = pd.DataFrame({
        "Outcome": rows["outcome"].str[:1].str.upper() + rows["outcome"].str[1:],
        "Metric": rows["indicator_name"] + " (" + rows["unit"] + ")",
        "Period": rows["time_period"],
        "Value (95% limits)": [_fmt(r) if r["status"] == "computed" else _STATUS_WORDS[(r["status"], r["origin"])]
                               for _, r in rows.iterrows()],
        "England": [num(eng.get((m, p)), k) for m, p, k in zip(rows["metric_id"], rows["time_period"],
                                                                rows["metric_kind"])],
        "Region": [num(reg.get((m, p)), k) for m, p, k in zip(rows["metric_id"], rows["time_period"],
                                                               rows["metric_kind"])],
        "Neighbours": [_neighbours(num(nb_med.get((m, p)), k), nb_n.get((m, p)))
                       for m, p, k in zip(rows["metric_id"], rows["time_period"], rows["metric_kind"])],
        "Data": rows["origin"].map(_ORIGIN),
        "Compared with England": [rag(r) for _, r in rows.iterrows()],
        "Recent trend": rows["recent_trend"],
        "Note": rows["value_note"],
    }).set_index(["Outcome", "Metric"])
    return TableOutput("outcomes", o.outcomes, view=view,
                       caption="Outcomes dashboard: the latest figure of every metric for the partnership, with "
                               "England, region and neighbours. ▲ better, ▼ worse than England at 95%; ● similar; "
                               "– not compared. Every area and period is in the CSV")


# --- the one-page summary ---------------------------------------------------------------------------------------

_PAGE_CSS = """
@page { size: A4; margin: 12mm; }
body { font-family: Arial, Helvetica, sans-serif; font-size: 9.5pt; color: #0b0c0c; max-width: 186mm; margin: auto; }
h1 { font-size: 15pt; margin: 0 0 2mm; } h2 { font-size: 11pt; margin: 4mm 0 1mm; border-bottom: 1px solid #b1b4b6; }
.banner { border: 3px solid #d4351c; padding: 2mm; font-weight: bold; margin: 2mm 0; }
table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 0.8mm 1.5mm; vertical-align: top; }
th { border-bottom: 1px solid #0b0c0c; } td { border-bottom: 1px solid #dee0e2; }
ul { margin: 1mm 0; padding-left: 5mm; } .meta { color: #505a5f; font-size: 8pt; }
"""


def summary_page(o: Outcomes) -> str:
    """The one-page summary (HTML, printable on one A4 page), every number read from the tables."""
    rows = cdp_rows(o)
    e = escape.html_text  # every value on the page, the CDP's name from its params file included
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(o.cdp.name)}: drugs and alcohol "
             f"outcomes summary</title><style>{_PAGE_CSS}</style></head><body>",
             f"<h1>{e(o.cdp.name)} Combating Drugs Partnership: outcomes summary</h1>",
             f"<p class='meta'>Members: {e(', '.join(f'{n} ({c})' for n, c in zip(o.cdp.member_names, o.cdp.members)))}. "
             "Built by cdp-analysis from the tables of this report (chapters 2 to 5); each figure's period is "
             "shown beside it.</p>"]
    if o.synthetic:
        parts.append("<p class='banner'>SYNTHETIC EXAMPLE DATA: the figures marked 'synthetic' on this page are made "
                     "up to show how the summary works. They are not real and must not be used or quoted. Figures "
                     "marked 'published' (ONS, OHID) are real.</p>")
    parts.append("<h2>Headline figure for each outcome</h2><p class='meta'>The most recent figure held for each "
                 "outcome; the dashboard in the report has every metric.</p><table><thead><tr>"
                 "<th scope='col'>Outcome</th><th scope='col'>Metric</th><th scope='col'>Period</th>"
                 "<th scope='col'>Value (95% limits)</th><th scope='col'>Compared with England</th>"
                 "<th scope='col'>Data</th></tr></thead><tbody>")
    for outcome in local_data.OUTCOMES:
        g = rows[rows["outcome"] == outcome]
        if g.empty:
            continue
        computed = g[g["status"] == "computed"]
        r = computed.sort_values("time_period_sortable", kind="stable").iloc[-1] if len(computed) else g.iloc[0]
        value = f"{_fmt(r)} {r['unit']}" if r["status"] == "computed" else r["value_note"] or r["status"]
        word, sym = _RAG.get(r["compared_to_england"], ("", ""))
        if r["status"] == "computed" and not r["compared_to_england"]:
            word, sym = "not compared (no England figure)", "–"
        parts.append(f"<tr><td>{e(outcome[:1].upper() + outcome[1:])}</td><td>{e(r['indicator_name'])}</td>"
                     f"<td>{e(r['time_period'])}</td><td>{e(value)}</td><td>{e((sym + ' ' + word).strip())}</td>"
                     f"<td>{e(_ORIGIN.get(r['origin'], r['origin']))}</td></tr>")
    parts.append("</tbody></table><h2>Biggest gaps</h2><ul>")
    gaps = biggest_gaps(o)
    parts += [f"<li>{e(g)}</li>" for g in gaps] or ["<li>No metric is significantly worse than England and no "
                                                   "tested trend is getting worse.</li>"]
    parts.append("</ul><h2>What the data cannot yet tell</h2><ul>")
    parts += [f"<li>{e(g)}</li>" for g in data_gaps(o)]
    parts.append("</ul><p class='meta'>Sources: ONS, OHID (Open Government Licence), and the partnership's local data "
                 f"where supplied; counts from local data below {o.settings.disclosure_threshold}, and the figures "
                 "that would reveal them, are suppressed. ▲ better, ▼ worse than England (95%), ● similar. Full "
                 "methods: report.html.</p></body></html>")
    return "".join(parts)


def biggest_gaps(o: Outcomes) -> list[str]:
    """The largest unmet need, metrics significantly worse than England, and worsening trends (sentences)."""
    out = []
    gap = o.earlier["treatment_gap"]
    unmet = gap[(gap["area_role"] == "cdp") & (gap["measure"] == "unmet need") & gap["value"].notna()]
    if len(unmet):
        latest = unmet.sort_values("time_period_sortable").groupby("substance").tail(1)
        top = latest.sort_values("value", ascending=False).iloc[0]
        eng = gap[(gap["area_role"] == "england") & (gap["measure"] == "unmet need") & (gap["substance"] == top["substance"])
                  & (gap["time_period"] == top["time_period"])]["value"]
        who = {treatment_gap.ALCOHOL: "dependent drinkers (aged 18 and over)",
               treatment_gap.OCU: "opiate and/or crack users"}.get(top["substance"], top["substance"])
        versus = f" (England {eng.iloc[0]:.0f}%)" if len(eng) and pd.notna(eng.iloc[0]) else ""
        out.append(f"Largest treatment gap: {top['value']:.0f}% of {who} who need treatment were not in treatment in "
                   f"{top['time_period']}{versus}.")
    rows = cdp_rows(o)
    for r in rows[(rows["status"] == "computed") & (rows["compared_to_england"] == "Worse")].itertuples():
        out.append(f"Worse than England: {r.indicator_name}, {r.time_period}: {_fmt(r._asdict())} {r.unit}.")
    for r in rows[worsening(rows)].itertuples():
        out.append(f"Worsening trend: {r.indicator_name}: {r.recent_trend}.")
    return out


def worsening(rows: pd.DataFrame) -> pd.Series:
    """Rows whose recent trend is getting worse (a Fingertips marker saying so, or a rising count or rate of a
    metric where low is good, or a falling one where high is good)."""
    trend = rows["recent_trend"].fillna("")
    rising = trend.str.contains(r"\bincreasing\b") & ~trend.str.contains("getting better")
    falling = trend.str.contains(r"\bdecreasing\b") & ~trend.str.contains("getting better")
    return (trend.str.contains("getting worse") | (rising & (rows["polarity"] == "low_is_good"))
            | (falling & (rows["polarity"] == "high_is_good")))


def data_gaps(o: Outcomes) -> list[str]:
    """Metrics without a figure for the CDP, grouped: not supplied (local), not published (public), suppressed."""
    rows = cdp_rows(o)
    out = []
    local = rows[(rows["status"] == "not supplied") & (rows["origin"] != "published")]
    if len(local):
        out.append("Not supplied by the partnership: " + "; ".join(local["indicator_name"]) + ". Add the local files "
                   "(data/templates/) under 'outcomes: local_data' in the CDP's params file.")
    public = rows[(rows["status"] == "not supplied") & (rows["origin"] == "published")]
    if len(public):
        out.append("Not published for this area: " + "; ".join(public["indicator_name"]) + ".")
    supp = rows[rows["status"] == "suppressed"]
    if len(supp):
        out.append("Suppressed to protect small numbers: " + "; ".join(supp["indicator_name"]) + ".")
    if not out:
        out.append("Every metric of the catalogue has a figure.")
    out.append("Synthetic prevalence estimates apply national survey rates to the local population: they show "
               "expected, not measured, local drug use.")
    return out


def write_summary(o: Outcomes, output_dir: str | Path | None) -> Path | None:
    """Write ``summary.html`` into the CDP's output folder (nothing when ``output_dir`` is empty)."""
    if not output_dir:
        return None
    path = Path(output_dir) / "summary.html"
    write_atomic(path, summary_page(o).encode("utf-8"))
    return path


CHAPTER = Chapter(
    name=NAME, number=5, title="Outcomes", notebook="05_outcomes",
    datasets=("ons_population", "lookups", "ons_drug_deaths", "ons_drug_deaths_national", "ndtms_viewit", "ons_sdg",
              "ohid_alcohol_dependence", "fingertips", "ons_csew", "ons_nearest_neighbours", "transcribed"),
    settings=Settings, build=build, summary=summary_text,
    figures={"outcomes_spine_chart": spine_figure},
    tables=("outcomes",),
    pages=("summary.html",),
)



def summary_links(o: Outcomes, path: Path | None) -> str:
    """Where the one-page summary is (Markdown), and its gaps in brief."""
    where = (f"Written to `{path.name}` in the CDP's output folder." if path is not None
             else "Run with an output folder (`cdp run`) to write it.")
    return where + "\n\n**What the data cannot yet tell**\n\n" + "\n".join(f"- {g}" for g in data_gaps(o))
