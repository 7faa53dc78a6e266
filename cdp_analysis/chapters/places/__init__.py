"""Chapter 5, places and inequalities: the districts (or unitaries) inside a partnership, their deprivation and
deaths, and the slope of harm across England.

The package: :mod:`.settings` (the chapter's name and settings), :mod:`.gradient` (England-wide: every district's
and unitary's observed and expected deaths, the tenths of deprivation and the slope and relative index of
inequality; the same for every CDP, memoised), :mod:`.compute` (data → the chapter's tables: ``build``) and
:mod:`.present` (sentences, notes, figures and table views). This module only declares the chapter and re-exports
the names its notebook and tests use.
"""

from __future__ import annotations

from ...output.consistency import Restatement
from ...output.index import KeyFigure
from ..registry import Chapter
from .compute import RATIO, SHARE_20, build
from .present import (
    funnel_figure,
    gradient_figure,
    gradient_output,
    notes_text,
    places_output,
    summary_text,
)
from .settings import NAME, Settings

__all__ = ["CHAPTER", "NAME", "Settings", "build", "summary_text", "notes_text", "places_output", "gradient_output",
           "funnel_figure", "gradient_figure"]

CHAPTER = Chapter(
    name=NAME, number=5, title="Places and inequalities", notebook="05_places",
    datasets=("ons_drug_deaths", "ons_drug_deaths_national", "ons_population", "imd2025", "imd2019_lsoa",
              "fingertips"),
    settings=Settings, build=build, summary=summary_text,
    figures={"places_funnel": funnel_figure, "inequality_gradient": gradient_figure},
    tables=("places", "inequality_gradient"),
    key_figures=(
        KeyFigure("Small areas in England's most deprived 20%", "places", {"measure": SHARE_20}, digits=1,
                  note="% of the partnership's small areas (LSOAs) in deciles 1-2 of IMD File 1"),
    ),
    restates=tuple(
        Restatement(f"deaths related to {cause}, indirectly standardised ratio (places)", "places",
                    {"area_role": "cdp", "measure": RATIO, "cause": cause}, "drug_deaths_standardised",
                    {"area_role": "cdp", "measure": "indirectly standardised ratio", "cause": cause})
        for cause in ("drug misuse", "drug poisoning")),
)
