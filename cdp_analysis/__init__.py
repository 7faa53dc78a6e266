"""cdp-analysis: reproducible substance-misuse needs assessments for England's Combating Drugs Partnerships.

Modules, from raw data to report:

- :mod:`~cdp_analysis.register`, :mod:`~cdp_analysis.tabular`, :mod:`~cdp_analysis.cache` — the data register,
  readers for published files, the parse cache;
- :mod:`~cdp_analysis.population`, :mod:`~cdp_analysis.deprivation`, :mod:`~cdp_analysis.neighbours` — datasets;
- :mod:`~cdp_analysis.geography`, :mod:`~cdp_analysis.vintage`, :mod:`~cdp_analysis.partnerships`,
  :mod:`~cdp_analysis.params` — areas, boundary changes, CDPs and parameters;
- :mod:`~cdp_analysis.stats` — OHID/Fingertips statistical methods;
- :mod:`~cdp_analysis.population_profile` — chapter 1;
- :mod:`~cdp_analysis.tables`, :mod:`~cdp_analysis.figures`, :mod:`~cdp_analysis.notebook`,
  :mod:`~cdp_analysis.report`, :mod:`~cdp_analysis.manifest`, :mod:`~cdp_analysis.runner`,
  :mod:`~cdp_analysis.cli` — outputs and running.
"""

__version__ = "0.1.0"


def clear_caches() -> None:
    """Forget every in-memory cached table (after changing ``CDP_ANALYSIS_ROOT`` or files in ``data/raw``)."""
    from . import deprivation, geography, neighbours, partnerships, population, register, vintage

    for fn in (population.estimates, population._current, geography._areas, vintage.code_changes,
               deprivation.imd_scores, neighbours.distances, neighbours.ranks, partnerships._load,
               register._file_digest):
        fn.cache_clear()
