"""Planet inference v1: determinism, labelling, published rates, physical relations."""

from __future__ import annotations

import multiprocessing
import random

import numpy as np
import pytest

from batch_jobs import inference, stellar
from batch_jobs.inference import (
    MODEL_VERSION,
    draw_planets,
    habitable_zone_au,
    infer_many,
    infer_system,
    star_key,
)

SUN_LIKE = {"system_id": "hip-1", "name": "HIP 1", "teff_k": 5772.0}


def _stars(n: int, seed: int = 7) -> list[dict]:
    """A mixed sample of dwarfs: M, K, G and F temperatures with MS luminosities."""
    rng = np.random.default_rng(seed)
    teff = rng.uniform(3000.0, 7000.0, n)
    mass = np.interp(teff, [3000, 4000, 5772, 7000], [0.2, 0.6, 1.0, 1.6])
    lum = np.where(mass > 0.43, mass**4, 0.23 * mass**2.3)
    return [
        {"system_id": f"hip-{i}", "teff_k": float(t), "luminosity_lsun": float(lu)}
        for i, (t, lu) in enumerate(zip(teff, lum))
    ]


MILLION = 1_000_000


@pytest.fixture(scope="module")
def million_keys() -> np.ndarray:
    return np.array([star_key(f"rate-{i}") for i in range(MILLION)], dtype=np.uint64)


def _draw(keys: np.ndarray, teff: float, lum: float, mass: float):
    ones = np.ones(keys.size)
    return draw_planets(keys, teff * ones, lum * ones, mass * ones, ones)


@pytest.fixture(scope="module")
def sun_like_million(million_keys):
    """A million Sun-like dwarfs (5772 K, 1 Lsun, 1 Msun)."""
    return _draw(million_keys, 5772.0, 1.0, 1.0)


@pytest.fixture(scope="module")
def m_dwarf_million(million_keys):
    """A million M dwarfs (3500 K, 0.03 Lsun, 0.45 Msun)."""
    return _draw(million_keys, 3500.0, 0.03, 0.45)


def _infer_in_child(stars: list[dict]) -> dict[str, list[dict]]:
    return infer_many(stars)


# --- determinism ----------------------------------------------------------------


def test_same_star_gives_the_same_planets_twice():
    stars = _stars(200)
    first = infer_many(stars)
    assert first == infer_many(stars)
    assert sum(len(p) for p in first.values()) > 100


def test_planets_do_not_depend_on_order_or_batching():
    stars = _stars(500)
    whole = infer_many(stars)
    shuffled = stars[:]
    random.Random(3).shuffle(shuffled)
    assert infer_many(shuffled) == whole
    halves = {**infer_many(shuffled[:250]), **infer_many(shuffled[250:])}
    assert halves == whole
    one_by_one = {s["system_id"]: infer_system(s) for s in stars[:50]}
    assert one_by_one == {k: whole[k] for k in one_by_one}


def test_two_worker_processes_agree_with_one():
    stars = _stars(400)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as pool:
        parts = pool.map(_infer_in_child, [stars[::2], stars[1::2]])
    assert {**parts[0], **parts[1]} == infer_many(stars)


def test_star_key_depends_on_model_version_and_system_id():
    assert star_key("hip-1") == star_key("hip-1", MODEL_VERSION)
    assert star_key("hip-1") != star_key("hip-2")
    assert star_key("hip-1") != star_key("hip-1", "occurrence-v2")


# --- labelling and who gets planets ----------------------------------------------


def test_every_inferred_planet_says_so_with_the_model_version():
    planets = [p for ps in infer_many(_stars(300)).values() for p in ps]
    assert planets
    for planet in planets:
        assert planet["inferred"] is True
        assert planet["known"] is False
        assert planet["model_version"] == MODEL_VERSION
        assert planet["source"] == "inference"
        assert set(planet) == {
            "name",
            "known",
            "inferred",
            "model_version",
            "period_days",
            "semi_major_axis_au",
            "eccentricity",
            "mass_earth",
            "radius_earth",
            "in_hz",
            "source",
        }
        assert 0.0 <= planet["eccentricity"] < 1.0
        assert planet["in_hz"] in (True, False, None)


def test_planets_are_named_after_the_star_in_period_order():
    stars = [
        dict(SUN_LIKE, system_id=f"hip-{i}", luminosity_lsun=1.0) for i in range(50)
    ]
    for star in stars:
        star["name"] = "Star " + star["system_id"]
    for system_id, planets in infer_many(stars).items():
        periods = [p["period_days"] for p in planets]
        assert periods == sorted(periods)
        names = [p["name"] for p in planets]
        assert names == [f"Star {system_id} i{n}" for n in range(1, len(names) + 1)]


