"""Reproduce every number in the PHEindicatormethods v2.1.0 reference sheets (rtol 1e-9).

Sheets: tests/reference/phe/ (see PROVENANCE.md there). Missing cells must be NaN in our
output; strings (confidence, statistic, method) are compared where the sheet has them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cdp_analysis.stats.esp2013 import ESP2013, ESP2013_BANDS, esp2013
from cdp_analysis.stats.limits import byars_limits, wilson_limits
from cdp_analysis.stats.rates import crude_rate, mean, proportion
from cdp_analysis.stats.standardised import dsr

REF = Path(__file__).resolve().parents[1] / "reference" / "phe"
RTOL = 1e-9

CHECKSUMS = {
    "README.md": "98c08c86b29a0d425c52801e4df4b788dcc910b0b52086f6c3ae0ca123ca9d32",
    "byars_wilson.csv": "52898cbc999bc9050c62dc31d21ef480e18444d915767464c9e292868ac88620",
    "dsr_expected.csv": "0cadcce09afa6110feee95cef6b8a8099bc684b6548ef2eb5afe3993596c204e",
    "dsr_input.csv": "13c5c0556ab56b0924ac8eb1bc8afcc1fe634f74afa32bd46442f35a688d9e48",
    "esp2013.csv": "9c02034fb184679530a6008deda7ce3592f9a6ba9ccf554a089aee2cde2defbe",
    "mean_expected.csv": "4fc86282dd08ae42934377db32d37f026ab31c255cec412bb91b65031dccbfdf",
    "mean_input.csv": "14abfa5ccbf45868725a7e3b969916332533e063dd81627825dc54ee0309da1e",
    "proportion_grouped.csv": "e552aca9847a925dcdca44e5cd6e7d57dcebae5f6e50efe65880af0dfdf86d05",
    "proportion_two_levels.csv": "086d7658479dbd3d39c63ef9590d7352d77fe261075e8f2496d82cfb271e1214",
    "rate_grouped.csv": "f1ca744f079d533b68014b4c0a8b0fd38607e385e7584dab8af41178558e9dc6",
    "rate_two_levels.csv": "9a032ef9db55034ece61289b39d4f73c9fc2d3aac6a82477cfb8b381f3e6a01c",
}


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, keep_default_na=False, na_values=[""])


def assert_frame_matches(actual: pd.DataFrame, expected: pd.DataFrame, key: str | None,
                         numeric: list[str], strings: list[str]) -> None:
    """Align on ``key`` and compare numeric columns (NaN == NaN) and string columns."""
    assert len(actual) == len(expected)
    if key is not None:
        actual = actual.set_index(key).loc[expected[key]].reset_index()
    for col in numeric:
        np.testing.assert_allclose(
            actual[col].to_numpy(dtype=float), expected[col].to_numpy(dtype=float),
            rtol=RTOL, atol=0, equal_nan=True, err_msg=col,
        )
    for col in strings:
        a = [None if pd.isna(v) else v for v in actual[col]]
        e = [None if pd.isna(v) else v for v in expected[col]]
        assert a == e, col


def test_provenance_checksums():
    for name, digest in CHECKSUMS.items():
        assert hashlib.sha256((REF / name).read_bytes()).hexdigest() == digest, name
    provenance = (REF / "PROVENANCE.md").read_text()
    for digest in CHECKSUMS.values():
        assert digest in provenance


# ---------------------------------------------------------------------------- primitives


def test_byars_and_wilson_primitives():
    ref = read("byars_wilson.csv")
    for _, row in ref.iterrows():
        conf = float(row["confidence"].rstrip("%"))
        if row["method"] == "Byars":
            lo, up = byars_limits(row["x"], conf)
        else:
            lo, up = wilson_limits(row["x"], row["n"], conf)
        np.testing.assert_allclose([lo, up], [row["lowercl"], row["uppercl"]], rtol=RTOL, equal_nan=True)
    assert ref["lowercl"].isna().sum() == 1  # the missing Byar's lower limit is exercised


def test_esp2013_matches_reference():
    ref = read("esp2013.csv")
    assert list(ref["ageband"]) == list(ESP2013_BANDS)
    np.testing.assert_array_equal(ref["esp2013"].to_numpy(), np.asarray(ESP2013))
    assert esp2013().sum() == 100_000


# ---------------------------------------------------------------------------- proportions / rates

NUM = ["Numerator", "Denominator", "value"]


def _per_area(sheet: pd.DataFrame, func, multiplier, **kw):
    """R's ungrouped call is row-wise; here each Area is its own group."""
    block = sheet[sheet["multiplier"] == multiplier].reset_index(drop=True)
    out = func(block[["Area", "Numerator", "Denominator"]], "Numerator", "Denominator",
               group_by="Area", multiplier=multiplier, **kw)
    return block, out


