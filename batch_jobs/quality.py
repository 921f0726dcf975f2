"""Validation rules over the source rows, the quality report, and its limits.

Each rule has a name (`<source>.<rule>`), a sentence saying what it counts, and
the action taken on a row it flags: `kept out` (the row does not enter the
world), `repaired: ...` (the offending value is dropped and the row kept), or
`counted` (nothing is changed; the count informs). A flagged rule records its
count, the rows of its source and a few sample rows (file, line, identifier and
the offending values) in the quality report.

A build's `quality_limits` give, per rule, the largest fraction of the source's
rows the rule may flag; `judge` marks every limited rule passed or failed and
returns the reasons of a build that crossed a limit (such a build fails and is
never published). `render_html` turns a report into its page.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from batch_jobs import templates
from batch_jobs.catalog import NO_ID
from chalicelib.errors import ConfigurationError

logger = logging.getLogger(__name__)

SAMPLES_PER_RULE = 5
KEPT_OUT = "kept out"
COUNTED = "counted"

# Plausible ranges. Sirius (V -1.46) is the brightest star; Hipparcos saw
# nothing fainter than V ~14.1, while SSCore's nearest white and brown dwarfs
# reach V ~19 and exoplanet hosts found by microlensing or imaging are fainter.
V_RANGE = {"hip_main": (-2.0, 15.0), "sscore": (-2.0, 25.0), "exoplanets": (-2.0, 30.0)}
# The reddest carbon stars reach B-V ~5.5; no star is bluer than about -0.4.
BV_RANGE = (-0.6, 6.0)
# No star is closer than Proxima Centauri (768 mas); 1000 mas is 1 pc.
MAX_PARALLAX_MAS = 1000.0
# A star faster than the Galactic escape speed near the Sun (~550 km/s, Piffl et
# al. 2014) is not bound; a tangential speed above this limit says the distance
# (usually a parallax within its error of zero) is wrong, not the star.
MAX_SPEED_KMS = 600.0
KMS_PER_MAS_YR_AT_1_KPC = 4.740470  # km/s of 1 mas/yr at 1 kpc (1 AU/yr)
# The exoplanet archive's own inclusion limit is 30 Jupiter masses (a little room
# is left for its rounding: HR 2562 b is listed at 30.0002). Young planets still
# contracting reach about 3 Jupiter radii (GQ Lup b, 33.6 Earth radii).
MAX_PLANET_MASS_EARTH = 30.05 * 317.828
MAX_PLANET_RADIUS_EARTH = 35.0

# Largest fraction of a source's rows each rule may flag before the build fails.
# Measured on the real catalogues (hip_main 1997, SSCore v4 2026-07, the NASA
# PSCompPars 2020-10 and 2024-10-15 tables): see docs/quality.md.
DEFAULT_LIMITS: dict[str, float] = {
    "hip.position_missing": 0.005,
    "hip.position_out_of_range": 0.0,
    "hip.duplicate_hip": 0.0,
    "hip.parallax_missing": 0.005,
    "hip.parallax_nonpositive": 0.05,
    "hip.parallax_implausible": 0.0,
    "hip.magnitude_implausible": 0.001,
    "hip.colour_implausible": 0.001,
    "hip.speed_unphysical": 0.01,
    "sscore.nearest.duplicate_hip": 0.02,
    "sscore.nearest.magnitude_implausible": 0.001,
    "sscore.nearest.colour_implausible": 0.001,
    "sscore.nearest.distance_nonpositive": 0.0,
    "sscore.nearest.speed_unphysical": 0.001,
    "sscore.nearest.rv_unphysical": 0.001,
    "sscore.brightest.duplicate_hip": 0.02,
    "sscore.brightest.magnitude_implausible": 0.001,
    "sscore.brightest.colour_implausible": 0.001,
    "sscore.brightest.distance_nonpositive": 0.0,
    "sscore.brightest.speed_unphysical": 0.001,
    "sscore.brightest.rv_unphysical": 0.001,
    "exo.duplicate_planet": 0.0,
    "exo.orbit_missing": 0.002,
    "exo.eccentricity_invalid": 0.001,
    "exo.value_nonpositive": 0.001,
    "exo.position_out_of_range": 0.0,
    "exo.magnitude_implausible": 0.001,
    "exo.mass_implausible": 0.005,
    "exo.radius_implausible": 0.005,
}


# The Hipparcos 2007 rules run only in builds whose astrometry setting is hip2,
# so their limits apply to those builds alone (a limited rule that did not run
# fails a build). The defaults are hip_main's for the same rules; measured on
# hip2: 0 repeated HIP numbers, 4 013 parallaxes <= 0 of 117 955 rows (3.4%).
HIP2_DEFAULT_LIMITS: dict[str, float] = {
    "hip2.duplicate_hip": 0.0,
    "hip2.parallax_missing": 0.005,
    "hip2.parallax_nonpositive": 0.05,
    "hip2.parallax_implausible": 0.0,
}


class QualityReport:
    """Counts per named rule, each with the sentence saying what it counts."""

    def __init__(self) -> None:
        self.rules: dict[str, dict] = {}

    def add(
        self,
        rule: str,
        count: int,
        description: str,
        examples: Iterable[str] | None = None,
    ) -> None:
        """Record a rule's count (and a few example names when given)."""
        entry: dict = {"count": int(count), "description": description}
        if examples:
            entry["examples"] = list(examples)[:10]
        self.rules[rule] = entry


