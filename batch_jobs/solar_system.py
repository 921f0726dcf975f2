"""The Sun and its eight planets as a world system (`sol`), from published elements.

Orbits: E. M. Standish, "Keplerian Elements for Approximate Positions of the Major
Planets" (JPL Solar System Dynamics, https://ssd.jpl.nasa.gov/planets/approx_pos.html),
Table 1 (valid 1800 AD - 2050 AD): semi-major axis a (au) and eccentricity e at
J2000, and the rate of the mean longitude L (deg per Julian century), from which
the sidereal period is 360 / rate Julian centuries. Earth's row is the Earth-Moon
barycentre.

Masses and radii: the NASA Planetary Fact Sheet, "ratio to Earth values"
(D. R. Williams, NASA GSFC, https://nssdc.gsfc.nasa.gov/planetary/factsheet/),
mass and mean diameter relative to Earth's.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

logger = logging.getLogger(__name__)

SOL_ID = "sol"
SOURCE = "sol"
PLANET_SOURCE = "jpl-standish-table1+nasa-factsheet"
DAYS_PER_JULIAN_CENTURY = 36525.0


class PlanetElements(NamedTuple):
    """One planet's published elements and size."""

    name: str
    semi_major_axis_au: float
    eccentricity: float
    mean_longitude_rate_deg_cy: float
    mass_earth: float
    radius_earth: float


# Standish Table 1 (a, e, L-dot) and the Fact Sheet ratios (mass, diameter).
PLANETS: tuple[PlanetElements, ...] = (
    PlanetElements("Mercury", 0.38709927, 0.20563593, 149472.67411175, 0.0553, 0.383),
    PlanetElements("Venus", 0.72333566, 0.00677672, 58517.81538729, 0.815, 0.949),
    PlanetElements("Earth", 1.00000261, 0.01671123, 35999.37244981, 1.0, 1.0),
    PlanetElements("Mars", 1.52371034, 0.09339410, 19140.30268499, 0.107, 0.532),
    PlanetElements("Jupiter", 5.20288700, 0.04838624, 3034.74612775, 317.8, 11.21),
    PlanetElements("Saturn", 9.53667594, 0.05386179, 1222.49362201, 95.2, 9.45),
    PlanetElements("Uranus", 19.18916464, 0.04725744, 428.48202785, 14.5, 4.01),
    PlanetElements("Neptune", 30.06992276, 0.00859048, 218.45945325, 17.1, 3.88),
)

SUN_TEFF_K = 5772.0  # IAU 2015 Resolution B3 nominal value
# Apparent and absolute V and B-V: Allen's Astrophysical Quantities (Cox 2000).
SUN_VMAG = -26.74
SUN_ABS_VMAG = 4.83
SUN_BV = 0.65


def period_days(planet: PlanetElements) -> float:
    """Return the sidereal period in days from the mean-longitude rate."""
    return 360.0 / planet.mean_longitude_rate_deg_cy * DAYS_PER_JULIAN_CENTURY


def planets() -> list[dict]:
    """Return the eight planets in the world's planet record shape."""
    return [
        {
            "name": p.name,
            "known": True,
            "inferred": False,
            "period_days": round(period_days(p), 4),
            "semi_major_axis_au": p.semi_major_axis_au,
            "eccentricity": p.eccentricity,
            "mass_earth": p.mass_earth,
            "radius_earth": p.radius_earth,
            "source": PLANET_SOURCE,
        }
        for p in PLANETS
    ]


def sol_system() -> dict:
    """Return the Sun's system record, at the origin of the heliocentric frame."""
    return {
        "system_id": SOL_ID,
        "name": "Sun",
        "names": ["Sun", "Sol"],
        "source": SOURCE,
        "ra_deg": None,
        "dec_deg": None,
        "parallax_mas": None,
        "parallax_over_error": None,
        "dist_pc": 0.0,
        "x_pc": 0.0,
        "y_pc": 0.0,
        "z_pc": 0.0,
        "vmag": SUN_VMAG,
        "abs_vmag": SUN_ABS_VMAG,
        "bv": SUN_BV,
        "spectral_type": "G2V",
        "rv_kms": None,
        "teff_k": SUN_TEFF_K,
        "luminosity_lsun": 1.0,
        "hip": None,
        "hd": None,
        "planets": planets(),
    }
