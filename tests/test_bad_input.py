"""Bad input: one readable message, exit status 2, no traceback, earlier outputs untouched.

Each scenario breaks a copy of the project (the ``project`` fixture) the way an analyst might — a typo
on the command line, a mis-indented YAML file, a workbook re-saved with extra rows, a truncated
download — and checks that the analyst is told which file, which row/column or key, and what to do.
``docs/bad-input.md`` lists the scenarios with the messages they produce; add a row there and a test
here for every new input.

Most checks call the loaders in-process (cheap); a subset goes through the ``cdp`` command in a
subprocess, as an analyst would run it, to check the exit status and that no traceback is printed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

import cdp_analysis
from cdp_analysis.areas import current_population, vintage
from cdp_analysis.chapters import partnerships, population_profile
from cdp_analysis.data import imd2019, ons_nearest_neighbours, ons_population
from cdp_analysis.errors import InputError

SHARED_CACHE = Path(__file__).resolve().parent.parent / "data" / "cache"  # as in conftest.py
POP = Path("data/raw/ons_population")
MYE22 = POP / "mye22final.xlsx"
MYE24_CSV = POP / "mye24tablesew_MYE2_persons.csv"
MYE15_XLS = POP / "ukmidyearestimates2015_MYE2.xls"
MYE16_XLS = POP / "ukmidyearestimates2016.xls"
CODE_CHANGES = Path("data/raw/lookups/la_code_changes_england_from_mysociety.csv")
REPO_DATA = Path(__file__).resolve().parent.parent  # the checkout, whose data/raw is intact
IMD_LTLA = Path("data/raw/imd2019/imd2019_england_ltla23_humaniverse.csv")
IMD_UTLA = Path("data/raw/imd2019/IoD2019_UTLA19_IMD_average_score.csv")
NN = Path("data/raw/ons_nearest_neighbours/localauthoritynearestneighboursengland.xlsx")
DEFAULTS = Path("params/defaults.yaml")
NORTHANTS = Path("params/cdps/northamptonshire.yaml")


# --------------------------------------------------------------------------------------------------
# helpers


def assert_cli_input_error(proc, *needles: str, status: int = 2) -> str:
    """The command failed with ``status``, printed a short message with a hint and no traceback."""
    err = proc.stderr
    assert proc.returncode == status, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{err}"
    assert "Traceback" not in err and "Traceback" not in proc.stdout, err
    assert len(err.strip().splitlines()) < 15, err
    assert "->" in err, err
    for needle in needles:
        assert needle in err, f"{needle!r} not in:\n{err}"
    return err


def assert_message(exc: pytest.ExceptionInfo, *needles: str) -> str:
    """The InputError's message contains every needle and a hint."""
    msg = exc.value.message
    assert "\n  -> " in msg, msg
    for needle in needles:
        assert needle in msg, f"{needle!r} not in:\n{msg}"
    return msg


def reregister(path: Path) -> None:
    """Record a raw file's new SHA-256 in its project's ``data/register.yaml``, as an analyst registering a new
    edition does, so that ``cdp run`` gets past the checksum gate to the loader's own checks. Files outside a
    project's ``data/raw`` (params, notebooks) are left alone."""
    path = Path(path).resolve()
    root = next((p for p in path.parents if (p / "data" / "register.yaml").is_file()), None)
    if root is None or (root / "data" / "raw") not in path.parents or not path.is_file():
        return
    reg = root / "data" / "register.yaml"
    rel = path.relative_to(root / "data" / "raw").as_posix()
    lines = reg.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == f"- path: {rel}"), None)
    if start is None:
        return
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("- path:"):
            break
        if lines[i].strip().startswith("sha256:"):
            lines[i] = f"    sha256: {hashlib.sha256(path.read_bytes()).hexdigest()}\n"
            break
    reg.chmod(0o644)
    reg.write_text("".join(lines), encoding="utf-8")


def write(path: Path, text: str) -> None:
    """Overwrite a (possibly read-only, copied) file; a raw data file is registered as a new edition."""
    if path.exists():
        path.chmod(0o644)
    path.write_text(text, encoding="utf-8")
    reregister(path)


def edit_csv(path: Path, edit) -> None:
    """Rewrite a CSV through ``edit(rows)``, keeping its byte-order mark and line endings (and register it)."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = edit(rows)
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n" if "\r\n" in text else "\n").writerows(rows)
    path.chmod(0o644)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    reregister(path)


def drop_column(name: str):
    def edit(rows):
        j = rows[0].index(name)
        return [r[:j] + r[j + 1:] for r in rows]
    return edit


def set_cell(line: int, column: str, value: str):
    """Set the cell on ``line`` (as a text editor numbers it; the header is line 1) in ``column``."""
    def edit(rows):
        rows[line - 1][rows[0].index(column)] = value
        return rows
    return edit


def rebuild_mye2_workbook(src: Path, dst: Path, edit=lambda rows: rows, rename_sheets: dict | None = None) -> None:
    """Write a workbook holding the MYE2 sheets of ``src``, each sheet's rows passed through ``edit``.

    (openpyxl's full load and save of a 3.5 MB workbook takes ~13 s; re-writing the three sheets we
    read in write-only mode takes ~1 s.)
    """
    import openpyxl

    rb = openpyxl.load_workbook(src, read_only=True)
    wb = openpyxl.Workbook(write_only=True)
    try:
        for name in rb.sheetnames:
            if name.startswith("MYE2 - "):
                ws = wb.create_sheet((rename_sheets or {}).get(name, name))
                for row in edit([list(r) for r in rb[name].iter_rows(values_only=True)]):
                    ws.append(row)
    finally:
        rb.close()
    if dst.exists():
        dst.chmod(0o644)
    wb.save(dst)
    reregister(dst)


def rename_header_cell(old: str, new: str):
    def edit(rows):
        for r in rows:
            if old in r and "Name" in r:
                r[r.index(old)] = new
                break
        return rows
    return edit


def insert_rows_above_header(n: int):
    def edit(rows):
        return rows[:1] + [[f"Note {i + 1}: a line added by hand"] for i in range(n)] + rows[1:]
    return edit


def snapshot(folder: Path) -> dict[str, tuple[str, int]]:
    """SHA-256 and modification time of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def reload():
    cdp_analysis.clear_caches()


