"""The hand-made files of the validation rules, shared by unit and build tests.

`tests/data/quality` holds a clean Hipparcos and exoplanet file (the sample's
rows without its edge cases; with the sample's SSCore and d3 files they pass
the default quality limits), a clean hip2 file of the same stars and, per rule,
the clean file of its source plus one bad row, always the file's last line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
QUALITY = DATA / "quality"
CLEAN_SOURCES = {
    "hip_main": QUALITY / "hip_main_clean.dat",
    "sscore_nearest": DATA / "sscore_nearest_sample.csv",
    "sscore_brightest": DATA / "sscore_brightest_sample.csv",
    "d3_names": DATA / "d3_names_sample.json",
    "exoplanets": QUALITY / "exoplanets_clean.csv",
}


@dataclass(frozen=True)
class BadFile:
    """A source file with one row that breaks `rule`."""

    role: str
    name: str
    rule: str
    identifier: str
    values: dict

    @property
    def astrometry(self) -> str:
        """The build setting the file needs: hip2's rules run in hip2 builds."""
        return "hip2" if self.role == "hip2" else "hip_main"

    @property
    def path(self) -> Path:
        return QUALITY / self.name

    @property
    def line(self) -> int:
        """The bad row's line: the file's last."""
        return len(self.path.read_bytes().splitlines())

    def sources(self) -> dict[str, Path]:
        """The clean sources (and a clean hip2 file for hip2's rules) with this
        file in its role."""
        extra = {"hip2": QUALITY / "hip2_clean.dat"} if self.role == "hip2" else {}
        return {**CLEAN_SOURCES, **extra, self.role: self.path}

    def __str__(self) -> str:
        return self.rule


BAD_FILES = [
    BadFile("hip_main", "hip_position_missing.dat", "hip.position_missing",
            "HIP 421", {"ra_deg": None}),
    BadFile("hip_main", "hip_position_out_of_range.dat", "hip.position_out_of_range",
            "HIP 46", {"ra_deg": 361.13420453}),
    BadFile("hip_main", "hip_duplicate_hip.dat", "hip.duplicate_hip",
            "HIP 45", {"hip": 45}),
    BadFile("hip_main", "hip_parallax_missing.dat", "hip.parallax_missing",
            "HIP 47", {"parallax_mas": None}),
    BadFile("hip_main", "hip_parallax_nonpositive.dat", "hip.parallax_nonpositive",
            "HIP 40", {"parallax_mas": -3.4}),
    BadFile("hip_main", "hip_parallax_implausible.dat", "hip.parallax_implausible",
            "HIP 48", {"parallax_mas": 1502.1}),
    BadFile("hip_main", "hip_magnitude_implausible.dat", "hip.magnitude_implausible",
            "HIP 49", {"vmag": 19.59}),
    BadFile("hip_main", "hip_colour_implausible.dat", "hip.colour_implausible",
            "HIP 50", {"bv": 7.21}),
    BadFile("hip_main", "hip_speed_unphysical.dat", "hip.speed_unphysical",
            "HIP 51", {"parallax_mas": 0.5, "tangential_speed_kms": 2845.4}),
    BadFile("sscore_nearest", "sscore_duplicate_hip.csv",
            "sscore.nearest.duplicate_hip", "Proxima Companion", {"hip": 70890}),
    BadFile("sscore_nearest", "sscore_magnitude_implausible.csv",
            "sscore.nearest.magnitude_implausible", "Test Faint", {"vmag": 31.2}),
    BadFile("sscore_nearest", "sscore_colour_implausible.csv",
            "sscore.nearest.colour_implausible", "Test Red",
            {"bmag": 20.6, "vmag": 13.51}),
    BadFile("sscore_nearest", "sscore_distance_nonpositive.csv",
            "sscore.nearest.distance_nonpositive", "Test Nowhere",
            {"dist_pc": -2.409}),
    BadFile("sscore_nearest", "sscore_speed_unphysical.csv",
            "sscore.nearest.speed_unphysical", "Test Far",
            {"dist_pc": 9000.0, "tangential_speed_kms": 201178.4}),
    BadFile("sscore_nearest", "sscore_rv_unphysical.csv",
            "sscore.nearest.rv_unphysical", "Test Runaway", {"rv_kms": 912.0}),
    BadFile("sscore_brightest", "sscore_brightest_duplicate_hip.csv",
            "sscore.brightest.duplicate_hip", "Rigil Companion", {"hip": 71683}),
    BadFile("sscore_brightest", "sscore_brightest_magnitude_implausible.csv",
            "sscore.brightest.magnitude_implausible", "Test Bright Faint",
            {"vmag": 31.2}),
    BadFile("sscore_brightest", "sscore_brightest_colour_implausible.csv",
            "sscore.brightest.colour_implausible", "Test Bright Red",
            {"bmag": 20.6, "vmag": 13.51}),
    BadFile("sscore_brightest", "sscore_brightest_distance_nonpositive.csv",
            "sscore.brightest.distance_nonpositive", "Test Bright Nowhere",
            {"dist_pc": -2.409}),
    BadFile("sscore_brightest", "sscore_brightest_speed_unphysical.csv",
            "sscore.brightest.speed_unphysical", "Test Bright Far",
            {"dist_pc": 9000.0, "tangential_speed_kms": 201178.4}),
    BadFile("sscore_brightest", "sscore_brightest_rv_unphysical.csv",
            "sscore.brightest.rv_unphysical", "Test Bright Runaway",
            {"rv_kms": 912.0}),
    # hip2.parallax_missing has no file: the hip2 reader refuses a missing number.
    BadFile("hip2", "hip2_duplicate_hip.dat", "hip2.duplicate_hip",
            "HIP 45", {"hip": 45}),
    BadFile("hip2", "hip2_parallax_nonpositive.dat", "hip2.parallax_nonpositive",
            "HIP 40", {"parallax_mas": -3.4}),
    BadFile("hip2", "hip2_parallax_implausible.dat", "hip2.parallax_implausible",
            "HIP 48", {"parallax_mas": 1502.1}),
    BadFile("exoplanets", "exo_duplicate_planet.csv", "exo.duplicate_planet",
            "TRAPPIST-1 b", {"hostname": "TRAPPIST-1"}),
    BadFile("exoplanets", "exo_value_nonpositive.csv", "exo.value_nonpositive",
            "TRAPPIST-1 d", {"pl_orbper": -4.05}),
    BadFile("exoplanets", "exo_orbit_missing.csv", "exo.orbit_missing",
            "TRAPPIST-1 e", {"pl_orbper": None, "pl_orbsmax": None}),
    BadFile("exoplanets", "exo_eccentricity_invalid.csv", "exo.eccentricity_invalid",
            "TRAPPIST-1 f", {"pl_orbeccen": 1.2}),
    BadFile("exoplanets", "exo_position_out_of_range.csv",
            "exo.position_out_of_range", "TRAPPIST-1 g", {"dec": 95.0434618}),
    BadFile("exoplanets", "exo_magnitude_implausible.csv",
            "exo.magnitude_implausible", "TRAPPIST-1 h", {"sy_vmag": 44.61}),
    BadFile("exoplanets", "exo_mass_implausible.csv", "exo.mass_implausible",
            "TRAPPIST-1 i", {"pl_bmasse": 50000.0}),
    BadFile("exoplanets", "exo_radius_implausible.csv", "exo.radius_implausible",
            "TRAPPIST-1 j", {"pl_rade": 77.342}),
]  # fmt: skip
