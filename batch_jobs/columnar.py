"""A build's columnar artifacts: `stars.npz` (one row per system) and `planets.npz`.

Each artifact is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays, read with
``numpy.load(..., allow_pickle=False)``), one array per column, all of the same
length, plus a ``__schema__`` member holding this module's schema as JSON. The
zip entries carry a fixed timestamp, so the same world gives the same bytes and
the same sha256 in the build manifest (and a rerun's `put_once` finds them equal).

Column kinds and their missing-value markers (the in-memory form; `records`
turns every marker back into None, so NaN never reaches JSON):

| kind | dtype | missing |
| --- | --- | --- |
| ``float`` | float64 | NaN |
| ``int`` | int64 | -1 (`MISSING_INT`; HIP and HD numbers are positive) |
| ``text`` | UTF-8 bytes ``|S`` | empty string |
| ``flag`` | bool | never missing |
| ``tristate`` | int8 | -1 (0 false, 1 true) |
| ``json`` | UTF-8 bytes ``|S`` | empty string; else a compact JSON object |

`STAR_COLUMNS` and `PLANET_COLUMNS` are the schema: name, kind, unit and meaning
of every column. A system record field not in the schema is not stored here (the
`systems.jsonl.gz` artifact keeps whole records).
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import orjson

logger = logging.getLogger(__name__)

SCHEMA_VERSION = "columnar-2"
MISSING_INT = -1
SCHEMA_MEMBER = "__schema__"
_NON_TEXT_VALUE = re.compile(rb'":[^"{]')
_KINDS = ("float", "int", "text", "flag", "tristate", "json")
# Star columns computed from the record rather than read from one of its fields.
_STAR_COMPUTED = ("has_position", "planet_count")


@dataclass(frozen=True)
class Column:
    """One column of a columnar artifact: its name, kind, unit and meaning."""

    name: str
    kind: str
    unit: str
    description: str


def _columns(rows: Sequence[tuple[str, str, str, str]]) -> tuple[Column, ...]:
    columns = tuple(Column(*row) for row in rows)
    unknown = [c.name for c in columns if c.kind not in _KINDS]
    if unknown:
        raise ValueError(f"schema columns of unknown kind: {', '.join(unknown)}")
    return columns


STAR_COLUMNS = _columns(
    [
        # identity
        ("system_id", "text", "", "stable system id (hip-N, nasa-..., sscore-...)"),
        ("name", "text", "", "display name"),
        ("source", "text", "", "source of the system record"),
        ("hip", "int", "", "Hipparcos number"),
        ("hd", "int", "", "Henry Draper number"),
        # astrometry
        ("ra_deg", "float", "deg", "ICRS right ascension"),
        ("dec_deg", "float", "deg", "ICRS declination"),
        ("parallax_mas", "float", "mas", "trigonometric parallax"),
        ("parallax_over_error", "float", "", "parallax over its standard error"),
        ("pmra_mas_yr", "float", "mas/yr", "proper motion in RA (times cos Dec)"),
        ("pmdec_mas_yr", "float", "mas/yr", "proper motion in Dec"),
        ("rv_kms", "float", "km/s", "radial velocity"),
        # position and motion
        ("has_position", "flag", "", "distance and x, y, z are known"),
        ("dist_pc", "float", "pc", "distance"),
        ("x_pc", "float", "pc", "heliocentric Galactic x, toward the centre"),
        ("y_pc", "float", "pc", "heliocentric Galactic y, toward l = 90 deg"),
        ("z_pc", "float", "pc", "heliocentric Galactic z, toward the north pole"),
        ("u_kms", "float", "km/s", "Galactic U, toward the centre"),
        ("v_kms", "float", "km/s", "Galactic V, toward l = 90 deg"),
        ("w_kms", "float", "km/s", "Galactic W, toward the north pole"),
        ("velocity", "text", "", "'full', 'tangential-only', or empty when none"),
        # photometry
        ("vmag", "float", "mag", "apparent V magnitude"),
        ("abs_vmag", "float", "mag", "absolute V magnitude"),
        ("bv", "float", "mag", "B-V colour index"),
        ("spectral_type", "text", "", "spectral type as catalogued"),
        # physics
        ("teff_k", "float", "K", "effective temperature"),
        ("luminosity_lsun", "float", "L_sun", "bolometric luminosity"),
        (
            "evolutionary_class",
            "text",
            "",
            "dwarf, subgiant, giant, supergiant or white-dwarf (batch_jobs.stellar)",
        ),
        ("mass_msun", "float", "M_sun", "stellar mass (dwarfs and white dwarfs)"),
        ("radius_rsun", "float", "R_sun", "stellar radius"),
        # provenance
        ("planet_count", "int", "", "planets of the system (known and inferred)"),
        ("provenance", "json", "", "field -> source, where not Hipparcos"),
    ]
)

PLANET_COLUMNS = _columns(
    [
        ("system_id", "text", "", "the system the planet orbits (a stars row)"),
        ("name", "text", "", "planet name"),
        ("known", "flag", "", "a catalogued planet"),
        ("inferred", "flag", "", "drawn by the inference model"),
        ("model_version", "text", "", "inference model of an inferred planet"),
        ("source", "text", "", "source of the planet record"),
        ("period_days", "float", "d", "orbital period"),
        ("semi_major_axis_au", "float", "au", "semi-major axis"),
        ("eccentricity", "float", "", "orbital eccentricity"),
        ("mass_earth", "float", "M_earth", "planet mass"),
        ("radius_earth", "float", "R_earth", "planet radius"),
        ("in_hz", "tristate", "", "inside the host's habitable zone"),
        ("derived", "json", "", "field -> rule for values derived, not measured"),
    ]
)

_FLOAT = {c.name: c for c in STAR_COLUMNS + PLANET_COLUMNS if c.kind == "float"}
SCHEMAS: dict[str, tuple[Column, ...]] = {
    "stars": STAR_COLUMNS,
    "planets": PLANET_COLUMNS,
}


class ColumnarFormatError(ValueError):
    """A columnar artifact or table does not follow its schema."""


# --- from records to columns -----------------------------------------------------


def _column_values(values: list, column: Column, where: str) -> np.ndarray:
    """One schema column's values (None where missing) as its array with markers."""
    kind = column.kind
    try:
        if kind == "float":
            return np.array(values, dtype=np.float64)  # None becomes NaN
        if kind == "int":
            return np.array(
                [MISSING_INT if v is None else v for v in values], dtype=np.int64
            )
        if kind == "flag":
            return np.array([bool(v) for v in values], dtype=bool)
        if kind == "tristate":
            return np.array(
                [MISSING_INT if v is None else int(bool(v)) for v in values],
                dtype=np.int8,
            )
        if kind == "json":
            return _json_column(values)
        return _bytes([b"" if v is None else str(v).encode() for v in values])
    except (TypeError, ValueError) as err:
        raise ColumnarFormatError(f"{where} column {column.name!r}: {err}") from err


