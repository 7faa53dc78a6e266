"""Each chapter's ``datasets`` is what its rows cite: checked against the ``run.json`` of real runs.

A dataset declared but never cited (kept by hand after the code stopped reading it) or cited but not declared
(read without the pre-run check loading it) fails. What a table cites is what its values were read from
(``reads``) and what decided which of its rows appear (``decided_by``, e.g. the nearest-neighbours file).
"""

from __future__ import annotations

import json

from cdp_analysis.chapters import all_chapters
from cdp_analysis.data import datasets, register


def _dataset_of_path() -> dict[str, str]:
    kind = {k.kind: d.name for d in datasets().values() for k in d.kinds}
    return {e.path: kind[e.kind] for e in register.load_register() if e.kind in kind}


def _cited(run: dict, chapter) -> set[str]:
    of_path = _dataset_of_path()
    found = set()
    for output in chapter.outputs():
        entry = run["outputs"].get(output, {})
        files = [*entry.get("reads", {}), *(d.get("path") for d in entry.get("decided_by", []) if d.get("path"))]
        found |= {of_path[p] for p in files if p in of_path}
    return found


def test_each_chapters_datasets_are_the_ones_its_rows_cite(runs):
    root, first, _, _ = runs
    cited: dict[str, set[str]] = {}
    for result in first:
        run = json.loads((result.output_dir / "run.json").read_text(encoding="utf-8"))
        for chapter in all_chapters().values():
            cited.setdefault(chapter.name, set()).update(_cited(run, chapter))
    for chapter in all_chapters().values():
        declared = set(chapter.datasets)
        assert not declared - cited[chapter.name], f"{chapter.name} declares {declared - cited[chapter.name]}, never cited"
        assert not cited[chapter.name] - declared, f"{chapter.name} cites {cited[chapter.name] - declared}, not declared"


def test_a_chapter_reads_only_earlier_chapters():
    import dataclasses

    import pytest

    from cdp_analysis.chapters import registry

    chapters = all_chapters()
    for chapter in chapters.values():
        assert registry.datasets_read(chapter) >= set(chapter.datasets)
    first = next(iter(chapters.values()))
    later = list(chapters)[-1]
    with pytest.raises(RuntimeError, match="not an earlier chapter"):
        registry.datasets_read(dataclasses.replace(first, reads_chapters=(later,)))
    with pytest.raises(RuntimeError, match="not an earlier chapter"):
        registry.datasets_read(dataclasses.replace(first, reads_chapters=("no_such_chapter",)))
