"""Chapter 2, prevalence: synthetic estimates of drug use, alcohol dependence and opiate/crack use (OCU).

* **Drug use** (``prevalence_drugs``): national Crime Survey rates applied to the local population
  (:func:`cdp_analysis.stats.synthetic_estimate`). Method ``age-sex``: last-year use of cannabis, any Class A
  drug and any drug by sex × age band (16–24, 25–59; CSEW Table 3.04), for ages 16–59 and 16–24. Method
  ``age-sex-region``: the same, scaled by the region's observed rate ÷ the rate expected for the region from
  its own age–sex structure (Table 3.08; :func:`cdp_analysis.stats.calibrate`). Method ``national-rate``:
  for the drugs and recall periods the survey publishes only for the whole age group (last month, frequent
  use, the other drugs), the national rate for 16–59 or 16–24 applied to the local population of that group.
  Each survey year uses the nearest mid-year population held, if within ``max_population_gap`` years.
  Limits cover the sampling error of the national rates only (design factor ``design_factor``).
* **Alcohol dependence** (``prevalence_alcohol``): the OHID/Sheffield estimates of dependent adults (18+)
  with their limits, mapped onto current areas (apportioned by 18+ population where an area was split), as a
  count and a rate per 100 adults against England, the region and the comparator areas.
* **OCU** (``prevalence_ocu``): an OHID estimate where the data hold one for the area (transcribed); for
  every area, England's 2019/20 rate applied to its 15–64 population, labelled *expected at England's rate*.
  OCU prevalence is never derived from the household survey.

The chapter is a package: :mod:`.settings` (its name and params section), :mod:`.drug_use` (the synthetic
estimates of drug use), :mod:`.compute` (alcohol dependence, OCU, :func:`build` and the tables derived from
the result; no figures or sentences) and :mod:`.present` (key findings, notes, figures and tables as shown,
read from the computed tables). This module only declares the chapter and re-exports what notebooks, tests
and other chapters call (``chapter.build``, ``chapter.drugs_figure``, ``prevalence.one_published_area``, …).
"""

from __future__ import annotations

from ...output.index import KeyFigure
from ..registry import Chapter
from .compute import age_sex_strata, build, england_check, ocu_table, one_published_area
from .drug_use import AGE_SEX_DRUGS
from .present import (
    age_sex_figure,
    alcohol_figure,
    alcohol_output,
    drugs_figure,
    drugs_output,
    notes_text,
    ocu_output,
    series_figure,
    summary_text,
)
from .settings import NAME, Settings

__all__ = [
    # the declaration
    "NAME", "CHAPTER", "Settings",
    # compute: the chapter's tables (tests; treatment_gap reads ocu_table; one_published_area, now in
    # areas.aggregate, stays importable from here)
    "build", "one_published_area", "ocu_table", "england_check", "age_sex_strata", "AGE_SEX_DRUGS",
    # present: what the notebook and the tests show
    "summary_text", "notes_text",
    "drugs_figure", "age_sex_figure", "alcohol_figure", "series_figure",
    "drugs_output", "alcohol_output", "ocu_output",
]

CHAPTER = Chapter(
    name=NAME, number=2, title="Prevalence", notebook="02_prevalence",
    datasets=("ons_population", "ons_csew", "ohid_alcohol_dependence", "transcribed", "ons_nearest_neighbours"),
    settings=Settings, build=build, summary=summary_text,
    figures={"prevalence_drugs": drugs_figure, "prevalence_by_age_sex": age_sex_figure,
             "prevalence_alcohol": alcohol_figure, "prevalence_series": series_figure},
    tables=("prevalence_drugs", "prevalence_alcohol", "prevalence_ocu"),
    key_figures=(
        KeyFigure("Any drug use in the last year, 16-59 (%)", "prevalence_drugs",
                  {"measure": "percent of age group", "drug": "Any drug", "recall_period": "last year",
                   "age_group": "16-59", "method": "age-sex"}, note="synthetic estimate from the Crime Survey"),
        KeyFigure("Dependent drinkers (per 100 adults)", "prevalence_alcohol",
                  {"measure": "rate per 100 adults"}, digits=2, note="OHID/Sheffield model estimate"),
    ),
)