def from_parameters(slug, name, members, years, n_neighbours):
    """What the population notebook does with its parameters cell (``CHAPTER.from_parameters``)."""
    return population_profile.CHAPTER.from_parameters(cdp_slug=slug, cdp_name=name, members=members,
                                                      population_years=years, n_neighbours=n_neighbours)


# --------------------------------------------------------------------------------------------------
# 1. unknown CDP name or area code


def test_cli_unknown_cdp_name_suggests_closest(project, cli):
    err = assert_cli_input_error(cli("run", "nottinghamshir", root=project), "unknown CDP or area 'nottinghamshir'",
                                 "did you mean 'nottinghamshire'?", "cdp areas")
    assert err.startswith("error: ")
    assert not (project / "outputs" / "nottinghamshir").exists()


def test_cli_unknown_area_code_suggests_closest(project, cli):
    assert_cli_input_error(cli("run", "E10000099", root=project), "unknown CDP or area 'E10000099'",
                           "did you mean 'E10000029'?")


def test_former_area_code_on_the_command_line_names_successors(project):
    with pytest.raises(InputError) as exc:
        partnerships.get("E10000021")
    assert_message(exc, "'E10000021' (Northamptonshire) is a former area code", "E06000061", "E06000062", "cdp areas")


# --------------------------------------------------------------------------------------------------
# 2. a former (legacy) code as a CDP member


def test_cli_legacy_member_code_names_file_key_and_successors(project, cli):
    write(project / "params/cdps/old-northants.yaml", "name: Old Northamptonshire\nmembers: [E10000021]\n")
    assert_cli_input_error(cli("run", "old-northants", root=project), "params/cdps/old-northants.yaml",
                           "key 'members', item 1", "'E10000021' (Northamptonshire) is a former area code",
                           "replaced by E06000061 North Northamptonshire, E06000062 West Northamptonshire",
                           "replace it with the current code(s)")


def test_unknown_member_code_suggests_closest(project):
    write(project / NORTHANTS, "name: Northamptonshire\nmembers: [E06000061, E0600062]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "northamptonshire.yaml", "key 'members', item 2", "'E0600062' is not a current",
                   "did you mean 'E06000062'?")


def test_member_listed_twice(project):
    write(project / NORTHANTS, "name: Northamptonshire\nmembers: [E06000061, E06000061]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "northamptonshire.yaml", "key 'members'", "listed twice")


# --------------------------------------------------------------------------------------------------
# 3. malformed YAML


def test_cli_bad_indentation_in_defaults_names_file_and_line(project, cli):
    write(project / DEFAULTS, "population_profile:\n  population_years: [2020, 2022, 2024]\n"
                              " n_neighbours: 15\n")
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), "params/defaults.yaml", "line 3",
                           "not valid YAML", "indentation")


@pytest.mark.parametrize("text, line, hint", [
    ("name: Northamptonshire\nmembers: [E06000061, E06000062\nn_neighbours: 10\n", "line 3", "indentation"),
    ("name: Northamptonshire\nmembers:\n\t- E06000061\n\t- E06000062\n", "line 3", "spaces, not tabs"),
    ("name: Northamptonshire\nmembers: [E06000061, E06000062]\nn_neighbours 10\n", "line 4", "': '"),
], ids=["unclosed-bracket", "tab-indent", "missing-colon"])
def test_malformed_cdp_file_names_file_and_line(project, text, line, hint):
    write(project / NORTHANTS, text)
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "params/cdps/northamptonshire.yaml", line, "not valid YAML", hint)


def test_yaml_that_is_not_a_mapping(project):
    write(project / DEFAULTS, "- notebooks\n- n_neighbours\n")
    with pytest.raises(InputError) as exc:
        partnerships.defaults()
    assert_message(exc, "params/defaults.yaml", "expected 'key: value' lines")


# --------------------------------------------------------------------------------------------------
# 4. unknown key


def test_cli_misspelt_key_in_defaults_suggests_correct_one(project, cli):
    text = (project / DEFAULTS).read_text().replace("n_neighbours: 15", "n_neighbors: 10")
    write(project / DEFAULTS, text)
    # the misspelling is reported, not the 'missing n_neighbours' it causes
    err = assert_cli_input_error(cli("run", "nottinghamshire", root=project), "params/defaults.yaml",
                                 "key 'n_neighbors'", "unknown key", "did you mean 'n_neighbours'?")
    assert "missing" not in err


