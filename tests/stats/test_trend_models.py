"""Trend models on simulated series with known trends (seeded), and the small-numbers rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cdp_analysis.stats import trend_models as tm

YEARS = np.arange(1993, 2022)


def _series(rate0, growth, *, years=YEARS, pop=100_000, seed=1, joins=()):
    """Poisson counts with a known APC (``growth``, a fraction a year); ``joins`` = ((year, new growth), …)."""
    rng = np.random.default_rng(seed)
    log_mu, g, out = np.log(rate0 * pop), np.log1p(growth), []
    changes = dict(joins)
    for i, y in enumerate(years):
        if i:
            log_mu += g
        if y in changes:
            g = np.log1p(changes[y])
        out.append(rng.poisson(np.exp(log_mu)))
    return pd.DataFrame({"year": years, "deaths": out, "pop": pop})


@pytest.mark.parametrize("growth", [-0.04, 0.0, 0.06])
def test_poisson_trend_recovers_a_known_apc_within_its_interval(growth):
    hits = 0
    for seed in range(40):
        r = tm.poisson_trend(_series(50e-5, growth, seed=seed), "year", "deaths", "pop")
        hits += r["lower_ci"] <= 100 * growth <= r["upper_ci"]
    assert hits >= 34  # ~95% coverage: at least 34 of 40


def test_a_strong_trend_is_significant_and_a_flat_one_mostly_not():
    up = tm.poisson_trend(_series(50e-5, 0.06), "year", "deaths", "pop")
    assert up["verdict"] == "increasing" and up["apc"] == pytest.approx(6, abs=1.5)
    flat = [tm.poisson_trend(_series(50e-5, 0.0, seed=s), "year", "deaths", "pop")["verdict"] for s in range(40)]
    assert flat.count("no significant change") >= 34


def test_overdispersion_switches_to_quasi_poisson_with_wider_limits():
    rng = np.random.default_rng(3)
    mu = 200 * np.exp(0.03 * np.arange(len(YEARS)))
    df = pd.DataFrame({"year": YEARS, "deaths": rng.negative_binomial(5, 5 / (5 + mu))})
    r = tm.poisson_trend(df, "year", "deaths")
    assert r["model"] == "quasi-Poisson" and r["dispersion"] > 5


def test_joinpoint_finds_a_planted_joinpoint():
    df = _series(50e-5, -0.03, joins=((2010, 0.10),), pop=400_000)
    r = tm.joinpoint(df, "year", "deaths", "pop")
    assert len(r["joinpoints"]) >= 1 and min(abs(j - 2010) for j in r["joinpoints"]) <= 1
    seg = r["segments"]
    assert seg["apc"].iloc[0] < 0 < seg["apc"].iloc[-1]
    assert seg["lower_ci"].iloc[-1] <= 10 <= seg["upper_ci"].iloc[-1]


@pytest.mark.parametrize("selection", ["wbic", "bic"])
def test_joinpoint_on_straight_series_rarely_adds_one_and_then_its_aapc_is_the_apc(selection):
    found = [tm.joinpoint(_series(50e-5, 0.04, pop=400_000, seed=s), "year", "deaths", "pop", selection=selection)
             for s in range(30)]
    assert sum(len(r["joinpoints"]) > 0 for r in found) <= 3
    seed = next(s for s, r in enumerate(found) if not r["joinpoints"])
    plain = tm.poisson_trend(_series(50e-5, 0.04, pop=400_000, seed=seed), "year", "deaths", "pop")
    assert found[seed]["aapc"] == pytest.approx(plain["apc"], rel=1e-6)


def test_segments_respect_the_minimum_number_of_points():
    df = _series(50e-5, 0.0, years=np.arange(2010, 2022), joins=((2019, 0.5),), pop=400_000)
    r = tm.joinpoint(df, "year", "deaths", "pop", min_points=4)
    bounds = [2010, *r["joinpoints"], 2021]
    assert all(b - a + 1 >= 4 for a, b in zip(bounds, bounds[1:]))


def test_compare_trends_detects_a_different_slope_and_not_an_equal_one():
    eng = _series(50e-5, 0.02, pop=5_000_000, seed=2)
    faster = _series(50e-5, 0.08, pop=300_000, seed=3)
    same = _series(50e-5, 0.02, pop=300_000, seed=4)
    r = tm.compare_trends(faster, eng, "year", "deaths", "pop")
    assert r["p_value"] < 0.05 and r["verdict"].startswith("faster")
    assert tm.compare_trends(same, eng, "year", "deaths", "pop")["p_value"] > 0.01


def test_too_few_events_or_points_gives_no_test():
    small = _series(1e-5, 0.05, pop=50_000)  # about half a death a year
    assert small["deaths"].sum() < tm.MIN_EVENTS
    assert tm.poisson_trend(small, "year", "deaths", "pop")["verdict"] == "too few events"
    assert tm.joinpoint(small, "year", "deaths", "pop")["verdict"] == "too few events"
    short = _series(50e-5, 0.05, years=np.arange(2018, 2022))
    assert tm.poisson_trend(short, "year", "deaths", "pop")["verdict"] == "too few points"


def test_a_segment_with_fewer_than_min_events_gets_no_apc_and_says_so():
    years = np.arange(2006, 2022)
    rng = np.random.default_rng(1)
    mu = np.where(years <= 2012, 4.0, 4.0 * 1.5 ** (years - 2012))  # ~4 a year, then +50% a year from 2012
    df = pd.DataFrame({"year": years, "deaths": rng.poisson(mu)})
    r = tm.joinpoint(df, "year", "deaths", max_joinpoints=1)
    assert r["joinpoints"] == (2012,)
    seg = r["segments"]
    for s in seg.itertuples():  # events: the segment's years, the joinpoint year in both segments
        assert s.events == df.loc[df["year"].between(s.period_start, s.period_end), "deaths"].sum()
    first, last = seg.iloc[0], seg.iloc[-1]
    assert first["events"] < tm.MIN_EVENTS <= last["events"]
    assert first["verdict"] == "too few events"
    assert first[["apc", "lower_ci", "upper_ci", "p_value"]].isna().all()
    assert last["verdict"] == "increasing" and last["p_value"] < 0.05 and last["lower_ci"] > 0
    assert np.isfinite(r["aapc"])  # the model, its AAPC and fitted curve are unaffected
    # a segment with enough events keeps its APC, and its verdict follows its own test
    big = tm.joinpoint(_series(50e-5, -0.03, joins=((2010, 0.10),), pop=400_000), "year", "deaths", "pop")
    assert (big["segments"]["events"] >= tm.MIN_EVENTS).all()
    assert big["segments"]["verdict"].tolist()[0] == "decreasing"
    assert big["segments"]["verdict"].tolist()[-1] == "increasing"


def test_wbic_is_the_default_and_finds_a_planted_joinpoint_at_the_right_year():
    # +8% a year 1997-2009, then -6% a year to 2021: about 135 deaths rising to ~320 and falling to ~150
    df = _series(1, 0.08, years=np.arange(1997, 2022), pop=130, seed=0, joins=((2009, -0.06),))
    r = tm.joinpoint(df, "year", "deaths")
    assert r["selection"] == "wbic"
    assert len(r["joinpoints"]) == 1 and abs(r["joinpoints"][0] - 2009) <= 1
    first, last = r["segments"].iloc[0], r["segments"].iloc[-1]
    assert first["lower_ci"] <= 8 <= first["upper_ci"] and last["lower_ci"] <= -6 <= last["upper_ci"]


def test_wbic_values_follow_joinpoints_formula_on_the_poisson_deviance():
    """WBIC(k) = ln(D_k/n) + ((2 + R²max)k + 2)·ln(n)/n; for one joinpoint R²max is the weighted partial R² of
    the hinge over the whole series, checked here against statsmodels' weighted least squares."""
    sm = pytest.importorskip("statsmodels.api")
    df = _series(1, 0.08, years=np.arange(1997, 2022), pop=130, seed=0, joins=((2009, -0.06),))
    r = tm.joinpoint(df, "year", "deaths")
    t, y, n = df["year"].to_numpy(float), df["deaths"].to_numpy(float), len(df)
    line = sm.add_constant(t - t.min())
    d0 = sm.GLM(y, line, family=sm.families.Poisson()).fit().deviance
    assert r["wbic_weight"][0] == 0 and r["wbic"][0] == pytest.approx(np.log(d0 / n) + 2 * np.log(n) / n)
    (tau,) = r["joinpoints"]
    X = np.column_stack([line, np.clip(t - tau, 0, None)])
    fit = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    mu = fit.fittedvalues
    z = np.log(mu) + (y - mu) / mu  # IRLS working response
    rss_line = sm.WLS(z, line, weights=mu).fit().ssr
    rss_hinge = sm.WLS(z, X, weights=mu).fit().ssr
    r2 = 1 - rss_hinge / rss_line
    assert 0.5 < r2 < 1  # a large change of slope: the penalty is close to BIC3's
    assert r["wbic_weight"][1] == pytest.approx(r2, rel=1e-6)
    assert r["wbic"][1] == pytest.approx(np.log(fit.deviance / n) + ((2 + r2) * 1 + 2) * np.log(n) / n, rel=1e-6)
    assert all(0 <= w <= 1 for w in r["wbic_weight"].values())
    assert min(r["wbic"], key=r["wbic"].get) == 1


