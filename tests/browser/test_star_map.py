"""The static client in headless Chromium: the map draws, search opens a system.

Playwright drives Debian's Chromium (no browser download); WebGL runs on
SwiftShader, Chromium's CPU renderer. `live_site` (tests/conftest.py) serves a
site built from the real catalogues and the API over the same world.
"""

from __future__ import annotations

import json
import os
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

from tests.browser.conftest import ARTIFACTS, failure_screenshot

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
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
    """A page on the live site, with every console error, warning and page error."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        # Playwright names console.warn "warning"; both mean something went wrong.
        if message.type not in ("error", "warning"):
            return
        # Chromium's own GL driver notes (SwiftShader: "GPU stall due to
        # ReadPixels" when a test reads pixels back) are the browser's, not the page's.
        if message.type == "warning" and "GL Driver Message" in message.text:
            return
        self.problems.append(f"console.{message.type}: {message.text}")

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
def open_site(
    browser: Browser, url: str, *, reduced_motion: str = "reduce", **options: object
) -> Iterator[SitePage]:
    """Open the site in a fresh context, recording console and page problems.

    `options` go to `Browser.new_context` (`has_touch=True`, say). When the body
    of the `with` fails, the page is kept as a screenshot in test-artifacts/.
    """
    context = browser.new_context(
        viewport=VIEWPORT, reduced_motion=reduced_motion, **options
    )
    try:
        site_page = SitePage(context.new_page())
        site_page.page.on("console", site_page.on_console)
        site_page.page.on("pageerror", site_page.on_page_error)
        site_page.page.goto(url)
        try:
            yield site_page
        except BaseException:
            test = os.environ.get("PYTEST_CURRENT_TEST", "browser-test")
            failure_screenshot(site_page.page, test.split(" ")[0].split("::")[-1])
            raise
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
    with open_site(
        chromium, live_site.site_url, reduced_motion="no-preference"
    ) as site_page:
        page = site_page.page
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


# ------------------------------------------------ mouse, touch, labels, draw calls

CENTRE = {"x": VIEWPORT["width"] / 2, "y": VIEWPORT["height"] / 2}


def reach(camera: dict) -> float:
    """The camera's distance from the point it orbits."""
    return distance(camera["position"], camera["target"])


# Resolves once the camera has (nearly) stopped: the controls' damping carries a
# turn or pan on for a while after the pointer is released.
UNTIL_STILL = """() => new Promise((done) => {
  const { map } = window.localBubble;
  let last = null;
  let frames = 0;
  const check = () => {
    const now = [...map.camera.position.toArray(), ...map.controls.target.toArray()];
    const reach = map.camera.position.distanceTo(map.controls.target);
    const moved = last
      ? Math.max(...now.map((v, i) => Math.abs(v - last[i]))) : Infinity;
    last = now;
    frames += 1;
    if (moved < 1e-5 * reach || frames > 600) done(frames);
    else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})"""


def until_still(page: Page) -> None:
    """Wait for the camera to stop, then for the map to draw where it stopped."""
    page.evaluate(UNTIL_STILL)
    settle(page)


def drag(page: Page, dx: float, dy: float, button: str = "left") -> None:
    """Press at the map's centre, move by (dx, dy) in small steps, release."""
    page.mouse.move(CENTRE["x"], CENTRE["y"])
    page.mouse.down(button=button)
    page.mouse.move(CENTRE["x"] + dx, CENTRE["y"] + dy, steps=12)
    page.mouse.up(button=button)
    until_still(page)


def test_mouse_drag_turns_right_drag_pans_and_wheel_zooms(site: SitePage):
    page = site.page
    start = page.evaluate(CAMERA)

    drag(page, 160, 40)
    turned = page.evaluate(CAMERA)
    turned_lit = take(page, "mouse_turned")
    drag(page, -120, 80, button="right")
    panned = page.evaluate(CAMERA)
    panned_lit = take(page, "mouse_panned")
    page.mouse.move(CENTRE["x"], CENTRE["y"])
    page.mouse.wheel(0, -600)
    until_still(page)
    zoomed = page.evaluate(CAMERA)
    zoomed_lit = take(page, "mouse_zoomed")

    # Turning orbits the camera round a fixed centre at the same distance.
    assert distance(turned["target"], start["target"]) < 1e-6
    assert distance(turned["position"], start["position"]) > 1
    assert reach(turned) == pytest.approx(reach(start), rel=1e-3)
    # Panning moves centre and camera together.
    assert distance(panned["target"], turned["target"]) > 1
    assert reach(panned) == pytest.approx(reach(turned), rel=1e-3)
    # Scrolling up brings the camera closer to the centre.
    assert reach(zoomed) < 0.9 * reach(panned)
    assert distance(zoomed["target"], panned["target"]) < 1e-3 * reach(panned)
    for name, lit in (("turned", turned_lit), ("panned", panned_lit)):
        assert lit > 2_000, f"only {lit} lit pixels after the mouse {name} the map"
    assert zoomed_lit > 2_000, f"only {zoomed_lit} lit pixels after zooming"
    assert site.problems == []


