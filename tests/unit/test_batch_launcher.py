"""The AWS Batch launcher against botocore's Stubber: Batch cannot run here.

The Stubber checks each request against the Batch API model and the exact
parameters we expect, so these tests fail on a misspelt field as well as on a
wrong value.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from chalicelib import launchers
from chalicelib.models import JobRecord


@pytest.fixture
def batch():
    client = boto3.client(
        "batch",
        region_name="eu-west-1",
        aws_access_key_id="stub",
        aws_secret_access_key="stub",  # noqa: S106
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _launcher(client) -> launchers.BatchLauncher:
    return launchers.BatchLauncher(
        client,
        job_queue="localbubble-dev-jobs",
        definition_prefix="localbubble-dev",
        region="eu-west-1",
    )


def _job(params: str = "{}", job_type: str = "build") -> JobRecord:
    return JobRecord(
        f"{job_type}-0123456789ab",
        job_type=job_type,
        params_json=params,
        state="queued",
        runner_id="batch-7",
    )


def _expected(job: JobRecord) -> dict:
    return {
        "jobName": job.job_id,
        "jobQueue": "localbubble-dev-jobs",
        "jobDefinition": f"localbubble-dev-{job.job_type}",
        "containerOverrides": {
            "command": [job.job_type, "--job-id", job.job_id],
            "environment": [{"name": "LB_JOB_ID", "value": job.job_id}],
        },
        "tags": {"localbubble:job-id": job.job_id, "localbubble:type": job.job_type},
        "propagateTags": True,
    }


def test_a_job_is_submitted_to_its_types_definition_with_only_its_id(batch):
    client, stubber = batch
    job = _job()
    stubber.add_response(
        "submit_job",
        {"jobName": job.job_id, "jobId": "batch-7", "jobArn": "arn:aws:batch:x"},
        _expected(job),
    )
    launch = _launcher(client).launch(job)
    assert launch.launcher == "batch"
    assert launch.runner_id == "batch-7"
    assert launch.log_uri.endswith("#jobs/detail/batch-7")
    assert launch.start_timeout_s == 1800.0


def test_a_simulation_sweep_is_submitted_as_one_array_job(batch):
    client, stubber = batch
    sweep = [{"seed": seed} for seed in range(8)]
    job = _job(json.dumps({"ticks": 10, "sweep": sweep}), job_type="simulation")
    expected = _expected(job)
    expected["containerOverrides"]["command"] = [
        "sim", "sweep", "--job-id", job.job_id,
    ]  # fmt: skip
    stubber.add_response(
        "submit_job",
        {"jobName": job.job_id, "jobId": "batch-8"},
        {**expected, "arrayProperties": {"size": 8}},
    )
    assert _launcher(client).launch(job).runner_id == "batch-8"


def test_a_sweep_larger_than_batch_allows_is_refused_before_submitting(batch):
    client, _ = batch
    sweep = [{"seed": seed} for seed in range(launchers.MAX_ARRAY_SIZE + 1)]
    job = _job(json.dumps({"sweep": sweep}), job_type="simulation")
    with pytest.raises(launchers.LaunchFailed, match="at most 10000"):
        _launcher(client).launch(job)


@pytest.mark.parametrize(
    ("job_type", "params", "command"),
    [
        ("build", {}, ["build", "--job-id"]),
        ("site", {}, ["site", "--job-id"]),
        ("comparison", {"old": "a", "new": "b"}, ["compare", "--job-id"]),
        ("backup", {}, ["backup", "--job-id"]),
        ("backup", {"drill": True}, ["drill", "--job-id"]),
        ("restore", {}, ["restore", "--job-id"]),
        ("simulation", {"seed": 1}, ["sim", "run"]),
        ("simulation", {"sweep": [{}, {}]}, ["sim", "sweep", "--job-id"]),
    ],
)
def test_every_job_type_has_an_entrypoint_command(job_type, params, command):
    job = _job(json.dumps(params), job_type=job_type)
    assert launchers.entrypoint_args(job) == [*command, job.job_id]


def test_a_refused_submission_says_which_queue_and_definition_to_check(batch):
    client, stubber = batch
    stubber.add_client_error(
        "submit_job", "ClientException", "JobQueue localbubble-dev-jobs not found"
    )
    with pytest.raises(launchers.LaunchFailed, match="localbubble-dev-build"):
        _launcher(client).launch(_job())


def test_cancel_terminates_the_batch_job(batch):
    client, stubber = batch
    job = _job()
    stubber.add_response(
        "terminate_job",
        {},
        {"jobId": "batch-7", "reason": f"job {job.job_id} cancelled"},
    )
    assert _launcher(client).cancel(job) is True


def test_a_failed_termination_is_a_launch_failure(batch):
    client, stubber = batch
    stubber.add_client_error("terminate_job", "ServerException", "try later")
    with pytest.raises(launchers.LaunchFailed, match="could not terminate batch-7"):
        _launcher(client).cancel(_job())


def test_the_cloud_stages_launch_on_batch_and_the_local_stage_locally(tmp_path):
    from chalicelib.settings import load_settings

    cloud = load_settings({"LB_STAGE": "dev", "LB_CURSOR_SECRET": "x" * 16})
    local = load_settings({"LB_STAGE": "local"})
    env = {"LB_JOB_LOG_DIR": str(tmp_path)}
    batch_launcher = launchers.launcher_for(cloud, env)
    assert isinstance(batch_launcher, launchers.BatchLauncher)
    assert batch_launcher.job_queue == "localbubble-dev-jobs"
    local_launcher = launchers.launcher_for(local, env)
    assert isinstance(local_launcher, launchers.LocalLauncher)
    assert local_launcher.log_dir == tmp_path


def test_local_log_pointers_are_absolute_even_from_a_relative_folder():
    launcher = launchers.LocalLauncher(Path("relative/logs"))
    assert launcher.log_dir.is_absolute()
