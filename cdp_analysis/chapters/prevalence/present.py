"""Presentation of the prevalence chapter: key findings and notes (Markdown), figures (:class:`FigureOutput`)
and tables as shown (:class:`TableOutput`, with captions).

Every number is read from the chapter's result built by :mod:`.compute` (captions and notes name editions from
the data register); nothing here loads data or is a table of the chapter, and :mod:`.compute` never imports this
module.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd

from ... import memo
from ...areas import geography
from ...data import register
from ...output import figures, tidy
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput
from .age_rates import AGE_SEX_DRUGS, FINE_BANDS
from .compute import Prevalence


def _n(x: float) -> str:
    return f"{x:,.0f}"


def _lower(name: str) -> str:
    """A drug's name inside a sentence: 'Any Class A drug' → 'any Class A drug'."""
    return name[:1].lower() + name[1:]


def _round(x: float) -> str:
    """A count rounded for prose: to the nearest 10 (100 above 10,000)."""
    step = 100 if x >= 10_000 else 10
    return f"{round(x / step) * step:,.0f}"


def summary_text(p: Prevalence) -> str:
    """Key findings as Markdown, every number read from the tables."""
    lines = []
    method = p.settings.method
    for drug, what in (("Any Class A drug", "a Class A drug"), ("Any drug", "any illicit drug")):
        e = p.estimate(drug=drug, method=method)
        pct = p.estimate(drug=drug, method=method, measure="percent of age group")
        lines.append(f"- If {md(p.cdp.name)}'s residents aged 16–59 used drugs at the national rates for their age "
                     f"and sex, about **{_round(e['value'])}** would have used {what} in the last year "
                     f"({pct['value']:.1f}% of 16–59s; survey {p.latest_survey}, {method} method; national survey "
                     f"sampling range {_round(e['lower_ci'])}–{_round(e['upper_ci'])}, not local precision).")
    other = "age-sex-region" if method == "age-sex" else "age-sex"
    try:
        alt = p.estimate(drug="Any Class A drug", method=other)
    except KeyError:  # a CDP across regions has no region-calibrated estimate
        alt = None
    if alt is not None:
        head = p.estimate(drug="Any Class A drug", method=method)
        ratio = (alt["value"] / head["value"]) if method == "age-sex" else (head["value"] / alt["value"])
        check = _region_check(p, "Any Class A drug")
        if check is not None and check["inside"]:
            how = (f"the region's survey rate ({check['observed_pct']:.1f}%, limits {check['observed_lower']:.1f}–"
                   f"{check['observed_upper']:.1f}%) differs from what its age and sex structure implies "
                   f"({check['expected_pct']:.1f}%) by no more than the survey's sampling error")
        else:
            how = (f"the region's own survey rate is {'lower' if ratio < 1 else 'higher'} than its age and sex "
                   f"structure implies (by a factor of {ratio:.2f})")
        lines.append(f"- With the {other} method, which assumes the area differs from its age and sex expectation "
                     f"as its region does, the Class A estimate is {_round(alt['value'])} "
                     f"({_round(alt['lower_ci'])}–{_round(alt['upper_ci'])}): {how}; its limits are wider because "
                     "regional samples are small.")
    young = p.estimate(drug="Any Class A drug", age_group="16-24", method="age-sex")
    lines.append(f"- Among residents aged 16–24, national rates imply about **{_round(young['value'])}** "
                 f"(national sampling range {_round(young['lower_ci'])}–{_round(young['upper_ci'])}) who used a Class "
                 f"A drug in the last year (survey {p.latest_survey}).")
    alc = p.alcohol
    latest = alc["time_period"][alc["lower_ci"].notna()].max()
    a = alc[(alc["area_role"] == "cdp") & (alc["time_period"] == latest)]
    count = a[a["measure"] == "dependent adults"]
    rate = a[a["measure"] == "rate per 100 adults"]
    if count.empty or rate.empty:  # e.g. the Isles of Scilly: OHID publishes no estimate for the area
        lines.append(f"- OHID publishes no estimate of alcohol dependence for {md(p.cdp.name)} for {latest}: the "
                     "alcohol tables show the region, England and the comparator areas only.")
    else:
        count, rate = count.iloc[0], rate.iloc[0]
        limits = (f" ({_round(count['lower_ci'])}–{_round(count['upper_ci'])})" if pd.notna(count["lower_ci"])
                  else "")
        lines.append(f"- An estimated **{_round(count['value'])}** adults{limits} were dependent on alcohol in "
                     f"{latest} ({rate['value']:.2f} per 100 adults; compared with England: "
                     f"{rate['compared_to_england'] or 'not compared'}).")
    held = p.ocu[(p.ocu["area_role"] == "cdp") & (p.ocu["measure"] == "estimated users")]
    eng = p.ocu[p.ocu["area_role"] == "england"].sort_values("time_period")
    users = eng[eng["measure"] == "estimated users"].iloc[-1]
    rate = eng[(eng["measure"] == "rate per 1,000 aged 15-64") & (eng["time_period"] == users["time_period"])].iloc[0]
    if len(held):  # an OHID estimate transcribed from OHID's own documents
        h = held.sort_values("time_period").iloc[-1]
        lines.append(f"- Opiate and/or crack cocaine use: OHID's estimate for {md(p.cdp.name)} is **{_n(h['value'])}** "
                     f"users aged 15–64 ({h['time_period']}).")
    else:
        lines.append(f"- Opiate and/or crack cocaine use: OHID estimates it for upper-tier local authorities, but no "
                     f"estimate for {md(p.cdp.name)} is in the data used here, so this report gives no local figure. "
                     f"England's estimate for {users['time_period']} is about {_round(users['value'])} users "
                     f"({rate['value']:.1f} per 1,000 aged 15–64).")
    return "\n".join(lines)


