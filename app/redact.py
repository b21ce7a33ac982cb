"""Find and mask personal data that citizens type into free text (complaint title, text, answers).

Pure Python (no Flask, no HTML): `find` returns spans, `mask` replaces them with labels, `highlight`
returns plain segments so a template can mark them with autoescaping intact.

What is found: NIK and KK (Kartu Keluarga) numbers, both 16 digits with the same layout, reported as "nik";
Indonesian phone numbers ("phone"); e-mail addresses, obfuscated ones included ("email"); vehicle plates
("plate") only when asked.

How text is read. The text is first folded (app/textfold.py, shared with the NIK normaliser app/nik.py):
full-width and other non-ASCII digits become 0-9, every dash "-", every space " ", "＠" "@", invisible
characters vanish. Spans are found in the folded text and mapped back, so they always index the ORIGINAL
text. Digits then form *groups* (maximal runs of 0-9). Two neighbouring groups belong to one number when the
gap between them is a separator: up to 8 characters of whitespace (at most one line break), at most two of
". - / _" and a ")" / "(" pair, e.g. "3508 0112", "3508  0112", "3508 – 0112", "3508/0112", "(0334) 88",
"3508\\n0112". *Units* are groups joined by a single ". - / _" with no space ("12-03-2026", "08.30",
"1.500.000"); a unit that is a date, a time (range) or money, or that follows "Rp"/"IDR" (unless it starts
with 0 or has 16 digits), is never part of a number and separates its neighbours. Every contiguous part of a
chain of joined groups is a candidate:
- "nik": exactly 16 digits, in one group, or in at most 7 groups when the digits are plausible as a NIK/KK
  number (nik.plausible: province code, month, day with +40 for women), or laid out 4-4-4-4 like on the card
  when the number stands alone (it is the whole chain) and is not four years;
- "phone": starting 0[2-9] (a group of 3+ digits), 62 (bare only for mobiles "628…", "62 812…"), +62, with
  parentheses or "(0)"; 8-13 digits after the prefix; or a mobile without its 0 ("812 3456 7890", 9-12
  digits) right after a phone word (HP, WA, telp, hubungi, …). Later groups have 3+ digits, or 2 when tightly
  joined or while the number has fewer than 11 digits ("0812 3398 44 10", "(0334) 88 23 45"), so "0812 3456
  7890 12 orang" keeps "12 orang"; wa.me links hold such a number;
- "email": local@domain.tld; and, with a known top-level domain or a webmail provider, the obfuscations
  "nama @ gmail.com", "nama [at] gmail [dot] com", "nama(at)gmail(dot)com", "nama {at} …", "nama at gmail
  dot com", "titik" for "dot"; "nama@gmail" without a domain for the big webmail providers.
Overlapping candidates are settled by covering as much text as possible (weighted interval scheduling), then
by fewer spans, then by kind (email > nik > phone > plate): a 16-digit NIK beats the phone-looking tail inside
it, and two phone numbers beat a bogus 16-digit window across both. Linear in the text (O(n log n) for the
choice): no regular expression can backtrack over more than a few dozen characters, each group starts at
most one NIK window and a few phone numbers, and e-mail is only looked for where an "at" form stands.

Deliberately left alone (look-alikes): ticket codes ("LMJ-2026-000123"); dates ("12-03-2026", "2026-03-12",
"12/03/2026", "12.03.26"); times ("08.30", "08:30", "08.30-10.00"); money ("Rp 1.500.000", "1.500.000",
"Rp1,5 juta", "Rp 62 500 000"); RT/RW ("RT 03/RW 05", "RT.03 RW.05"); years, house numbers ("No. 12"),
kilometres ("KM 12"), counts ("30 orang"), postcodes. NIP (18-digit civil-servant numbers, "19850312 201001
1 003") are left alone on purpose: an official's NIP is printed on every letter they sign, and a complaint
about an officer may need it.

Intentionally NOT caught (documented so nobody assumes otherwise):
- numbers spelled out ("nol delapan satu dua…"), written digit by digit ("0 8 1 2 …", more than 7 groups for
  a NIK or 1-digit phone groups), with commas ("3508,0112,…"), split by words ("3508 lalu 0112"), or across a
  blank line; letters typed for digits ("35O8…" with the letter O);
- a NIK whose date part is written as a date inside spaces ("3508 01 12-03-90 0001": "12-03-90" reads as a
  date), a multi-group 16-digit number that is neither plausible nor 4-4-4-4 (a mistyped NIK), numbers of
  15 or 17 digits (a NIK with a digit missing or added), bank account, BPJS, NPWP and card numbers unless they
  look like a NIK;
- e-mail written with other words ("budi pada gmail"), a comma for the dot, spaces around a plain dot
  ("gmail . com"), an obfuscated address with an unknown top-level domain, non-ASCII letters in the address;
  social-media handles ("@budi");
- phone numbers without a leading 0 / 62 / +62 unless a phone word stands right before ("nomor 812 3456
  7890"), short numbers (< 8 digits after the prefix), foreign numbers, letters for digits ("O812…");
- names, addresses, birth dates: these need human judgement (the validator/moderator does that);
- any 16-digit number written in one group is reported as "nik", even a bank card: that is personal too.

Known false positives (masked although not personal; rare in complaints, the validator can edit the public
version): English "at" before a known domain ("meet at gmail.com"), a handle with dots after a spaced "@"
that ends in a known top-level domain ("ke @pemkab.lumajang.go.id"), a list of numbers that adds up to 16
digits in a plausible NIK layout, a lone 4-4-4-4 number that is not a NIK, a 2-digit count right after a
10-digit landline ("0334 881234 12 orang").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Collection
from dataclasses import dataclass
from itertools import accumulate

from .nik import PROVINCE_CODES, plausible as plausible_nik
from .textfold import fold

__all__ = ["Span", "LABELS", "find", "mask", "highlight"]

LABELS: dict[str, str] = {
    "nik": "[NIK disembunyikan]",  # NIK and KK numbers: the same layout, both personal
    "phone": "[nomor telepon disembunyikan]",
    "email": "[e-mail disembunyikan]",
    "plate": "[nomor polisi disembunyikan]",
}
# Internally a candidate is (end, start, rank): tuples sort natively, and the rank breaks ties between kinds.
_KINDS = ("email", "nik", "phone", "plate")
_EMAIL, _NIK, _PHONE, _PLATE = range(4)


@dataclass(frozen=True)
class Span:
    start: int
    end: int  # exclusive, like slicing: text[start:end]
    kind: str  # "nik" | "phone" | "email" | "plate"


# --------------------------------------------------------------------------- numbers

_SPLIT_RE = re.compile(r"([0-9]+)")
_BREAK, _TIGHT, _LOOSE = 0, 1, 2
_MAX_GAP = 8
_LOOSE_GAP_RE = re.compile(r"[ \t\r\n]*\)?[ \t\r\n]*(?:[.\-/_]{1,2}[ \t\r\n]*)?\(?[ \t\r\n]*")
_DAY, _MONTH = r"(?:0?[1-9]|[12][0-9]|3[01])", r"(?:0?[1-9]|1[0-2])"
_TIME = r"(?:[01]?[0-9]|2[0-3])\.[0-5][0-9]"
# A unit (groups joined by one ". - / _") that is a date, a time (range) or money is not an identifier.
_NOT_AN_ID_RE = re.compile(
    rf"{_DAY}([.\-/]){_MONTH}\1(?:[0-9]{{2}}|[0-9]{{4}})"  # 12-03-2026, 12/03/2026, 12.03.26
    rf"|[0-9]{{4}}([.\-/]){_MONTH}\2{_DAY}"  # 2026-03-12
    rf"|{_TIME}(?:-{_TIME})?"  # 08.30, 08.30-10.00
    r"|[1-9][0-9]{0,2}(?:\.[0-9]{3})+"  # 1.500.000 (phones start with 0, so never look like this)
)
_CURRENCY_RE = re.compile(r"(?:^|(?<=[^A-Za-z]))(?:rp|idr)\.?[ \t]{0,2}$", re.IGNORECASE)
_PHONE_MIN, _PHONE_MAX = 8, 13  # digits after the 0 / 62 / +62 prefix
_PHONE_LEAD, _MOBILE_LEAD = frozenset("23456789"), frozenset("8")
_MOBILE_BARE_MIN, _MOBILE_BARE_MAX = 9, 12  # "812 3456 7890" without 0 / 62, only right after a phone word
_PHONE_WORD_RE = re.compile(
    r"\b(?:hp|no\.?\s?hp|wa|whatsapp|telp|telpon|telepon|tlp|ponsel|handphone|kontak|hubungi)\b[\s:.\-/=]{0,4}$",
    re.IGNORECASE)
_NIK_MAX_GROUPS = 7
_YEAR_RE = re.compile(r"(?:19|20)[0-9]{2}")


def _gap_kind(gap: str) -> int:
    if len(gap) == 1:
        return _TIGHT if gap in ".-/_" else _LOOSE if gap in " \t\r\n()" else _BREAK
    if len(gap) > _MAX_GAP or gap.count("\n") > 1 or not _LOOSE_GAP_RE.fullmatch(gap):
        return _BREAK
    return _LOOSE


class _GapKinds(dict):
    """gap text -> kind, memoised: the same few short gaps (" ", "-", ", ", ". ") come back all the time."""

    def __missing__(self, gap: str) -> int:
        if len(gap) > _MAX_GAP:
            return _BREAK  # not kept: a long gap is a paragraph between two numbers
        if len(self) > 4096:
            self.clear()
        value = self[gap] = _gap_kind(gap)
        return value


_GAP_KINDS = _GapKinds()


def _nik_layout(parts: list[str], alone: bool) -> bool:
    if len(parts) == 1 or plausible_nik("".join(parts)):
        return True
    # 4-4-4-4 is how a NIK is printed and usually typed, even when mistyped: accepted when the number stands
    # alone (not a window of a longer run of groups) and is not a list of four years.
    return (alone and [len(p) for p in parts] == [4, 4, 4, 4]
            and not all(_YEAR_RE.fullmatch(p) for p in parts))


class _Numbers:
    """Number candidates (end, start, rank) of one folded text."""

    def __init__(self, text: str):
        self.text = text
        pieces = _SPLIT_RE.split(text)  # [gap, digits, gap, digits, …, gap]: all the slicing done in C
        self.digits = pieces[1::2]
        self.gaps = pieces[0::2]  # gaps[i] precedes digits[i]; gaps[-1] ends the text
        self.starts: list[int] = []
        self.ends: list[int] = []
        pos = 0
        starts, ends = self.starts, self.ends
        for gap, digits in zip(self.gaps, self.digits):
            pos += len(gap)
            starts.append(pos)
            pos += len(digits)
            ends.append(pos)
        self.out: list[tuple[int, int, int]] = []

    def candidates(self) -> list[tuple[int, int, int]]:
        n = len(self.digits)
        if n == 0:
            return self.out
        kinds = [_BREAK] + list(map(_GAP_KINDS.__getitem__, self.gaps[1:n]))
        cum = [0]
        cum += accumulate(map(len, self.digits))  # cum[i]: digits before group i
        first = 0
        for i in [i for i, k in enumerate(kinds) if k == _BREAK][1:] + [n]:
            if cum[i] - cum[first] >= _PHONE_MIN:
                self._chain(first, i, kinds, cum)
            first = i
        return self.out

    def _chain(self, first: int, stop: int, kinds: list[int], cum: list[int]) -> None:
        """Groups first..stop-1 are joined: drop the units that are dates, times or money, then look."""
        text, starts, ends, digits = self.text, self.starts, self.ends, self.digits
        keep_from = first
        i = first
        while i < stop:
            j = i
            while j + 1 < stop and kinds[j + 1] == _TIGHT:
                j += 1
            s = starts[i]
            # After "Rp"/"IDR" comes an amount; but never one that starts with 0 or has 16 digits in a row
            # ("Rp.3508011203900001" is a NIK typed after a price, not 3.5 quadrillion rupiah).
            if text[s - 1:s] in (" ", "\t", ".", "p", "P", "R", "r") and digits[i][0] != "0" \
                    and len(digits[i]) < 16 and _CURRENCY_RE.search(text, max(0, s - 6), s):
                # "Rp 62 500 000": thousands written with spaces belong to the amount.
                while j + 1 < stop and len(digits[j + 1]) == 3 and self.gaps[j + 1] == " ":
                    j += 1
                blocked = True
            else:
                blocked = j > i and _NOT_AN_ID_RE.fullmatch(text, s, ends[j]) is not None
            if blocked:
                if cum[i] - cum[keep_from] >= _PHONE_MIN:
                    self._look(keep_from, i, kinds, cum)
                keep_from = j + 1
            i = j + 1
        if cum[stop] - cum[keep_from] >= _PHONE_MIN:
            self._look(keep_from, stop, kinds, cum)

    def _look(self, first: int, stop: int, kinds: list[int], cum: list[int]) -> None:
        text, starts, ends, digits, out = self.text, self.starts, self.ends, self.digits, self.out
        at = {cum[i]: i for i in range(first, stop + 1)}  # digit count -> group index (counts only grow)
        # Groups a phone number may not continue with (see _phones): 1 digit, or 2 digits after a space.
        short = [i for i in range(first, stop)
                 if len(digits[i]) < 3 and not (len(digits[i]) == 2 and kinds[i] == _TIGHT)]
        for k in range(first, stop):
            # NIK / KK: the groups from k that add up to exactly 16 digits.
            j = at.get(cum[k] + 16)
            if j is not None and j - k <= _NIK_MAX_GROUPS and text[starts[k] - 1:starts[k]] != "+":
                alone = k == first and j == stop
                # Cheap test first (a province code, or a lone 4-4-4-4): most windows of long runs fail it.
                maybe = j == k + 1 or (digits[k] + digits[k + 1])[:2] in PROVINCE_CODES or (alone and j == k + 4)
                if maybe and _nik_layout(digits[k:j], alone):
                    out.append((ends[j - 1], starts[k], _NIK))
            lead = digits[k]
            if len(lead) >= 3 and lead[0] in "08" or lead[:2] == "62":
                self._phones(k, stop, cum, short)

    def _phones(self, k: int, stop: int, cum: list[int], short: list[int]) -> None:
        text, starts, ends, digits = self.text, self.starts, self.ends, self.digits
        lead = digits[k]
        plus = text[starts[k] - 1:starts[k]] == "+"
        head = "".join(digits[k:k + 3])[:4]  # enough to read the prefix: "0812", "6281", "+62 (0) 8"
        if head.startswith("62"):
            prefix = 3 if head[2:3] == "0" else 2  # "+62 0812…", "+62 (0) 812…": a common mistake
            if head[prefix:prefix + 1] not in (_PHONE_LEAD if plus else _MOBILE_LEAD):  # bare 62: mobiles only
                return
            low, high = prefix + _PHONE_MIN, prefix + _PHONE_MAX
        elif not plus and head[:1] == "0" and head[1:2] in _PHONE_LEAD:  # mobile 08…, landline 0334…
            low, high = 1 + _PHONE_MIN, 1 + _PHONE_MAX
        elif not plus and head[:1] == "8" and _PHONE_WORD_RE.search(text, max(0, starts[k] - 20), starts[k]):
            low, high = _MOBILE_BARE_MIN, _MOBILE_BARE_MAX  # "WA 812-3456-7890": the 0 left out
        else:
            return
        start = starts[k] - plus
        if text[start - 1:start] == "(" and text[ends[k]:ends[k] + 1] == ")":
            start -= 1  # "(0334) 881234", "(+62) 812…"
        # The number runs up to the first group it may not continue with: one of 1 digit, or of 2 digits after
        # a space once it has 11 digits ("0812 3398 44 10" and "(0334) 88 23 45" are numbers, but "0812 3456
        # 7890 12 orang" keeps "12 orang"); right after a bare "62" anything goes ("+62 (0) 812…").
        b = bisect_left(short, k + 2 if lead == "62" else k + 1)
        while b < len(short) and len(digits[short[b]]) == 2 and cum[short[b]] - cum[k] < 11:
            b += 1
        barrier = short[b] if b < len(short) else stop
        # Ends j whose digit count cum[j + 1] - cum[k] is in [low, high].
        first_end = bisect_left(cum, cum[k] + low, k + 1, barrier + 1)
        last_end = bisect_right(cum, cum[k] + high, k + 1, barrier + 1)
        for j in range(first_end - 1, last_end - 1):
            self.out.append((ends[j], start, _PHONE))


# --------------------------------------------------------------------------- e-mail

_LOCAL_CHARS = r"a-z0-9._%+\-"
_OPEN, _CLOSE, _SP = r"[\[({<]", r"[\])}>]", r"[ \t]"
# Where an address can be: "@", and the written-out forms "[at]", "(at)", "{at}", "[@]", " at ".
_AT_RE = re.compile(
    rf"{_SP}{{0,3}}(?:@|{_OPEN}{_SP}{{0,2}}(?:at|@){_SP}{{0,2}}{_CLOSE}){_SP}{{0,3}}|{_SP}{{1,3}}at{_SP}{{1,3}}",
    re.IGNORECASE)
_LOCAL_RE = re.compile(rf"(?<![{_LOCAL_CHARS}])[{_LOCAL_CHARS}]{{1,64}}$", re.IGNORECASE)
_DOT = (rf"(?:\.|{_SP}{{0,3}}{_OPEN}{_SP}{{0,2}}(?:dot|titik|\.){_SP}{{0,2}}{_CLOSE}{_SP}{{0,3}}"
        rf"|{_SP}{{1,3}}(?:dot|titik){_SP}{{1,3}})")
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_END = r"(?![a-z0-9\-])"
_KNOWN_TLD = ("com|net|org|id|info|biz|io|me|co|edu|gov|mil|xyz|online|site|app|dev|email|web|my|sg|au|uk|us"
              "|jp|nl|de")
_PROVIDER = (r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|icloud|rocketmail)"
             r"(?![a-z0-9\-]|\.[a-z0-9])")
_DOMAIN_RE = re.compile(rf"(?:{_LABEL}{_DOT}){{1,10}}[a-z]{{2,24}}{_END}|{_PROVIDER}", re.IGNORECASE)
# An obfuscated address must end in a known top-level domain (or be a webmail provider): "ikuti
# @dinas.kesehatan" is an Instagram handle, "budi [at] gmail [dot] com" is an address.
_KNOWN_DOMAIN_RE = re.compile(rf"(?:{_LABEL}{_DOT}){{1,10}}(?:{_KNOWN_TLD}){_END}|{_PROVIDER}", re.IGNORECASE)


def _emails(text: str) -> list[tuple[int, int, int]]:
    out = []
    for at in _AT_RE.finditer(text):
        local = _LOCAL_RE.search(text, max(0, at.start() - 64), at.start())
        if local is None:
            continue
        domain = (_DOMAIN_RE if at.group() == "@" else _KNOWN_DOMAIN_RE).match(text, at.end())
        if domain is not None:
            out.append((domain.end(), local.start(), _EMAIL))
    return out


# --------------------------------------------------------------------------- plates

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


# --------------------------------------------------------------------------- choosing


def _select(candidates: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The non-overlapping subset covering the most characters; then fewer spans; then the better kinds.

    Weighted interval scheduling over (end, start, rank) candidates, in order of their end."""
    candidates = sorted(set(candidates))
    ends = [c[0] for c in candidates]
    best = [0]  # best[i]: the best score using the first i candidates
    back = []  # back[i]: where the best choice of the first i+1 candidates continues, or -1 (not taken)
    for i, (end, start, rank) in enumerate(candidates):
        p = bisect_right(ends, start, 0, i)
        score = best[p] + (end - start) * 1000 - 10 - rank
        if score > best[i]:
            best.append(score)
            back.append(p)
        else:
            best.append(best[i])
            back.append(-1)
    chosen = []
    i = len(candidates)
    while i > 0:
        if back[i - 1] >= 0:
            chosen.append(candidates[i - 1])
            i = back[i - 1]
        else:
            i -= 1
    chosen.reverse()
    return chosen


def find(text: str, *, plates: bool = False, kinds: Collection[str] | None = None) -> list[Span]:
    """Personal-data spans in `text` (indexes into `text` itself), sorted and non-overlapping.

    Plates only when `plates=True` (a plate is personal data only in some complaints, e.g. about a specific
    vehicle/driver). `kinds` restricts what is looked for, e.g. {"nik"}."""
    if not text:
        return []
    folded = fold(text)
    flat = folded.text
    candidates = _Numbers(flat).candidates() + _emails(flat)
    if plates:
        candidates += [(m.end(), m.start(), _PLATE) for m in _PLATE_RE.finditer(flat)]
    if kinds is not None:
        wanted = {_KINDS.index(k) for k in kinds}
        candidates = [c for c in candidates if c[2] in wanted]
    spans: list[Span] = []
    for end, start, rank in _select(candidates):
        start, end = folded.span(start, end)
        if spans and start < spans[-1].end:  # two spans inside one expanded character: keep one
            spans[-1] = Span(spans[-1].start, max(end, spans[-1].end), spans[-1].kind)
        else:
            spans.append(Span(start, end, _KINDS[rank]))
    return spans


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
