"""SQLAlchemy models and enums only. Timestamps are naive UTC (see `timeutil`).

Rows that anonymous citizens or the scheduler create carry nullable actor columns of their own:
FAB's AuditMixin needs a logged-in user (FAB-NOTES #2).

The database enforces the model's invariants itself (migration 0010_invariants; README "Integritas
data"), whatever writes the row:

- enumerated columns: a CHECK built by `one_of` from the enum or tuple that defines the values (`State`,
  `Visibility`, `Channel`, `Action`, `Role` in app/workflow.py, `Verdict`, `REGISTRY_STATUSES` in
  app/siak/, the tuples below); cross-column CHECKs (see each table), partly built from the state sets
  of app/workflow.py; at most one open routing per complaint (partial unique index). Continuum's version
  tables copy columns, never table constraints: a version row may hold any intermediate state.
- foreign keys: a complaint's parts go with it (CASCADE); a referenced OPD or staff account cannot be
  deleted (RESTRICT: deactivate it); a claim is released (SET NULL); the history log has none.
- names follow `NAMING_CONVENTION` (app/extensions.py): ck_<table>_<name>, fk_<table>_<column>,
  uq_<table>_<columns>, pk_<table>. SQLite tables not recreated since 0010 may keep unnamed constraints;
  batch mode with `naming_convention=NAMING_CONVENTION` sees them under those names.

Adding a value: (1) add it to its enum/tuple (a state also to the state sets it belongs to); (2) a
migration replaces each CHECK whose text changed, the same on both databases, text frozen in it:

    with op.batch_alter_table("complaint", naming_convention=NAMING_CONVENTION) as batch:
        batch.drop_constraint(op.f("ck_complaint_channel"), type_="check")
        batch.create_check_constraint(op.f("ck_complaint_channel"), "channel IN ('web', 'api', 'open311', 'lapor')")

(`op.f()`: the name as written, or the "ck" convention prefixes it twice); (3) the CHECK comparison in
tests/integration/test_migrations.py fails on both databases until that migration exists.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import Iterable, Optional

import sqlalchemy as sa
from flask_appbuilder import Model
from flask_appbuilder.security.sqla.models import User
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy_continuum import make_versioned, versioning_manager
from sqlalchemy_continuum.operation import Operation
from sqlalchemy_continuum.plugins import FlaskPlugin
from sqlalchemy_continuum.unit_of_work import UnitOfWork

from .siak import REGISTRY_STATUSES, Verdict
from .timeutil import utcnow
from .workflow import ANSWERED_STATES, CLOSED_STATES, OPD_OPTIONAL_STATES, VALIDATED_STATES, Action, Channel, Role, State, Visibility

class _VersioningUnitOfWork(UnitOfWork):
    """Continuum's unit of work (its `unit_of_work_cls`), without looking for an earlier version of a row just
    inserted on PostgreSQL to close (the 'validity' strategy's `end_transaction_id`): its id comes from a
    sequence and is never reused, so there is none. The look-up (one SELECT of the version table and its
    statement building, ~2 ms) ran inside the ticket counter's lock on every submission. SQLite may reuse
    the id of a deleted last row, so there the look-up stays."""

    def update_version_validity(self, parent, version_obj):
        if version_obj.operation_type == Operation.INSERT and \
                sa.orm.object_session(version_obj).get_bind().dialect.name == "postgresql":
            return
        super().update_version_validity(parent, version_obj)


versioning_manager.uow_class = _VersioningUnitOfWork
# Must run before the versioned models are declared (FAB-NOTES #18).
make_versioned(user_cls="User", plugins=[FlaskPlugin()])


def _enum(enum_cls, name: str) -> sa.Enum:
    # Stored as short strings, so adding a value is an ordinary migration on both databases. The CHECK is
    # the table's (`one_of`), not the type's: Continuum copies column types into the version tables.
    return sa.Enum(enum_cls, name=name, native_enum=False, length=24,
                   values_callable=lambda e: [m.value for m in e], validate_strings=True)


# Allowed values of the enumerated string columns that have no enum of their own.
NIK_CHECK_RESULTS = ("valid", "tidak_valid")
# The SIAK verdicts a Valid decision overrides (and must explain): services.complaints.OVERRIDDEN_VERDICTS.
OVERRIDDEN_VERDICTS = ("NOT_FOUND", "MISMATCH")
OVERRIDE_CHECK = ("result <> 'valid' OR siak_verdict IS NULL OR siak_verdict NOT IN ('NOT_FOUND', 'MISMATCH') "
                  "OR override_reason IS NOT NULL")
ROUTING_OUTCOMES = ("answered", "returned", "rerouted")
AUDIT_KINDS = ("auth", "request", "action", "pii", "system")
OUTBOX_STATUSES = ("pending", "sent", "dead")
OUTBOX_CHANNELS = ("email", "webhook", "lapor")
LAPOR_IMPORT_STATUSES = ("imported", "refused")


def sql_values(values: Iterable) -> str:
    """`'a', 'b'` for a CHECK text; a set of enum members comes out in declaration order (stable text)."""
    items = list(values)
    if items and isinstance(items[0], enum.Enum):
        order = list(type(items[0]))
        items.sort(key=order.index)
    return ", ".join(f"'{getattr(v, 'value', v)}'" for v in items)


def one_of(column: str, values: Iterable) -> sa.CheckConstraint:
    """CHECK (<column> IN (…)), named ck_<table>_<column>. NULL passes: nullability is the column's."""
    return sa.CheckConstraint(f"{column} IN ({sql_values(values)})", name=column)


class Opd(Model):
    """An agency (Organisasi Perangkat Daerah) that receives complaints."""

    __tablename__ = "opd"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32), default="dinas")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True, index=True)
    email: Mapped[Optional[str]] = mapped_column(sa.String(320))
    # What the agency handles (tugas dan fungsi, from its Perbup) and keywords separated by ";": the
    # cold start of the OPD suggestion (app/routing), editable by Admin Sistem.
    duties: Mapped[Optional[str]] = mapped_column(sa.Text)
    keywords: Mapped[Optional[str]] = mapped_column(sa.Text)

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class Staff(User):
    """FAB's user with the agency it belongs to (Admin OPD) and its sign-in state (single-table)."""

    opd_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("opd.id", ondelete="RESTRICT"), nullable=True,
                                                  index=True)
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
                                 "pin_hash", "claimed_by_id", "claimed_at", "claim_expires_at",
                                 "siak_attempts", "siak_next_check_at", "submission_key", "notify_email", "notify_phone"]}

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket: Mapped[str] = mapped_column(sa.String(24), unique=True)
    pin_hash: Mapped[str] = mapped_column(sa.String(256))
    # The public form's idempotency token (services.complaints.submit): a retried POST of the same form
    # (no response seen, worker killed, database outage, double click) finds this complaint again.
    submission_key: Mapped[Optional[str]] = mapped_column(sa.String(64), unique=True)
    channel: Mapped[str] = mapped_column(sa.String(16), default=Channel.WEB.value)
    # Who delivered it within its channel: the name of the Open311 key (one key per integrating app).
    channel_source: Mapped[Optional[str]] = mapped_column(sa.String(64))
    # --- the complainant (never public; NIK only on the validator's desk) ---
    name: Mapped[str] = mapped_column(sa.String(120))
    nik_encrypted: Mapped[str] = mapped_column(sa.Text)  # Fernet token
    nik_hash: Mapped[str] = mapped_column(sa.String(64))  # HMAC-SHA256 of the NIK (ix_complaint_nik_submitted)
    phone: Mapped[Optional[str]] = mapped_column(sa.String(32))
    email: Mapped[Optional[str]] = mapped_column(sa.String(254))
    address: Mapped[Optional[str]] = mapped_column(sa.String(300))
    # The notices the complainant chose on the form (notify.queue_complainant): by e-mail, and to the phone
    # through the WhatsApp/SMS gateway when one is configured.
    notify_email: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    notify_phone: Mapped[bool] = mapped_column(sa.Boolean, default=True, server_default=sa.true())
    # --- the complaint ---
    # An OPD with complaints is deactivated, never deleted (RESTRICT, like every reference to an OPD).
    # None: the complainant chose "Saya tidak tahu OPD-nya"; the dispatch queue routes it (0021).
    opd_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("opd.id", ondelete="RESTRICT"), nullable=True)
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
    # SIAK unavailable: how many checks in a row found it so, and when the pre-check asks again
    # (exponential backoff, services.validation.siak_retry_delay); reset by any real verdict.
    siak_attempts: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    siak_next_check_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
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
    # A claim is a transient hold: deleting the account releases it.
    claimed_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="SET NULL"))
    claimed_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    claim_expires_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    anonymised_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    # "The same problem" (services.links, migration 0023_links): the earlier complaint of the same OPD whose
    # answer answers this one too. One level only: a main complaint is never linked itself.
    linked_to_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("complaint.id", ondelete="SET NULL"),
                                                        index=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)

    opd: Mapped[Optional[Opd]] = relationship(Opd, lazy="joined")
    claimed_by: Mapped[Optional[Staff]] = relationship(Staff, foreign_keys=[claimed_by_id])
    linked_to: Mapped[Optional["Complaint"]] = relationship("Complaint", remote_side="Complaint.id",
                                                            foreign_keys=[linked_to_id])
    events: Mapped[list["StatusEvent"]] = relationship(
        back_populates="complaint", order_by="StatusEvent.id", cascade="all, delete-orphan")
    answers: Mapped[list["Answer"]] = relationship(
        back_populates="complaint", order_by="Answer.id", cascade="all, delete-orphan")
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="complaint", order_by="Attachment.id", cascade="all, delete-orphan")

    # Optimistic locking: a stale writer gets StaleDataError instead of overwriting a decision.
    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        # Queues end with id, the keyset's tie-breaker (migration 0013_perf, as the indexes below it).
        sa.Index("ix_complaint_queue_validation", "state", "validation_deadline", "id"),
        sa.Index("ix_complaint_queue_opd", "opd_id", "state", "answer_deadline", "id"),
        sa.Index("ix_complaint_routed", "routed_at"),  # the recap's period (0013_perf)
        # The duplicate check: one NIK's submissions in the last DUPLICATE_WINDOW_MINUTES (0032).
        sa.Index("ix_complaint_nik_submitted", "nik_hash", "submitted_at"),
        sa.Index("ix_complaint_public", "published_at", "id"),
        sa.Index("ix_complaint_public_opd", "opd_id", "published_at", "id"),
        sa.Index("ix_complaint_public_state", "state", "published_at", "id"),
        sa.Index("ix_complaint_submitted", "submitted_at"),
        sa.Index("ix_complaint_closed", "closed_at"),
        one_of("state", State),
        one_of("visibility", Visibility),
        one_of("channel", Channel),
        one_of("siak_verdict", Verdict),
        # What the services keep and the portal, desks, SLA sweep, recap and retention rely on:
        # a rahasia complaint is never published (the portal also filters on visibility) ...
        sa.CheckConstraint(f"visibility <> '{Visibility.RAHASIA.value}' OR published_at IS NULL",
                           name="rahasia_unpublished"),
        # ... only a complaint whose NIK was found valid is (validated and in a validated state) ...
        sa.CheckConstraint(f"published_at IS NULL OR (validated_at IS NOT NULL "
                           f"AND state IN ({sql_values(VALIDATED_STATES)}))", name="published_validated"),
        # ... a decided complaint has its decision time (not the converse: deciding sets the time and the
        # session may flush it before the new state; a CHECK cannot wait for the commit) ...
        sa.CheckConstraint(f"state = '{State.MENUNGGU_VERIFIKASI.value}' OR validated_at IS NOT NULL",
                           name="validated_at"),
        # ... a validated complaint was routed and has an answer deadline ...
        # (except one waiting in the dispatch queue without an OPD: "Saya tidak tahu OPD-nya") ...
        sa.CheckConstraint(f"state NOT IN ({sql_values(VALIDATED_STATES)}) "
                           f"OR (routed_at IS NOT NULL AND answer_deadline IS NOT NULL) "
                           f"OR (state = '{State.PERLU_DISPOSISI.value}' AND opd_id IS NULL)", name="routed"),
        # ... only a complaint not yet checked, found invalid or waiting for dispatch may lack an OPD ...
        sa.CheckConstraint(f"opd_id IS NOT NULL OR state IN ({sql_values(OPD_OPTIONAL_STATES)})", name="opd_held"),
        # ... an answered complaint has its answer time, and a closed one its closing time (retention).
        sa.CheckConstraint(f"state NOT IN ({sql_values(ANSWERED_STATES)}) OR answered_at IS NOT NULL",
                           name="answered_at"),
        sa.CheckConstraint(f"state NOT IN ({sql_values(CLOSED_STATES)}) OR closed_at IS NOT NULL",
                           name="closed_at"),
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
    # The parts of a complaint go with it (CASCADE): without the complaint they mean nothing, and the
    # ORM relationships cascade the same way. The app never deletes a complaint (retention anonymises);
    # a deliberate deletion removes the record whole. Stored files are removed by code, not by this.
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    from_state: Mapped[Optional[State]] = mapped_column(_enum(State, "event_from_state"))
    to_state: Mapped[State] = mapped_column(_enum(State, "event_to_state"))
    action: Mapped[str] = mapped_column(sa.String(24))
    # Who did what stays answerable (SOP): an account on the record is deactivated, never deleted.
    actor_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="RESTRICT"))
    actor_role: Mapped[str] = mapped_column(sa.String(32))
    opd_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("opd.id", ondelete="RESTRICT"))
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    note: Mapped[Optional[str]] = mapped_column(sa.Text)
    public: Mapped[bool] = mapped_column(sa.Boolean, default=True)  # shown on tracking / public page

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[Optional[Staff]] = relationship(Staff)
    opd: Mapped[Optional[Opd]] = relationship(Opd)

    __table_args__ = (
        one_of("from_state", State),
        one_of("to_state", State),
        one_of("action", Action),
        one_of("actor_role", Role),
        {"extend_existing": True},
    )


