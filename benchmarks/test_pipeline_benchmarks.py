"""Pipeline benchmarks: the full build's compute, the coordinate step vs astropy,
and publishing items to the local DynamoDB.

Run with ``make bench``. Figures are printed, not asserted: speed targets live
here, not in tests that flake. The machine may be shared, so each figure comes
with its peer measured in the same run (the ratio is what carries over) and the
full build prints its CPU time beside its wall time (their gap is the load).
"""

from __future__ import annotations

import cProfile
import io
import multiprocessing
import os
import pstats
import random
import resource
import time
from pathlib import Path

import numpy as np

from batch_jobs import astrometry, catalog, sources
from sim_kernels import galactic
from tests.conftest import local_services, settings  # noqa: F401  (fixtures)

SOURCES_DIR = Path(
    os.environ.get("SOURCES_DIR", Path(__file__).parents[1].parent / "shared" / "data")
)
TARGET_BUILD_S = 10.0
TARGET_PEAK_MB = 1536.0
TARGET_RATIO = 10.0
RUNS = 7


def _build_in_child(queue, profile: bool) -> None:
    from batch_jobs import pipeline
    from batch_jobs.world import assemble_world

    paths = sources.locate(SOURCES_DIR)
    files = sources.describe(paths)
    profiler = cProfile.Profile() if profile else None
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    with pipeline.cyclic_gc_paused():  # as pipeline.run_build computes
        world = assemble_world(paths)
        assembled = time.perf_counter()
        pipeline.add_inferred_planets(world)
        inferred = time.perf_counter()
        build_id = pipeline.world_build_id(files, pipeline.build_settings())
        artifacts = pipeline._artifacts(world, files, build_id)
        done = time.perf_counter()
    if profiler:
        profiler.disable()
    stream = io.StringIO()
    if profiler:
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(12)
    queue.put(
        {
            "wall_s": done - wall,
            "cpu_s": time.process_time() - cpu,
            "assemble_s": assembled - wall,
            "infer_s": inferred - assembled,
            "artifacts_s": done - inferred,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "systems": len(world.systems),
            "planets": sum(len(s["planets"]) for s in world.systems),
            "bytes": {name: len(body) for name, body in artifacts.items()},
            "profile": stream.getvalue(),
        }
    )


def _build(profile: bool = False) -> dict:
    # A fresh process, so the peak memory is the build's own and the figure
    # includes imports and the Numba cache load, as a batch job pays them.
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_build_in_child, args=(queue, profile))
    child.start()
    result = queue.get(timeout=900)
    child.join()
    return result


def test_full_build_compute_time_and_peak_memory():
    _build()  # warm the page cache and the Numba cache
    best = min((_build() for _ in range(2)), key=lambda r: r["wall_s"])
    sizes = ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in best["bytes"].items())
    print(
        f"\nfull build compute (sources -> world, inferred planets, artifacts; no "
        f"database): {best['wall_s']:.1f} s wall (target <= {TARGET_BUILD_S:.0f} s), "
        f"{best['cpu_s']:.1f} s CPU, load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores\n  assemble {best['assemble_s']:.1f} s, "
        f"inference {best['infer_s']:.1f} s, artifacts {best['artifacts_s']:.1f} s; "
        f"peak RSS {best['peak_mb']:.0f} MB (target <= {TARGET_PEAK_MB:.0f} MB); "
        f"{best['systems']:,} systems, {best['planets']:,} planets\n  {sizes}"
    )
    if os.environ.get("LB_BENCH_PROFILE"):
        print(_build(profile=True)["profile"])


def _hipparcos() -> dict:
    raw = catalog.read_hipparcos_main(SOURCES_DIR / sources.DEFAULT_SOURCES["hip_main"])
    keep = (raw["parallax_mas"] > 0) & np.isfinite(raw["pmra_mas_yr"])
    names = ("ra_deg", "dec_deg", "parallax_mas", "pmra_mas_yr", "pmdec_mas_yr")
    hip = {k: np.ascontiguousarray(raw[k][keep]) for k in names}
    # Hipparcos has no radial velocities: a fixed 20 km/s exercises the full path.
    hip["rv"] = np.full(keep.sum(), 20.0)
    return hip


def _kernel(hip: dict, parallel: bool = True) -> tuple[np.ndarray, np.ndarray]:
    return galactic.to_galactic(
        hip["ra_deg"], hip["dec_deg"], hip["parallax_mas"], hip["pmra_mas_yr"],
        hip["pmdec_mas_yr"], hip["rv"], astrometry.GALACTIC_FROM_ICRS,
        parallel=parallel,
    )  # fmt: skip


def _numpy(hip: dict) -> tuple[np.ndarray, np.ndarray]:
    _, xyz = astrometry.icrs_to_galactic(
        hip["ra_deg"], hip["dec_deg"], hip["parallax_mas"]
    )
    uvw, _ = astrometry.space_velocity(
        hip["ra_deg"], hip["dec_deg"], hip["parallax_mas"],
        hip["pmra_mas_yr"], hip["pmdec_mas_yr"], hip["rv"],
    )  # fmt: skip
    return xyz, uvw


