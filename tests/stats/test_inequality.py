"""Tests for cdp_analysis.stats.inequality.sii (independent computations, no copied outputs)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from cdp_analysis.stats.inequality import sii

POP = np.array([7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534], dtype=float)


def _ranks(pop):
    a = pop / pop.sum()
    return a, np.cumsum(a) - a / 2


def _line_frame(intercept=70.0, slope=10.0, se=0.5, pop=POP, area="A"):
    _, b = _ranks(pop)
    y = intercept + slope * b
    return pd.DataFrame({"area": area, "decile": np.arange(1, len(pop) + 1), "pop": pop, "v": y,
                         "lo": y - 1.959964 * se, "hi": y + 1.959964 * se, "se": se})


def test_exact_line_gives_known_slope_and_ranks():
    a, b = _ranks(POP)
    # hand check of the relative rank: first decile mid-point = a₁/2, second = a₁ + a₂/2
    assert b[0] == pytest.approx(POP[0] / POP.sum() / 2)
    assert b[1] == pytest.approx((POP[0] + POP[1] / 2) / POP.sum())
    df = _line_frame()
    out = sii(df, "decile", "pop", value="v", se="se", reps=2000, seed=1)
    assert out["sii"].iloc[0] == pytest.approx(10.0, rel=1e-10)
    # RII (package definition) = fitted value at rank 1 / fitted value at rank 0
    assert out["rii"].iloc[0] == pytest.approx(80.0 / 70.0, rel=1e-10)
    # SII relative to the population-weighted mean (= fitted value at rank 0.5 = 75)
    assert out["weighted_mean"].iloc[0] == pytest.approx(75.0, rel=1e-12)
    assert out["rii_mean"].iloc[0] == pytest.approx(10.0 / 75.0, rel=1e-10)
    assert out["rii_mean"].iloc[0] == pytest.approx(out["sii"].iloc[0] / out["weighted_mean"].iloc[0])


def test_sign_convention_and_negative_multiplier():
    # quantile 1 (most deprived) first; value falls towards the least deprived → negative SII
    df = _line_frame(intercept=900.0, slope=-400.0, se=5.0)
    out = sii(df, "decile", "pop", value="v", se="se", reps=2000, seed=1)
    assert out["sii"].iloc[0] == pytest.approx(-400.0)
    flipped = sii(df, "decile", "pop", value="v", se="se", reps=2000, seed=1, multiplier=-1)
    assert flipped["sii"].iloc[0] == pytest.approx(400.0)
    assert flipped["rii"].iloc[0] == pytest.approx(1 / out["rii"].iloc[0])
    # same draws, negated; equal up to one order statistic (R's positions round(R·0.025) and
    # round(R·0.975) are not mirror images of each other)
    assert flipped["sii_lower95_0cl"].iloc[0] == pytest.approx(-out["sii_upper95_0cl"].iloc[0], rel=2e-3)
    # row order in the input does not matter: quantiles are sorted
    shuffled = sii(df.sample(frac=1, random_state=2), "decile", "pop", value="v", se="se", reps=2000, seed=1)
    assert shuffled["sii"].iloc[0] == pytest.approx(-400.0)


def test_sii_equals_population_weighted_regression():
    rng = np.random.default_rng(5)
    y = 60 + rng.normal(0, 3, 10) + np.linspace(0, 8, 10)
    df = pd.DataFrame({"decile": range(1, 11), "pop": POP, "v": y, "se": 1.0})
    out = sii(df, "decile", "pop", value="v", se="se", reps=1000, seed=0)
    a, b = _ranks(POP)
    fit = sm.WLS(y, sm.add_constant(b), weights=a).fit()
    assert out["sii"].iloc[0] == pytest.approx(fit.params[1], rel=1e-10)
    assert out["rii"].iloc[0] == pytest.approx(fit.params.sum() / fit.params[0], rel=1e-10)


def test_limits_bracket_estimate_and_are_reproducible():
    df = _line_frame(se=1.5)
    kw = dict(value="v", lower="lo", upper="hi", reps=20000, confidence=[0.95, 0.998])
    r1 = sii(df, "decile", "pop", seed=42, **kw)
    r2 = sii(df, "decile", "pop", seed=42, **kw)
    r3 = sii(df, "decile", "pop", seed=43, **kw)
    pd.testing.assert_frame_equal(r1, r2)
    assert r1["sii_lower95_0cl"].iloc[0] != r3["sii_lower95_0cl"].iloc[0]
    est = r1["sii"].iloc[0]
    assert r1["sii_lower99_8cl"].iloc[0] < r1["sii_lower95_0cl"].iloc[0] < est < r1["sii_upper95_0cl"].iloc[0] < r1["sii_upper99_8cl"].iloc[0]
    assert r1["rii_lower95_0cl"].iloc[0] < r1["rii"].iloc[0] < r1["rii_upper95_0cl"].iloc[0]
    # normal values: the SII is linear in y, so its SD is √Σ(h₁ᵢ·√aᵢ·SEᵢ)²; limits ≈ ±1.96 SD
    a, b = _ranks(POP)
    X = np.column_stack([np.sqrt(a), b * np.sqrt(a)])
    h = np.linalg.solve(X.T @ X, X.T)[1] * np.sqrt(a)
    sd = np.sqrt(np.sum((h * 1.5) ** 2))
    half_width = (r1["sii_upper95_0cl"].iloc[0] - r1["sii_lower95_0cl"].iloc[0]) / 2
    assert half_width == pytest.approx(1.959964 * sd, rel=0.05)


def test_limits_shrink_as_cis_shrink():
    wide = sii(_line_frame(se=2.0), "decile", "pop", value="v", lower="lo", upper="hi", reps=5000, seed=7)
    narrow = sii(_line_frame(se=0.5), "decile", "pop", value="v", lower="lo", upper="hi", reps=5000, seed=7)
    w = wide["sii_upper95_0cl"].iloc[0] - wide["sii_lower95_0cl"].iloc[0]
    n = narrow["sii_upper95_0cl"].iloc[0] - narrow["sii_lower95_0cl"].iloc[0]
    assert n < w / 3


def test_rate_and_proportion_value_types():
    a, b = _ranks(POP)
    rate = 400 - 200 * b  # per 100,000
    lo, hi = rate * 0.9, rate * 1.1
    df = pd.DataFrame({"decile": range(1, 11), "pop": POP, "v": rate, "lo": lo, "hi": hi})
    out = sii(df, "decile", "pop", value="v", lower="lo", upper="hi", value_type="rate", reps=5000, seed=3)
    assert out["sii"].iloc[0] == pytest.approx(-200.0)
    assert out["sii_lower95_0cl"].iloc[0] < -200 < out["sii_upper95_0cl"].iloc[0]
    # proportions from numerator / population, reported as percentage points
    p = 0.30 - 0.10 * b
    x = p * POP
    dfp = pd.DataFrame({"decile": range(1, 11), "pop": POP, "x": x, "se": 0.05})
    outp = sii(dfp, "decile", "pop", numerator="x", se="se", value_type="proportion", multiplier=100, reps=5000, seed=3)
    assert outp["sii"].iloc[0] == pytest.approx(-10.0)
    assert outp["sii_lower95_0cl"].iloc[0] < -10 < outp["sii_upper95_0cl"].iloc[0]


def test_grouped_with_incomplete_group():
    a = _line_frame(slope=10.0, area="A")
    b = _line_frame(slope=-5.0, area="B")
    c = _line_frame(slope=3.0, area="C").iloc[:-1]  # missing decile 10
    out = sii(pd.concat([a, b, c]), "decile", "pop", value="v", se="se", group_by="area", reps=1000, seed=0)
    out = out.set_index("area")
    assert out.loc["A", "sii"] == pytest.approx(10.0)
    assert out.loc["B", "sii"] == pytest.approx(-5.0)
    assert np.isnan(out.loc["C", "sii"]) and "9 of the 10" in out.loc["C", "reason"]


def test_validation_errors():
    df = _line_frame()
    bad = df.copy()
    bad.loc[3, "pop"] = 0
    with pytest.raises(ValueError, match=r"column 'pop' has zero, negative or missing values in rows \[3\]"):
        sii(bad, "decile", "pop", value="v", se="se", reps=1000)
    with pytest.raises(ValueError, match="between 5 and 100"):
        sii(df.iloc[:4], "decile", "pop", value="v", se="se", reps=1000)
    with pytest.raises(ValueError, match="reps"):
        sii(df, "decile", "pop", value="v", se="se", reps=10)
    with pytest.raises(ValueError, match="se column"):
        sii(df, "decile", "pop", value="v", reps=1000)
    neg = df.copy()
    neg["v"] = -1.0
    neg["lo"], neg["hi"] = -2.0, 0.5
    with pytest.raises(ValueError, match="value_type='rate'"):
        sii(neg, "decile", "pop", value="v", lower="lo", upper="hi", value_type="rate", reps=1000)


def test_sii_text_and_categorical_quantiles_sort_as_numbers():
    df = _line_frame(slope=6.0)
    as_text = df.assign(decile=df["decile"].astype(str))  # "10" must not sort before "2"
    out = sii(as_text, "decile", "pop", value="v", se="se", reps=1000, seed=0)
    assert out["sii"].iloc[0] == pytest.approx(6.0)
    cats = [str(i) for i in range(1, 11)]
    as_cat = df.assign(decile=pd.Categorical(df["decile"].astype(str), categories=cats, ordered=True))
    out = sii(as_cat.iloc[::-1], "decile", "pop", value="v", se="se", reps=1000, seed=0)
    assert out["sii"].iloc[0] == pytest.approx(6.0)


def test_sii_default_reps_runs_quickly():
    out = sii(_line_frame(se=1.0), "decile", "pop", value="v", se="se", seed=11)
    assert out["sii_lower95_0cl"].iloc[0] < 10.0 < out["sii_upper95_0cl"].iloc[0]


# --- transform=True (phe_sii's option): regression on the log / logit scale, transformed back -------------


def _five_rates():
    return pd.DataFrame({"q": [1, 2, 3, 4, 5], "pop": [1000.0, 1200, 900, 1100, 800],
                         "v": [80.0, 60, 50, 40, 30], "lo": [70.0, 52, 42, 33, 23], "hi": [91.0, 69, 59, 48, 38]})


@pytest.mark.parametrize(("kind", "scale"), [("rate", 1.0), ("proportion", 0.001)])
def test_transformed_sii_by_hand(kind, scale):
    df = _five_rates()
    df[["v", "lo", "hi"]] *= scale
    out = sii(df, "q", "pop", value="v", lower="lo", upper="hi", value_type=kind, transform=True, reps=2000,
              seed=1).iloc[0]
    a = df["pop"] / df["pop"].sum()
    b = np.cumsum(a) - a / 2
    y = np.log(df["v"]) if kind == "rate" else np.log(df["v"] / (1 - df["v"]))
    fit = sm.WLS(y, sm.add_constant(b), weights=a).fit()
    t0, t1 = fit.params
    back = np.exp if kind == "rate" else (lambda x: 1 / (1 + np.exp(-x)))
    assert out["sii"] == pytest.approx(back(t0 + t1) - back(t0), rel=1e-9)
    assert out["rii"] == pytest.approx(back(t0 + t1) / back(t0), rel=1e-9)
    assert out["sii_lower95_0cl"] < out["sii"] < out["sii_upper95_0cl"]
    assert out["rii_lower95_0cl"] < out["rii"] < out["rii_upper95_0cl"]


def test_transformed_sii_with_a_negative_multiplier_swaps_and_inverts():
    df = _five_rates()
    pos = sii(df, "q", "pop", value="v", lower="lo", upper="hi", value_type="rate", transform=True, reps=2000,
              seed=3).iloc[0]
    neg = sii(df, "q", "pop", value="v", lower="lo", upper="hi", value_type="rate", transform=True, reps=2000,
              multiplier=-1, seed=3).iloc[0]
    assert neg["sii"] == pytest.approx(-pos["sii"])
    assert (neg["sii_lower95_0cl"], neg["sii_upper95_0cl"]) == pytest.approx((-pos["sii_upper95_0cl"],
                                                                              -pos["sii_lower95_0cl"]))
    assert neg["rii"] == pytest.approx(1 / pos["rii"])
    assert neg["rii_lower95_0cl"] == pytest.approx(1 / pos["rii_upper95_0cl"])


def test_transformed_limits_shrink_to_the_estimate_as_the_limits_narrow():
    df = _five_rates()
    df["lo"], df["hi"] = df["v"] * 0.9999, df["v"] * 1.0001
    out = sii(df, "q", "pop", value="v", lower="lo", upper="hi", value_type="rate", transform=True, reps=2000,
              seed=2).iloc[0]
    assert out["sii_lower95_0cl"] == pytest.approx(out["sii"], rel=1e-3)
    assert out["sii_upper95_0cl"] == pytest.approx(out["sii"], rel=1e-3)


def test_transform_needs_a_rate_or_proportion_and_limits():
    df = _five_rates().assign(se=0.1)
    with pytest.raises(ValueError, match="value_type 'rate' or 'proportion'"):
        sii(df, "q", "pop", value="v", lower="lo", upper="hi", value_type="normal", transform=True, reps=1000)
    with pytest.raises(ValueError, match="not an se column"):
        sii(df, "q", "pop", value="v", se="se", value_type="rate", transform=True, reps=1000)
