"""Provenance to the cell and to the choice (issue 22).

**To the cell**: every value of ``drug_deaths`` read from the ONS workbook names its cell(s) in ``source_cell``,
and the registered workbook, opened afresh, holds that value there. The check opens the workbook with openpyxl
(read-only) and reads each named cell by its coordinate, not by the loader's row counting, so a wrong row or
column offset in the loader or the chapter fails it (proven below by shifting the references by one). A value
built from several cells (a CDP of several members, a current area summed from its predecessor districts) must
be their sum, and the cells must be the rows of exactly those areas.

**To the choice**: ``run.json`` names, for each table, the inputs that decided which rows appear
(``decided_by``): the comparator set behind its neighbour rows (name, codes, source), the outcomes catalogue,
and the partnership's own files named in the settings, each with its checksum.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from cdp_analysis import paths
from cdp_analysis.areas import comparators, vintage
from cdp_analysis.chapters import outcomes, partnerships, treatment_gap, trends
from cdp_analysis.data import local_data, ons_drug_deaths, ons_nearest_neighbours, register
from cdp_analysis.output import provenance, tidy

CDPS = ("nottinghamshire", "northamptonshire")
REF = re.compile(r"^(?P<sheet>[^!]+)!(?P<column>[A-Z]{1,3})(?P<row>[1-9]\d*)$")


@pytest.fixture(scope="module")
def deaths() -> dict[str, pd.DataFrame]:
    out = {}
    for slug in CDPS:
        cdp = partnerships.get(slug)
        out[slug] = trends.deaths_table(cdp, cdp.chapter_settings("trends"))
    return out


@pytest.fixture(scope="module")
def workbook():
    """The registered workbook, checked against its register checksum: ``(citation, read)`` where ``read(refs)``
    gives each reference's value and the area code in column A of its row."""
    path = register.file_of_kind(ons_drug_deaths.WORKBOOK.kind)
    entry = register.entry_of(path)
    assert entry is not None and register.sha256_of(path) == entry.sha256

    def read(refs: set[str]) -> dict[str, tuple[object, object]]:
        wanted: dict[str, set[tuple[int, str]]] = {}
        for ref in refs:
            m = REF.match(ref)
            assert m, f"'{ref}' is not a cell reference 'Sheet!A1'"
            wanted.setdefault(m["sheet"], set()).add((int(m["row"]), m["column"]))
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
        found = {}
        try:
            for sheet, cells in wanted.items():
                rows = {r for r, _ in cells}
                columns = {c for _, c in cells}
                for row in wb[sheet].iter_rows(min_row=min(rows), max_row=max(rows)):
                    cell = next((c for c in row if hasattr(c, "row")), None)
                    if cell is None or cell.row not in rows:
                        continue
                    code = next((c.value for c in row if getattr(c, "column_letter", "") == "A"), None)
                    for c in row:
                        if getattr(c, "column_letter", None) in columns and (c.row, c.column_letter) in cells:
                            found[f"{sheet}!{c.column_letter}{c.row}"] = (c.value, code)
        finally:
            wb.close()
        return {ref: found.get(ref, (None, None)) for ref in refs}

    return entry.citation, read


def _number(value) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def problems(table: pd.DataFrame, citation: str, read) -> list[str]:
    """What is wrong with the ``source_cell`` of the rows of ``table`` read from the workbook (empty if nothing)."""
    ons = table[table["source"].str.split("; ").map(lambda parts: citation in parts)]
    refs = {r for text in ons["source_cell"] for r in text.split(" + ") if r}
    cells = read(refs)
    out = []
    for r in ons.itertuples():
        where = f"{r.area_name} ({r.area_role}), {r.indicator_id}, {r.time_period}"
        if not r.source_cell:
            if not np.isnan(r.value) or not r.value_note:
                out.append(f"{where}: value {r.value} names no cell")
            continue
        named = r.source_cell.split(" + ")
        if len(set(named)) != len(named):
            out.append(f"{where}: a cell is named twice ({r.source_cell})")
        values = [cells[ref][0] for ref in named]
        numbers = [n for n in map(_number, values) if n is not None]
        others = [v for v, n in zip(values, map(_number, values)) if n is None and v not in (None, "", ":")]
        if others:
            out.append(f"{where}: {r.source_cell} holds text {others}, not a number or ONS's ':'")
        if np.isnan(r.value):
            # no value: no cell holds a number, or (a sum withheld because a member's cell is blank) one does not
            if numbers and (len(numbers) == len(values) or not r.value_note):
                out.append(f"{where}: blank value but {r.source_cell} holds {numbers}")
        elif not numbers or abs(sum(numbers) - r.value) > 1e-9 * max(1.0, abs(r.value)):
            out.append(f"{where}: value {r.value} but {r.source_cell} holds {values} (sum {sum(numbers)})")
        # the cells are the rows of exactly the areas summed
        codes = [cells[ref][1] for ref in named]
        members = [m for m in str(r.area_members or "").split("; ") if m]
        if r.geography_basis == vintage.AGGREGATED:
            expected = set(vintage.predecessors(r.area_code))
            ok = set(codes) <= expected and len(codes) > 1
        else:
            expected = set(members) if members else {r.area_code}
            ok = set(codes) == expected and len(codes) == len(expected)
        if not ok:
            out.append(f"{where}: {r.source_cell} are the rows of {codes}, expected {sorted(expected)}")
    return out


