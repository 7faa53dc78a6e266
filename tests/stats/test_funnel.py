"""Tests for cdp_analysis.stats.funnel (independent hand calculations, no copied outputs)."""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from cdp_analysis.stats.funnel import SIGNIFICANCE_LEVELS, funnel_limits, funnel_significance

Z95 = stats.norm.ppf(0.975)
Z998 = stats.norm.ppf(0.999)


def _wilson(x, n, z, side):
    """Wilson score limit written out independently of the package."""
    centre = 2 * x + z**2
    spread = z * math.sqrt(z**2 + 4 * x * (1 - x / n))
    return (centre + (spread if side == "upper" else -spread)) / (2 * (n + z**2))


def _proportion_limit_by_root(n, average, z, side):
    """Observed proportion at which the Wilson interval of x/n just reaches the average."""
    if side == "low":  # upper Wilson limit of the low control point equals the average
        f = lambda x: _wilson(x, n, z, "upper") - average  # noqa: E731
    else:
        f = lambda x: _wilson(x, n, z, "lower") - average  # noqa: E731
    return optimize.brentq(f, 0.0, n) / n


def _poisson_mean_at_tail(obs, tail_p, side):
    """Poisson mean μ with P(X <= obs | μ) = tail_p (side='upper') or P(X >= obs | μ) = tail_p."""
    if side == "upper":
        f = lambda mu: stats.poisson.cdf(obs, mu) - tail_p  # noqa: E731
    else:
        f = lambda mu: stats.poisson.sf(obs - 1, mu) - tail_p  # noqa: E731
    return optimize.brentq(f, 1e-9, 10 * obs + 50)


@pytest.fixture
def prop_df():
    return pd.DataFrame(
        {
            "area": list("ABCD"),
            "num": [10232, 12321, 15123, 13213],
            "den": [15232, 16123, 17932, 18475],
        }
    )


def test_proportion_limits_match_wilson_inversion(prop_df):
    out = funnel_limits(prop_df, "num", "den", statistic="proportion", multiplier=100)
    average = prop_df["num"].sum() / prop_df["den"].sum()
    assert len(out) == 100
    assert np.allclose(out["baseline"], 100 * average)
    for i in (0, 37, 99):
        n = out["population"].iloc[i]
        assert out["lower_2s_limit"].iloc[i] == pytest.approx(100 * _proportion_limit_by_root(n, average, Z95, "low"), rel=1e-9)
        assert out["upper_2s_limit"].iloc[i] == pytest.approx(100 * _proportion_limit_by_root(n, average, Z95, "high"), rel=1e-9)
        assert out["lower_3s_limit"].iloc[i] == pytest.approx(100 * _proportion_limit_by_root(n, average, Z998, "low"), rel=1e-9)
        assert out["upper_3s_limit"].iloc[i] == pytest.approx(100 * _proportion_limit_by_root(n, average, Z998, "high"), rel=1e-9)


def test_proportion_small_hand_case():
    # average 0.2, n = 100 on the axis (min == max so axis starts at 100*0.95 -> 90 ... )
    # Hand computation: the 95% lower control point p solves wilson_upper(100p, 100) = 0.2.
    df = pd.DataFrame({"x": [20, 20], "n": [100, 100]})
    out = funnel_limits(df, "x", "n", statistic="proportion", multiplier=1)
    # axis: min 100 -> floor(95) to 1 s.f. = 90; max -> ceil(105) to 2 s.f. = 110. With so short a
    # range every step is the "+1" minimum step, so the 100 points run 90, 91, ..., 189 (as in R).
    assert out["population"].iloc[0] == 90
    assert out["population"].tolist() == list(range(90, 190))
    row = out.loc[out["population"] == 100].iloc[0]
    # closed form of the quadratic, independently: (2x + z² + z√(z² + 4x(1−x/n))) / (2(n+z²)) = p̄
    z = Z95
    n, pbar = 100.0, 0.2
    # square the Wilson equation: (2(n+z²)p̄ − 2x − z²)² = z²(z² + 4x − 4x²/n)
    k = 2 * (n + z**2) * pbar - z**2
    # 4x² − 4kx + k² = z⁴ + 4z²x − 4z²x²/n  →  (4 + 4z²/n)x² − (4k + 4z²)x + (k² − z⁴) = 0
    qa, qb, qc = 4 + 4 * z**2 / n, -(4 * k + 4 * z**2), k**2 - z**4
    roots = sorted(np.roots([qa, qb, qc]).real)
    assert row["lower_2s_limit"] == pytest.approx(roots[0] / n, rel=1e-9)
    assert row["upper_2s_limit"] == pytest.approx(roots[1] / n, rel=1e-9)