def _region_check(p: Prevalence, drug: str) -> pd.Series | None:
    """The region validation row of the CDP's region for ``drug``, latest survey year (None for a CDP across
    regions)."""
    regions = p.drugs.loc[p.drugs["area_role"] == "region", "area_name"].unique()
    if len(regions) != 1:
        return None
    v = p.validation
    hit = v[(v["survey_year"] == p.latest_survey) & (v["drug"] == drug) & (v["region"] == regions[0])]
    return hit.iloc[0] if len(hit) else None


def validation_text(p: Prevalence) -> str:
    """The region check of the age-sex method: how many regions' survey rates contain the rate the method expects
    for them, against the national rate with no adjustment, in the latest survey year and over all years, and what
    follows from it."""
    v = p.validation
    latest = v[v["survey_year"] == p.latest_survey]
    worst = latest.loc[latest["difference"].abs().idxmax()]
    per_drug = "; ".join(f"{d[0].lower() + d[1:]}: {int(g['inside'].sum())} of {len(g)}" for d, g in latest.groupby("drug", sort=False))
    n, inside, flat = len(v), int(v["inside"].sum()), int(v["flat_inside"].sum())
    outside_pct = 100 * (n - inside) / n
    if inside <= flat:
        verdict = ("the age-sex method predicts regional rates no better than the national rate with no adjustment "
                   f"({flat} of {n} inside): age and sex do not explain the differences between regions")
    else:
        verdict = (f"the national rate with no adjustment falls inside {flat} of {n}, so age and sex explain part of "
                   "the differences between regions")
    chance = (f"; {outside_pct:.0f}% fall outside, against about 5% expected by chance, so regions differ in ways "
              "the method does not capture" if outside_pct > 10 else "")
    return (f"- Check of the method against the survey's regions (Table 3.08): applied to each English region's own "
            f"population, the national sex × age rates give the rate the method expects there. In survey "
            f"{p.latest_survey} it falls inside the 95% limits of the rate the survey measured in the region for "
            f"{per_drug}; the largest gap is {worst['region']}, {worst['drug'][0].lower() + worst['drug'][1:]}: expected "
            f"{worst['expected_pct']:.1f}%, measured {worst['observed_pct']:.1f}% "
            f"({worst['observed_lower']:.1f}–{worst['observed_upper']:.1f}). Over the {v['survey_year'].nunique()} "
            f"survey years estimated, {inside} of {n} expected rates lie inside the regional limits and {verdict}"
            f"{chance}. A local estimate is what the area's age and sex imply, not what is likely there.")


