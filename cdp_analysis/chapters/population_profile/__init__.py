"""Chapter 1, population profile: the tables, sentences and figures of the population chapter for one CDP.

Everything the notebook shows is computed by this package (compute.py; worded and drawn in present.py), for the CDP (the sum of its member areas), each member
of a multi-area CDP, the members' region(s) and England:

* ``pyramid`` — population and % of population by sex and five-year band, latest year with a sex split;
* ``single_year`` — the same year's population by sex and single year of age (0–89, 90+);
* ``denominators`` — the age groups later chapters divide by (all ages, 15–64, 16–24, 16–59, 18+) for
  each selected year;
* ``change`` — change in each age group between the selected years (count and %);
* ``deprivation`` — IMD average score, rank among the current upper-tier areas and decile for each
  member (and a population-weighted score for a multi-area CDP, flagged as an estimate);
* ``neighbours`` — the CDP's statistical nearest neighbours with their population and IMD score.

Every row's ``source`` is the data-register citation of the file(s) it was computed from.

The chapter is a package: :mod:`.settings` (its name and params section), :mod:`.compute` (data → tables:
:func:`build` and every table builder; no figures or sentences) and :mod:`.present` (key findings, notes,
figures and tables as shown, read from the computed tables). This module only declares the chapter and
re-exports what notebooks, tests and later chapters call (``chapter.build``, ``chapter.pyramid_figure``, …).
"""

from __future__ import annotations

from ..registry import Chapter
from .compute import (
    MEASURE_SCORE,
    build,
    denominators_table,
    neighbours_tidy,
)
from .present import (
    change_figure,
    change_output,
    denominators_output,
    deprivation_figure,
    deprivation_output,
    neighbours_output,
    notes_text,
    pyramid_figure,
    pyramid_note,
    pyramid_output,
    single_year_output,
    summary_text,
)
from .settings import NAME, Settings

__all__ = [
    # the declaration
    "NAME", "CHAPTER", "Settings",
    # compute: the chapter's tables (tests, later chapters: docs/architecture.md)
    "build", "denominators_table", "neighbours_tidy", "MEASURE_SCORE",
    # present: what the notebook and the tests show
    "summary_text", "notes_text", "pyramid_note",
    "pyramid_figure", "change_figure", "deprivation_figure",
    "pyramid_output", "single_year_output", "denominators_output", "change_output", "deprivation_output",
    "neighbours_output",
]

CHAPTER = Chapter(
    name=NAME, number=1, title="Population profile", notebook="01_population_profile",
    datasets=("ons_population", "imd2019", "ons_nearest_neighbours"),
    settings=Settings, build=build, summary=summary_text,
    figures={"population_pyramid": pyramid_figure, "population_change": change_figure,
             "deprivation_neighbours": deprivation_figure},
    tables=("population_by_age_sex", "population_by_single_year_of_age", "denominator_populations",
            "population_change", "deprivation", "nearest_neighbours"),
)
