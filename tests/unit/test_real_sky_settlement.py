"""The settlement front on the real neighbourhood behaves as the published studies say.

Carroll-Nellenback et al. (2019, AJ 158:117) find the front's speed set by the
probes' range and speed, and a front that stalls where the range is below the
spacing of settleable stars unless stellar motion brings new neighbours within
reach. These tests run the rules on the real stars within 20 pc of the Sun
(the built world, every star settleable), founded at the Sun.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial import cKDTree

from batch_jobs import simworld
from sim_kernels import settlement

pytestmark = pytest.mark.realdata

RADIUS_PC = 20.0
RULES = settlement.load_ruleset("settlement-v2")


@pytest.fixture(scope="module")
def neighbourhood(real_world):
    """The real stars within RADIUS_PC, the Sun first, as a settlement world."""
    world = simworld.build_world(real_world.systems, "every-star")
    near = np.linalg.norm(world.positions_pc, axis=1) <= RADIUS_PC
    sol = world.system_ids.index("sol")
    order = [sol, *(i for i in np.flatnonzero(near).tolist() if i != sol)]
    return settlement.make_world(
        world.positions_pc[order],
        world.velocities_kms[order],
        np.ones(len(order), dtype=bool),
    )


def _nearest_neighbour_pc(world) -> float:
    """The median distance from a real star to its nearest neighbour."""
    distance, _ = cKDTree(world.positions_pc).query(world.positions_pc, k=2)
    return float(np.median(distance[:, 1]))


def _rules(**changes) -> settlement.Ruleset:
    """Probes launched every tick, settlements that never end: the front alone."""
    base = dataclasses.replace(
        RULES,
        launch_interval_yr=RULES.tick_yr,
        lifetime_mode="fixed",
        lifetime_yr=1e12,
    )
    return dataclasses.replace(base, **changes)


def _settled(world, rules, ticks: int, *, still: bool = False) -> list[int]:
    """Settled systems after each tick, from the Sun."""
    if still:
        world = world._replace(velocities_kms=np.zeros_like(world.velocities_kms))
    state = settlement.initial_state(world, [0])
    counts = []
    for _ in range(ticks):
        state, report = settlement.step(state, world, rules, seed=3)
        counts.append(report.settled)
    return counts


def test_the_real_neighbourhood_is_dense_enough_to_test_the_front(neighbourhood):
    assert neighbourhood.positions_pc.shape[0] > 1000
    assert 0.5 < _nearest_neighbour_pc(neighbourhood) < 3.0


def test_real_front_advances_faster_with_longer_probe_range(neighbourhood):
    spacing = _nearest_neighbour_pc(neighbourhood)
    short = _settled(neighbourhood, _rules(probe_range_pc=1.5 * spacing), 60)[-1]
    long = _settled(neighbourhood, _rules(probe_range_pc=3.0 * spacing), 60)[-1]
    assert long > 1.5 * short > 1


def test_real_front_advances_faster_with_faster_probes(neighbourhood):
    spacing = _nearest_neighbour_pc(neighbourhood)
    slow = _rules(probe_range_pc=2.0 * spacing, probe_speed_kms=20.0)
    fast = _rules(probe_range_pc=2.0 * spacing, probe_speed_kms=80.0)
    assert (
        _settled(neighbourhood, fast, 60)[-1]
        > 1.5 * (_settled(neighbourhood, slow, 60)[-1])
    )


def test_real_front_stalls_without_motion_when_range_is_below_the_spacing(
    neighbourhood,
):
    # The Sun's nearest neighbour (Proxima, 1.3 pc) lies beyond this range.
    rules = _rules(probe_range_pc=1.0)
    still = _settled(neighbourhood, rules, 80, still=True)
    assert still[-1] == still[0] == 1
    moving = _settled(neighbourhood, rules, 80)
    assert moving[-1] >= still[-1]
