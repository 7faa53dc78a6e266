"""Incremental runs: a CDP's job key, and whether its outputs are already up to date.

A CDP's **job key** is the SHA-256 of everything its run depends on:

* the CDP (slug, name, members) and all its settings (run-wide and every chapter's), as validated;
* the chapters it runs and the bytes of their notebooks;
* the package: its version and the bytes of every module of ``cdp_analysis`` (a code change without a version
  bump still counts);
* the data: every entry of the data register (``data/register.yaml``: edition and checksum) and the checksum
  of every file actually in ``data/raw/``, the project's own
  reference files (``data/catalogue/``), and every file a CDP's settings name (local data, NDTMS ViewIt and
  Fingertips exports) or that the chapters read unnamed (``data/user/fingertips/`` downloads).

The key is written into ``run.json`` (``job_key``). A run of a CDP whose previous run succeeded with the same
key, and whose output files are all present with the checksums ``run.json`` recorded, is skipped ('up to
date'); ``cdp run --force`` runs it anyway.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from . import __version__, paths
from .data import register
from .memo import memoised

log = logging.getLogger(__name__)

UP_TO_DATE = "up to date"


def _sha(path: Path) -> str:
    """SHA-256 of a file, memoised within a process on (path, modification time, size)."""
    return register.checksum(Path(path))


@memoised()
def package_digest() -> str:
    """SHA-256 over the package's modules (path and bytes, in path order)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _outside_code(chapter) -> dict[str, str]:
    """The code of a chapter kept outside the package (``CDP_ANALYSIS_CHAPTER_PATH``): the checksum of every
    ``.py`` file of its module or package, so that editing it makes its CDPs run again."""
    import sys

    module = sys.modules.get(chapter.build.__module__)
    source = Path(getattr(module, "__file__", "") or "")
    if not source.is_file():
        return {}
    folder = source.parent if source.name == "__init__.py" or source.parent.joinpath("__init__.py").is_file() \
        else None
    files = sorted(folder.rglob("*.py")) if folder is not None else [source]
    base = folder or source.parent
    return {p.relative_to(base).as_posix(): _sha(p) for p in files}


def _named_files(cdp) -> dict[str, str]:
    """Files the CDP's settings name (every list of paths in a chapter's settings), with their checksums."""
    out = {}
    for chapter in cdp.chapters():
        settings = cdp.chapter_settings(chapter.name)
        for name, value in settings.model_dump().items():
            if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                try:
                    files = settings.files(name)
                except Exception:  # noqa: BLE001 - not a list of paths (e.g. names of drugs)
                    continue
                out.update({f"{chapter.name}.{name}:{f}": _sha(f) for f in files})
    return out


def shared_inputs() -> dict:
    """The parts of a job key that are the same for every CDP: the package, the data register, the bytes in
    ``data/raw``, the catalogue and downloaded Fingertips exports. A batch computes them once for all its CDPs
    (:func:`cdp_analysis.batch.up_to_date`) instead of once per CDP."""
    root = paths.project_root()
    user = root / "data" / "user" / "fingertips"
    return {
        "package": {"version": __version__, "modules": package_digest()},
        "register": {e.path: [e.edition, e.sha256] for e in register.load_register()},
        "raw": register.raw_checksums(),  # the bytes actually there (a file changed without registering it)
        "catalogue": {p.name: _sha(p) for p in sorted((root / "data" / "catalogue").glob("*")) if p.is_file()},
        "downloads": {p.name: _sha(p) for p in sorted(user.glob("*")) if p.is_file()} if user.is_dir() else {},
    }


def job_key(cdp, shared: dict | None = None) -> str:
    """The job key of a CDP's run (see the module docstring). ``shared``: :func:`shared_inputs`, if the caller
    has it (computed here otherwise)."""
    parts = {
        "cdp": {"slug": cdp.slug, "name": cdp.name, "members": list(cdp.members)},
        "settings": cdp.settings.model_dump(mode="json"),
        "notebooks": {c.notebook: _sha(c.notebook_path()) for c in cdp.chapters()},
        "outside_chapters": {c.name: _outside_code(c) for c in cdp.chapters() if c.notebook_dir is not None},
        **(shared_inputs() if shared is None else shared),
        "files": _named_files(cdp),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def up_to_date(cdp, folder: Path, key: str | None = None, shared: dict | None = None) -> bool:
    """True when ``folder`` (the CDP's output folder) holds a successful run with the same job key and every
    output file it recorded is present and unchanged (and the report exists).

    An output is unchanged if it was modified before ``run.json`` was written (its modification time), or,
    if it was, if it still has the checksum ``run.json`` recorded: as ``make`` does, a file edited by hand is
    noticed by its time, without hashing every output of every CDP on each no-op run (a file put back with an
    older time is not noticed; ``--force`` runs the CDP anyway). ``key``: the CDP's job key if known;
    ``shared``: :func:`shared_inputs`, for a caller checking many CDPs."""
    manifest = Path(folder) / "run.json"
    try:
        written = manifest.stat().st_mtime_ns
        run = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if run.get("status") != "succeeded" or run.get("job_key") != (key or job_key(cdp, shared)):
        return False
    if not (Path(folder) / "report.html").is_file():
        return False
    promised = {o for c in cdp.chapters() for o in c.outputs(png=cdp.settings.figure_png)}
    recorded = run.get("outputs", {})
    if not promised <= set(recorded) | {p for p in promised if (Path(folder) / p).is_file()}:
        return False
    for name, rec in recorded.items():
        path = Path(folder) / name
        try:
            modified = path.stat().st_mtime_ns
        except OSError:
            modified = None
        if modified is None or (modified >= written and rec.get("sha256") and _sha(path) != rec["sha256"]):
            log.info("%s: %s is missing or changed since the last run", cdp.slug, name)
            return False
    return all((Path(folder) / p).is_file() for p in promised)
