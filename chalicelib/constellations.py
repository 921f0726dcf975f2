"""The 88 IAU constellations: abbreviation, name and genitive, as data.

Source: the International Astronomical Union's list of the 88 constellations with
their official three-letter abbreviations and genitive forms
(https://www.iau.org/public/themes/constellations/), as adopted at the IAU General
Assembly of 1922 and bounded by Delporte (1930). Names keep their diacritics
(`Boötes`); search code folds them.
"""

from __future__ import annotations

from typing import NamedTuple


class Constellation(NamedTuple):
    """One IAU constellation."""

    abbreviation: str
    name: str
    genitive: str


CONSTELLATIONS: tuple[Constellation, ...] = tuple(
    Constellation(*row)
    for row in (
        ("And", "Andromeda", "Andromedae"),
        ("Ant", "Antlia", "Antliae"),
        ("Aps", "Apus", "Apodis"),
        ("Aqr", "Aquarius", "Aquarii"),
        ("Aql", "Aquila", "Aquilae"),
        ("Ara", "Ara", "Arae"),
        ("Ari", "Aries", "Arietis"),
        ("Aur", "Auriga", "Aurigae"),
        ("Boo", "Boötes", "Boötis"),
        ("Cae", "Caelum", "Caeli"),
        ("Cam", "Camelopardalis", "Camelopardalis"),
        ("Cnc", "Cancer", "Cancri"),
        ("CVn", "Canes Venatici", "Canum Venaticorum"),
        ("CMa", "Canis Major", "Canis Majoris"),
        ("CMi", "Canis Minor", "Canis Minoris"),
        ("Cap", "Capricornus", "Capricorni"),
        ("Car", "Carina", "Carinae"),
        ("Cas", "Cassiopeia", "Cassiopeiae"),
        ("Cen", "Centaurus", "Centauri"),
        ("Cep", "Cepheus", "Cephei"),
        ("Cet", "Cetus", "Ceti"),
        ("Cha", "Chamaeleon", "Chamaeleontis"),
        ("Cir", "Circinus", "Circini"),
        ("Col", "Columba", "Columbae"),
        ("Com", "Coma Berenices", "Comae Berenices"),
        ("CrA", "Corona Australis", "Coronae Australis"),
        ("CrB", "Corona Borealis", "Coronae Borealis"),
        ("Crv", "Corvus", "Corvi"),
        ("Crt", "Crater", "Crateris"),
        ("Cru", "Crux", "Crucis"),
        ("Cyg", "Cygnus", "Cygni"),
        ("Del", "Delphinus", "Delphini"),
        ("Dor", "Dorado", "Doradus"),
        ("Dra", "Draco", "Draconis"),
        ("Equ", "Equuleus", "Equulei"),
        ("Eri", "Eridanus", "Eridani"),
        ("For", "Fornax", "Fornacis"),
        ("Gem", "Gemini", "Geminorum"),
        ("Gru", "Grus", "Gruis"),
        ("Her", "Hercules", "Herculis"),
        ("Hor", "Horologium", "Horologii"),
        ("Hya", "Hydra", "Hydrae"),
        ("Hyi", "Hydrus", "Hydri"),
        ("Ind", "Indus", "Indi"),
        ("Lac", "Lacerta", "Lacertae"),
        ("Leo", "Leo", "Leonis"),
        ("LMi", "Leo Minor", "Leonis Minoris"),
        ("Lep", "Lepus", "Leporis"),
        ("Lib", "Libra", "Librae"),
        ("Lup", "Lupus", "Lupi"),
        ("Lyn", "Lynx", "Lyncis"),
        ("Lyr", "Lyra", "Lyrae"),
        ("Men", "Mensa", "Mensae"),
        ("Mic", "Microscopium", "Microscopii"),
        ("Mon", "Monoceros", "Monocerotis"),
        ("Mus", "Musca", "Muscae"),
        ("Nor", "Norma", "Normae"),
        ("Oct", "Octans", "Octantis"),
        ("Oph", "Ophiuchus", "Ophiuchi"),
        ("Ori", "Orion", "Orionis"),
        ("Pav", "Pavo", "Pavonis"),
        ("Peg", "Pegasus", "Pegasi"),
        ("Per", "Perseus", "Persei"),
        ("Phe", "Phoenix", "Phoenicis"),
        ("Pic", "Pictor", "Pictoris"),
        ("Psc", "Pisces", "Piscium"),
        ("PsA", "Piscis Austrinus", "Piscis Austrini"),
        ("Pup", "Puppis", "Puppis"),
        ("Pyx", "Pyxis", "Pyxidis"),
        ("Ret", "Reticulum", "Reticuli"),
        ("Sge", "Sagitta", "Sagittae"),
        ("Sgr", "Sagittarius", "Sagittarii"),
        ("Sco", "Scorpius", "Scorpii"),
        ("Scl", "Sculptor", "Sculptoris"),
        ("Sct", "Scutum", "Scuti"),
        ("Ser", "Serpens", "Serpentis"),
        ("Sex", "Sextans", "Sextantis"),
        ("Tau", "Taurus", "Tauri"),
        ("Tel", "Telescopium", "Telescopii"),
        ("Tri", "Triangulum", "Trianguli"),
        ("TrA", "Triangulum Australe", "Trianguli Australis"),
        ("Tuc", "Tucana", "Tucanae"),
        ("UMa", "Ursa Major", "Ursae Majoris"),
        ("UMi", "Ursa Minor", "Ursae Minoris"),
        ("Vel", "Vela", "Velorum"),
        ("Vir", "Virgo", "Virginis"),
        ("Vol", "Volans", "Volantis"),
        ("Vul", "Vulpecula", "Vulpeculae"),
    )
)

BY_ABBREVIATION: dict[str, Constellation] = {c.abbreviation: c for c in CONSTELLATIONS}
