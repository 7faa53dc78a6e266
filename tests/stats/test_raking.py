"""Raking (iterative proportional fitting) on small hand-checkable tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdp_analysis import stats


def _table():
    return pd.DataFrame({"sex": ["m", "m", "f", "f"], "band": ["young", "old", "young", "old"],
                         "seed": [10.0, 30.0, 20.0, 40.0]})


def test_both_margins_reproduced_and_the_seed_odds_ratio_kept():
    t = _table()
    rows = pd.Series({"m": 50.0, "f": 70.0})
    cols = pd.Series({"young": 45.0, "old": 75.0})
    x = stats.rake(t, "seed", [(["sex"], rows), (["band"], cols)])
    out = t.assign(x=x)
    np.testing.assert_allclose(out.groupby("sex")["x"].sum().reindex(rows.index), rows, rtol=1e-9)
    np.testing.assert_allclose(out.groupby("band")["x"].sum().reindex(cols.index), cols, rtol=1e-9)
    # IPF keeps the seed's cross-product ratio (10 * 40) / (30 * 20)
    a, b, c, d = x.to_numpy()
    assert (a * d) / (b * c) == pytest.approx((10 * 40) / (30 * 20), rel=1e-9)


def test_several_tables_raked_at_once_by_their_keys():
    t = pd.concat([_table().assign(table=1), _table().assign(table=2, seed=lambda d: d["seed"] * 3)], ignore_index=True)
    rows = pd.Series({(1, "m"): 50.0, (1, "f"): 70.0, (2, "m"): 5.0, (2, "f"): 7.0})
    cols = pd.Series({(1, "young"): 45.0, (1, "old"): 75.0, (2, "young"): 4.5, (2, "old"): 7.5})
    x = stats.rake(t, "seed", [(["table", "sex"], rows), (["table", "band"], cols)])
    np.testing.assert_allclose(x[4:].to_numpy(), x[:4].to_numpy() / 10, rtol=1e-9)


def test_margins_that_disagree_are_refused_not_half_met():
    with pytest.raises(ValueError, match="totals disagree"):
        stats.rake(_table(), "seed", [(["sex"], pd.Series({"m": 50.0, "f": 70.0})),
                                      (["band"], pd.Series({"young": 45.0, "old": 80.0}))])


def test_a_group_without_a_target_or_without_a_seed_is_refused():
    with pytest.raises(ValueError, match="no target"):
        stats.rake(_table(), "seed", [(["sex"], pd.Series({"m": 50.0}))])
    zero = _table().assign(seed=[0.0, 0.0, 20.0, 40.0])
    with pytest.raises(ValueError, match="no seed"):
        stats.rake(zero, "seed", [(["sex"], pd.Series({"m": 50.0, "f": 70.0}))])
