"""Source files: which files a build reads, their digests, and their stored copies.

Each source is stored once in the sources bucket under its sha256, so a build's
manifest pins exactly the bytes it was made from. A file put in the sources bucket
under `incoming/<role>/<name>` replaces that role's file for builds that read
incoming sources (those the triggers start); the newest one per role wins.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

from chalicelib.errors import SourceMissingError
from chalicelib.storage import ObjectStore, StoredObject

logger = logging.getLogger(__name__)

# The v1 source set: role -> path under SOURCES_DIR.
DEFAULT_SOURCES = {
    "hip_main": "stars/hip_main_I239_ESA1997.dat.gz",
    "sscore_nearest": "stars/sscore_Nearest_v4_2026-07.csv",
    "sscore_brightest": "stars/sscore_Brightest_v4_2026-07.csv",
    "d3_names": "stars/d3celestial_starnames.json",
    "exoplanets": "exoplanets/nasa_pscomppars_2024-10-15.csv",
}
# Read only by builds whose settings ask for them (`astrometry: hip2`).
OPTIONAL_SOURCES = {
    "hip2": "stars/hip2_I311_vanLeeuwen2007.dat.gz",
}


@dataclass(frozen=True)
class SourceFile:
    """One source file of a build: its role, where it was read, and its digest."""

    role: str
    path: str
    sha256: str
    size: int

    @property
    def object_key(self) -> str:
        return f"sources/sha256/{self.sha256}"

    def manifest_entry(self) -> dict:
        """The source's line in a build's source manifest."""
        return {**asdict(self), "object_key": self.object_key}


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def locate(
    sources_dir: Path,
    overrides: dict[str, Path] | None = None,
    roles: tuple[str, ...] | None = None,
) -> dict:
    """Map each role to an existing file; SourceMissingError names any that is not.

    `roles` (default: the v1 set) may name optional roles such as `hip2`.
    """
    known = {**DEFAULT_SOURCES, **OPTIONAL_SOURCES}
    wanted = tuple(DEFAULT_SOURCES) if roles is None else roles
    unknown = [role for role in wanted if role not in known]
    if unknown:
        raise SourceMissingError(f"unknown source role(s): {', '.join(unknown)}")
    paths = {role: sources_dir / known[role] for role in wanted}
    paths.update(overrides or {})
    for role, path in paths.items():
        if not Path(path).is_file():
            found = "is a directory, not a file" if Path(path).is_dir() else "not found"
            raise SourceMissingError(
                f"source {role!r} {found} at {path}; set SOURCES_DIR to the folder "
                "holding the catalogues (README, Prerequisites, gives the layout)"
            )
    return {role: Path(path) for role, path in paths.items()}


def describe(
    paths: dict[str, Path], origins: dict[str, str] | None = None
) -> list[SourceFile]:
    """Digest every source file, in role order.

    A role in `origins` was fetched from there (an `s3://` URI): the manifest names
    that origin, not the scratch file it was read from.
    """
    origins = origins or {}
    return [
        SourceFile(
            role, origins.get(role, str(path)), _digest(path), path.stat().st_size
        )
        for role, path in sorted(paths.items())
    ]


INCOMING_PREFIX = "incoming/"


def _recency(obj: StoredObject) -> tuple:
    return (obj.last_modified, obj.key)


def fetch_incoming(
    store: ObjectStore, bucket: str, dest: Path
) -> tuple[dict[str, Path], dict[str, str]]:
    """Download the newest `incoming/<role>/` object of each role into `dest`.

    Returns the local path of each role found and the `s3://` origin of each.
    """
    newest: dict[str, StoredObject] = {}
    for obj in store.list_objects(bucket, INCOMING_PREFIX):
        parts = PurePosixPath(obj.key).parts
        if len(parts) < 3 or parts[1] not in DEFAULT_SOURCES:
            logger.warning(
                "ignoring s3://%s/%s: not incoming/<role>/<file>", bucket, obj.key
            )
            continue
        current = newest.get(parts[1])
        if current is None or _recency(obj) > _recency(current):
            newest[parts[1]] = obj
    paths, origins = {}, {}
    for role, obj in newest.items():
        target = dest / role / PurePosixPath(obj.key).name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(store.get(bucket, obj.key))
        paths[role] = target
        origins[role] = f"s3://{bucket}/{obj.key}"
        logger.info("source %s from %s", role, origins[role])
    return paths, origins


def store(
    files: list[SourceFile],
    store: ObjectStore,
    bucket: str,
    paths: dict[str, Path] | None = None,
) -> int:
    """Copy each source into the sources bucket once; return how many were new.

    `paths` says where to read a role whose manifest path is not a local file.
    """
    written = 0
    for source in files:
        if store.exists(bucket, source.object_key):
            continue
        body = Path((paths or {}).get(source.role, source.path)).read_bytes()
        written += store.put_once(
            bucket, source.object_key, body, "application/octet-stream"
        )
        logger.debug("stored source %s as %s", source.role, source.object_key)
    return written
