"""PynamoDB models: the one definition of every table, used locally and in AWS.

`bind` points all models at the stage's tables and endpoint; `infra/` renders its
CloudFormation tables from these same classes, so the two cannot drift.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.settings import Settings

LOCAL_ACCESS_KEY = "localbubble"
# Credentials of the loopback-only stand-ins; never valid anywhere else.
LOCAL_SECRET_KEY = "localbubble-local-secret"  # noqa: S105
ACTIVE_POINTER_ID = "@active"


class BuildRecord(Model):
    """One world build: its state, inputs and outputs, keyed by `world_build_id`."""

    class Meta:
        table_name = "builds"
        short_name = "builds"

    build_id = UnicodeAttribute(hash_key=True)
    state = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    pipeline_version = UnicodeAttribute()
    model_version = UnicodeAttribute()
    # JSON documents: settings, source manifest, counts, artifact digests, timings.
    settings_json = UnicodeAttribute()
    sources_json = UnicodeAttribute()
    counts_json = UnicodeAttribute(null=True)
    artifacts_json = UnicodeAttribute(null=True)
    timings_json = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)


class ActivePointer(Model):
    """The single item naming the active and previous build (same table as builds)."""

    class Meta:
        table_name = "builds"
        short_name = "builds"

    build_id = UnicodeAttribute(hash_key=True, default=ACTIVE_POINTER_ID)
    active_build_id = UnicodeAttribute()
    previous_build_id = UnicodeAttribute(null=True)
    revision = NumberAttribute()
    switched_at = UTCDateTimeAttribute()


class SectorIndex(GlobalSecondaryIndex):
    """Systems by spatial sector, carrying what a near-query needs to filter."""

    class Meta:
        index_name = "by_sector"
        projection = IncludeProjection(["name", "x_pc", "y_pc", "z_pc"])

    sector_key = UnicodeAttribute(hash_key=True)
    system_id = UnicodeAttribute(range_key=True)


class SystemItem(Model):
    """One star system of one build; `doc` is the full JSON record."""

    class Meta:
        table_name = "systems"
        short_name = "systems"

    build_id = UnicodeAttribute(hash_key=True)
    system_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    sector_key = UnicodeAttribute(null=True)
    x_pc = NumberAttribute(null=True)
    y_pc = NumberAttribute(null=True)
    z_pc = NumberAttribute(null=True)
    doc = UnicodeAttribute()
    by_sector = SectorIndex()


class NameItem(Model):
    """One searchable name of a system, partitioned by build and two-letter prefix."""

    class Meta:
        table_name = "names"
        short_name = "names"

    key = UnicodeAttribute(hash_key=True)
    name_sort = UnicodeAttribute(range_key=True)
    system_id = UnicodeAttribute()
    display = UnicodeAttribute()
    system_name = UnicodeAttribute()


class JobFeedIndex(GlobalSecondaryIndex):
    """Jobs by feed (`live` or `done`), newest first by `created_key`."""

    class Meta:
        index_name = "by_feed"
        projection = AllProjection()

    feed = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class JobRecord(Model):
    """One job of any type: parameters, state, progress, attempts and pointers.

    `feed` is `live` while the job needs watching (queued, running, or failed with
    an automatic retry due) and `done` after; `created_key` orders the feed.
    """

    class Meta:
        table_name = "jobs"
        short_name = "jobs"

    job_id = UnicodeAttribute(hash_key=True)
    job_type = UnicodeAttribute()
    state = UnicodeAttribute()
    params_json = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    attempts = NumberAttribute(default=1)
    result_json = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    feed = UnicodeAttribute(null=True)
    created_key = UnicodeAttribute(null=True)
    trigger = UnicodeAttribute(null=True)
    idempotency_key = UnicodeAttribute(null=True)
    queued_at = UTCDateTimeAttribute(null=True)
    progress = NumberAttribute(null=True)
    step = UnicodeAttribute(null=True)
    heartbeat_at = UTCDateTimeAttribute(null=True)
    heartbeat_s = NumberAttribute(null=True)
    start_deadline = UTCDateTimeAttribute(null=True)
    max_attempts = NumberAttribute(null=True)
    retryable = BooleanAttribute(null=True)
    retry_at = UTCDateTimeAttribute(null=True)
    launcher = UnicodeAttribute(null=True)
    runner_id = UnicodeAttribute(null=True)
    log_uri = UnicodeAttribute(null=True)
    result_uri = UnicodeAttribute(null=True)
    history_json = UnicodeAttribute(null=True)
    release = UnicodeAttribute(null=True)
    profile_uri = UnicodeAttribute(null=True)
    # Array jobs: the indexes whose worker ended this attempt, and their notes.
    shards_done = NumberSetAttribute(null=True)
    shards_failed = NumberSetAttribute(null=True)
    shard_notes = UnicodeSetAttribute(null=True)
    by_feed = JobFeedIndex()


ALL_MODELS: tuple[type[Model], ...] = (
    BuildRecord,
    ActivePointer,
    SystemItem,
    NameItem,
    JobRecord,
)
# One model per physical table; ActivePointer shares the builds table.
TABLE_MODELS: tuple[type[Model], ...] = (BuildRecord, SystemItem, NameItem, JobRecord)


def bind(settings: Settings) -> None:
    """Point every model at the stage's table names, region and endpoint."""
    for model in ALL_MODELS:
        meta = model.Meta
        meta.table_name = settings.table_name(meta.short_name)
        meta.region = settings.region
        meta.host = settings.dynamodb_endpoint
        if settings.stage == "local":
            meta.aws_access_key_id = LOCAL_ACCESS_KEY
            meta.aws_secret_access_key = LOCAL_SECRET_KEY
        # PynamoDB caches a connection per class; drop it so the new host applies.
        model._connection = None


