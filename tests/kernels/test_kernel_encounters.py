"""Closest approaches to the Sun and between stars under linear motion."""

from __future__ import annotations

import numpy as np
import pytest

from sim_kernels import encounters
from sim_kernels.motion import KMS_PER_PC_PER_YR, PC_PER_YR_PER_KMS

BACKENDS = [("numba", True), ("numba", False), ("numpy", True)]
PC_PER_MYR_IN_KMS = KMS_PER_PC_PER_YR / 1e6  # 1 pc/Myr is about 0.978 km/s


def _stars(n: int, seed: int = 5, box: float = 30.0, sigma: float = 30.0):
    """Return random positions (pc) and velocities (km/s)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-box, box, (n, 3)), rng.normal(0.0, sigma, (n, 3))


# ------------------------------------------------------------------ the Sun


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_a_star_passing_the_sun_sideways_meets_it_when_expected(backend, parallel):
    positions = np.array([[10.0, 1.0, 0.0], [-4.0, 0.0, 3.0]])
    velocities = np.array([[-PC_PER_MYR_IN_KMS, 0.0, 0.0], [0.0, 0.0, 0.0]])
    got = encounters.closest_approach_to_sun(
        positions, velocities, backend=backend, parallel=parallel
    )
    assert got.t_min_yr[0] == pytest.approx(10e6, rel=1e-12)
    assert got.d_min_pc[0] == pytest.approx(1.0, rel=1e-12)
    # A star at rest is nearest now, at its present distance.
    assert got.t_min_yr[1] == 0.0 and got.d_min_pc[1] == pytest.approx(5.0)


def test_no_time_on_a_fine_grid_comes_closer_than_the_minimum():
    positions, velocities = _stars(200)
    got = encounters.closest_approach_to_sun(positions, velocities)
    v = velocities * PC_PER_YR_PER_KMS
    times = np.linspace(-5e6, 5e6, 4001)
    tracks = positions[:, None, :] + v[:, None, :] * times[None, :, None]
    sampled = np.sqrt((tracks**2).sum(axis=2)).min(axis=1)
    assert (sampled >= got.d_min_pc - 1e-9).all()
    within = np.abs(got.t_min_yr) < 5e6
    assert np.allclose(sampled[within], got.d_min_pc[within], rtol=1e-3, atol=1e-3)


def test_sun_encounters_numba_matches_numpy_reference_exactly():
    positions, velocities = _stars(20_000)
    velocities[7] = 0.0
    fast = encounters.closest_approach_to_sun(positions, velocities)
    legacy = encounters.closest_approach_to_sun(positions, velocities, backend="numpy")
    np.testing.assert_array_equal(fast.t_min_yr, legacy.t_min_yr)
    np.testing.assert_array_equal(fast.d_min_pc, legacy.d_min_pc)


def test_sun_encounters_parallel_and_serial_agree_exactly():
    positions, velocities = _stars(20_000)
    a = encounters.closest_approach_to_sun(positions, velocities, parallel=True)
    b = encounters.closest_approach_to_sun(positions, velocities, parallel=False)
    np.testing.assert_array_equal(a.t_min_yr, b.t_min_yr)
    np.testing.assert_array_equal(a.d_min_pc, b.d_min_pc)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_sun_encounter_of_a_star_with_nan_velocity_is_nan(backend, parallel):
    positions, velocities = _stars(5)
    velocities[1, 0] = np.nan
    got = encounters.closest_approach_to_sun(
        positions, velocities, backend=backend, parallel=parallel
    )
    assert np.isnan(got.t_min_yr[1]) and np.isnan(got.d_min_pc[1])
    assert np.isfinite(np.delete(got.d_min_pc, 1)).all()


def test_sun_encounters_refuse_mismatched_arrays_before_the_kernel(monkeypatch):
    monkeypatch.setattr(encounters, "_sun_kernel", None)
    with pytest.raises(ValueError, match="one length"):
        encounters.closest_approach_to_sun(np.zeros((3, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="positions_pc"):
        encounters.closest_approach_to_sun(np.zeros((3, 4)), np.zeros((3, 3)))


# ----------------------------------------------------------------- pairs


def _brute_force_pairs(positions, velocities, horizon, threshold):
    """Return {(i, j): (t, d)} over all pairs, written independently."""
    v = velocities * PC_PER_YR_PER_KMS
    found = {}
    n = positions.shape[0]
    for i in range(n - 1):
        r = positions[i + 1 :] - positions[i]
        w = v[i + 1 :] - v[i]
        ww = np.einsum("ij,ij->i", w, w)
        t = np.clip(-np.einsum("ij,ij->i", r, w) / ww, 0.0, horizon)
        d = np.linalg.norm(r + w * t[:, None], axis=1)
        for k in np.flatnonzero(d <= threshold):
            found[(i, i + 1 + k)] = (t[k], d[k])
    return found


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_pair_search_finds_exactly_the_pairs_a_brute_force_finds(backend, parallel):
    positions, velocities = _stars(600, seed=9)
    horizon, threshold = 2e5, 0.8
    got = encounters.close_pairs(
        positions, velocities, horizon, threshold, backend=backend, parallel=parallel
    )
    expected = _brute_force_pairs(positions, velocities, horizon, threshold)
    assert len(expected) > 10
    assert set(zip(got.i.tolist(), got.j.tolist(), strict=True)) == set(expected)
    for i, j, t, d in zip(got.i, got.j, got.t_min_yr, got.d_min_pc, strict=True):
        assert (t, d) == pytest.approx(expected[(i, j)], rel=1e-9, abs=1e-9)
        assert 0.0 <= t <= horizon


def test_pair_search_radius_covers_the_fastest_closing_pair():
    positions = np.array([[0.0, 0.0, 0.0], [50.0, 0.0, 0.0], [0.0, 80.0, 0.0]])
    velocities = np.array([[100.0, 0.0, 0.0], [-100.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    horizon = 50.0 / (200.0 * PC_PER_YR_PER_KMS)
    got = encounters.close_pairs(positions, velocities, horizon * 1.01, 0.1)
    assert list(zip(got.i, got.j, strict=True)) == [(0, 1)]
    assert got.t_min_yr[0] == pytest.approx(horizon)
    assert got.d_min_pc[0] == pytest.approx(0.0, abs=1e-9)
    assert encounters.search_radius_pc(velocities, horizon, 0.1) >= 50.0


def test_pair_numba_matches_numpy_reference_exactly():
    positions, velocities = _stars(3000, seed=4)
    fast = encounters.close_pairs(positions, velocities, 1e5, 0.5)
    legacy = encounters.close_pairs(positions, velocities, 1e5, 0.5, backend="numpy")
    for a, b in zip(fast, legacy, strict=True):
        np.testing.assert_array_equal(a, b)


def test_pair_parallel_and_serial_agree_exactly():
    positions, velocities = _stars(3000, seed=4)
    a = encounters.close_pairs(positions, velocities, 1e5, 0.5, parallel=True)
    b = encounters.close_pairs(positions, velocities, 1e5, 0.5, parallel=False)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


def test_pair_search_skips_rows_with_nan():
    positions, velocities = _stars(300, seed=2)
    velocities[[3, 40]] = np.nan
    got = encounters.close_pairs(positions, velocities, 3e5, 1.0)
    assert not {3, 40} & (set(got.i.tolist()) | set(got.j.tolist()))
    assert np.isfinite(got.d_min_pc).all()


@pytest.mark.parametrize(
    ("horizon", "threshold", "named"),
    [
        (0.0, 1.0, "horizon_yr"),
        (-5.0, 1.0, "horizon_yr"),
        (np.nan, 1.0, "horizon_yr"),
        (1e5, -1.0, "d_threshold_pc"),
        (1e5, np.inf, "d_threshold_pc"),
    ],
)
def test_pair_search_refuses_bad_window_or_threshold(
    horizon, threshold, named, monkeypatch
):
    monkeypatch.setattr(encounters, "_pair_kernel", None)
    monkeypatch.setattr(encounters, "candidate_pairs", None)
    positions, velocities = _stars(10)
    with pytest.raises(ValueError, match=f"^{named}"):
        encounters.close_pairs(positions, velocities, horizon, threshold)
