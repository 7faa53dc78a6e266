"""Data access: the register of raw files, readers for published formats, the parse cache, and one
module per published dataset.

Layer rule: modules here import only each other and the package's ``errors``, ``paths``, ``memo`` and
``files``; never ``areas``, ``chapters`` or ``output``.

Dataset modules (one per published source; each declares a :class:`~cdp_analysis.data.register.Dataset`
named ``DATASET`` with its file kinds and its loader):

- :mod:`.ons_population` — ONS mid-year population estimates (MYE2), with :mod:`.ons_population_xls`
  finding the tables of its old Excel (``.xls``) editions;
- :mod:`.imd2019` — English Indices of Deprivation 2019 for current upper-tier areas;
- :mod:`.ons_nearest_neighbours` — ONS local authority statistical nearest neighbours;
- :mod:`.lookups` — the current upper-tier areas and the code changes since 2009;
- :mod:`.ons_population_series` — ONS MYEB3 total population of every district, each mid-year of the series;
- :mod:`.census_ts007` — Census 2021 age by single year (TS007) for lower- and upper-tier areas.

Infrastructure: :mod:`.register` (the data register, file kinds, citations), :mod:`.readers` (tables
from published spreadsheets and CSVs, with row/column errors), :mod:`.cache` (parquet cache by checksum).
"""

from __future__ import annotations

import importlib
import pkgutil

_INFRASTRUCTURE = {"register", "readers", "cache", "sources", "web"}


def datasets() -> dict:
    """Every dataset module's ``DATASET``, by name (the modules are imported on first call)."""
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name in _INFRASTRUCTURE or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        ds = getattr(module, "DATASET", None)
        if ds is not None:
            found[ds.name] = ds
    return found
