"""A new inference model version starts one rebuild: by sweep, event, schedule, CLI.

The active build is swapped for a stand-in made with an older model for each
test, and the real pointer is put back afterwards.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from chalice.test import Client
from click.testing import CliRunner
from pynamodb.exceptions import DoesNotExist

from chalicelib import builds, jobs, triggers
from chalicelib.models import ActivePointer, BuildRecord, JobKey
from jobctl.__main__ import cli

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("root_logging")]


@pytest.fixture
def active_model(settings):
    """Make a stand-in build with a given model version the active one."""
    saved = builds.get_pointer()
    made = []

    def activate(model_version: str) -> str:
        now = datetime.now(UTC)
        build_id = f"wb-model-test-{model_version}"
        BuildRecord(
            build_id,
            state="published",
            created_at=now,
            updated_at=now,
            pipeline_version="pipeline-test",
            model_version=model_version,
            settings_json="{}",
            sources_json="[]",
        ).save()
        ActivePointer(
            active_build_id=build_id, revision=10**6 + len(made), switched_at=now
        ).save()
        made.append(build_id)
        return build_id

    yield activate
    if saved is not None:
        saved.save()
    else:
        ActivePointer(active_build_id="").delete()
    for build_id in made:
        BuildRecord(build_id).delete()


def test_the_inference_model_version_the_lambda_knows_is_the_batch_images():
    from batch_jobs import inference

    assert triggers.INFERENCE_MODEL_VERSION == inference.MODEL_VERSION


def test_an_active_build_with_the_current_model_starts_nothing(launcher, active_model):
    active_model("occurrence-v7")
    assert triggers.on_model_release(launcher, "occurrence-v7") is None
    assert launcher.launched == []


def test_a_new_model_version_starts_one_rebuild_however_often_triggered(
    launcher, active_model
):
    active_model("occurrence-v7")
    first = triggers.on_model_release(launcher, "occurrence-v8")
    again = triggers.on_model_release(launcher, "occurrence-v8")
    assert first.created and not again.created
    assert again.job.job_id == first.job.job_id
    assert launcher.launched == [first.job.job_id]
    job = jobs.get_job(first.job.job_id)
    assert (job.job_type, job.trigger) == ("build", "model")
    assert job.idempotency_key == "model:occurrence-v8"
    assert jobs.params(job)["model_version"] == "occurrence-v8"


def test_the_monthly_schedule_and_the_cli_start_the_same_model_rebuild(
    launcher, active_model, settings
):
    from app import app

    active_model("occurrence-v0")  # older than the image's model
    with Client(app, stage_name="local") as client:
        event = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        event["time"] = "2032-05-01T03:00:00Z"
        scheduled = client.lambda_.invoke("monthly_refresh", event).payload
    done = CliRunner().invoke(cli, ["rebuild-for-model"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == (
        f"{scheduled['job_id']} (already started with this key)"
    )
    job = jobs.get_job(scheduled["job_id"])
    assert job.idempotency_key == f"model:{triggers.INFERENCE_MODEL_VERSION}"
    assert launcher.launched == [scheduled["job_id"]]


def test_the_cli_says_when_the_active_build_is_current(launcher, active_model):
    active_model(triggers.INFERENCE_MODEL_VERSION)
    done = CliRunner().invoke(cli, ["rebuild-for-model"])
    assert done.exit_code == 0
    assert "already uses model" in done.output
    assert json.dumps(launcher.launched) == "[]"


def test_a_build_job_for_another_model_fails_without_building(launcher, settings):
    from batch_jobs.__main__ import main as batch_main

    job = jobs.submit("build", {"model_version": "occurrence-v99"}).job
    assert batch_main(["build", "--job-id", job.job_id]) == 2
    failed = jobs.get_job(job.job_id)
    assert failed.state == "failed"
    assert "occurrence-v99" in failed.error and "deploy the batch image" in failed.error


def test_the_sweep_and_a_model_release_event_start_one_prompt_rebuild(
    launcher, active_model
):
    from app import app

    active_model("occurrence-v0")  # older than the image's model
    # Forget an earlier test's rebuild for this version, so the sweep starts one.
    key = jobs.KEY_PREFIX + triggers.model_release_key(triggers.INFERENCE_MODEL_VERSION)
    with contextlib.suppress(DoesNotExist):
        JobKey.get(key).delete()
    with Client(app, stage_name="local") as client:
        tick = client.events.generate_cw_event(
            source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
        )
        swept = [client.lambda_.invoke("sweep_jobs", tick).payload for _ in range(2)]
        released = client.events.generate_cw_event(
            source=triggers.MODEL_EVENT_SOURCE,
            detail_type=triggers.MODEL_RELEASED,
            detail={"model_version": triggers.INFERENCE_MODEL_VERSION},
            resources=[],
        )
        reply = client.lambda_.invoke("model_released", released).payload
    job_id = swept[0]["model_rebuild"]
    assert job_id is not None and swept[1]["model_rebuild"] == job_id
    assert reply == {"job_id": job_id, "created": False}
    emitted = CliRunner().invoke(cli, ["emit", "model-release"])
    assert emitted.exit_code == 0, emitted.output
    assert json.loads(emitted.output) == {"job_id": job_id, "created": False}
    assert launcher.launched == [job_id]
    assert jobs.get_job(job_id).trigger == "model"


def test_a_model_release_event_without_a_version_name_is_refused():
    with pytest.raises(triggers.BadEvent, match="model_version"):
        triggers.released_model({"model_version": ""})
    assert triggers.released_model({}) == triggers.INFERENCE_MODEL_VERSION
