"""The places inside a partnership, for chapter 5 (places and inequalities): the current districts of each county
member, and each unitary member itself.

A county (Nottinghamshire) holds lower-tier districts, each a place; a partnership of several unitaries (North and
West Northamptonshire) has each unitary as a place; a single unitary (Barnet) has no places inside it at this
level. A district is current when it is in the newest mid-year estimates held; a district's county is read from
the MYE2 tables' hierarchy (:func:`cdp_analysis.areas.population_series.district_counties`), so districts
abolished since (Cumbria's, North Yorkshire's, Somerset's in 2023) are never a place: their successors are
unitaries, which are partnership members in their own right.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..data import ons_population
from ..errors import InputError
from ..memo import memoised
from . import geography, vintage
from .partnerships import Partnership
from .population_series import district_counties

log = logging.getLogger(__name__)

#: ``kind`` of a place.
DISTRICT, UNITARY = "district", "unitary"


@memoised()
def current_districts() -> pd.DataFrame:
    """The lower-tier districts of the newest mid-year estimates held, with their county: ``code, name, county``."""
    t = ons_population.estimates()
    latest = t[(t["year"] == t["year"].max()) & (t["geography"] == "Non-metropolitan District")]
    found = latest.drop_duplicates("code")[["code", "name"]]
    return found.assign(county=found["code"].map(district_counties())).sort_values("code", ignore_index=True)


def places(cdp: Partnership) -> pd.DataFrame:
    """The places inside a partnership, in order of member then code: ``code, name, kind, member_code,
    member_name``; empty when the partnership is a single unitary (no breakdown below it)."""
    districts = current_districts()
    rows = []
    for member in cdp.members:
        own = districts[districts["county"] == member]
        if len(own):
            rows += [{"code": r.code, "name": r.name, "kind": DISTRICT, "member_code": member,
                      "member_name": geography.name_of(member)} for r in own.itertuples()]
        elif len(cdp.members) > 1:
            rows.append({"code": member, "name": geography.name_of(member), "kind": UNITARY, "member_code": member,
                         "member_name": geography.name_of(member)})
    return pd.DataFrame(rows, columns=["code", "name", "kind", "member_code", "member_name"])


#: The MYE2 geographies of the lower tier: every district, metropolitan district, London borough and unitary.
LOWER_TIER = ("Non-metropolitan District", "Metropolitan District", "London Borough", "Unitary Authority")


@memoised()
def lower_tier_areas() -> pd.DataFrame:
    """England's current lower-tier areas (districts, metropolitan districts, London boroughs, unitaries) in the
    newest mid-year estimates held: ``code, name, upper_tier`` (a district's county, else the area itself)."""
    t = ons_population.estimates()
    latest = t[(t["year"] == t["year"].max()) & t["geography"].isin(LOWER_TIER) & t["code"].str.startswith("E")]
    found = latest.drop_duplicates("code")[["code", "name"]].sort_values("code", ignore_index=True)
    county = found["code"].map(district_counties())
    return found.assign(upper_tier=county.fillna(found["code"]))


def lower_tier_of(codes: pd.Series, *, file, where: pd.Series | None = None) -> pd.Series:
    """Each published lower-tier code's current lower-tier area (itself, or its successor through the code
    changes: Allerdale → Cumberland, Corby → North Northamptonshire).

    Parameters
    ----------
    codes : Series
        Area codes as the file lists them.
    file : path
        The file they were read from (named in the error).
    where : Series, optional
        Aligned with ``codes``: where each code is in the file ("sheet 'Table 3', row 36, column 'A'").

    Raises
    ------
    InputError
        Naming ``file`` and where the first code that maps to no current area is, with what to do.
    """
    current = lower_tier_areas()["code"]
    mapped = vintage.current_areas_of(codes, pd.Series(np.nan, index=codes.index, dtype=object), current)
    lost = mapped.isna() & codes.notna()
    if lost.any():
        i = lost.idxmax()
        raise InputError(f"the area code '{codes[i]}' maps to no current district or unitary", file=file,
                         where=str(where[i]) if where is not None else "",
                         hint="a code must be a current area or a former one whose successor is listed in "
                              "data/raw/lookups (code changes); restore the published file, or add the code change")
    return mapped
