"""X-Ray set-up: active tracing in the cloud, silent where no daemon runs."""

from __future__ import annotations

import os

from chalicelib.settings import Settings


def configure(settings: Settings) -> None:
    """Silence X-Ray locally; in AWS, trace boto calls to DynamoDB and S3."""
    if settings.stage == "local":
        os.environ.setdefault("AWS_XRAY_SDK_ENABLED", "false")
        return
    from aws_xray_sdk.core import patch, xray_recorder

    xray_recorder.configure(context_missing="LOG_ERROR")
    patch(["boto3", "botocore"])
