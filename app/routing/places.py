"""Place names → kecamatan: which kecamatan a complaint is about, from the names of its kecamatan and
its desa/kelurahan. Pure Python.

A kecamatan is a territorial OPD: what it handles (its own office, the oversight of the desa) is the
same everywhere, so the classifier learns one topic for all kecamatan and this gazetteer says which
one. Place names are also removed from the text the topic classifier sees: "Desa Sumberejo" says where,
not which agency, and a name must not teach the model that one sector belongs to one village.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from .text import fold

DEFAULT_PLACES_CSV = Path(__file__).resolve().parent.parent / "data" / "desa-lumajang.csv"

# Names that are also ordinary words (or the regency's own name) count only after "desa", "kelurahan"
# or, for a kecamatan, "kecamatan"/"camat": "jeruk", "barat", "alun-alun", "tanggung (jawab)".
AMBIGUOUS = frozenset("""
lumajang padang kunir barat alun alun tanggung duren jeruk salak sentul mojo pulo gesang besuk umbul
wates tumpeng jarit kraton pakel krasak kudus grati bence sombo kedawung babakan buwek dawuhan
""".split()) | {"alun alun"}

# Names are matched on their letters alone, so "Sumberwuluh", "Sumber Wuluh" and "Oro-oro Ombo" /
# "orooro ombo" are one name; the longest run of up to MAX_WORDS words wins.
MAX_WORDS = 4
_WORD = re.compile(r"[a-z]+")
_DESA_CONTEXT = re.compile(r"(?:desa|ds|kelurahan|kel|kelurhan)\W*$")
_KEC_CONTEXT = re.compile(r"(?:kecamatan|kec|kcmtn|camat)\W*$")
# "Desa Jokarto Kec. Tempeh" is an address: the words "desa" and "kec." go with the names. After one of
# these words ("kantor kecamatan Tempeh", "kepala desa Bades") they name an institution and stay.
_ADDRESS_WORD = re.compile(r"(?:^|\W)((?:desa|ds|kelurahan|kel|kecamatan|kec|kcmtn)\W*)$")
_INSTITUTION = frozenset("""kantor balai pemerintah pemerintahan pelayanan layanan pegawai perangkat petugas
kepala aparat staf camat sekretaris lurah""".split())

KECAMATAN_WEIGHT = 3.0  # "Kec. Tempeh"
BARE_KECAMATAN_WEIGHT = 1.5  # "di Tempeh"
DESA_WEIGHT = 1.0  # "Desa Jokarto", split over every kecamatan that has a desa of that name


def _key(name: str) -> str:
    return re.sub(r"[\s-]+", " ", fold(name)).strip()


def _letters(key: str) -> str:
    return "".join(_WORD.findall(key))


@dataclass(frozen=True)
class Place:
    key: str  # folded name, words separated by one space
    opd: str  # the kecamatan's OPD code
    kind: str  # kecamatan | desa | kelurahan


class Gazetteer:
    def __init__(self, places: list[Place]):
        self.places = list(places)
        self._by_letters: dict[str, list[Place]] = {}
        for place in self.places:
            self._by_letters.setdefault(_letters(place.key), []).append(place)
        # Every prefix of a name's letters: most words of a text stop at the first look-up.
        self._prefixes = {key[:n] for key in self._by_letters for n in range(1, len(key) + 1)}

    @classmethod
    def build(cls, kecamatan: dict[str, str], desa_rows: list[dict]) -> "Gazetteer":
        """`kecamatan`: OPD code → kecamatan name (without the word "Kecamatan"); `desa_rows`: dicts
        with `nama`, `jenis`, `opd` (as in app/data/desa-lumajang.csv). Desa of unknown OPDs are skipped."""
        places = [Place(_key(name), code, "kecamatan") for code, name in kecamatan.items()]
        places += [Place(_key(r["nama"]), r["opd"].strip(), (r.get("jenis") or "desa").strip())
                   for r in desa_rows if r["opd"].strip() in kecamatan]
        return cls(places)

    def _matches(self, folded: str):
        """(start, end, [(place, weight)]) for each place name in a folded text."""
        words = list(_WORD.finditer(folded))
        tokens = [w.group(0) for w in words]
        i = 0
        while i < len(words):
            letters, n, candidates = "", 0, None
            for j in range(i, min(i + MAX_WORDS, len(words))):
                letters += tokens[j]
                if letters not in self._prefixes:
                    break
                if letters in self._by_letters:
                    n, candidates = j - i + 1, self._by_letters[letters]
            if not candidates:
                i += 1
                continue
            found = self._weigh(folded, words[i].start(), candidates)
            if found:
                yield words[i].start(), words[i + n - 1].end(), found
            i += n

    @staticmethod
    def _weigh(folded: str, start: int, candidates: list[Place]) -> list[tuple[Place, float]]:
        before = folded[max(0, start - 16):start]
        after_kec = bool(_KEC_CONTEXT.search(before))
        after_desa = bool(_DESA_CONTEXT.search(before))
        ambiguous = candidates[0].key in AMBIGUOUS
        found = []
        for place in candidates:
            if place.kind == "kecamatan":
                if after_kec:
                    found.append((place, KECAMATAN_WEIGHT))
                elif not ambiguous and not after_desa:
                    found.append((place, BARE_KECAMATAN_WEIGHT))
            elif after_desa or not ambiguous:
                found.append((place, DESA_WEIGHT))
        return found

    def locate(self, text: str, folded: bool = False) -> dict[str, float]:
        """Kecamatan OPD code → share of the place evidence (sums to 1); empty when no place is named."""
        scores: dict[str, float] = {}
        for _start, _end, found in self._matches(text if folded else fold(text)):
            desa = [(p, w) for p, w in found if p.kind != "kecamatan"]
            for place, weight in found:
                share = weight / len(desa) if place.kind != "kecamatan" else weight
                scores[place.opd] = scores.get(place.opd, 0.0) + share
        total = sum(scores.values())
        return {code: s / total for code, s in scores.items()} if total else {}

    def strip(self, text: str, folded: bool = False) -> str:
        """The folded text without the place names it names."""
        folded = text if folded else fold(text)
        spans = []
        for start, end, _found in self._matches(folded):
            word = _ADDRESS_WORD.search(folded[max(0, start - 16):start])
            if word:
                before = folded[max(0, start - 40):start - len(word.group(1))].split()
                if not before or before[-1] not in _INSTITUTION:
                    start -= len(word.group(1))
            spans.append((start, end))
        for start, end in reversed(spans):
            folded = folded[:start] + " " + folded[end:]
        return folded


def read_places(path: str | Path | None = None) -> list[dict]:
    text = Path(path or DEFAULT_PLACES_CSV).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))
