"""Chart style: colour-blind-safe categories, WCAG 2.2 non-text contrast for every mark, CDP and England told apart."""

from __future__ import annotations

import contextlib

import matplotlib.artist as martist
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from conftest import chapter_figures
from matplotlib.colors import to_hex

from cdp_analysis import memo
from cdp_analysis.chapters import all_chapters, partnerships, population_profile
from cdp_analysis.output import figures, notebook


def test_contrast_ratio_matches_wcag_reference_values():
    assert figures.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert figures.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert figures.contrast_ratio("#767676") == pytest.approx(4.54, abs=0.01)  # the usual 4.5:1 grey on white


@pytest.mark.parametrize("name", ["CDP_COLOUR", "ENGLAND_COLOUR", "REGION_COLOUR", "COMPARATOR_COLOUR", "MALE_COLOUR",
                                  "FEMALE_COLOUR"])
def test_named_colours_have_3_to_1_contrast(name):
    assert figures.contrast_ratio(getattr(figures, name)) >= 3.0


def test_qualitative_palette_is_okabe_ito_with_3_to_1_contrast():
    assert set(figures.QUALITATIVE) <= set(figures.OKABE_ITO.values())
    assert all(figures.contrast_ratio(c) >= 3.0 for c in figures.QUALITATIVE)
    assert figures.QUALITATIVE[0] == figures.CDP_COLOUR
    assert len(set(figures.QUALITATIVE)) == len(figures.QUALITATIVE)


def _marks(fig):
    """(colour, what) of every filled bar and every line in the figure's axes."""
    for ax in fig.axes:
        for patch in ax.patches:
            face = to_hex(patch.get_facecolor(), keep_alpha=False)
            if patch.get_fill() and face != "#ffffff":
                assert patch.get_facecolor()[3] == 1.0, "no transparency: it lowers the contrast"
                yield face, "bar"
            else:
                yield to_hex(patch.get_edgecolor(), keep_alpha=False), "outline"
        for line in ax.get_lines():
            if line.get_label().startswith("_") and line.get_color() in ("grey", "gray"):
                continue  # the zero axis line
            yield to_hex(line.get_color(), keep_alpha=False), "line"


@pytest.mark.parametrize("slug", ["nottinghamshire", "northamptonshire"])
def test_every_mark_of_every_chapter_figure_has_3_to_1_contrast(slug):
    figures.style()
    cdp = partnerships.get(slug)
    for chapter in all_chapters().values():
        tables = chapter.build(cdp)
        for name, draw in chapter.figures.items():
            item = draw(tables)
            fig = item.drawn()
            assert fig.axes[0].get_title() and fig.axes[0].get_xlabel(), name
            for colour, what in _marks(fig):
                assert figures.contrast_ratio(colour) >= 3.0, f"{name}: a {what} in {colour}"
            assert item.name == name
            plt.close(fig)


def test_england_is_distinguishable_without_colour():
    figures.style()
    prof = population_profile.build(partnerships.get("nottinghamshire"))
    change = population_profile.change_figure(prof).figure
    hatched = [p for p in change.axes[0].patches if p.get_hatch()]
    assert hatched and all(to_hex(p.get_edgecolor(), keep_alpha=False) == figures.ENGLAND_COLOUR for p in hatched)
    pyramid = population_profile.pyramid_figure(prof).figure
    assert [ln.get_linestyle() for ln in pyramid.axes[0].get_lines() if "England" in ln.get_label()] == ["--"]
    plt.close("all")


def test_figures_are_written_as_svg_and_a_2x_png_only_when_asked_for(tmp_path, monkeypatch):
    figures.style()
    prof = population_profile.build(partnerships.get("nottinghamshire"))
    item = population_profile.pyramid_figure(prof)
    monkeypatch.delenv(figures.PNG_ENV, raising=False)
    shown = figures.save_figure(item.figure, item.name, tmp_path / "svg-only", data=item.data)
    assert sorted(p.name for p in (tmp_path / "svg-only" / "figures").iterdir()) == [f"{item.name}.svg"]
    monkeypatch.setenv(figures.PNG_ENV, "1")
    figures.save_figure(item.figure, item.name, tmp_path, data=item.data)
    png = (tmp_path / "figures" / f"{item.name}.png").read_bytes()
    svg = (tmp_path / "figures" / f"{item.name}.svg").read_text()
    assert shown.decode() == svg  # what a notebook displays is the file
    width = int.from_bytes(png[16:20], "big")
    assert width >= item.figure.get_figwidth() * figures.SCREEN_DPI * figures.PNG_SCALE * 0.9
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and "<dc:date>" not in svg
    again = figures.svg_bytes(item.figure)
    assert again.decode() == svg  # no dates or random ids
    plt.close("all")