def test_unknown_key_in_cdp_file_lists_valid_keys(project):
    write(project / NORTHANTS, "name: Northamptonshire\nmembers: [E06000061, E06000062]\ncolour: blue\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "northamptonshire.yaml", "key 'colour'", "unknown key", "valid keys are: name, members")


def test_missing_required_key(project):
    write(project / NORTHANTS, "name: Northamptonshire\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "northamptonshire.yaml", "key 'members'", "required key 'members' is missing", "add 'members:'")


def test_unknown_chapter_in_params_names_the_chapters(project):
    path = project / "params/defaults.yaml"
    path.write_text(path.read_text() + "chapters: [population_profil]\n")
    cdp_analysis.clear_caches()
    with pytest.raises(InputError) as exc:
        partnerships.defaults()
    msg = exc.value.message
    assert "key 'chapters'" in msg and "unknown chapter 'population_profil'" in msg and "population_profile" in msg


@pytest.mark.parametrize("old_key, needle", [
    ("notebooks: [01_population_profile]", "replaced by 'chapters'"),
    ("population_years: [2020, 2024]", "population_profile:"),
])
def test_keys_of_earlier_params_files_say_where_they_went(project, old_key, needle):
    path = project / "params/cdps/northamptonshire.yaml"
    path.write_text(path.read_text() + old_key + "\n")
    cdp_analysis.clear_caches()
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert "unknown key" in exc.value.message and needle in exc.value.message


def test_notebook_parameter_the_chapter_does_not_declare(project):
    with pytest.raises(InputError) as exc:
        population_profile.CHAPTER.from_parameters(cdp_slug="nottinghamshire", cdp_name="Nottinghamshire",
                                                   members=["E10000024"], population_yeras=[2020, 2024])
    assert_message(exc, "parameter", "unknown parameter 'population_yeras'", "did you mean 'population_years'?")


@pytest.mark.parametrize("areas, needles", [
    ("[E10000007, E1000019]", ["key 'comparators', 'areas', item 2", "'E1000019' is not a current",
                               "did you mean 'E10000019'?"]),
    ("[E10000007, E06000062]", ["key 'comparators', 'areas'", "West Northamptonshire", "member of the CDP"]),
    ("E10000007", ["key 'areas' (in section 'comparators')", "valid list"]),
], ids=["mistyped-code", "a-member", "not-a-list"])
def test_bad_comparator_list_names_file_key_and_fix(project, areas, needles):
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + f"comparators:\n  name: CIPFA\n  areas: {areas}\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "northamptonshire.yaml", *needles)


# --------------------------------------------------------------------------------------------------
# 5. wrong type or value


def test_cli_wrong_type_names_file_key_and_expected_type(project, cli):
    write(project / DEFAULTS, (project / DEFAULTS).read_text().replace("n_neighbours: 15", 'n_neighbours: "ten"'))
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), "params/defaults.yaml", "key 'n_neighbours'",
                           "valid integer", "'ten'", "whole number from 1 to 152")


@pytest.mark.parametrize("old, new, key, needles", [
    ("population_years: [2020, 2022, 2024]", "population_years: 2020", "population_years",
     ["valid list", "got 2020", "e.g. [2020, 2022, 2024]"]),
    ("population_years: [2020, 2022, 2024]", "population_years: [2022, 2020]", "population_years",
     ["ascending order", "[2022, 2020]"]),
    ("population_years: [2020, 2022, 2024]", "population_years: [2020, '2022']", "population_years",
     ["item 2", "valid integer", "'2022'"]),
    ("n_neighbours: 15", "n_neighbours: 0", "n_neighbours", ["greater than or equal to 1", "from 1 to 152"]),
    ("n_neighbours: 15", "n_neighbours: 15.5", "n_neighbours", ["valid integer", "15.5"]),
    ("n_neighbours: 15", "n_neighbours: 15\nchapters: []", "chapters", ["at least 1 item"]),
], ids=["years-not-a-list", "years-descending", "year-as-text", "neighbours-zero", "neighbours-fraction",
        "no-chapters"])
def test_wrong_type_in_defaults(project, old, new, key, needles):
    text = (project / DEFAULTS).read_text()
    assert old in text
    write(project / DEFAULTS, text.replace(old, new))
    with pytest.raises(InputError) as exc:
        partnerships.defaults()
    assert_message(exc, "params/defaults.yaml", f"key '{key}'", *needles)


