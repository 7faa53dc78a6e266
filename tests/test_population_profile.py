"""Chapter 1 tables: tidy, consistent with the published estimates, and the narrative reads the tables."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdp_analysis.areas import current_population
from cdp_analysis.chapters import partnerships, population_profile
from cdp_analysis.data import ons_population
from cdp_analysis.output import tidy

YEARS = [2020, 2022, 2024]


@pytest.fixture(scope="module")
def notts():
    return population_profile.build(partnerships.get("nottinghamshire"))


@pytest.fixture(scope="module")
def northants():
    return population_profile.build(partnerships.get("northamptonshire"))


def _published(code, year, lo=0, hi=90, sex="persons"):
    e = ons_population.estimates()
    return int(e[(e["code"].isin(code if isinstance(code, list) else [code])) & (e["year"] == year)
                 & (e["sex"] == sex) & e["age"].between(lo, hi)]["population"].sum())


def test_tables_are_tidy(notts, northants):
    for prof in (notts, northants):
        for name in ("pyramid", "denominators", "change", "deprivation"):
            tidy.check_tidy(getattr(prof, name), name)
        tidy.check_tidy(population_profile.neighbours_tidy(prof.neighbours, 2024), "neighbours")


def test_denominators_equal_published_sums(notts):
    assert notts.value("denominators", area_code="E10000024", year=2022, age_group="15-64",
                       measure="population") == _published("E10000024", 2022, 15, 64)
    assert notts.value("denominators", area_role="england", year=2024, age_group="18+",
                       measure="population") == _published("E92000001", 2024, 18, 90)


def test_multi_area_cdp_is_the_sum_of_its_members(northants):
    cdp = northants.value("denominators", area_role="cdp", year=2020, age_group="16-59", measure="population")
    assert cdp == _published(["E06000061", "E06000062"], 2020, 16, 59)
    members = northants.denominators.query("area_role == 'member' and time_period == 'mid-2020' and age_group == '16-59' "
                                           "and measure == 'population'")["value"]
    assert len(members) == 2 and members.sum() == cdp


def test_pyramid_shares_sum_to_100_per_area(notts):
    pct = notts.pyramid[notts.pyramid["measure"] == "percent of population"]
    assert pct.groupby("area_code")["value"].sum().tolist() == pytest.approx([100.0] * pct["area_code"].nunique())
    assert notts.pyramid_year == 2022 and set(pct["age_band"]) == set(current_population.AGE_BANDS)


def test_change_is_computed_from_the_denominators(notts):
    a = _published("E10000024", 2020)
    b = _published("E10000024", 2024)
    assert notts.value("change", area_code="E10000024", age_group="All ages", measure="change",
                       time_period="mid-2020 to mid-2024") == b - a
    assert notts.value("change", area_code="E10000024", age_group="All ages", measure="percent change",
                       time_period="mid-2020 to mid-2024") == pytest.approx(100 * (b - a) / a)


def test_summary_numbers_come_from_the_tables(notts, northants):
    text = population_profile.summary_text(notts)
    assert f"{_published('E10000024', 2024):,}" in text
    oracle = pd.read_csv(Path(__file__).parent / "reference/shared_derived/imd2019_utla_current_derived.csv")
    rank = int(oracle.set_index("utla_code").loc["E10000024", "imd_rank_of_avg_score_among_153"])
    assert f"ranked **{rank} of 153**" in text
    text = population_profile.summary_text(northants)
    assert f"{_published(['E06000061', 'E06000062'], 2024):,}" in text
    assert "North Northamptonshire" in text and "West Northamptonshire" in text


def test_multi_area_imd_is_flagged_as_an_estimate(northants):
    cdp_row = northants.deprivation[northants.deprivation["area_role"] == "cdp"]
    assert len(cdp_row) == 1 and cdp_row["geography_basis"].iloc[0].startswith("estimate")
    assert not any(northants.deprivation.query("area_role == 'cdp'")["measure"].str.contains("rank"))


def test_regions_and_england_are_comparators(notts):
    roles = notts.denominators.groupby("area_role")["area_name"].first().to_dict()
    assert roles == {"cdp": "Nottinghamshire", "region": "East Midlands", "england": "England"}


def test_single_year_of_age_matches_published(notts):
    sy = notts.single_year
    tidy.check_tidy(sy, "single_year")
    row = sy[(sy["area_role"] == "cdp") & (sy["sex"] == "Female") & (sy["age"] == "90+")]
    assert row["value"].item() == _published("E10000024", 2022, 90, 90, sex="females")
    assert sy[(sy["area_role"] == "cdp")]["value"].sum() == _published("E10000024", 2022, sex="males") + \
        _published("E10000024", 2022, sex="females") + _published("E10000024", 2022)
    assert list(dict.fromkeys(sy["age"]))[:3] == ["0", "1", "2"] and sy["age"].nunique() == 91


def test_single_year_grid_fits_a_page_and_holds_every_age_once(notts):
    """The report's view: a row per sex and decade, a column per year within it (row 30–39, column 4 = 34)."""
    grid = population_profile.single_year_output(notts).view
    assert grid.shape == (20, 10) and list(grid.columns) == [str(d) for d in range(10)]
    assert list(grid.index.get_level_values(0).unique()) == ["Males", "Females"]
    assert list(grid.loc["Males"].index) == [f"{d}–{d + 9}" for d in range(0, 90, 10)] + ["90+"]
    own = notts.single_year[notts.single_year["area_role"] == "cdp"].set_index(["sex", "age"])["value"]
    assert grid.loc[("Males", "30–39"), "4"] == own[("Male", "34")]
    assert grid.loc[("Females", "90+"), "0"] == own[("Female", "90+")] and grid.loc[("Females", "90+")].count() == 1
    assert grid.stack().sum() == own.loc[["Male", "Female"]].sum()