def test_stars_with_known_planets_get_no_inferred_ones():
    known = {"name": "b", "known": True}
    stars = [
        dict(SUN_LIKE, system_id=f"k-{i}", luminosity_lsun=1.0, planets=[known])
        for i in range(300)
    ]
    assert all(p == [] for p in infer_many(stars).values())


def test_giants_and_white_dwarfs_get_no_planets():
    giants = [
        {"system_id": f"g-{i}", "teff_k": 4600.0, "luminosity_lsun": 60.0}
        for i in range(300)
    ]
    white_dwarfs = [
        {"system_id": f"w-{i}", "teff_k": 9000.0, "luminosity_lsun": 0.003}
        for i in range(300)
    ]
    result = infer_many(giants + white_dwarfs)
    assert all(planets == [] for planets in result.values())


@pytest.mark.parametrize("evolved", ["giant", "supergiant", "white-dwarf", "subgiant"])
def test_the_evolutionary_class_decides_over_a_sun_like_radius(evolved):
    stars = [
        dict(SUN_LIKE, system_id=f"s-{i}", luminosity_lsun=1.0) for i in range(300)
    ]
    classed = [dict(s, evolutionary_class=evolved) for s in stars]
    assert all(planets == [] for planets in infer_many(classed).values())
    dwarfs = [dict(s, evolutionary_class="dwarf") for s in stars]
    assert any(infer_many(dwarfs).values())


def test_missing_temperature_gives_no_planets():
    stars = [{"system_id": "n-0", "teff_k": None, "luminosity_lsun": 1.0}]
    assert infer_many(stars) == {"n-0": []}


# --- published rates over a million systems ---------------------------------------


def test_million_fgk_stars_recover_fressin_earth_size_rate(sun_like_million):
    # Fressin et al. 2013 abstract: 16.5% +- 3.6% of FGK stars have at least one
    # 0.8-1.25 Re planet with P < 85 d.
    draw = sun_like_million
    chosen = (
        (draw.radius_earth >= 0.8)
        & (draw.radius_earth < 1.25)
        & (draw.period_days < 85)
    )
    fraction = np.unique(draw.star[chosen]).size / MILLION
    assert abs(fraction - 0.165) < 0.036


def test_million_fgk_stars_recover_petigura_long_period_rate(sun_like_million):
    # Petigura et al. 2013 abstract: 5.7 (+1.7 -2.2)% of Sun-like stars have a
    # 1-2 Re planet with P = 200-400 d.
    draw = sun_like_million
    chosen = (
        (draw.radius_earth >= 1.0)
        & (draw.radius_earth < 2.0)
        & (draw.period_days >= 200)
        & (draw.period_days < 400)
    )
    fraction = np.unique(draw.star[chosen]).size / MILLION
    assert 0.057 - 0.022 < fraction < 0.057 + 0.017


def test_million_m_dwarfs_recover_dressing_and_charbonneau_rate(m_dwarf_million):
    # Dressing & Charbonneau 2015 abstract: 2.5 +- 0.2 planets per M dwarf with
    # 1-4 Re and P < 200 d.
    draw = m_dwarf_million
    chosen = (draw.radius_earth >= 1.0) & (draw.radius_earth < 4.0)
    chosen &= draw.period_days < 200
    per_star = chosen.sum() / MILLION
    assert abs(per_star - 2.5) < 0.2


def test_giant_planet_rate_follows_cumming_at_one_solar_mass(sun_like_million):
    # Cumming et al. 2008: 10.5% of solar-type stars have a 0.3-10 MJup planet
    # with P = 2-2000 d; the binomial error on a million stars is 0.03%.
    draw = sun_like_million
    giants = draw.mass_earth > 0.3 * inference.MJUP_EARTH
    fraction = np.unique(draw.star[giants]).size / MILLION
    assert fraction == pytest.approx(0.105, abs=0.002)
    assert draw.period_days[giants].min() >= 2.0
    assert draw.period_days[giants].max() <= 2000.0


def test_giant_planet_rate_scales_with_stellar_mass_as_johnson(million_keys):
    # Johnson et al. 2010: occurrence proportional to stellar mass.
    keys = million_keys[:400_000]
    rates = []
    for mass in (0.5, 1.0, 2.0):
        draw = _draw(keys, 5000.0, mass**4, mass)
        giants = draw.mass_earth > 0.3 * inference.MJUP_EARTH
        rates.append(np.unique(draw.star[giants]).size / keys.size)
    assert rates[0] == pytest.approx(0.0525, abs=0.002)
    assert rates[2] == pytest.approx(0.21, abs=0.003)


# --- relations ---------------------------------------------------------------------


