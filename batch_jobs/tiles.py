"""The client's star tile: every star with a distance, 16 bytes a star, no header.

Layout of one record, little-endian, packed (no padding), `STAR_DTYPE`:

| offset | type | field |
| --- | --- | --- |
| 0 | float32 | x (pc), heliocentric Galactic, toward the Galactic centre |
| 4 | float32 | y (pc), toward l = 90 deg |
| 8 | float32 | z (pc), toward the north Galactic pole |
| 12 | uint8 | r |
| 13 | uint8 | g |
| 14 | uint8 | b |
| 15 | uint8 | brightness |

Records follow the order of `World.tile_ids` (the system id of each record,
stored beside the tile as `tiles/stars_ids.json`); the record count is the file
size divided by 16.

Colour: a blackbody of the star's Teff sampled at 610, 550 and 465 nm (R, G, B),
each channel divided by a 6500 K blackbody's (so 6500 K is white), scaled so
the largest channel is 1, gamma-encoded with exponent 1/2.2. Unknown Teff gives
grey-white `UNKNOWN_RGB`.

Brightness: linear in absolute V magnitude, `M_BRIGHT` (and brighter) -> 255,
`M_FAINT` (and fainter) -> 1; 0 means the absolute magnitude is unknown.
"""

from __future__ import annotations

import logging

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

STAR_DTYPE = np.dtype(
    [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("r", "u1"),
        ("g", "u1"),
        ("b", "u1"),
        ("brightness", "u1"),
    ]
)
RECORD_SIZE = STAR_DTYPE.itemsize

UNKNOWN_RGB = (224, 224, 224)
M_BRIGHT = -10.0
M_FAINT = 17.0
WHITE_POINT_K = 6500.0
_WAVELENGTHS_UM = np.array([0.610, 0.550, 0.465])
_C2_UM_K = 14387.77  # second radiation constant hc/k (CODATA 2018), micron kelvin


def _planck(teff_k: np.ndarray) -> np.ndarray:
    """Return blackbody spectral radiance (arbitrary units) at the three wavelengths."""
    lam = _WAVELENGTHS_UM
    with np.errstate(over="ignore"):
        return 1.0 / (lam**5 * np.expm1(_C2_UM_K / (lam * teff_k[..., None])))


def colour_from_teff(teff_k: ArrayLike) -> np.ndarray:
    """Return (n, 3) uint8 RGB for effective temperatures, grey-white when unknown."""
    teff = np.atleast_1d(np.asarray(teff_k, dtype=np.float64))
    known = np.isfinite(teff) & (teff > 0)
    rgb = np.empty(teff.shape + (3,), dtype=np.uint8)
    rgb[...] = UNKNOWN_RGB
    if known.any():
        ratio = _planck(teff[known]) / _planck(np.array([WHITE_POINT_K]))
        ratio /= ratio.max(axis=-1, keepdims=True)
        rgb[known] = np.round(255.0 * ratio ** (1.0 / 2.2)).astype(np.uint8)
    return rgb


def brightness_from_abs_mag(abs_mag: ArrayLike) -> np.ndarray:
    """Return uint8 brightness 1-255 from absolute magnitude, 0 when unknown."""
    mag = np.atleast_1d(np.asarray(abs_mag, dtype=np.float64))
    scaled = (M_FAINT - mag) / (M_FAINT - M_BRIGHT) * 254.0 + 1.0
    out = np.clip(np.round(np.nan_to_num(scaled, nan=0.0)), 1, 255).astype(np.uint8)
    out[~np.isfinite(mag)] = 0
    return out


