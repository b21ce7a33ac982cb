"""One definition of "overdue" (issue 12): workflow's Python predicates and services.sql's SQL expressions
agree row by row, and every reader (sweep flags, desk filter, dashboard, recap, public badge) uses them."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import sqlalchemy as sa

from app import services
from app.extensions import db
from app.models import Complaint
from app.services import sql
from app.workflow import State, answer_overdue, overdue, validation_overdue

NOW = datetime(2026, 6, 15, 5, 0)


def _seed(submission, actor) -> list[int]:
    """Complaints in every state, with deadlines before/after now and steps done before/after them."""
    validator, opd = actor("validator"), actor("opd.dinkes")
    ids = []
    offsets = (timedelta(hours=-30), timedelta(0), timedelta(minutes=1))
    for n, (kind, v_off, a_off) in enumerate(itertools.product(
            ("waiting", "invalid", "routed", "returned", "answered"), offsets, offsets)):
        c = services.submit(submission(title=f"Uji tenggat {n}")).complaint
        if kind != "waiting":
            services.decide_nik(c.id, validator, valid=kind != "invalid", remark="Uji" if kind == "invalid" else None)
        if kind == "returned":
            services.return_to_dispatch(c.id, opd, "Bukan wewenang.")
        if kind == "answered":
            services.answer(c.id, opd, "Sudah ditangani.")
        row = db.session.get(Complaint, c.id)
        values = {"validation_deadline": NOW + v_off}
        if row.validated_at is not None:
            # decided 2 hours before or after its deadline, alternating
            values["validated_at"] = values["validation_deadline"] + timedelta(hours=2 if n % 2 else -2)
        if row.routed_at is not None:
            values["answer_deadline"] = NOW + a_off
            if row.answered_at is not None:
                values["answered_at"] = NOW + a_off + timedelta(hours=1 if n % 3 else -1)
        db.session.execute(sa.update(Complaint).where(Complaint.id == c.id).values(**values)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        ids.append(c.id)
    return ids


def test_python_and_sql_agree_on_every_row(submission, actor):
    ids = _seed(submission, actor)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Complaint).where(Complaint.id.in_(ids))).all()
    states = {r.state for r in rows}
    assert states == {State.MENUNGGU_VERIFIKASI, State.TIDAK_VALID, State.DITERUSKAN, State.PERLU_DISPOSISI,
                      State.DIJAWAB}
    py = {
        "validation": {r.id for r in rows if validation_overdue(r.validation_deadline, r.validated_at, NOW)},
        "answer": {r.id for r in rows if answer_overdue(r.state, r.answer_deadline, r.answered_at, NOW)},
        "either": {r.id for r in rows if overdue(r.state, r.validation_deadline, r.validated_at, r.answer_deadline,
                                                 r.answered_at, NOW)},
    }
    in_sql = {
        name: set(db.session.scalars(sa.select(Complaint.id).where(Complaint.id.in_(ids), expr)))
        for name, expr in (("validation", sql.validation_overdue(NOW)), ("answer", sql.answer_overdue(NOW)),
                           ("either", sql.overdue(NOW)))
    }
    assert in_sql == py
    # The seed covers both outcomes of each definition, or the comparison proves little.
    for name in py:
        assert py[name] and set(ids) - py[name], name
    # A returned complaint waits for dispatch: its old deadline does not make the OPD late.
    returned = [r for r in rows if r.state is State.PERLU_DISPOSISI and r.answer_deadline and r.answer_deadline < NOW]
    assert returned and not any(r.id in py["answer"] for r in returned)


def test_the_sweep_flags_exactly_what_the_definition_says(submission, actor):
    from app.services import sla

    ids = _seed(submission, actor)
    sla.sweep(now=NOW)
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Complaint).where(Complaint.id.in_(ids))).all()
    assert {r.id for r in rows if r.validation_overdue} == {
        r.id for r in rows if validation_overdue(r.validation_deadline, r.validated_at, NOW)}
    assert {r.id for r in rows if r.answer_overdue} == {
        r.id for r in rows if answer_overdue(r.state, r.answer_deadline, r.answered_at, NOW)}


def test_one_definition_in_the_code():
    """grep: the overdue comparison lives in workflow.py and services/sql.py only."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "app"
    pattern = re.compile(r"(deadline\s*<\s*now|now\s*>\s*\w*deadline|_at\s*<?>=?\s*\w*\.?\w*deadline"
                         r"|_at\s*<=\s*\w*\.?\w*deadline)")
    found = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel in ("workflow.py", "services/sql.py"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, "an overdue comparison outside workflow/services.sql:\n  " + "\n  ".join(found)
