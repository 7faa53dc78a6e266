"""Tidy output tables: one long schema for every chapter, modelled on the OHID Fingertips CSV export.

Every table a chapter writes has one value per row and these columns, in this order (documented, with
every column's meaning and vocabulary, in ``docs/output-schema.md``)::

    indicator_id, indicator_name, area_code, area_name, area_type, sex, age, category_type, category,
    time_period, time_period_sortable, value, lower_ci, upper_ci, lower_ci_998, upper_ci_998, count,
    denominator, value_note, compared_to_england,            <- Fingertips' columns, in snake_case
    area_role, area_members, measure, unit, source_cell,      <- the suite's
    [the chapter's breakdown columns, other limits, geography_basis],   <- as the chapter's contract names them
    source

A column that does not apply is blank, never dropped. ``area_role`` is 'cdp' (the partnership total),
'member' (one area of a multi-area CDP), 'region', 'england' or 'neighbour'. A multi-area CDP has no ONS
code: its ``area_code`` is its slug, ``area_type`` 'Combating Drugs Partnership' and ``area_members`` its
members' codes. ``source`` is the data-register citation of the file(s) the row was computed from
(``<path in data/raw> [<edition>]``, several joined by '; '); ``source_cell`` the spreadsheet cell its value was
read from (``Table 1!E123``: sheet, then the cell in Excel's A1 notation), the cells summed joined by ' + ' in the
order of the areas' codes, blank where the value was not read from one cell or a sum of cells (so far only the
ONS drug-deaths workbook's loader keeps cells). It is written to ``tables/<name>.csv`` only, not to the
Fingertips-headed copy.

Chapters build tables with at least ``area_code, area_name, area_role, time_period, measure, value, unit,
source``; :func:`conform` fills the rest (blank, or derived: ``time_period_sortable`` from the period's
first year, ``indicator_id``/``indicator_name`` from ``measure`` unless the chapter sets them, ``age``
from an ``age_group``/``age_band`` column, ``area_type`` from the area register). :func:`save_table` writes
``tables/<name>.csv`` and the same rows with Fingertips' own headings as ``fingertips/<name>.csv``. Rows
are sorted in natural order (ages 0, 1, 2 … 10, then '90+'; periods in time order) and floats written with
a fixed format, so reruns are byte-identical. A text cell that a spreadsheet would run as a formula (beginning
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, e.g. a CDP name from a params file) is written with a
leading ``'`` (OWASP; :func:`cdp_analysis.output.escape.csv_frame`); numbers are written as they are.

:func:`from_stats` is the one adapter from :mod:`cdp_analysis.stats` results (``lowercl``/``uppercl``,
``lower95_0cl`` …, ``sii_lower95_0cl`` …) to the tidy ``lower_ci``/``upper_ci`` columns.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..areas import geography
from ..files import write_atomic
from ..memo import content_digest, memoised
from . import escape, provenance

log = logging.getLogger(__name__)

#: Fingertips' columns, snake_case, in the export's order (its own headings: :data:`FINGERTIPS_HEADINGS`).
FINGERTIPS_COLUMNS = ["indicator_id", "indicator_name", "area_code", "area_name", "area_type", "sex", "age",
                      "category_type", "category", "time_period", "time_period_sortable", "value", "lower_ci",
                      "upper_ci", "lower_ci_998", "upper_ci_998", "count", "denominator", "value_note",
                      "compared_to_england"]
#: The suite's own columns every table has, after Fingertips'. ``source_cell``: the spreadsheet cell(s) the value
#: was read from ('Table 1!E123', several summed joined by ' + '; blank where it was not read from a cell), here
#: among the columns every table has at the same place, so that tables of every chapter stack.
SUITE_COLUMNS = ["area_role", "area_members", "measure", "unit", "source_cell"]
#: Every column of every table (the chapter's breakdown columns come between these and ``source``).
SCHEMA = [*FINGERTIPS_COLUMNS, *SUITE_COLUMNS, "source"]
#: What a chapter must supply; :func:`conform` derives or blanks the rest.
REQUIRED = ["area_code", "area_name", "area_role", "time_period", "measure", "value", "unit", "source"]
ROLE_ORDER = {"cdp": 0, "member": 1, "place": 2, "region": 3, "england": 4, "national": 5, "neighbour": 6}
SEXES = ("Persons", "Male", "Female")
#: ``compared_to_england`` values, Fingertips' words ('' where no comparison applies).
COMPARISONS = ("", "Better", "Similar", "Worse", "Higher", "Lower", "Not compared")
FLOAT_FORMAT = "%.10g"

_SEX_WORDS = {"persons": "Persons", "males": "Male", "male": "Male", "females": "Female", "female": "Female"}
_NUMERIC = ["time_period_sortable", "value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998", "count",
            "denominator"]


def indicator_id(measure: str) -> str:
    """The suite's identifier of an indicator without a Fingertips ID: 'cdp.' + the measure's slug.

    ``'percent of population'`` → ``'cdp.percent-of-population'``. Numeric IDs are OHID Fingertips'.
    """
    return "cdp." + geography.slugify(measure)


def indicator_name(measure: str, unit: str) -> str:
    """'Percent of population (%)' for measure 'percent of population', unit '%'; the unit is left out when
    the measure already says it ('IMD rank …', unit 'rank')."""
    name = measure[:1].upper() + measure[1:]
    return name if not unit or unit.lower() in measure.lower() else f"{name} ({unit})"


def time_period_sortable(time_period: pd.Series) -> pd.Series:
    """Fingertips' sortable period: the period's first year × 10000 ('mid-2022' → 20220000, '2018/19' →
    20180000, '2019 - 21' → 20190000, 'mid-2020 to mid-2022' → 20200000)."""
    year = time_period.astype(str).str.extract(r"((?:19|20)\d\d)", expand=False)
    if year.isna().any():
        bad = time_period[year.isna()].iloc[0]
        raise ValueError(f"time period '{bad}' has no year: label periods with their (first) year")
    return year.astype("int64") * 10000


#: ``attrs`` key of a table :func:`conform` returned: the digest of its content then
#: (:func:`cdp_analysis.memo.content_digest`), so that conforming it again (a chapter conforms what it builds, and
#: :func:`save_table` conforms what it writes) is a copy, unless the table was changed since.
CONFORMED = "tidy_conformed"


def conform(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every schema column, derived where it can be and blank where it does not apply.

    Rows come back in the order they are written (:func:`to_csv_text`). Idempotent: a table this returned, not
    changed since (:data:`CONFORMED`), comes back as a copy without the work. ``sex`` defaults to 'Persons' (the
    data layer's 'males'/'females' become 'Male'/'Female'); ``age`` is taken from ``age_group`` or ``age_band`` if
    the chapter has one, else 'All ages'.
    """
    if table.attrs.get(CONFORMED) and table.attrs[CONFORMED] == _digest(table):
        return table.copy()
    out = _conformed(table)
    out.attrs[CONFORMED] = _digest(out)
    return out