def test_wrong_type_in_cdp_file(project):
    write(project / NORTHANTS, "name: Northamptonshire\nmembers: E06000061\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "northamptonshire.yaml", "key 'members'", "valid list", "e.g. [E06000061, E06000062]")


def test_year_without_population_estimates_names_file_and_key(project):
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + "population_profile:\n  population_years: [2020, 2023]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("northamptonshire")
    assert_message(exc, "params/cdps/northamptonshire.yaml", "key 'population_years'", "mid-2023",
                   "choose from 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2024")


def test_population_file_set_missing_a_year_lists_the_years_held(project):
    (project / MYE16_XLS).unlink()
    reload()
    with pytest.raises(InputError) as exc:
        current_population.current_areas([2015, 2016])
    assert_message(exc, "population year", "no population estimates for mid-2016",
                   "choose from 2015, 2017, 2018, 2019, 2020, 2021, 2022, 2024 (the years in data/raw/ons_population)")


# --------------------------------------------------------------------------------------------------
# 6. a missing raw file


@pytest.mark.parametrize("path, loader, expected", [
    (NN, ons_nearest_neighbours.distances, "ons_nearest_neighbours/localauthoritynearestneighboursengland.xlsx"),
    (IMD_LTLA, imd2019.imd_scores, "imd2019/imd2019_england_ltla23_humaniverse.csv"),
    (Path("data/raw/lookups/la_code_changes_england_from_mysociety.csv"), vintage.code_changes,
     "lookups/la_code_changes_england_from_mysociety.csv"),
], ids=["nearest-neighbours", "imd-ltla", "code-changes"])
def test_missing_raw_file_names_folder_expected_file_and_source(project, path, loader, expected):
    (project / path).unlink()
    reload()
    with pytest.raises(InputError) as exc:
        loader()
    assert_message(exc, str(project / path.parent), f"(expected {expected})", "file found",
                   "copy it unchanged from ../shared/data/")


def test_missing_population_workbooks(project):
    for p in (project / POP).glob("*.xlsx"):
        p.unlink()
    reload()
    with pytest.raises(InputError) as exc:
        ons_population.estimates()
    assert_message(exc, "ons_population", "mye22final.xlsx", "no mye2 workbook file found", "../shared/data/")


def test_cli_missing_nearest_neighbours_workbook(project, cli):
    # checked before any notebook starts, so `cdp run --all` reports it once, not once per CDP
    (project / NN).unlink()
    err = assert_cli_input_error(cli("run", "nottinghamshire", root=project),
                                 str(project / NN.parent), "no nearest neighbours file found",
                                 "expected ons_nearest_neighbours/localauthoritynearestneighboursengland.xlsx",
                                 "copy it unchanged from ../shared/data/")
    assert err.startswith("error: ") and err.count("no nearest neighbours file found") == 1
    assert not (project / "outputs").exists() or not any((project / "outputs").iterdir())


def test_cli_data_check_reports_missing_file(project, cli):
    (project / NN).unlink()
    proc = cli("data", root=project)
    assert_cli_input_error(proc, "ons_nearest_neighbours/localauthoritynearestneighboursengland.xlsx: missing",
                           "../shared/data/")
    assert "!!  ons_nearest_neighbours/localauthoritynearestneighboursengland.xlsx" in proc.stdout


# --------------------------------------------------------------------------------------------------
# 7. a truncated or corrupt workbook


def test_cli_truncated_population_workbook(project, cli):
    path = project / MYE22
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[: len(data) // 2])
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(path), "truncated or corrupt",
                           "copy the file again, unchanged, from ../shared/data/")


def _damaged(data: bytes, damage: str) -> bytes:
    middle = len(data) // 2
    return {"truncate": data[:middle], "not-a-workbook": b"<html>404 Not Found</html>", "empty": b"",
            "scrambled": data[:middle] + b"\xff" * 20_000 + data[middle + 20_000:]}[damage]


@pytest.mark.parametrize("damage", ["truncate", "not-a-workbook", "empty", "scrambled"])
def test_truncated_or_corrupt_old_population_workbook(project, damage):
    """An old Excel (.xls) edition cut short, replaced by an error page, empty, or damaged inside a sheet."""
    path = project / MYE16_XLS
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(_damaged(data, damage))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population.estimates()
    msg = assert_message(exc, str(path), "truncated or corrupt", "copy the file again, unchanged, from ../shared/data/")
    assert "old Excel (.xls) workbook" in msg or "sheet '" in msg


def test_cli_truncated_old_population_workbook(project, cli):
    path = project / MYE15_XLS
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[: len(data) // 3])
    reregister(path)  # past the checksum gate, to the reader's own message
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(path),
                           "cannot be opened as an old Excel (.xls) workbook; it looks truncated or corrupt",
                           "copy the file again, unchanged, from ../shared/data/")


@pytest.mark.parametrize("damage", ["truncate", "not-a-workbook", "empty"])
def test_corrupt_nearest_neighbours_workbook(project, damage):
    path = project / NN
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes({"truncate": data[: len(data) // 2], "not-a-workbook": b"<html>404 Not Found</html>",
                      "empty": b""}[damage])
    reload()
    with pytest.raises(InputError) as exc:
        ons_nearest_neighbours.distances()
    assert_message(exc, str(path), "truncated or corrupt", "../shared/data/")


# --------------------------------------------------------------------------------------------------
# 8. a workbook whose header row moved or was renamed


def test_header_moved_down_still_loads_identical_numbers(project, tmp_path, monkeypatch):
    # a private cache (seeded from the shared one) so the altered workbook's parse is not kept in data/cache
    cache = tmp_path / "cache"
    cache.mkdir()
    for f in SHARED_CACHE.glob("mye2-*.parquet"):
        shutil.copy2(f, cache / f.name)
    monkeypatch.setenv("CDP_ANALYSIS_CACHE", str(cache))
    reload()
    before = ons_population.estimates()
    rebuild_mye2_workbook(project / MYE22, project / MYE22, insert_rows_above_header(3))
    reload()
    after = ons_population.estimates()
    key = ["year", "code", "sex", "age"]
    b = before.sort_values(key, ignore_index=True)
    a = after.sort_values(key, ignore_index=True)
    pd.testing.assert_frame_equal(a.drop(columns="source_row"), b.drop(columns="source_row"))
    moved = (a["year"] == 2022).to_numpy()
    assert ((a["source_row"] - b["source_row"])[moved] == 3).all()
    assert ((a["source_row"] - b["source_row"])[~moved] == 0).all()


def test_cli_renamed_header_column_names_sheet_row_and_closest_column(project, cli):
    rebuild_mye2_workbook(project / MYE22, project / MYE22, rename_header_cell("Code", "Area code"))
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(project / MYE22),
                           "sheet 'MYE2 - Persons', row 8", "lacks the column(s) 'Code'",
                           "the closest column found is 'Area code'")


def test_missing_sheet_suggests_closest(project):
    rebuild_mye2_workbook(project / MYE22, project / MYE22, rename_sheets={"MYE2 - Males": "MYE2 - Male"})
    with pytest.raises(InputError) as exc:
        ons_population.parse_mye2_workbook(project / MYE22)
    assert_message(exc, str(project / MYE22), "sheet 'MYE2 - Males' not found", "did you mean 'MYE2 - Male'?")


def hide_xls_sheet(path: Path, sheet: str) -> None:
    """Take a worksheet out of an old Excel (.xls) workbook as Excel would see it: its BOUNDSHEET record (id
    0x0085: stream offset, visibility, type, then the name's length, flags and characters) is marked a chart
    sheet, which no reader takes for a worksheet. The sheet's cells stay in the file, unreachable."""
    data = bytearray(path.read_bytes())
    name = sheet.encode("latin-1")
    at = data.find(bytes([len(name), 0]) + name)
    assert at > 10 and data[at - 10:at - 8] == b"\x85\x00", "the sheet's BOUNDSHEET record was not found"
    data[at - 1] = 0x02
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    reregister(path)


def test_old_population_workbook_missing_a_sheet(project):
    """Sheets of the old editions are found by content (names vary by year): a missing one is named by its table."""
    hide_xls_sheet(project / MYE16_XLS, "MYE2 - M")
    reload()
    with pytest.raises(InputError) as exc:
        ons_population.estimates()
    msg = assert_message(exc, str(project / MYE16_XLS), "no sheet holds the MYE2 table of males",
                         "persons in sheet 'MYE2 - All'", "females in sheet 'MYE2 - F'",
                         "a sheet is missing or its title was changed", "../shared/data")
    assert "MYE2 - M," not in msg


# --------------------------------------------------------------------------------------------------
# 8b. population files whose areas cannot all be placed in current areas


def test_district_with_no_current_area_and_no_code_change_names_file_row_and_code(project):
    """East Dorset (in Dorset county, abolished 2019) under a code the code-change lookup does not know."""
    path = project / MYE15_XLS
    data = path.read_bytes()
    assert data.count(b"E07000049") == 1  # one shared string, used by the three sheets
    path.chmod(0o644)
    path.write_bytes(data.replace(b"E07000049", b"E07000999"))
    reregister(path)
    reload()
    with pytest.raises(InputError) as exc:
        current_population.current_areas([2015])
    assert_message(exc, str(path), "sheet 'UK persons', row 358", "area 'E07000999' (East Dorset, "
                   "Non-metropolitan District) lies in no current area", "nor is the county it is listed under "
                   "(E10000009 Dorset)", "la_code_changes_england_from_mysociety.csv) names no successor",
                   "its 88,690 residents would be left out", "restore the file unchanged from ../shared/data",
                   "the lookup lacks the code's change")


def test_code_change_lookup_that_leaves_out_part_of_england_is_refused(project):
    """Christchurch typed as a county in the lookup: BCP would be Bournemouth + Poole only, an 'exact' sum short of
    Christchurch's residents; the current areas no longer add up to England and the run stops."""
    lookup = project / CODE_CHANGES
    text = lookup.read_text(encoding="utf-8")
    assert text.count("E07000048,Christchurch,NMD,") == 1
    write(lookup, text.replace("E07000048,Christchurch,NMD,", "E07000048,Christchurch,CTY,"))
    reload()
    with pytest.raises(InputError) as exc:
        current_population.current_areas([2015])
    assert_message(exc, str(project / MYE15_XLS), "the current upper-tier areas built from the mid-2015 estimates "
                   "add up to", "not England's", "counts part of England twice or leaves part out",
                   "la_code_changes_england_from_mysociety.csv")


# --------------------------------------------------------------------------------------------------
# 9. a CSV missing a column


def test_cli_population_csv_missing_column(project, cli):
    edit_csv(project / MYE24_CSV, drop_column("Geography"))
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(project / MYE24_CSV), "header (line 1)",
                           "missing column(s) 'Geography'", "published layout")


