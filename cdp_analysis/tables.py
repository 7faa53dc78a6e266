"""Tidy output tables: one schema for every chapter, written so that the same inputs give the same bytes.

Every table a chapter writes is in long form, one value per row::

    area_code, area_name, area_role, period, measure, [breakdown columns], value,
    [lower_ci, upper_ci], unit, [geography_basis], source

``area_role`` is 'cdp' (the partnership total), 'member' (one area of a multi-area CDP), 'region',
'england' or 'neighbour'. ``geography_basis`` says when a figure was built from figures on older
boundaries (see :mod:`cdp_analysis.vintage`). Rows are sorted by the key columns and floats written
with a fixed format, so reruns are byte-identical.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pandas as pd

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
    tail = ["value", "lower_ci", "upper_ci", "unit", "geography_basis", "source"]
    middle = [c for c in table.columns if c not in head + tail]
    return table[[c for c in head + middle + tail if c in table.columns]]


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def to_csv_text(table: pd.DataFrame) -> str:
    """The deterministic CSV text of a tidy table (sorted rows, fixed float format, LF endings)."""
    table = order_columns(table)
    role = table["area_role"].map(ROLE_ORDER)
    keys = [c for c in table.columns if c not in {"value", "lower_ci", "upper_ci"}]
    ordered = table.assign(_role=role).sort_values(["_role", *keys], kind="mergesort").drop(columns="_role")
    return ordered.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def save_table(table: pd.DataFrame, name: str, output_dir: str | os.PathLike | None) -> pd.DataFrame:
    """Check and write ``tables/<name>.csv`` under ``output_dir``; do nothing when ``output_dir`` is empty.

    Returns the table with its columns in the standard order, so a notebook can display what it wrote.
    """
    check_tidy(table, name)
    if output_dir:
        target = Path(output_dir) / "tables" / f"{name}.csv"
        _atomic_write_text(target, to_csv_text(table))
        log.info("wrote %s (%d rows)", target.name, len(table))
    return order_columns(table)
