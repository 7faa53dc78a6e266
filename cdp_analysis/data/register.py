"""The data register: which raw files exist, what they are, and their checksums.

``data/register.yaml`` lists every raw file with its publisher, title, edition, licence, SHA-256 and
``kind`` (which loader reads it). Loaders ask for files *by kind*, so a newer edition with the same
layout dropped into the same folder is picked up without code changes. Files on disk that are not in
the register are still loaded (and logged), and the run manifest records the checksum actually read.

**The user overlay.** ``cdp update`` (:mod:`cdp_analysis.update`) downloads newer editions into
``data/user/<folder>/`` and records each accepted file in ``data/user/register.yaml`` (same fields, plus where
and when it was downloaded and which files it ``replaces``). Its entries' paths start ``user/`` (paths under
``data/``); the bundle's are paths under ``data/raw``. :func:`files_of_kind` returns both, without the files an
accepted download replaces: the newest edition wins, visibly.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from .. import paths
from ..errors import InputError
from ..memo import memoised

log = logging.getLogger(__name__)

_KINDS: dict[str, FileKind] = {}


@dataclass(frozen=True)
class FileKind:
    """A kind of raw file: where it lives under ``data/raw`` and what its name looks like.

    Declared by the dataset module that reads it (through :class:`Dataset`), never listed elsewhere.
    """

    kind: str
    folder: str
    pattern: str
    optional: bool = False
    #: what a newer file of this kind replaces: 'kind' every held file (one edition at a time), 'period' the
    #: held file of the same period (one file per year, e.g. mid-year estimates), 'indicator' the held export of
    #: the same Fingertips indicator
    one_per: str = "kind"


@dataclass(frozen=True)
class Dataset:
    """One published dataset: the file kinds it reads and its one loader.

    Attributes
    ----------
    name : str
        The dataset module's name (``ons_population``), used in chapters' ``datasets``.
    title : str
        What it is, in words, for the report ("ONS mid-year population estimates (MYE2)").
    kinds : tuple of FileKind
        The raw files it reads.
    load : callable
        The loader: reads, validates and returns the dataset's table(s); the runner's pre-run check
        calls it once so that a bad file is reported before any notebook starts.
    rules : tuple of plausibility.Rule
        The plausibility rules the loader applies (:mod:`cdp_analysis.data.plausibility`), listed here so
        that ``docs/plausibility.md`` can be checked against them.
    source : object, optional
        Where newer editions are published (:mod:`cdp_analysis.data.sources`), for ``cdp update``; None for
        a dataset with no newer edition to fetch (a transcription, a fixed release).
    """

    name: str
    title: str
    kinds: tuple[FileKind, ...]
    load: Callable[[], object]
    rules: tuple = ()
    source: object = None

    def __post_init__(self):
        for k in self.kinds:
            _KINDS[k.kind] = k

    def entries(self) -> list[RegisteredFile]:
        """The register entries of this dataset's files."""
        mine = {k.kind for k in self.kinds}
        return [e for e in load_register() if e.kind in mine]

    def check(self) -> None:
        """Before a run: every required file is present, each registered file has a ``period`` and is the
        file registered (same SHA-256), and the loader reads and validates them (with its plausibility
        rules). Raises :class:`InputError` on the first problem."""
        for k in self.kinds:
            if not k.optional:
                files_of_kind(k.kind)
        for entry in self.entries():
            raw = file_path(entry.path)
            if not entry.period:
                raise InputError("the data register gives no 'period' for this file", file=raw,
                                 hint="add the file to data/register.yaml with its period (e.g. period: '2019')")
            if raw.is_file() and checksum(raw) != entry.sha256:
                where = "data/user/register.yaml" if entry.path.startswith(USER) else "data/register.yaml"
                raise InputError(
                    f"this file is not the one registered in {where} (SHA-256 {checksum(raw)[:12]}… on "
                    f"disk, {entry.sha256[:12]}… registered for {entry.edition})", file=raw,
                    hint="restore the published file unchanged (`cdp data` lists every difference); to use a new "
                         "edition on purpose, update its entry in data/register.yaml (edition, period and sha256 = "
                         "the new file's SHA-256), as data/README.md describes")
        self.load()


