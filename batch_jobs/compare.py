"""Compare two world builds: what was added, removed and changed, and how much.

A data release (a new Hipparcos reduction, a new exoplanet snapshot) or a model
release makes a new build; the comparison says what that did to the world before
anyone activates it. `compare_worlds` takes the two builds' system lists (the
records of `batch_jobs.world`, or the lines of a published `systems.jsonl.gz`)
and returns a JSON-safe report: no NaN or infinity anywhere, a missing value is
None. `render_html` turns the report into one static page with inline SVG
histograms. `compare_sources` builds both worlds from source files first, and
`read_systems` reads a published build's `systems.jsonl.gz`.

Stars are matched by `system_id` (stable across builds), planets by system id and
planet name. A number counts as changed when it differs by more than its field's
tolerance (`FIELD_TOLERANCES`: relative and absolute, set to what the world's
rounding and the catalogues' precision make meaningful); anything else (text,
lists, None against a value) when it is not equal. Sample lists are capped at
`SAMPLE_LIMIT` entries in key order; the counts are always complete.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from batch_jobs import templates
from batch_jobs.world import assemble_world
from chalicelib.errors import SourceFormatError

logger = logging.getLogger(__name__)

REPORT_FORMAT = "local-bubble/build-comparison/1"
SAMPLE_LIMIT = 200
TEMPLATE = "comparison.html.j2"

DEFAULT_TOLERANCE = (1e-9, 0.0)
"""(relative, absolute) tolerance of a number field not named below."""

FIELD_TOLERANCES: dict[str, tuple[float, float]] = {
    # Positions: 1 mas, below the Hipparcos precision (~1 mas) but above float noise.
    "ra_deg": (0.0, 1.0 / 3.6e6),
    "dec_deg": (0.0, 1.0 / 3.6e6),
    # Parallaxes and what follows from them: 0.1 % (the world rounds to 1e-4 pc).
    "parallax_mas": (1e-3, 1e-3),
    "parallax_over_error": (1e-3, 0.01),
    "dist_pc": (1e-3, 1e-4),
    "x_pc": (1e-3, 1e-3),
    "y_pc": (1e-3, 1e-3),
    "z_pc": (1e-3, 1e-3),
    # Photometry and physics: the world rounds Teff to 1 K, luminosity to 4 digits.
    "vmag": (0.0, 1e-3),
    "abs_vmag": (0.0, 2e-3),
    "bv": (0.0, 1e-3),
    "teff_k": (1e-3, 1.0),
    "luminosity_lsun": (2e-3, 0.0),
    "rv_kms": (0.0, 0.01),
    # Planets: the archive's own digits, a part in a million.
    "period_days": (1e-6, 0.0),
    "semi_major_axis_au": (1e-6, 0.0),
    "eccentricity": (0.0, 1e-6),
    "mass_earth": (1e-6, 0.0),
    "radius_earth": (1e-6, 0.0),
}

DISTRIBUTIONS = {
    "dist_pc": "Distance (pc, log bins)",
    "teff_k": "Effective temperature (K; the end bins hold the outer 0.1 %)",
    "planets_per_system": "Planets per system (systems with at least one)",
}
_HISTOGRAM_BINS = 30
_SCALES = {"dist_pc": "log", "teff_k": "linear", "planets_per_system": "count"}
# Provenance says where a value came from; the values themselves are compared.
_IGNORED_STAR_KEYS = frozenset({"system_id", "planets", "provenance"})
_IGNORED_PLANET_KEYS = frozenset({"name", "_system", "provenance"})
_PLAIN_NUMBERS = frozenset({int, float})


def compare_worlds(
    old: Sequence[Mapping],
    new: Sequence[Mapping],
    *,
    old_id: str,
    new_id: str,
    tolerances: Mapping[str, tuple[float, float]] | None = None,
    sample_limit: int = SAMPLE_LIMIT,
) -> dict:
    """Compare two builds' system lists into a JSON-safe report.

    `tolerances` overrides entries of `FIELD_TOLERANCES`. Raises ValueError when
    a list repeats a system id or a system repeats a planet name, since neither
    could then be matched across the builds.
    """
    limits = {**FIELD_TOLERANCES, **(tolerances or {})}
    old_systems = _by_id(old, old_id)
    new_systems = _by_id(new, new_id)
    old_planets = _planets_by_key(old_systems)
    new_planets = _planets_by_key(new_systems)
    report = {
        "format": REPORT_FORMAT,
        "old_id": old_id,
        "new_id": new_id,
        "sample_limit": sample_limit,
        "tolerances": {k: {"rel": r, "abs": a} for k, (r, a) in limits.items()},
        "counts": _counts(old_systems.values(), new_systems.values()),
        "stars": _diff(
            old_systems,
            new_systems,
            limits,
            _IGNORED_STAR_KEYS,
            sample_limit,
            _star_label,
        ),
        "planets": _diff(
            old_planets,
            new_planets,
            limits,
            _IGNORED_PLANET_KEYS,
            sample_limit,
            _planet_label,
        ),
        "distributions": _distributions(
            list(old_systems.values()), list(new_systems.values())
        ),
    }
    logger.debug(
        "compared %s with %s: stars +%d -%d ~%d, planets +%d -%d ~%d",
        old_id,
        new_id,
        report["stars"]["added"]["count"],
        report["stars"]["removed"]["count"],
        report["stars"]["changed"]["count"],
        report["planets"]["added"]["count"],
        report["planets"]["removed"]["count"],
        report["planets"]["changed"]["count"],
    )
    return report


def compare_sources(
    old_paths: Mapping[str, Path],
    new_paths: Mapping[str, Path],
    *,
    old_id: str | None = None,
    new_id: str | None = None,
) -> dict:
    """Assemble the worlds of two source sets and compare them.

    A role `hip2` in either set builds that world with the `hip2` astrometry
    setting (`assemble_world(paths, "hip2")`). Without ids given,
    each side is named by a digest of its source files' contents.
    """
    old_systems = _world_systems(old_paths)
    new_systems = _world_systems(new_paths)
    return compare_worlds(
        old_systems,
        new_systems,
        old_id=old_id or sources_id(old_paths),
        new_id=new_id or sources_id(new_paths),
    )


def sources_id(paths: Mapping[str, Path]) -> str:
    """Return a short id for a source set: a digest of each role and its bytes."""
    digest = hashlib.sha256()
    for role in sorted(paths):
        digest.update(role.encode())
        digest.update(hashlib.sha256(Path(paths[role]).read_bytes()).digest())
    return f"sources-{digest.hexdigest()[:12]}"


def read_systems(path: Path) -> list[dict]:
    """Read a published build's `systems.jsonl.gz` (or plain JSON lines) file."""
    return parse_systems(Path(path).read_bytes(), str(path))


