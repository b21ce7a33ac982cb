"""The citizen's side of the conversation after filing (issue 17): a new PIN when the old one is lost,
the reply to the answer (accept or dispute, once per answer, with a rating), the Pimpinan's decision on a
dispute, and closing by silence.

PIN recovery answers the same whatever happens: the caller learns nothing about whether a ticket exists
or the contact matched. The work is the same too: a new PIN is made and hashed on every call (the hash is
the slow part, as in `complaints.track`), and every call writes one history row and commits; only a match
additionally stores the new hash (the old PIN stops working at once) and queues the PIN to the address or
phone that matched, through the outbox. The PIN is never shown on screen.
"""

from __future__ import annotations

import time

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from .. import audit, inputs, notify
from ..crypto import new_pin
from ..extensions import db
from ..models import CitizenReply, Complaint, StatusEvent
from ..timeutil import utcnow
from ..workflow import Action, Role, State, WorkflowError, apply_transition, silence_cutoff
from . import complaints, summary
from . import cursor as cursor_codec
from .common import Actor, Conflict, Forbidden, Invalid, NotFound, read_text, setting, unit_of_work
from .complaints import _event, hash_pin, track_url
from .disclosure import Screen, present, public_rendering
from .scope import get_visible

RECOVERY_LIMITS = {"ticket": 40, "contact": 254}


def _phone_digits(phone: str | None) -> str:
    """A phone number compared by its digits, the country code 62 read as the leading 0."""
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if digits.startswith("62"):
        digits = "0" + digits[2:]
    return digits


def _matched_channel(contact: str, email: str | None, phone: str | None) -> str | None:
    """Which of the complaint's own contacts `contact` is: "email", "webhook" (the phone), or None."""
    if email and "@" in contact and contact.strip().casefold() == email.strip().casefold():
        return "email"
    digits = _phone_digits(contact)
    if phone and len(digits) >= 8 and "@" not in contact and digits == _phone_digits(phone):
        return "webhook"
    return None


def recover_pin(ticket: str, contact: str) -> None:
    """Send a new PIN when `contact` is the e-mail address or phone number given with `ticket`.

    Returns nothing either way. Refuses (Invalid) only input that is wrong whatever the ticket:
    an empty or overlong field. A phone match needs the WhatsApp/SMS gateway (WEBHOOK_URL): without it
    the PIN could not reach the citizen, so the old one is kept.
    """
    errors: dict[str, str] = {}
    ticket = read_text(errors, "ticket", ticket, limit=RECOVERY_LIMITS["ticket"], required=True)
    contact = read_text(errors, "contact", contact, limit=RECOVERY_LIMITS["contact"], required=True)
    if errors:
        raise Invalid(_("Periksa kembali isian."), errors=errors)
    started = time.monotonic()
    try:
        _recover(ticket, contact)
    finally:
        # A match writes more (the new hash, the outbox row) than a mismatch, and the keyed PIN hash is too
        # fast to hide it: every answer waits until the same floor, so time tells nothing about the contact.
        time.sleep(max(0.0, RECOVERY_FLOOR_SECONDS - (time.monotonic() - started)))


RECOVERY_FLOOR_SECONDS = 0.3


def _recover(ticket: str, contact: str) -> None:
    pin = new_pin()
    pin_hash = hash_pin(pin)
    with unit_of_work():
        found = db.session.execute(
            sa.select(Complaint.id, Complaint.email, Complaint.phone, Complaint.anonymised_at)
            .where(Complaint.ticket == ticket.upper())).first()
        channel = None
        if found is not None and found.anonymised_at is None:
            channel = _matched_channel(contact, found.email, found.phone)
            if channel == "webhook" and not setting("WEBHOOK_URL"):
                channel = None
        outcome = "sent" if channel else ("mismatch" if found is not None else "unknown_ticket")
        if channel:
            complaint = db.session.get(Complaint, found.id)
            complaint.pin_hash = pin_hash
            recipient = complaint.email if channel == "email" else complaint.phone
            # Sealed in the outbox row (never at rest in clear, never on the outbox screen): the sender opens
            # it at delivery (services.outbox).
            notify.queue(channel, recipient, "pin_recovered",
                         {"ticket": complaint.ticket, "pin": complaints.cipher().seal_pin(pin),
                          "track_url": track_url(complaint.ticket)},
                         complaint_id=complaint.id)
        # The history row names the ticket only when it exists; never the contact typed or the PIN.
        audit.record("action", "complaint.pin_recovery", complaint_id=found.id if found is not None else None,
                     detail={"outcome": outcome, **({"channel": channel} if channel else {})})


# --------------------------------------------------------------------------- the reply to an answer

REPLY_LIMITS = {"reason": 1000, "comment": 1000}


@dataclass(frozen=True)
class ReplyInput:
    accepted: bool | None  # True: "Selesai, terima kasih"; False: "Belum selesai"; None: not chosen
    rating: object  # 1-5 as typed
    reason: str | None = None
    comment: str | None = None