def known_kinds() -> dict[str, FileKind]:
    """Every file kind declared by a dataset module (all dataset modules imported)."""
    from . import datasets

    datasets()
    return dict(_KINDS)


@dataclass(frozen=True)
class RegisteredFile:
    """One entry of ``data/register.yaml``."""

    path: str
    kind: str
    publisher: str
    title: str
    edition: str
    licence: str
    sha256: str
    caveats: str = ""
    period: str = ""
    url: str = ""
    note: str = ""
    #: user overlay only: the file's own address, when it was downloaded, and the held files it replaces
    download_url: str = ""
    downloaded_at: str = ""
    replaces: tuple = ()

    @property
    def citation(self) -> str:
        """How a table's ``source`` column names this file: ``<path> [<edition>]``."""
        return f"{self.path} [{self.edition}]"


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@memoised(maxsize=None)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return sha256_of(Path(path))


def checksum(path: Path) -> str:
    """SHA-256 of ``path``, memoised on (path, modification time, size) within a process."""
    st = path.stat()
    return _file_digest(str(path.resolve()), st.st_mtime_ns, st.st_size)


def register_path() -> Path:
    return paths.project_root() / "data" / "register.yaml"


def user_register_path() -> Path:
    """``data/user/register.yaml``: the files ``cdp update`` accepted (git-ignored, like all of ``data/user``)."""
    return paths.project_root() / "data" / "user" / "register.yaml"


#: The start of a user-overlay entry's path (a path under ``data/``).
USER = "user/"


#: Downloads being validated (``cdp update``): (entry, the file's staged path), seen as accepted while tried.
_TRIAL: list[tuple[RegisteredFile, Path]] = []


def file_path(key: str) -> Path:
    """The file a register path names: ``user/…`` under ``data/``, anything else under ``data/raw``."""
    for entry, staged in _TRIAL:
        if entry.path == key:
            return staged
    return paths.project_root() / "data" / key if key.startswith(USER) else paths.raw_dir() / key


@contextlib.contextmanager
def trial(entry: RegisteredFile, staged: Path):
    """While the block runs, ``entry`` (its file at ``staged``) is an accepted download: the dataset's loader
    and checks read it as they will after acceptance. Every loader's cache is emptied on entry and exit."""
    from ..memo import clear_all

    _TRIAL.append((entry, Path(staged)))
    clear_all()
    try:
        yield
    finally:
        _TRIAL.remove((entry, Path(staged)))
        clear_all()


def key_of(path: Path) -> str | None:
    """The register path of a file in ``data/raw`` or ``data/user`` (None for a file elsewhere)."""
    path = Path(path).resolve()
    for entry, staged in _TRIAL:  # a download being tried is named by its future path
        if staged.resolve() == path:
            return entry.path
    for base, prefix in ((paths.raw_dir().resolve(), ""), ((paths.project_root() / "data" / "user").resolve(), USER)):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return None


def bundle_register() -> list[RegisteredFile]:
    """The entries of ``data/register.yaml`` only (the files in ``data/raw``)."""
    path = register_path()
    if not path.is_file():
        raise InputError("the data register is missing", file=path, hint="restore data/register.yaml from git")
    st = path.stat()
    return list(_parse_register(str(path), st.st_mtime_ns, st.st_size))


def user_register() -> list[RegisteredFile]:
    """The entries of ``data/user/register.yaml`` (none when nothing was downloaded), and any download being
    tried (:func:`trial`) in place of an entry with the same path."""
    path = user_register_path()
    entries = []
    if path.is_file():
        st = path.stat()
        entries = list(_parse_register(str(path), st.st_mtime_ns, st.st_size))
    tried = [e for e, _ in _TRIAL]
    return [e for e in entries if e.path not in {t.path for t in tried}] + tried


def load_register() -> list[RegisteredFile]:
    """Every registered file: ``data/register.yaml``'s entries, then the user overlay's (each parsed once per
    version of its file)."""
    return bundle_register() + user_register()


def replaced() -> set[str]:
    """The register paths of held files that an accepted download replaces."""
    return {p for e in user_register() for p in e.replaces}


