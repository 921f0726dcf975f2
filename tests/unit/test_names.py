"""The names index's sort keys: a shared name lists its systems brightest first."""

from __future__ import annotations

from chalicelib import names


def test_a_brighter_system_sorts_before_a_fainter_one_under_the_same_key():
    sirius_a = {"system_id": "hip-32349", "vmag": -1.46}
    sirius_b = {"system_id": "gj-244b", "vmag": 8.44}
    assert names.sort_key("sirius", sirius_a) < names.sort_key("sirius", sirius_b)


def test_a_system_without_magnitude_sorts_last_and_every_key_is_total():
    unknown = {"system_id": "a-0", "vmag": None}
    faint = {"system_id": "z-9", "vmag": 30.0}
    nan = {"system_id": "b-1", "vmag": float("nan")}
    assert names.sort_key("x", faint) < names.sort_key("x", unknown)
    assert names.brightness_rank(nan) == names.brightness_rank(unknown) == "99999"
    same = {"system_id": "hip-1", "vmag": 5.0}, {"system_id": "hip-2", "vmag": 5.0}
    assert names.sort_key("x", same[0]) < names.sort_key("x", same[1])


def test_the_sun_and_anything_brighter_than_the_scale_rank_first():
    assert names.brightness_rank({"system_id": "sol", "vmag": -26.74}) == "00000"
    assert names.sort_key("sol", {"system_id": "sol", "vmag": -26.74}).startswith(
        "sol#00000#"
    )
