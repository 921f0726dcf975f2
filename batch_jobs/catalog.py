"""Readers for the source catalogues, each refusing a file that is not as documented.

Every reader returns plain columns (numpy arrays for numbers, lists for text) and
never guesses: an empty numeric field becomes NaN (an empty identifier becomes
`NO_ID`), and a truncated gzip stream, a row with the wrong number of fields, an
unparseable number, a missing required column or a file of some other format
raises `SourceFormatError` naming the file, the line and the problem. Windows line
endings, a UTF-8 byte-order mark and gzip are accepted everywhere; lines starting
with `#` are comments in the text tables (Hipparcos, SSCore, NASA); CSV columns
are found by their header names, in any order, and a CSV without its header line
is refused. Text is UTF-8 except the Hipparcos files (latin-1, as CDS publishes
them): a UTF-8 source in another encoding is refused at its first bad byte.

Sources and their layouts:

- Hipparcos main catalogue, ESA 1997 (CDS I/239, `hip_main.dat`): `|`-separated,
  78 fields H0..H77, latin-1. Field indices follow the CDS ReadMe: H1 HIP, H5 Vmag,
  H8/H9 RA/Dec (deg, ICRS, epoch J1991.25), H11 parallax (mas), H12/H13 pmRA*/pmDec
  (mas/yr, pmRA includes cos Dec), H16 parallax standard error (mas; H14 is the RA
  error), H37 B-V, H71 HD number, H76 spectral type.
- SSCore `Nearest.csv` / `Brightest.csv`: J2000 positions as sexagesimal text,
  pmRA in seconds of time per year without the cos Dec factor, pmDec in arcsec per
  year, `;`-separated identifiers and names in the last two columns.
- d3-celestial `starnames.json`: an object keyed by HIP number.
- NASA Exoplanet Archive PSCompPars CSV, with or without `#` comment lines.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from chalicelib.errors import SourceFormatError, SourceMissingError

logger = logging.getLogger(__name__)

NO_ID = -1
"""Value of an integer identifier column (HIP, HD) where the source has none."""

HIP_MAIN_FIELDS = 78
_HIP_BLOCK_LINES = 8_192  # lines split at once: bounds the flat field list
_HIP_FLOAT_FIELDS = {
    "vmag": 5,
    "ra_deg": 8,
    "dec_deg": 9,
    "parallax_mas": 11,
    "pmra_mas_yr": 12,
    "pmdec_mas_yr": 13,
    "parallax_error_mas": 16,
    "bv": 37,
}
_HIP_NUMBER_FIELD = 1
_HD_FIELD = 71
_SPTYPE_FIELD = 76

SSCORE_COLUMNS = (
    "Type",
    "RA",
    "Dec",
    "pmRA",
    "pmDec",
    "V",
    "B",
    "Dist",
    "RV",
    "Spec",
    "IDs",
    "Names",
)
_SSCORE_FLOATS = {"V": "vmag", "B": "bmag", "Dist": "dist_pc", "RV": "rv_kms"}

EXOPLANET_TEXT_COLUMNS = ("pl_name", "hostname", "st_spectype")
EXOPLANET_FLOAT_COLUMNS = (
    "pl_orbper",
    "pl_orbsmax",
    "pl_orbeccen",
    "pl_bmasse",
    "pl_rade",
    "st_teff",
    "st_rad",
    "st_mass",
    "ra",
    "dec",
    "sy_dist",
    "sy_vmag",
)
# Read when the header has them (the archive's cross-identifiers; neither real
# snapshot here carries them): None in every row otherwise.
EXOPLANET_OPTIONAL_TEXT_COLUMNS = ("hip_name", "hd_name")
_EXOPLANET_REQUIRED_VALUES = ("pl_name", "hostname")

D3_FIELDS = ("name", "bayer", "flam", "var", "gl", "hd", "c")

_HIP_ID = re.compile(r"^HIP\s+(\d+)$")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\ufeff"))
_SPACES = dict.fromkeys(map(ord, "\u2009\u00a0\u202f\u2007"), " ")


def read_hipparcos_main(path: Path) -> dict[str, np.ndarray]:
    """Read the Hipparcos 1997 main catalogue into columns, the pipeline's star list.

    Returns `hip` and `hd` (int64, `NO_ID` when empty), the float columns named in
    `_HIP_FLOAT_FIELDS` (NaN when empty), `spectral_type` (object array, None when
    empty) and `line` (the line of each row, for messages).
    """
    path = Path(path)
    lines = _uncommented(_text_lines(path, _read_source(path), "latin-1"))
    wanted = (
        0,
        _HIP_NUMBER_FIELD,
        _HD_FIELD,
        _SPTYPE_FIELD,
        *_HIP_FLOAT_FIELDS.values(),
    )
    _check_hipparcos_lines(path, lines)
    numbers = [number for number, _ in lines]
    texts = [line for _, line in lines]
    fixed = _fixed_width_columns(texts, wanted)
    columns = _hipparcos_columns(texts, wanted) if fixed is None else fixed
    table: dict[str, np.ndarray] = {
        "hip": _integers(path, columns[_HIP_NUMBER_FIELD], numbers, "HIP (H1)", True),
        "hd": _integers(path, columns[_HD_FIELD], numbers, "HD (H71)", False),
    }
    for name, index in _HIP_FLOAT_FIELDS.items():
        table[name] = _floats(path, columns[index], numbers, f"{name} (H{index})")
    table["spectral_type"] = np.array(
        [s.strip() or None for s in _strings(columns[_SPTYPE_FIELD])], dtype=object
    )
    table["line"] = np.asarray(numbers, dtype=np.int64)
    logger.debug("read %d Hipparcos rows from %s", len(numbers), path)
    return table


def _check_hipparcos_lines(path: Path, lines: Sequence[tuple[int, str]]) -> None:
    """Refuse a file that is empty or has a line of the wrong shape, naming it."""
    if not lines:
        raise SourceFormatError(path, "no catalogue rows: the file is empty")
    separators = HIP_MAIN_FIELDS - 1
    for number, line in lines:
        if line.count("|") != separators:
            found = line.count("|") + 1
            header = " (a header line? hip_main.dat has none)" if number == 1 else ""
            raise SourceFormatError(
                path,
                f"expected {HIP_MAIN_FIELDS} '|'-separated fields (CDS I/239 "
                f"hip_main.dat), found {found}{header}",
                line=number,
            )
        if not line.startswith("H|"):
            raise SourceFormatError(
                path, f"field H0 must be 'H', found {line.split('|')[0]!r}", line=number
            )


def _hipparcos_columns(lines: list[str], wanted: Sequence[int]) -> dict[int, list]:
    """The fields `wanted` of every line, by field index, as lists of text.

    Every line has `HIP_MAIN_FIELDS` fields (checked first), so a block of lines
    joined by `|` splits into one flat list whose field `i` of each line is every
    `HIP_MAIN_FIELDS`-th item from `i`: one split a block rather than one a line.
    """
    columns: dict[int, list] = {index: [] for index in wanted}
    for start in range(0, len(lines), _HIP_BLOCK_LINES):
        fields = "|".join(lines[start : start + _HIP_BLOCK_LINES]).split("|")
        for index, values in columns.items():
            values.extend(fields[index::HIP_MAIN_FIELDS])
    return columns


def _fixed_width_columns(
    lines: list[str], wanted: Sequence[int]
) -> dict[int, np.ndarray] | None:
    """The fields `wanted` as byte-string arrays, when every line has its `|` at
    the same columns (CDS's hip_main.dat does); None for any other layout.

    Slicing one 2-D byte array by column is many times faster than splitting
    118,000 lines of 78 fields; a file laid out otherwise takes `_hipparcos_columns`.
    Callers have checked that every line holds `HIP_MAIN_FIELDS` fields.
    """
    width = len(lines[0])
    if any(len(line) != width for line in lines):
        return None
    try:
        joined = "".join(lines).encode("latin-1")
    except UnicodeEncodeError:
        return None
    grid = np.frombuffer(joined, dtype=np.uint8).reshape(len(lines), width)
    bars = np.flatnonzero(grid[0] == ord("|"))
    if not (grid[:, bars] == ord("|")).all():
        return None
    starts, ends = [0, *(bars + 1).tolist()], [*bars.tolist(), width]
    if any(ends[index] == starts[index] for index in wanted):
        return None  # an empty-width field has no bytes to view
    columns = {}
    for index in wanted:
        field = np.ascontiguousarray(grid[:, starts[index] : ends[index]])
        columns[index] = field.view(f"S{field.shape[1]}").reshape(len(lines))
    return columns


def _strings(values: Sequence[str] | np.ndarray) -> list[str]:
    """Text fields as a list of str (latin-1 bytes arrays decoded)."""
    if isinstance(values, np.ndarray):
        return np.char.decode(values, "latin-1").tolist()
    return list(values)


def read_sscore(path: Path) -> dict[str, object]:
    """Read an SSCore star CSV (Nearest or Brightest) into columns with sky units.

    Positions become degrees (J2000), proper motions milliarcseconds per year of
    sky (pmRA times 15 cos Dec), and identifiers and names lists of strings;
    `hip` holds the number of a `HIP n` identifier or `NO_ID`.
    """
    path = Path(path)
    lines = _uncommented(_text_lines(path, _read_source(path)))
    header, rows, numbers = _csv_rows(path, lines)
    index = _column_index(path, header, SSCORE_COLUMNS, lines[0][0])
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    ra = _sexagesimal(path, columns[index["RA"]], numbers, "RA", hours=True)
    dec = _sexagesimal(path, columns[index["Dec"]], numbers, "Dec", hours=False)
    pmra_s = _floats(path, columns[index["pmRA"]], numbers, "pmRA")
    pmdec_as = _floats(path, columns[index["pmDec"]], numbers, "pmDec")
    table: dict[str, object] = {
        "ra_deg": ra,
        "dec_deg": dec,
        "pmra_mas_yr": pmra_s * 15.0 * np.cos(np.radians(dec)) * 1000.0,
        "pmdec_mas_yr": pmdec_as * 1000.0,
    }
    for column, name in _SSCORE_FLOATS.items():
        table[name] = _floats(path, columns[index[column]], numbers, column)
    table["type"] = [s.strip() for s in columns[index["Type"]]]
    table["spectral_type"] = [s.strip() or None for s in columns[index["Spec"]]]
    table["ids"] = [_split_list(s) for s in columns[index["IDs"]]]
    table["names"] = [_split_list(s) for s in columns[index["Names"]]]
    table["hip"] = np.array([_hip_of(ids) for ids in table["ids"]], dtype=np.int64)
    table["line"] = np.asarray(numbers, dtype=np.int64)
    logger.debug("read %d SSCore rows from %s", len(rows), path)
    return table


def read_d3_names(path: Path) -> dict[int, dict[str, str]]:
    """Read the d3-celestial star names, keyed by HIP number, with plain spaces.

    Each value holds the fields of `D3_FIELDS` (empty string when absent), with
    thin spaces turned into spaces and invisible direction marks removed.
    """
    path = Path(path)
    text = _decode(path, _read_source(path), "utf-8")
    if not text.strip():
        raise SourceFormatError(path, "the file is empty; expected a JSON object")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SourceFormatError(path, f"not valid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(document, dict):
        raise SourceFormatError(
            path,
            f"expected a JSON object keyed by HIP number, found a "
            f"{type(document).__name__}",
            line=1,
        )
    names: dict[int, dict[str, str]] = {}
    for key, entry in document.items():
        if not key.isdigit() or not isinstance(entry, dict):
            raise SourceFormatError(
                path, f"entry {key!r}: expected a HIP number mapping to an object"
            )
        for field in D3_FIELDS:
            value = entry.get(field)
            if value is not None and not isinstance(value, str):
                raise SourceFormatError(
                    path,
                    f"entry {key!r}, field {field!r}: expected text or null, found"
                    f" {type(value).__name__} {json.dumps(value)[:40]}",
                )
        names[int(key)] = {
            field: clean_text(entry.get(field) or "") for field in D3_FIELDS
        }
    logger.debug("read %d d3-celestial names from %s", len(names), path)
    return names


def read_exoplanets(path: Path) -> dict[str, object]:
    """Read a NASA PSCompPars CSV by column name, one planet a row.

    Text columns (`EXOPLANET_TEXT_COLUMNS`, and `EXOPLANET_OPTIONAL_TEXT_COLUMNS`
    when the header has them) are lists with None for an empty cell; numeric
    columns (`EXOPLANET_FLOAT_COLUMNS`) are float arrays with NaN.
    """
    path = Path(path)
    lines = _uncommented(_text_lines(path, _read_source(path)))
    header, rows, numbers = _csv_rows(path, lines)
    wanted = EXOPLANET_TEXT_COLUMNS + EXOPLANET_FLOAT_COLUMNS
    index = _column_index(path, header, wanted, lines[0][0])
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(header)
    table: dict[str, object] = {}
    for name in EXOPLANET_TEXT_COLUMNS:
        table[name] = [s.strip() or None for s in columns[index[name]]]
    for name in EXOPLANET_FLOAT_COLUMNS:
        table[name] = _floats(path, columns[index[name]], numbers, name)
    for name in EXOPLANET_OPTIONAL_TEXT_COLUMNS:
        if name in header:
            values = columns[list(header).index(name)]
            table[name] = [s.strip() or None for s in values]
        else:
            table[name] = [None] * len(rows)
    for name in _EXOPLANET_REQUIRED_VALUES:
        _require_values(path, table[name], numbers, name)
    table["line"] = np.asarray(numbers, dtype=np.int64)
    logger.debug("read %d planets from %s", len(rows), path)
    return table


def clean_text(text: str) -> str:
    """Return text with thin and no-break spaces as spaces and no invisible marks."""
    if text.isascii():  # most cells: the marks and odd spaces are all non-ASCII
        return " ".join(text.split())
    return " ".join(text.translate(_INVISIBLE).translate(_SPACES).split())


def _read_source(path: Path) -> bytes:
    """Read a source file's bytes, gunzipping when it is gzip."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise SourceMissingError(f"{path}: source file not found") from exc
    if raw[:2] == b"\x1f\x8b":
        return _gunzip(path, raw)
    if path.suffix == ".gz":
        raise SourceFormatError(
            path, "named .gz but not a gzip file (no gzip magic bytes)", line=None
        )
    return raw


def _gunzip(path: Path, raw: bytes) -> bytes:
    """Decompress every gzip member, refusing a truncated or corrupt stream."""
    parts: list[bytes] = []
    data = raw
    while data:
        inflater = zlib.decompressobj(wbits=31)
        try:
            parts.append(inflater.decompress(data))
        except zlib.error as exc:
            line = sum(part.count(b"\n") for part in parts) + 1
            raise SourceFormatError(
                path, f"corrupt gzip stream ({exc}); fetch the file again", line=line
            ) from exc
        if not inflater.eof:
            line = sum(part.count(b"\n") for part in parts) + 1
            raise SourceFormatError(
                path,
                "truncated gzip: the compressed stream ends before its end marker, "
                "the data breaks off here; fetch the file again",
                line=line,
            )
        data = inflater.unused_data.lstrip(b"\0")
    return b"".join(parts)


def _decode(path: Path, data: bytes, encoding: str) -> str:
    """Decode bytes, dropping a UTF-8 BOM and refusing binary content."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    nul = data.find(b"\0")
    if nul >= 0:
        raise SourceFormatError(
            path,
            "binary content (a NUL byte): not a text catalogue",
            line=data.count(b"\n", 0, nul) + 1,
        )
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SourceFormatError(
            path,
            f"not {encoding} text ({exc.reason}: byte 0x{data[exc.start]:02x} at"
            f" offset {exc.start}); the file is in another encoding (latin-1?):"
            f" save it as {encoding}",
            line=line,
        ) from exc


def _text_lines(
    path: Path, data: bytes, encoding: str = "utf-8"
) -> list[tuple[int, str]]:
    """Split decoded text into numbered lines, refusing blank lines inside."""
    lines = _decode(path, data, encoding).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    numbered = []
    for number, line in enumerate(lines, start=1):
        line = line.rstrip("\r")
        if not line.strip():
            raise SourceFormatError(path, "blank line inside the table", line=number)
        numbered.append((number, line))
    return numbered


def _uncommented(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Drop `#` comment lines, keeping every other line's number."""
    return [(n, line) for n, line in lines if not line.lstrip().startswith("#")]


def _csv_rows(
    path: Path, lines: Sequence[tuple[int, str]]
) -> tuple[list[str], list[list[str]], list[int]]:
    """Parse CSV lines into a header and rows that all have the header's width."""
    if not lines:
        raise SourceFormatError(path, "the file is empty; expected a CSV header")
    parsed = csv.reader([line for _, line in lines], strict=True)
    records: list[list[str]] = []
    start = 1  # the line the record being parsed began on (a quote may span lines)
    try:
        for record in parsed:
            records.append(record)
            start = parsed.line_num + 1
    except csv.Error as exc:
        first = lines[min(start, len(lines)) - 1][0]
        last = lines[min(parsed.line_num, len(lines)) - 1][0]
        problem = f"malformed CSV: {exc}"
        if last != first:
            problem += f" (the row runs on to line {last}: a quote left open?)"
        raise SourceFormatError(path, problem, line=first) from exc
    header = [name.strip() for name in records[0]] if records else []
    rows = records[1:]
    numbers = [number for number, _ in lines]
    for row, number in zip(rows, numbers[1:], strict=True):
        if len(row) != len(header):
            raise SourceFormatError(
                path,
                f"expected {len(header)} fields like the header, found {len(row)}",
                line=number,
            )
    if not rows:
        raise SourceFormatError(path, "a header but no data rows", line=numbers[0])
    return header, rows, numbers[1:]


def _column_index(
    path: Path, header: Sequence[str], wanted: Iterable[str], header_line: int
) -> dict[str, int]:
    """Map each wanted column to its position, refusing a missing one."""
    positions = {name: i for i, name in enumerate(header)}
    missing = [name for name in wanted if name not in positions]
    if len(missing) == len(list(wanted)):
        raise SourceFormatError(
            path,
            f"no header line naming the columns: found {', '.join(header[:3])}, ..."
            f" where the header should name {', '.join(list(wanted)[:4])}, ...",
            line=header_line,
        )
    if missing:
        raise SourceFormatError(
            path,
            f"required column(s) missing from the header: {', '.join(missing)}",
            line=header_line,
        )
    return {name: positions[name] for name in wanted}


def _floats(
    path: Path, values: Sequence[str] | np.ndarray, lines: Sequence[int], column: str
) -> np.ndarray:
    """Convert text to floats with NaN for empty fields, refusing anything else."""
    if isinstance(values, np.ndarray):
        return _byte_floats(path, values, lines, column)
    stripped = [s.strip() for s in values]
    empty = np.array([not s for s in stripped], dtype=bool)
    try:
        out = np.array([s or "0" for s in stripped], dtype=np.float64)
    except ValueError:
        out = None
    if out is None or not np.isfinite(out).all():
        _raise_first_bad_float(path, stripped, lines, column)
    out[empty] = np.nan
    return out


def _byte_floats(
    path: Path, values: np.ndarray, lines: Sequence[int], column: str
) -> np.ndarray:
    """`_floats` of a byte-string array, converted by numpy in one pass.

    numpy reads a decimal number to the same float as `float` (leading and
    trailing spaces allowed) but refuses an empty field, so blanks are parsed as
    0 and then made NaN. A field numpy cannot read, or one not finite, takes the
    text path, which reads it as before or names its line.
    """
    blank = np.strings.strip(values) == b""
    try:
        out = np.where(blank, b"0", values).astype(np.float64)
    except ValueError:
        out = None
    if out is None or not np.isfinite(out).all():
        return _floats(path, _strings(values), lines, column)
    out[blank] = np.nan
    return out


def _raise_first_bad_float(
    path: Path, values: Sequence[str], lines: Sequence[int], column: str
) -> None:
    """Find the first field that is not a finite number and raise for it."""
    for text, line in zip(values, lines, strict=True):
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise SourceFormatError(
                path, f"column {column}: {text!r} is not a number", line=line
            )
    raise SourceFormatError(path, f"column {column}: unreadable numbers")


def _integers(
    path: Path,
    values: Sequence[str] | np.ndarray,
    lines: Sequence[int],
    column: str,
    required: bool,
) -> np.ndarray:
    """Convert text to positive integers, `NO_ID` when empty and allowed."""
    stripped = [s.strip() for s in _strings(values)]
    empty = np.array([not s for s in stripped], dtype=bool)
    if all(s.isdigit() for s in stripped if s) and not (required and empty.any()):
        out = np.array([s or "0" for s in stripped], dtype=np.int64)
        out[empty] = NO_ID
        if (out[~empty] > 0).all():
            return out
    for text, line in zip(stripped, lines, strict=True):
        if (text or required) and not (text.isdigit() and int(text) > 0):
            raise SourceFormatError(
                path,
                f"column {column}: {text!r} is not a positive integer",
                line=line,
            )
    raise SourceFormatError(path, f"column {column}: unreadable integers")


def _require_values(
    path: Path, column: Sequence[object], lines: Sequence[int], name: str
) -> None:
    """Refuse a row whose required cell is empty."""
    for value, line in zip(column, lines, strict=True):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            raise SourceFormatError(path, f"column {name} is empty", line=line)


def _sexagesimal(
    path: Path,
    values: Sequence[str],
    lines: Sequence[int],
    column: str,
    hours: bool,
) -> np.ndarray:
    """Convert "hh mm ss.ss" or "+dd mm ss.s" text to degrees."""
    out = np.empty(len(values))
    limit = 24.0 if hours else 90.0
    for i, (text, line) in enumerate(zip(values, lines, strict=True)):
        text = text.strip()
        parts = text.split()
        try:
            whole, minutes, seconds = (float(part) for part in parts)
        except ValueError:
            whole = math.nan
            minutes = seconds = 0.0
        ok = (
            math.isfinite(whole)
            and abs(whole) <= limit
            and 0 <= minutes < 60
            and 0 <= seconds < 60
        )
        if not ok:
            form = "hh mm ss.ss" if hours else "+dd mm ss.s"
            raise SourceFormatError(
                path, f"column {column}: {text!r} is not {form!r}", line=line
            )
        value = abs(whole) + minutes / 60.0 + seconds / 3600.0
        sign = -1.0 if text.startswith("-") else 1.0
        out[i] = sign * value * (15.0 if hours else 1.0)
    return out


def _split_list(text: str) -> list[str]:
    """Split a `;`-separated cell into its non-empty, space-normalised items."""
    return [clean_text(item) for item in text.split(";") if item.strip()]


def _hip_of(ids: Sequence[str]) -> int:
    """Return the number of the first `HIP n` identifier, or `NO_ID`."""
    for identifier in ids:
        match = _HIP_ID.match(identifier)
        if match:
            return int(match.group(1))
    return NO_ID