def notes_text(p: Prevalence) -> str:
    """Caveats as Markdown, read from the tables, the settings and the register."""
    yrs = p.years
    used = yrs[yrs["usable"]]
    skipped = yrs[~yrs["usable"]]
    lines = [
        "- Modelled estimates apply national (England and Wales) survey rates to the local population: they show "
        "what the area's age and sex structure implies, **not measured local prevalence**. Their 95% limits "
        "(Wilson limits with the survey's effective sample size) reflect **the national survey's sampling error "
        "only**: they are not a measure of local precision and do not include the error of assuming local rates "
        f"equal national ones. The design factor {p.settings.design_factor:g} is an assumption (setting "
        "`design_factor`): the survey's workbook publishes none.",
        "- Age detail: the age-sex method uses seven age bands (16–19 … 55–59, Crime Survey Table 3.03) for each "
        "sex, combined with the sex × broad-band rates of Table 3.04 so that both published tables hold (raking; "
        "docs/methods.md). The earlier two-band method ('age-sex-two-band') is in the CSV table for comparison.",
        "- Survey years used, with the mid-year population each is put over (the mid-year nearest the survey "
        "year's mid-point, or the nearest held): "
        + "; ".join(f"{r.survey_year} (mid-{r.population_year}{', nearest held' if r.population_note else ''})"
                    for r in used.itertuples())
        + f". Earlier survey years ({len(skipped)}) are more than {p.settings.max_population_gap:g} years from any "
        "population held and are not estimated locally.",
        "- The Crime Survey interviews residents of households: people in communal establishments (student halls, "
        "prisons, care homes, hostels) are not sampled, while the populations the rates are applied to include "
        "them. The data held here do not give each area's communal-establishment population, so areas with large "
        "student or prison populations should read these estimates with care.",
        validation_text(p),
        "- The 'age-sex-region' variant scales the estimate by the region's observed rate ÷ the rate expected for "
        "the region from its own age and sex structure (Crime Survey Table 3.08); regional samples are small, so "
        "its limits are wider. The headline method is "
        f"'{p.settings.method}' (see docs/methods.md).",
    ]
    lines.append(headlines_text(p))
    alc = p.alcohol[p.alcohol["measure"] == "rate per 100 adults"]
    alc_years = alc.drop_duplicates("time_period").sort_values("time_period")
    alc_basis = sorted({b for b in p.alcohol.loc[p.alcohol["area_role"].isin(["cdp", "member"]), "geography_basis"]
                        if isinstance(b, str) and b})
    lines.append("- Alcohol dependence: modelled estimates of adults (18+) (OHID/University of Sheffield); each "
                 "period's rate divides by the population aged 18+ of the mid-year inside it ("
                 + "; ".join(f"{r.time_period}: mid-{int(r.population_year)}" for r in alc_years.itertuples())
                 + ")." + (" How the figures for this CDP's areas were built: " + "; ".join(alc_basis) + "."
                           if alc_basis else f" OHID publishes no estimate for {md(p.cdp.name)}."))
    lines.append("- Drinking above 14 units a week: **not yet available**. It needs the Health Survey for England "
                 "age × sex rates (NHS England, Health Survey for England, adult health-related behaviours tables: "
                 "'usual weekly alcohol consumption' by age and sex), which are not in `data/raw`; add them as a "
                 "registered file to estimate it.")
    lines.append("- Opiate and/or crack cocaine use is never derived from the household survey (which misses most "
                 "of it). England's figures are OHID's estimates (revised method); their 95% limits are published in "
                 "OHID's data tables, which the data held here do not include. A local estimate is shown only when "
                 "it is taken from OHID's own documents; figures re-reported by newspapers or trade press are never "
                 "used, and no local figure is derived from England's rate, since local rates vary several-fold.")
    used_files = {e.path: e for t in p.tables() for s in t["source"].unique() for e in register.resolve_source(s)}
    lines += [f"- {e.note}" for _, e in sorted(used_files.items()) if e.note and e.kind != "mye2_workbook"
              and e.kind != "mye2_persons_csv"]
    return "\n".join(lines)


def headlines_text(p: Prevalence) -> str:
    """Later national headline rates (transcribed) beside the survey year the local estimates use."""
    h = p.headlines
    parts = []
    for year, rows in h.groupby("survey_year", sort=True):
        figures_ = ", ".join(f"{r.drug[0].lower() + r.drug[1:]} {r.percent:g}%" for r in rows.itertuples())
        parts.append(f"{year}: {figures_} ({rows['source_type'].iloc[0] or 'ONS'}; "
                     f"{rows['source_url'].iloc[0]})")
    return ("- Later national headlines for 16–59s, last-year use (transcribed; no sex × age rates or bases are "
            f"held for these years, so the local estimates use {p.latest_survey}): " + "; ".join(parts) + ".")


# --- figures and displayed tables ---------------------------------------------------------------------


