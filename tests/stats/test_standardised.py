"""Unit tests for dsr, isr_ratio, isr_rate and expected_counts with hand-worked examples."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from cdp_analysis.stats.esp2013 import ESP2013
from cdp_analysis.stats.standardised import dsr, expected_counts, isr_rate, isr_ratio

REF = Path(__file__).resolve().parents[1] / "reference" / "phe"
Z95 = st.norm.ppf(0.975)


def byars(x, z=Z95):
    lo = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3
    up = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * math.sqrt(x + 1))) ** 3
    return lo, up


# ---------------------------------------------------------------------------- ISR

def isr_frame():
    """Two areas, three bands. Reference rates 0.01, 0.04, 0.15 (x_ref/n_ref)."""
    return pd.DataFrame({
        "area": ["A"] * 3 + ["B"] * 3,
        "band": ["young", "mid", "old"] * 2,
        "obs": [5, 10, 15, 1, 1, 2],
        "pop": [1000, 500, 200, 300, 100, 20],
        "ref_x": [100, 200, 300] * 2,
        "ref_n": [10000, 5000, 2000] * 2,
    })


def test_isr_ratio_hand_worked():
    out = isr_ratio(isr_frame(), "obs", "pop", "ref_x", "ref_n", group_by="area")
    # A: E = 0.01×1000 + 0.04×500 + 0.15×200 = 10 + 20 + 30 = 60; O = 30 → Byar's
    # B: E = 0.01×300 + 0.04×100 + 0.15×20 = 3 + 4 + 3 = 10;    O = 4  → exact
    np.testing.assert_allclose(out["expected"], [60.0, 10.0], rtol=1e-14)
    np.testing.assert_allclose(out["observed"], [30.0, 4.0])
    np.testing.assert_allclose(out["value"], [0.5, 0.4], rtol=1e-14)
    lo, up = byars(30)
    assert out.loc[0, "lowercl"] == pytest.approx(lo / 60, rel=1e-12)
    assert out.loc[0, "uppercl"] == pytest.approx(up / 60, rel=1e-12)
    # exact 95% Poisson limits of 4 are 1.0899 and 10.2416 (published tables)
    assert out.loc[1, "lowercl"] == pytest.approx(st.chi2.ppf(0.025, 8) / 2 / 10, rel=1e-12)
    assert out.loc[1, "uppercl"] == pytest.approx(st.chi2.ppf(0.975, 10) / 2 / 10, rel=1e-12)
    assert out.loc[1, "lowercl"] == pytest.approx(0.10899, abs=1e-5)
    assert out.loc[1, "uppercl"] == pytest.approx(1.02416, abs=1e-5)
    assert out["method"].tolist() == ["Byars", "Exact"]
    assert (out["statistic"] == "indirectly standardised ratio x 1").all()
    assert list(out.columns) == ["area", "observed", "expected", "value", "lowercl", "uppercl",
                                 "confidence", "statistic", "method"]


def test_isr_ratio_refvalue_100_and_two_levels():
    out = isr_ratio(isr_frame(), "obs", "pop", "ref_x", "ref_n", group_by="area", refvalue=100,
                    confidence=(95, 99.8))
    np.testing.assert_allclose(out["value"], [50.0, 40.0])
    lo, up = byars(30, st.norm.ppf(0.999))
    assert out.loc[0, "lower99_8cl"] == pytest.approx(lo / 60 * 100, rel=1e-12)
    assert out.loc[0, "upper99_8cl"] == pytest.approx(up / 60 * 100, rel=1e-12)
    assert (out["statistic"] == "indirectly standardised ratio x 100").all()
    assert (out["confidence"] == "95%, 99.8%").all()


def test_isr_rate_hand_worked():
    out = isr_rate(isr_frame(), "obs", "pop", "ref_x", "ref_n", group_by="area")
    ref_rate = 600 / 17000 * 100000
    np.testing.assert_allclose(out["ref_rate"], [ref_rate] * 2, rtol=1e-14)
    np.testing.assert_allclose(out["value"], [0.5 * ref_rate, 0.4 * ref_rate], rtol=1e-14)
    lo, up = byars(30)
    assert out.loc[0, "lowercl"] == pytest.approx(lo / 60 * ref_rate, rel=1e-12)
    assert out.loc[0, "uppercl"] == pytest.approx(up / 60 * ref_rate, rel=1e-12)
    assert (out["statistic"] == "indirectly standardised rate per 100000").all()
    assert list(out.columns) == ["area", "observed", "expected", "ref_rate", "value", "lowercl",
                                 "uppercl", "confidence", "statistic", "method"]
    fixed = isr_rate(isr_frame(), "obs", "pop", "ref_x", "ref_n", group_by="area", refvalue=2000,
                     multiplier=1000)
    np.testing.assert_allclose(fixed["value"], [1000.0, 800.0])
    assert fixed.loc[0, "statistic"] == "indirectly standardised rate per 1000"


def test_isr_no_small_number_suppression_and_zero_observed():
    df = isr_frame()
    df.loc[df["area"] == "B", "obs"] = 0
    out = isr_ratio(df, "obs", "pop", "ref_x", "ref_n", group_by="area")
    assert out.loc[1, "value"] == 0 and out.loc[1, "lowercl"] == 0
    assert out.loc[1, "uppercl"] == pytest.approx(-math.log(0.025) / 10, rel=1e-12)


def test_isr_missing_values_count_as_zero():
    df = isr_frame()
    df.loc[0, "obs"] = np.nan      # O(A) = 25
    df.loc[1, "pop"] = np.nan      # E(A) loses 20
    df.loc[2, "ref_x"] = np.nan    # E(A) loses 30
    out = isr_ratio(df, "obs", "pop", "ref_x", "ref_n", group_by="area")
    assert out.loc[0, "observed"] == 25 and out.loc[0, "expected"] == pytest.approx(10)


def test_isr_observed_totals():
    df = isr_frame().drop(columns="obs")
    totals = pd.DataFrame({"area": ["B", "A", "Z"], "obs": [4, 30, 99]})
    out = isr_ratio(df, "obs", "pop", "ref_x", "ref_n", group_by="area", observed_totals=totals)
    full = isr_ratio(isr_frame(), "obs", "pop", "ref_x", "ref_n", group_by="area")
    pd.testing.assert_frame_equal(out, full)
    # a group with no observed total → missing
    out2 = isr_rate(df, "obs", "pop", "ref_x", "ref_n", group_by="area", observed_totals=totals.iloc[1:])
    assert pd.isna(out2.loc[1, "observed"]) and pd.isna(out2.loc[1, "value"]) and pd.isna(out2.loc[1, "method"])
    with pytest.raises(ValueError, match="duplicated groups"):
        isr_ratio(df, "obs", "pop", "ref_x", "ref_n", group_by="area",
                  observed_totals=pd.DataFrame({"area": ["A", "A"], "obs": [1, 2]}))
    with pytest.raises(ValueError, match="not found in observed_totals"):
        isr_ratio(df, "obs", "pop", "ref_x", "ref_n", group_by="area",
                  observed_totals=pd.DataFrame({"area": ["A"], "o": [1]}))
    # ungrouped: one row with the total
    one = isr_ratio(df[df["area"] == "A"], "obs", "pop", "ref_x", "ref_n",
                    observed_totals=pd.DataFrame({"obs": [30]}))
    assert one.loc[0, "value"] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="exactly one row"):
        isr_ratio(df, "obs", "pop", "ref_x", "ref_n", observed_totals=totals)


def test_isr_invalid_inputs():
    df = isr_frame()
    df.loc[[1, 4], "ref_n"] = 0
    with pytest.raises(ValueError, match=r"column 'ref_n' has zero or negative reference populations in rows \[1, 4\]"):
        isr_ratio(df, "obs", "pop", "ref_x", "ref_n", group_by="area")
    df = isr_frame()
    df.loc[3, "obs"] = -1
    with pytest.raises(ValueError, match=r"column 'obs' has negative counts in rows \[3\]"):
        isr_rate(df, "obs", "pop", "ref_x", "ref_n", group_by="area")


def test_expected_counts_by_group_and_ref_rate():
    df = isr_frame()
    e = expected_counts(df, "pop", "ref_x", "ref_n", group_by="area")
    assert list(e.columns) == ["area", "expected"]
    np.testing.assert_allclose(e["expected"], [60.0, 10.0], rtol=1e-14)
    df["prev"] = df["ref_x"] / df["ref_n"]
    e2 = expected_counts(df, "pop", ref_rate="prev", group_by="area")
    pd.testing.assert_frame_equal(e, e2)
    assert expected_counts(df, "pop", "ref_x", "ref_n").loc[0, "expected"] == pytest.approx(70)
    with pytest.raises(ValueError):
        expected_counts(df, "pop", "ref_x")


# ---------------------------------------------------------------------------- DSR

def dsr_frame(n_areas=2, seed=0):
    rng = np.random.default_rng(seed)
    k = len(ESP2013)
    return pd.DataFrame({
        "area": np.repeat([f"A{i}" for i in range(n_areas)], k),
        "band": np.tile(np.arange(k), n_areas),
        "count": rng.integers(0, 60, n_areas * k).astype(float),
        "pop": rng.integers(500, 5000, n_areas * k).astype(float),
        "esp": np.tile(ESP2013, n_areas),
    })


def test_dsr_hand_worked_formula():
    df = dsr_frame(1)
    out = dsr(df, "count", "pop", group_by="area")
    w, x, n = df["esp"].to_numpy(), df["count"].to_numpy(), df["pop"].to_numpy()
    value = (x / n * w).sum() / w.sum() * 1e5
    var = (x * (w / n) ** 2).sum() / w.sum() ** 2
    o = x.sum()
    lo, up = byars(o)
    assert out.loc[0, "value"] == pytest.approx(value, rel=1e-12)
    assert out.loc[0, "lowercl"] == pytest.approx(value + math.sqrt(var / o) * (lo - o) * 1e5, rel=1e-12)
    assert out.loc[0, "uppercl"] == pytest.approx(value + math.sqrt(var / o) * (up - o) * 1e5, rel=1e-12)
    assert out.loc[0, "method"] == "Dobson" and out.loc[0, "statistic"] == "dsr per 100000"


def test_dsr_stdpop_column_allows_mixed_group_sizes():
    df = pd.DataFrame({"g": ["a"] * 3 + ["b"] * 5, "x": [10.0] * 8, "n": [100.0] * 8,
                       "w": [1.0, 2, 3, 1, 1, 1, 1, 1]})
    out = dsr(df, "x", "n", group_by="g", stdpop="w")
    np.testing.assert_allclose(out["value"], [10000.0, 10000.0])
    np.testing.assert_allclose(out["total_count"], [30.0, 50.0])
    with pytest.raises(ValueError, match=r"\{'g': 'a'\} has 3 rows.*\{'g': 'b'\} has 5 rows"):
        dsr(df, "x", "n", group_by="g")


def test_dsr_esp_requires_19_rows_ungrouped():
    with pytest.raises(ValueError, match="19"):
        dsr(dsr_frame(2), "count", "pop")  # 38 rows in one group


def test_dsr_small_counts_suppressed_and_missing_counts_zero():
    df = dsr_frame(1)
    df["count"] = 0.0
    df.loc[[0, 5], "count"] = [4.0, 5.0]
    df.loc[3, "count"] = np.nan
    out = dsr(df, "count", "pop", confidence=(0.95, 0.998))
    assert out.loc[0, "total_count"] == 9
    assert out[["value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]].iloc[0].isna().all()
    assert out.loc[0, "statistic"] == "dsr NA for total count < 10"
    df.loc[3, "count"] = 1.0
    out = dsr(df, "count", "pop")
    assert out.loc[0, "total_count"] == 10 and np.isfinite(out.loc[0, "lowercl"])


def test_dsr_invalid_inputs():
    df = dsr_frame(1)
    df.loc[[2, 7], "pop"] = [0.0, -1.0]
    with pytest.raises(ValueError, match=r"column 'pop' has zero or negative denominators in rows \[2, 7\]"):
        dsr(df, "count", "pop")
    df = dsr_frame(1)
    df.loc[4, "pop"] = np.nan
    with pytest.raises(ValueError, match=r"column 'pop' has missing populations in rows \[4\]"):
        dsr(df, "count", "pop")
    with pytest.raises(ValueError, match="eventfreq"):
        dsr(dsr_frame(1), "count", "pop", independent_events=False)


# ---------------------------------------------------------------------------- non-independent DSR

def person_frame(freqs=(1, 2, 3), seed=1):
    """Persons by event frequency within each area × band (19 bands, ESP2013 by position)."""
    base = dsr_frame(2, seed)
    parts = []
    for f in freqs:
        p = base.copy()
        p["f"] = f
        p["persons"] = np.floor(base["count"] / (f + 1))
        parts.append(p)
    return pd.concat(parts, ignore_index=True)


def test_nonindependent_all_freq_one_equals_independent():
    df = dsr_frame(3)
    df["f"] = 1
    a = dsr(df, "count", "pop", group_by="area", confidence=(0.95, 0.998))
    b = dsr(df, "count", "pop", group_by="area", confidence=(0.95, 0.998), independent_events=False,
            eventfreq="f")
    cols = ["total_count", "total_pop", "value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]
    np.testing.assert_allclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-12)
    assert b.loc[0, "method"] == "Dobson, with confidence adjusted for non-independent events"


def test_nonindependent_freq_two_scales_interval_by_sqrt2():
    # everyone has exactly 2 events: events = 2p, var = 4 Σ p (w/n)²/W² = 2 × independent var
    df = dsr_frame(2)
    df["persons"] = df["count"]
    df["events"] = 2 * df["persons"]
    df["f"] = 2
    ind = dsr(df, "events", "pop", group_by="area")
    non = dsr(df, "persons", "pop", group_by="area", independent_events=False, eventfreq="f")
    np.testing.assert_allclose(non["value"], ind["value"], rtol=1e-12)
    np.testing.assert_allclose(non["total_count"], ind["total_count"])
    for lim in ("lowercl", "uppercl"):
        np.testing.assert_allclose((non[lim] - non["value"]) / (ind[lim] - ind["value"]), math.sqrt(2), rtol=1e-12)
    assert (non["uppercl"] > ind["uppercl"]).all() and (non["lowercl"] < ind["lowercl"]).all()


def test_nonindependent_hand_worked_mixed_frequencies():
    df = person_frame()
    out = dsr(df, "persons", "pop", group_by="area", independent_events=False, eventfreq="f")
    for i, (_area, d) in enumerate(df.groupby("area")):
        w = np.asarray(ESP2013)
        W = w.sum()
        var = 0.0
        events = np.zeros(19)
        for f, dd in d.groupby("f"):
            p, n = dd["persons"].to_numpy(), dd["pop"].to_numpy()
            var += f**2 * (p * (w / n) ** 2).sum() / W**2
            events += f * p
        n = d[d["f"] == 1]["pop"].to_numpy()
        value = (events / n * w).sum() / W * 1e5
        o = events.sum()
        lo, up = byars(o)
        assert out.loc[i, "total_count"] == o
        assert out.loc[i, "total_pop"] == n.sum()
        assert out.loc[i, "value"] == pytest.approx(value, rel=1e-12)
        assert out.loc[i, "lowercl"] == pytest.approx(value + math.sqrt(var / o) * (lo - o) * 1e5, rel=1e-12)
        assert out.loc[i, "uppercl"] == pytest.approx(value + math.sqrt(var / o) * (up - o) * 1e5, rel=1e-12)


def test_nonindependent_ageband_column_and_row_order():
    df = person_frame()
    by_pos = dsr(df, "persons", "pop", group_by="area", stdpop="esp", independent_events=False, eventfreq="f")
    shuffled = df.sample(frac=1, random_state=3)
    by_band = dsr(shuffled, "persons", "pop", group_by="area", stdpop="esp", independent_events=False,
                  eventfreq="f", ageband="band")
    pd.testing.assert_frame_equal(by_pos, by_band, rtol=1e-12)


def test_nonindependent_inconsistent_population_rejected():
    df = person_frame()
    df.loc[len(df) - 1, "pop"] += 1
    with pytest.raises(ValueError, match="differ between event-frequency rows"):
        dsr(df, "persons", "pop", group_by="area", stdpop="esp", independent_events=False,
            eventfreq="f", ageband="band")


def test_dsr_limits_at_998_from_published_95_limits_and_count():
    """Dobson's 99.8% limits recovered from a DSR's 95% limits and total count equal those computed from the
    age bands; limits that are not Dobson's (or a missing count) give NaN, never a guess."""
    from cdp_analysis.stats import dsr_limits_from_published

    out = dsr(dsr_frame(3), "count", "pop", group_by="area", confidence=(0.95, 0.998))
    lo, up = dsr_limits_from_published(out["value"], out["lower95_0cl"], out["upper95_0cl"], out["total_count"])
    np.testing.assert_allclose(lo, out["lower99_8cl"], rtol=1e-9)
    np.testing.assert_allclose(up, out["upper99_8cl"], rtol=1e-9)
    # symmetric (normal-approximation) limits are not Dobson's: refused
    v, half = out["value"].to_numpy(), (out["upper95_0cl"] - out["lower95_0cl"]).to_numpy() / 2
    lo, up = dsr_limits_from_published(v, v - half, v + half, out["total_count"])
    assert np.isnan(lo).all() and np.isnan(up).all()
    lo, up = dsr_limits_from_published(out["value"], out["lower95_0cl"], out["upper95_0cl"], [np.nan] * 3)
    assert np.isnan(lo).all()
