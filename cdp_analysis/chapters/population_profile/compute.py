"""Chapter 1, population profile: data → tables (no figures, sentences, captions or HTML here).

Loads the population estimates, the IMD and the comparator areas through :mod:`cdp_analysis.data` and
:mod:`cdp_analysis.areas`, and builds every tidy table of the chapter (:func:`build` →
:class:`PopulationProfile`). Presentation (key findings, notes, figures, table views) is in :mod:`.present`,
which reads these tables; nothing here imports it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...areas import comparators, current_population, geography, vintage
from ...areas.partnerships import Partnership
from ...data import imd2019, ons_nearest_neighbours, ons_population
from ...data.register import cite, join_distinct
from ...output import tidy
from .settings import NAME, Settings

log = logging.getLogger(__name__)

#: Measures of the deprivation table (the year of the indices is in the ``time_period`` column).
MEASURE_SCORE = "IMD average score"
MEASURE_RANK = "IMD rank of average score"
MEASURE_DECILE = "IMD decile (1 = most deprived)"


def period_label(year: int) -> str:
    """'mid-2022' for 2022."""
    return f"mid-{year}"


AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]


def _grouped_population(cdp: Partnership, years: list[int]) -> pd.DataFrame:
    groups = cdp.reporting_areas()
    pop = current_population.current_areas(years)
    pop = pop[pop["code"].isin(set(groups["code"]))].merge(groups, on="code")
    basis = pop.groupby(["area_code", "year"])["geography_basis"].agg(lambda v: join_distinct(*v)).rename("geography_basis")
    summed = pop.groupby([*AREA, "year", "sex", "age", "source"], as_index=False)["population"].sum()
    return summed.merge(basis.reset_index(), on=["area_code", "year"])


def pyramid_table(cdp: Partnership, year: int) -> pd.DataFrame:
    """Population and % of total population by sex and five-year band (the pyramid), tidy."""
    pop = _grouped_population(cdp, [year])
    pop = pop[pop["sex"] != "persons"].assign(age_band=lambda d: current_population.five_year_band(d["age"]))
    counts = pop.groupby([*AREA, "geography_basis", "source", "sex", "age_band"], as_index=False)["population"].sum()
    totals = counts.groupby("area_code")["population"].transform("sum")
    out = pd.concat([
        counts.assign(measure="population", value=counts["population"].astype(float), unit="persons",
                      count=counts["population"].astype(float)),
        counts.assign(measure="percent of population", value=100 * counts["population"] / totals, unit="%",
                      count=counts["population"].astype(float), denominator=totals.astype(float)),
    ], ignore_index=True).drop(columns="population").assign(time_period=period_label(year))
    return tidy.conform(out)


def single_year_table(cdp: Partnership, year: int) -> pd.DataFrame:
    """Population by sex and single year of age (0–89, '90+'), tidy, for the CDP, members, region(s), England."""
    pop = _grouped_population(cdp, [year]).sort_values(["area_code", "sex", "age"], ignore_index=True)
    age = np.where(pop["age"] >= 90, "90+", pop["age"].astype(str))
    return tidy.conform(pop[AREA].assign(
        time_period=period_label(year), measure="population", sex=pop["sex"], age=age,
        value=pop["population"].astype(float), count=pop["population"].astype(float), unit="persons",
        geography_basis=pop["geography_basis"], source=pop["source"]))


def denominators_table(cdp: Partnership, years: list[int]) -> pd.DataFrame:
    """Persons in each denominator age group, and as % of all ages, for each year, tidy.

    The ``time_period`` column holds the mid-year ('mid-2024'); :func:`year_of_period` reads the year back.
    """
    pop = _grouped_population(cdp, years)
    pop = pop[pop["sex"] == "persons"]
    frames = []
    for label in current_population.DENOMINATOR_AGES:
        part = pop[current_population.in_age_group(pop["age"], label)]
        frames.append(part.groupby([*AREA, "year", "geography_basis", "source"],
                                   as_index=False)["population"].sum().assign(age_group=label))
    counts = pd.concat(frames, ignore_index=True)
    all_ages = counts[counts["age_group"] == "All ages"].set_index(["area_code", "year"])["population"]
    total = counts.set_index(["area_code", "year"]).index.map(all_ages).to_numpy().astype(float)
    count = counts["population"].astype(float)
    out = pd.concat([
        counts.assign(measure="population", value=count, unit="persons", count=count),
        counts.assign(measure="percent of all ages", value=100 * count / total, unit="%", count=count,
                      denominator=total),
    ], ignore_index=True)
    out["time_period"] = out["year"].map(period_label)
    return tidy.conform(out.drop(columns=["population", "year"]))


def year_of_period(period: pd.Series) -> pd.Series:
    """The mid-year of a 'mid-YYYY' period label, as an integer."""
    return period.str.removeprefix("mid-").astype("int64")


def change_table(denominators: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Change in each age group between consecutive selected years and overall (count and %), tidy."""
    pop = denominators[denominators["measure"] == "population"].assign(year=lambda d: year_of_period(d["time_period"]))
    wide = pop.pivot_table(index=[*AREA, "age_group"], columns="year", values="value")
    source = pop.groupby(["area_code", "year"])["source"].first()
    spans = list(zip(years[:-1], years[1:]))
    if len(years) > 2:
        spans.append((years[0], years[-1]))
    frames = []
    for a, b in spans:
        diff = (wide[b] - wide[a]).rename("value").reset_index()
        pct = (100 * (wide[b] - wide[a]) / wide[a]).rename("value").reset_index()
        period = f"{period_label(a)} to {period_label(b)}"
        cited = {code: cite(source[(code, a)], source[(code, b)]) for code in diff["area_code"].unique()}
        frames += [diff.assign(measure="change", unit="persons", time_period=period),
                   pct.assign(measure="percent change", unit="%", time_period=period)]
        frames[-1]["source"] = frames[-1]["area_code"].map(cited)
        frames[-2]["source"] = frames[-2]["area_code"].map(cited)
    out = pd.concat(frames, ignore_index=True)
    out["geography_basis"] = out["area_code"].map(pop.groupby("area_code")["geography_basis"].agg(lambda v: join_distinct(*v)))
    return tidy.conform(out)