@memoised(maxsize=4)
def _parse_register(path_text: str, mtime_ns: int, size: int) -> tuple[RegisteredFile, ...]:
    path = Path(path_text)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"the data register is not valid YAML ({exc})", file=path,
                         hint="fix the YAML syntax (indentation, colons)") from None
    entries = []
    for i, item in enumerate(doc.get("files", []), start=1):
        try:
            if not isinstance(item, dict):
                raise TypeError(f"expected 'key: value' lines, found {item!r}")
            entries.append(RegisteredFile(**{k: tuple(map(str, v)) if isinstance(v, list) else str(v)
                                             for k, v in item.items()}))
        except TypeError as exc:
            raise InputError(f"entry {i} is malformed ({exc})", file=path, where=f"files[{i}]",
                             hint="each entry needs path, kind, publisher, title, edition, licence, sha256") from None
    return tuple(entries)


def references() -> dict[str, str]:
    """Each registered file's short reference, ``D<n>`` for the n-th entry of ``data/register.yaml``: how tables
    and chapters cite a file, the full reference being listed once (the report's last section, data/README.md)."""
    return {e.path: f"D{i}" for i, e in enumerate(load_register(), start=1)}


def reference_list(refs) -> str:
    """Short references in order, consecutive runs joined: ['D1', 'D2', 'D3', 'D7'] → 'D1–D3, D7'."""
    numbers = sorted({int(r[1:]) for r in refs})
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"D{r[0]}" if len(r) == 1 else f"D{r[0]}{'–' if len(r) > 2 else ', '}D{r[-1]}" for r in runs)


def files_of_kind(kind: str, *, required: bool = True) -> list[Path]:
    """All files of one kind: those in ``data/raw`` (sorted by name) but the ones an accepted download replaces,
    and the accepted downloads in ``data/user``; with downloads, all in order of period (the newest last), a
    download after a bundle file of the same period.

    Parameters
    ----------
    kind : str
        A kind declared by a dataset module (:class:`FileKind`).
    required : bool
        Raise :class:`InputError` if none is found.
    """
    spec = _KINDS[kind]
    folder, pattern = spec.folder, spec.pattern
    base = paths.raw_dir() / folder
    gone = replaced()
    found = sorted(p for p in base.glob(pattern) if p.is_file() and not p.name.startswith((".", "~$"))
                   and p.relative_to(paths.raw_dir()).as_posix() not in gone)
    registered = {e.path for e in bundle_register() if e.kind == kind}
    for p in found:
        rel = p.relative_to(paths.raw_dir()).as_posix()
        if rel not in registered:
            log.warning("%s is not in data/register.yaml; it is loaded, and its checksum goes in the manifest", rel)
    downloads = [e for e in user_register() if e.kind == kind and e.path not in gone]
    for e in downloads:
        if not file_path(e.path).is_file():
            raise InputError("a file `cdp update` accepted is missing", file=file_path(e.path),
                             hint="run `cdp update` again, or delete its entry from data/user/register.yaml to go "
                                  "back to the edition it replaced")
    if downloads:  # newest edition last (file_of_kind takes it), downloads after the bundle within a period
        from .sources import period_key

        periods = {e.path: e.period for e in bundle_register()}
        ranked = [(period_key(periods.get(p.relative_to(paths.raw_dir()).as_posix(), "")), 0, p) for p in found]
        ranked += [(period_key(e.period), 1, file_path(e.path)) for e in downloads]
        found = [p for *_, p in sorted(ranked, key=lambda r: r[:2])]
    if required and not found:
        expected = ", ".join(sorted(registered)) or f"{folder}/{pattern}"
        raise InputError(f"no {kind.replace('_', ' ')} file found (expected {expected})", file=base,
                         hint="copy it unchanged from ../shared/data/ (see data/README.md), then run again")
    return found


def file_of_kind(kind: str) -> Path:
    """The one file of a kind in use: the newest accepted download, else the last in ``data/raw`` by name."""
    return files_of_kind(kind)[-1]


