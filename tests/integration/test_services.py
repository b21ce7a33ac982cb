"""Each use case: one transaction, exactly one StatusEvent, nothing half-written on failure."""

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import Answer, AuditLog, Complaint, NikCheck, Outbox, Routing, StatusEvent
from app.services import Conflict, Forbidden, Invalid, NotFound
from app.workflow import State
from tests.conftest import VALID_NIK


MONDAY_10_WIB = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def events_of(complaint_id):
    return db.session.scalars(sa.select(StatusEvent).where(StatusEvent.complaint_id == complaint_id)
                              .order_by(StatusEvent.id)).all()


def test_submit_stores_complaint_ticket_pin_and_one_event(submission):
    with time_machine.travel(MONDAY_10_WIB, tick=False):
        result = services.submit(submission(email="budi@contoh.id"))
        second = services.submit(submission()).complaint
    c = result.complaint
    assert c.state is State.MENUNGGU_VERIFIKASI
    assert (c.ticket, second.ticket) == ("LMJ-2026-000001", "LMJ-2026-000002")
    assert result.pin and result.pin not in c.pin_hash
    assert VALID_NIK not in c.nik_encrypted and c.nik_hash != VALID_NIK
    assert c.validation_deadline - c.submitted_at == timedelta(hours=24)
    events = events_of(c.id)
    assert [(e.from_state, e.to_state) for e in events] == [(None, State.MENUNGGU_VERIFIKASI)]
    assert count(Outbox) == 1  # confirmation e-mail queued, not sent
    assert services.track(c.ticket, result.pin).id == c.id
    assert services.track(c.ticket, "WRONGPIN") is None
    assert services.track("LMJ-2026-999999", result.pin) is None


def test_structurally_invalid_nik_stores_nothing(submission):
    with pytest.raises(Invalid) as err:
        services.submit(submission(nik="3508011203900000"))
    assert "nik" in err.value.errors
    assert count(Complaint) == 0 and count(StatusEvent) == 0 and count(AuditLog) == 0


def test_missing_consent_and_fields_are_reported_together(submission):
    with pytest.raises(Invalid) as err:
        services.submit(submission(consent=False, title="", phone="abc", opd_code="NOPE"))
    assert {"consent", "title", "phone", "opd"} <= set(err.value.errors)
    assert count(Complaint) == 0


def test_duplicate_text_from_same_nik_is_refused(submission):
    services.submit(submission(text="Sama persis."))
    with pytest.raises(Conflict):
        services.submit(submission(text="Sama persis."))
    assert count(Complaint) == 1


def test_failure_midway_leaves_nothing(submission, monkeypatch):
    from app import audit

    def broken(*a, **k):
        raise RuntimeError("log store down")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.submit(submission())
    assert count(Complaint) == 0 and count(StatusEvent) == 0 and count(Outbox) == 0


def _submitted(submission, **kw):
    return services.submit(submission(**kw)).complaint


def test_the_ticket_year_is_the_wib_year(submission):
    with time_machine.travel(datetime(2026, 12, 31, 16, 59, 59, tzinfo=timezone.utc), tick=False) as clock:
        last = services.submit(submission()).complaint  # 23:59:59 WIB on 31 December
        clock.move_to(datetime(2026, 12, 31, 17, 0, 0, tzinfo=timezone.utc))
        first = services.submit(submission()).complaint  # 00:00 WIB on 1 January: a new year's counter
    assert (last.ticket, first.ticket) == ("LMJ-2026-000001", "LMJ-2027-000001")


def test_claim_then_valid_decision_routes_and_publishes(submission, actor):
    c = _submitted(submission)
    services.claim(c.id, actor("validator"))
    before = len(events_of(c.id))
    services.decide_nik(c.id, actor("validator"), valid=True)
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.state is State.DITERUSKAN and c.published_at is not None and c.routed_at is not None
    assert c.answer_deadline > c.routed_at
    assert len(events_of(c.id)) == before + 1
    check = db.session.scalar(sa.select(NikCheck).where(NikCheck.complaint_id == c.id))
    assert check.result == "valid" and check.opened_at <= check.decided_at
    assert count(Routing) == 1


def test_rahasia_is_routed_but_never_published(submission, actor):
    c = _submitted(submission, visibility="rahasia")
    services.decide_nik(c.id, actor("validator"), valid=True)
    assert db.session.get(Complaint, c.id).published_at is None


def test_invalid_needs_a_remark_and_is_never_published(submission, actor):
    c = _submitted(submission)
    with pytest.raises(Invalid):
        services.decide_nik(c.id, actor("validator"), valid=False, remark="  ")
    assert len(events_of(c.id)) == 1
    services.decide_nik(c.id, actor("validator"), valid=False, remark="NIK tidak terdaftar di SIAK.")
    c = db.session.get(Complaint, c.id)
    assert c.state is State.TIDAK_VALID and c.published_at is None
    assert events_of(c.id)[-1].note.endswith("NIK tidak terdaftar di SIAK.")


