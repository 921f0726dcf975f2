"""Local Bubble's HTTP API: thin routes over `chalicelib`.

Each route validates its input against `chalicelib.schemas`, calls one domain
function and shapes the reply; `chalicelib.openapi` documents every route from
the same models. Settings are validated here, once, before the first request.
"""

from __future__ import annotations

import os

from chalice import Chalice, Cron, Rate
from chalice.app import CloudWatchEvent

from chalicelib import (
    builds,
    launchers,
    logs,
    models,
    openapi,
    queries,
    reads,
    reports,
    routes_ops,
    runner,
    schemas,
    tracing,
    triggers,
)
from chalicelib.api import (
    CORS,
    IMMUTABLE,
    NO_STORE,
    SHORT,
    answer_other_methods,
    http_middleware,
    json_response,
    parse_path,
    parse_query,
    public_route,
)
from chalicelib.routes_health import health_routes
from chalicelib.routes_sim import sim_routes
from chalicelib.settings import get_settings

SETTINGS = get_settings()
tracing.configure(SETTINGS)
models.bind(SETTINGS)

app = Chalice(app_name="local-bubble")
app.api.cors = CORS
app.register_middleware(http_middleware, "http")
app.register_blueprint(sim_routes)
app.register_blueprint(health_routes)

BUILD_ERRORS = (400, 404, 405)
# Reads of a build's world: 409 when the build is not published.
WORLD_ERRORS = (400, 404, 405, 409)
EXPENSIVE_ERRORS = (400, 404, 405, 409, 429)


def _query(model):
    return parse_query(model, app.current_request.query_params)


def _if_none_match() -> str | None:
    return (app.current_request.headers or {}).get("if-none-match")


def _client() -> str | None:
    identity = (app.current_request.context or {}).get("identity") or {}
    return identity.get("sourceIp")


@public_route(
    app,
    "/health",
    operation_id="health",
    summary="Liveness, stage and the active build",
    response="Health",
    query=schemas.EmptyQuery,
    errors=(400, 405),
    cache="not cached",
)
def health():
    _query(schemas.EmptyQuery)
    pointer = builds.get_pointer()
    return json_response(
        {
            "status": "ok",
            "stage": SETTINGS.stage,
            "active_build_id": pointer.active_build_id if pointer else None,
        },
        cache=NO_STORE,
    )


@public_route(
    app,
    "/openapi.json",
    operation_id="openapi",
    summary="This document",
    response="OpenApiDocument",
    query=schemas.EmptyQuery,
    errors=(400, 405),
    cache="5 minutes",
)
def openapi_document():
    _query(schemas.EmptyQuery)
    return json_response(openapi.document(), cache="public, max-age=300")


@public_route(
    app,
    "/builds",
    operation_id="listBuilds",
    summary="Builds, newest first",
    response="BuildPage",
    query=schemas.BuildListQuery,
    errors=(400, 405),
    cache="30 s",
)
def list_builds():
    query = _query(schemas.BuildListQuery)
    page = queries.list_builds(query.state, query.limit, query.cursor)
    return json_response(page.as_dict(), cache=SHORT)


