"""Stars the SSCore files list without a HIP number: find them in Hipparcos or add them.

Some rows lack a HIP number yet are Hipparcos stars (61 Cyg A, Groombridge 34 A);
those are found by position and magnitude and merged like any other row. The
rest (Sirius B, Ross 248, Wolf 359 and some 200 more, mostly faint M dwarfs and
white dwarfs) become systems of their own, with SSCore as the source of every
field. Ids are readable and stable: `gj-905` from a Gliese-Jahreiss number,
otherwise `sscore-` and a slug of the star's first name or identifier.
"""

from __future__ import annotations

import logging
import math
import re

import numpy as np
from scipy.spatial import cKDTree

from batch_jobs import astrometry, provenance, stellar

logger = logging.getLogger(__name__)

SSCORE_SOURCE = "sscore"
MATCH_RADIUS_ARCSEC = 3.0
MATCH_MAX_DELTA_V = 1.0
_GJ = re.compile(r"^GJ\s+(\d+(?:\.\d+)?)\s*([A-Za-z]{0,2})$")
_SLUG = re.compile(r"[^a-z0-9]+")
_VELOCITY_KEYS = ("u_kms", "v_kms", "w_kms")
# The record fields of `stellar.Physics`'s teff, class and mass rules, in order.
_PHYSICS_FIELDS = ("teff_k", "evolutionary_class", "mass_msun")


def match_to_hipparcos(
    sscore: dict[str, np.ndarray],
    rows: np.ndarray,
    hip: dict[str, np.ndarray],
) -> np.ndarray:
    """Hipparcos row index (or -1) of each SSCore row in `rows`, by J2000 position.

    Hipparcos positions are moved from J1991.25 to J2000 by proper motion; a
    match needs a separation within MATCH_RADIUS_ARCSEC and, where both stars
    have one, V magnitudes within MATCH_MAX_DELTA_V (so Sirius B, 8 arcsec from
    Sirius and 10 magnitudes fainter, is not taken for it).
    """
    out = np.full(len(rows), -1, dtype=np.int64)
    if len(rows) == 0:
        return out
    ra, dec = astrometry.propagate(
        hip["ra_deg"], hip["dec_deg"], hip["pmra_mas_yr"], hip["pmdec_mas_yr"]
    )
    known = np.isfinite(ra) & np.isfinite(dec)
    tree = cKDTree(astrometry.unit_vectors(ra[known], dec[known]))
    targets = astrometry.unit_vectors(sscore["ra_deg"][rows], sscore["dec_deg"][rows])
    chord = 2 * math.sin(math.radians(MATCH_RADIUS_ARCSEC / 3600) / 2)
    distance, nearest = tree.query(targets, distance_upper_bound=chord)
    candidates = np.flatnonzero(known)
    for i, (gap, index) in enumerate(zip(distance, nearest, strict=True)):
        if not math.isfinite(gap):
            continue
        row = candidates[index]
        v_sscore, v_hip = sscore["vmag"][rows[i]], hip["vmag"][row]
        if math.isfinite(v_sscore) and math.isfinite(v_hip):
            if abs(v_sscore - v_hip) > MATCH_MAX_DELTA_V:
                continue
        out[i] = row
    return out


def system_id(ids: list[str], names: list[str], line: int) -> str:
    """`gj-905` from a GJ number, else `sscore-` and a slug of an identifier.

    Identifiers come before names: a proper name is never a key (two stars may
    share one), so a name is used only for a row with no identifier at all.
    """
    for identifier in ids:
        found = _GJ.match(identifier)
        if found:
            return f"gj-{found[1]}{found[2].lower()}"
    for label in [*ids, *names]:
        slug = _SLUG.sub("-", label.lower().replace("'", "")).strip("-")
        if slug:
            return f"sscore-{slug}"
    return f"sscore-line-{line}"


def display_name(names: list[str], ids: list[str]) -> str | None:
    """The first name, or a longer form of it naming the component (`Sirius B`)."""
    if not names:
        return ids[0] if ids else None
    display = names[0]
    for name in names[1:]:
        if name.startswith(display + " "):
            display = name
    return display


