"""The CDPs a run can name, each with its settings read from the params files.

Every upper-tier area is a single-area CDP by default, known by the slug of its name ('nottinghamshire') or by its
code ('E10000024'). Named multi-area CDPs are defined by YAML files in ``params/cdps/`` (e.g. Northamptonshire =
North + West Northamptonshire); a named CDP replaces the single-area CDPs of its members in ``--all`` runs.

The params files are validated against the schema the chapter registry assembles from the chapters' settings
(:func:`cdp_analysis.chapters.registry.run_settings_model`), and each :class:`~cdp_analysis.areas.partnerships.
Partnership` is given the chapters it runs (:func:`~cdp_analysis.chapters.registry.chapters_of`): the areas layer
below knows neither.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..areas import geography, vintage
from ..areas.params import CDPName, CommonSettings, load_cdp_file, load_defaults, read_yaml, validate_parameters
from ..areas.partnerships import Partnership, check_comparators
from ..errors import InputError, closest, shorten
from ..memo import memoised
from .registry import chapters_of, run_settings_model

log = logging.getLogger(__name__)

__all__ = ["BrokenFile", "Partnership", "all_partnerships", "broken_files", "defaults", "distinct", "from_file",
           "from_parameters", "get", "named_partnerships"]


def _partnership(**fields) -> Partnership:
    """A :class:`Partnership` with the chapters its settings choose."""
    return Partnership(**fields, chapter_list=chapters_of(fields["settings"]))


@memoised(maxsize=4)
def _defaults(params_dir: str) -> CommonSettings:
    return load_defaults(Path(params_dir) / "defaults.yaml", run_settings_model())


@dataclass(frozen=True)
class BrokenFile:
    """A file in ``params/cdps/`` that could not be read: the CDP it would define is not run, the others are.

    Attributes
    ----------
    slug : str
        The file's stem.
    path : Path
        The file.
    error : InputError
        What is wrong with it (naming the file).
    members : tuple of str
        The area codes it lists, when that much could be read (so ``--all`` does not run them on their own).
    """

    slug: str
    path: Path
    error: InputError
    members: tuple[str, ...] = ()


def _listed_members(path: Path) -> tuple[str, ...]:
    """The codes under ``members:`` of a params file that failed a later check, if it can be read at all."""
    try:
        doc = read_yaml(path)
    except InputError:
        return ()
    members = doc.get("members")
    return tuple(m for m in members if isinstance(m, str)) if isinstance(members, list) else ()


def _named_from(path: Path, defaults: CommonSettings, folder: Path) -> Partnership:
    paths.check_slug(path.stem, file=path)
    spec, settings = load_cdp_file(path, defaults)
    geography.check_upper_tier_codes(spec.members, file=path)
    check_comparators(settings, spec.members, file=path)
    rel = path.relative_to(folder.parent).as_posix() if folder.parent in path.parents else str(path)
    return _partnership(slug=path.stem, name=spec.name, members=tuple(spec.members), settings=settings,
                       source=rel, member_names=tuple(geography.name_of(c) for c in spec.members))


@memoised(maxsize=4)
def _load(params_dir: str) -> tuple[CommonSettings, dict[str, Partnership], dict[str, BrokenFile]]:
    """The defaults, the named CDPs of ``params/cdps/`` and the files there that could not be read.

    A bad file stops neither ``cdp areas`` nor the runs of other CDPs: it is kept, with its error, in the third
    mapping, and naming its CDP (:func:`get`) raises that error. A second file whose CDP shares members with
    an earlier one (in file-name order) is refused the same way, naming both files.
    """
    folder = Path(params_dir)
    defaults = _defaults(params_dir)
    named: dict[str, Partnership] = {}
    broken: dict[str, BrokenFile] = {}
    files = sorted([*(folder / "cdps").glob("*.yaml"), *(folder / "cdps").glob("*.yml")])
    for path in files:
        try:
            cdp = _named_from(path, defaults, folder)
            _check_single_area_folder(cdp, path)
            owner = next((p for p in named.values() if set(p.members) & set(cdp.members)), None)
            if owner is not None:
                shared = sorted(set(owner.members) & set(cdp.members))
                raise InputError(f"'{shared[0]}' ({geography.name_of(shared[0])}) is also a member of the CDP "
                                 f"defined by {owner.source}", file=path, where="key 'members'",
                                 hint="an area belongs to one CDP: remove it from one of the two files")
            named[cdp.slug] = cdp
        except InputError as exc:
            log.info("%s", exc.message)
            if path.stem in named or path.stem in broken:  # x.yaml and x.yml: one folder
                exc = InputError(f"a second params file for the CDP '{path.stem}'", file=path,
                                 hint="keep one of x.yaml and x.yml")  # reported by `cdp areas`, `cdp run --all` and a run of this CDP
            broken[path.stem] = BrokenFile(path.stem, path, exc, _listed_members(path))
    return defaults, named, broken


def defaults() -> CommonSettings:
    """The validated ``params/defaults.yaml`` (the named CDPs' files are not read)."""
    return _defaults(str(paths.params_dir()))


def from_parameters(slug: str, name: str, members: list[str], n_neighbours: int | None, *, chapter: str,
                    chapter_settings, comparators: dict | None = None) -> Partnership:
    """The CDP a notebook's parameters describe, checked as ``cdp run`` checks a params file.

    Raises
    ------
    InputError
        For an unknown or former area code, or a parameter of the wrong type.
    """
    paths.check_slug(slug, where="parameter 'cdp_slug'")
    validate_parameters(CDPName, {"name": name})
    geography.check_upper_tier_codes(members, where="parameter 'members'")
    base = defaults()
    common = {"n_neighbours": base.n_neighbours if n_neighbours is None else n_neighbours,
              "comparators": comparators}
    common = validate_parameters(CommonSettings, common)
    check_comparators(common, members, where="parameter 'comparators'")
    settings = base.model_copy(update={"n_neighbours": common.n_neighbours, "comparators": common.comparators,
                                       chapter: chapter_settings})
    return _partnership(slug=slug, name=name, members=tuple(members), settings=settings,
                       source="notebook parameters", member_names=tuple(geography.name_of(c) for c in members))
def named_partnerships() -> dict[str, Partnership]:
    """The named CDPs defined in ``params/cdps/``, by slug (files that could not be read are left out:
    :func:`broken_files`)."""
    return dict(_load(str(paths.params_dir()))[1])


def broken_files() -> dict[str, BrokenFile]:
    """The files in ``params/cdps/`` that could not be read, by stem, each with its error."""
    return dict(_load(str(paths.params_dir()))[2])


def _single(row) -> Partnership:
    return _partnership(slug=row["slug"], name=row["name"], members=(row["code"],), settings=defaults(),
                       member_names=(row["name"],))


def from_file(path: Path) -> Partnership:
    """A CDP defined by a params file outside ``params/cdps/`` (e.g. a worked example under ``data/examples/``),
    checked like the named ones; its slug is the file's stem. Such a CDP is never part of ``--all``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no such params file: {shorten(path, 200)}", hint="give the path of a CDP's YAML file")
    resolved = path.resolve()
    if resolved.parent == (paths.params_dir() / "cdps").resolve():  # a named CDP, by its file's (or a link's) path
        return get(resolved.stem)
    path = resolved  # a link is known by the file it points to: its name names the folder
    paths.check_slug(path.stem, file=path)
    spec, settings = load_cdp_file(path, defaults())
    geography.check_upper_tier_codes(spec.members, file=path)
    check_comparators(settings, spec.members, file=path)
    root = paths.project_root()
    rel = path.relative_to(root).as_posix() if root in path.parents else str(path)
    cdp = _partnership(slug=path.stem, name=spec.name, members=tuple(spec.members), settings=settings, source=rel,
                      member_names=tuple(geography.name_of(c) for c in spec.members))
    _check_own_folder(cdp, path)
    return cdp


def _check_single_area_folder(cdp: Partnership, path: Path) -> None:
    """A named CDP may not take the folder of a single area (its slug) unless it is that area."""
    utla = geography.areas("utla")
    hit = utla[utla["slug"] == cdp.slug]
    if len(hit) and set(cdp.members) != {hit.iloc[0]["code"]}:
        _refuse_folder(cdp, path, f"{hit.iloc[0]['name']} ({hit.iloc[0]['code']})")


def _refuse_folder(cdp: Partnership, path: Path, other: str) -> None:
    raise InputError(f"its outputs would go to outputs/{cdp.slug}/, the folder of {other}, a different CDP", file=path,
                     hint=f"rename the file, e.g. to {cdp.slug}-{paths.slug_of(cdp.name) or 'own'}.yaml, "
                          "so that its outputs get a folder of their own")


def _check_own_folder(cdp: Partnership, path: Path) -> None:
    """A CDP from a file outside ``params/cdps/`` may not take the output folder of another CDP (one with other
    members): its report would silently replace theirs."""
    other = named_partnerships().get(cdp.slug)
    if other is None:
        _check_single_area_folder(cdp, path)
    elif set(other.members) != set(cdp.members):
        _refuse_folder(cdp, path, f"{other.name} ({other.members_text})")


def get(key: str) -> Partnership:
    """A CDP by slug (named or single-area), by a current upper-tier area code, or by the path of a params
    file (ending ``.yaml``)."""
    if key.lower().endswith((".yaml", ".yml")):
        path = Path(key).expanduser()
        return from_file(path if path.is_absolute() else Path.cwd() / path)
    named = named_partnerships()
    if key in named:
        return named[key]
    broken = broken_files()
    if key in broken:
        raise broken[key].error
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
    """Every CDP: the named ones, then each area not a member of a named CDP, sorted by slug.

    The members listed by a file of ``params/cdps/`` that could not be read (:func:`broken_files`) are not run
    on their own either: that CDP is reported as not done by ``cdp run --all``.
    """
    named = named_partnerships()
    taken = {m for p in named.values() for m in p.members} | {m for b in broken_files().values() for m in b.members}
    singles = [_single(r) for _, r in geography.areas("utla").iterrows() if r["code"] not in taken]
    return sorted([*named.values(), *singles], key=lambda p: p.slug)


def distinct(cdps: list[Partnership]) -> list[Partnership]:
    """``cdps`` with repeats of one CDP dropped (e.g. named by slug and by code), in order.

    Raises
    ------
    InputError
        If two different CDPs would write to the same output folder (the same slug): neither is run, so neither
        report replaces the other.
    """
    by_slug: dict[str, Partnership] = {}
    for cdp in cdps:
        first = by_slug.setdefault(cdp.slug, cdp)
        if first != cdp:
            raise InputError(f"two different CDPs would both write to outputs/{cdp.slug}/: {first.name} "
                             f"({first.source}) and {cdp.name} ({cdp.source})",
                             hint="give each CDP's params file a name of its own (the file name names the folder)")
    return list(by_slug.values())
