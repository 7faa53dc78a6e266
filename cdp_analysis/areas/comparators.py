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
from pathlib import Path

import pandas as pd

from .. import paths
from ..data import ons_nearest_neighbours, register
from ..errors import InputError
from ..memo import memoised
from . import geography, params

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
    return _nearest(tuple(members), n).copy()


@memoised(maxsize=16)
def _nearest(members: tuple[str, ...], n: int) -> pd.DataFrame:
    d = ons_nearest_neighbours.distances()
    unknown = sorted(set(members) - set(d["code"].unique()))
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


def _named_in(cdp) -> Path | None:
    """The params file whose ``comparators`` the CDP uses: its own file if it names them, else
    ``params/defaults.yaml`` if that does; None if neither (given as a notebook parameter)."""
    files = []
    if str(cdp.source).endswith((".yaml", ".yml")):
        own = Path(cdp.source)
        files.append(own if own.is_absolute() else paths.project_root() / own)
    files.append(paths.params_dir() / "defaults.yaml")
    return next((f for f in files if f.is_file() and "comparators" in params.read_yaml(f)), None)


def described(cdp) -> dict:
    """What chose a CDP's comparator areas (the rows with ``area_role`` 'neighbour'), as ``run.json`` records it
    in each output's ``decided_by``: ``input`` 'comparator set', the set's ``name``, its area ``codes`` in the
    order shown, and its ``source``: the nearest-neighbours workbook's register citation (with its ``path`` in
    ``data/raw``, ``sha256`` and ``n_neighbours``) for the ONS set, or the params file that names an analyst's
    own set (its ``path`` from the project folder and ``sha256``)."""
    nn = for_cdp(cdp)
    out = {"input": "comparator set", "decides": "the comparator areas (rows with area_role 'neighbour')",
           "name": str(nn["comparator_set"].iloc[0]) if len(nn) else ONS_SET, "codes": [str(c) for c in nn["code"]]}
    if cdp.settings.comparators is None:
        workbook = ons_nearest_neighbours.workbook_file()
        entry = register.entry_of(workbook)
        return {**out, "source": ons_nearest_neighbours.citation(), "path": entry.path if entry else workbook.name,
                "sha256": register.checksum(workbook), "n_neighbours": cdp.settings.n_neighbours,
                "how": "the n_neighbours areas closest to the CDP's members (mean ONS relative distance)"}
    named = _named_in(cdp)
    if named is None:
        return {**out, "source": "notebook parameters", "path": None, "sha256": None}
    root = paths.project_root().resolve()
    where = named.resolve()
    shown = where.relative_to(root).as_posix() if where.is_relative_to(root) else where.as_posix()
    return {**out, "source": shown, "path": shown, "sha256": register.checksum(named)}
