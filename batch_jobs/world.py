"""Assemble the world from the source files: systems, planets and a quality report.

`assemble_world(paths)` reads every source (`batch_jobs.catalog`), places the
stars (`astrometry`), derives their physics (`stellar`), merges names, spectral
types and radial velocities onto the Hipparcos stars by HIP number, matches the
exoplanet hosts to stars (`crossmatch`), adds the hosts no star matched and the
Sun (`solar_system`), and returns a `World`: JSON-safe system records (no NaN or
infinity; a missing value is None, and a star without a positive parallax has no
`dist_pc`, `x_pc`, `y_pc`, `z_pc` keys) and a quality report with a count per rule.

Which Hipparcos release gives the astrometry (position, parallax, proper
motion) is the build setting `astrometry`: `hip_main` (1997) or `hip2` (2007,
van Leeuwen); a star the chosen release lacks keeps the other's. Everything
else of a Hipparcos star (V, B-V, HD, spectral type) is hip_main's: hip2 has
only Hp, no HD and no spectral types.

Sources are merged by catalogue identifier: SSCore rows and d3-celestial names
by HIP number; an SSCore row without one by its HD number, then by its Gliese
(GJ) number where d3-celestial gives a Hipparcos star that number (either only
when the V magnitudes agree, since components share numbers: Sirius B is HD
48915 too), then by position. HR numbers come from SSCore alone, so they key
only SSCore's own stars (`sscore_stars.system_id`). Where sources disagree,
`provenance.FIELD_PRIORITY` decides (display name: d3-celestial, SSCore Nearest,
SSCore Brightest; spectral type: Hipparcos, then SSCore; radial velocity: SSCore
Nearest, the curated 10 pc sample, then Brightest), and every system and planet
records per field which source and rule gave it under `provenance` (see
`batch_jobs.provenance`).

Besides the contract's keys a system carries `abs_vmag` (absolute V magnitude,
which sets its brightness in the star tile) and `provenance`.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from batch_jobs import (
    astrometry,
    catalog,
    crossmatch,
    hip2,
    provenance,
    quality,
    solar_system,
    sscore_stars,
    stellar,
    tiles,
)
from chalicelib import designations, habitable
from chalicelib.errors import SourceMissingError
from sim_kernels import galactic

logger = logging.getLogger(__name__)
_Quality = quality.QualityReport

SOURCE_ROLES = (
    "hip_main",
    "sscore_nearest",
    "sscore_brightest",
    "d3_names",
    "exoplanets",
)
HIPPARCOS_SOURCE = "hipparcos"
NASA_SOURCE = "nasa-exoplanet-archive"
RV_CONFLICT_KMS = 2.0

_SSCORE_ROLES = ("sscore_nearest", "sscore_brightest")
_POSITION_KEYS = ("dist_pc", "x_pc", "y_pc", "z_pc")
DAYS_PER_YEAR = 365.25
_VELOCITY_KEYS = ("u_kms", "v_kms", "w_kms")
_NO_EXTRA: dict = {}
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_VAR_PADDING = re.compile(r"^V0+(?=\d)")
_HD_TEXT = re.compile(r"HD\s*(\d+)")
_MERGE_RULE = {"hd": "hd-number", "gj": "gliese-number", "position": "position"}
HZ_RULE = "kopparapu2014-conservative-zone"
"""Provenance rule of a known planet's `in_hz` flag."""
_GJ_TEXT = re.compile(r"GJ\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{0,2})")
# The provenance every Hipparcos star's name and spectral type start from.
_NAMED_BY_HIP = provenance.entry("hip_main", "hip-number")
_SPECTRAL_TYPE_BY_HIP = provenance.entry("hip_main", "priority")
_PLANET_FLOATS = {
    "period_days": "pl_orbper",
    "semi_major_axis_au": "pl_orbsmax",
    "eccentricity": "pl_orbeccen",
    "mass_earth": "pl_bmasse",
    "radius_earth": "pl_rade",
}


@dataclass
class World:
    """One assembled world: system records and the quality report about them."""

    systems: list[dict]
    quality: dict[str, dict]
    crossmatch_result: crossmatch.CrossmatchResult | None = field(
        default=None, repr=False
    )

    @property
    def tile_ids(self) -> list[str]:
        """Return the system id of each star tile record, in tile order."""
        return [s["system_id"] for s in self._placed()]

    def tile(self, stars: Mapping[str, np.ndarray] | None = None) -> bytes:
        """Return the client's star tile: 16 bytes per system with a position.

        `stars` is this world's stars table (`columnar.star_table`) when the
        caller has made it: its columns hold the same floats as the records.
        """
        column = self._placed_column(stars)
        return tiles.encode_stars(
            column("x_pc"),
            column("y_pc"),
            column("z_pc"),
            column("teff_k"),
            column("abs_vmag"),
        )

    def tile_flags(self) -> bytes:
        """Return the flags tile: one byte a star, in tile order (`tiles.FLAG_*`)."""
        return tiles.encode_flags(self._placed())

    def tile_velocities(self, stars: Mapping[str, np.ndarray] | None = None) -> bytes:
        """Return the velocity tile: Galactic U, V, W as int16, in tile order.

        `stars` as for `tile`.
        """
        column = self._placed_column(stars)
        return tiles.encode_velocities(
            column("u_kms"), column("v_kms"), column("w_kms")
        )

    def tile_labels(self) -> list[list]:
        """Return the [[tile index, name], ...] of the stars the map labels."""
        return tiles.label_list(self._placed())

    def _placed(self) -> list[dict]:
        """Return the systems with x, y, z, in world order."""
        return [s for s in self.systems if s.get("x_pc") is not None]

    def _placed_column(
        self, stars: Mapping[str, np.ndarray] | None
    ) -> Callable[[str], np.ndarray]:
        """A function giving one float field of the placed systems, NaN where
        missing: from the stars table's columns when given, else the records."""
        if stars is not None:
            # A record's x_pc is a number or absent, never NaN: has_position
            # picks the systems `_placed` picks.
            placed = stars["has_position"]
            return lambda key: stars[key][placed]
        records = self._placed()
        # numpy turns None into NaN in a float64 array.
        return lambda key: np.array([s.get(key) for s in records], dtype=np.float64)


def source_roles(astrometry_release: str = "hip_main") -> tuple[str, ...]:
    """The source roles a world with the given astrometry setting reads."""
    if astrometry_release not in provenance.ASTROMETRY_SOURCES:
        raise ValueError(
            f"astrometry setting {astrometry_release!r} is unknown; use one of "
            f"{', '.join(provenance.ASTROMETRY_SOURCES)}"
        )
    return SOURCE_ROLES + (("hip2",) if astrometry_release == "hip2" else ())


