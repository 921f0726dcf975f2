"""API keys for the admin routes: roles, hashed storage, and the request check.

A key is `lbk_<key_id>_<secret>`: the id finds the item, the secret (32 random
bytes) is stored only as its sha256, so a copy of the table cannot be used to
call the API. Secrets are random, not chosen by people, so a plain sha256 is
enough; a slow password hash would only slow every request. Roles are ordered:
an `operator` may do what a `viewer` may, and more.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.errors import BadRequest, LocalBubbleError, NotFound
from chalicelib.models import ApiKey

logger = logging.getLogger(__name__)

ROLES = ("viewer", "operator")
PREFIX = "lbk_"
HEADER = "authorization"
SCHEME = "Bearer"


class _AccessError(LocalBubbleError):
    """An access refusal; `parameter` names the header at fault."""

    def __init__(self, message: str, parameter: str | None = HEADER) -> None:
        self.parameter = parameter
        super().__init__(message)


class Unauthorized(_AccessError):
    """No usable API key came with a request that needs one."""

    status_code = 401
    code = "unauthorized"


class Forbidden(_AccessError):
    """The API key is valid but its role may not do this."""

    status_code = 403
    code = "forbidden"


@dataclass(frozen=True)
class IssuedKey:
    """A newly made key: the token is shown once and never stored."""

    key_id: str
    role: str
    name: str
    token: str


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BadRequest(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")


def create_key(name: str, role: str) -> IssuedKey:
    """Make a key with `role`; only its hash is stored."""
    _check_role(role)
    if not name.strip():
        raise BadRequest("a key needs a name saying who or what uses it", "name")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    item = ApiKey(
        key_id,
        secret_sha256=_digest(secret),
        role=role,
        name=name.strip()[:200],
        created_at=datetime.now(UTC),
    )
    try:
        item.save(condition=ApiKey.key_id.does_not_exist())
    except PutError as err:  # a 48-bit id collided: astronomically rare
        raise LocalBubbleError(f"key id {key_id} exists; create the key again") from err
    logger.info("api key %s (%s) created for %s", key_id, role, item.name)
    return IssuedKey(key_id, role, item.name, f"{PREFIX}{key_id}_{secret}")


def revoke_key(key_id: str) -> ApiKey:
    """Stop a key from working from now on; the item stays as a record."""
    try:
        item = ApiKey.get(key_id, consistent_read=True)
    except DoesNotExist as err:
        raise NotFound(f"no API key {key_id!r}; `jobctl api-key list`") from err
    item.update(actions=[ApiKey.revoked_at.set(datetime.now(UTC))])
    return item


def list_keys() -> list[ApiKey]:
    """Every key, revoked ones too (there are few)."""
    return sorted(ApiKey.scan(), key=lambda item: item.created_at)


def _token(headers: Mapping[str, str]) -> str | None:
    value = headers.get(HEADER) or headers.get(HEADER.title())
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    if scheme != SCHEME or not token.strip():
        raise Unauthorized(f"the Authorization header must be '{SCHEME} {PREFIX}...'")
    return token.strip()


def authenticate(headers: Mapping[str, str]) -> ApiKey | None:
    """The key a request presents, or None without one; Unauthorized if bad."""
    token = _token(headers)
    if token is None:
        return None
    key_id, _, secret = token.removeprefix(PREFIX).partition("_")
    if not token.startswith(PREFIX) or not key_id or not secret:
        raise Unauthorized(f"an API key looks like {PREFIX}<id>_<secret>")
    try:
        item = ApiKey.get(key_id, consistent_read=True)
    except DoesNotExist:
        item = None
    if item is None or not hmac.compare_digest(item.secret_sha256, _digest(secret)):
        raise Unauthorized("the API key is not valid")
    if item.revoked_at is not None:
        raise Unauthorized(f"API key {key_id} was revoked")
    return item


def require(headers: Mapping[str, str], role: str) -> ApiKey:
    """The request's key if its role allows `role`'s actions; 401 or 403 if not."""
    item = authenticate(headers)
    if item is None:
        raise Unauthorized(
            f"this route needs an API key with role {role} or above: send "
            f"'Authorization: {SCHEME} {PREFIX}...' (jobctl api-key create)"
        )
    if ROLES.index(item.role) < ROLES.index(role):
        raise Forbidden(
            f"API key {item.key_id} has role {item.role}; this needs {role}"
        )
    return item


def role_of(headers: Mapping[str, str]) -> str | None:
    """The role of the request's key, or None for a request without a key."""
    item = authenticate(headers)
    return None if item is None else item.role
