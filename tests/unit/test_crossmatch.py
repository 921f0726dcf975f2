"""Host-star cross-matching: by name, by position with photometry, and what fails."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from batch_jobs import astrometry, catalog, crossmatch

NAN = math.nan

# Three made-up stars at J1991.25; star 2 moves fast (2 arcsec/yr north).
STARS = [
    dict(
        hip=100,
        hd=5000,
        ra=10.0,
        dec=20.0,
        pmra=0.0,
        pmdec=0.0,
        plx=50.0,
        e=1.0,
        vmag=6.0,
    ),
    dict(
        hip=200,
        hd=6000,
        ra=150.0,
        dec=-30.0,
        pmra=0.0,
        pmdec=2000.0,
        plx=200.0,
        e=1.0,
        vmag=9.0,
    ),
    dict(
        hip=300,
        hd=-1,
        ra=250.0,
        dec=45.0,
        pmra=10.0,
        pmdec=-10.0,
        plx=5.0,
        e=1.0,
        vmag=8.0,
    ),
]


def _columns(stars: list[dict]) -> crossmatch.StarColumns:
    def col(key: str, dtype=np.float64) -> np.ndarray:
        return np.array([s[key] for s in stars], dtype=dtype)

    return crossmatch.StarColumns(
        hip=col("hip", np.int64),
        hd=col("hd", np.int64),
        ra_deg=col("ra"),
        dec_deg=col("dec"),
        pmra_mas_yr=col("pmra"),
        pmdec_mas_yr=col("pmdec"),
        parallax_mas=col("plx"),
        parallax_error_mas=col("e"),
        vmag=col("vmag"),
    )


def _at(star: dict, epoch: float, arcsec_east: float = 0.0) -> tuple[float, float]:
    ra, dec = astrometry.propagate(
        star["ra"],
        star["dec"],
        star["pmra"],
        star["pmdec"],
        astrometry.HIPPARCOS_EPOCH,
        epoch,
    )
    shift = arcsec_east / 3600.0 / math.cos(math.radians(float(dec)))
    return float(ra) + shift, float(dec)


def _host(name: str, star: dict, epoch: float = 2015.5, **changes) -> crossmatch.Host:
    ra, dec = _at(star, epoch, changes.pop("arcsec_east", 0.0))
    values = dict(
        hostname=name,
        ra_deg=ra,
        dec_deg=dec,
        dist_pc=1000.0 / star["plx"],
        vmag=star["vmag"],
    )
    values.update(changes)
    return crossmatch.Host(**values)


def _match(hosts, stars=STARS, names=None, **options) -> crossmatch.CrossmatchResult:
    index = crossmatch.build_name_index(names or {})
    return crossmatch.match_hosts(hosts, _columns(stars), index, **options)


def test_hd_designation_matches_by_name():
    result = _match([_host("HD 5000", STARS[0])])
    match = result.matches["HD 5000"]
    assert (match.star, match.method) == (0, "name")
    assert result.counts["name"] == 1 and result.counts["position"] == 0


def test_hip_designation_with_component_letter_matches_by_name():
    result = _match([_host("HIP 300 A", STARS[2])])
    assert result.star_of("HIP 300 A") == 2
    assert result.matches["HIP 300 A"].method == "name"


def test_proper_name_from_the_star_names_matches():
    names = {1: ["Fastmover", "α2 Cen"]}
    result = _match(
        [_host("Fastmover", STARS[1]), _host("alf Cen", STARS[1])], names=names
    )
    assert result.star_of("Fastmover") == 1
    assert result.star_of("alf Cen") == 1  # the index also holds "alpha cen"


def test_renamed_host_still_matches_by_position():
    result = _match([_host("Renamed Host", STARS[0], arcsec_east=1.0)])
    match = result.matches["Renamed Host"]
    assert (match.star, match.method) == (0, "position")
    assert match.separation_arcsec == pytest.approx(1.0, abs=0.01)
    assert result.counts["position"] == 1
    assert result.counts["unmatched_hosts"] == 0


def test_fast_star_matches_at_gaia_epoch_and_at_j2000():
    gaia = _host("Gaia-epoch host", STARS[1], epoch=2015.5)
    old = _host("J2000-epoch host", STARS[1], epoch=2000.0)
    result = _match([gaia, old])
    assert result.star_of("Gaia-epoch host") == 1
    assert result.star_of("J2000-epoch host") == 1


def test_fast_star_is_missed_when_only_its_catalogue_epoch_is_tried():
    result = _match([_host("Gaia-epoch host", STARS[1])], epochs=(1991.25,))
    assert result.star_of("Gaia-epoch host") is None
    assert result.counts["unmatched_hosts"] == 1


def test_position_match_with_wrong_magnitude_is_refused():
    result = _match([_host("Bright impostor", STARS[0], vmag=2.0)])
    assert result.star_of("Bright impostor") is None
    assert result.counts["position_rejected_by_photometry"] == 1


def test_position_match_with_wrong_distance_is_refused():
    result = _match([_host("Far impostor", STARS[0], dist_pc=200.0)])
    assert result.star_of("Far impostor") is None


def test_unknown_magnitude_and_distance_do_not_block_a_position_match():
    result = _match([_host("Bare host", STARS[2], vmag=NAN, dist_pc=NAN)])
    assert result.star_of("Bare host") == 2


def test_host_beyond_the_radius_stays_unmatched():
    result = _match([_host("Lonely", STARS[0], arcsec_east=12.0)])
    assert result.star_of("Lonely") is None
    assert result.counts["unmatched_hosts"] == 1


def test_name_match_far_from_the_star_falls_back_to_position():
    # Named after star 0 but sitting on star 2: the name match is rejected.
    host = _host("HD 5000", STARS[2])
    result = _match([host])
    match = result.matches["HD 5000"]
    assert (match.star, match.method) == (2, "position")
    assert result.counts["name_rejected_by_position"] == 1


def test_two_consistent_stars_within_the_radius_count_as_ambiguous():
    twin = dict(STARS[0], hip=101, hd=5001, ra=STARS[0]["ra"] + 2.0 / 3600)
    result = _match(
        [_host("Twin host", STARS[0], arcsec_east=0.5)], stars=[*STARS, twin]
    )
    match = result.matches["Twin host"]
    assert match.ambiguous and match.star == 0
    assert result.counts["ambiguous"] == 1


def test_two_host_names_for_one_star_share_it():
    result = _match([_host("HD 5000", STARS[0]), _host("Other name", STARS[0])])
    assert result.star_of("HD 5000") == result.star_of("Other name") == 0
    assert result.counts["shared_star"] == 1


def test_host_without_position_can_only_match_by_name():
    hosts = [
        crossmatch.Host("HD 6000", NAN, NAN, NAN, NAN),
        crossmatch.Host("Nameless blob", NAN, NAN, NAN, NAN),
    ]
    result = _match(hosts)
    assert result.star_of("HD 6000") == 1
    assert result.star_of("Nameless blob") is None


def test_name_index_keys_greek_and_spelled_forms():
    index = crossmatch.build_name_index({7: ["α1 Cen", "Rigil Kentaurus"]})
    assert index["alpha1 cen"] == {7}
    assert index["alpha cen"] == {7}
    assert index["rigil kentaurus"] == {7}


def test_name_index_skips_names_no_host_could_match():
    names = {0: ["TYC 1234-5678-1", "Vega", "HR 7001"]}
    index = crossmatch.build_name_index(names, hostnames=["HR 7001 b host"])
    assert "hr 7001" in index and "vega" in index
    assert not any(key.startswith("tyc") for key in index)


@pytest.mark.realdata
def test_renamed_real_host_is_matched_by_position(real_paths, tmp_path):
    copy = tmp_path / "pscomppars.csv"
    shutil.copyfile(real_paths["exoplanets"], copy)
    text = copy.read_text().replace(",HD 10647,", ",Renamed Host,")
    copy.write_text(text)
    planets = catalog.read_exoplanets(copy)
    hip = catalog.read_hipparcos_main(real_paths["hip_main"])
    stars = crossmatch.StarColumns(
        hip=hip["hip"],
        hd=hip["hd"],
        ra_deg=hip["ra_deg"],
        dec_deg=hip["dec_deg"],
        pmra_mas_yr=hip["pmra_mas_yr"],
        pmdec_mas_yr=hip["pmdec_mas_yr"],
        parallax_mas=hip["parallax_mas"],
        parallax_error_mas=hip["parallax_error_mas"],
        vmag=hip["vmag"],
    )
    i = planets["hostname"].index("Renamed Host")
    host = crossmatch.Host(
        "Renamed Host",
        planets["ra"][i],
        planets["dec"][i],
        planets["sy_dist"][i],
        planets["sy_vmag"][i],
    )
    result = crossmatch.match_hosts([host], stars, {})
    match = result.matches["Renamed Host"]
    assert match.method == "position"
    assert int(hip["hd"][match.star]) == 10647
