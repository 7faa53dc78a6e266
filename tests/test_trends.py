"""Chapter 4, trends: death counts and rates as published, multi-area CDPs summed (never averaged rates), the
trend table's contract, tested verdicts and sentences built from the table, and the small-numbers rule."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis import stats
from cdp_analysis.chapters import partnerships
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
    """Numbers over every year held (1993–2021); rates over the years whose population is held (2001–2021), with
    each year's residents as the offset."""
    from cdp_analysis.areas import population_series

    d = tc._annual_series(notts.deaths, "drug misuse", "cdp")
    expected = stats.poisson_trend(d, "year", "value")
    row = _one(notts.trends, area_role="cdp", series="deaths related to drug misuse", method="poisson regression",
               quantity="number")
    assert row["apc"] == pytest.approx(expected["apc"]) and row["verdict"] == expected["verdict"]
    assert row["period_start"] == "1993" and row["period_end"] == "2021"
    pop = population_series.annual_totals()
    pop = pop[pop["code"] == "E10000024"].set_index("year")["population"]
    with_pop = d.assign(population=d["year"].map(pop)).dropna(subset=["population"])
    assert (with_pop["year"].min(), with_pop["year"].max()) == (2001, 2021)
    expected = stats.poisson_trend(with_pop, "year", "value", "population")
    row = _one(notts.trends, area_role="cdp", series="deaths related to drug misuse", method="poisson regression",
               quantity="rate per head of population")
    assert row["apc"] == pytest.approx(expected["apc"]) and (row["period_start"], row["period_end"]) == ("2001", "2021")


def test_each_year_has_its_own_population(notts):
    """MYEB3 for mid-2001 … mid-2019 and the yearly tables after: Nottinghamshire 748,809 in 2001 and 826,257 in
    2021 (Census-based); a financial year is put over the mid-year inside it."""
    pop = tc.trend_rows.population_of(["E10000024"], [2001, 2019, 2021, 2023])
    assert pop.iloc[:3].tolist() == [748_809, 828_224, 826_257] and pd.isna(pop.iloc[3])
    north = tc.trend_rows.population_of(["E06000061", "E06000062"], [2019])
    assert north.iloc[0] == 348_228 + 405_050


def test_the_headline_is_the_latest_segment_or_the_latest_years(notts, northants):
    """The direction of travel covers the latest joinpoint segment where there is a joinpoint and the segment spans
    at most ``comparison_years`` years, else the latest ``comparison_years`` years; its change is the log-linear
    trend of those years alone (as the comparison with England fits them), so a period has one value."""
    from cdp_analysis.chapters.trends import trend_rows

    n = notts.settings.comparison_years
    seen = set()
    for tr in (notts, northants):
        t = tr.trends
        heads = t[t["method"] == "latest trend"]
        assert len(heads) >= 6
        for h in heads.itertuples():
            same = t[(t["series"] == h.series) & (t["area_role"] == h.area_role) & (t["quantity"] == h.quantity)]
            segs = same[same["method"] == "joinpoint segment"].sort_values("period_start")
            last = segs.iloc[-1] if h.joinpoints else None
            if last is not None and int(last["period_end"]) - int(last["period_start"]) + 1 <= n:
                assert (h.period_start, h.period_end) == (last["period_start"], last["period_end"])
                assert h.model.startswith("latest joinpoint segment (joinpoint in")
                seen.add("segment")
            else:
                window = _one(same, method=f"latest {n} years")
                assert (h.period_start, h.period_end, h.verdict) == (window["period_start"], window["period_end"],
                                                                    window["verdict"])
                assert h.apc == pytest.approx(window["apc"], nan_ok=True)
                seen.add("long segment" if last is not None else "no joinpoint")
        # a head is of the rate wherever the area's populations are held
        deaths = heads[heads["series"].str.startswith("deaths related") & heads["area_role"].isin(["cdp", "england"])]
        assert set(deaths["quantity"]) == {"rate per head of population"}
    assert seen == {"segment", "long segment", "no joinpoint"}
    # the change is the trend of the head's years alone: Northamptonshire's alcohol treatment, 2014/15 to 2018/19
    h = _one(northants.trends, area_role="cdp", method="latest trend",
             series="dependent drinkers in alcohol treatment (year ending March)")
    assert h["period_start"] == "2015" and h["verdict"] == "decreasing"
    # Northamptonshire's drug-misuse deaths: the segment from 2004 is longer than 10 years, so the latest 10 years
    h = _one(northants.trends, area_role="cdp", method="latest trend", series="deaths related to drug misuse")
    assert (h["period_start"], h["period_end"]) == ("2012", "2021") and "longer than 10 years" in h["model"]
    assert trend_rows.latest_span({"joinpoints": ()}, 2021, 10) == (2012, 2021, "no joinpoint")


