"""The static client in headless Chromium: the map draws, search opens a system.

Playwright drives Debian's Chromium (no browser download); WebGL runs on
SwiftShader, Chromium's CPU renderer. `live_site` (tests/conftest.py) serves a
site built from the real catalogues and the API over the same world.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Error,
    Page,
    Playwright,
    expect,
    sync_playwright,
)

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
QUIET_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# WebGL without a GPU: ANGLE on SwiftShader, allowed even where it is blocklisted.
WEBGL_ARGS = [
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]
VIEWPORT = {"width": 1280, "height": 800}
# The world names HIP 70890 "Proxima" (its proper name) or "Proxima Centauri".
PROXIMA = re.compile(r"^Proxima( Centauri)?$")
PROXIMA_HIT = re.compile(r"^Proxima( Centauri)?\b")
LOAD_TIMEOUT_MS = 60_000

# Pixels of the WebGL canvas clearly brighter than the near-black background.
COUNT_LIT_PIXELS = """(canvas) => {
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const context = copy.getContext('2d', { willReadFrequently: true });
  context.drawImage(canvas, 0, 0);
  const data = context.getImageData(0, 0, copy.width, copy.height).data;
  let lit = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] + data[i + 1] + data[i + 2] > 90) lit += 1;
  }
  return lit;
}"""


@dataclass
class SitePage:
    """A page on the live site, with every console error and page error seen."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.problems.append(f"console.error: {message.text}")

    def on_page_error(self, error: Error) -> None:
        self.problems.append(f"uncaught: {error}")


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """One Playwright driver for the module's browsers."""
    if not CHROMIUM.is_file():
        pytest.fail(
            f"{CHROMIUM} is missing: install it with `apt-get install chromium`"
        )
    with sync_playwright() as driver:
        yield driver


@contextmanager
def launch(playwright: Playwright, extra_args: list[str]) -> Iterator[Browser]:
    """Debian's Chromium, headless, with Playwright's default switches plus ours."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=QUIET_ARGS + extra_args
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def chromium(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with WebGL on SwiftShader."""
    with launch(playwright, WEBGL_ARGS) as browser:
        yield browser


@pytest.fixture(scope="module")
def chromium_without_webgl(playwright: Playwright) -> Iterator[Browser]:
    """Chromium with WebGL switched off, as on a machine that lacks it."""
    with launch(playwright, ["--disable-3d-apis"]) as browser:
        yield browser


@contextmanager
def open_site(browser: Browser, url: str) -> Iterator[SitePage]:
    """Open the site in a fresh context, recording console and page errors."""
    context = browser.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    try:
        site_page = SitePage(context.new_page())
        site_page.page.on("console", site_page.on_console)
        site_page.page.on("pageerror", site_page.on_page_error)
        site_page.page.goto(url)
        yield site_page
    finally:
        context.close()


@pytest.fixture
def site(chromium: Browser, live_site) -> Iterator[SitePage]:
    """The site with its star map drawn."""
    with open_site(chromium, live_site.site_url) as site_page:
        site_page.page.wait_for_selector(
            'body[data-map-state="ready"]', timeout=LOAD_TIMEOUT_MS
        )
        yield site_page


def open_proxima(page: Page) -> None:
    """Search for "Proxima" and open Proxima Centauri from the results."""
    page.get_by_test_id("search-input").fill("Proxima")
    page.get_by_test_id("search-input").press("Enter")
    results = page.get_by_test_id("search-results")
    hit = results.get_by_role("button", name=PROXIMA_HIT).first
    expect(hit).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    hit.click()


def test_star_map_draws_many_stars(site: SitePage):
    page = site.page
    canvas = page.get_by_test_id("star-map")

    lit = canvas.evaluate(COUNT_LIT_PIXELS)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "star_map.png"))
    assert lit > 2_000, f"only {lit} lit pixels on the star map"
    assert int(canvas.get_attribute("data-star-count") or 0) > 1_000
    expect(page.get_by_test_id("map-message")).to_be_hidden()
    assert site.problems == []


def test_search_for_proxima_opens_its_system_with_planet_b(site: SitePage):
    page = site.page

    open_proxima(page)

    panel = page.get_by_test_id("system-panel")
    expect(panel.get_by_role("heading", level=2)).to_have_text(PROXIMA)
    expect(panel).to_contain_text("Proxima Cen b", timeout=LOAD_TIMEOUT_MS)
    expect(panel).to_contain_text("Known")
    expect(panel).to_contain_text("pc")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "star_map_system.png"))
    assert site.problems == []


def test_search_works_from_the_keyboard(site: SitePage):
    page = site.page
    search = page.get_by_label("Find a star")

    search.focus()
    page.keyboard.type("Proxima")
    page.keyboard.press("Enter")
    first = page.get_by_test_id("search-results").get_by_role("button").first
    expect(first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.keyboard.press("ArrowDown")
    expect(first).to_be_focused()
    page.keyboard.press("Enter")

    panel = page.get_by_test_id("system-panel")
    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).not_to_have_text("Star system")
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert site.problems == []


def test_clicking_a_star_opens_its_system(site: SitePage):
    page = site.page
    panel = page.get_by_test_id("system-panel")
    open_proxima(page)
    expect(panel).to_contain_text("Proxima Cen b", timeout=LOAD_TIMEOUT_MS)
    page.get_by_role("button", name="Close the system panel").click()
    expect(panel).to_be_hidden()

    # The search centred the view on Proxima (at once: reduced motion).
    page.get_by_test_id("star-map").click(
        position={"x": VIEWPORT["width"] / 2, "y": VIEWPORT["height"] / 2}
    )

    expect(panel).to_be_visible()
    expect(panel.get_by_role("heading", level=2)).to_have_text(
        PROXIMA, timeout=LOAD_TIMEOUT_MS
    )
    assert site.problems == []


def test_without_webgl_the_page_says_so_and_search_still_works(
    chromium_without_webgl: Browser, live_site
):
    with open_site(chromium_without_webgl, live_site.site_url) as site_page:
        page = site_page.page
        message = page.get_by_test_id("map-message")
        expect(message).to_be_visible(timeout=LOAD_TIMEOUT_MS)
        expect(message).to_contain_text("WebGL")
        expect(page.locator("body")).to_have_attribute("data-map-state", "unavailable")

        open_proxima(page)

        panel = page.get_by_test_id("system-panel")
        expect(panel).to_contain_text("Proxima Cen b", timeout=LOAD_TIMEOUT_MS)
        assert site_page.problems == []
