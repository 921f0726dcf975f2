"""Spatial sectors: cubes of space that near-queries and client tiles are cut into.

A near-query reads only the sectors its sphere touches, never the whole table.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

SECTOR_PC = 20.0


def sector_of(x: float, y: float, z: float) -> tuple[int, int, int]:
    """Integer sector coordinates of a point in parsecs."""
    return (
        math.floor(x / SECTOR_PC),
        math.floor(y / SECTOR_PC),
        math.floor(z / SECTOR_PC),
    )


def sector_key(build_id: str, sector: tuple[int, int, int]) -> str:
    """The `by_sector` index key of a sector within one build."""
    i, j, k = sector
    return f"{build_id}#{i}:{j}:{k}"


def _gap(value: float, low: float, high: float) -> float:
    if value < low:
        return low - value
    if value > high:
        return value - high
    return 0.0


def sectors_touching_sphere(
    centre: tuple[float, float, float], radius: float
) -> Iterator[tuple[int, int, int]]:
    """Every sector whose cube comes within `radius` of `centre`."""
    low = sector_of(*(c - radius for c in centre))
    high = sector_of(*(c + radius for c in centre))
    for i in range(low[0], high[0] + 1):
        for j in range(low[1], high[1] + 1):
            for k in range(low[2], high[2] + 1):
                gaps = [
                    _gap(c, n * SECTOR_PC, (n + 1) * SECTOR_PC)
                    for c, n in zip(centre, (i, j, k))
                ]
                if math.sqrt(sum(g * g for g in gaps)) <= radius:
                    yield (i, j, k)
