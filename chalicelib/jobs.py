"""Job records: every heavy run leaves one, whatever starts it and however it ends.

A job moves `queued -> running -> succeeded | failed | cancelled`; a failed or
cancelled job can be queued again as its next attempt. Every change is one
conditional write on the job's item, so a late heartbeat, the reaper and a
cancel can race without two of them winning. An idempotency key item makes a
repeated trigger return the job it first started.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib import job_params
from chalicelib.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    NotFound,
    condition_failed,
)
from chalicelib.models import JobKey, JobRecord
from chalicelib.release import current_release

logger = logging.getLogger(__name__)

STATES = ("queued", "running", "succeeded", "failed", "cancelled")
TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
JOB_TYPES = ("build", "site", "simulation", "comparison", "backup", "restore")
LIVE, DONE = "live", "done"
KEY_PREFIX = "key#"
DEFAULT_MAX_ATTEMPTS = 3
# A runner is presumed dead after this many heartbeat intervals without one.
STALE_HEARTBEATS = 4
# Runs that never heartbeat (direct, in-process runs) are presumed dead after this.
UNWATCHED_LIMIT = timedelta(hours=6)
ERROR_LIMIT = 2000
# Job ids are `<type>-<12 hex>`; DynamoDB refuses keys over 2048 bytes, so a
# longer or odd id is refused before it reaches the database.
MAX_JOB_ID_CHARS = 128
JOB_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
_JOB_ID = re.compile(JOB_ID_PATTERN)
# Items DynamoDB evaluates per page of a filtered job list, and the pages of each
# feed one API request may read (tests shrink both to cross pages often).
JOB_PAGE_ITEMS = 100
MAX_JOB_PAGES = 4


class UnknownJobType(BadRequest):
    """A job type this product does not run."""

    code = "unknown_job_type"


class JobNotFound(NotFound):
    """No job has this id."""

    code = "job_not_found"


class JobStateConflict(Conflict):
    """The job is not in a state that allows what was asked."""

    code = "job_state_conflict"


class JobLost(Conflict):
    """The record moved on (cancelled, or failed by the reaper) under its runner."""

    code = "job_lost"


@dataclass(frozen=True)
class RetryPolicy:
    """Automatic retries back off: `base_s`, doubled per attempt, at most `cap_s`."""

    base_s: float = 60.0
    cap_s: float = 3600.0

    def delay_s(self, attempt: int) -> float:
        """Seconds to wait after attempt `attempt` (1-based) failed."""
        return min(self.base_s * 2 ** max(attempt - 1, 0), self.cap_s)


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigurationError(f"{name}={raw!r} must be a number of seconds above 0")
    return value


def load_retry_policy(env: Mapping[str, str] | None = None) -> RetryPolicy:
    """The retry back-off from LB_JOB_RETRY_BASE_S and LB_JOB_RETRY_CAP_S."""
    env = os.environ if env is None else env
    return RetryPolicy(
        base_s=_positive(env, "LB_JOB_RETRY_BASE_S", RetryPolicy.base_s),
        cap_s=_positive(env, "LB_JOB_RETRY_CAP_S", RetryPolicy.cap_s),
    )


def heartbeat_interval(env: Mapping[str, str] | None = None) -> float:
    """Seconds between a runner's heartbeats, from LB_JOB_HEARTBEAT_S (default 10)."""
    env = os.environ if env is None else env
    return _positive(env, "LB_JOB_HEARTBEAT_S", 10.0)


@functools.lru_cache(maxsize=1)
def _retry_policy() -> RetryPolicy:
    return load_retry_policy()


@dataclass(frozen=True)
class Submission:
    """What a trigger got: the job, and whether this call created it."""

    job: JobRecord
    created: bool


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _created_key(created_at: datetime, job_id: str) -> str:
    return f"{_stamp(created_at)}#{job_id}"


