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
