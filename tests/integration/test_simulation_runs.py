"""Simulation runs as jobs on the sample build, in the real servers."""

from __future__ import annotations

import hashlib
import json
import re
import signal
import subprocess
import sys

import pytest

from batch_jobs import simulation
from chalicelib import simulations
from chalicelib.models import JobRecord
from chalicelib.storage import ObjectStore
from tests.conftest import REPO

pytestmark = pytest.mark.integration
# Every star settleable: the sample has one known planet in a habitable zone.
BUSY = {"settleable_rule": "every-star", "founders": ("sol",)}


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


def test_killed_run_resumes_to_the_state_of_an_uninterrupted_run(
    settings, sample_build
):
    params = {"ticks": 3000, "snapshot_every": 100, "seed": 11}
    whole = simulation.execute(settings, _submit(settings, sample_build, **params))
    killed_id = _submit(settings, sample_build, **params)
    command = [sys.executable, "-m", "batch_jobs", "sim", "run", killed_id]
    with subprocess.Popen(
        command, cwd=REPO, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    ) as process:
        for line in process.stderr:
            if "snapshot at tick 500:" in line:
                process.send_signal(signal.SIGKILL)
                break
        process.kill()  # a no-op after the SIGKILL; stops it should no line match
    died = simulations.get_run(killed_id)
    assert process.returncode == -signal.SIGKILL
    assert died.state == "running", "the run ended before it could be killed"
    assert 500 <= int(died.last_snapshot_tick) < 3000
    resumed = simulation.execute(settings, killed_id)
    assert resumed.state == "succeeded"
    assert int(resumed.attempts) == 2
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
    profile = json.loads(body)
    steps = [k for k in profile["stats"] if re.search(r"settlement.py:\d+:step$", k)]
    assert len(steps) == 1
    assert profile["stats"][steps[0]][0] == 19  # calls: ticks 2 to 20


def test_cancelled_queued_run_never_runs(settings, sample_build):
    run_id = _submit(settings, sample_build)
    assert simulation.cancel(run_id) == "cancelled"
    assert simulation.execute(settings, run_id).state == "cancelled"
    assert JobRecord.get(run_id).state == "cancelled"
    store = ObjectStore(settings)
    assert not store.list_keys(settings.builds_bucket, f"sims/{run_id}/")


def test_unknown_founder_fails_the_run_with_a_message_naming_it(settings, sample_build):
    run_id = _submit(settings, sample_build, founders=("hip-999999999",))
    with pytest.raises(ValueError, match="hip-999999999"):
        simulation.execute(settings, run_id)
    run = simulations.get_run(run_id)
    assert run.state == "failed"
    assert "hip-999999999" in run.error
    assert JobRecord.get(run_id).state == "failed"


def test_founder_outside_the_settleable_rule_is_refused(settings, sample_build):
    # Alpha Cen B has no known planet in the sample. (Proxima b, once the example
    # here, lies inside the zone since the zone follows the star's temperature.)
    run_id = _submit(
        settings, sample_build, settleable_rule="known-planet-in-hz",
        founders=("hip-71681",),
    )  # fmt: skip
    with pytest.raises(ValueError, match="not settleable"):
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
