"""Chapter 3, treatment gap: OHID's and ONS's published met and unmet need reproduced from their counts, the
pairings stated, Barnet's own ViewIt export, honest gaps, and the capacity planner on hand-computed cases."""

from __future__ import annotations

import numpy as np
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
    cap = g.capacity[g.capacity["measure"] == tg.M_EXTRA]
    assert cap["lower_ci"].isna().any()
    text = tg.summary_text(g)
    assert "nan" not in text
    assert "(no range: the estimate of need has no published limits)" in text


# --- the capacity planner ---------------------------------------------------------------------------------


def test_places_needed_by_hand():
    df = pd.DataFrame({"t": [1000.0, 2000.0, 1000.0, 0.0, 1400.0], "p": [5000.0] * 5, "lo": [4000.0] * 5,
                       "hi": [6250.0] * 5, "target": [0.3] * 5, "years": [5, 5, 0, 5, 5]})
    out = stats.places_needed(df, "t", "p", "lo", "hi", target="target", years="years")
    first = out.iloc[0]
    assert first["in_treatment_at_target"] == pytest.approx(1500)
    assert (first["extra_places"], first["extra_lower"], first["extra_upper"]) == pytest.approx((500, 200, 875))
    assert not (first["extra_clipped"] or first["extra_lower_clipped"] or first["extra_upper_clipped"])
    assert first["annual_growth"] == pytest.approx(100 * (1.5 ** 0.2 - 1))
    assert first["growth_lower"] == pytest.approx(100 * (1.2 ** 0.2 - 1))
    assert first["status"] == "more places needed"
    met = out.iloc[1]  # 2,000 already in treatment ≥ 1,500
    assert met["extra_places"] == 0 and met["annual_growth"] == 0 and met["status"] == "target already met"
    assert met["extra_upper"] == 0  # 0.3 × 6,250 = 1,875 < 2,000
    # every one of the three was clipped at 0, and the signed shortfalls are kept
    assert met["extra_clipped"] and met["extra_lower_clipped"] and met["extra_upper_clipped"]
    assert (met["shortfall"], met["shortfall_lower"], met["shortfall_upper"]) == pytest.approx((-500, -800, -125))
    assert pd.isna(out.iloc[2]["annual_growth"]) and "not after the latest year" in out.iloc[2]["status"]
    assert pd.isna(out.iloc[3]["annual_growth"]) and out.iloc[3]["extra_places"] == 1500
    # 1,400 in treatment: 100 short at the central estimate, met at the lower limit (1,200): only that is clipped
    part = out.iloc[4]
    assert (part["extra_places"], part["extra_lower"], part["extra_upper"]) == pytest.approx((100, 0, 475))
    assert part["extra_lower_clipped"] and not part["extra_clipped"] and not part["extra_upper_clipped"]
    assert part["shortfall_lower"] == pytest.approx(-200)


def test_places_needed_refuses_a_percentage_for_a_proportion():
    df = pd.DataFrame({"t": [1.0], "p": [10.0], "target": [25.0], "years": [3]})
    with pytest.raises(ValueError, match="outside"):
        stats.places_needed(df, "t", "p", target="target", years="years")


def _cap(g, substance=tg.ALCOHOL, **where) -> pd.DataFrame:
    t = g.capacity[g.capacity["substance"] == substance]
    for k, v in where.items():
        t = t[t[k] == v]
    return t


def test_the_planner_pairs_the_cdp_with_england_of_the_same_year(notts, northants):
    """Numbers in treatment, England's met need and the comparators' are of one year, read back from the table."""
    for g in (notts, northants):
        c = _cap(g)
        assert c["time_period"].nunique() == 1
        year = c["time_period"].iloc[0]
        eng = _one(g, area_role="england", substance=tg.ALCOHOL, measure="met need", time_period=year)
        targets = c[c["target_kind"] != ""]
        assert (targets["england_period"] == year).all()
        assert targets["england_met_need"].to_numpy() == pytest.approx([eng["value"]] * len(targets))
        england = targets[(targets["target_kind"] == "england") & (targets["measure"] == tg.M_EXTRA)].iloc[0]
        assert england["target_met_need"] == pytest.approx(eng["value"]) and year in england["target_name"]
        now = c[c["measure"] == tg.M_NOW].iloc[0]
        treated = _one(g, area_role="cdp", substance=tg.ALCOHOL, measure="in treatment", time_period=year)
        assert now["value"] == treated["value"]
        # the comparators' upper quartile of the same year
        comp = _rows(g, area_role="neighbour", substance=tg.ALCOHOL, measure="met need", time_period=year)["value"]
        uq = targets[targets["target_kind"] == "comparators"]["target_met_need"].iloc[0]
        assert uq == pytest.approx(comp.quantile(0.75))