def _same_attempt(job: JobRecord, *states: str):
    condition = JobRecord.attempts == int(job.attempts)
    if len(states) == 1:
        return condition & (JobRecord.state == states[0])
    return condition & JobRecord.state.is_in(*states)


def _update(job: JobRecord, actions: list, condition, lost: str) -> None:
    try:
        job.update(actions=actions, condition=condition)
    except UpdateError as err:
        if condition_failed(err):
            raise JobLost(lost) from err
        raise


def submit(
    job_type: str,
    params: dict,
    *,
    idempotency_key: str | None = None,
    trigger: str = "cli",
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
) -> Submission:
    """Queue a job, or return the one an earlier call with the same key queued."""
    if job_type not in JOB_TYPES:
        raise UnknownJobType(
            f"job type {job_type!r} is unknown; use one of {', '.join(JOB_TYPES)}",
            "type",
        )
    job_params.require_finite(params)
    params_json = json.dumps(params, sort_keys=True, allow_nan=False)
    job_id = f"{job_type}-{uuid.uuid4().hex[:12]}"
    if idempotency_key is not None:
        existing = _claim_key(idempotency_key, job_id)
        if existing is not None:
            logger.info("key %s already started job %s", idempotency_key, existing)
            return Submission(_await_job(existing, idempotency_key), created=False)
    now = _now()
    job = JobRecord(
        job_id,
        job_type=job_type,
        state="queued",
        params_json=params_json,
        created_at=now,
        queued_at=now,
        attempts=1,
        max_attempts=max_attempts,
        progress=0,
        feed=LIVE,
        created_key=_created_key(now, job_id),
        trigger=trigger,
        idempotency_key=idempotency_key,
        release=current_release(),
    )
    job.save(condition=JobRecord.job_id.does_not_exist())
    logger.info("job %s queued (%s, trigger %s)", job_id, job_type, trigger)
    return Submission(job, created=True)


def _claim_key(key: str, job_id: str) -> str | None:
    """Put the key item naming `job_id`; if it exists, the job it names."""
    item = JobKey(KEY_PREFIX + key, target_job_id=job_id, created_at=_now())
    try:
        item.save(condition=JobKey.job_id.does_not_exist())
        return None
    except PutError as err:
        if not condition_failed(err):
            raise
    return JobKey.get(KEY_PREFIX + key, consistent_read=True).target_job_id


def _await_job(job_id: str, key: str) -> JobRecord:
    # The winner writes its key first and its job a moment later.
    for _ in range(10):
        try:
            return JobRecord.get(job_id, consistent_read=True)
        except DoesNotExist:
            time.sleep(0.1)
    raise Conflict(
        f"idempotency key {key!r} names job {job_id}, which is not recorded yet; "
        "send the trigger again in a few seconds"
    )


def start_job(
    job_type: str, params: dict, *, heartbeat_s: float | None = None
) -> JobRecord:
    """Record a job that runs now, in this process, without a launcher.

    With `heartbeat_s` the caller promises heartbeats at that interval, so the
    reaper can tell when it died.
    """
    job_params.require_finite(params)
    now = _now()
    job_id = f"{job_type}-{uuid.uuid4().hex[:12]}"
    job = JobRecord(
        job_id,
        job_type=job_type,
        state="running",
        params_json=json.dumps(params, sort_keys=True, allow_nan=False),
        created_at=now,
        queued_at=now,
        started_at=now,
        attempts=1,
        max_attempts=1,
        progress=0,
        feed=LIVE,
        created_key=_created_key(now, job_id),
        trigger="direct",
        launcher="direct",
        runner_id=str(os.getpid()),
        heartbeat_at=now if heartbeat_s else None,
        heartbeat_s=heartbeat_s,
        release=current_release(),
    )
    job.save(condition=JobRecord.job_id.does_not_exist())
    logger.debug("job %s started", job.job_id)
    return job


