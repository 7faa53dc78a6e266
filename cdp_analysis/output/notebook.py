"""Helpers the chapter notebooks call, so that notebooks hold narrative and calls only.

A chapter function returns a :class:`TableOutput` (tidy table + readable view + caption) or a
:class:`FigureOutput` (figure + the tidy table it was drawn from); :func:`show` writes it (tables to
``tables/``, figures to ``figures/``, with provenance) and displays it. :func:`sources_note` states a
chapter's data sources, with editions, from the data register.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .. import memo
from ..data import datasets
from ..stats import disclosure
from . import escape, figures, table_html, tidy

log = logging.getLogger(__name__)


def setup_logging() -> None:
    """Send this package's INFO messages to stderr in a kernel (so they reach ``run.log``), once."""
    root = logging.getLogger("cdp_analysis")
    if not any(getattr(h, "_cdp", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._cdp = True
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def wide_view(table: pd.DataFrame, *, index: list[str], columns: str | list[str], digits: int = 1,
              measure: str | None = None) -> pd.DataFrame:
    """A readable pivot of a tidy table for display (values rounded; integers shown without decimals)."""
    t = table if measure is None else table[table["measure"] == measure]
    if "area_role" in t.columns:  # CDP, members, region, England, neighbours: the order readers expect
        order = t["area_role"].map(tidy.ROLE_ORDER)
        area = t["area_code"] if "area_code" in t.columns else order
        t = t.assign(_order=order, _area=area).sort_values(["_order", "_area"], kind="stable")
    wide = t.pivot_table(index=index, columns=columns, values="value", sort=False, observed=True)
    wide.columns.name = None
    return wide.round(digits)


def show_table(table: pd.DataFrame, name: str, output_dir: str, view: pd.DataFrame | None = None,
               caption: str | None = None, digits: int | dict | None = None, decided_by: list[dict] | None = None,
               notes=()):
    """Write ``tables/<name>.csv`` (tidy) and display ``view`` (or the tidy table) as an accessible HTML table
    with its caption and a source line (:func:`cdp_analysis.output.table_html.render`).

    ``decided_by``: the inputs besides the data files that decided which rows appear, for ``run.json``
    (default: ``table.attrs['decided_by']``, as the chapter's compute set it; :func:`tidy.save_table`);
    ``notes``: columns of ``view`` whose long text is shown as numbered notes under the table."""
    from IPython.display import HTML, display

    check_disclosure(table, name)
    saved = tidy.save_table(table, name, output_dir, decided_by=decided_by)
    shown = saved if view is None else view
    body = table_html.render(shown, caption=caption or "", source=table_html.source_line(saved), digits=digits,
                             name=name, notes=notes)
    display(HTML(f"<style>{table_html.CSS}</style>{body}"))


def show_figure(fig: plt.Figure, name: str, output_dir: str, data: pd.DataFrame | None = None,
                finding: str | None = None) -> None:
    """Write ``figures/<name>.svg`` (and its PNG if asked for: :func:`figures.png_wanted`) and display the SVG, with
    alternative text for screen readers.

    ``data``: the tidy table the figure was drawn from (its sources are recorded).
    """
    if data is not None:
        check_disclosure(data, name)
    svg = figures.save_figure(fig, name, output_dir, data=data)
    _display_svg(svg, figures.alt_text(fig, data, finding), name)
    plt.close(fig)


def _display_svg(svg: bytes, alt: str, name: str) -> None:
    """Display an SVG with its alternative text; the report embeds it (figures/<name>.svg) with that text."""
    from IPython.display import display

    display({"image/svg+xml": svg.decode("utf-8")}, raw=True,
            metadata={"image/svg+xml": {"alt": alt, "figure": f"figures/{name}.svg"}})


#: The files and alternative text of figures drawn from the same inputs for every CDP (national series), by name,
#: inputs, finding, data and format: such a figure is drawn and rendered once per process (:func:`show`).
_RENDERED: dict[tuple, tuple[dict[str, bytes], str]] = memo.store()


def _show_drawn_once(item: FigureOutput, output_dir: str) -> None:
    """Show a figure whose inputs are the same for every CDP (``item.same_inputs``): drawn and rendered on its first
    showing in this process; later showings write and display the same bytes without drawing it."""
    if item.data is not None:
        check_disclosure(item.data, item.name)
    png = bool(output_dir) and figures.png_wanted()
    key = (item.name, item.same_inputs, item.finding, None if item.data is None else memo.content_digest(item.data),
           png)
    if key not in _RENDERED:
        fig = item.drawn()
        _RENDERED[key] = (figures.rendered(fig, png=png), figures.alt_text(fig, item.data, item.finding))
        plt.close(fig)
    else:
        log.debug("figure %s: the same inputs as already drawn in this process; its files are reused", item.name)
        if not callable(item.figure):  # drawn by the caller all the same: not kept open
            plt.close(item.figure)
    files, alt = _RENDERED[key]
    figures.write_figure(files, item.name, output_dir, item.data)
    _display_svg(files[".svg"], alt, item.name)


class DisclosureError(ValueError):
    """A table or figure about to be written holds a small count from local data."""


def check_disclosure(table: pd.DataFrame, name: str) -> None:
    """The last guard before anything is written: rows from local data (``origin`` other than 'published')
    must hold no count from 1 to the threshold − 1 (``table.attrs['disclosure_threshold']``, default 5) in
    ``count``, ``denominator`` or ``numerator``, none that is not a multiple of the rounding base
    (``table.attrs['disclosure_rounding']``, default 1: not rounded), and a row marked ``status`` 'suppressed' no
    value or limits. Chapters suppress and round (:mod:`cdp_analysis.stats.disclosure`); this check only refuses
    to write if one did not."""
    if "origin" not in table.columns:
        return
    threshold = int(table.attrs.get("disclosure_threshold", disclosure.DEFAULT_THRESHOLD))
    rounding = int(table.attrs.get("disclosure_rounding", 1))
    local = table["origin"].fillna("published") != "published"
    for column in ("count", "denominator", "numerator"):
        if column in table.columns:
            small = local.to_numpy() & disclosure.small_counts(table[column], threshold)
            if small.any():
                raise DisclosureError(f"table '{name}' holds a small count from local data in column '{column}' "
                                      f"(row {int(np.flatnonzero(small)[0]) + 1}); suppress it before writing")
            if rounding > 1:
                v = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
                with np.errstate(invalid="ignore"):
                    off = local.to_numpy() & ~np.isnan(v) & (np.mod(v, rounding) != 0)
                if off.any():
                    raise DisclosureError(f"table '{name}' holds an unrounded count from local data in column "
                                          f"'{column}' (row {int(np.flatnonzero(off)[0]) + 1}); round it to the "
                                          f"nearest {rounding} before writing")
    if "status" in table.columns:
        hidden = local & (table["status"] == "suppressed")
        for column in ("value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998"):
            if column in table.columns and table.loc[hidden, column].notna().any():
                raise DisclosureError(f"table '{name}' shows '{column}' on a suppressed row; suppress it before "
                                      "writing")


@dataclass
class TableOutput:
    """A table a chapter shows: ``name`` (file ``tables/<name>.csv``), the tidy ``table``, a readable ``view``;
    ``decided_by``: the inputs that chose its rows, for ``run.json`` (default ``table.attrs['decided_by']``);
    ``notes``: columns of ``view`` whose long text is shown as numbered notes under the table."""

    name: str
    table: pd.DataFrame
    view: pd.DataFrame | None = None
    caption: str | None = None
    digits: int | dict | None = None
    decided_by: list[dict] | None = None
    notes: tuple = ()


@dataclass
class FigureOutput:
    """A figure a chapter shows: ``name`` (file ``figures/<name>.svg``), the figure (or a function of no arguments
    that draws it: :meth:`drawn`), the tidy table it was drawn from and, optionally, its finding for the
    alternative text (None: read from the table; '' for none).

    ``same_inputs``: for a figure drawn only from tables that are the same for every CDP (a national series), the
    key of everything it is drawn from (:func:`cdp_analysis.memo.content_key`); :func:`show` then draws it once per
    process and writes the same bytes for each CDP. A figure given this way must be a function, so that it is not
    drawn when it need not be.
    """

    name: str
    figure: plt.Figure | Callable[[], plt.Figure]
    data: pd.DataFrame
    finding: str | None = None
    same_inputs: str | None = None

    def __post_init__(self):
        if self.same_inputs is not None and not callable(self.figure):
            raise TypeError(f"figure {self.name!r}: a figure with same_inputs is given as a function that draws it")

    def drawn(self) -> plt.Figure:
        """The figure, drawn now if it was given as a function (once: the figure is kept)."""
        if callable(self.figure):
            self.figure = self.figure()
        return self.figure


def show(item: TableOutput | FigureOutput, output_dir: str) -> None:
    """Write (when ``output_dir`` is set) and display a chapter's table or figure."""
    if isinstance(item, FigureOutput) and item.same_inputs is not None:
        _show_drawn_once(item, output_dir)
    elif isinstance(item, FigureOutput):
        show_figure(item.drawn(), item.name, output_dir, data=item.data, finding=item.finding)
    else:
        show_table(item.table, item.name, output_dir, view=item.view, caption=item.caption, digits=item.digits,
                   decided_by=item.decided_by, notes=item.notes)


def sources_note(chapter, tables: list[pd.DataFrame] | None = None) -> str:
    """A Markdown line naming the chapter's data sources, each with the short references of the files used
    (``D3``: the third entry of the data register; the full references are listed once, in the report's last
    section and in ``data/README.md``).

    Parameters
    ----------
    chapter : Chapter
        Its ``datasets`` are listed, in order, then the area lookups (which every run uses).
    tables : list of DataFrame, optional
        The chapter's tables; when given, only the files their ``source`` columns cite are referenced (a
        dataset none of whose files is cited, such as the area lookups, is referenced with all its files).
    """
    from ..data import register

    cited, local = set(), set()
    for s in {s for t in tables or [] for s in t["source"].dropna().unique() if s}:
        for part in s.split("; "):
            try:
                cited.update(e.path for e in register.resolve_source(part))
            except KeyError:  # the partnership's own files (local data), cited by path
                local.add(part)
    found, refs = datasets(), register.references()
    parts = []
    for name in (*chapter.datasets, "lookups"):  # the area lookups every table's areas are defined by, last
        ds = found[name]
        entries = [e for e in ds.entries() if e.path in cited] or ds.entries()
        parts.append(f"{ds.title} [{register.reference_list(refs[e.path] for e in entries)}]" if entries
                     else ds.title)
    where = ("Each reference (D1, D2, …) is a file of the data register, listed in full once: in the section "
             "\"Where each number comes from\" at the end of the report and in `data/README.md`.")
    parts = [table_html.markdown_references(p) for p in parts]
    if local:
        return ("*Sources: " + "; ".join(parts) + ". Local data supplied for this run (not published): "
                + "; ".join(escape.markdown_text(c) for c in sorted(local)) + ". " + where + "*")
    return "*Sources: " + "; ".join(parts) + ". All figures are published data. " + where + "*"
