"""Build comparisons: what changed between two worlds, as JSON and as a page.

Hand-made system lists check each part of the report; the real catalogues check
that the comparison shows the real differences between two exoplanet snapshots
(2020 and 2024) and between two Hipparcos releases (1997 and 2007).
"""

from __future__ import annotations

import copy
import gzip
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
import scipy.stats

from batch_jobs import compare, hip2
from batch_jobs.world import assemble_world
from chalicelib.errors import SourceFormatError

DATA = Path(__file__).parents[1] / "data"
SOURCES_DIR = Path(
    os.environ.get("SOURCES_DIR", Path(__file__).parents[2].parent / "shared" / "data")
)
EXO_2020 = SOURCES_DIR / "exoplanets" / "nasa_pscomppars_2020-10.csv"
HIP2 = SOURCES_DIR / "stars" / "hip2_I311_vanLeeuwen2007.dat.gz"


def _planet(name: str, **values: float | None) -> dict:
    record = {
        "name": name,
        "known": True,
        "inferred": False,
        "period_days": 10.0,
        "semi_major_axis_au": 0.1,
        "eccentricity": 0.1,
        "mass_earth": 1.0,
        "radius_earth": 1.0,
        "source": "nasa-exoplanet-archive",
    }
    record.update(values)
    return record


def _system(system_id: str, name: str | None = None, **values: object) -> dict:
    record = {
        "system_id": system_id,
        "name": name or system_id.upper(),
        "names": [name or system_id.upper()],
        "source": "hipparcos",
        "ra_deg": 10.0,
        "dec_deg": -20.0,
        "parallax_mas": 100.0,
        "dist_pc": 10.0,
        "x_pc": 1.0,
        "y_pc": 2.0,
        "z_pc": 3.0,
        "vmag": 5.0,
        "teff_k": 5800.0,
        "planets": [],
    }
    record.update(values)
    return record


def _worlds() -> tuple[list[dict], list[dict]]:
    """Old: a, b, c (two planets), d. New: b gone, e added, c and d changed."""
    old = [
        _system("hip-1"),
        _system("hip-2"),
        _system("hip-3", planets=[_planet("C b"), _planet("C c")]),
        _system("hip-4", planets=[_planet("D b")]),
    ]
    new = copy.deepcopy([old[0], old[2], old[3]])
    new[1]["dist_pc"] = 12.5
    new[1]["parallax_mas"] = 80.0
    new[1]["planets"][0]["eccentricity"] = 0.35
    del new[1]["planets"][1]
    new[1]["planets"].append(_planet("C d"))
    new[2]["names"] = ["D", "Dee"]
    new.append(_system("hip-5", planets=[_planet("E b", inferred=True)]))
    return old, new


def _report(old: list[dict], new: list[dict], **options: object) -> dict:
    return compare.compare_worlds(old, new, old_id="old", new_id="new", **options)


# Counts, stars and planets


def test_counts_both_builds_and_the_deltas():
    counts = _report(*_worlds())["counts"]
    assert counts["old"] == {
        "systems": 4,
        "systems_with_distance": 4,
        "systems_with_planets": 2,
        "planets_known": 3,
        "planets_inferred": 0,
    }
    assert counts["new"]["systems"] == 4
    assert counts["new"]["planets_known"] == 3
    assert counts["new"]["planets_inferred"] == 1
    assert counts["delta"]["planets_inferred"] == 1
    assert counts["delta"]["systems_with_planets"] == 1


def test_stars_added_and_removed_by_system_id():
    stars = _report(*_worlds())["stars"]
    assert stars["added"]["count"] == 1
    assert stars["added"]["sample"][0]["system_id"] == "hip-5"
    assert stars["removed"]["count"] == 1
    assert stars["removed"]["sample"][0]["system_id"] == "hip-2"


