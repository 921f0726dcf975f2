"""Progress bars for jobs: one bar per job, polled from the job records."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TextIO

from tqdm import tqdm

from chalicelib import jobs
from chalicelib.models import JobRecord

BAR_FORMAT = "{desc:<22} {bar} {percentage:3.0f}%{postfix}"


def _label(job: JobRecord) -> str:
    step = f" {job.step}" if job.step and job.state == "running" else ""
    return f"{job.state} (attempt {int(job.attempts)}){step}"


def follow(
    job_ids: Sequence[str],
    *,
    interval_s: float = 1.0,
    timeout_s: float | None = None,
    stream: TextIO | None = None,
    on_poll: Callable[[], object] | None = None,
) -> dict[str, JobRecord]:
    """Show a bar per job until every one ends (or `timeout_s` passes).

    Every job is read once before any bar is drawn, so an unknown or malformed
    id fails with nothing printed before its error.
    """
    latest = {job_id: jobs.get_job(job_id) for job_id in job_ids}
    bars = {
        job_id: tqdm(
            total=100,
            desc=job_id,
            position=index,
            bar_format=BAR_FORMAT,
            file=stream,
            leave=True,
        )
        for index, job_id in enumerate(job_ids)
    }
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    try:
        while True:
            if on_poll is not None:
                on_poll()
            for job_id, bar in bars.items():
                job = latest[job_id] = jobs.get_job(job_id)
                bar.n = round(float(job.progress or 0) * 100)
                bar.set_postfix_str(_label(job), refresh=False)
                bar.refresh()
            if all(job.state in jobs.TERMINAL for job in latest.values()):
                return latest
            if deadline is not None and time.monotonic() > deadline:
                return latest
            time.sleep(interval_s)
    finally:
        for bar in bars.values():
            bar.close()
