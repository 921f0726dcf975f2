"""The jobs CLI: `python -m jobctl --help`.

Exit codes scripts can trust:

\b
  0  done (for --wait and watch: every job succeeded)
  1  a job that was waited for failed or was cancelled
  2  bad usage or input (a message names what and how to fix it)
  3  the job is not in a state that allows this (retry a running job, say)
  4  no such job or object
  5  a service (DynamoDB, S3, AWS Batch) did not answer or refused
"""

from __future__ import annotations

import functools
import json
import logging
import math
import re
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

import click
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from chalicelib import (
    apikeys,
    jobs,
    kpis,
    launchers,
    logs,
    models,
    runner,
    triggers,
)
from chalicelib.errors import (
    BadRequest,
    ConfigurationError,
    Conflict,
    LocalBubbleError,
    NotFound,
    ServiceUnavailable,
)
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore
from jobctl import events, progress

EXIT_OK, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_CONFLICT = 0, 1, 2, 3
EXIT_NOT_FOUND, EXIT_SERVICE = 4, 5
# Most specific first: BadRequest and Conflict before their ancestors.
EXIT_CODES = (
    (NotFound, EXIT_NOT_FOUND),
    (Conflict, EXIT_CONFLICT),
    (BadRequest, EXIT_USAGE),
    (ConfigurationError, EXIT_USAGE),
    (ServiceUnavailable, EXIT_SERVICE),
    (LocalBubbleError, EXIT_SERVICE),
)


# What DynamoDB, S3 or AWS Batch raise when they do not answer or refuse: a
# connection refused, a timeout, an error reply that no product error explains.
SERVICE_ERRORS = (PynamoDBException, BotoCoreError, ClientError)


def _exit_code(err: LocalBubbleError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(err, kind))


def _service_message(err: Exception) -> str:
    """One line naming the service error and its first cause, without a traceback."""
    cause = err
    while cause.__cause__ is not None and isinstance(cause.__cause__, Exception):
        cause = cause.__cause__
    text = str(cause) if cause is err else f"{err}: {cause}"
    return " ".join(text.split())[:300]


