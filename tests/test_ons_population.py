"""ONS population loaders: values as published, internal consistency, current areas, cache, new editions."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

import cdp_analysis
from cdp_analysis.areas import current_population, vintage
from cdp_analysis.data import ons_population, register


@pytest.fixture(scope="module")
def est():
    cdp_analysis.clear_caches()
    return ons_population.estimates()


def _total(t, code, year, sex="persons"):
    return int(t[(t["code"] == code) & (t["year"] == year) & (t["sex"] == sex)]["population"].sum())


@pytest.mark.parametrize("code,year,published", [
    ("E10000024", 2022, 834_822),   # Nottinghamshire, mye22final.xlsx, MYE2 - Persons, 'All ages'
    ("E10000024", 2020, 833_377),
    ("E10000024", 2021, 826_257),
    ("E10000024", 2024, 857_013),   # mye24tablesew_MYE2_persons.csv
    ("E92000001", 2022, 57_106_398),
    ("E06000061", 2021, 360_381),   # North Northamptonshire
    ("E06000062", 2022, 429_013),   # West Northamptonshire
])
def test_published_totals(est, code, year, published):
    assert _total(est, code, year) == published


def test_years_and_sexes(est):
    assert ons_population.available_years() == [2020, 2021, 2022, 2024]
    assert ons_population.available_years("males") == [2020, 2021, 2022]


def test_males_plus_females_equal_persons(est):
    wide = est[est["year"] <= 2022].pivot_table(index=["year", "code", "age"], columns="sex", values="population")
    assert (wide["males"] + wide["females"] == wide["persons"]).all()


def test_ages_are_0_to_90_plus(est):
    assert sorted(est["age"].unique()) == list(range(91))


def test_every_current_area_every_year():
    cur = current_population.current_areas()
    from cdp_analysis.areas import geography

    expected = set(geography.areas()["code"])
    for year, g in cur.groupby("year"):
        assert set(g["code"]) == expected, year
        assert len(g) == len(expected) * 91 * g["sex"].nunique()


def test_2023_unitaries_built_exactly_from_districts(est):
    cur = current_population.current_areas([2020])
    persons = cur[cur["sex"] == "persons"].groupby("code")["population"].sum()
    # Cumberland + Westmorland and Furness = Cumbria county as published for mid-2020
    assert persons["E06000063"] + persons["E06000064"] == _total(est, "E10000006", 2020)
    # North Yorkshire UA = North Yorkshire county; Somerset UA = Somerset county
    assert persons["E06000065"] == _total(est, "E10000023", 2020)
    assert persons["E06000066"] == _total(est, "E10000027", 2020)
    basis = cur[cur["code"] == "E06000063"]["geography_basis"].unique()
    assert list(basis) == [vintage.AGGREGATED]
    assert set(cur[cur["code"] == "E10000024"]["geography_basis"]) == {vintage.AS_PUBLISHED}


def test_five_year_bands_match_esp2013_order():
    from cdp_analysis.stats import ESP2013_BANDS

    ages = pd.Series(range(91))
    bands = current_population.five_year_band(ages)
    assert list(dict.fromkeys(bands)) == list(current_population.AGE_BANDS) == list(ESP2013_BANDS)
    assert bands[4] == "0-4" and bands[5] == "5-9" and bands[89] == "85-89" and bands[90] == "90+"


@pytest.mark.parametrize("label,ages", [("15-64", (15, 64)), ("16-24", (16, 24)), ("16-59", (16, 59)),
                                        ("18+", (18, 90)), ("All ages", (0, 90))])
def test_denominator_age_groups(label, ages):
    age = pd.Series(range(91))
    assert age[current_population.in_age_group(age, label)].tolist() == list(range(ages[0], ages[1] + 1))


def test_second_load_uses_cache_not_workbooks(monkeypatch):
    ons_population.estimates()  # warm the parquet cache
    cdp_analysis.clear_caches()

    def boom(*a, **k):
        raise AssertionError("a workbook was re-read despite an unchanged checksum")

    monkeypatch.setattr(ons_population, "read_excel_table", boom)
    monkeypatch.setattr(ons_population, "read_csv_table", boom)
    assert _total(ons_population.estimates(), "E10000024", 2022) == 834_822
    cdp_analysis.clear_caches()


def test_newer_edition_with_same_layout_loads_without_code_changes(project):
    """A mid-2023 workbook in the published layout is picked up by file kind (simulated from mid-2022)."""
    import openpyxl

    src = project / "data/raw/ons_population/mye22final.xlsx"
    wb = openpyxl.load_workbook(src)
    for sheet in ("MYE2 - Persons", "MYE2 - Males", "MYE2 - Females"):
        ws = wb[sheet]
        ws["A1"] = ws["A1"].value.replace("mid-2022", "mid-2023")
    wb.save(project / "data/raw/ons_population/mye23final.xlsx")
    cdp_analysis.clear_caches()
    assert ons_population.available_years() == [2020, 2021, 2022, 2023, 2024]
    t = ons_population.estimates()
    assert _total(t, "E10000024", 2023) == 834_822
    assert "ons_population/mye23final.xlsx" in register.raw_checksums()


def test_two_files_for_the_same_year_is_an_error(project):
    shutil.copy2(project / "data/raw/ons_population/mye22final.xlsx", project / "data/raw/ons_population/mye22copy.xlsx")
    cdp_analysis.clear_caches()
    with pytest.raises(cdp_analysis.errors.InputError, match="both hold mid-2022"):
        ons_population.estimates()


def test_region_membership_from_ons_hierarchy():
    reg = ons_population.region_membership()
    assert reg["E10000024"] == "EAST MIDLANDS"
    assert reg["E10000007"] == "EAST MIDLANDS"  # Derbyshire
    assert reg["E06000001"] == "NORTH EAST"
    assert np.all(reg.index.str.match(r"E0[6-9]|E1"))
