"""The trends chapter's presentation: key findings and notes in words, figures and table views.

Every sentence and number shown is read from the tables of :func:`.compute.build` (a :class:`.compute.Trends`).

Rule: this module imports :mod:`.compute`, never the reverse; nothing here computes a table.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ... import memo, stats
from ...output import figures
from ...output.escape import markdown_text as md
from ...output.notebook import FigureOutput, TableOutput
from ...output.table_html import with_limits
from .compute import _EW, RATE, Trends, _annual_series, recording_shares
from .series import ALCOHOL_MORTALITY, CAUSES, SUBSTANCES
from .trend_words import HEADLINE_SERIES, headline_rows, trend_sentence

# --- words ------------------------------------------------------------------------------------------------



def summary_text(tr: Trends) -> str:
    """Key findings as Markdown, every number read from the trends table ('latest trend' and 'compared with
    England' rows)."""
    t = tr.trends
    lines = []
    for series, what in HEADLINE_SERIES.items():
        for role, where in (("cdp", md(tr.cdp.name)), ("england", "England")):
            head, vs = headline_rows(t, series, role)
            if head is not None:
                lines.append("- " + trend_sentence(head, what, where, vs))
        if series == f"deaths related to {CAUSES[1]}":
            sentence = standardised_sentence(tr)
            if sentence:
                lines.append(sentence)
    met = t[(t["method"] == "Fingertips recent trend") & t["series"].str.startswith("alcohol met need")]
    for r in met.itertuples():
        lines.append(f"- Alcohol met need in {md(r.area_name)}, {r.period_start} to {r.period_end} (Fingertips "
                     f"recent-trend marker): {r.verdict}.")
    lines.append(alcohol_mortality_sentence(tr))
    if not (t["area_role"] == "cdp").any() or t[(t["area_role"] == "cdp") & t["series"].str.startswith("adults")].empty:
        lines.append(f"- Numbers in treatment for {md(tr.cdp.name)} are not in the data: add the area's NDTMS ViewIt "
                     "export under 'treatment_gap: viewit' to test their trend.")
    lines.append("")
    lines.append("**National context (England and Wales)**")
    lines.append("")
    nat = t[(t["area_role"] == "national") & (t["method"] == "latest trend")]
    for r in nat.itertuples():
        what = r.series.replace(" (England and Wales)", "").replace("deaths mentioning", "Deaths mentioning")
        lines.append("- " + trend_sentence(pd.Series(r._asdict()), what, "England and Wales"))
    survey = t[(t["area_role"] == "national") & (t["method"] == "Fingertips recent trend")]
    for r in survey.itertuples():
        lines.append(f"- {r.series[:1].upper() + r.series[1:]}, {r.period_start} to {r.period_end} (Fingertips "
                     f"recent-trend marker): {r.verdict}.")
    return "\n".join(lines)


def alcohol_mortality_sentence(tr: Trends) -> str:
    """The CDP's latest alcohol-specific mortality rate against England's, in words (or why there is none)."""
    a = tr.alcohol[(tr.alcohol["sex"] == "Persons")]
    if a.empty:
        return ""
    latest = a.loc[a["time_period_sortable"].idxmax(), "time_period"]
    cdp = a[(a["area_role"] == "cdp") & (a["time_period"] == latest)]
    eng = a[(a["area_role"] == "england") & (a["time_period"] == latest)]
    latest = latest.replace(" - ", "-")
    if cdp.empty or eng.empty or pd.isna(cdp["value"].iloc[0]):
        note = (cdp["value_note"].iloc[0] if len(cdp) else "") or "no published rate for this period in the data"
        return f"- Alcohol-specific mortality in {md(tr.cdp.name)}, {latest}: {note}."
    c, e = cdp.iloc[0], eng.iloc[0]
    words = {"Better": "significantly lower than", "Worse": "significantly higher than",
             "Similar": "not significantly different from"}.get(c["compared_to_england"], "not compared with")
    return (f"- Alcohol-specific mortality in {md(tr.cdp.name)}, {latest}: {c['value']:.1f} deaths per 100,000 a year "
            f"(age-standardised; {c['lower_ci']:.1f}–{c['upper_ci']:.1f}), {words} England ({e['value']:.1f}). The "
            "latest period in the data; no trend test (overlapping periods).")


def _selection(tr: Trends) -> str:
    return {"wbic": "weighted BIC (the default of the NCI Joinpoint program, version 5)",
            "bic": "BIC (set in the params file; the Joinpoint program's default is the weighted BIC)"}[
        tr.settings.joinpoint_selection]


def population_note(tr: Trends) -> str:
    """How counts become rates: the offset, the populations' sources and years, read from the trends table."""
    rate = tr.trends[(tr.trends["quantity"] == RATE) & (tr.trends["method"] == "poisson regression")
                     & tr.trends["area_role"].isin(["cdp", "england"])]
    first = rate["period_start"].astype(int).min() if len(rate) else None
    held = f" (from {first}, the first year whose population is in the data)" if first else ""
    return ("- Death and treatment trends are tested as **rates per head of population** (a Poisson model of the "
            "annual numbers with the log of each year's residents, all ages, as an offset) wherever every year's "
            f"population is held{held}: ONS's MYEB3 back-series, then the yearly mid-year estimates (those since the "
            "latest census are based on it and the earlier ones are not rebased, so a small step remains at the "
            "census year). Earlier years are tested only as numbers; the trend in numbers of every series is kept in "
            "the CSV (quantity 'number') and drawn as bars. A financial year is put over the mid-year inside it.")


def registration_note(tr: Trends) -> str:
    """Deaths are counted by year of registration: the median delay from death to registration in England for the
    latest years of the deaths series, read from ONS Table 10."""
    d = tr.delays
    if d.empty:
        return "- Deaths are counted by year of **registration**, which can be months or years after the death (inquests)."
    days = ", ".join(f"{r.median_delay_days:.0f} days in {r.year}" for r in d.itertuples())
    return ("- Deaths are counted by the year they were **registered**, after the coroner's inquest, not the year they "
            f"happened. For drug-misuse deaths in England the median time from death to registration was {days} "
            "(ONS, Table 10): each year's registrations include many deaths of earlier years, and a longer delay "
            "moves deaths into later registration years, so a change in registrations over these years can partly "
            "reflect when inquests were held rather than when deaths happened.")


def notes_text(tr: Trends) -> str:
    """Methods and caveats as Markdown."""
    lines = [
        population_note(tr),
        registration_note(tr),
        "- **Direction of travel** (the key findings): the latest joinpoint segment, or where no joinpoint is found "
        f"the latest {tr.settings.comparison_years} years (Poisson trend); the years are named in each sentence. A "
        f"series or segment with fewer than {stats.MIN_EVENTS} events in its years gets no percentage ('too few "
        "events').",
        f"- **Against England**: each area's trend over the latest {tr.settings.comparison_years} years held by both "
        "is set against England's over the same years, each fitted separately with its own dispersion (Poisson, or "
        "quasi-Poisson where its own counts are overdispersed); the difference of the two slopes is tested at 5% "
        "(`comparison_years` in the params file).",
        "- The average annual percentage change (AAPC) summarises the whole series; where joinpoints were found, "
        "each segment's own annual percentage change is in the CSV table (method 'joinpoint segment').",
        f"- Joinpoints are chosen by the {_selection(tr)} among 0 to {tr.settings.max_joinpoints} with at least "
        f"{tr.settings.min_points} years in each segment; every test is at 5%. No test is run on fewer than "
        f"{stats.MIN_POINTS} years or {stats.MIN_EVENTS} events ('too few events'); see docs/methods.md §9.",
        "- The Fingertips recent-trend marker uses the last five annual points of a proportion (chi-square test "
        "for trend at 99.8%, with the logit leave-one-out check). For the Crime Survey it uses the latest five "
        "consecutive survey years and each year's effective sample (respondents ÷ design factor²), because the "
        "published percentages are weighted.",
        "- Alcohol-specific mortality is published for 3-year periods that overlap, so consecutive values share two "
        "years of deaths and are not independent points; it is shown, and compared with England, but not tested "
        "for trend. Areas created after the latest period have no published rate unless their boundary is "
        "that of a former area.",
        "- National context: deaths mentioning a substance count a death once for each substance named on the "
        "certificate, so substances do not add up; the figures are for England and Wales together (ONS publishes "
        "substances for no smaller area). The Crime Survey covers 16 to 59 year olds in households in England and "
        "Wales.",
    ]
    if len(tr.cdp.members) > 1:
        lines.append("- ONS publishes no age-standardised rate for the partnership as a whole; its members' rates are "
                     "shown. Deaths of the partnership are the sum of its members'; its crude rate and its "
                     "indirectly standardised ratio are computed from the members' deaths and populations, never by "
                     "averaging published rates.")
    lines.append("- Indirect standardisation: expected deaths = Σ over ONS's age groups (under 20 … 70 and over) of "
                 "England's deaths ÷ England's population × the area's population, for the same three years and the "
                 "mid-period population; the ratio's limits are exact (under 10 deaths) or Byar's (statistics core).")
    notes = tr.deaths.loc[tr.deaths["area_role"].isin(["cdp", "member"]) & (tr.deaths["value_note"] != ""),
                          "value_note"].unique()
    lines += [f"- {n[0].upper() + n[1:]} (rows marked in the CSV)." for n in sorted(notes)]
    return "\n".join(lines)


# --- figures and tables -------------------------------------------------------------------------------------


def deaths_figure(tr: Trends) -> FigureOutput:
    """Registered drug-misuse deaths each year with the joinpoint fit (95% band), the CDP and England."""
    cause = CAUSES[0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    data = []
    for ax, role, colour in ((axes[0], "cdp", figures.CDP_COLOUR), (axes[1], "england", figures.ENGLAND_COLOUR)):
        d = _annual_series(tr.deaths, cause, role)
        if d.empty:
            continue
        data.append(d)
        ax.bar(d["year"], d["value"], color=colour, label="Registered deaths")
        jp = tr.fits[cause].get(role)
        if jp is not None and len(jp["fitted"]):
            f = jp["fitted"]
            ax.fill_between(f.index, f["lower_ci"], f["upper_ci"], color="#0b0c0c", alpha=0.15, linewidth=0,
                            label="95% limits of the fit")
            ax.plot(f.index, f["fitted"], color="#0b0c0c", linewidth=2,
                    linestyle=figures.ENGLAND_LINESTYLE if role == "england" else "-",
                    label="Joinpoint fit of the rate (as deaths)")
            for j in jp["joinpoints"]:
                ax.axvline(j, color="#0b0c0c", linestyle=":", linewidth=1)
                ax.annotate(f"joinpoint {j}", (j, ax.get_ylim()[1] * 0.95), fontsize=8, ha="right", rotation=90,
                            va="top")
        ax.set_title(d["area_name"].iloc[0])
        ax.set_xlabel("Year of registration")
        ax.set_ylim(bottom=0)
    axes[0].set_ylabel("Deaths related to drug misuse (number)")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"Deaths related to drug misuse registered each year: {tr.cdp.name} and England")
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_drug_deaths')}; populations: ONS mid-year estimates. "
                             "The fit is of deaths per head of population, over the years whose population is held. "
                             "Dotted lines: joinpoints.")
    return FigureOutput("trends_drug_deaths", fig, data=pd.concat(data, ignore_index=True) if data else None)


