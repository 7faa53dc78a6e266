"""Chapter 1, population profile: presentation of the computed tables (no computation of tables here).

Key findings and notes as Markdown (:func:`summary_text`, :func:`notes_text`, :func:`pyramid_note`), the
chapter's figures (:class:`~cdp_analysis.output.notebook.FigureOutput`) and its tables as shown, with captions
(:class:`~cdp_analysis.output.notebook.TableOutput`). Every number is read from a
:class:`~.compute.PopulationProfile`; this module imports :mod:`.compute`, never the reverse.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ...areas import comparators, current_population
from ...data import register
from ...output import figures, tidy
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput, wide_view
from .compute import MEASURE_SCORE, PopulationProfile, period_label


def _imd(p: PopulationProfile) -> tuple[str, str]:
    """The IMD's period and the number of areas it ranks, read from the deprivation table."""
    dep = p.deprivation
    ranks = dep[dep["measure"].str.contains(" rank ")]
    return dep["time_period"].iloc[0], ranks["measure"].str.extract(r"\(of (\d+)\)")[0].iloc[0]



def neighbours_display(p: PopulationProfile) -> pd.DataFrame:
    """The neighbours table with readable column headings, indexed by rank, for display."""
    imd_period, of = _imd(p)
    return p.neighbours.drop(columns=["population_source", "imd_source", "comparator_set"]).set_index("rank").rename(
        columns={
            "code": "Area code", "name": "Area", "region_name": "Region",
            "mean_distance": "Relative statistical distance",
            "population": f"Population, {period_label(p.latest_year)}",
            "imd_score": f"IMD {imd_period} average score",
            "imd_rank": f"IMD {imd_period} rank (of {of})"}).rename_axis("Rank")


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
    rebuilt = p.rebuilt
    if rebuilt.empty:
        lines.append(f"- Every population figure in this chapter is published on the current boundaries of "
                     f"{md(p.cdp.name)}'s areas, its region and England (`geography_basis` in each table).")
    else:
        for (year, basis), group in rebuilt.groupby(["year", "geography_basis"]):
            areas = ", ".join(sorted(group["name"]))
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
    persons_only = p.persons_only_years
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
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_population')}.", bottom=None)
    return FigureOutput("population_pyramid", fig, data=p.pyramid, finding=pyramid_finding(p))


def pyramid_finding(p: PopulationProfile) -> str:
    """The pyramid in one sentence: the share of residents aged 65 and over against England's, and the largest
    five-year band (males and females together), from the pyramid's table."""
    pct = p.pyramid[p.pyramid["measure"] == "percent of population"]
    older = pct["age_band"].str.extract(r"^(\d+)")[0].astype(int) >= 65
    cdp, eng = pct["area_role"] == "cdp", pct["area_role"] == "england"
    bands = pct[cdp].groupby("age_band", sort=False)["value"].sum()
    return (f"{p.cdp.name}, {period_label(p.pyramid_year)}: {pct.loc[cdp & older, 'value'].sum():.1f}% of residents "
            f"were aged 65 and over (England {pct.loc[eng & older, 'value'].sum():.1f}%); the largest five-year "
            f"band was {bands.idxmax().replace('-', '–')} ({bands.max():.1f}% of residents)")


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
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_population')}.", bottom=None)
    own = data[data["area_role"] == "cdp"].set_index("age_group")["value"]
    eng = data[data["area_role"] == "england"].set_index("age_group")["value"]
    finding = (f"{p.cdp.name}, change in residents {p.span}: "
               + "; ".join(f"{a.replace('-', '–')} {own[a]:+.1f}% (England {eng[a]:+.1f}%)"
                           for a in current_population.DENOMINATOR_AGES if a in own.index and a in eng.index))
    return FigureOutput("population_change", fig, data=data, finding=finding)


