"""Which release of the code is running, so job records and KPIs can name it.

A deployment sets `LB_RELEASE` (the Lambda functions and the batch image get the
same value); a checkout without it names itself by its git commit.
"""

from __future__ import annotations

import functools
import logging
import os
import subprocess

from chalicelib.settings import REPO_ROOT

logger = logging.getLogger(__name__)
UNRELEASED = "unreleased"


@functools.lru_cache(maxsize=1)
def current_release() -> str:
    """The running code's release: `LB_RELEASE`, else `git-<short sha>`."""
    named = os.environ.get("LB_RELEASE", "").strip()
    if named:
        return named
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "rev-parse", "--short=10", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        logger.debug("no LB_RELEASE and no git checkout: release %s", UNRELEASED)
        return UNRELEASED
    return f"git-{done.stdout.strip()}"
