"""The real world, built once from the catalogues, read through the API."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.realdata]


def _get(api, path: str):
    response = api.http.get(path)
    return response.status_code, json.loads(response.body)


def _search_ids(api, text: str) -> list[str]:
    status, body = _get(api, f"/builds/active/search?q={text}&limit=20")
    assert status == 200, body
    return [item["system_id"] for item in body["items"]]


def test_health_names_the_active_build(api, published_build):
    status, body = _get(api, "/health")
    assert status == 200
    assert body["active_build_id"] == published_build.build_id


def test_active_build_has_over_100k_stars_with_distance(api, published_build):
    status, body = _get(api, "/builds/active")
    assert status == 200
    assert body["build_id"] == published_build.build_id
    assert body["state"] == "published"
    assert body["counts"]["systems_with_distance"] >= 100_000
    assert len(body["sources"]) == 5


@pytest.mark.parametrize(
    ("query", "system_id"),
    [
        ("Sirius", "hip-32349"),
        ("Vega", "hip-91262"),
        ("Barnard's Star", "hip-87937"),
        ("Proxima Centauri", "hip-70890"),
        ("Rigil Kentaurus", "hip-71683"),
        ("Toliman", "hip-71681"),
        ("alf Cen", "hip-71683"),
        ("Alpha Centauri", "hip-71681"),
        ("HIP 70890", "hip-70890"),
        ("TRAPPIST-1", "nasa-trappist-1"),
    ],
)
def test_well_known_stars_are_found_by_name(api, query, system_id):
    assert system_id in _search_ids(api, query)


@pytest.mark.parametrize(
    ("query", "first"),
    [("Sirius", "hip-32349"), ("alf Cen", "hip-71683"), ("alpha Cen", "hip-71683")],
)
def test_a_name_a_primary_shares_with_its_companions_answers_the_primary_first(
    api, query, first
):
    # SSCore gives Sirius B "Sirius" and Proxima "alpha Cen": brighter first.
    assert _search_ids(api, query)[0] == first


def test_proxima_lists_proxima_b_as_a_known_planet(api):
    status, system = _get(api, "/builds/active/systems/hip-70890")
    assert status == 200
    planets = {p["name"]: p for p in system["planets"]}
    assert planets["Proxima Cen b"]["known"] is True
    assert planets["Proxima Cen b"]["inferred"] is False
    assert 1.2 < system["dist_pc"] < 1.4


def test_trappist_1_is_a_system_of_its_own_with_seven_planets(api):
    status, system = _get(api, "/builds/active/systems/nasa-trappist-1")
    assert status == 200
    assert system["source"] == "nasa-exoplanet-archive"
    assert len(system["planets"]) == 7


def test_the_sun_has_its_eight_planets(api):
    status, system = _get(api, "/builds/active/systems/sol")
    assert status == 200
    names = [p["name"] for p in system["planets"]]
    assert names == [
        "Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus", "Neptune"
    ]  # fmt: skip


def test_build_scoped_reads_are_immutable_and_active_ones_short(api, published_build):
    by_id = api.http.get(f"/builds/{published_build.build_id}/systems/sol")
    active = api.http.get("/builds/active/systems/sol")
    assert "immutable" in by_id.headers["Cache-Control"]
    assert "immutable" not in active.headers["Cache-Control"]
    assert json.loads(by_id.body) == json.loads(active.body)


def test_near_query_lists_nearest_first_within_the_radius(api):
    status, body = _get(api, "/builds/active/systems?near=0,0,0&radius=4&limit=100")
    assert status == 200
    ids = [item["system_id"] for item in body["items"]]
    distances = [item["distance_pc"] for item in body["items"]]
    assert ids[0] == "sol"
    assert "hip-70890" in ids and "hip-87937" in ids
    assert distances == sorted(distances)
    assert all(d <= 4 for d in distances)


def test_walking_near_pages_returns_every_system_exactly_once(api):
    _, whole = _get(api, "/builds/active/systems?near=0,0,0&radius=8&limit=1000")
    seen: list[str] = []
    path = "/builds/active/systems?near=0,0,0&radius=8&limit=7"
    while True:
        status, page = _get(api, path)
        assert status == 200
        seen += [item["system_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        path = (
            "/builds/active/systems?near=0,0,0&radius=8&limit=7"
            f"&cursor={page['next_cursor']}"
        )
    assert len(seen) == len(set(seen))
    assert seen == [item["system_id"] for item in whole["items"]]
    assert len(seen) > 20


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/builds/active/systems?near=a,b,c&radius=5", "near"),
        ("/builds/active/systems?near=0,0&radius=5", "near"),
        ("/builds/active/systems?near=0,0,0&radius=-1", "radius"),
        ("/builds/active/systems?near=0,0,0&radius=nan", "radius"),
        ("/builds/active/systems?near=0,0,0&radius=500", "radius"),
        ("/builds/active/systems?near=0,0,0&radius=5&limit=0", "limit"),
        ("/builds/active/systems?near=0,0,0&radius=5&cursor=forged", "cursor"),
        ("/builds/active/search", "q"),
        ("/builds/active/search?q=x", "q"),
    ],
)
def test_bad_parameters_answer_400_naming_the_parameter(api, path, parameter):
    status, body = _get(api, path)
    assert status == 400
    assert body["error"]["parameter"] == parameter
    assert body["error"]["message"]


def test_a_cursor_from_another_query_is_refused(api):
    _, page = _get(api, "/builds/active/systems?near=0,0,0&radius=8&limit=2")
    path = f"/builds/active/systems?near=1,0,0&radius=8&cursor={page['next_cursor']}"
    status, body = _get(api, path)
    assert status == 400
    assert body["error"]["parameter"] == "cursor"


@pytest.mark.parametrize(
    "path", ["/builds/wb-nosuchbuild/systems/sol", "/builds/active/systems/hip-0"]
)
def test_unknown_ids_answer_404(api, path):
    status, body = _get(api, path)
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_stars_without_known_planets_carry_inferred_ones_that_say_so(api):
    _, page = _get(api, "/builds/active/systems?near=0,0,0&radius=6&limit=200")
    inferred = []
    for item in page["items"]:
        _, system = _get(api, f"/builds/active/systems/{item['system_id']}")
        known = [p for p in system["planets"] if p["known"]]
        drawn = [p for p in system["planets"] if p["inferred"]]
        assert not (known and drawn), "known planets always win"
        inferred += drawn
    assert inferred
    assert all(p["model_version"] == "occurrence-v1" for p in inferred)


def test_walking_search_pages_returns_hits_and_never_fails(api):
    path = "/builds/active/search?q=gj&limit=40"
    seen: list[str] = []
    for _ in range(5):
        status, page = _get(api, path)
        assert status == 200, page
        seen += [item["system_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        path = f"/builds/active/search?q=gj&limit=40&cursor={page['next_cursor']}"
    assert len(seen) > 40


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/builds/active/systems?near=0,0,0&radius=3&limit=%E2%91%A4", "limit"),
        ("/builds/active/search?q=Proxima&limit=%C2%B2", "limit"),
        ("/builds/active/search?q=Proxima&limit=" + "9" * 5000, "limit"),
        ("/builds/active/systems?near=1_000,0,0&radius=3", "near"),
        ("/builds/active/systems?near=%EF%BC%91,0,0&radius=3", "near"),
        ("/builds/active/systems/" + "x" * 1100, "system_id"),
        ("/builds/" + "b" * 2100, "build_ref"),
    ],
)
def test_odd_input_found_by_a_newcomer_answers_400_not_500(api, path, parameter):
    status, body = _get(api, path)
    assert status == 400, body
    assert body["error"]["parameter"] == parameter
    assert len(body["error"]["message"]) < 300


def test_a_system_read_through_the_api_says_where_each_value_came_from(api):
    # Alpha Cen A: radial velocity from SSCore (Hipparcos has none), its parallax
    # from the astrometry release the build names, its planets' fields too.
    status, system = _get(api, "/builds/active/systems/hip-71683")
    assert status == 200
    provenance = system["provenance"]
    assert provenance["parallax_mas"]["source"] == "hip_main"
    assert provenance["rv_kms"]["source"].startswith("sscore_")
    shown = {k for k, v in system.items() if v is not None} - {"provenance"}
    missing = {field for field in shown if field not in provenance}
    served = {"build_id", "system_id", "planets", "source", "derived", "names"}
    assert not missing - served
    status, proxima = _get(api, "/builds/active/systems/hip-70890")
    planet = next(p for p in proxima["planets"] if p["name"] == "Proxima Cen b")
    assert planet["provenance"]["period_days"]["source"].startswith("pscomppars")
