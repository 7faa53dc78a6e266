"""ONS population loaders: values as published, internal consistency, current areas, cache, new editions.

The mid-2015 … mid-2019 figures below were read from the ``.xls`` workbooks with xlrd directly (sheet, row and
'All ages' cell as ONS published them), not through the suite's readers.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cdp_analysis
from cdp_analysis.areas import current_population, geography, vintage
from cdp_analysis.data import ons_population, ons_population_xls, register

POP = Path(__file__).resolve().parent.parent / "data" / "raw" / "ons_population"
XLS = {2015: "ukmidyearestimates2015_MYE2.xls", 2016: "ukmidyearestimates2016.xls",
       2017: "ukmidyearestimates2017finalversion.xls", 2018: "ukmidyearestimates20182019ladcodes.xls",
       2019: "ukmidyearestimates20192020ladcodes.xls"}


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
    ("E10000024", 2017, 817_851),   # Nottinghamshire, ukmidyearestimates2017finalversion.xls, MYE2 - All, row 131
    ("E10000024", 2015, 805_848),   # ukmidyearestimates2015_MYE2.xls, UK persons ('ALL AGES')
    ("E92000001", 2015, 54_786_327),
    ("E92000001", 2019, 56_286_961),  # ukmidyearestimates20192020ladcodes.xls, MYE2 - Persons
    ("E10000021", 2016, 733_128),   # Northamptonshire county, ukmidyearestimates2016.xls, MYE2 - All
    ("E10000009", 2017, 424_667),   # Dorset county (abolished 2019)
    ("E06000058", 2018, 395_784),   # Bournemouth, Christchurch and Poole, ukmidyearestimates20182019ladcodes.xls
    ("E06000060", 2019, 543_973),   # Buckinghamshire UA, first published on 2020 codes
    ("E09000001", 2017, 7_654),     # City of London: its own row in every edition
    ("E06000053", 2016, 2_308),     # Isles of Scilly: likewise
])
def test_published_totals(est, code, year, published):
    assert _total(est, code, year) == published


@pytest.mark.parametrize("code,year,sex,published", [
    ("E10000024", 2018, "males", 405_546),       # MYE2 - Males
    ("E92000001", 2016, "females", 27_967_147),  # MYE2 - F
    ("E07000048", 2015, "females", 25_461),      # Christchurch, UK females
    ("E06000060", 2019, "males", 266_808),
])
def test_published_totals_by_sex(est, code, year, sex, published):
    assert _total(est, code, year, sex) == published


def test_old_workbooks_agree_with_xlrd_cell_by_cell(est):
    """Every English area's 'All ages' and single-year cells of mid-2015 and mid-2019, read with xlrd directly."""
    import xlrd

    for year, sheet, header_row in [(2015, "UK persons", 2), (2019, "MYE2 - Persons", 4)]:
        book = xlrd.open_workbook(POP / XLS[year], on_demand=True, logfile=io.StringIO())
        ws = book.sheet_by_name(sheet)
        head = [str(c).strip().lower() for c in ws.row_values(header_row)]
        ages, total = head.index("0.0"), head.index("all ages")
        rows = [ws.row_values(r) for r in range(header_row + 1, ws.nrows) if str(ws.cell_value(r, 0)).startswith("E")]
        published = pd.DataFrame({"code": [r[0] for r in rows], "all": [int(r[total]) for r in rows],
                                  "age40": [int(r[ages + 40]) for r in rows]}).set_index("code")
        mine = est[(est["year"] == year) & (est["sex"] == "persons") & est["code"].str.startswith("E")]
        assert mine.groupby("code")["population"].sum().sort_index().tolist() == published["all"].sort_index().tolist()
        at40 = mine[mine["age"] == 40].set_index("code")["population"]
        assert (at40.reindex(published.index) == published["age40"]).all()


def test_years_and_sexes(est):
    assert ons_population.available_years() == [2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2024]
    assert ons_population.available_years("males") == [2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022]


def test_old_workbooks_sheets_and_geography_found_by_content(est):
    sheets = {y: [s.sheet for s in ons_population_xls.mye2_sheets(POP / f)] for y, f in XLS.items()}
    assert sheets[2015] == ["UK persons", "UK males", "UK females"]
    assert sheets[2016] == ["MYE2 - All", "MYE2 - M", "MYE2 - F"]
    assert sheets[2018] == ["MYE2-All", "MYE2 - Males", "MYE2 - Females"]
    assert sheets[2019] == ["MYE2 - Persons", "MYE2 - Males", "MYE2 - Females"]
    geo = est[(est["age"] == 0) & (est["sex"] == "persons")].set_index(["year", "code"])["geography"]
    for year in XLS:  # no Geography column in 2015 and 2016: named from the code as later editions name it
        assert geo[(year, "E10000024")] == "County" and geo[(year, "E11000001")] == "Metropolitan County"
        assert geo[(year, "E12000004")] == "Region" and geo[(year, "E92000001")] == "Country"
        assert geo[(year, "E07000170")] == "Non-metropolitan District"
    # mid-2015 prints ':' (data not available) for Northern Ireland's districts: left out, not read as 0
    assert not est[(est["year"] == 2015) & est["code"].str.startswith("N09")].size
    assert est[(est["year"] == 2016) & est["code"].str.startswith("N09")]["code"].nunique() == 11


