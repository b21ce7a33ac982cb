"""The supervisors' figures as sums per WIB day (issue 13): the one place that maps a change of a complaint to
summary increments, and the set-based rebuild.

A complaint *contributes* to `summary_complaint_day` (models.ComplaintDay) on the day of each of its events,
under its current OPD, state, visibility and channel: received (and flagged overdue) on its submission day;
checked, valid/invalid, decided by the deadline and the decision time on its decision day; routed on its
(latest) routing day; answered, answered by the deadline and the answer time on its answer day. Whatever
changes a complaint, the summary moves by (contribution after − contribution before), so a re-route, a
return, a silence close or a late timestamp correction moves every figure of that complaint at once.

How the differences are collected, all in the transaction that changes the complaint:
- ORM changes (every service): `after_flush` reads each changed complaint's old and new values from the
  attribute history; nothing to call from a service, and nothing a view can forget.
- Core bulk UPDATEs that touch a contribution column (the overdue sweep's flags, the silence close) call
  `after_bulk(ids, column=old value)` with the ids the UPDATE returned (rows it holds locked); the sweep's
  flags call `after_flags` with its RETURNING rows, or on PostgreSQL put `flags_upsert` in the UPDATE's own
  statement.
- `before_commit` writes the collected differences last, one INSERT … ON CONFLICT DO UPDATE (col = col +
  excluded.col) per transaction, keys in sorted order (no deadlock between two transactions touching the
  same days), so the summary row lock is held only for the commit itself.

`rebuild()` recomputes the table from `complaint` in one INSERT … SELECT (the CLI `flask summary rebuild`,
migration 0024_summaries, bench/generate.py). Reads: app/reports/recap.py and app/reports/dashboard.py.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Complaint, ComplaintDay
from ..timeutil import WIB, to_wib
from ..workflow import State, is_overdue
from .sql import within_standard

KEY = ("day", "opd_id", "state", "visibility", "channel")
METRICS = ("received", "flagged", "checked", "valid", "invalid", "checked_in_time", "check_seconds", "routed",
           "answered", "answered_in_time", "answer_timed", "answer_seconds")
# The complaint columns a contribution depends on.
COLUMNS = ("opd_id", "state", "visibility", "channel", "submitted_at", "validation_deadline", "validated_at",
           "routed_at", "answer_deadline", "answered_at", "validation_overdue", "answer_overdue")
_PENDING = "summary_pending"
_WIB_HOURS = int(datetime(2000, 1, 1, tzinfo=WIB).utcoffset().total_seconds() // 3600)


def _value(v):
    return getattr(v, "value", v)


def wib_day(at: datetime) -> date:
    return to_wib(at).date()


def _dims(get) -> tuple:
    return get("opd_id") or 0, _value(get("state")), _value(get("visibility")), _value(get("channel"))


def _flagged(get) -> int:
    """1 when the complaint counts as "flagged" (on its submission day): either overdue flag is set."""
    return 1 if get("validation_overdue") or get("answer_overdue") else 0


def contribution(row) -> dict[tuple, dict[str, float]]:
    """{summary key: {metric: amount}} of one complaint (a mapping or object with COLUMNS)."""
    get = row.get if isinstance(row, dict) else (lambda name: getattr(row, name))
    dims = _dims(get)
    out: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    submitted = get("submitted_at")
    if submitted is None:
        return {}
    first = out[(wib_day(submitted), *dims)]
    first["received"] += 1
    if _flagged(get):
        first["flagged"] += 1
    decided = get("validated_at")
    if decided is not None:
        m = out[(wib_day(decided), *dims)]
        m["checked"] += 1
        m["invalid" if dims[1] == State.TIDAK_VALID.value else "valid"] += 1
        deadline = get("validation_deadline")
        if deadline is not None and not is_overdue(deadline, decided, decided):  # the one definition
            m["checked_in_time"] += 1
        m["check_seconds"] += (decided - submitted).total_seconds()
    routed = get("routed_at")
    if routed is not None:
        out[(wib_day(routed), *dims)]["routed"] += 1
    answered = get("answered_at")
    if answered is not None:
        m = out[(wib_day(answered), *dims)]
        m["answered"] += 1
        deadline = get("answer_deadline")
        if deadline is not None and not is_overdue(deadline, answered, answered):
            m["answered_in_time"] += 1
        if routed is not None:
            m["answer_timed"] += 1
            m["answer_seconds"] += (answered - routed).total_seconds()
    return out


def _pending(session: Session) -> dict:
    """This transaction's collected differences: {summary key: {metric: amount}}."""
    return session.info.setdefault(_PENDING, defaultdict(lambda: defaultdict(float)))


