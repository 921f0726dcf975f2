"""The site's other views in headless Chromium: the system view, the sky chart
without WebGL, keyboard use, and the build pages.

Chromium, its switches and the page helpers come from `test_star_map`; the site
is the one `live_site` renders from the real build and publishes as a release.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from chalicelib import habitable, routes_sim
from chalicelib.orbits import eccentric_anomaly
from tests.browser import test_star_map as star_map
from tests.browser.test_star_map import (
    ARTIFACTS,
    COUNT_LIT_PIXELS,
    LOAD_TIMEOUT_MS,
    SitePage,
    open_proxima,
    open_site,
)

# The star-map test's Chromium (same switches) and page fixtures, shared.
playwright = star_map.playwright
chromium = star_map.chromium
chromium_without_webgl = star_map.chromium_without_webgl
site = star_map.site

pytestmark = pytest.mark.browser

# Where focus should land, in this order, among the page's first tab stops.
FOCUS_ORDER = ("search-input", "Search", "star-map")
# The outline width that :focus-visible draws (style.css).
FOCUS_RING = """(element) => {
  const style = getComputedStyle(element);
  return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 1;
}"""
FOCUSED = """() => {
  const e = document.activeElement;
  const labelled = e.labels && e.labels.length ? e.labels[0].textContent : '';
  return {
    id: e.id, tag: e.tagName.toLowerCase(),
    name: (e.getAttribute('aria-label') || labelled || e.textContent || '').trim(),
    visible: !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length),
  };
}"""


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


def api_json(live_site, path: str) -> dict:
    with urllib.request.urlopen(f"{live_site.api_url}{path}", timeout=30) as reply:
        return json.loads(reply.read())


def first_system_with_inferred_planets(live_site) -> dict:
    """A system the API lists with inferred planets (filtered pages may be short)."""
    cursor = ""
    for _ in range(40):
        page = api_json(
            live_site,
            f"/builds/active/systems?planets=inferred&limit=100{cursor}",
        )
        if page["items"]:
            return page["items"][0]
        assert page["next_cursor"], "the build lists no system with inferred planets"
        cursor = "&cursor=" + urllib.parse.quote(page["next_cursor"])
    raise AssertionError("no system with inferred planets in the first 40 pages")


# The system view ---------------------------------------------------------------


def test_system_view_draws_orbits_and_the_habitable_zone(site: SitePage):
    page = site.page
    open_proxima(page)

    view = page.get_by_test_id("system-view")
    expect(view).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    expect(view).to_contain_text("Proxima Cen b")
    orbits = page.get_by_test_id("orbit-view")
    expect(orbits).to_have_attribute("data-orbits", re.compile(r"^[1-9]"))
    assert orbits.get_attribute("data-hz-source") in ("api", "luminosity")
    assert orbits.evaluate(COUNT_LIT_PIXELS) > 500
    # Reduced motion: still at first; the button sets the planets moving.
    frames = int(orbits.get_attribute("data-frames"))
    page.get_by_role("button", name="Play orbits").click()
    page.wait_for_function(
        "(least) => document.querySelector('[data-testid=orbit-view]')"
        ".dataset.frames > least",
        arg=frames + 5,
    )
    shot(page, "system-view-proxima.png")
    assert site.problems == []


def test_habitable_zone_matches_the_api_rule(site: SitePage, live_site):
    page = site.page
    open_proxima(page)
    orbits = page.get_by_test_id("orbit-view")
    expect(orbits).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    system = api_json(live_site, "/builds/active/systems/hip-70890")
    inner, outer = habitable.zone_au(system["luminosity_lsun"])

    if orbits.get_attribute("data-hz-source") == "luminosity":
        assert float(orbits.get_attribute("data-hz-inner-au")) == pytest.approx(
            inner, abs=1e-4
        )
        assert float(orbits.get_attribute("data-hz-outer-au")) == pytest.approx(
            outer, abs=1e-4
        )
    assert site.problems == []


def test_kepler_solver_agrees_with_the_api_orbits(site: SitePage):
    cases = [(0.3, 0.0), (2.0, 0.2), (5.9, 0.7), (-1.0, 0.95), (3.1, 0.999)]
    solved = site.page.evaluate(
        """async (cases) => {
          const { eccentricAnomaly } = await import('local-bubble/system');
          return cases.map(([m, e]) => eccentricAnomaly(m, e));
        }""",
        cases,
    )
    for (m, e), value in zip(cases, solved, strict=True):
        assert value == pytest.approx(eccentric_anomaly(m, e), abs=1e-9)
        assert value - e * math.sin(value) == pytest.approx(m % math.tau, abs=1e-9)
    assert site.problems == []


def open_system(page: Page, query: str, system_id: str) -> None:
    """Search for `query` and open the result for `system_id`."""
    search = page.get_by_test_id("search-input")
    search.fill(query)
    search.press("Enter")
    hit = page.locator(f'#search-results button[data-system-id="{system_id}"]')
    expect(hit).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    hit.click()
    expect(page.get_by_test_id("orbit-view")).to_be_visible(timeout=LOAD_TIMEOUT_MS)


# The open system's orbit drawing, stopped at a Julian date: what it draws there.
POSITIONS_AT = """(jd) => {
  const view = window.localBubble.panel.systemView;
  view.showEpoch(jd);
  return view.positions();
}"""


def test_orbit_view_draws_the_planets_where_the_api_puts_them(
    site: SitePage, live_site
):
    page = site.page
    open_system(page, "Sun", "sol")
    orbits = page.get_by_test_id("orbit-view")
    # It opens at today's date (reduced motion: and stays there).
    today_jd = 2_440_587.5 + time.time() / 86_400
    assert float(orbits.get_attribute("data-epoch-jd")) == pytest.approx(
        today_jd, abs=0.01
    )
    expect(page.get_by_test_id("orbit-epoch")).to_contain_text(
        time.strftime("Shown at %Y-%m-%d", time.gmtime())
    )

    for epoch in (2_451_545.0, 2_461_041.5, 2_433_282.5):
        drawn = page.evaluate(POSITIONS_AT, epoch)
        answer = api_json(live_site, f"/builds/active/systems/sol/orbits?epoch={epoch}")
        assert float(orbits.get_attribute("data-epoch-jd")) == epoch
        expected = {p["name"]: p for p in answer["planets"]}
        assert len(drawn) == len(expected) == 8
        for planet in drawn:
            want = expected[planet["name"]]
            for axis in ("x_au", "y_au", "z_au"):
                assert planet[axis] == pytest.approx(want[axis], abs=1e-9), (
                    epoch, planet["name"], axis,
                )  # fmt: skip
            assert planet["assumed"] == want["assumed"]
    # The catalogue gives the Sun's planets no angles: the view says what it assumed.
    earth = page.get_by_test_id("planet-list").locator("li", has_text="Earth")
    expect(earth.get_by_test_id("planet-assumed")).to_contain_text("inclination 0")
    view = page.get_by_test_id("system-view")
    expect(view).to_contain_text("mean anomaly 0 at J2000")
    assert site.problems == []


# Planets with every kind of element record the API reads.
HAND_MADE_PLANETS = [
    {"name": "circular", "semi_major_axis_au": 1.0, "period_days": 365.25},
    {
        "name": "by periapsis",
        "semi_major_axis_au": 0.05,
        "period_days": 3.1,
        "eccentricity": 0.6,
        "t_peri_jd": 2_460_000.3,
        "inc_rad": 0.4,
        "arg_peri_rad": 2.0,
        "long_node_rad": -1.0,
    },
    {
        "name": "by anomaly",
        "semi_major_axis_au": 5.2,
        "period_days": 4332.6,
        "mean_anomaly_rad": 1.2,
        "anomaly_epoch_jd": 2_455_000.0,
        "inc_rad": 0.02,
    },
    {
        "name": "eccentric",
        "semi_major_axis_au": 0.3,
        "period_days": 50.0,
        "eccentricity": 0.95,
        "mean_anomaly_rad": 5.5,
    },
]


def test_client_orbits_follow_the_api_for_every_kind_of_element(site: SitePage):
    epochs = [2_451_545.0, 2_461_000.25, 2_400_000.5]
    seen = site.page.evaluate(
        """async ([planets, epochs]) => {
          const { orbitOf, orbitPosition } = await import('local-bubble/system');
          return epochs.map((jd) => planets.map((planet) => {
            const orbit = orbitOf(planet);
            return { position: orbitPosition(orbit, jd), assumed: orbit.assumed };
          }));
        }""",
        [HAND_MADE_PLANETS, epochs],
    )
    for epoch, row in zip(epochs, seen, strict=True):
        for planet, got in zip(HAND_MADE_PLANETS, row, strict=True):
            want = routes_sim.planet_position(planet, epoch)
            assert got["position"] == pytest.approx(
                [want["x_au"], want["y_au"], want["z_au"]], abs=1e-9
            ), (epoch, planet["name"])
            assert got["assumed"] == want["assumed"], planet["name"]
    assert site.problems == []


def test_inferred_planets_are_marked_with_their_model(site: SitePage, live_site):
    page = site.page
    found = first_system_with_inferred_planets(live_site)
    system = api_json(live_site, f"/builds/active/systems/{found['system_id']}")
    model = next(p["model_version"] for p in system["planets"] if p["inferred"])

    search = page.get_by_test_id("search-input")
    search.fill(found["name"])
    search.press("Enter")
    hit = page.locator(f'#search-results button[data-system-id="{found["system_id"]}"]')
    expect(hit).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    hit.click()

    view = page.get_by_test_id("system-view")
    expect(view).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    inferred = view.locator('li[data-kind="inferred"]')
    expect(inferred.first).to_contain_text(f"Inferred · {model}")
    assert inferred.count() == sum(p["inferred"] for p in system["planets"])
    assert site.problems == []


def test_provenance_is_shown_when_the_api_carries_it(site: SitePage):
    page = site.page

    def with_provenance(route: Route) -> None:
        reply = route.fetch()
        body = reply.json()
        body["provenance"] = {
            "dist_pc": {"source": "hipparcos-1997", "rule": "1000 / parallax"}
        }
        for planet in body["planets"]:
            planet["provenance"] = {
                "mass_earth": {"source": "nasa-pscomppars", "rule": "msini"}
            }
        route.fulfill(response=reply, json=body)

    page.route(re.compile(r".*/systems/hip-70890$"), with_provenance)
    open_proxima(page)

    view = page.get_by_test_id("system-view")
    expect(view).to_contain_text("hipparcos-1997 · 1000 / parallax", timeout=60_000)
    expect(view).to_contain_text("nasa-pscomppars · msini")
    assert site.problems == []


# Without WebGL -------------------------------------------------------------------


def test_without_webgl_a_sky_chart_of_the_stars_is_drawn(
    chromium_without_webgl: Browser,
    live_site,
):
    with open_site(chromium_without_webgl, live_site.site_url) as site_page:
        page = site_page.page
        expect(page.get_by_test_id("map-message")).to_contain_text("WebGL")
        chart = page.get_by_test_id("sky-chart")
        expect(chart).to_have_attribute("data-state", "ready", timeout=LOAD_TIMEOUT_MS)
        assert int(chart.get_attribute("data-stars-drawn")) > 100_000
        assert chart.evaluate(COUNT_LIT_PIXELS) > 5_000
        shot(page, "no-webgl-sky-chart.png")
        assert site_page.problems == []


# Keyboard and landmarks --------------------------------------------------------


def tab_stops(page: Page, count: int) -> list[dict]:
    stops = []
    for _ in range(count):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        focused["ring"] = page.evaluate(f"() => ({FOCUS_RING})(document.activeElement)")
        stops.append(focused)
    return stops


def test_tab_reaches_every_control_in_order_with_a_visible_focus(site: SitePage):
    page = site.page
    stops = tab_stops(page, 12)

    keys = [s["id"] or s["name"] for s in stops]
    positions = [keys.index(key) for key in FOCUS_ORDER]
    assert positions == sorted(positions), keys
    for stop in stops:
        if stop["tag"] == "body":
            continue
        assert stop["name"], f"unlabelled control {stop}"
        assert stop["visible"], f"focus on a hidden element {stop}"
        assert stop["ring"], f"no visible focus on {stop}"
    for role in ("search", "main", "contentinfo"):
        assert page.get_by_role(role).count() >= 1, role
    assert site.problems == []


def test_system_panel_is_reached_and_left_by_keyboard(site: SitePage):
    page = site.page
    page.get_by_test_id("search-input").focus()
    page.keyboard.type("Proxima")
    page.keyboard.press("Enter")
    results = page.get_by_test_id("search-results")
    expect(results.get_by_role("button").first).to_be_visible(timeout=LOAD_TIMEOUT_MS)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    panel = page.get_by_test_id("system-panel")
    expect(page.get_by_test_id("system-view")).to_be_visible(timeout=LOAD_TIMEOUT_MS)

    # The panel takes focus; its controls follow in reading order.
    stops = tab_stops(page, 3)
    names = [s["name"] for s in stops]
    assert names == ["Close the system panel", "Show on the map", "Play orbits"], names
    assert all(s["ring"] for s in stops), stops
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    assert site.problems == []


# Build pages -------------------------------------------------------------------


def test_build_pages_show_the_active_build_and_its_reports(
    chromium: Browser,
    live_site,
):
    active = api_json(live_site, "/builds/active")
    with open_site(chromium, live_site.site_url + "builds/index.html") as site_page:
        page = site_page.page
        table = page.get_by_test_id("builds-table")
        row = table.locator("tr.role-active")
        expect(row).to_contain_text(active["build_id"])
        shot(page, "builds-index.png")
        row.get_by_role("link").click()

        expect(page.get_by_test_id("model-version")).to_have_text(
            active["model_version"]
        )
        expect(page.get_by_test_id("pipeline-version")).to_have_text(
            active["pipeline_version"]
        )
        sources = page.get_by_test_id("build-sources").locator("tbody tr")
        expect(sources).to_have_count(len(active["sources"]))
        expect(page.get_by_test_id("quality-table")).to_be_visible()
        comparison = page.get_by_test_id("build-comparison")
        if comparison.get_by_test_id("comparison-link").count():
            assert comparison.locator("svg rect").count() > 10
        else:
            expect(comparison.get_by_test_id("no-comparison")).to_be_visible()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        shot(page, "build-page.png")
        # The model version opens the model card of that model.
        page.get_by_test_id("model-version").get_by_role("link").click()
        expect(page.get_by_test_id("card-model-version")).to_have_text(
            active["model_version"]
        )
        assert page.get_by_test_id("model-card").locator("table").count() >= 3
        shot(page, "model-card.png")
        assert site_page.problems == []


def test_served_site_is_a_recorded_release_of_the_active_build(live_site):
    with urllib.request.urlopen(
        live_site.site_url + "releases/current.json", timeout=30
    ) as reply:
        pointer = json.loads(reply.read())
    assert pointer["build_id"] == live_site.build_id
    manifest_url = f"{live_site.site_url}releases/{pointer['version']}/manifest.json"
    with urllib.request.urlopen(manifest_url, timeout=30) as reply:
        manifest = json.loads(reply.read())
    assert "index.html" in manifest["files"]
    assert any(Path(name).name.startswith("system.") for name in manifest["files"])


@dataclass(frozen=True)
class ComparedSite:
    """Where the sample builds' pages are served, and the newer one's comparison."""

    url: str
    new_id: str
    comparison: dict


@pytest.fixture(scope="module")
def compared_site(
    compared_builds, settings, tmp_path_factory
) -> Iterator[ComparedSite]:
    """Build pages of the two compared sample builds, on a site of their own.

    The live site renders before these builds exist, so its one build has no
    comparison; this site holds only the pair's pages (and a one-star map, which
    the build pages do not use), served on a port of its own. The newer sample
    build was compared when it was built (with the active build) and again with
    the older sample; its page shows the comparison `collect_builds` chose.
    """
    from batch_jobs.build_pages import collect_builds
    from batch_jobs.site import STAR_RECORD, build_site
    from chalicelib.storage import ObjectStore
    from devenv import serving

    pair = {compared_builds.old_id, compared_builds.new_id}
    published = [
        b
        for b in collect_builds(ObjectStore(settings), settings.builds_bucket)
        if b.build_id in pair
    ]
    out = tmp_path_factory.mktemp("compared-site") / "site"
    build_site(
        out,
        build_id=compared_builds.new_id,
        api_url=settings.api_url,
        tile=STAR_RECORD.pack(0.0, 0.0, 0.0, 255, 244, 232, 180),
        tile_ids=["sol"],
        builds=published,
    )
    newer = next(b for b in published if b.build_id == compared_builds.new_id)
    assert newer.comparison is not None
    port = int(os.environ["LB_SITE_PORT"]) + 20
    server = serving.start_site(port, out)
    yield ComparedSite(f"http://127.0.0.1:{port}/", newer.build_id, newer.comparison)
    serving.stop(server)


def test_build_page_shows_the_comparison_of_two_real_builds(
    chromium: Browser, compared_site: ComparedSite
):
    report = compared_site.comparison
    old_id, new_id = report["old_id"], compared_site.new_id
    planets = report["planets"]
    summary = (
        f"planets {planets['added']['count']:,} added, "
        f"{planets['removed']['count']:,} removed, "
        f"{planets['changed']['count']:,} changed"
    )
    with open_site(chromium, compared_site.url + "builds/index.html") as site_page:
        page = site_page.page
        rows = page.get_by_test_id("builds-table").locator("tbody tr")
        expect(rows).to_have_count(2)
        rows.filter(has_text=new_id).get_by_role("link").first.click()

        comparison = page.get_by_test_id("build-comparison")
        expect(comparison).to_contain_text(old_id)
        expect(comparison).to_contain_text(summary)
        bars = comparison.locator("svg[aria-label^='Bar chart'] rect")
        assert bars.count() >= 4  # old and new bars for each count
        histograms = comparison.locator("svg[aria-label$='histogram, old against new']")
        assert histograms.count() >= 1
        assert histograms.first.locator("rect").count() > 2
        shot(page, "build-page-compared.png")

        comparison.get_by_test_id("comparison-link").click()
        expect(page).to_have_title(f"Build comparison: {old_id} → {new_id}")
        expect(page.locator("svg rect").first).to_be_visible()
        shot(page, "comparison-page.png")
        assert site_page.problems == []
