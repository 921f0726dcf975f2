"""Opaque, tamper-evident list cursors.

A cursor is the JSON position in a list, signed with HMAC-SHA256 and bound to the
query it came from, so a changed or transplanted cursor is refused with a 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from chalicelib.errors import BadRequest
from chalicelib.settings import get_settings


def _sign(scope: str, body: bytes) -> bytes:
    key = get_settings().cursor_secret.encode()
    return hmac.new(key, scope.encode() + b"\0" + body, hashlib.sha256).digest()[:16]


def encode(position: dict, scope: str) -> str:
    """A cursor for `position` within the list that `scope` names."""
    body = json.dumps(position, separators=(",", ":"), sort_keys=True).encode()
    token = _sign(scope, body) + body
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def decode(cursor: str, scope: str) -> dict:
    """The position a cursor holds; BadRequest if it was altered or is foreign."""
    invalid = BadRequest(
        "cursor is not valid for this query: altered, or made for other parameters"
        " or another build (under `active`, a new active build ends old cursors);"
        " start again without it",
        "cursor",
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (ValueError, TypeError) as err:
        raise invalid from err
    signature, body = raw[:16], raw[16:]
    if len(raw) <= 16 or not hmac.compare_digest(signature, _sign(scope, body)):
        raise invalid
    try:
        position = json.loads(body)
    except ValueError as err:
        raise invalid from err
    if not isinstance(position, dict):
        raise invalid
    return position