def test_need_is_carried_forward_by_the_adult_population_and_held(notts):
    from cdp_analysis.areas import current_population
    from cdp_analysis.data import ons_population

    need = _cap(notts, measure=tg.M_NEED).iloc[0]
    published = _one(notts, area_role="cdp", substance=tg.ALCOHOL, measure="estimated need",
                     time_period=need["time_period"])
    latest = max(ons_population.available_years())
    assert (need["need_carried_from"], need["need_carried_to"]) == ("mid-2016", f"mid-{latest}")  # 2015/16–2017/18
    pop = current_population.current_areas([2016, latest])
    adults = pop[(pop["code"] == "E10000024") & (pop["sex"] == "persons") & (pop["age"] >= 18)]
    ratio = adults[adults["year"] == latest]["population"].sum() / adults[adults["year"] == 2016]["population"].sum()
    assert need["value"] == pytest.approx(published["value"] * ratio)
    assert (need["lower_ci"], need["upper_ci"]) == pytest.approx((published["lower_ci"] * ratio,
                                                                   published["upper_ci"] * ratio))
    assert need["population_change"] == pytest.approx(100 * (ratio - 1))
    assert "then held to the target year" in need["value_note"]
    at = _cap(notts, measure=tg.M_AT)
    assert at["value"].to_numpy() == pytest.approx(at["target_met_need"].to_numpy() / 100 * need["value"])
    assert "carried forward by the change in residents aged 18+ from mid-2016" in tg.summary_text(notts)


def test_one_row_per_target_never_two_identical(notts, northants, barnet):
    for g in (notts, northants, barnet):
        extra = g.capacity[g.capacity["measure"] == tg.M_EXTRA]
        for _, d in extra[extra["target_kind"] != ""].groupby("substance"):
            assert d["target_met_need"].is_unique and d["target_kind"].is_unique
            assert (d["planning_target"] == "yes").sum() == 1
        assert not g.capacity.duplicated(["indicator_id", "time_period"]).any()
    # a parameter target equal to England's met need of the year is one row, naming both
    year = _cap(notts, measure=tg.M_NOW)["time_period"].iloc[0]
    eng = _one(notts, area_role="england", substance=tg.ALCOHOL, measure="met need", time_period=year)["value"]
    g = tg.build(partnerships.get("nottinghamshire"), tg.Settings(target_met_need=eng))
    extra = _cap(g, measure=tg.M_EXTRA)
    assert len(extra) == 2 and extra["target_met_need"].is_unique
    twin = extra[np.isclose(extra["target_met_need"], eng)].iloc[0]
    assert twin["planning_target"] == "yes" and "also the target set in the parameters" in twin["target_name"]


def test_a_target_already_met_moves_to_the_next_benchmark_and_says_so(notts):
    """Nottinghamshire's met need in 2018/19 (18.7%) is above England's of the same year (17.6%): the planning
    target is the comparators' upper quartile of that year, and the sentence says why."""
    extra = _cap(notts, measure=tg.M_EXTRA).set_index("target_kind")
    assert extra.loc["england", "planning_target"] == "no" and extra.loc["comparators", "planning_target"] == "yes"
    now = _one(notts, area_role="cdp", substance=tg.ALCOHOL, measure="met need", time_period="2018/19")
    assert now["value"] >= extra.loc["england", "target_met_need"]
    assert extra.loc["comparators", "target_met_need"] > now["value"]
    assert "already meets England's of the same year" in extra.loc["comparators", "target_basis"]
    text = tg.summary_text(notts)
    assert "The target is the upper quartile of met need among the ONS statistical nearest neighbours" in text
    assert "already meets England's of the same year" in text
    # 'england' as the setting keeps England's met need as the target, already met
    g = tg.build(partnerships.get("nottinghamshire"), tg.Settings(target_benchmark="england"))
    e = _cap(g, measure=tg.M_EXTRA).set_index("target_kind").loc["england"]
    assert e["planning_target"] == "yes" and e["value"] == 0


