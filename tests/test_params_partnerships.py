"""Parameters and CDPs (the valid paths; bad parameters are in test_bad_input.py)."""

from __future__ import annotations

import pytest

import cdp_analysis
from cdp_analysis.chapters import partnerships, population_profile


def test_defaults():
    d = partnerships.defaults()
    assert d.chapters is None  # every chapter in the registry
    assert d.population_profile.population_years == [2020, 2022, 2024]
    assert d.n_neighbours == 15


def test_named_northamptonshire():
    p = partnerships.get("northamptonshire")
    assert p.members == ("E06000061", "E06000062")
    assert p.member_names == ("North Northamptonshire", "West Northamptonshire")
    assert p.source == "params/cdps/northamptonshire.yaml"


@pytest.mark.parametrize("key", ["nottinghamshire", "E10000024"])
def test_single_area_cdp_by_slug_or_code(key):
    p = partnerships.get(key)
    assert (p.slug, p.members, p.name) == ("nottinghamshire", ("E10000024",), "Nottinghamshire")


def test_all_partnerships_named_ones_replace_their_members():
    slugs = [p.slug for p in partnerships.all_partnerships()]
    assert "northamptonshire" in slugs
    assert "north-northamptonshire" not in slugs and "west-northamptonshire" not in slugs
    assert len(slugs) == 153 - 2 + 1 and len(set(slugs)) == len(slugs)


def test_cdp_file_overrides_defaults(project):
    (project / "params/cdps/notts-plus.yaml").write_text(
        "name: Nottingham and Nottinghamshire\nmembers: [E06000018, E10000024]\nn_neighbours: 5\n")
    cdp_analysis.clear_caches()
    p = partnerships.get("notts-plus")
    assert p.settings.n_neighbours == 5
    assert p.chapter_settings("population_profile").population_years == [2020, 2022, 2024]
    assert population_profile.CHAPTER.parameters(p, "x") == {
        "cdp_slug": "notts-plus", "cdp_name": "Nottingham and Nottinghamshire", "members": ["E06000018", "E10000024"],
        "population_years": [2020, 2022, 2024], "n_neighbours": 5, "comparators": None, "output_dir": "x"}
