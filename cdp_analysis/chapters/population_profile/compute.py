"""Chapter 1, population profile: the tables, sentences and figures of the population chapter for one CDP.

Everything the notebook shows is computed here, for the CDP (the sum of its member areas), each member
of a multi-area CDP, the members' region(s) and England:

* ``pyramid`` — population and % of population by sex and five-year band, latest year with a sex split;
* ``single_year`` — the same year's population by sex and single year of age (0–89, 90+);
* ``denominators`` — the age groups later chapters divide by (all ages, 15–64, 16–24, 16–59, 18+) for
  each selected year;
* ``change`` — change in each age group between the selected years (count and %);
* ``deprivation`` — IMD average score, rank among the current upper-tier areas and decile for each
  member (and a population-weighted score for a multi-area CDP, flagged as an estimate);
* ``neighbours`` — the CDP's statistical nearest neighbours with their population and IMD score.

Every row's ``source`` is the data-register citation of the file(s) it was computed from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from pydantic import Field, field_validator

from ..areas import comparators, current_population, geography, vintage
from ..areas.params import ChapterSettings
from ..areas.partnerships import Partnership
from ..data import imd2019, ons_nearest_neighbours, ons_population, register
from ..data.register import cite, join_distinct
from ..output import figures, tidy
from ..output.escape import markdown_text as md
from ..output.notebook import FigureOutput, TableOutput, wide_view
from .registry import Chapter

log = logging.getLogger(__name__)

NAME = "population_profile"

#: Measures of the deprivation table (the year of the indices is in the ``time_period`` column).
MEASURE_SCORE = "IMD average score"
MEASURE_RANK = "IMD rank of average score"
MEASURE_DECILE = "IMD decile (1 = most deprived)"


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


def neighbours_display(nn: pd.DataFrame, latest_year: int) -> pd.DataFrame:
    """The neighbours table with readable column headings, indexed by rank, for display."""
    imd_period = imd2019.period()
    return nn.drop(columns=["population_source", "imd_source", "comparator_set"]).set_index("rank").rename(columns={
        "code": "Area code", "name": "Area", "region_name": "Region",
        "mean_distance": "Relative statistical distance", "population": f"Population, {period_label(latest_year)}",
        "imd_score": f"IMD {imd_period} average score",
        "imd_rank": f"IMD {imd_period} rank (of {len(imd2019.imd_scores())})"}).rename_axis("Rank")


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
                neighbours_tidy(self.neighbours, self.latest_year)]

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
    pyr_year = max(ons_population.available_years("males"))
    return PopulationProfile(
        cdp=cdp, years=years, pyramid_year=pyr_year,
        pyramid=pyramid_table(cdp, pyr_year),
        single_year=single_year_table(cdp, pyr_year),
        denominators=denominators,
        change=change_table(denominators, years),
        deprivation=deprivation_table(cdp, years[-1]),
        neighbours=neighbours_table(cdp, years[-1]),
    )


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def summary_text(p: PopulationProfile) -> str:
    """The chapter's key findings as Markdown, every number read from the computed tables."""
    first, last = p.years[0], p.years[-1]
    code = p.cdp.code
    pop_last = p.value("denominators", area_code=code, year=last, age_group="All ages", measure="population")
    pct = p.value("change", area_code=code, age_group="All ages", measure="percent change", time_period=p.span)
    eng_pct = p.value("change", area_role="england", age_group="All ages", measure="percent change",
                      time_period=p.span)
    share_1564 = p.value("denominators", area_code=code, year=last, age_group="15-64", measure="percent of all ages")
    eng_1564 = p.value("denominators", area_role="england", year=last, age_group="15-64", measure="percent of all ages")
    n1564 = p.value("denominators", area_code=code, year=last, age_group="15-64", measure="population")
    direction = "grew" if pct > 0 else "fell" if pct < 0 else "was unchanged"
    lines = [
        f"- **{md(p.cdp.name)}** had an estimated **{_fmt_int(pop_last)}** residents at {period_label(last)}"
        + (f" across {len(p.cdp.members)} upper-tier areas ({', '.join(map(md, p.cdp.member_names))})."
           if len(p.cdp.members) > 1 else "."),
        f"- The population {direction} by **{abs(pct):.1f}%** between {period_label(first)} and {period_label(last)} "
        f"(England: {eng_pct:+.1f}%).",
        f"- **{_fmt_int(n1564)}** residents were aged 15–64, the denominator for drug-use prevalence: "
        f"{share_1564:.1f}% of the population (England {eng_1564:.1f}%).",
    ]
    dep = p.deprivation
    ranks = dep[dep["measure"].str.contains(" rank ")]
    of = ranks["measure"].str.extract(r"\(of (\d+)\)")[0].iloc[0]
    period = dep["time_period"].iloc[0]
    if len(p.cdp.members) == 1:
        score = p.value("deprivation", measure=MEASURE_SCORE)
        lines.append(f"- IMD {period} average score **{score:.1f}**, ranked **{ranks['value'].iloc[0]:.0f} of {of}** "
                     f"upper-tier areas (1 = most deprived).")
    else:
        parts = ", ".join(f"{md(r.area_name)} {r.value:.0f}" for r in ranks.itertuples())
        lines.append(f"- IMD {period} rank of average score (of {of}; 1 = most deprived): {parts}.")
    nn = p.neighbours
    chosen = nn["comparator_set"].iloc[0]
    if chosen == comparators.ONS_SET:
        lines.append(f"- Closest statistical neighbours: {', '.join(map(md, nn['name'].head(3)))} "
                     f"(of {len(nn)} used as comparators).")
    else:
        lines.append(f"- Comparator areas ({md(chosen)}, chosen in the CDP's parameters): "
                     f"{', '.join(map(md, nn['name'].head(3)))}"
                     + (f" and {len(nn) - 3} more." if len(nn) > 3 else "."))
    return "\n".join(lines)


