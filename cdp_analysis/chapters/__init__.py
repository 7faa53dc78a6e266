"""Chapters: the registry and one module per chapter of the needs assessment.

A chapter is one unit: a module here (its settings, its tables, its sentences, its figures), one notebook
in ``notebooks/`` that calls it, and one test file. Each chapter module defines ``CHAPTER``, a
:class:`~cdp_analysis.chapters.registry.Chapter`. The registry (:func:`all_chapters`) finds them; the
runner, the parameter schema and the pre-run data check all read it, so it is the only list of chapters.
See ``docs/architecture.md`` for the recipe to add one.

Chapters:

- :mod:`.population_profile` — 1. Population profile.
"""

from .registry import COMMON_PARAMETERS, Chapter, all_chapters, key_figures, register

__all__ = ["COMMON_PARAMETERS", "Chapter", "all_chapters", "key_figures", "register"]
