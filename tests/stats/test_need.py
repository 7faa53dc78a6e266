"""Met and unmet need: OHID's published Fingertips values reproduced from their counts and the need estimates."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis import stats
from cdp_analysis.data import fingertips, ohid_alcohol_dependence

THREE_YEARS = ["2015/16", "2016/17", "2017/18"]


def test_by_hand():
    df = pd.DataFrame({"t": [1000.0], "p": [5000.0], "lo": [4000.0], "hi": [6250.0]})
    out = stats.met_need(df, "t", "p", "lo", "hi").iloc[0]
    assert out["met_need"] == pytest.approx(20) and out["unmet_need"] == pytest.approx(80)
    assert (out["met_lowercl"], out["met_uppercl"]) == pytest.approx((16, 25))
    assert (out["unmet_lowercl"], out["unmet_uppercl"]) == pytest.approx((75, 84))


@pytest.mark.parametrize("code", ["E10000031", "E10000032", "E10000034"])
def test_fingertips_93532_reproduced_from_the_dependence_estimates(code):
    """Proportion of dependent drinkers not in treatment, 2018/19: need and its limits are the mean of the three
    years' OHID/Sheffield estimates; T = Denominator − Count."""
    published = fingertips.indicator(93532)
    row = published[(published["area_code"] == code)].iloc[0]
    est = ohid_alcohol_dependence.estimates()
    need = est[(est["code"] == code) & est["period"].isin(THREE_YEARS)][["dependent", "lower_ci", "upper_ci"]].mean()
    assert need["dependent"] == pytest.approx(row["denominator"], rel=1e-9)
    df = pd.DataFrame({"t": [row["denominator"] - row["count"]], "p": [need["dependent"]],
                       "lo": [need["lower_ci"]], "hi": [need["upper_ci"]]})
    out = stats.met_need(df, "t", "p", "lo", "hi").iloc[0]
    assert out["unmet_need"] == pytest.approx(row["value"], abs=1e-6)
    assert out["unmet_lowercl"] == pytest.approx(row["lower_ci"], abs=1e-6)
    assert out["unmet_uppercl"] == pytest.approx(row["upper_ci"], abs=1e-6)


def test_refuses_need_limits_that_do_not_bracket_and_flags_met_need_above_100():
    with pytest.raises(ValueError, match="do not bracket"):
        stats.met_need(pd.DataFrame({"t": [1.0], "p": [10.0], "lo": [11.0], "hi": [12.0]}), "t", "p", "lo", "hi")
    out = stats.met_need(pd.DataFrame({"t": [12.0], "p": [10.0]}), "t", "p").iloc[0]
    assert out["met_need"] == pytest.approx(120) and "above 100%" in out["method"]
