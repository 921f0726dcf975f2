"""Validation rules, quality limits and the quality report page."""

from __future__ import annotations

import json
import math

import markupsafe
import numpy as np
import pytest

from batch_jobs import quality, stellar, world
from chalicelib.errors import ConfigurationError
from chalicelib.settings import load_settings
from tests.quality_cases import BAD_FILES, CLEAN_SOURCES


@pytest.fixture(scope="module")
def clean_world() -> world.World:
    return world.assemble_world(CLEAN_SOURCES)


def _limited(report: dict) -> dict:
    return {rule: e for rule, e in report.items() if rule in quality.DEFAULT_LIMITS}


def test_clean_hand_made_sources_pass_the_default_limits(clean_world):
    report = clean_world.quality
    assert quality.judge(report, quality.quality_limits()) == []
    assert all(e["count"] == 0 for e in _limited(report).values())
    assert all(e["passed"] for e in _limited(report).values())


@pytest.mark.parametrize("bad", BAD_FILES, ids=str)
def test_each_rule_flags_its_hand_made_file_and_fails_the_defaults(bad):
    report = world.assemble_world(bad.sources(), bad.astrometry).quality
    limits = quality.quality_limits(astrometry=bad.astrometry)
    failures = quality.judge(report, limits)
    assert [f.split(":")[0] for f in failures] == [bad.rule]
    entry = report[bad.rule]
    assert entry["count"] == 1
    assert entry["passed"] is False and entry["allowed"] == 0
    assert entry["action"] in (quality.KEPT_OUT, quality.COUNTED) or entry[
        "action"
    ].startswith("repaired")
    (sample,) = entry["samples"]
    assert sample["file"] == bad.path.name
    assert sample["line"] == bad.line
    assert failures[0].endswith(f"the first at {bad.path.name} line {bad.line}")
    assert sample["id"] == bad.identifier
    for name, value in bad.values.items():
        got = sample["values"][name]
        assert got == value or (value is not None and got == pytest.approx(value))
    json.dumps(report, allow_nan=False)


def _system(w: world.World, system_id: str) -> dict:
    return next(s for s in w.systems if s["system_id"] == system_id)


def _planets(w: world.World) -> dict[str, dict]:
    return {p["name"]: p for s in w.systems for p in s["planets"] if p.get("known")}


def _bad(rule: str):
    return next(b for b in BAD_FILES if b.rule == rule)


def test_kept_out_rows_do_not_enter_the_world():
    for rule, missing in (
        ("hip.position_out_of_range", "hip-46"),
        ("hip.position_missing", "hip-421"),
    ):
        w = world.assemble_world(_bad(rule).sources())
        assert missing not in {s["system_id"] for s in w.systems}
        assert w.quality["hip.rows_kept"]["count"] == 5
    w = world.assemble_world(_bad("exo.orbit_missing").sources())
    assert "TRAPPIST-1 e" not in _planets(w)
    w = world.assemble_world(_bad("exo.duplicate_planet").sources())
    trappist = [p["name"] for p in _planets(w).values() if "TRAPPIST" in p["name"]]
    assert sorted(trappist) == ["TRAPPIST-1 b", "TRAPPIST-1 c"]
    assert len(_system(w, "nasa-trappist-1")["planets"]) == 2


def test_repaired_rows_enter_the_world_without_the_bad_value():
    w = world.assemble_world(_bad("hip.magnitude_implausible").sources())
    assert _system(w, "hip-49")["vmag"] is None
    w = world.assemble_world(_bad("hip.colour_implausible").sources())
    star = _system(w, "hip-50")
    # The dropped colour gives no Teff; the star's spectral type still does.
    assert star["bv"] is None
    assert star["provenance"]["teff_k"]["rule"] == stellar.TEFF_FROM_TYPE_RULE
    w = world.assemble_world(_bad("exo.eccentricity_invalid").sources())
    assert _planets(w)["TRAPPIST-1 f"]["eccentricity"] is None
    w = world.assemble_world(_bad("exo.mass_implausible").sources())
    assert _planets(w)["TRAPPIST-1 i"]["mass_earth"] is None
    w = world.assemble_world(_bad("sscore.nearest.distance_nonpositive").sources())
    nowhere = next(s for s in w.systems if s["name"] == "Test Nowhere")
    assert "dist_pc" not in nowhere and "x_pc" not in nowhere


def test_unphysical_speed_keeps_the_star_but_withholds_its_velocity():
    w = world.assemble_world(_bad("hip.speed_unphysical").sources())
    star = _system(w, "hip-51")
    assert star["dist_pc"] == pytest.approx(2000.0)
    assert star["pmra_mas_yr"] == pytest.approx(300.10)
    assert not {"u_kms", "v_kms", "w_kms", "velocity"} & set(star)
    assert "u_kms" in _system(w, "hip-45")
    w = world.assemble_world(_bad("sscore.nearest.speed_unphysical").sources())
    far = next(s for s in w.systems if s["name"] == "Test Far")
    assert far["rv_kms"] == pytest.approx(19.4) and "u_kms" not in far
    w = world.assemble_world(_bad("sscore.nearest.rv_unphysical").sources())
    runaway = next(s for s in w.systems if s["name"] == "Test Runaway")
    assert runaway["rv_kms"] is None and runaway["dist_pc"] == pytest.approx(2.409)


def test_tangential_speed_of_barnards_star():
    # Barnard's star: 10358 mas/yr at 548.31 mas is 89.6 km/s tangential.
    speed = quality.tangential_speed_kms(
        np.array([-798.6]), np.array([10328.1]), np.array([548.31])
    )
    assert speed[0] == pytest.approx(89.56, abs=0.01)
    assert math.isnan(quality.tangential_speed_kms(*np.array([[1.0], [1.0], [0.0]]))[0])


