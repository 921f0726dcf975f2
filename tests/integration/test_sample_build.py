"""A small hand-made world goes through the same pipeline and servers."""

from __future__ import annotations

import json

import pytest

from chalicelib import builds

pytestmark = pytest.mark.integration


def test_sample_build_is_published_but_not_activated(sample_build):
    record = builds.get_build(sample_build.build_id)
    assert record.state == "published"
    pointer = builds.get_pointer()
    assert pointer is None or pointer.active_build_id != sample_build.build_id
    assert sample_build.counts["systems"] > 3


def test_sample_build_is_readable_by_id_through_the_api(sample_build):
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        response = client.http.get(f"/builds/{sample_build.build_id}/systems/sol")
    assert response.status_code == 200
    assert len(json.loads(response.body)["planets"]) == 8


def test_a_new_build_is_compared_with_the_active_one(
    settings, published_build, tmp_path
):
    from batch_jobs.pipeline import run_build
    from chalicelib.storage import ObjectStore
    from tests.conftest import REPO, SAMPLE_QUALITY_LIMITS, SAMPLE_SOURCES

    data = REPO / "tests" / "data"
    overrides = {role: data / name for role, name in SAMPLE_SOURCES.items()}
    # A table no other test builds from (the 2020 one less TRAPPIST-1 c), so this
    # run makes a new build and compares it, whatever ran before.
    rows = (data / "exoplanets_sample_2020.csv").read_text().splitlines()
    table = tmp_path / "exoplanets_once.csv"
    table.write_text("\n".join(r for r in rows if "TRAPPIST-1 c" not in r) + "\n")
    overrides["exoplanets"] = table
    sample = run_build(
        settings,
        overrides=overrides,
        activate=False,
        quality_limits=SAMPLE_QUALITY_LIMITS,
    )
    assert sample.counts["compared_with"] == published_build.build_id
    prefix = f"comparisons/{published_build.build_id}__{sample.build_id}"
    store = ObjectStore(settings)
    report = json.loads(store.get(settings.builds_bucket, f"{prefix}/report.json"))
    assert report["counts"]["new"]["systems"] < report["counts"]["old"]["systems"]
    html = store.get(settings.builds_bucket, f"{prefix}/report.html").decode()
    assert "<svg" in html
