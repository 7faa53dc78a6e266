"""The generic Fingertips export loader on the real exports (both layouts), on broken copies, and on the suite's
own Fingertips-headed outputs (round trip)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cdp_analysis.data import fingertips
from cdp_analysis.errors import InputError
from cdp_analysis.output import tidy

RAW = Path(__file__).resolve().parent.parent / "data" / "raw" / "fingertips"
MORTALITY = RAW / "indicator_91380_alcohol_specific_mortality_CountyUA_pre2019.csv"
OCU = RAW / "indicator_93517_ocu_not_in_treatment_sample.csv"


def test_full_coverage_26_column_export_as_published():
    t = fingertips.read_export(MORTALITY)
    assert len(t) == 6597 and set(t["indicator_id"]) == {"91380"}
    eng = t[(t["area_code"] == "E92000001") & (t["sex"] == "Male") & (t["time_period"] == "2006 - 08")
            & (t["category_type"] == "")].iloc[0]
    assert (eng["value"], eng["lower_ci"], eng["upper_ci"]) == pytest.approx((15.03762696, 14.74822394, 15.33123964))
    assert eng["count"] == pytest.approx(10473.358) and eng["denominator"] == 75613149
    assert eng["time_period_sortable"] == 20060000 and eng["compared_to_england"] == "Not compared"
    assert set(t["compared_to_england"]) >= {"Better", "Similar", "Worse"}  # Fingertips' own significance kept


def test_27_column_export_keeps_the_period_range():
    t = fingertips.read_export(OCU)
    row = t[t["area_code"] == "E10000032"].iloc[0]
    assert row["value"] == pytest.approx(52.30789067) and row["time_period_range"] == "1y"
    assert row["value"] == pytest.approx(100 * row["count"] / row["denominator"], rel=1e-6)


def test_registered_exports_are_found_by_indicator():
    assert {"91380", "93517", "93532"} <= set(fingertips.exports())
    assert len(fingertips.indicator(93532)) > 0
    with pytest.raises(InputError, match="no Fingertips export for indicator 12345"):
        fingertips.indicator(12345)


def test_the_suites_own_fingertips_copies_read_back(tmp_path):
    import pandas as pd

    t = pd.DataFrame({"area_code": ["E10000024", "E92000001"], "area_name": ["Nottinghamshire", "England"],
                      "area_role": ["cdp", "england"], "time_period": ["2019"] * 2, "measure": ["m"] * 2,
                      "value": [1.5, 2.0], "lower_ci": [1.0, 1.9], "upper_ci": [2.0, 2.1], "unit": ["%"] * 2,
                      "source": ["s"] * 2})
    path = tmp_path / "indicator_x.csv"
    path.write_text(tidy.to_fingertips_csv_text(t))
    back = fingertips.read_export(path)
    assert back["value"].tolist() == [1.5, 2.0] and back["area_code"].tolist() == ["E10000024", "E92000001"]


def _broken(tmp_path: Path, edit) -> Path:
    rows = list(csv.reader(io.StringIO(OCU.read_text(encoding="utf-8-sig"))))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(edit(rows))
    path = tmp_path / "indicator_broken.csv"
    path.write_text(out.getvalue())
    return path


def test_a_25_column_file_names_the_missing_columns(tmp_path):
    path = _broken(tmp_path, lambda rows: [r[:25] for r in rows])
    with pytest.raises(InputError) as exc:
        fingertips.read_export(path)
    assert "not a Fingertips export layout: 25 columns" in exc.value.message and "header (line 1)" in exc.value.message


def _set(line: int, column: str, value: str):
    """An edit setting the cell on ``line`` (the header is line 1) in ``column``."""
    def edit(rows):
        rows[line - 1][rows[0].index(column)] = value
        return rows
    return edit


@pytest.mark.parametrize(("edit", "needles"), [
    (_set(4, "Count", "about 1300"), ["row 4, column 'Count'", "'about 1300'", "not a number"]),
    (lambda rows: rows + [rows[2]], ["is listed once", "column 'Area Code'", "implausible value 'E"]),
    (_set(3, "Value", "99.5"), ["row 3, column 'Value'", "implausible value 99.5", "the 95% limits bracket the value"]),
], ids=["text in a count", "a repeated row", "a value outside its limits"])
def test_a_broken_copy_gets_one_message_naming_line_column_and_rule(tmp_path, edit, needles):
    with pytest.raises(InputError) as exc:
        fingertips.read_export(_broken(tmp_path, edit))
    for needle in needles:
        assert needle in exc.value.message, exc.value.message
