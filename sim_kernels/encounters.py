"""Close stellar encounters under linear motion: with the Sun, and between stars.

For relative position ``r`` (pc) and relative velocity ``v`` (pc/yr) the
separation is least at ``t_min = -(r . v) / |v|^2`` and is then
``d_min = |r + v t_min|`` (computed from the moved position, not from
``|r|^2 - (r . v)^2 / |v|^2``, which cancels badly for close passes).

With the Sun (at rest at the origin of the heliocentric frame) every star gets
its ``t_min`` over all time, past or future; a star with zero velocity gets
``t_min = 0`` and ``d_min = |r|``. A NaN in a star's row gives NaN for that star.

Between stars, only pairs that can come within ``d_threshold_pc`` during
``[0, horizon_yr]`` are examined: two stars whose relative speed is at most
``w`` close their separation by at most ``w * T`` over a time ``T``, so a scipy
``cKDTree`` over the positions at the start of a time slab of length ``T``,
queried for pairs within ``w_max * T + d_threshold`` (``w_max`` bounded by twice
the largest distance of any velocity from the mean velocity), finds every pair
that can meet within that slab without looking at all pairs. The window is cut
into slabs short enough that ``w_max * T`` is about ``max(d_threshold, 1 pc)``:
one fast star would otherwise make the search radius, and the number of
candidates, huge (hundreds of parsecs for 1e5 yr on real stars). A pair's
closest approach in the window is the least over its slabs (the earliest on a
tie). The ``FAST_STARS`` stars moving fastest against the mean are paired with
every other star directly, over the whole window, so that one runaway star (or
one bad distance) does not set the slab length for all. For past encounters,
pass negated velocities. Rows with a non-finite position or velocity take no
part in the pair search.

Both kernels are compiled with ``_jit.EXACT`` so that the NumPy reference and
the kernel return the same bits; they are dominated by memory traffic, not by
arithmetic.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import prange
from scipy.spatial import cKDTree

from sim_kernels import _inputs, _jit
from sim_kernels.motion import PC_PER_YR_PER_KMS

MIN_SLAB_MOTION_PC = 1.0
MAX_SLABS = 4096
FAST_STARS = 64


class SunEncounters(NamedTuple):
    """Each star's closest approach to the Sun: when (years from now) and how near."""

    t_min_yr: np.ndarray
    d_min_pc: np.ndarray


class PairEncounters(NamedTuple):
    """Pairs of stars (row indices, i < j) that pass within the threshold."""

    i: np.ndarray
    j: np.ndarray
    t_min_yr: np.ndarray
    d_min_pc: np.ndarray


@_jit.kernel(fastmath=_jit.EXACT)
def _sun_kernel(positions, velocities, to_pc_yr, t_out, d_out):
    """Write each star's time and distance of closest approach to the origin."""
    for i in prange(positions.shape[0]):
        x, y, z = positions[i, 0], positions[i, 1], positions[i, 2]
        vx = velocities[i, 0] * to_pc_yr
        vy = velocities[i, 1] * to_pc_yr
        vz = velocities[i, 2] * to_pc_yr
        vv = vx * vx + vy * vy + vz * vz
        t = 0.0
        if vv != 0.0:
            t = -(x * vx + y * vy + z * vz) / vv
        px, py, pz = x + vx * t, y + vy * t, z + vz * t
        t_out[i] = t
        d_out[i] = math.sqrt(px * px + py * py + pz * pz)


@_jit.kernel(fastmath=_jit.EXACT)
def _pair_kernel(positions, velocities, first, second, to_pc_yr, horizon, t_out, d_out):
    """Write each candidate pair's closest time in [0, horizon] and its distance."""
    for k in prange(first.shape[0]):
        i, j = first[k], second[k]
        rx = positions[j, 0] - positions[i, 0]
        ry = positions[j, 1] - positions[i, 1]
        rz = positions[j, 2] - positions[i, 2]
        vx = (velocities[j, 0] - velocities[i, 0]) * to_pc_yr
        vy = (velocities[j, 1] - velocities[i, 1]) * to_pc_yr
        vz = (velocities[j, 2] - velocities[i, 2]) * to_pc_yr
        vv = vx * vx + vy * vy + vz * vz
        t = 0.0
        if vv != 0.0:
            t = -(rx * vx + ry * vy + rz * vz) / vv
        t = min(max(t, 0.0), horizon)
        px, py, pz = rx + vx * t, ry + vy * t, rz + vz * t
        t_out[k] = t
        d_out[k] = math.sqrt(px * px + py * py + pz * pz)


