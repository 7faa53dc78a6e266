"""Chapter 6, outcomes: the National Combating Drugs Outcomes Framework dashboard, public and local data together.

For each of the six national outcomes (reduce drug use; reduce drug-related crime; reduce drug-related deaths
and harm; reduce drug supply; increase engagement in treatment; improve recovery outcomes) and the
partnership's local priorities, the metrics of the outcomes catalogue (``data/catalogue/outcomes_metrics.csv``,
:func:`cdp_analysis.data.local_data.catalogue`):

* **public metrics** are read from the earlier chapters' tables (``tables/*.csv`` of the same run; built by
  their chapters when the notebook runs alone) — never recomputed here: prevalence estimates (chapter 2), met
  need (chapter 3), drug-misuse deaths and alcohol-specific mortality (chapter 4);
* **local metrics** come from the files named in the CDP's parameters (``outcomes: local_data:``), in the
  layout of ``data/templates/``; a metric not supplied is listed as 'not supplied — source: …', never dropped.

**Disclosure control** (:mod:`cdp_analysis.stats.disclosure`) is applied to every local count inside
:func:`build`, before any table, figure, sentence or notebook output exists, under the policy the setting
``disclosure_policy`` names (default ``nhs-england``: counts 1–7 suppressed, every other local count rounded to the
nearest 5, percentages from the unrounded counts): counts 1 to ``threshold − 1`` (primary), complements of
proportions, secondary suppression across a partnership and its members and across a count and its parts
(criminal-justice referrals, mandatory and voluntary); values built on a suppressed count are suppressed; then
the linear-programming audit suppresses more until no hidden count can be worked out to within the threshold,
or fails the run, and its summary goes into the table's attrs (``disclosure_audit``) and ``run.json``. Published
data pass through as published. ``output.notebook.check_disclosure`` refuses to write a table that still holds a
small or unrounded local count.

Comparisons with England at 95% and 99.8% use the statistics core (Fingertips' method, with polarity); recent
trends are chapter 4's tests for public metrics and the Fingertips marker (proportions) or the Poisson trend
(counts) for local series of at least five consecutive years with nothing suppressed.

The package: :mod:`.settings` (the ``outcomes:`` section of a params file), :mod:`.compute` (data → tables) and
:mod:`.spine` (the spine chart's numbers), :mod:`.published` (99.8% limits derived for published rates; adults in
treatment from the partnership's NDTMS ViewIt exports), :mod:`.present` (key findings, notes, the spine chart, the
dashboard table), :mod:`.present_board` (the board's one-page ``summary.html``), :mod:`.present_words` (the words both say
the same way). This module declares the chapter
(``NAME`` is defined in :mod:`.compute`, whose :func:`build` reads it) and re-exports what is used from outside the package: the notebook's calls
(``chapter.<name>``) and the names the tests and ``docs/architecture.md`` use.
"""

from __future__ import annotations

from ..registry import Chapter
from .compute import NAME, STATUSES, build, earlier_tables, read_table
from .present import (
           dashboard_output,
           notes_text,
           spine_figure,
           summary_links,
           summary_text,
)
from .present_board import summary_page, write_summary
from .published import RESTATES
from .settings import Settings
from .spine import spine_data

__all__ = ["CHAPTER", "NAME", "STATUSES", "Settings", "build", "dashboard_output", "earlier_tables", "notes_text",
           "read_table", "spine_data", "spine_figure", "summary_links", "summary_page", "summary_text", "write_summary"]

CHAPTER = Chapter(
    name=NAME, number=6, title="Outcomes", notebook="06_outcomes",
    datasets=("ons_population", "ons_drug_deaths", "ons_sdg", "ohid_alcohol_dependence", "fingertips", "ons_csew",
              "ons_nearest_neighbours", "transcribed"),
    reads_chapters=("prevalence", "treatment_gap", "trends", "places"),
    settings=Settings, build=build, summary=summary_text,
    figures={"outcomes_spine_chart": spine_figure},
    tables=("outcomes",),
    pages=("summary.html",),
    restates=RESTATES,
)
