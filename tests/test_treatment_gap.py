"""Chapter 3, treatment gap: OHID's and ONS's published met and unmet need reproduced from their counts, the
pairings stated, Barnet's own ViewIt export, honest gaps, and the capacity planner on hand-computed cases."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis import stats
from cdp_analysis.chapters import partnerships
from cdp_analysis.chapters import treatment_gap as tg
from cdp_analysis.data import fingertips, ons_sdg
from cdp_analysis.errors import InputError
from cdp_analysis.output import tidy

BARNET_VIEWIT = "data/raw/ndtms_viewit/viewit_export_adult_LAs_barnet.csv"


@pytest.fixture(scope="module")
def notts():
    return tg.build(partnerships.get("nottinghamshire"))


@pytest.fixture(scope="module")
def northants():
    return tg.build(partnerships.get("northamptonshire"))


@pytest.fixture(scope="module")
def barnet():
    return tg.build(partnerships.get("barnet"))


def _rows(g, **where) -> pd.DataFrame:
    t = g.gap
    for k, v in where.items():
        t = t[t[k] == v]
    return t


def _one(g, **where) -> pd.Series:
    t = _rows(g, **where)
    assert len(t) == 1, (where, len(t))
    return t.iloc[0]


def test_the_sdg_met_need_series_is_reproduced_for_the_cdp(notts):
    sdg = ons_sdg.series()
    published = sdg[(sdg["code"] == "E10000024") & (sdg["series"] == "met need") & (sdg["category"] == "")]
    assert len(published) == 9
    for r in published.itertuples():
        row = _one(notts, area_role="cdp", substance=tg.ALCOHOL, measure="met need", time_period=r.period)
        assert row["value"] == pytest.approx(r.value, abs=1e-6)


@pytest.mark.parametrize("code", ["E10000031", "E10000032", "E10000034"])
def test_fingertips_93532_reproduced_from_the_sdg_counts_and_the_three_year_estimates(code):
    """2018/19: T from the SDG file, P̂ and its limits the mean of the OHID estimates (need_with_limits)."""
    a = tg.alcohol_all_areas()
    row = a[(a["code"] == code) & (a["period"] == "2018/19")].reset_index(drop=True)
    out = stats.met_need(row.assign(_i=0), "treated", "need", "need_lower", "need_upper", group_by="_i").iloc[0]
    pub = fingertips.indicator(93532)
    pub = pub[(pub["area_code"] == code) & (pub["time_period"] == "2018/19")].iloc[0]
    assert out["unmet_need"] == pytest.approx(pub["value"], abs=1e-6)
    assert (out["unmet_lowercl"], out["unmet_uppercl"]) == pytest.approx((pub["lower_ci"], pub["upper_ci"]), abs=1e-6)


def test_fingertips_rows_are_used_as_published_with_need_limits_back_derived():
    g = tg.build(partnerships.get("E06000001"))  # Hartlepool: in both OHID samples
    pub = fingertips.indicator(93517)
    pub = pub[(pub["area_code"] == "E06000001") & (pub["time_period"] == "2020/21")].iloc[0]
    unmet = _one(g, area_role="cdp", substance=tg.OCU, measure="unmet need", time_period="2020/21")
    assert (unmet["value"], unmet["lower_ci"], unmet["upper_ci"]) == pytest.approx(
        (pub["value"], pub["lower_ci"], pub["upper_ci"]))
    need = _one(g, area_role="cdp", substance=tg.OCU, measure="estimated need", time_period="2020/21")
    treated = pub["denominator"] - pub["count"]
    assert need["value"] == pytest.approx(pub["denominator"])
    # the back-derived need limits give the published unmet limits again
    assert 100 * (1 - treated / need["lower_ci"]) == pytest.approx(pub["lower_ci"])
    assert "Fingertips 93517" in unmet["pairing"]


def test_table_contract(notts, northants, barnet):
    for g in (notts, northants, barnet):
        tidy.check_tidy(g.gap, "treatment_gap")
        assert set(g.gap["measure"]) <= set(tg.MEASURES)
        assert set(g.gap["substance"]) <= set(tg.SUBSTANCES)
        assert g.gap["source"].str.len().gt(0).all() and g.gap["pairing"].str.len().gt(0).all()
        tidy.check_tidy(g.capacity, "treatment_capacity")
    assert {"cdp", "region", "england", "neighbour"} <= set(notts.gap["area_role"])


def test_unmet_need_is_compared_with_england_of_the_same_year(notts):
    t = _rows(notts, measure="unmet need", substance=tg.ALCOHOL, area_role="neighbour")
    limited = t[t["lower_ci"].notna()]
    assert set(limited["compared_to_england"]) <= {"Better", "Similar", "Worse"}
    eng = _rows(notts, measure="unmet need", substance=tg.ALCOHOL, area_role="england").set_index("time_period")["value"]
    worse = limited[limited["compared_to_england"] == "Worse"]
    assert (worse["lower_ci"].to_numpy() > worse["time_period"].map(eng).to_numpy()).all()
    assert set(t.loc[t["lower_ci"].isna(), "compared_to_england"]) <= {"Not compared"}


def test_northamptonshire_is_the_former_county_and_its_members_are_flagged(northants):
    sdg = ons_sdg.series()
    county = sdg[(sdg["code"] == "E10000021") & (sdg["period"] == "2018/19") & (sdg["category"] == "")]
    treated = county.loc[county["series"] == "in treatment", "value"].iloc[0]
    row = _one(northants, area_role="cdp", substance=tg.ALCOHOL, measure="in treatment", time_period="2018/19")
    assert row["value"] == pytest.approx(treated)
    assert row["area_code"] == "northamptonshire"
    members = _rows(northants, area_role="member", substance=tg.ALCOHOL, measure="met need", time_period="2018/19")
    cdp = _one(northants, area_role="cdp", substance=tg.ALCOHOL, measure="met need", time_period="2018/19")
    assert len(members) == 2 and members["geography_basis"].str.startswith("apportioned").all()
    assert members["value"].to_numpy() == pytest.approx([cdp["value"]] * 2)


def test_barnet_uses_its_own_viewit_export_and_states_the_pairing(barnet):
    import csv
    from pathlib import Path

    raw = list(csv.DictReader((Path(__file__).resolve().parent.parent / BARNET_VIEWIT).open(encoding="utf-8-sig")))
    published = sum(int(r["intreatment_allintx"]) for r in raw if r["ReportingPeriod"] == "2021/22"
                    and r["sex"].lower() == r["age_group"].lower() == "total"
                    and r["drug_group"] in ("Alcohol only", "Non-opiate & alcohol"))
    row = _one(barnet, area_role="cdp", substance=tg.ALCOHOL, measure="in treatment", time_period="2021/22")
    assert row["value"] == published and "rounded to 5" in row["value_note"]
    met = _one(barnet, area_role="cdp", substance=tg.ALCOHOL, measure="met need", time_period="2021/22")
    assert met["pairing"].startswith("approximation") and "2015/16 to 2017/18 (mean)" in met["pairing"]
    assert met["value"] == pytest.approx(100 * published / met["denominator"])
    assert "viewit_export_adult_LAs_barnet.csv" in met["source"] and "ohid_alcohol_dependence" in met["source"]
    # OCU: numbers in treatment are known, no estimate of need is held: no met need, and the report says so
    ocu = _rows(barnet, area_role="cdp", substance=tg.OCU)
    assert set(ocu["measure"]) == {"in treatment"}
    assert "no OHID estimate of need for the area is held" in tg.summary_text(barnet)


def test_nottinghamshire_ocu_says_what_is_missing(notts):
    assert _rows(notts, area_role="cdp", substance=tg.OCU, measure="met need").empty
    text = tg.summary_text(notts)
    # the only local OCU figure in the bundle is a newspaper's (original method): it is never used
    assert "4,292" not in text and "Opiates and/or crack: the unmet need of Nottinghamshire cannot be shown" in text


def test_summary_numbers_come_from_the_tables(notts):
    text = tg.summary_text(notts)
    unmet = _one(notts, area_role="cdp", substance=tg.ALCOHOL, measure="unmet need", time_period="2018/19")
    assert f"({unmet['value']:.0f}%; 95% limits {unmet['lower_ci']:.0f}%–{unmet['upper_ci']:.0f}%)" in text


def test_an_estimate_of_need_without_limits_gives_a_summary_without_a_range():
    """Bournemouth, Christchurch and Poole (formed in 2019) has need without published limits: its run failed on
    it in the first full `cdp run --all`."""
    g = tg.build(partnerships.get("bournemouth-christchurch-and-poole"))
    cap = g.capacity[g.capacity["measure"] == "extra places to match England"]
    assert cap["lower_ci"].isna().any()
    text = tg.summary_text(g)
    assert "nan" not in text
    assert "(no range: the estimate of need has no published limits)" in text


# --- the capacity planner ---------------------------------------------------------------------------------


def test_places_needed_by_hand():
    df = pd.DataFrame({"t": [1000.0, 2000.0, 1000.0, 0.0], "p": [5000.0] * 4, "lo": [4000.0] * 4,
                       "hi": [6250.0] * 4, "target": [0.3, 0.3, 0.3, 0.3], "years": [5, 5, 0, 5]})
    out = stats.places_needed(df, "t", "p", "lo", "hi", target="target", years="years")
    first = out.iloc[0]
    assert first["in_treatment_at_target"] == pytest.approx(1500)
    assert (first["extra_places"], first["extra_lower"], first["extra_upper"]) == pytest.approx((500, 200, 875))
    assert first["annual_growth"] == pytest.approx(100 * (1.5 ** 0.2 - 1))
    assert first["growth_lower"] == pytest.approx(100 * (1.2 ** 0.2 - 1))
    assert first["status"] == "more places needed"
    met = out.iloc[1]  # 2,000 already in treatment ≥ 1,500
    assert met["extra_places"] == 0 and met["annual_growth"] == 0 and met["status"] == "target already met"
    assert met["extra_upper"] == 0  # 0.3 × 6,250 = 1,875 < 2,000
    assert pd.isna(out.iloc[2]["annual_growth"]) and "not after the latest year" in out.iloc[2]["status"]
    assert pd.isna(out.iloc[3]["annual_growth"]) and out.iloc[3]["extra_places"] == 1500


def test_places_needed_refuses_a_percentage_for_a_proportion():
    df = pd.DataFrame({"t": [1.0], "p": [10.0], "target": [25.0], "years": [3]})
    with pytest.raises(ValueError, match="outside"):
        stats.places_needed(df, "t", "p", target="target", years="years")


def test_capacity_with_a_target_from_the_parameters():
    cdp = partnerships.get("nottinghamshire")
    settings = tg.Settings(target_met_need=25.0, target_year=2030)
    g = tg.build(cdp, settings)
    c = g.capacity[g.capacity["substance"] == tg.ALCOHOL].set_index("measure")
    need = _one(g, area_role="cdp", substance=tg.ALCOHOL, measure="estimated need", time_period="2018/19")
    assert c.loc["extra places to reach target", "value"] == pytest.approx(0.25 * need["value"] - 1569)
    assert c.loc["extra places to reach target", "upper_ci"] == pytest.approx(0.25 * need["upper_ci"] - 1569)
    years = 2030 - 2019
    assert c.loc["annual growth to reach target", "value"] == pytest.approx(
        100 * ((0.25 * need["value"] / 1569) ** (1 / years) - 1))
    assert "Reaching 25.0% met need by 2030" in tg.summary_text(g)


def test_england_default_target_is_the_latest_published_rate(notts):
    c = notts.capacity.iloc[0]
    eng = _rows(notts, area_role="england", substance=tg.ALCOHOL, measure="met need")
    published = eng[~eng["pairing"].str.startswith("approximation")].sort_values("time_period_sortable").iloc[-1]
    assert c["target_met_need"] == pytest.approx(published["value"]) and c["target_basis"].startswith("England")


# --- parameters ------------------------------------------------------------------------------------------


def test_a_viewit_export_of_another_area_is_refused(tmp_path):
    cdp = partnerships.get("nottinghamshire")
    with pytest.raises(InputError) as exc:
        tg.build(cdp, tg.Settings(viewit=[BARNET_VIEWIT]))
    msg = exc.value.message
    assert "area 'Barnet' is not a member of Nottinghamshire" in msg and "row 2, column 'Area'" in msg


def test_a_missing_export_file_names_the_parameter():
    with pytest.raises(InputError) as exc:
        tg.Settings(fingertips=["downloads/93532.csv"]).check_data(where="parameter")
    assert "no such file: downloads/93532.csv" in exc.value.message and "parameter 'fingertips', item 1" in exc.value.message


def test_the_two_editions_of_englands_opiate_crack_need_are_named_side_by_side(notts):
    """Fingertips 93517 (before OHID's revision) and the prevalence chapter's revised estimate differ for 2019/20:
    the notes say so with both figures, read from the tables."""
    notes = tg.notes_text(notts)
    need = _one(notts, area_role="england", substance=tg.OCU, measure="estimated need", time_period="2019/20")
    assert f"need there is {need['value']:,.0f}" in notes and "341,032" in notes
