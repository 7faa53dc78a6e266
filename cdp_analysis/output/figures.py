"""Figures for the reports: one accessible chart style, and files that are identical for identical inputs.

Colours (WCAG 2.2 non-text contrast: every mark at least 3:1 against the white background, tested):

* categories use the colour-blind-safe Okabe–Ito palette, restricted to its members with ≥ 3:1 contrast
  (:data:`QUALITATIVE`); a sequential palette (:data:`SEQUENTIAL`, cividis) only for ordered data;
* the CDP is always the strongest colour (:data:`CDP_COLOUR`, Okabe–Ito blue); England is a neutral dark grey
  with a hatch pattern or dashed line (:data:`ENGLAND_COLOUR`, :data:`ENGLAND_HATCH`), so it is told apart
  without colour; other comparators are mid grey (:data:`COMPARATOR_COLOUR`).

Every figure is written as SVG, and as a PNG at twice the screen resolution when asked for (:func:`png_wanted`: a
CDP's ``figure_png`` setting, which the runner passes to the kernel as :data:`PNG_ENV`), without timestamps.
"""

from __future__ import annotations

import io
import logging
import os
import re
from contextlib import contextmanager
from pathlib import Path

import matplotlib.artist as martist
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.layout_engine import PlaceHolderLayoutEngine
from matplotlib.transforms import Bbox

from ..files import write_atomic
from . import glyph_outlines, provenance, text_metrics

log = logging.getLogger(__name__)

BACKGROUND = "#ffffff"

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
             "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7"}

#: Categorical colours, in order of use: the Okabe–Ito members with ≥ 3:1 contrast on white.
QUALITATIVE = [OKABE_ITO["blue"], OKABE_ITO["vermillion"], OKABE_ITO["bluish green"], OKABE_ITO["reddish purple"]]

#: For ordered data only (e.g. deprivation deciles): perceptually uniform and colour-blind safe.
SEQUENTIAL = "cividis"

CDP_COLOUR = OKABE_ITO["blue"]          # the CDP: always the strongest colour
MEMBER_COLOURS = QUALITATIVE[1:]        # members of a multi-area CDP
ENGLAND_COLOUR = "#505a5f"              # dark neutral grey (7:1), with a pattern
ENGLAND_HATCH = "///"
ENGLAND_LINESTYLE = "--"
REGION_COLOUR = "#0b0c0c"               # near-black outline, no fill
COMPARATOR_COLOUR = "#6f777b"           # mid grey (4.6:1) for neighbours and other comparators
MALE_COLOUR = OKABE_ITO["blue"]
FEMALE_COLOUR = OKABE_ITO["vermillion"]

#: Resolution: PNGs are written at twice the screen resolution of 100 dots per inch.
SCREEN_DPI = 100
PNG_SCALE = 2

#: Environment variable that asks for a PNG of each figure beside its SVG ('1'); the runner sets it in the kernel
#: before each notebook from the CDP's ``figure_png`` setting. Set it in JupyterLab (``%env
#: CDP_ANALYSIS_FIGURE_PNG=1``) to get PNGs from a notebook run by hand.
PNG_ENV = "CDP_ANALYSIS_FIGURE_PNG"


def png_wanted() -> bool:
    """Whether figures are written as PNG too (:data:`PNG_ENV` is '1'). Saving a PNG at 2× takes about 0.2 s a
    figure, more than half the cost of saving it (docs/performance.md, "Saving figures"), and no report uses it."""
    return os.environ.get(PNG_ENV, "") == "1"


def relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of an sRGB colour ('#rrggbb' or a matplotlib name).

    L = 0.2126 R + 0.7152 G + 0.0722 B, each channel linearised: c/12.92 if c ≤ 0.04045, else
    ((c + 0.055)/1.055)^2.4.
    """
    from matplotlib.colors import to_rgb

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: str, b: str = BACKGROUND) -> float:
    """WCAG contrast ratio (L1 + 0.05) / (L2 + 0.05), lighter over darker; 1 to 21."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def role_colours(roles: pd.Series) -> list[str]:
    """A colour per area, by its role: the CDP blue, members in turn, region near-black, England grey."""
    members = iter(MEMBER_COLOURS * 4)
    out = []
    for role in roles:
        if role == "cdp":
            out.append(CDP_COLOUR)
        elif role == "member":
            out.append(next(members))
        elif role == "england":
            out.append(ENGLAND_COLOUR)
        elif role == "region":
            out.append(REGION_COLOUR)
        else:
            out.append(COMPARATOR_COLOUR)
    return out