def test_imd_csv_missing_score_column(project):
    edit_csv(project / IMD_LTLA, drop_column("Score"))
    reload()
    with pytest.raises(InputError) as exc:
        imd2019.imd_scores()
    assert_message(exc, str(project / IMD_LTLA), "header (line 1)", "missing column(s) 'Score'", "published layout")


def test_empty_csv(project):
    write(project / IMD_LTLA, "")
    reload()
    with pytest.raises(InputError) as exc:
        imd2019.imd_scores()
    assert_message(exc, str(project / IMD_LTLA), "the file is empty", "../shared/data/")


# --------------------------------------------------------------------------------------------------
# 10. a negative count, a non-numeric or missing cell


def _line(path: Path, n: int) -> str:
    """Line ``n`` of a file as a text editor shows it."""
    return path.read_text(encoding="utf-8-sig").splitlines()[n - 1]


def test_cli_negative_count_names_file_row_and_column(project, cli):
    edit_csv(project / MYE24_CSV, set_cell(40, "35", "-12"))
    assert ",-12," in _line(project / MYE24_CSV, 40)  # the row number is the editor's line number
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(project / MYE24_CSV),
                           "row 40, column '35'", "'-12'", "a count is negative", "restore the published file")


@pytest.mark.parametrize("line, column, value, problem", [
    (41, "All ages", "n/a", "a value is not a number"),
    (12, "90+", "12.5", "a count is not a whole number"),
    (100, "0", "", "a value is missing"),
])
def test_bad_cell_in_population_csv_names_row_and_column(project, line, column, value, problem):
    edit_csv(project / MYE24_CSV, set_cell(line, column, value))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population.estimates()
    assert_message(exc, str(project / MYE24_CSV), f"row {line}, column '{column}'", f"{value!r}", problem)


