"""The build registry: build records, their states, and the active-build pointer.

Every state change is a single conditional write, so a half-finished or failed
build can never be activated and two racing activations cannot both win.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from chalicelib.errors import BuildNotPublished, Conflict, NotFound, condition_failed
from chalicelib.models import ACTIVE_POINTER_ID, ActivePointer, BuildRecord

logger = logging.getLogger(__name__)

STATES = ("pending", "running", "validated", "published", "failed")
# Which states a build may move to from each state.
TRANSITIONS = {
    "pending": {"running", "failed"},
    "running": {"validated", "failed"},
    "validated": {"published", "failed"},
    "failed": {"running"},  # a retry of the same inputs resumes idempotently
    "published": set(),
}


def _now() -> datetime:
    return datetime.now(UTC)


def get_build(build_id: str) -> BuildRecord:
    """The record of `build_id`; NotFound when there is none."""
    if build_id == ACTIVE_POINTER_ID:
        raise NotFound(f"build {build_id!r} does not exist")
    try:
        return BuildRecord.get(build_id, consistent_read=True)
    except DoesNotExist as err:
        raise NotFound(f"build {build_id!r} does not exist") from err


def find_build(build_id: str) -> BuildRecord | None:
    """The record of `build_id`, or None."""
    try:
        return get_build(build_id)
    except NotFound:
        return None


def create_build(
    build_id: str,
    *,
    pipeline_version: str,
    model_version: str,
    settings: dict,
    sources: list[dict],
) -> BuildRecord:
    """Record a new build as `pending`; return the existing record if there is one."""
    now = _now()
    record = BuildRecord(
        build_id,
        state="pending",
        created_at=now,
        updated_at=now,
        pipeline_version=pipeline_version,
        model_version=model_version,
        settings_json=json.dumps(settings, sort_keys=True),
        sources_json=json.dumps(sources, sort_keys=True),
    )
    try:
        record.save(condition=BuildRecord.build_id.does_not_exist())
    except PutError as err:
        if condition_failed(err):
            return get_build(build_id)
        raise
    logger.debug("build %s recorded as pending", build_id)
    return record


def transition(record: BuildRecord, new_state: str, **fields: str | None) -> None:
    """Move `record` to `new_state` if it is still in the state we last read."""
    old_state = record.state
    if new_state not in TRANSITIONS.get(old_state, set()):
        raise Conflict(
            f"build {record.build_id} cannot go from {old_state} to {new_state}"
        )
    actions = [BuildRecord.state.set(new_state), BuildRecord.updated_at.set(_now())]
    for name, value in fields.items():
        attribute = getattr(BuildRecord, name)
        actions.append(
            attribute.set(value) if value is not None else attribute.remove()
        )
    try:
        record.update(actions=actions, condition=BuildRecord.state == old_state)
    except UpdateError as err:
        if condition_failed(err):
            raise Conflict(
                f"build {record.build_id} changed state while moving to {new_state}"
            ) from err
        raise
    logger.debug("build %s: %s -> %s", record.build_id, old_state, new_state)


def get_pointer() -> ActivePointer | None:
    """The active-build pointer, or None before the first activation."""
    try:
        return ActivePointer.get(ACTIVE_POINTER_ID, consistent_read=True)
    except DoesNotExist:
        return None


def active_build_id() -> str:
    """The id of the active build; NotFound when no build was ever activated."""
    pointer = get_pointer()
    if pointer is None:
        raise NotFound("no build is active yet; run a build (make demo) first")
    return pointer.active_build_id


def resolve_build_id(build_ref: str) -> str:
    """`active` resolves to the active build's id; any other id must exist."""
    if build_ref == "active":
        return active_build_id()
    get_build(build_ref)
    return build_ref


def activate(build_id: str) -> ActivePointer:
    """Make a published build the active one; the former one becomes previous."""
    record = get_build(build_id)
    if record.state != "published":
        raise BuildNotPublished(
            f"build {build_id} is {record.state}; "
            "only published builds can be activated"
        )
    current = get_pointer()
    if current is not None and current.active_build_id == build_id:
        return current
    revision = 0 if current is None else int(current.revision)
    pointer = ActivePointer(
        ACTIVE_POINTER_ID,
        active_build_id=build_id,
        previous_build_id=None if current is None else current.active_build_id,
        revision=revision + 1,
        switched_at=_now(),
    )
    condition = (
        ActivePointer.build_id.does_not_exist()
        if current is None
        else ActivePointer.revision == revision
    )
    try:
        pointer.save(condition=condition)
    except PutError as err:
        if condition_failed(err):
            raise Conflict(
                "another activation switched the active build first; read it and retry"
            ) from err
        raise
    logger.info("activated build %s (previous %s)", build_id, pointer.previous_build_id)
    return pointer
