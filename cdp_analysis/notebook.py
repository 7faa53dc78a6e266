"""Helpers the chapter notebooks call, so that notebooks hold narrative and calls only.

* :func:`partnership_from_parameters` — turn the papermill ``parameters`` cell back into a validated
  :class:`~cdp_analysis.partnerships.Partnership` (the same checks as ``cdp run``).
* :func:`show_table` — write a tidy table to ``tables/`` and display a readable wide view of it.
* :func:`show_figure` — write a figure to ``figures/`` and display it.
"""

from __future__ import annotations

import logging
import sys

import matplotlib.pyplot as plt
import pandas as pd

from . import figures, geography, partnerships, tables
from .errors import InputError
from .params import RunSettings

log = logging.getLogger(__name__)


def setup_logging() -> None:
    """Send this package's INFO messages to stderr in a kernel (so they reach ``run.log``), once."""
    root = logging.getLogger("cdp_analysis")
    if not any(getattr(h, "_cdp", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._cdp = True
        root.addHandler(handler)
        root.setLevel(logging.WARNING)


def partnership_from_parameters(cdp_slug: str, cdp_name: str, members: list[str], population_years: list[int],
                                n_neighbours: int, notebooks: list[str] | None = None) -> partnerships.Partnership:
    """Validate a notebook's parameters and return the CDP they describe.

    Raises
    ------
    InputError
        For an unknown or former area code, or parameters of the wrong type.
    """
    from pydantic import ValidationError

    valid = set(geography.utla_codes())
    if isinstance(members, str) or not all(isinstance(m, str) for m in members):
        raise InputError(f"members must be a list of area codes (got {members!r})", where="parameter 'members'",
                         hint="e.g. members = [\"E06000061\", \"E06000062\"]")
    for i, code in enumerate(members):
        if code not in valid:
            try:
                area = geography.area(code)
            except InputError as exc:  # a former or mistyped code: keep its explanation, add where it is
                raise InputError(exc.problem, where=f"parameter 'members', item {i + 1}", hint=exc.hint) from None
            raise InputError(f"'{code}' ({area['name']}) is a {area['level']}, not an upper-tier area",
                             where=f"parameter 'members', item {i + 1}", hint="list upper-tier area codes")
    try:
        settings = RunSettings(notebooks=notebooks or partnerships.defaults().notebooks,
                               population_years=population_years, n_neighbours=n_neighbours)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(f"{err['msg']} (got {err.get('input')!r})",
                         where=f"parameter '{err['loc'][0]}'", hint="see params/defaults.yaml") from None
    names = tuple(geography.name_of(c) for c in members)
    return partnerships.Partnership(slug=cdp_slug, name=cdp_name, members=tuple(members), settings=settings,
                                    source="notebook parameters", member_names=names)


def wide_view(table: pd.DataFrame, *, index: list[str], columns: str | list[str], digits: int = 1,
              measure: str | None = None) -> pd.DataFrame:
    """A readable pivot of a tidy table for display (values rounded; integers shown without decimals)."""
    t = table if measure is None else table[table["measure"] == measure]
    if "area_role" in t.columns:  # CDP, members, region, England, neighbours: the order readers expect
        t = t.sort_values("area_role", key=lambda r: r.map(tables.ROLE_ORDER), kind="stable")
    wide = t.pivot_table(index=index, columns=columns, values="value", sort=False, observed=True)
    wide.columns.name = None
    return wide.round(digits)


def _column_formats(frame: pd.DataFrame) -> dict:
    """Per column: counts and ranks (all whole numbers) with no decimals, other numbers to one decimal place."""
    formats = {}
    for col in frame.columns:
        values = frame[col]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            whole = values.dropna().apply(lambda v: float(v).is_integer()).all()
            formats[col] = "{:,.0f}" if whole else "{:,.1f}"
    return formats


def show_table(table: pd.DataFrame, name: str, output_dir: str, view: pd.DataFrame | None = None,
               caption: str | None = None):
    """Write ``tables/<name>.csv`` (tidy) and display ``view`` (or the tidy table) in the notebook."""
    from IPython.display import display

    saved = tables.save_table(table, name, output_dir)
    shown = saved if view is None else view
    styler = shown.style.format(_column_formats(shown), na_rep="").set_uuid(name)  # fixed id: same HTML every run
    if caption:
        styler = styler.set_caption(caption)
    display(styler)


def show_figure(fig: plt.Figure, name: str, output_dir: str) -> None:
    """Write ``figures/<name>.png`` and display it, with alternative text for screen readers."""
    from IPython.display import Image, display

    data = figures.save_figure(fig, name, output_dir)
    display(Image(data=data, format="png", alt=figures.alt_text(fig)))
    plt.close(fig)
