"""Chapter 2, prevalence: loaders against the published tables, the synthetic method against England's own
headline, apportionment for Northamptonshire, OCU labelling, and every row's provenance."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis.areas import current_population
from cdp_analysis.chapters import partnerships, prevalence
from cdp_analysis.data import ohid_alcohol_dependence, ons_csew, register
from cdp_analysis.output import tidy

LATEST = "Oct 2021 to Jun 2022"


@pytest.fixture(scope="module")
def notts():
    return prevalence.build(partnerships.get("nottinghamshire"))


@pytest.fixture(scope="module")
def northants():
    return prevalence.build(partnerships.get("northamptonshire"))


def _cell(**where) -> pd.Series:
    t = ons_csew.drug_use()
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, where
    return t.iloc[0]


# --- the CSEW loader against cells read from the published workbook ------------------------------------


@pytest.mark.parametrize(("where", "percent", "base"), [
    (dict(table="3.04", drug="Any Class A drug", sex="males", age_group="16-24", survey_year=LATEST), 4.1657977863072055, 363),
    (dict(table="3.04", drug="Any drug", sex="males", age_group="16-24", survey_year=LATEST), 21.461823329577243, 363),
    (dict(table="3.03", drug="Any Class A drug", age_group="16-19", survey_year=LATEST), 2.027678542767413, 241),
    (dict(table="3.08", drug="Any Class A drug", region="London", survey_year=LATEST), 4.691081551140103, 878),
    (dict(table="3.08", drug="Any Class A drug", region="England", survey_year=LATEST), 2.737581298449311, 6709),
    (dict(table="1.02", drug="Any Class A drug", survey_year=LATEST), 2.65320658331239, 7197),
    (dict(table="1.02", drug="Any drug", survey_year="Jan 1995 to Dec 1995"), 11.2162429141597, None),
    (dict(table="1.08", drug="Any drug", survey_year=LATEST), 18.5751943026608, 714),
    (dict(table="2.01", age_group="16-59", survey_year="Apr 2019 to Mar 2020"), 2.111580542353208, 18896),
    (dict(table="3.02", drug="Cannabis", characteristic_type="All adults"), 7.401553, 7197),
])
def test_csew_cells_as_published(where, percent, base):
    cell = _cell(**where)
    assert cell["percent"] == pytest.approx(percent, rel=1e-6)
    if base is not None:
        assert cell["base"] == base


def test_markers_become_missing_values_with_a_reason_never_zero():
    mephedrone = _cell(table="1.02", drug="Mephedrone", survey_year=LATEST)
    assert pd.isna(mephedrone["percent"]) and mephedrone["value_note"].startswith("[c]")
    glues = _cell(table="1.02", drug="Glues", survey_year=LATEST)
    assert pd.isna(glues["percent"]) and glues["value_note"].startswith("[x]")
    heroin = _cell(table="1.02", drug="Heroin", survey_year=LATEST)
    assert heroin["percent"] == 0 and heroin["value_note"] == ""  # a published 0 stays 0


def test_the_16_59_base_of_table_3_04_is_the_sum_of_its_sex_age_bases():
    assert _cell(table="3.04", drug="Any drug", sex="persons", age_group="16-59", survey_year=LATEST)["base"] == 7197
    assert ons_csew.survey_span("Apr 2019 to Mar 2020") == pytest.approx((2019.25, 2020.25))


def test_headlines_are_read_with_their_sources():
    h = ons_csew.headlines()
    row = h[(h["survey_year"] == "YE Mar 2023") & (h["drug"] == "Any drug") & (h["age_group"] == "16-59")
            & (h["measure"] == "last_year")]
    assert row["percent"].tolist() == [9.5] and row["source_url"].str.startswith("https://").all()


# --- the method -----------------------------------------------------------------------------------------


def _hand_raked_rates(drug: str, survey_year: str, year: int) -> dict:
    """Rates by sex × age band computed here without the suite's code: Table 3.03's users by band and Table 3.04's
    users by sex × broad band on England and Wales's population, the first reconciled to the second within each
    broad band, then iterative proportional fitting from the seed p_band × N."""
    import numpy as np

    from cdp_analysis.data import ons_population

    est = ons_population.estimates()
    ew = est[(est["code"] == "K04000001") & (est["year"] == year)]
    bands = {"16-19": (16, 19), "20-24": (20, 24), "25-29": (25, 29), "30-34": (30, 34), "35-44": (35, 44),
             "45-54": (45, 54), "55-59": (55, 59)}
    broad = {"16-24": ["16-19", "20-24"], "25-59": ["25-29", "30-34", "35-44", "45-54", "55-59"]}
    sexes = ["males", "females"]
    n = np.array([[ew[(ew["sex"] == s) & ew["age"].between(*bands[b])]["population"].sum() for b in bands] for s in sexes],
                 dtype=float)
    p_band = np.array([_cell(table="3.03", drug=drug, age_group=b, survey_year=survey_year)["percent"] / 100
                       for b in bands])
    x = n * p_band
    for _ in range(200):
        for c, members in broad.items():
            cols = [list(bands).index(b) for b in members]
            b_users = np.array([_cell(table="3.04", drug=drug, sex=s, age_group=c, survey_year=survey_year)["percent"]
                                / 100 * n[i, cols].sum() for i, s in enumerate(sexes)])
            a_users = p_band[cols] * n[:, cols].sum(axis=0)
            a_users = a_users * b_users.sum() / a_users.sum()
            x[:, cols] *= (b_users / x[:, cols].sum(axis=1))[:, None]
            x[:, cols] *= (a_users / x[:, cols].sum(axis=0))[None, :]
    return {(s, b): x[i, j] / n[i, j] for i, s in enumerate(sexes) for j, b in enumerate(bands)}


def test_raking_reproduces_both_published_margins():
    """Users by age band (Table 3.03, reconciled) and by sex × broad band (Table 3.04) both hold to 1e-9."""
    from cdp_analysis.chapters.prevalence import age_rates

    years = pd.DataFrame({"survey_year": [LATEST, "Apr 2019 to Mar 2020"], "population_year": [2022, 2022]})
    r = age_rates.raked_rates(years)
    pop = age_rates.national_population([2022], age_rates.FINE_BANDS)
    m = r.merge(pop, on=["population_year", "sex", "band"]).assign(users=lambda d: d["rate"] * d["population"])
    m["broad"] = m["band"].map(age_rates.BROAD_OF)
    by_sex = m.groupby(["drug", "survey_year", "sex", "broad"]).agg(users=("users", "sum"), n=("population", "sum"))
    for (drug, year, sex, broad), row in by_sex.iterrows():
        published = _cell(table="3.04", drug=drug, sex=sex, age_group=broad, survey_year=year)["percent"] / 100
        assert row["users"] / row["n"] == pytest.approx(published, rel=1e-9)
    by_band = m.groupby(["drug", "survey_year", "band"]).agg(users=("users", "sum"), n=("population", "sum"),
                                                              factor=("reconciliation", "first"))
    for (drug, year, band), row in by_band.iterrows():
        published = _cell(table="3.03", drug=drug, age_group=band, survey_year=year)["percent"] / 100
        assert row["users"] / row["n"] == pytest.approx(published * row["factor"], rel=1e-9)
    # the two published tables nearly agree: reconciling moves Table 3.03's users by under 2%
    assert (r["reconciliation"] - 1).abs().max() < 0.02


def test_age_sex_estimate_by_hand_for_nottinghamshire(notts):
    """The synthetic count for Nottinghamshire equals a hand computation from Tables 3.03 and 3.04 and the
    single-year population (mid-2022 for the survey year ending June 2022)."""
    rates = _hand_raked_rates("Any Class A drug", LATEST, 2022)
    pop = current_population.current_areas([2022])
    pop = pop[(pop["code"] == "E10000024") & (pop["sex"] != "persons")]
    bands = {"16-19": (16, 19), "20-24": (20, 24), "25-29": (25, 29), "30-34": (30, 34), "35-44": (35, 44),
             "45-54": (45, 54), "55-59": (55, 59)}
    expected = sum(pop[(pop["sex"] == s) & pop["age"].between(*bands[b])]["population"].sum() * r
                   for (s, b), r in rates.items())
    row = notts.estimate(drug="Any Class A drug", method="age-sex")
    assert row["value"] == pytest.approx(expected, rel=1e-9)
    assert row["value"] == pytest.approx(11_523, abs=1)
    assert 0 < row["lower_ci"] < row["value"] < row["upper_ci"]
    pct = notts.estimate(drug="Any Class A drug", method="age-sex", measure="percent of age group")
    assert pct["value"] == pytest.approx(100 * expected / pct["denominator"]) and pct["count"] == pytest.approx(expected)
    # the earlier two-band method is kept beside it for comparison
    two = notts.estimate(drug="Any Class A drug", method="age-sex-two-band")
    assert two["value"] != pytest.approx(row["value"], rel=1e-3)


def test_limits_respect_the_scale_in_every_prevalence_table(notts, northants):
    """No positive estimate has a lower limit of 0 (a clipped normal interval), in any CDP built here."""
    scilly = prevalence.build(partnerships.get("isles-of-scilly"))
    for p in (notts, northants, scilly):
        for t in p.tables():
            has = t["lower_ci"].notna()
            positive = t[has & (t["value"] > 0)]
            assert (positive["lower_ci"] > 0).all(), positive[positive["lower_ci"] <= 0][["measure", "value"]]
            pct = t[has & (t["unit"] == "%")]
            assert (pct["upper_ci"] <= 100).all()


def test_region_validation_can_fail():
    """National rates on each English region's population against the rate the survey measured there."""
    v = prevalence.region_validation(partnerships.get("nottinghamshire").chapter_settings(prevalence.NAME))
    latest = v[v["survey_year"] == LATEST]
    assert len(latest) == 9 * 3 and set(latest["drug"]) == set(prevalence.AGE_SEX_DRUGS)
    london = latest[(latest["region"] == "London") & (latest["drug"] == "Any drug")].iloc[0]
    assert london["observed_pct"] == pytest.approx(_cell(table="3.08", drug="Any drug", region="London",
                                                         survey_year=LATEST)["percent"])
    assert not london["inside"] and london["expected_pct"] < london["observed_lower"]  # the method misses London
    assert latest["inside"].sum() < len(latest)
    assert (latest["observed_lower"] < latest["observed_pct"]).all()