def _sun_numpy(positions, velocities, to_pc_yr):
    """Return (t_min, d_min) per star: the plain NumPy reference of the kernel."""
    v = velocities * to_pc_yr
    vv = v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2]
    rv = positions[:, 0] * v[:, 0] + positions[:, 1] * v[:, 1]
    rv = rv + positions[:, 2] * v[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(vv != 0.0, -rv / vv, 0.0)
    p = positions + v * t[:, None]
    d = np.sqrt(p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1] + p[:, 2] * p[:, 2])
    return t, d


def _pair_numpy(positions, velocities, first, second, to_pc_yr, horizon):
    """Return (t_min, d_min) per candidate pair: the NumPy reference."""
    r = positions[second] - positions[first]
    v = (velocities[second] - velocities[first]) * to_pc_yr
    vv = v[:, 0] * v[:, 0] + v[:, 1] * v[:, 1] + v[:, 2] * v[:, 2]
    rv = r[:, 0] * v[:, 0] + r[:, 1] * v[:, 1] + r[:, 2] * v[:, 2]
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(vv != 0.0, -rv / vv, 0.0)
    t = np.minimum(np.maximum(t, 0.0), horizon)
    p = r + v * t[:, None]
    d = np.sqrt(p[:, 0] * p[:, 0] + p[:, 1] * p[:, 1] + p[:, 2] * p[:, 2])
    return t, d


def closest_approach_to_sun(
    positions_pc: Any,
    velocities_kms: Any,
    *,
    backend: str = "numba",
    parallel: bool = True,
) -> SunEncounters:
    """Return every star's time (yr from now) and distance (pc) of nearest approach."""
    _inputs.backend(backend)
    positions = _inputs.vectors("positions_pc", positions_pc)
    velocities = _inputs.vectors("velocities_kms", velocities_kms)
    _inputs.same_length(positions_pc=positions, velocities_kms=velocities)
    if backend == "numpy":
        return SunEncounters(*_sun_numpy(positions, velocities, PC_PER_YR_PER_KMS))
    t = np.empty(positions.shape[0])
    d = np.empty(positions.shape[0])
    _sun_kernel.pick(parallel)(positions, velocities, PC_PER_YR_PER_KMS, t, d)
    return SunEncounters(t, d)


def search_radius_pc(
    velocities_kms: np.ndarray, horizon_yr: float, d_threshold_pc: float
) -> float:
    """Return the current separation beyond which no pair can meet in the window."""
    if velocities_kms.shape[0] == 0:
        return d_threshold_pc
    spread = velocities_kms - velocities_kms.mean(axis=0)
    largest = float(np.sqrt((spread * spread).sum(axis=1)).max())
    return 2.0 * largest * PC_PER_YR_PER_KMS * horizon_yr + d_threshold_pc


