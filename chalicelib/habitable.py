"""The habitable zone of a star and whether a system is settleable.

Edges from Kopparapu et al. 2014 (ApJL 787, L29), the planet-mass update of
Kopparapu et al. 2013 (ApJ 765, 131; erratum ApJ 770, 82), for a one-Earth-mass
planet. Each edge is an effective flux relative to Earth's, a polynomial in the
star's temperature (2013, Eq. 2; coefficients of the 2014 update):

    S_eff = S_eff_sun + a T + b T^2 + c T^3 + d T^4,   T = Teff - 5780 K,

valid for 2600 K <= Teff <= 7200 K, and a planet at ``d = sqrt(L / S_eff)`` AU
from a star of luminosity ``L`` (solar units) receives ``S_eff``. Four edges,
from the star outwards: recent Venus and runaway greenhouse (inner edges, the
optimistic and the conservative), maximum greenhouse and early Mars (outer edges,
the conservative and the optimistic). For the Sun: 0.75, 0.95, 1.68, 1.77 AU.

Coefficients (`HZ_COEFFICIENTS`): the 1-Earth-mass rows of the authors' own
calculator that accompanies the 2014 letter (Kopparapu's code of April 2014,
translated to Python by J. Armstrong; checked in its public copy
`rsnemmen/hz-calculator`, `hzinput.py`, arrays `seffsun, a, b, c, d`, columns 1-4).
The 2013 paper's Table 3 (as corrected by its erratum) has the older set, with a
moist-greenhouse inner edge; it was not checked at its source, so it is not used.

Outside 2600-7200 K the polynomial is not valid: Teff is clamped to the nearest
end of the range and the zone says `clamped`. Without a Teff the Sun's fluxes
(`S_eff_sun`) are used and the zone says `teff_assumed`.

Plain Python (``math`` only), so the API may use it without numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

HZ_MODEL = "kopparapu2014-1me"
TEFF_ZERO_K = 5780.0
TEFF_RANGE_K = (2600.0, 7200.0)
# Edge -> (S_eff_sun, a, b, c, d); Kopparapu et al. 2014, 1 Earth mass (see above).
HZ_COEFFICIENTS: dict[str, tuple[float, float, float, float, float]] = {
    "recent_venus": (1.776, 2.136e-4, 2.533e-8, -1.332e-11, -3.097e-15),
    "runaway_greenhouse": (1.107, 1.332e-4, 1.580e-8, -8.308e-12, -1.931e-15),
    "maximum_greenhouse": (0.356, 6.171e-5, 1.698e-9, -3.198e-12, -5.575e-16),
    "early_mars": (0.320, 5.547e-5, 1.526e-9, -2.874e-12, -5.011e-16),
}
EDGES = tuple(HZ_COEFFICIENTS)
S_EFF_INNER = HZ_COEFFICIENTS["runaway_greenhouse"][0]  # the Sun's, kept for callers
S_EFF_OUTER = HZ_COEFFICIENTS["maximum_greenhouse"][0]
# known-planet-in-hz: a catalogued planet in the zone (inferred ones do not
# count); planet-in-hz: a known or inferred planet (`inferred: true`) in it.
SETTLEABLE_RULES = ("known-planet-in-hz", "planet-in-hz", "every-star")


@dataclass(frozen=True)
class Zone:
    """The four habitable-zone edges of one star, in AU, and how they were found."""

    recent_venus_au: float
    runaway_greenhouse_au: float
    maximum_greenhouse_au: float
    early_mars_au: float
    teff_k: float  # the temperature the fluxes were computed at
    clamped: bool = False  # Teff lay outside 2600-7200 K and was clamped
    teff_assumed: bool = False  # no Teff: the Sun's fluxes

    @property
    def conservative(self) -> tuple[float, float]:
        """(runaway greenhouse, maximum greenhouse): the conservative zone."""
        return self.runaway_greenhouse_au, self.maximum_greenhouse_au

    @property
    def optimistic(self) -> tuple[float, float]:
        """(recent Venus, early Mars): the optimistic zone."""
        return self.recent_venus_au, self.early_mars_au

    def as_dict(self) -> dict:
        """JSON form: the edges rounded to 1e-4 AU and the flags."""
        return {
            "model": HZ_MODEL,
            **{f"{edge}_au": round(getattr(self, f"{edge}_au"), 4) for edge in EDGES},
            "teff_k": self.teff_k,
            "clamped": self.clamped,
            "teff_assumed": self.teff_assumed,
        }


def effective_flux(edge: str, teff_k: float) -> float:
    """S_eff of one edge at `teff_k` (clamped to 2600-7200 K), relative to Earth's."""
    if edge not in HZ_COEFFICIENTS:
        raise ValueError(f"habitable-zone edge {edge!r} is unknown; use one of {EDGES}")
    teff = _usable(teff_k, "teff_k")
    if teff is None:
        raise ValueError(f"teff_k must be a positive finite number, not {teff_k!r}")
    return _flux(edge, teff)


