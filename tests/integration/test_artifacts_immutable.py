"""A build's artifacts are written once: the same bytes again is a no-op, other
bytes are refused and the stored artifact stays as its manifest says."""

from __future__ import annotations

import hashlib
import json

import pytest

from batch_jobs import artifacts, columnar, pipeline
from batch_jobs.world import World
from chalicelib.errors import ArtifactExists
from chalicelib.storage import ObjectStore

pytestmark = pytest.mark.integration


def _world(teff: float) -> World:
    system = {
        "system_id": "hip-1",
        "name": "HIP 1",
        "names": ["HIP 1"],
        "source": "hipparcos",
        "x_pc": 1.0,
        "y_pc": 2.0,
        "z_pc": 3.0,
        "dist_pc": 3.74,
        "teff_k": teff,
        "abs_vmag": 4.0,
        "planets": [],
    }
    return World(systems=[system], quality={})


def test_writing_over_a_columnar_artifact_is_refused(settings):
    store = ObjectStore(settings)
    bucket, build_id = settings.builds_bucket, "wb-test-immutable-artifacts"
    first = artifacts.world_artifacts(_world(5000.0))
    digests = pipeline.write_artifacts(store, bucket, build_id, first)
    # A resumed build writes the same bytes again: accepted, nothing changes.
    assert pipeline.write_artifacts(store, bucket, build_id, first) == digests
    other = artifacts.world_artifacts(_world(6000.0))
    assert other["stars.npz"] != first["stars.npz"]
    with pytest.raises(ArtifactExists, match="stars.npz already holds different"):
        store.put_once(bucket, f"builds/{build_id}/stars.npz", other["stars.npz"])
    stored = store.get(bucket, f"builds/{build_id}/stars.npz")
    assert hashlib.sha256(stored).hexdigest() == digests["stars.npz"]["sha256"]
    assert columnar.decode("stars", stored)["teff_k"].tolist() == [5000.0]
    manifest = json.loads(store.get(bucket, f"builds/{build_id}/manifest.json"))
    assert set(manifest["artifacts"]) == set(first)
    assert manifest["artifacts"]["planets.npz"] == digests["planets.npz"]
