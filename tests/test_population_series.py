"""The MYEB3 population series and the Census 2021 TS007 single years of age: values as published (read again
here with the csv module), the rules, the mapping onto the current areas, and bad input (docs/bad-input.md,
section 'Population time series (MYEB3) and Census 2021 ages (TS007)')."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from test_bad_input import assert_message, drop_column, edit_csv, reload, set_cell, write

import cdp_analysis
from cdp_analysis.areas import geography, population_series, vintage
from cdp_analysis.data import census_ts007, ons_population, ons_population_series
from cdp_analysis.errors import InputError

REPO = Path(__file__).resolve().parent.parent
MYEB3 = Path("data/raw/ons_population_series/MYEB3_summary_components_of_change_series_UK_(2019_geog20).csv")
TS007_LTLA = Path("data/raw/census2021/census2021-ts007-ltla.csv")
TS007_UTLA = Path("data/raw/census2021/census2021-ts007-utla.csv")
NOTTS_DISTRICTS = ["E07000170", "E07000171", "E07000172", "E07000173", "E07000174", "E07000175", "E07000176"]


def _rows(path: Path) -> list[dict]:
    """The file's rows as dicts, with ``_line`` (the header is line 1), read with the csv module alone."""
    with open(REPO / path, newline="", encoding="utf-8-sig") as fh:
        return [dict(r, _line=i) for i, r in enumerate(csv.DictReader(fh), start=2)]


def _row(path: Path, column: str, value: str) -> dict:
    (row,) = [r for r in _rows(path) if r[column] == value]
    return row


@pytest.fixture(scope="module")
def series():
    cdp_analysis.clear_caches()
    return ons_population_series.estimates()


@pytest.fixture(scope="module")
def totals():
    cdp_analysis.clear_caches()
    return population_series.mid_year_totals()


@pytest.fixture(scope="module")
def ages():
    cdp_analysis.clear_caches()
    return population_series.census_ages()


def _value(t: pd.DataFrame, **keys) -> int:
    hit = t
    for k, v in keys.items():
        hit = hit[hit[k] == v]
    (value,) = hit["population"].tolist()
    return int(value)


# --------------------------------------------------------------------------------------------------
# MYEB3 as published


def test_myeb3_published_values(series):
    assert _value(series, code="E06000001", year=2019) == 93_663  # Hartlepool, as in data/README.md
    assert _value(series, code="E06000001", year=2001) == 90_152
    england = series[series["country"] == "E"].groupby("year")["population"].sum()
    assert england[2019] == 56_286_961  # England: the sum of its 314 districts (no England row in the file)
    assert ons_population_series.years() == list(range(2001, 2020))
    assert series.groupby("country")["code"].nunique().to_dict() == {"E": 314, "N": 11, "S": 32, "W": 22}


def test_myeb3_every_cell_equals_the_file_read_with_csv(series):
    rows = _rows(MYEB3)
    expected = {(r["ladcode20"], y): int(r[f"population_{y}"]) for r in rows for y in range(2001, 2020)}
    got = dict(zip(zip(series["code"], series["year"]), series["population"]))
    assert got == expected
    lines = {r["ladcode20"]: r["_line"] for r in rows}
    assert (series["source_row"] == series["code"].map(lines)).all()


def test_myeb3_components_as_published():
    c = ons_population_series.components()
    hartlepool = c[(c["code"] == "E06000001") & (c["year"] == 2002)].iloc[0]
    assert (hartlepool["births"], hartlepool["deaths"], hartlepool["natchange"]) == (1017, 1042, -25)
    assert c["year"].min() == 2002 and (c["births"] - c["deaths"] == c["natchange"]).all()


# --------------------------------------------------------------------------------------------------
# TS007 as published


@pytest.mark.parametrize("path, level", [(TS007_LTLA, "ltla"), (TS007_UTLA, "utla")])
def test_ts007_every_single_year_equals_the_file_read_with_csv(path, level):
    t = census_ts007.estimates()
    t = t[t["level"] == level]
    rows = _rows(path)
    labels = ["Age: Aged under 1 year; measures: Value", "Age: Aged 1 year; measures: Value",
              *(f"Age: Aged {a} years; measures: Value" for a in range(2, 100)),
              "Age: Aged 100 years and over; measures: Value"]
    expected = {(r["geography code"], a): int(r[label]) for r in rows for a, label in enumerate(labels)}
    assert dict(zip(zip(t["code"], t["age"]), t["population"])) == expected
    assert t["code"].nunique() == {"ltla": 331, "utla": 174}[level]
    assert set(t["year"]) == {2021}


