"""Tests for cdp_analysis.stats.trend.recent_trend (independent computations, no copied outputs)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats
from statsmodels.stats.contingency_tables import Table

from cdp_analysis.stats.trend import TREND_CRITICAL_VALUE, recent_trend


def _prop_frame(counts, denoms, years=None, area="A"):
    years = years if years is not None else list(range(2016, 2016 + len(counts)))
    return pd.DataFrame({"area": area, "year": years, "x": counts, "n": denoms})


def test_critical_value_is_998_two_sided():
    assert TREND_CRITICAL_VALUE == pytest.approx(stats.norm.ppf(0.999) ** 2, rel=1e-9)
    assert TREND_CRITICAL_VALUE == pytest.approx(9.5495, abs=1e-4)
    assert TREND_CRITICAL_VALUE == float(stats.chi2.ppf(0.998, 1))  # written out, to the last digit


def test_strong_increase_in_counts_is_increasing():
    df = _prop_frame([100, 150, 200, 250, 300], [1000] * 5)
    out = recent_trend(df, "year", count="x", denominator="n")
    assert out["direction"].iloc[0] == "Increasing"
    assert out["trend"].iloc[0] == "Increasing"  # no judgement by default
    assert out["slope"].iloc[0] == pytest.approx(0.05)  # exactly linear, 5 points a year
    assert bool(out["slopes_consistent"].iloc[0])


def test_flat_series_no_significant_change():
    df = _prop_frame([200, 203, 198, 201, 199], [1000] * 5)
    out = recent_trend(df, "year", count="x", denominator="n")
    assert out["direction"].iloc[0] == "No significant change"
    assert out["chi_square"].iloc[0] < TREND_CRITICAL_VALUE


def test_leave_one_out_sign_flip_blocks_significance():
    # decreasing 20%, 19%, 18%, 17% then a jump to 40%: large positive overall slope,
    # but dropping the last point gives a negative slope.
    n = [10000] * 5
    x = [2000, 1900, 1800, 1700, 4000]
    df = _prop_frame(x, n)
    out = recent_trend(df, "year", count="x", denominator="n")
    # independent check of the premise
    t = np.arange(5.0)
    p = np.array(x) / np.array(n)
    assert np.polyfit(t, p, 1)[0] > 0 and np.polyfit(t[:4], p[:4], 1)[0] < 0
    assert out["chi_square"].iloc[0] > 100  # far beyond 9.55
    assert not bool(out["slopes_consistent"].iloc[0])
    assert out["direction"].iloc[0] == "No significant change"


def test_leave_one_out_sign_flip_wls():
    y = np.array([50.0, 49.0, 48.0, 47.0, 80.0])
    df = pd.DataFrame({"year": range(2015, 2020), "v": y, "lo": y - 0.5, "hi": y + 0.5})
    out = recent_trend(df, "year", value_type="rate", value="v", lower="lo", upper="hi")
    assert out["chi_square"].iloc[0] > TREND_CRITICAL_VALUE
    assert out["direction"].iloc[0] == "No significant change"


def test_fewer_than_five_points_cannot_be_calculated():
    df = _prop_frame([100, 150, 200, 250], [1000] * 4)
    out = recent_trend(df, "year", count="x", denominator="n")
    assert out["trend"].iloc[0] == "Cannot be calculated"
    assert np.isnan(out["chi_square"].iloc[0])
    assert "fewer than 5" in out["reason"].iloc[0]


def test_gap_or_missing_value_cannot_be_calculated():
    gap = _prop_frame([100, 150, 200, 250, 300], [1000] * 5, years=[2014, 2016, 2017, 2018, 2019])
    assert recent_trend(gap, "year", count="x", denominator="n")["direction"].iloc[0] == "Cannot be calculated"
    miss = _prop_frame([100, 150, np.nan, 250, 300], [1000] * 5)
    assert recent_trend(miss, "year", count="x", denominator="n")["direction"].iloc[0] == "Cannot be calculated"
    zero = _prop_frame([0, 0, 0, 0, 0], [1000] * 5)
    assert recent_trend(zero, "year", count="x", denominator="n")["direction"].iloc[0] == "Cannot be calculated"
    flat_ci = pd.DataFrame({"year": range(2015, 2020), "v": [1.0] * 5, "lo": [1.0] * 5, "hi": [1.0] * 5})
    out = recent_trend(flat_ci, "year", value_type="other", value="v", lower="lo", upper="hi")
    assert out["direction"].iloc[0] == "Cannot be calculated"


def test_uses_only_five_most_recent_points():
    # an early huge decline followed by 5 flat years: only the flat years count
    df = _prop_frame([900, 800, 700, 200, 201, 199, 200, 200], [1000] * 8)
    out = recent_trend(df.sample(frac=1, random_state=3), "year", count="x", denominator="n")
    assert out["periods_used"].iloc[0] == (2019, 2020, 2021, 2022, 2023)
    assert out["n_points"].iloc[0] == 5
    assert out["direction"].iloc[0] == "No significant change"


def test_chi_square_for_trend_matches_independent_computations():
    x = np.array([30, 40, 45, 60, 70])
    n = np.array([200, 210, 190, 220, 205])
    df = _prop_frame(x, n)
    out = recent_trend(df, "year", count="x", denominator="n")
    t = np.arange(5.0)
    N = n.sum()
    # statsmodels' linear-by-linear (Cochran–Armitage) z uses the N−1 variance; the classical
    # chi-square for trend uses N, hence the factor N/(N−1).
    tab = Table(np.column_stack([x, n - x]))
    z = tab.test_ordinal_association(row_scores=t, col_scores=np.array([1.0, 0.0])).zscore
    assert out["chi_square"].iloc[0] == pytest.approx(z**2 * N / (N - 1), rel=1e-9)
    # hand formula (Altman): [Σ xᵢ(tᵢ − t̄)]² / [p̄(1 − p̄) Σ nᵢ(tᵢ − t̄)²], t̄ weighted by n
    pbar = x.sum() / N
    tbar = (n * t).sum() / N
    chi = (x * (t - tbar)).sum() ** 2 / (pbar * (1 - pbar) * (n * (t - tbar) ** 2).sum())
    assert out["chi_square"].iloc[0] == pytest.approx(chi, rel=1e-12)
    # slope = WLS of p on t weighted by n
    wls = sm.WLS(x / n, sm.add_constant(t), weights=n).fit()
    assert out["slope"].iloc[0] == pytest.approx(wls.params[1], rel=1e-10)
    assert out["direction"].iloc[0] == "Increasing"


def test_wls_slope_and_chi_square_match_statsmodels():
    y = np.array([310.0, 305.0, 290.0, 282.0, 270.0])
    se = np.array([4.0, 3.5, 4.2, 3.9, 4.1])
    df = pd.DataFrame({"period": ["2015/16", "2016/17", "2017/18", "2018/19", "2019/20"],
                       "v": y, "lo": y - 1.96 * se, "hi": y + 1.96 * se})
    out = recent_trend(df, "period", value_type="dsr", value="v", lower="lo", upper="hi", polarity="RAG - Low is good")
    se_used = (df["hi"] - df["lo"]).to_numpy() / 3.92
    fit = sm.WLS(y, sm.add_constant(np.arange(5.0)), weights=1 / se_used**2).fit(cov_type="fixed scale")
    assert out["slope"].iloc[0] == pytest.approx(fit.params[1], rel=1e-10)
    assert out["chi_square"].iloc[0] == pytest.approx((fit.params[1] / fit.bse[1]) ** 2, rel=1e-9)
    assert out["direction"].iloc[0] == "Decreasing"
    assert out["trend"].iloc[0] == "Decreasing and getting better"
    assert out["periods_used"].iloc[0][0] == "2015/16"


@pytest.mark.parametrize(
    "polarity, counts, expected",
    [
        ("high_is_good", [100, 150, 200, 250, 300], "Increasing and getting better"),
        ("low_is_good", [100, 150, 200, 250, 300], "Increasing and getting worse"),
        ("RAG - High is good", [300, 250, 200, 150, 100], "Decreasing and getting worse"),
        ("RAG - Low is good", [300, 250, 200, 150, 100], "Decreasing and getting better"),
        ("BOB - Blue orange blue", [300, 250, 200, 150, 100], "Decreasing"),
        ("no_judgement", [100, 150, 200, 250, 300], "Increasing"),
    ],
)
def test_polarity_labels(polarity, counts, expected):
    df = _prop_frame(counts, [1000] * 5)
    assert recent_trend(df, "year", count="x", denominator="n", polarity=polarity)["trend"].iloc[0] == expected


def test_grouped_results_equal_separate_calls():
    a = _prop_frame([100, 150, 200, 250, 300], [1000] * 5, area="A")
    b = _prop_frame([200, 203, 198, 201, 199], [1000] * 5, area="B")
    c = _prop_frame([10, 20, 30], [100] * 3, area="C")
    both = pd.concat([b, c, a], ignore_index=True)
    out = recent_trend(both, "year", count="x", denominator="n", group_by="area").set_index("area")
    assert list(out.index) == ["A", "B", "C"]
    for area, part in (("A", a), ("B", b)):
        single = recent_trend(part, "year", count="x", denominator="n")
        assert out.loc[area, "chi_square"] == pytest.approx(single["chi_square"].iloc[0], rel=1e-12)
        assert out.loc[area, "direction"] == single["direction"].iloc[0]
    assert out.loc["C", "direction"] == "Cannot be calculated"


def test_validation_errors():
    df = _prop_frame([100, 150, 200, 250, 300], [1000, 1000, 0, 1000, 1000])
    with pytest.raises(ValueError, match=r"column 'n' has zero or negative values in rows \[2\]"):
        recent_trend(df, "year", count="x", denominator="n")
    dup = _prop_frame([1, 2, 3, 4, 5], [10] * 5, years=[2015, 2016, 2016, 2017, 2018])
    with pytest.raises(ValueError, match="repeated periods"):
        recent_trend(dup, "year", count="x", denominator="n")
    with pytest.raises(ValueError, match="need value, lower and upper"):
        recent_trend(df, "year", value_type="rate", value="x")


# --- proportions: Fingertips' direction and consistency check use the unweighted logit slope -------------


@pytest.mark.parametrize(("counts", "denoms", "expected"), [
    # checked against OHID's own Fingertips trend vectors (issue 12): no significant change / decreasing
    ([10, 5, 18, 85, 187], [97, 199, 1757, 1049, 2533], "No significant change"),
    ([98, 13, 25, 4, 4], [1929, 2583, 952, 736, 806], "Decreasing"),
])
def test_fingertips_markers_for_proportions(counts, denoms, expected):
    out = recent_trend(_prop_frame(counts, denoms, years=list(range(2015, 2020))), "year", count="x", denominator="n")
    assert out["direction"].iloc[0] == expected
    assert out["chi_square"].iloc[0] > TREND_CRITICAL_VALUE  # both are 'significant' by chi-square alone


def test_logit_slope_is_the_unweighted_least_squares_slope_of_the_logit():
    x, n = np.array([98, 13, 25, 4, 4.0]), np.array([1929, 2583, 952, 736, 806.0])
    out = recent_trend(_prop_frame(x, n), "year", count="x", denominator="n")
    fit = sm.OLS(np.log(x / (n - x)), sm.add_constant(np.arange(5.0))).fit()
    assert out["logit_slope"].iloc[0] == pytest.approx(fit.params[1])


def test_a_zero_count_has_no_logit_and_cannot_be_calculated():
    out = recent_trend(_prop_frame([0, 5, 10, 20, 40], [1000] * 5), "year", count="x", denominator="n")
    assert out["direction"].iloc[0] == "Cannot be calculated" and "no logit" in out["reason"].iloc[0]


@settings(max_examples=60, deadline=None)
@given(p0=hs.floats(0.05, 0.6), step=hs.floats(-0.4, 0.4), n=hs.integers(200, 50_000),
       noise=hs.lists(hs.floats(-0.05, 0.05), min_size=5, max_size=5), k=hs.integers(2, 20))
def test_properties_of_the_proportion_marker(p0, step, n, noise, k):
    logit = np.log(p0 / (1 - p0)) + step * np.arange(5) + np.array(noise)
    p = 1 / (1 + np.exp(-logit))
    x = np.maximum(1, np.round(p * n))
    df = _prop_frame(x, [n] * 5)
    out = recent_trend(df, "year", count="x", denominator="n").iloc[0]
    # reversing time flips the direction and keeps chi-square
    rev = recent_trend(_prop_frame(x[::-1], [n] * 5), "year", count="x", denominator="n").iloc[0]
    flip = {"Increasing": "Decreasing", "Decreasing": "Increasing", "No significant change": "No significant change"}
    assert rev["direction"] == flip[out["direction"]]
    assert rev["chi_square"] == pytest.approx(out["chi_square"], rel=1e-9)
    # a significant direction is the sign of the logit slope
    if out["direction"] == "Increasing":
        assert out["logit_slope"] > 0
    if out["direction"] == "Decreasing":
        assert out["logit_slope"] < 0
    # k times the data: chi-square × k, the same logit slopes, so a marker can only appear, never change sign
    big = recent_trend(_prop_frame(x * k, [n * k] * 5), "year", count="x", denominator="n").iloc[0]
    assert big["chi_square"] == pytest.approx(k * out["chi_square"], rel=1e-6)
    if out["direction"] != "No significant change":
        assert big["direction"] == out["direction"]


def test_a_grouped_call_on_an_empty_frame_returns_no_groups_not_an_error():
    empty = _prop_frame([], [], years=[]).astype({"x": float, "n": float, "year": int})
    grouped = recent_trend(empty, "year", count="x", denominator="n", group_by="area")
    ungrouped = recent_trend(empty, "year", count="x", denominator="n")
    assert len(grouped) == 0 and list(grouped.columns) == ["area", *ungrouped.columns]
    assert ungrouped["direction"].iloc[0] == "Cannot be calculated"
