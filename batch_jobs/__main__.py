"""Container entrypoint for batch jobs: `python -m batch_jobs <command>`.

The same entrypoint runs as a local subprocess or as an AWS Batch job. With
`--job-id` it runs a queued job (its parameters come from the job record);
without, it records a job of its own. Exit code 0 means done, 2 bad input (a
message says which file and what), 3 the job was cancelled or taken from this
runner, 1 anything else. Where AWS_XRAY_DAEMON_ADDRESS names an X-Ray daemon, the
command is traced as one segment with a subsegment per DynamoDB and S3 call.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

from batch_jobs.worker import JobRun, JobTerminated
from chalicelib import (
    builds,
    habitable,
    job_params,
    jobs,
    launchers,
    logs,
    models,
    simulations,
    tracing,
)
from chalicelib.errors import (
    BadRequest,
    ConfigurationError,
    LocalBubbleError,
    NotFound,
    SourceError,
)
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger("batch_jobs")
EXIT_LOST = 3
# batch_jobs.simulation.BACKENDS, named here so --help need not import numpy.
KERNEL_BACKENDS = ("numba", "numpy", "shadow")
EXIT_NOT_FOUND = 4  # as jobctl's: no such job, run, build or object
# The RunParams fields a sweep's parameter sets may set.
RUN_FIELDS = (
    "ticks", "snapshot_every", "seed", "ruleset", "founders", "settleable_rule",
    "profile",
)  # fmt: skip


def _job_run(args: argparse.Namespace, job_type: str, params: dict) -> JobRun:
    if args.job_id:
        return JobRun.claim(args.job_id)
    return JobRun.direct(job_type, params)


def _profile_param(args: argparse.Namespace) -> dict:
    # A queued job's own parameters decide; the flag is for direct runs.
    return {"profile": True} if getattr(args, "profile", False) else {}


def _check_model(wanted: str | None) -> None:
    """A rebuild for a model release must run an image that has that model."""
    from batch_jobs.inference import MODEL_VERSION

    if wanted is not None and wanted != MODEL_VERSION:
        raise ConfigurationError(
            f"this job asks for inference model {wanted}, but this image has "
            f"{MODEL_VERSION}; deploy the batch image with {wanted} and retry the job"
        )


def _build(args: argparse.Namespace) -> int:
    from batch_jobs.pipeline import run_build

    started = time.perf_counter()
    settings = get_settings()
    params = {
        "activate": not args.no_activate,
        "incoming": args.incoming,
        "astrometry": args.astrometry,
    }
    run = _job_run(args, "build", {**params, **_profile_param(args)})
    with logs.bound(job_id=run.job.job_id), run:
        params = job_params.validate("build", run.params)
        _check_model(params.get("model_version"))
        outcome = run_build(
            settings,
            activate=params.get("activate", True),
            incoming=params.get("incoming", False),
            report=run.report,
            astrometry=params.get("astrometry") or "hip_main",
        )
        result = {
            "build_id": outcome.build_id,
            "state": outcome.state,
            "created": outcome.created,
            "counts": outcome.counts,
        }
        uri = f"s3://{settings.builds_bucket}/builds/{outcome.build_id}/manifest.json"
        run.succeed(result, result_uri=uri)
    verb = "built and published" if outcome.created else "already published"
    print(f"world_build_id {outcome.build_id} ({verb})")
    if outcome.counts:
        print(f"counts {json.dumps(outcome.counts, sort_keys=True)}")
    print(f"took {time.perf_counter() - started:.1f} s")
    return 0


def _site(args: argparse.Namespace) -> int:
    params = {"out": args.out, "build": args.build, **_profile_param(args)}
    if args.bucket:
        params.update(bucket=args.bucket, distribution_id=args.distribution_id)
    run = _job_run(args, "site", params)
    with logs.bound(job_id=run.job.job_id), run:
        params = job_params.validate("site", run.params)
        out_dir = params.get("out") or args.out
        target = _site_target(
            out_dir, params.get("bucket"), params.get("distribution_id")
        )
        out = _render_site(out_dir, params.get("build"), run, target)
        result_uri = (
            f"s3://{params['bucket']}/index.html"
            if params.get("bucket")
            else out.resolve().as_uri()
        )
        run.succeed({"out": str(out)}, result_uri=result_uri)
    return 0


def _site_target(out_dir: str, bucket: str | None, distribution_id: str | None):
    """The served folder, or a site bucket (and its CloudFront distribution)."""
    from batch_jobs import releases

    if not bucket:
        return releases.FolderTarget(Path(out_dir))
    cdn = None
    if distribution_id:
        import boto3

        cdn = boto3.client("cloudfront")
    store = ObjectStore(get_settings())
    return releases.BucketTarget(
        store, bucket, cdn=cdn, distribution_id=distribution_id or None
    )


def _render_site(out_dir: str, build: str | None, run: JobRun, target) -> Path:
    """Render the site for a build and publish it as the live release in `target`."""
    import tempfile

    from batch_jobs import releases
    from batch_jobs.build_pages import collect_builds
    from batch_jobs.site import build_site
    from batch_jobs.site_data import LAYER_FILES

    settings = get_settings()
    # An unknown id is refused by name here, not by a missing tile further on.
    build_id = builds.resolve_build_id(build or "active")
    run.report(0.2, f"rendering the site for {build_id}")
    store = ObjectStore(settings)
    prefix = f"builds/{build_id}/tiles"
    tile = store.get(settings.builds_bucket, f"{prefix}/stars.bin")
    ids = json.loads(store.get(settings.builds_bucket, f"{prefix}/stars_ids.json"))
    layers = {}
    for layer, name in LAYER_FILES.items():
        key = f"{prefix}/{name}"
        # Builds before pipeline-1.5 lack the map's extra layers.
        if store.exists(settings.builds_bucket, key):
            layers[layer] = store.get(settings.builds_bucket, key)
    published = collect_builds(store, settings.builds_bucket)
    with tempfile.TemporaryDirectory(prefix="lb-site-") as scratch:
        rendered = build_site(
            Path(scratch) / "site", build_id=build_id, api_url=settings.api_url,
            tile=tile, tile_ids=ids, layers=layers, builds=published,
        )  # fmt: skip
        run.report(0.7, "publishing the site release")
        release = releases.publish(
            target, releases.read_folder(rendered.parent), build_id=build_id
        )
    out = Path(out_dir) / "index.html"
    print(f"site release {release.version} for {build_id} is live")
    if isinstance(target, releases.FolderTarget):
        print(f"site for {build_id} rendered into {out}")
    return out


def _compare(args: argparse.Namespace) -> int:
    from batch_jobs.pipeline import compare_builds

    run = _job_run(args, "comparison", {"old": args.old, "new": args.new})
    with logs.bound(job_id=run.job.job_id), run:
        params = job_params.validate("comparison", run.params)
        result = compare_builds(
            get_settings(),
            params.get("old", "active"),
            params["new"],
            report=run.report,
        )
        run.succeed(result, result_uri=result["report_html"])
    print(f"comparison {json.dumps(result['counts'], sort_keys=True)}")
    print(f"report {result['report_html']}")
    return 0


def _backup(args: argparse.Namespace) -> int:
    from batch_jobs import backup

    run = _job_run(args, "backup", {"backup_id": args.backup_id})
    with logs.bound(job_id=run.job.job_id), run:
        settings = get_settings()
        backup_id = (
            job_params.validate("backup", run.params).get("backup_id")
            or backup.new_backup_id()
        )
        outcome = backup.backup(settings, backup_id, run.report)
        counts = {s: t["items"] for s, t in outcome.manifest["tables"].items()}
        uri = f"s3://{settings.builds_bucket}/{outcome.manifest_key}"
        run.succeed({"backup_id": backup_id, "items": counts}, result_uri=uri)
    print(f"backup {backup_id} {json.dumps(counts, sort_keys=True)}")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from batch_jobs import backup

    wanted = {"backup_id": args.backup_id, "target_prefix": args.target_prefix}
    run = _job_run(args, "restore", wanted)
    with logs.bound(job_id=run.job.job_id), run:
        params = job_params.validate("restore", run.params)
        result = backup.restore(
            get_settings(), params["backup_id"], params["target_prefix"], run.report
        )
        run.succeed(result)
    counts = {s: t["items"] for s, t in result["tables"].items()}
    print(f"restored {result['backup_id']} into {result['target_prefix']}")
    print(f"items {json.dumps(counts, sort_keys=True)}")
    return 0


def _drill(args: argparse.Namespace) -> int:
    from batch_jobs import backup

    run = _job_run(args, "backup", {"backup_id": args.backup_id, "drill": True})
    with logs.bound(job_id=run.job.job_id), run:
        settings = get_settings()
        backup_id = (
            job_params.validate("backup", run.params).get("backup_id")
            or backup.new_backup_id()
        )
        result = backup.drill(settings, backup_id, run.report)
        uri = f"s3://{settings.builds_bucket}/{result['report_key']}"
        if not result["ok"]:
            raise backup.BackupError(
                f"restore drill of {backup_id} found differences: see {uri}"
            )
        run.succeed(result, result_uri=uri)
    print(f"drill {backup_id} ok: {result['items']} items compared")
    return 0


def _site_release(args: argparse.Namespace) -> int:
    """List the site releases kept in a folder, roll back, or activate one."""
    from batch_jobs import releases

    target = _site_target(args.out, args.bucket, args.distribution_id)
    if args.action == "list":
        pointer = releases.current(target) or {}
        for release in releases.list_releases(target):
            mark = "*" if release.version == pointer.get("version") else " "
            print(f"{mark} {release.version}  {release.created_at}  {release.build_id}")
        return 0
    if args.action == "rollback":
        pointer = releases.rollback(target)
    else:
        if not args.version:
            raise releases.ReleaseError("site-release activate needs a version")
        pointer = releases.activate(target, args.version)
    print(f"site release {pointer['version']} is live (previous {pointer['previous']})")
    return 0


def _terminate(signum: int, frame) -> None:
    raise JobTerminated(f"signal {signum}")


def _sim(args: argparse.Namespace) -> int:
    from batch_jobs import simulation

    settings = get_settings()
    if args.action == "sweep":
        return _sim_sweep(args)
    if args.action in ("submit", "start"):
        params = simulation.RunParams(
            ticks=args.ticks,
            snapshot_every=args.snapshot_every or min(100, args.ticks),
            seed=args.seed,
            ruleset=args.ruleset or simulation.RunParams.ruleset,
            founders=tuple(args.founder or ("sol",)),
            settleable_rule=args.settleable,
            profile=args.profile,
        )
        try:
            run_id = simulation.submit(settings, args.build, params, args.backend)
        except ValueError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        print(f"run {run_id} queued")
        if args.action == "submit":
            return 0
    else:
        run_id = args.run_id
    if args.action == "cancel":
        print(f"run {run_id} {simulation.cancel(run_id)}")
        return 0
    if args.action in ("start", "run"):
        # A run's id is its job's: every line of the attempt names it.
        with logs.bound(job_id=run_id):
            try:
                record = simulation.execute(settings, run_id)
            except simulation.InvariantBroken as err:
                print(f"error: run {run_id} failed: {err}", file=sys.stderr)
                return 1
        print(f"run {run_id} {record.state} at tick {record.last_tick}")
        return 0 if record.state in ("succeeded", "cancelled") else 1
    view = simulations.run_view(simulations.get_run(run_id))
    print(json.dumps(view, indent=1, sort_keys=True))
    return 0


def array_index(environ: dict[str, str] | None = None) -> int:
    """This worker's index in an array job, from AWS_BATCH_JOB_ARRAY_INDEX."""
    env = os.environ if environ is None else environ
    raw = env.get(launchers.ARRAY_INDEX_VAR)
    if raw is None or not raw.isdigit():
        raise BadRequest(
            f"{launchers.ARRAY_INDEX_VAR}={raw!r}: an array worker needs its index "
            "(AWS Batch sets it; the local launcher does too)",
            launchers.ARRAY_INDEX_VAR,
        )
    return int(raw)


