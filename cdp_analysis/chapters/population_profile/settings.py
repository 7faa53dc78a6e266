"""Settings of chapter 1 (population profile): its name and the ``population_profile:`` section of a params file.

The chapter's notebook parameters beyond the common ones, with their defaults and the check against the data
(:meth:`Settings.check_data`). Nothing is computed or shown here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from ...areas.params import ChapterSettings
from ...data import ons_population

NAME = "population_profile"


class Settings(ChapterSettings):
    """Settings of the population chapter (section ``population_profile:`` of a params file)."""

    population_years: list[int] | None = Field(
        default=None, min_length=2,
        description="a list of whole years in ascending order, e.g. [2020, 2022, 2024] "
                    "(default: every year in data/raw/ons_population)")

    @field_validator("population_years")
    @classmethod
    def _ascending(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and v != sorted(set(v)):
            raise ValueError("years must be distinct and in ascending order")
        return v

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Every year must have ONS estimates in ``data/raw/ons_population``."""
        place = f"{where} 'population_years'" + (f" (in section '{NAME}')" if where == "key" else "")
        ons_population.check_years(self.population_years, file=file, where=place)

    def years(self) -> list[int]:
        """The years compared: as set, or every available year."""
        return list(self.population_years or ons_population.available_years())
