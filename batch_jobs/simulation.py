"""Settlement simulation runs as jobs: submit, run or resume, cancel.

A run is a job record (``chalicelib.jobs``) plus a ``SimRun`` record with the
build, ruleset version, seed and parameters, and goes
``queued -> running -> succeeded | failed | cancelled``. It reads the build's
systems artifact, marks settleable systems (``chalicelib.habitable``), settles
from the founders tick by tick (``sim_kernels.settlement``), and every
``snapshot_every`` ticks (and at the last tick) writes a snapshot to object
storage (``sims/<run>/snap-<tick>.npz``), the ticks' summaries and health to
the ``sim_ticks`` table, and its progress to the run record, in that order.

Each attempt runs under the job runner's machinery (``batch_jobs.worker.JobRun``):
it heartbeats every ``LB_JOB_HEARTBEAT_S`` seconds and reports progress (ticks
done over ticks), so the sweep marks a run whose process died failed within
four heartbeats, and a cancel or a reaped record stops the runner at its next
heartbeat.

Resuming: a retry of a failed or cancelled run (``jobctl retry``, or the
sweep's automatic retry) queues its next attempt, which starts from the
snapshot its record names, so it ends in the same state, bit for bit, as a run
never interrupted (the step is deterministic in build, ruleset and seed, and
positions are recomputed from the tick, not stepped). Snapshots hold the tick
and the three state arrays; their bytes are a deterministic function of the
state, so rewriting one after a crash is a no-op.

Playback: each snapshot also carries the run's settlement log so far (every
start and end of a settlement, by tick and system) and the settled count at
every snapshot tick. When the last tick is reached the run writes
``sim/runs/<run>/playback.json`` (format ``playback-v1``, see
``playback_document``) from that log; a resumed run restores the log from its
snapshot, so it writes the same bytes as an uninterrupted one.

Kernels: ``LB_SIM_BACKEND`` (or ``--backend``) picks ``numba`` (modernised),
``numpy`` (legacy reference) or ``shadow``, which steps both from the same state,
goes on with the Numba result, and records the largest difference per quantity.
A run with ``profile`` set (or any run under ``LB_PROFILE_JOBS=1``) stores a
cProfile dump of each attempt, named by the job record's ``profile_uri``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import time
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from batch_jobs import simworld
from batch_jobs.worker import JobRun
from chalicelib import builds, habitable, jobs, simulations
from chalicelib.errors import BadRequest, Conflict
from chalicelib.models import JobRecord, SimRun, SimTick
from chalicelib.settings import Settings
from chalicelib.storage import ObjectStore
from sim_kernels import motion, settlement

logger = logging.getLogger(__name__)
BACKEND_ENV = "LB_SIM_BACKEND"
BACKENDS = ("numba", "numpy", "shadow")
JOB_TYPE = "simulation"  # one of chalicelib.jobs.JOB_TYPES
MAX_TICKS = 1_000_000
_STATE_ARRAYS = ("settled_since", "age_yr", "probe_arrival")
_LOG_ARRAYS = ("event_tick", "event_system", "event_kind", "snap_tick", "snap_settled")
PLAYBACK_FORMAT = "playback-v1"
EVENT_START, EVENT_END = 1, 2
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


Progress = Callable[[float, str], None]


class BadRun(BadRequest):
    """A run's own inputs cannot work (a founder that is not there or not
    settleable): a retry would fail the same way."""

    code = "bad_simulation_run"


class InvariantBroken(RuntimeError):
    """A tick broke an invariant of the settlement state; the run stops there."""

    # The step is deterministic: a retry would break it at the same tick.
    retryable = False


@dataclass(frozen=True)
class RunParams:
    """What a run is asked to do; stored with the run and hashed into nothing."""

    ticks: int = 1000
    snapshot_every: int = 100
    seed: int = 1
    ruleset: str = settlement.DEFAULT_RULESET
    founders: tuple[str, ...] = ("sol",)
    settleable_rule: str | None = None  # None: the ruleset's own rule
    profile: bool = False

    def check(self) -> RunParams:
        """Return the parameters, or raise ValueError saying which to fix."""
        if not 2 <= self.ticks <= MAX_TICKS:
            raise ValueError(f"ticks: must be from 2 to {MAX_TICKS}; got {self.ticks}")
        if not 1 <= self.snapshot_every <= self.ticks:
            raise ValueError(
                f"snapshot_every: must be from 1 to ticks ({self.ticks}); "
                f"got {self.snapshot_every}"
            )
        if not 0 <= self.seed < 2**63:
            raise ValueError(f"seed: must be in [0, 2**63); got {self.seed}")
        if not self.founders:
            raise ValueError("founders: name at least one system id, e.g. 'sol'")
        rule = self.rule(settlement.load_ruleset(self.ruleset))
        if rule not in habitable.SETTLEABLE_RULES:
            raise ValueError(
                f"settleable_rule: use one of {habitable.SETTLEABLE_RULES}; "
                f"got {rule!r}"
            )
        return self

    def rule(self, ruleset: settlement.Ruleset) -> str:
        """Return the settleable rule: the one asked for, else the ruleset's."""
        return self.settleable_rule or ruleset.settleable_rule


