"""The analyst's own files (``treatment_gap: viewit`` / ``fingertips``, ``outcomes: local_data``) are read and
validated in full by the chapters' ``Settings.check_data`` — when a params file is loaded, before any notebook
starts — with one message naming the file, its own line and column, and what the analyst can do with their
own file (issue 30, part 4; docs/bad-input.md). Also ``target_met_need`` outside (1, 100]."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import pytest

from cdp_analysis.chapters import outcomes as oc
from cdp_analysis.chapters import treatment_gap as tg
from cdp_analysis.data import fingertips, local_data, ndtms_viewit, plausibility, readers
from cdp_analysis.errors import InputError

RAW = Path(__file__).resolve().parent.parent / "data" / "raw"
BARNET = RAW / "ndtms_viewit" / "viewit_export_adult_LAs_barnet.csv"
ENGLAND = RAW / "ndtms_viewit" / "viewit_export_adult_england.csv"
ALCOHOL_93532 = RAW / "fingertips" / "indicator_93532_alcohol_not_in_treatment_sample.csv"
MORTALITY_91380 = RAW / "fingertips" / "indicator_91380_alcohol_specific_mortality_CountyUA_pre2019.csv"
LOCAL_HEADER = "area_code,period,metric_id,numerator,denominator\n"
AREAS = {"E10000024": "Nottinghamshire", "E12000004": "East Midlands", "E92000001": "England"}


# --- helpers ------------------------------------------------------------------------------------------------


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def _write_rows(path: Path, rows: list[list[str]]) -> Path:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _own(tmp_path: Path, name: str, text: str) -> Path:
    """An analyst's own file (outside data/raw) holding ``text``."""
    path = tmp_path / "downloads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _edited(tmp_path: Path, source: Path, edit, name: str | None = None) -> Path:
    rows = _rows(source)
    rows = edit(rows) or rows
    path = tmp_path / "downloads" / (name or source.name)
    path.parent.mkdir(exist_ok=True)
    return _write_rows(path, rows)


def _cell(rows, line: int, column: str, value: str):
    rows[line - 1][rows[0].index(column)] = value


def _refused(check, *needles: str) -> str:
    """The message of the InputError ``check()`` raises; it holds every needle, a hint, and never the hint meant
    for files in data/raw."""
    with pytest.raises(InputError) as exc:
        check()
    msg = exc.value.message
    for needle in needles:
        assert needle in msg, f"{needle!r} not in:\n{msg}"
    assert "\n  -> " in msg, msg
    assert "../shared/data" not in msg, msg  # case i: never 'copy it again' for the analyst's own file
    return msg


def _viewit(path: Path):
    return lambda: tg.Settings(viewit=[str(path)]).check_data(where="parameter")


def _fingertips(path: Path):
    return lambda: tg.Settings(fingertips=[str(path)]).check_data(where="parameter")


def _local(*paths: Path):
    return lambda: oc.Settings(local_data=[str(p) for p in paths]).check_data(where="parameter")


def _line(path: Path, n: int) -> str:
    """Line ``n`` of a file as a text editor numbers it."""
    return path.read_text(encoding="utf-8").split("\n")[n - 1]


# --- a. an export cut short -------------------------------------------------------------------------------------


def test_a_viewit_export_cut_mid_row_is_refused_naming_its_last_line(tmp_path):
    text = BARNET.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    cut = _own(tmp_path, "barnet_cut.csv", "".join(lines[:-1]) + lines[-1][:60])
    _refused(_viewit(cut), str(cut), "row 781:", "15 of the header's 244 columns", "looks cut short",
             "export the data again from ViewIt")


def test_a_viewit_export_cut_inside_a_quoted_cell_is_refused(tmp_path):
    cut = _own(tmp_path, "barnet_cut.csv", BARNET.read_text(encoding="utf-8-sig") + '2021/22,"Barn')
    _refused(_viewit(cut), "row 782:", "a quoted cell is never closed", "looks cut short")


def test_a_viewit_export_cut_at_the_end_of_a_line_is_refused(tmp_path):
    lines = BARNET.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    cut = _own(tmp_path, "barnet_cut.csv", "".join(lines[:-10]))  # the last period loses 10 of its 60 rows
    _refused(_viewit(cut), "row 722, column 'ReportingPeriod'", "'2021/22'",
             "every period of an area lists the same drug groups, sexes and age groups")


