"""The API's contract beyond the world's reads: ops queries, body size, CORS.

Through the Chalice test client (the app's own middleware) and `LocalGateway`
(what `chalice local` answers preflights with), against dynalite.
"""

from __future__ import annotations

import json
import os

import pytest
from botocore.exceptions import ClientError
from chalice.config import Config
from chalice.local import LocalGateway
from chalice.test import Client
from pynamodb.exceptions import DoesNotExist, GetError

from batch_jobs import publish
from chalicelib import apikeys, builds, ratelimits, reads
from chalicelib.api import MAX_BODY_BYTES
from chalicelib.models import JobKey, RateBucket, SystemItem

pytestmark = pytest.mark.integration
# The site as `make demo` serves it; the API must let its pages read.
SITE_ORIGIN = f"http://127.0.0.1:{os.environ['LB_SITE_PORT']}"
TINY_BUILD = "wb-contract-tiny"
PENDING_BUILD = "wb-contract-pending"


@pytest.fixture
def client(settings):
    from app import app

    reads.ANSWERS.clear()
    with Client(app, stage_name="local") as test_client:
        yield test_client
    reads.ANSWERS.clear()


@pytest.fixture(scope="module")
def keys(settings):
    """A viewer and an operator key."""
    return {
        role: apikeys.create_key(f"contract {role}", role) for role in apikeys.ROLES
    }


@pytest.fixture(scope="module")
def tiny_build(settings) -> str:
    """A published build of three systems, and a build still being written."""
    systems = [
        {
            "system_id": f"tiny-{n}",
            "name": f"Tiny {n}",
            "names": [f"Tiny {n}"],
            "source": "synthetic",
            "x_pc": float(n),
            "y_pc": 0.0,
            "z_pc": 0.0,
            "dist_pc": float(n),
            "planets": [],
        }
        for n in range(3)
    ]
    record = builds.create_build(
        TINY_BUILD,
        pipeline_version="test",
        model_version="test",
        settings={},
        sources=[],
    )
    if record.state != "published":
        publish.write_systems(TINY_BUILD, systems)
        for state in ("running", "validated", "published"):
            builds.transition(record, state)
    builds.create_build(
        PENDING_BUILD,
        pipeline_version="test",
        model_version="test",
        settings={},
        sources=[],
    )
    return TINY_BUILD


@pytest.fixture
def fresh_buckets(settings):
    """No client has spent any token yet (buckets outlive a test in the table)."""
    with RateBucket.batch_write() as batch:
        for bucket in RateBucket.scan():
            batch.delete(bucket)


def _error(response) -> dict:
    return json.loads(response.body)["error"]


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- The operations routes' queries go through their models ------------------


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ("/jobs?type=teleport&state=lost&limit=0&colour=red",
         ["type", "state", "limit", "colour"]),
        ("/jobs?limit=5&since=yesterday&order=asc", ["since", "order"]),
        ("/ops/kpis?days=0&window=7", ["days", "window"]),
        ("/ops/builds?verbose=1", ["verbose"]),
        ("/jobs/build-0123456789ab?full=1", ["full"]),
    ],
)  # fmt: skip
def test_ops_reads_answer_400_naming_each_bad_or_unknown_parameter(client, path, bad):
    response = client.http.get(path)
    assert response.status_code == 400, response.body
    error = _error(response)
    assert [detail["parameter"] for detail in error["details"]] == bad
    assert error["parameter"] == bad[0]


def test_ops_reads_take_their_documented_parameters(client):
    assert client.http.get("/jobs?type=site&state=failed&limit=3").status_code == 200
    assert json.loads(client.http.get("/ops/kpis?days=366").body)["window_days"] == 366
    assert client.http.get("/ops/builds").status_code == 200


def test_a_repeated_parameter_is_refused_on_the_jobs_route(client):
    response = client.http.get("/jobs?state=failed&state=queued")
    assert response.status_code == 400
    assert _error(response)["parameter"] == "state"


# --- Bodies over 64 KiB ---------------------------------------------------------


def _start_body(size: int, key: str) -> bytes:
    """A POST /jobs body of exactly `size` bytes."""
    shell = {"job_type": "build", "params": {"note": ""}, "idempotency_key": key}
    padding = size - len(json.dumps(shell).encode())
    shell["params"]["note"] = "x" * padding
    body = json.dumps(shell).encode()
    assert len(body) == size
    return body