def test_measuring_the_saved_area_once_gives_matplotlibs_tight_png(tmp_path, monkeypatch):
    """save_figure measures the tight box once for both files; the PNG is what bbox_inches="tight" gives."""
    import io

    from cdp_analysis.chapters import prevalence

    figures.style()
    # a wide title and a long rotated label: its tight box depends on the resolution text is measured at
    item = prevalence.series_figure(prevalence.build(partnerships.get("kent")))
    fig = item.drawn()
    monkeypatch.setenv(figures.PNG_ENV, "1")
    figures.save_figure(fig, item.name, tmp_path, data=item.data)
    png = (tmp_path / "figures" / f"{item.name}.png").read_bytes()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=figures.SCREEN_DPI * figures.PNG_SCALE, bbox_inches="tight",
                        metadata={"Software": None})
    assert png == buf.getvalue()
    assert fig.get_dpi() == figures.SCREEN_DPI  # measuring at the PNG's resolution is undone
    plt.close("all")


def _box_after_a_dry_draw(fig: plt.Figure):
    """The saved area as savefig's "tight" measures it, with its dry draw first, at the PNG's resolution."""
    screen = fig.get_dpi()
    fig.set_dpi(figures.SCREEN_DPI * figures.PNG_SCALE)
    try:
        fig.draw_without_rendering()
        return fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    finally:
        fig.set_dpi(screen)


@pytest.mark.parametrize("slug", ["nottinghamshire", "isles-of-scilly"])
def test_the_box_measured_without_a_dry_draw_is_the_box_measured_after_one_for_every_chapter_figure(slug):
    """tight_bbox measures without the dry draw savefig makes first; on every chapter's every figure (legends,
    wrapped titles and sources, rotated labels) the box is the same to the last bit, and so is the SVG."""
    drawn = 0
    for name, draw in chapter_figures(slug):
        fig, fresh = draw(), draw()  # the reference measured on a figure of its own
        for f in (fig, fresh):
            figures.wrap_long_titles(f)
        ours = figures.tight_bbox(fig)
        drawn_first = _box_after_a_dry_draw(fresh)
        assert ours.bounds == drawn_first.bounds, name
        assert figures.svg_bytes(fig, ours) == figures.svg_bytes(fresh, drawn_first), name
        drawn += 1
        plt.close(fig)
        plt.close(fresh)
    assert drawn >= 15


def _constrained() -> plt.Figure:
    fig, ax = plt.subplots(layout="constrained")
    ax.set_ylabel("a long label " * 3)
    return fig


def _expanding_legend() -> plt.Figure:
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot([1, 2], [1, 2], label="CDP")
    ax.plot([1, 2], [2, 1], label="England")
    ax.legend(mode="expand", ncols=2, loc="lower left", bbox_to_anchor=(0, 1.02, 1.5, 0.2))  # wider than the axes
    fig.tight_layout()
    return fig


@pytest.mark.parametrize("make", [_constrained, _expanding_legend])
def test_a_figure_placed_at_draw_is_drawn_before_its_box_is_measured(make):
    """Constrained layout and an 'expand' legend move at each draw, where get_tightbbox alone would measure a box
    too small (and savefig would clip the figure): such a figure still gets its dry draw."""
    figures.style()
    assert figures.tight_bbox(make()).bounds == _box_after_a_dry_draw(make()).bounds
    plt.close("all")


def _titled(title: str) -> plt.Figure:
    figures.style()
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(["a", "b"], [1, 2])
    ax.set_title(title)
    fig.tight_layout()
    return fig


def test_a_title_wider_than_its_figure_wraps_and_one_that_fits_is_left_alone():
    """A 120-character CDP name in a title wraps onto more lines instead of widening the saved figure."""
    name = ("Rutland and a very long partnership name " * 3)[:120]
    wide = _titled(f"Alcohol dependence, 2017/18: {name} and its comparator areas")
    width_before = figures.tight_bbox(wide).width
    assert figures.wrap_long_titles(wide) == 1
    assert figures.tight_bbox(wide).width < 0.6 * width_before
    assert figures.tight_bbox(wide).width <= wide.get_figwidth() + 0.5
    short = _titled("Alcohol dependence, 2017/18: Rutland")
    before = figures.png_bytes(short)
    assert figures.wrap_long_titles(short) == 0 and figures.png_bytes(short) == before
    plt.close("all")


