"""What the outcomes chapter adds to published figures (issue 25): 99.8% limits of published directly standardised
rates, derived from their 95% limits and count where those are Dobson's (and why other public metrics have none),
and adults in treatment from the NDTMS ViewIt exports a partnership names for chapter 3 (published counts, which
NDTMS rounds to 5: no local disclosure control applies), and what chapter 4 says of published deaths (the
recording caveat beside a drug-misuse rate below England's, and the direction of travel of the rate). Imported
by :mod:`.compute`; imports nothing of the chapter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ... import stats
from ...areas import geography
from ...areas.partnerships import Partnership
from ...data import ndtms_viewit
from ...data.register import cite
from .. import trends

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


def viewit_adults(cdp: Partnership) -> pd.DataFrame:
    """Adults in treatment (the framework's headline metric, all substance groups, persons aged 18 and over) from
    the NDTMS ViewIt exports the partnership names for chapter 3 (``treatment_gap: viewit``), every period: the
    partnership where every member is in the exports (the sum of its members), each member, and England from the
    bundled England export. Published counts (NDTMS rounds them to 5), so no local disclosure control; counts are
    not compared with England. Empty when the partnership names no export."""
    files = cdp.chapter_settings("treatment_gap").files("viewit", where="parameter")
    if not files:
        return pd.DataFrame()
    got = pd.concat([ndtms_viewit.in_treatment(ndtms_viewit.read_export(f), drug_groups=("all",)) for f in files],
                    ignore_index=True).drop_duplicates(["period", "area_name"])
    eng = ndtms_viewit.in_treatment(ndtms_viewit.england(), drug_groups=("all",))
    ra = cdp.reporting_areas()
    names = {geography.name_of(m): m for m in cdp.members}
    rows = []
    for period, g in got.groupby("period"):
        held = g[g["area_name"].isin(names)]
        if set(held["area_name"]) == set(names):
            rows.append({**ra[ra["area_role"] == "cdp"].iloc[0][_AREA].to_dict(), "time_period": period,
                         "value": float(held["value"].sum()), "source": cite(*held["source"].unique())})
        if len(cdp.members) > 1:
            for r in held.itertuples():
                m = ra[ra["code"] == names[r.area_name]]
                if len(m):
                    rows.append({**m.iloc[0][_AREA].to_dict(), "time_period": period, "value": float(r.value),
                                 "source": r.source})
    if not rows:
        return pd.DataFrame()
    periods = {r["time_period"] for r in rows}
    england = ra[ra["area_role"] == "england"]
    for r in eng[eng["period"].isin(periods)].itertuples():
        if len(england):
            rows.append({**england.iloc[0][_AREA].to_dict(), "time_period": r.period, "value": float(r.value),
                         "source": r.source})
    t = pd.DataFrame(rows)
    return t.assign(metric_id="treatment.adults_in_treatment", count=t["value"], status="computed",
                    origin="published", value_note="NDTMS ViewIt export (counts rounded to 5 by NDTMS)",
                    compared_to_england=np.where(t["area_role"] == "england", "", "Not compared"),
                    compared_to_england_998="", comparison_caveat="")


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
    """Chapter 4's tested trends for the public metrics of the CDP (metric_id → words)."""
    t = tr[tr["area_role"] == "cdp"]
    out = {}
    head = t[(t["series"] == "deaths related to drug misuse") & (t["method"] == "latest trend")]
    if len(head):
        r = head.iloc[0]
        what = "rate per head" if r["quantity"] == trends.RATE else "numbers"
        change = "" if pd.isna(r["apc"]) else f", {r['apc']:+.1f}% a year ({r['lower_ci']:+.1f}% to {r['upper_ci']:+.1f}%)"
        out["deaths.drug_misuse"] = (f"registered deaths ({what}) {r['verdict']}{change}, {r['period_start']} to "
                                     f"{r['period_end']} (direction of travel: {r['model']}; chapter 4)")
    met = t[(t["series"] == "alcohol met need (dependent drinkers in treatment)")
            & (t["method"] == "Fingertips recent trend")]
    if len(met):
        r = met.iloc[0]
        out["treatment.alcohol_met_need"] = (f"{r['verdict']} ({r['period_start']} to {r['period_end']}, "
                                             "Fingertips recent trend)")
    return out
