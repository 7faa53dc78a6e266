"""The outcomes chapter's settings: the ``outcomes:`` section of a params file (local files, disclosure threshold).

Only the settings model and its check against the data live here; no tables, figures or sentences.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from ... import stats
from ...areas import geography
from ...areas.params import ChapterSettings
from ...data import local_data


class Settings(ChapterSettings):
    """Settings of the outcomes chapter (section ``outcomes:`` of a params file)."""

    SECTION: ClassVar[str] = "outcomes"

    local_data: list[str] = Field(
        default=[], description="the partnership's local data files (CSV, layout of data/templates/): paths relative "
                                "to the project folder, or absolute")
    disclosure_policy: Literal["nhs-england", "suppress-below-threshold"] = Field(
        default=stats.disclosure.DEFAULT_POLICY,
        description="nhs-england: local counts 1-7 suppressed, other local counts rounded to the nearest 5, "
                    "percentages from unrounded counts; suppress-below-threshold: counts 1 to "
                    "disclosure_threshold minus 1 suppressed, nothing rounded")
    disclosure_threshold: int | None = Field(
        default=None, ge=2, le=20,
        description="local counts from 1 to this number minus 1 are suppressed (default: 8 under nhs-england, "
                    "which allows only a higher one; 5 under suppress-below-threshold)")

    old_after_years: int = Field(
        default=3, ge=1, le=20,
        description="a figure whose period ended more than this many years before the report is produced is "
                    "marked old in the dashboard and the summary, which names the datasets cdp update would refresh")
    as_of: str | None = Field(
        default=None, pattern=r"^\d{4}-\d{2}-\d{2}$",
        description="the date figures' age is measured from (YYYY-MM-DD); by default the day of the run, which "
                    "cdp run passes to the notebook")

    @field_validator("disclosure_threshold")
    @classmethod
    def _threshold_fits_policy(cls, value: int | None, info: ValidationInfo) -> int | None:
        name = info.data.get("disclosure_policy", stats.disclosure.DEFAULT_POLICY)
        if value is not None and name == "nhs-england" and value < stats.disclosure.NHS_ENGLAND_THRESHOLD:
            raise ValueError(
                f"disclosure_threshold {value} is below the nhs-england policy's 8 (counts 1-7 suppressed, others "
                "rounded to 5); remove disclosure_threshold to use it, or add 'disclosure_policy: "
                f"suppress-below-threshold' to keep threshold {value} without rounding")
        return value

    @property
    def disclosure(self) -> stats.disclosure.Policy:
        """The disclosure-control policy of these settings (:func:`cdp_analysis.stats.disclosure.policy`)."""
        return stats.disclosure.policy(self.disclosure_policy, self.disclosure_threshold)

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Every local file named exists and is read and validated in full, together
        (:func:`cdp_analysis.data.local_data.read_all`), so a bad file stops the run before any notebook starts.
        Area codes must be current areas here (the CDP is not known yet); the chapter's build checks that they
        are the CDP's members, region or England. Parsing is memoised, so the build reads them again for
        nothing."""
        paths = self.files("local_data", file=file, where=where)
        if paths:
            known = dict(zip(geography.areas()["code"], geography.areas()["name"]))
            local_data.read_all(paths, allowed_areas=known,
                                areas_are="a current English upper-tier area, region or England code")