def drugs_figure(p: Prevalence) -> FigureOutput:
    """% of 16–59s using each drug in the last year: the CDP's estimates (both methods) with limits, England's."""
    t = p.drugs[(p.drugs["measure"] == "percent of age group") & (p.drugs["age_group"] == "16-59")
                & (p.drugs["survey_year"] == p.latest_survey) & p.drugs["drug"].isin(AGE_SEX_DRUGS)
                & p.drugs["method"].isin(["age-sex", "age-sex-region"])]
    fig, ax = plt.subplots(figsize=(8, 4.2))
    drugs = list(AGE_SEX_DRUGS)
    y = np.arange(len(drugs))
    for offset, (role, method, colour, marker, label) in zip(
            (-0.22, 0.0, 0.22),
            (("cdp", "age-sex", figures.CDP_COLOUR, "o", f"{p.cdp.name}, age-sex"),
             ("cdp", "age-sex-region", figures.OKABE_ITO["vermillion"], "s", f"{p.cdp.name}, age-sex-region"),
             ("england", "age-sex", figures.ENGLAND_COLOUR, "D", "England, age-sex"))):
        d = t[(t["area_role"] == role) & (t["method"] == method)].set_index("drug").reindex(drugs)
        ax.errorbar(d["value"], y + offset, xerr=[d["value"] - d["lower_ci"], d["upper_ci"] - d["value"]],
                    fmt=marker, color=colour, ecolor=colour, capsize=3, label=label,
                    linestyle="none", markerfacecolor="white" if role == "england" else colour)
    ax.set_yticks(y, drugs)
    ax.invert_yaxis()
    ax.set_xlabel("Residents aged 16–59 who used the drug in the last year (%; 95% limits: national survey "
                  "sampling error only)")
    ax.set_xlim(left=0)
    ax.set_title(f"Modelled estimates of drug use, {p.cdp.name}, survey {p.latest_survey}")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, fontsize=8, frameon=False)
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_csew')}; {figures.dataset_title('ons_population')}.",
                        bottom=None)
    cdp = t[(t["area_role"] == "cdp") & (t["method"] == "age-sex")].set_index("drug")
    eng = t[(t["area_role"] == "england") & (t["method"] == "age-sex")].set_index("drug")["value"]
    finding = (f"{p.cdp.name}, modelled estimates (age-sex method), survey {p.latest_survey}, residents aged 16–59 "
               "who used the drug in the last year: "
               + "; ".join(f"{_lower(d)} {r.value:.1f}% ({r.lower_ci:.1f}–{r.upper_ci:.1f}; England {eng[d]:.1f}%)"
                           for d, r in cdp.reindex([d for d in AGE_SEX_DRUGS if d in cdp.index]).iterrows()))
    return FigureOutput("prevalence_drugs", fig, data=t, finding=finding)


def alcohol_figure(p: Prevalence) -> FigureOutput:
    """Alcohol dependence per 100 adults with limits: the CDP, its members and comparators; England as a line."""
    a = p.alcohol
    latest = a["time_period"][a["lower_ci"].notna()].max()
    t = a[(a["measure"] == "rate per 100 adults") & (a["time_period"] == latest) & (a["area_role"] != "region")]
    t = t[t["value"].notna()]
    eng = t[t["area_role"] == "england"]["value"].iloc[0]
    apportioned = (t["area_role"] == "member") & t["geography_basis"].str.startswith("apportioned")
    shown = t[(t["area_role"] != "england") & ~apportioned].sort_values("value")
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(shown) + 1.6))
    colours = [figures.CDP_COLOUR if r in ("cdp", "member") else figures.COMPARATOR_COLOUR for r in shown["area_role"]]
    y = np.arange(len(shown))
    ax.barh(y, shown["value"], color=colours)
    has = shown["lower_ci"].notna().to_numpy()
    ax.errorbar(shown["value"][has], y[has], xerr=[(shown["value"] - shown["lower_ci"])[has],
                                                  (shown["upper_ci"] - shown["value"])[has]],
                fmt="none", ecolor="#0b0c0c", capsize=2, linewidth=1)
    ax.axvline(eng, color=figures.ENGLAND_COLOUR, linestyle=figures.ENGLAND_LINESTYLE, label=f"England {eng:.2f}")
    ax.set_yticks(y, shown["area_name"])
    ax.set_xlabel("Adults dependent on alcohol per 100 adults aged 18+ (95% limits)")
    ax.set_title(f"Alcohol dependence, {latest}: {p.cdp.name} and its comparator areas")
    ax.legend(loc="lower right", fontsize=8)
    note = (" Members apportioned from a former county by adult population have its rate and are not shown."
            if apportioned.any() else "")
    figures.source_line(fig, f"Source: {figures.dataset_title('ohid_alcohol_dependence')}; {figures.dataset_title('ons_population')}.{note}",
                        bottom=0.05 if note else 0.02, wrap=True)
    return FigureOutput("prevalence_alcohol", fig, data=t)


