"""ONS local authority statistical nearest neighbours (the open alternative to CIPFA neighbours).

The ONS workbook gives, for each of the 153 upper-tier areas, the other areas in order of statistical
closeness (Table 3) and the matrix of relative Euclidean distances behind that order (Table 4). ONS
describes the method as under development; the edition used is in the data register. Choosing a CDP's
comparators from these is :mod:`cdp_analysis.areas.comparators`.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import register
from .cache import cached_parse
from .readers import read_excel_table, to_numbers

log = logging.getLogger(__name__)

WORKBOOK = register.FileKind("nearest_neighbours", "ons_nearest_neighbours", "*nearestneighbours*.xlsx")

_CODE = "Upper tier local authority code"
_NAME = "Upper tier local authority name"


def _parse_distances(path) -> pd.DataFrame:
    table, _ = read_excel_table(path, "Table 4", [_CODE, _NAME])
    codes = [c for c in table.columns if c not in {_CODE, _NAME, "_row"}]
    values = pd.DataFrame({c: to_numbers(table, c, file=path) for c in codes})
    negative = (values < 0).any(axis=1)
    if negative.any():
        raise InputError("a distance is negative", file=path,
                         where=f"sheet 'Table 4', row {table.loc[negative, '_row'].iloc[0]}",
                         hint="restore the published workbook")
    values.insert(0, "code", table[_CODE].astype(str).str.strip())
    return values.melt(id_vars="code", var_name="other_code", value_name="distance")


def _parse_ranks(path) -> pd.DataFrame:
    table, _ = read_excel_table(path, "Table 3", [_CODE, _NAME, "Neighbour 1"])
    cols = [c for c in table.columns if c.startswith("Neighbour ")]
    long = table.melt(id_vars=[_CODE], value_vars=cols, var_name="rank", value_name="neighbour_code")
    long["rank"] = long["rank"].str.removeprefix("Neighbour ").astype("int64")
    long = long.rename(columns={_CODE: "code"}).dropna(subset=["neighbour_code"])
    return long.astype({"code": str, "neighbour_code": str}).sort_values(["code", "rank"], ignore_index=True)


@memoised()
def distances() -> pd.DataFrame:
    """Relative statistical distances between upper-tier areas, long form: ``code, other_code, distance``."""
    path = register.file_of_kind(WORKBOOK.kind)
    return cached_parse(path, _parse_distances, name="nn-distances", version=1)


@memoised()
def ranks() -> pd.DataFrame:
    """ONS neighbour order for each upper-tier area, long form: ``code, rank, neighbour_code``."""
    path = register.file_of_kind(WORKBOOK.kind)
    return cached_parse(path, _parse_ranks, name="nn-ranks", version=1)


def workbook_file():
    """The path of the nearest-neighbours workbook in ``data/raw``."""
    return register.file_of_kind(WORKBOOK.kind)


def citation() -> str:
    """The workbook's data-register citation (for a table's ``source``)."""
    return register.citation_of(register.file_of_kind(WORKBOOK.kind))


def period() -> str:
    """The period of the neighbour sets, from the data register (``period`` of the workbook's entry)."""
    return register.period_of(register.file_of_kind(WORKBOOK.kind))


def _load() -> tuple[pd.DataFrame, pd.DataFrame]:
    return distances(), ranks()


DATASET = register.Dataset(name="ons_nearest_neighbours",
                           title="ONS local authority statistical nearest neighbours",
                           kinds=(WORKBOOK,), load=_load)