def check_job_id(job_id: str) -> str:
    """Return `job_id` if it can name a job; BadRequest (before any database call)."""
    if len(job_id) > MAX_JOB_ID_CHARS:
        raise BadRequest(
            f"job_id is {len(job_id)} characters; job ids are at most "
            f"{MAX_JOB_ID_CHARS} (like build-0123456789ab)",
            "job_id",
        )
    if not _JOB_ID.match(job_id):
        raise BadRequest(
            f"job_id {job_id!r} is not a job id: letters, digits, '.', '_' and '-' "
            f"only, at most {MAX_JOB_ID_CHARS} (like build-0123456789ab)",
            "job_id",
        )
    return job_id


def get_job(job_id: str) -> JobRecord:
    """The record of `job_id`; BadRequest for a malformed id, JobNotFound if none."""
    check_job_id(job_id)
    if job_id.startswith(KEY_PREFIX):
        raise JobNotFound(f"job {job_id!r} does not exist")
    try:
        return JobRecord.get(job_id, consistent_read=True)
    except DoesNotExist as err:
        raise JobNotFound(
            f"job {job_id!r} does not exist; `jobctl list` shows the recent ones"
        ) from err


def params(job: JobRecord) -> dict:
    """The job's parameters as a dict."""
    return json.loads(job.params_json or "{}")


def claim(job_id: str, *, heartbeat_s: float, runner_id: str | None = None):
    """Move a queued job to running for this runner; the first heartbeat is now."""
    job = get_job(job_id)
    if job.state != "queued":
        raise JobStateConflict(
            f"job {job_id} is {job.state}, not queued; only a queued job can start "
            "(retry it with `jobctl retry` to queue it again)"
        )
    now = _now()
    actions = [
        JobRecord.state.set("running"),
        JobRecord.started_at.set(now),
        JobRecord.heartbeat_at.set(now),
        JobRecord.heartbeat_s.set(heartbeat_s),
        JobRecord.progress.set(0),
        JobRecord.step.set("started"),
        # The runner's code ran this attempt, whatever release queued it.
        JobRecord.release.set(current_release()),
    ]
    if runner_id:
        actions.append(JobRecord.runner_id.set(runner_id))
    _update(
        job,
        actions,
        _same_attempt(job, "queued"),
        f"job {job_id} changed while starting; it was cancelled or started elsewhere",
    )
    logger.info("job %s attempt %s running", job_id, job.attempts)
    return job


def claim_shard(
    job_id: str, index: int, size: int, *, heartbeat_s: float, runner_id: str | None
) -> JobRecord:
    """Join the attempt of an array job as worker `index` of `size`.

    The first worker to start moves the job from queued to running; the others
    find it running and join the same attempt. A worker whose index already
    ended this attempt is refused, so a restarted worker does not run twice.
    """
    if not 0 <= index < size:
        raise JobStateConflict(
            f"array index {index} is outside job {job_id}'s {size} workers"
        )
    job = get_job(job_id)
    if job.state == "queued":
        try:
            return claim(job_id, heartbeat_s=heartbeat_s, runner_id=runner_id)
        except (JobLost, JobStateConflict):
            job = get_job(job_id)  # another worker claimed it first
    if job.state != "running":
        raise JobStateConflict(
            f"array job {job_id} is {job.state}; worker {index} has nothing to join"
        )
    ended = set(job.shards_done or ()) | set(job.shards_failed or ())
    if index in ended:
        raise JobStateConflict(
            f"worker {index} of array job {job_id} already ended attempt "
            f"{int(job.attempts)}"
        )
    logger.info("job %s worker %s/%s running", job_id, index, size)
    return job


