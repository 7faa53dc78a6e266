"""ONS deaths related to drug poisoning in England and Wales: national reference tables (registrations).

Reads Table 2 of the reference tables as published (``*registrations.xlsx``): deaths registered each year by
sex (persons, males, females), age group (all ages, under 20, 20-29, 30-39, 40-49, 50-69, 70 and over) and
cause (all drug poisoning; of which drug misuse), for England and Wales, England and Wales separately. The
suite reads **England**'s columns: its age-specific counts are the reference for indirectly standardising
an area's deaths (the trends chapter).

:func:`england_by_age` → ``sex, age_group, age_from, age_to, cause, year, deaths, _sheet, _row, _column,
source`` (``age_to`` 200 for the open band, 'all ages' spans 0–200).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register
from .cache import cached_parse
from .readers import column_letter, open_workbook

log = logging.getLogger(__name__)

WORKBOOK = register.FileKind("ons_drug_deaths_national", "ons_drug_deaths", "*registrations*.xlsx")
_PARSER_VERSION = 1
SHEET = "Table 2"
_SEXES = {"persons": "Persons", "males": "Male", "females": "Female"}
_CAUSES = {"all drug poisoning": "drug poisoning", "of which: drug misuse": "drug misuse"}



def _ages(label: str) -> tuple[int, int]:
    text = label.strip().lower()
    if text == "all ages":
        return 0, 200
    if m := re.fullmatch(r"under (\d+)", text):
        return 0, int(m.group(1)) - 1
    if m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", text):
        return int(m.group(1)), int(m.group(2))
    if m := re.fullmatch(r"(\d+) and over", text):
        return int(m.group(1)), 200
    raise ValueError(label)


def parse_workbook(path: Path) -> pd.DataFrame:
    """England's deaths by sex, age group, cause and year from Table 2."""
    wb = open_workbook(path)
    try:
        if SHEET not in wb.sheetnames:
            raise InputError(f"sheet '{SHEET}' not found", file=path, hint="use the published workbook (data/README.md)")
        rows = list(wb[SHEET].iter_rows(values_only=True))
    finally:
        wb.close()
    head = next((i for i, r in enumerate(rows[:12]) if r and str(r[0] or "").strip() == "Age groups"), None)
    if head is None:
        raise InputError("no header row starting 'Age groups'", file=path, where=f"sheet '{SHEET}'",
                         hint="use the published workbook (data/README.md)")
    ages, causes, places = rows[head], rows[head + 1], rows[head + 2]
    cols = []
    age = cause = None
    for c in range(3, len(places)):
        age = ages[c] if ages[c] else age
        cause = causes[c] if causes[c] else cause
        if places[c] and str(places[c]).strip() == "England":
            try:
                lo, hi = _ages(str(age))
            except ValueError:
                raise InputError(f"unknown age group '{age}'", file=path,
                                 where=f"sheet '{SHEET}', row {head + 1}, column '{column_letter(c + 1)}'",
                                 hint="use the published workbook (data/README.md)") from None
            key = _CAUSES.get(str(cause).strip().lower())
            if key is None:
                raise InputError(f"unknown cause '{cause}'", file=path,
                                 where=f"sheet '{SHEET}', row {head + 2}, column '{column_letter(c + 1)}'",
                                 hint="use the published workbook (data/README.md)")
            cols.append((c, str(age).strip(), lo, hi, key))
    recs, sex = [], None
    for i in range(head + 3, len(rows)):
        r = rows[i]
        if r[0] and str(r[0]).strip().lower() in _SEXES:
            sex = _SEXES[str(r[0]).strip().lower()]
            continue
        if sex is None or not isinstance(r[1], int | float):
            continue
        for c, label, lo, hi, cause in cols:
            v = r[c]
            if not isinstance(v, int | float):
                raise InputError(f"a value is not a number ({v!r})", file=path,
                                 where=f"sheet '{SHEET}', row {i + 1}, column '{column_letter(c + 1)}'",
                                 hint="restore the published workbook")
            recs.append((sex, label, lo, hi, cause, int(r[1]), float(v), SHEET, i + 1, column_letter(c + 1)))
    return pd.DataFrame(recs, columns=["sex", "age_group", "age_from", "age_to", "cause", "year", "deaths", "_sheet",
                                       "_row", "_column"])


def _parts_add_up(t: pd.DataFrame, dim: str, total, parts_of) -> pd.Series:
    keys = [k for k in ("sex", "age_group", "cause", "year") if k != dim]
    tot = t[t[dim] == total].set_index(keys)["deaths"]
    parts = t[parts_of(t)].groupby(keys)["deaths"].sum()
    off = (tot - parts.reindex(tot.index)).abs() > 0.5
    bad = set(off[off].index)
    return ~(t[dim].eq(total) & pd.Series([k in bad for k in map(tuple, t[keys].to_numpy())], index=t.index))


#: Plausibility rules of Table 2 (England's columns).
RULES = (
    plausibility.between("deaths", 0, 10_000, whole=True, what="a number of deaths"),
    plausibility.Rule("the age groups add up to all ages", "deaths",
                      lambda t: _parts_add_up(t, "age_group", "All ages", lambda d: d["age_group"] != "All ages"),
                      shown="deaths"),
    plausibility.Rule("males and females add up to persons", "deaths",
                      lambda t: _parts_add_up(t, "sex", "Persons", lambda d: d["sex"] != "Persons"), shown="deaths"),
    plausibility.Rule("drug misuse deaths are at most all drug poisoning deaths", "deaths",
                      lambda t: _misuse_within_poisoning(t), shown="deaths"),
)


def _misuse_within_poisoning(t: pd.DataFrame) -> pd.Series:
    keys = ["sex", "age_group", "year"]
    poison = t[t["cause"] == "drug poisoning"].set_index(keys)["deaths"]
    misuse = t[t["cause"] == "drug misuse"]
    over = misuse["deaths"].to_numpy() > poison.reindex(pd.MultiIndex.from_frame(misuse[keys])).to_numpy()
    ok = pd.Series(True, index=t.index)
    ok[misuse.index[over]] = False
    return ok


@memoised()
def england_by_age() -> pd.DataFrame:
    """England's registered drug deaths by sex, age group, cause and year (see the module docstring)."""
    path = register.file_of_kind(WORKBOOK.kind)
    t = cached_parse(path, parse_workbook, name="ons_drug_deaths_national", version=_PARSER_VERSION)
    plausibility.check(t, RULES, file=path)
    return t.assign(source=register.citation_of(path))


DATASET = register.Dataset(name="ons_drug_deaths_national",
                           title="ONS deaths related to drug poisoning in England and Wales (reference tables)",
                           kinds=(WORKBOOK,), load=england_by_age, rules=RULES)
