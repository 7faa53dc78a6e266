"""IMD 2019 for current areas and ONS statistical nearest neighbours."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdp_analysis.areas import comparators, geography
from cdp_analysis.data import imd2019, ons_nearest_neighbours

ORACLE = Path(__file__).parent / "reference" / "shared_derived" / "imd2019_utla_current_derived.csv"


def test_imd_equals_the_independently_derived_shared_file():
    """Our derivation (by code, from the two raw files) equals ../shared/data/imd2019/imd2019_utla_current_derived.csv."""
    ours = imd2019.imd_scores().set_index("code")
    ref = pd.read_csv(ORACLE).set_index("utla_code")
    assert set(ours.index) == set(ref.index) == set(geography.utla_codes())
    pd.testing.assert_series_equal(ours["imd_score"], ref.loc[ours.index, "imd_avg_score"], check_names=False)
    assert (ours["imd_rank"] == ref.loc[ours.index, "imd_rank_of_avg_score_among_153"].astype(int)).all()


def test_imd_rank_1_is_most_deprived():
    imd = imd2019.imd_scores()
    top = imd.loc[imd["imd_score"].idxmax()]
    assert top["imd_rank"] == 1 and top["imd_decile"] == 1
    assert imd["imd_decile"].between(1, 10).all()
    assert imd2019.imd_scores().set_index("code").loc["E10000024", "imd_score"] == 18.999  # IoD2019_UTLA19 file, Nottinghamshire


def test_neighbour_codes_are_current_areas():
    assert set(ons_nearest_neighbours.ranks()["code"]) == set(geography.utla_codes())
    assert set(ons_nearest_neighbours.ranks()["neighbour_code"]) <= set(geography.utla_codes())


def test_distance_order_reproduces_ons_neighbour_order_for_every_area():
    ranks = ons_nearest_neighbours.ranks()
    for code, g in ranks.groupby("code"):
        assert comparators.nearest([code], 15)["code"].tolist() == g.sort_values("rank")["neighbour_code"].head(15).tolist(), code


def test_multi_area_neighbours_exclude_members_and_rank_by_mean_distance():
    members = ["E06000061", "E06000062"]
    nn = comparators.nearest(members, 10)
    assert len(nn) == 10 and not set(nn["code"]) & set(members)
    assert nn["mean_distance"].is_monotonic_increasing
    d = ons_nearest_neighbours.distances()
    first = nn.iloc[0]["code"]
    expected = d[(d["code"].isin(members)) & (d["other_code"] == first)]["distance"].mean()
    assert nn.iloc[0]["mean_distance"] == pytest.approx(expected)
