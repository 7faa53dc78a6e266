"""Names that cannot escape their folder, and params files read safely (issue 30).

A careless or hostile params file (a name like ``...yaml``, a file that takes another CDP's folder, a Latin-1
file, a YAML alias bomb, a key given twice, a 10,000-character name) gets one readable message and touches
nothing; every path the runner creates, renames or removes lies inside the output root; a bad file in
``params/cdps/`` stops neither ``cdp areas`` nor the runs of other CDPs. ``docs/bad-input.md`` lists the
messages.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import one_chapter
from test_bad_input import assert_cli_input_error, assert_message

import cdp_analysis
from cdp_analysis import paths, runner
from cdp_analysis.chapters import partnerships
from cdp_analysis.errors import CannotRunError, InputError
from cdp_analysis.files import remove_inside


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    cdp_analysis.clear_caches()
    return path


def plant(outputs: Path) -> dict[Path, str]:
    """Earlier outputs: a CDP's report, an earlier failed attempt and the index; returns file -> content."""
    files = {outputs / "nottinghamshire" / "report.html": "<p>earlier report</p>",
             outputs / ".failed" / "rutland" / "run.log": "an earlier failed attempt",
             outputs / "index.html": "<p>index</p>"}
    for f, text in files.items():
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text, encoding="utf-8")
    return files


def assert_untouched(files: dict[Path, str]) -> None:
    for f, text in files.items():
        assert f.is_file() and f.read_text(encoding="utf-8") == text, f"{f} was changed or removed"


# --------------------------------------------------------------------------------------------------
# output folder names


@pytest.mark.parametrize("stem", ["..", ".", "index.html", "index", "Nottinghamshire_County", "a/b"[:1] + " b"])
def test_a_name_that_cannot_be_a_folder_is_refused(stem):
    with pytest.raises(InputError) as exc:
        paths.check_slug(stem, file=Path(f"/x/{stem}.yaml"))
    assert_message(exc, "rename the params file to")


def test_the_slug_rule_accepts_every_area_and_suggests_a_name():
    from cdp_analysis.areas import geography

    for slug in geography.areas("utla")["slug"]:
        assert paths.check_slug(slug) == slug
    with pytest.raises(InputError, match="nottinghamshire-county.yaml"):
        paths.check_slug("Nottinghamshire_County", file="x.yaml")
    with pytest.raises(InputError, match="at most 80"):
        paths.check_slug("a" * 81)


def test_a_partnership_cannot_be_built_with_a_folder_name_outside_the_root():
    cdp = partnerships.get("rutland")
    with pytest.raises(InputError):
        partnerships.Partnership(slug="..", name="x", members=cdp.members, settings=cdp.settings)


def test_inside_refuses_the_root_itself_parents_and_paths_through_links(tmp_path):
    root = tmp_path / "outputs"
    (root / "a").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    assert paths.inside(root, root / "a") == (root / "a").resolve()
    assert paths.inside(root, root / "link") == root.resolve() / "link"  # the link itself is inside
    for bad in (root, root / "..", root / "a" / ".." / "..", root / "link" / "x", tmp_path / "x"):
        with pytest.raises(CannotRunError, match="not inside the output folder"):
            paths.inside(root, bad)


def test_removing_a_link_inside_the_root_never_removes_what_it_points_to(tmp_path):
    root, outside = tmp_path / "outputs", tmp_path / "elsewhere"
    root.mkdir()
    (outside / "keep").mkdir(parents=True)
    (root / "cdp").symlink_to(outside, target_is_directory=True)
    remove_inside(root, root / "cdp")
    assert not os.path.lexists(root / "cdp") and (outside / "keep").is_dir()
    with pytest.raises(CannotRunError):
        remove_inside(root, outside)
    assert outside.is_dir()


@pytest.mark.parametrize("name", ["...yaml", "..yaml", "index.html.yaml"])
def test_a_params_file_named_like_a_path_or_a_reserved_output_deletes_nothing(project, cli, tmp_path, name):
    outputs = project / "outputs"
    planted = plant(outputs)
    params = write(tmp_path / "elsewhere" / name, "name: Rutland\nmembers: [E06000017]\n")
    err = assert_cli_input_error(cli("run", str(params), root=project), name, "cannot name a CDP's output folder",
                                 "rename the params file to")
    assert "unchanged" not in err
    assert_untouched(planted)
    assert sorted(p.name for p in outputs.iterdir()) == [".failed", "index.html", "nottinghamshire"]


