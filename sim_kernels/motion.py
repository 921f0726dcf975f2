"""Linear propagation of star positions by their space velocities.

``x(t) = x0 + v * t / 977792.2``: positions in pc, velocities in km/s, time in
Julian years; 1 pc/yr is 977,792.2 km/s (IAU 2015 parsec over the Julian year).

Stars with no radial velocity: the caller passes the tangential-only velocity
(proper motion times distance, radial component zero) and marks those rows in
``tangential_only``. The kernel moves every row the same way; the flag array is
returned unchanged beside the positions, so whoever shows or analyses the result
knows which tracks miss their radial part. A NaN anywhere in a row's position or
velocity gives a NaN position for that row only.

The kernel is compiled with ``_jit.EXACT``: it is memory-bound, so fastmath would
gain nothing, and without it the result is bit-identical to the NumPy reference
(no fused multiply-add), which the kernel-parity release gate compares.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import prange

from sim_kernels import _inputs, _jit

PARSEC_KM = 3.0856775814913673e13  # IAU 2015 Resolution B2
JULIAN_YEAR_S = 365.25 * 86400.0
KMS_PER_PC_PER_YR = PARSEC_KM / JULIAN_YEAR_S  # 977,792.2 km/s
PC_PER_YR_PER_KMS = 1.0 / KMS_PER_PC_PER_YR


class Propagated(NamedTuple):
    """Positions after propagation, and the caller's flags passed through."""

    positions_pc: np.ndarray
    tangential_only: np.ndarray | None


@_jit.kernel(fastmath=_jit.EXACT)
def _propagate_kernel(positions, velocities, scale, out):
    """Write positions + velocities * scale into ``out`` (all (n, 3))."""
    for i in prange(positions.shape[0]):
        for k in range(3):
            out[i, k] = positions[i, k] + velocities[i, k] * scale


def _propagate_numpy(positions, velocities, scale) -> np.ndarray:
    """Return positions + velocities * scale: the plain NumPy reference."""
    return positions + velocities * scale


def velocity_scale(t_yr: float) -> float:
    """Return the factor that turns km/s into pc moved over ``t_yr`` years."""
    return t_yr * PC_PER_YR_PER_KMS


def propagate(
    positions_pc: Any,
    velocities_kms: Any,
    t_yr: float,
    *,
    tangential_only: Any = None,
    out: np.ndarray | None = None,
    backend: str = "numba",
    parallel: bool = True,
) -> Propagated:
    """Move every star in a straight line for ``t_yr`` years (negative: the past).

    ``out``, if given, is a float64 (n, 3) C-contiguous array to write into, so a
    caller stepping many times allocates once.
    """
    _inputs.backend(backend)
    positions = _inputs.vectors("positions_pc", positions_pc)
    velocities = _inputs.vectors("velocities_kms", velocities_kms)
    _inputs.same_length(positions_pc=positions, velocities_kms=velocities)
    t = _inputs.finite_scalar("t_yr", t_yr)
    flags = None
    if tangential_only is not None:
        flags = np.asarray(tangential_only)
        if flags.dtype != np.bool_ or flags.shape != (positions.shape[0],):
            raise ValueError(
                f"tangential_only: expected a bool array of shape "
                f"({positions.shape[0]},), got {flags.dtype} {flags.shape}"
            )
    if out is not None and not (
        isinstance(out, np.ndarray)
        and out.dtype == np.float64
        and out.shape == positions.shape
        and out.flags.c_contiguous
    ):
        raise ValueError(
            f"out: expected a C-contiguous float64 array of shape {positions.shape}"
        )
    scale = velocity_scale(t)
    if backend == "numpy":
        result = _propagate_numpy(positions, velocities, scale)
        if out is not None:
            out[...] = result
            result = out
        return Propagated(result, flags)
    result = np.empty_like(positions) if out is None else out
    _propagate_kernel.pick(parallel)(positions, velocities, scale, result)
    return Propagated(result, flags)
