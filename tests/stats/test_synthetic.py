"""Synthetic estimates and their calibration, on small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cdp_analysis import stats


def _strata():
    return pd.DataFrame({"area": ["a", "a", "b", "b"], "pop": [1000.0, 3000.0, 500.0, 500.0],
                         "rate": [0.10, 0.02, 0.10, 0.02], "base": [400.0, 1600.0, 400.0, 1600.0]})


def test_expected_count_effective_sample_size_and_wilson_limits_by_hand():
    out = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area", design_factor=1.2)
    a = out.set_index("area").loc["a"]
    e = 1000 * 0.10 + 3000 * 0.02  # 160
    var_p = (0.25**2 * 1.44 * 0.1 * 0.9 / 400) + (0.75**2 * 1.44 * 0.02 * 0.98 / 1600)  # weights 1000/4000, 3000/4000
    p = e / 4000
    n_eff = p * (1 - p) / var_p
    z = 1.959963984540054
    lo = (2 * p * n_eff + z**2 - z * math.sqrt(z**2 + 4 * p * n_eff * (1 - p))) / (2 * (n_eff + z**2))
    hi = (2 * p * n_eff + z**2 + z * math.sqrt(z**2 + 4 * p * n_eff * (1 - p))) / (2 * (n_eff + z**2))
    assert a["expected"] == pytest.approx(e)
    assert a["se"] == pytest.approx(4000 * math.sqrt(var_p))
    assert a["effective_n"] == pytest.approx(n_eff)
    assert a["lowercl"] == pytest.approx(4000 * lo) and a["uppercl"] == pytest.approx(4000 * hi)
    assert a["population"] == 4000 and a["percent"] == pytest.approx(4.0)
    assert a["percent_uppercl"] == pytest.approx(100 * hi)


def test_design_factor_widens_the_limits_and_a_positive_estimate_never_gets_a_zero_lower_limit():
    one = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area")
    two = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area", design_factor=2)
    np.testing.assert_allclose(two["se"], 2 * one["se"])
    np.testing.assert_allclose(two["effective_n"], one["effective_n"] / 4)
    assert ((two["uppercl"] - two["lowercl"]) > (one["uppercl"] - one["lowercl"])).all()
    rare = pd.DataFrame({"pop": [1000.0], "rate": [0.001], "base": [50.0]})
    r = stats.synthetic_estimate(rare, "pop", "rate", "base").iloc[0]
    assert r["expected"] == pytest.approx(1.0)
    assert 0 < r["lowercl"] < r["expected"] < r["uppercl"]  # a normal interval would give 1 ± 8.8, clipped at 0


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="proportions outside 0-1"):
        stats.synthetic_estimate(_strata().assign(rate=5.0), "pop", "rate", "base")
    with pytest.raises(ValueError, match="non-positive bases"):
        stats.synthetic_estimate(_strata().assign(base=0.0), "pop", "rate", "base")
    with pytest.raises(ValueError, match="design_factor"):
        stats.synthetic_estimate(_strata(), "pop", "rate", "base", design_factor=0.5)


def test_synthetic_estimate_equals_expected_counts():
    df = _strata()
    ours = stats.synthetic_estimate(df, "pop", "rate", "base", group_by="area")
    theirs = stats.expected_counts(df, "pop", ref_rate="rate", group_by="area")
    np.testing.assert_allclose(ours["expected"], theirs["expected"])


def test_calibration_scales_by_observed_over_expected_with_the_regions_wilson_limits():
    est = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area", design_factor=1.2)
    cal = stats.calibrate(est, observed=pd.Series([0.05, 0.05]), observed_base=pd.Series([800, 800]),
                          expected_rate=pd.Series([0.04, 0.04]), design_factor=1.2)
    a, raw = cal.iloc[0], est.iloc[0]
    assert a["factor"] == pytest.approx(1.25) and a["expected"] == pytest.approx(raw["expected"] * 1.25)
    n = 800 / 1.44
    z = 1.959963984540054
    lo = (2 * 0.05 * n + z**2 - z * math.sqrt(z**2 + 4 * 0.05 * n * 0.95)) / (2 * (n + z**2))
    hi = (2 * 0.05 * n + z**2 + z * math.sqrt(z**2 + 4 * 0.05 * n * 0.95)) / (2 * (n + z**2))
    assert a["lowercl"] == pytest.approx(raw["expected"] * lo / 0.04)
    assert a["uppercl"] == pytest.approx(raw["expected"] * hi / 0.04)
    assert a["uppercl"] - a["lowercl"] > raw["uppercl"] - raw["lowercl"]  # a region's sample is smaller


def test_a_published_zero_rate_gets_a_wilson_upper_limit_not_zero_width():
    df = pd.DataFrame({"pop": [1000.0], "rate": [0.0], "base": [720.0]})
    zero = stats.synthetic_estimate(df, "pop", "rate", "base", design_factor=1.2).iloc[0]
    _, u = stats.wilson_limits(0, 720 / 1.44)
    assert zero["expected"] == 0 and zero["lowercl"] == 0
    assert zero["uppercl"] == pytest.approx(1000 * float(np.ravel(u)[0]))
