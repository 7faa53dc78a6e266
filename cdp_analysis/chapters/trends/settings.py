"""The trends chapter's name (its section in params files) and its settings model.

Settings only: no data is read here.
"""

from __future__ import annotations

from pydantic import Field

from ...areas.params import ChapterSettings

NAME = "trends"


class Settings(ChapterSettings):
    """Settings of the trends chapter (section ``trends:`` of a params file)."""

    max_joinpoints: int = Field(default=2, ge=0, le=3, description="most joinpoints tried in each series")
    min_points: int = Field(default=4, ge=3, le=10,
                            description="fewest annual points in each joinpoint segment (joinpoint years count in both)")
    first_year: int | None = Field(default=None, ge=1993, le=2020,
                                   description="first year of the death series tested (default: every year held)")