def _rate_figure(d: pd.DataFrame, name: str, *, title: str, ylabel: str, source: str) -> FigureOutput:
    """Published 3-year rates with 95% limits over time: one line per area (England dashed, region without a
    band), periods in time order."""
    d = d.sort_values("time_period_sortable")
    periods = list(dict.fromkeys(d["time_period"]))
    x = {p: i for i, p in enumerate(periods)}
    fig, ax = plt.subplots(figsize=(10, 4.4))
    colours = iter(figures.QUALITATIVE)
    for (role, _code), s in d.groupby(["area_role", "area_code"], sort=False):
        colour = {"england": figures.ENGLAND_COLOUR, "region": figures.COMPARATOR_COLOUR}.get(role) or next(colours)
        style = figures.ENGLAND_LINESTYLE if role == "england" else "-"
        xs = s["time_period"].map(x)
        ax.plot(xs, s["value"], style, marker="o", markersize=3, color=colour, label=s["area_name"].iloc[0])
        if role != "region":
            ax.fill_between(xs, s["lower_ci"], s["upper_ci"], color=colour, alpha=0.15, linewidth=0)
    ax.set_xticks(range(len(periods)), periods, rotation=45, ha="right")
    ax.set_ylim(bottom=0)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("Years of registration (3-year pooled)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    figures.source_line(fig, source)
    return FigureOutput(name, fig, data=d)


def asmr_figure(tr: Trends) -> FigureOutput:
    """Published 3-year age-standardised drug-misuse death rates with limits: the CDP (or its members), the
    region and England."""
    d = tr.deaths[(tr.deaths["cause"] == CAUSES[0]) & (tr.deaths["measure"] == "asmr") & (tr.deaths["sex"] == "Persons")
                  & tr.deaths["area_role"].isin(["cdp", "member", "region", "england"]) & tr.deaths["value"].notna()]
    return _rate_figure(d, "trends_drug_misuse_rate", title=f"Drug-misuse death rate, {tr.cdp.name}, region and England",
                        ylabel="Deaths per 100,000 (age-standardised, 95% limits)",
                        source=f"Source: {figures.dataset_title('ons_drug_deaths')} (rates as published; none below 10 deaths).")


def alcohol_mortality_figure(tr: Trends) -> FigureOutput:
    """Alcohol-specific mortality (Fingertips 91380) with limits: the CDP (or its members), region and England."""
    a = tr.alcohol
    d = a[(a["sex"] == "Persons") & a["area_role"].isin(["cdp", "member", "region", "england"]) & a["value"].notna()]
    return _rate_figure(d, "trends_alcohol_specific_mortality",
                        title=f"Alcohol-specific mortality, {tr.cdp.name}, region and England",
                        ylabel="Deaths per 100,000 (standardised)",
                        source=f"Source: {figures.dataset_title('fingertips')}, indicator {ALCOHOL_MORTALITY} (as published).")


def substances_figure(tr: Trends) -> FigureOutput:
    """Deaths mentioning selected substances registered each year, England and Wales, with each series'
    joinpoint fit. The same for every CDP with the same trend settings: drawn once per process
    (``FigureOutput.same_inputs``)."""
    t = tr.substances
    fits = {s: (jp["fitted"], list(jp["joinpoints"])) for s, jp in tr.fits["substances"].items() if jp is not None}
    data = t.assign(area_code=_EW["area_code"], area_name=_EW["area_name"], area_role="national",
                    time_period=t["year"].astype(str), measure="deaths", value=t["deaths"], unit="deaths")
    parts = []
    for substance in SUBSTANCES:
        d = t[t["substance"] == substance].sort_values("year")
        if len(d):
            parts.append(f"{substance.split(' (')[0].lower()} {d['deaths'].iloc[-1]:,.0f} in {d['year'].iloc[-1]} "
                         f"({d['deaths'].iloc[0]:,.0f} in {d['year'].iloc[0]})")
    finding = "Drug-poisoning deaths registered in England and Wales mentioning " + "; ".join(parts)
    return FigureOutput("trends_deaths_by_substance", lambda: _substances_drawing(t, fits), finding=finding,
                        data=data[["area_code", "area_name", "area_role", "time_period", "measure", "substance",
                                   "value", "unit", "source"]], same_inputs=memo.content_key(t, fits))


def _substances_drawing(t: pd.DataFrame, fits: dict) -> plt.Figure:
    """The substances figure from the deaths (``Trends.substances``) and each substance's (fitted, joinpoints)."""
    fig, axes = plt.subplots(2, 3, figsize=(11, 6), sharex=True)
    for ax, substance in zip(axes.flat, SUBSTANCES):
        d = t[t["substance"] == substance].sort_values("year")
        ax.bar(d["year"], d["deaths"], color=figures.CDP_COLOUR, label="Registered deaths")
        fitted, joinpoints = fits.get(substance, (None, []))
        if fitted is not None and len(fitted):
            ax.fill_between(fitted.index, fitted["lower_ci"], fitted["upper_ci"], color="#0b0c0c", alpha=0.15,
                            linewidth=0, label="95% limits of the fit")
            ax.plot(fitted.index, fitted["fitted"], color="#0b0c0c", linewidth=1.5, label="Joinpoint fit")
            for j in joinpoints:
                ax.axvline(j, color="#0b0c0c", linestyle=":", linewidth=1)
        ax.set_title(substance.split(" (")[0], fontsize=10)
        ax.set_ylim(bottom=0)
    for ax in axes.flat:
        ax.set_ylabel("Deaths (number)")
        ax.set_xlabel("Year of registration")
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Drug-poisoning deaths mentioning each substance, England and Wales (dotted lines: joinpoints)")
    figures.source_line(fig, f"Source: {figures.dataset_title('ons_drug_deaths_national')}, Table 4. A death can "
                             "mention several substances.")
    return fig


def alcohol_mortality_output(tr: Trends) -> TableOutput:
    a = tr.alcohol[(tr.alcohol["sex"] == "Persons")
                   & tr.alcohol["area_role"].isin(["cdp", "member", "region", "england", "neighbour"])]
    latest = a.loc[a["time_period_sortable"].idxmax(), "time_period"] if len(a) else ""
    d = a[a["time_period"] == latest]
    order = {"cdp": 0, "member": 1, "region": 2, "england": 3, "neighbour": 4}
    d = d.assign(_r=d["area_role"].map(order)).sort_values(["_r", "area_name"])
    view = pd.DataFrame({
        "Area": d["area_name"], "Role": d["area_role"],
        "Deaths (3 years)": [f"{v:,.0f}" if pd.notna(v) else "" for v in d["count"]],
        "Rate per 100,000 (95% limits)": [with_limits(v, lo, hi, 1)
                                          for v, lo, hi in zip(d["value"], d["lower_ci"], d["upper_ci"])],
        "Compared with England": d["compared_to_england"], "Note": d["value_note"]}).set_index(["Area"])
    return TableOutput("alcohol_mortality", tr.alcohol, view=view,
                       caption=f"Alcohol-specific mortality, {latest}: directly standardised rate as OHID publishes it "
                               "and the comparison with England (95%). Every period, sex and comparator is in the CSV")


def trends_output(tr: Trends) -> TableOutput:
    t = tr.trends[tr.trends["method"] != "joinpoint segment"]
    order = {"cdp": 0, "member": 1, "region": 2, "england": 3}
    t = t.assign(_r=t["area_role"].map(order)).sort_values(["series", "_r", "method"])

    def fmt(r):
        if pd.isna(r.apc):
            return ""
        lim = "" if pd.isna(r.lower_ci) else f" ({r.lower_ci:+.1f} to {r.upper_ci:+.1f})"
        return f"{r.apc:+.1f}{lim}"

    # a result that gives its reason ('not tested: the periods overlap …') keeps its words in the table and
    # its reason in the row's note, with the model, so that each printed row stays a line high
    split = t["verdict"].str.extract(r"^((?:cannot be calculated|not tested)): (.+)$")
    result = split[0].fillna(t["verdict"])
    how = [". ".join(p[:1].upper() + p[1:] for p in (why, model) if isinstance(p, str) and p)
           for why, model in zip(split[1], t["model"])]
    view = pd.DataFrame({"Series": t["series"], "Area": t["area_name"], "Method": t["method"],
                         "Of": t["quantity"].replace({"": "–"}),
                         "Years": t["period_start"] + "–" + t["period_end"],
                         "Change a year (95% limits)": [fmt(r) for r in t.itertuples()],
                         "Joinpoints": t["joinpoints"], "Result": result,
                         "How": how}).set_index(["Series", "Area", "Method", "Of"])
    return TableOutput("trends", tr.trends, view=view, notes=("How",),
                       caption="Trend tests of rates per head of population and of numbers: annual percentage change, "
                               "joinpoint average annual percentage change, the change over the latest years, the "
                               "direction of travel ('latest trend': the latest joinpoint segment, or the latest years "
                               "where there is no joinpoint), the comparison with England over the same latest years, "
                               "and the Fingertips marker (percentage points a year). How each was fitted, and why a test was not made, is "
                               "in the notes under the table; segments are in the CSV",
                       decided_by=tr.trends_decided_by)


def deaths_output(tr: Trends) -> TableOutput:
    d = tr.deaths[(tr.deaths["measure"] == "asmr") & (tr.deaths["sex"] == "Persons")
                  & tr.deaths["area_role"].isin(["cdp", "member", "region", "england"])]
    latest = d["time_period"].max()
    d = d[d["time_period"] == latest]
    deaths = tr.deaths[(tr.deaths["measure"] == "deaths") & (tr.deaths["time_period"] == latest)
                       & (tr.deaths["sex"] == "Persons")].set_index(["area_code", "cause"])["value"]
    order = {"cdp": 0, "member": 1, "region": 2, "england": 3}
    d = d.assign(_r=d["area_role"].map(order)).sort_values(["cause", "_r", "area_name"])
    view = pd.DataFrame({
        "Cause": d["cause"], "Area": d["area_name"],
        "Deaths": [f"{deaths.get((a, c), np.nan):,.0f}" for a, c in zip(d["area_code"], d["cause"])],
        "Rate per 100,000 (95% limits)": [with_limits(v, lo, hi, 1)
                                          for v, lo, hi in zip(d["value"], d["lower_ci"], d["upper_ci"])],
        "Note": d["value_note"]}).set_index(["Cause", "Area"])
    return TableOutput("drug_deaths", tr.deaths, view=view,
                       caption=f"Deaths related to drug misuse and drug poisoning, {latest} (registrations pooled over "
                               "three years) and the age-standardised rate as published. Every year is in the CSV")


# --- standardised rates for any CDP: the table view and the sentence -----------------------------------------


def standardised_output(tr: Trends) -> TableOutput:
    t = tr.standardised
    if t.empty:
        view = pd.DataFrame({"Standardised rates": ["no 3-year period has both its population and England's "
                                                    "deaths by age in the data"]})
    else:
        order = {"cdp": 0, "member": 1, "region": 2}
        t = t.assign(_r=t["area_role"].map(order)).sort_values(["cause", "_r", "area_name", "measure"])
        wide = t.pivot_table(index=["cause", "_r", "area_name"], columns="measure", values=["value", "lower_ci",
                                                                                               "upper_ci", "count"],
                             aggfunc="first")

        def fmt(m, digits):
            return [with_limits(v, lo, hi, digits) for v, lo, hi in
                    zip(wide[("value", m)], wide[("lower_ci", m)], wide[("upper_ci", m)])]

        cmp = t[t["measure"] == "indirectly standardised ratio"].set_index(["cause", "_r", "area_name"])
        view = pd.DataFrame({
            "Deaths": [f"{v:,.0f}" for v in wide[("count", "crude rate")]],
            "Crude rate per 100,000 a year (95% limits)": fmt("crude rate", 1),
            "Ratio to England, age-standardised (95% limits)": fmt("indirectly standardised ratio", 2),
            "Compared with England": cmp["compared_to_england"].reindex(wide.index).to_numpy(),
        }, index=wide.index).droplevel("_r")
        view.index.names = ["Cause", "Area"]
    period = tr.standardised["time_period"].iloc[0] if len(tr.standardised) else ""
    return TableOutput("drug_deaths_standardised", tr.standardised, view=view,
                       caption=f"Deaths {period}: crude rate, and the ratio of observed to expected deaths at "
                               "England's age-specific rates (indirect standardisation; 1 = England). Computed here "
                               "from published counts and populations, for any CDP including one of several areas")


def standardised_sentence(tr: Trends) -> str:
    """The CDP's indirectly standardised ratio for drug-misuse deaths, in words ('' if none)."""
    t = tr.standardised
    r = t[(t["area_role"] == "cdp") & (t["cause"] == CAUSES[0]) & (t["measure"] == "indirectly standardised ratio")]
    if r.empty:
        return ""
    r = r.iloc[0]
    diff = 100 * (r["value"] - 1)
    words = {"Better": "significantly below England", "Worse": "significantly above England",
             "Similar": "not significantly different from England"}[r["compared_to_england"]]
    lead = (f"ONS publishes no rate for {md(tr.cdp.name)} as a whole; combining its members' deaths and populations, "
            "there were" if len(tr.cdp.members) > 1 else "There were")
    return (f"- {lead} {r['count']:,.0f} drug-misuse deaths in {md(tr.cdp.name)} in {r['time_period']} against "
            f"{r['denominator']:,.0f} expected at England's age-specific rates: {abs(diff):.0f}% "
            f"{'fewer' if diff < 0 else 'more'} (ratio {r['value']:.2f}, {r['lower_ci']:.2f}–{r['upper_ci']:.2f}), "
            f"{words}{recording_caveat(tr, r) if r['compared_to_england'] == 'Better' else ''}.")


def recording_caveat(tr: Trends, misuse: pd.Series) -> str:
    """Words that qualify a drug-misuse ratio below England's: the share of the CDP's drug-poisoning deaths recorded
    as misuse against England's share for the same period (:func:`.compute.recording_shares`), and the poisoning
    ratio ('' if a count is missing).

    Whether a poisoning death counts as misuse depends on what the coroner records (an illicit drug named, or
    dependence), so a low misuse rate can be partly recording practice."""
    t = tr.standardised
    pois = t[(t["area_role"] == "cdp") & (t["cause"] == CAUSES[1]) & (t["measure"] == "indirectly standardised ratio")
             & (t["time_period"] == misuse["time_period"])]
    shares = recording_shares(tr.deaths, misuse["time_period"])
    if pois.empty or shares is None:
        return ""
    p = pois.iloc[0]
    return (f"; but {shares['cdp_share']:.0%} of its {shares['cdp_poisoning']:,.0f} drug-poisoning deaths were recorded "
            f"as drug misuse, against {shares['england_share']:.0%} in England, and whether a death counts as misuse "
            "depends on what the coroner records, so part of the difference may be recording practice (all drug "
            f"poisoning: ratio {p['value']:.2f}, {p['lower_ci']:.2f}–{p['upper_ci']:.2f})")