class ServiceErrorsGroup(click.Group):
    """A command group whose every command exits 5 when a service did not answer."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except SERVICE_ERRORS as err:
            click.echo(
                f"error: a service did not answer: {_service_message(err)} "
                "(is it running, and are LB_DYNAMODB_ENDPOINT / LB_S3_ENDPOINT "
                "right?)",
                err=True,
            )
            sys.exit(EXIT_SERVICE)


def reports_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Turn product errors into one `error:` line and their documented exit code."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            return command(*args, **kwargs)
        except LocalBubbleError as err:
            click.echo(f"error: {err}", err=True)
            sys.exit(_exit_code(err))

    return wrapper


def _outcome(records: dict) -> int:
    failed = [r for r in records.values() if r.state != "succeeded"]
    for job in failed:
        click.echo(f"{job.job_id} {job.state}: {job.error or 'not finished'}", err=True)
    return EXIT_JOB_FAILED if failed else EXIT_OK


def _wait(job_ids: list[str], interval: float) -> int:
    launcher = launchers.default_launcher()
    poll = getattr(launcher, "poll", None)
    return _outcome(progress.follow(job_ids, interval_s=interval, on_poll=poll))


def _no_constant(name: str) -> object:
    raise click.BadParameter(
        f"{name} is not a finite number; give a number or leave the parameter out",
        param_hint="--param",
    )


def _param(text: str) -> tuple[str, object]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--param")
    try:
        # NaN and Infinity are not JSON, though Python's parser takes them.
        value = json.loads(raw, parse_constant=_no_constant)
    except ValueError:
        return name, raw  # a bare word is a string
    if isinstance(value, float) and not math.isfinite(value):
        raise click.BadParameter(
            f"{name}={raw} is not a finite number", param_hint="--param"
        )
    return name, value


@click.group(
    cls=ServiceErrorsGroup,
    help=__doc__,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO as JSON on stderr.")
def cli(verbose: bool) -> None:
    logs.configure("jobctl", logging.INFO if verbose else logging.WARNING)
    try:
        models.bind(get_settings())
    except ConfigurationError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_USAGE)


# Simulations need their run record too: `jobctl sim` and `jobctl sweep` start them.
GENERIC_TYPES = sorted(set(launchers.ENTRYPOINT_COMMANDS) - {"simulation"})


@cli.command()
@click.argument("job_type", type=click.Choice(GENERIC_TYPES))
@click.option(
    "--param",
    "param_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="A job parameter (VALUE is JSON, or else a string). Repeatable.",
)
@click.option("--key", help="Idempotency key: a second start with it returns the job.")
@click.option(
    "--activate/--no-activate", default=True, help="build: activate when published."
)
@click.option(
    "--incoming/--no-incoming",
    default=True,
    help="build: let files under incoming/<role>/ in the sources bucket replace roles.",
)
@click.option(
    "--profile", is_flag=True, help="Store a cProfile of each attempt as an artifact."
)
@click.option("--wait", is_flag=True, help="Show progress until it ends.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds per poll.")
@reports_errors
def start(
    job_type: str,
    param_pairs: tuple[str, ...],
    key: str | None,
    activate: bool,
    incoming: bool,
    profile: bool,
    wait: bool,
    interval: float,
) -> None:
    """Queue a job of JOB_TYPE and launch its runner; print its id."""
    params = dict(_param(pair) for pair in param_pairs)
    if profile:
        params["profile"] = True
    if job_type == "build":
        params = {"activate": activate, "incoming": incoming, **params}
    submission = runner.start(
        job_type, params, launchers.default_launcher(), idempotency_key=key
    )
    job = submission.job
    note = "" if submission.created else " (already started with this key)"
    click.echo(f"{job.job_id}{note}")
    if wait:
        sys.exit(_wait([job.job_id], interval))


def _started(submission, wait: bool, interval: float) -> None:
    job = submission.job
    note = "" if submission.created else " (already started with this key)"
    click.echo(f"{job.job_id}{note}")
    if wait:
        sys.exit(_wait([job.job_id], interval))


_wait_option = click.option("--wait", is_flag=True, help="Show progress until it ends.")
_profile_option = click.option(
    "--profile", is_flag=True, help="Store a cProfile of each attempt as an artifact."
)
_interval_option = click.option(
    "--interval", default=1.0, show_default=True, help="Seconds per poll."
)


@cli.command()
@click.argument("old")
@click.argument("new")
@_wait_option
@_interval_option
@reports_errors
def compare(old: str, new: str, wait: bool, interval: float) -> None:
    """Compare build OLD with build NEW (ids or 'active') into a stored report."""
    submission = runner.start(
        "comparison",
        {"old": old, "new": new},
        launchers.default_launcher(),
        idempotency_key=f"compare:{old}:{new}" if "active" not in (old, new) else None,
    )
    _started(submission, wait, interval)


def _backup_id(backup_id: str | None) -> str:
    from batch_jobs.backup import new_backup_id

    return backup_id or new_backup_id()


@cli.command()
@click.option("--backup-id", help="Default: backup-<UTC time>.")
@_wait_option
@_interval_option
@reports_errors
def backup(backup_id: str | None, wait: bool, interval: float) -> None:
    """Back up every table to the builds bucket under backups/<id>/ (written once)."""
    backup_id = _backup_id(backup_id)
    submission = runner.start(
        "backup",
        {"backup_id": backup_id},
        launchers.default_launcher(),
        idempotency_key=f"backup:{backup_id}",
    )
    _started(submission, wait, interval)


@cli.command()
@click.argument("backup_id")
@click.option("--target-prefix", required=True, help="Prefix of the new tables.")
@_wait_option
@_interval_option
@reports_errors
def restore(backup_id: str, target_prefix: str, wait: bool, interval: float) -> None:
    """Restore BACKUP_ID into new tables <prefix>-<name>; never overwrites."""
    submission = runner.start(
        "restore",
        {"backup_id": backup_id, "target_prefix": target_prefix},
        launchers.default_launcher(),
        idempotency_key=f"restore:{backup_id}:{target_prefix}",
    )
    _started(submission, wait, interval)


@cli.command()
@click.option("--backup-id", help="Default: backup-<UTC time>.")
@_wait_option
@_interval_option
@reports_errors
def drill(backup_id: str | None, wait: bool, interval: float) -> None:
    """Restore drill: back up, restore to scratch tables, compare every item."""
    backup_id = _backup_id(backup_id)
    submission = runner.start(
        "backup",
        {"backup_id": backup_id, "drill": True},
        launchers.default_launcher(),
        idempotency_key=f"drill:{backup_id}",
    )
    _started(submission, wait, interval)


def _numbers(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError as err:
        raise click.BadParameter(f"{text!r} is not like 1,2,3") from err


@cli.command()
@click.option("--build", default="active", show_default=True)
@click.option("--ticks", default=1000, show_default=True, type=click.IntRange(2))
@click.option("--snapshot-every", type=click.IntRange(1), help="Default: ticks.")
@click.option("--seed", default=1, show_default=True, type=click.IntRange(0))
@click.option(
    "--settleable",
    default=None,
    help="Settleable rule (default: the ruleset's own; planet-in-hz in settlement-v2).",
)
@click.option(
    "--backend",
    type=click.Choice(("numba", "numpy", "shadow")),
    help="Kernels (default: LB_SIM_BACKEND, else numba).",
)
@_profile_option
@_wait_option
@_interval_option
@reports_errors
def sim(
    build: str,
    ticks: int,
    snapshot_every: int | None,
    seed: int,
    settleable: str | None,
    backend: str | None,
    profile: bool,
    wait: bool,
    interval: float,
) -> None:
    """Queue one simulation run and launch it (`python -m batch_jobs sim run`)."""
    from batch_jobs import simulation

    _check_build_ref(build)
    params = simulation.RunParams(
        ticks=ticks,
        snapshot_every=snapshot_every or min(100, ticks),
        seed=seed,
        settleable_rule=settleable,
        profile=profile,
    )
    try:
        run_id = simulation.submit(get_settings(), build, params, backend)
    except ValueError as err:
        raise BadRequest(str(err)) from err
    job = runner.launch(jobs.get_job(run_id), launchers.default_launcher())
    _started(jobs.Submission(job, created=True), wait, interval)


# The build ids of chalicelib.schemas, or `active`.
BUILD_REF = re.compile(r"^(active|[A-Za-z0-9][A-Za-z0-9._-]{0,127})$")


def _check_build_ref(build: str) -> None:
    """Refuse a build that cannot be an id before any database call."""
    if len(build) > 128:
        raise BadRequest(
            f"--build is {len(build)} characters; build ids are at most 128", "build"
        )
    if not BUILD_REF.match(build):
        raise BadRequest(
            f"--build {build!r} is not a build id: letters, digits, '.', '_' and '-' "
            "(at most 128), or 'active'",
            "build",
        )


@cli.command(name="sim-sweep")
@click.option("--build", default="active", show_default=True)
@click.option("--ticks", default=1000, show_default=True, type=click.IntRange(2))
@click.option("--seeds", required=True, help="One worker per seed, like 1,2,3.")
@click.option(
    "--settleable",
    "rules",
    multiple=True,
    help="Also sweep these settleable rules (each seed with each rule).",
)
@click.option("--key", help="Idempotency key: a second sweep with it returns the job.")
@_profile_option
@_wait_option
@_interval_option
@reports_errors
def sweep_sims(
    build: str,
    ticks: int,
    seeds: str,
    rules: tuple[str, ...],
    key: str | None,
    profile: bool,
    wait: bool,
    interval: float,
) -> None:
    """Sweep simulation parameters as one array job: a worker per parameter set."""
    _check_build_ref(build)
    sets = [
        {"seed": seed, **({"settleable_rule": rule} if rule else {})}
        for seed in _numbers(seeds)
        for rule in (rules or (None,))
    ]
    if len(sets) < 2:
        raise BadRequest("a sweep needs at least two parameter sets", "seeds")
    params = {
        "build": build,
        "ticks": ticks,
        "snapshot_every": min(100, ticks),
        "sweep": sets,
        # Each worker's attempt is profiled (one profile per array index).
        **({"profile": True} if profile else {}),
    }
    submission = runner.start(
        "simulation", params, launchers.default_launcher(), idempotency_key=key
    )
    _started(submission, wait, interval)


@cli.command(name="rebuild-for-model")
@click.option("--wait", is_flag=True, help="Show progress until it ends.")
@_interval_option
@reports_errors
def rebuild_for_model(wait: bool, interval: float) -> None:
    """Rebuild when the active build was made with an older inference model.

    Prints the build job (the same one however often it is run for a model
    version), or says the active build is current and exits 0.
    """
    submission = triggers.on_model_release(launchers.default_launcher())
    if submission is None:
        click.echo(
            f"active build already uses model {triggers.INFERENCE_MODEL_VERSION}"
        )
        return
    _started(submission, wait, interval)


@cli.command()
@click.argument("job_ids", nargs=-1, required=True)
@click.option("--interval", default=1.0, show_default=True, help="Seconds per poll.")
@reports_errors
def watch(job_ids: tuple[str, ...], interval: float) -> None:
    """Show progress bars for JOB_IDS until each ends; exit 1 if any did not succeed."""
    sys.exit(_wait(list(job_ids), interval))


def _row(view: dict) -> str:
    progress_pct = f"{view['progress'] * 100:3.0f}%"
    error = (view["error"] or "")[:40]
    return (
        f"{view['job_id']:<22} {view['job_type']:<10} {view['state']:<10} "
        f"{progress_pct:>5} {view['attempts']:>3}  {view['trigger'] or '-':<10} "
        f"{(view['created_at'] or '')[:19]:<19}  {error}"
    )


@cli.command(name="list")
@click.option("--type", "job_type", type=click.Choice(jobs.JOB_TYPES))
@click.option("--state", type=click.Choice(jobs.STATES))
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead.")
@reports_errors
def list_command(
    job_type: str | None, state: str | None, limit: int, as_json: bool
) -> None:
    """List jobs, newest first."""
    page, _ = jobs.list_jobs(limit, job_type=job_type, state=state)
    views = jobs.views(page)
    if as_json:
        click.echo(json.dumps(views, indent=1))
        return
    click.echo(
        f"{'JOB':<22} {'TYPE':<10} {'STATE':<10} {'DONE':>5} {'TRY':>3}  "
        f"{'TRIGGER':<10} {'CREATED (UTC)':<19}  ERROR"
    )
    for view in views:
        click.echo(_row(view))


@cli.command()
@click.argument("job_id")
@reports_errors
def show(job_id: str) -> None:
    """Print one job, with every attempt, as JSON."""
    click.echo(json.dumps(jobs.job_view(jobs.get_job(job_id)), indent=1))


@cli.command()
@click.argument("job_id")
@reports_errors
def cancel(job_id: str) -> None:
    """Cancel a queued or running job (its runner stops) or a pending retry."""
    job = runner.cancel(job_id, launchers.default_launcher())
    click.echo(f"{job.job_id} {job.state}")


@cli.command()
@click.argument("job_id")
@click.option("--wait", is_flag=True, help="Show progress until it ends.")
@click.option("--interval", default=1.0, show_default=True, help="Seconds per poll.")
@reports_errors
def retry(job_id: str, wait: bool, interval: float) -> None:
    """Queue a failed or cancelled job again, as its next attempt, and launch it."""
    job = runner.retry(job_id, launchers.default_launcher())
    click.echo(f"{job.job_id} attempt {int(job.attempts)} {job.state}")
    if wait:
        sys.exit(_wait([job.job_id], interval))


@cli.command()
@reports_errors
def sweep() -> None:
    """Fail jobs whose runner stopped heartbeating; relaunch retries that are due."""
    report = runner.sweep(launchers.default_launcher())
    click.echo(json.dumps({"reaped": report.reaped, "retried": report.retried}))


@cli.command(name="kpis")
@click.option("--days", default=kpis.DEFAULT_WINDOW_DAYS, type=click.IntRange(1, 366))
@reports_errors
def kpis_command(days: int) -> None:
    """Start-up success rate, error rate and duration p50/p95 per job type, as JSON."""
    click.echo(json.dumps(kpis.recent(days), indent=1))


@cli.group(name="api-key")
def api_key() -> None:
    """Make, list and revoke the API keys of the job routes."""


@api_key.command(name="create")
@click.option("--name", required=True, help="Who or what uses the key.")
@click.option(
    "--role",
    type=click.Choice(apikeys.ROLES),
    default="viewer",
    show_default=True,
    help="viewer reads whole job records; operator also starts, cancels, retries.",
)
@reports_errors
def api_key_create(name: str, role: str) -> None:
    """Make a key and print it once (only its sha256 is stored)."""
    issued = apikeys.create_key(name, role)
    click.echo(issued.token)
    click.echo(
        f"key {issued.key_id} ({issued.role}) for {issued.name}: store it now, "
        "it cannot be shown again",
        err=True,
    )


@api_key.command(name="list")
@reports_errors
def api_key_list() -> None:
    """List the keys: id, role, name, made, revoked (never the secrets)."""
    for item in apikeys.list_keys():
        revoked = jobs.iso(item.revoked_at) or "-"
        click.echo(
            f"{item.key_id}  {item.role:<8}  {jobs.iso(item.created_at)}  "
            f"revoked {revoked}  {item.name}"
        )


@api_key.command(name="revoke")
@click.argument("key_id")
@reports_errors
def api_key_revoke(key_id: str) -> None:
    """Stop KEY_ID from working; its record stays."""
    item = apikeys.revoke_key(key_id)
    click.echo(f"{item.key_id} revoked")


@cli.group()
def emit() -> None:
    """Deliver one trigger event to its app.py handler, as AWS would."""


@emit.command(name="source")
@click.argument("key")
@click.option("--bucket", help="Default: the stage's sources bucket.")
@reports_errors
def emit_source(key: str, bucket: str | None) -> None:
    """Deliver the object-created event of KEY (already in the bucket)."""
    settings = get_settings()
    obj = events.find_object(
        ObjectStore(settings), bucket or settings.sources_bucket, key
    )
    event = triggers.object_created_event(obj, settings.region)
    click.echo(json.dumps(events.deliver(events.SOURCE_HANDLER, event)))


@emit.command(name="refresh")
@click.option(
    "--time", "when", help="The schedule's firing time, like 2026-07-01T03:00:00Z."
)
@reports_errors
def emit_refresh(when: str | None) -> None:
    """Deliver the monthly refresh schedule's event."""
    moment = triggers.parse_event_time(when) if when else datetime.now(UTC)
    event = triggers.scheduled_event(get_settings().region, moment)
    click.echo(json.dumps(events.deliver(events.REFRESH_HANDLER, event)))


