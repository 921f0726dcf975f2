"""The read path of build-scoped answers: resolve, reuse, rate-limit, compute.

A build reference (`active` or an id) resolves to a build; answers under a
published build never change, so they are kept in a per-process cache and
served from it without touching the rate limit or the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from chalicelib import builds, ratelimits
from chalicelib.api import IMMUTABLE, SHORT, ImmutableCache
from chalicelib.errors import BuildNotPublished
from chalicelib.models import BuildRecord
from chalicelib.settings import get_settings

logger = logging.getLogger(__name__)
ANSWERS = ImmutableCache()
_PUBLISHED: dict[str, BuildRecord] = {}


@dataclass(frozen=True)
class Resolved:
    """A build reference resolved: the build and how long answers may be cached."""

    record: BuildRecord
    immutable: bool
    cache_control: str

    @property
    def build_id(self) -> str:
        """The world_build_id."""
        return self.record.build_id


def resolve(build_ref: str) -> Resolved:
    """`active` or an id to its build; published builds are read once per process."""
    build_id = builds.active_build_id() if build_ref == "active" else build_ref
    record = _PUBLISHED.get(build_id)
    if record is None:
        record = builds.get_build(build_id)
        if record.state == "published":
            _PUBLISHED[build_id] = record
    immutable = record.state == "published"
    cache = IMMUTABLE if immutable and build_ref != "active" else SHORT
    return Resolved(record, immutable, cache)


def resolve_published(build_ref: str) -> Resolved:
    """As `resolve`, for reads of a build's world, which only a published build has.

    A build still being written would show half a world and a failed one none;
    both are refused (409) rather than answered with empty lists.
    """
    resolved = resolve(build_ref)
    if resolved.record.state != "published":
        build_id = resolved.build_id
        raise BuildNotPublished(
            f"build {build_id} is {resolved.record.state}, not published, so it has"
            f" no systems to read; GET /builds/{build_id} (and its /quality) says why"
        )
    return resolved


def size_of(body: dict) -> int:
    """A cheap estimate of an answer's size in characters, for the cache's bound."""
    items = body.get("items")
    if isinstance(items, list):
        return len(items) * 200
    return len(json.dumps(body, separators=(",", ":")))


def current_limit() -> ratelimits.Limit:
    """The stage's per-client limit for expensive queries."""
    return ratelimits.Limit.from_settings(get_settings())


def answer(
    resolved: Resolved,
    key: Hashable,
    compute: Callable[[], dict],
    *,
    kind: str | None = None,
    client: str | None = None,
) -> dict:
    """The answer for `key`, from the cache when immutable, else computed.

    `kind` names a rate-limited query; the limit applies only to computed answers.
    """
    cache_key = (resolved.build_id, key)
    if resolved.immutable:
        cached = ANSWERS.get(cache_key)
        if cached is not None:
            return cached
    if kind is not None:
        secret = get_settings().cursor_secret
        bucket = ratelimits.client_key(client, secret)
        ratelimits.take(kind, bucket, current_limit())
    body = compute()
    if resolved.immutable:
        ANSWERS.put(cache_key, body, size=size_of(body))
    return body
