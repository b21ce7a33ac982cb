"""Issue 13 item 3: the dashboard's and the recap's figures read from the summary table equal the full
recomputation (tests/integration/summary_oracle.py, the code they replaced) on a varied seeded set, on
SQLite and PostgreSQL; the summary kept in each transaction equals the set-based rebuild."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Complaint, ComplaintDay, NonWorkingDay
from app.reports import dashboard, recap
from app.services import citizen, sla, summary
from app.timeutil import from_wib

from . import summary_oracle as oracle

NOW = from_wib(datetime(2026, 4, 20, 10, 0))


def _at(*args):
    return from_wib(datetime(*args)).replace(tzinfo=timezone.utc)


def _table() -> dict:
    t = ComplaintDay.__table__.c
    rows = db.session.execute(sa.select(ComplaintDay.__table__).order_by(*(t[k] for k in summary.KEY))).all()
    out = {}
    for row in rows:
        m = row._mapping
        values = tuple(round(float(m[name]), 1) for name in summary.METRICS)
        if any(values):  # a key whose complaints all moved away keeps a row of zeros
            out[tuple(str(m[k]) for k in summary.KEY)] = values
    return out


@pytest.fixture
def varied(submission, actor):
    """Complaints across the end of February and March 2026 (a weekend 28 Feb-1 Mar, the holiday Nyepi on
    19 Mar and a local day off on 20 Mar): invalid NIKs, late checks, answers in time and late, a return and
    re-route to another OPD, a dispute re-opened and answered again, ratings, closes by silence, overdue
    flags set by the sweep, rahasia/publik and API complaints, some still waiting at the end."""
    db.session.add(NonWorkingDay(day=date(2026, 3, 20), description="Cuti bersama Nyepi"))
    db.session.commit()
    v, dinkes, dputr, admin, boss = (actor(u) for u in ("validator", "opd.dinkes", "opd.dputr", "admin", "pimpinan"))
    made = []

    def submit(when, **changes):
        with time_machine.travel(when, tick=False):
            c = services.submit(submission(**changes)).complaint
        made.append(c.id)
        return c.id

    def at(when, fn, *args, **kwargs):
        with time_machine.travel(when, tick=False):
            return fn(*args, **kwargs)

    days = [(2, 26, 9), (2, 27, 23), (2, 28, 10), (3, 1, 22), (3, 2, 8), (3, 18, 15), (3, 19, 9), (3, 31, 23),
            (4, 1, 0), (4, 2, 10)]
    for i, (month, day, hour) in enumerate(days):
        opd = "DPUTR" if i % 3 == 0 else "DINKESP2KB"
        vis = ("anonim", "publik", "rahasia")[i % 3]
        cid = submit(_at(2026, month, day, hour), opd_code=opd, visibility=vis)
        decided = _at(2026, month, day, hour) + (timedelta(hours=1) if i % 4 else timedelta(hours=26, minutes=30))
        if i == 3:
            at(_at(2026, 3, 3, 9), services.decide_nik, cid, v, valid=True)  # 35 h: late check
        elif i % 5 == 4:
            at(decided, services.decide_nik, cid, v, valid=False, remark="NIK tidak terdaftar.")
            continue
        elif i == 9:
            continue  # still waiting for the check
        else:
            at(decided, services.decide_nik, cid, v, valid=True)
        desk = dputr if opd == "DPUTR" else dinkes
        if i == 1:  # returned, re-routed to DPUTR, answered there late
            at(_at(2026, 3, 2, 9), services.return_to_dispatch, cid, dinkes, "Kewenangan DPUTR.")
            at(_at(2026, 3, 2, 11), services.reroute, cid, admin, "DPUTR")
            at(_at(2026, 3, 16, 14), services.answer, cid, dputr, "Sudah diperbaiki.")
            at(_at(2026, 3, 17, 9), citizen.reply, cid, citizen.ReplyInput(accepted=True, rating="4"))
        elif i == 2:  # answered in time, disputed, re-opened, answered again, accepted
            at(_at(2026, 3, 3, 10), services.answer, cid, desk, "Sudah.")
            at(_at(2026, 3, 4, 10), citizen.reply, cid, citizen.ReplyInput(accepted=False, rating="1", reason="Belum."))
            at(_at(2026, 3, 5, 10), citizen.decide_dispute, cid, boss, "reopen")
            at(_at(2026, 4, 1, 1), services.answer, cid, desk, "Sudah ditangani ulang.")
            at(_at(2026, 4, 2, 9), citizen.reply, cid, citizen.ReplyInput(accepted=True, rating="5"))
        elif i in (5, 6):  # answered, then left silent (closed by the scheduler)
            at(_at(2026, 3, 23, 9), services.answer, cid, desk, "Ditindaklanjuti.")
        elif i == 7:  # answered on 1 April WIB (31 March UTC), rated
            at(_at(2026, 4, 1, 6, 30), services.answer, cid, desk, "Sudah.")
            at(_at(2026, 4, 1, 23, 30), citizen.reply, cid, citizen.ReplyInput(accepted=True, rating="3"))
        # 0 and 8 stay at their OPD past the deadline
    api = submit(_at(2026, 3, 10, 9), opd_code="DPUTR")
    db.session.get(Complaint, api).channel = "api"  # a correction of a stored row: the summary follows it
    db.session.commit()
    at(_at(2026, 3, 10, 10), services.decide_nik, api, v, valid=True)
    for when in (_at(2026, 3, 3, 12), _at(2026, 3, 20, 12), _at(2026, 4, 10, 12)):
        at(when, sla.sweep)
    assert citizen.close_silent(from_wib(datetime(2026, 4, 15, 0, 0))) >= 2
    return made


PERIODS = [recap.make_period("bulan", date(2026, 3, 1)), recap.make_period("bulan", date(2026, 2, 1)),
           recap.make_period("bulan", date(2026, 4, 1)), recap.make_period("minggu", date(2026, 3, 1)),
           recap.make_period("hari", date(2026, 3, 19)), recap.make_period("tahun", date(2026, 1, 1)),
           recap.make_period("rentang", date(2026, 1, 1), date(2026, 2, 28), date(2026, 3, 31))]


def _figures(row) -> dict:
    return {name: getattr(row, name) for name in vars(row) if name not in ("key", "label")}


def test_recap_from_summaries_equals_the_full_recomputation(varied):
    compared = 0
    for period in PERIODS:
        for dimension in recap.DIMENSIONS:
            fast, slow = recap.build(period, dimension, NOW), oracle.recap(period, dimension, NOW)
            assert [(r.key, r.label, _figures(r)) for r in fast.rows] == [
                (r.key, r.label, _figures(r)) for r in slow.rows], (period, dimension)
            assert _figures(fast.total) == _figures(slow.total), (period, dimension)
            compared += len(fast.rows)
    march = recap.build(PERIODS[0], "opd", NOW).total
    # The set is varied enough to mean something: every kind of figure is non-zero in March.
    assert march.invalid and march.answered and march.overdue and march.disputed and march.ratings
    assert recap.build(PERIODS[2], "opd", NOW).total.closed_silent >= 2  # closed by silence in April
    assert march.checked_24h < march.checked and march.answered_in_standard < march.answered
    assert compared > 40


def test_dashboard_counts_and_trend_from_summaries_equal_the_full_recomputation(varied):
    dputr = db.session.scalar(sa.text("SELECT id FROM opd WHERE code = 'DPUTR'"))
    for start, end in ((date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 27), date(2026, 3, 1)),
                       (date(2026, 1, 1), date(2026, 4, 30)), (date(2026, 4, 1), date(2026, 4, 1))):
        for opd_id in (None, dputr):
            f = dashboard.Filters(start, end, opd_id)
            assert dashboard.state_counts(f) == oracle.state_counts(f), f
            assert dashboard.monthly_trend(f) == oracle.monthly_trend(f), f
    trend = dashboard.monthly_trend(dashboard.Filters(date(2026, 3, 1), date(2026, 4, 30)))
    assert sum(m.overdue for m in trend) > 0 and sum(m.answered for m in trend) > 0


def test_summary_kept_in_each_transaction_equals_the_rebuild(varied):
    kept = _table()
    assert kept
    assert summary.rebuild_all() > 0
    assert _table() == kept


@pytest.fixture
def one_statement(monkeypatch):
    """Every summary write of a transaction in one INSERT … SELECT FROM unnest (PostgreSQL's path for a
    catch-up sweep's thousands of keys), however few keys it has. SQLite has only the executemany."""
    monkeypatch.setattr(summary, "BULK_ROWS", 1)


def test_summary_written_in_one_statement_equals_the_rebuild(one_statement, varied):
    kept = _table()
    assert kept
    assert summary.rebuild_all() > 0
    assert _table() == kept


def test_rebuild_command_restores_a_damaged_summary(varied, runner):
    kept = _table()
    db.session.execute(sa.delete(ComplaintDay))
    db.session.commit()
    result = runner.invoke(args=["summary", "rebuild"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert _table() == kept


def test_concurrent_submissions_and_decisions_keep_the_summary_exact(app, submission, actor):
    """Ten threads submit 40 complaints to two OPDs at once, then decide them at once: every increment
    lands (no lost update, no deadlock) and the summary equals the rebuild."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from contextlib import suppress

    def suppress_broken():
        return suppress(threading.BrokenBarrierError)

    inputs = [submission(opd_code=("DPUTR", "DINKESP2KB")[i % 2], text=f"Serentak {i}.") for i in range(40)]
    barrier = threading.Barrier(10)

    def run(fn, *args, **kwargs):
        with app.app_context(), suppress_broken():
            barrier.wait(timeout=5)  # ten at once (a broken barrier only means less overlap)
        with app.app_context():
            result = fn(*args, **kwargs)
            db.session.remove()
            return result

    with ThreadPoolExecutor(max_workers=10) as pool:
        ids = list(pool.map(lambda data: run(lambda: services.submit(data).complaint.id), inputs))
    validator = actor("validator")
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda cid: run(services.decide_nik, cid, validator, valid=cid % 3 != 0,
                                      remark=None if cid % 3 else "NIK tidak terdaftar."), ids))
    db.session.expire_all()
    kept = _table()
    t = ComplaintDay.__table__.c
    assert db.session.scalar(sa.select(sa.func.sum(t.received))) == 40
    assert db.session.scalar(sa.select(sa.func.sum(t.checked))) == 40
    summary.rebuild_all()
    assert _table() == kept


def test_a_column_set_on_an_expired_complaint_moves_its_figures(submission):
    """The old value is loaded before it is replaced (active history), so the figures move from the old
    OPD to the new one even when nothing read the complaint after the last commit."""
    c = services.submit(submission(opd_code="DINKESP2KB")).complaint
    dputr = db.session.scalar(sa.text("SELECT id FROM opd WHERE code = 'DPUTR'"))
    db.session.expire(c)
    c.opd_id = dputr
    db.session.commit()
    t = ComplaintDay.__table__.c
    received = dict(db.session.execute(sa.select(t.opd_id, sa.func.sum(t.received)).group_by(t.opd_id)).all())
    assert {k: v for k, v in received.items() if v} == {dputr: 1}
