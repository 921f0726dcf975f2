"""The star map's extra tiles: flags, velocities and the label list."""

from __future__ import annotations

import numpy as np
import pytest

from batch_jobs import tiles
from chalicelib import habitable


def system(**fields) -> dict:
    """A placed system record with the fields the layers read."""
    record = {
        "system_id": fields.pop("system_id", "hip-1"),
        "name": "HIP 1",
        "source": "hipparcos",
        "planets": [],
        "luminosity_lsun": 1.0,
        "dist_pc": 10.0,
        "vmag": 8.0,
    }
    record.update(fields)
    return record


def planet(a_au: float, *, known: bool) -> dict:
    """A planet of a Sun-like star, flagged as the world flags every planet."""
    return {
        "name": "p",
        "known": known,
        "inferred": not known,
        "semi_major_axis_au": a_au,
        "in_hz": habitable.in_conservative_zone(a_au, 1.0, 5772.0),
    }


def test_flags_mark_known_inferred_and_habitable_zone_planets():
    systems = [
        system(),
        system(planets=[planet(0.05, known=True)]),
        system(planets=[planet(1.2, known=False)]),
        system(planets=[planet(1.2, known=True), planet(9.0, known=False)]),
    ]

    flags = tiles.encode_flags(systems)

    assert list(flags) == [
        0,
        tiles.FLAG_KNOWN_PLANETS,
        tiles.FLAG_INFERRED_PLANETS | tiles.FLAG_HZ_PLANETS,
        tiles.FLAG_KNOWN_PLANETS | tiles.FLAG_INFERRED_PLANETS | tiles.FLAG_HZ_PLANETS,
    ]


def test_flags_say_which_velocity_a_star_has():
    full = system(u_kms=1.0, v_kms=2.0, w_kms=3.0, velocity="full")
    tangential = system(u_kms=1.0, v_kms=2.0, w_kms=3.0, velocity="tangential-only")

    flags = tiles.encode_flags([full, tangential, system()])

    assert list(flags) == [
        tiles.FLAG_VELOCITY | tiles.FLAG_FULL_VELOCITY,
        tiles.FLAG_VELOCITY,
        0,
    ]


def test_a_planet_without_a_zone_flag_puts_nothing_in_the_zone():
    unflagged = dict(planet(1.0, known=True), in_hz=None)
    flags = tiles.encode_flags([system(planets=[unflagged])])

    assert flags[0] == tiles.FLAG_KNOWN_PLANETS


def test_velocities_round_trip_to_the_unit_and_unknown_is_zero():
    data = tiles.encode_velocities([12.34, np.nan], [-250.0, 0.0], [0.024, 3.0])

    assert len(data) == 2 * tiles.VELOCITY_DTYPE.itemsize
    decoded = tiles.decode_velocities(data)
    np.testing.assert_allclose(
        decoded, [[12.35, -250.0, 0.0], [0.0, 0.0, 3.0]], atol=tiles.VELOCITY_UNIT_KMS
    )


def test_velocities_beyond_the_int16_range_are_clipped():
    decoded = tiles.decode_velocities(tiles.encode_velocities([5000.0], [-5000.0], [0]))

    limit = 32767 * tiles.VELOCITY_UNIT_KMS
    np.testing.assert_allclose(decoded[0], [limit, -limit, 0.0])


def test_velocity_columns_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="same length"):
        tiles.encode_velocities([1.0, 2.0], [1.0], [1.0])


def test_a_velocity_tile_of_partial_records_is_refused():
    with pytest.raises(ValueError, match="multiple of 6"):
        tiles.decode_velocities(b"\x00" * 7)


def test_labels_name_the_sun_and_the_brightest_and_nearest_named_stars():
    systems = [
        system(system_id="sol", name="Sun", source="sol", vmag=-26.7, dist_pc=0.0),
        system(system_id="hip-9", name="HIP 9", vmag=-1.0, dist_pc=2.0),
        system(system_id="hip-2", name="Sirius", vmag=-1.44, dist_pc=2.6),
        system(system_id="hip-3", name="Faint Near", vmag=11.0, dist_pc=1.3),
        system(system_id="hip-4", name="Faint Far", vmag=11.0, dist_pc=400.0),
    ]

    labels = tiles.label_list(systems)

    names = [name for _, name in labels]
    assert labels[0] == [0, "Sun"]
    assert "HIP 9" not in names  # a bare catalogue number is no label
    assert {"Sirius", "Faint Near"} <= set(names)
    assert all(systems[i]["name"] == name for i, name in labels)


def test_labels_stop_at_the_brightest_and_nearest_quotas(monkeypatch):
    monkeypatch.setattr(tiles, "LABEL_BRIGHTEST", 2)
    monkeypatch.setattr(tiles, "LABEL_NEAREST", 1)
    systems = [
        system(system_id=f"s{i}", name=f"Star {i}", vmag=float(i), dist_pc=100.0 - i)
        for i in range(6)
    ]

    labels = tiles.label_list(systems)

    # the two brightest (0, 1) and then the nearest not yet chosen (5)
    assert [name for _, name in labels] == ["Star 0", "Star 1", "Star 5"]