def test_a_fingertips_export_cut_mid_row_is_refused(tmp_path):
    text = ALCOHOL_93532.read_text(encoding="utf-8-sig")
    cut = _own(tmp_path, "indicator_93532.csv", text[: len(text) - 40])
    _refused(_fingertips(cut), "looks cut short", "download the indicator again from Fingertips")


# --- b. an export holding no data -------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["NULL", ""])
def test_a_viewit_export_whose_every_count_is_null_is_refused(tmp_path, marker):
    path = _edited(tmp_path, BARNET, lambda rows: [rows[0]] + [r[:5] + [marker] * (len(r) - 5) for r in rows[1:]])
    _refused(_viewit(path), "column 'intreatment_allintx'", "is NULL or empty: the export holds no data")


def test_a_viewit_export_with_a_header_only_is_refused(tmp_path):
    path = _edited(tmp_path, BARNET, lambda rows: rows[:1])
    _refused(_viewit(path), "the export has a header but no rows")


def test_a_fingertips_export_without_a_single_value_is_refused(tmp_path):
    def empty(rows):
        i = rows[0].index("Value")
        for r in rows[1:]:
            r[i] = ""
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, empty)), "every cell of 'Value' is empty")


# --- c. a Fingertips export of an indicator the chapter does not read ------------------------------------------


def test_a_fingertips_export_of_another_indicator_is_refused_naming_it(tmp_path):
    path = tmp_path / "downloads" / "indicator_91380.csv"
    path.parent.mkdir()
    path.write_bytes(MORTALITY_91380.read_bytes())
    msg = _refused(_fingertips(path), "row 2, column 'Indicator ID'", "an export of indicator 91380",
                   "93532 (alcohol), 93517 (opiates and/or crack)", "'treatment_gap: fingertips'")
    assert "Alcohol-specific mortality" not in msg  # the indicator is named by its ID, no other text of the file


def test_an_export_holding_another_indicator_among_the_right_one_is_refused(tmp_path):
    def add(rows):
        extra = list(rows[5])
        extra[rows[0].index("Indicator ID")] = "90245"
        return rows + [extra]
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, add)), "row 19, column 'Indicator ID'", "indicator 90245")


# --- d. counts that are not plain whole numbers, absurd magnitudes ----------------------------------------------


@pytest.mark.parametrize(("value", "needles"), [
    ("1e3", ["a count is not a whole number written plainly", "'1e3'"]),
    ("1,1,8", ["a count is not a whole number written plainly", "'1,1,8'"]),
    ("1,105", ["a count is not a whole number written plainly"]),  # ViewIt writes no thousands separators
    ("1105.0", ["a count is not a whole number written plainly"]),
    ("99999999999999999999", ["a count larger than 50,000,000 (more than England's adult population)"]),
], ids=["1e3", "1,1,8", "thousands", "decimal", "absurd"])
def test_a_viewit_count_not_written_as_a_plain_whole_number_is_refused(tmp_path, value, needles):
    path = _edited(tmp_path, BARNET, lambda rows: _cell(rows, 2, "intreatment_allintx", value))
    _refused(_viewit(path), "row 2, column 'intreatment_allintx'", *needles)


def test_a_fractional_count_of_the_unrounded_england_export_is_refused(tmp_path):
    # England's counts are not rounded to 5, so the multiple-of-5 rule let 5.5 through
    path = _edited(tmp_path, ENGLAND, lambda rows: _cell(rows, 3, "Eth_Other_AllInTx", "5.5"))
    _refused(_viewit(path), "row 3, column 'Eth_Other_AllInTx'", "'5.5'", "not a whole number written plainly")


def test_surrounding_spaces_are_harmless(tmp_path):
    value = _rows(BARNET)[1][_rows(BARNET)[0].index("intreatment_allintx")]
    path = _edited(tmp_path, BARNET, lambda rows: _cell(rows, 2, "intreatment_allintx", f" {value} "))
    tg.Settings(viewit=[str(path)]).check_data(where="parameter")
    assert ndtms_viewit.read_export(path)["in_treatment"].iloc[0] == float(value)
    good = _own(tmp_path, "police.csv", LOCAL_HEADER + "E10000024,2023, crime.drug_marker_incidents , 1498 ,\n")
    assert local_data.read_local(good, allowed_areas=AREAS)["numerator"].tolist() == [1498]


