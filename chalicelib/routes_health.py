"""Simulation health as a series: one route the status dashboard charts.

A run's ticks carry their wall time, counts and invariant checks (issue 4); the
dashboard needs them as one series, thinned to a bounded number of points, not
one request per tick.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib import simulations
from chalicelib.api import json_response, parse_path, parse_query, public_route
from chalicelib.sim_schemas import HealthQuery, RunPath

health_routes = Blueprint(__name__)


@public_route(
    health_routes,
    "/sim/runs/{run_id}/health",
    operation_id="getSimRunHealth",
    summary="A simulation run's health per tick (wall time, counts, invariants)",
    response="RunHealth",
    query=HealthQuery,
    path_model=RunPath,
    errors=(400, 404, 405),
    cache="no-store while it runs; 60 s after",
)
def run_health(run_id):
    path = parse_path(RunPath, run_id=run_id)
    query = parse_query(HealthQuery, health_routes.current_request.query_params)
    body = simulations.health_series(path.run_id, query.points)
    finished = body["state"] in ("succeeded", "failed", "cancelled")
    return json_response(body, cache="public, max-age=60" if finished else "no-store")