def test_proportion_limits_nest_narrow_and_converge(prop_df):
    big = pd.concat([prop_df, pd.DataFrame({"area": ["E"], "num": [50], "den": [100]})], ignore_index=True)
    out = funnel_limits(big, "num", "den", statistic="proportion", multiplier=100)
    base = out["baseline"].to_numpy()
    lo2, hi2, lo3, hi3 = (out[c].to_numpy() for c in ["lower_2s_limit", "upper_2s_limit", "lower_3s_limit", "upper_3s_limit"])
    assert (lo3 <= lo2).all() and (lo2 < base).all() and (base < hi2).all() and (hi2 <= hi3).all()
    assert out["population"].is_monotonic_increasing
    for lo, hi in ((lo2, hi2), (lo3, hi3)):
        # limits are clipped to [0, 100] at tiny denominators; strictly monotone elsewhere
        assert (np.diff(lo) >= 0).all() and (np.diff(hi) <= 0).all()
        inside = (lo[1:] > 0) & (hi[1:] < 100)
        assert (np.diff(lo)[inside] > 0).all() and (np.diff(hi)[inside] < 0).all()
        assert inside.sum() > 60
    # axis started at 0 because max > 2 min; first point is 1
    assert out["population"].iloc[0] == 1
    # converge: at the largest n the half-width approaches the normal approximation z·√(p(1−p)/n)
    p = base[-1] / 100
    n = out["population"].iloc[-1]
    assert (hi2[-1] - lo2[-1]) / 2 == pytest.approx(100 * Z95 * math.sqrt(p * (1 - p) / n), rel=0.01)
    assert hi2[-1] - lo2[-1] < 0.1 * (hi2[0] - lo2[0])


def test_proportion_significance_flags_outliers():
    den = np.full(20, 5000)
    num = np.full(20, 1000)  # average 0.2
    num[0] = 1400  # far above
    num[1] = 600  # far below
    num[2] = 1000  # at average
    num[3] = 1060  # 0.212: about 2.1 SE above -> between 95% and 99.8%
    df = pd.DataFrame({"area": [f"A{i}" for i in range(20)], "num": num, "den": den})
    df = df.sample(frac=1, random_state=1)  # order must not matter
    out = funnel_significance(df, "num", "den", statistic="proportion").set_index("area")
    assert out.loc["A0", "significance"] == "High (0.001)"
    assert out.loc["A1", "significance"] == "Low (0.001)"
    assert out.loc["A2", "significance"] == "Not significant"
    assert out.loc["A3", "significance"] == "High (0.025)"
    assert list(out["significance"].cat.categories) == SIGNIFICANCE_LEVELS


def test_proportion_significance_consistent_with_limit_formula():
    df = pd.DataFrame({"num": [30, 55, 48, 70, 40], "den": [200, 300, 250, 260, 310]})
    out = funnel_significance(df, "num", "den", statistic="proportion")
    average = df["num"].sum() / df["den"].sum()
    for _, r in out.iterrows():
        p = r["num"] / r["den"]
        lo2 = _proportion_limit_by_root(r["den"], average, Z95, "low")
        hi2 = _proportion_limit_by_root(r["den"], average, Z95, "high")
        lo3 = _proportion_limit_by_root(r["den"], average, Z998, "low")
        hi3 = _proportion_limit_by_root(r["den"], average, Z998, "high")
        expected = (
            "Low (0.001)" if p < lo3 else "Low (0.025)" if p < lo2 else
            "High (0.001)" if p > hi3 else "High (0.025)" if p > hi2 else "Not significant"
        )
        assert r["significance"] == expected


