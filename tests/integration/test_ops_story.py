"""Issue 7's must-show, with real processes: see tests/jobs_story.py for the story."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib import builds, jobs
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore

pytestmark = pytest.mark.integration


def test_a_file_put_into_the_sources_bucket_starts_exactly_one_build(ops_story):
    assert len(ops_story.source_job_ids) == 1
    job = jobs.get_job(ops_story.source_job_ids[0])
    assert (job.state, job.trigger, job.attempts) == ("succeeded", "source", 1)
    assert ops_story.repeat_reply == {"job_id": job.job_id, "created": False}


def test_the_source_build_ends_published_from_the_new_file(ops_story):
    record = builds.get_build(ops_story.source_build_id)
    assert record.state == "published"
    settings = get_settings()
    manifest = json.loads(
        ObjectStore(settings).get(
            settings.builds_bucket,
            f"builds/{ops_story.source_build_id}/source_manifest.json",
        )
    )
    exoplanets = next(entry for entry in manifest if entry["role"] == "exoplanets")
    assert (
        exoplanets["path"] == f"s3://{settings.sources_bucket}/{ops_story.source_key}"
    )


def test_a_job_killed_mid_run_is_recorded_failed_by_the_reaper(ops_story):
    assert ops_story.killed_at_step not in (None, "started", "done")
    assert ops_story.state_after_kill == "failed"
    assert ops_story.error_after_kill.startswith("heartbeat stopped")


def test_the_retry_of_the_killed_job_succeeds_as_its_second_attempt(ops_story):
    view = jobs.job_view(jobs.get_job(ops_story.killed_job_id))
    assert (view["state"], view["attempts"]) == ("succeeded", 2)
    first, second = view["history"]
    assert first["state"] == "failed" and first["started_at"] is not None
    assert second["state"] == "succeeded"
    assert builds.get_build(view["result"]["build_id"]).state == "published"


def test_the_runners_logs_are_json_lines_with_their_job_id(ops_story):
    view = jobs.job_view(jobs.get_job(ops_story.killed_job_id))
    text = Path(view["log_uri"].removeprefix("file://")).read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert lines and all(line["job_id"] == ops_story.killed_job_id for line in lines)
    assert any(line.get("outcome") == "succeeded" for line in lines)
