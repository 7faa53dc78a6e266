"""The treatment-gap chapter's name and settings: what an analyst may set under ``treatment_gap:`` in a params
file (or as notebook parameters), and the check of the files named there.

This is the bottom of the chapter's package: it imports nothing else of the chapter, and
:mod:`.compute` and :mod:`.present` read their names from it. The substances and the Fingertips indicators an
analyst's export may hold are here because the check of that export reads them. No tables, figures or
sentences here.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import pandas as pd
from pydantic import Field

from ...areas.params import ChapterSettings
from ...data import fingertips, ndtms_viewit
from ...errors import InputError

NAME = "treatment_gap"
ALCOHOL, OCU = "alcohol", "opiates and/or crack"
#: The third substance group of treatment planning: OHID publishes no estimate of need for it.
NON_OPIATES = "non-opiates"
#: ``target_benchmark``: which benchmark is the capacity planner's target when ``target_met_need`` is not set.
TARGET_BENCHMARKS = ("england-unless-met", "england", "comparators-upper-quartile")
#: Fingertips indicators of unmet need: Count = not in treatment, Denominator = estimated number in need.
FINGERTIPS_UNMET = {"93532": ALCOHOL, "93517": OCU}


class Settings(ChapterSettings):
    """Settings of the treatment-gap chapter (section ``treatment_gap:`` of a params file)."""

    SECTION: ClassVar[str] = "treatment_gap"

    viewit: list[str] = Field(
        default=[], description="NDTMS ViewIt adult exports (CSV) for the CDP's areas: paths relative to the project "
                                "folder, or absolute")
    fingertips: list[str] = Field(
        default=[], description="extra Fingertips CSV exports (e.g. 93532, 93517 for the CDP's areas): paths")
    target_met_need: float | None = Field(
        default=None,
        description="target met need (%) for the capacity planner, more than 1 and at most 100 (e.g. 25 for 25%); "
                    "default: the benchmark named by 'target_benchmark'")
    target_benchmark: Literal["england-unless-met", "england", "comparators-upper-quartile"] = Field(
        default="england-unless-met",
        description="the capacity planner's target when 'target_met_need' is not set: 'england-unless-met' "
                    "(England's met need of the CDP's latest year, or, if the CDP already meets it, the comparator "
                    "areas' upper quartile of the same year), 'england', or 'comparators-upper-quartile'")
    target_year: int = Field(
        default=2030, ge=2020, le=2050,
        description="the financial year by whose end the target is reached, by its end year (e.g. 2030 for 2029/30)")

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """The target is a percentage in (1, 100]; every file named exists and is read and validated in full
        (ViewIt exports by :func:`cdp_analysis.data.ndtms_viewit.read_export`; Fingertips exports by
        :func:`cdp_analysis.data.fingertips.read_export_for`: only the indicators this chapter reads, counts
        within their denominators, single financial years from 2005/06), so a bad file stops the run before
        any notebook starts. Parsing is memoised, so the chapter's build reads them again for nothing."""
        target = self.target_met_need
        if target is not None and not 1 < target <= 100:
            section = f" (in section '{self.SECTION}')" if where == "key" else ""
            hint = (f"did you mean {target * 100:g} for {target * 100:g}%? 'target_met_need' is a percentage, more "
                    "than 1 and at most 100" if 0 < target <= 1 else
                    "give a percentage more than 1 and at most 100, e.g. 25 for 25%, or leave it out to use "
                    "the benchmark named by 'target_benchmark'")
            raise InputError(f"target met need {target:g}% is outside the range (1, 100]", file=file,
                             where=f"{where} 'target_met_need'{section}", hint=hint)
        for path in self.files("viewit", file=file, where=where):
            ndtms_viewit.read_export(path)
        for path in self.files("fingertips", file=file, where=where):
            read_fingertips_export(path)


def read_fingertips_export(path: Path) -> pd.DataFrame:
    """An analyst's Fingertips export named under ``treatment_gap: fingertips``, validated for this chapter: only
    the unmet-need indicators it reads (:data:`FINGERTIPS_UNMET`; any other is refused, naming it), Count (not in
    treatment) at most the Denominator (estimated need) and Value = 100 × Count ÷ Denominator, single financial
    years from 2005/06 (NDTMS's first year). Memoised by the file's content."""
    from ...data.plausibility import NDTMS_FIRST_YEAR

    return fingertips.read_export_for(path, FINGERTIPS_UNMET, chapter="treatment gap", key=f"{NAME}: fingertips",
                                      proportions=True, financial_years_from=NDTMS_FIRST_YEAR)
