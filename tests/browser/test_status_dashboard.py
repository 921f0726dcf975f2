"""The status dashboard in headless Chromium, after the operations story.

`ops_story` (tests/jobs_story.py) has put a source file into the bucket (one
build, published) and killed a build that a retry then finished; the page,
served beside `chalice local`, must show both, and follow a job live.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from batch_jobs.__main__ import main as batch_main
from chalicelib import jobs
from tests.browser.test_star_map import ARTIFACTS, CHROMIUM, QUIET_ARGS

pytestmark = pytest.mark.browser

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def status_url(ops_story, tmp_path_factory) -> Iterator[str]:
    """The site rendered for the story's build, served with the API beside it."""
    from devenv import serving
    from devenv.services import answers

    site_dir = tmp_path_factory.mktemp("status-site")
    build = ["--build", ops_story.source_build_id]
    assert batch_main(["site", "--out", str(site_dir), *build]) == 0
    api_port = int(os.environ["LB_API_PORT"])
    # The star-map tests may already serve this same app and tables on the API
    # port (the rendered page names that port); then reuse it, else start one.
    api = None if answers(api_port) else serving.start_api(api_port)
    # The status site is its own rendering, so it gets a port of its own.
    site_port = int(os.environ["LB_SITE_PORT"]) + 10
    try:
        site = serving.start_site(site_port, site_dir)
    except Exception:
        if api is not None:
            serving.stop(api)
        raise
    yield f"http://127.0.0.1:{site_port}/status.html"
    serving.stop(site)
    if api is not None:
        serving.stop(api)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install chromium`"
        )
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=QUIET_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser, status_url: str) -> Iterator[Page]:
    """The dashboard, loaded, failing the test on any script error."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(str(error)))
    tab.on(
        "console",
        lambda message: message.type == "error" and problems.append(message.text),
    )
    tab.goto(status_url)
    tab.wait_for_selector('body[data-status="ready"]', timeout=WAIT_MS)
    yield tab
    context.close()
    assert problems == []


def _row(page: Page, job_id: str):
    return page.locator(f'tr[data-job-id="{job_id}"]')


def test_dashboard_shows_the_source_build_job_and_its_published_build(
    page: Page, ops_story
):
    row = _row(page, ops_story.source_job_ids[0])
    expect(row).to_have_attribute("data-state", "succeeded")
    expect(row).to_contain_text("source")
    expect(row).to_contain_text(f"build {ops_story.source_build_id} published")
    expect(page.get_by_test_id("builds")).to_contain_text(ops_story.source_build_id)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "status_dashboard.png"), full_page=True)


def test_dashboard_shows_the_killed_attempt_failed_and_the_retry_succeeded(
    page: Page, ops_story
):
    row = _row(page, ops_story.killed_job_id)
    expect(row).to_have_attribute("data-state", "succeeded")
    expect(row).to_contain_text("2 of 3")
    first = row.locator('li[data-attempt="1"]')
    expect(first).to_have_attribute("data-state", "failed")
    expect(first).to_contain_text("heartbeat stopped")
    expect(row.locator('li[data-attempt="2"]')).to_have_attribute(
        "data-state", "succeeded"
    )


def test_dashboard_shows_the_kpis_per_job_type(page: Page, ops_story):
    build = page.get_by_test_id("kpis").locator('tr[data-job-type="build"]')
    expect(build).to_be_visible()
    expect(
        page.get_by_test_id("kpis").locator('tr[data-job-type="all"]')
    ).to_contain_text("%")


def test_dashboard_follows_a_job_live_without_a_reload(page: Page, ops_story):
    job = jobs.submit("site", {"build": ops_story.source_build_id}).job
    try:
        row = _row(page, job.job_id)
        expect(row).to_have_attribute("data-state", "queued", timeout=WAIT_MS)
        jobs.cancel(job.job_id, "cancelled by the browser test")
        expect(row).to_have_attribute("data-state", "cancelled", timeout=WAIT_MS)
        expect(row).to_contain_text("cancelled by the browser test")
    finally:
        if jobs.get_job(job.job_id).state == "queued":
            jobs.cancel(job.job_id, "test ended")


def test_dashboard_shows_a_running_jobs_progress_advance_without_a_reload(
    page: Page, ops_story
):
    job = jobs.submit("site", {"build": ops_story.source_build_id}).job
    try:
        running = jobs.claim(job.job_id, heartbeat_s=30)
        jobs.heartbeat(running, progress=0.25, step="rendering the site")
        row = _row(page, job.job_id)
        bar = row.locator("progress")
        expect(bar).to_have_js_property("value", 0.25, timeout=WAIT_MS)
        expect(row).to_contain_text("rendering the site")
        # The same page, polling: no reload between the two readings.
        jobs.heartbeat(running, progress=0.75, step="publishing the release")
        expect(bar).to_have_js_property("value", 0.75, timeout=WAIT_MS)
        expect(row).to_contain_text("75 %")
        expect(row).to_contain_text("publishing the release")
    finally:
        jobs.cancel(job.job_id, "test ended")


def test_dashboard_shows_the_kpis_per_release(page: Page, ops_story):
    from chalicelib.release import current_release

    rows = page.get_by_test_id("release-kpis").locator(
        f'tr[data-release="{current_release()}"]'
    )
    expect(rows.first).to_be_visible()
    expect(rows.filter(has_text="build").first).to_contain_text("%")


def test_dashboard_charts_the_health_of_the_newest_simulation_run(
    page: Page, ops_story, settings
):
    from batch_jobs import simulation

    params = simulation.RunParams(ticks=30, snapshot_every=15, seed=2)
    run_id = simulation.submit(settings, ops_story.source_build_id, params, "numba")
    simulation.execute(settings, run_id)
    health = page.get_by_test_id("sim-health")
    expect(health).to_have_attribute("data-run-id", run_id, timeout=WAIT_MS)
    expect(health).to_have_attribute("data-failures", "0")
    # A run records ticks 2 to 30 (see simulations.get_tick).
    expect(page.get_by_test_id("sim-summary")).to_contain_text("29 ticks checked")
    charts = health.locator("svg.chart")
    expect(charts).to_have_count(2)
    # Each line has a point per tick drawn: 29 segments for ticks 2..30.
    wall = charts.nth(0).locator("path.series")
    assert wall.get_attribute("d").count("L") >= 20
    expect(charts.nth(1).locator("path.series")).to_have_count(2)
    page.screenshot(path=str(ARTIFACTS / "status_sim_health.png"), full_page=True)
