"""API keys on the job routes, through the Chalice test client and dynalite.

Reads stay open (the status dashboard needs no key) but hide a job's private
fields; starting, cancelling and retrying need an operator key.
"""

from __future__ import annotations

import io
import json
import logging

import pytest
from chalice.test import Client
from click.testing import CliRunner

from chalicelib import apikeys, jobs, runner
from chalicelib.models import ApiKey
from jobctl.__main__ import cli

pytestmark = pytest.mark.integration


@pytest.fixture
def client(settings):
    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(settings):
    """One key per role, and one revoked operator key."""
    made = {role: apikeys.create_key(f"test {role}", role) for role in apikeys.ROLES}
    revoked = apikeys.create_key("test revoked", "operator")
    apikeys.revoke_key(revoked.key_id)
    made["revoked"] = revoked
    return made


def _auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _post(client, path: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json", **(_auth(token) if token else {})}
    return client.http.post(path, headers=headers, body=json.dumps(body or {}))


def _error(response) -> dict:
    return json.loads(response.body)["error"]


def test_reads_need_no_key_but_hide_a_jobs_private_fields(launcher, client, keys):
    job = runner.start("site", {"out": "/secret/path"}, launcher).job
    public = json.loads(client.http.get(f"/jobs/{job.job_id}").body)
    assert public["state"] == "queued"
    assert not {"params", "runner_id", "log_uri", "idempotency_key"} & set(public)
    assert "runner_id" not in public["history"][0]
    listed = json.loads(client.http.get("/jobs?type=site&limit=5").body)["jobs"]
    assert all("params" not in view for view in listed)
    viewer = client.http.get(f"/jobs/{job.job_id}", headers=_auth(keys["viewer"].token))
    assert json.loads(viewer.body)["params"] == {"out": "/secret/path"}


def test_starting_a_job_without_a_key_is_401_in_the_error_shape(launcher, client):
    response = _post(client, "/jobs", {"job_type": "build"})
    assert response.status_code == 401
    error = _error(response)
    assert (error["code"], error["parameter"]) == ("unauthorized", "authorization")
    assert "operator" in error["message"]
    assert launcher.launched == []


def test_a_viewer_key_may_read_but_not_start_jobs(launcher, client, keys):
    response = _post(client, "/jobs", {"job_type": "build"}, keys["viewer"].token)
    assert response.status_code == 403
    assert _error(response)["code"] == "forbidden"
    assert launcher.launched == []


@pytest.mark.parametrize(
    "token",
    ["lbk_nosuchkey_secret", "not-a-key", "lbk_"],
)
def test_an_invalid_key_is_401_even_on_a_public_read(client, token):
    response = client.http.get("/jobs", headers=_auth(token))
    assert response.status_code == 401
    assert _error(response)["code"] == "unauthorized"


def test_a_revoked_key_no_longer_works(client, keys):
    response = _post(client, "/jobs", {"job_type": "build"}, keys["revoked"].token)
    assert response.status_code == 401
    assert "revoked" in _error(response)["message"]


def test_a_key_with_a_wrong_secret_is_refused(client, keys):
    key_id = keys["operator"].key_id
    response = _post(client, "/jobs", {"job_type": "build"}, f"lbk_{key_id}_guess")
    assert response.status_code == 401


def test_an_operator_starts_cancels_and_retries_a_job(launcher, client, keys):
    token = keys["operator"].token
    body = {"job_type": "build", "params": {"activate": False}, "idempotency_key": "k1"}
    first = _post(client, "/jobs", body, token)
    assert first.status_code == 200
    started = json.loads(first.body)
    job_id = started["job"]["job_id"]
    assert started["created"] is True and started["job"]["params"] == {
        "activate": False
    }
    again = json.loads(_post(client, "/jobs", body, token).body)
    assert (again["created"], again["job"]["job_id"]) == (False, job_id)
    assert launcher.launched == [job_id]
    cancelled = _post(client, f"/jobs/{job_id}/cancel", token=token)
    assert json.loads(cancelled.body)["state"] == "cancelled"
    retried = json.loads(_post(client, f"/jobs/{job_id}/retry", token=token).body)
    assert (retried["state"], retried["attempts"]) == ("queued", 2)
    assert jobs.get_job(job_id).trigger == "api"
    twice = _post(client, f"/jobs/{job_id}/retry", token=token)
    assert twice.status_code == 409


def test_a_bad_start_request_names_what_is_wrong(launcher, client, keys):
    token = keys["operator"].token
    unknown = _post(client, "/jobs", {"job_type": "teleport"}, token)
    assert unknown.status_code == 400 and _error(unknown)["parameter"]
    not_json = client.http.post(
        "/jobs", headers={"Content-Type": "text/plain", **_auth(token)}, body="x"
    )
    assert not_json.status_code == 415
    broken = client.http.post(
        "/jobs",
        headers={"Content-Type": "application/json", **_auth(token)},
        body="{bad json",
    )
    error = _error(broken)
    assert broken.status_code == 400 and error["parameter"] is None
    assert error["message"].startswith("the body is not valid JSON: ")
    assert set(error) == {"code", "message", "parameter", "details"}
    assert launcher.launched == []


def test_only_the_secrets_hash_is_stored(keys):
    issued = keys["operator"]
    secret = issued.token.split("_", 2)[2]
    item = ApiKey.get(issued.key_id)
    stored = json.dumps(item.attribute_values, default=str)
    assert secret not in stored
    assert item.secret_sha256 == apikeys._digest(secret)


def test_jobctl_creates_a_key_that_the_api_accepts(client, launcher):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        made = CliRunner().invoke(
            cli, ["api-key", "create", "--name", "ci", "--role", "operator"]
        )
        listed = CliRunner().invoke(cli, ["api-key", "list"])
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    assert token.startswith("lbk_")
    key_id = token.split("_")[1]
    assert key_id in listed.output and token not in listed.output
    response = _post(client, "/jobs", {"job_type": "site"}, token)
    assert response.status_code == 200


def test_a_routes_log_lines_carry_its_request_id(launcher, client, keys, root_logging):
    from chalicelib import logs

    stream = io.StringIO()
    logs.configure("local-bubble", stream=stream)
    body = {"job_type": "site", "params": {"out": "/tmp/site"}}
    response = _post(client, "/jobs", body, keys["operator"].token)
    assert response.status_code == 200
    request_id = response.headers["X-Request-Id"]
    job_id = json.loads(response.body)["job"]["job_id"]
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    ours = [line for line in lines if line.get("request_id") == request_id]
    assert f"job {job_id} queued (site, trigger api)" in {
        line["message"] for line in ours
    }
    answered = [line for line in ours if line.get("path") == "/jobs"]
    assert [(a["method"], a["status"]) for a in answered] == [("POST", 200)]
    # Bound for that request only: the next one gets an id of its own.
    again = client.http.get(f"/jobs/{job_id}")
    assert again.headers["X-Request-Id"] != request_id