def _add(session: Session, before, after) -> None:
    pending = _pending(session)
    for sign, row in ((-1, before), (1, after)):
        if row is None:
            continue
        for key, metrics in contribution(row).items():
            for name, amount in metrics.items():
                pending[key][name] += sign * amount


# --------------------------------------------------------------------------- collecting (ORM and bulk)


def _after_flush(session: Session, _context) -> None:
    for collection, kind in ((session.new, "new"), (session.dirty, "dirty"), (session.deleted, "deleted")):
        for obj in collection:
            if not isinstance(obj, Complaint):
                continue
            values = {name: getattr(obj, name) for name in COLUMNS}
            if kind == "new":
                _add(session, None, values)
            elif kind == "deleted":
                _add(session, _committed(obj, values), None)
            else:
                old = _committed(obj, values)
                if old != values:
                    _add(session, old, values)


def _committed(obj, values: dict) -> dict:
    """The values before this flush (the attribute history's deleted side), `values` where unchanged."""
    state = sa.inspect(obj)
    old = dict(values)
    for name in COLUMNS:
        history = state.attrs[name].history
        if history.deleted:
            old[name] = history.deleted[0]
    return old


def after_bulk(ids, **old_values) -> None:
    """After a Core UPDATE of the complaints `ids` (its RETURNING ids; the rows stay locked by it until the
    commit) that set the columns `old_values` names, whose values before were `old_values`: the summary
    moves by the difference, in the same transaction. One read of the rows, in chunks."""
    from ..extensions import db

    ids = list(ids)
    session = db.session()
    columns = [getattr(Complaint, name) for name in COLUMNS]
    for start in range(0, len(ids), 1000):
        for row in db.session.execute(sa.select(*columns).where(Complaint.id.in_(ids[start:start + 1000]))):
            new = dict(row._mapping)
            _add(session, {**new, **old_values}, new)


# The overdue flags, and what a change of them alone needs to know of a complaint: only "flagged" (on the
# submission day, under the complaint's dimensions) depends on them.
FLAGS = ("validation_overdue", "answer_overdue")
FLAG_COLUMNS = ("opd_id", "state", "visibility", "channel", "submitted_at", *FLAGS)


def _only_flags(caller: str, old_values: dict) -> None:
    if not set(old_values) <= set(FLAGS):
        raise ValueError(f"{caller} is for the overdue flags only, not {sorted(set(old_values) - set(FLAGS))}")


def after_flags(rows, **old_values) -> None:
    """After a Core UPDATE that set only overdue flags (`old_values`: each set flag's value before), given
    its RETURNING rows as mappings of FLAG_COLUMNS (the new values): "flagged" moves by the difference. The
    same result as `after_bulk`, without reading the rows again or computing every metric twice (that took
    1.0 s of a catch-up sweep's 24,705 flags)."""
    _only_flags("after_flags", old_values)
    from ..extensions import db

    pending = _pending(db.session())
    for new in rows:
        if new["submitted_at"] is None:
            continue
        delta = _flagged(new.get) - _flagged({**new, **old_values}.get)
        if delta:
            pending[(wib_day(new["submitted_at"]), *_dims(new.get))]["flagged"] += delta


