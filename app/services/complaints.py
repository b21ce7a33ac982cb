"""Use cases of the complaint life cycle (SOP rows 1-8). Each public function is one transaction
that writes its StatusEvent and history row; nothing else commits."""

from __future__ import annotations

import functools
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Sequence

import sqlalchemy as sa
from sqlalchemy_continuum import versioning_manager
from flask_babel import gettext as _
from werkzeug.security import check_password_hash

from .. import audit, crypto, notify, redact
from ..crypto import NikCipher, new_pin, normalize_pin
from ..extensions import db
from ..models import (OVERRIDDEN_VERDICTS, Answer, Complaint, LaporImport, NikCheck, NonWorkingDay, Opd, Routing,
                      StatusEvent, TicketCounter)
from ..nik import check as check_nik
from ..timeutil import format_wib, to_wib, utcnow
from ..workflow import (Action, Channel, Role, State, Visibility, answer_deadline, apply_transition,
                        validation_deadline)
from . import links
from .common import Actor, Conflict, Forbidden, Invalid, NotFound, read_text, require_text, setting, unit_of_work
from .disclosure import public_rendering
from .scope import get_visible

LIMITS = {"name": 120, "phone": 32, "email": 254, "address": 300, "title": 200, "text": 4000,
          "location": 300, "remark": 2000, "answer": 10000, "reason": 500, "note": 500, "nik": 64,
          "opd": 32}
# The fields of a submission, each through the input boundary (app/inputs.py): (field, error key, rules).
SUBMISSION_TEXT = (("name", "name", {"required": True}), ("nik", "nik", {"required": True}),
                   ("phone", "phone", {"required": True}), ("email", "email", {}), ("address", "address", {}),
                   ("opd_code", "opd", {}), ("title", "title", {"required": True}),
                   ("text", "text", {"required": True, "multiline": True}), ("location", "location", {}))


# The form's value of "Saya tidak tahu OPD-nya": the complaint has no OPD until the dispatch queue routes it.
NO_OPD = "tidak-tahu"


# Who routes a complaint waiting in the dispatch queue (DISPATCH_BY): within what the workflow table allows.
DISPATCHERS = {"both": frozenset({Role.ADMIN_SISTEM, Role.VALIDATOR}), "admin": frozenset({Role.ADMIN_SISTEM}),
               "validator": frozenset({Role.VALIDATOR})}


def dispatch_roles() -> frozenset[Role]:
    return DISPATCHERS[setting("DISPATCH_BY")]


def cipher() -> NikCipher:
    return NikCipher(setting("NIK_ENCRYPTION_KEY"), setting("NIK_HMAC_KEY"),
                     tuple(setting("NIK_ENCRYPTION_OLD_KEYS")))


def track_url(ticket: str) -> str:
    return f"{setting('PUBLIC_BASE_URL').rstrip('/')}/lacak?tiket={ticket}"


def _days_off() -> frozenset:
    return frozenset(db.session.scalars(sa.select(NonWorkingDay.day)))


def compute_answer_deadline(routed_at):
    return answer_deadline(routed_at, setting("ANSWER_DAYS"), setting("ANSWER_DAY_MODE"), _days_off())


def _public_of(complaint: Complaint, text: str) -> str:
    return public_rendering(text, name=complaint.name, visibility=complaint.visibility)


def _event(complaint: Complaint, move, actor: Actor, note: str | None = None, public: bool = True,
           at=None) -> StatusEvent:
    event = StatusEvent(complaint=complaint, from_state=move.source, to_state=move.target,
                        action=move.action.value, actor_id=actor.user_id, actor_role=move.role.value,
                        opd_id=complaint.opd_id, at=at or utcnow(), note=note, public=public)
    db.session.add(event)
    complaint.state = move.target
    return event


def _title_without_nik(title: str) -> str:
    # A title has no room for a sealed token (200 characters); a NIK typed there is dropped for everyone.
    for span in reversed([s for s in redact.find(title) if s.kind == "nik"]):
        title = f"{title[:span.start]}[NIK]{title[span.end:]}"
    return title


