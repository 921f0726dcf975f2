"""The habitable zone edges and the settleable rules."""

from __future__ import annotations

import math

import numpy as np
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


def test_suns_four_edges_match_kopparapu_2014():
    # Kopparapu et al. 2014 (1 Earth mass) at Teff = 5780 K: the S_eff_sun column.
    sun = habitable.zone(1.0, 5780.0)
    assert sun.recent_venus_au == pytest.approx(math.sqrt(1 / 1.776))
    assert sun.runaway_greenhouse_au == pytest.approx(math.sqrt(1 / 1.107))
    assert sun.maximum_greenhouse_au == pytest.approx(math.sqrt(1 / 0.356))
    assert sun.early_mars_au == pytest.approx(math.sqrt(1 / 0.320))
    assert sun.recent_venus_au == pytest.approx(0.750, abs=1e-3)
    assert sun.early_mars_au == pytest.approx(1.768, abs=1e-3)
    assert not sun.clamped and not sun.teff_assumed


def test_edges_follow_the_temperature_polynomial():
    # S_eff at 3000 K from the 2014 coefficients, term by term.
    t = 3000.0 - 5780.0
    expected = 1.107 + 1.332e-4 * t + 1.580e-8 * t**2 - 8.308e-12 * t**3
    expected += -1.931e-15 * t**4
    assert habitable.effective_flux("runaway_greenhouse", 3000.0) == pytest.approx(
        expected, rel=1e-12
    )
    assert expected == pytest.approx(0.922, abs=1e-3)  # an M dwarf's edge is dimmer
    cool = habitable.zone(0.01, 3000.0)
    assert cool.runaway_greenhouse_au == pytest.approx(math.sqrt(0.01 / expected))
    edges = [getattr(cool, f"{edge}_au") for edge in habitable.EDGES]
    assert edges == sorted(edges)  # recent Venus < runaway < maximum < early Mars


@pytest.mark.parametrize(("teff", "end"), [(2000.0, 2600.0), (9500.0, 7200.0)])
def test_temperature_outside_the_fit_is_clamped_and_flagged(teff, end):
    outside = habitable.zone(2.0, teff)
    at_end = habitable.zone(2.0, end)
    assert outside.clamped and not at_end.clamped
    assert outside.conservative == pytest.approx(at_end.conservative)
    assert outside.teff_k == teff


def test_zone_without_temperature_uses_the_suns_fluxes_and_says_so():
    assumed = habitable.zone(1.0)
    assert assumed.teff_assumed
    assert habitable.zone_au(1.0) == assumed.conservative


def test_planets_in_zone_use_the_stars_temperature():
    # 0.26 AU around an L = 0.02 star: outside at the Sun's fluxes, inside at 3300 K.
    system = {
        "luminosity_lsun": 0.02,
        "planets": [{"name": "b", "semi_major_axis_au": 0.26}],
    }
    assert habitable.planets_in_zone(system) == []
    assert habitable.planets_in_zone({**system, "teff_k": 3300.0}) == ["b"]


def test_unknown_edge_and_bad_temperature_are_refused():
    with pytest.raises(ValueError, match="early_mars"):
        habitable.effective_flux("moist_greenhouse", 5000.0)
    with pytest.raises(ValueError, match="teff_k"):
        habitable.zone(1.0, "hot")


@pytest.mark.parametrize(
    "luminosity, teff",
    [(1.0, 5772.0), (0.0015, 2300.0), (30.0, 9000.0), (0.4, None), (2.0, -5.0)],
)
def test_zone_au_is_the_conservative_pair_of_the_full_zone(luminosity, teff):
    full = habitable.zone(luminosity, teff)
    assert habitable.zone_au(luminosity, teff) == full.conservative


def test_the_in_hz_flag_follows_the_conservative_edges():
    inner, outer = habitable.zone_au(1.0, 5772.0)
    flags = [
        habitable.in_conservative_zone(a, 1.0, 5772.0)
        for a in (0.72, inner, 1.0, 1.52, outer, 5.2)
    ]
    assert flags == [False, True, True, True, True, False]


@pytest.mark.parametrize(
    ("axis", "luminosity", "teff"),
    [(None, 1.0, 5772.0), (1.0, None, 5772.0), (1.0, 1.0, None), (1.0, 1.0, 9000.0)],
)
def test_the_in_hz_flag_is_none_where_the_zone_is_undefined(axis, luminosity, teff):
    # Unlike `zone`, no Teff is assumed or clamped: the inferred planets' rule.
    assert habitable.in_conservative_zone(axis, luminosity, teff) is None


def test_the_in_hz_flag_agrees_with_the_inference_model():
    from batch_jobs import inference

    teff = np.array([3000.0, 4500.0, 5772.0, 7000.0])
    lum = np.array([0.002, 0.2, 1.0, 5.0])
    hz = inference.habitable_zone_au(teff, lum)
    for i in range(teff.size):
        for a in np.geomspace(0.01, 10.0, 40):
            expected = hz["runaway_greenhouse"][i] <= a <= hz["maximum_greenhouse"][i]
            assert habitable.in_conservative_zone(a, lum[i], teff[i]) == expected
