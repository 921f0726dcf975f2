"""Walking every list yields each item exactly once, across DynamoDB pages.

A synthetic world of hundreds of systems is written straight into the test
tables through the pipeline's own item builders; DynamoDB page sizes are shrunk
so that every walk crosses many page boundaries, with and without filters.
"""

from __future__ import annotations

import json
import math
import random
from urllib.parse import quote

import pytest

from batch_jobs import publish
from chalicelib import builds, queries, reads, sectors
from chalicelib.models import SystemItem

pytestmark = pytest.mark.integration
SYSTEMS = 640
BUILD_ID = "wb-synthetic-pagination"


def _system(n: int, rng: random.Random) -> dict:
    x, y, z = (rng.uniform(-30.0, 30.0) for _ in range(3))
    names = [f"Sample {n:03d}", f"Walk {n}"]
    if n % 5 == 0:
        names.append(f"Sample {n:03d} Major")  # a second key under "sample"
    if n % 50 == 0:
        names.append("Sample")  # an exact match for q=sample
    planets = []
    if n % 37 == 0:  # sparse: 18 hosts in 640
        planets.append({"name": f"Sample {n:03d} b", "known": True, "inferred": False})
    if n % 13 == 0:  # 50 systems; a third of them with a planet in the zone
        planets.append(
            {
                "name": f"Sample {n:03d} i1",
                "known": False,
                "inferred": True,
                "in_hz": n % 3 == 0,
            }
        )
    return {
        "system_id": f"syn-{n:04d}",
        "name": names[0],
        "names": names,
        "source": "synthetic",
        "x_pc": x,
        "y_pc": y,
        "z_pc": z,
        "dist_pc": math.dist((0, 0, 0), (x, y, z)),
        "planets": planets,
    }


@pytest.fixture(scope="module")
def world(settings) -> list[dict]:
    """640 synthetic systems in a published (not active) build."""
    rng = random.Random(5)
    systems = [_system(n, rng) for n in range(SYSTEMS)]
    record = builds.create_build(
        BUILD_ID, pipeline_version="test", model_version="test", settings={}, sources=[]
    )
    if record.state != "published":
        publish.write_systems(BUILD_ID, systems)
        for state in ("running", "validated", "published"):
            builds.transition(record, state)
    return systems


@pytest.fixture
def client(world, monkeypatch):
    """A test client whose queries read DynamoDB in pages of 11 items."""
    from chalice.test import Client

    from app import app

    monkeypatch.setattr(queries, "QUERY_PAGE_ITEMS", 11)
    monkeypatch.setattr(queries, "MAX_PAGES_PER_REQUEST", 3)
    reads.ANSWERS.clear()
    with Client(app) as test_client:
        yield test_client
    reads.ANSWERS.clear()


def _walk(client, path: str) -> tuple[list[dict], int]:
    """Every item of a list, following next_cursor; and the number of pages."""
    items, pages, cursor = [], 0, None
    while True:
        joiner = "&" if "?" in path else "?"
        url = path if cursor is None else f"{path}{joiner}cursor={quote(cursor)}"
        response = client.http.get(url)
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 2 * SYSTEMS, "the walk does not end"


def _ids(items: list[dict]) -> list[str]:
    return [item["system_id"] for item in items]


def test_whole_build_list_gives_every_system_once_in_id_order(client, world):
    items, pages = _walk(client, f"/builds/{BUILD_ID}/systems?limit=7")
    expected = sorted(s["system_id"] for s in world)
    assert _ids(items) == expected
    assert pages >= SYSTEMS // 7


def _passes(system: dict, planets: str | None, in_hz: bool | None) -> bool:
    """The planet filters' meaning, by brute force: one planet passes them all."""
    return any(
        (planets in (None, "any") or planet[planets] is True)
        and (in_hz is None or planet.get("in_hz") is in_hz)
        for planet in system["planets"]
    )


# Sparse filters: 18 known hosts, 17 with an inferred planet in the zone, 33
# with one outside it, and none with a known planet in the zone (whose markers
# are all in system 0's record: a filter on markers alone would list it).
FILTERS = [
    ("planets=known", "known", None),
    ("planets=inferred&in_hz=true", "inferred", True),
    ("in_hz=false", None, False),
    ("planets=known&in_hz=true", "known", True),
]


