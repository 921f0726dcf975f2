"""Request and response models of the operations routes, for validation and docs.

Job views are wide and grow with the job runner, so the models name the fields
clients rely on and allow the rest (`schemas.Response` permits extra fields).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.schemas import Response

JOB_STATES = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class JobAttempt(Response):
    """One attempt of a job."""

    attempt: int
    state: JOB_STATES
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None


class JobView(Response):
    """A job with every attempt. Without an API key the answer leaves out the
    parameters, idempotency key, runner ids and log and result pointers."""

    job_id: str
    job_type: str
    state: JOB_STATES
    progress: float
    step: str | None = None
    attempts: int
    error: str | None = None
    result: dict[str, Any] | None = None
    history: list[JobAttempt]
    params: dict[str, Any] | None = Field(None, description="only with an API key")


class JobPage(Response):
    """A page of jobs, newest first."""

    jobs: list[JobView]
    next_cursor: str | None = None


class JobStarted(Response):
    """The job `POST /jobs` started, or the one its idempotency key names."""

    job: JobView
    created: bool


class Kpis(Response):
    """Start-up success rate, error rate and duration p50/p95 per job type."""

    by_type: dict[str, Any]


class OpsBuilds(Response):
    """The active build and the previous one."""

    active: dict[str, Any] | None = None
    previous: dict[str, Any] | None = None
    switched_at: str | None = None


class StartJob(BaseModel):
    """What `POST /jobs` starts: a job type, its parameters, an idempotency key."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    job_type: Literal["build", "site", "comparison", "backup", "restore"]
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)


class JobsQuery(BaseModel):
    """Filters of `GET /jobs`."""

    model_config = ConfigDict(defer_build=True)

    type: str | None = None
    state: str | None = None
    limit: int | None = Field(None, ge=1, le=100)
    cursor: str | None = None


class KpisQuery(BaseModel):
    """The window of `GET /ops/kpis`."""

    model_config = ConfigDict(defer_build=True)

    days: int | None = Field(None, ge=1, le=366)


class JobPath(BaseModel):
    """A job id in the path."""

    model_config = ConfigDict(defer_build=True)

    job_id: str
