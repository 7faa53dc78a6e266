"""Every output escapes what it did not write itself (cdp_analysis/output/escape.py): one rule for HTML, one for
Markdown (rendered by nbconvert's mistune), one for CSV cells (OWASP's rule against formula injection); the report's
last pass removes whatever could run script; and a run of a CDP whose name, comparator set and local file names
hold markup and formulas writes none of it live."""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from cdp_analysis.output import escape, index, report, table_html, tidy

REPO = Path(__file__).resolve().parent.parent
MADE_UP = REPO / "data" / "examples" / "nottinghamshire-made-up"

HOSTILE_NAME = '=HYPERLINK("http://x") <img src=x onerror=alert(1)> [a](javascript:alert(1))'
HOSTILE_SET = "+cmd|calc <b>x</b>"
MARKUP = ["<img src=x onerror=alert(1)>", "[x](javascript:alert(1))", "**b**", "![i](http://x/y.png)", "<b>x</b>",
          "~~s~~", "`c`", "http://example.org/a", "$x^2$", "# h", "- item", "1. one", "| a | b |", "&lt;tag&gt;",
          "<!-- c", "a\nb\r\n<i>x</i>", "x_y_z", "trailing\\", HOSTILE_NAME, HOSTILE_SET]
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _render(markdown: str) -> str:
    """Markdown as nbconvert's HTML exporter renders it (mistune, raw HTML passed through)."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return markdown2html_mistune(markdown)


# --- HTML ---------------------------------------------------------------------------------------------------


def test_html_text_escapes_tags_and_both_quotes():
    assert escape.html_text('<a href="x" title=\'y\'>&</a>') == "&lt;a href=&quot;x&quot; title=&#x27;y&#x27;&gt;&amp;&lt;/a&gt;"
    assert escape.html_text(None) == "" and escape.html_text(12.5) == "12.5"


def test_table_html_escapes_every_cell_caption_heading_and_source():
    bad = "<img src=x onerror=alert(1)>"
    view = pd.DataFrame({bad: [1.5, 2.0], "value": [1.0, 2.0], "lower_ci": [0.5, 1.0], "upper_ci": [2.0, 3.0],
                         "area_name": [bad, "&amp;"]}, index=pd.Index([bad, "b"], name=bad))
    page = table_html.render(view, caption=bad, source=bad, name='t" onclick="x')
    soup = BeautifulSoup(page, "html.parser")
    assert not soup.find("img") and not [a for t in soup.find_all(True) for a in t.attrs if a.startswith("on")]
    assert soup.find("caption").get_text() == bad and soup.find("p", class_="table-source").get_text() == bad
    assert soup.find("td", string=bad) and soup.find("tbody").find("th", string=bad) and soup.find("td", string="&amp;")
    wide = pd.DataFrame([[1.0, 2.0]], columns=pd.MultiIndex.from_tuples([(bad, "a"), (bad, "b")], names=[bad, "x"]),
                        index=[bad])
    soup = BeautifulSoup(table_html.render(wide, caption="c"), "html.parser")
    assert not soup.find("img") and soup.find("thead").find("th", string=bad)


# --- Markdown -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", MARKUP)
def test_markdown_text_renders_literally_with_nbconvert(text):
    for template in ("{}", "- In **{}** there were", "# {}"):
        html = _render(template.format(escape.markdown_text(text)))
        soup = BeautifulSoup(html, "html.parser")
        made = {t.name for t in soup.find_all(True)}
        assert made <= {"p", "ul", "li", "strong", "h1", "a"}, (text, html)  # 'a': the heading's own anchor only
        assert not soup.find("a", href=lambda h: h and not h.startswith("#")), html
        assert " ".join(text.split()) in soup.get_text(), (text, html)  # shown as written (breaks become spaces)


def test_markdown_text_is_the_identity_on_published_area_names():
    from cdp_analysis.areas import geography

    for name in geography.areas()["name"]:
        assert escape.markdown_text(name) == name
    assert escape.markdown_text("a\n\nb\tc\x00d") == "a b c d"


def test_markdown_html_escapes_raw_html_outside_code_only():
    text = "A <b>x</b> and `a<b>` and \\<c and ```\n<i>\n```"
    out = escape.markdown_html("x <b>y</b> `keep <this>`\n```\n<pre>\n```\n")
    assert out == "x \\<b>y\\</b> `keep <this>`\n```\n<pre>\n```\n"
    soup = BeautifulSoup(_render(escape.markdown_html(text)), "html.parser")
    assert not soup.find(["b", "i"]) and "A <b>x</b>" in soup.get_text()
    assert escape.markdown_html(escape.markdown_text("<i>x</i>")) == escape.markdown_text("<i>x</i>")  # no double


# --- CSV ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+cmd|calc", "-", "-2+3", "@SUM(A1)", "\tx", "\rx",
                                  "=1+1"])
def test_csv_cell_neutralises_formula_text(cell):
    assert escape.csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", [-3.5, 0, 12, "-3.5", "+4", "-2e-05", "Nottinghamshire", "mid-2022", "", None,
                                  "'=already"])
def test_csv_cell_leaves_numbers_and_plain_text(cell):
    assert escape.csv_cell(cell) == cell


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+cmd|calc", "-", "@x", "\tx", "plain", "-1.5", -2.0])
def test_csv_original_undoes_csv_cell(cell):
    assert escape.csv_original(escape.csv_cell(cell)) == cell
    assert escape.csv_original("'") == "'" and escape.csv_original("'quoted") == "'quoted"


def test_csv_frame_neutralises_text_columns_only():
    t = pd.DataFrame({"name": ["=cmd", "Rutland", None], "note": ["-", "", "fine"], "value": [-1.5, 2.0, -3.0],
                      "mixed": ["-1", -2, "@x"]})
    out = escape.csv_frame(t)
    assert out["name"].tolist()[:2] == ["'=cmd", "Rutland"] and pd.isna(out["name"].iloc[2])
    assert out["note"].tolist() == ["'-", "", "fine"]
    assert out["value"].tolist() == [-1.5, 2.0, -3.0] and out["mixed"].tolist() == ["-1", -2, "'@x"]
    assert t["name"].iloc[0] == "=cmd"  # the caller's table is not changed
    plain = pd.DataFrame({"a": ["x"], "b": [-1]})
    assert escape.csv_frame(plain) is plain


def test_csv_frame_neutralises_a_column_that_also_holds_lists():
    """Distinct cells are looked at once; a column with a cell that cannot be hashed is still checked cell by cell."""
    t = pd.DataFrame({"a": [[1, 2], "=x", 3, "=x"]})
    assert escape.csv_frame(t)["a"].tolist() == [[1, 2], "'=x", 3, "'=x"]


def test_tidy_csvs_neutralise_formulas_and_keep_negative_numbers(tmp_path):
    t = pd.DataFrame({"area_code": ["E06000017"], "area_name": ["=HYPERLINK(\"http://x\")"], "area_role": ["cdp"],
                      "time_period": ["2022"], "measure": ["percent change"], "value": [-1.25], "unit": ["%"],
                      "comparator_set": ["+cmd|calc"], "value_note": ["-"], "source": ["@x [edition]"]})
    tidy.save_table(t, "hostile", tmp_path)
    for path in (tmp_path / "tables" / "hostile.csv", tmp_path / "fingertips" / "hostile.csv"):
        rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
        assert _formula_cells(path) == [], path
        name = rows[0].get("area_name", rows[0].get("Area Name"))
        assert name == "'=HYPERLINK(\"http://x\")" and rows[0].get("value", rows[0].get("Value")) == "-1.25"
    row = next(csv.DictReader((tmp_path / "tables" / "hostile.csv").open(encoding="utf-8", newline="")))
    assert row["comparator_set"] == "'+cmd|calc" and row["value_note"] == "'-" and row["source"] == "'@x [edition]"


def test_a_neutralised_cell_is_read_back_as_it_was_given(tmp_path):
    """The outcomes chapter reads the earlier chapters' CSVs back: '=x' written as "'=x" is read as '=x'."""
    from cdp_analysis.chapters import outcomes

    t = pd.DataFrame({"area_code": ["E06000017"], "area_name": ["=x"], "area_role": ["cdp"], "time_period": ["2022"],
                      "measure": ["count"], "value": [-3.0], "unit": ["people"], "source": ["+s [edition]"]})
    tidy.save_table(t, "back", tmp_path)
    back = outcomes.read_table(tmp_path / "tables" / "back.csv")
    assert back.loc[0, "area_name"] == "=x" and back.loc[0, "source"] == "+s [edition]"
    assert back.loc[0, "value"] == -3.0