def _next_ticket(now) -> str:
    """`LMJ-2026-000123`: a per-year counter bumped with UPDATE … RETURNING, which holds a row lock
    until commit, so concurrent submissions on PostgreSQL queue up instead of colliding. The year is
    the WIB year (a complaint sent at 00:30 WIB on 1 January belongs to the new year)."""
    prefix, year = setting("TICKET_PREFIX"), to_wib(now).year
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    bump = (sa.update(TicketCounter).where(TicketCounter.prefix == prefix, TicketCounter.year == year)
            .values(value=TicketCounter.value + 1).returning(TicketCounter.value))
    value = db.session.execute(bump).scalar_one_or_none()
    if value is None:  # the year's first complaint: its row is made once (two at once: one insert wins)
        db.session.execute(insert(TicketCounter).values(prefix=prefix, year=year, value=0)
                           .on_conflict_do_nothing())
        value = db.session.execute(bump).scalar_one()
    return f"{prefix}-{year}-{value:06d}"


@dataclass
class SubmitInput:
    name: str
    nik: str
    phone: str
    opd_code: str
    title: str
    text: str
    visibility: str = Visibility.ANONIM.value
    email: str | None = None
    address: str | None = None
    location: str | None = None
    consent: bool = False
    channel: str = "web"
    channel_source: str | None = None  # the Open311 key's name (set by services.open311, never by a form)
    # The notices the complainant chose (the form's check boxes; other channels: every notice possible).
    notify_email: bool = True
    notify_phone: bool = True
    locale: str = "id"
    submission_key: str | None = None  # the form's idempotency token (inputs.parse_token)


@dataclass
class Submitted:
    complaint: Complaint
    pin: str  # shown once to the complainant, stored only hashed
    repeated: bool = False  # the same form was sent again: the complaint stored the first time
    # What the receipt shows, read when this is made inside the transaction: after the commit the complaint's
    # attributes are expired, and reading them again would load the whole row (~2 ms of a submission).
    ticket: str = field(init=False)
    opd_name: str | None = field(init=False)
    submitted_at: datetime = field(init=False)
    validation_deadline: datetime = field(init=False)
    has_email: bool = field(init=False)

    def __post_init__(self):
        c = self.complaint
        self.ticket, self.submitted_at, self.validation_deadline = c.ticket, c.submitted_at, c.validation_deadline
        self.opd_name = c.opd.name if c.opd is not None else None
        self.has_email = bool(c.email)


def _fit(text: str | None, limit: int) -> str | None:
    """A rendering that grew past its column (a masking label is longer than what it hides) is cut."""
    return text if text is None or len(text) <= limit else text[:limit - 1] + "…"


def clean_submission(data: SubmitInput) -> tuple[SubmitInput, dict[str, str]]:
    """The submission with every text field through the input boundary, and each field's problem."""
    errors: dict[str, str] = {}
    values = {name: read_text(errors, key, getattr(data, name), limit=LIMITS[key], **rules)
              for name, key, rules in SUBMISSION_TEXT}
    return replace(data, **values), errors


def validate_submission(data: SubmitInput) -> tuple[dict[str, str], object, Opd | None]:
    """Every field's problem, in Indonesian; also the parsed NIK and the OPD when they are fine."""
    _data, errors, result, opd = _validated(data)
    return errors, result, opd


def _validated(raw: SubmitInput) -> tuple[SubmitInput, dict[str, str], object, Opd | None]:
    data, errors = clean_submission(raw)
    phone = data.phone
    if phone and "phone" not in errors:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if not (8 <= len(digits) <= 15) or any(ch not in "0123456789+-() " for ch in phone):
            errors["phone"] = _("Nomor telepon tidak valid (contoh: 0812-3456-7890).")
    email = data.email
    if email and "email" not in errors:
        local, _at, domain = email.partition("@")
        if not local or "." not in domain or any(ch.isspace() or not ch.isprintable() for ch in email):
            errors["email"] = _("Alamat e-mail tidak valid (contoh: nama@contoh.id).")
    result = None
    if data.nik and "nik" not in errors:
        result = check_nik(data.nik, allowed_prefixes=tuple(setting("NIK_ALLOWED_PREFIXES")),
                           refuse_outside=setting("NIK_REFUSE_OUTSIDE"))
        if not result.valid:
            errors["nik"] = " ".join(_(r.template, **dict(r.params)) for r in result.errors)
    if data.visibility not in {v.value for v in Visibility}:
        errors["visibility"] = _("Pilih salah satu: publik, anonim atau rahasia.")
    if not data.consent:
        errors["consent"] = _("Persetujuan pemrosesan data pribadi (UU 27/2022) diperlukan.")
    opd = None
    if not data.opd_code:
        errors.setdefault("opd", _("Pilih OPD tujuan, atau Saya tidak tahu OPD-nya."))
    elif data.opd_code == NO_OPD and data.channel == "web":
        pass  # the dispatch queue chooses the OPD once the NIK is found valid
    else:
        opd = db.session.scalar(sa.select(Opd).where(Opd.code == data.opd_code, Opd.active.is_(True)))
        if opd is None:
            errors["opd"] = _("OPD tujuan tidak dikenal atau tidak aktif.")
    return data, errors, result, opd


