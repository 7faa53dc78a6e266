"""The check that a CDP's outputs agree with themselves (issue 26): each contradiction the board member's reading
found is planted in a copy of a real run's outputs and must fail the check; the real runs pass it."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest
from conftest import one_chapter

from cdp_analysis.chapters import registry
from cdp_analysis.output import consistency

RESTATES = [r for c in registry.all_chapters().values() for r in c.restates]


@pytest.fixture
def copy_of(runs, tmp_path):
    """A fresh copy of a seed CDP's output folder from the session's real runs."""
    root = runs[0]

    def make(slug: str):
        dst = tmp_path / slug
        shutil.copytree(root / "a" / slug, dst)
        return dst
    return make


def _edit(folder, table: str, edit) -> None:
    path = folder / "tables" / f"{table}.csv"
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(t)
    t.to_csv(path, index=False)


def _fails(folder, *words: str) -> str:
    with pytest.raises(consistency.InconsistentOutputs) as err:
        consistency.check(folder, RESTATES)
    text = str(err.value)
    for w in words:
        assert w in text, text
    return text


@pytest.mark.slow
@pytest.mark.parametrize("slug", ["nottinghamshire", "northamptonshire"])
def test_the_seed_runs_agree_with_themselves_and_say_so_in_run_json(runs, slug):
    folder = runs[0] / "a" / slug
    assert consistency.check(folder, RESTATES)["contradictions"] == 0
    checked = json.loads((folder / "run.json").read_text(encoding="utf-8"))["consistency"]
    assert checked["restatements"] == len(RESTATES) and checked["tables"] >= 15 and checked["contradictions"] == 0


@pytest.mark.slow
def test_a_dashboard_value_that_differs_from_its_chapter_fails(copy_of):
    folder = copy_of("nottinghamshire")

    def edit(t):
        i = t.index[(t["metric_id"] == "treatment.alcohol_met_need") & (t["area_role"] == "england")][0]
        t.at[i, "value"] = str(float(t.at[i, "value"]) + 0.4)  # England's benchmark told a second way
    _edit(folder, "outcomes", edit)
    _fails(folder, "treatment.alcohol_met_need", "outcomes.csv says", "treatment_gap.csv says")


@pytest.mark.slow
def test_the_planner_with_another_england_benchmark_fails(copy_of):
    folder = copy_of("nottinghamshire")

    def edit(t):
        t.loc[t["england_met_need"] != "", "england_met_need"] = "18.1"
    _edit(folder, "treatment_capacity", edit)
    _fails(folder, "England's alcohol met need (capacity planner)")


@pytest.mark.slow
def test_not_in_the_data_for_a_figure_a_chapter_computed_fails(copy_of):
    """Northamptonshire's dashboard once said drug-misuse deaths were not in the data while chapter 4 computed the
    partnership's standardised ratio: its row now says 'members only' with the ratio; planting the old words fails."""
    folder = copy_of("northamptonshire")
    t = pd.read_csv(folder / "tables" / "outcomes.csv", dtype=str, keep_default_na=False)
    row = t[(t["metric_id"] == "deaths.drug_misuse") & (t["area_role"] == "cdp") & (t["value"] == "")]
    assert set(row["status"]) == {"members only"} and row["value_note"].str.contains("indirectly standardised").all()

    def edit(t):
        t.loc[(t["metric_id"] == "deaths.drug_misuse") & (t["status"] == "members only"), "status"] = "not supplied"
    _edit(folder, "outcomes", edit)
    _fails(folder, "deaths.drug_misuse", "has no value for the partnership", "drug_deaths_standardised.csv")


@pytest.mark.slow
def test_a_sentence_with_an_empty_value_fails(copy_of):
    folder = copy_of("nottinghamshire")
    page = folder / "summary.html"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", "<p>Alcohol-specific mortality in Nottinghamshire, 2016-18: .</p></body>"), encoding="utf-8")
    _fails(folder, "summary.html", "a colon followed by nothing")


@pytest.mark.slow
def test_two_values_for_one_row_of_a_table_fails(copy_of):
    folder = copy_of("nottinghamshire")

    def edit(t):
        extra = t.iloc[[0]].copy()
        extra["value"] = str(float(extra["value"].iloc[0]) * 2)
        t.loc[len(t)] = extra.iloc[0]
    _edit(folder, "drug_deaths_standardised", edit)
    _fails(folder, "drug_deaths_standardised.csv has two values")


@pytest.mark.parametrize("line, bad", [
    ("Alcohol-specific mortality, 2016-18: .", True), ("Source: ; OHID estimates", True), ("met need was nan% in 2019", True),
    ("England (None)", True), ("the rate was 4.8 ( – )", True), ("an empty () bracket", True),
    ("8.8 (8.0–9.7) % of adults", False), ("England: 5.1 per 100,000.", False), ("Nancy Astor", False)])
def test_empty_value_patterns(line, bad):
    assert bool(consistency.empty_values("page", line)) is bad


def test_a_run_whose_outputs_contradict_fails_and_publishes_nothing(project):
    """The runner checks before the swap: a chapter that restates a figure differently fails the run, which
    publishes nothing (the earlier outputs stay byte for byte) and says why."""
    from dataclasses import replace

    from cdp_analysis import runner
    from cdp_analysis.chapters import partnerships

    one_chapter(project)
    cdp = partnerships.get("nottinghamshire")
    first = runner.run_many([cdp], outputs_root=project / "outputs")
    assert first[0].status == "succeeded"
    out = project / "outputs" / "nottinghamshire"
    before = {p.name: p.read_bytes() for p in out.glob("tables/*.csv")}
    bands = pd.read_csv(out / "tables" / "population_by_age_sex.csv", dtype=str)["age_band"].unique()
    planted = consistency.Restatement("planted: one age band said to be another", "population_by_age_sex",
                                      {"age_band": bands[0]}, "population_by_age_sex", {"age_band": bands[1]})
    chapter = cdp.chapters()[0]
    bad = replace(cdp, chapter_list=(replace(chapter, restates=(planted,)),))
    second = runner.run_many([bad], outputs_root=project / "outputs", force=True)
    assert second[0].status == "failed" and "contradict" in second[0].message and "planted" in second[0].message
    assert {p.name: p.read_bytes() for p in out.glob("tables/*.csv")} == before
