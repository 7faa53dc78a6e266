"""ONS mid-year population estimates as a time series: table MYEB3 (summary of components of change), total
population of every local authority district of the UK each mid-year, on one geography.

Reads the ``ons_population_series`` file in ``data/raw/ons_population_series`` as published: one row per
district (``ladcodeYY``, ``lanameYY``, ``country`` — E, W, S or N — with YY the geography's year), then
``population_YYYY`` for the first mid-year and, for each later mid-year, the ten components of change into it
(``births_YYYY``, ``deaths_YYYY``, ``natchange_YYYY``, ``internal_in/out/net_YYYY``,
``international_in/out/net_YYYY``, ``other_change_YYYY``) followed by ``population_YYYY``. Columns are found by
name; the years by the ``_YYYY`` ending of the column names, and every year from the first to the last must
have its population column (and, after the first, its components). Counts must be whole and non-negative;
natural change, net migration and other changes are whole numbers of either sign.

There are no rows for England, the regions or the counties: they are sums of districts (see
:mod:`cdp_analysis.areas.population_series`, which puts the series on the current areas).

The plausibility rules (:data:`RULES`, :mod:`cdp_analysis.data.plausibility`) check that each row's code is an
ONS code of its country and listed once, that no area's population changes by more than a factor of 1.5 a
year, and that each year's population is the previous year's plus its components of change.

Tidy columns of :func:`estimates`: ``year`` (int, mid-year), ``code``, ``name``, ``country`` ('E', 'W', 'S',
'N'), ``population`` (persons, all ages), ``source_row`` (line in the file) and ``source`` (the file's
data-register citation). :func:`components` gives the components of change in the same long layout.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register
from .cache import cached_parse
from .readers import read_csv_table, to_counts, to_plain_numbers

log = logging.getLogger(__name__)

SERIES = register.FileKind("myeb3_series", "ons_population_series", "MYEB3*.csv")
_PARSER_VERSION = 1

#: Components of change into a mid-year, in the published order; the last four may be negative.
COMPONENTS = ("births", "deaths", "natchange", "internal_in", "internal_out", "internal_net", "international_in",
              "international_out", "international_net", "other_change")
_SIGNED = ("natchange", "internal_net", "international_net", "other_change")
_YEAR_COLUMN = re.compile(r"^(population|" + "|".join(COMPONENTS) + r")_([0-9]{4})$")
_CODE_COLUMN = re.compile(r"^ladcode[0-9]{2}$")
_NAME_COLUMN = re.compile(r"^laname[0-9]{2}$")
#: Scotland's components of change are rounded to tens, so its population differs from last year's plus its
#: components by up to 10 people (England, Wales and Northern Ireland add up exactly).
COMPONENTS_TOLERANCE = 10


def _one_column(columns, pattern: re.Pattern, *, file: Path, what: str, example: str) -> str:
    found = [c for c in columns if pattern.match(c)]
    if len(found) != 1:
        raise InputError(f"{'no' if not found else 'more than one'} {what} column (named like '{example}')",
                         file=file, where="header (line 1)",
                         hint="use the published MYEB3 layout described in data/README.md")
    return found[0]


def _signed_whole(table: pd.DataFrame, column: str, *, file: Path) -> np.ndarray:
    """A column of whole numbers of either sign (net changes), refusing any other cell by row and column."""
    return to_plain_numbers(table, column, file=file, missing=(), hint="restore the published file").to_numpy()


def _counts(table: pd.DataFrame, column: str, *, file: Path) -> np.ndarray:
    return to_counts(table, column, file=file).to_numpy()


#: Rules on each row of the file (applied as it is parsed, naming the code column).
ROW_RULES = (
    plausibility.Rule("the area code is an ONS code of the row's country (E, W, S or N, then eight digits)", "code",
                      lambda t: t["code"].str.fullmatch(r"[EWSN][0-9]{8}") & (t["code"].str[0] == t["country"])),
    plausibility.Rule("each area is listed once", "code", lambda t: ~t["code"].duplicated()),
)


def parse_myeb3(path: Path) -> pd.DataFrame:
    """Parse an MYEB3 CSV into one row per area and mid-year, with the components of change into that year.

    Returns
    -------
    DataFrame
        ``year, code, name, country, population`` (persons), the :data:`COMPONENTS` (persons, float: NaN in
        the first year) and ``source_row``.
    """
    table = read_csv_table(path, ["country"])
    code_col = _one_column(table.columns, _CODE_COLUMN, file=path, what="area-code", example="ladcode20")
    name_col = _one_column(table.columns, _NAME_COLUMN, file=path, what="area-name", example="laname20")
    years = sorted({int(m.group(2)) for c in table.columns if (m := _YEAR_COLUMN.match(c))})
    if not years:
        raise InputError("no population_YYYY columns", file=path, where="header (line 1)",
                         hint="use the published MYEB3 layout described in data/README.md")
    span = list(range(years[0], years[-1] + 1))
    required = [f"population_{y}" for y in span] + [f"{c}_{y}" for y in span[1:] for c in COMPONENTS]
    if any(c not in table.columns for c in required):
        read_csv_table(path, [code_col, name_col, "country", *required])  # raises the reader's missing-column message
    rows = pd.DataFrame({"code": table[code_col].str.strip(), "country": table["country"].str.strip(),
                         "_row": table["_row"], "_column": code_col})
    plausibility.check(rows, ROW_RULES, file=path)
    pop = np.column_stack([_counts(table, f"population_{y}", file=path) for y in span])
    n, k = pop.shape
    long = pd.DataFrame({"year": np.tile(np.asarray(span, dtype="int64"), n),
                         "code": np.repeat(rows["code"].to_numpy(), k),
                         "name": np.repeat(table[name_col].str.strip().to_numpy(), k),
                         "country": np.repeat(rows["country"].to_numpy(), k),
                         "population": pop.ravel()})
    for comp in COMPONENTS:
        read = _signed_whole if comp in _SIGNED else _counts
        values = np.column_stack([np.full(n, np.nan)] + [read(table, f"{comp}_{y}", file=path) for y in span[1:]])
        long[comp] = values.astype(float).ravel()
    long["source_row"] = np.repeat(table["_row"].to_numpy(), k)
    return long


def _follows_components(t: pd.DataFrame) -> pd.Series:
    ordered = t.sort_values(["code", "year"])
    previous = ordered.groupby("code", sort=False)["population"].shift()
    gap = ordered["year"] - ordered.groupby("code", sort=False)["year"].shift()
    change = ordered[list(_SIGNED)].sum(axis=1, min_count=len(_SIGNED))
    off = (ordered["population"] - previous - change).abs() > COMPONENTS_TOLERANCE
    return (~(off & (gap == 1))).reindex(t.index)


#: Plausibility rules on each area's population, year by year (rows named by the file's line and
#: ``population_YYYY`` column).
SERIES_RULES = (
    plausibility.year_on_year("population", key=["code"], factor=1.5, what="an area's population"),
    plausibility.Rule("each year's population is the previous year's plus its components of change (natural change, "
                      f"net internal and international migration, other changes), to {COMPONENTS_TOLERANCE} people",
                      "population", _follows_components),
)
RULES = ROW_RULES + SERIES_RULES


def source_file() -> Path:
    """The MYEB3 file in ``data/raw/ons_population_series`` (the newest by name if there are several)."""
    return register.file_of_kind(SERIES.kind)


@memoised()
def _parsed() -> pd.DataFrame:
    path = source_file()
    t = cached_parse(path, parse_myeb3, name="myeb3", version=_PARSER_VERSION)
    check = t[["year", "code", "population", *_SIGNED]].assign(
        _row=t["source_row"], _column="population_" + t["year"].astype(str))
    plausibility.check(check, SERIES_RULES, file=path)
    return t.assign(source=register.citation_of(path))


def estimates() -> pd.DataFrame:
    """Total population of every UK district each mid-year of the series, as published.

    Returns
    -------
    DataFrame
        ``year, code, name, country, population`` (persons, all ages), ``source_row`` (line in the file),
        ``source`` (data-register citation); one row per district and mid-year.

    Raises
    ------
    InputError
        If the file is missing, cut short or damaged (a column missing, a count negative or not a number), or
        fails a plausibility rule (:data:`RULES`).
    """
    return _parsed()[["year", "code", "name", "country", "population", "source_row", "source"]].copy()


def components() -> pd.DataFrame:
    """The components of change into each mid-year after the first, per district (persons).

    Returns
    -------
    DataFrame
        ``year`` (the mid-year the change leads to: births between mid-``year - 1`` and mid-``year``), ``code,
        name, country``, the :data:`COMPONENTS` (int64, persons; the four net figures may be negative),
        ``source_row``, ``source``.
    """
    t = _parsed()
    t = t[t["year"] > t["year"].min()]
    return t[["year", "code", "name", "country", *COMPONENTS, "source_row", "source"]].astype(
        {c: "int64" for c in COMPONENTS}).reset_index(drop=True)


def years() -> list[int]:
    """The mid-years the series holds."""
    return sorted(_parsed()["year"].unique().tolist())


DATASET = register.Dataset(name="ons_population_series",
                           title="ONS mid-year population estimates, time series (MYEB3)",
                           kinds=(SERIES,), load=estimates, rules=RULES)
