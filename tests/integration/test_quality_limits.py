"""Quality limits decide whether a build is published, through the real pipeline."""

from __future__ import annotations

import json

import pytest

from batch_jobs import quality
from batch_jobs.pipeline import run_build
from chalicelib import builds
from chalicelib.errors import BuildNotPublished, QualityLimitsCrossed
from chalicelib.models import SystemItem
from chalicelib.storage import ObjectStore
from tests.quality_cases import BAD_FILES, CLEAN_SOURCES

pytestmark = pytest.mark.integration


def _build_keys(settings, build_id: str) -> list[str]:
    store = ObjectStore(settings)
    return sorted(store.list_keys(settings.builds_bucket, f"builds/{build_id}/"))


@pytest.fixture(scope="module")
def clean_build(settings):
    """The clean hand-made sources, built with the default limits, not activated."""
    return run_build(settings, overrides=CLEAN_SOURCES, activate=False)


def test_clean_hand_made_sources_are_published_with_the_default_limits(
    settings, clean_build
):
    record = builds.get_build(clean_build.build_id)
    assert record.state == "published"
    recorded = json.loads(record.settings_json)["quality_limits"]
    assert recorded == quality.DEFAULT_LIMITS
    store = ObjectStore(settings)
    prefix = f"builds/{clean_build.build_id}"
    report = json.loads(
        store.get(settings.builds_bucket, f"{prefix}/quality_report.json")
    )
    assert all(report[rule]["passed"] for rule in quality.DEFAULT_LIMITS)
    page = store.get(settings.builds_bucket, f"{prefix}/quality_report.html").decode()
    assert "every rule within its limit" in page
    manifest = json.loads(store.get(settings.builds_bucket, f"{prefix}/manifest.json"))
    assert "quality_report.html" in manifest["artifacts"]


@pytest.mark.parametrize("bad", BAD_FILES, ids=str)
def test_a_hand_made_bad_file_fails_the_build_and_publishes_nothing(
    settings, clean_build, bad
):
    pointer_before = builds.get_pointer()
    with pytest.raises(QualityLimitsCrossed) as raised:
        run_build(settings, overrides=bad.sources(), astrometry=bad.astrometry)
    err = raised.value
    assert err.failures and all(f.startswith(bad.rule + ":") for f in err.failures)
    record = builds.get_build(err.build_id)
    assert record.state == "failed"
    assert bad.rule in record.error and "quality limits crossed" in record.error
    # Never activated, no item written, no manifest: only the report to read.
    pointer_after = builds.get_pointer()
    assert (pointer_after is None) == (pointer_before is None)
    if pointer_before is not None:
        assert pointer_after.revision == pointer_before.revision
    assert SystemItem.count(err.build_id) == 0
    assert _build_keys(settings, err.build_id) == [
        f"builds/{err.build_id}/quality_report.html",
        f"builds/{err.build_id}/quality_report.json",
    ]
    store = ObjectStore(settings)
    report = json.loads(
        store.get(settings.builds_bucket, f"builds/{err.build_id}/quality_report.json")
    )
    assert report[bad.rule]["passed"] is False
    assert report[bad.rule]["samples"][0]["line"] == bad.line
    with pytest.raises(BuildNotPublished):
        builds.activate(err.build_id)


def test_a_failed_build_retried_fails_again_and_writes_nothing_new(settings):
    bad = next(b for b in BAD_FILES if b.rule == "exo.eccentricity_invalid")
    with pytest.raises(QualityLimitsCrossed) as first:
        run_build(settings, overrides=bad.sources(), activate=False)
    keys = _build_keys(settings, first.value.build_id)
    with pytest.raises(QualityLimitsCrossed) as again:
        run_build(settings, overrides=bad.sources(), activate=False)
    assert again.value.build_id == first.value.build_id
    assert builds.get_build(first.value.build_id).state == "failed"
    assert _build_keys(settings, first.value.build_id) == keys


def test_a_loosened_limit_is_a_different_build_that_publishes(settings):
    bad = next(b for b in BAD_FILES if b.rule == "exo.eccentricity_invalid")
    with pytest.raises(QualityLimitsCrossed) as failed:
        run_build(settings, overrides=bad.sources(), activate=False)
    loose = run_build(
        settings,
        overrides=bad.sources(),
        activate=False,
        quality_limits={"exo.eccentricity_invalid": 0.2},
    )
    assert loose.build_id != failed.value.build_id
    assert builds.get_build(loose.build_id).state == "published"
    assert builds.get_build(failed.value.build_id).state == "failed"


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} in stored JSON: missing must be null")


def test_items_and_reports_hold_no_nan_or_infinity(settings, clean_build):
    for item in SystemItem.query(clean_build.build_id):
        json.loads(item.doc, parse_constant=_refuse_constant)
        for value in (item.x_pc, item.y_pc, item.z_pc):
            assert value is None or abs(value) < 1e6
    store = ObjectStore(settings)
    bad = next(b for b in BAD_FILES if b.rule == "exo.orbit_missing")
    with pytest.raises(QualityLimitsCrossed) as raised:
        run_build(settings, overrides=bad.sources(), activate=False)
    for build_id in (clean_build.build_id, raised.value.build_id):
        key = f"builds/{build_id}/quality_report.json"
        report = json.loads(
            store.get(settings.builds_bucket, key), parse_constant=_refuse_constant
        )
        assert report
    assert report["exo.orbit_missing"]["samples"][0]["values"] == {
        "pl_orbper": None,
        "pl_orbsmax": None,
    }


def test_a_failed_build_is_readable_as_a_record_but_has_no_world_to_serve(settings):
    from chalice.test import Client

    from app import app

    bad = next(b for b in BAD_FILES if b.rule == "exo.eccentricity_invalid")
    with pytest.raises(QualityLimitsCrossed) as failed:
        run_build(settings, overrides=bad.sources(), activate=False)
    build_id = failed.value.build_id

    with Client(app) as client:
        record = client.http.get(f"/builds/{build_id}")
        quality_page = client.http.get(f"/builds/{build_id}/quality")
        refused = {
            path: client.http.get(f"/builds/{build_id}{path}")
            for path in (
                "/systems?limit=2",
                "/systems?near=0,0,0&radius=2",
                "/systems/sol",
                "/systems/sol/planets",
                "/systems/sol/orbits?epoch=2000-01-01",
                "/search?q=sun",
                "/encounters",
            )
        }

    assert record.status_code == 200
    assert json.loads(record.body)["state"] == "failed"
    assert quality_page.status_code == 200
    for path, response in refused.items():
        assert response.status_code == 409, path
        error = json.loads(response.body)["error"]
        assert error["code"] == "build_not_published", path
        assert f"build {build_id} is failed" in error["message"], path
