"""Tidy tables are checked and written deterministically."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis.output import tidy


def _table():
    return pd.DataFrame({
        "area_code": ["E92000001", "E10000024", "E10000024"], "area_name": ["England", "Notts", "Notts"],
        "area_role": ["england", "cdp", "cdp"], "period": ["2024"] * 3, "measure": ["m", "m", "n"],
        "value": [1 / 3, 2.0, 123456789.123456789], "unit": ["x"] * 3, "source": ["s"] * 3})


def test_same_rows_in_any_order_give_the_same_bytes(tmp_path):
    t = _table()
    tidy.save_table(t, "a", tmp_path / "one")
    tidy.save_table(t.iloc[::-1], "a", tmp_path / "two")
    one = (tmp_path / "one/tables/a.csv").read_bytes()
    assert one == (tmp_path / "two/tables/a.csv").read_bytes()
    assert b"\r\n" not in one
    assert one.splitlines()[1].startswith(b"E10000024,Notts,cdp")  # the CDP first, England after


def test_missing_column_or_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unit"):
        tidy.check_tidy(_table().drop(columns="unit"), "t")
    with pytest.raises(ValueError, match="area_role"):
        tidy.check_tidy(_table().assign(area_role="somewhere"), "t")


def test_no_output_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tidy.save_table(_table(), "a", "")
    assert list(tmp_path.iterdir()) == []


def test_from_stats_maps_every_limit_naming_of_the_family_to_lower_ci_upper_ci():
    from cdp_analysis import stats

    df = pd.DataFrame({"area": ["a", "b"], "x": [10, 20], "n": [100, 100]})
    one = tidy.from_stats(stats.proportion(df, "x", "n", group_by="area"))
    assert {"lower_ci", "upper_ci"} <= set(one.columns) and "lowercl" not in one.columns
    two = tidy.from_stats(stats.proportion(df, "x", "n", group_by="area", confidence=[0.95, 0.998]))
    assert {"lower_ci", "upper_ci", "lower_ci_99_8", "upper_ci_99_8"} <= set(two.columns)
    assert (two["lower_ci"] > two["lower_ci_99_8"]).all()  # the 95% limits are the narrower pair
    wide = tidy.from_stats(stats.proportion(df, "x", "n", group_by="area", confidence=[0.95, 0.998]), level=0.998)
    assert wide["lower_ci"].tolist() == two["lower_ci_99_8"].tolist()
    pd.testing.assert_series_equal(one["lower_ci"], two["lower_ci"])


def test_from_stats_on_sii():
    from cdp_analysis import stats

    df = pd.DataFrame({"decile": range(1, 11), "pop": [1000] * 10, "value": [float(v) for v in range(20, 10, -1)],
                       "lower": [float(v) - 1 for v in range(20, 10, -1)], "upper": [float(v) + 1 for v in range(20, 10, -1)]})
    out = tidy.from_stats(stats.sii(df, "decile", "pop", value="value", lower="lower", upper="upper", reps=1000, seed=1))
    assert {"value", "lower_ci", "upper_ci"} <= set(out.columns)
    assert out["lower_ci"].iloc[0] < out["value"].iloc[0] < out["upper_ci"].iloc[0]


def test_csv_rows_are_in_natural_order(tmp_path):
    ages = [str(a) for a in (10, 2, 90, 1, 0)] + ["90+"]
    bands = ["10-14", "5-9", "0-4", "90+", "85-89", "15-19"]
    t = pd.DataFrame({"area_code": "E1", "area_name": "A", "area_role": "cdp", "period": "mid-2024",
                      "measure": "m", "age": ages, "band": bands, "value": 1.0, "unit": "x", "source": "s"})
    body = tidy.to_csv_text(t.drop(columns="band")).splitlines()[1:]
    assert [line.split(",")[5] for line in body] == ["0", "1", "2", "10", "90", "90+"]
    body = tidy.to_csv_text(t.drop(columns="age")).splitlines()[1:]
    assert [line.split(",")[5] for line in body] == ["0-4", "5-9", "10-14", "15-19", "85-89", "90+"]


def test_extra_limit_columns_sit_with_the_limits_and_are_not_sort_keys():
    t = _table().assign(lower_ci=0.1, upper_ci=0.9, lower_ci_99_8=[0.3, 0.0, 0.05], upper_ci_99_8=0.99)
    text = tidy.to_csv_text(t)
    header = text.splitlines()[0].split(",")
    assert header[header.index("value"):] == ["value", "lower_ci", "upper_ci", "lower_ci_99_8", "upper_ci_99_8",
                                              "unit", "source"]
    assert tidy.is_limit("rii_lower_ci") and not tidy.is_limit("age")
