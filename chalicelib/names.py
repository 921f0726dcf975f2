"""Which search keys a system is indexed under: shared by the pipeline and the API.

The pipeline writes one names item per key; search recomputes a system's keys to
list each system once, at its first matching key, so both must use this module.
"""

from __future__ import annotations

from collections.abc import Iterator

from chalicelib import designations

SEARCH_PREFIX_CHARS = 2


def indexed_names(system: dict) -> Iterator[tuple[str, str]]:
    """(search key, display label) for every indexed name of a system, once each.

    HIP numbers are left out: search resolves them with a direct lookup. Inferred
    planets are left out too: their names are the model's, not the sky's.
    """
    labels = list(system.get("names", [])) + [system["name"]]
    labels += [p["name"] for p in system.get("planets", []) if not p.get("inferred")]
    seen: set[str] = set()
    for label in labels:
        if designations.parse_catalogue_id(label) and label.upper().startswith("HIP"):
            continue
        for key in sorted(designations.index_keys(label)):
            if len(key) < SEARCH_PREFIX_CHARS or key in seen:
                continue
            seen.add(key)
            yield key, label


def partition_key(build_id: str, key: str) -> str:
    """The names-table partition holding `key` in one build."""
    return f"{build_id}#{key[:SEARCH_PREFIX_CHARS]}"


# Brightness ranks: (V + 5) in hundredths of a magnitude, five digits; a system
# without V sorts last.
_RANK_OFFSET_MAG = 5.0
_RANK_LAST = 99_999


def brightness_rank(system: dict) -> str:
    """A sortable rank of a system's V magnitude: the brighter, the smaller."""
    vmag = system.get("vmag")
    if not isinstance(vmag, int | float) or vmag != vmag:
        return f"{_RANK_LAST:05d}"
    rank = round((vmag + _RANK_OFFSET_MAG) * 100)
    return f"{min(max(rank, 0), _RANK_LAST - 1):05d}"


def sort_key(key: str, system: dict) -> str:
    """The names-table sort key of one system's key.

    Systems sharing a key sort brightest first, so a name a primary and its
    companion share ("Sirius", "alpha Cen") answers with the primary; the id
    after the rank keeps the order total and stable.
    """
    return f"{key}#{brightness_rank(system)}#{system['system_id']}"
