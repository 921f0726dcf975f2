"""Read-side queries behind the public API: builds, systems, planets, search.

No query scans a big table: a system is one GetItem, near and box read only the
sectors they touch, a whole-build list reads one partition in key order, and
search reads a prefix of the names index. Every list walks a total order and its
cursor names the last position given out, so each item comes exactly once.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from chalicelib import cursors, sectors
from chalicelib.errors import BadRequest, NotFound
from chalicelib.models import ACTIVE_POINTER_ID, BuildRecord, NameItem, SystemItem
from chalicelib.schemas import SystemListQuery

logger = logging.getLogger(__name__)
# Items DynamoDB evaluates per request page; tests shrink it to cross pages often.
QUERY_PAGE_ITEMS = 500
# DynamoDB pages one list request may read before it answers with a cursor.
MAX_PAGES_PER_REQUEST = 8
SECTOR_READERS = 8
SUMMARY_ATTRIBUTES = ["system_id", "name", "x_pc", "y_pc", "z_pc"]
# Planet filters matched inside a system's JSON record (written with sort_keys
# and compact separators), so DynamoDB filters whole-build lists server-side.
PLANET_MARKERS = {
    "any": '"planets":[{',
    "known": '"known":true',
    "inferred": '"inferred":true',
}
HZ_MARKERS = {True: '"in_hz":true', False: '"in_hz":false'}
PLANET_KINDS = {"any": None, "known": "known", "inferred": "inferred"}


@dataclass(frozen=True)
class PlanetFilter:
    """Which systems a list keeps: those with at least one planet of this kind.

    A planet matches as on the planets route: its `known` or `inferred` field is
    true, and its `in_hz` field is the value asked for (a planet without the
    field matches neither value). An empty filter keeps every system.
    """

    planets: str | None = None
    in_hz: bool | None = None

    def __bool__(self) -> bool:
        return self.planets is not None or self.in_hz is not None

    def matches(self, planets: Iterable[dict]) -> bool:
        """Whether a system with these planets is kept."""
        if not self:
            return True
        kind = PLANET_KINDS[self.planets] if self.planets is not None else None
        return any(
            (kind is None or planet.get(kind) is True)
            and (self.in_hz is None or planet.get("in_hz") is self.in_hz)
            for planet in planets
        )

    def condition(self) -> Any:
        """A DynamoDB filter on the system's JSON record that keeps a superset."""
        condition = None
        if self.planets is not None:
            condition = SystemItem.doc.contains(PLANET_MARKERS[self.planets])
        if self.in_hz is not None:
            hz = SystemItem.doc.contains(HZ_MARKERS[self.in_hz])
            condition = hz if condition is None else condition & hz
        return condition

    def __str__(self) -> str:
        return f"{self.planets}:{self.in_hz}"


@dataclass(frozen=True)
class Page:
    """Items of one page and the cursor of the next (None at the end)."""

    items: list[dict]
    next_cursor: str | None

    def as_dict(self, **extra: Any) -> dict:
        """The JSON form of the page."""
        return {**extra, "items": self.items, "next_cursor": self.next_cursor}


def _position(cursor: str | None, scope: str, key: str, kind: type) -> Any:
    """The position a cursor holds for `scope`, checked to be of `kind`."""
    if cursor is None:
        return None
    value = cursors.decode(cursor, scope).get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BadRequest("cursor is not valid for this query", "cursor")
    return value


def _pages(results: Any, model: type[Model]) -> Iterator[list[Any]]:
    """The items of a PynamoDB query, one DynamoDB page at a time."""
    for page in results.page_iter:
        yield [model.from_raw_data(raw) for raw in page.get("Items", [])]


# Builds


def list_builds(state: str | None, limit: int, cursor: str | None) -> Page:
    """Builds, newest first; the builds table is small (one item per build)."""
    scope = f"builds:{state}"
    after = _position(cursor, scope, "after", list)
    records = [
        record
        for page in _pages(BuildRecord.scan(page_size=QUERY_PAGE_ITEMS), BuildRecord)
        for record in page
        if record.build_id != ACTIVE_POINTER_ID and (state in (None, record.state))
    ]
    ordered = sorted(
        records, key=lambda r: (r.created_at.isoformat(), r.build_id), reverse=True
    )
    if after is not None:
        mark = tuple(map(str, after))
        ordered = [r for r in ordered if (r.created_at.isoformat(), r.build_id) < mark]
    page = ordered[:limit]
    next_cursor = None
    if len(ordered) > limit:
        last = page[-1]
        position = {"after": [last.created_at.isoformat(), last.build_id]}
        next_cursor = cursors.encode(position, scope)
    return Page([build_view(r) for r in page], next_cursor)


