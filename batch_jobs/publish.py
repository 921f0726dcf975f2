"""Write a world's query items to DynamoDB: systems and the names index.

Puts are idempotent (same key, same content), so a retried publish after a crash
rewrites what it wrote before and loses nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from batch_jobs.world import World
from chalicelib import names, sectors
from chalicelib.models import NameItem, SystemItem

logger = logging.getLogger(__name__)
# dynalite is one Node process: two writers keep it busy, more only contend.
WRITERS = 2


def system_item(build_id: str, system: dict) -> SystemItem:
    """The DynamoDB item of one system, placed in its sector when it has a position."""
    x, y, z = system.get("x_pc"), system.get("y_pc"), system.get("z_pc")
    placed = None not in (x, y, z)
    return SystemItem(
        build_id,
        system["system_id"],
        name=system["name"],
        sector_key=(
            sectors.sector_key(build_id, sectors.sector_of(x, y, z)) if placed else None
        ),
        x_pc=x if placed else None,
        y_pc=y if placed else None,
        z_pc=z if placed else None,
        doc=json.dumps(system, sort_keys=True, allow_nan=False, separators=(",", ":")),
    )


def name_items(build_id: str, system: dict) -> Iterator[NameItem]:
    """Index items for every name of a system and of its planets."""
    for key, label in names.indexed_names(system):
        yield NameItem(
            names.partition_key(build_id, key),
            names.sort_key(key, system["system_id"]),
            system_id=system["system_id"],
            display=label,
            system_name=system["name"],
        )


def _write(items: list) -> int:
    model = type(items[0])
    with model.batch_write() as batch:
        for item in items:
            batch.save(item)
    return len(items)


def _write_parallel(items: list) -> int:
    if not items:
        return 0
    chunks = [items[i::WRITERS] for i in range(WRITERS)]
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        return sum(pool.map(_write, [c for c in chunks if c]))


def write_items(build_id: str, world: World) -> dict:
    """Write every system and name item of `world`; return the counts written."""
    systems = [system_item(build_id, s) for s in world.systems]
    names = [n for s in world.systems for n in name_items(build_id, s)]
    written_systems = _write_parallel(systems)
    written_names = _write_parallel(names)
    logger.info(
        "wrote %d system items and %d name items", written_systems, written_names
    )
    return {"systems": written_systems, "names": written_names}