@public_route(
    app,
    "/builds/{build_ref}",
    operation_id="getBuild",
    summary="One build's record; `active` names the active build",
    response="Build",
    query=schemas.EmptyQuery,
    path_model=schemas.BuildPath,
    errors=BUILD_ERRORS,
)
def get_build(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    _query(schemas.EmptyQuery)
    build = reads.resolve(build_ref)
    return json_response(queries.build_view(build.record), cache=build.cache_control)


@public_route(
    app,
    "/builds/{build_ref}/systems",
    operation_id="listSystems",
    summary="Systems of a build: all by id, near a point, in a box or in a sector",
    response="SystemPage",
    query=schemas.SystemListQuery,
    path_model=schemas.BuildPath,
    errors=EXPENSIVE_ERRORS,
)
def list_systems(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    q = _query(schemas.SystemListQuery)
    build = reads.resolve_published(build_ref)
    kind = "near" if q.near is not None else "box" if q.box is not None else None
    found = reads.answer(
        build,
        ("systems", q),
        lambda: queries.systems(build.build_id, q).as_dict(),
        kind=kind,
        client=_client(),
        if_none_match=_if_none_match(),
    )
    return reads.respond(found, build.cache_control)


@public_route(
    app,
    "/builds/{build_ref}/systems/{system_id}",
    operation_id="getSystem",
    summary="One system with its planets",
    response="System",
    query=schemas.EmptyQuery,
    path_model=schemas.SystemPath,
    errors=WORLD_ERRORS,
)
def get_system(build_ref, system_id):
    parse_path(schemas.SystemPath, build_ref=build_ref, system_id=system_id)
    _query(schemas.EmptyQuery)
    build = reads.resolve_published(build_ref)
    system = queries.get_system(build.build_id, system_id)
    return json_response(system, cache=build.cache_control)


@public_route(
    app,
    "/builds/{build_ref}/systems/{system_id}/planets",
    operation_id="listPlanets",
    summary="A system's planets, filtered by known, inferred and habitable zone",
    response="PlanetPage",
    query=schemas.PlanetListQuery,
    path_model=schemas.SystemPath,
    errors=WORLD_ERRORS,
)
def list_planets(build_ref, system_id):
    parse_path(schemas.SystemPath, build_ref=build_ref, system_id=system_id)
    q = _query(schemas.PlanetListQuery)
    build = reads.resolve_published(build_ref)
    flags = {"known": q.known, "inferred": q.inferred, "in_hz": q.in_hz}
    page = queries.list_planets(build.build_id, system_id, flags, q.limit, q.cursor)
    return json_response(page.as_dict(system_id=system_id), cache=build.cache_control)


@public_route(
    app,
    "/builds/{build_ref}/search",
    operation_id="search",
    summary="Systems by any name or designation (prefixes of whole words)",
    response="SearchPage",
    query=schemas.SearchQuery,
    path_model=schemas.BuildPath,
    errors=EXPENSIVE_ERRORS,
)
def search(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    q = _query(schemas.SearchQuery)
    build = reads.resolve_published(build_ref)
    found = reads.answer(
        build,
        ("search", q),
        lambda: queries.search(build.build_id, q.q, q.limit, q.cursor).as_dict(),
        kind="search",
        client=_client(),
        if_none_match=_if_none_match(),
    )
    return reads.respond(found, build.cache_control)


@public_route(
    app,
    "/builds/{build_ref}/quality",
    operation_id="getQualityReport",
    summary="A build's quality report: what the pipeline counted, kept and dropped",
    response="QualityReport",
    query=schemas.EmptyQuery,
    path_model=schemas.BuildPath,
    errors=BUILD_ERRORS,
)
def get_quality_report(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    _query(schemas.EmptyQuery)
    build = reads.resolve(build_ref)
    found = reads.answer(
        build,
        ("quality",),
        lambda: {
            "build_id": build.build_id,
            "report": reports.quality_report(build.build_id),
        },
        if_none_match=_if_none_match(),
    )
    return reads.respond(found, build.cache_control)


@public_route(
    app,
    "/builds/{build_ref}/comparisons",
    operation_id="listComparisons",
    summary="Comparisons in which a build is the old or the new side",
    response="ComparisonPage",
    query=schemas.ComparisonListQuery,
    path_model=schemas.BuildPath,
    errors=BUILD_ERRORS,
    cache="30 s (a later build adds a comparison)",
)
def list_comparisons(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    q = _query(schemas.ComparisonListQuery)
    build = reads.resolve(build_ref)
    page = reports.list_comparisons(build.build_id, q.limit, q.cursor)
    # Not immutable: a build published later is compared with this one.
    return json_response(page.as_dict(), cache=SHORT)


@public_route(
    app,
    "/comparisons/{old_id}/{new_id}",
    operation_id="getComparison",
    summary="The report comparing one build with the next",
    response="ComparisonReport",
    query=schemas.EmptyQuery,
    path_model=schemas.ComparisonPath,
    errors=BUILD_ERRORS,
    cache="immutable",
)
def get_comparison(old_id, new_id):
    parse_path(schemas.ComparisonPath, old_id=old_id, new_id=new_id)
    _query(schemas.EmptyQuery)
    key = ("comparison", old_id, new_id)
    body = reads.ANSWERS.get(key)
    if body is None:
        body = reports.comparison_report(old_id, new_id)
        reads.ANSWERS.put(key, body, size=reads.size_of(body))
    return json_response(body, cache=IMMUTABLE)


# --- Operations (issue 7): the ops routes and the trigger handlers -----------
# Schedules and source events run as their own Lambda functions in AWS; locally
# `jobctl` builds the same events and calls these same handlers.

app.register_blueprint(routes_ops.blueprint)
# Blueprints register above this line, so their paths get the 405 answers too.
answer_other_methods(app)

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
    """Every five minutes: fail jobs whose runner died, relaunch due retries.

    It also starts the rebuild for a new inference model (once per version),
    so a deployed model is built within five minutes, event or not.
    """
    with logs.bound(request_id=_request_id(event), event_id=event.event_id):
        launcher = launchers.default_launcher()
        report = runner.sweep(launcher)
        rebuild = triggers.on_model_release(launcher)
        return {
            "reaped": report.reaped,
            "retried": report.retried,
            "model_rebuild": rebuild.job.job_id if rebuild else None,
        }


MODEL_EVENTS = {
    "source": [triggers.MODEL_EVENT_SOURCE],
    "detail-type": [triggers.MODEL_RELEASED],
}


@app.on_cw_event(MODEL_EVENTS, name="model_released")
def model_released(event: CloudWatchEvent) -> dict:
    """A batch image with a new inference model was deployed: rebuild once."""
    with logs.bound(request_id=_request_id(event), event_id=event.event_id):
        version = triggers.released_model(event.detail)
        submission = triggers.on_model_release(launchers.default_launcher(), version)
        if submission is None:
            return {"job_id": None, "created": False}
        return {"job_id": submission.job.job_id, "created": submission.created}
