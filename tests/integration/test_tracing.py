"""X-Ray in the cloud configuration: database and storage calls become subsegments.

The API's calls are traced in every cloud stage; a batch job's where
AWS_XRAY_DAEMON_ADDRESS names a daemon.

The SDK is real and so are the calls (dynalite and SeaweedFS); in place of the
X-Ray daemon a UDP socket on 127.0.0.1 receives the segment documents the SDK
sends, exactly as the daemon beside a Lambda function would. The SDK patches
botocore for the whole process, so the traced calls run in a child process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from chalicelib.settings import REPO_ROOT

pytestmark = pytest.mark.integration

TRACED_CALLS = """
import dataclasses, uuid
from aws_xray_sdk.core import xray_recorder
from chalicelib import models, tracing
from chalicelib.models import BuildRecord
from chalicelib.settings import get_settings
from chalicelib.storage import ObjectStore

local = get_settings()
models.bind(local)
tracing.configure(dataclasses.replace(local, stage="dev"))
xray_recorder.begin_segment("trace-test")
store = ObjectStore(local)
key = f"trace-test/{uuid.uuid4().hex}.txt"
store.put_once(local.builds_bucket, key, b"probe")
store.get(local.builds_bucket, key)
list(BuildRecord.scan(limit=1))
xray_recorder.end_segment()
"""


def _received(sock: socket.socket) -> list[dict]:
    documents = []
    sock.settimeout(2.0)
    while True:
        try:
            packet = sock.recv(65535).decode()
        except TimeoutError:
            return documents
        # Each packet is a header line, then one segment document.
        header, _, body = packet.partition("\n")
        assert json.loads(header)["format"] == "json"
        documents.append(json.loads(body))


def _subsegments(document: dict) -> list[dict]:
    found = []
    for child in document.get("subsegments", []):
        found.append(child)
        found.extend(_subsegments(child))
    return found


def _run_beside_a_daemon(script: str, sdk_enabled: str | None) -> list[dict]:
    """Run `script` in a child process; return what reached the daemon's socket."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        port = daemon.getsockname()[1]
        env = {**os.environ, "AWS_XRAY_DAEMON_ADDRESS": f"127.0.0.1:{port}"}
        env.pop("AWS_XRAY_SDK_ENABLED", None)
        if sdk_enabled is not None:
            env["AWS_XRAY_SDK_ENABLED"] = sdk_enabled
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return _received(daemon)


def test_database_and_storage_calls_are_traced_as_subsegments(settings):
    documents = _run_beside_a_daemon(TRACED_CALLS, "true")
    segments = [d for d in documents if d.get("name") == "trace-test"]
    assert len(segments) == 1
    calls = {
        (sub["name"], sub.get("aws", {}).get("operation"))
        for sub in _subsegments(segments[0])
    }
    assert ("s3", "PutObject") in calls
    assert ("s3", "GetObject") in calls
    assert ("dynamodb", "Scan") in calls
    table = f"{settings.table_prefix}-builds"
    tables = {
        sub["aws"].get("table_name")
        for sub in _subsegments(segments[0])
        if sub["name"] == "dynamodb"
    }
    assert table in tables


def test_the_local_stage_sends_no_trace(settings):
    script = (
        TRACED_CALLS.replace('dataclasses.replace(local, stage="dev")', "local")
        .replace('xray_recorder.begin_segment("trace-test")', "")
        .replace("xray_recorder.end_segment()", "")
    )
    assert _run_beside_a_daemon(script, None) == []


def _all_subsegments(documents: list[dict], trace_id: str) -> list[dict]:
    """The segment's subsegments, nested or streamed as documents of their own."""
    found = []
    for document in documents:
        if document.get("trace_id") == trace_id:
            if document.get("type") == "subsegment":
                found.append(document)
            found.extend(_subsegments(document))
    return found


def test_a_batch_job_beside_a_daemon_traces_its_database_and_storage_calls(
    settings, sample_build
):
    from batch_jobs import simulation

    params = simulation.RunParams(ticks=2, snapshot_every=1)
    run_id = simulation.submit(settings, sample_build.build_id, params, "numpy")
    script = f"from batch_jobs.__main__ import main; main(['sim', 'run', {run_id!r}])"
    documents = _run_beside_a_daemon(script, "true")
    segments = [d for d in documents if d.get("name") == "local-bubble-sim"]
    assert len(segments) == 1
    assert segments[0]["annotations"] == {"job_id": run_id}
    calls = {
        (sub["name"], sub.get("aws", {}).get("operation"))
        for sub in _all_subsegments(documents, segments[0]["trace_id"])
    }
    assert {("s3", "GetObject"), ("s3", "PutObject")} <= calls
    assert {("dynamodb", "GetItem"), ("dynamodb", "UpdateItem")} <= calls
    assert simulation.simulations.get_run(run_id).state == "succeeded"


def test_a_batch_job_sends_nothing_without_a_daemon_address_or_with_the_sdk_off():
    from chalicelib import tracing

    assert not tracing.batch_tracing_wanted({})
    assert not tracing.batch_tracing_wanted(
        {"AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000", "AWS_XRAY_SDK_ENABLED": "false"}
    )
    with tracing.batch_segment("local-bubble-test", environ={}) as tracing_on:
        assert tracing_on is False
