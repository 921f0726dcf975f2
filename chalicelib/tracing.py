"""X-Ray set-up: active tracing in the cloud, silent where no daemon runs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from chalicelib.settings import Settings

logger = logging.getLogger(__name__)
DAEMON_ADDRESS = "AWS_XRAY_DAEMON_ADDRESS"


def configure(settings: Settings) -> None:
    """Silence X-Ray locally; in AWS, trace boto calls to DynamoDB and S3."""
    if settings.stage == "local":
        os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
        return
    from aws_xray_sdk.core import patch, xray_recorder

    xray_recorder.configure(context_missing="LOG_ERROR")
    patch(["boto3", "botocore"])


def batch_tracing_wanted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a batch job should send traces: a daemon address is set, SDK on.

    A Lambda function always has a daemon beside it; a batch job has one only
    where its deployment runs one (a sidecar) and names it.
    """
    env = os.environ if environ is None else environ
    enabled = env.get("AWS_XRAY_SDK_ENABLED", "true").strip().lower() != "false"
    return bool(env.get(DAEMON_ADDRESS)) and enabled


@contextmanager
def batch_segment(
    name: str, job_id: str | None = None, environ: Mapping[str, str] | None = None
) -> Iterator[bool]:
    """Trace the block as one X-Ray segment whose DynamoDB and S3 calls are
    subsegments, when `batch_tracing_wanted`; otherwise do nothing at all.

    Yields whether it traces. Calls from other threads (the heartbeats) have no
    segment and are left out rather than logged as errors.
    """
    env = os.environ if environ is None else environ
    if not batch_tracing_wanted(env):
        yield False
        return
    from aws_xray_sdk.core import patch, xray_recorder

    # Every job is traced: jobs are few, and a sampled-out slow one is the one
    # that would have been wanted.
    xray_recorder.configure(
        context_missing="IGNORE_ERROR",
        daemon_address=env[DAEMON_ADDRESS],
        sampling=False,
        service=name,
    )
    patch(["botocore"])
    segment = xray_recorder.begin_segment(name)
    if job_id:
        segment.put_annotation("job_id", job_id)
    try:
        yield True
    except BaseException as err:
        segment.add_exception(err, [])
        raise
    finally:
        xray_recorder.end_segment()
        logger.debug("trace of %s sent to %s", name, env[DAEMON_ADDRESS])
