"""Combating Drugs Partnerships (CDPs): one or more current upper-tier areas reported together.

Every upper-tier area is a single-area CDP by default, known by the slug of its name
('nottinghamshire') or by its code ('E10000024'). Named multi-area CDPs are defined by YAML files in
``params/cdps/`` (e.g. Northamptonshire = North + West Northamptonshire); a named CDP replaces the
single-area CDPs of its members in ``--all`` runs.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path

from . import geography, paths, vintage
from .errors import InputError, closest
from .params import RunSettings, load_cdp_file, load_defaults

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partnership:
    """A CDP and the settings its run uses.

    Attributes
    ----------
    slug : str
        Identifier used on the command line and as the output folder name.
    name : str
        Name in words.
    members : tuple of str
        Current upper-tier area codes.
    settings : RunSettings
        Defaults with this CDP's overrides applied.
    source : str
        'params/cdps/<slug>.yaml' for a named CDP, 'single area' otherwise.
    """

    slug: str
    name: str
    members: tuple[str, ...]
    settings: RunSettings
    source: str = "single area"
    member_names: tuple[str, ...] = field(default=())

    def notebook_parameters(self, output_dir: str = "") -> dict:
        """The values injected into every notebook's ``parameters`` cell."""
        return {"cdp_slug": self.slug, "cdp_name": self.name, "members": list(self.members),
                "population_years": list(self.settings.population_years),
                "n_neighbours": self.settings.n_neighbours, "output_dir": output_dir}


def _check_members(members: list[str], path: Path) -> None:
    valid = set(geography.utla_codes())
    for i, code in enumerate(members):
        if code in valid:
            continue
        where = f"key 'members', item {i + 1}"
        legacy = vintage.legacy_code_message(code)
        if legacy:
            raise InputError(legacy, file=path, where=where, hint="replace it with the current code(s) above")
        hit = closest(code, valid) or closest(code, geography.areas("utla")["name"])
        raise InputError(f"'{code}' is not a current English upper-tier area code", file=path, where=where,
                         hint=(f"did you mean '{hit[0]}'? " if hit else "") + "run `cdp areas` to list valid codes")
    if len(set(members)) != len(members):
        raise InputError("an area is listed twice", file=path, where="key 'members'", hint="list each area once")


def _check_years(years: list[int] | None, path: Path) -> None:
    """Every year in ``population_years`` must have population estimates in data/raw/ons_population."""
    if not years:
        return
    from . import population

    available = population.available_years()
    missing = [y for y in years if y not in available]
    if missing:
        raise InputError(f"no population estimates for mid-{', mid-'.join(map(str, missing))}", file=path,
                         where="key 'population_years'",
                         hint=f"choose from {', '.join(map(str, available))} (the years in data/raw/ons_population)")


@functools.lru_cache(maxsize=4)
def _load(params_dir: str) -> tuple[RunSettings, dict[str, Partnership]]:
    folder = Path(params_dir)
    defaults = load_defaults(folder / "defaults.yaml")
    _check_years(defaults.population_years, folder / "defaults.yaml")
    named = {}
    for path in sorted((folder / "cdps").glob("*.yaml")):
        spec = load_cdp_file(path)
        _check_members(spec.members, path)
        _check_years(spec.population_years, path)
        overrides = {k: v for k, v in spec.model_dump().items() if k not in {"name", "members"} and v is not None}
        settings = defaults.model_copy(update=overrides)
        rel = path.relative_to(folder.parent).as_posix() if folder.parent in path.parents else str(path)
        named[path.stem] = Partnership(slug=path.stem, name=spec.name, members=tuple(spec.members), settings=settings,
                                       source=rel, member_names=tuple(geography.name_of(c) for c in spec.members))
    return defaults, named


def defaults() -> RunSettings:
    """The validated ``params/defaults.yaml``."""
    return _load(str(paths.params_dir()))[0]


def named_partnerships() -> dict[str, Partnership]:
    """The named CDPs defined in ``params/cdps/``, by slug."""
    return dict(_load(str(paths.params_dir()))[1])


def _single(row) -> Partnership:
    return Partnership(slug=row["slug"], name=row["name"], members=(row["code"],), settings=defaults(),
                       member_names=(row["name"],))


def get(key: str) -> Partnership:
    """A CDP by slug (named or single-area) or by a current upper-tier area code."""
    named = named_partnerships()
    if key in named:
        return named[key]
    utla = geography.areas("utla")
    hit = utla[(utla["slug"] == key) | (utla["code"] == key)]
    if len(hit) == 1:
        return _single(hit.iloc[0])
    legacy = vintage.legacy_code_message(key)
    if legacy:
        raise InputError(legacy, hint="name the CDP by a current area code or slug; `cdp areas` lists them")
    choices = [*named, *utla["slug"]]
    hint = closest(key.lower(), choices) or closest(key, utla["code"])
    raise InputError(f"unknown CDP or area '{key}'",
                     hint=(f"did you mean '{hint[0]}'? " if hint else "") + "run `cdp areas` to list them")


def all_partnerships() -> list[Partnership]:
    """Every CDP: the named ones, then each area not a member of a named CDP, sorted by slug."""
    named = named_partnerships()
    taken = {m for p in named.values() for m in p.members}
    singles = [_single(r) for _, r in geography.areas("utla").iterrows() if r["code"] not in taken]
    return sorted([*named.values(), *singles], key=lambda p: p.slug)
