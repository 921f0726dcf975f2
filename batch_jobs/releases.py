"""Site releases: versioned copies of the rendered site, one of them live.

A rendered site is published as a release: its files are kept under
`releases/<version>/site/`, then `releases/<version>/manifest.json` (written
last, so a manifest means a whole release) lists them with their digests. The
version is derived from the content, so publishing the same site twice is one
release. Activating a release copies its files to the root of the target, the
folder or bucket the web server or CDN serves, and records the switch in
`releases/current.json` with the release it replaced, so `rollback` can point
back to it. Content-hashed assets under `static/` are never removed from the
root: a page cached before a switch may still ask for them.

A target is a local folder (`FolderTarget`, what `devenv serve` serves) or a
bucket behind CloudFront (`BucketTarget`, which asks the CDN to forget the
paths that changed).

The site build writes a gzip copy (`name.gz`) beside each text and tile file.
The local server sends that copy, with `Content-Encoding: gzip`, to a browser
asking for `name`; a bucket cannot choose per request, so a bucket's live
`name` object holds the gzip bytes with `Content-Encoding: gzip` and the plain
file's `Content-Type`, and the browser gets the same bytes from either (every
browser accepts gzip). The releases kept under `releases/` hold the files as
the build wrote them, `.gz` copies included.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from batch_jobs.site import BUILD_MARKER
from batch_jobs.site_data import GZIP_SUFFIX, content_type
from chalicelib.errors import LocalBubbleError, NotFound
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

RELEASES = "releases/"
POINTER_KEY = "releases/current.json"
RELEASE_FORMAT = "local-bubble/site-release/1"
# Root files a switch keeps: hashed names never change meaning.
KEPT_PREFIXES = ("static/",)


class ReleaseError(LocalBubbleError):
    """A site release cannot be published, activated or rolled back."""

    code = "site_release_error"


class ReleaseNotFound(ReleaseError, NotFound):
    """The named release has no manifest in the target (a 404, exit code 4)."""

    code = "site_release_not_found"


class NoPreviousRelease(ReleaseError):
    """Rollback was asked for, but no earlier release was ever live."""

    code = "site_release_no_previous"


class SiteTarget(Protocol):
    """Where releases are kept and the live site is served from."""

    def keys(self) -> list[str]: ...

    def read(self, key: str) -> bytes: ...

    def write(self, key: str, body: bytes) -> None: ...

    def write_live(self, path: str, body: bytes, packed: bytes | None) -> list[str]:
        """Serve `body` at `path` (`packed`: its gzip copy); return the keys written."""
        ...

    def delete(self, key: str) -> None: ...

    def invalidate(self, paths: list[str]) -> None: ...


class FolderTarget:
    """A local folder served as it is; nothing caches it, so nothing to invalidate."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def keys(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            path.relative_to(self.root).as_posix()
            for path in self.root.rglob("*")
            if path.is_file()
        )

    def read(self, key: str) -> bytes:
        try:
            return (self.root / key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound(f"{self.root / key} does not exist") from exc

    def write(self, key: str, body: bytes) -> None:
        """Write through a temporary file, so a reader never sees half a file."""
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".part.", dir=path.parent)
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        os.replace(temp, path)

    def write_live(self, path: str, body: bytes, packed: bytes | None) -> list[str]:
        """The file and its `.gz` copy, which the local server picks by request."""
        self.write(path, body)
        if packed is None:
            return [path]
        self.write(path + GZIP_SUFFIX, packed)
        return [path, path + GZIP_SUFFIX]

    def delete(self, key: str) -> None:
        """Remove a file and the folders it leaves empty, as a bucket would."""
        path = self.root / key
        path.unlink(missing_ok=True)
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            if any(parent.iterdir()):
                break
            parent.rmdir()

    def invalidate(self, paths: list[str]) -> None:
        logger.debug("folder target: %d changed paths, no cache to clear", len(paths))