def test_calibrated_estimate_uses_the_regions_observed_over_expected_rate(notts):
    plain = notts.estimate(drug="Any Class A drug", method="age-sex")
    calibrated = notts.estimate(drug="Any Class A drug", method="age-sex-region")
    observed = _cell(table="3.08", drug="Any Class A drug", region="East Midlands", survey_year=LATEST)["percent"]
    em = notts.estimate(drug="Any Class A drug", method="age-sex", measure="percent of age group", area_role="region")
    assert calibrated["value"] == pytest.approx(plain["value"] * observed / em["value"], rel=1e-9)
    assert calibrated["upper_ci"] - calibrated["lower_ci"] > plain["upper_ci"] - plain["lower_ci"]


def test_survey_years_use_the_mid_year_nearest_their_mid_point(notts):
    used = notts.years[notts.years["usable"]]
    for r in used.itertuples():
        assert r.own_year == current_population.mid_year_of(r.survey_year)
        assert (r.population_year == r.own_year) == (r.population_note == "")
    assert used.set_index("survey_year").loc[LATEST, "population_year"] == 2022
    assert set(notts.drugs["survey_year"]) == set(used["survey_year"])


def test_every_rate_is_on_the_population_of_its_own_period(notts, northants):
    for p in (notts, northants):
        for t in p.tables():
            rates = t[t["population_year"].notna()]
            assert len(rates)
            for period, year, note in zip(rates["time_period"], rates["population_year"], rates["value_note"]):
                used, why = current_population.population_year(period)
                assert year == used
                assert (why in note) if why else (year == current_population.mid_year_of(period))


