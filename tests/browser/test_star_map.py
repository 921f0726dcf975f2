"""The static client in headless Chromium: the map draws, search opens a system.

Playwright drives Debian's Chromium (no browser download); WebGL runs on
SwiftShader, Chromium's CPU renderer. `live_site` (tests/conftest.py) serves a
site built from the real catalogues and the API over the same world.
"""

from __future__ import annotations

import json
import re
import urllib.request
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


# ------------------------------------------------------- layers, time, controls

# Copies the canvas's pixels into window.__snapshots[name].
SNAPSHOT = """([canvas, name]) => {
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const context = copy.getContext('2d', { willReadFrequently: true });
  context.drawImage(canvas, 0, 0);
  window.__snapshots = window.__snapshots || {};
  window.__snapshots[name] = context.getImageData(0, 0, copy.width, copy.height).data;
}"""
# Pixels whose colour changed clearly between two snapshots.
CHANGED_PIXELS = """([a, b]) => {
  const one = window.__snapshots[a];
  const two = window.__snapshots[b];
  let changed = 0;
  for (let i = 0; i < one.length; i += 4) {
    const delta = Math.abs(one[i] - two[i]) + Math.abs(one[i + 1] - two[i + 1])
      + Math.abs(one[i + 2] - two[i + 2]);
    if (delta > 60) changed += 1;
  }
  return changed;
}"""
CAMERA = """() => {
  const { map } = window.localBubble;
  return {
    position: map.camera.position.toArray(),
    target: map.controls.target.toArray(),
  };
}"""


def settle(page: Page) -> None:
    """Let the map draw what changed (a few animation frames)."""
    page.evaluate(
        "() => new Promise((done) => requestAnimationFrame(() => "
        "requestAnimationFrame(() => requestAnimationFrame(done))))"
    )


def take(page: Page, name: str) -> int:
    """Snapshot the canvas under `name`, keep a screenshot; return its lit pixels."""
    settle(page)
    canvas = page.get_by_test_id("star-map")
    page.evaluate(SNAPSHOT, [canvas.element_handle(), name])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"star_map_{name}.png"))
    return canvas.evaluate(COUNT_LIT_PIXELS)


def changed(page: Page, a: str, b: str) -> int:
    return page.evaluate(CHANGED_PIXELS, [a, b])


def distance(a: list[float], b: list[float]) -> float:
    return sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5


def test_time_slider_moves_the_stars(site: SitePage):
    page = site.page
    now_lit = take(page, "time_now")
    slider = page.get_by_test_id("time-slider")

    slider.fill("100000")
    expect(page.locator("body")).to_have_attribute(
        "data-motion-state", "ready", timeout=LOAD_TIMEOUT_MS
    )
    future_lit = take(page, "time_plus_100000")
    slider.fill("-100000")
    past_lit = take(page, "time_minus_100000")

    expect(page.get_by_test_id("time-readout")).to_have_text("100,000 years ago")
    assert changed(page, "time_now", "time_plus_100000") > 2_000
    assert changed(page, "time_plus_100000", "time_minus_100000") > 2_000
    assert min(now_lit, future_lit, past_lit) > 2_000
    page.get_by_role("button", name="Now").click()
    expect(page.get_by_test_id("time-readout")).to_have_text("Now")
    assert site.problems == []


def test_highlight_toggles_change_what_is_drawn(site: SitePage):
    page = site.page
    expect(page.locator("body")).to_have_attribute(
        "data-layers-state", "ready", timeout=LOAD_TIMEOUT_MS
    )
    take(page, "all_stars")
    seen = {}
    for layer in ("known", "inferred", "habitable"):
        toggle = page.get_by_test_id(f"toggle-{layer}")
        expect(toggle).to_be_enabled()
        toggle.check()
        seen[layer] = take(page, f"highlight_{layer}")
        toggle.uncheck()

    for layer, lit in seen.items():
        assert lit > 2_000, f"only {lit} lit pixels with {layer} highlighted"
        assert changed(page, "all_stars", f"highlight_{layer}") > 2_000, layer
    assert changed(page, "highlight_known", "highlight_habitable") > 500
    take(page, "all_stars_again")
    assert changed(page, "all_stars", "all_stars_again") < 200
    assert site.problems == []


def test_search_flies_the_camera_to_the_star(chromium: Browser, live_site):
    context = chromium.new_context(viewport=VIEWPORT, reduced_motion="no-preference")
    try:
        page = context.new_page()
        site_page = SitePage(page)
        page.on("console", site_page.on_console)
        page.on("pageerror", site_page.on_page_error)
        page.goto(live_site.site_url)
        page.wait_for_selector('body[data-map-state="ready"]', timeout=LOAD_TIMEOUT_MS)
        before = page.evaluate(CAMERA)
        # Record the orbit centre's distance to the chosen star every frame.
        page.evaluate(
            """() => {
              window.__flight = [];
              const record = () => {
                const { map } = window.localBubble;
                if (map.selected >= 0) {
                  const star = map.positionOf(map.selected);
                  window.__flight.push(map.controls.target.distanceTo(star));
                }
                if (map.canvas.dataset.flight === 'arrived') return;
                requestAnimationFrame(record);
              };
              requestAnimationFrame(record);
            }"""
        )

        open_proxima(page)

        canvas = page.get_by_test_id("star-map")
        expect(canvas).to_have_attribute(
            "data-flight", "arrived", timeout=LOAD_TIMEOUT_MS
        )
        path = page.evaluate("window.__flight")
        after = page.evaluate(CAMERA)
        start = distance(before["target"], after["target"])  # from where it began
        assert start > 0.5
        assert path[-1] < 1e-3, "the flight ends on the star"
        # At least one frame drew the camera on its way (neither start nor end).
        assert any(0.01 < d < start - 0.01 for d in path), f"no glide: {path[:5]}"
        # The camera ends a few parsecs from the star, looking at it.
        assert 1.9 < distance(after["position"], after["target"]) < 12.1
        lit = canvas.evaluate(COUNT_LIT_PIXELS)
        page.screenshot(path=str(ARTIFACTS / "star_map_flown_to_proxima.png"))
        assert lit > 500, f"only {lit} lit pixels after flying to Proxima"
        assert site_page.problems == []
    finally:
        context.close()


