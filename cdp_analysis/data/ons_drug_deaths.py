"""ONS deaths related to drug poisoning and drug misuse, by local authority (England and Wales).

Reads the local-authority workbook as published (``*localauthorities.xlsx``):

* Tables 1–2: deaths **registered in each year** (persons), drug poisoning (1) and drug misuse (2), every
  area (England and Wales, England, regions, counties and unitary authorities, districts), one column per
  year, latest first;
* Tables 3–8: deaths in **3-year pooled** periods ('2019–21' …) with the **age-standardised rate** per
  100,000 (2013 European Standard Population) and its 95% limits — drug poisoning (3 persons, 4 males,
  5 females) and drug misuse (6 persons, 7 males, 8 females). ONS does not publish a rate for fewer than 10
  deaths (':'), and flags rates from 10–19 deaths as unreliable ('u'). The edition does not apply this
  exactly: 24 cells (districts, mostly before 2012) have a rate for 3–9 deaths or none for 10–12; they are
  kept as published (the rules below allow them).

Only English rows are read (England, its regions, counties, unitary authorities and districts). (The
Welsh rows of Rhondda Cynon Taf and Merthyr Tydfil have their pooled drug-misuse counts swapped for 2001-03
to 2009-11 in this edition.) Each table's title is checked to say the cause and sex the suite expects. Areas are on the boundaries the
edition names (May 2022): North and West Northamptonshire are back-cast; Cumbria, North Yorkshire and
Somerset are still counties (their districts are listed, so current areas can be built from them).

:func:`annual` → ``code, name, level, cause, year, deaths, _sheet, _row, _column, source, source_cell``;
:func:`pooled` → ``code, name, level, cause, sex, period, first_year, deaths, rate, lower_ci, upper_ci,
rate_note, _sheet, _row, _column, source, source_cell, rate_source_cell``. ``level`` is 'country', 'region',
'county or UA' or 'district' (the column the name is in); ``rate_note`` is '' or the published marker's meaning.
``_sheet``, ``_row`` (as Excel numbers it) and ``_column`` (the letter of the deaths column) say where a row was
read; ``source_cell`` is the cell of its deaths and ``rate_source_cell`` (pooled) the cell of its rate, in A1
notation after the sheet's name (``'Table 1!E123'``, :func:`cell_reference`), for the tables' ``source_cell``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register, sources
from .cache import load_registered
from .readers import column_index, column_letter, open_workbook

log = logging.getLogger(__name__)

WORKBOOK = register.FileKind("ons_drug_deaths_la", "ons_drug_deaths", "*localauthorities*.xlsx")
_PARSER_VERSION = 1

#: sheet -> (cause, sex) of each table, and the words its title must hold.
ANNUAL = {"Table 1": "drug poisoning", "Table 2": "drug misuse"}
POOLED = {"Table 3": ("drug poisoning", "Persons"), "Table 4": ("drug poisoning", "Male"),
          "Table 5": ("drug poisoning", "Female"), "Table 6": ("drug misuse", "Persons"),
          "Table 7": ("drug misuse", "Male"), "Table 8": ("drug misuse", "Female")}
_SEX_WORD = {"Persons": "persons", "Male": "males", "Female": "females"}
_LEVELS = {1: "region", 2: "county or UA", 3: "district"}
RATE_NOTES = {":": "fewer than 10 deaths: no rate published", "u": "rate unreliable: 10 to 19 deaths"}



def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def _check_title(rows: list[tuple], sheet: str, words: list[str], path: Path) -> None:
    title = str(rows[1][0] if len(rows) > 1 else "")
    if not all(w in title.lower() for w in words):
        raise InputError(f"sheet '{sheet}' is not the table expected (its title should mention "
                         f"{' and '.join(repr(w) for w in words)}; found {title[:80]!r})", file=path,
                         where=f"sheet '{sheet}', row 2", hint="use the published workbook (data/README.md)")


def _header_row(rows: list[tuple], sheet: str, path: Path) -> int:
    for i, r in enumerate(rows[:15]):
        if r and str(r[0]).strip() == "Area Codes":
            return i
    raise InputError("no header row starting 'Area Codes'", file=path, where=f"sheet '{sheet}'",
                     hint="use the published workbook (data/README.md)")


def _areas(rows: list[tuple], start: int) -> list[tuple[int, str, str, str]]:
    """(row index, code, name, level) of every area row below the header."""
    out = []
    for i in range(start, len(rows)):
        r = rows[i]
        code = str(r[0]).strip() if r and r[0] else ""
        if not re.fullmatch(r"E[0-9]{8}", code):  # England only (Wales and England-and-Wales rows are not read)
            continue
        j = next((k for k in (1, 2, 3) if r[k] not in (None, "") and str(r[k]).strip()), None)
        name = str(r[j]).strip() if j else ""
        level = "country" if code.startswith("E92") else _LEVELS.get(j, "")
        out.append((i, code, name, level))
    return out


def _number(value, *, sheet: str, row: int, col: int, path: Path):
    """A cell as a float, NaN for ':' (not published), an error for anything else that is not a number."""
    if value is None or (isinstance(value, str) and value.strip() in ("", ":")):
        return np.nan
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", "").strip())
    except ValueError:
        raise InputError(f"a value is not a number ({value!r})", file=path,
                         where=f"sheet '{sheet}', row {row + 1}, column '{column_letter(col + 1)}'",
                         hint="restore the published workbook") from None


def _annual(wb, sheet: str, cause: str, path: Path) -> pd.DataFrame:
    rows = _rows(wb[sheet])
    _check_title(rows, sheet, [cause, "persons"], path)
    h = _header_row(rows, sheet, path)
    years = {c: int(v) for c, v in enumerate(rows[h]) if isinstance(v, int | float) or re.fullmatch(r"[0-9]+", str(v).strip()) is not None}
    if not years:
        raise InputError("no year columns in the header", file=path, where=f"sheet '{sheet}', row {h + 1}",
                         hint="use the published workbook (data/README.md)")
    recs = []
    for i, code, name, level in _areas(rows, h + 1):
        for c, y in years.items():
            recs.append((code, name, level, cause, y, _number(rows[i][c], sheet=sheet, row=i, col=c, path=path),
                         sheet, i + 1, column_letter(c + 1)))
    return pd.DataFrame(recs, columns=["code", "name", "level", "cause", "year", "deaths", "_sheet", "_row", "_column"])


def _pooled(wb, sheet: str, cause: str, sex: str, path: Path) -> pd.DataFrame:
    rows = _rows(wb[sheet])
    _check_title(rows, sheet, [cause, _SEX_WORD[sex]], path)
    h = _header_row(rows, sheet, path)
    periods = {c: str(v).strip() for c, v in enumerate(rows[h]) if v and re.match(r"[0-9]{4}\s*[–-]\s*[0-9]{2}", str(v))}
    sub = rows[h + 1]
    recs = []
    for c, label in periods.items():
        expected = ["Deaths", "Rate", None, "Lower", "Upper"]
        got = [str(sub[c + k] or "").strip() for k in range(5)]
        if not all(e is None or g.startswith(e) for e, g in zip(expected, got)):
            raise InputError(f"the columns under '{label}' are not Deaths, Rate, (flag), Lower and Upper limits",
                             file=path, where=f"sheet '{sheet}', row {h + 2}, column '{column_letter(c + 1)}'",
                             hint="use the published workbook (data/README.md)")
        first = int(label[:4])
        period = f"{first}-{label[-2:]}"
        for i, code, name, level in _areas(rows, h + 2):
            r = rows[i]
            flag = str(r[c + 2] or "").strip().lower()
            rate_raw = r[c + 1]
            marker = ":" if isinstance(rate_raw, str) and rate_raw.strip() == ":" else flag
            recs.append((code, name, level, cause, sex, period, first,
                         _number(r[c], sheet=sheet, row=i, col=c, path=path),
                         _number(rate_raw, sheet=sheet, row=i, col=c + 1, path=path),
                         _number(r[c + 3], sheet=sheet, row=i, col=c + 3, path=path),
                         _number(r[c + 4], sheet=sheet, row=i, col=c + 4, path=path),
                         marker, sheet, i + 1, column_letter(c + 1)))
    return pd.DataFrame(recs, columns=["code", "name", "level", "cause", "sex", "period", "first_year", "deaths",
                                       "rate", "lower_ci", "upper_ci", "marker", "_sheet", "_row", "_column"])


def parse_workbook(path: Path) -> pd.DataFrame:
    """Both kinds of table, stacked (``kind`` 'annual' or 'pooled')."""
    wb = open_workbook(path)
    try:
        missing = [s for s in [*ANNUAL, *POOLED] if s not in wb.sheetnames]
        if missing:
            raise InputError(f"sheet '{missing[0]}' not found (sheets: {', '.join(wb.sheetnames[:12])})", file=path,
                             hint="use the published workbook (data/README.md)")
        annual = pd.concat([_annual(wb, s, c, path) for s, c in ANNUAL.items()], ignore_index=True)
        pooled = pd.concat([_pooled(wb, s, c, x, path) for s, (c, x) in POOLED.items()], ignore_index=True)
    finally:
        wb.close()
    return pd.concat([annual.assign(kind="annual"), pooled.assign(kind="pooled")], ignore_index=True)


def _pooled_equals_annual(t: pd.DataFrame) -> pd.Series:
    """Persons: a pooled period's deaths equal the sum of its three years' registrations, to within 1 death
    (as published, Camden and Islington differ by 1 in two periods)."""
    ann = t[t["kind"] == "annual"]
    pool = t[(t["kind"] == "pooled") & (t["sex"] == "Persons")]
    by_year = ann.set_index(["code", "cause", "year"])["deaths"]
    ok = pd.Series(True, index=t.index)
    if pool.empty or ann.empty:
        return ok
    total = sum(by_year.reindex(pd.MultiIndex.from_arrays([pool["code"], pool["cause"], pool["first_year"] + k]))
                .to_numpy() for k in range(3))
    off = np.isfinite(total) & pool["deaths"].notna().to_numpy() & (np.abs(total - pool["deaths"].to_numpy()) > 1.5)
    ok[pool.index[off]] = False
    return ok


def _sexes_add_up(t: pd.DataFrame) -> pd.Series:
    """Males and females add up to persons (pooled deaths)."""
    pool = t[t["kind"] == "pooled"]
    wide = pool.pivot_table(index=["code", "cause", "period"], columns="sex", values="deaths", aggfunc="first")
    ok = pd.Series(True, index=t.index)
    if {"Persons", "Male", "Female"} <= set(wide.columns):
        bad = wide.index[(wide["Male"] + wide["Female"] - wide["Persons"]).abs() > 0.5]
        key = pd.MultiIndex.from_frame(pool[["code", "cause", "period"]])
        ok[pool.index[key.isin(bad) & (pool["sex"] == "Persons").to_numpy()]] = False
    return ok


#: Plausibility rules of the workbook (the error names sheet, row and column).
RULES = (
    plausibility.between("deaths", 0, 20_000, whole=True, what="a number of deaths"),
    plausibility.between("rate", 0, 200, what="an age-standardised rate per 100,000"),
    plausibility.Rule("the 95% limits bracket the rate", "rate",
                      lambda t: t["rate"].isna() | ((t["lower_ci"] <= t["rate"] + 1e-9)
                                                    & (t["rate"] <= t["upper_ci"] + 1e-9)), shown="rate"),
    plausibility.Rule("a rate is withheld (':') only below 20 deaths", "rate",
                      lambda t: (t["kind"] != "pooled") | t["deaths"].isna() | t["rate"].notna() | (t["deaths"] < 20),
                      shown="deaths"),
    plausibility.Rule("no rate where ONS's marker says none is published (':')", "rate",
                      lambda t: (t["kind"] != "pooled") | t["rate"].isna() | (t["marker"] != ":"), shown="rate"),
    plausibility.Rule("a rate flagged unreliable ('u') has 10 to 19 deaths", "rate",
                      lambda t: (t["marker"] != "u") | t["deaths"].between(10, 19), shown="deaths"),
    plausibility.Rule("a 3-year pooled count equals the sum of its three years' registrations, to 1 death",
                      "deaths", _pooled_equals_annual, shown="deaths"),
    plausibility.Rule("males and females add up to persons", "deaths", _sexes_add_up, shown="deaths"),
)


def cell_reference(sheet: pd.Series, row: pd.Series, column: pd.Series, *, offset: int = 0) -> pd.Series:
    """Each value's cell as ``'Table 1!E123'`` (the sheet's name, then the cell in Excel's A1 notation: column
    letter and row number as Excel shows them); ``offset`` moves that many columns right of ``column`` (the
    rate is the column after the deaths of a pooled period)."""
    letters = {c: column_letter(column_index(c) + offset) for c in column.unique()}
    return sheet.astype(str) + "!" + column.map(letters) + row.astype("int64").astype(str)


@memoised()
def _table() -> pd.DataFrame:
    return load_registered(WORKBOOK.kind, parse_workbook, name="ons_drug_deaths", version=_PARSER_VERSION,
                           rules=RULES)


def annual() -> pd.DataFrame:
    """Deaths registered in each year, persons, every area (see the module docstring)."""
    return _annual_all().copy()


@memoised()
def _annual_all() -> pd.DataFrame:
    t = _table()
    t = t[t["kind"] == "annual"]
    return t[["code", "name", "level", "cause", "year", "deaths", "_sheet", "_row", "_column", "source"]].assign(
        year=lambda d: d["year"].astype(int),
        source_cell=lambda d: cell_reference(d["_sheet"], d["_row"], d["_column"])).reset_index(drop=True)


def pooled() -> pd.DataFrame:
    """3-year pooled deaths and age-standardised rates with limits and ONS's markers."""
    return _pooled_all().copy()


