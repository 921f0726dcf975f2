"""A job's profile: cProfile over one attempt, stored as an artifact beside its logs.

Switched on per job (the `profile` parameter, `jobctl start --profile`, or
`--profile` on the entrypoint) or for every job of a runner (`LB_PROFILE_JOBS=1`),
so a slow job in the cloud can be profiled without a new image.
"""

from __future__ import annotations

import cProfile
import io
import json
import logging
import os
import pstats

logger = logging.getLogger(__name__)
TOP_ROWS = 30


def wanted(params: dict) -> bool:
    """Whether this job's attempt should run under the profiler."""
    return bool(params.get("profile")) or os.environ.get("LB_PROFILE_JOBS") == "1"


def report(profiler: cProfile.Profile) -> bytes:
    """The profile as JSON: the top functions by cumulative time, and every row."""
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(TOP_ROWS)
    rows = stats.stats  # type: ignore[attr-defined]
    document = {
        "format": "cprofile-v1",
        "total_calls": stats.total_calls,  # type: ignore[attr-defined]
        "total_s": round(stats.total_tt, 6),  # type: ignore[attr-defined]
        "top_cumulative": text.getvalue(),
        "stats": {
            f"{file}:{line}:{name}": [calls, total, cumulative]
            for (file, line, name), (_, calls, total, cumulative, _) in rows.items()
        },
    }
    return json.dumps(document, sort_keys=True).encode()


def profile_key(job_id: str, attempt: int, shard: int | None = None) -> str:
    """Where an attempt's profile lives in the builds bucket (one per array worker)."""
    worker = "" if shard is None else f"-shard-{shard}"
    return f"jobs/{job_id}/profile-attempt-{attempt}{worker}.json"
