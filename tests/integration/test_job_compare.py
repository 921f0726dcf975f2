"""Comparison jobs: any two published builds into a stored report, as a job."""

from __future__ import annotations

import json

import pytest

from batch_jobs.__main__ import main as batch_main
from chalicelib import jobs
from chalicelib.storage import ObjectStore
from tests.conftest import REPO, SAMPLE_QUALITY_LIMITS, SAMPLE_SOURCES

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def older_build(settings):
    """The sample world with the 2020 exoplanet snapshot: a second, older build."""
    from batch_jobs.pipeline import run_build

    data = REPO / "tests" / "data"
    overrides = {role: data / name for role, name in SAMPLE_SOURCES.items()}
    overrides["exoplanets"] = data / "exoplanets_sample_2020.csv"
    return run_build(
        settings,
        overrides=overrides,
        activate=False,
        quality_limits=SAMPLE_QUALITY_LIMITS,
    )


def _latest_comparison() -> dict:
    page, _ = jobs.list_jobs(1, job_type="comparison")
    return jobs.job_view(page[0])


def test_a_comparison_job_stores_the_report_of_two_builds(
    settings, sample_build, older_build
):
    old, new = older_build.build_id, sample_build.build_id
    assert batch_main(["compare", "--old", old, "--new", new]) == 0
    view = _latest_comparison()
    assert view["state"] == "succeeded"
    assert (view["result"]["old_build_id"], view["result"]["new_build_id"]) == (
        old,
        new,
    )
    store = ObjectStore(settings)
    key = f"comparisons/{old}__{new}/report.json"
    report = json.loads(store.get(settings.builds_bucket, key))
    assert (report["old_id"], report["new_id"]) == (old, new)
    assert report["counts"] == view["result"]["counts"]
    assert view["result_uri"].endswith(f"comparisons/{old}__{new}/report.html")
    # The report is written once: the same pair again finds the same bytes.
    assert batch_main(["compare", "--old", old, "--new", new]) == 0


def test_a_build_is_not_compared_with_itself(sample_build):
    build_id = sample_build.build_id
    assert batch_main(["compare", "--old", build_id, "--new", build_id]) == 2
    view = _latest_comparison()
    assert view["state"] == "failed" and "name two builds" in view["error"]


def test_an_unknown_build_fails_the_comparison_with_the_not_found_code(sample_build):
    code = batch_main(["compare", "--old", "wb-nosuch", "--new", sample_build.build_id])
    assert code == 4  # the README's exit code for a build that does not exist
    assert "wb-nosuch" in _latest_comparison()["error"]
