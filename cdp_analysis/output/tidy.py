"""Tidy output tables: one schema for every chapter, written so that the same inputs give the same bytes.

Every table a chapter writes is in long form, one value per row::

    area_code, area_name, area_role, period, measure, [breakdown columns], value,
    [lower_ci, upper_ci], unit, [geography_basis], source

``area_role`` is 'cdp' (the partnership total), 'member' (one area of a multi-area CDP), 'region',
'england' or 'neighbour'. ``geography_basis`` says when a figure was built from figures on older
boundaries (see :mod:`cdp_analysis.areas.vintage`). ``source`` is the data-register citation of the file(s)
the row was computed from (``<path in data/raw> [<edition>]``, several joined by '; '). Rows are sorted by
the key columns in natural order (numbers as numbers: ages 0, 1, 2 … 10, then '90+'; periods in time
order) and floats written with a fixed format, so reruns are byte-identical.

:func:`from_stats` is the one adapter from :mod:`cdp_analysis.stats` results (``lowercl``/``uppercl``,
``lower95_0cl`` …, ``sii_lower95_0cl`` …) to the tidy ``lower_ci``/``upper_ci`` columns.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pandas as pd

from ..files import write_atomic
from . import provenance

log = logging.getLogger(__name__)

REQUIRED = ["area_code", "area_name", "area_role", "period", "measure", "value", "unit", "source"]
ROLE_ORDER = {"cdp": 0, "member": 1, "region": 2, "england": 3, "neighbour": 4}
FLOAT_FORMAT = "%.10g"


def check_tidy(table: pd.DataFrame, name: str) -> None:
    """Raise ``ValueError`` if ``table`` lacks a required column or has an unknown ``area_role``."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(f"table '{name}' lacks required column(s) {missing}")
    roles = set(table["area_role"]) - set(ROLE_ORDER)
    if roles:
        raise ValueError(f"table '{name}' has unknown area_role values {sorted(roles)}")


def order_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Required identifying columns first, then breakdowns, then value, limits and metadata."""
    head = ["area_code", "area_name", "area_role", "period", "measure"]
    limits = [c for c in table.columns if is_limit(c) and c not in ("lower_ci", "upper_ci")]
    tail = ["value", "lower_ci", "upper_ci", *limits, "unit", "geography_basis", "source"]
    middle = [c for c in table.columns if c not in head + tail]
    return table[[c for c in head + middle + tail if c in table.columns]]


def is_limit(column: str) -> bool:
    """True for the tidy limit columns: ``lower_ci``, ``upper_ci``, ``lower_ci_99_8``, ``rii_upper_ci`` …"""
    return re.fullmatch(r"([a-z]+_)?(lower|upper)_ci(_\d+_\d)?", column) is not None


def natural_key(column: pd.Series) -> pd.Series:
    """A sort key giving natural order: text with a leading number sorts by that number first.

    '2' < '10' < '90+' for ages, '5-9' < '10-14' for bands; other text sorts as text after. Numeric
    columns are returned unchanged.
    """
    if pd.api.types.is_numeric_dtype(column):
        return column
    text = column.astype(str)
    lead = pd.to_numeric(text.str.extract(r"^\s*(-?\d+(?:\.\d+)?)", expand=False), errors="coerce")
    # numbers first (by value, then by the rest of the text), then plain text
    return pd.Series(list(zip(lead.isna(), lead.fillna(0.0), text)), index=column.index)


def to_csv_text(table: pd.DataFrame) -> str:
    """The deterministic CSV text of a tidy table (sorted rows, fixed float format, LF endings)."""
    table = order_columns(table)
    role = table["area_role"].map(ROLE_ORDER)
    keys = [c for c in table.columns if c != "value" and not is_limit(c)]
    ordered = table.assign(_role=role).sort_values(["_role", *keys], kind="mergesort", key=natural_key)
    ordered = ordered.drop(columns="_role")
    return ordered.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def save_table(table: pd.DataFrame, name: str, output_dir: str | os.PathLike | None) -> pd.DataFrame:
    """Check and write ``tables/<name>.csv`` under ``output_dir``; do nothing when ``output_dir`` is empty.

    Returns the table with its columns in the standard order, so a notebook can display what it wrote.
    """
    check_tidy(table, name)
    if output_dir:
        target = Path(output_dir) / "tables" / f"{name}.csv"
        write_atomic(target, to_csv_text(table))
        provenance.record(output_dir, f"tables/{name}.csv", table["source"])
        log.info("wrote %s (%d rows)", target.name, len(table))
    return order_columns(table)


_LIMIT = re.compile(r"^(?P<stat>[a-z]+_)?(?P<side>lower|upper)(?P<level>\d+_\d)?cl$")


def from_stats(result: pd.DataFrame, *, level: float = 0.95) -> pd.DataFrame:
    """A :mod:`cdp_analysis.stats` result with its limits renamed to the tidy schema.

    The limits at ``level`` (``lowercl``/``uppercl`` for one level; ``lower95_0cl``/``upper95_0cl`` for
    the 0.95 of a pair; ``sii_lower95_0cl``/``sii_upper95_0cl`` from :func:`~cdp_analysis.stats.sii`)
    become ``lower_ci``/``upper_ci``; limits at other levels become ``lower_ci_<level>``/``upper_ci_<level>``
    (e.g. ``lower_ci_99_8``). For :func:`~cdp_analysis.stats.sii` results ``sii`` becomes ``value`` with
    its limits ``lower_ci``/``upper_ci``, and the RII's limits become ``rii_lower_ci``/``rii_upper_ci``.
    Other columns are kept.

    Parameters
    ----------
    result : DataFrame
        Output of a stats function.
    level : float
        The confidence level written as ``lower_ci``/``upper_ci`` (0.95 or 0.998, or 95 / 99.8).
    """
    pct = level * 100 if level <= 1 else level
    wanted = f"{pct:.1f}".replace(".", "_")
    main = "sii_" if "value" not in result.columns and "sii" in result.columns else ""
    renames = {}
    for col in result.columns:
        m = _LIMIT.match(col)
        if not m:
            continue
        prefix = "" if (m["stat"] or "") == main else m["stat"]
        at_level = m["level"] is None or m["level"] == wanted
        renames[col] = f"{prefix}{m['side']}_ci" + ("" if at_level else f"_{m['level']}")
    out = result.rename(columns=renames)
    if main:
        out = out.rename(columns={"sii": "value"})
    return out
