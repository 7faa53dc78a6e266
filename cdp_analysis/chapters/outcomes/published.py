"""What the outcomes chapter adds to published figures (issue 25): 99.8% limits of published directly standardised
rates, derived from their 95% limits and count where those are Dobson's (and why other public metrics have none),
and the treatment metrics the NDTMS ViewIt exports a partnership names for chapter 3 can fill (adults in treatment
by substance group, successful completions: published counts, which NDTMS rounds to 5, so no local disclosure
control applies), and what chapter 4 says of published deaths (the
recording caveat beside a drug-misuse rate below England's, and the direction of travel of the rate). Imported
by :mod:`.compute`; imports nothing of the chapter.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ... import stats
from ...areas import geography
from ...areas.partnerships import Partnership
from ...data import ndtms_viewit
from ...data.register import cite
from ...output import consistency, tidy
from .. import treatment_gap, trends

_AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]

#: Public metrics whose 99.8% limits are derived here: directly standardised rates published with Dobson's 95%
#: limits and their total count (:func:`cdp_analysis.stats.dsr_limits_from_published`).
_DOBSON_998 = ("deaths.alcohol_specific",)
#: Why a public metric has no 99.8% comparison (the notes say it; nothing is invented).
NO_998 = {
    "deaths.drug_misuse": "ONS publishes the age-standardised rate with 95% limits only (not the variance or the "
                          "age-specific counts they come from), so its "
                          "99.8% limits cannot be derived",
    "treatment.alcohol_met_need": "the published limits carry the uncertainty of the estimated number of dependent "
                                  "drinkers, which is published at 95% only",
    "treatment.opiate_crack_met_need": "the published limits carry the uncertainty of OHID's estimated number of "
                                       "users, which is published at 95% only",
    "prevalence.opiate_crack_users": "OHID's modelled estimate is published with 95% limits only",
    "prevalence.any_drug_last_year": "a modelled estimate is not compared (its limits are national sampling error)",
}


#: Where each public metric is read from: metric_id → (an earlier chapter's table, its rows as column → regular
#: expression matched in full, the note a row gets instead of a comparison). The same declarations tell the
#: consistency check which figures the dashboard restates (:data:`RESTATES`).
PUBLIC = {
    "prevalence.any_drug_last_year": (
        "prevalence_drugs", {"drug": "Any drug", "recall_period": "last year", "measure": "percent of age group",
                             "method": "age-sex", "age_group": "16-59", "sex": "Persons"},
        "not compared: a modelled estimate applies national rates to the area's ages and sexes; its limits "
        "are the national survey's sampling error, not a measure of local precision"),
    "prevalence.opiate_crack_users": (
        "prevalence_ocu", {"measure": re.escape("rate per 1,000 aged 15-64"), "method": "OHID estimate.*"}, ""),
    "deaths.drug_misuse": ("drug_deaths", {"cause": "drug misuse", "measure": "asmr", "sex": "Persons"}, ""),
    "deaths.alcohol_specific": ("alcohol_mortality", {"sex": "Persons"}, ""),
    "treatment.alcohol_met_need": (
        "treatment_gap", {"substance": re.escape(treatment_gap.ALCOHOL), "measure": "met need"}, ""),
    "treatment.opiate_crack_met_need": (
        "treatment_gap", {"substance": re.escape(treatment_gap.OCU), "measure": "met need"}, ""),
}
#: Other computations of a public metric's quantity for the CDP: where one holds a CDP value, the dashboard must
#: not say the CDP has none (chapter 4's standardised ratio of a partnership without a published rate).
ALSO_COMPUTED = {"deaths.drug_misuse": (("drug_deaths_standardised", {"cause": "drug misuse",
                                                                     "measure": "indirectly standardised ratio"}),)}
#: The figures the dashboard restates from earlier chapters (checked by :mod:`cdp_analysis.output.consistency`).
RESTATES = tuple(consistency.Restatement(f"{metric_id} (outcomes dashboard)", "outcomes",
                                         {"metric_id": re.escape(metric_id)}, table, where,
                                         also_computed=ALSO_COMPUTED.get(metric_id, ()))
                 for metric_id, (table, where, _) in PUBLIC.items())


def _public_selections(tables: dict[str, pd.DataFrame]) -> dict[str, tuple[pd.DataFrame, str]]:
    """metric_id → (rows of the earlier chapter's table, comparison note)."""
    return {metric_id: (consistency.rows_where(tables[table], where), note)
            for metric_id, (table, where, note) in PUBLIC.items()}


def with_dobson_998(t: pd.DataFrame) -> pd.DataFrame:
    """Fill blank 99.8% limits of published directly standardised rates from their 95% limits and count, where
    those are Dobson's (checked, else left blank)."""
    t = t.copy()
    blank = t["lower_ci_998"].isna() & t["upper_ci_998"].isna()
    if blank.any():
        lo, up = stats.dsr_limits_from_published(t.loc[blank, "value"], t.loc[blank, "lower_ci"],
                                                 t.loc[blank, "upper_ci"], t.loc[blank, "count"], 0.998)
        t.loc[blank, "lower_ci_998"], t.loc[blank, "upper_ci_998"] = lo, up
    return t


#: Framework metrics filled from a partnership's NDTMS ViewIt exports: metric_id → (drug groups summed, the
#: export's count, the count it is a share of or None). Adults in treatment (the headline metric) and its four
#: NDTMS substance groups; successful completions as a share of adults in treatment.
VIEWIT_METRICS = {
    "treatment.adults_in_treatment": (("all",), "in_treatment", None),
    "treatment.adults_opiate": (("opiate",), "in_treatment", None),
    "treatment.adults_non_opiate_only": (("non-opiate only",), "in_treatment", None),
    "treatment.adults_alcohol_only": (("alcohol only",), "in_treatment", None),
    "treatment.adults_non_opiate_and_alcohol": (("non-opiate and alcohol",), "in_treatment", None),
    "recovery.successful_completions": (("all",), "exits_successfulcompletion_allintx", "in_treatment"),
}
#: The value note of a ViewIt row.
VIEWIT_NOTE = "NDTMS ViewIt export (counts rounded to 5 by NDTMS)"
#: Why a share from ViewIt is not compared with England.
NO_ENGLAND_SHARE = ("not compared: England's ViewIt export holds adults in treatment only; the percentage and its "
                    "limits are computed from the rounded counts")


def _viewit_counts(t: pd.DataFrame, groups: tuple[str, ...], measure: str) -> pd.DataFrame:
    """``period, area_name, value, source`` of one count (empty where the export lacks the measure)."""
    if measure not in t.columns:
        return pd.DataFrame(columns=["period", "area_name", "value", "source"])
    return ndtms_viewit.in_treatment(t, drug_groups=groups, measure=measure)


def _viewit_pair(t: pd.DataFrame, groups: tuple[str, ...], measure: str, base: str | None) -> pd.DataFrame:
    """``period, area_name, count[, denominator], source`` of one ViewIt metric."""
    x = _viewit_counts(t, groups, measure).rename(columns={"value": "count"})
    if base is None:
        return x
    n = _viewit_counts(t, groups, base).rename(columns={"value": "denominator"})
    return x.merge(n[["period", "area_name", "denominator"]], on=["period", "area_name"])


def _viewit_areas(cdp: Partnership, got: pd.DataFrame, eng: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The rows of one ViewIt metric: the partnership where every member is in the exports (the sum of its
    members), each member of a partnership of several, and England for the periods the partnership has."""
    ra = cdp.reporting_areas()
    names = {geography.name_of(m): m for m in cdp.members}
    rows = []
    for period, g in got.groupby("period"):
        held = g[g["area_name"].isin(names)].dropna(subset=columns)
        if set(held["area_name"]) == set(names):
            rows.append({**ra[ra["area_role"] == "cdp"].iloc[0][_AREA].to_dict(), "time_period": period,
                         **{c: float(held[c].sum()) for c in columns}, "source": cite(*held["source"].unique())})
        if len(cdp.members) > 1:
            for r in held.itertuples():
                m = ra[ra["code"] == names[r.area_name]]
                if len(m):
                    rows.append({**m.iloc[0][_AREA].to_dict(), "time_period": period,
                                 **{c: float(getattr(r, c)) for c in columns}, "source": r.source})
    if not rows:
        return pd.DataFrame()
    periods = {r["time_period"] for r in rows}
    england = ra[ra["area_role"] == "england"]
    for r in eng.dropna(subset=columns)[eng["period"].isin(periods)].itertuples() if len(england) else ():
        rows.append({**england.iloc[0][_AREA].to_dict(), "time_period": r.period,
                     **{c: float(getattr(r, c)) for c in columns}, "source": r.source})
    return pd.DataFrame(rows)


def viewit_metrics(cdp: Partnership) -> pd.DataFrame:
    """The framework metrics of :data:`VIEWIT_METRICS` from the NDTMS ViewIt exports the partnership names for
    chapter 3 (``treatment_gap: viewit``), persons aged 18 and over, every period: the partnership where every
    member is in the exports, each member, and England from the bundled England export where it holds the count
    (it holds adults in treatment by substance group, not completions).

    Published counts (NDTMS rounds local counts to 5), so no local disclosure control applies. Counts are not
    compared with England. A share x/n is the export's rounded counts with Wilson 95% and 99.8% limits
    (:func:`cdp_analysis.stats.proportion`), compared with England's where England's export holds it. Empty when
    the partnership names no export."""
    files = cdp.chapter_settings("treatment_gap").files("viewit", where="parameter")
    if not files:
        return pd.DataFrame()
    exports = [ndtms_viewit.read_export(f) for f in files]
    eng_export = ndtms_viewit.england()
    parts = []
    for metric_id, (groups, measure, base) in VIEWIT_METRICS.items():
        got = pd.concat([_viewit_pair(t, groups, measure, base) for t in exports],
                        ignore_index=True).drop_duplicates(["period", "area_name"])
        t = _viewit_areas(cdp, got, _viewit_pair(eng_export, groups, measure, base),
                          ["count"] if base is None else ["count", "denominator"])
        if t.empty:
            continue
        if base is None:
            t = t.assign(value=t["count"], compared_to_england=np.where(t["area_role"] == "england", "",
                                                                         "Not compared"),
                         compared_to_england_998="")
        else:
            p = tidy.from_stats(stats.proportion(t.reset_index(), "count", "denominator", group_by="index",
                                                 confidence=(0.95, 0.998), multiplier=100)).set_index("index")
            t = t.join(p[["value", "lower_ci", "upper_ci", "lower_ci_998", "upper_ci_998"]])
            # England's export holds adults in treatment only: a share has no England row to compare with
            t = t.assign(compared_to_england=np.where(t["area_role"] == "england", "", "Not compared"),
                         compared_to_england_998="")
        note = VIEWIT_NOTE if base is None else VIEWIT_NOTE + "; " + NO_ENGLAND_SHARE
        parts.append(t.assign(metric_id=metric_id, status="computed", origin="published", value_note=note,
                              comparison_caveat=""))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


#: A CDP row without a published figure of its own whose members' published figures are shown, with the CDP's
#: standardised ratio; and one with only the ratio (a single area for which no rate is published).
MEMBERS_ONLY = "members only"
RATIO_ONLY = "ratio only"


def cdp_ratio(ratios: pd.DataFrame, cause: str, period: str) -> pd.Series | None:
    """Chapter 4's indirectly standardised ratio of the partnership for ``cause`` and ``period`` (its row of
    ``drug_deaths_standardised``), or None."""
    r = ratios[(ratios["area_role"] == "cdp") & (ratios["cause"] == cause) & (ratios["time_period"] == period)
               & (ratios["measure"] == "indirectly standardised ratio") & ratios["value"].notna()]
    return None if r.empty else r.iloc[0]


def members_only(t: pd.DataFrame, ratios: pd.DataFrame, cause: str, polarity: str) -> pd.DataFrame:
    """A partnership with no published rate as a whole (several areas, or one for which ONS publishes no rate):
    the CDP's row gives its members' published rates for the period where there are any (status 'members only')
    and chapter 4's indirectly standardised ratio of the partnership for that period, compared with England's
    (1) by its 95% limits (status 'ratio only' when it is all there is) — the partnership's own figure, never a
    sum or mean of its members' rates."""
    t = t.copy()
    for i in t.index[(t["area_role"] == "cdp") & t["value"].isna()]:
        period = t.at[i, "time_period"]
        members = t[(t["area_role"] == "member") & (t["time_period"] == period) & t["value"].notna()]
        r = cdp_ratio(ratios, cause, period)
        has_ratio = r is not None
        if members.empty and not has_ratio:
            continue
        note = t.at[i, "value_note"] or "no published rate for the partnership as a whole"
        if len(members):
            words = ", ".join(f"{r.area_name} {r.value:.1f}" for r in members.itertuples())
            note = (f"no published rate for the partnership as a whole; its members' age-standardised rates per "
                    f"100,000: {words}")
        if has_ratio:
            cmp = stats.compare_to_benchmark(pd.DataFrame([r]), "value", "lower_ci", "upper_ci", 1.0,
                                             polarity=polarity)["comparison"].iloc[0]
            note += (f"; the partnership's deaths were {r['value']:.2f} ({r['lower_ci']:.2f} to {r['upper_ci']:.2f}) "
                     f"times the number expected at England's age-specific rates, {period} (indirectly standardised "
                     f"ratio, chapter 4: {str(cmp).lower()} to England)")
            t.at[i, "compared_to_england"] = str(cmp)
        t.at[i, "value_note"], t.at[i, "status"] = note, MEMBERS_ONLY if len(members) else RATIO_ONLY
    return t


def recording_caveat(t: pd.DataFrame, deaths: pd.DataFrame) -> np.ndarray:
    """For drug-misuse death rates below England's, the words that must be read with 'better': the share of the
    CDP's drug-poisoning deaths recorded as misuse against England's in the same period (chapter 4's
    :func:`cdp_analysis.chapters.trends.recording_shares`); '' elsewhere."""
    out = np.full(len(t), "", dtype=object)
    for i, (role, cmp, period) in enumerate(zip(t["area_role"], t["compared_to_england"], t["time_period"])):
        shares = trends.recording_shares(deaths, period) if role == "cdp" and cmp == "Better" else None
        if shares is not None:
            out[i] = (f"{shares['cdp_share']:.0%} of the partnership's drug-poisoning deaths in {period} were recorded as "
                      f"drug misuse against {shares['england_share']:.0%} in England: whether a death counts as misuse "
                      "depends on what the coroner records, so part of the difference may be recording practice")
    return out


def public_trends(cdp: Partnership, tr: pd.DataFrame) -> dict[str, str]:
    """Chapter 4's tested trends for the public metrics of the CDP (metric_id → words): for drug-misuse deaths the
    direction of travel and, in chapter 4's own words, how it compares with England's over the same years."""
    t = tr[tr["area_role"] == "cdp"]
    out = {}
    r, versus = trends.headline_rows(tr, "deaths related to drug misuse", "cdp")
    if r is not None:
        what = "rate per head" if r["quantity"] == trends.RATE else "numbers"
        change = "" if pd.isna(r["apc"]) else f", {r['apc']:+.1f}% a year ({r['lower_ci']:+.1f}% to {r['upper_ci']:+.1f}%)"
        if versus is None:
            against = ""
        else:  # the area's slope is said already where the comparison's years are the direction of travel's
            same = versus["area"] is not None and (versus["area"][["period_start", "period_end", "quantity"]]
                                                   == r[["period_start", "period_end", "quantity"]]).all()
            words = trends.versus_words(versus, area_said=same)
            against = "; " + (words if words.startswith("England") else words[:1].lower() + words[1:])
        out["deaths.drug_misuse"] = (f"registered deaths ({what}) {r['verdict']}{change}, {r['period_start']} to "
                                     f"{r['period_end']}{against} (chapter 4 gives the method)")
    met = t[(t["series"] == "alcohol met need (dependent drinkers in treatment)")
            & (t["method"] == "Fingertips recent trend")]
    if len(met):
        r = met.iloc[0]
        out["treatment.alcohol_met_need"] = (f"{r['verdict']} ({r['period_start']} to {r['period_end']}, "
                                             "Fingertips recent trend)")
    return out