def build_view(record: BuildRecord) -> dict:
    """The public JSON form of a build record."""
    return {
        "build_id": record.build_id,
        "state": record.state,
        "created_at": record.created_at.isoformat(),
        "pipeline_version": record.pipeline_version,
        "model_version": record.model_version,
        "settings": json.loads(record.settings_json),
        "sources": json.loads(record.sources_json),
        "counts": json.loads(record.counts_json or "{}"),
        "artifacts": json.loads(record.artifacts_json or "{}"),
        "error": record.error,
    }


# Systems


def get_system(build_id: str, system_id: str) -> dict:
    """The full record of one system of one build."""
    try:
        item = SystemItem.get(build_id, system_id)
    except DoesNotExist as err:
        raise NotFound(f"system {system_id!r} is not in build {build_id}") from err
    return {**json.loads(item.doc), "build_id": build_id}


def list_planets(
    build_id: str,
    system_id: str,
    flags: dict[str, bool | None],
    limit: int,
    cursor: str | None,
) -> Page:
    """A system's planets in catalogue order, filtered on their boolean fields.

    A planet without a field (v1 planets carry no `in_hz`) matches neither value.
    """
    wanted = {name: value for name, value in flags.items() if value is not None}
    scope = f"planets:{build_id}:{system_id}:{sorted(wanted.items())}"
    offset = _position(cursor, scope, "offset", int) or 0
    planets = get_system(build_id, system_id)["planets"]
    matching = [
        planet
        for planet in planets
        if all(planet.get(name) is value for name, value in wanted.items())
    ]
    page = matching[offset : offset + limit]
    more = offset + limit < len(matching)
    next_cursor = cursors.encode({"offset": offset + limit}, scope) if more else None
    return Page(page, next_cursor)


def _summary(item: SystemItem, distance: float | None = None) -> dict:
    summary = {
        "system_id": item.system_id,
        "name": item.name,
        "x_pc": item.x_pc,
        "y_pc": item.y_pc,
        "z_pc": item.z_pc,
    }
    if distance is not None:
        summary["distance_pc"] = round(distance, 6)
    return summary


def list_systems(
    build_id: str,
    wanted: PlanetFilter,
    limit: int,
    cursor: str | None,
) -> Page:
    """Every system of a build by id, optionally only those with such planets.

    DynamoDB filters on markers in the system's record (a superset) and each
    kept record is checked exactly, so a sparse filter may give short pages:
    each request reads at most MAX_PAGES_PER_REQUEST pages before it answers.
    """
    scope = f"systems:{build_id}:{wanted}"
    after = _position(cursor, scope, "after", str)
    results = SystemItem.query(
        build_id,
        range_key_condition=None if after is None else SystemItem.system_id > after,
        filter_condition=wanted.condition(),
        attributes_to_get=SUMMARY_ATTRIBUTES + (["doc"] if wanted else []),
        page_size=QUERY_PAGE_ITEMS,
    )
    items: list[dict] = []
    for pages_read, page in enumerate(_pages(results, SystemItem), start=1):
        evaluated = results.page_iter.last_evaluated_key
        for item in page:
            if wanted and not wanted.matches(json.loads(item.doc).get("planets") or ()):
                continue
            items.append(_summary(item))
            if len(items) == limit:
                ended = item is page[-1] and evaluated is None
                mark = {"after": item.system_id}
                return Page(items, None if ended else cursors.encode(mark, scope))
        if evaluated is None:
            break
        if pages_read >= MAX_PAGES_PER_REQUEST:
            mark = {"after": evaluated["system_id"]["S"]}
            return Page(items, cursors.encode(mark, scope))
    return Page(items, None)


def systems(build_id: str, query: SystemListQuery) -> Page:
    """The page a systems-list query asks for, by its selector."""
    q = query
    wanted = PlanetFilter(q.planets, q.in_hz)
    if q.near is not None and q.radius is not None:
        return near(build_id, q.near, q.radius, q.limit, q.cursor, wanted)
    if q.box is not None:
        return box(build_id, q.box, q.limit, q.cursor, wanted)
    if q.sector is not None:
        return sector(build_id, q.sector, q.limit, q.cursor, wanted)
    return list_systems(build_id, wanted, q.limit, q.cursor)


