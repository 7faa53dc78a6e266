"""Chapter 6, outcomes: public metrics read from the earlier chapters' tables, every local metric listed,
disclosure control of local counts before anything is written, the spine chart's data and the one-page summary."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdp_analysis.chapters import outcomes as oc
from cdp_analysis.chapters import partnerships, trends
from cdp_analysis.data import local_data
from cdp_analysis.output import escape, notebook, tidy

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "data" / "examples" / "nottinghamshire-made-up.yaml"


@pytest.fixture(scope="module")
def earlier_dir(tmp_path_factory):
    """The earlier chapters' tables for Nottinghamshire, written as a run writes them."""
    out = tmp_path_factory.mktemp("notts")
    tables = oc.earlier_tables(partnerships.get("nottinghamshire"), None)
    for name, t in tables.items():
        tidy.save_table(t, name, out)
    return out


@pytest.fixture(scope="module")
def plain(earlier_dir):
    return oc.build(partnerships.get("nottinghamshire"), output_dir=earlier_dir)


@pytest.fixture(scope="module")
def example(earlier_dir):
    return oc.build(partnerships.get(str(EXAMPLE)), output_dir=earlier_dir)


def _cdp(o, metric_id) -> pd.DataFrame:
    t = o.outcomes
    return t[(t["area_role"] == "cdp") & (t["metric_id"] == metric_id)].sort_values("time_period_sortable")


def test_table_contract(plain, example):
    for o in (plain, example):
        tidy.check_tidy(o.outcomes, "outcomes")
        for col in ("outcome", "metric_id", "polarity", "compared_to_england", "status"):
            assert col in o.outcomes.columns
        assert set(o.outcomes["status"]) <= set(oc.STATUSES)
        assert set(o.outcomes["outcome"]) <= set(local_data.OUTCOMES)


def test_without_local_data_every_local_metric_is_listed_not_dropped(plain):
    cat = local_data.catalogue()
    for r in cat[cat["origin"] == "local"].itertuples():
        row = _cdp(plain, r.metric_id if not r.part_of else r.part_of)  # a part is said by its whole's row
        assert len(row) == 1 and row["status"].iloc[0] == "not supplied", r.metric_id
        assert row["value_note"].iloc[0].startswith("not supplied — source: ")
        assert f"data/templates/{r.source}.csv" in row["value_note"].iloc[0]
    assert not plain.made_up and (plain.outcomes["origin"] != "made-up example").all()
    assert "MADE-UP" not in oc.summary_page(plain) and "MADE-UP" not in oc.summary_text(plain)


def test_public_metrics_are_read_from_the_earlier_tables(earlier_dir, tmp_path):
    """Change a published value in the written drug_deaths table: the dashboard shows the changed value, so
    it reads the table rather than recomputing it."""
    import shutil

    shutil.copytree(earlier_dir, tmp_path / "run")
    path = tmp_path / "run" / "tables" / "drug_deaths.csv"
    t = pd.read_csv(path, dtype=str, keep_default_na=False)
    hit = ((t["area_role"] == "cdp") & (t["cause"] == "drug misuse") & (t["measure"] == "asmr")
           & (t["sex"] == "Persons") & (t["time_period"] == "2019-21"))
    assert hit.sum() == 1 and t.loc[hit, "value"].iloc[0] == "2.5"
    t.loc[hit, "value"] = "2.6"
    t.to_csv(path, index=False)
    o = oc.build(partnerships.get("nottinghamshire"), output_dir=tmp_path / "run")
    row = _cdp(o, "deaths.drug_misuse").iloc[0]
    assert row["value"] == 2.6 and row["time_period"] == "2019-21"


def test_published_comparison_with_england(plain):
    row = _cdp(plain, "deaths.drug_misuse").iloc[0]
    assert (row["value"], row["lower_ci"], row["upper_ci"]) == (2.5, 1.9, 3.2)
    eng = plain.outcomes[(plain.outcomes["area_role"] == "england") & (plain.outcomes["metric_id"] == "deaths.drug_misuse")]
    assert row["upper_ci"] < eng["value"].iloc[0] and row["compared_to_england"] == "Better"
    modelled = _cdp(plain, "prevalence.any_drug_last_year").iloc[0]
    assert modelled["compared_to_england"] == "Not compared" and "modelled estimate" in modelled["value_note"]
    ocu = _cdp(plain, "prevalence.opiate_crack_users").iloc[0]
    assert ocu["status"] == "not supplied" and "not in the data" in ocu["value_note"]


