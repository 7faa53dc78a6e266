"""Figures for the reports: consistent style, and PNGs that are identical for identical inputs."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

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


def save_figure(fig: plt.Figure, name: str, output_dir: str | os.PathLike | None) -> bytes:
    """Write ``figures/<name>.png`` if ``output_dir`` is set; return the PNG bytes either way."""
    data = png_bytes(fig)
    if output_dir:
        target = Path(output_dir) / "figures" / f"{name}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        log.info("wrote %s", target.name)
    return data


def alt_text(fig: plt.Figure) -> str:
    """A description of a figure for screen readers: its title and axis labels."""
    parts = []
    for ax in fig.axes:
        bits = [ax.get_title(), f"x axis: {ax.get_xlabel()}" if ax.get_xlabel() else "",
                f"y axis: {ax.get_ylabel()}" if ax.get_ylabel() else ""]
        parts.append("; ".join(b for b in bits if b))
    return "Chart. " + " | ".join(p for p in parts if p) + ". The data are in the table that follows."


def population_pyramid(pyramid: pd.DataFrame, *, area_name: str, comparator_name: str, period: str) -> plt.Figure:
    """Population pyramid: the CDP's % of population by sex and five-year band, the comparator as an outline.

    Parameters
    ----------
    pyramid : DataFrame
        Tidy rows with ``area_role``, ``sex`` ('males'/'females'), ``age_band``, ``measure`` =
        'percent of population' and ``value``.
    """
    from .population import BAND_ORDER

    pct = pyramid[pyramid["measure"] == "percent of population"]
    fig, ax = plt.subplots(figsize=(8, 6.5))
    y = np.arange(len(BAND_ORDER))
    for sex, sign, colour in (("males", -1, MALE_COLOUR), ("females", 1, FEMALE_COLOUR)):
        cdp = pct[(pct["area_role"] == "cdp") & (pct["sex"] == sex)].set_index("age_band")["value"].reindex(BAND_ORDER)
        ref = pct[(pct["area_role"] == "england") & (pct["sex"] == sex)].set_index("age_band")["value"].reindex(BAND_ORDER)
        ax.barh(y, sign * cdp.to_numpy(), height=0.85, color=colour, alpha=0.75, label=f"{area_name}, {sex}")
        ax.barh(y, sign * ref.to_numpy(), height=0.85, fill=False, edgecolor=COMPARATOR_COLOUR, linewidth=1.0,
                label=comparator_name if sex == "males" else None)
    ax.set_yticks(y, BAND_ORDER)
    ax.axvline(0, color="grey", linewidth=0.8)
    lim = float(np.nanmax(np.abs(ax.get_xlim())))
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):.1f}%" for t in ticks])
    ax.set_xlabel("% of total population (males left, females right)")
    ax.set_ylabel("Age band (years)")
    ax.set_title(f"Population by age and sex, {area_name}, {period}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    fig.text(0.01, 0.005, "Source: ONS mid-year population estimates (MYE2).", fontsize=8, color="#505a5f")
    fig.tight_layout()
    return fig


def population_change(change: pd.DataFrame, *, title: str) -> plt.Figure:
    """Bar chart of % population change by age group for the CDP, its region(s) and England."""
    data = change[change["measure"] == "percent change"].copy()
    data["area"] = data["area_name"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    from .population import DENOMINATOR_AGES

    from .tables import ROLE_ORDER

    areas = data.sort_values("area_role", key=lambda r: r.map(ROLE_ORDER), kind="stable")["area"].unique()
    sns.barplot(data=data, x="age_group", y="value", hue="area", ax=ax, palette="Blues_r", edgecolor="white",
                order=[a for a in DENOMINATOR_AGES if a in set(data["age_group"])], hue_order=list(areas))
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("Age group (years)")
    ax.set_ylabel("% change")
    ax.set_title(title)
    ax.legend(fontsize=8, title=None)
    fig.text(0.01, 0.005, "Source: ONS mid-year population estimates (MYE2).", fontsize=8, color="#505a5f")
    fig.tight_layout()
    return fig


def deprivation_comparison(neighbours: pd.DataFrame, cdp_rows: pd.DataFrame, *, title: str) -> plt.Figure:
    """Horizontal bars of IMD 2019 average score: the CDP's areas highlighted among its neighbours."""
    data = pd.concat([cdp_rows.assign(kind="CDP"), neighbours.assign(kind="Nearest neighbour")], ignore_index=True)
    data = data.sort_values("imd_score", ascending=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(data) + 1.2))
    colours = [CDP_COLOUR if k == "CDP" else "#b1b4b6" for k in data["kind"]]
    ax.barh(data["name"], data["imd_score"], color=colours)
    ax.set_xlabel("IMD 2019 average score (higher = more deprived)")
    ax.set_title(title)
    fig.text(0.01, 0.005, "Source: MHCLG English Indices of Deprivation 2019; ONS statistical nearest neighbours.",
             fontsize=8, color="#505a5f")
    fig.tight_layout()
    return fig
