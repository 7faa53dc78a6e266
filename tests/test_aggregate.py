"""The one aggregation rule (cdp_analysis.areas.aggregate): members → CDP and areas → region, on made-up rows of
real areas, so each part of the rule is tested where it could go wrong."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cdp_analysis
from cdp_analysis.areas import aggregate, current_population, geography
from cdp_analysis.chapters import partnerships, prevalence

NOTTS, NOTTM = "E10000024", "E06000018"  # Nottinghamshire and Nottingham: separately modelled areas
NORTH, WEST = "E06000061", "E06000062"  # North + West Northamptonshire: one former county, split
EAST_MIDLANDS = "E12000004"
KEYS = [*aggregate.AREA, "period"]
NOTE = "sum of the members (no limits: separately modelled areas)"


@pytest.fixture(scope="module")
def two_areas():
    """A CDP of two separately modelled areas."""
    base = partnerships.get("northamptonshire")
    return dataclasses.replace(base, slug="nottingham-and-nottinghamshire", name="Nottingham and Nottinghamshire",
                               members=(NOTTS, NOTTM), member_names=())


@pytest.fixture(scope="module")
def northants():
    return partnerships.get("northamptonshire")


def _member_rows(cdp, values: dict[str, list], periods=("2019", "2020")) -> pd.DataFrame:
    """The CDP's rows as reporting_areas makes them: one per member and period."""
    groups = cdp.reporting_areas()
    cdp_area = groups[groups["area_role"] == "cdp"]
    rows = []
    for i, (_, g) in enumerate(cdp_area.iterrows()):
        for j, period in enumerate(periods):
            rows.append({**g.to_dict(), "period": period, "source": f"file{i}.csv [ed]",
                         **{c: v[i * len(periods) + j] for c, v in values.items()}})
    return pd.DataFrame(rows)


def test_a_cdp_of_two_separately_modelled_areas_sums_counts_and_drops_limits(two_areas):
    rows = _member_rows(two_areas, {"count": [10, 20, 1, 2], "lower": [8, 18, 0.5, 1.5], "upper": [12, 22, 2, 3]})
    out = aggregate.sum_members(rows, two_areas, keys=KEYS, values=["count"], limits=["lower", "upper"], basis=NOTE)
    assert list(out["period"]) == ["2019", "2020"]
    assert list(out["count"]) == [11, 22]
    assert out[["lower", "upper"]].isna().all().all()
    assert (out["geography_basis"] == NOTE).all()
    assert (out["area_code"] == two_areas.code).all() and (out["area_role"] == "cdp").all()
    assert set(out["source"]) == {"file0.csv [ed]; file1.csv [ed]"}  # every member cited


def test_a_cdp_that_is_one_published_area_keeps_its_limits(northants):
    rows = _member_rows(northants, {"count": [10, 20, 1, 2], "lower": [8, 18, 0.5, 1.5], "upper": [12, 22, 2, 3]})
    out = aggregate.sum_members(rows, northants, keys=KEYS, values=["count"], limits=["lower", "upper"], basis=NOTE)
    assert list(out["count"]) == [11, 22]
    assert list(out["lower"]) == [8.5, 19.5] and list(out["upper"]) == [14, 25]
    assert (out["geography_basis"] == aggregate.FORMER_AREA).all()


def test_without_limits_the_basis_is_the_chapters_words_even_for_one_published_area(northants):
    rows = _member_rows(northants, {"value": [1, 2, 3, 4]})
    out = aggregate.sum_members(rows, northants, keys=KEYS, values=["value"], basis="sum of the members' deaths")
    assert (out["geography_basis"] == "sum of the members' deaths").all()


def test_one_published_area():
    assert aggregate.one_published_area(partnerships.get("northamptonshire"))
    assert aggregate.one_published_area(partnerships.get("nottinghamshire"))  # one member
    cdp = dataclasses.replace(partnerships.get("northamptonshire"), members=(NOTTS, NOTTM))
    assert not aggregate.one_published_area(cdp)
    assert not aggregate.one_published_area(dataclasses.replace(cdp, members=(NORTH, NOTTM)))
    assert prevalence.one_published_area is aggregate.one_published_area  # re-exported where it was


def test_a_one_area_cdp_is_its_member_unchanged():
    cdp = partnerships.get("nottinghamshire")
    rows = _member_rows(cdp, {"count": [10, np.nan], "lower": [8, np.nan]}).assign(geography_basis="as published")
    out = aggregate.sum_members(rows, cdp, keys=KEYS, values=["count"], limits=["lower"], basis=NOTE)
    pd.testing.assert_frame_equal(out, rows)


def test_a_missing_member_value_gives_no_partial_sum(two_areas):
    rows = _member_rows(two_areas, {"count": [10, 20, np.nan, 2]})
    out = aggregate.sum_members(rows, two_areas, keys=KEYS, values=["count"], basis=NOTE,
                                missing_note="not every member has a figure")
    assert np.isnan(out.loc[0, "count"]) and out.loc[1, "count"] == 22
    assert list(out["value_note"]) == ["not every member has a figure", ""]


