"""Operations KPIs from the job records: start-up success, durations, error rate.

Each attempt of a job counts once: an attempt that a runner claimed started up;
one that failed before any runner claimed it (a launch error, or no claim before
its deadline) did not. An attempt that failed on bad input (recorded
`retryable: false`: bad parameters, an unknown build, a bad source file) is
counted apart as `bad_input`, not as an error nor as a start-up failure: the
code did what it should (attempts recorded before the history kept `retryable`
still count as errors). Durations are those of succeeded attempts. Per release,
an attempt counts for the release of the code that ran it (the release that
queued it, when no runner ever claimed it), so a new release's figures can be
set beside the previous one's.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from chalicelib import jobs
from chalicelib.models import JobRecord

DEFAULT_WINDOW_DAYS = 30


def percentile(values: list[float], pct: float) -> float | None:
    """The nearest-rank percentile of `values` (None when there are none)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _parse(stamp: str | None) -> datetime | None:
    if stamp is None:
        return None
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def _ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


class _Tally:
    """Counts for one job type (or all of them)."""

    def __init__(self) -> None:
        self.jobs = 0
        self.states: dict[str, int] = defaultdict(int)
        self.attempts = 0
        self.started = 0
        self.decided = 0
        self.succeeded = 0
        self.failed = 0
        self.bad_input = 0
        self.durations: list[float] = []

    def add_job(self, job: JobRecord, attempts: list[dict] | None = None) -> None:
        """Count the job once, and its attempts (all of them unless given)."""
        self.jobs += 1
        self.states[job.state] += 1
        for attempt in jobs.history(job) if attempts is None else attempts:
            self.add_attempt(attempt)

    def add_attempt(self, attempt: dict) -> None:
        self.attempts += 1
        started = attempt["started_at"] is not None
        if attempt["state"] == "failed" and attempt.get("retryable") is False:
            self.bad_input += 1
            self.decided += started
            self.started += started
            return
        if started or attempt["state"] == "failed":
            self.decided += 1
            self.started += started
        if attempt["state"] == "succeeded":
            self.succeeded += 1
            begin, end = _parse(attempt["started_at"]), _parse(attempt["finished_at"])
            if begin is not None and end is not None:
                self.durations.append((end - begin).total_seconds())
        elif attempt["state"] == "failed":
            self.failed += 1

    def view(self) -> dict:
        p50, p95 = percentile(self.durations, 50), percentile(self.durations, 95)
        return {
            "jobs": self.jobs,
            "states": dict(sorted(self.states.items())),
            "attempts": self.attempts,
            "bad_input": self.bad_input,
            "startup_success_rate": _ratio(self.started, self.decided),
            "error_rate": _ratio(self.failed, self.succeeded + self.failed),
            "duration_s": {
                "p50": None if p50 is None else round(p50, 3),
                "p95": None if p95 is None else round(p95, 3),
                "samples": len(self.durations),
            },
        }


def _attempts_by_release(job: JobRecord) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = defaultdict(list)
    for attempt in jobs.history(job):
        release = attempt.get("release") or job.release or "unknown"
        grouped[release].append(attempt)
    return grouped


def summarise(records: Iterable[JobRecord]) -> dict:
    """KPIs over `records`: in total, per job type, and per release and job type."""
    total = _Tally()
    by_type: dict[str, _Tally] = defaultdict(_Tally)
    by_release: dict[str, dict[str, _Tally]] = defaultdict(lambda: defaultdict(_Tally))
    for job in records:
        total.add_job(job)
        by_type[job.job_type].add_job(job)
        for release, attempts in _attempts_by_release(job).items():
            by_release[release]["all"].add_job(job, attempts)
            by_release[release][job.job_type].add_job(job, attempts)
    return {
        "all": total.view(),
        "by_type": {name: tally.view() for name, tally in sorted(by_type.items())},
        "by_release": {
            release: {name: tally.view() for name, tally in sorted(tallies.items())}
            for release, tallies in sorted(by_release.items())
        },
    }


def recent(days: int = DEFAULT_WINDOW_DAYS, now: datetime | None = None) -> dict:
    """KPIs of the jobs created in the last `days` days."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    report = summarise(jobs.recent_jobs(since))
    return {"window_days": days, "since": jobs.iso(since), **report}
