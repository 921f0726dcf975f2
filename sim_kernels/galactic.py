"""ICRS astrometry to heliocentric Galactic positions and velocities, in one pass.

The pipeline turns every star's (RA, Dec, parallax, proper motion, radial
velocity) into Galactic x, y, z (pc) and U, V, W (km/s). The Numba kernel does it
per star with one sine-and-cosine evaluation per angle; the NumPy reference
(`batch_jobs.astrometry`'s array formulas) stays the arbiter of correctness. The
rotation is the Hipparcos A_G (ESA 1997, Vol. 1, Eq. 1.5.11), passed in so that
both sides use the same matrix.

Speed: the loop has no branch and no call into libm, so LLVM vectorises it (four
stars per AVX2 instruction). The sine and cosine are fdlibm's polynomial kernels
(`__kernel_sin`, `__kernel_cos`, |error| below 1e-16 on [-pi/4, pi/4]) after a
Cody-Waite reduction by pi/2 (three-part constant of `__ieee754_rem_pio2`),
written out here because this Numba build has no vector maths library (SVML):
through libm's `sin` and `cos` the loop stays scalar and costs eight times more.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from sim_kernels import _jit

KM_S_PER_AU_YR = 4.740470463533348

# fdlibm e_rem_pio2.c: 2/pi, and pi/2 in three parts (33 + 33 + 53 bits), so that
# q * PIO2_1 is exact for |q| < 2**20 and the reduced angle keeps full precision.
_INV_PIO2 = 6.36619772367581382433e-01
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_3 = 2.02226624871116645580e-21
# fdlibm k_sin.c and k_cos.c: minimax polynomials on [-pi/4, pi/4].
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11


@_jit.function(fastmath=_jit.EXACT)
def sincos(x: float) -> tuple[float, float]:
    """sin(x) and cos(x) for |x| < 2**20 * pi / 2, within 2e-16 of libm's.

    Branch-free (selects only), so a loop calling it vectorises; NaN gives NaN.
    """
    q = math.floor(x * _INV_PIO2 + 0.5)
    r = ((x - q * _PIO2_1) - q * _PIO2_2) - q * _PIO2_3
    z = r * r
    s = r + r * z * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    c = (
        1.0
        - 0.5 * z
        + z * z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    )
    quadrant = q - 4.0 * math.floor(q * 0.25)  # q mod 4, as a float
    if quadrant == 0.0:
        return s, c
    if quadrant == 1.0:
        return c, -s
    if quadrant == 2.0:
        return -s, -c
    return -c, s


# EXACT: serial and parallel builds must agree bit for bit (a release gate compares
# them), and fastmath contraction vectorises the two builds differently.
@_jit.kernel(fastmath=_jit.EXACT)
def _galactic_kernel(ra_deg, dec_deg, parallax_mas, pmra, pmdec, rv, rot, xyz, uvw):
    deg = math.pi / 180.0
    r00, r01, r02 = rot[0, 0], rot[0, 1], rot[0, 2]
    r10, r11, r12 = rot[1, 0], rot[1, 1], rot[1, 2]
    r20, r21, r22 = rot[2, 0], rot[2, 1], rot[2, 2]
    for i in prange(ra_deg.shape[0]):
        plx = parallax_mas[i]
        # No positive parallax (NaN included): NaN flows into every output.
        dist = 1000.0 / plx if plx > 0.0 else np.nan
        sa, ca = sincos(ra_deg[i] * deg)
        sd, cd = sincos(dec_deg[i] * deg)
        r0, r1, r2 = cd * ca, cd * sa, sd
        radial = rv[i] if rv[i] == rv[i] else 0.0  # a missing RV adds nothing
        v_east = KM_S_PER_AU_YR * pmra[i] * dist / 1000.0
        v_north = KM_S_PER_AU_YR * pmdec[i] * dist / 1000.0
        v0 = radial * r0 - v_east * sa - v_north * sd * ca
        v1 = radial * r1 + v_east * ca - v_north * sd * sa
        v2 = radial * r2 + v_north * cd
        # Planar outputs (3, n): unit-stride stores, which vectorise.
        xyz[0, i] = dist * (r00 * r0 + r01 * r1 + r02 * r2)
        xyz[1, i] = dist * (r10 * r0 + r11 * r1 + r12 * r2)
        xyz[2, i] = dist * (r20 * r0 + r21 * r1 + r22 * r2)
        uvw[0, i] = r00 * v0 + r01 * v1 + r02 * v2
        uvw[1, i] = r10 * v0 + r11 * v1 + r12 * v2
        uvw[2, i] = r20 * v0 + r21 * v1 + r22 * v2


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
    """Galactic xyz (pc) and UVW (km/s) per star, (n, 3); NaN where parallax <= 0.

    A missing radial velocity contributes nothing (the caller flags those stars
    tangential-only); a missing proper motion gives NaN velocities. The arrays
    are column-major views (each of x, y, z contiguous), as the kernel writes them.
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
    xyz = np.empty((3, n))
    uvw = np.empty((3, n))
    _galactic_kernel.pick(parallel)(*arrays, rot, xyz, uvw)
    return xyz.T, uvw.T