def age_sex_figure(p: Prevalence) -> FigureOutput:
    """Expected users by sex and age band (the strata of the age-sex method), the CDP, latest survey year."""
    t = p.strata
    fig, axes = plt.subplots(1, len(AGE_SEX_DRUGS), figsize=(12, 4.4), sharey=False)
    bands = list(FINE_BANDS)
    x = np.arange(len(bands))
    for ax, drug in zip(axes, AGE_SEX_DRUGS):
        d = t[t["drug"] == drug]
        for offset, sex, colour, label in ((-0.2, "Male", figures.MALE_COLOUR, "Men"),
                                           (0.2, "Female", figures.FEMALE_COLOUR, "Women")):
            s = d[d["sex"] == sex].set_index("age_band").reindex(bands)
            ax.bar(x + offset, s["value"], width=0.38, color=colour, label=label)
            ax.errorbar(x + offset, s["value"], yerr=[s["value"] - s["lower_ci"], s["upper_ci"] - s["value"]],
                        fmt="none", ecolor="#0b0c0c", capsize=2, linewidth=1)
        ax.set_xticks(x, bands, rotation=45, fontsize=8)
        ax.set_xlabel("Age band (years)")
        ax.set_title(drug, fontsize=10)
    for ax in axes:
        ax.yaxis.set_major_formatter(mticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    axes[0].set_ylabel("Expected users, last year (persons)")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"Modelled estimates by sex and age, {p.cdp.name}, survey {p.latest_survey}")
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_csew')} (Tables 3.03 and 3.04, raked); {figures.dataset_title('ons_population')}.",
                        bottom=0.04)
    words = {"Male": "men", "Female": "women"}
    parts = []
    for drug in AGE_SEX_DRUGS:
        d = t[t["drug"] == drug]
        if d["value"].notna().any():
            top = d.loc[d["value"].idxmax()]
            parts.append(f"{_lower(drug)}: about {round(d['value'].sum(), -1):,.0f} expected users, most among "
                         f"{words[top['sex']]} aged {top['age_band'].replace('-', '–')} (about "
                         f"{round(top['value'], -1):,.0f})")
    return FigureOutput("prevalence_by_age_sex", fig, data=t,
                        finding=f"{p.cdp.name}, modelled estimates, survey {p.latest_survey}: " + "; ".join(parts))


def series_figure(p: Prevalence) -> FigureOutput:
    """The national series of last-year use by 16–59s (England and Wales), every survey year, in time order. The
    same for every CDP: drawn once per process (``FigureOutput.same_inputs``)."""
    s = p.series
    data = s.assign(area_code=geography.ENGLAND_CODE, area_name="England and Wales", area_role="england",
                    time_period=s["survey_year"], measure="percent of age group", value=s["percent"], unit="%")
    ends = [(drug, d.iloc[0], d.iloc[-1]) for drug, d in ((g, s[s["drug"] == g]) for g in AGE_SEX_DRUGS) if len(d)]
    finding = ("England and Wales, adults aged 16–59 who used the drug in the last year: "
               + "; ".join(f"{_lower(drug)} {a['percent']:.1f}% ({a['survey_year']}) to {b['percent']:.1f}% "
                           f"({b['survey_year']})" for drug, a, b in ends))
    return FigureOutput("prevalence_series", lambda: _series_drawing(s), finding=finding,
                        data=data[["area_code", "area_name", "area_role", "time_period", "measure", "drug", "value",
                                   "unit", "source"]], same_inputs=memo.content_key(s))