def test_ratio_limits_exact_poisson():
    df = pd.DataFrame({"obs": [12, 30, 45, 20], "exp": [15.0, 28.0, 40.0, 25.0]})
    out = funnel_limits(df, "obs", "exp", statistic="ratio", ratio_type="isr")
    assert len(out) == 100
    assert out["observed_events"].iloc[0] == 1  # max > 2·min → axis from 0 → first point 1
    assert (out["baseline"] == 100).all()
    for i in (0, 4, 50):
        o = out["observed_events"].iloc[i]
        mu_hi = _poisson_mean_at_tail(o, 0.025, "upper")  # P(X<=o)=0.025
        mu_lo = _poisson_mean_at_tail(o, 0.025, "lower")  # P(X>=o)=0.025
        assert out["lower_2s_exp_events"].iloc[i] == pytest.approx(mu_hi, rel=1e-6)
        assert out["lower_2s_limit"].iloc[i] == pytest.approx(100 * o / mu_hi, rel=1e-6)
        assert out["upper_2s_limit"].iloc[i] == pytest.approx(100 * o / mu_lo, rel=1e-6)
        mu3 = _poisson_mean_at_tail(o, 0.001, "upper")
        assert out["lower_3s_limit"].iloc[i] == pytest.approx(100 * o / mu3, rel=1e-6)
    assert (out["lower_3s_limit"] < out["lower_2s_limit"]).all()
    assert (out["upper_3s_limit"] > out["upper_2s_limit"]).all()
    count = funnel_limits(df, "obs", "exp", statistic="ratio", ratio_type="count")
    assert np.allclose(count["lower_2s_limit"], out["lower_2s_limit"] / 100 - 1)


def test_ratio_significance():
    df = pd.DataFrame(
        {"area": list("ABCDE"), "obs": [40, 10, 0, 18, 3], "exp": [10.0, 10.0, 10.0, 10.0, 10.0]}
    )
    out = funnel_significance(df, "obs", "exp", statistic="ratio").set_index("area")
    assert out.loc["A", "significance"] == "High (0.001)"  # 4× expected
    assert out.loc["B", "significance"] == "Not significant"  # O = E
    assert out.loc["C", "significance"] == "Low (0.001)"  # 0 observed: exact upper 99.8% = 6.9 < 10
    # D: 18 vs 10; Byar's lower 95% of 18 ≈ 10.67 > 10 (High 0.025) but 99.8% lower ≈ 8.6 < 10
    by_lo95 = 18 * (1 - 1 / (9 * 18) - Z95 / (3 * math.sqrt(18))) ** 3
    by_lo998 = 18 * (1 - 1 / (9 * 18) - Z998 / (3 * math.sqrt(18))) ** 3
    assert by_lo95 > 10 > by_lo998
    assert out.loc["D", "significance"] == "High (0.025)"
    # E: 3 observed (< 10 → exact); exact upper 95% of 3 = 8.77 < 10 → low; 99.8% = 11.2 > 10
    assert stats.chi2.ppf(0.975, 8) / 2 < 10 < stats.chi2.ppf(0.999, 8) / 2
    assert out.loc["E", "significance"] == "Low (0.025)"