def sweep_params(params: dict, index: int) -> dict:
    """The run parameters of worker `index`: the shared ones, then its own."""
    sweep = params.get("sweep") or []
    if not 0 <= index < len(sweep):
        raise BadRequest(
            f"array index {index} is outside the sweep's {len(sweep)} parameter sets",
            launchers.ARRAY_INDEX_VAR,
        )
    shared = {k: v for k, v in params.items() if k != "sweep"}
    return {**shared, **sweep[index]}


def _sim_sweep(args: argparse.Namespace) -> int:
    """One worker of a simulation sweep: run the parameter set at its index."""
    from batch_jobs import simulation

    if not args.job_id:
        print("error: sim sweep runs an array job: pass --job-id", file=sys.stderr)
        return 2
    index = array_index()
    size = len(jobs.params(jobs.get_job(args.job_id)).get("sweep") or [])
    run = JobRun.claim_shard(args.job_id, index, size)
    with logs.bound(job_id=run.job.job_id, array_index=index), run:
        chosen = sweep_params(job_params.validate("simulation", run.params), index)
        fields = {f: chosen[f] for f in RUN_FIELDS if f in chosen}
        if "founders" in fields:
            fields["founders"] = tuple(fields["founders"])
        params = simulation.RunParams(**fields)
        settings = get_settings()
        build = chosen.get("build", "active")
        try:
            run_id = simulation.submit(settings, build, params, chosen.get("backend"))
        except ValueError as err:
            # RunParams.check names the parameter: bad input, not worth a retry.
            raise BadRequest(f"sweep set {index}: {err}", "sweep") from err
        # The worker's own record hears the run's progress; its profile (if
        # asked for) covers the run, so the run takes none of its own.
        with logs.bound(run_id=run_id):
            record = simulation.execute(
                settings, run_id, on_progress=run.report, profile=False
            )
        if record.state != "succeeded":
            raise LocalBubbleError(f"sim run {run_id} ended {record.state}")
        run.succeed({"run_id": run_id, "state": record.state, "params": fields})
    print(f"worker {index}: run {run_id} {record.state}")
    return 0