def test_the_rules_can_disagree_and_each_result_follows_its_own_criterion():
    """On this seed of the planted series, BIC adds a spurious second joinpoint (2001) that WBIC's harsher
    penalty for a large change of slope (R²max ≈ 0.9, so close to BIC3's 3k + 2) leaves out."""
    df = _series(1, 0.08, years=np.arange(1997, 2022), pop=130, seed=29, joins=((2009, -0.06),))
    w = tm.joinpoint(df, "year", "deaths", selection="wbic")
    b = tm.joinpoint(df, "year", "deaths", selection="bic")
    assert w["joinpoints"] == (2009,) and b["joinpoints"] == (2001, 2009)
    for r, crit in ((w, "wbic"), (b, "bic")):
        assert r["selection"] == crit and len(r["joinpoints"]) == min(r[crit], key=r[crit].get)


def test_bic_selection_is_unchanged():
    """selection='bic' reproduces the rule used before WBIC became the default (values from that version)."""
    df = _series(50e-5, -0.03, joins=((2010, 0.10),), pop=400_000)
    r = tm.joinpoint(df, "year", "deaths", "pop", selection="bic")
    assert r["selection"] == "bic" and r["joinpoints"] == (2010,)
    assert r["bic"] == pytest.approx({0: 365.236068, 1: 29.333236, 2: 34.147735}, abs=1e-5)
    assert r["aapc"] == pytest.approx(2.023753576420185, rel=1e-9)
    assert r["segments"]["apc"].tolist() == pytest.approx([-2.9882512553455793, 10.283655206042567], rel=1e-9)
    assert r["segments"]["lower_ci"].tolist() == pytest.approx([-3.5733972871431248, 9.306043263728247], rel=1e-9)