@pytest.mark.parametrize("slug", ["northamptonshire"])
def test_laying_out_with_each_extent_measured_once_is_matplotlibs_tight_layout_for_every_chapter_figure(slug,
                                                                                                       monkeypatch):
    """figures.lay_out reads matplotlib's second measure of each Axes from its first: every chapter figure comes
    out with the same Axes positions, to the last bit, and the same SVG as with matplotlib measuring twice."""
    drawn = 0
    for name, draw in chapter_figures(slug):
        ours = draw()
        with monkeypatch.context() as m:
            m.setattr(figures, "_each_extent_measured_once", contextlib.nullcontext)
            theirs = draw()
        assert [ax.get_position().bounds for ax in ours.axes] == \
               [ax.get_position().bounds for ax in theirs.axes], name
        assert figures.svg_bytes(ours) == figures.svg_bytes(theirs), name
        drawn += 1
        plt.close(ours)
        plt.close(theirs)
    assert drawn >= 15


def _grid(rect=None, measured_once=True) -> tuple[plt.Figure, int]:
    """A 2×2 grid with a suptitle, a twin axis, an equal-aspect Axes and long labels, laid out; and how many times
    an Axes' extent was measured."""
    figures.style()
    fig, axes = plt.subplots(2, 2, figsize=(8, 6))
    fig.suptitle("A suptitle")
    axes[0, 0].set_ylabel("a long label on the left " * 2)
    axes[0, 0].twinx().set_ylabel("the twin's label")
    axes[1, 1].set_aspect("equal")
    axes[1, 0].set_xticks(range(5), [f"category {i}" for i in range(5)], rotation=45)
    measures = []
    real = martist._get_tightbbox_for_layout_only

    def counted(obj, *args, **kwargs):
        measures.append(obj)
        return real(obj, *args, **kwargs)

    martist._get_tightbbox_for_layout_only = counted
    try:
        if measured_once:
            figures.lay_out(fig, rect=rect)
        else:
            fig.tight_layout(rect=rect) if rect is not None else fig.tight_layout()
    finally:
        martist._get_tightbbox_for_layout_only = real
    return fig, sum(isinstance(o, plt.Axes) for o in measures)


@pytest.mark.parametrize("rect", [None, (0, 0.05, 1, 1), (0.1, 0.1, 0.9, 0.95)])
def test_lay_out_measures_each_axes_once_and_places_them_as_tight_layout_does(rect):
    real = martist._get_tightbbox_for_layout_only
    ours, ours_measures = _grid(rect)
    theirs, their_measures = _grid(rect, measured_once=False)
    assert [ax.get_position().bounds for ax in ours.axes] == [ax.get_position().bounds for ax in theirs.axes]
    assert ours_measures == len(ours.axes)  # five Axes (the twin shares its subplot's cell), each measured once
    assert their_measures == len(ours.axes) * (1 if rect is None else 2)
    assert martist._get_tightbbox_for_layout_only is real  # matplotlib's own measure is back
    plt.close("all")


def test_lay_out_puts_matplotlibs_measure_back_even_when_the_layout_fails(monkeypatch):
    real = martist._get_tightbbox_for_layout_only
    fig, _ = plt.subplots()
    monkeypatch.setattr(fig, "tight_layout", lambda **kw: (_ for _ in ()).throw(RuntimeError("layout failed")))
    with pytest.raises(RuntimeError, match="layout failed"):
        figures.lay_out(fig, rect=(0, 0.03, 1, 1))
    assert martist._get_tightbbox_for_layout_only is real
    plt.close(fig)


def _national_figures(slug: str, chapters: tuple = ()) -> list:
    """The chapter figures drawn only from national tables (``same_inputs``), for one CDP (of ``chapters``, by
    name; default every chapter)."""
    cdp = partnerships.get(slug)
    out = []
    for chapter in (c for c in all_chapters().values() if not chapters or c.name in chapters):
        tables = chapter.build(cdp)
        for draw in chapter.figures.values():
            item = draw(tables)
            if item.same_inputs:
                out.append(item)
            else:
                plt.close(item.figure)
    return out


