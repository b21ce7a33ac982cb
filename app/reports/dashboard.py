"""Queries of the supervisors' control dashboard (SOP Pengendalian): SQL aggregates that run the same
on SQLite and PostgreSQL. Rendering lives in app/desks/dashboard.py.

Definitions (shown on the page too):
- period: WIB calendar days, `date_from` to `date_to` inclusive; stored times are naive UTC.
- counts by state: complaints submitted in the period, by their state now (summary table).
- per OPD: each routing hop to the OPD that started in the period is one complaint "received";
  "answered" are those hops the OPD answered, "within the standard" those answered by the hop's
  deadline; the median answer time is from routing to answer. "Overdue now" counts complaints at
  the OPD right now that are past their answer deadline (whatever the period).
- per validator: NIK decisions made in the period; "within 24 hours" decided by the complaint's
  validation deadline; the work time runs from opening (claim) to decision, against the 10-minute
  standard (DECISION_MINUTES_STANDARD).
- dispatch: each wait in the dispatch queue (a return "bukan wewenang", or a valid NIK on a complaint
  whose complainant did not know the OPD) that started in the period, how many were routed and the mean
  wait until routing; counted against the dispatcher who routed it, never against an OPD.
- overdue lists: complaints waiting now past their deadline, most late first.
- monthly trend: per WIB month, complaints submitted, answers given, and submitted complaints that
  were flagged overdue (validation or answer) (summary table, app/services/summary.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..labels import NO_OPD_LABEL
from ..models import CitizenReply, Complaint, ComplaintDay, NikCheck, Opd, Routing, Staff, StatusEvent
from ..services import sql
from ..timeutil import from_wib, to_wib
from ..workflow import State
from . import share as _share


@dataclass(frozen=True)
class Filters:
    date_from: date  # WIB, inclusive
    date_to: date  # WIB, inclusive
    opd_id: int | None = None

    @property
    def start(self) -> datetime:
        return from_wib(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:  # exclusive
        return from_wib(datetime.combine(self.date_to + timedelta(days=1), time.min))


def default_filters(today: date, days: int = 30) -> Filters:
    return Filters(today - timedelta(days=days - 1), today)


# --------------------------------------------------------------------------- counts by state


def state_counts(f: Filters) -> dict[State, int]:
    """From the summary table (app/services/summary.py): received on the period's days, by state now."""
    t = ComplaintDay.__table__.c
    query = (sa.select(t.state, sa.func.sum(t.received)).where(t.day >= f.date_from, t.day <= f.date_to)
             .group_by(t.state))
    if f.opd_id:
        query = query.where(t.opd_id == f.opd_id)
    found = {State(state): int(n or 0) for state, n in db.session.execute(query).all()}
    return {state: found.get(state, 0) for state in State}


# --------------------------------------------------------------------------- overdue lists


@dataclass(frozen=True)
class OverdueRow:
    id: int
    ticket: str
    title: str
    opd: str
    deadline: datetime
    late: timedelta


def _overdue(kind: str, now: datetime, opd_id: int | None, limit: int) -> tuple[list[OverdueRow], int]:
    deadline = Complaint.validation_deadline if kind == "validation" else Complaint.answer_deadline
    where = [sql.waiting_overdue(kind, now)]
    if opd_id:
        where.append(Complaint.opd_id == opd_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(*where)) or 0
    rows = db.session.execute(
        sa.select(Complaint.id, Complaint.ticket, Complaint.public_title, Opd.name, deadline)
        .outerjoin(Opd, Opd.id == Complaint.opd_id).where(*where).order_by(deadline, Complaint.id).limit(limit)).all()
    return [OverdueRow(cid, ticket, title or "–", opd or str(NO_OPD_LABEL), due, now - due)
            for cid, ticket, title, opd, due in rows], total


def overdue_validation(now: datetime, opd_id: int | None = None, limit: int = 50):
    """(most late first, up to `limit`; how many in all) of checks waiting past 24 hours."""
    return _overdue("validation", now, opd_id, limit)


def overdue_answer(now: datetime, opd_id: int | None = None, limit: int = 50):
    """(most late first, up to `limit`; how many in all) of answers waiting past their deadline."""
    return _overdue("answer", now, opd_id, limit)


# --------------------------------------------------------------------------- per OPD


