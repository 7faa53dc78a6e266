"""Comparator areas from the ONS statistical nearest neighbours (the open alternative to CIPFA).

The ONS workbook (released 1 October 2025; method under development) gives, for each of the 153
upper-tier areas, its other areas in order of statistical closeness (Table 3) and the matrix of relative
Euclidean distances behind that order (Table 4).

For a single-area CDP the comparators are the area's first ``n`` neighbours from Table 3. For a
multi-area CDP (e.g. North + West Northamptonshire) they are the ``n`` non-member areas with the
smallest mean distance to the members (Table 4), ties broken by code; for one member this is the same
order as Table 3 (checked by a test).
"""

from __future__ import annotations

import functools
import logging

import pandas as pd

from . import geography, register
from .cache import cached_parse
from .errors import InputError
from .tabular import read_excel_table, to_numbers

log = logging.getLogger(__name__)

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


@functools.lru_cache(maxsize=1)
def distances() -> pd.DataFrame:
    """Relative statistical distances between upper-tier areas, long form: ``code, other_code, distance``."""
    path = register.file_of_kind("nearest_neighbours")
    return cached_parse(path, _parse_distances, name="nn-distances", version=1)


@functools.lru_cache(maxsize=1)
def ranks() -> pd.DataFrame:
    """ONS neighbour order for each upper-tier area, long form: ``code, rank, neighbour_code``."""
    path = register.file_of_kind("nearest_neighbours")
    return cached_parse(path, _parse_ranks, name="nn-ranks", version=1)


def nearest(members: list[str], n: int = 15) -> pd.DataFrame:
    """The ``n`` statistical nearest neighbours of a CDP.

    Parameters
    ----------
    members : list of str
        Current upper-tier codes making up the CDP.
    n : int
        How many neighbours.

    Returns
    -------
    DataFrame
        ``rank, code, name, region_name, mean_distance`` (mean relative distance to the members;
        smaller is closer).
    """
    d = distances()
    unknown = sorted(set(members) - set(d["code"]))
    if unknown:
        raise InputError(f"no nearest-neighbour data for {', '.join(unknown)}",
                         file=register.file_of_kind("nearest_neighbours"),
                         hint="the workbook covers the 153 current upper-tier areas; check the CDP's member codes")
    d = d[d["code"].isin(members) & ~d["other_code"].isin(members)]
    mean = d.groupby("other_code")["distance"].mean().rename("mean_distance").reset_index()
    mean = mean.sort_values(["mean_distance", "other_code"], ignore_index=True).head(n)
    reg = geography.areas("utla").set_index("code")
    out = pd.DataFrame({"rank": range(1, len(mean) + 1), "code": mean["other_code"],
                        "name": mean["other_code"].map(reg["name"]),
                        "region_name": mean["other_code"].map(reg["region_name"]),
                        "mean_distance": mean["mean_distance"]})
    return out
