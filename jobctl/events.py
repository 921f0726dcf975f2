"""Local event delivery: EventBridge documents handed to the app's own handlers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from chalicelib import triggers
from chalicelib.errors import NotFound
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

SOURCE_HANDLER = "source_object_created"
REFRESH_HANDLER = "monthly_refresh"
SWEEP_HANDLER = "sweep_jobs"
MODEL_HANDLER = "model_released"


@dataclass
class LocalContext:
    """The few Lambda context fields the handlers read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 128

    def get_remaining_time_in_millis(self) -> int:
        """A local call has no deadline; say five minutes, as a Lambda would."""
        return 300_000


def deliver(handler_name: str, event: dict) -> dict:
    """Call the `app.py` handler registered as `handler_name` with `event`."""
    from app import app as chalice_app

    handler = chalice_app.handler_map[handler_name]
    return handler(event, LocalContext(handler_name))


def find_object(store: ObjectStore, bucket: str, key: str) -> triggers.SourceObject:
    """The object under exactly `key`, with its ETag; NotFound if there is none."""
    for obj in store.list_objects(bucket, key):
        if obj.key == key:
            return triggers.SourceObject(bucket, obj.key, obj.etag, obj.size)
    raise NotFound(f"s3://{bucket}/{key} does not exist; upload it first")


class SourceWatcher:
    """Lists `incoming/` in the sources bucket and delivers one event per new object.

    It remembers what it delivered in this process only: after a restart it
    delivers everything again, and the handler's idempotency keys make those
    repeats return the jobs they started the first time.
    """

    def __init__(
        self,
        store: ObjectStore,
        bucket: str,
        region: str,
        send: Callable[[str, dict], dict] = deliver,
    ) -> None:
        self.store = store
        self.bucket = bucket
        self.region = region
        self.send = send
        self.seen: set[tuple[str, str]] = set()

    def poll(self) -> list[dict]:
        """Deliver an event for each object not seen yet; return the replies."""
        replies = []
        for obj in self.store.list_objects(self.bucket, triggers.INCOMING_PREFIX):
            if (obj.key, obj.etag) in self.seen:
                continue
            source = triggers.SourceObject(self.bucket, obj.key, obj.etag, obj.size)
            event = triggers.object_created_event(source, self.region)
            reply = self.send(SOURCE_HANDLER, event)
            self.seen.add((obj.key, obj.etag))
            logger.info("delivered s3://%s/%s: %s", self.bucket, obj.key, reply)
            replies.append({"key": obj.key, **reply})
        return replies
