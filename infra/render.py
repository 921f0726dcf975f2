"""Render `infra/template.json`: the tables and buckets Chalice does not create.

Tables come from the same PynamoDB models the code uses, so the cloud and the
local set-up cannot drift; `tests/unit/test_infra.py` fails if the committed
template differs from what this renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chalicelib.tables import cloudformation_resources

TEMPLATE = Path(__file__).with_name("template.json")


def _bucket(
    suffix: str, versioned: bool, expire_days: int | None, events: bool = False
) -> dict:
    props: dict = {
        "BucketName": {"Fn::Sub": f"localbubble-${{Stage}}-{suffix}"},
        "PublicAccessBlockConfiguration": {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        },
        "BucketEncryption": {
            "ServerSideEncryptionConfiguration": [
                {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]
        },
    }
    if versioned:
        props["VersioningConfiguration"] = {"Status": "Enabled"}
    if events:
        # Object-created events reach the app's trigger handler through EventBridge.
        props["NotificationConfiguration"] = {
            "EventBridgeConfiguration": {"EventBridgeEnabled": True}
        }
    if expire_days:
        props["LifecycleConfiguration"] = {
            "Rules": [
                {
                    "Id": "expire-noncurrent",
                    "Status": "Enabled",
                    "NoncurrentVersionExpiration": {"NoncurrentDays": expire_days},
                }
            ]
        }
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": props,
    }


def render() -> dict:
    """The whole CloudFormation template as a dict."""
    resources = cloudformation_resources()
    resources["SourcesBucket"] = _bucket(
        "sources", versioned=True, expire_days=365, events=True
    )
    resources["BuildsBucket"] = _bucket("builds", versioned=True, expire_days=30)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Local Bubble: tables and buckets (Chalice creates the API).",
        "Parameters": {
            "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"]},
        },
        "Resources": resources,
    }


def main() -> int:
    """Write the template; with --check, fail if the committed one differs."""
    text = json.dumps(render(), indent=2, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        return 0 if TEMPLATE.read_text() == text else 1
    TEMPLATE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
