"""SQLAlchemy models and enums only. Timestamps are naive UTC (see `timeutil`).

Rows that anonymous citizens or the scheduler create carry nullable actor columns of their own:
FAB's AuditMixin needs a logged-in user (FAB-NOTES #2).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy_continuum import make_versioned
from sqlalchemy_continuum.plugins import FlaskPlugin

from .timeutil import utcnow
from .workflow import State, Visibility

# Must run before the versioned models are declared (FAB-NOTES #18).
make_versioned(user_cls="User", plugins=[FlaskPlugin()])


def _enum(enum_cls, name: str) -> sa.Enum:
    # Stored as short strings with a CHECK, so adding a value is an ordinary migration on both databases.
    return sa.Enum(enum_cls, name=name, native_enum=False, length=24,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


class Opd(Model):
    """An agency (Organisasi Perangkat Daerah) that receives complaints."""

    __tablename__ = "opd"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32), default="dinas")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, index=True)
    email: Mapped[Optional[str]] = mapped_column(sa.String(320))

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Staff(User):
    """FAB's user with the agency it belongs to (Admin OPD) and its sign-in state (single-table)."""

    opd_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("opd.id"), nullable=True, index=True)
    opd: Mapped[Optional[Opd]] = relationship(Opd, foreign_keys=[opd_id])
    # Carried in every session and API token of the account; raising it ends them all (sign-out,
    # password change, deactivation). See services/sessions.py.
    session_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # When an address was last locked out of this account: lets the per-request session check skip
    # the per-address look-up for sessions opened after it.
    last_lockout_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime, nullable=True)
    # Last failure of the current "failures from many addresses" episode: a new episode, and with it
    # one notice to Admin Sistem, starts when this is older than LOGIN_ALERT_MINUTES.
    attack_seen_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime, nullable=True)


class SignInThrottle(Model):
    """Failed sign-ins per account AND client address, and that pair's lockout.

    Locking the pair rather than the account means a stranger cannot lock a validator out: only the
    stranger's own address is refused. Rows are pruned by services/security.py once they are older
    than the lockout, the attack window and the session lifetime."""

    __tablename__ = "sign_in_throttle"
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True)
    ip: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_failure_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    locked_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    locked_until: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)


class TicketCounter(Model):
    """One row per prefix and year; incremented under a row lock so tickets never collide."""

    __tablename__ = "ticket_counter"
    prefix: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(default=0)


class Complaint(Model):
    __tablename__ = "complaint"
    # Personal fields are not versioned: retention must be able to erase them everywhere.
    __versioned__ = {"exclude": ["name", "nik_encrypted", "nik_hash", "phone", "email", "address",
                                 "pin_hash", "claimed_by_id", "claimed_at", "claim_expires_at"]}

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(sa.String(24), unique=True)
    pin_hash: Mapped[str] = mapped_column(sa.String(256))
    channel: Mapped[str] = mapped_column(sa.String(16), default="web")  # web | api | open311
    # --- the complainant (never public; NIK only on the validator's desk) ---
    name: Mapped[str] = mapped_column(sa.String(120))
    nik_encrypted: Mapped[str] = mapped_column(sa.Text)  # Fernet token
    nik_hash: Mapped[str] = mapped_column(sa.String(64), index=True)  # HMAC-SHA256 of the NIK
    phone: Mapped[Optional[str]] = mapped_column(sa.String(32))
    email: Mapped[Optional[str]] = mapped_column(sa.String(254))
    address: Mapped[Optional[str]] = mapped_column(sa.String(300))
    # --- the complaint ---
    opd_id: Mapped[int] = mapped_column(sa.ForeignKey("opd.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)  # up to 4,000 characters (checked by the service)
    location: Mapped[Optional[str]] = mapped_column(sa.String(300))
    # Public renderings: personal data typed inside title/text masked; a validator may edit them.
    public_title: Mapped[Optional[str]] = mapped_column(sa.String(200))
    public_text: Mapped[Optional[str]] = mapped_column(sa.Text)
    public_edit_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"), default=Visibility.ANONIM)
    state: Mapped[State] = mapped_column(_enum(State, "complaint_state"))
    # --- structural NIK check and SIAK pre-check (verdict, score and time only) ---
    nik_structural_ok: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    nik_findings: Mapped[Optional[str]] = mapped_column(sa.Text)  # JSON list of {code, message, severity}
    siak_verdict: Mapped[Optional[str]] = mapped_column(sa.String(24))
    siak_score: Mapped[Optional[int]] = mapped_column(sa.Integer)
    siak_reason: Mapped[Optional[str]] = mapped_column(sa.String(300))
    siak_checked_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    # --- times and deadlines (SOP time standards) ---
    submitted_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    validation_deadline: Mapped[datetime] = mapped_column(sa.DateTime)
    validated_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    routed_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    answer_deadline: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    answered_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    published_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)  # NULL: not public
    # Overdue is a flag set by the SLA sweep for fast queries, not a state.
    validation_overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    answer_overdue: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    validation_reminded_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    answer_reminded_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    # --- the validator's claim (10 minutes) ---
    claimed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id"))
    claimed_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    claim_expires_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    anonymised_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    opd: Mapped[Opd] = relationship(Opd, lazy="joined")
    claimed_by: Mapped[Optional[Staff]] = relationship(Staff, foreign_keys=[claimed_by_id])
    events: Mapped[list["StatusEvent"]] = relationship(
        back_populates="complaint", order_by="StatusEvent.id", cascade="all, delete-orphan")
    answers: Mapped[list["Answer"]] = relationship(
        back_populates="complaint", order_by="Answer.id", cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="complaint", order_by="Attachment.id", cascade="all, delete-orphan")

    # Optimistic locking: a stale writer gets StaleDataError instead of overwriting a decision.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        sa.Index("ix_complaint_queue_validation", "state", "validation_deadline"),
        sa.Index("ix_complaint_queue_opd", "opd_id", "state", "answer_deadline"),
        sa.Index("ix_complaint_public", "published_at", "id"),
        sa.Index("ix_complaint_public_opd", "opd_id", "published_at", "id"),
        sa.Index("ix_complaint_public_state", "state", "published_at", "id"),
        sa.Index("ix_complaint_submitted", "submitted_at"),
        sa.Index("ix_complaint_closed", "closed_at"),
        {"extend_existing": True},
    )

    @property
    def current_answer(self) -> Optional["Answer"]:
        return self.answers[-1] if self.answers else None

    def __str__(self) -> str:
        return self.ticket


