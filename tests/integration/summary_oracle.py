"""The full recomputation of the supervisors' figures, as the dashboard and the recap computed them before
the summary table (issue 13): every figure an aggregate over the whole `complaint` table. Kept as the oracle
of tests/integration/test_summary.py; the app reads app/services/summary.py's table instead."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import CitizenReply, Complaint, Opd, StatusEvent
from app.reports.dashboard import Filters, MonthFigures, _months
from app.reports.recap import Period, Recap, RecapRow, _label
from app.services import sql
from app.timeutil import from_wib, utcnow
from app.workflow import Action, Role, State


def _group_expr(dimension: str | None):
    return {None: None, "opd": Complaint.opd_id, "state": Complaint.state, "visibility": Complaint.visibility,
            "channel": Complaint.channel}[dimension]


def _in(column, period: Period):
    return sa.and_(column >= period.start_utc, column < period.end_utc)


def _grouped(group, columns: list, where) -> dict[Any, tuple]:
    """{group key: (values…)}; without a group, one row keyed "total" (no GROUP BY on a constant)."""
    if group is None:
        row = db.session.execute(sa.select(*columns).where(where)).one()
        return {"total": tuple(row)}
    query = sa.select(group.label("g"), *columns).where(where).group_by(group)
    return {row[0]: tuple(row[1:]) for row in db.session.execute(query)}


def _hours(value) -> float | None:
    return None if value is None else round(float(value) / 3600.0, 2)


def _figures(period: Period, dimension: str | None, now: datetime) -> dict[Any, RecapRow]:
    group = _group_expr(dimension)
    rows: dict[Any, RecapRow] = {}

    def row(key) -> RecapRow:
        if key not in rows:
            rows[key] = RecapRow(key, str(key))
        return rows[key]

    for key, (n,) in _grouped(group, [sa.func.count()], _in(Complaint.submitted_at, period)).items():
        row(key).received = int(n)

    checked = _in(Complaint.validated_at, period)
    check_seconds = sql.seconds_between(Complaint.submitted_at, Complaint.validated_at)
    for key, (n, valid, invalid, in_time, mean) in _grouped(group, [
            sa.func.count(), sql.count_if(Complaint.state != State.TIDAK_VALID),
            sql.count_if(Complaint.state == State.TIDAK_VALID),
            sql.count_if(sql.within_standard(Complaint.validated_at, Complaint.validation_deadline)),
            sa.func.avg(check_seconds)], checked).items():
        r = row(key)
        r.checked, r.validated, r.invalid, r.checked_24h = int(n), int(valid), int(invalid), int(in_time)
        r.check_hours_mean = _hours(mean)
    for key, median in sql.medians(group, check_seconds, checked).items():
        row(key).check_hours_median = _hours(median)

    for key, (n,) in _grouped(group, [sa.func.count()], _in(Complaint.routed_at, period)).items():
        row(key).routed = int(n)

    answered = _in(Complaint.answered_at, period)
    answer_seconds = sql.seconds_between(Complaint.routed_at, Complaint.answered_at)
    for key, (n, in_time, mean) in _grouped(group, [
            sa.func.count(), sql.count_if(sql.within_standard(Complaint.answered_at, Complaint.answer_deadline)),
            sa.func.avg(answer_seconds)], answered).items():
        r = row(key)
        r.answered, r.answered_in_standard, r.answer_hours_mean = int(n), int(in_time), _hours(mean)
    for key, median in sql.medians(group, answer_seconds, answered).items():
        row(key).answer_hours_median = _hours(median)

    _satisfaction(rows, row, period, dimension)

    missed_check = sa.and_(_in(Complaint.validation_deadline, period), sql.validation_overdue(now))
    missed_answer = sa.and_(_in(Complaint.answer_deadline, period), sql.answer_overdue(now))
    for key, (n,) in _grouped(group, [sa.func.count()], sa.or_(missed_check, missed_answer)).items():
        row(key).overdue = int(n)
    return rows


def _satisfaction(rows, row, period: Period, dimension: str | None) -> None:
    """Accepted, disputed, mean rating (by the reply's time and the answering OPD) and closed by silence
    (by the closing event's time and the OPD then holding the complaint)."""
    reply_group = CitizenReply.opd_id if dimension == "opd" else _group_expr(dimension)
    columns = [sql.count_if(CitizenReply.accepted.is_(True)), sql.count_if(CitizenReply.accepted.is_(False)),
               sa.func.count(CitizenReply.rating), sa.func.avg(CitizenReply.rating)]
    query = sa.select(*columns).select_from(CitizenReply).join(Complaint, Complaint.id == CitizenReply.complaint_id)
    query = query.where(_in(CitizenReply.created_at, period))
    results = ([("total", *db.session.execute(query).one())] if reply_group is None else
               db.session.execute(query.add_columns(reply_group.label("g")).group_by(reply_group)).all())
    for result in results:
        key, (accepted, disputed, n, mean) = (result[0], result[1:]) if reply_group is None else (result[-1],
                                                                                                result[:-1])
        r = row(key)
        r.accepted, r.disputed, r.ratings = int(accepted or 0), int(disputed or 0), int(n or 0)
        r.rating_mean = None if mean is None else round(float(mean), 2)
    silent_group = StatusEvent.opd_id if dimension == "opd" else _group_expr(dimension)
    silent = (sa.select(sa.func.count()).select_from(StatusEvent)
              .join(Complaint, Complaint.id == StatusEvent.complaint_id)
              .where(StatusEvent.action == Action.CLOSE.value, StatusEvent.actor_role == Role.SYSTEM.value,
                     _in(StatusEvent.at, period)))
    if silent_group is None:
        row("total").closed_silent = int(db.session.execute(silent).scalar() or 0)
    else:
        for n, key in db.session.execute(silent.add_columns(silent_group.label("g")).group_by(silent_group)):
            row(key).closed_silent = int(n)


def recap(period: Period, dimension: str, now: datetime | None = None) -> Recap:
    """The recap of `period` grouped by `dimension`, with a totals row computed on the whole set
    (so its medians are true medians, not a median of medians)."""
    now = now or utcnow()
    figures = _figures(period, dimension, now)
    opd_names = {}
    if dimension == "opd" and figures:
        opd_names = dict(db.session.execute(sa.select(Opd.id, Opd.name).where(Opd.id.in_(list(figures)))).all())
    rows = []
    for key, r in figures.items():
        r.label = _label(dimension, key, opd_names)
        r.key = key.value if hasattr(key, "value") else key
        rows.append(r)
    rows.sort(key=lambda r: (-r.received, -r.answered, r.label))
    total = _figures(period, None, now).get("total", RecapRow("total", "Jumlah"))
    total.label = "Jumlah"
    return Recap(period, dimension, rows, total)



def state_counts(f: Filters) -> dict[State, int]:
    query = (sa.select(Complaint.state, sa.func.count()).where(Complaint.submitted_at >= f.start,
                                                               Complaint.submitted_at < f.end)
             .group_by(Complaint.state))
    if f.opd_id:
        query = query.where(Complaint.opd_id == f.opd_id)
    found = {State(state): n for state, n in db.session.execute(query).all()}
    return {state: found.get(state, 0) for state in State}


def monthly_trend(f: Filters, months: int = 12) -> list[MonthFigures]:
    """The `months` WIB months ending with the period's last month."""
    keys = _months(f.date_to, months)
    first = date(int(keys[0][:4]), int(keys[0][5:]), 1)
    start, end = from_wib(datetime.combine(first, time.min)), f.end
    opd = [Complaint.opd_id == f.opd_id] if f.opd_id else []

    def grouped(column, *extra) -> dict[str, int]:
        key = sql.wib_month(column).label("m")
        query = (sa.select(key, sa.func.count()).where(column >= start, column < end, *opd, *extra)
                 .group_by(key))
        return dict(db.session.execute(query).all())

    received = grouped(Complaint.submitted_at)
    answered = grouped(Complaint.answered_at)
    overdue = grouped(Complaint.submitted_at, sa.or_(Complaint.validation_overdue.is_(True),
                                                     Complaint.answer_overdue.is_(True)))
    return [MonthFigures(k, received.get(k, 0), answered.get(k, 0), overdue.get(k, 0)) for k in keys]