def test_ages_not_adding_up_to_total(project):
    edit_csv(project / MYE24_CSV, set_cell(30, "50", "1"))
    reload()
    with pytest.raises(InputError) as exc:
        ons_population.estimates()
    assert_message(exc, str(project / MYE24_CSV), "row 30", "not the 'All ages' total", "restore the published file")


def test_non_numeric_imd_score(project):
    edit_csv(project / IMD_LTLA, set_cell(5, "Score", "high"))
    reload()
    with pytest.raises(InputError) as exc:
        imd2019.imd_scores()
    assert_message(exc, str(project / IMD_LTLA), "row 5, column 'Score'", "'high'", "not a number")


# --------------------------------------------------------------------------------------------------
# well-formed but absurd data (plausibility rules, docs/plausibility.md) and unregistered files


def _row_times(factor: int, code: str):
    """Multiply every count of ``code``'s row by ``factor`` (single years still add up to 'All ages')."""
    def edit(rows):
        for r in rows[1:]:
            if r[0] == code:
                r[3:] = [str(int(v) * factor) for v in r[3:]]
        return rows
    return edit


def test_cli_absurd_imd_score_is_refused_naming_row_column_value_and_rule(project, cli):
    edit_csv(project / IMD_UTLA, set_cell(144, "imd_average_score", "-999"))
    edit_csv(project / IMD_UTLA, set_cell(144, "imd_decile", "15"))
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(project / IMD_UTLA),
                           "row 144, column 'imd_average_score'", "implausible value -999",
                           "IMD average score is between 0 and 100", "confirm it with the publisher")
    assert not (project / "outputs" / "nottinghamshire").exists()


def test_imd_decile_out_of_range(project):
    edit_csv(project / IMD_UTLA, set_cell(144, "imd_decile", "15"))
    reload()
    with pytest.raises(InputError) as exc:
        imd2019.imd_scores()
    assert_message(exc, "row 144, column 'imd_decile'", "implausible value 15", "IMD decile is a whole number between 1 and 10")


def test_cli_population_row_multiplied_by_1000_is_refused(project, cli):
    edit_csv(project / MYE24_CSV, _row_times(1000, "E10000024"))
    assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(project / MYE24_CSV),
                           "row 107, column 'All ages'", "implausible value 857,013,000",
                           "an area's population (all ages) changes by at most a factor of 1.5 a year")


def test_population_not_adding_up_to_its_region(project):
    """A 20% larger area (within the year-on-year limit) no longer adds up to the East Midlands."""
    def plus_a_fifth(rows):
        for r in rows[1:]:
            if r[0] == "E10000024":
                r[3:] = [str(int(v) + int(v) // 5) for v in r[3:]]
                r[3] = str(sum(int(v) for v in r[4:]))
        return rows
    edit_csv(project / MYE24_CSV, plus_a_fifth)
    reload()
    with pytest.raises(InputError) as exc:
        ons_population.estimates()
    assert_message(exc, str(project / MYE24_CSV), "column 'All ages'",
                   "the upper-tier areas of a region add up to the region")


def test_cli_raw_file_changed_without_registering_it_stops_the_run(project, cli):
    target = project / IMD_LTLA
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b"35.0367", b"35.0368", 1))  # one digit, not re-registered
    err = assert_cli_input_error(cli("run", "nottinghamshire", root=project), str(target),
                                 "not the one registered in data/register.yaml", "update its entry")
    assert "SHA-256" in err
    assert not (project / "outputs").exists() or not any((project / "outputs").iterdir())


def test_cli_register_entry_without_period_is_caught_before_any_notebook(project, cli):
    reg = project / "data/register.yaml"
    write(reg, reg.read_text().replace("    period: '2025'\n", "", 1))  # the nearest neighbours entry (the first)
    proc = cli("run", "nottinghamshire", root=project)
    assert_cli_input_error(proc, "localauthoritynearestneighboursengland.xlsx", "gives no 'period'", "period: '2019'")
    assert not (project / "outputs" / ".failed").exists()  # stopped by the pre-run check, no kernel started


def test_cli_data_check_reports_kind_no_dataset_reads(project, cli):
    reg = project / "data/register.yaml"
    write(reg, reg.read_text().replace("kind: nearest_neighbours", "kind: nearest_neighbors"))
    proc = cli("data", root=project)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "kind 'nearest_neighbors' is read by no dataset module" in proc.stderr


# --------------------------------------------------------------------------------------------------
# 11. a failed run leaves earlier outputs untouched; one failing CDP does not stop the others


