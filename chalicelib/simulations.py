"""Simulation runs, their ticks and a build's encounters: records and read queries.

The batch side writes through these functions and the API reads through them, so
both agree on keys and shapes. No read scans a table: a run or a tick is one
GetItem, the run list reads the `by_created` index a page at a time, and the
encounter lists read one page of a build's ranked items. Encounters with the
Sun sit under the build's id, encounters between pairs of stars under
``<build_id>#pairs`` in the same table. A run's playback document is one object.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib import cursors
from chalicelib.errors import BadRequest, NotFound, condition_failed
from chalicelib.models import EncounterItem, SimRun, SimTick
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)
RUN_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
FINISHED = frozenset({"succeeded", "failed", "cancelled"})
MAX_LIMIT = 100
RUN_KIND = "sim"
ENCOUNTER_KINDS = ("sun", "pairs")
_ENCOUNTER_COMMAND = "python -m batch_jobs encounters --build {build_id}"


def now() -> datetime:
    """Return the current time in UTC, the one clock of the records."""
    return datetime.now(UTC)


def snapshot_key(run_id: str, tick: int) -> str:
    """Return the object key of a run's snapshot at a tick (zero-padded, sortable)."""
    return f"sims/{run_id}/snap-{tick:08d}.npz"


def playback_key(run_id: str) -> str:
    """Return the object key of a run's playback document (``playback-v1``)."""
    return f"sim/runs/{run_id}/playback.json"


def create_run(
    run_id: str,
    *,
    build_id: str,
    ruleset_version: str,
    seed: int,
    backend: str,
    params: dict,
    ticks: int,
    snapshot_every: int,
) -> SimRun:
    """Record a queued run under its job's id."""
    created = now()
    run = SimRun(
        run_id,
        kind=RUN_KIND,
        created_key=f"{created.isoformat()}#{run_id}",
        build_id=build_id,
        ruleset_version=ruleset_version,
        seed=seed,
        backend=backend,
        params_json=json.dumps(params, sort_keys=True),
        state="queued",
        ticks=ticks,
        snapshot_every=snapshot_every,
        created_at=created,
        updated_at=created,
    )
    run.save(condition=SimRun.run_id.does_not_exist())
    return run


def get_run(run_id: str) -> SimRun:
    """Return a run's record; NotFound names the run."""
    try:
        return SimRun.get(run_id)
    except DoesNotExist as err:
        raise NotFound(f"simulation run {run_id!r} does not exist") from err


def record_job_end(run_id: str, state: str, error: str | None) -> bool:
    """Mirror a run's job ending without its runner (reaped, cancelled) in the run.

    A runner that was killed outright cannot say so itself; without this its
    run would read `running` until a retry. False when no run has this id (a
    sweep's job) or the run has ended already.
    """
    actions = [SimRun.state.set(state), SimRun.updated_at.set(now())]
    if error:
        actions.append(SimRun.error.set(error[:2000]))
    try:
        SimRun(run_id).update(
            actions=actions,
            condition=SimRun.run_id.exists() & SimRun.state.is_in("queued", "running"),
        )
    except UpdateError as err:
        if condition_failed(err):
            return False
        raise
    return True


def _json(text: str | None):
    return json.loads(text) if text else None


def run_view(run: SimRun) -> dict:
    """Return the public JSON form of a run: inputs, progress, summary and health."""
    return {
        "run_id": run.run_id,
        "build_id": run.build_id,
        "ruleset_version": run.ruleset_version,
        "seed": int(run.seed),
        "backend": run.backend,
        "params": json.loads(run.params_json),
        "state": run.state,
        "ticks": int(run.ticks),
        "snapshot_every": int(run.snapshot_every),
        "last_tick": int(run.last_tick),
        "last_snapshot_tick": (
            None if run.last_snapshot_tick is None else int(run.last_snapshot_tick)
        ),
        "attempts": int(run.attempts),
        "created_at": run.created_at.isoformat(),
        "updated_at": run.updated_at.isoformat(),
        "world": _json(run.world_json),
        "summary": _json(run.summary_json),
        "health": _json(run.health_json),
        "shadow": _json(run.shadow_json),
        "profile_key": run.profile_key,
        "error": run.error,
    }


def list_runs(limit: int, cursor: str | None = None) -> dict:
    """Return one page of runs, newest first."""
    scope = "sim-runs"
    start = None
    if cursor is not None:
        after = cursors.decode(cursor, scope).get("after")
        if not (isinstance(after, list) and len(after) == 2):
            raise BadRequest("cursor is not valid for this query", "cursor")
        start = {
            "kind": {"S": RUN_KIND},
            "created_key": {"S": after[0]},
            "run_id": {"S": after[1]},
        }
    runs = list(
        SimRun.by_created.query(
            RUN_KIND,
            scan_index_forward=False,
            limit=limit + 1,
            last_evaluated_key=start,
        )
    )[: limit + 1]
    next_cursor = None
    if len(runs) > limit:
        runs = runs[:limit]
        last = runs[-1]
        next_cursor = cursors.encode({"after": [last.created_key, last.run_id]}, scope)
    return {"items": [run_view(run) for run in runs], "next_cursor": next_cursor}