def style() -> None:
    """Apply the suite's plotting style (call once per notebook), and share measured and shaped text across figures
    (:func:`cdp_analysis.output.text_metrics.share`, :func:`cdp_analysis.output.glyph_outlines.share`)."""
    import seaborn as sns  # seaborn imports SciPy: only when figures are made, not in no-op runs

    text_metrics.share()
    glyph_outlines.share()

    sns.set_theme(context="notebook", style="whitegrid", font="DejaVu Sans")
    plt.rcParams.update({"figure.dpi": SCREEN_DPI, "savefig.dpi": SCREEN_DPI * PNG_SCALE,
                         "axes.titleweight": "bold", "axes.titley": 1.0, "svg.hashsalt": "cdp-analysis", "svg.fonttype": "path",
                         "hatch.color": ENGLAND_COLOUR, "hatch.linewidth": 1.0,
                         # text is shown as written: a '$' in a name from a params file is a dollar sign, not TeX
                         # (matplotlib's mathtext would fail on, or typeset, what lies between two of them)
                         "text.parse_math": False})


#: The colour of a figure's source line (GOV.UK secondary text; 6.9:1 on white).
SOURCE_COLOUR = "#505a5f"


def dataset_title(name: str) -> str:
    """A dataset's title (:func:`cdp_analysis.data.datasets`), as a figure's source line names it."""
    from ..data import datasets

    return datasets()[name].title


def source_line(fig: plt.Figure, text: str, *, bottom: float | None = 0.03, wrap: bool = False) -> None:
    """Write ``text`` (the figure's sources) at its foot in small grey type, then lay the figure out leaving
    ``bottom`` (a fraction of its height) free for it (``None``: matplotlib's own tight layout)."""
    fig.text(0.01, 0.005, text, fontsize=8, color=SOURCE_COLOUR, **({"wrap": True} if wrap else {}))
    lay_out(fig, rect=None if bottom is None else (0, bottom, 1, 1))


def lay_out(fig: plt.Figure, rect: tuple[float, float, float, float] | None = None) -> None:
    """matplotlib's tight layout (``Figure.tight_layout``, the whole Axes area inside ``rect`` in figure fractions),
    with each Axes' extent measured once.

    Given a ``rect``, matplotlib measures every Axes twice with nothing changed in between: once for the margins,
    then again to fit them into the rect. Measuring places every tick and lays out every label, about 30 ms a
    figure. The second measure gives the same boxes, so here it reads the first's. The subplot parameters, and so
    the figure, are the same to the last bit (``tests/test_figures.py``).
    """
    with _each_extent_measured_once():
        fig.tight_layout(rect=rect) if rect is not None else fig.tight_layout()


@contextmanager
def _each_extent_measured_once():
    """Within the block, matplotlib's layout measure of an artist (``artist._get_tightbbox_for_layout_only``, what
    ``tight_layout`` calls for each Axes and Axis) runs once per artist and renderer, and later calls get a copy of
    its box. Only for a layout pass, in which nothing moves between measures; one thread at a time (a kernel runs
    one notebook)."""
    measure = getattr(martist, "_get_tightbbox_for_layout_only", None)
    if measure is None:  # a matplotlib without the helper: measure as often as it asks
        yield
        return
    boxes = {}

    def once(obj, *args, **kwargs):
        key = (id(obj), tuple(map(id, args)), tuple(sorted((k, id(v)) for k, v in kwargs.items())))
        if key not in boxes:  # the artist and arguments are kept with the box, so no id is reused in the block
            boxes[key] = (obj, args, kwargs, measure(obj, *args, **kwargs))
        box = boxes[key][3]
        return None if box is None else box.frozen()

    martist._get_tightbbox_for_layout_only = once
    try:
        yield
    finally:
        martist._get_tightbbox_for_layout_only = measure


def wrap_long_titles(fig: plt.Figure) -> int:
    """Let a title (an axes' or the figure's) that is wider than the figure wrap onto more lines; return how many.

    A title holding a long name (a CDP's name may have 120 characters) would otherwise widen the saved figure far
    beyond its drawn width, and the plot would shrink to a strip when the report scales it to the page. Titles that
    fit are left alone, so their figures are unchanged.
    """
    renderer = fig.canvas.get_renderer()  # a text's width needs no draw of the figure (saving draws it once)
    titles = [ax.title for ax in fig.axes] + ([fig._suptitle] if getattr(fig, "_suptitle", None) else [])
    wide = [t for t in titles if t.get_text() and t.get_window_extent(renderer).width > fig.bbox.width]
    for title in wide:
        title.set_wrap(True)
    return len(wide)


