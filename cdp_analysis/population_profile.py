"""Chapter 1, population profile: the tables and sentences of the population chapter for one CDP.

Everything the notebook shows is computed here, for the CDP (the sum of its member areas), each member
of a multi-area CDP, the members' region(s) and England:

* ``pyramid`` — population and % of population by sex and five-year band, latest year with a sex split;
* ``single_year`` — the same year's population by sex and single year of age (0–89, 90+);
* ``denominators`` — the age groups later chapters divide by (all ages, 15–64, 16–24, 16–59, 18+) for
  each selected year;
* ``change`` — change in each age group from the first to the last selected year (count and %);
* ``deprivation`` — IMD 2019 average score, rank of 153 and decile for each member (and a
  population-weighted score for a multi-area CDP, flagged as an estimate);
* ``neighbours`` — the CDP's statistical nearest neighbours with their population and IMD score.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import deprivation, geography, neighbours, population
from .partnerships import Partnership

log = logging.getLogger(__name__)

POP_SOURCE = "ONS mid-year population estimates (MYE2)"
IMD_SOURCE = "MHCLG English Indices of Deprivation 2019"
NN_SOURCE = "ONS local authority statistical nearest neighbours (Oct 2025)"


def period_label(year: int) -> str:
    """'mid-2022' for 2022."""
    return f"mid-{year}"


def area_groups(cdp: Partnership) -> pd.DataFrame:
    """How each published area feeds the reporting areas.

    Returns
    -------
    DataFrame
        ``code`` (published area) → ``area_code, area_name, area_role``. The CDP total is the sum of its
        members; its ``area_code`` joins the member codes with '+'.
    """
    reg = geography.areas().set_index("code")
    cdp_code = "+".join(cdp.members)
    rows = [{"code": m, "area_code": cdp_code, "area_name": cdp.name, "area_role": "cdp"} for m in cdp.members]
    if len(cdp.members) > 1:
        rows += [{"code": m, "area_code": m, "area_name": reg.loc[m, "name"], "area_role": "member"} for m in cdp.members]
    for rc in sorted({reg.loc[m, "region_code"] for m in cdp.members}):
        rows.append({"code": rc, "area_code": rc, "area_name": reg.loc[rc, "name"], "area_role": "region"})
    rows.append({"code": geography.ENGLAND_CODE, "area_code": geography.ENGLAND_CODE, "area_name": "England",
                 "area_role": "england"})
    return pd.DataFrame(rows)


def _grouped_population(cdp: Partnership, years: list[int]) -> pd.DataFrame:
    groups = area_groups(cdp)
    pop = population.current_areas(years)
    pop = pop[pop["code"].isin(set(groups["code"]))].merge(groups, on="code")
    basis = (pop.groupby(["area_code", "year"])["geography_basis"]
             .agg(lambda s: "; ".join(sorted(set(s)))).rename("geography_basis"))
    summed = pop.groupby(["area_code", "area_name", "area_role", "year", "sex", "age"], as_index=False)["population"].sum()
    return summed.merge(basis.reset_index(), on=["area_code", "year"])


def pyramid_table(cdp: Partnership, year: int | None = None) -> pd.DataFrame:
    """Population and % of total population by sex and five-year band (the pyramid), tidy."""
    year = year or max(population.available_years("males"))
    pop = _grouped_population(cdp, [year])
    pop = pop[pop["sex"] != "persons"].assign(age_band=lambda d: population.five_year_band(d["age"]))
    counts = pop.groupby(["area_code", "area_name", "area_role", "geography_basis", "sex", "age_band"],
                         as_index=False)["population"].sum()
    totals = counts.groupby("area_code")["population"].transform("sum")
    common = dict(period=period_label(year), source=POP_SOURCE)
    out = pd.concat([
        counts.assign(measure="population", value=counts["population"].astype(float), unit="persons", **common),
        counts.assign(measure="percent of population", value=100 * counts["population"] / totals, unit="%", **common),
    ], ignore_index=True).drop(columns="population")
    out["age_band"] = pd.Categorical(out["age_band"], population.BAND_ORDER, ordered=True)
    return out.sort_values(["area_role", "measure", "sex", "age_band"], ignore_index=True).astype({"age_band": str})


def single_year_table(cdp: Partnership, year: int) -> pd.DataFrame:
    """Population by sex and single year of age (0–89, '90+'), tidy, for the CDP, members, region(s), England."""
    pop = _grouped_population(cdp, [year])
    age = np.where(pop["age"] >= 90, "90+", pop["age"].astype(str))
    return pd.DataFrame({
        "area_code": pop["area_code"], "area_name": pop["area_name"], "area_role": pop["area_role"],
        "period": period_label(year), "measure": "population", "sex": pop["sex"], "age": age,
        "value": pop["population"].astype(float), "unit": "persons", "geography_basis": pop["geography_basis"],
        "source": POP_SOURCE})


def denominators_table(cdp: Partnership, years: list[int]) -> pd.DataFrame:
    """Persons in each denominator age group, and as % of all ages, for each year, tidy."""
    pop = _grouped_population(cdp, years)
    pop = pop[pop["sex"] == "persons"]
    frames = []
    for label in population.DENOMINATOR_AGES:
        part = pop[population.in_age_group(pop["age"], label)]
        frames.append(part.groupby(["area_code", "area_name", "area_role", "year", "geography_basis"], as_index=False)
                      ["population"].sum().assign(age_group=label))
    counts = pd.concat(frames, ignore_index=True)
    all_ages = counts[counts["age_group"] == "All ages"].set_index(["area_code", "year"])["population"]
    share = 100 * counts["population"] / counts.set_index(["area_code", "year"]).index.map(all_ages).to_numpy()
    common = dict(source=POP_SOURCE)
    out = pd.concat([
        counts.assign(measure="population", value=counts["population"].astype(float), unit="persons", **common),
        counts.assign(measure="percent of all ages", value=share, unit="%", **common),
    ], ignore_index=True)
    out["period"] = out["year"].map(period_label)
    return out.drop(columns=["population"])


def change_table(denominators: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Change in each age group between consecutive selected years and overall (count and %), tidy."""
    pop = denominators[denominators["measure"] == "population"]
    wide = pop.pivot_table(index=["area_code", "area_name", "area_role", "age_group"], columns="year", values="value")
    spans = list(zip(years[:-1], years[1:]))
    if len(years) > 2:
        spans.append((years[0], years[-1]))
    frames = []
    for a, b in spans:
        diff = (wide[b] - wide[a]).rename("value").reset_index()
        pct = (100 * (wide[b] - wide[a]) / wide[a]).rename("value").reset_index()
        period = f"{period_label(a)} to {period_label(b)}"
        frames += [diff.assign(measure="change", unit="persons", period=period),
                   pct.assign(measure="percent change", unit="%", period=period)]
    out = pd.concat(frames, ignore_index=True).assign(source=POP_SOURCE)
    basis = pop.groupby("area_code")["geography_basis"].agg(lambda s: "; ".join(sorted(set("; ".join(s).split("; ")))))
    out["geography_basis"] = out["area_code"].map(basis)
    return out


