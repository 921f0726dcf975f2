"""Operations routes (a Blueprint): jobs, KPIs, the active builds, job control.

The reads feed the status dashboard and need no key: without one a job is shown
without its parameters, idempotency key, runner ids and log and result pointers
(what an outsider should not learn); a `viewer` key sees whole records. Starting,
cancelling and retrying jobs needs an `operator` key (`chalicelib.apikeys`).
Job answers change by the second, so none is cached.
"""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib import (
    apikeys,
    builds,
    cursors,
    jobs,
    kpis,
    launchers,
    openapi,
    ops_schemas,
    runner,
    schemas,
)
from chalicelib.api import (
    handles_errors,
    json_response,
    parse_body,
    parse_path,
    parse_query,
)
from chalicelib.errors import BadRequest
from chalicelib.models import BuildRecord, JobRecord

blueprint = Blueprint(__name__)
NO_STORE = "no-store"


# What a request without a key does not see of a job.
PRIVATE_FIELDS = ("params", "idempotency_key", "runner_id", "log_uri", "result_uri")
PRIVATE_ATTEMPT_FIELDS = ("runner_id", "log_uri")
OPS_TAG = ("operations",)
NO_CACHE = "never cached"


def _document(method: str, path: str, operation_id: str, summary: str, **more):
    openapi.register(
        openapi.Operation(
            method=method,
            path=path,
            operation_id=operation_id,
            summary=summary,
            tags=OPS_TAG,
            cache=NO_CACHE,
            **more,
        )
    )


def _headers() -> dict:
    return blueprint.current_request.headers or {}


def _view(job: JobRecord, role: str | None) -> dict:
    """The whole job for a key holder, the public part for everyone else."""
    view = jobs.job_view(job)
    if role is not None:
        return view
    for name in PRIVATE_FIELDS:
        view.pop(name, None)
    for attempt in view["history"]:
        for name in PRIVATE_ATTEMPT_FIELDS:
            attempt.pop(name, None)
    return view


def _query(model):
    return parse_query(model, blueprint.current_request.query_params)


_document(
    "get", "/jobs", "listJobs", "Jobs, newest first",
    response="JobPage", query=ops_schemas.JobsQuery,
    errors=(400, 401, 405), extra=openapi.OPTIONAL_KEY,
)  # fmt: skip


@blueprint.route("/jobs")
@handles_errors
def list_jobs() -> Response:
    """Jobs newest first: `type`, `state`, `limit` and `cursor` narrow the page."""
    query = _query(ops_schemas.JobsQuery)
    scope = f"jobs|{query.type}|{query.state}"
    before = None
    if query.cursor is not None:
        before = cursors.decode(query.cursor, scope).get("before")
        if not isinstance(before, str):
            raise BadRequest("cursor is not valid for this query", "cursor")
    page, after = jobs.list_jobs(
        query.limit, before, query.type, query.state, max_pages=jobs.MAX_JOB_PAGES
    )
    cursor = cursors.encode({"before": after}, scope) if after else None
    role = apikeys.role_of(_headers())
    body = {"jobs": [_view(job, role) for job in page], "next_cursor": cursor}
    return json_response(body, cache=NO_STORE)


_document(
    "get", "/jobs/{job_id}", "getJob", "One job with every attempt",
    response="JobView", path_model=ops_schemas.JobPath, query=schemas.EmptyQuery,
    errors=(400, 401, 404, 405), extra=openapi.OPTIONAL_KEY,
)  # fmt: skip


@blueprint.route("/jobs/{job_id}")
@handles_errors
def get_job(job_id: str) -> Response:
    """One job with every attempt."""
    parse_path(ops_schemas.JobPath, job_id=job_id)
    _query(schemas.EmptyQuery)
    role = apikeys.role_of(_headers())
    return json_response(_view(jobs.get_job(job_id), role), cache=NO_STORE)


_document(
    "post", "/jobs", "startJob",
    "Queue a job and launch its runner (operator); a repeated idempotency key "
    "returns the first job",
    response="JobStarted", body=ops_schemas.StartJob,
    errors=(400, 401, 403, 404, 405, 413, 415), extra=openapi.REQUIRES_KEY,
)  # fmt: skip


