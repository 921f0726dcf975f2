"""Planet inference model v1: planetary systems drawn from published occurrence rates.

For each dwarf star with no known planets the model draws a planetary system:
small planets from binned Kepler occurrence rates by stellar type (FGK: Fressin et
al. 2013 Table 3; M: Dressing & Charbonneau 2015), flat in log P and log R within
each bin, with Fressin's unmeasured long-period bins filled from Petigura, Howard
& Marcy 2013; giant planets from the Cumming et al. 2008 mass-period power law
with a rate proportional to stellar mass (Johnson et al. 2010). Masses or radii
follow the mean Chen & Kipping 2017 relation, eccentricities a Kipping 2013 Beta
distribution, semi-major axes Kepler's third law, and the habitable-zone flag the
Kopparapu et al. 2014 limits. `docs/model-card.md` gives every number, its
source, and what the model leaves out.

Determinism: every random number is a pure function of (model version, system id,
population, planet slot, quantity). A star's key is the first 8 bytes of
sha256(model version, system id); each draw hashes that key with its position
through the SplitMix64 finaliser (a counter-based generator). No stream is shared
between stars, so the same star gets the same planets in any order, in any batch,
on any number of workers; and the whole world is drawn in a few vectorised numpy
passes instead of one Generator per star.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from batch_jobs import stellar
from chalicelib import habitable

MODEL_VERSION = "occurrence-v1"
SOURCE = "inference"

DAYS_PER_YEAR = 365.25
"""Julian year in days: Kepler's third law in AU, years and solar masses."""

MJUP_EARTH = 317.83
"""Jupiter mass in Earth masses: GM_J / GM_E of IAU 2015 Resolution B3's nominal
values (317.8284 in astropy's constants); Forecaster itself converts with 317.828."""

# --- populations ---------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """One radius bin of small planets with binned occurrence over period.

    `rates[i]` is the mean number of planets per star with a radius in
    `radius_earth` and a period between `period_edges[i]` and
    `period_edges[i + 1]`. Within a bin, periods are flat in log P and radii flat
    in log R. Counts per star are Poisson with mean `sum(rates)`.
    """

    name: str
    star_class: str
    radius_earth: tuple[float, float]
    period_edges: tuple[float, ...]
    rates: tuple[float, ...]

    def mean_count(self) -> float:
        """Mean planets per star in this population."""
        return float(sum(self.rates))

    def rate_between(self, p_lo: float, p_hi: float) -> float:
        """Mean planets per star with p_lo <= P < p_hi (flat in log P per bin)."""
        total = 0.0
        for lo, hi, rate in zip(self.period_edges, self.period_edges[1:], self.rates):
            overlap = np.log(min(hi, p_hi) / max(lo, p_lo))
            total += rate * max(overlap, 0.0) / np.log(hi / lo)
        return total


def _per_log_period(rates: list[float], edges: list[float], p_from: float) -> float:
    """Mean density per ln P of the measured bins that start at or after p_from."""
    pairs = [
        (r, np.log(hi / lo))
        for r, lo, hi in zip(rates, edges, edges[1:])
        if lo >= p_from and r > 0
    ]
    return sum(r for r, _ in pairs) / sum(w for _, w in pairs)


# FGK dwarfs: Fressin et al. 2013 (ApJ 766, 81), the table of occurrence in % per
# period bin for radius bins 0.8-1.25-2-4-6-22 Re (the card calls it Table 3;
# the SAG13 compilation, github dgarrett622/Occurrence, Data/Fressin2013, says
# Table 2: the number is not settled). The paper's table was not reachable; the
# central values below are two public transcriptions that agree cell for cell:
# P-POP (Kammerer & Quanz 2018, A&A 609, A4; kammerje/p_pop, fressin2013,
# "baseline") and SAG13's eta.txt. Rows 0.8-6 Re are used, the 6-22 Re row is
# not. Cross-check with the paper's abstract (verified): 16.5% +- 3.6% of FGK
# stars have a 0.8-1.25 Re planet with P < 85 d; the Earth row sums to 18.4
# planets per 100 stars there, i.e. 16.8% of stars with at least one (Poisson).
FGK_PERIOD_EDGES = (
    0.8,
    2.0,
    3.4,
    5.9,
    10.0,
    17.0,
    29.0,
    50.0,
    85.0,
    145.0,
    245.0,
    418.0,
)
_FRESSIN_TABLE3 = {
    "earth": ((0.8, 1.25), [0.18, 0.61, 1.72, 2.7, 2.7, 2.93, 4.08, 3.46]),
    "super-earth": ((1.25, 2.0), [0.17, 0.74, 1.49, 2.9, 4.3, 4.49, 5.29, 3.66, 6.54]),
    "small-neptune": (
        (2.0, 4.0),
        [0.035, 0.18, 0.73, 1.93, 3.67, 5.29, 6.45, 5.25, 4.31, 3.09],
    ),
    "large-neptune": (
        (4.0, 6.0),
        [0.004, 0.006, 0.11, 0.091, 0.29, 0.32, 0.49, 0.66, 0.43, 0.53, 0.24],
    ),
}
# Fressin leaves the longest-period bins of the smaller classes unmeasured. For
# 1-2 Re we fill them from Petigura, Howard & Marcy 2013 (PNAS 110, 19273),
# abstract (verified): occurrence "constant with increasing orbital period (P),
# within equal intervals of logP up to ~200 d", and 5.7% of Sun-like stars have a
# 1-2 Re planet with P = 200-400 d; spread flat in log R. The flat size
# distribution below 2-2.8 Re is Petigura, Marcy & Howard 2013 (ApJ 770, 69,
# "A plateau in the planet population below twice the size of Earth") for close-in
# planets, as the authors summarise it (verified in that summary, not in the
# paper); using it at 200-418 d is a model choice. The 2-4 Re bin takes the row's
# own mean density per log P over 10 d and beyond (flat in log P, as above).
PETIGURA_1_2_RE_200_400 = 0.057
_PETIGURA_DENSITY = PETIGURA_1_2_RE_200_400 / np.log(2.0) / np.log(2.0)
"""Planets per star per ln P per ln R for 1-2 Re beyond Fressin's periods."""


