"""Resident memory of a batch's workers and kernels over time: does a long batch grow?

    .venv/bin/python benchmarks/watch_rss.py PID [SECONDS]    # PID: the `cdp run --all` process

Samples every ``SECONDS`` (default 10) the resident set (RSS, from ``/proc/<pid>/status``) of the process and
every descendant (the worker processes and their Jupyter kernels) until the process exits, then prints, for each
process that lived through at least five samples, its RSS at its first sample after a minute, its largest, its
last and its median in each quarter of its life, and the largest total. A kernel or worker whose RSS keeps rising from CDP to CDP would leak; a plateau is
what the warm kernel's memoised tables should give. Not a test: memory depends on the machine.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo += _children(p)
    return found


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _name(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"
    return "kernel" if "ipykernel" in cmd else "worker" if "multiprocessing" in cmd or "spawn" in cmd else "cdp"


def main() -> None:
    root = int(sys.argv[1])
    every = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    series: dict[int, list[tuple[float, float]]] = {}
    names: dict[int, str] = {}
    totals = []
    start = time.monotonic()
    while Path(f"/proc/{root}").exists():
        now = time.monotonic() - start
        total = 0.0
        for pid in _tree(root):
            rss = _rss_mb(pid)
            if rss is None:
                continue
            series.setdefault(pid, []).append((now, rss))
            names.setdefault(pid, _name(pid))
            total += rss
        totals.append(total)
        time.sleep(every)
    print(f"sampled {len(totals)} times over {time.monotonic() - start:.0f} s; largest total {max(totals):.0f} MB")
    for pid, points in sorted(series.items(), key=lambda kv: kv[1][0][0]):
        if len(points) < 5:
            continue
        settled = next((rss for t, rss in points if t - points[0][0] >= 60), points[0][1])
        quarters = [statistics.median(r for _, r in part) for part in _quarters(points)]
        print(f"{names[pid]:6} {pid:>7}: {len(points):4} samples; after a minute {settled:6.0f} MB, "
              f"largest {max(r for _, r in points):6.0f} MB, last {points[-1][1]:6.0f} MB; median by quarter of "
              f"its life {' / '.join(f'{q:.0f}' for q in quarters)} MB")


def _quarters(points: list) -> list[list]:
    """The samples in four runs of (nearly) equal length: a leak shows as a rise from quarter to quarter."""
    n = len(points)
    return [points[i * n // 4:(i + 1) * n // 4] or points[-1:] for i in range(4)]


if __name__ == "__main__":
    main()
