"""The build pipeline: sources in, an immutable published world build out.

The steps run in an order that keeps the promises of the design: every source is
read and validated before anything is written; artifacts are written once; the
manifest is written last; the build is activated only once it is published.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from batch_jobs import compare, inference, publish, sources
from batch_jobs.world import World, assemble_world
from chalicelib import builds, jobs
from chalicelib.settings import Settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)

# 1.4: proper motions in system records; 1.5: flags, velocity and label tiles
PIPELINE_VERSION = "pipeline-1.5"
# The inference model's version enters the build id: a new model, a new build.
MODEL_VERSION = inference.MODEL_VERSION
BUILD_SETTINGS = {"astrometry": "hip_main", "sector_pc": 20.0}
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


def _json_bytes(value) -> bytes:
    return json.dumps(value, sort_keys=True, allow_nan=False, indent=1).encode()


def _artifacts(world: World, files: list[sources.SourceFile]) -> dict[str, bytes]:
    systems = "\n".join(
        json.dumps(s, sort_keys=True, allow_nan=False) for s in world.systems
    )
    return {
        "source_manifest.json": _json_bytes([f.manifest_entry() for f in files]),
        "quality_report.json": _json_bytes(world.quality),
        # mtime=0 keeps the gzip bytes identical for identical content.
        "systems.jsonl.gz": gzip.compress(systems.encode(), mtime=0),
        "tiles/stars.bin": world.tile(),
        "tiles/stars_ids.json": _json_bytes(list(world.tile_ids)),
        "tiles/stars_flags.bin": world.tile_flags(),
        "tiles/stars_velocity.bin": world.tile_velocities(),
        "tiles/labels.json": _json_bytes(world.tile_labels()),
    }


def write_artifacts(
    store: ObjectStore, bucket: str, build_id: str, artifacts: dict[str, bytes]
) -> dict:
    """Write every artifact once, then the manifest of their digests last."""
    digests = {}
    for name, body in artifacts.items():
        store.put_once(bucket, f"builds/{build_id}/{name}", body)
        digests[name] = {
            "sha256": hashlib.sha256(body).hexdigest(),
            "bytes": len(body),
        }
    manifest = {
        "build_id": build_id,
        "pipeline_version": PIPELINE_VERSION,
        "model_version": MODEL_VERSION,
        "artifacts": digests,
    }
    store.put_once(bucket, f"builds/{build_id}/manifest.json", _json_bytes(manifest))
    return digests


def write_comparison(
    store: ObjectStore, bucket: str, build_id: str, world: World
) -> str | None:
    """Compare the new world with the active build's; store the report as JSON and HTML.

    The report of a pair of builds is keyed by both ids, so it is written once
    and a rerun finds it; returns the id compared with, or None for a first build.
    """
    pointer = builds.get_pointer()
    if pointer is None or pointer.active_build_id == build_id:
        return None
    old_id = pointer.active_build_id
    prefix = f"comparisons/{old_id}__{build_id}"
    old = compare.parse_systems(store.get(bucket, f"builds/{old_id}/systems.jsonl.gz"))
    report = compare.compare_worlds(old, world.systems, old_id=old_id, new_id=build_id)
    store.put_once(bucket, f"{prefix}/report.json", _json_bytes(report))
    html = compare.render_html(report).encode()
    store.put_once(bucket, f"{prefix}/report.html", html, "text/html")
    logger.info("compared %s with %s: %s", build_id, old_id, report.get("counts"))
    return old_id


def _prepare(
    settings: Settings,
    overrides: dict[str, Path] | None,
    incoming: Path | None = None,
):
    origins: dict[str, str] = {}
    if incoming is not None:
        store = ObjectStore(settings)
        fetched, origins = sources.fetch_incoming(
            store, settings.sources_bucket, incoming
        )
        overrides = {**fetched, **(overrides or {})}
    paths = sources.locate(settings.sources_dir, overrides)
    files = sources.describe(paths, {r: o for r, o in origins.items() if r in paths})
    return paths, files, world_build_id(files, BUILD_SETTINGS)


def run_build(
    settings: Settings,
    overrides: dict[str, Path] | None = None,
    activate: bool = True,
    *,
    incoming: bool = False,
    report: Report | None = None,
) -> BuildOutcome:
    """Build (or find) the world for the current sources, publish and activate it.

    With `incoming`, the newest file of a role under `incoming/<role>/` in the
    sources bucket replaces that role's file. A caller that passes `report` owns
    the job record; otherwise the build records a job of its own.
    """
    with tempfile.TemporaryDirectory(prefix="lb-incoming-") as scratch:
        paths, files, build_id = _prepare(
            settings, overrides, Path(scratch) if incoming else None
        )
        if report is not None:
            report(0.1, "sources read")
            return _run(settings, paths, files, build_id, activate, report)
        job = jobs.start_job("build", {"build_id": build_id, "activate": activate})
        try:
            outcome = _run(settings, paths, files, build_id, activate, _silent)
        except Exception as err:
            jobs.finish_job(job, error=f"{type(err).__name__}: {err}")
            raise
        jobs.finish_job(job, result={"build_id": build_id, "state": outcome.state})
        return outcome


def _run(settings, paths, files, build_id, activate, report: Report) -> BuildOutcome:
    existing = builds.find_build(build_id)
    if existing is not None and existing.state == "published":
        logger.info("build %s already published: nothing to do", build_id)
        if activate:
            builds.activate(build_id)
        return BuildOutcome(build_id, "published", created=False)
    timings = {}
    started = time.perf_counter()
    report(0.15, "assembling the world")
    world = assemble_world(paths)  # reading validates: a bad file stops us here
    add_inferred_planets(world)
    timings["assemble_s"] = round(time.perf_counter() - started, 3)
    report(0.5, "storing sources")
    store = ObjectStore(settings)
    sources.store(files, store, settings.sources_bucket, paths)
    record = builds.create_build(
        build_id,
        pipeline_version=PIPELINE_VERSION,
        model_version=MODEL_VERSION,
        settings=BUILD_SETTINGS,
        sources=[f.manifest_entry() for f in files],
    )
    if record.state in ("pending", "failed"):
        builds.transition(record, "running", error=None)
    try:
        return _publish(
            settings, store, record, world, files, timings, activate, report
        )
    except Exception as err:
        builds.transition(record, "failed", error=f"{type(err).__name__}: {err}")
        raise


def _publish(settings, store, record, world, files, timings, activate, report):
    build_id = record.build_id
    started = time.perf_counter()
    report(0.55, "writing artifacts")
    digests = write_artifacts(
        store, settings.builds_bucket, build_id, _artifacts(world, files)
    )
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
