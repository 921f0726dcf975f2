"""The parameters each job type accepts, checked when a job is submitted and run.

A job with bad parameters is refused before it is recorded (the API answers 400
naming `params.<name>`, jobctl exits 2), so it never runs, fails and is retried.
A runner checks its record's parameters again with the same model, so a record
written before these checks fails as bad input, which is never retried.
One model per job type; unknown parameters are refused, booleans are booleans.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)

from chalicelib.errors import BadRequest, NotFound

BUILD_REF_PATTERN = r"^(active|[A-Za-z0-9][A-Za-z0-9._-]{0,127})$"
# Backup ids become object keys (backups/<id>/...): a plain name, no '/'.
BACKUP_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
# Restored tables are named <prefix>-<table>; DynamoDB allows these characters.
TABLE_PREFIX_PATTERN = r"^[A-Za-z0-9._-]{1,200}$"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    profile: StrictBool = False


class SourceRef(BaseModel):
    """The source object whose arrival started a build."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    bucket: StrictStr
    key: StrictStr
    etag: StrictStr | None = None


class BuildParams(_Params):
    """A build: activate when published, take incoming sources, which astrometry."""

    activate: StrictBool = True
    incoming: StrictBool = False
    astrometry: Literal["hip_main", "hip2"] = "hip_main"
    model_version: StrictStr | None = Field(None, min_length=1, max_length=100)
    source: SourceRef | None = None


class SiteParams(_Params):
    """A site render: of which build, into which folder or bucket."""

    out: StrictStr | None = Field(None, min_length=1, max_length=1000)
    build: StrictStr | None = Field(None, pattern=BUILD_REF_PATTERN)
    bucket: StrictStr | None = Field(None, min_length=1, max_length=255)
    distribution_id: StrictStr | None = Field(None, max_length=100)


class ComparisonParams(_Params):
    """A comparison of two builds (ids or `active`)."""

    old: StrictStr = Field("active", pattern=BUILD_REF_PATTERN)
    new: StrictStr = Field(pattern=BUILD_REF_PATTERN)

    @model_validator(mode="after")
    def _two_builds(self) -> ComparisonParams:
        if self.old == self.new:
            raise ValueError(f"old and new are both {self.new!r}; name two builds")
        return self


class BackupParams(_Params):
    """A backup (or a restore drill) under backups/<backup_id>/."""

    backup_id: StrictStr | None = Field(None, pattern=BACKUP_ID_PATTERN)
    drill: StrictBool = False


class RestoreParams(_Params):
    """A restore of a backup into new tables named <target_prefix>-<table>."""

    backup_id: StrictStr = Field(pattern=BACKUP_ID_PATTERN)
    target_prefix: StrictStr = Field(pattern=TABLE_PREFIX_PATTERN)


class SweepSet(BaseModel):
    """One worker's parameter set in a simulation sweep (over the shared ones)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    ticks: int | None = Field(None, ge=2, le=1_000_000, strict=True)
    snapshot_every: int | None = Field(None, ge=1, strict=True)
    seed: int | None = Field(None, ge=0, lt=2**63, strict=True)
    ruleset: StrictStr | None = None
    founders: list[StrictStr] | None = Field(None, min_length=1)
    settleable_rule: (
        Literal["known-planet-in-hz", "planet-in-hz", "every-star"] | None
    ) = None
    profile: StrictBool | None = None
    build: StrictStr | None = Field(None, pattern=BUILD_REF_PATTERN)
    backend: Literal["numba", "numpy", "shadow"] | None = None


class SimulationSweepParams(SweepSet):
    """A simulation sweep started as an array job: shared parameters, and a set
    per worker. (A single simulation run checks its own RunParams when queued.)
    """

    sweep: list[SweepSet] = Field(min_length=2)


MODELS: dict[str, type[BaseModel]] = {
    "build": BuildParams,
    "site": SiteParams,
    "comparison": ComparisonParams,
    "backup": BackupParams,
    "restore": RestoreParams,
    "simulation": SimulationSweepParams,
}


def non_finite(value: Any, path: str = "params") -> str | None:
    """The path of the first NaN or infinity inside `value`, or None.

    JSON has no such numbers: a record holding one cannot be shown or sent.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, dict):
        items = ((f"{path}.{key}", item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    return next((found for p, item in items if (found := non_finite(item, p))), None)


def require_finite(params: Any, path: str = "params") -> None:
    """Refuse NaN and infinity anywhere in `params`, naming where."""
    where = non_finite(params, path)
    if where is not None:
        raise BadRequest(
            f"{where} is not a finite number (NaN or infinity); JSON numbers must "
            "be finite, so send a number or leave the parameter out",
            where,
        )


def _bad_params(err: ValidationError) -> BadRequest:
    details = []
    for problem in err.errors(include_url=False):
        loc = ".".join(str(part) for part in problem["loc"])
        parameter = f"params.{loc}" if loc else "params"
        message = problem["msg"]
        if problem["type"] == "extra_forbidden":
            message = "is not a parameter of this job type"
        elif problem["type"] == "missing":
            message = "is required"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        details.append({"parameter": parameter, "message": message})
    first = details[0]
    return BadRequest(f"{first['parameter']}: {first['message']}", first["parameter"])


def validate(job_type: str, params: Any) -> dict:
    """Check `params` against the job type's model; BadRequest naming what is wrong.

    Returns the parameters as given (defaults are applied where they are read),
    so a stored record says what its caller asked for.
    """
    if not isinstance(params, dict):
        raise BadRequest("params must be an object of named parameters", "params")
    require_finite(params)
    model = MODELS.get(job_type)
    if model is None:
        return params  # an unknown type: jobs.submit names the known ones
    try:
        model.model_validate(params)
    except ValidationError as err:
        raise _bad_params(err) from err
    return params


def parsed(job_type: str, params: dict) -> Any:
    """The job type's model of `params` (for runners); BadRequest if they are bad."""
    validate(job_type, params)
    return MODELS[job_type].model_validate(params)


def check_targets(job_type: str, params: dict) -> None:
    """Refuse a job whose builds or backup do not exist, before it is recorded.

    NotFound for an unknown build or backup (jobctl exits 4, the API answers
    404); BadRequest when both sides of a comparison are the same build or a
    restore would write the live stage's tables.
    """
    from chalicelib import builds
    from chalicelib.settings import get_settings
    from chalicelib.storage import ObjectStore

    if job_type == "comparison":
        old = builds.resolve_build_id(params.get("old", "active"))
        new = builds.resolve_build_id(params["new"])
        if old == new:
            raise BadRequest(f"both sides are build {old}; name two builds", "new")
    elif job_type == "restore":
        settings = get_settings()
        if params["target_prefix"] == settings.table_prefix:
            raise BadRequest(
                f"target prefix {params['target_prefix']!r} is the live stage's; "
                "restore into a new prefix",
                "params.target_prefix",
            )
        key = f"backups/{params['backup_id']}/manifest.json"
        if not ObjectStore(settings).exists(settings.builds_bucket, key):
            raise NotFound(
                f"no backup {params['backup_id']}: s3://{settings.builds_bucket}/"
                f"{key} does not exist; `jobctl list --type backup` shows the backups"
            )