def finish_shard(
    job: JobRecord, index: int, size: int, note: str, error: str | None = None
) -> bool:
    """Record worker `index` ended; the last worker to end finishes the job.

    Each worker adds its index to a set in one conditional write; exactly one
    write sees every index present, and that worker records the job's end.
    Returns True when this call finished the job.
    """
    ended = JobRecord.shards_failed if error else JobRecord.shards_done
    actions = [ended.add({index}), JobRecord.shard_notes.add({note[:500]})]
    _update(
        job,
        actions,
        _same_attempt(job, "running"),
        f"array job {job.job_id} attempt {job.attempts} was no longer running "
        f"when worker {index} ended",
    )
    done, failed = set(job.shards_done or ()), set(job.shards_failed or ())
    if len(done | failed) < size:
        return False
    notes = sorted(job.shard_notes or ())
    if failed:
        finish_job(
            job,
            error=f"{len(failed)} of {size} workers failed: {'; '.join(notes)}",
        )
    else:
        finish_job(job, result={"workers": size, "notes": notes})
    return True


def heartbeat(
    job: JobRecord,
    progress: float | None = None,
    step: str | None = None,
    *,
    progress_delta: float | None = None,
) -> None:
    """Say the runner is alive (and how far it got); JobLost if the record moved on.

    `progress` sets the job's progress; `progress_delta` adds to it instead, so
    the workers of an array job can each add their share without a lost update.
    """
    actions = [JobRecord.heartbeat_at.set(_now())]
    if progress is not None:
        actions.append(JobRecord.progress.set(round(min(max(progress, 0.0), 1.0), 4)))
    elif progress_delta:
        actions.append(JobRecord.progress.add(round(progress_delta, 6)))
    if step is not None:
        actions.append(JobRecord.step.set(step[:200]))
    _update(
        job,
        actions,
        _same_attempt(job, "running"),
        f"job {job.job_id} attempt {job.attempts} is no longer running here "
        "(cancelled, or marked failed after missed heartbeats); this runner stops",
    )


def finish_job(
    job: JobRecord,
    result: dict | None = None,
    error: str | None = None,
    *,
    retryable: bool = True,
    result_uri: str | None = None,
) -> None:
    """Mark the job succeeded with `result`, or failed with `error`."""
    lost = f"job {job.job_id} attempt {job.attempts} was no longer running at its end"
    if error is not None:
        _fail(job, error, retryable, _same_attempt(job, "running"), lost)
        return
    actions = [
        JobRecord.state.set("succeeded"),
        JobRecord.finished_at.set(_now()),
        JobRecord.progress.set(1),
        JobRecord.step.set("done"),
        JobRecord.feed.set(DONE),
        JobRecord.error.remove(),
        JobRecord.retry_at.remove(),
    ]
    if result is not None:
        actions.append(JobRecord.result_json.set(json.dumps(result, sort_keys=True)))
    if result_uri is not None:
        actions.append(JobRecord.result_uri.set(result_uri))
    _update(job, actions, _same_attempt(job, "running"), lost)
    _log_outcome(job)


def _fail(job: JobRecord, error: str, retryable: bool, condition, lost: str) -> None:
    now = _now()
    limit = int(job.max_attempts or DEFAULT_MAX_ATTEMPTS)
    retry_at = None
    if retryable and int(job.attempts) < limit:
        retry_at = now + timedelta(seconds=_retry_policy().delay_s(int(job.attempts)))
    actions = [
        JobRecord.state.set("failed"),
        JobRecord.finished_at.set(now),
        JobRecord.error.set(error[:ERROR_LIMIT]),
        JobRecord.retryable.set(retryable),
        JobRecord.feed.set(LIVE if retry_at else DONE),
        JobRecord.retry_at.set(retry_at) if retry_at else JobRecord.retry_at.remove(),
    ]
    _update(job, actions, condition, lost)
    _log_outcome(job)


def record_profile(job: JobRecord, uri: str) -> None:
    """Point the running attempt's record at its stored profile."""
    _update(
        job,
        [JobRecord.profile_uri.set(uri)],
        _same_attempt(job, "running"),
        f"job {job.job_id} moved on before its profile was recorded",
    )