@pytest.mark.parametrize(("period", "year"), [("2017/18", 2017), ("2016-18", 2017), ("2019", 2019),
                                              ("Apr 2018 to Mar 2019", 2018), (LATEST, 2022),
                                              ("Jan 1995 to Dec 1995", 1995), ("2019-21", 2020)])
def test_mid_year_of_a_period(period, year):
    assert current_population.mid_year_of(period) == year


def test_table_contract_columns_and_vocabularies(notts, northants):
    for p in (notts, northants):
        for name, t in zip(prevalence.CHAPTER.tables, p.tables()):
            tidy.check_tidy(t, name)
        d = p.drugs
        assert {"drug", "recall_period", "age_group", "survey_year", "method"} <= set(d.columns)
        assert set(d["recall_period"]) == {"last year", "last month", "frequent"}
        assert set(d["method"]) == {"age-sex", "age-sex-two-band", "age-sex-region", "national-rate"}
        assert set(d.loc[d["measure"] == "expected users", "unit"]) == {"persons"}
        assert set(d.loc[d["measure"] == "percent of age group", "unit"]) == {"%"}
        assert d["lower_ci"].notna().all() and (d["lower_ci"] <= d["value"]).all() and (d["value"] <= d["upper_ci"]).all()
        zero = d[d["value"] == 0]
        assert (zero["upper_ci"] > 0).all() and zero["value_note"].str.contains("no users in its sample").all()
        # a suppressed ([c] mephedrone) or not-asked ([x] glues) national rate gives no estimate, never a zero
        latest = d[d["survey_year"] == LATEST]
        assert not latest["drug"].isin(["Mephedrone", "Glues"]).any()


