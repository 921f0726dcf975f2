"""The plain-Python single-system orbits (for the Lambda API) against the kernel."""

from __future__ import annotations

import ast
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from chalicelib import orbits as orbits_scalar
from sim_kernels import orbits

SCALAR_FILE = Path(orbits_scalar.__file__)


def test_scalar_module_imports_nothing_but_math():
    tree = ast.parse(SCALAR_FILE.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module)
    assert imported == {"math", "__future__"}


def test_scalar_module_runs_where_numpy_cannot_be_imported(tmp_path):
    copy = tmp_path / "orbits_scalar.py"
    copy.write_text(SCALAR_FILE.read_text())
    script = (
        "import sys; sys.modules['numpy'] = None; sys.modules['numba'] = None; "
        f"sys.path.insert(0, {str(tmp_path)!r}); import orbits_scalar as o; "
        "print(o.position_at(2451545.0, 1.0, 0.1, 365.25, 0.1, 0.2, 0.3, "
        "t_peri_jd=2451500.0))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("(")


def test_scalar_positions_match_the_kernel_to_1e9_au():
    rng = np.random.default_rng(11)
    n = 3000
    e = rng.beta(0.867, 3.03, n)
    e[:6] = [0.0, 0.3, 0.9, 0.99, 0.9999, 0.999999]
    el = {
        "epoch_jd": rng.uniform(2_400_000.0, 2_500_000.0, n),
        "a_au": rng.uniform(0.01, 50.0, n),
        "e": e,
        "period_days": rng.uniform(0.5, 60_000.0, n),
        "inc_rad": rng.uniform(0.0, np.pi, n),
        "arg_peri_rad": rng.uniform(0.0, 2.0 * np.pi, n),
        "long_node_rad": rng.uniform(0.0, 2.0 * np.pi, n),
        "t_peri_jd": rng.uniform(2_440_000.0, 2_460_000.0, n),
    }
    kernel = orbits.positions_at(**el)
    for i in range(n):
        one = {k: float(v[i]) for k, v in el.items()}
        x, y, z = orbits_scalar.position_at(**one)
        assert abs(x - kernel.x_au[i]) <= 1e-9
        assert abs(y - kernel.y_au[i]) <= 1e-9
        assert abs(z - kernel.z_au[i]) <= 1e-9


def test_scalar_mean_anomaly_form_matches_the_kernel():
    el = {
        "a_au": 5.2,
        "e": 0.048,
        "period_days": 4332.6,
        "inc_rad": 0.0228,
        "arg_peri_rad": 4.78,
        "long_node_rad": 1.75,
    }
    epochs = np.linspace(2_440_000.0, 2_470_000.0, 40)
    phase = {"mean_anomaly_rad": 0.35, "anomaly_epoch_jd": 2_451_545.0}
    kernel = orbits.positions_at(epochs, **el, **phase)
    for i, epoch in enumerate(epochs):
        got = orbits_scalar.position_at(float(epoch), **el, **phase)
        want = (kernel.x_au[i], kernel.y_au[i], kernel.z_au[i])
        assert got == pytest.approx(want, abs=1e-9)


def test_scalar_kepler_residual_is_at_most_1e12_on_a_grid():
    worst = 0.0
    for e in [0.0, 0.1, 0.5, 0.9, 0.99, 0.9999, 0.999999]:
        for k in range(400):
            m = 2.0 * math.pi * k / 400
            for mm in (m, m + 1e-12, max(m - 1e-12, 0.0)):
                big_e = orbits_scalar.eccentric_anomaly(mm, e)
                worst = max(worst, abs(big_e - e * math.sin(big_e) - mm))
    assert worst <= 1e-12


def test_scalar_system_positions_read_planet_records():
    planets = [
        {
            "a_au": 1.0,
            "e": 0.0167,
            "period_days": 365.256,
            "inc_rad": 0.0,
            "arg_peri_rad": 1.8,
            "long_node_rad": 0.0,
            "t_peri_jd": 2_451_547.0,
        },
        {
            "a_au": 1.52,
            "e": 0.093,
            "period_days": 686.98,
            "inc_rad": 0.032,
            "arg_peri_rad": 5.0,
            "long_node_rad": 0.86,
            "mean_anomaly_rad": 0.34,
            "anomaly_epoch_jd": 2_451_545.0,
        },
    ]
    positions = orbits_scalar.system_positions_at(2_460_000.0, planets)
    assert len(positions) == 2
    for (x, y, z), planet in zip(positions, planets, strict=True):
        r = math.sqrt(x * x + y * y + z * z)
        assert (
            planet["a_au"] * (1 - planet["e"])
            <= r
            <= planet["a_au"] * (1 + planet["e"])
        )


def test_scalar_nan_epoch_gives_nan_position():
    got = orbits_scalar.position_at(
        math.nan, 1.0, 0.1, 365.0, 0.0, 0.0, 0.0, t_peri_jd=2_451_545.0
    )
    assert all(math.isnan(c) for c in got)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"e": 1.0}, "e"),
        ({"e": math.nan}, "e"),
        ({"e": -0.01}, "e"),
        ({"period_days": 0.0}, "period_days"),
        ({"period_days": math.inf}, "period_days"),
        ({"a_au": -2.0}, "a_au"),
    ],
)
def test_scalar_refuses_invalid_elements(kwargs, named):
    el = {
        "epoch_jd": 2_451_545.0,
        "a_au": 1.0,
        "e": 0.1,
        "period_days": 365.0,
        "inc_rad": 0.0,
        "arg_peri_rad": 0.0,
        "long_node_rad": 0.0,
        "t_peri_jd": 2_451_500.0,
    }
    el.update(kwargs)
    with pytest.raises(ValueError, match=rf"^{named}:"):
        orbits_scalar.position_at(**el)


def test_scalar_refuses_both_or_neither_phase_form():
    args = (2_451_545.0, 1.0, 0.1, 365.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="exactly one"):
        orbits_scalar.position_at(*args)
    with pytest.raises(ValueError, match="anomaly_epoch_jd"):
        orbits_scalar.position_at(*args, mean_anomaly_rad=0.1)
