"""The table renderer: real tables with scoped headings, captions, readable numbers and a source line."""

from __future__ import annotations

import re

import pandas as pd
from bs4 import BeautifulSoup

from cdp_analysis.chapters import partnerships, population_profile
from cdp_analysis.output import table_html


def _soup(html):
    return BeautifulSoup(html, "html.parser")


def test_numbers_limits_and_headings():
    view = pd.DataFrame({"value": [12.345, 1234567.0], "lower_ci": [10.1, 1200000.0], "upper_ci": [14.94, 1300000.0]},
                        index=pd.Index(["A", "B"], name="area_name"))
    soup = _soup(table_html.render(view, caption="Rate per 100,000", source="Source: X.", digits=1, name="t"))
    table = soup.find("table")
    assert table["id"] == "table-t" and table.caption.get_text() == "Rate per 100,000"
    cells = [td.get_text() for td in table.find_all("td")]
    assert cells == ["12.3 (10.1–14.9)", "1,234,567.0 (1,200,000.0–1,300,000.0)"]
    headings = [th.get_text() for th in table.select("thead th")]
    assert "Value (95% limits)" in headings and "Area" in headings
    assert all(th.get("scope") in {"col", "colgroup"} for th in table.select("thead th"))
    assert all(th.get("scope") in {"row", "rowgroup"} for th in table.select("tbody th"))
    assert soup.find("p", class_="table-source").get_text() == "Source: X."


def test_whole_numbers_get_separators_and_no_decimals():
    view = pd.DataFrame({"population": [857013.0, 1000.0]}, index=pd.Index(["a", "b"], name="age_group"))
    cells = [td.get_text() for td in _soup(table_html.render(view)).find_all("td")]
    assert cells == ["857,013", "1,000"]


def test_every_chapter_table_renders_with_caption_scope_and_source():
    for slug in ("nottinghamshire", "northamptonshire"):
        prof = population_profile.build(partnerships.get(slug))
        for make in (population_profile.pyramid_output, population_profile.single_year_output,
                     population_profile.denominators_output, population_profile.change_output,
                     population_profile.deprivation_output, population_profile.neighbours_output):
            item = make(prof)
            html = table_html.render(item.view, caption=item.caption, source=table_html.source_line(item.table),
                                     digits=item.digits, name=item.name)
            soup = _soup(html)
            table = soup.find("table")
            assert table.caption and table.caption.get_text().strip(), item.name
            assert table.select("thead th") and all(th.get("scope") for th in table.find_all("th")), item.name
            source = soup.find("p", class_="table-source").get_text()
            # datasets named with short references to the register; no file paths or editions repeated here
            assert re.fullmatch(r"Source: [^/\[\]]+ \[D\d+[^\]]*\](; [^/\[\]]+ \[D\d+[^\]]*\])*\.", source), source
            assert "_" not in " ".join(th.get_text() for th in table.select("thead th")), item.name  # no raw names


def test_imd_score_keeps_its_decimal_even_when_whole(monkeypatch):
    """Formats follow the measure, not whether the numbers happen to be whole (a score of 19.0 stays 19.0)."""
    prof = population_profile.build(partnerships.get("nottinghamshire"))
    item = population_profile.deprivation_output(prof)
    item.view.iloc[0, list(item.view.columns).index(population_profile.MEASURE_SCORE)] = 19.0
    html = table_html.render(item.view, digits=item.digits)
    assert ">19.0<" in html


def test_coded_values_in_headings_are_readable():
    view = pd.DataFrame({"Female": [3809.0], "Male": [4006.5]}, index=pd.Index(["0"], name="age"))
    soup = _soup(table_html.render(view, digits={"Female": 1, "Male": 1}))
    headings = [th.get_text() for th in soup.select("thead th")]
    assert "Females" in headings and "Males" in headings and "Age (years)" in headings
    assert [td.get_text() for td in soup.find_all("td")] == ["3,809.0", "4,006.5"]  # formats follow the renamed columns


def test_short_references_follow_the_register_and_link_to_the_end_of_the_report():
    from cdp_analysis.data import register

    entries = register.load_register()
    refs = register.references()
    assert refs[entries[0].path] == "D1" and refs[entries[-1].path] == f"D{len(entries)}"
    assert register.reference_list(["D7", "D1", "D2", "D3", "D9", "D10"]) == "D1–D3, D7, D9, D10"
    table = pd.DataFrame({"source": [entries[2].citation, entries[0].citation, entries[1].citation]})
    line = table_html.source_line(table)
    assert "[D1–D3]" in line, line
    soup = _soup(table_html.render(pd.DataFrame({"x": [1]}), source=line))
    assert [a["href"] for a in soup.select("p.table-source a")] == ["#source-D1", "#source-D3"]


