"""The chapter registry: what a chapter declares, where the chapters are found, and what follows from them.

The registry owns everything assembled from the chapters: the params schema (:func:`run_settings_model`: the
run-wide keys plus one section per chapter, with the check of the names under ``chapters:``) and the chapters a
CDP runs (:func:`chapters_of`). Layer rule: chapter modules import ``data``, ``areas``, ``stats`` and ``output``;
nothing below imports this package (the areas layer is given the schema by :mod:`cdp_analysis.chapters.partnerships`).
"""

from __future__ import annotations

import datetime
import importlib
import logging
import os
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, create_model, field_validator

from .. import paths
from ..areas.params import CommonSettings
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
        Identifier: the chapter package's (or module's) name, the key of its section in a params file, and what
        ``chapters:`` lists (e.g. ``population_profile``).
    number : int
        Position in the report (1, 2, …); unique.
    title : str
        The chapter's heading: the first ``# `` heading of its notebook (checked by a test).
    notebook : str
        Notebook file name without ``.ipynb`` (e.g. ``01_population_profile``), in ``notebooks/`` or in
        ``notebook_dir``.
    datasets : tuple of str
        Names of the dataset modules its own rows cite or whose rows decide which of its rows appear (the
        comparator file) (:func:`cdp_analysis.data.datasets`); the pre-run check loads these, and a test checks
        them against what a run's ``run.json`` records. The area lookups are the areas layer's, checked for
        every run, and are not declared.
    settings : type of pydantic.BaseModel
        Its settings, with defaults; a params file may override them under ``name:``. Field names are
        the notebook parameters the chapter adds to :data:`COMMON_PARAMETERS`.
    build : callable
        ``build(cdp, settings) -> result``: the chapter's result object, whose ``tables()`` returns every table
        of the chapter in the order of :attr:`tables` (other chapters and the outcomes dashboard pair them by
        that order).
    summary : callable
        ``summary(result) -> str``: key findings (Markdown), every number read from the result's tables.
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
    restates : tuple of Restatement
        The figures its tables restate from other chapters' tables
        (:class:`cdp_analysis.output.consistency.Restatement`): the run checks, before publishing, that each is
        the same value for the same area and period, and that the chapter never says 'not in the data' for a
        figure another chapter computed.
    reads_chapters : tuple of str
        The chapters whose results it reads (through their compute API or their declared tables, never their
        presentation); their datasets are checked before it runs too (:func:`datasets_read`). A chapter module
        imports no other chapter but these (``tests/test_architecture.py``).
    notebook_dir : Path, optional
        The folder holding its notebook, for a chapter kept outside this package (a folder named by
        :data:`CHAPTER_PATH`); default ``notebooks/``.
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
    notebook_dir: Path | None = None
    reads_chapters: tuple[str, ...] = ()
    restates: tuple[Any, ...] = ()

    def outputs(self, png: bool = False) -> list[str]:
        """The files the chapter promises to write, relative to the output folder; ``png``: each figure's PNG too
        (a CDP's ``figure_png`` setting)."""
        return ([f"tables/{t}.csv" for t in self.tables] + [f"fingertips/{t}.csv" for t in self.tables]
                + [f"figures/{f}.svg" for f in self.figures] + [f"figures/{f}.png" for f in self.figures if png]
                + list(self.pages))

    def notebook_path(self) -> Path:
        """The chapter's notebook: in ``notebook_dir`` if set, else in ``notebooks/``."""
        return (self.notebook_dir or paths.notebooks_dir()) / f"{self.notebook}.ipynb"

    def parameter_names(self) -> tuple[str, ...]:
        """The notebook parameters this chapter may declare: the common ones, then its settings' fields."""
        return COMMON_PARAMETERS + tuple(self.settings.model_fields)

    def parameters(self, cdp, output_dir: str = "") -> dict[str, Any]:
        """The values of :meth:`parameter_names` for a CDP (its settings for this chapter)."""
        own = cdp.chapter_settings(self.name).model_dump()
        if "as_of" in own and own["as_of"] is None:  # a date setting left unset: the day of the run, written into
            own["as_of"] = datetime.date.today().isoformat()  # the notebook so that re-running it gives the same
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
        from . import partnerships

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


#: The environment variable naming folders (separated by ``os.pathsep``) whose packages or modules are chapters
#: too: a partnership's own chapter, or one under development, kept outside this package.
CHAPTER_PATH = "CDP_ANALYSIS_CHAPTER_PATH"


def _outside_chapters() -> list[Chapter]:
    """The chapters in the folders named by :data:`CHAPTER_PATH`: every package (a folder with ``__init__.py``) or
    module there that defines ``CHAPTER``. Each folder is put on ``sys.path`` so that the chapter's notebook can
    import its module by name, as the built-in chapters' notebooks import theirs."""
    import sys

    found = []
    for folder in filter(None, os.environ.get(CHAPTER_PATH, "").split(os.pathsep)):
        folder = str(Path(folder).expanduser().resolve())
        if not Path(folder).is_dir():
            raise InputError(f"{CHAPTER_PATH} names {folder}, which is not a folder",
                             hint="name folders holding chapter packages, separated by ':' (or unset it)")
        if folder not in sys.path:
            sys.path.append(folder)
        for info in pkgutil.iter_modules([folder]):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(info.name)
            if not Path(getattr(module, "__file__", "") or "").resolve().is_relative_to(folder):
                raise InputError(f"the chapter '{info.name}' in {folder} has the name of a module installed "
                                 f"elsewhere ({getattr(module, '__file__', '?')})",
                                 hint="rename the chapter's folder (and its CHAPTER name) to a name of its own")
            chapter = getattr(module, "CHAPTER", None)
            if isinstance(chapter, Chapter):
                found.append(chapter)
    return found


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
    found += _outside_chapters()
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