def _formula_cells(path: Path) -> list[tuple[str, int, str]]:
    """Text cells (not plain numbers) of a CSV file that begin with a formula character."""
    found = []
    with path.open(encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.reader(fh), start=1):
            found += [(path.name, i, c) for c in row if c.startswith(escape.CSV_TRIGGERS) and not NUMBER.fullmatch(c)]
    return found


def _csvs(folder: Path) -> list[Path]:
    return sorted([*folder.glob("tables/*.csv"), *folder.glob("fingertips/*.csv")])


# --- the report's last pass -----------------------------------------------------------------------------------


def _hostile_notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    markdown = ("- **<img src=x onerror=alert(1)>** <b>bold</b> [a](javascript:alert(1)) "
                "<iframe src=\"javascript:alert(1)\"></iframe> <svg><foreignObject><b>x</b></foreignObject></svg>")
    html = ('<div onclick="alert(1)"><a href="JaVaScRiPt:alert(1)">a</a><a href=" java\tscript:x">t</a>'
            '<a href="#ok">fragment</a><a href="https://ok.example/">web</a><a href="mailto:x@y.z">mail</a>'
            '<img src="data:image/svg+xml;base64,PHN2Zz4=" alt="svg"><form action="http://x"><input name="q">'
            '<button formaction="javascript:x">go</button></form><meta http-equiv="refresh" content="0;url=http://x">'
            '<object data="x.swf"></object><embed src="x"><base href="http://evil/"><p style="background:url(x)">s</p>'
            '<svg><a xlink:href="javascript:alert(1)"><text>t</text></a><set attributeName="href" to="javascript:x"/>'
            '</svg></div>')
    nb.cells = [nbformat.v4.new_markdown_cell("# Chapter\n\nText.", id="c1"),
                nbformat.v4.new_code_cell("x", id="c2", outputs=[
                    nbformat.v4.new_output("display_data", {"text/markdown": markdown, "text/plain": "x"}),
                    nbformat.v4.new_output("display_data", {"text/html": html, "text/plain": "x"})])]
    nbformat.write(nb, path)
    return path


