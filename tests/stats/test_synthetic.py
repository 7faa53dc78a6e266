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


def test_expected_count_variance_and_limits_by_hand():
    out = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area", design_factor=1.2)
    a = out.set_index("area").loc["a"]
    e = 1000 * 0.10 + 3000 * 0.02  # 160
    var = 1000**2 * 1.44 * 0.1 * 0.9 / 400 + 3000**2 * 1.44 * 0.02 * 0.98 / 1600  # 324 + 158.76
    assert a["expected"] == pytest.approx(e)
    assert a["se"] == pytest.approx(math.sqrt(var))
    assert a["lowercl"] == pytest.approx(e - 1.959963984540054 * math.sqrt(var))
    assert a["uppercl"] == pytest.approx(e + 1.959963984540054 * math.sqrt(var))
    assert a["population"] == 4000 and a["percent"] == pytest.approx(4.0)
    assert a["percent_uppercl"] == pytest.approx(100 * a["uppercl"] / 4000)


def test_design_factor_scales_the_standard_error_and_lower_limit_is_floored_at_zero():
    one = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area")
    two = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area", design_factor=2)
    np.testing.assert_allclose(two["se"], 2 * one["se"])
    rare = pd.DataFrame({"pop": [1000.0], "rate": [0.001], "base": [50.0]})
    assert stats.synthetic_estimate(rare, "pop", "rate", "base")["lowercl"].iloc[0] == 0


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


def test_calibration_scales_by_observed_over_expected_with_log_limits():
    est = stats.synthetic_estimate(_strata(), "pop", "rate", "base", group_by="area", design_factor=1.2)
    cal = stats.calibrate(est, observed=pd.Series([0.05, 0.05]), observed_base=pd.Series([800, 800]),
                          expected_rate=pd.Series([0.04, 0.04]), design_factor=1.2)
    a, raw = cal.iloc[0], est.iloc[0]
    assert a["factor"] == pytest.approx(1.25) and a["expected"] == pytest.approx(raw["expected"] * 1.25)
    half = 1.959963984540054 * math.sqrt((raw["se"] / raw["expected"]) ** 2 + 1.44 * 0.95 / (800 * 0.05))
    assert a["lowercl"] == pytest.approx(a["expected"] * math.exp(-half))
    assert a["uppercl"] == pytest.approx(a["expected"] * math.exp(half))
    assert a["uppercl"] - a["lowercl"] > raw["uppercl"] - raw["lowercl"]  # the region's error is added


def test_a_published_zero_rate_gets_a_wilson_upper_limit_not_zero_width():
    df = pd.DataFrame({"pop": [1000.0, 2000.0], "rate": [0.0, 0.01], "base": [720.0, 1000.0]})
    out = stats.synthetic_estimate(df, "pop", "rate", "base", design_factor=1.2).iloc[0]
    _, u = stats.wilson_limits(0, 720 / 1.44)
    normal = 1.959963984540054 * math.sqrt(2000**2 * 1.44 * 0.01 * 0.99 / 1000)
    assert out["expected"] == pytest.approx(20)
    assert out["uppercl"] == pytest.approx(20 + normal + 1000 * float(np.ravel(u)[0]))
    zero = stats.synthetic_estimate(df.iloc[:1], "pop", "rate", "base").iloc[0]
    assert zero["expected"] == 0 and zero["lowercl"] == 0 and zero["uppercl"] > 0
