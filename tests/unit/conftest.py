"""Unit-test fixtures: the hand-made sample sources, and one real world per session.

The real catalogues are read from `SOURCES_DIR` (default: `../shared/data` beside
the checkout); tests that need them are marked `realdata` and fail, naming the
folder, when it is missing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from batch_jobs.sources import DEFAULT_SOURCES

DATA = Path(__file__).parents[1] / "data"
SOURCES_DIR = Path(
    os.environ.get("SOURCES_DIR", Path(__file__).parents[2].parent / "shared" / "data")
)
REAL_FILES = DEFAULT_SOURCES
SAMPLE_FILES = {
    "hip_main": "hip_main_sample.dat",
    "sscore_nearest": "sscore_nearest_sample.csv",
    "sscore_brightest": "sscore_brightest_sample.csv",
    "d3_names": "d3_names_sample.json",
    "exoplanets": "exoplanets_sample_2024.csv",
}


@pytest.fixture
def sample_paths() -> dict[str, Path]:
    """The hand-made sources in tests/data, by source role."""
    return {role: DATA / name for role, name in SAMPLE_FILES.items()}


@pytest.fixture(scope="session")
def real_paths() -> dict[str, Path]:
    """The real catalogues by source role; fails loudly when they are not there."""
    paths = {role: SOURCES_DIR / name for role, name in REAL_FILES.items()}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        pytest.fail(
            f"real catalogues not found: {', '.join(missing)}; "
            "set SOURCES_DIR to the folder holding them"
        )
    return paths


@pytest.fixture(scope="session")
def real_world(real_paths):
    """The world assembled once from the real catalogues, shared by the session."""
    from batch_jobs.world import assemble_world

    return assemble_world(real_paths)