def touch(cdp, kind: str, points: list[tuple[float, float]]) -> None:
    """One touch event through the DevTools protocol (Playwright only taps)."""
    cdp.send(
        "Input.dispatchTouchEvent",
        {
            "type": kind,
            "touchPoints": [
                {"x": x, "y": y, "id": i} for i, (x, y) in enumerate(points)
            ],
        },
    )


def touch_gesture(page: Page, starts, ends, steps: int = 12) -> None:
    """Put fingers down at `starts`, slide them to `ends`, lift them."""
    cdp = page.context.new_cdp_session(page)
    try:
        touch(cdp, "touchStart", starts)
        for step in range(1, steps + 1):
            f = step / steps
            points = [
                (x0 + (x1 - x0) * f, y0 + (y1 - y0) * f)
                for (x0, y0), (x1, y1) in zip(starts, ends, strict=True)
            ]
            touch(cdp, "touchMove", points)
        touch(cdp, "touchEnd", [])
    finally:
        cdp.detach()
    until_still(page)


def test_one_finger_turns_and_two_finger_pinch_zooms_the_map(
    chromium: Browser, live_site
):
    with open_site(chromium, live_site.site_url, has_touch=True) as site_page:
        page = site_page.page
        page.wait_for_selector('body[data-map-state="ready"]', timeout=LOAD_TIMEOUT_MS)
        start = page.evaluate(CAMERA)
        x, y = CENTRE["x"], CENTRE["y"]

        touch_gesture(page, [(x, y)], [(x + 150, y + 30)])
        turned = page.evaluate(CAMERA)
        turned_lit = take(page, "touch_turned")
        # Fingers 100 px apart spread to 400 px about the same midpoint.
        touch_gesture(page, [(x - 50, y), (x + 50, y)], [(x - 200, y), (x + 200, y)])
        pinched = page.evaluate(CAMERA)
        pinched_lit = take(page, "touch_pinched")

        assert distance(turned["target"], start["target"]) < 1e-6
        assert distance(turned["position"], start["position"]) > 1
        assert reach(turned) == pytest.approx(reach(start), rel=1e-3)
        assert reach(pinched) < 0.6 * reach(turned), "spreading fingers zooms in"
        assert turned_lit > 2_000, f"only {turned_lit} lit pixels after a turn"
        assert pinched_lit > 2_000, f"only {pinched_lit} lit pixels after a pinch"
        assert site_page.problems == []


LABELS = """() => [...document.querySelectorAll('#map-labels .star-label')]
  .filter((label) => !label.hidden).map((label) => label.textContent)"""


def test_named_stars_are_labelled_near_and_far(site: SitePage):
    page = site.page
    expect(page.locator("body")).to_have_attribute(
        "data-layers-state", "ready", timeout=LOAD_TIMEOUT_MS
    )
    settle(page)
    labels = page.get_by_test_id("map-labels")
    overview = page.evaluate(LABELS)
    assert int(labels.get_attribute("data-count")) == len(overview) > 5, overview

    # Beside Sirius (the search flies there), with the panel closed so the
    # selection label no longer names it, the map's own label does.
    page.get_by_test_id("search-input").fill("Sirius")
    page.get_by_test_id("search-input").press("Enter")
    hit = page.get_by_test_id("search-results").get_by_role(
        "button", name=re.compile(r"^Sirius\b")
    )
    hit.first.click()
    expect(page.get_by_test_id("system-panel")).to_be_visible()
    page.get_by_role("button", name="Close the system panel").click()
    settle(page)
    near = page.evaluate(LABELS)
    take(page, "labels_near_sirius")

    assert any(name.startswith("Sirius") for name in near), near
    assert int(labels.get_attribute("data-count")) == len(near) > 0
    assert set(near) != set(overview)
    assert site.problems == []


