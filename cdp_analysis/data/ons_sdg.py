"""ONS UK Sustainable Development Goal indicator 3.5.1 (England): alcohol treatment and met need by area.

Reads ``indicator_3-5-1.csv`` as published (``Year, Series, Units, Local Authority, Deprivation decile, Unit
multiplier, Unit measure, GeoCode, Value``): for each upper-tier area (on the geography of the year, before
2019), England and, in 2018/19, each deprivation decile, three series: 'Alcohol - Estimated prevalence' (the
OHID/Sheffield estimate of dependent adults), 'Alcohol - People in treatment' (adults in structured treatment
for 'alcohol only' or 'non-opiate and alcohol', NDTMS; local counts rounded to 5) and 'Alcohol - Met need' (%).

Counties and England have no code in the file: they are matched by name to the area register and the code
changes (:mod:`cdp_analysis.data.lookups`), so Northamptonshire is E10000021. Names of areas abolished before
2009 ('Bedfordshire (Discontinued)') and 'Cornwall & Isles of Scilly' keep an empty code.

Tidy columns: ``period``, ``series`` ('estimated need', 'in treatment', 'met need'), ``code``, ``name``,
``category`` (the deprivation decile, else ''), ``value``, ``unit`` ('persons', '%'), ``_row``, ``source``.
"""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import lookups, plausibility, register
from .readers import read_csv_table, to_numbers

log = logging.getLogger(__name__)

SDG_351 = register.FileKind("sdg_3_5_1", "ons_sdg_3_5_1", "indicator_3-5-1*.csv")
SERIES = {"Alcohol - Estimated prevalence": "estimated need", "Alcohol - People in treatment": "in treatment",
          "Alcohol - Met need": "met need"}
ENGLAND = "E92000001"


def _met_need_matches_counts(t: pd.DataFrame) -> pd.Series:
    """Met need = 100 × in treatment ÷ estimated need, to 0.01 percentage points, where all three are given."""
    key = ["period", "name", "category"]
    wide = t.pivot_table(index=key, columns="series", values="value", aggfunc="first")
    ok = pd.Series(True, index=t.index)
    if {"estimated need", "in treatment", "met need"} <= set(wide.columns):
        recomputed = 100 * wide["in treatment"] / wide["estimated need"]
        bad = wide.index[(wide["met need"] - recomputed).abs() > 0.01]
        rows = pd.MultiIndex.from_frame(t[key]).isin(bad) & (t["series"] == "met need").to_numpy()
        ok[rows] = False
    return ok


#: Plausibility rules of the file.
RULES = (
    plausibility.Rule("every series is one of the three published", "Series", lambda t: t["series"].notna()),
    plausibility.Rule("a number of people is not negative", "Value",
                      lambda t: (t["unit"] != "persons") | (t["value"] >= 0), shown="value"),
    plausibility.Rule("met need is between 0% and 100%", "Value",
                      lambda t: (t["unit"] != "%") | t["value"].between(0, 100), shown="value"),
    plausibility.Rule("met need equals 100 × people in treatment ÷ estimated need (to 0.01 points)", "Value",
                      _met_need_matches_counts, shown="value"),
)


def _plain(name: str) -> str:
    """A name without 'City of', 'County of', 'County', 'Council' and punctuation: 'Bristol, City of' -> 'bristol'."""
    text = re.sub(r",?\s*(City|County) of\b|\b(City of|County|Council)\b", "", str(name), flags=re.I)
    return re.sub(r"[^a-z]+", " ", text.lower()).strip()


def _codes_by_name() -> dict[str, str]:
    """Plain name -> code: current upper-tier areas, overridden by the former areas the file's years predate
    (Dorset County before Dorset Council, Northamptonshire before its split)."""
    areas = lookups.upper_tier_areas()
    changes = lookups.code_changes()
    changes = changes[changes["old_type"] != "NMD"]
    names = {_plain(n): c for n, c in zip(areas["name"], areas["code"])}
    names.update({_plain(n): c for n, c in zip(changes["old_name"], changes["old_code"])})
    return names


@memoised()
def series() -> pd.DataFrame:
    """Every row of the file, tidy (see the module docstring)."""
    path = register.file_of_kind(SDG_351.kind)
    raw = read_csv_table(path, ["Year", "Series", "Units", "Local Authority", "Deprivation decile", "GeoCode", "Value"])
    value = to_numbers(raw, "Value", file=path)
    name = raw["Local Authority"].str.strip()
    decile = raw["Deprivation decile"].str.strip()
    code = raw["GeoCode"].str.strip()
    by_name = _codes_by_name()
    code = code.where(code != "", name.map(_plain).map(by_name).fillna(""))
    england = (name == "") & (decile == "")
    code[england], name[england] = ENGLAND, "England"
    t = pd.DataFrame({"period": raw["Year"].str.strip(), "series": raw["Series"].str.strip().map(SERIES),
                      "code": code, "name": name, "category": decile,
                      "value": value, "_row": raw["_row"]})
    t.loc[decile != "", "name"] = "England"
    t.loc[decile != "", "code"] = ENGLAND
    t["unit"] = np.where(t["series"] == "met need", "%", "persons")
    dup = t.duplicated(["period", "series", "name", "category"], keep=False)
    if dup.any():  # the publisher repeats England's 2015/16 met need with a rounding difference: keep the first
        spread = t[dup].groupby(["period", "series", "name", "category"])["value"].agg(lambda v: v.max() - v.min())
        if (spread > 0.01).any():
            first = t[dup].iloc[0]
            raise InputError(f"{first['name']} {first['period']} '{first['series']}' is given twice with different "
                             "values", file=path, where=f"row {first['_row']}", hint="restore the published file")
        log.info("dropped %d repeated row(s) of %s", int(dup.sum() - len(spread)), path.name)
        t = t[~t.duplicated(["period", "series", "name", "category"], keep="first")]
    plausibility.check(t, RULES, file=path)
    unmatched = sorted(set(t.loc[t["code"] == "", "name"]))
    if unmatched:
        log.info("no current or former code for %s (kept without a code)", ", ".join(unmatched))
    return t.reset_index(drop=True).assign(source=register.citation_of(path))


DATASET = register.Dataset(name="ons_sdg", title="ONS UK SDG indicator 3.5.1: alcohol treatment and met need (England)",
                           kinds=(SDG_351,), load=series, rules=RULES)