class SourceRows:
    """One source's table under validation: flag rows, drop or repair them.

    `table` maps column names to numpy arrays or lists of one length and holds a
    `line` column; `identify(i)` names row i for the samples.
    """

    def __init__(
        self,
        table: dict,
        path: Path,
        prefix: str,
        report: QualityReport,
        identify: Callable[[dict, int], str],
    ) -> None:
        self.table = dict(table)
        self.file = Path(path).name
        self.prefix = prefix
        self.report = report
        self.identify = identify
        self.rows = len(table["line"])
        self.keep = np.ones(self.rows, dtype=bool)
        # Row -> the repairs made to it, for the records to say so.
        self.repairs: dict[int, list[dict[str, str]]] = {}
        report.add(f"{prefix}.rows", self.rows, f"rows read from {self.file}")

    def column(self, name: str) -> np.ndarray:
        """A numeric column as floats (a copy, NaN where missing)."""
        return np.array(self.table[name], dtype=np.float64)

    def flag(
        self,
        rule: str,
        mask: np.ndarray,
        description: str,
        action: str,
        fields: Mapping[str, Sequence],
    ) -> np.ndarray:
        """Record rows flagged by `rule` (among rows still kept) with samples.

        `fields` are the offending values shown in the samples. A `kept out`
        rule drops its rows from the table returned by `result`. Returns the
        flagged rows' mask.
        """
        flagged = np.asarray(mask, dtype=bool) & self.keep
        rows = np.flatnonzero(flagged)
        samples = [self._sample(int(i), fields) for i in rows[:SAMPLES_PER_RULE]]
        self.report.rules[f"{self.prefix}.{rule}"] = {
            "count": len(rows),
            "rows": self.rows,
            "description": description,
            "action": action,
            "samples": samples,
        }
        if action == KEPT_OUT:
            self.keep &= ~flagged
        elif action.startswith("repaired"):
            said = {"rule": f"{self.prefix}.{rule}", "action": action}
            for i in rows.tolist():
                self.repairs.setdefault(i, []).append(said)
        if len(rows):
            logger.debug("%s.%s: %d rows (%s)", self.prefix, rule, len(rows), action)
        return flagged

    def repair(
        self,
        rule: str,
        mask: np.ndarray,
        description: str,
        columns: Sequence[str],
        extra: Mapping[str, Sequence] | None = None,
    ) -> np.ndarray:
        """Flag rows and drop (set NaN) the named columns' values in them."""
        fields = {name: self.table[name] for name in columns}
        action = f"repaired: {', '.join(columns)} dropped (missing)"
        fields.update(extra or {})
        flagged = self.flag(rule, mask, description, action, fields)
        for name in columns:
            values = self.column(name)
            values[flagged] = np.nan
            self.table[name] = values
        return flagged

    def result(self) -> dict:
        """The table without the rows kept out, with a `repairs` column.

        `repairs` holds, per row, None or the list of `{rule, action}` repairs
        made to it, so the record built from the row can say so.
        """
        self.report.add(
            f"{self.prefix}.rows_kept",
            int(self.keep.sum()),
            f"rows of {self.file} that no rule kept out",
        )
        repairs = np.full(self.rows, None, dtype=object)
        for i, made in self.repairs.items():
            repairs[i] = made
        self.table["repairs"] = repairs
        if self.keep.all():
            return self.table
        return take(self.table, self.keep)

    def _sample(self, i: int, fields: Mapping[str, Sequence]) -> dict:
        return {
            "file": self.file,
            "line": int(self.table["line"][i]),
            "id": self.identify(self.table, i),
            "values": {name: plain(values[i]) for name, values in fields.items()},
        }


