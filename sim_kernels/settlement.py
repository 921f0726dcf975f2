"""A settlement front spreading through real stars, one tick at a time.

The model follows Carroll-Nellenback, Frank, Wright & Scharf 2019 (AJ 158, 117,
"The Fermi Paradox and the Aurora Effect"): settled systems launch probes of
finite speed and range to settleable systems, stars move meanwhile (which adds a
diffusive term to the front), and settlements end after a finite lifetime. Its
numbers live in a versioned ruleset (``rulesets/settlement-v2.json``, the default;
``settlement-v1`` differs only in its settleable rule, known planets alone).

One tick, from tick ``t`` to ``t + 1``:

1. Stars move in straight lines: positions are recomputed from the present
   positions and velocities for the new time (not stepped), so no error builds.
   Tick 1 is the present; tick ``t`` is ``(t - 1) * tick_yr`` years ahead.
2. Probes due this tick arrive: a settleable, unsettled target becomes settled
   since this tick. Then settlements founded before this tick may end: after a
   fixed lifetime, or each tick with probability ``1 - exp(-tick_yr/lifetime)``.
3. Every settlement whose launch timer fires (every ``launch_interval`` ticks
   after its founding) launches one probe to the nearest settleable system
   that is unsettled and has no probe on the way, within the probe range (ties
   go to the lower index). The probe arrives after ``distance / speed``, rounded
   up to whole ticks, at least one tick; its target is aimed at as it is at
   launch. Several settlements may pick one target in a tick: the earliest
   arrival counts, the other probes are lost.

State per system: ``settled_since`` (0 = unsettled, otherwise the tick it was
settled), ``age_yr`` (years since settled, 0 when unsettled) and
``probe_arrival`` (the tick a probe is due, 0 when none is on the way).

Determinism: the random draws come from a counter-based hash of
``(seed, tick, system index)`` (SplitMix64's finaliser, Steele, Lea & Flood 2014,
OOPSLA, "Fast splittable pseudorandom number generators"), so a result depends
only on the seed, never on the number of threads or the order they run in.
Parallel loops write only their own element; the one step where systems
compete for a target is applied serially in launcher order. The nearest-target
search uses a uniform grid (cells at least as wide as the probe range) whose
cells are hashed into buckets, filled by a counting sort over the candidate
targets each tick (two passes, no comparison sort); the NumPy reference uses
scipy's ``cKDTree`` and the same exact distance test, and ties go to the lower
index in both, so the order candidates are found in cannot matter and both
return the same bits.
Kernels are compiled with ``_jit.EXACT``: decisions are discrete, so one ulp of
difference could flip a target or an arrival tick.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numba import prange
from scipy.spatial import cKDTree

from sim_kernels import _inputs, _jit, motion

RULESETS_DIR = Path(__file__).resolve().parent / "rulesets"
DEFAULT_RULESET = "settlement-v2"
# settlement-v1 predates the settleable_rule entry; its runs used this rule.
V1_SETTLEABLE_RULE = "known-planet-in-hz"
LIFETIME_MODES = ("exponential", "fixed")
EVENT_NONE, EVENT_ARRIVED, EVENT_ENDED = 0, 1, 2
# Cells a hair wider than the range: two points within range then lie in the
# same or adjacent cells despite rounding, as long as |x| / cell < 2**20 (one
# ulp there is 2e-10 of a cell); wider cells are used where stars lie further.
_CELL_MARGIN = 1.0 + 1e-9
_COORD_CELLS = 2.0**20
_CLAMP_CELLS = 2.0**40
# Odd 64-bit multipliers for the cell hash (SplitMix64's and xxHash's primes).
_HASH_X, _HASH_Y, _HASH_Z = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9


@dataclass(frozen=True)
class Ruleset:
    """The settlement rules and their numbers, as one versioned record."""

    version: str
    tick_yr: float
    probe_speed_kms: float
    probe_range_pc: float
    launch_interval_yr: float
    lifetime_yr: float
    lifetime_mode: str
    settleable_rule: str = V1_SETTLEABLE_RULE

    @property
    def launch_interval_ticks(self) -> int:
        """Return the launch interval in whole ticks (at least one)."""
        return max(1, round(self.launch_interval_yr / self.tick_yr))

    @property
    def probe_pc_per_tick(self) -> float:
        """Return how far a probe travels in one tick, in pc."""
        return self.probe_speed_kms * motion.PC_PER_YR_PER_KMS * self.tick_yr

    @property
    def end_probability(self) -> float:
        """Return the chance per tick that a settlement ends (exponential mode)."""
        return -math.expm1(-self.tick_yr / self.lifetime_yr)

    @property
    def lifetime_ticks(self) -> int:
        """Return the fixed lifetime in whole ticks (at least one)."""
        return max(1, math.ceil(self.lifetime_yr / self.tick_yr))


class SettlementWorld(NamedTuple):
    """The stars a run acts on: present positions, velocities, settleable flags."""

    positions_pc: np.ndarray
    velocities_kms: np.ndarray
    settleable: np.ndarray


class SettlementState(NamedTuple):
    """Where the settlement stands after a tick."""

    tick: int
    positions_pc: np.ndarray
    settled_since: np.ndarray
    age_yr: np.ndarray
    probe_arrival: np.ndarray


class TickReport(NamedTuple):
    """Counts for one tick, for the run's health record."""

    tick: int
    time_yr: float
    settled: int
    settleable: int
    launched: int
    arrived: int
    ended: int
    in_flight: int


