"""Comparator areas for a CDP: its ONS statistical nearest neighbours.

For a single-area CDP the comparators are the area's first ``n`` neighbours in the ONS order (Table 3
of the workbook). For a multi-area CDP (e.g. North + West Northamptonshire) they are the ``n`` non-member
areas with the smallest mean relative distance to the members (Table 4), ties broken by code; for one
member this is the same order as Table 3 (checked by a test).
"""

from __future__ import annotations

import logging

import pandas as pd

from ..data import ons_nearest_neighbours
from ..errors import InputError
from . import geography

log = logging.getLogger(__name__)


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
    d = ons_nearest_neighbours.distances()
    unknown = sorted(set(members) - set(d["code"]))
    if unknown:
        raise InputError(f"no nearest-neighbour data for {', '.join(unknown)}",
                         file=ons_nearest_neighbours.workbook_file(),
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
