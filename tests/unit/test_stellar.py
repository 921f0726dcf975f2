"""Stellar physics: the published relations at known points, and NaN passing through."""

from __future__ import annotations

import math

import numpy as np
import pytest

from batch_jobs import stellar


def test_solar_colour_gives_solar_temperature():
    # Ballesteros 2012 by hand: 4600 (1/2.298 + 1/1.218) = 5778.4 K.
    assert float(stellar.teff_from_bv(0.65)) == pytest.approx(5778.4, abs=0.1)


def test_temperature_falls_as_colour_reddens():
    teff = stellar.teff_from_bv([-0.3, 0.0, 0.65, 1.0, 1.5, 2.0])
    assert (np.diff(teff) < 0).all()
    assert float(teff[1]) == pytest.approx(4600 * (1 / 1.7 + 1 / 0.62))


def test_colour_outside_the_calibrated_range_gives_nan():
    teff = stellar.teff_from_bv([-0.8, 2.5, 5.46])
    assert np.isnan(teff).all()


def test_solar_bolometric_correction_is_flowers():
    # Torres 2010: BC_V,sun = -0.08 on the Flower scale.
    bc = float(stellar.bolometric_correction(5772.0))
    assert bc == pytest.approx(-0.08, abs=0.005)


def test_bolometric_correction_uses_torres_table_one():
    log_t = 4.0
    expected = np.polynomial.polynomial.polyval(
        log_t,
        [
            -0.118115450538963e06,
            0.137145973583929e06,
            -0.636233812100225e05,
            0.147412923562646e05,
            -0.170587278406872e04,
            0.788731721804990e02,
        ],
    )
    assert float(stellar.bolometric_correction(10**log_t)) == pytest.approx(expected)


def test_bolometric_correction_pieces_nearly_meet_at_the_breaks():
    for log_t in (3.70, 3.90):
        below = stellar.bolometric_correction(10 ** (log_t - 1e-9))
        above = stellar.bolometric_correction(10 ** (log_t + 1e-9))
        assert abs(float(below) - float(above)) < 0.03


def test_cool_and_hot_stars_have_large_negative_corrections():
    bc = stellar.bolometric_correction([3000.0, 6500.0, 30000.0])
    assert bc[0] < -1.0 and bc[2] < -2.0 and abs(bc[1]) < 0.1


def test_sun_luminosity_from_its_absolute_magnitude_is_one():
    assert float(stellar.luminosity_from_magnitude(4.83, 5772.0)) == pytest.approx(
        1.0, rel=0.02
    )


def test_absolute_magnitude_at_ten_parsecs_equals_apparent():
    assert float(stellar.absolute_magnitude(7.5, 10.0)) == pytest.approx(7.5)
    assert float(stellar.absolute_magnitude(7.5, 100.0)) == pytest.approx(2.5)


def test_luminosity_from_radius_and_temperature():
    assert float(stellar.luminosity_from_radius(1.0, stellar.TEFF_SUN_K)) == 1.0
    assert float(stellar.luminosity_from_radius(2.0, 2 * stellar.TEFF_SUN_K)) == 64.0


def test_bolometric_magnitude_of_the_sun():
    assert float(stellar.bolometric_magnitude(1.0)) == stellar.MBOL_SUN


@pytest.mark.parametrize(
    "function, args",
    [
        (stellar.teff_from_bv, (np.nan,)),
        (stellar.bolometric_correction, (np.nan,)),
        (stellar.bolometric_correction, (0.0,)),
        (stellar.absolute_magnitude, (np.nan, 10.0)),
        (stellar.absolute_magnitude, (5.0, np.nan)),
        (stellar.absolute_magnitude, (5.0, -1.0)),
        (stellar.luminosity_from_magnitude, (np.nan, 5000.0)),
        (stellar.luminosity_from_magnitude, (5.0, np.nan)),
        (stellar.luminosity_from_radius, (np.nan, 5000.0)),
        (stellar.luminosity_from_radius, (1.0, np.nan)),
        (stellar.bolometric_magnitude, (0.0,)),
    ],
)
def test_missing_input_gives_missing_output(function, args):
    assert math.isnan(float(function(*args)))


