"""cdp-analysis: reproducible substance-misuse needs assessments for England's Combating Drugs Partnerships.

Layers, each a folder, each importing only the layers above it in this list:

- :mod:`~cdp_analysis.data` — the data register, readers for published files, the parse cache, and one
  module per published dataset;
- :mod:`~cdp_analysis.stats` — OHID/Fingertips statistical methods (PHEindicatormethods);
- :mod:`~cdp_analysis.areas` — geography, boundary changes, population on current areas, comparators, the one
  aggregation rule (members to CDP, areas to region), params files (generic) and the ``Partnership`` object;
- :mod:`~cdp_analysis.output` — tidy tables, figures, notebook helpers, provenance, report, manifest;
- :mod:`~cdp_analysis.chapters` — the chapter registry (params schema, a CDP's chapters), the CDPs of the params
  files, and one package per chapter (declaration, settings, compute, presentation);
- :mod:`~cdp_analysis.runner`, :mod:`~cdp_analysis.cli` — running notebooks for CDPs.

Shared utilities: :mod:`~cdp_analysis.errors`, :mod:`~cdp_analysis.paths`, :mod:`~cdp_analysis.memo`,
:mod:`~cdp_analysis.files`. See ``docs/architecture.md``.
"""

__version__ = "0.1.0"

#: pandas options the package sets when it is imported (and a warm kernel sets again after resetting pandas).
#: pandas 3 keeps text columns in Arrow by default, and every selection of rows then calls Arrow once per column
#: (about 30 µs); the chapters select from small tables tens of thousands of times per CDP. The same ``str``
#: dtype kept as Python strings (the same missing value, the same methods, the same CSV text) selects with
#: NumPy: about 1.5 s less per CDP (docs/performance.md, issue 29).
PANDAS_OPTIONS = {"mode.string_storage": "python"}


def use_pandas_options() -> None:
    """Set :data:`PANDAS_OPTIONS` (done when the package is imported, before any table is read)."""
    import pandas as pd

    for name, value in PANDAS_OPTIONS.items():
        pd.set_option(name, value)


use_pandas_options()


def clear_caches() -> None:
    """Forget every in-memory cached table (after changing ``CDP_ANALYSIS_ROOT`` or files in ``data/raw``)."""
    from .memo import clear_all

    clear_all()
