"""The simulation routes through Chalice's test client, on the sample build."""

from __future__ import annotations

import json
import math

import pytest
from chalice.test import Client

from batch_jobs import simulation
from batch_jobs.encounters import run_encounters
from chalicelib import simulations

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def client(settings):
    from app import app

    with Client(app) as test_client:
        yield test_client


def _get(client, path):
    response = client.http.get(path)
    return response.status_code, json.loads(response.body), response.headers


def test_earth_is_one_au_from_the_sun_at_any_epoch(client, sample_build):
    base = f"/builds/{sample_build.build_id}/systems/sol/orbits"
    status, body, headers = _get(client, f"{base}?epoch=2026-07-01")
    assert status == 200
    assert headers["Cache-Control"].endswith("immutable")
    earth = next(p for p in body["planets"] if p["name"] == "Earth")
    radius = math.hypot(earth["x_au"], earth["y_au"], earth["z_au"])
    assert 0.98 <= radius <= 1.02  # perihelion 0.983, aphelion 1.017 AU
    assert len(body["planets"]) == 8
    _, same, _ = _get(client, f"{base}?epoch={body['epoch_jd']}")
    assert same["planets"] == body["planets"]


@pytest.mark.parametrize("query", ["", "?epoch=yesterday", "?epoch=1e99"])
def test_orbits_without_a_usable_epoch_answer_400(client, sample_build, query):
    path = f"/builds/{sample_build.build_id}/systems/sol/orbits{query}"
    status, body, _ = _get(client, path)
    assert status == 400
    assert body["error"]["parameter"] == "epoch"


def test_orbits_of_an_unknown_system_answer_404(client, sample_build):
    path = f"/builds/{sample_build.build_id}/systems/hip-0/orbits?epoch=2451545"
    assert _get(client, path)[0] == 404


