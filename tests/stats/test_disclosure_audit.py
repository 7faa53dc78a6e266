"""Disclosure policies (NHS England's suppression and rounding) and the linear-programming audit that proves no
suppressed count can be worked out from what is published (issue 25, items 3 and 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdp_analysis.stats import disclosure

from .test_disclosure import _cells, _rel

NHS = disclosure.policy("nhs-england")
PLAIN = disclosure.policy("suppress-below-threshold")


def _widths(cells, rel=None, ratios=None, pol=PLAIN) -> dict[str, float]:
    iv = disclosure.deducible_intervals(cells, rel, ratios, pol=pol)
    return dict(zip(iv["cell"], iv["width"]))


# --- policies ----------------------------------------------------------------------------------------------------


def test_nhs_england_is_the_default_policy_suppress_1_to_7_round_to_5():
    assert disclosure.DEFAULT_POLICY == "nhs-england"
    assert (NHS.threshold, NHS.rounding, NHS.protection_width) == (8, 5, 8.0)
    assert (PLAIN.threshold, PLAIN.rounding) == (5, 1)
    out = disclosure.suppress(_cells({"a": 7, "b": 8, "c": 12, "d": 13, "e": 0, "f": 1}), threshold=NHS.threshold)
    assert out["suppressed"].tolist() == [True, False, False, False, False, True]
    shown = disclosure.round_counts(out["count"].where(~out["suppressed"]), NHS.rounding)
    assert np.array_equal(shown, [np.nan, 10, 10, 15, 0, np.nan], equal_nan=True)


def test_rounding_halves_up_and_leaves_zero_and_missing():
    assert np.array_equal(disclosure.round_counts([0, 8, 12, 12.5, 13, 17, 18, 102, np.nan], 5),
                          [0, 10, 10, 15, 15, 15, 20, 100, np.nan], equal_nan=True)
    assert disclosure.round_counts([12, 13], 1).tolist() == [12, 13]


def test_policy_names_and_thresholds_are_checked():
    assert disclosure.policy("nhs-england", 10).threshold == 10
    assert disclosure.policy("suppress-below-threshold", 8).rounding == 1
    with pytest.raises(ValueError, match="threshold 8"):
        disclosure.policy("nhs-england", 5)
    with pytest.raises(ValueError, match="unknown disclosure policy"):
        disclosure.policy("round-everything")


# --- the audit: adversarial cases ---------------------------------------------------------------------------------


def test_a_rolling_three_year_total_with_one_suppressed_year_is_caught():
    """Years 20, 3, 30 and the published 3-year total 53: the hidden 3 is 53 − 20 − 30."""
    cells = _cells({"y1": 20, "y2": 3, "y3": 30, "y1-3": 53}).assign(suppressed=[False, True, False, False])
    rel = _rel(("y1-3", ["y1", "y2", "y3"]))
    assert _widths(cells, rel) == {"y2": 0.0}
    out, _, summary = disclosure.audit(cells, rel, pol=PLAIN)
    assert out.set_index("cell")["suppressed"].to_dict() == {"y1": True, "y2": True, "y3": False, "y1-3": False}
    assert summary["suppressed_by_audit"] == 1 and summary["narrowest_interval"] >= PLAIN.protection_width


def test_a_hierarchy_where_no_relation_has_one_hidden_cell_but_a_cell_is_determinable():
    """T = a + b + c (60 = 3 + 20 + 37), published subtotals S1 = a + b (23) and S2 = b + c (57). The one-hidden-
    cell rule hides a, b, c, leaving T 3 hidden, S1 2 and S2 2 — yet a = T − S2 = 3. The audit catches it."""
    counts = {"T": 60, "a": 3, "b": 20, "c": 37, "S1": 23, "S2": 57}
    rel = _rel(("T", ["a", "b", "c"]), ("S1", ["a", "b"]), ("S2", ["b", "c"]))
    first = disclosure.suppress(_cells(counts), relations=rel)
    hidden = dict(zip(first["cell"], first["suppressed"]))
    assert hidden == {"T": False, "a": True, "b": True, "c": True, "S1": False, "S2": False}
    for r, g in rel.groupby("relation"):  # the rule is satisfied ...
        assert sum(hidden[c] for c in g["cell"]) != 1, r
    assert _widths(first, rel)["a"] == pytest.approx(0.0)  # ... but a is known exactly
    out, _, summary = disclosure.audit(first, rel, pol=PLAIN)
    assert summary["suppressed_by_audit"] >= 1
    assert set(out.loc[out["suppression"] == "audit", "cell"]) <= {"T", "S1", "S2"}
    assert min(_widths(out, rel).values()) >= PLAIN.protection_width


def test_a_rate_that_gives_away_its_suppressed_numerator_is_suppressed():
    """3 of 40 (7.5%) with 40 shown: the numerator is 7.5 × 40 / 100 = 3. The rate must go too."""
    cells = _cells({"x": 3, "n": 40}).assign(suppressed=[True, False])
    ratios = pd.DataFrame({"cell": ["r"], "numerator": ["x"], "denominator": ["n"], "multiplier": [100.0],
                           "value": [7.5], "suppressed": [False]})
    assert _widths(cells, None, ratios)["x"] == pytest.approx(0.0)
    out, rat, summary = disclosure.audit(cells, None, ratios, pol=PLAIN)
    assert bool(rat["suppressed"].iloc[0]) and not out.set_index("cell").loc["n", "suppressed"]
    assert summary["rates_suppressed"] == 1 and summary["widest_interval"] == "unbounded"
    # rounded to 5 under NHS England's policy, 40 and 7.5% still pin the numerator to within 0.375
    assert _widths(cells, None, ratios, NHS)["x"] == pytest.approx(0.375)


def test_rounding_alone_protects_a_single_hidden_part_under_nhs_england():
    """Mandatory 3 + voluntary 40 = 43, shown as 45 and 40: the 3 lies anywhere in [0, 10] (width ≥ 8)."""
    cells = _cells({"t": 43, "m": 3, "v": 40}).assign(suppressed=[False, True, False])
    assert _widths(cells, _rel(("t", ["m", "v"])), pol=NHS) == {"m": pytest.approx(10.0)}
    assert _widths(cells, _rel(("t", ["m", "v"])), pol=PLAIN) == {"m": pytest.approx(0.0)}


def test_the_audit_fails_when_no_suppression_can_protect_a_cell():
    cells = _cells({"z": 0, "a": 0}).assign(suppressed=[False, True])
    with pytest.raises(disclosure.DisclosureAuditError, match="'a' can be worked out"):
        disclosure.audit(cells, _rel(("z", ["a"])), pol=PLAIN)


def test_the_summary_reports_cells_checked_and_interval_widths():
    cells = _cells({"t": 100, "a": 3, "b": 47, "c": 50}).assign(suppressed=[False, True, True, False])
    _, _, s = disclosure.audit(cells, _rel(("t", ["a", "b", "c"])), pol=PLAIN)
    assert s["policy"] == "suppress-below-threshold" and s["cells"] == 4 and s["suppressed"] == 2
    assert s["narrowest_interval"] == s["widest_interval"] == 50.0
