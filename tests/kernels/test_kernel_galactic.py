"""The fused Galactic-frame kernel agrees with the NumPy astrometry it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from batch_jobs import astrometry
from sim_kernels.galactic import to_galactic


@pytest.fixture
def stars():
    rng = np.random.default_rng(11)
    n = 5_000
    columns = {
        "ra": rng.uniform(0, 360, n),
        "dec": rng.uniform(-90, 90, n),
        "plx": rng.uniform(-5, 300, n),
        "pmra": rng.normal(0, 300, n),
        "pmdec": rng.normal(0, 300, n),
        "rv": rng.normal(0, 40, n),
    }
    columns["rv"][::4] = np.nan
    columns["plx"][::97] = np.nan
    return columns


def _kernel(s, parallel=True):
    return to_galactic(
        s["ra"], s["dec"], s["plx"], s["pmra"], s["pmdec"], s["rv"],
        astrometry.GALACTIC_FROM_ICRS, parallel=parallel,
    )  # fmt: skip


def test_kernel_matches_the_numpy_reference(stars):
    xyz, uvw = _kernel(stars)
    _, xyz_ref = astrometry.icrs_to_galactic(stars["ra"], stars["dec"], stars["plx"])
    uvw_ref, _ = astrometry.space_velocity(
        stars["ra"], stars["dec"], stars["plx"], stars["pmra"], stars["pmdec"],
        stars["rv"],
    )  # fmt: skip
    np.testing.assert_allclose(xyz, xyz_ref, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(uvw, uvw_ref, rtol=1e-12, atol=1e-9)


def test_serial_and_parallel_runs_agree_exactly(stars):
    serial = _kernel(stars, parallel=False)
    parallel = _kernel(stars, parallel=True)
    np.testing.assert_array_equal(serial[0], parallel[0])
    np.testing.assert_array_equal(serial[1], parallel[1])


def test_no_positive_parallax_gives_nan_not_zero(stars):
    xyz, uvw = _kernel(stars)
    bad = ~(stars["plx"] > 0)
    assert bad.sum() > 10
    assert np.isnan(xyz[bad]).all() and np.isnan(uvw[bad]).all()
    assert np.isfinite(xyz[~bad]).all()


def test_mismatched_inputs_are_refused_before_the_kernel(stars):
    with pytest.raises(ValueError, match="same length"):
        to_galactic(
            stars["ra"][:-1], stars["dec"], stars["plx"], stars["pmra"],
            stars["pmdec"], stars["rv"], astrometry.GALACTIC_FROM_ICRS,
        )  # fmt: skip
    with pytest.raises(ValueError, match="3x3"):
        to_galactic(
            stars["ra"], stars["dec"], stars["plx"], stars["pmra"], stars["pmdec"],
            stars["rv"], np.eye(2),
        )  # fmt: skip


def test_the_kernel_sine_and_cosine_agree_with_libm_over_every_quadrant():
    from sim_kernels.galactic import sincos

    rng = np.random.default_rng(3)
    # Angles as the kernel sees them (RA and Dec in radians) and far beyond.
    angles = np.concatenate(
        [
            rng.uniform(-2 * np.pi, 2 * np.pi, 20_000),
            rng.uniform(-1e4, 1e4, 5_000),
            np.arange(-8, 9) * (np.pi / 4),  # octant edges
            np.array([0.0, -0.0, 1e-300, np.pi / 2, np.pi, 3 * np.pi / 2]),
        ]
    )
    got = np.array([sincos(x) for x in angles])
    assert np.max(np.abs(got[:, 0] - np.sin(angles))) <= 4.5e-16
    assert np.max(np.abs(got[:, 1] - np.cos(angles))) <= 4.5e-16
    assert all(np.isnan(sincos(np.nan)))
