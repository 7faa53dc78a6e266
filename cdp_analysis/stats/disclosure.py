"""Statistical disclosure control of counts from local (unpublished) data.

A partnership's own data (police incidents, NDTMS local reports, provider caseloads, school programmes) can
identify people when counts are small. Every such count passes through :func:`suppress` before any table,
figure, sentence or notebook is written; published data (ONS, OHID) pass through as published.

Rules
-----
1. **Primary.** A count *c* with 1 ≤ *c* < ``threshold`` (default 5: counts 1–4) is suppressed. Zero is shown:
   it is a structural fact about the service, not a small group of people.
2. **Complement.** For a proportion *x*/*n*, a complement *n* − *x* with 1 ≤ *n* − *x* < ``threshold`` discloses
   the few people *without* the attribute, so *x* is suppressed as well.
3. **Secondary.** For every additive relation (a total and the parts that add up to it, e.g. a partnership and
   its member areas, or all criminal-justice referrals and the mandatory and voluntary ones) in which exactly one
   cell is suppressed, the suppressed value could be recovered by subtraction; the smallest other cell that is
   not yet suppressed (a part, or the total when every part is) is suppressed too. Repeated until no relation
   has exactly one suppressed cell (a cell can belong to several relations, so one pass is not enough).
4. **Derived values.** A rate or percentage (and its limits) whose numerator or denominator is suppressed is
   suppressed (:func:`derived_mask`).

This is the cell-suppression method of the ONS and NHS England disclosure-control guidance for tables of
counts; the threshold is a parameter (an information governance lead may require a higher one, e.g. 8).

Policies
--------
A :class:`Policy` names the threshold and the rounding (:data:`POLICIES`, :func:`policy`):

* ``nhs-england`` (the default): NHS England's practice for HES and ECDS (since 2018): counts 1–7 are suppressed
  (threshold 8) and every other local count is rounded to the nearest 5 (:func:`round_counts`, halves up);
  rates and percentages are computed from the unrounded counts, and a value note says so.
* ``suppress-below-threshold``: counts 1 to ``threshold − 1`` suppressed (default 5), nothing rounded (this
  suite's rule before issue 25).

Zero is shown under every policy (rounding keeps it 0): it is a structural fact, not a small group of people.

Audit
-----
The rules above are necessary, not sufficient: a cell can still be worked out through several relations at once
(a three-part hierarchy, a rolling multi-year total, a published rate and its denominator). :func:`audit`
computes, for every suppressed count, the interval a reader could deduce from everything published, by linear
programming, and suppresses more until every interval is at least the protection width, or raises
:class:`DisclosureAuditError`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_THRESHOLD", "DEFAULT_POLICY", "POLICIES", "Policy", "policy", "round_counts", "suppress",
           "derived_mask", "small_counts", "audit", "deducible_intervals", "DisclosureAuditError"]

#: Counts from 1 to ``DEFAULT_THRESHOLD - 1`` are suppressed unless a run sets another threshold.
DEFAULT_THRESHOLD = 5
#: ``suppression`` reasons, in the order they are applied.
REASONS = ("primary", "complement", "secondary", "audit")


def small_counts(values, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """True where a count is disclosive on its own: 1 ≤ value < ``threshold`` (missing values are not)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (v >= 1) & (v < threshold)


