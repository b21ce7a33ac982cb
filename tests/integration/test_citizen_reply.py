"""Issue 17 item 3: the complainant replies to the answer once (accept or dispute with a reason, a rating
1-5, an optional comment); a dispute goes to the Pimpinan, who re-opens to the same OPD, re-routes or closes
with a reason; silence closes an answer Selesai after SILENCE_CLOSE_DAYS working days (set-based job)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
import time_machine

from app import services
from app.extensions import db
from app.models import AuditLog, CitizenReply, Complaint, Routing, StatusEvent
from app.services import citizen
from app.services.common import Conflict, Invalid
from app.timeutil import from_wib
from app.workflow import State
from tests.conftest import text_of

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)  # Monday 09:00 WIB


def _fresh(complaint_id) -> Complaint:
    db.session.expire_all()
    return db.session.get(Complaint, complaint_id)


def _events(complaint_id):
    return db.session.scalars(sa.select(StatusEvent).where(StatusEvent.complaint_id == complaint_id)
                              .order_by(StatusEvent.id)).all()


@pytest.fixture
def answered(published, actor):
    def make(**changes):
        c = published(**changes)
        services.answer(c.id, actor("opd.dinkes"), "Petugas tambahan sudah ditempatkan.")
        return _fresh(c.id)
    return make


def test_accept_closes_selesai_with_the_rating_once(answered):
    c = answered()
    row = citizen.reply(c.id, citizen.ReplyInput(accepted=True, rating="5", comment="Terima kasih, cepat."))
    now = _fresh(c.id)
    assert now.state is State.SELESAI and now.closed_at is not None
    assert (row.accepted, row.rating, row.opd.code, row.reason) == (True, 5, "DINKESP2KB", None)
    assert _events(c.id)[-1].action == "close" and _events(c.id)[-1].actor_role == "Publik"
    with pytest.raises(Conflict):
        citizen.reply(c.id, citizen.ReplyInput(accepted=False, rating="1", reason="Berubah pikiran."))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CitizenReply)) == 1


@pytest.mark.parametrize("data,field", [
    (dict(accepted=False, rating="3", reason="  "), "reason"),
    (dict(accepted=False, rating="3", reason="x" * 1001), "reason"),
    (dict(accepted=True, rating="6"), "rating"),
    (dict(accepted=True, rating=""), "rating"),
    (dict(accepted=True, rating="3", comment="a\x00b"), "comment"),
    (dict(accepted=None, rating="3"), "accepted"),
])
def test_bad_replies_are_refused_by_field_and_change_nothing(answered, data, field):
    c = answered()
    with pytest.raises(Invalid) as refused:
        citizen.reply(c.id, citizen.ReplyInput(**data))
    assert field in refused.value.errors
    assert _fresh(c.id).state is State.DIJAWAB
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CitizenReply)) == 0


def test_reply_before_an_answer_is_refused(published):
    c = published()
    with pytest.raises(Conflict):
        citizen.reply(c.id, citizen.ReplyInput(accepted=True, rating="4"))


def test_dispute_goes_to_the_pimpinan_and_the_reason_is_masked_in_public(answered, actor, client):
    c = answered(visibility="publik")
    citizen.reply(c.id, citizen.ReplyInput(accepted=False, rating="2",
                                           reason="Masih antre 3 jam, hubungi saya di 0812-9999-8888."))
    now = _fresh(c.id)
    assert now.state is State.DISANGGAH and now.closed_at is None
    row = db.session.scalar(sa.select(CitizenReply))
    assert "0812-9999-8888" in row.reason and "0812-9999-8888" not in row.public_reason
    queue = citizen.disputed(actor("pimpinan")).rows
    assert [(v.ticket, reason) for v, reason, _r, _at in queue] == [(c.ticket, row.public_reason)]
    page = text_of(client.get(f"/pengaduan/{c.ticket}"))
    assert "belum selesai" in page.lower() and "0812-9999-8888" not in page


def _disputed(answered):
    c = answered()
    citizen.reply(c.id, citizen.ReplyInput(accepted=False, rating="1", reason="Belum ada petugas tambahan."))
    return c


def test_pimpinan_reopens_to_the_same_opd_with_a_new_deadline_then_the_opd_answers_again(answered, actor):
    with time_machine.travel(T0, tick=False):
        c = _disputed(answered)
    first = _fresh(c.id).answer_deadline
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        citizen.decide_dispute(c.id, actor("pimpinan"), "reopen", "Mohon ditindaklanjuti.")
    now = _fresh(c.id)
    assert now.state is State.DITERUSKAN and now.opd.code == "DINKESP2KB" and now.answered_at is None
    assert now.answer_deadline > first and now.routed_at == (T0 + timedelta(days=3)).replace(tzinfo=None)
    assert len(db.session.scalars(sa.select(Routing).where(Routing.complaint_id == c.id)).all()) == 2
    assert [e.action for e in _events(c.id)][-3:] == ["answer", "dispute", "reopen"]
    # The OPD answers again and the complainant may reply to that answer.
    services.answer(c.id, actor("opd.dinkes"), "Dua petugas ditambah mulai Senin.")
    citizen.reply(c.id, citizen.ReplyInput(accepted=True, rating="4"))
    assert _fresh(c.id).state is State.SELESAI
    assert sorted(r.rating for r in db.session.scalars(sa.select(CitizenReply))) == [1, 4]


def test_pimpinan_reroutes_a_disputed_complaint(answered, actor):
    c = _disputed(answered)
    citizen.decide_dispute(c.id, actor("pimpinan"), "reroute", "Ranah pekerjaan umum.", opd_code="DPUTR")
    now = _fresh(c.id)
    assert now.state is State.DITERUSKAN and now.opd.code == "DPUTR" and now.answered_at is None
    assert _events(c.id)[-1].action == "reroute"


def test_pimpinan_closes_with_a_reason_required(answered, actor):
    c = _disputed(answered)
    with pytest.raises(Invalid) as refused:
        citizen.decide_dispute(c.id, actor("pimpinan"), "close", " ")
    assert "reason" in refused.value.errors and _fresh(c.id).state is State.DISANGGAH
    citizen.decide_dispute(c.id, actor("pimpinan"), "close", "Sudah sesuai standar pelayanan.")
    now = _fresh(c.id)
    assert now.state is State.SELESAI and now.closed_at is not None
    assert _events(c.id)[-1].note == "Ditutup oleh Pimpinan: Sudah sesuai standar pelayanan."


def test_only_the_pimpinan_decides_a_dispute(answered, actor):
    from app.services.common import Forbidden, ServiceError

    c = _disputed(answered)
    with pytest.raises(ServiceError):
        citizen.decide_dispute(c.id, actor("opd.dinkes"), "reopen")
    with pytest.raises(Forbidden):
        citizen.disputed(actor("opd.dinkes"))
    assert _fresh(c.id).state is State.DISANGGAH


def test_silence_closes_across_a_weekend_and_a_holiday_set_based(answered, app):
    # Answered Wednesday 20 May 2026 10:00 WIB; ten working days skip two weekends, Idul Adha (27 May) and
    # Hari Lahir Pancasila (1 June): due at the end of Friday 5 June WIB.
    with time_machine.travel(from_wib(datetime(2026, 5, 20, 10, 0)).replace(tzinfo=timezone.utc), tick=False):
        silent = [answered() for _ in range(3)]
    with time_machine.travel(from_wib(datetime(2026, 5, 21, 10, 0)).replace(tzinfo=timezone.utc), tick=False):
        later = answered()
    replied = silent.pop()
    citizen.reply(replied.id, citizen.ReplyInput(accepted=False, rating="2", reason="Belum."))
    assert app.config["SILENCE_CLOSE_DAYS"] == 10
    assert citizen.close_silent(from_wib(datetime(2026, 6, 5, 23, 59, 59))) == 0
    assert citizen.close_silent(from_wib(datetime(2026, 6, 6, 0, 0, 1))) == 2  # one statement for both
    for c in silent:
        now = _fresh(c.id)
        assert now.state is State.SELESAI and now.closed_at == from_wib(datetime(2026, 6, 6, 0, 0, 1))
        last = _events(c.id)[-1]
        assert (last.action, last.actor_role, last.from_state, last.to_state) == (
            "close", "Sistem", State.DIJAWAB, State.SELESAI)
    assert _fresh(later.id).state is State.DIJAWAB and _fresh(replied.id).state is State.DISANGGAH
    assert citizen.close_silent(from_wib(datetime(2026, 6, 6, 0, 0, 1))) == 0  # idempotent
    log = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "complaint.silence_close")).all()
    assert len(log) == 1 and '"closed": 2' in log[0].detail


def test_reply_through_the_tracking_page_and_the_pimpinan_desk(app, client, submission, actor):
    from tests.conftest import PASSWORD
    from tests.integration.opd_support import login

    done = services.submit(submission())
    services.decide_nik(done.complaint.id, actor("validator"), valid=True)
    services.answer(done.complaint.id, actor("opd.dinkes"), "Sudah ditangani.")
    client.post("/lacak", data={"ticket": done.complaint.ticket, "pin": done.pin})
    page = client.get("/lacak/hasil")
    assert 'action="/lacak/tanggapan"' in page.get_data(as_text=True)
    refused = client.post("/lacak/tanggapan", data={"accepted": "tidak", "rating": "2", "reason": ""})
    assert refused.status_code == 400 and "Alasan wajib diisi bila pengaduan belum selesai." in text_of(refused)
    assert _fresh(done.complaint.id).state is State.DIJAWAB
    sent = client.post("/lacak/tanggapan", data={"accepted": "tidak", "rating": "2", "reason": "Masih antre."})
    assert sent.status_code == 303
    page = text_of(client.get("/lacak/hasil"))
    assert "belum selesai (nilai 2 dari 5)" in page and 'action="/lacak/tanggapan"' not in page
    assert client.post("/lacak/tanggapan", data={"accepted": "ya", "rating": "5"}).status_code == 409

    pimpinan = login(app, "pimpinan", PASSWORD)
    queue = text_of(pimpinan.get("/staf/sanggahan/"))
    assert done.complaint.ticket in queue and "Masih antre." in queue
    bad = pimpinan.post(f"/staf/sanggahan/{done.complaint.id}/putuskan", data={"outcome": "close"},
                        follow_redirects=True)
    assert "Alasan penutupan wajib diisi." in text_of(bad) and _fresh(done.complaint.id).state is State.DISANGGAH
    ok = pimpinan.post(f"/staf/sanggahan/{done.complaint.id}/putuskan", data={"outcome": "reopen"})
    assert ok.status_code == 303 and _fresh(done.complaint.id).state is State.DITERUSKAN
    timeline = text_of(client.get(f"/pengaduan/{done.complaint.ticket}")).split("Riwayat")[1]
    assert "Pelapor: belum selesai" in timeline and "Dibuka kembali oleh Pimpinan untuk Dinas Kesehatan" in timeline
