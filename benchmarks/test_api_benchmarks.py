"""API benchmarks: cold import of app.py, and p50/p99 of the main reads.

Run with ``make bench`` (``pytest benchmarks -q -s``). Reads go in-process
through the Chalice test client to the local dynalite, on a synthetic build of
3,000 systems; each figure is printed beside a named peer (the same work without
the HTTP layer, or the bare framework import) and the ratio of the two.
"""

from __future__ import annotations

import math
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import local_services, settings  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parents[1]
SYSTEMS = 3_000
BUILD_ID = "wb-bench-api"
IMPORT_RUNS = 7
REQUESTS = 200
TARGET_IMPORT_MS = 300.0
TARGET_GET_P99_MS = 25.0


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]
    return statistics.median(ordered) * 1000, p99 * 1000


def _timed(call: Callable[[int], object], runs: int) -> list[float]:
    call(0)  # warm-up: connections, caches of the published build record
    out = []
    for i in range(runs):
        started = time.perf_counter()
        call(i)
        out.append(time.perf_counter() - started)
    return out


def _report(name: str, api: list[float], peer_name: str, peer: list[float]) -> None:
    p50, p99 = _percentiles(api)
    q50, q99 = _percentiles(peer)
    print(
        f"\n{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms | peer {peer_name}: "
        f"p50 {q50:.1f} ms, p99 {q99:.1f} ms | ratio p50 {p50 / q50:.2f}x"
    )


def _import_ms(statement: str, **extra_env: str) -> float:
    probe = (
        "import time; t = time.perf_counter(); "
        f"{statement}; print((time.perf_counter() - t) * 1000)"
    )
    env = {
        **os.environ,
        "LB_STAGE": "local",
        "AWS_XRAY_SDK_ENABLED": "false",
        **extra_env,
    }
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout.strip().splitlines()[-1])


PEER = "import chalice, pynamodb.models, botocore.session"
IMPORTS = {
    "app.py": ("import app", {}),
    # In Lambda the app configures JSON logging (Powertools) as it is imported.
    "app.py as in Lambda": ("import app", {"AWS_LAMBDA_FUNCTION_NAME": "bench"}),
    "peer bare chalice+pynamodb+botocore": (PEER, {}),
    "peer with pydantic": (f"{PEER}, pydantic.main", {}),
}


def test_cold_import_of_the_api():
    # Interleaved, so that a change in the machine's load hits every subject.
    samples: dict[str, list[float]] = {name: [] for name in IMPORTS}
    for _ in range(IMPORT_RUNS):
        for name, (statement, env) in IMPORTS.items():
            samples[name].append(_import_ms(statement, **env))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    app_median = medians["app.py"]
    floor_median = medians["peer bare chalice+pynamodb+botocore"]
    print(
        f"\ncold import of app.py: median {app_median:.0f} ms, best "
        f"{min(samples['app.py']):.0f} ms (target <= {TARGET_IMPORT_MS:.0f} ms: "
        f"{'met' if app_median <= TARGET_IMPORT_MS else 'NOT met'}) | peer bare "
        f"chalice+pynamodb+botocore: median {floor_median:.0f} ms | ratio "
        f"{app_median / floor_median:.2f}x"
    )
    lambda_median = medians["app.py as in Lambda"]
    pydantic_median = medians["peer with pydantic"]
    print(
        f"cold import as in Lambda (JSON logging set up): median "
        f"{lambda_median:.0f} ms | peer with pydantic: median "
        f"{pydantic_median:.0f} ms | ratio {lambda_median / pydantic_median:.2f}x"
    )
    assert app_median > 0


def _system(n: int, rng: random.Random) -> dict:
    x, y, z = (rng.uniform(-40.0, 40.0) for _ in range(3))
    return {
        "system_id": f"bench-{n:05d}",
        "name": f"Bench {n}",
        "names": [f"Bench {n}", f"HD {900000 + n}"],
        "source": "synthetic",
        "x_pc": x,
        "y_pc": y,
        "z_pc": z,
        "dist_pc": math.dist((0, 0, 0), (x, y, z)),
        "planets": [],
    }


@pytest.fixture(scope="module")
def bench_world(settings):  # noqa: F811  (the imported fixture)
    """3,000 synthetic systems in a published build."""
    from batch_jobs import publish
    from chalicelib import builds

    rng = random.Random(11)
    systems = [_system(n, rng) for n in range(SYSTEMS)]
    record = builds.create_build(
        BUILD_ID,
        pipeline_version="bench",
        model_version="bench",
        settings={},
        sources=[],
    )
    if record.state != "published":
        publish.write_systems(BUILD_ID, systems)
        for state in ("running", "validated", "published"):
            builds.transition(record, state)
    return systems


@pytest.fixture(scope="module")
def client(bench_world):
    """The Chalice test client over the app."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client


def test_get_system_latency(client, bench_world):
    from chalicelib.models import SystemItem

    ids = [s["system_id"] for s in bench_world]
    base = f"/builds/{BUILD_ID}/systems/"

    def api(i: int) -> None:
        assert client.http.get(base + ids[i % len(ids)]).status_code == 200

    def peer(i: int) -> None:
        SystemItem.get(BUILD_ID, ids[i % len(ids)])

    api_times, peer_times = _timed(api, REQUESTS), _timed(peer, REQUESTS)
    _report("get-system", api_times, "PynamoDB GetItem alone", peer_times)
    p99 = _percentiles(api_times)[1]
    print(
        f"get-system p99 target <= {TARGET_GET_P99_MS:.0f} ms: "
        f"{'met' if p99 <= TARGET_GET_P99_MS else 'NOT met'}"
    )


def test_near_latency_for_up_to_1000_systems(client, bench_world):
    from chalicelib import queries, reads

    radius = 34.0
    inside = sum(
        1
        for s in bench_world
        if math.dist((0, 0, 0), (s["x_pc"], s["y_pc"], s["z_pc"])) <= radius
    )
    path = f"/builds/{BUILD_ID}/systems?near=0,0,0&radius={radius}&limit=1000"

    def api(_: int) -> None:
        reads.ANSWERS.clear()  # measure the computed answer, not the cached one
        response = client.http.get(path)
        assert response.status_code == 200

    def peer(_: int) -> None:
        queries.near(BUILD_ID, (0.0, 0.0, 0.0), radius, 1000)

    runs = REQUESTS // 4
    api_times, peer_times = _timed(api, runs), _timed(peer, runs)
    _report(
        f"near ({inside} systems in one page)",
        api_times,
        "queries.near without HTTP, cache or rate limit",
        peer_times,
    )
    cached = _timed(lambda _: client.http.get(path), runs)
    print(
        f"near, cached answer (immutable build): p50 {_percentiles(cached)[0]:.1f} ms"
    )


def test_search_latency(client, bench_world):
    from chalicelib import queries, reads

    def api(i: int) -> None:
        reads.ANSWERS.clear()
        response = client.http.get(f"/builds/{BUILD_ID}/search?q=bench%20{i % 90 + 10}")
        assert response.status_code == 200

    def peer(i: int) -> None:
        queries.search(BUILD_ID, f"bench {i % 90 + 10}", 20)

    api_times, peer_times = _timed(api, REQUESTS), _timed(peer, REQUESTS)
    _report("search (20 hits a page)", api_times, "queries.search alone", peer_times)
