"""Job records, the reaper, retries and the trigger handlers, against dynalite.

Launching is replaced by `RecordingLauncher` (tests/integration/conftest.py),
which starts nothing and remembers what it was asked: these tests are about the
records and the handlers; tests/integration/test_job_runner.py runs real runners.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from chalice.test import Client

from chalicelib import jobs, kpis, runner
from chalicelib.models import JobKey, JobRecord
from tests.integration.conftest import RecordingLauncher

pytestmark = pytest.mark.integration


@pytest.fixture
def client(settings):
    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


def _running(launcher, heartbeat_s: float = 1.0, **params) -> JobRecord:
    job = runner.start("build", params, launcher).job
    return jobs.claim(job.job_id, heartbeat_s=heartbeat_s)


def test_a_started_job_is_queued_launched_and_recorded_with_its_parameters(launcher):
    submission = runner.start("build", {"activate": False}, launcher)
    job = jobs.get_job(submission.job.job_id)
    assert submission.created
    assert launcher.launched == [job.job_id]
    assert (job.state, job.attempts, job.feed) == ("queued", 1, "live")
    assert jobs.params(job) == {"activate": False}
    assert (job.launcher, job.runner_id) == ("recording", "r-1")
    assert job.start_deadline > job.queued_at


def test_a_repeated_idempotency_key_returns_the_first_job_and_launches_once(launcher):
    first = runner.start("build", {}, launcher, idempotency_key="k-repeat")
    again = runner.start(
        "build", {"activate": False}, launcher, idempotency_key="k-repeat"
    )
    assert (first.created, again.created) == (True, False)
    assert again.job.job_id == first.job.job_id
    assert launcher.launched == [first.job.job_id]
    assert JobKey.get("key#k-repeat").target_job_id == first.job.job_id


def test_an_unknown_job_type_is_refused_before_anything_is_written(launcher):
    with pytest.raises(jobs.UnknownJobType, match="use one of build"):
        runner.start("teleport", {}, launcher)
    assert launcher.launched == []


def test_a_claimed_job_records_progress_and_its_end(launcher):
    job = _running(launcher)
    jobs.heartbeat(job, progress=0.4, step="writing items")
    assert (job.progress, job.step) == (0.4, "writing items")
    jobs.finish_job(job, result={"build_id": "wb-x"}, result_uri="s3://b/k")
    view = jobs.job_view(jobs.get_job(job.job_id))
    assert view["state"] == "succeeded"
    assert view["progress"] == 1.0
    assert view["result"] == {"build_id": "wb-x"}
    assert view["duration_s"] >= 0 and view["startup_s"] >= 0
    assert job.feed == "done"


def test_only_a_queued_job_can_be_claimed(launcher):
    job = _running(launcher)
    with pytest.raises(jobs.JobStateConflict, match="not queued"):
        jobs.claim(job.job_id, heartbeat_s=1.0)


def test_a_runner_learns_at_its_next_heartbeat_that_its_job_was_cancelled(
    launcher,
):
    job = _running(launcher)
    runner.cancel(job.job_id, launcher)
    with pytest.raises(jobs.JobLost, match="no longer running"):
        jobs.heartbeat(job, progress=0.5)
    assert launcher.cancelled == [job.job_id]
    assert jobs.get_job(job.job_id).state == "cancelled"


def test_the_reaper_fails_a_job_whose_heartbeat_stopped_and_spares_a_live_one(
    launcher,
):
    silent = _running(launcher, heartbeat_s=1.0)
    alive = _running(launcher, heartbeat_s=60.0)
    later = silent.heartbeat_at + timedelta(seconds=10)
    reaped = {job.job_id for job in jobs.reap(later)}
    assert silent.job_id in reaped and alive.job_id not in reaped
    record = jobs.get_job(silent.job_id)
    assert record.state == "failed"
    assert record.error.startswith("heartbeat stopped")
    assert record.retryable and record.retry_at is not None


def test_a_late_runner_cannot_overwrite_a_reaped_job(launcher):
    job = _running(launcher, heartbeat_s=1.0)
    jobs.reap(job.heartbeat_at + timedelta(seconds=10))
    with pytest.raises(jobs.JobLost):
        jobs.finish_job(job, result={"late": True})
    assert jobs.get_job(job.job_id).state == "failed"


def test_a_launched_job_no_runner_claims_is_a_failed_start_up(launcher):
    job = runner.start("build", {}, launcher).job
    jobs.reap(job.start_deadline + timedelta(seconds=1))
    record = jobs.get_job(job.job_id)
    assert record.state == "failed"
    assert record.error.startswith("never started")
    assert record.started_at is None


def test_a_launch_that_fails_is_recorded_as_a_failed_start_up(settings):
    refusing = RecordingLauncher(fail=True)
    job = runner.start("build", {}, refusing).job
    record = jobs.get_job(job.job_id)
    assert record.state == "failed"
    assert record.error == "launch failed: the test launcher refuses"
    assert record.retry_at is not None
    jobs.cancel(job.job_id, "test ended")


def test_the_sweep_retries_a_reaped_job_after_its_back_off_and_not_before(launcher):
    job = _running(launcher, heartbeat_s=1.0)
    jobs.reap(job.heartbeat_at + timedelta(seconds=10))
    failed = jobs.get_job(job.job_id)
    delay = (failed.retry_at - failed.finished_at).total_seconds()
    assert delay == pytest.approx(jobs.load_retry_policy().delay_s(1), abs=0.01)
    assert runner.sweep(launcher, failed.retry_at - timedelta(seconds=1)).retried == []
    report = runner.sweep(launcher, failed.retry_at + timedelta(seconds=1))
    assert report.retried == [job.job_id]
    retried = jobs.get_job(job.job_id)
    assert (retried.state, retried.attempts, retried.trigger) == (
        "queued",
        2,
        "auto-retry",
    )
    assert launcher.launched.count(job.job_id) == 2


def test_the_second_automatic_retry_waits_twice_as_long(launcher):
    job = _running(launcher, heartbeat_s=1.0)
    jobs.reap(job.heartbeat_at + timedelta(seconds=10))
    runner.sweep(launcher, jobs.get_job(job.job_id).retry_at + timedelta(seconds=1))
    second = jobs.claim(job.job_id, heartbeat_s=1.0)
    jobs.reap(second.heartbeat_at + timedelta(seconds=10))
    failed = jobs.get_job(job.job_id)
    delay = (failed.retry_at - failed.finished_at).total_seconds()
    assert delay == pytest.approx(jobs.load_retry_policy().delay_s(2), abs=0.01)


def test_no_automatic_retry_for_bad_input_or_after_the_last_attempt(launcher):
    bad_input = _running(launcher)
    jobs.finish_job(bad_input, error="SourceFormatError: x", retryable=False)
    assert jobs.get_job(bad_input.job_id).retry_at is None
    last = runner.start("build", {}, launcher, max_attempts=1).job
    last = jobs.claim(last.job_id, heartbeat_s=1.0)
    jobs.finish_job(last, error="RuntimeError: boom")
    record = jobs.get_job(last.job_id)
    assert (record.state, record.retry_at, record.feed) == ("failed", None, "done")


def test_a_manual_retry_queues_the_next_attempt_and_keeps_the_history(launcher):
    job = _running(launcher)
    jobs.finish_job(job, error="RuntimeError: boom")
    runner.retry(job.job_id, launcher)
    view = jobs.job_view(jobs.get_job(job.job_id))
    assert (view["state"], view["attempts"], view["error"]) == ("queued", 2, None)
    first, current = view["history"]
    assert (first["attempt"], first["state"], first["error"]) == (
        1,
        "failed",
        "RuntimeError: boom",
    )
    assert (current["attempt"], current["state"]) == (2, "queued")


def test_only_failed_or_cancelled_jobs_can_be_retried(launcher):
    job = _running(launcher)
    jobs.finish_job(job, result={})
    with pytest.raises(jobs.JobStateConflict, match="only failed or cancelled"):
        runner.retry(job.job_id, launcher)


def test_a_finished_job_cannot_be_cancelled(launcher):
    job = _running(launcher)
    jobs.finish_job(job, result={})
    with pytest.raises(jobs.JobStateConflict, match="nothing to cancel"):
        runner.cancel(job.job_id, launcher)


def test_an_unknown_job_is_not_found():
    with pytest.raises(jobs.JobNotFound, match="jobctl list"):
        jobs.get_job("build-does-not-exist")


def test_jobs_are_listed_newest_first_across_live_and_done_in_pages(launcher):
    made = []
    for index in range(5):
        job = (
            _running(launcher) if index % 2 else runner.start("site", {}, launcher).job
        )
        if index % 2:
            jobs.finish_job(job, result={})
        made.append(job.job_id)
    seen, before = [], None
    while True:
        page, before = jobs.list_jobs(2, before)
        seen.extend(job.job_id for job in page)
        if before is None:
            break
    mine = [job_id for job_id in seen if job_id in made]
    assert mine == list(reversed(made))
    sites, _ = jobs.list_jobs(100, job_type="site")
    assert {job.job_type for job in sites} == {"site"}


def test_recent_kpis_cover_the_jobs_of_the_window(launcher):
    job = _running(launcher)
    jobs.finish_job(job, result={})
    report = kpis.recent(days=1)
    assert report["window_days"] == 1
    assert report["by_type"]["build"]["jobs"] >= 1
    assert report["by_type"]["build"]["duration_s"]["samples"] >= 1


def test_an_attempt_records_the_release_of_the_code_that_ran_it(launcher, monkeypatch):
    from chalicelib.release import current_release

    monkeypatch.setenv("LB_RELEASE", "2026.12.0")
    current_release.cache_clear()
    job = runner.start("build", {}, launcher).job
    assert jobs.get_job(job.job_id).release == "2026.12.0"
    # A runner of the next release claims it: the attempt is the runner's.
    monkeypatch.setenv("LB_RELEASE", "2026.12.1")
    current_release.cache_clear()
    jobs.claim(job.job_id, heartbeat_s=1.0)
    jobs.finish_job(jobs.get_job(job.job_id), result={})
    current_release.cache_clear()
    view = jobs.job_view(jobs.get_job(job.job_id))
    assert view["release"] == "2026.12.1"
    assert view["history"][-1]["release"] == "2026.12.1"
    report = kpis.recent(days=1)["by_release"]
    assert report["2026.12.1"]["build"]["duration_s"]["samples"] >= 1


def test_the_jobs_route_pages_with_a_signed_cursor(launcher, client):
    for _ in range(3):
        runner.start("site", {}, launcher)
    first = client.http.get("/jobs?type=site&limit=2")
    body = json.loads(first.body)
    assert first.status_code == 200
    assert first.headers["Cache-Control"] == "no-store"
    assert len(body["jobs"]) == 2 and body["next_cursor"]
    second = json.loads(
        client.http.get(f"/jobs?type=site&limit=2&cursor={body['next_cursor']}").body
    )
    assert not {j["job_id"] for j in second["jobs"]} & {
        j["job_id"] for j in body["jobs"]
    }
    moved = client.http.get(f"/jobs?type=build&limit=2&cursor={body['next_cursor']}")
    assert moved.status_code == 400


def test_the_job_route_shows_one_job_and_404s_an_unknown_one(launcher, client):
    job = runner.start("build", {"activate": False}, launcher).job
    found = json.loads(client.http.get(f"/jobs/{job.job_id}").body)
    assert found["job_id"] == job.job_id and found["state"] == "queued"
    missing = client.http.get("/jobs/build-nope")
    assert missing.status_code == 404
    assert json.loads(missing.body)["error"]["code"] == "job_not_found"


@pytest.mark.parametrize("query", ["state=lost", "type=teleport", "limit=0"])
def test_the_jobs_route_names_a_bad_parameter(client, query):
    response = client.http.get(f"/jobs?{query}")
    assert response.status_code == 400
    assert json.loads(response.body)["error"]["parameter"] == query.split("=")[0]


def test_the_kpis_route_answers_and_refuses_a_bad_window(client):
    assert "by_type" in json.loads(client.http.get("/ops/kpis?days=7").body)
    assert client.http.get("/ops/kpis?days=0").status_code == 400


def test_the_builds_route_names_the_active_and_previous_build(client):
    body = json.loads(client.http.get("/ops/builds").body)
    assert set(body) == {"active", "previous", "switched_at"}


def _source_event(client, settings, key: str, etag: str) -> dict:
    return client.events.generate_cw_event(
        source="aws.s3",
        detail_type="Object Created",
        detail={
            "bucket": {"name": settings.sources_bucket},
            "object": {"key": key, "size": 10, "etag": etag},
        },
        resources=[f"arn:aws:s3:::{settings.sources_bucket}"],
    )


def _invoke(client, name: str, event: dict) -> dict:
    return client.lambda_.invoke(name, event).payload


def test_the_same_source_object_delivered_twice_starts_one_build(
    launcher, client, settings
):
    event = _source_event(client, settings, "incoming/exoplanets/a.csv", "etag-a")
    first = _invoke(client, "source_object_created", event)
    again = _invoke(client, "source_object_created", event)
    assert first["created"] is True and again["created"] is False
    assert again["job_id"] == first["job_id"]
    assert launcher.launched == [first["job_id"]]
    job = jobs.get_job(first["job_id"])
    assert (job.job_type, job.trigger) == ("build", "source")
    assert jobs.params(job)["source"]["key"] == "incoming/exoplanets/a.csv"
    assert jobs.params(job)["incoming"] is True


def test_new_content_under_the_same_key_starts_a_new_build(launcher, client, settings):
    key = "incoming/exoplanets/b.csv"
    one = _invoke(
        client, "source_object_created", _source_event(client, settings, key, "e1")
    )
    two = _invoke(
        client, "source_object_created", _source_event(client, settings, key, "e2")
    )
    assert one["job_id"] != two["job_id"] and two["created"] is True


@pytest.mark.parametrize(
    "key", ["sources/sha256/abc", "incoming/unknown_role/x.csv", "incoming/x.csv"]
)
def test_objects_that_are_not_incoming_sources_start_nothing(
    launcher, client, settings, key
):
    reply = _invoke(
        client, "source_object_created", _source_event(client, settings, key, "e")
    )
    assert reply == {"job_id": None, "created": False}
    assert launcher.launched == []


def test_the_monthly_refresh_fired_twice_in_a_month_starts_one_build(launcher, client):
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    event["time"] = "2031-02-01T03:00:00Z"
    first = _invoke(client, "monthly_refresh", event)
    event["time"] = "2031-02-01T03:05:00Z"
    again = _invoke(client, "monthly_refresh", event)
    assert first["created"] and not again["created"]
    assert again["job_id"] == first["job_id"]
    job = jobs.get_job(first["job_id"])
    assert (job.trigger, job.idempotency_key) == ("schedule", "refresh:2031-02")


def test_the_sweep_handler_reports_what_it_reaped(launcher, client):
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    reply = _invoke(client, "sweep_jobs", event)
    assert set(reply) == {"reaped", "retried", "model_rebuild"}


class CrashingLauncher(RecordingLauncher):
    """A launcher with a bug: it raises something other than LaunchFailed."""

    def launch(self, job: JobRecord):
        raise ValueError("a launcher bug")


def test_a_launcher_that_crashes_still_leaves_a_failed_start_up(settings):
    with pytest.raises(ValueError, match="a launcher bug"):
        runner.start("build", {}, CrashingLauncher(), idempotency_key="crash-once")
    job = jobs.get_job(JobKey.get("key#crash-once").target_job_id)
    assert (job.state, job.error) == (
        "failed",
        "launch failed: ValueError: a launcher bug",
    )
    jobs.cancel(job.job_id, "test ended")