def test_a_body_over_64_kib_answers_413_and_starts_nothing(client, keys, launcher):
    key = "contract-too-large"
    headers = {"Content-Type": "application/json", **_auth(keys["operator"].token)}
    response = client.http.post(
        "/jobs", headers=headers, body=_start_body(MAX_BODY_BYTES + 1, key)
    )
    assert response.status_code == 413
    error = _error(response)
    assert error["code"] == "payload_too_large"
    assert str(MAX_BODY_BYTES) in error["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert launcher.launched == []
    with pytest.raises(DoesNotExist):
        JobKey.get(f"key#{key}")


def test_a_body_of_exactly_64_kib_is_read(client, keys, launcher):
    headers = {"Content-Type": "application/json", **_auth(keys["operator"].token)}
    response = client.http.post(
        "/jobs", headers=headers, body=_start_body(MAX_BODY_BYTES, "contract-at-limit")
    )
    # Read and judged on its content: a build takes no `note` parameter.
    assert response.status_code == 400, response.body
    assert "note" in json.dumps(_error(response))
    assert launcher.launched == []


# --- CORS -----------------------------------------------------------------------

PREFLIGHTS = [
    ("/jobs", "GET"),
    ("/jobs", "POST"),
    ("/jobs/build-0123456789ab", "GET"),
    ("/jobs/build-0123456789ab/cancel", "POST"),
    ("/jobs/build-0123456789ab/retry", "POST"),
    ("/ops/kpis", "GET"),
    ("/ops/builds", "GET"),
    ("/sim/runs", "GET"),
    ("/sim/runs/simulation-0123456789ab", "GET"),
    ("/sim/runs/simulation-0123456789ab/ticks/20", "GET"),
    ("/sim/runs/simulation-0123456789ab/playback", "GET"),
    ("/sim/runs/simulation-0123456789ab/health", "GET"),
    ("/builds/active/encounters", "GET"),
    ("/builds/active/systems/sol/orbits", "GET"),
]


@pytest.mark.parametrize(("path", "method"), PREFLIGHTS)
def test_preflight_on_job_ops_and_sim_routes_allows_the_sites_origin(
    settings, path, method
):
    from app import app

    gateway = LocalGateway(app, Config())
    headers = {
        "Origin": SITE_ORIGIN,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization,content-type,if-none-match",
    }
    response = gateway.handle_request("OPTIONS", path, headers, b"")
    assert response["statusCode"] == 200
    allowed = response["headers"]
    assert allowed["Access-Control-Allow-Origin"] in ("*", SITE_ORIGIN)
    assert method in allowed["Access-Control-Allow-Methods"].split(",")
    asked = {"authorization", "content-type", "if-none-match"}
    assert asked <= {
        h.lower() for h in allowed["Access-Control-Allow-Headers"].split(",")
    }


def _throttled(*args, **kwargs):
    code = "ProvisionedThroughputExceededException"
    cause = ClientError({"Error": {"Code": code, "Message": "slow"}}, "GetItem")
    raise GetError("throttled", cause)


def _answers(client, keys, tiny_build, monkeypatch) -> dict[int, object]:
    """One answer of each error status, as the site's pages would receive it."""
    origin = {"Origin": SITE_ORIGIN}
    json_body = {"Content-Type": "application/json", **origin}
    start = json.dumps({"job_type": "build"})
    out = {
        401: client.http.post("/jobs", headers=json_body, body=start),
        403: client.http.post(
            "/jobs", headers={**json_body, **_auth(keys["viewer"].token)}, body=start
        ),
        404: client.http.get("/jobs/build-nope", headers=origin),
        409: client.http.get(f"/builds/{PENDING_BUILD}/systems/sol", headers=origin),
    }
    monkeypatch.setattr(
        reads, "current_limit", lambda: ratelimits.Limit(per_second=0.01, burst=1)
    )
    near = f"/builds/{tiny_build}/systems?near=0,0,0&radius="
    assert client.http.get(near + "1", headers=origin).status_code == 200
    out[429] = client.http.get(near + "2", headers=origin)
    monkeypatch.setattr(SystemItem, "get", classmethod(_throttled))
    out[503] = client.http.get(f"/builds/{tiny_build}/systems/tiny-1", headers=origin)
    return out


def test_error_answers_carry_the_cors_headers(
    client, keys, tiny_build, monkeypatch, fresh_buckets
):
    answers = _answers(client, keys, tiny_build, monkeypatch)
    for status, response in answers.items():
        assert response.status_code == status, (status, response.body)
        assert response.headers["Access-Control-Allow-Origin"] in ("*", SITE_ORIGIN)
        exposed = response.headers["Access-Control-Expose-Headers"].split(",")
        assert {"ETag", "Retry-After"} <= set(exposed), status
        assert _error(response)["code"], status
    for status in (429, 503):
        assert int(answers[status].headers["Retry-After"]) >= 1


# --- A conditional GET answered 304 spends no token and reads nothing ---------


def test_a_conditional_near_query_is_answered_304_without_a_token_or_a_read(
    client, tiny_build, monkeypatch, fresh_buckets, dynamodb_requests
):
    monkeypatch.setattr(
        reads, "current_limit", lambda: ratelimits.Limit(per_second=0.001, burst=1)
    )
    near = f"/builds/{tiny_build}/systems?near=0,0,0&radius=1.5"
    first = client.http.get(near)
    assert first.status_code == 200  # the bucket's one token
    etag = first.headers["ETag"]
    reads.ANSWERS.clear()  # as in a cold process, or once the answer is evicted
    dynamodb_requests.clear()
    again = client.http.get(near, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Access-Control-Allow-Origin"] == "*"
    tables = {kwargs.get("TableName") for _, kwargs in dynamodb_requests}
    assert not tables & {RateBucket.Meta.table_name, SystemItem.Meta.table_name}
    # Without the header the answer is computed, and the empty bucket says no.
    assert client.http.get(near).status_code == 429
    stale = client.http.get(near, headers={"If-None-Match": '"stale"'})
    assert stale.status_code == 429


def test_an_immutable_answer_has_the_same_etag_computed_or_cached(client, tiny_build):
    near = f"/builds/{tiny_build}/systems?near=0,0,0&radius=1.5"
    computed = client.http.get(near)
    cached = client.http.get(near)
    reads.ANSWERS.clear()
    recomputed = client.http.get(near)
    assert computed.body == cached.body == recomputed.body
    etags = {r.headers["ETag"] for r in (computed, cached, recomputed)}
    assert len(etags) == 1
    other = client.http.get(f"/builds/{tiny_build}/systems?near=0,0,0&radius=2.5")
    assert other.headers["ETag"] not in etags
