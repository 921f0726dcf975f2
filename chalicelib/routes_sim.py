"""Simulation routes: a system's orbits at an epoch, encounters, simulation runs.

A Chalice Blueprint, registered by `app.py`. Each route is a `public_route`
with its models in `chalicelib.sim_schemas`, so `/openapi.json` documents it.
Orbits are computed on request in plain Python for the one system asked
(`chalicelib.orbits`); anything bulk (encounters, runs, playback) was
precomputed by a batch job and is read a page or one object at a time.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from chalice import Blueprint

from chalicelib import orbits, queries, reads, schemas, sim_schemas, simulations
from chalicelib.api import (
    IMMUTABLE,
    NO_STORE,
    SHORT,
    json_response,
    parse_path,
    parse_query,
    public_route,
)
from chalicelib.errors import BadRequest

sim_routes = Blueprint(__name__)

J2000_JD = 2_451_545.0
UNIX_EPOCH_JD = 2_440_587.5
# Julian dates of 0001-01-01 and 9999-12-31: the range a date can be written in.
MIN_JD, MAX_JD = 1_721_425.5, 5_373_484.5
# The catalogues give no orbital phase or orientation for most planets.
ASSUMED = {
    "inc_rad": 0.0,
    "arg_peri_rad": 0.0,
    "long_node_rad": 0.0,
    "mean_anomaly_rad": 0.0,
    "anomaly_epoch_jd": J2000_JD,
}


def _cache_for(build_ref: str) -> str:
    return SHORT if build_ref == "active" else IMMUTABLE


def parse_epoch(text: str | None) -> float:
    """Return a Julian date from a JD number or an ISO date or date-time (UTC)."""
    if text is None or not text.strip():
        raise BadRequest(
            "epoch is required: a Julian date (2451545.0) or an ISO date (2000-01-01)",
            "epoch",
        )
    text = text.strip()
    try:
        jd = float(text)
    except ValueError:
        jd = None
    if jd is None:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as err:
            raise BadRequest(
                f"epoch {text!r} is neither a Julian date nor an ISO date "
                "(e.g. 2451545.0 or 2026-07-01T12:00:00Z)",
                "epoch",
            ) from err
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        try:
            jd = UNIX_EPOCH_JD + when.timestamp() / 86_400.0
        except (OverflowError, ValueError) as err:  # an offset past year 1 or 9999
            raise BadRequest(
                f"epoch {text!r} lies outside the years 1-9999", "epoch"
            ) from err
    if not (math.isfinite(jd) and MIN_JD <= jd <= MAX_JD):
        raise BadRequest(
            f"epoch must be a Julian date from {MIN_JD} to {MAX_JD} (years 1-9999)",
            "epoch",
        )
    return jd


def planet_position(planet: dict, epoch_jd: float) -> dict:
    """Return one planet's position at an epoch, saying which elements were assumed."""
    a = planet.get("semi_major_axis_au")
    e = planet.get("eccentricity")
    period = planet.get("period_days")
    view = {"name": planet["name"], "x_au": None, "y_au": None, "z_au": None}
    missing = [
        name
        for name, value in (("semi_major_axis_au", a), ("period_days", period))
        if value is None
    ]
    if missing:
        return {**view, "unknown": missing}
    elements = {key: planet.get(key) for key in ASSUMED}
    if planet.get("t_peri_jd") is not None:
        elements.pop("mean_anomaly_rad")
        elements.pop("anomaly_epoch_jd")
    assumed = sorted(key for key, value in elements.items() if value is None)
    elements = {k: ASSUMED[k] if v is None else v for k, v in elements.items()}
    if e is None:
        assumed.append("eccentricity")
    x, y, z = orbits.position_at(
        epoch_jd,
        a,
        0.0 if e is None else e,
        period,
        t_peri_jd=planet.get("t_peri_jd"),
        **elements,
    )
    return {**view, "x_au": x, "y_au": y, "z_au": z, "assumed": assumed}


def _query(model):
    return parse_query(model, sim_routes.current_request.query_params)


