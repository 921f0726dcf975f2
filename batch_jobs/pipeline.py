"""The build pipeline: sources in, an immutable published world build out.

The steps run in an order that keeps the promises of the design: every source is
read and validated before anything is written; artifacts are written once; the
manifest is written last; the build is activated only once it is published.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from batch_jobs import artifacts, compare, inference, publish, quality, sources
from batch_jobs.provenance import ASTROMETRY_SOURCES, INFERENCE, planet
from batch_jobs.world import World, assemble_world, source_roles
from chalicelib import builds, jobs, reports
from chalicelib.errors import BadRequest, BuildNotPublished, QualityLimitsCrossed
from chalicelib.models import BuildRecord
from chalicelib.settings import Settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

# 1.4: proper motions in system records; 1.5 (two branches) and 1.6 (both):
# validation rules (rows kept out or repaired), quality limits, the quality
# report page, columnar stars.npz and planets.npz, per-field provenance, the HD
# merge, the astrometry release as a setting; 1.7: the map's flags, velocity and
# label tiles; 1.8: SSCore rows merge by Gliese number too (a new quality count),
# and stars.npz and planets.npz are compressed at level 1, as meant (their
# members had zlib's default 6; the arrays inside are unchanged); 1.9: stellar
# physics (Teff from spectral type, evolutionary class, mass, radius), known
# planets' in_hz, the Hipparcos-reach counts, hip2 builds' default limits, SSCore
# companions at another distance lose their primary's designations, records
# list the repairs made to their rows, names items sort brightest first.
PIPELINE_VERSION = "pipeline-1.9"
CONTENT_TYPES = {
    ".html": "text/html",
    ".json": "application/json",
    ".gz": "application/gzip",
}
# The inference model's version enters the build id: a new model, a new build.
MODEL_VERSION = inference.MODEL_VERSION
# The defaults; `astrometry` (which Hipparcos release gives positions, parallaxes
# and proper motions: hip_main 1997 or hip2 2007) may be chosen per build.
BUILD_SETTINGS = {"astrometry": "hip_main", "sector_pc": 20.0}


def build_settings(
    astrometry: str = "hip_main", quality_limits: Mapping[str, float] | None = None
) -> dict:
    """A build's settings (part of its id); an unknown release or limit is refused."""
    if astrometry not in ASTROMETRY_SOURCES:
        raise ValueError(
            f"astrometry setting {astrometry!r} is unknown; use one of "
            f"{', '.join(ASTROMETRY_SOURCES)}"
        )
    return {
        **BUILD_SETTINGS,
        "astrometry": astrometry,
        "quality_limits": quality.quality_limits(quality_limits, astrometry),
    }


# How far a build got (0 to 1) and its step's name; a job runner records it.
Report = Callable[[float, str], None]


def _silent(fraction: float, step: str) -> None:
    """The report of a build nobody watches."""


@dataclass
class BuildOutcome:
    """What one pipeline run did."""

    build_id: str
    state: str
    created: bool
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)


@contextlib.contextmanager
def cyclic_gc_paused():
    """Pause Python's cycle collector while the build makes its millions of objects.

    The world's records hold no reference cycles, yet each full collection walks
    every one of them again as the heap grows: a quarter of the build's CPU time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def world_build_id(files: list[sources.SourceFile], settings: dict) -> str:
    """The content-derived id: source digests, pipeline, model and settings."""
    identity = {
        "sources": sorted((f.role, f.sha256) for f in files),
        "pipeline_version": PIPELINE_VERSION,
        "model_version": MODEL_VERSION,
        "settings": settings,
    }
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return "wb-" + hashlib.sha256(canonical.encode()).hexdigest()[:20]


def add_inferred_planets(world: World) -> None:
    """Give every star without known planets the planets the model draws for it."""
    inferred = inference.infer_many(s for s in world.systems if s["source"] != "sol")
    systems = planets = 0
    for system in world.systems:
        drawn = inferred.get(system["system_id"])
        for drawn_planet in drawn or ():
            drawn_planet["provenance"] = planet(drawn_planet, INFERENCE, MODEL_VERSION)
        if drawn:
            system["planets"].extend(drawn)
            systems += 1
            planets += len(drawn)
    world.quality["inference.systems"] = {
        "count": systems,
        "description": f"systems given inferred planets by {inference.MODEL_VERSION}",
    }
    world.quality["inference.planets"] = {
        "count": planets,
        "description": "inferred planets (each says inferred: true and its model)",
    }


_json_bytes = artifacts.json_document


def quality_artifacts(world: World, build_id: str, failures: list[str]) -> dict:
    """The quality report as JSON and as its HTML page."""
    html = quality.render_html(world.quality, build_id, failures)
    return {
        "quality_report.json": _json_bytes(world.quality),
        "quality_report.html": html.encode(),
    }


def _artifacts(
    world: World, files: list[sources.SourceFile], build_id: str
) -> dict[str, bytes]:
    return {
        "source_manifest.json": _json_bytes([f.manifest_entry() for f in files]),
        **quality_artifacts(world, build_id, []),
        **artifacts.world_artifacts(world),
    }


def write_artifacts(
    store: ObjectStore, bucket: str, build_id: str, artifacts: dict[str, bytes]
) -> dict:
    """Write every artifact once, then the manifest of their digests last."""
    digests = _put_artifacts(store, bucket, build_id, artifacts)
    manifest = {
        "build_id": build_id,
        "pipeline_version": PIPELINE_VERSION,
        "model_version": MODEL_VERSION,
        "artifacts": digests,
    }
    store.put_once(bucket, f"builds/{build_id}/manifest.json", _json_bytes(manifest))
    return digests


def store_comparison(
    store: ObjectStore,
    bucket: str,
    old_id: str,
    new_id: str,
    old_systems: list[dict],
    new_systems: list[dict],
) -> dict:
    """Compare two worlds' systems and store the report as JSON and HTML, once.

    The report of a pair of builds is keyed by both ids, so a rerun finds it.
    """
    prefix = reports.comparison_prefix(old_id, new_id)
    report = compare.compare_worlds(
        old_systems, new_systems, old_id=old_id, new_id=new_id
    )
    store.put_once(bucket, f"{prefix}/report.json", _json_bytes(report))
    html = compare.render_html(report).encode()
    store.put_once(bucket, f"{prefix}/report.html", html, "text/html")
    logger.info("compared %s with %s: %s", new_id, old_id, report.get("counts"))
    return report


def _put_artifacts(
    store: ObjectStore, bucket: str, build_id: str, artifacts: dict[str, bytes]
) -> dict:
    """Write each artifact once under the build's prefix; return their digests."""
    digests = {}
    for name, body in artifacts.items():
        kind = CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")
        store.put_once(bucket, f"builds/{build_id}/{name}", body, kind)
        digests[name] = {
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
        }
    return digests