def test_rate_limits_and_significance():
    df = pd.DataFrame(
        {
            "area": list("ABCDEF"),
            "events": [120, 150, 90, 400, 30, 140],
            "pop": [100000, 120000, 80000, 110000, 90000, 95000],
        }
    )
    df["rate"] = df["events"] / df["pop"] * 100000
    out = funnel_limits(
        df, "events", "pop", statistic="rate", rate="rate", rate_type="crude", multiplier=100000, years_of_data=1
    )
    av = df["events"].sum() / df["pop"].sum()
    assert np.allclose(out["baseline"], av * 100000)
    for i in (0, 20, 99):
        e = out["events"].iloc[i]
        mu_hi = _poisson_mean_at_tail(e, 0.025, "upper")
        mu_lo = _poisson_mean_at_tail(e, 0.025, "lower")
        # population at which e events is on the limit = μ / average rate; limit = e / population
        assert out["lower_2s_limit"].iloc[i] == pytest.approx(100000 * e * av / mu_hi, rel=1e-6)
        assert out["upper_2s_limit"].iloc[i] == pytest.approx(100000 * e * av / mu_lo, rel=1e-6)
        assert out["lower_2s_population_1_year"].iloc[i] == pytest.approx(mu_hi / av, rel=1e-6)
    assert (out["lower_2s_limit"] < out["baseline"]).all() and (out["upper_2s_limit"] > out["baseline"]).all()
    sig = funnel_significance(df, "events", "pop", statistic="rate", rate="rate", rate_type="crude", multiplier=100000)
    sig = sig.set_index("area")["significance"]
    assert sig["D"] == "High (0.001)"
    assert sig["E"] == "Low (0.001)"
    assert sig["F"] == "Not significant"


def test_dsr_small_counts_not_applicable():
    df = pd.DataFrame({"events": [5, 200, 180, 0], "dsr": [10.0, 150.0, 140.0, 0.0], "pop": [50000, 130000, 120000, 40000]})
    sig = funnel_significance(df, "events", "pop", statistic="rate", rate="dsr", rate_type="dsr", multiplier=100000)
    assert sig["significance"].iloc[0] == "Not applicable for events less than 10 for dsrs"
    assert sig["significance"].iloc[3] == "Not applicable for events less than 10 for dsrs"
    assert sig["significance"].iloc[1] != "Not applicable for events less than 10 for dsrs"


def test_group_by_has_separate_averages():
    df = pd.DataFrame(
        {"year": [2020] * 3 + [2021] * 3, "num": [10, 20, 30, 100, 120, 110], "den": [100, 100, 100, 200, 200, 200]}
    )
    out = funnel_limits(df, "num", "den", statistic="proportion", group_by="year")
    assert list(out.columns[:2]) == ["year", "population"]
    assert out.groupby("year").size().tolist() == [100, 100]
    assert out.loc[out.year == 2020, "baseline"].iloc[0] == pytest.approx(20.0)
    assert out.loc[out.year == 2021, "baseline"].iloc[0] == pytest.approx(55.0)
    sig = funnel_significance(df, "num", "den", statistic="proportion", group_by="year")
    assert len(sig) == 6 and sig.index.equals(df.index)


def test_validation_errors():
    df = pd.DataFrame({"num": [1, -2, 3, 4], "den": [10, 10, 0, 3]})
    with pytest.raises(ValueError, match=r"column 'num' has negative values in rows \[1\]"):
        funnel_significance(df, "num", "den", statistic="proportion")
    df2 = pd.DataFrame({"num": [1, 2, 3, 4], "den": [10, 10, 0, 3]})
    with pytest.raises(ValueError, match=r"column 'den' has zero or negative values in rows \[2\]"):
        funnel_limits(df2, "num", "den", statistic="proportion")
    df3 = pd.DataFrame({"num": [1, 2, 3, 4], "den": [10, 10, 5, 3]})
    with pytest.raises(ValueError, match=r"rows \[3\]"):
        funnel_limits(df3, "num", "den", statistic="proportion")
    with pytest.raises(ValueError, match="statistic"):
        funnel_limits(df3, "num", "den", statistic="mean")
    with pytest.raises(ValueError, match="ratio_type"):
        funnel_limits(df3, "num", "den", statistic="ratio")
    with pytest.raises(ValueError, match="not found"):
        funnel_limits(df3, "num", "nope", statistic="proportion")


# --- overdispersion (Spiegelhalter 2005), proportions ---------------------------------------------------------

