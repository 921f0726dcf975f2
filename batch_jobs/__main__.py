"""Container entrypoint for batch jobs: `python -m batch_jobs build|site`.

The same entrypoint runs as a local subprocess or as an AWS Batch job. With
`--job-id` it runs a queued job (its parameters come from the job record);
without, it records a job of its own. Exit code 0 means done, 2 bad input (a
message says which file and what), 3 the job was cancelled or taken from this
runner, 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from pathlib import Path

from batch_jobs.worker import JobRun, JobTerminated
from chalicelib import builds, jobs, logs, models
from chalicelib.errors import LocalBubbleError, SourceError
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger("batch_jobs")
EXIT_LOST = 3


def _job_run(args: argparse.Namespace, job_type: str, params: dict) -> JobRun:
    if args.job_id:
        return JobRun.claim(args.job_id)
    return JobRun.direct(job_type, params)


def _build(args: argparse.Namespace) -> int:
    from batch_jobs.pipeline import run_build

    started = time.perf_counter()
    settings = get_settings()
    run = _job_run(
        args, "build", {"activate": not args.no_activate, "incoming": args.incoming}
    )
    with logs.bound(job_id=run.job.job_id), run:
        params = run.params
        outcome = run_build(
            settings,
            activate=params.get("activate", True),
            incoming=params.get("incoming", False),
            report=run.report,
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
    run = _job_run(args, "site", {"out": args.out, "build": args.build})
    with logs.bound(job_id=run.job.job_id), run:
        params = run.params
        out = _render_site(params.get("out") or args.out, params.get("build"), run)
        run.succeed({"out": str(out)}, result_uri=out.resolve().as_uri())
    return 0


def _render_site(out_dir: str, build: str | None, run: JobRun) -> Path:
    from batch_jobs.site import build_site

    settings = get_settings()
    build_id = build or builds.active_build_id()
    run.report(0.2, f"rendering the site for {build_id}")
    store = ObjectStore(settings)
    prefix = f"builds/{build_id}/tiles"
    tile = store.get(settings.builds_bucket, f"{prefix}/stars.bin")
    ids = json.loads(store.get(settings.builds_bucket, f"{prefix}/stars_ids.json"))
    out = build_site(
        Path(out_dir), build_id=build_id, api_url=settings.api_url, tile=tile,
        tile_ids=ids,
    )  # fmt: skip
    print(f"site for {build_id} rendered into {out}")
    return out


def _terminate(signum: int, frame) -> None:
    raise JobTerminated(f"signal {signum}")


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
    site = commands.add_parser("site", help="render the static client")
    site.add_argument("--out", default="build/site")
    site.add_argument("--build", help="build id (default: the active build)")
    for command, run in ((build, _build), (site, _site)):
        command.add_argument("--job-id", help="run this queued job (launchers do)")
        command.set_defaults(run=run)
    args = parser.parse_args(argv)
    try:
        models.bind(get_settings())
        with logs.bound(job_id=args.job_id):
            return args.run(args)
    except jobs.JobLost as err:
        print(f"stopped: {err}", file=sys.stderr)
        return EXIT_LOST
    except jobs.JobStateConflict as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_LOST
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except LocalBubbleError as err:
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
