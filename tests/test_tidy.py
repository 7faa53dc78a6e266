"""Tidy tables follow the Fingertips-shaped schema (docs/output-schema.md) and are written deterministically."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from cdp_analysis.output import tidy


def _table():
    return pd.DataFrame({
        "area_code": ["E92000001", "E10000024", "E10000024"], "area_name": ["England", "Notts", "Notts"],
        "area_role": ["england", "cdp", "cdp"], "time_period": ["2024"] * 3, "measure": ["m", "m", "n"],
        "value": [1 / 3, 2.0, 123456789.123456789], "unit": ["x"] * 3, "source": ["s"] * 3})


def test_same_rows_in_any_order_give_the_same_bytes(tmp_path):
    t = _table()
    tidy.save_table(t, "a", tmp_path / "one")
    tidy.save_table(t.iloc[::-1], "a", tmp_path / "two")
    one = (tmp_path / "one/tables/a.csv").read_bytes()
    assert one == (tmp_path / "two/tables/a.csv").read_bytes()
    assert b"\r\n" not in one
    assert one.splitlines()[1].startswith(b"cdp.m,M (x),E10000024,Notts,County")  # the CDP first, England after
    assert (tmp_path / "one/fingertips/a.csv").read_bytes() == (tmp_path / "two/fingertips/a.csv").read_bytes()


def test_missing_column_or_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unit"):
        tidy.conform(_table().drop(columns="unit"))
    with pytest.raises(ValueError, match="unit"):
        tidy.check_tidy(tidy.conform(_table()).drop(columns="unit"), "t")
    with pytest.raises(ValueError, match="area_role"):
        tidy.check_tidy(tidy.conform(_table().assign(area_role="somewhere")), "t")
    with pytest.raises(ValueError, match="sex"):
        tidy.check_tidy(tidy.conform(_table().assign(sex="everyone")), "t")
    with pytest.raises(ValueError, match="compared_to_england"):
        tidy.check_tidy(tidy.conform(_table().assign(compared_to_england="Worse than")), "t")
    with pytest.raises(ValueError, match="has no year"):
        tidy.conform(_table().assign(time_period="latest"))


def test_a_multi_area_cdp_is_its_slug_with_its_members_never_a_made_up_code():
    t = _table().assign(area_code=["E92000001", "E06000061+E06000062", "E06000061+E06000062"])
    with pytest.raises(ValueError, match="made-up area code"):
        tidy.check_tidy(tidy.conform(t), "t")
    slug = t.assign(area_code=["E92000001", "northamptonshire", "northamptonshire"],
                    area_type=["", "Combating Drugs Partnership", "Combating Drugs Partnership"])
    with pytest.raises(ValueError, match="area_members"):
        tidy.check_tidy(tidy.conform(slug), "t")
    tidy.check_tidy(tidy.conform(slug.assign(area_members=["", "E06000061; E06000062", "E06000061; E06000062"])), "t")
    with pytest.raises(ValueError, match="area_type"):  # neither an ONS area nor typed by the chapter
        tidy.check_tidy(tidy.conform(slug.drop(columns="area_type")), "t")


def test_conform_fills_every_schema_column_and_is_idempotent():
    t = _table().assign(sex=["persons", "males", "females"], age_group="15-64")
    out = tidy.conform(t)
    assert list(out.columns[: len(tidy.SCHEMA) - 1]) == tidy.SCHEMA[:-1] and out.columns[-1] == "source"
    assert out["area_role"].tolist() == ["cdp", "cdp", "england"]  # rows in the order they are written
    assert out["sex"].tolist() == ["Male", "Female", "Persons"]
    assert out["age"].tolist() == ["15-64"] * 3 and "age_group" in out.columns  # the contract column is kept
    assert out["area_type"].tolist() == ["County", "County", "England"]
    assert out["time_period_sortable"].tolist() == [20240000] * 3
    assert out["indicator_id"].tolist() == ["cdp.m", "cdp.n", "cdp.m"]
    assert out["lower_ci"].isna().all() and (out["value_note"] == "").all()
    pd.testing.assert_frame_equal(tidy.conform(out), out)
    assert tidy.conform(_table())["sex"].eq("Persons").all() and tidy.conform(_table())["age"].eq("All ages").all()


@pytest.mark.parametrize(("period", "sortable"), [("mid-2022", 20220000), ("2018/19", 20180000),
                                                  ("2019 - 21", 20190000), ("mid-2020 to mid-2022", 20200000)])
def test_time_period_sortable_is_the_first_year_as_fingertips_writes_it(period, sortable):
    assert tidy.time_period_sortable(pd.Series([period])).iloc[0] == sortable


def test_fingertips_headed_copy_has_the_export_headings_and_the_same_rows():
    t = _table().assign(area_code=["E92000001", "E06000061", "E06000061"], age_group="15-64",
                        lower_ci=[0.1, 1.0, 2.0], upper_ci=[0.9, 3.0, 4.0])
    ours = pd.read_csv(io.StringIO(tidy.to_csv_text(t)))
    theirs = pd.read_csv(io.StringIO(tidy.to_fingertips_csv_text(t)))
    assert list(theirs.columns) == tidy.FINGERTIPS_HEADINGS
    assert theirs["Value"].tolist() == ours["value"].tolist()
    assert theirs["Lower CI 95.0 limit"].tolist() == ours["lower_ci"].tolist()
    assert theirs["Age"].eq("15-64 yrs").all() and theirs["Time period range"].eq("1y").all()
    # North Northamptonshire's parent is its region; England has none
    assert theirs["Parent Code"].fillna("").tolist() == ["E12000004", "E12000004", ""]


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
    assert {"lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998"} <= set(two.columns)
    assert (two["lower_ci"] > two["lower_ci_998"]).all()  # the 95% limits are the narrower pair
    wide = tidy.from_stats(stats.proportion(df, "x", "n", group_by="area", confidence=[0.95, 0.998]), level=0.998)
    assert wide["lower_ci"].tolist() == two["lower_ci_998"].tolist()
    assert wide["lower_ci_95"].tolist() == two["lower_ci"].tolist()
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
    t = pd.DataFrame({"area_code": "E10000024", "area_name": "A", "area_role": "cdp", "time_period": "mid-2024",
                      "measure": "m", "age": ages, "age_band": bands, "value": 1.0, "unit": "x", "source": "s"})
    body = pd.read_csv(io.StringIO(tidy.to_csv_text(t.drop(columns="age_band"))), dtype=str)
    assert body["age"].tolist() == ["0", "1", "2", "10", "90", "90+"]
    body = pd.read_csv(io.StringIO(tidy.to_csv_text(t.drop(columns="age"))), dtype=str)
    assert body["age_band"].tolist() == ["0-4", "5-9", "10-14", "15-19", "85-89", "90+"]
    years = t.drop(columns="age_band").assign(time_period=["mid-2024", "mid-2020", "mid-2022", "mid-2021",
                                                            "mid-2019", "mid-2023"], age="All ages")
    body = pd.read_csv(io.StringIO(tidy.to_csv_text(years)), dtype=str)
    assert body["time_period"].tolist() == [f"mid-{y}" for y in range(2019, 2025)]


def test_extra_limit_columns_sit_with_the_limits_and_are_not_sort_keys():
    t = _table().assign(lower_ci=0.1, upper_ci=0.9, lower_ci_998=[0.3, 0.0, 0.05], upper_ci_998=0.99,
                        rii_lower_ci=[0.3, 0.0, 0.05], rii_upper_ci=1.0)
    text = tidy.to_csv_text(t)
    header = text.splitlines()[0].split(",")
    assert header[header.index("value"):header.index("value") + 5] == ["value", "lower_ci", "upper_ci",
                                                                       "lower_ci_998", "upper_ci_998"]
    assert header[-3:] == ["rii_lower_ci", "rii_upper_ci", "source"]
    body = pd.read_csv(io.StringIO(text))
    assert body["measure"].tolist() == ["m", "n", "m"]  # rows sorted by area and measure, never by a limit
    assert tidy.is_limit("rii_lower_ci") and not tidy.is_limit("age")


def test_natural_key_ranks_numbers_then_text_and_keeps_missing_values_apart():
    from cdp_analysis.output.tidy import natural_key

    ages = pd.Series(["10-14", "5-9", None, "90+", "All ages", "2", "5-9"], dtype="string", index=list("abcdefg"))
    key = natural_key(ages)
    assert list(key.index) == list("abcdefg")
    ordered = ages.iloc[key.argsort(kind="stable")].fillna("(missing)")
    assert list(ordered) == ["2", "5-9", "5-9", "10-14", "90+", "All ages", "(missing)"]


def test_floats_are_written_as_pandas_writes_them_with_the_fixed_format():
    """The CSV writer formats floating-point columns itself (tidy._csv_text): the text pandas' own
    ``to_csv(float_format=FLOAT_FORMAT)`` gives, for every kind of value, with text and formula cells around them."""
    import numpy as np

    values = [0.0, -0.0, 1.0, -2.5, 1 / 3, 123456789012.345, 1e-300, 5e-324, 1e21, np.inf, -np.inf, np.nan,
              0.1 + 0.2, 857013.0]
    table = pd.DataFrame({"value": values, "single": np.array(values, dtype="float32"),
                          "count": range(len(values)), "text": ["=SUM(A1)", "-3", "a, b", 'say "x"', "", None,
                                                                 "+1", "@x", "plain", "é", "1.5", "-", "\n", "t"],
                          "blank": np.nan, "mixed": [1.5, "x", None, 2, 3.25, -0.0, "y", 1e21, np.nan, 4, 5, 6, 7, 8]})
    expected = tidy.escape.csv_frame(table).to_csv(index=False, float_format=tidy.FLOAT_FORMAT, lineterminator="\n")
    assert tidy._csv_text(table) == expected
    assert "-0," in expected and "1e+21" in expected  # the cases that matter are there
