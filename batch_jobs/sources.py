"""Source files: which files a build reads, their digests, and their stored copies.

Each source is stored once in the sources bucket under its sha256, so a build's
manifest pins exactly the bytes it was made from.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

from chalicelib.errors import SourceMissingError
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

# The v1 source set: role -> path under SOURCES_DIR.
DEFAULT_SOURCES = {
    "hip_main": "stars/hip_main_I239_ESA1997.dat.gz",
    "sscore_nearest": "stars/sscore_Nearest_v4_2026-07.csv",
    "sscore_brightest": "stars/sscore_Brightest_v4_2026-07.csv",
    "d3_names": "stars/d3celestial_starnames.json",
    "exoplanets": "exoplanets/nasa_pscomppars_2024-10-15.csv",
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


def locate(sources_dir: Path, overrides: dict[str, Path] | None = None) -> dict:
    """Map each role to an existing file; SourceMissingError names any that is not."""
    paths = {role: sources_dir / rel for role, rel in DEFAULT_SOURCES.items()}
    paths.update(overrides or {})
    for role, path in paths.items():
        if not Path(path).is_file():
            raise SourceMissingError(
                f"source {role!r} not found at {path}; set SOURCES_DIR to the folder "
                "holding the catalogues (see README, Data)"
            )
    return {role: Path(path) for role, path in paths.items()}


def describe(paths: dict[str, Path]) -> list[SourceFile]:
    """Digest every source file, in role order."""
    return [
        SourceFile(role, str(path), _digest(path), path.stat().st_size)
        for role, path in sorted(paths.items())
    ]


def store(files: list[SourceFile], store: ObjectStore, bucket: str) -> int:
    """Copy each source into the sources bucket once; return how many were new."""
    written = 0
    for source in files:
        if store.exists(bucket, source.object_key):
            continue
        body = Path(source.path).read_bytes()
        written += store.put_once(
            bucket, source.object_key, body, "application/octet-stream"
        )
        logger.debug("stored source %s as %s", source.role, source.object_key)
    return written