@public_route(
    sim_routes,
    "/builds/{build_ref}/systems/{system_id}/orbits",
    operation_id="getOrbits",
    summary="Planet positions of one system at an epoch, in AU in the host's frame",
    response="Orbits",
    query=sim_schemas.OrbitsQuery,
    path_model=schemas.SystemPath,
    errors=(400, 404, 405, 409),
)
def system_orbits(build_ref, system_id):
    parse_path(schemas.SystemPath, build_ref=build_ref, system_id=system_id)
    epoch_jd = parse_epoch(_query(sim_schemas.OrbitsQuery).epoch)
    build_id = reads.resolve_published(build_ref).build_id
    system = queries.get_system(build_id, system_id)
    body = {
        "build_id": build_id,
        "system_id": system_id,
        "epoch_jd": epoch_jd,
        "frame": "host-centred, AU; axes of the orbit's reference plane",
        "assumptions": (
            "elements the catalogue lacks take the values in 'assumed': "
            "inclination, periapsis and node 0, mean anomaly 0 at J2000, e = 0"
        ),
        "planets": [planet_position(p, epoch_jd) for p in system.get("planets", [])],
    }
    return json_response(body, cache=_cache_for(build_ref))


@public_route(
    sim_routes,
    "/builds/{build_ref}/encounters",
    operation_id="listEncounters",
    summary="Stars' closest approaches to the Sun, nearest first",
    response="EncounterPage",
    query=sim_schemas.SimPageQuery,
    path_model=schemas.BuildPath,
    errors=(400, 404, 405, 409),
    cache="30 s",
)
def build_encounters(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    query = _query(sim_schemas.SimPageQuery)
    build_id = reads.resolve_published(build_ref).build_id
    page = simulations.encounters_page(build_id, query.limit, query.cursor)
    return json_response({"build_id": build_id, **page}, cache=SHORT)


@public_route(
    sim_routes,
    "/builds/{build_ref}/encounters/pairs",
    operation_id="listPairEncounters",
    summary="Pairs of stars passing close to each other within 100,000 yr, nearest "
    "first",
    response="PairEncounterPage",
    query=sim_schemas.SimPageQuery,
    path_model=schemas.BuildPath,
    errors=(400, 404, 405, 409),
    cache="30 s",
)
def build_pair_encounters(build_ref):
    parse_path(schemas.BuildPath, build_ref=build_ref)
    query = _query(sim_schemas.SimPageQuery)
    build_id = reads.resolve_published(build_ref).build_id
    page = simulations.encounters_page(
        build_id, query.limit, query.cursor, kind="pairs"
    )
    return json_response({"build_id": build_id, **page}, cache=SHORT)


@public_route(
    sim_routes,
    "/sim/runs",
    operation_id="listSimRuns",
    summary="Simulation runs, newest first",
    response="SimRunPage",
    query=sim_schemas.SimPageQuery,
    errors=(400, 405),
    cache="not cached",
)
def list_runs():
    query = _query(sim_schemas.SimPageQuery)
    page = simulations.list_runs(query.limit, query.cursor)
    return json_response(page, cache=NO_STORE)


@public_route(
    sim_routes,
    "/sim/runs/{run_id}",
    operation_id="getSimRun",
    summary="One run's inputs, progress, summary and health",
    response="SimRun",
    query=schemas.EmptyQuery,
    path_model=sim_schemas.RunPath,
    cache="not cached",
)
def get_run(run_id):
    parse_path(sim_schemas.RunPath, run_id=run_id)
    _query(schemas.EmptyQuery)
    run = simulations.run_view(simulations.get_run(run_id))
    return json_response(run, cache=NO_STORE)


@public_route(
    sim_routes,
    "/sim/runs/{run_id}/ticks/{tick}",
    operation_id="getSimTick",
    summary="One tick's counts and health",
    response="SimTick",
    query=schemas.EmptyQuery,
    path_model=sim_schemas.TickPath,
    cache="immutable once the run has finished; 30 s before",
)
def get_tick(run_id, tick):
    path = parse_path(sim_schemas.TickPath, run_id=run_id, tick=tick)
    _query(schemas.EmptyQuery)
    run = simulations.get_run(run_id)
    body = simulations.get_tick(run_id, path.tick)
    finished = run.state in simulations.FINISHED
    return json_response(body, cache=IMMUTABLE if finished else SHORT)


@public_route(
    sim_routes,
    "/sim/runs/{run_id}/playback",
    operation_id="getSimPlayback",
    summary="A succeeded run's playback: settled counts and settled intervals",
    response="Playback",
    query=schemas.EmptyQuery,
    path_model=sim_schemas.RunPath,
    cache="immutable (a run has one once it has succeeded)",
)
def get_playback(run_id):
    parse_path(sim_schemas.RunPath, run_id=run_id)
    _query(schemas.EmptyQuery)
    return json_response(simulations.get_playback(run_id), cache=IMMUTABLE)
