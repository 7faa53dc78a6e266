"""nbval must catch a changed number: a regression check that cannot fail is worthless.

In a copy of the project, one published population figure for Nottinghamshire (mid-2024, age 30) is
raised by 1,000 (and its 'All ages' total with it, so the file stays internally consistent). Re-running
the golden Nottinghamshire notebook under nbval against that copy must fail, and the failure must be an
output mismatch showing the changed total, not an execution error.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SHARED_CACHE

GOLDEN = Path(__file__).resolve().parent / "golden"
NOTEBOOK = GOLDEN / "01_population_profile__nottinghamshire.ipynb"

pytestmark = pytest.mark.slow


def _bump_population(csv_path: Path, code: str, age: str, delta: int) -> int:
    rows = list(csv.reader(csv_path.open(encoding="utf-8-sig", newline="")))
    header = rows[0]
    i_code, i_age, i_all = header.index("Code"), header.index(age), header.index("All ages")
    for row in rows[1:]:
        if row[i_code] == code:
            row[i_age] = str(int(row[i_age]) + delta)
            row[i_all] = str(int(row[i_all]) + delta)
            new_total = int(row[i_all])
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    return new_total


def _nbval(notebook: Path, root: Path) -> subprocess.CompletedProcess:
    env = {"CDP_ANALYSIS_ROOT": str(root), "CDP_ANALYSIS_CACHE": str(SHARED_CACHE)}
    import os

    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval", "--nbval-current-env",
         "--nbval-sanitize-with", str(GOLDEN / "sanitize.cfg"), "-o", "addopts=", str(notebook)],
        capture_output=True, text=True, env={**os.environ, **env}, cwd=root, timeout=600)


def test_changed_population_figure_fails_nbval(project):
    new_total = _bump_population(project / "data/raw/ons_population/mye24tablesew_MYE2_persons.csv",
                                 "E10000024", "30", 1000)
    assert new_total == 857_013 + 1000  # the published mid-2024 total for Nottinghamshire, plus 1,000
    result = _nbval(NOTEBOOK, project)
    out = result.stdout + result.stderr
    assert result.returncode != 0, out[-3000:]
    assert "mismatch" in out.lower() or "expected" in out.lower(), out[-3000:]
    assert f"{new_total:,}" in out, "the failure report should show the changed figure"
    assert "Notebook cell execution failed" not in out or "mismatch" in out.lower()


class _FakeClient:
    def stop_channels(self):
        pass


class _FakeManager:
    def shutdown_kernel(self, now=False):
        pass


class _Base:
    def _ensure_iopub_up(self):
        pass


def _starter(failures: int):
    """A stand-in for jupyter_client's start_new_kernel that dies ``failures`` times, saying why on stderr."""
    calls = []

    def start_new_kernel(startup_timeout, kernel_name, stderr, cwd):
        calls.append(kernel_name)
        if len(calls) <= failures:
            stderr.write(f"zmq.error.ZMQError: Address already in use (attempt {len(calls)})\n")
            stderr.flush()
            raise RuntimeError("Kernel died before replying to kernel_info")
        return _FakeManager(), _FakeClient()

    return start_new_kernel, calls


def test_a_golden_kernel_that_dies_starting_is_started_again_with_its_reason_shown(monkeypatch):
    import conftest
    from nbval import kernel as nbval_kernel

    start, calls = _starter(failures=1)
    monkeypatch.setattr(nbval_kernel, "start_new_kernel", start)
    monkeypatch.setattr(conftest, "NBVAL_RETRY_PAUSE", 0.0)
    with pytest.warns(UserWarning, match=r"did not start .*Address already in use \(attempt 1\).*starting it again"):
        kernel = conftest._retrying_kernel(_Base)("python3")
    assert calls == ["python3", "python3"] and isinstance(kernel.km, _FakeManager)


def test_a_golden_kernel_that_dies_twice_fails_with_what_it_said(monkeypatch):
    import conftest
    from nbval import kernel as nbval_kernel

    start, calls = _starter(failures=2)
    monkeypatch.setattr(nbval_kernel, "start_new_kernel", start)
    monkeypatch.setattr(conftest, "NBVAL_RETRY_PAUSE", 0.0)
    with pytest.warns(UserWarning), pytest.raises(RuntimeError, match=r"kernel said: .*\(attempt 2\)"):
        conftest._retrying_kernel(_Base)("python3")
    assert len(calls) == conftest.NBVAL_START_ATTEMPTS


def test_the_golden_notebooks_start_their_kernels_through_the_retrying_class():
    import nbval.plugin

    assert nbval.plugin.RunningKernel.__name__ == "RetryingKernel"