def _log_outcome(job: JobRecord) -> None:
    view = job_view(job)
    logger.info(
        "job %s %s",
        job.job_id,
        job.state,
        extra={
            "job_id": job.job_id,
            "job_type": job.job_type,
            "attempt": int(job.attempts),
            "outcome": job.state,
            "duration_s": view["duration_s"],
            "startup_s": view["startup_s"],
            "started": job.started_at is not None,
            "error": job.error,
        },
    )


def mark_launched(
    job: JobRecord,
    *,
    launcher: str,
    runner_id: str,
    log_uri: str | None,
    start_timeout_s: float,
) -> None:
    """Record where the job runs, and by when it must have started."""
    deadline = _now() + timedelta(seconds=start_timeout_s)
    actions = [
        JobRecord.launcher.set(launcher),
        JobRecord.runner_id.set(runner_id),
        JobRecord.start_deadline.set(deadline),
    ]
    if log_uri:
        actions.append(JobRecord.log_uri.set(log_uri))
    # A fast runner may have claimed the job already: running is fine too.
    _update(
        job,
        actions,
        _same_attempt(job, "queued", "running"),
        f"job {job.job_id} ended before its launch was recorded",
    )


def mark_launch_failed(job: JobRecord, error: str) -> None:
    """A launcher could not start the job: a start-up failure, retried later."""
    _fail(
        job,
        f"launch failed: {error}",
        True,
        _same_attempt(job, "queued"),
        f"job {job.job_id} changed while its launch failed",
    )


def cancel(job_id: str, reason: str = "cancelled by an operator") -> JobRecord:
    """Cancel a queued or running job, or a failed one's pending retry."""
    job = get_job(job_id)
    pending_retry = job.state == "failed" and job.retry_at is not None
    if job.state not in ("queued", "running") and not pending_retry:
        raise JobStateConflict(
            f"job {job_id} is {job.state}: nothing to cancel "
            "(only queued or running jobs, or a pending retry, can be cancelled)"
        )
    actions = [
        JobRecord.state.set("cancelled"),
        JobRecord.finished_at.set(_now()),
        JobRecord.error.set(reason[:ERROR_LIMIT]),
        JobRecord.feed.set(DONE),
        JobRecord.retry_at.remove(),
    ]
    _update(
        job,
        actions,
        _same_attempt(job, job.state),
        f"job {job_id} changed while being cancelled; read it and try again",
    )
    logger.info("job %s cancelled: %s", job_id, reason)
    return job