def test_a_key_without_every_member_is_dropped_kept_blank_or_summed_as_asked(two_areas):
    rows = _member_rows(two_areas, {"count": [10, 20, 1, 2], "origin": ["local"] * 4})
    rows = rows[~((rows["code"] == NOTTM) & (rows["period"] == "2020"))]  # Nottingham has no 2020 row
    dropped = aggregate.sum_members(rows, two_areas, keys=KEYS, values=["count"], basis=NOTE)
    assert list(dropped["period"]) == ["2019"] and list(dropped["count"]) == [11]
    kept = aggregate.sum_members(rows, two_areas, keys=KEYS, values=["count"], first=["origin"],
                                 keep_incomplete=True, basis=NOTE)
    assert list(kept["period"]) == ["2019", "2020"] and list(kept["incomplete"]) == [False, True]
    assert np.isnan(kept.loc[1, "count"]) and kept.loc[1, "source"] == ""
    held = aggregate.sum_members(rows, two_areas, keys=KEYS, values=["count"], every_member=False, basis=NOTE)
    assert list(held["count"]) == [11, 20]  # the members held (e.g. Scilly counted within Cornwall)


def test_first_and_other_aggregations(two_areas):
    rows = _member_rows(two_areas, {"count": [1, 2, 3, 4], "pairing": ["SDG", "SDG", "SDG", "SDG"],
                                    "rounded_to": [1, 5, 1, 1]})
    out = aggregate.sum_members(rows, two_areas, keys=KEYS, values=["count"], first=["pairing"],
                                agg={"rounded_to": "max"}, basis=NOTE)
    assert list(out["pairing"]) == ["SDG", "SDG"] and list(out["rounded_to"]) == [1, 5]


def test_a_rate_is_not_summed_and_the_row_says_why(two_areas):
    rows = _member_rows(two_areas, {"value": [5.0, 6.0, 7.0, 8.0], "lower_ci": [4.0, 5, 6, 7]})
    out = aggregate.no_sum_rows(rows, two_areas, keys=KEYS, values=["value", "lower_ci"], note="no published rate")
    assert len(out) == 2 and out[["value", "lower_ci"]].isna().all().all()
    assert (out["value_note"] == "no published rate").all() and (out["geography_basis"] == "").all()
    assert set(out["source"]) == {"file0.csv [ed]; file1.csv [ed]"}
    one = partnerships.get("nottinghamshire")
    rows = _member_rows(one, {"value": [5.0, 6.0]})
    pd.testing.assert_frame_equal(aggregate.no_sum_rows(rows, one, keys=KEYS, values=["value"], note="x"), rows)


def _area_rows(codes, periods=("2019", "2020")) -> pd.DataFrame:
    return pd.DataFrame([{"code": c, "period": p, "count": 1.0, "lower": 0.5, "first": "x", "source": f"{c} [ed]"}
                         for c in codes for p in periods])


def test_a_region_is_the_sum_of_its_areas(two_areas):
    areas = sorted(geography.areas("utla").query("region_code == @EAST_MIDLANDS")["code"])
    rows = pd.concat([_area_rows(areas), _area_rows(["E09000001"])], ignore_index=True)  # and a London area
    out = aggregate.sum_regions(rows, two_areas.reporting_areas(), keys=["period"], values=["count"],
                                limits=["lower"], first=["first", "source"], basis="sum of the region's areas")
    assert list(out["period"]) == ["2019", "2020"]
    assert list(out["count"]) == [len(areas)] * 2  # the London area is not in it
    assert (out["area_code"] == EAST_MIDLANDS).all() and (out["area_role"] == "region").all()
    assert out["lower"].isna().all() and (out["geography_basis"] == "sum of the region's areas").all()
    assert (out["source"] == f"{areas[0]} [ed]").all()  # named in first: the first area's


def test_a_region_missing_an_area_has_no_sum_unless_asked(two_areas):
    areas = sorted(geography.areas("utla").query("region_code == @EAST_MIDLANDS")["code"])
    rows = _area_rows(areas)
    rows = rows[~((rows["code"] == areas[0]) & (rows["period"] == "2020"))]
    strict = aggregate.sum_regions(rows, two_areas.reporting_areas(), keys=["period"], values=["count"],
                                   basis="b")
    assert list(strict["period"]) == ["2019"]
    held = aggregate.sum_regions(rows, two_areas.reporting_areas(), keys=["period"], values=["count"], basis="b",
                                 every_area=False)
    assert list(held["count"]) == [len(areas), len(areas) - 1]
    assert "; " in held.loc[0, "source"]  # not named in first: every area cited


def test_adults_are_the_residents_aged_18_and_over():
    year = 2022
    pop = current_population.current_areas([year])
    adults = current_population.adults(year)
    notts = pop[(pop["code"] == NOTTS) & (pop["sex"] == "persons")]
    assert adults[NOTTS] == notts.loc[notts["age"] >= 18, "population"].sum()
    assert adults[NOTTS] < notts["population"].sum()
    assert set(adults.index) >= set(geography.utla_codes()) | {geography.ENGLAND_CODE}


def test_no_chapter_renames_statistics_limits_by_hand():
    """Limits from cdp_analysis.stats reach tidy rows through tidy.from_stats only."""
    chapters = Path(cdp_analysis.__file__).parent / "chapters"
    named = re.compile(r"[\"'][a-z_]*(lower|upper)(\d+_\d)?cl[\"']")
    found = [f"{p.relative_to(chapters)}:{i}" for p in sorted(chapters.rglob("*.py"))
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if named.search(line)]
    assert not found, found