class StatusEvent(Model):
    """The timeline: every state change (and claim) with who, when and a note."""

    __tablename__ = "status_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    from_state: Mapped[Optional[State]] = mapped_column(_enum(State, "event_from_state"))
    to_state: Mapped[State] = mapped_column(_enum(State, "event_to_state"))
    action: Mapped[str] = mapped_column(sa.String(24))
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id"))
    actor_role: Mapped[str] = mapped_column(sa.String(32))
    opd_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("opd.id"))
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    note: Mapped[Optional[str]] = mapped_column(sa.Text)
    public: Mapped[bool] = mapped_column(sa.Boolean, default=True)  # shown on tracking / public page

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[Optional[Staff]] = relationship(Staff)
    opd: Mapped[Optional[Opd]] = relationship(Opd)


class NikCheck(Model):
    """One row per validator decision (SOP rows 4-5)."""

    __tablename__ = "nik_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    validator_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"), index=True)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime)
    decided_at: Mapped[datetime] = mapped_column(sa.DateTime, index=True)
    structural_ok: Mapped[bool] = mapped_column(sa.Boolean)
    siak_verdict: Mapped[Optional[str]] = mapped_column(sa.String(24))
    result: Mapped[str] = mapped_column(sa.String(16))  # valid | tidak_valid
    remark: Mapped[Optional[str]] = mapped_column(sa.Text)

    complaint: Mapped[Complaint] = relationship()
    validator: Mapped[Staff] = relationship(Staff)

    @property
    def work_seconds(self) -> float:
        return (self.decided_at - self.opened_at).total_seconds()


class Routing(Model):
    """One hop of a complaint at an OPD: kept so the recap can tell time spent per OPD."""

    __tablename__ = "routing"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    opd_id: Mapped[int] = mapped_column(sa.ForeignKey("opd.id"), index=True)
    routed_at: Mapped[datetime] = mapped_column(sa.DateTime)
    deadline: Mapped[datetime] = mapped_column(sa.DateTime)
    ended_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    outcome: Mapped[Optional[str]] = mapped_column(sa.String(16))  # answered | returned | rerouted
    reason: Mapped[Optional[str]] = mapped_column(sa.Text)

    opd: Mapped[Opd] = relationship(Opd)


class Answer(Model):
    """The OPD's answer (SOP rows 7-8). Edits keep every version (SQLAlchemy-Continuum)."""

    __tablename__ = "answer"
    __versioned__: dict = {}
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    opd_id: Mapped[int] = mapped_column(sa.ForeignKey("opd.id"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    public_text: Mapped[str] = mapped_column(sa.Text)  # personal data masked
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    edited_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    edit_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))

    complaint: Mapped[Complaint] = relationship(back_populates="answers")
    opd: Mapped[Opd] = relationship(Opd)
    author: Mapped[Staff] = relationship(Staff)


class Attachment(Model):
    """A file stored under a random name outside any static folder; served after an access check."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    answer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("answer.id"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(200))
    stored_name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    content_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    complaint: Mapped[Complaint] = relationship(back_populates="attachments")


class InternalNote(Model):
    """Staff-only notes on a complaint; never public."""

    __tablename__ = "internal_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)

    author: Mapped[Staff] = relationship(Staff)


class NonWorkingDay(Model):
    """Days off beyond the national holidays (cuti bersama, local days), recorded by Admin Sistem."""

    __tablename__ = "non_working_day"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(sa.Date, unique=True)
    description: Mapped[str] = mapped_column(sa.String(200))

    def __str__(self) -> str:
        return f"{self.day:%d-%m-%Y} {self.description}"


class RegistryEntry(Model):
    """The offline civil registry (for regions without a PKS, and demos): keyed by the NIK's HMAC."""

    __tablename__ = "registry_entry"
    id: Mapped[int] = mapped_column(primary_key=True)
    nik_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    birth_date: Mapped[Optional[date]] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(16), default="aktif")  # aktif | meninggal | tidak_aktif


