"""Positions: ICRS sky coordinates to heliocentric Galactic Cartesian parsecs.

The Galactic frame is the one the Hipparcos Catalogue defines (ESA 1997, The
Hipparcos and Tycho Catalogues, ESA SP-1200, Vol. 1, Sect. 1.5.3, Eq. 1.5.11):
x toward the Galactic centre (l = 0, b = 0), y toward l = 90 deg, z toward the
north Galactic pole. Every function takes and returns numpy arrays; a star
without a positive parallax gets NaN for distance and x, y, z (never a made-up
distance), and the caller leaves those fields out.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

HIPPARCOS_EPOCH = 1991.25
"""Epoch (Julian year, TT) of the Hipparcos 1997 positions."""

J2000 = 2000.0
"""Epoch (Julian year) of the J2000.0 positions of SSCore and the exoplanet table."""

MAS_PER_DEG = 3.6e6

KM_S_PER_AU_YR = 4.740470463533348
"""km/s for 1 au per Julian year (IAU 2012 au = 149,597,870.7 km)."""

# Rotation from ICRS to Galactic coordinates, r_gal = GALACTIC_FROM_ICRS @ r_icrs,
# as tabulated in the Hipparcos Catalogue, Vol. 1, Sect. 1.5.3, Eq. 1.5.11
# (the transpose of A_G). Its rows are the ICRS unit vectors of the Galactic
# centre, of l = 90 deg and of the north Galactic pole, which the Catalogue
# defines by alpha_G = 192.85948 deg, delta_G = +27.12825 deg (the pole) and
# l_Omega = 32.93192 deg (the Galactic longitude of the ascending node of the
# Galactic plane on the equator).
GALACTIC_FROM_ICRS = np.array(
    [
        [-0.0548755604, -0.8734370902, -0.4838350155],
        [+0.4941094279, -0.4448296300, +0.7469822445],
        [-0.8676661490, -0.1980763734, +0.4559837762],
    ]
)

NGP_RA_DEG = 192.85948
NGP_DEC_DEG = 27.12825
NODE_LON_DEG = 32.93192


def galactic_matrix_from_angles() -> np.ndarray:
    """Rebuild the ICRS-to-Galactic rotation from the Catalogue's defining angles.

    Used by the tests to check the tabulated matrix digit by digit.
    """
    ra, dec, node = np.radians([NGP_RA_DEG, NGP_DEC_DEG, NODE_LON_DEG])
    pole = np.array([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)])
    # The ascending node of the Galactic plane on the equator lies 90 deg east of
    # the pole's right ascension; it sits at Galactic longitude l_Omega.
    node_vec = np.array([np.cos(ra + np.pi / 2), np.sin(ra + np.pi / 2), 0.0])
    across = np.cross(pole, node_vec)
    centre = np.cos(node) * node_vec - np.sin(node) * across
    east = np.cross(pole, centre)
    return np.vstack([centre, east, pole])


def unit_vectors(ra_deg: ArrayLike, dec_deg: ArrayLike) -> np.ndarray:
    """Return (n, 3) ICRS unit vectors for right ascensions and declinations."""
    ra = np.radians(np.asarray(ra_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    cos_dec = np.cos(dec)
    return np.stack([cos_dec * np.cos(ra), cos_dec * np.sin(ra), np.sin(dec)], axis=-1)


def distance_pc(parallax_mas: ArrayLike) -> np.ndarray:
    """Return 1000/parallax in parsecs where the parallax is above zero, else NaN."""
    plx = np.asarray(parallax_mas, dtype=np.float64)
    out = np.full(plx.shape, np.nan)
    positive = plx > 0
    out[positive] = 1000.0 / plx[positive]
    return out


def galactic_xyz(
    ra_deg: ArrayLike, dec_deg: ArrayLike, dist_pc: ArrayLike
) -> np.ndarray:
    """Return (n, 3) heliocentric Galactic x, y, z in parsecs, NaN where unknown."""
    dist = np.asarray(dist_pc, dtype=np.float64)
    icrs = unit_vectors(ra_deg, dec_deg)
    return (icrs @ GALACTIC_FROM_ICRS.T) * dist[..., None]


def icrs_to_galactic(
    ra_deg: ArrayLike, dec_deg: ArrayLike, parallax_mas: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Return (distance, xyz) from ICRS position and parallax, the world's geometry.

    Distance is 1000/parallax (pc) for a parallax above zero; elsewhere both the
    distance and the three coordinates are NaN.
    """
    dist = distance_pc(parallax_mas)
    return dist, galactic_xyz(ra_deg, dec_deg, dist)