def flags_upsert(flagged, **old_values):
    """PostgreSQL: `after_flags` as SQL, to run in the UPDATE's own statement. `flagged`: a CTE of a Core
    UPDATE's RETURNING of FLAG_COLUMNS (the new values); `old_values` as for `after_flags`. One
    INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE moves "flagged" by the difference, keys in sorted order
    as `_before_commit`'s. A catch-up sweep's 24,705 flags spent ~1.5 s in Python on the difference and the
    arrays of the unnest upsert; this moves no row out of the server."""
    _only_flags("flags_upsert", old_values)
    c = flagged.c
    delta = sa.func.sum(_sql_flagged({name: c[name] for name in FLAGS})
                        - _sql_flagged({name: sa.literal(old_values[name]) if name in old_values else c[name]
                                        for name in FLAGS}))
    keys = [_day("postgresql", c.submitted_at).label("day"), *_sql_dims(c)]
    rows = (sa.select(*keys, delta.label("flagged")).where(c.submitted_at.is_not(None))
            .group_by(*keys).having(delta != 0).order_by(*keys))
    table = ComplaintDay.__table__
    insert = postgresql.insert(table).from_select([*KEY, "flagged"], rows)
    return insert.on_conflict_do_update(index_elements=list(KEY),
                                        set_={"flagged": table.c.flagged + insert.excluded.flagged})


# --------------------------------------------------------------------------- writing (at commit)


@functools.lru_cache(maxsize=4)
def _upsert(dialect: str):
    # Built once per dialect: a submission spent ~1 ms building the same statement and its cache key again.
    table = ComplaintDay.__table__
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    return insert.on_conflict_do_update(index_elements=list(KEY),
                                        set_={m: table.c[m] + insert.excluded[m] for m in METRICS})


def _before_commit(session: Session) -> None:
    session.flush()  # the last changes are collected now
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    rows = []
    for key in sorted(pending):
        metrics = pending[key]
        if not any(abs(v) > 1e-9 for v in metrics.values()):
            continue
        row = dict(zip(KEY, key))
        for name in METRICS:
            amount = metrics.get(name, 0)
            row[name] = float(amount) if name.endswith("seconds") else int(round(amount))
        rows.append(row)
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql" and len(rows) >= BULK_ROWS:
        session.execute(_bulk_upsert(dialect), {c: [r[c] for r in rows] for c in (*KEY, *METRICS)})
    else:
        session.execute(_upsert(dialect.name), rows)


# From this many keys in one transaction on PostgreSQL (a catch-up sweep moves ~20,000 days' "flagged"), one
# INSERT … SELECT FROM unnest(one array per column) instead of an executemany of as many statements (0.57 s
# for 20,484 keys, ~28 µs each). The rows keep their sorted order, as the executemany's.
BULK_ROWS = 200


def _bulk_upsert(dialect):
    table = ComplaintDay.__table__
    columns = (*KEY, *METRICS)
    arrays = ", ".join(f"CAST(:{c} AS {table.c[c].type.compile(dialect=dialect)}[])" for c in columns)
    updates = ", ".join(f"{m} = {table.name}.{m} + excluded.{m}" for m in METRICS)
    return sa.text(f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "
                   f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET {updates}")


def _forget(session: Session, *_args) -> None:
    session.info.pop(_PENDING, None)


def _install_listeners() -> None:
    if event.contains(Session, "after_flush", _after_flush):
        return
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "before_commit", _before_commit)
    event.listen(Session, "after_soft_rollback", _forget)
    event.listen(Session, "after_commit", _forget)
    # A column set while its old value was not loaded (expired after a commit) loads it first, so the
    # attribute history always holds the value being replaced.
    for name in COLUMNS:
        event.listen(getattr(Complaint, name), "set", _keep_old, active_history=True)