def backend_setting(environ: dict[str, str] | None = None) -> str:
    """Return the kernel backend named by ``LB_SIM_BACKEND`` (default numba)."""
    env = os.environ if environ is None else environ
    value = env.get(BACKEND_ENV, "numba")
    if value not in BACKENDS:
        raise ValueError(f"{BACKEND_ENV}={value!r}: use one of {', '.join(BACKENDS)}")
    return value


# ---------------------------------------------------------------- snapshots


class SettlementLog:
    """Every start and end of a settlement so far, and the settled count per snapshot.

    Kept in memory during a run and written into each snapshot, so a resumed run
    carries on the same log.
    """

    def __init__(self, arrays: dict[str, np.ndarray] | None = None) -> None:
        arrays = arrays or {}
        self.events: list[tuple[int, int, int]] = list(
            zip(
                arrays.get("event_tick", np.zeros(0, np.int64)).tolist(),
                arrays.get("event_system", np.zeros(0, np.int64)).tolist(),
                arrays.get("event_kind", np.zeros(0, np.int8)).tolist(),
                strict=True,
            )
        )
        self.snapshots: list[tuple[int, int]] = list(
            zip(
                arrays.get("snap_tick", np.zeros(0, np.int64)).tolist(),
                arrays.get("snap_settled", np.zeros(0, np.int64)).tolist(),
                strict=True,
            )
        )

    def founded(self, state: settlement.SettlementState) -> None:
        """Log the founders, settled at the run's first tick."""
        for row in np.flatnonzero(state.settled_since).tolist():
            self.events.append((state.tick, row, EVENT_START))

    def changed(self, before: np.ndarray, state: settlement.SettlementState) -> None:
        """Log the settlements that started or ended in the step to ``state``."""
        after = state.settled_since
        # Arrivals need an unsettled target and only older settlements end, so a
        # system cannot both start and end in one tick.
        started = np.flatnonzero((before == 0) & (after > 0)).tolist()
        ended = np.flatnonzero((before > 0) & (after == 0)).tolist()
        self.events += [(state.tick, row, EVENT_START) for row in started]
        self.events += [(state.tick, row, EVENT_END) for row in ended]

    def snapshot(self, state: settlement.SettlementState) -> None:
        """Log the settled count at a snapshot tick."""
        self.snapshots.append((state.tick, int(np.count_nonzero(state.settled_since))))

    def arrays(self) -> dict[str, np.ndarray]:
        """Return the log as arrays for a snapshot."""
        ev = np.array(self.events, dtype=np.int64).reshape(-1, 3)
        snaps = np.array(self.snapshots, dtype=np.int64).reshape(-1, 2)
        return {
            "event_tick": ev[:, 0],
            "event_system": ev[:, 1],
            "event_kind": ev[:, 2].astype(np.int8),
            "snap_tick": snaps[:, 0],
            "snap_settled": snaps[:, 1],
        }