def test_disclosure_control_of_the_made_up_example(example):
    """NHS England's policy (the default): primary (3 mandatory referrals, 3 people trafficking, 2 deaths),
    secondary (40 voluntary referrals, recoverable from the total of 43), complement (57 of 61: 4 without) —
    values, limits and counts hidden; every other local count rounded to 5 (43 referrals shown as 45)."""
    for metric_id in ("treatment.cj_referrals_mandatory", "supply.trafficking_people", "harm.deaths_in_treatment",
                      "treatment.cj_referrals_voluntary", "treatment.mental_health_need_untreated"):
        row = _cdp(example, metric_id).iloc[-1]
        # one neutral note whatever the rule: naming it would say which side of a proportion is small
        assert row["status"] == "suppressed" and row["value_note"] == (
            "made-up example data; suppressed to protect small numbers (disclosure control, threshold 8)"), metric_id
        assert row[["value", "count", "denominator", "lower_ci", "upper_ci"]].isna().all(), metric_id
    total = _cdp(example, "treatment.cj_referrals").iloc[-1]
    assert total["status"] == "computed" and total["value"] == total["count"] == 45
    assert total["value_note"] == "made-up example data; rounded to the nearest 5 (disclosure control)"
    local = example.outcomes[example.outcomes["origin"] != "published"]
    counts = local[local["metric_kind"] == "count"]
    for col, v in (("count", local["count"]), ("denominator", local["denominator"]), ("value", counts["value"])):
        assert v.notna().any(), col
        assert not ((v >= 1) & (v < 8)).any(), col  # no local count 1-7
        assert (v.dropna() % 5 == 0).all(), col  # no unrounded local count
    notebook.check_disclosure(example.outcomes, "outcomes")  # the last guard passes
    audit = example.outcomes.attrs["disclosure_audit"]
    assert audit["policy"] == "nhs-england" and audit["cells"] > 0 and audit["suppressed"] >= 5
    assert audit["narrowest_interval"] >= audit["protection_width"] == 8


def test_percentages_are_computed_from_the_unrounded_counts(example):
    """Rows of a proportion show rounded counts, but the percentage and its limits come from the counts as
    supplied (12 of 38 is 31.6%, not 10 of 40 = 25%), and the value note says so."""
    from cdp_analysis import stats
    from cdp_analysis.chapters.outcomes import compute

    raw = local_data.read_all(example.settings.files("local_data", where="parameter"),
                              allowed_areas=compute._allowed_areas(example.cdp))
    t = example.outcomes
    rows = t[(t["metric_kind"] == "proportion") & (t["origin"] != "published") & (t["status"] == "computed")]
    assert len(rows) >= 5
    raw = raw.set_index(["area_code", "period", "metric_id"])
    checked = 0
    for r in rows.itertuples():
        if (r.area_code, r.time_period, r.metric_id) not in raw.index:
            continue  # a partnership of several members: summed
        x, n = raw.loc[(r.area_code, r.time_period, r.metric_id), ["numerator", "denominator"]]
        assert r.value == pytest.approx(100 * x / n), r.metric_id
        assert r.count == stats.disclosure.round_counts([x], 5)[0] and r.denominator % 5 == 0
        assert "computed from the unrounded counts" in r.value_note
        checked += 1
    assert checked >= 5
    assert (rows["value"] != 100 * rows["count"] / rows["denominator"]).any()  # rounding would have changed one


def test_the_old_policy_is_a_setting(earlier_dir):
    """``disclosure_policy: suppress-below-threshold`` keeps the rule before issue 25: 1-4 suppressed, nothing
    rounded; a threshold below 8 without it is refused with a readable error naming the fix."""
    from cdp_analysis.areas import params
    from cdp_analysis.errors import InputError

    base = partnerships.get(str(EXAMPLE))
    old = oc.Settings(local_data=base.chapter_settings("outcomes").local_data,
                      disclosure_policy="suppress-below-threshold")
    o = oc.build(base, old, output_dir=earlier_dir)
    total = _cdp(o, "treatment.cj_referrals").iloc[-1]
    assert total["value"] == 43 and total["value_note"] == "made-up example data"
    assert o.outcomes.attrs["disclosure_audit"]["policy"] == "suppress-below-threshold"
    assert o.outcomes.attrs["disclosure_threshold"] == 5 and o.outcomes.attrs["disclosure_rounding"] == 1
    with pytest.raises(InputError, match="disclosure_threshold 5 is below the nhs-england policy's 8") as e:
        params.validate_parameters(oc.Settings, {"disclosure_threshold": 5})
    assert "disclosure_policy: suppress-below-threshold" in str(e.value)
    assert oc.Settings(disclosure_threshold=10).disclosure.threshold == 10


def test_run_json_records_the_disclosure_audit(example, tmp_path):
    """The table's audit summary is written with its provenance and gathered into run.json's outputs."""
    from cdp_analysis.output import provenance

    tidy.save_table(example.outcomes, "outcomes", tmp_path)
    outputs = provenance.collect(tmp_path)
    for name in ("tables/outcomes.csv", "fingertips/outcomes.csv"):
        assert outputs[name]["disclosure"] == example.outcomes.attrs["disclosure_audit"], name
    assert "disclosure" in json.dumps(outputs)


