"""What starts builds by itself: new source files, new models, the monthly refresh.

In AWS, S3 "Object Created" events reach `app.py` through EventBridge and the
refresh through an EventBridge schedule. Locally nothing delivers events, so
`jobctl` builds the same event documents (`object_created_event`) and hands them
to the same handlers. Each trigger carries an idempotency key, so the same
object delivered twice, or the same month's refresh fired twice, starts one job.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import builds, jobs, runner
from chalicelib.errors import BadRequest
from chalicelib.launchers import Launcher

logger = logging.getLogger(__name__)

INCOMING_PREFIX = "incoming/"
# The source roles a build reads (batch_jobs.sources.DEFAULT_SOURCES; a test keeps
# the two equal, since the Lambda package cannot import batch_jobs).
SOURCE_ROLES = frozenset(
    {"hip_main", "sscore_nearest", "sscore_brightest", "d3_names", "exoplanets"}
)
# The inference model the batch image builds with (batch_jobs.inference's
# MODEL_VERSION; the Lambda package cannot import it, so a test keeps the two equal).
INFERENCE_MODEL_VERSION = "occurrence-v1"
S3_EVENT_SOURCE = "aws.s3"
OBJECT_CREATED = "Object Created"
# What a deployment of the batch image with a new inference model sends (the
# deploy step's `aws events put-events`; `jobctl emit model-release` locally).
MODEL_EVENT_SOURCE = "localbubble.models"
MODEL_RELEASED = "Model Released"


class BadEvent(BadRequest):
    """An event document lacks what its handler needs."""

    code = "bad_event"


@dataclass(frozen=True)
class SourceObject:
    """One object in the sources bucket, as an object-created event names it."""

    bucket: str
    key: str
    etag: str
    size: int | None = None

    @property
    def role(self) -> str | None:
        """The source role of an `incoming/<role>/<file>` key, else None."""
        parts = self.key.split("/")
        if len(parts) < 3 or f"{parts[0]}/" != INCOMING_PREFIX or not parts[-1]:
            return None
        return parts[1] if parts[1] in SOURCE_ROLES else None

    @property
    def idempotency_key(self) -> str:
        """The same object (same key and content) always gives the same key."""
        return f"source:{self.bucket}/{self.key}@{self.etag}"


def source_object(detail: dict) -> SourceObject:
    """The object an S3 EventBridge event's `detail` names; BadEvent if malformed."""
    try:
        bucket = detail["bucket"]["name"]
        obj = detail["object"]
        key, etag = obj["key"], obj.get("etag", "")
    except (KeyError, TypeError) as err:
        raise BadEvent(
            f"S3 event detail lacks {err}; expected detail.bucket.name and "
            "detail.object.key (EventBridge 'Object Created')",
            "detail",
        ) from err
    return SourceObject(bucket, key, etag.strip('"'), obj.get("size"))


def object_created_event(
    obj: SourceObject, region: str, when: datetime | None = None
) -> dict:
    """The EventBridge event S3 sends when `obj` is created, for local delivery."""
    when = when or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": OBJECT_CREATED,
        "source": S3_EVENT_SOURCE,
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:s3:::{obj.bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": obj.bucket},
            "object": {"key": obj.key, "size": obj.size, "etag": obj.etag},
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": "local",
            "reason": "PutObject",
        },
    }


def scheduled_event(region: str, when: datetime | None = None) -> dict:
    """The EventBridge event a schedule sends, for local delivery."""
    when = when or datetime.now(UTC)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {},
    }


def on_source_created(
    obj: SourceObject, sources_bucket: str, launcher: Launcher
) -> jobs.Submission | None:
    """Start one build for a new incoming source file; ignore every other object."""
    if obj.bucket != sources_bucket or obj.role is None:
        logger.info("ignored s3://%s/%s: not an incoming source", obj.bucket, obj.key)
        return None
    params = {
        "activate": True,
        "incoming": True,
        "source": {"bucket": obj.bucket, "key": obj.key, "etag": obj.etag},
    }
    return runner.start(
        "build",
        params,
        launcher,
        idempotency_key=obj.idempotency_key,
        trigger="source",
    )


def refresh_key(when: datetime) -> str:
    """One refresh a month: the key is the month of the schedule's firing."""
    return f"refresh:{when.astimezone(UTC):%Y-%m}"


def parse_event_time(text: str) -> datetime:
    """An EventBridge `time` (`2026-07-01T03:00:00Z`) as an aware datetime."""
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError) as err:
        raise BadEvent(
            f"event time {text!r} is not like 2026-07-01T03:00:00Z", "time"
        ) from err


def model_release_key(model_version: str) -> str:
    """One rebuild per inference model version, however often it is asked for."""
    return f"model:{model_version}"


def stale_model(model_version: str = INFERENCE_MODEL_VERSION) -> str | None:
    """The active build's model version when it differs from `model_version`.

    None when they agree, or when no build is active (the first build uses the
    current model anyway).
    """
    pointer = builds.get_pointer()
    if pointer is None:
        return None
    active = builds.get_build(pointer.active_build_id)
    return None if active.model_version == model_version else active.model_version


def model_released_event(
    region: str, model_version: str = INFERENCE_MODEL_VERSION
) -> dict:
    """The EventBridge event a deployment sends for a new model, for local delivery."""
    event = scheduled_event(region)
    event.update(
        {
            "detail-type": MODEL_RELEASED,
            "source": MODEL_EVENT_SOURCE,
            "detail": {"model_version": model_version},
        }
    )
    return event


def released_model(detail: dict) -> str:
    """The model version a model-release event names (default: the one known here)."""
    version = (detail or {}).get("model_version", INFERENCE_MODEL_VERSION)
    if not isinstance(version, str) or not version.strip():
        raise BadEvent(
            f"model-release event detail.model_version is {version!r}; name a "
            f"model version like {INFERENCE_MODEL_VERSION!r} or leave it out",
            "detail.model_version",
        )
    return version


def on_model_release(
    launcher: Launcher, model_version: str = INFERENCE_MODEL_VERSION
) -> jobs.Submission | None:
    """Rebuild once when the active build was made with another inference model.

    The idempotency key holds the model version, so every later trigger for the
    same version returns the same job; None when the active build is current.
    """
    previous = stale_model(model_version)
    if previous is None:
        logger.info("active build already uses model %s", model_version)
        return None
    logger.info("model %s replaces %s: rebuilding", model_version, previous)
    return runner.start(
        "build",
        {"activate": True, "incoming": True, "model_version": model_version},
        launcher,
        idempotency_key=model_release_key(model_version),
        trigger="model",
    )


def on_refresh(when: datetime, launcher: Launcher) -> jobs.Submission:
    """Start the month's refresh build from the newest sources, once a month.

    When the inference model changed since the active build, the model's
    rebuild is that refresh (one build, not two).
    """
    rebuild = on_model_release(launcher)
    if rebuild is not None:
        return rebuild
    return runner.start(
        "build",
        {"activate": True, "incoming": True},
        launcher,
        idempotency_key=refresh_key(when),
        trigger="schedule",
    )
