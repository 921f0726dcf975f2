"""The stars a simulation acts on, read from a published build's systems artifact.

A build's ``systems.jsonl.gz`` holds one JSON system per line. Only systems with
a position take part. Velocities are heliocentric Galactic (U, V, W) from the
position, parallax, proper motion and radial velocity
(``astrometry.space_velocity``); a star without a radial velocity moves on
its tangential motion alone and is flagged, and a system with no proper motion
(the Sun, exoplanet hosts known only from the exoplanet table) stays at rest
and is flagged too.
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass

import numpy as np

from batch_jobs import astrometry
from chalicelib import habitable
from chalicelib.settings import Settings
from chalicelib.storage import ObjectStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimWorld:
    """Placed systems in artifact order, with positions, velocities and flags."""

    system_ids: list[str]
    names: list[str]
    positions_pc: np.ndarray
    velocities_kms: np.ndarray
    settleable: np.ndarray
    tangential_only: np.ndarray
    at_rest: np.ndarray
    rv_kms: np.ndarray

    def index_of(self, system_id: str) -> int:
        """Return a system's row, or raise naming what is wrong."""
        try:
            return self.system_ids.index(system_id)
        except ValueError as err:
            raise ValueError(
                f"system {system_id!r} is not among the build's placed systems "
                "(check the id, e.g. 'sol' or 'hip-70890')"
            ) from err

    def counts(self) -> dict:
        """Return the world's sizes, for the run record."""
        return {
            "systems": len(self.system_ids),
            "settleable": int(self.settleable.sum()),
            "tangential_only": int(self.tangential_only.sum()),
            "at_rest": int(self.at_rest.sum()),
        }


def load_systems(settings: Settings, build_id: str) -> list[dict]:
    """Return every system record of a build from its artifact."""
    store = ObjectStore(settings)
    key = f"builds/{build_id}/systems.jsonl.gz"
    text = gzip.decompress(store.get(settings.builds_bucket, key)).decode()
    return [json.loads(line) for line in text.splitlines() if line]


def _column(systems: list[dict], key: str) -> np.ndarray:
    """Return one numeric field of every system, NaN where it is missing."""
    return np.array(
        [np.nan if s.get(key) is None else s[key] for s in systems], dtype=np.float64
    )


def build_world(systems: list[dict], settleable_rule: str) -> SimWorld:
    """Return the simulation world of the systems that have a position."""
    placed = [s for s in systems if s.get("x_pc") is not None]
    positions = np.column_stack([_column(placed, k) for k in ("x_pc", "y_pc", "z_pc")])
    dist = _column(placed, "dist_pc")
    parallax = _column(placed, "parallax_mas")
    with np.errstate(divide="ignore"):
        parallax = np.where(np.isfinite(parallax), parallax, 1000.0 / dist)
    rv = _column(placed, "rv_kms")
    velocities, tangential = astrometry.space_velocity(
        _column(placed, "ra_deg"),
        _column(placed, "dec_deg"),
        parallax,
        _column(placed, "pmra_mas_yr"),
        _column(placed, "pmdec_mas_yr"),
        rv,
    )
    at_rest = ~np.isfinite(velocities).all(axis=1)
    velocities[at_rest] = 0.0
    flags = np.array(habitable.settleable(placed, settleable_rule), dtype=bool)
    logger.debug("world of %d placed systems, %d settleable", len(placed), flags.sum())
    return SimWorld(
        system_ids=[s["system_id"] for s in placed],
        names=[s.get("name") or s["system_id"] for s in placed],
        positions_pc=np.ascontiguousarray(positions),
        velocities_kms=np.ascontiguousarray(velocities),
        settleable=flags,
        tangential_only=tangential & ~at_rest,
        at_rest=at_rest,
        rv_kms=rv,
    )