def test_claim_held_by_another_validator(submission, actor):
    c = _submitted(submission)
    with time_machine.travel(MONDAY_10_WIB, tick=False):
        services.claim(c.id, actor("validator"))
        with pytest.raises(Conflict) as err:
            services.claim(c.id, actor("validator2"))
        with pytest.raises(Conflict):
            services.decide_nik(c.id, actor("validator2"), valid=True)
    # Held for CLAIM_MINUTES (10) by the first validator, named, with the time in WIB.
    assert err.value.code == "claimed"
    assert err.value.message == "Sedang diperiksa oleh Validator Uji sampai 02-03-2026 10:10 WIB."


def test_only_validators_decide(submission, actor):
    c = _submitted(submission)
    with pytest.raises(Forbidden):
        services.decide_nik(c.id, actor("admin"), valid=True)
    with pytest.raises(NotFound):  # not even visible to an OPD before routing
        services.decide_nik(c.id, actor("opd.dinkes"), valid=True)
    assert db.session.get(Complaint, c.id).state is State.MENUNGGU_VERIFIKASI


def _routed(submission, actor, **kw):
    c = _submitted(submission, **kw)
    services.decide_nik(c.id, actor("validator"), valid=True)
    return c


def test_answer_writes_one_event_and_closes_the_routing(submission, actor):
    c = _routed(submission, actor, email="a@contoh.id")
    n = len(events_of(c.id))
    services.answer(c.id, actor("opd.dinkes"), "Sudah ditindaklanjuti.")
    c = db.session.get(Complaint, c.id)
    assert c.state is State.DIJAWAB and c.current_answer.text == "Sudah ditindaklanjuti."
    assert len(events_of(c.id)) == n + 1
    hop = db.session.scalar(sa.select(Routing).where(Routing.complaint_id == c.id))
    assert hop.outcome == "answered" and hop.ended_at is not None
    assert db.session.scalar(sa.select(Outbox.template).order_by(Outbox.id.desc())) == "answered"


def test_other_opd_cannot_answer(submission, actor):
    c = _routed(submission, actor)  # DINKESP2KB
    with pytest.raises(NotFound):
        services.answer(c.id, actor("opd.dputr"), "Bukan urusan kami.")
    assert count(Answer) == 0


def test_return_and_reroute_restart_the_deadline(submission, actor):
    # Routed on Monday 2 March 2026, re-routed on Wednesday 4 March (10:00 WIB): 7 working days
    # from each (no holidays in between) end on Wednesday 11 and Friday 13 March at 23:59:59 WIB.
    with time_machine.travel(MONDAY_10_WIB, tick=False) as clock:
        c = _routed(submission, actor)
        first_deadline = db.session.get(Complaint, c.id).answer_deadline
        services.return_to_dispatch(c.id, actor("opd.dinkes"), "Kewenangan DPUTR.")
        assert db.session.get(Complaint, c.id).state is State.PERLU_DISPOSISI
        with pytest.raises(NotFound):  # no longer on the Dinkes desk
            services.answer(c.id, actor("opd.dinkes"), "x")
        clock.shift(timedelta(days=2))
        services.reroute(c.id, actor("admin"), "DPUTR")
    c = db.session.get(Complaint, c.id)
    assert c.state is State.DITERUSKAN and c.opd.code == "DPUTR"
    assert first_deadline == datetime(2026, 3, 11, 16, 59, 59)
    assert c.routed_at == datetime(2026, 3, 4, 3, 0) and c.answer_deadline == datetime(2026, 3, 13, 16, 59, 59)
    hops = db.session.scalars(sa.select(Routing).where(Routing.complaint_id == c.id).order_by(Routing.id)).all()
    assert [(h.opd.code, h.outcome) for h in hops] == [("DINKESP2KB", "returned"), ("DPUTR", None)]
    assert [h.deadline for h in hops] == [first_deadline, c.answer_deadline]
    assert [e.to_state for e in events_of(c.id)][-2:] == [State.PERLU_DISPOSISI, State.DITERUSKAN]


def test_optimistic_lock_refuses_a_stale_version(submission, actor):
    c = _submitted(submission)
    stale = c.version
    services.claim(c.id, actor("validator"))  # bumps the version
    with pytest.raises(Conflict):
        services.decide_nik(c.id, actor("validator"), valid=True, expected_version=stale)