# --------------------------------------------------------------- rulesets


def _rule_value(rules: dict, name: str, source: str) -> Any:
    """Return one rule's value, or raise naming the rule and the file."""
    try:
        return rules[name]["value"]
    except (KeyError, TypeError) as error:
        raise ValueError(f"{source}: rule {name!r} is missing its value") from error


def ruleset_from_dict(data: dict, source: str = "ruleset") -> Ruleset:
    """Build and check a ruleset from its JSON form."""
    rules = data.get("rules")
    if not isinstance(rules, dict):
        raise ValueError(f"{source}: expected a 'rules' object")
    numbers = {
        name: _rule_value(rules, name, source)
        for name in (
            "tick_yr",
            "probe_speed_kms",
            "probe_range_pc",
            "launch_interval_yr",
            "lifetime_yr",
        )
    }
    for name, value in numbers.items():
        if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{source}: {name} must be a finite number > 0")
    mode = _rule_value(rules, "lifetime_mode", source)
    if mode not in LIFETIME_MODES:
        raise ValueError(f"{source}: lifetime_mode must be one of {LIFETIME_MODES}")
    rule = V1_SETTLEABLE_RULE
    if "settleable_rule" in rules:
        rule = _rule_value(rules, "settleable_rule", source)
        if not isinstance(rule, str) or not rule:
            raise ValueError(f"{source}: settleable_rule must name a rule")
    return Ruleset(
        version=str(data.get("version", "")),
        lifetime_mode=mode,
        settleable_rule=rule,
        **{k: float(v) for k, v in numbers.items()},
    )


def load_ruleset(name: str = DEFAULT_RULESET) -> Ruleset:
    """Load a named ruleset from ``sim_kernels/rulesets``."""
    path = RULESETS_DIR / f"{name}.json"
    if not path.is_file():
        raise ValueError(f"name: no ruleset file {path.name} in {RULESETS_DIR}")
    return ruleset_from_dict(json.loads(path.read_text()), source=path.name)


# ------------------------------------------------------ counter-based draws

_GOLDEN = 0x9E3779B97F4A7C15
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_TO_UNIT = 1.0 / 9007199254740992.0  # 2**-53


@_jit.function(fastmath=_jit.EXACT)
def _splitmix(x):
    """Return SplitMix64's finaliser of x + golden gamma (uint64 in, uint64 out)."""
    z = x + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


@_jit.function(fastmath=_jit.EXACT)
def _uniform(seed, tick, index):
    """Return a uniform draw in [0, 1) fixed by (seed, tick, index) alone."""
    h = _splitmix(np.uint64(seed))
    h = _splitmix(h ^ np.uint64(tick))
    h = _splitmix(h ^ np.uint64(index))
    return float(h >> np.uint64(11)) * _TO_UNIT


