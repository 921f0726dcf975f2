"""Stellar physics from photometry: temperature, bolometric correction, luminosity.

All functions are vectorised over numpy arrays and pass NaN through: a missing
input gives a missing output, never a default value.

- Effective temperature from B-V: Ballesteros 2012, EPL 97, 34970,
  T = 4600 K (1/(0.92 (B-V) + 1.7) + 1/(0.92 (B-V) + 0.62)), derived from a
  blackbody; applied inside `BV_RANGE` only (bluer, the denominators approach
  zero; redder, molecular bands and carbon-star colours make it meaningless).
- Bolometric correction in V from log Teff: the Flower 1996 (ApJ 469, 355)
  polynomials with the coefficients as corrected and reprinted by Torres 2010,
  AJ 140, 1158, Table 1.
- Luminosity: M_bol = M_V + BC_V and L/Lsun = 10**(-0.4 (M_bol - 4.74)), with
  M_bol,sun = 4.74 (the IAU 2015 Resolution B2 nominal value).
- Spectral types (`parse_spectral_type`): the MK temperature class and subclass,
  the luminosity class (Ia0 to VI, ranges such as "IV-V" taken halfway), white
  dwarfs ("D" types, with the temperature index of Sion et al. 1983, ApJ 269,
  253: index = 50400 K / Teff) and the prefixes sd/esd (subdwarfs), d, g, c.
- Teff from the spectral type, for a star without a usable B-V: the dwarf
  sequence of Pecaut & Mamajek 2013 (ApJS 208, 9, Table 5, as kept up to date
  by E. Mamajek, "A Modern Mean Dwarf Stellar Color and Effective Temperature
  Sequence", version 2024.05.15; `_DWARF_SEQUENCE`), interpolated in subclass.
  Giants get the dwarf scale too (a K giant is some 300-500 K cooler than a K
  dwarf of its type: a stated shortcoming). A white dwarf's temperature index
  gives its Teff, and wins over its colour: the index is a measured Teff, while
  the colour relation is calibrated on ordinary stars.
- Evolutionary class (`evolutionary_class`): from the luminosity class when the
  type gives one, else from the absolute magnitude against the main sequence
  at the star's Teff (`CLASS_FROM_MAGNITUDE_RULE`).
- Mass: main-sequence stars ("dwarf") by the same Pecaut & Mamajek sequence,
  mass against absolute V magnitude (or against luminosity without one); white
  dwarfs the typical 0.6 Msun (the mean DA mass is 0.593 +- 0.016 Msun, Kepler
  et al. 2007, MNRAS 375, 1315); giants, subgiants and supergiants none (no
  single relation holds for them). Radius from L and Teff for every class
  (Stefan-Boltzmann).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

logger = logging.getLogger(__name__)

MBOL_SUN = 4.74
"""Absolute bolometric magnitude of the Sun (IAU 2015 B2)."""

TEFF_SUN_K = 5772.0
"""Nominal solar effective temperature (IAU 2015 Resolution B3)."""

BV_RANGE = (-0.4, 2.0)
"""B-V interval over which `teff_from_bv` is applied; NaN outside it."""

# Torres 2010, Table 1: BC_V = a + b log T + c (log T)^2 + ... for three ranges of
# log Teff; each tuple lists a, b, c, ... in increasing power.
_BC_COEFFICIENTS = (
    (
        -0.190537291496456e05,
        0.155144866764412e05,
        -0.421278819301717e04,
        0.381476328422343e03,
    ),
    (
        -0.370510203809015e05,
        0.385672629965804e05,
        -0.150651486316025e05,
        0.261724637119416e04,
        -0.170623810323864e03,
    ),
    (
        -0.118115450538963e06,
        0.137145973583929e06,
        -0.636233812100225e05,
        0.147412923562646e05,
        -0.170587278406872e04,
        0.788731721804990e02,
    ),
)
_LOG_TEFF_BREAKS = (3.70, 3.90)


def teff_from_bv(bv: ArrayLike) -> np.ndarray:
    """Return Teff (K) from B-V by Ballesteros 2012, NaN outside `BV_RANGE`."""
    colour = np.asarray(bv, dtype=np.float64)
    inside = (colour >= BV_RANGE[0]) & (colour <= BV_RANGE[1])
    c = np.where(inside, colour, np.nan)
    return 4600.0 * (1.0 / (0.92 * c + 1.7) + 1.0 / (0.92 * c + 0.62))


def bolometric_correction(teff_k: ArrayLike) -> np.ndarray:
    """Return BC_V (mag) for effective temperatures (Flower 1996 via Torres 2010)."""
    teff = np.asarray(teff_k, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        log_t = np.log10(np.where(teff > 0, teff, np.nan))
    segment = np.digitize(np.nan_to_num(log_t), _LOG_TEFF_BREAKS)
    out = np.full(teff.shape, np.nan)
    for i, coefficients in enumerate(_BC_COEFFICIENTS):
        chosen = (segment == i) & np.isfinite(log_t)
        out[chosen] = np.polynomial.polynomial.polyval(log_t[chosen], coefficients)
    return out


def absolute_magnitude(apparent_mag: ArrayLike, dist_pc: ArrayLike) -> np.ndarray:
    """Return absolute magnitude M = m - 5 log10(d / 10 pc), NaN without a distance."""
    mag = np.asarray(apparent_mag, dtype=np.float64)
    dist = np.asarray(dist_pc, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        modulus = 5.0 * np.log10(np.where(dist > 0, dist, np.nan)) - 5.0
    return mag - modulus


def luminosity_from_magnitude(abs_vmag: ArrayLike, teff_k: ArrayLike) -> np.ndarray:
    """Return L/Lsun from absolute V magnitude and Teff, via BC_V(Teff)."""
    mbol = np.asarray(abs_vmag, dtype=np.float64) + bolometric_correction(teff_k)
    return 10.0 ** (-0.4 * (mbol - MBOL_SUN))


def luminosity_from_radius(radius_rsun: ArrayLike, teff_k: ArrayLike) -> np.ndarray:
    """Return L/Lsun = R^2 (Teff/Teff_sun)^4 (Stefan-Boltzmann in solar units)."""
    radius = np.asarray(radius_rsun, dtype=np.float64)
    teff = np.asarray(teff_k, dtype=np.float64)
    valid = (radius > 0) & (teff > 0)
    return np.where(valid, radius**2 * (teff / TEFF_SUN_K) ** 4, np.nan)


def bolometric_magnitude(luminosity_lsun: ArrayLike) -> np.ndarray:
    """Return M_bol for a luminosity in solar units, NaN for a non-positive one."""
    lum = np.asarray(luminosity_lsun, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return MBOL_SUN - 2.5 * np.log10(np.where(lum > 0, lum, np.nan))


# --- spectral types ---------------------------------------------------------------

TEMPERATURE_CLASSES = "OBAFGKMLTY"
"""MK temperature classes in order; a type's code is 10 x index + subclass."""