def test_changed_star_lists_each_changed_field_with_old_and_new():
    stars = _report(*_worlds())["stars"]
    assert stars["changed"]["count"] == 2
    assert stars["unchanged"] == 1
    by_id = {s["system_id"]: s["changes"] for s in stars["changed"]["sample"]}
    assert by_id["hip-3"] == {
        "dist_pc": {"old": 10.0, "new": 12.5},
        "parallax_mas": {"old": 100.0, "new": 80.0},
    }
    assert by_id["hip-4"] == {"names": {"old": ["HIP-4"], "new": ["D", "Dee"]}}
    assert stars["changed"]["by_field"] == {
        "dist_pc": 1,
        "names": 1,
        "parallax_mas": 1,
    }


def test_planets_added_removed_and_changed_by_system_and_name():
    planets = _report(*_worlds())["planets"]
    added = [p["key"] for p in planets["added"]["sample"]]
    removed = [p["key"] for p in planets["removed"]["sample"]]
    assert added == ["hip-3/C d", "hip-5/E b"]
    assert removed == ["hip-3/C c"]
    assert planets["changed"]["count"] == 1
    change = planets["changed"]["sample"][0]
    assert change["key"] == "hip-3/C b"
    assert change["changes"] == {"eccentricity": {"old": 0.1, "new": 0.35}}
    assert planets["unchanged"] == 1


def test_planet_moved_to_another_system_is_removed_and_added():
    old = [_system("hip-1", planets=[_planet("X b")]), _system("hip-2")]
    new = [_system("hip-1"), _system("hip-2", planets=[_planet("X b")])]
    planets = _report(old, new)["planets"]
    assert planets["removed"]["sample"][0]["key"] == "hip-1/X b"
    assert planets["added"]["sample"][0]["key"] == "hip-2/X b"


def test_a_value_gained_or_lost_is_a_change():
    old = [_system("nasa-t", dist_pc=None), _system("hip-9")]
    del old[0]["x_pc"]
    new = [_system("nasa-t"), _system("hip-9", teff_k=None)]
    changed = _report(old, new)["stars"]["changed"]["sample"]
    by_id = {s["system_id"]: s["changes"] for s in changed}
    assert by_id["nasa-t"]["dist_pc"] == {"old": None, "new": 10.0}
    assert by_id["nasa-t"]["x_pc"] == {"old": None, "new": 1.0}
    assert by_id["hip-9"] == {"teff_k": {"old": 5800.0, "new": None}}


# Tolerance


def test_numbers_within_their_field_tolerance_are_unchanged():
    old = [_system("hip-1", dist_pc=100.0, teff_k=5800.0, ra_deg=10.0)]
    new = [_system("hip-1", dist_pc=100.05, teff_k=5800.4, ra_deg=10.0 + 1e-7)]
    stars = _report(old, new)["stars"]
    assert stars["changed"]["count"] == 0
    assert stars["unchanged"] == 1


def test_numbers_beyond_their_field_tolerance_are_changed():
    old = [_system("hip-1", dist_pc=100.0, teff_k=5800.0, ra_deg=10.0)]
    new = [_system("hip-1", dist_pc=100.2, teff_k=5815.0, ra_deg=10.0 + 1e-5)]
    by_field = _report(old, new)["stars"]["changed"]["by_field"]
    assert by_field == {"dist_pc": 1, "ra_deg": 1, "teff_k": 1}


def test_tolerance_can_be_overridden_per_field():
    old = [_system("hip-1", dist_pc=100.0)]
    new = [_system("hip-1", dist_pc=100.2)]
    report = _report(old, new, tolerances={"dist_pc": (0.01, 0.0)})
    assert report["stars"]["changed"]["count"] == 0
    assert report["tolerances"]["dist_pc"] == {"rel": 0.01, "abs": 0.0}


def test_unnamed_number_fields_compare_to_float_precision():
    old = [_system("hip-1", extra=1.0)]
    new = [_system("hip-1", extra=1.0 + 1e-6)]
    assert _report(old, new)["stars"]["changed"]["by_field"] == {"extra": 1}


