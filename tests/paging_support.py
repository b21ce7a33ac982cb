"""Following a list's pages the way a browser or an API client does: by the links the page gives."""

from __future__ import annotations

import html
import re
from typing import Callable

from app.services import cursor

NEXT_LINK = re.compile(r'<a rel="next"[^>]*\shref="([^"]+)"')


def next_url(body: str) -> str | None:
    """The href of the page's rel="next" link, or None on the last page."""
    found = NEXT_LINK.search(body)
    return html.unescape(found.group(1)) if found else None


def walk_html(client, url: str, items: Callable[[str], list], max_pages: int = 100) -> tuple[list, list[str]]:
    """Every item of every page from `url` on, following the next links; and the URLs visited."""
    seen, urls = [], []
    while url:
        assert len(urls) < max_pages, "the next links never end"
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        seen += items(body)
        urls.append(url)
        url = next_url(body)
    return seen, urls


def walk_json(client, url: str, headers: dict, max_pages: int = 100) -> tuple[list[dict], list[str]]:
    """Every row of a REST list, passing each answer's cursor as the next request's ?setelah=."""
    seen, urls = [], []
    while url:
        assert len(urls) < max_pages, "the cursors never end"
        response = client.get(url, headers=headers)
        assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True))
        body = response.get_json()
        seen += body["result"]
        urls.append(url)
        token = body[cursor.NEXT]
        url = None if token is None else _with_cursor(urls[0], token)
    return seen, urls


def _with_cursor(url: str, token: str) -> str:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != cursor.NEXT]
    return urlunsplit(parts._replace(query=urlencode(query + [(cursor.NEXT, token)])))


# --------------------------------------------------------------------------- fast seeding (one INSERT each)


def insert_rows(model, rows: list[dict]) -> list[int]:
    """Insert `rows` into `model`'s table in one statement and commit; their ids, in the order given."""
    import sqlalchemy as sa

    from app.extensions import db

    table = model.__table__
    keys = sorted({k for r in rows for k in r})
    values = [{k: r.get(k) for k in keys} for r in rows]  # executemany wants the same keys in every row
    ids = list(db.session.scalars(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), values))
    db.session.commit()
    return ids


def complaint_row(n: int, opd_id: int, state, **values) -> dict:
    """A complaint row as the services would leave it in `state` (times and flags given in `values`)."""
    from app.timeutil import utcnow
    from app.workflow import Visibility

    now = utcnow()
    sealed = _sealed()
    row = dict(ticket=f"LMJ-2099-{n:06d}", pin_hash="tidak-dipakai", channel="web", name="Warga Uji",
               nik_encrypted=sealed, nik_hash=f"{n:064d}", opd_id=opd_id, title=f"Pengaduan uji {n}",
               text=f"Isi pengaduan uji nomor {n}.", public_title=f"Pengaduan uji {n}",
               public_text=f"Isi pengaduan uji nomor {n}.", visibility=Visibility.ANONIM, state=state,
               nik_structural_ok=True, submitted_at=now, validation_deadline=now, validation_overdue=False,
               answer_overdue=False, version=1)
    row.update(values)
    # The times the invariants (app/models.py, migration 0010) require of a row in `state`, where not given.
    from datetime import timedelta

    from app.workflow import State

    state = State(state)
    if state is not State.MENUNGGU_VERIFIKASI:
        row.setdefault("validated_at", min(v for v in (row.get("routed_at"), row.get("published_at"), now) if v))
    if state in (State.DITERUSKAN, State.PERLU_DISPOSISI, State.DIJAWAB, State.SELESAI):
        row.setdefault("routed_at", row["validated_at"])
        row.setdefault("answer_deadline", row["routed_at"] + timedelta(days=7))
    if state in (State.DIJAWAB, State.SELESAI):
        row.setdefault("answered_at", row["routed_at"])
    if state in (State.TIDAK_VALID, State.DIJAWAB, State.SELESAI):
        row.setdefault("closed_at", row.get("answered_at") or row["validated_at"])
    return row


_SEALED: dict[str, str] = {}


def _sealed() -> str:
    from app.services.complaints import cipher
    from tests.conftest import VALID_NIK

    if "nik" not in _SEALED:
        _SEALED["nik"] = cipher().encrypt(VALID_NIK)
    return _SEALED["nik"]
