"""Run parameters: ``params/defaults.yaml`` plus one YAML file per named multi-area CDP.

A params file holds the run-wide keys (:class:`CommonSettings`: which chapters, how many comparator
areas) and one section per chapter, named after it, with that chapter's settings (each chapter's
pydantic model, a :class:`ChapterSettings`). The whole schema is assembled by the chapter registry
(:func:`cdp_analysis.chapters.registry.run_settings_model`) and given to :func:`load_defaults`, so this module
knows no chapter and a new chapter's settings need no edit here. A CDP file may override any key, and any setting inside
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import paths
from ..errors import InputError, did_you_mean, shorten

log = logging.getLogger(__name__)

#: Keys of earlier versions of the params files, and where their setting lives now.
_MOVED = {"notebooks": "'notebooks' was replaced by 'chapters', a list of chapter names, e.g. [population_profile]",
          "population_years": "'population_years' now goes in the chapter's section, e.g.\n"
                              "     population_profile:\n       population_years: [2020, 2022, 2024]"}

#: How each run-wide key should look, for error hints.
_EXAMPLES = {"chapters": "a list of chapter names, e.g. [population_profile]",
             "n_neighbours": "a whole number from 1 to 152, e.g. 15",
             "members": "a list of current area codes, e.g. [E06000061, E06000062]",
             "name": "a name in words, e.g. Northamptonshire",
             "figure_png": "true or false"}


#: The largest params file read (a params file is a few dozen lines; anything far larger is not one).
MAX_FILE_BYTES = 256 * 1024
#: The longest name in words (a CDP's or a comparator set's): a board paper's title, not a paragraph.
MAX_NAME = 120


def plain_name(value: str) -> str:
    """A name in words, checked: one line of printable characters with some letter or digit (so a name never
    breaks a table row, a heading or a file). Raises ``ValueError`` (pydantic reports it with the key)."""
    if not value.strip():
        raise ValueError("a name cannot be blank")
    if any(not ch.isprintable() for ch in value):
        raise ValueError("a name must be one line of printable characters (no line breaks, tabs or control "
                         "characters)")
    if not any(ch.isalnum() for ch in value):
        raise ValueError("a name needs a letter or digit")
    return value


class ComparatorSet(BaseModel):
    """Comparator areas an analyst chooses (e.g. the CIPFA neighbours a council uses), instead of the ONS
    statistical nearest neighbours."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=MAX_NAME,
                      description="what the set is, in words, e.g. CIPFA nearest neighbours (2024)")
    areas: list[str] = Field(min_length=1, max_length=152,
                             description="current upper-tier area codes, in the order to show them")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return plain_name(v)


class CommonSettings(BaseModel):
    """Run-wide settings (top-level keys of a params file)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    chapters: list[str] | None = Field(default=None, min_length=1,
                                       description="chapters to run, by name (default: every chapter); the "
                                                   "registry's schema checks the names")
    n_neighbours: int = Field(default=15, ge=1, le=152, description="number of statistical nearest neighbours")
    comparators: ComparatorSet | None = Field(
        default=None, description="a mapping with 'name' and 'areas', e.g. {name: CIPFA nearest neighbours, "
                                  "areas: [E10000007, E10000019]} (default: the ONS statistical nearest neighbours)")
    figure_png: bool = Field(default=False, description="also write each figure as a PNG at twice screen "
                                                        "resolution, for slides (every figure is written as SVG)")


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
            try:
                found = path.is_file()
            except OSError:  # e.g. a name longer than the system allows
                found = False
            if not found:
                section = f" (in section '{self.SECTION}')" if where == "key" and self.SECTION else ""
                raise InputError(f"no such file: {shorten(name, 200)}", file=file,
                                 where=f"{where} '{key}'{section}, item {i + 1}",
                                 hint="give the path of the downloaded CSV, relative to the project folder or absolute")
            out.append(path)
        return out

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Check the settings against the data (e.g. that years exist); raise :class:`InputError` if not.

        ``where`` names how a setting is given, e.g. ``"key"`` or ``"parameter"``.
        """