def test_report_keeps_no_markup_script_or_foreign_link(tmp_path):
    target = tmp_path / "report.html"
    report.write_html([_hostile_notebook(tmp_path / "nb.ipynb")], target, title=HOSTILE_NAME,
                      subtitle="front matter")
    soup = BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser")
    _assert_inert(soup)
    for name in ("iframe", "form", "input", "button", "object", "embed", "base", "foreignobject", "set", "script"):
        assert not soup.find(name), name
    assert not soup.find("meta", attrs={"http-equiv": True})
    assert not soup.find("p", style=True)
    hrefs = {a.get("href") for a in soup.find_all("a")}
    assert {"#ok", "https://ok.example/", "mailto:x@y.z"} <= hrefs
    assert soup.find("h1").get_text().startswith(HOSTILE_NAME)  # the title, shown literally
    assert soup.title.get_text() == HOSTILE_NAME
    assert "<img src=x onerror=alert(1)>" in soup.get_text() and "<b>bold</b>" in soup.get_text()


def test_allowlist_leaves_the_suites_own_page_alone():
    page = ('<html><head><meta charset="utf-8"><style>p{}</style></head><body><h1 id="A-b">A b<a class="anchor-link" '
            'href="#A-b">¶</a></h1><img src="data:image/png;base64,AAAA" alt="chart"><a href="https://x.org/">x</a>'
            '<a href="../other/report.html">r</a></body></html>')
    soup = BeautifulSoup(page, "html.parser")
    before = str(soup)
    assert report.allowlist(soup) == 0 and str(soup) == before


def _assert_inert(soup: BeautifulSoup, own_script: str = "") -> None:
    """No event handler, no image but an embedded one, no script link, no link or bold/italic made by data, no
    script but ``own_script`` (the page's own, if it has one)."""
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag.name
    for img in soup.find_all("img"):
        assert img.get("src", "").startswith("data:image/"), img
    for a in soup.find_all("a"):
        href = re.sub(r"[\x00-\x20]", "", a.get("href", "")).lower()
        assert href and not href.startswith(("javascript:", "vbscript:", "data:")), a
    assert not soup.find(["b", "i"])  # the suite writes <strong> and <em>: a <b> or <i> came from data
    assert [s.get_text() for s in soup.find_all("script")] == ([own_script] if own_script else [])


# --- a run of a hostile CDP ------------------------------------------------------------------------------------------

#: A local file name with markup (no '/': it is one file name).
HOSTILE_FILE = "police_<i onmouseover=alert(1)>x[y](javascript:alert(2))_MADE_UP.csv"


def _hostile_project(root: Path) -> Path:
    """A params file for Rutland under a hostile name, with hostile comparator set and local file names."""
    user = root / "data" / "user"
    user.mkdir(parents=True)
    files = []
    for src, name in ((MADE_UP / "police_MADE_UP.csv", HOSTILE_FILE),
                      (MADE_UP / "ndtms_local_MADE_UP.csv", "=ndtms_<b>x_MADE_UP.csv")):
        text = src.read_text(encoding="utf-8").replace("E10000024", "E06000017")  # Nottinghamshire → Rutland
        (user / name).write_text(text, encoding="utf-8")
        files.append(f"data/user/{name}")
    quoted = [name.replace("'", "''") for name in (HOSTILE_NAME, HOSTILE_SET, *files)]
    (root / "params" / "cdps" / "hostile.yaml").write_text(
        f"name: '{quoted[0]}'\nmembers: [E06000017]\n"
        f"comparators: {{name: '{quoted[1]}', areas: [E06000016, E10000018]}}\n"
        "outcomes:\n  local_data:\n" + "".join(f"    - '{f}'\n" for f in quoted[2:]), encoding="utf-8")
    return root / "params" / "cdps" / "hostile.yaml"