def test_ts007_published_values():
    t = census_ts007.estimates()
    notts = _row(TS007_UTLA, "geography code", "E10000024")
    assert _value(t, code="E10000024", level="utla", age=57) == int(notts["Age: Aged 57 years; measures: Value"])
    assert _value(t, code="E06000001", level="ltla", age=100) == 21  # Hartlepool, 100 years and over
    assert t[(t["code"] == "E10000024") & (t["level"] == "utla")]["population"].sum() == 824_823


def test_ts007_districts_nest_in_their_counties_within_disclosure_control():
    """Districts grouped by the MYE2 hierarchy against the counties of the upper-tier file: a few people apart
    (ONS's disclosure control), never more than 7 in a single year of age or 27 in all ages."""
    t = census_ts007.estimates()
    districts = t[(t["level"] == "ltla") & t["code"].str.startswith("E07")]
    by_county = districts.assign(code=districts["code"].map(population_series.district_counties()))
    summed = by_county.groupby(["code", "age"])["population"].sum()
    counties = t[(t["level"] == "utla") & t["code"].str.startswith("E10")].set_index(["code", "age"])["population"]
    assert set(summed.index) == set(counties.index)
    diff = summed - counties
    assert diff.abs().max() <= 7 and diff.groupby("code").sum().abs().max() <= 27


def test_mye2_districts_add_up_to_the_county_they_are_listed_under():
    """The district → county lookup read from the MYE2 hierarchy: each county is exactly its districts."""
    est = ons_population.estimates()
    persons = est[est["sex"] == "persons"].groupby(["year", "code"])["population"].sum()
    parents = population_series.district_counties()
    # 181 districts of counties on 2020 codes (as in MYEB3; the mid-2020 edition), plus 23 from the 2015-2019 editions
    assert len(parents) == 204 and parents["E07000170"] == "E10000024"
    assert parents.index.isin(set(est.loc[est["year"] == 2020, "code"])).sum() == 181
    for year in ons_population.available_years():
        held = persons[year]
        mine = parents[parents.index.isin(held.index)]
        assert (held[mine.index].groupby(mine.to_numpy()).sum() == held[sorted(set(mine))]).all(), year


# --------------------------------------------------------------------------------------------------
# on the current areas


def test_myeb3_on_current_areas_is_complete_and_adds_up_to_england(totals):
    expected = set(geography.areas()["code"])
    for year, g in totals.groupby("year"):
        assert set(g["code"]) == expected and len(g) == len(expected), year
        england = g.loc[g["code"] == geography.ENGLAND_CODE, "population"].item()
        assert g.loc[g["level"] == "utla", "population"].sum() == england
        assert g.loc[g["level"] == "region", "population"].sum() == england
    assert _value(totals, code=geography.ENGLAND_CODE, year=2019) == 56_286_961
    assert totals["year"].min() == 2001 and totals["year"].max() == 2019


def test_myeb3_current_areas_are_exact_sums_of_the_files_districts(totals):
    pop = {r["ladcode20"]: int(r["population_2019"]) for r in _rows(MYEB3)}
    notts = _value(totals, code="E10000024", year=2019)
    assert notts == sum(pop[c] for c in NOTTS_DISTRICTS) == 828_224
    # the same order of magnitude as the MYE2 mid-2020 estimate (833,377): within 2%
    mid2020 = ons_population.estimates()
    mid2020 = mid2020[(mid2020["year"] == 2020) & (mid2020["code"] == "E10000024") & (mid2020["sex"] == "persons")]
    assert abs(notts / mid2020["population"].sum() - 1) < 0.02
    north = ["E07000150", "E07000152", "E07000153", "E07000156"]  # Corby, East Northants, Kettering, Wellingborough
    assert _value(totals, code="E06000061", year=2019) == sum(pop[c] for c in north)
    assert _value(totals, code="E06000063", year=2019) == sum(pop[c] for c in ("E07000026", "E07000028", "E07000029"))
    assert _value(totals, code="E06000001", year=2019) == 93_663
    basis = totals.drop_duplicates("code").set_index("code")["geography_basis"]
    assert basis["E06000001"] == vintage.AS_PUBLISHED
    assert basis["E10000024"] == population_series.DISTRICTS_SUMMED
    assert basis[["E06000061", "E06000062", "E06000063", "E06000064", "E06000065", "E06000066"]].eq(
        vintage.AGGREGATED).all()
    assert basis[geography.ENGLAND_CODE] == population_series.FILE_DISTRICTS_SUMMED
    assert basis["E12000004"] == population_series.UPPER_TIERS_SUMMED


