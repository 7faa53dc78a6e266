"""The plausibility rule engine (cdp_analysis.data.plausibility) and every dataset's rules, on small frames.
The same rules on the real files, altered, are in test_bad_input.py."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cdp_analysis.data import datasets, ons_nearest_neighbours, ons_population, plausibility
from cdp_analysis.errors import InputError

DOC = Path(__file__).resolve().parent.parent / "docs" / "plausibility.md"


def test_between_names_file_row_column_value_and_rule():
    t = pd.DataFrame({"score": [10.0, -999.0, 20.0, 500.0], "_row": [2, 3, 4, 5]})
    with pytest.raises(InputError) as exc:
        plausibility.check(t, [plausibility.between("score", 0, 100, what="IMD average score")], file=Path("f.csv"))
    msg = exc.value.message
    assert "f.csv" in msg and "row 3, column 'score'" in msg and "-999" in msg
    assert "IMD average score is between 0 and 100" in msg and "1 more row(s)" in msg


def test_missing_values_pass_a_range_rule_and_whole_numbers_are_checked():
    plausibility.check(pd.DataFrame({"d": [1.0, None, 10.0]}), [plausibility.between("d", 1, 10, whole=True)])
    with pytest.raises(InputError, match="whole number"):
        plausibility.check(pd.DataFrame({"d": [1.5]}), [plausibility.between("d", 1, 10, whole=True)])


def test_year_on_year_allows_the_factor_per_year_of_gap_and_flags_the_later_row():
    t = pd.DataFrame({"code": ["a"] * 4 + ["b"] * 2, "year": [2020, 2021, 2023, 2024, 2020, 2021],
                      "n": [100.0, 140.0, 300.0, 310.0, 50.0, 50_000.0], "_row": range(1, 7)})
    rule = plausibility.year_on_year("n", key=["code"], factor=1.5)
    ok = rule.passes(t)
    # a: +40% in a year passes; 140 -> 300 over two years (x2.14 <= 1.5**2) passes; b: x1000 fails
    assert ok.tolist() == [True, True, True, True, True, False]
    with pytest.raises(InputError, match="row 6"):
        plausibility.check(t, [rule])


def test_sums_to_flags_the_total_that_its_parts_do_not_add_up_to():
    t = pd.DataFrame({"year": [2024] * 6, "code": ["E", "R1", "R2", "E", "R1", "R2"],
                      "sex": ["persons"] * 3 + ["males"] * 3, "n": [30.0, 10.0, 20.0, 15.0, 5.0, 11.0]})
    rule = plausibility.sums_to("n", parts=lambda d: d["code"] != "E", total=lambda d: d["code"] == "E",
                                group=lambda d: d[["year", "sex"]], what="regions add up to England")
    assert rule.passes(t).tolist() == [True, True, True, False, True, True]


def test_population_rules_catch_sexes_that_do_not_add_up():
    rows = [(2024, "E10000024", "N", "County", sex, n, "MYE2 - " + sex.capitalize(), r)
            for sex, n, r in (("persons", 100, 10), ("males", 49, 11), ("females", 50, 12))]
    t = pd.DataFrame(rows, columns=["year", "code", "name", "geography", "sex", "All ages", "_sheet", "_row"])
    with pytest.raises(InputError) as exc:
        plausibility.check(t.assign(_file="f.xlsx"), ons_population.RULES)
    assert "males and females add up to persons" in exc.value.message and "sheet 'MYE2 - Persons', row 10" in exc.value.message


def test_nearest_neighbour_rules():
    d = pd.DataFrame({"code": ["a", "a", "b", "b"], "other_code": ["a", "b", "a", "b"],
                      "distance": [0.0, 2.0, 3.0, 0.0], "_row": [2, 2, 3, 3], "_column": ["a", "b", "a", "b"]})
    with pytest.raises(InputError) as exc:
        plausibility.check(d, ons_nearest_neighbours.DISTANCE_RULES, sheet="Table 4")
    assert "the distance from A to B equals the distance from B to A" in exc.value.message
    assert "sheet 'Table 4', row 2, column 'b'" in exc.value.message
    r = pd.DataFrame({"code": ["a", "a", "b"], "neighbour_code": ["b", "a", "a"], "rank": [1, 2, 1], "_row": [2, 2, 3]})
    with pytest.raises(InputError, match="not its own neighbour"):
        plausibility.check(r, ons_nearest_neighbours.RANK_RULES)


def test_every_dataset_declares_rules_and_the_document_lists_each_one():
    doc = DOC.read_text(encoding="utf-8")
    for name, ds in datasets().items():
        assert ds.rules, f"dataset {name} declares no plausibility rules"
        assert f"`{name}`" in doc, name
        for rule in ds.rules:
            assert rule.name in doc, f"{name}: rule '{rule.name}' is not in docs/plausibility.md"
    assert not re.search(r"TODO|TBD", doc)
