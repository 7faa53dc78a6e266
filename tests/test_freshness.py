"""Every figure says how old it is: a figure whose period ended more than N years before the report is marked."""

from __future__ import annotations

import datetime

import pytest

from cdp_analysis.chapters import outcomes as oc
from cdp_analysis.chapters import partnerships
from cdp_analysis.output import freshness
from cdp_analysis.output.consistency import visible_text

DAY = datetime.date(2026, 12, 6)


@pytest.mark.parametrize(("period", "old"), [("mid-2022", True), ("mid-2023", False), ("2019-21", True),
                                             ("2016 - 18", True), ("2022/23", False), ("2021/22", True),
                                             ("Oct 2021 to Jun 2022", True), ("2023", False), ("", False)])
def test_a_period_is_old_when_it_ended_more_than_three_years_before(period, old):
    assert freshness.is_old(period, DAY, 3) is old
    assert freshness.mark(period, DAY, 3) == (f"{period} (old)" if old else period)


def test_the_line_names_the_datasets_cdp_update_would_refresh():
    drug_deaths = "ons_drug_deaths/2021localauthorities.xlsx [2021 registrations (May 2022 boundaries)]"
    sdg = "ons_sdg_3_5_1/indicator_3-5-1.csv [2010/11 to 2018/19, as published on the UK SDG data platform]"
    line = freshness.old_line([("2019-21", drug_deaths), ("2018/19", sdg), ("2025", sdg)], DAY, 3)
    assert line.startswith("Marked old: 2 figures whose period ended more than 3 years before 6 December 2026.")
    assert line.endswith("may be published: cdp update brings them in.")
    assert "ONS deaths related to drug poisoning and drug misuse, by local authority" in line
    assert "SDG" not in line  # the SDG file has no source to update from
    assert freshness.old_line([("2025", sdg)], DAY, 3) == ""


def _settings(slug: str, **extra):
    cdp = partnerships.get(slug)
    return cdp, cdp.chapter_settings("outcomes").model_copy(update=extra)


def test_the_summary_and_dashboard_mark_old_figures_by_the_setting():
    cdp, settings = _settings("nottinghamshire", as_of="2026-12-06", old_after_years=3)
    o = oc.build(cdp, settings)
    page = visible_text(oc.summary_page(o))
    assert "2019-21 (old)" in page and "Marked old: " in page and "cdp update brings them in" in page
    periods = oc.dashboard_output(o).view["Period"]
    assert periods.str.endswith("(old)").any()
    # with a generous setting nothing is old, and the summary says nothing about age
    cdp, settings = _settings("nottinghamshire", as_of="2026-12-06", old_after_years=20)
    o = oc.build(cdp, settings)
    assert "(old)" not in visible_text(oc.summary_page(o)) and not oc.dashboard_output(o).view["Period"].str.endswith(
        "(old)").any()


def test_the_run_passes_the_day_of_the_run_to_the_notebook():
    before = datetime.date.today().isoformat()
    params = oc.CHAPTER.parameters(partnerships.get("nottinghamshire"))
    assert params["as_of"] in {before, datetime.date.today().isoformat()} and params["old_after_years"] == 3