class BucketTarget:
    """A bucket (S3, or SeaweedFS locally) behind a CloudFront distribution.

    `cdn` is a boto3 CloudFront client, or None where no CDN fronts the bucket.
    """

    def __init__(
        self,
        store: ObjectStore,
        bucket: str,
        *,
        cdn=None,
        distribution_id: str | None = None,
    ) -> None:
        if (cdn is None) != (distribution_id is None):
            raise ReleaseError("cdn and distribution_id: give both or neither")
        self.store, self.bucket = store, bucket
        self.cdn, self.distribution_id = cdn, distribution_id

    def keys(self) -> list[str]:
        return sorted(self.store.list_keys(self.bucket))

    def read(self, key: str) -> bytes:
        return self.store.get(self.bucket, key)

    def write(self, key: str, body: bytes) -> None:
        """Store exactly `body` (a kept `.gz` copy is an archive, not an encoding)."""
        kind = "application/gzip" if key.endswith(GZIP_SUFFIX) else content_type(key)
        self.store.client.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=kind
        )

    def write_live(self, path: str, body: bytes, packed: bytes | None) -> list[str]:
        """One object: the gzip copy where there is one, with the headers to decode it.

        A bucket (and CloudFront before it) sends an object's stored headers as
        they are, so the browser asking for `path` gets what the local server
        sends it.
        """
        headers = {"ContentType": content_type(path)}
        if packed is not None:
            body = packed
            headers["ContentEncoding"] = "gzip"
        self.store.client.put_object(Bucket=self.bucket, Key=path, Body=body, **headers)
        return [path]

    def delete(self, key: str) -> None:
        self.store.client.delete_object(Bucket=self.bucket, Key=key)

    def invalidate(self, paths: list[str]) -> None:
        if self.cdn is None or not paths:
            return
        items = sorted({"/" + path for path in paths})
        self.cdn.create_invalidation(
            DistributionId=self.distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(items), "Items": items},
                "CallerReference": uuid.uuid4().hex,
            },
        )
        logger.info("asked the CDN to forget %d paths", len(items))


