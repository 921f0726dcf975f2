"""`chalice package` builds a small Lambda zip with no numeric stack, throttled."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra import render

REPO = Path(__file__).resolve().parents[2]
MAX_ZIP_BYTES = 30 * 1024 * 1024
HEAVY = ("numpy", "numba", "scipy", "llvmlite")


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    """The dev stage's package, with its merge template, in a fresh folder."""
    out = tmp_path_factory.mktemp("package") / "out"
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "LB_STAGE": "dev",
        # Only for importing app.py while packaging; never deployed.
        "LB_CURSOR_SECRET": "package-test-only-secret",
    }
    for key in ("LB_DYNAMODB_ENDPOINT", "LB_S3_ENDPOINT"):
        env.pop(key, None)
    chalice = shutil.which("chalice", path=str(REPO / ".venv" / "bin")) or "chalice"
    merge = render.api_template_path("dev")
    done = subprocess.run(
        [chalice, "package", "--stage", "dev", "--merge-template", str(merge), out],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_zip_holds_no_numeric_library(package):
    with zipfile.ZipFile(package / "deployment.zip") as archive:
        tops = {name.split("/")[0].split("-")[0].lower() for name in archive.namelist()}
    assert not tops & set(HEAVY)
    assert {"chalicelib", "pydantic", "pynamodb"} <= tops


def test_zip_is_at_most_30_mb(package):
    size = (package / "deployment.zip").stat().st_size
    assert size <= MAX_ZIP_BYTES, f"{size / 2**20:.1f} MB"


def test_every_route_is_throttled_by_the_stage(package):
    api = json.loads((package / "sam.json").read_text())["Resources"]["RestAPI"]
    (setting,) = api["Properties"]["MethodSettings"]
    assert setting["ResourcePath"] == "/*" and setting["HttpMethod"] == "*"
    assert setting["ThrottlingRateLimit"] == render.API_THROTTLING["dev"]["rate"]
    throttled = api["Properties"]["GatewayResponses"]["THROTTLED"]
    assert throttled["StatusCode"] == 429
    assert "Retry-After" in throttled["ResponseParameters"]["Headers"]


def test_packaged_template_passes_cfn_lint(package):
    linter = shutil.which("cfn-lint")
    if linter is None:
        pytest.fail("cfn-lint is not installed: run `make install`")
    # E2533: the project pins Python 3.11 (README); the runtime choice is not here.
    done = subprocess.run(
        [linter, "--ignore-checks", "E2533", "--", str(package / "sam.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_committed_merge_templates_match_the_renderer():
    for stage in render.API_THROTTLING:
        committed = json.loads(render.api_template_path(stage).read_text())
        assert committed == json.loads(json.dumps(render.render_api(stage))), (
            f"infra/api-{stage}.json is stale: run `python -m infra.render`"
        )
