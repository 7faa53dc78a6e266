"""ONS Crime Survey for England and Wales (CSEW): drug misuse appendix tables, as published.

Reads ``drugsmisusetables*.xlsx`` (the appendix tables of 'Drug misuse in England and Wales'; the edition
held is the year ending June 2022) into one tidy table of survey percentages with their unweighted bases:

* the national series, 1995 onwards, of use in the last year (sheets ``1.02`` for ages 16–59, ``1.08``
  for 16–24), in the last month (``1.03``, ``1.09``) and ever (``1.01``, ``1.07``), for every drug the
  tables give; frequent use (more than once a month in the last year) of any drug (``2.01``);
* last-year use of cannabis, any Class A drug and any drug by age group (``3.03``), by sex × age
  (``3.04``), by region (``3.08``) and by household and area characteristics (``3.02``).

Tidy columns: ``table`` (sheet), ``drug`` (the published label without its note reference:
'Any Class A drug'), ``recall_period`` ('ever', 'last year', 'last month', 'frequent'), ``age_group``
('16-59', '16-24', '25-59', '16-19' …; hyphens, not the published en dashes), ``sex`` ('persons',
'males', 'females'), ``region`` (3.08: 'England', region names as in :mod:`cdp_analysis.areas.geography`,
'Wales'; else ''), ``characteristic_type``/``characteristic`` (3.02; else ''), ``survey_year`` (the
survey's own label: 'Apr 2019 to Mar 2020', 'Oct 2021 to Jun 2022'), ``survey_start``/``survey_end``
(first and last month as decimal years), ``percent`` (NaN where the table has a marker), ``value_note``
(the marker's meaning: '[x] not asked that year', '[c] suppressed: too few respondents'), ``base``
(unweighted base: adults asked, for the same table, age group, sex and year), ``_row``/``_column`` (the
cell) and ``source`` (data-register citation).

Bases: the tables give one unweighted base per age group (and sex, region) and year, for 'any drug';
ONS notes that "bases for other drug measures will be similar", so that base is used for every drug.

:func:`headlines` reads the transcribed headline percentages for later survey years
(``csew_headlines_transcribed.csv``, each row with its source URL).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register, sources, transcribed
from .cache import cached_parse
from .readers import column_letter, read_csv_table, read_excel_table, to_numbers

log = logging.getLogger(__name__)

WORKBOOK = register.FileKind("csew_drug_misuse_tables", "ons_csew", "drugsmisusetables*.xlsx")
HEADLINES = register.FileKind("csew_headlines", "ons_csew", "csew_headlines_transcribed.csv")

#: The markers of the tables and what they mean (a marked cell is a missing value with this reason, never 0).
MARKERS = {"[x]": "[x] not asked that year", "[c]": "[c] suppressed: too few respondents",
           "[u]": "[u] low reliability", ":": ": not available", "[z]": "[z] not applicable",
           "-": "- not available"}
#: Sheets of the national series: sheet -> (recall period, age group).
SERIES = {"1.01": ("ever", "16-59"), "1.02": ("last year", "16-59"), "1.03": ("last month", "16-59"),
          "1.07": ("ever", "16-24"), "1.08": ("last year", "16-24"), "1.09": ("last month", "16-24")}
RECALL_PERIODS = ("ever", "last year", "last month", "frequent")
_REGIONS = {"east": "East of England", "yorkshire and the humber": "Yorkshire and The Humber"}
_YEAR = re.compile(r"^(?P<m1>[A-Z][a-z]{2}) (?P<y1>[0-9]{4}) to (?P<m2>[A-Z][a-z]{2}) (?P<y2>[0-9]{4})$")
_MONTHS = {m: i for i, m in enumerate(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                       "Nov", "Dec"])}
_AGE = re.compile(r"^[0-9]{2}\s*[–-]\s*[0-9]{2}$")
_PARSER_VERSION = 2


def clean_label(text) -> str:
    """A published row label without note references, en dashes or stray spaces: 'Any Class A drug'."""
    text = re.sub(r"\[note [0-9]+\]", "", str(text)).replace("–", "-")
    return re.sub(r"\s+", " ", text).strip()


def survey_span(label: str) -> tuple[float, float]:
    """First and last month of a survey year as decimal years: 'Apr 2019 to Mar 2020' -> (2019.25, 2020.25)."""
    m = _YEAR.match(label.strip())
    if not m:
        raise ValueError(label)
    start = int(m["y1"]) + _MONTHS[m["m1"]] / 12
    end = int(m["y2"]) + (_MONTHS[m["m2"]] + 1) / 12
    return start, end


def _year_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if isinstance(c, str) and _YEAR.match(c.strip())]


def _cells(table: pd.DataFrame, rows: pd.DataFrame, years: list[str], *, path: Path, sheet: str) -> pd.DataFrame:
    """The year cells of ``rows`` as long form: ``_row, survey_year, percent, value_note, _column``."""
    letters = {c: column_letter(list(table.columns).index(c) + 1) for c in years}
    long = rows[["_row", *years]].melt(id_vars="_row", var_name="survey_year", value_name="raw")
    text = long["raw"].astype(str).str.strip()
    marker = text.map(MARKERS)
    unknown = long["raw"].notna() & marker.isna() & pd.to_numeric(long["raw"], errors="coerce").isna()
    if unknown.any():
        bad = long[unknown].iloc[0]
        raise InputError(f"unrecognised cell {bad['raw']!r} (neither a number nor a marker: "
                         f"{', '.join(MARKERS)})", file=path,
                         where=f"sheet '{sheet}', row {bad['_row']}, column {letters[bad['survey_year']]}",
                         hint="restore the published workbook")
    long["percent"] = pd.to_numeric(long["raw"], errors="coerce")
    long["value_note"] = marker.fillna("")
    long.loc[long["raw"].isna(), "value_note"] = "not published"
    long["_column"] = long["survey_year"].map(letters)
    long["survey_year"] = long["survey_year"].str.strip()
    return long.drop(columns="raw")



def _series(path: Path, sheet: str) -> pd.DataFrame:
    recall, age = SERIES[sheet]
    table, _ = read_excel_table(path, sheet, ["Drug type"])
    years = _year_columns(table)
    label = table["Drug type"].map(clean_label)
    is_base = label.str.startswith("Unweighted base")
    if is_base.sum() != 1:
        raise InputError("no 'Unweighted base' row below the drugs", file=path, where=f"sheet '{sheet}'",
                         hint="use the published workbook (data/README.md)")
    base_row = table[is_base]
    bases = _cells(table, base_row, years, path=path, sheet=sheet).set_index("survey_year")["percent"]
    drugs = table[~is_base & table["Drug type"].notna() & (label != "")]
    long = _cells(table, drugs, years, path=path, sheet=sheet)
    long["drug"] = long["_row"].map(dict(zip(drugs["_row"], label[drugs.index])))
    return long.assign(table=sheet, recall_period=recall, age_group=age, sex="persons",
                       base=long["survey_year"].map(bases))


def _frequent(path: Path) -> pd.DataFrame:
    sheet = "2.01"
    table, _ = read_excel_table(path, sheet, ["Personal characteristics"])
    years = _year_columns(table)
    label = table["Personal characteristics"].map(clean_label)
    frames = []
    for i in np.flatnonzero(label.str.contains("Frequent user").to_numpy()):
        age = re.match(r"([0-9]+-[0-9]+)", label.iloc[i])[1]
        if i + 1 >= len(table) or not label.iloc[i + 1].startswith("Unweighted base"):
            raise InputError(f"no 'Unweighted base' row below '{label.iloc[i]}'", file=path,
                             where=f"sheet '{sheet}', row {table['_row'].iloc[i]}", hint="use the published workbook")
        long = _cells(table, table.iloc[[i]], years, path=path, sheet=sheet)
        base = _cells(table, table.iloc[[i + 1]], years, path=path, sheet=sheet).set_index("survey_year")["percent"]
        frames.append(long.assign(table=sheet, drug="Any drug", recall_period="frequent", age_group=age,
                                  sex="persons", base=long["survey_year"].map(base)))
    if not frames:
        raise InputError("no 'Frequent user' rows", file=path, where=f"sheet '{sheet}'", hint="use the published workbook")
    return pd.concat(frames, ignore_index=True)


def _blocks(path: Path, sheet: str, first: str, *, kind: str) -> pd.DataFrame:
    """Sheets 3.03 (age), 3.04 (sex × age) and 3.08 (region): a block of rows per drug, then the bases."""
    table, _ = read_excel_table(path, sheet, [first])
    years = _year_columns(table)
    rows = []
    drug, sex, in_base = None, "persons", False
    for _, r in table.iterrows():
        raw = r[first]
        if raw is None or (isinstance(raw, float) and np.isnan(raw)):
            continue
        text = clean_label(raw)
        indented = str(raw).startswith(" ")
        if text.startswith("Unweighted base"):
            in_base, sex = True, "persons"
            continue
        if kind == "sex" and text in {"Men", "Male"}:
            sex = "males"
            continue
        if kind == "sex" and text in {"Women", "Female"}:
            sex = "females"
            continue
        if kind == "region" and (indented or text in {"England", "Wales"}):
            rows.append((r["_row"], drug, "16-59", "persons", _REGIONS.get(text.lower(), text), in_base))
            continue
        if _AGE.match(text.replace(" ", "")):
            rows.append((r["_row"], drug, text.replace(" ", ""), sex, "", in_base))
            continue
        if in_base:
            raise InputError(f"unexpected row '{text}' among the bases", file=path,
                             where=f"sheet '{sheet}', row {r['_row']}", hint="use the published workbook")
        drug, sex = text, "persons"
        if kind != "region":  # the drug's own row is its 16-59 total
            rows.append((r["_row"], drug, "16-59", "persons", "", False))
    index = pd.DataFrame(rows, columns=["_row", "drug", "age_group", "sex", "region", "is_base"])
    cells = _cells(table, table[table["_row"].isin(index["_row"])], years, path=path, sheet=sheet).merge(index, on="_row")
    values = cells[~cells["is_base"]].drop(columns="is_base")
    bases = cells[cells["is_base"]].rename(columns={"percent": "base"})[["age_group", "sex", "region", "survey_year", "base"]]
    if kind != "region":  # the 16-59 base of every sex is the sum of its age groups' bases
        sums = bases.groupby(["sex", "region", "survey_year"], as_index=False)["base"].sum(min_count=1)
        bases = pd.concat([bases, sums.assign(age_group="16-59")], ignore_index=True)
        if kind == "sex":
            persons = bases[bases["age_group"] == "16-59"].groupby(["region", "survey_year"], as_index=False)["base"].sum(min_count=1)
            bases = pd.concat([bases, persons.assign(age_group="16-59", sex="persons")], ignore_index=True)
        bases = bases.drop_duplicates(["age_group", "sex", "region", "survey_year"])
    out = values.merge(bases, on=["age_group", "sex", "region", "survey_year"], how="left")
    return out.assign(table=sheet, recall_period="last year")


def _characteristics(path: Path, survey_year: str) -> pd.DataFrame:
    """Table 3.02: one survey year only (``survey_year``, the latest of the series tables)."""
    sheet = "3.02"
    table, _ = read_excel_table(path, sheet, ["Household and area characteristics"])
    cols = {clean_label(c).split(" [")[0]: c for c in table.columns if isinstance(c, str)}
    need = ["Cannabis", "Any Class A drug", "Any drug", "Unweighted base"]
    missing = [n for n in need if n not in cols]
    if missing:
        raise InputError(f"the header lacks {missing}", file=path, where=f"sheet '{sheet}'",
                         hint="use the published workbook")
    group = table["Household and area characteristics"].ffill().map(clean_label)
    breakdown = table["Characteristics breakdown"].map(lambda v: clean_label(v) if v is not None else "")
    frames = []
    for drug in need[:3]:
        c = cols[drug]
        raw = table[c].astype(object)
        marker = raw.astype(str).str.strip().map(MARKERS)
        frames.append(pd.DataFrame({
            "_row": table["_row"], "drug": drug, "characteristic_type": group,
            "characteristic": breakdown.where(breakdown != "", group),
            "percent": pd.to_numeric(raw, errors="coerce"), "value_note": marker.fillna(""),
            "_column": column_letter(list(table.columns).index(c) + 1),
            "base": pd.to_numeric(table[cols["Unweighted base"]], errors="coerce")}))
    out = pd.concat(frames, ignore_index=True)
    return out.assign(table=sheet, recall_period="last year", age_group="16-59", sex="persons",
                      survey_year=survey_year)


def parse_workbook(path: Path) -> pd.DataFrame:
    """Parse every table the suite uses from the CSEW drug misuse workbook (see the module docstring)."""
    frames = [_series(path, s) for s in SERIES]
    frames.append(_frequent(path))
    frames.append(_blocks(path, "3.03", "Age breakdown", kind="age"))
    frames.append(_blocks(path, "3.04", "Age breakdown", kind="sex"))
    frames.append(_blocks(path, "3.08", "Region", kind="region"))
    latest = max(frames[0]["survey_year"].unique(), key=lambda y: survey_span(y)[1])
    frames.append(_characteristics(path, latest))
    t = pd.concat(frames, ignore_index=True)
    for col in ("region", "characteristic_type", "characteristic"):
        t[col] = t[col].fillna("") if col in t.columns else ""
    span = t["survey_year"].drop_duplicates().map(lambda y: survey_span(y))
    starts = dict(zip(t["survey_year"].drop_duplicates(), span.str[0]))
    ends = dict(zip(t["survey_year"].drop_duplicates(), span.str[1]))
    t["survey_start"], t["survey_end"] = t["survey_year"].map(starts), t["survey_year"].map(ends)
    t["base"] = t["base"].astype(float)
    cols = ["table", "drug", "recall_period", "age_group", "sex", "region", "characteristic_type", "characteristic",
            "survey_year", "survey_start", "survey_end", "percent", "value_note", "base", "_row", "_column"]
    return t[cols].sort_values(["table", "_row", "survey_start"], ignore_index=True)


def _persons_between_sexes(t: pd.DataFrame) -> pd.Series:
    """In 3.04, the persons rate lies between the men's and the women's (within rounding)."""
    sub = t[t["table"] == "3.04"]
    wide = sub.pivot_table(index=["drug", "age_group", "survey_year"], columns="sex", values="percent")
    ok = pd.Series(True, index=t.index)
    if {"males", "females", "persons"} <= set(wide.columns):
        lo = wide[["males", "females"]].min(axis=1) - 0.05
        hi = wide[["males", "females"]].max(axis=1) + 0.05
        bad = wide.index[(wide["persons"] < lo) | (wide["persons"] > hi)]
        key = pd.MultiIndex.from_frame(t[["drug", "age_group", "survey_year"]])
        ok[(t["table"] == "3.04").to_numpy() & (t["sex"] == "persons").to_numpy() & key.isin(bad)] = False
    return ok


#: Plausibility rules of the workbook (checked on the parsed cells; the error names sheet, row and column).
RULES = (
    plausibility.between("percent", 0, 100, what="a survey percentage"),
    plausibility.between("base", 30, 60_000, whole=True, what="an unweighted base (adults asked)"),
    plausibility.Rule("the persons rate lies between the men's and the women's (Table 3.04)", "percent",
                      _persons_between_sexes),
)


@memoised()
def drug_use() -> pd.DataFrame:
    """Every CSEW drug-use percentage the suite reads, tidy (see the module docstring), with ``source``."""
    path = register.file_of_kind(WORKBOOK.kind)
    table = cached_parse(path, parse_workbook, name="csew", version=_PARSER_VERSION)
    plausibility.check(table.assign(_sheet=table["table"]), RULES, file=path)
    return table.assign(source=register.citation_of(path))


HEADLINE_RULES = (plausibility.between("percent", 0, 100, what="a headline percentage"),)


@memoised()
def headlines() -> pd.DataFrame:
    """The transcribed CSEW headline percentages for later years (``survey_year, age_group, measure, drug,
    percent, source_type, source_url, note``), with ``source``; ages use hyphens ('16-59'). Only rows from ONS's
    own pages (:func:`.transcribed.is_publishers_own`): a secondary report's figures are never used."""
    path = register.file_of_kind(HEADLINES.kind)
    raw = read_csv_table(path, ["survey_year", "age_group", "measure", "drug", "percent", "source_type",
                                "source_url", "note"])
    raw["percent"] = to_numbers(raw, "percent", file=path)
    plausibility.check(raw, HEADLINE_RULES, file=path)
    raw = raw[raw["source_url"].map(transcribed.is_publishers_own)]
    return raw.drop(columns="_row").assign(source=register.citation_of(path))


def _load():
    return drug_use(), headlines()


def latest_survey_year(path: Path) -> str:
    """The latest survey year a workbook holds ('Oct 2021 to Jun 2022'), read with :func:`parse_workbook`."""
    t = parse_workbook(path)
    return t.sort_values("survey_end")["survey_year"].iloc[-1]


DATASET = register.Dataset(name="ons_csew", title="ONS Crime Survey for England and Wales: drug misuse tables",
                           kinds=(WORKBOOK, HEADLINES), load=_load, rules=RULES + HEADLINE_RULES,
                           source=sources.OnsDataset(
                               page="https://www.ons.gov.uk/peoplepopulationandcommunity/crimeandjustice/datasets/"
                                    "drugmisuseinenglandandwalesappendixtable",
                               kind=WORKBOOK.kind, files=r"^drugs?misuse.*\.xlsx$", period=latest_survey_year))
