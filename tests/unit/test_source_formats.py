"""Source files in other shapes: each is read like the original or refused by line.

Every case starts from a hand-made sample in tests/data and changes one thing:
the column order, the header, comment lines, line endings, a byte-order mark,
the text encoding, or gzip compression.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
from pathlib import Path

import numpy as np
import pytest

from batch_jobs import catalog, hip2
from chalicelib.errors import SourceFormatError

DATA = Path(__file__).parents[1] / "data"
HIP = DATA / "hip_main_sample.dat"
HIP2 = DATA / "hip2_sample.dat"
NEAREST = DATA / "sscore_nearest_sample.csv"
D3 = DATA / "d3_names_sample.json"
EXO = DATA / "exoplanets_sample_2024.csv"
READERS = {
    "hip_main": (HIP, catalog.read_hipparcos_main, "latin-1"),
    "hip2": (HIP2, hip2.read_hip2, "ascii"),
    "sscore": (NEAREST, catalog.read_sscore, "utf-8"),
    "exoplanets": (EXO, catalog.read_exoplanets, "utf-8"),
    "d3_names": (D3, catalog.read_d3_names, "utf-8"),
}
TABLE_READERS = ("hip_main", "sscore", "exoplanets")


def _same(expected, got) -> None:
    """Assert two reader outputs hold the same values (NaN equal to NaN)."""
    if isinstance(expected, dict) and not isinstance(next(iter(expected)), str):
        assert got == expected  # d3 names: HIP number -> entry
        return
    assert set(got) == set(expected)
    for key, value in expected.items():
        if key == "line":
            continue
        if isinstance(value, np.ndarray) and value.dtype.kind == "f":
            np.testing.assert_array_equal(got[key], value)
        else:
            assert list(got[key]) == list(value), key


def _write(tmp_path: Path, name: str, body: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def _csv_lines(path: Path) -> tuple[list[str], list[list[str]]]:
    """A sample CSV's comment lines and its parsed rows (header first)."""
    text = path.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    return comments, list(csv.reader(io.StringIO(body)))


def _csv_text(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


# Another column order


@pytest.mark.parametrize("source", [NEAREST, EXO], ids=["sscore", "exoplanets"])
def test_csv_columns_in_another_order_are_read_by_header_name(tmp_path, source):
    comments, rows = _csv_lines(source)
    order = list(range(len(rows[0])))
    random.Random(7).shuffle(order)
    shuffled = [[row[i] for i in order] for row in rows]
    body = _csv_text(shuffled)
    text = "\n".join([*comments, body]) if comments else body
    path = _write(tmp_path, source.name, text.encode())
    reader = catalog.read_sscore if source == NEAREST else catalog.read_exoplanets
    _same(reader(source), reader(path))


def test_hipparcos_fields_out_of_cds_order_are_refused_by_line(tmp_path):
    lines = HIP.read_text(encoding="latin-1").splitlines()
    fields = lines[1].split("|")
    fields[1], fields[0] = fields[0], fields[1]  # HIP number where H0 belongs
    lines[1] = "|".join(fields)
    path = _write(tmp_path, "hip_main.dat", "\n".join(lines).encode("latin-1"))
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_hipparcos_main(path)
    assert caught.value.line == 2 and "field H0 must be 'H'" in caught.value.problem
    assert "hip_main.dat" in str(caught.value)


# A header or none


@pytest.mark.parametrize("source", [NEAREST, EXO], ids=["sscore", "exoplanets"])
def test_csv_without_its_header_line_is_refused_naming_the_line(tmp_path, source):
    comments, rows = _csv_lines(source)
    path = _write(tmp_path, source.name, _csv_text(rows[1:]).encode())
    reader = catalog.read_sscore if source == NEAREST else catalog.read_exoplanets
    with pytest.raises(SourceFormatError) as caught:
        reader(path)
    assert caught.value.line == 1
    assert "no header line naming the columns" in caught.value.problem
    assert source.name in str(caught.value)


def test_hipparcos_with_a_header_line_is_refused_naming_line_one(tmp_path):
    header = "|".join(f"H{i}" for i in range(10))
    body = header + "\n" + HIP.read_text(encoding="latin-1")
    path = _write(tmp_path, "hip_main.dat", body.encode("latin-1"))
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_hipparcos_main(path)
    assert caught.value.line == 1
    assert "a header line? hip_main.dat has none" in caught.value.problem


# Comment lines


@pytest.mark.parametrize("name", TABLE_READERS)
def test_comment_lines_are_skipped_and_line_numbers_stay_true(tmp_path, name):
    source, reader, encoding = READERS[name]
    lines = source.read_text(encoding=encoding).splitlines()
    first_data = (
        1
        + next(i for i, line in enumerate(lines) if not line.startswith("#"))
        + (0 if name == "hip_main" else 1)
    )
    lines.insert(first_data - 1, "# a comment before the first row")
    lines.insert(first_data + 1, "  # an indented comment between rows")
    path = _write(tmp_path, source.name, "\n".join(lines).encode(encoding))
    expected, got = reader(source), reader(path)
    _same(expected, got)
    assert got["line"][0] == expected["line"][0] + 1
    assert got["line"][-1] == expected["line"][-1] + 2


def test_json_with_a_comment_line_is_refused_naming_the_line(tmp_path):
    lines = D3.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "// Alpha Centauri B")
    path = _write(tmp_path, D3.name, "\n".join(lines).encode())
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_d3_names(path)
    assert caught.value.line == 3 and "not valid JSON" in caught.value.problem