def _digest(table: pd.DataFrame) -> str:
    """:func:`content_digest`, or '' for a table holding cells that cannot be hashed (lists)."""
    try:
        return content_digest(table)
    except TypeError:
        return ""


def _conformed(table: pd.DataFrame) -> pd.DataFrame:
    t = table.copy()
    missing = [c for c in REQUIRED if c not in t.columns]
    if missing:
        raise ValueError(f"a tidy table needs column(s) {missing}")
    unit = t["unit"].fillna("").astype(str)
    if "indicator_id" not in t.columns:
        t["indicator_id"] = t["measure"].map(indicator_id)
    if "indicator_name" not in t.columns:
        t["indicator_name"] = [indicator_name(m, u) for m, u in zip(t["measure"], unit)]
    if "area_type" not in t.columns:
        t["area_type"] = ""
    blank_type = t["area_type"].isna() | (t["area_type"] == "")
    t.loc[blank_type, "area_type"] = geography.area_type_of(t.loc[blank_type, "area_code"])
    t["sex"] = (t["sex"].map(lambda v: _SEX_WORDS.get(str(v).lower(), v)) if "sex" in t.columns else "Persons")
    if "age" not in t.columns:
        source = next((c for c in ("age_group", "age_band") if c in t.columns), None)
        t["age"] = t[source] if source else "All ages"
    t["time_period_sortable"] = time_period_sortable(t["time_period"])
    for col in SCHEMA:
        if col not in t.columns:
            t[col] = np.nan if col in _NUMERIC else ""
    return _sorted_rows(order_columns(t))