def test_a_limit_clipped_at_zero_says_so(notts):
    extra = _cap(notts, measure=tg.M_EXTRA).set_index("target_kind")
    england, comp = extra.loc["england"], extra.loc["comparators"]
    assert england["value"] == 0 and england["lower_ci"] == 0 and england["upper_ci"] > 0
    assert england["value_note"].startswith("clipped at 0: the target is already met at the central estimate")
    assert comp["value"] > 0 and comp["lower_ci"] == 0
    assert comp["value_note"].startswith("lower limit clipped at 0")
    text = tg.summary_text(notts)
    assert "the lower limit is clipped at 0: at the lower limit of need the target is already met" in text
    assert "a value clipped at 0" in text


def test_the_seed_cdps_get_sensible_plans(notts, northants):
    """Both met England's 2018/19 met need then; the plan is the comparators' upper quartile, some hundreds of
    extra people in treatment during the year, growing by less than 5% a year, with wide ranges."""
    for g, treated in ((notts, 1569), (northants, 1279)):
        c = _cap(g)
        now = c[c["measure"] == tg.M_NOW].iloc[0]
        assert now["value"] == pytest.approx(treated) and now["time_period"] == "2018/19"
        need = c[c["measure"] == tg.M_NEED].iloc[0]
        plan = c[(c["planning_target"] == "yes")].set_index("measure")
        extra, growth = plan.loc[tg.M_EXTRA], plan.loc[tg.M_GROWTH]
        assert 0 < extra["value"] < 0.1 * need["value"] and extra["lower_ci"] == 0 < extra["upper_ci"]
        assert 0 < growth["value"] < 5 and growth["growth_years"] == 11
        assert 0 < need["population_change"] < 20
    # Northamptonshire met England's rate in 2018/19, yet need carried forward (adults +12%) needs more people
    e = _cap(northants, measure=tg.M_EXTRA, target_kind="england").iloc[0]
    assert e["value"] > 0 and e["met_need"] > e["target_met_need"]
    assert "still needs about" in tg.summary_text(northants)


def test_every_substance_group_is_planned_or_says_why(notts):
    c = notts.capacity
    ocu = c[c["substance"] == tg.OCU]
    assert len(ocu) == 1 and pd.isna(ocu["value"].iloc[0]) and "no estimate of need" in ocu["value_note"].iloc[0]
    non = c[c["substance"] == tg.NON_OPIATES]
    assert len(non) == 1 and pd.isna(non["value"].iloc[0])
    assert "no published estimate of need for non-opiate drug use" in non["value_note"].iloc[0]
    text = tg.summary_text(notts)
    assert "plans nothing for opiates and/or crack" in text and "Non-opiates: the capacity planner plans nothing" in text
    # measure names say what is counted
    assert set(c["measure"]) <= set(tg.CAPACITY_MEASURES) and not c["measure"].str.contains("place").any()


def test_opiates_and_crack_are_planned_where_a_pair_is_held():
    g = tg.build(partnerships.get("E06000001"))  # Hartlepool: Fingertips 93517 for 2020/21
    c = _cap(g, tg.OCU)
    now = c[c["measure"] == tg.M_NOW].iloc[0]
    pub = _one(g, area_role="cdp", substance=tg.OCU, measure="in treatment", time_period="2020/21")
    assert now["value"] == pytest.approx(pub["value"]) and now["age_group"] == "15-64"
    eng = c[(c["target_kind"] == "england") & (c["measure"] == tg.M_EXTRA)].iloc[0]
    assert eng["england_period"] == "2020/21" and eng["need_edition"] == tg.PRE_REVISION
    assert "residents aged 15-64" in tg.summary_text(g)


def test_capacity_with_a_target_from_the_parameters(notts):
    cdp = partnerships.get("nottinghamshire")
    g = tg.build(cdp, tg.Settings(target_met_need=25.0, target_year=2030))
    c = _cap(g, target_kind="parameter").set_index("measure")
    need = _cap(g, measure=tg.M_NEED).iloc[0]
    assert c.loc[tg.M_EXTRA, "value"] == pytest.approx(0.25 * need["value"] - 1569)
    assert c.loc[tg.M_EXTRA, "upper_ci"] == pytest.approx(0.25 * need["upper_ci"] - 1569)
    assert c.loc[tg.M_EXTRA, "planning_target"] == "yes"
    years = 2030 - 2019
    assert c.loc[tg.M_GROWTH, "value"] == pytest.approx(100 * ((0.25 * need["value"] / 1569) ** (1 / years) - 1))
    text = tg.summary_text(g)
    assert "The target is the target set in the parameters, 25.0%" in text and "by 2029/30" in text