def playback_document(
    run: SimRun,
    system_ids: list[str],
    tick_yr: float,
    log: SettlementLog,
) -> dict:
    """Return a run's playback: settled counts per snapshot and settled intervals.

    Tick ``t`` lies ``(t - 1) * tick_years`` years after the run's start; an
    interval ends with null when the settlement outlives the run.
    """
    intervals: dict[str, list[list[float | None]]] = {}
    for tick, row, kind in sorted(log.events):
        spans = intervals.setdefault(system_ids[row], [])
        years = (tick - 1) * tick_yr
        if kind == EVENT_START:
            spans.append([years, None])
        else:
            spans[-1][1] = years
    return {
        "format": PLAYBACK_FORMAT,
        "run_id": run.run_id,
        "build_id": run.build_id,
        "ruleset": run.ruleset_version,
        "seed": int(run.seed),
        "tick_years": tick_yr,
        "n_ticks": int(run.ticks),
        "duration_years": (int(run.ticks) - 1) * tick_yr,
        "settled_counts": [count for _, count in log.snapshots],
        "snapshot_ticks": [tick for tick, _ in log.snapshots],
        "intervals": dict(sorted(intervals.items())),
    }


def snapshot_bytes(
    state: settlement.SettlementState, log: SettlementLog | None = None
) -> bytes:
    """Return a run state (and its log) as .npz bytes that depend on them alone."""
    arrays = {"tick": np.int64(state.tick)}
    arrays.update({name: getattr(state, name) for name in _STATE_ARRAYS})
    arrays.update(log.arrays() if log is not None else {})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
            archive.writestr(info, buffer.getvalue())
    return out.getvalue()