EVOLUTIONARY_CLASSES = ("dwarf", "subgiant", "giant", "supergiant", "white-dwarf")

# Luminosity classes as numbers (Ia0 0 ... VI 6); a range such as "IV-V" or
# "III/IV" is taken halfway between its ends.
_LUMINOSITY_CODES = {
    "Ia0": 0.0,
    "Ia+": 0.0,
    "Ia": 1.0,
    "Iab": 1.25,
    "Ib": 1.5,
    "I": 1.0,
    "II": 2.0,
    "III": 3.0,
    "IV": 4.0,
    "V": 5.0,
    "VI": 6.0,
}
# Prefixes of the older notations: subdwarfs (luminosity class VI), Mount Wilson
# dwarfs and giants, and "c" for supergiants.
_PREFIX_CODES = {"esd": 6.0, "usd": 6.0, "sd": 6.0, "d": 5.0, "g": 3.0, "c": 1.0}
_ROMAN = r"Ia0|Ia\+|Iab|Ia|Ib|III|II|IV|VI|V|I"
_LUMINOSITY = re.compile(rf"(?<![A-Za-z])({_ROMAN})(?:\s*[-/]\s*({_ROMAN}))?")
_PREFIX = re.compile(r"^(esd|usd|sd|d|g|c)(?=[OBAFGKMLTY])")
_TEMPERATURE = re.compile(r"^([OBAFGKMLTY])(\d+(?:\.\d+)?)?")
# Am stars ("kA2hA5mA7V"): the hydrogen-line type is the one that follows Teff.
_HYDROGEN_TYPE = re.compile(r"h([OBAF]\d+(?:\.\d+)?)")
_WHITE_DWARF = re.compile(r"^(?:WD|D)[A-Z]*\s*(\d*\.?\d+)?")


