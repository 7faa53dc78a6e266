"""Chapter 5, places and inequalities: data → tables (no figures, sentences, captions or HTML here).

* ``places`` (:func:`places_table`): one row per place of the partnership (its districts, or its unitaries) and
  measure, then the partnership and England: population; the IoD 2025 IMD average score, rank and tenth; the
  share of small areas in the most deprived 10% and 20% nationally (IMD 2019 File 1: the 2025 small-area file is
  not held); deaths related to drug poisoning and to drug misuse over ONS's latest 3-year period as ONS publishes
  them (``reliability_flag`` ':' where ONS publishes no rate, kept as no value with ONS's reason; 'u' where ONS
  flags the rate unreliable); and the indirectly standardised ratio and rate of every place, partnership and
  England (:mod:`.gradient`), each place compared with England (``compared_to_england``) and with the
  partnership (``compared_to_cdp``) by its own 95% limits (Fingertips' method; deaths: lower is better).
* ``inequality_gradient`` (:func:`gradient_table`): each measure's rate in each tenth of deprivation and its slope
  and relative index of inequality with limits.

A single unitary has no places: its table holds its own and England's rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ... import stats
from ...areas import geography, vintage
from ...areas import places as areas_places
from ...areas.partnerships import Partnership
from ...data import imd2019_lsoa, imd2025, ons_drug_deaths, ons_population, register
from ...data.register import cite
from ...edition_cache import once_per_edition
from ...memo import memoised
from ...output import tidy
from . import gradient
from .settings import Settings

log = logging.getLogger(__name__)

PLACE, CDP, ENGLAND = "place", "cdp", "england"
#: Measures of the places table.
POPULATION = "population"
IMD_SCORE = "IMD average score"
IMD_RANK = "IMD rank of average score"
IMD_TENTH = "IMD tenth of districts and unitaries (1 = most deprived)"
SHARE_10 = "small areas in the most deprived 10% nationally"
SHARE_20 = "small areas in the most deprived 20% nationally"
DEATHS = "deaths"
ASMR = "age-standardised rate"
RATIO = "indirectly standardised ratio"
ISR = "indirectly standardised rate"
SII, RII, TENTH_RATE = "slope index of inequality", "relative index of inequality", "rate in tenth"
#: ``reliability_flag``: ONS's markers.
NOT_PUBLISHED, UNRELIABLE = ":", "u"
#: Measures of the gradient table, in order.
DRUG_MISUSE, DRUG_POISONING, ALCOHOL = ("deaths related to drug misuse", "deaths related to drug poisoning",
                                        "alcohol-specific deaths")
_GRADIENT_CAUSE = {"drug misuse": DRUG_MISUSE, "drug poisoning": DRUG_POISONING}
AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
#: Codes of non-metropolitan districts (area type 'District', as Fingertips' district tables name it).
DISTRICT_PREFIX = "E07"


@dataclass
class PlacesAndInequalities:
    """What chapter 5 computes for one CDP (tidy tables; :meth:`tables` in the contract's order)."""

    cdp: Partnership
    places_list: pd.DataFrame
    places: pd.DataFrame
    gradient: pd.DataFrame
    period: str
    rebuilt: pd.DataFrame = field(repr=False)
    #: Every current district and unitary of England, each cause: ``code, name, cause, observed, expected, ratio,
    #: tenth`` (the funnel's context and the gradient's ranking; not a table of the chapter).
    context: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)

    def tables(self) -> list[pd.DataFrame]:
        return [self.places, self.gradient]

    @property
    def has_places(self) -> bool:
        return not self.places_list.empty


