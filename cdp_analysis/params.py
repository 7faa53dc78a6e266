"""Run parameters: ``params/defaults.yaml`` plus one YAML file per named multi-area CDP.

Both are validated against typed schemas. Unknown keys, wrong types, unknown or former area codes and
unavailable years raise :class:`~cdp_analysis.errors.InputError` naming the file and the key and, where
possible, the closest valid value.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InputError, did_you_mean

log = logging.getLogger(__name__)


class RunSettings(BaseModel):
    """Settings every CDP run uses (``params/defaults.yaml``)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    notebooks: list[str] = Field(min_length=1, description="chapter notebooks to run, in order")
    population_years: list[int] = Field(min_length=2, description="mid-years compared, earliest first")
    n_neighbours: int = Field(ge=1, le=152, description="number of statistical nearest neighbours")

    @field_validator("population_years")
    @classmethod
    def _ascending(cls, v: list[int]) -> list[int]:
        if v != sorted(set(v)):
            raise ValueError("years must be distinct and in ascending order")
        return v


class CDPFile(BaseModel):
    """A named CDP (``params/cdps/<slug>.yaml``): its name, member areas and any overrides."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1)
    members: list[str] = Field(min_length=1, description="current upper-tier area codes")
    notebooks: list[str] | None = Field(default=None, min_length=1)
    population_years: list[int] | None = Field(default=None, min_length=2)
    n_neighbours: int | None = Field(default=None, ge=1, le=152)


def _read_yaml(path: Path) -> dict[str, Any]:
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


def _validate(model: type[BaseModel], doc: dict[str, Any], path: Path) -> BaseModel:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        # an unknown key explains a 'missing' one when it is a misspelling of it, so report it first
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        key = str(err["loc"][0]) if err["loc"] else "(top level)"
        # 'key 'population_years', item 2' rather than pydantic's 'population_years.1'
        where = ", ".join([f"key '{key}'"] + [f"item {p + 1}" if isinstance(p, int) else f"'{p}'"
                                               for p in err["loc"][1:]])
        fields = list(model.model_fields)
        if err["type"] == "extra_forbidden":
            hint = did_you_mean(key, fields) or f"valid keys are: {', '.join(fields)}"
            raise InputError(f"unknown key '{key}'", file=path, where=where, hint=hint) from None
        if err["type"] == "missing":
            raise InputError(f"required key '{key}' is missing", file=path, where=where,
                             hint=f"add '{key}:' (see params/defaults.yaml and README.md)") from None
        got = err.get("input")
        raise InputError(f"{err['msg'].lower()} (got {got!r})", file=path, where=where,
                         hint=_type_hint(model, key)) from None


def _type_hint(model: type[BaseModel], field: str) -> str:
    info = model.model_fields.get(field)
    if info is None:
        return "see params/defaults.yaml"
    examples = {"notebooks": "a list of notebook names, e.g. [01_population_profile]",
                "population_years": "a list of whole years in ascending order, e.g. [2020, 2022, 2024]",
                "n_neighbours": "a whole number from 1 to 152, e.g. 15",
                "members": "a list of current area codes, e.g. [E06000061, E06000062]",
                "name": "a name in words, e.g. Northamptonshire"}
    return f"'{field}' should be {examples.get(field, info.description or 'as in params/defaults.yaml')}"


def load_defaults(path: Path) -> RunSettings:
    """Read and validate ``params/defaults.yaml``."""
    return _validate(RunSettings, _read_yaml(path), path)


def load_cdp_file(path: Path) -> CDPFile:
    """Read and validate one ``params/cdps/*.yaml`` file (area codes are checked by :mod:`partnerships`)."""
    return _validate(CDPFile, _read_yaml(path), path)
