"""The transition table and the deadline rules (SOP rows 4 and 6), table-driven."""

from datetime import date, datetime

import pytest

from app.workflow import (
    TRANSITIONS, Action, Role, State, WorkflowError, answer_deadline, apply_transition, is_overdue,
    share_elapsed, validation_deadline,
)

ALLOWED = [
    (Action.SUBMIT, None, Role.PUBLIK, State.MENUNGGU_VERIFIKASI),
    (Action.VALIDATE, State.MENUNGGU_VERIFIKASI, Role.VALIDATOR, State.DITERUSKAN),
    (Action.VALIDATE, State.MENUNGGU_VERIFIKASI, Role.VALIDATOR, State.PERLU_DISPOSISI),  # no OPD chosen
    (Action.INVALIDATE, State.MENUNGGU_VERIFIKASI, Role.VALIDATOR, State.TIDAK_VALID),
    (Action.ANSWER, State.DITERUSKAN, Role.ADMIN_OPD, State.DIJAWAB),
    (Action.RETURN, State.DITERUSKAN, Role.ADMIN_OPD, State.PERLU_DISPOSISI),
    (Action.REROUTE, State.PERLU_DISPOSISI, Role.ADMIN_SISTEM, State.DITERUSKAN),
    (Action.REROUTE, State.PERLU_DISPOSISI, Role.VALIDATOR, State.DITERUSKAN),
    (Action.REROUTE, State.DITERUSKAN, Role.ADMIN_SISTEM, State.DITERUSKAN),
    (Action.CLOSE, State.DIJAWAB, Role.PUBLIK, State.SELESAI),
    (Action.CLOSE, State.DIJAWAB, Role.SYSTEM, State.SELESAI),
    (Action.DISPUTE, State.DIJAWAB, Role.PUBLIK, State.DISANGGAH),
    (Action.REOPEN, State.DISANGGAH, Role.PIMPINAN, State.DITERUSKAN),
    (Action.REROUTE, State.DISANGGAH, Role.PIMPINAN, State.DITERUSKAN),
    (Action.CLOSE, State.DISANGGAH, Role.PIMPINAN, State.SELESAI),
]


@pytest.mark.parametrize("action,source,role,target", ALLOWED)
def test_allowed_transitions(action, source, role, target):
    move = apply_transition(action, source, {role}, target)
    assert move.target is target and move.role is role and move.source is source


def test_every_table_row_is_tested():
    tested = set(ALLOWED)
    for t in TRANSITIONS:
        for role in t.roles:
            assert (t.action, t.source, role, t.target) in tested


def test_an_action_without_a_target_takes_its_usual_row_and_an_unknown_target_is_refused():
    assert apply_transition(Action.VALIDATE, State.MENUNGGU_VERIFIKASI, {Role.VALIDATOR}).target is State.DITERUSKAN
    with pytest.raises(WorkflowError):
        apply_transition(Action.VALIDATE, State.MENUNGGU_VERIFIKASI, {Role.VALIDATOR}, State.DIJAWAB)


FORBIDDEN_ROLE = [
    (Action.VALIDATE, State.MENUNGGU_VERIFIKASI, Role.ADMIN_OPD),
    (Action.VALIDATE, State.MENUNGGU_VERIFIKASI, Role.PIMPINAN),
    (Action.VALIDATE, State.MENUNGGU_VERIFIKASI, Role.ADMIN_SISTEM),  # full NIK only on the validator's desk
    (Action.INVALIDATE, State.MENUNGGU_VERIFIKASI, Role.PUBLIK),
    (Action.ANSWER, State.DITERUSKAN, Role.VALIDATOR),
    (Action.ANSWER, State.DITERUSKAN, Role.PIMPINAN),
    (Action.RETURN, State.DITERUSKAN, Role.VALIDATOR),
    (Action.REROUTE, State.PERLU_DISPOSISI, Role.ADMIN_OPD),
    (Action.REROUTE, State.DITERUSKAN, Role.VALIDATOR),
    (Action.CLOSE, State.DIJAWAB, Role.ADMIN_OPD),
    (Action.DISPUTE, State.DIJAWAB, Role.ADMIN_OPD),  # only the complainant disputes
    (Action.REOPEN, State.DISANGGAH, Role.ADMIN_OPD),  # never silently back to the OPD
    (Action.CLOSE, State.DISANGGAH, Role.PUBLIK),
    (Action.CLOSE, State.DISANGGAH, Role.SYSTEM),  # silence closes an answer, not a dispute
]


@pytest.mark.parametrize("action,source,role", FORBIDDEN_ROLE)
def test_wrong_role_is_refused(action, source, role):
    with pytest.raises(WorkflowError) as err:
        apply_transition(action, source, {role})
    assert err.value.code == "forbidden"