_PLANETS_CACHE: dict[tuple[str, str], tuple[dict, ...]] = {}
_PLANETS_CACHE_MAX = 50_000


def _planets_of(build_id: str, system_ids: Iterable[str]) -> dict[str, tuple]:
    """The planets of each system, with only the fields the planet filters read.

    The sector index carries no planet data, so the records are read in batches;
    builds are immutable, so what was read is kept for later pages and queries.
    """
    ids = set(system_ids)
    missing = [sid for sid in ids if (build_id, sid) not in _PLANETS_CACHE]
    if missing:
        if len(_PLANETS_CACHE) + len(missing) > _PLANETS_CACHE_MAX:
            _PLANETS_CACHE.clear()
        found = SystemItem.batch_get(
            [(build_id, sid) for sid in missing], attributes_to_get=["system_id", "doc"]
        )
        for item in found:
            planets = json.loads(item.doc).get("planets") or ()
            _PLANETS_CACHE[(build_id, item.system_id)] = tuple(
                {k: p[k] for k in ("known", "inferred", "in_hz") if k in p}
                for p in planets
            )
    return {sid: _PLANETS_CACHE.get((build_id, sid), ()) for sid in ids}


def _with_planets(
    build_id: str, items: list[SystemItem], wanted: PlanetFilter
) -> set[str]:
    """The ids of those of `items` whose planets pass `wanted`."""
    planets = _planets_of(build_id, (item.system_id for item in items))
    return {sid for sid, found in planets.items() if wanted.matches(found)}


def _read_sector(
    build_id: str, sector: tuple[int, int, int], after: str | None = None
) -> list[SystemItem]:
    """Every system of one sector (all its DynamoDB pages), by id."""
    condition = None if after is None else SystemItem.system_id > after
    results = SystemItem.by_sector.query(
        sectors.sector_key(build_id, sector),
        range_key_condition=condition,
        page_size=QUERY_PAGE_ITEMS,
    )
    return [item for page in _pages(results, SystemItem) for item in page]


def _read_sectors(
    build_id: str, touched: list[tuple[int, int, int]]
) -> Iterable[list[SystemItem]]:
    if len(touched) == 1:
        return [_read_sector(build_id, touched[0])]
    with ThreadPoolExecutor(max_workers=SECTOR_READERS) as pool:
        return list(pool.map(lambda s: _read_sector(build_id, s), touched))


def near(
    build_id: str,
    centre: tuple[float, float, float],
    radius: float,
    limit: int,
    cursor: str | None = None,
    wanted: PlanetFilter = PlanetFilter(),
) -> Page:
    """Systems within `radius` pc of `centre`, nearest first, one page at a time."""
    scope = f"near:{build_id}:{centre}:{radius}:{wanted}"
    offset = _position(cursor, scope, "offset", int) or 0
    touched = list(sectors.sectors_touching_sphere(centre, radius))
    hits = []
    for item in (item for group in _read_sectors(build_id, touched) for item in group):
        distance = math.dist(centre, (item.x_pc, item.y_pc, item.z_pc))
        if distance <= radius:
            hits.append((distance, item))
    if wanted:
        kept = _with_planets(build_id, [item for _, item in hits], wanted)
        hits = [hit for hit in hits if hit[1].system_id in kept]
    hits.sort(key=lambda hit: (hit[0], hit[1].system_id))
    logger.debug(
        "near %s r=%s: %d sectors, %d hits", centre, radius, len(touched), len(hits)
    )
    page = [_summary(item, distance) for distance, item in hits[offset:][:limit]]
    more = offset + limit < len(hits)
    next_cursor = cursors.encode({"offset": offset + limit}, scope) if more else None
    return Page(page, next_cursor)


def _sectors_of_box(low: tuple, high: tuple) -> list[tuple[int, int, int]]:
    first, last = sectors.sector_of(*low), sectors.sector_of(*high)
    return [
        (i, j, k)
        for i in range(first[0], last[0] + 1)
        for j in range(first[1], last[1] + 1)
        for k in range(first[2], last[2] + 1)
    ]