def log_from_snapshot(data: bytes) -> SettlementLog | None:
    """Return the settlement log a snapshot holds; None if it predates logs."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        if not set(_LOG_ARRAYS) <= set(npz.files):
            return None
        return SettlementLog({name: npz[name] for name in _LOG_ARRAYS})


def state_from_snapshot(
    data: bytes, world: settlement.SettlementWorld, tick_yr: float, backend: str
) -> settlement.SettlementState:
    """Return the state a snapshot holds, with positions recomputed for its tick."""
    with np.load(io.BytesIO(data), allow_pickle=False) as npz:
        tick = int(npz["tick"])
        arrays = {name: npz[name].copy() for name in _STATE_ARRAYS}
    positions = motion.propagate(
        world.positions_pc,
        world.velocities_kms,
        (tick - 1) * tick_yr,
        backend="numpy" if backend == "numpy" else "numba",
    ).positions_pc
    return settlement.SettlementState(tick=tick, positions_pc=positions, **arrays)


# --------------------------------------------------------------- submitting


def submit(
    settings: Settings, build_ref: str, params: RunParams, backend: str | None = None
) -> str:
    """Queue a run on a published build; return its run id (its job's id)."""
    params.check()
    backend = backend or backend_setting()
    if backend not in BACKENDS:
        raise ValueError(f"backend: use one of {', '.join(BACKENDS)}; got {backend!r}")
    build_id = builds.resolve_build_id(build_ref)
    record = builds.get_build(build_id)
    if record.state != "published":
        raise Conflict(
            f"build {build_id} is {record.state}; simulate a published build"
        )
    ruleset = settlement.load_ruleset(params.ruleset)
    stored = {
        **asdict(params),
        "founders": list(params.founders),
        "settleable_rule": params.rule(ruleset),
    }
    job = jobs.queue_job(
        JOB_TYPE,
        {"build_id": build_id, "backend": backend, **stored},
    )
    simulations.create_run(
        job.job_id,
        build_id=build_id,
        ruleset_version=ruleset.version,
        seed=params.seed,
        backend=backend,
        params=stored,
        ticks=params.ticks,
        snapshot_every=params.snapshot_every,
    )
    logger.info("sim run %s queued on build %s (%s)", job.job_id, build_id, backend)
    return job.job_id


def cancel(run_id: str, reason: str = "cancelled on request") -> str:
    """Cancel a queued run now, or stop a running one; return its state.

    A running run's job is cancelled at once; its runner finds that at its next
    heartbeat or snapshot, stops, and records the run cancelled ("cancelling"
    until then). A failed run's pending automatic retry is cancelled too.
    """
    run = simulations.get_run(run_id)
    job = jobs.get_job(run_id)
    pending_retry = job.state == "failed" and job.retry_at is not None
    if job.state in jobs.TERMINAL and not pending_retry:
        return job.state
    was = job.state
    jobs.cancel(run_id, reason)
    if was == "running":
        return "cancelling"
    _record_end(run, "cancelled", reason)
    return "cancelled"


# ------------------------------------------------------------------ running


@dataclass
class _Health:
    """Totals over a run's ticks, carried in the run record between attempts."""

    ticks_checked: int = 0
    invariant_failures: int = 0
    wall_ms_total: float = 0.0
    wall_ms_max: float = 0.0
    first_failure: str | None = None
    shadow_max: dict = field(default_factory=dict)

    def as_json(self) -> str:
        """Return the health totals as JSON, without the shadow maxima."""
        body = asdict(self)
        body.pop("shadow_max")
        body["wall_ms_mean"] = (
            round(self.wall_ms_total / self.ticks_checked, 3)
            if self.ticks_checked
            else None
        )
        return json.dumps(body, sort_keys=True)


def _shadow_differences(
    a: settlement.SettlementState,
    b: settlement.SettlementState,
    ra: settlement.TickReport,
    rb: settlement.TickReport,
) -> dict:
    """Return the largest absolute difference per quantity between two steps."""
    diffs = {
        name: float(np.abs(getattr(a, name) - getattr(b, name)).max(initial=0.0))
        for name in ("positions_pc", *_STATE_ARRAYS)
    }
    diffs["report_fields_differing"] = sum(x != y for x, y in zip(ra, rb, strict=True))
    return diffs


class _Runner:
    """One attempt at a run: loads its world, steps, writes snapshots and ticks."""

    def __init__(self, settings: Settings, run: SimRun) -> None:
        self.settings = settings
        self.run = run
        self.store = ObjectStore(settings)
        self.params = json.loads(run.params_json)
        self.ruleset = settlement.load_ruleset(self.params["ruleset"])
        self.backend = run.backend
        self.primary = "numpy" if self.backend == "numpy" else "numba"
        systems = simworld.load_systems(settings, run.build_id)
        self.sim_world = simworld.build_world(systems, self.params["settleable_rule"])
        w = self.sim_world
        self.world = settlement.make_world(
            w.positions_pc, w.velocities_kms, w.settleable
        )
        previous = json.loads(run.health_json) if run.health_json else {}
        previous.pop("wall_ms_mean", None)
        self.health = _Health(**previous)
        self.health.shadow_max = json.loads(run.shadow_json or "{}")
        self.log: SettlementLog | None = SettlementLog()

    def initial_state(self) -> settlement.SettlementState:
        """Return the state to start from: the last snapshot, or tick 1."""
        if self.run.last_snapshot_tick is not None:
            key = simulations.snapshot_key(self.run.run_id, self.run.last_snapshot_tick)
            data = self.store.get(self.settings.builds_bucket, key)
            logger.info("run %s resumes from %s", self.run.run_id, key)
            self.log = log_from_snapshot(data)
            if self.log is None:
                logger.warning("run %s: %s has no settlement log", self.run.run_id, key)
            return state_from_snapshot(
                data, self.world, self.ruleset.tick_yr, self.backend
            )
        try:
            founders = [self.sim_world.index_of(f) for f in self.params["founders"]]
        except ValueError as err:
            raise BadRun(f"founders: {err}", "founders") from err
        unsettleable = [
            self.sim_world.system_ids[i]
            for i in founders
            if not self.sim_world.settleable[i]
        ]
        if unsettleable:
            raise BadRun(
                f"founders {unsettleable} are not settleable under rule "
                f"{self.params['settleable_rule']!r}; pick settleable founders",
                "founders",
            )
        state = settlement.initial_state(self.world, founders)
        self.log.founded(state)
        return state

    def step(self, state):
        """Advance one tick with the chosen backend; return (state, report, shadow)."""
        seed = int(self.run.seed)
        new, report = settlement.step(
            state, self.world, self.ruleset, seed, backend=self.primary
        )
        if self.backend != "shadow":
            return new, report, None
        legacy, legacy_report = settlement.step(
            state, self.world, self.ruleset, seed, backend="numpy"
        )
        return new, report, _shadow_differences(new, legacy, report, legacy_report)

    def tick_item(self, state, report, wall_ms, problems, shadow) -> SimTick:
        """Return a tick's summary record, and add it to the health totals."""
        h = self.health
        h.ticks_checked += 1
        h.wall_ms_total += wall_ms
        h.wall_ms_max = max(h.wall_ms_max, wall_ms)
        if problems:
            h.invariant_failures += 1
            h.first_failure = h.first_failure or f"tick {state.tick}: {problems[0]}"
        for name, value in (shadow or {}).items():
            h.shadow_max[name] = max(h.shadow_max.get(name, 0), value)
        counts = report._asdict()
        counts.pop("tick")
        counts.pop("time_yr")
        return SimTick(
            self.run.run_id,
            state.tick,
            time_yr=report.time_yr,
            wall_ms=round(wall_ms, 3),
            counts_json=json.dumps(counts, sort_keys=True),
            invariants_ok=not problems,
            failures_json=json.dumps(problems) if problems else None,
            shadow_json=json.dumps(shadow, sort_keys=True) if shadow else None,
        )

    def checkpoint(
        self, state, report, pending: list[SimTick], progress: Progress
    ) -> None:
        """Write the snapshot, then the ticks, then the run's progress."""
        run_id = self.run.run_id
        key = simulations.snapshot_key(run_id, state.tick)
        if self.log is not None:
            self.log.snapshot(state)
        self.store.put_once(
            self.settings.builds_bucket,
            key,
            snapshot_bytes(state, self.log),
            content_type="application/octet-stream",
        )
        pending[-1].snapshot_key = key
        simulations.save_ticks(pending)
        summary = report._asdict()
        self.run.update(
            actions=[
                SimRun.last_tick.set(state.tick),
                SimRun.last_snapshot_tick.set(state.tick),
                SimRun.summary_json.set(json.dumps(summary, sort_keys=True)),
                SimRun.health_json.set(self.health.as_json()),
                SimRun.shadow_json.set(
                    json.dumps(self.health.shadow_max, sort_keys=True)
                ),
                SimRun.updated_at.set(simulations.now()),
            ]
        )
        logger.info("run %s snapshot at tick %d: %s", run_id, state.tick, key)
        # A heartbeat too: JobLost here stops a cancelled run at this snapshot.
        progress(state.tick / int(self.run.ticks), f"snapshot at tick {state.tick}")

    def loop(self, progress: Progress, every_s: float) -> settlement.SettlementState:
        """Step from the start state to the last tick, checkpointing as promised.

        Progress (ticks done over ticks) goes to `progress` at every snapshot and
        at least every `every_s` seconds between them.
        """
        state = self.initial_state()
        every, last = int(self.run.snapshot_every), int(self.run.ticks)
        pending: list[SimTick] = []
        next_report = time.monotonic() + every_s
        while state.tick < last:
            started = time.perf_counter()
            before = state.settled_since
            state, report, shadow = self.step(state)
            if self.log is not None:
                self.log.changed(before, state)
            problems = settlement.invariant_violations(state, self.world)
            wall_ms = (time.perf_counter() - started) * 1000.0
            pending.append(self.tick_item(state, report, wall_ms, problems, shadow))
            if state.tick % every == 0 or state.tick == last or problems:
                if problems:
                    # The broken tick is kept, and the run's health counts it.
                    self.checkpoint(state, report, pending, lambda *_: None)
                    raise InvariantBroken(
                        f"invariant broken at tick {state.tick}: {'; '.join(problems)}"
                    )
                self.checkpoint(state, report, pending, progress)
                pending = []
                next_report = time.monotonic() + every_s
            elif time.monotonic() >= next_report:
                progress(state.tick / last, f"tick {state.tick} of {last}")
                next_report = time.monotonic() + every_s
        return state

    def write_playback(self) -> str | None:
        """Store the run's playback document once the last tick is reached."""
        if self.log is None:
            logger.warning("run %s: no settlement log, no playback", self.run.run_id)
            return None
        doc = playback_document(
            self.run, self.sim_world.system_ids, self.ruleset.tick_yr, self.log
        )
        key = simulations.playback_key(self.run.run_id)
        body = json.dumps(doc, sort_keys=True, allow_nan=False).encode()
        self.store.put_once(self.settings.builds_bucket, key, body)
        logger.info("run %s playback: %s", self.run.run_id, key)
        return key


def _record_end(run: SimRun, state: str, error: str | None) -> None:
    """Record how the run's attempt ended in its run record (its job has it)."""
    actions = [SimRun.state.set(state), SimRun.updated_at.set(simulations.now())]
    if error:
        actions.append(SimRun.error.set(error[:2000]))
    run.update(actions=actions)


def _start_attempt(run: SimRun) -> None:
    """Mark the run record running its next attempt, as its job now is."""
    run.update(
        actions=[
            SimRun.state.set("running"),
            SimRun.attempts.add(1),
            SimRun.error.remove(),
            # Left by runs made before cancels went through the job record.
            SimRun.cancel_requested.set(False),
            SimRun.updated_at.set(simulations.now()),
        ]
    )


def _refuse_running(job: JobRecord) -> None:
    """A run whose job is running belongs to its runner, alive or not yet reaped."""
    beat = float(job.heartbeat_s or jobs.heartbeat_interval())
    raise jobs.JobStateConflict(
        f"run {job.job_id} is already running (last heartbeat "
        f"{jobs.iso(job.heartbeat_at) or 'never'}); if its runner died, the sweep "
        f"(`jobctl sweep`) marks it failed after {beat * jobs.STALE_HEARTBEATS:g} s "
        f"without a heartbeat, and `jobctl retry {job.job_id}` resumes it from its "
        "last snapshot"
    )


def execute(
    settings: Settings,
    run_id: str,
    *,
    heartbeat_s: float | None = None,
    on_progress: Progress | None = None,
    profile: bool | None = None,
) -> SimRun:
    """Run the run's queued attempt under heartbeats; return its record.

    The attempt is the run's first, or a retry that resumes from the last
    snapshot. A run already ended is returned as it is; a running one is
    refused (JobStateConflict). `on_progress` also hears the progress (an array
    worker's own record); `profile` False keeps this attempt unprofiled.
    """
    run = simulations.get_run(run_id)
    job = jobs.get_job(run_id)
    if job.state in jobs.TERMINAL:
        logger.info("run %s is already %s: nothing to do", run_id, job.state)
        if run.state != job.state:
            _record_end(run, job.state, job.error)
        return run
    if job.state == "running":
        _refuse_running(job)
    work = JobRun.claim(run_id, heartbeat_s, profile=profile)
    _start_attempt(run)

    def progress(fraction: float, step: str) -> None:
        work.report(fraction, step)
        if on_progress is not None:
            on_progress(fraction, step)

    try:
        with work:
            runner = _Runner(settings, run)
            if run.world_json is None:
                counts = json.dumps(runner.sim_world.counts())
                run.update(actions=[SimRun.world_json.set(counts)])
            runner.loop(progress, work.heartbeat_s)
            playback = runner.write_playback()
            work.succeed(
                {"run_id": run_id, "last_tick": int(run.last_tick)},
                result_uri=playback and f"s3://{settings.builds_bucket}/{playback}",
            )
    except jobs.JobLost as lost:
        # Cancelled, or reaped after missed heartbeats: the job says which.
        job = jobs.get_job(run_id)
        logger.warning("run %s stopped: %s", run_id, lost)
        _record_end(run, job.state, job.error or str(lost))
    except BaseException as err:
        logger.error("run %s failed: %s", run_id, err, exc_info=True)
        _record_end(run, "failed", f"{type(err).__name__}: {err}")
        raise
    else:
        _record_end(run, "succeeded", None)
    finally:
        _note_profile(run, work.job)
    run.refresh()
    return run


def _note_profile(run: SimRun, job: JobRecord) -> None:
    """Name the attempt's profile (the job's `profile_uri`) in the run record."""
    try:
        job.refresh()
        if job.profile_uri:
            key = job.profile_uri.split("/", 3)[3]  # s3://<bucket>/<key>
            run.update(actions=[SimRun.profile_key.set(key)])
    except Exception:
        # The job record names the profile already; the run's copy is a help.
        logger.warning("run %s: profile key not recorded", run.run_id, exc_info=True)
