"""Wall time of one CDP's run against its floor (the same notebooks with only their imports).

    .venv/bin/python benchmarks/bench_runner.py [cdp] [repeats]

The floor executes, through the same papermill call and kernel, copies of the chapter notebooks that keep
only the parameters cell and the import lines: kernel start-up, imports and papermill overhead. The gap
between the two is the chapters' own work (loading cached tables, computing, plotting, writing, the HTML
report). Run after one warm-up run so the parquet cache is filled. Record results in docs/performance.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill as pm

from cdp_analysis import runner
from cdp_analysis.chapters import partnerships


def imports_only(src: Path, dst: Path) -> None:
    nb = nbformat.read(src, as_version=4)
    keep = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if "parameters" in cell.metadata.get("tags", []):
            keep.append(cell)
            continue
        lines = [ln for ln in cell.source.splitlines() if ln.startswith(("import ", "from "))]
        if lines:
            keep.append(nbformat.v4.new_code_cell("\n".join(lines)))
    nb.cells = keep
    nbformat.write(nb, dst)


def main() -> None:
    slug = sys.argv[1] if len(sys.argv) > 1 else "nottinghamshire"
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    cdp = partnerships.get(slug)
    kernel = runner.kernel_name()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        runner.run_one(cdp, outputs_root=tmp / "warm", kernel=kernel)
        full, floor = [], []
        for i in range(repeats):
            t = time.perf_counter()
            res = runner.run_one(cdp, outputs_root=tmp / f"run{i}", kernel=kernel)
            assert res.status == "succeeded", res.message
            full.append(time.perf_counter() - t)
            t = time.perf_counter()
            for chapter in cdp.chapters():
                stripped = tmp / f"{chapter.notebook}.imports.ipynb"
                imports_only(chapter.notebook_path(), stripped)
                pm.execute_notebook(str(stripped), str(tmp / f"{chapter.notebook}.out.ipynb"),
                                    parameters=runner.notebook_parameters(chapter, cdp, ""), kernel_name=kernel,
                                    progress_bar=False)
            floor.append(time.perf_counter() - t)
    print(f"{slug}: full run median {statistics.median(full):.2f} s (runs: {', '.join(f'{x:.2f}' for x in full)})")
    print(f"{slug}: imports-only floor median {statistics.median(floor):.2f} s (runs: {', '.join(f'{x:.2f}' for x in floor)})")


if __name__ == "__main__":
    main()