def test_functions_are_vectorised_and_keep_shape():
    bv = np.array([[0.0, 0.65], [np.nan, 1.2]])
    teff = stellar.teff_from_bv(bv)
    assert teff.shape == (2, 2)
    assert np.isnan(teff[1, 0]) and np.isfinite(teff[1, 1])
    assert stellar.bolometric_correction(teff).shape == (2, 2)


# --- spectral types -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "luminosity", "evolutionary"),
    [
        ("G2V", 42.0, 5.0, "dwarf"),
        ("K0III-IV", 50.0, 3.5, "giant"),
        ("F5IV-V", 35.0, 4.5, "dwarf"),
        ("B2IV", 12.0, 4.0, "subgiant"),
        ("M5.5Ve", 65.5, 5.0, "dwarf"),
        ("sdM1", 61.0, 6.0, "dwarf"),
        ("kA2hA5mA7V", 25.0, 5.0, "dwarf"),
        ("M2Ib", 62.0, 1.5, "supergiant"),
        ("B8Ia", 18.0, 1.0, "supergiant"),
        ("K2IIIp", 52.0, 3.0, "giant"),
        ("G8/K0III", 48.0, 3.0, "giant"),
        ("B9Vnn", 19.0, 5.0, "dwarf"),
        ("A0m...", 20.0, math.nan, None),
    ],
)
def test_spectral_type_gives_temperature_and_luminosity_class(
    text, code, luminosity, evolutionary
):
    parsed = stellar.parse_spectral_type(text)
    assert parsed.type_code == code
    assert parsed.luminosity_code == pytest.approx(luminosity, nan_ok=True)
    assert parsed.evolutionary_class == evolutionary
    assert not parsed.white_dwarf


def test_white_dwarf_types_carry_their_temperature_index():
    parsed = stellar.parse_spectral_type("DA2")
    assert parsed.white_dwarf and parsed.white_dwarf_index == 2.0
    assert parsed.evolutionary_class == "white-dwarf"
    assert math.isnan(parsed.type_code)
    assert math.isnan(stellar.parse_spectral_type("DQ").white_dwarf_index)


@pytest.mark.parametrize("text", ["", "   ", "garbage", "Vega", "C5,4", "+", None, 7])
def test_unreadable_spectral_types_say_nothing_and_never_raise(text):
    parsed = stellar.parse_spectral_type(text)
    assert math.isnan(parsed.type_code) and math.isnan(parsed.luminosity_code)
    assert parsed.evolutionary_class is None and not parsed.white_dwarf


def test_many_spectral_types_parse_like_one():
    texts = ["G2V", None, "DA2", "G2V", "junk"]
    types = stellar.parse_spectral_types(texts)
    assert types.type_code[[0, 3]].tolist() == [42.0, 42.0]
    assert types.stated_class.tolist() == ["dwarf", None, "white-dwarf", "dwarf", None]
    assert types.white_dwarf.tolist() == [False, False, True, False, False]


def test_teff_from_type_follows_pecaut_mamajek_dwarfs():
    teff = stellar.teff_from_type([42.0, 25.0, 65.5, 65.75, 2.0, 75.0, math.nan])
    assert teff[:3].tolist() == [5770.0, 8100.0, 2930.0]
    assert teff[3] == pytest.approx((2930.0 + 2810.0) / 2)
    assert np.isnan(teff[4:]).all()  # outside O3-M9.5, or no type


def test_main_sequence_mass_by_magnitude_and_by_luminosity_agree_on_the_sun():
    assert float(stellar.main_sequence_mass(4.80)) == pytest.approx(1.0)
    by_l = stellar.main_sequence_mass(math.nan, 10**0.010)
    assert float(by_l) == pytest.approx(1.0)
    assert np.isnan(stellar.main_sequence_mass([25.0, -9.0, math.nan])).all()


