"""Shared fixtures: an isolated copy of the project (to break data or parameters safely) and a CLI runner."""

from __future__ import annotations

import fcntl
import io
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pytest

import cdp_analysis

REPO = Path(__file__).resolve().parent.parent
SHARED_CACHE = REPO / "data" / "cache"  # keyed by checksum, so safe to share with altered copies


def copy_project(root: Path) -> Path:
    """Copy the project's data register, raw data, reference files and params to ``root`` (made here)."""
    (root / "data").mkdir(parents=True)
    shutil.copy2(REPO / "data" / "register.yaml", root / "data" / "register.yaml")
    shutil.copytree(REPO / "data" / "raw", root / "data" / "raw")
    for folder in ("catalogue", "templates", "examples"):  # the project's own reference files
        shutil.copytree(REPO / "data" / folder, root / "data" / folder)
    shutil.copytree(REPO / "params", root / "params")
    return root


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A copy of the project's data, params and notebooks under tmp, made the active project root.

    In-process code sees it through ``CDP_ANALYSIS_ROOT``; outputs go to ``<copy>/outputs``.
    Caches are cleared before and after, so nothing leaks between tests.
    """
    root = copy_project(tmp_path / "project")
    # CDPs one after another in the copy (each test's kernel reused, no worker processes to start): tests of
    # parallel batches ask for --jobs 2 themselves
    batch_yaml = root / "params" / "batch.yaml"
    batch_yaml.write_text(batch_yaml.read_text(encoding="utf-8") + "\njobs: 1\n", encoding="utf-8")
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    monkeypatch.setenv("CDP_ANALYSIS_ROOT", str(root))
    monkeypatch.setenv("CDP_ANALYSIS_CACHE", str(SHARED_CACHE))
    monkeypatch.setenv("CDP_ANALYSIS_OUTPUTS", str(root / "outputs"))
    cdp_analysis.clear_caches()
    yield root
    cdp_analysis.clear_caches()


def one_chapter(root: Path) -> Path:
    """Make a project copy run chapter 1 only (``chapters: [population_profile]`` in its defaults): for tests of
    the runner's mechanics (locks, signals, full disks, atomic swaps), which do not depend on what a chapter
    computes and would otherwise run all five chapters per CDP."""
    defaults = root / "params" / "defaults.yaml"
    defaults.write_text(defaults.read_text(encoding="utf-8") + "\nchapters: [population_profile]\n", encoding="utf-8")
    cdp_analysis.clear_caches()
    return root


def run_cli(*args: str, root: Path | None = None, timeout: int = 600, script: Path | None = None
            ) -> subprocess.CompletedProcess:
    """Run ``cdp ARGS`` in a fresh interpreter (as an analyst would), against ``root`` if given.

    ``script``: a Python file to run instead of ``-m cdp_analysis.cli`` (it must call the CLI itself),
    e.g. one that registers a draft chapter first.
    """
    env = dict(os.environ)
    if root is not None:
        env.update(CDP_ANALYSIS_ROOT=str(root), CDP_ANALYSIS_CACHE=str(SHARED_CACHE),
                   CDP_ANALYSIS_OUTPUTS=str(root / "outputs"))
    command = [str(script)] if script is not None else ["-m", "cdp_analysis.cli"]
    return subprocess.run([sys.executable, *command, *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=root or REPO)


DEFAULT_CDPS = ["nottinghamshire", "northamptonshire"]
#: What a batch writes beside the CDP folders (docs/batch.md): its record, the index and its per-CDP cache.
BATCH_FILES = {"batch.json", "index.html", "all_cdps.csv", ".index"}


def _both_runs(out: Path):
    from cdp_analysis import runner
    from cdp_analysis.chapters import partnerships

    cdps = [partnerships.get(s) for s in DEFAULT_CDPS]
    stream = io.StringIO()
    first = runner.run_many(cdps, outputs_root=out / "a", stream=stream)
    second = runner.run_many(cdps, outputs_root=out / "b", stream=io.StringIO())
    return out, first, second, stream.getvalue()


@pytest.fixture(scope="session")
def runs(tmp_path_factory, worker_id):
    """Both default CDPs run twice into separate roots (session-scoped: the slow part runs once).

    Returns ``(outputs root, first results, second results, progress text of the first run)``; the
    outputs are under ``<root>/a/<slug>`` and ``<root>/b/<slug>``. Under pytest-xdist the runs are made once
    for all workers: the first worker to need them makes them, holding a lock; the others wait and read them.
    """
    if worker_id == "master":
        return _both_runs(tmp_path_factory.mktemp("outputs"))
    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this session
    out, done = shared / "shared-runs", shared / "shared-runs.pickle"
    with open(shared / "shared-runs.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if done.is_file():
            return pickle.loads(done.read_bytes())
        result = _both_runs(out)
        done.write_bytes(pickle.dumps(result))
        return result


@pytest.fixture
def cli():
    """The :func:`run_cli` helper as a fixture."""
    return run_cli


# --- golden notebooks (nbval): a kernel that dies while starting is started once more -------------------------
#: Attempts to start a golden notebook's kernel, as the runner's own kernels have (cdp_analysis.kernels).
NBVAL_START_ATTEMPTS = 2
NBVAL_RETRY_PAUSE = 2.0  # seconds


def _retrying_kernel(base):
    """nbval's kernel class, started up to :data:`NBVAL_START_ATTEMPTS` times, with the kernel's own messages kept.

    nbval starts each golden notebook's kernel once and sends its messages to /dev/null, so a kernel that dies
    while starting (seen in CI while the other test worker was starting kernels of its own) fails every cell of the
    notebook with "Kernel died before replying to kernel_info" and nothing to say why. Here the kernel's stderr goes
    to a file; a failed start is reported as a warning with what the kernel said, and tried once more after a pause.
    A kernel that fails twice fails the notebook, with the kernel's last messages in the error.
    """
    from nbval import kernel as nbval_kernel

    class RetryingKernel(base):
        def __init__(self, kernel_name, cwd=None, startup_timeout=60):
            for attempt in range(1, NBVAL_START_ATTEMPTS + 1):
                with tempfile.NamedTemporaryFile("w+", prefix="nbval-kernel-", suffix=".log") as stderr:
                    try:
                        self.km, self.kc = nbval_kernel.start_new_kernel(
                            startup_timeout=startup_timeout, kernel_name=kernel_name, stderr=stderr, cwd=cwd)
                        self._ensure_iopub_up()
                        return
                    except RuntimeError as problem:
                        if getattr(self, "km", None) is not None:
                            self.kc.stop_channels()
                            self.km.shutdown_kernel(now=True)
                            self.km = self.kc = None
                        stderr.seek(0)
                        said = stderr.read()[-2000:].strip() or "(nothing)"
                        if attempt == NBVAL_START_ATTEMPTS:
                            raise RuntimeError(f"{problem}; the kernel said: {said}") from problem
                        warnings.warn(f"golden notebook kernel did not start ({problem}); the kernel said: {said}; "
                                      "starting it again", stacklevel=2)
                time.sleep(NBVAL_RETRY_PAUSE)

    return RetryingKernel


def pytest_configure(config):
    try:
        import nbval.plugin
    except ImportError:  # nbval not installed: no golden notebooks to run
        return
    nbval.plugin.RunningKernel = _retrying_kernel(nbval.plugin.RunningKernel)


def chapter_figures(slug: str):
    """Every chapter figure of a CDP as (name, draw): ``draw()`` draws it afresh from the chapter's tables (built
    once), in the suite's style."""
    from cdp_analysis.chapters import all_chapters, partnerships
    from cdp_analysis.output import figures

    figures.style()
    cdp = partnerships.get(slug)
    for chapter in all_chapters().values():
        tables = chapter.build(cdp)
        for name, draw in chapter.figures.items():
            yield name, (lambda draw=draw, tables=tables: draw(tables).drawn())
