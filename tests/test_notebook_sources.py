"""Notebook sources: committed without outputs, exactly one parameters cell of literal defaults."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from cdp_analysis import chapters

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_every_chapter_notebook_exists_and_every_notebook_is_a_chapter():
    names = {p.stem for p in NOTEBOOKS}
    assert {c.notebook for c in chapters.all_chapters().values()} == names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_source(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    tree = ast.parse(tagged[0].source)
    names = set()
    for node in tree.body:
        assert isinstance(node, ast.Assign), "the parameters cell holds assignments only"
        ast.literal_eval(node.value)  # literal defaults only
        names |= {t.id for t in node.targets}
    (chapter,) = [c for c in chapters.all_chapters().values() if c.notebook == path.stem]
    expected = set(chapter.parameter_names())
    assert names == expected, f"parameters cell should define exactly {sorted(expected)}"
    defaults = {t.id: ast.literal_eval(n.value) for n in tree.body for t in n.targets}
    assert defaults["members"] == ["E10000024"] and defaults["output_dir"] == ""
    assert nb.metadata["kernelspec"]["name"] == "cdp-analysis"
    first = next(c for c in nb.cells if c.cell_type == "markdown")
    assert first.source.splitlines()[0] == f"# {chapter.title}", "the notebook's first heading is the chapter's title"


def test_cell_ids_are_unique_across_notebooks():
    """The report joins every chapter's notebook: a repeated cell id would be renumbered (and warned about)."""
    import json

    seen = {}
    for path in sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            assert cell["id"] not in seen, f"cell id {cell['id']} is in {seen.get(cell['id'])} and {path.name}"
            seen[cell["id"]] = path.name