# --- alcohol dependence ---------------------------------------------------------------------------------


def test_alcohol_dependence_as_published_for_a_county(notts):
    a = notts.alcohol
    row = a[(a["area_role"] == "cdp") & (a["time_period"] == "2017/18") & (a["measure"] == "dependent adults")].iloc[0]
    assert (row["value"], row["lower_ci"], row["upper_ci"]) == (8349, 6808, 10762)
    assert row["geography_basis"] == "as published"
    eng = a[(a["area_role"] == "england") & (a["time_period"] == "2017/18") & (a["measure"] == "dependent adults")]
    assert eng["value"].tolist() == [586780]


def test_northamptonshire_is_apportioned_by_adult_population_and_sums_back(northants):
    a = northants.alcohol
    sel = a[(a["time_period"] == "2017/18") & (a["measure"] == "dependent adults")].set_index("area_code")
    north, west = sel.loc["E06000061"], sel.loc["E06000062"]
    adults = current_population.current_areas([2017])  # 2017/18 is apportioned by the adults of mid-2017
    adults = adults[(adults["sex"] == "persons") & (adults["age"] >= 18)].groupby("code")["population"].sum()
    share = adults["E06000061"] / (adults["E06000061"] + adults["E06000062"])
    assert north["value"] == pytest.approx(6603 * share)
    assert north["value"] + west["value"] == pytest.approx(6603)
    assert north["geography_basis"].startswith("apportioned")
    cdp = sel.loc["northamptonshire"]
    assert (cdp["value"], cdp["lower_ci"], cdp["upper_ci"]) == pytest.approx((6603, 5195, 8786))
    assert "former area" in cdp["geography_basis"]
    early = a[(a["area_role"] == "cdp") & (a["time_period"] == "2014")]
    assert early["lower_ci"].isna().all() and early["value"].notna().all()  # no limits published: blank, never 0
    assert not a[(a["time_period"] == "2014") & (a["measure"] == "rate per 100 adults")].shape[0]


def test_alcohol_dependence_rate_is_on_the_adults_of_its_own_mid_year(notts):
    """2017/18: the published count over Nottinghamshire's adults (18+) at mid-2017, read from the mid-2017
    workbook (not the mid-2020 population the rates used before)."""
    from cdp_analysis.data import ons_population

    est = ons_population.estimates()
    adults17 = est[(est["code"] == "E10000024") & (est["year"] == 2017) & (est["sex"] == "persons")
                   & (est["age"] >= 18)]["population"].sum()
    a = notts.alcohol
    rate = a[(a["area_role"] == "cdp") & (a["time_period"] == "2017/18") & (a["measure"] == "rate per 100 adults")].iloc[0]
    assert rate["population_year"] == 2017 and rate["denominator"] == adults17
    assert rate["value"] == pytest.approx(100 * 8349 / adults17, rel=1e-12)
    assert (rate["lower_ci"], rate["upper_ci"]) == pytest.approx((100 * 6808 / adults17, 100 * 10762 / adults17))
    assert rate["value_note"] == ""


