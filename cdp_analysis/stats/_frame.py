"""Private helpers shared by the DataFrame interface of :mod:`cdp_analysis.stats`.

Every public indicator function (``proportion``, ``crude_rate``, ``dsr``, ``isr_ratio`` ...)
follows the same contract, implemented here once:

* ``x``, ``n`` ... are column *names* of the input DataFrame; they are checked to exist and
  to be numeric (:func:`require_columns`, :func:`numeric_column`).
* ``group_by`` is ``None``, one column name or a list of names (:func:`normalise_group_by`).
  The result has one row per group, groups sorted by key as dplyr's ``summarise`` does, with
  missing keys kept as their own group; without grouping the result is a single row and has no
  grouping columns (:func:`grouper`, :func:`group_frame`).
* ``confidence`` is one level (0.95 or 95; PHEindicatormethods accepts 90–100 %) or exactly the
  pair (0.95, 0.998) / (95, 99.8) (:func:`parse_confidence`). One level gives the limit
  columns ``lowercl``/``uppercl``; the pair gives ``lower95_0cl``, ``upper95_0cl``,
  ``lower99_8cl``, ``upper99_8cl``. The ``confidence`` output column holds the label
  ``"95%"`` or ``"95%, 99.8%"``.
* Invalid input raises :class:`ValueError` naming the column and the offending row labels
  (:func:`check_rows`).

None of these helpers loops over rows or groups in Python; they are thin wrappers around
vectorised pandas/NumPy operations so that a million rows take well under a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .limits import normalise_confidence

__all__ = [
    "ConfidenceSpec",
    "parse_confidence",
    "confidence_label",
    "limit_column_names",
    "format_multiplier",
    "normalise_group_by",
    "require_columns",
    "numeric_column",
    "check_rows",
    "grouper",
    "group_frame",
    "group_sums",
    "assemble",
]

#: Levels accepted as the single two-level request, as in PHEindicatormethods.
TWO_LEVELS = (0.95, 0.998)

#: How many offending row labels an error message lists before summarising.
_MAX_ROWS_IN_MESSAGE = 10


# --------------------------------------------------------------------------------------------
# confidence
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConfidenceSpec:
    """A parsed confidence request.

    Attributes
    ----------
    levels : tuple of float
        Levels as fractions, e.g. ``(0.95,)`` or ``(0.95, 0.998)``.
    columns : tuple of (str, str)
        ``(lower, upper)`` output column names, one pair per level.
    label : str
        Text for the ``confidence`` output column: ``"95%"`` or ``"95%, 99.8%"``.
    """

    levels: tuple[float, ...]
    columns: tuple[tuple[str, str], ...]
    label: str

    @property
    def limit_columns(self) -> list[str]:
        """All limit column names in output order (lower, upper for each level)."""
        return [c for pair in self.columns for c in pair]


def confidence_label(levels: Sequence[float]) -> str:
    """Label a list of fractional levels as PHEindicatormethods does: ``"95%, 99.8%"``.

    The level × 100 is printed without trailing zeros (0.95 → ``95%``, 0.998 → ``99.8%``,
    0.975 → ``97.5%``).
    """
    return ", ".join(f"{round(c * 100, 10):g}%" for c in levels)


def limit_column_names(levels: Sequence[float]) -> tuple[tuple[str, str], ...]:
    """Output column names of the confidence limits for the given fractional levels.

    One level → ``(("lowercl", "uppercl"),)``. Two levels → one pair per level named
    ``lower<percent with "_" for ".", one decimal>cl``, i.e. ``lower95_0cl``/``upper95_0cl``
    and ``lower99_8cl``/``upper99_8cl`` for (0.95, 0.998).
    """
    if len(levels) == 1:
        return (("lowercl", "uppercl"),)
    out = []
    for c in levels:
        tag = f"{c * 100:.1f}".replace(".", "_")
        out.append((f"lower{tag}cl", f"upper{tag}cl"))
    return tuple(out)


def parse_confidence(confidence) -> ConfidenceSpec:
    """Validate and parse a ``confidence`` argument.

    Parameters
    ----------
    confidence : float or sequence of two floats
        One level as a fraction in [0.9, 1) or a percentage in [90, 100) (the range
        PHEindicatormethods accepts), or exactly the pair (0.95, 0.998) — also given as
        (95, 99.8) — for both 95 % and 99.8 % limits in one call.

    Returns
    -------
    ConfidenceSpec

    Raises
    ------
    ValueError
        Out-of-range level, more than two levels, or any pair other than (0.95, 0.998).
    """
    if isinstance(confidence, (str, bytes)):
        raise ValueError(f"confidence must be a number such as 0.95 or 95, got {confidence!r}")
    if np.ndim(confidence) == 0:
        c = normalise_confidence(confidence)
        if not 0.9 <= c < 1:
            raise ValueError(
                f"confidence level must be between 0.9 and 1 (or 90 and 100), got {confidence!r}"
            )
        return ConfidenceSpec((c,), limit_column_names((c,)), confidence_label((c,)))
    values = list(np.ravel(np.asarray(confidence, dtype=object)))
    if len(values) == 1:
        return parse_confidence(values[0])
    if len(values) != 2:
        raise ValueError(
            f"a maximum of two confidence levels can be provided, got {len(values)}: {confidence!r}"
        )
    levels = tuple(normalise_confidence(v) for v in values)
    if not all(abs(a - b) < 1e-12 for a, b in zip(levels, TWO_LEVELS)):
        raise ValueError(
            "two confidence levels can only be produced if they are specified as "
            f"(0.95, 0.998) or (95, 99.8), got {confidence!r}"
        )
    return ConfidenceSpec(TWO_LEVELS, limit_column_names(TWO_LEVELS), confidence_label(TWO_LEVELS))


def format_multiplier(multiplier: float) -> str:
    """Print a multiplier as R's ``format(m, scientific = FALSE)``: 100000 → ``"100000"``."""
    m = float(multiplier)
    if m.is_integer():
        return str(int(m))
    return np.format_float_positional(m, trim="-")