def deprivation_table(cdp: Partnership, latest_year: int) -> pd.DataFrame:
    """IMD average score, rank (1 = most deprived of the current upper-tier areas) and decile, tidy.

    For a multi-area CDP the CDP row is the mean of the members' scores weighted by their
    ``latest_year`` population: an approximation (MHCLG weights small-area scores by population of the
    index's own reference year), labelled as an estimate and not ranked.
    """
    imd = imd2019.imd_scores().set_index("code")
    period = imd2019.period()
    n_areas = len(imd)
    groups = cdp.reporting_areas()
    single = len(cdp.members) == 1
    members = groups[groups["area_role"] == ("cdp" if single else "member")]
    rows = []
    ranked_among = cite(*imd["source"])  # a rank or decile depends on every area's score, from both files
    for g in members.itertuples():
        rec = imd.loc[g.code]
        for measure, value, unit, source in ((MEASURE_SCORE, rec["imd_score"], "score", rec["source"]),
                                             (f"{MEASURE_RANK} (of {n_areas})", rec["imd_rank"], "rank", ranked_among),
                                             (MEASURE_DECILE, rec["imd_decile"], "decile", ranked_among)):
            rows.append(dict(area_code=g.area_code, area_name=g.area_name, area_type=g.area_type,
                             area_role="cdp" if single else "member", area_members=g.area_members, time_period=period, measure=measure, value=float(value), unit=unit,
                             geography_basis=rec["imd_basis"], source=source))
    if not single:
        pop = current_population.current_areas([latest_year])
        pop = pop[(pop["sex"] == "persons") & pop["code"].isin(cdp.members)]
        weights = pop.groupby("code")["population"].sum()
        score = float(np.average(imd.loc[list(cdp.members), "imd_score"], weights=weights.loc[list(cdp.members)]))
        rows.append(dict(area_code=cdp.code, area_name=cdp.name, area_type=cdp.area_type, area_role="cdp",
                         area_members=cdp.members_text, time_period=period,
                         measure=MEASURE_SCORE, value=score, unit="score",
                         geography_basis=f"estimate: member scores weighted by {period_label(latest_year)} population",
                         source=cite(*imd.loc[list(cdp.members), "source"], *pop["source"])))
    return tidy.conform(pd.DataFrame(rows))


def neighbours_table(cdp: Partnership, latest_year: int) -> pd.DataFrame:
    """The CDP's comparator areas with population and IMD score (wide, one row each).

    The comparators are the analyst's list if the CDP's params name one, else its ``n_neighbours`` ONS
    statistical nearest neighbours (:func:`cdp_analysis.areas.comparators.for_cdp`). Columns: ``rank, code,
    name, region_name, mean_distance, comparator_set, population, imd_score, imd_rank`` and the citations
    ``population_source``, ``imd_source``.
    """
    nn = comparators.for_cdp(cdp)
    pop = current_population.current_areas([latest_year])
    pop = pop[pop["sex"] == "persons"]
    totals = pop.groupby("code")["population"].sum()
    pop_source = pop.groupby("code")["source"].first()
    imd = imd2019.imd_scores().set_index("code")
    return nn.assign(population=nn["code"].map(totals).astype("int64"), imd_score=nn["code"].map(imd["imd_score"]),
                     imd_rank=nn["code"].map(imd["imd_rank"]).astype("int64"),
                     population_source=nn["code"].map(pop_source), imd_source=nn["code"].map(imd["source"]))