def test_ts007_on_current_areas_is_complete_and_adds_up(ages):
    expected = set(geography.areas()["code"])
    assert set(ages["code"]) == expected and len(ages) == len(expected) * 101
    by_level = ages.groupby(["level", "age"])["population"].sum().unstack("level")
    assert (by_level["utla"] == by_level["country"]).all() and (by_level["region"] == by_level["country"]).all()
    ltla = {r["geography code"]: int(r["Age: Total; measures: Value"]) for r in _rows(TS007_LTLA)}
    cumberland = ages[ages["code"] == "E06000063"]
    assert cumberland["population"].sum() == sum(ltla[c] for c in ("E07000026", "E07000028", "E07000029"))
    assert cumberland["geography_basis"].eq(vintage.AGGREGATED).all()
    notts = ages[ages["code"] == "E10000024"]
    assert notts["population"].sum() == 824_823 and notts["geography_basis"].eq(vintage.AS_PUBLISHED).all()
    assert ages[ages["code"] == geography.ENGLAND_CODE]["population"].sum() == 56_490_025


# --------------------------------------------------------------------------------------------------
# bad input (docs/bad-input.md)


def _myeb3(project: Path) -> Path:
    return project / MYEB3


def test_myeb3_missing_population_column(project):
    edit_csv(_myeb3(project), drop_column("population_2019"))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population_series.estimates()
    assert_message(exc, str(_myeb3(project)), "header (line 1)", "missing column(s) 'population_2019'",
                   "published layout")


@pytest.mark.parametrize("column, value, problem", [
    ("population_2010", "-5", "a count is negative"),
    ("population_2019", "n/a", "a value is not a number"),
    ("births_2005", "12.5", "a count is not a whole number"),
    ("internal_net_2012", "about 40", "a value is not a number"),
])
def test_myeb3_bad_cell_names_row_and_column(project, column, value, problem):
    edit_csv(_myeb3(project), set_cell(2, column, value))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population_series.estimates()
    assert_message(exc, str(_myeb3(project)), f"row 2, column '{column}'", f"{value!r}", problem)


def test_myeb3_district_with_no_current_area(project):
    line = _row(MYEB3, "ladcode20", "E07000170")["_line"]
    edit_csv(_myeb3(project), set_cell(line, "ladcode20", "E07999999"))
    reload()
    with pytest.raises(InputError) as exc:
        population_series.mid_year_totals()
    assert_message(exc, str(_myeb3(project)), f"row {line}", "'E07999999' (Ashfield) has no current upper-tier area",
                   "la_code_changes_england_from_mysociety.csv")


@pytest.mark.parametrize("path, load", [(MYEB3, ons_population_series.estimates),
                                        (TS007_LTLA, census_ts007.estimates)])
