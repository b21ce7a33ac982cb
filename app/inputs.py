"""The one input boundary: every value a person or a system sends us passes here before a rule looks at it.

Forms, the REST schemas, query parameters and every later channel (Open311, the LAPOR! bridge) call the
same functions, so one text means the same thing whichever door it came through:

- text is Unicode-normalised (NFC), line breaks become LF, and leading/trailing blanks go;
- NUL, control characters (tab and line feed are kept in long text only), lone surrogates, noncharacters
  and the bidirectional override/embedding/isolate controls are refused with a message naming the
  character and its position; nothing is silently dropped from what a person wrote;
- a required text is empty when nothing is left after removing whitespace, zero-width and other
  invisible characters (a complaint made of U+200B is no complaint);
- the seal markers U+27E6/U+27E7 become ordinary brackets (`crypto.neutralise_markers`), so nobody can
  type something that reads back as a sealed NIK;
- length limits count characters after normalisation;
- integers and dates are bounded: ids to what an id column holds, dates to 2000-01-01 … 2100-12-31.

Pure: no Flask. Refusals are `Problem`s carrying an untranslated Indonesian template (marked with `N_`
for extraction) and its values; the caller translates with `problem.text(gettext)`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, tzinfo
from typing import Any, Callable, Mapping

from .crypto import neutralise_markers

ID_MAX = 2**31 - 1  # PostgreSQL INTEGER: every id column, and the most a path <int:…> accepts
BIGINT_MAX = 2**63 - 1  # PostgreSQL BIGINT and SQLite INTEGER (the history log's ids)
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2100, 12, 31)

# Characters that look like nothing: a text made only of these (and whitespace) is empty.
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0")
# Explicit bidirectional embeddings, overrides and isolates: they make a text read differently from
# how it is stored ("Trojan Source", CVE-2021-42574). The marks LRM/RLM/ALM stay allowed.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029]")
_INTEGER = re.compile(r"[+-]?[0-9]{1,20}", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def N_(template: str) -> str:
    """Marks a message for extraction (scripts/i18n.py) without translating it here."""
    return template


class Problem(ValueError):
    """One refused value: `code` for programs, an Indonesian template and its values for people."""

    def __init__(self, code: str, template: str, **params: Any):
        self.code = code
        self.template = template
        self.params = params
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def text(self, gettext: Callable[..., str] | None = None) -> str:
        """The message in the caller's language (`flask_babel.gettext`), Indonesian without one."""
        return gettext(self.template, **self.params) if gettext else self.message


# --------------------------------------------------------------------------- characters


def _is_noncharacter(code: int) -> bool:
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def refused_character(text: str, allow: str = "") -> tuple[int, str] | None:
    """(position, character) of the first character no text may hold, or None.

    Refused: control characters (Unicode Cc) other than those in `allow`, lone surrogates, noncharacters
    (U+FFFE, U+FFFF, …) and the bidirectional controls."""
    for index, ch in enumerate(text):
        if ch in allow:
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or ch in BIDI_CONTROLS or (category == "Cn" and _is_noncharacter(ord(ch))):
            return index, ch
    return None


def _character_problem(index: int, ch: str) -> Problem:
    label = f"U+{ord(ch):04X}"
    if ch in "\n\r\t\u2028\u2029":
        return Problem("line", N_("Isian ini harus satu baris, tanpa ganti baris atau tab."))
    if ch == "\x00":
        return Problem("control", N_("Isian berisi karakter NUL (U+0000) pada posisi %(pos)d. Hapus karakter itu "
                                     "lalu kirim lagi."), pos=index + 1)
    if ch in BIDI_CONTROLS:
        return Problem("bidi", N_("Isian berisi karakter pengatur arah teks (%(char)s) pada posisi %(pos)d, yang "
                                  "dapat membuat tulisan terbaca lain dari aslinya. Hapus karakter itu lalu kirim "
                                  "lagi."), char=label, pos=index + 1)
    return Problem("control", N_("Isian berisi karakter kendali yang tidak diizinkan (%(char)s) pada posisi "
                                 "%(pos)d. Hapus karakter itu lalu kirim lagi."), char=label, pos=index + 1)


def is_blank(text: str | None) -> bool:
    """True when nothing visible is left: only whitespace, zero-width/format or invisible characters."""
    return not any(not (ch.isspace() or ch in INVISIBLE or unicodedata.category(ch) in ("Cf", "Cc"))
                   for ch in text or "")


def _strip(text: str) -> str:
    """Blanks and invisible characters removed at both ends (a trailing U+200B is nobody's intent)."""
    def blank(ch: str) -> bool:
        return ch.isspace() or ch in INVISIBLE or unicodedata.category(ch) == "Cf"

    start, end = 0, len(text)
    while start < end and blank(text[start]):
        start += 1
    while end > start and blank(text[end - 1]):
        end -= 1
    return text[start:end]


