"""FAB's generic lists count at most COUNT_CAP + 1 rows (app/fablist.py), and no FAB list reads a big table."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from tests.conftest import text_of


def test_a_list_past_the_cap_says_more_than_and_counts_over_a_limit(app, client, auth, monkeypatch):
    from app.extensions import db
    from app.fablist import CappedSQLAInterface
    from app.models import NonWorkingDay

    for i in range(5):
        db.session.add(NonWorkingDay(day=date(2026, 12, 20) + timedelta(days=i), description=f"Cuti {i}"))
    db.session.commit()
    monkeypatch.setattr(CappedSQLAInterface, "count_cap", 3)
    auth.login("admin")
    statements = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", seen)
    try:
        page = client.get("/nonworkingdayview/list/")
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", seen)
    assert page.status_code == 200
    text = text_of(page)
    assert "lebih dari 3" in text and "Cuti 4" in text and "Cuti 0" in text
    counts = [s for s in statements if "count(" in s.lower() and "non_working_day" in s]
    assert counts and all("LIMIT" in s.upper() for s in counts), counts


def test_a_list_within_the_cap_shows_its_exact_count(app, client, auth):
    from app.extensions import db
    from app.models import NonWorkingDay

    db.session.add(NonWorkingDay(day=date(2026, 12, 24), description="Cuti bersama"))
    db.session.commit()
    auth.login("admin")
    text = text_of(client.get("/nonworkingdayview/list/"))
    assert "lebih dari" not in text and "Cuti bersama" in text


def test_no_fab_list_reads_a_big_table_and_ours_are_capped(app):
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.fablist import CappedSQLAInterface
    from app.models import AuditLog, Complaint, Outbox, StatusEvent

    big = {Complaint, AuditLog, Outbox, StatusEvent}
    for view in app.appbuilder.baseviews:
        datamodel = getattr(view, "datamodel", None)
        if not isinstance(datamodel, SQLAInterface):
            continue
        assert datamodel.obj not in big, f"{type(view).__name__} is a FAB list over {datamodel.obj.__tablename__}"
        # FAB's security screens (app.security, app.security_screens) list small tables: roles, permissions.
        if type(view).__module__.startswith("app.") and type(view).__module__ not in ("app.security",
                                                                                      "app.security_screens"):
            assert isinstance(datamodel, CappedSQLAInterface), type(view).__name__
