"""National rates of last-year drug use by sex × age band, the inputs of the age-sex synthetic estimates.

The Crime Survey publishes last-year use of cannabis, any Class A drug and any drug by **age band for persons**
(Table 3.03: 16–19, 20–24, 25–29, 30–34, 35–44, 45–54, 55–59) and by **sex × broad age band** (Table 3.04:
16–24, 25–59), but not by sex × age band. :func:`raked_rates` combines the two so that both published margins
hold (iterative proportional fitting, :func:`cdp_analysis.stats.rake`), on the population of England and Wales
(the survey's coverage) in the survey year's mid-year:

1. users by age band :math:`A_b = p_b N_b` (Table 3.03) and by sex × broad band :math:`B_{s,c} = p_{s,c} N_{s,c}`
   (Table 3.04), with :math:`N` the mid-year population of England and Wales;
2. the two margins are reconciled within each broad band *c* (published rates are rounded estimates from
   differently weighted tables): :math:`A_b \\leftarrow A_b \\cdot \\sum_s B_{s,c} / \\sum_{b \\in c} A_b`, so the
   sex × broad-band totals are kept and the age shape within the broad band is Table 3.03's;
3. seed :math:`x_{s,b} = p_b N_{s,b}`, raked to both margins; the rate of each cell is
   :math:`r_{s,b} = x_{s,b} / N_{s,b}`.

Each cell's unweighted base is apportioned from the two tables' bases,
:math:`n_{s,b} = n_b \\cdot n_{s,c} / \\sum_{s'} n_{s',c}` (the survey publishes no base per cell), and carries
the cell's sampling error into the limits (:func:`cdp_analysis.stats.synthetic_estimate`).

:func:`two_band_rates` gives Table 3.04's rates as published: the earlier, coarser method, kept as the
variant 'age-sex-two-band' for comparison (``docs/methods.md`` shows how far estimates move between them).
"""

from __future__ import annotations

import logging

import pandas as pd

from ... import stats
from ...data import ons_csew, ons_population
from ...data.register import cite
from ...errors import InputError
from ...memo import by_content

log = logging.getLogger(__name__)

#: Drugs with age-band and sex × age rates (CSEW Tables 3.03, 3.04) and regional rates (3.08).
AGE_SEX_DRUGS = ("Cannabis", "Any Class A drug", "Any drug")
#: Age bands of Table 3.03 (first age, last age) and the broad band of Table 3.04 each lies in.
FINE_BANDS: dict[str, tuple[int, int]] = {"16-19": (16, 19), "20-24": (20, 24), "25-29": (25, 29),
                                          "30-34": (30, 34), "35-44": (35, 44), "45-54": (45, 54),
                                          "55-59": (55, 59)}
BROAD_BANDS: dict[str, tuple[int, int]] = {"16-24": (16, 24), "25-59": (25, 59)}
BROAD_OF = {band: next(b for b, (lo, hi) in BROAD_BANDS.items() if lo <= first and last <= hi)
            for band, (first, last) in FINE_BANDS.items()}
#: The bands of each age-sex method, and the age groups estimated (each a set of whole bands).
SCHEMES: dict[str, dict[str, tuple[int, int]]] = {"age-sex": FINE_BANDS, "age-sex-two-band": BROAD_BANDS}
AGE_GROUPS = {"16-59": (16, 59), "16-24": (16, 24)}
#: England and Wales: the Crime Survey's coverage, whose population weights the national margins.
NATIONAL_CODE = "K04000001"


def bands_in(group: str, bands: dict[str, tuple[int, int]]) -> list[str]:
    """The bands of ``bands`` that make up the age group ``group`` ('16-59' or '16-24')."""
    lo, hi = AGE_GROUPS[group]
    return [b for b, (first, last) in bands.items() if lo <= first and last <= hi]


def population_by_band(pop: pd.DataFrame, bands: dict[str, tuple[int, int]], keys: list[str]) -> pd.DataFrame:
    """Single-year populations (``age``, ``population``, ``keys``) summed into ``bands``: ``keys, band,
    population``."""
    frames = []
    for band, (lo, hi) in bands.items():
        part = pop[pop["age"].between(lo, hi)]
        frames.append(part.groupby(keys, as_index=False)["population"].sum().assign(band=band))
    return pd.concat(frames, ignore_index=True)


