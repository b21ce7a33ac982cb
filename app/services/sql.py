"""SQL helpers shared by the services and the reports, each written once for both databases.

Times are naive UTC columns (see `timeutil`). SQLite has no interval arithmetic, no median and no time
zones, so each helper has a PostgreSQL and a SQLite form giving the same numbers.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Complaint
from ..timeutil import WIB
from ..workflow import State

COUNT_CAP = 1000  # "1000+" is as precise as a queue badge needs to be (FAB-NOTES #15)


def dialect() -> str:
    return db.session.get_bind().dialect.name


def epoch(column):
    """Seconds since 1970 of a naive-UTC timestamp column or value."""
    if dialect() == "postgresql":
        return sa.extract("epoch", column)
    return (sa.func.julianday(column) - 2440587.5) * 86400.0


def epoch_of(value: datetime) -> float:
    """The same for a Python value, to compare with `epoch(column)`."""
    return (value - datetime(1970, 1, 1)).total_seconds()


def seconds_between(start, end):
    """end - start in seconds."""
    if dialect() == "postgresql":
        return sa.extract("epoch", end) - sa.extract("epoch", start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def wib_month(column):
    """'YYYY-MM' of a naive-UTC column in WIB (UTC+7 all year: Indonesia keeps no daylight saving)."""
    hours = int(datetime(2000, 1, 1, tzinfo=WIB).utcoffset().total_seconds() // 3600)
    if dialect() == "postgresql":
        return sa.func.to_char(column + sa.text(f"interval '{hours} hours'"), "YYYY-MM")
    return sa.func.strftime("%Y-%m", column, f"+{hours} hours")


def count_if(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def medians(group, value, where) -> dict:
    """{group key: median of `value`} over the rows matching `where` (group None: one key "total").

    percentile_cont on PostgreSQL; on SQLite the middle row (or the mean of the middle two) by row number
    within each group."""
    label = (group if group is not None else sa.literal("total")).label("g")
    if dialect() == "postgresql":
        query = sa.select(label, sa.func.percentile_cont(0.5).within_group(value)).where(where)
        if group is not None:
            query = query.group_by(group)
        return {row[0]: (None if row[1] is None else float(row[1])) for row in db.session.execute(query)}
    partition = {"partition_by": group} if group is not None else {}
    ranked = sa.select(
        label, value.label("x"),
        sa.func.row_number().over(order_by=value, **partition).label("rn"),
        sa.func.count().over(**partition).label("n"),
    ).where(where).subquery()
    query = (sa.select(ranked.c.g, sa.func.avg(ranked.c.x))
             .where(sa.or_(ranked.c.rn == (ranked.c.n + 1) // 2, ranked.c.rn == (ranked.c.n + 2) // 2))
             .group_by(ranked.c.g))
    # Milliseconds are plenty, and hide SQLite's julianday float noise (tens of microseconds).
    return {row[0]: round(float(row[1]), 3) for row in db.session.execute(query) if row[1] is not None}


def complaints_by_ids_first(query, load=lambda q: q) -> list:
    """The complaints of a page `query` (an ordered, limited SELECT of Complaint) in two statements: the
    ids alone, which the queue's index gives in order, then those rows with what `load` adds, in that order.

    One statement would join the complaint's eager relations (OPD, LAPOR! link) before the LIMIT, and a
    planner that believes the page's state rare (statistics from before a backlog: the validator queue at
    1,000,000 complaints estimated 1 row of 3,598) then joins and sorts every waiting row: 20 ms instead of
    under 1, and growing with the backlog."""
    ids = list(db.session.scalars(query.with_only_columns(Complaint.id)))
    if not ids:
        return []
    rows = {c.id: c for c in db.session.scalars(load(sa.select(Complaint).where(Complaint.id.in_(ids))))}
    return [rows[i] for i in ids if i in rows]


def capped_count(query, cap: int = COUNT_CAP, column=None) -> tuple[int, bool]:
    """How many rows `query` has, counting at most `cap` (a LIMIT inside the count): (count, capped)."""
    column = Complaint.id if column is None else column
    inner = query.order_by(None).with_only_columns(column).limit(cap + 1).subquery()
    n = db.session.scalar(sa.select(sa.func.count()).select_from(inner)) or 0
    return min(n, cap), n > cap


# --------------------------------------------------------------------------- overdue (workflow's definition)


def validation_overdue(now: datetime, complaint=Complaint):
    """`workflow.validation_overdue` as SQL: still waiting past the deadline, or decided after it."""
    c = complaint
    # "Still waiting" is the state (what ix_complaint_queue_validation serves); a complaint has
    # validated_at exactly when it left that state.
    return sa.or_(waiting_overdue("validation", now, c), c.validated_at > c.validation_deadline)


def answer_overdue(now: datetime, complaint=Complaint):
    """`workflow.answer_overdue` as SQL: at the OPD past the current deadline, or answered after it."""
    c = complaint
    return sa.or_(waiting_overdue("answer", now, c), c.answered_at > c.answer_deadline)


def within_standard(done_at, deadline):
    """A step done by its deadline: the complement of the "done late" half of the overdue definition
    (workflow.is_overdue with done_at), for the "within the standard" figures."""
    return sa.and_(done_at.is_not(None), done_at <= deadline)


def waiting_overdue(kind: str, now: datetime, complaint=Complaint):
    """Only the "still waiting past the deadline" half (the overdue lists, escalation)."""
    c = complaint
    if kind == "validation":
        return sa.and_(c.state == State.MENUNGGU_VERIFIKASI, c.validation_deadline < now)
    return sa.and_(c.state == State.DITERUSKAN, c.answer_deadline < now)


def due_before(kind: str, now: datetime, until: datetime, complaint=Complaint):
    """Still waiting, not late yet (the complement of `waiting_overdue`), and due before `until`: the
    "due within 2 hours" and "due today" lists of the staff home."""
    c = complaint
    if kind == "validation":
        return sa.and_(c.state == State.MENUNGGU_VERIFIKASI, c.validation_deadline >= now,
                       c.validation_deadline < until)
    return sa.and_(c.state == State.DITERUSKAN, c.answer_deadline >= now, c.answer_deadline < until)


def overdue(now: datetime, complaint=Complaint):
    """Either standard missed (`workflow.overdue`)."""
    return sa.or_(validation_overdue(now, complaint), answer_overdue(now, complaint))


# --------------------------------------------------------------------------- bulk rows


def insert_rows(table: sa.Table, rows: list[dict]) -> None:
    """Insert many rows of the same columns into `table` in the session's transaction: COPY on PostgreSQL
    (a catch-up sweep writes tens of thousands of history rows: 24,705 took 1.5 s as pipelined INSERTs,
    0.5 s by COPY), an executemany on SQLite. Only the columns the rows name are written: give every
    column that has a Python-side default."""
    if not rows:
        return
    columns = list(rows[0])
    if dialect() != "postgresql":
        db.session.execute(table.insert(), rows)
        return
    raw = db.session.connection().connection.driver_connection
    names = ", ".join(f'"{name}"' for name in columns)
    with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([row[name] for name in columns])