def reply(complaint_id: int, data: ReplyInput) -> CitizenReply:
    """The complainant (ticket + PIN checked by the caller) replies to the current answer, once: accepted
    closes the complaint Selesai; disputed sends it to the Pimpinan's queue (state disanggah)."""
    errors: dict[str, str] = {}
    if data.accepted is None:
        errors["accepted"] = _("Pilih: selesai, atau belum selesai.")
    reason = read_text(errors, "reason", data.reason, limit=REPLY_LIMITS["reason"], multiline=True)
    comment = read_text(errors, "comment", data.comment, limit=REPLY_LIMITS["comment"], multiline=True)
    if data.accepted is False and not reason and "reason" not in errors:
        errors["reason"] = _("Alasan wajib diisi bila pengaduan belum selesai.")
    rating = None
    try:
        rating = inputs.parse_int(data.rating, minimum=1, maximum=5)
    except inputs.Problem as problem:
        errors["rating"] = problem.text(_)
    if rating is None and "rating" not in errors:
        errors["rating"] = _("Pilih nilai kepuasan 1–5.")
    if errors:
        raise Invalid(_("Periksa kembali tanggapan Anda."), errors=errors)
    now = utcnow()
    with unit_of_work():
        complaint = db.session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound(_("Pengaduan tidak ditemukan."))
        answer = complaint.current_answer
        if answer is None or db.session.scalar(sa.select(CitizenReply.id).where(CitizenReply.answer_id == answer.id)):
            raise Conflict(_("Jawaban ini sudah Anda tanggapi."), code="replied")
        action = Action.CLOSE if data.accepted else Action.DISPUTE
        try:
            move = apply_transition(action, complaint.state, {Role.PUBLIK})
        except WorkflowError:
            raise Conflict(_("Pengaduan ini tidak sedang menunggu tanggapan Anda."), code="invalid_state") from None
        row = CitizenReply(
            complaint_id=complaint.id, answer_id=answer.id, opd_id=answer.opd_id, accepted=bool(data.accepted),
            reason=complaints.cipher().seal_niks(reason) if reason else None, rating=rating,
            comment=complaints.cipher().seal_niks(comment) if comment else None, created_at=now,
            public_reason=_masked(complaint, reason), public_comment=_masked(complaint, comment))
        db.session.add(row)
        complaint.closed_at = now if data.accepted else None
        note = "Pelapor: selesai." if data.accepted else f"Pelapor: belum selesai. {reason}"
        _event(complaint, move, Actor.public(), note=note, at=now)
        audit.record("action", "complaint.reply", complaint_id=complaint.id,
                     detail={"accepted": bool(data.accepted), "rating": rating})
        if data.accepted:
            complaints.notify_closed(complaint, "accepted")
    return row


def _masked(complaint: Complaint, text: str | None) -> str | None:
    return public_rendering(text, name=complaint.name, visibility=complaint.visibility) if text else None


# --------------------------------------------------------------------------- the Pimpinan's decision

OUTCOMES = ("reopen", "reroute", "close")


def decide_dispute(complaint_id: int, actor: Actor, outcome: str, reason: str | None = None,
                   opd_code: str | None = None) -> Complaint:
    """A disputed complaint: re-open to the same OPD (new deadline), re-route to another OPD, or close with
    a reason. Each is a step on the timeline."""
    if outcome == "reroute":
        return complaints.reroute(complaint_id, actor, opd_code or "", reason)
    errors: dict[str, str] = {}
    reason = read_text(errors, "reason", reason, limit=complaints.LIMITS["reason"], multiline=True)
    if outcome not in OUTCOMES:
        errors["outcome"] = _("Pilih tindak lanjut.")
    if outcome == "close" and not reason and "reason" not in errors:
        errors["reason"] = _("Alasan penutupan wajib diisi.")
    if errors:
        raise Invalid(_("Periksa kembali isian."), errors=errors)
    now = utcnow()
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        action = Action.REOPEN if outcome == "reopen" else Action.CLOSE
        try:
            move = apply_transition(action, complaint.state, actor.roles)
        except WorkflowError as exc:
            raise (Forbidden if exc.code == "forbidden" else Conflict)(exc.message, code=exc.code) from None
        if outcome == "reopen":
            complaints._route(complaint, complaint.opd, now)
            note = f"Dibuka kembali oleh Pimpinan untuk {complaint.opd.name}." + (f" {reason}" if reason else "")
        else:
            complaint.closed_at = now
            note = f"Ditutup oleh Pimpinan: {reason}"
        _event(complaint, move, actor, note=note, at=now)
        audit.record("action", f"complaint.dispute_{outcome}", actor=actor, complaint_id=complaint.id,
                     detail={"reason": reason} if reason else None)
        if outcome == "close":
            complaints.notify_closed(complaint, "pimpinan", reason)
    if outcome == "reopen":
        with unit_of_work():
            complaints._notify_complainant(db.session.get(Complaint, complaint_id), "routed")
    return complaint


