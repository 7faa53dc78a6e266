"""Where the project's folders are, whatever the working directory.

Notebooks opened in JupyterLab run with the notebook's folder as working directory, papermill runs
with whatever the caller had; so every path is resolved from the project root, found as follows:

1. the environment variable ``CDP_ANALYSIS_ROOT`` if set;
2. otherwise the folder above this package if it holds ``data/register.yaml`` (an editable install
   or a checkout);
3. otherwise the current directory or its nearest parent holding ``data/register.yaml``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import InputError, shorten

_MARKER = Path("data") / "register.yaml"


def project_root() -> Path:
    """The project root folder (the one holding ``data/``, ``params/``, ``notebooks/``)."""
    env = os.environ.get("CDP_ANALYSIS_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / _MARKER).is_file():
            raise InputError(f"CDP_ANALYSIS_ROOT points to {root}, which has no {_MARKER}",
                             hint="set it to the cdp-analysis checkout, or unset it")
        return root
    here = Path(__file__).resolve().parent.parent
    if (here / _MARKER).is_file():
        return here
    for folder in [Path.cwd(), *Path.cwd().parents]:
        if (folder / _MARKER).is_file():
            return folder
    raise InputError("cannot find the cdp-analysis project folder (no data/register.yaml here or above)",
                     hint="run from inside the checkout or set CDP_ANALYSIS_ROOT")


def raw_dir() -> Path:
    """``data/raw``: published files, unchanged."""
    return project_root() / "data" / "raw"


def cache_dir() -> Path:
    """``data/cache``: parsed tidy tables keyed by raw-file checksum (git-ignored, safe to delete)."""
    return Path(os.environ.get("CDP_ANALYSIS_CACHE", project_root() / "data" / "cache"))


def params_dir() -> Path:
    """``params``: YAML parameters (defaults and one file per named CDP)."""
    return project_root() / "params"


def notebooks_dir() -> Path:
    """``notebooks``: the chapter notebooks, committed without outputs."""
    return project_root() / "notebooks"


def outputs_dir() -> Path:
    """``outputs``: one folder per CDP (git-ignored)."""
    return Path(os.environ.get("CDP_ANALYSIS_OUTPUTS", project_root() / "outputs"))


# --------------------------------------------------------------------------------------------------
# A CDP's output folder: its name (the slug) and the rule that nothing is touched outside the output root

#: A slug: lower-case letters and digits in words joined by single hyphens, e.g. 'north-east-lincolnshire'.
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: The longest slug (a temporary folder ``.<slug>.partial-<pid>-<random>`` must stay within a file name's limit).
SLUG_MAX = 80
#: Names an output root uses itself (docs/batch.md), or that the Makefile writes beside the CDP folders; a CDP
#: cannot be called any of them. Names with a dot or underscore are refused by :data:`SLUG` anyway.
RESERVED = frozenset({"index", "batch", "all-cdps", "browser-check", "failed", "tmp", "cache",
                      "index.html", "batch.json", "all_cdps.csv", ".index", ".failed"})


def slug_of(text: str) -> str:
    """The slug spelling of ``text``: lower case, every run of other characters a single hyphen.

    >>> slug_of("North_Northants 2024")
    'north-northants-2024'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_MAX].strip("-")


def check_slug(slug: str, *, file: str | Path | None = None, where: str | None = None) -> str:
    """``slug`` if it can name a CDP's output folder, else an :class:`InputError` saying what to rename.

    A slug matches :data:`SLUG` (so it has no '/', '.', '..' or other path syntax), is at most
    :data:`SLUG_MAX` characters long and is not one of the :data:`RESERVED` names of an output root.
    """
    problem = None
    if not isinstance(slug, str) or not SLUG.fullmatch(slug):
        problem = (f"'{shorten(slug)}' cannot name a CDP's output folder: use lower-case letters, digits and single "
                   "hyphens only")
    elif len(slug) > SLUG_MAX:
        problem = f"a CDP's name for its output folder is {len(slug)} characters long (at most {SLUG_MAX})"
    elif slug in RESERVED:
        problem = f"'{slug}' is a name the output folder uses itself (for the index and batch records)"
    if problem is None:
        return slug
    suggestion = slug_of(str(slug)) if isinstance(slug, str) else ""
    if suggestion in RESERVED or not suggestion:
        suggestion = f"{suggestion}-cdp".strip("-") if suggestion else "my-cdp"
    hint = (f"rename the params file to {suggestion}.yaml (the file name, without .yaml, names the output folder "
            "outputs/<name>/)" if file is not None else f"use a name such as '{suggestion}'")
    raise InputError(problem, file=file, where=where, hint=hint)


def inside(root: str | Path, path: str | Path) -> Path:
    """``path`` if it lies strictly inside the folder ``root``, else :class:`~cdp_analysis.errors.CannotRunError`.

    The root and the path's parent folder are resolved (symbolic links followed, '..' removed) and then
    compared; the last component itself is not followed, so a symbolic link inside the root counts as inside
    (removing or replacing it touches the link, never what it points to). Every path the runner creates,
    renames or removes passes this check first, so no CDP name or file name can reach outside the output root.
    """
    from .errors import CannotRunError

    root = Path(root).resolve()
    path = Path(path)
    where = path.parent.resolve() / path.name
    if path.name in ("", ".", "..") or where == root or not where.is_relative_to(root):
        raise CannotRunError(f"refused to touch {path}: it is not inside the output folder {root}",
                             hint="this is a bug in cdp-analysis or a tampered output folder: please report it")
    return where
