"""Simulation runs as jobs on the sample build, in the real servers."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from batch_jobs import simulation
from batch_jobs.__main__ import main as batch_main
from chalicelib import jobs, runner, simulations
from chalicelib.errors import BadRequest
from chalicelib.models import JobRecord, SimRun
from chalicelib.storage import ObjectStore
from tests.conftest import REPO

pytestmark = pytest.mark.integration
# Every star settleable: the sample has one known planet in a habitable zone.
BUSY = {"settleable_rule": "every-star", "founders": ("sol",)}
# Runners in these tests heartbeat twice a second: a dead one is reaped in 2 s.
HEARTBEAT_S = "0.5"


def _final_snapshot_sha(settings, run) -> str:
    key = simulations.snapshot_key(run.run_id, int(run.ticks))
    body = ObjectStore(settings).get(settings.builds_bucket, key)
    return hashlib.sha256(body).hexdigest()


def _playback_without_run_id(settings, run_id: str) -> dict:
    body = ObjectStore(settings).get(
        settings.builds_bucket, simulations.playback_key(run_id)
    )
    doc = json.loads(body)
    assert doc.pop("run_id") == run_id
    return doc


def _submit(settings, sample_build, backend="numba", **params) -> str:
    merged = {"ticks": 300, "snapshot_every": 50, "seed": 7, **BUSY, **params}
    return simulation.submit(
        settings, sample_build.build_id, simulation.RunParams(**merged), backend
    )


def _run_until(run_id: str, line_part: str, then) -> tuple[int, dict]:
    """Run `sim run RUN_ID` in a process of its own; at the first log line holding
    `line_part`, call `then(process)`; return its exit code and that line."""
    command = [sys.executable, "-m", "batch_jobs", "sim", "run", run_id]
    env = {**os.environ, "LB_JOB_HEARTBEAT_S": HEARTBEAT_S}
    seen = None
    with subprocess.Popen(
        command, cwd=REPO, env=env, stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL, text=True,
    ) as process:  # fmt: skip
        for line in process.stderr:
            if line_part in line:
                seen = json.loads(line)
                then(process)
                break
        process.stderr.read()  # to the end: the process exits
    assert seen is not None, f"no log line said {line_part!r}"
    return process.returncode, seen


def test_run_goes_from_queued_to_succeeded_with_snapshots_and_ticks(
    settings, sample_build
):
    run_id = _submit(settings, sample_build)
    assert simulations.get_run(run_id).state == "queued"
    assert JobRecord.get(run_id).state == "queued"
    run = simulation.execute(settings, run_id)
    assert run.state == "succeeded"
    assert JobRecord.get(run_id).state == "succeeded"
    assert int(run.last_tick) == 300
    keys = ObjectStore(settings).list_keys(settings.builds_bucket, f"sims/{run_id}/")
    assert keys == [simulations.snapshot_key(run_id, t) for t in range(50, 301, 50)]
    health = json.loads(run.health_json)
    assert health["ticks_checked"] == 299
    assert health["invariant_failures"] == 0
    last = simulations.get_tick(run_id, 300)
    assert last["invariants_ok"]
    assert 1 <= last["counts"]["settled"] <= last["counts"]["settleable"]


def test_killed_run_is_reaped_in_seconds_and_its_retry_resumes_to_the_same_end(
    settings, sample_build, launcher
):
    params = {"ticks": 3000, "snapshot_every": 100, "seed": 11}
    whole = simulation.execute(settings, _submit(settings, sample_build, **params))
    killed_id = _submit(settings, sample_build, **params)
    code, line = _run_until(
        killed_id, "snapshot at tick 500:", lambda p: p.send_signal(signal.SIGKILL)
    )
    killed_at = time.monotonic()
    assert code == -signal.SIGKILL
    assert line["job_id"] == killed_id  # the runner's log lines name the job
    died = simulations.get_run(killed_id)
    assert died.state == "running", "the run ended before it could be killed"
    assert 500 <= int(died.last_snapshot_tick) < 3000
    # Progress is ticks done over ticks, reported while the run went.
    assert 0.13 <= float(jobs.get_job(killed_id).progress) < 1  # tick 400 or on
    while jobs.get_job(killed_id).state == "running":
        assert time.monotonic() - killed_at < 15, "the sweep never failed the run"
        runner.sweep(launcher)
        time.sleep(0.2)
    reaped = jobs.get_job(killed_id)
    assert (reaped.state, reaped.retryable) == ("failed", True)
    assert "heartbeat stopped" in reaped.error
    assert simulations.get_run(killed_id).state == "failed"  # the run says so too
    jobs.retry(killed_id)
    assert batch_main(["sim", "run", killed_id]) == 0  # what a relaunch runs
    resumed = simulations.get_run(killed_id)
    assert resumed.state == "succeeded"
    assert int(resumed.attempts) == 2
    assert (jobs.get_job(killed_id).state, jobs.get_job(killed_id).attempts) == (
        "succeeded",
        2,
    )
    assert _final_snapshot_sha(settings, resumed) == _final_snapshot_sha(
        settings, whole
    )
    for tick in (int(died.last_snapshot_tick) + 1, 1777, 3000):
        ours = simulations.get_tick(killed_id, tick)
        theirs = simulations.get_tick(whole.run_id, tick)
        assert ours["counts"] == theirs["counts"]
    # The playback of the resumed run is the uninterrupted run's.
    assert _playback_without_run_id(settings, killed_id) == (
        _playback_without_run_id(settings, whole.run_id)
    )


def test_cancelling_a_running_run_stops_its_runner_and_a_retry_resumes_it(
    settings, sample_build
):
    run_id = _submit(settings, sample_build, ticks=2000, snapshot_every=100)
    stopped = []
    code, _ = _run_until(
        run_id,
        "snapshot at tick 200:",
        lambda p: stopped.append(simulation.cancel(run_id, "enough, thanks")),
    )
    assert stopped == ["cancelling"]
    assert code == 0
    run, job = simulations.get_run(run_id), jobs.get_job(run_id)
    assert (run.state, job.state) == ("cancelled", "cancelled")
    assert run.error == job.error == "enough, thanks"
    assert 200 <= int(run.last_snapshot_tick) < 2000
    jobs.retry(run_id)
    resumed = simulation.execute(settings, run_id)
    assert (resumed.state, int(resumed.attempts)) == ("succeeded", 2)
    assert int(resumed.last_tick) == 2000


def test_a_running_run_is_not_run_twice(settings, sample_build):
    run_id = _submit(settings, sample_build, ticks=2, snapshot_every=1)
    jobs.claim(run_id, heartbeat_s=30)  # another runner has it
    try:
        with pytest.raises(jobs.JobStateConflict, match="already running"):
            simulation.execute(settings, run_id)
    finally:
        jobs.cancel(run_id, "test ended")


def test_a_run_whose_invariants_break_records_the_failure_and_ends_failed(
    settings, sample_build
):
    run_id = _submit(settings, sample_build, ticks=20, snapshot_every=10)
    assert simulation.execute(settings, run_id).state == "succeeded"
    store, bucket = ObjectStore(settings), settings.builds_bucket
    key = simulations.snapshot_key(run_id, 10)
    with np.load(io.BytesIO(store.get(bucket, key))) as npz:
        arrays = {name: npz[name].copy() for name in npz.files}
    # A corrupted snapshot: the first system settled at a tick still to come.
    arrays["settled_since"][0] = 10**6
    corrupt_id = _submit(settings, sample_build, ticks=20, snapshot_every=10)
    state = simulation.settlement.SettlementState(
        tick=10,
        positions_pc=np.zeros((len(arrays["age_yr"]), 3)),
        settled_since=arrays["settled_since"],
        age_yr=arrays["age_yr"],
        probe_arrival=arrays["probe_arrival"],
    )
    store.put_once(
        bucket,
        simulations.snapshot_key(corrupt_id, 10),
        simulation.snapshot_bytes(state),
    )
    SimRun.get(corrupt_id).update(actions=[SimRun.last_snapshot_tick.set(10)])
    with pytest.raises(simulation.InvariantBroken, match="tick 11"):
        simulation.execute(settings, corrupt_id)
    run, job = simulations.get_run(corrupt_id), jobs.get_job(corrupt_id)
    assert run.state == job.state == "failed"
    assert job.retryable is False and job.retry_at is None
    assert "not happened" in run.error
    health = json.loads(run.health_json)
    assert health["invariant_failures"] == 1
    assert health["first_failure"].startswith("tick 11:")
    tick = simulations.get_tick(corrupt_id, 11)
    assert not tick["invariants_ok"]
    assert any("not happened" in failure for failure in tick["failures"])


def test_shadow_run_records_no_difference_between_the_kernels(settings, sample_build):
    run = simulation.execute(
        settings, _submit(settings, sample_build, backend="shadow", ticks=120)
    )
    assert run.state == "succeeded"
    shadow = json.loads(run.shadow_json)
    assert set(shadow) == {
        "positions_pc", "settled_since", "age_yr", "probe_arrival",
        "report_fields_differing",
    }  # fmt: skip
    assert all(value == 0 for value in shadow.values())
    assert simulations.get_tick(run.run_id, 2)["shadow"]["positions_pc"] == 0


def test_profiled_run_stores_a_profile_naming_the_settlement_step(
    settings, sample_build
):
    run = simulation.execute(
        settings,
        _submit(settings, sample_build, ticks=20, snapshot_every=10, profile=True),
    )
    body = ObjectStore(settings).get(settings.builds_bucket, run.profile_key)
    # The job record names it, as every job's profile.
    assert jobs.get_job(run.run_id).profile_uri == (
        f"s3://{settings.builds_bucket}/{run.profile_key}"
    )
    profile = json.loads(body)
    steps = [k for k in profile["stats"] if re.search(r"settlement.py:\d+:step$", k)]
    assert len(steps) == 1
    assert profile["stats"][steps[0]][0] == 19  # calls: ticks 2 to 20


def test_every_run_is_profiled_under_lb_profile_jobs(
    settings, sample_build, monkeypatch
):
    monkeypatch.setenv("LB_PROFILE_JOBS", "1")
    run = simulation.execute(
        settings, _submit(settings, sample_build, ticks=3, snapshot_every=3)
    )
    uri = jobs.get_job(run.run_id).profile_uri
    assert uri == f"s3://{settings.builds_bucket}/{run.profile_key}"
    assert run.profile_key == f"jobs/{run.run_id}/profile-attempt-1.json"


def test_cancelled_queued_run_never_runs(settings, sample_build):
    run_id = _submit(settings, sample_build)
    assert simulation.cancel(run_id) == "cancelled"
    assert simulation.execute(settings, run_id).state == "cancelled"
    assert JobRecord.get(run_id).state == "cancelled"
    store = ObjectStore(settings)
    assert not store.list_keys(settings.builds_bucket, f"sims/{run_id}/")


def test_unknown_founder_fails_the_run_with_a_message_naming_it(settings, sample_build):
    run_id = _submit(settings, sample_build, founders=("hip-999999999",))
    with pytest.raises(BadRequest, match="hip-999999999"):
        simulation.execute(settings, run_id)
    run = simulations.get_run(run_id)
    assert run.state == "failed"
    assert "hip-999999999" in run.error
    job = JobRecord.get(run_id)
    assert job.state == "failed"
    # Bad input: never retried by itself.
    assert job.retryable is False and job.retry_at is None


def test_founder_outside_the_settleable_rule_is_refused(settings, sample_build):
    # Alpha Cen B has no known planet in the sample. (Proxima b, once the example
    # here, lies inside the zone since the zone follows the star's temperature.)
    run_id = _submit(
        settings, sample_build, settleable_rule="known-planet-in-hz",
        founders=("hip-71681",),
    )  # fmt: skip
    with pytest.raises(BadRequest, match="not settleable"):
        simulation.execute(settings, run_id)


@pytest.mark.parametrize(
    ("params", "problem"),
    [({"ticks": 1}, "ticks"), ({"snapshot_every": 0}, "snapshot_every"),
     ({"ruleset": "nope"}, "nope"), ({"founders": ()}, "founders")],
)  # fmt: skip
def test_bad_parameters_are_refused_before_anything_is_queued(params, problem):
    with pytest.raises(ValueError, match=problem):
        simulation.RunParams(**params).check()


def test_backend_setting_refuses_an_unknown_kernel_name():
    assert simulation.backend_setting({}) == "numba"
    assert simulation.backend_setting({"LB_SIM_BACKEND": "shadow"}) == "shadow"
    with pytest.raises(ValueError, match="LB_SIM_BACKEND"):
        simulation.backend_setting({"LB_SIM_BACKEND": "fortran"})


def test_inferred_planets_reach_the_simulation_world_and_count_under_v2(
    settings, published_build
):
    # The whole sky: the sample's few stars have no inferred planet in a zone.
    from batch_jobs import simworld
    from chalicelib import habitable

    systems = simworld.load_systems(settings, published_build.build_id)
    inferred = [p for s in systems for p in s["planets"] if p.get("inferred")]
    assert inferred, "the systems artifact carries no inferred planets"
    known = simworld.build_world(systems, "known-planet-in-hz")
    either = simworld.build_world(systems, "planet-in-hz")
    assert known.system_ids == either.system_ids
    assert (either.settleable >= known.settleable).all()
    placed = {s["system_id"]: s for s in systems if s.get("x_pc") is not None}
    only_inferred = [
        sid
        for sid, system in placed.items()
        if habitable.planets_in_zone(system)
        and not habitable.planets_in_zone(habitable.without_inferred(system))
    ]
    assert only_inferred, "no system has an inferred planet alone in its zone"
    for sid in only_inferred:
        row = either.index_of(sid)
        assert either.settleable[row] and not known.settleable[row]


def test_a_run_takes_the_default_ruleset_and_its_settleable_rule(
    settings, sample_build
):
    params = simulation.RunParams(ticks=2, snapshot_every=1)
    run_id = simulation.submit(settings, sample_build.build_id, params, "numba")
    run = simulations.get_run(run_id)
    assert run.ruleset_version == "settlement-v2"
    assert json.loads(run.params_json)["settleable_rule"] == "planet-in-hz"


@pytest.mark.parametrize(
    "argv",
    [
        ["sim", "show", "sim-nope"],
        ["sim", "cancel", "sim-nope"],
        ["sim", "run", "sim-nope"],
        ["encounters", "--build", "wb-nope"],
    ],
    ids=" ".join,
)
def test_an_unknown_run_or_build_exits_4_naming_it(settings, argv, capsys):
    from batch_jobs.__main__ import main

    assert main(argv) == 4
    assert "nope" in capsys.readouterr().err


def test_cancelling_a_runs_job_marks_its_run_record_cancelled(
    settings, sample_build, launcher
):
    run_id = _submit(settings, sample_build)
    runner.cancel(run_id, launcher)  # what `jobctl cancel` and POST .../cancel do
    run = simulations.get_run(run_id)
    assert (run.state, run.error) == ("cancelled", "cancelled by an operator")
