"""The cost of saving figures, by option, for docs/performance.md (issue 29: cheaper figures).

    .venv/bin/python benchmarks/bench_figures.py [slug]      # default nottinghamshire

Draws every figure of every chapter for one CDP (each chapter's ``build`` and figure functions, as its notebook
does), then times, for each figure, the ways of saving it (best of 3, seconds summed over the figures):

* ``bbox``: measuring the tight box once (:func:`cdp_analysis.output.figures.tight_bbox`);
* ``png ×2``: the PNG at twice the screen resolution (today's), ``png ×1.5`` and ``png ×1``;
* ``svg paths``: the SVG with text as paths (today's: looks the same everywhere), ``svg text``: text as text
  (``svg.fonttype: none``: smaller and faster, but the reader's fonts decide how it looks).

and the bytes each writes. Not a test: timings depend on the machine and its load.
"""

from __future__ import annotations

import io
import sys
import time

import matplotlib.pyplot as plt

from cdp_analysis.chapters import all_chapters, partnerships
from cdp_analysis.output import figures


def _best(fn, reps: int = 3) -> tuple[float, int]:
    best, size = float("inf"), 0
    for _ in range(reps):
        t0 = time.perf_counter()
        size = len(fn())
        best = min(best, time.perf_counter() - t0)
    return best, size


def _png(fig, bbox, scale: float) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=figures.SCREEN_DPI * scale, bbox_inches=bbox, metadata={"Software": None})
    return buf.getvalue()


def _svg(fig, bbox, fonttype: str) -> bytes:
    buf = io.BytesIO()
    with plt.rc_context({"svg.hashsalt": "cdp-analysis", "svg.fonttype": fonttype}):
        fig.savefig(buf, format="svg", bbox_inches=bbox, metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def main(slug: str = "nottinghamshire") -> None:
    figures.style()
    cdp = partnerships.get(slug)
    drawn = []
    for chapter in all_chapters().values():
        result = chapter.build(cdp, cdp.chapter_settings(chapter.name))
        for name, draw in chapter.figures.items():
            drawn.append((name, draw(result).drawn()))
    options = {"bbox": lambda f, b: (lambda: repr(figures.tight_bbox(f)).encode()),
               "png ×2": lambda f, b: (lambda: _png(f, b, 2)), "png ×1.5": lambda f, b: (lambda: _png(f, b, 1.5)),
               "png ×1": lambda f, b: (lambda: _png(f, b, 1)), "svg paths": lambda f, b: (lambda: _svg(f, b, "path")),
               "svg text": lambda f, b: (lambda: _svg(f, b, "none"))}
    totals = {k: [0.0, 0] for k in options}
    for _name, fig in drawn:
        bbox = figures.tight_bbox(fig)
        for key, make in options.items():
            t, n = _best(make(fig, bbox))
            totals[key][0] += t
            totals[key][1] += n if key != "bbox" else 0
        plt.close(fig)
    print(f"{slug}: {len(drawn)} figures")
    print("| option | seconds (sum over figures) | bytes written |")
    print("|---|---:|---:|")
    for key, (t, n) in totals.items():
        print(f"| {key} | {t:.2f} | {n:,} |")


if __name__ == "__main__":
    main(*sys.argv[1:2])
