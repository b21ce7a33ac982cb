"""Rows in plain SQL (Core text statements, no ORM), shared by the invariant and migration tests.

`complaint_row` builds a consistent complaint for any state from the state sets of app/workflow.py.
The helpers that look up an OPD or an account expect the test accounts and OPDs (tests/conftest.py).
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.workflow import ANSWERED_STATES, CLOSED_STATES, VALIDATED_STATES, Action, Channel, Role, State, Visibility

T0 = datetime(2026, 3, 2, 1, 0)
serial = itertools.count(1)


def insert(conn, table: str, **values) -> int:
    columns = ", ".join(values)
    params = ", ".join(f":{name}" for name in values)
    return conn.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({params}) RETURNING id"), values).scalar_one()


def update(conn, table: str, row_id: int, **values) -> None:
    sets = ", ".join(f"{name} = :{name}" for name in values)
    conn.execute(sa.text(f"UPDATE {table} SET {sets} WHERE id = :row_id"), {**values, "row_id": row_id})


def scalar(conn, sql: str, **params):
    return conn.execute(sa.text(sql), params).scalar()


def opd_id(conn, code: str = "DINKESP2KB") -> int:
    return scalar(conn, "SELECT id FROM opd WHERE code = :code", code=code)


def user_id(conn, username: str) -> int:
    return scalar(conn, "SELECT id FROM ab_user WHERE username = :u", u=username)


def complaint_row(conn, in_state: State = State.MENUNGGU_VERIFIKASI, **changes) -> dict:
    """The columns of a consistent complaint in `in_state` (the sets of app/workflow.py decide which
    times it has), published when validated; `changes` override columns."""
    state = in_state
    n = next(serial)
    row = dict(ticket=f"INV-2026-{n:06d}", pin_hash="x", channel=Channel.WEB.value, name="Warga Uji",
               nik_encrypted="x", nik_hash=f"{n:064d}", opd_id=opd_id(conn), title="Judul", text="Isi pengaduan",
               visibility=Visibility.ANONIM.value, state=state.value, nik_structural_ok=True, submitted_at=T0,
               validation_deadline=T0 + timedelta(hours=24), validation_overdue=False, answer_overdue=False,
               version=1)
    if state is not State.MENUNGGU_VERIFIKASI:
        row["validated_at"] = T0 + timedelta(hours=2)
    if state in VALIDATED_STATES:
        row.update(routed_at=T0 + timedelta(hours=2), answer_deadline=T0 + timedelta(days=9),
                   published_at=T0 + timedelta(hours=2))
    if state in ANSWERED_STATES:
        row["answered_at"] = T0 + timedelta(days=3)
    if state in CLOSED_STATES:
        row["closed_at"] = row.get("answered_at") or row["validated_at"]
    row.update(changes)
    return row


def add_complaint(in_state: State = State.MENUNGGU_VERIFIKASI, **changes):
    return lambda conn: insert(conn, "complaint", **complaint_row(conn, in_state, **changes))


def routed(conn) -> int:
    return insert(conn, "complaint", **complaint_row(conn, State.DITERUSKAN))


def event_row(conn, complaint_id: int, **changes) -> dict:
    return {"complaint_id": complaint_id, "from_state": None, "to_state": State.MENUNGGU_VERIFIKASI.value,
            "action": Action.SUBMIT.value, "actor_id": None, "actor_role": Role.PUBLIK.value, "opd_id": opd_id(conn),
            "at": T0, "note": "Pengaduan diterima.", "public": True, **changes}


def nik_check_row(conn, complaint_id: int, **changes) -> dict:
    return {"complaint_id": complaint_id, "validator_id": user_id(conn, "validator"), "opened_at": T0,
            "decided_at": T0 + timedelta(minutes=5), "structural_ok": True, "siak_verdict": None,
            "result": "valid", "remark": None, **changes}


def routing_row(conn, complaint_id: int, **changes) -> dict:
    return {"complaint_id": complaint_id, "opd_id": opd_id(conn), "routed_at": T0,
            "deadline": T0 + timedelta(days=9), "ended_at": None, "outcome": None, **changes}


_KEYS = itertools.count(1)


def outbox_row(conn, **changes) -> dict:
    """A notice row as the schema of `conn` has it: from migration 0014 on, with its unique, required
    idempotency key (the migration tests seed older revisions too)."""
    columns = {c["name"] for c in sa.inspect(conn).get_columns("outbox")}
    key = {"idempotency_key": f"uji-{next(_KEYS)}"} if "idempotency_key" in columns else {}
    return {**key, "channel": "email", "recipient": "warga@contoh.id", "template": "submitted", "locale": "id",
            "subject": "Subjek", "body": "Isi", "complaint_id": None, "dedupe_key": None, "status": "pending",
            "attempts": 0, "next_attempt_at": T0, "created_at": T0, **changes}


def audit_row(**changes) -> dict:
    return {"at": T0, "kind": "action", "action": "complaint.submit", **changes}


def registry_row(**changes) -> dict:
    return {"nik_hash": f"{next(serial):064d}", "name": "Warga", "status": "aktif", **changes}


def complaint_with_every_part(conn) -> int:
    """A routed complaint with an event, a decision, a hop, an answer with a file, a file of its own,
    a note and a notice."""
    complaint_id = routed(conn)
    insert(conn, "status_event", **event_row(conn, complaint_id))
    insert(conn, "nik_check", **nik_check_row(conn, complaint_id))
    insert(conn, "routing", **routing_row(conn, complaint_id))
    answer_id = insert(conn, "answer", complaint_id=complaint_id, opd_id=opd_id(conn),
                       author_id=user_id(conn, "opd.dinkes"), text="Jawaban", public_text="Jawaban", created_at=T0)
    for answer in (answer_id, None):
        insert(conn, "attachment", complaint_id=complaint_id, answer_id=answer, original_name="a.pdf",
               stored_name=f"inv{next(serial)}.pdf", content_type="application/pdf", size=1, sha256="0" * 64,
               created_at=T0)
    insert(conn, "internal_note", complaint_id=complaint_id, author_id=user_id(conn, "opd.dinkes"), text="Catatan",
           created_at=T0)
    insert(conn, "outbox", **outbox_row(conn, complaint_id=complaint_id))
    return complaint_id


PARTS = ("status_event", "nik_check", "routing", "answer", "attachment", "internal_note", "outbox")
