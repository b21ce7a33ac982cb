"""The personal-data corpus (tests/data/pii_corpus.tsv): how Indonesians write NIKs, KK numbers, phone
numbers and e-mail addresses in a complaint, and look-alikes that must stay as typed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).resolve().parent / "data" / "pii_corpus.tsv"
KINDS = {"nik": "nik", "kk": "nik", "phone": "phone", "email": "email", "keep": None}  # kk shares the NIK label
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|n|r|t|\\)")


def _unescape(value: str) -> str:
    def one(m: re.Match) -> str:
        code = m.group(1)
        return {"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}.get(code) or chr(int(code[1:], 16))
    return _ESCAPE.sub(one, value)


@dataclass(frozen=True)
class Row:
    line: int
    kind: str  # nik | kk | phone | email | keep
    text: str
    expected: tuple[str, ...]  # the substrings that must be masked, in order

    @property
    def label_kind(self) -> str | None:
        return KINDS[self.kind]

    def __str__(self) -> str:  # pytest ids
        return f"{self.line}:{self.kind}"


def load() -> list[Row]:
    rows = []
    for number, line in enumerate(PATH.read_text(encoding="utf-8").splitlines(), 1):
        if not line or line.startswith("#") or line.startswith("kind\t"):
            continue
        kind, text, expected = line.split("\t")
        assert kind in KINDS, f"line {number}: unknown kind {kind!r}"
        values = tuple(_unescape(v) for v in expected.split(" || ")) if expected else ()
        assert bool(values) == (kind != "keep"), f"line {number}: expected values only for personal data"
        rows.append(Row(number, kind, _unescape(text), values))
    return rows


ROWS = load()
PERSONAL = [r for r in ROWS if r.kind != "keep"]
KEEP = [r for r in ROWS if r.kind == "keep"]
NIK_ROWS = [r for r in ROWS if r.kind in ("nik", "kk")]