@dataclass(frozen=True)
class OpdFigures:
    opd_id: int
    code: str
    name: str
    received: int
    answered: int
    within_standard: int
    overdue_now: int
    median_answer_seconds: float | None
    # The complainants' replies in the period (issue 17), to this OPD's answers.
    accepted: int = 0
    disputed: int = 0
    ratings: int = 0
    rating_mean: float | None = None

    @property
    def share_within(self) -> float | None:
        return _share(self.within_standard, self.answered)


def per_opd(f: Filters, now: datetime) -> list[OpdFigures]:
    in_period = [Routing.routed_at >= f.start, Routing.routed_at < f.end]
    if f.opd_id:
        in_period.append(Routing.opd_id == f.opd_id)
    answered = Routing.outcome == "answered"
    counts = db.session.execute(
        sa.select(Routing.opd_id,
                  sa.func.count(sa.distinct(Routing.complaint_id)),
                  sa.func.count(sa.distinct(sa.case((answered, Routing.complaint_id)))),
                  sa.func.count(sa.distinct(sa.case((sa.and_(answered, sql.within_standard(Routing.ended_at, Routing.deadline)),
                                                     Routing.complaint_id)))))
        .where(*in_period).group_by(Routing.opd_id)).all()
    medians = sql.medians(Routing.opd_id, sql.seconds_between(Routing.routed_at, Routing.ended_at),
                          sa.and_(*in_period, answered))
    overdue_q = (sa.select(Complaint.opd_id, sa.func.count())
                 .where(sql.waiting_overdue("answer", now))
                 .group_by(Complaint.opd_id))
    if f.opd_id:
        overdue_q = overdue_q.where(Complaint.opd_id == f.opd_id)
    overdue = dict(db.session.execute(overdue_q).all())
    replies_q = (sa.select(CitizenReply.opd_id, sql.count_if(CitizenReply.accepted.is_(True)),
                           sql.count_if(CitizenReply.accepted.is_(False)), sa.func.count(), sa.func.avg(CitizenReply.rating))
                 .where(CitizenReply.created_at >= f.start, CitizenReply.created_at < f.end)
                 .group_by(CitizenReply.opd_id))
    if f.opd_id:
        replies_q = replies_q.where(CitizenReply.opd_id == f.opd_id)
    replies = {i: (int(a or 0), int(d or 0), int(n), None if m is None else round(float(m), 2))
               for i, a, d, n, m in db.session.execute(replies_q)}
    figures = {opd_id: [received, done, within] for opd_id, received, done, within in counts}
    ids = set(figures) | set(overdue) | set(replies)
    if not ids:
        return []
    opds = {o.id: o for o in db.session.scalars(sa.select(Opd).where(Opd.id.in_(ids)))}
    rows = [OpdFigures(i, opds[i].code, opds[i].name, *(figures.get(i) or [0, 0, 0]), overdue.get(i, 0),
                       medians.get(i), *(replies.get(i) or (0, 0, 0, None))) for i in ids]
    return sorted(rows, key=lambda r: (-r.received, -r.overdue_now, r.code))


# --------------------------------------------------------------------------- dispatch


@dataclass(frozen=True)
class DispatcherFigures:
    user_id: int | None
    name: str
    routed: int
    mean_wait_seconds: float | None


@dataclass(frozen=True)
class DispatchFigures:
    """The dispatch queue's time: counted against the dispatcher, never against an OPD (an OPD's clock starts
    when the complaint is routed to it). A wait starts when a complaint enters the queue (returned "bukan
    wewenang", or a valid NIK without an OPD) and ends when it is routed."""

    waiting_now: int
    oldest_wait_seconds: float | None
    entered: int  # waits that started in the period
    routed: int  # of those, routed since
    mean_wait_seconds: float | None  # of the routed ones
    per_dispatcher: tuple[DispatcherFigures, ...] = ()


def _into_dispatch(entry):
    """A step that puts a complaint into the dispatch queue (not a step within it)."""
    return sa.and_(entry.to_state == State.PERLU_DISPOSISI,
                   sa.or_(entry.from_state.is_(None), entry.from_state != State.PERLU_DISPOSISI))


