"""The one aggregation rule: members → CDP and areas → region, used by every chapter.

Chapters report a CDP, its members, its region(s) and England. Published figures come for single areas; a
multi-area CDP and, where a chapter builds it, a region are made here from their areas' rows, in one way:

**Members → CDP** (:func:`sum_members`)

* A one-area CDP *is* its member: its rows are returned unchanged (values, limits, notes and
  ``geography_basis`` are the member's own, as published or as mapped to current areas).
* A CDP of several areas is the **sum of its members**, one row per key (period, sex, substance …):

  - the ``values`` columns (counts: people, deaths, numerators, estimated numbers) are summed. A sum is
    never partial: if any member's value is missing (NaN), the CDP's is NaN (``min_count`` = the number of
    members' rows), and ``missing_note`` (when given) is the ``value_note`` saying so;
  - with ``every_member=True`` (the default) a key for which some member has **no row** gives no sum: the
    key is dropped, or, with ``keep_incomplete=True``, kept as one row whose values and limits are NaN,
    whose ``source`` is blank and whose boolean column ``incomplete`` is True, so that the chapter can say
    why it has no figure. With ``every_member=False`` the members that have a row are summed (for data whose
    publisher gives one member no figure of its own, e.g. the Isles of Scilly, published with Cornwall);
  - the ``limits`` columns (lower and upper limits of an estimate) survive only when the members are **one
    published area** (:func:`one_published_area`: one area of the estimates' vintage, whole or
    apportioned, e.g. North + West Northamptonshire, the two successors of Northamptonshire county): then
    they are summed like values and ``geography_basis`` is :data:`FORMER_AREA`. Otherwise they are NaN — the
    limits of separately modelled areas cannot be added (the sum of lower limits is not a lower limit of the
    sum) — and ``geography_basis`` is the chapter's ``basis`` text saying so (e.g. 'sum of the members'
    estimates (no limits: separately modelled areas)'). With no ``limits`` (counts that are exact) the
    basis is always ``basis``;
  - columns named in ``first`` (the same for every member, e.g. a period's pairing) take the first member's
    non-blank value; ``agg`` names any other aggregation (e.g. ``{"rounded_to": "max"}``); ``source`` cites
    every member's source (:func:`cdp_analysis.data.register.cite`) unless named in ``first`` or ``agg``.
    Other columns are not carried.

* Rates cannot be summed: :func:`no_sum_rows` gives a multi-area CDP one row per key with the values NaN and
  a ``value_note`` saying why (e.g. 'no published rate for the partnership as a whole: see its members'
  rates').

**Areas → region** (:func:`sum_regions`)

* A region built by a chapter is the **sum of its current upper-tier areas**, key by key: ``values``
  summed as above (never partial), ``limits`` always NaN (separately modelled areas), ``geography_basis``
  the chapter's ``basis`` text. ``every_area=True`` (the default) requires a row for every area of the
  region; ``every_area=False`` sums the areas that have one. The chapter chooses which rows count (e.g. only
  pairs of one series) by the rows it passes.

England and regions published as such are used as published; they never pass through here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ..data.register import cite
from . import geography, vintage
from .partnerships import Partnership

#: The reporting-area columns of every tidy table (:meth:`Partnership.reporting_areas`).
AREA = ["area_code", "area_name", "area_type", "area_role", "area_members"]
#: ``geography_basis`` of a multi-area CDP whose members are one published area (its limits kept).
FORMER_AREA = "as published for the former area the members replaced"


def one_published_area(cdp: Partnership) -> bool:
    """True if the CDP's members are one area of the estimates' vintage, whole (so its limits are published):
    one member, or every successor of one former county (Northamptonshire)."""
    if len(cdp.members) == 1:
        return True
    parents = {p for m in cdp.members for p in vintage.predecessors(m, old_type="CTY")}
    return len(parents) == 1 and set(vintage.successors(next(iter(parents)))) == set(cdp.members)


def _cite(sources: pd.Series) -> str:
    return cite(*sources.dropna())


def _sum(rows: pd.DataFrame, keys: Sequence[str], *, values: Sequence[str], limits: Sequence[str],
         first: Sequence[str], agg: Mapping[str, object] | None) -> pd.DataFrame:
    """One row per key: values and limits summed (NaN where any row's is NaN), the others aggregated;
    ``_n`` is the number of rows summed."""
    summed = [*values, *limits]
    spec: dict[str, tuple[str, object]] = {c: (c, "sum") for c in summed}
    spec |= {c: (c, "first") for c in first}
    spec |= {c: (c, how) for c, how in (agg or {}).items()}
    if "source" in rows.columns and "source" not in spec:
        spec["source"] = ("source", _cite)
    spec |= {f"_count_{c}": (c, "count") for c in summed}
    spec["_n"] = (summed[0], "size")
    out = rows.groupby(list(keys), as_index=False, dropna=False).agg(**spec)
    for c in summed:  # never a partial sum
        out[c] = out[c].where(out[f"_count_{c}"] == out["_n"])
    return out.drop(columns=[f"_count_{c}" for c in summed])


def sum_members(rows: pd.DataFrame, cdp: Partnership, *, keys: Sequence[str], values: Sequence[str],
                limits: Sequence[str] = (), first: Sequence[str] = (), agg: Mapping[str, object] | None = None,
                basis: str | None = None, missing_note: str | None = None, every_member: bool = True,
                keep_incomplete: bool = False) -> pd.DataFrame:
    """The CDP's rows from its members' rows (the rule: this module's docstring).

    Parameters
    ----------
    rows : DataFrame
        The CDP's rows as :meth:`Partnership.reporting_areas` makes them: one per member (``code``) and key,
        the CDP's area columns on each.
    cdp : Partnership
        The CDP.
    keys : sequence of str
        The columns of one CDP row (the area columns and e.g. ``period``, ``substance``).
    values : sequence of str
        Columns summed (counts); NaN where any member's is.
    limits : sequence of str
        Columns summed only when the members are one published area (:func:`one_published_area`), else NaN.
    first : sequence of str
        Columns the same for every member: the first member's non-blank value.
    agg : mapping, optional
        Any other column → a pandas aggregation (e.g. ``{"rounded_to": "max"}``).
    basis : str, optional
        ``geography_basis`` of a sum without limits (the chapter's words, e.g. 'sum of the members' deaths');
        None: no ``geography_basis`` column is written.
    missing_note : str, optional
        ``value_note`` of the sums: this text where a value is NaN (a member's is missing), '' elsewhere;
        None: no ``value_note`` column is written.
    every_member : bool
        Sum a key only if every member has a row for it (True), or the members that have one (False).
    keep_incomplete : bool
        With ``every_member``, keep the keys lacking a member as rows with NaN values and limits and a blank
        ``source``, after the sums; the result then has a boolean column ``incomplete``.

    Returns
    -------
    DataFrame
        One-area CDP: ``rows`` unchanged. Otherwise one row per key: ``keys``, ``values``, ``limits``,
        ``first``, ``agg`` (and ``source``, ``geography_basis``), sums in key order.
    """
    if len(cdp.members) == 1:
        return rows.assign(incomplete=False) if keep_incomplete else rows
    out = _sum(rows, keys, values=values, limits=limits, first=first, agg=agg)
    complete = out["_n"] == len(cdp.members)
    if limits and one_published_area(cdp):
        out["geography_basis"] = FORMER_AREA
    else:
        out[list(limits)] = np.nan
        if basis is not None:
            out["geography_basis"] = basis
    out = out.drop(columns="_n")
    if every_member and not keep_incomplete:
        out = out[complete].reset_index(drop=True)
    elif every_member:
        missing = out[~complete].assign(**dict.fromkeys([*values, *limits, *first], np.nan))
        if "source" in missing.columns:
            missing["source"] = ""
        out = pd.concat([out[complete].assign(incomplete=False), missing.assign(incomplete=True)],
                        ignore_index=True)
    if missing_note is not None:
        out["value_note"] = np.where(out[list(values)].isna().any(axis=1), missing_note, "")
    return out


def no_sum_rows(rows: pd.DataFrame, cdp: Partnership, *, keys: Sequence[str], values: Sequence[str],
                note: str) -> pd.DataFrame:
    """The CDP's rows of a measure that cannot be summed over members (a rate): one row per key with
    ``values`` NaN, ``value_note`` = ``note`` and a blank ``geography_basis`` (and ``source`` citing the
    members' rows). A one-area CDP: ``rows`` unchanged (its member's published rate is its own).

    Parameters
    ----------
    rows : DataFrame
        The CDP's rows, one per member and key.
    keys : sequence of str
        The columns of one CDP row.
    values : sequence of str
        The columns left blank (value, limits, count …).
    note : str
        Why the partnership has no figure (``value_note``).
    """
    if len(cdp.members) == 1:
        return rows
    out = rows.drop_duplicates(list(keys))[list(keys)].reset_index(drop=True)
    if "source" in rows.columns:
        out["source"] = rows.groupby(list(keys), dropna=False, sort=False)["source"].agg(_cite).to_numpy()
    return out.assign(**dict.fromkeys(values, np.nan), value_note=note, geography_basis="")


def sum_regions(rows: pd.DataFrame, groups: pd.DataFrame, *, keys: Sequence[str], values: Sequence[str],
                limits: Sequence[str] = (), first: Sequence[str] = (), basis: str, every_area: bool = True,
                code: str = "code") -> pd.DataFrame:
    """Each region among the reporting areas as the sum of its current upper-tier areas (the rule: this
    module's docstring).

    Parameters
    ----------
    rows : DataFrame
        Rows of current upper-tier areas (``code``) with ``keys`` and ``values``: the rows that count.
    groups : DataFrame
        The reporting areas (:meth:`Partnership.reporting_areas`); its rows of role 'region' are built, in
        their order, with their area columns.
    keys : sequence of str
        The columns of one region row besides the area columns (e.g. ``period``).
    values : sequence of str
        Columns summed; NaN where any area's is.
    limits : sequence of str
        Columns written NaN (limits of separately modelled areas are not added).
    first : sequence of str
        Columns the same for every area: the first area's non-blank value (``source`` cites every area's
        unless named here).
    basis : str
        ``geography_basis`` of the region's rows (the chapter's words).
    every_area : bool
        Sum a key only if every area of the region has a row for it (True), or the areas that have one.
    code : str
        The area-code column of ``rows``.

    Returns
    -------
    DataFrame
        The regions' rows, region by region, keys in order: ``keys``, ``values``, ``first`` (and
        ``source``), the area columns, ``limits`` (NaN) and ``geography_basis``.
    """
    regions = []
    for g in groups[groups["area_role"] == "region"].itertuples():
        areas = set(geography.areas("utla").query("region_code == @g.code")["code"])
        part = rows[rows[code].isin(areas)]
        s = _sum(part, keys, values=values, limits=(), first=first, agg=None)
        if every_area:
            s = s[s["_n"] == len(areas)]
        regions.append(s.drop(columns="_n").assign(**{k: getattr(g, k) for k in AREA},
                                                   **dict.fromkeys(limits, np.nan), geography_basis=basis))
    if not regions:
        return pd.DataFrame(columns=[*keys, *values, *first, *AREA, *limits, "geography_basis"])
    return pd.concat(regions, ignore_index=True)
