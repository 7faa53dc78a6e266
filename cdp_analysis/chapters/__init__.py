"""Chapters: the registry, the CDPs of the params files, and one package per chapter of the needs assessment.

A chapter is one unit: a package here (``__init__`` declaring ``CHAPTER``, a
:class:`~cdp_analysis.chapters.registry.Chapter`; ``settings``; ``compute``: data to tables; ``present``:
sentences, figures, table views), one notebook that calls it, and one test file. The registry
(:func:`all_chapters`) finds them, here and in the folders named by ``CDP_ANALYSIS_CHAPTER_PATH``; the runner,
the params schema, the pre-run data check, the report and the index all read it, so it is the only list of
chapters. :mod:`.partnerships` reads the CDPs from ``params/`` against the registry's schema. See
``docs/architecture.md`` for the recipe to add one.

Chapters: :mod:`.population_profile` (1), :mod:`.prevalence` (2), :mod:`.treatment_gap` (3), :mod:`.trends` (4),
:mod:`.places` (5), :mod:`.outcomes` (6).
"""

from .registry import COMMON_PARAMETERS, Chapter, all_chapters, key_figures, register

__all__ = ["COMMON_PARAMETERS", "Chapter", "all_chapters", "key_figures", "register"]
