"""The cross-area outputs of a batch: ``outputs/index.html`` and ``outputs/all_cdps.csv``.

After ``cdp run`` the output root holds one folder per CDP. This module reads every CDP folder whose last run
succeeded (its ``run.json``) and writes:

``index.html``
    one offline page linking every CDP's report, with sortable league tables of key figures (each the CDP's
    own row, latest period, from its tables; each chapter declares its own, ``Chapter.key_figures``) and a list of the CDPs whose last run did
    not succeed (``batch.json``), with the notebook and error. Sorting is done in the page by a few lines of
    script on buttons in the column headings (keyboard accessible, ``aria-sort``); without script the table
    is in CDP order.
``all_cdps.csv``
    every CDP's own rows (``area_role`` 'cdp') from every table, in the tidy schema (docs/output-schema.md),
    with two leading columns: ``cdp`` (slug) and ``table`` (the table's name). Comparator rows (England,
    regions, neighbours) are not repeated: they are the same in every CDP's tables.

Every value written into the page passes :func:`cdp_analysis.output.escape.html_text`, and the CSV files'
text cells are neutralised against formula injection as every table's are (:func:`~cdp_analysis.output.escape.csv_frame`).
Both are rebuilt from the CDP folders, so they are the same whichever CDPs this batch ran, and the same bytes
for the same folders (sorted by slug; no dates). Each CDP's own rows and key figures are kept in
``<root>/.index/<slug>.csv`` (in ``all_cdps.csv`` column order) and ``.json``, made again only when the CDP's ``run.json`` changes (a batch worker makes them right after the CDP's run), so rebuilding
the index after a batch reads the CDPs that ran only, and joins ``all_cdps.csv`` from their lines.
"""

from __future__ import annotations

import io
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from ..files import write_atomic
from . import escape, table_html, tidy

log = logging.getLogger(__name__)

INDEX, COMBINED = "index.html", "all_cdps.csv"


@dataclass(frozen=True)
class KeyFigure:
    """One column of the league table: the CDP's latest row of ``table`` matching ``where``. Each chapter
    declares its own (:attr:`cdp_analysis.chapters.Chapter.key_figures`); the caller passes them all."""

    label: str
    table: str
    where: dict
    digits: int = 1
    note: str = ""


def _cdp_folders(root: Path) -> list[tuple[Path, dict]]:
    """Every CDP folder under ``root`` whose last run succeeded, with its manifest, sorted by slug."""
    found = []
    for manifest in sorted(root.glob("*/run.json")):
        folder = manifest.parent
        if folder.name.startswith("."):
            continue
        try:
            run = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.warning("%s: unreadable run.json; left out of the index", folder.name)
            continue
        if run.get("status") == "succeeded":
            found.append((folder, run))
    return found


def _own_rows(folder: Path, role: str = "cdp") -> pd.DataFrame:
    """The rows of one area role ('cdp': the CDP's own; 'england': England's, the same in every CDP's tables)
    from every table of a CDP folder, with ``cdp`` and ``table``."""
    frames = []
    for path in sorted((folder / "tables").glob("*.csv")):
        table = pd.read_csv(path, dtype={"area_code": str, "time_period": str}, keep_default_na=True)
        if "area_role" not in table.columns:
            continue
        own = table[table["area_role"] == role]
        if len(own):
            frames.append(own.assign(cdp=folder.name, table=path.stem))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["cdp", "table"])


#: Each CDP's own rows and key figures, kept per CDP under ``<root>/.index/`` and made again when its
#: ``run.json`` changes, so the index of 150 CDPs is rebuilt from the CDPs that ran, not from every table.
CACHE = ".index"

#: The layout of the kept files; a cache of another layout is made again.
ENTRY_FORMAT = 2


