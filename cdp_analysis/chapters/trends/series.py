"""The trends chapter's series and the columns that name an area: constants shared by the computations
(:mod:`.compute`, :mod:`.standardised`) and the presentation (:mod:`.present`).

Constants only: no data is read, no figure or sentence is made here.
"""

from __future__ import annotations

CAUSES = ("drug misuse", "drug poisoning")
#: Fingertips indicator of alcohol-specific mortality (directly standardised rate per 100,000, 3-year pooled).
ALCOHOL_MORTALITY = "91380"
#: Substances of ONS Table 4 whose national death trend is tested (England and Wales).
SUBSTANCES = ("Any opiate (including unspecified opiates and excluding paracetamol compounds)", "Heroin or morphine",
              "Methadone", "Cocaine", "Any benzodiazepine", "Any new psychoactive substance")
#: Crime Survey tables of last-year use of any drug: 16–59s and 16–24s.
SURVEY_TABLES = {"1.02": "16-59", "1.08": "16-24"}
_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