def _astropy(hip: dict) -> tuple[np.ndarray, np.ndarray]:
    # As astropy's docs recommend: one SkyCoord over whole arrays, one transform.
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    sky = SkyCoord(
        ra=hip["ra_deg"] * u.deg, dec=hip["dec_deg"] * u.deg,
        distance=(1000.0 / hip["parallax_mas"]) * u.pc,
        pm_ra_cosdec=hip["pmra_mas_yr"] * u.mas / u.yr,
        pm_dec=hip["pmdec_mas_yr"] * u.mas / u.yr,
        radial_velocity=hip["rv"] * u.km / u.s, frame="icrs",
    ).galactic  # fmt: skip
    cart = sky.cartesian
    vel = cart.differentials["s"]
    xyz = np.stack([cart.x, cart.y, cart.z], -1).to_value(u.pc)
    uvw = np.stack([vel.d_x, vel.d_y, vel.d_z], -1).to_value(u.km / u.s)
    return xyz, uvw


def _astropy_matrix() -> np.ndarray:
    """astropy's ICRS-to-Galactic rotation, read off by transforming the axes."""
    from astropy.coordinates import ICRS, CartesianRepresentation, Galactic

    axes = ICRS(CartesianRepresentation(np.eye(3)))
    gal = axes.transform_to(Galactic()).cartesian
    return np.stack([gal.x.value, gal.y.value, gal.z.value])


def test_coordinate_and_velocity_step_against_astropy():
    hip = _hipparcos()
    steps = {
        "kernel": _kernel,
        "kernel serial": lambda h: _kernel(h, parallel=False),
        "numpy": _numpy,
        "astropy": _astropy,
    }
    for step in steps.values():
        step(hip)  # warm: Numba cache load, astropy's transform graph
    best = dict.fromkeys(steps, np.inf)
    results = {}
    for _ in range(RUNS):  # interleaved, so a burst of load hits every side
        for name, step in steps.items():
            started = time.perf_counter()
            results[name] = step(hip)
            best[name] = min(best[name], time.perf_counter() - started)
    (xyz, uvw), (xyz_a, uvw_a) = results["kernel"], results["astropy"]
    rel_xyz = np.max(
        np.linalg.norm(xyz - xyz_a, axis=1) / np.linalg.norm(xyz_a, axis=1)
    )
    rel_uvw = np.max(
        np.linalg.norm(uvw - uvw_a, axis=1) / np.linalg.norm(uvw_a, axis=1)
    )
    ours = min(best["kernel"], best["kernel serial"])
    ratio = best["astropy"] / ours
    matrix_gap = np.max(np.abs(_astropy_matrix() - astrometry.GALACTIC_FROM_ICRS))
    ms = {name: seconds * 1e3 for name, seconds in best.items()}
    print(
        f"\ncoordinates + velocities for {len(xyz):,} Hipparcos stars (best of "
        f"{RUNS}): Numba kernel {ms['kernel']:.2f} ms parallel, "
        f"{ms['kernel serial']:.2f} ms serial; NumPy reference {ms['numpy']:.1f} ms; "
        f"peer astropy SkyCoord {ms['astropy']:.1f} ms\n"
        f"astropy/kernel {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}); astropy/kernel serial "
        f"{best['astropy'] / best['kernel serial']:.1f}x (one core each)\n"
        f"largest relative difference: positions {rel_xyz:.2e}, velocities "
        f"{rel_uvw:.2e} (target <= 1e-6)\n"
        "Rotation matrices: ours is the Hipparcos A_G, defined on ICRS by the pole "
        "(192.85948, +27.12825) deg and l_Omega = 32.93192 deg (ESA 1997, Vol. 1, "
        "Eq. 1.5.11); astropy goes ICRS -> FK5 J2000 (frame bias) -> Galactic with "
        "the FK5 pole (192.8594812065348, +27.12825118085622) deg and l(NCP) = "
        f"122.9319185680026 deg; largest element difference {matrix_gap:.1e}."
    )


PUBLISH_SYSTEMS = 2_000


def _bench_system(n: int, rng: random.Random) -> dict:
    x, y, z = (rng.uniform(-50.0, 50.0) for _ in range(3))
    return {
        "system_id": f"bench-{n:05d}",
        "name": f"Publish Bench {n}",
        "names": [f"Publish Bench {n}", f"PB {n}"],
        "source": "synthetic",
        "x_pc": x,
        "y_pc": y,
        "z_pc": z,
        "dist_pc": float(np.sqrt(x * x + y * y + z * z)),
        "planets": [],
    }


def test_publishing_items_per_second(settings):  # noqa: F811  (imported fixture)
    from batch_jobs import publish
    from chalicelib.models import SystemItem

    rng = random.Random(7)
    systems = [_bench_system(n, rng) for n in range(PUBLISH_SYSTEMS)]
    ours = [publish.system_item("wb-bench-publish", s) for s in systems]
    peer = [publish.system_item("wb-bench-publish-peer", s) for s in systems]
    started = time.perf_counter()
    stats = publish.write_models(ours)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    with SystemItem.batch_write() as batch:  # PynamoDB's own batch, one thread
        for item in peer:
            batch.save(item)
    peer_s = time.perf_counter() - started
    stored = SystemItem.count("wb-bench-publish")
    print(
        f"\npublishing {len(ours):,} system items to the local DynamoDB: "
        f"{stats.items / ours_s:,.0f} items/s with {publish.WRITERS} writers "
        f"({stats.calls} BatchWriteItem calls, {stats.retried_items} items retried); "
        f"peer PynamoDB batch_write (one thread, no backoff) "
        f"{len(peer) / peer_s:,.0f} items/s; ratio {peer_s / ours_s:.2f}x; "
        f"{stored:,} items counted in the table"
    )
    assert stored == len(ours)  # a benchmark that lost items would be no figure