@dataclass(frozen=True)
class SpectralType:
    """One parsed MK type; NaN (or False) where the text does not say."""

    type_code: float = np.nan  # 10 x index in TEMPERATURE_CLASSES + subclass
    luminosity_code: float = np.nan  # Ia0 0, Ia 1, ..., V 5, VI 6
    white_dwarf: bool = False
    white_dwarf_index: float = np.nan  # 50400 K / Teff (Sion et al. 1983)
    subdwarf: bool = False

    @property
    def evolutionary_class(self) -> str | None:
        """The class the type itself states (`luminosity_class_name`), or None."""
        if self.white_dwarf:
            return "white-dwarf"
        return luminosity_class_name(self.luminosity_code)


def luminosity_class_name(code: float) -> str | None:
    """Evolutionary class of a luminosity-class number, None for NaN.

    Below 2 (I, Ia, Iab, Ib, I-II) a supergiant; to 3.5 (II, II-III, III,
    III-IV) a giant; IV a subgiant; from 4.5 (IV-V, V, VI) a dwarf.
    """
    if not np.isfinite(code):
        return None
    if code < 2.0:
        return "supergiant"
    if code < 3.75:
        return "giant"
    if code < 4.5:
        return "subgiant"
    return "dwarf"


def parse_spectral_type(text: str | None) -> SpectralType:
    """Parse one spectral type; never raises (unreadable text says nothing).

    The first type of a composite ("A1V+DA") or an alternative ("G8/K0III") is
    taken; carbon, S and Wolf-Rayet types give no temperature.
    """
    if not isinstance(text, str):
        return SpectralType()
    spt = text.strip().lstrip("(").split("+")[0].strip()
    if not spt:
        return SpectralType()
    wd = _WHITE_DWARF.match(spt)
    if wd:
        index = float(wd[1]) if wd[1] else np.nan
        return SpectralType(
            white_dwarf=True, white_dwarf_index=index if index > 0 else np.nan
        )
    prefix = _PREFIX.match(spt)
    stated = _PREFIX_CODES[prefix[1]] if prefix else np.nan
    body = spt[prefix.end() :] if prefix else spt
    if body.startswith("k"):
        hydrogen = _HYDROGEN_TYPE.search(body)
        body = hydrogen[1] + body[hydrogen.end() :] if hydrogen else body[1:]
    temperature = _TEMPERATURE.match(body)
    code = np.nan
    if temperature and temperature[2] is not None:
        subclass = float(temperature[2])
        if subclass < 10.0:
            code = 10.0 * TEMPERATURE_CLASSES.index(temperature[1]) + subclass
    # A luminosity class counts only after a temperature class: in free text
    # ("Vega", "garbage") a capital V or I is no class.
    found = _LUMINOSITY.search(body, temperature.end()) if temperature else None
    if found:
        ends = [_LUMINOSITY_CODES[g] for g in found.groups() if g]
        stated = sum(ends) / len(ends)
    return SpectralType(
        type_code=code,
        luminosity_code=stated,
        subdwarf=bool(prefix) and prefix[1].endswith("sd"),
    )


@dataclass(frozen=True)
class SpectralTypes:
    """Parsed spectral types of many stars, column by column (see SpectralType).

    `stated_class` is the evolutionary class the type states, None where it
    states none.
    """

    type_code: np.ndarray
    luminosity_code: np.ndarray
    white_dwarf: np.ndarray
    white_dwarf_index: np.ndarray
    stated_class: np.ndarray


def parse_spectral_types(texts: Sequence[str | None]) -> SpectralTypes:
    """Parse every star's type; each distinct text is parsed once.

    A catalogue of 118,000 stars has some 4,000 distinct types, so the work is
    a dictionary look-up per star (faster than sorting the texts).
    """
    row_of: dict[str | None, int] = {}
    inverse = np.fromiter(
        (row_of.setdefault(t, len(row_of)) for t in texts),
        dtype=np.int64,
        count=len(texts),
    )
    parsed = [parse_spectral_type(t) for t in row_of]

    def column(values: list, dtype: type) -> np.ndarray:
        return np.array(values, dtype=dtype)[inverse]

    return SpectralTypes(
        type_code=column([p.type_code for p in parsed], np.float64),
        luminosity_code=column([p.luminosity_code for p in parsed], np.float64),
        white_dwarf=column([p.white_dwarf for p in parsed], bool),
        white_dwarf_index=column([p.white_dwarf_index for p in parsed], np.float64),
        stated_class=column([p.evolutionary_class for p in parsed], object),
    )


