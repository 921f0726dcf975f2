"""Object storage over the S3 API: SeaweedFS locally, S3 in the cloud.

Build artifacts are immutable, so the one write primitive is `put_once`: a
conditional put that refuses to replace an object with different content.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

import botocore.config
import botocore.exceptions

from chalicelib.errors import ArtifactExists, NotFound, ServiceUnavailable
from chalicelib.models import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from chalicelib.settings import Settings, get_settings

logger = logging.getLogger(__name__)
SHA_METADATA = "sha256"


@functools.lru_cache(maxsize=4)
def _client_for(settings: Settings):
    # boto3 (with s3transfer and multiprocessing) is imported on the first storage
    # call, not with the API: most requests read DynamoDB only, and a cold Lambda
    # pays every import before its first answer.
    import boto3

    kwargs = {
        "region_name": settings.region,
        "config": botocore.config.Config(
            retries={"max_attempts": 5, "mode": "standard"},
            s3={"addressing_style": "path"},
        ),
    }
    if settings.stage == "local":
        kwargs.update(
            endpoint_url=settings.s3_endpoint,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
        )
    return boto3.client("s3", **kwargs)


@dataclass(frozen=True)
class StoredObject:
    """One listed object: its key, ETag (unquoted), size and last change."""

    key: str
    etag: str
    size: int
    last_modified: datetime


class ObjectStore:
    """The few storage operations the product needs, on one S3 client."""

    def __init__(self, settings: Settings | None = None, client=None) -> None:
        self.settings = settings or get_settings()
        self.client = client or _client_for(self.settings)

    def ensure_bucket(self, bucket: str) -> None:
        """Create `bucket` if it does not exist yet (local set-up and tests)."""
        try:
            self.client.head_bucket(Bucket=bucket)
        except botocore.exceptions.ClientError:
            self.client.create_bucket(Bucket=bucket)
            logger.debug("created bucket %s", bucket)

    def put_once(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/json"
    ) -> bool:
        """Write `body` under `key` unless it is there; True when this call wrote it.

        Writing the same bytes again is a no-op; different bytes raise ArtifactExists.
        """
        digest = hashlib.sha256(body).hexdigest()
        try:
            self.client.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType=content_type,
                Metadata={SHA_METADATA: digest},
                IfNoneMatch="*",
            )
            return True
        except botocore.exceptions.ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise ServiceUnavailable(f"s3://{bucket}/{key}: {code}") from err
        existing = self.sha256(bucket, key)
        if existing != digest:
            raise ArtifactExists(
                f"s3://{bucket}/{key} already holds different content "
                f"(sha256 {existing}); artifacts are immutable, write a new build"
            )
        return False

    def sha256(self, bucket: str, key: str) -> str:
        """The sha256 of an object, from its metadata or, failing that, its bytes."""
        head = self.client.head_object(Bucket=bucket, Key=key)
        recorded = head.get("Metadata", {}).get(SHA_METADATA)
        if recorded:
            return recorded
        return hashlib.sha256(self.get(bucket, key)).hexdigest()

    def get(self, bucket: str, key: str) -> bytes:
        """The object's bytes; NotFound when there is no such object."""
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except botocore.exceptions.ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound(f"s3://{bucket}/{key} does not exist") from err
            raise

    def exists(self, bucket: str, key: str) -> bool:
        """Whether an object is stored under `key`."""
        try:
            self.client.head_object(Bucket=bucket, Key=key)
            return True
        except botocore.exceptions.ClientError:
            return False

    def list_keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every key under `prefix`, across list pages."""
        paginator = self.client.get_paginator("list_objects_v2")
        keys = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def list_objects(self, bucket: str, prefix: str = "") -> list[StoredObject]:
        """Every object under `prefix` with its ETag, size and last change."""
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            found.extend(
                StoredObject(
                    obj["Key"], obj["ETag"].strip('"'), obj["Size"], obj["LastModified"]
                )
                for obj in page.get("Contents", [])
            )
        return found