# A faint star with no other star within 1.5 pc, 5 to 40 pc from the Sun: its
# tile index, position and absolute magnitude (the tile's brightness byte).
LONELY_FAINT_STAR = """() => {
  const { map } = window.localBubble;
  const f = map.tile.floats;
  const bytes = map.tile.bytes;
  const count = map.tile.count;
  for (let i = 0; i < count; i += 1) {
    const b = bytes[16 * i + 15];
    const absMag = 17 - (27 * (b - 1)) / 254;
    const r = Math.hypot(f[4 * i], f[4 * i + 1], f[4 * i + 2]);
    if (b === 0 || absMag < 11 || r < 5 || r > 40) continue;
    let lonely = true;
    for (let j = 0; j < count && lonely; j += 1) {
      if (j === i) continue;
      const d = Math.hypot(f[4 * j] - f[4 * i], f[4 * j + 1] - f[4 * i + 1],
        f[4 * j + 2] - f[4 * i + 2]);
      lonely = d > 1.5;
    }
    const position = [f[4 * i], f[4 * i + 1], f[4 * i + 2]];
    if (lonely) return { index: i, position, absMag };
  }
  return null;
}"""
# Put the camera `away` pc from a star, looking at it across the line to the
# Sun, through a 0.5 degree field of view: a telescope's, so that no other star
# is behind it on screen. Apparent magnitude goes by distance, not by the view.
LOOK_AT_STAR = """([position, away]) => {
  const { map } = window.localBubble;
  const [x, y, z] = position;
  const across = Math.hypot(x, y) || 1;  // along (-y, x, 0): square to the Sun's line
  map.camera.fov = 0.5;
  map.resize();  // the projection and the stars' pixels per parsec
  map.controls.target.set(x, y, z);
  map.camera.position.set(x - (y / across) * away, y + (x / across) * away, z);
  map.controls.update();
  map.dirty = true;
}"""
# Pixels clearly brighter than the background in a 15 x 15 box at the centre.
CENTRE_LIT = """(canvas) => {
  const copy = document.createElement('canvas');
  copy.width = canvas.width;
  copy.height = canvas.height;
  const context = copy.getContext('2d', { willReadFrequently: true });
  context.drawImage(canvas, 0, 0);
  const data = context.getImageData(
    Math.floor(canvas.width / 2) - 7, Math.floor(canvas.height / 2) - 7, 15, 15).data;
  let lit = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] + data[i + 1] + data[i + 2] > 90) lit += 1;
  }
  return lit;
}"""


def test_a_faint_star_fades_out_as_the_camera_moves_away(site: SitePage):
    """Level of detail: seen from afar, a faint star is not drawn at all.

    Through the narrow field the star is drawn at the largest point size
    (STAR_SIZE.maxPx) from both distances, so a dark centre at 30 pc is the
    fade, not perspective.
    """
    page = site.page
    canvas = page.get_by_test_id("star-map")
    star = page.evaluate(LONELY_FAINT_STAR)
    assert star is not None, "no faint star stands alone in the tile"
    seen = {}
    for away in (0.2, 30.0):
        page.evaluate(LOOK_AT_STAR, [star["position"], away])
        settle(page)
        seen[away] = canvas.evaluate(CENTRE_LIT)
        take(page, f"faint_star_at_{away:g}_pc")

    # Apparent magnitude: absMag - 8.5 from 0.2 pc, absMag + 2.4 from 30 pc,
    # past the map's limit (LIMIT_MAG 12.5 in app.js).
    assert star["absMag"] + 2.4 > 12.5
    assert seen[0.2] >= 9, f"the faint star is not drawn from 0.2 pc: {seen}"
    assert seen[30.0] == 0, f"the faint star did not fade: {seen}"
    assert site.problems == []


DRAW_STATS = """() => {
  const { map } = window.localBubble;
  map.renderer.render(map.scene, map.camera);
  const { calls, points } = map.renderer.info.render;
  return { calls, points, stars: map.tile.count };
}"""


def test_the_map_draws_every_star_in_a_handful_of_draw_calls(site: SitePage):
    page = site.page
    expect(page.locator("body")).to_have_attribute(
        "data-layers-state", "ready", timeout=LOAD_TIMEOUT_MS
    )
    open_proxima(page)  # the selection ring is one more thing to draw
    expect(page.get_by_test_id("system-panel")).to_contain_text(
        "Proxima Cen b", timeout=LOAD_TIMEOUT_MS
    )
    settle(page)

    stats = page.evaluate(DRAW_STATS)

    # The stars, the rings with the line to the Galactic centre, the selection ring.
    assert stats["calls"] == 3, stats
    # Every star goes through the one draw of the stars (plus the ring's point).
    assert stats["points"] >= stats["stars"] > 100_000, stats
    assert site.problems == []
