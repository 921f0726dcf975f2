"""What the site's build pages show: each published build and what it is made of.

At site build time the registry names the published builds and the active and
previous one; the builds bucket holds each build's source manifest, quality
report (and, when the quality job wrote it, its HTML page) and the comparison
reports. `collect_builds` reads them once into plain values the templates draw.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from chalicelib import builds, queries
from chalicelib.errors import LocalBubbleError, NotFound
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

COMPARISONS_PREFIX = "comparisons/"
REGISTRY_LIMIT = 10_000


class BuildPageError(LocalBubbleError):
    """A stored build artifact the pages need is not readable JSON."""

    code = "build_page_error"


@dataclass(frozen=True)
class PublishedBuild:
    """One published build as its page shows it.

    `role` is "active", "previous" or None; `comparison` is the report of this
    build against the one it was compared with when it was built (None for a
    first build); `quality_html` is the quality job's page, when there is one.
    """

    build: dict
    role: str | None
    sources: list[dict]
    quality: dict
    quality_html: bytes | None
    comparison: dict | None

    @property
    def build_id(self) -> str:
        return self.build["build_id"]


def collect_builds(store: ObjectStore, bucket: str) -> list[PublishedBuild]:
    """Every published build, newest first, with its stored reports."""
    pointer = builds.get_pointer()
    roles: dict[str, str] = {}
    if pointer is not None:
        roles[pointer.active_build_id] = "active"
        if pointer.previous_build_id:
            roles[pointer.previous_build_id] = "previous"
    views = queries.list_builds("published", REGISTRY_LIMIT, None).items
    pairs = _comparison_pairs(store.list_keys(bucket, COMPARISONS_PREFIX))
    found = []
    for view in views:
        build_id = view["build_id"]
        prefix = f"builds/{build_id}"
        old_id = pairs.get(build_id)
        comparison = None
        if old_id is not None:
            key = f"{COMPARISONS_PREFIX}{old_id}__{build_id}/report.json"
            comparison = _json(store, bucket, key)
        found.append(
            PublishedBuild(
                build=view,
                role=roles.get(build_id),
                sources=_json(store, bucket, f"{prefix}/source_manifest.json") or [],
                quality=_json(store, bucket, f"{prefix}/quality_report.json") or {},
                quality_html=_optional(store, bucket, f"{prefix}/quality_report.html"),
                comparison=comparison,
            )
        )
    logger.debug("collected %d published builds", len(found))
    return found


def _comparison_pairs(keys: list[str]) -> dict[str, str]:
    """new build id -> the old build id it was compared with (the last listed)."""
    pairs = {}
    for key in sorted(keys):
        name, _, leaf = key[len(COMPARISONS_PREFIX) :].partition("/")
        old_id, sep, new_id = name.partition("__")
        if sep and leaf == "report.json":
            pairs[new_id] = old_id
    return pairs


def _optional(store: ObjectStore, bucket: str, key: str) -> bytes | None:
    try:
        return store.get(bucket, key)
    except NotFound:
        return None


def _json(store: ObjectStore, bucket: str, key: str):
    """The JSON object at `key`, None when there is no such object."""
    body = _optional(store, bucket, key)
    if body is None:
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise BuildPageError(f"s3://{bucket}/{key} is not JSON: {exc}") from exc