# --- the funnel plot and the one verdict rule ----------------------------------------------------------------


def test_the_funnel_allows_for_modelled_need_and_follows_the_tables_verdict(notts, northants):
    """Limits widened for overdispersion; every area's marker is the table's verdict (own 95% limits against
    England's value of the year), recomputed here; Nottinghamshire was outside the Wilson 95% limits ('High
    (0.025)') and is inside the widened ones, 'Similar' in both the table and the figure."""
    pts, f = notts.funnel_points, notts.funnel_summary
    assert f["phi"] > 1 and f["tau2"] > 0 and f["outside_998"] < f["outside_998_unadjusted"]
    assert f["outside_998_unadjusted"] > f["areas"] / 2 and f["outside_998"] <= 0.05 * f["areas"]
    assert notts.funnel_limits["method"].iloc[0].startswith("arcsine, overdispersion-adjusted")
    notts_point = pts[pts["code"] == "E10000024"].iloc[0]
    assert notts_point["funnel_position_unadjusted"] == "High (0.025)"
    assert notts_point["funnel_position"] == "Not significant"
    row = _one(notts, area_role="cdp", substance=tg.ALCOHOL, measure="unmet need", time_period=f["year"])
    assert notts_point["verdict"] == row["compared_to_england"] == f["cdp_verdict"] == "Similar"
    # every neighbour's marker is its row's compared_to_england in the table
    table = _rows(notts, area_role="neighbour", substance=tg.ALCOHOL, measure="unmet need", time_period=f["year"])
    marks = pts.set_index("code")["verdict"]
    assert (table["compared_to_england"].to_numpy() == table["area_code"].map(marks).to_numpy()).all()
    # the rule by hand: own 95% limits against England's met need of the year
    eng = f["england"]
    by_hand = pts.apply(lambda r: "Better" if r["met_lower"] > eng else "Worse" if r["met_upper"] < eng else "Similar",
                        axis=1)
    assert (by_hand[pts["met_lower"].notna()] == pts.loc[pts["met_lower"].notna(), "verdict"]).all()
    assert f["differ"] == sum(v != {"High (0.025)": "Better", "High (0.001)": "Better", "Low (0.025)": "Worse",
                                    "Low (0.001)": "Worse"}.get(p, "Similar")
                              for v, p in zip(pts["verdict"], pts["funnel_position"]))
    assert set(northants.funnel_summary["cdp_position"]) == {"Not significant"}
    notes = tg.notes_text(notts)
    assert f"φ = {f['phi']:.1f}" in notes and f"for {f['differ']} of {f['compared']} areas" in notes
    assert "Nottinghamshire lies inside the 95% limits" in tg.summary_text(notts)


# --- editions of the opiate/crack estimates -------------------------------------------------------------------


def test_the_bundled_93517_rows_are_of_the_pre_revision_edition():
    rows = tg.fingertips_rows(tg.Settings())
    ocu = rows[rows["substance"] == tg.OCU]
    assert set(ocu["need_edition"]) == {tg.PRE_REVISION}  # England's 2019/20 need 305,118 against 341,032 revised
    assert set(rows.loc[rows["substance"] == tg.ALCOHOL, "need_edition"]) == {""}


def test_a_revised_area_row_is_not_compared_with_a_pre_revision_england_row(tmp_path):
    """An analyst's 93517 export on OHID's revised estimates (its England 2019/20 need is the revised 341,032) gives
    Hartlepool's 2020/21 row; England's 2020/21 row is the bundled one, before the revision: the two are never
    compared, and the row says why; the planner takes no England benchmark of another edition."""
    from pathlib import Path

    raw = Path(__file__).resolve().parent.parent / "data/raw/fingertips/indicator_93517_ocu_not_in_treatment_sample.csv"
    t = pd.read_csv(raw, dtype=str, keep_default_na=False)
    keep = ((t["Area Code"] == "E92000001") & (t["Time period"] == "2019/20")) | (
        (t["Area Code"] == "E06000001") & (t["Time period"] == "2020/21"))
    t = t[keep].copy()
    eng = t["Area Code"] == "E92000001"
    t.loc[eng, ["Count", "Denominator"]] = ["170516", "341032"]
    t.loc[eng, ["Value", "Lower CI 95.0 limit", "Upper CI 95.0 limit"]] = ["50", "49", "51"]
    path = tmp_path / "indicator_93517_revised.csv"
    t.to_csv(path, index=False)
    g = tg.build(partnerships.get("E06000001"), tg.Settings(fingertips=[str(path)]))
    unmet = _one(g, area_role="cdp", substance=tg.OCU, measure="unmet need", time_period="2020/21")
    assert unmet["need_edition"] == tg.REVISED
    assert _one(g, area_role="england", substance=tg.OCU, measure="unmet need",
                time_period="2020/21")["need_edition"] == tg.PRE_REVISION
    assert unmet["compared_to_england"] == "Not compared"
    assert "another edition of OHID's opiate/crack estimates" in unmet["value_note"]
    # the same year's England row on the revised edition (2019/20) stays comparable
    same = _one(g, area_role="england", substance=tg.OCU, measure="unmet need", time_period="2019/20")
    assert same["need_edition"] == tg.REVISED
    c = _cap(g, tg.OCU)
    assert c["need_edition"].iloc[0] == tg.REVISED
    assert (c.loc[c["target_kind"] == "england", "england_period"] == "2019/20").all()  # nearest year, said so
    assert c.loc[c["measure"] == tg.M_EXTRA, "value_note"].str.contains("is not held: England's of 2019/20").any()


