"""The static site build: strict templates, hashed assets, the tile beside them."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest

from batch_jobs import site
from batch_jobs.site import (
    NodeModulesMissingError,
    SiteAssetMissingError,
    SiteBuildError,
    SiteTemplateError,
    build_site,
)

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


def test_environment_is_strict_and_autoescaped(tmp_path):
    (tmp_path / "t.j2").write_text("{{ value }}")
    env = site.template_environment(tmp_path)

    assert site.render_template(env, "t.j2", {"value": "<b>"}) == "&lt;b&gt;"
    with pytest.raises(SiteTemplateError, match="'value' is undefined"):
        site.render_template(env, "t.j2", {})
    with pytest.raises(SiteTemplateError, match="not found"):
        site.render_template(env, "absent.j2", {})


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
