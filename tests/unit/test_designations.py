"""Tests of chalicelib.designations and chalicelib.constellations."""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path

import pytest

from chalicelib import designations
from chalicelib.constellations import BY_ABBREVIATION, CONSTELLATIONS
from chalicelib.designations import (
    GREEK_LETTERS,
    NotTextError,
    bayer,
    flamsteed,
    index_keys,
    normalise,
    parse_catalogue_id,
)

SOURCES_DIR = Path(
    os.environ.get("SOURCES_DIR", Path(__file__).parents[2].parent / "shared" / "data")
)
D3_NAMES = SOURCES_DIR / "stars" / "d3celestial_starnames.json"

# Written independently of the module: spelled name, character, SIMBAD abbreviation.
GREEK = [
    ("alpha", "α", "alf"),
    ("beta", "β", "bet"),
    ("gamma", "γ", "gam"),
    ("delta", "δ", "del"),
    ("epsilon", "ε", "eps"),
    ("zeta", "ζ", "zet"),
    ("eta", "η", "eta"),
    ("theta", "θ", "tet"),
    ("iota", "ι", "iot"),
    ("kappa", "κ", "kap"),
    ("lambda", "λ", "lam"),
    ("mu", "μ", "mu."),
    ("nu", "ν", "nu."),
    ("xi", "ξ", "ksi"),
    ("omicron", "ο", "omi"),
    ("pi", "π", "pi."),
    ("rho", "ρ", "rho"),
    ("sigma", "σ", "sig"),
    ("tau", "τ", "tau"),
    ("upsilon", "υ", "ups"),
    ("phi", "φ", "phi"),
    ("chi", "χ", "chi"),
    ("psi", "ψ", "psi"),
    ("omega", "ω", "ome"),
]
GREEK_VARIANTS = [
    ("theta", "the"),
    ("xi", "xi"),
    ("nu", "nu"),
    ("mu", "mu"),
    ("pi", "pi"),
]
IAU_ABBREVIATIONS = (
    "And Ant Aps Aql Aqr Ara Ari Aur Boo CMa CMi CVn Cae Cam Cap Car Cas Cen Cep Cet "
    "Cha Cir Cnc Col Com CrA CrB Crt Cru Crv Cyg Del Dor Dra Equ Eri For Gem Gru Her "
    "Hor Hya Hyi Ind LMi Lac Leo Lep Lib Lup Lyn Lyr Men Mic Mon Mus Nor Oct Oph Ori "
    "Pav Peg Per Phe Pic PsA Psc Pup Pyx Ret Scl Sco Sct Ser Sex Sge Sgr Tau Tel TrA "
    "Tri Tuc UMa UMi Vel Vir Vol Vul"
).split()


# --- constellations -------------------------------------------------------------


def test_there_are_88_constellations_with_unique_abbreviations_and_names() -> None:
    assert len(CONSTELLATIONS) == 88
    assert len({c.abbreviation for c in CONSTELLATIONS}) == 88
    assert len({c.name for c in CONSTELLATIONS}) == 88
    assert set(BY_ABBREVIATION) == set(IAU_ABBREVIATIONS)


@pytest.mark.parametrize(
    ("abbreviation", "name", "genitive"),
    [
        ("CMa", "Canis Major", "Canis Majoris"),
        ("UMa", "Ursa Major", "Ursae Majoris"),
        ("PsA", "Piscis Austrinus", "Piscis Austrini"),
        ("Boo", "Boötes", "Boötis"),
        ("Cru", "Crux", "Crucis"),
        ("Dra", "Draco", "Draconis"),
        ("Lyr", "Lyra", "Lyrae"),
        ("CVn", "Canes Venatici", "Canum Venaticorum"),
        ("Cha", "Chamaeleon", "Chamaeleontis"),
        ("Psc", "Pisces", "Piscium"),
        ("Mon", "Monoceros", "Monocerotis"),
        ("TrA", "Triangulum Australe", "Trianguli Australis"),
    ],
)
def test_constellation_genitives_follow_the_iau_list(
    abbreviation: str, name: str, genitive: str
) -> None:
    assert BY_ABBREVIATION[abbreviation].name == name
    assert BY_ABBREVIATION[abbreviation].genitive == genitive


