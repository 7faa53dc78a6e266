"""The run manifest (``run.json``): what produced an output folder, so it can be reproduced.

Records package versions, Python and platform, the git commit (and whether the work tree had
uncommitted changes), the CDP and the parameters each chapter notebook received, the SHA-256 of every
raw data file, each output table and figure with the raw files it was computed from and the inputs that chose
its rows (``decided_by``: comparator set, outcomes catalogue, local files; see :mod:`cdp_analysis.output.provenance`
and ``docs/output-schema.md``), each notebook's status and timing, and the overall status.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .. import __version__, paths
from ..data import register
from ..files import write_atomic

#: Packages whose versions every manifest records.
KEY_PACKAGES = ["cdp-analysis", "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "papermill",
                "nbconvert", "nbformat", "ipykernel", "jupyter_client", "openpyxl", "pyarrow", "pydantic", "PyYAML"]


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`KEY_PACKAGES` ('not installed' where absent)."""
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state() -> dict[str, object]:
    """The checkout's commit and whether tracked files have uncommitted changes (None outside git)."""
    root = paths.project_root()

    def git(*args: str) -> str | None:
        try:
            res = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return res.stdout.strip() if res.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def build(*, cdp: dict, parameters: dict, notebooks: list[dict], status: str, started: str, finished: str,
          seconds: float, output_dir: str, outputs: dict | None = None, area_definitions: dict | None = None,
          job_key: str = "", consistency: dict | None = None, data_editions: dict | None = None) -> dict:
    """Assemble the manifest dictionary.

    ``parameters`` maps each chapter to the parameters its notebook received; ``output_dir`` is the
    folder the outputs end up in; ``outputs`` maps each table and figure to the raw files it read and the
    inputs that decided its rows (:func:`cdp_analysis.output.provenance.collect`);
    ``area_definitions`` lists the lookup files every output depends on (area codes, names, boundaries);
    ``job_key`` identifies the inputs, code and settings of the run (:func:`cdp_analysis.jobs.job_key`);
    ``consistency`` what the check that the outputs agree with themselves looked at
    (:func:`cdp_analysis.output.consistency.check`); ``data_editions`` the edition of each dataset read and
    where it came from, the bundle or ``cdp update`` (:func:`cdp_analysis.output.provenance.data_editions`).
    """
    return {
        "output_dir": output_dir,
        "outputs": outputs or {},
        "area_definitions": area_definitions or {},
        "cdp_analysis_version": __version__,
        "status": status,
        "job_key": job_key,
        "consistency": consistency or {},
        "data_editions": data_editions or {},
        "cdp": cdp,
        "parameters": parameters,
        "notebooks": notebooks,
        "started": started,
        "finished": finished,
        "duration_seconds": round(seconds, 2),
        "git": git_state(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": package_versions(),
        "data_sha256": register.raw_checksums(),
    }


def write(manifest: dict, path: Path) -> None:
    """Write ``run.json`` (sorted keys, 2-space indent)."""
    write_atomic(path, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")