def test_the_comparison_with_england_is_over_the_same_latest_years(notts):
    t = notts.trends
    cmp = _one(t, area_role="cdp", series="deaths related to drug misuse", method="compared with England")
    assert (cmp["period_start"], cmp["period_end"]) == ("2012", "2021") and cmp["quantity"] == "rate per head of population"
    assert "own dispersion" in cmp["model"] or "separate fits" in cmp["model"]
    area = tc._annual_series(notts.deaths, "drug misuse", "cdp")
    eng = tc._annual_series(notts.deaths, "drug misuse", "england")
    area = tc.trend_rows.with_population(area, notts.cdp, "cdp")
    eng = tc.trend_rows.with_population(eng, notts.cdp, "england")
    expected = stats.compare_window(area, eng, "year", "value", "population", years=10)
    assert cmp["apc"] == pytest.approx(expected["apc_ratio"]) and cmp["verdict"] == expected["verdict"]


def test_published_markers_are_kept(notts):
    scilly = tc.build(partnerships.get("E06000053"))  # Isles of Scilly: a handful of deaths
    r = scilly.deaths[(scilly.deaths["area_role"] == "cdp") & (scilly.deaths["measure"] == "asmr")]
    assert r["value"].isna().all() and r["value_note"].str.startswith("fewer than 10 deaths").all()
    jp = scilly.trends[(scilly.trends["area_role"] == "cdp") & (scilly.trends["series"] == "deaths related to drug misuse")
                       & (scilly.trends["method"] == "joinpoint")]
    assert len(jp) == 2 and (jp["verdict"] == "too few events").all()
    assert (f"too few events to state a percentage change (at least {stats.MIN_EVENTS} events needed)"
            in tc.summary_text(scilly))


def test_every_trend_sentence_names_its_row(notts, northants):
    """Each sentence of the key findings about a tested trend is built from one 'latest trend' row (its years, its
    APC and limits, how its years were chosen) and, for the CDP, its 'compared with England' row (its years)."""
    from cdp_analysis.chapters.trends import trend_words

    for tr in (notts, northants):
        text = tc.summary_text(tr)
        t = tr.trends
        heads = t[(t["method"] == "latest trend") & t["area_role"].isin(["cdp", "england"])
                  & t["series"].isin(trend_words.HEADLINE_SERIES)]
        assert len(heads) >= 7
        for h in heads.itertuples():
            span = trend_words._span(pd.Series(h._asdict()))
            where = "England" if h.area_role == "england" else tr.cdp.name
            lead = f"- {trend_words.HEADLINE_SERIES[h.series]} per head of population in {where}"
            line = next((ln for ln in text.splitlines() if ln.startswith(lead) and span in ln
                         and trend_words._how(pd.Series(h._asdict())) in ln), None)
            assert line is not None, (h.series, h.area_role, span)
            if pd.notna(h.apc):
                assert f"{abs(h.apc):.1f}%" in line or f"{abs(h.apc):.0f}%" in line or f"{h.apc:+.1f}%" in line
            vs = t[(t["series"] == h.series) & (t["area_role"] == h.area_role) & (t["method"] == "compared with England")]
            if len(vs):
                v = vs.iloc[0]
                assert f"({trend_words._span(v)}, each fitted on its own)" in line
                if pd.notna(v["apc"]):
                    assert f"the difference, {v['apc']:+.1f}% a year" in line
                    eng = _one(t, area_role="england", series=h.series, method=f"latest {tr.settings.comparison_years} years",
                               quantity=v["quantity"])
                    assert f"against England's {eng['apc']:+.1f}% a year" in line
        # no method is named that the row does not carry
        assert "latest joinpoint segment" not in text or (t["model"].str.startswith("latest joinpoint segment")).any()
        assert "Fingertips recent-trend marker" not in text.replace(
            "(Fingertips recent-trend marker): cannot be calculated", "")