@pytest.mark.parametrize("abbreviation", IAU_ABBREVIATIONS)
def test_constellation_in_every_form_becomes_its_lowercase_abbreviation(
    abbreviation: str,
) -> None:
    c = BY_ABBREVIATION[abbreviation]
    key = f"alpha {abbreviation.lower()}"
    for form in (c.abbreviation, c.abbreviation.upper(), c.abbreviation.lower()):
        assert normalise(f"Alpha {form}") == key
    for form in (c.name, c.genitive, c.name.upper(), c.genitive.lower()):
        assert normalise(f"Alpha {form}") == key
        assert normalise(f"61 {form}") == f"61 {abbreviation.lower()}"


def test_constellation_name_alone_is_left_alone() -> None:
    assert normalise("Lyra") == "lyra"
    assert normalise("Ursa Major") == "ursa major"


# --- Greek letters ----------------------------------------------------------------


@pytest.mark.parametrize(("spelled", "char", "abbreviation"), GREEK)
def test_greek_letter_in_each_form_becomes_the_spelled_name(
    spelled: str, char: str, abbreviation: str
) -> None:
    forms = {char, char.upper(), abbreviation, abbreviation.rstrip(".")}
    forms |= {abbreviation.capitalize(), spelled, spelled.capitalize(), spelled.upper()}
    for form in forms:
        assert normalise(f"{form} Cen") == f"{spelled} cen", form


@pytest.mark.parametrize(("spelled", "variant"), GREEK_VARIANTS)
def test_common_greek_variants_become_the_spelled_name(
    spelled: str, variant: str
) -> None:
    assert normalise(f"{variant} Cen") == f"{spelled} cen"
    assert normalise(f"{variant.capitalize()}1 Centauri") == f"{spelled}1 cen"


@pytest.mark.parametrize(("spelled", "char", "abbreviation"), GREEK)
def test_greek_letter_keeps_its_component_digit_without_leading_zeros(
    spelled: str, char: str, abbreviation: str
) -> None:
    plain = abbreviation.rstrip(".")
    for form in (f"{char}1", f"{char}¹", f"{plain}01", f"{plain}1", f"{spelled}1"):
        assert normalise(f"{form} Sco") == f"{spelled}1 sco", form


def test_greek_module_table_matches_the_independent_table() -> None:
    assert [row[:3] for row in GREEK_LETTERS] == GREEK


def test_greek_letter_written_simbad_style_with_dot_and_padded_digit() -> None:
    assert normalise("* pi.03 Ori") == "pi3 ori"
    assert normalise("mu. Ara") == "mu ara"
    assert normalise("Alpha-1 Centauri") == "alpha1 cen"


def test_greek_abbreviations_that_are_words_need_a_constellation() -> None:
    assert normalise("The Pleiades") == "the pleiades"
    assert normalise("the Tau") == "theta tau"
    assert normalise("Cruz del Sur") == "cruz del sur"
    assert normalise("del Del") == "delta del"


def test_delta_delphini_in_every_form_meets() -> None:
    forms = ["δ Del", "del Del", "Delta Delphini", "DELTA DEL", "delta Delphinus"]
    assert {normalise(form) for form in forms} == {"delta del"}


# --- text folding -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Barnard's Star", "barnards star"),
        ("Barnard’s  Star", "barnards star"),
        ("Teegarden's Star", "teegardens star"),
        ("HIP\u200970890", "hip 70890"),
        ("Rigil\u00a0Kentaurus", "rigil kentaurus"),
        ("  Sirius\t ", "sirius"),
        ("Achernar!", "achernar"),
        ("Alnaïr", "alnair"),
        ("Bételgeuse", "betelgeuse"),
        ("\u200e\u200eتيتاون\u200e\u200e", "تيتاون"),
    ],
)
def test_text_is_lowercased_folded_and_collapsed(text: str, key: str) -> None:
    assert normalise(text) == key


def test_empty_or_punctuation_only_text_normalises_to_empty_key() -> None:
    assert normalise("") == ""
    assert normalise("  \u2009 ") == ""
    assert normalise("*-*") == ""