def space_velocity(
    ra_deg: ArrayLike,
    dec_deg: ArrayLike,
    parallax_mas: ArrayLike,
    pmra_mas_yr: ArrayLike,
    pmdec_mas_yr: ArrayLike,
    rv_kms: ArrayLike,
) -> tuple[np.ndarray, np.ndarray]:
    """Return heliocentric Galactic (U, V, W) in km/s and a tangential-only flag.

    U points to the Galactic centre, V to l = 90 deg, W to the north pole. A star
    without a radial velocity gets only its tangential motion (flag True), never
    a radial velocity of zero passed off as measured; a star without a positive
    parallax or a proper motion gets NaN.
    """
    ra = np.radians(np.asarray(ra_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    dist = distance_pc(parallax_mas)
    rv = np.asarray(rv_kms, dtype=np.float64)
    tangential_only = ~np.isfinite(rv)
    # Proper motion (mas/yr) times distance (pc) gives AU/yr in milli-units.
    v_ra = KM_S_PER_AU_YR * np.asarray(pmra_mas_yr, dtype=np.float64) * dist / 1e3
    v_dec = KM_S_PER_AU_YR * np.asarray(pmdec_mas_yr, dtype=np.float64) * dist / 1e3
    radial = np.where(tangential_only, 0.0, rv)
    sin_ra, cos_ra = np.sin(ra), np.cos(ra)
    sin_dec, cos_dec = np.sin(dec), np.cos(dec)
    icrs = (
        radial[:, None] * np.stack([cos_dec * cos_ra, cos_dec * sin_ra, sin_dec], -1)
        + v_ra[:, None] * np.stack([-sin_ra, cos_ra, np.zeros_like(ra)], -1)
        + v_dec[:, None] * np.stack([-sin_dec * cos_ra, -sin_dec * sin_ra, cos_dec], -1)
    )
    return icrs @ GALACTIC_FROM_ICRS.T, tangential_only


def galactic_lb(ra_deg: ArrayLike, dec_deg: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Return Galactic longitude and latitude in degrees for ICRS positions."""
    gal = unit_vectors(ra_deg, dec_deg) @ GALACTIC_FROM_ICRS.T
    lon = np.degrees(np.arctan2(gal[..., 1], gal[..., 0])) % 360.0
    lat = np.degrees(np.arcsin(np.clip(gal[..., 2], -1.0, 1.0)))
    return lon, lat


def propagate(
    ra_deg: ArrayLike,
    dec_deg: ArrayLike,
    pmra_mas_yr: ArrayLike,
    pmdec_mas_yr: ArrayLike,
    from_epoch: float = HIPPARCOS_EPOCH,
    to_epoch: float = J2000,
) -> tuple[np.ndarray, np.ndarray]:
    """Move positions along their proper motion between epochs, for cross-matching.

    Linear motion on the sphere: the position vector plus the proper-motion
    vector (pmRA* along east, pmDec along north) times the elapsed years,
    renormalised. Radial velocity and parallax changes are ignored (below a
    milliarcsecond over a decade for all but a handful of stars). A NaN proper
    motion counts as zero: the position stays where it was catalogued.
    """
    ra = np.radians(np.asarray(ra_deg, dtype=np.float64))
    dec = np.radians(np.asarray(dec_deg, dtype=np.float64))
    years = float(to_epoch) - float(from_epoch)
    mu_a = np.radians(_motion(pmra_mas_yr) / MAS_PER_DEG)
    mu_d = np.radians(_motion(pmdec_mas_yr) / MAS_PER_DEG)
    sin_a, cos_a = np.sin(ra), np.cos(ra)
    sin_d, cos_d = np.sin(dec), np.cos(dec)
    position = np.stack([cos_d * cos_a, cos_d * sin_a, sin_d], axis=-1)
    east = np.stack([-sin_a, cos_a, np.zeros_like(ra)], axis=-1)
    north = np.stack([-sin_d * cos_a, -sin_d * sin_a, cos_d], axis=-1)
    moved = position + years * (mu_a[..., None] * east + mu_d[..., None] * north)
    moved /= np.linalg.norm(moved, axis=-1, keepdims=True)
    new_ra = np.degrees(np.arctan2(moved[..., 1], moved[..., 0])) % 360.0
    new_dec = np.degrees(np.arcsin(np.clip(moved[..., 2], -1.0, 1.0)))
    return new_ra, new_dec


def _motion(mas_yr: ArrayLike) -> np.ndarray:
    """Return a proper motion as floats, a missing one as zero."""
    return np.nan_to_num(np.asarray(mas_yr, dtype=np.float64))


def separation_arcsec(
    ra1_deg: ArrayLike, dec1_deg: ArrayLike, ra2_deg: ArrayLike, dec2_deg: ArrayLike
) -> np.ndarray:
    """Return the angular separation between two sets of positions, in arcseconds."""
    a = unit_vectors(ra1_deg, dec1_deg)
    b = unit_vectors(ra2_deg, dec2_deg)
    cross = np.linalg.norm(np.cross(a, b), axis=-1)
    dot = np.sum(a * b, axis=-1)
    return np.degrees(np.arctan2(cross, dot)) * 3600.0
