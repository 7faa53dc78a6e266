"""Confidence-limit primitives used by every indicator in :mod:`cdp_analysis.stats`.

These follow the OHID Fingertips / PHEindicatormethods (UKHSA, v2.1) definitions exactly.
All functions are vectorised: scalars, lists, NumPy arrays and pandas Series are accepted and
``(lower, upper)`` NumPy float arrays of the broadcast shape are returned (0-d for scalars).

Confidence may be given as a fraction (0.95) or a percentage (95); see :func:`normalise_confidence`.

Formulas (z = Φ⁻¹(1 − α/2), α = 1 − confidence):

* Wilson score interval for a proportion p = x/n::

      (2x + z² ± z·√(z² + 4x(1 − x/n))) / (2(n + z²))

* Byar's approximation to the exact Poisson limits of a count x::

      lower = x·(1 − 1/(9x) − z/(3√x))³
      upper = (x + 1)·(1 − 1/(9(x + 1)) + z/(3√(x + 1)))³

  A negative (or undefined, x = 0) lower limit is returned as NaN, as the reference package does.

* Exact Poisson limits of a count x from the chi-square distribution::

      lower = χ²_{α/2}(2x) / 2        (0 when x = 0)
      upper = χ²_{1−α/2}(2x + 2) / 2
"""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "normalise_confidence",
    "z_value",
    "wilson_limits",
    "byars_limits",
    "exact_poisson_limits",
]


def normalise_confidence(confidence: float) -> float:
    """Return a confidence level as a fraction in (0, 1).

    Parameters
    ----------
    confidence : float
        0.95 or 95 (values >= 1 are read as percentages; 90 <= c < 100 expected but any
        value in (0, 100) is accepted).

    Raises
    ------
    ValueError
        If the level is not in (0, 1) once read as a fraction.
    """
    try:
        c = float(confidence)
    except (TypeError, ValueError):
        raise ValueError(f"confidence must be a number such as 0.95 or 95, got {confidence!r}") from None
    if c >= 1:
        c = c / 100.0
    if not 0 < c < 1:
        raise ValueError(f"confidence must lie between 0 and 1 (or 0 and 100 as a percentage), got {confidence!r}")
    return c


def z_value(confidence: float) -> float:
    """Two-sided standard normal quantile z = Φ⁻¹(1 − α/2) for a confidence level."""
    # SciPy is imported when first used: `cdp run` of up-to-date CDPs never needs it
    from scipy import stats as _st

    c = normalise_confidence(confidence)
    return float(_st.norm.ppf(c + (1 - c) / 2))


def _as_float_array(values, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numeric; got values that cannot be read as numbers") from None


def wilson_limits(x, n, confidence: float = 0.95):
    """Wilson score confidence limits of the proportion x/n (as a fraction, not × multiplier).

    Parameters
    ----------
    x, n : array-like
        Numerator and denominator counts (x >= 0, n > 0; x <= n). NaN propagates.
    confidence : float
        0.95, 0.998, 95, ...

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray
        Limits on the 0–1 scale; defined at x = 0 (lower = 0) and x = n (upper = 1).
    """
    z = z_value(confidence)
    x = _as_float_array(x, "x")
    n = _as_float_array(n, "n")
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        denom = 2 * (n + z**2)
        lower = (centre - spread) / denom
        upper = (centre + spread) / denom
    return lower, upper


def byars_limits(x, confidence: float = 0.95):
    """Byar's approximate Poisson confidence limits of a count x.

    Parameters
    ----------
    x : array-like
        Non-negative counts. NaN propagates.
    confidence : float
        0.95, 0.998, 95, ...

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray
        Limits on the count scale. A negative lower limit (small x) and the lower limit at
        x = 0 are NaN ("missing"), as in PHEindicatormethods ``byars_lower``.
    """
    z = z_value(confidence)
    x = _as_float_array(x, "x")
    with np.errstate(invalid="ignore", divide="ignore"):
        lower = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        x1 = x + 1
        upper = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
    lower = np.where(np.isfinite(lower) & (lower >= 0), lower, np.nan)
    return lower, upper


def exact_poisson_limits(x, confidence: float = 0.95):
    """Exact Poisson confidence limits of a count x (chi-square method).

    Parameters
    ----------
    x : array-like
        Non-negative counts. NaN propagates.
    confidence : float
        0.95, 0.998, 95, ...

    Returns
    -------
    (lower, upper) : tuple of numpy.ndarray
        ``lower = chi2.ppf(α/2, 2x)/2`` (0 at x = 0), ``upper = chi2.ppf(1 − α/2, 2x + 2)/2``.
    """
    # SciPy is imported when first used: `cdp run` of up-to-date CDPs never needs it
    from scipy import stats as _st

    c = normalise_confidence(confidence)
    a = 1 - c
    x = _as_float_array(x, "x")
    with np.errstate(invalid="ignore"):
        lower = np.where(x == 0, 0.0, _st.chi2.ppf(a / 2, 2 * x) / 2)
        upper = _st.chi2.ppf(1 - a / 2, 2 * x + 2) / 2
    lower = np.where(np.isnan(x), np.nan, lower)
    return lower, upper