@pytest.mark.parametrize("function", [normalise, index_keys, parse_catalogue_id])
@pytest.mark.parametrize("bad", [None, 551, b"HIP 1", ["Sirius"]])
def test_non_string_input_raises_value_error(function: object, bad: object) -> None:
    with pytest.raises(ValueError, match="must be a string"):
        function(bad)  # type: ignore[operator]
    with pytest.raises(NotTextError):
        function(bad)  # type: ignore[operator]


@pytest.mark.parametrize("function", [index_keys, parse_catalogue_id])
def test_empty_input_raises_value_error(function: object) -> None:
    with pytest.raises(ValueError, match="empty"):
        function(" ")  # type: ignore[operator]


def test_index_keys_rejects_a_name_without_searchable_characters() -> None:
    with pytest.raises(ValueError, match="no searchable characters"):
        index_keys("--")


# --- catalogues -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("HIP70890", "hip 70890"),
        ("HIP 70890", "hip 70890"),
        ("hip-070890", "hip 70890"),
        ("HD128620", "hd 128620"),
        ("HD 128620", "hd 128620"),
        ("HR 5459", "hr 5459"),
        ("HR5459", "hr 5459"),
        ("Gliese 551", "gj 551"),
        ("Gl 551", "gj 551"),
        ("GJ551", "gj 551"),
        ("gliese551", "gj 551"),
        ("GJ 559 A", "gj 559a"),
        ("GJ 559A", "gj 559a"),
        ("Gl 559a", "gj 559a"),
        ("GJ 268.1", "gj 268.1"),
        ("Gliese 268.1 A", "gj 268.1a"),
        ("GJ 0015", "gj 15"),
        ("Wo 9066", "gj 9066"),
    ],
)
def test_catalogue_prefixes_are_unified_and_spaced(text: str, key: str) -> None:
    assert normalise(text) == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("HIP 70890", ("hip", "70890")),
        ("HIP\u200970890", ("hip", "70890")),
        ("hip070890", ("hip", "70890")),
        ("HD128620", ("hd", "128620")),
        ("HR 5459", ("hr", "5459")),
        ("GJ 559 A", ("gj", "559a")),
        ("Gliese 559A", ("gj", "559a")),
        ("Gl 551", ("gj", "551")),
        ("GJ 268.1", ("gj", "268.1")),
    ],
)
def test_parse_catalogue_id_reads_every_written_form(
    text: str, expected: tuple[str, str]
) -> None:
    assert parse_catalogue_id(text) == expected


@pytest.mark.parametrize(
    "text", ["Sirius", "alpha Cen", "HIP", "HIP 70890 HD 128620", "TYC 9010-4949-1"]
)
def test_parse_catalogue_id_returns_none_for_other_names(text: str) -> None:
    assert parse_catalogue_id(text) is None


# --- Alpha Centauri ---------------------------------------------------------------


def test_alpha_centauri_query_finds_a_b_and_proxima() -> None:
    query = normalise("Alpha Centauri")
    assert query == "alpha cen"
    assert query in index_keys("α1 Cen")  # Rigil Kentaurus (d3-celestial)
    assert query in index_keys("α2 Cen")  # Toliman
    assert query in index_keys("alpha Cen")  # Proxima in SSCore's identifiers
    assert normalise("alpha1 Cen") in index_keys("α1 Cen")
    assert normalise("alpha1 Cen") not in index_keys("α2 Cen")


def test_alpha_centauri_a_designations_meet() -> None:
    assert normalise("GJ 559A") == normalise("Gliese 559 A") == "gj 559a"
    assert normalise("HIP\u200971683") == normalise("HIP 71683") == "hip 71683"
    assert {normalise(f) for f in ("α1 Cen", "alf01 Cen", "Alpha1 Centauri")} == {
        "alpha1 cen"
    }


def test_proxima_centauri_meets_the_catalogue_forms() -> None:
    assert normalise("Proxima Centauri") == normalise("Proxima Cen") == "proxima cen"
    assert normalise("GJ 551") == normalise("Gliese 551") == "gj 551"