@pytest.mark.parametrize(("value", "needles"), [
    ("1e3", ["'1e3' is not a whole number", "no exponent such as 1e3"]),
    ('"1,1,8"', ["'1,1,8' is not a whole number", "commas only between groups of three digits"]),
    ("5.5", ["'5.5' is not a whole number", "(no decimals, no text)"]),
    ("99999999999999999999", ["'99999999999999999999' is larger than 50,000,000, more than England's adult population"]),
], ids=["1e3", "1,1,8", "5.5", "absurd"])
def test_a_local_count_not_written_as_a_plain_whole_number_is_refused(tmp_path, value, needles):
    path = _own(tmp_path, "police.csv", LOCAL_HEADER + f"E10000024,2023,crime.drug_marker_incidents,{value},\n")
    _refused(_local(path), str(path), "row 2, column 'numerator'", *needles)


@pytest.mark.parametrize(("column", "value", "needles"), [
    ("Count", "1e3", ["a number is not written plainly", "'1e3'"]),
    ("Denominator", "1,1,8", ["a number is not written plainly", "'1,1,8'"]),
    ("Denominator", "99999999999999999999", ["larger than 1,000,000,000"]),
], ids=["1e3", "1,1,8", "absurd"])
def test_a_fingertips_count_not_written_plainly_is_refused(tmp_path, column, value, needles):
    path = _edited(tmp_path, ALCOHOL_93532, lambda rows: _cell(rows, 4, column, value))
    _refused(_fingertips(path), f"row 4, column '{column}'", *needles)


# --- e. parts larger than their total -----------------------------------------------------------------------------


def test_a_fingertips_count_larger_than_its_denominator_is_refused(tmp_path):
    def swap(rows):
        c, d = rows[0].index("Count"), rows[0].index("Denominator")
        rows[3][c], rows[3][d] = rows[3][d], rows[3][c]
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, swap)), "row 4, column 'Count'",
             "the Count is at most the Denominator")


def test_a_fingertips_value_that_is_not_its_count_over_its_denominator_is_refused(tmp_path):
    path = _edited(tmp_path, ALCOHOL_93532, lambda rows: _cell(rows, 4, "Denominator", "9999"))
    _refused(_fingertips(path), "row 4, column 'Value'", "the Value is 100 × Count ÷ Denominator")


def test_viewit_parts_larger_than_the_adults_in_treatment_are_refused(tmp_path):
    def more_new_than_in_treatment(rows):
        total = rows[1][rows[0].index("intreatment_allintx")]
        _cell(rows, 2, "newpresentation_newtx", str(int(total) + 5))
    path = _edited(tmp_path, BARNET, more_new_than_in_treatment)
    _refused(_viewit(path), "row 2, column 'newpresentation_newtx'",
             "new presentations are at most the adults in treatment")


def test_viewit_drug_groups_adding_up_to_more_than_the_total_are_refused(tmp_path):
    def more(rows):
        i = rows[0].index("intreatment_allintx")
        row = next(r for r in rows[1:] if r[2:5] == ["Total", "Total", "Opiate"])
        row[i] = str(int(row[i]) + 100)
    _refused(_viewit(_edited(tmp_path, BARNET, more)), "the drug groups add up to the total")


def test_local_parts_larger_than_their_total_are_refused_across_files(tmp_path):
    total = _own(tmp_path, "ndtms_a.csv", LOCAL_HEADER + "E10000024,2023/24,treatment.cj_referrals,120,\n")
    parts = _own(tmp_path, "ndtms_b.csv", LOCAL_HEADER + "E10000024,2023/24,treatment.cj_referrals_mandatory,70,\n"
                                                         "E10000024,2023/24,treatment.cj_referrals_voluntary,60,\n")
    _refused(_local(total, parts), str(total), "row 2, column 'numerator'", "the parts of 'treatment.cj_referrals'",
             "add up to 130, more than its 120")


def test_a_local_count_larger_than_englands_is_refused(tmp_path):
    path = _own(tmp_path, "police.csv", LOCAL_HEADER + "E92000001,2023,crime.drug_marker_incidents,900,\n"
                                                       "E10000024,2023,crime.drug_marker_incidents,1498,\n")
    _refused(_local(path), "row 3, column 'numerator'", "numerator 1,498 of crime.drug_marker_incidents for "
             "E10000024 in 2023 is larger than England's 900")