class _RunSettings(CommonSettings):
    """The run-wide keys, with the names under ``chapters:`` checked against the registry."""

    @field_validator("chapters")
    @classmethod
    def _known_chapters(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        known = all_chapters()
        for name in v:
            if name not in known:
                hint = did_you_mean(name, known)
                raise ValueError(f"unknown chapter '{name}'" + (f" ({hint})" if hint else "")
                                 + f"; chapters are: {', '.join(known)}")
        return v


def run_settings_model() -> type[CommonSettings]:
    """The schema of ``params/defaults.yaml`` and of a CDP's params file: the run-wide keys
    (:class:`~cdp_analysis.areas.params.CommonSettings`, chapter names checked) plus one section per chapter,
    named after it, holding that chapter's settings model with its defaults."""
    sections = {c.name: (c.settings, Field(default_factory=c.settings, description=c.title))
                for c in all_chapters().values()}
    return create_model("RunSettings", __base__=_RunSettings, **sections)


def chapters_of(settings: CommonSettings) -> tuple[Chapter, ...]:
    """The chapters a CDP with these settings runs, in report order (``chapters:``; default every chapter)."""
    registry = all_chapters()
    wanted = settings.chapters or list(registry)
    return tuple(c for c in registry.values() if c.name in wanted)


def _type_name(annotation) -> str:
    """A settings field's type as an analyst reads it: 'list of str', 'int or none', ``'a' or 'b'``."""
    import typing

    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Literal:
        return " or ".join(repr(a) for a in args)
    if origin in (list, tuple):
        return "list of " + (_type_name(args[0]) if args else "values")
    if args and type(None) in args:  # X | None
        return " or ".join(_type_name(a) for a in args if a is not type(None)) + " or none"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping (" + ", ".join(annotation.model_fields) + ")"
    return getattr(annotation, "__name__", str(annotation))


def _settings_rows(model: type[BaseModel]) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        default = info.get_default(call_default_factory=True)
        default = "—" if default is None else f"`{default!r}`" if not isinstance(default, str) else f"`{default}`"
        text = (info.description or "").replace("|", "\\|").replace("\n", " ")
        rows.append(f"| `{name}` | {_type_name(info.annotation)} | {default} | {text} |")
    return rows


def settings_reference() -> str:
    """``docs/settings.md``: every key a params file may hold, generated from the settings models (the run-wide
    keys, then each chapter's section in report order), so the documentation cannot fall behind the code."""
    head = ("| key | type | default | what it sets |", "|---|---|---|---|")
    lines = ["# Params file reference", "",
             "Generated from the settings models by `cdp_analysis.chapters.registry.settings_reference()` "
             "(`make docs`); a test fails when this file and the models disagree. `params/defaults.yaml` sets "
             "these for every CDP; a CDP's file in `params/cdps/` may override any of them (a chapter's keys go "
             "in the section named after the chapter).", "", "## Run-wide keys", "", *head,
             *_settings_rows(CommonSettings), ""]
    lines += ["A CDP's own file also holds `name` (its name in words, one line of at most 120 characters) and "
              "`members` (its current upper-tier area codes).", ""]
    for chapter in all_chapters().values():
        lines += [f"## `{chapter.name}:` — {chapter.number}. {chapter.title}", ""]
        rows = _settings_rows(chapter.settings)
        lines += [*head, *rows, ""] if rows else ["No settings.", ""]
    return "\n".join(lines)


def chapter_of_table(table: str) -> Chapter:
    """The chapter that declares (writes) ``tables/<table>.csv``: how a chapter finds another's results by the
    table contract, without naming the module that computes them."""
    owners = [c for c in all_chapters().values() if table in c.tables]
    if len(owners) != 1:
        raise RuntimeError(f"{len(owners)} chapters declare the table '{table}' (expected one)")
    return owners[0]


def datasets_read(chapter: Chapter) -> set[str]:
    """The datasets one chapter reads: its own (:attr:`Chapter.datasets`) and, recursively, those of the chapters
    whose results it reads (:attr:`Chapter.reads_chapters`). The runner's pre-run check loads these for every
    chapter of a run, with the area lookups.

    Raises
    ------
    RuntimeError
        If ``reads_chapters`` names a chapter that does not exist or does not come before it (a programming
        error: the runner runs chapters in number order, so a chapter can only read earlier ones).
    """
    found, todo, seen = set(), [chapter], set()
    registry = all_chapters()
    while todo:
        c = todo.pop()
        if c.name in seen:
            continue
        seen.add(c.name)
        found |= set(c.datasets)
        for name in c.reads_chapters:
            if name not in registry or registry[name].number >= c.number:
                raise RuntimeError(f"chapter '{c.name}' reads chapter '{name}', which is not an earlier chapter")
            todo.append(registry[name])
    return found