def _finite(value: float, digits: int) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def systems(table: dict[str, np.ndarray], rows: np.ndarray, role: str) -> list[dict]:
    """One system record per SSCore row in `rows`, every field from SSCore."""
    if len(rows) == 0:
        return []
    c = {
        key: values[rows]
        if isinstance(values, np.ndarray)
        else [values[r] for r in rows]
        for key, values in table.items()
    }
    dist = np.asarray(c["dist_pc"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        parallax = np.where(dist > 0, 1000.0 / dist, np.nan)
    xyz = astrometry.galactic_xyz(
        c["ra_deg"], c["dec_deg"], np.where(dist > 0, dist, np.nan)
    )
    uvw, tangential = astrometry.space_velocity(
        c["ra_deg"], c["dec_deg"], parallax, c["pmra_mas_yr"], c["pmdec_mas_yr"],
        c["rv_kms"],
    )  # fmt: skip
    bv = c["bmag"] - c["vmag"]
    physics = stellar.derive(bv, c["vmag"], dist, list(c["spectral_type"]))
    rules = zip(
        physics.teff_rule.tolist(),
        physics.class_rule.tolist(),
        physics.mass_rule.tolist(),
        strict=True,
    )
    physics_given = [
        {
            field: provenance.entry(provenance.DERIVED, rule)
            for field, rule in zip(_PHYSICS_FIELDS, row_rules, strict=True)
            if rule
        }
        for row_rules in rules
    ]
    out = []
    taken: dict[str, int] = {}
    default = provenance.entry(role, "sscore-only-star")
    tangential_only = provenance.entry(provenance.DERIVED, "tangential-velocity-only")
    for i in range(len(rows)):
        given = {
            **physics_given[i],
            "dist_pc": default,
            "bv": provenance.entry(provenance.DERIVED, "b-minus-v"),
            "system_id": provenance.entry(
                provenance.DERIVED, "id-from-gj-or-identifier"
            ),
        }
        ids, names = list(c["ids"][i]), list(c["names"][i])
        # Components listed only by their system's identifier (`G 41-14` for
        # GJ 3522 B and C) share it: the later ones get -2, -3 in file order.
        sid = system_id(ids, names, int(c["line"][i]))
        taken[sid] = taken.get(sid, 0) + 1
        if taken[sid] > 1:
            sid = f"{sid}-{taken[sid]}"
        record = {
            "system_id": sid,
            "name": display_name(names, ids) or f"{role} line {int(c['line'][i])}",
            "names": list(dict.fromkeys([*names, *ids])),
            "source": SSCORE_SOURCE,
            "ra_deg": float(c["ra_deg"][i]),
            "dec_deg": float(c["dec_deg"][i]),
            "vmag": _finite(c["vmag"][i], 2),
            "bv": _finite(bv[i], 2),
            "spectral_type": c["spectral_type"][i] or None,
            "rv_kms": _finite(c["rv_kms"][i], 2),
            "teff_k": _finite(physics.teff_k[i], 0),
            "luminosity_lsun": _finite(physics.luminosity_lsun[i], 6),
            "abs_vmag": _finite(physics.abs_vmag[i], 3),
            "evolutionary_class": physics.evolutionary_class[i],
            "mass_msun": _finite(physics.mass_msun[i], 3),
            "radius_rsun": _finite(physics.radius_rsun[i], 4),
            "hip": None,
            "hd": None,
            "planets": [],
        }
        if "repairs" in c and c["repairs"][i]:
            record["repairs"] = c["repairs"][i]
        if math.isfinite(dist[i]) and dist[i] > 0:
            record["dist_pc"] = round(float(dist[i]), 4)
            record.update(
                zip(("x_pc", "y_pc", "z_pc"), (round(float(v), 4) for v in xyz[i]))
            )
            if np.isfinite(uvw[i]).all():
                record.update(
                    zip(
                        ("u_kms", "v_kms", "w_kms"),
                        (round(float(v), 3) for v in uvw[i]),
                    )
                )
                record["velocity"] = "tangential-only" if tangential[i] else "full"
                if tangential[i]:
                    given.update(dict.fromkeys(_VELOCITY_KEYS, tangential_only))
        record["provenance"] = provenance.complete(record, given, default)
        out.append(record)
    return out