def _attempt_summary(job: JobRecord) -> dict:
    return {
        "attempt": int(job.attempts),
        "state": job.state,
        "trigger": job.trigger,
        "queued_at": iso(job.queued_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "error": job.error,
        # False: the attempt failed on bad input (never retried, a KPI apart).
        "retryable": job.retryable,
        "launcher": job.launcher,
        "runner_id": job.runner_id,
        "log_uri": job.log_uri,
        "release": job.release,
        "profile_uri": job.profile_uri,
    }


def retry(job_id: str, *, trigger: str = "retry") -> JobRecord:
    """Queue a failed or cancelled job again as its next attempt."""
    job = get_job(job_id)
    if job.state not in ("failed", "cancelled"):
        raise JobStateConflict(
            f"job {job_id} is {job.state}; only failed or cancelled jobs can be retried"
        )
    history = json.loads(job.history_json or "[]") + [_attempt_summary(job)]
    now = _now()
    cleared = (
        JobRecord.started_at,
        JobRecord.finished_at,
        JobRecord.error,
        JobRecord.heartbeat_at,
        JobRecord.heartbeat_s,
        JobRecord.runner_id,
        JobRecord.log_uri,
        JobRecord.launcher,
        JobRecord.start_deadline,
        JobRecord.retry_at,
        JobRecord.retryable,
        JobRecord.step,
        JobRecord.profile_uri,
        JobRecord.shards_done,
        JobRecord.shards_failed,
        JobRecord.shard_notes,
    )
    actions = [
        JobRecord.state.set("queued"),
        JobRecord.attempts.set(int(job.attempts) + 1),
        JobRecord.queued_at.set(now),
        JobRecord.progress.set(0),
        JobRecord.feed.set(LIVE),
        JobRecord.trigger.set(trigger),
        JobRecord.history_json.set(json.dumps(history)),
        *(attribute.remove() for attribute in cleared),
    ]
    _update(
        job,
        actions,
        _same_attempt(job, job.state),
        f"job {job_id} changed while being retried; read it and try again",
    )
    logger.info("job %s queued again as attempt %s", job_id, job.attempts)
    return job


def live_jobs() -> list[JobRecord]:
    """Jobs the sweeper watches: queued, running, or failed with a retry due."""
    return list(JobRecord.by_feed.query(LIVE))


def reap(now: datetime | None = None) -> list[JobRecord]:
    """Fail running jobs whose heartbeat stopped and queued jobs that never started."""
    now = now or _now()
    reaped = []
    for job in live_jobs():
        reason = _death(job, now)
        if reason is None:
            continue
        condition = _same_attempt(job, job.state)
        if job.state == "running" and job.heartbeat_at is not None:
            condition = condition & (JobRecord.heartbeat_at == job.heartbeat_at)
        try:
            _fail(job, reason, True, condition, "")
        except JobLost:
            continue  # it beat us: a heartbeat, a finish or a cancel landed first
        logger.warning("job %s reaped: %s", job.job_id, reason)
        reaped.append(job)
    return reaped


def _death(job: JobRecord, now: datetime) -> str | None:
    """Why `job` is presumed dead at `now`, or None while it looks alive."""
    if job.state == "running":
        if job.heartbeat_s:
            silence = timedelta(seconds=float(job.heartbeat_s) * STALE_HEARTBEATS)
            last = job.heartbeat_at or job.started_at
            if last is not None and now - last > silence:
                return (
                    f"heartbeat stopped: last at {iso(last)}, runner "
                    f"{job.launcher or '?'}:{job.runner_id or '?'}; marked failed by "
                    "the reaper"
                )
        elif job.started_at is not None and now - job.started_at > UNWATCHED_LIMIT:
            return "no end recorded within 6 hours of a run without heartbeats"
    if job.state == "queued" and job.start_deadline is not None:
        if now > job.start_deadline:
            return (
                f"never started: no runner claimed it by {iso(job.start_deadline)} "
                "(a start-up failure)"
            )
    return None


def due_retries(now: datetime | None = None) -> list[JobRecord]:
    """Failed jobs whose automatic retry is due at `now`."""
    now = now or _now()
    return [
        job
        for job in live_jobs()
        if job.state == "failed" and job.retry_at is not None and job.retry_at <= now
    ]


def list_jobs(
    limit: int = 50,
    before: str | None = None,
    job_type: str | None = None,
    state: str | None = None,
    max_pages: int | None = None,
) -> tuple[list[JobRecord], str | None]:
    """Jobs newest first, and the position to continue from (None at the end).

    With `max_pages`, each feed reads at most that many DynamoDB pages: a sparse
    filter then gives a short (even empty) page and a position, rather than one
    call reading the whole table. The page holds only jobs above the position
    both feeds have been read down to, so a walk sees each job once.
    """
    condition = None
    if job_type is not None:
        condition = JobRecord.job_type == job_type
    if state is not None:
        by_state = JobRecord.state == state
        condition = by_state if condition is None else condition & by_state
    range_condition = JobRecord.created_key < before if before else None
    found: list[JobRecord] = []
    floors = []
    for feed in (LIVE, DONE):
        items, floor = _read_feed(
            feed, range_condition, condition, limit + 1, max_pages
        )
        found.extend(items)
        if floor is not None:
            floors.append(floor)
    # Both feeds are read completely down to the higher of their floors.
    boundary = max(floors) if floors else None
    if boundary is not None:
        found = [job for job in found if (job.created_key or "") >= boundary]
    found.sort(key=lambda job: job.created_key or "", reverse=True)
    page = found[:limit]
    if len(found) > limit:
        return page, page[-1].created_key
    return page, boundary


def _read_feed(
    feed: str, range_condition, condition, wanted: int, max_pages: int | None
) -> tuple[list[JobRecord], str | None]:
    """Up to `wanted` jobs of one feed, newest first, and the key read down to.

    The key is None when the feed has nothing more below what was returned.
    """
    page_size = wanted if condition is None else max(wanted, JOB_PAGE_ITEMS)
    results = JobRecord.by_feed.query(
        feed,
        range_condition,
        filter_condition=condition,
        scan_index_forward=False,
        page_size=page_size,
    )
    out: list[JobRecord] = []
    for pages_read, page in enumerate(results.page_iter, start=1):
        for raw in page.get("Items", []):
            out.append(JobRecord.from_raw_data(raw))
            if len(out) == wanted:
                return out, out[-1].created_key
        evaluated = results.page_iter.last_evaluated_key
        if evaluated is None:
            return out, None
        if max_pages is not None and pages_read >= max_pages:
            return out, evaluated["created_key"]["S"]
    return out, None


def recent_jobs(since: datetime) -> list[JobRecord]:
    """Every job created at or after `since`, live or done."""
    start = JobRecord.created_key >= _stamp(since)
    found: list[JobRecord] = []
    for feed in (LIVE, DONE):
        found.extend(JobRecord.by_feed.query(feed, start))
    return found


def iso(moment: datetime | None) -> str | None:
    """An instant as the UTC ISO text every job view uses (None stays None)."""
    return None if moment is None else _stamp(moment)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 3)


