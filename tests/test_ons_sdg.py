"""ONS SDG 3.5.1: the loader on the real file, and its met-need series reproduced from its counts."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis import stats
from cdp_analysis.data import ons_sdg


@pytest.fixture(scope="module")
def sdg():
    return ons_sdg.series()


def test_counties_are_matched_by_name_to_the_codes_of_their_years(sdg):
    notts = sdg[(sdg["name"] == "Northamptonshire") & (sdg["period"] == "2017/18")].set_index("series")
    assert set(notts["code"]) == {"E10000021"}  # the county before its 2021 split
    assert notts.loc["estimated need", "value"] == 6603 and notts.loc["in treatment", "value"] == 1120
    assert set(sdg.loc[sdg["name"] == "Dorset", "code"]) == {"E10000009"}
    assert set(sdg.loc[sdg["name"] == "Bristol, City of", "code"]) == {"E06000023"}
    assert set(sdg.loc[sdg["code"] == "", "name"]) == {"Bedfordshire (Discontinued)", "Cheshire (Discontinued)",
                                                        "Cornwall & Isles of Scilly"}


def test_england_and_deciles(sdg):
    eng = sdg[(sdg["code"] == "E92000001") & (sdg["category"] == "") & (sdg["period"] == "2018/19")].set_index("series")
    assert eng.loc["in treatment", "value"] == 104153 and eng.loc["estimated need", "value"] == pytest.approx(590578.6667)
    assert sdg[(sdg["category"] != "")]["period"].unique().tolist() == ["2018/19"]
    assert not sdg.duplicated(["period", "series", "name", "category"]).any()  # England 2015/16 given once


def test_the_met_need_series_is_reproduced_from_its_counts(sdg):
    wide = sdg.pivot_table(index=["period", "name", "category"], columns="series", values="value").dropna()
    assert len(wide) > 1300
    out = stats.met_need(wide.reset_index(), "in treatment", "estimated need", group_by=["period", "name", "category"])
    merged = out.merge(wide.reset_index(), on=["period", "name", "category"])
    pd.testing.assert_series_equal(merged["met_need"], merged["met need"], check_names=False, atol=1e-6, rtol=0)
