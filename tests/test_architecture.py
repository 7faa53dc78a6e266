"""The package's shape: layers without cycles, one list of chapters, no editions or years typed into code.

These keep the promises of ``docs/architecture.md`` true as chapters are added:

* each layer imports only the layers below it (data → stats → areas → output → chapters → runner/cli),
  and there is no import cycle between modules;
* the chapter registry is the only list of chapters: the runner's notebooks, the params schema and the
  pre-run data check all follow it;
* no data edition, release date or reference year is typed into package code or notebook text.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from pathlib import Path

import nbformat
import pytest

import cdp_analysis
from cdp_analysis import chapters, runner
from cdp_analysis import data as data_package
from cdp_analysis.areas.params import ChapterSettings
from cdp_analysis.chapters import partnerships, registry
from cdp_analysis.data import datasets

PACKAGE = Path(cdp_analysis.__file__).parent
REPO = PACKAGE.parent

#: What each layer may import (besides itself and the shared utilities).
LAYERS = {"data": set(), "stats": set(), "areas": {"data", "stats"}, "output": {"data", "stats", "areas"},
          "chapters": {"data", "stats", "areas", "output"},
          "update": {"data"}}  # `cdp update` reads the datasets' sources and checks files with their loaders
UTILITIES = {"errors", "paths", "memo", "edition_cache", "files", "__init__"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _top_level_imports(path: Path, *, anywhere: bool = False) -> set[str]:
    """Modules of this package imported at module level (or ``anywhere``, inside functions too)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in (ast.walk(tree) if anywhere else tree.body):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("cdp_analysis"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cdp_analysis")}
    return {f for f in found if f != name}


def _exists(module: str) -> bool:
    rel = Path(*module.split("."))
    return (PACKAGE.parent / rel).with_suffix(".py").is_file() or (PACKAGE.parent / rel / "__init__.py").is_file()


GRAPH = {_module_name(p): _top_level_imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("module", sorted(m for m in GRAPH if _layer(m) in LAYERS))
def test_each_layer_imports_only_the_layers_below(module):
    layer = _layer(module)
    for imported in GRAPH[module]:
        other = _layer(imported)
        assert other in LAYERS[layer] | {layer} | UTILITIES | {""}, f"{module} imports {imported} ({other} layer)"


#: Imports, inside functions, of a higher layer by a lower one: none (the params schema and a CDP's chapters are
#: assembled by the chapter registry and given to the areas layer: docs/architecture.md).
DEFERRED_UPWARD: set[tuple[str, str]] = set()


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_inside_functions_respect_the_layers_too(path):
    module = _module_name(path)
    layer = _layer(module)
    if layer not in LAYERS:
        return
    for imported in _top_level_imports(path, anywhere=True):
        other = _layer(imported)
        if other in LAYERS[layer] | {layer} | UTILITIES | {""}:
            continue
        assert (module, imported) in DEFERRED_UPWARD, f"{module} imports {imported} ({other} layer)"


def test_no_import_cycles():
    state: dict[str, int] = {}

    def visit(module: str, stack: list[str]) -> None:
        state[module] = 1
        for nxt in sorted(GRAPH.get(module, ())):
            if nxt == "cdp_analysis" or nxt not in GRAPH:
                continue
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join(stack + [module, nxt])
            if nxt not in state:
                visit(nxt, stack + [module])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


# --------------------------------------------------------------------------------------------------
# the registry is the only list of chapters


@pytest.fixture
def extra_chapter(monkeypatch):
    """A chapter registered from outside the package, reading the IMD dataset, with one setting."""
    from cdp_analysis.chapters import registry

    class ExtraSettings(ChapterSettings):
        threshold: int = 3

    loads = []
    real = datasets()
    spied = {name: dataclasses.replace(ds, load=lambda ds=ds: loads.append(ds.name) or ds.load())
             for name, ds in real.items()}
    monkeypatch.setattr(data_package, "datasets", lambda: spied)
    monkeypatch.setattr(runner, "datasets", lambda: spied)
    chapter = chapters.Chapter(name="extra_chapter", number=99, title="Extra", notebook="99_extra",
                               datasets=("imd2019",), settings=ExtraSettings, build=lambda cdp, s: None,
                               summary=lambda t: "")
    monkeypatch.setitem(registry._EXTRA, chapter.name, chapter)
    cdp_analysis.clear_caches()
    yield chapter, loads
    cdp_analysis.clear_caches()


def test_a_registered_chapter_reaches_runner_params_and_data_check(extra_chapter):
    chapter, loads = extra_chapter
    cdp = partnerships.get("nottinghamshire")
    assert [c.name for c in cdp.chapters()][-1] == "extra_chapter"          # the runner's notebook list
    assert "extra_chapter" in registry.run_settings_model().model_fields         # the params schema
    assert cdp.chapter_settings("extra_chapter").threshold == 3                # its defaults
    runner.check_inputs([cdp])                                                 # the pre-run data check
    assert "imd2019" in loads
    assert chapter.parameters(cdp)["threshold"] == 3                           # its notebook parameters


def test_no_other_list_of_chapters_or_notebooks():
    """Chapter and notebook names appear only in their chapter module (and the docs)."""
    names = {c.name for c in chapters.all_chapters().values()} | {c.notebook for c in chapters.all_chapters().values()}
    for path in PACKAGE.rglob("*.py"):
        own = path.parent if path.parent.parent.name == "chapters" else path.with_suffix("")  # a package or module
        if own.parent.name == "chapters" and own.name in names:
            continue
        text = path.read_text(encoding="utf-8")
        for name in names:
            code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", "-", ":mod:")))
            assert f'"{name}"' not in code and f"'{name}'" not in code, f"{path.name} names chapter '{name}'"
    defaults = (REPO / "params" / "defaults.yaml").read_text(encoding="utf-8")
    assert "notebooks:" not in defaults


def test_chapter_settings_override_in_a_cdp_file(project):
    (project / "params/cdps/notts-recent.yaml").write_text(
        "name: Nottinghamshire (recent)\nmembers: [E10000024]\npopulation_profile:\n  population_years: [2022, 2024]\n")
    cdp_analysis.clear_caches()
    p = partnerships.get("notts-recent")
    assert p.chapter_settings("population_profile").population_years == [2022, 2024]
    assert p.settings.n_neighbours == partnerships.defaults().n_neighbours


# --------------------------------------------------------------------------------------------------
# no editions or years typed into code or notebook text

_YEAR = re.compile(r"(?<![\w-])(19|20)\d\d(?![\w])")
#: Names that contain a year but are names, not editions: the published title of the indices, the standard
#: 'ESP2013', module names.
_NAMES = re.compile(r"Indices of Deprivation 20(19|25)|ESP2013|imd20(19|25)|ons_population"
                    r"|LSOA (code|name) \(2011\)|Local Authority District (code|name) \(2019\)"  # File 1's headings
                    r"|e\.g\.[^)]*")  # and examples in hints


def _string_constants(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if "stats" not in p.parts),
                         ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_year_or_edition_in_package_strings(path):
    for line, text in _string_constants(path):
        assert not _YEAR.search(_NAMES.sub("", text)), f"{path.name}:{line}: {text!r} types a year; read it from data"


@pytest.mark.parametrize("path", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_no_year_or_edition_in_notebook_text(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            continue  # literal defaults, so that the notebook runs as-is
        assert not _YEAR.search(_NAMES.sub("", cell.source)), f"{path.name}: {cell.source[:80]!r}"


def test_the_params_reference_is_generated_from_the_settings_models(monkeypatch):
    """docs/settings.md lists every key of every chapter's settings, as the models declare them (`make docs`)."""
    monkeypatch.delenv("CDP_ANALYSIS_CHAPTER_PATH", raising=False)
    text = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert text == registry.settings_reference() + "\n", "docs/settings.md is out of date: run `make docs`"
    for chapter in chapters.all_chapters().values():
        for key in chapter.settings.model_fields:
            assert f"| `{key}` |" in text


# --------------------------------------------------------------------------------------------------
# a chapter is one unit: a package whose compute is apart from its presentation

CHAPTER_PACKAGES = sorted(p.parent for p in (PACKAGE / "chapters").glob("*/__init__.py"))
#: What only a chapter's presentation (``present.py``) and its declaration (``__init__.py``) may import.
PRESENTATION = ("matplotlib", "seaborn", "IPython", "cdp_analysis.output.figures", "cdp_analysis.output.notebook",
                "cdp_analysis.output.table_html", "cdp_analysis.output.report", "html")


def test_every_chapter_is_a_package_with_compute_and_presentation():
    assert {p.name for p in CHAPTER_PACKAGES} == set(chapters.all_chapters())
    for package in CHAPTER_PACKAGES:
        assert (package / "compute.py").is_file() and (package / "present.py").is_file(), package.name


@pytest.mark.parametrize("path", sorted((PACKAGE / "chapters").rglob("*.py")), ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_chapter_module_is_over_500_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 500


def _all_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it, absolute names (relative ones resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - (node.level - 1)] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found |= {target, *(f"{target}.{a.name}" for a in node.names)}
    return found


def _is_presentation(path: Path) -> bool:
    """A chapter's presentation: ``present.py``, and ``present_<part>.py`` where it is split by concept (the outcomes
    chapter's board page and shared words)."""
    return path.name == "present.py" or path.name.startswith("present_")


@pytest.mark.parametrize("path", [p for pkg in CHAPTER_PACKAGES for p in sorted(pkg.glob("*.py"))
                                  if not _is_presentation(p) and p.name != "__init__.py"],
                         ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_a_chapters_compute_draws_no_figure_and_writes_no_html(path):
    for imported in _all_imports(path):
        assert not imported.startswith(PRESENTATION), f"{path.relative_to(PACKAGE)} imports {imported}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_import_of_the_package_resolves(path):
    """A relative import moved one folder deeper (``..data`` → ``...data``) is caught even inside a function."""
    for imported in _all_imports(path):
        if not imported.startswith("cdp_analysis"):
            continue
        parent = imported.rsplit(".", 1)[0]
        assert _exists(imported) or _exists(parent), f"{path.relative_to(PACKAGE)} imports {imported}, not found"


def test_a_chapter_imports_only_the_chapters_it_declares_it_reads():
    for package in CHAPTER_PACKAGES:
        chapter = chapters.all_chapters()[package.name]
        for path in package.glob("*.py"):
            for imported in _all_imports(path):
                parts = imported.split(".")
                if len(parts) > 2 and parts[1] == "chapters" and parts[2] in chapters.all_chapters():
                    other = parts[2]
                    assert other == chapter.name or other in chapter.reads_chapters, \
                        f"{path.relative_to(PACKAGE)} imports chapter '{other}', not in its reads_chapters"


def test_a_chapters_presentation_loads_no_data_and_its_compute_never_imports_it():
    """``present.py`` (and any ``present_<part>.py``) words and draws what ``build`` computed: from the data layer it
    may read only the register (editions, notes, citations) and ``datasets()`` (a dataset's title), never a dataset
    module; and no compute-side module of the package (``compute.py``, ``spine.py`` …) imports its presentation."""
    for package in CHAPTER_PACKAGES:
        presentation = [p for p in sorted(package.glob("*.py")) if _is_presentation(p)]
        for present in presentation:
            for imported in _all_imports(present):
                parts = imported.split(".")
                if parts[:2] == ["cdp_analysis", "data"] and len(parts) > 2:
                    assert parts[2] in ("register", "datasets"), \
                        f"{present.relative_to(PACKAGE)} imports {imported}: load data in the chapter's build"
        own = {_module_name(p) for p in presentation}
        for path in sorted(package.glob("*.py")):
            if _is_presentation(path) or path.name == "__init__.py":
                continue
            for imported in _all_imports(path):
                assert not any(imported == m or imported.startswith(m + ".") for m in own), \
                    f"{path.relative_to(PACKAGE)} imports {imported}: compute never imports the presentation"
