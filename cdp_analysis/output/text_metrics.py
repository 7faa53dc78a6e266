"""One store of measured text for every figure a process draws, so a label is laid out once per font and resolution.

matplotlib measures each piece of text (its width, height and descent) through ``matplotlib.text.
_get_text_metrics_with_cache``, which keeps its results per renderer. Every figure has a renderer of its own, and
measuring its box at the PNG's resolution makes another, so the same tick labels, titles and source lines were
laid out by FreeType again for each figure: about 1,500 layouts per CDP, the largest single cost of the figures
(docs/performance.md, "Fourth pass").

:func:`share` puts in its place a store shared by all Agg renderers (the raster renderer that measures text for
every figure's layout and saved area) and all SVG writers (matplotlib's mixed-mode wrapper around the SVG renderer,
which measures the text again as it writes each file). An Agg renderer's measure of plain text depends only on the
text, its font properties, the renderer's resolution and the font settings (``font.*`` and ``text.*`` in
``rcParams``); the SVG renderer's (``TextToPath.get_text_width_height_descent``, in points) on the text, its font
properties and the font settings. All of these, and the kind of renderer, are in the key. The font settings are
read when a renderer is first seen: a renderer kept while they change would file its later measures under the
earlier settings. The suite sets its style before it draws
(:func:`cdp_analysis.output.figures.style`) and each figure makes its renderers afresh. Mathematical text
(``ismath``) and other renderers are left to matplotlib. The figures are the same to the last bit
(``tests/test_text_metrics.py``). matplotlib warns of a character its fonts lack when it measures the text; so that
it warns in every notebook as before, a text with a character outside ASCII that its font's own face lacks is not
kept (measured by matplotlib each time; ASCII is in every font matplotlib offers, DejaVu Sans among them).

:func:`layout` keeps, in a second store, what matplotlib makes of those measures: a text's lines, their places and
its box (``Text._get_layout``), which every layout pass, saved-area measure and draw asks for again (about 3,000
times a CDP, a tenth of a millisecond each: the font's height read from its tables, the lines placed, the box
turned and aligned). A layout depends on the text as wrapped, its font properties, the renderer's kind and
resolution (through the measures above), the figure's resolution, the font settings, and the text's line spacing,
alignments and rotation; all of these are its key, so it is the same to the last bit.

:mod:`cdp_analysis.output.glyph_outlines` keeps the shapes the SVG writer then draws. The store is bounded
(:data:`MAX_ENTRIES`, about 7 MB): it is emptied when full, so a long batch does not grow it without end. It
assumes one thread, as a kernel runs a notebook.
"""

from __future__ import annotations

import logging
import weakref

import matplotlib as mpl
import matplotlib.text as mtext
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import RendererSVG

log = logging.getLogger(__name__)

#: Measures kept before the store is emptied (a CDP's 18 figures need one to two thousand; an entry is about 0.7 kB).
MAX_ENTRIES = 10_000

_measured: dict = {}
_laid_out: dict = {}
_settings_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_matplotlibs = mtext._get_text_metrics_with_cache
_matplotlibs_layout = mtext.Text._get_layout


def _font_settings() -> tuple:
    """The settings an Agg measure of plain text depends on beyond the text and its font properties."""
    return tuple(sorted((k, repr(v)) for k, v in mpl.rcParams.items() if k.startswith(("font.", "text."))))


def measure(renderer, text: str, fontprop, ismath, dpi: float) -> tuple[float, float, float]:
    """``renderer``'s (width, height, descent) of ``text``, as ``_get_text_metrics_with_cache`` gives it, from the
    shared store for plain text measured by an Agg renderer (in pixels) or an SVG writer (in points)."""
    at = _renderer_kind(renderer) if ismath is False else None
    if at is None:
        return _matplotlibs(renderer, text, fontprop, ismath, dpi)
    # an SVG writer measures at a fixed resolution; a copy of the font properties, which are mutable
    key = (at if at == "svg" else (at, dpi), _settings(renderer), text, fontprop.copy())
    found = _measured.get(key)
    if found is None:
        found = renderer.get_text_width_height_descent(text, fontprop, ismath)
        _keep(_measured, key, found, text, fontprop)
    return found


def layout(self: mtext.Text, renderer):
    """``Text._get_layout`` (the text's box, its lines with their sizes and places, the box before rotation), from
    the shared store for plain text laid out by an Agg renderer or an SVG writer.

    The key (see the module's notes) holds the text as wrapped (matplotlib wraps a ``wrap=True`` text to the
    figure), so a text laid out again after its figure or place changed finds its own layout. TeX and mathematical
    text are left to matplotlib. Callers get their own box (:meth:`Bbox.frozen`) and list of lines.
    """
    at = _renderer_kind(renderer)
    if at is None or self.get_usetex():
        return _matplotlibs_layout(self, renderer)
    text = self._get_wrapped_text()
    if "$" in text and self.get_parse_math():
        return _matplotlibs_layout(self, renderer)
    fontprop = self._fontproperties
    key = (at, _settings(renderer), self.get_figure(root=True).dpi, text, fontprop.copy(), self._linespacing,
           self._get_multialignment(), self.get_rotation(), self.get_rotation_mode(), self._horizontalalignment,
           self._verticalalignment)
    found = _laid_out.get(key)
    if found is None:
        found = _matplotlibs_layout(self, renderer)
        _keep(_laid_out, key, found, text, fontprop)
    box, lines, corner = found
    return box.frozen(), list(lines), corner


def _renderer_kind(renderer):
    """What a measure depends on of ``renderer``: an Agg renderer's resolution (it measures in pixels), 'svg' for an
    SVG writer (TextToPath measures at a fixed size and resolution, whatever the figure's), None for any other."""
    kind = type(renderer)
    if kind is RendererAgg:
        return renderer.dpi
    if kind is MixedModeRenderer and type(renderer._renderer) is RendererSVG:
        return "svg"
    return None


def _settings(renderer) -> tuple:
    """The font settings, as they were when ``renderer`` was first seen."""
    settings = _settings_of.get(renderer)
    if settings is None:
        settings = _settings_of[renderer] = _font_settings()
    return settings


def _keep(store: dict, key, value, text: str, fontprop) -> None:
    """Keep ``value`` under ``key`` unless ``text`` has a character its font's own face lacks (matplotlib then warns
    each time it lays the text out); empty ``store`` first when it holds :data:`MAX_ENTRIES`."""
    if text.isascii() or _has_every_character(text, fontprop):
        if len(store) >= MAX_ENTRIES:
            store.clear()
        store[key] = value


def _has_every_character(text: str, fontprop) -> bool:
    """Whether the face of ``fontprop``'s font (not its fallbacks) has every character of ``text``."""
    from matplotlib.font_manager import fontManager, get_font

    font = get_font(fontManager._find_fonts_by_props(fontprop))
    return all(font.get_char_index(ord(ch)) for ch in set(text) if not ch.isspace())


def share() -> None:
    """Measure and lay out text through :func:`measure` and :func:`layout` from now on in this process
    (idempotent)."""
    if mtext._get_text_metrics_with_cache is not measure:
        mtext._get_text_metrics_with_cache = measure
        log.debug("text measures shared across figures")
    if mtext.Text._get_layout is not layout:
        mtext.Text._get_layout = layout
        log.debug("text layouts shared across figures")


def clear() -> None:
    """Empty the stores (tests)."""
    _measured.clear()
    _laid_out.clear()
