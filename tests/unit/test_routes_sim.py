"""The orbits route's epoch parsing and plain-Python positions, against the kernel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from batch_jobs import solar_system
from chalicelib.errors import BadRequest
from chalicelib.routes_sim import J2000_JD, parse_epoch, planet_position
from sim_kernels import orbits


@pytest.mark.parametrize(
    ("text", "jd"),
    [("2451545.0", J2000_JD), ("2000-01-01T12:00:00Z", J2000_JD),
     ("2000-01-01T12:00:00", J2000_JD), ("2000-01-01", J2000_JD - 0.5),
     ("2026-07-01T00:00:00+00:00", 2_461_222.5)],
)  # fmt: skip
def test_epoch_is_read_as_a_julian_date_or_an_iso_date(text, jd):
    assert parse_epoch(text) == pytest.approx(jd, abs=1e-9)


@pytest.mark.parametrize("text", [None, "", "soon", "nan", "inf", "1e12", "-5"])
def test_bad_epoch_is_refused_naming_the_parameter(text):
    with pytest.raises(BadRequest) as caught:
        parse_epoch(text)
    assert caught.value.parameter == "epoch"


def test_sun_planets_by_the_route_match_the_kernel_to_a_nanoau():
    planets = solar_system.planets()
    epochs = [J2000_JD - 36525.0, J2000_JD, 2_461_222.5, J2000_JD + 36525.0]
    for epoch in epochs:
        kernel = orbits.positions_at(
            epoch,
            [p["semi_major_axis_au"] for p in planets],
            [p["eccentricity"] for p in planets],
            [p["period_days"] for p in planets],
            0.0,
            0.0,
            0.0,
            mean_anomaly_rad=0.0,
            anomaly_epoch_jd=J2000_JD,
        )
        for k, planet in enumerate(planets):
            got = planet_position(planet, epoch)
            expected = (kernel.x_au[k], kernel.y_au[k], kernel.z_au[k])
            assert math.dist((got["x_au"], got["y_au"], got["z_au"]), expected) < 1e-9


def test_random_elements_by_the_route_match_the_kernel():
    rng = np.random.default_rng(3)
    for _ in range(200):
        planet = {
            "name": "x",
            "semi_major_axis_au": float(rng.uniform(0.01, 50)),
            "eccentricity": float(rng.uniform(0, 0.99)),
            "period_days": float(rng.uniform(0.5, 1e5)),
            "inc_rad": float(rng.uniform(0, math.pi)),
            "arg_peri_rad": float(rng.uniform(0, 2 * math.pi)),
            "long_node_rad": float(rng.uniform(0, 2 * math.pi)),
            "t_peri_jd": float(rng.uniform(2.4e6, 2.5e6)),
        }
        epoch = float(rng.uniform(2.4e6, 2.5e6))
        got = planet_position(planet, epoch)
        assert got["assumed"] == []
        kernel = orbits.positions_at(
            epoch,
            planet["semi_major_axis_au"],
            planet["eccentricity"],
            planet["period_days"],
            planet["inc_rad"],
            planet["arg_peri_rad"],
            planet["long_node_rad"],
            t_peri_jd=planet["t_peri_jd"],
        )
        expected = (kernel.x_au[0], kernel.y_au[0], kernel.z_au[0])
        assert math.dist((got["x_au"], got["y_au"], got["z_au"]), expected) < 1e-9


def test_planet_without_a_period_has_no_position_and_says_why():
    got = planet_position({"name": "b", "semi_major_axis_au": 1.0}, J2000_JD)
    assert (got["x_au"], got["unknown"]) == (None, ["period_days"])


def test_missing_elements_are_listed_as_assumed():
    got = planet_position(
        {"name": "b", "semi_major_axis_au": 2.0, "period_days": 100.0}, J2000_JD
    )
    assert got["assumed"] == sorted(
        ["anomaly_epoch_jd", "arg_peri_rad", "inc_rad", "long_node_rad",
         "mean_anomaly_rad"]
    ) + ["eccentricity"]  # fmt: skip
    assert (got["x_au"], got["y_au"], got["z_au"]) == (2.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("tick", "says"),
    [("-1", "whole number"), ("0", "greater than or equal to 2"), ("1", "2")],
)
def test_a_tick_before_the_first_recorded_one_is_refused_by_validation(tick, says):
    from pydantic import ValidationError

    from chalicelib.sim_schemas import TickPath

    with pytest.raises(ValidationError, match=says):
        TickPath.model_validate({"run_id": "sim-1", "tick": tick})
    assert TickPath.model_validate({"run_id": "sim-1", "tick": "2"}).tick == 2