def verify_checksums() -> list[str]:
    """Compare every registered file on disk with its recorded SHA-256.

    Returns
    -------
    list of str
        One line per problem (a kind no dataset reads, a missing file or a changed checksum); empty
        when all match.
    """
    problems = []
    kinds = known_kinds()
    for entry in load_register():
        p = file_path(entry.path)
        if entry.kind not in kinds:
            problems.append(f"{entry.path}: kind '{entry.kind}' is read by no dataset module "
                            f"(kinds: {', '.join(sorted(kinds))})")
        elif not p.is_file():
            problems.append(f"{entry.path}: missing")
        elif checksum(p) != entry.sha256:
            problems.append(f"{entry.path}: checksum {checksum(p)[:12]}… differs from the register's {entry.sha256[:12]}…")
    return problems


def raw_checksums() -> dict[str, str]:
    """SHA-256 of every file under ``data/raw`` (relative path -> digest), for the run manifest."""
    root = paths.raw_dir()
    return {p.relative_to(root).as_posix(): checksum(p)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}


def entry_of(path: Path) -> RegisteredFile | None:
    """The register entry of a file in ``data/raw`` or ``data/user`` (None if it is not registered)."""
    key = key_of(path)
    return next((e for e in load_register() if e.path == key), None) if key else None


def citation_of(path: Path) -> str:
    """The ``source`` text for figures read from ``path``: its register citation, or a flag if unregistered."""
    entry = entry_of(path)
    if entry is not None:
        return entry.citation
    rel = Path(path).resolve().relative_to(paths.raw_dir().resolve()).as_posix()  # ValueError: not a raw file
    return f"{rel} [not in the data register]"


def period_of(path: Path) -> str:
    """The ``period`` the register records for a raw file (the time its figures describe).

    Raises
    ------
    InputError
        If the file is not registered or its entry has no ``period``.
    """
    entry = entry_of(path)
    if entry is None or not entry.period:
        raise InputError("the data register gives no 'period' for this file", file=path,
                         hint="add the file to data/register.yaml with its period (e.g. period: '2019')")
    return entry.period


def join_distinct(*texts: str) -> str:
    """Several '; '-separated lists as one: the distinct items, sorted, joined by '; '."""
    parts = {p for t in texts for p in str(t).split("; ") if p}
    return "; ".join(sorted(parts))


def cite(*citations: str) -> str:
    """One ``source`` value from several citations (:func:`join_distinct` of them)."""
    return join_distinct(*citations)


def cite_by_group(frame: pd.DataFrame, keys: list[str], columns: list[str]) -> pd.DataFrame:
    """Each group's citations as one: ``frame.groupby(keys)[columns].agg(lambda v: cite(*v))``, the same
    frame, without pandas' call per group (a table of estimates has thousands of groups).

    Parameters
    ----------
    frame : DataFrame
        Rows holding citations (or '; '-separated lists of them) in ``columns``.
    keys, columns : list of str
        The grouping columns, and the columns to join.

    Returns
    -------
    DataFrame
        One row per group (indexed by ``keys``, in sorted order; a group with a missing key is left out, as
        ``groupby`` does), one column per name in ``columns``: :func:`cite` of the group's cells.
    """
    distinct = frame[[*keys, *columns]].drop_duplicates()  # cite keeps distinct items: repeats change nothing
    grouped = distinct.groupby(keys, sort=True)
    group_of = grouped.ngroup().fillna(-1).astype("int64").tolist()  # -1: a row with a missing key
    joined = {}
    for column in columns:
        cells: list[list] = [[] for _ in range(grouped.ngroups)]
        for group, cell in zip(group_of, distinct[column].tolist()):
            if group >= 0:
                cells[group].append(cell)
        joined[column] = [cite(*c) for c in cells]
    return pd.DataFrame(joined, index=grouped.size().index)


_CITATION = re.compile(r"^(?P<path>\S+) \[(?P<edition>.*)\]$")


def resolve_source(source: str) -> list[RegisteredFile]:
    """The register entries a ``source`` value names.

    Raises
    ------
    KeyError
        If a part does not name a registered file with its registered edition.
    """
    by_path = {e.path: e for e in load_register()}
    found = []
    for part in source.split("; "):
        m = _CITATION.match(part)
        entry = by_path.get(m["path"]) if m else None
        if entry is None or entry.edition != m["edition"]:
            raise KeyError(f"source {part!r} does not name a data register entry with its edition")
        found.append(entry)
    return found
