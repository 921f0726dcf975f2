"""Local Bubble's HTTP API: thin routes over `chalicelib`.

Each route parses its input, calls one domain function and shapes the reply.
Settings are validated here, once, before the first request.
"""

from __future__ import annotations

import json
import os

from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent

from chalicelib import (
    builds,
    launchers,
    logs,
    models,
    params,
    queries,
    routes_ops,
    runner,
    tracing,
    triggers,
)
from chalicelib.api import IMMUTABLE, SHORT, handles_errors, json_response
from chalicelib.settings import get_settings

SETTINGS = get_settings()
tracing.configure(SETTINGS)
models.bind(SETTINGS)

app = Chalice(app_name="local-bubble")
app.api.cors = True


def _cache_for(build_ref: str) -> str:
    # Build-scoped answers never change; anything named through `active` may.
    return SHORT if build_ref == "active" else IMMUTABLE


def _build_view(record) -> dict:
    return {
        "build_id": record.build_id,
        "state": record.state,
        "created_at": record.created_at.isoformat(),
        "pipeline_version": record.pipeline_version,
        "model_version": record.model_version,
        "settings": json.loads(record.settings_json),
        "sources": json.loads(record.sources_json),
        "counts": json.loads(record.counts_json or "{}"),
        "artifacts": json.loads(record.artifacts_json or "{}"),
        "error": record.error,
    }


@app.route("/health")
@handles_errors
def health():
    pointer = builds.get_pointer()
    return json_response(
        {
            "status": "ok",
            "stage": SETTINGS.stage,
            "active_build_id": pointer.active_build_id if pointer else None,
        },
        cache="no-store",
    )


@app.route("/builds/{build_ref}")
@handles_errors
def get_build(build_ref):
    build_id = builds.resolve_build_id(build_ref)
    record = builds.get_build(build_id)
    # A build's record changes until it is published; only then is it immutable.
    cache = _cache_for(build_ref) if record.state == "published" else SHORT
    return json_response(_build_view(record), cache=cache)


@app.route("/builds/{build_ref}/systems/{system_id}")
@handles_errors
def get_system(build_ref, system_id):
    build_id = builds.resolve_build_id(build_ref)
    system = queries.get_system(build_id, system_id)
    return json_response(system, cache=_cache_for(build_ref))


@app.route("/builds/{build_ref}/systems")
@handles_errors
def near_systems(build_ref):
    query = app.current_request.query_params or {}
    centre = params.point("near", query.get("near"))
    radius = params.positive("radius", query.get("radius"))
    limit = params.limit(query.get("limit"), queries.MAX_LIMIT)
    build_id = builds.resolve_build_id(build_ref)
    page = queries.near(build_id, centre, radius, limit, query.get("cursor"))
    return json_response(page, cache=_cache_for(build_ref))


@app.route("/builds/{build_ref}/search")
@handles_errors
def search(build_ref):
    query = app.current_request.query_params or {}
    text = params.text("q", query.get("q"))
    limit = params.limit(query.get("limit"), 100)
    build_id = builds.resolve_build_id(build_ref)
    page = queries.search(build_id, text, limit, query.get("cursor"))
    return json_response(page, cache=_cache_for(build_ref))


# --- Operations (issue 7): the ops routes and the trigger handlers -----------
# Schedules and source events run as their own Lambda functions in AWS; locally
# `jobctl` builds the same events and calls these same handlers.

app.register_blueprint(routes_ops.blueprint)
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    logs.configure("local-bubble")

SOURCE_EVENTS = {
    "source": [triggers.S3_EVENT_SOURCE],
    "detail-type": [triggers.OBJECT_CREATED],
    "detail": {
        "bucket": {"name": [SETTINGS.sources_bucket]},
        "object": {"key": [{"prefix": triggers.INCOMING_PREFIX}]},
    },
}


def _request_id(event: CloudWatchEvent) -> str | None:
    return getattr(event.context, "aws_request_id", None)


@app.on_cw_event(SOURCE_EVENTS, name="source_object_created")
def source_object_created(event: CloudWatchEvent) -> dict:
    """A new file under `incoming/<role>/` in the sources bucket: build once."""
    with logs.bound(request_id=_request_id(event), event_id=event.event_id):
        obj = triggers.source_object(event.detail)
        submission = triggers.on_source_created(
            obj, SETTINGS.sources_bucket, launchers.default_launcher()
        )
        if submission is None:
            return {"job_id": None, "created": False}
        return {"job_id": submission.job.job_id, "created": submission.created}


@app.schedule(Cron(0, 3, 1, "*", "?", "*"), name="monthly_refresh")
def monthly_refresh(event: CloudWatchEvent) -> dict:
    """On the first of each month at 03:00 UTC: rebuild from the newest sources."""
    with logs.bound(request_id=_request_id(event), event_id=event.event_id):
        when = triggers.parse_event_time(event.time)
        submission = triggers.on_refresh(when, launchers.default_launcher())
        return {"job_id": submission.job.job_id, "created": submission.created}


@app.schedule(Rate(5, unit=Rate.MINUTES), name="sweep_jobs")
def sweep_jobs(event: CloudWatchEvent) -> dict:
    """Every five minutes: fail jobs whose runner died, relaunch due retries."""
    with logs.bound(request_id=_request_id(event), event_id=event.event_id):
        report = runner.sweep(launchers.default_launcher())
        return {"reaped": report.reaped, "retried": report.retried}
