"""Registry of the areas the suite reports on: the 153 current English upper-tier local authorities,
the 9 English regions and England.

Upper-tier areas come from the lookups dataset (:mod:`cdp_analysis.data.lookups`: code, name, type);
their regions from the ONS population tables' hierarchy. The regions' GSS codes are the ONS standard
identifiers; tests check them against the region rows of the ONS population workbooks.

:func:`check_upper_tier_codes` is the one place where area codes given by an analyst (a params file, a
notebook parameter) are validated.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from ..data import lookups, ons_population
from ..errors import InputError, closest
from ..memo import memoised
from . import vintage

log = logging.getLogger(__name__)

ENGLAND_CODE = "E92000001"

#: ONS GSS codes of the English regions (statistical regions, former GORs).
REGION_CODES: dict[str, str] = {
    "North East": "E12000001",
    "North West": "E12000002",
    "Yorkshire and The Humber": "E12000003",
    "East Midlands": "E12000004",
    "West Midlands": "E12000005",
    "East of England": "E12000006",
    "London": "E12000007",
    "South East": "E12000008",
    "South West": "E12000009",
}
_REGION_ALIASES = {"yorkshire and the humber": "Yorkshire and The Humber", "east": "East of England"}

def slugify(name: str) -> str:
    """A lower-case, hyphenated identifier for a name: 'Bournemouth, Christchurch and Poole' -> 'bournemouth-christchurch-and-poole'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _region_name(raw: str) -> str:
    key = raw.strip().lower()
    for name in REGION_CODES:
        if name.lower() == key:
            return name
    return _REGION_ALIASES.get(key, raw.strip())


@memoised()
def _areas() -> pd.DataFrame:
    raw = lookups.upper_tier_areas()
    region = raw["region"].map(_region_name)
    # Region membership is taken from ONS's own hierarchy where available: the mySociety-derived register
    # misplaces some counties (Derbyshire, Lincolnshire).
    ons = ons_population.region_membership().map(_region_name)
    ons_region = raw["code"].map(ons)
    changed = ons_region.notna() & (ons_region != region)
    for r in raw.loc[changed].itertuples():
        log.info("region of %s %s taken from ONS (%s), not the register (%s)", r.code, r.name,
                 ons_region[r.Index], region[r.Index])
    region = ons_region.fillna(region)
    unknown = ~region.isin(list(REGION_CODES))
    if unknown.any():
        r = raw.loc[unknown].iloc[0]
        raise InputError(f"unknown region '{r['region']}'", file=lookups.upper_tier_areas_file(),
                         where=f"row {r['row']}, column 'region'",
                         hint=f"use one of: {', '.join(REGION_CODES)}")
    utla = pd.DataFrame({
        "code": raw["code"],
        "name": raw["name"],
        "type": raw["type"],
        "level": "utla",
        "region_code": region.map(REGION_CODES),
        "region_name": region,
    })
    regions = pd.DataFrame({"code": list(REGION_CODES.values()), "name": list(REGION_CODES), "type": "Region",
                            "level": "region", "region_code": list(REGION_CODES.values()),
                            "region_name": list(REGION_CODES)})
    england = pd.DataFrame([{"code": ENGLAND_CODE, "name": "England", "type": "Country", "level": "country",
                             "region_code": ENGLAND_CODE, "region_name": "England"}])
    table = pd.concat([utla, regions, england], ignore_index=True)
    table["slug"] = table["name"].map(slugify)
    return table


def areas(level: str | None = None) -> pd.DataFrame:
    """All areas (or one ``level``: 'utla', 'region', 'country') with code, name, type, region and slug."""
    table = _areas()
    return (table if level is None else table[table["level"] == level]).reset_index(drop=True).copy()


def utla_codes() -> list[str]:
    """Codes of the 153 current upper-tier areas, sorted."""
    return sorted(areas("utla")["code"])


def area(code: str, *, file=None, where: str | None = None) -> pd.Series:
    """The registry row for one area code (upper tier, region or England).

    Raises
    ------
    InputError
        For a former code (naming its successors) or an unknown one (naming the closest valid code).
    """
    table = _areas()
    hit = table[table["code"] == code]
    if len(hit) == 1:
        return hit.iloc[0]
    legacy = vintage.legacy_code_message(code)
    if legacy:
        hint = ("replace it with the current code(s) above" if file is not None
                else "use the current code(s) named above; `cdp areas` lists every current area")
        raise InputError(legacy, file=file, where=where, hint=hint)
    suggestion = closest(code, table["code"]) or closest(code, table["name"])
    hint = (f"did you mean '{suggestion[0]}'? " if suggestion else "") + "run `cdp areas` to list valid codes"
    raise InputError(f"'{code}' is not a current English upper-tier area, region or England code", file=file,
                     where=where, hint=hint)


def check_upper_tier_codes(codes, *, file=None, where: str = "key 'members'") -> list[str]:
    """Validate a CDP's member codes: a list of distinct current upper-tier area codes.

    The one check used for params files and notebook parameters alike.

    Parameters
    ----------
    codes : list of str
        The codes as given.
    file : path, optional
        The params file they came from (None for notebook parameters).
    where : str
        How to name the place they were given, e.g. ``"key 'members'"`` or ``"parameter 'members'"``.

    Returns
    -------
    list of str
        The codes, unchanged.
    """
    if isinstance(codes, str) or not isinstance(codes, (list, tuple)) or not all(isinstance(c, str) for c in codes):
        raise InputError(f"members must be a list of area codes (got {codes!r})", file=file, where=where,
                         hint='e.g. members = ["E06000061", "E06000062"]')
    for i, code in enumerate(codes):
        row = area(code, file=file, where=f"{where}, item {i + 1}")
        if row["level"] != "utla":
            raise InputError(f"'{code}' ({row['name']}) is a {row['level']}, not an upper-tier area", file=file,
                             where=f"{where}, item {i + 1}", hint="list upper-tier area codes (`cdp areas`)")
    if len(set(codes)) != len(codes):
        raise InputError("an area is listed twice", file=file, where=where, hint="list each area once")
    return list(codes)


def name_of(code: str) -> str:
    """The area's name."""
    return str(area(code)["name"])


#: ``area_type`` of a multi-area CDP in every table.
CDP_AREA_TYPE = "Combating Drugs Partnership"

#: ``area_type`` in tables by the register's area type, in OHID Fingertips' words (its County & UA exports
#: call a county council 'County' and every other upper-tier area — unitary, metropolitan district, London
#: borough, City of London — 'UA').
FINGERTIPS_AREA_TYPES = {"CTY": "County", "UA": "UA", "MD": "UA", "LBO": "UA", "CC": "UA", "Region": "Region",
                         "Country": "England"}


def area_type_of(codes) -> list[str]:
    """The Fingertips-style ``area_type`` of each code ('County', 'UA', 'Region', 'England'); '' if unknown."""
    types = _areas().set_index("code")["type"].map(FINGERTIPS_AREA_TYPES)
    return [str(types.get(c, "")) if pd.notna(types.get(c, "")) else "" for c in codes]
