"""Schemathesis fuzzes every operation of /openapi.json against the app in-process.

A small WSGI adapter hands each request to Chalice's local gateway (what `chalice
local` runs), so the fuzzer sees the same routing, CORS and errors as a client.
Each operation gets a bounded number of examples; a 5xx or an answer that breaks
the document fails the test.
"""

from __future__ import annotations

import base64
from http import HTTPStatus
from urllib.parse import quote

import pytest
import schemathesis
from chalice.config import Config
from chalice.local import LocalGateway, LocalGatewayException
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from batch_jobs import simulation
from batch_jobs.encounters import run_encounters
from chalicelib import reads

pytestmark = pytest.mark.integration
EXAMPLES_PER_OPERATION = 40
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


class ChaliceWSGI:
    """A WSGI app over Chalice's LocalGateway, for in-process HTTP tests."""

    def __init__(self, app) -> None:
        self.gateway = LocalGateway(app, Config())

    def __call__(self, environ, start_response):
        path = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", "/"))
        if "?" not in path and environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        try:
            reply = self.gateway.handle_request(
                environ["REQUEST_METHOD"], path, headers, body
            )
        except LocalGatewayException as err:
            reply = {"statusCode": err.CODE, "headers": err.headers, "body": err.body}
        status = reply["statusCode"]
        data = reply.get("body") or b""
        if reply.get("isBase64Encoded"):
            data = base64.b64decode(data)
        elif isinstance(data, str):
            data = data.encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [(k, str(v)) for k, v in (reply.get("headers") or {}).items()],
        )
        return [data]


def _schema():
    from app import app

    return schemathesis.openapi.from_wsgi("/openapi.json", ChaliceWSGI(app))


@pytest.fixture(scope="module")
def sim_run(settings, sample_build) -> tuple[str, int]:
    """A succeeded run and its last tick, with the sample build's encounters."""
    run_encounters(settings, sample_build.build_id)
    params = simulation.RunParams(ticks=20, snapshot_every=10, seed=5)
    run_id = simulation.submit(settings, sample_build.build_id, params, "numba")
    simulation.execute(settings, run_id)
    return run_id, 20


@pytest.fixture(scope="module")
def job_id(settings) -> str:
    """A job record for the job routes to find (queued, then cancelled: no runner)."""
    from chalicelib import jobs

    job = jobs.submit("site", {"build": "fuzz"}).job
    jobs.cancel(job.job_id, "a record for the fuzzer only")
    return job.job_id


@pytest.mark.parametrize(
    "operation",
    [result.ok() for result in _schema().get_all_operations()],
    ids=lambda operation: operation.label,
)
def test_no_operation_answers_5xx_or_breaks_its_schema(
    operation, sample_build, compared_builds, sim_run, job_id
):
    reads.ANSWERS.clear()
    statuses: list[int] = []

    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    @given(
        case=operation.as_strategy(),
        real_build=st.booleans(),
        system_id=st.sampled_from([None, "sol", "hip-70890"]),
        first_page=st.booleans(),
        real_run=st.booleans(),
    )
    def check(case, real_build, system_id, first_page, real_run):
        parameters = case.path_parameters or {}
        if real_build and "build_ref" in parameters:
            parameters["build_ref"] = sample_build.build_id
        if system_id and "system_id" in parameters:
            parameters["system_id"] = system_id
        if real_build and "old_id" in parameters:
            parameters["old_id"] = compared_builds.old_id
            parameters["new_id"] = compared_builds.new_id
        if real_build and first_page and case.query:
            # A made-up cursor is always refused (signed): ask for a first page
            # as often, so that the fuzzer reaches the data behind a list too.
            case.query.pop("cursor", None)
        if real_run and "job_id" in parameters:
            parameters["job_id"] = job_id
        if real_run and "run_id" in parameters:
            parameters["run_id"] = sim_run[0]
            if "tick" in parameters:
                parameters["tick"] = sim_run[1]
        response = case.call_and_validate(checks=CHECKS)
        statuses.append(response.status_code)

    check()
    if operation.method.upper() != "GET":
        # Job control needs an operator key, which the fuzzer does not hold: every
        # answer is a refusal (and would start real work if it were not).
        assert statuses and set(statuses) <= {400, 401, 403, 404, 413, 415}, statuses
        return
    # The fuzzer reached the real data, not only the error paths.
    assert 200 in statuses, sorted(set(statuses))
