"""The static site build: strict templates, hashed assets, the tile beside them."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
import shutil
import struct
import threading
import urllib.request
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from html.parser import HTMLParser
from http.server import ThreadingHTTPServer
from pathlib import Path
from unittest import mock

import pytest

from batch_jobs import compare, releases, site
from batch_jobs.build_pages import PublishedBuild
from batch_jobs.site import (
    NodeModulesMissingError,
    SiteAssetMissingError,
    SiteBuildError,
    SiteTemplateError,
    build_site,
)
from chalicelib.storage import ObjectStore
from devenv.static_server import PrecompressedHandler

BUILD_ID = "w-0123abcd"
API_URL = "https://api.example.test/v1"
HASHED = re.compile(r"\./static/(?P<stem>.+)\.(?P<hash>[0-9a-f]{8})\.(?P<ext>js|css)")


def star(x: float, y: float, z: float, rgb: tuple[int, int, int], b: int) -> bytes:
    """One 16-byte tile record."""
    return struct.pack("<3f4B", x, y, z, *rgb, b)


@pytest.fixture
def tile() -> tuple[bytes, list[str]]:
    """A tile of four stars and their system ids."""
    records = [
        star(0.0, 0.0, 0.0, (255, 244, 232), 180),
        star(-0.47, -0.36, -1.16, (255, 190, 140), 40),
        star(-0.49, -0.41, -1.12, (255, 240, 220), 230),
        star(3.1, -1.2, 0.4, (170, 190, 255), 255),
    ]
    return b"".join(records), ["sol", "hip-70890", "hip-71683", "hip-32349"]


@pytest.fixture
def node_modules(tmp_path: Path) -> Path:
    """A stand-in for `npm ci`: the three.js files the site copies, tiny."""
    root = tmp_path / "node_modules"
    files = {
        "three/build/three.core.js": "export const REVISION = '187';\n",
        "three/build/three.module.js": "export * from './three.core.js';\n",
        "three/examples/jsm/controls/OrbitControls.js": (
            "import { Controls } from 'three';\nexport class OrbitControls {}\n"
        ),
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def site_copy(tmp_path: Path) -> Path:
    """A private copy of site/ that a test may break."""
    return Path(shutil.copytree(site.SITE_DIR, tmp_path / "site"))


def build(out: Path, tile: tuple[bytes, list[str]], node_modules: Path, **kw) -> Path:
    """build_site with the test's defaults."""
    args = {"build_id": BUILD_ID, "api_url": API_URL, "node_modules": node_modules}
    args.update(kw)
    return build_site(out, tile=tile[0], tile_ids=tile[1], **args)


