"""The add-a-chapter recipe of docs/architecture.md, proven: a throw-away chapter in a temporary folder is found,
run end to end by ``cdp run``, and appears in the report, its contents list, ``run.json`` and the index, with no
file of the package edited.

The chapter lives in a folder named by ``CDP_ANALYSIS_CHAPTER_PATH`` (a package with its notebook beside it), as
a partnership's own chapter would. It reads chapter 1's compute API (never its presentation) and writes one
table with a key figure.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup

import cdp_analysis

PACKAGE = Path(cdp_analysis.__file__).resolve().parent

CHAPTER_INIT = '''
"""Scratch: the adults of a CDP, a throw-away chapter that proves the recipe."""

from pathlib import Path

from cdp_analysis.areas.params import ChapterSettings
from cdp_analysis.chapters import Chapter
from cdp_analysis.chapters import population_profile
from cdp_analysis.output.index import KeyFigure


class Settings(ChapterSettings):
    """The scratch chapter's one setting."""

    age: str = "18+"


class Scratch:
    def __init__(self, table):
        self.table = table

    def tables(self):
        return [self.table]


def build(cdp, settings):
    """The CDP's, region's and England's population of ``settings.age``, from chapter 1's compute API."""
    profile = population_profile.build(cdp, cdp.chapter_settings(population_profile.NAME))
    t = profile.tables()[population_profile.CHAPTER.tables.index("denominator_populations")]
    return Scratch(t[t["age"] == settings.age].reset_index(drop=True))


def summary(scratch):
    row = scratch.table[scratch.table["area_role"] == "cdp"].iloc[-1]
    return f"- {row['value']:,.0f} residents aged {row['age']} in {row['time_period']}."


CHAPTER = Chapter(name="scratch", number=90, title="Scratch chapter", notebook="90_scratch",
                  notebook_dir=Path(__file__).parent, datasets=("ons_population",), settings=Settings,
                  build=build, summary=summary, tables=("scratch_adults",),
                  key_figures=(KeyFigure(label="Scratch: adults", table="scratch_adults",
                                         where={"area_role": "cdp", "age": "18+"}, digits=0),))
'''


def _notebook(path: Path) -> None:
    params = nbformat.v4.new_code_cell(textwrap.dedent('''\
        cdp_slug = "rutland"
        cdp_name = "Rutland"
        members = ["E06000017"]
        n_neighbours = 15
        comparators = None
        age = "18+"
        output_dir = ""'''))
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Scratch chapter\n\nA throw-away chapter."),
        params,
        nbformat.v4.new_code_cell(textwrap.dedent('''\
            from IPython.display import Markdown, display

            from cdp_analysis.chapters import registry
            from cdp_analysis.output import notebook

            chapter = registry.all_chapters()["scratch"]
            cdp, settings = chapter.from_parameters(cdp_slug=cdp_slug, cdp_name=cdp_name, members=members,
                                                    n_neighbours=n_neighbours, comparators=comparators, age=age,
                                                    output_dir=output_dir)
            scratch = chapter.build(cdp, settings)''')),
        nbformat.v4.new_markdown_cell("## Key findings"),
        nbformat.v4.new_code_cell("display(Markdown(chapter.summary(scratch)))"),
        nbformat.v4.new_markdown_cell("## The adults"),
        nbformat.v4.new_code_cell('notebook.show_table(scratch.table, "scratch_adults", output_dir, '
                                  'caption="Residents aged 18 and over")'),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def _package_digest() -> str:
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*.py")):
        h.update(p.relative_to(PACKAGE).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
def test_a_throw_away_chapter_in_a_temporary_folder_is_run_end_to_end(project, cli, tmp_path, monkeypatch):
    folder = tmp_path / "own_chapters" / "scratch"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(CHAPTER_INIT, encoding="utf-8")
    _notebook(folder / "90_scratch.ipynb")
    monkeypatch.setenv("CDP_ANALYSIS_CHAPTER_PATH", str(folder.parent))
    defaults = project / "params" / "defaults.yaml"  # chapter 1 and the scratch chapter only, to keep it quick
    defaults.write_text(defaults.read_text(encoding="utf-8") + "\nchapters: [population_profile, scratch]\n",
                        encoding="utf-8")
    before = _package_digest()

    proc = cli("run", "rutland", "nottinghamshire", root=project)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    out = project / "outputs" / "rutland"
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [n["name"] for n in run["notebooks"]] == ["01_population_profile", "90_scratch"]
    assert "tables/scratch_adults.csv" in json.dumps(run)
    assert (out / "tables" / "scratch_adults.csv").is_file() and (out / "fingertips" / "scratch_adults.csv").is_file()
    soup = BeautifulSoup((out / "report.html").read_text(encoding="utf-8"), "html.parser")
    headings = [h.get_text(" ", strip=True).rstrip("¶").strip() for h in soup.find_all("h1")]
    assert "Scratch chapter" in headings
    contents = [a.get_text(strip=True) for a in soup.select('a[href^="#"]')]
    assert "Scratch chapter" in contents
    assert "residents aged 18+ in mid-2024" in soup.get_text(" ")
    index = (project / "outputs" / "index.html").read_text(encoding="utf-8")
    assert "Scratch: adults" in index and "33,431" in index
    assert _package_digest() == before  # no file of the package was edited