# --- f. periods after the production date, or before the data could exist ----------------------------------------


def _viewit_period(tmp_path, period):
    def edit(rows):
        for r in rows[1:]:
            if r[0] == "2021/22":
                r[0] = period
    return _edited(tmp_path, BARNET, edit)


@pytest.mark.parametrize(("period", "rule"), [
    ("2099/00", "the reporting period has ended by the day the report is produced"),
    ("2004/05", "the reporting period is 2005/06 or later"),
], ids=["2099-00", "2004-05"])
def test_a_viewit_period_after_today_or_before_ndtms_is_refused(tmp_path, period, rule):
    _refused(_viewit(_viewit_period(tmp_path, period)), "row 722, column 'ReportingPeriod'", f"'{period}'", rule)


def test_the_production_date_is_injectable(tmp_path):
    path = _viewit_period(tmp_path, "2026/27")
    ndtms_viewit.read_export(path, today=datetime.date(2027, 4, 1))
    with pytest.raises(InputError, match="has ended by the day"):
        ndtms_viewit.read_export(path, today=datetime.date(2027, 3, 30))
    local = _own(tmp_path, "police.csv", LOCAL_HEADER + "E10000024,2026,crime.drug_marker_incidents,5,\n")
    local_data.read_local(local, allowed_areas=AREAS, today=datetime.date(2027, 1, 1))
    with pytest.raises(InputError, match=r"ends on 31 December 2026, after the report's production date \(30 December"):
        local_data.read_local(local, allowed_areas=AREAS, today=datetime.date(2026, 12, 30))


def test_the_checks_use_todays_date_by_default(tmp_path, monkeypatch):
    monkeypatch.setattr(plausibility, "production_date", lambda: datetime.date(2021, 6, 1))
    _refused(_viewit(_edited(tmp_path, BARNET, lambda rows: None)), "row 722", "'2021/22'",
             "has ended by the day the report is produced")


@pytest.mark.parametrize(("period", "needles"), [
    ("2099/00", ["period '2099/00' ends on 31 March 2100, after the report's production date"]),
    ("2099", ["period '2099' ends on 31 December 2099"]),
    ("1989", ["period '1989' is before 1990"]),
], ids=["2099-00", "2099", "1989"])
def test_a_local_period_after_today_or_before_1990_is_refused(tmp_path, period, needles):
    path = _own(tmp_path, "police.csv", LOCAL_HEADER + f"E10000024,{period},crime.drug_marker_incidents,5,\n")
    _refused(_local(path), "row 2, column 'period'", *needles)


def _period_of_row_4(period: str):
    """An edit of a Fingertips export: row 4's period (and its sortable form) set to ``period``."""
    def edit(rows):
        _cell(rows, 4, "Time period", period)
        _cell(rows, 4, "Time period Sortable", f"{period[:4]}0000")
    return edit


def test_a_fingertips_period_after_today_or_before_ndtms_is_refused(tmp_path):
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, _period_of_row_4("2099/00"))), "row 4, column 'Time period'",
             "'2099/00'", "a period has ended by the day the report is produced")
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, _period_of_row_4("2003/04"))), "row 4, column 'Time period'",
             "a period is 2005/06 or later")


# --- g. mixed calendar and financial years for one metric --------------------------------------------------------


def test_a_local_metric_in_calendar_years_in_one_file_and_financial_in_another_is_refused(tmp_path):
    a = _own(tmp_path, "a.csv", LOCAL_HEADER + "E10000024,2022,crime.drug_marker_incidents,5,\n")
    b = _own(tmp_path, "b.csv", LOCAL_HEADER + "E10000024,2023/24,crime.drug_marker_incidents,6,\n")
    _refused(_local(a, b), str(b), "row 2, column 'period'",
             "metric 'crime.drug_marker_incidents' mixes calendar and financial years: '2022' in")


def test_a_local_metric_mixing_period_kinds_in_one_file_is_still_refused(tmp_path):
    path = _own(tmp_path, "a.csv", LOCAL_HEADER + "E10000024,2022,crime.drug_marker_incidents,5,\n"
                                                  "E10000024,2023/24,crime.drug_marker_incidents,6,\n")
    _refused(_local(path), "metric 'crime.drug_marker_incidents' mixes calendar and financial years")


def test_a_fingertips_unmet_need_row_in_a_calendar_year_is_refused(tmp_path):
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, _period_of_row_4("2019"))), "row 4, column 'Time period'",
             "'2019'", "every period is a single financial year")


