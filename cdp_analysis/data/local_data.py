"""Local (unpublished) data a partnership supplies, and the outcomes catalogue that says what it may hold.

**The catalogue** (``data/catalogue/outcomes_metrics.csv``, :func:`catalogue`): one row per metric of the
National Combating Drugs Outcomes Framework dashboard — ``metric_id, outcome, name, definition, polarity, kind,
unit, multiplier, part_of, origin, source, geography, level, fingertips_id, framework_source``. ``level`` is the
framework's 'headline' or 'supporting', or 'local priority' (the partnership's own: alcohol, a local framework's
metrics); ``framework_source`` the document that names the metric (title and GOV.UK address);
``fingertips_id`` the OHID Fingertips indicator, where one is verified (blank otherwise). ``origin`` is 'public' (computed from the bundled
published data by the earlier chapters) or 'local' (supplied by the partnership; ``source`` then names the
template: police, ndtms_local, provider_caseloads, schools_programmes, hospital). ``kind`` is 'count', 'proportion'
(numerator of denominator) or 'rate'; ``part_of`` names the metric a count adds up to.

**Local files** (:func:`read_local`): CSV files in the layout of ``data/templates/<source>.csv`` —
``area_code, period, metric_id, numerator, denominator`` — one row per area, period and metric:

* ``area_code``: a current upper-tier area code of the CDP's members, its region or England (E92000001)
  (England or regional rows are the benchmark an analyst copies from NDTMS or police reports);
* ``period``: a calendar year (``2023``) or a financial year (``2023/24``), from 1990 and ended by the day the
  report is produced (:func:`~cdp_analysis.data.plausibility.production_date`); one kind per metric, across
  every file of a run;
* ``metric_id``: a local metric of the catalogue;
* ``numerator``: a whole number ≥ 0 written plainly (``1498`` or ``1,498``; not ``1e3``, ``1,1,8`` or ``5.5``;
  surrounding spaces are harmless) and at most :data:`~cdp_analysis.data.plausibility.MAX_PEOPLE` (the count,
  or the numerator of a proportion);
* ``denominator``: likewise, > 0 for a proportion, at least the numerator; blank for a count (a count
  metric may give an optional denominator, e.g. pupils eligible).

Across the files of a run, the parts of a count (``part_of``) add up to at most their total, and no area's count
is larger than England's for the same metric and period. Rows are numbered as a text editor numbers the file's
lines (blank lines and line breaks in quoted cells counted). Every problem is an
:class:`~cdp_analysis.errors.InputError` naming the file, the row and the column, and showing no more of the
file than the cell that is wrong. A file
whose path or name contains 'made-up', 'made_up' or 'synthetic' (or which lies in ``data/examples/``) is marked
as made-up example data: every report built from it says so.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from ..paths import project_root
from . import plausibility
from .readers import by_file, read_csv_table

log = logging.getLogger(__name__)

COLUMNS = ["area_code", "period", "metric_id", "numerator", "denominator"]
CATALOGUE_COLUMNS = ["metric_id", "outcome", "name", "definition", "polarity", "kind", "unit", "multiplier",
                     "part_of", "origin", "source", "geography", "level", "fingertips_id", "framework_source"]
#: The six outcomes of the National Combating Drugs Outcomes Framework, in its order, then local priorities.
OUTCOMES = ("reduce drug use", "reduce drug-related crime", "reduce drug-related deaths and harm",
            "reduce drug supply", "increase engagement in treatment", "improve recovery outcomes", "local priority")
#: The framework's levels of metric, in the dashboard's order, then the partnership's own priorities.
LEVELS = ("headline", "supporting", "local priority")
#: Where a metric's framework document may be published: GOV.UK, or (for a definition) OHID's Fingertips or the ONS.
FRAMEWORK_HOSTS = ("gov.uk", "fingertips.phe.org.uk", "ons.gov.uk")
_URL = re.compile(r"https://([A-Za-z0-9.-]+)(/\S*)?")
KINDS = ("count", "proportion", "rate")
POLARITIES = ("low_is_good", "high_is_good", "no_judgement")
#: The local sources, each with a template in ``data/templates/``.
SOURCES = ("police", "ndtms_local", "provider_caseloads", "schools_programmes", "hospital")
_CALENDAR = re.compile(r"^(19|20)[0-9][0-9]$")
_FINANCIAL = re.compile(r"^((?:19|20)[0-9][0-9])/([0-9][0-9])$")
ENGLAND_CODE = "E92000001"
_HINT = "use the layout of data/templates/ (area_code, period, metric_id, numerator, denominator; data/templates/README.md)"


def catalogue_path() -> Path:
    return project_root() / "data" / "catalogue" / "outcomes_metrics.csv"


def templates_dir() -> Path:
    return project_root() / "data" / "templates"


@memoised()
def catalogue() -> pd.DataFrame:
    """The outcomes catalogue, checked (known outcomes, levels, kinds, polarities, origins and sources; every
    metric cites its framework document by an address on GOV.UK (or, for a definition, OHID's Fingertips or the
    ONS); ``fingertips_id`` digits or blank; ``part_of`` names a count metric of the same source)."""
    path = catalogue_path()
    t = read_csv_table(path, CATALOGUE_COLUMNS)
    for column, allowed in (("outcome", OUTCOMES), ("kind", KINDS), ("polarity", POLARITIES),
                            ("origin", ("public", "local")), ("level", LEVELS)):
        bad = ~t[column].isin(allowed)
        if bad.any():
            r = t[bad].iloc[0]
            raise InputError(f"unknown {column} '{r[column]}'", file=path, where=f"row {r['_row']}, column '{column}'",
                             hint=f"one of: {', '.join(allowed)}")
    local = t["origin"] == "local"
    bad = local & ~t["source"].isin(SOURCES)
    if bad.any():
        r = t[bad].iloc[0]
        raise InputError(f"unknown local source '{r['source']}'", file=path, where=f"row {r['_row']}, column 'source'",
                         hint=f"one of: {', '.join(SOURCES)}")
    for r in t.to_dict("records"):
        url = _URL.search(r['framework_source'])
        host = url.group(1).lower() if url else ""
        if url is None:
            raise InputError(f"metric '{r['metric_id']}' cites no framework document", file=path,
                             where=f"row {r['_row']}, column 'framework_source'",
                             hint="give the document's title and its https:// address on GOV.UK")
        if not any(host == h or host.endswith("." + h) for h in FRAMEWORK_HOSTS):
            raise InputError(f"metric '{r['metric_id']}' cites a document on '{host}', not a publisher's own site",
                             file=path, where=f"row {r['_row']}, column 'framework_source'",
                             hint=f"cite the framework document on {', '.join(FRAMEWORK_HOSTS)}")
        if r['fingertips_id'] and not r['fingertips_id'].isdigit():
            raise InputError(f"'{r['fingertips_id']}' is not a Fingertips indicator ID", file=path,
                             where=f"row {r['_row']}, column 'fingertips_id'",
                             hint="digits only (e.g. 91380), or blank when none is verified")
    if t["metric_id"].duplicated().any():
        r = t[t["metric_id"].duplicated()].iloc[0]
        raise InputError(f"metric '{r['metric_id']}' is listed twice", file=path,
                         where=f"row {r['_row']}, column 'metric_id'", hint="keep one row per metric")
    ids = dict(zip(t["metric_id"], zip(t["kind"], t["source"])))
    for r in t[t["part_of"] != ""].to_dict("records"):
        if ids.get(r["part_of"]) != ("count", r["source"]) or r["kind"] != "count":
            raise InputError(f"'{r['metric_id']}' is part of '{r['part_of']}', which is not a count of the same "
                             "source", file=path, where=f"row {r['_row']}, column 'part_of'", hint="name a count metric")
    t["multiplier"] = pd.to_numeric(t["multiplier"].replace("", np.nan))
    return t.drop(columns="_row")


def is_made_up(path: Path) -> bool:
    """A file of made-up example data: in ``data/examples/`` or named so ('made-up', 'made_up' or 'synthetic')."""
    path = Path(path).resolve()
    examples = (project_root() / "data" / "examples").resolve()
    name = path.as_posix().lower()
    return any(w in name for w in ("made-up", "made_up", "synthetic")) or examples in path.parents


def _where(t: pd.DataFrame, mask: pd.Series, column: str) -> str:
    rows = t.loc[mask, "_row"].tolist()
    shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    return f"row {shown}, column '{column}'"


def _cell(text) -> str:
    return plausibility.shorten(str(text))


_PLAIN_COUNT = r"-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)"
_WHOLE_HINT = "give counts of people or events as whole numbers (no decimals, no text)"


def _whole(t: pd.DataFrame, column: str, path: Path, *, blank_ok: bool) -> pd.Series:
    """A column of counts: whole numbers written plainly (digits, thousands separators in groups of three:
    ``1498`` or ``1,498``; surrounding spaces are harmless), at least 0 and at most
    :data:`~cdp_analysis.data.plausibility.MAX_PEOPLE`."""
    text = t[column].str.strip()
    plain = text.str.fullmatch(_PLAIN_COUNT).fillna(False).astype(bool)
    bad = (text != "") & ~plain
    if bad.any():
        got = t.loc[bad, column].iloc[0]
        readable = pd.notna(pd.to_numeric(str(got).strip().replace(",", ""), errors="coerce"))
        decimal = readable and re.fullmatch(r"-?[0-9,]*\.[0-9]*", str(got).strip()) is not None
        hint = _WHOLE_HINT if not readable or decimal else (
            _WHOLE_HINT + ", written out in digits, e.g. 1498 or 1,498 (no exponent such as 1e3; commas only between "
                          "groups of three digits)")
        raise InputError(f"'{_cell(got)}' is not a whole number", file=path, where=_where(t, bad, column), hint=hint)
    v = pd.to_numeric(text.where(text != "").str.replace(",", "", regex=False), errors="coerce").astype(float)
    neg = v < 0
    if neg.any():
        raise InputError(f"a negative count ({_cell(t.loc[neg, column].iloc[0].strip())})", file=path,
                         where=_where(t, neg, column), hint="counts cannot be negative: check the export")
    large = v > plausibility.MAX_PEOPLE
    if large.any():
        raise InputError(f"'{_cell(t.loc[large, column].iloc[0].strip())}' is larger than "
                         f"{plausibility.MAX_PEOPLE:,}, more than England's adult population: not a real count",
                         file=path, where=_where(t, large, column),
                         hint="check the cell (digits typed twice, cells run together?)")
    if not blank_ok:
        blank = text == ""
        if blank.any():
            raise InputError("a count is missing", file=path, where=_where(t, blank, column),
                             hint="give 0 for none; leave out the row if the figure is not known")
    return v


#: What an analyst can do about a damaged file of their own.
OWN_HINT = "correct the file (keep the layout of data/templates/: one row per area, period and metric), then run again"


@by_file()
def _validated(path: Path, *, today=None) -> pd.DataFrame:
    """Every check of one local file that does not depend on the CDP (all but the area codes): ``area_code,
    period, metric_id, numerator, denominator, _row``. Memoised by the file's content."""
    t = read_csv_table(path, COLUMNS, own_hint=OWN_HINT)
    extra = [c for c in t.columns if c not in COLUMNS and c != "_row"]
    if extra:
        raise InputError(f"unknown column(s) {', '.join(repr(_cell(c)) for c in extra[:3])}"
                         + (f" and {len(extra) - 3} more" if len(extra) > 3 else ""), file=path,
                         where="header (line 1)", hint=_HINT)
    if t.empty:
        raise InputError("the file has a header but no rows", file=path, hint="add rows, or leave the file out of "
                         "'local_data'")
    for c in ("area_code", "period", "metric_id"):
        t[c] = t[c].str.strip()
    cat = catalogue().set_index("metric_id")
    local_ids = set(cat.index[cat["origin"] == "local"])
    unknown = ~t["metric_id"].isin(local_ids)
    if unknown.any():
        got = t.loc[unknown, "metric_id"].iloc[0]
        public = got in cat.index
        raise InputError(f"'{_cell(got)}' is {'a public metric, computed from published data' if public else 'not a local metric of the outcomes catalogue'}",
                         file=path, where=_where(t, unknown, "metric_id"),
                         hint=("leave it out: the dashboard computes it" if public else
                               "use a metric_id listed in data/templates/README.md (data/catalogue/outcomes_metrics.csv)"))
    cal, fin = t["period"].str.match(_CALENDAR), t["period"].str.extract(_FINANCIAL)
    start, end = pd.to_numeric(fin[0], errors="coerce"), pd.to_numeric(fin[1], errors="coerce")
    fin_ok = fin[0].notna() & ((start % 100 + 1) % 100 == end)
    bad_period = ~(cal | fin_ok)
    if bad_period.any():
        raise InputError(f"period '{_cell(t.loc[bad_period, 'period'].iloc[0])}' is neither a calendar year (e.g. 2023) "
                         "nor a financial year (e.g. 2023/24)", file=path, where=_where(t, bad_period, "period"),
                         hint=_HINT)
    early = ~plausibility.period_starts_from(t["period"], plausibility.LOCAL_FIRST_YEAR)
    if early.any():
        raise InputError(f"period '{t.loc[early, 'period'].iloc[0]}' is before {plausibility.LOCAL_FIRST_YEAR}: no "
                         "partnership's own figures go back so far", file=path, where=_where(t, early, "period"),
                         hint="check the year (e.g. 2019 typed as 1919)")
    today = today or plausibility.production_date()
    future = ~plausibility.period_ended(t["period"], today)
    if future.any():
        got = t.loc[future, "period"].iloc[0]
        ends = plausibility.period_span(got)[1]
        raise InputError(f"period '{got}' ends on {ends:%-d %B %Y}, after the report's production date "
                         f"({today:%-d %B %Y}): figures for a year not yet over cannot be complete", file=path,
                         where=_where(t, future, "period"),
                         hint="check the year; give figures only for years that have ended (a calendar year on 31 "
                              "December, a financial year on 31 March)")
    kinds_per_metric = t.assign(k=np.where(cal, "calendar", "financial")).groupby("metric_id")["k"].nunique()
    mixed = kinds_per_metric[kinds_per_metric > 1]
    if len(mixed):
        m = t["metric_id"] == mixed.index[0]
        raise InputError(f"metric '{mixed.index[0]}' mixes calendar and financial years", file=path,
                         where=_where(t, m, "period"), hint="give each metric in one kind of period")
    num = _whole(t, "numerator", path, blank_ok=False)
    den = _whole(t, "denominator", path, blank_ok=True)
    kind = t["metric_id"].map(cat["kind"])
    missing_den = (kind == "proportion") & den.isna()
    if missing_den.any():
        raise InputError(f"'{t.loc[missing_den, 'metric_id'].iloc[0]}' is a proportion: its denominator is missing",
                         file=path, where=_where(t, missing_den, "denominator"),
                         hint="give the number of people the numerator is out of (see data/templates/README.md)")
    zero_den = den == 0
    if zero_den.any():
        raise InputError("a denominator is 0", file=path, where=_where(t, zero_den, "denominator"),
                         hint="a proportion needs at least one person in its denominator; leave out the row")
    over = den.notna() & (num > den)
    if over.any():
        r = t[over].iloc[0]
        raise InputError(f"numerator {_cell(r['numerator'].strip())} is larger than denominator "
                         f"{_cell(r['denominator'].strip())}", file=path, where=_where(t, over, "numerator"),
                         hint="the numerator counts people within the denominator: check the columns are not swapped")
    dup = t.duplicated(["area_code", "period", "metric_id"], keep=False)
    if dup.any():
        r = t[dup].iloc[0]
        raise InputError(f"{r['metric_id']} for {_cell(r['area_code'])} in {r['period']} is given twice", file=path,
                         where=_where(t, dup, "metric_id"), hint="keep one row per area, period and metric")
    return pd.DataFrame({"area_code": t["area_code"], "period": t["period"], "metric_id": t["metric_id"],
                         "numerator": num, "denominator": den, "_row": t["_row"]})