# --- the main sequence ------------------------------------------------------------

# Pecaut & Mamajek 2013 (ApJS 208, 9) Table 5, as extended and kept up to date
# by E. Mamajek ("A Modern Mean Dwarf Stellar Color and Effective Temperature
# Sequence", version 2024.05.15, columns SpT, Teff, logL, Mv, Msun; read in the
# author's public copy, github emamajek/SpectralType). Rows O3V to M9.5V, the
# stretch where every one of these columns has a value.
_DWARF_SEQUENCE = (
    # type, Teff (K), log L/Lsun, M_V, M/Msun
    ("O3", 45900, 5.820, -5.80, 59.0),
    ("O4", 42900, 5.652, -5.50, 48.0),
    ("O5", 41400, 5.540, -5.35, 43.0),
    ("O5.5", 40400, 5.444, -5.20, 38.0),
    ("O6", 39800, 5.364, -5.10, 35.0),
    ("O6.5", 38000, 5.272, -4.95, 31.0),
    ("O7", 37900, 5.180, -4.80, 28.0),
    ("O7.5", 36100, 5.088, -4.65, 26.0),
    ("O8", 35100, 4.992, -4.50, 23.6),
    ("O8.5", 34300, 4.908, -4.35, 21.9),
    ("O9", 33300, 4.820, -4.20, 20.2),
    ("O9.5", 31900, 4.720, -4.05, 18.7),
    ("B0", 31400, 4.652, -3.90, 17.7),
    ("B0.5", 29000, 4.428, -3.50, 14.8),
    ("B1", 26000, 4.128, -3.00, 11.8),
    ("B1.5", 24500, 3.912, -2.60, 9.9),
    ("B2", 20600, 3.428, -1.80, 7.3),
    ("B2.5", 18500, 3.204, -1.50, 6.1),
    ("B3", 17000, 2.992, -1.20, 5.4),
    ("B4", 16400, 2.892, -1.00, 5.1),
    ("B5", 15700, 2.772, -0.85, 4.7),
    ("B6", 14500, 2.568, -0.55, 4.3),
    ("B7", 14000, 2.476, -0.40, 3.92),
    ("B8", 12300, 2.188, 0.00, 3.38),
    ("B9", 10700, 1.864, 0.50, 2.75),
    ("B9.5", 10400, 1.800, 0.60, 2.68),
    ("A0", 9700, 1.584, 0.99, 2.33),
    ("A1", 9300, 1.488, 1.16, 2.17),
    ("A2", 8840, 1.384, 1.35, 2.06),
    ("A3", 8600, 1.232, 1.70, 1.92),
    ("A4", 8250, 1.128, 1.94, 1.88),
    ("A5", 8100, 1.092, 2.01, 1.86),
    ("A6", 7910, 1.046, 2.12, 1.83),
    ("A7", 7760, 1.000, 2.23, 1.76),
    ("A8", 7590, 0.960, 2.32, 1.67),
    ("A9", 7400, 0.916, 2.43, 1.63),
    ("F0", 7220, 0.864, 2.57, 1.60),
    ("F1", 7020, 0.790, 2.76, 1.50),
    ("F2", 6820, 0.710, 2.97, 1.43),
    ("F3", 6750, 0.668, 3.08, 1.41),
    ("F4", 6670, 0.622, 3.20, 1.38),
    ("F5", 6550, 0.556, 3.37, 1.32),
    ("F6", 6350, 0.432, 3.69, 1.25),
    ("F7", 6280, 0.390, 3.80, 1.21),
    ("F8", 6180, 0.292, 4.05, 1.16),
    ("F9", 6050, 0.216, 4.25, 1.12),
    ("F9.5", 5990, 0.180, 4.35, 1.09),
    ("G0", 5930, 0.130, 4.48, 1.07),
    ("G1", 5860, 0.077, 4.62, 1.04),
    ("G2", 5770, 0.010, 4.80, 1.00),
    ("G3", 5720, -0.014, 4.87, 0.99),
    ("G4", 5680, -0.036, 4.93, 0.985),
    ("G5", 5660, -0.054, 4.98, 0.98),
    ("G6", 5600, -0.098, 5.10, 0.965),
    ("G7", 5550, -0.134, 5.20, 0.945),
    ("G8", 5480, -0.204, 5.30, 0.93),
    ("G9", 5380, -0.260, 5.55, 0.89),
    ("K0", 5290, -0.324, 5.78, 0.86),
    ("K1", 5170, -0.394, 5.95, 0.85),
    ("K2", 5100, -0.428, 6.07, 0.82),
    ("K3", 4870, -0.570, 6.53, 0.76),
    ("K4", 4600, -0.692, 6.99, 0.72),
    ("K5", 4440, -0.780, 7.28, 0.70),
    ("K6", 4300, -0.848, 7.64, 0.67),
    ("K7", 4090, -0.992, 8.20, 0.64),
    ("K8", 3990, -1.064, 8.43, 0.61),
    ("K9", 3930, -1.100, 8.56, 0.60),
    ("M0", 3850, -1.164, 8.80, 0.585),
    ("M0.5", 3770, -1.268, 9.20, 0.56),
    ("M1", 3660, -1.336, 9.64, 0.51),
    ("M1.5", 3620, -1.444, 9.85, 0.485),
    ("M2", 3560, -1.540, 10.21, 0.45),
    ("M2.5", 3470, -1.636, 10.61, 0.42),
    ("M3", 3430, -1.788, 11.15, 0.36),
    ("M3.5", 3270, -2.032, 12.10, 0.29),
    ("M4", 3210, -2.144, 12.61, 0.24),
    ("M4.5", 3110, -2.400, 13.58, 0.18),
    ("M5", 3060, -2.520, 14.15, 0.155),
    ("M5.5", 2930, -2.792, 15.30, 0.122),
    ("M6", 2810, -2.980, 16.32, 0.105),
    ("M6.5", 2740, -3.096, 17.10, 0.096),
    ("M7", 2680, -3.188, 17.70, 0.090),
    ("M7.5", 2630, -3.240, 18.16, 0.088),
    ("M8", 2570, -3.292, 18.60, 0.086),
    ("M8.5", 2420, -3.472, 19.20, 0.080),
    ("M9", 2380, -3.520, 19.40, 0.079),
    ("M9.5", 2330, -3.572, 19.75, 0.078),
)
_MS = np.array([row[1:] for row in _DWARF_SEQUENCE], dtype=np.float64)
_MS_CODE = np.array(
    [10.0 * TEMPERATURE_CLASSES.index(t[0]) + float(t[1:]) for t, *_ in _DWARF_SEQUENCE]
)
_MS_TEFF, _MS_LOG_L, _MS_MV, _MS_LOG_MASS = (
    _MS[:, 0],
    _MS[:, 1],
    _MS[:, 2],
    np.log10(_MS[:, 3]),
)
# np.interp needs increasing abscissae: every column is monotonic in type.
for _column in (_MS_CODE, -_MS_TEFF, -_MS_LOG_L, _MS_MV):
    assert np.all(np.diff(_column) > 0), "the dwarf sequence must be monotonic"

