"""OHID Fingertips CSV exports: one generic loader for any indicator file an analyst downloads.

Fingertips (https://fingertips.phe.org.uk) exports an indicator's data as CSV in one of two layouts, both read
here, column by column:

* 26 columns (older downloads): ``Indicator ID`` … ``Compared to Region value or percentiles``, ``Time period
  Sortable``, ``New data``, ``Compared to goal``;
* 27 columns (current API downloads): the same with ``Column not used`` in place of the region comparison and a
  final ``Time period range``.

:func:`read_export` returns one row per published value in the suite's snake_case names (the first columns of
``docs/output-schema.md``): ``indicator_id, indicator_name, parent_code, parent_name, area_code, area_name,
area_type, sex, age, category_type, category, time_period, time_period_sortable, value, lower_ci, upper_ci,
lower_ci_998, upper_ci_998, count, denominator, value_note, recent_trend, compared_to_england,
compared_to_region, new_data, compared_to_goal, time_period_range`` — Fingertips' own limits, significance
and trend columns kept as published — plus ``_row`` (line in the file) and ``source``.

Registered exports in ``data/raw/fingertips/`` are read by :func:`exports`; an analyst's own download is read by
:func:`read_export` with its path, and gets the same checks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register, sources
from .readers import by_file, fresh_copy_hint, is_registered_copy, read_csv_table, to_plain_numbers

log = logging.getLogger(__name__)

EXPORT = register.FileKind("fingertips_export", "fingertips", "indicator_*.csv", one_per="indicator")

_COMMON = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type", "Sex",
           "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit",
           "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator", "Value note", "Recent Trend",
           "Compared to England value or percentiles"]
#: The two layouts Fingertips exports, by number of columns.
LAYOUTS = {
    26: [*_COMMON, "Compared to Region value or percentiles", "Time period Sortable", "New data", "Compared to goal"],
    27: [*_COMMON, "Column not used", "Time period Sortable", "New data", "Compared to goal", "Time period range"],
}
_SNAKE = {"Indicator ID": "indicator_id", "Indicator Name": "indicator_name", "Parent Code": "parent_code",
          "Parent Name": "parent_name", "Area Code": "area_code", "Area Name": "area_name", "Area Type": "area_type",
          "Sex": "sex", "Age": "age", "Category Type": "category_type", "Category": "category",
          "Time period": "time_period", "Value": "value", "Lower CI 95.0 limit": "lower_ci",
          "Upper CI 95.0 limit": "upper_ci", "Lower CI 99.8 limit": "lower_ci_998", "Upper CI 99.8 limit": "upper_ci_998",
          "Count": "count", "Denominator": "denominator", "Value note": "value_note", "Recent Trend": "recent_trend",
          "Compared to England value or percentiles": "compared_to_england",
          "Compared to Region value or percentiles": "compared_to_region", "Column not used": "compared_to_region",
          "Time period Sortable": "time_period_sortable", "New data": "new_data", "Compared to goal": "compared_to_goal",
          "Time period range": "time_period_range"}
_NUMBERS = ["value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator"]
KEY = ["indicator_id", "area_code", "sex", "age", "category_type", "category", "time_period"]
#: What an analyst can do about a damaged download of their own (a file in data/raw gets the hint to copy it again).
OWN_HINT = ("download the indicator again from Fingertips ('Export' > CSV, or `cdp fetch fingertips <indicator ID>`) "
            "and name the new file unchanged; do not edit or re-save it in a spreadsheet")
#: The same for a well-formed but implausible value in an analyst's own download.
OWN_RULE_HINT = ("an export from Fingertips never fails this rule: download the indicator again (CSV) and name the new "
                 "file unchanged; if a fresh download still fails it, ask OHID about it")


def _limits_bracket(t: pd.DataFrame, lo: str, hi: str) -> pd.Series:
    v = t["value"]
    return t[lo].isna() | t[hi].isna() | v.isna() | ((t[lo] <= v + 1e-9) & (v <= t[hi] + 1e-9))


#: Plausibility rules of any export.
RULES = (
    plausibility.Rule("the 95% limits bracket the value", "Value", lambda t: _limits_bracket(t, "lower_ci", "upper_ci"),
                      shown="value"),
    plausibility.Rule("the 99.8% limits bracket the value", "Value",
                      lambda t: _limits_bracket(t, "lower_ci_998", "upper_ci_998"), shown="value"),
    plausibility.Rule("a count is not negative", "Count", lambda t: t["count"].isna() | (t["count"] >= 0), shown="count"),
    plausibility.Rule("a denominator is not negative", "Denominator",
                      lambda t: t["denominator"].isna() | (t["denominator"] >= 0), shown="denominator"),
    plausibility.Rule("an area code is an ONS code (a letter and eight digits, e.g. E10000024)", "Area Code",
                      lambda t: t["area_code"].astype(str).str.fullmatch(r"[EWSNK][0-9]{8}"), shown="area_code"),
    plausibility.Rule("sex is Persons, Male or Female", "Sex", lambda t: t["sex"].isin({"Persons", "Male", "Female"}),
                      shown="sex"),
    plausibility.Rule("the sortable period starts in the period's first year", "Time period Sortable",
                      lambda t: t["time_period_sortable"].isna()
                      | (t["time_period_sortable"] // 10000).astype("Int64").astype(str).eq(
                          t["time_period"].str.extract(r"((?:19|20)[0-9][0-9])", expand=False).fillna("")),
                      shown="time_period_sortable"),
    plausibility.Rule("each indicator, area, sex, age, category and period is listed once", "Area Code",
                      lambda t: ~t.duplicated(KEY), shown="area_code"),
    plausibility.Rule("a period has ended by the day the report is produced", "Time period",
                      lambda t: plausibility.period_ended(t["time_period"], t.attrs.get("today")
                                                          or plausibility.production_date())
                      & (t["time_period_sortable"].isna() | (t["time_period_sortable"] // 10000 <= (
                          t.attrs.get("today") or plausibility.production_date()).year)),
                      shown="time_period"),
)


@by_file()
def read_export(path: str | Path, *, today=None) -> pd.DataFrame:
    """Read one Fingertips CSV export (26- or 27-column layout), validated column by column.

    Memoised by the file's content (:func:`~cdp_analysis.data.readers.by_file`). ``today`` is the production
    date (default :func:`~cdp_analysis.data.plausibility.production_date`): a period that ends after it is
    refused.

    Raises
    ------
    InputError
        For a file of another layout (naming the columns that differ, never other text of the file), a row
        cut short, a value that is not a number written
        plainly (a Count or Denominator such as ``1e3`` or ``1,1,8``), a Count or Denominator larger than
        :data:`~cdp_analysis.data.plausibility.MAX_FINGERTIPS`, or a row failing a plausibility rule
        (:data:`RULES`), with the file, its own line and the column.
    """
    path = Path(path)
    hint = fresh_copy_hint(path, OWN_HINT)
    raw = read_csv_table(path, ["Indicator ID", "Area Code", "Time period", "Value"], expected=LAYOUTS[27] + LAYOUTS[26],
                         own_hint=OWN_HINT)
    columns = [c for c in raw.columns if c != "_row"]
    layout = LAYOUTS.get(len(columns))
    if layout is None or columns != layout:
        expected = layout or LAYOUTS[27]
        differ = [f"'{c}'" for c in expected if c not in columns][:4] or [f"{len(columns)} columns"]
        raise InputError(f"not a Fingertips export layout: {len(columns)} columns (expected 26 or 27); missing or "
                         f"renamed: {', '.join(differ)}", file=path, where="header (line 1)",
                         hint="download the indicator again from Fingertips ('Export' > CSV, or the API's CSV), "
                              "unchanged")
    heading = {v: k for k, v in _SNAKE.items() if k in columns}
    numbers = {}
    for col in [*_NUMBERS, "time_period_sortable"]:  # errors name the file's column
        count = col in ("count", "denominator")
        numbers[col] = to_plain_numbers(raw, heading[col], file=path, hint=hint, whole=col == "time_period_sortable",
                                        exponent=not count, bound=plausibility.MAX_FINGERTIPS if count else None,
                                        bound_why="more than England's whole population over 17 years" if count else "")
    t = raw.rename(columns=_SNAKE).assign(**numbers)
    text = [c for c in t.columns if c not in _NUMBERS and c not in ("time_period_sortable", "_row")]
    t[text] = t[text].apply(lambda s: s.astype(str).str.strip())
    if "compared_to_region" not in t.columns:
        t["compared_to_region"] = ""
    if "time_period_range" not in t.columns:
        t["time_period_range"] = ""
    t.attrs["today"] = today
    plausibility.check(t, RULES, file=path, hint=plausibility.HINT if hint != OWN_HINT else OWN_RULE_HINT)
    t.attrs.clear()
    try:
        source = register.citation_of(path)
    except Exception:  # noqa: BLE001 - an analyst's own file outside data/raw: cite its path
        source = f"{path} [analyst's own export]"
    return t.assign(source=source)


def read_export_for(path: str | Path, indicators: dict[str, str], *, chapter: str, key: str,
                    proportions: bool = False, financial_years_from: int | None = None, today=None) -> pd.DataFrame:
    """An analyst's Fingertips export named for a chapter that reads only ``indicators`` (ID → what it
    measures): :func:`read_export`'s checks, then the chapter's own.

    Parameters
    ----------
    indicators : dict
        The indicator IDs the chapter reads (e.g. ``{'93532': 'alcohol', '93517': 'opiates and/or crack'}``).
    chapter, key : str
        The chapter's and the parameter's names, for the message (``'treatment gap'``, ``'treatment_gap:
        fingertips'``).
    proportions : bool
        The indicators are percentages of their Denominator: the Count is at most the Denominator, and the
        Value is 100 × Count ÷ Denominator (to half a percentage point; Fingertips rounds both).
    financial_years_from : int, optional
        Every period is a single financial year (``2020/21``) starting in this year or later (e.g. 2005:
        NDTMS's first year), so that no indicator mixes calendar and financial years.

    Raises
    ------
    InputError
        An export without rows or without a single Value, an export holding another indicator (naming the ID
        found and the IDs the chapter reads), or a row failing one of the checks above, naming the file, its
        own line and the column.
    """
    path = Path(path)
    t = read_export(path, today=today)
    hint = fresh_copy_hint(path, OWN_HINT)
    if t.empty:
        raise InputError("the export has a header but no rows", file=path, hint=hint)
    if t["value"].isna().all():
        raise InputError("every cell of 'Value' is empty: the export holds no data", file=path,
                         where="column 'Value'",
                         hint=("download the indicator again for areas and periods Fingertips publishes"
                               if hint == OWN_HINT else hint))
    ids = ", ".join(f"{i} ({what})" for i, what in indicators.items())
    other = ~t["indicator_id"].isin(list(indicators))
    if other.any():
        first = t[other].iloc[0]
        raise InputError(f"an export of indicator {plausibility.shorten(first['indicator_id'])}, which the {chapter} "
                         f"chapter does not read: it reads indicator(s) {ids}", file=path,
                         where=f"row {int(first['_row'])}, column 'Indicator ID'",
                         hint=f"name only exports of indicator(s) {', '.join(indicators)} under '{key}' (download "
                              f"them from Fingertips, e.g. `cdp fetch fingertips {next(iter(indicators))}`), or leave "
                              "this file out")
    rules = []
    if proportions:
        rules += [
            plausibility.Rule("the Count is at most the Denominator (it counts people within it)", "Count",
                              lambda d: d["count"].isna() | d["denominator"].isna() | (d["count"] <= d["denominator"]),
                              shown="count"),
            plausibility.Rule("the Value is 100 × Count ÷ Denominator (to 0.5 percentage points)", "Value",
                              lambda d: d["value"].isna() | d["count"].isna() | ~(d["denominator"] > 0)
                              | ((d["value"] - 100 * d["count"] / d["denominator"]).abs() <= 0.5), shown="value"),
        ]
    if financial_years_from is not None:
        rules += [
            plausibility.Rule("every period is a single financial year written YYYY/YY (as the chapter pairs them "
                              "with NDTMS years)", "Time period",
                              lambda d: d["time_period"].str.fullmatch(r"[0-9]{4}/[0-9][0-9]").fillna(False).astype(bool)
                              & (d["time_period"].map(plausibility.period_kind) == "financial"), shown="time_period"),
            plausibility.Rule(f"a period is {financial_years_from}/{(financial_years_from + 1) % 100:02d} or later",
                              "Time period", lambda d: plausibility.period_starts_from(
                                  d["time_period"], financial_years_from, financial=True), shown="time_period"),
        ]
    plausibility.check(t, rules, file=path, hint=plausibility.HINT if is_registered_copy(path) else OWN_RULE_HINT)
    return t


@memoised()
def exports() -> dict[str, pd.DataFrame]:
    """Every registered export in ``data/raw/fingertips/``, by indicator ID."""
    out = {}
    for path in register.files_of_kind(EXPORT.kind):
        t = read_export(path)
        for ident, part in t.groupby("indicator_id", sort=True):
            if ident in out:
                raise InputError(f"indicator {ident} is in two exports", file=path,
                                 hint="keep one export per indicator in data/raw/fingertips")
            out[ident] = part.reset_index(drop=True)
    return out


def indicator(ident: int | str) -> pd.DataFrame:
    """The rows of one registered indicator (e.g. 91380)."""
    found = exports()
    key = str(ident)
    if key not in found:
        raise InputError(f"no Fingertips export for indicator {key} in data/raw/fingertips",
                         hint=f"held: {', '.join(sorted(found))}; download the indicator's CSV and register it")
    return found[key]


def indicators_in_use() -> list[int]:
    """The Fingertips indicators the suite reads: those of the held exports (91380, 93517, 93532) and every
    ``fingertips_id`` of the outcomes catalogue."""
    import re

    from .local_data import catalogue

    held = {int(m.group(1)) for p in register.files_of_kind(EXPORT.kind, required=False)
            if (m := re.match(r"indicator_(\d+)", p.name))}
    listed = {int(float(i)) for i in catalogue()["fingertips_id"] if str(i).strip() not in ("", "nan")}
    return sorted(held | listed)


def indicator_of(path: Path) -> str:
    """The indicator ID an export's file name gives ('indicator_93517_…', also after a prefix as ``cdp update``
    names its files, '<sha>-indicator_93517_…' → '93517'); '' if none."""
    import re

    m = re.search(r"(?:^|-)indicator_(\d+)", Path(path).name)
    return m.group(1) if m else ""


DATASET = register.Dataset(name="fingertips", title="OHID Fingertips indicator exports", kinds=(EXPORT,),
                           load=exports, rules=RULES,
                           source=sources.FingertipsIndicators(ids=indicators_in_use, kind=EXPORT.kind))


# --- downloads from the Fingertips API (``cdp fetch fingertips``) ----------------------------------------

#: The public Fingertips API (as fingertips-py uses it) and the endpoint that returns an indicator's CSV export.
API = "https://fingertips.phe.org.uk/api/"
_ALL_DATA = "all_data/csv/by_indicator_id?indicator_ids={ids}&child_area_type_id={area_type}&parent_area_type_id=15"
#: Fingertips area type of upper-tier local authorities (counties and unitary authorities, from April 2023).
UPPER_TIER_AREA_TYPE = 502


def user_folder() -> Path:
    """Where downloaded exports are kept: ``data/user/fingertips/`` in the project (git-ignored)."""
    from ..paths import project_root

    return project_root() / "data" / "user" / "fingertips"


def downloaded(folder: Path | None = None) -> list[Path]:
    """Exports downloaded with :func:`fetch` (each with its ``.provenance.json``), in name order."""
    folder = folder or user_folder()
    return sorted(p for p in folder.glob("indicator_*.csv") if p.with_suffix(".provenance.json").is_file())


def fetch(indicator_ids: list[int], *, area_type: int = UPPER_TIER_AREA_TYPE, folder: Path | None = None,
          api: str = API, timeout: float = 60) -> list[Path]:
    """Download indicators' CSV exports from the Fingertips API into ``folder`` with their provenance.

    Each indicator is one file ``indicator_<id>_area_type_<area_type>.csv``: the API's bytes unchanged, written
    only after they pass :func:`read_export` (layout, numbers, plausibility), with ``<file>.provenance.json``
    (URL, time, SHA-256, licence). The next ``cdp run`` reads them (:func:`downloaded`).

    Raises
    ------
    InputError
        The server answered with an error status, or the body is not a Fingertips export (nothing is written).
    CannotRunError
        The server cannot be reached (offline).
    """
    import datetime
    import hashlib
    import json
    import tempfile

    from ..files import write_atomic
    from .web import Client

    folder = folder or user_folder()
    client = Client(timeout=timeout, name="the Fingertips API",
                    offline_hint="check the internet connection (fetch and update are the only commands that need "
                                 "it), or download the CSV in a browser and name it under 'treatment_gap: fingertips'",
                    status_hint="check the indicator ID and area type on https://fingertips.phe.org.uk; nothing was "
                                "written")
    written = []
    for ident in indicator_ids:
        url = api.rstrip("/") + "/" + _ALL_DATA.format(ids=int(ident), area_type=int(area_type))
        body = client.get(url, what=f" for indicator {ident}").content
        with tempfile.TemporaryDirectory() as tmp:
            trial = Path(tmp) / f"indicator_{ident}.csv"
            trial.write_bytes(body)
            try:
                t = read_export(trial)
            except InputError as exc:
                raise InputError(f"the Fingertips API's answer for indicator {ident} is not an indicator export "
                                 f"({exc.problem})", where=url, hint="try again later; nothing was written") from None
        if t.empty or set(t["indicator_id"]) != {str(ident)}:
            raise InputError(f"the Fingertips API's answer holds no rows of indicator {ident}", where=url,
                             hint=f"check the indicator is published for area type {area_type}; nothing was written")
        path = folder / f"indicator_{ident}_area_type_{area_type}.csv"
        provenance = {"indicator_id": str(ident), "indicator_name": t["indicator_name"].iloc[0], "url": url,
                      "area_type_id": int(area_type),
                      "downloaded_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                      "sha256": hashlib.sha256(body).hexdigest(), "rows": len(t),
                      "publisher": "OHID (Fingertips)", "licence": "Open Government Licence v3.0"}
        write_atomic(path, body)
        write_atomic(path.with_suffix(".provenance.json"), (json.dumps(provenance, indent=2) + "\n").encode())
        log.info("downloaded indicator %s (%d rows) to %s", ident, len(t), path)
        written.append(path)
    return written