class NikCheck(Model):
    """One row per validator decision (SOP rows 4-5)."""

    __tablename__ = "nik_check"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    validator_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="RESTRICT"), index=True)
    opened_at: Mapped[datetime] = mapped_column(sa.DateTime)
    decided_at: Mapped[datetime] = mapped_column(sa.DateTime, index=True)
    structural_ok: Mapped[bool] = mapped_column(sa.Boolean)
    siak_verdict: Mapped[Optional[str]] = mapped_column(sa.String(24))
    result: Mapped[str] = mapped_column(sa.String(16))  # NIK_CHECK_RESULTS
    remark: Mapped[Optional[str]] = mapped_column(sa.Text)
    # Why the validator marked the NIK valid although SIAK said "not found" or "mismatch" (issue 16, item 7).
    override_reason: Mapped[Optional[str]] = mapped_column(sa.Text)

    complaint: Mapped[Complaint] = relationship()
    validator: Mapped[Staff] = relationship(Staff)

    __table_args__ = (
        one_of("result", NIK_CHECK_RESULTS),
        one_of("siak_verdict", Verdict),
        # "Tidak valid" is always explained: the complainant reads the remark when tracking.
        sa.CheckConstraint("result <> 'tidak_valid' OR remark IS NOT NULL", name="invalid_remark"),
        # Valid against SIAK's "not found" / "mismatch" is a deliberate override, always explained.
        sa.CheckConstraint(OVERRIDE_CHECK, name="override_reason"),
        {"extend_existing": True},
    )

    @property
    def work_seconds(self) -> float:
        return (self.decided_at - self.opened_at).total_seconds()