def _table(
    records: Sequence[Mapping], columns: Sequence[Column], where: str
) -> dict[str, np.ndarray]:
    """Columns from records: every float column in one 2-D conversion (the bulk)."""
    floats = [c.name for c in columns if c.kind == "float"]
    table = {}
    if floats:
        rows = [tuple(map(r.get, floats)) for r in records]
        try:
            block = np.array(rows, dtype=np.float64).reshape(len(rows), len(floats))
        except (TypeError, ValueError):
            block = None  # find the column at fault below, to name it
        for j, name in enumerate(floats):
            if block is not None:
                table[name] = np.ascontiguousarray(block[:, j])
            else:
                values = [r.get(name) for r in records]
                table[name] = _column_values(values, _FLOAT[name], where)
    for c in columns:
        if c.kind != "float":
            table[c.name] = _column_values([r.get(c.name) for r in records], c, where)
    return table


def _text(values: list[str]) -> np.ndarray:
    """UTF-8 bytes: a quarter of numpy's 4-byte unicode, so far less to compress."""
    return _bytes([v.encode() for v in values])


def _bytes(encoded: list[bytes]) -> np.ndarray:
    """A bytes column (numpy's ``|S``); an empty one is ``S1``."""
    return np.array(encoded, dtype=bytes) if encoded else np.array([], dtype="S1")