def encode_stars(
    x_pc: ArrayLike,
    y_pc: ArrayLike,
    z_pc: ArrayLike,
    teff_k: ArrayLike,
    abs_mag: ArrayLike,
) -> bytes:
    """Pack star positions, colours and brightness into the 16-byte tile records."""
    x = np.atleast_1d(np.asarray(x_pc, dtype=np.float64))
    if not np.isfinite(x).all():
        raise ValueError("every tile star needs finite x, y, z")
    records = np.zeros(x.shape[0], dtype=STAR_DTYPE)
    records["x"] = x
    records["y"] = np.asarray(y_pc, dtype=np.float64)
    records["z"] = np.asarray(z_pc, dtype=np.float64)
    if not (np.isfinite(records["y"]).all() and np.isfinite(records["z"]).all()):
        raise ValueError("every tile star needs finite x, y, z")
    rgb = colour_from_teff(teff_k).reshape(-1, 3)
    records["r"], records["g"], records["b"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    records["brightness"] = brightness_from_abs_mag(abs_mag)
    return records.tobytes()


def decode_stars(data: bytes) -> np.ndarray:
    """Unpack a tile into a structured array of `STAR_DTYPE` records."""
    if len(data) % RECORD_SIZE:
        raise ValueError(
            f"tile size {len(data)} is not a multiple of {RECORD_SIZE} bytes"
        )
    return np.frombuffer(data, dtype=STAR_DTYPE)


# ---------------------------------------------------------------- flags tile
# One byte a star, in `World.tile_ids` order, `tiles/stars_flags.bin`.
FLAG_KNOWN_PLANETS = 1  # at least one known (catalogued) planet
FLAG_INFERRED_PLANETS = 2  # at least one planet inferred by the occurrence model
# A known or inferred planet whose `in_hz` flag is true (the conservative zone).
FLAG_HZ_PLANETS = 4
FLAG_FULL_VELOCITY = 8  # the velocity tile holds a radial velocity for this star
FLAG_VELOCITY = 16  # the velocity tile holds a velocity (tangential at least)


def system_flags(system: dict) -> int:
    """Return the flag byte of one system record (see FLAG_*)."""
    planets = system.get("planets") or ()
    flags = 0
    if any(p.get("known") for p in planets):
        flags |= FLAG_KNOWN_PLANETS
    if any(p.get("inferred") for p in planets):
        flags |= FLAG_INFERRED_PLANETS
    if any(p.get("in_hz") is True for p in planets):
        flags |= FLAG_HZ_PLANETS
    if system.get("u_kms") is not None:
        flags |= FLAG_VELOCITY
        if system.get("velocity") == "full":
            flags |= FLAG_FULL_VELOCITY
    return flags


def encode_flags(systems: list[dict]) -> bytes:
    """Pack the flag byte of each system, in the order given."""
    return bytes(system_flags(s) for s in systems)


# ------------------------------------------------------------- velocity tile
# Three little-endian int16 a star (6 bytes), Galactic U, V, W (toward the
# Galactic centre, rotation, north pole) in units of VELOCITY_UNIT_KMS km/s,
# heliocentric, in `World.tile_ids` order, `tiles/stars_velocity.bin`. A star
# without radial velocity carries its tangential motion only; one without any
# velocity carries zeros. The client loads it only when time moves.
VELOCITY_DTYPE = np.dtype([("u", "<i2"), ("v", "<i2"), ("w", "<i2")])
VELOCITY_UNIT_KMS = 0.05
_VELOCITY_LIMIT = np.iinfo(np.int16).max


def encode_velocities(u_kms: ArrayLike, v_kms: ArrayLike, w_kms: ArrayLike) -> bytes:
    """Pack U, V, W (km/s, NaN when unknown -> 0) into the 6-byte velocity records.

    Speeds beyond +-1638 km/s (none among catalogue stars with sound parallaxes)
    are clipped to the int16 range.
    """
    columns = [np.asarray(c, dtype=np.float64) for c in (u_kms, v_kms, w_kms)]
    if len({c.shape for c in columns}) != 1:
        raise ValueError("u, v and w must have the same length")
    records = np.zeros(columns[0].shape[0], dtype=VELOCITY_DTYPE)
    for name, values in zip(("u", "v", "w"), columns, strict=True):
        scaled = np.round(np.nan_to_num(values, nan=0.0) / VELOCITY_UNIT_KMS)
        records[name] = np.clip(scaled, -_VELOCITY_LIMIT, _VELOCITY_LIMIT)
    return records.tobytes()


def decode_velocities(data: bytes) -> np.ndarray:
    """Unpack a velocity tile into (n, 3) float64 km/s."""
    if len(data) % VELOCITY_DTYPE.itemsize:
        raise ValueError(
            f"velocity tile size {len(data)} is not a multiple of "
            f"{VELOCITY_DTYPE.itemsize} bytes"
        )
    records = np.frombuffer(data, dtype=VELOCITY_DTYPE)
    return np.stack([records[k] for k in ("u", "v", "w")], axis=1) * VELOCITY_UNIT_KMS


# ---------------------------------------------------------------- label list
# `tiles/labels.json`: [[tile index, name], ...] for the stars the map labels,
# the brightest in the sky first, then the nearest, each with a proper or
# traditional name (not a bare catalogue number).
LABEL_BRIGHTEST = 220
LABEL_NEAREST = 120
_CATALOGUE_ONLY = ("HIP ", "HD ", "TYC ", "2MASS ", "Gaia ")


def _labelled(name: object) -> bool:
    return isinstance(name, str) and bool(name) and not name.startswith(_CATALOGUE_ONLY)


def label_list(systems: list[dict]) -> list[list]:
    """Return [[index, name], ...] of the stars worth a label, in tile order."""
    named = [
        (i, s) for i, s in enumerate(systems) if s["source"] != "sol"
        and _labelled(s.get("name"))
    ]  # fmt: skip
    bright = sorted(
        (p for p in named if p[1].get("vmag") is not None),
        key=lambda p: (p[1]["vmag"], p[0]),
    )[:LABEL_BRIGHTEST]
    near = sorted(named, key=lambda p: (p[1].get("dist_pc") or 0.0, p[0]))
    chosen = {i for i, _ in bright}
    for i, _ in near:
        if len(chosen) >= LABEL_BRIGHTEST + LABEL_NEAREST:
            break
        chosen.add(i)
    sun = [[i, s["name"]] for i, s in enumerate(systems) if s["source"] == "sol"]
    return sun + [[i, systems[i]["name"]] for i in sorted(chosen)]
