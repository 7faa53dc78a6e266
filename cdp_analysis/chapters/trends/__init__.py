"""Chapter 4, trends: tested trends in drug deaths, treatment and alcohol met need, with plain-English findings.

Series (real data):

* **Deaths related to drug misuse and to drug poisoning** (ONS, by local authority): deaths registered each
  year (persons) for the CDP (the sum of its members; current areas built from their predecessors' counts
  with :mod:`cdp_analysis.areas.vintage`), its region(s), England and its comparator areas; and the published
  3-year pooled age-standardised rates with limits (persons, males, females) as published, ONS's ':' and 'u'
  markers kept. A multi-area CDP has no published rate of its own: its members' rates are shown.
* **Adults in treatment** (NDTMS ViewIt): England's numbers each year, and the CDP's when its parameters name a
  ViewIt export (the treatment-gap chapter's loader).
* **Alcohol treatment** (ONS SDG 3.5.1, from the treatment-gap chapter): dependent drinkers in treatment each
  year (a count trend) and met need (the Fingertips recent-trend marker on the last five annual points).
* **Alcohol-specific mortality** (OHID Fingertips 91380): directly standardised rates with limits as published,
  3-year pooled; pre-2019 areas shown on current boundaries only where exact (a renamed code, or a CDP whose
  members are exactly a former county). Overlapping periods are not independent points, so no trend test.
* **National context**: deaths mentioning selected substances, England and Wales (ONS reference Table 4), and
  last-year drug use by 16–59s and 16–24s (Crime Survey; the Fingertips marker on the effective sample size).

Methods (:mod:`cdp_analysis.stats.trend_models`, ``docs/methods.md`` §9): the log-linear Poisson trend of
annual counts (quasi-Poisson when overdispersed) with its annual percentage change (APC); joinpoint regression
(0 … ``max_joinpoints``, BIC) with segment APCs and the average APC; the area-versus-England interaction test;
and the Fingertips recent-trend marker where the series is annual with a denominator. No population is held
for most of the years, so the death and treatment trends are **in numbers**, not rates (said in the report);
no test is run on fewer than 5 points or 50 events ('too few events').

The package: :mod:`.settings` (the chapter's name and settings), :mod:`.series` (the series and area columns,
shared constants), :mod:`.compute` (data → tables: ``build``), :mod:`.standardised` (crude rates and
indirectly standardised ratios for any CDP) and :mod:`.present` (sentences, notes, figures and table views).
This module only declares the chapter and re-exports the names used outside the package.
"""

from __future__ import annotations

from ...output.index import KeyFigure
from ..registry import Chapter
from .compute import (
    RATE,
    _annual_series,
    alcohol_mortality_of_all_areas,
    alcohol_mortality_table,
    build,
    deaths_table,
    rates_of_all_areas,
    recording_shares,
)
from .present import (
    alcohol_mortality_figure,
    alcohol_mortality_output,
    asmr_figure,
    deaths_figure,
    deaths_output,
    notes_text,
    standardised_output,
    substances_figure,
    summary_text,
    trends_output,
)
from .series import SUBSTANCES
from .settings import NAME, Settings
from .trend_words import headline_rows, versus_words

__all__ = [
    # the declaration (the registry, the outcomes chapter)
    "CHAPTER", "NAME", "Settings",
    # compute: the outcomes chapter (every area's published rates) and the chapter's tests
    "build", "deaths_table", "alcohol_mortality_table", "rates_of_all_areas", "alcohol_mortality_of_all_areas",
    "recording_shares", "RATE",
    "SUBSTANCES", "_annual_series",
    # words: the outcomes chapter states a trend and its comparison with England as this chapter does
    "headline_rows", "versus_words",
    # presentation: the notebook (04_trends) and the tests
    "summary_text", "notes_text", "deaths_figure", "asmr_figure", "alcohol_mortality_figure", "substances_figure",
    "trends_output", "deaths_output", "standardised_output", "alcohol_mortality_output",
]

CHAPTER = Chapter(
    name=NAME, number=4, title="Trends", notebook="04_trends",
    datasets=("ons_population", "ons_population_series", "ons_drug_deaths", "ons_drug_deaths_national", "ndtms_viewit", "ons_sdg",
              "ohid_alcohol_dependence", "fingertips", "ons_csew", "ons_nearest_neighbours"),
    reads_chapters=("prevalence", "treatment_gap"),
    settings=Settings, build=build, summary=summary_text,
    figures={"trends_drug_deaths": deaths_figure, "trends_drug_misuse_rate": asmr_figure,
             "trends_alcohol_specific_mortality": alcohol_mortality_figure,
             "trends_deaths_by_substance": substances_figure},
    tables=("trends", "drug_deaths", "drug_deaths_standardised", "alcohol_mortality"),
    key_figures=(
        KeyFigure("Drug misuse deaths, ratio to England", "drug_deaths_standardised",
                  {"measure": "indirectly standardised ratio", "cause": "drug misuse"}, digits=2,
                  note="indirectly standardised (England = 1)"),
    ),
)
