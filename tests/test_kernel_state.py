"""What a warm kernel puts back before each notebook (cdp_analysis.kernel_state) beyond ``%reset``: the package's
pandas options (cdp_analysis.PANDAS_OPTIONS, also set on import), and the objects left out of garbage collection."""

import gc
import io
import weakref

import pandas as pd

import cdp_analysis
from cdp_analysis import kernel_state


def test_text_read_by_the_package_is_held_as_python_strings():
    assert pd.get_option("mode.string_storage") == "python"
    buf = io.BytesIO()
    pd.DataFrame({"area": ["E10000024", None]}).to_parquet(buf)
    read = pd.read_parquet(io.BytesIO(buf.getvalue()))["area"]
    assert read.dtype == "str" and read.dtype.storage == "python"  # the same dtype and missing value, NumPy-held
    assert read.isna().tolist() == [False, True]


def test_a_warm_kernel_reset_keeps_the_package_options_and_resets_the_rest(monkeypatch):
    monkeypatch.setattr(kernel_state, "_RC", {})
    monkeypatch.setattr(kernel_state, "_START", {})
    monkeypatch.setattr(kernel_state, "_RESTORES", [0])
    kernel_state.restore()  # the first notebook: the reference state is remembered
    rows = pd.get_option("display.max_rows")
    pd.set_option("display.max_rows", 7)
    pd.set_option("mode.string_storage", "pyarrow")  # a notebook may change either
    try:
        kernel_state.restore()  # before the next notebook
        assert pd.get_option("display.max_rows") == rows != 7
        for name, value in cdp_analysis.PANDAS_OPTIONS.items():
            assert pd.get_option(name) == value
    finally:
        cdp_analysis.use_pandas_options()
        gc.unfreeze()  # restore() froze this process's objects


class _Cycle:
    def __init__(self):
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_a_cycle_frozen_with_the_kernels_state_is_freed_by_the_next_full_collection(monkeypatch):
    monkeypatch.setattr(kernel_state, "_RESTORES", [0])
    try:
        kernel_state._freeze()  # the first notebook
        cycle = _Cycle()
        alive = weakref.ref(cycle)
        kernel_state._freeze()  # the second: the cycle is alive, so it is frozen
        assert gc.get_freeze_count() > 0
        del cycle
        gc.collect()
        assert alive() is not None  # a frozen cycle is skipped by collections (the point: they are cheap)
        for _ in range(kernel_state.FULL_COLLECTION_EVERY - 3):
            kernel_state._freeze()
            assert alive() is not None
        kernel_state._freeze()  # the FULL_COLLECTION_EVERY-th notebook: every object is looked at again
        assert alive() is None
    finally:
        gc.unfreeze()


def test_a_figure_left_open_is_freed_at_the_reset_not_frozen(monkeypatch):
    """A figure made but never shown is closed by restore(), after %reset's collection: it is collected then,
    not frozen with the kernel's state until the next full collection."""
    import matplotlib.pyplot as plt

    monkeypatch.setattr(kernel_state, "_RC", {})  # the first notebook's state: what this test leaves behind is its own
    monkeypatch.setattr(kernel_state, "_START", {})
    monkeypatch.setattr(kernel_state, "_RESTORES", [1])  # not a notebook with a full collection
    fig = plt.figure()
    alive = weakref.ref(fig)
    del fig
    try:
        kernel_state.restore()  # after %reset's collection, which left it: pyplot still held it
        assert alive() is None
    finally:
        gc.unfreeze()
