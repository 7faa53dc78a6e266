"""The slope of harm across England: every district's and unitary's deaths against deprivation (all-area work,
the same for every CDP; memoised).

* **Every current district and unitary** (:func:`area_deaths`): deaths related to drug misuse and to drug
  poisoning over ONS's latest 3-year pooled period, mapped to current areas (the districts abolished since are
  summed into their successors, exactly), and the deaths **expected** had England's age-specific rates of the same
  years applied to the area's population by age (mid-year of the period's middle year):
  Eᵢ = Σ_b popᵢ_b × D_b / P_b, with D_b England's deaths of the three years in age band b and P_b England's
  population in b. The indirectly standardised ratio is Oᵢ / Eᵢ (England = 1) and the indirectly standardised
  rate Oᵢ / Eᵢ × England's crude rate (deaths per 100,000 a year), with exact (O < 10) or Byar's limits from
  :func:`cdp_analysis.stats.isr_rate`. ONS publishes district deaths for all ages only, so no district rate can be
  directly standardised here; ONS's own age-standardised rates are shown beside them as published.
* **Tenths of deprivation** (:func:`tenths`): the areas ranked by their Index of Multiple Deprivation (IoD 2025)
  rank of average score and cut into ten groups of (nearly) equal numbers of areas, as Fingertips' "District & UA
  deprivation deciles" are; each tenth's rate is its areas' observed over expected deaths, standardised as above.
* **Slope and relative index of inequality** (:func:`inequality`): :func:`cdp_analysis.stats.sii`
  (PHEindicatormethods' ``phe_sii``: population-weighted regression of the tenths' rates on their relative rank,
  limits by simulation, seeded) with ``multiplier = -1``, so the SII is the fitted rate at the most deprived end
  minus that at the least deprived end (deaths per 100,000 a year) and the RII their ratio. Alcohol-specific
  mortality uses Fingertips 91380's own deprivation-decile rows (directly standardised rates, IMD 2019 deciles of
  districts and unitaries) in the same way.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ... import stats
from ...areas import places as areas_places
from ...data import fingertips, imd2025, ons_drug_deaths, ons_drug_deaths_national, ons_population, register
from ...data.register import cite
from ...edition_cache import once_per_edition
from ...errors import InputError
from ...memo import memoised
from ...output import tidy

log = logging.getLogger(__name__)

CAUSES = ("drug misuse", "drug poisoning")
#: Fingertips' indicator of alcohol-specific mortality and the category type of its deprivation rows.
ALCOHOL_INDICATOR = 91380
ALCOHOL_DECILES = "District & UA deprivation deciles"
#: Fingertips' decile words, most deprived first.
DECILE_WORDS = ("Most deprived", "Second most deprived", "Third more deprived", "Fourth more deprived",
                "Fifth more deprived", "Fifth less deprived", "Fourth less deprived", "Third less deprived",
                "Second least deprived", "Least deprived")
N_TENTHS = 10
#: The seed of the simulated SII limits (fixed: the same inputs give the same limits).
SEED = 20_190


def latest_period() -> tuple[str, list[int]]:
    """ONS's latest 3-year pooled period (e.g. '2019-21') and its years."""
    pooled = ons_drug_deaths.pooled()
    first = int(pooled["first_year"].max())
    period = pooled.loc[pooled["first_year"] == first, "period"].iloc[0]
    return period, [first, first + 1, first + 2]


def _band_labels(ages: pd.Series, bands: pd.DataFrame) -> pd.Series:
    """Each single year of age's national age band (``age_from``/``age_to`` inclusive)."""
    edges = bands.sort_values("age_from")
    idx = np.searchsorted(edges["age_from"].to_numpy(), ages.to_numpy(), side="right") - 1
    return pd.Series(edges["age_group"].to_numpy()[idx], index=ages.index)


