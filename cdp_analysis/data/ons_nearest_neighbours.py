"""ONS local authority statistical nearest neighbours (the open alternative to CIPFA neighbours).

The ONS workbook gives, for each of the 153 upper-tier areas, the other areas in order of statistical
closeness (Table 3) and the matrix of relative Euclidean distances behind that order (Table 4). ONS
describes the method as under development; the edition used is in the data register. Choosing a CDP's
comparators from these is :mod:`cdp_analysis.areas.comparators`.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..memo import memoised
from . import plausibility, register
from .cache import cached_parse
from .readers import read_excel_table, to_numbers

log = logging.getLogger(__name__)

WORKBOOK = register.FileKind("nearest_neighbours", "ons_nearest_neighbours", "*nearestneighbours*.xlsx")

_CODE = "Upper tier local authority code"
_NAME = "Upper tier local authority name"


def _symmetric(t: pd.DataFrame) -> pd.Series:
    mirror = t.set_index(["code", "other_code"])["distance"]
    back = pd.MultiIndex.from_arrays([t["other_code"], t["code"]]).map(mirror.to_dict())
    back = pd.Series(back, index=t.index, dtype=float)
    return back.isna() | ((t["distance"] - back).abs() <= 1e-6 * t["distance"].abs().clip(lower=1))


#: Plausibility rules of Table 4 (distances) and Table 3 (neighbour order), and between the two.
DISTANCE_RULES = (
    plausibility.Rule("a distance is not negative", "distance", lambda t: t["distance"] >= 0),
    plausibility.Rule("an area's distance to itself is 0 and to any other area more than 0", "distance",
                      lambda t: (t["code"] == t["other_code"]) == (t["distance"] == 0)),
    plausibility.Rule("the distance from A to B equals the distance from B to A", "distance", _symmetric),
)
RANK_RULES = (
    plausibility.Rule("an area is not its own neighbour", "neighbour_code", lambda t: t["code"] != t["neighbour_code"]),
    plausibility.Rule("no neighbour is listed twice for the same area", "neighbour_code",
                      lambda t: ~t.duplicated(["code", "neighbour_code"])),
    plausibility.Rule("every neighbour is one of the areas of the table", "neighbour_code",
                      lambda t: t["neighbour_code"].isin(set(t["code"]))),
)


def _in_distance_order(t: pd.DataFrame) -> pd.Series:
    """Neighbour k is no further away (Table 4) than neighbour k + 1."""
    ordered = t.sort_values(["code", "rank"])
    previous = ordered.groupby("code")["distance"].shift()
    return (previous.isna() | (ordered["distance"] >= previous - 1e-9)).reindex(t.index)


ORDER_RULES = (plausibility.Rule("neighbours are listed in order of distance (Table 3 against Table 4)",
                                 "neighbour_code", _in_distance_order, shown="distance"),)


def _parse_distances(path) -> pd.DataFrame:
    table, _ = read_excel_table(path, "Table 4", [_CODE, _NAME])
    codes = [c for c in table.columns if c not in {_CODE, _NAME, "_row"}]
    values = pd.DataFrame({c: to_numbers(table, c, file=path) for c in codes})
    values.insert(0, "code", table[_CODE].astype(str).str.strip())
    values.insert(1, "_row", table["_row"])
    long = values.melt(id_vars=["code", "_row"], var_name="other_code", value_name="distance")
    plausibility.check(long.assign(_column=long["other_code"]), DISTANCE_RULES, file=path, sheet="Table 4")
    return long.drop(columns="_row")


def _parse_ranks(path) -> pd.DataFrame:
    table, _ = read_excel_table(path, "Table 3", [_CODE, _NAME, "Neighbour 1"])
    cols = [c for c in table.columns if c.startswith("Neighbour ")]
    long = table.melt(id_vars=[_CODE, "_row"], value_vars=cols, var_name="_column", value_name="neighbour_code")
    long["rank"] = long["_column"].str.removeprefix("Neighbour ").astype("int64")
    long = long.rename(columns={_CODE: "code"}).dropna(subset=["neighbour_code"])
    long = long.astype({"code": str, "neighbour_code": str}).sort_values(["code", "rank"], ignore_index=True)
    long["code"], long["neighbour_code"] = long["code"].str.strip(), long["neighbour_code"].str.strip()
    plausibility.check(long, RANK_RULES, file=path, sheet="Table 3")
    return long[["code", "rank", "neighbour_code", "_row", "_column"]]


@memoised()
def distances() -> pd.DataFrame:
    """Relative statistical distances between upper-tier areas, long form: ``code, other_code, distance``."""
    path = register.file_of_kind(WORKBOOK.kind)
    return cached_parse(path, _parse_distances, name="nn-distances", version=2)


@memoised()
def ranks() -> pd.DataFrame:
    """ONS neighbour order for each upper-tier area, long form: ``code, rank, neighbour_code``."""
    path = register.file_of_kind(WORKBOOK.kind)
    table = cached_parse(path, _parse_ranks, name="nn-ranks", version=2)
    with_distance = table.merge(distances(), left_on=["code", "neighbour_code"], right_on=["code", "other_code"],
                                how="left")
    plausibility.check(with_distance, ORDER_RULES, file=path, sheet="Table 3")
    return table[["code", "rank", "neighbour_code"]]


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
                           kinds=(WORKBOOK,), load=_load, rules=DISTANCE_RULES + RANK_RULES + ORDER_RULES)