#: 20 areas drawn once (numpy default_rng(2005): n uniform 300–12,000, p ~ Beta(18, 72), x ~ Binomial(n, p)).
OD_X = [919, 1431, 1554, 2034, 1867, 1774, 1254, 2368, 870, 90, 102, 1594, 122, 1088, 520, 1497, 605, 88, 2556, 802]
OD_N = [3938, 8697, 6812, 5961, 11656, 9719, 6238, 10797, 3362, 496, 404, 7222, 650, 6233, 3418, 8290, 2796, 339,
        11294, 4452]
#: FunnelPlotR 0.6.0 (nhs-r-community/FunnelPlotR, R/od_adjustment.R and R/calculate_limits.R, data_type "PR",
#: trim_by 0.1, multiplier 1) on the areas above, run in R 4.2.2: target, φ, τ², and at denominators 339, 1000,
#: 5000 and 11656 the limits odll95, odul95, odll998, odul998 (printed to 15 significant digits).
FPR_TARGET, FPR_PHI, FPR_TAU2 = 0.205144802880096, 24.8159780708294, 0.00113849836408518
FPR_LIMITS = {
    339: (0.141154237486976, 0.277614383168787, 0.108837214950862, 0.322455322508370),
    1000: (0.149511406477847, 0.267057886997976, 0.120752653693859, 0.305106498518365),
    5000: (0.153429302637512, 0.262236838667802, 0.126423169801477, 0.297201831192717),
    11656: (0.154018337728936, 0.261518832605098, 0.127280107380694, 0.296025715367063),
}


def test_overdispersion_reproduces_funnelplotr():
    from cdp_analysis.stats import funnel_overdispersion
    from cdp_analysis.stats.funnel import _overdispersed_limit

    df = pd.DataFrame({"x": OD_X, "n": OD_N})
    d = funnel_overdispersion(df, "x", "n").iloc[0]
    assert d["areas"] == 20
    assert (d["average"], d["phi"], d["tau2"]) == pytest.approx((FPR_TARGET, FPR_PHI, FPR_TAU2), rel=1e-12)
    for n, (lo2, hi2, lo3, hi3) in FPR_LIMITS.items():
        got = [_overdispersed_limit(n, d["average"], d["tau2"], z, side)
               for z, side in ((Z95, "low"), (Z95, "high"), (Z998, "low"), (Z998, "high"))]
        # FunnelPlotR writes z as 1.959964 and 3.090232 (7 significant digits): agreement to 1e-7
        assert got == pytest.approx([lo2, hi2, lo3, hi3], rel=1e-6)
    lim = funnel_limits(df, "x", "n", statistic="proportion", multiplier=1, overdispersion=True)
    assert lim["phi"].iloc[0] == pytest.approx(FPR_PHI) and lim["tau2"].iloc[0] == pytest.approx(FPR_TAU2)
    assert lim.attrs["overdispersion"][()]["tau2"] == pytest.approx(FPR_TAU2)
    assert lim["method"].iloc[0].startswith("arcsine, overdispersion-adjusted")
    # the Wilson limits are kept beside the adjusted ones, which are wider
    wilson = funnel_limits(df, "x", "n", statistic="proportion", multiplier=1)
    assert np.allclose(lim["lower_3s_limit_unadjusted"], wilson["lower_3s_limit"])
    inner = (lim["population"] > 300).to_numpy()
    assert (lim["upper_3s_limit"][inner] > wilson["upper_3s_limit"][inner]).all()
    assert (lim["lower_3s_limit"][inner] < wilson["lower_3s_limit"][inner]).all()


