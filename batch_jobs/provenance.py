"""Which source and rule gave each field of a system or planet, and who wins a tie.

Every system and planet record carries `provenance`: for each of its fields that
holds a value, `{"source": <source id>, "rule": <rule name>}`. Source ids are the
build's source roles (`hip_main`, `hip2`, `sscore_nearest`, `sscore_brightest`,
`d3_names`, `pscomppars_<year>`), plus `derived` (computed here from other
fields), `inference` (the planet model) and `solar_system` (the Sun's constants).

`FIELD_PRIORITY` is the declared order in which sources are trusted per field
where more than one has a value: the first source in the list that has one wins,
and the others are counted as conflicts where they disagree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from batch_jobs import stellar

DERIVED = "derived"
INFERENCE = "inference"
SOLAR_SYSTEM = "solar_system"
ASTROMETRY_SOURCES = ("hip_main", "hip2")
# `astrometry` is the build setting's release; the other comes second for stars
# the chosen release lacks.
FIELD_PRIORITY: dict[str, tuple[str, ...]] = {
    "astrometry": ("<astrometry setting>", "hip_main", "hip2"),
    "vmag": ("hip_main", "sscore_nearest", "sscore_brightest", "pscomppars"),
    "bv": ("hip_main", "sscore_nearest", "sscore_brightest"),
    "spectral_type": ("hip_main", "sscore_nearest", "sscore_brightest", "pscomppars"),
    "rv_kms": ("sscore_nearest", "sscore_brightest"),
    "name": ("d3_names", "sscore_nearest", "sscore_brightest", "hip_main"),
    "hd": ("hip_main", "d3_names", "sscore_nearest", "sscore_brightest"),
}
ASTROMETRY_FIELDS = ("ra_deg", "dec_deg", "parallax_mas", "pmra_mas_yr", "pmdec_mas_yr")
# Fields computed from others, whatever the sources: rule names.
DERIVED_RULES: dict[str, str] = {
    "parallax_over_error": "parallax-over-error",
    "dist_pc": "inverse-parallax",
    "x_pc": "galactic-cartesian",
    "y_pc": "galactic-cartesian",
    "z_pc": "galactic-cartesian",
    "abs_vmag": "distance-modulus",
    # The physics fields' usual rules; a star whose value came by another rule
    # (Teff from its spectral type, say) names that rule instead.
    "teff_k": stellar.TEFF_FROM_BV_RULE,
    "luminosity_lsun": "v-bolometric-correction-distance",
    "evolutionary_class": stellar.CLASS_FROM_TYPE_RULE,
    "mass_msun": stellar.MASS_MAIN_SEQUENCE_RULE,
    "radius_rsun": stellar.RADIUS_RULE,
    "u_kms": "space-velocity",
    "v_kms": "space-velocity",
    "w_kms": "space-velocity",
    "velocity": "radial-velocity-present",
    "names": "names-of-all-sources",
    "system_id": "id-from-catalogue-identifier",
}
# Not fields of the sky: the record's own bookkeeping.
_NOT_FIELDS = frozenset(
    {"provenance", "planets", "source", "derived", "known", "repairs"}
)
_PSCOMPPARS_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_ENTRIES: dict[tuple[str, str], dict[str, str]] = {}


def entry(source: str, rule: str) -> dict[str, str]:
    """The provenance entry of one field (one shared dict per pair: read-only)."""
    key = (source, rule)
    found = _ENTRIES.get(key)
    if found is None:
        found = _ENTRIES[key] = {"source": source, "rule": rule}
    return found


def exoplanet_source_id(path: Path | str) -> str:
    """`pscomppars_2024` for `nasa_pscomppars_2024-10-15.csv` (the year in the
    file name: the snapshot), `pscomppars` for a name without one."""
    found = _PSCOMPPARS_YEAR.search(Path(path).name.lower())
    return f"pscomppars_{found[1]}" if found else "pscomppars"


def rank(field: str, source: str, astrometry: str = "hip_main") -> int:
    """Position of `source` in the field's priority (lower wins; unlisted last)."""
    order = FIELD_PRIORITY[field]
    order = tuple(astrometry if s.startswith("<") else s for s in order)
    plain = "pscomppars" if source.startswith("pscomppars") else source
    return order.index(plain) if plain in order else len(order)


def complete(
    record: Mapping, given: Mapping[str, dict[str, str]], default: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Provenance of every field of `record` holding a value.

    `given` names the source of fields set by a merge rule; a field in
    `DERIVED_RULES` is derived; any other field came from `default`.
    """
    # A list comprehension: twice as fast as a generator here, run per star.
    present = tuple(
        [
            key
            for key, value in record.items()
            if value is not None and not (value.__class__ is list and not value)
        ]
    )
    out = _base(present, default["source"], default["rule"]).copy()
    for key, found in given.items():
        if found and key in out:
            out[key] = found
    return out


@functools.lru_cache(maxsize=4_096)
def _base(present: tuple[str, ...], source: str, rule: str) -> dict:
    """Provenance of the fields `present` before merge rules: derived or `default`.

    Records share a few sets of fields (every Hipparcos star one of a handful),
    so this is made once per set rather than once per record; callers copy it.
    """
    default = entry(source, rule)
    return {
        key: _DERIVED_ENTRIES.get(key) or default
        for key in present
        if key not in _NOT_FIELDS
    }


# The entry of each derived field, made once: `complete` runs for every star.
_DERIVED_ENTRIES = {key: entry(DERIVED, rule) for key, rule in DERIVED_RULES.items()}


def planet(record: Mapping, source: str, rule: str) -> dict[str, dict[str, str]]:
    """Provenance of a planet's fields: its source, `derived` for filled orbits."""
    derived = record.get("derived") or {}
    base = entry(source, rule)
    return {
        key: entry(DERIVED, derived[key]) if key in derived else base
        for key, value in record.items()
        if key not in _NOT_FIELDS
        and key not in ("inferred", "model_version")
        and value is not None
    }


def sources_named(provenance: Iterable[Mapping[str, str]]) -> set[str]:
    """The set of sources a provenance mapping's entries name."""
    return {item["source"] for item in provenance}
