"""Where a CDP's time goes: the notebooks' code step by step, and the runner's work around the notebooks.

    .venv/bin/python benchmarks/bench_steps.py [CDP,CDP,...]   # default rutland,nottinghamshire,barnet,northamptonshire,bedford

Two measurements, each after a first CDP that loads the data (its time is not counted), each the mean per CDP of
the others (docs/performance.md, issue 29's "Sixth pass"):

1. **The notebooks' code in this process** (no kernel, no papermill): each chapter notebook's code cells run in
   order with the CDP's parameters, their displays dropped. Reported: the seconds of each chapter; of each
   chapter's ``build``; of writing and showing figures (``notebook.show_figure``) and tables
   (``notebook.show_table``) and their parts (the layout, the saved area, the SVG; conforming, the two CSV copies,
   the checks, the HTML); and the cyclic garbage collector's (``gc.callbacks``). Drawing a figure is what is left of
   a chapter once these are taken away.
2. **The runner's work around the notebooks** (:func:`cdp_analysis.runner.run_one` in this process, with its warm
   kernel): the kernel's run of each notebook (its code, IPython and papermill together), making each executed
   notebook stable, the report, the consistency check and the provenance; and this process's own processor time
   per CDP (papermill's client and the steps above; the kernel is another process).

Not a test: timings depend on the machine and its load, which on the 2-core machine of docs/performance.md changes
by ±10–40% from minute to minute; compare two versions of the code by alternating runs.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import gc
import io
import logging
import sys
import tempfile
import time
from pathlib import Path

DEFAULT = ["rutland", "nottinghamshire", "barnet", "northamptonshire", "bedford"]


class Timer:
    """Inclusive wall seconds and calls of wrapped functions (a function called inside another counts in both)."""

    def __init__(self):
        self.seconds: collections.Counter = collections.Counter()
        self.calls: collections.Counter = collections.Counter()

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1

        if isinstance(owner, type) or not hasattr(owner, "__dataclass_fields__"):
            setattr(owner, name, timed)
        else:  # the registry's Chapter objects are frozen dataclasses
            object.__setattr__(owner, name, timed)

    def clear(self) -> None:
        self.seconds.clear()
        self.calls.clear()

    def report(self, per: int, title: str) -> None:
        print(f"\n{title} (seconds per CDP, mean of {per})")
        for label, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            print(f"  {label:46s} {seconds / per:7.3f}   ({self.calls[label] // per} calls)")


class GcTimer:
    """Seconds the cyclic garbage collector ran (``gc.callbacks``)."""

    def __init__(self):
        self.seconds = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase, info):
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start


def notebook_code(names: list[str]) -> None:
    """Measurement 1: the notebooks' code cells in this process."""
    import matplotlib

    matplotlib.use("Agg")
    import IPython.display
    import matplotlib.pyplot as plt
    import nbformat

    from cdp_analysis import runner
    from cdp_analysis.chapters import partnerships, registry
    from cdp_analysis.output import figures, notebook, table_html, tidy

    IPython.display.display = lambda *a, **k: None  # a notebook's displays go nowhere (no front end here)
    timer = Timer()
    for chapter in registry.all_chapters().values():
        timer.wrap(chapter, "build", f"build: {chapter.name}")
    for name in ("show_figure", "show_table"):
        timer.wrap(notebook, name, f"notebook.{name}")
    for name in ("lay_out", "tight_bbox", "svg_bytes", "alt_text"):
        timer.wrap(figures, name, f"  figures.{name}")
    for name in ("save_table", "conform", "check_tidy", "_csv_text", "_fingertips_text"):
        timer.wrap(tidy, name, f"  tidy.{name}")
    timer.wrap(table_html, "render", "  table_html.render")
    collector = GcTimer()
    chapter_seconds: collections.Counter = collections.Counter()
    out = Path(tempfile.mkdtemp(prefix="bench-steps-"))

    def run(slug: str) -> None:
        cdp = partnerships.get(slug)
        for chapter in cdp.chapters():
            params = runner.notebook_parameters(chapter, cdp, str(out / slug))
            nb = nbformat.read(runner._notebook_path(chapter), as_version=4)
            namespace = {"__name__": "__main__"}
            start = time.perf_counter()
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(compile(code, chapter.notebook, "exec"), namespace)  # noqa: S102 - the project's own notebooks
                if "parameters" in cell.metadata.get("tags", []):
                    namespace.update(params)
            chapter_seconds[chapter.name] += time.perf_counter() - start
            plt.close("all")

    run(names[0])
    timer.clear()
    chapter_seconds.clear()
    collector.seconds = 0.0
    start = time.perf_counter()
    for slug in names[1:]:
        run(slug)
    per = len(names) - 1
    total = time.perf_counter() - start
    print(f"1. the notebooks' code in one process: {total / per:.2f} s per CDP ({', '.join(names[1:])})")
    for name, seconds in chapter_seconds.items():
        print(f"  chapter {name:38s} {seconds / per:7.3f}")
    print(f"  garbage collection {collector.seconds / per:33.3f}")
    timer.report(per, "   steps")


def runner_steps(names: list[str]) -> None:
    """Measurement 2: the runner's work around the notebooks, with its warm kernel."""
    from cdp_analysis import kernels, runner
    from cdp_analysis.chapters import partnerships
    from cdp_analysis.output import consistency, provenance, report

    logging.getLogger("cdp_analysis").setLevel(logging.WARNING)  # the notebooks' code set it to INFO
    timer = Timer()
    timer.wrap(kernels.WarmKernel, "run", "the kernel runs a notebook")
    timer.wrap(runner, "stabilise_notebook", "making the executed notebook stable")
    timer.wrap(report, "write_html", "the report")
    timer.wrap(consistency, "check", "the consistency check")
    timer.wrap(provenance, "collect", "collecting the provenance")
    root = Path(tempfile.mkdtemp(prefix="bench-steps-"))
    runner.run_one(partnerships.get(names[0]), outputs_root=root)
    timer.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    for slug in names[1:]:
        runner.run_one(partnerships.get(slug), outputs_root=root)
    per = len(names) - 1
    print(f"\n2. the runner, one CDP after another: {(time.perf_counter() - wall) / per:.2f} s per CDP; this "
          f"process's processor time {(time.process_time() - cpu) / per:.2f} s per CDP")
    timer.report(per, "   steps")
    kernels.shutdown()


def main(argv: list[str]) -> int:
    names = argv[0].split(",") if argv else DEFAULT
    if len(names) < 2:
        raise SystemExit("give at least two CDPs: the first loads the data and is not counted")
    notebook_code(names)
    runner_steps(names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