def neighbours_tidy(nn: pd.DataFrame, latest_year: int) -> pd.DataFrame:
    """The neighbours table in the tidy long form written to ``tables/``."""
    base = nn.rename(columns={"code": "area_code", "name": "area_name"}).assign(area_role="neighbour")
    nn_source, nn_period = ons_nearest_neighbours.citation(), ons_nearest_neighbours.period()
    ons_set = (nn["comparator_set"] == comparators.ONS_SET).all()
    parts = [
        # the ONS order is data; an analyst's own order is a parameter, so it is not a table value
        base.assign(measure="neighbour rank", value=base["rank"].astype(float), unit="rank", time_period=nn_period,
                    source=nn_source).iloc[: len(base) if ons_set else 0],
        base.assign(measure="mean relative distance to CDP members", value=base["mean_distance"], unit="distance",
                    time_period=nn_period, source=nn_source),
        base.assign(measure="population", value=base["population"].astype(float), unit="persons",
                    count=base["population"].astype(float), time_period=period_label(latest_year),
                    source=base["population_source"]),
        base.assign(measure=MEASURE_SCORE, value=base["imd_score"], unit="score", time_period=imd2019.period(),
                    source=base["imd_source"]),
        # a rank depends on every area's score, so it cites both IMD files (as in the deprivation table)
        base.assign(measure=f"{MEASURE_RANK} (of {len(imd2019.imd_scores())})", value=base["imd_rank"].astype(float),
                    unit="rank", time_period=imd2019.period(), source=cite(*imd2019.imd_scores()["source"])),
    ]
    keep = ["area_code", "area_name", "area_role", "region_name", "comparator_set", "time_period", "measure",
            "value", "count", "unit", "source"]
    return tidy.conform(pd.concat([p.reindex(columns=keep) for p in parts], ignore_index=True))


@dataclass
class PopulationProfile:
    """All tables of the population chapter for one CDP."""

    cdp: Partnership
    years: list[int]
    pyramid_year: int
    pyramid: pd.DataFrame
    single_year: pd.DataFrame
    denominators: pd.DataFrame
    change: pd.DataFrame
    deprivation: pd.DataFrame
    neighbours: pd.DataFrame
    #: :func:`neighbours_tidy` of ``neighbours``: the ``nearest_neighbours`` table as written
    neighbours_long: pd.DataFrame
    #: the population figures of the CDP's areas built from predecessor areas (:func:`rebuilt_areas`)
    rebuilt: pd.DataFrame
    #: years after ``pyramid_year`` whose estimates are held for persons only (no split by sex)
    persons_only_years: list[int]

    def value(self, table: str, **where) -> float:
        """One value from a tidy table, selected by column equalities; errors unless exactly one row matches.

        ``year=2024`` selects the time period 'mid-2024'.
        """
        t = getattr(self, table)
        if "year" in where and "year" not in t.columns:
            year = where.pop("year")
            where["time_period"] = period_label(year)
        mask = np.ones(len(t), dtype=bool)
        for k, v in where.items():
            mask &= (t[k] == v).to_numpy()
        hit = t.loc[mask, "value"]
        if len(hit) != 1:
            raise KeyError(f"{len(hit)} rows of '{table}' match {where}")
        return float(hit.iloc[0])

    def tables(self) -> list[pd.DataFrame]:
        """Every tidy table of the chapter (as written to ``tables/``)."""
        return [self.pyramid, self.single_year, self.denominators, self.change, self.deprivation,
                self.neighbours_long]

    @property
    def latest_year(self) -> int:
        return self.years[-1]

    @property
    def span(self) -> str:
        """The period label of the whole comparison ('mid-2020 to mid-2024')."""
        return f"{period_label(self.years[0])} to {period_label(self.years[-1])}"


def build(cdp: Partnership, settings: Settings | None = None) -> PopulationProfile:
    """Compute every table of the population chapter.

    Parameters
    ----------
    cdp : Partnership
        The CDP.
    settings : Settings, optional
        The chapter's settings; default the CDP's own (params files).
    """
    settings = settings or cdp.chapter_settings(NAME)
    settings.check_data(where="parameter")
    years = settings.years()
    denominators = denominators_table(cdp, years)
    by_sex = ons_population.available_years("males")
    pyr_year = max(by_sex)
    neighbours = neighbours_table(cdp, years[-1])
    return PopulationProfile(
        cdp=cdp, years=years, pyramid_year=pyr_year,
        pyramid=pyramid_table(cdp, pyr_year),
        single_year=single_year_table(cdp, pyr_year),
        denominators=denominators,
        change=change_table(denominators, years),
        deprivation=deprivation_table(cdp, years[-1]),
        neighbours=neighbours,
        neighbours_long=neighbours_tidy(neighbours, years[-1]),
        rebuilt=rebuilt_areas(cdp, years),
        persons_only_years=[y for y in ons_population.available_years() if y not in by_sex and y > pyr_year],
    )


def rebuilt_areas(cdp: Partnership, years: list[int]) -> pd.DataFrame:
    """The CDP's reporting areas whose population estimates for a year were published before the area existed
    and are built from its predecessors: ``year, code, name, geography_basis`` (one row each)."""
    codes = set(cdp.reporting_areas()["code"])
    pop = current_population.current_areas(years)
    pop = pop[pop["code"].isin(codes)]
    rebuilt = pop[pop["geography_basis"] != vintage.AS_PUBLISHED][["year", "code", "geography_basis"]].drop_duplicates()
    names = geography.areas().set_index("code")["name"]
    return rebuilt.assign(name=[names[c] for c in rebuilt["code"]])

