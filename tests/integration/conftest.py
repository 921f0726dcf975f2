"""Integration fixtures of the job runner: a launcher that starts nothing."""

from __future__ import annotations

import pytest

from chalicelib import jobs, launchers
from chalicelib.launchers import Launch, LaunchFailed
from chalicelib.models import JobRecord


class RecordingLauncher:
    """A launcher that starts nothing; it records each job it was asked to run."""

    name = "recording"

    def __init__(self, fail: bool = False) -> None:
        self.launched: list[str] = []
        self.cancelled: list[str] = []
        self.fail = fail

    def launch(self, job: JobRecord) -> Launch:
        if self.fail:
            raise LaunchFailed("the test launcher refuses")
        self.launched.append(job.job_id)
        return Launch(self.name, f"r-{len(self.launched)}", None, 60.0)

    def cancel(self, job: JobRecord) -> bool:
        self.cancelled.append(job.job_id)
        return True


@pytest.fixture
def launcher(settings):
    """A recording launcher, also the default one the app's handlers use."""
    recording = RecordingLauncher()
    launchers.use(recording)
    yield recording
    launchers.use(None)
    for job in jobs.live_jobs():  # leave nothing for a later sweep to pick up
        jobs.cancel(job.job_id, "test ended")


@pytest.fixture
def dynamodb_requests(monkeypatch) -> list[tuple[str, dict]]:
    """Every DynamoDB request the process sends during a test, still sent.

    For proving what a request reads (which index, how many pages), not for
    changing it: the real connection answers each one.
    """
    from pynamodb.connection.base import Connection

    sent: list[tuple[str, dict]] = []
    real = Connection.dispatch

    def recording(self, operation_name, operation_kwargs):
        sent.append((operation_name, dict(operation_kwargs)))
        return real(self, operation_name, operation_kwargs)

    monkeypatch.setattr(Connection, "dispatch", recording)
    return sent
