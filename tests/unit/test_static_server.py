"""The local site server sends the build's gzip copies as gzip-encoded responses."""

from __future__ import annotations

import gzip
import http.client
import threading
from functools import partial
from http.server import ThreadingHTTPServer

import pytest

from devenv.static_server import PrecompressedHandler, accepts_gzip


@pytest.fixture
def server(tmp_path):
    """The handler on an ephemeral port over a folder with a gzip copy."""
    (tmp_path / "data").mkdir()
    body = b"\x00\x01" * 5000
    (tmp_path / "data" / "stars.bin").write_bytes(body)
    (tmp_path / "data" / "stars.bin.gz").write_bytes(gzip.compress(body, mtime=0))
    (tmp_path / "app.js").write_text("export {};\n", encoding="utf-8")
    handler = partial(PrecompressedHandler, directory=str(tmp_path))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], body
    httpd.shutdown()
    httpd.server_close()


def get(port: int, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_a_gzip_client_gets_the_compressed_copy_with_its_encoding(server):
    port, body = server

    response = get(port, "/data/stars.bin", {"Accept-Encoding": "gzip, deflate"})

    assert response.status == 200
    assert response.getheader("Content-Encoding") == "gzip"
    assert response.getheader("Content-Type") == "application/octet-stream"
    assert response.getheader("Vary") == "Accept-Encoding"
    assert int(response.getheader("Content-Length")) < len(body)
    assert gzip.decompress(response.body) == body


def test_a_client_without_gzip_gets_the_plain_file(server):
    port, body = server

    response = get(port, "/data/stars.bin", {"Accept-Encoding": "identity"})

    assert response.getheader("Content-Encoding") is None
    assert response.body == body


def test_a_file_without_a_copy_is_sent_as_is_with_its_type(server):
    port, _ = server

    response = get(port, "/app.js", {"Accept-Encoding": "gzip"})

    assert response.getheader("Content-Encoding") is None
    assert response.getheader("Content-Type") == "text/javascript; charset=utf-8"


def test_folders_are_not_listed(server):
    port, _ = server

    assert get(port, "/data/", {}).status == 404


@pytest.mark.parametrize(
    ("header", "accepted"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("gzip;q=0", False),
     ("deflate", False), (None, False)],
)  # fmt: skip
def test_accept_encoding_is_read_with_its_quality(header, accepted):
    assert accepts_gzip(header) is accepted
