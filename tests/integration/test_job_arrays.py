"""Array jobs for real: workers join one attempt, the last to end finishes it.

The local launcher starts one subprocess per index with AWS_BATCH_JOB_ARRAY_INDEX
set, as AWS Batch does; a simulation sweep then runs one real simulation per
parameter set on the sample build.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time

import pytest

from batch_jobs.__main__ import array_index, sweep_params
from batch_jobs.worker import JobRun
from chalicelib import jobs, runner, simulations
from chalicelib.errors import BadRequest
from chalicelib.launchers import LocalLauncher
from chalicelib.storage import ObjectStore

pytestmark = pytest.mark.integration

# Stands in for the entrypoint: writes its array index to a file named after it.
NOTE_INDEX = """
import os, pathlib, sys
out = pathlib.Path(sys.argv[1])
index = os.environ["AWS_BATCH_JOB_ARRAY_INDEX"]
out.joinpath(index).write_text(os.environ["LB_JOB_ID"])
"""


@pytest.fixture
def sweep_job(settings):
    """A factory of queued sweep jobs; any left unfinished is cancelled."""
    made = []

    def make(size: int, **shared) -> str:
        sweep = [{"seed": seed} for seed in range(1, size + 1)]
        job = jobs.submit("simulation", {**shared, "sweep": sweep}).job
        made.append(job.job_id)
        return job.job_id

    yield make
    for job_id in made:
        with contextlib.suppress(jobs.JobStateConflict):
            jobs.cancel(job_id, "test ended")


def _wait_until_ended(launcher: LocalLauncher, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while launcher.running():
        if time.monotonic() > deadline:
            pytest.fail(f"workers still running after {timeout_s} s")
        time.sleep(0.2)


def test_the_local_launcher_starts_one_worker_per_index(sweep_job, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    launcher = LocalLauncher(
        tmp_path / "logs", program=[sys.executable, "-c", NOTE_INDEX, str(notes)]
    )
    job_id = sweep_job(3)
    runner.launch(jobs.get_job(job_id), launcher)
    _wait_until_ended(launcher, 30)
    assert sorted(p.name for p in notes.iterdir()) == ["0", "1", "2"]
    assert {p.read_text() for p in notes.iterdir()} == {job_id}
    assert len(jobs.get_job(job_id).runner_id.split(",")) == 3


def test_workers_share_one_attempt_and_the_last_one_finishes_it(sweep_job):
    job_id = sweep_job(2)
    first = JobRun.claim_shard(job_id, 0, 2, heartbeat_s=5)
    second = JobRun.claim_shard(job_id, 1, 2, heartbeat_s=5)
    with first:
        first.succeed({"run_id": "a"})
    assert jobs.get_job(job_id).state == "running"
    with second:
        second.succeed({"run_id": "b"})
    done = jobs.get_job(job_id)
    assert done.state == "succeeded"
    assert jobs.job_view(done)["result"]["workers"] == 2
    assert set(done.shards_done) == {0, 1}


def test_an_array_jobs_progress_is_the_mean_of_its_workers(sweep_job):
    job_id = sweep_job(2)
    first = JobRun.claim_shard(job_id, 0, 2, heartbeat_s=5)
    second = JobRun.claim_shard(job_id, 1, 2, heartbeat_s=5)
    first.report(0.5, "tick 5 of 10")
    second.report(1.0, "tick 10 of 10")
    assert float(jobs.get_job(job_id).progress) == pytest.approx(0.75)
    first.report(0.8, "tick 8 of 10")
    job = jobs.get_job(job_id)
    assert float(job.progress) == pytest.approx(0.9)
    assert job.step == "worker 0: tick 8 of 10"


def test_one_failed_worker_fails_the_array_job_once_all_have_ended(sweep_job):
    job_id = sweep_job(2)
    with pytest.raises(RuntimeError), JobRun.claim_shard(job_id, 0, 2, heartbeat_s=5):
        raise RuntimeError("out of memory")
    assert jobs.get_job(job_id).state == "running"
    with JobRun.claim_shard(job_id, 1, 2, heartbeat_s=5) as run:
        run.succeed({})
    failed = jobs.get_job(job_id)
    assert failed.state == "failed"
    assert "1 of 2 workers failed" in failed.error and "out of memory" in failed.error
    retried = jobs.retry(job_id)
    assert retried.shards_done is None and retried.shards_failed is None


def test_a_worker_index_runs_once_per_attempt(sweep_job):
    job_id = sweep_job(2)
    with JobRun.claim_shard(job_id, 0, 2, heartbeat_s=5) as run:
        run.succeed({})
    with pytest.raises(jobs.JobStateConflict, match="worker 0"):
        JobRun.claim_shard(job_id, 0, 2, heartbeat_s=5)


def test_a_worker_takes_its_parameters_from_its_array_index():
    params = {"ticks": 5, "sweep": [{"seed": 1}, {"seed": 2, "ticks": 9}]}
    assert sweep_params(params, 1) == {"ticks": 9, "seed": 2}
    assert array_index({"AWS_BATCH_JOB_ARRAY_INDEX": "1"}) == 1
    with pytest.raises(BadRequest, match="AWS_BATCH_JOB_ARRAY_INDEX"):
        array_index({})
    with pytest.raises(BadRequest, match="outside the sweep's 2"):
        sweep_params(params, 2)


def test_a_simulation_sweep_runs_one_real_run_per_parameter_set(
    sweep_job, sample_build, settings, tmp_path
):
    launcher = LocalLauncher(tmp_path)
    job_id = sweep_job(
        2,
        build=sample_build.build_id,
        ticks=3,
        snapshot_every=3,
        backend="numpy",
        profile=True,
    )
    runner.launch(jobs.get_job(job_id), launcher)
    _wait_until_ended(launcher, 300)
    job = jobs.get_job(job_id)
    logs = "\n".join(p.read_text() for p in tmp_path.iterdir())
    assert job.state == "succeeded", logs
    notes = jobs.job_view(job)["result"]["notes"]
    run_ids = [note.split('"run_id": "')[1].split('"')[0] for note in notes]
    seeds = sorted(int(simulations.get_run(r).seed) for r in run_ids)
    assert seeds == [1, 2]
    assert {simulations.get_run(r).state for r in run_ids} == {"succeeded"}
    # Each worker reported its run's progress to the sweep's record.
    assert logs.count(f"{job_id}: 100% snapshot at tick 3") == 2
    # A profiled sweep stores a profile per worker (its run takes none of its own).
    store = ObjectStore(settings)
    assert store.list_keys(settings.builds_bucket, f"jobs/{job_id}/") == [
        f"jobs/{job_id}/profile-attempt-1-shard-{index}.json" for index in (0, 1)
    ]
    assert {simulations.get_run(r).profile_key for r in run_ids} == {None}


def test_jobctl_sim_queues_a_run_and_launches_its_entrypoint_command(
    launcher, sample_build
):
    from click.testing import CliRunner

    from batch_jobs.__main__ import main as batch_main
    from chalicelib.launchers import entrypoint_args
    from jobctl.__main__ import cli

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        done = CliRunner().invoke(
            cli,
            ["sim", "--build", sample_build.build_id, "--ticks", "3",
             "--backend", "numpy", "--seed", "5"],
        )  # fmt: skip
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert done.exit_code == 0, done.output
    run_id = done.output.strip()
    assert launcher.launched == [run_id]
    job = jobs.get_job(run_id)
    assert (job.job_type, job.state, job.launcher) == (
        "simulation",
        "queued",
        "recording",
    )
    command = entrypoint_args(job)
    assert command == ["sim", "run", run_id]
    assert batch_main(command) == 0  # what the launcher's runner would run
    assert jobs.get_job(run_id).state == "succeeded"
    assert int(simulations.get_run(run_id).seed) == 5


def test_jobctl_sim_and_sim_sweep_take_profile(launcher, sample_build, root_logging):
    from click.testing import CliRunner

    from jobctl.__main__ import cli

    build = ["--build", sample_build.build_id, "--ticks", "3"]
    one = CliRunner().invoke(cli, ["sim", *build, "--profile"])
    many = CliRunner().invoke(cli, ["sim-sweep", *build, "--seeds", "1,2", "--profile"])
    assert one.exit_code == 0 and many.exit_code == 0, one.output + many.output
    run_id, sweep_id = one.output.strip(), many.output.strip()
    assert jobs.params(jobs.get_job(run_id))["profile"] is True
    assert jobs.params(jobs.get_job(sweep_id))["profile"] is True
    assert launcher.launched == [run_id, sweep_id]