def check_tidy(table: pd.DataFrame, name: str) -> None:
    """Raise ``ValueError`` naming the table and column if ``table`` does not follow the schema.

    Checks: every schema column present; ``area_role``, ``sex`` and ``compared_to_england`` in their
    vocabularies; ``area_type`` filled; a CDP row that is not an ONS area lists its ``area_members``; no
    area code made up by joining codes ('E06000061+E06000062'); a row without a value says why in
    ``value_note`` (a publisher's marker such as ONS's ':', or 'too few events'); ``source_cell`` blank or
    cells 'Sheet!A1' joined by ' + '.
    """
    missing = [c for c in SCHEMA if c not in table.columns]
    if missing:
        raise ValueError(f"table '{name}' lacks schema column(s) {missing} (see docs/output-schema.md)")
    checks = [("area_role", set(ROLE_ORDER)), ("sex", set(SEXES)), ("compared_to_england", set(COMPARISONS))]
    for column, allowed in checks:
        bad = set(table[column].fillna("").unique()) - allowed
        if bad:
            raise ValueError(f"table '{name}' has unknown {column} values {sorted(map(str, bad))}; "
                             f"allowed: {sorted(allowed)}")
    joined = table["area_code"].astype(str).str.contains(r"[+&,]")
    if joined.any():
        raise ValueError(f"table '{name}' has a made-up area code '{table.loc[joined, 'area_code'].iloc[0]}'; "
                         "a multi-area CDP is its slug with area_members listing its members")
    if (table["area_type"].fillna("") == "").any():
        raise ValueError(f"table '{name}' has rows without an area_type")
    cdp = table["area_type"] == geography.CDP_AREA_TYPE
    if (table.loc[cdp, "area_members"].fillna("") == "").any():
        raise ValueError(f"table '{name}' has Combating Drugs Partnership rows without area_members")
    silent = table["value"].isna() & (table["value_note"].fillna("") == "")
    if silent.any():
        raise ValueError(f"table '{name}' has rows without a value and without a value_note saying why "
                         f"(first: {table.loc[silent, 'measure'].iloc[0]}, {table.loc[silent, 'area_name'].iloc[0]})")
    cells = table["source_cell"].fillna("").astype(str)
    odd = (cells != "") & ~cells.str.fullmatch(_CELLS)
    if odd.any():
        raise ValueError(f"table '{name}' has a source_cell '{cells[odd].iloc[0]}' that is not a cell 'Sheet!A1' "
                         "or cells joined by ' + '")


#: ``source_cell``: 'Sheet!A1' (Excel's A1 notation after the sheet's name), several joined by ' + '.
_CELLS = r"[^!+]+![A-Z]{1,3}[1-9]\d*( \+ [^!+]+![A-Z]{1,3}[1-9]\d*)*"


def order_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Fingertips' columns, the suite's, the chapter's breakdowns, other limits and ``geography_basis``, source."""
    head = [*FINGERTIPS_COLUMNS, *SUITE_COLUMNS]
    tail = [c for c in table.columns if is_limit(c) and c not in head] + ["geography_basis", "source"]
    middle = [c for c in table.columns if c not in head + tail]
    return table[[c for c in head + middle + tail if c in table.columns]]


def is_limit(column: str) -> bool:
    """True for the tidy limit columns: ``lower_ci``, ``upper_ci``, ``lower_ci_998``, ``rii_upper_ci`` …"""
    return re.fullmatch(r"([a-z]+_)?(lower|upper)_ci(_\d+)?", column) is not None


def natural_key(column: pd.Series) -> pd.Series:
    """A sort key giving natural order: text with a leading number sorts by that number first.

    '2' < '10' < '90+' for ages, '5-9' < '10-14' for bands; other text sorts as text after. Numeric
    columns are returned unchanged. The key is each value's rank among the column's distinct values in the
    order (no leading number, leading number, text), so the work grows with the distinct values, not the rows.
    """
    if pd.api.types.is_numeric_dtype(column):
        return column
    codes, distinct = pd.factorize(column.astype(str), use_na_sentinel=False)
    lead = pd.to_numeric(pd.Series(distinct).str.extract(r"^\s*(-?\d+(?:\.\d+)?)", expand=False),
                         errors="coerce").to_numpy(dtype=float)
    names = [str(d) for d in distinct]
    # numbers first (by value, then by the rest of the text), then plain text
    order = sorted(range(len(names)), key=lambda i: (bool(np.isnan(lead[i])), 0.0 if np.isnan(lead[i])
                                                     else lead[i], names[i]))
    rank = np.empty(len(names), dtype=np.int64)
    rank[order] = np.arange(len(names))
    return pd.Series(rank[codes], index=column.index)