def test_index_keys_adds_only_the_form_without_the_bayer_digit() -> None:
    assert index_keys("α1 Cen") == {"alpha1 cen", "alpha cen"}
    assert index_keys("b1 Psc") == {"b1 psc", "b psc"}
    assert index_keys("Rigil Kentaurus") == {"rigil kentaurus"}
    assert index_keys("V645 Cen") == {"v645 cen"}
    assert index_keys("K2-18") == {"k2 18"}


# --- NASA host names --------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "catalogue_form"),
    [
        ("TRAPPIST-1", "Trappist 1"),
        ("Kepler-186", "kepler 186"),
        ("HD 10647", "HD10647"),
        ("GJ 876", "Gliese 876"),
        ("Gl 581", "GJ 581"),
        ("Proxima Cen", "Proxima Centauri"),
        ("eps Eri", "ε Eri"),
        ("eps Eri", "Epsilon Eridani"),
        ("tau Cet", "τ Ceti"),
        ("51 Peg", "51 Pegasi"),
        ("alf Tau", "α Tau"),
        ("ups And", "Upsilon Andromedae"),
        ("gam1 Leo", "γ1 Leonis"),
        ("psi1 Dra B", "ψ1 Draconis B"),
        ("omi UMa", "Omicron Ursae Majoris"),
        ("xi Aql", "ξ Aquilae"),
        ("rho CrB", "ρ Coronae Borealis"),
        ("HD 9 A", "HD 9A"),
    ],
)
def test_nasa_host_names_meet_the_catalogue_forms(
    host: str, catalogue_form: str
) -> None:
    assert normalise(host) == normalise(catalogue_form)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("TRAPPIST-1", "trappist 1"),
        ("Kepler-186", "kepler 186"),
        ("eps Eri", "epsilon eri"),
        ("K2-18", "k2 18"),
        ("55 Cnc", "55 cnc"),
    ],
)
def test_nasa_host_names_normalise_to_expected_keys(host: str, key: str) -> None:
    assert normalise(host) == key


# --- display forms ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("letter", "constellation", "greek", "shown"),
    [
        ("α1", "Cen", False, "alpha1 Cen"),
        ("α1", "Cen", True, "α1 Cen"),
        ("alf", "Centauri", True, "α Cen"),
        ("Beta", "ursae majoris", False, "beta UMa"),
        ("c", "Psc", False, "c Psc"),
        ("A2", "Cen", True, "A2 Cen"),
    ],
)
def test_bayer_display_form(
    letter: str, constellation: str, greek: bool, shown: str
) -> None:
    assert bayer(letter, constellation, greek=greek) == shown


@pytest.mark.parametrize(
    ("letter", "constellation"), [("undefined3", "Cen"), ("α", "148"), ("", "Cen")]
)
def test_bayer_rejects_what_is_not_a_designation(
    letter: str, constellation: str
) -> None:
    with pytest.raises(ValueError):
        bayer(letter, constellation)


def test_flamsteed_display_form() -> None:
    assert flamsteed(61, "Cyg") == "61 Cyg"
    assert flamsteed("061", "Cygni") == "61 Cyg"


@pytest.mark.parametrize(
    ("number", "constellation"), [(0, "Cyg"), ("x", "Cyg"), (61, "")]
)
def test_flamsteed_rejects_what_is_not_a_designation(
    number: object, constellation: str
) -> None:
    with pytest.raises(ValueError):
        flamsteed(number, constellation)  # type: ignore[arg-type]


# --- real d3-celestial names ------------------------------------------------------


def _constellation_forms(abbreviation: str) -> list[str]:
    c = BY_ABBREVIATION[abbreviation]
    return [
        c.abbreviation,
        c.abbreviation.upper(),
        c.name,
        c.genitive,
        c.genitive.upper(),
    ]


def _letter_forms(letter: str) -> list[str]:
    match = re.fullmatch(r"(\D+)(\d*)", letter)
    assert match is not None
    base, digit = match.groups()
    for spelled, char, abbreviation in GREEK:
        if base == char:
            plain = abbreviation.rstrip(".")
            padded = digit.zfill(2) if digit else ""
            return [
                letter,
                f"{plain}{digit}",
                f"{plain}{padded}",
                f"{spelled}{digit}",
                f"{spelled.capitalize()}{digit}",
                f"{spelled.upper()}{digit}",
            ]
    return [letter]


