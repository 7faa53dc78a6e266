"""Batch timings for docs/performance.md: per-CDP time against its floor, compute-once, parallel efficiency.

    .venv/bin/python benchmarks/bench_batch.py [N] [--cold] [--parallel]   # N CDPs (default 4), all chapters

By default it measures issue 29's before and after, side by side in one run: **before**, each figure also
written as a 2× PNG (``figure_png: true``) and every all-area result kept in memory only
(``CDP_ANALYSIS_EDITION_CACHE=off``), as the suite worked before issue 29; **after**, the defaults (SVG only,
all-area results read from ``data/cache/edition/``, filled by one run beforehand); and the warm-kernel floor.
``--cold`` and ``--parallel`` add issue 14's measurements below (items 1 and 4).

Measures, on the CDPs ``rutland, nottinghamshire, northamptonshire, …`` (the first N of ``cdp areas``' order
after these three), each run with ``--force`` into a temporary output root:

1. **before compute-once (cold, ``--cold``):** every notebook in a new kernel, as the runner worked before warm kernels
   (``WarmKernel.run`` made to stop its kernel after each notebook), one process, per-CDP seconds (the first two
   CDPs: it is slow);
2. **after (warm):** the same CDPs one after another in one process and its warm kernel: the first CDP pays for
   the kernel start, imports and loading the data; the others reuse them;
3. **the floor:** the same notebooks cut to their parameters cell and import lines, run the same two ways
   (a new kernel per notebook, two CDPs; one warm kernel, N CDPs);
4. **parallel efficiency on the machine's cores (``--parallel``):** the N CDPs with ``--jobs 1`` and ``--jobs <cores>`` (worker
   processes), efficiency = T(1) / (cores × T(cores)).

The no-op re-run and the full ``cdp run --all`` are timed from the command line (docs/performance.md says how).
Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from cdp_analysis import batch, kernels, runner
from cdp_analysis.chapters import partnerships

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_runner import imports_only  # noqa: E402 - the same floor as the per-CDP benchmark

FIRST = ["rutland", "nottinghamshire", "northamptonshire"]


def cdps(n: int):
    rest = [c for c in partnerships.all_partnerships() if c.slug not in FIRST]
    return [partnerships.get(s) for s in FIRST][:n] + rest[: max(n - len(FIRST), 0)]


def serial(chosen, root: Path, *, cold: bool) -> list[float]:
    original = kernels.WarmKernel.run

    def run_then_stop(self, *a, **kw):
        try:
            return original(self, *a, **kw)
        finally:
            self.stop()

    if cold:
        kernels.WarmKernel.run = run_then_stop
    try:
        times = []
        for cdp in chosen:
            t = time.perf_counter()
            res = runner.run_one(cdp, outputs_root=root, force=True)
            assert res.status == "succeeded", res.message
            times.append(time.perf_counter() - t)
        return times
    finally:
        kernels.WarmKernel.run = original
        kernels.shutdown()


def floor(chosen, tmp: Path, *, cold: bool) -> list[float]:
    kernel = runner.kernel_name()
    warm = kernels.warm_kernel(kernel, tmp / "floor-kernel.log")
    times = []
    for cdp in chosen:
        t = time.perf_counter()
        for chapter in cdp.chapters():
            stripped = tmp / f"{chapter.notebook}.imports.ipynb"
            imports_only(chapter.notebook_path(), stripped)
            params = runner.notebook_parameters(chapter, cdp, "")
            warm.run(stripped, tmp / f"{chapter.notebook}.out.ipynb", params)
            if cold:
                warm.stop()
        times.append(time.perf_counter() - t)
    kernels.shutdown()
    return times


def parallel(chosen, root: Path, jobs: int) -> float:
    t = time.perf_counter()
    results = batch.run_batch(chosen, batch.Options(jobs=jobs, force=True), outputs_root=root,
                              stream=open("/dev/null", "w"))
    assert all(r.status == "succeeded" for r in results), [r.message for r in results]
    return time.perf_counter() - t


def _fmt(xs: list[float]) -> str:
    return ", ".join(f"{x:.1f}" for x in xs)


def _with_png(cdp):
    import dataclasses

    return dataclasses.replace(cdp, settings=cdp.settings.model_copy(update={"figure_png": True}))


def before_after(chosen, tmp: Path) -> tuple[list[float], list[float]]:
    """Per-CDP seconds in one warm kernel, before issue 29 (PNG too, all-area results in memory only) and after."""
    import os

    from cdp_analysis import edition_cache

    os.environ[edition_cache.SWITCH_ENV] = "off"  # the kernel (started next) inherits it
    try:
        before = serial([_with_png(c) for c in chosen], tmp / "before", cold=False)
    finally:
        del os.environ[edition_cache.SWITCH_ENV]
    serial(chosen[:1], tmp / "fill", cold=False)  # the edition's all-area results computed and kept
    after = serial(chosen, tmp / "after", cold=False)
    return before, after


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 4
    chosen = cdps(n)
    cores = batch.default_jobs()
    runner.check_inputs(chosen)  # parquet cache warm, as in a real batch after `check_inputs`
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before, after = before_after(chosen, tmp)
        floor_warm = floor(chosen, tmp, cold=False)
        cold = serial(chosen[:2], tmp / "cold", cold=True) if "--cold" in sys.argv else []
        floor_cold = floor(chosen[:2], tmp, cold=True) if "--cold" in sys.argv else []
        if "--parallel" in sys.argv:
            t1 = parallel(chosen, tmp / "p1", 1)
            tn = parallel(chosen, tmp / f"p{cores}", cores)
    floor_median = statistics.median(floor_warm[1:])
    print(f"CDPs: {', '.join(c.slug for c in chosen)} (all chapters)")
    for label, times in (("before issue 29", before), ("after issue 29", after)):
        median = statistics.median(times[1:])
        print(f"{label + ':':17}  per CDP {_fmt(times)} s; median after the first {median:.1f} s "
              f"({median / floor_median:.1f}x the floor)")
    print(f"floor, warm kernel:  per CDP {_fmt(floor_warm)} s; median after the first {floor_median:.1f} s")
    if cold:
        print(f"cold kernels:        per CDP {_fmt(cold)} s; median {statistics.median(cold):.1f} s")
        print(f"floor, cold kernels: per CDP {_fmt(floor_cold)} s; median {statistics.median(floor_cold):.1f} s")
    if "--parallel" in sys.argv:
        print(f"batch of {n}: --jobs 1 {t1:.1f} s, --jobs {cores} {tn:.1f} s; "
              f"parallel efficiency {t1 / (cores * tn):.0%}")


if __name__ == "__main__":
    main()
