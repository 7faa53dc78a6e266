"""Which data files each output table and figure was computed from, and which inputs chose its rows.

When a chapter writes ``tables/<name>.csv`` or ``figures/<name>.svg``, the distinct ``source`` citations of
the rows behind it are recorded in ``<output folder>/.provenance/<output>.json``, with the comparator areas
among its rows (``area_role`` 'neighbour') and the inputs the chapter says decided which rows appear
(``decided_by``: the outcomes catalogue, the partnership's own files; :func:`file_input`). The runner gathers
these into ``run.json`` (:func:`collect`: each output → the raw files it read, with their register entry,
edition and SHA-256, and ``decided_by``: those inputs with their checksums, and the comparator set behind its
neighbour rows with its codes and source) and into the report's "Where each number comes from" section, then
removes the folder. So any number in a report is three hops from its publication: report table → ``run.json`` /
the table's ``source`` column (and ``source_cell``) → the data register entry (publisher, edition, link,
checksum).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from .. import paths
from ..data import register
from ..files import write_atomic
from . import escape

log = logging.getLogger(__name__)

FOLDER = ".provenance"


#: ``decided_by`` entry of the comparator set (:func:`collect`): what it decides.
NEIGHBOUR_ROWS = "the comparator areas (rows with area_role 'neighbour')"


def record(output_dir, output: str, sources: Iterable[str], *, decided_by: Sequence[dict] = (),
           neighbours: Iterable[str] = (), disclosure: dict | None = None) -> None:
    """Note that ``output`` (a path relative to the output folder) was computed from ``sources`` (citations).

    ``decided_by``: entries (:func:`file_input`) of the inputs that decided which rows appear, besides the files
    the values were read from; ``neighbours``: the codes of the comparator areas among its rows (the runner
    names the comparator set behind them, :func:`collect`); ``disclosure``: the disclosure audit's summary of
    the table's local counts (:func:`cdp_analysis.stats.disclosure.audit`), recorded as the output's
    ``disclosure`` in ``run.json``."""
    # each distinct citation split once (a table repeats a few citations over thousands of rows)
    column = sources if isinstance(sources, pd.Series) else pd.Series(list(sources), dtype=object)
    cited = sorted({part for s in column.dropna().astype(str).unique().tolist() for part in s.split("; ") if part})
    name = output.replace("/", "__") + ".json"
    rec = {"output": output, "sources": cited, "decided_by": list(decided_by),
           "neighbours": sorted({str(c) for c in neighbours})}
    if disclosure is not None:
        rec["disclosure"] = disclosure
    write_atomic(Path(output_dir) / FOLDER / name, json.dumps(rec, indent=1) + "\n")


def neighbour_codes(table: pd.DataFrame | None) -> list[str]:
    """The area codes of a tidy table's comparator rows (``area_role`` 'neighbour'), sorted."""
    if table is None or "area_role" not in table.columns or "area_code" not in table.columns:
        return []
    return sorted(table.loc[table["area_role"] == "neighbour", "area_code"].dropna().astype(str).unique())


def display_path(path: Path) -> str:
    """A file's path as ``run.json`` names it: a file of the data register by its path in ``data/raw`` (as in
    ``reads``), any other by its path from the project folder, or absolute if outside it."""
    path = Path(path).resolve()
    if register.entry_of(path) is not None:
        return register.entry_of(path).path
    root = paths.project_root().resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def file_input(path: Path, input: str, decides: str, **extra) -> dict:
    """A ``decided_by`` entry for a file read by a chapter (the outcomes catalogue, a file the partnership
    supplies): ``{"input", "decides", "path" (:func:`display_path`), "sha256", **extra}``, the checksum taken
    now, as the chapter reads the file."""
    path = Path(path)
    return {"input": input, "decides": decides, "path": display_path(path),
            "sha256": register.checksum(path) if path.is_file() else None, **extra}


def settings_files(settings, *keys: str, decides: str) -> list[dict]:
    """``decided_by`` entries (:func:`file_input`, ``input`` 'local file') of the files a chapter's settings name
    under ``keys`` (e.g. the partnership's NDTMS ViewIt exports), each with the ``setting`` that names it."""
    section = getattr(settings, "SECTION", "")
    return [file_input(path, "local file", decides, setting=f"{section}.{key}" if section else key)
            for key in keys for path in settings.files(key, where="parameter")]


def _decided_by(rec: dict, comparator_set: dict | None) -> list[dict]:
    """The ``decided_by`` list of one output: the comparator set behind its neighbour rows (checked to hold them),
    then the inputs the chapter named, each once."""
    out = []
    seen = rec.get("neighbours", [])
    if seen:
        entry = dict(comparator_set or {"input": "comparator set", "decides": NEIGHBOUR_ROWS, "name": "",
                                        "codes": [], "source": "not known outside a run"})
        missing = sorted(set(seen) - set(entry.get("codes", [])))
        if missing:  # a row of an area that is not in the set: say so rather than hide it
            log.warning("%s has neighbour rows of %s, not in the comparator set", rec["output"], ", ".join(missing))
            entry["codes_not_in_set"] = missing
        out.append(entry)
    keys = set()
    for entry in rec.get("decided_by", []):
        key = (entry.get("input"), entry.get("path"), entry.get("name"))
        if key not in keys:
            keys.add(key)
            out.append(entry)
    return out