def test_sample_values_are_json_safe_missing_is_none():
    assert quality.plain(float("nan")) is None
    assert quality.plain(np.float64("inf")) is None
    assert quality.plain(np.int64(7)) == 7
    assert quality.plain([1.5, float("nan")]) == [1.5, None]


def test_limits_override_the_defaults_and_loosen_a_rule():
    bad = _bad("hip.parallax_nonpositive")
    report = world.assemble_world(bad.sources()).quality
    limits = quality.quality_limits({"hip.parallax_nonpositive": 0.2})
    assert quality.judge(report, limits) == []
    assert report["hip.parallax_nonpositive"]["allowed"] == 1


def test_every_limited_rule_has_a_hand_made_file_that_fails_it():
    # hip2.parallax_missing cannot: the hip2 reader refuses a missing number.
    limited = {*quality.DEFAULT_LIMITS, *quality.HIP2_DEFAULT_LIMITS}
    assert limited - {b.rule for b in BAD_FILES} == {"hip2.parallax_missing"}


def test_hip2_limits_are_accepted_and_bind_hip2_builds_only():
    overrides = {"hip2.parallax_nonpositive": 0.04}
    hip2 = quality.quality_limits(overrides, astrometry="hip2")
    assert hip2["hip2.parallax_nonpositive"] == 0.04
    assert hip2["hip2.duplicate_hip"] == 0.0  # the default, as hip_main's
    # A hip_main build does not run hip2's rules, so their limits would fail it.
    assert quality.quality_limits(overrides) == quality.DEFAULT_LIMITS


def test_clean_sources_with_a_clean_hip2_file_pass_a_hip2_builds_limits():
    sources = {**CLEAN_SOURCES, "hip2": _bad("hip2.duplicate_hip").path}
    sources["hip2"] = sources["hip2"].with_name("hip2_clean.dat")
    report = world.assemble_world(sources, "hip2").quality
    assert quality.judge(report, quality.quality_limits(astrometry="hip2")) == []
    assert report["hip2.astrometry_used"]["count"] == 5


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"hip.no_such_rule": 0.1}, "unknown rule 'hip.no_such_rule'"),
        ({"hip2.no_such_rule": 0.1}, "unknown rule 'hip2.no_such_rule'"),
        ({"hip.duplicate_hip": 1.5}, "outside [0, 1]"),
        ({"hip.duplicate_hip": float("nan")}, "outside [0, 1]"),
        ({"hip.duplicate_hip": "0.1"}, "not a number"),
    ],
)
def test_bad_limits_are_refused_before_any_work(overrides, says):
    with pytest.raises(ConfigurationError) as raised:
        quality.quality_limits(overrides)
    assert says in str(raised.value)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        ("[0.1]", "JSON object"),
        ('{"hip.duplicate_hip": -1}', "not a fraction"),
        ('{"hip.duplicate_hip": NaN}', "not a fraction"),
    ],
)
def test_bad_quality_limits_setting_is_refused_at_start_up(text, says):
    with pytest.raises(ConfigurationError) as raised:
        load_settings({"LB_STAGE": "local", "LB_QUALITY_LIMITS": text})
    assert says in str(raised.value)


def test_quality_limits_setting_is_read():
    settings = load_settings({"LB_QUALITY_LIMITS": '{"hip.duplicate_hip": 0.25}'})
    assert dict(settings.quality_limits) == {"hip.duplicate_hip": 0.25}


def test_a_limited_rule_that_did_not_run_fails():
    failures = quality.judge({}, {"hip.duplicate_hip": 0.0})
    assert failures == ["hip.duplicate_hip: the rule did not run"]


def test_page_lists_every_rule_with_count_limit_verdict_and_samples(clean_world):
    bad = _bad("exo.radius_implausible")
    report = world.assemble_world(bad.sources()).quality
    failures = quality.judge(report, quality.quality_limits())
    page = quality.render_html(report, "wb-test", failures)
    for rule, entry in report.items():
        assert f'id="{rule}"' in page
        assert str(markupsafe.escape(entry["description"])) in page
    assert page.count('<span class="fail">fail</span>') == 1
    assert (
        page.count('<span class="pass">pass</span>') == len(quality.DEFAULT_LIMITS) - 1
    )
    assert "exo_radius_implausible.csv" in page and "77.342" in page
    assert "failed its quality limits" in page


def test_page_escapes_source_text():
    report = {
        "exo.duplicate_planet": {
            "count": 1,
            "rows": 2,
            "description": "rows repeating a planet",
            "action": quality.KEPT_OUT,
            "samples": [
                {
                    "file": "x.csv",
                    "line": 3,
                    "id": "<script>alert(1)</script>",
                    "values": {"pl_name": "<b>", "ra": None},
                }
            ],
        }
    }
    page = quality.render_html(report, "wb-x", [])
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "= missing" in page


@pytest.mark.realdata
def test_real_catalogues_pass_the_default_limits(real_world):
    report = json.loads(json.dumps(real_world.quality, allow_nan=False))
    assert quality.judge(report, quality.quality_limits()) == []
    assert report["hip.speed_unphysical"]["count"] > 0
    sample = report["hip.parallax_nonpositive"]["samples"][0]
    assert sample == {
        "file": "hip_main_I239_ESA1997.dat.gz",
        "line": 41,
        "id": "HIP 40",
        "values": {"parallax_mas": -3.4, "parallax_error_mas": 4.25},
    }


def test_a_system_with_nan_is_refused_before_dynamodb():
    from batch_jobs import publish

    system = {"system_id": "hip-1", "name": "X", "vmag": float("nan")}
    with pytest.raises(ValueError, match="not JSON compliant"):
        publish.system_item("wb-test", system)
