"""The site's map layers beside the tile, and its gzip copies for serving."""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import pytest

from batch_jobs import site_data
from batch_jobs.site import SiteBuildError, build_site

BUILD_ID = "wb-layers"


@pytest.fixture
def node_modules(tmp_path: Path) -> Path:
    """A stand-in for `npm ci`: the three.js files the site copies, tiny."""
    root = tmp_path / "node_modules"
    for name in (
        "three/build/three.core.js",
        "three/build/three.module.js",
        "three/examples/jsm/controls/OrbitControls.js",
    ):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("export const REVISION = '187';\n", encoding="utf-8")
    return root


def layers(count: int) -> dict[str, bytes]:
    return {
        "flags": bytes([1, 0, 4][:count]),
        "velocity": b"\x01\x00" * 3 * count,
        "labels": json.dumps([[0, "Sun"], [2, "Sirius"]]).encode(),
    }


def build(out: Path, node_modules: Path, extra: dict[str, bytes]) -> Path:
    tile = b"".join(struct.pack("<3f4B", i, 0, 0, 255, 255, 255, 9) for i in range(3))
    return build_site(
        out, build_id=BUILD_ID, api_url="/api", tile=tile,
        tile_ids=["sol", "hip-1", "hip-2"], layers=extra, node_modules=node_modules,
    )  # fmt: skip


def test_layers_are_written_beside_the_tile_and_named_on_the_page(
    tmp_path, node_modules
):
    index = build(tmp_path / "www", node_modules, layers(3))

    data = index.parent / "data" / BUILD_ID
    assert (data / "stars_flags.bin").read_bytes() == bytes([1, 0, 4])
    assert (data / "stars_velocity.bin").stat().st_size == 18
    html = index.read_text(encoding="utf-8")
    assert f'data-flags-url="data/{BUILD_ID}/stars_flags.bin"' in html
    assert f'data-velocity-url="data/{BUILD_ID}/stars_velocity.bin"' in html
    assert f'data-labels-url="data/{BUILD_ID}/labels.json"' in html


def test_a_site_without_layers_names_none(tmp_path, node_modules):
    html = build(tmp_path / "www", node_modules, {}).read_text(encoding="utf-8")

    assert 'data-flags-url=""' in html
    assert 'data-velocity-url=""' in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"flags": b"\x00"}, "'flags' is 1 bytes; 3 stars need 3"),
        ({"velocity": b"\x00" * 6}, "'velocity' is 6 bytes; 3 stars need 18"),
        ({"labels": b'[[7, "Vega"]]'}, r"labels\[0\] is \[7, 'Vega'\]"),
        ({"labels": b"{"}, "'labels' is not JSON"),
        ({"colours": b""}, "unknown map layer 'colours'"),
    ],
)
def test_a_layer_that_does_not_fit_the_tile_fails_the_build(
    tmp_path, node_modules, change, message
):
    out = tmp_path / "www"
    with pytest.raises(SiteBuildError, match=message):
        build(out, node_modules, {**layers(3), **change})
    assert not out.exists()


def test_text_and_tile_files_get_gzip_copies_with_the_same_content(
    tmp_path, node_modules
):
    repeated = [[0, "Sun"], [2, "Sirius"]] * 50
    index = build(
        tmp_path / "www",
        node_modules,
        {**layers(3), "labels": json.dumps(repeated).encode()},
    )
    root = index.parent

    labels = root / "data" / BUILD_ID / "labels.json"
    packed = labels.with_name("labels.json.gz")
    assert gzip.decompress(packed.read_bytes()) == labels.read_bytes()
    page = root / "index.html.gz"
    assert gzip.decompress(page.read_bytes()) == index.read_bytes()
    # A file gzip cannot shrink keeps no copy.
    assert not (root / "data" / BUILD_ID / "stars_flags.bin.gz").exists()


def test_site_objects_carry_gzip_bodies_with_their_encoding_and_type(
    tmp_path, node_modules
):
    root = build(tmp_path / "www", node_modules, layers(3)).parent

    objects = {o.key: o for o in site_data.site_objects(root, prefix="site/")}

    assert not any(key.endswith(".gz") for key in objects)
    page = objects["site/index.html"]
    assert page.content_encoding == "gzip"
    assert page.content_type == "text/html; charset=utf-8"
    assert gzip.decompress(page.body) == (root / "index.html").read_bytes()
    flags = objects[f"site/data/{BUILD_ID}/stars_flags.bin"]
    assert (flags.content_encoding, flags.content_type) == (
        None,
        "application/octet-stream",
    )
    assert flags.body == bytes([1, 0, 4])