@pytest.mark.parametrize("multiplier", [1, 100])
@pytest.mark.parametrize("conf", [(0.95, 0.998), (95, 99.8)])
def test_proportion_two_levels(multiplier, conf):
    block, out = _per_area(read("proportion_two_levels.csv"), proportion, multiplier, confidence=conf)
    assert list(out.columns) == ["Area", "Numerator", "Denominator", "value", "lower95_0cl",
                                 "upper95_0cl", "lower99_8cl", "upper99_8cl", "confidence",
                                 "statistic", "method"]
    lims = ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]
    assert_frame_matches(out, block, "Area", NUM + lims, ["statistic", "method"])
    assert (out["confidence"] == "95%, 99.8%").all()


@pytest.mark.parametrize("multiplier", [100, 100000])
def test_rate_two_levels(multiplier):
    block, out = _per_area(read("rate_two_levels.csv"), crude_rate, multiplier, confidence=(0.95, 0.998))
    lims = ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]
    assert_frame_matches(out, block, "Area", NUM + lims, ["statistic", "method"])
    assert (out["confidence"] == "95%, 99.8%").all()


def _split_rows(sheet: pd.DataFrame) -> pd.DataFrame:
    """Rebuild several input rows per Area that sum (R ``sum`` without na.rm) to the sheet.

    Complete rows are split in two halves; a missing total is produced by one missing and one
    present value, so NaN propagation within a group is exercised.
    """
    rows = []
    for _, r in sheet.iterrows():
        x, n = r["Numerator"], r["Denominator"]
        if pd.notna(x) and pd.notna(n):
            rows += [(r["Area"], x / 2, n / 2), (r["Area"], x - x / 2, n - n / 2)]
        else:
            rows += [(r["Area"], np.nan if pd.isna(x) else x, np.nan if pd.isna(n) else n / 2),
                     (r["Area"], 1.0 if pd.isna(x) else 0.0, 0.0 if pd.isna(n) else n / 2)]
    df = pd.DataFrame(rows, columns=["Area", "Numerator", "Denominator"])
    # a zero denominator is invalid; give the filler rows of missing-n groups a positive one
    df.loc[df["Denominator"] == 0, "Denominator"] = 5.0
    return df.sample(frac=1, random_state=1).reset_index(drop=True)  # order must not matter


@pytest.mark.parametrize("name, func", [("proportion_grouped.csv", proportion),
                                        ("rate_grouped.csv", crude_rate)])
def test_grouped_sheets(name, func):
    ref = read(name)
    inp = _split_rows(ref)
    assert inp.groupby("Area").size().min() == 2
    multiplier = int(ref["multiplier"].iloc[0])
    out = func(inp, "Numerator", "Denominator", group_by="Area", multiplier=multiplier, confidence=95)
    assert list(out.columns) == ["Area", "Numerator", "Denominator", "value", "lowercl", "uppercl",
                                 "confidence", "statistic", "method"]
    assert_frame_matches(out, ref, "Area", NUM + ["lowercl", "uppercl"],
                         ["confidence", "statistic", "method"])


# ---------------------------------------------------------------------------- mean


def test_mean_reference():
    ref = read("mean_expected.csv")
    inp = read("mean_input.csv")
    cols = ["value_sum", "value_count", "stdev", "value", "lower95_0cl", "upper95_0cl",
            "lower99_8cl", "upper99_8cl"]
    grouped = mean(inp, "values", group_by="area", confidence=(0.95, 0.998))
    assert list(grouped.columns) == ["area"] + cols + ["confidence", "statistic", "method"]
    assert_frame_matches(grouped, ref[ref["area"] != "No grouping"].reset_index(drop=True), "area",
                         cols, ["statistic", "method"])
    whole = mean(inp, "values", confidence=(0.95, 0.998))
    assert list(whole.columns) == cols + ["confidence", "statistic", "method"]
    assert_frame_matches(whole, ref[ref["area"] == "No grouping"].reset_index(drop=True), None,
                         cols, ["statistic", "method"])


# ---------------------------------------------------------------------------- DSR


@pytest.mark.parametrize("stdpop", [None, "esp2013"])
def test_dsr_reference(stdpop):
    ref = read("dsr_expected.csv")
    inp = read("dsr_input.csv")
    lims = ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]
    for multiplier, statistic in [(10000, "dsr per 10000"), (100000, "dsr per 100000")]:
        block = ref.iloc[:3] if multiplier == 10000 else ref.iloc[3:]
        block = block.reset_index(drop=True)
        assert block["statistic"].iloc[0] == statistic
        out = dsr(inp, "count", "pop", group_by="area", stdpop=stdpop,
                  confidence=(0.95, 0.998), multiplier=multiplier)
        assert list(out.columns) == ["area", "total_count", "total_pop", "value"] + lims + [
            "confidence", "statistic", "method"]
        assert_frame_matches(out, block, "area", ["total_count", "total_pop", "value"] + lims,
                             ["statistic", "method"])