def take(table: Mapping, keep: np.ndarray) -> dict:
    """Rows of a column table where `keep` is true (arrays and lists alike)."""
    rows = np.flatnonzero(keep)
    out = {}
    for name, values in table.items():
        if isinstance(values, np.ndarray):
            out[name] = values[keep]
        else:
            out[name] = [values[i] for i in rows]
    return out


def plain(value: object) -> object:
    """A JSON-safe scalar: None for a missing or non-finite number."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _outside(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """True where a value is present and outside [low, high]."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(values) & ((values < low) | (values > high))


def _duplicates(keys: Sequence) -> np.ndarray:
    """True for each row whose key an earlier row already had."""
    if isinstance(keys, np.ndarray):
        _, first = np.unique(keys, return_index=True)
        repeated = np.ones(len(keys), dtype=bool)
        repeated[first] = False
        return repeated
    seen: set = set()
    out = np.zeros(len(keys), dtype=bool)
    for i, key in enumerate(keys):
        if key in seen:
            out[i] = True
        seen.add(key)
    return out


def tangential_speed_kms(
    pmra_mas_yr: np.ndarray, pmdec_mas_yr: np.ndarray, parallax_mas: np.ndarray
) -> np.ndarray:
    """Tangential speed (km/s) from proper motion and parallax; NaN without both."""
    pm = np.hypot(pmra_mas_yr, pmdec_mas_yr)
    with np.errstate(invalid="ignore", divide="ignore"):
        speed = KMS_PER_MAS_YR_AT_1_KPC * pm / parallax_mas
    return np.where(parallax_mas > 0, speed, np.nan)


# Hipparcos ------------------------------------------------------------------


def _hip_name(table: dict, i: int) -> str:
    return f"HIP {int(table['hip'][i])}"


def _screen_hip_numbers_and_parallaxes(rows: SourceRows) -> None:
    """The rules both Hipparcos releases share: repeated HIP numbers and parallaxes."""
    table = rows.table
    rows.flag(
        "duplicate_hip",
        _duplicates(np.asarray(table["hip"])),
        "rows repeating the HIP number of an earlier row (the first one is kept)",
        KEPT_OUT,
        {"hip": table["hip"]},
    )
    plx = rows.column("parallax_mas")
    error = {"parallax_mas": plx, "parallax_error_mas": table["parallax_error_mas"]}
    rows.flag(
        "parallax_missing",
        np.isnan(plx),
        "rows without a parallax: kept with no distance and no x, y, z",
        "repaired: kept without distance",
        error,
    )
    rows.flag(
        "parallax_nonpositive",
        plx <= 0,
        "rows with parallax <= 0 (a noisy measurement of a distant star): kept"
        " with no distance and no x, y, z",
        "repaired: kept without distance",
        error,
    )
    rows.repair(
        "parallax_implausible",
        plx > MAX_PARALLAX_MAS,
        f"parallaxes above {MAX_PARALLAX_MAS:g} mas (closer than 1 pc, nearer"
        " than any star): kept with no distance",
        ["parallax_mas"],
    )