def parse_systems(raw: bytes, where: str = "systems.jsonl.gz") -> list[dict]:
    """Parse the systems artifact: one JSON object per line, gzip or plain.

    So that two published builds compare without rebuilding either. A line that
    is not a JSON object raises `SourceFormatError` naming `where` and the line.
    """
    text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    systems = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceFormatError(where, f"not JSON: {exc.msg}", number) from exc
        if not isinstance(record, dict) or "system_id" not in record:
            raise SourceFormatError(
                where, "expected one system object with a system_id per line", number
            )
        systems.append(record)
    return systems


def _world_systems(paths: Mapping[str, Path]) -> list[dict]:
    """Assemble one world, with hip2 astrometry when the paths name a `hip2`."""
    return assemble_world(paths, "hip2" if "hip2" in paths else "hip_main").systems


def _by_id(systems: Iterable[Mapping], build_id: str) -> dict[str, Mapping]:
    """Index systems by id, refusing a repeated id."""
    out: dict[str, Mapping] = {}
    for system in systems:
        key = system["system_id"]
        if key in out:
            raise ValueError(
                f"build {build_id}: system id {key!r} appears twice; ids must be "
                "unique within a build to compare builds"
            )
        out[key] = system
    return out


def _planets_by_key(systems: Mapping[str, Mapping]) -> dict[str, Mapping]:
    """Index every planet by `<system_id>/<planet name>`."""
    out: dict[str, Mapping] = {}
    for system_id, system in systems.items():
        for planet in system.get("planets") or ():
            key = f"{system_id}/{planet['name']}"
            if key in out:
                raise ValueError(
                    f"system {system_id!r} lists planet {planet['name']!r} twice"
                )
            out[key] = {**planet, "_system": system_id}
    return out


