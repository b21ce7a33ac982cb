"""SLA watch (the control SOP): overdue flags, reminders before a deadline, escalation when one is missed.

Every step is set-based: one UPDATE … RETURNING per kind picks exactly the complaints that change now,
so a second run finds nothing to do (idempotent) and the history rows and notices are written only
for those. Python only loops over the rows that just changed, never over the table.

Deadlines themselves come from `workflow` (24 h for the NIK check; 7 calendar or working days for
the answer); here they are only compared with the clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from .. import notify
from ..extensions import db
from ..models import AuditLog, Complaint, Opd
from ..timeutil import format_wib, utcnow
from ..workflow import Role, State
from . import sql, summary
from .accounts import staff_with_role
from .common import setting, unit_of_work

# A decision or answer made after its deadline but before the next sweep is still flagged; the sweep
# looks this far back for such late ones (an index range on validated_at / answered_at), so a long
# scheduler outage beyond it leaves the flag unset. The dashboard's figures read the timestamps
# themselves and are right regardless.
LOOKBACK = timedelta(days=31)

HISTORY_VALIDATION = "sla.overdue.validation"
HISTORY_ANSWER = "sla.overdue.answer"


@dataclass(frozen=True)
class SweepReport:
    validation_overdue: int  # complaints newly flagged
    answer_overdue: int
    notices: int  # escalation notices queued


@dataclass(frozen=True)
class ReminderReport:
    validation: int  # complaints reminded now
    answer: int
    notices: int


# --------------------------------------------------------------------------- helpers




def _url(path: str) -> str:
    return setting("PUBLIC_BASE_URL").rstrip("/") + path


def _locale() -> str:
    return setting("BABEL_DEFAULT_LOCALE") or "id"


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y%m%d%H%M%S") if value else "-"


def _flag(flag_column, condition, deadline, action: str, now: datetime) -> list:
    """Set `flag_column` on every complaint matching `condition` that does not have it yet, write one history
    row (`action`) per complaint flagged, and move the summary's "flagged". Returns per complaint flagged
    (id, ticket, deadline, state, public_title, opd_id, routed_at)."""
    # A Core-level change: it must not bump the optimistic-locking version (a validator's decision in
    # flight must not fail because the sweep flagged the row meanwhile) and needs no ORM sync.
    update = sa.update(Complaint).where(flag_column.is_(False), condition).values({flag_column: True})
    kept = [Complaint.id, Complaint.ticket, deadline.label("deadline"), Complaint.state, Complaint.public_title,
            Complaint.opd_id, Complaint.routed_at]
    names = [column.key for column in kept]
    # The rest of what the summary's change reads (FLAG_COLUMNS), each column returned once.
    extra = [getattr(Complaint, name) for name in summary.FLAG_COLUMNS if name not in names]
    if sql.dialect() == "postgresql":
        return _flag_in_one_statement(update.returning(*kept, *extra).cte("flagged"), names, flag_column, action,
                                      now)
    rows = [row._mapping for row in db.session.execute(update.returning(*kept, *extra),
                                                        execution_options={"synchronize_session": False})]
    summary.after_flags(rows, **{flag_column.key: False})
    sql.insert_rows(AuditLog.__table__, [_history_row(now, action, row["id"], _detail(row["ticket"], row["deadline"]))
                                         for row in rows])
    return [tuple(row[name] for name in names) for row in rows]


def _flag_in_one_statement(flagged, names: list[str], flag_column, action: str, now: datetime) -> list:
    """PostgreSQL: the UPDATE (`flagged`, a CTE of its RETURNING), its history rows and its summary change in
    one statement of data-modifying CTEs, so no flagged row travels to Python and back: a catch-up sweep of
    24,705 flags spent ~2 s in Python on history rows, summary differences and their arrays."""
    f = flagged.c
    values = _history_row(sa.literal(now, sa.DateTime), sa.literal(action), f.id, _detail_sql(f.ticket, f.deadline))
    logged = AuditLog.__table__.insert().from_select(
        list(values), sa.select(*(v if isinstance(v, sa.ColumnElement) else sa.literal(v) for v in values.values()))
    ).cte("logged")
    counted = summary.flags_upsert(flagged, **{flag_column.key: False}).cte("counted")
    statement = sa.select(*(f[name] for name in names)).add_cte(logged).add_cte(counted)
    return [tuple(row) for row in db.session.execute(statement)]


def _history_row(now, action, complaint_id, detail) -> dict:
    """The history row of a newly overdue complaint (values, or SQL expressions of the one-statement path)."""
    return {"at": now, "kind": "system", "action": action, "username": "sistem", "role": Role.SYSTEM.value,
            "complaint_id": complaint_id, "detail": detail}


def _detail(ticket: str, deadline: datetime) -> str:
    return json.dumps({"ticket": ticket, "deadline": deadline.isoformat(sep=" ")})


def _detail_sql(ticket, deadline):
    """`_detail` in PostgreSQL's SQL, to the same text (a test compares the two): isoformat writes the
    microseconds only when they are not zero."""
    micro = sa.cast(sa.func.date_part("microseconds", deadline), sa.BigInteger) % 1000000
    return (sa.literal('{"ticket": ') + sa.cast(sa.func.to_json(ticket), sa.Text) + sa.literal(', "deadline": "')
            + sa.func.to_char(deadline, "YYYY-MM-DD HH24:MI:SS")
            + sa.case((micro != 0, sa.func.to_char(deadline, ".US")), else_=sa.literal("")) + sa.literal('"}'))


# --------------------------------------------------------------------------- overdue sweep


def still_changing(kind: str, since: datetime):
    """The complaints whose `kind` ("validation" or "answer") overdue flag a sweep can still change: those
    waiting at that step now, and those done at it since `since` (now - LOOKBACK)."""
    if kind == "validation":
        return sa.or_(Complaint.state == State.MENUNGGU_VERIFIKASI, Complaint.validated_at >= since)
    return sa.or_(Complaint.state == State.DITERUSKAN, Complaint.answered_at >= since)


def sweep(now: datetime | None = None) -> SweepReport:
    """Flag complaints past their deadlines (or done after them), log each newly overdue one, and tell
    the Pimpinan accounts about the ones still open. Idempotent."""
    now = now or utcnow()
    since = now - LOOKBACK
    with unit_of_work():
        # The flags are the one overdue definition (services.sql, workflow), limited to the rows that can
        # still change: those waiting now, and those done within the look-back.
        validation = _flag(Complaint.validation_overdue,
                           sa.and_(sql.validation_overdue(now), still_changing("validation", since)),
                           Complaint.validation_deadline, HISTORY_VALIDATION, now)
        answer = _flag(Complaint.answer_overdue, sa.and_(sql.answer_overdue(now), still_changing("answer", since)),
                       Complaint.answer_deadline, HISTORY_ANSWER, now)
        notices = _escalate(validation, answer, now)
    return SweepReport(len(validation), len(answer), notices)


def _escalate(validation: list, answer: list, now: datetime) -> int:
    """A notice to every Pimpinan account for each complaint that is overdue and still waiting.

    Complaints decided or answered late are flagged and logged but not escalated: there is nothing
    left to chase, and they show on the dashboard's figures."""
    open_validation = [r for r in validation if State(r[3]) is State.MENUNGGU_VERIFIKASI]
    open_answer = [r for r in answer if State(r[3]) is State.DITERUSKAN]
    if not open_validation and not open_answer:
        return 0
    supervisors = staff_with_role(Role.PIMPINAN)
    opd_names = _opd_names({r[5] for r in open_answer})
    dashboard = _url("/staf/kendali/")
    locale = _locale()
    if len(open_validation) + len(open_answer) > setting("ESCALATION_DIGEST_ABOVE"):
        return _digest(open_validation, open_answer, supervisors, opd_names, dashboard, locale, now)
    notices = []
    for cid, ticket, deadline, _state, title, _opd, _routed in open_validation:
        context = {"ticket": ticket, "title": title or "–", "deadline": format_wib(deadline),
                   "dashboard_url": dashboard}
        notices += [notify.Notice("email", email, "validation_overdue", context, f"sla:esc:v:{cid}:u{uid}",
                                  cid, locale) for uid, email in supervisors]
    for cid, ticket, deadline, _state, title, opd_id, routed in open_answer:
        context = {"ticket": ticket, "title": title or "–", "deadline": format_wib(deadline),
                   "opd": opd_names.get(opd_id, "OPD"), "dashboard_url": dashboard}
        # The routing time is in the key: a complaint re-routed to another OPD has a new deadline.
        notices += [notify.Notice("email", email, "answer_overdue", context,
                                  f"sla:esc:a:{cid}:{_stamp(routed)}:u{uid}", cid, locale)
                    for uid, email in supervisors]
    return notify.queue_many(notices)