WHITE_DWARF_MASS_MSUN = 0.6
"""Typical white-dwarf mass: mean DA mass 0.593 +- 0.016 Msun (Kepler et al. 2007)."""
WHITE_DWARF_INDEX_TEFF_K = 50400.0
"""A white dwarf's temperature index is 50400 K / Teff (Sion et al. 1983)."""

# Evolutionary class from the absolute magnitude (a model choice): the offset
# dM = M_V - M_V,MS(Teff) from the dwarf sequence at the star's Teff.
WHITE_DWARF_BELOW_MAG = 4.0
"""dM above this: a white dwarf (some 10 mag below the sequence; subdwarfs 1-2)."""
SUBGIANT_ABOVE_MAG = 1.5
"""dM below minus this: a subgiant (the sequence's own width is about 1 mag)."""
GIANT_ABOVE_MAG = 3.0
"""dM below minus this: a giant, or a supergiant when M_V is below the next."""
SUPERGIANT_MV = -4.5

CLASS_FROM_TYPE_RULE = "luminosity-class-of-spectral-type"
CLASS_FROM_MAGNITUDE_RULE = "absolute-magnitude-vs-main-sequence"
TEFF_FROM_BV_RULE = "teff-from-bv-ballesteros2012"
TEFF_FROM_TYPE_RULE = "teff-from-spectral-type-pecaut-mamajek2013"
TEFF_FROM_WHITE_DWARF_RULE = "teff-from-white-dwarf-index-sion1983"
MASS_MAIN_SEQUENCE_RULE = "main-sequence-mass-pecaut-mamajek2013"
MASS_WHITE_DWARF_RULE = "white-dwarf-typical-mass-kepler2007"
RADIUS_RULE = "radius-from-luminosity-teff-stefan-boltzmann"


