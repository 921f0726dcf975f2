"""Closest approaches to the Sun for a build's stars, precomputed for the API.

Only stars with a measured radial velocity are listed: without it a track is
the tangential motion alone, whose closest approach is the star's present
distance at the present time, which says nothing. Each item records when (years
from the build's epoch; negative is the past) and how near (pc) the star passes,
under linear motion (``sim_kernels.encounters``), ranked nearest first.
"""

from __future__ import annotations

import logging

import numpy as np

from batch_jobs import simworld
from chalicelib import builds, jobs, simulations
from chalicelib.settings import Settings
from sim_kernels import encounters

logger = logging.getLogger(__name__)


def closest_approaches(world: simworld.SimWorld, backend: str = "numba") -> list[dict]:
    """Return one record per star with a radial velocity, nearest approach first."""
    rows = np.flatnonzero(np.isfinite(world.rv_kms) & ~world.at_rest)
    found = encounters.closest_approach_to_sun(
        world.positions_pc[rows], world.velocities_kms[rows], backend=backend
    )
    order = np.lexsort((rows, found.d_min_pc))
    records = []
    for k in order:
        row = rows[k]
        velocity = world.velocities_kms[row]
        records.append(
            {
                "system_id": world.system_ids[row],
                "name": world.names[row],
                "t_min_yr": round(float(found.t_min_yr[k]), 1),
                "d_min_pc": round(float(found.d_min_pc[k]), 4),
                "dist_now_pc": round(float(np.linalg.norm(world.positions_pc[row])), 4),
                "rv_kms": float(world.rv_kms[row]),
                "speed_kms": round(float(np.linalg.norm(velocity)), 3),
            }
        )
    return records


def run_encounters(settings: Settings, build_ref: str, backend: str = "numba") -> dict:
    """Compute and store a build's encounters with the Sun as a job; return counts."""
    build_id = builds.resolve_build_id(build_ref)
    job = jobs.start_job("encounters", {"build_id": build_id, "backend": backend})
    try:
        world = simworld.build_world(
            simworld.load_systems(settings, build_id), "every-star"
        )
        records = closest_approaches(world, backend)
        written = simulations.save_encounters(build_id, records)
    except Exception as err:
        jobs.finish_job(job, error=f"{type(err).__name__}: {err}")
        raise
    result = {"build_id": build_id, "encounters": written}
    jobs.finish_job(job, result=result)
    logger.info("build %s: %d encounters with the Sun stored", build_id, written)
    return result