class Routing(Model):
    """One hop of a complaint at an OPD: kept so the recap can tell time spent per OPD."""

    __tablename__ = "routing"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    opd_id: Mapped[int] = mapped_column(sa.ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    routed_at: Mapped[datetime] = mapped_column(sa.DateTime)
    deadline: Mapped[datetime] = mapped_column(sa.DateTime)
    ended_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    outcome: Mapped[Optional[str]] = mapped_column(sa.String(16))  # ROUTING_OUTCOMES
    reason: Mapped[Optional[str]] = mapped_column(sa.Text)

    opd: Mapped[Opd] = relationship(Opd)

    __table_args__ = (
        one_of("outcome", ROUTING_OUTCOMES),
        # A hop ends with an outcome, and only an ended hop has one.
        sa.CheckConstraint("(ended_at IS NULL AND outcome IS NULL) OR (ended_at IS NOT NULL AND outcome IS NOT NULL)",
                           name="ended_outcome"),
        # At most one open hop per complaint: the services close the open one before routing again.
        sa.Index("ix_routing_open", "complaint_id", unique=True, sqlite_where=sa.text("ended_at IS NULL"),
                 postgresql_where=sa.text("ended_at IS NULL")),
        {"extend_existing": True},
    )


class Answer(Model):
    """The OPD's answer (SOP rows 7-8). Edits keep every version (SQLAlchemy-Continuum)."""

    __tablename__ = "answer"
    __versioned__: dict = {}
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    opd_id: Mapped[int] = mapped_column(sa.ForeignKey("opd.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(sa.Text)
    public_text: Mapped[str] = mapped_column(sa.Text)  # personal data masked
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    edited_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    edit_reason: Mapped[Optional[str]] = mapped_column(sa.String(500))
    # The main complaint's answer this one copies (a linked complaint answered with it: services.links).
    main_answer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("answer.id", ondelete="SET NULL"),
                                                          index=True)

    complaint: Mapped[Complaint] = relationship(back_populates="answers")
    opd: Mapped[Opd] = relationship(Opd)
    author: Mapped[Staff] = relationship(Staff)
    main_answer: Mapped[Optional["Answer"]] = relationship("Answer", remote_side="Answer.id",
                                                           foreign_keys=[main_answer_id])


class CitizenReply(Model):
    """The complainant's reply to one answer, once (issue 17): accepted ("Selesai, terima kasih") or
    disputed ("Belum selesai", with a reason), a rating 1-5 and an optional comment. The OPD is the one
    that gave the answer, so the satisfaction recap stays with it after a re-routing."""

    __tablename__ = "citizen_reply"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[int] = mapped_column(sa.ForeignKey("answer.id", ondelete="CASCADE"), unique=True)
    opd_id: Mapped[int] = mapped_column(sa.ForeignKey("opd.id", ondelete="RESTRICT"), index=True)
    accepted: Mapped[bool] = mapped_column(sa.Boolean)
    reason: Mapped[Optional[str]] = mapped_column(sa.Text)  # required when disputed (up to 1,000 characters)
    public_reason: Mapped[Optional[str]] = mapped_column(sa.Text)  # personal data masked
    rating: Mapped[int] = mapped_column(sa.Integer)
    comment: Mapped[Optional[str]] = mapped_column(sa.Text)
    public_comment: Mapped[Optional[str]] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)

    opd: Mapped[Opd] = relationship(Opd)

    __table_args__ = (
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating"),
        sa.CheckConstraint("accepted OR reason IS NOT NULL", name="dispute_reason"),
        {"extend_existing": True},
    )


class Attachment(Model):
    """A file stored under a random name outside any static folder; served after an access check."""

    __tablename__ = "attachment"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    answer_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("answer.id", ondelete="CASCADE"), index=True)
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
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="RESTRICT"))
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
    status: Mapped[str] = mapped_column(sa.String(16), default="aktif")  # siak.REGISTRY_STATUSES

    __table_args__ = (one_of("status", REGISTRY_STATUSES), {"extend_existing": True})


