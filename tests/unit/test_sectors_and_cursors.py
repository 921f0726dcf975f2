"""Sector geometry and list cursors: pure functions, no services."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from chalicelib import cursors, sectors
from chalicelib.errors import BadRequest


def test_sphere_touches_exactly_the_sectors_that_hold_points_within_it():
    rng = random.Random(7)
    centre, radius = (3.0, -17.0, 41.0), 33.0
    touched = set(sectors.sectors_touching_sphere(centre, radius))
    for _ in range(20_000):
        point = tuple(c + rng.uniform(-radius, radius) for c in centre)
        if math.dist(point, centre) <= radius:
            assert sectors.sector_of(*point) in touched
    # And no sector is read whose cube lies wholly outside the sphere.
    size = sectors.SECTOR_PC
    for i, j, k in touched:
        nearest = [
            min(max(c, n * size), (n + 1) * size) for c, n in zip(centre, (i, j, k))
        ]
        assert math.dist(nearest, centre) <= radius


def test_sector_of_floors_negative_coordinates():
    assert sectors.sector_of(-0.1, 0.0, 19.99) == (-1, 0, 0)


def test_cursor_round_trips_within_its_scope():
    token = cursors.encode({"offset": 40}, "near:a")
    assert cursors.decode(token, "near:a") == {"offset": 40}


@pytest.mark.parametrize("scope", ["near:b", "search:a"])
def test_cursor_is_refused_in_another_scope(scope):
    token = cursors.encode({"offset": 40}, "near:a")
    with pytest.raises(BadRequest) as raised:
        cursors.decode(token, scope)
    assert raised.value.parameter == "cursor"


def test_tampered_cursor_is_refused():
    token = cursors.encode({"offset": 40}, "near:a")
    for position, char in itertools.product(range(len(token)), "AZ"):
        forged = token[:position] + char + token[position + 1 :]
        if forged == token:
            continue
        with pytest.raises(BadRequest):
            cursors.decode(forged, "near:a")