def _inside(low: tuple, high: tuple) -> Callable[[SystemItem], bool]:
    def test(item: SystemItem) -> bool:
        point = (item.x_pc, item.y_pc, item.z_pc)
        return all(a <= p <= b for a, p, b in zip(low, point, high))

    return test


def box(
    build_id: str,
    corners: tuple[float, ...],
    limit: int,
    cursor: str | None = None,
    wanted: PlanetFilter = PlanetFilter(),
) -> Page:
    """Systems inside an axis-aligned box, ordered by sector, then by id."""
    low = tuple(min(a, b) for a, b in zip(corners[:3], corners[3:]))
    high = tuple(max(a, b) for a, b in zip(corners[:3], corners[3:]))
    scope = f"box:{build_id}:{low}:{high}:{wanted}"
    touched = _sectors_of_box(low, high)
    return _walk_sectors(
        build_id, touched, _inside(low, high), scope, limit, cursor, wanted
    )


def sector(
    build_id: str,
    index: tuple[int, int, int],
    limit: int,
    cursor: str | None = None,
    wanted: PlanetFilter = PlanetFilter(),
) -> Page:
    """Every system of one 20 pc sector, by id."""
    scope = f"sector:{build_id}:{index}:{wanted}"
    return _walk_sectors(build_id, [index], _anywhere, scope, limit, cursor, wanted)


def _anywhere(_item: SystemItem) -> bool:
    return True


def _walk_sectors(
    build_id: str,
    ordered: list[tuple[int, int, int]],
    keep: Callable[[SystemItem], bool],
    scope: str,
    limit: int,
    cursor: str | None,
    wanted: PlanetFilter = PlanetFilter(),
) -> Page:
    """Walk sectors in order, resuming strictly after the cursor's (sector, id).

    `keep` tests a system's position; `wanted` its planets, read for the
    systems `keep` passes, one batch of sectors at a time.
    """
    position = _position(cursor, scope, "at", list)
    start, after = 0, None
    if position is not None:
        if len(position) != 2 or not isinstance(position[0], int):
            raise BadRequest("cursor is not valid for this query", "cursor")
        start, after = position[0], str(position[1])
    items: list[dict] = []
    index = start
    while index < len(ordered):
        batch = ordered[index : index + SECTOR_READERS]
        if after is not None:
            groups = [_read_sector(build_id, batch[0], after)]
            groups += list(_read_sectors(build_id, batch[1:])) if batch[1:] else []
            after = None
        else:
            groups = list(_read_sectors(build_id, batch))
        kept = None
        if wanted:
            placed = [item for group in groups for item in group if keep(item)]
            kept = _with_planets(build_id, placed, wanted)
        for offset, group in enumerate(groups):
            for item in group:
                if not keep(item) or (kept is not None and item.system_id not in kept):
                    continue
                items.append(_summary(item))
                if len(items) == limit:
                    mark = {"at": [index + offset, item.system_id]}
                    more = _has_more(ordered, index + offset, group, item)
                    return Page(items, cursors.encode(mark, scope) if more else None)
        index += len(batch)
    return Page(items, None)


def _has_more(
    ordered: list[tuple[int, int, int]],
    index: int,
    group: list[SystemItem],
    last: SystemItem,
) -> bool:
    """Whether anything may follow `last`: more of its sector, or more sectors."""
    return index + 1 < len(ordered) or group[-1].system_id != last.system_id


# Search. Only search reads designations and names (a costly import, with the
# constellation tables): imported on its first call, not on every cold start.


def _hip_hit(build_id: str, query: str) -> dict | None:
    from chalicelib import designations

    parsed = designations.parse_catalogue_id(query)
    if parsed is None or parsed[0] != "hip":
        return None
    try:
        item = SystemItem.get(build_id, f"hip-{parsed[1]}")
    except DoesNotExist:
        return None
    return {"system_id": item.system_id, "name": item.name, "matched_name": query}


_KEYS_CACHE: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
_KEYS_CACHE_MAX = 50_000


