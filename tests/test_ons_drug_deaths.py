"""ONS deaths related to drug poisoning by local authority: cells as published, markers honoured, pooled counts
equal to the sum of their years, and a broken workbook reported by sheet, row and column."""

from __future__ import annotations

import pytest

from cdp_analysis.data import ons_drug_deaths


def _one(t, **where):
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, where
    return t.iloc[0]


def test_nottinghamshire_drug_misuse_2019_21_as_published():
    row = _one(ons_drug_deaths.pooled(), code="E10000024", cause="drug misuse", sex="Persons", period="2019-21")
    assert (row["deaths"], row["rate"], row["lower_ci"], row["upper_ci"]) == (58, 2.5, 1.9, 3.2)
    assert row["rate_note"] == "" and row["_sheet"] == "Table 6" and row["level"] == "county or UA"
    assert row["source"].startswith("ons_drug_deaths/2021localauthorities.xlsx [")


def test_the_three_years_add_up_to_the_pooled_count():
    ann = ons_drug_deaths.annual()
    years = ann[(ann["code"] == "E10000024") & (ann["cause"] == "drug misuse") & ann["year"].between(2019, 2021)]
    assert len(years) == 3 and years["deaths"].sum() == 58


def test_annual_cells_as_published():
    ann = ons_drug_deaths.annual()
    assert _one(ann, code="E10000024", cause="drug poisoning", year=2021)["deaths"] == 57
    assert _one(ann, code="E92000001", cause="drug poisoning", year=1993)["deaths"] == 2069
    assert _one(ann, code="E07000026", cause="drug poisoning", year=2021)["level"] == "district"  # Allerdale
    assert ann["year"].min() == 1993 and ann["year"].max() == 2021


def test_markers_are_honoured_never_turned_into_numbers():
    p = ons_drug_deaths.pooled()
    city = _one(p, code="E09000001", cause="drug misuse", sex="Persons", period="2019-21")  # City of London
    assert city["deaths"] == 2 and city["rate"] != city["rate"] and city["rate_note"].startswith("fewer than 10")
    darlington = _one(p, code="E06000005", cause="drug poisoning", sex="Persons", period="2015-17")
    assert darlington["deaths"] == 19 and darlington["rate"] == 6.1 and darlington["rate_note"].startswith("rate unreliable")


def test_england_only_and_every_sex_and_period():
    p = ons_drug_deaths.pooled()
    assert p["code"].str.startswith("E").all()
    assert set(p["sex"]) == {"Persons", "Male", "Female"}
    assert p["period"].min() == "2001-03" and p["period"].max() == "2019-21"


def test_a_retitled_table_is_refused(tmp_path):
    import openpyxl

    from cdp_analysis.errors import InputError
    src = ons_drug_deaths.register.file_of_kind(ons_drug_deaths.WORKBOOK.kind)
    wb = openpyxl.load_workbook(src)
    wb["Table 6"]["A2"] = "Number of deaths related to drug poisoning, persons"
    broken = tmp_path / "2021localauthorities.xlsx"
    wb.save(broken)
    with pytest.raises(InputError) as exc:
        ons_drug_deaths.parse_workbook(broken)
    assert "sheet 'Table 6' is not the table expected" in exc.value.message and "'drug misuse'" in exc.value.message


def test_text_in_a_rate_cell_names_sheet_row_and_column(tmp_path):
    import openpyxl

    from cdp_analysis.errors import InputError
    src = ons_drug_deaths.register.file_of_kind(ons_drug_deaths.WORKBOOK.kind)
    wb = openpyxl.load_workbook(src)
    ws = wb["Table 6"]
    row = next(r for r in range(1, 450) if ws.cell(r, 1).value == "E10000024")
    ws.cell(row, 6).value = "two point five"
    broken = tmp_path / "2021localauthorities.xlsx"
    wb.save(broken)
    with pytest.raises(InputError) as exc:
        ons_drug_deaths.parse_workbook(broken)
    assert f"sheet 'Table 6', row {row}, column 'F'" in exc.value.message and "not a number" in exc.value.message