def _areas_of(cdp: Partnership, listed: pd.DataFrame) -> pd.DataFrame:
    """Each lower-tier code → its reporting rows: the place itself (role 'place'), the CDP, England."""
    low = areas_places.lower_tier_areas()
    inside = low[low["upper_tier"].isin(cdp.members)]
    district = listed["code"].str.startswith(DISTRICT_PREFIX)
    rows = [pd.DataFrame({"code": listed["code"], "area_code": listed["code"], "area_name": listed["name"],
                          "area_role": PLACE, "area_members": "",
                          "area_type": np.where(district, "District", geography.area_type_of(listed["code"]))}),
            pd.DataFrame({"code": inside["code"], "area_code": cdp.code, "area_name": cdp.name,
                          "area_role": CDP, "area_members": cdp.members_text, "area_type": cdp.area_type}),
            pd.DataFrame({"code": low["code"], "area_code": geography.ENGLAND_CODE, "area_name": "England",
                          "area_role": ENGLAND, "area_members": ""})]
    out = pd.concat(rows, ignore_index=True)
    missing = out["area_type"].isna()
    out.loc[missing, "area_type"] = geography.area_type_of(out.loc[missing, "area_code"])
    return out


@memoised()
def _latest_populations() -> tuple[int, pd.DataFrame]:
    """The latest mid-year held and every area's population then (persons, all ages): ``code, value, source``.
    The same for every CDP: once per process."""
    est = ons_population.estimates()
    year = int(est["year"].max())
    t = est[(est["year"] == year) & (est["sex"] == "persons")]
    return year, t.groupby("code", as_index=False).agg(value=("population", "sum"), source=("source", "first"))


def _population_rows(groups: pd.DataFrame) -> pd.DataFrame:
    year, by_code = _latest_populations()
    out = groups.merge(by_code, on="code").groupby(AREA, as_index=False).agg(value=("value", "sum"),
                                                                             source=("source", "first"))
    return out.assign(measure=POPULATION, unit="persons", count=out["value"], time_period=f"mid-{year}")


@memoised()
def _small_areas_by_place() -> pd.DataFrame:
    """Every small area (IMD 2019 File 1) with the current district or unitary it lies in (``code``), its decile
    and source. The same for every CDP: once per process."""
    small = imd2019_lsoa.small_areas()
    code = areas_places.lower_tier_of(small["district_code"], file=register.file_of_kind(imd2019_lsoa.FILE_1.kind),
                                      where="small area " + small["lsoa"]
                                            + ", column 'Local Authority District code (2019)'")
    return small.assign(code=code)[["code", "decile", "source"]]


def _deprivation_rows(groups: pd.DataFrame) -> pd.DataFrame:
    """IoD 2025 score, rank and tenth of each place (and of a single-unitary CDP, which the IoD ranks); the
    share of small areas in the most deprived 10% and 20% (IMD 2019 File 1) of each place and the CDP."""
    imd = imd2025.district_summaries()
    imd = imd[imd["domain"] == imd2025.IMD].set_index("code")
    tenth = gradient.area_deaths().drop_duplicates("code").set_index("code")["tenth"]
    own = groups[groups["area_role"] != ENGLAND]
    own = own[own["area_code"].isin(imd.index)]  # a place, or a CDP that is one district or unitary
    period = str(imd["period"].iloc[0])
    n = len(imd)
    frames = [own.assign(measure=IMD_SCORE, value=own["area_code"].map(imd["average_score"]), unit="score"),
              own.assign(measure=f"{IMD_RANK} (of {n})", value=own["area_code"].map(imd["rank_of_average_score"]),
                         unit="rank (1 = most deprived)"),
              own.assign(measure=IMD_TENTH, value=own["area_code"].map(tenth), unit="tenth")]
    dep = pd.concat(frames, ignore_index=True).assign(time_period=period,
                                                      source=lambda d: d["area_code"].map(imd["source"]))
    inside = groups[groups["area_role"] != ENGLAND].merge(_small_areas_by_place(), on="code")
    shares = inside.groupby(AREA, as_index=False).agg(
        n=("decile", "size"), in_10=("decile", lambda d: int((d == 1).sum())),
        in_20=("decile", lambda d: int((d <= 2).sum())), source=("source", "first"))
    imd19 = str(register.period_of(register.file_of_kind(imd2019_lsoa.FILE_1.kind)))
    share_rows = pd.concat([
        shares.assign(measure=SHARE_10, value=100 * shares["in_10"] / shares["n"], count=shares["in_10"]),
        shares.assign(measure=SHARE_20, value=100 * shares["in_20"] / shares["n"], count=shares["in_20"]),
    ], ignore_index=True).assign(unit="% of small areas (LSOAs)", denominator=lambda d: d["n"], time_period=imd19)
    return pd.concat([dep, share_rows.drop(columns=["n", "in_10", "in_20"])], ignore_index=True)