def test_sun_habitable_zone_matches_kopparapu_2014():
    hz = habitable_zone_au(5780.0, 1.0)
    # Optimistic edges (recent Venus, early Mars): 0.75 and 1.77 AU.
    assert float(hz["recent_venus"]) == pytest.approx(0.75, abs=0.01)
    assert float(hz["early_mars"]) == pytest.approx(1.77, abs=0.01)
    # Conservative edges as this model defines them (runaway greenhouse for 1 Me,
    # maximum greenhouse): 1/sqrt(1.107) and 1/sqrt(0.356). Kopparapu 2013's
    # 0.99 / 1.70 AU pair is the moist-greenhouse limit with the 2013 table,
    # which this model does not use (see the model card).
    assert float(hz["runaway_greenhouse"]) == pytest.approx(0.95, abs=0.01)
    assert float(hz["maximum_greenhouse"]) == pytest.approx(1.68, abs=0.01)


def test_habitable_zone_is_undefined_outside_kopparapus_temperatures():
    hz = habitable_zone_au([2000.0, 9000.0], [0.001, 20.0])
    assert np.isnan(hz["runaway_greenhouse"]).all()


def test_earth_like_orbit_around_sun_like_star_is_in_the_habitable_zone(
    sun_like_million,
):
    draw = sun_like_million
    one_au = (draw.semi_major_axis_au > 1.0) & (draw.semi_major_axis_au < 1.2)
    close = draw.semi_major_axis_au < 0.5
    assert one_au.any()
    assert (draw.in_hz[one_au] == 1).all()
    assert (draw.in_hz[close] == 0).all()


def test_kepler_third_law_gives_one_au_for_a_year_around_the_sun():
    assert float(inference.semi_major_axis_au(365.25, 1.0)) == pytest.approx(1.0)
    assert float(inference.semi_major_axis_au(365.25, 8.0)) == pytest.approx(2.0)


def test_chen_kipping_relation_is_continuous_and_invertible():
    assert float(inference.radius_from_mass(1.0)) == pytest.approx(1.008)
    breaks = [inference.CK_TERRAN_MAX_ME, inference.CK_NEPTUNIAN_MAX_ME]
    for m in breaks:
        below, above = inference.radius_from_mass([m * (1 - 1e-9), m * (1 + 1e-9)])
        assert below == pytest.approx(above, rel=1e-6)
    radii = np.geomspace(0.8, 6.0, 50)
    masses = inference.mass_from_radius(radii)
    assert np.allclose(inference.radius_from_mass(masses), radii)
    assert (np.diff(masses) > 0).all()


def test_jupiter_mass_is_the_iau_2015_nominal_gm_ratio():
    # IAU 2015 Resolution B3 nominal GM_J / GM_E, as astropy carries it; Chen &
    # Kipping's Forecaster converts with 317.828 (its mr_forecast.py).
    constants = pytest.importorskip(
        "astropy.constants", reason="astropy is not installed (requirements-dev)"
    )
    ratio = float(constants.GM_jup / constants.GM_earth)
    assert inference.MJUP_EARTH == pytest.approx(ratio, abs=0.005)
    assert inference.MJUP_EARTH == pytest.approx(317.828, abs=0.005)


def test_eccentricities_follow_kipping_beta_mean(sun_like_million):
    draw = sun_like_million
    expected = inference.ECC_BETA_A / (inference.ECC_BETA_A + inference.ECC_BETA_B)
    assert draw.eccentricity.mean() == pytest.approx(expected, abs=0.005)
    assert ((draw.eccentricity >= 0) & (draw.eccentricity < 1)).all()


def test_main_sequence_mass_from_luminosity_is_the_pipelines_one_relation():
    lum = np.array([1.0, 16.0, 0.0017, 1e4])
    masses = inference.mass_from_luminosity(lum)
    assert masses == pytest.approx(stellar.main_sequence_mass(np.nan, lum))
    assert masses[0] == pytest.approx(1.0, abs=0.02)  # Pecaut & Mamajek G2V
    assert np.isnan(inference.mass_from_luminosity([0.0, -1.0, 1e-5])).all()


def test_filled_bins_keep_the_measured_rates_unchanged():
    fgk = {p.name: p for p in inference.POPULATIONS if p.star_class == "fgk"}
    assert fgk["earth"].rate_between(0.8, 85.0) == pytest.approx(0.1838)
    # Petigura et al. 2013: 0.057 planets of 1-2 Re per star at 200-400 d.
    in_one_to_two = fgk["earth"].rate_between(200.0, 400.0) * (
        np.log(1.25) / np.log(1.25 / 0.8)
    ) + fgk["super-earth"].rate_between(200.0, 400.0)
    assert in_one_to_two == pytest.approx(0.057)
    m_dwarf = [p for p in inference.POPULATIONS if p.star_class == "m"]
    assert sum(p.rate_between(0.5, 200.0) for p in m_dwarf) == pytest.approx(
        2.545, abs=0.001
    )
