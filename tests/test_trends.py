"""Chapter 4, trends: death counts and rates as published, multi-area CDPs summed (never averaged rates), the
trend table's contract, tested verdicts and sentences built from the table, and the small-numbers rule."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis import stats
from cdp_analysis.areas import partnerships
from cdp_analysis.chapters import trends as tc
from cdp_analysis.data import ons_drug_deaths
from cdp_analysis.output import tidy


@pytest.fixture(scope="module")
def notts():
    return tc.build(partnerships.get("nottinghamshire"))


@pytest.fixture(scope="module")
def northants():
    return tc.build(partnerships.get("northamptonshire"))


def _one(t: pd.DataFrame, **where) -> pd.Series:
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, (where, len(t))
    return t.iloc[0]


def test_nottinghamshire_misuse_2019_21_as_published(notts):
    rate = _one(notts.deaths, area_role="cdp", cause="drug misuse", measure="asmr", sex="Persons", time_period="2019-21")
    assert (rate["value"], rate["lower_ci"], rate["upper_ci"]) == (2.5, 1.9, 3.2)
    deaths = _one(notts.deaths, area_role="cdp", cause="drug misuse", measure="deaths", sex="Persons",
                  time_period="2019-21")
    years = notts.deaths[(notts.deaths["area_role"] == "cdp") & (notts.deaths["cause"] == "drug misuse")
                         & notts.deaths["time_period"].isin(["2019", "2020", "2021"])]
    assert deaths["value"] == 58 == years["value"].sum()


def test_a_multi_area_cdp_sums_deaths_and_never_averages_rates(northants):
    d = northants.deaths
    members = d[(d["area_role"] == "member") & (d["cause"] == "drug misuse") & (d["time_period"] == "2021")]
    cdp = _one(d, area_role="cdp", cause="drug misuse", measure="deaths", time_period="2021")
    assert len(members) == 2 and cdp["value"] == members["value"].sum()
    rate = _one(d, area_role="cdp", cause="drug misuse", measure="asmr", sex="Persons", time_period="2019-21")
    assert pd.isna(rate["value"]) and "no published rate for the partnership" in rate["value_note"]
    published = d[(d["area_role"] == "member") & (d["measure"] == "asmr") & (d["time_period"] == "2019-21")
                  & (d["sex"] == "Persons") & (d["cause"] == "drug misuse")]
    assert published["value"].notna().all() and len(published) == 2


def test_table_contracts(notts, northants):
    for tr in (notts, northants):
        tidy.check_tidy(tr.trends, "trends")
        tidy.check_tidy(tr.deaths, "drug_deaths")
        for col in ("series", "method", "period_start", "period_end", "apc", "lower_ci", "upper_ci", "p_value",
                    "joinpoints", "verdict"):
            assert col in tr.trends.columns
        assert set(tr.deaths["cause"]) == {"drug misuse", "drug poisoning"}
        assert set(tr.deaths["measure"]) == {"deaths", "asmr"}
        assert set(tr.deaths["sex"]) == {"Persons", "Male", "Female"}


def test_the_trend_rows_are_the_models_results(notts):
    d = tc._annual_series(notts.deaths, "drug misuse", "cdp")
    expected = stats.poisson_trend(d, "year", "value")
    row = _one(notts.trends, area_role="cdp", series="deaths related to drug misuse", method="poisson regression")
    assert row["apc"] == pytest.approx(expected["apc"]) and row["verdict"] == expected["verdict"]
    assert row["period_start"] == "1993" and row["period_end"] == "2021"


def test_published_markers_are_kept(notts):
    scilly = tc.build(partnerships.get("E06000053"))  # Isles of Scilly: a handful of deaths
    r = scilly.deaths[(scilly.deaths["area_role"] == "cdp") & (scilly.deaths["measure"] == "asmr")]
    assert r["value"].isna().all() and r["value_note"].str.startswith("fewer than 10 deaths").all()
    jp = _one(scilly.trends, area_role="cdp", series="deaths related to drug misuse", method="joinpoint")
    assert jp["verdict"] == "too few events"
    assert "too few events to test a trend" in tc.summary_text(scilly)


def test_sentences_come_from_the_table(notts):
    row = _one(notts.trends, area_role="cdp", series="deaths related to drug misuse", method="joinpoint")
    assert row["verdict"] == "increasing"
    expected = (f"Registered drug-misuse deaths in Nottinghamshire rose by about {row['apc']:.1f}% a year "
                f"({row['lower_ci']:.1f}%–{row['upper_ci']:.1f}%) from {row['period_start']} to {row['period_end']}")
    assert expected in tc.summary_text(notts)


def test_alcohol_met_need_marker_from_the_published_sdg_counts(notts):
    """Fingertips' rule computed here from the SDG file's own counts: chi-square for trend over the last five
    years, and the sign of the unweighted logit slope in all six fits."""
    import numpy as np

    from cdp_analysis.data import ons_sdg

    sdg = ons_sdg.series()
    sdg = sdg[(sdg["code"] == "E10000024") & (sdg["category"] == "")]
    wide = sdg.pivot_table(index="period", columns="series", values="value").sort_index().tail(5)
    x, n, t = wide["in treatment"].to_numpy(), wide["estimated need"].to_numpy(), np.arange(1.0, 6.0)
    big_n, big_x = n.sum(), x.sum()
    chi2 = big_n * (big_n * (x * t).sum() - big_x * (n * t).sum()) ** 2 / (
        big_x * (big_n - big_x) * (big_n * (n * t * t).sum() - (n * t).sum() ** 2))
    y = np.log(x / (n - x))
    slopes = [np.polyfit(t, y, 1)[0]] + [np.polyfit(np.delete(t, j), np.delete(y, j), 1)[0] for j in range(5)]
    consistent = all(sl < 0 for sl in slopes) or all(sl >= 0 for sl in slopes)
    if chi2 > stats.TREND_CRITICAL_VALUE and consistent:
        expected = "increasing and getting better" if slopes[0] > 0 else "decreasing and getting worse"
    else:
        expected = "no significant change"
    row = _one(notts.trends, area_role="cdp", method="Fingertips recent trend")
    assert (row["period_start"], row["period_end"]) == (wide.index[0], wide.index[-1])
    assert row["verdict"] == expected


def test_death_source_is_the_registered_workbook(notts):
    path = ons_drug_deaths.register.file_of_kind(ons_drug_deaths.WORKBOOK.kind)
    assert notts.deaths["source"].str.contains(path.name).all()


def test_isr_by_hand_from_the_published_counts_and_populations(northants):
    """Expected deaths = Σ England's deaths ÷ population by ONS age group × the partnership's population."""
    from cdp_analysis.areas import current_population
    from cdp_analysis.data import ons_drug_deaths_national

    nat = ons_drug_deaths_national.england_by_age()
    nat = nat[(nat["sex"] == "Persons") & (nat["cause"] == "drug misuse") & nat["year"].between(2019, 2021)
              & (nat["age_group"] != "All ages")]
    pop = current_population.current_areas([2020])
    pop = pop[pop["sex"] == "persons"]
    expected = 0.0
    for b in nat.drop_duplicates("age_group").itertuples():
        band = pop[(pop["age"] >= b.age_from) & (pop["age"] <= b.age_to)]
        eng = band.loc[band["code"] == "E92000001", "population"].sum()
        local = band.loc[band["code"].isin(["E06000061", "E06000062"]), "population"].sum()
        expected += nat.loc[nat["age_group"] == b.age_group, "deaths"].sum() / eng * local
    isr = _one(northants.standardised, area_role="cdp", cause="drug misuse", measure="indirectly standardised ratio")
    ann = ons_drug_deaths.annual()
    observed = ann[ann["code"].isin(["E06000061", "E06000062"]) & (ann["cause"] == "drug misuse")
                   & ann["year"].between(2019, 2021)]["deaths"].sum()
    assert isr["count"] == observed == 92
    assert isr["denominator"] == pytest.approx(expected)
    assert isr["value"] == pytest.approx(observed / expected)
    assert isr["lower_ci"] < isr["value"] < isr["upper_ci"]
    assert "combining its members' deaths and populations" in tc.summary_text(northants)


def test_england_reference_counts_match_the_local_authority_workbook():
    """England's deaths 2019-21 in the national table equal England's pooled count in the LA workbook."""
    from cdp_analysis.data import ons_drug_deaths_national

    nat = ons_drug_deaths_national.england_by_age()
    total = nat[(nat["sex"] == "Persons") & (nat["cause"] == "drug poisoning") & (nat["age_group"] == "All ages")
                & nat["year"].between(2019, 2021)]["deaths"].sum()
    pooled = _one(ons_drug_deaths.pooled(), code="E92000001", cause="drug poisoning", sex="Persons", period="2019-21")
    assert total == pooled["deaths"] == 12959
