"""Parsing of query parameters for the routes not yet on pydantic models (simulation).

Every failure names the parameter and the fix; `chalicelib.schemas` does this for
the public routes.
"""

from __future__ import annotations

import math
import re

from chalicelib.errors import BadRequest

DEFAULT_LIMIT = 50
# Plain ASCII decimals only: float() would also take "1_000" and fullwidth digits.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?")
_ID = re.compile(r"[A-Za-z0-9@][A-Za-z0-9._+-]{0,127}")
_ECHO = 40


def _shown(text: str) -> str:
    """The value as echoed in a message: quoted, and cut short if long."""
    return repr(text if len(text) <= _ECHO else text[:_ECHO] + "...")


def identifier(name: str, text: str) -> str:
    """A build or system id: letters, digits and . _ + - @, at most 128 characters."""
    if not _ID.fullmatch(text):
        raise BadRequest(
            f"{name} {_shown(text)} is not an id: use letters, digits, '.', '_', '+',"
            " '-' (at most 128 characters), as in hip-70890",
            name,
        )
    return text


def _number(name: str, text: str) -> float:
    if not _DECIMAL.fullmatch(text):
        raise BadRequest(f"{name} must be a number, got {_shown(text)}", name)
    value = float(text)
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, got {_shown(text)}", name)
    return value


def point(name: str, text: str | None) -> tuple[float, float, float]:
    """`x,y,z` in parsecs."""
    if text is None:
        raise BadRequest(f"{name} is required, as x,y,z in parsecs", name)
    parts = text.split(",")
    if len(parts) != 3:
        raise BadRequest(f"{name} must be x,y,z in parsecs, got {_shown(text)}", name)
    x, y, z = (_number(name, part.strip()) for part in parts)
    return (x, y, z)


def positive(name: str, text: str | None) -> float:
    """A required number above zero."""
    if text is None:
        raise BadRequest(f"{name} is required", name)
    value = _number(name, text)
    if value <= 0:
        raise BadRequest(f"{name} must be above 0, got {_shown(text)}", name)
    return value


def limit(text: str | None, maximum: int) -> int:
    """Page size: 1 to `maximum`, default DEFAULT_LIMIT."""
    if text is None:
        return min(DEFAULT_LIMIT, maximum)
    if not re.fullmatch(r"[0-9]{1,6}", text) or not 1 <= int(text) <= maximum:
        raise BadRequest(f"limit must be a whole number from 1 to {maximum}", "limit")
    return int(text)


def text(name: str, value: str | None, max_length: int = 100) -> str:
    """A required, non-blank string of bounded length."""
    if value is None or not value.strip():
        raise BadRequest(f"{name} is required", name)
    if len(value) > max_length:
        raise BadRequest(f"{name} must be at most {max_length} characters", name)
    return value.strip()
