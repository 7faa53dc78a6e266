"""Run inside a warm kernel before each notebook: put back the state a new kernel would have.

:mod:`cdp_analysis.kernels` runs ``%reset -f`` (the user namespace) and then :func:`restore`, which covers
what ``%reset`` does not and a notebook may change: open matplotlib figures; matplotlib's settings
(``rcParams``: a notebook's ``figures.style()`` changes them); the warning filters and Python's record of
warnings already shown (so a warning a notebook shows in a new kernel is shown in a warm one too); pandas'
display and computation options (then the package's own, :data:`cdp_analysis.PANDAS_OPTIONS`); the working
directory. The state of the first notebook's start is the reference. What is alive after the reset is frozen out
of later garbage collections (:func:`_freeze`). Loaded modules and the package's memoised tables are kept on
purpose: they are the point of a warm kernel. NumPy's global random generator is not reset: a new kernel seeds it
from the operating system, so no notebook may rely on it (the package passes explicit seeds, e.g.
``stats.inequality``).
"""

from __future__ import annotations

import gc
import os
import warnings

_RC: dict = {}
_START: dict = {}
#: Every this many notebooks (four CDPs of six chapters), the cyclic garbage collector looks at every object again
#: (see :func:`_freeze`). Such a collection looks at about 400,000 objects with a batch's tables loaded: about 0.2 s.
FULL_COLLECTION_EVERY = 24
_RESTORES = [0]


def restore() -> None:
    """Close every figure and put back matplotlib's settings, the warning filters and records, pandas' options
    and the working directory as they were before the first notebook in this kernel."""
    import matplotlib
    import matplotlib.pyplot as plt
    import pandas as pd

    import cdp_analysis

    if plt.get_fignums():  # a figure made but not shown: closed here, after %reset's collection, so collect it
        plt.close("all")   # now rather than freeze it until the next full collection
        gc.collect()
    _freeze()
    if not _RC:  # the first notebook in this kernel: remember the state a new kernel starts with
        _RC.update(dict(matplotlib.rcParams))
        _START.update(filters=list(warnings.filters), cwd=os.getcwd())
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated keys are copied back as they were, without comment
        dict.update(matplotlib.rcParams, _RC)
        pd.reset_option("all")
        cdp_analysis.use_pandas_options()  # the package's own, as a new kernel has them once it imports it
    os.chdir(_START["cwd"])
    # any change of the filters invalidates every module's record of warnings already shown; then the
    # filters are put back as they were
    warnings.filterwarnings("ignore", message="^cdp-analysis: reset warning records$")
    warnings.filters[:] = _START["filters"]
    warnings.onceregistry.clear()


def _freeze() -> None:
    """Leave what is alive now (modules, memoised tables) out of later garbage collections.

    ``%reset`` ends with a full collection, which looks at every object the kernel holds: about 0.2 s with a
    batch's tables loaded, paid before each notebook. Frozen objects (:func:`gc.freeze`) are skipped by it, and
    are still freed by reference counting when dropped; only a reference cycle among them waits, until the full
    collection every :data:`FULL_COLLECTION_EVERY` notebooks, so memory cannot grow across a batch. (Figures, the
    notebooks' main source of cycles, are closed and collected before the freeze: see :func:`restore`.)
    """
    _RESTORES[0] += 1
    if _RESTORES[0] % FULL_COLLECTION_EVERY == 0:
        gc.unfreeze()
        gc.collect()
    gc.freeze()