def submit(data: SubmitInput, actor: Actor | None = None, files: Sequence = (),
           within: Callable[[Complaint], None] | None = None) -> Submitted:
    """SOP rows 1 and 3: store the complaint, its attachments and its first timeline event at once.

    `files` are objects with `save_for(complaint)` (see storage); they are written in this transaction.

    With `data.submission_key` (the form's idempotency token) a repeat of a form already stored, however
    it came (no response seen, a killed worker, a database outage, a double click, two at once), stores
    nothing new: it answers with the complaint stored the first time and a new PIN for it, since the
    citizen who sends again may never have seen the first one.

    `within(complaint)` adds the rows of the channel that brought it (the LAPOR! link) in this transaction.
    """
    actor = actor or Actor.public()
    if data.submission_key:
        again = _repeat_of(data.submission_key, actor)
        if again is not None:
            return again
    try:
        return _store(data, actor, files, within)
    except (sa.exc.IntegrityError, Conflict) as exc:
        # Two requests with one token at the same moment: the other one stored it (seen as the unique
        # token, or first as the duplicate it is).
        if isinstance(exc, Conflict) and exc.code != "duplicate":
            raise
        again = _repeat_of(data.submission_key, actor) if data.submission_key else None
        if again is None:
            raise
        return again


def _repeat_of(key: str, actor: Actor) -> Submitted | None:
    pin = new_pin()
    pin_hash = hash_pin(pin)
    with unit_of_work():
        complaint = db.session.scalar(sa.select(Complaint).where(Complaint.submission_key == key))
        if complaint is None:
            return None
        # A plain UPDATE: the PIN is not part of the versioned complaint, and a validator's open form
        # must not go stale because the citizen sent the form again.
        db.session.execute(sa.update(Complaint).where(Complaint.id == complaint.id).values(pin_hash=pin_hash)
                           .execution_options(synchronize_session=False))
        audit.record("action", "complaint.resubmit", actor=actor, complaint_id=complaint.id,
                     detail={"ticket": complaint.ticket})
        done = Submitted(complaint, pin, repeated=True)
    return done


