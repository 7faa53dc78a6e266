"""Run parameters: ``params/defaults.yaml`` plus one YAML file per named multi-area CDP.

A params file holds the run-wide keys (:class:`CommonSettings`: which chapters, how many comparator
areas) and one section per chapter, named after it, with that chapter's settings (each chapter's
pydantic model; see :mod:`cdp_analysis.chapters`). The schema is assembled from the chapter registry,
so a new chapter's settings need no edit here. A CDP file may override any key, and any setting inside
a chapter section, of the defaults.

Unknown keys, wrong types, unknown or former area codes and unavailable years raise
:class:`~cdp_analysis.errors.InputError` naming the file and the key and, where possible, the closest
valid value.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

from .. import paths
from ..errors import InputError, did_you_mean

log = logging.getLogger(__name__)

#: Keys of earlier versions of the params files, and where their setting lives now.
_MOVED = {"notebooks": "'notebooks' was replaced by 'chapters', a list of chapter names, e.g. [population_profile]",
          "population_years": "'population_years' now goes in the chapter's section, e.g.\n"
                              "     population_profile:\n       population_years: [2020, 2022, 2024]"}

#: How each run-wide key should look, for error hints.
_EXAMPLES = {"chapters": "a list of chapter names, e.g. [population_profile]",
             "n_neighbours": "a whole number from 1 to 152, e.g. 15",
             "members": "a list of current area codes, e.g. [E06000061, E06000062]",
             "name": "a name in words, e.g. Northamptonshire"}


class ComparatorSet(BaseModel):
    """Comparator areas an analyst chooses (e.g. the CIPFA neighbours a council uses), instead of the ONS
    statistical nearest neighbours."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, description="what the set is, in words, e.g. CIPFA nearest neighbours (2024)")
    areas: list[str] = Field(min_length=1, description="current upper-tier area codes, in the order to show them")


class CommonSettings(BaseModel):
    """Run-wide settings (top-level keys of a params file)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    chapters: list[str] | None = Field(default=None, min_length=1,
                                       description="chapters to run, by name (default: every chapter)")
    n_neighbours: int = Field(default=15, ge=1, le=152, description="number of statistical nearest neighbours")
    comparators: ComparatorSet | None = Field(
        default=None, description="a mapping with 'name' and 'areas', e.g. {name: CIPFA nearest neighbours, "
                                  "areas: [E10000007, E10000019]} (default: the ONS statistical nearest neighbours)")

    @field_validator("chapters")
    @classmethod
    def _known_chapters(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        from .. import chapters

        known = chapters.all_chapters()
        for name in v:
            if name not in known:
                hint = did_you_mean(name, known)
                raise ValueError(f"unknown chapter '{name}'" + (f" ({hint})" if hint else "")
                                 + f"; chapters are: {', '.join(known)}")
        return v


class ChapterSettings(BaseModel):
    """Base of every chapter's settings model: strict types, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", strict=True)
    #: The section of a params file the settings come from (named in error messages).
    SECTION: ClassVar[str] = ""

    def files(self, key: str, *, file: Path | None = None, where: str = "key") -> list[Path]:
        """The files named under ``key`` (a list of paths), resolved from the project folder; an error names
        a missing one."""
        out = []
        for i, name in enumerate(getattr(self, key)):
            path = Path(name).expanduser()
            path = path if path.is_absolute() else paths.project_root() / path
            if not path.is_file():
                section = f" (in section '{self.SECTION}')" if where == "key" and self.SECTION else ""
                raise InputError(f"no such file: {name}", file=file, where=f"{where} '{key}'{section}, item {i + 1}",
                                 hint="give the path of the downloaded CSV, relative to the project folder or absolute")
            out.append(path)
        return out

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Check the settings against the data (e.g. that years exist); raise :class:`InputError` if not.

        ``where`` names how a setting is given, e.g. ``"key"`` or ``"parameter"``.
        """


def run_settings_model() -> type[CommonSettings]:
    """The schema of ``params/defaults.yaml``: :class:`CommonSettings` plus one section per chapter."""
    from .. import chapters

    sections = {c.name: (c.settings, Field(default_factory=c.settings, description=c.title))
                for c in chapters.all_chapters().values()}
    return create_model("RunSettings", __base__=CommonSettings, **sections)


class CDPFile(BaseModel):
    """A named CDP (``params/cdps/<slug>.yaml``): its name and member areas; other keys override the defaults."""

    model_config = ConfigDict(extra="allow", strict=True)

    name: str = Field(min_length=1)
    members: list[str] = Field(min_length=1, description="current upper-tier area codes")


def read_yaml(path: Path) -> dict[str, Any]:
    """A params file's mapping, or a readable error naming the file and line."""
    if not path.is_file():
        raise InputError("parameter file not found", file=path, hint="restore it from git, or check the name")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = ("indent with spaces, not tabs" if "\\t" in problem or "\t" in problem
                else "check the indentation and that every key is followed by ': '")
        raise InputError(f"not valid YAML ({problem})", file=path, where=where, hint=hint) from None
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise InputError(f"expected 'key: value' lines at the top level, found a {type(doc).__name__}",
                         file=path, hint="see params/defaults.yaml for the layout")
    return doc


