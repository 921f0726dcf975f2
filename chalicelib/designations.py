"""Star names and designations as search keys and display forms.

`normalise` turns any written form of a name into one search key, so that the
index (built from catalogue names) and a visitor's query meet:

- lowercase, diacritics stripped (NFKD), unicode spaces as spaces, invisible
  format characters dropped, apostrophes dropped (`Barnard's` -> `barnards`),
  other punctuation as spaces (a dot between two digits stays: `gj 268.1`);
- Greek letters as the spelled name, a component digit attached and stripped of
  leading zeros (`α1`, `alf01`, `Alpha1`, `alpha 1` -> `alpha1`). The SIMBAD
  abbreviations `the` and `del` are English or Spanish words and the
  abbreviation of Delphinus too, so they count as Greek only before a
  constellation or with a component digit;
- a constellation name or genitive becomes its lowercase IAU abbreviation when
  another word precedes it (`Alpha Centauri`, `Proxima Centauri` -> `... cen`),
  so a lone proper name such as `Lyra` is left alone (an abbreviation only needs
  lowercasing, so it is the key in any position);
- catalogue prefixes unified and followed by one space (`HIP70890` ->
  `hip 70890`; `Gliese`, `Gl`, `GJ` and the Gliese-Jahreiss numbers of the
  `Wo` and `NN` stars -> `gj`), a component letter attached to the number
  (`GJ 559 A` -> `gj 559a`), and leading zeros dropped from every number.

Empty input: `normalise("")` (or only spaces or punctuation) returns "", the key
of an empty query; every other public function raises `ValueError` for an empty
text, and every public function raises `NotTextError` (a `ValueError` that is
also a `TypeError`) for a non-string.
"""

from __future__ import annotations

import re
import unicodedata

from chalicelib.constellations import CONSTELLATIONS, Constellation

# Spelled name, Greek character, SIMBAD/NASA abbreviation, other written forms.
GREEK_LETTERS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("alpha", "α", "alf", ("alp", "alph")),
    ("beta", "β", "bet", ()),
    ("gamma", "γ", "gam", ()),
    ("delta", "δ", "del", ()),
    ("epsilon", "ε", "eps", ("ϵ",)),
    ("zeta", "ζ", "zet", ()),
    ("eta", "η", "eta", ()),
    ("theta", "θ", "tet", ("the", "ϑ")),
    ("iota", "ι", "iot", ()),
    ("kappa", "κ", "kap", ("ϰ",)),
    ("lambda", "λ", "lam", ("lamda",)),
    ("mu", "μ", "mu.", ("mu", "µ")),
    ("nu", "ν", "nu.", ("nu",)),
    ("xi", "ξ", "ksi", ("xi",)),
    ("omicron", "ο", "omi", ()),
    ("pi", "π", "pi.", ("pi", "ϖ")),
    ("rho", "ρ", "rho", ("ϱ",)),
    ("sigma", "σ", "sig", ("ς", "ϲ")),
    ("tau", "τ", "tau", ()),
    ("upsilon", "υ", "ups", ("ϒ",)),
    ("phi", "φ", "phi", ("ϕ",)),
    ("chi", "χ", "chi", ()),
    ("psi", "ψ", "psi", ()),
    ("omega", "ω", "ome", ()),
)

# Catalogue prefixes as written (after folding) -> the key's prefix.
CATALOGUE_PREFIXES: dict[str, str] = {
    "hip": "hip",
    "hd": "hd",
    "hr": "hr",
    "gj": "gj",
    "gl": "gj",
    "gliese": "gj",
    "wo": "gj",
    "nn": "gj",
}


class NotTextError(ValueError, TypeError):
    """A public function got a non-string where it needs text."""


_AMBIGUOUS_GREEK = frozenset({"the", "del"})
_APOSTROPHES = "'’‘ʼ`´′ʹ"
_SPACE_LIKE = frozenset("\u200b\u2028\u2029")


# ASCII text folds by one table: apostrophes dropped, whitespace made a space
# (ASCII has no diacritics and no format characters).
_ASCII_FOLD = str.maketrans(
    {
        **{char: " " for char in map(chr, range(128)) if char.isspace()},
        **dict.fromkeys(char for char in _APOSTROPHES if char.isascii()),
    }
)


def _fold_text(text: str) -> str:
    """Lowercase, strip diacritics, drop apostrophes and invisible characters."""
    if text.isascii():  # most names: the table gives the loop's result at once
        return text.lower().translate(_ASCII_FOLD)
    out = []
    for char in unicodedata.normalize("NFKD", text.lower()):
        if char in _APOSTROPHES or unicodedata.combining(char):
            continue
        if char.isspace() or char in _SPACE_LIKE:
            out.append(" ")
        elif unicodedata.category(char) != "Cf":
            out.append(char)
    return "".join(out)


