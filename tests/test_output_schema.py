"""Every table written by every chapter, for both default CDPs, follows the output schema
(docs/output-schema.md), and its Fingertips-headed copy holds the same rows under Fingertips' headings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import DEFAULT_CDPS, REPO

from cdp_analysis import chapters
from cdp_analysis.areas import geography
from cdp_analysis.chapters import partnerships
from cdp_analysis.output import tidy

pytestmark = pytest.mark.slow

#: A real Fingertips download (the 27-column layout), from the shared data bundle beside the repository.
FINGERTIPS_EXPORT = REPO.parent / "shared" / "data" / "fingertips" / "indicator_93517_ocu_not_in_treatment_sample.csv"
TEXT = {c: str for c in ("indicator_id", "area_code", "area_members", "age", "time_period", "value_note",
                         "category_type", "category", "compared_to_england")}


def _written(runs):
    out, *_ = runs
    for slug in DEFAULT_CDPS:
        for chapter in partnerships.get(slug).chapters():
            for name in chapter.tables:
                yield slug, name, out / "a" / slug / "tables" / f"{name}.csv", out / "a" / slug / "fingertips" / f"{name}.csv"


def test_every_chapter_table_follows_the_schema(runs):
    checked = 0
    for slug, name, path, _ in _written(runs):
        t = pd.read_csv(path, dtype=TEXT, keep_default_na=False, na_values={c: [""] for c in tidy._NUMERIC})
        assert list(t.columns[: len(tidy.SCHEMA) - 1]) == tidy.SCHEMA[:-1], f"{slug}/{name}: schema columns in order"
        assert t.columns[-1] == "source", f"{slug}/{name}"
        tidy.check_tidy(t, f"{slug}/{name}")
        blank = t["value"].isna()
        assert (t.loc[blank, "value_note"].str.len() > 0).all(), f"{slug}/{name}: a row without a value says why"
        assert (t["time_period_sortable"] == tidy.time_period_sortable(t["time_period"])).all()
        assert t["indicator_id"].str.len().gt(0).all() and t["indicator_name"].str.len().gt(0).all()
        key = ["indicator_id", "area_code", "sex", "age", "category_type", "category", "time_period"]
        assert not t.duplicated(key).any(), f"{slug}/{name}: indicator × area × sex × age × category × period repeats"
        limits = t[["lower_ci", "upper_ci"]].dropna()
        assert (limits["lower_ci"] <= limits["upper_ci"]).all()
        checked += 1
    assert checked == sum(len(c.tables) for s in DEFAULT_CDPS for c in partnerships.get(s).chapters()) > 0


def test_a_multi_area_cdp_is_its_slug_with_members_and_a_single_area_cdp_its_ons_code(runs):
    with_cdp_rows = set()
    for slug, name, path, _ in _written(runs):
        t = pd.read_csv(path, dtype=TEXT, keep_default_na=False)
        cdp = t[t["area_role"] == "cdp"]
        if len(cdp):
            with_cdp_rows.add(slug)
        if slug == "northamptonshire":
            assert set(cdp["area_code"]) <= {"northamptonshire"}, name
            assert set(cdp["area_type"]) <= {geography.CDP_AREA_TYPE}
            assert set(cdp["area_members"]) <= {"E06000061; E06000062"}
            members = t[t["area_role"] == "member"]
            assert set(members["area_code"]) <= {"E06000061", "E06000062"} and set(members["area_type"]) <= {"UA"}
        else:
            assert set(cdp["area_code"]) <= {"E10000024"} and set(cdp["area_type"]) <= {"County"}, name
        assert not t["area_code"].str.contains(r"\+").any()
        assert set(t.loc[t["area_role"] == "england", "area_type"]) <= {"England"}
        assert set(t.loc[t["area_role"] == "region", "area_type"]) <= {"Region"}
    assert with_cdp_rows == set(DEFAULT_CDPS)


def test_fingertips_copy_has_the_headings_of_a_real_fingertips_download_and_the_same_rows(runs):
    export_headings = list(pd.read_csv(FINGERTIPS_EXPORT, nrows=0).columns)
    assert tidy.FINGERTIPS_HEADINGS == export_headings
    for slug, name, path, twin in _written(runs):
        ours = pd.read_csv(path, dtype=TEXT, keep_default_na=False, na_values={c: [""] for c in tidy._NUMERIC})
        theirs = pd.read_csv(twin, dtype={"Indicator ID": str, "Area Code": str, "Time period": str},
                             keep_default_na=False, na_values={"Value": [""], "Count": [""], "Denominator": [""]})
        assert list(theirs.columns) == export_headings, f"{slug}/{name}"
        assert len(theirs) == len(ours)
        pairs = {"Indicator ID": "indicator_id", "Area Code": "area_code", "Area Type": "area_type", "Sex": "sex",
                 "Time period": "time_period", "Value": "value", "Count": "count", "Denominator": "denominator",
                 "Time period Sortable": "time_period_sortable"}
        for heading, column in pairs.items():
            pd.testing.assert_series_equal(theirs[heading], ours[column], check_names=False, check_dtype=False,
                                           obj=f"{slug}/{name}: {heading}")
        assert theirs["Age"].str.fullmatch(r"All ages|\d+(-\d+|\+)? yrs").all()


def test_every_registered_chapter_is_covered():
    """The schema test above reads the tables of every chapter the default CDPs run: that is all of them."""
    registry = chapters.all_chapters()
    for slug in DEFAULT_CDPS:
        assert [c.name for c in partnerships.get(slug).chapters()] == list(registry)


def test_the_schema_document_lists_every_column():
    doc = (Path(REPO) / "docs" / "output-schema.md").read_text()
    for column in tidy.SCHEMA:
        assert f"`{column}`" in doc, column
    for heading in tidy.FINGERTIPS_HEADINGS:
        assert heading.split(" ")[0] in doc, heading