def test_edit_answer_requires_reason_and_keeps_versions(submission, actor):
    c = _routed(submission, actor)
    services.answer(c.id, actor("opd.dinkes"), "Versi pertama.")
    with pytest.raises(Invalid):
        services.edit_answer(c.id, actor("opd.dinkes"), "Versi kedua.", "")
    services.edit_answer(c.id, actor("opd.dinkes"), "Versi kedua.", "Salah ketik jadwal.")
    reply = db.session.get(Complaint, c.id).current_answer
    texts = [v.text for v in reply.versions]
    assert texts == ["Versi pertama.", "Versi kedua."]


def test_versions_close_each_other_in_order_from_the_first(submission, actor):
    """Each version's end is the next one's transaction (Continuum's validity strategy), the first one's
    too, although a new row's version no longer looks for an earlier one to close (models.py)."""
    from sqlalchemy_continuum import version_class

    c = _routed(submission, actor)
    services.answer(c.id, actor("opd.dinkes"), "Versi pertama.")
    services.edit_answer(c.id, actor("opd.dinkes"), "Versi kedua.", "Salah ketik jadwal.")
    db.session.expire_all()
    for model, ident in ((Complaint, c.id), (Answer, db.session.get(Complaint, c.id).current_answer.id)):
        table = version_class(model).__table__
        rows = db.session.execute(sa.select(table.c.transaction_id, table.c.end_transaction_id)
                                  .where(table.c.id == ident).order_by(table.c.transaction_id)).all()
        assert len(rows) >= 2, model
        assert [end for _tx, end in rows[:-1]] == [tx for tx, _end in rows[1:]], model
        assert rows[-1][1] is None


def test_personal_data_typed_in_text_is_masked_for_the_public(submission, actor):
    c = _submitted(submission, text="Saya Budi NIK 3508011203900001 HP 0812-3456-7890 budi@contoh.id")
    assert "3508011203900001" not in c.public_text and "0812-3456-7890" not in c.public_text
    assert "budi@contoh.id" not in c.public_text
    # The stored original keeps the NIK only sealed (encrypted); the validator and the complainant read it back.
    assert "3508011203900001" not in c.text and "0812-3456-7890" in c.text
    assert "3508011203900001" in services.complaints.cipher().unseal_niks(c.text)


def test_refusals_speak_the_users_language(submission):
    from flask_babel import force_locale

    with force_locale("en"):
        with pytest.raises(Invalid) as err:
            services.submit(submission(consent=False, title=""))
    assert err.value.errors["consent"].startswith("Consent to the processing")
    with pytest.raises(Invalid) as err:
        services.submit(submission(consent=False))
    assert err.value.errors["consent"].startswith("Persetujuan pemrosesan data pribadi")


def test_nik_typed_in_the_text_is_never_stored_in_clear(submission, actor, app):
    from app.crypto import drop_sealed

    c = _submitted(submission, text="Data saya: NIK 3508 0112 0390 0001, mohon dibantu.",
                   title="Bantuan NIK 3508011203900001")
    raw = db.session.execute(sa.text("SELECT title, text FROM complaint WHERE id = :i"), {"i": c.id}).one()
    assert "3508011203900001" not in raw.title and "3508011203900001" not in raw.text
    assert "0112" not in raw.text  # not even a fragment of the separated form
    assert services.complaints.cipher().unseal_niks(c.text) == "Data saya: NIK 3508 0112 0390 0001, mohon dibantu."
    assert "[NIK disembunyikan]" in drop_sealed(c.text)


def test_retention_erases_sealed_niks_from_the_text_and_its_versions(submission, actor):
    from sqlalchemy_continuum import version_class

    from app.services import retention

    c = _submitted(submission, text="NIK saya 3508011203900001, mohon diproses.")
    services.decide_nik(c.id, actor("validator"), valid=False, remark="Tidak terdaftar.")
    retention.run(now=db.session.get(Complaint, c.id).closed_at + timedelta(days=31 * 25))
    db.session.expire_all()
    c = db.session.get(Complaint, c.id)
    assert c.anonymised_at is not None
    assert c.text == "NIK saya [NIK disembunyikan], mohon diproses."
    versions = version_class(Complaint)
    texts = db.session.scalars(sa.select(versions.text).where(versions.id == c.id)).all()
    assert texts and all("\u27e6NIK:" not in t for t in texts)


def test_nik_refusal_is_translated_with_its_details(submission):
    from flask_babel import force_locale

    with force_locale("en"):
        with pytest.raises(Invalid) as err:
            services.submit(submission(nik="350801120390001"))  # 15 digits
    assert err.value.errors["nik"] == "A NIK has 16 digits; you typed 15."
    with pytest.raises(Invalid) as err:
        services.submit(submission(nik="350801120390001"))
    assert err.value.errors["nik"] == "NIK harus terdiri dari 16 angka; yang Anda ketik 15 angka."