def test_sparse_planet_filter_walks_short_pages_to_every_host_once(client, world):
    items, pages = _walk(client, f"/builds/{BUILD_ID}/systems?limit=5&planets=known")
    hosts = sorted(s["system_id"] for s in world if _passes(s, "known", None))
    assert _ids(items) == hosts
    # 640 items in DynamoDB pages of 11, at most 3 per request: many short pages.
    assert pages > len(hosts) // 5 + 5


@pytest.mark.parametrize(("query", "planets", "in_hz"), FILTERS)
def test_planet_filters_list_each_matching_system_once(
    client, world, query, planets, in_hz
):
    items, _ = _walk(client, f"/builds/{BUILD_ID}/systems?limit=4&{query}")
    expected = sorted(s["system_id"] for s in world if _passes(s, planets, in_hz))
    assert _ids(items) == expected
    if planets == "known" and in_hz:
        assert expected == []
    else:
        assert len(expected) >= 17


@pytest.mark.parametrize(("query", "planets", "in_hz"), FILTERS)
def test_near_with_planet_filters_is_the_brute_force_answer(
    client, world, query, planets, in_hz
):
    centre, radius = (3.0, -4.0, 5.0), 40.0
    path = f"/builds/{BUILD_ID}/systems?near=3,-4,5&radius=40&limit=2&{query}"
    items, _ = _walk(client, path)
    expected = sorted(
        (math.dist(centre, (s["x_pc"], s["y_pc"], s["z_pc"])), s["system_id"])
        for s in world
        if math.dist(centre, (s["x_pc"], s["y_pc"], s["z_pc"])) <= radius
        and _passes(s, planets, in_hz)
    )
    assert _ids(items) == [sid for _, sid in expected]


@pytest.mark.parametrize(("query", "planets", "in_hz"), FILTERS)
def test_box_with_planet_filters_gives_each_match_once(
    client, world, query, planets, in_hz
):
    low, high = (-30.0, -25.0, -30.0), (30.0, 20.0, 28.0)
    box = ",".join(f"{v:g}" for v in (*low, *high))
    path = f"/builds/{BUILD_ID}/systems?box={box}&limit=3&{query}"
    items, pages = _walk(client, path)
    inside = {
        s["system_id"]
        for s in world
        if all(a <= s[c] <= b for a, c, b in zip(low, ("x_pc", "y_pc", "z_pc"), high))
        and _passes(s, planets, in_hz)
    }
    assert len(_ids(items)) == len(set(_ids(items)))
    assert set(_ids(items)) == inside
    assert pages >= len(inside) // 3


def test_sector_with_a_planet_filter_gives_its_matches_once_by_id(client, world):
    members = sorted(
        s["system_id"]
        for s in world
        if 0 <= s["x_pc"] < 20 and -20 <= s["y_pc"] < 0 and _passes(s, "any", None)
    )
    items = []
    for k in (-2, -1, 0, 1):
        path = f"/builds/{BUILD_ID}/systems?sector=0,-1,{k}&limit=1&planets=any"
        items += _walk(client, path)[0]
    assert sorted(_ids(items)) == members
    assert len(members) >= 5


@pytest.mark.parametrize("limit", [3, 1000])
def test_box_gives_every_system_inside_once(client, world, limit):
    low, high = (-25.0, -10.0, -30.0), (12.5, 30.0, 3.0)
    box = ",".join(f"{v:g}" for v in (*high[:2], low[2], *low[:2], high[2]))
    items, _ = _walk(client, f"/builds/{BUILD_ID}/systems?box={box}&limit={limit}")
    inside = {
        s["system_id"]
        for s in world
        if all(a <= s[c] <= b for a, c, b in zip(low, ("x_pc", "y_pc", "z_pc"), high))
    }
    assert len(_ids(items)) == len(set(_ids(items)))
    assert set(_ids(items)) == inside
    assert len(inside) > 100


def test_sector_gives_its_systems_once_by_id(client, world):
    items, _ = _walk(client, f"/builds/{BUILD_ID}/systems?sector=-1,0,-1&limit=4")
    members = sorted(
        s["system_id"]
        for s in world
        if -20 <= s["x_pc"] < 0 <= s["y_pc"] < 20 and -20 <= s["z_pc"] < 0
    )
    assert _ids(items) == members