def _check_together(t: pd.DataFrame) -> None:
    """Checks across the rows of every local file of a run (``_file`` names each row's file): a metric in
    one kind of period, parts (``part_of`` in the catalogue) not adding up to more than their total, and no
    area's count larger than England's for the same metric and period."""
    kinds = t["period"].map(plausibility.period_kind)
    mixed = kinds.groupby(t["metric_id"]).transform("nunique") > 1
    if mixed.any():
        metric = t.loc[mixed, "metric_id"].iloc[0]
        rows = t[t["metric_id"] == metric]
        other = rows[kinds[rows.index] != kinds[rows.index[0]]].iloc[0]
        raise InputError(f"metric '{metric}' mixes calendar and financial years: '{rows['period'].iloc[0]}' in "
                         f"{rows['_file'].iloc[0]}, row {rows['_row'].iloc[0]}", file=Path(other["_file"]),
                         where=f"row {other['_row']}, column 'period'", hint="give each metric in one kind of period")
    cat = catalogue().set_index("metric_id")
    part_of = t["metric_id"].map(cat["part_of"]).fillna("")
    parts = t[part_of != ""].assign(total_id=part_of[part_of != ""])
    if len(parts):
        totals = {(r["area_code"], r["period"], r["metric_id"]): r for r in t.to_dict("records")}
        for (area, period, total_id), g in parts.groupby(["area_code", "period", "total_id"], sort=False):
            total = totals.get((area, period, total_id))
            if total is not None and g["numerator"].sum() > total["numerator"]:
                raise InputError(f"the parts of '{total_id}' for {_cell(area)} in {period} "
                                 f"({', '.join(g['metric_id'])}) add up to {g['numerator'].sum():,.0f}, more than its "
                                 f"{total['numerator']:,.0f}", file=Path(total["_file"]),
                                 where=f"row {total['_row']}, column 'numerator'",
                                 hint="a part cannot be larger than its total: check these rows' figures and metric_ids")
    england = t[t["area_code"] == ENGLAND_CODE].set_index(["metric_id", "period"])
    if len(england):
        for column in ("numerator", "denominator"):
            e = pd.Series(list(zip(t["metric_id"], t["period"])), index=t.index).map(england[column])
            over = (t["area_code"] != ENGLAND_CODE) & e.notna() & (t[column] > e)
            if over.any():
                r = t[over].iloc[0]
                raise InputError(f"{column} {r[column]:,.0f} of {r['metric_id']} for {_cell(r['area_code'])} in "
                                 f"{r['period']} is larger than England's {e[over].iloc[0]:,.0f}",
                                 file=Path(r["_file"]), where=f"row {r['_row']}, column '{column}'",
                                 hint="an area's count is part of England's: check the figures and the area_code")


