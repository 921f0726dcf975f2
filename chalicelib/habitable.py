"""The habitable zone of a star and whether a system is settleable.

Edges: the conservative habitable zone of Kopparapu et al. 2013 (ApJ 765, 131),
with the effective fluxes of its update for a one-Earth-mass planet, Kopparapu
et al. 2014 (ApJL 787, L29, Table 1): inner edge "runaway greenhouse"
S_eff = 1.107, outer edge "maximum greenhouse" S_eff = 0.356, both relative to
the flux Earth receives. A planet at ``d = sqrt(L / S_eff)`` AU from a star of
luminosity ``L`` (solar units) receives ``S_eff``, so the zone is
``sqrt(L / 1.107) <= a <= sqrt(L / 0.356)`` AU: 0.95 to 1.68 AU for the Sun.
The papers' small dependence of S_eff on the star's temperature (a fourth-degree
polynomial in Teff - 5780 K) is left out: stellar luminosities here come from
photometry and are uncertain by more than it changes.

Plain Python (``math`` only), so the API may use it without numpy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

HZ_MODEL = "kopparapu2014-conservative-1me"
S_EFF_INNER = 1.107  # runaway greenhouse, 1 Earth mass
S_EFF_OUTER = 0.356  # maximum greenhouse
# known-planet-in-hz: a catalogued planet in the zone (inferred ones do not
# count); planet-in-hz: a known or inferred planet (`inferred: true`) in it.
SETTLEABLE_RULES = ("known-planet-in-hz", "planet-in-hz", "every-star")


def zone_au(luminosity_lsun: float | None) -> tuple[float, float] | None:
    """Return the (inner, outer) habitable-zone edges in AU, or None if unknown."""
    if luminosity_lsun is None:
        return None
    lum = float(luminosity_lsun)
    if not (math.isfinite(lum) and lum > 0.0):
        return None
    return math.sqrt(lum / S_EFF_INNER), math.sqrt(lum / S_EFF_OUTER)


def planets_in_zone(system: dict) -> list[str]:
    """Return the names of a system's planets whose semi-major axis is in its zone."""
    zone = zone_au(system.get("luminosity_lsun"))
    if zone is None:
        return []
    inner, outer = zone
    return [
        planet["name"]
        for planet in system.get("planets") or ()
        if planet.get("semi_major_axis_au") is not None
        and inner <= planet["semi_major_axis_au"] <= outer
    ]


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
