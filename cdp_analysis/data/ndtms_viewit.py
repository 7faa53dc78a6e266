"""OHID NDTMS ViewIt exports: adults in structured drug and alcohol treatment, by year, area and drug group.

ViewIt (https://www.ndtms.net/ViewIt/Adult) exports a partnership's adult treatment data as CSV. Two layouts
are read, column by column:

* the **partnership (local authority) export**: 244 lower-case columns, ``ReportingPeriod, Area, sex,
  age_group, drug_group`` then one column per measure (``intreatment_allintx`` adults in treatment in the
  year, ``newpresentation_newtx`` new presentations, ``exits_successfulcompletion_allintx``,
  ``substanceanycitation_opiatesandorcrack_allintx`` adults citing opiates and/or crack …); suppressed cells
  are ``NULL``; NDTMS rounds every local count to the nearest 5;
* the **England export**: ``ReportingPeriod_Data, Area_Data, DrugGroup_Data, Gender_Data, AgeGroup_Data,
  Num_InTreatment_AllInTx`` and five ethnicity counts, unrounded.

Both spell their categories inconsistently across years (``Total``/``TOTAL``, ``opiates``/``OPIATES``/
``Opiate``, ``Non-opiate & alcohol``/``alcohol & non-opiates``); :func:`read_export` maps them to one
vocabulary: ``drug_group`` in :data:`DRUG_GROUPS` ('all', 'opiate', 'non-opiate only', 'alcohol only',
'non-opiate and alcohol'), ``sex`` Persons/Male/Female, ``age`` '18+', '18-29', '30-49', '50+'.

Returns one row per (period, area, drug group, sex, age) with ``period, area_name, drug_group, sex, age``,
every measure column as a number (``in_treatment`` for the adults-in-treatment count of either layout; NaN
where the export says ``NULL``), ``rounded_to`` (5 for a local area, whose counts NDTMS rounds; 1 for England), ``_row`` and
``source``. Counts are never un-rounded.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register
from .readers import by_file, fresh_copy_hint, read_csv_table, to_plain_number_frame

log = logging.getLogger(__name__)

ENGLAND_EXPORT = register.FileKind("ndtms_viewit_england", "ndtms_viewit", "viewit_export_adult_england*.csv")
LOCAL_EXPORT = register.FileKind("ndtms_viewit_local", "ndtms_viewit", "viewit_export_adult_LAs_*.csv",
                                 optional=True)

#: The drug groups of NDTMS, in report order, with each spelling the exports use.
DRUG_GROUPS = {
    "all": ("total",),
    "opiate": ("opiate", "opiates"),
    "non-opiate only": ("non-opiate only", "non-opiates only"),
    "alcohol only": ("alcohol only",),
    "non-opiate and alcohol": ("non-opiate & alcohol", "alcohol & non-opiates", "non-opiates & alcohol"),
}
_GROUP_OF = {spelling: group for group, spellings in DRUG_GROUPS.items() for spelling in spellings}
_SEX_OF = {"total": "Persons", "m": "Male", "f": "Female", "male": "Male", "female": "Female"}
_AGE_OF = {"total": "18+", "18-29": "18-29", "30-49": "30-49", "50+": "50+"}
#: Key columns of either layout, by their name in the suite.
_KEYS = {"period": ("reportingperiod",), "area_name": ("area",), "sex": ("sex", "gender"),
         "age": ("age_group", "agegroup"), "drug_group": ("drug_group", "druggroup")}
_IN_TREATMENT = ("intreatment_allintx", "num_intreatment_allintx")
KEY = ["period", "area_name", "drug_group", "sex", "age"]
#: What an analyst can do about a damaged export of their own (a file in data/raw gets the hint to copy it again).
OWN_HINT = ("export the data again from ViewIt (ndtms.net > ViewIt > Adult > CSV) and name the new file unchanged; "
            "do not edit or re-save it in a spreadsheet")
#: The same for a well-formed but implausible value in an analyst's own export.
OWN_RULE_HINT = ("an export from ViewIt never fails this rule: export the data again from ViewIt (CSV) and name the new "
                 "file unchanged; if a fresh export still fails it, ask OHID's NDTMS team about it")
#: The measures whose count is part of the adults in treatment of the same row.
_PARTS_OF_IN_TREATMENT = {"newpresentation_newtx": "new presentations are at most the adults in treatment",
                          "substanceanycitation_opiatesandorcrack_allintx":
                              "adults citing opiates and/or crack are at most the adults in treatment"}


def _heading(column: str) -> str:
    """A file heading in one spelling: lower case without the England export's ``_Data`` suffix."""
    return re.sub(r"_data$", "", column.strip().lower())


