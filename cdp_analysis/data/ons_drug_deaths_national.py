"""ONS deaths related to drug poisoning in England and Wales: national reference tables (registrations).

Reads two tables of the reference tables as published.

**Table 2** (``*registrations.xlsx``): deaths registered each year by
sex (persons, males, females), age group (all ages, under 20, 20-29, 30-39, 40-49, 50-69, 70 and over) and
cause (all drug poisoning; of which drug misuse), for England and Wales, England and Wales separately. The
suite reads **England**'s columns: its age-specific counts are the reference for indirectly standardising
an area's deaths (the trends chapter).

:func:`england_by_age` → ``sex, age_group, age_from, age_to, cause, year, deaths, _sheet, _row, _column,
source`` (``age_to`` 200 for the open band, 'all ages' spans 0–200).

**Table 4**: deaths and age-standardised rates per **million** (ESP2013, 95% limits) by substance mentioned on
the death certificate (all drug poisoning, of which drug misuse, any opiate, heroin or morphine, methadone,
cocaine, benzodiazepines, new psychoactive substances …) and sex, **England and Wales combined** (the table has
no England-only columns), registered each year. ONS's markers are kept: ':' (rate not calculated, fewer than 10
deaths) and 'u' (unreliable, 10 to 19 deaths) in ``rate_note``. A death can mention several substances, so
substances do not add up. :func:`by_substance` → ``sex, substance, year, deaths, rate, lower_ci, upper_ci,
rate_note, _sheet, _row, _column, source``.

**Table 10**: the median registration delay (days from the death to its registration) of drug-poisoning and
drug-misuse deaths by year of registration, England and Wales separately: :func:`registration_delay`. Deaths are
counted by the year they are registered, after the coroner's inquest, so the delay says how far a year's
registrations lag its deaths.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register, sources
from .cache import load_registered
from .readers import column_letter, open_workbook

log = logging.getLogger(__name__)

WORKBOOK = register.FileKind("ons_drug_deaths_national", "ons_drug_deaths", "*registrations*.xlsx")
_PARSER_VERSION = 1
SHEET = "Table 2"
SUBSTANCE_SHEET = "Table 4"
#: Area of Table 4 (ONS code of England and Wales).
ENGLAND_AND_WALES = ("K04000001", "England and Wales")
_SEXES = {"persons": "Persons", "males": "Male", "females": "Female"}
_CAUSES = {"all drug poisoning": "drug poisoning", "of which: drug misuse": "drug misuse"}



def _ages(label: str) -> tuple[int, int]:
    text = label.strip().lower()
    if text == "all ages":
        return 0, 200
    if m := re.fullmatch(r"under ([0-9]+)", text):
        return 0, int(m.group(1)) - 1
    if m := re.fullmatch(r"([0-9]+)\s*-\s*([0-9]+)", text):
        return int(m.group(1)), int(m.group(2))
    if m := re.fullmatch(r"([0-9]+) and over", text):
        return int(m.group(1)), 200
    raise ValueError(label)


def _year_rows(rows: list[tuple], start: int):
    """The data rows of a table laid out in sex blocks ('Persons', 'Males', 'Females' alone in column A, then one
    row per year with the year in column B): (row index, sex, row)."""
    sex = None
    for i in range(start, len(rows)):
        r = rows[i]
        if r[0] and str(r[0]).strip().lower() in _SEXES:
            sex = _SEXES[str(r[0]).strip().lower()]
        elif sex is not None and isinstance(r[1], int | float):
            yield i, sex, r


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
    recs = []
    for i, sex, r in _year_rows(rows, head + 3):
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
    return load_registered(WORKBOOK.kind, parse_workbook, name="ons_drug_deaths_national", version=_PARSER_VERSION,
                           rules=RULES)


# --- Table 4: by substance, England and Wales ----------------------------------------------------------------


def _sheet_rows(path: Path, sheet: str) -> list[tuple]:
    """Every row of a sheet of the workbook, as values; one readable error if the sheet is missing."""
    wb = open_workbook(path)
    try:
        if sheet not in wb.sheetnames:
            raise InputError(f"sheet '{sheet}' not found", file=path, hint="use the published workbook (data/README.md)")
        return list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()


def _substance(label) -> str:
    """A substance heading without its footnote numbers ('Any opiate (…) 8' → 'Any opiate (…)')."""
    return re.sub(r"(\s+[0-9]+(,[0-9]+)*)+$", "", str(label).strip()).replace("of which: ", "")


def parse_substances(path: Path) -> pd.DataFrame:
    """Deaths and age-standardised rates by substance, sex and year (England and Wales) from Table 4."""
    rows = _sheet_rows(path, SUBSTANCE_SHEET)
    where = f"sheet '{SUBSTANCE_SHEET}'"
    head = next((i for i, r in enumerate(rows[:12]) if r and str(r[0] or "").strip() == "Substance"), None)
    if head is None or str(rows[head + 1][0] or "").strip() != "Sex":
        raise InputError("no header rows 'Substance' and 'Sex'", file=path, where=where,
                         hint="use the published workbook (data/README.md)")
    names, fields = rows[head], rows[head + 1]
    blocks = []
    for c, label in enumerate(names):
        if c < 2 or not label:
            continue
        got = [str(fields[c + k] or "").strip() for k in (0, 1, 3, 4)]
        if got != ["Deaths", "Rate", "Lower Confidence Limit", "Upper Confidence Limit"]:
            raise InputError(f"the columns under '{label}' are {got}, not Deaths, Rate, (note), Lower and Upper "
                             "Confidence Limit", file=path, where=f"{where}, row {head + 2}, column "
                                                                 f"'{column_letter(c + 1)}'",
                             hint="use the published workbook (data/README.md)")
        blocks.append((c, _substance(label)))
    recs = []
    for i, sex, r in _year_rows(rows, head + 2):
        for c, substance in blocks:
            deaths, rate, lo, hi = r[c], r[c + 1], r[c + 3], r[c + 4]
            if not isinstance(deaths, int | float):
                raise InputError(f"a number of deaths is not a number ({deaths!r})", file=path,
                                 where=f"{where}, row {i + 1}, column '{column_letter(c + 1)}'",
                                 hint="restore the published workbook")
            note = ""
            values = []
            for v, col in ((rate, c + 1), (lo, c + 3), (hi, c + 4)):
                if isinstance(v, int | float):
                    values.append(float(v))
                elif str(v).strip() in (":", "u"):
                    note = note or str(v).strip()
                    values.append(float("nan"))
                else:
                    raise InputError(f"a rate is neither a number nor ONS's ':' or 'u' ({v!r})", file=path,
                                     where=f"{where}, row {i + 1}, column '{column_letter(col + 1)}'",
                                     hint="restore the published workbook")
            flag = str(r[c + 2] or "").strip()
            note = flag if flag in (":", "u") else note
            recs.append((sex, substance, int(r[1]), float(deaths), *values, note, SUBSTANCE_SHEET, i + 1,
                         column_letter(c + 1)))
    return pd.DataFrame(recs, columns=["sex", "substance", "year", "deaths", "rate", "lower_ci", "upper_ci",
                                       "rate_note", "_sheet", "_row", "_column"])


#: Plausibility rules of Table 4.
SUBSTANCE_RULES = (
    plausibility.between("deaths", 0, 10_000, whole=True, what="a number of deaths"),
    plausibility.Rule("the 95% limits bracket the rate", "rate",
                      lambda t: ~((t["lower_ci"] > t["rate"] + 1e-9) | (t["upper_ci"] < t["rate"] - 1e-9))),
    plausibility.Rule("a rate is given from 10 deaths and withheld (':') below", "rate",
                      lambda t: ~((t["rate"].isna() & (t["rate_note"] == ":") & (t["deaths"] >= 10))
                                  | (t["rate"].notna() & (t["deaths"] < 10))), shown="deaths"),
    plausibility.sums_to("deaths", parts=lambda t: t["sex"] != "Persons", total=lambda t: t["sex"] == "Persons",
                         group=lambda t: t[["substance", "year"]], tolerance=0,
                         what="males and females add up to persons"),
)


@memoised()
def by_substance() -> pd.DataFrame:
    """Deaths and rates by substance mentioned, sex and year, England and Wales (see the module docstring)."""
    return load_registered(WORKBOOK.kind, parse_substances, name="ons_drug_deaths_substances",
                           version=_PARSER_VERSION, rules=SUBSTANCE_RULES, sheet=SUBSTANCE_SHEET)


# --- Table 10: median registration delay ---------------------------------------------------------------------

DELAY_SHEET = "Table 10"
_DELAY_COLUMNS = {2: ("drug poisoning", "England"), 3: ("drug poisoning", "Wales"), 5: ("drug misuse", "England"),
                  6: ("drug misuse", "Wales")}


def parse_delays(path: Path) -> pd.DataFrame:
    """Median days from death to registration by year of registration, cause and country, from Table 10."""
    rows = _sheet_rows(path, DELAY_SHEET)
    where = f"sheet '{DELAY_SHEET}'"
    head = next((i for i, r in enumerate(rows[:12]) if r and str(r[0] or "").strip() == "Year of death registration"),
                None)
    if head is None or [str(rows[head][c] or "").strip() for c in _DELAY_COLUMNS] != ["England", "Wales"] * 2:
        raise InputError("no header row 'Year of death registration' with England and Wales under all drug poisoning "
                         "and drug misuse", file=path, where=where, hint="use the published workbook (data/README.md)")
    recs = []
    for i in range(head + 1, len(rows)):
        r = rows[i]
        if not r or not isinstance(r[0], int | float):
            break
        for c, (cause, country) in _DELAY_COLUMNS.items():
            if not isinstance(r[c], int | float):
                raise InputError(f"a median delay is not a number ({r[c]!r})", file=path,
                                 where=f"{where}, row {i + 1}, column '{column_letter(c + 1)}'",
                                 hint="restore the published workbook")
            recs.append((int(r[0]), cause, country, float(r[c]), DELAY_SHEET, i + 1, column_letter(c + 1)))
    return pd.DataFrame(recs, columns=["year", "cause", "country", "median_delay_days", "_sheet", "_row", "_column"])


#: Plausibility rules of Table 10.
DELAY_RULES = (
    plausibility.between("median_delay_days", 0, 3 * 365, what="a median registration delay in days"),
)


@memoised()
def registration_delay() -> pd.DataFrame:
    """Median registration delay (days from death to registration) of drug-poisoning and drug-misuse deaths by year
    of registration, England and Wales separately (ONS Table 10): ``year, cause, country, median_delay_days,
    _sheet, _row, _column, source``."""
    return load_registered(WORKBOOK.kind, parse_delays, name="ons_drug_deaths_delays", version=_PARSER_VERSION,
                           rules=DELAY_RULES, sheet=DELAY_SHEET)


def _load() -> pd.DataFrame:
    by_substance()
    registration_delay()
    return england_by_age()


def registration_year(path: Path) -> str:
    """The latest year of registration the reference tables hold (their period), read from Table 2."""
    return str(int(parse_workbook(path)["year"].max()))


DATASET = register.Dataset(name="ons_drug_deaths_national",
                           title="ONS deaths related to drug poisoning in England and Wales (reference tables)",
                           kinds=(WORKBOOK,), load=_load, rules=(*RULES, *SUBSTANCE_RULES, *DELAY_RULES),
                           source=sources.OnsDataset(
                               page="https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/"
                                    "deaths/datasets/deathsrelatedtodrugpoisoningenglandandwalesreferencetable",
                               kind=WORKBOOK.kind, files=r"registrations?\.xlsx$", period=registration_year))