def _published_rows(groups: pd.DataFrame, period: str) -> pd.DataFrame:
    """ONS's deaths and age-standardised rates as published, for the places, the CDP (when it is one ONS area)
    and England; a current area that ONS published only as its predecessors gets their summed deaths and no
    rate."""
    pooled = ons_drug_deaths.pooled()
    pub = pooled[(pooled["period"] == period) & (pooled["sex"] == "Persons")]
    frames = []
    for role in (PLACE, CDP, ENGLAND):
        g = groups[groups["area_role"] == role].drop_duplicates("area_code")
        direct = pub[pub["code"].isin(g["area_code"])].merge(g, left_on="code", right_on="area_code")
        frames.append(direct.assign(geography_basis=vintage.AS_PUBLISHED))
        if role != ENGLAND:  # an area ONS published only as its predecessors (a place, or a one-area CDP)
            summed = gradient.area_deaths()
            summed = summed[summed["code"].isin(set(g["area_code"]) - set(direct["area_code"]))]
            if len(summed):
                rebuilt = summed.merge(g, left_on="code", right_on="area_code")
                frames.append(rebuilt.rename(columns={"observed": "deaths"}).assign(
                    source=rebuilt["deaths_source"], rate=np.nan, lower_ci=np.nan, upper_ci=np.nan, rate_note="", geography_basis=vintage.AGGREGATED))
    t = pd.concat(frames, ignore_index=True)
    flag = np.where(t["rate_note"] == ons_drug_deaths.RATE_NOTES[NOT_PUBLISHED], NOT_PUBLISHED,
                    np.where(t["rate_note"] == ons_drug_deaths.RATE_NOTES[UNRELIABLE], UNRELIABLE, ""))
    rebuilt_note = ("ONS published this period for the areas it replaced ("
                    + t.get("predecessors", pd.Series("", index=t.index)).fillna("") + "): their deaths are summed; "
                    "no rate is published for the current area")
    note = np.where(t["geography_basis"] == vintage.AGGREGATED, rebuilt_note, t["rate_note"])
    cells = t["source_cell"].fillna("")
    rate_cells = t.get("rate_source_cell", pd.Series("", index=t.index)).fillna("")
    deaths = t[[*AREA, "cause", "source", "geography_basis"]].assign(
        measure=DEATHS, value=t["deaths"], count=t["deaths"], unit="deaths in 3 years", source_cell=cells)
    rates = t[[*AREA, "cause", "source", "geography_basis"]].assign(
        measure=ASMR, value=t["rate"], lower_ci=t["lower_ci"], upper_ci=t["upper_ci"], count=t["deaths"],
        unit="per 100,000 a year (ONS, European Standard Population ESP2013)", value_note=note, reliability_flag=flag,
        source_cell=rate_cells)
    return pd.concat([deaths, rates], ignore_index=True).assign(time_period=period)


