"""The Hipparcos new reduction (van Leeuwen 2007, CDS I/311) as a second astrometry.

`read_hip2(path)` reads `hip2.dat` into the same columns as
`catalog.read_hipparcos_main` where the new reduction has them, so that the two
releases can be swapped or compared: `hip`, `ra_deg`, `dec_deg` (converted from
radians; ICRS, epoch J1991.25), `parallax_mas`, `pmra_mas_yr`, `pmdec_mas_yr`,
`parallax_error_mas`, `bv` and `line`, plus the errors of position and proper
motion, `hpmag`/`hpmag_error` and `vi` that only hip2 carries.

What hip2 does not have is left out rather than made up: it has no HD numbers, no
spectral types and no Johnson V. Its `Hp` is the Hipparcos broad-band magnitude,
which differs from V by up to a magnitude for red stars, so it is returned as
`hpmag` and never as `vmag`; `with_hip2_astrometry` keeps V (and with it the
photometry, names and planets) from the hip_main-based world, by HIP number.

Layout (CDS I/311 ReadMe), whitespace-separated, 41 fields counted from 0:
0 HIP, 1 Sn, 2 So, 3 Nc, 4/5 RA/Dec (radians), 6 parallax (mas), 7/8 pmRA*/pmDec
(mas/yr, pmRA includes cos Dec), 9-13 the errors of RA*, Dec, parallax, pmRA*,
pmDec (mas, mas/yr), 14 Ntr, 15 F2, 16 F1, 17 var, 18 ic, 19 Hp, 20 e_Hp, 21 sHp,
22 VA, 23 B-V, 24 e_B-V, 25 V-I, 26-40 the upper-triangular weight matrix.
"""

from __future__ import annotations

import logging
import math
import operator
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from batch_jobs import astrometry, stellar
from batch_jobs.catalog import _floats, _integers, _read_source, _text_lines
from chalicelib.errors import SourceFormatError

logger = logging.getLogger(__name__)

HIP2_FIELDS = 41
_HIP_FIELD = 0
_RADIAN_FIELDS = {
    "ra_deg": (4, 0.0, 2.0 * math.pi),
    "dec_deg": (5, -0.5 * math.pi, 0.5 * math.pi),
}
_FLOAT_FIELDS = {
    "parallax_mas": 6,
    "pmra_mas_yr": 7,
    "pmdec_mas_yr": 8,
    "ra_error_mas": 9,
    "dec_error_mas": 10,
    "parallax_error_mas": 11,
    "pmra_error_mas_yr": 12,
    "pmdec_error_mas_yr": 13,
    "hpmag": 19,
    "hpmag_error": 20,
    "bv": 23,
    "bv_error": 24,
    "vi": 25,
}
HIPPARCOS_SOURCE = "hipparcos"
_POSITION_KEYS = ("dist_pc", "x_pc", "y_pc", "z_pc")


def read_hip2(path: Path) -> dict[str, np.ndarray]:
    """Read the Hipparcos 2007 reduction into columns named like hip_main's.

    Refuses, with `SourceFormatError` naming the file and line, a row without 41
    fields, a HIP number that is not a positive integer, an unreadable number, and
    an RA or Dec outside the radian range (a file in degrees is not this file).
    """
    path = Path(path)
    lines = _text_lines(path, _read_source(path), "latin-1")
    wanted = (
        _HIP_FIELD,
        *(index for index, _, _ in _RADIAN_FIELDS.values()),
        *_FLOAT_FIELDS.values(),
    )
    pick = operator.itemgetter(*wanted)
    rows: list[tuple[str, ...]] = []
    numbers: list[int] = []
    for number, line in lines:
        fields = line.split()
        if len(fields) != HIP2_FIELDS:
            raise SourceFormatError(
                path,
                f"expected {HIP2_FIELDS} whitespace-separated fields (CDS I/311 "
                f"hip2.dat), found {len(fields)}",
                line=number,
            )
        rows.append(pick(fields))
        numbers.append(number)
    if not rows:
        raise SourceFormatError(path, "no catalogue rows: the file is empty")
    columns = dict(zip(wanted, zip(*rows, strict=True), strict=True))
    table = {"hip": _integers(path, columns[_HIP_FIELD], numbers, "HIP (0)", True)}
    for name, (index, low, high) in _RADIAN_FIELDS.items():
        radians = _numbers(path, columns[index], numbers, f"{name} (field {index})")
        _require_range(path, radians, numbers, name, low, high)
        table[name] = np.degrees(radians)
    for name, index in _FLOAT_FIELDS.items():
        table[name] = _numbers(path, columns[index], numbers, f"{name} (field {index})")
    table["line"] = np.asarray(numbers, dtype=np.int64)
    logger.debug("read %d Hipparcos 2007 rows from %s", len(numbers), path)
    return table


