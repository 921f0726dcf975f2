"""Backups, restores and the restore drill against the real dynalite and SeaweedFS.

Each test writes its own backup id and restores under its own prefix, so they
can run in any order next to the other tests' items.
"""

from __future__ import annotations

import gzip
import json
import time
import uuid

import pytest

from batch_jobs import backup
from batch_jobs.__main__ import main as batch_main
from chalicelib import jobs, runner
from chalicelib.launchers import LocalLauncher
from chalicelib.storage import ObjectStore

pytestmark = pytest.mark.integration


def _id(what: str) -> str:
    return f"{what}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def settings(settings):
    """Tables of this module's own: a backup reads every table of its prefix, and
    the session's hold the whole real world, far more than these tests need."""
    from chalicelib import models, tables
    from chalicelib.settings import get_settings

    prefix = f"{settings.table_prefix}-bk{uuid.uuid4().hex[:6]}"
    with pytest.MonkeyPatch.context() as patch:
        # The entrypoint and the launcher's runners read the prefix themselves.
        patch.setenv("LB_TABLE_PREFIX", prefix)
        get_settings.cache_clear()
        own = get_settings()
        models.bind(own)
        tables.create_tables()
        try:
            yield own
        finally:
            tables.delete_tables()
            get_settings.cache_clear()
    models.bind(settings)


@pytest.fixture
def known_jobs(settings):
    """Three job records with distinct parameters, cancelled at the end."""
    made = [
        jobs.submit("build", {"activate": False, "n": n, "note": "é ✓"}).job
        for n in range(3)
    ]
    yield [job.job_id for job in made]
    for job in made:
        jobs.cancel(job.job_id, "test ended")


@pytest.fixture
def scratch(settings):
    """A fresh table prefix; its tables are deleted at the end."""
    prefix = f"{settings.table_prefix}-{_id('restore')}"
    yield prefix
    client = backup.dynamodb_client(settings)
    backup.delete_tables(client, [f"{prefix}-{s}" for s in backup.short_names()])


def _scan(settings, table: str) -> list[dict]:
    client = backup.dynamodb_client(settings)
    items = []
    for page in client.get_paginator("scan").paginate(TableName=table):
        items.extend(page["Items"])
    return items


def test_a_backup_stores_each_table_with_its_count_and_sha256(settings, known_jobs):
    store = ObjectStore(settings)
    backup_id = _id("backup")
    outcome = backup.backup(settings, backup_id)
    tables = outcome.manifest["tables"]
    assert set(tables) == set(backup.short_names())
    jobs_entry = tables["jobs"]
    body = store.get(settings.builds_bucket, jobs_entry["key"])
    lines = gzip.decompress(body).decode().splitlines()
    assert (
        len(lines) == jobs_entry["items"] == len(_scan(settings, jobs_entry["table"]))
    )
    assert backup._sha256(body) == jobs_entry["sha256"]
    ids = {json.loads(line)["job_id"]["S"] for line in lines}
    assert set(known_jobs) <= ids


def test_a_backup_id_is_written_once(settings):
    backup_id = _id("backup")
    backup.backup(settings, backup_id)
    with pytest.raises(backup.Conflict, match="written once"):
        backup.backup(settings, backup_id)


def test_a_restore_recreates_every_item_in_fresh_tables(settings, known_jobs, scratch):
    backup_id = _id("backup")
    manifest = backup.backup(settings, backup_id).manifest
    result = backup.restore(settings, backup_id, scratch)
    assert result["tables"]["jobs"]["items"] == manifest["tables"]["jobs"]["items"]
    restored = {i["job_id"]["S"]: i for i in _scan(settings, f"{scratch}-jobs")}
    for job_id in known_jobs:
        original = jobs.get_job(job_id)
        copy = restored[job_id]
        assert json.loads(copy["params_json"]["S"]) == jobs.params(original)
        assert copy["state"]["S"] == original.state


def test_a_restore_refuses_tables_that_exist_and_writes_nothing(settings, scratch):
    backup_id = _id("backup")
    backup.backup(settings, backup_id)
    client = backup.dynamodb_client(settings)
    schema = backup._schema("names")
    backup._create_table(client, f"{scratch}-names", schema)
    with pytest.raises(backup.RestoreRefused, match=f"{scratch}-names"):
        backup.restore(settings, backup_id, scratch)
    assert not backup._table_exists(client, f"{scratch}-builds")
    assert _scan(settings, f"{scratch}-names") == []


