"""Notebook sources: committed without outputs, exactly one parameters cell of literal defaults."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from cdp_analysis import partnerships

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_every_configured_notebook_exists():
    names = {p.stem for p in NOTEBOOKS}
    assert set(partnerships.defaults().notebooks) <= names


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
    expected = set(partnerships.get("nottinghamshire").notebook_parameters())
    assert names == expected, f"parameters cell should define exactly {sorted(expected)}"
    defaults = {t.id: ast.literal_eval(n.value) for n in tree.body for t in n.targets}
    assert defaults["members"] == ["E10000024"] and defaults["output_dir"] == ""
    assert nb.metadata["kernelspec"]["name"] == "cdp-analysis"
