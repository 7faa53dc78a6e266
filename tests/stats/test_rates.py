"""Unit tests for proportion, crude_rate and mean: hand-worked values and edge rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from cdp_analysis.stats._frame import confidence_label, format_multiplier, parse_confidence
from cdp_analysis.stats.rates import crude_rate, mean, proportion

Z95 = st.norm.ppf(0.975)


def frame(x, n, area=None):
    df = pd.DataFrame({"x": x, "n": n})
    if area is not None:
        df.insert(0, "area", area)
    return df


# ---------------------------------------------------------------------------- proportion


def test_proportion_zero_count_and_x_equals_n():
    out = proportion(frame([0, 50], [50, 50], ["a", "b"]), "x", "n", group_by="area")
    z2 = Z95**2
    # x = 0: lower 0, upper z²/(n + z²); x = n: lower n/(n + z²), upper 1
    np.testing.assert_allclose(out["lowercl"], [0.0, 50 / (50 + z2)], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out["uppercl"], [z2 / (50 + z2), 1.0], rtol=1e-12)
    np.testing.assert_allclose(out["value"], [0.0, 1.0])


def test_proportion_hand_worked_wilson():
    out = proportion(frame([65], [100]), "x", "n", multiplier=100)
    p, n, z = 0.65, 100, Z95
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert out.loc[0, "value"] == pytest.approx(65.0)
    assert out.loc[0, "lowercl"] == pytest.approx(100 * (centre - half), rel=1e-12)
    assert out.loc[0, "uppercl"] == pytest.approx(100 * (centre + half), rel=1e-12)
    assert out.loc[0, "statistic"] == "percentage"
    assert list(out.columns) == ["x", "n", "value", "lowercl", "uppercl", "confidence", "statistic", "method"]


def test_proportion_ungrouped_sums_all_rows():
    out = proportion(frame([1, 2, 3], [10, 10, 10], ["a", "b", "c"]), "x", "n")
    assert len(out) == 1 and "area" not in out.columns
    assert out.loc[0, "x"] == 6 and out.loc[0, "n"] == 30
    assert out.loc[0, "value"] == pytest.approx(0.2)


def test_proportion_multiple_group_keys_and_missing_key():
    df = pd.DataFrame({"area": ["a", "a", "b", None], "sex": ["m", "f", "m", "m"],
                       "x": [1, 2, 3, 4], "n": [10, 10, 10, 10]})
    out = proportion(df, "x", "n", group_by=["area", "sex"])
    assert list(out.columns[:2]) == ["area", "sex"]
    assert len(out) == 4  # the missing area is its own group, as in dplyr
    assert out["area"].isna().sum() == 1
    assert out.loc[out["area"].isna(), "x"].item() == 4
    assert out.loc[(out["area"] == "a") & (out["sex"] == "m"), "x"].item() == 1
    assert out.loc[out["area"] == "a", "sex"].tolist() == ["f", "m"]  # sorted keys


@pytest.mark.parametrize("bad_x, bad_n, match", [
    ([1, 20, 3], [10, 10, 10], r"column 'x' has numerators greater than the denominator 'n' in rows \[1\]"),
    ([1, -1, 3], [10, 10, 10], r"column 'x' has negative numerators in rows \[1\]"),
    ([1, 1, 1, 1, 1, 1, 1, 1], [5, 5, 5, 0, 5, 5, 5, -2], r"column 'n' has zero or negative denominators in rows \[3, 7\]"),
])
def test_proportion_invalid_rows(bad_x, bad_n, match):
    with pytest.raises(ValueError, match=match):
        proportion(frame(bad_x, bad_n), "x", "n")


def test_error_lists_index_labels():
    df = frame([1, 1, 1], [5, 0, 5])
    df.index = ["r1", "r2", "r3"]
    with pytest.raises(ValueError, match=r"rows \['r2'\]"):
        crude_rate(df, "x", "n")


def test_proportion_missing_values_propagate_within_group():
    df = frame([1, np.nan, 5, 5], [10, 10, 10, np.nan], ["a", "a", "b", "b"])
    out = proportion(df, "x", "n", group_by="area")
    assert out[["x", "value", "lowercl", "uppercl"]].iloc[0].isna().all()
    assert out.loc[0, "n"] == 20
    assert pd.isna(out.loc[1, "n"]) and out.loc[1, "x"] == 10 and pd.isna(out.loc[1, "value"])
    assert (out["method"] == "Wilson").all()


def test_input_frame_not_modified():
    df = frame([1, 2], [10, 10], ["a", "b"])
    copy = df.copy()
    proportion(df, "x", "n", group_by="area")
    crude_rate(df, "x", "n", group_by="area")
    pd.testing.assert_frame_equal(df, copy)


def test_missing_and_non_numeric_columns():
    with pytest.raises(ValueError, match=r"\['nope'\] not found"):
        proportion(frame([1], [2]), "x", "nope")
    with pytest.raises(ValueError, match="must be numeric"):
        proportion(pd.DataFrame({"x": ["1"], "n": [2]}), "x", "n")
    with pytest.raises(ValueError, match="not found"):
        proportion(frame([1], [2]), "x", "n", group_by="area")


# ---------------------------------------------------------------------------- confidence


def test_confidence_95_equals_point_95():
    df = frame([3, 30], [100, 100], ["a", "b"])
    a = crude_rate(df, "x", "n", group_by="area", confidence=95)
    b = crude_rate(df, "x", "n", group_by="area", confidence=0.95)
    pd.testing.assert_frame_equal(a, b)
    assert (a["confidence"] == "95%").all()


def test_single_998_and_pair_consistent():
    df = frame([3, 30], [100, 100], ["a", "b"])
    single = proportion(df, "x", "n", group_by="area", confidence=99.8)
    pair = proportion(df, "x", "n", group_by="area", confidence=[0.95, 0.998])
    assert (single["confidence"] == "99.8%").all()
    np.testing.assert_allclose(single["lowercl"], pair["lower99_8cl"], rtol=1e-14)
    np.testing.assert_allclose(single["uppercl"], pair["upper99_8cl"], rtol=1e-14)
    assert (pair["confidence"] == "95%, 99.8%").all()


@pytest.mark.parametrize("bad", [(0.9, 0.95), (0.998, 0.95), (0.95, 0.99), (0.95, 0.998, 0.999),
                                 0.5, 89, 100, 1.0, "95%", None])
def test_bad_confidence_rejected(bad):
    with pytest.raises(ValueError):
        proportion(frame([1], [10]), "x", "n", confidence=bad)


def test_confidence_helpers():
    assert parse_confidence(np.array([95, 99.8])).columns == (("lower95_0cl", "upper95_0cl"), ("lower99_8cl", "upper99_8cl"))
    assert confidence_label([0.975]) == "97.5%"
    assert format_multiplier(100000) == "100000" and format_multiplier(1e6) == "1000000"
    assert format_multiplier(2.5) == "2.5"


def test_statistic_strings():
    df = frame([3], [100])
    assert proportion(df, "x", "n", multiplier=1000).loc[0, "statistic"] == "proportion of 1000"
    assert proportion(df, "x", "n").loc[0, "statistic"] == "proportion of 1"
    assert crude_rate(df, "x", "n", multiplier=1000).loc[0, "statistic"] == "rate per 1000"
    assert crude_rate(df, "x", "n").loc[0, "statistic"] == "rate per 100000"


# ---------------------------------------------------------------------------- crude rate


def test_crude_rate_exact_below_10_byars_from_10():
    out = crude_rate(frame([0, 9, 10], [1000, 1000, 1000], ["a", "b", "c"]), "x", "n",
                     group_by="area", multiplier=1000)
    assert out["method"].tolist() == ["Exact", "Exact", "Byars"]
    # x = 0: lower 0, upper = −ln(α/2) = χ²(0.975; 2)/2
    assert out.loc[0, "lowercl"] == 0
    assert out.loc[0, "uppercl"] == pytest.approx(-math.log(0.025), rel=1e-12)
    # x = 9: exact chi-square limits
    assert out.loc[1, "lowercl"] == pytest.approx(st.chi2.ppf(0.025, 18) / 2, rel=1e-12)
    assert out.loc[1, "uppercl"] == pytest.approx(st.chi2.ppf(0.975, 20) / 2, rel=1e-12)
    # x = 10: Byar's by hand
    lo = 10 * (1 - 1 / 90 - Z95 / (3 * math.sqrt(10))) ** 3
    up = 11 * (1 - 1 / 99 + Z95 / (3 * math.sqrt(11))) ** 3
    assert out.loc[2, "lowercl"] == pytest.approx(lo, rel=1e-12)
    assert out.loc[2, "uppercl"] == pytest.approx(up, rel=1e-12)


def test_crude_rate_allows_x_above_n_and_missing_method():
    out = crude_rate(frame([250, np.nan], [220, 100], ["a", "b"]), "x", "n", group_by="area")
    assert out.loc[0, "value"] == pytest.approx(250 / 220 * 1e5)
    assert pd.isna(out.loc[1, "method"]) and pd.isna(out.loc[1, "value"])


# ---------------------------------------------------------------------------- mean


def test_mean_hand_worked():
    out = mean(pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]}), "v")
    sd = np.std([1, 2, 3, 4], ddof=1)
    t = st.t.ppf(0.975, 3)
    assert out.loc[0, "value"] == 2.5 and out.loc[0, "value_count"] == 4
    assert out.loc[0, "stdev"] == pytest.approx(sd)
    assert out.loc[0, "lowercl"] == pytest.approx(2.5 - t * sd / 2)
    assert out.loc[0, "uppercl"] == pytest.approx(2.5 + t * sd / 2)


def test_mean_single_row_and_missing():
    df = pd.DataFrame({"g": ["a", "b", "b"], "v": [5.0, 1.0, np.nan]})
    out = mean(df, "v", group_by="g")
    assert out.loc[0, "value"] == 5 and pd.isna(out.loc[0, "stdev"]) and pd.isna(out.loc[0, "lowercl"])
    assert out.loc[1, "value_count"] == 2 and pd.isna(out.loc[1, "value"])