def _financial_year(period: pd.Series) -> pd.Series:
    """True where ``period`` is a financial year 'YYYY/YY' whose second year follows the first."""
    parts = period.str.extract(r"^((?:19|20)[0-9][0-9])/([0-9][0-9])$").astype(float)
    return ((parts[0] + 1) % 100 == parts[1]).fillna(False)


def _within_rounding(t: pd.DataFrame, dimension: str, total: str) -> pd.Series:
    """The rows of ``dimension`` other than ``total`` add up to its ``total`` row (adults in treatment), within
    NDTMS rounding (half the rounding base per part), at every value of the other keys."""
    others = [k for k in ("period", "area_name", "drug_group", "sex", "age") if k != dimension]
    parts = t[t[dimension] != total].groupby(others)["in_treatment"].agg(["sum", "size"])
    totals = t[t[dimension] == total].join(parts, on=others)
    slack = totals["size"] * totals["rounded_to"] / 2 + 1e-9
    off = (totals["in_treatment"] - totals["sum"]).abs() > slack
    ok = pd.Series(True, index=t.index)
    ok[totals.index[off & totals["sum"].notna() & totals["in_treatment"].notna()]] = False
    return ok


def _complete_periods(t: pd.DataFrame) -> pd.Series:
    """Every period of an area lists the same (drug group, sex, age) rows as its fullest period: a period with
    fewer is what an export cut at the end of a line leaves."""
    combos = t["drug_group"].astype(str) + "|" + t["sex"].astype(str) + "|" + t["age"].astype(str)
    n = combos.groupby([t["area_name"], t["period"]]).transform("nunique")
    fullest = n.groupby(t["area_name"]).transform("max")
    return n == fullest


def _today(t: pd.DataFrame):
    return t.attrs.get("today") or plausibility.production_date()


def _at_most_in_treatment(measure: str):
    def passes(t: pd.DataFrame) -> pd.Series:
        if measure not in t.columns:
            return pd.Series(True, index=t.index)
        return t[measure].isna() | t["in_treatment"].isna() | (t[measure] <= t["in_treatment"])
    return passes


