"""The Sun's planets from published elements against astropy's built-in ephemeris.

Elements: E. M. Standish, "Keplerian Elements for Approximate Positions of the
Major Planets" (JPL Solar System Dynamics, https://ssd.jpl.nasa.gov/planets/
approx_pos.html), Table 1, valid 1800 AD - 2050 AD, referred to the mean ecliptic
and equinox of J2000: a (au), e, I, L, long. perihelion, long. node (deg) at
J2000 and their rates per Julian century. Earth's row is the Earth-Moon
barycentre. Per Standish, M = L - long.peri and omega = long.peri - long.node.

Peer: astropy's ``get_body_barycentric`` with the 'builtin' ephemeris (ERFA's
``epv00`` for the Earth and ``plan94``, Simon et al. 1994, for the planets).
"""

from __future__ import annotations

import numpy as np
import pytest

from sim_kernels import orbits

J2000_JD = 2_451_545.0
DAYS_PER_CENTURY = 36_525.0
# Obliquity of the J2000 ecliptic, 23 deg 26' 21.448" (the frame of Table 1).
OBLIQUITY_RAD = np.deg2rad(84_381.448 / 3600.0)

# name: (a, e, I, L, long.peri, long.node), then their rates per century.
STANDISH_TABLE_1 = {
    "mercury": (
        (0.38709927, 0.20563593, 7.00497902, 252.25032350, 77.45779628, 48.33076593),
        (0.00000037, 0.00001906, -0.00594749, 149472.67411175, 0.16047689, -0.12534081),
    ),
    "venus": (
        (0.72333566, 0.00677672, 3.39467605, 181.97909950, 131.60246718, 76.67984255),
        (0.00000390, -0.00004107, -0.00078890, 58517.81538729, 0.00268329, -0.27769418),
    ),
    "earth-moon-barycenter": (
        (1.00000261, 0.01671123, -0.00001531, 100.46457166, 102.93768193, 0.0),
        (0.00000562, -0.00004392, -0.01294668, 35999.37244981, 0.32327364, 0.0),
    ),
    "mars": (
        (1.52371034, 0.09339410, 1.84969142, -4.55343205, -23.94362959, 49.55953891),
        (0.00001847, 0.00007882, -0.00813131, 19140.30268499, 0.44441088, -0.29257343),
    ),
    "jupiter": (
        (5.20288700, 0.04838624, 1.30439695, 34.39644051, 14.72847983, 100.47390909),
        (-0.00011607, -0.00013253, -0.00183714, 3034.74612775, 0.21252668, 0.20469106),
    ),
    "saturn": (
        (9.53667594, 0.05386179, 2.48599187, 49.95424423, 92.59887831, 113.66242448),
        (-0.00125060, -0.00050991, 0.00193609, 1222.49362201, -0.41897216, -0.28867794),
    ),
    "uranus": (
        (19.18916464, 0.04725744, 0.77263783, 313.23810451, 170.95427630, 74.01692503),
        (-0.00196176, -0.00004397, -0.00242939, 428.48202785, 0.40805281, 0.04240589),
    ),
    "neptune": (
        (30.06992276, 0.00859048, 1.77004347, -55.12002969, 44.96476227, 131.78422574),
        (0.00026291, 0.00005105, 0.00035372, 218.45945325, -0.32241464, -0.00508664),
    ),
}

# A century inside the table's validity: 1950-01-01 to 2050-01-01, every ~37 days.
EPOCHS_JD = np.linspace(2_433_282.5, 2_469_807.5, 1000)


def _kernel_longitudes_deg(name: str, epochs: np.ndarray) -> np.ndarray:
    """Return heliocentric ecliptic longitudes from Standish's elements."""
    base, rate = (np.array(v) for v in STANDISH_TABLE_1[name])
    centuries = (epochs - J2000_JD) / DAYS_PER_CENTURY
    a, e, inc, mean_long, peri, node = (base[k] + rate[k] * centuries for k in range(6))
    xyz = orbits.positions_at(
        epochs,
        a,
        e,
        360.0 / rate[3] * DAYS_PER_CENTURY,
        np.deg2rad(inc),
        np.deg2rad(peri - node),
        np.deg2rad(node),
        mean_anomaly_rad=np.deg2rad(mean_long - peri),
        anomaly_epoch_jd=epochs,
    )
    return np.rad2deg(np.arctan2(xyz.y_au, xyz.x_au))


def _astropy_longitudes_deg(name: str, epochs: np.ndarray) -> np.ndarray:
    """Return heliocentric ecliptic longitudes (J2000) from astropy's builtin."""
    coordinates = pytest.importorskip(
        "astropy.coordinates", reason="astropy is not installed (requirements-dev)"
    )
    from astropy.time import Time

    when = Time(epochs, format="jd", scale="tdb")
    with coordinates.solar_system_ephemeris.set("builtin"):
        body = coordinates.get_body_barycentric(name, when)
        sun = coordinates.get_body_barycentric("sun", when)
    helio = (body - sun).get_xyz().to_value("au")
    x = helio[0]
    y = np.cos(OBLIQUITY_RAD) * helio[1] + np.sin(OBLIQUITY_RAD) * helio[2]
    return np.rad2deg(np.arctan2(y, x))


@pytest.mark.parametrize("name", list(STANDISH_TABLE_1))
def test_sun_planets_from_standish_elements_track_astropy_within_a_degree(name):
    ours = _kernel_longitudes_deg(name, EPOCHS_JD)
    theirs = _astropy_longitudes_deg(name, EPOCHS_JD)
    difference = (ours - theirs + 180.0) % 360.0 - 180.0
    assert np.abs(difference).max() < 1.0