def national_population(years: list[int], bands: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Population of England and Wales by mid-year, sex ('males', 'females') and band: ``population_year, sex,
    band, population, pop_source``."""
    est = ons_population.estimates()
    ew = est[(est["code"] == NATIONAL_CODE) & est["year"].isin(years) & (est["sex"] != "persons")]
    missing = sorted(set(years) - set(ew["year"]))
    if missing:
        raise InputError(f"no population of England and Wales ({NATIONAL_CODE}) by sex for mid-"
                         + ", mid-".join(map(str, missing)), file=ons_population.file_of_year(missing[0]),
                         hint="the survey rates are weighted by the population the survey covers; restore the "
                              "published MYE2 workbook, which has a row for England and Wales")
    out = population_by_band(ew, bands, ["year", "sex", "source"])
    return out.rename(columns={"year": "population_year", "source": "pop_source"})


def two_band_rates() -> pd.DataFrame:
    """Table 3.04 as published: ``drug, survey_year, sex, band, rate`` (0–1), ``base``, ``source``."""
    csew = ons_csew.drug_use()
    t = csew[(csew["table"] == "3.04") & csew["drug"].isin(AGE_SEX_DRUGS) & (csew["sex"] != "persons")
             & csew["age_group"].isin(list(BROAD_BANDS))]
    t = t[t["percent"].notna() & t["base"].notna()]
    return pd.DataFrame({"drug": t["drug"], "survey_year": t["survey_year"], "sex": t["sex"], "band": t["age_group"],
                         "rate": t["percent"] / 100, "base": t["base"], "source": t["source"]})


@by_content()
def raked_rates(years: pd.DataFrame) -> pd.DataFrame:
    """Rates by sex × age band of Table 3.03 with both published margins held (see the module docstring).

    Parameters
    ----------
    years : DataFrame
        ``survey_year, population_year`` of the survey years to compute (:func:`.drug_use.survey_years`).

    Returns
    -------
    DataFrame
        ``drug, survey_year, population_year, sex, band, rate`` (0–1), ``base`` (apportioned respondents),
        ``source``, and ``reconciliation`` (the factor step 2 applied to Table 3.03's users in the broad band).
    """
    csew = ons_csew.drug_use()
    by_age = csew[(csew["table"] == "3.03") & csew["drug"].isin(AGE_SEX_DRUGS) & csew["age_group"].isin(list(FINE_BANDS))]
    by_age = by_age[by_age["percent"].notna() & by_age["base"].notna()]
    by_age = pd.DataFrame({"drug": by_age["drug"], "survey_year": by_age["survey_year"], "band": by_age["age_group"],
                           "p_band": by_age["percent"] / 100, "n_band": by_age["base"], "src_band": by_age["source"]})
    by_sex = two_band_rates().rename(columns={"band": "broad", "rate": "p_sex", "base": "n_sex", "source": "src_sex"})
    keep = years[["survey_year", "population_year"]]
    pop = national_population(sorted(set(keep["population_year"])), FINE_BANDS)
    cells = (by_age.merge(keep, on="survey_year").assign(broad=lambda d: d["band"].map(BROAD_OF))
             .merge(pop, on=["population_year", "band"]).merge(by_sex, on=["drug", "survey_year", "sex", "broad"]))
    # a (drug, survey year) is raked only if every band and stratum is published
    full = cells.groupby(["drug", "survey_year"])["band"].transform("size") == 2 * len(FINE_BANDS)
    dropped = cells.loc[~full, ["drug", "survey_year"]].drop_duplicates()
    for r in dropped.itertuples():
        log.info("no raked rates for %s, %s: a band or stratum is not published", r.drug, r.survey_year)
    cells = cells[full].reset_index(drop=True)
    table = ["drug", "survey_year"]
    n_band = cells.groupby([*table, "band"])["population"].transform("sum")
    users_band = cells.assign(users=cells["p_band"] * n_band).drop_duplicates([*table, "band"])
    users_sex = (cells.groupby([*table, "sex", "broad"], as_index=False)
                 .agg(population=("population", "sum"), p_sex=("p_sex", "first")))
    users_sex["users"] = users_sex["p_sex"] * users_sex["population"]
    broad_a = users_band.groupby([*table, "broad"])["users"].sum()
    broad_b = users_sex.groupby([*table, "broad"])["users"].sum()
    factor = (broad_b / broad_a).rename("reconciliation")
    users_band = users_band.merge(factor.reset_index(), on=[*table, "broad"])
    target_band = users_band.set_index([*table, "band"])["users"] * users_band.set_index([*table, "band"])["reconciliation"]
    target_sex = users_sex.set_index([*table, "sex", "broad"])["users"]
    seed = cells.assign(seed=cells["p_band"] * cells["population"])
    raked = stats.rake(seed, "seed", [([*table, "band"], target_band), ([*table, "sex", "broad"], target_sex)])
    n_sex_total = cells.groupby([*table, "band"])["n_sex"].transform("sum")
    out = cells.assign(rate=raked / cells["population"], base=cells["n_band"] * cells["n_sex"] / n_sex_total,
                       source=[cite(a, b) for a, b in zip(cells["src_band"], cells["src_sex"])])
    out = out.merge(factor.reset_index(), on=[*table, "broad"])
    return out[["drug", "survey_year", "population_year", "sex", "band", "rate", "base", "source", "reconciliation"]]
