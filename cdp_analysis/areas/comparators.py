"""Comparator areas for a CDP: the analyst's own list if its params name one, else its ONS statistical
nearest neighbours (:func:`for_cdp`).

An analyst's list (``comparators: {name: ..., areas: [...]}`` in a params file; many councils use CIPFA
neighbours, which are not openly published) is shown in the order given, under its name, with each area's
ONS relative distance to the members for reference.

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


#: How the ONS set is named in reports.
ONS_SET = "ONS statistical nearest neighbours"


def for_cdp(cdp) -> pd.DataFrame:
    """The comparator areas of a CDP: ``rank, code, name, region_name, mean_distance, comparator_set``.

    ``comparator_set`` names the set (the analyst's name for their list, or :data:`ONS_SET`); for an analyst's
    list ``rank`` is the position in the list and ``mean_distance`` the ONS distance, for reference.
    """
    chosen = cdp.settings.comparators
    if chosen is None:
        return nearest(list(cdp.members), cdp.settings.n_neighbours).assign(comparator_set=ONS_SET)
    d = ons_nearest_neighbours.distances()
    d = d[d["code"].isin(cdp.members) & d["other_code"].isin(chosen.areas)]
    mean = d.groupby("other_code")["distance"].mean()
    reg = geography.areas("utla").set_index("code")
    codes = pd.Series(chosen.areas)
    return pd.DataFrame({"rank": range(1, len(codes) + 1), "code": codes, "name": codes.map(reg["name"]),
                         "region_name": codes.map(reg["region_name"]), "mean_distance": codes.map(mean),
                         "comparator_set": chosen.name})


def reporting_areas(cdp) -> pd.DataFrame:
    """:meth:`Partnership.reporting_areas` (the CDP, its members, region(s), England) followed by the
    comparator areas of :func:`for_cdp` (role 'neighbour'), in the same columns."""
    nn = for_cdp(cdp)
    neighbours = pd.DataFrame({"code": nn["code"], "area_code": nn["code"], "area_name": nn["name"],
                               "area_type": geography.area_type_of(nn["code"]), "area_role": "neighbour",
                               "area_members": ""})
    return pd.concat([cdp.reporting_areas(), neighbours], ignore_index=True)
