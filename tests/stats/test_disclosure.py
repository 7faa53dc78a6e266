"""Disclosure control of local counts: primary, complementary and secondary suppression, derived values."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cdp_analysis.stats import disclosure


def _cells(counts: dict[str, float], **extra) -> pd.DataFrame:
    return pd.DataFrame({"cell": list(counts), "count": list(counts.values()), **extra})


def _rel(*groups: tuple[str, list[str]]) -> pd.DataFrame:
    rows = []
    for i, (total, parts) in enumerate(groups):
        rows.append((f"r{i}", total, "total"))
        rows += [(f"r{i}", p, "part") for p in parts]
    return pd.DataFrame(rows, columns=["relation", "cell", "role"])


def test_primary_suppresses_one_to_four_and_shows_zero_and_five():
    out = disclosure.suppress(_cells({"a": 0, "b": 1, "c": 4, "d": 5, "e": np.nan, "f": 120}))
    assert out.set_index("cell")["suppressed"].to_dict() == {"a": False, "b": True, "c": True, "d": False,
                                                             "e": False, "f": False}
    assert set(out.loc[out["suppressed"], "suppression"]) == {"primary"}


def test_threshold_is_a_parameter():
    out = disclosure.suppress(_cells({"a": 5, "b": 7, "c": 8}), threshold=8)
    assert out["suppressed"].tolist() == [True, True, False]
    with pytest.raises(ValueError, match="at least 2"):
        disclosure.suppress(_cells({"a": 1}), threshold=1)


def test_complement_of_a_proportion_is_protected():
    """57 of 61 with a need are untreated: the 4 treated could be identified, so 57 is suppressed."""
    cells = _cells({"x": 57, "n": 61, "x2": 50, "n2": 61}, den=["n", None, "n2", None])
    out = disclosure.suppress(cells, complement_of="den").set_index("cell")
    assert out.loc["x", "suppression"] == "complement"
    assert not out.loc["x2", "suppressed"] and not out.loc["n", "suppressed"]


def test_secondary_protects_a_part_from_its_total():
    """Mandatory 3 + voluntary 40 = 43 referrals: showing 43 and 40 would reveal the 3."""
    out = disclosure.suppress(_cells({"total": 43, "mandatory": 3, "voluntary": 40}),
                              relations=_rel(("total", ["mandatory", "voluntary"])))
    got = out.set_index("cell")["suppression"].to_dict()
    assert got == {"total": "", "mandatory": "primary", "voluntary": "secondary"}


def test_secondary_picks_the_smallest_other_part_and_never_a_zero_first():
    out = disclosure.suppress(_cells({"t": 70, "a": 2, "b": 0, "c": 30, "d": 38}),
                              relations=_rel(("t", ["a", "b", "c", "d"])))
    got = out.set_index("cell")["suppression"]
    assert got["c"] == "secondary" and got[["b", "d", "t"]].eq("").all()


def test_secondary_suppresses_the_total_when_it_is_the_only_cell_left():
    out = disclosure.suppress(_cells({"t": 6, "a": 2, "b": 4}), relations=_rel(("t", ["a", "b"])))
    # both parts primary: the total reveals only their sum, so it is shown
    assert out.set_index("cell")["suppression"].to_dict() == {"t": "", "a": "primary", "b": "primary"}
    out = disclosure.suppress(_cells({"t": 2, "a": 2}), relations=_rel(("t", ["a"])))
    assert out["suppressed"].all()


def test_secondary_follows_chains_across_relations():
    """A partnership = two members; each area's referrals = mandatory + voluntary. Suppressing a member's
    mandatory count forces its voluntary count, then the other member's voluntary count (partnership total
    of voluntary), then that member's mandatory count."""
    counts = {"cdp_m": 13, "cdp_v": 90, "a_m": 3, "a_v": 40, "b_m": 10, "b_v": 50, "cdp_t": 103, "a_t": 43, "b_t": 60}
    rel = _rel(("cdp_m", ["a_m", "b_m"]), ("cdp_v", ["a_v", "b_v"]), ("cdp_t", ["a_t", "b_t"]),
               ("a_t", ["a_m", "a_v"]), ("b_t", ["b_m", "b_v"]), ("cdp_t", ["cdp_m", "cdp_v"]))
    out = disclosure.suppress(_cells(counts), relations=rel).set_index("cell")["suppressed"]
    assert out["a_m"] and out["b_m"]  # the other member's mandatory count (partnership total of mandatory)
    hidden = set(out.index[out])
    # no relation is left with exactly one hidden cell
    for _, g in rel.groupby("relation"):
        assert len(hidden & set(g["cell"])) != 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=60), min_size=2, max_size=6), st.integers(2, 10))
def test_no_suppressed_part_can_be_recovered_by_subtraction(parts, threshold):
    """Property: after suppression, no relation has exactly one hidden cell, and every small count is hidden."""
    counts = {f"p{i}": v for i, v in enumerate(parts)} | {"t": sum(parts)}
    rel = _rel(("t", [f"p{i}" for i in range(len(parts))]))
    out = disclosure.suppress(_cells(counts), relations=rel, threshold=threshold)
    hidden = out["suppressed"].to_numpy()
    assert hidden.sum() != 1
    small = (out["count"] >= 1) & (out["count"] < threshold)
    assert out.loc[small, "suppressed"].all()


def test_suppression_is_deterministic_whatever_the_row_order():
    counts = {"t": 100, "a": 3, "b": 30, "c": 30, "d": 37}
    rel = _rel(("t", list("abcd")))
    results = set()
    for order in itertools.permutations(counts):
        out = disclosure.suppress(_cells({k: counts[k] for k in order}), relations=rel.sample(frac=1, random_state=1))
        results.add(tuple(sorted(out.loc[out["suppressed"], "cell"])))
    assert results == {("a", "b")}


def test_derived_values_follow_their_counts():
    assert disclosure.derived_mask([True, False, False], [False, True, False]).tolist() == [True, True, False]


def test_bad_relations_are_refused():
    with pytest.raises(ValueError, match="roles"):
        disclosure.suppress(_cells({"a": 1, "b": 2}), relations=pd.DataFrame(
            {"relation": ["r", "r"], "cell": ["a", "b"], "role": ["sum", "part"]}))
    with pytest.raises(ValueError, match="not unique"):
        disclosure.suppress(_cells({"a": 1}).pipe(lambda d: pd.concat([d, d])))
