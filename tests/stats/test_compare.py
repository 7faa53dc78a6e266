"""Tests for cdp_analysis.stats.compare.compare_to_benchmark (table-driven)."""

import numpy as np
import pandas as pd
import pytest

from cdp_analysis.stats.compare import compare_to_benchmark, normalise_polarity

# (value, lower, upper, benchmark) -> direction
CASES = [
    ("above", 12.0, 11.0, 13.0, 10.0, "Higher"),
    ("below", 8.0, 7.0, 9.0, 10.0, "Lower"),
    ("inside", 10.5, 9.0, 12.0, 10.0, "Similar"),
    ("equal_lower", 11.0, 10.0, 12.0, 10.0, "Similar"),
    ("equal_upper", 9.0, 8.0, 10.0, 10.0, "Similar"),
    ("missing_lower", 9.0, np.nan, 10.0, 10.0, "Not compared"),
    ("missing_upper", 9.0, 8.0, np.nan, 10.0, "Not compared"),
    ("missing_value", np.nan, 8.0, 12.0, 10.0, "Not compared"),
    ("missing_benchmark", 9.0, 8.0, 12.0, np.nan, "Not compared"),
]

POLARITY_MAP = {
    "high_is_good": {"Higher": "Better", "Lower": "Worse"},
    "low_is_good": {"Higher": "Worse", "Lower": "Better"},
    "bob": {"Higher": "Higher", "Lower": "Lower"},
    "no_judgement": {"Higher": "Higher", "Lower": "Lower"},
}


@pytest.mark.parametrize("polarity", list(POLARITY_MAP))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_benchmark_every_case_and_polarity(case, polarity):
    _, v, lo, hi, b, direction = case
    df = pd.DataFrame({"v": [v], "lo": [lo], "hi": [hi], "b": [b]})
    out = compare_to_benchmark(df, "v", "lo", "hi", "b", polarity=polarity)
    expected = POLARITY_MAP[polarity].get(direction, direction)
    assert out["comparison"].iloc[0] == expected
    assert out["comparison_direction"].iloc[0] == direction


@pytest.mark.parametrize(
    "fingertips, ours",
    [
        ("RAG - High is good", "high_is_good"),
        ("RAG - Low is good", "low_is_good"),
        ("BOB - Blue orange blue", "bob"),
        ("Not applicable", "no_judgement"),
        ("No judgement", "no_judgement"),
        ("rag - high is good ", "high_is_good"),
        ("low_is_good", "low_is_good"),
    ],
)
def test_benchmark_fingertips_polarity_strings(fingertips, ours):
    assert normalise_polarity(fingertips) == ours


def test_benchmark_unknown_polarity_raises():
    with pytest.raises(ValueError, match="polarity"):
        normalise_polarity("up is nice")


def test_benchmark_scalar_benchmark_vectorised_and_level_label():
    df = pd.DataFrame(
        {
            "area": ["A", "B", "C", "D"],
            "v": [20.0, 10.0, 15.0, np.nan],
            "lo": [18.0, 8.0, 14.0, np.nan],
            "hi": [22.0, 12.0, 16.0, np.nan],
        }
    )
    out = compare_to_benchmark(df, "v", "lo", "hi", 15.0, polarity="RAG - Low is good", level=99.8, group_by="area")
    assert out["comparison"].tolist() == ["Worse", "Better", "Similar", "Not compared"]
    assert (out["level"] == "99.8%").all()
    assert out["area"].tolist() == ["A", "B", "C", "D"]
    assert "comparison" not in df.columns  # input untouched
    out95 = compare_to_benchmark(df, "v", "lo", "hi", 15.0, level=0.95)
    assert (out95["level"] == "95%").all()


def test_benchmark_per_row_benchmark_and_polarity_column():
    df = pd.DataFrame(
        {
            "v": [5.0, 5.0],
            "lo": [4.0, 4.0],
            "hi": [6.0, 6.0],
            "england": [3.0, 7.0],
            "pol": ["RAG - High is good", "RAG - High is good"],
        }
    )
    out = compare_to_benchmark(df, "v", "lo", "hi", "england", polarity="pol")
    assert out["comparison"].tolist() == ["Better", "Worse"]


def test_benchmark_errors():
    df = pd.DataFrame({"v": [5.0, 5.0], "lo": [4.0, 7.0], "hi": [6.0, 6.0]})
    with pytest.raises(ValueError, match=r"column 'lo' is greater than column 'hi' in rows \[1\]"):
        compare_to_benchmark(df, "v", "lo", "hi", 5.0)
    with pytest.raises(ValueError, match="not found"):
        compare_to_benchmark(df, "v", "lo", "hi", "nope")


def test_benchmark_rejects_a_value_outside_its_own_limits():
    df = pd.DataFrame({"v": [5.0, 9.0, 6.0], "lo": [4.0, 7.0, 5.0], "hi": [6.0, 8.0, 6.0]})
    with pytest.raises(ValueError, match=r"column 'v' lies outside its own limits 'lo'–'hi' in rows \[1\]"):
        compare_to_benchmark(df, "v", "lo", "hi", 5.0)
    # a value at its limit (row 2) is fine
    assert compare_to_benchmark(df.drop(index=1), "v", "lo", "hi", 5.0)["comparison"].tolist() == ["Similar", "Similar"]