def _writer() -> str:
    """What decides the text of the kept lines besides the rows: pandas and NumPy (how a value is read back and
    written), the CSV rule's formula characters and the schema's columns. Kept lines written under others are made
    again, so ``all_cdps.csv`` never joins lines of two writers."""
    import hashlib

    import numpy as np

    return hashlib.sha256(repr((pd.__version__, np.__version__, escape.CSV_TRIGGERS, tidy.SCHEMA)).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One CDP's part of the index, kept under ``<root>/.index/``.

    ``figures``: label → (value, lower, upper, period, comparison). ``columns``: (name, dtype, whether every cell
    is missing) of each column of its rows, in ``all_cdps.csv`` order. ``rows_file``: those rows as CSV in that
    order (written by the batch worker right after the CDP's run, or by :func:`write` if it is missing or stale),
    so ``all_cdps.csv`` is joined from their lines rather than written again (:func:`_write_combined`).
    """

    slug: str
    figures: dict
    columns: tuple
    n_rows: int
    rows_file: Path

    def rows(self) -> pd.DataFrame:
        """The CDP's own rows, as read back from its kept CSV."""
        return _read_rows(self.rows_file)


def _spec_digest(figures) -> str:
    import hashlib

    return hashlib.sha256(repr([(f.label, f.table, sorted(f.where.items())) for f in figures]).encode()).hexdigest()


def _read_rows(source) -> pd.DataFrame:
    return pd.read_csv(source, dtype={"area_code": str, "time_period": str, "cdp": str, "table": str})


def cdp_entry(folder: Path, figures) -> Entry:
    """One CDP folder's part of the index: its key figures, and its own rows as read back from their CSV (so they
    are the same whether or not the cache was just made), kept in ``all_cdps.csv`` column order."""
    from ..data import register

    folder = Path(folder)
    cache = folder.parent / CACHE
    rows_file, figures_file = cache / f"{folder.name}.csv", cache / f"{folder.name}.json"
    stamp = {"format": ENTRY_FORMAT, "writer_sha256": _writer(), "run_json_sha256": register.checksum(folder / "run.json"),
             "figures_sha256": _spec_digest(figures)}
    try:
        cached = json.loads(figures_file.read_text(encoding="utf-8"))
        fresh = all(cached.get(k) == v for k, v in stamp.items()) and rows_file.is_file()
    except (OSError, ValueError):
        fresh = False
    if not fresh:
        own = _own_rows(folder)
        rows = _ordered(_read_rows(io.StringIO(_csv(own))))
        # written and read again, a frame read back from CSV is the same frame: Entry.rows() gives ``rows``
        write_atomic(rows_file, _csv(rows))
        cached = {**stamp, "figures": _figures_of(own, figures), "rows": len(rows), "columns": _columns(rows)}
        write_atomic(figures_file, json.dumps(cached, indent=1, allow_nan=False, default=str) + "\n")
    return Entry(folder.name, {k: tuple(v) for k, v in cached["figures"].items()},
                 tuple(tuple(c) for c in cached["columns"]), cached["rows"], rows_file)


def _csv(table: pd.DataFrame) -> str:
    """CSV text of rows read from the CDPs' tables, text cells neutralised as in every table
    (:func:`cdp_analysis.output.escape.csv_frame`)."""
    return escape.csv_frame(table).to_csv(index=False, lineterminator="\n")


def _plain(value):
    """A JSON-safe scalar: None for a missing value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def _figures_of(own: pd.DataFrame, figures, periods: dict | None = None) -> dict:
    """The key figures of one CDP from its own rows: label → [value, lower, upper, period, comparison]; the
    latest period, or the one ``periods`` names for a label."""
    out = {}
    for fig in figures:
        hit = own[own["table"] == fig.table] if "table" in own.columns else own.iloc[0:0]
        if periods and fig.label in periods and "time_period" in hit.columns:
            hit = hit[hit["time_period"] == periods[fig.label]]
        for col, val in fig.where.items():
            hit = hit[hit[col] == val] if col in hit.columns else hit.iloc[0:0]
        if "sex" in hit.columns and (hit["sex"] == "Persons").any():
            hit = hit[hit["sex"] == "Persons"]
        hit = hit[hit["value"].notna()] if "value" in hit.columns else hit  # an unpublished figure is not shown
        if len(hit):
            latest = hit.sort_values("time_period_sortable", kind="stable").iloc[-1]
            out[fig.label] = [_plain(latest["value"]), _plain(latest.get("lower_ci")), _plain(latest.get("upper_ci")),
                              _plain(latest["time_period"]), _plain(latest.get("compared_to_england"))]
    return out


def combined(root: Path) -> pd.DataFrame:
    """Every succeeded CDP's own rows from every table (see the module docstring)."""
    return _combine([cdp_entry(folder, ()).rows() for folder, _ in _cdp_folders(Path(root))])


def _ordered(rows: pd.DataFrame) -> pd.DataFrame:
    """``rows`` in ``all_cdps.csv`` column order: ``cdp``, ``table``, the schema's, then the others by name."""
    core = [c for c in tidy.SCHEMA if c in rows.columns]
    extra = sorted(c for c in rows.columns if c not in core and c not in ("cdp", "table"))
    return rows[["cdp", "table", *core, *extra]]


def _combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=["cdp", "table", *tidy.SCHEMA])
    return _ordered(pd.concat(frames, ignore_index=True))


def _heading_and_lines(text: str) -> tuple[str, str]:
    """CSV text as its heading line (with its newline) and the lines after it."""
    heading, _, lines = text.partition("\n")
    return heading + "\n", lines


def _columns(rows: pd.DataFrame) -> list[list]:
    """(name, dtype, whether every cell is missing) of each column of ``rows``."""
    return [[c, str(t), bool(rows[c].isna().all())] for c, t in rows.dtypes.items()]


def _write_combined(path: Path, entries: list[Entry]) -> None:
    """Write ``all_cdps.csv``: the bytes ``_csv(_combine(every CDP's rows))`` would give, joined from the lines each
    CDP's worker kept.

    A CSV cell's text depends only on its value and its column's dtype. The combined columns and dtypes are found
    from each CDP's kept (name, dtype) pairs, as ``pandas.concat`` finds them for the rows themselves. A CDP's kept
    lines are used when it has every column and each of its columns is written the same under the combined dtype:
    the same dtype, every cell missing, or a text or mixed column (whose cells are written by Python's ``str``:
    text as itself, whole numbers and booleans as in their own columns, floats as NumPy writes a float column, the
    shortest text that reads back as the same number). Otherwise its rows are read and written again under the
    combined dtypes (a CDP whose counts are all whole numbers, say, where another's are not: 12 becomes 12.0).
    """
    entries = [e for e in entries if e.n_rows]
    if not entries:
        write_atomic(path, _csv(_combine([])))
        return
    # each distinct set of columns once (a batch's 152 CDPs have about 20): concat's types depend on which
    # (name, dtype) sets take part, not on how often each does, and _ordered fixes the columns' order
    layouts = dict.fromkeys(tuple((c, t) for c, t, _ in e.columns) for e in entries)
    layout = _ordered(pd.concat([pd.DataFrame({c: pd.Series(dtype=t) for c, t in cols}) for cols in layouts],
                                ignore_index=True))
    dtypes = {c: str(t) for c, t in layout.dtypes.items()}
    heading = _csv(layout)
    parts, again = [heading], 0
    for e in entries:
        kept = None
        if [c for c, _, _ in e.columns] == list(dtypes) and all(
                t == dtypes[c] or blank or dtypes[c] in ("str", "object") for c, t, blank in e.columns):
            # bytes decoded, not read as text: a quoted cell's carriage return stays as it was written
            kept_heading, kept = _heading_and_lines(e.rows_file.read_bytes().decode("utf-8"))
            if kept_heading != heading:  # the file is not the one its columns describe (made again since)
                kept = None
        if kept is None:
            again += 1
            kept = _heading_and_lines(_csv(e.rows().reindex(columns=list(dtypes)).astype(dtypes)))[1]
        parts.append(kept)
    write_atomic(path, "".join(parts))
    log.debug("%s: %d CDP(s) written again under the combined column types", path.name, again)


def write(root: Path, figures) -> Path | None:
    """Write ``index.html`` (league-table columns: ``figures``, each a :class:`KeyFigure`) and ``all_cdps.csv``
    into ``root``; None (nothing written) if no CDP succeeded yet."""
    root = Path(root)
    folders = _cdp_folders(root)
    if not folders:
        return None
    entries = {folder.name: cdp_entry(folder, figures) for folder, _ in folders}
    _write_combined(root / COMBINED, list(entries.values()))
    runs = {folder.name: run for folder, run in folders}
    # a column only where some CDP has the figure
    figures = tuple(f for f in figures if any(f.label in e.figures for e in entries.values()))
    # England's figure of the period most CDPs show in each column (like with like), not simply its latest
    shown = {f.label: pd.Series([e.figures[f.label][3] for e in entries.values() if f.label in e.figures]).mode()
             for f in figures}
    periods = {label: sorted(m)[-1] for label, m in shown.items() if len(m)}
    england = {k: tuple(v) for k, v in _figures_of(_own_rows(folders[0][0], role="england"), figures, periods).items()}
    table = pd.DataFrame([{"cdp": slug, "area_name": runs[slug].get("cdp", {}).get("name", slug), **e.figures}
                          for slug, e in entries.items()],
                         columns=["cdp", "area_name", *(f.label for f in figures)])
    write_atomic(root / INDEX, _page(table, figures, runs, _not_done(root), england))
    log.info("index of %d CDP(s) written to %s", len(runs), root / INDEX)
    return root / INDEX


def _not_done(root: Path) -> list[dict]:
    path = root / "batch.json"
    if not path.is_file():
        return []
    try:
        cdps = json.loads(path.read_text(encoding="utf-8")).get("cdps", {})
    except (OSError, ValueError):
        return []
    return [dict(v, slug=k) for k, v in sorted(cdps.items()) if v.get("status") not in ("succeeded", "up to date")]


def _cell(value, digits: int) -> str:
    if not isinstance(value, tuple) or value[0] is None:
        return '<td data-sort=""><span class="na">not available</span></td>'
    v, lo, hi, period, compared = value
    text = table_html.with_limits(v, lo, hi, digits)
    extra = f"{escape.html_text(str(period))}" + (f"; {escape.html_text(str(compared))} than England"
                                             if isinstance(compared, str) and compared in ("Better", "Worse",
                                                                                           "Higher", "Lower")
                                             else (f"; {escape.html_text(str(compared))} to England"
                                                   if compared == "Similar" else ""))
    if not math.isfinite(float(v)):
        return '<td data-sort=""><span class="na">not available</span></td>'
    return f'<td data-sort="{float(v)!r}">{escape.html_text(text)}<br><small>{extra}</small></td>'


def _page(figures: pd.DataFrame, specs, runs: dict, not_done: list[dict], england: dict | None = None) -> str:
    heads = "".join(f'<th scope="col"><button type="button">{escape.html_text(f.label)}</button>'
                    + (f'<br><small>{escape.html_text(f.note)}</small>' if f.note else "") + "</th>"
                    for f in specs)
    body = []
    for _, rec in figures.iterrows():
        run = runs.get(rec["cdp"], {})
        members = ", ".join(run.get("cdp", {}).get("member_names", []))
        name = escape.html_text(str(run.get("cdp", {}).get("name", rec["area_name"])))
        cells = "".join(_cell(rec.get(f.label), f.digits) for f in specs)
        body.append(f'<tr><th scope="row" data-sort="{name}">'
                    f'<a href="{escape.html_text(quote(str(rec["cdp"])))}/report.html">{name}</a>'
                    f' (<a href="{escape.html_text(quote(str(rec["cdp"])))}/summary.html">summary</a>)'
                    f'<br><small>{escape.html_text(members)}</small></th>{cells}</tr>')
    cells = "".join(_cell(england.get(f.label), f.digits) if f.label in (england or {})
                    else '<td data-sort=""><span class="na">reference</span></td>' if "England = 1" in f.note
                    else '<td data-sort=""><span class="na">not available</span></td>' for f in specs)
    reference = f'<tr class="england"><th scope="row">England</th>{cells}</tr>'
    failed = ""
    if not_done:
        items = "".join(f"<li><strong>{escape.html_text(d['slug'])}</strong>: {escape.html_text(str(d.get('status')))}"
                        + (f" in {escape.html_text(str(d['notebook']))}" if d.get("notebook") else "")
                        + (f": {escape.html_text(str(d.get('error') or '').splitlines()[0] if d.get('error') else '')}")
                        + "</li>" for d in not_done)
        failed = (f"<h2>Not done ({len(not_done)})</h2><p>The last run of these CDPs did not succeed; "
                  "<code>cdp run --only-failed</code> runs them again. An earlier successful report, if any, is "
                  f"still listed above.</p><ul>{items}</ul>")
    return _TEMPLATE.format(n=len(figures), heads=heads, body="\n".join(body), failed=failed,
                            combined=COMBINED, england=reference)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Substance misuse needs assessments: every CDP</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 1.5rem; color: #0b0c0c; line-height: 1.4; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }}
caption {{ text-align: left; font-weight: bold; padding: 0.5rem 0; }}
th, td {{ border-bottom: 1px solid #b1b4b6; padding: 0.35rem 0.6rem; vertical-align: top; text-align: left; }}
td {{ text-align: right; font-variant-numeric: tabular-nums; }}
thead th {{ position: sticky; top: 0; background: #f3f2f1; }}
th button {{ font: inherit; font-weight: bold; background: none; border: 0; padding: 0; cursor: pointer;
  text-align: left; color: #1d70b8; text-decoration: underline; }}
th button:focus {{ outline: 3px solid #ffdd00; }}
th[aria-sort="ascending"] button::after {{ content: " \\2191"; }}
th[aria-sort="descending"] button::after {{ content: " \\2193"; }}
small {{ color: #505a5f; }}
.na {{ color: #505a5f; font-style: italic; }}
a {{ color: #1d70b8; }}
.visually-hidden {{ position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }}
tr.england th, tr.england td {{ background: #f3f2f1; font-weight: bold; border-bottom: 2px solid #0b0c0c; }}
@page {{ size: A4; margin: 12mm; }}
@media print {{
  body {{ margin: 0; font-size: 9pt; }} thead th {{ position: static; }}
  th button {{ color: #0b0c0c; text-decoration: none; }} tr {{ break-inside: avoid; }}
}}
</style>
</head>
<body>
<h1>Substance misuse needs assessments: every CDP</h1>
<p>{n} Combating Drugs Partnership(s) with a report. Each name links to the CDP's report and its one-page
summary; England's figures are in the first row. Figures are the
CDP's own, for the latest period published for it (the period is under each figure, and can differ between
CDPs), with 95% confidence limits in brackets where the method gives them; "not available" means the published
data in the bundle do not cover that CDP. Choose a column heading to sort by it (again to reverse). Every CDP's
own rows from every table are in <a href="{combined}">{combined}</a>.</p>
<p id="sort-status" aria-live="polite" class="visually-hidden"></p>
<table id="league">
<caption>Key figures by CDP, latest period for each (sortable)</caption>
<thead><tr><th scope="col" aria-sort="ascending"><button type="button">CDP</button></th>{heads}</tr></thead>
<tbody class="reference">
{england}
</tbody>
<tbody class="sortable">
{body}
</tbody>
</table>
{failed}
<script>
document.querySelectorAll("#league thead th button").forEach(function (button, col) {{
  button.addEventListener("click", function () {{
    var th = button.parentElement, tbody = document.querySelector("#league tbody.sortable");
    var up = th.getAttribute("aria-sort") !== "ascending";
    document.querySelectorAll("#league thead th").forEach(function (h) {{ h.removeAttribute("aria-sort"); }});
    th.setAttribute("aria-sort", up ? "ascending" : "descending");
    document.getElementById("sort-status").textContent =
      "Sorted by " + button.textContent + ", " + (up ? "ascending" : "descending") + ".";
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {{
      var x = a.cells[col].getAttribute("data-sort"), y = b.cells[col].getAttribute("data-sort");
      if (x === "" || y === "") {{ return (x === "") - (y === ""); }}
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (isNaN(nx) || isNaN(ny)) ? x.localeCompare(y) : nx - ny;
      return up ? c : -c;
    }});
    rows.forEach(function (r) {{ tbody.appendChild(r); }});
  }});
}});
</script>
</body>
</html>
"""
