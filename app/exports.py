"""Spreadsheet exports shared by every desk: CSV lines and XLSX workbooks safe to open in Excel.

A text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage return would be read by a
spreadsheet as a formula (CSV/formula injection, OWASP). Such text is prefixed with an apostrophe,
which spreadsheets show as plain text. Numbers, dates and booleans stay typed and untouched.

Text is also cleaned of what the formats cannot hold, whatever an old row or a request header brought:
NUL and the other control characters XML 1.0 refuses (openpyxl's ILLEGAL_CHARACTERS_RE, which would make
the XLSX fail), lone surrogates (not encodable as UTF-8: a CSV download would break off mid-stream),
noncharacters and bidirectional controls (`inputs.printable`). Cleaning comes before the formula check,
so "\x00=1+1" is still neutralised.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

from flask import Response, stream_with_context

from .inputs import printable

if TYPE_CHECKING:
    from openpyxl import Workbook

# openpyxl's ILLEGAL_CHARACTERS_RE (openpyxl.cell.cell), written out: importing openpyxl costs each web
# worker 30 MB, which only the workers that build a workbook should pay. tests/unit/test_exports_light.py
# holds it equal to openpyxl's.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def storable(value: Any) -> Any:
    """Text without the characters CSV readers and XLSX cannot hold; anything else unchanged."""
    if not isinstance(value, str):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", printable(value))


def neutralise(value: Any) -> Any:
    """A text value cleaned (`storable`) and, if a spreadsheet would run it as a formula, made inert;
    anything else unchanged."""
    value = storable(value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [neutralise(v) for v in values]


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(value)


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """CSV text, one line at a time (UTF-8 BOM first so Excel reads the accents right)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    writer.writerow([_csv_text(v) for v in header])
    for row in rows:
        writer.writerow([_csv_text(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]], *,
                 needs_context: bool = True) -> Response:
    """A streamed CSV download. With `needs_context` the request stays open while `rows` is read (a lazy
    query on the request's session); rows that need no Flask context (a list, or a generator on its own
    connection) are streamed without holding one."""
    body = csv_lines(header, rows)
    return Response(stream_with_context(body) if needs_context else body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(filename: str, workbook) -> Response:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return Response(buffer.getvalue(), mimetype=XLSX_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "no-store"})


def set_cell(sheet, row: int, column: int, value: Any, number_format: str | None = None):
    """Write one typed cell; text is neutralised and stored as a string, never as a formula."""
    cell = sheet.cell(row=row, column=column)
    value = neutralise(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl would otherwise treat a leading "=" as a formula
    if number_format:
        cell.number_format = number_format
    return cell


def table_workbook(sheet_title: str, title_lines: Sequence[tuple[str, bool]], header: Sequence[str],
                   rows: Sequence[Sequence[Any]], number_formats: Sequence[str | None], *,
                   bold_last_row: bool = False, first_width: int = 48, width: int = 14) -> Workbook:
    """One sheet: a title block (text, bold?), a blank line, a wrapped bold header row, then one typed
    row per entry (`number_formats` per column; the last row bold for a totals row). The first column
    is wide (labels), the header stays in view when scrolling."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = sheet_title
    for i, (text, bold) in enumerate(title_lines, start=1):
        set_cell(sheet, i, 1, text).font = Font(bold=bold, size=12 if bold else 10)
    header_row = len(title_lines) + 2
    for col, text in enumerate(header, start=1):
        cell = set_cell(sheet, header_row, col, text)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    r = header_row
    for r, row in enumerate(rows, start=header_row + 1):
        for col, (value, fmt) in enumerate(zip(row, number_formats), start=1):
            set_cell(sheet, r, col, value, fmt)
    if bold_last_row and r > header_row:
        for col in range(1, len(header) + 1):
            sheet.cell(row=r, column=col).font = Font(bold=True)
    sheet.column_dimensions["A"].width = first_width
    for col in range(2, len(header) + 1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.row_dimensions[header_row].height = 45
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
    return book