def test_the_last_guard_refuses_an_unsuppressed_table(example):
    t = example.outcomes.copy()
    i = t.index[(t["metric_id"] == "treatment.cj_referrals") & (t["area_role"] == "cdp")][0]
    t.loc[i, "count"] = 3
    with pytest.raises(notebook.DisclosureError, match="small count from local data"):
        notebook.check_disclosure(t, "outcomes")
    t = example.outcomes.copy()
    i = t.index[t["status"] == "suppressed"][0]
    t.loc[i, "value"] = 12.0
    with pytest.raises(notebook.DisclosureError, match="suppressed row"):
        notebook.check_disclosure(t, "outcomes")
    t = example.outcomes.copy()
    t.loc[t.index[(t["metric_id"] == "treatment.cj_referrals") & (t["area_role"] == "cdp")][0], "count"] = 43
    with pytest.raises(notebook.DisclosureError, match="unrounded count"):
        notebook.check_disclosure(t, "outcomes")


def test_a_multi_area_partnership_protects_its_members(tmp_path):
    """North 3 + West 40 young people = 43: the CDP total is shown, so West is suppressed as well; a metric one
    member did not supply has no partnership figure."""
    f = tmp_path / "provider.csv"
    f.write_text("area_code,period,metric_id,numerator,denominator\n"
                 "E06000061,2023/24,treatment.young_people,3,\n"
                 "E06000062,2023/24,treatment.young_people,40,\n"
                 "E06000062,2023/24,treatment.homeless_caseload,55,\n", encoding="utf-8")
    base = partnerships.get("northamptonshire")
    cdp = base.__class__(**{**base.__dict__, "settings": base.settings.model_copy(update={
        "outcomes": oc.Settings(local_data=[str(f)])})})
    o = oc.build(cdp)
    t = o.outcomes[o.outcomes["metric_id"] == "treatment.young_people"].set_index("area_code")
    assert t.loc["E06000061", "status"] == "suppressed" and t.loc["E06000062", "status"] == "suppressed"
    assert pd.isna(t.loc["E06000062", "value"])  # 40 would reveal North's 3 from the partnership's 43
    assert t.loc[cdp.code, "value"] == 45  # 43, rounded to 5
    assert o.outcomes.attrs["disclosure_audit"]["suppressed"] >= 2
    h = _cdp(o, "treatment.homeless_caseload").iloc[0]
    assert h["status"] == "not supplied" and "not every member" in h["value_note"]


def test_spine_positions(plain):
    d = oc.spine_data(plain).set_index("metric_id")
    r = d.loc["deaths.drug_misuse"]
    values = trends.rates_of_all_areas("2019-21")
    assert r["n_areas"] == len(values) and r["maximum"] == values.max() and r["minimum"] == values.min()
    span = max(abs(values.max() - 5.1), abs(values.min() - 5.1), abs(2.5 - 5.1))
    assert r["england"] == 5.1
    assert r["x_value"] == pytest.approx(0.5 + 0.5 * (5.1 - 2.5) / span)  # low is good: lower is to the right
    assert ((d[["x_min", "x_max", "x_q25", "x_q75", "x_value"]] >= -1e-9)
            & (d[["x_min", "x_max", "x_q25", "x_q75", "x_value"]] <= 1 + 1e-9)).all().all()


def test_summary_page_is_built_from_the_tables(example):
    page = oc.summary_page(example)
    assert "MADE-UP EXAMPLE DATA" in page
    for heading in ("Headline figure for each outcome", "What most needs action", "Treatment places needed",
                    "What the data cannot yet tell"):
        assert heading in page
    for finding in oc.present_board.decision_findings(example):
        assert escape.html_text(finding) in page
    assert "local priorities not shown here" in page  # what local data would add, in one line
    assert "counts from local data below 8" in page and "other local counts are rounded to the nearest 5" in page
    notes = oc.notes_text(example)
    assert "policy 'nhs-england'" in notes and "Counts of 1 to 7" in notes and "computed from the unrounded" in notes


