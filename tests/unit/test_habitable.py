"""The habitable zone edges and the settleable rules."""

from __future__ import annotations

import math

import pytest

from batch_jobs import solar_system
from chalicelib import habitable


def test_suns_zone_spans_earth_and_mars_but_not_venus():
    inner, outer = habitable.zone_au(1.0)
    assert inner == pytest.approx(0.950, abs=1e-3)  # Kopparapu et al. 2014: 0.95
    assert outer == pytest.approx(1.676, abs=1e-3)  # and 1.67 AU for the Sun
    assert habitable.planets_in_zone(solar_system.sol_system()) == ["Earth", "Mars"]


def test_zone_scales_with_the_square_root_of_luminosity():
    inner, outer = habitable.zone_au(4.0)
    assert inner == pytest.approx(2 * habitable.zone_au(1.0)[0])
    assert outer == pytest.approx(2 * habitable.zone_au(1.0)[1])


@pytest.mark.parametrize("luminosity", [None, 0.0, -1.0, math.nan, math.inf])
def test_no_zone_without_a_usable_luminosity(luminosity):
    assert habitable.zone_au(luminosity) is None
    assert habitable.planets_in_zone({"luminosity_lsun": luminosity}) == []


def test_planet_without_a_semi_major_axis_is_not_counted():
    system = {"luminosity_lsun": 1.0, "planets": [{"name": "b"}]}
    assert habitable.settleable([system], "known-planet-in-hz") == [False]
    assert habitable.settleable([system], "every-star") == [True]


def test_unknown_rule_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="every-star"):
        habitable.settleable([], "anything")


def _system_with(*planets: dict) -> dict:
    return {"luminosity_lsun": 1.0, "planets": list(planets)}


KNOWN_IN_ZONE = {"name": "b", "semi_major_axis_au": 1.2, "inferred": False}
INFERRED_IN_ZONE = {"name": "i1", "semi_major_axis_au": 1.2, "inferred": True}
INFERRED_OUTSIDE = {"name": "i2", "semi_major_axis_au": 5.0, "inferred": True}


def test_inferred_planet_in_the_zone_makes_a_system_settleable_under_planet_in_hz():
    systems = [
        _system_with(KNOWN_IN_ZONE),
        _system_with(INFERRED_IN_ZONE),
        _system_with(INFERRED_OUTSIDE),
        _system_with(),
    ]
    assert habitable.settleable(systems, "planet-in-hz") == [True, True, False, False]


def test_known_planet_rule_ignores_inferred_planets():
    systems = [_system_with(KNOWN_IN_ZONE), _system_with(INFERRED_IN_ZONE)]
    assert habitable.settleable(systems, "known-planet-in-hz") == [True, False]