def assemble_world(
    paths: Mapping[str, Path], astrometry_release: str = "hip_main"
) -> World:
    """Read every source named in `paths` and build the world from them.

    `astrometry_release` is the build setting naming the Hipparcos release whose
    positions, parallaxes and proper motions are used (`hip2` needs a `hip2` path).
    """
    started = time.perf_counter()
    roles = source_roles(astrometry_release)
    missing = [role for role in roles if role not in paths]
    if missing:
        raise SourceMissingError(
            f"no path given for source role(s) {', '.join(missing)}; "
            f"assemble_world needs {', '.join(roles)}"
        )
    sources = {role: Path(paths[role]) for role in roles}
    report = _Quality()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Hipparcos's gunzip lets go of the interpreter lock, so the other sources
        # are read meanwhile; its errors still come first, as if it were read first.
        reading = pool.submit(catalog.read_hipparcos_main, sources["hip_main"])
        try:
            new_reduction = (
                hip2.read_hip2(sources["hip2"]) if "hip2" in sources else None
            )
            sscore = {
                role: catalog.read_sscore(sources[role]) for role in _SSCORE_ROLES
            }
            d3 = catalog.read_d3_names(sources["d3_names"])
            planets = catalog.read_exoplanets(sources["exoplanets"])
        finally:
            hip = reading.result()
    # The validation rules drop unusable rows and repair values before any use.
    hip = quality.screen_hipparcos(hip, sources["hip_main"], report)
    if new_reduction is not None:
        new_reduction = quality.screen_hip2(new_reduction, sources["hip2"], report)
    sscore = {
        role: quality.screen_sscore(table, sources[role], role, report)
        for role, table in sscore.items()
    }
    planets = quality.screen_exoplanets(planets, sources["exoplanets"], report)
    exo_source = provenance.exoplanet_source_id(sources["exoplanets"])
    logger.debug("sources read in %.2f s", time.perf_counter() - started)
    stars = _Stars(hip, report, new_reduction)
    stars.merge_sscore(sscore, report, d3)
    stars.merge_d3(d3, report)
    stars.derive_physics(report)
    stars.collect_names()
    exo = _Exoplanets(planets, report, exo_source)
    hosts = exo.hosts()
    index = crossmatch.build_name_index(stars.names, [h.hostname for h in hosts])
    result = crossmatch.match_hosts(hosts, stars.match_columns(), index)
    _report_crossmatch(result, report)
    _report_hipparcos_reach(exo.table, stars, result, report)
    _report_hipparcos_survey(exo.table, result, report)
    systems = [_with_solar_provenance(solar_system.sol_system())]
    systems.extend(stars.systems(exo, result))
    own = stars.sscore_only_systems(sscore)
    _drop_borrowed_designations(own, systems, report)
    hosts_alone = _attach_to_sscore_stars(
        exo.unmatched_systems(result, report), own, report
    )
    systems.extend(own)
    systems.extend(hosts_alone)
    _flag_known_planets_in_zone(systems, report)
    _report_world(systems, report)
    logger.debug("world assembled in %.2f s", time.perf_counter() - started)
    return World(systems, report.rules, result)


_UNIQUE_CATALOGUES = frozenset({"hip", "hd", "hr"})
# Relative distance gap beyond which two stars cannot be components of one system.
BORROWED_DISTANCE_GAP = 0.2
_FLAMSTEED = re.compile(r"\d+ [a-z]{3}")


def _unique_designation(name: str) -> str | None:
    """The search key of a designation that names one star (HIP, HD, HR, Flamsteed)."""
    parsed = designations.parse_catalogue_id(name)
    if parsed is not None:
        return f"{parsed[0]} {parsed[1]}" if parsed[0] in _UNIQUE_CATALOGUES else None
    key = designations.normalise(name)
    return key if _FLAMSTEED.fullmatch(key) else None


def _borrowed(name: str, dist: float, holders: Mapping[str, list[float]]) -> bool:
    """Whether `name` is a designation only stars at another distance bear."""
    found = holders.get(_unique_designation(name) or "")
    return bool(found) and all(
        not abs(other - dist) <= BORROWED_DISTANCE_GAP * max(other, dist)
        for other in found
    )


def _drop_borrowed_designations(
    own: list[dict], placed: list[dict], quality: _Quality
) -> None:
    """Take from SSCore-only stars the designations of an unrelated catalogued star.

    SSCore lists a few stars under another star's identifiers: the M dwarf GJ 747 A
    (8.3 pc) as `17 Lyr` and `HR 7261`, which are HIP 93917's (44 pc). An HR, HD,
    HIP or Flamsteed designation names one star, or the components of one system
    (Sirius B shares Sirius A's HD number): a star whose distance differs by more
    than BORROWED_DISTANCE_GAP from every catalogued star bearing it loses it.
    """
    holders: dict[str, list[float]] = {}
    for system in placed:
        for name in system.get("names", ()):
            key = _unique_designation(name)
            if key:
                holders.setdefault(key, []).append(system.get("dist_pc") or math.nan)
    dropped = 0
    for system in own:
        dist = system.get("dist_pc")
        if not dist:
            continue
        kept = [n for n in system["names"] if not _borrowed(n, dist, holders)]
        dropped += len(system["names"]) - len(kept)
        if kept and _borrowed(system["name"], dist, holders):
            system["name"] = kept[0]
        system["names"] = kept
    quality.add(
        "sscore.borrowed_designations",
        dropped,
        "HIP, HD, HR or Flamsteed designations on an SSCore-only star that name a "
        "catalogued star at another distance, left to that star",
    )


def _with_solar_provenance(sun: dict) -> dict:
    """The Sun's record, each field (and each planet's) from the solar constants."""
    constants = provenance.entry(provenance.SOLAR_SYSTEM, "solar-constants")
    sun["provenance"] = provenance.complete(
        sun, dict.fromkeys(sun, constants), constants
    )
    for planet in sun["planets"]:
        planet["provenance"] = provenance.planet(
            planet, provenance.SOLAR_SYSTEM, "solar-constants"
        )
    return sun


