"""The trends chapter's name (its section in params files) and its settings model.

Settings only: no data is read here.
"""

from __future__ import annotations

from typing import Literal

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
    joinpoint_selection: Literal["wbic", "bic"] = Field(
        default="wbic", description="how the number of joinpoints is chosen: 'wbic' (the weighted BIC, the default of "
                                    "the NCI Joinpoint program 5) or 'bic'")
    comparison_years: int = Field(
        default=10, ge=5, le=20,
        description="the latest years over which each trend is compared with England's, and over which the "
                    "direction of travel is judged where no joinpoint is found")
