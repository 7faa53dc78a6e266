"""ONS table MYE2 in the old Excel (``.xls``) workbooks of mid-2015 to mid-2019, found by content.

The layout of these editions changed from year to year, so nothing is found by its position or exact name:

* **sheets**: every sheet whose header row holds ``Code``, ``Name`` and ``All ages`` (in any case) and whose
  title rows name table MYE2 and one sex. Mid-2015's sheets are ``UK persons`` / ``UK males`` /
  ``UK females`` (title 'MYE2: … mid-2015' over 'ALL PERSONS', 'MALES', 'FEMALES'); later editions call
  them ``MYE2 - All`` / ``MYE2 - M`` / ``MYE2 - F`` (2016, 2017), ``MYE2-All`` / ``MYE2 - Males`` /
  ``MYE2 - Females`` (2018) or ``MYE2 - Persons`` … (2019), titled 'MYE2: Population estimates: Persons …';
* **columns**: ``CODE``, ``NAME``, ``ALL AGES`` (mid-2015) and ``Geography1`` (a footnote mark, mid-2017 on)
  are read as ``Code``, ``Name``, ``All ages``, ``Geography``. The last age column is 90 and over: it is
  headed ``90`` until mid-2018 and ``90+`` from mid-2019 (the check that single years add up to 'All ages'
  confirms it);
* **geography**: mid-2015 and mid-2016 have no Geography column. Each row's geography is then named from
  its GSS code's entity prefix (``E06`` 'Unitary Authority', ``E07`` 'Non-metropolitan District', ``E10``
  'County', ``E11`` 'Metropolitan County', ``E12`` 'Region', ``E92`` 'Country' …), the labels the later
  editions print.

The year is read from the titles by :mod:`cdp_analysis.data.ons_population`, which tidies and checks the
tables as it does the ``.xlsx`` editions.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from ..errors import InputError
from .readers import read_excel_tables

log = logging.getLogger(__name__)

#: The header cells every MYE2 table has, in any case (mid-2015 writes them in capitals).
REQUIRED = ["Code", "Name", "All ages"]

#: ONS's geography label of each GSS entity prefix, as the MYE2 editions with a Geography column print it.
GEOGRAPHY_BY_PREFIX = {
    "K02": "Country", "K03": "Country", "K04": "Country", "E92": "Country", "W92": "Country", "S92": "Country",
    "N92": "Country", "E12": "Region", "E11": "Metropolitan County", "E10": "County",
    "E06": "Unitary Authority", "W06": "Unitary Authority", "E07": "Non-metropolitan District",
    "E08": "Metropolitan District", "E09": "London Borough", "S12": "Council Area",
    "N09": "Local Government District",
}

_SEX_WORDS = {"persons": r"\bpersons\b", "males": r"\bmales\b", "females": r"\bfemales\b"}
_NAMED = {"code": "Code", "name": "Name", "geography": "Geography", "all ages": "All ages"}
_GSS = r"[A-Z][0-9]{8}"


class Mye2Sheet(NamedTuple):
    """One MYE2 table of a workbook: its sex, sheet name, rows (canonical columns) and title rows."""

    sex: str
    sheet: str
    table: pd.DataFrame
    preamble: list[str]


def sex_of(preamble: list[str]) -> str | None:
    """The sex an MYE2 table is of, read from its title rows ('… Males by single year …', 'ALL PERSONS');
    None if the title does not name table MYE2 and exactly one sex."""
    text = " ".join(preamble).lower()
    if "mye2" not in text:
        return None
    found = [sex for sex, word in _SEX_WORDS.items() if re.search(word, text)]
    return found[0] if len(found) == 1 else None


def _canonical(table: pd.DataFrame) -> pd.DataFrame:
    """Columns named as the ``.xlsx`` editions name them: Code, Name, Geography, All ages, 0 … 89, 90+."""
    names = {}
    for column in table.columns:
        word = re.fullmatch(r"([A-Za-z][A-Za-z ]*?)\s*[0-9]*", str(column))  # 'Geography1': a footnote mark
        if word and word.group(1).lower() in _NAMED:
            names[column] = _NAMED[word.group(1).lower()]
    table = table.rename(columns=names)
    if "90" in table.columns and "90+" not in table.columns and "91" not in table.columns:
        table = table.rename(columns={"90": "90+"})
    return table


def _with_geography(table: pd.DataFrame, *, file: Path, sheet: str) -> pd.DataFrame:
    """The table with a Geography column: as published, or named from each area code's prefix."""
    if "Geography" in table.columns:
        return table
    code = table["Code"].astype("string").str.strip()
    area = code.str.fullmatch(_GSS).fillna(False).astype(bool)
    geography = code.str[:3].map(GEOGRAPHY_BY_PREFIX)
    unknown = area & geography.isna()
    if unknown.any():
        r = table.loc[unknown].iloc[0]
        raise InputError(f"the sheet has no Geography column and the code '{r['Code']}' is not of a kind ONS "
                         f"uses for a local authority, county, region or country (prefixes "
                         f"{', '.join(GEOGRAPHY_BY_PREFIX)})", file=file, where=f"sheet '{sheet}', row {r['_row']}",
                         hint="restore the published file unchanged from ../shared/data (see data/README.md)")
    out = table.copy()
    out.insert(list(out.columns).index("Name") + 1, "Geography", geography.where(area, "").astype(object))
    return out


def mye2_sheets(path: Path) -> list[Mye2Sheet]:
    """The persons, males and females MYE2 tables of an ``.xls`` workbook, found by their header and title.

    Raises
    ------
    InputError
        If a sex has no MYE2 table, or two sheets hold one; naming the sheets the workbook has.
    """
    tables, sheets = read_excel_tables(path, REQUIRED)
    found: dict[str, list[str]] = {}
    out = []
    for sheet, (table, preamble) in tables.items():
        sex = sex_of(preamble)
        if sex is None:
            continue
        found.setdefault(sex, []).append(sheet)
        out.append(Mye2Sheet(sex, sheet, _with_geography(_canonical(table), file=path, sheet=sheet), preamble))
    for sex in ("persons", "males", "females"):
        if not found.get(sex):
            held = "; ".join(f"{s} in sheet '{n[0]}'" for s, n in found.items()) or "none"
            raise InputError(f"no sheet holds the MYE2 table of {sex} (MYE2 tables found: {held}; sheets: "
                             f"{', '.join(sheets)})", file=path,
                             hint="a sheet is missing or its title was changed; restore the published file "
                                  "unchanged from ../shared/data (see data/README.md)")
        if len(found[sex]) > 1:
            raise InputError(f"two sheets hold the MYE2 table of {sex}: '{found[sex][0]}' and '{found[sex][1]}'",
                             file=path, hint="restore the published file unchanged from ../shared/data")
    return sorted(out, key=lambda s: ("persons", "males", "females").index(s.sex))