def test_encounters_page_through_nearest_first(settings, client, sample_build):
    build_id = sample_build.build_id
    result = run_encounters(settings, build_id)
    assert result["encounters"] >= 2
    seen, cursor = [], None
    while True:
        path = f"/builds/{build_id}/encounters?limit=1"
        status, body, _ = _get(client, path + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        assert len(body["items"]) <= 1
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == result["encounters"]
    distances = [item["d_min_pc"] for item in seen]
    assert distances == sorted(distances)
    assert [item["rank"] for item in seen] == list(range(1, len(seen) + 1))
    assert all(item["rv_kms"] is not None for item in seen)


def test_pair_encounters_page_through_nearest_first(settings, client, sample_build):
    build_id = sample_build.build_id
    result = run_encounters(settings, build_id)
    assert result["pair_encounters"] >= 1
    seen, cursor = [], None
    while True:
        path = f"/builds/{build_id}/encounters/pairs?limit=2"
        status, body, _ = _get(client, path + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == result["pair_encounters"]
    assert [item["rank"] for item in seen] == list(range(1, len(seen) + 1))
    distances = [item["d_min_pc"] for item in seen]
    assert distances == sorted(distances)
    assert all(d <= result["pair_threshold_pc"] for d in distances)
    assert all(abs(i["t_min_yr"]) <= result["pair_horizon_yr"] for i in seen)
    assert all(i["system_id_a"] != i["system_id_b"] for i in seen)
    # A cursor of the Sun's list does not page the pairs' list.
    sun = _get(client, f"/builds/{build_id}/encounters?limit=1")[1]
    if sun["next_cursor"]:
        path = f"/builds/{build_id}/encounters/pairs?cursor={sun['next_cursor']}"
        assert _get(client, path)[0] == 400


def test_encounters_cursor_from_another_build_is_refused(client, sample_build):
    from chalicelib import cursors

    foreign = cursors.encode({"after": 1}, "encounters:wb-another")
    path = f"/builds/{sample_build.build_id}/encounters?limit=1&cursor={foreign}"
    status, body, _ = _get(client, path)
    assert status == 400
    assert body["error"]["parameter"] == "cursor"


def test_runs_list_run_and_tick_describe_a_finished_run(settings, client, sample_build):
    params = simulation.RunParams(ticks=40, snapshot_every=20, seed=3)
    run_id = simulation.submit(settings, sample_build.build_id, params, "numba")
    simulation.execute(settings, run_id)
    status, page, _ = _get(client, "/sim/runs?limit=100")
    assert status == 200
    assert run_id in [run["run_id"] for run in page["items"]]
    created = [run["created_at"] for run in page["items"]]
    assert created == sorted(created, reverse=True)
    status, run, _ = _get(client, f"/sim/runs/{run_id}")
    assert (status, run["state"], run["last_tick"]) == (200, "succeeded", 40)
    assert run["health"]["invariant_failures"] == 0
    assert run["world"]["settleable"] >= 1
    status, tick, headers = _get(client, f"/sim/runs/{run_id}/ticks/20")
    assert status == 200
    assert tick["snapshot_key"].endswith("snap-00000020.npz")
    assert tick["invariants_ok"]
    assert headers["Cache-Control"].endswith("immutable")


def test_playback_of_a_finished_run_matches_its_ticks(settings, client, sample_build):
    params = simulation.RunParams(
        ticks=400, snapshot_every=100, seed=9, settleable_rule="every-star"
    )
    run_id = simulation.submit(settings, sample_build.build_id, params, "numba")
    status, body, _ = _get(client, f"/sim/runs/{run_id}/playback")
    assert status == 404 and run_id in body["error"]["message"]
    simulation.execute(settings, run_id)
    status, playback, headers = _get(client, f"/sim/runs/{run_id}/playback")
    assert status == 200
    assert headers["Cache-Control"].endswith("immutable")
    assert playback["format"] == "playback-v1"
    assert (playback["run_id"], playback["build_id"]) == (
        run_id,
        sample_build.build_id,
    )
    assert (playback["ruleset"], playback["seed"]) == ("settlement-v2", 9)
    assert playback["n_ticks"] == 400
    tick_yr = playback["tick_years"]
    assert tick_yr == 10_000
    assert playback["snapshot_ticks"] == [100, 200, 300, 400]
    counts = [
        simulations.get_tick(run_id, t)["counts"]["settled"]
        for t in playback["snapshot_ticks"]
    ]
    assert playback["settled_counts"] == counts
    assert counts[-1] > 1, "nothing was settled beyond the founder"
    # Replaying the intervals gives the settled count at every snapshot tick.
    spans = [span for runs in playback["intervals"].values() for span in runs]
    assert playback["intervals"]["sol"][0][0] == 0.0
    for tick, count in zip(playback["snapshot_ticks"], counts, strict=True):
        when = (tick - 1) * tick_yr
        alive = [s for s in spans if s[0] <= when and (s[1] is None or s[1] > when)]
        assert len(alive) == count
    for runs in playback["intervals"].values():
        ends = [end for _, end in runs]
        assert all(end is not None for end in ends[:-1])
        flat = [x for span in runs for x in span if x is not None]
        assert flat == sorted(flat)


def test_runs_list_pages_with_a_cursor(settings, client, sample_build):
    params = simulation.RunParams(ticks=2, snapshot_every=1)
    for _ in range(2):
        simulation.submit(settings, sample_build.build_id, params, "numba")
    _, first, _ = _get(client, "/sim/runs?limit=1")
    _, second, _ = _get(client, f"/sim/runs?limit=1&cursor={first['next_cursor']}")
    assert first["items"][0]["run_id"] != second["items"][0]["run_id"]


@pytest.mark.parametrize(
    ("path", "status"),
    [("/sim/runs/sim-nosuchrun", 404), ("/sim/runs/sim-nosuchrun/ticks/2", 404),
     ("/sim/runs/sim-nosuchrun/playback", 404), ("/sim/runs?limit=0", 400),
     ("/sim/runs/sim-nosuchrun/ticks/%D9%A3", 400), ("/sim/runs?colour=red", 400)],
)  # fmt: skip
def test_unknown_runs_and_bad_limits_get_the_error_shape(client, path, status):
    got, body, _ = _get(client, path)
    assert got == status
    assert {"code", "message", "parameter"} <= set(body["error"])


def test_a_shadow_encounters_run_records_the_kernels_largest_differences(
    settings, sample_build
):
    result = run_encounters(settings, sample_build.build_id, "shadow")
    shadow = result["shadow_max"]
    assert result["backend"] == "shadow" and result["encounters"] >= 2
    assert set(shadow) == {
        "sun_t_min_yr", "sun_d_min_pc", "pairs_t_min_yr", "pairs_d_min_pc",
        "pairs_found_by_one", "sun_found_by_one",
    }  # fmt: skip
    # The records are rounded (0.1 yr, 1e-4 pc): the kernels agree to that.
    assert shadow["sun_d_min_pc"] <= 1e-4 and shadow["sun_t_min_yr"] <= 0.1
    assert shadow["pairs_found_by_one"] == 0 == shadow["sun_found_by_one"]


def test_the_encounters_backend_setting_picks_the_legacy_kernels(
    settings, sample_build, monkeypatch
):
    monkeypatch.setenv("LB_SIM_BACKEND", "numpy")
    assert run_encounters(settings, sample_build.build_id)["backend"] == "numpy"
    with pytest.raises(ValueError, match="numba, numpy, shadow"):
        run_encounters(settings, sample_build.build_id, "fortran")
