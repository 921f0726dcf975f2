"""200 names drawn from the catalogues, in every written form, resolve to their star.

The names come from the source files themselves (d3-celestial, both SSCore
files, the exoplanet table), not from the build, so the build's names index is
tested against what the catalogues say: each is written in every form the
designation rules allow (Greek letters as characters, spelled and abbreviated,
constellations abbreviated or as genitives, catalogue prefixes glued, spaced, in
any case, with leading zeros, `GJ`/`Gl`/`Gliese`) and searched through the API.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from urllib.parse import quote

import pytest

from batch_jobs import catalog, compare
from batch_jobs.sources import DEFAULT_SOURCES
from chalicelib import designations
from chalicelib.storage import ObjectStore
from tests.conftest import SOURCES_DIR

pytestmark = [pytest.mark.integration, pytest.mark.realdata]

SEED = 20_261_203
DRAWS_PER_KIND = 25
KINDS = ("proper", "bayer", "flamsteed", "hip", "hd", "hr", "gj", "host")
# Kinds whose number names one star, or the components of one system at one
# distance (Sirius A and B are both HD 48915): no other star answers them.
UNIQUE_KINDS = ("hip", "hd", "hr")
_CATALOGUE = re.compile(r"(HIP|HD|HR)\s*(\d+)")
# Gliese-Jahreiss numbers, also as the `Wo` and `NN` stars of d3-celestial.
_GJ = re.compile(r"(?:GJ|Gl|Gliese|Wo|NN)\s*(\d+(?:\.\d+)?)\s*([A-Za-z]{0,2})")
_FLAMSTEED = re.compile(r"(\d+) ([A-Za-z]{3})")
_BY_SPELLED = {row[0]: row for row in designations.GREEK_LETTERS}


def _path(role: str):
    return SOURCES_DIR / DEFAULT_SOURCES[role]


def _placed_hips() -> set[int]:
    hip = catalog.read_hipparcos_main(_path("hip_main"))
    placed = (hip["ra_deg"] == hip["ra_deg"]) & (hip["dec_deg"] == hip["dec_deg"])
    return set(hip["hip"][placed].tolist())


def _sky_names() -> dict[str, list[tuple[str, str]]]:
    """(name as the catalogue writes it, system id) per kind, from the sources."""
    placed = _placed_hips()
    pool: dict[str, set[tuple[str, str]]] = {kind: set() for kind in KINDS}

    def add(kind: str, text: str, hip: int) -> None:
        if text and hip in placed:
            pool[kind].add((text, f"hip-{hip}"))

    for hip, entry in catalog.read_d3_names(_path("d3_names")).items():
        add("proper", entry["name"], hip)
        if entry["bayer"] and entry["c"]:
            add("bayer", f"{entry['bayer']} {entry['c']}", hip)
        if entry["flam"] and entry["c"]:
            add("flamsteed", f"{entry['flam']} {entry['c']}", hip)
        add("gj", entry["gl"], hip)
        add("hd", entry["hd"], hip)
        add("hip", f"HIP {hip}", hip)
    for role in ("sscore_nearest", "sscore_brightest"):
        table = catalog.read_sscore(_path(role))
        for hip, ids, names in zip(
            table["hip"].tolist(), table["ids"], table["names"], strict=True
        ):
            for name in names:
                add("proper", name, hip)
            for identifier in ids:
                kind = _kind_of(identifier)
                if kind:
                    add(kind, identifier, hip)
    return {kind: sorted(found) for kind, found in pool.items()}


def _kind_of(identifier: str) -> str | None:
    """The kind of an SSCore identifier, None for the kinds not drawn (TYC, ...)."""
    found = _CATALOGUE.fullmatch(identifier)
    if found:
        return found[1].lower()
    if _GJ.fullmatch(identifier):
        return "gj"
    if _FLAMSTEED.fullmatch(identifier):
        return "flamsteed"
    parts = identifier.split()
    letter = parts[0].rstrip("0123456789").lower() if len(parts) == 2 else ""
    return "bayer" if letter in designations.GREEK_FORMS else None


def _hosts(systems: list[dict]) -> list[tuple[str, str]]:
    """(host name, system id) of every exoplanet host, from its planets' system."""
    system_of = {
        planet["name"]: system["system_id"]
        for system in systems
        for planet in system["planets"]
        if planet.get("known")
    }
    table = catalog.read_exoplanets(_path("exoplanets"))
    pairs = zip(table["hostname"], table["pl_name"], strict=True)
    # Planets the validation rules keep out (no orbit at all) have no system.
    return sorted(
        {(host, system_of[planet]) for host, planet in pairs if planet in system_of}
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def written_forms(kind: str, text: str) -> list[str]:
    """Every way the designation rules let a visitor write `text`."""
    forms = {text, text.lower(), text.upper()}
    if kind in ("hip", "hd", "hr"):
        prefix, number = _CATALOGUE.fullmatch(text).groups()
        forms |= {f"{prefix}{number}", f"{prefix.lower()} {number}"}
        forms |= {f"{prefix} 0{number}", f"{prefix}-{number}"}
    elif kind == "gj":
        number, component = _GJ.fullmatch(text).groups()
        for prefix in ("GJ", "Gl", "Gliese", "gj", "GLIESE"):
            forms |= {f"{prefix} {number}{component}", f"{prefix}{number}{component}"}
            if component:
                forms.add(f"{prefix} {number} {component}")
    elif kind == "bayer":
        forms |= _bayer_forms(text)
    elif kind == "flamsteed":
        number, abbreviation = text.split()
        constellation = designations.find_constellation(abbreviation)
        forms |= {f"{number} {constellation.genitive}", f"{number} {abbreviation}"}
    elif kind in ("proper", "host"):
        forms |= {_fold(text), text.replace("'", ""), text.replace("-", " ")}
    return sorted(forms)


def _bayer_forms(text: str) -> set[str]:
    letter, abbreviation = text.split()
    base, digit = re.fullmatch(r"(\D+?)(\d*)", letter).groups()
    constellation = designations.find_constellation(abbreviation)
    spelled = designations.GREEK_FORMS.get(_fold(base.lower()))
    if spelled is None:  # a Latin letter (`b Cen`): case matters, keep it
        letters = {base}
    else:
        _, char, short, _ = _BY_SPELLED[spelled]
        letters = {char, spelled, spelled.capitalize(), short.rstrip(".")}
    digits = {digit, f" {digit}"} if digit else {""}
    if digit and spelled:
        digits.add(f"0{digit}")
    forms = set()
    for shown in letters:
        for written in digits:
            for where in (constellation.abbreviation, constellation.genitive):
                forms.add(f"{shown}{written} {where}")
    return forms


@pytest.fixture(scope="module")
def drawn(published_build, settings) -> list[tuple[str, str, str]]:
    """(kind, name, system id): 25 names of each kind, drawn with a fixed seed."""
    store = ObjectStore(settings)
    raw = store.get(
        settings.builds_bucket, f"builds/{published_build.build_id}/systems.jsonl.gz"
    )
    pool = _sky_names()
    pool["host"] = _hosts(compare.parse_systems(raw))
    rng = random.Random(SEED)
    return [
        (kind, name, system_id)
        for kind in KINDS
        for name, system_id in rng.sample(pool[kind], DRAWS_PER_KIND)
    ]


def _hits(api, build_id: str, text: str) -> list[dict]:
    path = f"/builds/{build_id}/search?q={quote(text)}&limit=50"
    response = api.http.get(path)
    assert response.status_code == 200, (text, response.body)
    return json.loads(response.body)["items"]


@pytest.fixture(scope="module")
def dist_of(published_build, settings) -> dict[str, float | None]:
    """Each system's distance (pc) in the published build, None where unknown."""
    raw = ObjectStore(settings).get(
        settings.builds_bucket, f"builds/{published_build.build_id}/systems.jsonl.gz"
    )
    return {s["system_id"]: s.get("dist_pc") for s in compare.parse_systems(raw)}


def _search(api, build_id: str, text: str) -> list[str]:
    return [hit["system_id"] for hit in _hits(api, build_id, text)]


def _exact(hits: list[dict], text: str) -> list[str]:
    """The systems a name written as `text` names outright, not by a prefix."""
    key = designations.normalise(text)
    return [
        hit["system_id"]
        for hit in hits
        if key in designations.index_keys(hit["matched_name"])
    ]


def _same_distance(a: float | None, b: float | None) -> bool:
    return a is None or b is None or abs(a - b) <= 0.2 * max(a, b)


def test_200_catalogue_names_in_every_form_resolve_to_their_star(
    api, published_build, drawn, dist_of
):
    assert len(drawn) == 200
    failures, searched = [], 0
    for kind, name, system_id in drawn:
        for form in written_forms(kind, name):
            searched += 1
            exact = _exact(_hits(api, published_build.build_id, form), form)
            # A proper name may be shared; a catalogue number names one system.
            right = system_id in exact
            if kind in UNIQUE_KINDS:
                right = right and all(
                    _same_distance(dist_of[other], dist_of[system_id])
                    for other in exact
                )
            if not right:
                failures.append((kind, name, form, system_id, exact[:5]))
    assert searched > 1000
    assert not failures, "\n".join(map(str, failures))


def test_a_shared_proper_name_lists_every_star_that_bears_it(api, published_build):
    # "Proxima" (d3-celestial) and "Proxima Cen" (SSCore) both name HIP 70890; the
    # proper name "Alpha Centauri" belongs to no single star: A and B both answer.
    found = _search(api, published_build.build_id, "alpha Cen")
    assert {"hip-71683", "hip-71681"} <= set(found)


def test_every_form_of_a_known_designation_is_written():
    forms = written_forms("bayer", "α1 Cen")
    assert {"α1 Cen", "alpha1 Cen", "Alpha 1 Centauri", "alf01 Cen"} <= set(forms)
    assert "Gliese 559 A" in written_forms("gj", "GJ 559A")
    assert {"HIP70890", "hip 70890", "HIP 070890"} <= set(
        written_forms("hip", "HIP 70890")
    )
