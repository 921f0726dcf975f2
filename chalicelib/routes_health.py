"""Simulation health as a series: one route the status dashboard charts.

A run's ticks carry their wall time, counts and invariant checks (issue 4); the
dashboard needs them as one series, thinned to a bounded number of points, not
one request per tick.
"""

from __future__ import annotations

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib import simulations
from chalicelib.api import json_response, parse_path, parse_query, public_route
from chalicelib.schemas import Query

health_routes = Blueprint(__name__)
MAX_POINTS = 1000


class RunPath(BaseModel):
    """Path parameters naming a simulation run."""

    model_config = ConfigDict(defer_build=True)
    run_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class HealthQuery(Query):
    """How many points the series may hold at most."""

    points: int = Field(
        default=200, ge=2, le=MAX_POINTS, description="largest number of points"
    )


class TickPoint(BaseModel):
    """One tick of the series."""

    tick: int
    time_yr: float
    wall_ms: float
    settled: int | None
    settleable: int | None
    in_flight: int | None
    invariants_ok: bool


class RunHealth(BaseModel):
    """A run's state, its health totals and its ticks as a thinned series."""

    run_id: str
    state: str
    ticks: int
    last_tick: int
    totals: dict | None = Field(description="the run's health totals")
    ticks_recorded: int
    points: list[TickPoint]


@public_route(
    health_routes,
    "/sim/runs/{run_id}/health",
    operation_id="getSimRunHealth",
    summary="A simulation run's health per tick (wall time, counts, invariants)",
    response=RunHealth,
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
