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
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_THRESHOLD", "suppress", "derived_mask", "small_counts"]

#: Counts from 1 to ``DEFAULT_THRESHOLD - 1`` are suppressed unless a run sets another threshold.
DEFAULT_THRESHOLD = 5
#: ``suppression`` reasons, in the order they are applied.
REASONS = ("primary", "complement", "secondary")


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
