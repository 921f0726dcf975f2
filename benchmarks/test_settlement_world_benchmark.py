"""Settlement on the full Hipparcos world: one tick and 1,000 ticks, against NumPy.

Run with ``make bench``. The world is the one the pipeline builds from
``SOURCES_DIR`` (about 117,000 placed systems). Every star is settleable (rule
``every-star``), the heaviest load: an upper bound on the default rule
``planet-in-hz`` (known or inferred planets; its count is printed). The run
starts from the Sun with the default ruleset (settlement-v2, whose numbers are
v1's) and seed 1; the peer is the
NumPy reference ("legacy") over the same ticks, and both must end in the same
state. Targets (issue 4): a tick in 50 ms or less, 1,000 ticks in 60 s or less.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from batch_jobs import simworld
from batch_jobs.sources import DEFAULT_SOURCES
from batch_jobs.world import assemble_world
from sim_kernels import settlement

TICKS = 1000
TICK_TARGET_MS = 50.0
RUN_TARGET_S = 60.0
SOURCES = Path(
    os.environ.get("SOURCES_DIR", Path(__file__).parents[1].parent / "shared/data")
)


@pytest.fixture(scope="module")
def hipparcos_world():
    """The full world's settlement inputs, every placed star settleable."""
    paths = {role: SOURCES / name for role, name in DEFAULT_SOURCES.items()}
    systems = assemble_world(paths).systems
    sim = simworld.build_world(systems, "every-star")
    known = {
        rule: simworld.build_world(systems, rule).counts()["settleable"]
        for rule in ("known-planet-in-hz", "planet-in-hz")
    }
    world = settlement.make_world(sim.positions_pc, sim.velocities_kms, sim.settleable)
    return world, sim.index_of("sol"), known


def _run(world, founder, backend):
    """Return (final state, last report, seconds per tick) of a 1,000-tick run."""
    rules = settlement.load_ruleset()
    state = settlement.initial_state(world, [founder])
    walls = []
    while state.tick < TICKS:
        started = time.perf_counter()
        state, report = settlement.step(state, world, rules, 1, backend=backend)
        walls.append(time.perf_counter() - started)
    return state, report, np.array(walls)


def test_settlement_on_the_full_hipparcos_world_against_numpy(hipparcos_world):
    world, founder, known = hipparcos_world
    settlement.step(  # compile or load the cached kernels outside the timing
        settlement.initial_state(world, [founder]), world,
        settlement.load_ruleset(), 1,
    )  # fmt: skip
    results = {b: _run(world, founder, b) for b in ("numba", "numpy")}
    n = world.positions_pc.shape[0]
    print(
        f"\n== Settlement on the Hipparcos world: {n:,} systems, all settleable "
        f"({known['known-planet-in-hz']} with a known planet in the habitable zone, "
        f"{known['planet-in-hz']} with a known or inferred one), {TICKS} ticks\n"
        f"   (cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'backend':<22} {'total':>8} {'median tick':>12} {'p95 tick':>9}")
    for backend, (_, _, walls) in results.items():
        print(
            f"{backend:<22} {walls.sum():7.1f}s {np.median(walls) * 1e3:9.1f} ms "
            f"{np.percentile(walls, 95) * 1e3:6.1f} ms"
        )
    ours, theirs = results["numba"][2], results["numpy"][2]
    print(
        f"numba vs numpy: {theirs.sum() / ours.sum():.2f}x faster over the run, "
        f"{np.median(theirs) / np.median(ours):.2f}x per median tick"
    )
    print(
        f"targets: median tick {np.median(ours) * 1e3:.1f} ms "
        f"(<= {TICK_TARGET_MS:g} ms: {np.median(ours) * 1e3 <= TICK_TARGET_MS}), "
        f"{TICKS} ticks {ours.sum():.1f} s (<= {RUN_TARGET_S:g} s: "
        f"{ours.sum() <= RUN_TARGET_S})"
    )
    final = results["numba"][1]
    print(f"front after {final.time_yr / 1e6:.2f} Myr: {final.settled} settled")
    assert results["numba"][1] == results["numpy"][1]
    for name in ("settled_since", "probe_arrival", "age_yr", "positions_pc"):
        np.testing.assert_array_equal(
            getattr(results["numba"][0], name), getattr(results["numpy"][0], name)
        )
