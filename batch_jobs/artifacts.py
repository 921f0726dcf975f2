"""The large artifacts of a world build, computed from the assembled world.

- `stars.npz` and `planets.npz`: the columnar tables (`batch_jobs.columnar`);
- `systems.jsonl.gz`: every system record as one JSON line (read by the build
  comparison and the simulation's world loader);
- `tiles/stars.bin` and `tiles/stars_ids.json`: the client's star tile, with
  its flags, velocity and label tiles beside it.

Every artifact is a pure function of the world, byte for byte (no timestamps), so
a resumed build rewrites the same bytes and `put_once` accepts them.
"""

from __future__ import annotations

import gzip
import io
import json
import logging
from concurrent.futures import ThreadPoolExecutor

import orjson

from batch_jobs import columnar
from batch_jobs.world import World

logger = logging.getLogger(__name__)

# Level 1: about three times faster than gzip's default 9, for 35% more bytes.
SYSTEMS_GZIP_LEVEL = 1
_CHUNK = 2_000
_SORTED = orjson.OPT_SORT_KEYS
_COMPRESSED_ORDER = ("stars.npz", "planets.npz", "systems.jsonl.gz")


def systems_jsonl(systems: list[dict]) -> bytes:
    """Every system as one JSON line (keys sorted), gzip-compressed.

    Serialised and compressed a chunk at a time: one orjson bytes object per
    system, all alive at once, would hold about 1 GB for the whole sky. orjson
    writes None as null (and would write NaN as null too); the world's records
    hold None for every missing value, so nothing is lost either way.
    """
    out = io.BytesIO()
    # mtime=0 and no file name keep the gzip bytes identical for identical content.
    with gzip.GzipFile(
        fileobj=out, mode="wb", compresslevel=SYSTEMS_GZIP_LEVEL, mtime=0
    ) as stream:
        for start in range(0, len(systems), _CHUNK):
            if start:
                stream.write(b"\n")
            chunk = systems[start : start + _CHUNK]
            stream.write(b"\n".join(orjson.dumps(s, option=_SORTED) for s in chunk))
    return out.getvalue()


def tile_ids_json(ids: list[str]) -> bytes:
    """The system id of each tile record, in tile order, as a JSON array."""
    return orjson.dumps(ids)


def json_document(value) -> bytes:
    """A small document of the build as JSON: keys sorted, indented, no NaN."""
    return json.dumps(value, sort_keys=True, allow_nan=False, indent=1).encode()


def world_artifacts(world: World) -> dict[str, bytes]:
    """The world's large artifacts and tiles by name (relative to the build's prefix).

    The three compressed artifacts are written on threads: zlib lets go of the
    interpreter lock while it compresses, which is most of their time, so on
    two cores one compresses while another serialises. The systems lines start
    first (they need only the records), so their compression overlaps the work
    on the tables and tiles. Each is still one stream written in order: the
    bytes are those of writing them one by one.
    """
    with ThreadPoolExecutor(max_workers=3) as pool:
        compressed = {"systems.jsonl.gz": pool.submit(systems_jsonl, world.systems)}
        stars = columnar.star_table(world.systems)
        compressed["stars.npz"] = pool.submit(columnar.encode, "stars", stars)
        planets = columnar.planet_table(world.systems)
        compressed["planets.npz"] = pool.submit(columnar.encode, "planets", planets)
        tiles = {
            "tiles/stars.bin": world.tile(stars),
            "tiles/stars_ids.json": tile_ids_json(world.tile_ids),
            "tiles/stars_flags.bin": world.tile_flags(),
            "tiles/stars_velocity.bin": world.tile_velocities(stars),
            "tiles/labels.json": json_document(world.tile_labels()),
        }
        out = {name: compressed[name].result() for name in _COMPRESSED_ORDER}
    out.update(tiles)
    logger.debug("artifacts: %s", {name: len(body) for name, body in out.items()})
    return out