def test_truncated_file_is_cut_short(project, path, load):
    data = (project / path).read_bytes()
    (project / path).chmod(0o644)
    (project / path).write_bytes(data[: len(data) // 2])
    reload()
    with pytest.raises(InputError) as exc:
        load()
    assert_message(exc, str(project / path), "the file looks cut short")


def test_myeb3_population_times_ten_breaks_the_year_on_year_rule(project):
    edit_csv(_myeb3(project), set_cell(2, "population_2010", "920000"))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population_series.estimates()
    assert_message(exc, "row 2, column 'population_2010'", "implausible value 920,000",
                   "an area's population changes by at most a factor of 1.5 a year")


def test_myeb3_population_not_following_its_components(project):
    value = int(_row(MYEB3, "ladcode20", "E06000001")["population_2010"]) + 1000
    edit_csv(_myeb3(project), set_cell(2, "population_2010", str(value)))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population_series.estimates()
    assert_message(exc, "row 2, column 'population_2010'", f"implausible value {value:,}",
                   "each year's population is the previous year's plus its components of change")


def test_myeb3_row_of_another_country(project):
    edit_csv(_myeb3(project), set_cell(2, "country", "W"))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population_series.estimates()
    assert_message(exc, "row 2, column 'ladcode20'", "the area code is an ONS code of the row's country")


AGE_57 = "Age: Aged 57 years; measures: Value"


def test_ts007_negative_count(project):
    edit_csv(project / TS007_UTLA, set_cell(59, AGE_57, "-3"))
    reload()
    with pytest.raises(InputError) as exc:
        census_ts007.estimates()
    assert_message(exc, str(project / TS007_UTLA), f"row 59, column '{AGE_57}'", "'-3'", "a count is negative")


def test_ts007_single_years_not_adding_up_to_the_total(project):
    edit_csv(project / TS007_UTLA, set_cell(59, AGE_57, "1"))
    reload()
    with pytest.raises(InputError) as exc:
        census_ts007.estimates()
    assert_message(exc, str(project / TS007_UTLA), "row 59, column 'Age: Total; measures: Value'",
                   "implausible value 824,823", "the single years of age add up to the total")


def _plus(line: int, columns: list[str], n: int):
    def edit(rows):
        for c in columns:
            j = rows[0].index(c)
            rows[line - 1][j] = str(int(rows[line - 1][j]) + n)
        return rows
    return edit


BAND_50_64 = "Age: Aged 50 to 64 years; measures: Value"
TOTAL = "Age: Total; measures: Value"


def test_ts007_band_not_equal_to_its_single_years(project):
    edit_csv(project / TS007_UTLA, _plus(59, [AGE_57, TOTAL], 100))
    reload()
    with pytest.raises(InputError) as exc:
        census_ts007.estimates()
    assert_message(exc, f"row 59, column '{BAND_50_64}'", "each age band equals the sum of its single years of age")


def test_ts007_single_tier_area_differing_between_files(project):
    edit_csv(project / TS007_UTLA, _plus(23, [AGE_57, TOTAL, BAND_50_64], 10))  # Manchester
    reload()
    with pytest.raises(InputError) as exc:
        census_ts007.estimates()
    assert_message(exc, str(project / TS007_UTLA), f"row 23, column '{AGE_57}'",
                   "a single-tier area has the same figures in the lower- and upper-tier files")


def test_ts007_districts_not_adding_up_to_the_counties(project):
    edit_csv(project / TS007_LTLA, _plus(102, [AGE_57, TOTAL, BAND_50_64], 100))  # Ashfield
    reload()
    with pytest.raises(InputError) as exc:
        census_ts007.estimates()
    assert_message(exc, str(project / TS007_UTLA), f"column '{AGE_57}'",
                   "implausible value 103", "the English districts (E07) differ from the counties (E10) they make "
                   "up by at most 3 people per county, age by age")


def test_ts007_missing_top_age_column(project):
    edit_csv(project / TS007_LTLA, drop_column("Age: Aged 100 years and over; measures: Value"))
    reload()
    with pytest.raises(InputError) as exc:
        census_ts007.estimates()
    assert_message(exc, str(project / TS007_LTLA), "missing column(s) 'Age: Aged 100 years and over; measures: Value'")


def test_empty_myeb3(project):
    write(_myeb3(project), "")
    reload()
    with pytest.raises(InputError) as exc:
        ons_population_series.estimates()
    assert_message(exc, str(_myeb3(project)), "the file is empty")


def test_annual_totals_take_one_source_per_year():
    """MYEB3 for mid-2001 … mid-2019 and the yearly MYE tables from mid-2020 (no year from both); England and Wales
    is England plus the Welsh districts, and the current areas add up to England in every year."""
    t = population_series.annual_totals()
    src = t.groupby("year")["population_source"].unique()
    assert all(len(v) == 1 for v in src)
    assert src.loc[2019][0] == population_series.FROM_SERIES and src.loc[2020][0] == population_series.FROM_YEARLY_TABLES
    assert sorted(t["year"].unique()) == [*range(2001, 2023), 2024]
    eng = t[t["code"] == "E92000001"].set_index("year")["population"]
    ew = t[t["code"] == population_series.ENGLAND_AND_WALES].set_index("year")["population"]
    assert (eng[2019], ew[2019]) == (56_286_961, 59_439_840) and (ew > eng).all()
    from cdp_analysis.areas import geography

    utla = t[t["code"].isin(geography.utla_codes())].groupby("year")["population"].sum()
    assert (utla == eng.reindex(utla.index)).all()
