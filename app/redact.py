"""Find and mask personal data that citizens type into free text (complaint title, text, answers).

Pure Python (no Flask, no HTML): `find` returns spans, `mask` replaces them with labels, `highlight`
returns plain segments so a template can mark them with autoescaping intact.

How numbers are read. Digits are first grouped into *units*: digit groups tightly joined by "." or "-"
("0812-3456-7890", "35.08.01.120390.0001"), a parenthesised area code "(0334)", or "+62". Units joined by
a single space form a *run* ("+62 812 3456 7890", "3508 0112 3456 0001"). Candidates are contiguous
units of a run, so a tight unit is never split and two numbers separated by a comma or a word are never
glued together. Then, for overlaps, the longest span wins (a 16-digit NIK beats the phone-looking tail
inside it), ties broken by kind: email > nik > phone > plate.

Intentionally NOT caught (documented so nobody assumes otherwise):
- numbers spelled out or split oddly: "nol delapan satu dua…", "0812 - 3456 - 7890", "3508/0112/…",
  non-ASCII digits (fullwidth, Arabic-Indic), a NIK broken across lines;
- obfuscated e-mail ("budi [at] contoh [dot] id") and social-media handles;
- phone numbers without a leading 0 / 62 / +62 ("812 3456 7890"), short numbers (< 8 digits after the
  prefix), foreign numbers;
- names, addresses, birth dates: these need human judgement (the validator/moderator does that);
- any 16-digit number is reported as "nik", even a KK number or a bank card: those are personal too.
Deliberately left alone: years ("2026"), money ("Rp 1.500.000", "1.500.000"), dates ("12-03-2026",
"2026-03-12"), times ("08.30"), RT/RW ("RT 03/RW 05"), house numbers and other short numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Span", "LABELS", "find", "mask", "highlight"]

LABELS: dict[str, str] = {
    "nik": "[NIK disembunyikan]",
    "phone": "[nomor telepon disembunyikan]",
    "email": "[e-mail disembunyikan]",
    "plate": "[nomor polisi disembunyikan]",
}
_KIND_RANK = {"email": 0, "nik": 1, "phone": 2, "plate": 3}


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive, like slicing: text[start:end]
    kind: str  # "nik" | "phone" | "email" | "plate"


# [0-9] not \d: \d also matches non-ASCII digits, which we do not handle (see module docstring).
_UNIT_RE = re.compile(
    r"\(\+?[0-9]{2,5}\)"  # "(0334)", "(+62)"
    r"|\+?[0-9]+(?:[.\-][0-9]+)*"  # "+62", "0812-3456-7890", "35.08.01.120390.0001"
)
_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
    r"(?![A-Za-z0-9\-])"
)
# Units that are clearly not identifiers; they are never candidates and they break runs.
_DATE_RE = re.compile(
    r"(?:0?[1-9]|[12][0-9]|3[01])[.\-](?:0?[1-9]|1[0-2])[.\-](?:[0-9]{2}|[0-9]{4})"
    r"|[0-9]{4}-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12][0-9]|3[01])"
)
_TIME_RE = re.compile(r"(?:[01]?[0-9]|2[0-3])\.[0-5][0-9]")
_MONEY_RE = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")  # thousands dots; phones start with 0
_CURRENCY_BEFORE_RE = re.compile(r"(?:\bRp\.?|\bIDR)\s?$", re.IGNORECASE)

# Vehicle plate region codes (Korlantas). Restricting the first letters to real codes is what keeps
# "RT 03 RW" or "KM 12 A" from looking like a plate. Papua's newer codes may be missing.
_PLATE_REGIONS = (
    "A B D E F G H K L M N P R S T W Z "
    "AA AB AD AE AG BA BB BD BE BG BH BK BL BM BN BP DA DB DC DD DE DG DH DK DL DM DN DP DR DS DT DW "
    "EA EB ED KB KH KT KU PA PB"
).split()
_PLATE_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:" + "|".join(sorted(_PLATE_REGIONS, key=len, reverse=True)) + r")"
    r"[ \-]?[1-9][0-9]{0,3}[ \-]?[A-Z]{1,3}(?![A-Za-z0-9])"
)
_SPACE_JOINERS = (" ", "\u00a0", "\t")
_PHONE_MIN, _PHONE_MAX = 8, 13  # digits after the 0 / 62 / +62 prefix


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    digits: str
    plus: bool
    paren: bool
    blocked: bool  # date, time or money: never part of a candidate


def _units(text: str) -> list[_Unit]:
    units: list[_Unit] = []
    for m in _UNIT_RE.finditer(text):
        s, e, raw = m.start(), m.end(), m.group()
        if s > 0 and text[s - 1].isdigit():
            continue  # tail of a non-ASCII-digit or odd sequence: not ours to judge
        body = raw.strip("()+")
        blocked = bool(
            _DATE_RE.fullmatch(body)
            or _TIME_RE.fullmatch(body)
            or _MONEY_RE.fullmatch(body)
            or _CURRENCY_BEFORE_RE.search(text[max(0, s - 5) : s])
        )
        units.append(_Unit(s, e, re.sub(r"[^0-9]", "", raw), raw.startswith(("+", "(+")),
                           raw.startswith("("), blocked))
    return units


def _runs(text: str, units: list[_Unit]) -> list[list[_Unit]]:
    """Split units into runs joined by exactly one space (or nothing/'-'/'.' after a ')' )."""
    runs: list[list[_Unit]] = []
    current: list[_Unit] = []
    for u in units:
        if u.blocked:
            if current:
                runs.append(current)
            current = []
            continue
        if current:
            prev = current[-1]
            gap = text[prev.end : u.start]
            joined = gap in _SPACE_JOINERS or (prev.paren and gap in ("", "-", ".", *_SPACE_JOINERS))
            if not joined or u.paren or u.plus:  # "(" or "+" always starts a new number
                runs.append(current)
                current = []
        current.append(u)
    if current:
        runs.append(current)
    return runs


def _phone_digits_after_prefix(first: _Unit, digits: str) -> int | None:
    """Digits after 0 / 62 / +62 when the number starts like an Indonesian phone, else None."""
    if first.plus:
        if not digits.startswith("62"):
            return None
        rest = digits[2:]
        rest = rest[1:] if rest.startswith("0") else rest  # "+62 0812…" is a common mistake
        return len(rest) if rest[:1] in tuple("23456789") else None
    if digits.startswith("628"):  # bare 62 only for mobiles, e.g. wa.me/6281234567890
        return len(digits) - 2
    if digits.startswith("0") and digits[1:2] in tuple("23456789"):  # mobile 08…, landline 0334…
        return len(digits) - 1
    return None


def _number_candidates(run: list[_Unit]) -> list[Span]:
    out: list[Span] = []
    for i, first in enumerate(run):
        digits = ""
        # Space-joined phone parts are 3+ digits ("0812 3456 7890", "+62 812 …"); this keeps
        # "RT 03 0812…" or "0812 3456 7890 12 orang" from swallowing the neighbouring number.
        phone_parts_ok = True
        for j in range(i, len(run)):
            unit = run[j]
            digits += unit.digits
            if len(digits) > 16:
                break
            if j > i:
                prefix_only = first.plus or first.paren or first.digits == "62"
                if len(unit.digits) < 3 or (len(first.digits) < 3 and not prefix_only):
                    phone_parts_ok = False
            if len(digits) == 16 and not any(u.plus or u.paren for u in run[i : j + 1]):
                out.append(Span(first.start, unit.end, "nik"))
            after = _phone_digits_after_prefix(first, digits)
            if phone_parts_ok and after is not None and _PHONE_MIN <= after <= _PHONE_MAX:
                out.append(Span(first.start, unit.end, "phone"))
    return out


def _candidates(text: str, plates: bool) -> list[Span]:
    spans = [Span(m.start(), m.end(), "email") for m in _EMAIL_RE.finditer(text)]
    for run in _runs(text, _units(text)):
        spans.extend(_number_candidates(run))
    if plates:
        spans.extend(Span(m.start(), m.end(), "plate") for m in _PLATE_RE.finditer(text))
    return spans


def find(text: str, *, plates: bool = False) -> list[Span]:
    """Personal-data spans in `text`, sorted and non-overlapping. Plates only when `plates=True`
    (a plate is personal data only in some complaints, e.g. about a specific vehicle/driver)."""
    if not text:
        return []
    chosen: list[Span] = []
    # Longest first, then the more specific kind; greedy selection gives non-overlapping spans.
    for span in sorted(_candidates(text, plates),
                       key=lambda s: (-(s.end - s.start), _KIND_RANK[s.kind], s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def mask(text: str, *, plates: bool = False) -> str:
    """`text` with every span replaced by its label, e.g. "[NIK disembunyikan]"."""
    out: list[str] = []
    pos = 0
    for span in find(text, plates=plates):
        out.append(text[pos : span.start])
        out.append(LABELS[span.kind])
        pos = span.end
    out.append(text[pos:])
    return "".join(out)


def highlight(text: str, *, plates: bool = False) -> list[tuple[str, str | None]]:
    """Segments (piece, kind or None) covering `text` exactly; "".join(pieces) == text.

    No HTML is built here: the template wraps pieces with a kind in <mark> and autoescapes every piece.
    """
    segments: list[tuple[str, str | None]] = []
    pos = 0
    for span in find(text, plates=plates):
        if span.start > pos:
            segments.append((text[pos : span.start], None))
        segments.append((text[span.start : span.end], span.kind))
        pos = span.end
    if pos < len(text):
        segments.append((text[pos:], None))
    return segments