@emit.command(name="model-release")
@click.option(
    "--model-version",
    default=triggers.INFERENCE_MODEL_VERSION,
    show_default=True,
    help="The inference model the deployed batch image has.",
)
@reports_errors
def emit_model_release(model_version: str) -> None:
    """Deliver a model-release event: rebuild once if the active build is older."""
    event = triggers.model_released_event(get_settings().region, model_version)
    click.echo(json.dumps(events.deliver(events.MODEL_HANDLER, event)))


# Set by SIGTERM; the watcher checks it between polls. Raising from the signal
# handler instead could land inside a delivered event, whose handler turns any
# exception into an error reply, and the watcher would never stop.
_STOPPING = threading.Event()


def _stop(signum: int, frame: object) -> None:
    _STOPPING.set()


@cli.command(name="watch-sources")
@click.option("--interval", default=2.0, show_default=True, help="Seconds per poll.")
@click.option("--once", is_flag=True, help="Poll once and exit.")
@click.option(
    "--sweep/--no-sweep", "sweeping", default=True, help="Also reap and retry."
)
@reports_errors
def watch_sources(interval: float, once: bool, sweeping: bool) -> None:
    """Deliver an event for each new file under incoming/ in the sources bucket.

    The local stand-in for S3 event notifications; it also sweeps dead jobs, as
    the five-minute schedule does in AWS. Ctrl-C or SIGTERM stops it.
    """
    settings = get_settings()
    watcher = events.SourceWatcher(
        ObjectStore(settings), settings.sources_bucket, settings.region
    )
    launcher = launchers.default_launcher()
    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"watching s3://{settings.sources_bucket}/{triggers.INCOMING_PREFIX}")
    try:
        while not _STOPPING.is_set():
            for reply in watcher.poll():
                click.echo(json.dumps(reply), nl=True)
            if sweeping:
                events.deliver(
                    events.SWEEP_HANDLER, triggers.scheduled_event(settings.region)
                )
            poll = getattr(launcher, "poll", None)
            if poll is not None:
                poll()
            if once:
                return
            _STOPPING.wait(interval)
    except KeyboardInterrupt:
        pass
    click.echo("stopped")


if __name__ == "__main__":
    cli(prog_name="python -m jobctl")