def notes_text(p: PopulationProfile) -> str:
    """The chapter's notes as Markdown, read from the tables and the data register.

    * how figures for this CDP's areas were built where an edition predates their boundaries;
    * the register's notes for readers on each population file used (e.g. a change of census base);
    * for a multi-area CDP, how its IMD score is approximated.
    """
    lines = []
    codes = set(p.cdp.reporting_areas()["code"])
    pop = current_population.current_areas(p.years)
    pop = pop[pop["code"].isin(codes)]
    rebuilt = pop[pop["geography_basis"] != vintage.AS_PUBLISHED][["year", "code", "geography_basis"]].drop_duplicates()
    if rebuilt.empty:
        lines.append(f"- Every population figure in this chapter is published on the current boundaries of "
                     f"{md(p.cdp.name)}'s areas, its region and England (`geography_basis` in each table).")
    else:
        names = geography.areas().set_index("code")["name"]
        for (year, basis), group in rebuilt.groupby(["year", "geography_basis"]):
            areas = ", ".join(sorted(names[c] for c in group["code"]))
            lines.append(f"- The {period_label(year)} estimates were published before {areas} existed; the figures "
                         f"for it are built from its predecessor areas: {basis} (`geography_basis` in each table).")
    used = {e.path: e for t in (p.denominators, p.pyramid) for s in t["source"].unique()
            for e in register.resolve_source(s)}
    lines += [f"- {e.note}" for _, e in sorted(used.items()) if e.note]
    if len(p.cdp.members) > 1:
        lines.append(f"- A multi-area CDP's IMD score is the members' scores weighted by {period_label(p.latest_year)} "
                     "population, an approximation (MHCLG weights small-area scores by population); it is not ranked.")
    return "\n".join(lines)


def pyramid_note(p: PopulationProfile) -> str:
    """Which year the pyramid shows and why, from the years held by sex and for persons only."""
    by_sex = ons_population.available_years("males")
    persons_only = [y for y in ons_population.available_years() if y not in by_sex and y > p.pyramid_year]
    text = (f"It uses {period_label(p.pyramid_year)}, the latest year for which the estimates held in "
            "`data/raw` are split by sex")
    if persons_only:
        text += f"; {' and '.join(period_label(y) for y in persons_only)} is held for persons only"
    return text + "."


# --- figures and displayed tables ---------------------------------------------------------------------------