def test_registration_delays_as_published_and_said(notts, tmp_path):
    """ONS Table 10 read cell by cell (England, drug misuse: 184 days in 2019 … 203 in 2021), and the notes say it;
    a moved header or text in a cell is refused, naming the sheet, row and column."""
    import openpyxl

    from cdp_analysis.chapters.trends import present
    from cdp_analysis.data import ons_drug_deaths_national as nat
    from cdp_analysis.errors import InputError

    d = nat.registration_delay()
    eng = d[(d["country"] == "England") & (d["cause"] == "drug misuse")].set_index("year")["median_delay_days"]
    assert (eng[2019], eng[2020], eng[2021], eng[2022]) == (184, 189, 203, 215)
    assert list(notts.delays["year"]) == [2018, 2019, 2020, 2021]
    assert "184 days in 2019, 189 days in 2020, 203 days in 2021" in present.notes_text(notts)
    src = nat.register.file_of_kind(nat.WORKBOOK.kind)
    wb = openpyxl.load_workbook(src)
    ws = wb["Table 10"]
    row = next(r for r in range(1, 30) if ws.cell(r, 1).value == 2020)
    ws.cell(row, 6).value = "n/a"
    broken = tmp_path / "2022registrations.xlsx"
    wb.save(broken)
    with pytest.raises(InputError) as exc:
        nat.parse_delays(broken)
    assert f"sheet 'Table 10', row {row}, column 'F'" in exc.value.message and "not a number" in exc.value.message
    head = next(r for r in range(1, 30) if ws.cell(r, 1).value == "Year of death registration")
    ws.cell(head, 3).value = "Wales"
    wb.save(broken)
    with pytest.raises(InputError) as exc:
        nat.parse_delays(broken)
    assert "sheet 'Table 10'" in exc.value.message and "Year of death registration" in exc.value.message


def test_alcohol_met_need_gets_no_fingertips_marker_as_ohid_gives_none(notts):
    """Met need divides by a modelled estimate of dependent drinkers: Fingertips computes no recent trend for it
    (OHID's own 93532 rows read "Cannot be calculated"), so neither does the suite under Fingertips' name."""
    from cdp_analysis.data import fingertips

    published = fingertips.indicator("93532")["recent_trend"]
    assert set(published[published != ""]) == {"Cannot be calculated"}
    for role in ("cdp", "england"):
        row = _one(notts.trends, area_role=role, method="Fingertips recent trend",
                   series="alcohol met need (dependent drinkers in treatment)")
        assert row["verdict"].startswith("cannot be calculated: the denominator (dependent drinkers) is a modelled")
        assert pd.isna(row["apc"]) and pd.isna(row["p_value"])
    assert "decreasing and getting worse" not in tc.summary_text(notts)


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


# --- alcohol-specific mortality, national context and the alcohol treatment count ----------------------------

def _fingertips_raw(area_code: str, period: str, sex: str = "Persons") -> dict:
    """One row of the registered 91380 export, read with the csv module (independent of the loader)."""
    import csv

    from cdp_analysis.data import fingertips

    (path,) = [p for p in fingertips.register.files_of_kind(fingertips.EXPORT.kind) if "91380" in p.name]
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.DictReader(f) if r["Area Code"] == area_code and r["Time period"] == period
                and r["Sex"] == sex and r["Category Type"] == ""]
    assert len(rows) == 1
    return rows[0]