@memoised()
def _populations_by_band(pop_year: int, bands_key: tuple) -> tuple[pd.DataFrame, pd.Series, str]:
    """Population of every current lower-tier area by national age band at ``pop_year`` (mapped to current
    areas), England's by band, and the citation of the file."""
    bands = pd.DataFrame(list(bands_key), columns=["age_group", "age_from", "age_to"])
    est = ons_population.estimates()
    year = est[(est["year"] == pop_year) & (est["sex"] == "persons")]
    source = year["source"].iloc[0]
    eng = year[year["code"] == "E92000001"]
    eng_by_band = eng.assign(age_group=_band_labels(eng["age"], bands)).groupby("age_group")["population"].sum()
    low = year[year["geography"].isin(areas_places.LOWER_TIER) & year["code"].str.startswith("E")].copy()
    low["current"] = areas_places.lower_tier_of(low["code"], file=ons_population.file_of_year(pop_year),
                                                where="row " + low["source_row"].astype(str))
    low["age_group"] = _band_labels(low["age"], bands)
    by_band = low.groupby(["current", "age_group"], as_index=False)["population"].sum()
    return by_band.rename(columns={"current": "code"}), eng_by_band, source


def _published_deaths(period: str) -> pd.DataFrame:
    """ONS's pooled persons' rows of every lower-tier area for ``period``, with each row's current area."""
    pooled = ons_drug_deaths.pooled()
    rows = pooled[(pooled["period"] == period) & (pooled["sex"] == "Persons")
                  & ((pooled["level"] == "district") | pooled["code"].str.startswith("E06"))].copy()
    rows["current"] = areas_places.lower_tier_of(
        rows["code"], file=register.file_of_kind(ons_drug_deaths.WORKBOOK.kind),
        where="sheet '" + rows["_sheet"] + "', row " + rows["_row"].astype(str) + ", column 'A' (area code)")
    return rows


@memoised()
def _reference() -> dict:
    """What every expected death is computed from, for ONS's latest pooled period: ``period``,
    ``population_year`` (the middle year), ``by_band`` (every current district's and unitary's population by the
    national tables' age bands: ``code, age_group, population``), ``rows`` (for each cause, ``by_band`` with ``n`` =
    3 × population, ``x_ref`` England's deaths of the three years and ``n_ref`` England's person-years in the
    band), ``england_rate`` (each cause's crude rate per 100,000 a year) and ``source`` (the national tables' and
    the population file's citations)."""
    period, years = latest_period()
    pop_year = years[1]
    if pop_year not in ons_population.available_years():
        raise InputError(f"no mid-{pop_year} population estimates are held, needed for the expected deaths of "
                         f"{period}", file="data/raw/ons_population", hint="add the mid-year estimates file (cdp update)")
    nat = ons_drug_deaths_national.england_by_age()
    nat = nat[(nat["sex"] == "Persons") & (nat["age_group"] != "All ages") & nat["year"].isin(years)]
    bands = nat[["age_group", "age_from", "age_to"]].drop_duplicates().sort_values("age_from")
    by_band, eng_pop, pop_source = _populations_by_band(pop_year, tuple(map(tuple, bands.to_numpy())))
    rows, rates = {}, {}
    for cause in CAUSES:
        deaths = nat[nat["cause"] == cause].groupby("age_group")["deaths"].sum()
        rows[cause] = by_band.assign(n=3 * by_band["population"], x_ref=by_band["age_group"].map(deaths),
                                     n_ref=3 * by_band["age_group"].map(eng_pop))
        rates[cause] = deaths.sum() / (3 * eng_pop.sum()) * 100_000
    return {"period": period, "population_year": pop_year, "by_band": by_band, "rows": rows, "england_rate": rates,
            "source": cite(nat["source"].iloc[0], pop_source)}


