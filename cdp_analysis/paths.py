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
from pathlib import Path

from .errors import InputError

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
