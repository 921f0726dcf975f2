"""The operations story issue 7 asks to see, run once per session with real processes.

While the local watcher (`python -m jobctl watch-sources`) runs as it would on a
laptop: a source file is put into the sources bucket with a plain S3 client and
starts one build that ends published; then a build is killed with SIGKILL in the
middle of its run, the watcher's sweep marks it failed, and a retry succeeds.
The builds read small hand-made sources (tests/data), so the story takes seconds.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from batch_jobs.sources import DEFAULT_SOURCES
from chalicelib import builds, jobs, runner
from chalicelib.launchers import LocalLauncher
from chalicelib.models import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, JobRecord

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SAMPLE_FILES = {
    "hip_main": "hip_main_sample.dat",
    "sscore_nearest": "sscore_nearest_sample.csv",
    "sscore_brightest": "sscore_brightest_sample.csv",
    "d3_names": "d3_names_sample.json",
    "exoplanets": "exoplanets_sample_2024.csv",
}
SOURCE_KEY = "incoming/exoplanets/pscomppars_sample_2020.csv"
# The sample's edge cases cross the default quality limits (see tests/conftest.py).
QUALITY_LIMITS = json.dumps(
    {
        "hip.position_missing": 0.2,
        "hip.parallax_nonpositive": 0.2,
        "exo.eccentricity_invalid": 0.2,
    }
)
HEARTBEAT_S = "1.0"


@dataclass(frozen=True)
class OpsStory:
    """What happened, for the tests to check."""

    source_key: str
    source_job_ids: list[str]
    repeat_reply: dict
    source_build_id: str
    killed_job_id: str
    killed_at_step: str
    state_after_kill: str
    error_after_kill: str
    watcher_log: Path


def write_sample_sources(folder: Path, note: str | None = None) -> Path:
    """The hand-made sources laid out as SOURCES_DIR expects; `note` varies them."""
    for role, relative in DEFAULT_SOURCES.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        body = (DATA / SAMPLE_FILES[role]).read_bytes()
        if role == "exoplanets" and note:
            body = f"# {note}\n".encode() + body  # the reader skips # lines
        if relative.endswith(".gz"):
            body = gzip.compress(body, mtime=0)
        target.write_bytes(body)
    return folder


def _wait(probe: Callable[[], object], timeout_s: float, what: str, poll_s=0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(poll_s)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _jobs_for_object(key: str) -> list[JobRecord]:
    page, _ = jobs.list_jobs(100, job_type="build")
    return [job for job in page if jobs.params(job).get("source", {}).get("key") == key]


def _ended(job_id: str) -> JobRecord | None:
    job = jobs.get_job(job_id)
    return job if job.state in jobs.TERMINAL else None


def _put_source(settings, env: dict) -> dict:
    """Put one file with a plain S3 client; the watcher must start one build."""
    s3 = boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint,
        region_name=settings.region,
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
    )
    body = (DATA / "exoplanets_sample_2020.csv").read_bytes()
    s3.put_object(Bucket=settings.sources_bucket, Key=SOURCE_KEY, Body=body)
    started = _wait(lambda: _jobs_for_object(SOURCE_KEY), 60, "the watcher's build")
    ended = _wait(
        lambda: _ended(started[0].job_id), 120, "the source build to end", 0.2
    )
    assert ended.state == "succeeded", (ended.state, ended.error)
    s3.put_object(Bucket=settings.sources_bucket, Key=SOURCE_KEY, Body=body)
    time.sleep(2.0)  # several watcher polls
    # A fresh process knows nothing the watcher remembers: only the key dedups.
    emitted = subprocess.run(
        [sys.executable, "-m", "jobctl", "emit", "source", SOURCE_KEY],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {
        "source_job_ids": [job.job_id for job in _jobs_for_object(SOURCE_KEY)],
        "repeat_reply": json.loads(emitted.stdout),
        "source_build_id": json.loads(jobs.get_job(started[0].job_id).result_json)[
            "build_id"
        ],
    }


def _kill_and_retry(launcher: LocalLauncher) -> dict:
    """SIGKILL a build mid-run; the watcher reaps it; a retry finishes it."""
    job = runner.start("build", {"activate": False, "incoming": False}, launcher).job

    def working() -> JobRecord | None:
        record = jobs.get_job(job.job_id)
        busy = record.state == "running" and float(record.progress or 0) >= 0.1
        return record if busy else None

    running = _wait(working, 60, "the build to be running")
    os.kill(int(running.runner_id), signal.SIGKILL)
    _wait(lambda: not launcher.running(), 10, "the killed runner to be gone")
    failed = _wait(
        lambda: jobs.get_job(job.job_id).state == "failed" and jobs.get_job(job.job_id),
        30,
        "the watcher's sweep to mark the killed job failed",
        0.2,
    )
    runner.retry(job.job_id, launcher)
    _wait(lambda: _ended(job.job_id), 120, "the retry to end", 0.2)
    _wait(lambda: not launcher.running(), 20, "the retry's runner to exit")
    return {
        "killed_job_id": job.job_id,
        "killed_at_step": running.step,
        "state_after_kill": failed.state,
        "error_after_kill": failed.error,
    }


@pytest.fixture(scope="session")
def ops_story(settings, tmp_path_factory) -> OpsStory:
    """Run the story once; afterwards the previously active build is active again."""
    root = tmp_path_factory.mktemp("ops-story")
    sample = write_sample_sources(root / "sources")
    variant = write_sample_sources(root / "variant", note="a variant to kill")
    env = {
        **os.environ,
        "SOURCES_DIR": str(sample),
        "LB_JOB_HEARTBEAT_S": HEARTBEAT_S,
        "LB_JOB_LOG_DIR": str(root / "job-logs"),
        "LB_QUALITY_LIMITS": QUALITY_LIMITS,
        # Automatic retries wait ten minutes: the story retries by hand.
        "LB_JOB_RETRY_BASE_S": "600",
    }
    launcher = LocalLauncher(
        root / "job-logs",
        env={
            "SOURCES_DIR": str(variant),
            "LB_JOB_HEARTBEAT_S": HEARTBEAT_S,
            "LB_QUALITY_LIMITS": QUALITY_LIMITS,
        },
    )
    pointer = builds.get_pointer()
    watcher_log = root / "watcher.log"
    with watcher_log.open("wb") as log:
        watcher = subprocess.Popen(
            [sys.executable, "-m", "jobctl", "-v", "watch-sources", "--interval",
             "0.5"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        source = _put_source(settings, env)
        killed = _kill_and_retry(launcher)
    finally:
        watcher.terminate()
        watcher.wait(timeout=20)
    if pointer is not None and builds.get_pointer().active_build_id != (
        pointer.active_build_id
    ):
        builds.activate(pointer.active_build_id)  # a rollback, as an operator would
    return OpsStory(source_key=SOURCE_KEY, watcher_log=watcher_log, **source, **killed)