class Refs(HTMLParser):
    """Collects the page's asset references, import map and element ids."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: dict[str, dict[str, str | None]] = {}
        self.body: dict[str, str | None] = {}
        self.import_map = ""
        self._in_import_map = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("href", "src"):
            value = attributes.get(name)
            if value and value.startswith("./static/"):
                self.refs.append(value)
        if "id" in attributes:
            self.ids[str(attributes["id"])] = attributes
        if tag == "body":
            self.body = attributes
        self._in_import_map = tag == "script" and attributes.get("type") == "importmap"

    def handle_data(self, data: str) -> None:
        if self._in_import_map:
            self.import_map += data

    def handle_endtag(self, tag: str) -> None:
        self._in_import_map = False


def parse(index: Path) -> Refs:
    refs = Refs()
    refs.feed(index.read_text(encoding="utf-8"))
    return refs


def test_page_references_hashed_assets_that_exist(tmp_path, tile, node_modules):
    index = build(tmp_path / "www", tile, node_modules)

    refs = parse(index)
    imports = json.loads(refs.import_map)["imports"]
    urls = set(refs.refs) | set(imports.values())
    assert {HASHED.fullmatch(u)["stem"] for u in urls} >= {
        "app",
        "style",
        "three.module",
        "three.core",
        "OrbitControls",
    }
    for url in urls:
        path = index.parent / url
        assert path.is_file(), url
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:8]
        assert HASHED.fullmatch(url)["hash"] == digest
    assert not (index.parent / "static" / "app.js").exists()


def test_import_map_names_three_its_core_and_orbit_controls(
    tmp_path, tile, node_modules
):
    index = build(tmp_path / "www", tile, node_modules)

    imports = json.loads(parse(index).import_map)["imports"]
    assert HASHED.fullmatch(imports["three"])["stem"] == "three.module"
    assert HASHED.fullmatch(imports["./static/three.core.js"])["stem"] == "three.core"
    controls = imports["three/addons/controls/OrbitControls.js"]
    assert HASHED.fullmatch(controls)["stem"] == "OrbitControls"


def test_tile_and_ids_are_written_under_the_build(tmp_path, tile, node_modules):
    index = build(tmp_path / "www", tile, node_modules)

    data = index.parent / "data" / BUILD_ID
    assert (data / "stars.bin").read_bytes() == tile[0]
    assert json.loads((data / "stars_ids.json").read_text()) == tile[1]
    body = parse(index).body
    assert body["data-stars-url"] == f"data/{BUILD_ID}/stars.bin"
    assert body["data-ids-url"] == f"data/{BUILD_ID}/stars_ids.json"
    assert body["data-star-count"] == "4"


def test_page_preloads_the_tile_and_reads_it_before_the_modules_run(
    tmp_path, tile, node_modules
):
    html = build(tmp_path / "www", tile, node_modules).read_text(encoding="utf-8")

    preload = re.search(r'<link rel="preload" href="([^"]+)" as="fetch"', html)
    assert preload and preload[1] == f"data/{BUILD_ID}/stars.bin"
    # The inline reader sits after the map canvas (it needs the body's tile URL)
    # and is a classic script, run as the parser meets it, not deferred.
    early = html.index("window.localBubbleEarly =")
    assert html.index('id="star-map"') < early
    assert html.rfind("<script>", 0, early) > html.index('id="star-map"')
    assert "document.body.dataset.starsUrl" in html[early:]


def test_page_has_the_elements_tests_and_scripts_look_for(tmp_path, tile, node_modules):
    refs = parse(build(tmp_path / "www", tile, node_modules))

    assert refs.ids["star-map"]["data-testid"] == "star-map"
    assert refs.ids["search-input"]["data-testid"] == "search-input"
    assert refs.ids["search-results"]["data-testid"] == "search-results"
    assert refs.ids["system-panel"]["data-testid"] == "system-panel"
    assert refs.ids["map-message"]["role"] == "status"


def test_config_values_are_rendered_and_escaped(tmp_path, tile, node_modules):
    api_url = 'https://api.example.test/v1?a=1&b="<script>"'

    index = build(tmp_path / "www", tile, node_modules, api_url=api_url)

    html = index.read_text(encoding="utf-8")
    assert '<script>"' not in html
    assert (
        'data-api-url="https://api.example.test/v1?a=1&amp;b=&#34;&lt;script&gt;&#34;"'
        in html
    )
    body = parse(index).body
    assert body["data-api-url"] == api_url
    assert body["data-build-id"] == BUILD_ID


def test_missing_template_variable_fails_the_build(
    tmp_path, tile, node_modules, site_copy
):
    page = site_copy / "templates" / "index.html.j2"
    page.write_text(page.read_text() + "{{ no_such_value }}\n", encoding="utf-8")

    with pytest.raises(
        SiteTemplateError, match=r"index\.html\.j2, line \d+: .*no_such_value"
    ):
        build(tmp_path / "www", tile, node_modules, site_dir=site_copy)
    assert not (tmp_path / "www").exists()


def test_template_syntax_error_names_the_file_and_line(
    tmp_path, tile, node_modules, site_copy
):
    (site_copy / "templates" / "_panel.html.j2").write_text(
        "<p>\n{% if %}\n", encoding="utf-8"
    )

    with pytest.raises(SiteTemplateError, match=r"_panel\.html\.j2, line 2"):
        build(tmp_path / "www", tile, node_modules, site_dir=site_copy)


def test_missing_node_modules_tells_to_run_npm_ci(tmp_path, tile):
    with pytest.raises(
        NodeModulesMissingError, match=r"three/build/three\.core\.js is missing.*npm ci"
    ):
        build(tmp_path / "www", tile, tmp_path / "no_node_modules")
    assert not (tmp_path / "www").exists()


def test_missing_client_asset_fails(tmp_path, tile, node_modules, site_copy):
    (site_copy / "static" / "app.js").unlink()

    with pytest.raises(SiteAssetMissingError, match=r"app\.js does not exist"):
        build(tmp_path / "www", tile, node_modules, site_dir=site_copy)


def test_rebuild_replaces_the_previous_site(tmp_path, tile, node_modules):
    out = tmp_path / "www"
    build(out, tile, node_modules, build_id="first")

    build(out, tile, node_modules, build_id="second")

    assert not (out / "data" / "first").exists()
    assert (out / "data" / "second" / "stars.bin").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node_modules", "www"]


def test_failed_build_keeps_the_previous_site(tmp_path, tile, node_modules, site_copy):
    out = tmp_path / "www"
    index = build(out, tile, node_modules)
    before = index.read_text()
    (site_copy / "templates" / "index.html.j2").write_text("{{ nope }}")

    with pytest.raises(SiteTemplateError):
        build(out, tile, node_modules, site_dir=site_copy, build_id="other")

    assert index.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node_modules", "site", "www"]


def test_refuses_to_replace_a_folder_it_did_not_write(tmp_path, tile, node_modules):
    out = tmp_path / "www"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")

    with pytest.raises(SiteBuildError, match="refusing to replace"):
        build(out, tile, node_modules)
    assert (out / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"build_id": "../escape"}, "not usable in a path"),
        ({"build_id": ""}, "not usable in a path"),
        ({"api_url": "javascript:alert(1)"}, "must be an http"),
        ({"tile": b"\0" * 17}, "not a whole number"),
        ({"tile_ids": ["sol"]}, "tile holds 4 stars but tile_ids names 1"),
        ({"tile_ids": ["sol", "a", "b", 4]}, r"tile_ids\[3\]"),
    ],
)
def test_rejects_unusable_inputs(tmp_path, tile, node_modules, change, message):
    args = {
        "tile": tile[0],
        "tile_ids": tile[1],
        "build_id": BUILD_ID,
        "api_url": API_URL,
    }
    args.update(change)

    with pytest.raises(SiteBuildError, match=message):
        build_site(tmp_path / "www", node_modules=node_modules, **args)
    assert not (tmp_path / "www").exists()


def test_rejects_a_star_without_a_finite_position(tmp_path, tile, node_modules):
    bad = tile[0][:16] + star(float("nan"), 0.0, 0.0, (0, 0, 0), 0) + tile[0][32:]

    with pytest.raises(SiteBuildError, match=r"star 1 \('hip-70890'\)"):
        build(tmp_path / "www", (bad, tile[1]), node_modules)


def test_hashed_name_uses_the_content_digest():
    digest = hashlib.sha256(b"x").hexdigest()[:8]

    assert site.hashed_name("app.js", b"x") == f"app.{digest}.js"
    assert site.hashed_name("three.core.js", b"x") == f"three.core.{digest}.js"
    assert site.hashed_name("app.js", b"y") != site.hashed_name("app.js", b"x")


def test_default_node_modules_is_at_the_repository_root():
    assert site.NODE_MODULES == Path(__file__).resolve().parents[2] / "node_modules"


def test_status_page_names_its_hashed_assets_and_the_api(tmp_path, tile, node_modules):
    index = build(tmp_path / "www", tile, node_modules)
    status = index.parent / "status.html"
    refs = parse(status)
    assert {HASHED.fullmatch(url)["stem"] for url in refs.refs} == {"status"}
    assert {HASHED.fullmatch(url)["ext"] for url in refs.refs} == {"js", "css"}
    for url in refs.refs:
        assert (status.parent / url).is_file(), url
    assert refs.body["data-api-url"] == API_URL
    assert int(refs.body["data-poll-ms"]) > 0
    assert {"jobs", "kpis", "build-active", "build-previous"} <= set(refs.ids)
    assert "status" not in " ".join(parse(index).refs)  # the map page stays lean


# The system view and the sky chart ------------------------------------------


def test_system_view_is_mapped_and_sky_chart_loaded_by_hashed_name(
    tmp_path, tile, node_modules
):
    index = build(tmp_path / "www", tile, node_modules)

    refs = parse(index)
    imports = json.loads(refs.import_map)["imports"]
    system_url = imports["local-bubble/system"]
    assert HASHED.fullmatch(system_url)["stem"] == "system"
    assert (index.parent / system_url).is_file()
    assert "skychart" in {HASHED.fullmatch(u)["stem"] for u in refs.refs}
    assert refs.ids["sky-chart"]["role"] == "img"
    assert "hidden" in refs.ids["sky-chart"]


def test_map_page_has_landmarks_and_search_before_the_map(tmp_path, tile, node_modules):
    text = build(tmp_path / "www", tile, node_modules).read_text(encoding="utf-8")

    for landmark in ('role="search"', "<main", "<aside", "<footer", "<header"):
        assert landmark in text, landmark
    assert text.index('id="search-input"') < text.index('id="star-map"')
    assert text.index('id="star-map"') < text.index('id="system-panel"')
    assert '<label for="search-input">' in text


# Strictness --------------------------------------------------------------------


def test_a_warning_while_rendering_fails_the_build_and_keeps_the_old_site(
    tmp_path, tile, node_modules, monkeypatch
):
    out = tmp_path / "www"
    build(out, tile, node_modules)
    before = (out / "index.html").read_text(encoding="utf-8")

    def warn(report: dict) -> list[dict]:
        warnings.warn(
            "a template helper is deprecated", DeprecationWarning, stacklevel=2
        )
        return []

    monkeypatch.setattr(site, "quality_rows", warn)
    with pytest.raises(SiteBuildError, match="DeprecationWarning: a template helper"):
        build(out, tile, node_modules, build_id="w-other", builds=[published()])

    assert (out / "index.html").read_text(encoding="utf-8") == before
    assert not list(tmp_path.glob(".www.*"))


def test_build_page_template_with_unknown_name_fails(
    tmp_path, tile, node_modules, site_copy
):
    page = site_copy / "templates" / "build.html.j2"
    page.write_text(page.read_text().replace("{{ build.model_version }}", "{{ modl }}"))

    with pytest.raises(SiteTemplateError, match="build.html.j2.*'modl' is undefined"):
        build(
            tmp_path / "www", tile, node_modules, site_dir=site_copy,
            builds=[published()],
        )  # fmt: skip


# Build pages -------------------------------------------------------------------


def system(system_id: str, dist: float | None, planets: int, teff: float) -> dict:
    """A world system record as the pipeline writes it, reduced to what matters."""
    return {
        "system_id": system_id,
        "name": system_id.upper(),
        "dist_pc": dist,
        "teff_k": teff,
        "planets": [
            {"name": f"{system_id} {chr(98 + i)}", "known": True, "inferred": False}
            for i in range(planets)
        ],
    }


def comparison_report() -> dict:
    """A real comparison (batch_jobs.compare) of two small worlds."""
    old = [system("a", 1.3, 1, 3000), system("b", 8.6, 0, 9900)]
    new = [*old[:1], system("b", 8.7, 2, 9900), system("c", 12.0, 0, 5800)]
    return compare.compare_worlds(old, new, old_id="wb-old", new_id="wb-new")


def published(
    build_id: str = "wb-new",
    role: str | None = "active",
    *,
    comparison: dict | None = None,
    quality_html: bytes | None = None,
) -> PublishedBuild:
    """A published build as `collect_builds` returns it."""
    return PublishedBuild(
        build={
            "build_id": build_id,
            "state": "published",
            "created_at": "2026-12-03T10:00:00+00:00",
            "pipeline_version": "7",
            "model_version": "occurrence-v2",
            "counts": {"systems": 3, "systems_with_distance": 3},
        },
        role=role,
        sources=[
            {
                "role": "hip_main",
                "path": "/data/<script>hip.dat",
                "sha256": "ab" * 32,
                "size": 1234,
            }
        ],
        quality={
            "nasa.duplicate": {"count": 4, "description": "rows dropped as repeats"},
            "summary": {"rules": 12},
        },
        quality_html=quality_html,
        comparison=comparison,
    )


def test_builds_index_lists_builds_with_active_and_previous(
    tmp_path, tile, node_modules
):
    builds = [published("wb-new", "active"), published("wb-old", "previous")]
    root = build(tmp_path / "www", tile, node_modules, builds=builds).parent

    index = (root / "builds" / "index.html").read_text(encoding="utf-8")
    assert 'href="wb-new/index.html"' in index
    assert 'href="wb-old/index.html"' in index
    assert re.search(r'class="role-active".*?wb-new', index, re.S)
    assert re.search(r'class="role-previous".*?wb-old', index, re.S)
    css = re.search(r'href="(\.\./static/pages\.[0-9a-f]{8}\.css)"', index)[1]
    assert (root / "builds" / css).resolve().is_file()


def test_build_page_shows_versions_sources_quality_and_comparison_charts(
    tmp_path, tile, node_modules
):
    report = comparison_report()
    builds = [published(comparison=report, quality_html=b"<h1>quality</h1>")]
    root = build(tmp_path / "www", tile, node_modules, builds=builds).parent

    folder = root / "builds" / "wb-new"
    page = (folder / "index.html").read_text(encoding="utf-8")
    assert "occurrence-v2" in page and 'data-testid="pipeline-version">7<' in page
    assert "&lt;script&gt;hip.dat" in page and "<script>" not in page
    assert "nasa.duplicate" in page and "rows dropped as repeats" in page
    assert '{"rules": 12}' in page.replace("&#34;", '"')
    assert 'href="quality.html"' in page
    assert (folder / "quality.html").read_bytes() == b"<h1>quality</h1>"
    assert 'href="comparison.html"' in page
    assert "stars 1 added" in " ".join(page.split())
    # One bar per side per count, and the histograms of every distribution.
    assert page.count('<rect class="old"') >= len(report["counts"]["old"])
    assert page.count("<svg") == 1 + len(report["distributions"])
    css = re.search(r'href="(\.\./\.\./static/pages\.[0-9a-f]{8}\.css)"', page)[1]
    assert (folder / css).resolve().is_file()
    full = (folder / "comparison.html").read_text(encoding="utf-8")
    assert "wb-old" in full and "<svg" in full


def test_build_page_without_reports_says_so(tmp_path, tile, node_modules):
    lone = dataclasses.replace(published(role=None), sources=[], quality={})
    root = build(tmp_path / "www", tile, node_modules, builds=[lone]).parent

    page = (root / "builds" / "wb-new" / "index.html").read_text(encoding="utf-8")
    assert 'data-testid="no-comparison"' in page
    assert "No quality report is stored" in page
    assert "No source manifest is stored" in page
    assert not (root / "builds" / "wb-new" / "comparison.html").exists()
    assert not (root / "builds" / "wb-new" / "quality.html").exists()


def test_build_page_refuses_a_build_id_unusable_in_a_path(tmp_path, tile, node_modules):
    bad = published("../escape")
    with pytest.raises(SiteBuildError, match="'../escape' is not usable in a path"):
        build(tmp_path / "www", tile, node_modules, builds=[bad])
    assert not (tmp_path / "www").exists()


def test_count_bars_scale_to_the_largest_count():
    chart = site.count_bars({"old": {"a": 10, "b": 5}, "new": {"a": 20, "b": 0}})
    widths = {
        (r["label"], b["side"]): b["width"] for r in chart["rows"] for b in r["bars"]
    }
    assert widths[("a", "new")] == chart["inner_width"]
    assert widths[("a", "old")] == chart["inner_width"] / 2
    assert widths[("b", "new")] == 0


# Releases ----------------------------------------------------------------------


def render(tmp_path: Path, tile, node_modules, name: str, **kw) -> dict[str, bytes]:
    """The files of one rendered site."""
    out = build(tmp_path / name, tile, node_modules, **kw).parent
    return releases.read_folder(out)


def test_publishing_keeps_the_release_and_makes_it_live(tmp_path, tile, node_modules):
    files = render(tmp_path, tile, node_modules, "r1")
    target = releases.FolderTarget(tmp_path / "served")

    release = releases.publish(target, files, build_id=BUILD_ID)

    served = tmp_path / "served"
    assert release.version == releases.release_version(files)
    assert (served / "index.html").read_bytes() == files["index.html"]
    kept = served / "releases" / release.version / "site" / "index.html"
    assert kept.read_bytes() == files["index.html"]
    manifest = json.loads(
        (served / "releases" / release.version / "manifest.json").read_text()
    )
    assert manifest["build_id"] == BUILD_ID
    assert set(manifest["files"]) == set(files)
    assert releases.current(target)["version"] == release.version
    assert releases.current(target)["previous"] is None


def test_a_new_release_keeps_the_previous_and_rollback_restores_it(
    tmp_path, tile, node_modules
):
    first = render(tmp_path, tile, node_modules, "r1")
    second = render(tmp_path, tile, node_modules, "r2", build_id="w-second")
    target = releases.FolderTarget(tmp_path / "served")
    one = releases.publish(target, first, build_id=BUILD_ID)
    two = releases.publish(target, second, build_id="w-second")
    served = tmp_path / "served"
    assert (served / "index.html").read_bytes() == second["index.html"]
    assert not (served / "data" / BUILD_ID).exists()  # the old tile left the root

    pointer = releases.rollback(target)

    assert pointer == {**pointer, "version": one.version, "previous": two.version}
    for path, body in first.items():
        assert (served / path).read_bytes() == body, path
    assert not (served / "data" / "w-second").exists()
    assert [r.version for r in releases.list_releases(target)] in (
        [one.version, two.version],
        [two.version, one.version],
    )
    # Rolling back again returns to the newer release.
    assert releases.rollback(target)["version"] == two.version


def test_publishing_the_same_site_twice_is_one_release(tmp_path, tile, node_modules):
    files = render(tmp_path, tile, node_modules, "r1")
    target = releases.FolderTarget(tmp_path / "served")
    first = releases.publish(target, files, build_id=BUILD_ID)

    again = releases.publish(target, files, build_id=BUILD_ID)

    assert again == first
    assert len(releases.list_releases(target)) == 1
    assert releases.current(target)["previous"] is None


def test_rollback_without_an_earlier_release_is_refused(tmp_path, tile, node_modules):
    target = releases.FolderTarget(tmp_path / "served")
    with pytest.raises(releases.NoPreviousRelease, match="no earlier site release"):
        releases.rollback(target)
    releases.publish(target, render(tmp_path, tile, node_modules, "r1"), build_id="w")
    with pytest.raises(releases.NoPreviousRelease):
        releases.rollback(target)


def test_activating_an_unknown_release_names_the_kept_ones(
    tmp_path, tile, node_modules
):
    target = releases.FolderTarget(tmp_path / "served")
    kept = releases.publish(
        target, render(tmp_path, tile, node_modules, "r1"), build_id="w"
    )
    with pytest.raises(releases.ReleaseNotFound, match=kept.version):
        releases.activate(target, "site-000000000000")


def test_a_damaged_release_is_refused_and_the_live_site_kept(
    tmp_path, tile, node_modules
):
    first = render(tmp_path, tile, node_modules, "r1")
    second = render(tmp_path, tile, node_modules, "r2", build_id="w-second")
    target = releases.FolderTarget(tmp_path / "served")
    one = releases.publish(target, first, build_id=BUILD_ID)
    releases.publish(target, second, build_id="w-second")
    kept = tmp_path / "served" / "releases" / one.version / "site" / "api.html"
    kept.write_text("tampered")

    with pytest.raises(releases.ReleaseError, match="api.html does not match"):
        releases.rollback(target)

    assert (tmp_path / "served" / "index.html").read_bytes() == second["index.html"]


def test_publishing_refuses_a_folder_of_foreign_files(tmp_path, tile, node_modules):
    served = tmp_path / "served"
    served.mkdir()
    (served / "notes.txt").write_text("mine")
    with pytest.raises(releases.ReleaseError, match="'notes.txt'"):
        releases.publish(
            releases.FolderTarget(served),
            render(tmp_path, tile, node_modules, "r1"),
            build_id=BUILD_ID,
        )
    assert sorted(p.name for p in served.iterdir()) == ["notes.txt"]


def test_release_command_lists_and_rolls_back(tmp_path, tile, node_modules, capsys):
    from batch_jobs.__main__ import main as batch_main

    target = releases.FolderTarget(tmp_path / "served")
    one = releases.publish(
        target, render(tmp_path, tile, node_modules, "r1"), build_id=BUILD_ID
    )
    releases.publish(
        target,
        render(tmp_path, tile, node_modules, "r2", build_id="w-2"),
        build_id="w-2",
    )
    out = str(tmp_path / "served")

    assert batch_main(["site-release", "rollback", "--out", out]) == 0
    assert batch_main(["site-release", "list", "--out", out]) == 0

    printed = capsys.readouterr().out
    assert f"site release {one.version} is live" in printed
    assert f"* {one.version}" in printed
    # A release the folder does not keep: "no such object", exit code 4.
    missing = ["site-release", "activate", "site-nope", "--out", out]
    assert batch_main(missing) == 4
    assert "site-nope" in capsys.readouterr().err


def test_bucket_release_switch_asks_the_cdn_to_forget_changed_pages(
    settings, tmp_path, tile, node_modules
):
    from chalicelib.storage import ObjectStore

    store = ObjectStore(settings)
    bucket = f"site-test-{tmp_path.name[-20:].lower().replace('_', '-')}"
    store.ensure_bucket(bucket)
    # CloudFront cannot run here: a client stand-in limited to the call we make.
    cdn = mock.Mock(spec=["create_invalidation"])
    target = releases.BucketTarget(store, bucket, cdn=cdn, distribution_id="E123")
    first = render(tmp_path, tile, node_modules, "r1")
    second = render(tmp_path, tile, node_modules, "r2", build_id="w-second")
    releases.publish(target, first, build_id=BUILD_ID)
    releases.publish(target, second, build_id="w-second")
    cdn.reset_mock()

    releases.rollback(target)

    assert gzip.decompress(store.get(bucket, "index.html")) == first["index.html"]
    assert not store.exists(bucket, "data/w-second/stars.bin")
    (call,) = cdn.create_invalidation.call_args_list
    batch = call.kwargs["InvalidationBatch"]
    assert call.kwargs["DistributionId"] == "E123"
    assert {"/", "/index.html", "/data/w-second/stars.bin"} <= set(
        batch["Paths"]["Items"]
    )
    assert batch["Paths"]["Quantity"] == len(batch["Paths"]["Items"])
    assert not any(p.startswith("/static/") for p in batch["Paths"]["Items"])


@contextmanager
def local_site_server(root: Path) -> Iterator[str]:
    """devenv.static_server's handler serving `root`, in a thread; yields its URL."""
    handler = partial(PrecompressedHandler, directory=str(root))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/"
        finally:
            server.shutdown()
            thread.join()


