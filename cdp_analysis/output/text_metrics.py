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
_settings_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_matplotlibs = mtext._get_text_metrics_with_cache


def _font_settings() -> tuple:
    """The settings an Agg measure of plain text depends on beyond the text and its font properties."""
    return tuple(sorted((k, repr(v)) for k, v in mpl.rcParams.items() if k.startswith(("font.", "text."))))


def measure(renderer, text: str, fontprop, ismath, dpi: float) -> tuple[float, float, float]:
    """``renderer``'s (width, height, descent) of ``text``, as ``_get_text_metrics_with_cache`` gives it, from the
    shared store for plain text measured by an Agg renderer (in pixels) or an SVG writer (in points)."""
    if ismath is not False:
        return _matplotlibs(renderer, text, fontprop, ismath, dpi)
    kind = type(renderer)
    if kind is RendererAgg:
        at = (renderer.dpi, dpi)
    elif kind is MixedModeRenderer and type(renderer._renderer) is RendererSVG:
        at = "svg"  # TextToPath measures at a fixed size and resolution, whatever the figure's
    else:
        return _matplotlibs(renderer, text, fontprop, ismath, dpi)
    settings = _settings_of.get(renderer)
    if settings is None:
        settings = _settings_of[renderer] = _font_settings()
    key = (at, settings, text, fontprop.copy())  # a copy: font properties are mutable
    found = _measured.get(key)
    if found is None:
        found = renderer.get_text_width_height_descent(text, fontprop, ismath)
        if text.isascii() or _has_every_character(text, fontprop):
            if len(_measured) >= MAX_ENTRIES:
                _measured.clear()
            _measured[key] = found
    return found


def _has_every_character(text: str, fontprop) -> bool:
    """Whether the face of ``fontprop``'s font (not its fallbacks) has every character of ``text``."""
    from matplotlib.font_manager import fontManager, get_font

    font = get_font(fontManager._find_fonts_by_props(fontprop))
    return all(font.get_char_index(ord(ch)) for ch in set(text) if not ch.isspace())


def share() -> None:
    """Measure text through :func:`measure` from now on in this process (idempotent)."""
    if mtext._get_text_metrics_with_cache is not measure:
        mtext._get_text_metrics_with_cache = measure
        log.debug("text measures shared across figures")


def clear() -> None:
    """Empty the store (tests)."""
    _measured.clear()
