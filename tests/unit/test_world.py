"""The assembled world: systems, names, planets, quality report and star tile."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from batch_jobs import columnar, solar_system, stellar, tiles, world
from batch_jobs import quality as quality_rules
from chalicelib import designations
from chalicelib.errors import SourceFormatError, SourceMissingError
from tests.quality_cases import CLEAN_SOURCES
from tests.unit.conftest import DATA


def _by_id(w: world.World) -> dict[str, dict]:
    return {s["system_id"]: s for s in w.systems}


def _finite_everywhere(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite_everywhere(v) for v in value.values())
    if isinstance(value, list):
        return all(_finite_everywhere(v) for v in value)
    return value is None or isinstance(value, (str, int, bool))


@pytest.fixture
def sample_world(sample_paths) -> world.World:
    return world.assemble_world(sample_paths)


# Hand-made sources


def test_sample_world_has_the_sun_stars_and_unmatched_hosts(sample_world):
    ids = [s["system_id"] for s in sample_world.systems]
    assert ids[0] == "sol"
    assert {
        "hip-70890",
        "hip-71683",
        "hip-71681",
        "hip-91262",
        "hip-40",
        "hip-45",
    } <= set(ids)
    assert "hip-421" not in ids  # no position in Hipparcos
    assert {"nasa-trappist-1", "nasa-faraway-host", "nasa-ogle-2099-blg-0001l"} <= set(
        ids
    )
    assert len(ids) == len(set(ids))


def test_systems_are_json_safe_without_nan(sample_world):
    json.dumps(sample_world.systems, allow_nan=False)
    json.dumps(sample_world.quality, allow_nan=False)
    assert _finite_everywhere(sample_world.systems)


def test_star_without_positive_parallax_has_no_made_up_position(sample_world):
    star = _by_id(sample_world)["hip-40"]
    assert star["parallax_mas"] == -3.4
    for key in ("dist_pc", "x_pc", "y_pc", "z_pc"):
        assert key not in star
    assert star["ra_deg"] == pytest.approx(0.12196971)


def test_star_with_parallax_gets_distance_and_quality_figure(sample_world):
    star = _by_id(sample_world)["hip-45"]
    assert star["dist_pc"] == pytest.approx(1000 / 15.10, abs=1e-4)
    assert star["parallax_over_error"] == pytest.approx(15.10 / 1.92, abs=0.01)
    # No B-V: Teff from its type, G6/G8V: (Pecaut & Mamajek's G6V).
    assert star["teff_k"] == 5600.0
    assert star["provenance"]["teff_k"]["rule"] == stellar.TEFF_FROM_TYPE_RULE
    assert star["names"] == ["HIP 45", "HD 224766"]


def test_names_and_display_name_merge_every_source(sample_world):
    alpha = _by_id(sample_world)["hip-71683"]
    assert alpha["name"] == "Rigil Kentaurus"
    for name in (
        "α1 Cen",
        "alpha1 Cen",
        "GJ 559A",
        "HIP 71683",
        "HD 128620",
        "HR 5459",
    ):
        assert name in alpha["names"]
    proxima = _by_id(sample_world)["hip-70890"]
    assert "Proxima Centauri" in proxima["names"]
    assert proxima["provenance"]["name"] == {
        "source": "d3_names",
        "rule": "proper-name",
    }


def test_radial_velocity_follows_source_priority(sample_world):
    alpha = _by_id(sample_world)["hip-71683"]
    assert alpha["rv_kms"] == -22.4  # Nearest, not Brightest's -26.2
    assert alpha["provenance"]["rv_kms"] == {
        "source": "sscore_nearest",
        "rule": "priority",
    }
    assert sample_world.quality["sscore.brightest.rv_conflict"]["count"] == 1


def test_planets_attach_to_their_matched_host_star(sample_world):
    systems = _by_id(sample_world)
    assert [p["name"] for p in systems["hip-70890"]["planets"]] == ["Proxima Cen b"]
    vega = systems["hip-91262"]
    assert [p["name"] for p in vega["planets"]] == ["Lyra Host b"]
    assert "Lyra Host" in vega["names"]
    assert not any(s["system_id"].startswith("nasa-lyra") for s in sample_world.systems)


def test_planet_record_shape_and_invalid_eccentricity(sample_world):
    systems = _by_id(sample_world)
    planet = systems["hip-70890"]["planets"][0]
    assert planet == {
        "name": "Proxima Cen b",
        "known": True,
        "inferred": False,
        "period_days": 11.1868,
        "semi_major_axis_au": 0.04856,
        "eccentricity": 0.02,
        "mass_earth": 1.07,
        "radius_earth": 1.03,
        "source": "nasa-exoplanet-archive",
        # 0.0486 AU lies inside Proxima's conservative zone (0.027-0.052 AU at
        # its 3383 K and 0.00066 Lsun from B-V, V and parallax).
        "in_hz": True,
        "provenance": {
            **{
                key: {"source": "pscomppars_2024", "rule": "catalogue"}
                for key in (
                    "name",
                    "period_days",
                    "semi_major_axis_au",
                    "eccentricity",
                    "mass_earth",
                    "radius_earth",
                )
            },
            "in_hz": {"source": "derived", "rule": world.HZ_RULE},
        },
    }
    faraway = systems["nasa-faraway-host"]["planets"][0]
    assert faraway["eccentricity"] is None  # 1.2 in the table
    assert sample_world.quality["exo.eccentricity_invalid"]["count"] == 1


def test_known_planets_are_flagged_in_or_out_of_their_hosts_zone(sample_world):
    systems = _by_id(sample_world)
    sun = {p["name"]: p["in_hz"] for p in systems["sol"]["planets"]}
    assert [name for name, inside in sun.items() if inside] == ["Earth", "Mars"]
    assert sun["Venus"] is False and sun["Jupiter"] is False
    # TRAPPIST-1 (2566 K) lies below Kopparapu's 2600 K: no zone, no flag.
    trappist = systems["nasa-trappist-1"]["planets"]
    assert [p["in_hz"] for p in trappist] == [None, None]
    assert "in_hz" not in trappist[0]["provenance"]
    assert sample_world.quality["world.known_planets_in_hz"]["count"] == 3


def test_unmatched_host_is_built_from_the_table(sample_world):
    trappist = _by_id(sample_world)["nasa-trappist-1"]
    assert trappist["source"] == "nasa-exoplanet-archive"
    assert trappist["names"] == ["TRAPPIST-1"]
    assert trappist["dist_pc"] == pytest.approx(12.4299)
    assert trappist["teff_k"] == 2566.0
    assert trappist["luminosity_lsun"] == pytest.approx(
        0.12**2 * (2566 / 5772) ** 4, rel=1e-3
    )
    assert len(trappist["planets"]) == 2
    assert "x_pc" not in _by_id(sample_world)["nasa-faraway-host"]


def test_quality_report_counts_rules(sample_world):
    q = sample_world.quality
    assert q["hip.rows"]["count"] == 7
    # HIP 421 has no astrometric solution: kept out before the parallax rules.
    assert q["hip.position_missing"]["count"] == 1
    assert q["hip.parallax_missing"]["count"] == 0
    assert q["hip.parallax_nonpositive"]["count"] == 1
    assert q["hip.distance_assigned"]["count"] == 5
    assert q["hip.bv_missing"]["count"] == 1
    assert q["crossmatch.name"]["count"] == 1
    assert q["crossmatch.position"]["count"] == 1
    assert q["crossmatch.unmatched_hosts"]["count"] == 3
    assert q["exo.rows"]["count"] == 6
    assert all(set(v) >= {"count", "description"} for v in q.values())


def test_tile_has_sixteen_bytes_per_placed_system(sample_world):
    data = sample_world.tile()
    ids = sample_world.tile_ids
    assert len(data) == 16 * len(ids)
    assert ids[0] == "sol"
    records = tiles.decode_stars(data)
    systems = _by_id(sample_world)
    i = ids.index("hip-70890")
    assert records["x"][i] == pytest.approx(systems["hip-70890"]["x_pc"], abs=1e-6)
    assert records["z"][i] == pytest.approx(systems["hip-70890"]["z_pc"], abs=1e-6)
    assert "hip-40" not in ids


def test_tiles_from_the_stars_table_equal_the_tiles_from_the_records(sample_world):
    stars = columnar.star_table(sample_world.systems)
    assert sample_world.tile(stars) == sample_world.tile()
    assert sample_world.tile_velocities(stars) == sample_world.tile_velocities()


def test_tile_layout_is_little_endian_floats_then_bytes():
    data = tiles.encode_stars([1.5], [-2.0], [0.25], [np.nan], [np.nan])
    assert data[:12] == np.array([1.5, -2.0, 0.25], dtype="<f4").tobytes()
    assert tuple(data[12:15]) == tiles.UNKNOWN_RGB
    assert data[15] == 0


def test_tile_colour_is_red_for_cool_and_blue_for_hot_stars():
    rgb = tiles.colour_from_teff([3000.0, 6500.0, 20000.0])
    assert rgb[0][0] > rgb[0][2]
    assert tuple(rgb[1]) == (255, 255, 255)
    assert rgb[2][2] > rgb[2][0]


def test_tile_brightness_grows_with_luminosity():
    b = tiles.brightness_from_abs_mag([15.0, 4.83, -5.0, np.nan])
    assert b[0] < b[1] < b[2] and b[3] == 0


def test_sun_has_its_eight_planets_from_standish():
    sol = solar_system.sol_system()
    assert [p["name"] for p in sol["planets"]] == [
        "Mercury",
        "Venus",
        "Earth",
        "Mars",
        "Jupiter",
        "Saturn",
        "Uranus",
        "Neptune",
    ]
    earth = sol["planets"][2]
    assert earth["period_days"] == pytest.approx(365.256, abs=0.001)
    assert sol["planets"][0]["period_days"] == pytest.approx(87.969, abs=0.001)
    assert sol["planets"][4]["semi_major_axis_au"] == 5.202887


def test_nasa_system_ids_are_readable_slugs():
    assert world.nasa_system_id("TRAPPIST-1") == "nasa-trappist-1"
    assert world.nasa_system_id("HD 10647") == "nasa-hd-10647"
    assert world.nasa_system_id("Kepler-1649 ") == "nasa-kepler-1649"


def test_missing_source_role_is_refused(sample_paths):
    del sample_paths["d3_names"]
    with pytest.raises(SourceMissingError, match="d3_names"):
        world.assemble_world(sample_paths)


def test_broken_source_stops_the_assembly(sample_paths, tmp_path):
    broken = tmp_path / "pscomppars.csv"
    broken.write_text("pl_name,hostname\nfoo b\n")
    sample_paths["exoplanets"] = broken
    with pytest.raises(SourceFormatError):
        world.assemble_world(sample_paths)


def test_a_broken_hipparcos_file_is_reported_before_other_broken_sources(
    sample_paths, tmp_path
):
    # Hipparcos is read on a thread beside the other sources; its error still
    # comes first, as when the sources were read one after another.
    hip = tmp_path / "hip_main.dat"
    hip.write_text("H|1|2\n", encoding="latin-1")
    exoplanets = tmp_path / "pscomppars.csv"
    exoplanets.write_text("pl_name,hostname\nfoo b\n")
    sample_paths.update(hip_main=hip, exoplanets=exoplanets)
    with pytest.raises(SourceFormatError) as caught:
        world.assemble_world(sample_paths)
    assert caught.value.path == str(hip)


# Real catalogues


@pytest.mark.realdata
def test_real_world_places_every_star_with_a_parallax(real_world):
    hip_placed = [
        s for s in real_world.systems if s["source"] == "hipparcos" and "x_pc" in s
    ]
    assert len(hip_placed) == 113_710
    assert real_world.quality["hip.distance_assigned"]["count"] == 113_710
    hip_all = [s for s in real_world.systems if s["source"] == "hipparcos"]
    assert len(hip_all) == 118_218 - 263


@pytest.mark.realdata
def test_real_proxima_has_its_known_planet(real_world):
    proxima = _by_id(real_world)["hip-70890"]
    assert "Proxima Centauri" in proxima["names"]
    assert "Proxima Cen b" in [p["name"] for p in proxima["planets"]]
    assert proxima["x_pc"] == pytest.approx(0.8981, abs=2e-4)


@pytest.mark.realdata
def test_real_alpha_centauri_a_and_b(real_world):
    systems = _by_id(real_world)
    assert "HD 128620" in systems["hip-71683"]["names"]
    assert systems["hip-71683"]["name"] == "Rigil Kentaurus"
    assert "HD 128621" in systems["hip-71681"]["names"]
    assert systems["hip-71681"]["name"] == "Toliman"


@pytest.mark.realdata
@pytest.mark.parametrize(
    "query, system_id",
    [
        ("Sirius", "hip-32349"),
        ("vega", "hip-91262"),
        ("Barnards Star", "hip-87937"),
        ("Alpha Centauri", "hip-71683"),
        ("61 Cygni", "hip-104214"),
    ],
)
def test_real_famous_stars_are_findable_by_name(real_world, query, system_id):
    key = designations.normalise(query)
    names = _by_id(real_world)[system_id]["names"]
    assert any(key in designations.index_keys(name) for name in names)


@pytest.mark.realdata
def test_real_trappist_1_is_its_own_system_with_seven_planets(real_world):
    trappist = _by_id(real_world)["nasa-trappist-1"]
    assert len(trappist["planets"]) == 7
    assert trappist["source"] == "nasa-exoplanet-archive"


@pytest.mark.realdata
def test_real_sun_has_eight_planets(real_world):
    assert len(_by_id(real_world)["sol"]["planets"]) == 8


@pytest.mark.realdata
def test_real_world_is_json_safe(real_world):
    json.dumps(real_world.systems, allow_nan=False)
    json.dumps(real_world.quality, allow_nan=False)
    assert _finite_everywhere(real_world.systems)


@pytest.mark.realdata
def test_real_every_planet_is_in_exactly_one_system(real_world):
    known = [p for s in real_world.systems for p in s["planets"]]
    # Four microlensing planets have neither period nor semi-major axis: kept out.
    assert real_world.quality["exo.orbit_missing"]["count"] == 4
    assert len(known) == 5_766 - 4 + 8
    assert real_world.quality["world.known_planets"]["count"] == 5_770


@pytest.mark.realdata
def test_real_crossmatch_counts_add_up(real_world):
    q = {k: v["count"] for k, v in real_world.quality.items()}
    assert q["crossmatch.hosts"] == q["exo.hosts"]
    matched = q["crossmatch.name"] + q["crossmatch.position"]
    assert matched + q["crossmatch.unmatched_hosts"] == q["crossmatch.hosts"]
    assert q["crossmatch.name"] > 600 and q["crossmatch.position"] > 50
    assert (
        q["world.nasa_systems"] + q["crossmatch.sscore_name"]
        == q["crossmatch.unmatched_hosts"]
    )


@pytest.mark.realdata
def test_real_tile_matches_its_ids(real_world):
    data = real_world.tile()
    ids = real_world.tile_ids
    assert len(data) == 16 * len(ids)
    assert len(ids) == real_world.quality["world.systems_with_distance"]["count"]
    records = tiles.decode_stars(data)
    assert np.isfinite(records["x"]).all()


@pytest.mark.realdata
def test_renamed_host_in_the_real_table_is_found_by_position(real_paths, tmp_path):
    table = real_paths["exoplanets"].read_text(encoding="utf-8")
    assert table.count(",HD 10647,") == 1
    copy = tmp_path / "renamed.csv"
    copy.write_text(table.replace(",HD 10647,", ",Renamed Host,"), encoding="utf-8")
    renamed = world.assemble_world({**real_paths, "exoplanets": copy})
    host = next(s for s in renamed.systems if s["system_id"] == "hip-7978")
    assert [p["name"] for p in host["planets"]] == ["HD 10647 b"]
    assert renamed.quality["crossmatch.position"]["count"] >= 1


@pytest.mark.realdata
def test_real_stars_with_radial_velocity_get_full_space_velocities(real_world):
    by_id = {s["system_id"]: s for s in real_world.systems}
    barnard = by_id["hip-87937"]
    assert barnard["velocity"] == "full"
    # Barnard's Star moves ~142 km/s towards -U, mostly (e.g. Fuchs et al. 2001).
    assert -150 < barnard["u_kms"] < -135
    assert real_world.quality["world.velocity_full"]["count"] > 9000
    without_rv = [
        s for s in real_world.systems if s.get("velocity") == "tangential-only"
    ]
    assert without_rv and all(s["rv_kms"] is None for s in without_rv)


@pytest.mark.realdata
def test_real_stars_only_sscore_knows_join_the_world(real_world):
    by_id = {s["system_id"]: s for s in real_world.systems}
    ross = by_id["gj-905"]
    assert (ross["name"], ross["source"]) == ("Ross 248", "sscore")
    assert 3.0 < ross["dist_pc"] < 3.3 and ross["velocity"] == "full"
    assert by_id["gj-244b"]["name"] == "Sirius B"
    assert by_id["gj-406"]["name"] == "Wolf 359"
    # 61 Cyg A has no HIP number in SSCore but is HIP 104214: merged, not doubled.
    assert "GJ 820A" in by_id["hip-104214"]["names"]
    assert "gj-820a" not in by_id
    assert len(by_id) == len(real_world.systems)
    assert real_world.quality["sscore.nearest.no_hip"]["count"] > 150


@pytest.mark.realdata
def test_real_planet_hosts_hipparcos_lacks_join_their_sscore_star(real_world):
    by_id = {s["system_id"]: s for s in real_world.systems}
    teegarden = by_id["sscore-gaia-35227046884571776"]  # an id, not its name
    assert teegarden["name"] == "Teegarden's Star"
    assert any(p["name"].startswith("Teegarden's Star") for p in teegarden["planets"])
    assert not any(s.startswith("nasa-teegarden") for s in by_id)


@pytest.mark.realdata
def test_real_missing_orbits_are_completed_by_keplers_law_and_marked(real_world):
    planets = [p for s in real_world.systems for p in s["planets"]]
    derived = [p for p in planets if "derived" in p]
    assert real_world.quality["exo.axis_derived"]["count"] > 200
    for planet in derived:
        assert planet["derived"] in (
            {"period_days": "kepler-third-law"},
            {"semi_major_axis_au": "kepler-third-law"},
        )
    earth_like = next(p for p in planets if p["name"] == "Proxima Cen b")
    assert "derived" not in earth_like


def test_kepler_completion_gives_earth_a_year():
    from batch_jobs.world import DAYS_PER_YEAR, _Exoplanets

    record = {"period_days": None, "semi_major_axis_au": 1.0}
    holder = _Exoplanets.__new__(_Exoplanets)
    holder.counts = {"period_derived": 0, "axis_derived": 0}
    holder._complete_orbit(record, 1.0)
    assert record["period_days"] == pytest.approx(DAYS_PER_YEAR)
    assert record["derived"] == {"period_days": "kepler-third-law"}


# Provenance and the astrometry setting


def _source_rule(system: dict, key: str) -> tuple[str, str]:
    entry = system["provenance"][key]
    return entry["source"], entry["rule"]


def test_every_field_with_a_value_says_its_source_and_rule(sample_world):
    for system in sample_world.systems:
        provenance = system["provenance"]
        for key, value in system.items():
            if key in ("provenance", "planets", "source", "repairs") or value is None:
                continue
            assert set(provenance[key]) == {"source", "rule"}, (system["name"], key)
        for planet in system["planets"]:
            for key, value in planet.items():
                if key in (
                    "provenance",
                    "source",
                    "known",
                    "inferred",
                    "derived",
                    "repairs",
                ):
                    continue
                if value is not None:
                    assert key in planet["provenance"], (planet["name"], key)


def test_provenance_names_the_source_of_each_merged_field(sample_world):
    alpha = _by_id(sample_world)["hip-71683"]
    assert _source_rule(alpha, "parallax_mas") == ("hip_main", "astrometry-setting")
    assert _source_rule(alpha, "vmag") == ("hip_main", "catalogue")
    assert _source_rule(alpha, "rv_kms") == ("sscore_nearest", "priority")
    assert _source_rule(alpha, "name") == ("d3_names", "proper-name")
    assert _source_rule(alpha, "luminosity_lsun")[0] == "derived"
    assert _source_rule(alpha, "dist_pc") == ("derived", "inverse-parallax")
    trappist = _by_id(sample_world)["nasa-trappist-1"]
    assert _source_rule(trappist, "dist_pc") == ("pscomppars_2024", "host-columns")
    assert _source_rule(trappist, "x_pc") == ("derived", "galactic-cartesian")
    sun = _by_id(sample_world)["sol"]
    assert _source_rule(sun, "teff_k") == ("solar_system", "solar-constants")


def test_a_star_without_radial_velocity_has_tangential_only_provenance(sample_world):
    star = next(
        s for s in sample_world.systems if s.get("velocity") == "tangential-only"
    )
    assert _source_rule(star, "u_kms") == ("derived", "tangential-velocity-only")
    assert "rv_kms" not in star["provenance"]


def test_hip2_setting_takes_astrometry_from_the_2007_reduction(sample_paths):
    paths = {
        **sample_paths,
        "hip2": world.Path(__file__).parents[1] / "data" / "hip2_sample.dat",
    }
    new = _by_id(world.assemble_world(paths, "hip2"))
    old = _by_id(world.assemble_world(sample_paths))
    alpha = new["hip-71683"]
    assert alpha["parallax_mas"] == 754.81
    assert old["hip-71683"]["parallax_mas"] == 742.12
    assert alpha["dist_pc"] == pytest.approx(1000 / 754.81, abs=1e-4)
    assert alpha["vmag"] == old["hip-71683"]["vmag"]  # hip2 has Hp, not V
    assert alpha["teff_k"] == old["hip-71683"]["teff_k"]
    assert _source_rule(alpha, "parallax_mas") == ("hip2", "astrometry-setting")
    assert _source_rule(alpha, "vmag") == ("hip_main", "catalogue")
    assert "dist_pc" not in new["hip-45"]  # hip2 gives it a negative parallax
    vega = new["hip-91262"]  # not in the hip2 sample: hip_main's, and it says so
    assert vega["parallax_mas"] == old["hip-91262"]["parallax_mas"]
    assert _source_rule(vega, "parallax_mas") == ("hip_main", "not-in-hip2")


def test_hip2_rows_are_screened_by_their_own_rules(sample_paths, tmp_path):
    rows = (DATA / "hip2_sample.dat").read_text().splitlines()
    copy = tmp_path / "hip2.dat"
    copy.write_text("\n".join([*rows, rows[0]]) + "\n")  # Proxima twice

    quality = world.assemble_world({**sample_paths, "hip2": copy}, "hip2").quality

    nonpositive = quality["hip2.parallax_nonpositive"]
    assert nonpositive["count"] == 1
    assert nonpositive["samples"][0]["line"] == 3
    assert nonpositive["samples"][0]["id"] == "HIP 45"
    duplicate = quality["hip2.duplicate_hip"]
    assert (duplicate["count"], duplicate["action"]) == (1, quality_rules.KEPT_OUT)
    assert duplicate["samples"][0]["line"] == 4
    assert quality["hip2.rows_kept"]["count"] == 3


def test_hip2_setting_needs_a_hip2_file_and_a_known_setting(sample_paths):
    with pytest.raises(SourceMissingError, match="hip2"):
        world.assemble_world(sample_paths, "hip2")
    with pytest.raises(ValueError, match="hip_main, hip2"):
        world.assemble_world(sample_paths, "gaia_dr3")


@pytest.mark.realdata
def test_real_provenance_says_where_sirius_values_came_from(real_world):
    by_id = _by_id(real_world)
    sirius = by_id["hip-32349"]
    assert _source_rule(sirius, "parallax_mas") == ("hip_main", "astrometry-setting")
    assert _source_rule(sirius, "rv_kms") == ("sscore_nearest", "priority")
    assert _source_rule(sirius, "name") == ("d3_names", "proper-name")
    assert _source_rule(sirius, "luminosity_lsun") == (
        "derived",
        "v-bolometric-correction-distance",
    )
    assert _source_rule(sirius, "spectral_type") == ("hip_main", "priority")
    ross = by_id["gj-905"]
    assert _source_rule(ross, "rv_kms") == ("sscore_nearest", "sscore-only-star")
    proxima_b = next(p for p in by_id["hip-70890"]["planets"] if p["known"])
    assert proxima_b["provenance"]["eccentricity"]["source"] == "pscomppars_2024"
    assert by_id["hip-70890"]["provenance"]["planets"]["rule"].startswith("crossmatch-")


@pytest.mark.realdata
def test_real_sscore_rows_merge_by_hd_number_but_not_onto_a_brighter_component(
    real_world,
):
    quality = real_world.quality
    # Ten on the real files since the validation rules joined the pipeline.
    assert quality["sscore.nearest.matched_by_hd"]["count"] >= 10
    by_id = _by_id(real_world)
    assert "HD 48915" in by_id["hip-32349"]["names"]  # Sirius A's HD number
    assert by_id["gj-244b"]["name"] == "Sirius B"  # same HD, 10 mag fainter: apart
    sscore_ids = [s["system_id"] for s in real_world.systems if s["source"] == "sscore"]
    assert len(sscore_ids) == len(set(sscore_ids))
    assert {"sscore-g-41-14", "sscore-g-41-14-2"} <= set(sscore_ids)


def _nearest_with_alpha_cen_a_as(tmp_path: Path, vmag: str) -> Path:
    """The Nearest sample with Alpha Cen A's row stripped of its HIP and HD numbers
    and moved by a degree, so that only its Gliese number (GJ 559A, which the d3
    sample gives HIP 71683) can find it in Hipparcos."""
    lines = (DATA / "sscore_nearest_sample.csv").read_text().splitlines()
    out = []
    for line in lines:
        if "Rigil Kentaurus" in line:
            line = line.replace("14 39 36.49,-60 50 02.4", "14 39 36.49,-59 50 02.4")
            line = line.replace(";HD 128620", "").replace(";HIP 71683", "")
            line = line.replace(",+0.01,+0.72,", f",{vmag},+0.72,")
        out.append(line)
    path = tmp_path / "nearest.csv"
    path.write_text("\n".join(out) + "\n")
    return path


def test_an_sscore_row_without_hip_or_hd_merges_by_its_gliese_number(
    sample_paths, tmp_path
):
    sample_paths["sscore_nearest"] = _nearest_with_alpha_cen_a_as(tmp_path, "+0.01")

    merged = world.assemble_world(sample_paths)

    assert merged.quality["sscore.nearest.matched_by_gj"]["count"] == 1
    assert "gj-559a" not in _by_id(merged)  # not a second Alpha Cen A
    assert "GJ 559A" in _by_id(merged)["hip-71683"]["names"]


def test_a_gliese_number_does_not_merge_a_row_whose_magnitude_disagrees(
    sample_paths, tmp_path
):
    sample_paths["sscore_nearest"] = _nearest_with_alpha_cen_a_as(tmp_path, "+3.50")

    apart = world.assemble_world(sample_paths)

    assert apart.quality["sscore.nearest.matched_by_gj"]["count"] == 0
    assert "gj-559a" in _by_id(apart)


@pytest.mark.realdata
def test_real_companion_listed_under_its_primarys_designations_leaves_them_to_it(
    real_world,
):
    # SSCore Nearest lists the M dwarf GJ 747 A (8.3 pc) as "17 Lyr" and
    # "HR 7261", which are HIP 93917's (an F0 star at 44 pc).
    by_id = _by_id(real_world)
    companion, primary = by_id["gj-747a"], by_id["hip-93917"]
    assert "HR 7261" not in companion["names"] and "17 Lyr" not in companion["names"]
    assert companion["name"] == "GJ 747A"
    assert {"HR 7261", "17 Lyr"} <= set(primary["names"])
    assert real_world.quality["sscore.borrowed_designations"]["count"] >= 2
    # A true companion keeps the number it shares with its primary.
    assert "HD 48915" in by_id["gj-244b"]["names"]


@pytest.mark.parametrize(
    ("hip_name", "hostname", "number"),
    [
        (None, "HIP 65426", 65426),
        ("HIP 70890", "Proxima Cen", 70890),
        (None, "HIP 79098 AB", 79098),
        (None, "HD 10180", None),
        ("", "HIPPO 3", None),
    ],
)
def test_a_planet_row_names_a_hip_number_by_column_or_host_name(
    hip_name, hostname, number
):
    assert world.hip_number_named(hip_name, hostname) == number


@pytest.mark.realdata
def test_real_planets_within_hipparcos_reach_find_their_own_star(real_world):
    report = real_world.quality
    within = report["crossmatch.hip_reach_planets"]["count"]
    matched = report["crossmatch.hip_reach_matched"]
    assert within >= 70  # the 2024 table names 75 hosts `HIP n`
    assert matched["count"] / within >= 0.98
    assert matched["share"] == pytest.approx(matched["count"] / within, abs=1e-4)
    other = report["crossmatch.hip_reach_other_star"]["count"]
    missed = report["crossmatch.hip_reach_unmatched"]["count"]
    assert matched["count"] + other + missed == within


@pytest.mark.realdata
def test_real_planets_of_hosts_the_hipparcos_survey_holds_find_one_star(real_world):
    # 570 planets of the 2024 table have hosts within the Survey's completeness
    # limit; two (HD 10442 b, HD 5583 b) find no star.
    report = real_world.quality
    within = report["crossmatch.hip_survey_planets"]["count"]
    matched = report["crossmatch.hip_survey_matched"]
    assert within >= 500
    assert matched["share"] >= 0.98
    missed = report["crossmatch.hip_survey_unmatched"]["count"]
    assert matched["count"] + missed == within


def test_the_hip_name_column_is_read_when_the_table_has_one(tmp_path, sample_paths):
    from batch_jobs import catalog

    lines = sample_paths["exoplanets"].read_text().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("pl_name"))
    lines[header] += ",hip_name"
    lines[header + 1] += ",HIP 70890"  # Proxima Cen b
    for i in range(header + 2, len(lines)):
        lines[i] += ","
    path = tmp_path / "with_hip_name.csv"
    path.write_text("\n".join(lines) + "\n")
    table = catalog.read_exoplanets(path)
    assert table["hip_name"][0] == "HIP 70890"
    assert set(table["hip_name"][1:]) == {None}
    assert catalog.read_exoplanets(sample_paths["exoplanets"])["hd_name"][0] is None


def _world_with(bad_name: str) -> world.World:
    from tests.quality_cases import BAD_FILES

    bad = next(b for b in BAD_FILES if b.name == bad_name)
    return world.assemble_world(bad.sources(), bad.astrometry)


def test_a_repaired_star_says_which_rule_dropped_which_value():
    repaired = _by_id(_world_with("hip_colour_implausible.dat"))["hip-50"]
    assert repaired["bv"] is None
    assert repaired["repairs"] == [
        {"rule": "hip.colour_implausible", "action": "repaired: bv dropped (missing)"}
    ]
    clean = _by_id(world.assemble_world(CLEAN_SOURCES))
    assert all("repairs" not in system for system in clean.values())


def test_a_repaired_planet_and_sscore_star_say_so_too():
    systems = _world_with("exo_eccentricity_invalid.csv").systems
    planet = next(
        p for s in systems for p in s["planets"] if p["name"] == "TRAPPIST-1 f"
    )
    assert planet["eccentricity"] is None
    assert [r["rule"] for r in planet["repairs"]] == ["exo.eccentricity_invalid"]
    star = next(
        s
        for s in _world_with("sscore_colour_implausible.csv").systems
        if s["name"] == "Test Red"
    )
    assert [r["rule"] for r in star["repairs"]] == ["sscore.nearest.colour_implausible"]