@once_per_edition(copy=False)
def area_deaths() -> pd.DataFrame:
    """Every current district and unitary, each cause: ``code, name, upper_tier, cause, period, observed,
    expected, population, predecessors`` (the published areas summed into it, '' when published as it is),
    ``source_cell``, ``source``; then the indirectly standardised ratio and rate with 95% and 99.8% limits
    (``ratio``, ``ratio_lower``, ``ratio_upper``, ``ratio_lower_998``, ``ratio_upper_998``, ``rate``,
    ``rate_lower``, ``rate_upper``), and the deprivation ``imd_rank`` and ``tenth``."""
    ref = _reference()
    period, by_band = ref["period"], ref["by_band"]
    published = _published_deaths(period)
    areas = areas_places.lower_tier_areas()
    frames = []
    for cause in CAUSES:
        pub = published[published["cause"] == cause].sort_values("code")
        pub = pub.assign(_named=np.where(pub["code"].isin(areas["code"]), "", pub["name"] + " (" + pub["code"] + ")"))
        observed = pub.groupby("current").agg(
            observed=("deaths", lambda s: s.sum(min_count=len(s))),
            predecessors=("_named", lambda s: ", ".join(v for v in s if v)),
            source_cell=("source_cell", " + ".join)).reset_index().rename(columns={"current": "code"})
        rows = ref["rows"][cause]
        res = stats.isr_ratio(rows, "x", "n", "x_ref", "n_ref", group_by="code", confidence=(0.95, 0.998),
                              observed_totals=observed[["code"]].assign(x=observed["observed"]))
        rate = stats.isr_rate(rows, "x", "n", "x_ref", "n_ref", group_by="code",
                              observed_totals=observed[["code"]].assign(x=observed["observed"]))
        out = (areas.merge(observed, on="code", how="left")
               .merge(tidy.from_stats(res)[["code", "expected", "value", "lower_ci", "upper_ci", "lower_ci_998",
                                                   "upper_ci_998"]]
                      .rename(columns={"value": "ratio", "lower_ci": "ratio_lower", "upper_ci": "ratio_upper",
                                       "lower_ci_998": "ratio_lower_998", "upper_ci_998": "ratio_upper_998"}), on="code")
               .merge(tidy.from_stats(rate)[["code", "value", "lower_ci", "upper_ci"]]
                      .rename(columns={"value": "rate", "lower_ci": "rate_lower", "upper_ci": "rate_upper"}), on="code"))
        out["population"] = out["code"].map(by_band.groupby("code")["population"].sum())
        out = out.assign(cause=cause, period=period, england_rate=ref["england_rate"][cause],
                         population_year=ref["population_year"], deaths_source=pub["source"].iloc[0],
                         source=cite(pub["source"].iloc[0], ref["source"]))
        frames.append(out)
    t = pd.concat(frames, ignore_index=True)
    return t.merge(_deprivation_ranks(areas), on="code", how="left")


