"""Timing benchmark for the statistics core (a script, not a test).

Run:  .venv/bin/python benchmarks/bench_stats.py

Cases (each timed as the best of ``REPEATS`` runs, wall clock, after one warm-up):
* proportion and crude_rate on 1,000,000 rows: ungrouped (-> 1 row), grouped into 10,000
  groups, and "row-wise" (1,000,000 groups of one row, i.e. R's ungrouped behaviour);
* dsr for 153 areas x 20 years x 19 age bands (58,140 rows -> 3,060 DSRs), ESP2013 by
  position and with a stdpop column, single level and the (0.95, 0.998) pair.
Record results in docs/performance.md.
"""

from __future__ import annotations

import platform
import time

import numpy as np
import pandas as pd
import scipy

from cdp_analysis.stats.esp2013 import ESP2013
from cdp_analysis.stats.rates import crude_rate, proportion
from cdp_analysis.stats.standardised import dsr

REPEATS = 3
N = 1_000_000


def timed(label, fn):
    fn()  # warm-up
    best = min(_once(fn) for _ in range(REPEATS))
    print(f"{label:<62s} {best:7.3f} s")
    return best


def _once(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    rng = np.random.default_rng(2024)
    n = rng.integers(20, 50_000, N).astype(float)
    x = np.floor(n * rng.uniform(0, 0.05, N))  # many counts < 10 -> exact limits
    df = pd.DataFrame({"row": np.arange(N), "grp": rng.integers(0, 10_000, N), "x": x, "n": n})

    areas, years, k = 153, 20, len(ESP2013)
    d = pd.DataFrame({
        "area": np.repeat([f"E{i:08d}" for i in range(areas)], years * k),
        "year": np.tile(np.repeat(np.arange(2004, 2004 + years), k), areas),
        "count": rng.poisson(30, areas * years * k).astype(float),
        "pop": rng.integers(1_000, 20_000, areas * years * k).astype(float),
        "esp": np.tile(ESP2013, areas * years),
    })

    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}; {platform.machine()} {platform.processor() or ''}")
    print(f"share of rows with x < 10: {np.mean(x < 10):.1%}")
    timed("proportion, 1M rows, ungrouped", lambda: proportion(df, "x", "n"))
    timed("proportion, 1M rows, 10,000 groups", lambda: proportion(df, "x", "n", group_by="grp"))
    timed("proportion, 1M rows, 1M groups (row-wise)", lambda: proportion(df, "x", "n", group_by="row"))
    timed("proportion, 1M groups, confidence (0.95, 0.998)",
          lambda: proportion(df, "x", "n", group_by="row", confidence=(0.95, 0.998)))
    timed("crude_rate, 1M rows, ungrouped", lambda: crude_rate(df, "x", "n"))
    timed("crude_rate, 1M rows, 10,000 groups", lambda: crude_rate(df, "x", "n", group_by="grp"))
    timed("crude_rate, 1M rows, 1M groups (row-wise)", lambda: crude_rate(df, "x", "n", group_by="row"))
    timed("crude_rate, 1M groups, confidence (0.95, 0.998)",
          lambda: crude_rate(df, "x", "n", group_by="row", confidence=(0.95, 0.998)))
    small = df.assign(x=np.floor(rng.uniform(0, 10, N)))
    timed("crude_rate, 1M groups, every x < 10 (all exact limits)",
          lambda: crude_rate(small, "x", "n", group_by="row"))
    timed("dsr, 153 areas x 20 years x 19 bands, ESP2013 by position",
          lambda: dsr(d, "count", "pop", group_by=["area", "year"]))
    timed("dsr, same, stdpop column, (0.95, 0.998)",
          lambda: dsr(d, "count", "pop", group_by=["area", "year"], stdpop="esp", confidence=(0.95, 0.998)))


if __name__ == "__main__":
    main()
