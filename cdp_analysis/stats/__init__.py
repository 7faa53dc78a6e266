"""OHID Fingertips statistical methods, equal to the R package PHEindicatormethods (UKHSA v2.1).

One interface for all: a DataFrame in, the names of its count/denominator columns, optional
``group_by``; a new DataFrame out with the grouping columns, ``value``, the limits (``lowercl``/``uppercl``
for one level; ``lower95_0cl`` … ``upper99_8cl`` for the pair 0.95/0.998), ``confidence``, ``statistic``
and ``method``. See ``docs/methods.md`` for every formula and edge rule.

- Primitives: :func:`wilson_limits`, :func:`byars_limits`, :func:`exact_poisson_limits`
- Indicators: :func:`proportion`, :func:`crude_rate`, :func:`mean`, :func:`dsr`, :func:`isr_ratio`,
  :func:`isr_rate`, :func:`expected_counts`
- Comparison: :func:`compare_to_benchmark`, :func:`funnel_limits`, :func:`funnel_significance` (both with
  ``overdispersion=True`` for proportions), :func:`funnel_overdispersion` (φ and τ², Spiegelhalter 2005)
- Trend and inequality: :func:`recent_trend`, :func:`sii`; trend models of annual counts: :func:`poisson_trend`,
  :func:`joinpoint`, :func:`compare_trends`, :func:`compare_window` (area against reference over a recent window)
- Synthetic estimates: :func:`synthetic_estimate`, :func:`calibrate`, :func:`rake` (iterative proportional fitting)
- Treatment need: :func:`met_need` (met and unmet need with OHID's limits), :func:`places_needed` (capacity to reach a target)
"""

from . import disclosure
from .compare import COMPARISON_LEVELS, POLARITIES, compare_to_benchmark, normalise_polarity
from .esp2013 import ESP2013, ESP2013_BANDS, esp2013
from .funnel import SIGNIFICANCE_LEVELS, funnel_limits, funnel_overdispersion, funnel_significance
from .inequality import sii
from .limits import byars_limits, exact_poisson_limits, normalise_confidence, wilson_limits, z_value
from .need import met_need, places_needed
from .raking import rake
from .rates import crude_rate, mean, proportion
from .standardised import dsr, dsr_limits_from_published, expected_counts, isr_rate, isr_ratio
from .synthetic import calibrate, synthetic_estimate
from .trend import TREND_CRITICAL_VALUE, TREND_LEVELS, recent_trend
from .trend_models import MIN_EVENTS, MIN_POINTS, compare_trends, compare_window, joinpoint, poisson_trend

__all__ = [
    "MIN_EVENTS", "MIN_POINTS", "disclosure",
    "wilson_limits", "byars_limits", "exact_poisson_limits", "normalise_confidence", "z_value",
    "proportion", "crude_rate", "mean", "dsr", "dsr_limits_from_published", "isr_ratio", "isr_rate", "expected_counts",
    "ESP2013", "ESP2013_BANDS", "esp2013",
    "compare_to_benchmark", "normalise_polarity", "POLARITIES", "COMPARISON_LEVELS",
    "funnel_limits", "funnel_significance", "funnel_overdispersion", "SIGNIFICANCE_LEVELS",
    "recent_trend", "TREND_CRITICAL_VALUE", "TREND_LEVELS", "sii", "synthetic_estimate", "calibrate", "rake",
    "met_need",
    "places_needed",
    "poisson_trend", "joinpoint", "compare_trends", "compare_window",
]
