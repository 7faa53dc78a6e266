"""Runs that survive interrupts, full or read-only disks, concurrent use and dead processes.

Signals are sent to a real ``cdp run`` child process; disk errors are simulated without root by a driver
script that patches the write path and then calls the command line (as an analyst's run would fail).
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import BATCH_FILES, SHARED_CACHE, one_chapter

from cdp_analysis import locks
from cdp_analysis.data import cache

pytestmark = pytest.mark.slow



@pytest.fixture
def project(project):
    """The project copy, running chapter 1 only: these tests check the runner's mechanics (conftest.one_chapter)."""
    return one_chapter(project)

def _env(root: Path) -> dict:
    env = dict(os.environ)
    env.update(CDP_ANALYSIS_ROOT=str(root), CDP_ANALYSIS_CACHE=str(SHARED_CACHE),
               CDP_ANALYSIS_OUTPUTS=str(root / "outputs"))
    return env


def _start(root: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cdp_analysis.cli", "run", *args], cwd=root, env=_env(root),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _children(pid: int) -> set[int]:
    """PIDs whose parent is ``pid`` (from /proc)."""
    kids = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == pid:
            kids.add(int(stat_file.parent.name))
    return kids


def _wait_for_kernel(proc: subprocess.Popen, timeout: float = 60) -> set[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = _children(proc.pid)
        if kids:
            time.sleep(1.0)  # let the kernel start executing cells
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("no kernel started")


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_stops_the_kernel_keeps_the_attempt_in_failed_and_says_what_finished(project, signum, status):
    outputs = project / "outputs"
    proc = _start(project, "nottinghamshire", "northamptonshire", "--jobs", "1")
    kernels = _wait_for_kernel(proc)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert f"stopped by {signal.Signals(signum).name}" in err
    assert "nottinghamshire" in out and "interrupted" in out and "not run: northamptonshire" in out
    assert sorted(p.name for p in outputs.iterdir()) == [".failed", "batch.json"], \
        "no partial folder or lock left behind"
    assert (outputs / ".failed" / "nottinghamshire" / "run.log").is_file()
    assert json.loads((outputs / ".failed" / "nottinghamshire" / "run.json").read_text())["status"] == "interrupted"
    time.sleep(0.5)
    assert not [k for k in kernels if Path(f"/proc/{k}").exists()], "the kernel outlived the run"


def _descendants(pid: int) -> set[int]:
    found, todo = set(), [pid]
    while todo:
        kids = _children(todo.pop())
        found |= kids
        todo += kids
    return found


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_to_a_parallel_batch_stops_every_worker_and_kernel(project, signum, status):
    """`kill` of the `cdp` process alone (SIGTERM), or Ctrl-C as a terminal sends it, to the process group."""
    outputs = project / "outputs"
    proc = subprocess.Popen([sys.executable, "-m", "cdp_analysis.cli", "run", "nottinghamshire", "rutland",
                             "northamptonshire", "--jobs", "2"], cwd=project, env=_env(project),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(_descendants(proc.pid) - _children(proc.pid)) < 2:  # a kernel under each worker
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.2)
    time.sleep(1.0)
    spawned = _descendants(proc.pid)
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert f"stopped by {signal.Signals(signum).name}" in err
    interrupted = {ln.split()[0] for ln in out.splitlines() if " interrupted " in ln}
    assert interrupted == {"nottinghamshire", "rutland"}, out
    assert "not run: northamptonshire (1 CDP(s))" in out
    assert sorted(p.name for p in outputs.iterdir()) == [".failed", "batch.json"]
    deadline = time.monotonic() + 10  # helpers (multiprocessing's resource tracker) exit once `cdp` has gone
    while [k for k in spawned if Path(f"/proc/{k}").exists()] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [k for k in spawned if Path(f"/proc/{k}").exists()], "a worker or kernel outlived the run"


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_partial_folders_and_locks_of_dead_processes_are_cleaned_at_the_next_run(project, cli):
    outputs = project / "outputs"
    dead = _dead_pid()
    stale = [outputs / f".nottinghamshire.partial-{dead}-abc123", outputs / f".nottinghamshire.old-{dead}-x1"]
    for folder in stale:
        (folder / "notebooks").mkdir(parents=True)
    (outputs / ".nottinghamshire.lock").write_text(json.dumps({"pid": dead, "host": locks._HOST, "since": "then"}))
    live = outputs / f".northamptonshire.partial-{os.getpid()}-keep"  # a live process's folder is left alone
    live.mkdir()
    res = cli("run", "nottinghamshire", root=project)
    assert res.returncode == 0, res.stderr
    assert not any(f.exists() for f in stale) and live.is_dir()
    assert not (outputs / ".nottinghamshire.lock").exists()


def test_a_cdp_being_run_by_a_live_process_is_refused_clearly(project, cli):
    outputs = project / "outputs"
    outputs.mkdir()
    (outputs / ".nottinghamshire.lock").write_text(json.dumps({"pid": os.getpid(), "host": locks._HOST,
                                                               "since": "2026-12-01 09:00:00"}))
    res = cli("run", "nottinghamshire", root=project)
    assert res.returncode == 3, res.stderr
    assert "nottinghamshire is already being run by process" in res.stderr and "wait for that run" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (outputs / "nottinghamshire").exists()
    other = cli("run", "northamptonshire", root=project)  # another CDP runs meanwhile
    assert other.returncode == 0, other.stderr


def test_two_runs_of_the_same_cdp_never_race(project):
    first, second = _start(project, "nottinghamshire"), _start(project, "nottinghamshire")
    results = [p.communicate(timeout=300) + (p.returncode,) for p in (first, second)]
    codes = sorted(r[2] for r in results)
    assert codes in ([0, 0], [0, 3]), results
    if codes == [0, 3]:
        assert "already being run" in next(r[1] for r in results if r[2] == 3)
    left = sorted(p.name for p in (project / "outputs").iterdir() if p.name not in BATCH_FILES)
    assert left == ["nottinghamshire"]  # no .old/.partial/.lock


def _driver(tmp: Path, patch: str) -> Path:
    """A script that applies ``patch`` (Python source) and then runs the command line."""
    script = tmp / "driver.py"
    script.write_text("import errno, os, pathlib, sys\n" + textwrap.dedent(patch)
                      + "\nfrom cdp_analysis.cli import main\nif __name__ == '__main__':\n    sys.exit(main())\n")
    return script


def test_read_only_output_folder_is_one_clear_message(project, cli, tmp_path):
    script = _driver(tmp_path, """
        real_mkdir = pathlib.Path.mkdir
        def mkdir(self, *a, **k):
            if "readonly" in str(self):
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            return real_mkdir(self, *a, **k)
        pathlib.Path.mkdir = mkdir
    """)
    res = cli("run", "nottinghamshire", "--outputs", str(project / "readonly" / "out"), root=project, script=script)
    assert res.returncode == 3, res.stderr
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) <= 3, res.stderr
    assert "Read-only file system" in res.stderr and "readonly" in res.stderr and "--outputs DIR" in res.stderr


def test_full_disk_while_writing_keeps_earlier_outputs_and_leaves_no_partial_folder(project, cli, tmp_path):
    first = cli("run", "nottinghamshire", root=project)
    assert first.returncode == 0, first.stderr
    final = project / "outputs" / "nottinghamshire"
    before = {p.relative_to(final): p.read_bytes() for p in final.rglob("*") if p.is_file()}
    script = _driver(tmp_path, """
        from cdp_analysis.output import manifest
        def full(*a, **k):
            raise OSError(errno.ENOSPC, "No space left on device", str(a[-1]))
        manifest.write = full
    """)
    # one after another (--jobs 1): the patch is made in this process, and the full disk stops the batch
    res = cli("run", "--force", "nottinghamshire", "northamptonshire", "--jobs", "1", root=project, script=script)
    assert res.returncode == 3, res.stderr
    assert "No space left on device" in res.stderr and "free some space" in res.stderr
    assert "Traceback" not in res.stderr
    assert "not run: northamptonshire" in res.stdout  # a full disk stops the batch
    after = {p.relative_to(final): p.read_bytes() for p in final.rglob("*") if p.is_file()}
    assert after == before, "the earlier outputs are unchanged"
    assert sorted(p.name for p in (project / "outputs").iterdir() if p.name not in BATCH_FILES) == [
        ".failed", "nottinghamshire"]


def test_cache_files_and_folders_are_readable_by_a_second_user_whatever_the_umask(tmp_path, monkeypatch):
    import cdp_analysis
    from cdp_analysis.data import lookups

    monkeypatch.setenv("CDP_ANALYSIS_CACHE", str(tmp_path / "shared" / "cache"))
    cdp_analysis.clear_caches()
    old = os.umask(0o077)
    try:
        cached = cache.cached_parse(lookups.upper_tier_areas_file(), lambda p: pd.read_csv(p), name="t", version=1)
    finally:
        os.umask(old)
        cdp_analysis.clear_caches()
    assert len(cached) == 153
    (made,) = (tmp_path / "shared" / "cache").glob("*.parquet")
    for path in (made, made.parent, made.parent.parent):
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & stat.S_IRGRP and mode & stat.S_IROTH, (path, oct(mode))