def _fgk_populations() -> tuple[Population, ...]:
    edges = list(FGK_PERIOD_EDGES)
    out = []
    for name, (radius, percent) in _FRESSIN_TABLE3.items():
        rates = [p / 100.0 for p in percent]
        if radius[1] <= 2.0:
            density = _PETIGURA_DENSITY * np.log(radius[1] / radius[0])
        else:
            density = _per_log_period(rates, edges, 10.0)
        for lo, hi in zip(edges[len(rates) : -1], edges[len(rates) + 1 :]):
            rates.append(float(density * np.log(hi / lo)))
        out.append(Population(name, "fgk", radius, FGK_PERIOD_EDGES, tuple(rates)))
    return tuple(out)


# M dwarfs: Dressing & Charbonneau 2015 (ApJ 807, 45), occurrence in % per
# period bin (0.5-1.7-5.5-18.2-60.3-200 d) for 0.5 Re radius bins from 1 to 4 Re,
# as transcribed in P-POP (dressing2015 PlanetDistribution, "baseline"); the
# paper's table was not reachable and no second transcription was found. Two bins
# are empty there (1-1.5 and 1.5-2 Re at 5.5-18.2 d); we fill each with the
# geometric mean of its period neighbours. Cross-check with the abstract
# (verified): 2.5 +- 0.2 planets per M dwarf with 1-4 Re and P < 200 d (these
# rows give 2.55); 0.56 (+0.06 -0.05) Earth-size (1-1.5 Re) and 0.46 (+0.07
# -0.05) super-Earths (1.5-2 Re) with P < 50 d (these rows give 0.51 and 0.35).
# The 0.5-1 Re row is left out: P-POP has it only below 18 d.
M_PERIOD_EDGES = (0.5, 1.7, 5.5, 18.2, 60.3, 200.0)
_DRESSING_TABLE = {
    "earth": ((1.0, 1.5), [1.95, 9.94, None, 26.85, 28.85]),
    "super-earth": ((1.5, 2.0), [0.41, 4.15, None, 24.59, 19.98]),
    "sub-neptune-2.0": ((2.0, 2.5), [0.0, 2.72, 18.73, 27.58, 18.08]),
    "sub-neptune-2.5": ((2.5, 3.0), [0.0, 1.59, 8.29, 14.51, 8.61]),
    "sub-neptune-3.0": ((3.0, 3.5), [0.0, 0.65, 3.25, 3.37, 1.97]),
    "sub-neptune-3.5": ((3.5, 4.0), [0.0, 0.38, 1.05, 0.56, 0.0]),
}