def write_comparison(
    store: ObjectStore, bucket: str, build_id: str, world: World
) -> str | None:
    """Compare the new world with the active build's; store the report as JSON and HTML.

    Returns the id compared with, or None for a first build.
    """
    pointer = builds.get_pointer()
    if pointer is None or pointer.active_build_id == build_id:
        return None
    old_id = pointer.active_build_id
    old = compare.parse_systems(store.get(bucket, f"builds/{old_id}/systems.jsonl.gz"))
    store_comparison(store, bucket, old_id, build_id, old, world.systems)
    return old_id


def compare_builds(
    settings: Settings, old_ref: str, new_ref: str, report: Report = _silent
) -> dict:
    """Compare any two published builds (`active` allowed); store and sum it up."""
    store = ObjectStore(settings)
    bucket = settings.builds_bucket
    ids = [builds.resolve_build_id(ref) for ref in (old_ref, new_ref)]
    for build_id in ids:
        record = builds.get_build(build_id)
        if record.state != "published":
            raise BuildNotPublished(
                f"build {build_id} is {record.state}; compare published builds"
            )
    if ids[0] == ids[1]:
        raise BadRequest(f"both sides are build {ids[0]}; name two builds", "new")
    worlds = []
    for done, build_id in enumerate(ids):
        report(0.1 + 0.3 * done, f"reading {build_id}")
        raw = store.get(bucket, f"builds/{build_id}/systems.jsonl.gz")
        worlds.append(compare.parse_systems(raw, f"builds/{build_id}/systems.jsonl.gz"))
    report(0.7, "comparing")
    result = store_comparison(store, bucket, ids[0], ids[1], *worlds)
    prefix = reports.comparison_prefix(*ids)
    return {
        "old_build_id": ids[0],
        "new_build_id": ids[1],
        "counts": result.get("counts"),
        "report_json": f"s3://{bucket}/{prefix}/report.json",
        "report_html": f"s3://{bucket}/{prefix}/report.html",
    }


def _prepare(
    settings: Settings,
    overrides: dict[str, Path] | None,
    incoming: Path | None = None,
    chosen: dict | None = None,
):
    chosen = chosen or build_settings()
    origins: dict[str, str] = {}
    if incoming is not None:
        store = ObjectStore(settings)
        fetched, origins = sources.fetch_incoming(
            store, settings.sources_bucket, incoming
        )
        overrides = {**fetched, **(overrides or {})}
    roles = source_roles(chosen["astrometry"])
    paths = sources.locate(
        settings.sources_dir,
        {r: p for r, p in (overrides or {}).items() if r in roles},
        roles,
    )
    files = sources.describe(paths, {r: o for r, o in origins.items() if r in paths})
    return paths, files, world_build_id(files, chosen)


