"""The escaping rules of every output: what the suite did not write itself is shown, never obeyed.

Names and values that come from outside the suite's own code (a CDP's name from its params file, a comparator
set's name, an analyst's file names, values read from local files) reach three kinds of output. Each has one
rule, here:

HTML (:func:`html_text`)
    Every value interpolated into HTML (``index.html``, ``summary.html``, table cells, captions, source lines)
    passes :func:`html.escape` with ``quote=True``: no tag or attribute from data survives.
Markdown (:func:`markdown_text`)
    The chapters' key findings and notes, the report's front matter and its sources section are Markdown, which
    nbconvert renders with raw HTML passing through. An untrusted string is made to render literally: every
    character CommonMark (or nbconvert's mistune plugins: tables, strikethrough, URL autolinks, math) could read
    as syntax is backslash-escaped, and line breaks and control characters become one space, so no raw HTML tag,
    link, image, emphasis, heading, list or table can come from data. Published area names hold none of these
    characters, so they are unchanged (the golden notebooks stay as they are).
CSV (:func:`csv_cell`, :func:`csv_frame`)
    OWASP's rule against CSV (formula) injection: a text cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return is prefixed with a single quote (``'``), so a spreadsheet shows it as text instead of
    running it. Numbers are untouched: cells of numeric columns, and text that is a plain decimal number
    (``-1.5``, ``+3``, ``-2e-05``: a spreadsheet reads these as the number they are, never as a formula).

The report adds a last pass over the page it writes (:mod:`cdp_analysis.output.report`), which removes any
element or attribute that could run script or load another page, whatever its origin.
"""

from __future__ import annotations

import html
import logging
import re

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["html_text", "markdown_text", "markdown_html", "csv_cell", "csv_original", "csv_frame", "CSV_TRIGGERS"]


