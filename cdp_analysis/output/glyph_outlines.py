"""One store of laid-out text outlines for every SVG a process writes, so a label is shaped once, not once per file.

The suite's SVGs draw text as paths (the reader's fonts cannot change a label's width). For each piece of text
matplotlib's SVG writer asks ``TextToPath.get_glyphs_with_font`` for its glyphs: the text is shaped by FreeType and
HarfBuzz (``_layout``), each glyph is loaded and its outline read, and the outlines not yet in the file are
written once into its ``<defs>``. Nothing of this is kept between files, so the same tick labels, axis titles,
area names and source lines were shaped again in every figure of every CDP: about a third of the time of writing a
CDP's SVGs (docs/performance.md, "Fifth pass").

:func:`share` puts :func:`glyphs` in its place: each text's glyph names, positions and outlines are kept by the
font object, the text and the font features and language matplotlib passes, and each call gives the glyphs new to
the file exactly as matplotlib's own method would (same names, same order, same outlines). The key is complete
because matplotlib gives this method only fonts from ``TextToPath._get_font``, which sets every font to the same
size (``FONT_SCALE`` at ``DPI``) just before, and shapes without hinting; the font object stands for its file(s),
fallbacks and kerning. Keeping the font object in the key keeps it alive, so its identity is never reused. The
outlines kept are read-only arrays, one per font and glyph whichever texts use it, so a caller that tried to change
one would fail instead of changing another file. A text with a glyph its fonts lack (matplotlib warns, and draws
the font's empty glyph) is not kept: it is shaped, and warned about, each time, as before. The SVGs are the same
to the last bit (``tests/test_text_metrics.py``).

The store is bounded (:data:`MAX_ENTRIES` texts; with the outlines of one font's glyphs kept once, a few MB) and
emptied when full; it assumes one thread, as a kernel runs a notebook.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

from matplotlib.textpath import TextToPath

log = logging.getLogger(__name__)

#: Texts kept before the store is emptied (a CDP's figures hold about 1,700; an entry is its glyphs' names and
#: positions, the outlines being kept once per font and glyph in ``_outlines``).
MAX_ENTRIES = 10_000

_shaped: dict = {}
_outlines: dict = {}
_matplotlibs = TextToPath.get_glyphs_with_font


def glyphs(self: TextToPath, font, s: str, glyph_map=None, return_new_glyphs_only: bool = False, *,
           features=None, language=None):
    """``TextToPath.get_glyphs_with_font`` from the shared store: ``(glyph_info, glyph_map_new, rects)``.

    ``glyph_info`` lists ``(glyph name, x, y, scale)`` for each glyph of ``s``; ``glyph_map_new`` maps the name of
    each glyph not in ``glyph_map`` to its outline ``(vertices, codes)``, in first-seen order (with
    ``return_new_glyphs_only`` false, ``glyph_map`` itself, updated); ``rects`` is empty for plain text.
    """
    try:
        key = (font, s, features, language)
        found = _shaped.get(key)
    except TypeError:  # features or language given as something unhashable
        return _matplotlibs(self, font, s, glyph_map, return_new_glyphs_only, features=features, language=language)
    if found is None:
        info, outlines, _ = _matplotlibs(self, font, s, None, False, features=features, language=language)
        found = (tuple(info), outlines)
        if not any(_missing(name) for name in outlines):  # (matplotlib warned: not kept, so it warns next time too)
            if len(_shaped) >= MAX_ENTRIES:
                _shaped.clear()
                _outlines.clear()
            found = _shaped[key] = (found[0], {name: _outlines.setdefault((font, name), _read_only(outline))
                                               for name, outline in outlines.items()})
    info, outlines = found
    if glyph_map is None:
        glyph_map = OrderedDict()
    new = OrderedDict() if return_new_glyphs_only else glyph_map
    for name, *_ in info:
        if name not in glyph_map:
            new[name] = outlines[name]
    return list(info), new, []


def _missing(name: str) -> bool:
    """Whether a glyph name (matplotlib's ``<font>-<glyph index in hex>``) is a font's empty glyph (index 0), or
    the last-resort font's, which matplotlib draws for a character none of its fonts has."""
    return name.endswith("-0") or name.startswith("LastResort")


def _read_only(outline: tuple) -> tuple:
    vertices, codes = outline
    vertices.flags.writeable = False
    codes.flags.writeable = False
    return outline


def share() -> None:
    """Shape SVG text through :func:`glyphs` from now on in this process (idempotent)."""
    if TextToPath.get_glyphs_with_font is not glyphs:
        TextToPath.get_glyphs_with_font = glyphs
        log.debug("glyph outlines shared across SVG files")


def clear() -> None:
    """Empty the store (tests)."""
    _shaped.clear()
    _outlines.clear()