def test_englands_ocu_rate_reproduces_ohids_published_rate(notts):
    """OHID's count over England's population aged 15-64 of the period's own mid-year gives the rates OHID
    publishes (9.2, 9.4 and 9.5 per 1,000 for 2016/17, 2018/19 and 2019/20): the denominator is right."""
    o = notts.ocu[notts.ocu["measure"] == "rate per 1,000 aged 15-64"].set_index("time_period")
    assert o["value"].round(1).to_dict() == {"2016/17": 9.2, "2018/19": 9.4, "2019/20": 9.5}
    assert o["population_year"].to_dict() == {"2016/17": 2016, "2018/19": 2018, "2019/20": 2019}


def test_alcohol_loader_reads_na_limits_as_missing():
    e = ohid_alcohol_dependence.estimates()
    early = e[e["period"] == "2014"]
    assert early["lower_ci"].isna().all() and early["dependent"].notna().all()


def test_rates_are_compared_with_england(northants):
    r = northants.alcohol[(northants.alcohol["measure"] == "rate per 100 adults") & (northants.alcohol["time_period"] == "2017/18")]
    assert set(r.loc[r["area_role"] == "neighbour", "compared_to_england"]) <= {"Better", "Similar", "Worse"}
    herts = r[r["area_name"] == "Hertfordshire"].iloc[0]  # upper limit below England's rate
    assert herts["upper_ci"] < r[r["area_role"] == "england"]["value"].iloc[0] and herts["compared_to_england"] == "Better"


# --- OCU ------------------------------------------------------------------------------------------------


def test_ocu_shows_ohid_estimates_only_never_a_figure_at_englands_rate(notts, northants):
    for p in (notts, northants):
        o = p.ocu
        assert not o["method"].str.contains("England's rate").any()
        assert set(o["area_role"]) == {"england"}  # no OHID local estimate is held from OHID's own documents
        users = o[o["measure"] == "estimated users"].set_index("time_period")["value"]
        assert users.to_dict() == {"2016/17": 324840, "2018/19": 336531, "2019/20": 341032}
        assert o["value_note"].str.contains("published in OHID's data tables").all()
    # the newspaper's 4,292 (original method) is used nowhere
    for p in (notts, northants):
        assert not (p.ocu["value"] == 4292).any()
        text = prevalence.summary_text(p) + prevalence.notes_text(p)
        assert "4,292" not in text and "would imply" not in text  # nor a figure at England's rate, even in prose


def test_figures_from_secondary_sources_are_never_used():
    from cdp_analysis.data import transcribed

    assert transcribed.is_publishers_own("https://www.gov.uk/government/publications/x")
    assert transcribed.is_publishers_own("https://Www.Gov.uk/government/statistics/y")
    assert transcribed.is_publishers_own("https://www.ons.gov.uk/peoplepopulationandcommunity/z")
    assert not transcribed.is_publishers_own("https://www.hucknalldispatch.co.uk/heritage/x")
    assert not transcribed.is_publishers_own("https://www.pharmacy.biz/news/drug-use/")
    assert not transcribed.is_publishers_own("https://gov.uk.example.com/x")
    assert not transcribed.is_publishers_own("https://www.nottinghamshire.gov.uk/jsna")  # a council re-reporting
    assert transcribed.official("ocu_estimated_users_15_64", area_code="E10000024").empty
    assert len(transcribed.figure("ocu_estimated_users_15_64", area_code="E10000024")) == 1  # held, unused
    h = ons_csew.headlines()
    assert h["source_url"].map(transcribed.is_publishers_own).all() and "YE Mar 2024" not in set(h["survey_year"])