def _store(data: SubmitInput, actor: Actor, files: Sequence,
           within: Callable[[Complaint], None] | None = None) -> Submitted:
    data, errors, nik_result, opd = _validated(data)
    if errors:
        raise Invalid(_("Periksa kembali isian yang ditandai."), errors=errors)
    # Everything slow (the PIN hash, encryption, detection of personal data, the deadline) is done here,
    # before the transaction: the ticket counter's row lock, taken by _next_ticket and held until commit,
    # covers only the inserts of this submission's rows (complaint, event, attachments, history, outbox).
    crypt = cipher()
    nik_hash = crypt.digest(nik_result.nik)
    pin = new_pin()
    pin_hash = hash_pin(pin)
    now = utcnow()
    name, visibility = data.name, Visibility(data.visibility)
    fields = dict(
        pin_hash=pin_hash, channel=data.channel, channel_source=data.channel_source,
        submission_key=data.submission_key, name=name, nik_encrypted=crypt.encrypt(nik_result.nik), nik_hash=nik_hash,
        phone=data.phone, email=data.email, address=data.address,
        notify_email=bool(data.notify_email), notify_phone=bool(data.notify_phone),
        opd_id=opd.id if opd else None, opd=opd, title=_fit(_title_without_nik(data.title), LIMITS["title"]),
        text=crypt.seal_niks(data.text),
        location=data.location, visibility=visibility,
        public_title=_fit(public_rendering(data.title, name=name, visibility=visibility), LIMITS["title"]),
        public_text=public_rendering(data.text, name=name, visibility=visibility),
        nik_structural_ok=nik_result.valid,
        nik_findings=json.dumps([{"code": r.code, "message": r.message, "severity": r.severity}
                                 for r in nik_result.reasons], ensure_ascii=False),
        submitted_at=now, validation_deadline=validation_deadline(now, setting("VALIDATION_HOURS")),
    )
    with unit_of_work():
        window = now - timedelta(minutes=setting("DUPLICATE_WINDOW_MINUTES"))
        # Same NIK and name, same text: compared on the masked rendering, as the stored original has its NIKs
        # sealed (randomised tokens); the name too, because an anonim rendering masks it.
        duplicate = db.session.scalar(sa.select(Complaint.id).where(
            Complaint.nik_hash == nik_hash, Complaint.submitted_at >= window, Complaint.name == name,
            Complaint.public_text == fields["public_text"]).limit(1))
        if duplicate is not None:
            raise Conflict(_("Pengaduan yang sama dari NIK ini baru saja diterima; tidak perlu mengirim ulang."),
                           code="duplicate")
        move = apply_transition(Action.SUBMIT, None, actor.roles | {Role.PUBLIK})
        # The version history's transaction row (SQLAlchemy-Continuum makes it in the first flush of a
        # versioned row, with who and from where) is written now, before the ticket counter's lock, which
        # is then held only for this submission's own rows and the commit (with the single counter UPDATE:
        # 6.9 → 6.0 ms at 1,000,000).
        versioning_manager.unit_of_work(db.session).create_transaction(db.session)
        complaint = Complaint(ticket=_next_ticket(now), **fields)
        db.session.add(complaint)
        _event(complaint, move, actor, note="Pengaduan diterima.", at=now)
        db.session.flush()
        for incoming in files:
            incoming.save_for(complaint)
        if within is not None:
            within(complaint)
        audit.record("action", "complaint.submit", actor=actor, complaint_id=complaint.id,
                     detail={"ticket": complaint.ticket, "channel": data.channel,
                             **({"source": data.channel_source} if data.channel_source else {})})
        _notify_complainant(complaint, "submitted", locale=data.locale)
        done = Submitted(complaint, pin)
    return done


def _pin_key() -> bytes:
    return crypto.pin_key(setting("NIK_HMAC_KEY"))


def hash_pin(pin: str) -> str:
    """The stored form of a tracking PIN: a keyed hash (app/crypto.py, `hash_pin`)."""
    return crypto.hash_pin(_pin_key(), pin)


@functools.lru_cache(maxsize=4)
def _unknown_ticket_hash(key: bytes) -> str:
    # A keyed hash of a random PIN: checking a PIN against it costs exactly what a real check costs.
    return crypto.hash_pin(key, secrets.token_urlsafe(16))


def _pin_matches(stored: str, pin: str) -> bool:
    if crypto.is_keyed_pin_hash(stored):
        return crypto.check_keyed_pin(_pin_key(), stored, pin)
    # A PIN stored before the keyed hash (werkzeug's scrypt/pbkdf2 form): still accepted, and replaced
    # by the keyed hash on its first successful check (track).
    return check_password_hash(stored, normalize_pin(pin))


def track(ticket: str, pin: str) -> Complaint | None:
    """The complainant's own view: None for a wrong ticket or PIN, whichever is wrong. An unknown ticket
    costs what a known one with a wrong PIN costs (one keyed hash), so the time does not tell which tickets
    exist; a ticket still holding an old scrypt hash costs that hash once more, until its first success."""
    errors: dict[str, str] = {}
    ticket = read_text(errors, "ticket", ticket, limit=40) or ""
    # Only the id and the hash: a known ticket must not cost a whole row (and its OPD) more than an
    # unknown one before the PIN is checked. A ticket the boundary refuses is an unknown one.
    found = None if errors else db.session.execute(
        sa.select(Complaint.id, Complaint.pin_hash).where(Complaint.ticket == ticket.upper())).first()
    stored = found.pin_hash if found is not None else _unknown_ticket_hash(_pin_key())
    if not _pin_matches(stored, pin or "") or found is None:
        return None
    if not crypto.is_keyed_pin_hash(stored):
        with unit_of_work():
            db.session.execute(sa.update(Complaint).where(Complaint.id == found.id, Complaint.pin_hash == stored)
                               .values(pin_hash=hash_pin(pin)))
    return db.session.get(Complaint, found.id)


