"""Build reports in the builds bucket: quality reports and build comparisons.

The pipeline writes each build's `builds/<id>/quality_report.json` and, when a
build follows an active one, `comparisons/<old>__<new>/report.json` (and
`.html`); both are written once and never change, so the API serves them as
immutable documents and lists comparisons straight from the bucket's keys.
"""

from __future__ import annotations

import json
import logging

from chalicelib import cursors
from chalicelib.errors import BadRequest, LocalBubbleError, NotFound
from chalicelib.queries import Page

logger = logging.getLogger(__name__)
COMPARISONS_PREFIX = "comparisons/"
PAIR_SEPARATOR = "__"
REPORT_NAME = "report.json"
HTML_NAME = "report.html"


def _store():
    # Imported on first use: boto3 is a slow import and most requests skip it.
    from chalicelib.storage import ObjectStore

    return ObjectStore()


def _bucket() -> str:
    from chalicelib.settings import get_settings

    return get_settings().builds_bucket


def comparison_prefix(old_id: str, new_id: str) -> str:
    """The key prefix of the comparison of build `old_id` with `new_id`."""
    return f"{COMPARISONS_PREFIX}{old_id}{PAIR_SEPARATOR}{new_id}"


def _json_object(raw: bytes, where: str) -> dict:
    """A stored report parsed as a JSON object; a broken one is our fault (500)."""
    try:
        value = json.loads(raw)
    except ValueError as err:
        raise LocalBubbleError(f"{where} is not JSON; it cannot be served") from err
    if not isinstance(value, dict):
        raise LocalBubbleError(f"{where} is not a JSON object; it cannot be served")
    return value


def quality_report(build_id: str) -> dict:
    """The quality report the pipeline stored for `build_id`."""
    key = f"builds/{build_id}/quality_report.json"
    try:
        raw = _store().get(_bucket(), key)
    except NotFound as err:
        raise NotFound(
            f"build {build_id} has no quality report (it is written while the "
            "build runs, before it is published)"
        ) from err
    return _json_object(raw, key)


def comparison_report(old_id: str, new_id: str) -> dict:
    """The stored report comparing build `old_id` (before) with `new_id` (after)."""
    key = f"{comparison_prefix(old_id, new_id)}/{REPORT_NAME}"
    try:
        raw = _store().get(_bucket(), key)
    except NotFound as err:
        raise NotFound(
            f"no comparison of build {old_id} with build {new_id} is stored; "
            f"a build is compared with the build active when it was published "
            f"(see /builds/{new_id}/comparisons)"
        ) from err
    return _json_object(raw, key)


def _pair(key: str) -> tuple[str, str] | None:
    """(old_id, new_id) of a comparison report's key, or None for other keys."""
    if not key.startswith(COMPARISONS_PREFIX) or not key.endswith("/" + REPORT_NAME):
        return None
    pair = key[len(COMPARISONS_PREFIX) : -len(REPORT_NAME) - 1]
    old_id, separator, new_id = pair.partition(PAIR_SEPARATOR)
    if not separator or not old_id or not new_id or "/" in pair:
        return None
    return old_id, new_id


def _summary(build_id: str, old_id: str, new_id: str) -> dict:
    return {
        "old_id": old_id,
        "new_id": new_id,
        "side": "old" if old_id == build_id else "new",
        "report": f"/comparisons/{old_id}/{new_id}",
    }


def list_comparisons(build_id: str, limit: int, cursor: str | None) -> Page:
    """The comparisons in which `build_id` is the old or the new build.

    Ordered by (old_id, new_id), the bucket's key order, so a cursor naming the
    last pair given out resumes each walk exactly once. Comparisons are few (one
    per published build after the first), so one listing of their keys serves.
    """
    scope = f"comparisons:{build_id}"
    after = None
    if cursor is not None:
        position = cursors.decode(cursor, scope).get("after")
        if not (
            isinstance(position, list)
            and len(position) == 2
            and all(isinstance(part, str) for part in position)
        ):
            raise BadRequest("cursor is not valid for this query", "cursor")
        after = (position[0], position[1])
    pairs = sorted(
        pair
        for key in _store().list_keys(_bucket(), COMPARISONS_PREFIX)
        if (pair := _pair(key)) is not None and build_id in pair
    )
    if after is not None:
        pairs = [pair for pair in pairs if pair > after]
    page = pairs[:limit]
    next_cursor = None
    if len(pairs) > limit:
        next_cursor = cursors.encode({"after": list(page[-1])}, scope)
    items = [_summary(build_id, old_id, new_id) for old_id, new_id in page]
    return Page(items, next_cursor)
