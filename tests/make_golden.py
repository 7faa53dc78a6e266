"""Regenerate the golden executed notebooks that nbval checks (``make golden``).

Executes every chapter notebook for each CDP in :data:`GOLDEN_CDPS` with papermill, writing no output
files (``output_dir=""``), into ``tests/golden/<notebook>__<cdp>.ipynb``. Run it after an intended change
to a notebook, the package or the data; review the diff of the golden notebooks before committing.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import papermill as pm

from cdp_analysis.chapters import partnerships
from cdp_analysis.runner import kernel_name, notebook_parameters

GOLDEN_CDPS = ["nottinghamshire", "northamptonshire"]
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


#: What a figure's SVG is kept as in a golden notebook. nbval compares figures no more than it compared their PNGs
#: (sanitize.cfg reduces every SVG to one token); the byte-identity tests compare the files.
SVG_STUB = "<svg><!-- the figure, not kept in the golden notebook --></svg>"


def golden_path(notebook: str, cdp: str) -> Path:
    return GOLDEN_DIR / f"{notebook}__{cdp}.ipynb"


def _stable(path: Path) -> None:
    """Drop what changes on every run (timings, timestamps, absolute paths, memory addresses, random cell ids),
    so that the diff of regenerated golden notebooks shows only real changes. nbval ignores metadata, and it
    sanitises memory addresses on both sides (sanitize.cfg), so the check itself is unaffected."""
    nb = nbformat.read(path, as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("duration", "start_time", "end_time", "input_path", "output_path"):
        meta.pop(key, None)
    nb.metadata.get("language_info", {}).pop("version", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell["id"] = "injected-parameters"
        for out in cell.get("outputs", []):
            if "image/svg+xml" in out.get("data", {}):  # a figure: not compared (sanitize.cfg), so not kept
                out["data"]["image/svg+xml"] = SVG_STUB
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/"):
                    text = "".join(value) if isinstance(value, list) else value
                    out["data"][mime] = re.sub(r"0x[0-9a-fA-F]{6,16}", "0xADDRESS", text)
    nbformat.write(nb, path)


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
            _stable(target)
            print(f"wrote {target.relative_to(Path.cwd()) if target.is_relative_to(Path.cwd()) else target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
