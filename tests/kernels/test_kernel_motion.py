"""Linear propagation of star positions: units, exact parity, NaN, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from sim_kernels import motion

BACKENDS = [("numba", True), ("numba", False), ("numpy", True)]


def _stars(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Return random positions (pc) and velocities (km/s)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-100.0, 100.0, (n, 3)), rng.normal(0.0, 40.0, (n, 3))


def test_one_km_per_s_for_a_million_years_moves_1_0227_pc():
    moved = motion.propagate(np.zeros((1, 3)), [[1.0, 0.0, 0.0]], 1e6).positions_pc
    expected = 1e6 * 365.25 * 86400.0 / 3.0856775814913673e13
    assert moved[0, 0] == pytest.approx(expected, rel=1e-14)
    assert moved[0, 0] == pytest.approx(1.0227, abs=1e-4)


def test_the_unit_factor_is_977792_km_per_s_per_pc_per_yr():
    assert round(motion.KMS_PER_PC_PER_YR) == 977_792


@pytest.mark.parametrize("t_yr", [0.0, 1.0, -2.5e5, 1e7])
def test_numba_matches_numpy_reference_exactly(t_yr):
    positions, velocities = _stars(10_000)
    fast = motion.propagate(positions, velocities, t_yr, backend="numba")
    legacy = motion.propagate(positions, velocities, t_yr, backend="numpy")
    np.testing.assert_array_equal(fast.positions_pc, legacy.positions_pc)


def test_parallel_and_serial_builds_agree_exactly():
    positions, velocities = _stars(50_000)
    a = motion.propagate(positions, velocities, 3.3e5, parallel=True)
    b = motion.propagate(positions, velocities, 3.3e5, parallel=False)
    np.testing.assert_array_equal(a.positions_pc, b.positions_pc)


def test_moving_forward_then_back_returns_to_the_start():
    positions, velocities = _stars(1000)
    there = motion.propagate(positions, velocities, 1e6).positions_pc
    back = motion.propagate(there, velocities, -1e6).positions_pc
    np.testing.assert_allclose(back, positions, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_nan_velocity_gives_nan_position_for_that_star_only(backend, parallel):
    positions, velocities = _stars(8)
    velocities[5, 2] = np.nan
    moved = motion.propagate(
        positions, velocities, 1e5, backend=backend, parallel=parallel
    ).positions_pc
    assert np.isnan(moved[5, 2]) and np.isfinite(moved[5, :2]).all()
    assert np.isfinite(np.delete(moved, 5, axis=0)).all()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_tangential_only_flags_pass_through_unchanged(backend):
    positions, velocities = _stars(6)
    flags = np.array([True, False, False, True, False, True])
    result = motion.propagate(
        positions, velocities, 1e4, tangential_only=flags, backend=backend
    )
    np.testing.assert_array_equal(result.tangential_only, flags)
    assert motion.propagate(positions, velocities, 1e4).tangential_only is None


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_out_array_is_filled_and_returned(backend):
    positions, velocities = _stars(100)
    out = np.empty_like(positions)
    result = motion.propagate(positions, velocities, 5e4, out=out, backend=backend)
    assert result.positions_pc is out
    np.testing.assert_array_equal(
        out, motion.propagate(positions, velocities, 5e4).positions_pc
    )


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"positions_pc": np.zeros((4, 2))}, "positions_pc"),
        ({"velocities_kms": np.zeros((3, 3))}, "expected arrays of one length"),
        ({"velocities_kms": np.zeros(12)}, "velocities_kms"),
        ({"t_yr": np.nan}, "t_yr"),
        ({"t_yr": "soon"}, "t_yr"),
        ({"tangential_only": np.zeros(4)}, "tangential_only"),
        ({"tangential_only": np.zeros(3, dtype=bool)}, "tangential_only"),
        ({"out": np.zeros((4, 3), dtype=np.float32)}, "out"),
        ({"backend": "cuda"}, "backend"),
    ],
)
def test_invalid_input_is_refused_before_the_kernel(kwargs, named, monkeypatch):
    monkeypatch.setattr(motion, "_propagate_kernel", None)
    monkeypatch.setattr(motion, "_propagate_numpy", None)
    args = {"positions_pc": np.zeros((4, 3)), "velocities_kms": np.zeros((4, 3))}
    args["t_yr"] = 1.0
    args.update(kwargs)
    with pytest.raises(ValueError, match=named):
        motion.propagate(**args)