@pytest.mark.parametrize("slug", CDPS)
def test_every_workbook_value_of_drug_deaths_names_the_cells_that_hold_it(deaths, workbook, slug):
    citation, read = workbook
    t = deaths[slug]
    ons = t[t["source"].str.split("; ").map(lambda parts: citation in parts)]
    assert len(ons) == len(t) > 1000  # every row of drug_deaths comes from the workbook
    with_value = ons[ons["value"].notna()]
    assert (with_value["source_cell"] != "").all()
    found = problems(t, citation, read)
    assert not found, "\n".join(found[:10])
    # each kind of row is covered: annual and pooled counts, published rates, sums of several cells
    kinds = {(m, "-" in p) for m, p in zip(with_value["measure"], with_value["time_period"])}
    assert kinds == {("deaths", False), ("deaths", True), ("asmr", True)}
    assert with_value.loc[with_value["measure"] == "asmr", "source_cell"].str.match(r"Table [3-8]!").all()
    assert with_value.loc[with_value["measure"] == "deaths", "source_cell"].str.match(r"Table [1-8]!").all()
    summed = with_value[with_value["source_cell"].str.contains(" + ", regex=False)]
    if slug == "northamptonshire":  # North + West Northamptonshire, as published (back-cast) by ONS
        cdp = summed[summed["area_role"] == "cdp"]
        assert len(cdp) and (cdp["source_cell"].str.count(r" \+ ") == 1).all()
    else:  # Somerset, a neighbour, summed from its four districts of the May 2022 boundaries
        assert (summed["geography_basis"] == vintage.AGGREGATED).all() and len(summed)


def test_the_check_fails_on_a_wrong_row_or_column(deaths, workbook):
    """A reference one row down (or one column right: the rate's neighbour, a flag or a limit) is caught."""
    citation, read = workbook
    t = deaths["northamptonshire"]
    t = t[t["value"].notna() & (t["value"] > 0)].head(300)

    def shift(text: str, rows: int = 0, columns: int = 0) -> str:
        def one(ref: str) -> str:
            m = REF.match(ref)
            col = openpyxl.utils.get_column_letter(openpyxl.utils.column_index_from_string(m["column"]) + columns)
            return f"{m['sheet']}!{col}{int(m['row']) + rows}"
        return " + ".join(one(r) for r in text.split(" + "))

    assert not problems(t, citation, read)
    for rows, columns in ((1, 0), (-1, 0), (0, 1)):
        wrong = t.assign(source_cell=t["source_cell"].map(lambda s, r=rows, c=columns: shift(s, r, c)))
        assert len(problems(wrong, citation, read)) > len(t) // 2, (rows, columns)


# --- to the choice: run.json's decided_by ------------------------------------------------------------------------


def _one(entries: list[dict], kind: str) -> dict:
    found = [d for d in entries if d["input"] == kind]
    assert len(found) == 1, (kind, entries)
    return found[0]


