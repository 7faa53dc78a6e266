"""Figures for the reports: consistent style, and PNGs that are identical for identical inputs."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from ..files import write_atomic
from . import provenance

log = logging.getLogger(__name__)

#: Colours: the CDP, its comparator (England/region), and members of a multi-area CDP.
CDP_COLOUR = "#1d70b8"      # GOV.UK blue
COMPARATOR_COLOUR = "#0b0c0c"
FEMALE_COLOUR = "#d4351c"
MALE_COLOUR = "#1d70b8"


def style() -> None:
    """Apply the suite's plotting style (call once per notebook)."""
    sns.set_theme(context="notebook", style="whitegrid", font="DejaVu Sans")
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 120, "axes.titleweight": "bold",
                         "svg.hashsalt": "cdp-analysis"})


def png_bytes(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes, without timestamp or software metadata, so reruns give the same bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def save_figure(fig: plt.Figure, name: str, output_dir: str | os.PathLike | None,
                data: pd.DataFrame | None = None) -> bytes:
    """Write ``figures/<name>.png`` if ``output_dir`` is set; return the PNG bytes either way.

    ``data`` is the tidy table the figure was drawn from; its ``source`` column is recorded as the
    figure's provenance (see :mod:`cdp_analysis.output.provenance`).
    """
    png = png_bytes(fig)
    if output_dir:
        target = write_atomic(Path(output_dir) / "figures" / f"{name}.png", png)
        provenance.record(output_dir, f"figures/{name}.png", [] if data is None else data["source"])
        log.info("wrote %s", target.name)
    return png


def alt_text(fig: plt.Figure) -> str:
    """A description of a figure for screen readers: its title and axis labels."""
    parts = []
    for ax in fig.axes:
        bits = [ax.get_title(), f"x axis: {ax.get_xlabel()}" if ax.get_xlabel() else "",
                f"y axis: {ax.get_ylabel()}" if ax.get_ylabel() else ""]
        parts.append("; ".join(b for b in bits if b))
    return "Chart. " + " | ".join(p for p in parts if p) + ". The data are in the table that follows."