def suppress(cells: pd.DataFrame, *, threshold: int = DEFAULT_THRESHOLD, key: str = "cell", count: str = "count",
             complement_of: str | None = None, relations: pd.DataFrame | None = None) -> pd.DataFrame:
    """Primary, complementary and secondary suppression of a set of count cells.

    Parameters
    ----------
    cells : DataFrame
        One row per count cell: a unique ``key`` and its ``count`` (people, incidents; whole numbers ≥ 0 or
        missing).
    threshold : int, default 5
        Counts from 1 to ``threshold − 1`` are suppressed (rule 1). Must be at least 2.
    key, count : str
        Column names of the cell identifier and of the count.
    complement_of : str, optional
        Column giving, for a numerator cell, the ``key`` of its denominator cell (missing for other cells):
        the complement denominator − numerator is checked (rule 2).
    relations : DataFrame, optional
        Additive relations, long format: ``relation`` (any id), ``cell`` (a ``key``) and ``role`` ('total' or
        'part'); each relation has one total and one or more parts (rule 3). Cells named here but missing from
        ``cells`` (e.g. a member area that supplied nothing) are ignored.

    Returns
    -------
    DataFrame
        ``cells`` with ``suppressed`` (bool) and ``suppression`` ('' or the first rule that applied:
        'primary', 'complement', 'secondary').
    """
    if threshold < 2:
        raise ValueError(f"threshold must be at least 2, got {threshold}")
    out = cells.copy()
    if out[key].duplicated().any():
        raise ValueError(f"cell keys are not unique: {out.loc[out[key].duplicated(), key].iloc[0]!r}")
    values = pd.to_numeric(out[count], errors="coerce")
    reason = pd.Series("", index=out.index, dtype=object)
    reason[small_counts(values, threshold)] = "primary"
    if complement_of is not None:
        by_key = pd.Series(values.to_numpy(), index=out[key])
        denom = out[complement_of].map(by_key)
        rest = denom - values
        comp = small_counts(rest, threshold) & (reason == "").to_numpy()
        reason[comp] = "complement"
    if relations is not None and len(relations):
        reason = _secondary(out[key], values, reason, relations)
    n = {r: int((reason == r).sum()) for r in REASONS}
    if any(n.values()):
        log.info("suppressed %d primary, %d complementary and %d secondary cell(s) (threshold %d)",
                 n["primary"], n["complement"], n["secondary"], threshold)
    return out.assign(suppressed=reason != "", suppression=reason)


def _secondary(keys: pd.Series, values: pd.Series, reason: pd.Series, relations: pd.DataFrame) -> pd.Series:
    bad = set(relations["role"]) - {"total", "part"}
    if bad:
        raise ValueError(f"relation roles must be 'total' or 'part', got {sorted(bad)}")
    reason = reason.copy()
    position = pd.Series(np.arange(len(keys)), index=keys.to_numpy())
    rel = relations[relations["cell"].isin(position.index)].copy()
    rel["pos"] = rel["cell"].map(position).astype(int)
    rel["value"] = values.to_numpy()[rel["pos"].to_numpy()]
    # deterministic order: relation, then parts before the total, smallest value first, then key
    rel = rel.sort_values(["relation", "role", "value", "cell"], ascending=[True, False, True, True], kind="mergesort")
    groups = [g for _, g in rel.groupby("relation", sort=True)]
    changed = True
    while changed:
        changed = False
        hidden = (reason != "").to_numpy().copy()
        for g in groups:
            pos = g["pos"].to_numpy()
            if hidden[pos].sum() != 1:
                continue
            parts = g[(g["role"] == "part") & ~hidden[pos]]
            candidates = parts if len(parts) else g[~hidden[pos]]
            # a zero part recovers nothing: prefer a non-zero cell, smallest first
            nonzero = candidates[candidates["value"].fillna(0) > 0]
            pick = (nonzero if len(nonzero) else candidates).iloc[0]["pos"]
            reason.iloc[pick] = "secondary"
            hidden[pick] = True
            changed = True
    return reason


def derived_mask(numerator_suppressed, denominator_suppressed=None) -> np.ndarray:
    """True where a value derived from a numerator and a denominator (a rate, a percentage, its limits)
    must be suppressed: either input is (rule 4)."""
    mask = np.asarray(numerator_suppressed, dtype=bool)
    if denominator_suppressed is not None:
        mask = mask | np.asarray(denominator_suppressed, dtype=bool)
    return mask


