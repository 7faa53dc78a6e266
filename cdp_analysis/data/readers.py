"""Read published spreadsheets and CSVs as they come, and fail clearly when they are not as expected.

Publishers put a few title and notes rows above the header, and move it between editions. So a table
is located by its header: the first row, within the first ``search_rows``, whose cells contain every
required column name. Anything else wrong — a missing file, a truncated or corrupt workbook, a missing
sheet, a missing column, a non-numeric or negative count — raises :class:`~cdp_analysis.errors.InputError`
naming the file, the sheet, the row (as numbered in Excel or a text editor) and the column.
"""

from __future__ import annotations

import csv
import logging
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, closest, did_you_mean

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


def column_letter(n: int) -> str:
    """The Excel letter of the ``n``-th column (1 → 'A', 27 → 'AA'), as error messages name cells."""
    from openpyxl.utils import get_column_letter

    return get_column_letter(n)


def _closest_columns(missing: list[str], found: Iterable[str]) -> str:
    """Hint text naming, for each missing column, the closest column actually found (or '')."""
    found = [str(c) for c in found if c is not None and str(c).strip()]
    parts = []
    for m in missing:
        hit = closest(m, found)
        if hit:
            parts.append(f"the closest column found is '{hit[0]}'; if it is '{m}' renamed, restore the name")
    return "; ".join(parts)


def _find_header(rows: list[tuple], required: Iterable[str], *, file: Path, where: str, search_rows: int) -> int:
    required = list(required)
    wanted = [r.lower() for r in required]
    best, best_hits = None, 0
    for i, row in enumerate(rows[:search_rows]):
        cells = {str(c).strip().lower() for c in row if c is not None}
        hits = sum(r in cells for r in wanted)
        if hits == len(wanted):
            return i
        if hits > best_hits:
            best, best_hits = i, hits
    if best is not None:
        cells = [str(c).strip() for c in rows[best] if c is not None]
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


def read_excel_table(path: Path, sheet: str, required: list[str], *, search_rows: int = 40) -> tuple[pd.DataFrame, list[str]]:
    """Read the table on ``sheet`` whose header contains all ``required`` columns.

    Parameters
    ----------
    path : Path
        The workbook (``.xlsx``).
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
    wb = open_workbook(path)
    try:
        if sheet not in wb.sheetnames:
            raise InputError(f"sheet '{sheet}' not found (sheets: {', '.join(wb.sheetnames)})", file=path,
                             hint=did_you_mean(sheet, wb.sheetnames) or "use the edition described in data/README.md")
        try:
            rows = list(wb[sheet].iter_rows(values_only=True))
        except Exception as exc:
            raise InputError(f"sheet '{sheet}' cannot be read; the workbook looks truncated or corrupt ({type(exc).__name__})",
                             file=path, hint=_COPY_HINT) from None
    finally:
        wb.close()
    h = _find_header(rows, required, file=path, where=f"sheet '{sheet}'", search_rows=search_rows)
    header = [str(c).strip() if c is not None else None for c in rows[h]]
    keep = [j for j, c in enumerate(header) if c]
    body = [[r[j] if j < len(r) else None for j in keep] for r in rows[h + 1:]]
    table = pd.DataFrame(body, columns=[header[j] for j in keep], dtype=object)
    table["_row"] = np.arange(h + 2, h + 2 + len(table))
    table = table[table.drop(columns="_row").notna().any(axis=1)].reset_index(drop=True)
    preamble = [" ".join(str(c) for c in r if c is not None) for r in rows[:h]]
    return table, preamble


def read_csv_table(path: Path, required: list[str]) -> pd.DataFrame:
    """Read a CSV as text, check it has the ``required`` columns, and add ``_row`` (line number).

    A byte-order mark is tolerated. Columns are kept as strings; convert them with
    :func:`to_counts` / :func:`to_numbers` so that a bad cell is reported with its row and column.
    """
    _require_file(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot be read as CSV ({str(exc).strip().splitlines()[0]})", file=path,
                         hint="check the file is a comma-separated text file as published; " + _COPY_HINT) from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=path, hint=_COPY_HINT) from None
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        hints = _closest_columns(missing, table.columns)
        names = ", ".join(f"'{m}'" for m in missing)
        raise InputError(f"missing column(s) {names} (columns found: {', '.join(table.columns[:12])}"
                         f"{'…' if len(table.columns) > 12 else ''})", file=path, where="header (line 1)",
                         hint=(hints + " — " if hints else "") + "use the published layout described in data/README.md")
    table["_row"] = np.arange(2, 2 + len(table))
    return table


def _bad_cells(table: pd.DataFrame, column: str, mask: pd.Series) -> str:
    rows = table.loc[mask, "_row"].tolist()
    shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    first = table.loc[mask, column].iloc[0]
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
