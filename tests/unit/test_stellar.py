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
