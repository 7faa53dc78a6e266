"""All-area results kept on disk per data edition (cdp_analysis.edition_cache): computed once, read back the same,
recomputed when the data, the code or the arguments change, and never the reason a run fails."""

from __future__ import annotations

import logging
import os

import pandas as pd
import pytest
from conftest import SHARED_CACHE

import cdp_analysis
from cdp_analysis import edition_cache
from cdp_analysis.chapters import partnerships
from cdp_analysis.output import tidy
from cdp_analysis.runner import notebook_parameters

#: A county, a two-unitary partnership, a London borough and the smallest area (issue 29's four).
CONTRASTING_CDPS = ["nottinghamshire", "northamptonshire", "barnet", "isles-of-scilly"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, the disk layer on, and a fixed edition (changed by setting ``EDITION[0]``)."""
    monkeypatch.setenv("CDP_ANALYSIS_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(edition_cache.SWITCH_ENV, raising=False)
    edition = ["a" * 64]
    monkeypatch.setattr(edition_cache, "edition_key", lambda: edition[0])
    return tmp_path / "cache" / edition_cache.FOLDER, edition


def _counted(copy: bool = True):
    calls = []

    @edition_cache.once_per_edition(maxsize=4, copy=copy)
    def table(n: int) -> pd.DataFrame:
        calls.append(n)
        return pd.DataFrame({"n": [n, n + 1], "name": ["a", "b"]}).astype({"name": "string"})

    return table, calls


def test_a_result_is_computed_once_then_read_from_disk_unchanged(cache):
    folder, _ = cache
    table, calls = _counted()
    first = table(3)
    assert calls == [3] and len(list(folder.glob("*.pickle"))) == 1
    table.cache_clear()  # a new process: nothing in memory
    again = table(3)
    assert calls == [3], "read from disk, not computed again"
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert first.to_csv() == again.to_csv()
    table(4)
    assert calls == [3, 4], "other arguments, another result"


def test_each_caller_gets_its_own_copy_unless_the_result_is_only_read(cache):
    table, _ = _counted(copy=True)
    mine = table(1)
    mine.loc[0, "n"] = 99
    assert table(1).loc[0, "n"] == 1
    shared, _ = _counted(copy=False)
    assert shared(1) is shared(1)


def test_a_new_data_edition_computes_again_and_older_editions_are_pruned(cache):
    folder, edition = cache
    table, calls = _counted()
    for k, letter in enumerate("abcde"):
        edition[0] = letter * 64
        table(1)
        assert len(calls) == k + 1
        os.utime(next(folder.glob(f"*-{letter * 24}-*.pickle")), ns=(k * 10**9, k * 10**9))
    editions = {p.name.split("-")[1][0] for p in folder.glob("*.pickle")}
    assert edition_cache.KEEP_EDITIONS == 3 and editions == {"c", "d", "e"}, "the three newest kept"


def test_a_damaged_file_is_computed_again_with_a_warning(cache, caplog):
    folder, _ = cache
    table, calls = _counted()
    table(2)
    path = next(folder.glob("*.pickle"))
    path.write_bytes(path.read_bytes()[:20])  # cut short
    table.cache_clear()
    with caplog.at_level(logging.WARNING, logger="cdp_analysis.edition_cache"):
        assert table(2)["n"].tolist() == [2, 3]
    assert calls == [2, 2] and "could not be read" in caplog.text
    table.cache_clear()
    table(2)
    assert calls == [2, 2], "the damaged file was replaced"


def test_a_cache_folder_that_cannot_be_written_does_not_stop_the_run(cache, caplog):
    folder, _ = cache
    folder.parent.mkdir(parents=True)
    folder.write_text("a file where the folder should be")
    table, calls = _counted()
    with caplog.at_level(logging.WARNING, logger="cdp_analysis.edition_cache"):
        assert table(5)["n"].tolist() == [5, 6]
    assert "could not keep the result" in caplog.text


def test_the_disk_layer_can_be_turned_off(cache, monkeypatch):
    folder, _ = cache
    monkeypatch.setenv(edition_cache.SWITCH_ENV, "off")
    table, calls = _counted()
    table(1)
    table.cache_clear()
    table(1)
    assert calls == [1, 1] and not folder.exists()


def test_the_edition_changes_with_the_code(monkeypatch):
    """The key includes the digest of the package's modules (`jobs.package_digest`): an edited module gives a new
    edition, so no result computed by older code is read."""
    from cdp_analysis import jobs

    cdp_analysis.clear_caches()
    before = edition_cache.edition_key()
    monkeypatch.setattr(jobs, "package_digest", lambda: "0" * 64)  # as if a module had changed
    cdp_analysis.clear_caches()
    assert edition_cache.edition_key() != before
    cdp_analysis.clear_caches()


def test_the_edition_changes_with_how_text_is_held():
    """A result kept with text held as Python strings is not read where the package's pandas options differ (a user
    changed them in JupyterLab): the two would not merge alike."""
    import pandas as pd

    cdp_analysis.clear_caches()
    before = edition_cache.edition_key()
    try:
        pd.set_option("mode.string_storage", "pyarrow")
        assert edition_cache.edition_key() != before
    finally:
        cdp_analysis.use_pandas_options()
    assert edition_cache.edition_key() == before


def test_the_edition_changes_with_a_data_file(project):
    """The key changes when a raw data file's bytes change (and so does a CDP's job key: the same inputs)."""
    before = edition_cache.edition_key()
    target = next((project / "data" / "raw").rglob("*.csv"))
    target.write_bytes(target.read_bytes() + b"\n")
    cdp_analysis.clear_caches()
    assert edition_cache.edition_key() != before


def _tables(slugs: list[str]) -> dict[str, str]:
    """Every chapter's tables of each CDP, as the CSV text the run writes, built in this process. Not the outcomes
    chapter's: it computes nothing for all areas itself, and built without an output folder it builds the chapters
    before it again (a run's outputs are compared whole by test_runner.py)."""
    out = {}
    for slug in slugs:
        cdp = partnerships.get(slug)
        for chapter in [c for c in cdp.chapters() if c.name != "outcomes"]:
            c, settings = chapter.from_parameters(**notebook_parameters(chapter, cdp, output_dir=""))
            result = chapter.build(c, settings)
            for k, table in enumerate(result.tables()):
                out[f"{slug}/{chapter.name}/{k}"] = tidy.to_csv_text(table)
    return out


@pytest.mark.slow
def test_tables_are_byte_identical_computed_and_read_from_the_cache(tmp_path, monkeypatch):
    """Issue 29: the four contrasting CDPs' tables, first with every all-area result computed (and kept), then
    with each read back from disk in a fresh process state, are the same to the byte."""
    cache = tmp_path / "cache"
    cache.mkdir()
    for parquet in SHARED_CACHE.glob("*.parquet"):  # the raw files' copies (not what is tested), to save time
        (cache / parquet.name).symlink_to(parquet)
    monkeypatch.setenv("CDP_ANALYSIS_CACHE", str(cache))
    monkeypatch.delenv(edition_cache.SWITCH_ENV, raising=False)
    cdp_analysis.clear_caches()
    computed = _tables(CONTRASTING_CDPS)
    kept = list((cache / edition_cache.FOLDER).glob("*.pickle"))
    assert len(kept) >= 8, "the all-area results were kept"
    cdp_analysis.clear_caches()
    read = _tables(CONTRASTING_CDPS)
    assert read.keys() == computed.keys() and len(computed) >= 4 * 5
    assert [k for k in computed if computed[k] != read[k]] == []