def test_each_old_edition_has_its_own_years_districts(est):
    districts = est[(est["age"] == 0) & (est["sex"] == "persons") & est["code"].str.startswith("E07")]
    assert districts.groupby("year")["code"].nunique()[list(XLS)].tolist() == [201, 201, 201, 192, 188]


def test_males_plus_females_equal_persons(est):
    wide = est[est["year"] <= 2022].pivot_table(index=["year", "code", "age"], columns="sex", values="population")
    assert (wide["males"] + wide["females"] == wide["persons"]).all()


def test_ages_are_0_to_90_plus(est):
    assert sorted(est["age"].unique()) == list(range(91))


def test_every_current_area_every_year():
    cur = current_population.current_areas()
    expected = set(geography.areas()["code"])
    assert sorted(cur["year"].unique()) == [2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2024]
    assert len(expected) == 153 + 9 + 1
    for year, g in cur.groupby("year"):
        assert set(g["code"]) == expected, year
        assert len(g) == len(expected) * 91 * g["sex"].nunique()


def test_current_upper_tier_areas_add_up_to_england_exactly_every_year():
    """Every edition lists the City of London and the Isles of Scilly on their own, so nothing is double counted."""
    cur = current_population.current_areas()
    utla = cur[cur["code"].isin(geography.utla_codes())]
    assert set(utla["geography_basis"]) <= {vintage.AS_PUBLISHED, vintage.RENAMED, vintage.AGGREGATED}
    sums = utla.groupby(["year", "sex", "age"])["population"].sum()
    england = cur[cur["code"] == geography.ENGLAND_CODE].set_index(["year", "sex", "age"])["population"]
    pd.testing.assert_series_equal(sums.sort_index(), england.sort_index(), check_names=False)


#: 'All ages' persons of the predecessor districts (and unitaries), read with xlrd from the mid-2015 and mid-2017 files.
DISTRICTS = {
    2015: {"E06000058": {"E06000028": 194_516, "E06000029": 150_577, "E07000048": 49_057},
           "E06000059": {"E07000049": 88_690, "E07000050": 70_713, "E07000051": 46_212, "E07000052": 100_747,
                         "E07000053": 65_166},
           "E06000061": {"E07000150": 66_854, "E07000152": 89_746, "E07000153": 97_650, "E07000156": 77_184},
           "E06000062": {"E07000151": 80_014, "E07000154": 222_462, "E07000155": 89_116},
           "E06000063": {"E07000026": 96_660, "E07000028": 108_155, "E07000029": 69_647}},
    2017: {"E06000058": {"E06000028": 194_752, "E06000029": 151_270, "E07000048": 49_616},
           "E06000059": {"E07000049": 89_384, "E07000050": 71_096, "E07000051": 46_756, "E07000052": 102_064,
                         "E07000053": 65_751},
           "E06000061": {"E07000150": 69_540, "E07000152": 93_135, "E07000153": 100_252, "E07000156": 78_914},
           "E06000062": {"E07000151": 82_638, "E07000154": 225_656, "E07000155": 91_074},
           "E06000063": {"E07000026": 97_213, "E07000028": 108_274, "E07000029": 68_689}},
}


@pytest.mark.parametrize("year", sorted(DISTRICTS))
def test_reorganised_areas_are_exact_sums_of_their_districts(est, year):
    cur = current_population.current_areas([year])
    persons = cur[cur["sex"] == "persons"].groupby("code")["population"].sum()
    for new, parts in DISTRICTS[year].items():
        assert persons[new] == sum(parts.values()), new
        assert all(_total(est, old, year) == n for old, n in parts.items()), new
        assert set(cur.loc[cur["code"] == new, "geography_basis"]) == {vintage.AGGREGATED}, new
    # BCP + Dorset = Dorset county as published + Bournemouth + Poole (Christchurch was in Dorset county)
    assert persons["E06000058"] + persons["E06000059"] == (_total(est, "E10000009", year) + _total(est, "E06000028", year)
                                                           + _total(est, "E06000029", year))
    # a county that became one unitary on the same boundary: the sum of its districts is the county as published
    assert persons["E06000060"] == _total(est, "E10000002", year)  # Buckinghamshire
    assert persons["E06000065"] == _total(est, "E10000023", year)  # North Yorkshire
    assert persons["E06000061"] + persons["E06000062"] == _total(est, "E10000021", year)
    assert persons["E06000063"] + persons["E06000064"] == _total(est, "E10000006", year)


def test_somerset_before_2019_is_summed_through_the_district_merger(est):
    """Taunton Deane + West Somerset became Somerset West and Taunton (2019), part of Somerset UA (2023)."""
    cur = current_population.current_areas([2015])
    somerset = cur[(cur["code"] == "E06000066") & (cur["sex"] == "persons")]
    assert somerset["population"].sum() == _total(est, "E10000027", 2015) == 545_390
    assert set(somerset["geography_basis"]) == {vintage.AGGREGATED}


def test_a_year_not_held_lists_the_years_held():
    with pytest.raises(cdp_analysis.errors.InputError) as exc:
        current_population.current_areas([2014])
    assert "no population estimates for mid-2014" in str(exc.value)
    assert "choose from 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2024" in str(exc.value)


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
    monkeypatch.setattr(ons_population, "mye2_sheets", boom)
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
    assert ons_population.available_years() == [2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024]
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
