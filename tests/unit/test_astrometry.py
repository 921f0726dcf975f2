"""ICRS to Galactic Cartesian, checked against known directions and stars."""

from __future__ import annotations

import math

import numpy as np
import pytest

from batch_jobs import astrometry

# The Galactic centre (l = 0, b = 0) and the north Galactic pole in ICRS, as the
# Hipparcos Catalogue (Vol. 1, Sect. 1.5.3) gives them.
GC_RA, GC_DEC = 266.40499625, -28.93617242
NGP_RA, NGP_DEC = 192.85948, 27.12825
# (l = 90, b = 0) in ICRS.
L90_RA, L90_DEC = 318.0043908, 48.3296895


def test_tabulated_matrix_matches_its_defining_angles():
    rebuilt = astrometry.galactic_matrix_from_angles()
    np.testing.assert_allclose(rebuilt, astrometry.GALACTIC_FROM_ICRS, atol=2e-10)


def test_rotation_matrix_is_orthonormal():
    m = astrometry.GALACTIC_FROM_ICRS
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-9)
    assert np.linalg.det(m) == pytest.approx(1.0, abs=1e-9)


def test_galactic_centre_direction_maps_to_plus_x():
    xyz = astrometry.galactic_xyz([GC_RA], [GC_DEC], [10.0])[0]
    np.testing.assert_allclose(xyz, [10.0, 0.0, 0.0], atol=1e-6)


def test_north_galactic_pole_maps_to_plus_z():
    xyz = astrometry.galactic_xyz([NGP_RA], [NGP_DEC], [1.0])[0]
    np.testing.assert_allclose(xyz, [0.0, 0.0, 1.0], atol=1e-7)


def test_longitude_ninety_maps_to_plus_y():
    xyz = astrometry.galactic_xyz([L90_RA], [L90_DEC], [1.0])[0]
    np.testing.assert_allclose(xyz, [0.0, 1.0, 0.0], atol=1e-6)


def test_proxima_centauri_lands_at_its_known_galactic_position():
    # Hipparcos: RA 217.44894751, Dec -62.68135207, parallax 772.33 mas;
    # SIMBAD gives l = 313.9399, b = -1.9271 deg.
    dist, xyz = astrometry.icrs_to_galactic([217.44894751], [-62.68135207], [772.33])
    d = 1000.0 / 772.33
    lon, lat = math.radians(313.9399), math.radians(-1.9271)
    expected = [
        d * math.cos(lat) * math.cos(lon),
        d * math.cos(lat) * math.sin(lon),
        d * math.sin(lat),
    ]
    assert dist[0] == pytest.approx(d)
    np.testing.assert_allclose(xyz[0], expected, atol=2e-4)
    np.testing.assert_allclose(xyz[0], [0.8981, -0.9317, -0.0437], atol=2e-4)


def test_proxima_moved_to_j2000_has_simbads_position_and_galactic_lb():
    # SIMBAD, ICRS epoch J2000: 14 29 42.946 -62 40 46.16; l 313.9399, b -1.9271.
    ra, dec = astrometry.propagate(
        217.44894751,
        -62.68135207,
        -3775.64,
        768.16,
        astrometry.HIPPARCOS_EPOCH,
        astrometry.J2000,
    )
    simbad_ra = (14 + 29 / 60 + 42.946 / 3600) * 15
    simbad_dec = -(62 + 40 / 60 + 46.16 / 3600)
    assert float(astrometry.separation_arcsec(ra, dec, simbad_ra, simbad_dec)) < 0.1
    lon, lat = astrometry.galactic_lb(ra, dec)
    assert float(lon) == pytest.approx(313.9399, abs=1e-4)
    assert float(lat) == pytest.approx(-1.9271, abs=1e-4)


def test_no_distance_without_a_positive_parallax():
    dist, xyz = astrometry.icrs_to_galactic(
        [10.0, 10.0, 10.0, 10.0], [5.0, 5.0, 5.0, 5.0], [np.nan, 0.0, -3.4, 2.0]
    )
    assert np.isnan(dist[:3]).all() and np.isnan(xyz[:3]).all()
    assert dist[3] == pytest.approx(500.0)
    assert np.linalg.norm(xyz[3]) == pytest.approx(500.0)


def test_distance_is_preserved_by_the_rotation():
    rng = np.random.default_rng(1)
    ra = rng.uniform(0, 360, 1000)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 1000)))
    plx = rng.uniform(0.5, 800, 1000)
    dist, xyz = astrometry.icrs_to_galactic(ra, dec, plx)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), dist, rtol=1e-9)


def test_propagation_moves_by_proper_motion_times_years():
    # Barnard's Star: pmRA* -797.84, pmDec 10326.93 mas/yr (Hipparcos).
    ra, dec = 269.45402305, 4.66828815
    new_ra, new_dec = astrometry.propagate(ra, dec, -797.84, 10326.93, 1991.25, 2000.0)
    moved = astrometry.separation_arcsec(ra, dec, new_ra, new_dec)
    expected = math.hypot(-797.84, 10326.93) / 1000 * 8.75
    assert float(moved) == pytest.approx(expected, rel=1e-4)
    assert float(new_dec) > dec


def test_propagation_without_motion_keeps_position():
    ra, dec = astrometry.propagate(
        [12.5, 300.0], [-45.0, 80.0], [0.0, np.nan], [0.0, np.nan]
    )
    np.testing.assert_allclose(ra, [12.5, 300.0], atol=1e-9)
    np.testing.assert_allclose(dec, [-45.0, 80.0], atol=1e-9)


