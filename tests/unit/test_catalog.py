"""The catalogue readers: real layouts read right, broken files refused with where."""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path

import numpy as np
import pytest

from batch_jobs import catalog
from chalicelib.errors import SourceFormatError, SourceMissingError

DATA = Path(__file__).parents[1] / "data"
HIP_SAMPLE = DATA / "hip_main_sample.dat"
NEAREST = DATA / "sscore_nearest_sample.csv"
BRIGHTEST = DATA / "sscore_brightest_sample.csv"
D3 = DATA / "d3_names_sample.json"
EXO_2024 = DATA / "exoplanets_sample_2024.csv"
EXO_2020 = DATA / "exoplanets_sample_2020.csv"


def _gzipped(tmp_path: Path, source: Path, name: str = "hip_main.dat.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(source.read_bytes(), mtime=0))
    return path


def _row_of(table: dict, hip: int) -> int:
    return int(np.flatnonzero(table["hip"] == hip)[0])


# Hipparcos main catalogue


def test_hipparcos_fields_are_read_by_cds_index():
    table = catalog.read_hipparcos_main(HIP_SAMPLE)
    i = _row_of(table, 70890)
    assert table["vmag"][i] == 11.01
    assert table["ra_deg"][i] == pytest.approx(217.44894751)
    assert table["dec_deg"][i] == pytest.approx(-62.68135207)
    assert table["parallax_mas"][i] == 772.33
    assert table["pmra_mas_yr"][i] == -3775.64
    assert table["pmdec_mas_yr"][i] == 768.16
    assert table["bv"][i] == 1.807
    assert table["spectral_type"][i] == "M5Ve"


def test_hipparcos_parallax_error_is_h16_not_the_ra_error():
    table = catalog.read_hipparcos_main(HIP_SAMPLE)
    i = _row_of(table, 70890)
    assert table["parallax_error_mas"][i] == 2.42  # H14 (RA error) would be 1.31


def test_hipparcos_hd_number_is_h71():
    table = catalog.read_hipparcos_main(HIP_SAMPLE)
    assert table["hd"][_row_of(table, 71683)] == 128620
    assert table["hd"][_row_of(table, 70890)] == catalog.NO_ID


def test_empty_hipparcos_fields_are_nan_never_zero():
    table = catalog.read_hipparcos_main(HIP_SAMPLE)
    i = _row_of(table, 421)
    assert math.isnan(table["parallax_mas"][i])
    assert math.isnan(table["ra_deg"][i])
    j = _row_of(table, 45)
    assert math.isnan(table["bv"][j])
    assert table["parallax_mas"][j] == 15.10


def test_hipparcos_without_fixed_columns_reads_like_the_fixed_layout(tmp_path):
    # The CDS file's fields sit at fixed columns and are sliced as one byte
    # array; with the padding stripped, the same rows take the split path.
    lines = HIP_SAMPLE.read_text(encoding="latin-1").splitlines()
    ragged = ["|".join(f.strip() for f in line.split("|")) for line in lines]
    path = tmp_path / "hip_main.dat"
    path.write_text("\n".join(ragged) + "\n", encoding="latin-1")
    fixed, split = (
        catalog.read_hipparcos_main(HIP_SAMPLE),
        catalog.read_hipparcos_main(path),
    )
    assert fixed.keys() == split.keys()
    for name, column in fixed.items():
        assert column.dtype == split[name].dtype, name
        assert column.tolist() == split[name].tolist() or np.array_equal(
            column, split[name], equal_nan=True
        ), name


def test_gzipped_hipparcos_reads_like_plain_text(tmp_path):
    plain = catalog.read_hipparcos_main(HIP_SAMPLE)
    packed = catalog.read_hipparcos_main(_gzipped(tmp_path, HIP_SAMPLE))
    np.testing.assert_array_equal(plain["hip"], packed["hip"])
    np.testing.assert_array_equal(plain["parallax_mas"], packed["parallax_mas"])


def test_truncated_gzip_is_refused_with_file_name(tmp_path):
    path = _gzipped(tmp_path, HIP_SAMPLE)
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_hipparcos_main(path)
    assert "hip_main.dat.gz" in str(caught.value)
    assert "truncated" in str(caught.value)
    assert caught.value.line is not None


def test_truncated_gzip_is_refused_by_the_csv_readers_too(tmp_path):
    for source, reader in (
        (NEAREST, catalog.read_sscore),
        (EXO_2024, catalog.read_exoplanets),
        (D3, catalog.read_d3_names),
    ):
        path = _gzipped(tmp_path, source, name=source.name + ".gz")
        path.write_bytes(path.read_bytes()[:-40])
        with pytest.raises(SourceFormatError, match="truncated") as caught:
            reader(path)
        assert source.name in str(caught.value)


def test_gzip_with_bad_crc_is_refused(tmp_path):
    path = _gzipped(tmp_path, HIP_SAMPLE)
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    path.write_bytes(bytes(data))
    with pytest.raises(SourceFormatError, match="corrupt gzip"):
        catalog.read_hipparcos_main(path)


def test_hipparcos_row_with_wrong_field_count_names_its_line(tmp_path):
    lines = HIP_SAMPLE.read_text(encoding="latin-1").splitlines()
    lines[2] = lines[2].rsplit("|", 1)[0]
    path = tmp_path / "hip_main.dat"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_hipparcos_main(path)
    assert caught.value.line == 3
    assert "78" in caught.value.problem and "77" in caught.value.problem


def test_unparseable_parallax_is_refused_with_line_and_column(tmp_path):
    lines = HIP_SAMPLE.read_text(encoding="latin-1").splitlines()
    fields = lines[1].split("|")
    fields[11] = "  7x2.1"
    lines[1] = "|".join(fields)
    path = tmp_path / "hip_main.dat"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_hipparcos_main(path)
    assert caught.value.line == 2
    assert "parallax_mas" in caught.value.problem
    assert "7x2.1" in caught.value.problem


def test_textual_nan_in_a_numeric_field_is_refused(tmp_path):
    lines = HIP_SAMPLE.read_text(encoding="latin-1").splitlines()
    fields = lines[0].split("|")
    fields[5] = "  nan"
    lines[0] = "|".join(fields)
    path = tmp_path / "hip_main.dat"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    with pytest.raises(SourceFormatError, match="vmag"):
        catalog.read_hipparcos_main(path)


def test_random_bytes_named_gz_are_refused(tmp_path):
    path = tmp_path / "hip_main.dat.gz"
    path.write_bytes(random.Random(7).randbytes(4096))
    with pytest.raises(SourceFormatError, match="not a gzip file"):
        catalog.read_hipparcos_main(path)


def test_random_bytes_are_refused_by_every_text_reader(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(random.Random(3).randbytes(4096))
    for reader in (
        catalog.read_hipparcos_main,
        catalog.read_sscore,
        catalog.read_d3_names,
        catalog.read_exoplanets,
    ):
        with pytest.raises(SourceFormatError):
            reader(path)


def test_empty_file_is_refused_by_every_reader(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    for reader in (
        catalog.read_hipparcos_main,
        catalog.read_sscore,
        catalog.read_d3_names,
        catalog.read_exoplanets,
    ):
        with pytest.raises(SourceFormatError, match="empty"):
            reader(path)


def test_missing_file_raises_source_missing(tmp_path):
    with pytest.raises(SourceMissingError):
        catalog.read_hipparcos_main(tmp_path / "nowhere.dat.gz")


def test_windows_line_endings_and_bom_are_accepted(tmp_path):
    for source, reader in (
        (HIP_SAMPLE, catalog.read_hipparcos_main),
        (NEAREST, catalog.read_sscore),
        (EXO_2024, catalog.read_exoplanets),
    ):
        text = source.read_bytes().replace(b"\n", b"\r\n")
        path = tmp_path / source.name
        path.write_bytes(b"\xef\xbb\xbf" + text)
        expected = reader(source)
        got = reader(path)
        key = "hip" if "hip" in expected else "pl_name"
        assert list(got[key]) == list(expected[key])


# SSCore


def test_sscore_positions_become_degrees_with_sign():
    table = catalog.read_sscore(NEAREST)
    assert table["ra_deg"][0] == pytest.approx((14 + 29 / 60 + 42.95 / 3600) * 15)
    assert table["dec_deg"][0] == pytest.approx(-(62 + 40 / 60 + 46.2 / 3600))


def test_sscore_pmra_gets_cos_dec_and_mas_units():
    table = catalog.read_sscore(NEAREST)
    dec = math.radians(table["dec_deg"][0])
    expected = -0.54937 * 15 * math.cos(dec) * 1000
    assert table["pmra_mas_yr"][0] == pytest.approx(expected)
    assert table["pmdec_mas_yr"][0] == pytest.approx(767.3)


def test_sscore_ids_names_and_hip_are_split():
    table = catalog.read_sscore(NEAREST)
    assert table["names"][0] == ["Proxima Cen", "Proxima Centauri"]
    assert "GJ 551" in table["ids"][0]
    assert table["hip"][0] == 70890
    assert table["hip"][2] == catalog.NO_ID  # Wolf 359 has no HIP number


def test_sscore_e_notation_plus_signs_and_empty_rv():
    table = catalog.read_sscore(NEAREST)
    assert table["dist_pc"][0] == pytest.approx(1.302)
    assert table["vmag"][0] == pytest.approx(11.13)
    rows = catalog.read_sscore(BRIGHTEST)
    assert rows["spectral_type"][1] == "C6,5"  # a quoted field with a comma


def test_sscore_missing_required_column_is_named(tmp_path):
    text = NEAREST.read_text().replace("RV,", "Radial,", 1)
    path = tmp_path / "Nearest.csv"
    path.write_text(text)
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_sscore(path)
    assert "RV" in caught.value.problem and caught.value.line == 1


def test_sscore_bad_declination_is_refused(tmp_path):
    text = NEAREST.read_text().replace("-62 40 46.2", "-62 40", 1)
    path = tmp_path / "Nearest.csv"
    path.write_text(text)
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_sscore(path)
    assert caught.value.line == 2 and "Dec" in caught.value.problem


def test_sscore_row_with_extra_field_is_refused(tmp_path):
    lines = NEAREST.read_text().splitlines()
    lines[3] += "extra,"
    path = tmp_path / "Nearest.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_sscore(path)
    assert caught.value.line == 4


# d3-celestial names


def test_d3_thin_spaces_become_spaces_and_greek_is_kept():
    names = catalog.read_d3_names(D3)
    assert names[71683]["hd"] == "HD 128620"
    assert names[71683]["bayer"] == "α1"
    assert names[71683]["c"] == "Cen"
    assert names[70890]["name"] == "Proxima"
    assert names[70890]["bayer"] == ""


def test_d3_invalid_json_names_its_line(tmp_path):
    path = tmp_path / "starnames.json"
    path.write_text('{"1": {"name": "A"},\n"2": {"name": \n}')
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_d3_names(path)
    assert caught.value.line == 3


def test_d3_that_is_not_keyed_by_hip_is_refused(tmp_path):
    path = tmp_path / "starnames.json"
    path.write_text(json.dumps({"Vega": {"name": "Vega"}}))
    with pytest.raises(SourceFormatError, match="HIP number"):
        catalog.read_d3_names(path)


# NASA PSCompPars


def test_exoplanets_with_and_without_comment_header_read_alike():
    new = catalog.read_exoplanets(EXO_2024)
    old = catalog.read_exoplanets(EXO_2020)
    assert new["pl_name"] == old["pl_name"]
    np.testing.assert_array_equal(new["pl_orbper"], old["pl_orbper"])
    assert new["line"][0] == 7 and old["line"][0] == 2


def test_exoplanet_empty_cells_are_missing():
    table = catalog.read_exoplanets(EXO_2024)
    i = table["pl_name"].index("Faraway Host b")
    assert math.isnan(table["sy_dist"][i])
    assert math.isnan(table["pl_orbsmax"][i])
    assert table["st_spectype"][i] is None


def test_exoplanet_columns_are_read_by_header_name(tmp_path):
    lines = EXO_2020.read_text().splitlines()
    rows = [line.split(",") for line in lines]
    swapped = [[r[1], r[0], *r[2:]] for r in rows]
    path = tmp_path / "swapped.csv"
    path.write_text("\n".join(",".join(r) for r in swapped) + "\n")
    table = catalog.read_exoplanets(path)
    assert table["hostname"][0] == "Proxima Cen"
    assert table["pl_name"][0] == "Proxima Cen b"


def test_exoplanet_table_without_hostname_column_is_refused(tmp_path):
    text = EXO_2024.read_text().replace(",hostname,", ",host,", 1)
    path = tmp_path / "pscomppars.csv"
    path.write_text(text)
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_exoplanets(path)
    assert "hostname" in caught.value.problem
    assert caught.value.line == 6
    assert "pscomppars.csv" in str(caught.value)


def test_exoplanet_row_with_missing_host_is_refused(tmp_path):
    text = EXO_2020.read_text().replace(",TRAPPIST-1,", ",,", 1)
    path = tmp_path / "pscomppars.csv"
    path.write_text(text)
    with pytest.raises(SourceFormatError, match="hostname") as caught:
        catalog.read_exoplanets(path)
    assert caught.value.line == 3


def test_exoplanet_unparseable_number_names_column_and_line(tmp_path):
    text = EXO_2020.read_text().replace("11.1868", "eleven", 1)
    path = tmp_path / "pscomppars.csv"
    path.write_text(text)
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_exoplanets(path)
    assert caught.value.line == 2 and "pl_orbper" in caught.value.problem


# Real catalogues


@pytest.mark.realdata
def test_real_hipparcos_counts_match_the_data_readme(real_paths):
    table = catalog.read_hipparcos_main(real_paths["hip_main"])
    plx = table["parallax_mas"]
    assert len(plx) == 118_218
    assert int(np.isnan(plx).sum()) == 263
    assert int((plx <= 0).sum()) == 4_245
    assert int((plx > 0).sum()) == 113_710
    assert int(np.isnan(table["bv"]).sum()) == 1_281
    assert sum(s is None for s in table["spectral_type"]) == 3_034


@pytest.mark.realdata
def test_real_sscore_and_d3_and_exoplanet_files_read(real_paths):
    nearest = catalog.read_sscore(real_paths["sscore_nearest"])
    assert len(nearest["hip"]) == 380
    assert int((nearest["hip"] == catalog.NO_ID).sum()) == 215
    brightest = catalog.read_sscore(real_paths["sscore_brightest"])
    assert len(brightest["hip"]) == 9_092
    assert len(catalog.read_d3_names(real_paths["d3_names"])) == 4_870
    planets = catalog.read_exoplanets(real_paths["exoplanets"])
    assert len(planets["pl_name"]) == 5_766
    assert int(np.isnan(planets["pl_orbsmax"]).sum()) == 280
    assert int(np.isnan(planets["pl_orbeccen"]).sum()) == 822


def test_clean_text_makes_odd_spaces_plain_and_drops_invisible_marks():
    assert catalog.clean_text(" Alpha\u2009Cen\u200b  A\u00a0") == "Alpha Cen A"
    assert catalog.clean_text("\ufeffHIP\t 70890 ") == "HIP 70890"
    # Every mark the table removes or replaces is outside ASCII, so plain text
    # only has its runs of whitespace collapsed.
    assert all(not chr(c).isascii() for c in (*catalog._INVISIBLE, *catalog._SPACES))
