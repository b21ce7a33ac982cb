"""Issue 13's cheap wins, each one held by a query count (the timings are for `make bench`): a staff page reads
the permissions once, a desk list does not read answers/attachments per row, the public drop-down of OPDs is
kept per process and cleared by the OPD import."""

from __future__ import annotations

import contextlib
import re

import sqlalchemy as sa

from app.extensions import db
from app.models import Opd
from tests.conftest import PASSWORD
from tests.integration.opd_support import api_headers, login, routed


@contextlib.contextmanager
def statements(parameters: bool = False):
    """The SQL statements run inside the block; with `parameters`, (statement, parameters) pairs."""
    seen: list = []

    def on_execute(_conn, _cursor, statement, params, *_args, **_kwargs):
        seen.append((statement, params) if parameters else statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)


def test_a_staff_page_reads_the_permissions_once(app):
    client = login(app, "pimpinan", PASSWORD)
    assert client.get("/riwayat/").status_code == 200
    with statements() as seen:
        assert client.get("/riwayat/").status_code == 200
    checks = [s for s in seen if "ab_permission_view_role" in s]
    # One for every has_access of the request (FAB made one per check), at most one more for FAB's menu.
    assert len([s for s in checks if s.startswith("SELECT ab_view_menu.name, ab_permission.name")]) == 1, checks
    assert len(checks) <= 2, checks


def test_desk_and_api_lists_make_the_same_queries_for_2_or_6_rows(app, submission, actor):
    client = login(app, "opd.dinkes", PASSWORD)
    headers = api_headers("pimpinan")

    def counts():
        with statements() as desk:
            assert client.get("/staf/opd/").status_code == 200
        with statements() as api:
            assert app.test_client().get("/api/v1/complaint/", headers=headers).status_code == 200
        return len(desk), len(api)

    for i in range(2):
        routed(submission, actor, text=f"Pengaduan daftar {i}.")
    db.session.commit()
    few = counts()
    for i in range(2, 6):
        routed(submission, actor, text=f"Pengaduan daftar {i}.")
    db.session.commit()
    assert counts() == few


def test_public_opd_list_is_kept_per_process_and_cleared_by_the_import(app, client, monkeypatch):
    from app.services.accounts import import_opds
    from app.services.portal import clear_opd_cache

    monkeypatch.setitem(app.config, "PUBLIC_OPD_CACHE_SECONDS", 60)
    clear_opd_cache()
    assert 'value="DPUTR"' in client.get("/pengaduan/").get_data(as_text=True)
    with statements() as seen:
        assert client.get("/pengaduan/").status_code == 200
    assert not [s for s in seen if "FROM opd" in s and "opd.active" in s]  # answered from the process's copy
    db.session.execute(sa.update(Opd).where(Opd.code == "DPUTR").values(active=False))
    db.session.commit()
    assert 'value="DPUTR"' in client.get("/pengaduan/").get_data(as_text=True)  # within its lifetime
    import_opds(None)
    assert 'value="DPUTR"' not in client.get("/pengaduan/").get_data(as_text=True)


def test_anonymous_public_pages_set_no_session_cookie(client):
    for path in ("/pengaduan/", "/statistik", "/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert not response.headers.getlist("Set-Cookie"), (path, response.headers.getlist("Set-Cookie"))
    # A visitor's own language choice still lives in the session.
    assert client.get("/bahasa/en").headers.getlist("Set-Cookie")
    assert 'lang="en"' in client.get("/pengaduan/").get_data(as_text=True)


def test_the_nik_queue_takes_its_page_from_the_index_whatever_the_statistics_say(app, submission, actor):
    """The page's ids come from complaint alone, in the queue index's order (state, validation_deadline, id),
    and only then the rows with their OPD and LAPOR! link: a planner that believes the waiting state rare
    (statistics from before a backlog) cannot join and sort every waiting complaint first (bench: 26 → 1.8 ms
    for 3,598 waiting at 1,000,000)."""
    from app.services import submit, validation

    for i in range(3):
        submit(submission(text=f"Menunggu pemeriksaan NIK {i}."))
    db.session.commit()
    with statements() as seen:
        page = validation.queue(actor("validator"))
    assert len(page.rows) == 3
    pages = [s for s in seen if s.startswith("SELECT") and "FROM complaint" in s and "count(" not in s]
    ids, rows = pages[0], pages[1]
    # The ids from complaint alone (the scope's own subquery aside), in the index's order.
    assert re.match(r"SELECT complaint\.id\s+FROM complaint\s+WHERE", ids), ids
    assert "ORDER BY complaint.validation_deadline ASC, complaint.id ASC" in ids and "LIMIT" in ids
    assert "complaint.id IN" in rows
    if db.engine.dialect.name == "postgresql":
        with statements(parameters=True) as captured:
            validation.queue(actor("validator"))
        statement, parameters = next((s, p) for s, p in captured if s == ids)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE complaint")
            conn.exec_driver_sql("SET enable_seqscan = off")  # a three-row table is otherwise read whole
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        assert "ix_complaint_queue_validation" in plan and "Sort" not in plan, plan


def test_the_dashboard_trend_reads_the_summary_from_its_index_alone(app, submission):
    """The twelve-month trend sums three figures per day of a year of `summary_complaint_day`; migration 0033's
    (day, opd_id) INCLUDE (received, answered, flagged) gives them without the table (bench at 1,000,000: a
    parallel sequential scan of 35–39 ms, 9–13 ms from the index). On both databases the figures are the same
    as the summary's own rows; on PostgreSQL the plan is an index-only scan of that index, for every OPD
    and for one."""
    from datetime import date

    from app.models import ComplaintDay
    from app.reports import dashboard
    from app.services import submit
    from app.timeutil import to_wib, utcnow

    for i in range(3):
        submit(submission(text=f"Untuk tren bulanan {i}."))
    db.session.commit()
    today = to_wib(utcnow()).date()
    opd_id = db.session.scalar(sa.select(ComplaintDay.opd_id).limit(1))
    for opd in (None, opd_id):
        with statements() as seen:
            trend = dashboard.monthly_trend(dashboard.Filters(date(today.year, 1, 1), today, opd))
        assert trend[-1].received == db.session.scalar(sa.select(sa.func.sum(ComplaintDay.received)).where(
            ComplaintDay.day >= today.replace(day=1), *([ComplaintDay.opd_id == opd] if opd else [])))
        if db.engine.dialect.name != "postgresql":
            continue
        [statement] = [s for s in seen if "FROM summary_complaint_day" in s]
        with statements(parameters=True) as captured:
            dashboard.monthly_trend(dashboard.Filters(date(today.year, 1, 1), today, opd))
        parameters = next(p for s, p in captured if s == statement)
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE summary_complaint_day")
            conn.exec_driver_sql("SET enable_seqscan = off")  # a few rows are otherwise read whole
            plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + statement, parameters))
        assert "Index Only Scan using ix_summary_day_trend" in plan, plan
