"""Kepler's equation and planet positions for every planet at once.

Solver: Markley's starter and single fifth-order correction (F. L. Markley 1995,
"Kepler Equation Solver", Celestial Mechanics and Dynamical Astronomy 63, 101-111),
and nothing else. Markley's starter is a cubic in ``E`` that is uniformly good
over ``0 <= e < 1`` and ``0 <= M <= pi``, including the hard corner
``e -> 1, M -> 0``, and after his correction the residual ``|E - e sin E - M|``
is at most 9e-16 rad (measured over dense grids up to ``e = 1 - 2**-52`` and
``M`` down to 1e-300; ``tests/kernels/test_kernel_orbits.py`` holds it to the
promised 1e-12), so no Newton step follows: the straight-line code costs the
same for every planet, one sin, one cos, one cbrt and one sqrt. Callers that
need ``sin E`` and ``cos E`` (positions) get them from the starter's sine and
cosine rotated by the small correction (a fifth-order series), not from new
calls, the trick exoplanet-core uses after Raposo-Pulido & Pelaez 2017. The
mean anomaly is reduced to ``[0, 2 pi)`` and folded onto ``[0, pi]`` with
``E(2 pi - M) = 2 pi - E(M)``. Positions take the orbit's phase
as ``((t - t_ref) mod P) / P`` in days, so its rounding does not grow with the
number of orbits elapsed since the reference epoch.

The true anomaly (``true_anomaly``, what exoplanet-core's ``kepler`` returns:
sin f and cos f) comes from that sine and cosine of E without atan2:
``cos f = (cos E - e) / (1 - e cos E)`` and ``sin f = sqrt(1 - e^2) sin E /
(1 - e cos E)``, with ``1 - cos E`` taken as ``sin^2 E / (1 + cos E)`` where
``cos E >= 0`` so that ``1 - e cos E = (1 - e) + e (1 - cos E)`` keeps its
digits at ``e -> 1`` near periapsis. The result agrees with the half-angle
formula ``tan(f/2) = sqrt((1 + e)/(1 - e)) tan(E/2)`` on the same E to 1e-12 rad.

Positions follow the usual two-body geometry (for example Murray & Dermott 1999,
"Solar System Dynamics", section 2.8): the orbit-plane position
``a (cos E - e), a sqrt(1 - e^2) sin E`` rotated by the argument of periapsis,
the inclination and the longitude of the ascending node into the frame that
those angles are measured in (the host's reference plane).

NaN handling, on purpose: a NaN mean anomaly, epoch, semi-major axis or angle
gives a NaN result for that planet only (the caller shows it as unknown); an
eccentricity outside ``[0, 1)`` or NaN, and a period that is not finite and
positive, are refused by the wrappers with ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import prange

from sim_kernels import _inputs, _jit

TWO_PI = 2.0 * math.pi
PI = math.pi
_MARKLEY_DENOM = PI * PI - 6.0


class TrueAnomaly(NamedTuple):
    """Sine and cosine of each planet's true anomaly f (what exoplanet-core returns)."""

    sin_f: np.ndarray
    cos_f: np.ndarray


class Positions(NamedTuple):
    """Cartesian positions in AU, one entry per planet, in the host's frame."""

    x_au: np.ndarray
    y_au: np.ndarray
    z_au: np.ndarray


# ---------------------------------------------------------------- Numba kernels


@_jit.function(inline="always")
def _markley(m: float, e: float) -> tuple[float, float, float]:
    """Return E and its sine and cosine for 0 <= m <= pi (Markley 1995)."""
    alpha = (3.0 * PI * PI + 1.6 * PI * (PI - m) / (1.0 + e)) / _MARKLEY_DENOM
    d = 3.0 * (1.0 - e) + alpha * e
    q = 2.0 * alpha * d * (1.0 - e) - m * m
    r = 3.0 * alpha * d * (d - 1.0 + e) * m + m * m * m
    w = np.cbrt(abs(r) + math.sqrt(q * q * q + r * r))
    w *= w  # x^(2/3) as cbrt(x)^2: cheaper than pow
    big_e = (2.0 * r * w / (w * w + w * q + q * q) + m) / d
    s0 = math.sin(big_e)
    c0 = math.cos(big_e)
    f2 = e * s0
    f3 = e * c0
    f0 = big_e - f2 - m
    f1 = 1.0 - f3
    d3 = -f0 / (f1 - 0.5 * f0 * f2 / f1)
    d4 = -f0 / (f1 + 0.5 * d3 * f2 + d3 * d3 * f3 / 6.0)
    d5 = -f0 / (f1 + 0.5 * d4 * f2 + d4 * d4 * f3 / 6.0 - d4 * d4 * d4 * f2 / 24.0)
    # sin and cos of E = E0 + d5 by rotation; |d5| < 1e-2, so the series'
    # next terms (d5^6/720, d5^7/5040) are below 1e-15.
    d2 = d5 * d5
    sd = d5 * (1.0 - d2 / 6.0 * (1.0 - d2 / 20.0))
    cd = 1.0 - d2 / 2.0 * (1.0 - d2 / 12.0)
    return big_e + d5, s0 * cd + c0 * sd, c0 * cd - s0 * sd


