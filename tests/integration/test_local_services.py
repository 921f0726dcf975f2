"""The local dynalite keeps serving when a client goes away mid-request."""

from __future__ import annotations

import socket
import struct
from urllib.parse import urlsplit

import pytest

from chalicelib import builds

pytestmark = pytest.mark.integration


def _half_request(port: int) -> None:
    """Send a DynamoDB request's headers and half its body, then vanish."""
    body = b'{"TableName": "x", "Key": {"k": {"S": "' + b"a" * 200
    head = (
        "POST / HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        "X-Amz-Target: DynamoDB_20120810.GetItem\r\n"
        "Content-Length: 4096\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(head + body)
        # A reset, as a killed process's socket ends, rather than a tidy close.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def test_dynalite_survives_clients_killed_in_the_middle_of_a_request(settings):
    port = urlsplit(settings.dynamodb_endpoint).port
    for _ in range(5):
        _half_request(port)
    # The server still answers: a real read through the product's code.
    pointer = builds.get_pointer()
    assert pointer is None or pointer.active_build_id