# --- policies ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """A disclosure-control policy for local counts.

    Attributes
    ----------
    name : str
        The setting's value (``disclosure_policy``).
    threshold : int
        Counts *c* with 1 ≤ *c* < ``threshold`` are suppressed.
    rounding : int
        Every other count is shown rounded to the nearest ``rounding`` (1: not rounded).
    description : str
        One sentence for notes and ``run.json``.
    """

    name: str
    threshold: int
    rounding: int
    description: str

    @property
    def protection_width(self) -> float:
        """The narrowest interval a suppressed count may be deduced to: the threshold *t*. A reader who can
        only say 'between *a* and *a* + *t*' cannot tell a count of 1 from one of *t*, the range the primary rule
        hides."""
        return float(self.threshold)

    @property
    def half_width(self) -> float:
        """How far a shown (rounded) count can be from the true count: ``rounding`` / 2 (0 when not rounded)."""
        return self.rounding / 2 if self.rounding > 1 else 0.0

    def summary(self) -> dict:
        return {"policy": self.name, "threshold": self.threshold, "rounding": self.rounding,
                "description": self.description}


#: NHS England's HES/ECDS threshold: counts 1–7 are suppressed.
NHS_ENGLAND_THRESHOLD = 8
#: The policy used unless a run sets ``disclosure_policy``.
DEFAULT_POLICY = "nhs-england"
#: The named policies (``threshold`` of ``suppress-below-threshold`` is a setting, default 5).
POLICIES = ("nhs-england", "suppress-below-threshold")


def policy(name: str = DEFAULT_POLICY, threshold: int | None = None) -> Policy:
    """The :class:`Policy` called ``name``.

    Parameters
    ----------
    name : {'nhs-england', 'suppress-below-threshold'}
    threshold : int, optional
        ``nhs-england``: a higher threshold than 8 if an information governance lead asks (a lower one raises
        ``ValueError``); ``suppress-below-threshold``: the threshold (default 5, at least 2).
    """
    if name == "nhs-england":
        t = NHS_ENGLAND_THRESHOLD if threshold is None else int(threshold)
        if t < NHS_ENGLAND_THRESHOLD:
            raise ValueError(f"the nhs-england policy suppresses counts 1-7 (threshold 8); threshold {t} is lower")
        return Policy(name, t, 5, f"NHS England's practice (HES/ECDS): local counts 1-{t - 1} suppressed, other "
                                  "local counts rounded to the nearest 5, rates and percentages computed from the "
                                  "unrounded counts; zero shown")
    if name == "suppress-below-threshold":
        t = DEFAULT_THRESHOLD if threshold is None else int(threshold)
        if t < 2:
            raise ValueError(f"threshold must be at least 2, got {t}")
        return Policy(name, t, 1, f"local counts 1-{t - 1} suppressed, other counts shown unrounded; zero shown")
    raise ValueError(f"unknown disclosure policy {name!r}: use one of {', '.join(POLICIES)}")


def round_counts(values, base: int = 5) -> np.ndarray:
    """Counts rounded to the nearest ``base``, halves up: r = base · ⌊c / base + ½⌋ (0 stays 0; missing stays
    missing). ``base`` 1 returns the counts unchanged.

    Examples: 8 → 10, 12 → 10, 13 → 15, 0 → 0.
    """
    v = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
    if base <= 1:
        return v
    return base * np.floor(v / base + 0.5)


# --- the audit ---------------------------------------------------------------------------------------------------


class DisclosureAuditError(ValueError):
    """A suppressed count can be worked out from the published cells and no further suppression prevents it."""


def deducible_intervals(cells: pd.DataFrame, relations: pd.DataFrame | None = None,
                        ratios: pd.DataFrame | None = None, *, pol: Policy, key: str = "cell",
                        count: str = "count", suppressed: str = "suppressed") -> pd.DataFrame:
    """The interval a reader could deduce for every suppressed count, by linear programming.

    Variables are the true counts *x*ᵢ of the cells. A reader knows:

    * a shown count *ĉ*: *x* = *ĉ* when not rounded; |*x* − *ĉ*| ≤ *h* (*h* = rounding / 2, 2.5 for the nearest 5)
      when rounded; and, when *ĉ* > 0, *x* ≥ threshold (smaller counts are never shown); *ĉ* = 0 means *x* = 0;
    * a suppressed count: *x* ≥ 0;
    * every additive relation: *x*_total − Σ *x*_part = 0;
    * every shown rate *r* = *m* · *x*_num / *x*_den: *m* · *x*_num − *r* · *x*_den = 0 (exact: rates are
      computed from the unrounded counts).

    For each suppressed count *k*, ``lower`` = min *x*ₖ and ``upper`` = max *x*ₖ subject to the above
    (``scipy.optimize.linprog``, HiGHS); ``width`` = upper − lower (∞ when unbounded).

    Parameters
    ----------
    cells : DataFrame
        ``key``, ``count`` (the true, unrounded count; missing = not held, a free variable) and ``suppressed``.
    relations : DataFrame, optional
        ``relation``, ``cell``, ``role`` ('total' / 'part'), as for :func:`suppress`.
    ratios : DataFrame, optional
        One row per rate: ``cell`` (the rate's own key), ``numerator``, ``denominator`` (cell keys),
        ``multiplier`` (100 for a percentage), ``value`` (*r*) and ``suppressed``. A suppressed rate adds nothing.
    pol : Policy

    Returns
    -------
    DataFrame
        One row per suppressed count cell: ``cell``, ``lower``, ``upper``, ``width``.
    """
    from scipy.optimize import linprog  # imported here: a no-op `cdp run` imports this module but never SciPy

    keys = cells[key].astype(str).tolist()
    pos = {k: i for i, k in enumerate(keys)}
    true = pd.to_numeric(cells[count], errors="coerce").to_numpy(dtype=float)
    hidden = cells[suppressed].to_numpy(dtype=bool)
    shown = round_counts(true, pol.rounding)
    h = pol.half_width
    bounds = []
    for v, s, hid in zip(true, shown, hidden):
        if hid or np.isnan(v):
            bounds.append((0, None))
        elif s == 0:
            bounds.append((0, 0))
        else:
            bounds.append((max(s - h, pol.threshold if h else s), s + h))
    rows = []
    if relations is not None and len(relations):
        rel = relations[relations["cell"].astype(str).isin(pos)]
        for _, g in rel.groupby("relation", sort=True):
            row = np.zeros(len(keys))
            for c, role in zip(g["cell"].astype(str), g["role"]):
                row[pos[c]] += 1.0 if role == "total" else -1.0
            rows.append(row)
    if ratios is not None and len(ratios):
        for r in ratios.itertuples(index=False):
            if bool(r.suppressed) or pd.isna(r.value) or str(r.numerator) not in pos or str(r.denominator) not in pos:
                continue
            row = np.zeros(len(keys))
            row[pos[str(r.numerator)]] += float(r.multiplier)
            row[pos[str(r.denominator)]] -= float(r.value)
            rows.append(row)
    a_eq = np.array(rows) if rows else None
    b_eq = np.zeros(len(rows)) if rows else None
    out = []
    for k in np.flatnonzero(hidden):
        ends = []
        for sign in (1.0, -1.0):
            c = np.zeros(len(keys))
            c[k] = sign
            res = linprog(c, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
            if res.status == 3:  # unbounded
                ends.append(-math.inf * sign)
            elif res.status != 0:
                raise DisclosureAuditError(f"the disclosure audit could not solve for cell {keys[k]!r}: {res.message}")
            else:
                ends.append(sign * res.fun)
        lo, hi = ends
        out.append({"cell": keys[k], "lower": lo, "upper": hi, "width": hi - lo})
    return pd.DataFrame(out, columns=["cell", "lower", "upper", "width"])


def audit(cells: pd.DataFrame, relations: pd.DataFrame | None = None, ratios: pd.DataFrame | None = None, *,
          pol: Policy, key: str = "cell", count: str = "count", suppressed: str = "suppressed",
          tolerance: float = 1e-6) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """Prove that no suppressed count can be worked out to within the protection width; suppress more if needed.

    Loop: :func:`deducible_intervals`; if some suppressed cell *k* has width < ``pol.protection_width``, suppress
    the one cell that hides most cheaply among those that constrain *k* — a shown rate of which *k* is the
    numerator or denominator first (hiding a rate keeps the counts), else the smallest shown non-zero count in an
    additive relation with *k* (a zero is exactly known and hides nothing) — and repeat. If no such cell is left,
    :class:`DisclosureAuditError` is raised: the run fails rather than write a determinable cell.

    Parameters
    ----------
    cells, relations, ratios, pol, key, count, suppressed
        As for :func:`deducible_intervals`.

    Returns
    -------
    cells : DataFrame
        ``cells`` with ``suppressed`` updated and, if the input has ``suppression``, 'audit' on the cells this
        added.
    ratios : DataFrame or None
        ``ratios`` with ``suppressed`` updated.
    summary : dict
        ``policy``, ``threshold``, ``rounding``, ``protection_width``, ``cells`` (count cells audited),
        ``suppressed`` (count cells suppressed), ``suppressed_by_audit`` (counts and rates), ``rates_suppressed``,
        ``narrowest_interval`` and ``widest_interval`` (widths; ``None`` when there is none, 'unbounded' when a
        reader can put no upper limit on it).
    """
    cells = cells.copy()
    ratios = None if ratios is None else ratios.copy()
    if ratios is not None and "suppressed" in ratios:
        ratios["suppressed"] = ratios["suppressed"].astype(bool)
    keys = cells[key].astype(str)
    added = 0
    rel = relations if relations is not None else pd.DataFrame(columns=["relation", "cell", "role"])
    for _ in range(len(cells) + (0 if ratios is None else len(ratios)) + 1):
        iv = deducible_intervals(cells, rel, ratios, pol=pol, key=key, count=count, suppressed=suppressed)
        narrow = iv[iv["width"] < pol.protection_width - tolerance]
        if narrow.empty:
            break
        k = narrow.sort_values(["width", "cell"]).iloc[0]["cell"]
        pick = None
        if ratios is not None and len(ratios):
            r = ratios[~ratios["suppressed"] & ((ratios["numerator"].astype(str) == k)
                                                | (ratios["denominator"].astype(str) == k))]
            if len(r):
                pick = ("rate", r.index[0])
        if pick is None:
            with_k = rel.loc[rel["cell"].astype(str) == k, "relation"]
            others = set(rel.loc[rel["relation"].isin(with_k), "cell"].astype(str)) - {k}
            cand = cells[keys.isin(others) & ~cells[suppressed].astype(bool)]
            v = pd.to_numeric(cand[count], errors="coerce")
            cand = cand[v > 0].assign(_v=v[v > 0]).sort_values(["_v", key])
            if len(cand):
                pick = ("cell", cand.index[0])
        if pick is None:
            raise DisclosureAuditError(
                f"suppressed cell {k!r} can be worked out to within {narrow.iloc[0]['width']:g} (protection width "
                f"{pol.protection_width:g}) and no further cell can be suppressed to prevent it")
        if pick[0] == "rate":
            ratios.loc[pick[1], "suppressed"] = True
        else:
            cells.loc[pick[1], suppressed] = True
            if "suppression" in cells:
                cells.loc[pick[1], "suppression"] = "audit"
        added += 1
    else:  # pragma: no cover - every pass hides one more cell, so the loop ends before this
        raise DisclosureAuditError("the disclosure audit did not converge")
    widths = iv["width"].to_numpy(dtype=float)
    if added:
        log.info("disclosure audit: %d further cell(s) suppressed", added)
    summary = {**pol.summary(), "protection_width": pol.protection_width, "cells": int(len(cells)),
               "suppressed": int(cells[suppressed].astype(bool).sum()), "suppressed_by_audit": added,
               "rates_suppressed": 0 if ratios is None else int(ratios["suppressed"].sum()),
               "narrowest_interval": None if not len(widths) else _width(widths.min()),
               "widest_interval": None if not len(widths) else _width(widths.max())}
    return cells, ratios, summary


def _width(w: float):
    return "unbounded" if math.isinf(w) else round(float(w), 3)