def test_a_restore_never_targets_the_live_tables(settings):
    with pytest.raises(backup.RestoreRefused, match="live stage"):
        backup.restore(settings, "any", settings.table_prefix)


def test_a_damaged_backup_is_refused_before_any_table_is_made(settings, scratch):
    store = ObjectStore(settings)
    backup_id = _id("backup")
    manifest = backup.backup(settings, backup_id).manifest
    # A copy of the backup whose jobs file no longer matches its digest.
    damaged = _id("damaged")
    tables = {}
    for short, entry in manifest["tables"].items():
        body = store.get(settings.builds_bucket, entry["key"])
        if short == "jobs":
            body = backup.lines_body(["{}"] * entry["items"])
        key = f"backups/{damaged}/{short}.jsonl.gz"
        store.put_once(settings.builds_bucket, key, body)
        tables[short] = {**entry, "key": key}
    bad = {**manifest, "backup_id": damaged, "tables": tables}
    store.put_once(
        settings.builds_bucket,
        f"backups/{damaged}/manifest.json",
        json.dumps(bad).encode(),
    )
    with pytest.raises(backup.BackupCorrupt, match="jobs.jsonl.gz has sha256"):
        backup.restore(settings, damaged, scratch)
    client = backup.dynamodb_client(settings)
    assert not any(
        backup._table_exists(client, f"{scratch}-{s}") for s in backup.short_names()
    )


def test_an_unknown_backup_is_not_found(settings, scratch):
    with pytest.raises(backup.NotFound, match="no backup"):
        backup.restore(settings, _id("missing"), scratch)


def test_the_drill_compares_every_item_and_removes_its_scratch_tables(
    settings, known_jobs
):
    backup_id = _id("drill")
    assert batch_main(["drill", "--backup-id", backup_id]) == 0
    store = ObjectStore(settings)
    report = json.loads(
        store.get(settings.builds_bucket, f"backups/{backup_id}/drill.json")
    )
    assert report["ok"] is True
    assert report["tables"]["jobs"]["compared"] >= len(known_jobs)
    assert report["items"] == sum(t["compared"] for t in report["tables"].values())
    client = backup.dynamodb_client(settings)
    scratch = report["scratch_prefix"]
    assert not any(
        backup._table_exists(client, f"{scratch}-{s}") for s in backup.short_names()
    )
    drills = jobs.list_jobs(20, job_type="backup")[0]
    mine = next(j for j in drills if jobs.params(j).get("backup_id") == backup_id)
    assert mine.state == "succeeded"
    assert jobs.job_view(mine)["result"]["ok"] is True


def test_a_drill_job_runs_through_the_local_launcher(settings, tmp_path):
    launcher = LocalLauncher(tmp_path)
    backup_id = _id("drill")
    params = {"backup_id": backup_id, "drill": True}
    submission = runner.start("backup", params, launcher, idempotency_key=backup_id)
    job_id = submission.job.job_id
    again = runner.start("backup", params, launcher, idempotency_key=backup_id)
    assert (again.created, again.job.job_id) == (False, job_id)
    deadline = time.monotonic() + 120
    while launcher.running() and time.monotonic() < deadline:
        time.sleep(0.2)
    job = jobs.get_job(job_id)
    log = next(tmp_path.iterdir()).read_text()
    assert job.state == "succeeded", log
    assert job.result_uri.endswith(f"backups/{backup_id}/drill.json")


def test_item_comparison_names_what_is_missing_extra_or_different():
    key = ["id"]
    expected = ['{"id":{"S":"a"},"v":{"N":"1"}}', '{"id":{"S":"b"},"v":{"N":"1"}}']
    actual = ['{"id":{"S":"b"},"v":{"N":"2"}}', '{"id":{"S":"c"},"v":{"N":"1"}}']
    found = backup.compare_items(expected, actual, key)
    assert (found["missing"], found["extra"], found["differing"]) == (1, 1, 1)
    assert found["compared"] == 2


def test_binary_and_set_values_survive_a_line_round_trip():
    item = {
        "id": {"S": "x"},
        "blob": {"B": b"\x00\xff"},
        "tags": {"SS": ["b", "a"]},
        "deep": {"M": {"l": {"L": [{"B": b"\x01"}, {"N": "3"}]}}},
    }
    line = backup.item_line(item)
    back = {k: backup._decode(v) for k, v in json.loads(line).items()}
    assert back["blob"] == {"B": b"\x00\xff"}
    assert back["deep"]["M"]["l"]["L"][0] == {"B": b"\x01"}
    assert sorted(back["tags"]["SS"]) == ["a", "b"]
    assert backup.item_line(back) == line
