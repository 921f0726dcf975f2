"""Jobs with bad input: refused when submitted, never retried when found at run time.

Through the Chalice test client, jobctl and the entrypoint against dynalite.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from chalice.test import Client
from click.testing import CliRunner

from batch_jobs.__main__ import main as batch_main
from batch_jobs.worker import JobRun
from chalicelib import apikeys, jobs, runner
from chalicelib.errors import BadRequest, NotFound, ServiceUnavailable
from chalicelib.models import JobRecord
from jobctl.__main__ import cli

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("root_logging")]
LONG_ID = "x" * 3000


@pytest.fixture
def client(settings):
    from app import app

    with Client(app, stage_name="local") as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(settings):
    return {
        role: apikeys.create_key(f"bad input {role}", role)
        for role in ("viewer", "operator")
    }


@pytest.fixture
def queued(settings):
    """Queued jobs written straight to the table, as before submissions were checked."""
    made = []

    def make(job_type: str, params: dict) -> str:
        job = jobs.submit(job_type, params).job
        made.append(job.job_id)
        return job.job_id

    yield make
    for job_id in made:
        with contextlib.suppress(jobs.JobStateConflict):
            jobs.cancel(job_id, "test ended")


def _strict(text: str):
    """Parse JSON as the standard says: NaN and Infinity are not JSON."""

    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _post(client, path: str, body: str, token: str):
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return client.http.post(path, headers=headers, body=body)


def _error(response) -> dict:
    return json.loads(response.body)["error"]


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _newest_ids() -> set[str]:
    return {job.job_id for job in jobs.list_jobs(100)[0]}


# ------------------------------------------------------------ 1: non-finite numbers


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_non_finite_number_in_params_is_400_naming_its_path_and_creates_nothing(
    launcher, client, keys, number
):
    before = _newest_ids()
    body = f'{{"job_type":"site","params":{{"out":"x","deep":{{"x":[1,{number}]}}}}}}'
    answer = _post(client, "/jobs", body, keys["operator"].token)
    assert answer.status_code == 400
    assert _error(answer)["parameter"] == "params.deep.x[1]"
    assert launcher.launched == [] and _newest_ids() == before


def test_a_stored_non_finite_parameter_lists_and_shows_as_null(launcher, client, keys):
    job = runner.start("site", {"out": "x"}, launcher).job
    job.update(actions=[JobRecord.params_json.set('{"out": "x", "x": NaN}')])
    viewer = {"Authorization": f"Bearer {keys['viewer'].token}"}
    for path in ("/jobs?limit=100", "/jobs?type=site&limit=100", f"/jobs/{job.job_id}"):
        answer = client.http.get(path, headers=viewer)
        assert answer.status_code == 200, path
        body = _strict(answer.body)
        views = body.get("jobs", [body])
        mine = next(view for view in views if view["job_id"] == job.job_id)
        assert mine["params"] == {"out": "x", "x": None}
    listed = _run("list", "--json", "--limit", "100")
    assert listed.exit_code == 0
    mine = next(v for v in _strict(listed.output) if v["job_id"] == job.job_id)
    assert mine["params"]["x"] is None
    shown = _run("show", job.job_id)
    assert shown.exit_code == 0 and _strict(shown.output)["params"]["x"] is None


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e999"])
def test_jobctl_refuses_a_non_finite_param_with_exit_2(launcher, value):
    result = _run("start", "site", "--param", f"out={value}")
    assert result.exit_code == 2 and "not a finite number" in result.output
    assert launcher.launched == []


# ------------------------------------------------------ 2: parameters per job type


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"job_type": "restore", "params": {}}, "params.backup_id"),
        (
            {"job_type": "restore", "params": {"backup_id": "b", "target_prefix": ""}},
            "params.target_prefix",
        ),
        ({"job_type": "site", "params": {"x": 1}}, "params.x"),
        ({"job_type": "build", "params": {"activate": "maybe"}}, "params.activate"),
        (
            {"job_type": "comparison", "params": {"old": "active", "new": "active"}},
            "params",
        ),
        ({"job_type": "comparison", "params": {"new": "x" * 3000}}, "params.new"),
    ],
)
def test_the_api_refuses_bad_job_parameters_with_400_naming_them(
    launcher, client, keys, body, parameter
):
    before = _newest_ids()
    answer = _post(client, "/jobs", json.dumps(body), keys["operator"].token)
    assert answer.status_code == 400
    assert _error(answer)["parameter"] == parameter
    assert launcher.launched == [] and _newest_ids() == before


def test_the_api_answers_404_for_a_comparison_of_unknown_builds(launcher, client, keys):
    body = {"job_type": "comparison", "params": {"old": "wb-nope", "new": "wb-nope2"}}
    answer = _post(client, "/jobs", json.dumps(body), keys["operator"].token)
    assert answer.status_code == 404 and "wb-nope" in _error(answer)["message"]
    assert launcher.launched == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("start", "restore"), 2),
        (("restore", "nope", "--target-prefix", ""), 2),
        (("restore", "nope", "--target-prefix", "scratch-bad-input"), 4),
        (("compare", "wb-nope", "wb-nope2"), 4),
        (("compare", "active", "active"), 2),
        (("start", "site", "--param", "x=1"), 2),
        (("start", "build", "--param", "activate=maybe"), 2),
        (("sim-sweep", "--seeds", "1,2", "--settleable", "bogus"), 2),
    ],
)
def test_jobctl_refuses_bad_job_input_with_its_documented_exit_code(
    launcher, args, code
):
    before = _newest_ids()
    result = _run(*args)
    assert result.exit_code == code, result.output
    assert result.output.startswith("error:") or "Error:" in result.output
    assert launcher.launched == [] and _newest_ids() == before


def test_a_job_whose_stored_params_are_bad_fails_once_and_is_not_retried(
    launcher, queued
):
    job_id = queued("restore", {})
    assert batch_main(["restore", "--job-id", job_id]) == 2
    failed = jobs.get_job(job_id)
    assert failed.state == "failed" and "params.backup_id" in failed.error
    assert failed.retryable is False and failed.retry_at is None
    assert job_id not in runner.sweep(launcher).retried


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (BadRequest("both sides are build wb-1", "new"), False),
        (NotFound("build 'wb-nope' does not exist"), False),
        (ServiceUnavailable("the database did not answer"), True),
        (RuntimeError("the runner crashed"), True),
    ],
)
def test_only_transient_failures_are_retried(queued, error, retried):
    job_id = queued("site", {"out": "x"})
    with pytest.raises(type(error)), JobRun.claim(job_id, heartbeat_s=5):
        raise error
    record = jobs.get_job(job_id)
    assert record.retryable is retried
    assert (record.retry_at is not None) is retried


# ---------------------------------------------------------------- 3: over-long ids


def test_an_over_long_job_id_is_400_naming_the_id_and_its_limit(client, keys):
    viewer = {"Authorization": f"Bearer {keys['viewer'].token}"}
    shown = client.http.get(f"/jobs/{LONG_ID}", headers=viewer)
    assert shown.status_code == 400
    assert _error(shown)["parameter"] == "job_id"
    assert "128" in _error(shown)["message"]
    for action in ("cancel", "retry"):
        answer = _post(
            client, f"/jobs/{LONG_ID}/{action}", "{}", keys["operator"].token
        )
        assert answer.status_code == 400 and _error(answer)["parameter"] == "job_id"


def test_a_job_id_that_is_not_one_is_400_like_other_routes(client):
    answer = client.http.get("/jobs/%E2%98%83")
    assert answer.status_code == 400 and _error(answer)["parameter"] == "job_id"


@pytest.mark.parametrize(
    "args",
    [
        ("show", "y" * 5000),
        ("cancel", LONG_ID),
        ("retry", LONG_ID),
        ("watch", LONG_ID),
        ("sim", "--build", LONG_ID),
    ],
)
def test_jobctl_refuses_an_over_long_id_with_exit_2_before_the_database(settings, args):
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("error:") and "128" in result.output


# ------------------------------------------------------------ 4: watch an unknown job


def test_watching_an_unknown_job_prints_only_its_error(settings):
    result = _run("watch", "nope", "--interval", "0.1")
    assert result.exit_code == 4
    assert result.output == (
        "error: job 'nope' does not exist; `jobctl list` shows the recent ones\n"
    )


# --------------------------------------------------------- 5: the sim's default rule


def test_jobctl_sim_uses_the_rulesets_own_settleable_rule(launcher, sample_build):
    result = _run("sim", "--build", sample_build.build_id, "--ticks", "2")
    assert result.exit_code == 0, result.output
    job_id = result.output.strip()
    try:
        assert jobs.params(jobs.get_job(job_id))["settleable_rule"] == "planet-in-hz"
    finally:
        jobs.cancel(job_id, "test ended")