def _standardised_rows(groups: pd.DataFrame) -> pd.DataFrame:
    """The indirectly standardised ratio and rate of every place, the CDP (its areas' observed and expected
    deaths summed) and England (1 by definition), with each place compared with England and with the CDP."""
    a = gradient.area_deaths()
    frames = []
    for cause, part in a.groupby("cause", sort=False):
        m = groups.merge(part, on="code")
        summed = m.groupby(AREA, as_index=False, sort=False).agg(
            observed=("observed", "sum"), expected=("expected", "sum"), england_rate=("england_rate", "first"),
            source=("source", "first"), period=("period", "first"))
        ratio = stats.isr_ratio(summed.assign(n=1.0, x_ref=summed["expected"], n_ref=1.0), "observed", "n", "x_ref",
                                "n_ref", group_by=AREA, confidence=(0.95, 0.998))
        ratio = tidy.from_stats(ratio).merge(summed[[*AREA, "england_rate", "source", "period"]], on=AREA)
        rate = ratio.assign(value=ratio["value"] * ratio["england_rate"],
                            lower_ci=ratio["lower_ci"] * ratio["england_rate"],
                            upper_ci=ratio["upper_ci"] * ratio["england_rate"],
                            lower_ci_998=ratio["lower_ci_998"] * ratio["england_rate"],
                            upper_ci_998=ratio["upper_ci_998"] * ratio["england_rate"])
        note = (f"expected deaths from England's age-specific rates of the same years; population mid-"
                f"{int(part['population_year'].iloc[0])}")
        frames += [ratio.assign(measure=RATIO, unit="ratio (England = 1)", value_note=note),
                   rate.assign(measure=ISR, unit="per 100,000 a year (England's age-specific rates)",
                               value_note=note)]
        frames[-2]["cause"] = frames[-1]["cause"] = cause
    t = pd.concat(frames, ignore_index=True)
    t = t.assign(count=t["observed"], denominator=t["expected"], time_period=t["period"])
    eng = t["area_role"] == ENGLAND  # England against itself: 1 and England's crude rate by definition, no limits
    t.loc[eng, [c for c in t.columns if c.startswith(("lower_ci", "upper_ci"))]] = np.nan
    t.loc[eng, "value_note"] = t.loc[eng, "value_note"] + "; England against itself: the reference (no limits)"
    t["compared_to_england"] = ""
    t["compared_to_rest_of_cdp"] = ""
    t["rest_of_cdp"] = np.nan
    for _, rows in t.groupby(["cause", "measure"], sort=False):
        eng = rows.loc[rows["area_role"] == ENGLAND, "value"].iloc[0]
        own = rows[rows["area_role"].isin((PLACE, CDP))]
        cmp = stats.compare_to_benchmark(own, "value", "lower_ci", "upper_ci", eng, polarity="low_is_good")
        t.loc[own.index, "compared_to_england"] = cmp["comparison"].astype(str).to_numpy()
        places = rows[rows["area_role"] == PLACE]
        if len(places) < 2:
            continue
        # each place against the rest of the partnership (its other places), so that the two are independent
        cdp = rows[rows["area_role"] == CDP].iloc[0]
        rest = (cdp["observed"] - places["observed"]) / (cdp["expected"] - places["expected"])
        scale = 1.0 if rows["measure"].iloc[0] == RATIO else cdp["england_rate"]
        t.loc[places.index, "rest_of_cdp"] = (rest * scale).to_numpy()
        cmp = stats.compare_to_benchmark(t.loc[places.index], "value", "lower_ci", "upper_ci", "rest_of_cdp",
                                         polarity="low_is_good")
        t.loc[places.index, "compared_to_rest_of_cdp"] = cmp["comparison"].astype(str).to_numpy()
    return t.drop(columns=["observed", "expected", "england_rate", "period", "confidence", "statistic", "method"],
                  errors="ignore")


def places_table(cdp: Partnership, listed: pd.DataFrame, period: str) -> pd.DataFrame:
    """``places``: see the module docstring."""
    groups = _areas_of(cdp, listed)
    t = pd.concat([_population_rows(groups), _deprivation_rows(groups), _published_rows(groups, period),
                   _standardised_rows(groups)], ignore_index=True)
    t["cause"] = t.get("cause", pd.Series("", index=t.index)).fillna("")
    t["indicator_name"] = np.where(t["cause"] != "", "Deaths related to " + t["cause"] + ", " + t["measure"],
                                   t["measure"].str.replace(r"^small areas", "Small areas", regex=True))
    t["indicator_id"] = "cdp.places." + (t["cause"] + " " + t["measure"]).str.strip().map(geography.slugify)
    order = {PLACE: 0, CDP: 1, ENGLAND: 2}
    t = t.assign(_o=t["area_role"].map(order)).sort_values(["_o"], kind="stable").drop(columns="_o")
    for col in ("reliability_flag", "compared_to_rest_of_cdp", "geography_basis", "value_note", "compared_to_england"):
        t[col] = t[col].fillna("") if col in t else ""
    return tidy.conform(t)