class AuditLog(Model):
    """The append-only history log (SOP "Pencatatan"): never updated or deleted by the app."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(sa.String(16), index=True)  # AUDIT_KINDS
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
    # The request's id (nginx's X-Request-ID, or made by the app): the same id is in every log line.
    request_id: Mapped[Optional[str]] = mapped_column(sa.String(64), index=True)

    # Each filter of the history screens leads an index with the time, so a filtered page newest-first
    # is a short index range scan even with millions of rows (migration 0006).
    __table_args__ = (
        sa.Index("ix_audit_log_action_at", "action", "at"),
        sa.Index("ix_audit_log_user_at", "user_id", "at"),
        sa.Index("ix_audit_log_username_at", "username", "at"),
        sa.Index("ix_audit_log_role_at", "role", "at"),
        sa.Index("ix_audit_log_complaint_at", "complaint_id", "at"),
        sa.Index("ix_audit_log_target_at", "target", "at"),
        one_of("kind", AUDIT_KINDS),
        {"extend_existing": True},
    )


class SchedulerHeartbeat(Model):
    """One row per scheduler process that holds the leader lock: when it last said it was alive
    (/health and the Admin Sistem health page show its age)."""

    __tablename__ = "scheduler_heartbeat"
    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)  # "leader"
    beat_at: Mapped[datetime] = mapped_column(sa.DateTime)
    host: Mapped[Optional[str]] = mapped_column(sa.String(128))
    pid: Mapped[Optional[int]] = mapped_column(sa.Integer)
    __table_args__ = ({"extend_existing": True},)


class PublicStatistics(Model):
    """The public statistics of one year as the scheduler last computed them (services.portal,
    job "public_statistics"): the page reads this row and says "per <time>", never the complaints."""

    __tablename__ = "public_statistics"
    year: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    computed_at: Mapped[datetime] = mapped_column(sa.DateTime)
    payload: Mapped[str] = mapped_column(sa.Text)  # JSON of portal.Statistics
    __table_args__ = ({"extend_existing": True},)


class RoutingModel(Model):
    """A trained OPD-suggestion model (app/routing), versioned; every process uses the newest. The
    payload is the engine's own format (numpy arrays and JSON, never a pickle)."""

    __tablename__ = "routing_model"
    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.Integer, unique=True)
    trained_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    answered: Mapped[int] = mapped_column(sa.Integer, default=0)  # answered complaints learnt from
    returns: Mapped[int] = mapped_column(sa.Integer, default=0)  # "bukan wewenang" returns learnt from
    cold_documents: Mapped[int] = mapped_column(sa.Integer, default=0)
    size_bytes: Mapped[int] = mapped_column(sa.Integer)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    metrics: Mapped[Optional[str]] = mapped_column(sa.Text)  # JSON: top-1/top-3 on the newest answered
    payload: Mapped[bytes] = mapped_column(sa.LargeBinary, deferred=True)


