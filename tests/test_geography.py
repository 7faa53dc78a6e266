"""Area registry and geography vintages."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis.areas import current_population, geography, vintage
from cdp_analysis.data import ons_population
from cdp_analysis.errors import InputError

#: Expected number of current upper-tier areas in each region (ONS, 2023 geography).
REGION_SIZES = {"North East": 12, "North West": 24, "Yorkshire and The Humber": 15, "East Midlands": 10,
                "West Midlands": 14, "East of England": 11, "London": 33, "South East": 19, "South West": 15}


def test_153_current_upper_tier_areas_9_regions_england():
    assert len(geography.areas("utla")) == 153
    assert len(geography.areas("region")) == 9
    assert geography.areas("country")["code"].tolist() == ["E92000001"]
    assert geography.areas()["code"].is_unique and geography.areas()["slug"].is_unique


def test_region_sizes_and_known_memberships():
    utla = geography.areas("utla")
    assert utla["region_name"].value_counts().to_dict() == REGION_SIZES
    region = utla.set_index("code")["region_name"]
    assert region["E10000024"] == "East Midlands"   # Nottinghamshire
    assert region["E10000007"] == "East Midlands"   # Derbyshire (the mySociety register says West Midlands)
    assert region["E10000019"] == "East Midlands"   # Lincolnshire (the register says Yorkshire and The Humber)
    assert region["E06000061"] == region["E06000062"] == "East Midlands"


def test_region_codes_match_ons_population_rows():
    est = ons_population.estimates()
    rows = est[(est["geography"] == "Region") & est["code"].str.startswith("E12")][["code", "name"]].drop_duplicates()
    ons = dict(zip(rows["code"], rows["name"].str.lower()))
    ons_names = {"east": "east of england"}  # ONS labels the East of England region 'EAST'
    for name, code in geography.REGION_CODES.items():
        assert ons_names.get(ons[code], ons[code]) == name.lower(), code


def test_types_and_slugs():
    utla = geography.areas("utla").set_index("code")
    assert utla.loc["E10000024", "type"] == "CTY"
    assert utla.loc["E06000058", "slug"] == "bournemouth-christchurch-and-poole"
    assert geography.slugify("Bristol, City of") == "bristol-city-of"


def test_legacy_code_explains_its_successors():
    with pytest.raises(InputError) as exc:
        geography.area("E10000021")
    assert "E06000061" in str(exc.value) and "E06000062" in str(exc.value) and "2021-04-01" in str(exc.value)


def test_unknown_code_suggests_a_close_one():
    with pytest.raises(InputError) as exc:
        geography.area("E1000024")
    assert "E10000024" in str(exc.value)


def test_successors_and_predecessors():
    assert vintage.successors("E10000021") == ["E06000061", "E06000062"]
    assert vintage.successors("E10000023") == ["E06000065"]
    assert vintage.successors("E10000024") == []
    assert "E07000150" in vintage.predecessors("E06000061")  # Corby
    assert vintage.predecessors("E06000063", old_type="CTY") == ["E10000006"]


@pytest.fixture(scope="module")
def pop2021():
    cur = current_population.current_areas([2021])
    return cur[cur["sex"] == "persons"].groupby("code")["population"].sum()


def test_split_county_counts_are_apportioned_by_population_and_flagged(pop2021):
    table = pd.DataFrame({"code": ["E10000021", "E10000024"], "period": ["2019/20"] * 2, "deaths": [100.0, 50.0]})
    out = vintage.to_current(table, values=["deaths"], kind="count", population=pop2021,
                             current_codes=geography.utla_codes()).set_index("code")
    share_n = pop2021["E06000061"] / (pop2021["E06000061"] + pop2021["E06000062"])
    assert out.loc["E06000061", "deaths"] == pytest.approx(100 * share_n)
    assert out.loc["E06000061", "deaths"] + out.loc["E06000062", "deaths"] == pytest.approx(100)
    assert out.loc["E06000061", "geography_basis"] == vintage.APPORTIONED
    assert out.loc["E10000024", "geography_basis"] == vintage.AS_PUBLISHED
    assert out.loc["E10000024", "deaths"] == 50


def test_split_county_rates_are_inherited_and_flagged(pop2021):
    table = pd.DataFrame({"code": ["E10000021"], "rate": [7.5]})
    out = vintage.to_current(table, values=["rate"], kind="intensive", population=pop2021,
                             current_codes=geography.utla_codes()).set_index("code")
    assert out.loc["E06000061", "rate"] == out.loc["E06000062", "rate"] == 7.5
    assert set(out["geography_basis"]) == {vintage.INHERITED}


def test_merged_areas_sum_counts_and_weight_rates():
    table = pd.DataFrame({"code": ["E06000028", "E06000029"], "count": [10.0, 30.0], "rate": [1.0, 3.0]})
    popn = pd.Series({"E06000028": 100.0, "E06000029": 300.0, "E06000058": 400.0})
    counts = vintage.to_current(table[["code", "count"]], values=["count"], kind="count", population=popn,
                                current_codes=["E06000058"])
    assert counts["count"].tolist() == [40.0] and counts["geography_basis"].tolist() == [vintage.AGGREGATED]
    rates = vintage.to_current(table[["code", "rate"]], values=["rate"], kind="intensive", population=popn,
                               current_codes=["E06000058"])
    assert rates["rate"].tolist() == [pytest.approx(2.5)] and rates["geography_basis"].tolist() == [vintage.WEIGHTED]


def test_renamed_code_is_carried_over(pop2021):
    table = pd.DataFrame({"code": ["E10000023"], "count": [12.0]})
    out = vintage.to_current(table, values=["count"], kind="count", population=pop2021,
                             current_codes=geography.utla_codes())
    assert out[["code", "count", "geography_basis"]].values.tolist() == [["E06000065", 12.0, vintage.RENAMED]]
