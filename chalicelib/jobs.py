"""Job records: every heavy run (a build, for now) leaves one, whatever its end.

States go `queued -> running -> succeeded | failed | cancelled`; the record keeps
the parameters, timings, attempts and a pointer to the result. A job that died
while running stays `running` until it is resumed (a new attempt) or finished.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime

from chalicelib.models import JobRecord

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


def start_job(job_type: str, params: dict) -> JobRecord:
    """Record a job that starts running now."""
    job = JobRecord(
        f"{job_type}-{uuid.uuid4().hex[:12]}",
        job_type=job_type,
        state="running",
        params_json=json.dumps(params, sort_keys=True),
        created_at=_now(),
        started_at=_now(),
    )
    job.save(condition=JobRecord.job_id.does_not_exist())
    logger.debug("job %s started", job.job_id)
    return job


def finish_job(job: JobRecord, result: dict | None = None, error: str | None = None):
    """Mark the job succeeded with `result`, or failed with `error`."""
    actions = [
        JobRecord.state.set("failed" if error else "succeeded"),
        JobRecord.finished_at.set(_now()),
    ]
    if result is not None:
        actions.append(JobRecord.result_json.set(json.dumps(result, sort_keys=True)))
    if error is not None:
        actions.append(JobRecord.error.set(error[:2000]))
    job.update(actions=actions, condition=JobRecord.state == "running")


def queue_job(job_type: str, params: dict) -> JobRecord:
    """Record a job that waits to be run; `attempts` counts the runs begun."""
    job = JobRecord(
        f"{job_type}-{uuid.uuid4().hex[:12]}",
        job_type=job_type,
        state="queued",
        params_json=json.dumps(params, sort_keys=True),
        created_at=_now(),
        attempts=0,
    )
    job.save(condition=JobRecord.job_id.does_not_exist())
    logger.debug("job %s queued", job.job_id)
    return job


def begin_attempt(job: JobRecord) -> None:
    """Mark a queued job, or a running one that died, as running a new attempt."""
    job.update(
        actions=[
            JobRecord.state.set("running"),
            JobRecord.started_at.set(_now()),
            JobRecord.attempts.add(1),
        ],
        condition=JobRecord.state.is_in("queued", "running"),
    )


def cancel_job(job: JobRecord, reason: str) -> None:
    """Mark a queued or running job cancelled, keeping why."""
    job.update(
        actions=[
            JobRecord.state.set("cancelled"),
            JobRecord.finished_at.set(_now()),
            JobRecord.error.set(reason[:2000]),
        ],
        condition=JobRecord.state.is_in("queued", "running"),
    )
