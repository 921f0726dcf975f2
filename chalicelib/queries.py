"""Read-side queries behind the public API: one system, systems near a point, search.

No query scans a table: a system is one GetItem, a near-query reads only the
sectors its sphere touches, and search reads a prefix of the names index.
"""

from __future__ import annotations

import json
import logging
import math
from concurrent.futures import ThreadPoolExecutor

from pynamodb.exceptions import DoesNotExist

from chalicelib import cursors, designations, sectors
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import NameItem, SystemItem

logger = logging.getLogger(__name__)
MAX_NEAR_RADIUS_PC = 50.0
MAX_LIMIT = 1000
SEARCH_PREFIX_CHARS = 2


def get_system(build_id: str, system_id: str) -> dict:
    """The full record of one system of one build."""
    try:
        item = SystemItem.get(build_id, system_id)
    except DoesNotExist as err:
        raise NotFound(f"system {system_id!r} is not in build {build_id}") from err
    return {**json.loads(item.doc), "build_id": build_id}


def _sector_members(build_id: str, sector: tuple[int, int, int]) -> list[SystemItem]:
    return list(SystemItem.by_sector.query(sectors.sector_key(build_id, sector)))


def near(
    build_id: str,
    centre: tuple[float, float, float],
    radius: float,
    limit: int,
    cursor: str | None = None,
) -> dict:
    """Systems within `radius` pc of `centre`, nearest first, one page at a time."""
    if not 0 < radius <= MAX_NEAR_RADIUS_PC:
        raise BadRequest(
            f"radius must be above 0 and at most {MAX_NEAR_RADIUS_PC:g} pc", "radius"
        )
    scope = f"near:{build_id}:{centre}:{radius}"
    offset = 0 if cursor is None else cursors.decode(cursor, scope).get("offset")
    if not isinstance(offset, int) or offset < 0:
        raise BadRequest("cursor is not valid for this query", "cursor")
    touched = list(sectors.sectors_touching_sphere(centre, radius))
    with ThreadPoolExecutor(max_workers=8) as pool:
        groups = pool.map(lambda s: _sector_members(build_id, s), touched)
    hits = []
    for item in (item for group in groups for item in group):
        distance = math.dist(centre, (item.x_pc, item.y_pc, item.z_pc))
        if distance <= radius:
            hits.append((distance, item))
    hits.sort(key=lambda hit: (hit[0], hit[1].system_id))
    page = hits[offset : offset + limit]
    logger.debug(
        "near %s r=%s: %d sectors, %d hits", centre, radius, len(touched), len(hits)
    )
    items = [
        {
            "system_id": item.system_id,
            "name": item.name,
            "x_pc": item.x_pc,
            "y_pc": item.y_pc,
            "z_pc": item.z_pc,
            "distance_pc": round(distance, 6),
        }
        for distance, item in page
    ]
    more = offset + limit < len(hits)
    next_cursor = cursors.encode({"offset": offset + limit}, scope) if more else None
    return {"items": items, "next_cursor": next_cursor}


def _name_hits(build_id: str, key: str, prefix: str, limit: int, start=None):
    return NameItem.query(
        f"{build_id}#{key[:SEARCH_PREFIX_CHARS]}",
        NameItem.name_sort.startswith(prefix),
        limit=limit,
        last_evaluated_key=start,
    )


def _hip_hit(build_id: str, query: str) -> dict | None:
    parsed = designations.parse_catalogue_id(query)
    if parsed is None or parsed[0] != "hip":
        return None
    try:
        item = SystemItem.get(build_id, f"hip-{parsed[1]}")
    except DoesNotExist:
        return None
    return {"system_id": item.system_id, "name": item.name, "matched_name": query}


def search(build_id: str, query: str, limit: int, cursor: str | None = None) -> dict:
    """Systems whose names start with `query` in normalised form; exact hits first."""
    key = designations.normalise(query)
    if len(key) < SEARCH_PREFIX_CHARS:
        raise BadRequest(
            f"q must hold at least {SEARCH_PREFIX_CHARS} letters or digits", "q"
        )
    scope = f"search:{build_id}:{key}"
    items: list[dict] = []
    seen: set[str] = set()

    def add(hit: dict) -> None:
        if hit["system_id"] not in seen and len(items) < limit:
            seen.add(hit["system_id"])
            items.append(hit)

    start = None
    if cursor is None:
        hip = _hip_hit(build_id, query)
        if hip is not None:
            add(hip)
        for name in _name_hits(build_id, key, f"{key}#", limit):
            add(_as_hit(name))
    else:
        start = cursors.decode(cursor, scope).get("after")
        if not isinstance(start, dict) or set(start) != {"key", "name_sort"}:
            raise BadRequest("cursor is not valid for this query", "cursor")
    results = _name_hits(build_id, key, key, limit, start)
    last = None
    for name in results:
        if len(items) >= limit:
            break
        add(_as_hit(name))
        last = {"key": {"S": name.key}, "name_sort": {"S": name.name_sort}}
    more = results.last_evaluated_key is not None or len(items) >= limit
    next_cursor = cursors.encode({"after": last}, scope) if more and last else None
    return {"items": items, "next_cursor": next_cursor}


def _as_hit(name: NameItem) -> dict:
    return {
        "system_id": name.system_id,
        "name": name.system_name,
        "matched_name": name.display,
    }