def deprivation_figure(p: PopulationProfile) -> FigureOutput:
    """Horizontal bars of IMD average score: the CDP's areas highlighted among its neighbours."""
    cdp_rows = p.deprivation[p.deprivation["measure"] == MEASURE_SCORE]
    data = pd.concat([cdp_rows.rename(columns={"area_name": "name", "value": "imd_score"}).assign(kind="CDP"),
                      p.neighbours.assign(kind="Nearest neighbour")], ignore_index=True)
    data = data.sort_values("imd_score", ascending=True)
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(data) + 1.2))
    colours = [figures.CDP_COLOUR if k == "CDP" else figures.COMPARATOR_COLOUR for k in data["kind"]]
    ax.barh(data["name"], data["imd_score"], color=colours)
    imd_period, _ = _imd(p)
    ax.set_xlabel(f"IMD {imd_period} average score (higher = more deprived)")
    ax.set_title(f"IMD {imd_period} score: {p.cdp.name} and its comparator areas")
    figures.source_line(fig, f"Source: {figures.dataset_title('imd2019')}; {figures.dataset_title('ons_nearest_neighbours')}.",
                        bottom=None)
    return FigureOutput("deprivation_neighbours", fig,
                        data=pd.concat([cdp_rows, p.neighbours_long], ignore_index=True))


def pyramid_output(p: PopulationProfile) -> TableOutput:
    return TableOutput(
        "population_by_age_sex", p.pyramid,
        view=wide_view(p.pyramid, index=["age_band"], columns=["area_name", "sex"], measure="percent of population"),
        caption=f"% of population by five-year age band and sex, {period_label(p.pyramid_year)}")


def single_year_grid(own: pd.DataFrame) -> pd.DataFrame:
    """Residents by single year of age as a grid that fits a printed page: one row per sex and decade of age
    ("30–39"), one column per year within the decade (0 … 9), so row 30–39, column 4 is age 34; ONS's top
    age band (90 and over) is row "90+", column 0.

    Parameters
    ----------
    own : DataFrame
        Tidy rows of one area with ``sex`` (Male, Female), ``age`` ('0' … '89', '90+') and ``value`` (persons).
    """
    age = own["age"].str.rstrip("+").astype(int)
    top = own["age"].str.endswith("+")
    decade = (age // 10) * 10
    label = decade.map(lambda d: f"{d}–{d + 9}").where(~top, own["age"])
    grid = own.assign(_sex=own["sex"].map({"Male": "Males", "Female": "Females"}), _decade=decade, _row=label,
                      _col=(age % 10).astype(str))
    wide = grid.pivot_table(index=["_sex", "_decade", "_row"], columns="_col", values="value", aggfunc="sum",
                            observed=True)
    wide = wide.reindex(columns=[str(d) for d in range(10)])
    wide = wide.sort_index(level=[0, 1], ascending=[False, True]).droplevel("_decade")  # males first, ages in order
    wide.index = wide.index.set_names(["Sex", "Age (years)"])
    wide.columns.name = "Year within the decade"
    return wide.round(0)


def single_year_output(p: PopulationProfile) -> TableOutput:
    own = p.single_year[(p.single_year["area_role"] == "cdp") & (p.single_year["sex"] != "Persons")]
    return TableOutput(
        "population_by_single_year_of_age", p.single_year, view=single_year_grid(own), digits=0,
        caption=f"{p.cdp.name}: residents by sex and single year of age, {period_label(p.pyramid_year)}; the row "
                "gives the decade of age and the column the year within it (row 30–39, column 4 = aged 34; 90+ = "
                "90 and over). All areas, one row per age, in the CSV table")
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
        caption=f"Index of Multiple Deprivation {_imd(p)[0]}: average score (higher = more deprived), rank "
                "and decile (1 = most deprived)",
        digits={c: 1 if c == MEASURE_SCORE else 0 for c in view.columns})


def neighbours_output(p: PopulationProfile) -> TableOutput:
    return TableOutput(
        "nearest_neighbours", p.neighbours_long,
        view=neighbours_display(p),
        caption=f"The {len(p.neighbours)} comparator areas of {p.cdp.name}: {p.neighbours['comparator_set'].iloc[0]}"
                + ("" if p.neighbours["comparator_set"].iloc[0] == comparators.ONS_SET
                   else " (the analyst's list; ONS relative distance shown for reference)"))