DIGEST_LINES = 50


def _digest(open_validation: list, open_answer: list, supervisors, opd_names: dict, dashboard: str,
            locale: str, now: datetime) -> int:
    """One notice per Pimpinan for a sweep that found many: the counts, the longest overdue first (up to
    DIGEST_LINES) and the dashboard, whose overdue lists have them all. Each complaint keeps its own
    history row; the digest's key is the sweep's time, so a repeated sweep (nothing newly flagged) sends none."""
    rows = [(deadline, ticket, "–") for _cid, ticket, deadline, *_rest in open_validation]
    rows += [(deadline, ticket, opd_names.get(opd_id, "OPD")) for _cid, ticket, deadline, _s, _t, opd_id, _r
             in open_answer]
    rows.sort()
    shown = rows[:DIGEST_LINES]
    more = len(rows) - len(shown)
    context = {"total": len(rows), "validation": len(open_validation), "answer": len(open_answer),
               "at": format_wib(now), "dashboard_url": dashboard,
               "lines": "\n".join(f"- {ticket} · {opd} · {format_wib(deadline)}" for deadline, ticket, opd in shown),
               "more_id": f"… dan {more} lainnya.\n" if more else "", "more_en": f"… and {more} more.\n" if more else ""}
    return notify.queue_many([notify.Notice("email", email, "overdue_digest", context,
                                            f"sla:esc:digest:{_stamp(now)}:u{uid}", None, locale)
                              for uid, email in supervisors])


