"""Chapter 3, treatment gap: met and unmet need for treatment by substance, and the places needed to close it.

Definitions (stated in the report): met need = T / P̂ and unmet need = 1 − T / P̂, where T is the number of
adults in structured treatment in the year (NDTMS) and P̂ the estimated number in need for the same substance
group; limits from P̂'s limits, as OHID publishes them (:func:`cdp_analysis.stats.met_need`).

* **Alcohol**: T = adults in treatment for 'alcohol only' + 'non-opiate and alcohol'; P̂ = dependent adults
  18+ (OHID/University of Sheffield). 2010/11–2018/19: T and P̂ as the ONS SDG 3.5.1 series pairs them for
  every area (P̂'s limits from the OHID estimates of the same year; from 2018/19 the mean of the last three
  years' estimates and limits, which is how OHID computes Fingertips 93532). Later years where a ViewIt
  export gives T: paired with the latest P̂ held, flagged as an approximation. OHID's own published rows
  (Fingertips 93532) are used as published.
* **Opiates and/or crack (OCU)**: P̂ = OHID's estimate of users aged 15–64; T = adults in treatment citing
  opiates and/or crack (ViewIt). Met need is shown only where OHID publishes the pair (Fingertips 93517) or
  where both are held for the same area and year; otherwise the chapter says what is missing.
* **Compared with England**: one rule (:func:`.compute.verdict`) for the table, the key findings and the funnel's
  markers — the area's 95% limits (from P̂'s) against England's value of the same year; opiate/crack rows only
  against an England row on the same edition of OHID's estimates (``need_edition``: revised or pre-revision).
* **Funnel plot**: alcohol met need of every area in the latest SDG year, limits widened for overdispersion
  (:func:`cdp_analysis.stats.funnel_limits` with ``overdispersion=True``, Spiegelhalter 2005) because P̂ is
  modelled; the notes give φ, τ² and how often the funnel and the verdict differ, and why.
* **Capacity planner** (:mod:`.capacity`, :func:`cdp_analysis.stats.places_needed`): people in treatment during
  the year (not a caseload) against the met need of England and of the comparator areas of the **same year**;
  P̂ carried forward by the population of its age group to the latest mid-year held, then held; one row per
  target (default: England's unless the CDP already meets it, then the comparators' upper quartile), the extra
  people to reach it (range from P̂'s limits, a limit clipped at 0 said so) and the annual growth by
  ``target_year``; alcohol and opiates/crack where a pair is held; non-opiates: no published estimate of need.

Areas on older codes (SDG, OHID estimates before 2019) are mapped to current areas with
:mod:`cdp_analysis.areas.vintage`; an area split from a former county carries the county's figures
apportioned by adult population (the same met need as the county), said in ``geography_basis``.
"""

import re

from ...output.consistency import Restatement
from ...output.index import KeyFigure
from ..registry import Chapter
from .capacity import M_AT, M_EXTRA, M_GROWTH, M_NEED, M_NOW, PLANNED, capacity_table
from .capacity import MEASURES as CAPACITY_MEASURES
from .compute import (
    EDITION_UNKNOWN,
    MEASURES,
    PRE_REVISION,
    REVISED,
    SUBSTANCES,
    alcohol_all_areas,
    build,
    fingertips_rows,
    funnel_data,
    gap_table,
    met_need_of_all_areas,
    verdict,
    viewit_exports,
)
from .present import (
    capacity_figure,
    capacity_output,
    funnel_figure,
    gap_output,
    notes_text,
    summary_text,
    trend_figure,
    unmet_figure,
)
from .settings import ALCOHOL, NAME, NON_OPIATES, OCU, Settings

__all__ = [
    "ALCOHOL", "CAPACITY_MEASURES", "CHAPTER", "EDITION_UNKNOWN", "MEASURES", "M_AT", "M_EXTRA", "M_GROWTH", "M_NEED",
    "M_NOW", "NAME", "NON_OPIATES", "OCU", "PLANNED", "PRE_REVISION", "REVISED", "SUBSTANCES", "Settings",
    "alcohol_all_areas", "build", "capacity_figure", "capacity_output", "capacity_table", "fingertips_rows",
    "funnel_data", "funnel_figure", "gap_output", "gap_table", "met_need_of_all_areas", "notes_text", "summary_text",
    "trend_figure", "unmet_figure", "verdict", "viewit_exports",
]

CHAPTER = Chapter(
    name=NAME, number=3, title="Treatment gap", notebook="03_treatment_gap",
    datasets=("ons_population", "ons_sdg", "ohid_alcohol_dependence", "fingertips", "ndtms_viewit",
              "ons_nearest_neighbours"),
    reads_chapters=("prevalence",),
    settings=Settings, build=build, summary=summary_text,
    figures={"treatment_gap_unmet_need": unmet_figure, "treatment_gap_alcohol_trend": trend_figure,
             "treatment_gap_funnel": funnel_figure, "treatment_capacity": capacity_figure},
    tables=("treatment_gap", "treatment_capacity"),
    restates=tuple(
        restatement
        for substance in (ALCOHOL, OCU)
        for restatement in (
            Restatement(f"{substance} met need (capacity planner)", "treatment_capacity",
                        {"substance": re.escape(substance)}, "treatment_gap",
                        {"substance": re.escape(substance), "measure": "met need"}, value="met_need",
                        period="time_period"),
            Restatement(f"England's {substance} met need (capacity planner)", "treatment_capacity",
                        {"substance": re.escape(substance)}, "treatment_gap",
                        {"substance": re.escape(substance), "measure": "met need"}, value="england_met_need",
                        period="england_period", of_england=True))),
    key_figures=(
        KeyFigure("Unmet need for alcohol treatment (%)", "treatment_gap",
                  {"measure": "unmet need", "substance": ALCOHOL},
                  note="dependent drinkers (18+) not in structured treatment"),
        KeyFigure("Unmet need for opiate/crack treatment (%)", "treatment_gap",
                  {"measure": "unmet need", "substance": OCU},
                  note="only where the CDP's NDTMS ViewIt export was supplied"),
    ),
)
