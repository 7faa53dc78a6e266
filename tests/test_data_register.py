"""The data register, the files in data/raw and data/README.md agree."""

from __future__ import annotations

from pathlib import Path

from cdp_analysis import paths
from cdp_analysis.data import register

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data" / "SHA256SUMS"


def test_every_registered_file_is_present_with_its_checksum():
    assert register.verify_checksums() == []


def test_every_raw_file_is_registered():
    registered = {e.path for e in register.load_register()}
    on_disk = set(register.raw_checksums())
    assert on_disk == registered, f"unregistered: {on_disk - registered}; missing: {registered - on_disk}"


def test_register_entries_are_complete_and_readme_lists_them():
    readme = (REPO / "data" / "README.md").read_text()
    refs = register.references()
    for e in register.load_register():
        assert f"| {refs[e.path]} | `{e.path}` |" in readme, f"data/README.md lacks {e.path}'s reference {refs[e.path]}"
        for field in ("publisher", "title", "edition", "licence", "sha256"):
            assert getattr(e, field), f"{e.path}: {field} is empty"
        assert e.kind in register.known_kinds()
        assert f"`{e.path}`" in readme and e.sha256 in readme, f"data/README.md lacks {e.path} or its checksum"


def test_files_are_unchanged_copies_of_the_shared_data():
    if not SHARED.is_file():
        import pytest

        pytest.skip("../shared/data is not beside the repository")
    shared = {}
    for line in SHARED.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        shared[name.removeprefix("./")] = digest
    by_name: dict[str, set[str]] = {}
    for name, digest in shared.items():
        by_name.setdefault(Path(name).name, set()).add(digest)
    for e in register.load_register():
        # a file may be kept in another folder than in ../shared/data (the MYEB3 series sits apart from the MYE2
        # tables whose loader reads every table of data/raw/ons_population): then its name and checksum must match
        expected = {shared[e.path]} if e.path in shared else by_name.get(Path(e.path).name, set())
        assert e.sha256 in expected, f"{e.path} differs from ../shared/data"


def test_files_of_kind_finds_the_registered_files():
    assert [p.name for p in register.files_of_kind("mye2_persons_csv")] == ["mye24tablesew_MYE2_persons.csv"]
    assert len(register.files_of_kind("mye2_workbook")) == 3
    assert [p.name for p in register.files_of_kind("mye2_xls")] == [
        "ukmidyearestimates2015_MYE2.xls", "ukmidyearestimates2016.xls", "ukmidyearestimates2017finalversion.xls",
        "ukmidyearestimates20182019ladcodes.xls", "ukmidyearestimates20192020ladcodes.xls"]
    assert register.file_of_kind("nearest_neighbours").parent == paths.raw_dir() / "ons_nearest_neighbours"


def test_citations_joined_by_group_as_pandas_would_join_them():
    """cite_by_group is groupby(keys)[columns].agg(lambda v: cite(*v)): the same groups, order, index and text."""
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({
        "area": ["B", "A", "A", "B", "A", None, "C"],
        "year": [2020, 2021, 2021, 2020, 2020, 2020, 2019],
        "source": ["b.csv [1]", "a.csv [1]; c.csv [2]", "a.csv [1]", "b.csv [1]", "c.csv [2]", "x.csv [9]", np.nan],
        "pop_source": ["p.csv [3]", "p.csv [3]", "q.csv [4]", "p.csv [3]; q.csv [4]", "", "p.csv [3]", "p.csv [3]"]})
    keys, columns = ["area", "year"], ["source", "pop_source"]
    expected = frame.groupby(keys)[columns].agg(lambda v: register.cite(*v))
    got = register.cite_by_group(frame, keys, columns)
    pd.testing.assert_frame_equal(got, expected)
    assert got.loc[("A", 2021), "source"] == "a.csv [1]; c.csv [2]"
    assert got.loc[("B", 2020), "pop_source"] == "p.csv [3]; q.csv [4]"
    assert got.loc[("C", 2019), "source"] == "nan"  # as pandas' call of cite gives it: a missing cell is not lost
    assert ("x.csv [9]" not in got["source"].tolist()) and len(got) == 4  # a missing key is no group