@pytest.mark.slow
def test_failed_run_keeps_earlier_outputs(project, cli):
    from conftest import one_chapter

    one_chapter(project)  # the runner's mechanics: chapter 1 is enough
    first = cli("run", "nottinghamshire", root=project)
    assert first.returncode == 0, first.stderr
    out = project / "outputs" / "nottinghamshire"
    before = snapshot(out)
    assert "run.json" in before and "report.html" in before

    # (a) broken data is caught before any notebook runs: exit 2, reported once, nothing touched
    edit_csv(project / IMD_LTLA, drop_column("Score"))
    second = cli("run", "nottinghamshire", "northamptonshire", root=project)
    assert_cli_input_error(second, "imd2019_england_ltla23_humaniverse.csv", "missing column(s) 'Score'")
    assert second.stderr.count("missing column(s) 'Score'") == 1
    assert snapshot(out) == before
    assert not (project / "outputs" / ".failed").exists()

    # (b) a notebook that fails after the first chapter has written its tables: the partial folder is not
    # swapped in; the previous outputs stay byte for byte; the attempt is kept in .failed/ for diagnosis
    shutil.copy2(REPO_DATA / IMD_LTLA, project / IMD_LTLA)
    reregister(project / IMD_LTLA)  # the published file is back: its checksum too
    driver = draft_chapter(project / "notebooks" / "99_draft_chapter.ipynb")  # runs after every real chapter
    defaults = project / "params" / "defaults.yaml"  # every chapter (the kernels do not know the draft one by name)
    defaults.write_text(defaults.read_text().replace("chapters: [population_profile]", ""))
    third = cli("run", "nottinghamshire", root=project, script=driver)
    assert third.returncode == 1 and "Traceback" not in third.stderr, third.stderr
    assert "0 of 1 CDP(s) succeeded" in third.stdout and "draft chapter: figures not finished" in third.stdout
    assert snapshot(out) == before
    failed = project / "outputs" / ".failed" / "nottinghamshire"
    run = json.loads((failed / "run.json").read_text())
    assert run["status"] == "failed"
    statuses = [n["status"] for n in run["notebooks"]]
    assert statuses[-1] == "failed" and set(statuses[:-1]) == {"succeeded"}
    assert (failed / "run.log").is_file() and (failed / "tables" / "deprivation.csv").is_file()
    assert not list((project / "outputs").glob(".*partial*"))


# worker processes of a parallel batch (spawn) import this script too, so the chapter is registered there; only the
# command runs under the __main__ guard
_DRAFT_DRIVER = """
import sys

from cdp_analysis.areas.params import ChapterSettings
from cdp_analysis.chapters import Chapter, register
from cdp_analysis.cli import main

register(Chapter(name="draft_chapter", number=99, title="Draft chapter", notebook="99_draft_chapter", datasets=(),
                 settings=ChapterSettings, build=lambda cdp, settings: None, summary=lambda tables: "",
                 tables=TABLES))
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"""


def draft_chapter(path: Path, *, raises: bool = True, tables: tuple[str, ...] = ()) -> Path:
    """A chapter an analyst is still writing: its notebook raises an ordinary error (or, with
    ``raises=False``, runs but writes none of the ``tables`` the chapter declares).

    Returns a driver script that registers the chapter (as chapter 99, after every real one) and then runs
    the ``cdp`` command.
    """
    import nbformat

    driver = path.parent.parent / "cdp_with_draft_chapter.py"
    driver.write_text(_DRAFT_DRIVER.replace("TABLES", repr(tables)), encoding="utf-8")
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('cdp_slug = ""\ncdp_name = ""\nmembers = []\n'
                                       'n_neighbours = 15\noutput_dir = ""')
    params.metadata["tags"] = ["parameters"]
    body = 'raise ValueError("draft chapter: figures not finished")' if raises else 'print("nothing written")'
    nb.cells = [params, nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return driver


@pytest.mark.slow
def test_failing_cdp_does_not_stop_the_others(project, cli):
    driver = draft_chapter(project / "notebooks" / "99_draft_chapter.ipynb")
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + "chapters: [draft_chapter]\n")
    write((project / DEFAULTS), (project / DEFAULTS).read_text() + "chapters: [population_profile]\n")
    proc = cli("run", "northamptonshire", "nottinghamshire", root=project, script=driver)
    assert proc.returncode == 1, proc.stderr  # a notebook failed (not bad input); the others still ran
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert "1 of 2 CDP(s) succeeded" in proc.stdout
    lines = {}  # each CDP's summary line (the table of failures below names northamptonshire again)
    for ln in proc.stdout.splitlines():
        if ln.startswith("  ") and ln.split()[0] in {"northamptonshire", "nottinghamshire"}:
            lines.setdefault(ln.split()[0], ln)
    assert " failed " in lines["northamptonshire"] and " succeeded " in lines["nottinghamshire"]
    assert "draft chapter: figures not finished" in proc.stdout
    assert json.loads((project / "outputs/nottinghamshire/run.json").read_text())["status"] == "succeeded"
    assert json.loads((project / "outputs/.failed/northamptonshire/run.json").read_text())["status"] == "failed"
    assert not (project / "outputs/northamptonshire").exists()


@pytest.mark.slow
def test_chapter_that_does_not_write_its_declared_tables_fails(project, cli):
    driver = draft_chapter(project / "notebooks" / "99_draft_chapter.ipynb", raises=False, tables=("promised",))
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + "chapters: [draft_chapter]\n")
    proc = cli("run", "northamptonshire", root=project, script=driver)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "did not write tables/promised.csv, which chapter 'draft_chapter' declares" in proc.stdout
    assert not (project / "outputs" / "northamptonshire").exists()


