"""English Indices of Deprivation 2019 (IMD) for current upper-tier areas.

MHCLG published IMD 2019 summaries for the 2019 upper-tier areas. Since then unitary authorities
have been created (Buckinghamshire 2020, North/West Northamptonshire 2021, Cumberland, Westmorland and
Furness, North Yorkshire and Somerset 2023). The IMD average score for the 153 current areas is built as:

* shire counties (type CTY, boundaries unchanged since 2019): MHCLG's upper-tier file
  (``IoD2019_UTLA19_IMD_average_score.csv``);
* every other current area is single-tier, so its lower-tier figure is its upper-tier figure: the
  2019 indices re-aggregated from LSOAs to 2023 lower-tier areas, population-weighted as MHCLG does
  (``imd2019_england_ltla23_humaniverse.csv``, column ``Score``).

``rank`` is the rank of the average score among the 153 areas, 1 = most deprived (highest score),
ties sharing the lowest rank; ``decile`` is 1 (most deprived) to 10.
"""

from __future__ import annotations

import functools
import logging

import numpy as np
import pandas as pd

from . import geography, register
from .errors import InputError
from .tabular import read_csv_table, to_numbers

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def imd_scores() -> pd.DataFrame:
    """IMD 2019 average score, rank (of 153) and decile for each current upper-tier area.

    Returns
    -------
    DataFrame
        ``code, imd_score, imd_rank, imd_decile, imd_source``, one row per current upper-tier area.
    """
    utla_path = register.file_of_kind("imd2019_utla19")
    utla = read_csv_table(utla_path, ["upper_tier_local_authority_district_code_2019", "imd_average_score"])
    utla = pd.DataFrame({"code": utla["upper_tier_local_authority_district_code_2019"].str.strip(),
                         "imd_score": to_numbers(utla, "imd_average_score", file=utla_path),
                         "imd_source": "MHCLG IoD2019 upper-tier summary"})
    ltla_path = register.file_of_kind("imd2019_ltla23")
    ltla = read_csv_table(ltla_path, ["ltla23_code", "Score"])
    ltla = pd.DataFrame({"code": ltla["ltla23_code"].str.strip(),
                         "imd_score": to_numbers(ltla, "Score", file=ltla_path),
                         "imd_source": "IMD 2019 re-aggregated to 2023 lower-tier areas"})
    reg = geography.areas("utla")
    counties = reg.loc[reg["type"] == "CTY", "code"]
    table = pd.concat([utla[utla["code"].isin(counties)], ltla[ltla["code"].isin(reg.loc[reg["type"] != "CTY", "code"])]])
    missing = sorted(set(reg["code"]) - set(table["code"]))
    if missing:
        raise InputError(f"no IMD 2019 score for {len(missing)} current areas: {', '.join(missing[:6])}",
                         file=ltla_path, hint="use the published files listed in data/README.md")
    table["imd_rank"] = table["imd_score"].rank(ascending=False, method="min").astype("int64")
    table["imd_decile"] = np.ceil(table["imd_rank"] / len(table) * 10).astype("int64")
    return table[["code", "imd_score", "imd_rank", "imd_decile", "imd_source"]].sort_values("code", ignore_index=True)
