"""``cdp update`` against a stand-in for the publishers' sites on the loopback address (tests/publisher_server.py),
serving the bundle's real files under the publishers' paths and pages with the publishers' structure."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import yaml
from conftest import REPO, one_chapter
from publisher_server import ONS, Server, Site

RAW = REPO / "data" / "raw"
POPULATION = ("/peoplepopulationandcommunity/populationandmigration/populationestimates/datasets/"
              "populationestimatesforukenglandandwalesscotlandandnorthernireland")
DRUG_DEATHS = "/peoplepopulationandcommunity/birthsdeathsandmarriages/deaths/datasets/drugmisusedeathsbylocalauthority"


def _drop_from_bundle(root: Path, rel: str) -> None:
    """Take a file and its register entry out of a project copy (as if the bundle were an edition older)."""
    (root / "data" / "raw" / rel).unlink()
    path = root / "data" / "register.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["files"] = [f for f in doc["files"] if f["path"] != rel]
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _population_site() -> Site:
    site = Site()
    site.ons_dataset(POPULATION, "Estimates of the population for the UK, England, Wales, Scotland and Northern "
                                 "Ireland", [("mid2022", "Mid-2022", "2024-07-15", RAW / "ons_population" / "mye22final.xlsx"),
                                             ("mid2021", "Mid-2021", "2022-12-21", RAW / "ons_population" /
                                              "ukpopestimatesmid2021on2021geographyfinal.xlsx")])
    return site


def _nothing_kept(root: Path) -> bool:
    user = root / "data" / "user"
    return not (user / "register.yaml").exists() and not [p for p in user.rglob("*") if p.is_file()]


def test_a_newer_edition_is_found_checked_registered_and_used_by_the_next_run(project, cli):
    held = RAW / "ons_population" / "mye22final.xlsx"
    _drop_from_bundle(project, "ons_population/mye22final.xlsx")  # the bundle now ends at mid-2021 (workbooks)
    from cdp_analysis import clear_caches, jobs

    before = jobs.shared_inputs()["register"]
    site = _population_site()
    with Server(site) as url:
        dry = cli("update", "--dry-run", "--dataset", "ons_population", "--mirror", url, root=project)
        assert dry.returncode == 0, dry.stderr
        assert "mye22final.xlsx: newer than what is held" in dry.stdout and _nothing_kept(project)
        assert not [r for r in site.requests if "/file" in r]  # judged by its name: nothing downloaded
        proc = cli("update", "--dataset", "ons_population", "--mirror", url, root=project)
    assert proc.returncode == 0, proc.stderr
    sha = hashlib.sha256(held.read_bytes()).hexdigest()
    kept = f"user/updates/ons_population/{sha[:12]}-mye22final.xlsx"
    assert "asking ONS" in proc.stdout and f"accepted as {kept}" in proc.stdout
    assert f"{ONS}{POPULATION}/data" in site.requests and f"{ONS}{POPULATION}/mid2022/data" in site.requests
    (entry,) = yaml.safe_load((project / "data" / "user" / "register.yaml").read_text())["files"]
    assert entry["path"] == kept and entry["period"] == "mid-2022" and entry["sha256"] == sha
    assert entry["download_url"] == f"https://{ONS}/file?uri={POPULATION}/mid2022/mye22final.xlsx"
    assert entry["url"] == f"https://{ONS}{POPULATION}" and entry["downloaded_at"]
    assert "Mid-2022" in entry["edition"] and "released 2024-07-15" in entry["edition"]
    assert (project / "data" / kept).read_bytes() == held.read_bytes()
    assert not list((project / "data" / "user").glob(".staging/*/*"))
    clear_caches()
    after = jobs.shared_inputs()["register"]  # every CDP's job key changes: the next run is not 'up to date'
    assert set(after) - set(before) == {kept}
    # asked again: the file is held now
    with Server(_population_site()) as url:
        again = cli("update", "--dataset", "ons_population", "--mirror", url, root=project)
    assert again.returncode == 0 and "held already" in again.stdout
    # the next run reads it, and says which edition and from where
    run = cli("run", "nottinghamshire", root=one_chapter(project))
    assert run.returncode == 0, run.stderr
    folder = project / "outputs" / "nottinghamshire"
    manifest = json.loads((folder / "run.json").read_text())
    reads = {p for o in manifest["outputs"].values() for p in o["reads"]}
    assert kept in reads
    (used,) = [f for f in manifest["data_editions"]["ONS mid-year population estimates (MYE2)"]
               if f["period"] == "mid-2022"]
    assert used["origin"] == "download" and used["download_url"] == entry["download_url"]
    assert all(f["origin"] == "bundle" for files in manifest["data_editions"].values() for f in files if f is not used)
    report = (folder / "report.html").read_text()
    assert f"{entry['edition']} — downloaded from {ONS} by cdp update" in report  # the front matter
    assert kept in report  # the sources at the end


def test_a_file_whose_layout_changed_is_refused_and_the_held_edition_stays(project, cli, tmp_path):
    """The publisher's 'current' file has another table's layout (the real 2022 reference tables served under
    a local-authority file's name): refused with what was expected; the held 2021 edition stays in use."""
    moved = tmp_path / "2022localauthorities.xlsx"
    shutil.copy2(RAW / "ons_drug_deaths" / "2022registrations.xlsx", moved)
    site = Site()
    site.ons_dataset(DRUG_DEATHS, "Deaths related to drug poisoning by local authority, England and Wales",
                     [("current", "Current", "2023-12-19", moved)])
    with Server(site) as url:
        proc = cli("update", "--dataset", "ons_drug_deaths", "--mirror", url, root=project)
    assert proc.returncode == 2
    assert "the newer file 2022localauthorities.xlsx was refused" in proc.stderr
    assert "the edition held stays in use" in proc.stderr and "Traceback" not in proc.stderr
    assert _nothing_kept(project)


def test_an_interrupted_download_leaves_nothing(project, cli):
    _drop_from_bundle(project, "ons_population/mye22final.xlsx")
    site = _population_site()
    site.cut.add((ONS, f"/file?uri={POPULATION}/mid2022/mye22final.xlsx"))
    with Server(site) as url:
        proc = cli("update", "--dataset", "ons_population", "--mirror", url, root=project)
    assert proc.returncode == 2, proc.stdout
    assert "nothing was written" in proc.stderr and _nothing_kept(project)


def test_fingertips_exports_that_are_held_already_are_not_downloaded_twice(project, cli):
    site = Site()
    for ident, name in ((91380, "Alcohol-specific mortality"), (93517, "Opiate and crack not in treatment"),
                        (93532, "Dependent drinkers not in treatment")):
        (export,) = (RAW / "fingertips").glob(f"indicator_{ident}_*.csv")
        site.fingertips_indicator(ident, name, "2025-11-04T09:00:00", export)
    with Server(site) as url:
        proc = cli("update", "--dataset", "fingertips", "--mirror", url, root=project)
    assert proc.returncode == 0, proc.stderr
    assert "3 held" in proc.stdout and _nothing_kept(project)


def test_an_unknown_dataset_is_one_clear_error(project, cli):
    proc = cli("update", "--dataset", "population", root=project)
    assert proc.returncode == 2 and "no dataset called 'population' can be updated" in proc.stderr
    assert "ons_population" in proc.stderr


def test_an_unreachable_publisher_is_one_message_and_nothing_changes(project, cli):
    proc = cli("update", "--dataset", "ons_population", "--mirror", "http://127.0.0.1:9", root=project)
    assert proc.returncode == 3 and "cannot reach the publisher (ConnectionError)" in proc.stderr
    assert "the data already held are used until then" in proc.stderr and "Traceback" not in proc.stderr
    assert _nothing_kept(project)


def test_a_page_that_moved_is_one_message_and_nothing_changes(project, cli):
    with Server(Site()) as url:  # the stand-in knows no page: HTTP 404
        proc = cli("update", "--dataset", "ons_drug_deaths", "--mirror", url, root=project)
    assert proc.returncode == 2 and "the publisher answered HTTP 404" in proc.stderr
    assert "nothing was written" in proc.stderr and _nothing_kept(project)


def test_a_reissued_fingertips_export_replaces_the_first_download_and_the_sample(project, cli, tmp_path):
    """The bundle holds a sample of 93517; an export downloaded replaces it, and a re-issued export (the same
    rows, other bytes: here the real sample with its line endings changed) replaces that download in turn."""
    from cdp_analysis import clear_caches
    from cdp_analysis.data import fingertips, register

    (sample,) = (RAW / "fingertips").glob("indicator_93517_*.csv")
    reissued = tmp_path / "reissued.csv"
    reissued.write_bytes(sample.read_bytes().replace(b"\r\n", b"\n") if b"\r\n" in sample.read_bytes()
                         else sample.read_bytes().replace(b"\n", b"\r\n"))
    _drop_from_bundle(project, f"fingertips/{sample.name}")  # the bundle's copy: the first download replaces it
    (project / "data" / "raw" / "fingertips" / sample.name).write_bytes(reissued.read_bytes())
    doc = yaml.safe_load((REPO / "data" / "register.yaml").read_text())
    (entry,) = [f for f in doc["files"] if f["path"] == f"fingertips/{sample.name}"]
    entry["sha256"] = hashlib.sha256(reissued.read_bytes()).hexdigest()
    path = project / "data" / "register.yaml"
    mine = yaml.safe_load(path.read_text())
    mine["files"].append(entry)
    path.write_text(yaml.safe_dump(mine, sort_keys=False, allow_unicode=True))
    shas = []
    for served in (sample, reissued):
        site = Site()
        site.fingertips_indicator(93517, "OCU not in treatment", "2025-11-04T09:00:00", served)
        for ident in (91380, 93532):
            (export,) = (RAW / "fingertips").glob(f"indicator_{ident}_*.csv")
            site.fingertips_indicator(ident, str(ident), "2025-11-04T09:00:00", export)
        with Server(site) as url:
            proc = cli("update", "--dataset", "fingertips", "--mirror", url, root=project)
        assert proc.returncode == 0, proc.stderr
        shas.append(hashlib.sha256(served.read_bytes()).hexdigest())
        clear_caches()
        used = [p for p in register.files_of_kind(fingertips.EXPORT.kind) if fingertips.indicator_of(p) == "93517"]
        assert [register.sha256_of(p) for p in used] == [shas[-1]], proc.stdout  # only the newest is read
    entries = register.user_register()
    assert len(entries) == 2 and entries[1].replaces == (entries[0].path,)
    assert entries[0].replaces == (f"fingertips/{sample.name}",)
    assert len(fingertips.exports()["93517"]) > 0


def test_an_implausible_value_is_refused_after_the_file_is_read_and_nothing_is_kept(project, cli, tmp_path):
    """A workbook that reads (its period is found) but holds a negative count is refused by the dataset's
    plausibility rules, run with the file in place; the held edition stays."""
    import openpyxl

    wb = openpyxl.load_workbook(RAW / "ons_drug_deaths" / "2021localauthorities.xlsx")
    ws = wb["Table 1"]
    cell = next(c for row in ws.iter_rows(min_row=10, max_row=40) for c in row
                if isinstance(c.value, (int, float)) and c.value > 5)
    cell.value = -cell.value
    bad = tmp_path / "2022localauthorities.xlsx"
    wb.save(bad)
    site = Site()
    site.ons_dataset(DRUG_DEATHS, "Deaths related to drug poisoning by local authority", [("current", "Current",
                                                                                         "2023-12-19", bad)])
    with Server(site) as url:
        proc = cli("update", "--dataset", "ons_drug_deaths", "--mirror", url, root=project)
    assert proc.returncode == 2 and "was refused: implausible value" in proc.stderr, proc.stdout + proc.stderr
    assert "fails the rule 'a number of deaths is a whole number" in proc.stderr and _nothing_kept(project)


ALCOHOL_DEPENDENCE = "/government/publications/alcohol-dependence-prevalence-in-england"


def test_a_govuk_publication_is_read_through_the_content_api(project, cli):
    """OHID's page on GOV.UK: an attachment held already is not downloaded again; a new attachment in another
    format (a workbook where a CSV is read) is refused with the reader's message and nothing is kept."""
    held = RAW / "ohid_alcohol_dependence" / "alcohol_dependent_adults_estimates_LA.csv"
    site = Site()
    site.govuk_publication(ALCOHOL_DEPENDENCE, "Alcohol dependence prevalence in England", "2025-06-05",
                           [("Estimates of alcohol dependent adults (CSV)", held)])
    with Server(site) as url:
        proc = cli("update", "--dataset", "ohid_alcohol_dependence", "--mirror", url, root=project)
    assert proc.returncode == 0 and "asking GOV.UK" in proc.stdout and "held already" in proc.stdout, proc.stderr
    assert f"www.gov.uk/api/content{ALCOHOL_DEPENDENCE}" in site.requests and _nothing_kept(project)
    site = Site()
    site.govuk_publication(ALCOHOL_DEPENDENCE, "Alcohol dependence prevalence in England", "2025-06-05",
                           [("Estimates (workbook)", RAW / "ons_nearest_neighbours" /
                             "localauthoritynearestneighboursengland.xlsx")])
    with Server(site) as url:
        proc = cli("update", "--dataset", "ohid_alcohol_dependence", "--mirror", url, root=project)
    assert proc.returncode == 2 and "localauthoritynearestneighboursengland.xlsx was refused" in proc.stderr
    assert _nothing_kept(project)