def test_a_bucket_release_holds_the_bytes_and_headers_the_local_server_sends(
    settings, tmp_path, tile, node_modules
):
    bucket = f"site-enc-{tmp_path.name[-20:].lower().replace('_', '-')}"
    store = ObjectStore(settings)
    store.ensure_bucket(bucket)
    root = build(tmp_path / "r1", tile, node_modules).parent
    releases.publish(
        releases.BucketTarget(store, bucket),
        releases.read_folder(root),
        build_id=BUILD_ID,
    )
    s3 = store.client  # boto3's S3 client: get_object returns the stored headers
    served_files = sorted(
        path.relative_to(root).as_posix()
        for path in root.rglob("*")
        if path.is_file() and path.suffix != ".gz" and path.name != site.BUILD_MARKER
    )

    encoded = []
    with local_site_server(root) as base:
        for path in served_files:
            request = urllib.request.Request(
                base + path, headers={"Accept-Encoding": "gzip, deflate, br"}
            )
            with urllib.request.urlopen(request) as local:
                local_body, local_headers = local.read(), local.headers
            stored = s3.get_object(Bucket=bucket, Key=path)

            assert stored["Body"].read() == local_body, path
            assert stored["ContentType"] == local_headers["Content-Type"], path
            assert stored.get("ContentEncoding") == local_headers.get(
                "Content-Encoding"
            ), path
            if local_headers.get("Content-Encoding") == "gzip":
                encoded.append(path)
                assert gzip.decompress(local_body) == (root / path).read_bytes()

    assert {"index.html", "openapi.json"} <= set(encoded)
    assert any(p.startswith("static/app.") for p in encoded)
    assert f"data/{BUILD_ID}/stars.bin" in served_files
    live = [k for k in store.list_keys(bucket) if not k.startswith("releases/")]
    assert not any(key.endswith(".gz") for key in live)


