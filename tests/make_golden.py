"""Regenerate the golden executed notebooks that nbval checks (``make golden``).

Executes every chapter notebook for each CDP in :data:`GOLDEN_CDPS` with papermill, writing no output
files (``output_dir=""``), into ``tests/golden/<notebook>__<cdp>.ipynb``. Run it after an intended change
to a notebook, the package or the data; review the diff of the golden notebooks before committing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import papermill as pm

from cdp_analysis.areas import partnerships
from cdp_analysis.runner import kernel_name, notebook_parameters

GOLDEN_CDPS = ["nottinghamshire", "northamptonshire"]
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def golden_path(notebook: str, cdp: str) -> Path:
    return GOLDEN_DIR / f"{notebook}__{cdp}.ipynb"


def main() -> int:
    kernel = kernel_name()
    GOLDEN_DIR.mkdir(exist_ok=True)
    for slug in GOLDEN_CDPS:
        cdp = partnerships.get(slug)
        for chapter in cdp.chapters():
            target = golden_path(chapter.notebook, slug)
            pm.execute_notebook(str(chapter.notebook_path()), str(target),
                                parameters=notebook_parameters(chapter, cdp, output_dir=""), kernel_name=kernel,
                                cwd=str(GOLDEN_DIR), progress_bar=False)
            print(f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