#: Plausibility rules of any ViewIt export.
RULES = (
    plausibility.Rule("the reporting period is a financial year written YYYY/YY", "ReportingPeriod",
                      lambda t: _financial_year(t["period"]), shown="period"),
    plausibility.Rule(f"the reporting period is {plausibility.NDTMS_FIRST_YEAR}/"
                      f"{(plausibility.NDTMS_FIRST_YEAR + 1) % 100:02d} or later (NDTMS's first year)", "ReportingPeriod",
                      lambda t: plausibility.period_starts_from(t["period"], plausibility.NDTMS_FIRST_YEAR,
                                                                financial=True), shown="period"),
    plausibility.Rule("the reporting period has ended by the day the report is produced", "ReportingPeriod",
                      lambda t: plausibility.period_ended(t["period"], _today(t)), shown="period"),
    plausibility.Rule("the drug group is one NDTMS reports (total, opiate, non-opiate only, alcohol only, "
                      "non-opiate and alcohol)", "drug_group", lambda t: t["drug_group"].notna(), shown="_drug"),
    plausibility.Rule("sex is Total, M or F", "sex", lambda t: t["sex"].notna(), shown="_sex"),
    plausibility.Rule("the age group is Total, 18-29, 30-49 or 50+", "age_group", lambda t: t["age"].notna(),
                      shown="_age"),
    plausibility.Rule("a count is not negative", "intreatment_allintx",
                      lambda t: t["_negative"].isna(), shown="_negative"),
    plausibility.Rule("a local count is a multiple of 5 (NDTMS rounds local counts)", "intreatment_allintx",
                      lambda t: (t["rounded_to"] == 1) | (t["in_treatment"] % 5 == 0) | t["in_treatment"].isna(),
                      shown="in_treatment"),
    plausibility.Rule("each period, area, drug group, sex and age group is listed once", "ReportingPeriod",
                      lambda t: ~t.duplicated(KEY), shown="period"),
    plausibility.Rule("every period of an area lists the same drug groups, sexes and age groups (an export cut "
                      "short lists fewer in its last period)", "ReportingPeriod", _complete_periods, shown="period"),
    plausibility.Rule("the drug groups add up to the total (within NDTMS rounding)", "intreatment_allintx",
                      lambda t: _within_rounding(t, "drug_group", "all"), shown="in_treatment"),
    plausibility.Rule("men and women add up to the total (within NDTMS rounding)", "intreatment_allintx",
                      lambda t: _within_rounding(t, "sex", "Persons"), shown="in_treatment"),
    plausibility.Rule("the age groups add up to the total (within NDTMS rounding)", "intreatment_allintx",
                      lambda t: _within_rounding(t, "age", "18+"), shown="in_treatment"),
    *(plausibility.Rule(name, measure, _at_most_in_treatment(measure), shown=measure)
      for measure, name in _PARTS_OF_IN_TREATMENT.items()),
)


@by_file()
def read_export(path: str | Path, *, source: str | None = None, today=None) -> pd.DataFrame:
    """Read one ViewIt adult export (partnership or England layout), validated column by column.

    Memoised by the file's content (:func:`~cdp_analysis.data.readers.by_file`): validating a file named in a
    params file, then reading it in the chapter, parses it once.

    Parameters
    ----------
    path : str or Path
        The CSV as downloaded from ViewIt.
    source : str, optional
        The citation to carry in ``source`` (default: the data register's, or the path of an analyst's file).
    today : datetime.date, optional
        The production date (default :func:`~cdp_analysis.data.plausibility.production_date`): a period
        that ends after it is refused.

    Raises
    ------
    InputError
        A row cut short (fewer values than the header, or a quote never closed: an export that did not
        finish), a missing key or adults-in-treatment column, an export without rows or whose every
        adults-in-treatment count is ``NULL``, a count not written as a plain whole number (``1e3``, ``5.5``,
        ``1,1,8``), a count larger than England's adult population, a negative count, an unknown period, drug
        group, sex or age group, a period before 2005/06 or not yet ended, a repeated row, or parts larger
        than their total — naming the file, its own line and the column.
    """
    path = Path(path)
    hint = fresh_copy_hint(path, OWN_HINT)
    raw = read_csv_table(path, [], own_hint=OWN_HINT)
    heading = {_heading(c): c for c in raw.columns if c != "_row"}
    found = {key: next((heading[s] for s in spellings if s in heading), None) for key, spellings in _KEYS.items()}
    count_col = next((heading[s] for s in _IN_TREATMENT if s in heading), None)
    missing = [spellings[0] for key, spellings in _KEYS.items() if found[key] is None]
    if count_col is None:
        missing.append(_IN_TREATMENT[0])
    if missing:
        raise InputError(f"not an NDTMS ViewIt adult export: missing column(s) {', '.join(repr(m) for m in missing)}",
                         file=path, where="header (line 1)",
                         hint="export the adult data from ViewIt (CSV) unchanged: it has ReportingPeriod, Area, sex, "
                              "age_group, drug_group and intreatment_allintx")
    if raw.empty:
        raise InputError("the export has a header but no rows", file=path, hint=hint)
    keys = {key: raw[col].astype(str).str.strip() for key, col in found.items()}
    measures = [c for c in raw.columns if c != "_row" and c not in found.values()]
    block = to_plain_number_frame(raw, measures, file=path, hint=hint, missing=("", "NULL"),
                                  bound=plausibility.MAX_PEOPLE, bound_why="more than England's adult population")
    numbers = {"in_treatment" if col == count_col else _heading(col): block[col] for col in measures}
    if numbers["in_treatment"].isna().all():
        raise InputError(f"every value of '{count_col}' (adults in treatment) is NULL or empty: the export holds no "
                         "data", file=path, where=f"column '{count_col}'",
                         hint="export the data again from ViewIt for a period and area it publishes (NULL marks a "
                              "suppressed figure)" if hint == OWN_HINT else hint)
    t = pd.DataFrame({"period": keys["period"], "area_name": keys["area_name"],
                      "_drug": keys["drug_group"], "_sex": keys["sex"], "_age": keys["age"]})
    t["drug_group"] = t["_drug"].str.lower().map(_GROUP_OF)
    t["sex"] = t["_sex"].str.lower().map(_SEX_OF)
    t["age"] = t["_age"].str.lower().map(_AGE_OF)
    counts = pd.DataFrame(numbers, index=raw.index)
    negative = counts.lt(0)
    first_negative = negative.idxmax(axis=1).where(negative.any(axis=1))
    t["_negative"] = [counts.at[i, c] if isinstance(c, str) else np.nan for i, c in first_negative.items()]
    t["rounded_to"] = np.where(t["area_name"].str.lower() == "england", 1, 5)
    t = pd.concat([t, counts], axis=1).assign(_row=raw["_row"])
    if t["_negative"].notna().any():
        col = first_negative[t["_negative"].notna()].iloc[0]
        t["_column"] = np.where(t["_negative"].notna(), col, "")
    t.attrs["today"] = today
    plausibility.check(t, RULES, file=path,
                       hint=plausibility.HINT if hint != OWN_HINT else OWN_RULE_HINT)
    t.attrs.clear()
    if source is None:
        try:
            source = register.citation_of(path)
        except Exception:  # noqa: BLE001 - an analyst's own export outside data/raw: cite its path
            source = f"{path} [analyst's own NDTMS ViewIt export]"
    drop = [c for c in ("_drug", "_sex", "_age", "_negative", "_column") if c in t.columns]
    return t.drop(columns=drop).assign(source=source).reset_index(drop=True)