def _system_keys(
    build_id: str, system_ids: set[str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """(key, sort key) of every key each system is indexed under.

    Made from the system's record, as the pipeline made its names items; cached
    (a build is immutable).
    """
    from chalicelib import names

    wanted = {sid for sid in system_ids if (build_id, sid) not in _KEYS_CACHE}
    if wanted:
        if len(_KEYS_CACHE) > _KEYS_CACHE_MAX:
            _KEYS_CACHE.clear()
        found = SystemItem.batch_get(
            [(build_id, sid) for sid in wanted], attributes_to_get=["system_id", "doc"]
        )
        for item in found:
            doc = json.loads(item.doc)
            keys = tuple(
                sorted(
                    (key, names.sort_key(key, doc))
                    for key, _ in names.indexed_names(doc)
                )
            )
            _KEYS_CACHE[(build_id, item.system_id)] = keys
    return {sid: _KEYS_CACHE.get((build_id, sid), ()) for sid in system_ids}


def _first_match(key: str, keys: tuple[tuple[str, str], ...]) -> str | None:
    """The sort key at which a system is listed for `key`: exact, else the least."""
    for indexed, sort in keys:
        if indexed == key:
            return sort
    matching = [sort for indexed, sort in keys if indexed.startswith(key)]
    return min(matching) if matching else None


def _name_pages(build_id: str, key: str, prefix: str, after: str | None, size: int):
    from chalicelib import names

    partition = names.partition_key(build_id, key)
    start = None
    if after is not None:
        # Resume strictly after the last sort key given out (it need not exist).
        start = {"key": {"S": partition}, "name_sort": {"S": after}}
    results = NameItem.query(
        partition,
        range_key_condition=NameItem.name_sort.startswith(prefix),
        last_evaluated_key=start,
        page_size=size,
    )
    return _pages(results, NameItem)


def search(build_id: str, query: str, limit: int, cursor: str | None = None) -> Page:
    """Systems one of whose names starts with `query`, each system once.

    Order: the HIP number hit, then exact matches, then prefix matches by name;
    systems sharing a name come brightest first (`names.sort_key`).
    A system is listed at its first matching key in that order, a rule that
    needs no memory of earlier pages, so pages never repeat or skip a system.
    """
    from chalicelib import designations, names

    try:
        key = designations.normalise(query)
        hip = _hip_hit(build_id, query) if cursor is None else None
    except ValueError as err:
        raise BadRequest(f"q cannot be searched: {err}", "q") from err
    if len(key) < names.SEARCH_PREFIX_CHARS:
        raise BadRequest(
            f"q must hold at least {names.SEARCH_PREFIX_CHARS} letters or digits", "q"
        )
    scope = f"search:{build_id}:{key}:{query}"
    position = _position(cursor, scope, "at", list)
    phase, after = ("exact", None) if position is None else position
    if phase not in ("exact", "prefix") or not isinstance(after, str | None):
        raise BadRequest("cursor is not valid for this query", "cursor")
    hip_id = _hip_system_id(query)
    items: list[dict] = [hip] if hip else []
    if len(items) >= limit:
        return Page(items, cursors.encode({"at": ["exact", None]}, scope))
    pages_read = 0
    while True:
        prefix = f"{key}#" if phase == "exact" else key
        size = min(QUERY_PAGE_ITEMS, 2 * limit + 10)
        pages = _name_pages(build_id, key, prefix, after, size)
        for page in pages:
            pages_read += 1
            keys = _system_keys(build_id, {name.system_id for name in page})
            for name in page:
                sid = name.system_id
                first = _first_match(key, keys[sid])
                # None: the record no longer derives this key; list it where found.
                listed_here = first is None or first == name.name_sort
                if phase == "prefix" and name.name_sort.startswith(f"{key}#"):
                    listed_here = False
                if sid != hip_id and listed_here:
                    items.append(_as_hit(name))
                if len(items) == limit:
                    mark = {"at": [phase, name.name_sort]}
                    return Page(items, cursors.encode(mark, scope))
            if pages_read >= MAX_PAGES_PER_REQUEST and page:
                mark = {"at": [phase, page[-1].name_sort]}
                return Page(items, cursors.encode(mark, scope))
        if phase == "prefix":
            return Page(items, None)
        phase, after = "prefix", None


def _hip_system_id(query: str) -> str | None:
    from chalicelib import designations

    parsed = designations.parse_catalogue_id(query)
    return f"hip-{parsed[1]}" if parsed and parsed[0] == "hip" else None


def _as_hit(name: NameItem) -> dict:
    return {
        "system_id": name.system_id,
        "name": name.system_name,
        "matched_name": name.display,
    }
