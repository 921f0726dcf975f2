"""Closest approaches for a build's stars, precomputed for the API.

Only stars with a measured radial velocity are listed: without it a track is
the tangential motion alone, whose closest approach is the star's present
distance at the present time, which says nothing. Each item records when (years
from the build's epoch; negative is the past) and how near (pc) the star passes,
under linear motion (``sim_kernels.encounters``), ranked nearest first.

Two lists: every star's approach to the Sun, and the pairs of stars that pass
within ``PAIR_THRESHOLD_PC`` of each other within ``PAIR_HORIZON_YR`` of now,
past or future (the kernel searches the future; the past is the future of the
reversed motions). A pair's closest approach over that whole window is kept.
"""

from __future__ import annotations

import logging

import numpy as np

from batch_jobs import simworld
from chalicelib import builds, jobs, simulations
from chalicelib.settings import Settings
from sim_kernels import encounters

logger = logging.getLogger(__name__)
PAIR_HORIZON_YR = 100_000.0
PAIR_THRESHOLD_PC = 1.0


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


def pair_approaches(
    world: simworld.SimWorld,
    horizon_yr: float = PAIR_HORIZON_YR,
    threshold_pc: float = PAIR_THRESHOLD_PC,
    backend: str = "numba",
) -> list[dict]:
    """Return the pairs of stars with radial velocities that pass within the
    threshold within ``horizon_yr`` of now (either way), nearest pass first."""
    rows = np.flatnonzero(np.isfinite(world.rv_kms) & ~world.at_rest)
    positions, velocities = world.positions_pc[rows], world.velocities_kms[rows]
    best: dict[tuple[int, int], tuple[float, float]] = {}
    for sign in (1.0, -1.0):
        found = encounters.close_pairs(
            positions, sign * velocities, horizon_yr, threshold_pc, backend=backend
        )
        for i, j, t, d in zip(
            found.i.tolist(),
            found.j.tolist(),
            found.t_min_yr.tolist(),
            found.d_min_pc.tolist(),
            strict=True,
        ):
            # Both windows hold t = 0; the future's copy of it is kept.
            if (i, j) not in best or d < best[(i, j)][1]:
                best[(i, j)] = (sign * t, d)
    records = []
    for (i, j), (t, d) in sorted(best.items(), key=lambda kv: (kv[1][1], kv[0])):
        a, b = rows[i], rows[j]
        relative = world.velocities_kms[b] - world.velocities_kms[a]
        separation = world.positions_pc[b] - world.positions_pc[a]
        records.append(
            {
                "system_id_a": world.system_ids[a],
                "name_a": world.names[a],
                "system_id_b": world.system_ids[b],
                "name_b": world.names[b],
                "t_min_yr": round(float(t), 1),
                "d_min_pc": round(float(d), 4),
                "separation_now_pc": round(float(np.linalg.norm(separation)), 4),
                "relative_speed_kms": round(float(np.linalg.norm(relative)), 3),
            }
        )
    return records


def shadow_differences(
    modern: tuple[list[dict], list[dict]], legacy: tuple[list[dict], list[dict]]
) -> dict[str, float]:
    """The largest difference per quantity between the Numba and NumPy answers.

    Sun encounters are compared star by star, pair encounters pair by pair; a star
    or pair found by one backend only counts in ``sun_found_by_one`` or
    ``pairs_found_by_one`` (all finite: the result is stored as JSON).
    """
    out = {"sun_t_min_yr": 0.0, "sun_d_min_pc": 0.0, "pairs_t_min_yr": 0.0}
    out["pairs_d_min_pc"] = 0.0
    old_sun = {r["system_id"]: r for r in legacy[0]}
    new_sun = {r["system_id"]: r for r in modern[0]}
    out["sun_found_by_one"] = float(len(set(old_sun) ^ set(new_sun)))
    for sid in set(old_sun) & set(new_sun):
        for key in ("t_min_yr", "d_min_pc"):
            gap = abs(new_sun[sid][key] - old_sun[sid][key])
            out[f"sun_{key}"] = max(out[f"sun_{key}"], gap)

    def key_of(pair: dict) -> tuple[str, str]:
        return pair["system_id_a"], pair["system_id_b"]

    old_pairs = {key_of(r): r for r in legacy[1]}
    new_pairs = {key_of(r): r for r in modern[1]}
    out["pairs_found_by_one"] = float(len(set(old_pairs) ^ set(new_pairs)))
    for key in set(old_pairs) & set(new_pairs):
        for name in ("t_min_yr", "d_min_pc"):
            gap = abs(new_pairs[key][name] - old_pairs[key][name])
            out[f"pairs_{name}"] = max(out[f"pairs_{name}"], gap)
    return out


def run_encounters(
    settings: Settings, build_ref: str, backend: str | None = None
) -> dict:
    """Compute and store a build's encounters as a job; return counts.

    ``backend`` (default: the ``LB_SIM_BACKEND`` setting) picks the Numba or the
    NumPy kernels; ``shadow`` runs both, stores the Numba answer and records the
    largest difference per quantity in the job's result.
    """
    from batch_jobs.simulation import BACKENDS, backend_setting

    backend = backend or backend_setting()
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r}: use one of {', '.join(BACKENDS)}")
    build_id = builds.resolve_build_id(build_ref)
    job = jobs.start_job("encounters", {"build_id": build_id, "backend": backend})
    shadow = None
    try:
        world = simworld.build_world(
            simworld.load_systems(settings, build_id), "every-star"
        )
        kernel = "numba" if backend == "shadow" else backend
        records = closest_approaches(world, kernel)
        pairs = pair_approaches(world, backend=kernel)
        if backend == "shadow":
            legacy = closest_approaches(world, "numpy")
            legacy_pairs = pair_approaches(world, backend="numpy")
            shadow = shadow_differences((records, pairs), (legacy, legacy_pairs))
        written = simulations.save_encounters(build_id, records)
        written_pairs = simulations.save_encounters(build_id, pairs, kind="pairs")
    except Exception as err:
        jobs.finish_job(job, error=f"{type(err).__name__}: {err}")
        raise
    result = {
        "build_id": build_id,
        "backend": backend,
        "encounters": written,
        "pair_encounters": written_pairs,
        "pair_horizon_yr": PAIR_HORIZON_YR,
        "pair_threshold_pc": PAIR_THRESHOLD_PC,
    }
    if shadow is not None:
        result["shadow_max"] = shadow
    jobs.finish_job(job, result=result)
    logger.info(
        "build %s: %d encounters with the Sun, %d between pairs stored (%s)",
        build_id,
        written,
        written_pairs,
        backend,
    )
    return result