def html_text(value) -> str:
    """``value`` as text safe anywhere in HTML: in an element or in a quoted attribute.

    Parameters
    ----------
    value : object
        Anything; it is turned into ``str`` first (``None`` → '').

    Returns
    -------
    str
        The text with ``&``, ``<``, ``>``, ``"`` and ``'`` as character references.

    Examples
    --------
    >>> html_text('<img src=x onerror="alert(1)">')
    '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


#: Characters CommonMark (and the plugins nbconvert's mistune renderer enables) may read as syntax anywhere in a
#: line: backslash, code spans, emphasis, links and images, raw HTML and entities, headings, tables,
#: strikethrough, math, autolinks (``http://``), attribute-like braces.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()<>&!#|~$:{}])")
#: What starts a block when it begins a line: a list, a block quote, a setext underline, an ordered list item.
_MARKDOWN_LEAD = re.compile(r"^([-+=>]|\d+(?=[.)]))")
#: Line breaks, tabs and other control characters (C0, DEL, C1, the Unicode line and paragraph separators).
_BREAKS = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def markdown_text(value) -> str:
    """An untrusted string made to render literally in Markdown (as nbconvert renders it).

    Parameters
    ----------
    value : object
        A CDP's name, a comparator set's name, a file name, a value read from a local file. ``None`` → ''.

    Returns
    -------
    str
        One line: line breaks, tabs and control characters become a single space; every character that could
        start Markdown syntax (``\\ ` * _ [ ] ( ) < > & ! # | ~ $ : { }``) is backslash-escaped, and so is a
        leading ``-``, ``+``, ``=``, ``>`` or ordered-list number. Text without these characters (every published
        area name) comes back unchanged.

    Notes
    -----
    Use it for text in running Markdown, not inside a code span (`` `…` ``), where backslashes are shown as
    they are.

    Examples
    --------
    >>> markdown_text("<b>x</b> [a](javascript:alert(1))")
    '\\\\<b\\\\>x\\\\</b\\\\> \\\\[a\\\\]\\\\(javascript\\\\:alert\\\\(1\\\\)\\\\)'
    >>> markdown_text("Kingston upon Hull, City of")
    'Kingston upon Hull, City of'
    """
    text = _BREAKS.sub(" ", "" if value is None else str(value))
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _MARKDOWN_LEAD.sub(lambda m: m.group(1) + "\\" if m.group(1)[0].isdigit() else "\\" + m.group(1), text)


_UNESCAPED_LT = re.compile(r"(?<!\\)((?:\\\\)*)<")
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)", re.S)
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")


def markdown_html(markdown: str) -> str:
    """Markdown with every raw HTML tag made literal text: each ``<`` that is not escaped or in code is escaped.

    For Markdown the suite builds itself (a chapter's findings and notes): it uses no raw HTML, so a ``<`` in it
    can only have come from data and must never open a tag or an HTML comment. Code spans and fenced code blocks
    are left as they are (their content is shown as text anyway).

    Parameters
    ----------
    markdown : str
        Markdown text.

    Returns
    -------
    str
        The same text with ``<`` as ``\\<`` outside code, so it renders as the character ``<``.
    """
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        opened = _FENCE.match(line)
        if fence is not None:
            out.append(line)
            if opened and opened.group(2)[0] == fence[0] and len(opened.group(2)) >= len(fence):
                fence = None
            continue
        if opened:
            fence = opened.group(2)
            out.append(line)
            continue
        out.append(_escape_lt_outside_code(line))  # an indented code block would show the backslash: harmless
    return "".join(out)


def _escape_lt_outside_code(line: str) -> str:
    parts, last = [], 0
    for span in _CODE_SPAN.finditer(line):
        if _escaped(line, span.start()):
            continue
        parts.append(_UNESCAPED_LT.sub(r"\1\\<", line[last:span.start()]))
        parts.append(span.group(0))
        last = span.end()
    parts.append(_UNESCAPED_LT.sub(r"\1\\<", line[last:]))
    return "".join(parts)


def _escaped(text: str, at: int) -> bool:
    """True if the character at ``at`` follows an odd number of backslashes."""
    n = 0
    while at - n - 1 >= 0 and text[at - n - 1] == "\\":
        n += 1
    return n % 2 == 1


#: The first characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def csv_cell(value):
    """One CSV cell neutralised against formula injection (OWASP): text beginning with ``= + - @``, a tab or a
    carriage return gets a leading ``'``.

    Parameters
    ----------
    value : object
        A cell. Anything that is not a ``str`` (a number, a missing value) is returned as it is, and so is text
        that is a plain decimal number (``-1.5``: a spreadsheet reads it as that number).

    Returns
    -------
    object
        ``value``, or ``"'" + value``.

    Examples
    --------
    >>> csv_cell('=HYPERLINK("http://x")')
    '\\'=HYPERLINK("http://x")'
    >>> csv_cell("-"), csv_cell(-3.5), csv_cell("-3.5")
    ("'-", -3.5, '-3.5')
    """
    if isinstance(value, str) and value.startswith(CSV_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_original(value):
    """The text a neutralised CSV cell stood for: :func:`csv_cell` undone, for code that reads the suite's own CSV
    tables back (a cell ``'=x`` → ``=x``; anything else as it is).

    A text that itself began with a quote and a formula character cannot be told apart; the suite writes none.
    """
    if isinstance(value, str) and len(value) > 1 and value[0] == "'" and value[1:].startswith(CSV_TRIGGERS):
        return value[1:]
    return value


def csv_frame(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with :func:`csv_cell` applied to every text cell, ready to write as CSV.

    Columns of numeric or boolean dtype are untouched (and so are the numbers of an object column). The column
    headings are the suite's own and are not changed. The table itself is not modified: a copy is returned when
    a cell changes, ``table`` itself otherwise (so the common case costs a look at each column's distinct cells).
    """
    changed = {}
    for i in range(table.shape[1]):
        series = table.iloc[:, i]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
            continue
        # each distinct cell looked at once (a column repeats a few names, sources and periods over many rows)
        try:
            cells = series.unique()
        except TypeError:  # a cell that cannot be hashed (a list): every cell
            cells = series.array
        cells = np.asarray(cells, dtype=object)  # a text array's cells one by one are slow to index
        if any(isinstance(v, str) and v.startswith(CSV_TRIGGERS) for v in cells):
            changed[i] = series.map(csv_cell, na_action="ignore")
    if not changed:
        return table
    out = table.copy()
    for i, series in changed.items():
        log.debug("column '%s': text cells beginning with a formula character neutralised", table.columns[i])
        out.isetitem(i, series)
    return out