def test_class_from_magnitude_places_stars_against_the_main_sequence():
    # M_V of the Sun, of a K giant, of a subgiant, of Rigel, of Sirius B.
    mv = [4.8, 0.5, 2.6, -7.0, 11.3]
    teff = [5770.0, 4500.0, 5770.0, 11000.0, 10000.0]
    classes = stellar.class_from_magnitude(mv, teff).tolist()
    assert classes == ["dwarf", "giant", "subgiant", "supergiant", "white-dwarf"]
    assert stellar.class_from_magnitude([5.0], [math.nan]).tolist() == [None]


def test_derive_prefers_colour_then_type_and_sizes_by_class():
    physics = stellar.derive(
        bv=[0.65, math.nan, -0.03, 1.2],
        vmag=[4.8, 4.8, 11.3, 0.5],
        dist_pc=[10.0, 10.0, 10.0, 10.0],
        spectral_types=["G2V", "G2V", "DA2", "K0III"],
    )
    assert physics.teff_rule.tolist() == [
        stellar.TEFF_FROM_BV_RULE,
        stellar.TEFF_FROM_TYPE_RULE,
        stellar.TEFF_FROM_WHITE_DWARF_RULE,
        stellar.TEFF_FROM_BV_RULE,
    ]
    assert physics.teff_k[1] == 5770.0 and physics.teff_k[2] == 25200.0
    assert physics.evolutionary_class.tolist() == [
        "dwarf",
        "dwarf",
        "white-dwarf",
        "giant",
    ]
    assert physics.mass_msun[:3] == pytest.approx([1.0, 1.0, 0.6], abs=0.02)
    assert np.isnan(physics.mass_msun[3])  # no relation is assumed for giants
    assert physics.radius_rsun[0] == pytest.approx(1.0, abs=0.05)
    assert physics.radius_rsun[2] < 0.02 and physics.radius_rsun[3] > 5


# --- real stars ---------------------------------------------------------------------


def _star(world, system_id: str) -> dict:
    return next(s for s in world.systems if s["system_id"] == system_id)


@pytest.mark.realdata
def test_real_dwarfs_get_main_sequence_masses(real_world):
    alpha_cen_a = _star(real_world, "hip-71683")
    proxima = _star(real_world, "hip-70890")
    assert alpha_cen_a["evolutionary_class"] == "dwarf"
    assert alpha_cen_a["mass_msun"] == pytest.approx(1.1, abs=0.05)
    assert proxima["evolutionary_class"] == "dwarf"
    assert 0.1 <= proxima["mass_msun"] <= 0.15
    rule = proxima["provenance"]["mass_msun"]["rule"]
    assert rule == stellar.MASS_MAIN_SEQUENCE_RULE


@pytest.mark.realdata
def test_sirius_b_is_a_white_dwarf_of_typical_mass(real_world):
    sirius_b = _star(real_world, "gj-244b")
    assert sirius_b["evolutionary_class"] == "white-dwarf"
    assert sirius_b["mass_msun"] == stellar.WHITE_DWARF_MASS_MSUN
    assert sirius_b["teff_k"] == pytest.approx(50400 / 1.9, abs=1)  # DA1.9
    assert sirius_b["radius_rsun"] < 0.02


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("system_id", "evolutionary"),
    [
        ("hip-69673", "giant"),  # Arcturus
        ("hip-21421", "giant"),  # Aldebaran
        ("hip-27989", "supergiant"),  # Betelgeuse
        ("hip-24436", "supergiant"),  # Rigel
    ],
)
def test_evolved_stars_are_classed_with_no_main_sequence_mass(
    real_world, system_id, evolutionary
):
    star = _star(real_world, system_id)
    assert star["evolutionary_class"] == evolutionary
    assert star["mass_msun"] is None and "mass_msun" not in star["provenance"]
    assert star["radius_rsun"] > 10


@pytest.mark.realdata
def test_a_star_without_colour_gets_teff_from_its_spectral_type(real_world):
    star = _star(real_world, "hip-45")
    assert star["bv"] is None and star["spectral_type"] == "G6/G8V:"
    assert star["teff_k"] == 5600.0
    assert star["provenance"]["teff_k"]["rule"] == stellar.TEFF_FROM_TYPE_RULE