def test_an_unknown_selection_rule_is_refused_naming_the_allowed_ones():
    with pytest.raises(ValueError, match=r"wbic.*bic"):
        tm.joinpoint(_series(50e-5, 0.0), "year", "deaths", "pop", selection="permutation")


# --- rates against counts, and the comparison over a recent window ---------------------------------------------


def test_an_offset_model_recovers_the_rate_apc_while_the_count_apc_is_inflated_by_population_growth():
    rng = np.random.default_rng(24)
    i = np.arange(20)
    pop = 1_000_000 * 1.02 ** i  # population growing 2% a year
    df = pd.DataFrame({"year": 2002 + i, "deaths": rng.poisson(pop * 500e-6 * 0.99 ** i), "pop": pop})  # rate -1%
    rate = tm.poisson_trend(df, "year", "deaths", "pop")
    count = tm.poisson_trend(df, "year", "deaths")
    assert df["deaths"].mean() == pytest.approx(500, rel=0.15)
    assert rate["lower_ci"] <= -1 <= rate["upper_ci"] and rate["verdict"] == "decreasing"
    assert count["apc"] == pytest.approx(100 * (1.02 * 0.99 - 1), abs=0.5)  # about +1% a year in the counts
    assert count["lower_ci"] > 0 > rate["upper_ci"]
    assert not rate["lower_ci"] <= count["apc"] <= rate["upper_ci"]