# --------------------------------------------------------------------------------------------
# columns and validation
# --------------------------------------------------------------------------------------------


def normalise_group_by(group_by) -> list[str]:
    """Return ``group_by`` as a (possibly empty) list of column names.

    ``None`` → ``[]``; a string → ``[string]``; any other iterable → list of its items.
    """
    if group_by is None:
        return []
    if isinstance(group_by, str):
        return [group_by]
    keys = list(group_by)
    if len(set(keys)) != len(keys):
        raise ValueError(f"group_by lists a column more than once: {keys!r}")
    return keys


def require_columns(df: pd.DataFrame, columns: Iterable[str], what: str = "data") -> None:
    """Raise ``ValueError`` unless every name in ``columns`` is a column of ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"column(s) {missing!r} not found in {what}; available columns: {list(df.columns)!r}"
        )


def numeric_column(df: pd.DataFrame, column: str) -> np.ndarray:
    """Column ``column`` of ``df`` as a float64 array (missing values → NaN).

    Raises ``ValueError`` if the column is not numeric (booleans are rejected too).
    """
    s = df[column]
    if isinstance(s, pd.DataFrame):
        raise ValueError(f"column name {column!r} is duplicated in the data")
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        raise ValueError(f"column {column!r} must be numeric, got dtype {s.dtype}")
    return s.to_numpy(dtype=float, na_value=np.nan)


def _row_list(labels) -> str:
    labels = list(labels)
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in labels[:_MAX_ROWS_IN_MESSAGE])
    more = len(labels) - _MAX_ROWS_IN_MESSAGE
    return f"[{shown}{f', ... and {more} more' if more > 0 else ''}]"


def check_rows(df: pd.DataFrame, bad: np.ndarray, column: str, problem: str) -> None:
    """Raise ``ValueError`` if any element of the boolean mask ``bad`` is true.

    The message names the column and lists the index labels of the offending rows, e.g.
    ``column 'n' has zero or negative denominators in rows [3, 7]``.
    """
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        raise ValueError(f"column {column!r} has {problem} in rows {_row_list(df.index[bad])}")


# --------------------------------------------------------------------------------------------
# grouping
# --------------------------------------------------------------------------------------------


def grouper(df: pd.DataFrame, keys: Sequence[str]):
    """A pandas ``GroupBy`` over ``keys`` that mirrors dplyr's ``group_by``.

    Groups are sorted by key, missing keys form their own group (``dropna=False``) and only
    observed categories of categorical keys appear (``observed=True``).
    """
    return df.groupby(list(keys), sort=True, dropna=False, observed=True)


def group_frame(df: pd.DataFrame, keys: Sequence[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group code of every row, plus the one-row-per-group frame of key values.

    Returns
    -------
    codes : numpy.ndarray of int64
        Group number (0 … G−1, in sorted key order) of each row of ``df``; all zeros when
        ``keys`` is empty.
    keys_frame : pandas.DataFrame
        The key columns, one row per group in code order (an empty-column one-row frame when
        ``keys`` is empty). Use it as the left part of the output.
    """
    if not keys:
        return np.zeros(len(df), dtype=np.int64), pd.DataFrame(index=pd.RangeIndex(1))
    g = grouper(df[list(keys)], keys)
    codes = g.ngroup().to_numpy(dtype=np.int64)
    keys_frame = g.size().index.to_frame(index=False)
    # keep the original dtypes of the key columns (e.g. categorical, Int64)
    for k in keys:
        try:
            keys_frame[k] = keys_frame[k].astype(df[k].dtype)
        except (TypeError, ValueError):
            pass
    return codes, keys_frame


def group_sums(
    codes: np.ndarray,
    n_groups: int,
    values: np.ndarray,
    *,
    skipna: bool = True,
) -> np.ndarray:
    """Sum ``values`` within groups given by ``codes`` (0 … n_groups−1) with ``np.bincount``.

    ``skipna=True`` treats NaN as 0 (R's ``sum(na.rm = TRUE)``); ``skipna=False`` makes the
    sum of any group containing a NaN NaN (R's plain ``sum``).
    """
    values = np.asarray(values, dtype=float)
    nan = np.isnan(values)
    out = np.bincount(codes, weights=np.where(nan, 0.0, values), minlength=n_groups).astype(float)  # float when empty too
    if not skipna and nan.any():
        has_nan = np.bincount(codes, weights=nan.astype(float), minlength=n_groups) > 0
        out = np.where(has_nan, np.nan, out)
    return out


def assemble(keys_frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """Output frame: the grouping columns followed by ``columns`` (name → array/scalar).

    The index is a fresh ``RangeIndex``.
    """
    out = keys_frame.reset_index(drop=True).copy()
    n = len(out)
    for name, vals in columns.items():
        if np.ndim(vals) == 0:
            out[name] = [vals] * n if isinstance(vals, str) or vals is None else vals
        else:
            out[name] = vals
    return out