@pytest.mark.slow
def test_no_small_local_number_in_any_output_of_a_run(tmp_path):
    """Run the made-up example end to end and scan every file written: the tidy tables and figure data hold
    no local count 1-7, no unrounded local count in the outcomes table, and no value on a suppressed row; the HTML report, the summary page and the
    executed notebooks show 'suppressed' on those metrics' rows and never their hidden figures."""
    from cdp_analysis import runner

    results = runner.run_many([partnerships.get(str(EXAMPLE))], outputs_root=tmp_path)
    assert all(r.status == "succeeded" for r in results), results
    out = tmp_path / "nottinghamshire-made-up"
    for csv in [*out.glob("tables/*.csv"), *out.glob("fingertips/*.csv")]:
        t = pd.read_csv(csv, dtype=str, keep_default_na=False)
        origin = t.get("origin", pd.Series("published", index=t.index))
        local = t[origin.isin(["local", "made-up example"])]
        for col in ("count", "denominator", "Count", "Denominator"):
            if col in local.columns:
                v = pd.to_numeric(local[col].replace("", np.nan))
                assert not ((v >= 1) & (v < 8)).any(), (csv.name, col)
                if csv.stem == "outcomes":
                    assert (v.dropna() % 5 == 0).all(), (csv.name, col)  # NHS England's rounding
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    audit = run["outputs"]["tables/outcomes.csv"]["disclosure"]
    assert audit["policy"] == "nhs-england" and audit["narrowest_interval"] >= 8
    hidden = {"Criminal-justice referrals, mandatory": ["3"], "Criminal-justice referrals, voluntary": ["40"],
              "Deaths in treatment": ["2", "0.1"], "People involved in drug-trafficking incidents": ["3"],
              "Mental-health need not receiving treatment": ["57", "93.4", "93"]}
    texts = [*out.glob("*.html"), *out.glob("notebooks/*.ipynb")]
    assert any(p.name == "summary.html" for p in texts)
    seen = set()
    for path in texts:
        text = path.read_text(encoding="utf-8").replace("\\n", "\n").replace('\\"', '"')
        for row in re.findall(r"<tr[^>]*>.*?</tr>", text, flags=re.S):
            for name, values in hidden.items():
                if name in row:
                    seen.add((path.name, name))
                    cells = [re.sub(r"<[^>]+>", "", c).strip()
                             for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, flags=re.S)]
                    assert "suppressed" in " ".join(cells), (path.name, name)
                    for v in values:
                        assert v not in cells, (path.name, name, v)
    for name in hidden:  # the scan did look at each metric's row in the report and in the notebook
        assert ("report.html", name) in seen and ("06_outcomes.ipynb", name) in seen, name
    assert "MADE-UP EXAMPLE DATA" in (out / "report.html").read_text(encoding="utf-8")
    # one word for made-up data, another for modelled estimates: 'synthetic' (which could mean either) is in no
    # file written, while both words are
    written = [p for p in out.rglob("*") if p.is_file() and p.suffix in {".csv", ".html", ".md", ".ipynb", ".json"}]
    text = "\n".join(p.read_text(encoding="utf-8") for p in written)
    assert "synthetic" not in text.lower(), [p.name for p in written if "synthetic" in p.read_text().lower()]
    assert "made-up example data" in text and "modelled estimate" in text


def test_a_missing_local_file_stops_the_run_before_any_notebook(project, cli):
    params = project / "params" / "cdps" / "notts-local.yaml"
    params.write_text("name: Nottinghamshire\nmembers: [E10000024]\noutcomes:\n  local_data:\n"
                      "    - data/user/police.csv\n", encoding="utf-8")
    r = cli("run", "notts-local", root=project)
    assert r.returncode == 2, r.stdout + r.stderr
    text = r.stdout + r.stderr
    assert "key 'local_data' (in section 'outcomes'), item 1: no such file: data/user/police.csv" in text
    assert "Traceback" not in text and not (project / "outputs" / "notts-local").exists()
    r = cli("run", "data/examples/nowhere.yaml", root=project)
    assert r.returncode == 2 and "no such params file" in r.stdout + r.stderr


def test_drug_misuse_deaths_better_than_england_carry_the_recording_caveat(plain):
    """Nottinghamshire's published drug-misuse death rate is below England's: the dashboard row, the key findings
    and the one-page summary say, with it, that 39% of its drug-poisoning deaths were recorded as misuse against 65%
    in England (chapter 4's shares for the same period)."""
    row = _cdp(plain, "deaths.drug_misuse").iloc[-1]
    assert row["compared_to_england"] == "Better"
    assert row["comparison_caveat"].startswith(f"39% of the partnership's drug-poisoning deaths in {row['time_period']} "
                                               "were recorded as drug misuse against 65% in England")
    assert "recording practice" in oc.summary_text(plain)
    assert "recording practice" in oc.summary_page(plain)
    others = plain.outcomes[plain.outcomes["metric_id"] != "deaths.drug_misuse"]
    assert (others["comparison_caveat"] == "").all()


def test_the_deaths_trend_is_chapter_4s_direction_of_travel(plain):
    """The dashboard's trend for drug-misuse deaths is chapter 4's 'latest trend' row of the rate, naming its years
    and how they were chosen — never a whole-series count trend."""
    t = plain.earlier["trends"]
    head = t[(t["area_role"] == "cdp") & (t["series"] == "deaths related to drug misuse") & (t["method"] == "latest trend")]
    head = head.iloc[0]
    words = _cdp(plain, "deaths.drug_misuse").iloc[-1]["recent_trend"]
    assert words.startswith(f"registered deaths (rate per head) {head['verdict']}")
    assert f"{head['period_start']} to {head['period_end']}" in words and "chapter 4" in words
    assert "joinpoint" not in words  # the method is named in chapter 4, not in the board's words


