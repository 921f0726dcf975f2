"""Request models of the operations routes: bodies, queries and paths.

Their replies are described in `chalicelib.replies`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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
