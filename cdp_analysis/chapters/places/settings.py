"""The places chapter's name (its section in params files) and its settings model.

Settings only: no data is read here.
"""

from __future__ import annotations

from pydantic import Field

from ...areas.params import ChapterSettings

NAME = "places"


class Settings(ChapterSettings):
    """Settings of the places and inequalities chapter (section ``places:`` of a params file)."""

    sii_repetitions: int = Field(
        default=100_000, ge=1_000, le=1_000_000,
        description="simulations behind the limits of each slope and relative index of inequality (the "
                    "PHEindicatormethods default is 100000); the draws are seeded, so a run is repeatable")
