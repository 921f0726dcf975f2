"""The star map's data layers beside the tile, and the site's compressed copies.

A build publishes, besides the 16-byte star tile and its ids, a flags tile (one
byte a star), a velocity tile (six bytes a star, loaded only when time moves) and
a label list. The site copies them under `data/<build_id>/`. Every text or tile
file of the site also gets a gzip copy (`name.gz`): the local server sends it
with `Content-Encoding: gzip`, and `site_objects` yields the same compressed
bodies with their headers for an object-store upload.
"""

from __future__ import annotations

import gzip
import json
import logging
import mimetypes
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from batch_jobs.tiles import VELOCITY_DTYPE

logger = logging.getLogger(__name__)

# Layer name -> file name under data/<build_id>/ (and under tiles/ in a build).
LAYER_FILES = {
    "flags": "stars_flags.bin",
    "velocity": "stars_velocity.bin",
    "labels": "labels.json",
}
LAYER_RECORD_BYTES = {"flags": 1, "velocity": VELOCITY_DTYPE.itemsize}
COMPRESSIBLE = (".html", ".js", ".css", ".json", ".bin", ".svg", ".txt")
GZIP_SUFFIX = ".gz"
_TYPES = {
    ".bin": "application/octet-stream",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
}


class SiteLayerError(ValueError):
    """A data layer handed to the site build does not fit the star tile."""


def check_layers(star_count: int, layers: Mapping[str, bytes]) -> None:
    """Refuse a layer of unknown name, wrong size or (labels) bad indices."""
    for name, body in layers.items():
        if name not in LAYER_FILES:
            raise SiteLayerError(
                f"unknown map layer {name!r}; expected one of {sorted(LAYER_FILES)}"
            )
        if name in LAYER_RECORD_BYTES:
            expected = star_count * LAYER_RECORD_BYTES[name]
            if len(body) != expected:
                raise SiteLayerError(
                    f"map layer {name!r} is {len(body)} bytes; {star_count} stars "
                    f"need {expected}"
                )
    if "labels" in layers:
        try:
            labels = json.loads(layers["labels"])
        except ValueError as exc:
            raise SiteLayerError(f"map layer 'labels' is not JSON: {exc}") from exc
        for at, entry in enumerate(labels if isinstance(labels, list) else [None]):
            ok = (
                isinstance(entry, list)
                and len(entry) == 2
                and isinstance(entry[0], int)
                and 0 <= entry[0] < star_count
                and isinstance(entry[1], str)
            )
            if not ok:
                raise SiteLayerError(
                    f"labels[{at}] is {entry!r}, not [star index < {star_count}, name]"
                )


def write_layers(data_dir: Path, layers: Mapping[str, bytes]) -> dict[str, str]:
    """Write each layer's file into `data_dir`; return layer name -> file name."""
    written = {}
    for name, body in layers.items():
        (data_dir / LAYER_FILES[name]).write_bytes(body)
        written[name] = LAYER_FILES[name]
    return written


def precompress(root: Path) -> int:
    """Write `name.gz` beside every compressible file under `root` that shrinks.

    Deterministic (mtime 0), so rebuilding the same site gives the same bytes.
    Returns how many files got a compressed copy.
    """
    count = 0
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.suffix not in COMPRESSIBLE:
            continue
        raw = path.read_bytes()
        packed = gzip.compress(raw, compresslevel=9, mtime=0)
        if len(packed) < len(raw):
            path.with_name(path.name + GZIP_SUFFIX).write_bytes(packed)
            count += 1
    logger.debug("precompressed %d files under %s", count, root)
    return count


def content_type(path: Path | str) -> str:
    """The Content-Type a site file is served with."""
    suffix = Path(path).suffix
    return (
        _TYPES.get(suffix)
        or mimetypes.guess_type(str(path))[0]
        or ("application/octet-stream")
    )


@dataclass(frozen=True)
class SiteObject:
    """One object of a site upload: key, body and the headers to store with it."""

    key: str
    body: bytes
    content_type: str
    content_encoding: str | None


def site_objects(root: Path, prefix: str = "") -> Iterator[SiteObject]:
    """Every file of a built site as an object; compressed bodies where a `.gz` exists.

    The `.gz` copies are not objects of their own: a file with one is stored
    under its plain name, gzip bytes and `Content-Encoding: gzip`, as a CDN
    serves it.
    """
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.endswith(GZIP_SUFFIX):
            continue
        packed = path.with_name(path.name + GZIP_SUFFIX)
        key = prefix + path.relative_to(root).as_posix()
        if packed.is_file():
            yield SiteObject(key, packed.read_bytes(), content_type(path), "gzip")
        else:
            yield SiteObject(key, path.read_bytes(), content_type(path), None)