# --------------------------------------------------------------------------- validator (rows 4-6)


def claim(complaint_id: int, actor: Actor) -> Complaint:
    """Open a complaint for checking: it is held for this validator for CLAIM_MINUTES."""
    if not actor.has(Role.VALIDATOR):
        raise Forbidden(_("Hanya validator yang dapat memeriksa NIK."))
    now = utcnow()
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        if complaint.state is not State.MENUNGGU_VERIFIKASI:
            raise Conflict(_("Pengaduan ini sudah diputuskan."), code="decided")
        held = complaint.claim_expires_at is not None and complaint.claim_expires_at > now
        if held and complaint.claimed_by_id != actor.user_id:
            holder = complaint.claimed_by
            name = f"{holder.first_name} {holder.last_name}".strip() if holder else _("validator lain")
            raise Conflict(_("Sedang diperiksa oleh %(name)s sampai %(until)s.", name=name,
                             until=format_wib(complaint.claim_expires_at)),
                           code="claimed")
        if not held:
            complaint.claimed_by_id = actor.user_id
            complaint.claimed_at = now
            db.session.add(StatusEvent(
                complaint=complaint, from_state=complaint.state, to_state=complaint.state, action=Action.CLAIM.value,
                actor_id=actor.user_id, actor_role=Role.VALIDATOR.value, opd_id=complaint.opd_id, at=now,
                note="NIK sedang diperiksa oleh validator.", public=True))
        complaint.claim_expires_at = now + timedelta(minutes=setting("CLAIM_MINUTES"))
        audit.record("action", "complaint.claim", actor=actor, complaint_id=complaint.id)
        # Opening is what shows the full NIK on the desk: the view is logged with the claim.
        audit.record("pii", "nik.view", actor=actor, complaint_id=complaint.id)
    return complaint


