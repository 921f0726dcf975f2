"""`python -m devenv start|stop|status|setup|serve`: manage the local services.

`start`, `stop` and `status` act on dynalite and SeaweedFS; `setup` makes the
tables and buckets; `serve --site DIR` serves the API and the rendered site in
the foreground until Ctrl-C (or SIGTERM). Used by the Makefile; exits non-zero
with one line saying what to do when a prerequisite is missing or a service
fails to start.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from chalicelib.errors import ConfigurationError
from devenv import services


def _setup() -> str:
    from chalicelib import models, storage, tables
    from chalicelib.settings import get_settings

    settings = get_settings()
    models.bind(settings)
    created = tables.create_tables()
    store = storage.ObjectStore(settings)
    for bucket in (settings.sources_bucket, settings.builds_bucket):
        store.ensure_bucket(bucket)
    return (
        f"tables ready ({', '.join(created) or 'all existed'}); buckets "
        f"{settings.sources_bucket}, {settings.builds_bucket} ready"
    )


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m devenv", description=__doc__)
    parser.add_argument(
        "command", choices=["start", "stop", "status", "setup", "serve"]
    )
    parser.add_argument("--site", default="build/site", help="folder to serve")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        if args.command == "serve":
            from devenv import serving

            serving.serve(
                Path(args.site),
                api_port=int(os.environ.get("LB_API_PORT", "8700")),
                site_port=int(os.environ.get("LB_SITE_PORT", "8080")),
            )
            return 0
        if args.command == "setup":
            print(_setup())
            return 0
        actions = {
            "start": services.start,
            "stop": services.stop,
            "status": services.status,
        }
        for service in services.all_services():
            print(actions[args.command](service))
    except (
        services.PrerequisiteMissing,
        services.ServiceFailed,
        ConfigurationError,
        ValueError,
    ) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