# ------------------------------------------------------------------ simulation
# Settlement runs, their per-tick health, and precomputed encounters with the Sun.


class RunsByCreation(GlobalSecondaryIndex):
    """Every simulation run, newest first, under one partition (runs are few)."""

    class Meta:
        index_name = "by_created"
        projection = AllProjection()

    kind = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class SimRun(Model):
    """One simulation run: its inputs, progress, health and shadow differences.

    `run_id` is the id of the run's job record; `state` mirrors the job's state.
    """

    class Meta:
        table_name = "sim_runs"
        short_name = "sim_runs"

    run_id = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(default="sim")
    created_key = UnicodeAttribute()  # ISO creation time '#' run id, for listing
    build_id = UnicodeAttribute()
    ruleset_version = UnicodeAttribute()
    seed = NumberAttribute()
    backend = UnicodeAttribute()
    params_json = UnicodeAttribute()
    state = UnicodeAttribute()
    ticks = NumberAttribute()
    snapshot_every = NumberAttribute()
    last_tick = NumberAttribute(default=1)
    last_snapshot_tick = NumberAttribute(null=True)
    attempts = NumberAttribute(default=0)
    cancel_requested = BooleanAttribute(default=False)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    # JSON documents: world counts, latest tick report, health totals, shadow maxima.
    world_json = UnicodeAttribute(null=True)
    summary_json = UnicodeAttribute(null=True)
    health_json = UnicodeAttribute(null=True)
    shadow_json = UnicodeAttribute(null=True)
    profile_key = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    by_created = RunsByCreation()


class SimTick(Model):
    """The summary and health of one tick of one run."""

    class Meta:
        table_name = "sim_ticks"
        short_name = "sim_ticks"

    run_id = UnicodeAttribute(hash_key=True)
    tick = NumberAttribute(range_key=True)
    time_yr = NumberAttribute()
    wall_ms = NumberAttribute()
    counts_json = UnicodeAttribute()
    invariants_ok = BooleanAttribute()
    failures_json = UnicodeAttribute(null=True)
    shadow_json = UnicodeAttribute(null=True)
    snapshot_key = UnicodeAttribute(null=True)


class EncounterItem(Model):
    """One star's closest approach to the Sun in a build, ranked by distance."""

    class Meta:
        table_name = "encounters"
        short_name = "encounters"

    build_id = UnicodeAttribute(hash_key=True)
    rank = NumberAttribute(range_key=True)
    system_id = UnicodeAttribute()
    doc = UnicodeAttribute()


SIM_MODELS: tuple[type[Model], ...] = (SimRun, SimTick, EncounterItem)
ALL_MODELS = ALL_MODELS + SIM_MODELS
TABLE_MODELS = TABLE_MODELS + SIM_MODELS


# Rate limits: per-client token buckets for the expensive public queries.


class RateBucket(Model):
    """One client's token bucket for one kind of query; expires when left idle."""

    class Meta:
        table_name = "ratelimits"
        short_name = "ratelimits"

    bucket_id = UnicodeAttribute(hash_key=True)
    tokens = NumberAttribute()
    updated_at = NumberAttribute()
    expires_at = TTLAttribute()


ALL_MODELS += (RateBucket,)
TABLE_MODELS += (RateBucket,)


# --- Operations: idempotency keys of jobs (issue 7) ---------------------------


class JobKey(Model):
    """An idempotency key naming the job it started (same table as jobs).

    Its id is `key#<idempotency key>`; a conditional put of this item is what makes
    a repeated trigger return the existing job instead of starting a second one.
    """

    class Meta:
        table_name = "jobs"
        short_name = "jobs"

    job_id = UnicodeAttribute(hash_key=True)
    target_job_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()


# JobKey shares the jobs table: it is bound like every model but owns no table.
ALL_MODELS += (JobKey,)


# --- Operations: API keys of the admin routes (issue 7) -----------------------


class ApiKey(Model):
    """One API key: its role and the sha256 of its secret, never the secret.

    A key is shown once, when `jobctl api-key create` makes it; a request
    presents it as `Authorization: Bearer lbk_<key_id>_<secret>`.
    """

    class Meta:
        table_name = "api_keys"
        short_name = "api_keys"

    key_id = UnicodeAttribute(hash_key=True)
    secret_sha256 = UnicodeAttribute()
    role = UnicodeAttribute()
    name = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)


ALL_MODELS += (ApiKey,)
TABLE_MODELS += (ApiKey,)