# --- the catalogue is the framework; made-up data is marked (issue 25) ----------------------------------------

#: The framework's headline metrics (Appendix 2 of the local delivery guidance), by the catalogue's ids.
HEADLINE = {"prevalence.any_drug_last_year", "crime.drug_related_homicides", "crime.neighbourhood_crime",
            "deaths.drug_misuse", "harm.drug_poisoning_admissions", "supply.county_lines_closed",
            "supply.ocg_disruptions", "treatment.adults_in_treatment", "treatment.young_people",
            "treatment.prison_continuity", "recovery.substantial_progress"}


def test_every_catalogued_metric_has_a_level_and_cites_its_framework_document():
    from urllib.parse import urlparse

    cat = local_data.catalogue()
    assert set(cat["level"]) == set(local_data.LEVELS)
    for r in cat.itertuples():
        urls = re.findall(r"https://\S+", r.framework_source)
        assert len(urls) == 1 and r.framework_source.split("https://")[0].strip(), r.metric_id  # a title and its address
        host = urlparse(urls[0]).hostname
        assert host == "www.gov.uk" or host.endswith((".gov.uk", "fingertips.phe.org.uk")), (r.metric_id, host)
        if r.level in ("headline", "supporting"):
            assert "/drugs-strategy-" in urls[0], r.metric_id  # the framework's own documents
    # the partnership's own priorities: alcohol and the local framework's metrics, not the national framework's
    local = set(cat.loc[cat["level"] == "local priority", "metric_id"])
    assert {"deaths.alcohol_specific", "treatment.alcohol_met_need", "family.parents_new_presentations",
            "prevention.resilience_programmes"} <= local
    # 11 headline metrics, as published; the substance groups of adults in treatment are parts of one of them
    headline = cat[cat["level"] == "headline"]
    assert set(headline.loc[headline["part_of"] == "", "metric_id"]) == HEADLINE
    assert set(headline.loc[headline["part_of"] != "", "part_of"]) == {"treatment.adults_in_treatment"}
    assert set(cat.loc[cat["metric_id"].isin(HEADLINE), "outcome"]) == set(local_data.OUTCOMES[:6])


def test_a_headline_metric_not_in_the_data_is_listed_as_not_supplied(plain):
    for metric_id in HEADLINE - {"prevalence.any_drug_last_year", "deaths.drug_misuse"}:
        row = _cdp(plain, metric_id)
        assert len(row) == 1 and row["status"].iloc[0] == "not supplied", metric_id


def test_the_dashboard_orders_headline_then_supporting_then_local_priorities(plain):
    rows = oc.compute.cdp_rows(plain)
    levels = rows["level"].tolist()
    assert levels == sorted(levels, key=local_data.LEVELS.index) and levels[0] == "headline"
    view = oc.present.dashboard_output(plain).view
    assert list(dict.fromkeys(view.index.get_level_values("Level"))) == [
        "Framework headline metrics", "Framework supporting metrics", "The partnership's local priorities"]


def test_every_made_up_row_with_a_real_code_is_marked(example):
    """The made-up example's local rows carry real codes (E10000024, E92000001): each says 'made-up example
    data' in its note and '(made-up example)' after its area name; real published rows are not so marked."""
    t = example.outcomes
    fake = t[t["origin"] == "made-up example"]
    assert len(fake) and fake["area_code"].str.fullmatch(r"E\d{8}").all()
    assert fake["area_name"].str.endswith(" (made-up example)").all()
    assert fake["value_note"].str.startswith(oc.compute.MADE_UP).all()
    real = t[t["origin"] == "published"]
    assert not real["area_name"].str.endswith(" (made-up example)").any()
    assert not real["value_note"].str.contains(oc.compute.MADE_UP).any()


def test_modelled_estimates_and_made_up_data_have_different_words(plain, example):
    modelled = _cdp(plain, "prevalence.any_drug_last_year").iloc[0]["value_note"]
    assert "modelled estimate" in modelled and "made-up" not in modelled and "synthetic" not in modelled
    words = " ".join([oc.summary_text(example), oc.notes_text(example), *oc.present_words.data_gaps(example)])
    assert "made-up example data" in words and "modelled estimate" in words
    assert "synthetic estimate" not in words.lower() and "synthetic prevalence" not in words.lower()