def collect(output_dir: Path, *, remove: bool = True, comparator_set: dict | None = None) -> dict[str, dict]:
    """Gather the records of a finished run.

    ``comparator_set``: the run's comparator set (:func:`cdp_analysis.areas.comparators.described`), named in the
    ``decided_by`` of every output with neighbour rows.

    Returns
    -------
    dict
        Output path → ``{"sha256": digest of the output file, "reads": {raw path: {"edition", "sha256"}},
        "unregistered": [citations not in the data register], "decided_by": [inputs that decided which rows
        appear]}`` and, for a table of local counts, ``"disclosure"``: the disclosure policy and its audit (cells,
        suppressed, narrowest and widest deducible interval); sorted by output path.
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
            raw = register.file_path(entry.path)
            reads[entry.path] = {"edition": entry.edition,
                                 "sha256": register.checksum(raw) if raw.is_file() else None}
        target = Path(output_dir) / rec["output"]
        out[rec["output"]] = {"sha256": register.sha256_of(target) if target.is_file() else None,
                              "reads": dict(sorted(reads.items())), "unregistered": unregistered,
                              "decided_by": _decided_by(rec, comparator_set)}
        if "disclosure" in rec:
            out[rec["output"]]["disclosure"] = rec["disclosure"]
    if remove:
        shutil.rmtree(folder, ignore_errors=True)
    return dict(sorted(out.items()))


def _title(e) -> str:
    return f"[{e.title}]({e.url})" if e.url else e.title


def sources_markdown(outputs: dict[str, dict], area_definitions: list | None = None) -> str:
    """The report's "Where each number comes from" section: every file the run read, listed once with its short
    reference (``D3``, :func:`cdp_analysis.data.register.references`), title, edition, publisher, licence and
    link; the partnership's own files; and the files behind each figure (tables name theirs under them).

    ``area_definitions``: register entries every table depends on without being cited by its rows (the
    lookups that define the areas, their names and boundary changes).
    """
    refs = register.references()
    defining = {e.path for e in area_definitions or []}
    used = {p for rec in outputs.values() for p in rec["reads"]} | defining
    lines = ["# Where each number comes from", "",
             "Tables and chapters cite their sources by short reference (D1, D2, …): the files of the data "
             "register, each listed here once. The files are in `data/raw/` unchanged; `run.json` gives their "
             "SHA-256 checksums, and the `source` column of every CSV table names the file and edition of each "
             "row.", ""]
    for e in register.load_register():
        if e.path in used:
            role = " Defines the areas (codes, names, types, boundary changes) of every table." \
                if e.path in defining else ""
            lines.append(f'- <span id="source-{refs[e.path]}"></span>**{refs[e.path]}** {_title(e)}, {e.edition} — '
                         f"{e.publisher}; {e.licence}; file `{e.path}`.{role}")
    local = sorted({c for rec in outputs.values() for c in rec["unregistered"]})
    if local:
        lines += ["", "Local data supplied for this run (not in the data register, not published): "
                  + "; ".join(escape.markdown_text(c) for c in local) + "."]
    figures = [(o, rec) for o, rec in outputs.items() if o.startswith("figures/") and o.endswith(".svg")]
    if figures:
        lines += ["", "The files behind each figure (each figure's table, in `tables/`, has the same sources):", ""]
        for output, rec in figures:
            cited = [refs[p] for p in rec["reads"]]
            names = ([register.reference_list(cited)] if cited else []) + \
                [escape.markdown_text(c) for c in rec["unregistered"]]
            png = output.removesuffix(".svg") + ".png"
            label = f"`{output}`" + (f" (and `{png}`)" if png in outputs else "")
            lines.append(f"- {label}: {'; '.join(names) or 'no data file'}")
    return "\n".join(lines)


def data_editions(outputs: dict[str, dict]) -> dict[str, list[dict]]:
    """The edition of each dataset a run read, and where it came from, by dataset title: each file's register
    path, edition and period, ``origin`` ('bundle': the copy in ``data/raw``; 'download': accepted by
    ``cdp update`` into ``data/user``, with its page, address and time). For ``run.json`` and the front matter."""
    from ..data import datasets

    entries = {e.path: e for e in register.load_register()}
    used = {p for rec in outputs.values() for p in rec["reads"]}
    out = {}
    for ds in datasets().values():
        kinds = {k.kind for k in ds.kinds}
        mine = sorted((p for p in used if entries[p].kind in kinds), key=lambda p: (entries[p].period, p))
        if mine:
            out[ds.title] = [{"path": p, "edition": entries[p].edition, "period": entries[p].period,
                              **({"origin": "download", "page": entries[p].url, "download_url": entries[p].download_url,
                                  "downloaded_at": entries[p].downloaded_at} if p.startswith(register.USER)
                                 else {"origin": "bundle"})} for p in mine]
    return out


def editions_text(outputs: dict[str, dict]) -> str:
    """The datasets a run read with the editions used, e.g. 'ONS mid-year population estimates (MYE2): mid-2020 …';
    an edition ``cdp update`` downloaded says so, with the publisher's site."""
    from urllib.parse import urlsplit

    parts = []
    for title, files in data_editions(outputs).items():
        editions = dict.fromkeys(f["edition"] + (f" — downloaded from {urlsplit(f['page']).netloc} by cdp update"
                                                 if f["origin"] == "download" and f.get("page") else "")
                                 for f in files)
        parts.append(f"{title}: {'; '.join(editions)}")
    return " — ".join(parts) if parts else "none"
