"""SLA watch: overdue flags, history rows, reminders and escalation, in frozen time (time-machine).

Every job is run twice where it matters: the second run must change nothing and queue nothing.
Staff in the test database: validator, validator2 (Validator), pimpinan (Pimpinan), opd.dinkes
(Admin OPD of DINKESP2KB), opd.dputr (DPUTR); e-mail addresses are <username>@uji.go.id.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import AuditLog, Complaint, Opd, Outbox
from app.services import answer, decide_nik, reroute, submit
from app.services.sla import HISTORY_ANSWER, HISTORY_VALIDATION, send_reminders, sweep
from app.timeutil import from_wib


def at(*args) -> datetime:
    """A WIB wall-clock time as the naive UTC the database stores."""
    return from_wib(datetime(*args))


def travel(moment: datetime):
    # time-machine reads naive datetimes as local time; give it an aware UTC one.
    from datetime import timezone

    return time_machine.travel(moment.replace(tzinfo=timezone.utc), tick=False)


def fresh(complaint_id: int) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def outbox(template: str | None = None) -> list[Outbox]:
    query = sa.select(Outbox).order_by(Outbox.id)
    if template:
        query = query.where(Outbox.template == template)
    return list(db.session.scalars(query))


def history(action: str, complaint_id: int | None = None) -> list[AuditLog]:
    query = sa.select(AuditLog).where(AuditLog.kind == "system", AuditLog.action == action)
    if complaint_id is not None:
        query = query.where(AuditLog.complaint_id == complaint_id)
    return list(db.session.scalars(query))


def snapshot() -> tuple:
    """Everything a job may change: the flags and reminder stamps, history rows, outbox rows."""
    flags = db.session.execute(sa.select(Complaint.id, Complaint.validation_overdue, Complaint.answer_overdue,
                                         Complaint.validation_reminded_at, Complaint.answer_reminded_at,
                                         Complaint.version).order_by(Complaint.id)).all()
    logs = db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog))
    queued = db.session.scalar(sa.select(sa.func.count()).select_from(Outbox))
    return flags, logs, queued


def routed(submission, actor, when: datetime, opd_code: str = "DINKESP2KB") -> int:
    """A complaint submitted and validated (so routed to `opd_code`) at `when`."""
    with travel(when):
        complaint = submit(submission(opd_code=opd_code)).complaint
        decide_nik(complaint.id, actor("validator"), valid=True)
    return complaint.id


# --------------------------------------------------------------------------- validation (24 h)


def test_unchecked_complaint_is_flagged_after_24_hours_logged_and_escalated_once(submission):
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        cid = submit(submission()).complaint.id
    with travel(start + timedelta(hours=24)):  # exactly at the deadline: not late yet
        assert sweep().validation_overdue == 0
    assert fresh(cid).validation_overdue is False

    with travel(start + timedelta(hours=24, minutes=1)):
        report = sweep()
    assert (report.validation_overdue, report.answer_overdue, report.notices) == (1, 0, 1)
    complaint = fresh(cid)
    assert complaint.validation_overdue is True and complaint.answer_overdue is False
    [row] = history(HISTORY_VALIDATION, cid)
    assert row.username == "sistem" and row.at == start + timedelta(hours=24, minutes=1)
    assert complaint.ticket in row.detail
    [notice] = outbox("validation_overdue")
    assert notice.recipient == "pimpinan@uji.go.id" and notice.channel == "email"
    assert notice.status == "pending" and notice.complaint_id == cid
    assert complaint.ticket in notice.subject and "03-03-2026 09:00 WIB" in notice.body

    before = snapshot()
    with travel(start + timedelta(hours=30)):
        again = sweep()
    assert (again.validation_overdue, again.answer_overdue, again.notices) == (0, 0, 0)
    assert snapshot() == before


@pytest.mark.parametrize("second", [0, 0.250001])
def test_the_flag_history_row_names_ticket_and_deadline_as_json_on_either_database(submission, actor, second):
    """PostgreSQL writes the sweep's history rows in the UPDATE's own statement (its JSON built in SQL);
    SQLite from Python. Both write the same text: the ticket, and the deadline as isoformat(sep=" ") gives
    it, with microseconds only when the deadline has them."""
    import json

    start = at(2026, 3, 2, 9, 0) + timedelta(seconds=second)
    with travel(start):
        waiting = submit(submission()).complaint.id
    late = routed(submission, actor, start, opd_code="DPUTR")
    with travel(start + timedelta(days=20)):
        report = sweep()
    assert (report.validation_overdue, report.answer_overdue) == (1, 1)
    fractions = []
    for action, cid, deadline in ((HISTORY_VALIDATION, waiting, "validation_deadline"),
                                  (HISTORY_ANSWER, late, "answer_deadline")):  # the answer's: 23:59:59 WIB
        complaint = fresh(cid)
        [row] = history(action, cid)
        due = getattr(complaint, deadline)
        fractions.append(due.microsecond != 0)
        assert row.detail == json.dumps({"ticket": complaint.ticket, "deadline": due.isoformat(sep=" ")})
        assert (row.kind, row.username, row.role, row.user_id) == ("system", "sistem", "Sistem", None)
        assert row.at == start + timedelta(days=20)
    assert fractions == [second != 0, False]


@pytest.mark.parametrize("waiting, digest", [(3, False), (4, True)])
def test_many_newly_overdue_in_one_sweep_go_to_the_pimpinan_as_one_digest(app, submission, actor, monkeypatch,
                                                                          waiting, digest):
    """After a scheduler outage one sweep may find thousands: above ESCALATION_DIGEST_ABOVE the Pimpinan gets
    one e-mail with the counts and the longest overdue, not one each; every complaint keeps its history row."""
    monkeypatch.setitem(app.config, "ESCALATION_DIGEST_ABOVE", 3)
    start = at(2026, 3, 2, 9, 0)
    ids = []
    for minutes in range(waiting - 1):
        with travel(start + timedelta(minutes=minutes)):
            ids.append(submit(submission()).complaint.id)
    late_answer = routed(submission, actor, start, opd_code="DPUTR")
    with travel(start + timedelta(days=20)):
        report = sweep()
    assert (report.validation_overdue, report.answer_overdue) == (waiting - 1, 1)
    for cid in ids:
        assert len(history(HISTORY_VALIDATION, cid)) == 1
    assert len(history(HISTORY_ANSWER, late_answer)) == 1
    singles = outbox("validation_overdue") + outbox("answer_overdue")
    digests = outbox("overdue_digest")
    if not digest:
        assert len(singles) == waiting and digests == [] and report.notices == waiting
        return
    assert singles == [] and report.notices == 1
    [notice] = digests
    assert notice.recipient == "pimpinan@uji.go.id" and notice.complaint_id is None
    assert notice.subject == f"Terlambat: {waiting} pengaduan melewati batas waktu"
    assert f"{waiting - 1} verifikasi NIK (1 x 24 jam) dan 1 jawaban OPD" in notice.body
    lines = [line for line in notice.body.splitlines() if line.startswith("- ")]
    tickets = [fresh(cid).ticket for cid in ids]
    # The longest overdue first: the validations (due 24 hours after submission) before the answer (7 working days).
    assert [line.split(" · ")[0][2:] for line in lines] == [*tickets, fresh(late_answer).ticket]
    assert "Dinas Pekerjaan Umum" in lines[-1] and "03-03-2026 09:00 WIB" in lines[0]
    assert "/staf/kendali/" in notice.body
    before = snapshot()
    with travel(start + timedelta(days=20, minutes=5)):
        again = sweep()
    assert (again.validation_overdue, again.answer_overdue, again.notices) == (0, 0, 0)
    assert snapshot() == before


def test_a_long_digest_lists_the_first_fifty_and_says_how_many_more(app, submission, monkeypatch):
    from app.services import sla

    monkeypatch.setitem(app.config, "ESCALATION_DIGEST_ABOVE", 1)
    monkeypatch.setattr(sla, "DIGEST_LINES", 2)
    start = at(2026, 3, 2, 9, 0)
    for minutes in range(5):
        with travel(start + timedelta(minutes=minutes)):
            submit(submission())
    with travel(start + timedelta(days=2)):
        sweep()
    [notice] = outbox("overdue_digest")
    assert len([line for line in notice.body.splitlines() if line.startswith("- ")]) == 2
    assert "… dan 3 lainnya." in notice.body


def test_decision_after_the_deadline_is_flagged_but_not_escalated(submission, actor):
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        cid = submit(submission()).complaint.id
    with travel(start + timedelta(hours=26)):  # the sweep did not run in between
        decide_nik(cid, actor("validator"), valid=True)
        report = sweep()
    assert report.validation_overdue == 1 and report.notices == 0
    assert fresh(cid).validation_overdue is True
    assert len(history(HISTORY_VALIDATION, cid)) == 1
    assert outbox("validation_overdue") == []


def test_decision_in_time_is_never_flagged(submission, actor):
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        cid = submit(submission()).complaint.id
    with travel(start + timedelta(hours=23)):
        decide_nik(cid, actor("validator"), valid=False, remark="NIK tidak terdaftar.")
    with travel(start + timedelta(days=3)):
        assert sweep().validation_overdue == 0
    assert fresh(cid).validation_overdue is False
    assert history(HISTORY_VALIDATION) == []


def test_validation_reminder_at_75_percent_goes_to_every_validator_once(submission):
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        cid = submit(submission()).complaint.id
    with travel(start + timedelta(hours=17, minutes=59)):
        assert send_reminders().validation == 0
    assert outbox("validation_reminder") == []

    with travel(start + timedelta(hours=18)):  # 75 % of 24 h
        report = send_reminders()
    assert (report.validation, report.answer, report.notices) == (1, 0, 2)
    assert fresh(cid).validation_reminded_at == start + timedelta(hours=18)
    notices = outbox("validation_reminder")
    assert sorted(n.recipient for n in notices) == ["validator2@uji.go.id", "validator@uji.go.id"]
    assert all("/staf/validasi/" in n.body and "03-03-2026 09:00 WIB" in n.body for n in notices)

    before = snapshot()
    with travel(start + timedelta(hours=20)):
        again = send_reminders()
    assert (again.validation, again.notices) == (0, 0)
    assert snapshot() == before


def test_no_reminder_for_a_check_already_overdue_or_decided(submission, actor):
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        late = submit(submission()).complaint.id
        decided = submit(submission()).complaint.id
        decide_nik(decided, actor("validator"), valid=True)
    with travel(start + timedelta(hours=25)):  # the scheduler was down through the 75 % point
        report = send_reminders()
    assert report.validation == 0 and outbox("validation_reminder") == []
    assert fresh(late).validation_reminded_at is None


def test_reminder_share_is_configurable(app, submission, monkeypatch):
    monkeypatch.setitem(app.config, "REMINDER_SHARE", 0.5)
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        submit(submission())
    with travel(start + timedelta(hours=11, minutes=59)):
        assert send_reminders().validation == 0
    with travel(start + timedelta(hours=12)):
        assert send_reminders().validation == 1


# --------------------------------------------------------------------------- answer (7 working days)


def test_answer_deadline_skips_weekend_and_independence_day_and_is_flagged_after_it(submission, actor):
    # Routed Thursday 13 August 2026, 10:00 WIB. Working days after it: Fri 14, (weekend, Mon 17 August
    # Independence Day), Tue 18, Wed 19, Thu 20, Fri 21, Mon 24, (Tue 25 Maulid Nabi), Wed 26.
    cid = routed(submission, actor, at(2026, 8, 13, 10, 0))
    complaint = fresh(cid)
    assert complaint.answer_deadline == at(2026, 8, 26, 23, 59, 59)

    with travel(at(2026, 8, 21, 12, 0)):  # 8 calendar days: late in calendar mode, not here
        assert sweep().answer_overdue == 0
    with travel(at(2026, 8, 26, 23, 59, 59)):
        assert sweep().answer_overdue == 0
    assert fresh(cid).answer_overdue is False

    with travel(at(2026, 8, 27, 0, 0, 30)):
        report = sweep()
    assert (report.answer_overdue, report.notices) == (1, 1)
    assert fresh(cid).answer_overdue is True
    assert len(history(HISTORY_ANSWER, cid)) == 1
    [notice] = outbox("answer_overdue")
    assert notice.recipient == "pimpinan@uji.go.id"
    assert "Dinas Kesehatan" in notice.subject and "26-08-2026 23:59 WIB" in notice.body

    before = snapshot()
    with travel(at(2026, 8, 28, 9, 0)):
        assert sweep() == type(report)(0, 0, 0)
    assert snapshot() == before


def test_answer_reminder_at_75_percent_to_the_opds_admins_and_contact_address(submission, actor):
    opd = db.session.scalar(sa.select(Opd).where(Opd.code == "DINKESP2KB"))
    saved = opd.email
    opd.email = "dinkes@lumajangkab.go.id"
    db.session.commit()
    try:
        routed_at = at(2026, 8, 13, 10, 0)
        cid = routed(submission, actor, routed_at)
        other = routed(submission, actor, routed_at, opd_code="DPUTR")  # a different OPD, same times
        deadline = fresh(cid).answer_deadline
        due = routed_at + (deadline - routed_at) * 0.75  # Sunday 23 August, 14:29:59 WIB
        with travel(due - timedelta(minutes=1)):
            assert send_reminders().answer == 0
        with travel(due + timedelta(seconds=1)):
            report = send_reminders()
        assert report.answer == 2
        dinkes = [n for n in outbox("answer_reminder") if n.complaint_id == cid]
        assert sorted(n.recipient for n in dinkes) == ["dinkes@lumajangkab.go.id", "opd.dinkes@uji.go.id"]
        assert [n.recipient for n in outbox("answer_reminder") if n.complaint_id == other] == ["opd.dputr@uji.go.id"]
        assert all("26-08-2026 23:59 WIB" in n.body and "/staf/opd/" in n.body for n in dinkes)

        before = snapshot()
        with travel(due + timedelta(hours=5)):
            assert send_reminders() == type(report)(0, 0, 0)
        assert snapshot() == before
    finally:
        opd = db.session.scalar(sa.select(Opd).where(Opd.code == "DINKESP2KB"))
        opd.email = saved
        db.session.commit()


def test_rerouting_starts_a_new_deadline_with_its_own_reminder_and_escalation(submission, actor):
    routed_at = at(2026, 3, 2, 9, 0)  # Monday
    cid = routed(submission, actor, routed_at)
    first_deadline = fresh(cid).answer_deadline
    with travel(first_deadline + timedelta(minutes=1)):
        sweep()
        send_reminders()  # past the deadline: no reminder any more
    assert fresh(cid).answer_overdue is True
    assert len(outbox("answer_overdue")) == 1

    moved = first_deadline + timedelta(hours=1)
    with travel(moved):
        reroute(cid, actor("admin"), "DPUTR", note="Kewenangan DPUTR.")
    complaint = fresh(cid)
    assert complaint.answer_overdue is False and complaint.answer_deadline > moved
    with travel(moved + (complaint.answer_deadline - moved) * 0.8):
        assert send_reminders().answer == 1
    assert [n.recipient for n in outbox("answer_reminder")] == ["opd.dputr@uji.go.id"]
    with travel(complaint.answer_deadline + timedelta(minutes=1)):
        assert sweep().answer_overdue == 1
    assert len(outbox("answer_overdue")) == 2  # one per missed deadline
    assert len(history(HISTORY_ANSWER, cid)) == 2


def test_answer_after_the_deadline_is_flagged_but_not_escalated(submission, actor):
    cid = routed(submission, actor, at(2026, 3, 2, 9, 0))
    deadline = fresh(cid).answer_deadline
    with travel(deadline + timedelta(hours=2)):
        answer(cid, actor("opd.dinkes"), "Sudah ditangani, mohon maaf atas keterlambatan.")
        report = sweep()
    assert (report.answer_overdue, report.notices) == (1, 0)
    assert fresh(cid).answer_overdue is True
    assert outbox("answer_overdue") == []


def test_answered_in_time_is_never_flagged(submission, actor):
    cid = routed(submission, actor, at(2026, 3, 2, 9, 0))
    with travel(at(2026, 3, 4, 9, 0)):
        answer(cid, actor("opd.dinkes"), "Sudah ditangani.")
    with travel(at(2026, 4, 1, 9, 0)):
        assert sweep().answer_overdue == 0
    assert fresh(cid).answer_overdue is False


def test_calendar_mode_deadline_is_seven_times_24_hours(app, submission, actor, monkeypatch):
    monkeypatch.setitem(app.config, "ANSWER_DAY_MODE", "calendar")
    routed_at = at(2026, 8, 13, 10, 0)
    cid = routed(submission, actor, routed_at)
    assert fresh(cid).answer_deadline == routed_at + timedelta(days=7)
    with travel(routed_at + timedelta(days=7, minutes=1)):
        assert sweep().answer_overdue == 1


def test_the_sweep_does_not_bump_the_version_a_validator_holds(submission, actor):
    """A decision in flight must not fail as 'stale' because the sweep flagged the row meanwhile."""
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        cid = submit(submission()).complaint.id
    version = fresh(cid).version
    with travel(start + timedelta(hours=25)):
        sweep()
        assert fresh(cid).version == version
        decide_nik(cid, actor("validator"), valid=True, expected_version=version)
    assert fresh(cid).validation_overdue is True


@pytest.mark.parametrize("job, hours, notices", [("sla_sweep", 25, 1), ("sla_reminders", 19, 2)])
def test_run_once_command_runs_the_job_and_a_second_run_changes_nothing(runner, submission, job, hours, notices):
    start = at(2026, 3, 2, 9, 0)
    with travel(start):
        submit(submission())
    with travel(start + timedelta(hours=hours)):
        first = runner.invoke(args=["scheduler", "run-once", job])
        assert first.exit_code == 0, first.output
        assert f"notices={notices})" in first.output
        before = snapshot()
        second = runner.invoke(args=["scheduler", "run-once", job])
    assert second.exit_code == 0 and "notices=0)" in second.output
    assert snapshot() == before


def test_run_once_refuses_an_unknown_job(runner):
    result = runner.invoke(args=["scheduler", "run-once", "nope"])
    assert result.exit_code != 0 and "sla_sweep" in result.output
