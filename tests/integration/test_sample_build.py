"""A small hand-made world goes through the same pipeline and servers."""

from __future__ import annotations

import json

import pytest

from chalicelib import builds

pytestmark = pytest.mark.integration


def test_sample_build_is_published_but_not_activated(sample_build):
    record = builds.get_build(sample_build.build_id)
    assert record.state == "published"
    pointer = builds.get_pointer()
    assert pointer is None or pointer.active_build_id != sample_build.build_id
    assert sample_build.counts["systems"] > 3


def test_sample_build_is_readable_by_id_through_the_api(sample_build):
    from chalice.test import Client

    from app import app

    with Client(app) as client:
        response = client.http.get(f"/builds/{sample_build.build_id}/systems/sol")
    assert response.status_code == 200
    assert len(json.loads(response.body)["planets"]) == 8
