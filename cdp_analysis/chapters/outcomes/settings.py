"""The outcomes chapter's settings: the ``outcomes:`` section of a params file (local files, disclosure threshold).

Only the settings model and its check against the data live here; no tables, figures or sentences.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

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
    disclosure_threshold: int = Field(
        default=stats.disclosure.DEFAULT_THRESHOLD, ge=2, le=20,
        description="local counts from 1 to this number minus 1 are suppressed (5: counts 1-4)")

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