def test_alcohol_mortality_as_published_and_compared_like_fingertips(notts):
    raw = _fingertips_raw("E10000024", "2016 - 18")
    row = _one(notts.alcohol, area_role="cdp", sex="Persons", time_period="2016 - 18")
    assert row["value"] == pytest.approx(float(raw["Value"]))
    assert (row["lower_ci"], row["upper_ci"]) == pytest.approx((float(raw["Lower CI 95.0 limit"]),
                                                                float(raw["Upper CI 95.0 limit"])))
    assert row["count"] == float(raw["Count"])
    # the statistics core's comparison with England agrees with OHID's published marker in every period
    for period in notts.alcohol["time_period"].unique():
        ours = _one(notts.alcohol, area_role="cdp", sex="Persons", time_period=period)["compared_to_england"]
        assert ours == _fingertips_raw("E10000024", period)["Compared to England value or percentiles"], period


def test_a_cdp_that_is_a_former_county_gets_its_published_rate(northants):
    raw = _fingertips_raw("E10000021", "2016 - 18")  # Northamptonshire county, before April 2021
    row = _one(northants.alcohol, area_role="cdp", sex="Persons", time_period="2016 - 18")
    assert row["value"] == pytest.approx(float(raw["Value"]))
    assert "E10000021" in row["geography_basis"]
    members = northants.alcohol[(northants.alcohol["area_role"] == "member")]
    assert members["value"].isna().all() and (members["value_note"] != "").all()
    tidy.check_tidy(northants.alcohol, "alcohol_mortality")


def test_a_rate_ohid_did_not_publish_keeps_ohids_reason():
    """Rutland's female rates are too small to publish: the table says so (the run failed on it before)."""
    table = tc.alcohol_mortality_table(partnerships.get("rutland"))
    own = table[(table["area_role"] == "cdp") & table["value"].isna()]
    assert len(own) > 0
    assert set(own["value_note"]) == {"Value cannot be calculated as number of cases is too small"}
    tidy.check_tidy(table, "alcohol_mortality")


def test_a_blank_cell_in_the_ons_table_is_not_a_zero():
    """City of London's 2021 drug-poisoning registrations are a blank cell (ONS writes 0 for none): no value, and
    a note saying why (the first full `cdp run --all` failed on it)."""
    cdp = partnerships.get("city-of-london")
    table = tc.deaths_table(cdp, cdp.chapter_settings("trends"))
    row = _one(table, area_role="cdp", measure="deaths", time_period="2021", cause="drug poisoning")
    assert pd.isna(row["value"]) and row["value_note"] == "no figure in ONS's table (blank cell)"
    tidy.check_tidy(table, "drug_deaths")


def test_overlapping_periods_are_not_tested(notts):
    row = _one(notts.trends, area_role="cdp", series="alcohol-specific mortality (directly standardised rate)")
    assert row["method"] == "not tested" and pd.isna(row["apc"])
    assert "2007-09, 2010-12, 2013-15, 2016-18" in row["verdict"]


def test_alcohol_treatment_trend_refits_the_sdg_counts(notts):
    """The Poisson APC of dependent drinkers in treatment, refitted with statsmodels on the SDG file's counts."""
    import numpy as np
    import statsmodels.api as sm

    from cdp_analysis.data import ons_sdg

    row = _one(notts.trends, area_role="cdp", series="dependent drinkers in alcohol treatment (year ending March)",
               method="poisson regression", quantity="number")
    t = ons_sdg.series()
    t = t[(t["code"] == "E10000024") & (t["series"] == "in treatment") & (t["category"] == "")].sort_values("period")
    assert len(t) == 9
    years = t["period"].str[:4].astype(int).to_numpy() + 1
    fit = sm.GLM(t["value"].to_numpy(), sm.add_constant(years - years.mean()), family=sm.families.Poisson()).fit()
    phi = fit.pearson_chi2 / fit.df_resid
    if phi > 1:
        fit = sm.GLM(t["value"].to_numpy(), sm.add_constant(years - years.mean()),
                     family=sm.families.Poisson()).fit(scale="X2")
    assert row["apc"] == pytest.approx(100 * (np.exp(fit.params[1]) - 1))
    assert (row["period_start"], row["period_end"]) == (str(years[0]), str(years[-1]))