def decide_nik(complaint_id: int, actor: Actor, *, valid: bool, remark: str | None = None,
               expected_version: int | None = None, public_title: str | None = None,
               public_text: str | None = None, public_edit_reason: str | None = None,
               override_reason: str | None = None) -> Complaint:
    """SOP rows 4-6: Tidak valid → kept with its remark, never published; Valid → routed and published
    unless rahasia.

    The validator may edit the public rendering with a Valid decision. A field sent unchanged (the desk
    always sends both) is not an edit; an edit may not be blank, needs a reason, is masked like every public
    rendering (personal data, and for anonim the complainant's name) and the original stays.

    Valid against SIAK's "not found" or "mismatch" (OVERRIDDEN_VERDICTS) is a deliberate override: it needs
    `override_reason`, stored with the decision (NikCheck.override_reason, which a CHECK requires)."""
    errors: dict[str, str] = {}
    remark = read_text(errors, "remark", remark, limit=LIMITS["remark"], multiline=True)
    override_reason = read_text(errors, "override_reason", override_reason, limit=LIMITS["reason"],
                                multiline=True)
    if "override_reason" in errors:
        raise Invalid(errors["override_reason"], errors=errors)
    if errors:
        raise Invalid(errors["remark"], errors=errors)
    if not valid and not remark:
        raise Invalid(_("Catatan wajib diisi untuk keputusan Tidak valid."), errors={"remark": _("Wajib diisi.")})
    submitted = {}
    for key, value, rules in (("public_title", public_title, {"limit": LIMITS["title"]}),
                              ("public_text", public_text, {"limit": LIMITS["text"], "multiline": True})):
        if value is not None and valid:
            # An edited public version may not be blank: the published complaint would say nothing.
            submitted[key] = read_text(errors, key, value, required=True, **rules)
    public_edit_reason = read_text(errors, "public_edit_reason", public_edit_reason, limit=LIMITS["reason"])
    if errors:
        raise Invalid(_("Periksa kembali versi publik."), errors=errors)
    now = utcnow()
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        if expected_version is not None and complaint.version != expected_version:
            raise Conflict(_("Pengaduan ini baru saja diputuskan oleh validator lain."), code="stale")
        # A field the desk sent back unchanged is not an edit (the boundary already normalised line breaks).
        edits = {k: v for k, v in submitted.items() if v != getattr(complaint, k)}
        if edits and not public_edit_reason:
            raise Invalid(_("Alasan perubahan versi publik wajib diisi."),
                          errors={"public_edit_reason": _("Wajib diisi.")})
        action = Action.VALIDATE if valid else Action.INVALIDATE
        # Valid without an OPD ("Saya tidak tahu OPD-nya"): to the dispatch queue, not to a desk.
        to_dispatch = valid and complaint.opd_id is None
        move = apply_transition(action, complaint.state, actor.roles,
                                State.PERLU_DISPOSISI if to_dispatch else None)
        override = valid and is_override(complaint.siak_verdict)
        if override and not override_reason:
            raise Invalid(_("SIAK menyatakan %(verdict)s. Untuk tetap menandai NIK valid, tulis alasannya.",
                            verdict=_siak_label(complaint.siak_verdict)),
                          errors={"override_reason": _("Wajib diisi bila NIK ditandai valid meski SIAK "
                                                       "tidak mencocokkannya.")}, code="override_reason")
        if (complaint.claim_expires_at and complaint.claim_expires_at > now
                and complaint.claimed_by_id not in (None, actor.user_id)):
            raise Conflict(_("Pengaduan ini sedang diperiksa oleh validator lain."), code="claimed")
        opened_at = complaint.claimed_at if complaint.claimed_by_id == actor.user_id and complaint.claimed_at else now
        db.session.add(NikCheck(complaint_id=complaint.id, validator_id=actor.user_id, opened_at=opened_at,
                                decided_at=now, structural_ok=complaint.nik_structural_ok,
                                siak_verdict=complaint.siak_verdict,
                                result="valid" if valid else "tidak_valid", remark=remark,
                                override_reason=override_reason if override else None))
        complaint.validated_at = now
        complaint.claimed_by_id = complaint.claim_expires_at = complaint.claimed_at = None
        if valid:
            for key, value in edits.items():
                setattr(complaint, key, _fit(public_rendering(value, name=complaint.name,
                                                              visibility=complaint.visibility), LIMITS[key[7:]]))
            if edits:
                complaint.public_edit_reason = public_edit_reason
            if not to_dispatch:
                _route(complaint, complaint.opd, now)
            if complaint.visibility is not Visibility.RAHASIA:
                complaint.published_at = now
            note = ("NIK valid. Menunggu disposisi: pelapor tidak tahu OPD-nya." if to_dispatch
                    else f"NIK valid. Diteruskan ke {complaint.opd.name}.")
            _event(complaint, move, actor, note=note, at=now)
        else:
            complaint.closed_at = now
            _event(complaint, move, actor, note=f"NIK tidak valid: {remark}", at=now)
        audit.record("action", "complaint.decide", actor=actor, complaint_id=complaint.id,
                     detail={"result": "valid" if valid else "tidak_valid", "public_edited": sorted(edits),
                             **({"override": True} if override else {})})
        # The remark is the validator's text: masked like every text that leaves the service (no NIK in a notice).
        _notify_complainant(complaint, ("dispatch" if to_dispatch else "routed") if valid else "invalid",
                            remark=_public_of(complaint, remark) if remark else remark)
    return complaint


def is_override(siak_verdict: str | None) -> bool:
    """A Valid decision against this SIAK verdict is a deliberate override (it needs a reason)."""
    return siak_verdict in OVERRIDDEN_VERDICTS


def _siak_label(verdict: str | None) -> str | None:
    from .validation import siak_label  # validation imports this module

    return siak_label(verdict)


def _route(complaint: Complaint, opd: Opd, now) -> None:
    deadline = compute_answer_deadline(now)  # queries the days off: before any change (autoflush)
    complaint.opd_id, complaint.opd = opd.id, opd
    complaint.routed_at = now
    # A routing starts a new answer clock: an earlier answer (to a complaint the Pimpinan re-opened)
    # neither counts for this deadline nor closes the complaint; the Answer rows keep it. The caller
    # writes the new state before the next query (a CHECK ties answered_at to the answered states).
    complaint.answered_at = complaint.closed_at = None
    complaint.answer_deadline = deadline
    complaint.answer_overdue = False
    complaint.answer_reminded_at = None
    db.session.add(Routing(complaint_id=complaint.id, opd_id=opd.id, routed_at=now,
                           deadline=complaint.answer_deadline))


