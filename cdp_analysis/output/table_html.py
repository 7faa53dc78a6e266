"""The one table renderer every chapter uses: accessible, readable HTML tables for the report.

A table is a real ``<table>`` with a ``<caption>``, column headings ``<th scope="col">`` and row headings
``<th scope="row">``, readable heading names (``age_band`` → "Age band (years)"), numbers with thousands
separators and a fixed number of decimals per column, estimates with limits as "12.3 (10.1–14.9)", and a
source line under it naming the datasets the rows came from with the short references of their files (``D3``:
the third entry of the data register, listed in full once, at the end of the report).
"""

from __future__ import annotations

import html
import logging
import re

import pandas as pd

from ..data import datasets, register
from . import escape

log = logging.getLogger(__name__)

#: Readable names for the tidy schema's columns when they appear as headings.
HEADINGS = {"indicator_id": "Indicator ID", "indicator_name": "Indicator", "area_code": "Area code",
            "area_name": "Area", "area_type": "Area type", "area_role": "Role", "area_members": "Member areas",
            "time_period": "Period", "time_period_sortable": "Period (sortable)", "measure": "Measure",
            "sex": "Sex", "age": "Age (years)", "age_band": "Age band (years)", "age_group": "Age group (years)",
            "category_type": "Category type", "category": "Category", "region_name": "Region", "value": "Value",
            "unit": "Unit", "lower_ci": "Lower 95% limit", "upper_ci": "Upper 95% limit",
            "lower_ci_998": "Lower 99.8% limit", "upper_ci_998": "Upper 99.8% limit", "count": "Count",
            "denominator": "Denominator", "value_note": "Note", "compared_to_england": "Compared with England",
            "comparator_set": "Comparator set", "geography_basis": "How the figure was built", "source": "Source"}


#: Readable forms of coded values that appear as headings (the tidy tables keep the codes).
LABELS = {"Female": "Females", "Male": "Males"}


def _label(value):
    return LABELS.get(value, value) if isinstance(value, str) else value


def heading(name) -> str:
    """A readable heading for a column or index name (tidy names translated, others kept)."""
    if name is None:
        return ""
    return HEADINGS.get(str(name), str(name))


