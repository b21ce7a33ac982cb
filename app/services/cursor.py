"""Keyset paging for every list (portal, desks, history log, outbox, REST): the parameter names, the
opaque cursor and the keyset query.

Names. The next page's cursor is `?setelah=` on every list and `"setelah"` in a REST answer; a REST
client may choose the page size with `?per_halaman=`. There is no "previous" cursor: a keyset list
offers its first page, and the browser's Back button returns to the page before. The names lists
used before are in RENAMED: UI pages redirect them, the REST list still accepts them.

Cursor. A token packs the last row's position, (sort key, id), into URL-safe base64. Tokens come
from the client, so `Keyset.position` refuses anything this module did not make: garbage, a shape
that does not fit the list, an id outside a 64-bit integer (SQLite and PostgreSQL both refuse those),
a time zone. The caller decides what a refusal means (public list: a message; staff desk: page one).

Query. Rows are ordered by (key, id), ties broken by id. A key that may be NULL puts those rows last,
in id order, read by a second query once the others are exhausted, so both halves stay index range
scans on both databases (PostgreSQL and SQLite sort NULLs differently; neither is relied on).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

import sqlalchemy as sa

from app.inputs import ID_MAX  # the input boundary's one id bound (PostgreSQL INTEGER)

NEXT = "setelah"
PER_PAGE = "per_halaman"
# The names lists used before. `after` (OPD desk, dispatch) already carried a cursor token; `sebelum`
# (history log, outbox) and `before` (REST) meant "older than this id" on newest-first lists, i.e. the
# next page, and carried a plain id (`Keyset.token_for_id` turns it into a token); `limit` was REST's
# page size. UI pages redirect them to the current names; the REST list still accepts them.
OLD_TOKEN_NAMES = ("after",)
OLD_ID_NAMES = ("sebelum", "before")
OLD_PER_PAGE_NAMES = ("limit",)
RENAMED = {**{old: NEXT for old in OLD_TOKEN_NAMES + OLD_ID_NAMES}, **{old: PER_PAGE for old in OLD_PER_PAGE_NAMES}}
# The REST list's answer also keeps its old field: the page's last id, for clients that pass `before`.
LEGACY_NEXT_FIELD = "next_before"

TOKEN_MAX = 96  # an encoded ISO time and a 19-digit id fit in 60 characters


def encode(when: datetime | None, ident: int) -> str:
    raw = f"{when.isoformat() if when else ''}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str | None) -> tuple[datetime | None, int] | None:
    """The (time or None, id) a token points at, or None for no token or one this module did not make."""
    if not token or len(token) > TOKEN_MAX:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        when_text, sep, ident_text = raw.partition("|")
        if not sep or not ident_text.isdigit():  # digits only: no sign, blanks or underscores
            return None
        ident = int(ident_text)
        when = datetime.fromisoformat(when_text) if when_text else None
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not 0 < ident <= ID_MAX or (when is not None and when.tzinfo is not None):
        return None  # every stored time is naive UTC; an id past ID_MAX no id column holds
    return when, ident


def legacy_id(value: str | None) -> int | None:
    """An old `before`/`sebelum` value (a plain row id), or None when it is not one."""
    value = (value or "").strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 19:
        return None
    ident = int(value)
    return ident if 0 < ident <= ID_MAX else None


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered: by `key` (a time column; None: by id alone) then `ident`."""

    ident: Any
    key: Any = None
    descending: bool = False
    nullable: bool = False  # the key may be NULL in the listed rows: those come last, by id

    def position(self, token: str | None) -> tuple[datetime | None, int] | None:
        """The position a token points at in this list, or None when it does not fit it."""
        found = decode(token)
        if found is None:
            return None
        when, _ident = found
        if self.key is None and when is not None:
            return None
        if self.key is not None and when is None and not self.nullable:
            return None
        return found

    def token(self, when: datetime | None, ident: int) -> str:
        return encode(when if self.key is not None else None, ident)

    def token_for_id(self, ident: int) -> str | None:
        """The cursor just after row `ident` (from an old id-only link), or None when there is no such row."""
        if self.key is None:
            return self.token(None, ident)
        from ..extensions import db

        found = db.session.execute(sa.select(self.key).where(self.ident == ident)).first()
        return self.token(found[0], ident) if found is not None else None

    def _order(self, query, *columns):
        return query.order_by(None).order_by(*(c.desc() if self.descending else c.asc() for c in columns))

    def _beyond(self, columns: Sequence, values: Sequence):
        row, at = (sa.tuple_(*columns), sa.tuple_(*values)) if len(columns) > 1 else (columns[0], values[0])
        return row < at if self.descending else row > at

    def fetch(self, run: Callable, query, position, size: int, key_of: Callable | None = None):
        """Up to `size` rows after `position` (None: from the start) and the next page's token (None on
        the last page). `run(query)` returns a list of rows; `key_of(row)` gives (key value, id)."""
        key_of = key_of or self._key_of
        if self.key is None:
            if position is not None:
                query = query.where(self._beyond([self.ident], [position[1]]))
            rows = run(self._order(query, self.ident).limit(size + 1))
        elif position is not None and position[0] is None:  # already among the NULL keys
            rows = run(self._order(query.where(self.key.is_(None), self._beyond([self.ident], [position[1]])),
                                   self.ident).limit(size + 1))
        else:
            ranged = query.where(self.key.is_not(None)) if self.nullable else query
            if position is not None:
                ranged = ranged.where(self._beyond([self.key, self.ident], position))
            rows = run(self._order(ranged, self.key, self.ident).limit(size + 1))
            if self.nullable and len(rows) <= size:
                rows += run(self._order(query.where(self.key.is_(None)), self.ident).limit(size + 1 - len(rows)))
        if len(rows) <= size:
            return rows, None
        rows = rows[:size]
        return rows, self.token(*key_of(rows[-1]))

    def _key_of(self, row) -> tuple[datetime | None, int]:
        when = getattr(row, self.key.key) if self.key is not None else None
        return when, getattr(row, self.ident.key)