def _close_routing(complaint: Complaint, now, outcome: str, reason: str | None = None) -> None:
    hop = db.session.scalar(sa.select(Routing).where(Routing.complaint_id == complaint.id,
                                                     Routing.ended_at.is_(None)).order_by(Routing.id.desc()))
    if hop is not None:
        hop.ended_at, hop.outcome, hop.reason = now, outcome, reason


def _notify_complainant(complaint: Complaint, template: str, locale: str = "id", **extra) -> None:
    """By e-mail when given, and to the phone when a WhatsApp/SMS gateway (WEBHOOK_URL) is configured.

    The reporter of a complaint imported from SP4N-LAPOR! never received a PIN from us and follows the
    report on LAPOR! (our answer is pushed there): their notices name the LAPOR! report, not our tracking."""
    if complaint.channel == Channel.LAPOR.value:
        link = db.session.scalar(sa.select(LaporImport.lapor_id).where(LaporImport.complaint_id == complaint.id))
        template = notify.LAPOR_REPORTER_TEMPLATES[template]
        extra = {**extra, "lapor_id": link or "-"}
    context = {"ticket": complaint.ticket, "track_url": track_url(complaint.ticket),
               "opd": complaint.opd.name if complaint.opd is not None else "-",
               "answer_deadline": format_wib(complaint.answer_deadline),
               "validation_deadline": format_wib(complaint.validation_deadline), **extra}
    notify.queue_complainant(complaint, template, context, locale=locale,
                             webhook_enabled=bool(setting("WEBHOOK_URL")))


def closed_how(how: str, reason: str | None = None) -> dict[str, str]:
    """The line of the "closed" notice that says how it closed: accepted, silence, or the Pimpinan (`reason`,
    already masked)."""
    if how == "accepted":
        return {"how": "Anda menyatakan pengaduan ini selesai. Terima kasih atas tanggapan Anda.",
                "how_en": "You said the matter was resolved. Thank you for your reply."}
    if how == "silence":
        days = setting("SILENCE_CLOSE_DAYS")
        return {"how": f"Tidak ada tanggapan Anda dalam {days} hari kerja setelah jawaban.",
                "how_en": f"There was no reply from you within {days} working days after the answer."}
    return {"how": f"Ditutup oleh Pimpinan: {reason}", "how_en": f"Closed by the Pimpinan: {reason}"}


def notify_closed(complaint: Complaint, how: str, reason: str | None = None) -> None:
    """The complainant's "closed" notice (on the channels they chose), in the caller's transaction."""
    _notify_complainant(complaint, "closed", **closed_how(how, _public_of(complaint, reason) if reason else None))


# --------------------------------------------------------------------------- OPD desk (rows 6-8)


def answer(complaint_id: int, actor: Actor, text: str, files: Sequence = ()) -> Answer:
    """SOP rows 7-8: store the answer; it is shown with the complaint at once."""
    text = require_text("text", text, _("Jawaban wajib diisi."), limit=LIMITS["answer"], multiline=True)
    now = utcnow()
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        move = apply_transition(Action.ANSWER, complaint.state, actor.roles)
        links.refuse_own_answer(complaint)
        reply = Answer(complaint=complaint, opd_id=complaint.opd_id, author_id=actor.user_id,
                       text=cipher().seal_niks(text), public_text=_public_of(complaint, text), created_at=now)
        db.session.add(reply)
        complaint.answered_at = now
        complaint.closed_at = now  # answered is the end of the SOP; retention counts from here
        _close_routing(complaint, now, "answered")
        _event(complaint, move, actor, note=f"Dijawab oleh {complaint.opd.name}.", at=now)
        db.session.flush()
        for incoming in files:
            incoming.save_for(complaint, answer=reply)
        audit.record("action", "complaint.answer", actor=actor, complaint_id=complaint.id)
        _notify_complainant(complaint, "answered")
        notify.queue_lapor(complaint, "answer", reply.public_text, dedupe_key=f"lapor:answer:{reply.id}")
        links.answer_linked(complaint, reply, actor, now)  # the same problem: one answer for every linked one
    return reply