def _splitmix_numpy(x: np.ndarray) -> np.ndarray:
    """Return SplitMix64's finaliser over a uint64 array (wrapping arithmetic)."""
    z = x + np.uint64(_GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    return z ^ (z >> np.uint64(31))


def _uniform_numpy(seed: int, tick: int, index: np.ndarray) -> np.ndarray:
    """Return the draws for (seed, tick, each index): the NumPy reference."""
    n = index.shape[0]
    h = _splitmix_numpy(np.full(n, seed, dtype=np.uint64))
    h = _splitmix_numpy(h ^ np.uint64(tick))
    h = _splitmix_numpy(h ^ index.astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) * _TO_UNIT


def uniform_draws(
    seed: int, tick: int, n: int, *, backend: str = "numba"
) -> np.ndarray:
    """Return the n draws a tick uses, one per system (for tests and audits)."""
    _inputs.backend(backend)
    if backend == "numpy":
        return _uniform_numpy(seed, tick, np.arange(n, dtype=np.int64))
    out = np.empty(n)
    _draws_kernel.serial(np.uint64(seed), tick, out)
    return out


@_jit.kernel(fastmath=_jit.EXACT)
def _draws_kernel(seed, tick, out):
    """Write the draw for (seed, tick, i) into out[i]."""
    for i in prange(out.shape[0]):
        out[i] = _uniform(seed, tick, i)


# ---------------------------------------------------------- Numba kernels


@_jit.kernel(fastmath=_jit.EXACT)
def _arrive_end_kernel(
    tick,
    settleable,
    since,
    age,
    arrival,
    seed,
    tick_yr,
    fixed_lifetime,
    lifetime_ticks,
    end_probability,
    events,
):
    """Land the probes due this tick, end settlements, and update ages in place."""
    for i in prange(since.shape[0]):
        events[i] = EVENT_NONE
        if arrival[i] == tick:
            arrival[i] = 0
            if settleable[i] and since[i] == 0:
                since[i] = tick
                events[i] = EVENT_ARRIVED
        elif since[i] > 0:
            if fixed_lifetime:
                ends = tick - since[i] >= lifetime_ticks
            else:
                ends = _uniform(seed, tick, i) < end_probability
            if ends:
                since[i] = 0
                events[i] = EVENT_ENDED
        age[i] = (tick - since[i]) * tick_yr if since[i] > 0 else 0.0


@_jit.function(fastmath=_jit.EXACT, inline="always")
def _cell_index(x, inverse_cell):
    """Return the grid cell index along one axis of coordinate x."""
    # Clamped so that a far-off launcher stays within int64; a candidate in
    # range of it lies within 2**20 cells of the origin, where no clamp acts.
    f = math.floor(x * inverse_cell)
    return np.int64(min(max(f, -_CLAMP_CELLS), _CLAMP_CELLS))


@_jit.function(fastmath=_jit.EXACT, inline="always")
def _bucket(ix, iy, iz, mask):
    """Return the hash bucket of grid cell (ix, iy, iz)."""
    h = (
        np.uint64(ix) * np.uint64(_HASH_X)
        + np.uint64(iy) * np.uint64(_HASH_Y)
        + np.uint64(iz) * np.uint64(_HASH_Z)
    )
    return np.int64((h ^ (h >> np.uint64(29))) & np.uint64(mask))


@_jit.function(fastmath=_jit.EXACT)
def _candidate_grid(positions, settleable, since, arrival, probe_range):
    """Hash the candidate targets' grid cells into buckets by counting sort.

    Candidates are the settleable systems that are unsettled with no probe on
    the way. Returns the cell width, the bucket mask, each bucket's start in
    ``order`` (one entry more than buckets) and the candidates in bucket order.
    Two passes over the world and no comparison sort, because the grid is
    rebuilt every tick (stars move, candidates come and go): on the Hipparcos
    world 0.5 ms, where an argsort of cell keys took 4 ms. Indices are int32
    (half the memory traffic), so a world holds fewer than 2**31 systems.
    """
    n = positions.shape[0]
    buckets = 64
    while buckets < n:
        buckets *= 2
    mask = buckets - 1
    cell = probe_range * _CELL_MARGIN
    while True:
        inverse_cell = 1.0 / cell
        start = np.zeros(buckets + 1, dtype=np.int32)
        home = np.empty(n, dtype=np.int32)
        reach = 0.0
        for i in range(n):
            home[i] = -1
            if settleable[i] and since[i] == 0 and arrival[i] == 0:
                x, y, z = positions[i, 0], positions[i, 1], positions[i, 2]
                reach = max(reach, abs(x), abs(y), abs(z))
                b = _bucket(
                    _cell_index(x, inverse_cell),
                    _cell_index(y, inverse_cell),
                    _cell_index(z, inverse_cell),
                    mask,
                )
                home[i] = b
                start[b + 1] += 1
        if reach * inverse_cell < _COORD_CELLS:
            break
        # Stars beyond 2**20 cells: widen the cells until none is (rare).
        cell = reach / _COORD_CELLS * _CELL_MARGIN
    for b in range(buckets):
        start[b + 1] += start[b]
    fill = start[:buckets].copy()
    order = np.empty(start[buckets], dtype=np.int32)
    for i in range(n):
        b = home[i]
        if b >= 0:
            order[fill[b]] = i
            fill[b] += 1
    return cell, mask, start, order


@_jit.function(fastmath=_jit.EXACT)
def _launchers(tick, since, interval):
    """Return the systems whose launch timer fires this tick, in index order."""
    found = np.empty(since.shape[0], dtype=np.int64)
    count = 0
    for i in range(since.shape[0]):
        if since[i] > 0 and since[i] < tick and (tick - since[i]) % interval == 0:
            found[count] = i
            count += 1
    return found[:count]


@_jit.kernel(fastmath=_jit.EXACT)
def _nearest_kernel(positions, launchers, cell, mask, start, order, range2, tgt, d2o):
    """Write each launcher's nearest candidate id within range (or -1) and d^2."""
    for n in prange(launchers.shape[0]):
        p = launchers[n]
        px, py, pz = positions[p, 0], positions[p, 1], positions[p, 2]
        inverse_cell = 1.0 / cell
        cx = _cell_index(px, inverse_cell)
        cy = _cell_index(py, inverse_cell)
        cz = _cell_index(pz, inverse_cell)
        best, best_id = np.inf, np.int64(-1)
        for ix in range(cx - 1, cx + 2):
            for iy in range(cy - 1, cy + 2):
                for iz in range(cz - 1, cz + 2):
                    b = _bucket(ix, iy, iz, mask)
                    for s in range(start[b], start[b + 1]):
                        c = np.int64(order[s])
                        dx = positions[c, 0] - px
                        dy = positions[c, 1] - py
                        dz = positions[c, 2] - pz
                        d2 = dx * dx + dy * dy + dz * dz
                        if d2 <= range2 and (d2 < best or (d2 == best and c < best_id)):
                            best, best_id = d2, c
        tgt[n] = best_id
        d2o[n] = best


@_jit.function(fastmath=_jit.EXACT)
def _apply_launches(tick, targets, d2, step_pc, arrival):
    """Book each probe's arrival on its target, keeping the earliest; count them."""
    launched = 0
    for n in range(targets.shape[0]):
        t = targets[n]
        if t < 0:
            continue
        launched += 1
        due = tick + max(np.int64(1), np.int64(math.ceil(math.sqrt(d2[n]) / step_pc)))
        if arrival[t] == 0 or due < arrival[t]:
            arrival[t] = due
    return launched


def _launch_numba(tick, positions, settleable, since, arrival, ruleset, parallel):
    """Launch this tick's probes through the hash grid; return how many left."""
    launchers = _launchers(tick, since, ruleset.launch_interval_ticks)
    if not launchers.size:
        return 0
    cell, mask, start, order = _candidate_grid(
        positions, settleable, since, arrival, ruleset.probe_range_pc
    )
    if not order.size:
        return 0
    targets = np.empty(launchers.shape[0], dtype=np.int64)
    d2 = np.empty(launchers.shape[0])
    _nearest_kernel.pick(parallel)(
        positions,
        launchers,
        cell,
        mask,
        start,
        order,
        ruleset.probe_range_pc * ruleset.probe_range_pc,
        targets,
        d2,
    )
    return _apply_launches(tick, targets, d2, ruleset.probe_pc_per_tick, arrival)


# ------------------------------------------------------- NumPy reference


def _arrive_end_numpy(tick, settleable, since, age, arrival, seed, ruleset):
    """Land probes, end settlements and update ages in place: the NumPy reference."""
    events = np.zeros(since.shape[0], dtype=np.int8)
    due = arrival == tick
    arrival[due] = 0
    lands = due & settleable & (since == 0)
    older = ~due & (since > 0)
    if ruleset.lifetime_mode == "fixed":
        ends = older & (tick - since >= ruleset.lifetime_ticks)
    else:
        draws = _uniform_numpy(seed, tick, np.arange(since.shape[0], dtype=np.int64))
        ends = older & (draws < ruleset.end_probability)
    since[lands] = tick
    since[ends] = 0
    events[lands] = EVENT_ARRIVED
    events[ends] = EVENT_ENDED
    age[:] = np.where(since > 0, (tick - since) * ruleset.tick_yr, 0.0)
    return events


def _nearest_numpy(launch_pos, cand_pos, cand_ids, probe_range):
    """Return (target id or -1, d^2) per launcher through a KD-tree."""
    targets = np.full(launch_pos.shape[0], -1, dtype=np.int64)
    d2_best = np.full(launch_pos.shape[0], np.inf)
    range2 = probe_range * probe_range
    tree = cKDTree(cand_pos)
    found = tree.query_ball_point(launch_pos, probe_range * _CELL_MARGIN)
    for n, near in enumerate(found):
        if not near:
            continue
        near = np.asarray(near, dtype=np.int64)
        diff = cand_pos[near] - launch_pos[n]
        d2 = diff[:, 0] * diff[:, 0] + diff[:, 1] * diff[:, 1] + diff[:, 2] * diff[:, 2]
        inside = d2 <= range2
        if not inside.any():
            continue
        ids, d2 = cand_ids[near[inside]], d2[inside]
        pick = np.lexsort((ids, d2))[0]
        targets[n], d2_best[n] = ids[pick], d2[pick]
    return targets, d2_best


def _launch_numpy(tick, positions, settleable, since, arrival, ruleset, parallel):
    """Launch this tick's probes through a KD-tree: the NumPy reference."""
    launchers = np.flatnonzero(
        (since > 0)
        & (since < tick)
        & ((tick - since) % ruleset.launch_interval_ticks == 0)
    )
    candidates = np.flatnonzero(settleable & (since == 0) & (arrival == 0))
    if not (launchers.size and candidates.size):
        return 0
    targets, d2 = _nearest_numpy(
        np.ascontiguousarray(positions[launchers]),
        np.ascontiguousarray(positions[candidates]),
        candidates,
        ruleset.probe_range_pc,
    )
    return _apply_launches_numpy(tick, targets, d2, ruleset.probe_pc_per_tick, arrival)


def _apply_launches_numpy(tick, targets, d2, step_pc, arrival) -> int:
    """Book each probe's arrival, keeping the earliest: the NumPy reference."""
    sent = targets >= 0
    due = tick + np.maximum(1, np.ceil(np.sqrt(d2[sent]) / step_pc).astype(np.int64))
    booked = np.where(arrival == 0, np.iinfo(np.int64).max, arrival)
    np.minimum.at(booked, targets[sent], due)
    arrival[:] = np.where(booked == np.iinfo(np.int64).max, 0, booked)
    return int(sent.sum())


# ------------------------------------------------------------ public API


def make_world(
    positions_pc: Any, velocities_kms: Any, settleable: Any
) -> SettlementWorld:
    """Check and bundle the stars a settlement run acts on."""
    positions = _inputs.vectors("positions_pc", positions_pc)
    velocities = _inputs.vectors("velocities_kms", velocities_kms)
    flags = np.asarray(settleable)
    if flags.dtype != np.bool_ or flags.ndim != 1:
        raise ValueError(f"settleable: expected a 1-D bool array, got {flags.dtype}")
    _inputs.same_length(
        positions_pc=positions, velocities_kms=velocities, settleable=flags
    )
    for name, array in (("positions_pc", positions), ("velocities_kms", velocities)):
        bad = ~np.isfinite(array).all(axis=1)
        if bad.any():
            raise ValueError(
                f"{name}: row {_inputs.first_bad(bad)} is not finite (pass the "
                f"tangential-only velocity where the radial one is unknown)"
            )
    return SettlementWorld(positions, velocities, np.ascontiguousarray(flags))


def initial_state(world: SettlementWorld, founders: Any) -> SettlementState:
    """Return tick 1 (the present) with the founder systems settled."""
    n = world.positions_pc.shape[0]
    index = np.asarray(founders, dtype=np.int64).ravel()
    if index.size and (index.min() < 0 or index.max() >= n):
        raise ValueError(f"founders: indices must lie in [0, {n}); got {index}")
    since = np.zeros(n, dtype=np.int64)
    since[index] = 1
    return SettlementState(
        tick=1,
        positions_pc=world.positions_pc.copy(),
        settled_since=since,
        age_yr=np.zeros(n),
        probe_arrival=np.zeros(n, dtype=np.int64),
    )


def _check_step_inputs(state: SettlementState, world: SettlementWorld, seed: int):
    """Raise unless state, world and seed fit together."""
    n = world.positions_pc.shape[0]
    for name in ("settled_since", "age_yr", "probe_arrival"):
        if getattr(state, name).shape != (n,):
            raise ValueError(f"state.{name}: expected shape ({n},)")
    if state.tick < 1:
        raise ValueError(f"state.tick: must be >= 1; got {state.tick}")
    if not (isinstance(seed, int | np.integer) and 0 <= seed < 2**64):
        raise ValueError(f"seed: expected an integer in [0, 2**64); got {seed!r}")


def step(
    state: SettlementState,
    world: SettlementWorld,
    ruleset: Ruleset,
    seed: int,
    *,
    backend: str = "numba",
    parallel: bool = False,
) -> tuple[SettlementState, TickReport]:
    """Advance the settlement by one tick; the given state is left unchanged.

    Serial by default: a tick is a few passes over memory and a serial grid
    build, so on the 117,000-system Hipparcos world a second thread only adds
    its wake-up wait (``benchmarks/test_settlement_world_benchmark.py`` times
    both). ``parallel=True`` runs the per-system loops in threads, same result.
    """
    _inputs.backend(backend)
    _check_step_inputs(state, world, seed)
    tick = state.tick + 1
    since = state.settled_since.copy()
    age = state.age_yr.copy()
    arrival = state.probe_arrival.copy()
    positions = motion.propagate(
        world.positions_pc,
        world.velocities_kms,
        (tick - 1) * ruleset.tick_yr,
        backend=backend,
        parallel=parallel,
    ).positions_pc
    if backend == "numpy":
        events = _arrive_end_numpy(
            tick, world.settleable, since, age, arrival, seed, ruleset
        )
    else:
        events = np.empty(since.shape[0], dtype=np.int8)
        _arrive_end_kernel.pick(parallel)(
            tick,
            world.settleable,
            since,
            age,
            arrival,
            np.uint64(seed),
            ruleset.tick_yr,
            ruleset.lifetime_mode == "fixed",
            ruleset.lifetime_ticks,
            ruleset.end_probability,
            events,
        )
    launch = _launch_numpy if backend == "numpy" else _launch_numba
    launched = launch(
        tick, positions, world.settleable, since, arrival, ruleset, parallel
    )
    new_state = SettlementState(tick, positions, since, age, arrival)
    report = TickReport(
        tick=tick,
        time_yr=(tick - 1) * ruleset.tick_yr,
        settled=int(np.count_nonzero(since)),
        settleable=int(np.count_nonzero(world.settleable)),
        launched=int(launched),
        arrived=int(np.count_nonzero(events == EVENT_ARRIVED)),
        ended=int(np.count_nonzero(events == EVENT_ENDED)),
        in_flight=int(np.count_nonzero(arrival)),
    )
    return new_state, report


def invariant_violations(state: SettlementState, world: SettlementWorld) -> list[str]:
    """Return a sentence for each broken invariant (empty when all hold)."""
    problems = []
    settled = state.settled_since > 0
    if (state.settled_since < 0).any():
        problems.append("settled_since is negative somewhere")
    if (state.settled_since > state.tick).any():
        problems.append("a system is settled since a tick that has not happened")
    if (settled & ~world.settleable).any():
        problems.append("an unsettleable system is settled")
    if settled.sum() > world.settleable.sum():
        problems.append("more systems settled than are settleable")
    if not np.isfinite(state.positions_pc).all():
        problems.append("a position is not finite")
    if not (np.isfinite(state.age_yr).all() and (state.age_yr >= 0).all()):
        problems.append("a settlement age is negative or not finite")
    if (state.age_yr[~settled] != 0).any():
        problems.append("an unsettled system has a settlement age")
    pending = state.probe_arrival != 0
    if (state.probe_arrival[pending] <= state.tick).any():
        problems.append("a probe is due at a tick already past")
    return problems