@once_per_edition()
def gradient_table(reps: int) -> pd.DataFrame:
    """``inequality_gradient``: each measure's rate in each tenth of deprivation (England's districts and
    unitaries), then its slope and relative index of inequality with 95% limits."""
    frames = []
    tenths = gradient.tenths()
    imd_period = str(imd2025.district_summaries()["period"].iloc[0])
    for cause, groups in tenths.groupby("cause", sort=False):
        frames.append(_gradient_rows(groups, _GRADIENT_CAUSE[cause], reps,
                                     f"IMD {imd_period} tenths of districts and unitaries, equal numbers of areas",
                                     "indirectly standardised rate per 100,000 a year"))
    alcohol = gradient.alcohol_deciles()
    if len(alcohol):
        frames.append(_gradient_rows(alcohol, ALCOHOL, reps, alcohol["category_type"].iloc[0],
                                     "directly standardised rate per 100,000 a year (Fingertips 91380)"))
    return tidy.conform(pd.concat(frames, ignore_index=True))


def _gradient_rows(groups: pd.DataFrame, measure: str, reps: int, category_type: str, unit: str) -> pd.DataFrame:
    groups = groups.sort_values("tenth", ignore_index=True)
    period, source = groups["period"].iloc[0], cite(*groups["source"].unique())
    base = {"area_code": geography.ENGLAND_CODE, "area_name": "England", "area_role": ENGLAND, "area_members": "",
            "time_period": period, "source": source, "cause": measure}
    words = {1: "1 (most deprived)", 10: "10 (least deprived)"}
    rows = pd.DataFrame({**base, "measure": TENTH_RATE, "category_type": category_type,
                         "category": groups["tenth"].map(lambda k: words.get(int(k), str(int(k)))),
                         "value": groups["value"], "lower_ci": groups["lower_ci"], "upper_ci": groups["upper_ci"],
                         "count": groups["observed"], "denominator": groups["population"], "unit": unit})
    res = tidy.from_stats(gradient.inequality(groups, reps))
    r = res.iloc[0]
    how = (f"most deprived end minus least deprived end, fitted across the {len(groups)} tenths weighted by "
           f"population (PHEindicatormethods' SII; limits from {reps:,} simulations)")
    summary = pd.DataFrame([
        {**base, "measure": SII, "value": r["value"], "lower_ci": r["lower_ci"], "upper_ci": r["upper_ci"],
         "unit": "deaths per 100,000 a year (most deprived end minus least deprived end)", "value_note": how,
         "category_type": category_type},
        {**base, "measure": RII, "value": r["rii"], "lower_ci": r["rii_lower_ci"], "upper_ci": r["rii_upper_ci"],
         "unit": "ratio (most to least deprived end)", "value_note": how, "category_type": category_type},
    ])
    out = pd.concat([rows, summary], ignore_index=True)
    out["indicator_name"] = measure.capitalize() + ", " + out["measure"]
    out["indicator_id"] = "cdp.places." + (measure + " " + out["measure"]).map(geography.slugify)
    return out


def build(cdp: Partnership, settings: Settings | None = None) -> PlacesAndInequalities:
    """Chapter 5's tables for one CDP (default settings when none are given)."""
    settings = settings or Settings()
    period, _ = gradient.latest_period()
    listed = areas_places.places(cdp)
    places = places_table(cdp, listed, period)
    a = gradient.area_deaths()
    own = listed["code"] if len(listed) else pd.Series(cdp.members)  # a single unitary is its own one place
    rebuilt = a[a["code"].isin(own) & (a["predecessors"] != "")].drop_duplicates("code")
    return PlacesAndInequalities(cdp=cdp, places_list=listed, places=places,
                                 gradient=gradient_table(settings.sii_repetitions), period=period,
                                 rebuilt=rebuilt[["code", "name", "predecessors"]],
                                 context=a[["code", "name", "cause", "observed", "expected", "ratio", "tenth"]])