def _counts(old: Iterable[Mapping], new: Iterable[Mapping]) -> dict:
    """Count systems, placed systems and planets on both sides, with the deltas."""
    sides = {"old": _side_counts(old), "new": _side_counts(new)}
    sides["delta"] = {k: sides["new"][k] - sides["old"][k] for k in sides["old"]}
    return sides


def _side_counts(systems: Iterable[Mapping]) -> dict[str, int]:
    """Count one build's systems and planets."""
    counts = dict.fromkeys(
        (
            "systems",
            "systems_with_distance",
            "systems_with_planets",
            "planets_known",
            "planets_inferred",
        ),
        0,
    )
    for system in systems:
        planets = system.get("planets") or ()
        counts["systems"] += 1
        counts["systems_with_distance"] += _number(system.get("dist_pc")) is not None
        counts["systems_with_planets"] += bool(planets)
        counts["planets_inferred"] += sum(bool(p.get("inferred")) for p in planets)
        counts["planets_known"] += sum(not p.get("inferred") for p in planets)
    return counts


def _diff(
    old: Mapping[str, Mapping],
    new: Mapping[str, Mapping],
    limits: Mapping[str, tuple[float, float]],
    ignored: frozenset[str],
    sample_limit: int,
    label: Callable[[str, Mapping], dict],
) -> dict:
    """Return added, removed and changed entries of two keyed record sets."""
    added = sorted(new.keys() - old.keys())
    removed = sorted(old.keys() - new.keys())
    by_field: dict[str, int] = {}
    changed: list[dict] = []
    count = 0
    for key in sorted(old.keys() & new.keys()):
        changes = _changes(old[key], new[key], limits, ignored)
        if not changes:
            continue
        count += 1
        for name in changes:
            by_field[name] = by_field.get(name, 0) + 1
        if len(changed) < sample_limit:
            changed.append({**label(key, new[key]), "changes": changes})
    return {
        "added": _section(added, new, sample_limit, label),
        "removed": _section(removed, old, sample_limit, label),
        "changed": {
            "count": count,
            "by_field": dict(sorted(by_field.items(), key=lambda kv: (-kv[1], kv[0]))),
            "sample": changed,
        },
        "unchanged": len(old.keys() & new.keys()) - count,
    }


def _section(
    keys: list[str],
    records: Mapping[str, Mapping],
    limit: int,
    label: Callable[[str, Mapping], dict],
) -> dict:
    """Return a count and a capped sample of labelled records."""
    return {
        "count": len(keys),
        "sample": [label(key, records[key]) for key in keys[:limit]],
    }


def _star_label(key: str, system: Mapping) -> dict:
    """The identity of a system in a sample list."""
    return {
        "system_id": key,
        "name": _json_value(system.get("name")),
        "dist_pc": _number(system.get("dist_pc")),
        "planets": len(system.get("planets") or ()),
    }


def _planet_label(key: str, planet: Mapping) -> dict:
    """The identity of a planet in a sample list."""
    return {
        "key": key,
        "system_id": planet["_system"],
        "name": _json_value(planet.get("name")),
        "inferred": bool(planet.get("inferred")),
    }


def _changes(
    old: Mapping,
    new: Mapping,
    limits: Mapping[str, tuple[float, float]],
    ignored: frozenset[str],
) -> dict[str, dict]:
    """Return {field: {old, new}} for every field that differs beyond tolerance."""
    if old == new:
        return {}
    out = {}
    for name in (old.keys() | new.keys()) - ignored:
        before, after = old.get(name), new.get(name)
        if before is after or (before == after and type(before) is type(after)):
            continue
        if not _same(before, after, limits.get(name, DEFAULT_TOLERANCE)):
            out[name] = {"old": _json_value(before), "new": _json_value(after)}
    return dict(sorted(out.items()))