def test_every_row_names_its_register_entry_and_edition(notts, northants):
    """Provenance: each row's ``source`` resolves to data-register entries, with the edition recorded there."""
    from cdp_analysis.data import register

    for prof in (notts, northants):
        for item in (population_profile.pyramid_output(prof), population_profile.single_year_output(prof),
                     population_profile.denominators_output(prof), population_profile.change_output(prof),
                     population_profile.deprivation_output(prof), population_profile.neighbours_output(prof)):
            for source in item.table["source"].unique():
                entries = register.resolve_source(source)
                assert entries, f"{item.name}: {source!r}"
    # a row built from two files cites both: the change from mid-2020 to mid-2024
    change = notts.change[(notts.change["time_period"] == "mid-2020 to mid-2024")]["source"].iloc[0]
    assert {e.period for e in register.resolve_source(change)} == {"mid-2020", "mid-2024"}
    # the year of a population row is the period of the file it cites
    for row in notts.denominators.drop_duplicates("time_period").itertuples():
        (entry,) = register.resolve_source(row.source)
        assert entry.period == row.time_period


def test_periods_of_neighbours_and_imd_come_from_the_register(notts):
    from cdp_analysis.data import register

    tidy_nn = population_profile.neighbours_tidy(notts.neighbours, 2024)
    for measure in ("neighbour rank", population_profile.MEASURE_SCORE):
        rows = tidy_nn[tidy_nn["measure"] == measure]
        assert {register.resolve_source(s)[0].period for s in rows["source"]} == set(rows["time_period"])


def test_denominators_carry_period_only(notts):
    assert "year" not in notts.denominators.columns
    assert set(notts.denominators["time_period"]) == {"mid-2020", "mid-2022", "mid-2024"}


def test_figures_are_drawn_from_tables_with_sources(notts):
    import matplotlib.pyplot as plt

    for draw in population_profile.CHAPTER.figures.values():
        item = draw(notts)
        assert item.data["source"].notna().all() and len(item.data)
        assert item.figure.axes[0].get_title()
        plt.close(item.figure)


def test_notes_say_which_years_were_rebuilt_from_predecessors(notts):
    text = population_profile.notes_text(notts)
    assert "2011 Census" in text  # the register's note on the mid-2020 edition, which the tables use
    assert "Cumberland" not in text  # no area of Nottinghamshire's tables was rebuilt
    assert "published on the current boundaries" in text


def test_notes_name_areas_rebuilt_from_predecessors():
    from cdp_analysis.areas.partnerships import Partnership

    base = partnerships.get("nottinghamshire")
    cumberland = Partnership(slug="cumberland", name="Cumberland", members=("E06000063",), settings=base.settings,
                             member_names=("Cumberland",))
    prof = population_profile.build(cumberland)
    text = population_profile.notes_text(prof)
    assert "mid-2020 estimates were published before Cumberland existed" in text
    assert "sum of predecessor areas (exact)" in text
    assert "Somerset" not in text  # only this CDP's areas


def test_rank_and_decile_cite_both_imd_files(notts):
    from cdp_analysis.data import register

    rank = notts.deprivation[notts.deprivation["unit"] == "rank"]["source"].iloc[0]
    assert {e.kind for e in register.resolve_source(rank)} == {"imd2019_utla19", "imd2019_ltla23"}


def test_comparators_chosen_by_the_analyst(project):
    """A CDP's params may name its own comparator list; the chapter shows it, in order, and says which set it is."""
    import cdp_analysis
    from cdp_analysis.data import register

    (project / "params/cdps/notts-cipfa.yaml").write_text(
        "name: Nottinghamshire (CIPFA)\nmembers: [E10000024]\n"
        "comparators:\n  name: CIPFA nearest neighbours\n  areas: [E10000007, E10000019, E10000018]\n")
    cdp_analysis.clear_caches()
    prof = population_profile.build(partnerships.get("notts-cipfa"))
    assert prof.neighbours["code"].tolist() == ["E10000007", "E10000019", "E10000018"]
    assert set(prof.neighbours["comparator_set"]) == {"CIPFA nearest neighbours"}
    tidy_nn = population_profile.neighbours_tidy(prof.neighbours, prof.latest_year)
    assert "neighbour rank" not in set(tidy_nn["measure"])  # the analyst's order is not a published value
    for source in tidy_nn["source"].unique():
        assert register.resolve_source(source)
    assert "Comparator areas (CIPFA nearest neighbours" in population_profile.summary_text(prof)
    assert "CIPFA nearest neighbours" in population_profile.neighbours_output(prof).caption
    # the same list given as notebook parameters
    cdp, _ = population_profile.CHAPTER.from_parameters(
        cdp_slug="x", cdp_name="X", members=["E10000024"],
        comparators={"name": "CIPFA nearest neighbours", "areas": ["E10000007"]})
    assert cdp.settings.comparators.areas == ["E10000007"]
    assert population_profile.CHAPTER.parameters(partnerships.get("notts-cipfa"))["comparators"] == {
        "name": "CIPFA nearest neighbours", "areas": ["E10000007", "E10000019", "E10000018"]}


def test_default_comparators_are_the_ons_neighbours(notts):
    assert set(notts.neighbours["comparator_set"]) == {"ONS statistical nearest neighbours"}
    assert "neighbour rank" in set(population_profile.neighbours_tidy(notts.neighbours, 2024)["measure"])