class Open311Key(Model):
    """An API key of the Open311 GeoReport v2 server (app/open311.py): one per integrating channel, named.

    Only the key's SHA-256 is stored (a key is 256 random bits, so a fast hash is enough and lets a
    request find its key by an index); the key itself is shown once, when it is made. A key is revoked,
    never deleted: the complaints it delivered name it (Complaint.channel_source)."""

    __tablename__ = "open311_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("ab_user.id", ondelete="RESTRICT"))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)

    created_by: Mapped[Optional[Staff]] = relationship(Staff)

    def __str__(self) -> str:
        return self.name


class Outbox(Model):
    """Notifications waiting for delivery by the scheduler (never sent inside a web request)."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16))  # OUTBOX_CHANNELS
    recipient: Mapped[str] = mapped_column(sa.String(320))
    template: Mapped[str] = mapped_column(sa.String(48))
    locale: Mapped[str] = mapped_column(sa.String(8), default="id")
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    # A notice carries the complainant's contact: it goes with the complaint (retention deletes it too).
    complaint_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("complaint.id", ondelete="CASCADE"),
                                                        index=True)
    # Unique per logical notice so a reminder or escalation is queued once, whoever asks twice.
    dedupe_key: Mapped[Optional[str]] = mapped_column(sa.String(160), unique=True)
    status: Mapped[str] = mapped_column(sa.String(12), default="pending")  # OUTBOX_STATUSES
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_error: Mapped[Optional[str]] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    # Idempotency (services.outbox): every attempt of this notice carries the same key (the e-mail's
    # Message-ID, the gateway's Idempotency-Key), so a resend after a crash is recognisable downstream.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True, default=lambda: uuid.uuid4().hex)
    # Set while a deliverer holds the row (claimed, not yet recorded); found set at the next claim, it
    # means that deliverer died between sending and recording: `interrupted` counts those.
    claimed_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)
    interrupted: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    __table_args__ = (
        sa.Index("ix_outbox_due", "status", "next_attempt_at"),
        one_of("status", OUTBOX_STATUSES),
        one_of("channel", OUTBOX_CHANNELS),
        # A sent notice says when (a resent one keeps the time of its last delivery while pending).
        sa.CheckConstraint("status <> 'sent' OR sent_at IS NOT NULL", name="sent_at"),
        {"extend_existing": True},
    )


class LaporImport(Model):
    """One SP4N-LAPOR! report seen by the bridge (services/lapor.py), keyed by LAPOR!'s tracking ID: imported
    (with its complaint) or refused (with what was wrong, never the values). The unique tracking ID makes an
    import idempotent: a report pulled twice, or by two schedulers at once, becomes one complaint."""

    __tablename__ = "lapor_import"
    id: Mapped[int] = mapped_column(primary_key=True)
    lapor_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Deleting a complaint keeps the row (SET NULL): the report stays imported and is not taken again.
    complaint_id: Mapped[Optional[int]] = mapped_column(sa.ForeignKey("complaint.id", ondelete="SET NULL"),
                                                        unique=True)
    status: Mapped[str] = mapped_column(sa.String(12))  # LAPOR_IMPORT_STATUSES
    problem: Mapped[Optional[str]] = mapped_column(sa.String(500))
    first_seen_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
    imported_at: Mapped[Optional[datetime]] = mapped_column(sa.DateTime)

    complaint: Mapped[Optional[Complaint]] = relationship(Complaint)

    __table_args__ = (
        one_of("status", LAPOR_IMPORT_STATUSES),
        sa.CheckConstraint("status <> 'refused' OR (complaint_id IS NULL AND problem IS NOT NULL)",
                           name="refused_problem"),
        sa.CheckConstraint("status <> 'imported' OR imported_at IS NOT NULL", name="imported_at"),
        sa.Index("ix_lapor_import_status_seen", "status", "last_seen_at"),
        {"extend_existing": True},
    )


# The tracking ID on the desks (disclosure.ComplaintView.lapor_id): one LEFT JOIN on a unique key.
Complaint.lapor = relationship(LaporImport, uselist=False, lazy="joined", viewonly=True)


# The OPD desk's queues (app/services/desk.py, migration 0004_opd): supervisors' cross-OPD queue by
# deadline, each OPD's "answered" tab and everyone's newest-answered list, and the per-OPD time recap.
# PostgreSQL carries the OPD too (migration 0030): the dashboard's late answers per OPD from the index alone.
sa.Index("ix_complaint_desk_deadline", Complaint.state, Complaint.answer_deadline, Complaint.id,
         postgresql_include=["opd_id"])
sa.Index("ix_complaint_desk_answered", Complaint.opd_id, Complaint.answered_at, Complaint.id)
sa.Index("ix_complaint_answered", Complaint.answered_at, Complaint.id)
# Similar complaints (services.similar, migration 0023_links): one OPD's complaints of the last 90 days.
sa.Index("ix_complaint_similar", Complaint.opd_id, Complaint.submitted_at)
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


# The supervisors' figures kept as sums (issue 13, app/services/summary.py, migration 0024_summaries): per
# WIB day, the complaint's current OPD, state, visibility and channel, each complaint counted on the day of
# each of its events (submitted, decided, routed, answered). Kept exact in the transaction that changes a
# complaint; `flask summary rebuild` recomputes it set-based. Plain strings: the key is never validated here.
class ComplaintDay(Model):
    __tablename__ = "summary_complaint_day"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    opd_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    visibility: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    received: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    flagged: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")  # overdue flag, by submission day
    checked: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    valid: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    invalid: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    checked_in_time: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    check_seconds: Mapped[float] = mapped_column(sa.Float, default=0, server_default="0")
    routed: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    answered: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    answered_in_time: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    answer_timed: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")  # answers with a routing time
    answer_seconds: Mapped[float] = mapped_column(sa.Float, default=0, server_default="0")


# The dashboard's twelve-month trend from the index alone on PostgreSQL (migration 0033).
sa.Index("ix_summary_day_trend", ComplaintDay.day, ComplaintDay.opd_id,
         postgresql_include=["received", "answered", "flagged"])

# The recap's live figures (issue 13): overdue by deadline day, closes by silence by event time.
sa.Index("ix_complaint_validation_deadline", Complaint.validation_deadline)
sa.Index("ix_complaint_answer_deadline", Complaint.answer_deadline)
sa.Index("ix_status_event_action_at", StatusEvent.action, StatusEvent.at)
# The dashboard's dispatch waits begun in a period (migration 0028_dispatch_index).
sa.Index("ix_status_event_to_state_at", StatusEvent.to_state, StatusEvent.at)
# Whole words (migration 0025_search): a tsvector GIN index with the 'simple' configuration (no
# stemming, no stop words: Indonesian and place names are searched as typed, lower-cased). The portal
# uses it for whole words and falls back to the trigram index for a partial word.
PUBLIC_SEARCH_WORDS = sa.func.to_tsvector(sa.literal_column("'simple'::regconfig"), PUBLIC_SEARCH_TEXT)
# (`_table`: the first argument of to_tsvector is no column, so SQLAlchemy would not find the table.)
sa.Index("ix_complaint_public_words", PUBLIC_SEARCH_WORDS.label("public_words"), postgresql_using="gin",
         _table=Complaint.__table__).ddl_if(dialect="postgresql")

# Similar complaints (issue 18, app/services/similar.py, migration 0027_similar_index): the public title and
# text as compared, bounded, and a GiST trigram index over one OPD's complaints by time and that text
# (btree_gist for the first two), so the look-up asks the index for the nearest texts (`<->`) among one
# OPD's window instead of computing similarity() for every candidate.
SIMILAR_KEY_CHARS = 1000
SIMILAR_KEY = sa.func.substr(PUBLIC_SEARCH_TEXT, sa.literal(1, sa.Integer, literal_execute=True),
                             sa.literal(SIMILAR_KEY_CHARS, sa.Integer, literal_execute=True))
sa.Index("ix_complaint_similar_text", Complaint.__table__.c.opd_id, Complaint.__table__.c.submitted_at,
         SIMILAR_KEY.label("similar_key"), postgresql_using="gist",
         postgresql_ops={"similar_key": "gist_trgm_ops"}).ddl_if(dialect="postgresql")
