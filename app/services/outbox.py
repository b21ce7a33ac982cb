"""Delivery of the outbox (run by the scheduler, never by a web request) and its admin use cases.

Delivery in three short steps, so no transaction stays open while a mail server or gateway answers:
1. claim: one UPDATE … RETURNING takes up to `limit` due rows (on PostgreSQL the inner SELECT uses
   FOR UPDATE SKIP LOCKED, so two deliverers never take the same row), counts the attempt and moves
   `next_attempt_at` a lease ahead — if the process dies mid-send, the row is simply due again later;
2. send, outside any transaction (notify.send_email / send_webhook);
3. record: sent, or retried with exponential backoff, or `dead` after OUTBOX_MAX_ATTEMPTS attempts.
Delivery is at-least-once: a crash between 2 and 3 can send a message twice, never lose it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit, notify
from ..extensions import db
from ..models import OUTBOX_STATUSES, Complaint, Outbox
from ..timeutil import utcnow
from ..workflow import Role
from . import cursor
from .common import Actor, Forbidden, Invalid, NotFound, unit_of_work

LEASE = timedelta(minutes=5)
STATUSES = OUTBOX_STATUSES  # the database refuses any other (ck_outbox_status)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: base, 2 x base, 4 x base … up to the cap."""
    config = current_app.config
    base = float(config.get("OUTBOX_BACKOFF_SECONDS", 60))
    cap = float(config.get("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600))
    return timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _claim(now: datetime, limit: int, channels: list[str]) -> list[notify.Message]:
    due = (sa.select(Outbox.id)
           .where(Outbox.status == "pending", Outbox.next_attempt_at <= now, Outbox.channel.in_(channels))
           .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
           .with_for_update(skip_locked=True))  # ignored by SQLite, where writers are serialised anyway
    with unit_of_work():
        ids = db.session.scalars(
            sa.update(Outbox).where(Outbox.id.in_(due.scalar_subquery()), Outbox.status == "pending")
            .values(attempts=Outbox.attempts + 1, next_attempt_at=now + LEASE).returning(Outbox.id),
            execution_options={"synchronize_session": False}).all()
        rows = db.session.scalars(sa.select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.id)).all() if ids else []
        # LAPOR! follow-ups carry the complaint's ticket as their reference.
        wanted = {row.complaint_id for row in rows if row.channel == "lapor" and row.complaint_id}
        tickets = dict(db.session.execute(sa.select(Complaint.id, Complaint.ticket)
                                          .where(Complaint.id.in_(wanted))).tuples().all()) if wanted else {}
        messages = [notify.Message.of(row, tickets.get(row.complaint_id)) for row in rows]
    return messages


def deliver_due(limit: int = 100) -> DeliveryReport:
    """Deliver up to `limit` due notices. Channels without settings (no SMTP_HOST, no WEBHOOK_URL,
    LAPOR_MODE off) are left pending rather than spending their attempts."""
    config = current_app.config
    channels = [c for c in notify.CHANNELS if notify.configured(c, config)]
    if not channels:
        return DeliveryReport()
    messages = _claim(utcnow(), limit, channels)
    if not messages:
        return DeliveryReport()
    results: dict[int, str | None] = {}
    results.update(notify.send_email([m for m in messages if m.channel == "email"], config))
    for message in messages:
        if message.channel == "webhook":
            results[message.id] = notify.send_webhook(message, config)
    results.update(notify.send_lapor([m for m in messages if m.channel == "lapor"], config))
    return _record(results)


def _record(results: dict[int, str | None]) -> DeliveryReport:
    max_attempts = int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 6))
    sent = retried = dead = 0
    now = utcnow()
    with unit_of_work():
        rows = db.session.scalars(sa.select(Outbox).where(Outbox.id.in_(list(results)))).all()
        for row in rows:
            error = results[row.id]
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", now, None
                sent += 1
            elif row.attempts >= max_attempts:
                row.status, row.last_error = "dead", error[:500]
                dead += 1
            else:
                row.next_attempt_at, row.last_error = now + backoff(row.attempts), error[:500]
                retried += 1
    if dead:
        current_app.logger.warning("outbox: %d notice(s) dead after %d attempts", dead, max_attempts)
    return DeliveryReport(sent, retried, dead)


# --------------------------------------------------------------------------- Admin Sistem


def resend(outbox_id: int, actor: Actor) -> Outbox:
    """Put a notice back in the queue for delivery at the next run, with fresh attempts."""
    if not actor.has(Role.ADMIN_SISTEM):
        raise Forbidden("Hanya Admin Sistem yang dapat mengirim ulang notifikasi.")
    with unit_of_work():
        row = db.session.get(Outbox, outbox_id)
        if row is None:
            raise NotFound("Notifikasi tidak ditemukan.")
        previous = row.status
        row.status, row.attempts, row.next_attempt_at = "pending", 0, utcnow()
        audit.record("action", "outbox.resend", actor=actor, complaint_id=row.complaint_id,
                     detail={"outbox_id": row.id, "previous_status": previous, "template": row.template})
    return row


@dataclass(frozen=True)
class Page:
    rows: list[Outbox]
    next_cursor: str | None  # services.cursor token of the next (older) page


# Newest first (ix_outbox_status_id serves a status filter).
LIST_ORDER = cursor.Keyset(ident=Outbox.id, descending=True)
PAGE_SIZE = 50


def list_page(status: str | None = None, position: str | None = None, limit: int | None = None) -> Page:
    """Newest first, optionally one status; keyset-paginated on id (no OFFSET, no count). A cursor that
    does not fit means the first page."""
    if status is not None and status not in STATUSES:
        raise Invalid("Status tidak dikenal.", errors={"status": "Pilih: " + ", ".join(STATUSES)})
    query = sa.select(Outbox)
    if status:
        query = query.where(Outbox.status == status)
    rows, next_cursor = LIST_ORDER.fetch(lambda q: list(db.session.scalars(q)), query,
                                         LIST_ORDER.position(position), limit or PAGE_SIZE)
    return Page(rows, next_cursor)