# --------------------------------------------------------------------------------------------------
# 12. usage errors


def test_cli_run_without_cdp(project, cli):
    assert_cli_input_error(cli("run", root=project), "no CDP given", "cdp run nottinghamshire", "cdp run --all")


def test_cli_run_with_names_and_all(project, cli):
    assert_cli_input_error(cli("run", "--all", "nottinghamshire", root=project), "give CDP names or --all, not both",
                           "cdp run --all")


# --------------------------------------------------------------------------------------------------
# the notebook helper applies the same checks when a notebook is run by hand


def test_notebook_parameters_reject_former_member_code(project):
    with pytest.raises(InputError) as exc:
        from_parameters("northamptonshire", "Northamptonshire", ["E10000021"], [2020, 2022, 2024], 15)
    assert "former area code" in exc.value.message
    assert "E06000061" in exc.value.message and "E06000062" in exc.value.message


def test_notebook_parameters_reject_unknown_member_code(project):
    with pytest.raises(InputError) as exc:
        from_parameters("x", "X", ["E1000024"], [2020, 2022, 2024], 15)
    assert "'E1000024' is not a current" in exc.value.message


@pytest.mark.parametrize("years, needle", [
    ([2022, 2020], "ascending order"),
    ([2020], "at least 2 items"),
    (["2020", "2022"], "valid integer"),
])
def test_notebook_parameters_reject_bad_population_years(project, years, needle):
    with pytest.raises(InputError) as exc:
        from_parameters("nottinghamshire", "Nottinghamshire", ["E10000024"], years, 15)
    assert_message(exc, "parameter 'population_years'", needle)


def test_notebook_parameters_reject_bare_year(project):
    with pytest.raises(InputError) as exc:
        from_parameters("nottinghamshire", "Nottinghamshire", ["E10000024"], 2020, 15)
    assert_message(exc, "parameter 'population_years'", "valid list")


def test_notebook_parameters_name_the_member_parameter(project):
    with pytest.raises(InputError) as exc:
        from_parameters("x", "X", ["E10000024", "E10000021"], [2020, 2022], 15)
    assert_message(exc, "parameter 'members', item 2", "former area code")
    with pytest.raises(InputError) as exc:
        from_parameters("x", "X", ["E12000004"], [2020, 2022], 15)
    assert_message(exc, "parameter 'members', item 1", "region, not an upper-tier area")


def test_notebook_parameters_reject_wrong_type_neighbours(project):
    with pytest.raises(InputError) as exc:
        from_parameters("nottinghamshire", "Nottinghamshire", ["E10000024"], [2020, 2022], "ten")
    assert_message(exc, "parameter 'n_neighbours'", "valid integer", "'ten'")


# --------------------------------------------------------------------------------------------------
# 13. chapter 2 (prevalence): the CSEW workbook and the chapter's parameters

CSEW = Path("data/raw/ons_csew/drugsmisusetablesjune22.xlsx")


def _edit_workbook(path: Path, edit) -> None:
    import openpyxl

    path.chmod(0o644)
    wb = openpyxl.load_workbook(path)
    edit(wb)
    wb.save(path)
    reregister(path)


def test_csew_table_missing_names_file_and_sheet(project):
    from cdp_analysis.data import ons_csew

    _edit_workbook(project / CSEW, lambda wb: wb.remove(wb["3.04"]))
    reload()
    with pytest.raises(InputError) as exc:
        ons_csew.drug_use()
    assert_message(exc, str(project / CSEW), "sheet '3.04' not found")


def test_csew_changed_layout_names_sheet_row_and_column(project):
    from cdp_analysis.data import ons_csew

    def rename(wb):
        wb["1.02"]["A8"] = "Drug"
    _edit_workbook(project / CSEW, rename)
    reload()
    with pytest.raises(InputError) as exc:
        ons_csew.drug_use()
    assert_message(exc, str(project / CSEW), "sheet '1.02'", "no header row with columns ['Drug type']",
                   "use the edition described in data/README.md")


def test_csew_implausible_percentage_names_the_cell(project):
    from cdp_analysis.data import ons_csew

    def absurd(wb):
        wb["3.04"]["X19"] = 416.6  # men 16-24, any Class A drug: 4.17% typed as 416.6
    _edit_workbook(project / CSEW, absurd)
    reload()
    with pytest.raises(InputError) as exc:
        ons_csew.drug_use()
    assert_message(exc, "sheet '3.04', row 19, column 'X'", "implausible value 416.6",
                   "a survey percentage is between 0 and 100")


def test_cli_unknown_drug_in_a_cdp_file_names_file_key_and_closest(project, cli):
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + "prevalence:\n  drugs: [Canabis]\n")
    assert_cli_input_error(cli("run", "northamptonshire", root=project), str(project / NORTHANTS),
                           "'Canabis' is not a drug the Crime Survey tables give", "did you mean 'Cannabis'?")


def test_cli_unknown_recall_period_lists_the_valid_ones(project, cli):
    write(project / NORTHANTS, (project / NORTHANTS).read_text() + "prevalence:\n  recall_periods: [last week]\n")
    assert_cli_input_error(cli("run", "northamptonshire", root=project), str(project / NORTHANTS),
                           "recall_periods", "last year")