def tight_bbox(fig: plt.Figure) -> Bbox:
    """The area a figure's artists cover plus ``savefig.pad_inches``, in inches: what ``bbox_inches="tight"``
    measures, measured once for both files.

    Each ``savefig(bbox_inches="tight")`` lays the whole figure out twice (a dry draw, then the extent of every
    text) before it draws; measuring once and passing the box saves that work for the second file. The dry draw
    is left out where it changes nothing: the chapters lay a figure out themselves (``tight_layout``), and
    ``get_tightbbox`` places ticks, titles, aspect, insets, wrapped text and legends (but an 'expand' one) before
    it measures. The box is the same to the last bit on every figure of 26 CDPs measured both ways
    (docs/performance.md, "Third pass"). A figure with a layout engine that runs at each draw (constrained or
    tight layout) or a legend in 'expand' mode is drawn first, as savefig does.
    """
    screen = fig.get_dpi()
    fig.set_dpi(SCREEN_DPI * PNG_SCALE)  # text is measured at the PNG's resolution, as savefig would
    try:
        if _placed_at_draw(fig):
            fig.draw_without_rendering()
        return fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    finally:
        fig.set_dpi(screen)


def _placed_at_draw(fig: plt.Figure) -> bool:
    """Whether a draw would move something ``get_tightbbox`` cannot place by itself: a layout engine that lays the
    figure out at each draw, or a legend whose width is set only when it is drawn (``mode="expand"``)."""
    engine = fig.get_layout_engine()
    if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
        return True
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes)]
    return any(getattr(legend, "_mode", None) == "expand" for legend in legends if legend is not None)


@contextmanager
def _laid_out(fig: plt.Figure):
    """Save without another layout pass: the chapters lay a figure out (``tight_layout``) before it is saved, and
    matplotlib's placeholder engine would only draw it once more, invisibly, before each file. Axes placed by a
    locator (insets, colour bars) keep the pass."""
    engine = fig.get_layout_engine()
    if not isinstance(engine, PlaceHolderLayoutEngine) or any(ax.get_axes_locator() for ax in fig.axes):
        yield
        return
    fig.set_layout_engine(None)
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def png_bytes(fig: plt.Figure, bbox: Bbox | None = None) -> bytes:
    """The figure as PNG bytes (2× resolution), without timestamp or software metadata: same inputs, same bytes.

    ``bbox``: the area to save, in inches (default: :func:`tight_bbox`).
    """
    bbox = tight_bbox(fig) if bbox is None else bbox
    buf = io.BytesIO()
    with _laid_out(fig):
        fig.savefig(buf, format="png", dpi=SCREEN_DPI * PNG_SCALE, bbox_inches=bbox, metadata={"Software": None})
    return buf.getvalue()


def svg_bytes(fig: plt.Figure, bbox: Bbox | None = None) -> bytes:
    """The figure as SVG, without date or creator metadata and with fixed element ids: same inputs, same bytes.

    ``bbox``: the area to save, in inches (default: :func:`tight_bbox`).
    """
    bbox = tight_bbox(fig) if bbox is None else bbox
    buf = io.BytesIO()
    with plt.rc_context({"svg.hashsalt": "cdp-analysis"}), _laid_out(fig):
        fig.savefig(buf, format="svg", bbox_inches=bbox, metadata={"Date": None, "Creator": None})
    return buf.getvalue()


def rendered(fig: plt.Figure, png: bool) -> dict[str, bytes]:
    """The figure's files as bytes by suffix: '.svg', and '.png' (at 2×) if ``png``. Long titles are wrapped first
    (:func:`wrap_long_titles`) and the saved area is measured once for both (:func:`tight_bbox`)."""
    wrap_long_titles(fig)
    bbox = tight_bbox(fig)
    files = {".svg": svg_bytes(fig, bbox)}
    if png:
        files[".png"] = png_bytes(fig, bbox)
    return files


def write_figure(files: dict[str, bytes], name: str, output_dir: str | os.PathLike | None,
                 data: pd.DataFrame | None = None) -> None:
    """Write ``figures/<name><suffix>`` for each of ``files`` (:func:`rendered`) if ``output_dir`` is set, with
    provenance.

    ``data`` is the tidy table the figure was drawn from; its ``source`` column is recorded as the
    figure's provenance, with ``data.attrs['decided_by']`` (see :mod:`cdp_analysis.output.provenance`; the
    comparator set is named for tables, whose ``area_role`` follows the schema, not for a figure's data).
    """
    if not output_dir:
        return
    for suffix, content in files.items():
        target = write_atomic(Path(output_dir) / "figures" / f"{name}{suffix}", content)
        provenance.record(output_dir, f"figures/{name}{suffix}", [] if data is None else data["source"],
                          decided_by=[] if data is None else data.attrs.get("decided_by", []))
        log.info("wrote %s", target.name)


