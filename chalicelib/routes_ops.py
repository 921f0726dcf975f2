"""Operations read routes (a Blueprint): jobs, KPIs, and the active builds.

They feed the status dashboard and scripts. Job answers change by the second,
so none is cached.
"""

from __future__ import annotations

import json

from chalice import Blueprint, Response

from chalicelib import builds, cursors, jobs, kpis, params
from chalicelib.api import handles_errors, json_response
from chalicelib.errors import BadRequest
from chalicelib.models import BuildRecord

blueprint = Blueprint(__name__)
MAX_JOBS = 100
NO_STORE = "no-store"


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None or value in allowed:
        return value
    raise BadRequest(f"{name} must be one of {', '.join(allowed)}", name)


@blueprint.route("/jobs")
@handles_errors
def list_jobs() -> Response:
    """Jobs newest first: `type`, `state`, `limit` and `cursor` narrow the page."""
    query = blueprint.current_request.query_params or {}
    job_type = _choice("type", query.get("type"), jobs.JOB_TYPES)
    state = _choice("state", query.get("state"), jobs.STATES)
    limit = params.limit(query.get("limit"), MAX_JOBS)
    scope = f"jobs|{job_type}|{state}"
    before = None
    if query.get("cursor"):
        before = cursors.decode(query["cursor"], scope).get("before")
    page, after = jobs.list_jobs(limit, before, job_type, state)
    cursor = cursors.encode({"before": after}, scope) if after else None
    body = {"jobs": jobs.views(page), "next_cursor": cursor}
    return json_response(body, cache=NO_STORE)


@blueprint.route("/jobs/{job_id}")
@handles_errors
def get_job(job_id: str) -> Response:
    """One job with every attempt."""
    return json_response(jobs.job_view(jobs.get_job(job_id)), cache=NO_STORE)


@blueprint.route("/ops/kpis")
@handles_errors
def get_kpis() -> Response:
    """Start-up success, error rate and duration p50/p95 per job type."""
    query = blueprint.current_request.query_params or {}
    days = query.get("days", str(kpis.DEFAULT_WINDOW_DAYS))
    if not days.isdigit() or not 1 <= int(days) <= 366:
        raise BadRequest("days must be a whole number from 1 to 366", "days")
    return json_response(kpis.recent(int(days)), cache=NO_STORE)


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


@blueprint.route("/ops/builds")
@handles_errors
def active_builds() -> Response:
    """The active build and the previous one (the rollback target)."""
    pointer = builds.get_pointer()
    body = {
        "active": _build_summary(pointer.active_build_id if pointer else None),
        "previous": _build_summary(pointer.previous_build_id if pointer else None),
        "switched_at": jobs.iso(pointer.switched_at) if pointer else None,
    }
    return json_response(body, cache=NO_STORE)
