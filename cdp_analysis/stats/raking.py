"""Raking (iterative proportional fitting): a table of cells adjusted until it reproduces given margins.

Given a seed table :math:`x^{(0)}_{c}` over cells *c* and margins :math:`T_{m,g}` (for margin *m*, the target
total of the cells in group *g* of that margin), each pass scales every margin in turn:

.. math:: x_c \\leftarrow x_c \\cdot T_{m, g(c)} \\Big/ \\sum_{c' \\in g(c)} x_{c'}

until every margin is reproduced to a relative tolerance (Deming and Stephan 1940). With two margins whose
totals agree, the result is the table closest to the seed (in Kullback–Leibler divergence) that has both
margins; margins that disagree have no such table, and :func:`rake` says so rather than returning a table
that meets neither.

Used by the prevalence chapter to combine the Crime Survey's rates by age band (persons) with its rates by sex
× broad age band into rates by sex × age band (``docs/methods.md``, "Synthetic estimates at the finest
published age detail").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)


def rake(cells: pd.DataFrame, value: str, margins: Sequence[tuple[Sequence[str], pd.Series]], *,
         tol: float = 1e-12, max_iter: int = 500) -> pd.Series:
    """Adjust ``cells[value]`` until it sums to each margin's targets.

    Parameters
    ----------
    cells : DataFrame
        One row per cell, with the key columns of every margin and the seed ``value`` (≥ 0).
    value : str
        The seed column (e.g. persons).
    margins : sequence of (keys, targets)
        ``keys`` are columns of ``cells``; ``targets`` is a Series indexed by those columns (a MultiIndex in the
        same order when there are several) giving the total the cells of each group must reach. Several
        independent tables are raked at once by putting their identifying columns in every margin's keys.
    tol : float
        Largest relative difference allowed between a group's total and its target.
    max_iter : int
        Passes over all margins before giving up.

    Returns
    -------
    Series
        The raked values, aligned with ``cells``.

    Raises
    ------
    ValueError
        If a cell group has no target, a target is negative, a group with a positive target has only zero
        cells, or the margins are not reproduced within ``max_iter`` passes (their totals disagree).
    """
    x = cells[value].to_numpy(dtype=float).copy()
    if np.isnan(x).any() or (x < 0).any():
        raise ValueError(f"'{value}' must hold non-negative numbers in every cell")
    groups = []
    for keys, targets in margins:
        keys = list(keys)
        index = pd.MultiIndex.from_frame(cells[keys]) if len(keys) > 1 else pd.Index(cells[keys[0]])
        codes, uniques = index.factorize()
        target = pd.Series(targets).reindex(uniques).to_numpy(dtype=float)
        if np.isnan(target).any():
            missing = uniques[np.isnan(target)][0]
            raise ValueError(f"no target for the group {missing} of the margin {keys}")
        if (target < 0).any():
            raise ValueError(f"a target of the margin {keys} is negative")
        groups.append((keys, codes, target))
    for iteration in range(1, max_iter + 1):
        for keys, codes, target in groups:
            sums = np.bincount(codes, weights=x, minlength=len(target))
            if ((sums == 0) & (target > 0)).any():
                raise ValueError(f"a group of the margin {keys} has a positive target but no seed in its cells")
            factor = np.divide(target, sums, out=np.ones_like(target), where=sums > 0)
            x *= factor[codes]
        worst = max(_deviation(np.bincount(c, weights=x, minlength=len(t)), t) for _, c, t in groups)
        if worst <= tol:
            log.debug("raked %d cells to %d margins in %d passes", len(x), len(groups), iteration)
            return pd.Series(x, index=cells.index, name=value)
    raise ValueError(f"the margins were not reproduced after {max_iter} passes (largest relative difference "
                     f"{worst:.2g}): their totals disagree; reconcile them first")


def _deviation(sums: np.ndarray, target: np.ndarray) -> float:
    """Largest relative difference between group totals and their targets (absolute where a target is 0)."""
    scale = np.where(target > 0, target, 1.0)
    return float(np.max(np.abs(sums - target) / scale)) if len(target) else 0.0