def candidate_pairs(
    positions_pc: np.ndarray, radius_pc: float
) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs (i < j, sorted) whose current separation is <= radius."""
    pairs = cKDTree(positions_pc).query_pairs(radius_pc, output_type="ndarray")
    pairs = pairs.astype(np.int64, copy=False).reshape(-1, 2)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


def close_pairs(
    positions_pc: Any,
    velocities_kms: Any,
    horizon_yr: float,
    d_threshold_pc: float,
    *,
    backend: str = "numba",
    parallel: bool = True,
) -> PairEncounters:
    """Return every pair of stars that passes within ``d_threshold_pc`` in the window.

    The window is ``[0, horizon_yr]`` years from now; ``t_min_yr`` is the time of
    least separation within it.
    """
    _inputs.backend(backend)
    positions = _inputs.vectors("positions_pc", positions_pc)
    velocities = _inputs.vectors("velocities_kms", velocities_kms)
    _inputs.same_length(positions_pc=positions, velocities_kms=velocities)
    horizon = _inputs.finite_scalar("horizon_yr", horizon_yr)
    if horizon <= 0.0:
        raise ValueError(
            f"horizon_yr: must be > 0 (negate the velocities for the past); "
            f"got {horizon}"
        )
    threshold = _inputs.finite_scalar("d_threshold_pc", d_threshold_pc)
    if threshold < 0.0:
        raise ValueError(f"d_threshold_pc: must be >= 0; got {threshold}")
    usable = np.flatnonzero(
        np.isfinite(positions).all(axis=1) & np.isfinite(velocities).all(axis=1)
    )
    pos, vel = positions[usable], velocities[usable]
    found = [_fast_star_pairs(pos, vel, horizon, threshold, backend, parallel)]
    slow = np.flatnonzero(~_fastest(vel))
    slabs = slab_count(vel[slow], horizon, threshold)
    length = horizon / slabs
    radius = search_radius_pc(vel[slow], length, threshold)
    for k in range(slabs):
        start = k * length
        at_start = pos + vel * (PC_PER_YR_PER_KMS * start)
        first, second = candidate_pairs(at_start[slow], radius)
        first, second = slow[first], slow[second]
        t, d = _pair_distances(at_start, vel, first, second, length, backend, parallel)
        keep = d <= threshold
        found.append((first[keep], second[keep], t[keep] + start, d[keep]))
    first, second, t, d = (np.concatenate(part) for part in zip(*found, strict=True))
    # The least distance per pair over its slabs, the earliest on a tie.
    order = np.lexsort((t, d, second, first))
    first, second, t, d = first[order], second[order], t[order], d[order]
    new_pair = np.ones(first.shape[0], dtype=bool)
    new_pair[1:] = (first[1:] != first[:-1]) | (second[1:] != second[:-1])
    first, second, t, d = first[new_pair], second[new_pair], t[new_pair], d[new_pair]
    return PairEncounters(usable[first], usable[second], t, d)


def _fastest(velocities: np.ndarray) -> np.ndarray:
    """Return a mask of the ``FAST_STARS`` stars fastest against the mean."""
    mask = np.zeros(velocities.shape[0], dtype=bool)
    if velocities.shape[0] > FAST_STARS:
        spread = np.linalg.norm(velocities - velocities.mean(axis=0), axis=1)
        mask[np.argsort(spread, kind="stable")[-FAST_STARS:]] = True
    return mask


def _pair_distances(positions, velocities, first, second, horizon, backend, parallel):
    """Return (t, d) of each listed pair's closest approach within [0, horizon]."""
    if backend == "numpy":
        return _pair_numpy(
            positions, velocities, first, second, PC_PER_YR_PER_KMS, horizon
        )
    t = np.empty(first.shape[0])
    d = np.empty(first.shape[0])
    _pair_kernel.pick(parallel)(
        positions, velocities, first, second, PC_PER_YR_PER_KMS, horizon, t, d
    )
    return t, d


def _fast_star_pairs(positions, velocities, horizon, threshold, backend, parallel):
    """Return the close pairs that involve one of the fastest stars, every pair."""
    n = positions.shape[0]
    fast = np.flatnonzero(_fastest(velocities))
    others = np.arange(n)
    first = np.repeat(fast, n)
    second = np.tile(others, fast.shape[0])
    # Each pair once, i < j (a fast-fast pair comes from the lower index alone).
    keep = first != second
    keep &= ~np.isin(second, fast) | (first < second)
    low, high = np.minimum(first, second)[keep], np.maximum(first, second)[keep]
    t, d = _pair_distances(positions, velocities, low, high, horizon, backend, parallel)
    close = d <= threshold
    return low[close], high[close], t[close], d[close]


def slab_count(velocities_kms: np.ndarray, horizon_yr: float, d_threshold_pc: float):
    """Return how many time slabs keep each slab's search radius small."""
    motion = search_radius_pc(velocities_kms, horizon_yr, 0.0)
    wanted = math.ceil(motion / max(d_threshold_pc, MIN_SLAB_MOTION_PC))
    return int(min(MAX_SLABS, max(1, wanted)))
