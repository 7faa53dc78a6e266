"""Output: everything that writes or shows results.

- :mod:`.tidy` — the one tidy-table schema, deterministic CSV writing, and the adapter from
  :mod:`cdp_analysis.stats` results to tidy columns;
- :mod:`.figures` — chart style and deterministic SVG (and, when asked for, PNG) writing, alternative text;
- :mod:`.notebook` — what chapter notebooks call to show and write tables and figures;
- :mod:`.provenance` — which data files each output table and figure was computed from;
- :mod:`.report` — the code-free HTML report of a CDP's executed notebooks;
- :mod:`.manifest` — ``run.json``.

Layer rule: output imports ``data``, ``stats`` and ``areas`` and the package's utilities, never ``chapters``.
"""
