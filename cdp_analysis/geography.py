"""Registry of the areas the suite reports on: the 153 current English upper-tier local authorities,
the 9 English regions and England.

Upper-tier areas come from ``data/raw/lookups/utla_current_england_from_mysociety.csv`` (code, name,
type, region). The regions' GSS codes are the ONS standard identifiers; tests check them against the
region rows of the ONS population workbooks.
"""

from __future__ import annotations

import functools
import logging
import re

import pandas as pd

from . import register
from .errors import InputError, closest
from .tabular import read_csv_table

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

#: Expected number of current upper-tier areas in each region (ONS, 2023 geography).
REGION_SIZES = {"North East": 12, "North West": 24, "Yorkshire and The Humber": 15, "East Midlands": 10,
                "West Midlands": 14, "East of England": 11, "London": 33, "South East": 19, "South West": 15}

#: Upper-tier area types as coded in the register, in words.
AREA_TYPES = {"UA": "Unitary authority", "CTY": "County", "MD": "Metropolitan district",
              "LBO": "London borough", "CC": "City of London"}


def slugify(name: str) -> str:
    """A lower-case, hyphenated identifier for a name: 'Bournemouth, Christchurch and Poole' -> 'bournemouth-christchurch-and-poole'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _region_name(raw: str) -> str:
    key = raw.strip().lower()
    for name in REGION_CODES:
        if name.lower() == key:
            return name
    return _REGION_ALIASES.get(key, raw.strip())


@functools.lru_cache(maxsize=1)
def _areas() -> pd.DataFrame:
    path = register.file_of_kind("utla_register")
    raw = read_csv_table(path, ["utla_code", "utla_name", "local-authority-type", "region"])
    bad = ~raw["utla_code"].str.fullmatch(r"E0[6-9]\d{6}|E1\d{7}")
    if bad.any():
        r = raw.loc[bad].iloc[0]
        raise InputError(f"'{r['utla_code']}' is not an English upper-tier area code", file=path,
                         where=f"row {r['_row']}, column 'utla_code'", hint="restore the published file")
    region = raw["region"].map(_region_name)
    # Region membership is taken from ONS's own hierarchy where available: the mySociety-derived register
    # misplaces some counties (Derbyshire, Lincolnshire).
    from .population import region_membership

    ons = region_membership().map(_region_name)
    ons_region = raw["utla_code"].str.strip().map(ons)
    changed = ons_region.notna() & (ons_region != region)
    for r in raw.loc[changed].itertuples():
        log.info("region of %s %s taken from ONS (%s), not the register (%s)", r.utla_code, r.utla_name,
                 ons_region[r.Index], region[r.Index])
    region = ons_region.fillna(region)
    unknown = ~region.isin(list(REGION_CODES))
    if unknown.any():
        r = raw.loc[unknown].iloc[0]
        raise InputError(f"unknown region '{r['region']}'", file=path, where=f"row {r['_row']}, column 'region'",
                         hint=f"use one of: {', '.join(REGION_CODES)}")
    utla = pd.DataFrame({
        "code": raw["utla_code"].str.strip(),
        "name": raw["utla_name"].str.strip(),
        "type": raw["local-authority-type"].str.strip(),
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


def area(code: str) -> pd.Series:
    """The registry row for one area code; a clear error for a legacy or unknown code."""
    table = _areas()
    hit = table[table["code"] == code]
    if len(hit) == 1:
        return hit.iloc[0]
    from .vintage import legacy_code_message

    legacy = legacy_code_message(code)
    if legacy:
        raise InputError(legacy, hint="use the current code(s) named above; `cdp areas` lists every current area")
    suggestion = closest(code, table["code"]) or closest(code, table["name"])
    hint = f"did you mean '{suggestion[0]}'?" if suggestion else "run `cdp areas` to list valid codes"
    raise InputError(f"'{code}' is not a current English upper-tier area, region or England code", hint=hint)


def name_of(code: str) -> str:
    """The area's name."""
    return str(area(code)["name"])