# Samples and JSON safety


def test_samples_are_capped_but_counts_are_complete():
    old = [_system(f"hip-{i}") for i in range(30)]
    new = [_system(f"hip-{i}", vmag=6.0) for i in range(10, 50)]
    stars = _report(old, new, sample_limit=5)["stars"]
    assert stars["added"]["count"] == 20
    assert stars["removed"]["count"] == 10
    assert stars["changed"]["count"] == 20
    assert stars["changed"]["by_field"] == {"vmag": 20}
    for part in ("added", "removed", "changed"):
        assert len(stars[part]["sample"]) == 5


def test_report_is_json_without_nan_or_infinity():
    old = [_system("hip-1", teff_k=math.nan, luminosity_lsun=math.inf)]
    new = [_system("hip-1", teff_k=5000.0, luminosity_lsun=math.nan)]
    new[0]["planets"] = [_planet("A b", eccentricity=math.nan)]
    report = _report(old, new)
    text = json.dumps(report, allow_nan=False)
    assert "NaN" not in text
    changes = report["stars"]["changed"]["sample"][0]["changes"]
    assert changes["teff_k"] == {"old": None, "new": 5000.0}
    assert "luminosity_lsun" not in changes  # infinity and NaN: both missing


def test_empty_builds_compare_without_nan():
    report = _report([], [])
    json.dumps(report, allow_nan=False)
    assert report["distributions"]["dist_pc"]["old"]["median"] is None
    assert report["distributions"]["dist_pc"]["ks"]["statistic"] is None


def test_error_on_a_repeated_system_id():
    with pytest.raises(ValueError, match="hip-1"):
        _report([_system("hip-1"), _system("hip-1")], [])


def test_error_on_a_repeated_planet_name_in_a_system():
    system = _system("hip-1", planets=[_planet("A b"), _planet("A b")])
    with pytest.raises(ValueError, match="A b"):
        _report([system], [])


# Distributions


def test_distributions_share_bins_and_give_medians():
    old = [_system(f"hip-{i}", dist_pc=float(d)) for i, d in enumerate((1, 10, 100))]
    new = [_system(f"hip-{i}", dist_pc=float(d)) for i, d in enumerate((10, 100, 1000))]
    dist = _report(old, new)["distributions"]["dist_pc"]
    assert dist["edges"][0] == 1.0
    assert dist["edges"][-1] == pytest.approx(1000.0)
    assert len(dist["old"]["counts"]) == len(dist["new"]["counts"])
    assert len(dist["edges"]) == len(dist["old"]["counts"]) + 1
    assert sum(dist["old"]["counts"]) == sum(dist["new"]["counts"]) == 3
    assert dist["old"]["median"] == 10.0
    assert dist["new"]["median"] == 100.0


def test_planet_count_histogram_has_one_bin_per_count():
    old = [_system("hip-1", planets=[_planet("b"), _planet("c")]), _system("hip-2")]
    new = [_system("hip-1", planets=[_planet("b")])]
    dist = _report(old, new)["distributions"]["planets_per_system"]
    assert dist["edges"] == [0.5, 1.5, 2.5]
    assert dist["old"]["counts"] == [0, 1]
    assert dist["new"]["counts"] == [1, 0]


def test_ks_statistic_agrees_with_scipy():
    rng = np.random.default_rng(3)
    for a, b in (
        (rng.normal(0, 1, 500), rng.normal(0.2, 1.1, 700)),
        (rng.integers(0, 5, 300).astype(float), rng.integers(0, 6, 200).astype(float)),
    ):
        ours = compare.ks_2samp(a, b)
        theirs = scipy.stats.ks_2samp(a, b, method="asymp")
        assert ours["statistic"] == pytest.approx(theirs.statistic, abs=1e-12)
        assert ours["p_value"] == pytest.approx(theirs.pvalue, abs=0.02)


# The page


