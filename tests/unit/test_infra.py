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
        "ratelimits",
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