def _opd_names(ids: set) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(sa.select(Opd.id, Opd.name).where(Opd.id.in_(ids))).all())


# --------------------------------------------------------------------------- reminders


def _due_for_reminder(start, deadline, now: datetime):
    """`now` has reached REMINDER_SHARE of the time between start and deadline (deadline not yet past)."""
    share = float(setting("REMINDER_SHARE"))
    # + 1 ms: SQLite's julianday arithmetic is a float a few microseconds off, and "reached" must hold
    # at the exact instant.
    return sa.and_(deadline > now,
                   sql.epoch(start) + share * (sql.epoch(deadline) - sql.epoch(start)) <= sql.epoch_of(now) + 0.001)


def send_reminders(now: datetime | None = None) -> ReminderReport:
    """Remind the validators of checks at REMINDER_SHARE of their 24 hours, and the OPD's Admin OPD
    accounts (and its contact address) of answers at REMINDER_SHARE of their deadline. Once each."""
    now = now or utcnow()
    with unit_of_work():
        validation = db.session.execute(
            sa.update(Complaint)
            .where(Complaint.state == State.MENUNGGU_VERIFIKASI, Complaint.validation_reminded_at.is_(None),
                   _due_for_reminder(Complaint.submitted_at, Complaint.validation_deadline, now))
            .values(validation_reminded_at=now)
            .returning(Complaint.id, Complaint.ticket, Complaint.public_title, Complaint.validation_deadline),
            execution_options={"synchronize_session": False}).all()
        answer = db.session.execute(
            sa.update(Complaint)
            .where(Complaint.state == State.DITERUSKAN, Complaint.answer_reminded_at.is_(None),
                   Complaint.routed_at.is_not(None),
                   _due_for_reminder(Complaint.routed_at, Complaint.answer_deadline, now))
            .values(answer_reminded_at=now)
            .returning(Complaint.id, Complaint.ticket, Complaint.public_title, Complaint.answer_deadline,
                       Complaint.opd_id, Complaint.routed_at),
            execution_options={"synchronize_session": False}).all()
        notices = _reminder_notices(validation, answer)
    return ReminderReport(len(validation), len(answer), notices)


def _reminder_notices(validation: list, answer: list) -> int:
    locale = _locale()
    notices = []
    if validation:
        validators = staff_with_role(Role.VALIDATOR)
        desk = _url("/staf/validasi/")
        for cid, ticket, title, deadline in validation:
            context = {"ticket": ticket, "title": title or "–", "deadline": format_wib(deadline), "desk_url": desk}
            notices += [notify.Notice("email", email, "validation_reminder", context, f"sla:rem:v:{cid}:u{uid}",
                                      cid, locale) for uid, email in validators]
    if answer:
        opds = {o.id: o for o in db.session.scalars(sa.select(Opd).where(Opd.id.in_({r[4] for r in answer})))}
        admins: dict[int, list[tuple[int, str]]] = {}
        desk = _url("/staf/opd/")
        for cid, ticket, title, deadline, opd_id, routed in answer:
            if opd_id not in admins:
                admins[opd_id] = staff_with_role(Role.ADMIN_OPD, opd_id)
            opd = opds.get(opd_id)
            context = {"ticket": ticket, "title": title or "–", "deadline": format_wib(deadline),
                       "opd": opd.name if opd else "OPD", "desk_url": desk}
            key = f"sla:rem:a:{cid}:{_stamp(routed)}"
            notices += [notify.Notice("email", email, "answer_reminder", context, f"{key}:u{uid}", cid, locale)
                        for uid, email in admins[opd_id]]
            if opd is not None and opd.email:
                notices.append(notify.Notice("email", opd.email, "answer_reminder", context, f"{key}:opd{opd_id}",
                                             cid, locale))
    return notify.queue_many(notices)