def _written_forms(star: dict[str, str]) -> list[tuple[str, list[str]]]:
    """(canonical form, other written forms) for each designation of a d3 star."""
    groups: list[tuple[str, list[str]]] = []
    c = star.get("c", "")
    if c in BY_ABBREVIATION and star.get("bayer") and star["bayer"] != "undefined3":
        letters = _letter_forms(star["bayer"])
        forms = [f"{lf} {cf}" for lf in letters for cf in _constellation_forms(c)]
        groups.append((bayer(star["bayer"], c), forms))
    if c in BY_ABBREVIATION and star.get("flam"):
        numbers = (star["flam"], "0" + star["flam"])
        forms = [f"{n} {cf}" for n in numbers for cf in _constellation_forms(c)]
        groups.append((flamsteed(star["flam"], c), forms))
    for key in ("hip", "hd"):
        if star.get(key):
            prefix, number = star[key].split("\u2009")
            forms = [star[key], prefix + number, f"{prefix.lower()}  {number}"]
            groups.append((f"{prefix} {number}", forms))
    gl = star.get("gl", "")
    if gl.startswith("GJ "):
        number = gl[3:]
        bare = re.sub(r"[A-Z]+$", "", number)
        spaced = f"{bare} {number[len(bare) :]}".strip()
        prefixes = ("GJ", "Gliese", "Gl", "gj")
        forms = [
            f"{p}{sep}{n}"
            for p in prefixes
            for sep in (" ", "")
            for n in (number, spaced)
        ]
        groups.append((gl, forms))
    elif gl:
        groups.append((gl, [gl.replace(" ", ""), gl.upper()]))
    return groups


def _d3_sample(size: int = 200, seed: int = 20240601) -> list[dict[str, str]]:
    if not D3_NAMES.exists():
        pytest.skip(f"real data not found: {D3_NAMES} (set SOURCES_DIR)")
    stars = json.loads(D3_NAMES.read_text(encoding="utf-8"))
    designated = [
        stars[hip] for hip in sorted(stars, key=int) if _written_forms(stars[hip])
    ]
    return random.Random(seed).sample(designated, size)


@pytest.mark.realdata
def test_every_written_form_of_real_d3_designations_meets_the_canonical_key() -> None:
    mismatches = []
    checked = 0
    for star in _d3_sample():
        for canonical, forms in _written_forms(star):
            key = normalise(canonical)
            assert key, canonical
            for form in forms:
                checked += 1
                if normalise(form) != key:
                    mismatches.append((form, normalise(form), key))
    assert checked > 2000
    assert not mismatches, mismatches[:20]


@pytest.mark.realdata
def test_real_d3_catalogue_numbers_parse_back() -> None:
    for star in _d3_sample():
        number = star["hip"].split("\u2009")[1]
        assert parse_catalogue_id(star["hip"]) == ("hip", str(int(number)))
        if star.get("hd"):
            assert parse_catalogue_id(star["hd"]) == ("hd", star["hd"].split()[-1])
        if star.get("gl", "").startswith("GJ "):
            assert parse_catalogue_id(star["gl"]) == ("gj", star["gl"][3:].lower())


@pytest.mark.realdata
def test_real_d3_bayer_designations_are_indexed_without_component_digit() -> None:
    for star in _d3_sample():
        letter, c = star.get("bayer", ""), star.get("c", "")
        if re.fullmatch(r"\D+[1-9]", letter) and c in BY_ABBREVIATION:
            keys = index_keys(bayer(letter, c, greek=True))
            assert normalise(f"{letter[:-1]} {c}") in keys


def test_durchmusterung_zones_keep_their_hemisphere():
    north, south = normalise("BD +08 2823"), normalise("BD -08 2823")
    assert north != south
    assert normalise("BD+08 2823") == north
    assert normalise("CD-60 5483") == normalise("CD -60 5483")


def test_ascii_text_folds_as_the_general_path_folds_it() -> None:
    # ASCII takes a translation table; an "é" sends the same text down the
    # character-by-character path, where it folds to a plain "e".
    for code in range(128):
        text = f"Ab{chr(code)}'` \tZ"
        assert (
            designations._fold_text(text + "é") == designations._fold_text(text) + "e"
        )