def test_run_json_names_the_comparator_set_and_the_catalogue_that_chose_the_rows(runs):
    _, first, _, _ = runs
    workbook = ons_nearest_neighbours.workbook_file()
    catalogue = local_data.catalogue_path()
    for result in first:
        run = json.loads((result.output_dir / "run.json").read_text(encoding="utf-8"))
        cdp = partnerships.get(result.slug)
        # treatment_gap.csv: most of its rows are comparator areas, chosen from the ONS nearest-neighbours file
        gap = pd.read_csv(result.output_dir / "tables" / "treatment_gap.csv", dtype=str, keep_default_na=False)
        seen = set(gap.loc[gap["area_role"] == "neighbour", "area_code"])
        assert len(seen) >= 10
        for output in ("tables/treatment_gap.csv", "fingertips/treatment_gap.csv"):
            chosen = _one(run["outputs"][output]["decided_by"], "comparator set")
            assert seen <= set(chosen["codes"]) and "codes_not_in_set" not in chosen
            assert chosen["codes"] == list(comparators.for_cdp(cdp)["code"])
            assert chosen["name"] == comparators.ONS_SET and chosen["n_neighbours"] == cdp.settings.n_neighbours
            assert chosen["path"] == register.entry_of(workbook).path
            assert chosen["source"] == ons_nearest_neighbours.citation()
            assert chosen["sha256"] == register.sha256_of(workbook) == run["data_sha256"][chosen["path"]]
        # every table with comparator rows names the set; a table without names none
        for path in sorted((result.output_dir / "tables").glob("*.csv")):
            t = pd.read_csv(path, dtype=str, keep_default_na=False)
            named = [d for d in run["outputs"][f"tables/{path.name}"]["decided_by"] if d["input"] == "comparator set"]
            assert bool(named) == (t["area_role"] == "neighbour").any(), path.name
        # outcomes.csv: one row per metric of the catalogue
        entries = run["outputs"]["tables/outcomes.csv"]["decided_by"]
        listed = _one(entries, "outcomes catalogue")
        assert listed["path"] == "data/catalogue/outcomes_metrics.csv"
        assert listed["sha256"] == register.sha256_of(catalogue)
        assert "outcomes catalogue" not in {d["input"] for d in run["outputs"]["tables/drug_deaths.csv"]["decided_by"]}
        # no local files are named for the default CDPs
        assert not [d for o in run["outputs"].values() for d in o["decided_by"] if d["input"] == "local file"]


def test_an_analysts_own_files_are_named_with_their_checksums(tmp_path):
    """In process: the partnership's ViewIt export (Barnet's worked example) and local outcomes files (the
    synthetic example), written and collected as the runner does."""
    barnet = partnerships.get("barnet")
    gap = treatment_gap.build(barnet)
    tidy.save_table(gap.gap, "treatment_gap", tmp_path)
    example = partnerships.from_file(paths.project_root() / "data" / "examples" / "nottinghamshire-made-up.yaml")
    o = outcomes.build(example)
    tidy.save_table(o.outcomes, "outcomes", tmp_path)
    out = provenance.collect(tmp_path, comparator_set=comparators.described(barnet))
    viewit = _one(out["tables/treatment_gap.csv"]["decided_by"], "local file")
    (named,) = barnet.chapter_settings("treatment_gap").files("viewit")
    assert viewit["setting"] == "treatment_gap.viewit" and viewit["sha256"] == register.sha256_of(named)
    assert viewit["path"] == register.entry_of(named).path  # a registered file: by its path in data/raw
    local = [d for d in out["tables/outcomes.csv"]["decided_by"] if d["input"] == "local file"]
    files = example.chapter_settings("outcomes").files("local_data")
    assert [d["path"] for d in local] == [f.relative_to(paths.project_root()).as_posix() for f in files]
    assert [d["sha256"] for d in local] == [register.sha256_of(f) for f in files]
    assert {d["setting"] for d in local} == {"outcomes.local_data"}
    assert _one(out["tables/outcomes.csv"]["decided_by"], "outcomes catalogue")["path"] == \
        "data/catalogue/outcomes_metrics.csv"


def test_an_analysts_comparator_set_is_traced_to_the_params_file_that_names_it(project):
    cdp_file = project / "params" / "cdps" / "northamptonshire.yaml"
    codes = ["E10000024", "E06000018", "E10000018"]
    cdp_file.write_text(cdp_file.read_text(encoding="utf-8") + f"comparators:\n  name: CIPFA nearest neighbours\n"
                        f"  areas: {json.dumps(codes)}\n", encoding="utf-8")
    cdp = partnerships.get("northamptonshire")
    chosen = comparators.described(cdp)
    assert (chosen["name"], chosen["codes"]) == ("CIPFA nearest neighbours", codes)
    assert chosen["source"] == chosen["path"] == "params/cdps/northamptonshire.yaml"
    assert chosen["sha256"] == register.sha256_of(cdp_file)
    assert Path(project / chosen["path"]).is_file()


def test_a_source_cell_is_a_cell_or_cells_joined_by_plus(deaths):
    t = deaths["northamptonshire"]
    tidy.check_tidy(t, "drug_deaths")
    for bad in ("E123", "Table 1!123", "Table 1!E123+Table 1!E124", "Table 1!E0"):
        with pytest.raises(ValueError, match="source_cell"):
            tidy.check_tidy(t.assign(source_cell=bad), "drug_deaths")
    assert (tidy.conform(t.drop(columns="source_cell"))["source_cell"] == "").all()  # other tables: blank
    assert "source_cell" not in tidy.to_fingertips_csv_text(t).splitlines()[0]