@_jit.function(inline="always")
def _kepler_one(mean_anomaly: float, e: float) -> tuple[float, float, float]:
    """Return E in [0, 2 pi], sin E and cos E for one planet; NaN in gives NaN."""
    m = mean_anomaly % TWO_PI
    flip = m > PI
    if flip:
        m = TWO_PI - m
    big_e, sin_e, cos_e = _markley(m, e)
    if flip:
        return TWO_PI - big_e, -sin_e, cos_e
    return big_e, sin_e, cos_e


@_jit.function(inline="always")
def _eccentric_anomaly_one(mean_anomaly: float, e: float) -> float:
    """Return E in [0, 2 pi] for one planet; NaN in gives NaN out."""
    return _kepler_one(mean_anomaly, e)[0]


@_jit.kernel
def _eccentric_anomaly_kernel(mean_anomaly, e, out):
    """Write E for each (M, e) pair into ``out``."""
    for i in prange(mean_anomaly.shape[0]):
        out[i] = _eccentric_anomaly_one(mean_anomaly[i], e[i])


@_jit.function(inline="always")
def _true_anomaly_one(mean_anomaly: float, e: float) -> tuple[float, float]:
    """Return sin f and cos f of the true anomaly for one planet, without atan2."""
    _, sin_e, cos_e = _kepler_one(mean_anomaly, e)
    # 1 - cos E as sin^2 E / (1 + cos E) near periapsis: written directly it
    # cancels there, and 1 - e cos E = (1 - e) + e (1 - cos E) with it at e -> 1.
    one_minus_cos = sin_e * sin_e / (1.0 + cos_e) if cos_e >= 0.0 else 1.0 - cos_e
    one_minus_e = 1.0 - e
    inverse = 1.0 / (one_minus_e + e * one_minus_cos)
    sin_f = math.sqrt(one_minus_e * (1.0 + e)) * sin_e * inverse
    return sin_f, (one_minus_e - one_minus_cos) * inverse


@_jit.kernel
def _true_anomaly_kernel(mean_anomaly, e, sin_f, cos_f):
    """Write sin f and cos f for each (M, e) pair (exoplanet-core's output)."""
    for i in prange(mean_anomaly.shape[0]):
        sin_f[i], cos_f[i] = _true_anomaly_one(mean_anomaly[i], e[i])


@_jit.kernel
def _positions_kernel(
    epoch, ref_epoch, m0, a, e, period, inc, arg_peri, long_node, out
):
    """Write x, y, z (AU) for each planet into the rows of ``out`` (3, n)."""
    for i in prange(epoch.shape[0]):
        phase = ((epoch[i] - ref_epoch[i]) % period[i]) / period[i]
        _, sin_e, cos_e = _kepler_one(m0[i] + TWO_PI * phase, e[i])
        xo = a[i] * (cos_e - e[i])
        yo = a[i] * math.sqrt((1.0 - e[i]) * (1.0 + e[i])) * sin_e
        cw, sw = math.cos(arg_peri[i]), math.sin(arg_peri[i])
        cn, sn = math.cos(long_node[i]), math.sin(long_node[i])
        ci, si = math.cos(inc[i]), math.sin(inc[i])
        out[0, i] = (cn * cw - sn * sw * ci) * xo - (cn * sw + sn * cw * ci) * yo
        out[1, i] = (sn * cw + cn * sw * ci) * xo - (sn * sw - cn * cw * ci) * yo
        out[2, i] = sw * si * xo + cw * si * yo


# ------------------------------------------------------------ NumPy reference