def _greek_forms() -> dict[str, str]:
    """Every folded written form of a Greek letter -> its spelled name."""
    forms: dict[str, str] = {}
    for spelled, char, abbreviation, others in GREEK_LETTERS:
        for form in (spelled, char, abbreviation.rstrip("."), *others):
            forms[_fold_text(form)] = spelled
    return forms


def _constellation_forms() -> dict[str, str]:
    """Every folded abbreviation, name and genitive -> the lowercase abbreviation."""
    forms: dict[str, str] = {}
    for c in CONSTELLATIONS:
        for form in c:
            forms[" ".join(_fold_text(form).split())] = c.abbreviation.lower()
    return forms


GREEK_FORMS = _greek_forms()
CONSTELLATION_FORMS = _constellation_forms()
_LONGEST_CONSTELLATION = max(len(form.split()) for form in CONSTELLATION_FORMS)

_GREEK_DOT = re.compile(r"(?<![^\W\d_])(mu|nu|pi|xi)\.(?=\d)")
_PUNCTUATION = re.compile(r"(?:[^\w.]|_|(?<!\d)\.|\.(?!\d))+")
_GLUED_PREFIX = re.compile(
    r"(" + "|".join(sorted(CATALOGUE_PREFIXES, key=len, reverse=True)) + r")(\d.*)"
)
# Durchmusterung zones carry a sign that tells the two hemispheres apart.
_ZONE_SIGN = re.compile(r"\b(bd|cd|cp)\s*([+-])\s*0*(?=\d)")
_LEADING_ZEROS = re.compile(r"^(v?)0+(?=\d)")
_LETTER_AND_DIGITS = re.compile(r"(\D+?)0*(\d*)")
_CATALOGUE_NUMBER = re.compile(r"\d+(?:\.\d+)?[a-z]{0,2}")
_COMPONENT = re.compile(r"[a-z]{1,2}")
_LATIN_BAYER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"[1-9]")
_CATALOGUE_KEY = re.compile(
    r"(hip|hd|hr) (\d+[a-z]{0,2})|(gj) (\d+(?:\.\d+)?[a-z]{0,2})"
)
_BAYER_WITH_DIGIT = re.compile(r"([a-z]+)[1-9]")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPELLED_GREEK = frozenset(row[0] for row in GREEK_LETTERS)
_GREEK_CHARACTERS = {row[0]: row[1] for row in GREEK_LETTERS}
_BY_LOWER_ABBREVIATION = {c.abbreviation.lower(): c for c in CONSTELLATIONS}


def _require_text(text: object, what: str, *, allow_empty: bool = False) -> str:
    """Return `text` if it is a string (non-blank unless allowed), else raise."""
    if not isinstance(text, str):
        raise NotTextError(f"{what} must be a string, not {type(text).__name__}")
    if not allow_empty and not text.strip():
        raise ValueError(f"{what} must not be empty")
    return text


def _tokens(text: str) -> list[str]:
    """Fold `text` and split it into words, catalogue prefixes split off numbers."""
    folded = _ZONE_SIGN.sub(
        lambda m: f"{m[1]} {'north' if m[2] == '+' else 'south'}",
        _GREEK_DOT.sub(r"\1", _fold_text(text)),
    )
    folded = _PUNCTUATION.sub(" ", folded)
    tokens: list[str] = []
    for token in folded.split():
        glued = _GLUED_PREFIX.fullmatch(token)
        tokens.extend(glued.groups() if glued else (token,))
    return [_LEADING_ZEROS.sub(r"\1", token) for token in tokens]


def _constellation_at(tokens: list[str], i: int) -> tuple[str, int] | None:
    """The constellation written at `tokens[i]` and how many words it takes."""
    for size in range(_LONGEST_CONSTELLATION, 0, -1):
        abbreviation = CONSTELLATION_FORMS.get(" ".join(tokens[i : i + size]))
        if abbreviation is not None:
            return abbreviation, size
    return None


def _greek_letter(token: str) -> tuple[str, str, str] | None:
    """`(as written, spelled, digit)` for a Greek letter token like `α1`, `alf01`."""
    match = _LETTER_AND_DIGITS.fullmatch(token)
    if match is None or match.group(1) not in GREEK_FORMS:
        return None
    return match.group(1), GREEK_FORMS[match.group(1)], match.group(2)


