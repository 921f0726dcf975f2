"""The jobs CLI against the test servers: what it prints and the codes it exits with."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

from chalicelib import jobs, runner
from jobctl.__main__ import cli
from tests.conftest import REPO

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("root_logging")]


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def _finished(launcher, error: str | None = None) -> str:
    job = runner.start("build", {"activate": False}, launcher).job
    job = jobs.claim(job.job_id, heartbeat_s=5)
    jobs.finish_job(job, result=None if error else {}, error=error)
    return job.job_id


def test_start_prints_the_job_id_and_a_repeated_key_says_so(launcher):
    first = _run("start", "build", "--no-activate", "--key", "cli-once")
    again = _run("start", "build", "--key", "cli-once")
    job_id = first.output.strip()
    assert first.exit_code == 0 and again.exit_code == 0
    assert again.output.strip() == f"{job_id} (already started with this key)"
    assert jobs.params(jobs.get_job(job_id)) == {"activate": False, "incoming": True}
    assert launcher.launched == [job_id]


def test_list_and_show_print_the_job(launcher):
    job_id = _finished(launcher)
    listed = _run("list", "--type", "build", "--limit", "100")
    assert listed.exit_code == 0
    assert any(line.startswith(job_id) for line in listed.output.splitlines())
    shown = json.loads(_run("show", job_id).output)
    assert (shown["job_id"], shown["state"]) == (job_id, "succeeded")


def test_watch_exits_0_when_every_job_succeeded_and_1_when_one_failed(launcher):
    good, bad = _finished(launcher), _finished(launcher, error="RuntimeError: x")
    assert _run("watch", good, "--interval", "0.1").exit_code == 0
    failed = _run("watch", good, bad, "--interval", "0.1")
    assert failed.exit_code == 1
    assert f"{bad} failed: RuntimeError: x" in failed.output


def test_retry_queues_a_failed_job_and_refuses_a_succeeded_one(launcher):
    bad, good = _finished(launcher, error="RuntimeError: x"), _finished(launcher)
    retried = _run("retry", bad)
    assert retried.exit_code == 0
    assert retried.output.strip() == f"{bad} attempt 2 queued"
    refused = _run("retry", good)
    assert refused.exit_code == 3
    assert "only failed or cancelled jobs can be retried" in refused.output


def test_cancel_stops_a_queued_job(launcher):
    job_id = runner.start("build", {}, launcher).job.job_id
    result = _run("cancel", job_id)
    assert (result.exit_code, result.output.strip()) == (0, f"{job_id} cancelled")
    assert launcher.cancelled == [job_id]


def test_an_unknown_job_exits_4():
    result = _run("show", "build-unknown")
    assert result.exit_code == 4
    assert result.output.startswith("error: job 'build-unknown' does not exist")


def test_emitting_an_object_that_is_not_there_exits_4(settings):
    result = _run("emit", "source", "incoming/exoplanets/missing.csv")
    assert result.exit_code == 4


def test_emitting_a_refresh_starts_that_months_build_once(launcher):
    first = json.loads(_run("emit", "refresh", "--time", "2032-03-01T03:00:00Z").output)
    again = json.loads(_run("emit", "refresh", "--time", "2032-03-01T03:10:00Z").output)
    assert first["created"] and not again["created"]
    assert again["job_id"] == first["job_id"] and launcher.launched == [first["job_id"]]


def test_sweep_and_kpis_print_json(launcher):
    assert set(json.loads(_run("sweep").output)) == {"reaped", "retried"}
    assert "by_type" in json.loads(_run("kpis", "--days", "1").output)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_database_that_does_not_answer_exits_5_with_one_line():
    env = {**os.environ, "LB_DYNAMODB_PORT": str(_closed_port())}
    done = subprocess.run(
        [sys.executable, "-m", "jobctl", "show", "build-0123456789ab"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("error: a service did not answer: ")
    assert "Could not connect to the endpoint URL" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1  # no traceback


def test_a_storage_error_exits_5_with_one_line(settings):
    result = _run("emit", "source", "incoming/x/y.csv", "--bucket", "no-such-bucket-x")
    assert result.exit_code == 5, result.output
    assert result.output.startswith("error: a service did not answer: ")
    assert "NoSuchBucket" in result.output


def test_the_source_watcher_stops_at_once_on_sigterm_even_mid_sweep(settings):
    import signal
    import time

    # No pause between polls: a signal almost surely lands inside a delivered
    # event, whose handler turns exceptions into error replies.
    watcher = subprocess.Popen(
        [sys.executable, "-m", "jobctl", "watch-sources", "--interval", "0"],
        cwd=REPO,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(4)
        assert watcher.poll() is None, "the watcher ended before the signal"
        watcher.send_signal(signal.SIGTERM)
        out, _ = watcher.communicate(timeout=10)
    finally:
        if watcher.poll() is None:
            watcher.kill()
    assert watcher.returncode == 0
    assert out.decode().strip().endswith("stopped")