def test_national_substance_table_as_published():
    """ONS Table 4 read cell by cell: cocaine 2022 (persons) and the sexes adding up."""
    import openpyxl

    from cdp_analysis.data import ons_drug_deaths_national as nat

    t = nat.by_substance()
    path = nat.register.file_of_kind(nat.WORKBOOK.kind)
    ws = openpyxl.load_workbook(path, read_only=True)["Table 4"]
    rows = list(ws.iter_rows(values_only=True))
    col = next(i for i, v in enumerate(rows[4]) if v == "Cocaine")
    r2022 = next(r for r in rows[7:40] if r[1] == 2022)
    row = _one(t, sex="Persons", substance="Cocaine", year=2022)
    assert (row["deaths"], row["rate"], row["lower_ci"], row["upper_ci"]) == tuple(
        float(r2022[col + k]) for k in (0, 1, 3, 4))
    persons = t[t["sex"] == "Persons"].set_index(["substance", "year"])["deaths"]
    sexes = t[t["sex"] != "Persons"].groupby(["substance", "year"])["deaths"].sum()
    assert (persons - sexes.reindex(persons.index)).abs().max() == 0
    assert set(t.loc[t["rate"].isna(), "rate_note"]) <= {":", "u"}
    assert (t.loc[t["rate"].notna(), "deaths"] >= 10).all()


def test_national_context_rows_and_survey_years(notts):
    nat = notts.trends[notts.trends["area_role"] == "national"]
    assert set(nat["area_code"]) == {"K04000001"}
    for s in tc.SUBSTANCES:
        name = s.split(" (")[0].lower()
        jp = nat[(nat["series"] == f"deaths mentioning {name} (England and Wales)") & (nat["method"] == "joinpoint")]
        assert set(jp["quantity"]) == {"rate per head of population", "number"} and len(jp) == 2
        rate = jp[jp["quantity"] == "rate per head of population"].iloc[0]
        assert (rate["period_start"], rate["period_end"]) == ("2001", "2022")
    survey = nat[nat["method"] == "Fingertips recent trend"]
    assert len(survey) == 2
    # Fingertips' marker needs the latest five points consecutive: no survey in 2020/21, so it cannot be
    # calculated, and no earlier run of five years is reported as if it were current
    assert set(survey["period_end"]) == {"Oct 2021 to Jun 2022"}
    assert survey["verdict"].str.startswith("cannot be calculated: the 5 most recent periods are not consecutive").all()
    assert survey["apc"].isna().all()
    text = tc.summary_text(notts)
    assert "National context (England and Wales)" in text and "Deaths mentioning cocaine" in text


def test_a_misuse_ratio_below_england_carries_the_recording_caveat(notts):
    """Nottinghamshire's drug-misuse ratio is 'Better' than England's: the same sentence gives the share of its
    drug-poisoning deaths recorded as misuse against England's (58 of 149 against 8,361 of 12,959 in 2019-21)."""
    from cdp_analysis.chapters.trends import present

    text = present.standardised_sentence(notts)
    eng = notts.deaths[(notts.deaths["area_role"] == "england") & (notts.deaths["sex"] == "Persons")
                       & (notts.deaths["measure"] == "deaths") & (notts.deaths["time_period"] == "2019-21")]
    eng = eng.set_index("cause")["value"]
    assert (eng["drug misuse"], eng["drug poisoning"]) == (8361, 12959)
    assert "significantly below England; but 39% of its 149 drug-poisoning deaths were recorded as drug misuse, " \
           "against 65% in England" in text
    assert "recording practice" in text