def _spell_greek(tokens: list[str]) -> list[str]:
    """Replace Greek letters in any form by their spelled names."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        letter = _greek_letter(tokens[i])
        if letter is None:
            out.append(tokens[i])
            i += 1
            continue
        written, spelled, digit = letter
        if not digit and _is_separate_digit(tokens, i + 1):
            digit, i = tokens[i + 1], i + 1  # `alpha 1 Cen`
        designation = digit or _constellation_at(tokens, i + 1) is not None
        if written in _AMBIGUOUS_GREEK and not designation:
            out.append(written)
        else:
            out.append(spelled + digit)
        i += 1
    return out


def _is_separate_digit(tokens: list[str], i: int) -> bool:
    """True if `tokens[i]` is a lone component digit followed by a constellation."""
    return (
        i + 1 < len(tokens)
        and _DIGIT.fullmatch(tokens[i]) is not None
        and _constellation_at(tokens, i + 1) is not None
    )


def _abbreviate_constellations(tokens: list[str]) -> list[str]:
    """Abbreviate constellation names and genitives that follow another word."""
    out = tokens[:1]
    i = 1
    while i < len(tokens):
        found = _constellation_at(tokens, i)
        if found is None:
            out.append(tokens[i])
            i += 1
        else:
            out.append(found[0])
            i += found[1]
    return out


def _unify_catalogues(tokens: list[str]) -> list[str]:
    """Unify catalogue prefixes and attach a component letter to the number."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        number = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token not in CATALOGUE_PREFIXES or not _CATALOGUE_NUMBER.fullmatch(number):
            out.append(token)
            i += 1
            continue
        component = tokens[i + 2] if i + 2 < len(tokens) else ""
        if _PLAIN_NUMBER.fullmatch(number) and _COMPONENT.fullmatch(component):
            number, i = number + component, i + 1
        out.extend((CATALOGUE_PREFIXES[token], number))
        i += 2
    return out


def normalise(text: str) -> str:
    """Return the search key of a star name or designation as a visitor types it."""
    tokens = _tokens(_require_text(text, "text", allow_empty=True))
    tokens = _unify_catalogues(_abbreviate_constellations(_spell_greek(tokens)))
    return " ".join(tokens)


def index_keys(text: str) -> set[str]:
    """Return every key a name is indexed under: its key, and without a Bayer digit."""
    key = normalise(_require_text(text, "name"))
    if not key:
        raise ValueError(f"name {text!r} has no searchable characters")
    tokens = key.split()
    keys = {key}
    for i, token in enumerate(tokens[:-1]):
        bayer_letter = _bayer_without_digit(token)
        if bayer_letter and tokens[i + 1] in _BY_LOWER_ABBREVIATION:
            keys.add(" ".join([*tokens[:i], bayer_letter, *tokens[i + 1 :]]))
    return keys


def _bayer_without_digit(token: str) -> str | None:
    """`alpha` for a key token `alpha1` (or `b` for `b1`), else None."""
    match = _BAYER_WITH_DIGIT.fullmatch(token)
    if match is None:
        return None
    letter = match.group(1)
    return letter if letter in _SPELLED_GREEK or len(letter) == 1 else None


def parse_catalogue_id(text: str) -> tuple[str, str] | None:
    """Return `(catalogue, number)` for a HIP, HD, HR or GJ designation, else None."""
    match = _CATALOGUE_KEY.fullmatch(normalise(_require_text(text, "designation")))
    if match is None:
        return None
    catalogue, number = match.group(1, 2) if match.group(1) else match.group(3, 4)
    return catalogue, number


def find_constellation(text: str) -> Constellation:
    """Return the constellation given by its abbreviation, name or genitive."""
    folded = " ".join(_fold_text(_require_text(text, "constellation")).split())
    abbreviation = CONSTELLATION_FORMS.get(folded)
    if abbreviation is None:
        raise ValueError(f"unknown constellation {text!r}")
    return _BY_LOWER_ABBREVIATION[abbreviation]


def bayer(letter: str, constellation: str, *, greek: bool = False) -> str:
    """Return the display form of a Bayer designation (`alpha1 Cen`, or `α1 Cen`)."""
    written = _require_text(letter, "Bayer letter").strip()
    abbreviation = find_constellation(constellation).abbreviation
    match = _LETTER_AND_DIGITS.fullmatch(written)
    if match is None:
        raise ValueError(f"not a Bayer letter: {letter!r}")
    base, digit = match.groups()
    spelled = GREEK_FORMS.get(_fold_text(base))
    if spelled is not None:
        shown = _GREEK_CHARACTERS[spelled] if greek else spelled
    elif _LATIN_BAYER.fullmatch(base):
        shown = base
    else:
        raise ValueError(f"not a Bayer letter: {letter!r}")
    return f"{shown}{digit} {abbreviation}"


def flamsteed(number: int | str, constellation: str) -> str:
    """Return the display form of a Flamsteed designation (`61 Cyg`)."""
    if isinstance(number, bool) or not isinstance(number, (int, str)):
        raise NotTextError(
            f"Flamsteed number must be an int or a string, not {number!r}"
        )
    written = str(number).strip()
    if not written.isdecimal() or int(written) < 1:
        raise ValueError(f"not a Flamsteed number: {number!r}")
    return f"{int(written)} {find_constellation(constellation).abbreviation}"
