"""The settlement front: rules, exact parity, determinism, invariants, behaviour."""

from __future__ import annotations

import dataclasses
import json

import numba
import numpy as np
import pytest

from sim_kernels import settlement
from sim_kernels.motion import PC_PER_YR_PER_KMS

RULES = settlement.load_ruleset("settlement-v1")
# A field as dense as the solar neighbourhood: 0.08 systems per pc^3.
DENSITY_PER_PC3 = 0.08


def _field(n: int, seed: int, sigma_kms: float = 25.0, settleable: float = 0.5):
    """Return a random star field with one settleable founder at index 0."""
    rng = np.random.default_rng(seed)
    side = (n / DENSITY_PER_PC3) ** (1.0 / 3.0)
    positions = rng.uniform(-side / 2.0, side / 2.0, (n, 3))
    positions[0] = 0.0
    velocities = rng.normal(0.0, sigma_kms, (n, 3)) if sigma_kms else np.zeros((n, 3))
    flags = rng.random(n) < settleable
    flags[0] = True
    return settlement.make_world(positions, velocities, flags)


def _run(world, rules, seed, ticks, **options):
    """Run a settlement from the founder at index 0; return the state and reports."""
    state = settlement.initial_state(world, [0])
    reports = []
    for _ in range(ticks):
        state, report = settlement.step(state, world, rules, seed, **options)
        reports.append(report)
    return state, reports


def _states_equal(a, b) -> None:
    """Assert that two settlement states are identical, field by field."""
    for name, x, y in zip(a._fields, a, b, strict=True):
        np.testing.assert_array_equal(x, y, err_msg=name)


def _fast_rules(**changes) -> settlement.Ruleset:
    """Return the v1 ruleset sped up for short tests, with changes applied."""
    base = dataclasses.replace(
        RULES, launch_interval_yr=RULES.tick_yr, lifetime_yr=2e6, probe_speed_kms=30.0
    )
    return dataclasses.replace(base, **changes)


# --------------------------------------------------------------- ruleset


@pytest.mark.parametrize("version", ["settlement-v1", "settlement-v2"])
def test_ruleset_gives_every_number_a_unit_source_and_rationale(version):
    data = json.loads((settlement.RULESETS_DIR / f"{version}.json").read_text())
    assert data["version"] == version
    assert "Carroll-Nellenback" in data["model"]
    for name, rule in data["rules"].items():
        assert {"value", "unit", "source", "rationale"} <= set(rule), name
        assert len(rule["rationale"]) > 40, name


def test_ruleset_v1_loads_with_its_numbers():
    assert RULES.version == "settlement-v1"
    assert RULES.probe_speed_kms == 10.0 and RULES.probe_range_pc == 3.0
    assert RULES.launch_interval_ticks == 10
    assert RULES.end_probability == pytest.approx(1e-3, rel=1e-3)


def test_v2_is_the_default_and_differs_from_v1_only_in_its_settleable_rule():
    v2 = settlement.load_ruleset()
    assert v2.version == "settlement-v2"
    assert (RULES.settleable_rule, v2.settleable_rule) == (
        "known-planet-in-hz",
        "planet-in-hz",
    )
    same = dataclasses.replace(v2, version=RULES.version, settleable_rule="x")
    assert same == dataclasses.replace(RULES, settleable_rule="x")


@pytest.mark.parametrize(
    ("rule", "value"),
    [("probe_range_pc", -1.0), ("tick_yr", 0), ("lifetime_yr", "long")],
)
def test_ruleset_with_a_bad_number_is_refused(rule, value):
    data = json.loads((settlement.RULESETS_DIR / "settlement-v1.json").read_text())
    data["rules"][rule]["value"] = value
    with pytest.raises(ValueError, match=rule):
        settlement.ruleset_from_dict(data)


def test_ruleset_with_an_unknown_lifetime_mode_or_missing_rule_is_refused():
    data = json.loads((settlement.RULESETS_DIR / "settlement-v1.json").read_text())
    data["rules"]["lifetime_mode"]["value"] = "forever"
    with pytest.raises(ValueError, match="lifetime_mode"):
        settlement.ruleset_from_dict(data)
    del data["rules"]["probe_speed_kms"]
    with pytest.raises(ValueError, match="probe_speed_kms"):
        settlement.ruleset_from_dict(data)
    with pytest.raises(ValueError, match="name"):
        settlement.load_ruleset("settlement-v0")


# ------------------------------------------------------------ the draws


def test_counter_based_draws_agree_between_backends_and_look_uniform():
    fast = settlement.uniform_draws(123, 7, 100_000)
    legacy = settlement.uniform_draws(123, 7, 100_000, backend="numpy")
    np.testing.assert_array_equal(fast, legacy)
    assert ((fast >= 0.0) & (fast < 1.0)).all()
    assert fast.mean() == pytest.approx(0.5, abs=0.005)
    assert np.histogram(fast, bins=10, range=(0, 1))[0].min() > 9_500