def history(job: JobRecord) -> list[dict]:
    """Every attempt of the job, the current one last."""
    return json.loads(job.history_json or "[]") + [_attempt_summary(job)]


def json_safe(value):
    """`value` with every NaN or infinity replaced by None (JSON has neither).

    Records stored before parameters were checked may hold such numbers; they
    must still list and show.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    return value


def job_view(job: JobRecord) -> dict:
    """The job as JSON-safe data, for the API, the CLI and the logs."""
    return json_safe(_view(job))


def _view(job: JobRecord) -> dict:
    return {
        "job_id": job.job_id,
        "job_type": job.job_type,
        "state": job.state,
        "params": params(job),
        "trigger": job.trigger,
        "idempotency_key": job.idempotency_key,
        "attempts": int(job.attempts),
        "max_attempts": int(job.max_attempts or DEFAULT_MAX_ATTEMPTS),
        "progress": float(job.progress or 0),
        "step": job.step,
        "created_at": iso(job.created_at),
        "queued_at": iso(job.queued_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "heartbeat_at": iso(job.heartbeat_at),
        "startup_s": _seconds(job.queued_at, job.started_at),
        "duration_s": _seconds(job.started_at, job.finished_at),
        "error": job.error,
        "retryable": job.retryable,
        "retry_at": iso(job.retry_at),
        "launcher": job.launcher,
        "runner_id": job.runner_id,
        "log_uri": job.log_uri,
        "result": json.loads(job.result_json) if job.result_json else None,
        "result_uri": job.result_uri,
        "release": job.release,
        "profile_uri": job.profile_uri,
        "history": history(job),
    }


def views(jobs: Iterable[JobRecord]) -> list[dict]:
    """`job_view` of each job."""
    return [job_view(job) for job in jobs]


# ------------------------------------------------ simulation runs
# A simulation run is queued by `batch_jobs.simulation.submit` (which also makes
# its run record) and runs like any other job: claimed, heartbeating, finished.


def queue_job(job_type: str, params: dict) -> JobRecord:
    """Queue a job whose parameters another module has checked (a simulation run)."""
    return submit(job_type, params, trigger="cli").job
