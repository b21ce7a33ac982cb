"""The keyset cursor codec (services/cursor.py): a token only ever decodes to a position both
databases can compare against, and the paging names are defined once."""

from __future__ import annotations

import base64
import io
import re
import tokenize
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import cursor

APP = Path(__file__).resolve().parents[2] / "app"


def _token(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("when,ident", [
    (datetime(2026, 3, 1, 2, 0, 0, 123456), 1), (datetime.max, cursor.ID_MAX), (datetime(1, 1, 1), 7), (None, 42)])
def test_a_token_decodes_to_the_position_it_was_made_from(when, ident):
    token = cursor.encode(when, ident)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)  # URL-safe, no padding
    assert cursor.decode(token) == (when, ident)


@pytest.mark.parametrize("token", [
    None, "", "bukan-kursor", "%%%", "A" * 500, "\x00", "gAAAA", _token("|"), _token("2026-01-01"),
    _token("2026-01-01T00:00:00|"), _token("2026-01-01T00:00:00|abc"), _token("2026-01-01T00:00:00|-5"),
    _token("2026-01-01T00:00:00|+5"), _token("2026-01-01T00:00:00| 5"), _token("2026-01-01T00:00:00|5_0"),
    _token("2026-01-01T00:00:00|0"), _token(f"2026-01-01T00:00:00|{2**63}"), _token(f"|{2**64}"), _token(f"|{cursor.ID_MAX + 1}"),
    _token("2026-01-01T00:00:00|" + "9" * 5000), _token("10000-01-01T00:00:00|5"), _token("2026-13-01|5"),
    _token("2026-01-01T00:00:00+07:00|5"), _token("2026-01-01T00:00:00Z|5"), _token("2026\x00|5"),
    "4pyT", base64.urlsafe_b64encode(b"\xff\xfe|5").decode(),
])
def test_anything_else_decodes_to_nothing(token):
    assert cursor.decode(token) is None


def test_a_keyset_refuses_a_token_of_another_shape():
    timed = cursor.Keyset(ident=sa.column("id"), key=sa.column("at"))
    nullable = cursor.Keyset(ident=sa.column("id"), key=sa.column("at"), nullable=True)
    by_id = cursor.Keyset(ident=sa.column("id"))
    at = datetime(2026, 1, 1)
    assert timed.position(cursor.encode(at, 3)) == (at, 3)
    assert timed.position(cursor.encode(None, 3)) is None  # this list's keys are never NULL
    assert nullable.position(cursor.encode(None, 3)) == (None, 3)
    assert by_id.position(cursor.encode(None, 3)) == (None, 3)
    assert by_id.position(cursor.encode(at, 3)) is None
    assert by_id.token(at, 3) == cursor.encode(None, 3)


@pytest.mark.parametrize("value,ident", [("12", 12), (" 12 ", 12), ("0", None), ("-1", None), ("1e3", None),
                                         ("²", None), (str(2**31 - 1), 2**31 - 1), (str(2**31), None), (str(2**63), None), ("9" * 30, None), ("", None), (None, None)])
def test_an_old_id_cursor_is_a_positive_id_an_integer_column_holds(value, ident):
    assert cursor.legacy_id(value) == ident


def test_each_paging_name_is_written_once():
    """Services, views, API and templates use the constants; a list that writes a name itself fails here."""
    names = {cursor.NEXT, cursor.PER_PAGE, cursor.LEGACY_NEXT_FIELD, *cursor.RENAMED}
    # In Python only the Indonesian names: "after", "before" and "limit" are ordinary words there.
    python_names = names - {"after", "before", "limit"}
    home = APP / "services" / "cursor.py"
    found = []
    for path in APP.rglob("*.py"):
        if path == home:
            continue
        tokens = list(tokenize.generate_tokens(io.StringIO(path.read_text()).readline))
        for i, tok in enumerate(tokens):
            if tok.type == tokenize.STRING and tok.string.strip("\"'") in python_names and len(tok.string) <= 16:
                found.append(f"{path.relative_to(APP)}:{tok.start[0]} {tok.string}")
            if tok.type == tokenize.NAME and tok.string in python_names and i + 1 < len(tokens) \
                    and tokens[i + 1].string == "=" and i and tokens[i - 1].string in ("(", ","):
                found.append(f"{path.relative_to(APP)}:{tok.start[0]} {tok.string}=")
    pattern = re.compile(r"""(?<![\w-])(?:["'](%s)["']|(%s)\s*=)""" % ("|".join(names), "|".join(names)))
    for path in (APP / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for expression in re.findall(r"\{[{%](.*?)[}%]\}", line):
                if pattern.search(expression):
                    found.append(f"{path.relative_to(APP)}:{number} {expression.strip()}")
    assert found == []