def test_draws_change_with_seed_and_tick():
    base = settlement.uniform_draws(1, 1, 1000)
    assert not np.array_equal(base, settlement.uniform_draws(2, 1, 1000))
    assert not np.array_equal(base, settlement.uniform_draws(1, 2, 1000))


# ------------------------------------------------------ parity, determinism


@pytest.mark.parametrize("mode", ["exponential", "fixed"])
def test_numba_matches_numpy_reference_exactly_tick_by_tick(mode):
    world = _field(3000, seed=1)
    rules = _fast_rules(lifetime_mode=mode, lifetime_yr=3e5)
    fast = legacy = settlement.initial_state(world, [0])
    for _ in range(120):
        fast, fast_report = settlement.step(fast, world, rules, 99)
        legacy, legacy_report = settlement.step(
            legacy, world, rules, 99, backend="numpy"
        )
        assert fast_report == legacy_report
        _states_equal(fast, legacy)
    assert fast_report.settled > 20


def test_numba_matches_numpy_where_stars_lie_beyond_two_to_the_20_cells():
    # A cluster 1e7 pc out makes the grid widen its cells (|x| / cell < 2**20);
    # a founder there must still find its neighbours, exactly as the KD-tree.
    near = _field(400, seed=7)
    rng = np.random.default_rng(7)
    far = np.array([1e7, -2e7, 3e6]) + rng.uniform(-4.0, 4.0, (40, 3))
    world = settlement.make_world(
        np.vstack([near.positions_pc, far]),
        np.vstack([near.velocities_kms, np.zeros((40, 3))]),
        np.concatenate([near.settleable, np.ones(40, dtype=bool)]),
    )
    rules = _fast_rules(lifetime_mode="fixed", lifetime_yr=1e12)
    fast = legacy = settlement.initial_state(world, [0, 400])
    for _ in range(60):
        fast, fast_report = settlement.step(fast, world, rules, 3)
        legacy, legacy_report = settlement.step(
            legacy, world, rules, 3, backend="numpy"
        )
        assert fast_report == legacy_report
    _states_equal(fast, legacy)
    assert np.count_nonzero(fast.settled_since[400:]) > 5


def test_parallel_and_serial_runs_agree_exactly():
    world = _field(4000, seed=2)
    rules = _fast_rules()
    a, _ = _run(world, rules, 5, 150, parallel=True)
    b, _ = _run(world, rules, 5, 150, parallel=False)
    _states_equal(a, b)


def test_result_does_not_depend_on_the_number_of_threads():
    world = _field(4000, seed=2)
    rules = _fast_rules()
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, _ = _run(world, rules, 5, 100, parallel=True)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many, _ = _run(world, rules, 5, 100, parallel=True)
    finally:
        numba.set_num_threads(before)
    _states_equal(one, many)


def test_same_seed_repeats_and_another_seed_differs():
    world = _field(3000, seed=3)
    rules = _fast_rules(lifetime_yr=2e5)
    a, _ = _run(world, rules, 11, 100)
    b, _ = _run(world, rules, 11, 100)
    c, _ = _run(world, rules, 12, 100)
    _states_equal(a, b)
    assert not np.array_equal(a.settled_since, c.settled_since)


def test_step_leaves_the_given_state_unchanged():
    world = _field(500, seed=4)
    state = settlement.initial_state(world, [0])
    copies = [np.copy(x) for x in state[1:]]
    settlement.step(state, world, _fast_rules(), 1)
    for before, after in zip(copies, state[1:], strict=True):
        np.testing.assert_array_equal(before, after)


# ------------------------------------------------------------- invariants


@pytest.mark.parametrize("mode", ["exponential", "fixed"])
def test_invariants_hold_every_tick_over_many_seeds(mode):
    for seed in range(25):
        world = _field(1500, seed=100 + seed, settleable=0.2 + 0.03 * seed)
        rules = _fast_rules(lifetime_mode=mode, lifetime_yr=1e5 + 2e4 * seed)
        state = settlement.initial_state(world, [0])
        settleable = int(world.settleable.sum())
        for _ in range(80):
            state, report = settlement.step(state, world, rules, seed)
            assert settlement.invariant_violations(state, world) == []
            assert 0 <= report.settled <= settleable
            assert np.isfinite(state.positions_pc).all()


def test_invariant_check_reports_a_broken_state():
    world = _field(50, seed=6, settleable=0.0)
    state = settlement.initial_state(world, [0])
    broken = state._replace(
        settled_since=np.where(np.arange(50) == 7, 1, state.settled_since),
        positions_pc=np.where(np.arange(50)[:, None] == 3, np.nan, state.positions_pc),
    )
    problems = settlement.invariant_violations(broken, world)
    assert "an unsettleable system is settled" in problems
    assert "a position is not finite" in problems


# --------------------------------------------------------------- the rules


