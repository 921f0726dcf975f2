"""Runners for real: the entrypoint's side of a job, and local subprocesses.

The heartbeat thread, the local launcher and the incoming-sources path run
against the test servers; the full story (a source file starts a build, a
killed build is reaped and retried) is in tests/jobs_story.py.
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import pytest

from batch_jobs import sources
from batch_jobs.__main__ import main as batch_main
from batch_jobs.worker import JobRun
from chalicelib import jobs, runner
from chalicelib.errors import SourceFormatError
from chalicelib.launchers import LocalLauncher
from chalicelib.storage import ObjectStore

pytestmark = pytest.mark.integration

# Stands in for the entrypoint: notes when it ran, then sleeps.
NOTE_AND_SLEEP = """
import pathlib, sys, time
out = pathlib.Path(sys.argv[1])
start = time.time()
time.sleep(float(sys.argv[2]))
out.joinpath(sys.argv[-1]).write_text(f"{start} {time.time()}")
"""


@pytest.fixture
def queued(settings):
    """A factory of queued jobs that nothing launched; all cancelled at the end."""
    made = []

    def make(job_type: str = "build") -> str:
        job = jobs.submit(job_type, {"activate": False}).job
        made.append(job.job_id)
        return job.job_id

    yield make
    for job_id in made:  # a pending retry too: a later sweep would launch it
        with contextlib.suppress(jobs.JobStateConflict):
            jobs.cancel(job_id, "test ended")


def _wait(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


def test_a_run_heartbeats_in_the_background_and_succeeds_at_its_end(queued):
    job_id = queued()
    with JobRun.claim(job_id, heartbeat_s=0.2) as run:
        first = run.job.heartbeat_at
        time.sleep(0.7)
        assert jobs.get_job(job_id).heartbeat_at > first
        run.report(0.5, "halfway")
        assert (jobs.get_job(job_id).progress, jobs.get_job(job_id).step) == (
            0.5,
            "halfway",
        )
    assert jobs.get_job(job_id).state == "succeeded"


def test_a_run_whose_job_is_cancelled_stops_at_its_next_heartbeat(queued):
    job_id = queued()
    started = time.monotonic()
    with pytest.raises(jobs.JobLost), JobRun.claim(job_id, heartbeat_s=0.2):
        jobs.cancel(job_id)
        time.sleep(10)  # the heartbeat thread interrupts this
    assert time.monotonic() - started < 5
    assert jobs.get_job(job_id).state == "cancelled"


def test_an_error_fails_the_run_and_bad_input_is_not_retried(queued):
    crashing, bad = queued(), queued()
    with pytest.raises(RuntimeError), JobRun.claim(crashing, heartbeat_s=5):
        raise RuntimeError("disk full")
    with pytest.raises(SourceFormatError), JobRun.claim(bad, heartbeat_s=5):
        raise SourceFormatError("x.csv", "garbled", 3)
    crashed, refused = jobs.get_job(crashing), jobs.get_job(bad)
    assert (crashed.state, crashed.error) == ("failed", "RuntimeError: disk full")
    assert crashed.retry_at is not None
    assert refused.state == "failed" and refused.retry_at is None


def _spin_for_the_profile(seconds: float) -> int:
    end, turns = time.perf_counter() + seconds, 0
    while time.perf_counter() < end:
        turns += 1
    return turns


def test_a_profiled_job_stores_its_profile_and_points_its_record_at_it(settings):
    import json

    job_id = jobs.submit("site", {"profile": True}).job.job_id
    with JobRun.claim(job_id, heartbeat_s=5):
        _spin_for_the_profile(0.2)
    record = jobs.get_job(job_id)
    key = f"jobs/{job_id}/profile-attempt-1.json"
    assert record.state == "succeeded"
    assert record.profile_uri == f"s3://{settings.builds_bucket}/{key}"
    profile = json.loads(ObjectStore(settings).get(settings.builds_bucket, key))
    spun = [row for row in profile["stats"] if row.endswith(":_spin_for_the_profile")]
    assert len(spun) == 1
    assert profile["stats"][spun[0]][2] >= 0.15  # cumulative seconds
    assert jobs.job_view(record)["history"][-1]["profile_uri"] == record.profile_uri


def test_a_job_without_the_switch_stores_no_profile(queued, settings):
    job_id = queued("site")
    with JobRun.claim(job_id, heartbeat_s=5):
        _spin_for_the_profile(0.01)
    assert jobs.get_job(job_id).profile_uri is None
    keys = ObjectStore(settings).list_keys(settings.builds_bucket, f"jobs/{job_id}/")
    assert keys == []


def test_a_failed_profiled_attempt_keeps_its_profile(settings):
    job_id = jobs.submit("site", {"profile": True}).job.job_id
    with pytest.raises(RuntimeError), JobRun.claim(job_id, heartbeat_s=5):
        _spin_for_the_profile(0.05)
        raise RuntimeError("out of memory")
    record = jobs.get_job(job_id)
    assert record.state == "failed"
    assert record.profile_uri.endswith(f"jobs/{job_id}/profile-attempt-1.json")
    jobs.cancel(job_id, "test ended")  # no automatic retry later


def test_the_entrypoint_refuses_a_job_that_is_not_queued(queued):
    job_id = queued()
    jobs.cancel(job_id)
    assert batch_main(["build", "--job-id", job_id]) == 3


def test_the_local_launcher_runs_several_runners_at_once(queued, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    launcher = LocalLauncher(
        tmp_path / "logs",
        program=[sys.executable, "-c", NOTE_AND_SLEEP, str(notes), "1.0"],
    )
    job_ids = [queued(), queued(), queued()]
    started = time.monotonic()
    for job_id in job_ids:
        runner.launch(jobs.get_job(job_id), launcher)
    _wait(lambda: not launcher.running(), 20, "the three runners to end")
    spans = [
        tuple(map(float, (notes / job_id).read_text().split())) for job_id in job_ids
    ]
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    assert time.monotonic() - started < 3.0 * 3  # not one after the other
    logs = sorted(path.name for path in (tmp_path / "logs").iterdir())
    assert logs == sorted(f"{job_id}.attempt1.log" for job_id in job_ids)


def test_cancelling_a_local_job_terminates_its_runner(queued, tmp_path):
    launcher = LocalLauncher(
        tmp_path, program=[sys.executable, "-c", NOTE_AND_SLEEP, str(tmp_path), "60"]
    )
    job_id = queued()
    runner.launch(jobs.get_job(job_id), launcher)
    assert launcher.running()
    runner.cancel(job_id, launcher)
    _wait(lambda: not launcher.running(), 10, "the runner to end")
    assert jobs.get_job(job_id).state == "cancelled"
    assert not (tmp_path / job_id).exists()  # it never got to write its note


def test_the_newest_incoming_file_of_each_role_is_fetched(settings, tmp_path):
    store = ObjectStore(settings)
    bucket = f"{settings.sources_bucket}-incoming"
    store.ensure_bucket(bucket)
    put = store.client.put_object
    put(Bucket=bucket, Key="incoming/exoplanets/old.csv", Body=b"old")
    time.sleep(1.1)  # S3 times are to the second
    put(Bucket=bucket, Key="incoming/exoplanets/new.csv", Body=b"new")
    put(Bucket=bucket, Key="incoming/d3_names/names.json", Body=b"{}")
    put(Bucket=bucket, Key="incoming/not_a_role/x.csv", Body=b"x")
    paths, origins = sources.fetch_incoming(store, bucket, tmp_path)
    assert set(paths) == {"exoplanets", "d3_names"}
    assert paths["exoplanets"].read_bytes() == b"new"
    assert origins["exoplanets"] == f"s3://{bucket}/incoming/exoplanets/new.csv"
    described = sources.describe(paths, origins)
    assert {f.path for f in described} == set(origins.values())
    assert all(Path(p).is_file() for p in paths.values())