@pytest.mark.slow
def test_a_hostile_cdp_writes_no_live_markup_and_no_formula(project):
    """Rutland run under a name, comparator set and local file names holding HTML, Markdown links and formulas:
    the report, the summary and the index show them as text and hold no element or attribute from them; no CSV
    cell begins with a formula character."""
    from cdp_analysis import chapters, kernels, runner
    from cdp_analysis.chapters import partnerships

    _hostile_project(project)
    cdp = partnerships.get("hostile")
    assert cdp.name == HOSTILE_NAME
    out = project / "outputs"
    kernels.shutdown()  # a kernel started for another project copy would look for the local files there
    try:
        results = runner.run_many([cdp], outputs_root=out, stream=io.StringIO())
    finally:
        kernels.shutdown()
    assert [r.status for r in results] == ["succeeded"], results
    folder = out / "hostile"
    index.write(out, chapters.key_figures())
    pages = {name: BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
             for name, path in (("report", folder / "report.html"), ("summary", folder / "summary.html"),
                                ("index", out / "index.html"))}
    sorter = BeautifulSoup(index._TEMPLATE.replace("{{", "{").replace("}}", "}"), "html.parser").script.get_text()
    for name, soup in pages.items():
        _assert_inert(soup, own_script=sorter if name == "index" else "")
        text = soup.get_text()
        assert HOSTILE_NAME in text, name  # shown as written
        assert not soup.find("a", string="a"), name  # the name's Markdown link was not made a link
    page = pages["report"]
    paragraphs = {p.get_text().split(" ")[0]: p for p in page.find(id="cell-id=front-matter").find_all("p")}
    assert paragraphs["Combating"].find("strong").get_text() == HOSTILE_NAME  # runner._front_matter: literally
    assert HOSTILE_FILE in paragraphs["Produced"].get_text()  # and the local files
    assert HOSTILE_SET in page.get_text()  # the comparator set, chapter 1's summary
    assert HOSTILE_FILE in page.get_text()  # the local file, in the sources
    assert not page.find("i", attrs={"onmouseover": True})
    assert _formula_paths(folder, out) == []
    neighbours = list(csv.DictReader((folder / "tables" / "nearest_neighbours.csv").open(encoding="utf-8", newline="")))
    assert {r["comparator_set"] for r in neighbours} == {"'" + HOSTILE_SET}  # shown as text in a spreadsheet
    population = list(csv.DictReader((folder / "tables" / "population_change.csv").open(encoding="utf-8", newline="")))
    assert "'" + HOSTILE_NAME in {r["area_name"] for r in population}


def _formula_paths(folder: Path, root: Path) -> list:
    paths = [*_csvs(folder), root / index.COMBINED, *sorted((root / index.CACHE).glob("*.csv"))]
    assert len(paths) > 20 and all(path.is_file() for path in paths)
    return [hit for path in paths for hit in _formula_cells(path)]


@pytest.mark.slow
def test_no_csv_cell_of_the_default_runs_begins_with_a_formula_character(runs):
    root, first, _, _ = runs
    assert all(r.status == "succeeded" for r in first)
    checked = 0
    for slug in ("nottinghamshire", "northamptonshire"):
        paths = _csvs(root / "a" / slug)
        assert paths, slug
        checked += len(paths)
        assert [hit for path in paths for hit in _formula_cells(path)] == []
    assert checked > 20


def test_the_hostile_params_file_is_well_formed(project):
    """The e2e test's params file parses to the names it means (quoting in YAML is right)."""
    from cdp_analysis.chapters import partnerships

    path = _hostile_project(project)
    cdp = partnerships.get("hostile")
    assert cdp.name == HOSTILE_NAME and len(HOSTILE_NAME) < 120 and HOSTILE_NAME.isprintable()
    assert list(cdp.members) == ["E06000017"] and path.is_file()
    files = [Path(f).name for f in cdp.chapter_settings("outcomes").local_data]
    assert HOSTILE_FILE in files
    shutil.rmtree(project / "data" / "user")


def test_figure_text_is_shown_as_written_not_typeset():
    """A name with dollar signs (matplotlib's TeX markers) is drawn as written, not parsed (which could fail)."""
    import matplotlib.pyplot as plt

    from cdp_analysis.output import figures

    with plt.rc_context():
        figures.style()
        fig, ax = plt.subplots()
        ax.set_title("Costs in $\\notacommand{x}$ and $5 $")
        try:
            assert figures.png_bytes(fig)[:4] == b"\x89PNG"
        finally:
            plt.close(fig)