def _open_waits():
    """The waits under way: each complaint in the queue now with the step that put it there (its latest
    entry), from the entries into the queue (ix_status_event_to_state_at) joined to the complaints in it,
    the latest per complaint picked by row number. Not from the timeline of every complaint ever
    dispatched (0.7-1.1 s at 1,000,000 complaints), nor by probing each entry for a later one (125 ms for
    21,152 waits). The same waits as `_dispatch_waits` without an end (a test holds them equal)."""
    entry = sa.orm.aliased(StatusEvent)
    latest_first = sa.func.row_number().over(partition_by=entry.complaint_id, order_by=entry.id.desc())
    ranked = (sa.select(entry.at.label("started"), entry.opd_id.label("entry_opd"), latest_first.label("n"))
              .join(Complaint, Complaint.id == entry.complaint_id)
              .where(Complaint.state == State.PERLU_DISPOSISI, _into_dispatch(entry)).subquery())
    return sa.select(ranked.c.started, ranked.c.entry_opd).where(ranked.c.n == 1)


def _dispatch_waits():
    """One row per wait in the dispatch queue, from the timeline: (complaint, start, end or NULL, who routed)."""
    entry = sa.orm.aliased(StatusEvent)
    leave = sa.orm.aliased(StatusEvent)
    into = _into_dispatch(entry)
    # The wait ends at the first step after it that moves the complaint out of the queue.
    first_exit = (sa.select(sa.func.min(leave.id)).where(leave.complaint_id == entry.complaint_id, leave.id > entry.id,
                                                         leave.from_state == State.PERLU_DISPOSISI,
                                                         leave.to_state != State.PERLU_DISPOSISI)
                  .correlate(entry).scalar_subquery())
    waits = (sa.select(entry.complaint_id.label("complaint_id"), entry.at.label("started"),
                       entry.opd_id.label("entry_opd"), first_exit.label("exit_id")).where(into).subquery())
    ended = sa.orm.aliased(StatusEvent)
    return (sa.select(waits.c.complaint_id, waits.c.started, ended.at.label("ended"), ended.actor_id.label("actor_id"),
                      waits.c.entry_opd)
            .select_from(waits).outerjoin(ended, ended.id == waits.c.exit_id))


def dispatch_figures(f: Filters, now: datetime) -> DispatchFigures:
    waits = _dispatch_waits().subquery()
    where = [waits.c.started >= f.start, waits.c.started < f.end]
    if f.opd_id:
        # An OPD's own view: the returns it made (a complaint without an OPD is none of an OPD's doing).
        where.append(waits.c.entry_opd == f.opd_id)
    held = sql.seconds_between(waits.c.started, waits.c.ended)
    entered, routed, mean = db.session.execute(
        sa.select(sa.func.count(), sql.count_if(waits.c.ended.is_not(None)), sa.func.avg(held)).where(*where)).one()
    under_way = _open_waits().subquery()
    open_where = [under_way.c.entry_opd == f.opd_id] if f.opd_id else []
    waiting, oldest = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(under_way.c.started)).where(*open_where)).one()
    people = db.session.execute(
        sa.select(waits.c.actor_id, sa.func.count(), sa.func.avg(held))
        .where(*where, waits.c.ended.is_not(None)).group_by(waits.c.actor_id)).all()
    staff = {s.id: s for s in db.session.scalars(sa.select(Staff).where(Staff.id.in_([p[0] for p in people if p[0]])))}
    per = []
    for uid, n, avg in people:
        person = staff.get(uid)
        name = f"{person.first_name} {person.last_name}".strip() if person else "–"
        per.append(DispatcherFigures(uid, name, int(n), None if avg is None else float(avg)))
    return DispatchFigures(
        waiting_now=int(waiting or 0),
        oldest_wait_seconds=(now - oldest).total_seconds() if oldest is not None else None,
        entered=int(entered or 0), routed=int(routed or 0), mean_wait_seconds=None if mean is None else float(mean),
        per_dispatcher=tuple(sorted(per, key=lambda r: (-r.routed, r.name))))


# --------------------------------------------------------------------------- per validator


@dataclass(frozen=True)
class ValidatorFigures:
    user_id: int
    username: str
    name: str
    checks: int
    within_24h: int
    within_work_standard: int
    median_work_seconds: float | None
    overrides: int = 0  # marked valid although SIAK said "not found" / "mismatch" (each with its reason)

    @property
    def share_within_24h(self) -> float | None:
        return _share(self.within_24h, self.checks)

    @property
    def share_within_work_standard(self) -> float | None:
        return _share(self.within_work_standard, self.checks)