def test_keyboard_turns_pans_and_zooms_the_map(site: SitePage):
    page = site.page
    canvas = page.get_by_test_id("star-map")
    page.locator("body").focus()
    # The search comes first in the focus order (its field, then its button).
    for _ in range(3):
        page.keyboard.press("Tab")
    expect(canvas).to_be_focused()
    outline = canvas.evaluate("(c) => getComputedStyle(c).outlineStyle")
    assert outline != "none", "the focused map shows no focus ring"
    start = page.evaluate(CAMERA)

    page.keyboard.press("ArrowLeft")
    turned = page.evaluate(CAMERA)
    page.keyboard.press("d")
    panned = page.evaluate(CAMERA)
    for _ in range(3):
        page.keyboard.press("+")
    zoomed = page.evaluate(CAMERA)
    page.keyboard.press("-")
    unzoomed = page.evaluate(CAMERA)

    assert turned["target"] == start["target"]
    assert distance(turned["position"], start["position"]) > 1
    reach = distance(start["position"], start["target"])
    assert abs(distance(turned["position"], turned["target"]) - reach) < 1e-3 * reach
    assert distance(panned["target"], turned["target"]) > 1
    zoomed_reach = distance(zoomed["position"], zoomed["target"])
    assert zoomed_reach == pytest.approx(reach * 0.8**3, rel=1e-3)
    unzoomed_reach = distance(unzoomed["position"], unzoomed["target"])
    assert unzoomed_reach == pytest.approx(zoomed_reach / 0.8, rel=1e-3)
    lit = take(page, "keyboard")
    assert lit > 2_000
    assert site.problems == []


def test_settlement_playback_highlights_settled_systems(
    chromium: Browser, live_site, settings
):
    """A real run on the live build: the page finds it and plays its playback."""
    from batch_jobs import simulation

    params = simulation.RunParams(
        ticks=60, snapshot_every=30, seed=7, settleable_rule="every-star"
    )
    run_id = simulation.submit(settings, live_site.build_id, params, "numba")
    assert simulation.execute(settings, run_id).state == "succeeded"
    with urllib.request.urlopen(
        f"{live_site.api_url}/sim/runs/{run_id}/playback", timeout=30
    ) as reply:
        playback = json.loads(reply.read())
    assert len(playback["intervals"]) > 1  # the Sun and the systems it reached
    with open_site(chromium, "about:blank") as site_page:
        page = site_page.page
        page.goto(live_site.site_url)
        body = page.locator("body")
        expect(body).to_have_attribute(
            "data-playback-state", "ready", timeout=LOAD_TIMEOUT_MS
        )
        expect(page.get_by_test_id("playback-status")).to_contain_text(
            f"{len(playback['intervals'])} systems"
        )
        # Close in on the Sun, where the settled systems are.
        canvas = page.get_by_test_id("star-map")
        canvas.focus()
        for _ in range(16):
            page.keyboard.press("+")
        take(page, "before_playback")

        page.get_by_test_id("playback-button").click()  # reduced motion: to the end

        end = playback["tick_years"] * playback["n_ticks"]
        # Written as JavaScript writes a number: no ".0" on a whole one.
        shown = str(int(end)) if float(end).is_integer() else str(end)
        expect(canvas).to_have_attribute("data-years", shown, timeout=LOAD_TIMEOUT_MS)
        expect(page.get_by_test_id("toggle-settled")).to_be_checked()
        settled = playback["settled_counts"][-1]
        expect(page.get_by_test_id("time-readout")).to_contain_text(
            f"{settled} systems settled"
        )
        lit = take(page, "settled_at_end")
        assert lit > 100, f"only {lit} lit pixels with settled systems highlighted"
        assert changed(page, "before_playback", "settled_at_end") > 100
        assert site_page.problems == []


SETTLED_AT = """([intervals, years]) => {
  const { map } = window.localBubble;
  map.setSettlement(intervals);
  const settled = map.points.geometry.getAttribute('settled').array;
  return years.map((year) => {
    map.setYears(year);
    return Object.keys(intervals).map((id) => {
      const index = map.indexById.get(id);
      // The shader's test of the star's [start, end) pair at the shown year.
      return year >= settled[2 * index] && year < settled[2 * index + 1];
    });
  });
}"""


def test_a_system_settled_twice_is_drawn_settled_only_in_its_spans(site: SitePage):
    page = site.page
    twice, once = page.evaluate(
        "() => [...window.localBubble.map.indexById.keys()].slice(0, 2)"
    )
    intervals = {twice: [[500, None], [-1000, -400]], once: [[-800, None]]}
    years = [-1200, -700, 0, 600, 90000]

    seen = page.evaluate(SETTLED_AT, [intervals, years])

    assert seen == [
        [False, False],
        [True, True],
        [False, True],
        [True, True],
        [True, True],
    ]
    assert site.problems == []