def _m_populations() -> tuple[Population, ...]:
    out = []
    for name, (radius, percent) in _DRESSING_TABLE.items():
        rates = list(percent)
        for i, value in enumerate(rates):
            if value is None:
                rates[i] = float(np.sqrt(rates[i - 1] * rates[i + 1]))
        rates = [r / 100.0 for r in rates]
        out.append(Population(name, "m", radius, M_PERIOD_EDGES, tuple(rates)))
    return tuple(out)


POPULATIONS: tuple[Population, ...] = _fgk_populations() + _m_populations()
"""Small-planet populations (radius bins) by stellar class."""


# Giant planets, Cumming et al. 2008 (PASP 120, 531), abstract: dN = C M^alpha
# P^beta dlnM dlnP with alpha = -0.31 +- 0.2, beta = 0.26 +- 0.1, normalised so
# that 10.5% of solar-type stars have a planet of 0.3-10 Jupiter masses with
# P = 2-2000 d. Johnson et al. 2010 (PASP 122, 905), abstract: occurrence rises
# linearly with stellar mass (f proportional to M_star) at solar metallicity, from
# a sample of 0.2-1.9 Msun; outside 0.2-2.0 Msun no giants are drawn.
GIANT_ALPHA = -0.31
GIANT_BETA = 0.26
GIANT_FRACTION_SUN = 0.105
GIANT_MASS_MJUP = (0.3, 10.0)
GIANT_PERIOD_DAYS = (2.0, 2000.0)
GIANT_HOST_MASS_MSUN = (0.2, 2.0)

# Stellar classes (model choices, not published numbers): M dwarfs below 4000 K as
# in Dressing & Charbonneau's sample; FGK from 4000 K to 7300 K (about F0).
M_TEFF_K = (2300.0, 4000.0)
FGK_TEFF_K = (4000.0, 7300.0)
DWARF_RADIUS_RSUN = (0.08, 2.5)
"""Radius from L and Teff inside which a star without a class counts as a dwarf."""
PLANET_HOST_CLASSES = ("dwarf",)
"""Evolutionary classes (`stellar.EVOLUTIONARY_CLASSES`) the model gives planets."""

# Eccentricity: Kipping 2013 (MNRAS 434, L51), abstract: Beta(a = 0.867, b = 3.03)
# for 396 radial-velocity planets.
ECC_BETA_A = 0.867
ECC_BETA_B = 3.03

# Chen & Kipping 2017 (ApJ 834, 17), mean hyper-parameters of the broken power law
# R = C M^S, continuous at each break (the deterministic mean relation, without
# the intrinsic scatter Forecaster draws): Terran S = 0.2790, C = 1.008 Re at
# 1 Me, up to 2.04 Me; Neptunian S = 0.589 up to 0.414 MJup; Jovian S = -0.044 up
# to 0.0800 Msun. Abstract (verified): the Terran-Neptunian transition at
# 2.0 (+0.7 -0.6) Me. The other values as quoted from the paper's hyper-parameter
# table by two public re-implementations (a Python "cartoon" of Forecaster and an
# IDL port); the paper's table was not reachable, and the authors' code
# (chenjj2/forecaster) keeps the posterior only in a binary HDF5 file.
CK_TERRAN_C = 1.008
CK_TERRAN_S = 0.2790
CK_NEPTUNIAN_S = 0.589
CK_JOVIAN_S = -0.044
CK_TERRAN_MAX_ME = 2.04
CK_NEPTUNIAN_MAX_ME = 0.414 * MJUP_EARTH
CK_TERRAN_MAX_RE = CK_TERRAN_C * CK_TERRAN_MAX_ME**CK_TERRAN_S
CK_NEPTUNIAN_MAX_RE = CK_TERRAN_MAX_RE * (CK_NEPTUNIAN_MAX_ME / CK_TERRAN_MAX_ME) ** (
    CK_NEPTUNIAN_S
)