def read_local(path: Path, *, allowed_areas: dict[str, str], areas_are: str | None = None,
               today=None) -> pd.DataFrame:
    """Read and validate one local file (see the module docstring).

    Parameters
    ----------
    path : Path
        The CSV file.
    allowed_areas : dict
        Area codes the file may hold → their names (the CDP's members, region(s) and England).
    areas_are : str, optional
        What those areas are, for the message about any other code (default: 'a member of the CDP, its
        region or England').
    today : datetime.date, optional
        The production date (default :func:`~cdp_analysis.data.plausibility.production_date`).

    Returns
    -------
    DataFrame
        ``area_code, area_name, period, metric_id, numerator, denominator, origin, source`` plus ``_row``;
        ``origin`` is 'local' or 'made-up example', ``source`` the file as given.
    """
    path = Path(path)
    t = _validated(path, today=today)
    bad_area = ~t["area_code"].isin(allowed_areas)
    if bad_area.any():
        if areas_are is None:
            hint = f"use one of: {', '.join(f'{c} ({n})' for c, n in allowed_areas.items())}"
        else:
            hint = "use the code of a member of the CDP, its region or England (E92000001); `cdp areas` lists them"
        raise InputError(f"area '{_cell(t.loc[bad_area, 'area_code'].iloc[0])}' is not "
                         f"{areas_are or 'a member of the CDP, its region or England'}", file=path,
                         where=_where(t, bad_area, "area_code"), hint=hint)
    _check_together(t.assign(_file=str(path)))
    origin = "made-up example" if is_made_up(path) else "local"
    rel = path.resolve().relative_to(project_root()).as_posix() if project_root() in path.resolve().parents else str(path)
    return pd.DataFrame({"area_code": t["area_code"], "area_name": t["area_code"].map(allowed_areas),
                         "period": t["period"], "metric_id": t["metric_id"], "numerator": t["numerator"].astype(float),
                         "denominator": t["denominator"].astype(float), "origin": origin,
                         "source": f"{rel} [{'MADE-UP example data' if origin != 'local' else 'local data supplied by the partnership'}]",
                         "_row": t["_row"]})


def read_all(paths: list[Path], *, allowed_areas: dict[str, str], areas_are: str | None = None,
             today=None) -> pd.DataFrame:
    """Every local file of a run, together; a metric for an area and period given in two files, a metric in
    calendar years in one file and financial years in another, parts larger than their total and counts
    larger than England's across files are refused."""
    frames = [read_local(p, allowed_areas=allowed_areas, areas_are=areas_are, today=today).assign(_file=str(p))
              for p in paths]
    if not frames:
        return pd.DataFrame(columns=["area_code", "area_name", "period", "metric_id", "numerator", "denominator",
                                     "origin", "source", "_row", "_file"])
    t = pd.concat(frames, ignore_index=True)
    dup = t.duplicated(["area_code", "period", "metric_id"], keep="first")
    if dup.any():
        r = t[dup].iloc[0]
        first = t[(t["area_code"] == r["area_code"]) & (t["period"] == r["period"])
                  & (t["metric_id"] == r["metric_id"])].iloc[0]
        raise InputError(f"{r['metric_id']} for {r['area_code']} in {r['period']} is also in {first['_file']}",
                         file=Path(r["_file"]), where=f"row {r['_row']}, column 'metric_id'",
                         hint="give each figure in one local file only")
    _check_together(t)
    return t