def per_validator(f: Filters, standard_minutes: int = 10) -> list[ValidatorFigures]:
    where = [NikCheck.decided_at >= f.start, NikCheck.decided_at < f.end]
    if f.opd_id:
        where.append(Complaint.opd_id == f.opd_id)
    work = sql.seconds_between(NikCheck.opened_at, NikCheck.decided_at)
    rows = db.session.execute(
        sa.select(NikCheck.validator_id, sa.func.count(),
                  sa.func.sum(sa.case((sql.within_standard(NikCheck.decided_at, Complaint.validation_deadline), 1), else_=0)),
                  sa.func.sum(sa.case((work <= standard_minutes * 60, 1), else_=0)),
                  sa.func.sum(sa.case((NikCheck.override_reason.is_not(None), 1), else_=0)))
        .join(Complaint, Complaint.id == NikCheck.complaint_id).where(*where)
        .group_by(NikCheck.validator_id)).all()
    if not rows:
        return []
    medians = sql.medians(NikCheck.validator_id, work,
                          sa.and_(Complaint.id == NikCheck.complaint_id, *where))
    people = {s.id: s for s in db.session.scalars(sa.select(Staff).where(Staff.id.in_([r[0] for r in rows])))}
    result = []
    for uid, checks, within, quick, overrides in rows:
        person = people.get(uid)
        name = f"{person.first_name} {person.last_name}".strip() if person else f"#{uid}"
        result.append(ValidatorFigures(uid, person.username if person else "", name, checks, int(within or 0),
                                       int(quick or 0), medians.get(uid), int(overrides or 0)))
    return sorted(result, key=lambda r: (-r.checks, r.username))


@dataclass(frozen=True)
class Override:
    decided_at: datetime
    ticket: str
    validator: str
    siak_verdict: str
    reason: str


OVERRIDES_SHOWN = 20


def recent_overrides(f: Filters, limit: int = OVERRIDES_SHOWN) -> list[Override]:
    """The newest deliberate overrides of the period (valid against SIAK), each with its reason."""
    where = [NikCheck.decided_at >= f.start, NikCheck.decided_at < f.end, NikCheck.override_reason.is_not(None)]
    if f.opd_id:
        where.append(Complaint.opd_id == f.opd_id)
    rows = db.session.execute(
        sa.select(NikCheck.decided_at, Complaint.ticket, Staff.first_name, Staff.last_name, NikCheck.siak_verdict,
                  NikCheck.override_reason)
        .join(Complaint, Complaint.id == NikCheck.complaint_id).join(Staff, Staff.id == NikCheck.validator_id)
        .where(*where).order_by(NikCheck.decided_at.desc(), NikCheck.id.desc()).limit(limit)).all()
    return [Override(at, ticket, f"{first} {last}".strip(), verdict, reason)
            for at, ticket, first, last, verdict, reason in rows]


# --------------------------------------------------------------------------- monthly trend


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM (WIB)
    received: int
    answered: int
    overdue: int


def _months(last: date, count: int) -> list[str]:
    year, month = last.year, last.month
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return keys[::-1]


def monthly_trend(f: Filters, months: int = 12) -> list[MonthFigures]:
    """The `months` WIB months ending with the period's last month, from the summary table: one query
    of at most 366 day rows, added up per month here."""
    keys = _months(f.date_to, months)
    first = date(int(keys[0][:4]), int(keys[0][5:]), 1)
    t = ComplaintDay.__table__.c
    query = (sa.select(t.day, sa.func.sum(t.received), sa.func.sum(t.answered), sa.func.sum(t.flagged))
             .where(t.day >= first, t.day <= f.date_to).group_by(t.day))
    if f.opd_id:
        query = query.where(t.opd_id == f.opd_id)
    totals = {k: [0, 0, 0] for k in keys}
    for day, received, answered, flagged in db.session.execute(query):
        if isinstance(day, str):  # SQLite hands a DATE column grouped in SQL back as text
            day = date.fromisoformat(day)
        month = totals[f"{day.year:04d}-{day.month:02d}"]
        month[0] += int(received or 0)
        month[1] += int(answered or 0)
        month[2] += int(flagged or 0)
    return [MonthFigures(k, *totals[k]) for k in keys]


def today_wib(now: datetime) -> date:
    return to_wib(now).date()
