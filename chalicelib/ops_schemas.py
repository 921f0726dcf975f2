"""Request models of the operations routes: bodies, queries and paths.

Their replies are described in `chalicelib.replies`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib import job_params
from chalicelib.errors import BadRequest
from chalicelib.jobs import JOB_ID_PATTERN, MAX_JOB_ID_CHARS
from chalicelib.kpis import DEFAULT_WINDOW_DAYS
from chalicelib.schemas import DEFAULT_LIMIT, Cursor, Query


class _ParameterError(ValueError):
    """A body check that names the parameter at fault (`params.x`)."""

    def __init__(self, parameter: str, message: str) -> None:
        self.parameter = parameter
        super().__init__(message)


class StartJob(BaseModel):
    """What `POST /jobs` starts: a job type, its parameters, an idempotency key."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    job_type: Literal["build", "site", "comparison", "backup", "restore"]
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("params")
    @classmethod
    def _finite(cls, params: dict[str, Any]) -> dict[str, Any]:
        # JSON bodies may carry NaN, Infinity or 1e999; no record can hold them.
        try:
            job_params.require_finite(params)
        except BadRequest as err:
            raise _ParameterError(err.parameter or "params", str(err)) from err
        return params


# Written out for the OpenAPI document; tests check them against chalicelib.jobs.
JobType = Literal["build", "site", "simulation", "comparison", "backup", "restore"]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
MAX_JOBS_PAGE = 100
MAX_KPI_DAYS = 366


class JobsQuery(Query):
    """Query of `GET /jobs`: filters, page size and where the page starts."""

    type: JobType | None = Field(None, description="only jobs of this type")
    state: JobState | None = Field(None, description="only jobs in this state")
    limit: int = Field(
        DEFAULT_LIMIT, ge=1, le=MAX_JOBS_PAGE, description="jobs per page, at most"
    )
    cursor: Cursor | None = None


class KpisQuery(Query):
    """Query of `GET /ops/kpis`: the window, in days back from now."""

    days: int = Field(
        DEFAULT_WINDOW_DAYS,
        ge=1,
        le=MAX_KPI_DAYS,
        description=f"the last this many days (1 to {MAX_KPI_DAYS})",
    )


class JobPath(BaseModel):
    """A job id in the path."""

    model_config = ConfigDict(defer_build=True)

    job_id: str = Field(
        pattern=JOB_ID_PATTERN,
        max_length=MAX_JOB_ID_CHARS,
        description="a job id, like `build-0123456789ab`",
    )
