"""Container entrypoint for batch jobs: `python -m batch_jobs build|site`.

The same entrypoint runs as a local subprocess or as an AWS Batch job; exit code
0 means done, 2 means bad input (a message says which file and what), 1 anything
else.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from chalicelib import builds, models
from chalicelib.errors import LocalBubbleError, SourceError
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger("batch_jobs")


def _build(args: argparse.Namespace) -> int:
    from batch_jobs.pipeline import run_build

    started = time.perf_counter()
    outcome = run_build(get_settings(), activate=not args.no_activate)
    verb = "built and published" if outcome.created else "already published"
    print(f"world_build_id {outcome.build_id} ({verb})")
    if outcome.counts:
        print(f"counts {json.dumps(outcome.counts, sort_keys=True)}")
    print(f"took {time.perf_counter() - started:.1f} s")
    return 0


def _site(args: argparse.Namespace) -> int:
    from batch_jobs.site import build_site

    settings = get_settings()
    build_id = args.build or builds.active_build_id()
    store = ObjectStore(settings)
    prefix = f"builds/{build_id}/tiles"
    tile = store.get(settings.builds_bucket, f"{prefix}/stars.bin")
    ids = json.loads(store.get(settings.builds_bucket, f"{prefix}/stars_ids.json"))
    out = build_site(
        Path(args.out), build_id=build_id, api_url=settings.api_url, tile=tile,
        tile_ids=ids,
    )  # fmt: skip
    print(f"site for {build_id} rendered into {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run one job, return its exit code."""
    parser = argparse.ArgumentParser(prog="python -m batch_jobs", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build, publish and activate a world")
    build.add_argument("--no-activate", action="store_true")
    build.set_defaults(run=_build)
    site = commands.add_parser("site", help="render the static client")
    site.add_argument("--out", default="build/site")
    site.add_argument("--build", help="build id (default: the active build)")
    site.set_defaults(run=_site)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format='{"time":"%(asctime)s","level":"%(levelname)s",'
        '"logger":"%(name)s","message":"%(message)s"}',
    )
    try:
        models.bind(get_settings())
        return args.run(args)
    except SourceError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (LocalBubbleError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
