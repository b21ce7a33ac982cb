"""Delivery of the outbox (run by the scheduler, never by a web request) and its admin use cases.

Delivery in three short steps, so no transaction stays open while a mail server or gateway answers:
1. claim: one UPDATE … RETURNING takes up to `limit` due rows (on PostgreSQL the inner SELECT uses
   FOR UPDATE SKIP LOCKED, so two deliverers never take the same row), counts the attempt, stamps
   `claimed_at` and moves `next_attempt_at` a lease ahead — if the process dies mid-send, the row is
   simply due again after the lease;
2. send, outside any transaction (notify.send_email / send_webhook), each message with its row's
   `idempotency_key` (the e-mail's Message-ID, the gateway's Idempotency-Key header);
3. record each result as soon as it is known (not once per batch): sent, or retried with exponential
   backoff, or `dead` after OUTBOX_MAX_ATTEMPTS attempts; `claimed_at` is cleared.
Only a process that dies between handing one message over and recording it leaves a claim unrecorded.
The next claim sees `claimed_at` still set, counts the row `interrupted` and sends it again with the
same key: the gateway drops the repeat by its Idempotency-Key, and a mailbox shows one message per
Message-ID (SMTP itself cannot be asked whether it already has a message). Never lost; never two
different messages for one notice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from .. import audit, crypto, notify, timeutil
from ..extensions import db
from ..models import OUTBOX_STATUSES, Complaint, Outbox
from ..timeutil import utcnow
from ..workflow import Role
from . import cursor
from .common import Actor, Forbidden, Invalid, NotFound, unit_of_work

LEASE = timedelta(minutes=5)
INTERRUPTED = "interrupted: the previous delivery was not recorded (deliverer stopped); sent again with the same key"
STATUSES = OUTBOX_STATUSES  # the database refuses any other (ck_outbox_status)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    interrupted: int = 0  # claims found unrecorded (a deliverer died mid-send), sent again with their key

    def __add__(self, other: "DeliveryReport") -> "DeliveryReport":
        return DeliveryReport(self.sent + other.sent, self.retried + other.retried, self.dead + other.dead,
                              self.interrupted + other.interrupted)


def backoff(attempts: int) -> timedelta:
    """Delay before attempt `attempts + 1`: base, 2 x base, 4 x base … up to the cap."""
    config = current_app.config
    return timeutil.backoff(attempts, float(config.get("OUTBOX_BACKOFF_SECONDS", 60)),
                            float(config.get("OUTBOX_BACKOFF_MAX_SECONDS", 6 * 3600)))


def _claim(now: datetime, limit: int, channels: list[str]) -> tuple[list[notify.Message], int]:
    due = (sa.select(Outbox.id)
           .where(Outbox.status == "pending", Outbox.next_attempt_at <= now, Outbox.channel.in_(channels))
           .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit)
           .with_for_update(skip_locked=True))  # ignored by SQLite, where writers are serialised anyway
    unrecorded = sa.case((Outbox.claimed_at.is_not(None), 1), else_=0)
    with unit_of_work():
        ids = db.session.scalars(
            sa.update(Outbox).where(Outbox.id.in_(due.scalar_subquery()), Outbox.status == "pending")
            .values(attempts=Outbox.attempts + 1, next_attempt_at=now + LEASE, claimed_at=now,
                    interrupted=Outbox.interrupted + unrecorded,
                    last_error=sa.case((Outbox.claimed_at.is_not(None), INTERRUPTED), else_=Outbox.last_error))
            .returning(Outbox.id),
            execution_options={"synchronize_session": False}).all()
        rows = db.session.scalars(sa.select(Outbox).where(Outbox.id.in_(ids)).order_by(Outbox.id)).all() if ids else []
        # LAPOR! follow-ups carry the complaint's ticket as their reference.
        wanted = {row.complaint_id for row in rows if row.channel == "lapor" and row.complaint_id}
        tickets = dict(db.session.execute(sa.select(Complaint.id, Complaint.ticket)
                                          .where(Complaint.id.in_(wanted))).tuples().all()) if wanted else {}
        messages = [_opened(notify.Message.of(row, tickets.get(row.complaint_id))) for row in rows]
        interrupted = sum(1 for row in rows if row.last_error == INTERRUPTED)
    if interrupted:
        current_app.logger.warning("outbox: %d notice(s) whose last delivery was interrupted are sent again "
                                   "with their idempotency key", interrupted)
    return messages, interrupted


def _opened(message: notify.Message) -> notify.Message:
    """The message as the recipient gets it: a sealed PIN (PIN recovery) opened, only in memory for sending."""
    if not crypto.has_sealed_pin(message.body):
        return message
    from .complaints import cipher

    return dataclasses.replace(message, body=cipher().unseal_pins(message.body, unreadable=PIN_UNREADABLE))


# A sealed PIN no configured key opens (the key was retired meanwhile): the citizen asks for a new one.
PIN_UNREADABLE = "(tidak dapat dibuka; minta PIN baru lagi)"


@dataclass(frozen=True)
class ScreenPin:
    """A notice carrying a sealed PIN, as the outbox screen shows it: "PIN baru (disegel)", or in demo mode
    for Admin Sistem the PIN itself (README "Mode demo": the demo's citizen has no mailbox)."""

    pin: str | None  # None: sealed, not shown


def screen_pins(rows, reveal: bool = False) -> dict[int, ScreenPin]:
    """{outbox id: ScreenPin} for the rows of a page that carry a sealed PIN."""
    found = {}
    for row in rows:
        match = crypto.SEALED_PIN.search(row.body or "")
        if match is None:
            continue
        pin = None
        if reveal:
            from .complaints import cipher

            pin = cipher().unseal_pins(match.group(0), unreadable=PIN_UNREADABLE)
        found[row.id] = ScreenPin(pin)
    return found


def deliver_due(limit: int = 100) -> DeliveryReport:
    """Deliver up to `limit` due notices. Channels without settings (no SMTP_HOST, no WEBHOOK_URL,
    LAPOR_MODE off) are left pending rather than spending their attempts."""
    config = current_app.config
    channels = [c for c in notify.CHANNELS if notify.configured(c, config)]
    if not channels:
        return DeliveryReport()
    messages, interrupted = _claim(utcnow(), limit, channels)
    if not messages:
        return DeliveryReport()
    report = DeliveryReport(interrupted=interrupted)

    def record(outbox_id: int, error: str | None) -> None:
        nonlocal report
        report = report + _record({outbox_id: error})

    notify.send_email([m for m in messages if m.channel == "email"], config, on_result=record)
    for message in messages:
        if message.channel == "webhook":
            record(message.id, notify.send_webhook(message, config))
    for outbox_id, error in notify.send_lapor([m for m in messages if m.channel == "lapor"], config).items():
        record(outbox_id, error)
    return report


def _record(results: dict[int, str | None]) -> DeliveryReport:
    max_attempts = int(current_app.config.get("OUTBOX_MAX_ATTEMPTS", 6))
    sent = retried = dead = 0
    now = utcnow()
    with unit_of_work():
        rows = db.session.scalars(sa.select(Outbox).where(Outbox.id.in_(list(results)))).all()
        for row in rows:
            error = results[row.id]
            row.claimed_at = None
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
