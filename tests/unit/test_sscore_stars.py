"""SSCore rows without a HIP number: found in Hipparcos, or systems of their own."""

from __future__ import annotations

import numpy as np
import pytest

from batch_jobs import sscore_stars


def _table(**columns):
    n = len(next(iter(columns.values())))
    base = {
        "pmra_mas_yr": np.zeros(n),
        "pmdec_mas_yr": np.zeros(n),
        "vmag": np.full(n, np.nan),
    }
    return {**base, **{k: np.asarray(v, dtype=np.float64) for k, v in columns.items()}}


def test_row_without_hip_is_found_by_position_and_magnitude():
    hip = _table(ra_deg=[10.0, 50.0], dec_deg=[20.0, -5.0], vmag=[5.0, 9.0])
    sscore = _table(ra_deg=[50.0003], dec_deg=[-5.0002], vmag=[9.3])
    assert sscore_stars.match_to_hipparcos(sscore, np.array([0]), hip).tolist() == [1]


def test_faint_companion_next_to_a_bright_star_is_not_taken_for_it():
    hip = _table(ra_deg=[101.287], dec_deg=[-16.716], vmag=[-1.46])
    sirius_b = _table(ra_deg=[101.2875], dec_deg=[-16.7163], vmag=[8.44])
    found = sscore_stars.match_to_hipparcos(sirius_b, np.array([0]), hip)
    assert found.tolist() == [-1]


def test_star_beyond_the_match_radius_stays_apart():
    hip = _table(ra_deg=[10.0], dec_deg=[20.0])
    sscore = _table(ra_deg=[10.01], dec_deg=[20.0])
    assert sscore_stars.match_to_hipparcos(sscore, np.array([0]), hip).tolist() == [-1]


@pytest.mark.parametrize(
    ("ids", "names", "expected"),
    [
        (["HH And", "GJ 905", "G 171-10"], ["Ross 248"], "gj-905"),
        (["alpha CMa", "GJ 244B"], ["Sirius", "Sirius B"], "gj-244b"),
        (["GJ 83.1"], [], "gj-83.1"),
        (["SO J025300.5+165258"], ["Teegarden's Star"], "sscore-so-j025300-5-165258"),
        ([], ["Teegarden's Star"], "sscore-teegardens-star"),
        ([], [], "sscore-line-7"),
    ],
)
def test_system_ids_are_readable_and_stable(ids, names, expected):
    assert sscore_stars.system_id(ids, names, 7) == expected


def test_display_name_names_the_component():
    assert sscore_stars.display_name(["Sirius", "Sirius B"], []) == "Sirius B"
    assert sscore_stars.display_name(["Wolf 359"], ["GJ 406"]) == "Wolf 359"
    assert sscore_stars.display_name([], ["GJ 1061"]) == "GJ 1061"