def _same(before: object, after: object, tolerance: tuple[float, float]) -> bool:
    """True when two values agree: numbers within tolerance, others equal.

    A missing value (None, NaN, or an absent key) equals only another missing one.
    """
    if type(before) in _PLAIN_NUMBERS and type(after) in _PLAIN_NUMBERS:
        if math.isfinite(before) and math.isfinite(after):  # the common case, fast
            rel, absolute = tolerance
            return math.isclose(before, after, rel_tol=rel, abs_tol=absolute)
    a, b = _number(before), _number(after)
    if _is_number(before) or _is_number(after):
        if a is None or b is None:
            return _missing(before) and _missing(after)
        rel, absolute = tolerance
        return math.isclose(a, b, rel_tol=rel, abs_tol=absolute)
    return before == after


def _is_number(value: object) -> bool:
    """True for an int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _missing(value: object) -> bool:
    """True for None and for a non-finite float."""
    return value is None or (_is_number(value) and not math.isfinite(value))


def _number(value: object) -> float | None:
    """A finite float, or None for anything else."""
    if not _is_number(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _json_value(value: object) -> object:
    """Return a value with every non-finite float replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if value is None or isinstance(value, str | int | bool):
        return value
    return str(value)


def _distributions(old: list[Mapping], new: list[Mapping]) -> dict:
    """Histograms on shared bins, medians and the KS statistic of three quantities."""

    def planets(systems: list[Mapping]) -> np.ndarray:
        counts = [len(s.get("planets") or ()) for s in systems]
        return np.array([n for n in counts if n > 0], dtype=np.float64)

    values = {
        "dist_pc": (_values(old, "dist_pc"), _values(new, "dist_pc")),
        "teff_k": (_values(old, "teff_k"), _values(new, "teff_k")),
        "planets_per_system": (planets(old), planets(new)),
    }
    out = {}
    for name, (a, b) in values.items():
        edges = _edges(name, np.concatenate([a, b]))
        out[name] = {
            "label": DISTRIBUTIONS[name],
            "scale": _SCALES[name],
            "edges": _floats(edges),
            "old": _summary(a, edges),
            "new": _summary(b, edges),
            "ks": ks_2samp(a, b),
        }
    return out


def _values(systems: list[Mapping], key: str) -> np.ndarray:
    """The finite values of one key over the systems (positive ones for distance)."""
    values = (_number(s.get(key)) for s in systems)
    array = np.array([v for v in values if v is not None], dtype=np.float64)
    return array[array > 0] if key == "dist_pc" else array


def _edges(name: str, values: np.ndarray) -> np.ndarray:
    """Shared bin edges: log-spaced for distance, integers for planet counts."""
    if values.size == 0:
        return np.array([0.0, 1.0])
    low, high = float(values.min()), float(values.max())
    if name == "teff_k":
        # A few hot stars (to 57,000 K) would squeeze the bulk into three bins.
        low, high = (float(v) for v in np.percentile(values, [0.1, 99.9]))
    if name == "planets_per_system":
        return np.arange(math.floor(low), math.floor(high) + 2, dtype=np.float64) - 0.5
    if name == "dist_pc":
        low, high = math.log10(low), math.log10(high)
        top = high if high > low else low + 1
        return 10.0 ** np.linspace(low, top, _HISTOGRAM_BINS + 1)
    return np.linspace(low, high if high > low else low + 1, _HISTOGRAM_BINS + 1)