def _inside(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """True where x is finite and within the grid's range (no extrapolation)."""
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (x >= grid[0]) & (x <= grid[-1])


def teff_from_type(type_code: ArrayLike) -> np.ndarray:
    """Teff (K) of a dwarf of the given type code, NaN outside O3-M9.5."""
    code = np.asarray(type_code, dtype=np.float64)
    teff = np.interp(np.nan_to_num(code), _MS_CODE, _MS_TEFF)
    return np.where(_inside(code, _MS_CODE), teff, np.nan)


def main_sequence_abs_vmag(teff_k: ArrayLike) -> np.ndarray:
    """M_V of the dwarf sequence at a Teff (interpolated in log Teff), NaN outside."""
    with np.errstate(invalid="ignore", divide="ignore"):
        log_t = np.log10(np.where(np.asarray(teff_k, np.float64) > 0, teff_k, np.nan))
    grid = -np.log10(_MS_TEFF)
    mv = np.interp(np.nan_to_num(-log_t), grid, _MS_MV)
    return np.where(_inside(-log_t, grid), mv, np.nan)


def main_sequence_mass(
    abs_vmag: ArrayLike, luminosity_lsun: ArrayLike | None = None
) -> np.ndarray:
    """Main-sequence mass (Msun) from M_V, else from L, by the dwarf sequence.

    One relation for the pipeline and the inference model: log M interpolated
    in M_V over Pecaut & Mamajek's O3V-M9.5V rows (in log L where M_V is
    missing); NaN outside the rows' range.
    """
    mv = np.asarray(abs_vmag, dtype=np.float64)
    by_mv = np.interp(np.nan_to_num(mv), _MS_MV, _MS_LOG_MASS)
    log_mass = np.where(_inside(mv, _MS_MV), by_mv, np.nan)
    if luminosity_lsun is not None:
        lum = np.asarray(luminosity_lsun, dtype=np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            log_l = np.log10(np.where(lum > 0, lum, np.nan))
        by_l = np.interp(np.nan_to_num(-log_l), -_MS_LOG_L, _MS_LOG_MASS)
        by_l = np.where(_inside(-log_l, -_MS_LOG_L), by_l, np.nan)
        log_mass = np.where(np.isfinite(log_mass), log_mass, by_l)
    return 10.0**log_mass


def radius_from_luminosity(luminosity_lsun: ArrayLike, teff_k: ArrayLike) -> np.ndarray:
    """R/Rsun = sqrt(L) (Teff_sun / Teff)^2 (Stefan-Boltzmann), NaN without both."""
    lum = np.asarray(luminosity_lsun, dtype=np.float64)
    teff = np.asarray(teff_k, dtype=np.float64)
    valid = (lum > 0) & (teff > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, np.sqrt(lum) * (TEFF_SUN_K / teff) ** 2, np.nan)


def class_from_magnitude(abs_vmag: ArrayLike, teff_k: ArrayLike) -> np.ndarray:
    """Evolutionary class from M_V against the dwarf sequence at the star's Teff.

    With dM = M_V - M_V,MS(Teff): dM > 4 a white dwarf; -1.5 <= dM <= 4 a dwarf
    (the sequence's width, binaries and subdwarfs); -3 <= dM < -1.5 a
    subgiant; dM < -3 a giant, or a supergiant when M_V < -4.5. None where M_V
    or Teff is missing or Teff lies outside the sequence (2330-45900 K).
    """
    mv = np.asarray(abs_vmag, dtype=np.float64)
    offset = mv - main_sequence_abs_vmag(teff_k)
    out = np.full(offset.shape, None, dtype=object)
    with np.errstate(invalid="ignore"):
        out[offset >= -SUBGIANT_ABOVE_MAG] = "dwarf"
        out[offset > WHITE_DWARF_BELOW_MAG] = "white-dwarf"
        out[(offset < -SUBGIANT_ABOVE_MAG) & (offset >= -GIANT_ABOVE_MAG)] = "subgiant"
        evolved = offset < -GIANT_ABOVE_MAG
        out[evolved] = "giant"
        out[evolved & (mv < SUPERGIANT_MV)] = "supergiant"
    return out


def classify(
    types: SpectralTypes, abs_vmag: ArrayLike, teff_k: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Each star's evolutionary class and the rule that gave it ("" for none).

    The class the spectral type states wins; else `class_from_magnitude`.
    """
    stated = types.stated_class
    by_magnitude = class_from_magnitude(abs_vmag, teff_k)
    from_type = stated != None  # noqa: E711 (elementwise on an object array)
    classes = np.where(from_type, stated, by_magnitude)
    rule = np.full(classes.shape, "", dtype=object)
    rule[from_type] = CLASS_FROM_TYPE_RULE
    by_magnitude_known = by_magnitude != None  # noqa: E711
    rule[~from_type & by_magnitude_known] = CLASS_FROM_MAGNITUDE_RULE
    return classes, rule


@dataclass(frozen=True)
class Physics:
    """Derived physics of many stars; NaN (None for text) where unknown.

    Each `*_rule` column names the rule that gave the value ("" where none did),
    for the records' provenance.
    """

    teff_k: np.ndarray
    teff_rule: np.ndarray
    abs_vmag: np.ndarray
    luminosity_lsun: np.ndarray
    evolutionary_class: np.ndarray
    class_rule: np.ndarray
    mass_msun: np.ndarray
    mass_rule: np.ndarray
    radius_rsun: np.ndarray


def derive(
    bv: ArrayLike,
    vmag: ArrayLike,
    dist_pc: ArrayLike,
    spectral_types: Sequence[str | None],
) -> Physics:
    """Teff, luminosity, class, mass and radius of every star, vectorised.

    Teff from B-V (Ballesteros), else from the spectral type (a white dwarf's
    index first); luminosity from M_V and BC(Teff); class from the type, else
    from M_V; mass for dwarfs and white dwarfs; radius from L and Teff.
    """
    types = parse_spectral_types(spectral_types)
    by_colour = teff_from_bv(bv)
    with np.errstate(invalid="ignore", divide="ignore"):
        by_index = WHITE_DWARF_INDEX_TEFF_K / types.white_dwarf_index
    by_type = np.where(types.white_dwarf, by_index, teff_from_type(types.type_code))
    use_index = types.white_dwarf & np.isfinite(by_index)
    use_colour = np.isfinite(by_colour) & ~use_index
    teff = np.where(use_colour, by_colour, by_type)
    teff_rule = np.full(teff.shape, "", dtype=object)
    teff_rule[use_colour] = TEFF_FROM_BV_RULE
    typed = ~use_colour & np.isfinite(teff)
    teff_rule[typed & ~types.white_dwarf] = TEFF_FROM_TYPE_RULE
    teff_rule[typed & types.white_dwarf] = TEFF_FROM_WHITE_DWARF_RULE

    abs_v = absolute_magnitude(vmag, dist_pc)
    luminosity = luminosity_from_magnitude(abs_v, teff)
    evolutionary, class_rule = classify(types, abs_v, teff)
    dwarf = evolutionary == "dwarf"
    white_dwarf = evolutionary == "white-dwarf"
    mass = np.where(dwarf, main_sequence_mass(abs_v, luminosity), np.nan)
    mass[white_dwarf] = WHITE_DWARF_MASS_MSUN
    mass_rule = np.full(teff.shape, "", dtype=object)
    mass_rule[dwarf & np.isfinite(mass)] = MASS_MAIN_SEQUENCE_RULE
    mass_rule[white_dwarf] = MASS_WHITE_DWARF_RULE
    return Physics(
        teff_k=teff,
        teff_rule=teff_rule,
        abs_vmag=abs_v,
        luminosity_lsun=luminosity,
        evolutionary_class=evolutionary,
        class_rule=class_rule,
        mass_msun=mass,
        mass_rule=mass_rule,
        radius_rsun=radius_from_luminosity(luminosity, teff),
    )
