"""Run inside a warm kernel before each notebook: put back the state a new kernel would have.

:mod:`cdp_analysis.kernels` runs ``%reset -f`` (the user namespace) and then :func:`restore`, which covers
what ``%reset`` does not: open matplotlib figures, matplotlib's settings (``rcParams``: a notebook's
``figures.style()`` changes them) and Python's record of warnings already shown once (so a warning a notebook
shows in a new kernel is shown in a warm one too). Loaded modules and the package's memoised tables are kept
on purpose: they are the point of a warm kernel.
"""

from __future__ import annotations

import warnings

_RC: dict = {}


def restore() -> None:
    """Close every figure, restore matplotlib's settings as they were before the first notebook, and re-arm
    once-only warnings."""
    import matplotlib
    import matplotlib.pyplot as plt

    plt.close("all")
    if not _RC:  # the first notebook in this kernel: remember the settings a new kernel starts with
        _RC.update(dict(matplotlib.rcParams))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # deprecated keys are copied back as they were, without comment
            dict.update(matplotlib.rcParams, _RC)
    # warnings shown 'once' or 'default' per location are recorded per module; this invalidates the records
    mutated = getattr(warnings, "_filters_mutated", None)  # Python 3.11-3.12
    if mutated is not None:
        mutated()