FORBIDDEN_STATE = [
    (Action.VALIDATE, State.DITERUSKAN, Role.VALIDATOR),
    (Action.VALIDATE, State.TIDAK_VALID, Role.VALIDATOR),
    (Action.INVALIDATE, State.DIJAWAB, Role.VALIDATOR),
    (Action.ANSWER, State.MENUNGGU_VERIFIKASI, Role.ADMIN_OPD),
    (Action.ANSWER, State.TIDAK_VALID, Role.ADMIN_OPD),
    (Action.ANSWER, State.DIJAWAB, Role.ADMIN_OPD),
    (Action.ANSWER, State.PERLU_DISPOSISI, Role.ADMIN_OPD),
    (Action.RETURN, State.DIJAWAB, Role.ADMIN_OPD),
    (Action.REROUTE, State.TIDAK_VALID, Role.ADMIN_SISTEM),
    (Action.CLOSE, State.DITERUSKAN, Role.SYSTEM),
    (Action.SUBMIT, State.MENUNGGU_VERIFIKASI, Role.PUBLIK),
]


@pytest.mark.parametrize("action,source,role", FORBIDDEN_STATE)
def test_wrong_state_is_refused(action, source, role):
    with pytest.raises(WorkflowError) as err:
        apply_transition(action, source, {role})
    assert err.value.code == "invalid_state"


def utc(*args):
    return datetime(*args)


def test_validation_deadline_is_24_hours():
    assert validation_deadline(utc(2026, 3, 2, 1, 30)) == utc(2026, 3, 3, 1, 30)


def test_calendar_answer_deadline_is_seven_days_flat():
    # Friday 10:00 WIB → next Friday 10:00 WIB, weekends included.
    assert answer_deadline(utc(2026, 3, 6, 3, 0), 7, "calendar") == utc(2026, 3, 13, 3, 0)


def test_working_days_skip_a_weekend():
    # Routed Friday 6 March 2026, 10:00 WIB. 7 working days: Mon 9 … Tue 17 March; end of day WIB.
    deadline = answer_deadline(utc(2026, 3, 6, 3, 0), 7, "working")
    assert deadline == utc(2026, 3, 17, 16, 59, 59)  # 23:59:59 WIB


def test_working_days_skip_a_public_holiday():
    # 17 August 2026 (Monday) is Independence Day and 25 August (Tuesday) the Prophet's Birthday.
    # Routed Friday 14 Aug 2026 09:00 WIB: working days 18,19,20,21,24,26,27 → Thursday 27 August.
    assert date(2026, 8, 17).weekday() == 0
    deadline = answer_deadline(utc(2026, 8, 14, 2, 0), 7, "working")
    assert deadline == utc(2026, 8, 27, 16, 59, 59)  # 23:59:59 WIB


def test_working_days_skip_recorded_days_off():
    # Same as the weekend case, with cuti bersama recorded on Wed 11 March 2026.
    deadline = answer_deadline(utc(2026, 3, 6, 3, 0), 7, "working", extra_days_off={date(2026, 3, 11)})
    assert deadline == utc(2026, 3, 18, 16, 59, 59)


def test_routing_late_in_the_evening_counts_the_wib_day():
    # 18:00 UTC on Thursday 5 March is 01:00 WIB on Friday 6 March: counting starts from Friday.
    assert answer_deadline(utc(2026, 3, 5, 18, 0), 7, "working") == utc(2026, 3, 17, 16, 59, 59)


def test_overdue_and_share():
    start, deadline = utc(2026, 1, 1), utc(2026, 1, 2)
    assert not is_overdue(deadline, utc(2026, 1, 1, 23))
    assert is_overdue(deadline, utc(2026, 1, 2, 0, 1))
    assert is_overdue(deadline, utc(2026, 1, 3), done_at=utc(2026, 1, 2, 1))
    assert not is_overdue(deadline, utc(2026, 1, 3), done_at=utc(2026, 1, 1, 5))
    assert share_elapsed(start, deadline, utc(2026, 1, 1, 18)) == pytest.approx(0.75)


def test_only_a_complaint_waiting_for_dispatch_is_held_by_no_opd():
    from app.workflow import held_by_opd

    assert [s for s in State if not held_by_opd(s)] == [State.PERLU_DISPOSISI]


def test_silence_closes_after_ten_working_days_across_weekends_and_holidays():
    from datetime import timedelta

    from app.timeutil import from_wib
    from app.workflow import silence_close_due, silence_cutoff

    answered = from_wib(datetime(2026, 5, 20, 10, 0))  # Wednesday
    due = silence_close_due(answered, 10)
    # Working days after Wed 20 May 2026: 21, 22, 25, 26, (27 Idul Adha), 28, 29, (1 June Hari Lahir
    # Pancasila), 2, 3, 4, 5 June: the tenth is Friday 5 June.
    assert due == from_wib(datetime(2026, 6, 5, 23, 59, 59))
    assert silence_close_due(answered, 10, extra_days_off={date(2026, 6, 2)}) == from_wib(
        datetime(2026, 6, 8, 23, 59, 59))  # a recorded day off pushes it over the weekend to Monday
    # The cut-off: at the due moment an answer of 20 May is not yet due; a second later it is, and an
    # answer of 21 May is not.
    assert silence_cutoff(due, 10) <= answered
    later = silence_cutoff(due + timedelta(seconds=1), 10)
    assert later == from_wib(datetime(2026, 5, 21, 0, 0)) and answered < later