def pyramid_figure(p: PopulationProfile) -> FigureOutput:
    """Population pyramid: the CDP's % of population by sex and five-year band, England as an outline."""
    pct = p.pyramid[p.pyramid["measure"] == "percent of population"]
    bands = list(current_population.AGE_BANDS)
    fig, ax = plt.subplots(figsize=(8, 6.5))
    y = np.arange(len(bands))
    for sex, sign, colour in (("Male", -1, figures.MALE_COLOUR), ("Female", 1, figures.FEMALE_COLOUR)):
        cdp = pct[(pct["area_role"] == "cdp") & (pct["sex"] == sex)].set_index("age_band")["value"].reindex(bands)
        ref = pct[(pct["area_role"] == "england") & (pct["sex"] == sex)].set_index("age_band")["value"].reindex(bands)
        ax.barh(y, sign * cdp.to_numpy(), height=0.85, color=colour, label=f"{p.cdp.name}, {sex.lower()}s")
        # England's profile: a vertical segment at each band's value, joined band to band
        ax.plot(np.repeat(sign * ref.to_numpy(), 2), np.column_stack([y - 0.5, y + 0.5]).ravel(),
                color=figures.ENGLAND_COLOUR, linestyle=figures.ENGLAND_LINESTYLE, linewidth=1.6,
                label="England (dashed outline)" if sex == "Male" else None)
    ax.set_yticks(y, bands)
    ax.axvline(0, color="grey", linewidth=0.8)
    lim = float(np.nanmax(np.abs(ax.get_xlim())))
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):.1f}%" for t in ticks])
    ax.set_xlabel("% of total population (males left, females right)")
    ax.set_ylabel("Age band (years)")
    ax.set_title(f"Population by age and sex, {p.cdp.name}, {period_label(p.pyramid_year)}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8, frameon=False)
    fig.text(0.01, 0.005, f"Source: {ons_population.DATASET.title}.", fontsize=8, color="#505a5f")
    fig.tight_layout()
    return FigureOutput("population_pyramid", fig, data=p.pyramid)


def change_figure(p: PopulationProfile) -> FigureOutput:
    """Bar chart of % population change by age group, first to last year, for the CDP, its region(s), England."""
    import seaborn as sns  # imported when a figure is drawn (seaborn imports SciPy)

    data = p.change[(p.change["measure"] == "percent change") & (p.change["time_period"] == p.span)].copy()
    data["area"] = data["area_name"]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    ordered = data.sort_values(["area_role", "area_code"], key=lambda c: c.map(tidy.ROLE_ORDER) if c.name == "area_role"
                               else c, kind="stable").drop_duplicates("area")
    colours = dict(zip(ordered["area"], figures.role_colours(ordered["area_role"])))
    sns.barplot(data=data, x="age_group", y="value", hue="area", ax=ax, palette=colours, edgecolor="white",
                order=[a for a in current_population.DENOMINATOR_AGES if a in set(data["age_group"])],
                hue_order=list(ordered["area"]))
    england = ordered.loc[ordered["area_role"] == "england", "area"].tolist()
    for container, area in zip(ax.containers, ordered["area"]):
        for bar in container:
            if area in england:
                bar.set_hatch(figures.ENGLAND_HATCH)
                bar.set_facecolor("white")
                bar.set_edgecolor(figures.ENGLAND_COLOUR)
            elif area == ordered["area"].iloc[0]:
                bar.set_edgecolor("white")
    ax.legend(handles=ax.containers, labels=[a + (" (hatched)" if a in england else "") for a in ordered["area"]],
              fontsize=8, title=None)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("Age group (years)")
    ax.set_ylabel("Change in residents (%)")
    ax.set_title(f"Population change by age group, {p.span}")
    fig.text(0.01, 0.005, f"Source: {ons_population.DATASET.title}.", fontsize=8, color="#505a5f")
    fig.tight_layout()
    return FigureOutput("population_change", fig, data=data)


def deprivation_figure(p: PopulationProfile) -> FigureOutput:
    """Horizontal bars of IMD average score: the CDP's areas highlighted among its neighbours."""
    cdp_rows = p.deprivation[p.deprivation["measure"] == MEASURE_SCORE]
    data = pd.concat([cdp_rows.rename(columns={"area_name": "name", "value": "imd_score"}).assign(kind="CDP"),
                      p.neighbours.assign(kind="Nearest neighbour")], ignore_index=True)
    data = data.sort_values("imd_score", ascending=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(data) + 1.2))
    colours = [figures.CDP_COLOUR if k == "CDP" else figures.COMPARATOR_COLOUR for k in data["kind"]]
    ax.barh(data["name"], data["imd_score"], color=colours)
    ax.set_xlabel(f"IMD {imd2019.period()} average score (higher = more deprived)")
    ax.set_title(f"IMD {imd2019.period()} score: {p.cdp.name} and its comparator areas")
    fig.text(0.01, 0.005, f"Source: {imd2019.DATASET.title}; {ons_nearest_neighbours.DATASET.title}.",
             fontsize=8, color="#505a5f")
    fig.tight_layout()
    return FigureOutput("deprivation_neighbours", fig,
                        data=pd.concat([cdp_rows, neighbours_tidy(p.neighbours, p.latest_year)], ignore_index=True))


