"""How the personal-data detector (app/redact.py) and the NIK normaliser (app/nik.py) read characters.

One definition for both, so a NIK the public form accepts is also a NIK the masker finds in free text.
Pure Python, no imports from the app.

`fold(text)` maps look-alike characters to the ASCII ones the detector reasons about, keeping an index map
back to the original text (spans found in the folded text are cut from the original):

- every Unicode decimal digit becomes 0-9 (full-width "３５０８", Arabic-Indic, Devanagari, …);
- every dash (Unicode category Pd: hyphen, en dash, em dash, figure dash, …) and the minus signs become "-";
- every space (category Zs: NBSP, narrow NBSP, figure space, ideographic space, …) becomes " ", the Unicode
  line and paragraph separators become "\\n";
- invisible format characters (category Cf: zero-width space/joiners, soft hyphen, BOM, bidi marks) vanish;
- the fraction and division slashes become "/";
- everything else goes through NFKC, so full-width "＠", "．", "／", "（", "＿", "Ａ" become "@", ".", "/",
  "(", "_", "A".

ASCII text is returned as it is (the common case costs one `str.isascii`).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right

__all__ = ["Folded", "fold", "SEPARATORS", "strip_separators"]

# What may stand between the digit groups of one number once the text is folded: any whitespace (spaces,
# tabs, line breaks), dots, hyphens (every dash folds to "-"), slashes, underscores and parentheses.
SEPARATORS = " \t\r\n\f\v.-/_()"
_SEPARATORS_RE = re.compile(r"[\s.\-/_()]+")
_EXTRA = {"\u2212": "-", "\u2043": "-", "\u02d7": "-", "\u2796": "-", "\u2044": "/", "\u2215": "/",
          "\u2028": "\n", "\u2029": "\n", "\u0085": "\n"}


def _fold_one(ch: str) -> str:
    if ch in _EXTRA:
        return _EXTRA[ch]
    decimal = unicodedata.decimal(ch, None)
    if decimal is not None:
        return str(decimal)
    category = unicodedata.category(ch)
    if category == "Pd":
        return "-"
    if category == "Zs":
        return " "
    if category == "Cf":
        return ""
    return ch


def _fold_char(ch: str) -> str:
    folded = _fold_one(ch)
    if folded != ch or ch.isascii():
        return folded
    # NFKC may give several characters, and a dash or digit that still needs the rules above.
    return "".join(_fold_one(c) for c in unicodedata.normalize("NFKC", ch))


class _Table(dict):
    """ord -> folded string, filled on first use; also usable by str.translate."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_char(chr(code))
        return value


_TABLE = _Table()


class Folded:
    """The folded text and where each of its characters came from in the original."""

    __slots__ = ("text", "_fstart", "_ostart", "_linear")

    def __init__(self, text: str, fstart: list[int], ostart: list[int], linear: list[bool]):
        self.text = text
        # Piecewise map: from folded position _fstart[i] on, original = _ostart[i] + offset when linear, or
        # _ostart[i] for every character of an expansion (one original character folded into several).
        self._fstart, self._ostart, self._linear = fstart, ostart, linear

    def start(self, pos: int) -> int:
        """Original index of the folded character at `pos`."""
        i = bisect_right(self._fstart, pos) - 1
        return self._ostart[i] + (pos - self._fstart[i] if self._linear[i] else 0)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the folded slice [start, end), end exclusive, end > start."""
        if len(self._fstart) == 1:  # nothing vanished or expanded: positions are the same
            return start, end
        return self.start(start), self.start(end - 1) + 1


def fold(text: str) -> Folded:
    if text.isascii():
        return Folded(text, [0], [0], [True])
    odd = "".join(c for c in set(text) if len(_TABLE[ord(c)]) != 1)  # vanish or expand
    folded = text.translate(_TABLE)  # one pass in C; ASCII maps to itself through the same table
    if not odd:
        return Folded(folded, [0], [0], [True])  # one for one: positions do not move
    fstart, ostart, linear = [0], [0], [True]
    shift = 0  # folded position minus original position, so far
    for m in re.finditer("[" + re.escape(odd) + "]", text):
        o = m.start()
        f = o + shift
        size = len(_TABLE[ord(m.group())])
        if size:  # every folded character of an expansion comes from this one original character
            _segment(fstart, ostart, linear, f, o, False)
        shift += size - 1
        _segment(fstart, ostart, linear, f + size, o + 1, True)
    return Folded(folded, fstart, ostart, linear)


def _segment(fstart: list[int], ostart: list[int], linear: list[bool], f: int, o: int, is_linear: bool) -> None:
    if fstart[-1] == f:  # the previous segment is empty (after a vanished character): replace it
        fstart[-1], ostart[-1], linear[-1] = f, o, is_linear
    else:
        fstart.append(f)
        ostart.append(o)
        linear.append(is_linear)


def strip_separators(text: str) -> str:
    """The folded text without any separator: what rule 1 of NIK.md compares with 16 digits."""
    return _SEPARATORS_RE.sub("", fold(text).text)