def test_alcohol_mortality_is_compared_at_998_and_the_notes_say_why_others_are_not(plain):
    """OHID publishes alcohol-specific mortality (91380) with Dobson 95% limits and the count but blank 99.8%
    limits: the dashboard derives Dobson's 99.8% limits (wider than the 95%) and compares at both levels; the
    public metrics without 99.8% limits are named in the notes with the reason."""
    t = plain.outcomes
    a = t[(t["metric_id"] == "deaths.alcohol_specific") & t["value"].notna()]
    assert len(a) and a[["lower_ci_998", "upper_ci_998"]].notna().all().all()
    assert ((a["lower_ci_998"] < a["lower_ci"]) & (a["upper_ci_998"] > a["upper_ci"])).all()
    row = _cdp(plain, "deaths.alcohol_specific").iloc[-1]
    assert row["compared_to_england_998"] in ("Better", "Worse", "Similar")
    notes = oc.notes_text(plain)
    for metric_id, why in oc.compute.NO_998.items():
        assert why in notes, metric_id
    d = _cdp(plain, "deaths.drug_misuse").iloc[-1]
    assert d["compared_to_england_998"] == "" and pd.isna(d["lower_ci_998"])


def test_a_viewit_export_fills_adults_in_treatment_for_barnet():
    """Barnet's params name its NDTMS ViewIt export (chapter 3): the headline metric 'adults in treatment' is the
    export's persons 18+ of all substance groups for each period, published (no local suppression), with England
    from the bundled England export; without an export the metric is 'not supplied'."""
    from cdp_analysis.data import ndtms_viewit

    o = oc.build(partnerships.get("barnet"))
    rows = _cdp(o, "treatment.adults_in_treatment")
    raw = ndtms_viewit.in_treatment(
        ndtms_viewit.read_export(REPO / "data/raw/ndtms_viewit/viewit_export_adult_LAs_barnet.csv"), drug_groups=("all",))
    assert len(rows) == len(raw) and (rows["status"] == "computed").all() and (rows["origin"] == "published").all()
    assert rows["value"].tolist() == raw.sort_values("period")["value"].tolist()
    latest = oc.compute.cdp_rows(o).set_index("metric_id").loc["treatment.adults_in_treatment"]
    assert latest["time_period"] == raw["period"].max() and latest["level"] == "headline"
    eng = o.outcomes[(o.outcomes["metric_id"] == "treatment.adults_in_treatment") & (o.outcomes["area_role"] == "england")]
    assert eng["value"].notna().all() and set(eng["time_period"]) == set(rows["time_period"])


def test_a_viewit_export_fills_the_substance_groups_and_successful_completions_for_barnet():
    """The four NDTMS substance groups of adults in treatment (each with England's from the England export) add up
    to the total within NDTMS's rounding to 5; successful completions are the export's completions over adults in
    treatment with Wilson limits at 95% and 99.8%, not compared (England's export holds no completions); a CDP with
    no export lists the whole as not supplied and not its parts."""

    o = oc.build(partnerships.get("barnet"))
    t = o.outcomes[(o.outcomes["area_role"] == "cdp") & (o.outcomes["time_period"] == "2021/22")].set_index("metric_id")
    groups = ["treatment.adults_opiate", "treatment.adults_non_opiate_only", "treatment.adults_alcohol_only",
              "treatment.adults_non_opiate_and_alcohol"]
    raw = pd.read_csv(REPO / "data/raw/ndtms_viewit/viewit_export_adult_LAs_barnet.csv", dtype=str)
    raw = raw[(raw["ReportingPeriod"] == "2021/22") & raw["sex"].str.lower().eq("total")
              & raw["age_group"].str.lower().eq("total")].set_index("drug_group")
    expected = raw.loc[["Opiate", "Non-opiate only", "Alcohol only", "Non-opiate & alcohol"], "intreatment_allintx"]
    assert t.loc[groups, "value"].tolist() == expected.astype(float).tolist()  # read from the file, not the code
    assert abs(t.loc[groups, "value"].sum() - t.loc["treatment.adults_in_treatment", "value"]) <= 5 * len(groups)
    eng = o.outcomes[(o.outcomes["area_role"] == "england") & (o.outcomes["time_period"] == "2021/22")]
    assert eng.set_index("metric_id").loc["treatment.adults_opiate", "value"] == 140558
    done = t.loc["recovery.successful_completions"]
    x, n = (float(raw.loc["Total", c]) for c in ("exits_successfulcompletion_allintx", "intreatment_allintx"))
    assert (done["count"], done["denominator"]) == (x, n)
    assert done["value"] == pytest.approx(100 * x / n)
    from statsmodels.stats.proportion import proportion_confint
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    assert (done["lower_ci"], done["upper_ci"]) == (pytest.approx(100 * lo), pytest.approx(100 * hi))
    assert done["lower_ci_998"] < done["lower_ci"] and done["upper_ci_998"] > done["upper_ci"]
    assert done["compared_to_england"] == "Not compared" and "England's ViewIt export" in done["value_note"]
    plain = oc.build(partnerships.get("nottinghamshire"))
    assert "treatment.adults_in_treatment" in set(plain.outcomes["metric_id"])
    assert not set(groups) & set(plain.outcomes["metric_id"])


# --- the summary page speaks to a board (issue 26, in part) -----------------------------------------------------

#: Words a board member should not meet on the summary page.
JARGON = ("joinpoint", "params", "template", "cdp fetch", "poisson", "quasi", "wbic", ".csv", ".yaml", "data/")


