"""Batches: warm kernels, parallel workers, timeouts, kernel-start retries, --only-failed, Dask, the index."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import one_chapter
from test_bad_input import NORTHANTS, draft_chapter, write

import cdp_analysis
from cdp_analysis import batch, chapters, kernels, runner
from cdp_analysis.chapters import partnerships
from cdp_analysis.errors import InputError
from cdp_analysis.output import index


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in ("run.json", "run.log")}


@pytest.mark.slow
def test_notebooks_run_in_a_warm_kernel_equal_those_run_in_new_kernels(project, monkeypatch):
    """Rutland's two chapters after Nottinghamshire's, all in one kernel, give the same bytes as each notebook
    in a kernel of its own (the runner before warm kernels)."""
    defaults = project / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text() + "\nchapters: [population_profile, prevalence]\n")
    cdp_analysis.clear_caches()
    rutland = partnerships.get("rutland")
    original = kernels.WarmKernel.run

    def run_in_a_new_kernel(self, *a, **kw):
        try:
            return original(self, *a, **kw)
        finally:
            self.stop()

    monkeypatch.setattr(kernels.WarmKernel, "run", run_in_a_new_kernel)
    alone = runner.run_one(rutland, outputs_root=project / "alone")
    monkeypatch.setattr(kernels.WarmKernel, "run", original)
    kernels.shutdown()
    first = runner.run_one(partnerships.get("nottinghamshire"), outputs_root=project / "warm")
    warm = kernels.warm_kernel(runner.kernel_name(), kernels.stderr_log())
    after = runner.run_one(rutland, outputs_root=project / "warm")
    assert warm.notebooks_run == 4  # one kernel ran all four notebooks
    kernels.shutdown()
    assert {alone.status, first.status, after.status} == {"succeeded"}
    a, b = _files(project / "alone" / "rutland"), _files(project / "warm" / "rutland")
    assert a.keys() == b.keys() and len(a) > 10
    different = [name for name in a if a[name].replace(b"/alone/", b"/warm/") != b[name]]
    assert different == []
    nb = json.loads(a["notebooks/02_prevalence.ipynb"])
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == list(range(1, len(counts) + 1))  # numbered as a new kernel numbers them


@pytest.mark.slow
def test_a_notebook_past_its_time_limit_is_stopped_and_the_next_run_gets_a_new_kernel(project):
    one_chapter(project)
    cdp = partnerships.get("rutland")
    res = runner.run_one(cdp, outputs_root=project / "outputs", notebook_timeout=1.0)
    assert res.status == "failed"
    assert res.message.endswith("timed out: it ran past its time limit of 1 s and was stopped (--notebook-timeout)")
    assert res.output_dir.name == "rutland" and res.output_dir.parent.name == ".failed"
    assert (res.output_dir / "notebooks" / "01_population_profile.ipynb").is_file()  # the partial notebook
    whole = runner.run_one(cdp, outputs_root=project / "outputs", notebook_timeout=600, cdp_timeout=1.0)
    assert whole.status == "failed"
    assert "the CDP's time limit of 1 s for all its notebooks was reached (--cdp-timeout)" in whole.message
    again = runner.run_one(cdp, outputs_root=project / "outputs", cdp_timeout=600)
    kernels.shutdown()
    assert again.status == "succeeded", again.message


def test_each_notebook_in_a_warm_kernel_starts_with_the_short_readiness_check(tmp_path, monkeypatch):
    """The warm kernel's client uses :func:`kernels._until_ready`, not jupyter_client's ``wait_for_ready`` (0.2 s
    of quiet IOPub before every notebook). nbclient binds its synchronous ``start_new_kernel_client`` to its own
    coroutine, so an override of the coroutine alone is never called; this fails if that happens again."""
    import nbformat

    checks = []
    until_ready = kernels._until_ready

    async def counted(kc, km, timeout):
        checks.append(timeout)
        await until_ready(kc, km, timeout)

    monkeypatch.setattr(kernels, "_until_ready", counted)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
                                         nbformat.v4.new_code_cell("y = x + 1\ny")])
    nb.metadata["kernelspec"] = {"name": runner.kernel_name(), "display_name": "Python", "language": "python"}
    source = tmp_path / "tiny.ipynb"
    nbformat.write(nb, source)
    warm = kernels.WarmKernel(runner.kernel_name(), tmp_path / "kernel.log")
    try:
        for x in (1, 2):
            warm.run(source, tmp_path / f"out{x}.ipynb", {"x": x})
    finally:
        warm.stop()
    assert checks == [kernels.STARTUP_TIMEOUT] * 2
    out = nbformat.read(tmp_path / "out2.ipynb", as_version=4)
    assert out.cells[-1].outputs[0]["data"]["text/plain"] == "3"


def _kernelspec(folder: Path, name: str, fails: int) -> Path:
    """A kernel that exits at once the first ``fails`` times it is started, then starts normally."""
    spec = folder / "kernels" / name
    spec.mkdir(parents=True)
    counter = folder / f"{name}.starts"
    script = textwrap.dedent(f"""
        import pathlib, sys
        counter = pathlib.Path({str(counter)!r})
        n = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(n + 1))
        if n < {fails}:
            sys.exit(1)
        from ipykernel import kernelapp
        kernelapp.launch_new_instance()
    """)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", script, "-f", "{connection_file}"], "display_name": name,
        "language": "python"}))
    return counter


def test_a_kernel_that_fails_to_start_is_tried_again(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setattr(kernels, "RETRY_PAUSE", 0.1)
    counter = _kernelspec(tmp_path, "flaky", fails=1)
    warm = kernels.WarmKernel("flaky", tmp_path / "kernel.log")
    try:
        warm.start()
        assert warm.alive() and counter.read_text() == "2"
    finally:
        warm.stop()
    assert "did not start (attempt 1 of 2)" in caplog.text


def test_a_kernel_that_never_starts_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    monkeypatch.setattr(kernels, "RETRY_PAUSE", 0.1)
    _kernelspec(tmp_path, "broken", fails=99)
    with pytest.raises(kernels.KernelStartError) as exc:
        kernels.WarmKernel("broken", tmp_path / "kernel.log").start()
    assert "the Jupyter kernel 'broken' did not start after 2 attempts" in str(exc.value)
    assert str(tmp_path / "kernel.log") in str(exc.value)


@pytest.mark.slow
def test_a_parallel_batch_survives_a_failing_cdp_and_only_failed_runs_it_again(project, cli):
    one_chapter(project)
    driver = draft_chapter(project / "notebooks" / "99_draft_chapter.ipynb")
    northants = (project / NORTHANTS).read_text()
    write(project / NORTHANTS, northants + "chapters: [population_profile, draft_chapter]\n")
    proc = cli("run", "nottinghamshire", "northamptonshire", "rutland", "--jobs", "2", root=project, script=driver)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "2 of 3 CDP(s) succeeded" in proc.stdout
    table = proc.stdout[proc.stdout.index("Not done"):].splitlines()
    assert table[1].split() == ["CDP", "notebook", "error", "partial", "notebook"]
    row = table[2]
    assert row.split()[:2] == ["northamptonshire", "99_draft_chapter"]
    assert "ValueError: draft chapter: figures not finished" in row
    assert row.rstrip().endswith(".failed/northamptonshire/notebooks/99_draft_chapter.ipynb")
    partial = json.loads((project / "outputs/.failed/northamptonshire/notebooks/99_draft_chapter.ipynb").read_text())
    ids = [c["id"] for c in partial["cells"]]
    assert len(ids) == len(set(ids)) and "DuplicateCellId" not in proc.stderr  # papermill's error notes too
    state = json.loads((project / "outputs" / "batch.json").read_text())["cdps"]
    assert {k: v["status"] for k, v in state.items()} == {"nottinghamshire": "succeeded", "rutland": "succeeded",
                                                            "northamptonshire": "failed"}
    page = (project / "outputs" / "index.html").read_text()
    assert 'href="nottinghamshire/report.html"' in page and 'href="rutland/report.html"' in page
    assert "Not done (1)" in page and "99_draft_chapter" in page
    combined = (project / "outputs" / "all_cdps.csv").read_text().splitlines()
    assert combined[0].startswith("cdp,table,indicator_id,")
    assert {line.split(",")[0] for line in combined[1:]} == {"nottinghamshire", "rutland"}

    # the chapter is fixed: --only-failed runs northamptonshire alone, and the others are left as they are
    before = (project / "outputs" / "nottinghamshire" / "run.json").stat().st_mtime_ns
    write(project / NORTHANTS, northants)
    again = cli("run", "--only-failed", root=project, script=driver)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "running again 1 CDP(s) whose last run did not succeed: northamptonshire" in again.stdout
    assert "1 of 1 CDP(s) succeeded" in again.stdout
    assert (project / "outputs" / "nottinghamshire" / "run.json").stat().st_mtime_ns == before
    page = (project / "outputs" / "index.html").read_text()
    assert 'href="northamptonshire/report.html"' in page and "Not done" not in page
    nothing = cli("run", "--only-failed", root=project)
    assert nothing.returncode == 0 and "nothing to run again" in nothing.stdout


@pytest.mark.slow
def test_a_worker_that_dies_fails_only_its_cdp(project, cli):
    """A notebook that kills its worker process (as the out-of-memory killer would): the pool breaks, the CDPs
    it was running are given to a new pool once, the others complete, the culprit fails with a reason."""
    import nbformat

    one_chapter(project)
    driver = draft_chapter(project / "notebooks" / "99_draft_chapter.ipynb")
    nb = nbformat.read(project / "notebooks" / "99_draft_chapter.ipynb", as_version=4)
    nb.cells[1].source = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)"  # the kernel's parent: the worker
    nbformat.write(nb, project / "notebooks" / "99_draft_chapter.ipynb")
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + "chapters: [population_profile, draft_chapter]\n")
    proc = cli("run", "northamptonshire", "nottinghamshire", "rutland", "--jobs", "2", root=project, script=driver)
    assert proc.returncode == 1, proc.stderr
    assert "2 of 3 CDP(s) succeeded" in proc.stdout
    table = [ln for ln in proc.stdout[proc.stdout.index("Not done"):].splitlines()[1:] if ln.startswith("  ")]
    assert table[1].split()[:2] == ["northamptonshire", "-"] and len(table) == 2
    assert "the worker running it stopped: BrokenProcessPool" in table[1]
    assert "it will be run again alone" in proc.stderr
    assert (project / "outputs" / "nottinghamshire" / "report.html").is_file()
    assert (project / "outputs" / "rutland" / "report.html").is_file()


@pytest.mark.slow
def test_the_same_batch_on_a_dask_local_cluster(project, monkeypatch):
    one_chapter(project)
    cdps = [partnerships.get("rutland"), partnerships.get("nottinghamshire")]
    root = project / "outputs"
    results = batch.run_batch(cdps, batch.Options(jobs=2, dask=True, notebook_timeout=600), outputs_root=root)
    assert [(r.slug, r.status) for r in results] == [("rutland", "succeeded"), ("nottinghamshire", "succeeded")]
    assert all((root / c.slug / "report.html").is_file() for c in cdps)
    # up-to-date CDPs are not sent to the cluster at all (no cluster is even started)
    def no_cluster(*a, **kw):
        raise AssertionError("a cluster was started for CDPs that are up to date")

    monkeypatch.setattr(batch, "_run_dask", no_cluster)
    again = batch.run_batch(cdps, batch.Options(jobs=2, dask=True), outputs_root=root)
    assert {r.status for r in again} == {"up to date"}
    assert index.write(root, chapters.key_figures()) == root / "index.html"
    page = (root / "index.html").read_text()
    assert page.count('/report.html">') == 2


def test_an_unknown_key_in_the_batch_config_is_one_clear_error(project):
    path = project / "params" / "batch.yaml"
    path.write_text("jobs: 2\ntimeout: 60\n")
    with pytest.raises(InputError) as exc:
        batch.config()
    message = exc.value.message
    assert str(path) in message and "unknown key 'timeout'" in message and "did you mean 'cdp_timeout'" in message
    path.write_text("jobs: 0\n")
    with pytest.raises(InputError) as exc:
        batch.config()
    assert "key 'jobs'" in exc.value.message


def test_only_failed_with_a_cdp_that_no_longer_exists_names_it(project, cli):
    root = project / "outputs"
    root.mkdir()
    (root / "batch.json").write_text(json.dumps({"cdps": {"gone": {"status": "failed", "key": "gone-cdp"}}}))
    proc = cli("run", "--only-failed", root=project)
    assert proc.returncode == 2 and "unknown CDP or area 'gone-cdp'" in proc.stderr


def test_all_cdps_csv_joined_from_each_cdps_kept_lines_is_the_combined_table_written_at_once(tmp_path, monkeypatch):
    """Each worker keeps its CDP's rows as all_cdps.csv lines; the file joined from them is the bytes the index wrote
    before (every CDP's rows read back from CSV, combined and written at once), whatever each CDP's column types:
    whole-number counts beside fractional ones, numbers beside text in one column, a column one CDP lacks, a column
    with every cell missing, a cell holding a line break, two CDPs with the same types. Kept lines are used where
    the types allow; rows are written again only where they do not, and a cache of an earlier layout is made
    again."""
    import io

    head = ("indicator_id,area_code,area_name,area_role,time_period,time_period_sortable,measure,sex,value,count,"
            "note,unit,source\n")
    rows = {
        "alpha": ["1,A1,Alpha,cdp,2021,20210000,rate,Persons,1.5,12,0.25,%,s", "1,A1,Alpha,cdp,2022,20220000,rate,"
                  "Persons,2.5,14,1e-05,%,s"],  # counts whole, notes numbers
        "beta": ["1,B1,Beta,cdp,2021,20210000,rate,Persons,3.25,12.5,later,%,s"],  # counts fractional, notes text
        "gamma": ["1,C1,Gamma,cdp,2021,20210000,rate,Persons,4,,,%,s"],  # count and note all missing
        "delta": ["1,D1,Delta,cdp,2021,20210000,rate,Persons,5.5,3.5,x,%,s"],
        "epsilon": ['1,E1,Epsilon,cdp,2021,20210000,rate,Persons,6.5,2.5,"one\r\ntwo",%,s'],  # a line break
        "zeta": ["1,Z1,Zeta,cdp,2021,20210000,rate,Persons,7.5,1,2,%,s"],  # alpha's types again
        "eta": ["1,H1,Eta,cdp,2021,20210000,rate,Persons,8.5,1.5,y,%,s"],  # beta's types again
    }
    for slug, lines in rows.items():
        folder = tmp_path / slug
        (folder / "tables").mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"status": "succeeded", "cdp": {"name": slug.title()}}))
        (folder / "tables" / "rates.csv").write_bytes((head + "\n".join(lines) + "\n").encode())
        if slug != "delta":  # delta lacks the column 'extra'
            (folder / "tables" / "more.csv").write_text("area_code,area_role,time_period,measure,extra,value\n"
                                                        f"X,cdp,2021,m,{slug},1\n")
    before_this_change = index._csv(index._combine(
        [index._read_rows(io.StringIO(index._csv(index._own_rows(tmp_path / s)))) for s in sorted(rows)])).encode()
    written_again = []
    real = index.Entry.rows
    monkeypatch.setattr(index.Entry, "rows", lambda self: written_again.append(self.slug) or real(self))
    index.write(tmp_path, ())
    joined = (tmp_path / "all_cdps.csv").read_bytes()
    assert joined == before_this_change
    assert b",4.0," in joined  # gamma's values, all whole numbers, as floats beside the others'
    assert b'"one\r\ntwo"' in joined  # epsilon's kept lines, carriage return and all
    assert sorted(written_again) == ["delta", "gamma"]  # the column 'extra' blank; gamma's values as floats
    # a cache of an earlier layout (no format, rows in another order) is made again, not joined
    cached = json.loads((tmp_path / index.CACHE / "beta.json").read_text())
    del cached["format"]
    (tmp_path / index.CACHE / "beta.json").write_text(json.dumps(cached))
    (tmp_path / index.CACHE / "beta.csv").write_text("stale,rows\n1,2\n")
    index.write(tmp_path, ())
    assert (tmp_path / "all_cdps.csv").read_bytes() == before_this_change


def test_the_index_gives_each_figure_its_number_to_sort_by_and_says_what_is_not_available(tmp_path):
    """Standardised figures only (no crude rates), England's row first, a column only where some CDP has the
    figure, 'not available' where one CDP lacks it, links to each report and summary; the same bytes again."""
    for slug, value, unmet in (("alpha", 1.25, "81"), ("beta", 0.5, "")):
        folder = tmp_path / slug
        (folder / "tables").mkdir(parents=True)
        (folder / "run.json").write_text(json.dumps({"status": "succeeded", "cdp": {"name": slug.title(),
                                                                                   "member_names": [slug.title()]}}))
        head = ("indicator_id,area_code,area_name,area_role,time_period,time_period_sortable,measure,cause,sex,"
                "value,lower_ci,upper_ci,compared_to_england,unit,source\n")
        (folder / "tables" / "drug_deaths_standardised.csv").write_text(
            head + f"1,{slug},{slug.title()},cdp,2019-21,20190000,indirectly standardised ratio,drug misuse,Persons,"
                   f"{value},0.4,2,,x,y\n"
                   f"2,{slug},{slug.title()},cdp,2019-21,20190000,crude rate,drug misuse,Persons,9,1,20,,x,y\n")
        gap = ("indicator_id,area_code,area_name,area_role,time_period,time_period_sortable,measure,substance,sex,"
               "value,lower_ci,upper_ci,compared_to_england,unit,source\n"
               "3,E92000001,England,england,2018/19,20180000,unmet need,alcohol,Persons,82,80,84,,%,y\n")
        if unmet:
            gap += f"3,{slug},{slug.title()},cdp,2018/19,20180000,unmet need,alcohol,Persons,{unmet},70,90,,%,y\n"
        (folder / "tables" / "treatment_gap.csv").write_text(gap)
    assert index.write(tmp_path, chapters.key_figures()) == tmp_path / "index.html"
    page = (tmp_path / "index.html").read_text()
    assert 'data-sort="1.25"' in page and 'data-sort="0.5"' in page
    assert "crude rate" not in page.lower()  # crude death rates are confounded by age: not in the league table
    assert page.count('scope="col" aria-sort="ascending"') == 1 and 'aria-sort="none"' not in page  # on the sorted column only
    assert '<th scope="row" data-sort="Alpha">' in page  # the CDP column sorts by the name shown
    assert 'href="alpha/report.html"' in page and 'href="alpha/summary.html"' in page
    england = page.index('<tr class="england">')
    assert england < page.index('data-sort="Alpha"') and 'data-sort="82.0"' in page[england:page.index("</tr>", england)]
    assert "not available" in page  # beta has no unmet need
    assert "Any drug use" not in page and "Dependent drinkers" not in page  # no CDP has them: no column
    assert "size: A4" in page
    csv = (tmp_path / "all_cdps.csv").read_text().splitlines()
    assert len(csv) == 6 and csv[1].startswith("alpha,drug_deaths_standardised,")  # England rows not repeated
    before = page
    index.write(tmp_path, chapters.key_figures())
    assert (tmp_path / "index.html").read_text() == before  # same folders, same bytes


def test_a_worker_freezes_what_its_first_cdp_left_alive_once_after_collecting_its_garbage():
    """:func:`cdp_analysis.batch.freeze_after_first_run` in a new process: the first call collects a reference
    cycle left behind, then freezes what is alive; a later call freezes nothing more, and a cycle made after the
    freeze is still collected."""
    import subprocess

    code = textwrap.dedent("""
        import gc, weakref
        from cdp_analysis import batch
        class Node: pass
        def cycle():
            a, b = Node(), Node()
            a.other, b.other = b, a
            return weakref.ref(a)
        gc.disable()  # only the calls below collect
        first = cycle()
        batch.freeze_after_first_run()
        frozen = gc.get_freeze_count()
        assert first() is None and frozen > 10_000, frozen
        kept = [Node() for _ in range(1000)]
        later = cycle()
        batch.freeze_after_first_run()
        assert gc.get_freeze_count() == frozen
        assert later() is not None
        gc.collect()
        assert later() is None
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