def save_figure(fig: plt.Figure, name: str, output_dir: str | os.PathLike | None,
                data: pd.DataFrame | None = None) -> bytes:
    """Write ``figures/<name>.svg`` (and ``figures/<name>.png`` at 2× if :func:`png_wanted`) if ``output_dir`` is
    set (:func:`rendered`, :func:`write_figure`); return the SVG bytes."""
    files = rendered(fig, png=bool(output_dir) and png_wanted())
    write_figure(files, name, output_dir, data)
    return files[".svg"]


#: Comparisons worth saying in a figure's alternative text, in words.
_COMPARED = {"Better": "better than England", "Worse": "worse than England", "Similar": "similar to England",
             "Higher": "higher than England", "Lower": "lower than England"}


def data_finding(data: pd.DataFrame | None) -> str:
    """What a figure shows for the CDP, in one sentence from the tidy table it was drawn from: the CDP's figure
    in the latest period it has one (with its 95% limits and unit), England's in the same period and the
    comparison. '' where the table holds no single CDP figure for that period (several indicators or
    breakdowns: the axes then say what is drawn)."""
    from .table_html import with_limits

    if data is None or data.empty or not {"area_role", "area_name", "value", "time_period"} <= set(data.columns):
        return ""
    d = data[pd.to_numeric(data["value"], errors="coerce").notna()]
    if "sex" in d.columns and (d["sex"] == "Persons").any():
        d = d[d["sex"] == "Persons"]
    cdp = d[d["area_role"] == "cdp"]
    if cdp.empty:
        return ""
    order = "time_period_sortable" if "time_period_sortable" in cdp.columns else "time_period"
    latest = cdp.sort_values(order, kind="stable").iloc[-1]
    same = cdp[cdp["time_period"] == latest["time_period"]]
    if len(same) > 1:
        return ""

    def words(r) -> str:
        v = float(r["value"])
        digits = 0 if abs(v) >= 100 or v.is_integer() else 2 if abs(v) < 2 else 1
        lo, hi = (r.get(c) for c in ("lower_ci", "upper_ci"))
        return with_limits(v, lo if pd.notna(lo) else None, hi if pd.notna(hi) else None, digits)

    unit = f" {latest['unit']}" if "unit" in latest and isinstance(latest["unit"], str) and latest["unit"] else ""
    text = f"{latest['area_name']}, {latest['time_period']}: {words(latest)}{unit}"
    eng = d[(d["area_role"] == "england") & (d["time_period"] == latest["time_period"])]
    if "indicator_id" in d.columns:
        eng = eng[eng["indicator_id"] == latest["indicator_id"]]
    if len(eng) == 1:
        text += f"; England {words(eng.iloc[0])}"
    compared = _COMPARED.get(str(latest.get("compared_to_england", "")))
    return text + (f" ({compared})" if compared else "")


def plain(markdown: str) -> str:
    """A chapter's Markdown sentence as plain text for alternative text: list marks, emphasis and escapes
    removed, lines joined."""
    lines = [re.sub(r"^\s*[-*]\s+", "", line) for line in markdown.splitlines() if line.strip()]
    text = re.sub(r"\*\*|__|`", "", " ".join(lines))
    return re.sub(r"\\([\\`*_{}\[\]()#+\-.!<>|~])", r"\1", text).strip().rstrip(".")


def alt_text(fig: plt.Figure, data: pd.DataFrame | None = None, finding: str | None = None) -> str:
    """A description of a figure for screen readers: what it shows for the CDP (``finding``, or by default
    :func:`data_finding` of the table it was drawn from), then its title and axis labels."""
    finding = data_finding(data) if finding is None else finding
    parts = []
    for ax in fig.axes:
        bits = [ax.get_title(), f"x axis: {ax.get_xlabel()}" if ax.get_xlabel() else "",
                f"y axis: {ax.get_ylabel()}" if ax.get_ylabel() else ""]
        parts.append("; ".join(b for b in bits if b))
    return ("Chart. " + (finding + ". " if finding else "") + " | ".join(p for p in parts if p)
            + ". The numbers are in the report's tables and in the CSV files in tables/.")
