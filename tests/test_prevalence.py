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


def test_method_reproduces_the_national_headline_on_englands_own_population(notts):
    """England's population with the sex × age rates gives the England and Wales rate within 0.15 percentage
    points (composition differences only; see docs/methods.md)."""
    check = prevalence.england_check(notts)
    assert len(check) == 6
    assert check["difference"].abs().max() < 0.15


def test_age_sex_estimate_by_hand_for_nottinghamshire(notts):
    pop = current_population.current_areas([2022])
    pop = pop[(pop["code"] == "E10000024") & (pop["sex"] != "persons")]
    expected = 0.0
    for sex, band, lo, hi in (("males", "16-24", 16, 24), ("males", "25-59", 25, 59),
                              ("females", "16-24", 16, 24), ("females", "25-59", 25, 59)):
        n = pop[(pop["sex"] == sex) & pop["age"].between(lo, hi)]["population"].sum()
        expected += n * _cell(table="3.04", drug="Any Class A drug", sex=sex, age_group=band,
                              survey_year=LATEST)["percent"] / 100
    row = notts.estimate(drug="Any Class A drug", method="age-sex")
    assert row["value"] == pytest.approx(expected)
    assert row["lower_ci"] < row["value"] < row["upper_ci"]
    pct = notts.estimate(drug="Any Class A drug", method="age-sex", measure="percent of age group")
    assert pct["value"] == pytest.approx(100 * expected / pct["denominator"]) and pct["count"] == pytest.approx(expected)


def test_calibrated_estimate_uses_the_regions_observed_over_expected_rate(notts):
    plain = notts.estimate(drug="Any Class A drug", method="age-sex")
    calibrated = notts.estimate(drug="Any Class A drug", method="age-sex-region")
    observed = _cell(table="3.08", drug="Any Class A drug", region="East Midlands", survey_year=LATEST)["percent"]
    em = notts.estimate(drug="Any Class A drug", method="age-sex", measure="percent of age group", area_role="region")
    assert calibrated["value"] == pytest.approx(plain["value"] * observed / em["value"], rel=1e-9)
    assert calibrated["upper_ci"] - calibrated["lower_ci"] > plain["upper_ci"] - plain["lower_ci"]


def test_survey_years_pair_with_the_nearest_population_within_the_gap(notts):
    used = notts.years[notts.years["usable"]]
    assert dict(zip(used["survey_year"], used["population_year"])) == {
        "Apr 2018 to Mar 2019": 2020, "Apr 2019 to Mar 2020": 2020, LATEST: 2022}
    assert set(notts.drugs["survey_year"]) == set(used["survey_year"])


def test_table_contract_columns_and_vocabularies(notts, northants):
    for p in (notts, northants):
        for name, t in zip(prevalence.CHAPTER.tables, p.tables()):
            tidy.check_tidy(t, name)
        d = p.drugs
        assert {"drug", "recall_period", "age_group", "survey_year", "method"} <= set(d.columns)
        assert set(d["recall_period"]) == {"last year", "last month", "frequent"}
        assert set(d["method"]) == {"age-sex", "age-sex-region", "national-rate"}
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
    adults = current_population.current_areas([2020])
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


def test_ocu_local_estimate_where_held_and_expected_at_englands_rate_otherwise(notts, northants):
    o = notts.ocu[(notts.ocu["area_role"] == "cdp") & (notts.ocu["measure"] == "estimated users")]
    assert sorted(o["method"]) == ["OHID/LJMU estimate (original method, transcribed)", "expected at England's rate"]
    assert o[o["method"].str.startswith("OHID")]["value"].tolist() == [4292]
    n = northants.ocu[(northants.ocu["area_role"] == "cdp") & (northants.ocu["measure"] == "estimated users")]
    assert n["method"].tolist() == ["expected at England's rate"] and "not a local estimate" in n["value_note"].iloc[0]
    rates = northants.ocu[northants.ocu["measure"] == "rate per 1,000 aged 15-64"]["value"]
    assert rates.nunique() == 1  # England's rate everywhere, by construction


def test_summary_sentences_come_from_the_tables(notts, northants):
    text = prevalence.summary_text(notts)
    e = notts.estimate(drug="Any Class A drug")
    assert f"{round(e['value'] / 100) * 100:,.0f}" in text and "Class A" in text
    assert "4,292" in text
    assert "No local estimate of opiate" in prevalence.summary_text(northants)


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
    assert len(strata) == len(prevalence.AGE_SEX_DRUGS) * 4
    for drug in prevalence.AGE_SEX_DRUGS:
        total = notts.estimate(drug=drug, method="age-sex")["value"]
        assert strata[strata["drug"] == drug]["value"].sum() == pytest.approx(total)


def test_an_area_without_an_alcohol_dependence_estimate_says_so():
    """The Isles of Scilly has no OHID estimate: the summary says so (the first full `cdp run --all` failed)."""
    p = prevalence.build(partnerships.get("isles-of-scilly"))
    assert p.alcohol[p.alcohol["area_role"] == "cdp"].empty
    assert "OHID publishes no estimate of alcohol dependence for Isles of Scilly" in prevalence.summary_text(p)