# --- h. the row number is the file's own line ---------------------------------------------------------------------


def test_a_negative_local_count_after_blank_lines_names_its_own_line(tmp_path):
    path = _own(tmp_path, "police.csv", LOCAL_HEADER + "E10000024,2022,crime.drug_marker_incidents,5,\n\n\n"
                                                       "E10000024,2023,crime.drug_marker_incidents,-3,\n")
    _refused(_local(path), "row 5, column 'numerator'", "a negative count (-3)")
    assert ",-3," in _line(path, 5)


def test_a_negative_viewit_count_after_a_blank_line_names_its_own_line(tmp_path):
    lines = BARNET.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    i = lines[0].split(",").index("newpresentation_newtx")
    row = lines[10].rstrip("\n").split(",")
    row[i] = "-5"
    path = _own(tmp_path, "barnet.csv", "".join(lines[:5]) + "\n" + "".join(lines[5:10]) + ",".join(row) + "\n"
                + "".join(lines[11:]))
    _refused(_viewit(path), "row 12, column 'newpresentation_newtx'", "implausible value -5")
    assert ",-5," in _line(path, 12)


def test_a_line_break_inside_a_quoted_cell_is_counted(tmp_path):
    def edit(rows):
        rows[2][rows[0].index("Indicator Name")] = "Adults with alcohol dependency\nnot in treatment"
        _cell(rows, 10, "Count", "-5")
    path = _edited(tmp_path, ALCOHOL_93532, edit)
    _refused(_fingertips(path), "row 11, column 'Count'", "a count is not negative")
    assert _line(path, 11).startswith("93532,") and ",-5," in _line(path, 11)


# --- i. hints for the analyst's own files; registered files keep theirs ------------------------------------------


def test_a_registered_file_keeps_the_hint_to_copy_it_again(tmp_path, monkeypatch):
    # a file in data/raw is a published copy: the hint says where to copy it from
    monkeypatch.setattr(readers, "is_registered_copy", lambda path: True)
    text = ALCOHOL_93532.read_text(encoding="utf-8-sig")
    cut = _own(tmp_path, "indicator_93532.csv", text[: len(text) - 40])
    with pytest.raises(InputError) as exc:
        fingertips.read_export(cut)
    assert "copy the file again, unchanged, from ../shared/data/" in exc.value.message


# --- j. messages never echo the file beyond the cell that is wrong ------------------------------------------------


SECRET = "password=hunter2;token=0123456789abcdef"


@pytest.mark.parametrize("where", ["viewit", "fingertips", "local_data"])
def test_a_file_of_another_kind_is_refused_without_echoing_its_first_line(tmp_path, where):
    path = _own(tmp_path, "notes.csv", f"{SECRET},user\nrow,2\n")
    check = {"viewit": _viewit, "fingertips": _fingertips, "local_data": _local}[where](path)
    msg = _refused(check, str(path), "header (line 1)")
    assert "hunter2" not in msg and "token" not in msg, msg
    if where != "viewit":  # ViewIt names the key columns it looks for; the others count the header's
        assert "the header has 2 columns, none of them expected" in msg, msg


def test_a_missing_column_of_a_published_csv_lists_only_expected_columns(tmp_path):
    path = tmp_path / "population.csv"
    path.write_text(f"Code,Name,{SECRET}\nE1,x,1\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        readers.read_csv_table(path, ["Code", "Name", "Geography"])
    msg = exc.value.message
    assert "missing column(s) 'Geography' (the header has 3 columns; of those expected: Code, Name)" in msg, msg
    assert "hunter2" not in msg


def test_a_long_bad_cell_is_shortened(tmp_path):
    path = _own(tmp_path, "police.csv", LOCAL_HEADER + f"E10000024,2023,{'x' * 500},5,\n")
    msg = _refused(_local(path), "row 2, column 'metric_id'")
    assert "x" * 41 not in msg


# --- k. target_met_need --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "hint"), [
    (0.25, "did you mean 25 for 25%?"),
    (1, "did you mean 100 for 100%?"),
    (0, "give a percentage more than 1 and at most 100, e.g. 25 for 25%"),
    (-5, "give a percentage more than 1 and at most 100"),
    (150, "give a percentage more than 1 and at most 100"),
], ids=["0.25", "1", "0", "-5", "150"])
def test_a_target_met_need_outside_1_to_100_is_refused(value, hint):
    with pytest.raises(InputError) as exc:
        tg.Settings(target_met_need=value).check_data(where="parameter")
    msg = exc.value.message
    assert f"parameter 'target_met_need': target met need {value:g}% is outside the range (1, 100]" in msg, msg
    assert hint in msg, msg
    if value > 1 or value <= 0:
        assert "did you mean" not in msg