def _numbers(
    path: Path, values: tuple[str, ...], lines: list[int], column: str
) -> np.ndarray:
    """Convert whitespace-split fields (never empty) to finite floats.

    The fast path converts the whole column at once; on any failure the
    catalogue's field-by-field conversion finds the bad field and raises for it.
    """
    try:
        out = np.array(values, dtype=np.float64)
    except ValueError:
        out = None
    if out is None or not np.isfinite(out).all():
        return _floats(path, values, lines, column)
    return out


def _require_range(
    path: Path,
    values: np.ndarray,
    lines: list[int],
    name: str,
    low: float,
    high: float,
) -> None:
    """Refuse the first value outside [low, high] (radians), naming its line."""
    outside = ~((values >= low) & (values <= high))
    if outside.any():
        row = int(np.argmax(outside))
        raise SourceFormatError(
            path,
            f"{name}: {values[row]!r} is outside [{low:.6f}, {high:.6f}] radians; "
            "hip2.dat gives RA and Dec in radians",
            line=lines[row],
        )


def with_hip2_astrometry(
    systems: Iterable[Mapping], hip2: Mapping[str, np.ndarray]
) -> tuple[list[dict], dict[str, int]]:
    """Return the systems with Hipparcos astrometry replaced by the 2007 reduction.

    For each Hipparcos system whose HIP number hip2 has, the position, parallax,
    parallax/error, distance and x, y, z come from hip2 (`astrometry`), and the
    absolute magnitude and luminosity are recomputed from the new distance with
    the system's own V and Teff (V stays hip_main's: hip2 has only Hp). Names,
    spectral types, radial velocities and planets are kept as they are: the
    cross-match is the hip_main world's. Other systems are copied unchanged.
    Returns the new systems and counts of what was done.
    """
    row_of = {h: i for i, h in enumerate(np.asarray(hip2["hip"]).tolist())}
    out: list[dict] = []
    stars: list[dict] = []
    rows: list[int] = []
    counts = {"replaced": 0, "not_in_hip2": 0, "not_hipparcos": 0}
    for system in systems:
        record = dict(system)
        out.append(record)
        if record.get("source") != HIPPARCOS_SOURCE:
            counts["not_hipparcos"] += 1
            continue
        row = row_of.get(record.get("hip"))
        if row is None:
            counts["not_in_hip2"] += 1
            continue
        stars.append(record)
        rows.append(row)
    counts["replaced"] = len(stars)
    _replace(stars, np.asarray(rows, dtype=np.int64), hip2)
    logger.debug("hip2 astrometry applied: %s", counts)
    return out, counts


def _replace(
    stars: list[dict], rows: np.ndarray, hip2: Mapping[str, np.ndarray]
) -> None:
    """Write the hip2 values of `rows` into the matching system records in place."""
    ra = np.asarray(hip2["ra_deg"])[rows]
    dec = np.asarray(hip2["dec_deg"])[rows]
    plx = np.asarray(hip2["parallax_mas"])[rows]
    error = np.asarray(hip2["parallax_error_mas"])[rows]
    dist, xyz = astrometry.icrs_to_galactic(ra, dec, plx)
    with np.errstate(invalid="ignore", divide="ignore"):
        poe = np.where(error > 0, plx / error, np.nan)
    vmag = _column(stars, "vmag")
    abs_vmag = stellar.absolute_magnitude(vmag, dist)
    luminosity = stellar.luminosity_from_magnitude(abs_vmag, _column(stars, "teff_k"))
    values = {
        "ra_deg": ra,
        "dec_deg": dec,
        "parallax_mas": plx,
        "parallax_over_error": np.round(poe, 2),
        "dist_pc": np.round(dist, 4),
        "x_pc": np.round(xyz[:, 0], 4),
        "y_pc": np.round(xyz[:, 1], 4),
        "z_pc": np.round(xyz[:, 2], 4),
        "abs_vmag": np.round(abs_vmag, 3),
        "luminosity_lsun": _round_significant(luminosity, 4),
    }
    lists = {key: _json_values(column) for key, column in values.items()}
    for i, record in enumerate(stars):
        for key, column in lists.items():
            record[key] = column[i]
        if record["dist_pc"] is None:
            for key in _POSITION_KEYS:
                record.pop(key, None)


def _column(records: list[dict], key: str) -> np.ndarray:
    """One key of every record as floats, NaN where missing."""
    return np.array(
        [math.nan if r.get(key) is None else r[key] for r in records], dtype=np.float64
    )


def _json_values(values: np.ndarray) -> list[float | None]:
    """Return floats as a list with None for NaN or infinity (JSON-safe)."""
    array = np.asarray(values, dtype=np.float64)
    out = array.astype(object)
    out[~np.isfinite(array)] = None
    return out.tolist()


def _round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round to a number of significant digits, as the world rounds luminosities."""
    array = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        exponent = np.floor(np.log10(np.abs(array)))
    scale = np.where(np.isfinite(exponent), 10.0 ** (digits - 1 - exponent), 1.0)
    return np.round(array * scale) / scale