def _json_column(values: list) -> np.ndarray:
    """A json column: each distinct JSON text made once, rows gathered by index.

    The records share a few thousand distinct objects among 120,000 rows (the
    provenance of most Hipparcos stars is one of a handful), so checking and
    storing each text once saves most of the work, and only the distinct texts
    are alive at once (orjson's bytes keep their growth buffer's footprint: a
    whole column of them held about 600 MB more at the peak). The gathered array
    pads every row to the longest, as one conversion of all rows does.
    """
    row_of: dict[bytes, int] = {}
    distinct: list[bytes] = []
    rows = []
    for value in values:
        fast = _orjson_bytes(value)
        row = row_of.get(fast) if fast is not None else None
        if row is None:
            row = len(distinct)
            text = _json_bytes(value)
            distinct.append(text)
            if fast == b"" or (fast is not None and _plain_json(fast)):
                row_of[fast] = row  # the text of any value with these bytes
        rows.append(row)
    return _bytes(distinct)[np.array(rows, dtype=np.int64)]


def _orjson_bytes(value) -> bytes | None:
    """orjson's compact, key-sorted bytes of a value; b"" for an empty one, None
    when orjson cannot write it."""
    if not value:
        return b""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None


def _json_bytes(value) -> bytes:
    """Compact JSON, keys sorted, ASCII only: the standard library's exact bytes.

    orjson writes them about twenty times faster where the two agree: text and
    mappings of text, which is what the json columns hold. A number, a null
    (NaN would be one), an escape or a non-ASCII or DEL byte in orjson's output
    sends the value to `json.dumps`, which writes those its own way (and
    refuses NaN).
    """
    fast = _orjson_bytes(value)
    if fast == b"":
        return fast
    if fast is not None and _plain_json(fast):
        return fast
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode()


def _plain_json(data: bytes) -> bool:
    """True for an object whose every value is text or such an object, in ASCII
    with no escape: the bytes json.dumps writes too.

    With no escape, `":` is always a key's end, so a value that starts with
    neither `"` nor `{` (a number, true, false or null) shows as `_NON_TEXT_VALUE`.
    """
    return (
        data[:1] == b"{"
        and data.isascii()
        and b"\\" not in data
        and b"\x7f" not in data
        and b"[" not in data
        and _NON_TEXT_VALUE.search(data) is None
    )


def star_table(systems: Sequence[Mapping]) -> dict[str, np.ndarray]:
    """The stars table: one row per system, in world order."""
    stored = [c for c in STAR_COLUMNS if c.name not in _STAR_COMPUTED]
    table = _table(systems, stored, "stars")
    table["has_position"] = np.isfinite(table["x_pc"])
    table["planet_count"] = np.array(
        [len(s.get("planets") or ()) for s in systems], dtype=np.int64
    )
    return {c.name: table[c.name] for c in STAR_COLUMNS}


def planet_table(systems: Iterable[Mapping]) -> dict[str, np.ndarray]:
    """The planets table: one row per planet, with its system's id, in world order."""
    owners, planets = [], []
    for s in systems:
        for planet in s.get("planets") or ():
            owners.append(s["system_id"])
            planets.append(planet)
    stored = [c for c in PLANET_COLUMNS if c.name != "system_id"]
    table = _table(planets, stored, "planets")
    table["system_id"] = _text(owners)
    return {c.name: table[c.name] for c in PLANET_COLUMNS}


# --- bytes -----------------------------------------------------------------------


def schema_json(kind: str) -> str:
    """The schema of a table kind as JSON (stored inside each artifact)."""
    return json.dumps(
        {
            "schema_version": SCHEMA_VERSION,
            "table": kind,
            "missing_int": MISSING_INT,
            "columns": [c.__dict__ for c in SCHEMAS[kind]],
        },
        sort_keys=True,
    )


def encode(kind: str, table: Mapping[str, np.ndarray]) -> bytes:
    """The ``.npz`` bytes of a table, checked against its schema first."""
    _check(kind, table)
    members = {SCHEMA_MEMBER: np.array(schema_json(kind))}
    members.update((c.name, table[c.name]) for c in SCHEMAS[kind])
    buffer = io.BytesIO()
    # Level 1: three times faster than zlib's default 6, for 30% more bytes.
    # A member opened by name takes the archive's method and level (a ZipInfo
    # passed in keeps its own level, zlib's default when unset) and ZipInfo's
    # fixed default time, 1980-01-01 00:00: the same content, the same bytes.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, array in members.items():
            with zf.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return buffer.getvalue()