def test_a_national_figure_is_drawn_once_per_process_and_written_the_same_for_each_cdp(tmp_path):
    """The national series (the prevalence chapter's survey series, the trends chapter's deaths by substance) have
    the same inputs for every CDP: the second CDP's files are the first's bytes, with no second drawing, and those
    bytes are the figure drawn afresh for the second CDP."""
    figures.style()
    notebook._RENDERED.clear()
    first = _national_figures("nottinghamshire")
    assert sorted(i.name for i in first) == ["prevalence_series", "trends_deaths_by_substance"]
    drawing = ("prevalence", "trends")  # the chapters that draw them
    second = _national_figures("barnet", drawing)
    assert [i.same_inputs for i in first] == [i.same_inputs for i in second]
    for item in first:
        notebook.show(item, str(tmp_path / "nottinghamshire"))
    for item in second:
        draws = []
        draw = item.figure
        item.figure = lambda draw=draw, draws=draws: draws.append(1) or draw()
        notebook.show(item, str(tmp_path / "barnet"))
        assert draws == [], f"{item.name} was drawn again"
    notebook._RENDERED.clear()
    for item in _national_figures("barnet", drawing):
        notebook.show(item, str(tmp_path / "barnet-fresh"))
        reused = (tmp_path / "barnet" / "figures" / f"{item.name}.svg").read_bytes()
        assert reused == (tmp_path / "barnet-fresh" / "figures" / f"{item.name}.svg").read_bytes(), item.name
        assert reused == (tmp_path / "nottinghamshire" / "figures" / f"{item.name}.svg").read_bytes(), item.name
    notebook._RENDERED.clear()
    plt.close("all")


def test_a_national_figure_drawn_with_other_settings_is_drawn_again():
    """The substances figure's joinpoint fits follow the CDP's trend settings: a CDP allowing no joinpoint has
    other fits, so other inputs and a figure of its own."""
    import dataclasses

    from cdp_analysis.chapters import trends

    cdp = partnerships.get("nottinghamshire")
    usual = trends.build(cdp)
    straight = cdp.chapter_settings(trends.NAME).model_copy(update={"max_joinpoints": 0})
    _, fits = trends.compute.substance_rows(straight)
    other = dataclasses.replace(usual, fits={**usual.fits, "substances": fits})
    assert trends.substances_figure(usual).same_inputs != trends.substances_figure(other).same_inputs
    assert trends.substances_figure(usual).same_inputs == trends.substances_figure(trends.build(cdp)).same_inputs


def test_a_figure_kept_for_reuse_must_be_given_undrawn():
    fig, _ = plt.subplots()
    with pytest.raises(TypeError, match="given as a function"):
        notebook.FigureOutput("f", fig, data=None, same_inputs="k")
    plt.close(fig)


def test_content_key_keys_by_content_and_refuses_what_it_cannot():
    frame = pd.DataFrame({"year": [2020, 2021], "deaths": [1.0, 2.0]})
    key = memo.content_key(frame, {"a": (frame["deaths"], [2015.0])}, None, "x")
    assert key == memo.content_key(frame.copy(), {"a": (frame["deaths"].copy(), [2015.0])}, None, "x")
    assert key != memo.content_key(frame.assign(deaths=[1.0, 2.5]), {"a": (frame["deaths"], [2015.0])}, None, "x")
    assert key != memo.content_key(frame, {"a": (frame["deaths"], [2016.0])}, None, "x")
    assert memo.content_key([1]) != memo.content_key((1,)) != memo.content_key("1")
    with pytest.raises(TypeError, match="cannot key a object"):
        memo.content_key(object())


def test_last_result_returns_copies_and_works_again_for_other_arguments():
    calls = []

    @memo.last_result(key=lambda a, b: repr((a, b)))
    def table(a, b):
        calls.append((a, b))
        return pd.DataFrame({"v": [a, b]})

    first = table(1, 2)
    first.loc[0, "v"] = 99  # a caller's change does not reach the kept result
    assert table(1, 2)["v"].tolist() == [1, 2] and calls == [(1, 2)]
    assert table(1, 3)["v"].tolist() == [1, 3] and calls == [(1, 2), (1, 3)]
    memo.clear_all()
    table(1, 3)
    assert calls == [(1, 2), (1, 3), (1, 3)]