def deprivation_table(cdp: Partnership, latest_year: int) -> pd.DataFrame:
    """IMD 2019 average score, rank (1 = most deprived of 153) and decile for the CDP's areas, tidy.

    For a multi-area CDP the CDP row is the mean of the members' scores weighted by their
    ``latest_year`` population: an approximation (MHCLG weights LSOA scores by mid-2015 population),
    labelled as an estimate and not ranked.
    """
    imd = deprivation.imd_scores().set_index("code")
    groups = area_groups(cdp)
    members = groups[groups["area_role"].isin(["cdp", "member"])]
    rows = []
    single = len(cdp.members) == 1
    for _, g in members.iterrows():
        if g["area_role"] == "cdp" and not single:
            continue
        code = g["code"]
        role = "cdp" if single else "member"
        area_code = g["area_code"]
        rec = imd.loc[code]
        for measure, value, unit in (("IMD 2019 average score", rec["imd_score"], "score"),
                                     ("IMD 2019 rank of average score (of 153)", rec["imd_rank"], "rank"),
                                     ("IMD 2019 decile (1 = most deprived)", rec["imd_decile"], "decile")):
            rows.append(dict(area_code=area_code, area_name=g["area_name"], area_role=role, period="2019",
                             measure=measure, value=float(value), unit=unit, geography_basis=rec["imd_source"],
                             source=IMD_SOURCE))
    if not single:
        pop = population.current_areas([latest_year])
        pop = pop[(pop["sex"] == "persons") & pop["code"].isin(cdp.members)].groupby("code")["population"].sum()
        score = float(np.average(imd.loc[list(cdp.members), "imd_score"], weights=pop.loc[list(cdp.members)]))
        rows.append(dict(area_code="+".join(cdp.members), area_name=cdp.name, area_role="cdp", period="2019",
                         measure="IMD 2019 average score", value=score, unit="score",
                         geography_basis=f"estimate: member scores weighted by {period_label(latest_year)} population",
                         source=IMD_SOURCE))
    return pd.DataFrame(rows)


def neighbours_table(cdp: Partnership, n: int, latest_year: int) -> pd.DataFrame:
    """The CDP's ``n`` statistical nearest neighbours with population and IMD score (wide, one row each)."""
    nn = neighbours.nearest(list(cdp.members), n)
    pop = population.current_areas([latest_year])
    pop = pop[pop["sex"] == "persons"].groupby("code")["population"].sum()
    imd = deprivation.imd_scores().set_index("code")
    return nn.assign(population=nn["code"].map(pop).astype("int64"), imd_score=nn["code"].map(imd["imd_score"]),
                     imd_rank=nn["code"].map(imd["imd_rank"]).astype("int64"))


def neighbours_display(nn: pd.DataFrame, latest_year: int) -> pd.DataFrame:
    """The neighbours table with readable column headings, indexed by rank, for display."""
    return nn.set_index("rank").rename(columns={
        "code": "Area code", "name": "Area", "region_name": "Region",
        "mean_distance": "Relative statistical distance", "population": f"Population, {period_label(latest_year)}",
        "imd_score": "IMD 2019 score", "imd_rank": "IMD 2019 rank (of 153)"}).rename_axis("Rank")


