"""Batch timings for docs/performance.md: per-CDP time against its floor, compute-once, parallel efficiency.

    .venv/bin/python benchmarks/bench_batch.py [N]          # N CDPs (default 4) from `cdp areas`, all chapters

Measures, on the CDPs ``rutland, nottinghamshire, northamptonshire, …`` (the first N of ``cdp areas``' order
after these three), each run with ``--force`` into a temporary output root:

1. **before compute-once (cold):** every notebook in a new kernel, as the runner worked before warm kernels
   (``WarmKernel.run`` made to stop its kernel after each notebook), one process, per-CDP seconds (the first two
   CDPs: it is slow);
2. **after (warm):** the same CDPs one after another in one process and its warm kernel: the first CDP pays for
   the kernel start, imports and loading the data; the others reuse them;
3. **the floor:** the same notebooks cut to their parameters cell and import lines, run the same two ways
   (a new kernel per notebook, two CDPs; one warm kernel, N CDPs);
4. **parallel efficiency on the machine's cores:** the N CDPs with ``--jobs 1`` and ``--jobs <cores>`` (worker
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    chosen = cdps(n)
    cores = batch.default_jobs()
    runner.check_inputs(chosen)  # parquet cache warm, as in a real batch after `check_inputs`
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold = serial(chosen[:2], tmp / "cold", cold=True)
        warm = serial(chosen, tmp / "warm", cold=False)
        floor_cold = floor(chosen[:2], tmp, cold=True)
        floor_warm = floor(chosen, tmp, cold=False)
        t1 = parallel(chosen, tmp / "p1", 1)
        tn = parallel(chosen, tmp / f"p{cores}", cores)
    print(f"CDPs: {', '.join(c.slug for c in chosen)} (all chapters)")
    print(f"cold kernels (before): per CDP {_fmt(cold)} s; median {statistics.median(cold):.1f} s")
    print(f"warm kernel (after):   per CDP {_fmt(warm)} s; median after the first {statistics.median(warm[1:]):.1f} s")
    print(f"floor, cold kernels:   per CDP {_fmt(floor_cold)} s; median {statistics.median(floor_cold):.1f} s")
    print(f"floor, warm kernel:    per CDP {_fmt(floor_warm)} s; median after the first "
          f"{statistics.median(floor_warm[1:]):.1f} s")
    print(f"batch of {n}: --jobs 1 {t1:.1f} s, --jobs {cores} {tn:.1f} s; "
          f"parallel efficiency {t1 / (cores * tn):.0%}")


if __name__ == "__main__":
    main()
