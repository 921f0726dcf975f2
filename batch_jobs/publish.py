"""Write a world's query items to DynamoDB: systems and the names index.

Puts are idempotent (same key, same content), so a retried publish after a crash
rewrites what it wrote before and loses nothing. Items go out through
BatchWriteItem, 25 a call; the items DynamoDB hands back as `UnprocessedItems`
(throttling, or a busy local server) are sent again after an exponential backoff
with jitter, and a batch that still has unprocessed items after `MAX_ATTEMPTS`
calls raises `ItemsNotWritten` rather than dropping them.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from batch_jobs.world import World
from chalicelib import names, sectors
from chalicelib.errors import ServiceUnavailable
from chalicelib.models import NameItem, SystemItem

logger = logging.getLogger(__name__)
# dynalite is one Node process: two writers keep it busy, more only contend.
WRITERS = 2
BATCH_SIZE = 25  # DynamoDB's limit for one BatchWriteItem call
MAX_ATTEMPTS = 10
BASE_DELAY_S = 0.05
MAX_DELAY_S = 5.0


class ItemsNotWritten(ServiceUnavailable):
    """DynamoDB kept returning some items as unprocessed after every retry."""


@dataclass
class WriteStats:
    """What one batch write did: items written, calls made, items sent again."""

    items: int = 0
    calls: int = 0
    retried_items: int = 0

    def add(self, other: WriteStats) -> WriteStats:
        """Return the sum of two writes' statistics."""
        return WriteStats(
            self.items + other.items,
            self.calls + other.calls,
            self.retried_items + other.retried_items,
        )


def backoff_delay(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry `attempt` (1, 2, ...): doubling, capped, jittered.

    "Equal jitter": half the doubled delay is fixed, half random, so retries grow
    exponentially while two writers throttled together do not retry in step.
    """
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** (attempt - 1))
    return ceiling / 2 + (rng or random).uniform(0.0, ceiling / 2)


def batch_write(
    client,
    table: str,
    items: list[dict],
    *,
    sleep: Callable[[float], None] = time.sleep,
    max_attempts: int = MAX_ATTEMPTS,
) -> WriteStats:
    """Put serialised items into `table`, retrying unprocessed ones with backoff.

    `client` is a botocore DynamoDB client; `items` are attribute-value maps (a
    PynamoDB model's `serialize()`). Raises `ItemsNotWritten` naming the table and
    the count when a batch still has unprocessed items after `max_attempts` calls.
    """
    stats = WriteStats()
    for start in range(0, len(items), BATCH_SIZE):
        pending = [
            {"PutRequest": {"Item": item}} for item in items[start : start + BATCH_SIZE]
        ]
        attempt = 0
        while pending:
            attempt += 1
            if attempt > 1:
                stats.retried_items += len(pending)
                sleep(backoff_delay(attempt - 1))
            reply = client.batch_write_item(RequestItems={table: pending})
            stats.calls += 1
            left = reply.get("UnprocessedItems", {}).get(table, [])
            stats.items += len(pending) - len(left)
            pending = left
            if pending and attempt >= max_attempts:
                raise ItemsNotWritten(
                    f"table {table}: {len(pending)} item(s) still unprocessed after "
                    f"{attempt} BatchWriteItem calls; retry the publish (puts are "
                    "idempotent)"
                )
            if pending:
                logger.debug("%s: %d unprocessed item(s), retrying", table, len(left))
    return stats


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
            names.sort_key(key, system),
            system_id=system["system_id"],
            display=label,
            system_name=system["name"],
        )


def model_client(model: type):
    """The botocore client PynamoDB uses for `model`'s table (its endpoint, keys)."""
    return model._get_connection().connection.client


def write_models(items: list, client=None) -> WriteStats:
    """Write PynamoDB items of one model with `WRITERS` threads; return the stats."""
    if not items:
        return WriteStats()
    model = type(items[0])
    client = client or model_client(model)
    table = model.Meta.table_name
    serialised = [item.serialize() for item in items]
    chunks = [serialised[i::WRITERS] for i in range(WRITERS)]
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        done = pool.map(
            lambda c: batch_write(client, table, c), [c for c in chunks if c]
        )
        total = WriteStats()
        for stats in done:
            total = total.add(stats)
    if total.retried_items:
        logger.info(
            "%s: %d item(s) sent again after backoff", table, total.retried_items
        )
    return total


def write_items(build_id: str, world: World) -> dict:
    """Write every system and name item of `world`; return the counts written."""
    return write_systems(build_id, world.systems)


def write_systems(build_id: str, records: list[dict]) -> dict:
    """Write the system and name items of system records; return the counts."""
    systems = [system_item(build_id, s) for s in records]
    names = [n for s in records for n in name_items(build_id, s)]
    written_systems = write_models(systems).items
    written_names = write_models(names).items
    logger.info(
        "wrote %d system items and %d name items", written_systems, written_names
    )
    return {"systems": written_systems, "names": written_names}
