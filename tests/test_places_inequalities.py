"""Chapter 5, places and inequalities: the places' published deaths and flags read straight from ONS's workbook,
the places' deprivation against MHCLG's own summaries, the slope and relative index of inequality reproduced by
hand and equal to the statistics core's, the tenths of deprivation, a merged district, and the three bad inputs
(a code that maps to no current area, a deprivation file missing a district, a rate where ONS's marker says none)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import REPO, run_cli

from cdp_analysis import clear_caches, stats
from cdp_analysis.chapters import partnerships
from cdp_analysis.chapters import places as chapter
from cdp_analysis.chapters.places import compute, gradient
from cdp_analysis.data import ons_drug_deaths, register
from cdp_analysis.errors import InputError

SHARED = REPO.parent / "shared" / "data"
PERIOD = "2019-21"


@pytest.fixture(scope="module")
def notts():
    return chapter.build(partnerships.get("nottinghamshire"), chapter.Settings())


def _workbook_cells(sheet: str, code: str) -> tuple:
    """(deaths, rate, flag, lower, upper) of ``code`` for 2019-21 in one pooled table, read with openpyxl."""
    wb = openpyxl.load_workbook(register.file_of_kind(ons_drug_deaths.WORKBOOK.kind), read_only=True)
    rows = list(wb[sheet].iter_rows(values_only=True))
    head = next(r for r in rows if r[0] == "Area Codes")  # the period headings: '2019–21', '2018–20', …
    col = next(c for c, v in enumerate(head) if v and str(v).startswith(PERIOD[:4]))
    row = next(r for r in rows if r[0] == code)
    return tuple(row[col:col + 5])


def _row(t: pd.DataFrame, **where) -> pd.Series:
    for k, v in where.items():
        t = t[t[k] == v]
    assert len(t) == 1, where
    return t.iloc[0]


def test_published_deaths_and_rates_are_as_in_the_workbook(notts):
    # Mansfield, drug poisoning (Table 3): a published rate
    deaths, rate, flag, lo, hi = _workbook_cells("Table 3", "E07000174")
    r = _row(notts.places, area_code="E07000174", cause="drug poisoning", measure=compute.ASMR)
    assert (r["count"], r["value"], r["lower_ci"], r["upper_ci"]) == (deaths, rate, lo, hi) == (39, 12.9, 9.2, 17.7)
    assert r["reliability_flag"] == "" and not flag
    # Mansfield, drug misuse (Table 6): flagged 'u'
    deaths, rate, flag, lo, hi = _workbook_cells("Table 6", "E07000174")
    r = _row(notts.places, area_code="E07000174", cause="drug misuse", measure=compute.ASMR)
    assert str(flag).lower() == "u" and r["reliability_flag"] == "u" and r["value"] == rate and r["count"] == deaths
    assert r["value_note"] == "rate unreliable: 10 to 19 deaths"
    # Newark and Sherwood, drug misuse: ':' (no rate published) kept as no value with ONS's reason
    deaths, rate, flag, lo, hi = _workbook_cells("Table 6", "E07000175")
    r = _row(notts.places, area_code="E07000175", cause="drug misuse", measure=compute.ASMR)
    assert rate == ":" and np.isnan(r["value"]) and r["reliability_flag"] == ":" and r["count"] == deaths == 8
    assert r["value_note"] == "fewer than 10 deaths: no rate published"


def test_every_place_is_compared_on_its_ratio_with_england_and_the_partnership(notts):
    ratios = notts.places[(notts.places["measure"] == compute.RATIO) & (notts.places["area_role"] == "place")]
    assert len(ratios) == 14 and ratios["value"].notna().all()
    assert set(ratios["compared_to_england"]) <= {"Better", "Similar", "Worse"}
    mansfield = _row(ratios, area_code="E07000174", cause="drug poisoning")
    assert mansfield["compared_to_england"] == "Worse" and mansfield["lower_ci"] > 1
    # against the rest of the partnership: the other six districts' deaths over their expected deaths
    cdp = _row(notts.places, area_role="cdp", cause="drug poisoning", measure=compute.RATIO)
    rest = (cdp["count"] - mansfield["count"]) / (cdp["denominator"] - mansfield["denominator"])
    assert mansfield["rest_of_cdp"] == pytest.approx(rest) and mansfield["lower_ci"] > rest
    assert mansfield["compared_to_rest_of_cdp"] == "Worse"
    assert _row(notts.places, area_role="cdp", cause="drug poisoning", measure=compute.RATIO)[
        "compared_to_england"] == "Better"
    # the sentence names the place, the period and the limits read from the table
    text = chapter.summary_text(notts)
    m = mansfield
    assert (f"in 2019-21 were higher in Mansfield ({m['value']:.2f} ({m['lower_ci']:.2f}–{m['upper_ci']:.2f}); "
            f"{m['count']:.0f} deaths)") in text


def test_a_ratio_reproduced_by_hand():
    """Mansfield's drug-misuse ratio: observed over Σ population by age × England's rate in that band."""
    a = gradient.area_deaths()
    m = _row(a, code="E07000174", cause="drug misuse")
    from cdp_analysis.data import ons_drug_deaths_national, ons_population
    nat = ons_drug_deaths_national.england_by_age()
    nat = nat[(nat["sex"] == "Persons") & (nat["cause"] == "drug misuse") & nat["year"].isin([2019, 2020, 2021])
              & (nat["age_group"] != "All ages")]
    pop = ons_population.estimates()
    pop = pop[(pop["year"] == 2020) & (pop["sex"] == "persons")]
    expected = 0.0
    for b in nat.drop_duplicates("age_group").itertuples():
        in_band = pop["age"].between(b.age_from, b.age_to)
        d = nat.loc[nat["age_group"] == b.age_group, "deaths"].sum()
        expected += (pop.loc[in_band & (pop["code"] == "E07000174"), "population"].sum() * d
                     / pop.loc[in_band & (pop["code"] == "E92000001"), "population"].sum())
    assert m["observed"] == 18 and m["expected"] == pytest.approx(expected, rel=1e-12)
    assert m["ratio"] == pytest.approx(18 / expected, rel=1e-12)


def test_deprivation_of_the_places_is_as_mhclg_publishes():
    t = chapter.build(partnerships.get("nottinghamshire"), chapter.Settings()).places
    with open(SHARED / "imd2019" / "IoD2019_LAD19_summaries_all_domains.csv", encoding="utf-8-sig") as f:
        rows = {r["lad19cd"]: r for r in csv.DictReader(f) if r["index_domain"] == "Index of Multiple Deprivation"}
    share_col = "proportion_bottom_decile"  # MHCLG's share of small areas in the most deprived 10% (4 decimals)
    for code in ("E07000174", "E07000176"):  # Mansfield, Rushcliffe
        ours = _row(t, area_code=code, measure=compute.SHARE_10)["value"]
        assert ours == pytest.approx(100 * float(rows[code][share_col]), abs=0.006)
    with open(next((SHARED / "imd2025").glob("*.csv")), encoding="utf-8") as f:
        imd = {r["area_code"]: r for r in csv.DictReader(f) if r["index_domain"] == "Index of Multiple Deprivation"}
    r = _row(t, area_code="E07000174", measure=compute.IMD_SCORE)
    assert r["value"] == float(imd["E07000174"]["average_score"]) and r["time_period"] == "2025"
    rank = t[(t["area_code"] == "E07000174") & t["measure"].str.startswith(compute.IMD_RANK)].iloc[0]
    assert rank["value"] == float(imd["E07000174"]["rank_average_score"]) and rank["measure"].endswith("(of 296)")


def test_tenths_hold_equal_numbers_of_areas_ranked_by_deprivation():
    a = gradient.area_deaths().drop_duplicates("code")
    assert len(a) == 296 and a["observed"].notna().all() and a["expected"].gt(0).all()
    sizes = a.groupby("tenth").size()
    assert list(sizes.index) == list(range(1, 11)) and set(sizes) <= {29, 30}
    assert a.loc[a["imd_rank"] == 1, "tenth"].iloc[0] == 1 and a.loc[a["imd_rank"] == 296, "tenth"].iloc[0] == 10
    assert a.groupby("tenth")["imd_rank"].max().is_monotonic_increasing


def test_sii_is_the_statistics_core_and_reproduced_by_hand(notts):
    g = notts.gradient
    tenths = g[(g["cause"] == compute.DRUG_MISUSE) & (g["measure"] == compute.TENTH_RATE)].copy()
    tenths["k"] = tenths["category"].str.extract(r"^(\d+)")[0].astype(int)
    tenths = tenths.sort_values("k")
    # by hand: population shares a, mid-point ranks b, least squares of y√a on (√a, b√a)
    a = (tenths["denominator"] / tenths["denominator"].sum()).to_numpy()
    b = np.cumsum(a) - a / 2
    y = tenths["value"].to_numpy()
    X = np.column_stack([np.sqrt(a), b * np.sqrt(a)])
    beta0, beta1 = np.linalg.lstsq(X, y * np.sqrt(a), rcond=None)[0]
    sii = _row(g, cause=compute.DRUG_MISUSE, measure=compute.SII)
    rii = _row(g, cause=compute.DRUG_MISUSE, measure=compute.RII)
    assert sii["value"] == pytest.approx(-beta1, rel=1e-9)  # most deprived end minus least deprived end
    assert rii["value"] == pytest.approx(beta0 / (beta0 + beta1), rel=1e-9)
    # the same call of the statistics core gives the same limits (seeded simulation)
    core = stats.sii(tenths.assign(tenth=tenths["k"], population=tenths["denominator"], lowercl=tenths["lower_ci"],
                                   uppercl=tenths["upper_ci"]), "tenth", "population", value="value",
                     value_type="rate", lower="lowercl", upper="uppercl", multiplier=-1, reps=100_000,
                     seed=gradient.SEED).iloc[0]
    assert (sii["lower_ci"], sii["upper_ci"]) == pytest.approx((core["sii_lower95_0cl"], core["sii_upper95_0cl"]))
    assert sii["lower_ci"] > 0  # deaths related to drug misuse are higher at the more deprived end
    # alcohol: Fingertips' own decile rows, as published
    alc = g[(g["cause"] == compute.ALCOHOL) & (g["measure"] == compute.TENTH_RATE)]
    assert len(alc) == 10 and alc["time_period"].iloc[0] == "2016-18"
    assert _row(alc, category="1 (most deprived)")["value"] == pytest.approx(16.112338, abs=1e-6)


def test_a_merged_district_is_mapped_to_its_current_area_and_said_so():
    r = chapter.build(partnerships.get("cumberland"), chapter.Settings())
    deaths = _row(r.places, area_role="cdp", cause="drug misuse", measure=compute.DEATHS)
    parts = [_workbook_cells("Table 6", c)[0] for c in ("E07000026", "E07000028", "E07000029")]  # Allerdale …
    assert deaths["value"] == sum(parts) and deaths["geography_basis"] == "sum of predecessor areas (exact)"
    rate = _row(r.places, area_role="cdp", cause="drug misuse", measure=compute.ASMR)
    assert np.isnan(rate["value"]) and "ONS published this period for the areas it replaced" in rate["value_note"]
    assert "Cumberland did not exist when ONS published 2019-21" in chapter.notes_text(r)
    assert "Allerdale" in chapter.notes_text(r)


def test_a_single_unitary_says_there_is_no_district_breakdown():
    r = chapter.build(partnerships.get("barnet"), chapter.Settings())
    assert not r.has_places and set(r.places["area_role"]) == {"cdp", "england"}
    text = chapter.summary_text(r)
    assert "Barnet is one area with no districts below it today" in text
    # its own comparison with England is still stated, with the period and limits read from the table
    x = _row(r.places, area_role="cdp", cause="drug misuse", measure=compute.RATIO)
    assert x["compared_to_england"] == "Better" and "deaths related to drug misuse in 2019-21 were lower in Barnet (" in text


# --- bad input ---------------------------------------------------------------------------------------------------


def _edit_workbook(project: Path, edit) -> Path:
    path = next((project / "data" / "raw" / "ons_drug_deaths").glob("*localauthorities*.xlsx"))
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    clear_caches()
    return path


def test_a_district_code_that_maps_to_no_current_area_is_refused(project):
    def edit(wb):
        for sheet in ("Table 1", "Table 2", *ons_drug_deaths.POOLED):
            ws = wb[sheet]
            for row in ws.iter_rows(min_col=1, max_col=1):
                if row[0].value == "E07000174":
                    row[0].value = "E07999999"
    _edit_workbook(project, edit)
    with pytest.raises(InputError) as exc:
        gradient.area_deaths()
    msg = exc.value.message
    assert "the area code 'E07999999' maps to no current district or unitary" in msg
    assert "localauthorities.xlsx" in msg and "sheet 'Table 3', row" in msg and "column 'A'" in msg


def test_a_deprivation_file_missing_a_district_is_refused(project):
    path = next((project / "data" / "raw" / "imd2025").glob("*.csv"))
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not line.startswith("E07000174,")), encoding="utf-8")
    clear_caches()
    with pytest.raises(InputError) as exc:
        gradient.area_deaths()
    msg = exc.value.message
    assert "the deprivation file has no row for E07000174 (Mansfield)" in msg and path.name in msg
    assert "column 'area_code'" in msg


def test_a_rate_where_ons_marks_none_published_is_refused(project):
    def edit(wb):
        ws = wb["Table 6"]
        row = next(r for r in range(1, 500) if ws.cell(r, 1).value == "E07000175")  # Newark and Sherwood: ':'
        col = next(c for c in range(1, ws.max_column + 1) if ws.cell(row, c).value == ":")
        ws.cell(row, col).value = 2.2  # a rate typed in, the flag column then saying none is published
        ws.cell(row, col + 1).value = ":"
        ws.cell(row, col + 2).value, ws.cell(row, col + 3).value = 1.0, 4.0
    _edit_workbook(project, edit)
    with pytest.raises(InputError) as exc:
        ons_drug_deaths.pooled()
    msg = exc.value.message
    assert "no rate where ONS's marker says none is published (':')" in msg and "sheet 'Table 6'" in msg


# --- end to end ---------------------------------------------------------------------------------------------------


def test_a_county_and_a_two_unitary_cdp_write_the_chapter(runs):
    out, first, _, _ = runs
    notts = pd.read_csv(out / "a" / "nottinghamshire" / "tables" / "places.csv")
    assert set(notts.loc[notts["area_role"] == "place", "area_name"]) >= {"Mansfield", "Rushcliffe"}
    northants = pd.read_csv(out / "a" / "northamptonshire" / "tables" / "places.csv")
    assert set(northants.loc[northants["area_role"] == "place", "area_code"]) == {"E06000061", "E06000062"}
    for slug in ("nottinghamshire", "northamptonshire"):
        report = (out / "a" / slug / "report.html").read_text(encoding="utf-8")
        assert "Places and inequalities" in report and "slope index of inequality" in report
        assert (out / "a" / slug / "figures" / "places_funnel.svg").is_file()
    # the board's one-page summary names the place whose deaths are higher than England's, and no other
    page = (out / "a" / "nottinghamshire" / "summary.html").read_text(encoding="utf-8")
    m = notts[(notts["area_code"] == "E07000174") & (notts["measure"] == compute.RATIO)
              & (notts["cause"] == "drug poisoning")].iloc[0]
    assert m["compared_to_england"] == "Worse"  # the only place and cause higher than England
    assert ((notts["measure"] == compute.RATIO) & (notts["compared_to_england"] == "Worse")).sum() == 1
    assert ("<strong>Places:</strong> Age for age, deaths in 2019-21 were higher than England&#x27;s in Mansfield "
            f"(drug poisoning {m['value']:.2f} times, 95% limits {m['lower_ci']:.2f}–{m['upper_ci']:.2f})") in page
    assert "<strong>Places:</strong>" not in (out / "a" / "northamptonshire" / "summary.html").read_text(encoding="utf-8")


def test_a_single_unitary_runs_end_to_end(project):
    defaults = project / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8") + "\nchapters: [places]\n", encoding="utf-8")
    clear_caches()
    done = run_cli("run", "barnet", root=project)
    assert done.returncode == 0, done.stdout + done.stderr
    t = pd.read_csv(project / "outputs" / "barnet" / "tables" / "places.csv")
    assert set(t["area_role"]) == {"cdp", "england"}
    assert "no districts below it" in (project / "outputs" / "barnet" / "report.html").read_text(encoding="utf-8")
