"""Local Bubble's HTTP API: thin routes over `chalicelib`.

Each route parses its input, calls one domain function and shapes the reply.
Settings are validated here, once, before the first request.
"""

from __future__ import annotations

import json

from chalice import Chalice

from chalicelib import builds, models, params, queries, tracing
from chalicelib.api import IMMUTABLE, SHORT, handles_errors, json_response
from chalicelib.routes_sim import sim_routes
from chalicelib.settings import get_settings

SETTINGS = get_settings()
tracing.configure(SETTINGS)
models.bind(SETTINGS)

app = Chalice(app_name="local-bubble")
app.api.cors = True
app.register_blueprint(sim_routes)


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
    build_id = builds.resolve_build_id(params.identifier("build_id", build_ref))
    record = builds.get_build(build_id)
    # A build's record changes until it is published; only then is it immutable.
    cache = _cache_for(build_ref) if record.state == "published" else SHORT
    return json_response(_build_view(record), cache=cache)


@app.route("/builds/{build_ref}/systems/{system_id}")
@handles_errors
def get_system(build_ref, system_id):
    params.identifier("system_id", system_id)
    build_id = builds.resolve_build_id(params.identifier("build_id", build_ref))
    system = queries.get_system(build_id, system_id)
    return json_response(system, cache=_cache_for(build_ref))


@app.route("/builds/{build_ref}/systems")
@handles_errors
def near_systems(build_ref):
    query = app.current_request.query_params or {}
    centre = params.point("near", query.get("near"))
    radius = params.positive("radius", query.get("radius"))
    limit = params.limit(query.get("limit"), queries.MAX_LIMIT)
    build_id = builds.resolve_build_id(params.identifier("build_id", build_ref))
    page = queries.near(build_id, centre, radius, limit, query.get("cursor"))
    return json_response(page, cache=_cache_for(build_ref))


@app.route("/builds/{build_ref}/search")
@handles_errors
def search(build_ref):
    query = app.current_request.query_params or {}
    text = params.text("q", query.get("q"))
    limit = params.limit(query.get("limit"), 100)
    build_id = builds.resolve_build_id(params.identifier("build_id", build_ref))
    page = queries.search(build_id, text, limit, query.get("cursor"))
    return json_response(page, cache=_cache_for(build_ref))
