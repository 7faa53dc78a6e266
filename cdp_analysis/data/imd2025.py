"""English Indices of Deprivation 2025: the local authority district summaries (every domain).

MHCLG's district summaries of the newest indices, reshaped long by Trafford Data Lab (one row per district and
domain; ``data/README.md``): for each of the 296 districts on 2024 boundaries and each domain (the Index of
Multiple Deprivation and its seven domains, and the two supplementary income indices) the population-weighted
**average rank** of its small areas (LSOAs, 2021) and that measure's rank among districts, the **average score**
and its rank, and the **share of its small areas in the most deprived 10% nationally** and its rank. Rank 1 is
the most deprived. Counties are not in the file (their districts are).

The chapters read it through :func:`district_summaries`: ``code, name, domain, average_rank,
rank_of_average_rank, average_score, rank_of_average_score, share_most_deprived_10, rank_of_share,
period, source``.
"""

from __future__ import annotations

import logging

import pandas as pd

from ..errors import InputError
from ..memo import memoised
from . import plausibility, register
from .readers import read_csv_table, to_numbers

log = logging.getLogger(__name__)

SUMMARIES = register.FileKind("imd2025_districts", "imd2025", "indices_of_deprivation_*_lad*.csv")

_COLUMNS = ["area_code", "area_name", "area_type", "deprivation_data_year", "index_domain", "average_rank",
            "rank_average_rank", "average_score", "rank_average_score", "proportion_bottom_decile",
            "rank_proportion_bottom_decile"]
#: The domain whose average score is the IMD score (0-100); other domains have their own scales (some are
#: z-scores and can be negative).
IMD = "Index of Multiple Deprivation"
#: Small areas (LSOAs, 2021) in England: the largest possible average rank.
N_SMALL_AREAS = 33_755
#: The ten domains the summaries hold, as MHCLG names them.
DOMAINS = (IMD, "Income Deprivation", "Employment Deprivation", "Education, Skills and Training Deprivation",
           "Health Deprivation and Disability", "Crime", "Barriers to Housing and Services",
           "Living Environment Deprivation", "Income Deprivation Affecting Children",
           "Income Deprivation Affecting Older People")


def _imd_score_in_range(t: pd.DataFrame) -> pd.Series:
    return (t["index_domain"] != IMD) | t["average_score"].between(0, 100)


RULES = (
    plausibility.between("average_rank", 1, N_SMALL_AREAS, what="an average rank of small areas"),
    plausibility.between("rank_average_rank", 1, 400, whole=True, what="a district's rank"),
    plausibility.between("rank_average_score", 1, 400, whole=True, what="a district's rank"),
    plausibility.between("proportion_bottom_decile", 0, 1, what="a share of small areas"),
    plausibility.Rule("the IMD average score lies between 0 and 100", "average_score", _imd_score_in_range),
    plausibility.Rule("a district is listed once per domain", "area_code",
                      lambda t: ~t.duplicated(["area_code", "index_domain"])),
)


@memoised()
def district_summaries() -> pd.DataFrame:
    """Every district's summary of every domain, tidy (see the module docstring), with ``source``."""
    path = register.file_of_kind(SUMMARIES.kind)
    raw = read_csv_table(path, _COLUMNS)
    for col in ("area_code", "area_name", "index_domain", "area_type"):
        raw[col] = raw[col].str.strip()
    unknown = sorted(set(raw["index_domain"]) - set(DOMAINS))
    if unknown:
        row = int(raw.loc[raw["index_domain"] == unknown[0], "_row"].iloc[0])
        raise InputError(f"an unknown domain {unknown[0]!r}", file=path, where=f"row {row}, column 'index_domain'",
                         hint=f"the summaries name these domains: {', '.join(DOMAINS)}")
    numbers = ["average_rank", "rank_average_rank", "average_score", "rank_average_score",
               "proportion_bottom_decile", "rank_proportion_bottom_decile"]
    for col in numbers:
        raw[col] = to_numbers(raw, col, file=path)
    plausibility.check(raw, RULES, file=path)
    return pd.DataFrame({
        "code": raw["area_code"], "name": raw["area_name"], "domain": raw["index_domain"],
        "average_rank": raw["average_rank"], "rank_of_average_rank": raw["rank_average_rank"].astype("int64"),
        "average_score": raw["average_score"], "rank_of_average_score": raw["rank_average_score"].astype("int64"),
        "share_most_deprived_10": raw["proportion_bottom_decile"],
        "rank_of_share": raw["rank_proportion_bottom_decile"].astype("int64"),
        "period": register.period_of(path), "source": register.citation_of(path)}).reset_index(drop=True)


DATASET = register.Dataset(name="imd2025", title="MHCLG English Indices of Deprivation 2025, district summaries",
                           kinds=(SUMMARIES,), load=district_summaries, rules=RULES)