def _england_and_area(seed, *, area_recent=-0.04, years=YEARS):
    """A stylised England (~4,000 deaths a year: +16% a year to 1999, flat to 2011, +5% a year from 2012) and an
    area (~60 a year) with England's shape to 2011 and ``area_recent`` a year from 2012 (Poisson counts)."""
    rng = np.random.default_rng(seed)
    early = np.where((years > years[0]) & (years <= 1999), np.log1p(0.16), 0.0)
    log_eng = np.log(1600) + np.cumsum(np.where(years >= 2012, np.log1p(0.05), early))
    log_area = np.log(28) + np.cumsum(np.where(years >= 2012, np.log1p(area_recent), early))
    return (pd.DataFrame({"year": years, "deaths": rng.poisson(np.exp(log_area))}),
            pd.DataFrame({"year": years, "deaths": rng.poisson(np.exp(log_eng))}))


def test_the_window_comparison_detects_a_recent_divergence_that_the_whole_series_comparison_misses():
    area, eng = _england_and_area(24)
    assert 3_500 < eng["deaths"].mean() < 4_500 and 45 < area["deaths"].mean() < 70
    whole = tm.compare_trends(area, eng, "year", "deaths")
    assert whole["verdict"] == "not significantly different"  # 29 years: a bent England inflates the dispersion
    w = tm.compare_window(area, eng, "year", "deaths", years=10)
    assert (w["window_start"], w["window_end"], w["n_points"]) == (2012, 2021, 10)
    assert w["verdict"] == "slower increase or faster decrease than the reference"
    assert w["area_lower_ci"] <= -4 <= w["area_upper_ci"] and w["reference_lower_ci"] <= 5 <= w["reference_upper_ci"]
    true_ratio = 100 * (0.96 / 1.05 - 1)  # -8.6%
    assert w["lower_ci"] <= true_ratio <= w["upper_ci"] and w["upper_ci"] < 0 and w["p_value"] < 0.001


def test_the_window_comparison_of_two_parallel_series_is_significant_about_one_time_in_twenty():
    false_pos = sum(tm.compare_window(*_england_and_area(seed, area_recent=0.05), "year", "deaths")["p_value"] < 0.05
                    for seed in range(1000, 1200))
    assert 0.02 <= false_pos / 200 <= 0.09


