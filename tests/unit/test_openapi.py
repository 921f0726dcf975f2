"""The OpenAPI document: generated from the models, fresh on disk, on the site."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from batch_jobs.site import api_reference, build_site
from devenv import openapi_doc


@pytest.fixture(scope="module")
def document() -> dict:
    """The app's document, as the site stores it."""
    return json.loads(openapi_doc.render())


def test_committed_site_copy_matches_the_app(document):
    committed = json.loads(openapi_doc.SITE_COPY.read_text())
    assert committed == document, (
        "site/openapi.json is stale: run `python -m devenv.openapi_doc`"
    )


def test_document_is_openapi_3_1_with_every_ref_defined(document):
    assert document["openapi"] == "3.1.0"
    text = json.dumps(document)
    refs = {part.split('"')[0] for part in text.split('"#/components/schemas/')[1:]}
    assert refs <= set(document["components"]["schemas"])


def test_every_operation_documents_its_errors_in_the_error_shape(document):
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            for code, answer in op["responses"].items():
                if code.startswith(("4", "5")):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref.endswith("/Error"), (method, path, code)


def test_expensive_operations_document_429_with_retry_after(document):
    for path in ("/builds/{build_ref}/systems", "/builds/{build_ref}/search"):
        answer = document["paths"][path]["get"]["responses"]["429"]
        assert "Retry-After" in answer["headers"]


def test_optional_query_parameters_are_never_null(document):
    for methods in document["paths"].values():
        for op in methods.values():
            for parameter in op["parameters"]:
                assert "anyOf" not in parameter["schema"], parameter["name"]


def test_api_reference_lists_every_operation_and_parameter(document):
    reference = api_reference(document)
    listed = {(op["method"], op["path"]) for op in reference["operations"]}
    assert ("get", "/builds/{build_ref}/search") in listed
    search = next(
        op for op in reference["operations"] if op["operation_id"] == "search"
    )
    assert {p["name"] for p in search["parameters"]} >= {"q", "limit", "cursor"}
    assert any("both carry the habitable-zone flag" in n for n in reference["notes"])


def test_site_build_renders_the_api_page_and_its_document(tmp_path, document):
    node_modules = tmp_path / "node_modules"
    for name in (
        "three/build/three.core.js",
        "three/build/three.module.js",
        "three/examples/jsm/controls/OrbitControls.js",
    ):
        (node_modules / name).parent.mkdir(parents=True, exist_ok=True)
        (node_modules / name).write_text("export {};\n")
    out = tmp_path / "site"
    build_site(
        out,
        build_id="wb-test",
        api_url="https://api.example.test",
        tile=b"",
        tile_ids=[],
        node_modules=node_modules,
    )
    page = (out / "api.html").read_text()
    assert "/builds/{build_ref}/systems" in page
    assert "https://api.example.test/openapi.json" in page
    assert json.loads((out / "openapi.json").read_text()) == document


def test_the_app_imports_without_the_reply_models():
    # A cold Lambda answering a read must not pay for the models that only
    # describe replies in the document.
    probe = (
        "import sys, app; "
        "print('chalicelib.replies' in sys.modules, 'boto3' in sys.modules)"
    )
    env = {**os.environ, "LB_STAGE": "local", "AWS_XRAY_SDK_ENABLED": "false"}
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["False", "False"]
