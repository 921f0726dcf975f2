"""The rules of the job runner that need no server: back-off, triggers, KPIs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from batch_jobs.sources import DEFAULT_SOURCES
from chalicelib import jobs, kpis, launchers, triggers
from chalicelib.errors import ConfigurationError
from chalicelib.models import JobRecord

T0 = datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def test_retry_delay_doubles_per_attempt_up_to_the_cap():
    policy = jobs.RetryPolicy(base_s=30, cap_s=100)
    assert [policy.delay_s(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_retry_policy_is_read_from_the_environment():
    policy = jobs.load_retry_policy(
        {"LB_JOB_RETRY_BASE_S": "5", "LB_JOB_RETRY_CAP_S": "40"}
    )
    assert policy == jobs.RetryPolicy(base_s=5, cap_s=40)


@pytest.mark.parametrize("value", ["0", "-3", "soon"])
def test_a_retry_base_that_is_not_a_positive_number_is_refused(value):
    with pytest.raises(ConfigurationError, match="LB_JOB_RETRY_BASE_S"):
        jobs.load_retry_policy({"LB_JOB_RETRY_BASE_S": value})


def test_heartbeat_interval_defaults_to_ten_seconds():
    assert jobs.heartbeat_interval({}) == 10.0
    assert jobs.heartbeat_interval({"LB_JOB_HEARTBEAT_S": "0.5"}) == 0.5


def test_percentile_is_the_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert kpis.percentile(values, 50) == 10.0
    assert kpis.percentile(values, 95) == 19.0
    assert kpis.percentile([4.0], 95) == 4.0
    assert kpis.percentile([], 50) is None


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("incoming/exoplanets/pscomppars_2026.csv", "exoplanets"),
        ("incoming/hip_main/hip_main.dat.gz", "hip_main"),
        ("incoming/hip_main/", None),
        ("incoming/planets/x.csv", None),
        ("incoming/x.csv", None),
        ("sources/sha256/ab12", None),
    ],
)
def test_only_files_under_incoming_role_folders_name_a_role(key, role):
    assert triggers.SourceObject("b", key, "e1").role == role


def test_the_same_object_gives_the_same_key_and_new_content_a_new_one():
    first = triggers.SourceObject("b", "incoming/exoplanets/p.csv", "e1")
    again = triggers.SourceObject("b", "incoming/exoplanets/p.csv", "e1", size=9)
    changed = triggers.SourceObject("b", "incoming/exoplanets/p.csv", "e2")
    assert first.idempotency_key == again.idempotency_key
    assert changed.idempotency_key != first.idempotency_key


def test_an_object_created_event_names_the_object_it_was_made_for():
    obj = triggers.SourceObject("src", "incoming/d3_names/n.json", "abc", 12)
    event = triggers.object_created_event(obj, "eu-west-1", T0)
    assert event["source"] == "aws.s3"
    assert event["detail-type"] == "Object Created"
    assert event["time"] == "2026-07-01T03:00:00Z"
    assert triggers.source_object(event["detail"]) == obj


def test_quoted_etags_in_events_are_unquoted():
    detail = {"bucket": {"name": "b"}, "object": {"key": "k", "etag": '"e1"'}}
    assert triggers.source_object(detail).etag == "e1"


def test_an_event_without_an_object_key_is_refused_with_what_it_lacks():
    with pytest.raises(triggers.BadEvent, match="detail.object.key"):
        triggers.source_object({"bucket": {"name": "b"}, "object": {}})


def test_refreshes_are_keyed_by_month():
    assert triggers.refresh_key(T0) == "refresh:2026-07"
    assert triggers.refresh_key(T0 + timedelta(days=29)) == "refresh:2026-07"
    assert triggers.refresh_key(T0 + timedelta(days=31)) == "refresh:2026-08"


def test_event_times_must_be_eventbridge_timestamps():
    assert triggers.parse_event_time("2026-07-01T03:00:00Z") == T0
    with pytest.raises(triggers.BadEvent, match="2026-07-01T03:00:00Z"):
        triggers.parse_event_time("1 July")


def test_trigger_roles_are_the_pipeline_roles():
    assert triggers.SOURCE_ROLES == set(DEFAULT_SOURCES)


def _job(job_type: str = "build", **fields) -> JobRecord:
    return JobRecord(
        f"{job_type}-x", job_type=job_type, params_json="{}", state="queued", **fields
    )


def test_a_runner_is_told_only_the_job_id():
    assert launchers.entrypoint_args(_job()) == ["build", "--job-id", "build-x"]


def test_a_job_type_without_a_runner_cannot_be_launched():
    with pytest.raises(launchers.LaunchFailed, match="no runner exists for teleport"):
        launchers.entrypoint_args(_job("teleport"))


def test_every_job_type_has_a_runner():
    assert set(launchers.ENTRYPOINT_COMMANDS) == set(jobs.JOB_TYPES)


def _attempt(
    n: int,
    state: str,
    started: bool,
    seconds: float = 0.0,
    release: str = "r1",
    retryable: bool | None = None,
) -> dict:
    start = T0 + timedelta(minutes=n)
    return {
        "attempt": n,
        "state": state,
        "queued_at": jobs.iso(start),
        "started_at": jobs.iso(start) if started else None,
        "finished_at": jobs.iso(start + timedelta(seconds=seconds)),
        "error": None if state == "succeeded" else "boom",
        "release": release,
        "retryable": retryable,
    }


def _finished(job_id: str, job_type: str, *attempts: dict) -> JobRecord:
    *earlier, last = attempts
    return JobRecord(
        job_id,
        job_type=job_type,
        params_json="{}",
        state=last["state"],
        attempts=last["attempt"],
        history_json=json.dumps(earlier),
        queued_at=datetime.fromisoformat(last["queued_at"]),
        started_at=(
            datetime.fromisoformat(last["started_at"]) if last["started_at"] else None
        ),
        finished_at=datetime.fromisoformat(last["finished_at"]),
        error=last["error"],
        release=last["release"],
        retryable=last["retryable"],
    )


def test_kpis_count_attempts_start_ups_errors_and_durations():
    never_started = _attempt(1, "failed", False)
    records = [
        _finished("b1", "build", _attempt(1, "succeeded", True, 10)),
        _finished("b2", "build", never_started, _attempt(2, "succeeded", True, 30)),
        _finished("b3", "build", _attempt(1, "failed", True, 5)),
        _finished("s1", "site", _attempt(1, "succeeded", True, 2)),
    ]
    report = kpis.summarise(records)
    build = report["by_type"]["build"]
    assert build["jobs"] == 3
    assert build["attempts"] == 4
    assert build["startup_success_rate"] == 0.75  # one launch never started
    assert build["error_rate"] == 0.5  # two failed attempts, two succeeded
    assert build["duration_s"] == {"p50": 10.0, "p95": 30.0, "samples": 2}
    assert report["all"]["jobs"] == 4
    assert report["by_type"]["site"]["error_rate"] == 0.0


def test_kpis_count_bad_input_apart_from_errors_and_start_ups():
    records = [
        # Refused its parameters after it started: bad input, not an error.
        _finished("b1", "build", _attempt(1, "failed", True, 1, retryable=False)),
        # Crashed, then its retry refused bad input: one error, one bad input.
        _finished(
            "b2",
            "build",
            _attempt(1, "failed", True, 3, retryable=True),
            _attempt(2, "failed", True, 1, retryable=False),
        ),
        _finished("b3", "build", _attempt(1, "succeeded", True, 10)),
    ]
    build = kpis.summarise(records)["by_type"]["build"]
    assert build["attempts"] == 4
    assert build["bad_input"] == 2
    assert build["error_rate"] == 0.5  # one crash, one success
    assert build["startup_success_rate"] == 1.0


def test_kpis_per_release_count_each_attempt_for_the_code_that_ran_it():
    records = [
        # Failed on release r1; its retry succeeded on r2.
        _finished(
            "b1",
            "build",
            _attempt(1, "failed", True, 5, release="r1"),
            _attempt(2, "succeeded", True, 20, release="r2"),
        ),
        _finished("b2", "build", _attempt(1, "succeeded", True, 40, release="r2")),
        _finished("s1", "site", _attempt(1, "failed", False, release="r1")),
    ]
    report = kpis.summarise(records)["by_release"]
    assert sorted(report) == ["r1", "r2"]
    old, new = report["r1"], report["r2"]
    assert old["all"]["attempts"] == 2
    assert old["all"]["error_rate"] == 1.0
    assert old["all"]["startup_success_rate"] == 0.5  # the site job never started
    assert old["build"]["jobs"] == 1 and old["site"]["jobs"] == 1
    assert new["build"]["error_rate"] == 0.0
    assert new["build"]["duration_s"] == {"p50": 20.0, "p95": 40.0, "samples": 2}
    assert "site" not in new


def test_kpis_of_no_jobs_have_no_rates():
    report = kpis.summarise([])
    assert report["all"]["startup_success_rate"] is None
    assert report["all"]["duration_s"]["p50"] is None