class AuditLog(Model):
    """The append-only history log (SOP "Pencatatan"): never updated or deleted by the app."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), index=True)  # auth | request | action | pii | system
    action: Mapped[str] = mapped_column(sa.String(48))
    user_id: Mapped[Optional[int]] = mapped_column(sa.Integer)  # no FK: survives user removal
    username: Mapped[Optional[str]] = mapped_column(sa.String(128))
    role: Mapped[Optional[str]] = mapped_column(sa.String(64))
    complaint_id: Mapped[Optional[int]] = mapped_column(sa.Integer)
    method: Mapped[Optional[str]] = mapped_column(sa.String(8))
    path: Mapped[Optional[str]] = mapped_column(sa.String(500))
    endpoint: Mapped[Optional[str]] = mapped_column(sa.String(120))
    status: Mapped[Optional[int]] = mapped_column(sa.Integer)
    ip: Mapped[Optional[str]] = mapped_column(sa.String(64))
    user_agent: Mapped[Optional[str]] = mapped_column(sa.String(300))
    duration_ms: Mapped[Optional[int]] = mapped_column(sa.Integer)
    detail: Mapped[Optional[str]] = mapped_column(sa.Text)  # JSON
    target: Mapped[Optional[str]] = mapped_column(sa.String(64))  # changed record, e.g. "user:12"

    # Each filter of the history screens leads an index with the time, so a filtered page newest-first
    # is a short index range scan even with millions of rows (migration 0006).
    __table_args__ = (
        sa.Index("ix_audit_log_action_at", "action", "at"),
        sa.Index("ix_audit_log_user_at", "user_id", "at"),
        sa.Index("ix_audit_log_username_at", "username", "at"),
        sa.Index("ix_audit_log_role_at", "role", "at"),
        sa.Index("ix_audit_log_complaint_at", "complaint_id", "at"),
        sa.Index("ix_audit_log_target_at", "target", "at"),
        {"extend_existing": True},
    )


class Outbox(Model):
    """Notifications waiting for delivery by the scheduler (never sent inside a web request)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # email | webhook
    recipient: Mapped[str] = mapped_column(sa.String(320))
    template: Mapped[str] = mapped_column(sa.String(48))
    locale: Mapped[str] = mapped_column(sa.String(8), default="id")
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    complaint_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("complaint.id"), index=True)
    # Unique per logical notice so a reminder or escalation is queued once, whoever asks twice.
    dedupe_key: Mapped[Optional[str]] = mapped_column(sa.String(160), unique=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)

    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"), {"extend_existing": True})


# The OPD desk's queues (app/services/desk.py, migration 0004_opd): supervisors' cross-OPD queue by
# deadline, each OPD's "answered" tab and everyone's newest-answered list, and the per-OPD time recap.
sa.Index("ix_complaint_desk_deadline", Complaint.state, Complaint.answer_deadline, Complaint.id)
sa.Index("ix_complaint_desk_answered", Complaint.opd_id, Complaint.answered_at, Complaint.id)
sa.Index("ix_complaint_answered", Complaint.answered_at, Complaint.id)
sa.Index("ix_routing_routed_at", Routing.routed_at)


# SLA watch (migration 0007_sla): late decisions caught by the sweep's look-back and the validator
# figures of the dashboard; the outbox screen, newest first within a status. (The answer sweep and the
# per-OPD figures use the desk's ix_complaint_desk_deadline, ix_complaint_answered, ix_routing_routed_at.)
sa.Index("ix_complaint_validated", Complaint.validated_at)
sa.Index("ix_outbox_status_id", Outbox.status, Outbox.id)


# Citizens' portal (app/services/portal.py, migration 0002_portal): text search of the public list.
# A trigram GIN index on PostgreSQL (pg_trgm) serves `ILIKE '%word%'` on the public title + text;
# SQLite has no such index and scans (fine for one regency). The expression is grouped the way
# PostgreSQL reflects it, so the drift check in tests/integration/test_migrations.py can compare it;
# the portal's query uses this very expression, which is what lets the planner pick the index. The
# constants are rendered inline (literal_execute) so the query's expression equals the index's.


def _inline(value: str):
    return sa.literal(value, sa.Text, literal_execute=True)


PUBLIC_SEARCH_TEXT = (
    sa.func.coalesce(Complaint.__table__.c.public_title, _inline(""))
    .op("||")(_inline(" "))
    .op("||")(sa.func.coalesce(Complaint.__table__.c.public_text, _inline("")))
)
# Not partial on purpose: PostgreSQL uses an expression index's statistics only when it is not partial,
# and without them it cannot tell a common word (walk the newest-first index) from a rare one (use this).
sa.Index("ix_complaint_public_search", PUBLIC_SEARCH_TEXT.label("public_search"), postgresql_using="gin",
         postgresql_ops={"public_search": "gin_trgm_ops"}).ddl_if(dialect="postgresql")