def _field_model(model: type[BaseModel], names: list[str]) -> type[BaseModel]:
    """The (nested) model that holds the last of ``names``."""
    for name in names[:-1]:
        info = model.model_fields.get(name)
        if info is None or not (isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel)):
            break
        model = info.annotation
    return model


def _hint(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    if info is None:
        return "see params/defaults.yaml"
    return f"'{field}' should be {_EXAMPLES.get(field, info.description or 'as in params/defaults.yaml')}"


def raise_readable(exc: ValidationError, model: type[BaseModel], *, file: Path | None, kind: str = "key") -> None:
    """Turn pydantic's first error into one :class:`InputError` naming the file, key (or parameter) and fix."""
    # an unknown key explains a 'missing' one when it is a misspelling of it, so report it first
    err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
    names = [str(p) for p in err["loc"] if not isinstance(p, int)]
    items = [p for p in err["loc"] if isinstance(p, int)]
    key = names[-1] if names else "(top level)"
    where = f"{kind} '{key}'" + (f" (in section '{names[0]}')" if len(names) > 1 else "")
    where += "".join(f", item {i + 1}" for i in items)
    owner = _field_model(model, names)
    fields = list(owner.model_fields)
    if err["type"] == "extra_forbidden":
        hint = (_MOVED.get(key) if len(names) == 1 else None) or did_you_mean(key, fields) \
            or f"valid {kind}s are: {', '.join(fields)}"
        raise InputError(f"unknown {kind} '{key}'", file=file, where=where, hint=hint) from None
    if err["type"] == "missing":
        raise InputError(f"required {kind} '{key}' is missing", file=file, where=where,
                         hint=f"add '{key}:' (see params/defaults.yaml and README.md)") from None
    got = err.get("input")
    msg = err["msg"].lower().removeprefix("value error, ")
    raise InputError(f"{msg} (got {got!r})", file=file, where=where, hint=_hint(owner, key)) from None


def validate(model: type[BaseModel], doc: dict[str, Any], path: Path | None, *, kind: str = "key") -> BaseModel:
    """``model.model_validate(doc)``, with errors as one readable :class:`InputError`."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise_readable(exc, model, file=path, kind=kind)


def validate_parameters(model: type[BaseModel], values: dict[str, Any]) -> BaseModel:
    """Validate notebook parameters against a settings model (errors name the parameter)."""
    settings = validate(model, values, None, kind="parameter")
    if isinstance(settings, ChapterSettings):
        settings.check_data(where="parameter")
    return settings


def check_chapter_data(settings: CommonSettings, path: Path) -> None:
    """Run every chapter section's :meth:`ChapterSettings.check_data` (e.g. years exist in data/raw)."""
    for name in type(settings).model_fields:
        section = getattr(settings, name)
        if isinstance(section, ChapterSettings):
            section.check_data(file=path, where="key")


def load_defaults(path: Path) -> CommonSettings:
    """Read and validate ``params/defaults.yaml``."""
    settings = validate(run_settings_model(), read_yaml(path), path)
    check_chapter_data(settings, path)
    return settings


def load_cdp_file(path: Path, defaults: CommonSettings) -> tuple[CDPFile, CommonSettings]:
    """Read one ``params/cdps/*.yaml``; return it and the defaults with its overrides applied.

    A chapter section in the CDP file overrides only the settings it names.
    """
    doc = read_yaml(path)
    model = type(defaults)
    spec_doc = {k: doc[k] for k in ("name", "members") if k in doc}
    overrides = {k: v for k, v in doc.items() if k not in ("name", "members")}
    unknown = [k for k in overrides if k not in model.model_fields]
    if unknown:  # reported as one would expect from a closed schema, with the valid keys of this file
        fields = ["name", "members", *model.model_fields]
        raise InputError(f"unknown key '{unknown[0]}'", file=path, where=f"key '{unknown[0]}'",
                         hint=_MOVED.get(unknown[0]) or did_you_mean(unknown[0], fields)
                         or f"valid keys are: {', '.join(fields)}")
    spec = validate(CDPFile, spec_doc, path)
    merged = defaults.model_dump()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    settings = validate(model, merged, path)
    check_chapter_data(settings, path)
    return spec, settings
