"""One store of measured text for every figure a process draws, so a label is laid out once per font and resolution.

matplotlib measures each piece of text (its width, height and descent) through ``matplotlib.text.
_get_text_metrics_with_cache``, which keeps its results per renderer. Every figure has a renderer of its own, and
measuring its box at the PNG's resolution makes another, and writing its SVG a third, so the same tick labels,
titles and source lines are laid out by FreeType again for each figure: about 1,500 layouts per CDP, the largest
single cost of the figures (docs/performance.md, "Fourth pass").

:func:`share` puts in its place a store shared by all Agg renderers (the raster renderer that lays out text for
every figure's layout and box) and all SVG renderers. Such a renderer's measure depends only on its kind, the
text, its font properties, the renderer's resolution and the font settings (``font.*`` and ``text.*`` in
``rcParams``, read when a renderer is first seen, as matplotlib's own store does), and all of these are in the
key. Mathematical text (``ismath``) is left to matplotlib. The figures are the same to the last bit
(``tests/test_text_metrics.py``).

The store is bounded (:data:`MAX_ENTRIES`): it is emptied when full, so a long batch does not grow it without
end.
"""

from __future__ import annotations

import logging
import weakref

import matplotlib as mpl
import matplotlib.text as mtext
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG

log = logging.getLogger(__name__)

#: The renderers whose measures are shared (exact types: a subclass may measure otherwise).
SHARED_RENDERERS = (RendererAgg, RendererSVG)

#: Measures kept before the store is emptied (a CDP's 18 figures need about 2,000).
MAX_ENTRIES = 50_000

_measured: dict = {}
_settings_of: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_matplotlibs = mtext._get_text_metrics_with_cache


def _font_settings() -> tuple:
    """The settings an Agg measure of plain text depends on beyond the text and its font properties."""
    return tuple(sorted((k, repr(v)) for k, v in mpl.rcParams.items() if k.startswith(("font.", "text."))))


def measure(renderer, text: str, fontprop, ismath, dpi: float) -> tuple[float, float, float]:
    """``renderer``'s (width, height, descent) of ``text`` in pixels, as ``_get_text_metrics_with_cache`` gives
    it, from the shared store for an Agg or SVG renderer (:data:`SHARED_RENDERERS`) and plain text."""
    if type(renderer) not in SHARED_RENDERERS or ismath is not False:
        return _matplotlibs(renderer, text, fontprop, ismath, dpi)
    settings = _settings_of.get(renderer)
    if settings is None:
        settings = _settings_of[renderer] = _font_settings()
    key = (type(renderer), settings, text, fontprop.copy(), renderer.dpi, dpi)  # a copy: font properties are mutable
    found = _measured.get(key)
    if found is None:
        if len(_measured) >= MAX_ENTRIES:
            _measured.clear()
        found = _measured[key] = renderer.get_text_width_height_descent(text, fontprop, ismath)
    return found


def share() -> None:
    """Measure text through :func:`measure` from now on in this process (idempotent)."""
    if mtext._get_text_metrics_with_cache is not measure:
        mtext._get_text_metrics_with_cache = measure
        log.debug("text measures shared across figures")


def clear() -> None:
    """Empty the store (tests)."""
    _measured.clear()