def tick_view(item: SimTick) -> dict:
    """Return the public JSON form of one tick's summary and health."""
    return {
        "run_id": item.run_id,
        "tick": int(item.tick),
        "time_yr": item.time_yr,
        "wall_ms": item.wall_ms,
        "counts": json.loads(item.counts_json),
        "invariants_ok": item.invariants_ok,
        "failures": _json(item.failures_json) or [],
        "shadow": _json(item.shadow_json),
        "snapshot_key": item.snapshot_key,
    }


def get_tick(run_id: str, tick: int) -> dict:
    """Return one tick's summary; NotFound when the run has not recorded it."""
    try:
        return tick_view(SimTick.get(run_id, tick))
    except DoesNotExist as err:
        raise NotFound(
            f"run {run_id!r} has no tick {tick}: tick 1 is the starting state, "
            "recorded ticks run from 2 to the run's last_tick (a run whose "
            f"last_tick is 1 recorded none; GET /sim/runs/{run_id} says why)"
        ) from err


def _point(item: SimTick) -> dict:
    counts = json.loads(item.counts_json)
    return {
        "tick": int(item.tick),
        "time_yr": float(item.time_yr),
        "wall_ms": float(item.wall_ms),
        "settled": counts.get("settled"),
        "settleable": counts.get("settleable"),
        "in_flight": counts.get("in_flight"),
        "invariants_ok": bool(item.invariants_ok),
    }


def health_series(run_id: str, points: int) -> dict:
    """A run's health totals and its ticks thinned to at most `points` points.

    Every tick with a broken invariant is kept, and the last tick always is, so
    thinning never hides a failure or the run's end.
    """
    run = get_run(run_id)
    ticks = list(SimTick.query(run_id))
    stride = max(1, -(-len(ticks) // points))
    kept = [
        item
        for index, item in enumerate(ticks)
        if index % stride == 0 or not item.invariants_ok or index == len(ticks) - 1
    ]
    return {
        "run_id": run.run_id,
        "state": run.state,
        "ticks": int(run.ticks),
        "last_tick": int(run.last_tick),
        "totals": _json(run.health_json),
        "ticks_recorded": len(ticks),
        "points": [_point(item) for item in kept],
    }


def save_ticks(items: list[SimTick]) -> None:
    """Write tick summaries in one batch (a rewrite after a resume replaces them)."""
    with SimTick.batch_write() as batch:
        for item in items:
            batch.save(item)


def _encounter_key(build_id: str, kind: str) -> str:
    """Return the table key of a build's encounters of one kind."""
    if kind not in ENCOUNTER_KINDS:
        raise ValueError(f"kind: use one of {ENCOUNTER_KINDS}; got {kind!r}")
    return build_id if kind == "sun" else f"{build_id}#{kind}"


def save_encounters(build_id: str, docs: list[dict], kind: str = "sun") -> int:
    """Write a build's encounters ranked as given (rank 1 first); return the count.

    ``kind`` is ``sun`` (one star and the Sun, keyed by ``system_id``) or
    ``pairs`` (two stars, ``system_id_a`` and ``system_id_b``).
    """
    key = _encounter_key(build_id, kind)
    with EncounterItem.batch_write() as batch:
        for rank, doc in enumerate(docs, start=1):
            who = (
                doc["system_id"]
                if kind == "sun"
                else (f"{doc['system_id_a']}|{doc['system_id_b']}")
            )
            batch.save(
                EncounterItem(
                    key,
                    rank,
                    system_id=who,
                    doc=json.dumps(doc, sort_keys=True, allow_nan=False),
                )
            )
    return len(docs)


def encounters_page(
    build_id: str, limit: int, cursor: str | None = None, kind: str = "sun"
) -> dict:
    """Return one page of a build's closest approaches, nearest first.

    ``kind`` ``sun``: each star's approach to the Sun; ``pairs``: pairs of stars
    that pass close to each other within the job's horizon.
    """
    key = _encounter_key(build_id, kind)
    scope = f"encounters:{key}"
    after = 0
    if cursor is not None:
        after = cursors.decode(cursor, scope).get("after")
        if not isinstance(after, int) or after < 0:
            raise BadRequest("cursor is not valid for this query", "cursor")
    items = list(EncounterItem.query(key, EncounterItem.rank > after, limit=limit + 1))
    if not items and after == 0:
        what = "encounters" if kind == "sun" else "pair encounters"
        raise NotFound(
            f"build {build_id} has no {what} computed; run "
            f"`{_ENCOUNTER_COMMAND.format(build_id=build_id)}`"
        )
    page = items[:limit]
    next_cursor = None
    if len(items) > limit:
        next_cursor = cursors.encode({"after": int(page[-1].rank)}, scope)
    return {
        "items": [{"rank": int(i.rank), **json.loads(i.doc)} for i in page],
        "next_cursor": next_cursor,
    }


def get_playback(run_id: str) -> dict:
    """Return a succeeded run's playback document; NotFound names the run."""
    run = get_run(run_id)
    if run.state != "succeeded":
        raise NotFound(
            f"simulation run {run_id!r} has no playback: it is {run.state}; "
            "playback exists once a run has succeeded"
        )
    store = ObjectStore()
    try:
        body = store.get(store.settings.builds_bucket, playback_key(run_id))
    except NotFound as err:
        raise NotFound(
            f"simulation run {run_id!r} succeeded without a playback document "
            "(it ran before playback existed); run it again to get one"
        ) from err
    return json.loads(body)
