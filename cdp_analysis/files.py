"""The one way the suite writes a file: to a temporary sibling, then renamed into place.

A reader (another run, a browser, the parse cache) never sees a half-written file, and an error
part-way leaves the previous file as it was. Files are made readable by everyone (mode 0644) and new
folders searchable (0755) whatever the umask, so a second analyst sharing the project can read caches and
outputs.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes | str) -> Path:
    """Write ``data`` (bytes, or text written as UTF-8 with LF line endings) to ``path`` atomically.

    Parameters
    ----------
    path : path-like
        The target file; its folder is created if missing.
    data : bytes or str
        The whole content.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    if not path.parent.is_dir():
        missing = [d for d in (path.parent, *path.parent.parents) if not d.exists()]
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in missing:  # readable and searchable by others whatever the umask, like the files
            os.chmod(folder, 0o755)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def remove_inside(root: str | os.PathLike, path: str | os.PathLike) -> None:
    """Remove ``path`` (a folder with its contents, a file, or a symbolic link: the link only), which must lie
    inside ``root`` (:func:`cdp_analysis.paths.inside`); nothing if it does not exist.

    Raises
    ------
    CannotRunError
        If ``path`` is not inside ``root``: nothing is removed.
    OSError
        If the system refuses the removal.
    """
    from .paths import inside

    path = inside(root, path)
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.is_dir():
        shutil.rmtree(path)


def replace_inside(root: str | os.PathLike, source: str | os.PathLike, target: str | os.PathLike) -> None:
    """``os.replace(source, target)`` after checking that both lie inside ``root``."""
    from .paths import inside

    os.replace(inside(root, source), inside(root, target))
