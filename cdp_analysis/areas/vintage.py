"""Geography vintages: map figures published on older local-authority codes to current areas.

English local government has been reorganised repeatedly (Bournemouth, Christchurch and Poole and
Dorset in 2019; Buckinghamshire 2020; Northamptonshire split into North and West Northamptonshire
on 1 April 2021; Cumbria split into Cumberland and Westmorland and Furness, and North Yorkshire and
Somerset made unitary, on 1 April 2023). Datasets keep the codes of their own year. This module
holds the code changes (``data/raw/lookups/la_code_changes_england_from_mysociety.csv``) and maps
figures to current upper-tier areas:

* **renamed** — one old code becomes exactly one new code and nothing else feeds it (E10000023 North
  Yorkshire → E06000065): the figure is carried over unchanged; exact.
* **aggregated** — several old areas merge (Bournemouth + Christchurch + Poole → BCP), or a new area is
  the sum of its predecessor districts (Allerdale + Carlisle + Copeland → Cumberland): counts are summed
  (exact when every predecessor is present); intensive measures (rates, scores) are
  population-weighted means.
* **apportioned** — one old area splits (E10000021 Northamptonshire → North + West Northamptonshire):
  a count is shared by each successor's share of the population (an estimate); an intensive measure
  is given to each successor unchanged (the parent's value). Tables built from such figures carry
  ``geography_basis`` saying so.

Exact sums come first: when every area other than a county that fed a current area is in the table (followed
through later changes: Taunton Deane + West Somerset became Somerset West and Taunton in 2019, which became
part of Somerset in 2023), the current area is their sum. A county is used (renamed, or apportioned when it
split) only when its districts are not all there. The lookup lists a county's successors, not the districts
it lost to a neighbour, so a county's figure stands for its successor only as well as their boundaries match:
in a table of counties and unitaries on pre-2019 codes (no districts), Dorset is Dorset County's figure, which
includes Christchurch (about 50,000 people, now in BCP), and BCP is Bournemouth + Poole without it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd

from ..data.lookups import code_changes
from ..errors import InputError

log = logging.getLogger(__name__)

#: Values of the ``geography_basis`` column in every table built from mapped figures.
AS_PUBLISHED = "as published"
RENAMED = "renamed code (exact)"
AGGREGATED = "sum of predecessor areas (exact)"
APPORTIONED = "apportioned from predecessor by population share (estimate)"
INHERITED = "value of predecessor area (estimate)"
WEIGHTED = "population-weighted mean of predecessor areas (estimate)"


def successors(old_code: str) -> list[str]:
    """Current codes that replaced ``old_code`` (empty if it was never replaced)."""
    t = code_changes()
    return sorted(t.loc[t["old_code"] == old_code, "new_code"].unique())


def predecessors(new_code: str, *, old_type: str | None = None) -> list[str]:
    """Old codes that fed ``new_code``, optionally only of one type ('CTY', 'NMD', 'UA')."""
    t = code_changes()
    t = t[t["new_code"] == new_code]
    if old_type is not None:
        t = t[t["old_type"] == old_type]
    return sorted(t["old_code"].unique())


def _exact_parts(new: str, present: set[str], changes: pd.DataFrame, seen: tuple[str, ...] = ()) -> list[str] | None:
    """The areas of ``present`` that together are exactly ``new``: ``new`` itself if present; else every area
    other than a county that fed it (through the code changes), each present or itself built exactly in the
    same way. None when one is missing, or when one was split between several successors."""
    if new in present:
        return [new]
    feeders = changes.loc[(changes["new_code"] == new) & (changes["old_type"] != "CTY"), "old_code"].unique()
    if len(feeders) == 0 or new in seen:
        return None
    parts = []
    for old in sorted(feeders):
        if changes.loc[changes["old_code"] == old, "new_code"].nunique() > 1:
            return None
        sub = _exact_parts(old, present, changes, (*seen, new))
        if sub is None:
            return None
        parts += sub
    return sorted(parts)


def _predecessors_used(new: str, present: set[str], changes: pd.DataFrame) -> list[str]:
    """The old codes of ``present`` that ``new`` is built from: an exact set of areas (:func:`_exact_parts`)
    when the table has one; else the other predecessors present that are not districts (a county to carry over
    or apportion, or the unitaries of a merger whose districts are missing). Empty when there are none."""
    exact = _exact_parts(new, present, changes)
    if exact:
        return exact
    feeders = changes[(changes["new_code"] == new) & changes["old_code"].isin(present)]
    return sorted(feeders.loc[feeders["old_type"] != "NMD", "old_code"].unique())


def current_areas_of(codes: pd.Series, parents: pd.Series, current_codes) -> pd.Series:
    """The current upper-tier area each area code lies in, NaN where none can be found.

    Parameters
    ----------
    codes : Series
        Area codes (unitaries, districts, boroughs) as a publication lists them.
    parents : Series
        Aligned with ``codes``: the county a district is listed under in that publication (NaN for others).
    current_codes : iterable of str
        The current upper-tier codes.

    Returns
    -------
    Series
        Aligned with ``codes``: the code itself if current; else its successor through the code changes,
        followed to the end (Taunton Deane → Somerset West and Taunton → Somerset), when that is one current
        area; else, for a district, its county if that is a current area.
    """
    current = set(current_codes)
    changes = code_changes()
    onward = changes.groupby("old_code")["new_code"].agg(lambda s: sorted(set(s))).to_dict()

    def reach(code: str, depth: int = 0) -> set[str]:
        if code in current:
            return {code}
        if code not in onward or depth > 10:
            return set()
        return set().union(*(reach(n, depth + 1) for n in onward[code]))

    found = {c: reach(c) for c in set(codes.dropna().unique())}
    own = codes.map(lambda c: next(iter(found[c])) if len(found.get(c, ())) == 1 else None)
    return own.fillna(parents.where(parents.isin(current)))


def legacy_code_message(code: str) -> str:
    """A sentence explaining that ``code`` is a former area and what replaced it, or '' if it is not one."""
    t = code_changes()
    rows = t[t["old_code"] == code]
    if rows.empty:
        return ""
    new = ", ".join(f"{r.new_code} {r.new_name}" for r in rows.itertuples())
    r = rows.iloc[0]
    return (f"'{code}' ({r['old_name']}) is a former area code, abolished on {r['end_date']}; "
            f"it was replaced by {new}. List the current code(s) instead")


def _sum_by(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    if keys:
        return frame.groupby(keys, dropna=False, sort=True).sum(min_count=1).reset_index()
    return frame.sum(min_count=1).to_frame().T


def _joined(parts: pd.DataFrame, code: str, keys: list[str], text: list[str]) -> pd.DataFrame:
    """The ``text`` columns of the areas summed into one, joined with ' + ' in the order of their codes, per group
    of ``keys`` (blank parts left out)."""
    ordered = parts.sort_values(code, kind="stable")
    join = {c: (c, lambda s: " + ".join(v for v in s.fillna("").astype(str) if v)) for c in text}
    if not keys:
        return ordered.assign(_all=0).groupby("_all").agg(**join).reset_index(drop=True)
    return ordered.groupby(keys, dropna=False, sort=True).agg(**join).reset_index()


def to_current(table: pd.DataFrame, *, code: str = "code", values: list[str], kind: str,
               population: pd.Series, current_codes: list[str], text: Sequence[str] = ()) -> pd.DataFrame:
    """Map figures on any code vintage to current upper-tier areas.

    Parameters
    ----------
    table : DataFrame
        One row per (old or current) area and any other key columns (e.g. ``period``), with ``values``.
    code : str
        Name of the area-code column.
    values : list of str
        Columns to map.
    kind : {'count', 'intensive'}
        'count' values (people, deaths) are summed and split by population share; 'intensive' values
        (rates, percentages, scores) are population-weighted on merging and inherited on splitting.
    population : Series
        All-ages population indexed by area code, covering current areas (and old areas for weighting
        merges of intensive values). Split shares are ``population[new] / Σ population[siblings]``.
    current_codes : list of str
        The current upper-tier codes to map onto.
    text : list of str
        Text columns that travel with ``values`` and say where each came from (e.g. ``source_cell``, the
        spreadsheet cell of a value): kept as they are where a value is carried over or split (renamed,
        apportioned or inherited), and joined with ' + ' in the order of the predecessors' codes where values
        of several areas are summed or averaged, so they name exactly the cells a value was computed from.
        They are not keys: they never split a group.

    Returns
    -------
    DataFrame
        Rows for current areas only, the other key columns kept, plus ``geography_basis``.
        Areas that cannot be built are absent (and logged).
    """
    if kind not in {"count", "intensive"}:
        raise ValueError(f"kind must be 'count' or 'intensive', got {kind!r}")
    text = list(text)
    keys = [c for c in table.columns if c not in values and c not in text and c != code]
    current = set(current_codes)
    direct = table[table[code].isin(current)].assign(geography_basis=AS_PUBLISHED)
    have = set(direct[code])
    old = table[~table[code].isin(current)]
    changes = code_changes()
    old_codes = set(old[code])
    pieces = [direct]
    for new in sorted(current - have):
        use = _predecessors_used(new, old_codes, changes)
        if not use:
            continue
        parts = old[old[code].isin(set(use))].copy()
        n_successors = {o: len(successors(o)) for o in use}
        split = any(n > 1 for n in n_successors.values())
        if split:
            (parent,) = [o for o, n in n_successors.items() if n > 1][:1]
            siblings = successors(parent)
            missing = [s for s in siblings if s not in population.index]
            if missing:
                raise InputError(f"cannot apportion {parent}: no population for {missing}")
            share = population[new] / population[siblings].sum()
            if kind == "count":
                parts[values] = parts[values] * share
                basis = APPORTIONED
            else:
                basis = INHERITED
            out = parts.assign(**{code: new, "geography_basis": basis})
        elif len(use) == 1:
            out = parts.assign(**{code: new, "geography_basis": RENAMED})
        else:
            if kind == "count":
                agg = _sum_by(parts[keys + values], keys)
                basis = AGGREGATED
            else:
                w = parts[code].map(population)
                if w.isna().any():
                    raise InputError(f"cannot weight the predecessors of {new}: no population for "
                                     f"{sorted(parts.loc[w.isna(), code])}")
                weighted = parts[values].mul(w, axis=0).assign(_w=w)
                weighted[keys] = parts[keys]
                agg = _sum_by(weighted, keys)
                agg[values] = agg[values].div(agg["_w"], axis=0)
                agg = agg.drop(columns="_w")
                basis = WEIGHTED
            if text:
                agg = agg.merge(_joined(parts, code, keys, text), on=keys, how="left") if keys else \
                    agg.assign(**_joined(parts, code, keys, text).iloc[0].to_dict())
            out = agg.assign(**{code: new, "geography_basis": basis})
        log.info("%s built from %s (%s)", new, ", ".join(use), out["geography_basis"].iat[0])
        pieces.append(out)
    result = pd.concat(pieces, ignore_index=True)
    not_built = sorted(current - set(result[code]))
    if not_built:
        log.info("%d current areas have no figures in this table: %s", len(not_built), ", ".join(not_built[:10]))
    return result[[code, *keys, *values, *text, "geography_basis"]]
