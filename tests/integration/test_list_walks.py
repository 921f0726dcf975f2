"""Walking `/jobs`, `/builds` and `/sim/runs` gives each item once, across pages.

Hundreds of records are written straight into the test tables (dated in 2001,
older than anything else the session writes) and removed afterwards; the walks
follow `next_cursor` to the end, with and without filters, and compare what
they saw with the records, newest first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from chalicelib import jobs, queries
from chalicelib.models import BuildRecord, JobRecord, SimRun

pytestmark = pytest.mark.integration
COUNT = 240
START = datetime(2001, 1, 1, tzinfo=UTC)


def _moment(n: int) -> datetime:
    # Every third record shares its second with the one before (ties break by
    # id), and whole seconds alternate with fractional ones in the ISO text.
    return START + timedelta(seconds=n - n % 3 // 2, microseconds=(n % 2) * 250_000)


def _job(n: int) -> JobRecord:
    job_type = jobs.JOB_TYPES[n % len(jobs.JOB_TYPES)]
    state = jobs.STATES[n % 7 % len(jobs.STATES)]
    created = _moment(n)
    job_id = f"{job_type}-walk{n:04d}"
    return JobRecord(
        job_id,
        job_type=job_type,
        state=state,
        params_json="{}",
        created_at=created,
        queued_at=created,
        attempts=1,
        max_attempts=1,
        feed=jobs.DONE if state in jobs.TERMINAL else jobs.LIVE,
        created_key=f"{created.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{job_id}",
        trigger="test",
    )


def _build(n: int) -> BuildRecord:
    created = _moment(n)
    state = "running" if n % 40 == 0 else ("pending", "validated", "failed")[n % 3]
    return BuildRecord(
        f"wb-walk-{n:04d}",
        state=state,
        created_at=created,
        updated_at=created,
        pipeline_version="walk",
        model_version="walk",
        settings_json="{}",
        sources_json="[]",
    )


def _run(n: int) -> SimRun:
    created = _moment(n)
    run_id = f"simulation-walk{n:04d}"
    return SimRun(
        run_id,
        kind="sim",
        created_key=f"{created.isoformat()}#{run_id}",
        build_id="wb-walk",
        ruleset_version="walk",
        seed=n,
        backend="numpy",
        params_json="{}",
        state="succeeded",
        ticks=10,
        snapshot_every=5,
        created_at=created,
        updated_at=created,
    )


def _write(model, items: list) -> None:
    with model.batch_write() as batch:
        for item in items:
            batch.save(item)


def _remove(model, items: list) -> None:
    with model.batch_write() as batch:
        for item in items:
            batch.delete(item)


@pytest.fixture(scope="module")
def records(settings):
    """240 jobs, builds and runs, removed when the module ends."""
    made = {
        JobRecord: [_job(n) for n in range(COUNT)],
        BuildRecord: [_build(n) for n in range(COUNT)],
        SimRun: [_run(n) for n in range(COUNT)],
    }
    for model, items in made.items():
        _write(model, items)
    yield made
    for model, items in made.items():
        _remove(model, items)


@pytest.fixture
def client(records, monkeypatch):
    from chalice.test import Client

    from app import app

    # Small DynamoDB pages, so that every walk crosses many of them; a filtered
    # job list then answers short pages.
    monkeypatch.setattr(queries, "QUERY_PAGE_ITEMS", 11)
    monkeypatch.setattr(jobs, "JOB_PAGE_ITEMS", 5)
    monkeypatch.setattr(jobs, "MAX_JOB_PAGES", 2)
    with Client(app) as test_client:
        yield test_client


def _walk(client, path: str, limit: int, key: str) -> tuple[list[dict], int]:
    """Every item of a list, following next_cursor; and the number of pages."""
    items, pages, cursor = [], 0, None
    while True:
        url = f"{path}&limit={limit}"
        if cursor is not None:
            url += f"&cursor={quote(cursor)}"
        response = client.http.get(url)
        assert response.status_code == 200, response.body
        page = json.loads(response.body)
        assert len(page[key]) <= limit
        items += page[key]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 10 * COUNT, "the walk does not end"


def _newest_first(items: list, key, keep=lambda item: True) -> list[str]:
    ordered = sorted(items, key=lambda item: item.created_key, reverse=True)
    return [key(item) for item in ordered if keep(item)]


# (type, state): everything, one type, one state, and a pair 6 of the 240 share.
JOB_FILTERS = [
    (None, None),
    ("build", None),
    (None, "failed"),
    ("restore", "cancelled"),
]


@pytest.mark.parametrize(("job_type", "state"), JOB_FILTERS)
def test_walking_jobs_gives_each_job_once_newest_first(
    client, records, job_type, state
):
    query = "".join(
        f"&{name}={value}"
        for name, value in (("type", job_type), ("state", state))
        if value is not None
    )
    seen, pages = _walk(client, f"/jobs?{query}", 7, "jobs")
    ids = [job["job_id"] for job in seen]
    assert len(ids) == len(set(ids))
    assert all(job_type in (None, job["job_type"]) for job in seen)
    assert all(state in (None, job["state"]) for job in seen)
    expected = _newest_first(
        records[JobRecord],
        lambda job: job.job_id,
        lambda job: job_type in (None, job.job_type) and state in (None, job.state),
    )
    assert [job_id for job_id in ids if "-walk" in job_id] == expected
    assert len(expected) >= 6
    if query == "":
        assert len(expected) == COUNT and pages >= COUNT // 7


def test_a_sparse_job_filter_reads_a_bounded_number_of_pages_per_request(
    client, records, dynamodb_requests
):
    # 6 of 240 jobs match: reading until 8 matches would read every page.
    first = client.http.get("/jobs?type=restore&state=cancelled&limit=7")
    body = json.loads(first.body)
    queries_sent = [name for name, _ in dynamodb_requests if name == "Query"]
    # At most MAX_JOB_PAGES pages of each feed (live, done).
    assert len(queries_sent) <= 2 * 2
    assert len(body["jobs"]) < 7 and body["next_cursor"] is not None


@pytest.mark.parametrize("state", [None, "failed", "running"])
def test_walking_builds_gives_each_build_once_newest_first(client, records, state):
    query = "" if state is None else f"&state={state}"
    seen, _ = _walk(client, f"/builds?{query}", 9, "items")
    ids = [build["build_id"] for build in seen]
    assert len(ids) == len(set(ids))
    assert all(state in (None, build["state"]) for build in seen)
    newest_first = sorted(
        records[BuildRecord], key=lambda r: (r.created_at, r.build_id), reverse=True
    )
    expected = [r.build_id for r in newest_first if state in (None, r.state)]
    assert [build_id for build_id in ids if build_id.startswith("wb-walk-")] == (
        expected
    )
    assert len(expected) >= 6


def test_walking_sim_runs_gives_each_run_once_newest_first(client, records):
    seen, pages = _walk(client, "/sim/runs?", 8, "items")
    ids = [run["run_id"] for run in seen]
    assert len(ids) == len(set(ids))
    expected = _newest_first(records[SimRun], lambda run: run.run_id)
    assert [run_id for run_id in ids if "-walk" in run_id] == expected
    assert pages >= COUNT // 8