def test_the_window_is_the_latest_common_years_and_each_series_is_fitted_on_its_own():
    rng = np.random.default_rng(7)
    mu = 60 * 1.03 ** np.arange(len(YEARS))
    area = pd.DataFrame({"year": YEARS, "deaths": rng.negative_binomial(4, 4 / (4 + mu))})  # overdispersed
    area = area[area["year"] >= 1996]
    ref = _series(50e-5, 0.01, pop=5_000_000, seed=8)
    ref = ref[ref["year"] <= 2019]  # common years 1996-2019: the window is 2010-2019
    w = tm.compare_window(area, ref, "year", "deaths", years=10)
    assert (w["window_start"], w["window_end"], w["n_points"]) == (2010, 2019, 10)
    a = tm.poisson_trend(area[area["year"].between(2010, 2019)], "year", "deaths")
    r = tm.poisson_trend(ref[ref["year"].between(2010, 2019)], "year", "deaths")
    assert (w["area_apc"], w["area_lower_ci"], w["area_upper_ci"]) == pytest.approx((a["apc"], a["lower_ci"], a["upper_ci"]))
    assert (w["reference_apc"], w["reference_upper_ci"]) == pytest.approx((r["apc"], r["upper_ci"]))
    assert w["area_events"] == a["events"]
    assert (w["area_model"], w["reference_model"]) == ("quasi-Poisson", "Poisson")
    assert w["model"] == "separate fits: quasi-Poisson (area), Poisson (reference)"

    def slope_se(res):  # back from the APC and its 95% limits
        b = np.log1p(res["apc"] / 100)
        return b, (np.log1p(res["upper_ci"] / 100) - np.log1p(res["lower_ci"] / 100)) / (2 * 1.959963984540054)

    (ba, sa), (br, sr) = slope_se(a), slope_se(r)
    d, se = ba - br, np.hypot(sa, sr)
    assert w["apc_ratio"] == pytest.approx(100 * np.expm1(d))
    assert (w["lower_ci"], w["upper_ci"]) == pytest.approx((100 * np.expm1(d - 1.96 * se), 100 * np.expm1(d + 1.96 * se)),
                                                           rel=1e-3)
    assert w["p_value"] == pytest.approx(math.erfc(abs(d / se) / math.sqrt(2)), rel=1e-6)  # two-sided normal


def test_the_window_comparison_with_populations_compares_rates():
    i = np.arange(len(YEARS))
    rng = np.random.default_rng(11)
    pop_a, pop_r = 300_000 * 1.04 ** i, 5_000_000 * 1.0 ** i  # the area's population grows 4% a year
    area = pd.DataFrame({"year": YEARS, "deaths": rng.poisson(pop_a * 40e-5), "pop": pop_a})  # both rates flat
    ref = pd.DataFrame({"year": YEARS, "deaths": rng.poisson(pop_r * 40e-5), "pop": pop_r})
    counts = tm.compare_window(area, ref, "year", "deaths")
    rates = tm.compare_window(area, ref, "year", "deaths", "pop")
    assert counts["verdict"].startswith("faster") and counts["apc_ratio"] == pytest.approx(4, abs=2)
    assert rates["verdict"] == "not significantly different" and rates["lower_ci"] <= 0 <= rates["upper_ci"]


def test_the_window_comparison_refuses_bad_input_and_small_numbers():
    eng = _series(50e-5, 0.02, pop=5_000_000)
    small = _series(1e-5, 0.0, pop=300_000)  # about 3 deaths a year: ~30 in ten years
    r = tm.compare_window(small, eng, "year", "deaths")
    assert r["area_events"] < tm.MIN_EVENTS and r["verdict"] == "too few events" and np.isnan(r["apc_ratio"])
    assert r["area_model"] == "" and r["model"] == ""
    r = tm.compare_window(_series(50e-5, 0.0), eng, "year", "deaths", years=4)
    assert r["n_points"] == 4 and r["verdict"] == "too few points" and np.isnan(r["p_value"])
    with pytest.raises(ValueError, match="not found"):
        tm.compare_window(eng, eng, "year", "deaths", "population")
    with pytest.raises(ValueError, match="negative"):
        tm.compare_window(eng.assign(deaths=-eng["deaths"]), eng, "year", "deaths")
    with pytest.raises(ValueError, match="repeats a year"):
        tm.compare_window(pd.concat([eng, eng]), eng, "year", "deaths")
    for bad in (1, 2.5, True):
        with pytest.raises(ValueError, match="years"):
            tm.compare_window(eng, eng, "year", "deaths", years=bad)


def test_compare_window_is_exported():
    from cdp_analysis import stats

    assert stats.compare_window is tm.compare_window and "compare_window" in stats.__all__