def test_overdispersion_by_hand():
    """φ and τ² written out from Spiegelhalter (2005), independently of the package."""
    from cdp_analysis.stats import funnel_overdispersion

    x, n = np.array(OD_X, float), np.array(OD_N, float)
    p = x.sum() / n.sum()
    s = 1 / (2 * np.sqrt(n))
    z = (np.arcsin(np.sqrt(x / n)) - np.arcsin(np.sqrt(p))) / s
    zs = np.sort(z)
    # R's type-7 quantile: h = (N − 1)q, linear between the order statistics around it
    def q(prob):
        h = (len(zs) - 1) * prob
        return zs[int(np.floor(h))] + (h - np.floor(h)) * (zs[int(np.floor(h)) + 1] - zs[int(np.floor(h))])
    w = np.minimum(np.maximum(z, q(0.1)), q(0.9))
    phi = (w**2).mean()
    weights = 1 / s**2
    tau2 = (20 * phi - 19) / (weights.sum() - (weights**2).sum() / weights.sum())
    d = funnel_overdispersion(pd.DataFrame({"x": x, "n": n}), "x", "n").iloc[0]
    assert (d["phi"], d["tau2"]) == pytest.approx((phi, tau2), rel=1e-12)


def test_no_overdispersion_gives_tau2_zero_and_arcsine_limits():
    from cdp_analysis.stats import funnel_overdispersion

    df = pd.DataFrame({"x": [200, 201, 199, 200, 202, 198, 200, 200], "n": [1000] * 8})  # far less spread than binomial
    d = funnel_overdispersion(df, "x", "n").iloc[0]
    assert d["phi"] < 1 and d["tau2"] == 0
    lim = funnel_limits(df, "x", "n", statistic="proportion", multiplier=1, overdispersion=True)
    row = lim[lim["population"] == 1000].iloc[0]
    theta = math.asin(math.sqrt(0.2))
    assert row["upper_2s_limit"] == pytest.approx(math.sin(theta + Z95 / (2 * math.sqrt(1000))) ** 2, rel=1e-12)


def test_overdispersed_simulation_is_calibrated_by_the_adjustment():
    """Seeded simulation: 5,000 areas whose true proportions vary (additive random effect on the arcsine scale,
    τ = 0.03, so τ² = 0.0009). Most points fall outside the unadjusted 99.8% limits; with τ² estimated by the
    method of moments (trim 0) about 0.2% fall outside the adjusted 99.8% limits and about 5% outside the 95%.
    Winsorising at 10%/90% (the default, robust to outliers) shrinks φ for normally distributed effects, so τ² is
    underestimated and about 2% fall outside the 99.8% limits — still far fewer than without adjustment."""
    rng = np.random.default_rng(1185)
    n = rng.integers(2000, 50000, 5000)
    theta = math.asin(math.sqrt(0.2)) + rng.normal(0, 0.03, 5000)
    df = pd.DataFrame({"x": rng.binomial(n, np.sin(theta) ** 2), "n": n})

    def outside(out, level):
        levels = ["High (0.001)", "Low (0.001)"] + (["High (0.025)", "Low (0.025)"] if level == 95 else [])
        return out["significance"].isin(levels).mean()

    plain = funnel_significance(df, "x", "n", statistic="proportion")
    assert outside(plain, 99.8) > 0.6
    moments = funnel_significance(df, "x", "n", statistic="proportion", overdispersion=True, trim=0.0)
    assert moments["tau2"].iloc[0] == pytest.approx(0.0009, rel=0.1)
    assert 0.0005 <= outside(moments, 99.8) <= 0.005
    assert 0.04 <= outside(moments, 95) <= 0.065
    robust = funnel_significance(df, "x", "n", statistic="proportion", overdispersion=True)
    assert 0.0003 < robust["tau2"].iloc[0] < 0.0009
    assert outside(robust, 99.8) < 0.03 and outside(robust, 99.8) < outside(plain, 99.8) / 20


def test_overdispersion_is_for_proportions_only_and_off_by_default(prop_df):
    with pytest.raises(ValueError, match="proportion' only"):
        funnel_limits(pd.DataFrame({"obs": [3, 4], "exp": [3.0, 5.0]}), "obs", "exp", statistic="ratio",
                      ratio_type="isr", overdispersion=True)
    with pytest.raises(ValueError, match="trim"):
        funnel_significance(prop_df, "num", "den", statistic="proportion", overdispersion=True, trim=0.5)
    plain = funnel_limits(prop_df, "num", "den", statistic="proportion")
    assert "phi" not in plain.columns and plain["method"].iloc[0] == "Wilson" and not plain.attrs
