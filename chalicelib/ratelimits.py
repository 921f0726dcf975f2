"""Per-client token buckets in DynamoDB for the expensive public queries.

Each (kind of query, client) pair has one bucket item: it refills at a steady
rate up to a burst, a query takes one token, and an empty bucket answers 429
with the seconds until the next token. Updates are single-item conditional
writes (no transactions), and idle buckets expire through the table's TTL.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.errors import TooManyRequests, condition_failed
from chalicelib.models import RateBucket
from chalicelib.settings import Settings

logger = logging.getLogger(__name__)
KINDS = ("near", "box", "search")
WRITE_ATTEMPTS = 3
IDLE_EXPIRY = timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    """A bucket's steady rate (tokens a second) and its size."""

    per_second: float
    burst: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Limit:
        """The stage's limit, from LB_RATE_LIMIT_PER_MINUTE and LB_RATE_LIMIT_BURST."""
        return cls(settings.rate_limit_per_minute / 60.0, settings.rate_limit_burst)


def client_key(source_ip: str | None, secret: str) -> str:
    """A client's bucket name: a keyed hash, so no address is stored."""
    text = (source_ip or "unknown").encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()[:24]


def take(kind: str, client: str, limit: Limit, now: float | None = None) -> float:
    """Spend one token of `client`'s bucket for `kind`; the tokens left.

    Raises TooManyRequests (with Retry-After seconds) when the bucket is empty.
    """
    if kind not in KINDS:
        raise ValueError(f"rate-limit kind {kind!r} is not one of {', '.join(KINDS)}")
    bucket_id = f"{kind}#{client}"
    for _ in range(WRITE_ATTEMPTS):
        moment = time.time() if now is None else now
        bucket = _read(bucket_id)
        tokens = _refilled(bucket, limit, moment)
        if tokens < 1.0:
            wait = math.ceil((1.0 - tokens) / limit.per_second)
            raise TooManyRequests(
                f"too many {kind} queries from this client; retry in {wait} s "
                "(cached answers are free)",
                retry_after=max(wait, 1),
            )
        if _write(bucket_id, bucket, tokens - 1.0, moment):
            return tokens - 1.0
        logger.debug("bucket %s changed under us; reading it again", bucket_id)
    raise TooManyRequests(
        f"too many concurrent {kind} queries from this client; retry in 1 s",
        retry_after=1,
    )


def _read(bucket_id: str) -> RateBucket | None:
    try:
        return RateBucket.get(bucket_id, consistent_read=True)
    except DoesNotExist:
        return None


def _refilled(bucket: RateBucket | None, limit: Limit, now: float) -> float:
    if bucket is None:
        return float(limit.burst)
    elapsed = max(0.0, now - float(bucket.updated_at))
    return min(float(limit.burst), float(bucket.tokens) + elapsed * limit.per_second)


def _write(bucket_id: str, old: RateBucket | None, tokens: float, now: float) -> bool:
    """Store the bucket if nobody else wrote it since we read it."""
    item = RateBucket(
        bucket_id,
        tokens=round(tokens, 6),
        updated_at=now,
        expires_at=datetime.fromtimestamp(now, UTC) + IDLE_EXPIRY,
    )
    condition = (
        RateBucket.bucket_id.does_not_exist()
        if old is None
        else RateBucket.updated_at == old.updated_at
    )
    try:
        item.save(condition=condition)
    except PutError as err:
        if condition_failed(err):
            return False
        raise
    return True