def _every_placement_fitted(t, y, off, placements):
    """The grid search as it was: every placement fitted by statsmodels, the first strictly smallest deviance kept."""
    best = None
    for knots in placements:
        res = tm._sm().GLM(y, tm._design(t, knots), family=tm._sm().families.Poisson(), offset=off).fit()
        if best is None or res.deviance < best[0]:
            best = (float(res.deviance), knots, res)
    return best


def _screening_cases():
    """Counts and rates, small and large, straight and with planted changes, overdispersed, with runs of zeros."""
    rng = np.random.default_rng(7)
    for i in range(40):
        n = int(rng.integers(9, 26))
        t = np.arange(2000.0, 2000.0 + n)
        cut = rng.integers(3, n - 3, 2)
        log_mu = (np.log(rng.choice([0.5, 4, 30, 300, 3000])) + rng.normal(0, 0.05) * (t - t[0])
                  + rng.normal(0, 0.08) * np.clip(t - t[cut.min()], 0, None)
                  + rng.normal(0, 0.08) * np.clip(t - t[cut.max()], 0, None))
        mu = np.exp(log_mu)
        y = rng.poisson(rng.gamma(10, mu / 10) if i % 3 == 0 else mu).astype(float)
        if i % 5 == 0:
            y[: n // 3] = 0
        off = np.log(rng.integers(10_000, 1_000_000, n).astype(float)) if i % 2 else np.zeros(n)
        yield t, y, off


def test_the_screened_grid_search_chooses_the_placement_and_fit_that_fitting_every_placement_chooses():
    """:func:`trend_models._best_placement` fits all placements at once and refits only the nearly best with
    statsmodels: the same placement, deviance and fit (to the last bit) as fitting every placement, and far
    fewer statsmodels fits."""
    for t, y, off in _screening_cases():
        for k in (1, 2):
            placements = list(tm._placements(t, k, 4))
            if not placements:
                continue
            want, got = _every_placement_fitted(t, y, off, placements), tm._best_placement(t, y, off, placements)
            assert got[0] == want[0] and got[1] == want[1]
            assert np.array_equal(got[2].params, want[2].params) and np.array_equal(got[2].bse, want[2].bse)


def test_the_screen_agrees_with_statsmodels_deviances_and_fits_fewer_models(monkeypatch):
    """The vectorised fit's deviances are statsmodels' to 1e-7 (relative); statsmodels then fits a few placements,
    not all; if the screen cannot fit (a singular design), every placement is fitted and the choice is the same. A
    run of zero counts makes some placements' systems singular: only those are left to statsmodels."""
    cases = _screening_cases()
    next(cases)  # the first has a run of zero counts
    t, y, off = next(cases)
    placements = list(tm._placements(t, 2, 4))
    dev, ok = tm._poisson_deviances(tm._designs(t, np.array(placements)), y, off)
    sm = [tm._sm().GLM(y, tm._design(t, k), family=tm._sm().families.Poisson(), offset=off).fit().deviance
          for k in placements]
    assert ok.all() and np.allclose(dev, sm, rtol=1e-7, atol=1e-9)
    fits = []
    real_glm = tm._sm().GLM
    monkeypatch.setattr(tm._sm(), "GLM", lambda *a, **kw: fits.append(1) or real_glm(*a, **kw))
    chosen = tm._best_placement(t, y, off, placements)
    assert len(placements) > 20 and len(fits) <= 3
    fits.clear()

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(tm, "_poisson_deviances", singular)
    again = tm._best_placement(t, y, off, placements)
    assert len(fits) == len(placements) and again[:2] == chosen[:2]
    monkeypatch.undo()
    t, y, off = next(_screening_cases())
    dev, ok = tm._poisson_deviances(tm._designs(t, np.array(list(tm._placements(t, 2, 4)))), y, off)
    assert ok.any() and not ok.all()