def clean_text(value: Any, *, limit: int | None = None, multiline: bool = False,
               required: bool = False) -> str | None:
    """A text field as the rules should see it, or None when empty and not required; else `Problem`.

    `multiline` (long texts: complaint, answer, notes) keeps line feeds and tabs; CRLF, CR and the
    Unicode line/paragraph separators become LF. A one-line field refuses line breaks and tabs inside.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise Problem("type", N_("Harus berupa teks."))
    text = _LINE_BREAKS.sub("\n", value) if multiline else value
    # A lone surrogate cannot be normalised (nor stored in UTF-8): refuse it before NFC.
    found = refused_character(text, allow="\n\t" if multiline else "")
    if found is not None and unicodedata.category(found[1]) == "Cs":
        raise _character_problem(*found)
    text = _strip(unicodedata.normalize("NFC", text))
    found = refused_character(text, allow="\n\t" if multiline else "")
    if found is not None:
        raise _character_problem(*found)
    text = neutralise_markers(text)
    if is_blank(text):
        if required:
            raise Problem("required", N_("Wajib diisi."))
        return None
    if limit is not None and len(text) > limit:
        raise Problem("too_long", N_("Maksimal %(max)d karakter (saat ini %(n)d)."), max=limit, n=len(text))
    return text


def printable(value: Any, *, multiline: bool = True) -> Any:
    """`value` with every refused character removed (other values unchanged): for writers that must not
    fail on what an old row or a request header holds (exports, the history log). A one-line value
    (`multiline=False`: a path, a user agent) loses its line breaks and tabs too."""
    allow = "\n\t\r" if multiline else ""
    if not isinstance(value, str) or refused_character(value, allow=allow) is None:
        return value
    return "".join(ch for ch in value if refused_character(ch, allow=allow) is None)


def check_plain(value: str, *, multiline: bool = False) -> None:
    """`Problem` when `value` (a raw query or form value) holds a refused character; nothing is changed."""
    found = refused_character(value, allow="\n\t\r" if multiline else "")
    if found is not None:
        raise _character_problem(*found)


# --------------------------------------------------------------------------- integers and dates


def parse_int(value: Any, *, minimum: int = 0, maximum: int = ID_MAX) -> int | None:
    """An integer within [minimum, maximum] from a query/body value; None when empty; else `Problem`.

    Only ASCII digits with an optional sign (no "1_000", no Arabic-Indic digits, no 1 MB of digits)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise Problem("integer", N_("Harus berupa bilangan bulat."))
    if isinstance(value, str):
        text = value.strip()
        if not _INTEGER.fullmatch(text):
            if re.fullmatch(r"[+-]?[0-9]+", text, re.ASCII):
                raise _range_problem(minimum, maximum)
            raise Problem("integer", N_("Harus berupa bilangan bulat."))
        value = int(text)
    if not minimum <= value <= maximum:
        raise _range_problem(minimum, maximum)
    return value


def _range_problem(minimum: int, maximum: int) -> Problem:
    return Problem("range", N_("Harus bilangan bulat antara %(min)d dan %(max)d."), min=minimum, max=maximum)


def parse_date(value: Any, *, minimum: date = DATE_MIN, maximum: date = DATE_MAX) -> date | None:
    """A calendar date (YYYY-MM-DD) within [minimum, maximum]; None when empty; else `Problem`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date):
        day = value
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise Problem("date", N_("Tanggal tidak valid: tidak ada di kalender (format TTTT-BB-HH).")) from None
    else:
        raise Problem("date", N_("Tanggal tidak valid (format TTTT-BB-HH)."))
    if not minimum <= day <= maximum:
        raise Problem("date_range", N_("Tanggal harus antara %(min)s dan %(max)s."),
                      min=minimum.strftime("%d-%m-%Y"), max=maximum.strftime("%d-%m-%Y"))
    return day


_W3C_DATETIME = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:T([0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?)"
                           r"(Z|[+-][0-9]{2}:[0-9]{2})?)?", re.ASCII)


def parse_w3c_datetime(value: Any, *, local: tzinfo, minimum: date = DATE_MIN,
                       maximum: date = DATE_MAX) -> datetime | None:
    """A W3C date-time (ISO 8601 subset: `2026-01-31`, `2026-01-31T08:15`, `…T08:15:30Z`, `…+07:00`) as an
    aware datetime; one without an offset is read in `local`. None when empty; else `Problem`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _W3C_DATETIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise Problem("datetime", N_("Waktu tidak valid (format W3C, contoh 2026-01-31T08:15:00+07:00)."))
    day, clock, offset = match.groups()
    text = f"{day}T{clock or '00:00'}" + ("+00:00" if offset == "Z" else offset or "")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise Problem("datetime", N_("Waktu tidak valid: tidak ada di kalender.")) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=local)
    if not minimum <= moment.date() <= maximum:
        raise Problem("date_range", N_("Tanggal harus antara %(min)s dan %(max)s."),
                      min=minimum.strftime("%d-%m-%Y"), max=maximum.strftime("%d-%m-%Y"))
    return moment


def first_problem(values: Mapping[str, Any], *, multiline: bool = False) -> tuple[str, Problem] | None:
    """(name, problem) for the first key or value of a query string / form that holds a refused
    character (multi-valued mappings: every value), or None."""
    getlist = getattr(values, "getlist", None)
    for key in values:
        try:
            check_plain(str(key))
        except Problem as problem:
            return str(key), problem
        for item in (getlist(key) if getlist else [values[key]]):
            if isinstance(item, str):
                try:
                    check_plain(item, multiline=multiline)
                except Problem as problem:
                    return str(key), problem
    return None


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def parse_token(value: Any) -> str | None:
    """An idempotency token a form carries back (random URL-safe text, 16-64 characters): None when
    absent, `Problem` when it is anything else (a form we did not render)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not _TOKEN.fullmatch(value.strip()):
        raise Problem("token", N_("Formulir ini tidak lengkap atau sudah diubah. Muat ulang halaman, lalu kirim lagi."))
    return value.strip()
