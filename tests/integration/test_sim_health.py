"""A run's health series, as the status dashboard reads it, on the sample build."""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from batch_jobs import simulation

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(settings):
    from app import app

    with Client(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def finished_run(settings, sample_build) -> str:
    params = simulation.RunParams(ticks=60, snapshot_every=30, seed=5)
    run_id = simulation.submit(settings, sample_build.build_id, params, "numba")
    simulation.execute(settings, run_id)
    return run_id


def _get(client, path):
    response = client.http.get(path)
    return response.status_code, json.loads(response.body), response.headers


def test_the_health_series_is_thinned_and_keeps_the_last_tick(client, finished_run):
    status, body, headers = _get(client, f"/sim/runs/{finished_run}/health?points=10")
    assert status == 200
    assert body["state"] == "succeeded"
    ticks = [point["tick"] for point in body["points"]]
    assert body["ticks_recorded"] >= 50
    assert 2 <= len(ticks) <= 11  # every 6th tick, and the last one
    assert ticks == sorted(ticks) and ticks[-1] == body["last_tick"] == 60
    assert all(point["wall_ms"] >= 0 for point in body["points"])
    settled = [point["settled"] for point in body["points"]]
    assert all(0 <= s <= p["settleable"] for s, p in zip(settled, body["points"]))
    assert body["totals"]["ticks_checked"] == body["ticks_recorded"]
    assert headers["Cache-Control"] == "public, max-age=60"


def test_every_tick_is_a_point_when_the_run_is_short(client, finished_run):
    _, body, _ = _get(client, f"/sim/runs/{finished_run}/health?points=1000")
    assert len(body["points"]) == body["ticks_recorded"]


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/sim/runs/sim-nosuchrun/health", 404, None),
        ("/sim/runs/{run}/health?points=1", 400, "points"),
        ("/sim/runs/{run}/health?points=ten", 400, "points"),
        ("/sim/runs/{run}/health?colour=red", 400, "colour"),
    ],
)
def test_bad_health_queries_get_the_error_shape(
    client, finished_run, path, status, parameter
):
    got, body, _ = _get(client, path.format(run=finished_run))
    assert got == status
    assert body["error"]["parameter"] == parameter


def test_the_health_route_is_in_the_openapi_document(client):
    _, document, _ = _get(client, "/openapi.json")
    operation = document["paths"]["/sim/runs/{run_id}/health"]["get"]
    assert operation["operationId"] == "getSimRunHealth"