@memoised()
def england() -> pd.DataFrame:
    """The registered England export."""
    return read_export(register.file_of_kind(ENGLAND_EXPORT.kind))


@memoised()
def local_exports() -> dict[str, pd.DataFrame]:
    """Every registered partnership export in ``data/raw/ndtms_viewit/`` (e.g. Barnet's), by file path."""
    return {str(p): read_export(p) for p in register.files_of_kind(LOCAL_EXPORT.kind, required=False)}


def load() -> dict[str, pd.DataFrame]:
    """The pre-run check: the England export and every registered partnership export."""
    return {"england": england(), **local_exports()}


def in_treatment(t: pd.DataFrame, *, drug_groups: tuple[str, ...], sex: str = "Persons", age: str = "18+",
                 measure: str = "in_treatment") -> pd.DataFrame:
    """Adults in treatment for the sum of ``drug_groups`` (e.g. alcohol = 'alcohol only' + 'non-opiate and
    alcohol'), by period and area: ``period, area_name, value, rounded_to, source``. A period missing any of
    the groups (or with a ``NULL``) gives no row."""
    part = t[t["drug_group"].isin(drug_groups) & (t["sex"] == sex) & (t["age"] == age)]
    g = part.groupby(["period", "area_name"], as_index=False).agg(
        value=(measure, lambda v: v.sum(min_count=len(drug_groups)) if v.notna().all() else np.nan),
        n=("drug_group", "nunique"), rounded_to=("rounded_to", "max"), source=("source", "first"))
    g = g[(g["n"] == len(drug_groups)) & g["value"].notna()]
    return g.drop(columns="n").sort_values(["area_name", "period"], ignore_index=True)


DATASET = register.Dataset(name="ndtms_viewit", title="OHID NDTMS ViewIt adult treatment exports",
                           kinds=(ENGLAND_EXPORT, LOCAL_EXPORT), load=load, rules=RULES)
