"""Build identity, idempotence, and bad sources that must change nothing."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from batch_jobs import sources
from batch_jobs.pipeline import run_build
from chalicelib import builds
from chalicelib.errors import SourceFormatError, SourceMissingError
from chalicelib.models import JobRecord, NameItem, SystemItem
from chalicelib.storage import ObjectStore
from tests.conftest import SOURCES_DIR

pytestmark = [pytest.mark.integration, pytest.mark.realdata]


def _snapshot(settings, build_id: str) -> tuple[list[str], int, list[str]]:
    store = ObjectStore(settings)
    keys = sorted(
        store.list_keys(settings.builds_bucket)
        + store.list_keys(settings.sources_bucket)
    )
    systems = SystemItem.count(build_id)
    names = sorted(n.name_sort for n in NameItem.query(f"{build_id}#pr"))
    return keys, systems, names


def test_second_build_of_same_inputs_adds_no_artifact_and_no_item(
    settings, published_build
):
    before = _snapshot(settings, published_build.build_id)
    jobs_before = len(list(JobRecord.scan()))
    again = run_build(settings)
    assert again.build_id == published_build.build_id
    assert again.created is False
    assert _snapshot(settings, published_build.build_id) == before
    assert before[1] == published_build.counts["systems"]
    # One more job record says the repeat ran; that is all it wrote.
    assert len(list(JobRecord.scan())) == jobs_before + 1


def _copy_sources(tmp_path: Path) -> dict[str, Path]:
    copies = {}
    for role, relative in sources.DEFAULT_SOURCES.items():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCES_DIR / relative, target)
        copies[role] = target
    return copies


def _truncate_gzip(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garble_csv(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.startswith("pl_name"))
    lines[header + 10] = "this,is,not,a,planet row\n"
    path.write_text("".join(lines), encoding="utf-8")


def _garble_hip(path: Path) -> None:
    with gzip.open(path, "rt", encoding="latin-1") as handle:
        lines = handle.readlines()
    fields = lines[99].split("|")
    fields[11] = "  12.x4"
    lines[99] = "|".join(fields)
    with gzip.open(path, "wt", encoding="latin-1") as handle:
        handle.writelines(lines)


@pytest.mark.parametrize(
    ("role", "damage", "error", "says"),
    [
        ("hip_main", lambda p: p.unlink(), SourceMissingError, "not found"),
        ("hip_main", _truncate_gzip, SourceFormatError, "hip_main"),
        ("hip_main", _garble_hip, SourceFormatError, "line 100"),
        ("exoplanets", _garble_csv, SourceFormatError, "nasa_pscomppars"),
        ("exoplanets", lambda p: p.write_bytes(b""), SourceFormatError, "nasa"),
    ],
    ids=["missing", "truncated-gzip", "garbled-hip", "garbled-csv", "empty-csv"],
)
def test_bad_source_stops_the_build_and_leaves_the_active_one(
    settings, published_build, tmp_path, role, damage, error, says
):
    copies = _copy_sources(tmp_path)
    damage(copies[role])
    store = ObjectStore(settings)
    keys_before = store.list_keys(settings.builds_bucket)
    pointer_before = builds.get_pointer()
    with pytest.raises(error) as raised:
        run_build(settings, overrides={role: copies[role]})
    assert says in str(raised.value)
    pointer_after = builds.get_pointer()
    assert pointer_after.active_build_id == published_build.build_id
    assert pointer_after.revision == pointer_before.revision
    assert store.list_keys(settings.builds_bucket) == keys_before
