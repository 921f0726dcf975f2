"""A published build's columnar artifacts match its manifest and its systems."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest

from batch_jobs import columnar
from chalicelib.storage import ObjectStore

pytestmark = pytest.mark.integration


def test_sample_build_columnar_artifacts_match_the_manifest_and_the_records(
    settings, sample_build
):
    store = ObjectStore(settings)
    prefix = f"builds/{sample_build.build_id}"
    bucket = settings.builds_bucket
    manifest = json.loads(store.get(bucket, f"{prefix}/manifest.json"))
    bodies = {
        name: store.get(bucket, f"{prefix}/{name}") for name in manifest["artifacts"]
    }
    for name, body in bodies.items():
        assert hashlib.sha256(body).hexdigest() == manifest["artifacts"][name]["sha256"]
    systems = [
        json.loads(line)
        for line in gzip.decompress(bodies["systems.jsonl.gz"]).splitlines()
    ]
    stars = columnar.load(store, bucket, sample_build.build_id, "stars")
    planets = columnar.load(store, bucket, sample_build.build_id, "planets")
    assert [s.decode() for s in stars["system_id"]] == [s["system_id"] for s in systems]
    assert stars["planet_count"].tolist() == [len(s["planets"]) for s in systems]
    assert len(planets["name"]) == sum(len(s["planets"]) for s in systems)
    assert stars["has_position"].tolist() == ["x_pc" in s for s in systems]
    # Inferred planets carry their model version; known ones none.
    inferred = planets["inferred"]
    assert inferred.any() and (planets["model_version"][inferred] != b"").all()
    assert (planets["model_version"][~inferred] == b"").all()
    rows = columnar.records("stars", stars)
    json.dumps(rows, allow_nan=False)  # missing values came back as None
    by_id = {s["system_id"]: s for s in systems}
    for row in rows:
        system = by_id[row["system_id"]]
        assert row["dist_pc"] == system.get("dist_pc")
        assert row["teff_k"] == system.get("teff_k")
    assert np.isnan(stars["x_pc"][~stars["has_position"]]).all()
