"""Stellar physics from photometry: temperature, bolometric correction, luminosity.

All functions are vectorised over numpy arrays and pass NaN through: a missing
input gives a missing output, never a default value.

- Effective temperature from B-V: Ballesteros 2012, EPL 97, 34970,
  T = 4600 K (1/(0.92 (B-V) + 1.7) + 1/(0.92 (B-V) + 0.62)), derived from a
  blackbody; applied inside `BV_RANGE` only (bluer, the denominators approach
  zero; redder, molecular bands and carbon-star colours make it meaningless).
- Bolometric correction in V from log Teff: the Flower 1996 (ApJ 469, 355)
  polynomials with the coefficients as corrected and reprinted by Torres 2010,
  AJ 140, 1158, Table 1.
- Luminosity: M_bol = M_V + BC_V and L/Lsun = 10**(-0.4 (M_bol - 4.74)), with
  M_bol,sun = 4.74 (the IAU 2015 Resolution B2 nominal value).
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

MBOL_SUN = 4.74
"""Absolute bolometric magnitude of the Sun (IAU 2015 B2)."""

TEFF_SUN_K = 5772.0
"""Nominal solar effective temperature (IAU 2015 Resolution B3)."""

BV_RANGE = (-0.4, 2.0)
"""B-V interval over which `teff_from_bv` is applied; NaN outside it."""

# Torres 2010, Table 1: BC_V = a + b log T + c (log T)^2 + ... for three ranges of
# log Teff; each tuple lists a, b, c, ... in increasing power.
_BC_COEFFICIENTS = (
    (
        -0.190537291496456e05,
        0.155144866764412e05,
        -0.421278819301717e04,
        0.381476328422343e03,
    ),
    (
        -0.370510203809015e05,
        0.385672629965804e05,
        -0.150651486316025e05,
        0.261724637119416e04,
        -0.170623810323864e03,
    ),
    (
        -0.118115450538963e06,
        0.137145973583929e06,
        -0.636233812100225e05,
        0.147412923562646e05,
        -0.170587278406872e04,
        0.788731721804990e02,
    ),
)
_LOG_TEFF_BREAKS = (3.70, 3.90)


def teff_from_bv(bv: ArrayLike) -> np.ndarray:
    """Return Teff (K) from B-V by Ballesteros 2012, NaN outside `BV_RANGE`."""
    colour = np.asarray(bv, dtype=np.float64)
    inside = (colour >= BV_RANGE[0]) & (colour <= BV_RANGE[1])
    c = np.where(inside, colour, np.nan)
    return 4600.0 * (1.0 / (0.92 * c + 1.7) + 1.0 / (0.92 * c + 0.62))


def bolometric_correction(teff_k: ArrayLike) -> np.ndarray:
    """Return BC_V (mag) for effective temperatures (Flower 1996 via Torres 2010)."""
    teff = np.asarray(teff_k, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_t = np.log10(np.where(teff > 0, teff, np.nan))
    segment = np.digitize(np.nan_to_num(log_t), _LOG_TEFF_BREAKS)
    out = np.full(teff.shape, np.nan)
    for i, coefficients in enumerate(_BC_COEFFICIENTS):
        chosen = (segment == i) & np.isfinite(log_t)
        out[chosen] = np.polynomial.polynomial.polyval(log_t[chosen], coefficients)
    return out


def absolute_magnitude(apparent_mag: ArrayLike, dist_pc: ArrayLike) -> np.ndarray:
    """Return absolute magnitude M = m - 5 log10(d / 10 pc), NaN without a distance."""
    mag = np.asarray(apparent_mag, dtype=np.float64)
    dist = np.asarray(dist_pc, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        modulus = 5.0 * np.log10(np.where(dist > 0, dist, np.nan)) - 5.0
    return mag - modulus


def luminosity_from_magnitude(abs_vmag: ArrayLike, teff_k: ArrayLike) -> np.ndarray:
    """Return L/Lsun from absolute V magnitude and Teff, via BC_V(Teff)."""
    mbol = np.asarray(abs_vmag, dtype=np.float64) + bolometric_correction(teff_k)
    return 10.0 ** (-0.4 * (mbol - MBOL_SUN))


def luminosity_from_radius(radius_rsun: ArrayLike, teff_k: ArrayLike) -> np.ndarray:
    """Return L/Lsun = R^2 (Teff/Teff_sun)^4 (Stefan-Boltzmann in solar units)."""
    radius = np.asarray(radius_rsun, dtype=np.float64)
    teff = np.asarray(teff_k, dtype=np.float64)
    valid = (radius > 0) & (teff > 0)
    return np.where(valid, radius**2 * (teff / TEFF_SUN_K) ** 4, np.nan)


def bolometric_magnitude(luminosity_lsun: ArrayLike) -> np.ndarray:
    """Return M_bol for a luminosity in solar units, NaN for a non-positive one."""
    lum = np.asarray(luminosity_lsun, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return MBOL_SUN - 2.5 * np.log10(np.where(lum > 0, lum, np.nan))
