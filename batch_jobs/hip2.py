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
`hpmag` and never as `vmag`. With the build setting `astrometry: hip2`,
`batch_jobs.world` takes position, parallax and proper motion from here by HIP
number and everything else (V, B-V, HD, spectral type) from hip_main.

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
from pathlib import Path

import numpy as np

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