# --- parameters ------------------------------------------------------------------------------------------


def test_a_viewit_export_of_another_area_is_refused(tmp_path):
    cdp = partnerships.get("nottinghamshire")
    with pytest.raises(InputError) as exc:
        tg.build(cdp, tg.Settings(viewit=[BARNET_VIEWIT]))
    msg = exc.value.message
    assert "area 'Barnet' is not a member of Nottinghamshire" in msg and "row 2, column 'Area'" in msg


def test_an_unknown_target_benchmark_names_file_key_and_the_choices(tmp_path):
    from cdp_analysis.areas import params

    path = tmp_path / "case.yaml"
    path.write_text("name: Case\nmembers: [E10000024]\ntreatment_gap:\n  target_benchmark: england-or-better\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as exc:
        params.load_cdp_file(path, partnerships.defaults())
    msg = exc.value.message
    assert msg.startswith(f"{path}: key 'target_benchmark' (in section 'treatment_gap'): input should be "
                          "'england-unless-met', 'england' or 'comparators-upper-quartile' (got 'england-or-better')")
    assert "-> 'target_benchmark' should be the capacity planner's target" in msg


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


def test_a_cdp_without_an_alcohol_estimate_of_its_own_still_builds_chapters_2_and_3():
    """The Isles of Scilly: OHID publishes no alcohol dependence estimate and SDG 3.5.1 no met need for it; the
    capacity planner still writes its rows (saying why nothing can be planned) on the CDP's own area columns, and
    the prevalence notes say no estimate is published instead of an empty list."""
    from cdp_analysis.chapters import prevalence, treatment_gap

    cdp = partnerships.get("isles-of-scilly")
    g = treatment_gap.build(cdp, treatment_gap.Settings())
    cap = g.capacity
    assert len(cap) and set(cap["area_code"]) == {"E06000053"} and cap["value"].isna().all()
    assert {"met_need", "england_met_need"} <= set(cap.columns)
    notes = prevalence.notes_text(prevalence.build(cdp, prevalence.Settings()))
    assert "OHID publishes no estimate for Isles of Scilly." in notes and "built: ." not in notes


def test_the_kept_gap_table_is_made_again_when_the_partnerships_own_export_changes(tmp_path, monkeypatch):
    """gap_table keeps its last table for the trends chapter; an export edited between two runs in one kernel (its
    size or time of change) makes it again, as does other settings."""
    import os
    import shutil

    from cdp_analysis.chapters.treatment_gap import compute

    cdp = partnerships.get("barnet")
    export = tmp_path / "viewit.csv"
    shutil.copy(cdp.chapter_settings(tg.NAME).files("viewit")[0], export)
    settings = cdp.chapter_settings(tg.NAME).model_copy(update={"viewit": [str(export)]})
    made = []
    real = compute.area_pairs
    monkeypatch.setattr(compute, "area_pairs", lambda *args: made.append(1) or real(*args))
    first = compute.gap_table(cdp, settings)
    assert compute.gap_table(cdp, settings).equals(first) and len(made) == 1
    stamp = export.stat().st_mtime_ns + 10**9
    os.utime(export, ns=(stamp, stamp))
    compute.gap_table(cdp, settings)
    assert len(made) == 2
    compute.gap_table(cdp, tg.Settings())
    assert len(made) == 3