@memoised()
def _pooled_all() -> pd.DataFrame:
    t = _table()
    t = t[t["kind"] == "pooled"]
    out = t[["code", "name", "level", "cause", "sex", "period", "first_year", "deaths", "rate", "lower_ci",
             "upper_ci", "_sheet", "_row", "_column", "source"]].copy()
    out["first_year"] = out["first_year"].astype(int)
    out["rate_note"] = t["marker"].map(RATE_NOTES).fillna("")
    out["source_cell"] = cell_reference(out["_sheet"], out["_row"], out["_column"])
    out["rate_source_cell"] = cell_reference(out["_sheet"], out["_row"], out["_column"], offset=1)
    return out.reset_index(drop=True)


def _load():
    return annual(), pooled()


def registration_year(path: Path) -> str:
    """The latest year of registration a workbook holds (its period), read with :func:`parse_workbook`."""
    t = parse_workbook(path)
    return str(int(t.loc[t["kind"] == "annual", "year"].max()))


DATASET = register.Dataset(name="ons_drug_deaths",
                           title="ONS deaths related to drug poisoning and drug misuse, by local authority",
                           kinds=(WORKBOOK,), load=_load, rules=RULES,
                           source=sources.OnsDataset(
                               page="https://www.ons.gov.uk/peoplepopulationandcommunity/birthsdeathsandmarriages/"
                                    "deaths/datasets/drugmisusedeathsbylocalauthority",
                               kind=WORKBOOK.kind, files=r"localauthorities\.xlsx$", period=registration_year))