#: Row order: CDP, members, region, England, neighbours; then area, indicator, time, sex, age, category.
_SORT_FIRST = ["area_code", "area_name", "measure", "indicator_id", "time_period_sortable", "time_period", "sex",
               "age", "category_type", "category"]


def _sorted_rows(table: pd.DataFrame) -> pd.DataFrame:
    fixed = set(FINGERTIPS_COLUMNS) | {"area_role", "area_members", "unit", "source_cell", "source"}
    keys = _SORT_FIRST + [c for c in table.columns if c not in fixed and c not in _SORT_FIRST and not is_limit(c)]
    sex_order = table["sex"].map({s: i for i, s in enumerate(SEXES)})
    return (table.assign(_role=table["area_role"].map(ROLE_ORDER), _sex=sex_order)
            .sort_values(["_role", *[("_sex" if k == "sex" else k) for k in keys]], kind="mergesort", key=natural_key)
            .drop(columns=["_role", "_sex"]).reset_index(drop=True))


def to_csv_text(table: pd.DataFrame) -> str:
    """The deterministic CSV text of a tidy table (schema columns, sorted rows, fixed float format, LF endings)."""
    return _csv_text(conform(table))


def _csv_text(table: pd.DataFrame, cells: pd.DataFrame | None = None) -> str:
    """The one CSV writer of the tables: fixed float format, LF endings, and text cells that a spreadsheet would
    run as a formula neutralised (:func:`_csv_cells`; ``cells``: the table's, if already made)."""
    return _written(_csv_cells(table) if cells is None else cells)


def _written(cells: pd.DataFrame) -> str:
    return cells.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def _csv_cells(table: pd.DataFrame) -> pd.DataFrame:
    """``table``'s cells as the CSV holds them, column by column: text cells that a spreadsheet would run as a
    formula neutralised (:func:`cdp_analysis.output.escape.csv_frame`; numbers untouched), floating-point columns
    as :data:`FLOAT_FORMAT` gives them, missing values blank.

    The numbers are the text ``to_csv(float_format=FLOAT_FORMAT)`` writes, formatted here in one pass over each
    column's values rather than by pandas' formatter, which looks at each value in turn (a CDP's tables hold about
    80,000 such cells). A column's cells depend on that column alone, so the Fingertips copy takes the columns it
    shares with the tidy table from the tidy table's cells (:func:`_fingertips_text`)."""
    frame = escape.csv_frame(table)
    floats = [i for i, dtype in enumerate(frame.dtypes) if isinstance(dtype, np.dtype) and dtype.kind == "f"]
    if floats:
        frame = frame.copy(deep=False)
        for i in floats:
            frame.isetitem(i, _float_text(frame.iloc[:, i]))
    return frame


def _float_text(column: pd.Series) -> pd.Series:
    """A floating-point column as the CSV's text: :data:`FLOAT_FORMAT` of each value, '' for a missing one."""
    return pd.Series(["" if v != v else FLOAT_FORMAT % v for v in column.to_numpy().tolist()], index=column.index,
                     dtype=object)


#: The headings of OHID Fingertips' CSV export (the 27-column layout of current downloads), in order.
FINGERTIPS_HEADINGS = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name",
                       "Area Type", "Sex", "Age", "Category Type", "Category", "Time period", "Value",
                       "Lower CI 95.0 limit", "Upper CI 95.0 limit", "Lower CI 99.8 limit", "Upper CI 99.8 limit",
                       "Count", "Denominator", "Value note", "Recent Trend",
                       "Compared to England value or percentiles", "Column not used", "Time period Sortable",
                       "New data", "Compared to goal", "Time period range"]


def per_distinct(column: pd.Series, fn) -> pd.Series:
    """``fn(distinct values)`` spread back over ``column``'s rows (an object column): a table has thousands of rows
    but a few dozen ages, periods or names, so text patterns are matched once per distinct value. ``fn`` gets the
    distinct values (missing ones included) as a Series and returns one value for each, in order."""
    codes, distinct = pd.factorize(column, use_na_sentinel=False)
    return pd.Series(fn(pd.Series(distinct)).to_numpy()[codes], index=column.index, dtype=object)