def decode(kind: str, data: bytes) -> dict[str, np.ndarray]:
    """Read a table kind from its ``.npz`` bytes; refuse one that breaks the schema."""
    try:
        archive = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as err:
        raise ColumnarFormatError(f"{kind}.npz is not an npz archive: {err}") from err
    with archive:
        stored = str(archive[SCHEMA_MEMBER]) if SCHEMA_MEMBER in archive else None
        schema = json.loads(stored) if stored is not None else {}
        if schema.get("table") != kind:
            raise ColumnarFormatError(f"{kind}.npz has no {kind} schema member")
        table = {c.name: archive[c.name] for c in SCHEMAS[kind] if c.name in archive}
    _fill_added_columns(kind, table, schema.get("schema_version"))
    _check(kind, table)
    return table


# Columns added since columnar-1: an older build's artifact lacks them, and
# reads back with them missing in every row rather than being refused.
_ADDED_COLUMNS = {"stars": ("evolutionary_class",)}
_MISSING_BY_KIND = {"text": b"", "float": np.nan}


def _fill_added_columns(kind: str, table: dict, version: str | None) -> None:
    """Give a columnar-1 table the columns added since, all missing."""
    if version != "columnar-1" or not table:
        return
    rows = len(next(iter(table.values())))
    for column in SCHEMAS[kind]:
        if column.name in _ADDED_COLUMNS.get(kind, ()) and column.name not in table:
            marker = _MISSING_BY_KIND[column.kind]
            table[column.name] = np.full(rows, marker)


_DTYPE_KIND = {
    "float": "f",
    "int": "i",
    "text": "S",
    "flag": "b",
    "tristate": "i",
    "json": "S",
}


def _check(kind: str, table: Mapping[str, np.ndarray]) -> None:
    columns = SCHEMAS[kind]
    missing = [c.name for c in columns if c.name not in table]
    if missing:
        raise ColumnarFormatError(f"{kind} table lacks column(s) {', '.join(missing)}")
    lengths = {len(table[c.name]) for c in columns}
    if len(lengths) > 1:
        raise ColumnarFormatError(f"{kind} columns differ in length: {sorted(lengths)}")
    for c in columns:
        array = table[c.name]
        if array.ndim != 1 or array.dtype.kind != _DTYPE_KIND[c.kind]:
            raise ColumnarFormatError(
                f"{kind} column {c.name!r} is {array.dtype} with {array.ndim} "
                f"dimension(s); the schema wants 1-D {c.kind}"
            )
        if c.kind == "float" and np.isinf(array).any():
            raise ColumnarFormatError(f"{kind} column {c.name!r} holds infinity")


def load(store, bucket: str, build_id: str, kind: str) -> dict[str, np.ndarray]:
    """A published build's table (`stars` or `planets`) from the object store.

    `store` is a `chalicelib.storage.ObjectStore`; the simulation's world loader
    can take its positions and velocities from `load(..., "stars")` in place of
    parsing every JSON line of `systems.jsonl.gz`.
    """
    return decode(kind, store.get(bucket, f"builds/{build_id}/{kind}.npz"))


# --- back to records -------------------------------------------------------------


def records(kind: str, table: Mapping[str, np.ndarray]) -> list[dict]:
    """Rows as dicts with None for every missing value (JSON-safe: no NaN)."""
    lists = {c.name: _python_values(c, table[c.name]) for c in SCHEMAS[kind]}
    names = list(lists)
    return [dict(zip(names, row, strict=True)) for row in zip(*lists.values())]


def _python_values(column: Column, array: np.ndarray) -> list:
    kind = column.kind
    if kind == "float":
        out = array.astype(object)
        out[np.isnan(array)] = None
        return out.tolist()
    if kind in ("int", "tristate"):
        out = array.astype(object)
        out[array == MISSING_INT] = None
        values = out.tolist()
        return (
            [v if v is None else bool(v) for v in values]
            if kind == "tristate"
            else values
        )
    if kind == "flag":
        return array.tolist()
    values = [v.decode() for v in array.tolist()]
    if kind == "json":
        return [json.loads(v) if v else None for v in values]
    return [v or None for v in values]
