"""The package's pandas options (cdp_analysis.PANDAS_OPTIONS): set on import, and again in a warm kernel after
the reset that puts back a new kernel's state before each notebook."""

import io

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
