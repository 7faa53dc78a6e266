"""One store of measured text for every figure (cdp_analysis.output.text_metrics) and of shaped SVG text
(cdp_analysis.output.glyph_outlines): the same figures, fewer layouts."""

from __future__ import annotations

import re
from collections import OrderedDict

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.text as mtext
import numpy as np
import pytest
from conftest import chapter_figures
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.backends.backend_svg import RendererSVG
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from cdp_analysis.output import figures, glyph_outlines, text_metrics


@pytest.fixture
def counted(monkeypatch):
    """How many times an Agg renderer laid out each text."""
    calls = []
    real = RendererAgg.get_text_width_height_descent

    def count(self, s, prop, ismath):
        calls.append(s)
        return real(self, s, prop, ismath)

    monkeypatch.setattr(RendererAgg, "get_text_width_height_descent", count)
    text_metrics.clear()
    yield calls
    text_metrics.clear()


def _labelled(label: str) -> plt.Figure:
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xlabel(label)
    ax.set_title("A title")
    return fig


def test_style_shares_the_store_and_a_label_is_laid_out_once_for_every_figure(counted):
    figures.style()
    assert mtext._get_text_metrics_with_cache is text_metrics.measure
    for _ in range(3):
        fig = _labelled("Deaths per 100,000 people")
        figures.tight_bbox(fig)  # a renderer of its own at the PNG's resolution, for each figure
        plt.close(fig)
    assert counted.count("Deaths per 100,000 people") == 1


def test_other_font_settings_are_measured_again(counted):
    figures.style()
    fig = _labelled("Registered deaths")
    figures.tight_bbox(fig)
    plt.close(fig)
    with mpl.rc_context({"text.hinting": "no_hinting"}):
        fig = _labelled("Registered deaths")
        figures.tight_bbox(fig)
        plt.close(fig)
    assert counted.count("Registered deaths") == 2


def test_mathematical_text_and_other_renderers_are_left_to_matplotlib(monkeypatch):
    seen = []
    monkeypatch.setattr(text_metrics, "_matplotlibs", lambda *args: seen.append(args[1]) or (1.0, 1.0, 0.0))

    class Other:
        dpi = 100

    prop = mpl.font_manager.FontProperties(size=10)
    text_metrics.measure(Other(), "plain", prop, False, 100)
    fig = plt.figure()
    text_metrics.measure(fig.canvas.get_renderer(), "$x^2$", prop, True, 100)
    assert seen == ["plain", "$x^2$"]
    plt.close(fig)


def test_the_store_is_emptied_when_full(counted, monkeypatch):
    figures.style()
    monkeypatch.setattr(text_metrics, "MAX_ENTRIES", 5)
    fig = plt.figure()
    renderer = fig.canvas.get_renderer()
    prop = mpl.font_manager.FontProperties(size=10)
    for i in range(12):
        text_metrics.measure(renderer, f"label {i}", prop, False, fig.dpi)
    assert 0 < len(text_metrics._measured) <= 5
    plt.close(fig)


@pytest.fixture
def laid_out(monkeypatch):
    """The texts matplotlib itself laid out (``Text._get_layout``) with the layout store in use."""
    calls = []
    real = text_metrics._matplotlibs_layout

    def count(text, renderer):
        calls.append(text.get_text())
        return real(text, renderer)

    monkeypatch.setattr(text_metrics, "_matplotlibs_layout", count)
    text_metrics.clear()
    figures.style()
    yield calls
    text_metrics.clear()


def test_a_label_is_laid_out_once_for_every_figure_at_a_resolution(laid_out):
    assert mtext.Text._get_layout is text_metrics.layout
    for _ in range(3):
        fig = _labelled("Deaths per 100,000 people")
        figures.tight_bbox(fig)  # at the PNG's resolution
        figures.svg_bytes(fig)   # the SVG writer's own
        plt.close(fig)
    assert laid_out.count("Deaths per 100,000 people") == 2


@pytest.mark.parametrize("change", [{"rotation": 30}, {"ha": "right"}, {"va": "top"}, {"linespacing": 2.0},
                                    {"rotation_mode": "anchor"}, {"multialignment": "right"}, {"fontsize": 13}])