def test_long_text_columns_become_numbered_notes_under_the_table():
    """A notes column keeps printed rows short: each cell says 'note k', one k per distinct text."""
    view = pd.DataFrame({"Value": [1.0, 2.0, 3.0], "Note": ["long reason A", "", "long reason A"],
                         "How": ["model B", "model C", "model B"]}, index=pd.Index(["x", "y", "z"], name="Area"))
    soup = _soup(table_html.render(view, notes=("Note", "How"), name="t"))
    cells = [[td.get_text() for td in tr.find_all("td")] for tr in soup.select("tbody tr")]
    assert cells == [["1", "note 1", "note 2"], ["2", "", "note 3"], ["3", "note 1", "note 2"]]
    assert [li.get_text() for li in soup.select("ol.table-notes li")] == ["long reason A", "model B", "model C"]
    assert [td["class"] for td in soup.select("tbody tr")[0].find_all("td")] == [["num"], ["note"], ["note"]]


def test_text_columns_are_left_aligned_and_number_columns_right_aligned():
    view = pd.DataFrame({"Value (95% limits)": ["8.8 (8.0–9.7)", "not supplied", "12.5 (10.1–14.9)"],
                         "Result": ["increasing", "cannot be calculated", "no significant change"],
                         "Change": ["+1.5 (-3.3 to +6.5)", "", "-0.6 (-0.9 to -0.4)"]},
                        index=pd.Index(["x", "y", "z"], name="Area"))
    soup = _soup(table_html.render(view))
    assert [td["class"][0] for td in soup.select("tbody tr")[1].find_all("td")] == ["num", "text", "num"]


def _tricky_views():
    """Views holding what an HTML writer must escape or keep: markup, entities, quotes, space-only and missing
    cells, non-breaking spaces, headings spanning columns and rows, a wide table and an empty one."""
    import numpy as np

    yield pd.DataFrame({"a": ["x & y", "<b>bold</b>", '"q"', "it's", "  ", "", None, "&amp;"],
                        "value": [1.5, 2, np.nan, 3, 4, 5, 6, 7], "lower_ci": [1, 1, 1, np.nan, 1, 1, 1, 1],
                        "upper_ci": [2, 3, 4, 5, 6, 7, 8, 9], "n": [1, 2, 3, 4, 5, 6, 7, 8]})
    yield pd.DataFrame({("A", "x"): [1.0, 2.0], ("A", "y"): ["a<b", "c&d"], ("B", "z"): [3, 4]},
                       index=pd.MultiIndex.from_tuples([("r1", "s1"), ("r1", "s2")], names=["R", "S"]))
    yield pd.DataFrame({"v": [1, 2, 3], "w": ["\xa0", "1,234", "-0.6"]})
    yield pd.DataFrame({c: [1] for c in "abcdefghij"})
    yield pd.DataFrame({"a": []})


def test_a_table_is_what_the_reports_parser_would_write_back():
    """The report parses every page and writes it back (cdp_analysis.output.report): a table comes out of that as it
    went in, whatever its cells, caption or name hold (markup escaped once, no presentational attributes, the
    indentation between tags one line break)."""
    for view in _tricky_views():
        for caption in ("", "Cap & <cap> \"quoted\" 'single'"):
            for name in ("", "t1", 'odd"name', "it's\"both"):
                html = table_html.render(view.copy(), caption=caption, name=name, source="Source: X [D1] & Y.")
                assert str(_soup(html)) == html
                table = _soup(html).find("table")
                assert table.get("id", "") == (f"table-{name}" if name else "")
                assert (table.caption.get_text() if table.caption else "") == caption
                assert not any(tag.get(a) for tag in table.find_all(True) for a in ("style", "halign", "valign"))
                assert "  <" not in html


def test_a_spanning_heading_is_scoped_to_its_group():
    view = next(v for v in _tricky_views() if isinstance(v.columns, pd.MultiIndex))
    table = _soup(table_html.render(view)).find("table")
    assert [th["scope"] for th in table.select("thead th[colspan]")] == ["colgroup"]
    assert [th["scope"] for th in table.select("tbody th[rowspan]")] == ["rowgroup"]
    assert [td["class"] for td in table.select("tbody tr")[0].find_all("td")] == [["num"], ["text"], ["num"]]
