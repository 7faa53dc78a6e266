"""NDTMS ViewIt exports: both real layouts read column by column, and broken copies give one clear error each."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cdp_analysis.data import ndtms_viewit
from cdp_analysis.errors import InputError

RAW = Path(__file__).resolve().parent.parent / "data" / "raw" / "ndtms_viewit"
BARNET = RAW / "viewit_export_adult_LAs_barnet.csv"
ENGLAND = RAW / "viewit_export_adult_england.csv"
ALCOHOL = ("alcohol only", "non-opiate and alcohol")


def _value(t, **where):
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, where
    return t.iloc[0]


def test_local_export_as_published():
    t = ndtms_viewit.read_export(BARNET)
    assert len(t) == 780 and set(t["area_name"]) == {"Barnet"}
    # cells read from the file: 2009/10 totals; the 2021/22 rows spell their totals 'TOTAL'
    assert _value(t, period="2009/10", drug_group="all", sex="Persons", age="18+")["in_treatment"] == 1105
    assert _value(t, period="2009/10", drug_group="all", sex="Persons", age="18+")["newpresentation_newtx"] == 595
    assert _value(t, period="2021/22", drug_group="all", sex="Persons", age="18+")["in_treatment"] > 0
    assert set(t["drug_group"]) == set(ndtms_viewit.DRUG_GROUPS)
    assert set(t["rounded_to"]) == {5} and (t["in_treatment"].dropna() % 5 == 0).all()
    assert t["source"].str.startswith("ndtms_viewit/viewit_export_adult_LAs_barnet.csv [").all()


def test_null_cells_are_missing_never_zero():
    raw = list(csv.DictReader(BARNET.open(encoding="utf-8-sig")))
    nulls = [(i, c) for i, r in enumerate(raw) for c, v in r.items() if v == "NULL"]
    assert nulls
    t = ndtms_viewit.read_export(BARNET)
    i, col = nulls[0]
    assert t.loc[i, col.lower()] != t.loc[i, col.lower()]  # NaN


def test_england_export_and_its_upper_case_year():
    t = ndtms_viewit.read_export(ENGLAND)
    assert _value(t, period="2009/10", drug_group="all", sex="Persons", age="18+")["in_treatment"] == 311668
    assert _value(t, period="2021/22", drug_group="all", sex="Persons", age="18+")["in_treatment"] == 289215
    assert _value(t, period="2021/22", drug_group="opiate", sex="Male", age="30-49")["in_treatment"] > 0
    assert set(t["rounded_to"]) == {1}


def test_alcohol_in_treatment_is_the_two_alcohol_groups():
    t = ndtms_viewit.read_export(BARNET)
    alc = ndtms_viewit.in_treatment(t, drug_groups=ALCOHOL).set_index("period")["value"]
    assert alc["2009/10"] == 295 + 160 and alc["2019/20"] == 270 + 155
    eng = ndtms_viewit.in_treatment(ndtms_viewit.read_export(ENGLAND), drug_groups=ALCOHOL).set_index("period")["value"]
    # OHID's transcribed 2021/22 'alcohol only' figure (84,697) is part of the ViewIt sum
    assert eng["2021/22"] - 84697 == pytest.approx(34378)


def _broken(tmp_path: Path, edit) -> Path:
    rows = list(csv.reader(BARNET.open(encoding="utf-8-sig")))
    edit(rows)
    out = tmp_path / "viewit_export_adult_LAs_broken.csv"
    with out.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return out


def _col(rows, name):
    return rows[0].index(name)


def _drop_column(rows):
    i = _col(rows, "intreatment_allintx")
    for r in rows:
        del r[i]


def _text_in_count(rows):
    rows[5][_col(rows, "intreatment_allintx")] = "about 40"


def _duplicate_row(rows):
    rows.insert(3, list(rows[2]))


def _negative(rows):
    rows[4][_col(rows, "newpresentation_newtx")] = "-5"


def _unknown_group(rows):
    rows[7][_col(rows, "drug_group")] = "Cannabis"


def _parts_do_not_add_up(rows):
    i = _col(rows, "intreatment_allintx")
    row = next(r for r in rows[1:] if r[3] == "Total" and r[2] == "Total" and r[4] == "Opiate")
    row[i] = str(int(row[i]) + 500)


def _unrounded(rows):
    i = _col(rows, "intreatment_allintx")
    rows[1][i] = str(int(rows[1][i]) + 2)


@pytest.mark.parametrize(("edit", "needles"), [
    (_drop_column, ["missing column(s) 'intreatment_allintx'", "header (line 1)"]),
    (_text_in_count, ["a value is not a number", "row 6, column 'intreatment_allintx'", "'about 40'"]),
    (_duplicate_row, ["listed once", "row 4"]),
    (_negative, ["a count is not negative", "column 'newpresentation_newtx'", "-5"]),
    (_unknown_group, ["drug group is one NDTMS reports", "row 8", "'Cannabis'"]),
    (_parts_do_not_add_up, ["add up to the total"]),
    (_unrounded, ["multiple of 5", "row 2"]),
])
def test_broken_copies_give_one_clear_error(tmp_path, edit, needles):
    path = _broken(tmp_path, edit)
    with pytest.raises(InputError) as exc:
        ndtms_viewit.read_export(path)
    msg = exc.value.message
    assert str(path) in msg and "\n  -> " in msg, msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in:\n{msg}"
