"""The columnar artifacts keep every value, keep missing values missing, and say so."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from batch_jobs import artifacts, columnar
from batch_jobs.world import World


def _systems() -> list[dict]:
    hip_star = {
        "system_id": "hip-171",
        "name": "85 Peg",
        "names": ["85 Peg", "HIP 171"],
        "source": "hipparcos",
        "hip": 171,
        "hd": 224930,
        "ra_deg": 0.54018776,
        "dec_deg": 27.08448905,
        "parallax_mas": 80.63,
        "parallax_over_error": 26.61,
        "pmra_mas_yr": 778.59,
        "pmdec_mas_yr": -918.72,
        "rv_kms": -36.2,
        "dist_pc": 12.4023,
        "x_pc": -3.429,
        "y_pc": 9.6276,
        "z_pc": -7.0263,
        "u_kms": -8.232,
        "v_kms": -72.551,
        "w_kms": -31.496,
        "velocity": "full",
        "vmag": 5.8,
        "abs_vmag": 5.332,
        "bv": 0.69,
        "spectral_type": "G3V",
        "teff_k": 5636.0,
        "luminosity_lsun": 0.6397,
        "evolutionary_class": "dwarf",
        "mass_msun": 0.96,
        "radius_rsun": 0.843,
        "provenance": {"rv_kms": "sscore_brightest", "name": "d3_names"},
        "planets": [
            {
                "name": "85 Peg i1",
                "known": False,
                "inferred": True,
                "model_version": "occurrence-v1",
                "period_days": 18.499334,
                "semi_major_axis_au": 0.131889,
                "eccentricity": 0.528386,
                "mass_earth": 2.627841,
                "radius_earth": 1.427641,
                "in_hz": False,
                "source": "inference",
            }
        ],
    }
    no_distance = {
        "system_id": "hip-9",
        "name": "HIP 9",
        "names": ["HIP 9"],
        "source": "hipparcos",
        "hip": 9,
        "hd": None,
        "ra_deg": 10.0,
        "dec_deg": -5.0,
        "parallax_mas": -1.2,
        "parallax_over_error": None,
        "vmag": None,
        "abs_vmag": None,
        "bv": None,
        "spectral_type": None,
        "rv_kms": None,
        "teff_k": None,
        "luminosity_lsun": None,
        "planets": [],
    }
    host = {
        "system_id": "nasa-kepler-452",
        "name": "Kepler-452",
        "names": ["Kepler-452"],
        "source": "nasa-exoplanet-archive",
        "hip": None,
        "hd": None,
        "ra_deg": None,
        "dec_deg": None,
        "spectral_type": "G2 V",
        "teff_k": 5757.0,
        "planets": [
            {
                "name": "Kepler-452 b",
                "known": True,
                "inferred": False,
                "period_days": 384.843,
                "semi_major_axis_au": None,
                "eccentricity": None,
                "mass_earth": None,
                "radius_earth": 1.63,
                "source": "nasa-exoplanet-archive",
                "derived": {"semi_major_axis_au": "kepler-third-law"},
            },
            {
                "name": "Kepler-452 c",
                "known": True,
                "inferred": False,
                "period_days": None,
                "semi_major_axis_au": 1.1,
                "eccentricity": 0.0,
                "mass_earth": None,
                "radius_earth": None,
                "in_hz": None,
                "source": "nasa-exoplanet-archive",
            },
        ],
    }
    return [hip_star, no_distance, host]


def _round_trip(kind: str, table: dict) -> list[dict]:
    return columnar.records(kind, columnar.decode(kind, columnar.encode(kind, table)))


def test_stars_round_trip_keeps_values_and_missing_values():
    systems = _systems()
    rows = _round_trip("stars", columnar.star_table(systems))
    assert [r["system_id"] for r in rows] == [s["system_id"] for s in systems]
    for system, row in zip(systems, rows, strict=True):
        for column in columnar.STAR_COLUMNS:
            if column.name in ("has_position", "planet_count"):
                continue
            # A field the record lacks or holds as None comes back as None.
            assert row[column.name] == system.get(column.name), column.name
        assert row["has_position"] == ("x_pc" in system)
        assert row["planet_count"] == len(system["planets"])
    assert rows[1]["hd"] is None and rows[1]["dist_pc"] is None
    assert rows[1]["spectral_type"] is None and rows[1]["provenance"] is None


def test_planets_round_trip_with_their_system_and_derived_marks():
    systems = _systems()
    rows = _round_trip("planets", columnar.planet_table(systems))
    expected = [(s["system_id"], p) for s in systems for p in s["planets"]]
    assert len(rows) == len(expected) == 3
    for (system_id, planet), row in zip(expected, rows, strict=True):
        assert row["system_id"] == system_id
        for column in columnar.PLANET_COLUMNS:
            if column.name != "system_id":
                assert row[column.name] == planet.get(column.name), column.name
    assert rows[0]["in_hz"] is False and rows[2]["in_hz"] is None
    assert rows[1]["derived"] == {"semi_major_axis_au": "kepler-third-law"}
    assert rows[0]["model_version"] == "occurrence-v1"
    assert rows[1]["model_version"] is None


def test_missing_floats_are_nan_in_memory_and_never_reach_json():
    table = columnar.decode(
        "stars", columnar.encode("stars", columnar.star_table(_systems()))
    )
    assert np.isnan(table["dist_pc"][1]) and np.isnan(table["ra_deg"][2])
    assert table["hd"][1] == columnar.MISSING_INT
    text = json.dumps(columnar.records("stars", table), allow_nan=False)
    assert "NaN" not in text and "Infinity" not in text


def test_the_same_world_gives_the_same_bytes():
    first = columnar.encode("stars", columnar.star_table(_systems()))
    second = columnar.encode("stars", columnar.star_table(_systems()))
    assert first == second


def test_the_artifact_names_its_schema_and_numpy_reads_it_without_pickle():
    import io

    data = columnar.encode("planets", columnar.planet_table(_systems()))
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        schema = json.loads(str(archive[columnar.SCHEMA_MEMBER]))
        assert schema["table"] == "planets"
        assert [c["name"] for c in schema["columns"]] == [
            c.name for c in columnar.PLANET_COLUMNS
        ]
        assert archive["period_days"].dtype == np.float64


def test_a_non_number_in_a_float_field_is_refused_naming_the_column():
    systems = _systems()
    systems[0]["vmag"] = "bright"
    with pytest.raises(columnar.ColumnarFormatError, match="stars column 'vmag'"):
        columnar.star_table(systems)


def test_infinity_is_refused_before_it_is_written():
    table = columnar.star_table(_systems())
    table["teff_k"][0] = math.inf
    with pytest.raises(columnar.ColumnarFormatError, match="'teff_k' holds infinity"):
        columnar.encode("stars", table)


def test_an_artifact_missing_a_column_or_of_another_kind_is_refused():
    table = columnar.star_table(_systems())
    del table["x_pc"]
    with pytest.raises(columnar.ColumnarFormatError, match="lacks column.*x_pc"):
        columnar.encode("stars", table)
    planets = columnar.encode("planets", columnar.planet_table(_systems()))
    with pytest.raises(columnar.ColumnarFormatError, match="no stars schema"):
        columnar.decode("stars", planets)
    with pytest.raises(columnar.ColumnarFormatError, match="not an npz archive"):
        columnar.decode("stars", b"not a zip")


def test_an_older_artifact_reads_back_with_the_newer_columns_missing():
    import io
    import zipfile

    table = columnar.star_table(_systems())
    schema = json.loads(columnar.schema_json("stars"))
    schema["schema_version"] = "columnar-1"
    schema["columns"] = [
        c for c in schema["columns"] if c["name"] != "evolutionary_class"
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        members = {columnar.SCHEMA_MEMBER: np.array(json.dumps(schema))}
        members.update((k, v) for k, v in table.items() if k != "evolutionary_class")
        for name, array in members.items():
            with zf.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    rows = columnar.records("stars", columnar.decode("stars", buffer.getvalue()))
    assert [r["evolutionary_class"] for r in rows] == [None] * len(rows)
    assert rows[0]["mass_msun"] == 0.96


def test_an_empty_world_gives_empty_tables():
    rows = _round_trip("planets", columnar.planet_table([]))
    assert rows == []


def test_world_artifacts_hold_the_columnar_tables_and_the_systems_lines():
    import gzip

    world = World(systems=_systems(), quality={})
    out = artifacts.world_artifacts(world)
    assert {"stars.npz", "planets.npz", "systems.jsonl.gz"} <= set(out)
    stars = columnar.decode("stars", out["stars.npz"])
    assert stars["system_id"].tolist() == [b"hip-171", b"hip-9", b"nasa-kepler-452"]
    lines = gzip.decompress(out["systems.jsonl.gz"]).decode().splitlines()
    assert [json.loads(line) for line in lines] == world.systems


def test_systems_lines_cross_chunk_boundaries_without_losing_a_line():
    import gzip

    systems = [{"system_id": f"s-{i}", "planets": [], "x": None} for i in range(4_321)]
    lines = gzip.decompress(artifacts.systems_jsonl(systems)).split(b"\n")
    assert [json.loads(line) for line in lines] == systems


def test_the_cycle_collector_is_paused_only_inside_the_build_step():
    import gc

    from batch_jobs import pipeline

    assert gc.isenabled()
    with pipeline.cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), pipeline.cyclic_gc_paused():
        raise RuntimeError("a failed step")
    assert gc.isenabled()


def test_json_cells_are_the_standard_librarys_bytes_whatever_they_hold():
    cells = [
        {"x_pc": {"rule": "galactic-cartesian", "source": "derived"}, "a": "b"},
        {"name": "α Cen", "hd": "HD 1"},  # non-ASCII: escaped as json.dumps does
        {"weird:{": "x:{", "q": 'say "hi"', "ctl": "\x01\x7f"},
        {"a": 1.5e-05, "b": 1e16, "c": True, "d": None, "e": [1, 2]},
        {"nested": {"deep": -2.5e-07}},
    ]
    column = columnar._json_column(cells)
    for cell, stored in zip(cells, column.tolist(), strict=True):
        expected = json.dumps(cell, sort_keys=True, separators=(",", ":"))
        assert stored == expected.encode()


def test_a_nan_in_a_json_cell_is_refused_as_the_standard_library_refuses_it():
    with pytest.raises(columnar.ColumnarFormatError, match="provenance"):
        columnar._column_values(
            [{"a": math.nan}], columnar.Column("provenance", "json", "", ""), "stars"
        )


def test_repeated_json_cells_are_stored_alike_and_a_nan_is_refused_after_a_null():
    # Cells with the same JSON text share one stored text; a NaN writes as null
    # in orjson too, so it must not borrow the text of an earlier null.
    shared = {"ra_deg": {"rule": "catalogue", "source": "hip_main"}}
    column = columnar._json_column([shared, {}, dict(shared), None, shared])
    assert column.tolist() == [column[0], b"", column[0], b"", column[0]]
    assert json.loads(column[0]) == shared
    with pytest.raises(columnar.ColumnarFormatError, match="provenance"):
        columnar._column_values(
            [{"a": None}, {"a": math.nan}],
            columnar.Column("provenance", "json", "", ""),
            "stars",
        )
