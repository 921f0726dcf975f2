"""Parsing of query parameters; every failure names the parameter and the fix."""

from __future__ import annotations

import math

from chalicelib.errors import BadRequest

DEFAULT_LIMIT = 50


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError as err:
        raise BadRequest(f"{name} must be a number, got {text!r}", name) from err
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number, got {text!r}", name)
    return value


def point(name: str, text: str | None) -> tuple[float, float, float]:
    """`x,y,z` in parsecs."""
    if text is None:
        raise BadRequest(f"{name} is required, as x,y,z in parsecs", name)
    parts = text.split(",")
    if len(parts) != 3:
        raise BadRequest(f"{name} must be x,y,z in parsecs, got {text!r}", name)
    x, y, z = (_number(name, part.strip()) for part in parts)
    return (x, y, z)


def positive(name: str, text: str | None) -> float:
    """A required number above zero."""
    if text is None:
        raise BadRequest(f"{name} is required", name)
    value = _number(name, text)
    if value <= 0:
        raise BadRequest(f"{name} must be above 0, got {text!r}", name)
    return value


def limit(text: str | None, maximum: int) -> int:
    """Page size: 1 to `maximum`, default DEFAULT_LIMIT."""
    if text is None:
        return min(DEFAULT_LIMIT, maximum)
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise BadRequest(f"limit must be a whole number from 1 to {maximum}", "limit")
    return int(text)


def text(name: str, value: str | None, max_length: int = 100) -> str:
    """A required, non-blank string of bounded length."""
    if value is None or not value.strip():
        raise BadRequest(f"{name} is required", name)
    if len(value) > max_length:
        raise BadRequest(f"{name} must be at most {max_length} characters", name)
    return value.strip()