def test_summary_sentences_come_from_the_tables(notts, northants):
    text = prevalence.summary_text(notts)
    e = notts.estimate(drug="Any Class A drug")
    assert f"{round(e['value'] / 100) * 100:,.0f}" in text and "Class A" in text
    assert "not local precision" in text
    assert "no estimate for Northamptonshire is in the data used here" in prevalence.summary_text(northants)
    notes = prevalence.notes_text(notts)
    assert "communal establishments" in notes and "no local figure is derived from England's rate" in notes
    v = notts.validation[notts.validation["survey_year"] == LATEST]
    assert f"cannabis: {int(v[v['drug'] == 'Cannabis']['inside'].sum())} of 9" in notes
    every = notts.validation
    assert f"{int(every['inside'].sum())} of {len(every)} expected rates" in notes
    assert f"({int(every['flat_inside'].sum())} of {len(every)} inside)" in notes  # the unadjusted rate beside it


def test_every_row_names_its_register_entries(notts, northants):
    for p in (notts, northants):
        for t in p.tables():
            for source in t["source"].unique():
                assert register.resolve_source(source), source


def test_unknown_drug_in_parameters_is_one_clear_error():
    from cdp_analysis.errors import InputError

    with pytest.raises(InputError) as exc:
        prevalence.CHAPTER.from_parameters(cdp_slug="nottinghamshire", cdp_name="Nottinghamshire",
                                           members=["E10000024"], drugs=["Canabis"])
    assert "'Canabis' is not a drug the Crime Survey tables give" in exc.value.message
    assert "did you mean 'Cannabis'" in exc.value.message


def test_the_strata_add_up_to_the_age_sex_estimate(notts):
    strata = prevalence.age_sex_strata(notts)
    assert len(strata) == len(prevalence.AGE_SEX_DRUGS) * 2 * 7
    for drug in prevalence.AGE_SEX_DRUGS:
        total = notts.estimate(drug=drug, method="age-sex")["value"]
        assert strata[strata["drug"] == drug]["value"].sum() == pytest.approx(total)


def test_an_area_without_an_alcohol_dependence_estimate_says_so():
    """The Isles of Scilly has no OHID estimate: the summary says so (the first full `cdp run --all` failed)."""
    p = prevalence.build(partnerships.get("isles-of-scilly"))
    assert p.alcohol[p.alcohol["area_role"] == "cdp"].empty
    assert "OHID publishes no estimate of alcohol dependence for Isles of Scilly" in prevalence.summary_text(p)


def _docs_rows(heading: str) -> list[list[str]]:
    """The rows of the first Markdown table after ``heading`` in docs/methods.md (cells stripped)."""
    from pathlib import Path

    text = Path(__file__).resolve().parents[1].joinpath("docs", "methods.md").read_text(encoding="utf-8")
    lines = text[text.index(heading):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|---"))
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def test_docs_method_shift_table_is_what_the_code_gives(notts):
    from cdp_analysis.chapters.prevalence import drug_use

    t = drug_use.method_shift(["E10000024", "E08000003", "E09000030", "E06000059", "E06000053"], notts.settings)
    assert _docs_rows("**The two-band method") == [
        [r.area_name, r.drug, f"{r.two_band_pct:.2f}", f"{r.seven_band_pct:.2f}", f"{r.change_pct:+.1f}%"]
        for r in t.itertuples()]


def test_docs_region_validation_table_is_what_the_code_gives(notts):
    v = notts.validation[notts.validation["survey_year"] == LATEST]
    assert _docs_rows("**Validation that can fail") == [
        [r.region, r.drug, f"{r.expected_pct:.2f}",
         f"{r.observed_pct:.2f} ({r.observed_lower:.2f}–{r.observed_upper:.2f})", "yes" if r.inside else "no"]
        for r in v.itertuples()]
    assert f"{int(v['inside'].sum())} of {len(v)} expected rates lie inside" in _docs_text()
    every = notts.validation
    assert (f"{int(every['flat_inside'].sum())} of {len(every)} times against the method's {int(every['inside'].sum())}"
            in " ".join(_docs_text().split()))


def _docs_text() -> str:
    from pathlib import Path

    return Path(__file__).resolve().parents[1].joinpath("docs", "methods.md").read_text(encoding="utf-8")