def test_collect_builds_reads_the_registry_and_the_builds_bucket(
    settings, sample_build
):
    from batch_jobs.build_pages import collect_builds
    from batch_jobs.sources import DEFAULT_SOURCES
    from chalicelib.storage import ObjectStore

    store = ObjectStore(settings)
    found = {b.build_id: b for b in collect_builds(store, settings.builds_bucket)}

    sample = found[sample_build.build_id]
    assert sample.build["state"] == "published"
    assert sample.build["model_version"]
    assert {s["role"] for s in sample.sources} == set(DEFAULT_SOURCES)
    assert sample.quality
    assert all(isinstance(entry, dict) for entry in sample.quality.values())
    assert sample.role in (None, "active", "previous")


def test_model_card_page_renders_the_card_with_its_tables_and_version(
    tmp_path, tile, node_modules
):
    from batch_jobs.inference import MODEL_VERSION

    index = build(tmp_path / "out", tile, node_modules)
    page = (index.parent / "model-card.html").read_text()
    assert f'data-testid="card-model-version">{MODEL_VERSION}<' in page
    assert "<table>" in page and "Fressin" in page and "Kopparapu" in page
    assert "<h1" in page and "&lt;table&gt;" not in page  # HTML, not escaped text
    assert 'href="model-card.html"' in (index.parent / "index.html").read_text()


def test_a_missing_model_card_stops_the_build_and_keeps_the_old_site(
    tmp_path, tile, node_modules
):
    out = tmp_path / "out"
    build(out, tile, node_modules)
    before = (out / "index.html").read_text()
    with pytest.raises(site.SiteAssetMissingError, match="model card"):
        build(out, tile, node_modules, model_card=tmp_path / "nowhere.md")
    assert (out / "index.html").read_text() == before
