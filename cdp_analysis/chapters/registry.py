"""The chapter registry: what a chapter declares, and where the runner finds the chapters.

Layer rule: chapter modules import ``data``, ``areas``, ``stats`` and ``output``; nothing below imports a
chapter module (the parameter schema reads chapter settings through :func:`all_chapters` at run time).
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from .. import paths
from ..errors import InputError, did_you_mean

log = logging.getLogger(__name__)

#: Parameters every chapter notebook may declare, besides its own settings' fields.
COMMON_PARAMETERS: tuple[str, ...] = ("cdp_slug", "cdp_name", "members", "n_neighbours", "comparators", "output_dir")


@dataclass(frozen=True)
class Chapter:
    """What one chapter declares.

    Attributes
    ----------
    name : str
        Identifier: the chapter module's name, the key of its section in a params file, and what
        ``chapters:`` lists (e.g. ``population_profile``).
    number : int
        Position in the report (1, 2, …); unique.
    title : str
        The chapter's heading: the first ``# `` heading of its notebook (checked by a test).
    notebook : str
        Notebook file name in ``notebooks/`` without ``.ipynb`` (e.g. ``01_population_profile``).
    datasets : tuple of str
        Names of the dataset modules it reads (:func:`cdp_analysis.data.datasets`); the pre-run check
        loads these.
    settings : type of pydantic.BaseModel
        Its settings, with defaults; a params file may override them under ``name:``. Field names are
        the notebook parameters the chapter adds to :data:`COMMON_PARAMETERS`.
    build : callable
        ``build(cdp, settings) -> tables``: every table of the chapter.
    summary : callable
        ``summary(tables) -> str``: key findings (Markdown), every number read from the tables.
    figures : dict of str to callable
        Figure name (the file name in ``figures/``) to the function drawing it from the tables.
    pages : tuple of str
        Other files the chapter writes, relative to the output folder (e.g. ``summary.html``).
    tables : tuple of str
        The chapter's table contract: the names of the tables it writes (``tables/<name>.csv``). The
        runner fails a run whose notebook did not write every declared table and figure.
    key_figures : tuple of KeyFigure
        Its columns of the cross-area league table in ``outputs/index.html``
        (:class:`cdp_analysis.output.index.KeyFigure`: a row of one of its tables, the CDP's latest).
    """

    name: str
    number: int
    title: str
    notebook: str
    datasets: tuple[str, ...]
    settings: type[BaseModel]
    build: Callable[..., Any]
    summary: Callable[..., str]
    figures: dict[str, Callable[..., Any]] = field(default_factory=dict)
    tables: tuple[str, ...] = ()
    pages: tuple[str, ...] = ()
    key_figures: tuple[Any, ...] = ()

    def outputs(self) -> list[str]:
        """The files the chapter promises to write, relative to the output folder."""
        return ([f"tables/{t}.csv" for t in self.tables] + [f"fingertips/{t}.csv" for t in self.tables]
                + [f"figures/{f}.png" for f in self.figures] + [f"figures/{f}.svg" for f in self.figures]
                + list(self.pages))

    def notebook_path(self) -> Path:
        """The chapter's notebook in ``notebooks/``."""
        return paths.notebooks_dir() / f"{self.notebook}.ipynb"

    def parameter_names(self) -> tuple[str, ...]:
        """The notebook parameters this chapter may declare: the common ones, then its settings' fields."""
        return COMMON_PARAMETERS + tuple(self.settings.model_fields)

    def parameters(self, cdp, output_dir: str = "") -> dict[str, Any]:
        """The values of :meth:`parameter_names` for a CDP (its settings for this chapter)."""
        own = cdp.chapter_settings(self.name).model_dump()
        return {"cdp_slug": cdp.slug, "cdp_name": cdp.name, "members": list(cdp.members),
                "n_neighbours": cdp.settings.n_neighbours,
                "comparators": cdp.settings.comparators.model_dump() if cdp.settings.comparators else None,
                "output_dir": output_dir, **own}

    def from_parameters(self, **params):
        """Validate a notebook's parameters; return ``(cdp, settings)`` for :attr:`build`.

        The same checks as ``cdp run`` (area codes, types, years), so a notebook run by hand in
        JupyterLab with edited parameters gets the same readable errors.
        """
        from ..areas import params as params_module
        from ..areas import partnerships

        unknown = sorted(set(params) - set(self.parameter_names()))
        if unknown:
            raise InputError(f"unknown parameter '{unknown[0]}' for chapter '{self.name}'",
                             where="notebook parameters",
                             hint=did_you_mean(unknown[0], self.parameter_names())
                             or f"valid parameters: {', '.join(self.parameter_names())}")
        own = {k: v for k, v in params.items() if k in self.settings.model_fields}
        settings = params_module.validate_parameters(self.settings, own)
        cdp = partnerships.from_parameters(params["cdp_slug"], params["cdp_name"], params["members"],
                                           params.get("n_neighbours"), chapter=self.name, chapter_settings=settings,
                                           comparators=params.get("comparators"))
        return cdp, settings


_EXTRA: dict[str, Chapter] = {}


def register(chapter: Chapter) -> Chapter:
    """Add a chapter defined outside this package (a chapter under development, or a test's draft)."""
    _EXTRA[chapter.name] = chapter
    return chapter


def all_chapters() -> dict[str, Chapter]:
    """Every chapter, by name, in report order (by :attr:`Chapter.number`).

    Raises
    ------
    RuntimeError
        If two chapters share a name or a number (a programming error, not bad input).
    """
    package = importlib.import_module(__package__)
    found: list[Chapter] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name == "registry" or info.name.startswith("_"):
            continue
        chapter = getattr(importlib.import_module(f"{__package__}.{info.name}"), "CHAPTER", None)
        if chapter is not None:
            found.append(chapter)
    found += list(_EXTRA.values())
    for attr in ("name", "number"):
        values = [getattr(c, attr) for c in found]
        dup = {v for v in values if values.count(v) > 1}
        if dup:
            raise RuntimeError(f"two chapters share the {attr} {sorted(dup)}")
    return {c.name: c for c in sorted(found, key=lambda c: c.number)}


def key_figures() -> list:
    """Every chapter's key figures (:attr:`Chapter.key_figures`), in report order: the league-table columns of
    ``outputs/index.html``."""
    return [f for c in all_chapters().values() for f in c.key_figures]
