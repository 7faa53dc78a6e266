"""Incremental runs: the job key changes with everything a run depends on, and an up-to-date CDP is skipped."""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import one_chapter

import cdp_analysis
from cdp_analysis import jobs, runner
from cdp_analysis.chapters import partnerships


def test_the_key_is_stable_and_follows_settings_and_notebooks(project):
    cdp = partnerships.get("nottinghamshire")
    key = jobs.job_key(cdp)
    assert key == jobs.job_key(partnerships.get("nottinghamshire"))
    other = dataclasses.replace(cdp, settings=cdp.settings.model_copy(update={"n_neighbours": 5}))
    assert jobs.job_key(other) != key
    nb = project / "notebooks" / "01_population_profile.ipynb"
    nb.write_text(nb.read_text(encoding="utf-8").replace("# Population profile", "# Population profile ", 1),
                  encoding="utf-8")
    assert jobs.job_key(cdp) != key


def test_the_key_follows_the_data_register_and_named_local_files(project, tmp_path):
    cdp = partnerships.get("nottinghamshire")
    key = jobs.job_key(cdp)
    reg = project / "data" / "register.yaml"
    text = reg.read_text(encoding="utf-8")
    first = text.index("sha256: ") + len("sha256: ")
    reg.write_text(text[:first] + "0" * 64 + text[first + 64:], encoding="utf-8")
    cdp_analysis.clear_caches()
    assert jobs.job_key(cdp) != key
    reg.write_text(text, encoding="utf-8")
    cdp_analysis.clear_caches()
    assert jobs.job_key(cdp) == key
    raw = project / "data" / "raw" / "ons_sdg_3_5_1" / "indicator_3-5-1.csv"  # changed, not re-registered
    raw.write_bytes(raw.read_bytes() + b"\n")
    assert jobs.job_key(cdp) != key
    local = tmp_path / "police.csv"
    local.write_text("area_code,period,metric_id,numerator,denominator\nE10000024,2023/24,treatment.young_people,50,\n")
    with_local = dataclasses.replace(cdp, settings=cdp.settings.model_copy(update={
        "outcomes": cdp.settings.outcomes.model_copy(update={"local_data": [str(local)]})}))
    before = jobs.job_key(with_local)
    local.write_text(local.read_text().replace(",50,", ",51,"))
    assert jobs.job_key(with_local) != before


@pytest.mark.slow
def test_an_up_to_date_cdp_is_skipped_until_something_changes(project):
    one_chapter(project)
    cdp = partnerships.get("nottinghamshire")
    root = project / "outputs"
    assert runner.run_one(cdp, outputs_root=root).status == "succeeded"
    run = json.loads((root / "nottinghamshire" / "run.json").read_text())
    assert run["job_key"] == jobs.job_key(cdp)
    again = runner.run_one(cdp, outputs_root=root)
    assert again.status == jobs.UP_TO_DATE and again.seconds == 0
    # an output file edited or deleted by hand: run again
    table = root / "nottinghamshire" / "tables" / "deprivation.csv"
    table.write_text(table.read_text() + "\n")
    assert runner.run_one(cdp, outputs_root=root).status == "succeeded"
    assert runner.run_one(cdp, outputs_root=root).status == jobs.UP_TO_DATE
    assert runner.run_one(cdp, outputs_root=root, force=True).status == "succeeded"
    # the summary counts it as a success
    text = runner.summary([again])
    assert text.startswith("1 of 1 CDP(s) succeeded (1 up to date, not run again)")


@pytest.mark.slow
def test_cli_skips_up_to_date_cdps_and_force_runs_them(project, cli):
    one_chapter(project)
    assert cli("run", "nottinghamshire", root=project).returncode == 0
    second = cli("run", "nottinghamshire", root=project)
    assert second.returncode == 0 and "up to date, not run again" in second.stderr + second.stdout
    forced = cli("run", "--force", "nottinghamshire", root=project)
    assert forced.returncode == 0 and "01_population_profile succeeded" in forced.stderr


def test_a_step_memoised_by_content_runs_once_per_table_and_hands_out_copies():
    import pandas as pd

    from cdp_analysis.memo import by_content

    calls = []

    @by_content(maxsize=2)
    def doubled(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        calls.append(list(columns))
        return frame[columns] * 2

    table = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    first = doubled(table, ["a"])
    first.loc[0, "a"] = -1  # a caller changing its copy does not change the next caller's
    again = doubled(table.copy(), ["a"])  # another object with the same content
    assert calls == [["a"]] and again["a"].tolist() == [2, 4]
    doubled(table.assign(a=[1, 5]), ["a"])  # changed content: computed again
    doubled(table, ["b"])  # other arguments: computed again
    assert len(calls) == 3
    cdp_analysis.clear_caches()  # cleared with the loaders' caches
    doubled(table, ["a"])
    assert len(calls) == 4


def test_deciding_what_is_up_to_date_imports_neither_scipy_nor_statsmodels_nor_nbformat():
    """A no-op `cdp run` imports the chapters (their settings are in the job key) but not the libraries that only
    running a chapter needs: SciPy and statsmodels alone took about 4 s to import (docs/performance.md)."""
    import subprocess
    import sys

    code = ("import sys; from cdp_analysis import batch, cli, jobs, runner; from cdp_analysis.chapters import registry; "
            "registry.all_chapters(); "
            "print(sorted(m for m in ('scipy', 'statsmodels', 'seaborn', 'nbformat', 'dask') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_batch_hashes_the_shared_inputs_once_and_gets_the_same_keys(monkeypatch):
    from cdp_analysis import batch
    from cdp_analysis.data import register

    chosen = [partnerships.get(s) for s in ("nottinghamshire", "rutland", "northamptonshire")]
    alone = {c.slug: jobs.job_key(c) for c in chosen}
    shared = jobs.shared_inputs()
    assert {c.slug: jobs.job_key(c, shared) for c in chosen} == alone
    assert len(set(alone.values())) == 3
    calls, given = [], []
    original, check = register.raw_checksums, jobs.up_to_date
    monkeypatch.setattr(register, "raw_checksums", lambda: calls.append(1) or original())
    monkeypatch.setattr(jobs, "up_to_date", lambda c, f, key=None, shared=None: given.append(shared) or check(c, f))
    batch.up_to_date(chosen, cdp_analysis.paths.project_root() / "no-such-outputs")
    assert calls == [1]  # data/raw hashed once for the three CDPs
    assert len(given) == 3 and all(g is given[0] for g in given) and given[0] == shared