@dataclass(frozen=True)
class DisputeRow:
    complaint: object  # the disclosure policy's ComplaintView (records screen)
    reason: str | None  # the complainant's reason, masked: a NIK typed there is for validators only
    rating: int | None
    at: datetime

    def __iter__(self):  # (view, reason, rating, at), as the desk's template reads it
        return iter((self.complaint, self.reason, self.rating, self.at))


@dataclass(frozen=True)
class DisputePage:
    rows: list[DisputeRow]
    next_cursor: str | None


DISPUTE_PAGE = 50
# Oldest dispute first, ties by the reply's id: one row per complaint, its latest reply (the dispute).
DISPUTE_ORDER = cursor_codec.Keyset(ident=CitizenReply.id, key=CitizenReply.created_at)


def disputed(actor: Actor, cursor: str | None = None, limit: int | None = None) -> DisputePage:
    """The Pimpinan's queue: disputed complaints, oldest dispute first, each with the citizen's reply;
    keyset-paginated on (reply time, reply id). A cursor that does not fit means the first page."""
    if not actor.has(Role.PIMPINAN, Role.ADMIN_SISTEM):
        raise Forbidden(_("Hanya Pimpinan yang meninjau sanggahan."))
    limit = max(1, min(int(limit or DISPUTE_PAGE), 200))
    latest = (sa.select(sa.func.max(CitizenReply.id)).where(CitizenReply.complaint_id == Complaint.id)
              .correlate(Complaint).scalar_subquery())
    base = (sa.select(Complaint, CitizenReply).join(CitizenReply, CitizenReply.complaint_id == Complaint.id)
            .where(Complaint.state == State.DISANGGAH, CitizenReply.accepted.is_(False), CitizenReply.id == latest))
    found, next_cursor = DISPUTE_ORDER.fetch(lambda q: db.session.execute(q).all(), base,
                                             DISPUTE_ORDER.position(cursor), limit,
                                             key_of=lambda row: (row[1].created_at, row[1].id))
    now = utcnow()
    return DisputePage([DisputeRow(present(complaint, actor, Screen.RECORDS, log=False, now=now), row.public_reason,
                                   row.rating, row.created_at) for complaint, row in found], next_cursor)


# --------------------------------------------------------------------------- closing by silence


def close_silent(now: datetime | None = None) -> int:
    """Close Selesai every answered complaint the complainant left silent for SILENCE_CLOSE_DAYS working
    days: one INSERT … SELECT of the timeline events and one UPDATE, whatever the number of rows."""
    now = now or utcnow()
    days_off = complaints._days_off()
    cutoff = silence_cutoff(now, setting("SILENCE_CLOSE_DAYS"), days_off)
    move = apply_transition(Action.CLOSE, State.DIJAWAB, {Role.SYSTEM})
    due = sa.and_(Complaint.state == State.DIJAWAB, Complaint.answered_at < cutoff)
    with unit_of_work():
        ids = sa.select(Complaint.id).where(due)
        # The "closed" notices, on the channels each complainant chose: read before the UPDATE, one query.
        notices = _silence_notices(db.session.execute(
            sa.select(Complaint.id, Complaint.ticket, Complaint.email, Complaint.phone, Complaint.notify_email,
                      Complaint.notify_phone, Complaint.answered_at).where(due)).all())
        db.session.execute(sa.insert(StatusEvent).from_select(
            ["complaint_id", "from_state", "to_state", "action", "actor_role", "opd_id", "at", "note", "public"],
            sa.select(Complaint.id, sa.literal(move.source.value), sa.literal(move.target.value),
                      sa.literal(move.action.value), sa.literal(move.role.value), Complaint.opd_id,
                      sa.literal(now, sa.DateTime), sa.literal("Selesai: tidak ada tanggapan pelapor."),
                      sa.true()).where(due)))
        closed_ids = db.session.execute(
            sa.update(Complaint).where(Complaint.id.in_(ids))
            .values(state=State.SELESAI, closed_at=now, version=Complaint.version + 1).returning(Complaint.id)
            .execution_options(synchronize_session=False)).scalars().all()
        summary.after_bulk(closed_ids, state=State.DIJAWAB)
        closed = len(closed_ids)
        if closed:
            audit.record("system", "complaint.silence_close", detail={"closed": closed, "cutoff": cutoff})
            notify.queue_many(notices)
    return closed


def _silence_notices(rows) -> list[notify.Notice]:
    how = complaints.closed_how("silence")
    webhook = bool(setting("WEBHOOK_URL"))
    notices = []
    for cid, ticket, email, phone, by_email, by_phone, answered_at in rows:
        context = {"ticket": ticket, "track_url": track_url(ticket), **how}
        # Once per answer: a complaint re-opened and answered again may close by silence again.
        key = f"closed:silence:{cid}:{answered_at.isoformat()}"
        notices += [notify.Notice(channel, recipient, "closed", context, f"{key}:{channel}", cid)
                    for channel, recipient in notify.complainant_recipients(email, phone, by_email, by_phone, webhook)]
    return notices


def silence_close_job() -> str:
    return f"closed {close_silent()}"