def _encounters(args: argparse.Namespace) -> int:
    from batch_jobs.encounters import run_encounters

    result = run_encounters(get_settings(), args.build, args.backend)
    print(f"encounters {json.dumps(result, sort_keys=True)}")
    return 0


def _sim_parser(commands) -> None:
    sim = commands.add_parser("sim", help="settlement simulation runs")
    sim.add_argument(
        "action",
        choices=("start", "submit", "run", "cancel", "show", "sweep"),
        help="start = submit and run; run = run a queued run (a retry of a failed "
        "or cancelled one resumes from its last snapshot); "
        "sweep = one worker of an array job (--job-id)",
    )
    sim.add_argument("run_id", nargs="?", help="run id (run, cancel, show)")
    sim.add_argument("--build", default="active", help="build id (default: active)")
    sim.add_argument("--ticks", type=int, default=1000)
    sim.add_argument(
        "--snapshot-every", type=int, help="ticks between snapshots (default 100)"
    )
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--ruleset", default=None, help="default: settlement-v2")
    sim.add_argument("--founder", action="append", help="system id (default: sol)")
    sim.add_argument(
        "--settleable",
        default=None,
        choices=habitable.SETTLEABLE_RULES,
        help="settleable rule (default: the ruleset's own)",
    )
    sim.add_argument(
        "--backend",
        choices=KERNEL_BACKENDS,
        help="kernels (default: LB_SIM_BACKEND, else numba)",
    )
    sim.add_argument("--profile", action="store_true", help="store a cProfile dump")
    sim.add_argument("--job-id", help="sweep: the array job this worker belongs to")
    sim.set_defaults(run=_sim)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run one job, return its exit code."""
    parser = argparse.ArgumentParser(prog="python -m batch_jobs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build, publish and activate a world")
    build.add_argument("--no-activate", action="store_true")
    build.add_argument(
        "--incoming",
        action="store_true",
        help="let files under incoming/<role>/ in the sources bucket replace roles",
    )
    build.add_argument(
        "--astrometry",
        choices=("hip_main", "hip2"),
        default="hip_main",
        help="Hipparcos release of positions, parallaxes and proper motions: "
        "hip_main (1997) or hip2 (2007); a build setting, part of the build id",
    )
    site = commands.add_parser("site", help="render the static client")
    site.add_argument("--out", default="build/site")
    site.add_argument("--build", help="build id (default: the active build)")
    compare = commands.add_parser("compare", help="compare two published builds")
    compare.add_argument("--old", default="active", help="build id or 'active'")
    compare.add_argument("--new", help="build id or 'active'")
    backup = commands.add_parser("backup", help="back up every table to storage")
    backup.add_argument("--backup-id", help="default: backup-<UTC time>")
    restore = commands.add_parser("restore", help="restore a backup to new tables")
    restore.add_argument("--backup-id")
    restore.add_argument("--target-prefix", help="prefix of the new tables")
    drill = commands.add_parser(
        "drill", help="back up, restore to scratch tables, compare every item"
    )
    drill.add_argument("--backup-id", help="default: backup-<UTC time>")
    runs = (
        (build, _build), (site, _site), (compare, _compare), (backup, _backup),
        (restore, _restore), (drill, _drill),
    )  # fmt: skip
    for command, run in runs:
        command.add_argument("--job-id", help="run this queued job (launchers do)")
        command.add_argument(
            "--profile",
            action="store_true",
            help="store a cProfile of this run as an artifact (direct runs)",
        )
        command.set_defaults(run=run)
    release = commands.add_parser(
        "site-release", help="list the site releases, roll back, or activate one"
    )
    release.add_argument("action", choices=("list", "rollback", "activate"))
    release.add_argument("version", nargs="?", help="release version (activate)")
    release.add_argument("--out", default="build/site", help="the served site folder")
    release.set_defaults(run=_site_release)
    for command in (site, release):
        command.add_argument("--bucket", help="publish to this site bucket, not --out")
        command.add_argument(
            "--distribution-id", help="CloudFront distribution in front of --bucket"
        )
    _sim_parser(commands)
    encounters = commands.add_parser(
        "encounters", help="store a build's closest approaches to the Sun"
    )
    encounters.add_argument("--build", default="active")
    encounters.add_argument(
        "--backend",
        choices=KERNEL_BACKENDS,
        help="kernels to use (default: LB_SIM_BACKEND, else numba); shadow runs "
        "both and records their largest difference in the job's result",
    )
    encounters.set_defaults(run=_encounters)
    args = parser.parse_args(argv)
    if args.command == "sim" and args.action in ("run", "cancel", "show"):
        if not args.run_id:
            parser.error(f"sim {args.action} needs a run id")
    if not getattr(args, "job_id", None):
        if args.command == "compare" and not args.new:
            parser.error("compare needs --new (and --old, default active)")
        if args.command == "restore" and not (args.backup_id and args.target_prefix):
            parser.error("restore needs --backup-id and --target-prefix")
    job_id = getattr(args, "job_id", None) or getattr(args, "run_id", None)
    with tracing.batch_segment(f"local-bubble-{args.command}", job_id):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """Run the parsed command; map what it raised to the documented exit codes."""
    try:
        models.bind(get_settings())
        with logs.bound(job_id=getattr(args, "job_id", None)):
            return args.run(args)
    except jobs.JobLost as err:
        print(f"stopped: {err}", file=sys.stderr)
        return EXIT_LOST
    except jobs.JobStateConflict as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_LOST
    except (SourceError, BadRequest, ConfigurationError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except NotFound as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except (LocalBubbleError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except JobTerminated:
        print("error: terminated before the job finished", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # Only the process's own entry sets up logs and signals; tests call main().
    logs.configure("local-bubble-jobs")
    signal.signal(signal.SIGTERM, _terminate)
    sys.exit(main())
