"""Render `infra/template.json` and the API's per-stage merge templates.

`template.json` holds the tables, buckets and AWS Batch resources (`infra/batch.py`)
Chalice does not create; tables come
from the same PynamoDB models the code uses, so the cloud and the local set-up
cannot drift. `api-<stage>.json` is merged into what `chalice package` writes
(`--merge-template`): API Gateway stage throttling on every route, and gateway
answers (throttled, unknown route, other 4xx and 5xx) in the API's JSON error
shape with CORS headers. `tests/unit/test_infra.py` fails if any committed file
differs from what this renders.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from chalicelib.tables import cloudformation_resources
from infra import batch

TEMPLATE = Path(__file__).with_name("template.json")
# API Gateway throttling per stage: steady requests a second and burst, per
# account and stage, in front of every route (the in-app limits are per client).
API_THROTTLING = {
    "dev": {"rate": 20, "burst": 40},
    "prod": {"rate": 200, "burst": 400},
}
_GATEWAY_ERRORS = {
    "THROTTLED": (429, "too_many_requests", "the API is busy; retry after a pause"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "no such path or method"),
    "DEFAULT_4XX": (400, "bad_request", "the request was refused by the gateway"),
    "DEFAULT_5XX": (503, "service_unavailable", "the API is unavailable; retry"),
}


def api_template_path(stage: str) -> Path:
    """Where the merge template of `stage` lives."""
    return TEMPLATE.with_name(f"api-{stage}.json")


def _gateway_response(status: int, code: str, message: str) -> dict:
    body = {"error": {"code": code, "message": message, "parameter": None}}
    headers = {
        "Access-Control-Allow-Origin": "'*'",
        "Access-Control-Expose-Headers": "'ETag,Retry-After,Cache-Control'",
        "Cache-Control": "'no-store'",
    }
    if status in (429, 503):
        headers["Retry-After"] = "'1'"
    return {
        "StatusCode": status,
        "ResponseParameters": {"Headers": headers},
        "ResponseTemplates": {"application/json": json.dumps(body)},
    }


def render_api(stage: str) -> dict:
    """The merge template for `chalice package --stage STAGE --merge-template`."""
    limits = API_THROTTLING[stage]
    return {
        "Resources": {
            "RestAPI": {
                "Properties": {
                    "MethodSettings": [
                        {
                            "ResourcePath": "/*",
                            "HttpMethod": "*",
                            "ThrottlingRateLimit": limits["rate"],
                            "ThrottlingBurstLimit": limits["burst"],
                        }
                    ],
                    "GatewayResponses": {
                        kind: _gateway_response(*answer)
                        for kind, answer in _GATEWAY_ERRORS.items()
                    },
                }
            }
        }
    }


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
    resources.update(batch.resources())
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": (
            "Local Bubble: tables, buckets and the AWS Batch job runners "
            "(Chalice creates the API)."
        ),
        "Parameters": {
            "Stage": {"Type": "String", "AllowedValues": ["dev", "prod"]},
            **batch.parameters(),
        },
        "Resources": resources,
    }


def _text(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Write the templates; with --check, fail if a committed one differs."""
    wanted = {TEMPLATE: _text(render())}
    for stage in API_THROTTLING:
        wanted[api_template_path(stage)] = _text(render_api(stage))
    if "--check" in sys.argv:
        stale = [p for p, text in wanted.items() if p.read_text() != text]
        return 1 if stale else 0
    for path, text in wanted.items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
