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
from .readers import read_csv_table, to_numbers

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


def _heading(column: str) -> str:
    """A file heading in one spelling: lower case without the England export's ``_Data`` suffix."""
    return re.sub(r"_data$", "", column.strip().lower())


def _financial_year(period: pd.Series) -> pd.Series:
    """True where ``period`` is a financial year 'YYYY/YY' whose second year follows the first."""
    parts = period.str.extract(r"^((?:19|20)\d\d)/(\d\d)$").astype(float)
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


#: Plausibility rules of any ViewIt export.
RULES = (
    plausibility.Rule("the reporting period is a financial year written YYYY/YY", "ReportingPeriod",
                      lambda t: _financial_year(t["period"]), shown="period"),
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
    plausibility.Rule("the drug groups add up to the total (within NDTMS rounding)", "intreatment_allintx",
                      lambda t: _within_rounding(t, "drug_group", "all"), shown="in_treatment"),
    plausibility.Rule("men and women add up to the total (within NDTMS rounding)", "intreatment_allintx",
                      lambda t: _within_rounding(t, "sex", "Persons"), shown="in_treatment"),
    plausibility.Rule("the age groups add up to the total (within NDTMS rounding)", "intreatment_allintx",
                      lambda t: _within_rounding(t, "age", "18+"), shown="in_treatment"),
)


def read_export(path: str | Path, *, source: str | None = None) -> pd.DataFrame:
    """Read one ViewIt adult export (partnership or England layout), validated column by column.

    Parameters
    ----------
    path : str or Path
        The CSV as downloaded from ViewIt.
    source : str, optional
        The citation to carry in ``source`` (default: the data register's, or the path of an analyst's file).

    Raises
    ------
    InputError
        A missing key or adults-in-treatment column, text other than ``NULL`` in a count, a negative count,
        an unknown period, drug group, sex or age group, a repeated row, or parts that do not add up to their
        total — naming the file, line and column.
    """
    path = Path(path)
    raw = read_csv_table(path, [])
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
    keys = {key: raw[col].astype(str).str.strip() for key, col in found.items()}
    measures = [c for c in raw.columns if c != "_row" and c not in found.values()]
    numbers = {}
    for col in measures:
        text = raw[col].astype(str).str.strip()
        cleaned = raw.assign(**{col: text.where(text.str.upper() != "NULL", "")})
        numbers["in_treatment" if col == count_col else _heading(col)] = to_numbers(
            cleaned, col, file=path, allow_missing=True)
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
    plausibility.check(t, RULES, file=path)
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