def test_a_target_met_need_in_range_is_accepted():
    for value in (1.5, 25, 100):
        tg.Settings(target_met_need=value).check_data(where="parameter")


def test_a_target_met_need_of_0_25_in_a_params_file_names_file_section_and_key(project):
    from cdp_analysis.areas import params
    from cdp_analysis.chapters import partnerships

    path = project / "params" / "cdps" / "northamptonshire.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "treatment_gap:\n  target_met_need: 0.25\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        params.load_cdp_file(path, partnerships.defaults())
    msg = exc.value.message
    assert msg.startswith(f"{path}: key 'target_met_need' (in section 'treatment_gap'): target met need 0.25%"), msg
    assert "did you mean 25 for 25%?" in msg


# --- before any notebook, and only once ------------------------------------------------------------------------------


def test_validating_twice_parses_once_and_a_changed_file_again(tmp_path, monkeypatch):
    calls = []
    real = ndtms_viewit.read_csv_table
    monkeypatch.setattr(ndtms_viewit, "read_csv_table", lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    path = _edited(tmp_path, BARNET, lambda rows: None)
    settings = tg.Settings(viewit=[str(path)])
    settings.check_data(where="parameter")
    settings.check_data(where="key")
    first = ndtms_viewit.read_export(path)
    first.loc[0, "in_treatment"] = -1  # a caller changing its copy changes nothing cached
    assert ndtms_viewit.read_export(path).loc[0, "in_treatment"] != -1
    assert len(calls) == 1
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Total", "TOTAL", 1), encoding="utf-8")  # same size, same second
    ndtms_viewit.read_export(path)
    assert len(calls) == 2


def test_a_bad_local_file_in_a_params_file_stops_the_run_before_any_notebook(project, cli):
    bad = project / "data" / "user" / "police.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text(LOCAL_HEADER + "E10000024,2022,crime.drug_marker_incidents,5,\n\n"
                                  "E10000024,2023,crime.drug_marker_incidents,99999999999999999999,\n", encoding="utf-8")
    params = project / "params" / "cdps" / "notts-local.yaml"
    params.write_text("name: Nottinghamshire\nmembers: [E10000024]\noutcomes:\n  local_data:\n"
                      "    - data/user/police.csv\n", encoding="utf-8")
    r = cli("run", "notts-local", root=project)
    text = r.stdout + r.stderr
    assert r.returncode == 2, text
    assert f"{bad}: row 4, column 'numerator': '99999999999999999999' is larger than 50,000,000" in text, text
    assert "Traceback" not in text and "../shared/data" not in text
    assert not (project / "outputs" / "notts-local").exists()
    assert not (project / "outputs" / ".failed" / "notts-local").exists()  # no notebook ran


# --- found by an adversarial review ---------------------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["１５４０", "٥"], ids=["full-width", "arabic-indic"])
def test_a_count_in_digits_other_than_0_to_9_is_refused_not_read_as_missing(tmp_path, digits):
    path = _own(tmp_path, "police.csv", LOCAL_HEADER + f"E10000024,2022,crime.drug_marker_incidents,{digits},\n")
    _refused(_local(path), "row 2, column 'numerator'", "is not a whole number")

    def count(rows):
        _cell(rows, 4, "Count", digits)
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, count)), "row 4, column 'Count'")


def test_a_fingertips_row_whose_area_code_is_not_an_ons_code_is_refused(tmp_path):
    def code(rows):
        _cell(rows, 4, "Area Code", "=cmd|' /C calc'!A0")
    _refused(_fingertips(_edited(tmp_path, ALCOHOL_93532, code)), "row 4, column 'Area Code'",
             "an area code is an ONS code")


def test_a_local_file_name_longer_than_the_system_allows_is_a_params_error(tmp_path):
    msg = _refused(_local(Path("data/user") / ("K" * 100_000 + ".csv")), "no such file", "item 1")
    assert len(msg) < 1500