def screen_hipparcos(table: dict, path: Path, report: QualityReport) -> dict:
    """Apply the Hipparcos rules; return the rows kept, with repairs made.

    Adds a boolean `speed_unphysical` column: those stars keep their proper
    motion but get no space velocity.
    """
    rows = SourceRows(table, path, "hip", report, _hip_name)
    ra, dec = rows.column("ra_deg"), rows.column("dec_deg")
    rows.flag(
        "position_missing",
        ~(np.isfinite(ra) & np.isfinite(dec)),
        "rows without RA/Dec (no astrometric solution)",
        KEPT_OUT,
        {"ra_deg": ra, "dec_deg": dec},
    )
    rows.flag(
        "position_out_of_range",
        _outside(ra, 0.0, 360.0) | (ra == 360.0) | _outside(dec, -90.0, 90.0),
        "rows with RA outside [0, 360) or Dec outside [-90, 90] degrees",
        KEPT_OUT,
        {"ra_deg": ra, "dec_deg": dec},
    )
    _screen_hip_numbers_and_parallaxes(rows)
    low, high = V_RANGE["hip_main"]
    rows.repair(
        "magnitude_implausible",
        _outside(rows.column("vmag"), low, high),
        f"V magnitudes outside [{low:g}, {high:g}] (beyond Hipparcos' reach)",
        ["vmag"],
    )
    rows.repair(
        "colour_implausible",
        _outside(rows.column("bv"), *BV_RANGE),
        f"B-V colours outside [{BV_RANGE[0]:g}, {BV_RANGE[1]:g}]: no Teff from them",
        ["bv"],
    )
    speed = tangential_speed_kms(
        rows.column("pmra_mas_yr"),
        rows.column("pmdec_mas_yr"),
        rows.column("parallax_mas"),
    )
    fast = rows.flag(
        "speed_unphysical",
        speed > MAX_SPEED_KMS,
        f"stars whose proper motion and parallax imply a tangential speed above"
        f" {MAX_SPEED_KMS:g} km/s (unbound; the parallax is too small to trust)",
        "repaired: velocity withheld (no U, V, W)",
        {
            "tangential_speed_kms": np.round(speed, 1),
            "parallax_mas": table["parallax_mas"],
            "parallax_error_mas": table["parallax_error_mas"],
            "pmra_mas_yr": table["pmra_mas_yr"],
            "pmdec_mas_yr": table["pmdec_mas_yr"],
        },
    )
    rows.table["speed_unphysical"] = fast
    return rows.result()


def screen_hip2(table: dict, path: Path, report: QualityReport) -> dict:
    """Apply the Hipparcos 2007 rules, for builds whose astrometry setting is hip2.

    The reader already refuses positions outside the radian range and missing
    numbers (so `hip2.parallax_missing` never flags a row read from a file).
    Their limits (`HIP2_DEFAULT_LIMITS`, or `LB_QUALITY_LIMITS`) bind hip2
    builds only.
    """
    rows = SourceRows(table, path, "hip2", report, _hip_name)
    _screen_hip_numbers_and_parallaxes(rows)
    return rows.result()


# SSCore ---------------------------------------------------------------------


def _sscore_name(table: dict, i: int) -> str:
    labels = [*table["names"][i], *table["ids"][i]]
    return labels[0] if labels else f"line {int(table['line'][i])}"


