"""European Standard Population 2013 (ESP2013), 19 five-year age bands.

Source: Eurostat, *Revision of the European Standard Population — Report of Eurostat's task
force*, 2013 edition, Table 3 (the standard used by ONS/OHID from 2014); identical to the
``esp2013`` vector shipped with PHEindicatormethods and to
``tests/reference/phe/esp2013.csv``. Band 0-4 … 85-89, 90+; total 100,000.

Use :data:`ESP2013` (tuple of weights, youngest first), :data:`ESP2013_BANDS` (labels) or
:func:`esp2013` (a pandas Series indexed by band label).
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ESP2013", "ESP2013_BANDS", "esp2013"]

#: Age-band labels, youngest first.
ESP2013_BANDS: tuple[str, ...] = (
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49",
    "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
)  # fmt: skip

#: Standard population of each band (persons), same order as :data:`ESP2013_BANDS`.
ESP2013: tuple[float, ...] = (
    5000.0, 5500.0, 5500.0, 5500.0, 6000.0, 6000.0, 6500.0, 7000.0, 7000.0, 7000.0,
    7000.0, 6500.0, 6000.0, 5500.0, 5000.0, 4000.0, 2500.0, 1500.0, 1000.0,
)  # fmt: skip

assert len(ESP2013) == len(ESP2013_BANDS) == 19 and sum(ESP2013) == 100_000


def esp2013() -> pd.Series:
    """ESP2013 as a float Series named ``"esp2013"`` indexed by band label (``"ageband"``)."""
    return pd.Series(ESP2013, index=pd.Index(ESP2013_BANDS, name="ageband"), name="esp2013")
