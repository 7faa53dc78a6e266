"""The places inside a partnership, for chapter 6 (places and inequalities): the current districts of each county
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

import pandas as pd

from ..data import ons_population
from ..memo import memoised
from . import geography
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
