"""Tidy tables are checked and written deterministically."""

from __future__ import annotations

import pandas as pd
import pytest

from cdp_analysis.output import tidy as tables


def _table():
    return pd.DataFrame({
        "area_code": ["E92000001", "E10000024", "E10000024"], "area_name": ["England", "Notts", "Notts"],
        "area_role": ["england", "cdp", "cdp"], "period": ["2024"] * 3, "measure": ["m", "m", "n"],
        "value": [1 / 3, 2.0, 123456789.123456789], "unit": ["x"] * 3, "source": ["s"] * 3})


def test_same_rows_in_any_order_give_the_same_bytes(tmp_path):
    t = _table()
    tables.save_table(t, "a", tmp_path / "one")
    tables.save_table(t.iloc[::-1], "a", tmp_path / "two")
    one = (tmp_path / "one/tables/a.csv").read_bytes()
    assert one == (tmp_path / "two/tables/a.csv").read_bytes()
    assert b"\r\n" not in one
    assert one.splitlines()[1].startswith(b"E10000024,Notts,cdp")  # the CDP first, England after


def test_missing_column_or_unknown_role_is_refused():
    with pytest.raises(ValueError, match="unit"):
        tables.check_tidy(_table().drop(columns="unit"), "t")
    with pytest.raises(ValueError, match="area_role"):
        tables.check_tidy(_table().assign(area_role="somewhere"), "t")


def test_no_output_dir_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tables.save_table(_table(), "a", "")
    assert list(tmp_path.iterdir()) == []