# Windows line endings


@pytest.mark.parametrize("name", READERS)
def test_windows_line_endings_are_read_like_unix_ones(tmp_path, name):
    source, reader, _ = READERS[name]
    body = source.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    _same(reader(source), reader(_write(tmp_path, source.name, body)))


# A byte-order mark


@pytest.mark.parametrize("name", READERS)
def test_a_utf8_byte_order_mark_is_dropped(tmp_path, name):
    source, reader, _ = READERS[name]
    body = b"\xef\xbb\xbf" + source.read_bytes()
    _same(reader(source), reader(_write(tmp_path, source.name, body)))


# latin-1 text


def test_hipparcos_is_read_as_latin1(tmp_path):
    lines = HIP.read_text(encoding="latin-1").splitlines()
    fields = lines[0].split("|")
    fields[76] = "M5.5Ve\u00b0"  # a degree sign: one latin-1 byte, 0xb0
    lines[0] = "|".join(fields)
    path = _write(tmp_path, "hip_main.dat", "\n".join(lines).encode("latin-1"))
    table = catalog.read_hipparcos_main(path)
    assert table["spectral_type"][0] == "M5.5Ve\u00b0"


@pytest.mark.parametrize("name", ["sscore", "exoplanets", "d3_names"])
def test_latin1_text_in_a_utf8_source_is_refused_naming_the_line(tmp_path, name):
    source, reader, _ = READERS[name]
    text = source.read_text(encoding="utf-8")
    lines = text.splitlines()
    last = len(lines)
    lines[-1] = "\u00f3" + lines[-1]  # an o with an acute accent, one byte in latin-1
    path = _write(tmp_path, source.name, "\n".join(lines).encode("latin-1"))
    with pytest.raises(SourceFormatError) as caught:
        reader(path)
    assert caught.value.line == last
    assert "not utf-8 text" in caught.value.problem
    assert "0xf3" in caught.value.problem and "save it as utf-8" in caught.value.problem


# gzip


@pytest.mark.parametrize("name", READERS)
def test_gzip_is_read_like_the_plain_file(tmp_path, name):
    source, reader, _ = READERS[name]
    body = gzip.compress(source.read_bytes(), mtime=0)
    _same(reader(source), reader(_write(tmp_path, source.name + ".gz", body)))


def test_a_plain_file_named_gz_is_refused(tmp_path):
    path = _write(tmp_path, "names.json.gz", D3.read_bytes())
    with pytest.raises(SourceFormatError, match="not a gzip file"):
        catalog.read_d3_names(path)


def test_a_d3_name_that_is_not_text_is_refused_naming_the_entry_and_field(tmp_path):
    document = json.loads(D3.read_text(encoding="utf-8"))
    key = next(iter(document))
    document[key]["name"] = 5
    path = _write(tmp_path, D3.name, json.dumps(document).encode())
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_d3_names(path)
    problem = caught.value.problem
    assert f"entry '{key}', field 'name'" in problem and "found int 5" in problem


def test_a_quote_left_open_is_reported_at_the_line_where_it_opened(tmp_path):
    lines = EXO.read_text(encoding="utf-8").splitlines()
    data = [i for i, line in enumerate(lines) if not line.startswith("#")]
    opened = data[2]  # the second data row opens a quote and never closes it
    lines[opened] = lines[opened].replace(",", ',"', 1)
    path = _write(tmp_path, EXO.name, "\n".join(lines).encode())
    with pytest.raises(SourceFormatError) as caught:
        catalog.read_exoplanets(path)
    assert caught.value.line == opened + 1
    assert f"runs on to line {len(lines)}" in caught.value.problem


# Hipparcos 2007: the rows its reader refuses


def _hip2_with(tmp_path: Path, row: int, change) -> Path:
    lines = HIP2.read_text(encoding="ascii").splitlines()
    fields = lines[row].split()
    lines[row] = " ".join(change(fields))
    return _write(tmp_path, "hip2.dat", "\n".join(lines).encode("ascii"))


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda f: f[:-1], "expected 41 whitespace-separated fields"),
        (lambda f: [f[0], f[1], f[2], f[3], "1.2x", *f[5:]], "ra_deg (field 4)"),
        (lambda f: [*f[:4], "214.5", *f[5:]], "hip2.dat gives RA and Dec in radians"),
        (lambda f: ["-7", *f[1:]], "HIP (0)"),
    ],
    ids=["short-row", "garbled-number", "degrees-not-radians", "negative-hip"],
)
def test_a_bad_hip2_row_is_refused_naming_its_line(tmp_path, change, problem):
    path = _hip2_with(tmp_path, 1, change)
    with pytest.raises(SourceFormatError) as caught:
        hip2.read_hip2(path)
    assert caught.value.line == 2
    assert problem in caught.value.problem