def _series_drawing(s: pd.DataFrame) -> plt.Figure:
    """The national series figure from ``Prevalence.series``."""
    fig, ax = plt.subplots(figsize=(9, 4.2))
    for drug, colour, style in zip(AGE_SEX_DRUGS, figures.QUALITATIVE, ("-", "--", ":")):
        d = s[s["drug"] == drug]
        mid = ((d["survey_start"] + d["survey_end"]) / 2).to_numpy()
        pct = d["percent"].to_numpy(dtype=float)
        gap = np.flatnonzero(np.diff(mid) > 1.5)  # no survey year in between (e.g. no interviews in 2020/21)
        mid, pct = np.insert(mid, gap + 1, np.nan), np.insert(pct, gap + 1, np.nan)
        ax.plot(mid, pct, style, color=colour, marker="o", markersize=3, label=drug)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("Survey year (mid-point)")
    ax.set_ylabel("Adults aged 16–59 who used it in the last year (%)")
    first = s["survey_year"].iloc[0].split(" to ")[0]
    ax.set_title(f"Drug use in England and Wales, Crime Survey, {first} onwards (gaps: no survey that year)")
    ax.legend(fontsize=8)
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_csew')} (Table 1.02).", bottom=None)
    return fig


def _with_limits(t: pd.DataFrame, digits: int) -> list[str]:
    return [("" if pd.isna(v) else f"{v:,.{digits}f}" + ("" if pd.isna(lo) else f" ({lo:,.{digits}f}–{hi:,.{digits}f})"))
            for v, lo, hi in zip(t["value"], t["lower_ci"], t["upper_ci"])]


def drugs_output(p: Prevalence) -> TableOutput:
    t = p.drugs[(p.drugs["survey_year"] == p.latest_survey) & (p.drugs["recall_period"] == "last year")
                & p.drugs["drug"].isin(AGE_SEX_DRUGS) & (p.drugs["measure"] == "expected users")
                & p.drugs["area_role"].isin(["cdp", "member", "england"])]
    order = {d: i for i, d in enumerate(AGE_SEX_DRUGS)}
    t = t.assign(_o=t["drug"].map(order), _r=t["area_role"].map(tidy.ROLE_ORDER)).sort_values(
        ["_r", "area_code", "_o", "age_group"], key=lambda c: tidy.natural_key(c) if c.name == "age_group" else c)
    view = t.assign(estimate=_with_limits(t, 0)).pivot_table(
        index=["area_name", "drug", "age_group"], columns="method", values="estimate", aggfunc="first", sort=False)
    view = view.reindex(columns=["age-sex", "age-sex-region"]).fillna("")
    view.columns = ["Age-sex estimate (95% limits)", "Age-sex-region estimate (95% limits)"]
    view.index.names = ["Area", "Drug", "Age group (years)"]
    return TableOutput("prevalence_drugs", p.drugs, view=view,
                       caption=f"Expected residents who used each drug in the last year, survey {p.latest_survey}, "
                               "if they used drugs at the national rates for their sex and age. The 95% limits reflect "
                               "the national survey's sampling error only, not local precision. The region-calibrated "
                               "variant exists for ages 16-59 only (Crime Survey Table 3.08). "
                               "Every drug, recall period and survey year is in the CSV table")


def alcohol_output(p: Prevalence) -> TableOutput:
    a = p.alcohol
    latest = a["time_period"][a["lower_ci"].notna()].max()
    t = a[(a["time_period"] == latest) & a["value"].notna()]
    counts = t[t["measure"] == "dependent adults"].set_index("area_code")
    rates = t[t["measure"] == "rate per 100 adults"].set_index("area_code")
    order = t.drop_duplicates("area_code").assign(_r=lambda d: d["area_role"].map(tidy.ROLE_ORDER)).sort_values(
        ["_r", "area_name"])
    view = pd.DataFrame({
        "Area": order["area_name"].to_numpy(),
        "Dependent adults (95% limits)": _with_limits(counts.reindex(order["area_code"]), 0),
        "Per 100 adults aged 18+ (95% limits)": _with_limits(rates.reindex(order["area_code"]), 2),
        "Compared with England": rates.reindex(order["area_code"])["compared_to_england"].fillna("").to_numpy(),
    }).set_index("Area")
    return TableOutput("prevalence_alcohol", a, view=view,
                       caption=f"Adults dependent on alcohol, {latest}: modelled number and rate per 100 adults aged "
                               "18+, compared with England (Better/Worse: the limits lie wholly below/above England's "
                               "rate)")


def ocu_output(p: Prevalence) -> TableOutput:
    t = p.ocu[p.ocu["measure"] == "estimated users"]
    view = t.set_index(["area_name", "method", "time_period"])[["value"]].rename(columns={"value": "Estimated users"})
    return TableOutput("prevalence_ocu", p.ocu, view=view.round(0),
                       caption="Opiate and/or crack cocaine users aged 15–64: OHID's estimates held (revised method; "
                               "their published 95% limits are not in the data held here)")