# Habitable zone: Kopparapu et al. 2014, 1 Earth mass; one table for the pipeline
# and the API (`chalicelib.habitable`, which cites where it was checked). Here
# a Teff outside the range gives NaN (no flag), not a clamped value.
HZ_COEFFICIENTS = habitable.HZ_COEFFICIENTS
HZ_TEFF_RANGE_K = habitable.TEFF_RANGE_K
HZ_TEFF_ZERO_K = habitable.TEFF_ZERO_K

_MAX_SLOTS = 24
"""Planets per population per star are capped here (P(Poisson(1.5) > 24) ~ 1e-20)."""

# --- counter-based random numbers ---------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def star_key(system_id: str, model_version: str = MODEL_VERSION) -> int:
    """Return the 64-bit key of a star: sha256 of (model version, system id)."""
    digest = hashlib.sha256(f"{model_version}\x00{system_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def _splitmix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser over uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = np.atleast_1d(x).astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def _uniform(keys: np.ndarray, stream: np.ndarray | int) -> np.ndarray:
    """Uniform draws in (0, 1), one per key, fixed by (key, stream) alone."""
    counter = _splitmix(np.asarray(stream, dtype=np.uint64))
    bits = _splitmix(keys ^ counter)
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53


def _stream(population: int, slot: np.ndarray | int, quantity: int) -> np.ndarray:
    """The counter of one draw: population, planet slot and quantity packed."""
    slot = np.asarray(slot, dtype=np.uint64)
    return (
        (np.uint64(population) << np.uint64(40))
        | (slot << np.uint64(8))
        | (np.uint64(quantity))
    )


_COUNT, _PERIOD, _SIZE, _ECC = 0, 1, 2, 3
_GIANT_POPULATION = len(POPULATIONS)

# --- stellar inputs -------------------------------------------------------------


def mass_from_luminosity(luminosity_lsun: np.ndarray) -> np.ndarray:
    """Main-sequence mass (Msun) from luminosity: `stellar.main_sequence_mass`.

    The one mass relation of the pipeline (Pecaut & Mamajek 2013's dwarf
    sequence), for stars that come without a mass.
    """
    lum = np.asarray(luminosity_lsun, dtype=np.float64)
    return stellar.main_sequence_mass(np.full(lum.shape, np.nan), lum)


def _is_dwarf(teff: np.ndarray, lum: np.ndarray, stated: np.ndarray) -> np.ndarray:
    """Dwarf flag: the class's where known (1 or 0), else a radius test from L, Teff."""
    radius = stellar.radius_from_luminosity(lum, teff)
    with np.errstate(invalid="ignore"):
        by_radius = (radius >= DWARF_RADIUS_RSUN[0]) & (radius <= DWARF_RADIUS_RSUN[1])
    return np.where(np.isnan(stated), by_radius, stated > 0.5)


# --- physical relations ----------------------------------------------------------


def habitable_zone_au(
    teff_k: np.ndarray | float, luminosity_lsun: np.ndarray | float
) -> dict[str, np.ndarray]:
    """Kopparapu 2014 habitable-zone distances (AU); NaN outside 2600-7200 K."""
    teff = np.asarray(teff_k, dtype=np.float64)
    lum = np.asarray(luminosity_lsun, dtype=np.float64)
    t = np.where(
        (teff >= HZ_TEFF_RANGE_K[0]) & (teff <= HZ_TEFF_RANGE_K[1]),
        teff - HZ_TEFF_ZERO_K,
        np.nan,
    )
    out = {}
    for name, (s_sun, a, b, c, d) in HZ_COEFFICIENTS.items():
        s_eff = s_sun + a * t + b * t**2 + c * t**3 + d * t**4
        with np.errstate(invalid="ignore"):
            out[name] = np.sqrt(lum / s_eff)
    return out


def mass_from_radius(radius_earth: np.ndarray) -> np.ndarray:
    """Mean Chen & Kipping 2017 mass (Earth masses) for Terran and Neptunian radii."""
    r = np.asarray(radius_earth, dtype=np.float64)
    terran = (r / CK_TERRAN_C) ** (1 / CK_TERRAN_S)
    neptunian = CK_TERRAN_MAX_ME * (r / CK_TERRAN_MAX_RE) ** (1 / CK_NEPTUNIAN_S)
    return np.where(r < CK_TERRAN_MAX_RE, terran, neptunian)


def radius_from_mass(mass_earth: np.ndarray) -> np.ndarray:
    """Mean Chen & Kipping 2017 radius (Earth radii) up to 0.08 Msun."""
    m = np.asarray(mass_earth, dtype=np.float64)
    terran = CK_TERRAN_C * m**CK_TERRAN_S
    neptunian = CK_TERRAN_MAX_RE * (m / CK_TERRAN_MAX_ME) ** CK_NEPTUNIAN_S
    jovian = CK_NEPTUNIAN_MAX_RE * (m / CK_NEPTUNIAN_MAX_ME) ** CK_JOVIAN_S
    return np.where(
        m < CK_TERRAN_MAX_ME,
        terran,
        np.where(m < CK_NEPTUNIAN_MAX_ME, neptunian, jovian),
    )


def semi_major_axis_au(
    period_days: np.ndarray, star_mass_msun: np.ndarray
) -> np.ndarray:
    """Kepler's third law, planet mass neglected: a^3 = M P^2 (AU, Msun, years)."""
    years = np.asarray(period_days, dtype=np.float64) / DAYS_PER_YEAR
    return np.cbrt(np.asarray(star_mass_msun, dtype=np.float64) * years**2)


# --- the vectorised draw ---------------------------------------------------------


@dataclass(frozen=True)
class Draw:
    """Planets of many stars as flat arrays, in no particular order.

    `star` indexes the input stars; `population` indexes `POPULATIONS`, with
    `len(POPULATIONS)` for giant planets; `slot` numbers a star's planets within
    one population.
    """

    star: np.ndarray
    population: np.ndarray
    slot: np.ndarray
    period_days: np.ndarray
    radius_earth: np.ndarray
    mass_earth: np.ndarray
    eccentricity: np.ndarray
    semi_major_axis_au: np.ndarray
    in_hz: np.ndarray
    """1 inside the conservative HZ, 0 outside, -1 where the HZ is undefined."""


def _log_uniform(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return lo * (hi / lo) ** u


def _binned_period(u: np.ndarray, pop: Population) -> np.ndarray:
    """Period from one uniform: pick the bin by its rate, then flat in log P in it."""
    rates = np.asarray(pop.rates)
    edges = np.asarray(pop.period_edges)
    cumulative = np.cumsum(rates)
    x = u * cumulative[-1]
    index = np.minimum(np.searchsorted(cumulative, x, side="right"), rates.size - 1)
    start = cumulative[index] - rates[index]
    within = np.clip((x - start) / rates[index], 0.0, 1.0)
    return _log_uniform(within, edges[index], edges[index + 1])


def _power_law_ln(u: np.ndarray, index: float, lo: float, hi: float) -> np.ndarray:
    """Inverse CDF of dN ∝ x^index dln x on [lo, hi] (index != 0)."""
    a, b = lo**index, hi**index
    return (a + u * (b - a)) ** (1 / index)


def _counts(keys: np.ndarray, population: int, mean: np.ndarray) -> np.ndarray:
    """Poisson counts by inverse CDF, summing the pmf term by term up to the cap."""
    u = _uniform(keys, _stream(population, 0, _COUNT))
    term = np.exp(-mean)
    cdf = term.copy()
    n = np.zeros(mean.shape, dtype=np.int64)
    for k in range(1, _MAX_SLOTS + 1):
        above = u > cdf
        if not above.any():
            break
        n += above
        term = term * mean / k
        cdf = cdf + term
    return np.where(mean > 0, n, 0)


_ECC_TABLE_TOP = 0.99
_ECC_STEPS = 1 << 16
_ECC_TABLE = stats.beta.ppf(
    np.linspace(0.0, _ECC_TABLE_TOP, _ECC_STEPS + 1), ECC_BETA_A, ECC_BETA_B
)


def _eccentricity(u: np.ndarray) -> np.ndarray:
    """Kipping 2013 Beta inverse CDF: a table below u = 0.99, exact above it.

    Linear interpolation on an even grid keeps millions of draws fast (error
    below 1e-6); the steep top of the inverse CDF is computed exactly.
    """
    x = np.minimum(u, _ECC_TABLE_TOP) * (_ECC_STEPS / _ECC_TABLE_TOP)
    i = np.minimum(x.astype(np.int64), _ECC_STEPS - 1)
    out = _ECC_TABLE[i] + (x - i) * (_ECC_TABLE[i + 1] - _ECC_TABLE[i])
    top = u > _ECC_TABLE_TOP
    out[top] = stats.beta.ppf(u[top], ECC_BETA_A, ECC_BETA_B)
    return out


def _expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Star index and slot number of every planet, given planets per star."""
    star = np.repeat(np.arange(counts.size), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return star, np.arange(star.size) - starts


def draw_planets(
    keys: np.ndarray,
    teff_k: np.ndarray,
    luminosity_lsun: np.ndarray,
    mass_msun: np.ndarray,
    dwarf: np.ndarray,
) -> Draw:
    """Draw every star's planets at once; NaN in `mass_msun`/`dwarf` means unknown.

    `dwarf` is 1 for a star of a planet-host class, 0 for another class, NaN
    for a star without one (the radius test decides). Stars that are not
    dwarfs, or whose Teff is missing, get no planets.
    """
    keys = np.asarray(keys, dtype=np.uint64)
    teff = np.asarray(teff_k, dtype=np.float64)
    lum = np.asarray(luminosity_lsun, dtype=np.float64)
    mass = np.asarray(mass_msun, dtype=np.float64)
    mass = np.where(np.isfinite(mass) & (mass > 0), mass, mass_from_luminosity(lum))
    dwarf_ok = _is_dwarf(teff, lum, np.asarray(dwarf, dtype=np.float64))
    dwarf_ok &= np.isfinite(mass) & np.isfinite(teff)
    star_class = np.full(teff.shape, "", dtype=object)
    star_class[dwarf_ok & (teff >= M_TEFF_K[0]) & (teff < M_TEFF_K[1])] = "m"
    star_class[dwarf_ok & (teff >= FGK_TEFF_K[0]) & (teff < FGK_TEFF_K[1])] = "fgk"

    parts: list[tuple[np.ndarray, ...]] = []
    for index, pop in enumerate(POPULATIONS):
        mean = np.where(star_class == pop.star_class, pop.mean_count(), 0.0)
        star, slot = _expand(_counts(keys, index, mean))
        k = keys[star]
        period = _binned_period(_uniform(k, _stream(index, slot, _PERIOD)), pop)
        radius = _log_uniform(
            _uniform(k, _stream(index, slot, _SIZE)), *pop.radius_earth
        )
        parts.append((star, np.full(star.size, index), slot, period, radius, None))

    giant_ok = (
        dwarf_ok & (mass >= GIANT_HOST_MASS_MSUN[0]) & (mass <= GIANT_HOST_MASS_MSUN[1])
    )
    fraction = np.where(giant_ok, GIANT_FRACTION_SUN * mass, 0.0)
    star, slot = _expand(_counts(keys, _GIANT_POPULATION, -np.log1p(-fraction)))
    k = keys[star]
    period = _power_law_ln(
        _uniform(k, _stream(_GIANT_POPULATION, slot, _PERIOD)),
        GIANT_BETA,
        *GIANT_PERIOD_DAYS,
    )
    giant_mass = MJUP_EARTH * _power_law_ln(
        _uniform(k, _stream(_GIANT_POPULATION, slot, _SIZE)),
        GIANT_ALPHA,
        *GIANT_MASS_MJUP,
    )
    parts.append(
        (star, np.full(star.size, _GIANT_POPULATION), slot, period, None, giant_mass)
    )
    return _finish(keys, teff, lum, mass, parts)


def _finish(
    keys: np.ndarray,
    teff: np.ndarray,
    lum: np.ndarray,
    mass: np.ndarray,
    parts: list[tuple[np.ndarray, ...]],
) -> Draw:
    """Join the populations and derive mass or radius, orbit and HZ flag."""
    star = np.concatenate([p[0] for p in parts])
    population = np.concatenate([p[1] for p in parts])
    slot = np.concatenate([p[2] for p in parts])
    period = np.concatenate([p[3] for p in parts])
    radius = np.concatenate(
        [p[4] if p[4] is not None else radius_from_mass(p[5]) for p in parts]
    )
    planet_mass = np.concatenate(
        [p[5] if p[5] is not None else mass_from_radius(p[4]) for p in parts]
    )
    u = _uniform(keys[star], _stream(population, slot, _ECC))
    a = semi_major_axis_au(period, mass[star])
    hz = habitable_zone_au(teff, lum)
    inner = hz["runaway_greenhouse"][star]
    outer = hz["maximum_greenhouse"][star]
    in_hz = np.where(np.isfinite(inner) & np.isfinite(outer), 0, -1)
    in_hz[(a >= inner) & (a <= outer)] = 1
    return Draw(
        star=star,
        population=population,
        slot=slot,
        period_days=period,
        radius_earth=radius,
        mass_earth=planet_mass,
        eccentricity=_eccentricity(u),
        semi_major_axis_au=a,
        in_hz=in_hz,
    )


# --- public API on system dicts -------------------------------------------------


def _column(stars: list[Mapping], key: str) -> np.ndarray:
    values = [s.get(key) for s in stars]
    return np.array([np.nan if v is None else float(v) for v in values])


def _stated_dwarf(star: Mapping) -> float:
    """1 for a planet-host class, 0 for another class, NaN for none."""
    value = star.get("evolutionary_class")
    return np.nan if value is None else float(value in PLANET_HOST_CLASSES)


def _planet_dicts(stars: list[Mapping], draw: Draw) -> dict[str, list[dict]]:
    """Shape drawn planets like known ones, named `<star> i<n>` in period order."""
    out: dict[str, list[dict]] = {str(s["system_id"]): [] for s in stars}
    order = np.lexsort((draw.period_days, draw.star))
    columns = zip(
        draw.star[order].tolist(),
        *(
            np.round(values[order], 6).tolist()
            for values in (
                draw.period_days,
                draw.semi_major_axis_au,
                draw.eccentricity,
                draw.mass_earth,
                draw.radius_earth,
            )
        ),
        draw.in_hz[order].tolist(),
    )
    for star, period, a, ecc, m, r, hz in columns:
        system = stars[star]
        planets = out[str(system["system_id"])]
        base = system.get("name") or system["system_id"]
        planets.append(
            {
                "name": f"{base} i{len(planets) + 1}",
                "known": False,
                "inferred": True,
                "model_version": MODEL_VERSION,
                "period_days": period,
                "semi_major_axis_au": a,
                "eccentricity": ecc,
                "mass_earth": m,
                "radius_earth": r,
                "in_hz": None if hz < 0 else bool(hz),
                "source": SOURCE,
            }
        )
    return out


def infer_many(stars: Iterable[Mapping]) -> dict[str, list[dict]]:
    """Inferred planets of many stars, keyed by system id.

    Each star needs `system_id`, `teff_k` and `luminosity_lsun`; `mass_msun` and
    `evolutionary_class` (`stellar.derive`'s) are used when present: only
    `PLANET_HOST_CLASSES` get planets, and a star without a class is taken for a
    dwarf when its radius from L and Teff lies within `DWARF_RADIUS_RSUN`. Stars
    with known planets are skipped (known planets always win): they map to an
    empty list.
    """
    stars = list(stars)
    keys = np.array([star_key(str(s["system_id"])) for s in stars], dtype=np.uint64)
    known = np.array([bool(s.get("planets")) for s in stars])
    teff = np.where(known, np.nan, _column(stars, "teff_k"))
    draw = draw_planets(
        keys,
        teff,
        _column(stars, "luminosity_lsun"),
        _column(stars, "mass_msun"),
        np.array([_stated_dwarf(s) for s in stars]),
    )
    return _planet_dicts(stars, draw)


def infer_system(star: Mapping) -> list[dict]:
    """Inferred planets of one star (see `infer_many`)."""
    return infer_many([star])[str(star["system_id"])]
