"""The data register: which raw files exist, what they are, and their checksums.

``data/register.yaml`` lists every raw file with its publisher, title, edition, licence, SHA-256 and
``kind`` (which loader reads it). Loaders ask for files *by kind*, so a newer edition with the same
layout dropped into the same folder is picked up without code changes. Files on disk that are not in
the register are still loaded (and logged), and the run manifest records the checksum actually read.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import paths
from .errors import InputError

log = logging.getLogger(__name__)

#: Where each kind of file lives under ``data/raw`` and what its name looks like.
KIND_PATTERNS: dict[str, tuple[str, str]] = {
    "mye2_workbook": ("ons_population", "*.xlsx"),
    "mye2_persons_csv": ("ons_population", "*MYE2_persons*.csv"),
    "imd2019_utla19": ("imd2019", "IoD2019_UTLA19*.csv"),
    "imd2019_ltla23": ("imd2019", "imd2019_england_ltla23*.csv"),
    "utla_register": ("lookups", "utla_current_england*.csv"),
    "code_changes": ("lookups", "la_code_changes_england*.csv"),
    "nearest_neighbours": ("ons_nearest_neighbours", "*nearestneighbours*.xlsx"),
}

#: Kinds a run can do without (the loaders pass ``required=False``).
OPTIONAL_KINDS = frozenset({"mye2_persons_csv"})


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


def sha256_of(path: Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@functools.lru_cache(maxsize=None)
def _file_digest(path: str, mtime_ns: int, size: int) -> str:
    return sha256_of(Path(path))


def checksum(path: Path) -> str:
    """SHA-256 of ``path``, memoised on (path, modification time, size) within a process."""
    st = path.stat()
    return _file_digest(str(path.resolve()), st.st_mtime_ns, st.st_size)


def register_path() -> Path:
    return paths.project_root() / "data" / "register.yaml"


def load_register() -> list[RegisteredFile]:
    """Read ``data/register.yaml`` into :class:`RegisteredFile` entries."""
    path = register_path()
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise InputError(f"the data register is not valid YAML ({exc})", file=path,
                         hint="fix the YAML syntax (indentation, colons)") from None
    entries = []
    for i, item in enumerate(doc.get("files", []), start=1):
        try:
            entries.append(RegisteredFile(**item))
        except TypeError as exc:
            raise InputError(f"entry {i} is malformed ({exc})", file=path, where=f"files[{i}]",
                             hint="each entry needs path, kind, publisher, title, edition, licence, sha256") from None
    return entries


def files_of_kind(kind: str, *, required: bool = True) -> list[Path]:
    """All raw files of one kind, sorted by name.

    Parameters
    ----------
    kind : str
        A key of :data:`KIND_PATTERNS`.
    required : bool
        Raise :class:`InputError` if none is found.
    """
    folder, pattern = KIND_PATTERNS[kind]
    base = paths.raw_dir() / folder
    found = sorted(p for p in base.glob(pattern) if p.is_file() and not p.name.startswith((".", "~$")))
    registered = {e.path for e in load_register() if e.kind == kind}
    if required and not found:
        expected = ", ".join(sorted(registered)) or f"{folder}/{pattern}"
        raise InputError(f"no {kind.replace('_', ' ')} file found (expected {expected})", file=base,
                         hint="copy it unchanged from ../shared/data/ (see data/README.md), then run again")
    for p in found:
        rel = p.relative_to(paths.raw_dir()).as_posix()
        if rel not in registered:
            log.warning("%s is not in data/register.yaml; it is loaded, and its checksum goes in the manifest", rel)
    return found


def file_of_kind(kind: str) -> Path:
    """The one raw file of a kind (the newest by name if there are several)."""
    return files_of_kind(kind)[-1]


def verify_checksums() -> list[str]:
    """Compare every registered file on disk with its recorded SHA-256.

    Returns
    -------
    list of str
        One line per problem (missing file or changed checksum); empty when all match.
    """
    problems = []
    for entry in load_register():
        p = paths.raw_dir() / entry.path
        if not p.is_file():
            problems.append(f"{entry.path}: missing")
        elif checksum(p) != entry.sha256:
            problems.append(f"{entry.path}: checksum {checksum(p)[:12]}… differs from the register's {entry.sha256[:12]}…")
    return problems


def raw_checksums() -> dict[str, str]:
    """SHA-256 of every file under ``data/raw`` (relative path -> digest), for the run manifest."""
    root = paths.raw_dir()
    return {p.relative_to(root).as_posix(): checksum(p)
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".")}
