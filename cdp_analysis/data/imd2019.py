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

import logging

import numpy as np
import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import lookups, plausibility, register
from .readers import read_csv_table, to_numbers

UTLA19 = register.FileKind("imd2019_utla19", "imd2019", "IoD2019_UTLA19*.csv")
LTLA23 = register.FileKind("imd2019_ltla23", "imd2019", "imd2019_england_ltla23*.csv")

log = logging.getLogger(__name__)

#: Plausibility rules of each file (columns as published). IMD average scores of English areas lie between
#: about 5 and 46; the score's scale is 0–100. Deciles run 1–10; proportions and extents are shares, 0–1.
RULES = {
    UTLA19.kind: (plausibility.between("imd_average_score", 0, 100, what="IMD average score"),
                  plausibility.between("imd_decile", 1, 10, whole=True, what="IMD decile")),
    LTLA23.kind: (plausibility.between("Score", 0, 100, what="IMD average score"),
                  plausibility.between("Proportion", 0, 1, what="proportion of small areas in the most deprived 10%"),
                  plausibility.between("Extent", 0, 1, what="extent (share of the population in the most deprived 30%)")),
}


def _scores(kind: register.FileKind, code: str, score: str, *, basis: str):
    """One file's average scores: ``code, imd_score, imd_basis, source``, and the file's path."""
    path = register.file_of_kind(kind.kind)
    raw = read_csv_table(path, [code, score])
    rules = [r for r in RULES[kind.kind] if r.column in raw.columns]
    numbers = pd.DataFrame({r.column: to_numbers(raw, r.column, file=path, allow_missing=r.column != score)
                            for r in rules}).assign(_row=raw["_row"])
    plausibility.check(numbers, rules, file=path)
    return pd.DataFrame({"code": raw[code].str.strip(), "imd_score": numbers[score],
                         "imd_basis": basis, "source": register.citation_of(path)}), path


@memoised()
def imd_scores() -> pd.DataFrame:
    """IMD 2019 average score, rank (of 153) and decile for each current upper-tier area.

    Returns
    -------
    DataFrame
        ``code, imd_score, imd_rank, imd_decile, imd_basis`` (which file and why), ``source`` (its
        data-register citation), one row per current upper-tier area.
    """
    utla, utla_path = _scores(UTLA19, "upper_tier_local_authority_district_code_2019", "imd_average_score",
                              basis="upper-tier summary (county boundaries unchanged since publication)")
    ltla, ltla_path = _scores(LTLA23, "ltla23_code", "Score",
                              basis="re-aggregated from small areas to current lower-tier areas (single-tier area)")
    reg = lookups.upper_tier_areas()
    counties = reg.loc[reg["type"] == "CTY", "code"]
    table = pd.concat([utla[utla["code"].isin(counties)], ltla[ltla["code"].isin(reg.loc[reg["type"] != "CTY", "code"])]])
    missing = sorted(set(reg["code"]) - set(table["code"]))
    if missing:
        raise InputError(f"no IMD score for {len(missing)} current areas: {', '.join(missing[:6])}",
                         file=ltla_path, hint="use the published files listed in data/README.md")
    table["imd_rank"] = table["imd_score"].rank(ascending=False, method="min").astype("int64")
    table["imd_decile"] = np.ceil(table["imd_rank"] / len(table) * 10).astype("int64")
    return table[["code", "imd_score", "imd_rank", "imd_decile", "imd_basis", "source"]].sort_values(
        "code", ignore_index=True)


def period() -> str:
    """The period the indices describe, from the data register (``period`` of the upper-tier file)."""
    return register.period_of(register.file_of_kind(UTLA19.kind))


DATASET = register.Dataset(name="imd2019", title="MHCLG English Indices of Deprivation 2019 (IMD)",
                           kinds=(UTLA19, LTLA23), load=imd_scores, rules=tuple(r for rs in RULES.values() for r in rs))