class CDPName(BaseModel):
    """A CDP's name in words, as a params file or a notebook parameter gives it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=MAX_NAME)

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return plain_name(v)


class CDPFile(CDPName):
    """A named CDP (``params/cdps/<slug>.yaml``): its name and member areas; other keys override the defaults."""

    model_config = ConfigDict(extra="allow", strict=True)

    members: list[str] = Field(min_length=1, max_length=153, description="current upper-tier area codes")


class _ParamsLoader(yaml.SafeLoader):
    """PyYAML's safe loader, stricter: a key given twice in one mapping and aliases (``*name``, which let a
    few hundred bytes expand to gigabytes) are refused, each as a :class:`yaml.MarkedYAMLError` with its line."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, f"an alias (*{event.anchor}) refers to another part of "
                                              "the file", event.start_mark)
        if self.check_event(yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent):
            event = self.peek_event()
            if event.anchor is not None:
                raise yaml.composer.ComposerError(None, None, f"an anchor (&{event.anchor}) marks a part of the "
                                                  "file for reuse", event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: PyYAML says so below
                first = None
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key '{key}' is given twice (first on line {first.line + 1})",
                    key_node.start_mark)
            try:
                seen[key] = key_node.start_mark
            except TypeError:
                pass
        return super().construct_mapping(node, deep=deep)


def _yaml_hint(problem: str) -> str:
    if "given twice" in problem:
        return "keep one of them: a later one would silently replace the first"
    if "alias" in problem or "anchor" in problem:
        return "write each value out in full: params files do not use YAML anchors or aliases (& and *)"
    if "\\t" in problem or "\t" in problem:
        return "indent with spaces, not tabs"
    return "check the indentation and that every key is followed by ': '"


def read_yaml(path: Path) -> dict[str, Any]:
    """A params file's mapping, or a readable error naming the file and line.

    The file must be UTF-8 (plain ASCII is UTF-8), at most :data:`MAX_FILE_BYTES` long, with no key given twice
    in one mapping and no YAML anchors or aliases.
    """
    if not path.is_file():
        raise InputError("parameter file not found", file=path, hint="restore it from git, or check the name")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError(f"the file is {size:,} bytes long; a params file is at most {MAX_FILE_BYTES // 1024} kB",
                         file=path, hint="a params file holds a few keys: see params/defaults.yaml")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} cannot be read)", file=path,
                         where=f"line {line}, column {column}",
                         hint="save the file as UTF-8 (in most editors: Save As, encoding UTF-8)") from None
    text = text.removeprefix("\ufeff")  # a byte-order mark some Windows editors write
    try:
        doc = yaml.load(text, Loader=_ParamsLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"not valid YAML ({problem})" if "given twice" not in problem and "alias" not in problem
                         and "anchor" not in problem else problem, file=path, where=where,
                         hint=_yaml_hint(problem)) from None
    except RecursionError:
        raise InputError("lists or sections are nested too deeply to be a params file", file=path,
                         hint="a params file nests a section two levels at most: see params/defaults.yaml") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise InputError(f"a value cannot be read ({shorten(exc, 80)})", file=path,
                         hint="check the numbers in the file: see params/defaults.yaml") from None
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
    shown = repr(got) if len(repr(got)) <= 60 else shorten(repr(got), 60) + f" ({len(str(got)):,} characters)"
    raise InputError(f"{msg} (got {shown})", file=file, where=where, hint=_hint(owner, key)) from None


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


def load_defaults(path: Path, model: type[CommonSettings]) -> CommonSettings:
    """Read and validate ``params/defaults.yaml`` against ``model``: :class:`CommonSettings` with one section per
    chapter, assembled by the chapter registry (:func:`cdp_analysis.chapters.registry.run_settings_model`)."""
    settings = validate(model, read_yaml(path), path)
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