def _fingertips_age(age: pd.Series) -> pd.Series:
    def each(ages: pd.Series) -> pd.Series:
        text = ages.fillna("").astype(str)
        return text.where(~text.str.fullmatch(r"\d+(-\d+|\+)?"), text + " yrs")

    return per_distinct(age, each)


def _period_range(time_period: pd.Series) -> pd.Series:
    """'1y' for a year ('2022', 'mid-2022', '2018/19'), 'Ny' for 'YYYY - YY' ranges, '' otherwise."""
    def each(periods: pd.Series) -> pd.Series:
        text = periods.astype(str)
        one = text.str.fullmatch(r"(mid-)?\d{4}(/\d{2})?")
        span = text.str.extract(r"^(\d{4})\s*-\s*(\d{2})$")
        years = (span[0].str[:2] + span[1]).astype(float) - span[0].astype(float) + 1
        out = pd.Series("", index=text.index)
        out[one] = "1y"
        has_span = years.notna()
        out[has_span] = years[has_span].astype(int).astype(str) + "y"
        return out

    return per_distinct(time_period, each)


def _parents(table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Fingertips' parent of each row's area: its region for a local area or CDP (when its members share one),
    England for a region, none for England."""
    region_of, regions, names = _area_register()

    def parent(code, members):
        if code == geography.ENGLAND_CODE:
            return ""
        if code in regions:
            return geography.ENGLAND_CODE
        if code in region_of:
            return region_of[code]
        found = {region_of.get(m) for m in members.split("; ") if m}
        return found.pop() if len(found) == 1 and None not in found else ""

    # once per distinct area (a table has thousands of rows but a few dozen areas)
    areas = pd.DataFrame({"code": table["area_code"], "members": table["area_members"].fillna("").astype(str)})
    distinct = areas.drop_duplicates()
    codes = {(c, m): parent(c, m) for c, m in zip(distinct["code"], distinct["members"])}
    parent_codes = [codes[k] for k in zip(areas["code"].tolist(), areas["members"].tolist())]
    return (pd.Series(parent_codes, index=table.index, dtype=object),
            pd.Series([names[c] if c else "" for c in parent_codes], index=table.index, dtype=object))


@memoised()
def _area_register() -> tuple[dict, frozenset, dict]:
    """The area register as lookups: each area's region code, the regions' codes, each code's name."""
    reg = geography.areas()
    region_of = dict(zip(reg["code"], reg["region_code"]))
    region_of = {code: region for code, region in region_of.items() if pd.notna(region)}
    return region_of, frozenset(reg.loc[reg["level"] == "region", "code"]), dict(zip(reg["code"], reg["name"]))


def to_fingertips_csv_text(table: pd.DataFrame) -> str:
    """The rows of :func:`to_csv_text` under Fingertips' own 27 headings (:data:`FINGERTIPS_HEADINGS`).

    Ages gain Fingertips' ' yrs' ('15-64' → '15-64 yrs'); 'Parent Code'/'Parent Name' are the area's region
    (England for a region); 'Recent Trend' and 'Compared to goal' come from ``recent_trend`` and
    ``compared_to_goal`` columns when a chapter has them; 'Time period range' is '1y' for a single year.
    The suite's own columns (``area_role``, ``measure``, breakdowns, ``source``, ``source_cell``) are in
    ``tables/<name>.csv`` only: the copy keeps exactly Fingertips' 27 columns, so tools that read a Fingertips
    download (by heading or by position) read it unchanged.
    """
    return _fingertips_text(conform(table))


#: Fingertips' headings of the tidy table's own columns (the copy's other columns are derived).
_FINGERTIPS_OF = {"Indicator ID": "indicator_id", "Indicator Name": "indicator_name", "Area Code": "area_code",
                  "Area Name": "area_name", "Area Type": "area_type", "Sex": "sex", "Category Type": "category_type",
                  "Category": "category", "Time period": "time_period", "Value": "value",
                  "Lower CI 95.0 limit": "lower_ci", "Upper CI 95.0 limit": "upper_ci",
                  "Lower CI 99.8 limit": "lower_ci_998", "Upper CI 99.8 limit": "upper_ci_998", "Count": "count",
                  "Denominator": "denominator", "Value note": "value_note", "Recent Trend": "recent_trend",
                  "Compared to England value or percentiles": "compared_to_england",
                  "Time period Sortable": "time_period_sortable", "Compared to goal": "compared_to_goal"}


def _fingertips_text(t: pd.DataFrame, cells: pd.DataFrame | None = None) -> str:
    """The Fingertips copy's CSV text of a conformed table; ``cells``: its :func:`_csv_cells` if already made (the
    columns the two files share are then not escaped and formatted again)."""
    cells = _csv_cells(t) if cells is None else cells
    parent_code, parent_name = _parents(t)
    blank = pd.Series("", index=t.index)
    derived = _csv_cells(pd.DataFrame({"Parent Code": parent_code, "Parent Name": parent_name,
                                       "Age": _fingertips_age(t["age"]), "Column not used": blank, "New data": blank,
                                       "Time period range": _period_range(t["time_period"])}))
    # 'Recent Trend' and 'Compared to goal' are blank for a chapter without those columns
    out = pd.DataFrame({h: derived[h] if h in derived.columns else
                        (cells[_FINGERTIPS_OF[h]] if _FINGERTIPS_OF[h] in cells.columns else derived["New data"])
                        for h in FINGERTIPS_HEADINGS})
    return _written(out)


def save_table(table: pd.DataFrame, name: str, output_dir: str | os.PathLike | None,
               decided_by: list[dict] | None = None) -> pd.DataFrame:
    """Conform, check and write ``tables/<name>.csv`` and ``fingertips/<name>.csv`` under ``output_dir``.

    Nothing is written when ``output_dir`` is empty. Returns the conformed table (schema columns in order),
    so a notebook can display what it wrote. The files' provenance records the rows' ``source`` citations, the
    codes of their comparator areas and ``decided_by`` (default ``table.attrs['decided_by']``, set by the
    chapter's compute: the inputs besides the data files that decided which rows appear,
    :func:`cdp_analysis.output.provenance.file_input`), and ``table.attrs['disclosure_audit']`` if set (the
    disclosure audit of its local counts, :func:`cdp_analysis.stats.disclosure.audit`).
    """
    decided = list(table.attrs.get("decided_by", []) if decided_by is None else decided_by)
    audit = table.attrs.get("disclosure_audit")
    table = conform(table)
    check_tidy(table, name)
    if output_dir:
        cells = _csv_cells(table)
        for folder, text in (("tables", _csv_text(table, cells)), ("fingertips", _fingertips_text(table, cells))):
            write_atomic(Path(output_dir) / folder / f"{name}.csv", text)
            provenance.record(output_dir, f"{folder}/{name}.csv", table["source"], decided_by=decided,
                              neighbours=provenance.neighbour_codes(table), disclosure=audit)
        log.info("wrote %s.csv (%d rows) in tables/ and fingertips/", name, len(table))
    return table


_LIMIT = re.compile(r"^(?P<stat>[a-z]+_)?(?P<side>lower|upper)(?P<level>\d+_\d)?cl$")


def from_stats(result: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """A :mod:`cdp_analysis.stats` result with its limits renamed to the tidy schema.

    The limits at ``level`` (``lowercl``/``uppercl`` for one level; ``lower95_0cl``/``upper95_0cl`` for
    the 0.95 of a pair; ``sii_lower95_0cl``/``sii_upper95_0cl`` from :func:`~cdp_analysis.stats.sii`)
    become ``lower_ci``/``upper_ci``; limits at other levels become ``lower_ci_<level>``/``upper_ci_<level>``
    (e.g. ``lower_ci_998``). For :func:`~cdp_analysis.stats.sii` results ``sii`` becomes ``value`` with
    its limits ``lower_ci``/``upper_ci``, and the RII's limits become ``rii_lower_ci``/``rii_upper_ci``.
    Other columns are kept.

    Parameters
    ----------
    result : DataFrame
        Output of a stats function.
    level : float
        The confidence level written as ``lower_ci``/``upper_ci`` (0.95 or 0.998, or 95 / 99.8).
    """
    pct = level * 100 if level <= 1 else level
    wanted = f"{pct:.1f}".replace(".", "_")
    main = "sii_" if "value" not in result.columns and "sii" in result.columns else ""
    renames = {}
    for col in result.columns:
        m = _LIMIT.match(col)
        if not m:
            continue
        prefix = "" if (m["stat"] or "") == main else m["stat"]
        at_level = m["level"] is None or m["level"] == wanted
        renames[col] = f"{prefix}{m['side']}_ci" + ("" if at_level else f"_{m['level'].removesuffix('_0').replace('_', '')}")
    out = result.rename(columns=renames)
    if main:
        out = out.rename(columns={"sii": "value"})
    return out