def test_propagation_to_gaia_epoch_meets_the_exoplanet_table_position():
    # PSCompPars gives Proxima Cen at 217.3934657, -62.6761821 (Gaia, 2015.5).
    ra, dec = astrometry.propagate(
        217.44894751, -62.68135207, -3775.64, 768.16, 1991.25, 2015.5
    )
    sep = astrometry.separation_arcsec(ra, dec, 217.3934657, -62.6761821)
    assert float(sep) < 0.5


def test_separation_of_known_pair():
    one_degree = astrometry.separation_arcsec(0.0, 0.0, 0.0, 1.0)
    across_pole = astrometry.separation_arcsec(0.0, 89.0, 180.0, 89.0)
    assert float(one_degree) == pytest.approx(3600)
    assert float(across_pole) == pytest.approx(7200, rel=1e-9)


def test_space_velocity_matches_astropy_within_a_metre_per_second():
    coordinates = pytest.importorskip("astropy.coordinates")
    units = pytest.importorskip("astropy.units")
    ra = np.array([269.45402305, 217.42894222, 101.28715539])
    dec = np.array([4.66828815, -62.67949019, -16.71611582])
    plx = np.array([549.01, 772.33, 379.21])
    pmra = np.array([-797.84, -3775.75, -546.01])
    pmdec = np.array([10326.93, 765.54, -1223.08])
    rv = np.array([-110.4, -22.3, -5.5])
    uvw, tangential = astrometry.space_velocity(ra, dec, plx, pmra, pmdec, rv)
    sky = coordinates.SkyCoord(
        ra=ra * units.deg, dec=dec * units.deg,
        distance=(1000 / plx) * units.pc,
        pm_ra_cosdec=pmra * units.mas / units.yr,
        pm_dec=pmdec * units.mas / units.yr,
        radial_velocity=rv * units.km / units.s, frame="icrs",
    ).galactic.cartesian.differentials["s"]  # fmt: skip
    expected = np.stack([sky.d_x, sky.d_y, sky.d_z], -1).to_value(units.km / units.s)
    # astropy's Galactic frame comes from FK5; Hipparcos' differs by ~1e-5 rad,
    # a few mm/s at these speeds.
    np.testing.assert_allclose(uvw, expected, atol=1e-3)
    assert not tangential.any()


def test_star_without_radial_velocity_keeps_only_tangential_motion_and_says_so():
    uvw, tangential = astrometry.space_velocity(
        [10.0, 10.0], [20.0, 20.0], [100.0, 100.0], [50.0, 50.0], [-30.0, -30.0],
        [np.nan, 0.0],
    )  # fmt: skip
    assert tangential.tolist() == [True, False]
    np.testing.assert_allclose(uvw[0], uvw[1], atol=1e-12)
    speed = np.hypot(50.0, 30.0) * 10.0 / 1000 * astrometry.KM_S_PER_AU_YR
    assert np.linalg.norm(uvw[0]) == pytest.approx(speed)


def test_star_without_parallax_gets_no_velocity():
    uvw, _ = astrometry.space_velocity([1.0], [2.0], [-3.0], [4.0], [5.0], [6.0])
    assert np.isnan(uvw).all()


def test_velocity_of_a_star_without_proper_motion_points_along_its_position():
    velocity, flagged = astrometry.space_velocity(
        [30.0], [-20.0], [100.0], [0.0], [0.0], [-12.5]
    )
    direction = astrometry.galactic_xyz([30.0], [-20.0], [1.0])
    np.testing.assert_allclose(velocity, -12.5 * direction, atol=1e-12)
    assert not flagged[0]


def test_barnards_star_space_velocity_is_its_published_speed():
    # Barnard's Star (Hipparcos 1997, HIP 87937): plx 549.01 mas, pmRA* -797.84,
    # pmDec 10326.93 mas/yr; RV -110.51 km/s (SSCore Nearest). Tangential speed
    # 4.74047 * mu / plx = 89.4 km/s, so |v| = sqrt(89.4^2 + 110.5^2) = 142.2 km/s.
    velocity, _ = astrometry.space_velocity(
        [269.4541], [4.6683], [549.01], [-797.84], [10326.93], [-110.51]
    )
    tangential = 4.740470463533348 * math.hypot(-797.84, 10326.93) / 549.01
    assert tangential == pytest.approx(89.4, abs=0.05)
    assert np.linalg.norm(velocity[0]) == pytest.approx(
        math.hypot(tangential, 110.51),
        rel=1e-9,  # the matrix has 10 digits
    )


def test_star_without_radial_velocity_moves_tangentially_and_is_flagged():
    velocity, flagged = astrometry.space_velocity(
        [10.0, 10.0], [40.0, 40.0], [50.0, 50.0], [300.0, 300.0], [-200.0, -200.0],
        [np.nan, 0.0],
    )  # fmt: skip
    assert flagged.tolist() == [True, False]
    np.testing.assert_array_equal(velocity[0], velocity[1])
    radial = astrometry.galactic_xyz([10.0], [40.0], [1.0])[0]
    assert abs(velocity[0] @ radial) < 1e-8 * np.linalg.norm(velocity[0])


def test_velocity_is_unknown_without_a_positive_parallax():
    velocity, _ = astrometry.space_velocity([1.0], [2.0], [-3.0], [4.0], [5.0], [6.0])
    assert np.isnan(velocity).all()
