"""Settings of chapter 2 (prevalence): its name and the ``prevalence:`` section of a params file.

The chapter's notebook parameters beyond the common ones, with their defaults and the check against the data
(:meth:`Settings.check_data`). Nothing is computed or shown here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from ...areas.params import ChapterSettings
from ...data import ons_csew
from ...errors import InputError, did_you_mean

NAME = "prevalence"


class Settings(ChapterSettings):
    """Settings of the prevalence chapter (section ``prevalence:`` of a params file)."""

    design_factor: float = Field(
        default=1.2, ge=1.0, le=3.0,
        description="CSEW design factor applied to every survey rate's standard error (1 = simple random sample)")
    method: Literal["age-sex", "age-sex-region"] = Field(
        default="age-sex", description="the method of the headline drug-use estimate ('age-sex' or 'age-sex-region')")
    drugs: list[str] | None = Field(
        default=None, description="drugs for the national-rate estimates, as CSEW labels them (default every drug)")
    recall_periods: list[Literal["last year", "last month", "frequent"]] = Field(
        default=["last year", "last month", "frequent"], min_length=1, description="recall periods to estimate")
    max_population_gap: float = Field(
        default=2.0, gt=0, le=5,
        description="largest gap (years) between a survey year's mid-point and the mid-year population used")

    def check_data(self, *, file: Path | None = None, where: str = "key") -> None:
        """Every drug named must be one the survey tables give."""
        if not self.drugs:
            return
        known = sorted(set(ons_csew.drug_use().query("table in ['1.02', '1.08']")["drug"]))
        for i, d in enumerate(self.drugs):
            if d not in known:
                hint = did_you_mean(d, known) or f"choose from: {', '.join(known)}"
                place = f"{where} 'drugs'" + (f" (in section '{NAME}')" if where == "key" else "") + f", item {i + 1}"
                raise InputError(f"'{d}' is not a drug the Crime Survey tables give", file=file, where=place,
                                 hint=hint)
