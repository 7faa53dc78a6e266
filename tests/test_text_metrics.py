"""One store of measured text for every figure (cdp_analysis.output.text_metrics): the same figures, fewer layouts."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.text as mtext
import pytest
from conftest import chapter_figures
from matplotlib.backends.backend_agg import RendererAgg

from cdp_analysis.output import figures, text_metrics


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


@pytest.mark.parametrize("slug", ["isles-of-scilly"])
def test_every_chapter_figure_is_the_same_with_the_shared_store_as_with_matplotlibs_own(slug, monkeypatch):
    """Each figure drawn and saved with the shared store, after other figures filled it, gives the SVG that
    matplotlib's own store (one per renderer) gives."""
    compared = 0
    for name, draw in chapter_figures(slug):
        shared = figures.rendered(draw(), png=False)[".svg"]
        with monkeypatch.context() as m:
            m.setattr(mtext, "_get_text_metrics_with_cache", text_metrics._matplotlibs)
            own = figures.rendered(draw(), png=False)[".svg"]
        assert shared == own, name
        compared += 1
        plt.close("all")
    assert compared >= 15
