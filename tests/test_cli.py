"""The ``cdp`` command's own behaviour: help, options in any position, pipes, finding the report."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import REPO, one_chapter


@pytest.fixture
def project(project):
    """The project copy, running chapter 1 only: these tests check the runner's mechanics (conftest.one_chapter)."""
    return one_chapter(project)

def test_every_subcommand_has_a_description(cli):
    for command in ("areas", "run", "data", "open"):
        proc = cli(command, "--help")
        assert proc.returncode == 0
        usage, _, rest = proc.stdout.partition("\n\n")
        assert rest.strip() and not rest.lstrip().startswith(("positional", "options")), f"{command}: {proc.stdout}"


@pytest.mark.parametrize("args", [("-v", "areas", "--named"), ("areas", "-v", "--named"), ("areas", "--named", "-v")])
def test_verbose_before_or_after_the_subcommand(cli, args):
    proc = cli(*args)
    assert proc.returncode == 0, proc.stderr
    assert "northamptonshire" in proc.stdout


def test_a_closed_pipe_ends_quietly():
    """`cdp areas | head -1`: no BrokenPipe traceback when the reader has gone (here: before the first line)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone, so every write fails with EPIPE, deterministically
    try:
        proc = subprocess.run([sys.executable, "-m", "cdp_analysis.cli", "areas"], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=REPO, timeout=120)
    finally:
        os.close(write_end)
    err = proc.stderr.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert proc.returncode == 141  # 128 + SIGPIPE, as a Unix tool stopped by a closed pipe


def test_the_cdp_command_keeps_jsonschema_from_building_grammars_nbformat_never_uses():
    """`cdp` (and each batch worker) starts without rfc3987_syntax, which jsonschema would import to check IRIs
    (about 1 s of grammar building); nbformat still validates notebooks, and finds an invalid one."""
    code = """if True:
        import contextlib, io, sys
        from cdp_analysis import cli
        with contextlib.redirect_stdout(io.StringIO()):
            assert cli.main(["areas"]) == 0
        import nbformat
        nbformat.validate(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]))
        bad = nbformat.v4.new_notebook()
        bad.cells.append({"cell_type": "code"})
        try:
            nbformat.validate(bad)
        except nbformat.ValidationError:
            print("invalid found")
        print("jsonschema" in sys.modules, sys.modules.get("rfc3987_syntax", "absent"))
    """
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:2] == ["invalid found", "True None"]


def test_open_without_a_run_says_what_to_do(project, cli):
    proc = cli("open", "nottinghamshire", "--no-browser", root=project)
    assert proc.returncode == 2 and "no report for nottinghamshire yet" in proc.stderr
    assert "cdp run nottinghamshire" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.slow
def test_run_ends_with_the_report_path_and_open_finds_it(project, cli):
    proc = cli("run", "nottinghamshire", root=project)
    assert proc.returncode == 0, proc.stderr
    report = project / "outputs" / "nottinghamshire" / "report.html"
    assert proc.stdout.strip().splitlines()[-1] == f"Report: {report}"
    opened = cli("open", "nottinghamshire", "--no-browser", root=project)
    assert opened.returncode == 0 and opened.stdout.strip() == str(report)
