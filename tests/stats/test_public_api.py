"""The public names of cdp_analysis.stats promised by the statistics-core issue, with their keyword arguments."""

import inspect

import cdp_analysis.stats as st


def test_public_functions_and_keywords():
    expected = {
        "wilson_limits": ["x", "n", "confidence"],
        "byars_limits": ["x", "confidence"],
        "exact_poisson_limits": ["x", "confidence"],
        "proportion": ["df", "x", "n", "group_by", "confidence", "multiplier"],
        "crude_rate": ["df", "x", "n", "group_by", "confidence", "multiplier"],
        "dsr": ["df", "x", "n", "group_by", "stdpop", "confidence", "multiplier", "independent_events", "eventfreq"],
        "isr_ratio": ["df", "x", "n", "x_ref", "n_ref", "group_by", "confidence", "refvalue", "observed_totals"],
        "isr_rate": ["df", "x", "n", "x_ref", "n_ref", "group_by", "confidence", "refvalue", "observed_totals",
                     "multiplier"],
        "mean": ["df", "x", "group_by", "confidence"],
    }
    for name, params in expected.items():
        sig = inspect.signature(getattr(st, name))
        missing = [p for p in params if p not in sig.parameters]
        assert not missing, f"{name} lacks {missing}"
    for name in ["funnel_limits", "funnel_significance", "compare_to_benchmark", "recent_trend", "sii"]:
        assert callable(getattr(st, name)) and getattr(st, name).__doc__