@pytest.mark.parametrize("slug", ["nottinghamshire", "northamptonshire", "barnet"])
def test_the_summary_page_has_no_jargon_paths_or_invented_periods(slug):
    from cdp_analysis.output.consistency import visible_text

    o = oc.build(partnerships.get(slug))
    text = visible_text(oc.summary_page(o))
    low = text.lower()
    for word in JARGON:
        assert word not in low, word
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text), re.findall(r"\b[a-z]+_[a-z_]+\b", text)
    rows = oc.compute.cdp_rows(o)
    for outcome in oc.compute.OUTCOMES:
        r = oc.present_board.headline_row(rows, outcome)
        if r is not None and r["status"] == "not supplied":
            # a row without a figure names no period (none was supplied) and says so plainly
            cells = re.search(re.escape(r["indicator_name"]) + r"[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>",
                              oc.summary_page(o))
            assert cells and cells.group(1) == "" and cells.group(2) == "no figure held yet", outcome


def test_the_summary_headline_prefers_the_framework_metric_and_shows_members_and_ratio():
    """Northamptonshire: the deaths outcome is drug-misuse deaths (the framework's headline), shown as the members'
    published rates and the partnership's standardised ratio — not alcohol-specific mortality (a local priority)."""
    o = oc.build(partnerships.get("northamptonshire"))
    r = oc.present_board.headline_row(oc.compute.cdp_rows(o), "reduce drug-related deaths and harm")
    assert r["metric_id"] == "deaths.drug_misuse" and r["status"] == "members only"
    page = oc.summary_page(o)
    assert "North Northamptonshire 4.8" in page and "times those expected at England&#x27;s rates" in page
    notts = oc.build(partnerships.get("nottinghamshire"))
    r = oc.present_board.headline_row(oc.compute.cdp_rows(notts), "increase engagement in treatment")
    assert r["level"] == "local priority" and "Alcohol met need (local priority)" in oc.summary_page(notts)


def test_the_decision_page_leads_with_what_needs_action_by_the_documented_rule():
    """Worse than England first, then worsening, then the largest treatment gap; at most three; each with its
    period, England's figure of the same period where there is one, and a direction of travel."""
    o = oc.build(partnerships.get("northamptonshire"))
    found = oc.present_board.decision_findings(o)
    assert 1 <= len(found) <= oc.present_board.N_FINDINGS
    assert found[0].startswith("Deaths related to drug misuse, 2019-21")  # worsening: rising rate per head
    assert "increasing" in found[0] and "Direction of travel" in found[0]
    g = o.earlier["treatment_gap"]
    unmet = g[(g["measure"] == "unmet need") & (g["substance"] == "alcohol") & g["value"].notna()]
    mine = unmet[unmet["area_role"] == "cdp"].sort_values("time_period_sortable").iloc[-1]
    eng = unmet[(unmet["area_role"] == "england") & (unmet["time_period"] == mine["time_period"])].iloc[0]
    gap = [f for f in found if f.startswith("Largest treatment gap")]
    assert gap and f"{mine['value']:.0f}% of dependent drinkers" in gap[0] and mine["time_period"] in gap[0]
    assert f"England {eng['value']:.0f}% in the same year" in gap[0]  # England's figure of the CDP's year
    for f in found:
        assert "Direction of travel" in f


def test_the_decision_page_says_the_places_needed_as_the_planner_computed_them():
    o = oc.build(partnerships.get("nottinghamshire"))
    cap = o.earlier["treatment_capacity"]
    plan = cap[(cap["substance"] == "alcohol") & (cap["planning_target"] == "yes")
               & (cap["measure"] == "extra people in treatment during the year to reach the target")].iloc[0]
    lines = oc.present_board.places_needed(o)
    from cdp_analysis.chapters.treatment_gap.capacity_words import round_count
    assert lines[0].startswith(f"Alcohol: about {round_count(plan['value'])} more people in treatment")
    assert f"({round_count(plan['lower_ci'])}–{round_count(plan['upper_ci'])})" in lines[0]
    assert any(x.startswith("Opiates and/or crack: no estimate of need") for x in lines)
    assert any(x.startswith("Non-opiates: OHID publishes no estimate of need") for x in lines)
    page = oc.summary_page(o)
    assert "What most needs action" in page and "Treatment places needed" in page
    assert "modelled from published data" in page and "href='report.html'" in page


