"""Shared fixtures: the local services on test ports, and one real world build.

The tests run against a dynalite and a SeaweedFS of their own (ports and data
folder apart from `make demo`'s), started here and stopped when the session ends.
The full catalogue is built once per session and shared by the tests that need it.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_RUN = os.getpid()
TEST_ENV = {
    "LB_STAGE": "local",
    "AWS_XRAY_SDK_ENABLED": "false",
    "LB_SERVICES_DIR": str(REPO / ".local" / "test-services"),
    "LB_DYNAMODB_PORT": os.environ.get("LB_TEST_DYNAMODB_PORT", "8711"),
    "LB_S3_PORT": os.environ.get("LB_TEST_S3_PORT", "8712"),
    "LB_API_PORT": os.environ.get("LB_TEST_API_PORT", "8721"),
    "LB_SITE_PORT": os.environ.get("LB_TEST_SITE_PORT", "8722"),
    "LB_TABLE_PREFIX": f"test{_RUN}",
    "LB_SOURCES_BUCKET": f"test{_RUN}-sources",
    "LB_BUILDS_BUCKET": f"test{_RUN}-builds",
    # Generous per-client limits; the rate-limit tests set tight ones themselves.
    "LB_RATE_LIMIT_PER_MINUTE": "60000",
    "LB_RATE_LIMIT_BURST": "5000",
}
for _key in ("LB_DYNAMODB_ENDPOINT", "LB_S3_ENDPOINT", "LB_API_URL"):
    os.environ.pop(_key, None)
os.environ.update(TEST_ENV)
os.environ.setdefault("SOURCES_DIR", str(REPO.parent / "shared" / "data"))
SOURCES_DIR = Path(os.environ["SOURCES_DIR"])
# The operations story (issue 7), shared by the integration and browser tests.
pytest_plugins = ["tests.jobs_story"]


@pytest.fixture
def root_logging():
    """Put the root logger back as it was after a test (jobctl configures it)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def local_services():
    """dynalite and SeaweedFS on the test ports, on a fresh data folder."""
    from devenv import services

    started = []
    for service in services.all_services():
        if services.status(service).endswith("answering"):
            continue  # a previous run's servers: reuse, and leave them be
        shutil.rmtree(service.data_dir, ignore_errors=True)
        service.home.mkdir(parents=True, exist_ok=True)
        services.start(service)
        started.append(service)
    yield
    for service in started:
        services.stop(service)


@pytest.fixture(scope="session")
def settings(local_services):
    """The test stage's settings, with tables and buckets created."""
    from chalicelib import models, tables
    from chalicelib.settings import get_settings
    from chalicelib.storage import ObjectStore

    current = get_settings()
    models.bind(current)
    tables.create_tables()
    store = ObjectStore(current)
    for bucket in (current.sources_bucket, current.builds_bucket):
        store.ensure_bucket(bucket)
    yield current
    tables.delete_tables()


@pytest.fixture(scope="session")
def published_build(settings):
    """The world built from the real catalogues, published and active."""
    from batch_jobs.pipeline import run_build

    return run_build(settings)


# The hand-made sample holds one row of each edge case (a star without
# astrometry, a negative parallax, an eccentricity of 1.2) in files of a few rows:
# the default quality limits would fail it, so its builds allow those rules more.
SAMPLE_QUALITY_LIMITS = {
    "hip.position_missing": 0.2,
    "hip.parallax_nonpositive": 0.2,
    "exo.eccentricity_invalid": 0.2,
}
SAMPLE_SOURCES = {
    "hip_main": "hip_main_sample.dat",
    "sscore_nearest": "sscore_nearest_sample.csv",
    "sscore_brightest": "sscore_brightest_sample.csv",
    "d3_names": "d3_names_sample.json",
    "exoplanets": "exoplanets_sample_2024.csv",
}


@pytest.fixture(scope="session")
def sample_build(settings):
    """A small world from the hand-made files in tests/data, published, not active.

    For tests that need a real build in the real servers but not the whole sky;
    address it by id (`/builds/{id}/...`), never through `active`.
    """
    from batch_jobs.pipeline import run_build

    data = REPO / "tests" / "data"
    overrides = {role: data / name for role, name in SAMPLE_SOURCES.items()}
    return run_build(
        settings,
        overrides=overrides,
        activate=False,
        quality_limits=SAMPLE_QUALITY_LIMITS,
    )


@dataclass(frozen=True)
class ComparedBuilds:
    """Two published builds and the comparison report stored for the pair."""

    old_id: str
    new_id: str


@pytest.fixture(scope="session")
def compared_builds(settings, sample_build, tmp_path_factory):
    """The sample build and a second one without its last planet, compared.

    The pipeline compares a new build with the active one; the sample build is
    never active, so the pair's report is stored here through the pipeline's
    own `store_comparison`. (The second build's table is one of its own: other
    tests build the 2020 one and expect to be first.)
    """

    from batch_jobs import compare
    from batch_jobs.pipeline import run_build, store_comparison
    from chalicelib.storage import ObjectStore

    data = REPO / "tests" / "data"
    overrides = {role: data / name for role, name in SAMPLE_SOURCES.items()}
    fewer = tmp_path_factory.mktemp("compared") / "exoplanets_one_fewer.csv"
    lines = (data / SAMPLE_SOURCES["exoplanets"]).read_text().splitlines()
    fewer.write_text("\n".join(lines[:-1]) + "\n")
    overrides["exoplanets"] = fewer
    newer = run_build(
        settings,
        overrides=overrides,
        activate=False,
        quality_limits=SAMPLE_QUALITY_LIMITS,
    )
    store, bucket = ObjectStore(settings), settings.builds_bucket
    old_id, new_id = sample_build.build_id, newer.build_id
    worlds = [
        compare.parse_systems(store.get(bucket, f"builds/{build}/systems.jsonl.gz"))
        for build in (old_id, new_id)
    ]
    store_comparison(store, bucket, old_id, new_id, *worlds)
    return ComparedBuilds(old_id, new_id)


@pytest.fixture(scope="session")
def api(published_build):
    """A Chalice test client over the app, with a published active build."""
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        yield client


@dataclass(frozen=True)
class LiveSite:
    """Where the served site and API answer."""

    site_url: str
    api_url: str
    build_id: str


@pytest.fixture(scope="session")
def live_site(published_build, settings, tmp_path_factory):
    """`chalice local` and a static server for a site rendered from the build."""
    from batch_jobs.__main__ import main as batch_main
    from devenv import serving

    site_dir = tmp_path_factory.mktemp("site")
    assert batch_main(["site", "--out", str(site_dir)]) == 0
    api_port = int(os.environ["LB_API_PORT"])
    site_port = int(os.environ["LB_SITE_PORT"])
    api = serving.start_api(api_port)
    try:
        site = serving.start_site(site_port, site_dir)
    except Exception:
        serving.stop(api)
        raise
    yield LiveSite(
        f"http://127.0.0.1:{site_port}/",
        f"http://127.0.0.1:{api_port}",
        published_build.build_id,
    )
    serving.stop(site)
    serving.stop(api)
