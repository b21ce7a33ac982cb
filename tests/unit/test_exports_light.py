"""app/exports.py writes openpyxl's ILLEGAL_CHARACTERS_RE out instead of importing openpyxl (30 MB in every
web worker that never builds a workbook). The copy must stay what openpyxl refuses, or an XLSX with a
control character from an old row would fail to save."""

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE as OPENPYXL

from app.exports import ILLEGAL_CHARACTERS_RE, storable


def test_the_copy_is_openpyxls_pattern():
    assert ILLEGAL_CHARACTERS_RE.pattern == OPENPYXL.pattern


def test_every_character_openpyxl_refuses_is_removed():
    refused = [chr(c) for c in range(0x110000) if 0xD800 > c or c > 0xDFFF if OPENPYXL.match(chr(c))]
    assert refused  # the check looks at something
    assert all(storable(f"a{ch}b") == "ab" for ch in refused)
