"""One planetary system's orbits in plain Python, for the API's Lambda functions.

This file imports only the standard library (``math``): it lives in the Lambda
package, which never carries numpy or numba. It follows the same method as
``sim_kernels.orbits`` (Markley 1995 starter and fifth-order
correction, then bounded Newton steps; see that module's docstring for the
citations), and the tests check that both agree to 1e-9 AU.
"""

from __future__ import annotations

import math

TWO_PI = 2.0 * math.pi
MAX_POLISH = 4
POLISH_TOL = 1e-15


def _markley_start(m: float, e: float) -> float:
    """Return Markley's starter plus his fifth-order correction, for 0<=m<=pi."""
    pi = math.pi
    alpha = (3.0 * pi * pi + 1.6 * pi * (pi - m) / (1.0 + e)) / (pi * pi - 6.0)
    d = 3.0 * (1.0 - e) + alpha * e
    q = 2.0 * alpha * d * (1.0 - e) - m * m
    r = 3.0 * alpha * d * (d - 1.0 + e) * m + m * m * m
    w = math.cbrt(abs(r) + math.sqrt(q * q * q + r * r)) ** 2
    big_e = (2.0 * r * w / (w * w + w * q + q * q) + m) / d
    f2 = e * math.sin(big_e)
    f3 = e * math.cos(big_e)
    f0 = big_e - f2 - m
    f1 = 1.0 - f3
    d3 = -f0 / (f1 - 0.5 * f0 * f2 / f1)
    d4 = -f0 / (f1 + 0.5 * d3 * f2 + d3 * d3 * f3 / 6.0)
    d5 = -f0 / (f1 + 0.5 * d4 * f2 + d4 * d4 * f3 / 6.0 - d4 * d4 * d4 * f2 / 24.0)
    return big_e + d5


def _check_orbit(e: float, period_days: float, a_au: float) -> None:
    """Raise ValueError unless the orbit is bound and its scale is usable."""
    if not 0.0 <= e < 1.0:
        raise ValueError(f"e: eccentricity must satisfy 0 <= e < 1; got {e!r}")
    if not (math.isfinite(period_days) and period_days > 0.0):
        raise ValueError(f"period_days: must be finite and > 0; got {period_days!r}")
    if a_au < 0.0 or math.isinf(a_au):
        raise ValueError(f"a_au: must be >= 0 and finite; got {a_au!r}")


def eccentric_anomaly(mean_anomaly_rad: float, e: float) -> float:
    """Solve Kepler's equation E - e sin E = M for one orbit, to 1e-12 rad."""
    if not 0.0 <= e < 1.0:
        raise ValueError(f"e: eccentricity must satisfy 0 <= e < 1; got {e!r}")
    if math.isnan(mean_anomaly_rad) or math.isinf(mean_anomaly_rad):
        return math.nan
    m = mean_anomaly_rad % TWO_PI
    flip = m > math.pi
    if flip:
        m = TWO_PI - m
    big_e = _markley_start(m, e)
    for _ in range(MAX_POLISH):
        f = big_e - e * math.sin(big_e) - m
        if abs(f) <= POLISH_TOL:
            break
        big_e -= f / (1.0 - e * math.cos(big_e))
    return TWO_PI - big_e if flip else big_e


def position_at(
    epoch_jd: float,
    a_au: float,
    e: float,
    period_days: float,
    inc_rad: float,
    arg_peri_rad: float,
    long_node_rad: float,
    *,
    t_peri_jd: float | None = None,
    mean_anomaly_rad: float | None = None,
    anomaly_epoch_jd: float | None = None,
) -> tuple[float, float, float]:
    """Return one planet's (x, y, z) in AU in its host's frame at an epoch."""
    _check_orbit(e, period_days, a_au)
    if (t_peri_jd is None) == (mean_anomaly_rad is None):
        raise ValueError("t_peri_jd, mean_anomaly_rad: give exactly one of the two")
    if t_peri_jd is not None:
        ref_epoch, m0 = t_peri_jd, 0.0
    elif anomaly_epoch_jd is None:
        raise ValueError("anomaly_epoch_jd: required with mean_anomaly_rad")
    else:
        ref_epoch, m0 = anomaly_epoch_jd, mean_anomaly_rad
    delta = epoch_jd - ref_epoch
    if math.isnan(delta) or math.isinf(delta):
        return (math.nan, math.nan, math.nan)
    phase = (delta % period_days) / period_days
    big_e = eccentric_anomaly(m0 + TWO_PI * phase, e)
    xo = a_au * (math.cos(big_e) - e)
    yo = a_au * math.sqrt((1.0 - e) * (1.0 + e)) * math.sin(big_e)
    cw, sw = math.cos(arg_peri_rad), math.sin(arg_peri_rad)
    cn, sn = math.cos(long_node_rad), math.sin(long_node_rad)
    ci, si = math.cos(inc_rad), math.sin(inc_rad)
    return (
        (cn * cw - sn * sw * ci) * xo - (cn * sw + sn * cw * ci) * yo,
        (sn * cw + cn * sw * ci) * xo - (sn * sw - cn * cw * ci) * yo,
        sw * si * xo + cw * si * yo,
    )


def system_positions_at(
    epoch_jd: float, planets: list[dict]
) -> list[tuple[float, float, float]]:
    """Return each planet's (x, y, z) in AU for one system's planet records.

    Each record carries ``a_au``, ``e``, ``period_days``, ``inc_rad``,
    ``arg_peri_rad``, ``long_node_rad`` and either ``t_peri_jd`` or
    ``mean_anomaly_rad`` with ``anomaly_epoch_jd``.
    """
    return [
        position_at(
            epoch_jd,
            p["a_au"],
            p["e"],
            p["period_days"],
            p["inc_rad"],
            p["arg_peri_rad"],
            p["long_node_rad"],
            t_peri_jd=p.get("t_peri_jd"),
            mean_anomaly_rad=p.get("mean_anomaly_rad"),
            anomaly_epoch_jd=p.get("anomaly_epoch_jd"),
        )
        for p in planets
    ]
