"""Publishing retries BatchWrite's unprocessed items with backoff and loses none.

The real local DynamoDB (dynalite) never throttles, so a botocore event hook on
the real client plays DynamoDB's part: before the first calls go out it takes
some put requests out of the request (they are never sent) and, after the real
reply comes back, returns them as `UnprocessedItems`, as DynamoDB does when it
throttles. The items are then counted in the real table.
"""

from __future__ import annotations

import threading

import pytest

from batch_jobs import publish
from batch_jobs.world import World
from chalicelib.models import NameItem, SystemItem

pytestmark = pytest.mark.integration


class Throttle:
    """Holds back part of the first `calls` BatchWriteItem requests, per thread."""

    def __init__(self, client, calls: int, keep: int) -> None:
        self.client, self.calls_left, self.keep = client, calls, keep
        self.held_back: dict[int, dict] = {}
        self.withheld = 0
        self.lock = threading.Lock()

    def __enter__(self) -> Throttle:
        events = self.client.meta.events
        events.register("provide-client-params.dynamodb.BatchWriteItem", self.before)
        events.register("after-call.dynamodb.BatchWriteItem", self.after)
        return self

    def __exit__(self, *exc) -> None:
        events = self.client.meta.events
        events.unregister("provide-client-params.dynamodb.BatchWriteItem", self.before)
        events.unregister("after-call.dynamodb.BatchWriteItem", self.after)

    def before(self, params: dict, **kwargs) -> None:
        with self.lock:
            if self.calls_left <= 0:
                return
            self.calls_left -= 1
        (table, requests), *_ = params["RequestItems"].items()
        if len(requests) <= self.keep:
            return
        params["RequestItems"][table] = requests[: self.keep]
        with self.lock:
            self.withheld += len(requests) - self.keep
        self.held_back[threading.get_ident()] = {table: requests[self.keep :]}

    def after(self, parsed: dict, **kwargs) -> None:
        held = self.held_back.pop(threading.get_ident(), None)
        if held:
            parsed["UnprocessedItems"] = held


def _systems(n: int) -> list[dict]:
    return [
        {
            "system_id": f"retry-{i:04d}",
            "name": f"Retry Star {i}",
            "names": [f"Retry Star {i}"],
            "source": "synthetic",
            "x_pc": float(i),
            "y_pc": 1.0,
            "z_pc": -1.0,
            "planets": [],
        }
        for i in range(n)
    ]


def test_unprocessed_items_are_sent_again_after_backoff_and_none_is_lost(settings):
    build_id = "wb-test-publish-retry"
    items = [publish.system_item(build_id, s) for s in _systems(120)]
    client = publish.model_client(SystemItem)
    delays: list[float] = []
    table = SystemItem.Meta.table_name
    with Throttle(client, calls=3, keep=5) as throttle:
        stats = publish.batch_write(
            client, table, [i.serialize() for i in items], sleep=delays.append
        )
    # The first batch of 25 goes out 5 at a time for three calls: 20, 15, 10 held.
    assert throttle.withheld == 20 + 15 + 10
    assert stats.retried_items >= throttle.withheld
    assert stats.items == 120
    assert delays and all(0 < d <= publish.MAX_DELAY_S for d in delays)
    assert SystemItem.count(build_id) == 120


def test_a_retried_call_waits_longer_each_time(settings):
    build_id = "wb-test-publish-backoff"
    items = [publish.system_item(build_id, s).serialize() for s in _systems(25)]
    client = publish.model_client(SystemItem)
    delays: list[float] = []
    # Four calls in a row send 1 item of what is pending: a batch retried 4 times.
    with Throttle(client, calls=4, keep=1):
        stats = publish.batch_write(
            client, SystemItem.Meta.table_name, items, sleep=delays.append
        )
    assert stats.calls == 5 and stats.items == 25
    assert len(delays) == 4
    for attempt, delay in enumerate(delays, start=1):
        ceiling = publish.BASE_DELAY_S * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling
    assert SystemItem.count(build_id) == 25


def test_items_still_unprocessed_after_every_attempt_raise_and_say_how_many(settings):
    items = [
        publish.system_item("wb-test-publish-giveup", s).serialize()
        for s in _systems(10)
    ]
    client = publish.model_client(SystemItem)
    with Throttle(client, calls=100, keep=1):
        with pytest.raises(publish.ItemsNotWritten, match="item\\(s\\) still unpro"):
            publish.batch_write(
                client,
                SystemItem.Meta.table_name,
                items,
                sleep=lambda s: None,
                max_attempts=3,
            )


def test_write_items_counts_every_system_and_name_under_throttling(settings):
    build_id = "wb-test-publish-world"
    world = World(systems=_systems(300), quality={})
    expected_names = sum(
        len(list(publish.name_items(build_id, s))) for s in world.systems
    )
    client = publish.model_client(SystemItem)
    names_client = publish.model_client(NameItem)
    with Throttle(client, calls=6, keep=10), Throttle(names_client, calls=6, keep=3):
        counts = publish.write_items(build_id, world)
    assert counts == {"systems": 300, "names": expected_names}
    assert SystemItem.count(build_id) == 300
    assert client is not names_client  # each hook saw only its own table
    keys = [
        (n.key, n.name_sort)
        for s in world.systems
        for n in publish.name_items(build_id, s)
    ]
    stored = sum(1 for _ in NameItem.batch_get(keys))
    assert stored == expected_names