def _flux(edge: str, teff: float | None) -> float:
    """S_eff of a known edge at a usable Teff (clamped); the Sun's without one."""
    s_sun, a, b, c, d = HZ_COEFFICIENTS[edge]
    if teff is None:
        return s_sun
    t = min(max(teff, TEFF_RANGE_K[0]), TEFF_RANGE_K[1]) - TEFF_ZERO_K
    return s_sun + t * (a + t * (b + t * (c + t * d)))


def zone(luminosity_lsun: float | None, teff_k: float | None = None) -> Zone | None:
    """Return the four edges for a star, or None without a usable luminosity.

    A missing or non-positive Teff gives the Sun's fluxes (`teff_assumed`); one
    outside 2600-7200 K is clamped to the range (`clamped`).
    """
    lum = _usable(luminosity_lsun, "luminosity_lsun")
    if lum is None:
        return None
    teff = _usable(teff_k, "teff_k")
    assumed = teff is None
    if assumed:
        teff = TEFF_ZERO_K
    clamped = not assumed and not TEFF_RANGE_K[0] <= teff <= TEFF_RANGE_K[1]
    fluxes = {edge: _flux(edge, None if assumed else teff) for edge in EDGES}
    edges = {f"{edge}_au": math.sqrt(lum / flux) for edge, flux in fluxes.items()}
    return Zone(**edges, teff_k=teff, clamped=clamped, teff_assumed=assumed)


def zone_au(
    luminosity_lsun: float | None, teff_k: float | None = None
) -> tuple[float, float] | None:
    """Return the conservative (inner, outer) edges in AU, or None if unknown.

    The edges `zone` gives, without its other two: the map's flags ask this of
    every system with planets.
    """
    lum = _usable(luminosity_lsun, "luminosity_lsun")
    if lum is None:
        return None
    teff = _usable(teff_k, "teff_k")
    inner = math.sqrt(lum / _flux("runaway_greenhouse", teff))
    return inner, math.sqrt(lum / _flux("maximum_greenhouse", teff))


def planets_in_zone(system: dict) -> list[str]:
    """Return the names of a system's planets whose semi-major axis is in its zone.

    The conservative zone at the system's own `teff_k` (the Sun's fluxes without).
    """
    edges = zone_au(system.get("luminosity_lsun"), system.get("teff_k"))
    if edges is None:
        return []
    inner, outer = edges
    return [
        planet["name"]
        for planet in system.get("planets") or ()
        if planet.get("semi_major_axis_au") is not None
        and inner <= planet["semi_major_axis_au"] <= outer
    ]


def in_conservative_zone(
    semi_major_axis_au: float | None,
    luminosity_lsun: float | None,
    teff_k: float | None,
) -> bool | None:
    """Whether an orbit's semi-major axis lies in the star's conservative zone.

    The `in_hz` flag of every planet, known or inferred (the inference model's
    vectorised rule is the same): None where the zone is undefined, that is
    without a semi-major axis, a luminosity or a Teff within 2600-7200 K (no
    clamping and no assumed Teff, unlike `zone`).
    """
    axis = _usable(semi_major_axis_au, "semi_major_axis_au")
    lum = _usable(luminosity_lsun, "luminosity_lsun")
    teff = _usable(teff_k, "teff_k")
    if axis is None or lum is None or teff is None:
        return None
    if not TEFF_RANGE_K[0] <= teff <= TEFF_RANGE_K[1]:
        return None
    inner = math.sqrt(lum / _flux("runaway_greenhouse", teff))
    outer = math.sqrt(lum / _flux("maximum_greenhouse", teff))
    return inner <= axis <= outer


def _usable(value: object, what: str) -> float | None:
    """A positive finite float, or None for a missing or unusable value."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{what} must be a number, not {value!r}") from err
    return number if math.isfinite(number) and number > 0.0 else None


def settleable(systems: Iterable[dict], rule: str) -> list[bool]:
    """Return, per system, whether the rule makes it a settlement target."""
    if rule not in SETTLEABLE_RULES:
        raise ValueError(
            f"settleable rule {rule!r} is unknown; use one of {SETTLEABLE_RULES}"
        )
    if rule == "every-star":
        return [True for _ in systems]
    if rule == "planet-in-hz":
        return [bool(planets_in_zone(system)) for system in systems]
    return [bool(planets_in_zone(without_inferred(system))) for system in systems]


def without_inferred(system: dict) -> dict:
    """Return the system with its inferred planets left out."""
    planets = [p for p in system.get("planets") or () if not p.get("inferred")]
    return {**system, "planets": planets}