def number(value, digits: int) -> str:
    """``value`` with thousands separators and ``digits`` decimals; '' for missing."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return str(value)


def with_limits(value, lower, upper, digits: int) -> str:
    """An estimate with its limits: '12.3 (10.1–14.9)'; the estimate alone when a limit is missing."""
    text = number(value, digits)
    if text and number(lower, digits) and number(upper, digits):
        text += f" ({number(lower, digits)}–{number(upper, digits)})"
    return text


def _digits_of(column: pd.Series) -> int:
    whole = column.dropna().map(lambda v: float(v).is_integer()).all()
    return 0 if whole else 1


def source_line(table: pd.DataFrame) -> str:
    """'Source: <dataset title> [D3, D5]; …' for the files cited in a tidy table's ``source`` column: each
    dataset named once with the short references of its files (:func:`cdp_analysis.data.register.references`),
    whose full references are listed once, at the end of the report and in ``data/README.md``. A file not in
    the register (the partnership's own data) is named as cited."""
    if "source" not in table.columns:
        return ""
    kinds = {k.kind: ds for ds in datasets().values() for k in ds.kinds}
    refs = register.references()
    by_dataset: dict[str, list[str]] = {}
    for source in table["source"].dropna().unique():
        if not str(source).strip():  # a row with no figure ('not supplied') cites nothing
            continue
        try:
            entries = register.resolve_source(source)
        except KeyError:
            by_dataset.setdefault(str(source), [])
            continue
        for e in entries:
            title = kinds[e.kind].title if e.kind in kinds else e.publisher
            by_dataset.setdefault(title, []).append(refs[e.path])
    parts = [f"{t} [{register.reference_list(r)}]" if r else t for t, r in sorted(by_dataset.items())]
    return "Source: " + "; ".join(parts) + "." if parts else ""


#: A short reference list in a source line, e.g. '[D1–D3, D7]'.
_REFS = re.compile(r"\[(D\d+(?:(?:, |–)D\d+)*)\]")


def markdown_references(text: str) -> str:
    """Markdown text with each short reference linked to its entry at the end of the report."""
    return _REFS.sub(lambda m: "[" + re.sub(r"D\d+", lambda r: f"[{r.group(0)}](#source-{r.group(0)})", m.group(1))
                     + "]", text)


def linked_references(html_text: str) -> str:
    """Escaped text with each short reference linked to its entry at the end of the report (``#source-D3``)."""
    return _REFS.sub(lambda m: "[" + re.sub(r"D\d+", lambda r: f'<a href="#source-{r.group(0)}">{r.group(0)}</a>',
                                            m.group(1)) + "]", html_text)


def _footnoted(view: pd.DataFrame, columns) -> tuple[pd.DataFrame, list[str]]:
    """``view`` with the text of ``columns`` replaced by 'note k', and the notes in order (one number per
    distinct text, numbered as they first appear, row by row)."""
    numbers: dict[str, int] = {}
    columns = [c for c in view.columns if c in set(columns)]
    marked = {c: [] for c in columns}
    for row in zip(*(view[c] for c in columns)):
        for col, text in zip(columns, row):
            text = text.strip() if isinstance(text, str) else ""
            marked[col].append(f"note {numbers.setdefault(text, len(numbers) + 1)}" if text else "")
    return view.assign(**marked) if columns else view, list(numbers)


#: A cell that reads as a number: '1,234', '-0.6', '8.8 (8.0–9.7)', '+1.5 (-3.3 to +6.5)', '12.5%'.
_NUMBER = re.compile(r"^[-+]?[\d,]*\.?\d+%?(\s*\([-+\d,.%]+(–| to )[-+\d,.%]+\))?$")


def _column_kinds(rows: list[list[str]], note_columns: list[int]) -> list[str]:
    """The class of each data cell of ``rows`` (each row's cells' text, left to right): ``num`` (right-aligned, not
    wrapped) in a column whose filled cells mostly read as numbers, ``note`` in a notes column, else ``text``
    (left-aligned, wrapped). Columns are counted from the right: row headings spanning rows shift the cells of other
    rows. Returned from the right (the first is each row's last cell's)."""
    width = max((len(r) for r in rows), default=0)
    kinds = []
    for k in range(1, width + 1):
        texts = [r[-k] for r in rows if len(r) >= k and r[-k]]
        kinds.append("num" if sum(bool(_NUMBER.match(t)) for t in texts) * 2 >= len(texts) else "text")
    notes = {width - i for i in note_columns}
    return ["note" if k in notes else kind for k, kind in enumerate(kinds, start=1)]


#: A tag as ``DataFrame.to_html`` writes it: name and double-quoted attributes.
_TAG = re.compile(r'<(/?)([a-z]+)((?:\s+[a-z-]+="[^"]*")*)\s*>')
_ATTRIBUTE = re.compile(r'([a-z-]+)="([^"]*)"')
#: Presentational attributes ``to_html`` writes, which the stylesheet replaces.
_PRESENTATIONAL = frozenset({"style", "halign", "valign"})


def _attribute(name: str, value: str) -> str:
    """`` name="value"`` with the value escaped as an HTML serialiser does (``&``, ``<``, ``>``; a double quote
    as ``&quot;``, or the value in single quotes if it holds a double quote and no single one)."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if '"' not in value:
        return f' {name}="{value}"'
    if "'" not in value:
        return f" {name}='{value}'"
    return f' {name}="{value.replace(chr(34), "&quot;")}"'


#: The characters HTML counts as space between tags.
_SPACES = " \n\t\f\r"


def _between(text: str) -> str:
    """Text between two tags as the page keeps it: the indentation ``to_html`` writes between tags (space only) as
    one line break (or one space, if it holds no line break); any other text as it is."""
    if not text or text.strip(_SPACES):
        return text
    return "\n" if "\n" in text else " "


def _accessible(body: str, *, name: str, caption: str, wide: bool, note_columns: list[int]) -> str:
    """``to_html``'s table made accessible: the suite's class and id (and ``wide``), the caption first, no
    presentational attributes, each heading's ``scope`` (``colgroup``/``col`` in the head, ``rowgroup``/``row`` in
    the body, by its span) and each data cell's class (:func:`_column_kinds`). Text is kept as ``to_html`` escaped
    it (``&``, ``<``, ``>``; the caption is escaped the same way), and the indentation between tags becomes a line
    break (:func:`_between`)."""
    out: list[str] = []
    cells: list[list[tuple[int, str]]] = []  # per body row: each data cell's place in ``out`` and its text
    section, at = "", 0
    for m in _TAG.finditer(body):
        out.append(_between(body[at:m.start()]))
        at = m.end()
        closing, tag = m.group(1), m.group(2)
        if closing:
            out.append(m.group(0))
            section = "" if tag in ("thead", "tbody") else section
            continue
        kept = [(k, html.unescape(v)) for k, v in _ATTRIBUTE.findall(m.group(3)) if k not in _PRESENTATIONAL]
        if tag == "table":
            kept = [("class", "cdp-table wide" if wide else "cdp-table"), *([("id", f"table-{name}")] if name else [])]
        elif tag in ("thead", "tbody"):
            section = tag
        elif tag == "tr" and section == "tbody":
            cells.append([])
        elif tag == "th" and section:
            span = dict(kept).get("colspan" if section == "thead" else "rowspan", "1")
            group = int(span) > 1
            kept.append(("scope", ("colgroup" if group else "col") if section == "thead" else
                                  ("rowgroup" if group else "row")))
        elif tag == "td" and section == "tbody" and cells:
            end = body.find("<", at)
            cells[-1].append((len(out), html.unescape(body[at:end]).strip()))
        out.append(f"<{tag}{''.join(_attribute(k, v) for k, v in kept)}>")
        if tag == "table" and caption:
            out.append(f"<caption>{html.escape(caption, quote=False)}</caption>")
    out.append(_between(body[at:]))
    kinds = _column_kinds([[text for _, text in row] for row in cells], note_columns)
    for row in cells:
        for k, (place, _) in enumerate(reversed(row), start=1):
            out[place] = out[place][:-1] + f' class="{kinds[k - 1]}">'
    return "".join(out)


def render(view: pd.DataFrame, *, caption: str = "", source: str = "",
           digits: int | dict | None = None, name: str = "", notes=()) -> str:
    """The HTML of one table.

    Parameters
    ----------
    view : DataFrame
        What to show: a readable (often wide) view of a tidy table; its index becomes row headings.
        Columns ``value``, ``lower_ci``, ``upper_ci`` together are shown as one column "Value (95% limits)".
    caption : str
        What the table shows, with units.
    source : str
        The line under the table (see :func:`source_line`).
    digits : int or dict, optional
        Decimals for every numeric column, or per column; by default 0 for columns of whole numbers and
        1 otherwise.
    name : str
        The table's file name, used as the element's id (``table-<name>``).
    notes : sequence of str
        Columns of long text shown as notes under the table: each cell holds 'note k', the same text the same
        k, so that a printed row stays a line or two high.
    """
    view = view.rename(columns=_label, index=_label)  # a renamed copy
    view, note_texts = _footnoted(view, notes) if notes else (view, [])
    note_positions = [i for i, c in enumerate(view.columns) if c in set(notes)]
    if isinstance(digits, dict):
        digits = {_label(k): v for k, v in digits.items()}
    if {"value", "lower_ci", "upper_ci"} <= set(view.columns):
        d = digits if isinstance(digits, int) else 1
        view["value"] = [with_limits(v, lo, hi, d) for v, lo, hi in
                         zip(view["value"], view["lower_ci"], view["upper_ci"])]
        view = view.drop(columns=["lower_ci", "upper_ci"]).rename(columns={"value": "Value (95% limits)"})
    formatters = {}
    for col in view.columns:
        if pd.api.types.is_numeric_dtype(view[col]) and not pd.api.types.is_bool_dtype(view[col]):
            d = digits.get(col, _digits_of(view[col])) if isinstance(digits, dict) else \
                (digits if digits is not None else _digits_of(view[col]))
            formatters[col] = lambda v, d=d: number(v, d)
    if isinstance(view.columns, pd.MultiIndex):
        view.columns = view.columns.set_names([heading(n) for n in view.columns.names])
    else:
        view.columns = [heading(c) for c in view.columns]
        view.columns.name = None
        formatters = {heading(k): v for k, v in formatters.items()}
    view.index = view.index.set_names([heading(n) for n in view.index.names])
    body = view.to_html(formatters=formatters, na_rep="", border=0, classes="cdp-table", escape=True,
                        index_names=True)
    # a table of eight or more columns is 'wide': printed across the page's width, its text wrapped within
    out = _accessible(body, name=name, caption=caption, wide=len(view.columns) + view.index.nlevels >= 8,
                      note_columns=note_positions)
    if note_texts:
        out += '\n<ol class="table-notes">' + "".join(f"<li>{escape.html_text(t)}</li>" for t in note_texts) + "</ol>"
    if source:
        out += f'\n<p class="table-source">{linked_references(escape.html_text(source))}</p>'
    return f'<div class="cdp-table-wrap">{out}</div>'


#: Styles for the rendered tables (embedded with the first table of a notebook and in the report).
CSS = """
.cdp-table { border-collapse: collapse; margin: 0.5em 0; font-variant-numeric: tabular-nums; }
.cdp-table caption { caption-side: top; text-align: left; font-weight: bold; padding: 0.3em 0; }
.cdp-table th, .cdp-table td { padding: 0.2em 0.6em; border-bottom: 1px solid #b1b4b6; }
.cdp-table thead th { border-bottom: 2px solid #0b0c0c; text-align: right; vertical-align: bottom; }
.cdp-table tbody th { text-align: left; font-weight: normal; }
.cdp-table td.num { text-align: right; white-space: nowrap; }
.cdp-table td.text { text-align: left; } .cdp-table td.note { white-space: nowrap; }
.table-notes { font-size: 0.85em; margin: 0.2em 0; padding-left: 2.2em; } .table-notes li { max-width: none; }
.table-source { font-size: 0.85em; color: #505a5f; margin-top: 0; }
"""
