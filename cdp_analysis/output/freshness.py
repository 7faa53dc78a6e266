"""How old a figure is: the period it describes against the day the report is produced.

A figure is **old** when its period ended more than ``years`` whole years before the production date, counting
by the period's last year (:func:`cdp_analysis.data.sources.period_key`: 'mid-2022' and '2019-21' end in 2022
and 2021, '2021/22' in 2022). The summary and the outcomes dashboard mark such a figure and name the datasets a
``cdp update`` would bring up to date (those whose module declares a source).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from ..data import datasets, register
from ..data.sources import period_key

log = logging.getLogger(__name__)

#: The default for the outcomes chapter's ``old_after_years`` setting.
DEFAULT_YEARS = 3


def as_date(value: str | datetime.date | None) -> datetime.date:
    """A production date from a notebook parameter ('2026-12-06'); today when None or ''."""
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value) if value else datetime.date.today()


def is_old(period: str, as_of: datetime.date, years: int = DEFAULT_YEARS) -> bool:
    """Whether ``period`` ended more than ``years`` years before ``as_of`` (False for a period with no year)."""
    end = period_key(period)[0]
    return bool(end) and as_of.year - end > years


def mark(period: str, as_of: datetime.date, years: int = DEFAULT_YEARS) -> str:
    """The period as a table shows it: '2016-18 (old)' for an old figure, else the period unchanged."""
    return f"{period} (old)" if period and is_old(period, as_of, years) else period


def updatable(sources: Iterable[str]) -> list[str]:
    """The titles of the datasets behind these ``source`` citations that ``cdp update`` can refresh, in the
    order of the dataset modules."""
    kinds = set()
    for source in sources:
        try:
            kinds |= {e.kind for e in register.resolve_source(str(source))}
        except KeyError:  # local data or an analyst's own file: nothing to update
            continue
    return [ds.title for ds in datasets().values() if ds.source is not None and kinds & {k.kind for k in ds.kinds}]


def old_line(periods_sources: Iterable[tuple[str, str]], as_of: datetime.date, years: int = DEFAULT_YEARS) -> str:
    """One sentence for the summary on old figures: how many, and which datasets a ``cdp update`` would
    refresh; '' when no figure is old."""
    old = [(p, s) for p, s in periods_sources if p and is_old(p, as_of, years)]
    if not old:
        return ""
    titles = updatable(s for _, s in old)
    text = (f"Marked old: {len(old)} figure{'s' if len(old) > 1 else ''} whose period ended more than {years} years "
            f"before {as_of:%-d %B %Y}.")
    if titles:
        text += " Newer editions of " + "; ".join(titles) + " may be published: cdp update brings them in."
    else:
        text += " They are the newest editions the publishers hold in a form the suite reads."
    return text
