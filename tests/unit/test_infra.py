"""Infrastructure is code: the template matches the models and passes cfn-lint."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from infra import render


def test_committed_template_matches_the_models():
    committed = json.loads(render.TEMPLATE.read_text())
    assert committed == json.loads(json.dumps(render.render())), (
        "infra/template.json is stale: run `python -m infra.render`"
    )


def test_every_table_has_point_in_time_recovery_and_on_demand_billing():
    tables = [
        r["Properties"]
        for r in render.render()["Resources"].values()
        if r["Type"] == "AWS::DynamoDB::Table"
    ]
    assert {t["TableName"]["Fn::Sub"].rsplit("-", 1)[1] for t in tables} == {
        "builds", "systems", "names", "jobs", "sim_runs", "sim_ticks", "encounters",
        "ratelimits", "api_keys",
    }  # fmt: skip
    for table in tables:
        assert table["BillingMode"] == "PAY_PER_REQUEST"
        assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"]


def test_template_passes_cfn_lint():
    linter = shutil.which("cfn-lint")
    if linter is None:
        pytest.fail("cfn-lint is not installed: run `make install`")
    done = subprocess.run(
        [linter, str(render.TEMPLATE)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_lambda_requirements_hold_no_numeric_stack():
    lines = (render.TEMPLATE.parents[1] / "requirements.txt").read_text().splitlines()
    wanted = {
        line.split("==")[0].strip().lower() for line in lines if line[:1].isalpha()
    }
    assert wanted
    assert not wanted & {"numpy", "numba", "scipy", "llvmlite"}


def test_importing_the_api_loads_no_numeric_library():
    probe = (
        "import sys, app; "
        "heavy = sorted(m for m in ('numpy', 'numba', 'scipy') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        cwd=render.TEMPLATE.parents[1],
    )  # fmt: skip
    assert done.stdout.strip() == ""


def test_rate_limit_buckets_expire_through_the_table_ttl():
    table = render.render()["Resources"]["RatelimitsTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


def _of_type(kind: str) -> dict:
    return {
        name: r["Properties"]
        for name, r in render.render()["Resources"].items()
        if r["Type"] == kind
    }


def test_every_job_type_has_the_job_definition_the_batch_launcher_submits_to():
    from chalicelib import jobs, launchers

    names = {
        p["JobDefinitionName"]["Fn::Sub"]
        for p in _of_type("AWS::Batch::JobDefinition").values()
    }
    assert names == {f"localbubble-${{Stage}}-{t}" for t in jobs.JOB_TYPES}
    assert set(launchers.ENTRYPOINT_COMMANDS) == set(jobs.JOB_TYPES)
    (queue,) = _of_type("AWS::Batch::JobQueue").values()
    assert queue["JobQueueName"] == {"Fn::Sub": "localbubble-${Stage}-jobs"}


def test_the_compute_environment_is_spot_and_small():
    (env,) = _of_type("AWS::Batch::ComputeEnvironment").values()
    assert env["ComputeResources"]["Type"] in ("FARGATE_SPOT", "SPOT")
    assert env["ComputeResources"]["MaxvCpus"] <= 16


def test_batch_retries_only_tasks_that_never_started_and_every_job_has_a_timeout():
    for props in _of_type("AWS::Batch::JobDefinition").values():
        rules = props["RetryStrategy"]["EvaluateOnExit"]
        retried = [r for r in rules if r["Action"] == "RETRY"]
        assert all("OnStatusReason" in r and "OnExitCode" not in r for r in retried)
        assert rules[-1] == {"OnReason": "*", "Action": "EXIT"}
        assert 0 < props["Timeout"]["AttemptDurationSeconds"] <= 6 * 3600


def test_the_job_role_reaches_only_the_stages_tables_and_buckets():
    (role,) = [
        p for name, p in _of_type("AWS::IAM::Role").items() if name == "BatchJobRole"
    ]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    arns = []
    for statement in statements:
        found = statement["Resource"]
        arns.extend(found if isinstance(found, list) else [found])
    assert len(arns) == 7
    for arn in arns:
        assert ":::localbubble-${Stage}-" in arn["Fn::Sub"] or (
            ":table/localbubble-${Stage}-" in arn["Fn::Sub"]
        )