def _keep_old(_target, value, _old, _initiator):
    return value


_install_listeners()


# --------------------------------------------------------------------------- rebuild (set-based)


def _day(dialect: str, column):
    if dialect == "postgresql":
        return sa.cast(column + sa.text(f"interval '{_WIB_HOURS} hours'"), sa.Date)
    return sa.func.date(column, f"+{_WIB_HOURS} hours")


def _seconds(dialect: str, start, end):
    if dialect == "postgresql":
        return sa.extract("epoch", end) - sa.extract("epoch", start)
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def _sql_flagged(values) -> sa.ColumnElement:
    """`_flagged` in SQL: 1 when either overdue flag in `values` ({flag name: SQL expression}) is set."""
    return sa.case((sa.or_(*(values[name].is_(True) for name in FLAGS)), 1), else_=0)


def _sql_dims(c) -> list:
    """`_dims` in SQL, over the columns `c` of a complaint table or a CTE of its rows."""
    return [sa.func.coalesce(c.opd_id, 0).label("opd_id"), sa.cast(c.state, sa.String).label("state"),
            sa.cast(c.visibility, sa.String).label("visibility"), sa.cast(c.channel, sa.String).label("channel")]


def rebuild_statements(dialect: str, complaint=None) -> list:
    """DELETE and INSERT … SELECT that recompute the whole table from `complaint` (the same definition as
    `contribution`, in SQL). `complaint`: a table (the migration passes a lightweight one)."""
    c = (complaint if complaint is not None else Complaint.__table__).c
    table = ComplaintDay.__table__
    dims = _sql_dims(c)
    zero, one = sa.literal(0), sa.literal(1)

    def part(day_column, where, **metrics):
        values = [metrics.get(m, zero).label(m) for m in METRICS]
        return sa.select(_day(dialect, day_column).label("day"), *dims, *values).where(where)

    def flag(condition):
        return sa.case((condition, 1), else_=0)

    parts = sa.union_all(
        part(c.submitted_at, c.submitted_at.is_not(None), received=one,
             flagged=_sql_flagged({name: c[name] for name in FLAGS})),
        part(c.validated_at, c.validated_at.is_not(None), checked=one,
             valid=flag(sa.cast(c.state, sa.String) != State.TIDAK_VALID.value),
             invalid=flag(sa.cast(c.state, sa.String) == State.TIDAK_VALID.value),
             checked_in_time=flag(within_standard(c.validated_at, c.validation_deadline)),
             check_seconds=_seconds(dialect, c.submitted_at, c.validated_at)),
        part(c.routed_at, c.routed_at.is_not(None), routed=one),
        part(c.answered_at, c.answered_at.is_not(None), answered=one,
             answered_in_time=flag(within_standard(c.answered_at, c.answer_deadline)),
             answer_timed=flag(c.routed_at.is_not(None)),
             answer_seconds=sa.func.coalesce(_seconds(dialect, c.routed_at, c.answered_at), 0)),
    ).subquery()
    grouped = sa.select(*(parts.c[k] for k in KEY), *(sa.func.sum(parts.c[m]) for m in METRICS)).group_by(
        *(parts.c[k] for k in KEY))
    return [sa.delete(table), sa.insert(table).from_select([*KEY, *METRICS], grouped)]


def rebuild(connection=None) -> int:
    """Recompute the whole summary table (in the caller's transaction); returns its row count."""
    from ..extensions import db

    conn = connection if connection is not None else db.session
    dialect = conn.get_bind().dialect.name if connection is None else connection.dialect.name
    for statement in rebuild_statements(dialect):
        conn.execute(statement)
    return conn.execute(sa.select(sa.func.count()).select_from(ComplaintDay.__table__)).scalar() or 0


def rebuild_all() -> int:
    """The service behind `flask summary rebuild`: the whole table recomputed in one transaction."""
    from .common import unit_of_work

    with unit_of_work():
        return rebuild()