def test_a_params_file_in_params_cdps_named_dot_dot_is_reported_and_others_still_list_and_run(project, cli):
    write(project / "params" / "cdps" / "...yaml", "name: Rutland\nmembers: [E06000017]\n")
    with pytest.raises(InputError, match="cannot name a CDP's output folder"):
        partnerships.get("..")
    assert ".." not in {c.slug for c in partnerships.all_partnerships()}
    assert partnerships.get("rutland").members == ("E06000017",)  # named on its own, its member still runs
    assert "rutland" not in {c.slug for c in partnerships.all_partnerships()}  # but not alone in --all
    res = cli("areas", root=project)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "northamptonshire" in res.stdout and "nottinghamshire" in res.stdout and "\n.. " not in res.stdout
    assert "...yaml" in res.stderr and "not listed" in res.stderr


def test_a_file_outside_params_cdps_cannot_take_another_cdps_folder(project, tmp_path):
    params = write(tmp_path / "mine" / "nottinghamshire.yaml", "name: Barnet\nmembers: [E09000003]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get(str(params))
    assert_message(exc, "nottinghamshire.yaml", "outputs/nottinghamshire/", "Nottinghamshire (E10000024)",
                   "rename the file")
    same = write(tmp_path / "mine2" / "nottinghamshire.yaml", "name: Notts\nmembers: [E10000024]\n")
    assert partnerships.get(str(same)).slug == "nottinghamshire"  # the same CDP with other settings: its folder


def test_one_cdp_named_twice_runs_once_and_two_cdps_with_one_folder_are_refused(project, tmp_path):
    notts = [partnerships.get("nottinghamshire"), partnerships.get("E10000024")]
    assert len(partnerships.distinct(notts)) == 1
    a = write(tmp_path / "a" / "my-cdp.yaml", "name: One\nmembers: [E06000017]\n")
    b = write(tmp_path / "b" / "my-cdp.yaml", "name: Two\nmembers: [E09000003]\n")
    with pytest.raises(InputError) as exc:
        partnerships.distinct([partnerships.get(str(a)), partnerships.get(str(b))])
    assert_message(exc, "both write to outputs/my-cdp/", "One", "Two")


def test_two_named_files_cannot_share_a_member(project):
    write(project / "params" / "cdps" / "west-northants.yaml", "name: West\nmembers: [E06000062]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("west-northants")
    assert_message(exc, "west-northants.yaml", "E06000062", "also a member of the CDP defined by "
                   "params/cdps/northamptonshire.yaml")
    assert partnerships.get("northamptonshire").members == ("E06000061", "E06000062")


# --------------------------------------------------------------------------------------------------
# the runner's renames and removals


def test_a_failed_attempt_never_follows_a_linked_failed_folder(tmp_path):
    root, outside = tmp_path / "outputs", tmp_path / "elsewhere"
    (outside / "rutland").mkdir(parents=True)
    (outside / "rutland" / "keep.txt").write_text("not ours")
    root.mkdir()
    (root / ".failed").symlink_to(outside, target_is_directory=True)
    work = root / ".rutland.partial-1-x"
    (work / "notebooks").mkdir(parents=True)
    out = runner._keep_failed(work, root.resolve(), "rutland")
    assert (outside / "rutland" / "keep.txt").read_text() == "not ours"
    assert not (root / ".failed").is_symlink() and (out / "notebooks").is_dir() and not work.exists()


def test_swapping_in_over_a_linked_cdp_folder_replaces_the_link_and_leaves_no_dangling_link(tmp_path):
    root, outside = tmp_path / "outputs", tmp_path / "shared-drive" / "rutland"
    outside.mkdir(parents=True)
    (outside / "report.html").write_text("earlier, kept where it was")
    root.mkdir()
    (root / "rutland").symlink_to(outside, target_is_directory=True)
    work = root / ".rutland.partial-1-x"
    work.mkdir()
    (work / "report.html").write_text("new")
    runner._swap_in(work, root / "rutland")
    assert not (root / "rutland").is_symlink() and (root / "rutland" / "report.html").read_text() == "new"
    assert (outside / "report.html").read_text() == "earlier, kept where it was"
    assert [p.name for p in root.iterdir()] == ["rutland"]  # no old link, dangling or not


def test_a_run_into_a_linked_cdp_folder_ends_with_a_real_folder(project):
    one_chapter(project)
    outputs, outside = project / "outputs", project.parent / "shared-drive" / "rutland"
    outside.mkdir(parents=True)
    (outside / "keep.txt").write_text("kept")
    outputs.mkdir()
    (outputs / "rutland").symlink_to(outside, target_is_directory=True)
    [res] = runner.run_many([partnerships.get("rutland")], outputs_root=outputs, stream=open(os.devnull, "w"))
    assert res.status == "succeeded", res.message
    assert (outputs / "rutland" / "report.html").is_file() and not (outputs / "rutland").is_symlink()
    assert (outside / "keep.txt").read_text() == "kept"
    dangling = [p for p in outputs.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling and not [p for p in outputs.iterdir() if ".old-" in p.name]


# --------------------------------------------------------------------------------------------------
# params files read safely


def test_a_latin1_params_file_names_file_and_line_and_does_not_stop_other_cdps(project, cli):
    write(project / "params" / "cdps" / "cafe.yaml", "name: Caf\xe9 partnership\nmembers: [E06000017]\n"
          .encode("latin-1"))
    with pytest.raises(InputError) as exc:
        partnerships.get("cafe")
    assert_message(exc, "cafe.yaml", "line 1, column 10", "not UTF-8", "save the file as UTF-8")
    assert partnerships.get("nottinghamshire").name == "Nottinghamshire"
    res = cli("areas", root=project)
    assert res.returncode == 2 and "nottinghamshire" in res.stdout and "cafe.yaml" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_a_yaml_alias_bomb_is_refused_at_once(project):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    write(project / "params" / "cdps" / "bomb.yaml", "name: Bomb\nmembers: [E06000017]\n" + bomb)
    with pytest.raises(InputError) as exc:
        partnerships.get("bomb")
    assert_message(exc, "bomb.yaml", "line 3", "anchor (&a)", "params files do not use YAML anchors or aliases")


def test_a_key_given_twice_is_refused(project):
    write(project / "params" / "cdps" / "twice.yaml", "name: Twice\nmembers: [E06000017]\nmembers: [E09000003]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("twice")
    assert_message(exc, "twice.yaml", "line 3, column 1", "the key 'members' is given twice (first on line 2)")


@pytest.mark.parametrize(("name", "problem"), [("N" * 10_000, "at most 120 characters"),
                                               ("Line one\nline two", "one line of printable characters"),
                                               ("   ", "cannot be blank"), ("---", "needs a letter or digit")])
def test_names_are_one_printable_line_of_bounded_length(project, name, problem):
    quoted = name.replace("\n", "\\n")
    write(project / "params" / "cdps" / "named.yaml", f'name: "{quoted}"\nmembers: [E06000017]\n')
    with pytest.raises(InputError) as exc:
        partnerships.get("named")
    assert_message(exc, "named.yaml", "key 'name'", problem)
    assert len(exc.value.message) < 600  # the message does not repeat a 10,000-character name


def test_a_comparator_set_name_is_bounded_too(project):
    write(project / "params" / "cdps" / "named.yaml", "name: Fine\nmembers: [E06000017]\n"
          f"comparators: {{name: '{'x' * 121}', areas: [E09000003]}}\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("named")
    assert_message(exc, "named.yaml", "'name'", "at most 120 characters")


def test_a_huge_params_file_is_refused_before_it_is_parsed(project):
    write(project / "params" / "cdps" / "huge.yaml", "name: Huge\nmembers: [E06000017]\n" + "# x\n" * 70_000)
    with pytest.raises(InputError, match="a params file is at most 256 kB"):
        partnerships.get("huge")


def test_notebook_parameters_get_the_same_name_and_folder_checks(project):
    from cdp_analysis.chapters import population_profile

    chapter = population_profile.CHAPTER
    base = {"cdp_slug": "rutland", "cdp_name": "Rutland", "members": ["E06000017"], "n_neighbours": 15,
            "comparators": None, "output_dir": "x"}
    with pytest.raises(InputError, match="parameter 'cdp_slug'"):
        chapter.from_parameters(**{**base, "cdp_slug": "../x"})
    with pytest.raises(InputError, match="parameter 'name'.*at most 120"):
        chapter.from_parameters(**{**base, "cdp_name": "x" * 500})


@pytest.mark.parametrize("slug", ["..", ".", "", "../outputs", "index"])
def test_the_runner_itself_refuses_a_folder_name_outside_the_root(tmp_path, slug):
    """The last guards, should a bad slug ever get past the params checks: filing a failed attempt removes
    nothing outside ``.failed/``."""
    root = tmp_path / "outputs"
    planted = plant(root)
    work = root / ".x.partial-1-y"
    work.mkdir()
    with pytest.raises(InputError):
        runner._keep_failed(work, root, slug)
    assert_untouched(planted)


# --------------------------------------------------------------------------------------------------
# found by an adversarial review


@pytest.mark.parametrize(("text", "problem"), [
    ("chapters: " + "[" * 500 + "]" * 500, "nested too deeply"),
    ("n_neighbours: " + "9" * 4301, "a value cannot be read"),
], ids=["deep-nesting", "4301-digit-integer"])
def test_a_params_file_that_breaks_the_yaml_parser_names_the_file_and_stops_no_other_cdp(project, cli, text, problem):
    write(project / "params" / "cdps" / "deep-cdp.yaml", f"name: X\nmembers: [E09000003]\n{text}\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("deep-cdp")
    assert_message(exc, "deep-cdp.yaml", problem)
    assert partnerships.get("nottinghamshire").members == ("E10000024",)
    res = cli("areas", root=project)
    assert res.returncode == 2 and "Traceback" not in res.stderr + res.stdout and "nottinghamshire" in res.stdout


def test_a_named_file_cannot_take_a_single_areas_folder_and_does_not_stop_the_others(project):
    write(project / "params" / "cdps" / "nottingham.yaml", "name: Nottingham city\nmembers: [E10000024]\n")
    with pytest.raises(InputError) as exc:
        partnerships.get("nottingham")
    assert_message(exc, "nottingham.yaml", "outputs/nottingham/", "Nottingham (E06000018)", "rename the file")
    slugs = [c.slug for c in partnerships.all_partnerships()]
    assert len(slugs) == len(set(slugs)) and "northamptonshire" in slugs
    assert partnerships.distinct(partnerships.all_partnerships())  # --all is not refused as a whole


def test_a_link_to_a_named_cdps_file_is_that_cdp(project, tmp_path):
    link = tmp_path / "mine" / "nottinghamshire.yaml"
    link.parent.mkdir()
    link.symlink_to(project / "params" / "cdps" / "barnet.yaml")
    cdp = partnerships.get(str(link))
    assert cdp.slug == "barnet" and cdp.members == ("E09000003",)


def test_a_yml_file_in_params_cdps_is_read_like_a_yaml_one(project):
    write(project / "params" / "cdps" / "enfield-cdp.yml", "name: Enfield CDP\nmembers: [E09000010]\n")
    assert partnerships.get("enfield-cdp").members == ("E09000010",)
    assert "enfield" not in {c.slug for c in partnerships.all_partnerships()}
    assert partnerships.get(str(project / "params" / "cdps" / "enfield-cdp.yml")).slug == "enfield-cdp"


def test_the_same_file_named_by_two_paths_is_one_cdp(project, tmp_path):
    params = write(tmp_path / "a" / "my-cdp.yaml", "name: One\nmembers: [E06000017]\n")
    other_path = tmp_path / "b" / ".." / "a" / "my-cdp.yaml"
    (tmp_path / "b").mkdir()
    assert len(partnerships.distinct([partnerships.get(str(params)), partnerships.get(str(other_path))])) == 1


def test_a_message_never_carries_a_terminal_escape_or_a_whole_value():
    exc = InputError("unknown key '\x1b]0;TITLE\x07\x1b[2J" + "x" * 100_000 + "'", file="a\x1b[31m.yaml",
                     where="key '\x1b[2J'", hint="\x1b[31mred")
    assert "\x1b" not in exc.message and "\x07" not in exc.message and len(exc.message) < 2000