def test_near_walk_matches_the_brute_force_answer_nearest_first(client, world):
    centre, radius = (3.0, -4.0, 5.0), 21.0
    path = f"/builds/{BUILD_ID}/systems?near=3,-4,5&radius=21&limit=9"
    items, _ = _walk(client, path)
    expected = sorted(
        (math.dist(centre, (s["x_pc"], s["y_pc"], s["z_pc"])), s["system_id"])
        for s in world
        if math.dist(centre, (s["x_pc"], s["y_pc"], s["z_pc"])) <= radius
    )
    assert _ids(items) == [sid for _, sid in expected]


@pytest.mark.parametrize("limit", [1, 4, 17])
def test_search_lists_each_system_once_whatever_the_page_size(client, world, limit):
    # Leading zeros drop ("Sample 010" is "sample 10"); "Sample 100" and
    # "Sample 100 Major" both match: one system, listed once.
    items, _ = _walk(client, f"/builds/{BUILD_ID}/search?q=sample%201&limit={limit}")
    assert len(_ids(items)) == len(set(_ids(items)))
    wanted = {f"syn-{n:04d}" for n in range(SYSTEMS) if str(n).startswith("1")}
    assert set(_ids(items)) == wanted


def test_search_walks_hundreds_of_hits_once(client, world):
    items, _ = _walk(client, f"/builds/{BUILD_ID}/search?q=sample&limit=100")
    assert sorted(_ids(items)) == sorted(s["system_id"] for s in world)


def test_search_puts_exact_matches_first(client, world):
    items, _ = _walk(client, f"/builds/{BUILD_ID}/search?q=sample&limit=5")
    exact = sorted(s["system_id"] for s in world if "Sample" in s["names"])
    assert sorted(_ids(items)[: len(exact)]) == exact
    assert all(item["matched_name"] == "Sample" for item in items[: len(exact)])


def test_planet_name_prefix_finds_each_host_once(client, world):
    path = f"/builds/{BUILD_ID}/search?q=Sample%20037%20b&limit=1"
    items, _ = _walk(client, path)
    assert _ids(items) == ["syn-0037"]
    assert items[0]["matched_name"] == "Sample 037 b"


def test_a_cursor_cannot_be_moved_to_another_query(client):
    first = json.loads(
        client.http.get(f"/builds/{BUILD_ID}/search?q=sample&limit=2").body
    )
    moved = client.http.get(
        f"/builds/{BUILD_ID}/search?q=walk&limit=2&cursor={first['next_cursor']}"
    )
    assert moved.status_code == 400
    assert json.loads(moved.body)["error"]["parameter"] == "cursor"


def test_a_near_request_reads_only_the_sectors_its_sphere_touches(
    client, world, dynamodb_requests
):
    centre, radius = (3.0, -4.0, 5.0), 12.0
    calls = dynamodb_requests
    path = f"/builds/{BUILD_ID}/systems?near=3,-4,5&radius=12&limit=1000"
    response = client.http.get(path)
    assert response.status_code == 200
    systems_table = SystemItem.Meta.table_name
    reads_of_systems = [
        (name, kwargs)
        for name, kwargs in calls
        if kwargs.get("TableName") == systems_table
        or systems_table in kwargs.get("RequestItems", {})
    ]
    # Only queries of the sector index: no scan, no query of a whole build.
    assert {name for name, _ in reads_of_systems} == {"Query"}
    assert {kw.get("IndexName") for _, kw in reads_of_systems} == {"by_sector"}
    read = [
        kw["ExpressionAttributeValues"][":0"]["S"]
        for _, kw in reads_of_systems
        if "ExclusiveStartKey" not in kw  # later pages of the same sector
    ]
    touched = [
        sectors.sector_key(BUILD_ID, s)
        for s in sectors.sectors_touching_sphere(centre, radius)
    ]
    assert sorted(read) == sorted(touched)  # each touched sector once
    every = {sectors.sector_of(s["x_pc"], s["y_pc"], s["z_pc"]) for s in world}
    assert len(touched) < len(every) / 2
    items = json.loads(response.body)["items"]
    inside = sorted(
        (math.dist(centre, (s["x_pc"], s["y_pc"], s["z_pc"])), s["system_id"])
        for s in world
        if math.dist(centre, (s["x_pc"], s["y_pc"], s["z_pc"])) <= radius
    )
    assert _ids(items) == [sid for _, sid in inside]