def _eccentric_anomaly_numpy(mean_anomaly: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Return E for each (M, e) pair: the plain NumPy reference of the kernel."""
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.mod(mean_anomaly, TWO_PI)
        flip = m > PI
        m = np.where(flip, TWO_PI - m, m)
        alpha = (3.0 * PI * PI + 1.6 * PI * (PI - m) / (1.0 + e)) / _MARKLEY_DENOM
        d = 3.0 * (1.0 - e) + alpha * e
        q = 2.0 * alpha * d * (1.0 - e) - m * m
        r = 3.0 * alpha * d * (d - 1.0 + e) * m + m * m * m
        w = np.cbrt(np.abs(r) + np.sqrt(q * q * q + r * r)) ** 2
        big_e = (2.0 * r * w / (w * w + w * q + q * q) + m) / d
        f2 = e * np.sin(big_e)
        f3 = e * np.cos(big_e)
        f0 = big_e - f2 - m
        f1 = 1.0 - f3
        d3 = -f0 / (f1 - 0.5 * f0 * f2 / f1)
        d4 = -f0 / (f1 + 0.5 * d3 * f2 + d3 * d3 * f3 / 6.0)
        d5 = -f0 / (f1 + 0.5 * d4 * f2 + d4 * d4 * f3 / 6.0 - d4**3 * f2 / 24.0)
        big_e = big_e + d5
        return np.where(flip, TWO_PI - big_e, big_e)


def _true_anomaly_numpy(
    mean_anomaly: np.ndarray, e: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return sin f and cos f for each (M, e) pair: the NumPy reference."""
    big_e = _eccentric_anomaly_numpy(mean_anomaly, e)
    sin_e, cos_e = np.sin(big_e), np.cos(big_e)
    with np.errstate(invalid="ignore", divide="ignore"):
        near = cos_e >= 0.0
        one_minus_cos = np.where(near, sin_e * sin_e / (1.0 + cos_e), 1.0 - cos_e)
        one_minus_e = 1.0 - e
        inverse = 1.0 / (one_minus_e + e * one_minus_cos)
        sin_f = np.sqrt(one_minus_e * (1.0 + e)) * sin_e * inverse
        return sin_f, (one_minus_e - one_minus_cos) * inverse


def _positions_numpy(
    epoch, ref_epoch, m0, a, e, period, inc, arg_peri, long_node
) -> np.ndarray:
    """Return x, y, z rows (AU): the plain NumPy reference of the kernel."""
    with np.errstate(invalid="ignore"):
        phase = np.mod(epoch - ref_epoch, period) / period
    big_e = _eccentric_anomaly_numpy(m0 + TWO_PI * phase, e)
    xo = a * (np.cos(big_e) - e)
    yo = a * np.sqrt((1.0 - e) * (1.0 + e)) * np.sin(big_e)
    cw, sw = np.cos(arg_peri), np.sin(arg_peri)
    cn, sn = np.cos(long_node), np.sin(long_node)
    ci, si = np.cos(inc), np.sin(inc)
    return np.stack(
        [
            (cn * cw - sn * sw * ci) * xo - (cn * sw + sn * cw * ci) * yo,
            (sn * cw + cn * sw * ci) * xo - (sn * sw - cn * cw * ci) * yo,
            sw * si * xo + cw * si * yo,
        ]
    )


# ------------------------------------------------------------ public wrappers


def _eccentricities(e: np.ndarray) -> None:
    """Raise unless every eccentricity is a bound orbit's, 0 <= e < 1."""
    bad = ~((e >= 0.0) & (e < 1.0))
    if bad.any():
        i = _inputs.first_bad(bad.ravel())
        raise ValueError(
            f"e: eccentricity must satisfy 0 <= e < 1 (bound orbits only, no NaN); "
            f"got {e.ravel()[i]!r} at index {i}"
        )


def _broadcast(**arrays: np.ndarray) -> list[np.ndarray]:
    """Broadcast arguments to one flat length, or raise naming their shapes."""
    try:
        shaped = np.broadcast_arrays(*arrays.values())
    except ValueError as error:
        shapes = ", ".join(f"{k} {v.shape}" for k, v in arrays.items())
        raise ValueError(f"arguments do not broadcast together: {shapes}") from error
    if shaped[0].ndim > 1:
        raise ValueError(f"expected scalars or 1-D arrays, got shape {shaped[0].shape}")
    return [np.ascontiguousarray(np.atleast_1d(a)) for a in shaped]


def _anomaly_inputs(
    mean_anomaly_rad: Any, e: Any, backend: str
) -> tuple[np.ndarray, np.ndarray]:
    """Checked, broadcast M and e arrays; e >= 1 or missing is refused here."""
    _inputs.backend(backend)
    m, ecc = _broadcast(
        mean_anomaly_rad=_inputs.float_array("mean_anomaly_rad", mean_anomaly_rad),
        e=_inputs.float_array("e", e),
    )
    _eccentricities(ecc)
    return m, ecc


def eccentric_anomaly(
    mean_anomaly_rad: Any,
    e: Any,
    *,
    backend: str = "numba",
    parallel: bool = True,
) -> np.ndarray:
    """Solve Kepler's equation E - e sin E = M for every planet, to 1e-12 rad."""
    m, ecc = _anomaly_inputs(mean_anomaly_rad, e, backend)
    if backend == "numpy":
        return _eccentric_anomaly_numpy(m, ecc)
    out = np.empty_like(m)
    _eccentric_anomaly_kernel.pick(parallel)(m, ecc, out)
    return out


def true_anomaly(
    mean_anomaly_rad: Any,
    e: Any,
    *,
    backend: str = "numba",
    parallel: bool = True,
) -> TrueAnomaly:
    """Return sin f and cos f of every planet's true anomaly from M and e.

    The same solver as ``eccentric_anomaly``; f follows from E by the usual
    ``cos f = (cos E - e) / (1 - e cos E)``, ``sin f = sqrt(1 - e^2) sin E /
    (1 - e cos E)``, with no atan2 and no further sine or cosine.
    """
    m, ecc = _anomaly_inputs(mean_anomaly_rad, e, backend)
    if backend == "numpy":
        return TrueAnomaly(*_true_anomaly_numpy(m, ecc))
    sin_f, cos_f = np.empty_like(m), np.empty_like(m)
    _true_anomaly_kernel.pick(parallel)(m, ecc, sin_f, cos_f)
    return TrueAnomaly(sin_f, cos_f)


def positions_at(
    epoch_jd: Any,
    a_au: Any,
    e: Any,
    period_days: Any,
    inc_rad: Any,
    arg_peri_rad: Any,
    long_node_rad: Any,
    *,
    t_peri_jd: Any = None,
    mean_anomaly_rad: Any = None,
    anomaly_epoch_jd: Any = None,
    backend: str = "numba",
    parallel: bool = True,
) -> Positions:
    """Return every planet's position (AU) in its host's frame at the given epochs.

    The orbit's phase comes either from ``t_peri_jd`` (time of periapsis) or from
    ``mean_anomaly_rad`` at ``anomaly_epoch_jd``; exactly one form must be given.
    Arguments are scalars or 1-D arrays that broadcast to one length.
    """
    _inputs.backend(backend)
    if (t_peri_jd is None) == (mean_anomaly_rad is None):
        raise ValueError(
            "t_peri_jd, mean_anomaly_rad: give exactly one of the two to fix the "
            "orbit's phase"
        )
    if mean_anomaly_rad is not None and anomaly_epoch_jd is None:
        raise ValueError(
            "anomaly_epoch_jd: required with mean_anomaly_rad (the date at which "
            "that mean anomaly holds)"
        )
    if t_peri_jd is not None:
        ref_epoch, m0 = t_peri_jd, 0.0
    else:
        ref_epoch, m0 = anomaly_epoch_jd, mean_anomaly_rad
    named = {
        "epoch_jd": epoch_jd,
        "ref_epoch_jd": ref_epoch,
        "mean_anomaly_rad": m0,
        "a_au": a_au,
        "e": e,
        "period_days": period_days,
        "inc_rad": inc_rad,
        "arg_peri_rad": arg_peri_rad,
        "long_node_rad": long_node_rad,
    }
    arrays = _broadcast(**{k: _inputs.float_array(k, v) for k, v in named.items()})
    epoch, ref, m0_arr, a, ecc, period, inc, arg_peri, node = arrays
    _eccentricities(ecc)
    bad_period = ~(np.isfinite(period) & (period > 0.0))
    if bad_period.any():
        i = _inputs.first_bad(bad_period)
        raise ValueError(
            f"period_days: must be finite and > 0; got {period[i]!r} at index {i}"
        )
    bad_a = (a < 0.0) | np.isinf(a)
    if bad_a.any():
        i = _inputs.first_bad(bad_a)
        raise ValueError(
            f"a_au: must be >= 0 and finite (NaN means unknown); got {a[i]!r} "
            f"at index {i}"
        )
    if backend == "numpy":
        xyz = _positions_numpy(*arrays)
    else:
        xyz = np.empty((3, epoch.shape[0]))
        _positions_kernel.pick(parallel)(*arrays, xyz)
    return Positions(xyz[0], xyz[1], xyz[2])
