"""The database itself refuses rows that break the model's invariants (migration 0010_invariants).

Every case is plain SQL through a Core connection, bypassing the ORM and the services, so what refuses
it is the database: a CHECK, a foreign key or the partial unique index. Each case runs in a transaction
that is rolled back, and each refusal names its constraint (SQLite does not name foreign keys and
unique indexes; there the message names the kind). Each constraint also has a legitimate row that passes.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.models import AUDIT_KINDS, NIK_CHECK_RESULTS, OUTBOX_CHANNELS, OUTBOX_STATUSES, ROUTING_OUTCOMES
from app.siak import REGISTRY_STATUSES, Verdict
from app.workflow import Action, Channel, Role, State, Visibility
from tests.integration.sql_rows import (
    PARTS, T0, add_complaint, audit_row, complaint_row, complaint_with_every_part, event_row, insert,
    nik_check_row, opd_id, outbox_row, registry_row, routed, routing_row, scalar, serial, update, user_id)


def attempt(*steps) -> list:
    """Run the steps (functions of a connection) in one transaction that is always rolled back;
    returns their results, or raises what the database raised."""
    from app.extensions import db

    with db.engine.connect() as conn:
        trans = conn.begin()
        try:
            results = []
            for step in steps:
                results.append(step(conn))
            return results
        finally:
            trans.rollback()


def refused(*steps, constraint: str, kind: str = "check") -> None:
    """The last step is refused by the database itself, by `constraint`."""
    from app.extensions import db

    with pytest.raises(IntegrityError) as caught:
        attempt(*steps)
    message = str(caught.value.orig)
    if db.engine.dialect.name == "postgresql" or kind == "check":
        assert constraint in message, message
    else:  # SQLite names neither foreign keys nor the columns' unique index by constraint name
        assert {"foreign_key": "FOREIGN KEY constraint failed", "unique": "UNIQUE constraint failed"}[kind] in message


# --------------------------------------------------------------------------- complaint: enumerated columns


@pytest.mark.parametrize("state", list(State))
def test_a_consistent_complaint_is_accepted_in_every_state(state):
    [complaint_id] = attempt(add_complaint(state))
    assert complaint_id


def test_an_unknown_state_is_refused():
    # A decided complaint's times, so that only the state itself is wrong.
    refused(add_complaint(State.TIDAK_VALID, state="dibatalkan"), constraint="ck_complaint_state")


@pytest.mark.parametrize("visibility", list(Visibility))
def test_every_visibility_is_accepted_and_an_unknown_one_refused(visibility):
    attempt(add_complaint(visibility=visibility.value))
    refused(add_complaint(visibility="terbatas"), constraint="ck_complaint_visibility")


@pytest.mark.parametrize("channel", list(Channel))
def test_every_channel_is_accepted_and_an_unknown_one_refused(channel):
    attempt(add_complaint(channel=channel.value))
    refused(add_complaint(channel="faks"), constraint="ck_complaint_channel")


def test_every_siak_verdict_is_accepted_and_an_unknown_one_refused():
    attempt(*(add_complaint(siak_verdict=v.value) for v in Verdict), add_complaint(siak_verdict=None))
    refused(add_complaint(siak_verdict="OK"), constraint="ck_complaint_siak_verdict")


# --------------------------------------------------------------------------- complaint: across columns


def test_a_rahasia_complaint_is_never_published():
    attempt(add_complaint(State.DITERUSKAN, visibility="rahasia", published_at=None))
    refused(add_complaint(State.DITERUSKAN, visibility="rahasia"), constraint="ck_complaint_rahasia_unpublished")
    # Publishing one later (the slip of test_portal_public, now impossible) is refused the same way.
    refused(add_complaint(State.DITERUSKAN, visibility="rahasia", published_at=None),
            lambda conn: update(conn, "complaint", scalar(conn, "SELECT max(id) FROM complaint"), published_at=T0),
            constraint="ck_complaint_rahasia_unpublished")


@pytest.mark.parametrize("state", [State.MENUNGGU_VERIFIKASI, State.TIDAK_VALID])
def test_only_a_complaint_with_a_valid_nik_decision_is_published(state):
    attempt(add_complaint(state, published_at=None))
    refused(add_complaint(state, published_at=T0), constraint="ck_complaint_published_validated")


def test_a_decided_complaint_has_its_decision_time():
    refused(add_complaint(State.TIDAK_VALID, validated_at=None), constraint="ck_complaint_validated_at")
    refused(add_complaint(State.SELESAI, validated_at=None, published_at=None), constraint="ck_complaint_validated_at")


def test_a_validated_complaint_was_routed_with_an_answer_deadline():
    refused(add_complaint(State.DITERUSKAN, routed_at=None), constraint="ck_complaint_routed")
    refused(add_complaint(State.PERLU_DISPOSISI, answer_deadline=None), constraint="ck_complaint_routed")


def test_an_answered_complaint_has_its_answer_time():
    refused(add_complaint(State.DIJAWAB, answered_at=None), constraint="ck_complaint_answered_at")
    # Answering through an UPDATE that forgets the time is refused too.
    refused(add_complaint(State.DITERUSKAN),
            lambda conn: update(conn, "complaint", scalar(conn, "SELECT max(id) FROM complaint"),
                                state="dijawab", closed_at=T0),
            constraint="ck_complaint_answered_at")


def test_a_closed_complaint_has_its_closing_time():
    refused(add_complaint(State.TIDAK_VALID, closed_at=None), constraint="ck_complaint_closed_at")


# --------------------------------------------------------------------------- the timeline and NIK decisions


def test_timeline_events_accept_every_state_action_and_role():
    def events(conn):
        complaint_id = insert(conn, "complaint", **complaint_row(conn))
        for state, action, role in itertools.zip_longest(State, Action, Role):
            insert(conn, "status_event", **event_row(conn, complaint_id, from_state=(state or State.DIJAWAB).value,
                                                     to_state=(state or State.SELESAI).value,
                                                     action=(action or Action.SUBMIT).value,
                                                     actor_role=(role or Role.PUBLIK).value))
        return scalar(conn, "SELECT count(*) FROM status_event WHERE complaint_id = :c", c=complaint_id)

    assert attempt(events) == [max(len(State), len(Action), len(Role))]


@pytest.mark.parametrize("column, value, constraint", [
    ("from_state", "hilang", "ck_status_event_from_state"),
    ("to_state", "hilang", "ck_status_event_to_state"),
    ("action", "delete", "ck_status_event_action"),
    ("actor_role", "Tamu", "ck_status_event_actor_role"),
])
def test_a_timeline_event_with_an_unknown_value_is_refused(column, value, constraint):
    refused(lambda conn: insert(conn, "status_event", **event_row(conn, routed(conn), **{column: value})),
            constraint=constraint)


def test_nik_decisions_accept_both_results_and_every_verdict():
    def decisions(conn):
        complaint_id = routed(conn)
        for verdict in [*Verdict, None]:
            # Valid against "not found" / "mismatch" is an override and carries its reason (issue 16, item 7).
            reason = "KTP asli diperiksa." if verdict in (Verdict.NOT_FOUND, Verdict.MISMATCH) else None
            insert(conn, "nik_check", **nik_check_row(conn, complaint_id, siak_verdict=verdict and verdict.value,
                                                      override_reason=reason))
        insert(conn, "nik_check", **nik_check_row(conn, complaint_id, result="tidak_valid",
                                                  remark="NIK tidak dikenal."))
        return scalar(conn, "SELECT count(DISTINCT result) FROM nik_check WHERE complaint_id = :c", c=complaint_id)

    assert attempt(decisions) == [len(NIK_CHECK_RESULTS)]


@pytest.mark.parametrize("changes, constraint", [
    ({"result": "mungkin"}, "ck_nik_check_result"),
    ({"siak_verdict": "OK"}, "ck_nik_check_siak_verdict"),
    ({"result": "tidak_valid", "remark": None}, "ck_nik_check_invalid_remark"),
    ({"result": "valid", "siak_verdict": "NOT_FOUND", "override_reason": None}, "ck_nik_check_override_reason"),
    ({"result": "valid", "siak_verdict": "MISMATCH"}, "ck_nik_check_override_reason"),
])
def test_a_nik_decision_that_breaks_a_rule_is_refused(changes, constraint):
    refused(lambda conn: insert(conn, "nik_check", **nik_check_row(conn, routed(conn), **changes)),
            constraint=constraint)


# --------------------------------------------------------------------------- routing


def test_a_complaint_has_closed_hops_and_at_most_one_open_hop():
    def hops(conn):
        complaint_id = routed(conn)
        for outcome in ROUTING_OUTCOMES:
            insert(conn, "routing", **routing_row(conn, complaint_id, ended_at=T0 + timedelta(days=1), outcome=outcome))
        insert(conn, "routing", **routing_row(conn, complaint_id))
        other = routed(conn)
        insert(conn, "routing", **routing_row(conn, other))  # another complaint's open hop
        return scalar(conn, "SELECT count(*) FROM routing WHERE ended_at IS NULL")

    assert attempt(hops) == [2]

    def second_open_hop(conn):
        complaint_id = routed(conn)
        insert(conn, "routing", **routing_row(conn, complaint_id))
        insert(conn, "routing", **routing_row(conn, complaint_id, routed_at=T0 + timedelta(days=1)))

    refused(second_open_hop, constraint="ix_routing_open", kind="unique")


@pytest.mark.parametrize("changes, constraint", [
    ({"ended_at": T0, "outcome": "hilang"}, "ck_routing_outcome"),
    ({"ended_at": T0, "outcome": None}, "ck_routing_ended_outcome"),
    ({"ended_at": None, "outcome": "answered"}, "ck_routing_ended_outcome"),
])
def test_a_hop_ends_with_a_known_outcome(changes, constraint):
    refused(lambda conn: insert(conn, "routing", **routing_row(conn, routed(conn), **changes)), constraint=constraint)


# --------------------------------------------------------------------------- outbox, history log, registry


def test_the_outbox_accepts_every_status_and_channel():
    def notices(conn):
        for status, channel in itertools.product(OUTBOX_STATUSES, OUTBOX_CHANNELS):
            insert(conn, "outbox", **outbox_row(conn, status=status, channel=channel,
                                                sent_at=T0 if status == "sent" else None))
        return scalar(conn, "SELECT count(*) FROM outbox")

    assert attempt(notices) == [len(OUTBOX_STATUSES) * len(OUTBOX_CHANNELS)]


@pytest.mark.parametrize("changes, constraint", [
    ({"status": "terkirim"}, "ck_outbox_status"),
    ({"channel": "sms"}, "ck_outbox_channel"),
    ({"status": "sent", "sent_at": None}, "ck_outbox_sent_at"),
])
def test_a_notice_that_breaks_a_rule_is_refused(changes, constraint):
    refused(lambda conn: insert(conn, "outbox", **outbox_row(conn, **changes)), constraint=constraint)


def test_the_history_log_accepts_every_kind_and_refuses_an_unknown_one():
    attempt(*(lambda conn, k=kind: insert(conn, "audit_log", **audit_row(kind=k)) for kind in AUDIT_KINDS))
    refused(lambda conn: insert(conn, "audit_log", **audit_row(kind="debug")), constraint="ck_audit_log_kind")


def test_the_registry_accepts_every_status_and_refuses_an_unknown_one():
    attempt(*(lambda conn, s=status: insert(conn, "registry_entry", **registry_row(status=s))
              for status in REGISTRY_STATUSES))
    refused(lambda conn: insert(conn, "registry_entry", **registry_row(status="pindah")),
            constraint="ck_registry_entry_status")


def test_the_version_tables_carry_no_checks():
    """A version row records what was, in whatever intermediate state (Continuum copies columns only)."""
    from app.extensions import db

    inspector = sa.inspect(db.engine)
    assert inspector.get_check_constraints("complaint_version") == []
    assert inspector.get_check_constraints("answer_version") == []

    def version(conn):
        conn.execute(sa.text("INSERT INTO complaint_version (id, state, published_at, visibility, transaction_id, "
                             "operation_type) VALUES (1, 'dijawab', :at, 'rahasia', 1, 0)"), {"at": T0})
        return scalar(conn, "SELECT count(*) FROM complaint_version")

    assert attempt(version) == [1]


# --------------------------------------------------------------------------- foreign keys


def test_deleting_a_complaint_removes_its_parts():
    def delete(conn):
        complaint_id = complaint_with_every_part(conn)
        before = {t: scalar(conn, f"SELECT count(*) FROM {t} WHERE complaint_id = :c", c=complaint_id) for t in PARTS}
        conn.execute(sa.text("DELETE FROM complaint WHERE id = :c"), {"c": complaint_id})
        after = {t: scalar(conn, f"SELECT count(*) FROM {t} WHERE complaint_id = :c", c=complaint_id) for t in PARTS}
        return before, after

    [(before, after)] = attempt(delete)
    assert all(before.values()) and set(after.values()) == {0}


def test_a_part_of_a_missing_complaint_is_refused():
    from app.extensions import db

    db.engine.dispose()  # a new connection: on SQLite the app must ask for foreign keys on each one
    refused(lambda conn: insert(conn, "status_event", **event_row(conn, 999_999)),
            constraint="fk_status_event_complaint_id", kind="foreign_key")


def test_an_opd_that_is_referenced_cannot_be_deleted():
    def delete_opd_with(referrer):
        def steps(conn):
            spare = insert(conn, "opd", code=f"INV{next(serial)}", name="OPD uji", kind="dinas", active=True)
            referrer(conn, spare)
            conn.execute(sa.text("DELETE FROM opd WHERE id = :o"), {"o": spare})
        return steps

    attempt(delete_opd_with(lambda conn, spare: None))  # an OPD nobody refers to can go
    refused(delete_opd_with(lambda conn, spare: insert(conn, "complaint", **complaint_row(conn, opd_id=spare))),
            constraint="fk_complaint_opd_id", kind="foreign_key")
    refused(delete_opd_with(lambda conn, spare: update(conn, "ab_user", user_id(conn, "opd.dputr"), opd_id=spare)),
            constraint="fk_ab_user_opd_id", kind="foreign_key")


@pytest.mark.parametrize("table, constraint", [
    ("status_event", "fk_status_event_actor_id"),
    ("nik_check", "fk_nik_check_validator_id"),
    ("answer", "fk_answer_author_id"),
    ("internal_note", "fk_internal_note_author_id"),
])
def test_an_account_on_the_record_cannot_be_deleted(table, constraint):
    def steps(conn):
        staff = insert(conn, "ab_user", first_name="Uji", last_name="Hapus", username=f"hapus{next(serial)}",
                       email=f"hapus{next(serial)}@uji.go.id", active=True)
        complaint_id = routed(conn)
        row = {"status_event": lambda: event_row(conn, complaint_id, actor_id=staff, actor_role="Validator"),
               "nik_check": lambda: nik_check_row(conn, complaint_id, validator_id=staff),
               "answer": lambda: dict(complaint_id=complaint_id, opd_id=opd_id(conn), author_id=staff, text="J",
                                      public_text="J", created_at=T0),
               "internal_note": lambda: dict(complaint_id=complaint_id, author_id=staff, text="C", created_at=T0)}
        insert(conn, table, **row[table]())
        conn.execute(sa.text("DELETE FROM ab_user WHERE id = :u"), {"u": staff})

    refused(steps, constraint=constraint, kind="foreign_key")


def test_deleting_an_account_releases_its_claim():
    def steps(conn):
        staff = insert(conn, "ab_user", first_name="Uji", last_name="Klaim", username=f"klaim{next(serial)}",
                       email=f"klaim{next(serial)}@uji.go.id", active=True)
        complaint_id = insert(conn, "complaint", **complaint_row(conn, claimed_by_id=staff, claimed_at=T0,
                                                                 claim_expires_at=T0 + timedelta(minutes=10)))
        conn.execute(sa.text("DELETE FROM ab_user WHERE id = :u"), {"u": staff})
        return scalar(conn, "SELECT claimed_by_id FROM complaint WHERE id = :c", c=complaint_id), \
            scalar(conn, "SELECT count(*) FROM complaint WHERE id = :c", c=complaint_id)

    assert attempt(steps) == [(None, 1)]


def test_the_history_log_has_no_foreign_keys():
    """It outlives what it names: a removed account or complaint keeps its rows."""
    attempt(lambda conn: insert(conn, "audit_log", **audit_row(user_id=999_999, complaint_id=999_999)))
    from app.extensions import db

    assert sa.inspect(db.engine).get_foreign_keys("audit_log") == []


# --------------------------------------------------------------------------- one list of values


def test_every_allowed_value_has_its_labels():
    """The screens label what the database allows: a value added to an enum or tuple shows here where
    it still needs a label."""
    from app import audit, labels, public
    from app.desks import opd
    from app.reports import recap

    assert set(labels.STATE_LABELS) == set(State)
    assert set(public.STATE_LABELS) == {s.value for s in State}
    assert set(public.ACTION_LABELS) == {a.value for a in Action}
    assert set(opd.VISIBILITY_LABELS) == set(recap.VISIBILITY_LABELS) == {v.value for v in Visibility}
    assert set(recap.CHANNEL_LABELS) == {c.value for c in Channel}
    assert set(opd.OUTCOME_LABELS) == {None, *ROUTING_OUTCOMES}
    assert set(audit.KINDS) == set(AUDIT_KINDS)


def test_deleting_an_account_on_the_record_from_the_users_screen_is_refused(client, auth, submission):
    """FAB's delete meets the RESTRICT rule: no error page, the account and its decision stay; an account
    without a record can still be deleted."""
    from app.extensions import db
    from app.models import NikCheck, Staff
    from app.services import Actor, decide_nik, submit
    from app.services.accounts import create_staff
    from tests.conftest import PASSWORD

    decided, idle = (create_staff(username=name, email=f"{name}@uji.go.id", first_name="Uji", last_name="Hapus",
                                  role="Validator", password=PASSWORD) for name in ("validator.lama", "validator.baru"))
    decided_id, idle_id = decided.id, idle.id
    decide_nik(submit(submission()).complaint.id, Actor.from_user(decided), valid=True)
    auth.login("admin")

    response = client.post(f"/users/delete/{decided_id}", follow_redirects=True)
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Staff, decided_id) is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NikCheck)
                             .where(NikCheck.validator_id == decided_id)) == 1

    assert client.post(f"/users/delete/{idle_id}", follow_redirects=True).status_code == 200
    db.session.expire_all()
    assert db.session.get(Staff, idle_id) is None