def test_a_text_placed_or_set_otherwise_is_laid_out_afresh_and_as_matplotlib_lays_it_out(laid_out, change):
    fig = plt.figure(figsize=(4, 3))
    renderer = fig.canvas.get_renderer()
    plain = fig.text(0.5, 0.5, "Two lines\nof text")
    other = fig.text(0.5, 0.5, "Two lines\nof text", **change)
    for text in (plain, other, plain, other):
        text.get_window_extent(renderer)
    assert laid_out.count("Two lines\nof text") == 2
    box, lines, corner = text_metrics.layout(other, renderer)
    own_box, own_lines, own_corner = text_metrics._matplotlibs_layout(other, renderer)
    assert (box.bounds, lines, corner) == (own_box.bounds, own_lines, own_corner)
    plt.close(fig)


def test_a_wrapped_text_is_laid_out_for_its_figures_width(laid_out):
    words = "Source: a long line of sources that wraps onto as many lines as the figure's width needs " * 3
    sizes = []
    for width in (4, 8, 4):
        fig = plt.figure(figsize=(width, 3))
        text = fig.text(0.01, 0.01, words, wrap=True)
        box = text.get_window_extent(fig.canvas.get_renderer())
        own = text_metrics._matplotlibs_layout(text, fig.canvas.get_renderer())[0]
        assert tuple(box.size) == tuple(own.size)
        sizes.append(box.height)
        plt.close(fig)
    assert sizes[0] > sizes[1] and sizes[0] == sizes[2]


def test_a_box_from_the_store_is_the_callers_own(laid_out):
    fig = plt.figure()
    renderer = fig.canvas.get_renderer()
    text = fig.text(0.2, 0.2, "Registered deaths")
    first, lines, _ = text_metrics.layout(text, renderer)
    first.set_points(np.zeros((2, 2)))  # a caller changing its box
    lines.clear()
    again, lines_again, _ = text_metrics.layout(text, renderer)
    assert again.width > 0 and len(lines_again) == 1
    plt.close(fig)


def test_text_with_a_character_its_font_lacks_is_laid_out_each_time(laid_out):
    fig = plt.figure()
    renderer = fig.canvas.get_renderer()
    text = fig.text(0.2, 0.2, "\u4e2d\u6587 label")  # no CJK in DejaVu Sans: matplotlib warns at each layout
    with pytest.warns(UserWarning):
        text.get_window_extent(renderer)
    with pytest.warns(UserWarning):
        text.get_window_extent(renderer)
    assert laid_out.count("\u4e2d\u6587 label") == 2
    plt.close(fig)


@pytest.mark.parametrize("slug", ["isles-of-scilly"])
def test_every_chapter_figure_is_the_same_with_the_shared_stores_as_with_matplotlibs_own(slug, monkeypatch):
    """Each figure drawn and saved with the shared stores (measures, layouts and SVG glyphs), after other figures
    filled them, and again once it filled them itself, gives the SVG that matplotlib's own (one store per renderer,
    every text laid out afresh, glyphs shaped afresh in each file) gives."""
    compared = 0
    for name, draw in chapter_figures(slug):
        shared = figures.rendered(draw(), png=False)
        again = figures.rendered(draw(), png=False)  # every measure and layout now read from the stores
        with monkeypatch.context() as m:
            m.setattr(mtext, "_get_text_metrics_with_cache", text_metrics._matplotlibs)
            m.setattr(mtext.Text, "_get_layout", text_metrics._matplotlibs_layout)
            m.setattr(TextToPath, "get_glyphs_with_font", glyph_outlines._matplotlibs)
            own = figures.rendered(draw(), png=False)
        assert shared == own, name
        assert again == own, name
        compared += 1
        plt.close("all")
    assert compared >= 15


@pytest.fixture
def shaped(monkeypatch):
    """The texts matplotlib itself shaped (through the store) and the texts an SVG renderer measured."""
    seen = {"shaped": [], "measured": []}
    real_shape, real_measure = glyph_outlines._matplotlibs, RendererSVG.get_text_width_height_descent

    def shape(self, font, s, *args, **kwargs):
        seen["shaped"].append(s)
        return real_shape(self, font, s, *args, **kwargs)

    def measure(self, s, prop, ismath):
        seen["measured"].append(s)
        return real_measure(self, s, prop, ismath)

    monkeypatch.setattr(glyph_outlines, "_matplotlibs", shape)
    monkeypatch.setattr(RendererSVG, "get_text_width_height_descent", measure)
    glyph_outlines.clear()
    text_metrics.clear()
    yield seen
    glyph_outlines.clear()
    text_metrics.clear()


