"""ICRS astrometry to heliocentric Galactic positions and velocities, in one pass.

The pipeline turns every star's (RA, Dec, parallax, proper motion, radial
velocity) into Galactic x, y, z (pc) and U, V, W (km/s). The Numba kernel does it
per star with each sine and cosine computed once; the NumPy reference
(`batch_jobs.astrometry`'s array formulas) stays the arbiter of correctness. The
rotation is the Hipparcos A_G (ESA 1997, Vol. 1, Eq. 1.5.11), passed in so that
both sides use the same matrix.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from sim_kernels import _jit

KM_S_PER_AU_YR = 4.740470463533348


# EXACT: serial and parallel builds must agree bit for bit (a release gate compares
# them), and fastmath contraction vectorises the two builds differently.
@_jit.kernel(fastmath=_jit.EXACT)
def _galactic_kernel(ra_deg, dec_deg, parallax_mas, pmra, pmdec, rv, rot, xyz, uvw):
    deg = math.pi / 180.0
    for i in prange(ra_deg.shape[0]):
        plx = parallax_mas[i]
        if not plx > 0.0:  # also catches NaN
            for k in range(3):
                xyz[i, k] = np.nan
                uvw[i, k] = np.nan
            continue
        dist = 1000.0 / plx
        ra, dec = ra_deg[i] * deg, dec_deg[i] * deg
        sa, ca, sd, cd = math.sin(ra), math.cos(ra), math.sin(dec), math.cos(dec)
        r0, r1, r2 = cd * ca, cd * sa, sd
        radial = rv[i] if rv[i] == rv[i] else 0.0  # a missing RV adds nothing
        v_east = KM_S_PER_AU_YR * pmra[i] * dist / 1000.0
        v_north = KM_S_PER_AU_YR * pmdec[i] * dist / 1000.0
        v0 = radial * r0 - v_east * sa - v_north * sd * ca
        v1 = radial * r1 + v_east * ca - v_north * sd * sa
        v2 = radial * r2 + v_north * cd
        for k in range(3):
            xyz[i, k] = dist * (rot[k, 0] * r0 + rot[k, 1] * r1 + rot[k, 2] * r2)
            uvw[i, k] = rot[k, 0] * v0 + rot[k, 1] * v1 + rot[k, 2] * v2


def to_galactic(
    ra_deg: np.ndarray,
    dec_deg: np.ndarray,
    parallax_mas: np.ndarray,
    pmra_mas_yr: np.ndarray,
    pmdec_mas_yr: np.ndarray,
    rv_kms: np.ndarray,
    rotation: np.ndarray,
    *,
    parallel: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Galactic xyz (pc) and UVW (km/s) per star; NaN where parallax <= 0.

    A missing radial velocity contributes nothing (the caller flags those stars
    tangential-only); a missing proper motion gives NaN velocities.
    """
    arrays = [
        np.ascontiguousarray(a, dtype=np.float64)
        for a in (ra_deg, dec_deg, parallax_mas, pmra_mas_yr, pmdec_mas_yr, rv_kms)
    ]
    n = arrays[0].shape[0]
    if any(a.ndim != 1 or a.shape[0] != n for a in arrays):
        raise ValueError("to_galactic needs six 1-D arrays of the same length")
    rot = np.ascontiguousarray(rotation, dtype=np.float64)
    if rot.shape != (3, 3):
        raise ValueError(f"rotation must be a 3x3 matrix, got shape {rot.shape}")
    xyz = np.empty((n, 3))
    uvw = np.empty((n, 3))
    _galactic_kernel.pick(parallel)(*arrays, rot, xyz, uvw)
    return xyz, uvw
