"""Kepler solver and planet positions: accuracy, parity of backends, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim_kernels import orbits

BACKENDS = [("numba", True), ("numba", False), ("numpy", True)]
# Numba runs with fastmath (contract, reassoc, afn) and LLVM's libm calls while
# NumPy uses its own sin/cos loops, so the two differ by a few ulps; 1e-12 rad
# leaves a wide margin (measured: below 1e-14).
BACKEND_TOL_RAD = 1e-12


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Return (M, e) over a grid with the hard corners added."""
    e = np.concatenate(
        [
            np.linspace(0.0, 0.999999, 120),
            [1e-12, 0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999, 0.999999],
        ]
    )
    m = np.concatenate(
        [
            np.linspace(0.0, 2.0 * np.pi, 720, endpoint=False),
            [5e-324, 1e-300, 1e-16, 1e-12, 1e-8, 1e-4],
            [np.pi - 1e-12, np.pi, np.pi + 1e-12],
            [2.0 * np.pi - 1e-12, np.nextafter(2.0 * np.pi, 0.0)],
        ]
    )
    mm, ee = np.meshgrid(m, e)
    return mm.ravel(), ee.ravel()


def _residual(big_e: np.ndarray, m: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Return E - e sin E - M, with M taken modulo 2 pi like the solver."""
    return big_e - e * np.sin(big_e) - np.mod(m, 2.0 * np.pi)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_kepler_residual_is_at_most_1e12_over_the_whole_grid(backend, parallel):
    m, e = _grid()
    big_e = orbits.eccentric_anomaly(m, e, backend=backend, parallel=parallel)
    assert np.abs(_residual(big_e, m, e)).max() <= 1e-12
    assert ((big_e >= 0.0) & (big_e <= 2.0 * np.pi)).all()


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_kepler_solves_the_hardest_corner_near_e_one_and_m_zero(backend, parallel):
    m = np.array([1e-15, 1e-10, 1e-6, 1e-3, 2.0 * np.pi - 1e-10])
    e = np.full(m.shape, 0.999999)
    big_e = orbits.eccentric_anomaly(m, e, backend=backend, parallel=parallel)
    assert np.abs(_residual(big_e, m, e)).max() <= 1e-12
    # Near M = 0 the solution grows like (6 M)^(1/3) once 1 - e << E^2.
    assert big_e[2] == pytest.approx((6.0 * 1e-6) ** (1.0 / 3.0), rel=0.01)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_kepler_reduces_negative_and_large_mean_anomalies(backend, parallel):
    m = np.array([-1.0, -7.0, 1e6, 123.456])
    e = np.full(m.shape, 0.3)
    big_e = orbits.eccentric_anomaly(m, e, backend=backend, parallel=parallel)
    wrapped = np.angle(np.exp(1j * (big_e - e * np.sin(big_e) - m)))
    assert np.abs(wrapped).max() <= 1e-9


def test_kepler_circular_orbit_returns_the_mean_anomaly():
    m = np.linspace(0.0, 6.0, 50)
    assert orbits.eccentric_anomaly(m, 0.0) == pytest.approx(m, abs=1e-15)


def test_kepler_numba_agrees_with_numpy_reference_within_stated_tolerance():
    m, e = _grid()
    fast = orbits.eccentric_anomaly(m, e, backend="numba")
    legacy = orbits.eccentric_anomaly(m, e, backend="numpy")
    assert np.abs(fast - legacy).max() <= BACKEND_TOL_RAD


def test_kepler_parallel_and_serial_builds_agree_exactly():
    m, e = _grid()
    parallel = orbits.eccentric_anomaly(m, e, parallel=True)
    serial = orbits.eccentric_anomaly(m, e, parallel=False)
    np.testing.assert_array_equal(parallel, serial)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_kepler_nan_or_inf_mean_anomaly_gives_nan_for_that_planet_only(
    backend, parallel
):
    m = np.array([np.nan, 1.0, np.inf, -np.inf, 2.0])
    big_e = orbits.eccentric_anomaly(m, 0.4, backend=backend, parallel=parallel)
    assert np.isnan(big_e[[0, 2, 3]]).all()
    assert np.isfinite(big_e[[1, 4]]).all()


@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, np.nan, np.inf])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_kepler_refuses_unbound_or_missing_eccentricity_before_the_kernel(
    bad, backend, monkeypatch
):
    monkeypatch.setattr(orbits, "_eccentric_anomaly_kernel", None)
    monkeypatch.setattr(orbits, "_eccentric_anomaly_numpy", None)
    with pytest.raises(ValueError, match=r"^e: .*index 1"):
        orbits.eccentric_anomaly([0.1, 0.2, 0.3], [0.1, bad, 0.2], backend=backend)


def test_kepler_refuses_an_unknown_backend():
    with pytest.raises(ValueError, match="backend"):
        orbits.eccentric_anomaly([0.1], [0.1], backend="fortran")


def test_kepler_refuses_shapes_that_do_not_broadcast():
    with pytest.raises(ValueError, match="broadcast"):
        orbits.eccentric_anomaly([0.1, 0.2], [0.1, 0.2, 0.3])


# ------------------------------------------------------------------ positions


def _random_orbits(n: int, seed: int = 7) -> dict:
    """Return random but valid orbital elements for n planets."""
    rng = np.random.default_rng(seed)
    e = rng.beta(0.867, 3.03, n)
    corners = [0.0, 0.5, 0.9, 0.99, 0.999999][:n]
    e[: len(corners)] = corners
    return {
        "epoch_jd": rng.uniform(2_400_000.0, 2_500_000.0, n),
        "a_au": rng.uniform(0.01, 100.0, n),
        "e": e,
        "period_days": rng.uniform(0.5, 100_000.0, n),
        "inc_rad": rng.uniform(0.0, np.pi, n),
        "arg_peri_rad": rng.uniform(0.0, 2.0 * np.pi, n),
        "long_node_rad": rng.uniform(0.0, 2.0 * np.pi, n),
        "t_peri_jd": rng.uniform(2_440_000.0, 2_460_000.0, n),
    }


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_positions_lie_at_the_keplerian_distance(backend, parallel):
    el = _random_orbits(2000)
    xyz = orbits.positions_at(**el, backend=backend, parallel=parallel)
    r = np.sqrt(xyz.x_au**2 + xyz.y_au**2 + xyz.z_au**2)
    assert (r >= el["a_au"] * (1.0 - el["e"]) * (1.0 - 1e-12)).all()
    assert (r <= el["a_au"] * (1.0 + el["e"]) * (1.0 + 1e-12)).all()


def test_positions_at_periapsis_point_along_the_periapsis_direction():
    el = {
        "a_au": 2.0,
        "e": 0.5,
        "period_days": 365.0,
        "inc_rad": 0.3,
        "arg_peri_rad": 0.7,
        "long_node_rad": 1.1,
    }
    xyz = orbits.positions_at(2_451_545.0, **el, t_peri_jd=2_451_545.0)
    w, node, inc = 0.7, 1.1, 0.3
    direction = np.array(
        [
            math.cos(node) * math.cos(w) - math.sin(node) * math.sin(w) * math.cos(inc),
            math.sin(node) * math.cos(w) + math.cos(node) * math.sin(w) * math.cos(inc),
            math.sin(w) * math.sin(inc),
        ]
    )
    got = np.array([xyz.x_au[0], xyz.y_au[0], xyz.z_au[0]])
    np.testing.assert_allclose(got, 1.0 * direction, atol=1e-14)


def test_positions_from_mean_anomaly_match_positions_from_time_of_periapsis():
    el = _random_orbits(500)
    # Away from e -> 1, where dE/dM = 1 / (1 - e cos E) would amplify the
    # rounding of the two phase forms (both exact to about 1e-11 rad).
    el["e"] = np.minimum(el["e"], 0.9)
    t_peri = el.pop("t_peri_jd")
    ref = 2_451_545.0
    m0 = 2.0 * np.pi * np.mod(ref - t_peri, el["period_days"]) / el["period_days"]
    by_tp = orbits.positions_at(**el, t_peri_jd=t_peri)
    by_m = orbits.positions_at(**el, mean_anomaly_rad=m0, anomaly_epoch_jd=ref)
    for a, b in zip(by_tp, by_m, strict=True):
        assert (np.abs(a - b) <= 1e-8 * el["a_au"]).all()


def test_positions_numba_agree_with_numpy_reference_within_1e12_of_a():
    el = _random_orbits(5000)
    fast = orbits.positions_at(**el, backend="numba")
    legacy = orbits.positions_at(**el, backend="numpy")
    for a, b in zip(fast, legacy, strict=True):
        assert (np.abs(a - b) <= 1e-12 * el["a_au"]).all()


def test_positions_parallel_and_serial_builds_agree_exactly():
    el = _random_orbits(5000)
    for a, b in zip(
        orbits.positions_at(**el, parallel=True),
        orbits.positions_at(**el, parallel=False),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
@pytest.mark.parametrize("field", ["epoch_jd", "a_au", "inc_rad", "t_peri_jd"])
def test_positions_nan_input_gives_nan_for_that_planet_only(field, backend, parallel):
    el = _random_orbits(6)
    el[field] = el[field].copy()
    el[field][2] = np.nan
    xyz = orbits.positions_at(**el, backend=backend, parallel=parallel)
    for column in xyz:
        assert np.isnan(column[2])
        assert np.isfinite(np.delete(column, 2)).all()


def test_positions_accept_one_epoch_for_many_planets():
    el = _random_orbits(10)
    el["epoch_jd"] = 2_451_545.0
    assert orbits.positions_at(**el).x_au.shape == (10,)


@pytest.mark.parametrize(
    ("field", "bad", "named"),
    [
        ("e", 1.0, "e"),
        ("e", np.nan, "e"),
        ("e", -0.2, "e"),
        ("period_days", 0.0, "period_days"),
        ("period_days", -3.0, "period_days"),
        ("period_days", np.nan, "period_days"),
        ("period_days", np.inf, "period_days"),
        ("a_au", -1.0, "a_au"),
        ("a_au", np.inf, "a_au"),
    ],
)
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_positions_refuse_invalid_elements_before_the_kernel(
    field, bad, named, backend, monkeypatch
):
    monkeypatch.setattr(orbits, "_positions_kernel", None)
    monkeypatch.setattr(orbits, "_positions_numpy", None)
    el = _random_orbits(4)
    el[field] = el[field].copy()
    el[field][3] = bad
    with pytest.raises(ValueError, match=rf"^{named}: .*index 3"):
        orbits.positions_at(**el, backend=backend)


def test_positions_refuse_both_or_neither_phase_form():
    el = _random_orbits(3)
    t_peri = el.pop("t_peri_jd")
    with pytest.raises(ValueError, match="exactly one"):
        orbits.positions_at(**el)
    with pytest.raises(ValueError, match="exactly one"):
        orbits.positions_at(
            **el, t_peri_jd=t_peri, mean_anomaly_rad=0.0, anomaly_epoch_jd=0.0
        )
    with pytest.raises(ValueError, match="anomaly_epoch_jd"):
        orbits.positions_at(**el, mean_anomaly_rad=0.0)


def test_positions_refuse_non_numeric_input():
    el = _random_orbits(3)
    el["inc_rad"] = ["flat", "flat", "flat"]
    with pytest.raises(ValueError, match="^inc_rad"):
        orbits.positions_at(**el)


# ------------------------------------------------------------- true anomaly


def _angle_between(sin_a, cos_a, sin_b, cos_b) -> np.ndarray:
    """Return the signed angle from b to a, given both as sine and cosine."""
    return np.arctan2(sin_a * cos_b - cos_a * sin_b, cos_a * cos_b + sin_a * sin_b)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_true_anomaly_matches_the_half_angle_formula_on_the_same_e(backend, parallel):
    m, e = _grid()
    got = orbits.true_anomaly(m, e, backend=backend, parallel=parallel)
    big_e = orbits.eccentric_anomaly(m, e, backend=backend, parallel=parallel)
    f = 2.0 * np.arctan2(
        np.sqrt(1.0 + e) * np.sin(big_e / 2.0), np.sqrt(1.0 - e) * np.cos(big_e / 2.0)
    )
    assert np.abs(_angle_between(got.sin_f, got.cos_f, np.sin(f), np.cos(f))).max() <= (
        1e-12
    )
    assert np.abs(got.sin_f**2 + got.cos_f**2 - 1.0).max() <= 2e-15


def test_true_anomaly_at_periapsis_and_apoapsis_is_exact():
    got = orbits.true_anomaly([0.0, np.pi, 2.0 * np.pi], [0.999999, 0.5, 0.3])
    np.testing.assert_array_equal(got.cos_f, [1.0, -1.0, 1.0])
    assert np.abs(got.sin_f).max() <= 1e-15


def test_true_anomaly_numba_agrees_with_numpy_within_the_solvers_tolerance():
    m, e = _grid()
    fast = orbits.true_anomaly(m, e)
    legacy = orbits.true_anomaly(m, e, backend="numpy")
    # The two solvers' E agree to 1e-12 rad; f moves by df/dE times that.
    big_e = orbits.eccentric_anomaly(m, e)
    df_de = np.sqrt((1.0 - e) * (1.0 + e)) / (1.0 - e * np.cos(big_e))
    gap = np.abs(_angle_between(fast.sin_f, fast.cos_f, legacy.sin_f, legacy.cos_f))
    assert (gap <= BACKEND_TOL_RAD * np.maximum(1.0, df_de)).all()


def test_true_anomaly_parallel_and_serial_builds_agree_exactly():
    m, e = _grid()
    parallel = orbits.true_anomaly(m, e, parallel=True)
    serial = orbits.true_anomaly(m, e, parallel=False)
    np.testing.assert_array_equal(parallel.sin_f, serial.sin_f)
    np.testing.assert_array_equal(parallel.cos_f, serial.cos_f)


@pytest.mark.parametrize(("backend", "parallel"), BACKENDS)
def test_true_anomaly_nan_or_inf_mean_anomaly_gives_nan_for_that_planet_only(
    backend, parallel
):
    m = np.array([np.nan, 1.0, np.inf, -np.inf, 2.0])
    got = orbits.true_anomaly(m, 0.4, backend=backend, parallel=parallel)
    for column in got:
        assert np.isnan(column[[0, 2, 3]]).all()
        assert np.isfinite(column[[1, 4]]).all()


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_true_anomaly_refuses_unbound_eccentricity_before_the_kernel(
    backend, monkeypatch
):
    monkeypatch.setattr(orbits, "_true_anomaly_kernel", None)
    monkeypatch.setattr(orbits, "_true_anomaly_numpy", None)
    with pytest.raises(ValueError, match=r"^e: .*index 2"):
        orbits.true_anomaly([0.1, 0.2, 0.3], [0.1, 0.2, 1.0], backend=backend)