@blueprint.route("/jobs", methods=["POST"], content_types=["*/*"])
@handles_errors
def start_job() -> Response:
    """Start a job of a generic type (simulations start through `jobctl sim`)."""
    apikeys.require(_headers(), "operator")
    wanted = parse_body(ops_schemas.StartJob, blueprint.current_request)
    submission = runner.start(
        wanted.job_type,
        wanted.params,
        launchers.default_launcher(),
        idempotency_key=wanted.idempotency_key,
        trigger="api",
    )
    body = {"job": _view(submission.job, "operator"), "created": submission.created}
    return json_response(body, cache=NO_STORE)


_document(
    "post", "/jobs/{job_id}/cancel", "cancelJob",
    "Cancel a queued or running job, or a pending retry (operator)",
    response="JobView", path_model=ops_schemas.JobPath,
    errors=(400, 401, 403, 404, 405, 409), extra=openapi.REQUIRES_KEY,
)  # fmt: skip


@blueprint.route("/jobs/{job_id}/cancel", methods=["POST"], content_types=["*/*"])
@handles_errors
def cancel_job(job_id: str) -> Response:
    """Cancel the job and stop its runner."""
    apikeys.require(_headers(), "operator")
    parse_path(ops_schemas.JobPath, job_id=job_id)
    job = runner.cancel(job_id, launchers.default_launcher())
    return json_response(_view(job, "operator"), cache=NO_STORE)


_document(
    "post", "/jobs/{job_id}/retry", "retryJob",
    "Queue a failed or cancelled job again as its next attempt (operator)",
    response="JobView", path_model=ops_schemas.JobPath,
    errors=(400, 401, 403, 404, 405, 409), extra=openapi.REQUIRES_KEY,
)  # fmt: skip


@blueprint.route("/jobs/{job_id}/retry", methods=["POST"], content_types=["*/*"])
@handles_errors
def retry_job(job_id: str) -> Response:
    """Queue the job's next attempt and launch it."""
    apikeys.require(_headers(), "operator")
    parse_path(ops_schemas.JobPath, job_id=job_id)
    job = runner.retry(job_id, launchers.default_launcher(), trigger="api")
    return json_response(_view(job, "operator"), cache=NO_STORE)


_document(
    "get", "/ops/kpis", "getKpis", "Job KPIs per type over the last `days`",
    response="Kpis", query=ops_schemas.KpisQuery, errors=(400, 405),
)  # fmt: skip


@blueprint.route("/ops/kpis")
@handles_errors
def get_kpis() -> Response:
    """Start-up success, error rate and duration p50/p95 per job type."""
    query = _query(ops_schemas.KpisQuery)
    return json_response(kpis.recent(query.days), cache=NO_STORE)


def _build_summary(build_id: str | None) -> dict | None:
    if build_id is None:
        return None
    record = builds.find_build(build_id)
    if record is None:
        return {"build_id": build_id, "state": "missing"}
    return _summary(record)


def _summary(record: BuildRecord) -> dict:
    return {
        "build_id": record.build_id,
        "state": record.state,
        "created_at": jobs.iso(record.created_at),
        "updated_at": jobs.iso(record.updated_at),
        "pipeline_version": record.pipeline_version,
        "model_version": record.model_version,
        "counts": json.loads(record.counts_json or "{}"),
    }


_document(
    "get", "/ops/builds", "getOpsBuilds", "The active build and the previous one",
    response="OpsBuilds", query=schemas.EmptyQuery, errors=(400, 405),
)  # fmt: skip


@blueprint.route("/ops/builds")
@handles_errors
def active_builds() -> Response:
    """The active build and the previous one (the rollback target)."""
    _query(schemas.EmptyQuery)
    pointer = builds.get_pointer()
    body = {
        "active": _build_summary(pointer.active_build_id if pointer else None),
        "previous": _build_summary(pointer.previous_build_id if pointer else None),
        "switched_at": jobs.iso(pointer.switched_at) if pointer else None,
    }
    return json_response(body, cache=NO_STORE)
