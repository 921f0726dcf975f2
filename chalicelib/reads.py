"""The read path of build-scoped answers: resolve, reuse, rate-limit, compute.

A build reference (`active` or an id) resolves to a build; answers under a
published build never change, so they are kept in a per-process cache and
served from it without touching the rate limit or the database. Their ETag is
derived from what names them (release, build, query), not from their body, so
a conditional GET for one is answered 304 before the rate limit, the database
or the computation, in any process, warm or cold.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from chalice import Response

from chalicelib import builds, ratelimits
from chalicelib.api import (
    IMMUTABLE,
    SHORT,
    ImmutableCache,
    etag_matches,
    json_response,
    not_modified,
)
from chalicelib.errors import BuildNotPublished
from chalicelib.models import BuildRecord
from chalicelib.release import current_release
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


@dataclass(frozen=True)
class Answer:
    """A build-scoped answer: its body, or None when the client's copy is current.

    `etag` is set for answers under a published build (see `answer_etag`).
    """

    body: dict | None
    etag: str | None = None


def answer_etag(build_id: str, key: Hashable) -> str:
    """The strong ETag of an immutable answer, known before it is computed.

    The same release, build and query give the same bytes; the cursor secret is
    in the key because it signs the answer's `next_cursor`.
    """
    secret = get_settings().cursor_secret.encode()
    named = f"{current_release()}\0{build_id}\0{key!r}".encode()
    return '"' + hmac.new(secret, named, hashlib.sha256).hexdigest()[:32] + '"'


def answer(
    resolved: Resolved,
    key: Hashable,
    compute: Callable[[], dict],
    *,
    kind: str | None = None,
    client: str | None = None,
    if_none_match: str | None = None,
) -> Answer:
    """The answer for `key`: not modified, from the cache when immutable, or computed.

    `kind` names a rate-limited query; the limit applies only to computed
    answers, never to a 304 or a cached answer.
    """
    cache_key = (resolved.build_id, key)
    etag = None
    if resolved.immutable:
        etag = answer_etag(resolved.build_id, key)
        if if_none_match and etag_matches(if_none_match, etag):
            return Answer(None, etag)
        cached = ANSWERS.get(cache_key)
        if cached is not None:
            return Answer(cached, etag)
    if kind is not None:
        secret = get_settings().cursor_secret
        bucket = ratelimits.client_key(client, secret)
        ratelimits.take(kind, bucket, current_limit())
    body = compute()
    if resolved.immutable:
        ANSWERS.put(cache_key, body, size=size_of(body))
    return Answer(body, etag)


def respond(found: Answer, cache: str) -> Response:
    """The HTTP reply of an answer: a 304, or the JSON body with its ETag."""
    if found.body is None:
        return not_modified(found.etag or "", cache)
    headers = {"ETag": found.etag} if found.etag else None
    return json_response(found.body, cache=cache, headers=headers)
