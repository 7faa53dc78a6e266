"""Chapter 2, prevalence: synthetic estimates of drug use, alcohol dependence and opiate/crack use (OCU).

* **Drug use** (``prevalence_drugs``): national Crime Survey rates applied to the local population
  (:func:`cdp_analysis.stats.synthetic_estimate`). Method ``age-sex`` (the headline): last-year use of cannabis,
  any Class A drug and any drug by sex × seven age bands (16–19 … 55–59), combining Table 3.03 (age bands) and
  Table 3.04 (sex × 16–24, 25–59) by raking so both hold (:mod:`.age_rates`), for ages 16–59 and 16–24;
  ``age-sex-two-band``: Table 3.04's two bands only (the earlier method, for comparison). Method
  ``age-sex-region``: the age-sex estimate scaled by the region's observed rate ÷ the rate expected for the
  region from its own age–sex structure (Table 3.08; :func:`cdp_analysis.stats.calibrate`). Method
  ``national-rate``: for the drugs and recall periods the survey publishes only for the whole age group (last
  month, frequent use, the other drugs), the national rate for 16–59 or 16–24 applied to that group. Each
  survey year is put over the mid-year nearest its mid-point (the nearest held, within ``max_population_gap``
  years, where that is not held; ``population_year`` says which). Wilson limits with the survey's effective
  sample size cover the sampling error of the national rates only (design factor ``design_factor``, an
  assumption). :func:`.drug_use.region_validation` checks the method against the survey's regional rates.
* **Alcohol dependence** (``prevalence_alcohol``): the OHID/Sheffield estimates of dependent adults (18+)
  with their limits, mapped onto current areas (apportioned by 18+ population where an area was split), as a
  count and a rate per 100 adults on the adults of the mid-year inside each period, against England, the
  region and the comparator areas.
* **OCU** (``prevalence_ocu``): OHID's estimates for England (every period held) and any local OHID estimate
  transcribed from OHID's own documents. No figure is derived for an area from England's rate; figures from
  secondary sources (newspapers, trade press) are never used. OCU prevalence is never derived from the
  household survey.

The chapter is a package: :mod:`.settings` (its name and params section), :mod:`.drug_use` (the synthetic
estimates of drug use), :mod:`.compute` (alcohol dependence, OCU, :func:`build` and the tables derived from
the result; no figures or sentences) and :mod:`.present` (key findings, notes, figures and tables as shown,
read from the computed tables); :mod:`.age_rates` holds the national sex × age-band rates. This module only declares the chapter and re-exports what notebooks, tests
and other chapters call (``chapter.build``, ``chapter.drugs_figure``, ``prevalence.one_published_area``, …).
"""

from __future__ import annotations

from ...output.index import KeyFigure
from ..registry import Chapter
from .age_rates import AGE_SEX_DRUGS, raked_rates
from .compute import age_sex_strata, build, ocu_table, one_published_area
from .drug_use import region_validation
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
    "build", "one_published_area", "ocu_table", "region_validation", "raked_rates", "age_sex_strata", "AGE_SEX_DRUGS",
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
        KeyFigure("Any drug use in the last year, 16-59 (%, modelled estimate)", "prevalence_drugs",
                  {"measure": "percent of age group", "drug": "Any drug", "recall_period": "last year",
                   "age_group": "16-59", "method": "age-sex"}, note="modelled estimate from the Crime Survey"),
        KeyFigure("Dependent drinkers (per 100 adults, modelled estimate)", "prevalence_alcohol",
                  {"measure": "rate per 100 adults"}, digits=2, note="OHID/Sheffield model estimate"),
    ),
)