def edit_answer(complaint_id: int, actor: Actor, text: str, reason: str) -> Answer:
    """Editing a published answer needs a reason; Continuum keeps every version for Pimpinan."""
    errors: dict[str, str] = {}
    text = read_text(errors, "text", text, limit=LIMITS["answer"], multiline=True, required=True)
    reason = read_text(errors, "reason", reason, limit=LIMITS["reason"], multiline=True)
    if not reason and "reason" not in errors:
        errors["reason"] = _("Alasan perubahan wajib diisi.")
    if errors:
        raise Invalid(_("Periksa kembali isian."), errors=errors)
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        if not actor.has(Role.ADMIN_OPD) or complaint.current_answer is None:
            raise Forbidden(_("Hanya OPD yang menjawab yang dapat mengubah jawaban."))
        reply = complaint.current_answer
        reply.text, reply.public_text = cipher().seal_niks(text), _public_of(complaint, text)
        reply.edited_at, reply.edit_reason = utcnow(), reason
        links.edit_linked(reply, reason)
        audit.record("action", "answer.edit", actor=actor, complaint_id=complaint.id, detail={"reason": reason})
    return reply


def return_to_dispatch(complaint_id: int, actor: Actor, reason: str) -> Complaint:
    """"Bukan wewenang": the OPD hands the complaint back for re-routing."""
    reason = require_text("reason", reason, _("Alasan wajib diisi."), limit=LIMITS["reason"], multiline=True)
    now = utcnow()
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        move = apply_transition(Action.RETURN, complaint.state, actor.roles)
        _close_routing(complaint, now, "returned", reason)
        event = _event(complaint, move, actor,
                       note=f"Dikembalikan oleh {complaint.opd.name} (bukan wewenang): {reason}", at=now)
        audit.record("action", "complaint.return", actor=actor, complaint_id=complaint.id,
                     detail={"reason": reason})
        db.session.flush()
        notify.queue_lapor(complaint, "return", _public_of(complaint, reason), dedupe_key=f"lapor:return:{event.id}")
    return complaint


def reroute(complaint_id: int, actor: Actor, opd_code: str, note: str | None = None) -> Complaint:
    """Disposisi: send the complaint to another OPD; its deadline starts again at this routing."""
    errors: dict[str, str] = {}
    opd_code = read_text(errors, "opd", opd_code, limit=LIMITS["opd"])
    note = read_text(errors, "note", note, limit=LIMITS["note"], multiline=True)
    if errors:
        raise Invalid(_("Periksa kembali isian disposisi."), errors=errors)
    now = utcnow()
    with unit_of_work():
        complaint = get_visible(complaint_id, actor)
        target = db.session.scalar(sa.select(Opd).where(Opd.code == (opd_code or ""), Opd.active.is_(True)))
        if target is None:
            raise Invalid(_("OPD tujuan tidak dikenal atau tidak aktif."), errors={"opd": _("OPD tidak dikenal.")})
        if target.id == complaint.opd_id and complaint.state is State.DITERUSKAN:
            raise Invalid(_("Pengaduan sudah berada di OPD tersebut."), errors={"opd": _("Pilih OPD lain.")})
        roles = actor.roles
        if complaint.state is State.PERLU_DISPOSISI:
            roles = roles & dispatch_roles()  # the deployment's choice of dispatcher (DISPATCH_BY)
        move = apply_transition(Action.REROUTE, complaint.state, roles)
        if complaint.state is State.DITERUSKAN:
            _close_routing(complaint, now, "rerouted", note)
        _route(complaint, target, now)
        _event(complaint, move, actor, note=f"Diteruskan ke {target.name}." + (f" {note}" if note else ""), at=now)
        audit.record("action", "complaint.reroute", actor=actor, complaint_id=complaint.id,
                     detail={"opd": target.code})
        _notify_complainant(complaint, "routed")
    return complaint


def close_answered(complaint_id: int, actor: Actor) -> Complaint:
    """DIJAWAB → SELESAI, by the complainant (accepting) or the system after a quiet period."""
    now = utcnow()
    with unit_of_work():
        complaint = db.session.get(Complaint, complaint_id)
        if complaint is None:
            raise NotFound(_("Pengaduan tidak ditemukan."))
        move = apply_transition(Action.CLOSE, complaint.state, actor.roles)
        complaint.closed_at = now
        _event(complaint, move, actor, note="Pengaduan selesai.", at=now)
        audit.record("action", "complaint.close", actor=actor, complaint_id=complaint.id)
        notify_closed(complaint, "silence" if move.role is Role.SYSTEM else "accepted")
    return complaint