def screen_sscore(table: dict, path: Path, role: str, report: QualityReport) -> dict:
    """Apply the SSCore rules to one file (Nearest or Brightest)."""
    prefix = role.replace("_", ".")
    rows = SourceRows(table, path, prefix, report, _sscore_name)
    hip = table["hip"].tolist()
    numbered = [h if h != NO_ID else ("none", i) for i, h in enumerate(hip)]
    rows.flag(
        "duplicate_hip",
        _duplicates(numbered),
        "rows repeating the HIP number of an earlier row (components of one"
        " Hipparcos entry): merged onto the same star",
        COUNTED,
        {"hip": table["hip"]},
    )
    low, high = V_RANGE["sscore"]
    rows.repair(
        "magnitude_implausible",
        _outside(rows.column("vmag"), low, high),
        f"V magnitudes outside [{low:g}, {high:g}]",
        ["vmag"],
    )
    bv = rows.column("bmag") - rows.column("vmag")
    rows.repair(
        "colour_implausible",
        _outside(bv, *BV_RANGE),
        f"B-V colours outside [{BV_RANGE[0]:g}, {BV_RANGE[1]:g}]: B dropped",
        ["bmag"],
        {"vmag": table["vmag"]},
    )
    rows.repair(
        "distance_nonpositive",
        rows.column("dist_pc") <= 0,
        "distances <= 0 pc",
        ["dist_pc"],
    )
    dist = rows.column("dist_pc")
    with np.errstate(invalid="ignore", divide="ignore"):
        plx = np.where(dist > 0, 1000.0 / dist, np.nan)
    speed = tangential_speed_kms(
        rows.column("pmra_mas_yr"), rows.column("pmdec_mas_yr"), plx
    )
    rows.repair(
        "speed_unphysical",
        speed > MAX_SPEED_KMS,
        f"rows whose proper motion and distance imply a tangential speed above"
        f" {MAX_SPEED_KMS:g} km/s (the distance is wrong): no space velocity",
        ["pmra_mas_yr", "pmdec_mas_yr"],
        {"tangential_speed_kms": np.round(speed, 1), "dist_pc": dist},
    )
    rows.repair(
        "rv_unphysical",
        np.abs(rows.column("rv_kms")) > MAX_SPEED_KMS,
        f"radial velocities beyond +-{MAX_SPEED_KMS:g} km/s (unbound)",
        ["rv_kms"],
    )
    return rows.result()


# Exoplanets -----------------------------------------------------------------


def _planet_name(table: dict, i: int) -> str:
    return str(table["pl_name"][i])


def screen_exoplanets(table: dict, path: Path, report: QualityReport) -> dict:
    """Apply the exoplanet-table rules; return the planets kept, repaired."""
    rows = SourceRows(table, path, "exo", report, _planet_name)
    keys = list(zip(table["hostname"], table["pl_name"], strict=True))
    rows.flag(
        "duplicate_planet",
        _duplicates(keys),
        "rows repeating the planet name of an earlier row of the same host",
        KEPT_OUT,
        {"hostname": table["hostname"], "pl_name": table["pl_name"]},
    )
    positive = ("pl_orbper", "pl_orbsmax", "pl_bmasse", "pl_rade")
    nonpositive = np.zeros(rows.rows, dtype=bool)
    for name in positive:
        nonpositive |= rows.column(name) <= 0
    rows.flag(
        "value_nonpositive",
        nonpositive,
        "rows with a period, semi-major axis, mass or radius <= 0: those values"
        " dropped (missing)",
        "repaired: the values <= 0 dropped (missing)",
        {name: table[name] for name in positive},
    )
    for name in positive:
        values = rows.column(name)
        values[rows.keep & (values <= 0)] = np.nan
        rows.table[name] = values
    rows.flag(
        "orbit_missing",
        np.isnan(rows.column("pl_orbper")) & np.isnan(rows.column("pl_orbsmax")),
        "planets with neither a period nor a semi-major axis: no orbit to place"
        " them on",
        KEPT_OUT,
        {"pl_orbper": table["pl_orbper"], "pl_orbsmax": table["pl_orbsmax"]},
    )
    ecc = rows.column("pl_orbeccen")
    rows.repair(
        "eccentricity_invalid",
        np.isfinite(ecc) & ~((ecc >= 0) & (ecc < 1)),
        "eccentricities outside [0, 1) (not a bound orbit)",
        ["pl_orbeccen"],
    )
    ra, dec = rows.column("ra"), rows.column("dec")
    rows.repair(
        "position_out_of_range",
        _outside(ra, 0.0, 360.0) | (ra == 360.0) | _outside(dec, -90.0, 90.0),
        "rows with ra outside [0, 360) or dec outside [-90, 90] degrees: the host"
        " is matched by name only",
        ["ra", "dec"],
    )
    low, high = V_RANGE["exoplanets"]
    rows.repair(
        "magnitude_implausible",
        _outside(rows.column("sy_vmag"), low, high),
        f"host V magnitudes (sy_vmag) outside [{low:g}, {high:g}]",
        ["sy_vmag"],
    )
    rows.repair(
        "mass_implausible",
        rows.column("pl_bmasse") > MAX_PLANET_MASS_EARTH,
        f"planet masses above {MAX_PLANET_MASS_EARTH:.0f} Earth masses (30 Jupiter"
        " masses, the archive's own limit: a brown dwarf or a star)",
        ["pl_bmasse"],
    )
    rows.repair(
        "radius_implausible",
        rows.column("pl_rade") > MAX_PLANET_RADIUS_EARTH,
        f"planet radii above {MAX_PLANET_RADIUS_EARTH:g} Earth radii",
        ["pl_rade"],
    )
    return rows.result()


