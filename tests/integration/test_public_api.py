"""The public API over the small sample build: resources, caching, CORS, errors."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from chalice.config import Config
from chalice.local import LocalGateway
from pynamodb.exceptions import GetError, QueryError

from chalicelib import builds, ratelimits, reads
from chalicelib.models import SystemItem

pytestmark = pytest.mark.integration
ORIGIN = {"Origin": "http://127.0.0.1:8080"}


@pytest.fixture
def client(sample_build):
    """A Chalice test client over the app, with no cached answers."""
    from chalice.test import Client

    from app import app

    reads.ANSWERS.clear()
    with Client(app) as test_client:
        yield test_client
    reads.ANSWERS.clear()


@pytest.fixture
def base(sample_build) -> str:
    """The sample build's path."""
    return f"/builds/{sample_build.build_id}"


def _json(response) -> dict:
    return json.loads(response.body)


def test_build_by_id_is_immutable_with_a_strong_etag(client, base, sample_build):
    response = client.http.get(base)
    assert response.status_code == 200
    assert _json(response)["build_id"] == sample_build.build_id
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["ETag"].startswith('"')


def test_matching_if_none_match_answers_304_with_no_body(client, base):
    first = client.http.get(f"{base}/systems/sol")
    again = client.http.get(
        f"{base}/systems/sol", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.body in (b"", "", None)
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_a_stale_etag_gets_the_full_answer(client, base):
    response = client.http.get(f"{base}/systems/sol", headers={"If-None-Match": '"0"'})
    assert response.status_code == 200
    assert len(_json(response)["planets"]) == 8


def test_builds_list_includes_the_sample_build(client, sample_build):
    response = client.http.get("/builds?state=published&limit=100")
    assert response.status_code == 200
    body = _json(response)
    assert sample_build.build_id in [b["build_id"] for b in body["items"]]
    assert all(b["state"] == "published" for b in body["items"])
    assert "immutable" not in response.headers["Cache-Control"]


def test_planets_filter_by_known_and_by_the_habitable_zone_flag(client, base):
    def names(path: str) -> list[str]:
        return [p["name"] for p in _json(client.http.get(f"{base}{path}"))["items"]]

    assert names("/systems/sol/planets?known=true")[:3] == ["Mercury", "Venus", "Earth"]
    assert names("/systems/sol/planets?inferred=true") == []
    assert names("/systems/sol/planets?known=true&in_hz=true") == ["Earth", "Mars"]
    # Proxima b (0.0486 AU) lies inside Proxima's conservative zone.
    proxima = "/systems/hip-70890/planets?known=true&in_hz=true"
    assert names(proxima) == ["Proxima Cen b"]
    hosts = _json(
        client.http.get(f"{base}/systems?near=0,0,0&radius=5&planets=known&in_hz=true")
    )
    assert "hip-70890" in [s["system_id"] for s in hosts["items"]]


def test_planet_pages_walk_all_eight_once(client, base):
    names, cursor = [], None
    while True:
        suffix = f"&cursor={cursor}" if cursor else ""
        page = _json(client.http.get(f"{base}/systems/sol/planets?limit=3{suffix}"))
        names += [p["name"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(names) == 8 == len(set(names))


def test_search_finds_proxima_by_hip_number_first(client, base):
    body = _json(client.http.get(f"{base}/search?q=HIP%2070890"))
    assert body["items"][0]["system_id"] == "hip-70890"
    ids = [item["system_id"] for item in body["items"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("near=1,2&radius=3", "near"),
        ("near=0,0,0&radius=0", "radius"),
        ("near=0,0,0&radius=inf", "radius"),
        ("near=0,0,0", "radius"),
        ("box=0,0,0,1,1", "box"),
        ("box=0,0,0,200,1,1", "box"),
        ("sector=0,0", "sector"),
        ("sector=1.5,0,0", "sector"),
        ("near=0,0,0&radius=1&box=0,0,0,1,1,1", "box"),
        ("near=0,0,0&radius=1&planets=habitable", "planets"),
        ("sector=0,0,0&in_hz=perhaps", "in_hz"),
        ("planets=some", "planets"),
        ("in_hz=maybe", "in_hz"),
        ("in_hz=yes", "in_hz"),
        ("in_hz=1", "in_hz"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not%20base64", "cursor"),
        ("colour=red", "colour"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_each_bad_parameter_answers_400_naming_it(client, base, query, parameter):
    response = client.http.get(f"{base}/systems?{query}")
    assert response.status_code == 400
    error = _json(response)["error"]
    assert error["parameter"] == parameter
    assert error["code"] == "bad_request" and error["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Cache-Control"] == "no-store"


def test_several_bad_parameters_are_all_named(client, base):
    error = _json(client.http.get(f"{base}/systems/sol/planets?limit=0&known=x"))
    named = {detail["parameter"] for detail in error["error"]["details"]}
    assert named == {"limit", "known"}


@pytest.mark.parametrize(
    "path",
    ["/builds/wb-none/systems/sol", "/builds/wb-none", "/builds/wb-none/search?q=ab"],
)
def test_unknown_build_answers_404(client, path):
    response = client.http.get(path)
    assert response.status_code == 404
    assert _json(response)["error"]["code"] == "not_found"


def test_unknown_system_answers_404(client, base):
    response = client.http.get(f"{base}/systems/hip-0")
    assert response.status_code == 404


def test_malformed_path_parameter_answers_400(client, base):
    response = client.http.get(f"{base}/systems/NOT%20AN%20ID")
    assert response.status_code == 400
    assert _json(response)["error"]["parameter"] == "system_id"


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_other_methods_answer_405_with_allow(client, base, method):
    response = getattr(client.http, method)(
        f"{base}/systems/sol", body=b"x" * 10, headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert _json(response)["error"]["code"] == "method_not_allowed"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/jobs/some-job/cancel", "OPTIONS, POST"),
        ("HEAD", "/health", "GET, OPTIONS"),
    ],
)
def test_a_method_a_path_lacks_answers_the_products_405_naming_the_right_ones(
    client, method, path, allowed
):
    response = client.http.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
    error = _json(response)["error"]
    assert error["code"] == "method_not_allowed" and allowed in error["message"]


@pytest.mark.parametrize("path", ["/systems/sol", "/search", "/systems"])
def test_preflight_allows_if_none_match_from_any_origin(client, base, path):
    from app import app

    # As `chalice local` and API Gateway answer it (the test client cannot).
    gateway = LocalGateway(app, Config())
    headers = {
        **ORIGIN,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match",
    }
    response = gateway.handle_request("OPTIONS", base + path, headers, b"")
    assert response["statusCode"] == 200
    assert response["headers"]["Access-Control-Allow-Origin"] == "*"
    assert "If-None-Match" in response["headers"]["Access-Control-Allow-Headers"]
    assert "GET" in response["headers"]["Access-Control-Allow-Methods"]


def test_database_throttling_answers_503_with_retry_after(client, base, monkeypatch):
    def throttled(*args, **kwargs):
        code = "ProvisionedThroughputExceededException"
        cause = ClientError({"Error": {"Code": code, "Message": "slow"}}, "GetItem")
        raise GetError("throttled", cause)

    monkeypatch.setattr(SystemItem, "get", classmethod(throttled))
    response = client.http.get(f"{base}/systems/hip-70890")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    assert _json(response)["error"]["code"] == "service_unavailable"


def test_a_failing_query_is_never_an_empty_200(client, base, monkeypatch):
    def broken(*args, **kwargs):
        raise QueryError("no table")

    monkeypatch.setattr(SystemItem.by_sector, "query", broken)
    response = client.http.get(f"{base}/systems?near=0,0,0&radius=2")
    assert response.status_code == 503
    assert "Retry-After" in response.headers


def test_openapi_document_describes_every_get_route(client):
    from app import app

    document = _json(client.http.get("/openapi.json"))
    assert document["openapi"].startswith("3.1")
    routes = {
        path
        for path, views in app.routes.items()
        if "GET" in views
        and not views["GET"].view_name.startswith("method_not_allowed")
    }
    # Every GET route is described: public, simulation and operations ones.
    documented = {path for path, views in document["paths"].items() if "get" in views}
    assert documented == routes
    assert "/sim/runs/{run_id}/playback" in documented
    reports = {
        "/builds/{build_ref}/quality",
        "/builds/{build_ref}/comparisons",
        "/comparisons/{old_id}/{new_id}",
    }
    assert reports <= documented


def test_expensive_queries_spend_tokens_and_answer_429(client, base, monkeypatch):
    monkeypatch.setattr(
        reads, "current_limit", lambda: ratelimits.Limit(per_second=0.01, burst=2)
    )
    statuses = [
        client.http.get(f"{base}/systems?near=0,0,0&radius={r}").status_code
        for r in (1, 2, 3)
    ]
    assert statuses == [200, 200, 429]
    limited = client.http.get(f"{base}/systems?near=0,0,0&radius=4")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert _json(limited)["error"]["code"] == "too_many_requests"
    # A repeated (cached) query is answered without spending a token.
    assert client.http.get(f"{base}/systems?near=0,0,0&radius=1").status_code == 200
    # Other kinds of query have their own bucket; plain reads have none.
    assert client.http.get(f"{base}/search?q=proxima").status_code == 200
    assert client.http.get(f"{base}/systems/sol").status_code == 200


def test_quality_report_is_served_immutable_with_its_build_id(
    client, base, sample_build
):
    response = client.http.get(f"{base}/quality")
    assert response.status_code == 200
    body = _json(response)
    assert body["build_id"] == sample_build.build_id
    assert isinstance(body["report"], dict) and body["report"]
    assert "immutable" in response.headers["Cache-Control"]
    again = client.http.get(
        f"{base}/quality", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


def test_a_build_without_a_quality_report_answers_404_saying_so(client):
    build_id = "wb-no-artifacts"
    record = builds.create_build(
        build_id, pipeline_version="test", model_version="test", settings={}, sources=[]
    )
    if record.state == "pending":
        builds.transition(record, "running")
    response = client.http.get(f"/builds/{build_id}/quality")
    assert response.status_code == 404
    assert "no quality report" in _json(response)["error"]["message"]
    assert client.http.get("/builds/wb-never-built/quality").status_code == 404


def test_comparison_report_is_served_immutable(client, compared_builds):
    old_id, new_id = compared_builds.old_id, compared_builds.new_id
    response = client.http.get(f"/comparisons/{old_id}/{new_id}")
    assert response.status_code == 200
    report = _json(response)
    assert (report["old_id"], report["new_id"]) == (old_id, new_id)
    # The newer build lacks the sample's last planet.
    assert report["planets"]["removed"]["count"] == 1
    assert "immutable" in response.headers["Cache-Control"]
    assert response.headers["ETag"].startswith('"')


def test_a_comparison_never_made_answers_404_naming_both_builds(
    client, compared_builds
):
    old_id, new_id = compared_builds.old_id, compared_builds.new_id
    response = client.http.get(f"/comparisons/{new_id}/{old_id}")
    assert response.status_code == 404
    message = _json(response)["error"]["message"]
    assert old_id in message and new_id in message
    assert response.headers["Cache-Control"] == "no-store"


def test_a_bad_build_id_in_a_comparison_path_answers_400(client):
    response = client.http.get("/comparisons/active!/wb-x")
    assert response.status_code == 400
    assert _json(response)["error"]["parameter"] == "old_id"


def test_each_build_lists_its_comparisons_once_on_either_side(client, compared_builds):
    old_id, new_id = compared_builds.old_id, compared_builds.new_id
    for build_id, side in ((old_id, "old"), (new_id, "new")):
        listed, cursor = [], None
        while True:
            path = f"/builds/{build_id}/comparisons?limit=1"
            response = client.http.get(path + (f"&cursor={cursor}" if cursor else ""))
            assert response.status_code == 200
            # A later build adds comparisons: the list is never immutable.
            assert response.headers["Cache-Control"] == "public, max-age=30"
            page = _json(response)
            listed += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        pairs = [(item["old_id"], item["new_id"]) for item in listed]
        assert len(pairs) == len(set(pairs))
        assert all(build_id in pair for pair in pairs)
        ours = next(i for i in listed if (i["old_id"], i["new_id"]) == (old_id, new_id))
        assert ours["side"] == side
        assert ours["report"] == f"/comparisons/{old_id}/{new_id}"


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/builds/active/systems/Sol", "system_id"),
        ("/builds/%E2%98%83", "build_ref"),
        ("/builds/active/systems/sol/orbits?epoch=abc", "epoch"),
    ],
)
def test_a_malformed_id_is_refused_in_words_not_a_regular_expression(
    sample_build, path, parameter
):
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        response = client.http.get(path)
    assert response.status_code == 400
    error = json.loads(response.body)["error"]
    assert error["parameter"] == parameter
    assert "is not valid; expected" in error["message"]
    assert "^" not in error["message"] and "[" not in error["message"]