class _Stars:
    """The Hipparcos stars with a position, their derived values and merged names."""

    def __init__(
        self,
        hip: dict[str, np.ndarray],
        quality: _Quality,
        new_reduction: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        placed = np.isfinite(hip["ra_deg"]) & np.isfinite(hip["dec_deg"])
        _, first = np.unique(hip["hip"], return_index=True)
        unique = np.zeros(len(placed), dtype=bool)
        unique[first] = True
        keep = placed & unique
        self.columns = {name: values[keep] for name, values in hip.items()}
        self.astrometry_release = "hip_main" if new_reduction is None else "hip2"
        self.from_hip2 = np.zeros(int(keep.sum()), dtype=bool)
        if new_reduction is not None:
            self._take_hip2_astrometry(new_reduction, quality)
        c = self.columns
        self.dist, self.xyz = astrometry.icrs_to_galactic(
            c["ra_deg"], c["dec_deg"], c["parallax_mas"]
        )
        error = c["parallax_error_mas"]
        with np.errstate(invalid="ignore", divide="ignore"):
            poe = np.where(error > 0, c["parallax_mas"] / error, np.nan)
        self.parallax_over_error = poe
        self.physics: stellar.Physics | None = None  # `derive_physics` sets it
        self.row_of = {h: i for i, h in enumerate(c["hip"].tolist())}
        self.names: dict[int, list[str]] = {}
        self.extra: dict[int, dict] = {}
        self.sscore_only: dict[str, list[int]] = {}
        _report_hipparcos(hip, placed, unique, self, quality)

    def derive_physics(self, quality: _Quality) -> None:
        """Derive every star's physics from its photometry and final spectral type.

        Run after the SSCore merge: a star Hipparcos gives no type takes
        SSCore's, which may give it a Teff and a class.
        """
        c = self.columns
        types = c["spectral_type"].tolist()
        for row, extra in self.extra.items():
            if not types[row] and "spectral_type" in extra:
                types[row] = extra["spectral_type"][0]
        self.physics = stellar.derive(c["bv"], c["vmag"], self.dist, types)
        _report_physics("hip", self.physics, quality)

    def _take_hip2_astrometry(
        self, table: Mapping[str, np.ndarray], quality: _Quality
    ) -> None:
        """Replace position, parallax and proper motion by hip2's, by HIP number.

        Both releases give ICRS positions at epoch J1991.25. A star hip2 lacks
        keeps hip_main's astrometry, and its provenance says so.
        """
        c = self.columns
        row_of = {h: i for i, h in enumerate(np.asarray(table["hip"]).tolist())}
        rows = np.array([row_of.get(h, -1) for h in c["hip"].tolist()], np.int64)
        found = rows >= 0
        for name in (*provenance.ASTROMETRY_FIELDS, "parallax_error_mas"):
            column = np.array(c[name], dtype=np.float64)
            column[found] = np.asarray(table[name], dtype=np.float64)[rows[found]]
            c[name] = column
        self.from_hip2 = found
        quality.add(
            "hip2.astrometry_used",
            int(found.sum()),
            "stars whose position, parallax and proper motion are hip2's",
        )
        quality.add(
            "hip2.not_in_hip2",
            int((~found).sum()),
            "stars hip2 lacks: hip_main's astrometry kept (provenance says so)",
        )

    def merge_sscore(
        self,
        tables: Mapping[str, dict],
        quality: _Quality,
        d3: Mapping[int, dict[str, str]] | None = None,
    ) -> None:
        """Merge SSCore identifiers, names, spectral types and RVs onto Hipparcos stars.

        By HIP number, else HD number, else Gliese number (as `d3` gives Hipparcos
        stars theirs), else position; see the module's docstring.
        """
        row_of_gj = self._rows_by_gliese(d3 or {})
        for role, table in tables.items():
            counts = {
                "merged": 0,
                "no_hip": 0,
                "hip_not_in_hipparcos": 0,
                "rv_conflict": 0,
            }
            rows = zip(
                table["hip"].tolist(),
                table["ids"],
                table["names"],
                table["spectral_type"],
                table["rv_kms"].tolist(),
                strict=True,
            )
            by_hd = self._find_by_identifier(table, self._rows_by_hd(), _hd_key)
            by_gj = self._find_by_identifier(
                table, row_of_gj, _gliese_key, exclude=set(by_hd.values())
            )
            by_number = {**by_gj, **by_hd}
            steps = {  # in the order they are tried
                "hd": by_hd,
                "gj": by_gj,
                "position": self._find_without_hip(table, exclude=set(by_number)),
            }
            counts.update({f"matched_by_{by}": 0 for by in steps})
            for index, (hip, ids, names, sptype, rv) in enumerate(rows):
                row = self.row_of.get(hip)
                how = "hip-number"
                if hip == catalog.NO_ID:
                    by = next((b for b, found in steps.items() if index in found), "")
                    row, how = steps[by].get(index) if by else None, _MERGE_RULE.get(by)
                    if row is None:
                        counts["no_hip"] += 1
                        self.sscore_only.setdefault(role, []).append(index)
                        continue
                    counts[f"matched_by_{by}"] += 1
                elif row is None:
                    counts["hip_not_in_hipparcos"] += 1
                    continue
                counts["merged"] += 1
                extra = self.extra.setdefault(row, {})
                extra.setdefault("proper", []).extend((n, role) for n in names)
                extra.setdefault("ids", []).extend(ids)
                extra.setdefault("id_roles", []).extend(role for _ in ids)
                extra.setdefault("merged_by", {})[role] = how
                if sptype:
                    _prefer(extra, "spectral_type", (sptype, role))
                if math.isfinite(rv):
                    held = extra.get("rv_kms")
                    _prefer(extra, "rv_kms", (rv, role))
                    if held is not None and abs(held[0] - rv) > RV_CONFLICT_KMS:
                        counts["rv_conflict"] += 1
            _report_sscore(role, len(table["hip"]), counts, quality)

    def _rows_by_hd(self) -> dict[str, int]:
        """Hipparcos rows by `HD n` key (built once)."""
        if not hasattr(self, "_row_of_hd"):
            hds = self.columns["hd"].tolist()
            self._row_of_hd = {f"HD {hd}": i for i, hd in enumerate(hds) if hd > 0}
        return self._row_of_hd

    def _rows_by_gliese(self, d3: Mapping[int, dict[str, str]]) -> dict[str, int]:
        """Hipparcos rows by Gliese key, from the GJ numbers d3-celestial gives them."""
        out: dict[str, int] = {}
        for hip, entry in d3.items():
            key, row = _gliese_key(entry.get("gl") or ""), self.row_of.get(hip)
            if key and row is not None:
                out[key] = row
        return out

    def _find_by_identifier(
        self,
        table: dict,
        row_of: Mapping[str, int],
        key_of: Callable[[str], str | None],
        exclude: set[int] = frozenset(),
    ) -> dict[int, int]:
        """SSCore rows without a HIP number found in Hipparcos by a catalogue number.

        Components of a double share an HD number (Sirius B is HD 48915 like
        Sirius A; GJ 15 A and B are both HD 1326), so the V magnitudes must agree
        within `sscore_stars.MATCH_MAX_DELTA_V`, and only one row may claim a star
        (none of the stars in `exclude`, claimed by an earlier step).
        """
        vmag = self.columns["vmag"]
        claims: dict[int, list[int]] = {}
        for index in np.flatnonzero(table["hip"] == catalog.NO_ID).tolist():
            for identifier in table["ids"][index]:
                key = key_of(identifier)
                row = row_of.get(key) if key else None
                if row is None or row in exclude:
                    continue
                v_sscore, v_hip = float(table["vmag"][index]), float(vmag[row])
                close = abs(v_sscore - v_hip) <= sscore_stars.MATCH_MAX_DELTA_V
                if close or not (math.isfinite(v_sscore) and math.isfinite(v_hip)):
                    claims.setdefault(row, []).append(index)
                break
        return {rows[0]: row for row, rows in claims.items() if len(rows) == 1}

    def _find_without_hip(
        self, table: dict, exclude: set[int] = frozenset()
    ) -> dict[int, int]:
        """SSCore rows without a HIP number that are Hipparcos stars, by position."""
        rows = np.flatnonzero(table["hip"] == catalog.NO_ID)
        rows = np.array([r for r in rows.tolist() if r not in exclude], np.int64)
        found = sscore_stars.match_to_hipparcos(table, rows, self.columns)
        return {int(r): int(h) for r, h in zip(rows, found, strict=True) if h >= 0}

    def sscore_only_systems(self, tables: Mapping[str, dict]) -> list[dict]:
        """Systems for the SSCore stars Hipparcos lacks; Nearest wins over Brightest."""
        out: dict[str, dict] = {}
        for role in _SSCORE_ROLES:
            rows = np.asarray(self.sscore_only.get(role, []), dtype=np.int64)
            for record in sscore_stars.systems(tables[role], rows, role):
                out.setdefault(record["system_id"], record)
        return list(out.values())

    def merge_d3(self, d3: Mapping[int, dict[str, str]], quality: _Quality) -> None:
        """Merge the d3-celestial proper names and designations by HIP number."""
        merged = 0
        for hip, entry in d3.items():
            row = self.row_of.get(hip)
            if row is not None:
                merged += 1
                self.extra.setdefault(row, {})["d3"] = entry
        quality.add("d3.entries", len(d3), "entries in the d3-celestial names file")
        quality.add("d3.merged", merged, "entries merged onto a Hipparcos star")
        quality.add(
            "d3.hip_not_in_hipparcos",
            len(d3) - merged,
            "entries whose HIP number has no Hipparcos star with a position",
        )

    def collect_names(self) -> None:
        """Build the name list and display name of every star with merged names."""
        hips, hds = self.columns["hip"], self.columns["hd"]
        for row, extra in self.extra.items():
            hd = int(hds[row]) if hds[row] > 0 else None
            names, display, source = _star_names(extra, int(hips[row]), hd)
            self.names[row] = names
            extra.update(names_list=names, display=display, name_source=source)

    def match_columns(self) -> crossmatch.StarColumns:
        """Return the columns the cross-match reads."""
        c = self.columns
        return crossmatch.StarColumns(
            hip=c["hip"],
            hd=c["hd"],
            ra_deg=c["ra_deg"],
            dec_deg=c["dec_deg"],
            pmra_mas_yr=c["pmra_mas_yr"],
            pmdec_mas_yr=c["pmdec_mas_yr"],
            parallax_mas=c["parallax_mas"],
            parallax_error_mas=c["parallax_error_mas"],
            vmag=c["vmag"],
        )

    def _velocities(self) -> tuple[np.ndarray, np.ndarray]:
        """Galactic U, V, W of every star; radial velocities come from SSCore."""
        c = self.columns
        rv = np.full(len(c["hip"]), np.nan)
        for row, extra in self.extra.items():
            if "rv_kms" in extra:
                rv[row] = extra["rv_kms"][0]
        _, uvw = galactic.to_galactic(
            c["ra_deg"], c["dec_deg"], c["parallax_mas"],
            c["pmra_mas_yr"], c["pmdec_mas_yr"], rv, astrometry.GALACTIC_FROM_ICRS,
            # Serial: the whole catalogue takes milliseconds, and the parallel
            # variant's first call would start Numba's thread pool as well.
            parallel=False,
        )  # fmt: skip
        if "speed_unphysical" in c:  # the quality rule withholds these velocities
            uvw[c["speed_unphysical"]] = np.nan
        return uvw, ~np.isfinite(rv)

    def systems(
        self, exo: _Exoplanets, result: crossmatch.CrossmatchResult
    ) -> list[dict]:
        """Return one system record per star, with its matched known planets."""
        hosts_of: dict[int, list[str]] = {}
        for hostname, match in result.matches.items():
            if match.star is not None:
                hosts_of.setdefault(match.star, []).append(hostname)
        c = self.columns
        physics = self.physics
        if physics is None:
            raise RuntimeError("derive_physics must run before systems()")
        values = {
            "ra_deg": c["ra_deg"].tolist(),
            "dec_deg": c["dec_deg"].tolist(),
            "parallax_mas": _json_list(c["parallax_mas"]),
            "parallax_over_error": _json_list(self.parallax_over_error, 2),
            "pmra_mas_yr": _json_list(c["pmra_mas_yr"]),
            "pmdec_mas_yr": _json_list(c["pmdec_mas_yr"]),
            "dist_pc": _json_list(self.dist, 4),
            "x_pc": _json_list(self.xyz[:, 0], 4),
            "y_pc": _json_list(self.xyz[:, 1], 4),
            "z_pc": _json_list(self.xyz[:, 2], 4),
            "vmag": _json_list(c["vmag"]),
            "bv": _json_list(c["bv"]),
            **_physics_values(physics),
        }
        uvw, no_rv = self._velocities()
        tangential_only = no_rv.tolist()
        for axis, key in enumerate(("u_kms", "v_kms", "w_kms")):
            values[key] = _json_list(uvw[:, axis], 3)
        hips, hds = c["hip"].tolist(), c["hd"].tolist()
        sptypes = c["spectral_type"].tolist()
        keys = tuple(values)
        out = []
        entry = provenance.entry
        astrometry_of = {
            True: entry("hip2", "astrometry-setting"),
            False: entry(
                "hip_main",
                "astrometry-setting"
                if self.astrometry_release == "hip_main"
                else "not-in-hip2",
            ),
        }
        catalogue = entry("hip_main", "catalogue")
        tangential_given = dict.fromkeys(
            _VELOCITY_KEYS, entry(provenance.DERIVED, "tangential-velocity-only")
        )
        # The astrometry fields' provenance, made once for each case.
        astrometry_given = {
            from_hip2: dict.fromkeys(provenance.ASTROMETRY_FIELDS, source)
            for from_hip2, source in astrometry_of.items()
        }
        from_hip2 = self.from_hip2.tolist()
        physics_given = _physics_provenance(physics)
        repairs = c["repairs"].tolist() if "repairs" in c else [None] * len(hips)
        rows = zip(hips, zip(*values.values(), strict=True), strict=True)
        for row, (hip, row_values) in enumerate(rows):
            hd = hds[row] if hds[row] > 0 else None
            extra = self.extra.get(row, _NO_EXTRA)
            record, given = _star_record(hip, hd, sptypes[row], extra)
            record.update(zip(keys, row_values, strict=True))
            given.update(astrometry_given[from_hip2[row]])
            given.update(physics_given[row])
            if tangential_only[row]:
                given.update(tangential_given)
            if record["dist_pc"] is None:
                for key in _POSITION_KEYS + _VELOCITY_KEYS:
                    del record[key]
            elif record["u_kms"] is None:
                for key in _VELOCITY_KEYS:
                    del record[key]
            else:
                record["velocity"] = (
                    "tangential-only" if tangential_only[row] else "full"
                )
            methods = []
            for hostname in hosts_of.get(row, ()):
                record["planets"].extend(exo.planets_of(hostname))
                record["names"] = _unique([*record["names"], hostname])
                methods.append(result.matches[hostname].method or "unknown")
            if repairs[row]:
                record["repairs"] = repairs[row]
            record["provenance"] = provenance.complete(record, given, catalogue)
            if methods:
                rule = "crossmatch-" + "+".join(sorted(set(methods)))
                record["provenance"]["planets"] = entry(exo.source, rule)
            out.append(record)
        return out


def _star_record(
    hip: int, hd: int | None, sptype: str | None, extra: dict
) -> tuple[dict, dict[str, dict[str, str]]]:
    """Build a Hipparcos system record's identity, names and merged fields.

    Returns the record and the provenance of the fields the merge set.
    """
    record = {
        "system_id": f"hip-{hip}",
        "name": extra.get("display") or f"HIP {hip}",
        "names": list(extra.get("names_list") or _catalogue_names(hip, hd)),
        "source": HIPPARCOS_SOURCE,
        "spectral_type": sptype,
        "rv_kms": None,
        "hip": hip,
        "hd": hd,
        "planets": [],
    }
    entry = provenance.entry
    given = {"name": _NAMED_BY_HIP}
    if sptype:
        given["spectral_type"] = _SPECTRAL_TYPE_BY_HIP
    if extra is _NO_EXTRA:
        return record, given
    if extra.get("hd_from_d3"):
        record["hd"] = extra["hd_from_d3"]
        given["hd"] = entry("d3_names", "identifier-by-hip")
    if not sptype and "spectral_type" in extra:
        record["spectral_type"], role = extra["spectral_type"]
        given["spectral_type"] = entry(role, "priority")
    if "rv_kms" in extra:
        record["rv_kms"], role = extra["rv_kms"]
        given["rv_kms"] = entry(role, "priority")
    if extra.get("name_source"):
        given["name"] = entry(*extra["name_source"])
    return record, given


def _prefer(extra: dict, field: str, candidate: tuple[object, str]) -> None:
    """Keep `candidate` (value, source) for `field` if its source ranks higher."""
    held = extra.get(field)
    if held is None or provenance.rank(field, candidate[1]) < provenance.rank(
        field, held[1]
    ):
        extra[field] = candidate


def _star_names(
    extra: dict, hip: int, hd: int | None
) -> tuple[list[str], str, tuple[str, str]]:
    """Return (names, display name, display name's source) of a merged star."""
    d3 = extra.get("d3") or {}
    constellation = d3.get("c", "")
    proper_roles = ([(d3["name"], "d3_names")] if d3.get("name") else []) + sorted(
        extra.get("proper", []), key=lambda pair: provenance.rank("name", pair[1])
    )
    proper = [name for name, _ in proper_roles]
    bayer = _designation(designations.bayer, d3.get("bayer"), constellation, greek=True)
    spelled = _designation(designations.bayer, d3.get("bayer"), constellation)
    flamsteed = _designation(designations.flamsteed, d3.get("flam"), constellation)
    variable = ""
    if d3.get("var") and constellation:
        variable = f"{_VAR_PADDING.sub('V', d3['var'])} {constellation}"
    ids = extra.get("ids", [])
    id_roles = dict(zip(ids, extra.get("id_roles", []), strict=False))
    sscore_gj = next((i for i in ids if i.startswith("GJ ")), "")
    gj = d3.get("gl") or sscore_gj
    sscore_bayer = next((i for i in ids if _is_bayer(i)), "")
    candidates = (
        (*(proper_roles[0] if proper else ("", "")), "proper-name"),
        (bayer, "d3_names", "bayer"),
        (sscore_bayer, id_roles.get(sscore_bayer, ""), "bayer"),
        (flamsteed, "d3_names", "flamsteed"),
        (gj, "d3_names" if d3.get("gl") else id_roles.get(gj, ""), "gliese-jahreiss"),
    )
    display, source = next(
        ((n, (s, rule)) for n, s, rule in candidates if n),
        (f"HIP {hip}", ("hip_main", "hip-number")),
    )
    if not hd and _hd_number(d3.get("hd")):
        hd = _hd_number(d3.get("hd"))
        extra["hd_from_d3"] = hd
    ordered = [
        *proper,
        bayer,
        spelled,
        flamsteed,
        variable,
        gj,
        *_catalogue_names(hip, hd),
        *ids,
    ]
    return _unique(ordered), display, source


def _designation(
    build: Callable[..., str], value: str | None, constellation: str, **options: bool
) -> str:
    """Return a designation's display form, or "" when a part is missing or bad."""
    if not value or not constellation:
        return ""
    try:
        return build(value, constellation, **options)
    except ValueError:
        return ""


def _is_bayer(identifier: str) -> bool:
    """True for an SSCore Bayer identifier such as `alpha1 Cen`."""
    parts = identifier.split()
    letter = parts[0].rstrip("0123456789").lower() if len(parts) == 2 else ""
    return letter in designations.GREEK_FORMS


def _catalogue_names(hip: int, hd: int | None) -> list[str]:
    """Return `HIP n` and, when known, `HD n`."""
    return [f"HIP {hip}"] + ([f"HD {hd}"] if hd else [])


def _hd_key(identifier: str) -> str | None:
    """`HD 48915` for any spacing of an HD identifier, else None."""
    match = _HD_TEXT.fullmatch(identifier)
    return f"HD {int(match[1])}" if match else None


def _gliese_key(identifier: str) -> str | None:
    """`GJ 820A` for any spacing of a Gliese identifier (d3 uses thin spaces)."""
    match = _GJ_TEXT.fullmatch(identifier.replace("\u2009", " ").strip())
    return f"GJ {match[1]}{match[2].upper()}" if match else None


def _hd_number(text: str | None) -> int | None:
    """Return the number of an `HD n` text, or None."""
    match = _HD_TEXT.fullmatch(text or "")
    return int(match.group(1)) if match else None


def _unique(names: Iterable[str]) -> list[str]:
    """Drop empty and repeated names (ignoring case and spacing), keeping order."""
    seen: set[str] = set()
    out = []
    for name in names:
        key = " ".join(name.casefold().split())
        if key and key not in seen:
            seen.add(key)
            out.append(name)
    return out


class _Exoplanets:
    """The planets of the NASA table grouped by host, and the hosts' own values."""

    def __init__(
        self, table: dict, quality: _Quality, source: str = "pscomppars"
    ) -> None:
        self.table = table
        self.source = source
        self.rows_of: dict[str, list[int]] = {}
        for i, host in enumerate(table["hostname"]):
            self.rows_of.setdefault(host, []).append(i)
        self.counts = {
            "period_derived": 0,
            "axis_derived": 0,
        }
        self.planets = {
            host: self._planets(rows) for host, rows in self.rows_of.items()
        }
        _report_exoplanets(self, quality)

    def _planets(self, rows: list[int]) -> list[dict]:
        """Return the planet records of one host's rows (`quality` screened them)."""
        return [self._planet(i) for i in rows]

    def _planet(self, i: int) -> dict:
        """Return one planet record; missing values are None."""
        record: dict = {
            "name": self.table["pl_name"][i],
            "known": True,
            "inferred": False,
        }
        for key, column in _PLANET_FLOATS.items():
            record[key] = _number(self.table[column][i])
        self._complete_orbit(record, float(self.table["st_mass"][i]))
        record["source"] = NASA_SOURCE
        repairs = self.table.get("repairs")
        if repairs is not None and repairs[i]:
            record["repairs"] = repairs[i]
        record["provenance"] = provenance.planet(record, self.source, "catalogue")
        return record

    def _complete_orbit(self, record: dict, star_mass_msun: float) -> None:
        """Fill a missing period or semi-major axis by Kepler's third law.

        P^2 = a^3 / M (years, AU, solar masses; the planet's mass is neglected).
        The filled field is listed under `derived` so it never passes as measured.
        """
        if not math.isfinite(star_mass_msun) or star_mass_msun <= 0:
            return
        period, axis = record["period_days"], record["semi_major_axis_au"]
        if period is None and axis is not None:
            years = math.sqrt(axis**3 / star_mass_msun)
            record["period_days"] = round(years * DAYS_PER_YEAR, 6)
            record["derived"] = {"period_days": "kepler-third-law"}
            self.counts["period_derived"] += 1
        elif axis is None and period is not None:
            years = period / DAYS_PER_YEAR
            record["semi_major_axis_au"] = round(
                (star_mass_msun * years**2) ** (1 / 3), 6
            )
            record["derived"] = {"semi_major_axis_au": "kepler-third-law"}
            self.counts["axis_derived"] += 1

    def planets_of(self, hostname: str) -> list[dict]:
        """Return the known planets of a host."""
        return self.planets.get(hostname, [])

    def host_value(self, hostname: str, column: str) -> float | str | None:
        """Return the first known value of a host column among its planets' rows."""
        values = self.table[column]
        for i in self.rows_of[hostname]:
            value = values[i]
            if isinstance(value, str) or (value is not None and math.isfinite(value)):
                return value
        return None if column in catalog.EXOPLANET_TEXT_COLUMNS else math.nan

    def hosts(self) -> list[crossmatch.Host]:
        """Return every host with the values the cross-match compares."""
        return [
            crossmatch.Host(
                hostname=host,
                ra_deg=float(self.host_value(host, "ra")),
                dec_deg=float(self.host_value(host, "dec")),
                dist_pc=float(self.host_value(host, "sy_dist")),
                vmag=float(self.host_value(host, "sy_vmag")),
            )
            for host in self.rows_of
        ]

    def unmatched_systems(
        self, result: crossmatch.CrossmatchResult, quality: _Quality
    ) -> list[dict]:
        """Return one system per host that no star matched, from the table's values."""
        hosts = sorted(h for h in self.rows_of if result.star_of(h) is None)
        ids, collisions = _system_ids(hosts)
        quality.add(
            "nasa.system_id_collision",
            collisions,
            "unmatched hosts whose id slug was taken (a -2, -3 suffix added)",
        )
        column = {
            c: np.array([self.host_value(h, c) for h in hosts], dtype=np.float64)
            for c in (
                "ra", "dec", "sy_dist", "sy_vmag", "st_teff", "st_rad", "st_mass"
            )
        }  # fmt: skip
        dist = np.where(column["sy_dist"] > 0, column["sy_dist"], np.nan)
        xyz = astrometry.galactic_xyz(column["ra"], column["dec"], dist)
        lum = stellar.luminosity_from_radius(column["st_rad"], column["st_teff"])
        abs_v = stellar.absolute_magnitude(column["sy_vmag"], dist)
        types = stellar.parse_spectral_types(
            [self.host_value(h, "st_spectype") for h in hosts]
        )
        classes, class_rules = stellar.classify(types, abs_v, column["st_teff"])
        # The table's mass where it gives one, else the main sequence's for a
        # dwarf (the one relation the stars use too).
        measured = np.isfinite(column["st_mass"]) & (column["st_mass"] > 0)
        ms_mass = np.where(
            classes == "dwarf", stellar.main_sequence_mass(abs_v, lum), np.nan
        )
        self._host_rules = [
            {
                "evolutionary_class": rule,
                "mass_msun": "" if has_mass else stellar.MASS_MAIN_SEQUENCE_RULE,
            }
            for rule, has_mass in zip(
                class_rules.tolist(), measured.tolist(), strict=True
            )
        ]
        values = {
            "ra_deg": _json_list(column["ra"]),
            "dec_deg": _json_list(column["dec"]),
            "dist_pc": _json_list(np.where(np.isfinite(xyz[:, 0]), dist, np.nan), 4),
            "x_pc": _json_list(xyz[:, 0], 4),
            "y_pc": _json_list(xyz[:, 1], 4),
            "z_pc": _json_list(xyz[:, 2], 4),
            "vmag": _json_list(column["sy_vmag"]),
            "abs_vmag": _json_list(
                stellar.absolute_magnitude(column["sy_vmag"], dist), 3
            ),
            "teff_k": _json_list(column["st_teff"], 0),
            "luminosity_lsun": _json_list(_round_significant(lum, 4)),
            "evolutionary_class": classes.tolist(),
            "mass_msun": _json_list(
                np.where(measured, column["st_mass"], _round_significant(ms_mass, 3))
            ),
            "radius_rsun": _json_list(column["st_rad"]),
        }
        return [
            self._host_system(i, host, system_id, values, result)
            for i, (host, system_id) in enumerate(zip(hosts, ids, strict=True))
        ]

    def _host_system(
        self,
        i: int,
        host: str,
        system_id: str,
        values: Mapping[str, list],
        result: crossmatch.CrossmatchResult,
    ) -> dict:
        """Build the system record of an unmatched host from its table values."""
        parsed = result.matches[host].catalogue_id
        number = parsed[1] if parsed and parsed[1].isdigit() else None
        record = {
            "system_id": system_id,
            "name": host,
            "names": [host],
            "source": NASA_SOURCE,
            "parallax_mas": None,
            "parallax_over_error": None,
            **{key: column[i] for key, column in values.items()},
            "bv": None,
            "spectral_type": self.host_value(host, "st_spectype"),
            "rv_kms": None,
            "hip": int(number) if number and parsed[0] == "hip" else None,
            "hd": int(number) if number and parsed[0] == "hd" else None,
            "planets": list(self.planets_of(host)),
        }
        if record["dist_pc"] is None:
            for key in _POSITION_KEYS:
                del record[key]
        columns = provenance.entry(self.source, "host-columns")
        given = dict.fromkeys(
            ("dist_pc", "teff_k", "name", "names", "mass_msun", "radius_rsun"),
            columns,
        )
        for key, rule in self._host_rules[i].items():
            if rule:
                given[key] = provenance.entry(provenance.DERIVED, rule)
        given["luminosity_lsun"] = provenance.entry(
            provenance.DERIVED, "radius-teff-stefan-boltzmann"
        )
        for key in ("hip", "hd"):
            given[key] = provenance.entry(provenance.DERIVED, "host-name-designation")
        given["system_id"] = provenance.entry(provenance.DERIVED, "slug-of-host-name")
        record["provenance"] = provenance.complete(record, given, columns)
        return record


def nasa_system_id(hostname: str) -> str:
    """Return the stable id of a host known only from the exoplanet table."""
    ascii_name = unicodedata.normalize("NFKD", hostname).encode("ascii", "ignore")
    slug = _SLUG_JUNK.sub("-", ascii_name.decode().lower()).strip("-")
    return f"nasa-{slug or 'unnamed'}"


def _system_ids(hosts: Iterable[str]) -> tuple[list[str], int]:
    """Return the system id of each host in order, suffixing repeated slugs."""
    taken: set[str] = set()
    ids, collisions = [], 0
    for host in hosts:
        slug = nasa_system_id(host)
        if slug in taken:
            collisions += 1
            n = 2
            while f"{slug}-{n}" in taken:
                n += 1
            slug = f"{slug}-{n}"
        taken.add(slug)
        ids.append(slug)
    return ids, collisions


def _number(value: object, digits: int | None = None) -> float | None:
    """Return a finite float (rounded when asked), None for missing or non-finite."""
    if value is None:
        return None
    number = float(value)
    if not math.isfinite(number):
        return None
    return round(number, digits) if digits is not None else number


def _json_list(values: np.ndarray, digits: int | None = None) -> list[float | None]:
    """Return floats as a list (rounded when asked) with None for NaN or infinity."""
    array = np.asarray(values, dtype=np.float64)
    rounded = np.round(array, digits) if digits is not None else array
    out = rounded.astype(object)
    out[~np.isfinite(array)] = None
    return out.tolist()


def _round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round positive values to a number of significant digits, keeping NaN."""
    array = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        exponent = np.floor(np.log10(np.abs(array)))
    scale = np.where(np.isfinite(exponent), 10.0 ** (digits - 1 - exponent), 1.0)
    return np.round(array * scale) / scale


def _report_hipparcos(
    hip: dict[str, np.ndarray],
    placed: np.ndarray,
    unique: np.ndarray,
    stars: _Stars,
    quality: _Quality,
) -> None:
    """Add the Hipparcos rules to the quality report."""
    poe = stars.parallax_over_error
    add = quality.add
    add(
        "hip.distance_assigned",
        int(np.isfinite(stars.dist).sum()),
        "stars given distance 1000/parallax and x, y, z",
    )
    for limit in (5, 3, 1):
        add(
            f"hip.parallax_over_error_above_{limit}",
            int((poe > limit).sum()),
            f"stars whose parallax exceeds {limit} times its standard error",
        )
    add(
        "hip.vmag_missing", int(np.isnan(hip["vmag"]).sum()), "rows without V magnitude"
    )
    add("hip.bv_missing", int(np.isnan(hip["bv"]).sum()), "rows without B-V")
    bv = stars.columns["bv"]
    add(
        "hip.bv_out_of_range",
        int((np.isfinite(bv) & np.isnan(stellar.teff_from_bv(bv))).sum()),
        f"stars whose B-V lies outside {stellar.BV_RANGE}: no Teff from colour",
    )
    add(
        "hip.spectral_type_missing",
        sum(s is None for s in hip["spectral_type"]),
        "rows without spectral type",
    )


# The provenance of each physics rule, made once (`_physics_provenance`).
_PHYSICS_FIELDS = {
    "teff_rule": "teff_k",
    "class_rule": "evolutionary_class",
    "mass_rule": "mass_msun",
}
_PHYSICS_ENTRIES = {
    rule: provenance.entry(provenance.DERIVED, rule)
    for rule in (
        stellar.TEFF_FROM_BV_RULE,
        stellar.TEFF_FROM_TYPE_RULE,
        stellar.TEFF_FROM_WHITE_DWARF_RULE,
        stellar.CLASS_FROM_TYPE_RULE,
        stellar.CLASS_FROM_MAGNITUDE_RULE,
        stellar.MASS_MAIN_SEQUENCE_RULE,
        stellar.MASS_WHITE_DWARF_RULE,
    )
}


def _physics_values(physics: stellar.Physics) -> dict[str, list]:
    """The physics fields of system records, one list per field (None missing)."""
    return {
        "abs_vmag": _json_list(physics.abs_vmag, 3),
        "teff_k": _json_list(physics.teff_k, 0),
        "luminosity_lsun": _json_list(_round_significant(physics.luminosity_lsun, 4)),
        "evolutionary_class": physics.evolutionary_class.tolist(),
        "mass_msun": _json_list(_round_significant(physics.mass_msun, 3)),
        "radius_rsun": _json_list(_round_significant(physics.radius_rsun, 3)),
    }


def _physics_provenance(physics: stellar.Physics) -> list[dict[str, dict]]:
    """Per star, the provenance of its physics fields whose rule is not the
    default of `provenance.DERIVED_RULES` (most stars share one small dict)."""
    columns = [
        (field, getattr(physics, name).tolist())
        for name, field in _PHYSICS_FIELDS.items()
    ]
    shared: dict[tuple, dict] = {}
    out = []
    for rules in zip(*(values for _, values in columns), strict=True):
        found = shared.get(rules)
        if found is None:
            found = shared[rules] = {
                field: _PHYSICS_ENTRIES[rule]
                for (field, _), rule in zip(columns, rules, strict=True)
                if rule and rule != provenance.DERIVED_RULES.get(field)
            }
        out.append(found)
    return out


def _report_physics(prefix: str, physics: stellar.Physics, quality: _Quality) -> None:
    """Add the counts of the stellar physics of one set of stars to the report."""
    add = quality.add
    rule = physics.teff_rule
    add(
        f"{prefix}.teff_derived",
        int(np.isfinite(physics.teff_k).sum()),
        "stars with a Teff (from B-V, else from the spectral type)",
    )
    add(
        f"{prefix}.teff_from_spectral_type",
        int(
            (rule == stellar.TEFF_FROM_TYPE_RULE).sum()
            + (rule == stellar.TEFF_FROM_WHITE_DWARF_RULE).sum()
        ),
        "stars whose Teff came from the spectral type (Pecaut & Mamajek 2013"
        " dwarf scale; a white dwarf's temperature index)",
    )
    add(
        f"{prefix}.luminosity_derived",
        int(np.isfinite(physics.luminosity_lsun).sum()),
        "stars with luminosity from V, distance and BC(Teff) (Flower/Torres)",
    )
    classes = physics.evolutionary_class
    for name in stellar.EVOLUTIONARY_CLASSES:
        add(
            f"{prefix}.class_{name.replace('-', '_')}",
            int((classes == name).sum()),
            f"stars classed {name} (from the luminosity class, else from M_V)",
        )
    add(
        f"{prefix}.class_from_magnitude",
        int((physics.class_rule == stellar.CLASS_FROM_MAGNITUDE_RULE).sum()),
        "stars classed by M_V against the main sequence (no luminosity class)",
    )
    add(
        f"{prefix}.mass_derived",
        int(np.isfinite(physics.mass_msun).sum()),
        "stars with a mass (dwarfs by the main sequence, white dwarfs 0.6 Msun)",
    )


def _report_sscore(
    role: str, rows: int, counts: Mapping[str, int], quality: _Quality
) -> None:
    """Add one SSCore file's merge counts to the quality report."""
    prefix = role.replace("_", ".")
    descriptions = {
        "merged": "rows merged onto a Hipparcos star (by HIP, HD or GJ number, or"
        " position)",
        "matched_by_hd": "rows without a HIP number found in Hipparcos by HD"
        " number (with V agreeing within 1 mag)",
        "matched_by_gj": "rows without a HIP number found in Hipparcos by the"
        " Gliese number d3-celestial gives the star (with V agreeing within 1 mag)",
        "matched_by_position": "rows without a HIP number found in Hipparcos by"
        " J2000 position and V magnitude",
        "no_hip": "rows without a HIP number that Hipparcos lacks: systems of their"
        " own, every field from SSCore",
        "hip_not_in_hipparcos": (
            "rows whose HIP number has no Hipparcos star with a position"
        ),
        "rv_conflict": f"radial velocities differing by more than {RV_CONFLICT_KMS} "
        "km/s from a higher-priority source for the same star",
    }
    for key, description in descriptions.items():
        quality.add(f"{prefix}.{key}", counts[key], description)


def _report_exoplanets(exo: _Exoplanets, quality: _Quality) -> None:
    """Add the exoplanet-table rules to the quality report."""
    table, add = exo.table, quality.add
    add("exo.hosts", len(exo.rows_of), "distinct host names")
    add(
        "exo.period_derived",
        exo.counts["period_derived"],
        "planets whose period was missing: derived from a and the star's mass"
        " (Kepler's third law), marked derived",
    )
    add(
        "exo.axis_derived",
        exo.counts["axis_derived"],
        "planets whose semi-major axis was missing: derived from the period and"
        " the star's mass (Kepler's third law), marked derived",
    )
    add(
        "exo.position_missing",
        int(np.isnan(table["ra"]).sum()),
        "rows without ra/dec (matched by name only, else no position)",
    )
    add(
        "exo.distance_missing",
        int(np.isnan(table["sy_dist"]).sum()),
        "rows without sy_dist",
    )
    add(
        "exo.semi_major_axis_missing",
        int(np.isnan(table["pl_orbsmax"]).sum()),
        "planets without a semi-major axis",
    )
    add(
        "exo.eccentricity_missing",
        int(np.isnan(table["pl_orbeccen"]).sum()),
        "planets without an eccentricity",
    )


def _report_crossmatch(result: crossmatch.CrossmatchResult, quality: _Quality) -> None:
    """Add the cross-match counts per method to the quality report."""
    descriptions = {
        "hosts": "distinct exoplanet hosts to match",
        "name": "hosts matched to a Hipparcos star by name or designation",
        "position": "hosts matched by position (with V and distance agreeing)",
        "ambiguous": "hosts with more than one acceptable star (the nearest taken)",
        "unmatched_hosts": "hosts with no Hipparcos star: systems of their own",
        "name_rejected_by_position": (
            "hosts whose name-matched star lay too far away (position tried next)"
        ),
        "position_rejected_by_photometry": (
            "hosts with a star nearby whose V or distance disagreed"
        ),
        "shared_star": "Hipparcos stars matched by more than one host name",
    }
    for key, description in descriptions.items():
        quality.add(
            f"crossmatch.{key}",
            result.counts.get(key, 0),
            description,
            result.examples.get(key),
        )


_HIP_NAMED = re.compile(r"^HIP\s*(\d+)\b")


def hip_number_named(hip_name: str | None, hostname: str) -> int | None:
    """The HIP number a planet's row names: its `hip_name`, else its host name."""
    for text in (hip_name, hostname):
        found = _HIP_NAMED.match(text or "")
        if found:
            return int(found[1])
    return None


def _report_hipparcos_reach(
    table: Mapping, stars: _Stars, result: crossmatch.CrossmatchResult, quality
) -> None:
    """How many planets whose host lies within Hipparcos' reach found that star.

    Within reach: the planet's row names a HIP number (`hip_name`, else a host
    name `HIP n`) of a star in the Hipparcos catalogue used. Matched: its host
    was matched, unambiguously, to exactly that star.
    """
    hip_of = stars.columns["hip"]
    within = matched = 0
    wrong: list[str] = []
    missed: list[str] = []
    names = zip(table["pl_name"], table["hostname"], table["hip_name"], strict=True)
    for planet, host, hip_name in names:
        number = hip_number_named(hip_name, host)
        if number is None or number not in stars.row_of:
            continue
        within += 1
        match = result.matches.get(host)
        if match is None or match.star is None:
            missed.append(planet)
        elif int(hip_of[match.star]) != number or match.ambiguous:
            wrong.append(planet)
        else:
            matched += 1
    quality.add(
        "crossmatch.hip_reach_planets",
        within,
        "planets whose row names a HIP number (hip_name, else a host name"
        " `HIP n`) of a star in the Hipparcos catalogue used",
    )
    quality.add(
        "crossmatch.hip_reach_matched",
        matched,
        "of those, planets whose host was matched to exactly that star",
    )
    share = matched / within if within else None
    quality.rules["crossmatch.hip_reach_matched"]["share"] = (
        None if share is None else round(share, 4)
    )
    quality.add(
        "crossmatch.hip_reach_other_star",
        len(wrong),
        "of those, planets whose host was matched to another star or ambiguously",
        wrong,
    )
    quality.add(
        "crossmatch.hip_reach_unmatched",
        len(missed),
        "of those, planets whose host no star matched",
        missed,
    )


# The Hipparcos Survey is complete to V = 7.3 + 1.1 |sin b| for every spectral
# type (7.9 + 1.1 |sin b| for types earlier than G5): the Survey's definition in
# ESA 1997, The Hipparcos and Tycho Catalogues, SP-1200, vol. 1.
SURVEY_V_BASE = 7.3
SURVEY_V_SLOPE = 1.1


def _report_hipparcos_survey(
    table: Mapping, result: crossmatch.CrossmatchResult, quality
) -> None:
    """How many planets of hosts the Hipparcos Survey holds found exactly one star.

    A host with a position and V at most 7.3 + 1.1 |sin b| lies within the
    Survey's completeness limit, so Hipparcos observed it: its planets must be
    matched, unambiguously, to one star of the world.
    """
    ra = np.asarray(table["ra"], dtype=np.float64)
    dec = np.asarray(table["dec"], dtype=np.float64)
    vmag = np.asarray(table["sy_vmag"], dtype=np.float64)
    sin_b = np.abs(astrometry.galactic_xyz(ra, dec, np.ones_like(ra))[:, 2])
    with np.errstate(invalid="ignore"):
        bright = vmag <= SURVEY_V_BASE + SURVEY_V_SLOPE * sin_b
    within = matched = 0
    missed: list[str] = []
    for planet, host in zip(
        np.asarray(table["pl_name"], dtype=object)[bright],
        np.asarray(table["hostname"], dtype=object)[bright],
        strict=True,
    ):
        within += 1
        match = result.matches.get(host)
        if match is not None and match.star is not None and not match.ambiguous:
            matched += 1
        else:
            missed.append(f"{planet} ({host})")
    quality.add(
        "crossmatch.hip_survey_planets",
        within,
        "planets whose host is brighter than the Hipparcos Survey's completeness "
        "limit, V <= 7.3 + 1.1 |sin b|",
    )
    quality.add(
        "crossmatch.hip_survey_matched",
        matched,
        "of those, planets whose host was matched to exactly one star",
    )
    quality.rules["crossmatch.hip_survey_matched"]["share"] = (
        round(matched / within, 4) if within else None
    )
    quality.add(
        "crossmatch.hip_survey_unmatched",
        len(missed),
        "of those, planets whose host no star or more than one star matched",
        missed,
    )


def _attach_to_sscore_stars(
    host_systems: list[dict], own: list[dict], quality: _Quality
) -> list[dict]:
    """Give planets of hosts Hipparcos lacks to the SSCore star of the same name.

    Returns the host systems that no SSCore star claimed (they stay on their own).
    """
    by_key: dict[str, dict] = {}
    for record in own:
        for label in record["names"]:
            for key in designations.index_keys(label):
                by_key.setdefault(key, record)
    alone, claimed = [], []
    for host in host_systems:
        keys = {k for label in host["names"] for k in designations.index_keys(label)}
        star = next((by_key[k] for k in sorted(keys) if k in by_key), None)
        if star is None:
            alone.append(host)
            continue
        star["planets"].extend(host["planets"])
        star["names"] = _unique([*star["names"], *host["names"]])
        claimed.append(host["name"])
    quality.add(
        "crossmatch.sscore_name",
        len(claimed),
        "hosts Hipparcos lacks, matched by name to an SSCore-only star",
        claimed,
    )
    return alone


_HZ_FLAG = provenance.entry(provenance.DERIVED, HZ_RULE)


def _flag_known_planets_in_zone(systems: list[dict], quality: _Quality) -> None:
    """Give every known planet `in_hz`, by the rule the inferred ones follow.

    True when its semi-major axis lies within its host's conservative
    Kopparapu et al. 2014 edges (runaway to maximum greenhouse), None where
    the zone is undefined (no axis, no luminosity, Teff outside 2600-7200 K).
    """
    inside = outside = 0
    for system in systems:
        lum, teff = system.get("luminosity_lsun"), system.get("teff_k")
        for planet in system["planets"]:
            flag = habitable.in_conservative_zone(
                planet.get("semi_major_axis_au"), lum, teff
            )
            planet["in_hz"] = flag
            if flag is not None:
                planet["provenance"]["in_hz"] = _HZ_FLAG
                inside += flag
                outside += not flag
    quality.add(
        "world.known_planets_in_hz",
        inside,
        "known planets inside their host's conservative habitable zone",
    )
    quality.add(
        "world.known_planets_outside_hz",
        outside,
        "known planets outside it (the others have no zone: no semi-major axis,"
        " luminosity, or Teff within 2600-7200 K)",
    )


def _report_world(systems: list[dict], quality: _Quality) -> None:
    """Add the totals of the assembled world to the quality report."""
    add = quality.add
    add("world.systems", len(systems), "systems in the world, the Sun included")
    add(
        "world.systems_with_distance",
        sum(s.get("x_pc") is not None for s in systems),
        "systems with a distance and x, y, z (the star tile)",
    )
    add(
        "world.nasa_systems",
        sum(s["source"] == NASA_SOURCE for s in systems),
        "systems built from the exoplanet table alone",
    )
    add(
        "world.systems_with_planets",
        sum(bool(s["planets"]) for s in systems),
        "systems with at least one known planet",
    )
    add(
        "world.known_planets",
        sum(len(s["planets"]) for s in systems),
        "known planets in the world, the Sun's included",
    )
    add(
        "world.velocity_full",
        sum(s.get("velocity") == "full" for s in systems),
        "stars with a full space velocity (U, V, W from proper motion, parallax"
        " and a radial velocity)",
    )
    add(
        "world.velocity_tangential_only",
        sum(s.get("velocity") == "tangential-only" for s in systems),
        "stars without a radial velocity: U, V, W hold the tangential motion only",
    )