# Limits ---------------------------------------------------------------------


def quality_limits(
    overrides: Mapping[str, float] | None = None, astrometry: str = "hip_main"
) -> dict[str, float]:
    """The default limits with `overrides` applied, checked before any work.

    A build whose `astrometry` setting is hip2 also limits the `hip2.*` rules
    (`HIP2_DEFAULT_LIMITS`); any other build drops `hip2.*` overrides, since it
    does not run those rules (so one `LB_QUALITY_LIMITS` serves both kinds).
    Raises ConfigurationError for a rule that has no limit or a limit outside
    [0, 1] (limits are fractions of a source's rows).
    """
    known = {**DEFAULT_LIMITS, **HIP2_DEFAULT_LIMITS}
    limits = dict(DEFAULT_LIMITS)
    if astrometry == "hip2":
        limits.update(HIP2_DEFAULT_LIMITS)
    for rule, value in (overrides or {}).items():
        if rule not in known:
            raise ConfigurationError(
                f"quality limit for unknown rule {rule!r}; rules with limits: "
                f"{', '.join(sorted(known))}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigurationError(
                f"quality limit {rule}={value!r} is not a number; give a fraction"
                " of the source's rows between 0 and 1"
            )
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ConfigurationError(
                f"quality limit {rule}={value!r} is outside [0, 1]; give a fraction"
                " of the source's rows"
            )
        if rule in limits or astrometry == "hip2":
            limits[rule] = float(value)
        else:
            logger.debug("quality limit %s skipped: a %s build", rule, astrometry)
    return limits


def judge(report: dict[str, dict], limits: Mapping[str, float]) -> list[str]:
    """Mark each limited rule of `report` passed or failed; return the failures.

    A rule fails when it flags more than `limit * rows` of its source's rows.
    Each limited entry gains `limit`, `allowed` and `passed`. A limited rule
    missing from the report fails too: the check that should have run did not.
    """
    failures = []
    for rule, limit in sorted(limits.items()):
        entry = report.get(rule)
        if entry is None:
            failures.append(f"{rule}: the rule did not run")
            continue
        allowed = math.floor(limit * entry["rows"] + 1e-9)
        passed = entry["count"] <= allowed
        entry.update(limit=limit, allowed=allowed, passed=passed)
        if not passed:
            first = (entry.get("samples") or [{}])[0]
            where = (
                f"; the first at {first['file']} line {first['line']}"
                if "file" in first and "line" in first
                else ""
            )
            failures.append(
                f"{rule}: {entry['count']} of {entry['rows']} rows, more than the"
                f" {allowed} allowed (limit {limit:g}){where}"
            )
    return failures


# The page -------------------------------------------------------------------

TEMPLATE = "quality_report.html.j2"


def render_html(report: Mapping[str, dict], build_id: str, failures: list[str]) -> str:
    """Render the quality report as one page: every rule, its count and samples."""
    rules = [
        {
            "name": name,
            "count": entry["count"],
            "description": entry["description"],
            "rows": entry.get("rows"),
            "action": entry.get("action", COUNTED),
            "limit": entry.get("limit"),
            "allowed": entry.get("allowed"),
            "passed": entry.get("passed"),
            "samples": entry.get("samples", []),
            "examples": entry.get("examples", []),
        }
        for name, entry in sorted(report.items())
    ]
    context = {"build_id": build_id, "rules": rules, "failures": failures}
    return templates.render_page(TEMPLATE, context)
