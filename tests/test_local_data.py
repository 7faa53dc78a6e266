"""Local data: the outcomes catalogue and the templates' validation, one test per kind of bad row."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdp_analysis.data import local_data
from cdp_analysis.errors import InputError

AREAS = {"E10000024": "Nottinghamshire", "E12000004": "East Midlands", "E92000001": "England"}
HEADER = "area_code,period,metric_id,numerator,denominator\n"


def _file(tmp_path: Path, body: str, name: str = "police.csv", header: str = HEADER) -> Path:
    p = tmp_path / name
    p.write_text(header + body, encoding="utf-8")
    return p


def _error(tmp_path: Path, body: str, **kw) -> str:
    with pytest.raises(InputError) as e:
        local_data.read_local(_file(tmp_path, body, **kw), allowed_areas=AREAS)
    return str(e.value)


def test_catalogue_has_the_six_outcomes_and_the_seeds_local_metrics():
    cat = local_data.catalogue()
    assert set(local_data.OUTCOMES[:6]) <= set(cat["outcome"])
    local = set(cat.loc[cat["origin"] == "local", "metric_id"])
    for metric in ("crime.drug_marker_incidents", "supply.trafficking_people", "crime.drug_related_acquisitive",
                   "treatment.mental_health_need_untreated", "treatment.prison_continuity",
                   "treatment.cj_referrals_mandatory", "treatment.cj_referrals_voluntary",
                   "recovery.cj_successful_completions", "harm.deaths_in_treatment",
                   "family.parents_new_presentations", "treatment.young_people", "prevention.resilience_programmes",
                   "treatment.homeless_caseload", "recovery.work_at_exit"):
        assert metric in local
    public = set(cat.loc[cat["origin"] == "public", "metric_id"])
    assert {"deaths.drug_misuse", "deaths.alcohol_specific", "treatment.alcohol_met_need",
            "prevalence.any_drug_last_year"} <= public
    assert set(cat["polarity"]) <= set(local_data.POLARITIES)


def test_every_template_has_the_documented_header_and_every_local_source_a_template():
    cat = local_data.catalogue()
    for source in set(cat.loc[cat["origin"] == "local", "source"]):
        path = local_data.templates_dir() / f"{source}.csv"
        assert path.read_text(encoding="utf-8").splitlines() == [",".join(local_data.COLUMNS)]
    readme = (local_data.templates_dir() / "README.md").read_text(encoding="utf-8")
    for metric in cat.loc[cat["origin"] == "local", "metric_id"]:
        assert f"`{metric}`" in readme, metric


def test_a_good_file_is_read(tmp_path):
    t = local_data.read_local(_file(tmp_path, "E10000024,2023/24,treatment.prison_continuity,142,310\n"
                                               "E92000001,2023/24,treatment.prison_continuity,14110,33540\n"
                                               "E10000024,2023,crime.drug_marker_incidents,\"1,498\",\n"),
                              allowed_areas=AREAS)
    assert t["numerator"].tolist() == [142, 14110, 1498]
    assert t["origin"].eq("local").all() and t["area_name"].tolist()[0] == "Nottinghamshire"


def test_a_synthetic_file_is_marked(tmp_path):
    t = local_data.read_local(_file(tmp_path, "E10000024,2023/24,treatment.young_people,164,\n",
                                    name="provider_MADE_UP.csv"), allowed_areas=AREAS)
    assert t["origin"].eq("made-up example").all() and "MADE-UP" in t["source"].iloc[0]


@pytest.mark.parametrize("body, expected", [
    ("E10000024,2023/24,crime.drugs,5,\n", "row 2, column 'metric_id': 'crime.drugs' is not a local metric"),
    ("E10000024,2023/24,deaths.drug_misuse,5,\n", "'deaths.drug_misuse' is a public metric"),
    ("E10000019,2023/24,treatment.young_people,5,\n", "area 'E10000019' is not a member of the CDP"),
    ("E10000024,2023-24,treatment.young_people,5,\n", "period '2023-24' is neither a calendar year"),
    ("E10000024,2023/25,treatment.young_people,5,\n", "period '2023/25' is neither a calendar year"),
    ("E10000024,2023,treatment.young_people,5,\nE10000024,2023/24,treatment.young_people,5,\n",
     "metric 'treatment.young_people' mixes calendar and financial years"),
    ("E10000024,2023/24,treatment.young_people,5.5,\n", "row 2, column 'numerator': '5.5' is not a whole number"),
    ("E10000024,2023/24,treatment.young_people,many,\n", "'many' is not a whole number"),
    ("E10000024,2023/24,treatment.young_people,-3,\n", "a negative count (-3)"),
    ("E10000024,2023/24,treatment.young_people,,\n", "row 2, column 'numerator': a count is missing"),
    ("E10000024,2023/24,treatment.prison_continuity,5,\n",
     "'treatment.prison_continuity' is a proportion: its denominator is missing"),
    ("E10000024,2023/24,treatment.prison_continuity,0,0\n", "a denominator is 0"),
    ("E10000024,2023/24,treatment.prison_continuity,310,142\n", "numerator 310 is larger than denominator 142"),
    ("E10000024,2023/24,treatment.young_people,5,\nE10000024,2023/24,treatment.young_people,6,\n",
     "treatment.young_people for E10000024 in 2023/24 is given twice"),
])
def test_each_kind_of_bad_row_is_named(tmp_path, body, expected):
    message = _error(tmp_path, body)
    assert expected in message
    assert "police.csv" in message


def test_header_problems(tmp_path):
    assert "missing column(s) 'denominator'" in _error(tmp_path, "E10000024,2023,treatment.young_people,5\n",
                                                       header="area_code,period,metric_id,numerator\n")
    assert "unknown column(s) 'notes'" in _error(tmp_path, "E10000024,2023,treatment.young_people,5,,x\n",
                                                 header=HEADER.strip() + ",notes\n")
    assert "a header but no rows" in _error(tmp_path, "")


def test_the_same_figure_in_two_files_is_refused(tmp_path):
    a = _file(tmp_path, "E10000024,2023/24,treatment.young_people,164,\n", name="a.csv")
    b = _file(tmp_path, "E10000024,2023/24,treatment.young_people,170,\n", name="b.csv")
    with pytest.raises(InputError, match="is also in"):
        local_data.read_all([a, b], allowed_areas=AREAS)


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(framework_source=""), "cites no framework document"),
    (lambda r: r.update(framework_source="A press story https://www.example-news.co.uk/drugs"),
     "not a publisher's own site"),
    (lambda r: r.update(level="priority"), "unknown level 'priority'"),
    (lambda r: r.update(fingertips_id="92544?"), "is not a Fingertips indicator ID"),
])
def test_a_catalogue_row_without_a_citation_or_level_is_refused(tmp_path, monkeypatch, change, message):
    import csv

    rows = list(csv.DictReader(local_data.catalogue_path().open(encoding="utf-8")))
    change(rows[3])
    path = tmp_path / "outcomes_metrics.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    monkeypatch.setattr(local_data, "catalogue_path", lambda: path)
    local_data.catalogue.cache_clear()
    try:
        with pytest.raises(InputError, match=message) as e:
            local_data.catalogue()
        assert "row 5" in str(e.value)
    finally:
        local_data.catalogue.cache_clear()