def run_build(
    settings: Settings,
    overrides: dict[str, Path] | None = None,
    activate: bool = True,
    *,
    incoming: bool = False,
    report: Report | None = None,
    quality_limits: Mapping[str, float] | None = None,
    astrometry: str = "hip_main",
) -> BuildOutcome:
    """Build (or find) the world for the current sources, publish and activate it.

    With `incoming`, the newest file of a role under `incoming/<role>/` in the
    sources bucket replaces that role's file. `astrometry` is the build setting
    naming the Hipparcos release of positions and parallaxes (`hip_main` or
    `hip2`). A caller that passes `report` owns the job record; otherwise the
    build records a job of its own. `quality_limits` override
    `quality.DEFAULT_LIMITS` per rule, over the settings' own
    (`LB_QUALITY_LIMITS`); a build whose quality report crosses a limit is
    recorded `failed` and raises `QualityLimitsCrossed`, publishing nothing.
    """
    limits = {**dict(settings.quality_limits), **(quality_limits or {})}
    chosen = build_settings(astrometry, limits)
    with tempfile.TemporaryDirectory(prefix="lb-incoming-") as scratch:
        paths, files, build_id = _prepare(
            settings, overrides, Path(scratch) if incoming else None, chosen
        )
        if report is not None:
            report(0.1, "sources read")
            return _run(settings, paths, files, build_id, activate, report, chosen)
        job = jobs.start_job("build", {"build_id": build_id, "activate": activate})
        try:
            outcome = _run(settings, paths, files, build_id, activate, _silent, chosen)
        except Exception as err:
            jobs.finish_job(job, error=f"{type(err).__name__}: {err}")
            raise
        jobs.finish_job(job, result={"build_id": build_id, "state": outcome.state})
        return outcome


def _run(
    settings, paths, files, build_id, activate, report: Report, chosen: dict
) -> BuildOutcome:
    existing = builds.find_build(build_id)
    if existing is not None and existing.state == "published":
        logger.info("build %s already published: nothing to do", build_id)
        if activate:
            builds.activate(build_id)
        counts = json.loads(existing.counts_json or "{}")
        return BuildOutcome(build_id, "published", created=False, counts=counts)
    timings = {}
    started = time.perf_counter()
    report(0.15, "assembling the world")
    with cyclic_gc_paused():
        # Reading validates: a bad file stops us here.
        world = assemble_world(paths, chosen["astrometry"])
        add_inferred_planets(world)
    timings["assemble_s"] = round(time.perf_counter() - started, 3)
    failures = quality.judge(world.quality, chosen["quality_limits"])
    store = ObjectStore(settings)
    record = builds.create_build(
        build_id,
        pipeline_version=PIPELINE_VERSION,
        model_version=MODEL_VERSION,
        settings=chosen,
        sources=[f.manifest_entry() for f in files],
    )
    if failures:
        _fail_on_quality(settings, store, record, world, failures)
    report(0.5, "storing sources")
    sources.store(files, store, settings.sources_bucket, paths)
    if record.state in ("pending", "failed"):
        builds.transition(record, "running", error=None)
    try:
        return _publish(
            settings, store, record, world, files, timings, activate, report
        )
    except Exception as err:
        builds.transition(record, "failed", error=f"{type(err).__name__}: {err}")
        raise


def _fail_on_quality(
    settings: Settings,
    store: ObjectStore,
    record: BuildRecord,
    world: World,
    failures: list[str],
) -> None:
    """Record a build whose quality report crossed its limits as failed, and raise.

    Only the quality report (JSON and page) is written, under the build's own
    prefix and once, so the reasons can be read; no manifest, item or pointer.
    """
    build_id = record.build_id
    artifacts = quality_artifacts(world, build_id, failures)
    digests = _put_artifacts(store, settings.builds_bucket, build_id, artifacts)
    reason = "quality limits crossed: " + "; ".join(failures)
    if record.state == "failed":  # a retry: record this run's reasons
        builds.transition(record, "running")
    builds.transition(
        record,
        "failed",
        error=reason,
        artifacts_json=json.dumps(digests, sort_keys=True),
    )
    logger.warning("build %s failed its quality limits: %s", build_id, failures)
    raise QualityLimitsCrossed(build_id, failures)


def _publish(settings, store, record, world, files, timings, activate, report):
    build_id = record.build_id
    started = time.perf_counter()
    report(0.55, "writing artifacts")
    with cyclic_gc_paused():
        built = _artifacts(world, files, build_id)
    digests = write_artifacts(store, settings.builds_bucket, build_id, built)
    timings["artifacts_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    report(0.7, "writing items")
    counts = publish.write_items(build_id, world)
    timings["items_s"] = round(time.perf_counter() - started, 3)
    counts["systems_with_distance"] = len(world.tile_ids)
    report(0.95, "publishing")
    if record.state == "running":  # a resumed run may have validated it already
        builds.transition(record, "validated", counts_json=json.dumps(counts))
    started = time.perf_counter()
    compared_with = write_comparison(store, settings.builds_bucket, build_id, world)
    timings["comparison_s"] = round(time.perf_counter() - started, 3)
    if compared_with:
        counts["compared_with"] = compared_with
    builds.transition(
        record,
        "published",
        artifacts_json=json.dumps(digests, sort_keys=True),
        timings_json=json.dumps(timings),
    )
    if activate:
        builds.activate(build_id)
    logger.info("build %s published: %s", build_id, counts)
    return BuildOutcome(build_id, "published", True, counts, timings)
