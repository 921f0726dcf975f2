"""The job runner: queue and launch, cancel, retry, and sweep up dead runners.

Every path that starts work goes through `start` or `retry`, so a job is always
recorded before its runner exists, and a launch that fails is recorded as a
failed start-up instead of vanishing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib import job_params, jobs, simulations
from chalicelib.errors import Conflict
from chalicelib.launchers import Launcher, LaunchFailed
from chalicelib.models import JobRecord

logger = logging.getLogger(__name__)


def start(
    job_type: str,
    params: dict,
    launcher: Launcher,
    *,
    idempotency_key: str | None = None,
    trigger: str = "cli",
    max_attempts: int = jobs.DEFAULT_MAX_ATTEMPTS,
) -> jobs.Submission:
    """Queue a job and launch its runner; a repeated key returns the first job.

    Bad parameters, or builds and backups that do not exist, are refused here,
    before anything is recorded: such a job could only fail.
    """
    job_params.validate(job_type, params)
    job_params.check_targets(job_type, params)
    submission = jobs.submit(
        job_type,
        params,
        idempotency_key=idempotency_key,
        trigger=trigger,
        max_attempts=max_attempts,
    )
    if submission.created:
        launch(submission.job, launcher)
    return submission


def launch(job: JobRecord, launcher: Launcher) -> JobRecord:
    """Start a runner for a queued job and record where it runs."""
    try:
        where = launcher.launch(job)
    except LaunchFailed as err:
        logger.error("job %s could not be launched: %s", job.job_id, err)
        jobs.mark_launch_failed(job, str(err))
        return job
    except Exception as err:
        # Record it, so the job does not sit queued for ever; then let it surface.
        jobs.mark_launch_failed(job, f"{type(err).__name__}: {err}")
        raise
    jobs.mark_launched(
        job,
        launcher=where.launcher,
        runner_id=where.runner_id,
        log_uri=where.log_uri,
        start_timeout_s=where.start_timeout_s,
    )
    return job


def retry(job_id: str, launcher: Launcher, *, trigger: str = "retry") -> JobRecord:
    """Queue a failed or cancelled job as its next attempt and launch it now."""
    return launch(jobs.retry(job_id, trigger=trigger), launcher)


def cancel(job_id: str, launcher: Launcher) -> JobRecord:
    """Cancel the job, then stop its runner where this launcher can reach it.

    The record says cancelled first: a runner that is not stopped here sees it at
    its next heartbeat and stops itself.
    """
    job = jobs.cancel(job_id)
    if job.job_type == "simulation":
        simulations.record_job_end(job_id, "cancelled", job.error)
    if job.launcher == launcher.name:
        try:
            launcher.cancel(job)
        except LaunchFailed as err:
            logger.warning("job %s cancelled, runner not stopped: %s", job_id, err)
    return job


@dataclass
class SweepReport:
    """What one sweep did."""

    reaped: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)


def sweep(launcher: Launcher, now: datetime | None = None) -> SweepReport:
    """Fail jobs whose runner died, then relaunch those whose retry is due."""
    report = SweepReport()
    reaped = jobs.reap(now)
    for job in reaped:
        if job.job_type == "simulation":
            simulations.record_job_end(job.job_id, "failed", job.error)
    report.reaped = [job.job_id for job in reaped]
    for job in jobs.due_retries(now):
        try:
            retry(job.job_id, launcher, trigger="auto-retry")
        except Conflict:
            continue  # someone else retried or cancelled it meanwhile
        report.retried.append(job.job_id)
    if report.reaped or report.retried:
        logger.info("sweep: reaped %s, retried %s", report.reaped, report.retried)
    return report