def _deprivation_ranks(areas: pd.DataFrame) -> pd.DataFrame:
    """Each current district's and unitary's IoD rank of IMD average score and its tenth (1 = most deprived).

    Raises
    ------
    InputError
        When the deprivation file lacks a current district or unitary (naming it and the file).
    """
    imd = imd2025.district_summaries()
    imd = imd[imd["domain"] == imd2025.IMD]
    missing = sorted(set(areas["code"]) - set(imd["code"]))
    if missing:
        name = areas.set_index("code")["name"][missing[0]]
        raise InputError(f"the deprivation file has no row for {missing[0]} ({name}), a current district or unitary"
                         + (f", nor for {len(missing) - 1} more" if len(missing) > 1 else ""),
                         file=register.file_of_kind(imd2025.SUMMARIES.kind), where="column 'area_code'",
                         hint="restore the complete published file (every district of the IoD, data/README.md)")
    ranks = imd.set_index("code")["rank_of_average_score"].reindex(areas["code"]).astype(int)
    n = len(ranks)
    return pd.DataFrame({"code": ranks.index, "imd_rank": ranks.to_numpy(),
                         "tenth": (ranks.rank(method="first").to_numpy() - 1) * N_TENTHS // n + 1})


@once_per_edition(copy=False)
def tenths() -> pd.DataFrame:
    """Each cause's indirectly standardised rate in each tenth of deprivation: ``cause, period, tenth, areas,
    observed, expected, population`` (person-years: 3 × the mid-year population, as Fingertips' denominators of
    3-year rates), ``value, lower_ci, upper_ci``."""
    a = area_deaths()
    ref = _reference()
    period, by_band = ref["period"], ref["by_band"]
    tenth_of = a.drop_duplicates("code").set_index("code")["tenth"]
    by_band = by_band.assign(tenth=by_band["code"].map(tenth_of))
    frames = []
    for cause in CAUSES:
        obs = a[a["cause"] == cause].groupby("tenth", as_index=False).agg(x=("observed", "sum"),
                                                                          areas=("code", "size"))
        rows = ref["rows"][cause].assign(tenth=by_band["tenth"])
        res = stats.isr_rate(rows, "x", "n", "x_ref", "n_ref", group_by="tenth", observed_totals=obs[["tenth", "x"]])
        pop = by_band.groupby("tenth")["population"].sum()
        frames.append(tidy.from_stats(res).merge(obs[["tenth", "areas"]], on="tenth").assign(
            cause=cause, period=period, population=3 * res["tenth"].map(pop).to_numpy(),  # person-years
            source=a.loc[a["cause"] == cause, "source"].iloc[0]))
    return pd.concat(frames, ignore_index=True)


def decile_number(category: pd.Series) -> pd.Series:
    """Fingertips' decile words ('Most deprived decile (IMD2019)', …) as numbers 1 (most deprived) … 10."""
    words = category.str.replace(r"\s+decile.*$", "", regex=True).str.strip()
    numbers = words.map({w: i + 1 for i, w in enumerate(DECILE_WORDS)})
    if numbers.isna().any():
        raise InputError(f"unknown deprivation decile '{category[numbers.isna()].iloc[0]}'",
                         where="column 'Category'", hint="use Fingertips' own export (data/README.md)")
    return numbers.astype(int)


@once_per_edition(copy=False)
def alcohol_deciles() -> pd.DataFrame:
    """Fingertips 91380's latest persons' rows by IMD decile of districts and unitaries: ``tenth, period,
    value, lower_ci, upper_ci, observed, population, category_type, source``; empty when the export has none."""
    t = fingertips.indicator(ALCOHOL_INDICATOR)
    rows = t[t["category_type"].str.startswith(ALCOHOL_DECILES, na=False) & (t["sex"] == "Persons")]
    if rows.empty:
        return pd.DataFrame(columns=["tenth", "period", "value", "lower_ci", "upper_ci", "observed", "population",
                                     "category_type", "source"])
    latest = rows[rows["time_period_sortable"] == rows["time_period_sortable"].max()]
    return pd.DataFrame({"tenth": decile_number(latest["category"]).to_numpy(),
                         "period": latest["time_period"].str.replace(" ", "").to_numpy(),
                         "value": latest["value"].to_numpy(), "lower_ci": latest["lower_ci"].to_numpy(),
                         "upper_ci": latest["upper_ci"].to_numpy(), "observed": latest["count"].to_numpy(),
                         "population": latest["denominator"].to_numpy(),
                         "category_type": latest["category_type"].to_numpy(),
                         "source": latest["source"].to_numpy()}).sort_values("tenth", ignore_index=True)


def inequality(groups: pd.DataFrame, reps: int) -> pd.DataFrame:
    """The slope and relative index of inequality of one measure's ten groups (``tenth, population, value,
    lower_ci, upper_ci``), most deprived end minus least deprived end: :func:`cdp_analysis.stats.sii` with
    ``value_type='rate'``, ``multiplier=-1`` and a fixed seed."""
    return stats.sii(groups, "tenth", "population", value="value", value_type="rate", lower="lower_ci",
                     upper="upper_ci", multiplier=-1, confidence=0.95, reps=reps, seed=SEED)