def _summary(values: np.ndarray, edges: np.ndarray) -> dict:
    """Count, median, quartiles and histogram of one side's values."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    if values.size == 0:
        empty = {"n": 0, "median": None, "p25": None, "p75": None}
        return {**empty, "counts": counts.astype(int).tolist()}
    p25, median, p75 = np.percentile(values, [25, 50, 75])
    return {
        "n": int(values.size),
        "median": _finite(median),
        "p25": _finite(p25),
        "p75": _finite(p75),
        "counts": counts.astype(int).tolist(),
    }


def ks_2samp(a: np.ndarray, b: np.ndarray) -> dict:
    """Two-sample Kolmogorov-Smirnov statistic and its asymptotic p-value.

    D is the largest distance between the two empirical distribution functions,
    evaluated at every observed value (ties included), as scipy.stats.ks_2samp
    defines it. The p-value uses Kolmogorov's limiting distribution with the
    effective size n m / (n + m); it is an approximation for small samples.
    """
    a = np.sort(np.asarray(a, dtype=np.float64))
    b = np.sort(np.asarray(b, dtype=np.float64))
    if a.size == 0 or b.size == 0:
        return {"statistic": None, "p_value": None}
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / a.size
    cdf_b = np.searchsorted(b, points, side="right") / b.size
    statistic = float(np.max(np.abs(cdf_a - cdf_b)))
    size = math.sqrt(a.size * b.size / (a.size + b.size))
    return {"statistic": statistic, "p_value": _kolmogorov_q(size * statistic)}


def _kolmogorov_q(x: float) -> float:
    """Survival function of the Kolmogorov distribution, 2 sum (-1)^(k-1) e^-2k²x²."""
    if x < 0.2:
        return 1.0
    k = np.arange(1, 101)
    terms = 2.0 * (-1.0) ** (k - 1) * np.exp(-2.0 * k**2 * x**2)
    return float(min(1.0, max(0.0, terms.sum())))


def _finite(value: float) -> float | None:
    """A finite float, rounded to 6 significant digits for the report, or None."""
    number = float(value)
    return float(f"{number:.6g}") if math.isfinite(number) else None


def _floats(values: np.ndarray) -> list[float | None]:
    """A float array as a JSON-safe list."""
    return [_finite(v) for v in values]


# The page ------------------------------------------------------------------

_PLOT = {"width": 560, "height": 220, "left": 56, "right": 28, "top": 12, "bottom": 40}


def render_html(report: Mapping) -> str:
    """Render a comparison report as one self-contained HTML page.

    Every value reaches the page through Jinja's autoescaping; the plots are SVG
    elements whose geometry `histogram_figure` computes, so no markup is built
    from report text in Python.
    """
    figures = {
        name: histogram_figure(dist) for name, dist in report["distributions"].items()
    }
    return templates.render_page(TEMPLATE, {"report": report, "figures": figures})


def histogram_figure(distribution: Mapping) -> dict:
    """Geometry of an old-versus-new histogram: bars, axis ticks and labels.

    Each bin holds two bars side by side (old, new), scaled to the tallest bin.
    """
    plot = _PLOT
    inner_w = plot["width"] - plot["left"] - plot["right"]
    inner_h = plot["height"] - plot["top"] - plot["bottom"]
    old, new = distribution["old"]["counts"], distribution["new"]["counts"]
    bins = max(len(old), len(new))
    peak = max([*old, *new, 1])
    slot = inner_w / max(bins, 1)
    bars = []
    for side, counts, offset in (("old", old, 0.1), ("new", new, 0.5)):
        for i, count in enumerate(counts):
            height = inner_h * count / peak
            bars.append(
                {
                    "side": side,
                    "x": round(plot["left"] + slot * (i + offset), 2),
                    "y": round(plot["top"] + inner_h - height, 2),
                    "width": round(slot * 0.4, 2),
                    "height": round(height, 2),
                    "title": f"{side}: {count}",
                }
            )
    return {
        **plot,
        "inner_width": inner_w,
        "inner_height": inner_h,
        "bars": bars,
        "x_ticks": _x_ticks(
            distribution["edges"], slot, distribution["scale"] == "count"
        ),
        "y_ticks": [
            {"y": round(plot["top"] + inner_h * (1 - f), 2), "label": _count(peak * f)}
            for f in (0.0, 0.5, 1.0)
        ],
    }


def _x_ticks(edges: Sequence[float | None], slot: float, centred: bool) -> list[dict]:
    """About six labelled bin edges along the x axis, or bin centres for counts."""
    step = max(1, math.ceil((len(edges) - 1) / 6))
    if centred:
        return [
            {
                "x": round(_PLOT["left"] + slot * (i + 0.5), 2),
                "label": _tick(edges[i] + 0.5),
            }
            for i in range(0, len(edges) - 1, step)
            if edges[i] is not None
        ]
    return [
        {"x": round(_PLOT["left"] + slot * i, 2), "label": _tick(edge)}
        for i, edge in enumerate(edges)
        if i % step == 0 and edge is not None
    ]


def _tick(value: float) -> str:
    """An axis value in three significant digits, thousands without exponent."""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _count(value: float) -> str:
    """An axis count, without decimals."""
    return f"{round(value):,}"
