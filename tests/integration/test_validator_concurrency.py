"""Two validators decide the same complaint at the same moment: exactly one decision is stored and the
other gets a clear message (optimistic locking on Complaint.version). Meaningful on PostgreSQL, where
the two transactions really overlap; run on SQLite too."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app import services
from app.extensions import db
from app.models import AuditLog, Complaint, NikCheck, Outbox, Routing, StatusEvent
from app.services import Conflict, validation
from app.workflow import State


def test_two_validators_deciding_at_once_store_exactly_one_decision(app, submission, actor):
    c = services.submit(submission(email="budi@contoh.id")).complaint
    version = c.version
    validators = [actor("validator"), actor("validator2")]
    events_before = db.session.scalar(sa.select(sa.func.count(StatusEvent.id)))
    postgresql = db.engine.dialect.name == "postgresql"
    start = threading.Barrier(2)
    # On PostgreSQL both transactions must have read the complaint (and passed the version check)
    # before either writes: a barrier in the session's before_flush makes "at the same moment"
    # deterministic, and the row lock + version check must pick one. SQLite serialises the two
    # decisions up front (validation.decide takes the write lock first), so there the second one reads
    # the first one's result.
    flush_barrier = threading.Barrier(2)

    def wait_for_the_other(session, flush_context, instances):
        if postgresql and any(isinstance(obj, NikCheck) for obj in session.new):
            flush_barrier.wait(timeout=5)

    def decide(args):
        validator, valid = args
        with app.app_context():
            start.wait(timeout=5)
            try:
                validation.decide(c.id, validator, valid=valid, expected_version=version,
                                  remark=None if valid else "NIK tidak sesuai SIAK.")
                return "ok", None
            except Conflict as exc:
                return "conflict", exc.message
            finally:
                db.session.remove()

    event.listen(Session, "before_flush", wait_for_the_other)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(decide, [(validators[0], True), (validators[1], False)]))
    finally:
        event.remove(Session, "before_flush", wait_for_the_other)

    outcomes = sorted(r[0] for r in results)
    assert outcomes == ["conflict", "ok"], results
    message = next(m for r, m in results if r == "conflict")
    assert message == ("Pengaduan ini baru saja diubah oleh petugas lain. Muat ulang halaman dan periksa lagi."
                       if postgresql else validation.DECIDED_MESSAGE)
    db.session.expire_all()
    checks = db.session.scalars(sa.select(NikCheck).where(NikCheck.complaint_id == c.id)).all()
    assert len(checks) == 1
    row = db.session.get(Complaint, c.id)
    winner = checks[0]
    assert row.state is (State.DITERUSKAN if winner.result == "valid" else State.TIDAK_VALID)
    assert row.version > version
    # Nothing of the loser's transaction survived: one event, one routing at most, one notice.
    assert db.session.scalar(sa.select(sa.func.count(StatusEvent.id))) == events_before + 1
    assert db.session.scalar(sa.select(sa.func.count(Routing.id))) == (1 if winner.result == "valid" else 0)
    assert db.session.scalar(sa.select(sa.func.count(Outbox.id)).where(Outbox.template.in_(["routed", "invalid"]))) == 1
    assert db.session.scalar(sa.select(sa.func.count(AuditLog.id))
                             .where(AuditLog.action == "complaint.decide")) == 1