def test_html_escapes_a_hostile_name():
    old, new = _worlds()
    new[2]["name"] = "<script>alert(1)</script>"
    new[2]["names"] = ['"><img src=x onerror=alert(1)>']
    page = compare.render_html(_report(old, new))
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower()


def test_html_escapes_hostile_build_ids():
    report = compare.compare_worlds([], [], old_id="<b>old</b>", new_id="new&")
    page = compare.render_html(report)
    assert "<b>old</b>" not in page
    assert "&lt;b&gt;old&lt;/b&gt;" in page
    assert "new&amp;" in page


def test_html_draws_an_svg_histogram_per_distribution():
    page = compare.render_html(_report(*_worlds()))
    assert page.count("<svg") == 3
    assert 'class="old"' in page
    assert 'class="new"' in page
    assert "<script" not in page
    assert re.search(r'<rect class="new" x="[\d.]+" y="[\d.]+"', page)


def test_html_tables_list_added_removed_and_changed():
    page = compare.render_html(_report(*_worlds()))
    for text in ("hip-5", "hip-2", "parallax_mas", "C d", "eccentricity"):
        assert text in page


# Sources


def _sample_paths(tmp_path: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """The sample sources, and an older exoplanet table made from the 2024 one."""
    names = {
        "hip_main": "hip_main_sample.dat",
        "sscore_nearest": "sscore_nearest_sample.csv",
        "sscore_brightest": "sscore_brightest_sample.csv",
        "d3_names": "d3_names_sample.json",
        "exoplanets": "exoplanets_sample_2024.csv",
    }
    new = {role: DATA / name for role, name in names.items()}
    lines = (DATA / "exoplanets_sample_2020.csv").read_text().splitlines()
    older = [
        line.replace("11.1868,0.04856,1.03,1.07,0.02", "11.186,0.0485,1.08,1.27,0.35")
        for line in lines
        if not line.startswith("TRAPPIST-1 c")
    ]
    path = tmp_path / "exoplanets_older.csv"
    path.write_text("\n".join(older) + "\n")
    return {**new, "exoplanets": path}, new


def test_compare_sources_builds_and_compares_both_worlds(tmp_path):
    old_paths, new_paths = _sample_paths(tmp_path)
    report = compare.compare_sources(old_paths, new_paths)
    assert report["old_id"] != report["new_id"]
    assert report["old_id"].startswith("sources-")
    assert [p["name"] for p in report["planets"]["added"]["sample"]] == ["TRAPPIST-1 c"]
    changed = {p["name"]: p["changes"] for p in report["planets"]["changed"]["sample"]}
    assert changed["Proxima Cen b"]["eccentricity"] == {"old": 0.35, "new": 0.02}
    json.dumps(report, allow_nan=False)


def test_read_systems_reads_published_json_lines(tmp_path):
    old, _ = _worlds()
    path = tmp_path / "systems.jsonl.gz"
    lines = "".join(json.dumps(s) + "\n" for s in old)
    path.write_bytes(gzip.compress(lines.encode()))
    assert compare.read_systems(path) == old


def test_read_systems_refuses_a_broken_line(tmp_path):
    path = tmp_path / "systems.jsonl"
    path.write_text(json.dumps(_system("hip-1")) + "\n{not json\n")
    with pytest.raises(SourceFormatError) as caught:
        compare.read_systems(path)
    assert caught.value.line == 2


# The Hipparcos 2007 reduction

_HIP2_ROW = (
    "  70890  5 0 1  3.7950868233 -1.0939744577  771.64 -3781.31   769.77   1.51"
    "   1.81   2.60   1.63   2.32 146  2.18  0    0.0    0 10.7613 0.0059 0.067 2"
    "  1.807 0.127  2.870" + "   1.00" * 15
)


def _hip2_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "hip2.dat"
    path.write_text("".join(row + "\n" for row in rows))
    return path


def test_read_hip2_converts_radians_and_names_columns_like_hip_main(tmp_path):
    table = hip2.read_hip2(_hip2_file(tmp_path, _HIP2_ROW))
    assert table["hip"].tolist() == [70890]
    assert table["ra_deg"][0] == pytest.approx(math.degrees(3.7950868233))
    assert table["dec_deg"][0] == pytest.approx(math.degrees(-1.0939744577))
    assert table["parallax_mas"][0] == 771.64
    assert table["pmra_mas_yr"][0] == -3781.31
    assert table["pmdec_mas_yr"][0] == 769.77
    assert table["parallax_error_mas"][0] == 2.60
    assert table["bv"][0] == 1.807
    assert table["hpmag"][0] == 10.7613
    assert "vmag" not in table  # Hp is not Johnson V


def test_read_hip2_refuses_a_row_with_missing_fields(tmp_path):
    short = _HIP2_ROW.rsplit(maxsplit=1)[0]
    with pytest.raises(SourceFormatError, match="41") as caught:
        hip2.read_hip2(_hip2_file(tmp_path, _HIP2_ROW, short))
    assert caught.value.line == 2


def test_read_hip2_refuses_positions_in_degrees(tmp_path):
    degrees = _HIP2_ROW.replace("3.7950868233", "217.44894751")
    with pytest.raises(SourceFormatError, match="radians") as caught:
        hip2.read_hip2(_hip2_file(tmp_path, degrees))
    assert caught.value.line == 1


def test_read_hip2_refuses_a_garbled_number(tmp_path):
    garbled = _HIP2_ROW.replace("771.64", "77l.64")
    with pytest.raises(SourceFormatError, match="parallax_mas") as caught:
        hip2.read_hip2(_hip2_file(tmp_path, garbled))
    assert caught.value.line == 1


# Real catalogues


@pytest.fixture(scope="module")
def exoplanet_report(real_paths, real_world) -> dict:
    """The 2020 snapshot's world against the 2024 one's, with every sample kept."""
    if not EXO_2020.is_file():
        pytest.fail(f"{EXO_2020} not found; set SOURCES_DIR")
    old = assemble_world({**real_paths, "exoplanets": EXO_2020})
    return compare.compare_worlds(
        old.systems,
        real_world.systems,
        old_id="exoplanets-2020-10",
        new_id="exoplanets-2024-10-15",
        sample_limit=1_000_000,
    )


@pytest.fixture(scope="module")
def hip2_table() -> dict:
    if not HIP2.is_file():
        pytest.fail(f"{HIP2} not found; set SOURCES_DIR")
    return hip2.read_hip2(HIP2)


@pytest.fixture(scope="module")
def hipparcos_report(real_paths, real_world) -> dict:
    """The hip_main world against the world built with the hip2 setting."""
    if not HIP2.is_file():
        pytest.fail(f"{HIP2} not found; set SOURCES_DIR")
    hip2_world = assemble_world({**real_paths, "hip2": HIP2}, "hip2")
    return compare.compare_worlds(
        real_world.systems,
        hip2_world.systems,
        old_id="hipparcos-1997",
        new_id="hipparcos-2007",
        sample_limit=1_000_000,
    )


@pytest.mark.realdata
def test_real_2024_snapshot_adds_1482_rows_and_1480_planets(exoplanet_report):
    counts = exoplanet_report["counts"]
    # Table rows and the Sun's planets, less those without any orbit (kept out by
    # the exo.orbit_missing rule: 2 in 2020, 4 in 2024).
    assert counts["old"]["planets_known"] == 4_284 - 2 + 8
    assert counts["new"]["planets_known"] == 5_766 - 4 + 8
    assert counts["delta"]["planets_known"] == 1_480
    planets = exoplanet_report["planets"]
    assert planets["added"]["count"] - planets["removed"]["count"] == 1_480
    assert planets["added"]["count"] > 1_480  # some were renamed or retracted


@pytest.mark.realdata
def test_real_retracted_planet_gj_832_c_is_removed(exoplanet_report):
    removed = {p["name"] for p in exoplanet_report["planets"]["removed"]["sample"]}
    added = {p["name"] for p in exoplanet_report["planets"]["added"]["sample"]}
    assert "GJ 832 c" in removed
    assert "GJ 832 c" not in added


@pytest.mark.realdata
def test_real_proxima_b_eccentricity_changed(exoplanet_report):
    changed = {
        p["key"]: p["changes"] for p in exoplanet_report["planets"]["changed"]["sample"]
    }
    proxima_b = changed["hip-70890/Proxima Cen b"]
    assert proxima_b["eccentricity"] == {"old": 0.35, "new": 0.02}
    assert proxima_b["period_days"] == {"old": 11.186, "new": 11.1868}


@pytest.mark.realdata
def test_real_trappist_1_gains_a_distance(exoplanet_report):
    changed = {
        s["system_id"]: s["changes"]
        for s in exoplanet_report["stars"]["changed"]["sample"]
    }
    trappist = changed["nasa-trappist-1"]
    assert trappist["dist_pc"]["old"] is None
    assert trappist["dist_pc"]["new"] == pytest.approx(12.4299, abs=1e-4)
    assert trappist["x_pc"]["old"] is None


@pytest.mark.realdata
def test_real_exoplanet_report_is_json_and_renders(exoplanet_report):
    text = json.dumps(exoplanet_report, allow_nan=False)
    assert json.loads(text)["new_id"] == "exoplanets-2024-10-15"
    page = compare.render_html(exoplanet_report)
    assert "Proxima Cen b" in page
    assert page.count("<svg") == 3


@pytest.mark.realdata
def test_real_hip2_has_4013_nonpositive_parallaxes_against_4245(hip2_table, real_world):
    assert len(hip2_table["hip"]) == 117_955
    assert int((hip2_table["parallax_mas"] <= 0).sum()) == 4_013
    assert real_world.quality["hip.parallax_nonpositive"]["count"] == 4_245


@pytest.mark.realdata
def test_real_hip2_places_232_more_stars(hipparcos_report):
    counts = hipparcos_report["counts"]
    assert counts["delta"]["systems_with_distance"] == 4_245 - 4_013
    assert counts["delta"]["systems"] == 0
    assert hipparcos_report["stars"]["added"]["count"] == 0
    assert hipparcos_report["stars"]["removed"]["count"] == 0
    # The new parallaxes move six hosts' luminosities, and with them the
    # habitable zone, across a known planet's orbit; nothing else of a planet.
    changed = hipparcos_report["planets"]["changed"]
    assert changed["by_field"] == {"in_hz": changed["count"]}
    assert 1 <= changed["count"] <= 20


@pytest.mark.realdata
def test_real_hip2_changes_the_distance_of_most_stars(hipparcos_report):
    by_field = hipparcos_report["stars"]["changed"]["by_field"]
    assert by_field["dist_pc"] > 100_000
    assert by_field["parallax_mas"] > 100_000
    assert "teff_k" not in by_field  # B-V and Teff stay hip_main's
    assert "vmag" not in by_field  # V stays hip_main's: hip2 has only Hp


@pytest.mark.realdata
def test_real_hip2_moves_betelgeuse_from_131_to_153_pc(hipparcos_report):
    changed = {
        s["system_id"]: s["changes"]
        for s in hipparcos_report["stars"]["changed"]["sample"]
    }
    betelgeuse = changed["hip-27989"]
    assert betelgeuse["parallax_mas"] == {"old": 7.63, "new": 6.55}
    assert betelgeuse["dist_pc"]["old"] == pytest.approx(131.06, abs=0.01)
    assert betelgeuse["dist_pc"]["new"] == pytest.approx(152.67, abs=0.01)
    assert "hip-32349" not in changed or "parallax_mas" not in changed["hip-32349"]