def test_a_label_is_shaped_and_measured_once_for_every_svg_and_each_file_still_defines_its_glyphs(shaped):
    figures.style()
    assert TextToPath.get_glyphs_with_font is glyph_outlines.glyphs
    files = []
    for _ in range(3):
        fig = _labelled("Deaths per 100,000 people")
        files.append(figures.svg_bytes(fig).decode())
        plt.close(fig)
    assert shaped["shaped"].count("Deaths per 100,000 people") == 1
    assert shaped["measured"].count("Deaths per 100,000 people") == 1
    for svg in files:  # every glyph a file uses is defined in that file
        used = set(re.findall(r'xlink:href="#(DejaVuSans-[0-9a-f]+)"', svg))
        defined = set(re.findall(r'<path id="(DejaVuSans-[0-9a-f]+)"', svg))
        assert used and used <= defined
    assert files[0] == files[1] == files[2]


@pytest.mark.parametrize("only_new", [True, False])
def test_the_glyphs_given_are_matplotlibs_own_with_a_file_half_filled(only_new):
    """Names, positions and order of the glyphs, and the outlines new to the file, as matplotlib gives them, for a
    text with repeated letters, when the file already holds some of its glyphs."""
    text2path = TextToPath()
    font = text2path._get_font(FontProperties(family="DejaVu Sans", size=11))
    glyph_outlines.clear()

    def call(fn):
        glyph_map = OrderedDict()
        fn(text2path, font, "Barnet", glyph_map, False)  # the file already holds B, a, r, n, e, t
        return glyph_map, fn(text2path, font, "Barnsley and Bassetlaw", glyph_map, only_new)

    mine_map, (mine_info, mine_new, mine_rects) = call(glyph_outlines.glyphs)
    own_map, (own_info, own_new, own_rects) = call(glyph_outlines._matplotlibs)
    assert mine_info == own_info and mine_rects == own_rects == []
    assert list(mine_new) == list(own_new) and list(mine_map) == list(own_map)
    for name, (vertices, codes) in own_new.items():
        np.testing.assert_array_equal(mine_new[name][0], vertices)
        np.testing.assert_array_equal(mine_new[name][1], codes)


def test_kept_outlines_cannot_be_changed_and_the_store_is_emptied_when_full(monkeypatch):
    text2path = TextToPath()
    font = text2path._get_font(FontProperties(size=10))
    glyph_outlines.clear()
    monkeypatch.setattr(glyph_outlines, "MAX_ENTRIES", 5)
    _, new, _ = glyph_outlines.glyphs(text2path, font, "England", None, True)
    vertices, _ = next(iter(new.values()))
    with pytest.raises(ValueError):
        vertices[0, 0] = 1.0
    for i in range(12):
        glyph_outlines.glyphs(text2path, font, f"label {i}", None, True)
    assert 0 < len(glyph_outlines._shaped) <= 5
    glyph_outlines.clear()


def test_a_glyph_outline_is_kept_once_for_every_text_of_its_font():
    text2path = TextToPath()
    font = text2path._get_font(FontProperties(size=10))
    glyph_outlines.clear()
    _, first, _ = glyph_outlines.glyphs(text2path, font, "Rutland", None, True)
    _, second, _ = glyph_outlines.glyphs(text2path, font, "Rotherham", None, True)
    shared = set(first) & set(second)
    assert shared and all(first[name] is second[name] for name in shared)
    glyph_outlines.clear()


def test_a_text_with_a_character_its_font_lacks_is_not_kept_so_matplotlib_warns_in_every_figure(shaped):
    """matplotlib warns of a character its font lacks when it measures the text; such a text is neither measured
    from the store nor shaped from it, so every figure that draws it warns, as before the stores."""
    figures.style()
    for _ in range(2):
        fig = _labelled("Area \u4e00")
        with pytest.warns(UserWarning, match="missing from font"):
            figures.svg_bytes(fig)
        plt.close(fig)
    assert shaped["shaped"].count("Area \u4e00") == 2 and shaped["measured"].count("Area \u4e00") == 2
    assert not any(key[1] == "Area \u4e00" for key in glyph_outlines._shaped)
