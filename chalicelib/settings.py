"""Settings per stage, read from the environment once and validated before any work.

The stage (`local`, `dev`, `prod`) picks endpoints and nothing else: the same code
talks to dynalite and SeaweedFS locally and to DynamoDB and S3 in the cloud.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from chalicelib.errors import ConfigurationError

STAGES = ("local", "dev", "prod")
REPO_ROOT = Path(__file__).resolve().parents[1]
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")


@dataclass(frozen=True)
class Settings:
    """Everything that differs between stages; built by `load_settings`."""

    stage: str
    region: str
    table_prefix: str
    dynamodb_endpoint: str | None
    s3_endpoint: str | None
    sources_bucket: str
    builds_bucket: str
    sources_dir: Path
    api_url: str
    cursor_secret: str
    # Per client, per kind of expensive query (near, box, search).
    rate_limit_per_minute: int = 120
    rate_limit_burst: int = 30
    # Builds: per validation rule, the largest fraction of a source's rows it may
    # flag, over the pipeline's defaults (LB_QUALITY_LIMITS, a JSON object); pairs,
    # so that settings stay hashable.
    quality_limits: tuple[tuple[str, float], ...] = ()

    def table_name(self, short_name: str) -> str:
        """Full table name for a short one (`builds` -> `localbubble-local-builds`)."""
        return f"{self.table_prefix}-{short_name}"


def _whole(env, var: str, default: int) -> int:
    text = env.get(var, str(default))
    try:
        return int(text)
    except ValueError as err:
        raise ConfigurationError(
            f"{var}={text!r} is not a whole number; set it like {var}={default}"
        ) from err


def _quality_limits(env) -> tuple[tuple[str, float], ...]:
    """LB_QUALITY_LIMITS as a mapping of rule name to a fraction in [0, 1]."""
    text = env.get("LB_QUALITY_LIMITS", "").strip()
    if not text:
        return ()
    example = "LB_QUALITY_LIMITS='{\"hip.parallax_nonpositive\": 0.06}'"
    try:
        limits = json.loads(text)
    except json.JSONDecodeError as err:
        raise ConfigurationError(
            f"LB_QUALITY_LIMITS is not JSON ({err.msg}); set it like {example}"
        ) from err
    if not isinstance(limits, dict):
        raise ConfigurationError(
            f"LB_QUALITY_LIMITS must be a JSON object; set it like {example}"
        )
    for rule, value in limits.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and 0 <= value <= 1):
            raise ConfigurationError(
                f"LB_QUALITY_LIMITS: {rule}={value!r} is not a fraction in [0, 1]"
            )
    return tuple((rule, float(value)) for rule, value in sorted(limits.items()))


def _local_default(env, port_var: str, default_port: int) -> str:
    port = env.get(port_var, str(default_port))
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigurationError(f"{port_var}={port!r} is not a TCP port (1-65535)")
    return f"http://127.0.0.1:{port}"


def _check_endpoint(name: str, value: str | None, stage: str) -> None:
    if value is None:
        if stage == "local":
            raise ConfigurationError(f"{name} must be set for the local stage")
        return
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigurationError(
            f"{name}={value!r} is not an http(s) URL; set it like http://127.0.0.1:8701"
        )
    if stage != "local":
        raise ConfigurationError(
            f"{name} is set for stage {stage!r}; only the local stage uses endpoints. "
            f"Unset {name} to use the AWS service."
        )


def _validate(settings: Settings) -> Settings:
    if settings.stage not in STAGES:
        raise ConfigurationError(
            f"LB_STAGE={settings.stage!r} is not a stage; "
            f"use one of {', '.join(STAGES)}"
        )
    _check_endpoint("LB_DYNAMODB_ENDPOINT", settings.dynamodb_endpoint, settings.stage)
    _check_endpoint("LB_S3_ENDPOINT", settings.s3_endpoint, settings.stage)
    for var, bucket in (
        ("LB_SOURCES_BUCKET", settings.sources_bucket),
        ("LB_BUILDS_BUCKET", settings.builds_bucket),
    ):
        if not _BUCKET_RE.match(bucket):
            raise ConfigurationError(
                f"{var}={bucket!r} is not a valid bucket name "
                "(3-63 lowercase letters, digits, dots or hyphens)"
            )
    if len(settings.cursor_secret) < 16:
        raise ConfigurationError(
            "LB_CURSOR_SECRET must hold at least 16 characters: it signs list cursors"
        )
    for var, value in (
        ("LB_RATE_LIMIT_PER_MINUTE", settings.rate_limit_per_minute),
        ("LB_RATE_LIMIT_BURST", settings.rate_limit_burst),
    ):
        if value < 1:
            raise ConfigurationError(f"{var}={value} must be a whole number above 0")
    if not _PREFIX_RE.match(settings.table_prefix):
        raise ConfigurationError(
            f"LB_TABLE_PREFIX={settings.table_prefix!r} may hold only letters, digits,"
            " '_', '.', '-'"
        )
    return settings


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read and validate the settings from `environ` (default: the process env)."""
    env = os.environ if environ is None else environ
    stage = env.get("LB_STAGE", "local")
    local = stage == "local"
    dynamodb = env.get("LB_DYNAMODB_ENDPOINT") or (
        _local_default(env, "LB_DYNAMODB_PORT", 8701) if local else None
    )
    s3 = env.get("LB_S3_ENDPOINT") or (
        _local_default(env, "LB_S3_PORT", 8702) if local else None
    )
    settings = Settings(
        stage=stage,
        region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        table_prefix=env.get("LB_TABLE_PREFIX", f"localbubble-{stage}"),
        dynamodb_endpoint=dynamodb,
        s3_endpoint=s3,
        sources_bucket=env.get("LB_SOURCES_BUCKET", f"localbubble-{stage}-sources"),
        builds_bucket=env.get("LB_BUILDS_BUCKET", f"localbubble-{stage}-builds"),
        sources_dir=Path(
            env.get("SOURCES_DIR", str(REPO_ROOT.parent / "shared" / "data"))
        ),
        api_url=env.get(
            "LB_API_URL", f"http://127.0.0.1:{env.get('LB_API_PORT', '8700')}"
        ),
        cursor_secret=env.get(
            "LB_CURSOR_SECRET", "local-only-cursor-secret" if local else ""
        ),
        rate_limit_per_minute=_whole(env, "LB_RATE_LIMIT_PER_MINUTE", 120),
        rate_limit_burst=_whole(env, "LB_RATE_LIMIT_BURST", 30),
        quality_limits=_quality_limits(env),
    )
    return _validate(settings)


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, validated on first use and cached for warm starts."""
    return load_settings()
