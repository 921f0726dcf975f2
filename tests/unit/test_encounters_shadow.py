"""Shadow mode of the encounters job: the largest difference per quantity."""

from __future__ import annotations

import math

from batch_jobs.encounters import shadow_differences


def _sun(sid: str, t: float, d: float) -> dict:
    return {"system_id": sid, "t_min_yr": t, "d_min_pc": d}


def _pair(a: str, b: str, t: float, d: float) -> dict:
    return {"system_id_a": a, "system_id_b": b, "t_min_yr": t, "d_min_pc": d}


def test_shadow_differences_name_the_largest_gap_of_each_quantity():
    modern = ([_sun("a", 10.0, 1.0), _sun("b", 5.0, 2.0)], [_pair("a", "b", 3, 0.5)])
    legacy = ([_sun("a", 10.5, 1.0), _sun("b", 5.0, 2.25)], [_pair("a", "b", 4, 0.5)])
    gaps = shadow_differences(modern, legacy)
    assert gaps == {
        "sun_t_min_yr": 0.5, "sun_d_min_pc": 0.25, "pairs_t_min_yr": 1.0,
        "pairs_d_min_pc": 0.0, "pairs_found_by_one": 0.0, "sun_found_by_one": 0.0,
    }  # fmt: skip


def test_a_star_or_pair_only_one_backend_found_is_counted_not_hidden():
    modern = ([_sun("a", 1.0, 1.0), _sun("c", 1.0, 1.0)], [_pair("a", "b", 3, 0.5)])
    legacy = ([_sun("a", 1.0, 1.0)], [])
    gaps = shadow_differences(modern, legacy)
    assert gaps["sun_found_by_one"] == 1.0 and gaps["pairs_found_by_one"] == 1.0
    assert all(math.isfinite(value) for value in gaps.values())


def test_the_command_line_offers_the_simulation_backends():
    from batch_jobs.__main__ import KERNEL_BACKENDS
    from batch_jobs.simulation import BACKENDS

    assert KERNEL_BACKENDS == BACKENDS
