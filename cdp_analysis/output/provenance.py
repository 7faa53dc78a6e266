"""Which data files each output table and figure was computed from.

When a chapter writes ``tables/<name>.csv`` or ``figures/<name>.png``, the distinct ``source`` citations of
the rows behind it are recorded in ``<output folder>/.provenance/<output>.json``. The runner gathers these
into ``run.json`` (:func:`collect`: each output → the raw files it read, with their register entry,
edition and SHA-256) and into the report's "Where each number comes from" section, then removes the
folder. So any number in a report is three hops from its publication: report table → ``run.json`` /
the table's ``source`` column → the data register entry (publisher, edition, link, checksum).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .. import paths
from ..data import register
from ..files import write_atomic
from . import escape

log = logging.getLogger(__name__)

FOLDER = ".provenance"


def record(output_dir, output: str, sources: Iterable[str]) -> None:
    """Note that ``output`` (a path relative to the output folder) was computed from ``sources`` (citations)."""
    cited = sorted({part for s in pd.Series(list(sources), dtype=object).dropna().astype(str)
                    for part in s.split("; ") if part})
    name = output.replace("/", "__") + ".json"
    write_atomic(Path(output_dir) / FOLDER / name, json.dumps({"output": output, "sources": cited}, indent=1) + "\n")


def collect(output_dir: Path, *, remove: bool = True) -> dict[str, dict]:
    """Gather the records of a finished run.

    Returns
    -------
    dict
        Output path → ``{"sha256": digest of the output file, "reads": {raw path: {"edition", "sha256"}},
        "unregistered": [citations not in the data register]}``, sorted by output path.
    """
    folder = Path(output_dir) / FOLDER
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        rec = json.loads(path.read_text(encoding="utf-8"))
        reads, unregistered = {}, []
        for citation in rec["sources"]:
            try:
                (entry,) = register.resolve_source(citation)
            except KeyError:
                unregistered.append(citation)
                continue
            raw = paths.raw_dir() / entry.path
            reads[entry.path] = {"edition": entry.edition,
                                 "sha256": register.checksum(raw) if raw.is_file() else None}
        target = Path(output_dir) / rec["output"]
        out[rec["output"]] = {"sha256": register.sha256_of(target) if target.is_file() else None,
                              "reads": dict(sorted(reads.items())), "unregistered": unregistered}
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
    return dict(sorted(out.items()))


def _main_of(output: str) -> str:
    """The output a file is another form of: a figure's PNG for its SVG, ``tables/x.csv`` for the
    Fingertips-headed ``fingertips/x.csv``; the file itself otherwise."""
    if output.endswith(".svg"):
        return output.removesuffix(".svg") + ".png"
    if output.startswith("fingertips/"):
        return "tables/" + output.removeprefix("fingertips/")
    return output


def _title(e) -> str:
    return f"[{e.title}]({e.url})" if e.url else e.title


def sources_markdown(outputs: dict[str, dict], area_definitions: list | None = None) -> str:
    """The report's "Where each number comes from" section: output → dataset file → publisher, edition, link.

    ``area_definitions``: register entries every table depends on without being cited by its rows (the
    lookups that define the areas, their names and boundary changes).
    """
    entries = {e.path: e for e in register.load_register()}
    lines = ["# Where each number comes from", "",
             "Each table and figure below was computed from the published files listed beside it. The "
             "files are in `data/raw/` unchanged; `run.json` gives their SHA-256 checksums, and the `source` "
             "column of every CSV table names the file and edition of each row.", ""]
    if area_definitions:
        lines += ["Every table also depends on the definitions of the areas (codes, names, types and boundary "
                  "changes): " + "; ".join(f"{_title(e)} (`{e.path}`; {e.publisher}, {e.edition}, {e.licence})"
                                         for e in area_definitions) + ".", ""]
    for output, rec in outputs.items():
        main = _main_of(output)
        if main != output and outputs.get(main, {}).get("reads") == rec["reads"]:
            continue  # listed with the output it is a copy of
        label = f"`{output}`"
        twins = [o for o in outputs if o != output and _main_of(o) == output and outputs[o]["reads"] == rec["reads"]]
        if twins:
            label += " (and " + ", ".join(f"`{t}`" for t in twins) + ")"
        lines.append(f"- **{label}** is computed from:")
        for path in rec["reads"]:
            e = entries[path]
            lines.append(f"    - {_title(e)}, {e.edition} — {e.publisher}; {e.licence}; file `{path}`")
        for citation in rec["unregistered"]:
            lines.append(f"    - {escape.markdown_text(citation)} (not in the data register)")  # an analyst's file
    return "\n".join(lines)



def editions_text(outputs: dict[str, dict]) -> str:
    """The datasets a run read with the editions used, e.g. 'ONS mid-year population estimates (MYE2): mid-2020 …'."""
    from ..data import datasets

    entries = {e.path: e for e in register.load_register()}
    used = {p for rec in outputs.values() for p in rec["reads"]}
    parts = []
    for ds in datasets().values():
        mine = sorted((p for p in used if entries[p].kind in {k.kind for k in ds.kinds}), key=lambda p: (entries[p].period, p))
        editions = [entries[p].edition for p in mine]
        if editions:
            parts.append(f"{ds.title}: {'; '.join(dict.fromkeys(editions))}")
    return " — ".join(parts) if parts else "none"