@dataclass(frozen=True)
class Release:
    """One published release: its version, the build it shows and its files."""

    version: str
    build_id: str
    created_at: str
    files: dict[str, dict]


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every file of a rendered site, by its path relative to `folder`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ReleaseError(f"{folder} is not a folder holding a rendered site")
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def release_version(files: dict[str, bytes]) -> str:
    """`site-<12 hex>`: a digest of every path and its content's digest."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path}\0{hashlib.sha256(files[path]).hexdigest()}\n".encode())
    return "site-" + digest.hexdigest()[:12]


def publish(target: SiteTarget, files: dict[str, bytes], *, build_id: str) -> Release:
    """Keep `files` as a release (once) and make it the live site."""
    bad = sorted(p for p in files if p.startswith(RELEASES) or p.startswith("/"))
    if bad:
        raise ReleaseError(
            f"site file {bad[0]!r} would overlap the release store; "
            f"a rendered site must not hold paths under {RELEASES!r}"
        )
    if not files:
        raise ReleaseError("the rendered site holds no files")
    _check_owned(target)
    version = release_version(files)
    existing = _find_manifest(target, version)
    if existing is None:
        base = f"{RELEASES}{version}/site/"
        for path in _ordered(files):
            target.write(base + path, files[path])
        manifest = {
            "format": RELEASE_FORMAT,
            "version": version,
            "build_id": build_id,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": {
                path: {
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "bytes": len(body),
                }
                for path, body in sorted(files.items())
            },
        }
        target.write(_manifest_key(version), _json_bytes(manifest))
        logger.info("site release %s kept (%d files)", version, len(files))
    activate(target, version)
    return get_release(target, version)


def _check_owned(target: SiteTarget) -> None:
    """Refuse a target whose live files some other tool wrote: a switch deletes them."""
    if current(target) is not None:
        return
    live = [k for k in target.keys() if not k.startswith(RELEASES)]
    if live and BUILD_MARKER not in live:
        raise ReleaseError(
            f"the target holds files no site build wrote (e.g. {live[0]!r}); "
            "refusing to replace them. Choose an empty or new folder or bucket."
        )


def get_release(target: SiteTarget, version: str) -> Release:
    """The release `version`; ReleaseNotFound when the target has no such one."""
    manifest = _find_manifest(target, version)
    if manifest is None:
        known = ", ".join(r.version for r in list_releases(target)) or "none"
        raise ReleaseNotFound(
            f"site release {version!r} is not in the target (releases kept: {known})"
        )
    return Release(
        manifest["version"],
        manifest["build_id"],
        manifest["created_at"],
        manifest["files"],
    )


def list_releases(target: SiteTarget) -> list[Release]:
    """Every complete release in the target, oldest first."""
    found = []
    for key in target.keys():
        parts = key.split("/")
        if len(parts) == 3 and key.startswith(RELEASES) and parts[2] == "manifest.json":
            found.append(get_release(target, parts[1]))
    return sorted(found, key=lambda r: (r.created_at, r.version))


def current(target: SiteTarget) -> dict | None:
    """The pointer: `version` live now, `previous` before it; None before any."""
    try:
        return json.loads(target.read(POINTER_KEY))
    except NotFound:
        return None


def activate(target: SiteTarget, version: str) -> dict:
    """Make release `version` the live site; the one it replaces becomes previous."""
    release = get_release(target, version)
    pointer = current(target)
    if pointer is not None and pointer["version"] == version:
        return pointer
    base = f"{RELEASES}{version}/site/"
    live = {k for k in target.keys() if not k.startswith(RELEASES)}
    # Read and check every file before the first write, so a damaged release
    # is refused with the live site untouched.
    bodies = {}
    for path in _ordered(release.files):
        try:
            body = target.read(base + path)
        except NotFound as exc:
            raise ReleaseError(
                f"release {version}: {base + path} is missing; "
                "publish the site again to repair it"
            ) from exc
        if hashlib.sha256(body).hexdigest() != release.files[path]["sha256"]:
            raise ReleaseError(
                f"release {version}: {base + path} does not match its manifest; "
                "publish the site again to repair it"
            )
        bodies[path] = body
    changed = []
    for path, body, packed in _live_files(bodies):
        changed += target.write_live(path, body, packed)
    stale = sorted(k for k in live - set(changed) if not k.startswith(KEPT_PREFIXES))
    for key in stale:
        target.delete(key)
    new_pointer = {
        "version": version,
        "build_id": release.build_id,
        "previous": None if pointer is None else pointer["version"],
        "switched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    target.write(POINTER_KEY, _json_bytes(new_pointer))
    # Hashed assets keep their meaning under their name; only the rest is stale.
    target.invalidate(
        [p for p in changed + stale if not p.startswith(KEPT_PREFIXES)] + [""]
    )
    logger.info(
        "site release %s is live (previous %s)", version, new_pointer["previous"]
    )
    return new_pointer


def rollback(target: SiteTarget) -> dict:
    """Point the live site back at the release that was live before this one."""
    pointer = current(target)
    if pointer is None or not pointer.get("previous"):
        raise NoPreviousRelease(
            "no earlier site release was live here; publish one before rolling back"
        )
    return activate(target, pointer["previous"])


def _live_files(bodies: dict[str, bytes]) -> list[tuple[str, bytes, bytes | None]]:
    """(path, body, gzip copy or None) per served file, in the order given.

    A `.gz` file beside its plain file is that file's compressed copy, not a
    file of its own.
    """
    files = []
    for path, body in bodies.items():
        if path.endswith(GZIP_SUFFIX) and path[: -len(GZIP_SUFFIX)] in bodies:
            continue
        files.append((path, body, bodies.get(path + GZIP_SUFFIX)))
    return files


def _find_manifest(target: SiteTarget, version: str) -> dict | None:
    try:
        return json.loads(target.read(_manifest_key(version)))
    except NotFound:
        return None


def _manifest_key(version: str) -> str:
    if "/" in version or not version:
        raise ReleaseError(f"release version {version!r} is not a single path segment")
    return f"{RELEASES}{version}/manifest.json"


def _ordered(paths) -> list[str]:
    """Assets and data before pages, so a live page never names a missing file."""
    return sorted(paths, key=lambda p: (not p.startswith(("static/", "data/")), p))


def _json_bytes(value) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True).encode()