def neighbours_tidy(nn: pd.DataFrame, latest_year: int) -> pd.DataFrame:
    """The neighbours table in the tidy long form written to ``tables/``."""
    base = nn.rename(columns={"code": "area_code", "name": "area_name"}).assign(area_role="neighbour")
    parts = [
        base.assign(measure="neighbour rank", value=base["rank"].astype(float), unit="rank", period="2025", source=NN_SOURCE),
        base.assign(measure="mean relative distance to CDP members", value=base["mean_distance"], unit="distance",
                    period="2025", source=NN_SOURCE),
        base.assign(measure="population", value=base["population"].astype(float), unit="persons",
                    period=period_label(latest_year), source=POP_SOURCE),
        base.assign(measure="IMD 2019 average score", value=base["imd_score"], unit="score", period="2019", source=IMD_SOURCE),
    ]
    keep = ["area_code", "area_name", "area_role", "region_name", "period", "measure", "value", "unit", "source"]
    return pd.concat([p[keep] for p in parts], ignore_index=True)


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
        """One value from a tidy table, selected by column equalities; errors unless exactly one row matches."""
        t = getattr(self, table)
        mask = np.ones(len(t), dtype=bool)
        for k, v in where.items():
            mask &= (t[k] == v).to_numpy()
        hit = t.loc[mask, "value"]
        if len(hit) != 1:
            raise KeyError(f"{len(hit)} rows of '{table}' match {where}")
        return float(hit.iloc[0])


def build(cdp: Partnership, years: list[int], n_neighbours: int) -> PopulationProfile:
    """Compute every table of the population chapter."""
    missing = sorted(set(years) - set(population.available_years()))
    if missing:
        from .errors import InputError

        raise InputError(f"no population estimates for {', '.join(map(str, missing))}",
                         where="parameter 'population_years'",
                         hint=f"choose from {', '.join(map(str, population.available_years()))}")
    latest = max(years)
    denominators = denominators_table(cdp, years)
    pyr_year = max(y for y in population.available_years("males"))
    return PopulationProfile(
        cdp=cdp, years=years, pyramid_year=pyr_year,
        pyramid=pyramid_table(cdp, pyr_year),
        single_year=single_year_table(cdp, pyr_year),
        denominators=denominators,
        change=change_table(denominators, years),
        deprivation=deprivation_table(cdp, latest),
        neighbours=neighbours_table(cdp, n_neighbours, latest),
    )


def _fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def summary_text(p: PopulationProfile) -> str:
    """The chapter's key findings as Markdown, every number read from the computed tables."""
    first, last = p.years[0], p.years[-1]
    cdp_code = "+".join(p.cdp.members)
    pop_last = p.value("denominators", area_code=cdp_code, year=last, age_group="All ages", measure="population")
    pct = p.value("change", area_code=cdp_code, age_group="All ages", measure="percent change",
                  period=f"{period_label(first)} to {period_label(last)}")
    eng_pct = p.value("change", area_role="england", age_group="All ages", measure="percent change",
                      period=f"{period_label(first)} to {period_label(last)}")
    share_1564 = p.value("denominators", area_code=cdp_code, year=last, age_group="15-64", measure="percent of all ages")
    eng_1564 = p.value("denominators", area_role="england", year=last, age_group="15-64", measure="percent of all ages")
    n1564 = p.value("denominators", area_code=cdp_code, year=last, age_group="15-64", measure="population")
    direction = "grew" if pct > 0 else "fell" if pct < 0 else "was unchanged"
    lines = [
        f"- **{p.cdp.name}** had an estimated **{_fmt_int(pop_last)}** residents at {period_label(last)}"
        + (f" across {len(p.cdp.members)} upper-tier areas ({', '.join(p.cdp.member_names)})." if len(p.cdp.members) > 1 else "."),
        f"- The population {direction} by **{abs(pct):.1f}%** between {period_label(first)} and {period_label(last)} "
        f"(England: {eng_pct:+.1f}%).",
        f"- **{_fmt_int(n1564)}** residents were aged 15–64, the denominator for drug-use prevalence: "
        f"{share_1564:.1f}% of the population (England {eng_1564:.1f}%).",
    ]
    dep = p.deprivation
    if len(p.cdp.members) == 1:
        rank = p.value("deprivation", measure="IMD 2019 rank of average score (of 153)")
        score = p.value("deprivation", measure="IMD 2019 average score")
        lines.append(f"- IMD 2019 average score **{score:.1f}**, ranked **{rank:.0f} of 153** upper-tier areas "
                     f"(1 = most deprived).")
    else:
        ranks = dep[dep["measure"].str.startswith("IMD 2019 rank")]
        parts = ", ".join(f"{r.area_name} {r.value:.0f}" for r in ranks.itertuples())
        lines.append(f"- IMD 2019 rank of average score (of 153; 1 = most deprived): {parts}.")
    nn = p.neighbours
    lines.append(f"- Closest statistical neighbours: {', '.join(nn['name'].head(3))} (of {len(nn)} used as comparators).")
    return "\n".join(lines)
