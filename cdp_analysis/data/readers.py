"""Read published spreadsheets and CSVs as they come, and fail clearly when they are not as expected.

Publishers put a few title and notes rows above the header, and move it between editions. So a table
is located by its header: the first row, within the first ``search_rows``, whose cells contain every
required column name. Workbooks are read as Excel 2007+ (``.xlsx``, through openpyxl) or, for older
editions, as Excel 97–2003 (``.xls``, through xlrd); both give the same rows. Anything else wrong — a
missing file, a truncated or corrupt workbook, a missing sheet, a missing column, a non-numeric or negative
count — raises :class:`~cdp_analysis.errors.InputError` naming the file, the sheet, the row (as numbered
in Excel or a text editor) and the column.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import InputError, closest, did_you_mean
from ..memo import memoised
from .plausibility import shorten

log = logging.getLogger(__name__)

_COPY_HINT = "copy the file again, unchanged, from ../shared/data/ (see data/README.md)"


def _require_file(path: Path) -> None:
    if not path.is_file():
        raise InputError("file not found", file=path, hint=_COPY_HINT)


def open_workbook(path: Path):
    """Open a published workbook read-only (values, not formulas); a truncated or damaged file is one clear error."""
    import openpyxl

    _require_file(path)
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise InputError(f"cannot be opened as an Excel workbook; it looks truncated or corrupt ({type(exc).__name__})",
                         file=path, hint=_COPY_HINT) from None
    except Exception as exc:  # openpyxl raises a variety of parser errors on damaged XML
        raise InputError(f"cannot be read as an Excel workbook ({type(exc).__name__}: {exc})",
                         file=path, hint=_COPY_HINT) from None


def is_xls(path: Path) -> bool:
    """The file is an old Excel 97–2003 workbook (``.xls``), read through xlrd rather than openpyxl."""
    return Path(path).suffix.lower() == ".xls"


def open_xls(path: Path):
    """Open an old Excel (``.xls``) workbook through xlrd, its sheets loaded when asked for; a truncated,
    damaged or mis-named file is one clear error."""
    import xlrd

    _require_file(path)
    try:
        return xlrd.open_workbook(path, on_demand=True, logfile=io.StringIO())
    except Exception as exc:  # xlrd raises XLRDError, struct.error, IndexError, KeyError … on a damaged file
        raise InputError("cannot be opened as an old Excel (.xls) workbook; it looks truncated or corrupt "
                         f"({type(exc).__name__})", file=path, hint=_COPY_HINT) from None


def _xls_value(kind: int, value):
    """A cell of an ``.xls`` sheet as openpyxl would give it: None when empty, the error text (``#N/A``) of an
    error cell, True/False for a boolean, otherwise the number or text."""
    import xlrd

    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK) or (kind == xlrd.XL_CELL_TEXT and value == ""):
        return None
    if kind == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(value, "#ERROR")
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(value)
    return value


def _xls_rows(book, sheet: str, path: Path) -> list[tuple]:
    try:
        ws = book.sheet_by_name(sheet)
        return [tuple(_xls_value(k, v) for k, v in zip(ws.row_types(r), ws.row_values(r), strict=True))
                for r in range(ws.nrows)]
    except Exception as exc:  # a sheet's records cut short or damaged
        raise InputError(f"sheet '{sheet}' cannot be read; the workbook looks truncated or corrupt "
                         f"({type(exc).__name__})", file=path, hint=_COPY_HINT) from None
    finally:
        book.unload_sheet(sheet)


def sheet_rows(path: Path, sheets: Iterable[str] | None = None) -> tuple[list[str], dict[str, list[tuple]]]:
    """The sheet names of a workbook (``.xlsx`` or ``.xls``) and the rows of ``sheets`` (every sheet if None;
    names the workbook lacks are left out), each row a tuple of cell values (None when empty)."""
    if is_xls(path):
        book = open_xls(path)
        try:
            names = [str(n) for n in book.sheet_names()]
            wanted = names if sheets is None else [s for s in sheets if s in names]
            return names, {s: _xls_rows(book, s, path) for s in wanted}
        finally:
            book.release_resources()
    wb = open_workbook(path)
    try:
        names = list(wb.sheetnames)
        wanted = names if sheets is None else [s for s in sheets if s in names]
        rows = {}
        for s in wanted:
            try:
                rows[s] = list(wb[s].iter_rows(values_only=True))
            except Exception as exc:
                raise InputError(f"sheet '{s}' cannot be read; the workbook looks truncated or corrupt "
                                 f"({type(exc).__name__})", file=path, hint=_COPY_HINT) from None
        return names, rows
    finally:
        wb.close()


def column_letter(n: int) -> str:
    """The Excel letter of the ``n``-th column (1 → 'A', 27 → 'AA'), as error messages name cells."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def column_index(letter: str) -> int:
    """The number of an Excel column letter ('A' → 1, 'AA' → 27): the inverse of :func:`column_letter`."""
    from openpyxl.utils import column_index_from_string

    return column_index_from_string(letter)


def _closest_columns(missing: list[str], found: Iterable[str]) -> str:
    """Hint text naming, for each missing column, the closest column actually found (or '')."""
    found = [str(c) for c in found if c is not None and str(c).strip()]
    parts = []
    for m in missing:
        hit = closest(m, found)
        if hit:
            parts.append(f"the closest column found is '{shorten(hit[0])}'; if it is '{m}' renamed, restore the name")
    return "; ".join(parts)


def cell_text(value) -> str | None:
    """A header cell as text: None when empty; a whole number as digits (``0.0`` from an ``.xls`` → '0')."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _header_hits(rows: list[tuple], required: list[str], search_rows: int) -> list[int]:
    """How many of the ``required`` names (case-insensitive) each of the first ``search_rows`` rows holds."""
    wanted = [r.lower() for r in required]
    hits = []
    for row in rows[:search_rows]:
        cells = {t.lower() for t in map(cell_text, row) if t is not None}
        hits.append(sum(r in cells for r in wanted))
    return hits


def _find_header(rows: list[tuple], required: Iterable[str], *, file: Path, where: str, search_rows: int) -> int:
    required = list(required)
    hits = _header_hits(rows, required, search_rows)
    if len(required) in hits:
        return hits.index(len(required))
    best = hits.index(max(hits)) if hits and max(hits) > 0 else None
    if best is not None:
        cells = [t for t in map(cell_text, rows[best]) if t is not None]
        missing = [r for r in required if r.lower() not in {c.lower() for c in cells}]
        hints = _closest_columns(missing, cells)
        names = ", ".join(f"'{m}'" for m in missing)
        raise InputError(f"the header row lacks the column(s) {names}",
                         file=file, where=f"{where}, row {best + 1}",
                         hint=(hints + " — " if hints else "") + "the layout differs from the published one; "
                         "use the edition described in data/README.md")
    raise InputError(f"no header row with columns {required} in the first {search_rows} rows",
                     file=file, where=where,
                     hint="the layout differs from the published one; use the edition described in data/README.md")


def _table_below(rows: list[tuple], h: int) -> tuple[pd.DataFrame, list[str]]:
    """The rows below header row ``h`` as a table with ``_row`` (Excel's numbering), and the preamble's text."""
    header = [cell_text(c) for c in rows[h]]
    keep = [j for j, c in enumerate(header) if c]
    body = [[r[j] if j < len(r) else None for j in keep] for r in rows[h + 1:]]
    table = pd.DataFrame(body, columns=[header[j] for j in keep], dtype=object)
    table["_row"] = np.arange(h + 2, h + 2 + len(table))
    table = table[table.drop(columns="_row").notna().any(axis=1)].reset_index(drop=True)
    preamble = [" ".join(str(c) for c in r if c is not None) for r in rows[:h]]
    return table, preamble


def read_excel_table(path: Path, sheet: str, required: list[str], *, search_rows: int = 40) -> tuple[pd.DataFrame, list[str]]:
    """Read the table on ``sheet`` whose header contains all ``required`` columns.

    Parameters
    ----------
    path : Path
        The workbook (``.xlsx``, or an old ``.xls``).
    sheet : str
        Sheet name, exactly as in the workbook.
    required : list of str
        Column names that must be in the header row (case-insensitive).
    search_rows : int
        How many rows from the top to search for the header.

    Returns
    -------
    (table, preamble)
        ``table``: the rows below the header, with an ``_row`` column giving each row's number as
        Excel shows it; fully empty rows and columns are dropped. ``preamble``: the text of the rows
        above the header (titles, notes), for reading the edition from the title.
    """
    names, rows = sheet_rows(path, [sheet])
    if sheet not in names:
        raise InputError(f"sheet '{sheet}' not found (sheets: {', '.join(names)})", file=path,
                         hint=did_you_mean(sheet, names) or "use the edition described in data/README.md")
    h = _find_header(rows[sheet], required, file=path, where=f"sheet '{sheet}'", search_rows=search_rows)
    return _table_below(rows[sheet], h)


def read_excel_tables(path: Path, required: list[str], *, search_rows: int = 40
                      ) -> tuple[dict[str, tuple[pd.DataFrame, list[str]]], list[str]]:
    """Read every sheet of a workbook whose header (within ``search_rows``) contains all ``required`` columns:
    for finding tables by their content when sheet names vary between editions.

    Returns
    -------
    (tables, sheets)
        ``tables``: sheet name -> ``(table, preamble)`` as :func:`read_excel_table` gives them, for each sheet
        holding such a table, in workbook order; ``sheets``: every sheet name, for messages.
    """
    names, rows = sheet_rows(path)
    tables = {}
    for name in names:
        hits = _header_hits(rows[name], list(required), search_rows)
        if len(required) in hits:
            tables[name] = _table_below(rows[name], hits.index(len(required)))
    return tables, names


#: An analyst's own CSV larger than this is not one of the exports the suite reads (a ViewIt export of one area
#: is about 0.5 MB; the largest published CSV in data/raw is 1.5 MB).
MAX_CSV_BYTES = 200_000_000


def is_registered_copy(path: Path) -> bool:
    """The file lies in ``data/raw`` (a published file, copied unchanged from ../shared/data), not an analyst's own."""
    try:
        Path(path).resolve().relative_to(paths.raw_dir().resolve())
    except (ValueError, OSError, InputError):
        return False
    return True


def fresh_copy_hint(path: Path, own: str | None = None) -> str:
    """What to do about a damaged file: copy it again from ../shared/data if it is a published file in
    ``data/raw``; otherwise ``own`` (what the analyst can do with their own file, e.g. export it again)."""
    if own is None or is_registered_copy(path):
        return _COPY_HINT
    return own


def by_file(maxsize: int = 64):
    """Memoise a reader ``fn(path, *args, today=..., **kwargs)`` by the file's path and content (SHA-256), the
    production date and the other arguments: reading a file again (a params file checked, then the notebook's
    parameters, then the chapter's build) costs one hash, not a parse. Callers get a copy of the table.
    :func:`cdp_analysis.memo.clear_all` empties the cache; the uncached reader is ``fn.uncached``."""
    import functools
    import hashlib

    from . import plausibility

    def wrap(fn):
        @memoised(maxsize=maxsize)
        def cached(path_text, digest, today, args, kwargs):
            return fn(Path(path_text), *args, today=today, **dict(kwargs))

        @functools.wraps(fn)
        def call(path, *args, today=None, **kwargs):
            path = Path(path)
            today = today or plausibility.production_date()
            try:
                small = path.is_file() and path.stat().st_size <= MAX_CSV_BYTES
                digest = hashlib.sha256(path.read_bytes()).hexdigest() if small else None
            except OSError:
                digest = None
            if digest is None:  # missing, unreadable or too large: the reader says so
                return fn(path, *args, today=today, **kwargs)
            result = cached(str(path), digest, today, args, tuple(sorted(kwargs.items())))
            return result.copy() if hasattr(result, "copy") else result

        call.uncached = fn
        return call

    return wrap


def _decode(path: Path, data: bytes, hint: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not a UTF-8 text file (byte {exc.start + 1} cannot be read as UTF-8)", file=path,
                         where=f"row {line}",
                         hint="check it is the CSV file, saved as 'CSV UTF-8' (not a spreadsheet, nor text in another "
                              "encoding); " + hint) from None


def _records(path: Path, text: str, hint: str) -> list[tuple[int, list[str]]]:
    """The CSV records of ``text``, each with the line it starts on as a text editor numbers it (blank lines
    and line breaks inside quoted cells counted); blank lines and rows of blank cells are left out."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out, end = [], 0
    while True:
        start = end + 1
        try:
            record = next(reader)
        except StopIteration:
            return out
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                raise InputError("a quoted cell is never closed: the file ends inside it, so it looks cut short (a "
                                 "download or copy that did not finish)", file=path, where=f"row {start}",
                                 hint=hint) from None
            raise InputError(f"cannot be read as CSV ({str(exc).strip().splitlines()[0]})", file=path,
                             where=f"row {start}",
                             hint="check the file is a comma-separated text file as published; " + hint) from None
        end = reader.line_num
        if any(cell.strip() for cell in record):
            out.append((start, record))


def _column_names(header: list[str]) -> list[str]:
    """Column names as pandas gives them: a blank heading is 'Unnamed: i', a repeated one gets '.1', '.2' …"""
    names, seen = [], {}
    for i, name in enumerate(header):
        name = name if name.strip() else f"Unnamed: {i}"
        base, k = name, seen.get(name, 0)
        while name in seen:
            k += 1
            name = f"{base}.{k}"
        seen[base] = k
        seen[name] = 0
        names.append(name)
    return names


def _found_columns(found: list[str], schema: list[str]) -> str:
    """What a header holds, without echoing the file: its number of columns and those of ``schema`` it has."""
    known = [c for c in found if c in set(schema)]
    shown = ", ".join(known[:12]) + ("…" if len(known) > 12 else "")
    count = f"{len(found)} column{'s' if len(found) != 1 else ''}"
    if not known:
        return f"the header has {count}, none of them expected"
    return f"the header has {count}; of those expected: {shown}"


def read_csv_table(path: Path, required: list[str], *, expected: Iterable[str] = (),
                   own_hint: str | None = None) -> pd.DataFrame:
    """Read a CSV as text, check it has the ``required`` columns, and add ``_row`` (line number).

    ``_row`` is the line a row starts on as a text editor numbers it (the header is line 1 unless blank
    lines precede it; blank lines and line breaks inside quoted cells are counted). Blank lines are skipped.
    A row with fewer values than the header has columns (a file cut short), more values (other than empty
    ones), or a quoted cell never closed is refused naming its line. A byte-order mark is tolerated. Columns
    are kept as strings; convert them with :func:`to_counts` / :func:`to_numbers` / :func:`to_plain_numbers`
    so that a bad cell is reported with its row and column.

    Parameters
    ----------
    path : Path
        The CSV file.
    required : list of str
        Columns it must have.
    expected : iterable of str
        Other columns of its layout: a message about a missing column names the header's columns only if
        they are ``required`` or ``expected`` (never other text of the file), and counts the rest.
    own_hint : str, optional
        What the analyst can do about a damaged file of their own (outside ``data/raw``), e.g. export it
        again; a file in ``data/raw`` gets the hint to copy it again from ../shared/data.
    """
    hint = fresh_copy_hint(path, own_hint)
    if not path.is_file():
        raise InputError("file not found", file=path, hint=hint)
    if own_hint is not None and not is_registered_copy(path) and path.stat().st_size > MAX_CSV_BYTES:
        raise InputError(f"the file is {path.stat().st_size / 1e6:,.0f} MB: far larger than any export the suite "
                         "reads", file=path, hint="check the path names the right file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror or type(exc).__name__})", file=path,
                         hint="check the file can be read") from None
    records = _records(path, _decode(path, data, hint), hint)
    if not records:
        raise InputError("the file is empty", file=path, hint=hint)
    (header_line, header), body = records[0], records[1:]
    width = len(header)
    rows, lines = [], []
    for n, (line, record) in enumerate(body):
        if len(record) > width and not any(c.strip() for c in record[width:]):
            record = record[:width]
        if len(record) < width:
            last = n == len(body) - 1
            raise InputError(f"this row has {len(record)} of the header's {width} columns"
                             + (": it is the last row, so the file looks cut short (a download or copy that did "
                                "not finish)" if last else ": a row is broken (a line break or a quote in a cell?)"),
                             file=path, where=f"row {line}", hint=hint)
        if len(record) > width:
            raise InputError(f"this row has {len(record)} values but the header {width} columns (a comma or a quote "
                             "in a cell?)", file=path, where=f"row {line}", hint=hint)
        rows.append(record)
        lines.append(line)
    columns = [str(c).strip() for c in _column_names(header)]
    table = pd.DataFrame(rows, columns=columns, dtype=str) if rows else pd.DataFrame(
        {c: pd.Series([], dtype=str) for c in dict.fromkeys(columns)})
    missing = [c for c in required if c not in table.columns]
    if missing:
        hints = _closest_columns(missing, table.columns)
        names = ", ".join(f"'{m}'" for m in missing)
        raise InputError(f"missing column(s) {names} ({_found_columns(list(table.columns), [*required, *expected])})",
                         file=path, where=f"header (line {header_line})",
                         hint=(hints + " — " if hints else "")
                         + ("use the published layout described in data/README.md" if own_hint is None
                            or is_registered_copy(path) else own_hint))
    table["_row"] = np.asarray(lines, dtype="int64")
    return table


def _bad_cells(table: pd.DataFrame, column: str, mask: pd.Series) -> str:
    rows = table.loc[mask, "_row"].tolist()
    shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    first = table.loc[mask, column].iloc[0]
    first = shorten(first) if isinstance(first, str) else first
    return f"row {shown}, column '{column}' (first bad value: {first!r})"


def to_numbers(table: pd.DataFrame, column: str, *, file: Path, allow_missing: bool = False,
               missing_markers: tuple[str, ...] = ("", ":", "..", "x", "[x]", "[c]", "z")) -> pd.Series:
    """Convert a column to floats, reporting the first unreadable cell's row and column.

    Thousands separators are removed. The publishers' missing-value markers (``:``, ``..``, ``[x]`` …)
    become NaN when ``allow_missing`` is true; otherwise they are errors.
    """
    raw = table[column]
    text = raw.astype(str).str.strip().str.replace(",", "", regex=False)
    is_missing = raw.isna() | text.isin(missing_markers) | text.str.lower().isin({"none", "nan"})
    values = pd.to_numeric(text.where(~is_missing), errors="coerce")
    bad = values.isna() & ~is_missing
    if bad.any():
        raise InputError("a value is not a number", file=file, where=_bad_cells(table, column, bad),
                         hint="correct the cell, or restore the published file")
    if is_missing.any() and not allow_missing:
        raise InputError("a value is missing", file=file, where=_bad_cells(table, column, is_missing),
                         hint="every cell of this column must hold a number; restore the published file")
    return values.astype(float)


def to_counts(table: pd.DataFrame, column: str, *, file: Path) -> pd.Series:
    """Convert a column to non-negative whole numbers (int64), reporting bad cells by row and column."""
    values = to_numbers(table, column, file=file)
    negative = values < 0
    if negative.any():
        raise InputError("a count is negative", file=file, where=_bad_cells(table, column, negative),
                         hint="counts cannot be negative; restore the published file")
    fractional = (values % 1) != 0
    if fractional.any():
        raise InputError("a count is not a whole number", file=file, where=_bad_cells(table, column, fractional),
                         hint="restore the published file")
    return values.astype("int64")


_PLAIN = {  # (whole, thousands separators, exponent) -> pattern of a number written plainly
    (True, False, False): re.compile(r"-?[0-9]+"),
    (True, True, False): re.compile(r"-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)"),
    (False, False, False): re.compile(r"-?[0-9]+(?:\.[0-9]+)?"),
    (False, False, True): re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"),
    (False, True, False): re.compile(r"-?(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?"),
}


def to_plain_numbers(table: pd.DataFrame, column: str, *, file: Path, hint: str, whole: bool = True,
                     thousands: bool = False, exponent: bool = False, missing: tuple[str, ...] = ("",),
                     bound: float | None = None, bound_why: str = "") -> pd.Series:
    """Convert a column of counts (or other numbers) written plainly to floats; the strict reading an
    analyst's own file gets.

    Surrounding spaces are harmless. A cell in ``missing`` (compared case-insensitively, e.g. ``NULL``)
    becomes NaN. Anything else must be digits, with an optional minus sign (negative counts are left to the
    caller's rules), a decimal part unless ``whole``, thousands separators in groups of three only if
    ``thousands`` (``1,498``; never ``1,1,8``) and an exponent only if ``exponent`` (never ``1e3`` for a
    count). A value whose size exceeds ``bound`` is refused, saying why (``bound_why``).

    Raises
    ------
    InputError
        Naming the row (the file's own line), the column and the first bad cell: 'a value is not a number'
        (text), 'a count is not a whole number written plainly' / 'a number is not written plainly' (e.g.
        ``1e3``, ``5.5``, ``1,1,8``), or 'a count larger than …'.
    """
    text = table[column].astype(str).str.strip()
    is_missing = text.str.upper().isin({m.upper() for m in missing})
    plain = text.str.fullmatch(_PLAIN[(whole, thousands, exponent and not whole)].pattern).fillna(False).astype(bool)
    bad = ~is_missing & ~plain
    if bad.any():
        readable = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce").notna()
        if (bad & ~readable).any():
            raise InputError("a value is not a number", file=file, where=_bad_cells(table, column, bad & ~readable),
                             hint="correct the cell, or " + hint)
        what = ("a count is not a whole number written plainly (digits only, e.g. 1105"
                + (" or 1,105" if thousands else "") + ")") if whole else \
            "a number is not written plainly (digits and a decimal point, e.g. 52.3)"
        raise InputError(what, file=file, where=_bad_cells(table, column, bad),
                         hint="write the cell as the published figure, or " + hint)
    values = pd.to_numeric(text.where(~is_missing).str.replace(",", "", regex=False), errors="coerce").astype(float)
    if bound is not None:
        large = values.abs() > bound
        if large.any():
            raise InputError(f"a count larger than {bound:,.0f}" + (f" ({bound_why})" if bound_why else "")
                             + ": no real figure is so large", file=file, where=_bad_cells(table, column, large),
                             hint="check the cell (digits typed twice, cells run together?), or " + hint)
    return values


def to_plain_number_frame(table: pd.DataFrame, columns: list[str], **options) -> pd.DataFrame:
    """:func:`to_plain_numbers` for many columns at once (e.g. the 239 measures of a ViewIt export): one pass
    over every cell when all are good; otherwise the columns one by one, so the message names the first bad
    column and row as :func:`to_plain_numbers` does."""
    if not columns:
        return pd.DataFrame(index=table.index)
    whole, thousands = options.get("whole", True), options.get("thousands", False)
    exponent = options.get("exponent", False) and not whole
    missing = {m.upper() for m in options.get("missing", ("",))}
    flat = pd.Series(table[columns].to_numpy().ravel(), dtype=str).str.strip()
    is_missing = flat.str.upper().isin(missing)
    plain = flat.str.fullmatch(_PLAIN[(whole, thousands, exponent)].pattern).fillna(False).astype(bool)
    if (is_missing | plain).all():
        values = pd.to_numeric(flat.where(~is_missing).str.replace(",", "", regex=False), errors="coerce")
        values = values.astype(float).to_numpy().reshape(len(table), len(columns))
        bound = options.get("bound")
        if bound is None or not (np.abs(values) > bound).any():
            return pd.DataFrame(values, index=table.index, columns=columns)
    return pd.DataFrame({c: to_plain_numbers(table, c, **options) for c in columns}, index=table.index)