@pytest.mark.parametrize("slug", ["northamptonshire", "isles-of-scilly"])
def test_the_key_findings_count_every_metric_once(slug):
    """The first key finding's counts add up to the catalogue: a metric shown by its members' rates or by a
    standardised ratio only is counted, not dropped (Northamptonshire's drug-misuse deaths; Scilly's)."""
    o = oc.build(partnerships.get(slug))
    first = oc.summary_text(o).splitlines()[0]
    total = int(re.search(r"of (\d+) metrics", first).group(1))
    counts = [int(x) for x in re.findall(r"(?:^- |; |and )(\d+) (?!of)", first)]
    computed = int(re.match(r"- (\d+) of", first).group(1))
    assert total == len(oc.compute.cdp_rows(o)) and computed + sum(counts) == total, first
    assert ("member areas' rates" in first) == (slug == "northamptonshire")
    assert ("standardised ratio" in first) == (slug == "isles-of-scilly")


def test_a_published_metric_missing_from_the_file_held_is_not_called_unpublished(plain):
    """OHID publishes opiate and crack estimates for every area; the file held is a sample, so the page says the
    figure is not in the data held, as the dashboard does, never that it is not published."""
    gaps = " ".join(oc.present_words.data_gaps(plain))
    assert "Not published" not in gaps and "not published" not in oc.summary_text(plain)
    assert "Not in the published data held for this area: Opiate and/or crack cocaine users" in gaps
    row = _cdp(plain, "prevalence.opiate_crack_users")
    assert "a sample of the file is held" in row["value_note"].iloc[0]


def test_the_dashboard_and_the_summary_say_where_a_figure_comes_from_in_the_same_words(plain):
    view = oc.dashboard_output(plain).view.reset_index()
    data = dict(zip(view["Metric"], view["Data"]))
    modelled = [m for m in data if "(modelled estimate)" in m]
    assert modelled and all(data[m] == "modelled from published data" for m in modelled)
    assert "modelled from published data" in oc.summary_page(plain)
    assert {data[m] for m in data if m not in modelled} <= {"published", "local"}


def test_a_members_only_metric_carries_the_ratios_comparison_on_the_dashboard_as_on_the_summary():
    """Northamptonshire's drug-misuse deaths: no published rate as a whole; the partnership's standardised ratio is
    compared with England, and the dashboard says so as the summary page does (it was blank there)."""
    o = oc.build(partnerships.get("northamptonshire"))
    view = oc.dashboard_output(o).view.reset_index()
    cell = view.loc[view["Metric"].str.startswith("Deaths related to drug misuse"), "Compared with England"].iloc[0]
    row = oc.compute.cdp_rows(o).set_index("metric_id").loc["deaths.drug_misuse"]
    assert row["status"] == "members only" and row["compared_to_england"]
    word, sym = oc.present_words.COMPARISON_WORDS[row["compared_to_england"]]
    assert cell == f"{sym} {word} (the partnership's standardised ratio)"
    assert f"{sym} {word}" in oc.summary_page(o)


def test_the_deaths_direction_of_travel_says_how_it_compares_with_englands():
    """Northamptonshire's drug-misuse deaths rose over the latest ten years, but England's rose too: the board reads
    England's slope and the tested difference beside the rise, in chapter 4's numbers and verdict."""
    o = oc.build(partnerships.get("northamptonshire"))
    words = oc.compute.cdp_rows(o).set_index("metric_id").loc["deaths.drug_misuse", "recent_trend"]
    t = o.earlier["trends"]
    s = t[t["series"] == "deaths related to drug misuse"]
    cmp = s[(s["area_role"] == "cdp") & (s["method"] == "compared with England")].iloc[0]
    n = int(cmp["period_end"]) - int(cmp["period_start"]) + 1
    eng = s[(s["area_role"] == "england") & (s["method"] == f"latest {n} years")
            & (s["quantity"] == cmp["quantity"])].iloc[0]
    assert cmp["verdict"] == "not significantly different"
    assert (f"England's {eng['apc']:+.1f}% a year ({eng['lower_ci']:+.1f}% to {eng['upper_ci']:+.1f}%)" in words
            and f"the difference, {cmp['apc']:+.1f}% a year" in words and "is not significant" in words), words
    head = s[(s["area_role"] == "cdp") & (s["method"] == "latest trend")].iloc[0]
    assert (head["period_start"], head["period_end"]) == (cmp["period_start"], cmp["period_end"])
    assert words.count(f"{head['apc']:+.1f}% a year") == 1  # the area's slope over the same years is said once
    assert "is not significant" in oc.present_board.decision_findings(o)[0]


def test_a_comparisons_caveat_is_a_note_under_the_summary_table(plain):
    """The one-page summary keeps the recording caveat with 'better than England' by a numbered note, said in full
    under the table (a line the page's width, not a narrow cell of seven lines)."""
    page = oc.summary_page(plain)
    row = _cdp(plain, "deaths.drug_misuse").iloc[-1]
    cell = re.search(r"<td>▲ better than England \(note (\d)\)</td>", page)
    assert cell, page
    note = re.search(rf"<p class='meta'>Note {cell.group(1)}\. Deaths related to drug misuse, {row['time_period']}"
                     r": better than England; but ([^<]+)\.</p>", page)
    assert note and escape.html_text(row["comparison_caveat"]) == note.group(1)