def test_probe_arrives_after_distance_over_speed_in_whole_ticks():
    positions = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [2.5, 0.0, 0.0]])
    world = settlement.make_world(positions, np.zeros((3, 3)), np.ones(3, dtype=bool))
    rules = dataclasses.replace(RULES, lifetime_mode="fixed", lifetime_yr=1e9)
    state, reports = _run(world, rules, 0, 40)
    step_pc = 10.0 * PC_PER_YR_PER_KMS * rules.tick_yr
    launch_tick = 1 + rules.launch_interval_ticks
    expected = launch_tick + int(np.ceil(1.0 / step_pc))
    assert state.settled_since[1] == expected
    assert reports[expected - 2].arrived == 1
    # The nearest went first; the next launch, one interval later, takes the
    # 2.5 pc hop, and index 1 leaves index 2 alone while that probe is on its way.
    second_launch = launch_tick + rules.launch_interval_ticks
    assert state.settled_since[2] == 0
    assert state.probe_arrival[2] == second_launch + int(np.ceil(2.5 / step_pc))


def test_fixed_lifetime_ends_a_settlement_exactly_on_time():
    world = settlement.make_world(np.zeros((1, 3)), np.zeros((1, 3)), np.ones(1, bool))
    rules = dataclasses.replace(RULES, lifetime_mode="fixed", lifetime_yr=5e4)
    state, reports = _run(world, rules, 0, 10)
    ended = [r.tick for r in reports if r.ended]
    assert ended == [1 + rules.lifetime_ticks]
    assert state.settled_since[0] == 0 and state.age_yr[0] == 0.0


def _settled_after(ticks: int, seed: int = 8, **rule_changes) -> int:
    """Return how many systems are settled after some ticks, no settlement ends."""
    world = _field(4000, seed=seed, sigma_kms=0.0, settleable=0.6)
    rules = _fast_rules(lifetime_mode="fixed", lifetime_yr=1e12, **rule_changes)
    state, _ = _run(world, rules, seed, ticks)
    return int(np.count_nonzero(state.settled_since))


def test_front_advances_faster_with_longer_probe_range():
    short = _settled_after(150, probe_range_pc=2.5)
    long = _settled_after(150, probe_range_pc=4.0)
    assert long > 1.5 * short > 0


def test_front_advances_faster_with_faster_probes():
    slow = _settled_after(150, probe_range_pc=3.0, probe_speed_kms=10.0)
    fast = _settled_after(150, probe_range_pc=3.0, probe_speed_kms=40.0)
    assert fast > 1.5 * slow > 0


def test_front_stalls_without_stellar_motion_when_range_is_below_neighbour_spacing():
    world = _field(3000, seed=12, sigma_kms=0.0, settleable=1.0)
    # The mean nearest-neighbour distance here is about 1.3 pc.
    rules = _fast_rules(lifetime_mode="fixed", lifetime_yr=1e12, probe_range_pc=0.6)
    state, reports = _run(world, rules, 0, 300)
    counts = [r.settled for r in reports]
    assert counts[-1] == counts[100] < 30
    assert reports[-1].in_flight == 0


def test_stellar_motion_carries_a_stalled_front_onward():
    # A larger field and gentler motion, so the founder's region stays populated.
    still = _field(20_000, seed=12, sigma_kms=0.0, settleable=1.0)
    moving = _field(20_000, seed=12, sigma_kms=10.0, settleable=1.0)
    rules = _fast_rules(lifetime_mode="fixed", lifetime_yr=1e12, probe_range_pc=0.6)
    stalled, _ = _run(still, rules, 0, 200)
    carried, _ = _run(moving, rules, 0, 200)
    assert np.count_nonzero(carried.settled_since) > 3 * np.count_nonzero(
        stalled.settled_since
    )


# --------------------------------------------------------------- refusals


def test_world_with_non_finite_rows_or_bad_flags_is_refused():
    positions, velocities = np.zeros((3, 3)), np.zeros((3, 3))
    velocities[1, 2] = np.nan
    with pytest.raises(ValueError, match="velocities_kms: row 1"):
        settlement.make_world(positions, velocities, np.ones(3, bool))
    with pytest.raises(ValueError, match="settleable"):
        settlement.make_world(positions, np.zeros((3, 3)), np.ones(3))
    with pytest.raises(ValueError, match="one length"):
        settlement.make_world(positions, np.zeros((3, 3)), np.ones(2, bool))


def test_founders_outside_the_world_are_refused():
    world = _field(10, seed=1)
    with pytest.raises(ValueError, match="founders"):
        settlement.initial_state(world, [10])


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "7"])
def test_step_refuses_a_bad_seed_before_any_kernel(seed, monkeypatch):
    monkeypatch.setattr(settlement, "_arrive_end_kernel", None)
    world = _field(10, seed=1)
    state = settlement.initial_state(world, [0])
    with pytest.raises(ValueError, match="seed"):
        settlement.step(state, world, RULES, seed)


def test_step_refuses_a_state_from_another_world():
    world = _field(10, seed=1)
    other = settlement.initial_state(_field(11, seed=1), [0])
    with pytest.raises(ValueError, match="state.settled_since"):
        settlement.step(other, world, RULES, 0)