def pyramid_output(p: PopulationProfile) -> TableOutput:
    return TableOutput(
        "population_by_age_sex", p.pyramid,
        view=wide_view(p.pyramid, index=["age_band"], columns=["area_name", "sex"], measure="percent of population"),
        caption=f"% of population by five-year age band and sex, {period_label(p.pyramid_year)}")


def single_year_output(p: PopulationProfile) -> TableOutput:
    own = p.single_year[(p.single_year["area_role"] == "cdp") & (p.single_year["sex"] != "Persons")]
    return TableOutput(
        "population_by_single_year_of_age", p.single_year,
        view=wide_view(own, index=["age"], columns="sex", digits=0),  # long: one row per age, fits the page
        caption=f"{p.cdp.name}: residents by sex and single year of age, {period_label(p.pyramid_year)} "
                "(all areas in the CSV table)")


def denominators_output(p: PopulationProfile) -> TableOutput:
    return TableOutput(
        "denominator_populations", p.denominators,
        view=wide_view(p.denominators, index=["area_name", "age_group"], columns="time_period", measure="population",
                       digits=0),
        caption="Residents by age group (persons)")


def change_output(p: PopulationProfile) -> TableOutput:
    return TableOutput(
        "population_change", p.change,
        view=wide_view(p.change, index=["area_name", "age_group"], columns="time_period", measure="percent change"),
        caption="% change in residents by age group")


def deprivation_output(p: PopulationProfile) -> TableOutput:
    view = wide_view(p.deprivation, index=["area_name"], columns="measure", digits=1)
    return TableOutput(
        "deprivation", p.deprivation, view=view,
        caption=f"Index of Multiple Deprivation {imd2019.period()}: average score (higher = more deprived), rank "
                "and decile (1 = most deprived)",
        digits={c: 1 if c == MEASURE_SCORE else 0 for c in view.columns})


def neighbours_output(p: PopulationProfile) -> TableOutput:
    return TableOutput(
        "nearest_neighbours", neighbours_tidy(p.neighbours, p.latest_year),
        view=neighbours_display(p.neighbours, p.latest_year),
        caption=f"The {len(p.neighbours)} comparator areas of {p.cdp.name}: {p.neighbours['comparator_set'].iloc[0]}"
                + ("" if p.neighbours["comparator_set"].iloc[0] == comparators.ONS_SET
                   else " (the analyst's list; ONS relative distance shown for reference)"))


CHAPTER = Chapter(
    name=NAME, number=1, title="Population profile", notebook="01_population_profile",
    datasets=("ons_population", "imd2019", "ons_nearest_neighbours", "lookups"),
    settings=Settings, build=build, summary=summary_text,
    figures={"population_pyramid": pyramid_figure, "population_change": change_figure,
             "deprivation_neighbours": deprivation_figure},
    tables=("population_by_age_sex", "population_by_single_year_of_age", "denominator_populations",
            "population_change", "deprivation", "nearest_neighbours"),
)
